/* compare.c: unit tests for lib/compare.c, MongoDB's order over values. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sp.h"
#include "tap.h"

/*
 * Values are built from canonical Extended JSON through libbson and are
 * borrowed views into documents kept here until the end of the run.
 */
#define MAX_DOCS 4096
static bson_t *docs[MAX_DOCS];
static int ndocs;

static void
keep(bson_t *b)
{
	if (ndocs == MAX_DOCS) {
		printf("Bail out! too many test documents\n");
		exit(1);
	}
	docs[ndocs++] = b;
}

static bson_value_t
first_value(bson_t *b)
{
	bson_iter_t it;

	if (!bson_iter_init(&it, b) || !bson_iter_next(&it)) {
		printf("Bail out! empty test document\n");
		exit(1);
	}
	return *bson_iter_value(&it);
}

/*
 * The value of Extended JSON text, written with single quotes for
 * readability: V("{'$numberDecimal':'0.1'}"). No test string needs a
 * literal single quote.
 */
static bson_value_t
V(const char *json)
{
	char buf[4096], *p;
	bson_error_t e;
	bson_t *b;

	snprintf(buf, sizeof(buf), "{'v':%s}", json);
	for (p = buf; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	if ((b = bson_new_from_json((const uint8_t *)buf, -1, &e)) == NULL) {
		printf("Bail out! bad test JSON %s: %s\n", json, e.message);
		exit(1);
	}
	keep(b);
	return first_value(b);
}

/* A string (or symbol) with explicit length, so that it may hold NULs. */
static bson_value_t
S(const char *s, size_t len, bool symbol)
{
	bson_t *b = bson_new();

	if (symbol)
		bson_append_symbol(b, "v", 1, s, (int)len);
	else
		bson_append_utf8(b, "v", 1, s, (int)len);
	keep(b);
	return first_value(b);
}

static bson_value_t
D(double d)
{
	bson_t *b = bson_new();

	bson_append_double(b, "v", 1, d);
	keep(b);
	return first_value(b);
}

static bson_value_t
L(int64_t i)
{
	bson_t *b = bson_new();

	bson_append_int64(b, "v", 1, i);
	keep(b);
	return first_value(b);
}

static bson_value_t
I(int32_t i)
{
	bson_t *b = bson_new();

	bson_append_int32(b, "v", 1, i);
	keep(b);
	return first_value(b);
}

static bson_value_t
DEC(const char *s)
{
	bson_decimal128_t d;
	bson_t *b = bson_new();

	if (!bson_decimal128_from_string(s, &d)) {
		printf("Bail out! bad decimal %s\n", s);
		exit(1);
	}
	bson_append_decimal128(b, "v", 1, &d);
	keep(b);
	return first_value(b);
}

/* A decimal128 from raw bits, for encodings libbson will not produce. */
static bson_value_t
DECRAW(uint64_t high, uint64_t low)
{
	bson_value_t v;

	memset(&v, 0, sizeof(v));
	v.value_type = BSON_TYPE_DECIMAL128;
	v.value.v_decimal128.high = high;
	v.value.v_decimal128.low = low;
	return v;
}

static bson_value_t
missing(void)
{
	bson_value_t v;

	memset(&v, 0, sizeof(v));
	v.value_type = BSON_TYPE_EOD;
	return v;
}

static int
sgn(int c)
{
	return (c > 0) - (c < 0);
}

static char *
show(const bson_value_t *v, char *buf, size_t len)
{
	bson_t *b;
	char *j;

	if (v->value_type == BSON_TYPE_EOD) {
		snprintf(buf, len, "(missing)");
		return buf;
	}
	b = bson_new();
	bson_append_value(b, "v", 1, v);
	j = bson_as_canonical_extended_json(b, NULL);
	snprintf(buf, len, "%s", j ? j : "?");
	bson_free(j);
	bson_destroy(b);
	return buf;
}

/*
 * Checks the sign of compare(a, b) and that compare(b, a) has the
 * opposite sign; the title is printf-style.
 */
static void __attribute__((format(printf, 4, 5)))
check(bson_value_t a, bson_value_t b, int want, const char *fmt, ...)
{
	char sa[256], sb[256], title[512];
	int ab = sgn(sp_value_compare(&a, &b));
	int ba = sgn(sp_value_compare(&b, &a));
	bool good = ab == want && ba == -want;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(title, sizeof(title), fmt, ap);
	va_end(ap);
	ok(good, "%s", title);
	if (!good)
		printf("#   a = %s\n#   b = %s\n#   compare(a,b) %d, "
		       "compare(b,a) %d, wanted %d\n",
		    show(&a, sa, sizeof(sa)), show(&b, sb, sizeof(sb)), ab, ba,
		    want);
}

#define LT(a, b, ...) check((a), (b), -1, __VA_ARGS__)
#define EQ(a, b, ...) check((a), (b), 0, __VA_ARGS__)
#define GT(a, b, ...) check((a), (b), 1, __VA_ARGS__)

/*
 * An ascending table: entries of one group are equal, every group is less
 * than every later group. check_table tests every ordered pair and
 * reports the first few failures in detail, then one summary point.
 */
struct entry {
	int group;
	bson_value_t v;
};

static void
check_table(const struct entry *t, int n, const char *title)
{
	char sa[256], sb[256];
	int i, j, want, got, bad = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			want = sgn(t[i].group - t[j].group);
			got = sgn(sp_value_compare(&t[i].v, &t[j].v));
			if (got == want)
				continue;
			if (bad++ < 10)
				printf("#   %s: [%d] %s vs [%d] %s: got %d, "
				       "wanted %d\n",
				    title, i, show(&t[i].v, sa, sizeof(sa)), j,
				    show(&t[j].v, sb, sizeof(sb)), got, want);
		}
	}
	ok(bad == 0, "%s: all %d ordered pairs (%d wrong)", title, n * n, bad);
}

/* ------------------------------------------------------------- the tests */

