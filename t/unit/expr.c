/* expr.c: unit tests for the aggregation expression engine (TAP). */
#include <stdlib.h>
#include <string.h>

#include "sp.h"
#include "tap.h"

/*
 * Each case is an expression, a document and the expected result. JSON is
 * written with single quotes (turned into double quotes before parsing)
 * so the table stays readable; values are MongoDB Extended JSON. The
 * expected result is compared as canonical Extended JSON, so the type
 * must match as well as the value. Special results:
 *   "MISSING"     the expression evaluates to missing
 *   "ERR:text"    evaluation fails with exactly this message
 *   "CERR:text"   compilation fails with a message starting with this
 * Expected values come from the MongoDB manual and server sources where
 * they give one (noted "docs").
 */
struct tcase {
	const char *expr;
	const char *doc;
	const char *want;
};

#define D0 "{'$date': {'$numberLong': '0'}}"
#define D5000 "{'$date': {'$numberLong': '5000'}}"
#define DEC(s) "{'$numberDecimal': '" s "'}"
#define LONG(s) "{'$numberLong': '" s "'}"
#define DBL(s) "{'$numberDouble': '" s "'}"
#define NAN_ DBL("NaN")

static const struct tcase cases[] = {
	/* literals */
	{ "5", NULL, "5" },
	{ "'abc'", NULL, "'abc'" },
	{ "true", NULL, "true" },
	{ "null", NULL, "null" },
	{ DEC("1.50"), NULL, DEC("1.50") },
	{ "{}", NULL, "{}" },
	{ "[]", NULL, "[]" },

	/* field paths */
	{ "'$a'", "{'a': 1}", "1" },
	{ "'$a'", "{}", "MISSING" },
	{ "'$a'", "{'a': null}", "null" },
	{ "'$a'", "{'ab': 1, 'A': 2}", "MISSING" },
	{ "'$ab'", "{'a': 1, 'ab': 2}", "2" },
	{ "'$a'", "{'a': 1, 'a': 2}", "1" },
	{ "'$a b.c d'", "{'a b': {'c d': 'sp'}}", "'sp'" },
	{ "'$a.b'", "{'a': {'b': {'c': 1}}}", "{'c': 1}" },
	{ "'$a.b'", "{'a': [{'b': 1}, {'c': 2}, {'b': [3]}]}", "[1, [3]]" },
	{ "'$a.b'", "{'a': 5}", "MISSING" },
	{ "'$a.b'", "{'a': {'c': 5}}", "MISSING" },
	{ "'$a.b'", "{'a': []}", "[]" },
	{ "'$a.b'", "{'a': [1, 'x', null]}", "[]" },
	{ "'$a.b'", "{'a': [[{'b': 1}], {'b': 2}]}", "[2]" },
	{ "'$a.0'", "{'a': [10, 20]}", "[]" },
	{ "'$a.b.c'", "{'a': {'b': [{'c': 1}, {'c': [2]}, {'d': 3}, 4]}}",
	    "[1, [2]]" },
	{ "'$a.b.c'", "{'a': [{'b': [{'c': 1}, {'c': 2}]}, {'b': {'c': 3}}]}",
	    "[[1, 2], 3]" },
	{ "'$a.b'", "{'a': [{'b': " D0 "}, {'b': " DEC("1.5") "}]}",
	    "[" D0 ", " DEC("1.5") "]" },
	{ "'$$ROOT'", "{'a': 1}", "{'a': 1}" },
	{ "'$$CURRENT'", "{'a': 1}", "{'a': 1}" },
	{ "'$$CURRENT.a'", "{'a': 1}", "1" },
	{ "'$$ROOT.a.b'", "{'a': {'b': 2}}", "2" },
	{ "'$$REMOVE'", "{'a': 1}", "MISSING" },
	{ "'$$REMOVE.a'", "{'a': 1}", "MISSING" },
	{ "{'$type': '$$NOW'}", NULL, "'date'" },
	{ "'$'", NULL, "CERR:'$' by itself is not a valid FieldPath" },
	{ "'$a..b'", NULL,
	    "CERR:FieldPath field names may not be empty strings." },
	{ "'$.a'", NULL,
	    "CERR:FieldPath field names may not be empty strings." },
	{ "'$a.'", NULL, "CERR:FieldPath must not end with a '.'." },
	{ "'$a.$b'", NULL, "CERR:FieldPath field names may not start with "
	    "'$'. Consider using $getField or $setField." },
	{ "'$$'", NULL, "CERR:empty variable names are not allowed" },
	{ "'$$foo'", NULL, "CERR:Use of undefined variable: foo" },
	{ "'$$foo.a'", NULL, "CERR:Use of undefined variable: foo" },
	{ "'$$ROOT.'", NULL, "CERR:FieldPath must not end with a '.'." },
	{ "'$$1x'", NULL, "CERR:'1x' starts with an invalid character for a "
	    "user variable name" },
	{ "'$$x-y'", NULL, "CERR:'x-y' contains an invalid character for a "
	    "variable name: '-'" },

	/* object and array expressions */
	{ "{'a': '$x', 'b': '$missing', 'c': {'$add': [1, 2]}}",
	    "{'x': 1}", "{'a': 1, 'c': 3}" },
	{ "{'a': {'b': '$missing'}}", NULL, "{'a': {}}" },
	{ "{'a': [{'b': '$x'}], 'n': null}", "{'x': 2}",
	    "{'a': [{'b': 2}], 'n': null}" },
	{ "['$x', '$missing', 1, ['$x']]", "{'x': 's'}",
	    "['s', null, 1, ['s']]" },
	{ "['$x', '$x']", "{'x': {'$binary': {'base64': 'AQI=', "
	    "'subType': '02'}}}", "[{'$binary': {'base64': 'AQI=', "
	    "'subType': '02'}}, {'$binary': {'base64': 'AQI=', "
	    "'subType': '02'}}]" },
	{ "['$x']", "{'x': {'$regularExpression': {'pattern': 'a.c', "
	    "'options': 'i'}}}", "[{'$regularExpression': {'pattern': "
	    "'a.c', 'options': 'i'}}]" },
	{ "['$x', '$y', '$z', '$w']", "{'x': {'$timestamp': {'t': 5, "
	    "'i': 7}}, 'y': {'$oid': '5f0000000000000000000001'}, "
	    "'z': {'$minKey': 1}, 'w': {'$undefined': true}}",
	    "[{'$timestamp': {'t': 5, 'i': 7}}, {'$oid': "
	    "'5f0000000000000000000001'}, {'$minKey': 1}, "
	    "{'$undefined': true}]" },
	{ "{'a.b': 1}", NULL, "CERR:FieldPath field names may not contain "
	    "'.'. Consider using $getField or $setField." },
	{ "{'a': 1, '$b': 2}", NULL, "CERR:FieldPath field names may not "
	    "start with '$'." },
	{ "{'': 1}", NULL,
	    "CERR:FieldPath field names may not be empty strings." },
	{ "{'a': 1, 'a': 2}", NULL,
	    "CERR:duplicate field name specified in object literal: " },
	{ "{'$add': [1], 'b': 1}", NULL, "CERR:An object representing an "
	    "expression must have exactly one field: " },
	{ "{'$foo': 1}", NULL, "CERR:Unrecognized expression '$foo'" },
	{ "{'$literal': '$a'}", "{'a': 1}", "'$a'" },
	{ "{'$literal': {'$add': [1, 2]}}", NULL, "{'$add': [1, 2]}" },
	{ "{'$literal': [1, '$a']}", NULL, "[1, '$a']" },
	{ "{'$const': 5}", NULL, "5" },

	/* comparison */
	{ "{'$eq': [1, 1.0]}", NULL, "true" },
	{ "{'$eq': [1, " LONG("1") "]}", NULL, "true" },
	{ "{'$eq': [" DEC("1.0") ", 1]}", NULL, "true" },
	{ "{'$eq': ['$missing', null]}", NULL, "false" },
	{ "{'$eq': ['$m1', '$m2']}", NULL, "true" },
	{ "{'$lt': ['$missing', null]}", NULL, "true" },
	{ "{'$lt': [null, 0]}", NULL, "true" },
	{ "{'$gt': ['a', 1]}", NULL, "true" },
	{ "{'$gt': [[], 'z']}", NULL, "true" },
	{ "{'$gt': [" D0 ", 5]}", NULL, "true" },
	{ "{'$eq': ['$a', 5]}", "{'a': [1, 5]}", "false" },
	{ "{'$eq': ['$a', [1, 5]]}", "{'a': [1, 5]}", "true" },
	{ "{'$eq': [{'a': 1, 'b': 2}, {'b': 2, 'a': 1}]}", NULL, "false" },
	{ "{'$eq': [" NAN_ ", " NAN_ "]}", NULL, "true" },
	{ "{'$eq': ['$a', '$a']}", "{'a': " NAN_ "}", "true" },
	{ "{'$eq': [" DEC("NaN") ", " NAN_ "]}", NULL, "true" },
	{ "{'$lt': [" NAN_ ", " DBL("-Infinity") "]}", NULL, "true" },
	{ "{'$eq': [" DEC("0.1") ", 0.1]}", NULL, "false" },
	{ "{'$gt': [" LONG("9007199254740993") ", 9007199254740992.0]}", NULL,
	    "true" },
	{ "{'$ne': [1, 2]}", NULL, "true" },
	{ "{'$ne': ['$a', '$b']}", "{'a': 1, 'b': 1.0}", "false" },
	{ "{'$gte': [2, 2]}", NULL, "true" },
	{ "{'$gte': [1, 2]}", NULL, "false" },
	{ "{'$lte': [3, 2]}", NULL, "false" },
	{ "{'$lte': ['$a', 2]}", "{'a': 2}", "true" },
	{ "{'$lt': ['$a', 2]}", "{'a': 2}", "false" },
	{ "{'$gt': ['$a', 2]}", "{'a': 3}", "true" },
	{ "{'$cmp': [1, 2]}", NULL, "-1" },
	{ "{'$cmp': ['b', 'a']}", NULL, "1" },
	{ "{'$cmp': [2, 2.0]}", "{}", "0" },
	{ "{'$cmp': ['$a', 'x']}", "{'a': 'x'}", "0" },
	{ "{'$eq': [1]}", NULL, "CERR:Expression $eq takes exactly 2 "
	    "arguments. 1 were passed in." },
	{ "{'$gt': [1, 2, 3]}", NULL, "CERR:Expression $gt takes exactly 2 "
	    "arguments. 3 were passed in." },
	{ "{'$cmp': 1}", NULL, "CERR:Expression $cmp takes exactly 2 "
	    "arguments. 1 were passed in." },

	/* boolean */
	{ "{'$and': []}", NULL, "true" },
	{ "{'$or': []}", NULL, "false" },
	{ "{'$and': [1, 'a', [], {}, '']}", NULL, "true" },
	{ "{'$and': [1, 0]}", NULL, "false" },
	{ "{'$and': [true, '$missing']}", NULL, "false" },
	{ "{'$and': '$a'}", "{'a': 1}", "true" },
	{ "{'$or': [null, '$missing', 0, false, " DEC("0") ", " LONG("0")
	    ", 0.0, " DBL("-0.0") ", {'$undefined': true}]}", NULL,
	    "false" },
	{ "{'$or': [0, " NAN_ "]}", NULL, "true" },
	{ "{'$or': [0, " DEC("NaN") "]}", NULL, "true" },
	{ "{'$or': ['$a', false]}", "{'a': 0.1}", "true" },
	{ "{'$not': [0]}", NULL, "true" },
	{ "{'$not': [[]]}", NULL, "false" },
	{ "{'$not': ''}", NULL, "false" },
	{ "{'$not': '$missing'}", NULL, "true" },
	{ "{'$not': '$a'}", "{'a': " DEC("-0.00") "}", "true" },
	{ "{'$not': [1, 2]}", NULL, "CERR:Expression $not takes exactly 1 "
	    "arguments. 2 were passed in." },
	{ "{'$and': [false, {'$divide': ['$a', 0]}]}", "{'a': 1}", "false" },
	{ "{'$or': [true, {'$divide': ['$a', 0]}]}", "{'a': 1}", "true" },
	{ "{'$and': [true, {'$divide': ['$a', 0]}]}", "{'a': 1}",
	    "ERR:can't $divide by zero" },

	/* $in, $size, $isArray, $type, $isNumber */
	{ "{'$in': [2, [1, 2, 3]]}", NULL, "true" },
	{ "{'$in': ['$a', '$arr']}", "{'a': 1, 'arr': [1.0]}", "true" },
	{ "{'$in': ['$a', '$arr']}", "{'a': 5, 'arr': []}", "false" },
	{ "{'$in': ['$missing', [null]]}", NULL, "false" },
	{ "{'$in': [null, [null]]}", NULL, "true" },
	{ "{'$in': [[1], [[1], 2]]}", NULL, "true" },
	{ "{'$in': [1, [[1]]]}", NULL, "false" },
	{ "{'$in': [1, '$missing']}", NULL, "ERR:$in requires an array as a "
	    "second argument, found: missing" },
	{ "{'$in': [1, 'str']}", NULL, "CERR:$in requires an array as a "
	    "second argument, found: string" },
	{ "{'$in': [1]}", NULL, "CERR:Expression $in takes exactly 2 "
	    "arguments. 1 were passed in." },
	{ "{'$size': [[1, 2, 3]]}", NULL, "3" },
	{ "{'$size': '$a'}", "{'a': []}", "0" },
	{ "{'$size': '$a'}", "{'a': [[1, 2], 3]}", "2" },
	{ "{'$size': '$missing'}", NULL, "ERR:The argument to $size must be "
	    "an array, but was of type: missing" },
	{ "{'$size': '$a'}", "{'a': 5}", "ERR:The argument to $size must be "
	    "an array, but was of type: int" },
	{ "{'$size': [1, 2]}", NULL, "CERR:Expression $size takes exactly 1 "
	    "arguments. 2 were passed in." },
	{ "{'$isArray': '$a'}", "{'a': [1]}", "true" },
	{ "{'$isArray': '$a'}", "{'a': 1}", "false" },
	{ "{'$isArray': '$missing'}", NULL, "false" },
	{ "{'$isArray': [[1]]}", NULL, "true" },
	{ "{'$isArray': [1]}", NULL, "false" },
	{ "{'$isArray': [1, 2]}", NULL, "CERR:Expression $isArray takes "
	    "exactly 1 arguments. 2 were passed in." },
	{ "{'$type': '$missing'}", NULL, "'missing'" },
	{ "{'$type': 1}", NULL, "'int'" },
	{ "{'$type': " LONG("1") "}", NULL, "'long'" },
	{ "{'$type': 1.5}", NULL, "'double'" },
	{ "{'$type': " DEC("1") "}", NULL, "'decimal'" },
	{ "{'$type': 'x'}", NULL, "'string'" },
	{ "{'$type': [[]]}", NULL, "'array'" },
	{ "{'$type': {'a': 1}}", NULL, "'object'" },
	{ "{'$type': null}", NULL, "'null'" },
	{ "{'$type': true}", NULL, "'bool'" },
	{ "{'$type': " D0 "}", NULL, "'date'" },
	{ "{'$type': '$a'}", "{'a': {'$oid': '5f0000000000000000000001'}}",
	    "'objectId'" },
	{ "{'$type': '$a'}", "{'a': {'$timestamp': {'t': 1, 'i': 1}}}",
	    "'timestamp'" },
	{ "{'$type': '$a'}", "{'a': {'$minKey': 1}}", "'minKey'" },
	{ "{'$type': '$a'}", "{'a': {'$maxKey': 1}}", "'maxKey'" },
	{ "{'$type': '$a'}", "{'a': {'$undefined': true}}", "'undefined'" },
	{ "{'$type': '$a'}", "{'a': {'$regularExpression': {'pattern': 'x', "
	    "'options': ''}}}", "'regex'" },
	{ "{'$type': '$a'}", "{'a': {'$binary': {'base64': '', "
	    "'subType': '00'}}}", "'binData'" },
	{ "{'$isNumber': 1}", NULL, "true" },
	{ "{'$isNumber': " DEC("1") "}", NULL, "true" },
	{ "{'$isNumber': '1'}", NULL, "false" },
	{ "{'$isNumber': '$missing'}", NULL, "false" },

	/* $add (docs: int + long, promotion, dates) */
	{ "{'$add': [1, 2]}", NULL, "3" },
	{ "{'$add': ['$a', 1]}", "{'a': 2147483647}", LONG("2147483648") },
	{ "{'$add': ['$a', -1]}", "{'a': -2147483648}", LONG("-2147483649") },
	{ "{'$add': [" LONG("1") ", 2]}", NULL, LONG("3") },
	{ "{'$add': ['$a', 1]}", "{'a': " LONG("9223372036854775807") "}",
	    DBL("9223372036854775808") },
	{ "{'$add': ['$a', '$b', 1]}", "{'a': 2147483647, 'b': 2147483647}",
	    LONG("4294967295") },
	{ "{'$add': [1, 2.5]}", NULL, "3.5" },
	{ "{'$add': [0.1, 0.2]}", NULL, DBL("0.30000000000000004") },
	{ "{'$add': [1, " NAN_ "]}", NULL, NAN_ },
	{ "{'$add': [1, null]}", NULL, "null" },
	{ "{'$add': [1, '$missing']}", NULL, "null" },
	{ "{'$add': [null, 'a']}", NULL, "null" },
	{ "{'$add': ['$a', null]}", "{'a': 'x'}", "ERR:$add only supports "
	    "numeric or date types, not string" },
	{ "{'$add': [1, true]}", NULL, "CERR:$add only supports numeric or "
	    "date types, not bool" },
	{ "{'$add': []}", NULL, "0" },
	{ "{'$add': '$a'}", "{'a': 4}", "4" },
	{ "{'$add': ['$d', 1000]}", "{'d': " D0 "}",
	    "{'$date': {'$numberLong': '1000'}}" },
	{ "{'$add': [1000, '$d']}", "{'d': " D0 "}",
	    "{'$date': {'$numberLong': '1000'}}" },
	{ "{'$add': [1.5, '$d']}", "{'d': " D0 "}",
	    "{'$date': {'$numberLong': '2'}}" },
	{ "{'$add': ['$d', 0.5, 0.5]}", "{'d': " D0 "}",
	    "{'$date': {'$numberLong': '2'}}" },
	{ "{'$add': ['$d', " DEC("2.5") "]}", "{'d': " D0 "}",
	    "{'$date': {'$numberLong': '2'}}" },
	{ "{'$add': ['$d', '$d']}", "{'d': " D0 "}",
	    "ERR:only one date allowed in an $add expression" },
	{ "{'$add': ['$d', 1e300]}", "{'d': " D0 "}", "ERR:date overflow" },
	{ "{'$add': ['$d', 1]}",
	    "{'d': {'$date': {'$numberLong': '9223372036854775807'}}}",
	    "ERR:date overflow" },
	{ "{'$add': [" DEC("1.10") ", '$a']}", "{'a': " DEC("2.20") "}",
	    DEC("3.30") },
	{ "{'$add': [" DEC("0.1") ", '$a']}", "{'a': 0.2}",
	    DEC("0.300000000000000") },
	{ "{'$add': [1, '$a']}", "{'a': " DEC("2") "}", DEC("3") },
	{ "{'$add': [1.5, '$a']}", "{'a': " DEC("1") "}",
	    DEC("2.50000000000000") },
	{ "{'$add': [" DEC("-1") ", '$a']}", "{'a': " DEC("1") "}", DEC("0") },
	{ "{'$add': [" DEC("1") ", '$a']}", "{'a': " DEC("1E-40") "}",
	    DEC("1.000000000000000000000000000000000") },
	{ "{'$add': [" DEC("1E+100") ", '$a']}", "{'a': " DEC("1E-100") "}",
	    DEC("1.000000000000000000000000000000000E+100") },
	{ "{'$add': [" DEC("1E+100") ", '$a']}", "{'a': " DEC("-1E-100") "}",
	    DEC("1.000000000000000000000000000000000E+100") },
	{ "{'$subtract': [" DEC("1E+100") ", '$a']}", "{'a': " DEC("1E+66") "}",
	    DEC("9.999999999999999999999999999999999E+99") },
	{ "{'$add': [" DEC("1E+6144") ", '$a']}", "{'a': " DEC("9E+6144") "}",
	    DEC("Infinity") },
	{ "{'$add': [" DEC("NaN") ", '$a']}", "{'a': 1}", DEC("NaN") },
	{ "{'$add': [" DEC("0.5") ", '$a']}",
	    "{'a': " DEC("9999999999999999999999999999999999") "}",
	    DEC("1.000000000000000000000000000000000E+34") },
	{ "{'$add': [" DEC("1.5") ", '$a']}",
	    "{'a': " DEC("9999999999999999999999999999999998") "}",
	    DEC("1.000000000000000000000000000000000E+34") },

	/* $subtract */
	{ "{'$subtract': [5, 3]}", NULL, "2" },
	{ "{'$subtract': ['$a', 1]}", "{'a': -2147483648}",
	    LONG("-2147483649") },
	{ "{'$subtract': ['$a', 1]}", "{'a': " LONG("5") "}", LONG("4") },
	{ "{'$subtract': ['$a', 1]}",
	    "{'a': " LONG("-9223372036854775808") "}",
	    DBL("-9223372036854775808") },
	{ "{'$subtract': [5, 1.5]}", NULL, "3.5" },
	{ "{'$subtract': [" DEC("5.5") ", 1]}", NULL, DEC("4.5") },
	{ "{'$subtract': ['$a', '$b']}", "{'a': " D5000 ", 'b': " D0 "}",
	    LONG("5000") },
	{ "{'$subtract': ['$a', 1000]}", "{'a': " D5000 "}",
	    "{'$date': {'$numberLong': '4000'}}" },
	{ "{'$subtract': ['$a', 1.5]}", "{'a': " D5000 "}",
	    "{'$date': {'$numberLong': '4998'}}" },
	{ "{'$subtract': ['$a', " DEC("999.5") "]}", "{'a': " D5000 "}",
	    "{'$date': {'$numberLong': '4000'}}" },
	{ "{'$subtract': ['$a', 'x']}", "{'a': " D5000 "}",
	    "ERR:can't $subtract string from Date" },
	{ "{'$subtract': ['$a', 1]}",
	    "{'a': {'$date': {'$numberLong': '-9223372036854775808'}}}",
	    "ERR:date overflow" },
	{ "{'$subtract': [1, '$a']}", "{'a': " D0 "}",
	    "ERR:can't $subtract date from int" },
	{ "{'$subtract': ['a', '$b']}", "{'b': 'b'}",
	    "ERR:can't $subtract string from string" },
	{ "{'$subtract': [null, 1]}", NULL, "null" },
	{ "{'$subtract': ['$missing', 'x']}", NULL, "null" },
	{ "{'$subtract': ['$a', null]}", "{'a': " D0 "}", "null" },
	{ "{'$subtract': [1]}", NULL, "CERR:Expression $subtract takes "
	    "exactly 2 arguments. 1 were passed in." },

	/* $multiply */
	{ "{'$multiply': [2, 3]}", NULL, "6" },
	{ "{'$multiply': ['$a', 65536]}", "{'a': 65536}",
	    LONG("4294967296") },
	{ "{'$multiply': ['$a', 4]}", "{'a': " LONG("4611686018427387904") "}",
	    DBL("18446744073709551616") },
	{ "{'$multiply': [" LONG("3") ", 4]}", NULL, LONG("12") },
	{ "{'$multiply': [2, 2.5]}", NULL, "5.0" },
	{ "{'$multiply': [2, " NAN_ "]}", NULL, NAN_ },
	{ "{'$multiply': []}", NULL, "1" },
	{ "{'$multiply': [2, '$missing']}", NULL, "null" },
	{ "{'$multiply': [2, '$a']}", "{'a': 'x'}",
	    "ERR:$multiply only supports numeric types, not string" },
	{ "{'$multiply': [" DEC("1.5") ", 2]}", NULL, DEC("3.0") },
	{ "{'$multiply': [0.1, '$a']}", "{'a': " DEC("3") "}",
	    DEC("0.300000000000000") },
	{ "{'$multiply': [" DEC("-2") ", '$a']}", "{'a': " DEC("0") "}",
	    DEC("-0") },

	/* $divide */
	{ "{'$divide': [6, 3]}", NULL, "2.0" },
	{ "{'$divide': ['$a', 4]}", "{'a': 1}", "0.25" },
	{ "{'$divide': ['$a', 0]}", "{'a': 1}", "ERR:can't $divide by zero" },
	{ "{'$divide': ['$a', 0.0]}", "{'a': 1}",
	    "ERR:can't $divide by zero" },
	{ "{'$divide': [1, 0]}", NULL, "CERR:can't $divide by zero" },
	{ "{'$divide': [1, 'a']}", NULL, "CERR:$divide only supports numeric "
	    "types, not int and string" },
	{ "{'$divide': [null, 0]}", NULL, "null" },
	{ "{'$divide': ['$a', '$missing']}", "{'a': 'x'}", "null" },
	{ "{'$divide': [" DEC("1") ", '$a']}", "{'a': 3}",
	    DEC("0.3333333333333333333333333333333333") },
	{ "{'$divide': [" DEC("2") ", '$a']}", "{'a': 3}",
	    DEC("0.6666666666666666666666666666666667") },
	{ "{'$divide': [" DEC("10") ", '$a']}", "{'a': " DEC("4") "}",
	    DEC("2.5") },
	{ "{'$divide': [" DEC("1.00") ", '$a']}", "{'a': 1}", DEC("1.00") },
	{ "{'$divide': [" DEC("6") ", '$a']}", "{'a': " DEC("2.0") "}",
	    DEC("3") },
	{ "{'$divide': [" DEC("1") ", '$a']}", "{'a': " DEC("1.00") "}",
	    DEC("1") },
	{ "{'$divide': [" DEC("1") ", '$a']}", "{'a': " DEC("-0") "}",
	    "ERR:can't $divide by zero" },

	/* $mod */
	{ "{'$mod': [7, 3]}", NULL, "1" },
	{ "{'$mod': [-7, 3]}", NULL, "-1" },
	{ "{'$mod': [7.5, 2]}", NULL, "1.5" },
	{ "{'$mod': [5, 2.0]}", NULL, "1.0" },
	{ "{'$mod': [" LONG("7") ", 3]}", NULL, LONG("1") },
	{ "{'$mod': [-2147483648, -1]}", NULL, "0" },
	{ "{'$mod': ['$a', 0]}", "{'a': 5}", "ERR:can't $mod by zero" },
	{ "{'$mod': [" DEC("10.5") ", '$a']}", "{'a': 3}", DEC("1.5") },
	{ "{'$mod': [" DEC("-10") ", '$a']}", "{'a': " DEC("3") "}",
	    DEC("-1") },
	{ "{'$mod': [" DEC("1") ", '$a']}", "{'a': " DEC("1E+50") "}",
	    DEC("1") },
	{ "{'$mod': [" DEC("1E+10") ", '$a']}", "{'a': 7}", DEC("4") },
	{ "{'$mod': [1, 'x']}", NULL, "CERR:$mod only supports numeric "
	    "types, not int and string" },
	{ "{'$mod': [null, 'x']}", NULL, "null" },

	/* $abs, $ceil, $floor */
	{ "{'$abs': -5}", NULL, "5" },
	{ "{'$abs': '$a'}", "{'a': -2147483648}", LONG("2147483648") },
	{ "{'$abs': " LONG("-5") "}", NULL, LONG("5") },
	{ "{'$abs': '$a'}", "{'a': " LONG("-9223372036854775808") "}",
	    "ERR:can't take $abs of long long min" },
	{ "{'$abs': -1.5}", NULL, "1.5" },
	{ "{'$abs': " DEC("-1.50") "}", NULL, DEC("1.50") },
	{ "{'$abs': null}", NULL, "null" },
	{ "{'$abs': '$missing'}", NULL, "null" },
	{ "{'$abs': 'x'}", NULL,
	    "CERR:$abs only supports numeric types, not string" },
	{ "{'$ceil': 1.2}", NULL, "2.0" },
	{ "{'$ceil': -1.2}", NULL, DBL("-1.0") },
	{ "{'$ceil': 5}", NULL, "5" },
	{ "{'$ceil': " LONG("5") "}", NULL, LONG("5") },
	{ "{'$ceil': " DEC("1.2") "}", NULL, DEC("2") },
	{ "{'$ceil': " DEC("-1.2") "}", NULL, DEC("-1") },
	{ "{'$ceil': " DBL("Infinity") "}", NULL, DBL("Infinity") },
	{ "{'$ceil': null}", NULL, "null" },
	{ "{'$ceil': '$a'}", "{'a': 'x'}",
	    "ERR:$ceil only supports numeric types, not string" },
	{ "{'$floor': -1.2}", NULL, "-2.0" },
	{ "{'$floor': 1.8}", NULL, "1.0" },
	{ "{'$floor': " DEC("-1.2") "}", NULL, DEC("-2") },
	{ "{'$floor': " DEC("1E+3") "}", NULL, DEC("1000") },
	{ "{'$floor': " NAN_ "}", NULL, NAN_ },

	/* $round and $trunc (docs examples for 19.25, 28.73, -45.39) */
	{ "{'$round': [10.5, 0]}", NULL, "10.0" },
	{ "{'$round': [11.5, 0]}", NULL, "12.0" },
	{ "{'$round': [12.5, 0]}", NULL, "12.0" },
	{ "{'$round': [13.5]}", NULL, "14.0" },
	{ "{'$round': -12.5}", NULL, DBL("-12.0") },
	{ "{'$round': [19.25, 1]}", NULL, "19.2" },
	{ "{'$round': [28.73, 1]}", NULL, "28.7" },
	{ "{'$round': [-45.39, 1]}", NULL, "-45.4" },
	{ "{'$round': [19.25, -1]}", NULL, "20.0" },
	{ "{'$round': [28.73, -1]}", NULL, "30.0" },
	{ "{'$round': [-45.39, -1]}", NULL, "-50.0" },
	{ "{'$round': [19.25, 0]}", NULL, "19.0" },
	{ "{'$round': [2.675, 2]}", NULL, "2.67" },
	{ "{'$round': [1234, -2]}", NULL, "1200" },
	{ "{'$round': [1250, -2]}", NULL, "1200" },
	{ "{'$round': [1350, -2]}", NULL, "1400" },
	{ "{'$round': [1234, 2]}", NULL, "1234" },
	{ "{'$round': [2147483647, -1]}", NULL, LONG("2147483650") },
	{ "{'$round': [" LONG("1250") ", -2]}", NULL, LONG("1200") },
	{ "{'$round': [" LONG("9223372036854775807") ", -1]}", NULL,
	    "CERR:invalid conversion from Decimal128 result in $round "
	    "resulting from arguments: [9223372036854775807, -1]" },
	{ "{'$round': [" DEC("2.345") ", 2]}", NULL, DEC("2.34") },
	{ "{'$round': [" DEC("2.355") ", 2]}", NULL, DEC("2.36") },
	{ "{'$round': [" DEC("2.5") ", 0]}", NULL, DEC("2") },
	{ "{'$round': [" DEC("1.5") ", 3]}", NULL, DEC("1.500") },
	{ "{'$round': [" DEC("Infinity") ", 3]}", NULL, DEC("Infinity") },
	{ "{'$round': [" NAN_ ", 1]}", NULL, NAN_ },
	{ "{'$round': [" DBL("-Infinity") ", 1]}", NULL, DBL("-Infinity") },
	{ "{'$round': [null, 1]}", NULL, "null" },
	{ "{'$round': [1, '$missing']}", NULL, "null" },
	{ "{'$round': [1, 101]}", NULL, "CERR:cannot apply $round with "
	    "precision value 101 value must be in [-20, 100]" },
	{ "{'$round': [1, 1.5]}", NULL, "CERR:precision argument to  $round "
	    "must be a integral value" },
	{ "{'$round': [1, 'x']}", NULL,
	    "CERR:can't convert from BSON type string to long" },
	{ "{'$round': ['x', 1]}", NULL,
	    "CERR:$round only supports numeric types, not string" },
	{ "{'$round': [1, 2, 3]}", NULL, "CERR:Expression $round takes at "
	    "least 1 arguments, and at most 2, but 3 were passed in." },
	{ "{'$round': [1, " LONG("2") "]}", NULL, "1" },
	{ "{'$round': [1.25, 1.0]}", NULL, "1.2" },
	{ "{'$round': [1.25, " DEC("1.0") "]}", NULL, "1.2" },
	{ "{'$round': [1.25, " DEC("1.000000000000000000000000000000001") "]}",
	    NULL, "CERR:precision argument to  $round must be a integral "
	    "value" },
	{ "{'$trunc': [19.25, 1]}", NULL, "19.2" },
	{ "{'$trunc': [28.73, 1]}", NULL, "28.7" },
	{ "{'$trunc': [-45.39, 1]}", NULL, "-45.3" },
	{ "{'$trunc': [19.25, -1]}", NULL, "10.0" },
	{ "{'$trunc': [-45.39, -1]}", NULL, "-40.0" },
	{ "{'$trunc': [28.73, 0]}", NULL, "28.0" },
	{ "{'$trunc': 28.73}", NULL, "28.0" },
	{ "{'$trunc': [1299, -2]}", NULL, "1200" },
	{ "{'$trunc': [" DEC("-2.999") ", 2]}", NULL, DEC("-2.99") },
	{ "{'$trunc': []}", NULL, "CERR:Expression $trunc takes at least 1 "
	    "arguments, and at most 2, but 0 were passed in." },

	/* $exp, $ln, $log, $log10, $pow, $sqrt */
	{ "{'$exp': 0}", NULL, "1.0" },
	{ "{'$exp': 1}", NULL, DBL("2.718281828459045") },
	{ "{'$exp': " DEC("0") "}", NULL, DEC("1") },
	{ "{'$exp': null}", NULL, "null" },
	{ "{'$ln': 1}", NULL, "0.0" },
	{ "{'$ln': " DEC("1") "}", NULL, DEC("0") },
	{ "{'$ln': '$a'}", "{'a': 0}",
	    "ERR:$ln's argument must be a positive number, but is 0" },
	{ "{'$ln': '$a'}", "{'a': -1}",
	    "ERR:$ln's argument must be a positive number, but is -1" },
	{ "{'$ln': '$a'}", "{'a': " DEC("-0.5") "}",
	    "ERR:$ln's argument must be a positive number, but is -0.5" },
	{ "{'$ln': " NAN_ "}", NULL, NAN_ },
	{ "{'$ln': " DEC("NaN") "}", NULL, NAN_ },
	{ "{'$log10': 1000}", NULL, "3.0" },
	{ "{'$log10': " DEC("100") "}", NULL, DEC("2") },
	{ "{'$log10': 0}", NULL, "CERR:$log10's argument must be a positive "
	    "number, but is 0" },
	{ "{'$log': [100, 10]}", NULL, "2.0" },
	{ "{'$log': [" DEC("100") ", 10]}", NULL, DEC("2") },
	{ "{'$log': [8, 1]}", NULL, "CERR:$log's base must be a positive "
	    "number not equal to 1, but is 1" },
	{ "{'$log': [-1, 2]}", NULL, "CERR:$log's argument must be a "
	    "positive number, but is -1" },
	{ "{'$log': ['a', 2]}", NULL,
	    "CERR:$log's argument must be numeric, not string" },
	{ "{'$log': [2, 'a']}", NULL,
	    "CERR:$log's base must be numeric, not string" },
	{ "{'$log': [2, null]}", NULL, "null" },
	{ "{'$pow': [2, 10]}", NULL, "1024" },
	{ "{'$pow': [2, 31]}", NULL, LONG("2147483648") },
	{ "{'$pow': [-2, 31]}", NULL, "-2147483648" },
	{ "{'$pow': [-2, 33]}", NULL, LONG("-8589934592") },
	{ "{'$pow': [" LONG("-2") ", 63]}", NULL,
	    LONG("-9223372036854775808") },
	{ "{'$pow': [2, 63]}", NULL, DBL("9223372036854775808") },
	{ "{'$pow': [" LONG("2") ", 3]}", NULL, LONG("8") },
	{ "{'$pow': [2, -1]}", NULL, "0.5" },
	{ "{'$pow': [-1, 5]}", NULL, "-1" },
	{ "{'$pow': [0, 0]}", NULL, "1" },
	{ "{'$pow': [5, 0]}", NULL, "1" },
	{ "{'$pow': [2, 0.5]}", NULL, DBL("1.4142135623730951") },
	{ "{'$pow': [0, -1]}", NULL, "CERR:$pow cannot take a base of 0 and "
	    "a negative exponent" },
	{ "{'$pow': [" DEC("2") ", 10]}", NULL, DEC("1024") },
	{ "{'$pow': [" DEC("0") ", -1]}", NULL, "CERR:$pow cannot take a base "
	    "of 0 and a negative exponent" },
	{ "{'$pow': ['x', 1]}", NULL,
	    "CERR:$pow's base must be numeric, not string" },
	{ "{'$pow': [1, 'x']}", NULL,
	    "CERR:$pow's exponent must be numeric, not string" },
	{ "{'$pow': [null, 'x']}", NULL, "null" },
	{ "{'$sqrt': 25}", NULL, "5.0" },
	{ "{'$sqrt': '$a'}", "{'a': -1}", "ERR:$sqrt's argument must be "
	    "greater than or equal to 0" },
	{ "{'$sqrt': " NAN_ "}", NULL, NAN_ },
	{ "{'$sqrt': " DEC("4") "}", NULL, DEC("2") },
	{ "{'$sqrt': " DEC("-4") "}", NULL, "CERR:$sqrt's argument must be "
	    "greater than or equal to 0" },
	{ "{'$sqrt': [1, 2]}", NULL, "CERR:Expression $sqrt takes exactly 1 "
	    "arguments. 2 were passed in." },

	/* $cond (docs: qty >= 250 gives discount 30) */
	{ "{'$cond': [true, 1, 2]}", NULL, "1" },
	/* A constant condition picks a branch that is still a field path:
	 * it must not be folded against an empty document. */
	{ "{'$cond': [true, '$a', 0]}", "{'a': 7}", "7" },
	{ "{'$cond': [false, 0, '$a.b']}", "{'a': {'b': 'x'}}", "'x'" },
	{ "{'$cond': {'if': {'$eq': [1, 1]}, 'then': '$$ROOT.a', "
	  "'else': 0}}", "{'a': 3}", "3" },
	{ "{'$add': [{'$cond': [true, '$a', 0]}, 1]}", "{'a': 1}", "2" },
	{ "{'$cond': ['$a', 'yes', 'no']}", "{'a': 0}", "'no'" },
	{ "{'$cond': ['$a', 'yes', 'no']}", "{'a': 'x'}", "'yes'" },
	{ "{'$cond': ['$a', 'yes', 'no']}", "{}", "'no'" },
	{ "{'$cond': {'if': {'$gte': ['$qty', 250]}, 'then': 30, "
	    "'else': 20}}", "{'qty': 300}", "30" },
	{ "{'$cond': {'if': {'$gte': ['$qty', 250]}, 'then': 30, "
	    "'else': 20}}", "{'qty': 200}", "20" },
	{ "{'$cond': {'else': 2, 'then': 1, 'if': false}}", NULL, "2" },
	{ "{'$cond': [false, {'$divide': ['$a', 0]}, 'ok']}", "{'a': 1}",
	    "'ok'" },
	{ "{'$cond': [true, '$missing', 1]}", NULL, "MISSING" },
	{ "{'$cond': {'if': true, 'then': 1}}", NULL,
	    "CERR:Missing 'else' parameter to $cond" },
	{ "{'$cond': {'then': 1, 'else': 2}}", NULL,
	    "CERR:Missing 'if' parameter to $cond" },
	{ "{'$cond': {'if': 1, 'then': 1, 'else': 2, 'foo': 1}}", NULL,
	    "CERR:Unrecognized parameter to $cond: foo" },
	{ "{'$cond': [1, 2]}", NULL, "CERR:Expression $cond takes exactly 3 "
	    "arguments. 2 were passed in." },
	{ "{'$cond': [true, '$a', {'$divide': [1, 0]}]}", NULL,
	    "CERR:can't $divide by zero" },

	/* $ifNull */
	{ "{'$ifNull': ['$missing', 'd']}", NULL, "'d'" },
	{ "{'$ifNull': ['$a', 'd']}", "{'a': null}", "'d'" },
	{ "{'$ifNull': ['$a', 'd']}", "{'a': {'$undefined': true}}", "'d'" },
	{ "{'$ifNull': ['$a', 'd']}", "{'a': 0}", "0" },
	{ "{'$ifNull': ['$a', 'd']}", "{'a': false}", "false" },
	{ "{'$ifNull': [null, '$missing']}", NULL, "MISSING" },
	{ "{'$ifNull': ['$m', null, 3]}", NULL, "3" },
	{ "{'$ifNull': ['$m', '$a', '$b']}", "{'b': 7}", "7" },
	{ "{'$ifNull': ['x']}", NULL,
	    "CERR:$ifNull needs at least two arguments, had: 1" },
	{ "{'$ifNull': 'x'}", NULL,
	    "CERR:$ifNull needs at least two arguments, had: 1" },

	/* $switch */
	{ "{'$switch': {'branches': [{'case': {'$eq': ['$a', 1]}, 'then': "
	    "'one'}, {'case': {'$eq': ['$a', 2]}, 'then': 'two'}], "
	    "'default': 'other'}}", "{'a': 1}", "'one'" },
	{ "{'$switch': {'branches': [{'case': {'$eq': ['$a', 1]}, 'then': "
	    "'one'}, {'case': {'$eq': ['$a', 2]}, 'then': 'two'}], "
	    "'default': 'other'}}", "{'a': 2}", "'two'" },
	{ "{'$switch': {'branches': [{'case': {'$eq': ['$a', 1]}, 'then': "
	    "'one'}, {'case': {'$eq': ['$a', 2]}, 'then': 'two'}], "
	    "'default': 'other'}}", "{'a': 3}", "'other'" },
	{ "{'$switch': {'default': '$missing', 'branches': [{'case': '$a', "
	    "'then': 1}]}}", "{'a': 0}", "MISSING" },
	{ "{'$switch': {'branches': [{'case': '$a', 'then': 1}]}}",
	    "{'a': 0}", "ERR:$switch could not find a matching branch for an "
	    "input, and no default was specified." },
	{ "{'$switch': {'branches': [{'case': false, 'then': 1}, "
	    "{'case': true, 'then': '$a'}]}}", "{'a': 5}", "5" },
	{ "{'$switch': {'branches': [{'case': false, 'then': 1}]}}", NULL,
	    "CERR:One cannot execute a switch statement where all the cases "
	    "evaluate to false without a default." },
	{ "{'$switch': {'branches': []}}", NULL,
	    "CERR:$switch requires at least one branch." },
	{ "{'$switch': {'branches': [{'case': true}]}}", NULL,
	    "CERR:$switch requires each branch have a 'then' expression." },
	{ "{'$switch': {'branches': [{'then': 1}]}}", NULL,
	    "CERR:$switch requires each branch have a 'case' expression" },
	{ "{'$switch': {'branches': [{'case': true, 'then': 1, 'x': 1}]}}",
	    NULL, "CERR:$switch found an unknown argument to a branch: x" },
	{ "{'$switch': {'branches': 1}}", NULL,
	    "CERR:$switch expected an array for 'branches', found: int" },
	{ "{'$switch': {'branches': [1]}}", NULL,
	    "CERR:$switch expected each branch to be an object, found: int" },
	{ "{'$switch': {'branches': [{'case': true, 'then': 1}], 'foo': 1}}",
	    NULL, "CERR:$switch found an unknown argument: foo" },
	{ "{'$switch': 1}", NULL,
	    "CERR:$switch requires an object as an argument, found: int" },

	/* $let and variables */
	{ "{'$let': {'vars': {'x': 2, 'y': '$a'}, 'in': {'$multiply': "
	    "['$$x', '$$y']}}}", "{'a': 3}", "6" },
	{ "{'$let': {'vars': {'x': 1}, 'in': {'$let': {'vars': {'x': 2}, "
	    "'in': '$$x'}}}}", NULL, "2" },
	{ "{'$let': {'vars': {'x': '$a'}, 'in': [{'$let': {'vars': "
	    "{'x': 2}, 'in': '$$x'}}, '$$x']}}", "{'a': 1}", "[2, 1]" },
	{ "{'$let': {'vars': {'x': '$a'}, 'in': '$$x.b'}}",
	    "{'a': {'b': 5}}", "5" },
	{ "{'$let': {'vars': {'x': '$a'}, 'in': '$$x.b'}}",
	    "{'a': [{'b': 1}, {'b': 2}]}", "[1, 2]" },
	{ "{'$let': {'vars': {'x': '$a'}, 'in': '$$x.b'}}", "{'a': 5}",
	    "MISSING" },
	{ "{'$let': {'vars': {'CURRENT': '$sub'}, 'in': '$v'}}",
	    "{'sub': {'v': 7}, 'v': 1}", "7" },
	{ "{'$let': {'vars': {'CURRENT': '$sub'}, 'in': '$$ROOT.v'}}",
	    "{'sub': {'v': 7}, 'v': 1}", "1" },
	{ "{'$let': {'vars': {'x': '$missing'}, 'in': {'$type': '$$x'}}}",
	    NULL, "'missing'" },
	{ "{'$let': {'vars': {}, 'in': 5}}", NULL, "5" },
	{ "{'$let': {'vars': {'a1': 1, 'a2': 2, 'a3': 3, 'a4': 4, 'a5': 5, "
	    "'a6': 6, 'a7': 7, 'a8': 8, 'a9': 9}, 'in': {'$add': ['$$a1', "
	    "'$$a2', '$$a3', '$$a4', '$$a5', '$$a6', '$$a7', '$$a8', "
	    "'$$a9', '$z']}}}", "{'z': 100}", "145" },
	{ "{'$let': {'vars': {'x': 1}}}", NULL,
	    "CERR:Missing 'in' parameter to $let" },
	{ "{'$let': {'in': 1}}", NULL,
	    "CERR:Missing 'vars' parameter to $let" },
	{ "{'$let': {'vars': {'x': 1}, 'in': 1, 'z': 2}}", NULL,
	    "CERR:Unrecognized parameter to $let: z" },
	{ "{'$let': 1}", NULL,
	    "CERR:$let only supports an object as its argument" },
	{ "{'$let': {'vars': 1, 'in': 1}}", NULL,
	    "CERR:invalid parameter: expected an object (vars)" },
	{ "{'$let': {'vars': {'X': 1}, 'in': 1}}", NULL, "CERR:'X' starts "
	    "with an invalid character for a user variable name" },
	{ "{'$let': {'vars': {'x': 1}, 'in': '$$y'}}", NULL,
	    "CERR:Use of undefined variable: y" },
	{ "{'$let': {'vars': {'x': '$$x'}, 'in': 1}}", NULL,
	    "CERR:Use of undefined variable: x" },
	{ "{'$add': [{'$let': {'vars': {'x': 1}, 'in': '$$x'}}, '$$x']}",
	    NULL, "CERR:Use of undefined variable: x" },
};

