#!/bin/sh
# sp-group: options, output order, key equality, dead letters, bad groups.
. "$(dirname "$0")/lib.sh"

test_expect_success '--help prints usage to stdout, exit 0' '
	sp-group --help >out 2>err &&
	test_grep "^usage: sp-group \[-cmpu\]" out &&
	test_grep "--partial" out &&
	test_grep "--merge" out &&
	test_grep "--dlq FILE" out &&
	test_lines 0 err &&
	sp-group -h | test_grep "^usage: sp-group" -
'

test_expect_success '--version names the tool and libraries' '
	sp-group --version >out &&
	test_grep "^sp-group [0-9]+\.[0-9]+\.[0-9]+ \(libbson [0-9.]+, PCRE2 [0-9.]+" out
'

test_expect_success 'no group: usage error, exit 2' '
	test_expect_code 2 sp-group </dev/null 2>err &&
	test_grep "^sp-group: no group given" err &&
	test_grep "^usage:" err
'

test_expect_success 'unknown option and -v: usage error, exit 2' '
	test_expect_code 2 sp-group --frobnicate "{\"_id\": 1}" </dev/null 2>err &&
	test_grep "^usage:" err &&
	test_expect_code 2 sp-group -v "{\"_id\": 1}" </dev/null 2>err &&
	test_grep "^usage:" err
'

# A bad group is rejected before any input is read: the input is a FIFO
# nobody writes to, so reading it would hang the test.
reject() {
	msg=$1
	shift
	mkfifo fifo.$$ 2>/dev/null || :
	test_expect_code 2 sp-group "$@" fifo.$$ >out 2>err
	test_lines 0 out
	printf "%s\n" "$msg" >want.err
	test_cmp want.err err
}

test_expect_success 'bad group: not JSON' '
	reject "sp-group: group: invalid JSON at offset 7: expected '"':'"' after object key" \
	    "{\"_id\" 1}"
'
test_expect_success 'bad group: no _id' '
	reject "sp-group: group: a group specification must include an _id" \
	    "{\"n\": {\"\$count\": {}}}"