static void
test_canonical_type(void)
{
	is_int(sp_canonical_type(BSON_TYPE_MINKEY), -1, "rank MinKey");
	is_int(sp_canonical_type(BSON_TYPE_EOD), 0, "rank missing");
	is_int(sp_canonical_type(BSON_TYPE_UNDEFINED), 0, "rank undefined");
	is_int(sp_canonical_type(BSON_TYPE_NULL), 5, "rank null");
	is_int(sp_canonical_type(BSON_TYPE_INT32), 10, "rank int");
	is_int(sp_canonical_type(BSON_TYPE_INT64), 10, "rank long");
	is_int(sp_canonical_type(BSON_TYPE_DOUBLE), 10, "rank double");
	is_int(sp_canonical_type(BSON_TYPE_DECIMAL128), 10, "rank decimal");
	is_int(sp_canonical_type(BSON_TYPE_UTF8), 15, "rank string");
	is_int(sp_canonical_type(BSON_TYPE_SYMBOL), 15, "rank symbol");
	is_int(sp_canonical_type(BSON_TYPE_DOCUMENT), 20, "rank object");
	is_int(sp_canonical_type(BSON_TYPE_ARRAY), 25, "rank array");
	is_int(sp_canonical_type(BSON_TYPE_BINARY), 30, "rank binData");
	is_int(sp_canonical_type(BSON_TYPE_OID), 35, "rank objectId");
	is_int(sp_canonical_type(BSON_TYPE_BOOL), 40, "rank bool");
	is_int(sp_canonical_type(BSON_TYPE_DATE_TIME), 45, "rank date");
	is_int(sp_canonical_type(BSON_TYPE_TIMESTAMP), 47, "rank timestamp");
	is_int(sp_canonical_type(BSON_TYPE_REGEX), 50, "rank regex");
	is_int(sp_canonical_type(BSON_TYPE_DBPOINTER), 55, "rank dbPointer");
	is_int(sp_canonical_type(BSON_TYPE_CODE), 60, "rank code");
	is_int(sp_canonical_type(BSON_TYPE_CODEWSCOPE), 65, "rank codeWScope");
	is_int(sp_canonical_type(BSON_TYPE_MAXKEY), 127, "rank MaxKey");
}

/* The manual's list, with values chosen to tempt a per-value comparison. */
static void
test_cross_type(void)
{
	struct entry t[] = {
	    {0, V("{'$minKey':1}")},
	    {1, missing()},
	    {1, V("{'$undefined':true}")},
	    {2, V("null")},
	    {3, D(NAN)},
	    {4, D(-INFINITY)},
	    {5, V("1e300")},
	    {6, V("{'$numberDecimal':'Infinity'}")},
	    {7, V("''")},
	    {7, S("", 0, true)},
	    {8, V("'zzzz'")},
	    {9, V("{}")},
	    {10, V("{'z':{'$maxKey':1}}")},
	    {11, V("[]")},
	    {12, V("[{'$maxKey':1}]")},
	    {13, V("{'$binary':{'base64':'','subType':'00'}}")},
	    {14, V("{'$binary':{'base64':'/////w==','subType':'ff'}}")},
	    {15, V("{'$oid':'000000000000000000000000'}")},
	    {16, V("{'$oid':'ffffffffffffffffffffffff'}")},
	    {17, V("false")},
	    {18, V("true")},
	    {19, V("{'$date':{'$numberLong':'-9223372036854775808'}}")},
	    {20, V("{'$date':{'$numberLong':'9223372036854775807'}}")},
	    {21, V("{'$timestamp':{'t':0,'i':0}}")},
	    {22, V("{'$timestamp':{'t':4294967295,'i':4294967295}}")},
	    {23, V("{'$regularExpression':{'pattern':'','options':''}}")},
	    {24, V("{'$regularExpression':{'pattern':'zz','options':'x'}}")},
	    {25,
		V("{'$dbPointer':{'$ref':'a','$id':"
		  "{'$oid':'000000000000000000000000'}}}")},
	    {26,
		V("{'$dbPointer':{'$ref':'zzzzzz','$id':"
		  "{'$oid':'ffffffffffffffffffffffff'}}}")},
	    {27, V("{'$code':''}")},
	    {28, V("{'$code':'zzzz'}")},
	    {29, V("{'$code':'','$scope':{}}")},
	    {30, V("{'$code':'zzzz','$scope':{'a':1}}")},
	    {31, V("{'$maxKey':1}")},
	};
	int n = (int)(sizeof(t) / sizeof(t[0]));

	check_table(t, n, "cross-type order");

	/* The manual's list one step at a time, for readable failures. */
	LT(V("{'$minKey':1}"), V("null"), "MinKey < null");
	LT(missing(), V("null"), "missing < null (callers map it to null)");
	EQ(missing(), V("{'$undefined':true}"), "missing == undefined");
	LT(V("{'$minKey':1}"), missing(), "MinKey < missing");
	LT(V("null"), V("42"), "null < 42");
	LT(V("42"), V("'hello'"), "42 < \"hello\"");
	LT(V("'hello'"), V("{'a':1}"), "\"hello\" < {a:1}");
	LT(V("{'a':1}"), V("[]"), "{a:1} < []");
	LT(V("[]"), V("{'$binary':{'base64':'','subType':'00'}}"),
	    "[] < BinData");
	LT(V("{'$binary':{'base64':'AQID','subType':'00'}}"),
	    V("{'$oid':'000000000000000000000000'}"), "BinData < ObjectId");
	LT(V("{'$oid':'ffffffffffffffffffffffff'}"), V("false"),
	    "ObjectId < false");
	LT(V("true"), V("{'$date':{'$numberLong':'0'}}"), "true < Date");
	LT(V("{'$date':{'$numberLong':'1000'}}"),
	    V("{'$timestamp':{'t':1,'i':0}}"),
	    "Date < Timestamp of the same instant (ranks 45 and 47)");
	LT(V("{'$timestamp':{'t':1,'i':0}}"),
	    V("{'$regularExpression':{'pattern':'a','options':''}}"),
	    "Timestamp < regex");
	LT(V("{'$regularExpression':{'pattern':'a','options':''}}"),
	    V("{'$code':'a'}"), "regex < Code");
	LT(V("{'$code':'z'}"), V("{'$code':'a','$scope':{}}"),
	    "Code < CodeWScope");
	LT(V("{'$code':'z','$scope':{}}"), V("{'$maxKey':1}"),
	    "CodeWScope < MaxKey");
	LT(S("a", 1, false), S("b", 1, true), "string < symbol by content");
	EQ(S("abc", 3, false), S("abc", 3, true), "string == same symbol");
}

/*
 * Numbers: one ascending table across int32, int64, double and decimal128,
 * every type present in a group where it can hold the value exactly.
 */