/* A malloc'd copy of s with ' turned into ". */
static char *
dq(const char *s)
{
	char *p = strdup(s), *q;

	for (q = p; *q != '\0'; q++)
		if (*q == '\'')
			*q = '"';
	return p;
}

/*
 * libbson's JSON parser reads {"$type": ...} as the legacy $binary form, so
 * specs spell it "$TYPE" on the way in and the parsed keys are renamed.
 */
static void
rename_type(bson_iter_t *it, bson_t *dst)
{
	bson_iter_t sub;
	bson_t child;
	const char *key;

	while (bson_iter_next(it)) {
		key = bson_iter_key(it);
		if (strcmp(key, "$TYPE") == 0)
			key = "$type";
		if (BSON_ITER_HOLDS_DOCUMENT(it) || BSON_ITER_HOLDS_ARRAY(it)) {
			bson_iter_recurse(it, &sub);
			if (BSON_ITER_HOLDS_DOCUMENT(it))
				bson_append_document_begin(dst, key, -1,
				    &child);
			else
				bson_append_array_begin(dst, key, -1, &child);
			rename_type(&sub, &child);
			if (BSON_ITER_HOLDS_DOCUMENT(it))
				bson_append_document_end(dst, &child);
			else
				bson_append_array_end(dst, &child);
		} else {
			bson_append_value(dst, key, -1, bson_iter_value(it));
		}
	}
}

