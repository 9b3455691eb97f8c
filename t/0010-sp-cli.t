#!/bin/sh
# sp: options, input and output, and pipelines rejected before any input is read.
. "$(dirname "$0")/lib.sh"

test_expect_success '--help prints usage to stdout, exit 0' '
	sp --help >out 2>err &&
	test_grep "^usage: sp \[-cu\]" out &&
	test_grep "--dlq FILE" out &&
	test_grep "--stats" out &&
	test_lines 0 err &&
	sp -h | test_grep "^usage: sp" -
'

test_expect_success '--version names the tool and libraries' '
	sp --version >out &&
	test_grep "^sp [0-9]+\.[0-9]+\.[0-9]+ \(libbson [0-9.]+, PCRE2 [0-9.]+" out &&
	sp -V | test_grep "^sp " -
'

test_expect_success 'no pipeline: usage error, exit 2' '
	test_expect_code 2 sp </dev/null 2>err &&
	test_grep "^sp: no pipeline given" err &&
	test_grep "^usage:" err
'

test_expect_success 'unknown option, and -v (not an sp option): exit 2' '
	test_expect_code 2 sp --frobnicate "[{\"\$match\": {}}]" </dev/null 2>err &&
	test_grep "^usage:" err &&
	test_expect_code 2 sp -v "[{\"\$match\": {}}]" </dev/null 2>err &&
	test_grep "^usage:" err
'

test_expect_success 'bad --max-line-bytes: exit 2' '
	test_expect_code 2 sp -L 12x "[{\"\$match\": {}}]" </dev/null 2>err &&
	test_grep "^sp: --max-line-bytes: invalid byte count .12x." err
'

# A bad pipeline is rejected before input is read: the input is a FIFO
# nobody writes to, so reading it would hang the test. The message is one
# line: "sp: pipeline: stage N ($name): what".
reject() {
	msg=$1
	shift
	mkfifo fifo.$$ 2>/dev/null || :
	test_expect_code 2 sp "$@" fifo.$$ >out 2>err
	test_lines 0 out
	printf "%s\n" "$msg" >want.err
	test_cmp want.err err
}

test_expect_success 'not JSON: the offset in the pipeline text' '
	reject "sp: pipeline: invalid JSON at offset 17: expected '"':'"' after object key" \
	    "[{\"\$match\": {\"a\" 1}}]"
'
test_expect_success 'not an array' '
	reject "sp: pipeline: a pipeline is a JSON array of stages, [{...}, ...]" \
	    "{\"\$match\": {}}"
'
test_expect_success 'an empty pipeline' '
	reject "sp: pipeline: Pipeline must have at least one stage" "[]"
'
test_expect_success 'a stage that is not an object' '
	reject "sp: pipeline: stage 2: Each element of the '"'pipeline'"' array must be an object" \
	    "[{\"\$match\": {}}, 5]"
'
test_expect_success 'a stage with no field, or two' '
	reject "sp: pipeline: stage 1: A pipeline stage specification object must contain exactly one field." \
	    "[{}]" &&
	reject "sp: pipeline: stage 1: A pipeline stage specification object must contain exactly one field." \
	    "[{\"\$match\": {}, \"\$set\": {\"a\": 1}}]"
'
test_expect_success 'an unknown stage' '
	reject "sp: pipeline: stage 2: Unsupported stage: \$foo" \
	    "[{\"\$match\": {}}, {\"\$foo\": 1}]"
'
test_expect_success '$source after another stage' '
	reject "sp: pipeline: stage 1: First stage must be \$source, found: \$match" \
	    "[{\"\$match\": {}}, {\"\$source\": {}}]" &&
	reject "sp: pipeline: stage 2 (\$source): Only one \$source stage is allowed in a pipeline." \
	    "[{\"\$source\": {}}, {\"\$source\": {}}]"