'
test_expect_success 'bad group: _id twice' '
	reject "sp-group: group: a group'"'"'s _id may only be specified once" \
	    "{\"_id\": 1, \"_id\": 2}"
'
test_expect_success 'bad group: inclusion-style _id' '
	reject "sp-group: group: \$group does not support inclusion-style expressions" \
	    "{\"_id\": {\"a\": 1}}"
'
test_expect_success 'bad group: a constant n or p that is $$REMOVE (missing)' '
	reject "sp-group: group: Value for '"'"'n'"'"' must be of integral type, but found MISSING" \
	    "{\"_id\": null, \"f\": {\"\$firstN\": {\"n\": \"\$\$REMOVE\", \"input\": \"\$a\"}}}" &&
	reject "sp-group: group: The \$percentile '"'"'p'"'"' field must be an array of numbers from [0.0, 1.0], but found: MISSING" \
	    "{\"_id\": null, \"p\": {\"\$percentile\": {\"p\": \"\$\$REMOVE\", \"input\": \"\$a\", \"method\": \"approximate\"}}}"
'
test_expect_success 'bad group: not an accumulator' '
	reject "sp-group: group: The field '"'"'n'"'"' must be an accumulator object" \
	    "{\"_id\": 1, \"n\": 5}"
'
test_expect_success 'bad group: a dotted field' '
	reject "sp-group: group: The field name '"'"'a.b'"'"' cannot contain '"'"'.'"'"'" \
	    "{\"_id\": 1, \"a.b\": {\"\$sum\": 1}}"
'
test_expect_success 'bad group: an operator as a field' '
	reject "sp-group: group: The field name '"'"'\$a'"'"' cannot be an operator name" \
	    "{\"_id\": 1, \"\$a\": {\"\$sum\": 1}}"
'
test_expect_success 'bad group: a bad expression' '
	reject "sp-group: group: Unrecognized expression '"'"'\$nope'"'"'" \
	    "{\"_id\": {\"\$nope\": 1}}"
'
test_expect_success 'bad group: -f file named in the message' '
	printf "%s\n" "{\"_id\": 1, \"_id\": 2}" >g.json &&
	reject "sp-group: g.json: a group'"'"'s _id may only be specified once" \
	    -f g.json
'
test_expect_success '-f of a file that is not there: exit 2' '
	test_expect_code 2 sp-group -f nope.json </dev/null 2>err &&
	test_grep "^sp-group: nope.json: No such file" err
'

test_expect_success 'groups come out at the end, first seen first' '
	printf "%s\n" "{\"k\":\"b\"}" "{\"k\":\"a\"}" "{\"k\":\"c\"}" \
	    "{\"k\":\"a\"}" "{\"k\":\"b\"}" >in &&
	sp-group "{\"_id\": \"\$k\"}" in >out &&
	printf "%s\n" "{\"_id\":\"b\"}" "{\"_id\":\"a\"}" "{\"_id\":\"c\"}" >want &&
	test_cmp want out
'

test_expect_success 'numbers equal in value are one group; the first kept' '
	printf "%s\n" "{\"k\":{\"\$numberLong\":\"1\"}}" "{\"k\":1}" "{\"k\":1.0}" \
	    "{\"k\":{\"\$numberDecimal\":\"1.00\"}}" "{\"k\":2.5}" \
	    "{\"k\":{\"\$numberDecimal\":\"2.5\"}}" >in &&
	sp-group -c "{\"_id\": \"\$k\"}" in >out &&
	printf "%s\n" "{\"_id\":{\"\$numberLong\":\"1\"}}" \
	    "{\"_id\":{\"\$numberDouble\":\"2.5\"}}" >want &&
	test_cmp want out
'

test_expect_success 'field order matters in a document key' '
	printf "%s\n" "{\"k\":{\"a\":1,\"b\":2}}" "{\"k\":{\"b\":2,\"a\":1}}" \
	    "{\"k\":{\"a\":1.0,\"b\":2}}" >in &&
	sp-group "{\"_id\": \"\$k\"}" in >out &&
	printf "%s\n" "{\"_id\":{\"a\":1,\"b\":2}}" "{\"_id\":{\"b\":2,\"a\":1}}" >want &&
	test_cmp want out
'

test_expect_success 'a plain _id: missing and null are one group' '
	printf "%s\n" "{}" "{\"k\":null}" "{\"k\":1}" >in &&
	sp-group "{\"_id\": \"\$k\"}" in >out &&
	printf "%s\n" "{\"_id\":null}" "{\"_id\":1}" >want &&
	test_cmp want out
'

test_expect_success 'a compound _id: a missing field is left out' '
	printf "%s\n" "{\"k\":null}" "{}" "{\"k\":null}" >in &&
	sp-group "{\"_id\": {\"x\": \"\$k\"}}" in >out &&
	printf "%s\n" "{\"_id\":{\"x\":null}}" "{\"_id\":{}}" >want &&
	test_cmp want out
'

test_expect_success 'a constant _id: one group; none for no input' '
	printf "%s\n" "{\"a\":1}" "{\"b\":2}" >in &&
	sp-group "{\"_id\": {}}" in >out &&
	printf "%s\n" "{\"_id\":{}}" >want &&
	test_cmp want out &&
	sp-group "{\"_id\": null}" </dev/null >out &&
	test_lines 0 out
'

test_expect_success 'files in order, then standard input with -' '
	printf "%s\n" "{\"k\":2}" >a &&
	printf "%s\n" "{\"k\":1}" >b &&
	printf "%s\n" "{\"k\":3}" "{\"k\":1}" | sp-group "{\"_id\": \"\$k\"}" a - b >out &&
	printf "%s\n" "{\"_id\":2}" "{\"_id\":3}" "{\"_id\":1}" >want &&
	test_cmp want out
'

test_expect_success 'a bad line and a failing _id are dead letters; exit 1' '
	printf "%s\n" "{\"d\":2}" "{\"d\":" "{\"d\":0}" "{\"d\":4}" >in &&
	test_expect_code 1 sp-group -d dlq.ndjson \
	    "{\"_id\": {\"\$divide\": [1, \"\$d\"]}}" in >out 2>err &&
	printf "%s\n" "{\"_id\":0.5}" "{\"_id\":0.25}" >want &&
	test_cmp want out &&
	test_lines 0 err &&
	jq -r ".operatorName + \": \" + .errInfo.reason" dlq.ndjson >got &&
	test_grep "^SourceOperator: Failed to parse input message" got &&
	test_grep "^GroupOperator: Failed to process input document in GroupOperator with error: can.t \\\$divide by zero$" got &&
	jq -c ".doc" dlq.ndjson | test_grep "^\{\"d\":0\}$" - &&
	jq -c "._stream_meta.source.line" dlq.ndjson | tr "\n" " " >lines &&
	test_grep "^2 3 $" lines
'

test_expect_success 'an accumulator input that fails: no group changes' '
	printf "%s\n" "{\"k\":1,\"d\":1}" "{\"k\":2,\"d\":0}" "{\"k\":1,\"d\":0}" >in &&
	test_expect_code 1 sp-group -d dlq2.ndjson \
	    "{\"_id\": \"\$k\", \"r\": {\"\$sum\": {\"\$divide\": [1, \"\$d\"]}}, \"n\": {\"\$sum\": 1}}" \
	    in >out &&
	printf "%s\n" "{\"_id\":1,\"r\":1.0,\"n\":1}" >want &&
	test_cmp want out &&
	test_lines 2 dlq2.ndjson
'

test_expect_success '-c writes canonical Extended JSON' '
	printf "%s\n" "{\"k\":1,\"v\":2}" >in &&
	sp-group -c "{\"_id\": \"\$k\", \"s\": {\"\$sum\": \"\$v\"}}" in >out &&
	printf "%s\n" "{\"_id\":{\"\$numberInt\":\"1\"},\"s\":{\"\$numberInt\":\"2\"}}" >want &&
	test_cmp want out
'

test_expect_success '--stats counts records and groups' '
	printf "%s\n" "{\"k\":1}" "{\"k\":2}" "{\"k\":1}" "x" >in &&
	test_expect_code 1 sp-group --stats -d dlq "{\"_id\": \"\$k\"}" in >out 2>err &&
	test_grep "^sp-group: 4 records read, 2 written, 1 dead letters$" err &&
	test_grep "^sp-group: 2 groups, [0-9]+ bytes of state$" err
'

test_expect_success 'a reader that goes away: a quiet stop' '
	i=0 && while [ $i -lt 3000 ]; do echo "{\"k\":$i}"; i=$((i+1)); done >in &&
	sp-group "{\"_id\": \"\$k\"}" in 2>err | head -n 1 >out &&
	test_lines 1 out &&
	test_lines 0 err
'

test_expect_success 'memory grows with groups, not documents' '
	i=0 && while [ $i -lt 2000 ]; do echo "{\"k\":$((i % 3)),\"v\":$i}"; i=$((i+1)); done >in &&
	sp-group --stats "{\"_id\": \"\$k\", \"s\": {\"\$sum\": \"\$v\"}}" in 2>err1 >/dev/null &&
	head -n 30 in | sp-group --stats "{\"_id\": \"\$k\", \"s\": {\"\$sum\": \"\$v\"}}" 2>err2 >/dev/null &&
	sed -n "s/.* groups, \([0-9]*\) bytes.*/\1/p" err1 >b1 &&
	sed -n "s/.* groups, \([0-9]*\) bytes.*/\1/p" err2 >b2 &&
	test_lines 1 b1 &&
	test_cmp b1 b2
'

test_expect_success '-f - with standard input as the input too: a usage error' '
	echo "{\"_id\": null, \"n\": {\"\$count\": {}}}" >g &&
	test_expect_code 2 sp-group -f - <g >out 2>err &&
	test_lines 0 out &&
	test_grep "^sp-group: -f -: standard input holds the spec; name the input files$" err &&
	echo "{\"a\": 1}" | test_expect_code 2 sp-match -f - - >out 2>err &&
	test_grep "^sp-match: -f -: standard input holds the spec" err &&
	printf "%s\n" "{\"a\":1}" >in &&
	sp-group -f - in <g >out &&
	echo "{\"_id\":null,\"n\":1}" >want &&
	test_cmp want out
'

test_expect_success '--partial is canonical whatever -c says' '
	printf "%s\n" "{\"k\":1}" >in &&
	sp-group -p "{\"_id\": \"\$k\"}" in >out &&
	sed "s/,\"\\\$partialOf\":\"[0-9a-f]*\"//" out >got &&
	printf "%s\n" "{\"_id\":{\"\$numberInt\":\"1\"}}" >want &&
	test_cmp want got
'

test_expect_success '--merge: a line that is not a partial is a dead letter' '
	printf "%s\n" "{\"k\":1,\"v\":1}" "{\"k\":2,\"v\":2}" >in &&
	G="{\"_id\": \"\$k\", \"s\": {\"\$sum\": \"\$v\"}}" &&
	sp-group -p "$G" in >p &&
	printf "%s\n" "{\"k\":1}" "{\"s\":1}" "{\"_id\":1,\"s\":1,\"s\":2}" >>p &&
	test_expect_code 1 sp-group -m -d dlq.merge "$G" p >out &&
	printf "%s\n" "{\"_id\":1,\"s\":1}" "{\"_id\":2,\"s\":2}" >want &&
	test_cmp want out &&
	jq -r ".operatorName + \": \" + .errInfo.reason" dlq.merge >got &&
	printf "%s\n" \
	    "GroupOperator: Failed to process input document in GroupOperator with error: not a partial state of this \$group: unknown field '"'"'k'"'"'" \
	    "GroupOperator: Failed to process input document in GroupOperator with error: not a partial state of this \$group: no _id" \
	    "GroupOperator: Failed to process input document in GroupOperator with error: not a partial state of this \$group: field '"'"'s'"'"' given twice" >want &&
	test_cmp want got
'

test_expect_success '--merge --partial writes merged partials, for trees' '
	printf "%s\n" "{\"k\":1,\"v\":1}" "{\"k\":2,\"v\":2}" >a &&
	printf "%s\n" "{\"k\":2,\"v\":3}" "{\"k\":1.0,\"v\":4}" >b &&
	G="{\"_id\": \"\$k\", \"s\": {\"\$sum\": \"\$v\"}}" &&
	sp-group -p "$G" a >pa &&
	sp-group -p "$G" b >pb &&
	sp-group -m -p "$G" pa pb >pab &&
	test_lines 2 pab &&
	sp-group -m "$G" pab >out &&
	sp-group "$G" a b >want &&
	test_cmp want out
'

test_done