static void
test_numbers_table(void)
{
	struct entry t[] = {
	    {0, D(NAN)},
	    {0, D(-NAN)},
	    {0, DEC("NaN")},
	    {0, DEC("-NaN")},
	    {1, D(-INFINITY)},
	    {1, DEC("-Infinity")},
	    {2, DEC("-9.999999999999999999999999999999999E+6144")},
	    {3, DEC("-1E+309")},
	    {4, DEC("-1.797693134862315708145274237317044E+308")},
	    {5, D(-DBL_MAX)},
	    {6, DEC("-1.797693134862315708145274237317043E+308")},
	    {7, D(-1e308)},
	    {8, DEC("-1E+308")},
	    {9, D(-0x1.0000000000001p+63)},
	    {10, L(INT64_MIN)},
	    {10, D(-0x1p63)},
	    {10, DEC("-9223372036854775808")},
	    {10, DEC("-9.223372036854775808E+18")},
	    {11, L(INT64_MIN + 1)},
	    {11, DEC("-9223372036854775807")},
	    {12, D(-0x1.fffffffffffffp+62)},
	    {12, L(-9223372036854774784LL)},
	    {13, L(-9007199254740993LL)},
	    {13, DEC("-9007199254740993")},
	    {14, L(-9007199254740992LL)},
	    {14, D(-9007199254740992.0)},
	    {14, DEC("-9007199254740992")},
	    {15, I(INT32_MIN)},
	    {15, L(INT32_MIN)},
	    {15, D(INT32_MIN)},
	    {15, DEC("-2147483648")},
	    {16, D(-1.5)},
	    {16, DEC("-1.50")},
	    {17, I(-1)},
	    {17, L(-1)},
	    {17, D(-1.0)},
	    {17, DEC("-1")},
	    {17, DEC("-1.000")},
	    {17, DEC("-0.1E+1")},
	    {18, D(-0.1)},
	    {19, DEC("-0.1")},
	    {20, D(-0x1p-1074)},
	    {21, DEC("-1E-6176")},
	    {22, I(0)},
	    {22, L(0)},
	    {22, D(0.0)},
	    {22, D(-0.0)},
	    {22, DEC("0")},
	    {22, DEC("-0")},
	    {22, DEC("0.000")},
	    {22, DEC("-0E-6176")},
	    {22, DEC("0E+6111")},
	    {23, DEC("1E-6176")},
	    {24, DEC("4.940656458412465441765687928682213E-324")},
	    {25, D(0x1p-1074)},
	    {26, DEC("4.940656458412465441765687928682214E-324")},
	    {27, DEC("2.225073858507200889024586876085859E-308")},
	    {28, D(0x0.fffffffffffffp-1022)},
	    {29, DEC("2.225073858507200889024586876085860E-308")},
	    {30, D(DBL_MIN)},
	    {31, DEC("0.1")},
	    {31, DEC("1E-1")},
	    {31, DEC("0.1000000000000000000000000000000000")},
	    {32, DEC("0.1000000000000000055511151231257827")},
	    {33, D(0.1)},
	    {34, DEC("0.1000000000000000055511151231257828")},
	    {35, D(0.5)},
	    {35, DEC("0.5")},
	    {35, DEC("5E-1")},
	    {35, DEC("0.50000")},
	    {36, D(0x1.fffffffffffffp-1)},
	    {37, I(1)},
	    {37, L(1)},
	    {37, D(1.0)},
	    {37, DEC("1")},
	    {37, DEC("1.000")},
	    {37, DEC("1000E-3")},
	    {37, DEC("0.001E+3")},
	    {38, D(1.0000000000000002)},
	    {39, D(2147483646.5)},
	    {40, I(INT32_MAX)},
	    {40, L(INT32_MAX)},
	    {40, D(INT32_MAX)},
	    {40, DEC("2147483647")},
	    {41, L(2147483648LL)},
	    {41, DEC("2.147483648E+9")},
	    {42, L(9007199254740991LL)},
	    {42, D(9007199254740991.0)},
	    {43, L(9007199254740992LL)},
	    {43, D(9007199254740992.0)},
	    {43, DEC("9007199254740992")},
	    {44, L(9007199254740993LL)},
	    {44, DEC("9007199254740993")},
	    {44, DEC("9007199254740993.000")},
	    {45, L(9007199254740994LL)},
	    {45, D(9007199254740994.0)},
	    {46, D(0x1.fffffffffffffp+62)},
	    {46, L(9223372036854774784LL)},
	    {47, L(INT64_MAX - 1)},
	    {48, L(INT64_MAX)},
	    {48, DEC("9223372036854775807")},
	    {49, D(0x1p63)},
	    {49, DEC("9223372036854775808")},
	    {49, DEC("9.223372036854775808E+18")},
	    {50, D(0x1.0000000000001p+63)},
	    {51, DEC("1E+308")},
	    {52, D(1e308)},
	    {53, DEC("1.797693134862315708145274237317043E+308")},
	    {54, D(DBL_MAX)},
	    {55, DEC("1.797693134862315708145274237317044E+308")},
	    {56, DEC("1E+309")},
	    {57, DEC("9.999999999999999999999999999999999E+6144")},
	    {58, D(INFINITY)},
	    {58, DEC("Infinity")},
	};
	int n = (int)(sizeof(t) / sizeof(t[0]));

	check_table(t, n, "numbers across int32/int64/double/decimal128");
}

