#!/bin/sh
# sp-match: options, usage, and filters rejected before any input is read.
. "$(dirname "$0")/lib.sh"

test_expect_success '--help prints usage to stdout, exit 0' '
	sp-match --help >out 2>err &&
	test_grep "^usage: sp-match" out &&
	test_grep "--dlq FILE" out &&
	test_lines 0 err
'

test_expect_success '-h is --help' '
	sp-match -h | test_grep "^usage: sp-match" -
'

test_expect_success '--version names the tool and libraries' '
	sp-match --version >out &&
	test_grep "^sp-match [0-9]+\.[0-9]+\.[0-9]+ \(libbson [0-9.]+, PCRE2 [0-9.]+" out &&
	sp-match -V | test_grep "^sp-match " -
'

test_expect_success 'no filter: usage error, exit 2' '
	test_expect_code 2 sp-match </dev/null 2>err &&
	test_grep "no filter given" err &&
	test_grep "^usage:" err
'

test_expect_success 'unknown option: usage error, exit 2' '
	test_expect_code 2 sp-match --frobnicate "{}" </dev/null 2>err &&
	test_grep "^usage:" err
'

test_expect_success 'bad --max-line-bytes: exit 2' '
	test_expect_code 2 sp-match -L 12x "{}" </dev/null 2>err &&
	test_grep "invalid byte count" err &&
	test_expect_code 2 sp-match -L 0 "{}" </dev/null
'

# A bad filter is rejected before input is read: the input here is a FIFO
# nobody writes to, so reading it would hang the test.
reject() {
	pattern=$1
	shift
	mkfifo fifo.$$ 2>/dev/null || :
	test_expect_code 2 sp-match "$@" fifo.$$ >out 2>err
	test_lines 0 out
	test_grep "$pattern" err
	test_lines 1 err
}

test_expect_success 'invalid JSON filter names the offset' '
	reject "^sp-match: filter: invalid JSON at offset [0-9]+" "{\"a\" 1}"
'
test_expect_success 'filter that is not an object' '
	reject "^sp-match: filter: .*object" "[1]"
'
test_expect_success 'unknown operator' '
	reject "^sp-match: filter: .*\\\$foo" "{\"a\": {\"\$foo\": 1}}"
'
test_expect_success 'unknown top-level operator' '
	reject "^sp-match: filter: .*\\\$bar" "{\"\$bar\": 1}"
'
test_expect_success '$in needs an array' '
	reject "^sp-match: filter: .*\\\$in" "{\"a\": {\"\$in\": 1}}"
'
test_expect_success '$where is rejected as Atlas rejects it' '
	reject "^sp-match: filter: .*\\\$where" "{\"\$where\": \"this.a\"}"
'
test_expect_success '$text is rejected' '
	reject "^sp-match: filter: .*\\\$text" "{\"\$text\": {\"\$search\": \"x\"}}"
'
test_expect_success '$near is rejected' '
	reject "^sp-match: filter: .*\\\$near" "{\"a\": {\"\$near\": [0, 0]}}"
'
test_expect_success '$nearSphere is rejected' '
	reject "^sp-match: filter: .*\\\$nearSphere" "{\"a\": {\"\$nearSphere\": [0, 0]}}"
'
test_expect_success 'bad regex' '
	reject "^sp-match: filter: .*regular expression" "{\"a\": {\"\$regex\": \"(\"}}"
'
test_expect_success 'bad regex option' '
	reject "^sp-match: filter: .*(flag|options)" "{\"a\": {\"\$regex\": \"a\", \"\$options\": \"z\"}}" &&
	reject "^sp-match: filter: invalid flag in regex options: z" "{\"a\": {\"\$regex\": \"a\", \"\$options\": 1}}" ||
	reject "^sp-match: filter: .*options" "{\"a\": {\"\$regex\": \"a\", \"\$options\": 1}}"
'
test_expect_success '$mod with a zero divisor' '
	reject "^sp-match: filter: .*" "{\"a\": {\"\$mod\": [0, 1]}}"
'
test_expect_success '$size with a negative size' '
	reject "^sp-match: filter: .*" "{\"a\": {\"\$size\": -1}}"
'
test_expect_success 'unknown expression operator in $expr' '
	reject "^sp-match: filter: .*\\\$nope" "{\"\$expr\": {\"\$nope\": 1}}"
'
test_expect_success 'malformed Extended JSON in the filter' '
	reject "^sp-match: filter: .*oid" "{\"a\": {\"\$oid\": 5}}"
'
test_expect_success '-f reads the filter from a file, and names it' '
	printf "%s\n" "{\"a\": {\"\$gt\": 1}}" >f.json &&
	printf "%s\n" "{\"a\":1}" "{\"a\":2}" | sp-match -f f.json >out &&
	printf "%s\n" "{\"a\":2}" >want &&
	test_cmp want out &&
	printf "%s\n" "{\"a\": {\"\$bad\": 1}}" >bad.json &&
	test_expect_code 2 sp-match -f bad.json </dev/null 2>err &&
	test_grep "^sp-match: bad.json: " err
'
test_expect_success '-f with a missing file: exit 2' '
	test_expect_code 2 sp-match -f nonexistent.json </dev/null 2>err &&
	test_grep "nonexistent.json" err
'
test_done
