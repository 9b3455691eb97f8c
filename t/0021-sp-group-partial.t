#!/bin/sh
# sp-group --partial and --merge: N runs over N shards of the input, merged,
# give exactly the answer of one run, for every accumulator, with mixed
# number types, nulls and missing values, groups first seen in later shards,
# and merges in any grouping (in order: 4 at once, 2+2, a chain, 1+3).
. "$(dirname "$0")/lib.sh"

# Keys: 1, 1L, 1.0 and 1.00m (one group), "a", null and missing (one group),
# {x: 1} and {x: 1.0} (one), then "late" first seen in the third shard,
# 2^53+1 and [1, 2] in the fourth. v mixes every kind of value; s (for
# sortBy) has ties, nulls and holes; o is an object, null, missing, or once
# not an object (a $mergeObjects dead letter in every run alike).
cat >in.ndjson <<'EOF'
{"i":0,"k":1.0,"v":{"$numberDecimal":"1.5"},"o":null}
{"i":1,"k":1,"v":2.5,"s":1}
{"i":2,"k":1.0,"v":{"$numberLong":"2"},"s":2}
{"i":3,"k":1,"v":2.5,"s":3,"o":null}
{"i":4,"k":1,"v":"str","s":null,"o":{"a":1}}
{"i":5,"k":{"$numberDecimal":"1.00"},"v":{"$numberLong":"2"},"s":1}
{"i":6,"k":{"$numberLong":"1"},"v":{"$numberLong":"2"},"s":null}
{"i":7,"k":{"$numberDecimal":"1.00"},"v":{"$numberLong":"2"},"s":1,"o":{"b":2}}
{"i":8,"k":"a","v":{"$numberDecimal":"1.5"},"s":3,"o":{"a":3,"c":4}}
{"i":9,"k":{"$numberLong":"1"},"v":7,"s":null,"o":{"a":1}}
{"i":10,"k":1.0,"v":7,"s":2,"o":{}}
{"i":11,"k":1,"s":1,"o":{"a":3,"c":4}}
{"i":12,"k":{"x":1.0},"v":2.5,"s":1,"o":5}
{"i":13,"k":{"$numberDecimal":"1.00"},"v":0.3,"s":null,"o":{}}
{"i":14,"v":true,"s":null,"o":null}
{"i":15,"k":{"x":1},"v":{"$date":"2024-01-01T00:00:00Z"},"s":2,"o":{"a":3,"c":4}}
{"i":16,"k":1.0,"v":"str","s":null,"o":{"a":1}}
{"i":17,"k":"a","v":{"$numberDouble":"NaN"},"s":2,"o":null}
{"i":18,"k":{"x":1},"v":{"a":1},"s":1}
{"i":19,"k":{"$numberLong":"1"},"v":{"$numberDouble":"NaN"},"s":2,"o":null}
{"i":20,"k":null,"v":{"$numberDecimal":"1.5"},"s":3,"o":null}
{"i":21,"k":1,"v":[1,2],"s":null}
{"i":22,"k":null,"v":true,"s":2,"o":{}}
{"i":23,"k":{"x":1},"v":{"$numberLong":"9223372036854775000"},"s":1,"o":{"a":1}}
{"i":24,"k":"a","v":0.1,"o":{}}
{"i":25,"k":{"$numberLong":"1"},"v":{"$numberLong":"2"},"o":{}}
{"i":26,"k":"a","v":{"$numberLong":"9223372036854775000"},"o":{"a":3,"c":4}}
{"i":27,"v":{"$date":"2024-01-01T00:00:00Z"},"s":3,"o":{"a":1}}
{"i":28,"k":null,"v":null,"s":1}
{"i":29,"k":{"x":1},"v":{"$numberLong":"2"},"s":2,"o":{"b":2}}
{"i":30,"k":"late","v":"str","s":3,"o":null}
{"i":31,"k":{"x":1},"v":2.5,"s":3,"o":{"b":2}}
{"i":32,"v":7,"s":2,"o":{"a":3,"c":4}}
{"i":33,"v":0.1,"o":{"a":3,"c":4}}
{"i":34,"v":{"$date":"2024-01-01T00:00:00Z"},"s":3,"o":{}}
{"i":35,"k":{"$numberDecimal":"1.00"},"v":{"$numberDecimal":"1.5"},"s":2,"o":{"a":1}}
{"i":36,"k":1.0,"v":"str","s":2,"o":{}}
{"i":37,"k":1,"v":0.3,"s":2}
{"i":38,"k":"a","v":{"a":1},"s":2,"o":{"a":1}}
{"i":39,"v":10000000000,"s":null,"o":{"a":3,"c":4}}
{"i":40,"k":{"$numberLong":"9007199254740993"},"v":true,"o":{"b":2}}
{"i":41,"k":{"x":1.0},"v":{"$numberLong":"2"},"o":null}
{"i":42,"k":{"$numberLong":"9007199254740993"},"v":7,"s":3,"o":null}
{"i":43,"v":-3,"s":3,"o":{"a":1}}
{"i":44,"k":[1,2],"v":-3,"s":2,"o":{"a":1}}
{"i":45,"k":{"$numberLong":"1"},"s":2,"o":null}
{"i":46,"k":{"$numberLong":"1"},"v":true,"s":1}
{"i":47,"k":{"$numberLong":"1"},"v":1,"s":2}
EOF