static void
test_numbers_named(void)
{
	/* The reference's own cases. */
	GT(D(0.1), DEC("0.1"), "double 0.1 > Decimal128 0.1");
	GT(L(9007199254740993LL), D(9007199254740992.0),
	    "NumberLong(2^53+1) > 2^53 as double");
	EQ(DEC("1"), I(1), "Decimal 1 == 1");
	EQ(DEC("1"), D(1.0), "Decimal 1 == 1.0");
	EQ(DEC("1"), L(1), "Decimal 1 == NumberLong(1)");
	EQ(DEC("-0"), I(0), "Decimal -0 == 0");
	EQ(DEC("-0"), D(0.0), "Decimal -0 == 0.0");
	EQ(DEC("1.000"), I(1), "Decimal 1.000 == 1");
	EQ(DEC("-1.000"), I(-1), "Decimal -1.000 == -1");
	EQ(D(-0.0), D(0.0), "-0.0 == 0.0");
	EQ(D(-0.0), L(0), "-0.0 == NumberLong(0)");

	/* int64 against double near 2^63 and 2^53: no rounding of the long. */
	LT(L(INT64_MAX), D(0x1p63), "INT64_MAX < 2^63 as double");
	GT(D(0x1p63), L(INT64_MAX), "2^63 as double > INT64_MAX");
	EQ(L(INT64_MIN), D(-0x1p63), "INT64_MIN == -2^63 as double");
	GT(L(INT64_MIN + 1), D(-0x1p63), "INT64_MIN+1 > -2^63 as double");
	LT(D(-0x1.0000000000001p+63), L(INT64_MIN),
	    "double below -2^63 < INT64_MIN");
	LT(L(9007199254740993LL), D(9007199254740994.0),
	    "2^53+1 < 2^53+2 as double");
	GT(L(9007199254740995LL), D(9007199254740994.0),
	    "2^53+3 > 2^53+2 as double");
	LT(L(9007199254740995LL), D(9007199254740996.0),
	    "2^53+3 < 2^53+4 as double");
	GT(L(INT64_MAX), D(9223372036854774784.0),
	    "INT64_MAX > largest double below 2^63");
	LT(L(3), D(3.5), "3 < 3.5");
	GT(L(4), D(3.5), "NumberLong(4) > 3.5");
	GT(L(-3), D(-3.5), "-3 > -3.5");
	LT(I(2), D(2.0000000000000004), "2 < next double above 2");
	GT(L(1), D(0x1p-1074), "1 > smallest denormal");
	LT(L(-1), D(-0x1p-1074), "-1 < -smallest denormal");
	LT(L(INT64_MAX), D(1e308), "INT64_MAX < 1e308");
	GT(L(INT64_MIN), D(-1e308), "INT64_MIN > -1e308");

	/* NaN and the infinities. */
	LT(D(NAN), D(-INFINITY), "NaN < -inf");
	LT(D(NAN), L(INT64_MIN), "NaN < INT64_MIN");
	LT(D(NAN), I(0), "NaN < 0");
	LT(D(NAN), DEC("-Infinity"), "NaN < decimal -Infinity");
	LT(DEC("NaN"), D(-INFINITY), "decimal NaN < -inf");
	LT(DEC("NaN"), L(INT64_MIN), "decimal NaN < INT64_MIN");
	EQ(D(NAN), D(NAN), "NaN == NaN");
	EQ(D(NAN), DEC("NaN"), "double NaN == decimal NaN");
	EQ(DEC("NaN"), DEC("-NaN"), "decimal NaN == decimal -NaN");
	GT(D(NAN), V("null"), "NaN is still a number: > null");
	LT(D(INFINITY), V("''"), "inf is still a number: < \"\"");
	EQ(D(INFINITY), DEC("Infinity"), "inf == decimal Infinity");
	EQ(D(-INFINITY), DEC("-Infinity"), "-inf == decimal -Infinity");
	GT(D(INFINITY), L(INT64_MAX), "inf > INT64_MAX");
	LT(D(-INFINITY), L(INT64_MIN), "-inf < INT64_MIN");
	GT(DEC("Infinity"), D(DBL_MAX), "decimal Infinity > DBL_MAX");
	GT(DEC("Infinity"), DEC("9.999999999999999999999999999999999E+6144"),
	    "decimal Infinity > largest decimal");
	LT(DEC("-Infinity"), I(INT32_MIN), "decimal -Infinity < INT32_MIN");
	LT(DEC("9.999999999999999999999999999999999E+6144"), D(INFINITY),
	    "largest decimal < inf");
	EQ(DEC("-Infinity"), DEC("-Infinity"), "-Infinity == -Infinity");

	/* Decimals against each other across cohorts and signs. */
	EQ(DEC("1E+2"), DEC("100"), "1E+2 == 100");
	LT(DEC("99.99999999999999999999999999999999"), DEC("1E+2"),
	    "99.999... < 1E+2");
	LT(DEC("-100"), DEC("-99.99999999999999999999999999999999"),
	    "-100 < -99.999...");
	LT(DEC("1E-6176"), DEC("2E-6176"), "1E-6176 < 2E-6176");
	LT(DEC("-2E-6176"), DEC("-1E-6176"), "-2E-6176 < -1E-6176");
	LT(DEC("-1E-6176"), DEC("0"), "-1E-6176 < 0");
	GT(DEC("123"), DEC("122"), "123 > 122 (same exponent)");
	LT(DEC("-123"), DEC("-122"), "-123 < -122 (same exponent)");
	EQ(DEC("-0E+10"), DEC("0E-10"), "-0E+10 == 0E-10");
	LT(DEC("-1E-10"), DEC("0E+10"), "-1E-10 < 0E+10");
	GT(DEC("1.2"), DEC("1.19999999999999999999999999999999"),
	    "1.2 > 1.1999...");
	EQ(DEC("1234567890123456789012345678901234"),
	    DEC("1.234567890123456789012345678901234E+33"),
	    "34-digit coefficient in two cohorts");
	GT(DEC("9223372036854775808"), L(INT64_MAX),
	    "decimal 2^63 > INT64_MAX");
	EQ(DEC("-9223372036854775808"), L(INT64_MIN),
	    "decimal -2^63 == INT64_MIN");
	GT(DEC("9223372036854775806.9"), L(INT64_MAX - 1),
	    "decimal fraction just above INT64_MAX-1");
	LT(DEC("9223372036854775805.9"), L(INT64_MAX - 1),
	    "decimal fraction just below INT64_MAX-1");
	GT(DEC("9007199254740993"), D(9007199254740992.0),
	    "decimal 2^53+1 > double 2^53");
	LT(DEC("9007199254740993"), D(9007199254740994.0),
	    "decimal 2^53+1 < double 2^53+2");
	GT(DEC("0.3"), D(0.3), "decimal 0.3 > double 0.3 (0.29999...989)");
	LT(DEC("0.3"), D(0.30000000000000004), "decimal 0.3 < next double");
	LT(D(0.30000000000000004), DEC("0.3000000000000000444089209850062617"),
	    "double 0.1+0.2 < its 34-digit round-up");
	GT(D(0.30000000000000004), DEC("0.3000000000000000444089209850062616"),
	    "double 0.1+0.2 > its 34-digit truncation");
	LT(D(-0.1), DEC("-0.1"), "double -0.1 < decimal -0.1");
	EQ(D(0.375), DEC("0.375"), "double 0.375 == decimal 0.375 (exact)");
	EQ(D(0x1p-1074), D(0x1p-1074), "denormal == itself");

	/*
	 * Near misses from a randomized check against exact rationals: a
	 * decimal within a few ulps of a double, where rounding either one
	 * to the other's type would give the wrong answer.
	 */
	GT(D(0x1.999999999999ap-4), DEC("1.000000000000000055511151E-1"),
	    "near miss: 0.1 against 25 digits of it");
	EQ(D(0x1.0000000000001p+53), DEC("9.00719925474099400000000000E+15"),
	    "near miss: 2^53+2 with trailing zeros");
	EQ(D(0x1.dc92e071c8e17p+63),
	    DEC("1.7170378443979798528000000000000E+19"),
	    "near miss: a double above 2^63, equal");
	GT(D(0x1.3a1afb070f94ap+412),
	    DEC("1.2977577799405661702588090445732E+124"),
	    "near miss: 1.29e124");
	LT(D(-0x1.0a7522a8a0dafp+831),
	    DEC("-1.490439933994369446848628788E+250"), "near miss: -1.49e250");
	LT(D(0x1.d498d49d8e4a6p-15), DEC("5586111477069140373E-23"),
	    "near miss: 5.58e-5");
	GT(D(0x1.dea407cd3cac4p+61), DEC("431121255304721407999999E-5"),
	    "near miss: 4.3e18 against a fraction just below it");
	LT(DEC("1E+301"), D(1e301), "decimal 1E+301 < double 1e301");
}