/* Parses {"v": <json>} (single-quoted); NULL when it does not parse. */
static bson_t *
parse_wrapped(const char *json)
{
	char *s = malloc(strlen(json) + 16), *d, *p;
	bson_error_t e;
	bson_t *b, *r = NULL;
	bson_iter_t it;

	sprintf(s, "{'v': %s}", json);
	d = dq(s);
	for (p = d; (p = strstr(p, "\"$type\"")) != NULL; p += 6)
		memcpy(p + 1, "$TYPE", 5);
	b = bson_new_from_json((const uint8_t *)d, -1, &e);
	if (b == NULL) {
		printf("# bad test JSON %s: %s\n", d, e.message);
	} else {
		r = bson_new();
		bson_iter_init(&it, b);
		rename_type(&it, r);
		bson_destroy(b);
	}
	free(s);
	free(d);
	return r;
}

/* Canonical Extended JSON of {"v": v}, malloc'd. */
static char *
canon(const bson_value_t *v)
{
	bson_t *b = bson_new();
	char *j, *r;

	BSON_APPEND_VALUE(b, "v", v);
	j = bson_as_canonical_extended_json(b, NULL);
	r = strdup(j);
	bson_free(j);
	bson_destroy(b);
	return r;
}

static void
run_case(const struct tcase *t, struct sp_arena *arena)
{
	struct sp_error err;
	struct sp_expr *e = NULL;
	bson_t *spec, *doc, *want = NULL;
	bson_iter_t it;
	bson_value_t got;
	char *gs = NULL, *ws = NULL, *dj;
	const char *title = t->expr;
	int rc, pass, round;

	spec = parse_wrapped(t->expr);
	if (spec == NULL || !bson_iter_init_find(&it, spec, "v")) {
		ok(0, "parse %s", title);
		return;
	}
	memset(&err, 0, sizeof(err));
	rc = sp_expr_compile(&e, bson_iter_value(&it), &err);
	/* Compiled expressions must not borrow from the spec. */
	bson_destroy(spec);
	if (strncmp(t->want, "CERR:", 5) == 0) {
		pass = rc == -1 && e == NULL &&
		    strncmp(err.msg, t->want + 5, strlen(t->want + 5)) == 0;
		ok(pass, "compile error: %s", title);
		if (!pass)
			printf("#        got: rc %d '%s'\n#   expected: '%s'\n",
			    rc, err.msg, t->want + 5);
		sp_expr_free(e);
		return;
	}
	if (rc != 0) {
		ok(0, "%s", title);
		printf("#   compile failed: %s\n", err.msg);
		return;
	}
	if (t->doc != NULL) {
		dj = dq(t->doc);
		doc = bson_new_from_json((const uint8_t *)dj, -1, NULL);
		free(dj);
	} else {
		doc = bson_new();
	}
	if (strncmp(t->want, "ERR:", 4) != 0 &&
	    strcmp(t->want, "MISSING") != 0) {
		want = parse_wrapped(t->want);
		if (want != NULL && bson_iter_init_find(&it, want, "v"))
			ws = canon(bson_iter_value(&it));
	}
	/* Twice, so the compiled form is shown to be reusable. */
	pass = doc != NULL;
	for (round = 0; round < 2 && pass; round++) {
		memset(&err, 0, sizeof(err));
		rc = sp_expr_eval(e, bson_get_data(doc), doc->len, arena, &got,
		    &err);
		free(gs);
		gs = NULL;
		if (strncmp(t->want, "ERR:", 4) == 0) {
			pass = rc == -1 && strcmp(err.msg, t->want + 4) == 0;
			if (!pass)
				printf("#        got: rc %d '%s'\n#   expected: "
				    "'%s'\n", rc, err.msg, t->want + 4);
		} else if (rc != 0) {
			pass = 0;
			printf("#   eval failed: %s\n", err.msg);
		} else if (strcmp(t->want, "MISSING") == 0) {
			pass = got.value_type == BSON_TYPE_EOD;
			if (!pass)
				printf("#   expected missing, got type %d\n",
				    (int)got.value_type);
		} else if (got.value_type == BSON_TYPE_EOD) {
			pass = 0;
			printf("#   got missing, expected %s\n",
			    ws ? ws : "?");
		} else {
			gs = canon(&got);
			pass = ws != NULL && strcmp(gs, ws) == 0;
			if (!pass)
				printf("#        got: %s\n#   expected: %s\n", gs,
				    ws ? ws : "(unparsable)");
		}
		sp_arena_reset(arena);
	}
	ok(pass, "%s on %s", title, t->doc ? t->doc : "{}");
	free(gs);
	free(ws);
	if (want != NULL)
		bson_destroy(want);
	if (doc != NULL)
		bson_destroy(doc);
	sp_expr_free(e);
}

