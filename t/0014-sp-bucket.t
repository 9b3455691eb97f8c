#!/bin/sh
# sp: $bucket and $bucketAuto specs rejected before any input is read, in
# MongoDB's words (document_source_bucket.cpp, document_source_bucket_auto.cpp,
# granularity_rounder.cpp), and the manual's granularity comparison.
# More cases, with input and output, are in t/data/sp/bucket.cases.
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

q="'"
B='sp: pipeline: stage 1 ($bucket): '
A='sp: pipeline: stage 1 ($bucketAuto): '

test_expect_success '$bucket: not an object' '
	reject "${B}Argument to \$bucket stage must be an object, but found type: int." \
	    "[{\"\$bucket\": 5}]" &&
	reject "${B}Argument to \$bucket stage must be an object, but found type: array." \
	    "[{\"\$bucket\": []}]"
'

test_expect_success '$bucket: groupBy neither a $-path nor an operator object' '
	reject "${B}The \$bucket '"'groupBy'"' field must be defined as a \$-prefixed path or an expression, but found: \"year\"." \
	    "[{\"\$bucket\": {\"groupBy\": \"year\", \"boundaries\": [0, 1]}}]" &&
	reject "${B}The \$bucket '"'groupBy'"' field must be defined as a \$-prefixed path or an expression, but found: { a: \"\$x\" }." \
	    "[{\"\$bucket\": {\"groupBy\": {\"a\": \"\$x\"}, \"boundaries\": [0, 1]}}]" &&
	reject "${B}The \$bucket '"'groupBy'"' field must be defined as a \$-prefixed path or an expression, but found: 1.5." \
	    "[{\"\$bucket\": {\"groupBy\": 1.5, \"boundaries\": [0, 1]}}]" &&
	reject "${B}Unrecognized expression ${q}\$nope${q}" \
	    "[{\"\$bucket\": {\"groupBy\": {\"\$nope\": 1}, \"boundaries\": [0, 1]}}]"
'

test_expect_success '$bucket: boundaries' '
	reject "${B}The \$bucket '"'boundaries'"' field must be an array, but found type: object." \
	    "[{\"\$bucket\": {\"groupBy\": \"\$a\", \"boundaries\": {}}}]" &&
	reject "${B}The \$bucket '"'boundaries'"' field must have at least 2 values, but found 1 value(s)." \
	    "[{\"\$bucket\": {\"groupBy\": \"\$a\", \"boundaries\": [1]}}]" &&
	reject "${B}The \$bucket '"'boundaries'"' field must have at least 2 values, but found 0 value(s)." \
	    "[{\"\$bucket\": {\"groupBy\": \"\$a\", \"boundaries\": []}}]" &&
	reject "${B}The \$bucket '"'boundaries'"' field must be an array of constant values, but found value: \"\$x\"." \
	    "[{\"\$bucket\": {\"groupBy\": \"\$a\", \"boundaries\": [0, \"\$x\"]}}]" &&
	reject "${B}The \$bucket '"'boundaries'"' field must be an array of constant values, but found value: { \$add: [ \"\$x\", 1 ] }." \
	    "[{\"\$bucket\": {\"groupBy\": \"\$a\", \"boundaries\": [0, {\"\$add\": [\"\$x\", 1]}]}}]" &&
	reject "${B}All values in the the '"'boundaries'"' option to \$bucket must have the same type. Found conflicting types int and string." \
	    "[{\"\$bucket\": {\"groupBy\": \"\$a\", \"boundaries\": [0, \"a\"]}}]" &&
	reject "${B}The '"'boundaries'"' option to \$bucket must be sorted, but elements 1 and 2 are not in ascending order (20 is not less than 5.5)." \
	    "[{\"\$bucket\": {\"groupBy\": \"\$a\", \"boundaries\": [0, {\"\$numberLong\": \"20\"}, 5.5]}}]" &&
	reject "${B}The '"'boundaries'"' option to \$bucket must be sorted, but elements 0 and 1 are not in ascending order (\"b\" is not less than \"b\")." \
	    "[{\"\$bucket\": {\"groupBy\": \"\$a\", \"boundaries\": [\"b\", \"b\"]}}]" &&
	reject "${B}The '"'boundaries'"' option to \$bucket must be sorted, but elements 0 and 1 are not in ascending order (1 is not less than 1)." \
	    "[{\"\$bucket\": {\"groupBy\": \"\$a\", \"boundaries\": [1, 1.0]}}]"