/*
 * Encodings that are not canonical decode as zero (IEEE 754-2008): a
 * coefficient above 10^34 - 1, or the "11" steering form.
 */
static void
test_decimal_noncanonical(void)
{
	bson_value_t big = DECRAW(0x3040000000000000ULL | 0x0001ed09bead87c0ULL,
	    0x378d8e6400000000ULL); /* coefficient 10^34, exponent 0 */
	bson_value_t big_less =
	    DECRAW(0x3040000000000000ULL | 0x0001ed09bead87c0ULL,
		0x378d8e63ffffffffULL); /* 10^34 - 1 */
	bson_value_t steer =
	    DECRAW(0x6000000000000000ULL | ((uint64_t)6176 << 47) | 5, 7);

	EQ(big, I(0), "coefficient 10^34 reads as 0");
	GT(big_less, DEC("9.999999999999999999999999999999998E+33"),
	    "coefficient 10^34-1 is the largest canonical one");
	EQ(big_less, DEC("9.999999999999999999999999999999999E+33"),
	    "raw 10^34-1 == its string form");
	EQ(steer, D(0.0), "'11' steering bits read as 0");
}

static void
test_nan_and_number_predicates(void)
{
	bson_value_t v;

	v = D(NAN);
	ok(sp_value_is_nan(&v), "is_nan: double NaN");
	v = D(-NAN);
	ok(sp_value_is_nan(&v), "is_nan: double -NaN");
	v = DEC("NaN");
	ok(sp_value_is_nan(&v), "is_nan: decimal NaN");
	v = DEC("-NaN");
	ok(sp_value_is_nan(&v), "is_nan: decimal -NaN");
	v = DECRAW(0x7e00000000000000ULL, 0);
	ok(sp_value_is_nan(&v), "is_nan: decimal sNaN");
	v = D(INFINITY);
	ok(!sp_value_is_nan(&v), "is_nan: not inf");
	v = DEC("Infinity");
	ok(!sp_value_is_nan(&v), "is_nan: not decimal Infinity");
	v = DEC("0");
	ok(!sp_value_is_nan(&v), "is_nan: not decimal 0");
	v = I(0);
	ok(!sp_value_is_nan(&v), "is_nan: not int");
	v = V("'NaN'");
	ok(!sp_value_is_nan(&v), "is_nan: not the string NaN");
	v = missing();
	ok(!sp_value_is_nan(&v), "is_nan: not missing");

	v = I(1);
	ok(sp_value_is_number(&v), "is_number: int32");
	v = L(1);
	ok(sp_value_is_number(&v), "is_number: int64");
	v = D(NAN);
	ok(sp_value_is_number(&v), "is_number: double NaN");
	v = DEC("1");
	ok(sp_value_is_number(&v), "is_number: decimal");
	v = V("true");
	ok(!sp_value_is_number(&v), "is_number: not bool");
	v = V("null");
	ok(!sp_value_is_number(&v), "is_number: not null");
	v = V("'1'");
	ok(!sp_value_is_number(&v), "is_number: not string");
	v = V("{'$date':{'$numberLong':'1'}}");
	ok(!sp_value_is_number(&v), "is_number: not date");
	v = missing();
	ok(!sp_value_is_number(&v), "is_number: not missing");
}

static void
test_strings(void)
{
	struct entry t[] = {
	    {0, S("", 0, false)},
	    {0, S("", 0, true)},
	    {1, S("\0", 1, false)},
	    {2, S("\0\0", 2, false)},
	    {3, S("\0a", 2, true)},
	    {4, S("A", 1, false)},
	    {5, S("Z", 1, false)},
	    {6, S("a", 1, false)},
	    {6, S("a", 1, true)},
	    {7, S("a\0", 2, false)},
	    {8, S("a\0b", 3, false)},
	    {9, S("a\x01", 2, false)},
	    {10, S("ab", 2, false)},
	    {10, S("ab", 2, true)},
	    {11, S("abc", 3, false)},
	    {12, S("b", 1, false)},
	    {13, S("z", 1, false)},
	    {14, S("\xc3\xa9", 2, false)}, /* U+00E9 after 'z' */
	    {15, S("\xef\xbf\xbd", 3, false)},
	    {16, S("\xf0\x9f\x98\x80", 4, false)},
	};

	check_table(t, (int)(sizeof(t) / sizeof(t[0])), "strings (binary)");
	LT(S("a", 1, false), S("a\0", 2, false),
	    "\"a\" < \"a\\0\": the NUL is data, not a terminator");
	EQ(S("a\0b", 3, false), S("a\0b", 3, false), "\"a\\0b\" == itself");
	LT(S("a\0b", 3, false), S("a\0c", 3, false),
	    "bytes after an embedded NUL count");
	LT(V("'B'"), V("'a'"), "no collation: \"B\" < \"a\"");
	LT(V("'10'"), V("'9'"), "no numeric collation: \"10\" < \"9\"");
}