test_expect_success 'split -n l/4 gives four shards; some groups start late' '
	split -n l/4 in.ndjson shard. &&
	ls shard.a? >shards &&
	test_lines 4 shards &&
	for f in shard.a?; do test -s $f; done &&
	grep -q "\"late\"" shard.ac && ! grep -q "\"late\"" shard.aa shard.ab &&
	grep -q "9007199254740993" shard.ad && ! grep -q "9007199254740993" shard.aa shard.ab shard.ac &&
	grep -q "\"k\":\[1,2\]" shard.ad
'

# run CMD...: exit 0, or 1 for dead letters (kept in files, not compared).
run() {
	"$@" || [ $? -eq 1 ]
}

# check NAME GROUP: one run against the merged partials of the shards.
check() {
	test_expect_success "$1: one run = 4 shards partial, merged" "
		G='$2' &&
		run sp-group -d dlq.one \"\$G\" in.ndjson >one &&
		test -s one &&
		for f in shard.a?; do
			run sp-group -p -d dlq.\$f \"\$G\" \$f >\$f.part || return 1
		done &&
		sp-group -m \"\$G\" shard.aa.part shard.ab.part shard.ac.part shard.ad.part >merged &&
		test_cmp one merged &&
		sp-group -m -p \"\$G\" shard.aa.part shard.ab.part >left &&
		sp-group -m -p \"\$G\" shard.ac.part shard.ad.part >right &&
		sp-group -m \"\$G\" left right >tree &&
		test_cmp one tree &&
		sp-group -m -p \"\$G\" left shard.ac.part >chain &&
		sp-group -m \"\$G\" chain shard.ad.part >chained &&
		test_cmp one chained &&
		sp-group -m -p \"\$G\" shard.ab.part shard.ac.part shard.ad.part >rest &&
		cat shard.aa.part rest | sp-group -m \"\$G\" >lopsided &&
		test_cmp one lopsided &&
		run sp-group -c -d dlq.one \"\$G\" in.ndjson >one.c &&
		sp-group -c -m \"\$G\" left right >tree.c &&
		test_cmp one.c tree.c
	"
}

# NAME|GROUP, one a line.
cat >groups <<'EOF'
$sum|{"_id": "$k", "r": {"$sum": "$v"}}
$sum of 1|{"_id": "$k", "r": {"$sum": 1}}
$sum of ints and longs|{"_id": "$k", "r": {"$sum": {"$cond": [{"$isNumber": "$v"}, {"$toLong": {"$ifNull": ["$s", 0]}}, "$s"]}}}
$avg|{"_id": "$k", "r": {"$avg": "$v"}}
$count|{"_id": "$k", "r": {"$count": {}}}
$min|{"_id": "$k", "r": {"$min": "$v"}}
$max|{"_id": "$k", "r": {"$max": "$v"}}
$first|{"_id": "$k", "r": {"$first": "$v"}}
$last|{"_id": "$k", "r": {"$last": "$v"}}
$push|{"_id": "$k", "r": {"$push": "$v"}}
$addToSet|{"_id": "$k", "r": {"$addToSet": "$v"}}
$stdDevPop|{"_id": "$k", "r": {"$stdDevPop": "$v"}}
$stdDevSamp|{"_id": "$k", "r": {"$stdDevSamp": "$v"}}
$mergeObjects|{"_id": "$k", "r": {"$mergeObjects": "$o"}}
$top|{"_id": "$k", "r": {"$top": {"sortBy": {"s": 1}, "output": ["$i", "$v"]}}}
$bottom|{"_id": "$k", "r": {"$bottom": {"sortBy": {"s": -1, "v": 1}, "output": "$v"}}}
$topN|{"_id": "$k", "r": {"$topN": {"n": 3, "sortBy": {"s": -1}, "output": {"i": "$i", "v": "$v"}}}}
$bottomN|{"_id": "$k", "r": {"$bottomN": {"n": 2, "sortBy": {"s": 1}, "output": "$i"}}}
$firstN|{"_id": "$k", "r": {"$firstN": {"n": 3, "input": "$v"}}}
$lastN|{"_id": "$k", "r": {"$lastN": {"n": 3, "input": "$v"}}}
$maxN|{"_id": "$k", "r": {"$maxN": {"n": 2, "input": "$v"}}}
$minN|{"_id": "$k", "r": {"$minN": {"n": 4, "input": "$v"}}}
$median|{"_id": "$k", "r": {"$median": {"input": "$v", "method": "approximate"}}}
$percentile|{"_id": "$k", "r": {"$percentile": {"input": "$v", "p": [0, 0.1, 0.5, 0.9, 1], "method": "approximate"}}}
# n from the group key, evaluated per group
$firstN, n by key|{"_id": {"$type": "$k"}, "r": {"$firstN": {"n": {"$cond": [{"$eq": ["$_id", "string"]}, 1, 2]}, "input": "$i"}}}
every accumulator at once|{"_id": {"k": "$k"}, "sum": {"$sum": "$v"}, "avg": {"$avg": "$v"}, "n": {"$count": {}}, "min": {"$min": "$v"}, "max": {"$max": "$v"}, "first": {"$first": "$v"}, "last": {"$last": "$v"}, "push": {"$push": "$i"}, "set": {"$addToSet": "$s"}, "pop": {"$stdDevPop": "$i"}, "samp": {"$stdDevSamp": "$v"}, "obj": {"$mergeObjects": "$o"}, "top": {"$topN": {"n": 2, "sortBy": {"s": 1}, "output": "$i"}}, "lastN": {"$lastN": {"n": 2, "input": "$v"}}, "med": {"$median": {"input": "$i", "method": "approximate"}}}
EOF
while IFS='|' read -r name group; do
	case $name in '' | '#'*) continue ;; esac
	check "$name" "$group"
