#!/bin/sh
# bench/run.sh: times sp-match against jq on the same filter and data.
#
#   sh bench/run.sh [COUNT]      (default 1000000 documents, ~140 MB)
#
# Data is generated once into bench/data/ by bench/gen-solar. Both tools
# run in this one invocation, so the ratio is meaningful on a noisy machine;
# each is timed as the best of $BENCH_RUNS runs (default 3; jq once).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000000}
runs=${BENCH_RUNS:-3}
data="$top/bench/data/solar-$n.ndjson"
gen="$top/build/gen-solar"
mkdir -p "$top/bench/data"
if [ ! -x "$gen" ] || [ "$top/bench/gen-solar.c" -nt "$gen" ]; then
	${CC:-cc} -O2 -o "$gen" "$top/bench/gen-solar.c"
fi
[ -s "$data" ] || "$gen" "$n" >"$data"

filter='{"obs.watts": {"$gt": 200}, "device_id": {"$in": ["device_1", "device_2", "device_3"]}}'
jqprog='select(.obs.watts > 200 and (.device_id == "device_1" or .device_id == "device_2" or .device_id == "device_3"))'

now() { date +%s.%N; }
# best TIMES CMD...: prints the best wall time in seconds of TIMES runs.
best() {
	times=$1
	shift
	b=""
	i=0
	while [ "$i" -lt "$times" ]; do
		t0=$(now)
		"$@" >/dev/null
		t1=$(now)
		b=$(echo "$t0 $t1 ${b:-}" | awk '{d = $2 - $1; if ($3 == "" || d < $3) print d; else print $3}')
		i=$((i + 1))
	done
	echo "$b"
}

sp_out=$(mktemp) jq_out=$(mktemp)
trap 'rm -f "$sp_out" "$jq_out"' EXIT
"$top/bin/sp-match" "$filter" "$data" >"$sp_out"
jq -c "$jqprog" "$data" >"$jq_out"
if ! cmp -s "$sp_out" "$jq_out"; then
	echo "bench: sp-match and jq disagree on $data" >&2
	exit 1
fi
matched=$(wc -l <"$sp_out" | tr -d ' ')
bytes=$(wc -c <"$data" | tr -d ' ')

t_parse=$(best "$runs" "$top/bin/sp-match" '{}' "$data")
t_sp=$(best "$runs" "$top/bin/sp-match" "$filter" "$data")
t_jq=$(best 1 jq -c "$jqprog" "$data")

echo "data:     $n documents, $bytes bytes, $matched match ($data)"
echo "filter:   $filter"
awk -v n="$n" -v b="$bytes" -v p="$t_parse" -v s="$t_sp" -v j="$t_jq" 'BEGIN {
	printf "sp-match {}       %7.3f s  %10.0f docs/s  %6.0f MB/s\n", p, n / p, b / p / 1e6
	printf "sp-match filter   %7.3f s  %10.0f docs/s  %6.0f MB/s\n", s, n / s, b / s / 1e6
	printf "jq -c select      %7.3f s  %10.0f docs/s  %6.0f MB/s\n", j, n / j, b / j / 1e6
	printf "ratio: sp-match is %.1f times jq (target 15)\n", j / s
}'