static void
test_objects(void)
{
	struct entry t[] = {
	    {0, V("{}")},
	    {1, V("{'z':{'$minKey':1}}")},
	    {2, V("{'a':null}")},
	    {3, V("{'b':null}")},
	    {4, V("{'a':1}")},
	    {4, V("{'a':1.0}")},
	    {4, V("{'a':{'$numberLong':'1'}}")},
	    {4, V("{'a':{'$numberDecimal':'1.00'}}")},
	    {5, V("{'a':1,'b':1}")},
	    {6, V("{'a':1,'b':'x'}")},
	    {7, V("{'a':2}")},
	    {8, V("{'aa':1}")},
	    {9, V("{'b':1,'a':1}")},
	    {10, V("{'z':100}")},
	    {11, V("{'a':''}")},
	    {12, V("{'a':{}}")},
	    {13, V("{'a':{'b':1}}")},
	    {14, V("{'a':{'b':1,'c':1}}")},
	    {15, V("{'a':{'b':2}}")},
	    {16, V("{'a':{'c':1}}")},
	    {17, V("{'a':{'b':'x'}}")},
	    {18, V("{'a':[]}")},
	    {19, V("{'a':true}")},
	    {20, V("{'a':{'$maxKey':1}}")},
	};

	check_table(t, (int)(sizeof(t) / sizeof(t[0])), "objects");

	/* The rules one at a time. */
	LT(V("{}"), V("{'a':{'$minKey':1}}"), "{} < {a:MinKey}");
	LT(V("{'b':1}"), V("{'a':'x'}"),
	    "value type before field name: {b:1} < {a:'x'}");
	LT(V("{'z':1}"), V("{'a':''}"), "{z:1} < {a:''}");
	LT(V("{'a':5}"), V("{'b':1}"),
	    "field name before value: {a:5} < {b:1}");
	LT(V("{'a':5}"), V("{'aa':1}"), "{a:5} < {aa:1}");
	LT(V("{'a':1,'b':2}"), V("{'b':2,'a':1}"),
	    "field order matters: {a:1,b:2} < {b:2,a:1}");
	LT(V("{'a':1}"), V("{'a':1,'b':{'$minKey':1}}"), "prefix < longer");
	EQ(V("{'a':1,'b':{'c':[1,2]}}"),
	    V("{'a':1.0,'b':{'c':[{'$numberLong':'1'},"
	      "{'$numberDecimal':'2.0'}]}}"),
	    "numerically equal nested documents are equal");
	LT(V("{'a':{'b':{'c':1}}}"), V("{'a':{'b':{'c':2}}}"),
	    "three levels deep: value");
	LT(V("{'a':{'b':{'c':9}}}"), V("{'a':{'b':{'d':1}}}"),
	    "three levels deep: name");
	LT(V("{'a':{'b':{'c':9}}}"), V("{'a':{'b':{'c':'1'}}}"),
	    "three levels deep: type");
	GT(V("{'a':[1]}"), V("{'a':{'0':1}}"),
	    "array value ranks above object value");
	LT(V("{'a':{'$date':{'$numberLong':'5'}}}"),
	    V("{'a':{'$timestamp':{'t':0,'i':0}}}"),
	    "nested Date < nested Timestamp");
	EQ(V("{'a':null}"), V("{'a':null}"), "{a:null} == {a:null}");
	GT(V("{'a':null}"), V("{'a':{'$undefined':true}}"),
	    "{a:null} > {a:undefined}");
	LT(V("{'a':'b'}"), V("{'a':'b\\u0000'}"), "nested strings with NUL");
}

static void
test_arrays(void)
{
	struct entry t[] = {
	    {0, V("[]")},
	    {1, V("[{'$minKey':1}]")},
	    {2, V("[null]")},
	    {3, V("[null,1]")},
	    {4, V("[1]")},
	    {4, V("[1.0]")},
	    {4, V("[{'$numberDecimal':'1'}]")},
	    {5, V("[1,null]")},
	    {6, V("[1,2]")},
	    {6, V("[{'$numberLong':'1'},2.0]")},
	    {7, V("[1,2,0]")},
	    {8, V("[1,3]")},
	    {9, V("[1,'a']")},
	    {10, V("[2]")},
	    {11, V("['a']")},
	    {12, V("[{}]")},
	    {13, V("[[]]")},
	    {14, V("[[1]]")},
	    {15, V("[[1,2]]")},
	    {16, V("[[2]]")},
	    {17, V("[true]")},
	};

	check_table(
	    t, (int)(sizeof(t) / sizeof(t[0])), "arrays (lexicographic)");
	LT(V("[1,2,0]"), V("[1,3]"), "[1,2,0] < [1,3]");
	LT(V("[1,2]"), V("[1,2,0]"), "[1,2] < [1,2,0]");
	GT(V("[]"), V("null"),
	    "[] > null (rank; min-element sort is not this function)");
	GT(V("[]"), V("{'a':1}"), "[] > {a:1}");
	GT(V("[[1]]"), V("['a']"), "[[1]] > [\"a\"]");
	GT(V("[1]"), V("1"), "[1] > 1 (rank)");
	EQ(V("[[1,{'a':[2]}]]"), V("[[1.0,{'a':[{'$numberLong':'2'}]}]]"),
	    "deeply nested equal");
	LT(V("[[1,{'a':[2]}]]"), V("[[1,{'a':[2,0]}]]"),
	    "deeply nested prefix");
}