/* Compiles a single-quoted spec; aborts the test run if it fails. */
static struct sp_expr *
compile_json(const char *json)
{
	struct sp_error err;
	struct sp_expr *e = NULL;
	bson_t *spec = parse_wrapped(json);
	bson_iter_t it;

	if (spec != NULL && bson_iter_init_find(&it, spec, "v") &&
	    sp_expr_compile(&e, bson_iter_value(&it), &err) != 0)
		printf("# compile %s: %s\n", json, err.msg);
	if (spec != NULL)
		bson_destroy(spec);
	return e;
}

/* Scalar arithmetic and comparison must not touch the arena at all. */
static void
test_no_allocation(void)
{
	static const char *const exprs[] = {
		"{'$add': ['$a', 1, 2.5]}",
		"{'$and': [{'$gt': ['$a', 0]}, {'$lt': ['$b.c', 10]}]}",
		"{'$multiply': ['$a', " DEC("1.5") "]}",
		"{'$cond': [{'$eq': ['$b.c', 3]}, {'$mod': ['$a', 2]}, 0]}",
		"{'$let': {'vars': {'x': '$a'}, 'in': {'$pow': ['$$x', 2]}}}",
		"{'$in': ['$a', [1, 2, 3]]}",
	};
	struct sp_arena arena;
	struct sp_error err;
	struct sp_expr *e;
	bson_value_t got;
	bson_t *doc;
	char *dj = dq("{'a': 3, 'b': {'c': 3}}");
	size_t i;

	doc = bson_new_from_json((const uint8_t *)dj, -1, NULL);
	free(dj);
	for (i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		sp_arena_init(&arena);
		e = compile_json(exprs[i]);
		ok(e != NULL && sp_expr_eval(e, bson_get_data(doc), doc->len,
		    &arena, &got, &err) == 0 && arena.head == NULL,
		    "no arena allocation: %s", exprs[i]);
		sp_expr_free(e);
		sp_arena_release(&arena);
	}
	bson_destroy(doc);
}

