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
# Filters the server refuses (MongoDB 8 parser messages differ; one line).
test_expect_success 'bad $type name or code' '
	reject "^sp-match: filter: .*foo" "{\"a\": {\"\$type\": \"foo\"}}" &&
	reject "^sp-match: filter: .*missing" "{\"a\": {\"\$type\": \"missing\"}}" &&
	reject "^sp-match: filter: .*0" "{\"a\": {\"\$type\": 0}}" &&
	reject "^sp-match: filter: .*20" "{\"a\": {\"\$type\": 20}}" &&
	reject "^sp-match: filter: .*type" "{\"a\": {\"\$type\": [\"string\", null]}}" &&
	reject "^sp-match: filter: .*at least one type" "{\"a\": {\"\$type\": []}}"
'
test_expect_success '$size needs a non-negative integer (find_size.js)' '
	reject "^sp-match: filter: .*\\\$size" "{\"a\": {\"\$size\": 1.5}}" &&
	reject "^sp-match: filter: .*\\\$size" "{\"a\": {\"\$size\": 0.1}}" &&
	reject "^sp-match: filter: .*\\\$size" "{\"a\": {\"\$size\": \"str\"}}" &&
	reject "^sp-match: filter: .*\\\$size" "{\"a\": {\"\$size\": {\"\$numberLong\": \"-10000\"}}}" &&
	reject "^sp-match: filter: .*\\\$size" "{\"a\": {\"\$size\": {\"\$gte\": 3}}}"
'
test_expect_success '$all needs an array, and no operators inside' '
	reject "^sp-match: filter: .*\\\$all" "{\"a\": {\"\$all\": 1}}" &&
	reject "^sp-match: filter: no \\\$ expressions in \\\$all" "{\"a\": {\"\$all\": [{\"\$gt\": 1}]}}" &&
	reject "^sp-match: filter: .*consistent" "{\"a\": {\"\$all\": [{\"\$elemMatch\": {\"b\": 1}}, 1]}}"
'
test_expect_success '$elemMatch needs an object' '
	reject "^sp-match: filter: .*\\\$elemMatch" "{\"a\": {\"\$elemMatch\": 1}}" &&
	reject "^sp-match: filter: .*\\\$elemMatch" "{\"a\": {\"\$elemMatch\": [{\"b\": 1}]}}"
'
test_expect_success '$regex must be a string, $options needs a $regex' '
	reject "^sp-match: filter: .*\\\$regex" "{\"a\": {\"\$regex\": 1}}" &&
	reject "^sp-match: filter: .*\\\$regex" "{\"a\": {\"\$regex\": null}}" &&
	reject "^sp-match: filter: .*\\\$options" "{\"a\": {\"\$options\": \"i\"}}" &&
	reject "^sp-match: filter: .*both" "{\"x\": {\"\$regex\": {\"\$regularExpression\": {\"pattern\": \"ab\", \"options\": \"i\"}}, \"\$options\": \"s\"}}"
'
test_expect_success 'a regex pattern over 32764 bytes (regex_max_pattern_length.js)' '
	long=$(printf "%32766s" "" | tr " " y) &&
	reject "^sp-match: filter: .*longer than the limit" "{\"a\": {\"\$regex\": \"^$long\"}}"
'
test_expect_success '$not needs a regex or a non-empty object (not2.js)' '
	reject "^sp-match: filter: .*\\\$not" "{\"i\": {\"\$not\": \"a\"}}" &&
	reject "^sp-match: filter: .*\\\$not" "{\"i\": {\"\$not\": {}}}" &&
	reject "^sp-match: filter: .*\\\$not" "{\"i\": {\"\$not\": {\"\$not\": \"a\"}}}" &&
	reject "^sp-match: filter: .*\\\$ref" "{\"i\": {\"\$not\": {\"\$ref\": \"foo\"}}}" &&
	reject "^sp-match: filter: .*\\\$regex" "{\"i\": {\"\$not\": {\"\$options\": \"a\"}}}" &&
	reject "^sp-match: filter: .*\\\$not" "{\"\$not\": {\"a\": 1}}"
'
test_expect_success '$and, $or, $nor need a non-empty array of objects' '
	reject "^sp-match: filter: .*\\\$and" "{\"\$and\": []}" &&
	reject "^sp-match: filter: .*\\\$or" "{\"\$or\": []}" &&
	reject "^sp-match: filter: .*\\\$nor" "{\"\$nor\": {}}" &&
	reject "^sp-match: filter: .*\\\$and" "{\"\$and\": [1]}"
'
test_expect_success 'malformed $mod (mod.js, mod_special_values.js)' '
	reject "^sp-match: filter: .*mod" "{\"a\": {\"\$mod\": [10]}}" &&
	reject "^sp-match: filter: .*mod" "{\"a\": {\"\$mod\": [10, 1, 1]}}" &&
	reject "^sp-match: filter: .*mod" "{\"a\": {\"\$mod\": [\"a\", 0]}}" &&
	reject "^sp-match: filter: .*0" "{\"a\": {\"\$mod\": [{\"\$numberDecimal\": \"0.001\"}, 1]}}" &&
	reject "^sp-match: filter: .*NaN" "{\"a\": {\"\$mod\": [{\"\$numberDouble\": \"NaN\"}, 1]}}" &&
	reject "^sp-match: filter: .*" "{\"a\": {\"\$mod\": [1, {\"\$numberDouble\": \"Infinity\"}]}}" &&
	reject "^sp-match: filter: .*" "{\"a\": {\"\$mod\": [1e19, 1]}}"
'
test_expect_success 'operators that cannot take what they are given' '
	reject "^sp-match: filter: .*\\\$in" "{\"a\": {\"\$in\": [{\"\$gt\": 1}]}}" &&
	reject "^sp-match: filter: .*\\\$ne" "{\"a\": {\"\$ne\": {\"\$regularExpression\": {\"pattern\": \"a\", \"options\": \"\"}}}}" &&
	reject "^sp-match: filter: .*RegEx" "{\"a\": {\"\$gt\": {\"\$regularExpression\": {\"pattern\": \"a\", \"options\": \"\"}}}}" &&
	reject "^sp-match: filter: .*undefined" "{\"a\": {\"\$undefined\": true}}" &&
	reject "^sp-match: filter: .*undefined" "{\"a\": {\"\$in\": [{\"\$undefined\": true}]}}" &&
	reject "^sp-match: filter: .*bit" "{\"a\": {\"\$bitsAllSet\": -1}}" &&
	reject "^sp-match: filter: .*bit" "{\"a\": {\"\$bitsAnySet\": [-1]}}" &&
	reject "^sp-match: filter: .*" "{\"a\": {\"\$bitsAllClear\": \"x\"}}"
'
test_expect_success '$expr: unbound variable, and not below $elemMatch (expr.js)' '
	reject "^sp-match: filter: .*unbound" "{\"\$expr\": {\"\$eq\": [\"\$a\", \"\$\$unbound\"]}}" &&
	reject "^sp-match: filter: .*top-level" "{\"a\": {\"\$elemMatch\": {\"\$expr\": {\"\$eq\": [\"\$b\", 5]}}}}"
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