static void
test_binary(void)
{
	/*
	 * Ascending: raw length (subtype 2 counts its hidden inner int32),
	 * then subtype as an unsigned byte, then the bytes.
	 */
	struct entry t[] = {
	    {0, V("{'$binary':{'base64':'','subType':'00'}}")},
	    {1, V("{'$binary':{'base64':'','subType':'05'}}")},
	    {2, V("{'$binary':{'base64':'/w==','subType':'00'}}")},
	    {3, V("{'$binary':{'base64':'AQ==','subType':'01'}}")},
	    {4, V("{'$binary':{'base64':'AQ==','subType':'03'}}")},
	    {5, V("{'$binary':{'base64':'AQ==','subType':'04'}}")},
	    {6, V("{'$binary':{'base64':'AQ==','subType':'05'}}")},
	    {7, V("{'$binary':{'base64':'AQ==','subType':'80'}}")},
	    {8, V("{'$binary':{'base64':'AP8=','subType':'00'}}")},
	    {9, V("{'$binary':{'base64':'AQA=','subType':'00'}}")},
	    {10, V("{'$binary':{'base64':'AQID','subType':'80'}}")},
	    {11, V("{'$binary':{'base64':'','subType':'02'}}")},
	    {12, V("{'$binary':{'base64':'AAAAAA==','subType':'03'}}")},
	    {13, V("{'$binary':{'base64':'AgAAAAA=','subType':'00'}}")},
	    {14, V("{'$binary':{'base64':'AQ==','subType':'02'}}")},
	    {15, V("{'$binary':{'base64':'Ag==','subType':'02'}}")},
	    {16, V("{'$binary':{'base64':'AgAAAAAA','subType':'00'}}")},
	};
	static const char *const sub[] = {
	    "00", "01", "03", "04", "05", "80", "02"};
	char j1[128], j2[128];
	int k;

	check_table(t, (int)(sizeof(t) / sizeof(t[0])),
	    "binData: length, subtype, bytes");

	/* The server's within_binary_subtype_order, same payload. */
	for (k = 0; k + 1 < 7; k++) {
		snprintf(j1, sizeof(j1),
		    "{'$binary':{'base64':'AQID','subType':'%s'}}", sub[k]);
		snprintf(j2, sizeof(j2),
		    "{'$binary':{'base64':'AQID','subType':'%s'}}", sub[k + 1]);
		LT(V(j1), V(j2), "subtype order 0,1,3,4,5,128,2: %s < %s",
		    sub[k], sub[k + 1]);
	}
	GT(V("{'$binary':{'base64':'AAAAAAA=','subType':'80'}}"),
	    V("{'$binary':{'base64':'AQ==','subType':'02'}}"),
	    "1 byte of subtype 2 counts as 5: ties with 5 bytes of subtype "
	    "128, then 2 < 128");
	LT(V("{'$binary':{'base64':'AQ==','subType':'02'}}"),
	    V("{'$binary':{'base64':'AAAAAAAA','subType':'00'}}"),
	    "1 byte of subtype 2 < 6 bytes of subtype 0");
	GT(V("{'$binary':{'base64':'AQ==','subType':'02'}}"),
	    V("{'$binary':{'base64':'AAAAAA==','subType':'00'}}"),
	    "1 byte of subtype 2 > 4 bytes of subtype 0");
	EQ(V("{'$binary':{'base64':'AQID','subType':'04'}}"),
	    V("{'$binary':{'base64':'AQID','subType':'04'}}"), "equal binData");
	LT(V("{'$binary':{'base64':'AQID','subType':'00'}}"),
	    V("{'$binary':{'base64':'AQIE','subType':'00'}}"),
	    "last byte decides");
}

static void
test_scalars(void)
{
	LT(V("{'$oid':'000000000000000000000000'}"),
	    V("{'$oid':'000000000000000000000001'}"), "oid last byte");
	LT(V("{'$oid':'0fffffffffffffffffffffff'}"),
	    V("{'$oid':'f00000000000000000000000'}"),
	    "oid bytes unsigned, first byte first");
	EQ(V("{'$oid':'5f1d7a2b3c4d5e6f70819203'}"),
	    V("{'$oid':'5f1d7a2b3c4d5e6f70819203'}"), "oid equal");

	LT(V("false"), V("true"), "false < true");
	EQ(V("true"), V("true"), "true == true");
	EQ(V("false"), V("false"), "false == false");

	LT(V("{'$date':{'$numberLong':'-1'}}"),
	    V("{'$date':{'$numberLong':'0'}}"), "date signed: -1 < 0");
	LT(V("{'$date':{'$numberLong':'-9223372036854775808'}}"),
	    V("{'$date':{'$numberLong':'9223372036854775807'}}"),
	    "date extremes");
	EQ(V("{'$date':{'$numberLong':'1700000000000'}}"),
	    V("{'$date':'2023-11-14T22:13:20Z'}"), "date equal");

	LT(V("{'$timestamp':{'t':1,'i':2}}"), V("{'$timestamp':{'t':2,'i':1}}"),
	    "timestamp: t first");
	LT(V("{'$timestamp':{'t':1,'i':1}}"),
	    V("{'$timestamp':{'t':1,'i':4294967295}}"),
	    "timestamp: i unsigned");
	LT(V("{'$timestamp':{'t':1,'i':0}}"),
	    V("{'$timestamp':{'t':4294967295,'i':0}}"),
	    "timestamp: t unsigned");
	EQ(V("{'$timestamp':{'t':7,'i':8}}"), V("{'$timestamp':{'t':7,'i':8}}"),
	    "timestamp equal");

	LT(V("{'$regularExpression':{'pattern':'a','options':''}}"),
	    V("{'$regularExpression':{'pattern':'a','options':'i'}}"),
	    "regex: options break a pattern tie");
	LT(V("{'$regularExpression':{'pattern':'a','options':'x'}}"),
	    V("{'$regularExpression':{'pattern':'ab','options':''}}"),
	    "regex: pattern first");
	LT(V("{'$regularExpression':{'pattern':'a','options':'im'}}"),
	    V("{'$regularExpression':{'pattern':'a','options':'s'}}"),
	    "regex: options as strings");
	EQ(V("{'$regularExpression':{'pattern':'^x','options':'i'}}"),
	    V("{'$regularExpression':{'pattern':'^x','options':'i'}}"),
	    "regex equal");

	LT(V("{'$dbPointer':{'$ref':'zz','$id':"
	     "{'$oid':'ffffffffffffffffffffffff'}}}"),
	    V("{'$dbPointer':{'$ref':'aaa','$id':"
	      "{'$oid':'000000000000000000000000'}}}"),
	    "dbPointer: namespace length first");
	LT(V("{'$dbPointer':{'$ref':'ab','$id':"
	     "{'$oid':'ffffffffffffffffffffffff'}}}"),
	    V("{'$dbPointer':{'$ref':'ac','$id':"
	      "{'$oid':'000000000000000000000000'}}}"),
	    "dbPointer: then namespace bytes");
	LT(V("{'$dbPointer':{'$ref':'ab','$id':"
	     "{'$oid':'000000000000000000000001'}}}"),
	    V("{'$dbPointer':{'$ref':'ab','$id':"
	      "{'$oid':'000000000000000000000002'}}}"),
	    "dbPointer: then ObjectId");
	EQ(V("{'$dbPointer':{'$ref':'ab','$id':"
	     "{'$oid':'000000000000000000000001'}}}"),
	    V("{'$dbPointer':{'$ref':'ab','$id':"
	      "{'$oid':'000000000000000000000001'}}}"),
	    "dbPointer equal");

	LT(V("{'$code':'a'}"), V("{'$code':'b'}"), "code as string");
	LT(V("{'$code':'a'}"), V("{'$code':'a '}"), "code prefix");
	EQ(V("{'$code':'f()'}"), V("{'$code':'f()'}"), "code equal");

	LT(V("{'$code':'a','$scope':{'x':1}}"),
	    V("{'$code':'a','$scope':{'x':2}}"),
	    "codeWScope: scope breaks a code tie");
	LT(V("{'$code':'a','$scope':{'x':2}}"), V("{'$code':'b','$scope':{}}"),
	    "codeWScope: code first");
	LT(V("{'$code':'a','$scope':{'y':1}}"),
	    V("{'$code':'a','$scope':{'x':'1'}}"),
	    "codeWScope: scope compares type, then name");
	LT(V("{'$code':'a','$scope':{'a':2}}"),
	    V("{'$code':'a','$scope':{'b':1}}"),
	    "codeWScope: scope field name before value");
	EQ(V("{'$code':'a','$scope':{'x':1}}"),
	    V("{'$code':'a','$scope':{'x':1.0}}"), "codeWScope equal by value");

	EQ(V("null"), V("null"), "null == null");
	EQ(V("{'$minKey':1}"), V("{'$minKey':1}"), "MinKey == MinKey");
	EQ(V("{'$maxKey':1}"), V("{'$maxKey':1}"), "MaxKey == MaxKey");
	EQ(missing(), missing(), "missing == missing");
	EQ(V("{'$undefined':true}"), V("{'$undefined':true}"),
	    "undefined == undefined");
}