done <groups

test_expect_success 'the groups above use every accumulator' '
	for a in sum avg count min max first last push addToSet stdDevPop \
	    stdDevSamp mergeObjects top bottom topN bottomN firstN lastN maxN \
	    minN median percentile; do
		grep -q "\"\\\$$a\":" groups || { echo "no \$$a"; return 1; }
	done
'

test_expect_success 'merging partials out of shard order keeps the groups, not $first' '
	G="{\"_id\": \"\$k\", \"f\": {\"\$first\": \"\$i\"}, \"n\": {\"\$count\": {}}}" &&
	for f in shard.a?; do run sp-group -p "$G" $f >$f.part || return 1; done &&
	sp-group "$G" in.ndjson >one &&
	sp-group -m "$G" shard.ad.part shard.ac.part shard.ab.part shard.aa.part >back &&
	! test_cmp one back >/dev/null &&
	jq -c "[._id, .n]" one | sort >one.n &&
	jq -c "[._id, .n]" back | sort >back.n &&
	test_cmp one.n back.n
'

test_expect_success 'a partial of another group spec is a dead letter' '
	sp-group -p "{\"_id\": \"\$k\", \"a\": {\"\$sum\": \"\$v\"}}" shard.aa >other &&
	test_expect_code 1 sp-group -m -d dlq.other "{\"_id\": \"\$k\", \"b\": {\"\$sum\": \"\$v\"}}" other >out &&
	test_lines 0 out &&
	test_lines "$(wc -l <other | tr -d " ")" dlq.other &&
	test_grep "it was made by another group" dlq.other
'

test_expect_success 'a partial of a group with the same fields but other expressions is a dead letter' '
	sp-group -p "{\"_id\": \"\$k\", \"a\": {\"\$sum\": \"\$v\"}}" shard.aa >other &&
	test_expect_code 1 sp-group -m -d dlq.same "{\"_id\": \"\$k\", \"a\": {\"\$sum\": \"\$w\"}}" other >out &&
	test_lines 0 out &&
	test_lines "$(wc -l <other | tr -d " ")" dlq.same &&
	test_grep "it was made by another group" dlq.same
'

test_expect_success 'a partial state of the wrong shape is a dead letter' '
	G="{\"_id\": \"\$k\", \"a\": {\"\$sum\": \"\$v\"}, \"l\": {\"\$push\": \"\$v\"}}" &&
	printf "%s\n" "{\"_id\": 1, \"a\": \"no\", \"l\": []}" \
	    "{\"_id\": 2, \"a\": {\"\$numberInt\": \"3\"}, \"l\": 5}" >bad &&
	sp-group -p "$G" shard.aa >good &&
	cat good bad | test_expect_code 1 sp-group -m -d dlq.bad "$G" >out &&
	sp-group -m "$G" good >want &&
	test_cmp want out &&
	test_lines 2 dlq.bad
'

test_expect_success 'no groups are written when some input could not be read' '
	test_expect_code 2 sp-group "{\"_id\": null, \"n\": {\"\$count\": {}}}" no-such-file shard.aa >out 2>err &&
	test_lines 0 out &&
	test_grep "no groups written: the input was not read whole" err &&
	test_expect_code 2 sp-group -p "{\"_id\": null, \"n\": {\"\$count\": {}}}" shard.aa no-such-file >out 2>err &&
	test_lines 0 out
'

title="a merge reads partial states longer than the default -L (64M)"
if [ -n "${SP_TEST_QUICK:-}" ]; then
	test_skip "$title" "SP_TEST_QUICK"
else
	test_expect_success "$title" '
		yes "{\"v\":1}" | head -n 4000000 >many &&
		G="{\"_id\": null, \"all\": {\"\$push\": \"\$v\"}}" &&
		sp-group "$G" many >one &&
		sp-group -p "$G" many >p &&
		[ "$(wc -c <p)" -gt 67108864 ] &&
		sp-group -m "$G" p >merged &&
		cmp one merged
	'
fi

test_done