'

test_expect_success '$bucket: default' '
	reject "${B}The \$bucket '"'default'"' field must be a constant expression, but found: \"\$x\"." \
	    "[{\"\$bucket\": {\"groupBy\": \"\$a\", \"boundaries\": [0, 5], \"default\": \"\$x\"}}]" &&
	reject "${B}The \$bucket '"'default'"' field must be less than the lowest boundary or greater than or equal to the highest boundary." \
	    "[{\"\$bucket\": {\"groupBy\": \"\$a\", \"boundaries\": [0, 5], \"default\": 0}}]" &&
	reject "${B}The \$bucket '"'default'"' field must be less than the lowest boundary or greater than or equal to the highest boundary." \
	    "[{\"\$bucket\": {\"groupBy\": \"\$a\", \"boundaries\": [0, 5], \"default\": {\"\$numberDecimal\": \"4.9\"}}}]" &&
	sp "[{\"\$bucket\": {\"groupBy\": \"\$a\", \"boundaries\": [0, 5], \"default\": 5}}]" </dev/null &&
	sp "[{\"\$bucket\": {\"groupBy\": \"\$a\", \"boundaries\": [0, 5], \"default\": \"x\"}}]" </dev/null
'

test_expect_success '$bucket: output, unknown options, required fields' '
	reject "${B}The \$bucket '"'output'"' field must be an object, but found type: array." \
	    "[{\"\$bucket\": {\"groupBy\": \"\$a\", \"boundaries\": [0, 5], \"output\": []}}]" &&
	reject "${B}The field '"'n'"' must be an accumulator object" \
	    "[{\"\$bucket\": {\"groupBy\": \"\$a\", \"boundaries\": [0, 5], \"output\": {\"n\": 1}}}]" &&
	reject "${B}Unknown group operator ${q}\$nope${q}" \
	    "[{\"\$bucket\": {\"groupBy\": \"\$a\", \"boundaries\": [0, 5], \"output\": {\"n\": {\"\$nope\": 1}}}}]" &&
	reject "${B}Unrecognized option to \$bucket: buckets." \
	    "[{\"\$bucket\": {\"groupBy\": \"\$a\", \"boundaries\": [0, 5], \"buckets\": 2}}]" &&
	reject "${B}\$bucket requires '"'groupBy'"' and '"'boundaries'"' to be specified." \
	    "[{\"\$bucket\": {\"groupBy\": \"\$a\"}}]" &&
	reject "${B}\$bucket requires '"'groupBy'"' and '"'boundaries'"' to be specified." \
	    "[{\"\$bucket\": {\"boundaries\": [0, 5]}}]"
'

test_expect_success '$bucket: the checks in the order the server makes them' '
	reject "${B}\$bucket requires '"'groupBy'"' and '"'boundaries'"' to be specified." \
	    "[{\"\$bucket\": {\"output\": {\"n\": 1}}}]" &&
	reject "${B}The field '"'n'"' must be an accumulator object" \
	    "[{\"\$bucket\": {\"groupBy\": {\"\$nope\": 1}, \"boundaries\": [0, 5], \"output\": {\"n\": 1}}}]"
'

test_expect_success '$bucketAuto: not an object, groupBy' '
	reject "${A}The argument to \$bucketAuto must be an object, but found type: string" \
	    "[{\"\$bucketAuto\": \"x\"}]" &&
	reject "${A}The \$bucketAuto '"'groupBy'"' field must be defined as a \$-prefixed path or an expression object, but found: \"\$\"" \
	    "[{\"\$bucketAuto\": {\"groupBy\": \"\$\", \"buckets\": 2}}]" &&
	reject "${A}The \$bucketAuto '"'groupBy'"' field must be defined as a \$-prefixed path or an expression object, but found: {}" \
	    "[{\"\$bucketAuto\": {\"groupBy\": {}, \"buckets\": 2}}]" &&
	reject "${A}The \$bucketAuto '"'groupBy'"' field must be defined as a \$-prefixed path or an expression object, but found: true" \
	    "[{\"\$bucketAuto\": {\"groupBy\": true, \"buckets\": 2}}]"