'
test_expect_success 'a stage after $emit or $merge' '
	reject "sp: pipeline: stage 2 (\$emit): No stages are allowed after a \$merge or \$emit stage." \
	    "[{\"\$match\": {}}, {\"\$emit\": {}}, {\"\$set\": {\"a\": 1}}]" &&
	reject "sp: pipeline: stage 1 (\$merge): No stages are allowed after a \$merge or \$emit stage." \
	    "[{\"\$merge\": {}}, {\"\$emit\": {}}]"
'
test_expect_success 'window stages: not supported yet' '
	for s in tumblingWindow hoppingWindow sessionWindow; do
		reject "sp: pipeline: stage 2 (\$$s): \$$s is not supported yet" \
		    "[{\"\$match\": {}}, {\"\$$s\": {}}]" || return 1
	done
'
test_expect_success 'stages that need a connection' '
	reject "sp: pipeline: stage 1 (\$lookup): \$lookup is not supported: it needs a connection that sp does not have" \
	    "[{\"\$lookup\": {}}]"
'
test_expect_success '$text in $match, as Atlas words it' '
	reject "sp: pipeline: stage 1 (\$match): Cannot use \$text in \$match stage in Atlas Stream Processing." \
	    "[{\"\$match\": {\"\$text\": {\"\$search\": \"x\"}}}]" &&
	reject "sp: pipeline: stage 2 (\$match): Cannot use \$text in \$match stage in Atlas Stream Processing." \
	    "[{\"\$set\": {\"a\": 1}}, {\"\$match\": {\"\$and\": [{\"\$text\": {\"\$search\": \"x\"}}]}}]"
'
test_expect_success 'a bad $match filter' '
	reject "sp: pipeline: stage 1 (\$match): unknown operator: \$foo" \
	    "[{\"\$match\": {\"a\": {\"\$foo\": 1}}}]" &&
	reject "sp: pipeline: stage 1 (\$match): the match filter must be an expression in an object" \
	    "[{\"\$match\": 1}]"
'
test_expect_success '$addFields and $set: MongoDB messages' '
	reject "sp: pipeline: stage 1 (\$addFields): \$addFields specification stage must be an object, got int" \
	    "[{\"\$addFields\": 1}]" &&
	reject "sp: pipeline: stage 1 (\$set): Invalid \$set :: caused by :: specification contains two conflicting paths. Cannot specify both '"'a.b'"' and '"'a'"': { a: 1, a.b: 2 }" \
	    "[{\"\$set\": {\"a\": 1, \"a.b\": 2}}]" &&
	reject "sp: pipeline: stage 1 (\$addFields): Invalid \$addFields :: caused by :: FieldPath field names may not start with '\''\$'\''. Consider using \$getField or \$setField." \
	    "[{\"\$addFields\": {\"\$a\": 1}}]" &&
	reject "sp: pipeline: stage 1 (\$addFields): Invalid \$addFields :: caused by :: Unrecognized expression '\''\$nope'\''" \
	    "[{\"\$addFields\": {\"a\": {\"\$nope\": 1}}}]"
'
test_expect_success '$project: mixing inclusion and exclusion' '
	reject "sp: pipeline: stage 1 (\$project): Invalid \$project :: caused by :: Cannot do exclusion on field b in inclusion projection" \
	    "[{\"\$project\": {\"a\": 1, \"b\": 0}}]" &&
	reject "sp: pipeline: stage 1 (\$project): Invalid \$project :: caused by :: Cannot do inclusion on field b in exclusion projection" \
	    "[{\"\$project\": {\"a\": 0, \"b\": 1}}]" &&
	reject "sp: pipeline: stage 1 (\$project): Invalid \$project :: caused by :: Cannot use an expression b: \"x\" in an exclusion projection" \
	    "[{\"\$project\": {\"a\": 0, \"b\": \"x\"}}]" &&
	reject "sp: pipeline: stage 1 (\$project): Invalid \$project :: caused by :: Cannot use expression other than \$meta in exclusion projection" \
	    "[{\"\$project\": {\"a\": false, \"b\": {\"\$add\": [1]}}}]"