/* Array results live in the arena and survive until it is reset. */
static void
test_arena_results(void)
{
	struct sp_arena arena;
	struct sp_error err;
	struct sp_expr *e = compile_json("{'k': '$a.b', 'n': {'$size': "
	    "'$a'}}");
	bson_value_t got;
	bson_t *doc, *big;
	char *dj = dq("{'a': [{'b': 1}, {'b': 2}, {'c': 3}]}");
	int i, fails = 0;
	char key[16];

	doc = bson_new_from_json((const uint8_t *)dj, -1, NULL);
	free(dj);
	sp_arena_init(&arena);
	for (i = 0; i < 10000; i++) {
		if (sp_expr_eval(e, bson_get_data(doc), doc->len, &arena, &got,
		    &err) != 0 || got.value_type != BSON_TYPE_DOCUMENT)
			fails++;
		sp_arena_reset(&arena);
	}
	ok(fails == 0, "10000 evaluations with arena resets");
	sp_expr_free(e);

	/* A path through a large array grows the arena buffer. */
	big = bson_new();
	{
		bson_t arr, el;

		bson_append_array_begin(big, "a", 1, &arr);
		for (i = 0; i < 2000; i++) {
			snprintf(key, sizeof(key), "%d", i);
			bson_append_document_begin(&arr, key, -1, &el);
			BSON_APPEND_INT32(&el, "b", i);
			bson_append_document_end(&arr, &el);
		}
		bson_append_array_end(big, &arr);
	}
	e = compile_json("{'$size': '$a.b'}");
	ok(e != NULL && sp_expr_eval(e, bson_get_data(big), big->len, &arena,
	    &got, &err) == 0 && got.value_type == BSON_TYPE_INT32 &&
	    got.value.v_int32 == 2000, "path over a 2000-element array");
	sp_expr_free(e);
	e = compile_json("{'$in': [1999, '$a.b']}");
	ok(e != NULL && sp_expr_eval(e, bson_get_data(big), big->len, &arena,
	    &got, &err) == 0 && got.value_type == BSON_TYPE_BOOL &&
	    got.value.v_bool, "last element of a built array");
	sp_expr_free(e);
	bson_destroy(big);
	bson_destroy(doc);
	sp_arena_release(&arena);
}