'

test_expect_success '$bucketAuto: buckets' '
	reject "${A}The \$bucketAuto '"'buckets'"' field must be a numeric value, but found type: string" \
	    "[{\"\$bucketAuto\": {\"groupBy\": \"\$a\", \"buckets\": \"2\"}}]" &&
	reject "${A}The \$bucketAuto '"'buckets'"' field must be representable as a 32-bit integer, but found 2.5" \
	    "[{\"\$bucketAuto\": {\"groupBy\": \"\$a\", \"buckets\": 2.5}}]" &&
	reject "${A}The \$bucketAuto '"'buckets'"' field must be representable as a 32-bit integer, but found 2.14748e+09" \
	    "[{\"\$bucketAuto\": {\"groupBy\": \"\$a\", \"buckets\": {\"\$numberLong\": \"2147483648\"}}}]" &&
	reject "${A}The \$bucketAuto '"'buckets'"' field must be greater than 0, but found: 0" \
	    "[{\"\$bucketAuto\": {\"groupBy\": \"\$a\", \"buckets\": 0}}]" &&
	reject "${A}The \$bucketAuto '"'buckets'"' field must be greater than 0, but found: -3" \
	    "[{\"\$bucketAuto\": {\"groupBy\": \"\$a\", \"buckets\": {\"\$numberDecimal\": \"-3.0\"}}}]" &&
	sp "[{\"\$bucketAuto\": {\"groupBy\": \"\$a\", \"buckets\": 2.0}}]" </dev/null &&
	sp "[{\"\$bucketAuto\": {\"groupBy\": \"\$a\", \"buckets\": {\"\$numberLong\": \"2147483647\"}}}]" </dev/null
'

test_expect_success '$bucketAuto: output, granularity, unknown options' '
	reject "${A}The \$bucketAuto '"'output'"' field must be an object, but found type: int" \
	    "[{\"\$bucketAuto\": {\"groupBy\": \"\$a\", \"buckets\": 2, \"output\": 1}}]" &&
	reject "${A}The field '"'c'"' must be an accumulator object" \
	    "[{\"\$bucketAuto\": {\"groupBy\": \"\$a\", \"buckets\": 2, \"output\": {\"c\": 1}}}]" &&
	reject "${A}The \$bucketAuto '"'granularity'"' field must be a string, but found type: int" \
	    "[{\"\$bucketAuto\": {\"groupBy\": \"\$a\", \"buckets\": 2, \"granularity\": 5}}]" &&
	reject "${A}Unknown rounding granularity '"'r5'"'" \
	    "[{\"\$bucketAuto\": {\"groupBy\": \"\$a\", \"buckets\": 2, \"granularity\": \"r5\"}}]" &&
	reject "${A}Unrecognized option to \$bucketAuto: boundaries" \
	    "[{\"\$bucketAuto\": {\"groupBy\": \"\$a\", \"buckets\": 2, \"boundaries\": [0, 1]}}]" &&
	reject "${A}\$bucketAuto requires '"'groupBy'"' and '"'buckets'"' to be specified" \
	    "[{\"\$bucketAuto\": {\"groupBy\": \"\$a\"}}]" &&
	reject "${A}\$bucketAuto requires '"'groupBy'"' and '"'buckets'"' to be specified" \
	    "[{\"\$bucketAuto\": {\"buckets\": 2}}]"
'

test_expect_success '$bucketAuto: options are checked where they stand' '
	reject "${A}The field '"'c'"' must be an accumulator object" \
	    "[{\"\$bucketAuto\": {\"output\": {\"c\": 1}, \"granularity\": 5}}]" &&
	reject "${A}Unknown rounding granularity '"'x'"'" \
	    "[{\"\$bucketAuto\": {\"granularity\": \"x\", \"output\": {\"c\": 1}}}]" &&
	reject "${A}The \$bucketAuto '"'buckets'"' field must be greater than 0, but found: 0" \
	    "[{\"\$bucketAuto\": {\"buckets\": 0, \"groupBy\": \"\$a\"}}]"
'