'
test_expect_success '$project: empty, and path collisions' '
	reject "sp: pipeline: stage 1 (\$project): Invalid \$project :: caused by :: projection specification must have at least one field" \
	    "[{\"\$project\": {}}]" &&
	reject "sp: pipeline: stage 1 (\$project): Invalid \$project :: caused by :: An empty sub-projection is not a valid value. Found empty object at path" \
	    "[{\"\$project\": {\"a\": {}}}]" &&
	reject "sp: pipeline: stage 1 (\$project): Invalid \$project :: caused by :: Path collision at a.b remaining portion b" \
	    "[{\"\$project\": {\"a\": 1, \"a.b\": 1}}]" &&
	reject "sp: pipeline: stage 1 (\$project): Invalid \$project :: caused by :: Path collision at a" \
	    "[{\"\$project\": {\"a.b\": 1, \"a\": 1}}]" &&
	reject "sp: pipeline: stage 1 (\$project): Invalid \$project :: caused by :: Unknown expression \$foo" \
	    "[{\"\$project\": {\"a\": {\"\$foo\": 1}}}]" &&
	reject "sp: pipeline: stage 1 (\$project): Invalid \$project :: caused by :: Cannot use positional projection in aggregation projection" \
	    "[{\"\$project\": {\"a.\$\": 1}}]"
'
test_expect_success '$unset' '
	reject "sp: pipeline: stage 1 (\$unset): \$unset specification must be a string or an array" \
	    "[{\"\$unset\": 1}]" &&
	reject "sp: pipeline: stage 1 (\$unset): \$unset specification must be a string or an array with at least one field" \
	    "[{\"\$unset\": []}]" &&
	reject "sp: pipeline: stage 1 (\$unset): \$unset specification must be a string or an array containing only string values" \
	    "[{\"\$unset\": [\"a\", 1]}]" &&
	reject "sp: pipeline: stage 1 (\$unset): Invalid \$unset :: caused by :: Path collision at a.b remaining portion b" \
	    "[{\"\$unset\": [\"a\", \"a.b\"]}]"
'
test_expect_success '$replaceRoot and $replaceWith' '
	reject "sp: pipeline: stage 1 (\$replaceRoot): BSON field '\''\$replaceRoot.newRoot'\'' is missing but a required field" \
	    "[{\"\$replaceRoot\": {}}]" &&
	reject "sp: pipeline: stage 1 (\$replaceRoot): expected an object as specification for \$replaceRoot stage, got string" \
	    "[{\"\$replaceRoot\": \"\$a\"}]" &&
	reject "sp: pipeline: stage 1 (\$replaceWith): Unrecognized expression '\''\$x'\''" \
	    "[{\"\$replaceWith\": {\"\$x\": 1}}]"
'
test_expect_success '$unwind' '
	reject "sp: pipeline: stage 1 (\$unwind): path option to \$unwind stage should be prefixed with a '\''\$'\'': a" \
	    "[{\"\$unwind\": \"a\"}]" &&
	reject "sp: pipeline: stage 1 (\$unwind): unrecognized option to \$unwind stage: x" \
	    "[{\"\$unwind\": {\"path\": \"\$a\", \"x\": 1}}]" &&
	reject "sp: pipeline: stage 1 (\$unwind): no path specified to \$unwind stage" \
	    "[{\"\$unwind\": {\"includeArrayIndex\": \"i\"}}]" &&
	reject "sp: pipeline: stage 1 (\$unwind): expected a boolean for the preserveNullAndEmptyArrays option to \$unwind stage, got int" \
	    "[{\"\$unwind\": {\"path\": \"\$a\", \"preserveNullAndEmptyArrays\": 1}}]"
'
test_expect_success '$redact: an unknown variable' '
	reject "sp: pipeline: stage 1 (\$redact): Use of undefined variable: DROP" \
	    "[{\"\$redact\": \"\$\$DROP\"}]"