/* Builds [[[...[1]...]]] nested depth levels deep under key "v". */
static void
nest(bson_t *parent, const char *key, int depth)
{
	bson_t child;

	if (depth == 0) {
		bson_append_int32(parent, key, -1, 1);
		return;
	}
	bson_append_array_begin(parent, key, -1, &child);
	nest(&child, "0", depth - 1);
	bson_append_array_end(parent, &child);
}

static void
test_depth(void)
{
	struct sp_error err;
	struct sp_expr *e = NULL;
	bson_t *b;
	bson_iter_t it;
	int rc;

	b = bson_new();
	nest(b, "v", 150);
	bson_iter_init_find(&it, b, "v");
	rc = sp_expr_compile(&e, bson_iter_value(&it), &err);
	ok(rc == 0, "150 nested arrays compile");
	sp_expr_free(e);
	bson_destroy(b);

	b = bson_new();
	nest(b, "v", 250);
	bson_iter_init_find(&it, b, "v");
	rc = sp_expr_compile(&e, bson_iter_value(&it), &err);
	ok(rc == -1 && strstr(err.msg, "nested more than 200") != NULL,
	    "250 nested arrays are refused");
	bson_destroy(b);
}

static void
test_truthy(void)
{
	bson_value_t v;

	v.value_type = BSON_TYPE_EOD;
	ok(!sp_value_truthy(&v), "missing is false");
	v.value_type = BSON_TYPE_UTF8;
	v.value.v_utf8.str = (char *)"";
	v.value.v_utf8.len = 0;
	ok(sp_value_truthy(&v), "empty string is true");
	v.value_type = BSON_TYPE_DOUBLE;
	v.value.v_double = -0.0;
	ok(!sp_value_truthy(&v), "-0.0 is false");
	v.value_type = BSON_TYPE_INT64;
	v.value.v_int64 = 1;
	ok(sp_value_truthy(&v), "long 1 is true");
	v.value_type = BSON_TYPE_TIMESTAMP;
	v.value.v_timestamp.timestamp = 0;
	v.value.v_timestamp.increment = 0;
	ok(sp_value_truthy(&v), "timestamp 0 is true");
	sp_expr_free(NULL);
	ok(1, "sp_expr_free(NULL)");
}

int
main(void)
{
	struct sp_arena arena;
	size_t i;

	sp_arena_init(&arena);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i], &arena);
	sp_arena_release(&arena);
	test_no_allocation();
	test_arena_results();
	test_truthy();
	test_depth();
	return done_testing();
}