test_expect_success '$bucketAuto: an accumulator argument that reads the group key' '
	reject "${A}Can'"'"'t refer to the group key in \$bucketAuto" \
	    "[{\"\$bucketAuto\": {\"groupBy\": \"\$a\", \"buckets\": 2, \"output\": {\"f\": {\"\$firstN\": {\"input\": \"\$a\", \"n\": \"\$k\"}}}}}]"
'

# manual: $bucketAuto, "Comparing Different Granularities": _id 0 to 99 (the
# manual says 1 to 100; its results are those of 0 to 99), 5 buckets.
things() {
	i=0
	while [ $i -lt 100 ]; do
		printf '{"_id":%d}\n' $i
		i=$((i + 1))
	done >things.ndjson
	sp "[{\"\$bucketAuto\": {\"groupBy\": \"\$_id\", \"buckets\": 5$1}}]" \
	    things.ndjson >out
	test_cmp want out
}

test_expect_success 'manual: granularities compared, none' '
	cat >want <<-\EOF &&
	{"_id":{"min":0,"max":20},"count":20}
	{"_id":{"min":20,"max":40},"count":20}
	{"_id":{"min":40,"max":60},"count":20}
	{"_id":{"min":60,"max":80},"count":20}
	{"_id":{"min":80,"max":99},"count":20}
	EOF
	things ""
'

test_expect_success 'manual: granularities compared, R20' '
	cat >want <<-\EOF &&
	{"_id":{"min":0,"max":20.0},"count":20}
	{"_id":{"min":20.0,"max":40.0},"count":20}
	{"_id":{"min":40.0,"max":63.0},"count":23}
	{"_id":{"min":63.0,"max":90.0},"count":27}
	{"_id":{"min":90.0,"max":100.0},"count":10}
	EOF
	things ", \"granularity\": \"R20\""
'

test_expect_success 'manual: granularities compared, E24' '
	cat >want <<-\EOF &&
	{"_id":{"min":0,"max":20.0},"count":20}
	{"_id":{"min":20.0,"max":43.0},"count":23}
	{"_id":{"min":43.0,"max":68.0},"count":25}
	{"_id":{"min":68.0,"max":91.0},"count":23}
	{"_id":{"min":91.0,"max":100.0},"count":9}
	EOF
	things ", \"granularity\": \"E24\""
'

test_expect_success 'manual: granularities compared, 1-2-5 (fewer intervals than buckets)' '
	cat >want <<-\EOF &&
	{"_id":{"min":0,"max":20.0},"count":20}
	{"_id":{"min":20.0,"max":50.0},"count":30}
	{"_id":{"min":50.0,"max":100.0},"count":50}
	EOF
	things ", \"granularity\": \"1-2-5\""
'

test_expect_success 'manual: granularities compared, POWERSOF2 (ints stay ints)' '
	cat >want <<-\EOF &&
	{"_id":{"min":0,"max":32},"count":32}
	{"_id":{"min":32,"max":64},"count":32}
	{"_id":{"min":64,"max":128},"count":36}
	EOF
	things ", \"granularity\": \"POWERSOF2\""
'

test_expect_success 'buckets are written at the end, after every input line' '
	printf "{\"v\":%d}\n" 3 1 2 >in &&
	sp "[{\"\$bucket\": {\"groupBy\": \"\$v\", \"boundaries\": [0, 2, 4]}}, {\"\$set\": {\"seen\": true}}]" in >out &&
	printf "%s\n" "{\"_id\":0,\"count\":1,\"seen\":true}" "{\"_id\":2,\"count\":2,\"seen\":true}" >want &&
	test_cmp want out
'

test_expect_success '$bucketAuto keeps every value: 20000 documents, 7 buckets' '
	i=0 &&
	while [ $i -lt 20000 ]; do
		printf "{\"v\":%d,\"s\":\"%d\"}\n" $(( (i * 7919) % 20000 )) $i
		i=$((i + 1))
	done >in &&
	sp "[{\"\$bucketAuto\": {\"groupBy\": \"\$v\", \"buckets\": 7, \"output\": {\"n\": {\"\$sum\": 1}, \"lo\": {\"\$min\": \"\$s\"}}}}]" in >out &&
	test_lines 7 out &&
	head -n 1 out | test_grep "^\{\"_id\":\{\"min\":0,\"max\":2857\},\"n\":2857," - &&
	tail -n 1 out | test_grep "^\{\"_id\":\{\"min\":17142,\"max\":19999\},\"n\":2858," -
'

test_done
