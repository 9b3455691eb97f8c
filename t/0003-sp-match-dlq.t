#!/bin/sh
# sp-match: bad lines and failing documents become dead letters in Atlas's shape.
. "$(dirname "$0")/lib.sh"

test_expect_success 'bad lines: dead letters, the stream goes on, exit 1' '
	printf "%s\n" "{\"a\":1}" "{\"a\":" "{\"a\":1}" >in &&
	test_expect_code 1 sp-match -d dlq.ndjson "{}" in >out 2>err &&
	test_lines 2 out &&
	test_lines 0 err &&
	test_lines 1 dlq.ndjson
'

test_expect_success 'the dead letter has Atlas fields in order, raw line and position' '
	printf "%s\n" "{\"a\":1}" "{\"a\":" >in &&
	test_expect_code 1 sp-match -d dlq.ndjson -n myproc "{}" in >/dev/null &&
	test_grep "^\{\"_stream_meta\":\{\"source\":\{\"type\":\"file\",\"file\":\"in\",\"line\":2,\"offset\":8\}\},\"errInfo\":\{\"reason\":\"Failed to parse input message with error:[^\"]+\"\},\"operatorName\":\"SourceOperator\",\"raw\":\"\{\\\\\"a\\\\\":\",\"processorName\":\"myproc\",\"dlqTime\":\{\"\\\$date\":\"20[0-9-]+T[0-9:.]+Z\"\}\}$" dlq.ndjson
'

test_expect_success 'without --dlq, dead letters go to stderr' '
	printf "%s\n" "nope" | test_expect_code 1 sp-match "{}" >out 2>err &&
	test_lines 0 out &&
	test_grep "\"errInfo\":\{\"reason\":\"Failed to parse input message" err &&
	test_grep "\"raw\":\"nope\"" err &&
	test_grep "\"file\":\"-\"" err
'

test_expect_success '--dlq appends' '
	printf "%s\n" "x" >in &&
	test_expect_code 1 sp-match -d dlq2 "{}" in &&
	test_expect_code 1 sp-match -d dlq2 "{}" in &&
	test_lines 2 dlq2
'

test_expect_success 'the dead letters are documents sp-match can read' '
	printf "%s\n" "x" "[1]" "{\"a\":NaN}" >in &&
	test_expect_code 1 sp-match -d dlq3 "{}" in &&
	sp-match "{\"operatorName\": \"SourceOperator\", \"_stream_meta.source.line\": {\"\$in\": [1, 2, 3]}}" dlq3 >out &&
	test_lines 3 out
'

# Each of these lines must become exactly one dead letter, nothing else.
for bad in \
	'{"a":NaN}' '{"a":Infinity}' '{"a":-Infinity}' '[1,2]' '"str"' '42' 'null' \
	'{"a":1} x' '{"a":1}{"b":2}' "{'a':1}" '{"a":1,}' '{a:1}' '{"a":01}' \
	'{"a":.5}' '{"a":1.}' '{"a":"\x"}' '{"a":"\ud800"}' '{"a":{"$oid":"xyz"}}' \
	'{"a":{"$numberLong":"1.5"}}' '{"a":{"$date":"yesterday"}}' \
	'{"a":{"$numberInt":"2147483648"}}' '{"a":{"$binary":{"base64":"!","subType":"00"}}}' \
	'{"a":1' '{' '}' ; do
	test_expect_success "dead letter: $bad" "
		printf '%s\n' '$bad' >in &&
		test_expect_code 1 sp-match -d dlq.bad '{}' in >out &&
		test_lines 0 out &&
		test_lines 1 dlq.bad &&
		rm dlq.bad
	"
done

test_expect_success 'invalid UTF-8: a dead letter whose raw keeps the bytes as binary' '
	printf "{\"a\":\"\377\"}\n" >in &&
	test_expect_code 1 sp-match -d dlq "{}" in >out &&
	test_lines 0 out &&
	test_grep "\"raw\":\{\"\\\$binary\":\{\"base64\":\"eyJhIjoi/yJ9\",\"subType\":\"00\"\}\}" dlq
'

test_expect_success 'a line over --max-line-bytes: dead letter with its length' '
	printf "%s\n" "{\"a\":\"0123456789012345678901234567890123456789\"}" "{\"b\":1}" >in &&
	test_expect_code 1 sp-match -L 20 -d dlq "{}" in >out &&
	printf "%s\n" "{\"b\":1}" >want &&
	test_cmp want out &&
	test_grep "longer than --max-line-bytes 20" dlq &&
	test_grep "\"rawLength\":48" dlq
'

test_expect_success 'an $expr error makes the document a dead letter (MatchOperator)' '
	printf "%s\n" "{\"a\":1,\"b\":0}" "{\"a\":4,\"b\":2}" >in &&
	test_expect_code 1 sp-match -d dlq "{\"\$expr\": {\"\$gt\": [{\"\$divide\": [\"\$a\", \"\$b\"]}, 1]}}" in >out &&
	printf "%s\n" "{\"a\":4,\"b\":2}" >want &&
	test_cmp want out &&
	test_grep "\"errInfo\":\{\"reason\":\"Failed to process input document in MatchOperator with error: [^\"]*divide by zero\"\},\"operatorName\":\"MatchOperator\",\"doc\":\{\"a\":1,\"b\":0\}," dlq
'

test_expect_success 'a regex that hits the match limit: a dead letter, not a non-match' '
	awk "BEGIN { s = \"\"; for (i = 0; i < 60; i++) s = s \"a\"; print \"{\\\"s\\\":\\\"\" s \"b\\\"}\" }" >in &&
	test_expect_code 1 sp-match -d rx.dlq "{\"s\": {\"\$regex\": \"^(a|aa)+\$\"}}" in >out &&
	test_lines 0 out &&
	test_expect_code 1 sp-match -v -d rx.dlq "{\"s\": {\"\$regex\": \"^(a|aa)+\$\"}}" in >out &&
	test_lines 0 out &&
	test_lines 2 rx.dlq &&
	test_grep "\"reason\":\"Failed to process input document in MatchOperator with error: regular expression .* failed: match limit exceeded\"" rx.dlq
'

test_expect_success 'a document with its own _stream_meta keeps it in the dead letter' '
	printf "%s\n" "{\"_stream_meta\":{\"source\":{\"type\":\"kafka\",\"topic\":\"t\"}},\"b\":0}" >in &&
	test_expect_code 1 sp-match -d dlq "{\"\$expr\": {\"\$divide\": [1, \"\$b\"]}}" in &&
	test_grep "^\{\"_stream_meta\":\{\"source\":\{\"type\":\"kafka\",\"topic\":\"t\"\}\},\"errInfo\"" dlq
'

test_expect_success 'nothing is lost: written + filtered + dead = read' '
	cat "$DATA/solar.ndjson" "$DATA/broken.ndjson" "$DATA/solar.ndjson" >in &&
	test_expect_code 1 sp-match -d lost.dlq "{\"obs.watts\": {\"\$gt\": 300}}" in >yes &&
	sp-match -v -d dlq2 "{\"obs.watts\": {\"\$gt\": 300}}" in >no || : &&
	total=$(( $(wc -l <yes) + $(wc -l <no) + $(wc -l <lost.dlq) )) &&
	[ "$total" -eq "$(wc -l <in)" ]
'
test_done