'
test_expect_success '$source, $emit and $merge specs' '
	reject "sp: pipeline: stage 1 (\$source): BSON field '\''\$source.foo'\'' is an unknown field." \
	    "[{\"\$source\": {\"foo\": 1}}]" &&
	reject "sp: pipeline: stage 1 (\$source): '"'tsFieldOverride'"' cannot be a dotted path" \
	    "[{\"\$source\": {\"tsFieldName\": \"a.b\"}}]" &&
	reject "sp: pipeline: stage 1 (\$source): FieldPath '"'ts'"' doesn'"'"'t start with \$" \
	    "[{\"\$source\": {\"timeField\": \"ts\"}}]" &&
	reject "sp: pipeline: stage 2 (\$emit): \$emit specification must be an object, got int" \
	    "[{\"\$match\": {}}, {\"\$emit\": 1}]"
'

test_expect_success '-f reads the pipeline from a file, and names it' '
	cat >p.json <<-\EOF &&
	[
	  {"$match": {"a": {"$gt": 1}}},
	  {"$set": {"b": true}}
	]
	EOF
	printf "%s\n" "{\"a\":1}" "{\"a\":2}" | sp -f p.json >out &&
	printf "%s\n" "{\"a\":2,\"b\":true}" >want &&
	test_cmp want out &&
	printf "%s\n" "[{\"\$bad\": 1}]" >bad.json &&
	test_expect_code 2 sp -f bad.json </dev/null 2>err &&
	printf "%s\n" "sp: bad.json: stage 1: Unsupported stage: \$bad" >want &&
	test_cmp want err
'
test_expect_success '-f with a missing file: exit 2' '
	test_expect_code 2 sp -f nonexistent.json </dev/null 2>err &&
	test_grep "^sp: nonexistent.json: No such file or directory" err
'
test_expect_success 'a $source with documents reads no input, so no operands' '
	test_expect_code 2 sp "[{\"\$source\": {\"documents\": [{}]}}]" in 2>err &&
	test_grep "holds the documents: no input file is read" err
'

test_expect_success 'output is re-serialized relaxed Extended JSON' '
	printf "%s\n" "{ \"a\" : 1.0, \"d\": {\"\$date\": {\"\$numberLong\": \"0\"}}, \"l\": {\"\$numberLong\": \"5\"} }" >in &&
	sp "[{\"\$match\": {}}]" in >out &&
	printf "%s\n" "{\"a\":1.0,\"d\":{\"\$date\":\"1970-01-01T00:00:00Z\"},\"l\":5}" >want &&
	test_cmp want out
'
test_expect_success '-c writes canonical Extended JSON' '
	printf "%s\n" "{\"a\":1,\"b\":2.5}" >in &&
	sp -c "[{\"\$set\": {\"c\": {\"\$add\": [\"\$a\", 1]}}}]" in >out &&
	printf "%s\n" "{\"a\":{\"\$numberInt\":\"1\"},\"b\":{\"\$numberDouble\":\"2.5\"},\"c\":{\"\$numberInt\":\"2\"}}" >want &&
	test_cmp want out
'
test_expect_success '-c shows the types: $unwind'"'"'s index is a long' '
	printf "%s\n" "{\"a\":[5]}" >in &&
	sp -c "[{\"\$unwind\": {\"path\": \"\$a\", \"includeArrayIndex\": \"i\"}}]" in >out &&
	printf "%s\n" "{\"a\":{\"\$numberInt\":\"5\"},\"i\":{\"\$numberLong\":\"0\"}}" >want &&
	test_cmp want out
'
test_expect_success 'files in order, - for stdin; a missing file is reported, exit 2' '
	printf "%s\n" "{\"n\":1}" >one &&
	printf "%s\n" "{\"n\":3}" >three &&
	printf "%s\n" "{\"n\":2}" | test_expect_code 2 sp "[{\"\$set\": {\"m\": 0}}]" one - nothere three >out 2>err &&
	printf "%s\n" "{\"n\":1,\"m\":0}" "{\"n\":2,\"m\":0}" "{\"n\":3,\"m\":0}" >want &&
	test_cmp want out &&
	test_grep "^sp: nothere: No such file or directory" err
'
test_expect_success 'bad lines are dead letters (SourceOperator), exit 1' '
	printf "%s\n" "{\"a\":1}" "{\"a\":" "[1]" >in &&
	test_expect_code 1 sp -d dlq -n myproc "[{\"\$set\": {\"b\": 1}}]" in >out 2>err &&
	printf "%s\n" "{\"a\":1,\"b\":1}" >want &&
	test_cmp want out &&
	test_lines 0 err &&
	test_lines 2 dlq &&
	test_grep "^\{\"_stream_meta\":\{\"source\":\{\"type\":\"file\",\"file\":\"in\",\"line\":2,\"offset\":8\}\},\"errInfo\":\{\"reason\":\"Failed to parse input message with error:[^\"]+\"\},\"operatorName\":\"SourceOperator\",\"raw\":\"\{\\\\\"a\\\\\":\",\"processorName\":\"myproc\"" dlq
'
test_expect_success 'a stage dead letter holds the stage input and where it was read' '
	printf "%s\n" "{\"a\":[1,0]}" >in &&
	test_expect_code 1 sp -d dlq "[{\"\$unwind\": \"\$a\"}, {\"\$set\": {\"r\": {\"\$divide\": [1, \"\$a\"]}}}]" in >out &&
	printf "%s\n" "{\"a\":1,\"r\":1.0}" >want &&
	test_cmp want out &&
	test_grep "^\{\"_stream_meta\":\{\"source\":\{\"type\":\"file\",\"file\":\"in\",\"line\":1,\"offset\":0\}\},\"errInfo\":\{\"reason\":\"Failed to process input document in SetOperator with error: can.t \\\$divide by zero\"\},\"operatorName\":\"SetOperator\",\"doc\":\{\"a\":0\},\"processorName\":\"sp\",\"dlqTime\":\{\"\\\$date\":\"[0-9T:.Z-]+\"\}\}$" dlq
'
test_expect_success 'without --dlq, dead letters go to standard error' '
	printf "%s\n" "nope" | test_expect_code 1 sp "[{\"\$match\": {}}]" >out 2>err &&
	test_lines 0 out &&
	test_grep "\"operatorName\":\"SourceOperator\"" err
'
test_expect_success '--stats counts records read, written, dead' '
	printf "%s\n" "{\"a\":[1,2]}" "{\"a\":[]}" "x" >in &&
	test_expect_code 1 sp --stats -d dlq "[{\"\$unwind\": \"\$a\"}]" in >out 2>err &&
	test_grep "^sp: 3 records read, 2 written, 1 dead letters$" err
'
test_expect_success 'quiet under head: no Broken pipe, exit 0' '
	awk "BEGIN { for (i = 0; i < 200000; i++) print \"{\\\"i\\\":\" i \"}\" }" >in &&
	{ sp "[{\"\$set\": {\"j\": \"\$i\"}}]" in 2>err; echo $? >status; } | head -n 1 >out &&
	test_lines 1 out &&
	test_lines 0 err &&
	echo 0 >want &&
	test_cmp want status
'
test_expect_success 'records pass through a pipe at once (flush when input is idle)' '
	mkfifo fifo
	{ printf "%s\n" "{\"a\":1}"; sleep 8; } >fifo &
	writer=$!
	sp "[{\"\$set\": {\"b\": 2}}]" <fifo >idle.out &
	pid=$! &&
	i=0 &&
	while [ ! -s idle.out ] && [ $i -lt 60 ]; do sleep 0.1; i=$((i + 1)); done &&
	kill $pid $writer 2>/dev/null; wait $pid 2>/dev/null || :
	printf "%s\n" "{\"a\":1,\"b\":2}" >want &&
	test_cmp want idle.out
'
test_expect_success 'a write error on stdout is reported, exit 2' '
	if [ -w /dev/full ]; then
		printf "%s\n" "{\"a\":1}" | test_expect_code 2 sp "[{\"\$match\": {}}]" >/dev/full 2>err &&
		test_grep "^sp: standard output: No space left on device" err
	fi
'
test_done
