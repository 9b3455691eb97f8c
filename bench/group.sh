#!/bin/sh
# bench/group.sh: sp-group's time and peak memory at two input sizes.
#
#   sh bench/group.sh [COUNT]     (default 1000000, and 4 times that)
#
# State is per group, never per document, so the peak memory of the run
# over 4*COUNT documents must stay where the run over COUNT left it: the
# script prints both, their ratio, and fails when it passes 1.25. For time,
# it runs the same aggregation in jq with a streaming reduce (jq's own
# constant-memory way; jq -s group_by would hold the whole input).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000000}
n4=$((n * 4))
gen="$top/build/gen-solar"
rss="$top/build/maxrss"
mkdir -p "$top/bench/data" "$top/build"
if [ ! -x "$gen" ] || [ "$top/bench/gen-solar.c" -nt "$gen" ]; then
	${CC:-cc} -O2 -o "$gen" "$top/bench/gen-solar.c"
fi
if [ ! -x "$rss" ] || [ "$top/bench/maxrss.c" -nt "$rss" ]; then
	${CC:-cc} -O2 -o "$rss" "$top/bench/maxrss.c"
fi
for c in "$n" "$n4"; do
	[ -s "$top/bench/data/solar-$c.ndjson" ] ||
	    "$gen" "$c" >"$top/bench/data/solar-$c.ndjson"
done

group='{"_id": "$device_id", "n": {"$count": {}},
 "watts": {"$sum": "$obs.watts"}, "avg": {"$avg": "$obs.watts"},
 "lo": {"$min": "$obs.temp"}, "hi": {"$max": "$obs.temp"},
 "sd": {"$stdDevPop": "$obs.watts"}, "p90": {"$percentile":
 {"input": "$obs.watts", "p": [0.9], "method": "approximate"}},
 "first": {"$first": "$timestamp"}, "last": {"$last": "$timestamp"},
 "top": {"$topN": {"n": 3, "sortBy": {"obs.watts": -1},
 "output": "$timestamp"}}}'
jqprog='reduce inputs as $d ({}; .[$d.device_id] |=
 (.n += 1 | .watts += $d.obs.watts))'

out=$(mktemp)
trap 'rm -f "$out"' EXIT
# run SIZE: "<seconds> <KiB>" of sp-group over SIZE documents.
run() {
	"$rss" "$top/bin/sp-group" "$group" "$top/bench/data/solar-$1.ndjson" \
	    2>&1 >"$out" | tail -n 1
}
r1=$(run "$n")
groups=$(wc -l <"$out" | tr -d ' ')
r4=$(run "$n4")
tj=$("$rss" jq -n -c "$jqprog" "$top/bench/data/solar-$n.ndjson" \
    2>&1 >/dev/null | tail -n 1)

echo "group:    $(echo "$group" | tr -d '\n')"
echo "groups:   $groups"
echo "$r1 $r4 $tj" | awk -v n="$n" -v n4="$n4" '{
	printf "sp-group %9d docs  %7.3f s  %8d KiB peak\n", n, $1, $2
	printf "sp-group %9d docs  %7.3f s  %8d KiB peak\n", n4, $3, $4
	printf "jq reduce %8d docs  %7.3f s  %8d KiB peak (count and sum only)\n", n, $5, $6
	printf "memory: %.2f times from %d to %d documents (must stay under 1.25)\n", $4 / $2, n, n4
	printf "time: sp-group is %.1f times jq at %d documents\n", $5 / $1, n
	exit ($4 / $2 > 1.25)
}'