/*
 * A value n levels deep: arrays at odd levels, objects {"k": ...} at even
 * ones, around a leaf int32 (named key when its parent is an object).
 */
static bson_value_t
nested(int n, int32_t leaf, const char *key)
{
	bson_t **lv = calloc((size_t)n + 1, sizeof(*lv));
	const char *name;
	bool ok_ = true;
	int i;

	if (lv == NULL)
		exit(1);
	for (i = 0; i <= n; i++)
		lv[i] = bson_new();
	ok_ &= bson_append_int32(lv[n], n % 2 ? "0" : key, -1, leaf);
	for (i = n; i >= 1; i--) {
		name = i == 1 ? "v" : (i - 1) % 2 ? "0" : "k";
		if (i % 2)
			ok_ &= bson_append_array(lv[i - 1], name, -1, lv[i]);
		else
			ok_ &= bson_append_document(lv[i - 1], name, -1, lv[i]);
		bson_destroy(lv[i]);
	}
	if (!ok_) {
		printf("Bail out! cannot build a %d-level value\n", n);
		exit(1);
	}
	keep(lv[0]);
	free(lv);
	return first_value(docs[ndocs - 1]);
}

static void
test_deep(void)
{
	EQ(nested(2000, 7, "0"), nested(2000, 7, "0"),
	    "2000 levels, equal (no recursion limit)");
	LT(nested(2000, 7, "0"), nested(2000, 8, "0"),
	    "2000 levels, the leaf decides");
	LT(nested(1999, 7, "0"), nested(2001, 7, "0"),
	    "1999 levels < 2001: int leaf vs array at one depth");
	LT(nested(2000, 7, "0"), nested(2002, 7, "0"),
	    "2000 levels < 2002: int leaf vs array, type before name");
	GT(nested(2000, 7, "b"), nested(2000, 9, "a"),
	    "leaf field name decides before its value (depth 2000)");
	LT(V("{'$code':'f','$scope':{'s':{'$code':'g','$scope':{'x':[1]}}}}"),
	    V("{'$code':'f','$scope':{'s':{'$code':'g','$scope':{'x':[2]}}}}"),
	    "CodeWScope inside a scope, decided in its own scope");
	GT(V("{'a':[{'b':[]},2]}"), V("{'a':[{'b':[]},1]}"),
	    "walk resumes after an equal nested level");
	LT(V("{'a':[{'b':[]}],'c':1}"), V("{'a':[{'b':[]}],'c':2}"),
	    "walk pops two levels and resumes");
}

static int
qsort_cmp(const void *a, const void *b)
{
	return sp_value_compare(a, b);
}

/*
 * Every value made so far, against every other: reflexive, antisymmetric
 * in sign, and consistent with a sort (after qsort, no pair i < j
 * compares greater, which fails for any intransitive triple it meets).
 */
static void
test_all_pairs(void)
{
	bson_value_t *all;
	char sa[256], sb[256];
	int n, i, j, ab, ba, bad_refl = 0, bad_sym = 0, bad_sort = 0;
	bson_iter_t it;

	all = calloc((size_t)ndocs + 4, sizeof(*all));
	if (all == NULL)
		exit(1);
	n = 0;
	for (i = 0; i < ndocs; i++) {
		if (bson_iter_init(&it, docs[i]) && bson_iter_next(&it))
			all[n++] = *bson_iter_value(&it);
	}
	all[n++] = missing();
	all[n++] = DECRAW(0x7e00000000000000ULL, 0);
	all[n++] = DECRAW(0x3040000000000000ULL | 0x0001ed09bead87c0ULL,
	    0x378d8e6400000000ULL);

	for (i = 0; i < n; i++) {
		if (sp_value_compare(&all[i], &all[i]) != 0 && bad_refl++ < 5)
			printf("#   not reflexive: %s\n",
			    show(&all[i], sa, sizeof(sa)));
		for (j = i + 1; j < n; j++) {
			ab = sgn(sp_value_compare(&all[i], &all[j]));
			ba = sgn(sp_value_compare(&all[j], &all[i]));
			if (ab != -ba && bad_sym++ < 5)
				printf("#   asymmetric: %s vs %s: %d, %d\n",
				    show(&all[i], sa, sizeof(sa)),
				    show(&all[j], sb, sizeof(sb)), ab, ba);
		}
	}
	ok(bad_refl == 0, "all %d values: compare(a, a) == 0", n);
	ok(bad_sym == 0, "all %d values: sign(a, b) == -sign(b, a) (%d bad)", n,
	    bad_sym);

	qsort(all, (size_t)n, sizeof(*all), qsort_cmp);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (sp_value_compare(&all[i], &all[j]) > 0 &&
			    bad_sort++ < 5)
				printf("#   out of order after sort: %s > %s\n",
				    show(&all[i], sa, sizeof(sa)),
				    show(&all[j], sb, sizeof(sb)));
	ok(bad_sort == 0, "all %d values: sorted order is consistent", n);
	free(all);
}

int
main(void)
{
	int i;

	test_canonical_type();
	test_cross_type();
	test_numbers_table();
	test_numbers_named();
	test_decimal_noncanonical();
	test_nan_and_number_predicates();
	test_strings();
	test_objects();
	test_arrays();
	test_binary();
	test_scalars();
	test_deep();
	test_all_pairs();
	for (i = 0; i < ndocs; i++)
		bson_destroy(docs[i]);
	return done_testing();
}
