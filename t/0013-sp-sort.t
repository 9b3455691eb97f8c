#!/bin/sh
# sp: $sort, $limit and $skip specs that are rejected before any input is
# read (exit 2, one line on stderr in MongoDB's words), and a few runs.
. "$(dirname "$0")/lib.sh"

# The input is a FIFO nobody writes to: reading it would hang the test.
reject() {
	msg=$1
	shift
	mkfifo fifo.$$ 2>/dev/null || :
	test_expect_code 2 sp "$@" fifo.$$ >out 2>err
	test_lines 0 out
	printf "%s\n" "$msg" >want.err
	test_cmp want.err err
}

# "% PIPELINE" then "= the message after 'sp: pipeline: '".
n=0
while IFS= read -r line; do
	case $line in
	'% '*)
		n=$((n + 1))
		printf '%s' "${line#% }" >"case.$n.pipe"
		;;
	'= '*) printf 'sp: pipeline: %s' "${line#= }" >"case.$n.msg" ;;
	esac
done <<'EOF'
% [{"$sort": 1}]
= stage 1 ($sort): the $sort key specification must be an object
% [{"$sort": [{"a": 1}]}]
= stage 1 ($sort): the $sort key specification must be an object
% [{"$sort": "a"}]
= stage 1 ($sort): the $sort key specification must be an object
% [{"$match": {}}, {"$sort": {}}]
= stage 2 ($sort): $sort stage must have at least one sort key
% [{"$sort": {"a": 0}}]
= stage 1 ($sort): $sort key ordering must be 1 (for ascending) or -1 (for descending)
% [{"$sort": {"a": 1, "b": 2}}]
= stage 1 ($sort): $sort key ordering must be 1 (for ascending) or -1 (for descending)
% [{"$sort": {"a": -0.5}}]
= stage 1 ($sort): $sort key ordering must be 1 (for ascending) or -1 (for descending)
% [{"$sort": {"a": {"$numberDecimal": "-1.5"}}}]
= stage 1 ($sort): $sort key ordering must be 1 (for ascending) or -1 (for descending)
% [{"$sort": {"a": "asc"}}]
= stage 1 ($sort): Illegal key in $sort specification: a: "asc"
% [{"$sort": {"a": true}}]
= stage 1 ($sort): Illegal key in $sort specification: a: true
% [{"$sort": {"a": [1]}}]
= stage 1 ($sort): Illegal key in $sort specification: a: [ 1 ]
% [{"$sort": {"a": 1, "a": -1}}]
= stage 1 ($sort): $sort key must not contain duplicate keys (duplicate: 'a')
% [{"$sort": {"$a": 1}}]
= stage 1 ($sort): FieldPath field names may not start with '$'. Consider using $getField or $setField.
% [{"$sort": {"a..b": 1}}]
= stage 1 ($sort): FieldPath field names may not be empty strings.
% [{"$sort": {"": 1}}]
= stage 1 ($sort): FieldPath cannot be constructed with empty string
% [{"$sort": {"score": {"$meta": "textScore"}}}]
= stage 1 ($sort): query requires text score metadata, but it is not available
% [{"$sort": {"score": {"$meta": "searchScore"}}}]
= stage 1 ($sort): query requires $search score metadata, but it is not available
% [{"$sort": {"score": {"$meta": "vectorSearchScore"}}}]
= stage 1 ($sort): query requires $vectorSearch score metadata, but it is not available
% [{"$sort": {"score": {"$meta": "nope"}}}]
= stage 1 ($sort): Illegal $meta sort: $meta: "nope"
% [{"$sort": {"score": {"$add": [1, 2]}}}]
= stage 1 ($sort): $meta is the only expression supported by $sort right now
% [{"$sort": {"score": {"$meta": "textScore", "x": 1}}}]
= stage 1 ($sort): Cannot have additional keys in a $meta sort specification
% [{"$limit": 0}]
= stage 1 ($limit): the limit must be positive
% [{"$limit": -1}]
= stage 1 ($limit): invalid argument to $limit stage: Expected a non-negative number in: $limit: -1
% [{"$limit": -2.0}]
= stage 1 ($limit): invalid argument to $limit stage: Expected a non-negative number in: $limit: -2.0
% [{"$limit": 1.5}]
= stage 1 ($limit): invalid argument to $limit stage: Expected an integer: $limit: 1.5
% [{"$limit": 1e300}]
= stage 1 ($limit): invalid argument to $limit stage: Cannot represent as a 64-bit integer: $limit: 1e+300.0
% [{"$limit": {"$numberDouble": "NaN"}}]
= stage 1 ($limit): invalid argument to $limit stage: Expected an integer, but found NaN in: $limit: nan.0
% [{"$limit": "5"}]
= stage 1 ($limit): invalid argument to $limit stage: Expected a number in: $limit: "5"
% [{"$limit": null}]
= stage 1 ($limit): invalid argument to $limit stage: Expected a number in: $limit: null
% [{"$limit": {"n": 1}}]
= stage 1 ($limit): invalid argument to $limit stage: Expected a number in: $limit: { n: 1 }
% [{"$skip": -1}]
= stage 1 ($skip): invalid argument to $skip stage: Expected a non-negative number in: $skip: -1
% [{"$skip": {"$numberLong": "-3"}}]
= stage 1 ($skip): invalid argument to $skip stage: Expected a non-negative number in: $skip: -3
% [{"$skip": 0.5}]
= stage 1 ($skip): invalid argument to $skip stage: Expected an integer: $skip: 0.5
% [{"$skip": true}]
= stage 1 ($skip): invalid argument to $skip stage: Expected a number in: $skip: true
EOF

