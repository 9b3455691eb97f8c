#!/bin/sh
# sp-match: input files and stdin, byte-for-byte output, buffering, pipes.
. "$(dirname "$0")/lib.sh"

test_expect_success 'matching lines are written byte for byte, in order' '
	printf "%s\n" "{ \"a\" : 1 ,\"b\":[ 1,2 ] }" "{\"a\":2}" \
	    "{\"a\":1.0,\"x\":{\"\$numberLong\":\"7\"}}" >in &&
	sp-match "{\"a\": 1}" in >out &&
	printf "%s\n" "{ \"a\" : 1 ,\"b\":[ 1,2 ] }" \
	    "{\"a\":1.0,\"x\":{\"\$numberLong\":\"7\"}}" >want &&
	test_cmp want out
'

test_expect_success 'stdin when there are no operands' '
	printf "%s\n" "{\"a\":1}" | sp-match "{}" >out &&
	printf "%s\n" "{\"a\":1}" >want &&
	test_cmp want out
'

test_expect_success 'several files in order, and - for stdin' '
	printf "%s\n" "{\"n\":1}" >one &&
	printf "%s\n" "{\"n\":3}" >three &&
	printf "%s\n" "{\"n\":2}" | sp-match "{}" one - three >out &&
	printf "%s\n" "{\"n\":1}" "{\"n\":2}" "{\"n\":3}" >want &&
	test_cmp want out
'

test_expect_success 'a missing input file: message, the rest still read, exit 2' '
	printf "%s\n" "{\"n\":1}" >one &&
	test_expect_code 2 sp-match "{}" nothere one >out 2>err &&
	test_grep "^sp-match: nothere: No such file or directory" err &&
	test_cmp one out
'

test_expect_success 'CRLF input, blank lines, last line without newline' '
	printf "{\"a\":1}\r\n\r\n   \n{\"a\":2}\r\n{\"a\":1,\"z\":0}" >in &&
	sp-match "{\"a\": 1}" in >out 2>err &&
	printf "%s\n" "{\"a\":1}" "{\"a\":1,\"z\":0}" >want &&
	test_cmp want out &&
	test_lines 0 err
'

test_expect_success '--canonical rewrites matches as canonical Extended JSON' '
	printf "%s\n" "{\"a\":1,\"b\":2.5,\"c\":{\"\$date\":\"2024-01-01T00:00:00Z\"}}" >in &&
	sp-match -c "{}" in >out &&
	printf "%s\n" "{\"a\":{\"\$numberInt\":\"1\"},\"b\":{\"\$numberDouble\":\"2.5\"},\"c\":{\"\$date\":{\"\$numberLong\":\"1704067200000\"}}}" >want &&
	test_cmp want out
'

test_expect_success '-v writes the documents that do not match' '
	printf "%s\n" "{\"a\":1}" "{\"a\":2}" "{\"a\":3}" >in &&
	sp-match -v "{\"a\": 2}" in >out &&
	printf "%s\n" "{\"a\":1}" "{\"a\":3}" >want &&
	test_cmp want out
'

test_expect_success 'exit 0 when nothing matches and nothing is bad' '
	printf "%s\n" "{\"a\":1}" | sp-match "{\"a\": 2}" >out &&
	test_lines 0 out
'

test_expect_success 'empty input' '
	sp-match "{}" </dev/null >out &&
	test_lines 0 out
'

test_expect_success 'a long line (8 MiB) passes whole' '
	awk "BEGIN { s = \"x\"; while (length(s) < 8388608) s = s s; printf \"{\\\"s\\\":\\\"%s\\\"}\\n\", s }" >in &&
	sp-match "{\"s\": {\"\$regex\": \"^x+\$\"}}" in >out &&
	cmp in out
'

test_expect_success 'quiet under head: no Broken pipe, exit 0' '
	awk "BEGIN { for (i = 0; i < 200000; i++) print \"{\\\"i\\\":\" i \"}\" }" >in &&
	{ sp-match "{}" in 2>err; echo $? >status; } | head -n 1 >out &&
	test_lines 1 out &&
	test_lines 0 err &&
	echo 0 >want &&
	test_cmp want status
'

test_expect_success 'records pass through a pipe at once (flush when input is idle)' '
	mkfifo fifo
	{ printf "%s\n" "{\"a\":1}"; sleep 8; } >fifo &
	writer=$!
	sp-match "{}" <fifo >idle.out &
	pid=$! &&
	i=0 &&
	while [ ! -s idle.out ] && [ $i -lt 60 ]; do sleep 0.1; i=$((i + 1)); done &&
	kill $pid $writer 2>/dev/null; wait $pid 2>/dev/null || :
	printf "%s\n" "{\"a\":1}" >want &&
	test_cmp want idle.out
'

test_expect_success '-u flushes after every record' '
	printf "%s\n" "{\"a\":1}" "{\"a\":2}" | sp-match -u "{}" >out &&
	test_lines 2 out &&
	printf "%s\n" "{\"a\":1}" | SP_UNBUFFERED=1 sp-match "{}" >out &&
	test_lines 1 out
'

test_expect_success 'a write error on stdout is reported, exit 2' '
	if [ -w /dev/full ]; then
		printf "%s\n" "{\"a\":1}" | test_expect_code 2 sp-match "{}" >/dev/full 2>err &&
		test_grep "standard output: No space left on device" err
	fi
'

test_expect_success '--stats counts records' '
	printf "%s\n" "{\"a\":1}" "{\"a\":2}" "x" >in &&
	test_expect_code 1 sp-match --stats -d dlq "{\"a\": 1}" in >out 2>err &&
	test_grep "3 records read, 1 written, 1 dead letters" err
'
test_done