i=1
while [ "$i" -le "$n" ]; do
	test_expect_success "rejected: $(sed 's/#/\\#/g' "case.$i.pipe")" "
		reject \"\$(cat case.$i.msg)\" \"\$(cat case.$i.pipe)\"
	"
	i=$((i + 1))
done

test_expect_success 'more than 32 sort keys' '
	spec=$(awk "BEGIN { for (i = 0; i < 33; i++) printf \"%s\\\"k%d\\\": 1\", i ? \", \" : \"\", i }") &&
	reject "sp: pipeline: stage 1 (\$sort): too many compound keys" "[{\"\$sort\": {$spec}}]"
'

# Feeds two records into sp -u through a FIFO held open, and leaves in
# "early" what sp had written before the end of input: once $2 lines came
# out, or after a second when $2 is 0. Opening the FIFO read-write never
# blocks, so a sp that fails early cannot hang the test.
feed_open() {
	rm -f feed.fifo early out
	mkfifo feed.fifo
	sp -u "$1" feed.fifo >out &
	pid=$!
	exec 3<>feed.fifo
	printf "%s\n" "{\"a\":2}" "{\"a\":1}" >&3
	tries=0
	while [ "$tries" -lt 50 ]; do
		sleep 0.2
		tries=$((tries + 1))
		if [ "$2" -eq 0 ]; then
			[ "$tries" -lt 5 ] || break
		elif [ "$(wc -l <out)" -ge "$2" ]; then
			break
		fi
	done
	cp out early
	exec 3>&-
	wait $pid
	rm -f feed.fifo
}

test_expect_success '$sort is blocking: nothing out before the end of input' '
	feed_open "[{\"\$sort\": {\"a\": 1}}]" 0 &&
	test_lines 0 early &&
	printf "%s\n" "{\"a\":1}" "{\"a\":2}" >want &&
	test_cmp want out
'
test_expect_success '$limit and $skip stream: records out at once' '
	feed_open "[{\"\$limit\": 5}]" 2 &&
	test_lines 2 early &&
	feed_open "[{\"\$skip\": 1}]" 1 &&
	test_lines 1 early &&
	printf "%s\n" "{\"a\":1}" >want &&
	test_cmp want out
'

test_expect_success 'a large input: $sort, and $sort with $limit, agree' '
	awk "BEGIN { for (i = 0; i < 20000; i++) printf \"{\\\"k\\\":%d,\\\"i\\\":%d}\\n\", (i * 7919) % 1000, i }" >in &&
	sp "[{\"\$sort\": {\"k\": -1}}]" in >all &&
	test_lines 20000 all &&
	head -n 25 all >want &&
	sp "[{\"\$sort\": {\"k\": -1}}, {\"\$limit\": 25}]" in >top &&
	test_cmp want top &&
	sed -n "11,35p" all >want &&
	sp "[{\"\$sort\": {\"k\": -1}}, {\"\$skip\": 10}, {\"\$limit\": 25}]" in >top &&
	test_cmp want top
'

test_expect_success '$limit filters the rest: exit 0, no dead letters' '
	printf "%s\n" "{\"a\":1}" "{\"a\":2}" "{\"a\":3}" >in &&
	sp -d dlq "[{\"\$limit\": 1}]" in >out &&
	printf "%s\n" "{\"a\":1}" >want &&
	test_cmp want out &&
	{ test ! -e dlq || test_lines 0 dlq; }
'

test_done
