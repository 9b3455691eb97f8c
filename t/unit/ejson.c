/* ejson.c: tests for lib/ejson.c (BSON to Extended JSON as mongoexport). */
/*
 * Every expected string below is what mongoexport's writer (the Go
 * driver's bson.MarshalExtJSON over a bson.D, escapeHTML off) printed for
 * the same BSON bytes. Build with -DEJSON_DUMP_HEX to print each document
 * as hex on stderr, one per line, to check them against the driver again.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ejson_int.h"
#include "sp.h"
#include "tap.h"

static struct sp_buf out;

static const char *
ej(const bson_t *doc, unsigned flags)
{
#ifdef EJSON_DUMP_HEX
	if (flags == SP_EJSON_RELAXED) {
		const uint8_t *d = bson_get_data(doc);
		uint32_t i;

		for (i = 0; i < doc->len; i++)
			fprintf(stderr, "%02x", d[i]);
		fputc('\n', stderr);
	}
#endif
	sp_buf_reset(&out);
	sp_ejson_doc(&out, bson_get_data(doc), doc->len, flags);
	return sp_buf_cstr(&out);
}

/* Checks a document in both modes, then frees it. */
static void
check(bson_t *doc, const char *relaxed, const char *canonical, const char *what)
{
	is_str(ej(doc, SP_EJSON_RELAXED), relaxed, "%s (relaxed)", what);
	is_str(ej(doc, SP_EJSON_CANONICAL), canonical, "%s (canonical)", what);
	bson_destroy(doc);
}

/* ------------------------------------------------------------ doubles */

static void
double_case(double v, const char *text)
{
	bson_t *doc = bson_new();
	char relaxed[128], canonical[128];

	BSON_APPEND_DOUBLE(doc, "d", v);
	if (isfinite(v))
		snprintf(relaxed, sizeof(relaxed), "{\"d\":%s}", text);
	else
		snprintf(relaxed, sizeof(relaxed),
		    "{\"d\":{\"$numberDouble\":\"%s\"}}", text);
	snprintf(canonical, sizeof(canonical),
	    "{\"d\":{\"$numberDouble\":\"%s\"}}", text);
	check(doc, relaxed, canonical, text);
}

static void
test_doubles(void)
{
	char buf[SP_DOUBLE_BUFSZ];
	uint64_t seed = 0x9E3779B97F4A7C15u;
	int i, bad = 0;

	double_case(1.0, "1.0");
	double_case(-1.0, "-1.0");
	double_case(0.0, "0.0");
	double_case(-0.0, "-0.0");
	double_case(0.1, "0.1");
	double_case(-1.5, "-1.5");
	double_case(1.0001220703125, "1.0001220703125");
	/* Go's 'G' switches to an exponent at 1e6 and below 1e-4, writes
	 * at least two exponent digits, and adds no ".0" to those. */
	double_case(100000.0, "100000.0");
	double_case(999999.5, "999999.5");
	double_case(1000000.0, "1E+06");
	double_case(1234567.0, "1.234567E+06");
	double_case(1e21, "1E+21");
	double_case(1e-7, "1E-07");
	double_case(0.0001, "0.0001");
	double_case(0.00001, "1E-05");
	double_case(1.5e300, "1.5E+300");
	double_case(123456789012345680000.0, "1.2345678901234568E+20");
	double_case(1.2345678901234568e18, "1.2345678901234568E+18");
	double_case(5e-324, "5E-324");
	double_case(2.2250738585072014e-308, "2.2250738585072014E-308");
	double_case(1.7976931348623157e308, "1.7976931348623157E+308");
	double_case(-1.7976931348623157e308, "-1.7976931348623157E+308");
	double_case(0.1 + 0.2, "0.30000000000000004");
	double_case(9007199254740993.0, "9.007199254740992E+15");
	double_case(1e15, "1E+15");
	double_case(123456.789, "123456.789");
	double_case(23.456, "23.456");
	/* Powers of two have a narrower rounding interval below: for
	 * 2^-1017 the nearest 16-digit decimal reads back as the double
	 * below, so the shortest is the 16-digit decimal above. */
	double_case(ldexp(1, -1017), "7.120236347223045E-307");
	double_case(ldexp(1, 1000), "1.0715086071862673E+301");
	double_case(INFINITY, "Infinity");
	double_case(-INFINITY, "-Infinity");
	double_case(NAN, "NaN");

	/* Whatever the bits, the text reads back as the same double. */
	for (i = 0; i < 100000; i++) {
		double x, back;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		memcpy(&x, &seed, sizeof(x));
		if (!isfinite(x))
			continue;
		sp_ejson_format_double(buf, x);
		back = strtod(buf, NULL);
		if (memcmp(&back, &x, sizeof(x)) != 0 && bad++ < 5)
			printf("# %.17g printed as %s\n", x, buf);
	}
	is_int(bad, 0, "100000 random doubles read back exactly");

	{
		char d[17];
		int dp, nd;

		nd = sp_ejson_double_digits(0.00123, d, &dp);
		ok(nd == 3 && memcmp(d, "123", 3) == 0 && dp == -2,
		    "double_digits 0.00123 is 123, dp -2");
		nd = sp_ejson_double_digits(-0.0, d, &dp);
		ok(nd == 0 && dp == 0, "double_digits -0.0 has no digits");
		nd = sp_ejson_double_digits(1e23, d, &dp);
		ok(nd == 1 && d[0] == '1' && dp == 24,
		    "double_digits 1e23 is 1, dp 24");
	}
}

/* ------------------------------------------------------------ strings */

static void
string_case(const char *s, size_t len, const char *json, const char *what)
{
	bson_t *doc = bson_new();
	char want[512];

	bson_append_utf8(doc, "s", 1, s, (int)len);
	snprintf(want, sizeof(want), "{\"s\":%s}", json);
	check(doc, want, want, what);
}

#define STR(lit, json, what) string_case(lit, sizeof(lit) - 1, json, what)

static void
test_strings(void)
{
	struct sp_buf b;

	STR("", "\"\"", "empty string");
	STR("plain", "\"plain\"", "plain string");
	STR("a\"b\\c", "\"a\\\"b\\\\c\"", "quote and backslash");
	STR("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"", "short escapes");
	STR("\x01\x1f\x0b", "\"\\u0001\\u001f\\u000b\"",
	    "other control characters as lower-case \\u00xx");
	STR("a\0b", "\"a\\u0000b\"", "embedded NUL");
	STR("\x7f<>&'/", "\"\x7f<>&'/\"", "DEL, <, >, &, ' and / stay raw");
	STR("\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e\xe6\x97\xa5",
	    "\"\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e\xe6\x97\xa5\"",
	    "valid UTF-8 stays raw");
	STR("a\xe2\x80\xa8z\xe2\x80\xa9", "\"a\\u2028z\\u2029\"",
	    "U+2028 and U+2029 escaped");
	STR("\xe2\x80\xa7\xe2\x80\xaa", "\"\xe2\x80\xa7\xe2\x80\xaa\"",
	    "U+2027 and U+202A stay raw");
	STR("\xff", "\"\\ufffd\"", "invalid byte");
	STR("\xc0\x80", "\"\\ufffd\\ufffd\"", "overlong NUL, per byte");
	STR("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"", "surrogate");
	STR("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"",
	    "above U+10FFFF");
	STR("x\xe2\x82", "\"x\\ufffd\\ufffd\"", "truncated sequence");
	STR("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"", "U+10FFFF stays raw");
	STR("abcdefghijklmnop\"qrstuvwxyz0123456789\nABCDEFGH\xc3\xa9IJKLMNOPQ",
	    "\"abcdefghijklmnop\\\"qrstuvwxyz0123456789\\nABCDEFGH\xc3\xa9"
	    "IJKLMNOPQ\"",
	    "escapes inside long plain runs");

	{
		bson_t *doc = bson_new();

		bson_append_int32(doc, "k\"e\ty\xe2\x80\xa8", -1, 1);
		check(doc, "{\"k\\\"e\\ty\\u2028\":1}",
		    "{\"k\\\"e\\ty\\u2028\":{\"$numberInt\":\"1\"}}",
		    "keys are escaped");
	}

	sp_buf_init(&b);
	sp_buf_puts(&b, "x=");
	sp_ejson_string(&b, "a\"\n\xe2\x80\xa9", 6);
	is_str(sp_buf_cstr(&b), "x=\"a\\\"\\n\\u2029\"",
	    "sp_ejson_string appends a quoted literal");
	sp_buf_release(&b);
}

/* ----------------------------------------------------------- integers */

static void
test_integers(void)
{
	bson_t *doc = bson_new();

	BSON_APPEND_INT32(doc, "a", 0);
	BSON_APPEND_INT32(doc, "b", -1);
	BSON_APPEND_INT32(doc, "c", INT32_MIN);
	BSON_APPEND_INT32(doc, "d", INT32_MAX);
	BSON_APPEND_INT64(doc, "e", 0);
	BSON_APPEND_INT64(doc, "f", INT64_MIN);
	BSON_APPEND_INT64(doc, "g", INT64_MAX);
	BSON_APPEND_INT64(doc, "h", 1234567890123);
	check(doc,
	    "{\"a\":0,\"b\":-1,\"c\":-2147483648,\"d\":2147483647,\"e\":0,"
	    "\"f\":-9223372036854775808,\"g\":9223372036854775807,"
	    "\"h\":1234567890123}",
	    "{\"a\":{\"$numberInt\":\"0\"},\"b\":{\"$numberInt\":\"-1\"},"
	    "\"c\":{\"$numberInt\":\"-2147483648\"},"
	    "\"d\":{\"$numberInt\":\"2147483647\"},"
	    "\"e\":{\"$numberLong\":\"0\"},"
	    "\"f\":{\"$numberLong\":\"-9223372036854775808\"},"
	    "\"g\":{\"$numberLong\":\"9223372036854775807\"},"
	    "\"h\":{\"$numberLong\":\"1234567890123\"}}",
	    "int32 and int64");
}

/* -------------------------------------------------------------- dates */

static void
date_case(int64_t ms, const char *relaxed)
{
	bson_t *doc = bson_new();
	char want_r[128], want_c[128];

	BSON_APPEND_DATE_TIME(doc, "t", ms);
	snprintf(want_c, sizeof(want_c),
	    "{\"t\":{\"$date\":{\"$numberLong\":\"%lld\"}}}", (long long)ms);
	if (relaxed != NULL)
		snprintf(want_r, sizeof(want_r), "{\"t\":{\"$date\":\"%s\"}}",
		    relaxed);
	else
		memcpy(want_r, want_c, sizeof(want_r));
	check(doc, want_r, want_c, relaxed ? relaxed : want_c);
}

static void
test_dates(void)
{
	/* The Go layout "...05.999Z07:00" trims zero milliseconds. */
	date_case(0, "1970-01-01T00:00:00Z");
	date_case(120, "1970-01-01T00:00:00.12Z");
	date_case(123, "1970-01-01T00:00:00.123Z");
	date_case(100, "1970-01-01T00:00:00.1Z");
	date_case(5, "1970-01-01T00:00:00.005Z");
	date_case(50, "1970-01-01T00:00:00.05Z");
	date_case(1356351330500, "2012-12-24T12:15:30.5Z");
	date_case(951782400000, "2000-02-29T00:00:00Z");
	date_case(4107542399999, "2100-02-28T23:59:59.999Z");
	date_case(253402300799999, "9999-12-31T23:59:59.999Z");
	/* Before 1970 or after 9999: $numberLong even when relaxed. */
	date_case(-1, NULL);
	date_case(-284643869500, NULL);
	date_case(253402300800000, NULL);
	date_case(INT64_MIN, NULL);
	date_case(INT64_MAX, NULL);
}

/* ------------------------------------------------------ other types */

static void
binary_case(bson_subtype_t st, const char *data, uint32_t len, const char *json,
    const char *what)
{
	bson_t *doc = bson_new();

	bson_append_binary(doc, "b", 1, st, (const uint8_t *)data, len);
	check(doc, json, json, what);
}

static void
test_binary(void)
{
	binary_case(BSON_SUBTYPE_BINARY, "", 0,
	    "{\"b\":{\"$binary\":{\"base64\":\"\",\"subType\":\"00\"}}}",
	    "empty binary");
	binary_case(BSON_SUBTYPE_BINARY, "f", 1,
	    "{\"b\":{\"$binary\":{\"base64\":\"Zg==\",\"subType\":\"00\"}}}",
	    "base64 with ==");
	binary_case(BSON_SUBTYPE_FUNCTION, "fo", 2,
	    "{\"b\":{\"$binary\":{\"base64\":\"Zm8=\",\"subType\":\"01\"}}}",
	    "base64 with =, subtype 1");
	binary_case(BSON_SUBTYPE_BINARY_DEPRECATED, "foo", 3,
	    "{\"b\":{\"$binary\":{\"base64\":\"Zm9v\",\"subType\":\"02\"}}}",
	    "old binary without its inner length");
	binary_case(BSON_SUBTYPE_BINARY_DEPRECATED, "", 0,
	    "{\"b\":{\"$binary\":{\"base64\":\"AAAAAA==\","
	    "\"subType\":\"02\"}}}",
	    "empty old binary shows its zero length, as Go does");
	binary_case(BSON_SUBTYPE_UUID_DEPRECATED,
	    "\x73\xff\xd2\x64\x44\xb3\x4c\x69\x90\xe8\xe7\xd1\xdf\xc0\x35\xd4",
	    16,
	    "{\"b\":{\"$binary\":{\"base64\":\"c//SZESzTGmQ6OfR38A11A==\","
	    "\"subType\":\"03\"}}}",
	    "uuid subtype 3");
	binary_case(BSON_SUBTYPE_UUID,
	    "\x73\xff\xd2\x64\x44\xb3\x4c\x69\x90\xe8\xe7\xd1\xdf\xc0\x35\xd4",
	    16,
	    "{\"b\":{\"$binary\":{\"base64\":\"c//SZESzTGmQ6OfR38A11A==\","
	    "\"subType\":\"04\"}}}",
	    "uuid subtype 4 stays $binary");
	binary_case(BSON_SUBTYPE_MD5, "\xfb\xff\xbf", 3,
	    "{\"b\":{\"$binary\":{\"base64\":\"+/+/\",\"subType\":\"05\"}}}",
	    "md5, + and /");
	binary_case(BSON_SUBTYPE_ENCRYPTED, "x", 1,
	    "{\"b\":{\"$binary\":{\"base64\":\"eA==\",\"subType\":\"06\"}}}",
	    "encrypted subtype 6");
	binary_case((bson_subtype_t)7, "xyzw", 4,
	    "{\"b\":{\"$binary\":{\"base64\":\"eHl6dw==\","
	    "\"subType\":\"07\"}}}",
	    "subtype 7");
	binary_case((bson_subtype_t)8, "x", 1,
	    "{\"b\":{\"$binary\":{\"base64\":\"eA==\",\"subType\":\"08\"}}}",
	    "subtype 8");
	binary_case(BSON_SUBTYPE_USER, "\x01\x02\x03\x04\x05", 5,
	    "{\"b\":{\"$binary\":{\"base64\":\"AQIDBAU=\","
	    "\"subType\":\"80\"}}}",
	    "user subtype as lower-case hex");
	binary_case((bson_subtype_t)0xff, "x", 1,
	    "{\"b\":{\"$binary\":{\"base64\":\"eA==\",\"subType\":\"ff\"}}}",
	    "subtype ff");
}

/* {"r": /pattern/options}, written by hand: see test_other_types. */
static void
regex_case(const char *pattern, const char *options, const char *json,
    const char *what)
{
	size_t pl = strlen(pattern), ol = strlen(options);
	uint32_t len = (uint32_t)(4 + 1 + 2 + pl + 1 + ol + 1 + 1);
	uint8_t buf[256], *p = buf;
	bson_t doc;

	*p++ = (uint8_t)len;
	*p++ = (uint8_t)(len >> 8);
	*p++ = 0;
	*p++ = 0;
	*p++ = BSON_TYPE_REGEX;
	memcpy(p, "r", 2);
	p += 2;
	memcpy(p, pattern, pl + 1);
	p += pl + 1;
	memcpy(p, options, ol + 1);
	p += ol + 1;
	*p++ = 0;
	if (!bson_init_static(&doc, buf, (size_t)(p - buf))) {
		ok(0, "%s: valid BSON", what);
		return;
	}
	is_str(ej(&doc, SP_EJSON_RELAXED), json, "%s (relaxed)", what);
	is_str(ej(&doc, SP_EJSON_CANONICAL), json, "%s (canonical)", what);
}

static void
test_other_types(void)
{
	bson_t *doc, scope;
	bson_oid_t oid;
	bson_decimal128_t dec;

	bson_oid_init_from_string(&oid, "57e193d7a9cc81b4027498b5");

	doc = bson_new();
	BSON_APPEND_OID(doc, "_id", &oid);
	BSON_APPEND_BOOL(doc, "t", true);
	BSON_APPEND_BOOL(doc, "f", false);
	BSON_APPEND_NULL(doc, "n");
	BSON_APPEND_UNDEFINED(doc, "u");
	BSON_APPEND_MINKEY(doc, "lo");
	BSON_APPEND_MAXKEY(doc, "hi");
	check(doc,
	    "{\"_id\":{\"$oid\":\"57e193d7a9cc81b4027498b5\"},\"t\":true,"
	    "\"f\":false,\"n\":null,\"u\":{\"$undefined\":true},"
	    "\"lo\":{\"$minKey\":1},\"hi\":{\"$maxKey\":1}}",
	    "{\"_id\":{\"$oid\":\"57e193d7a9cc81b4027498b5\"},\"t\":true,"
	    "\"f\":false,\"n\":null,\"u\":{\"$undefined\":true},"
	    "\"lo\":{\"$minKey\":1},\"hi\":{\"$maxKey\":1}}",
	    "oid, bool, null, undefined, minKey, maxKey");

	/*
	 * libbson's bson_append_regex sorts the options and drops unknown
	 * ones, so these documents are built byte by byte to show the sort
	 * here. Sorted by code point; invalid bytes sort as U+FFFD. Driver
	 * 1.x writes control characters in options raw; we escape them as
	 * later drivers do.
	 */
	regex_case("^a\"b\\\\d", "xsmi",
	    "{\"r\":{\"$regularExpression\":{\"pattern\":\"^a\\\"b\\\\\\\\d\","
	    "\"options\":\"imsx\"}}}",
	    "regex, options sorted");
	regex_case("", "",
	    "{\"r\":{\"$regularExpression\":{\"pattern\":\"\","
	    "\"options\":\"\"}}}",
	    "empty regex");
	regex_case("p", "zyxa",
	    "{\"r\":{\"$regularExpression\":{\"pattern\":\"p\","
	    "\"options\":\"axyz\"}}}",
	    "unknown options are kept and sorted");
	regex_case("p",
	    "\xc3\xa9z\xff\x01"
	    "a\xe2\x80\xa8",
	    "{\"r\":{\"$regularExpression\":{\"pattern\":\"p\","
	    "\"options\":\"\\u0001az\xc3\xa9\\u2028\xef\xbf\xbd\"}}}",
	    "regex options with odd bytes");

	doc = bson_new();
	BSON_APPEND_DBPOINTER(doc, "p", "db.coll", &oid);
	BSON_APPEND_CODE(doc, "c", "function() {\n}");
	BSON_APPEND_SYMBOL(doc, "s", "sym\"bol");
	BSON_APPEND_TIMESTAMP(doc, "ts", 4294967295u, 1);
	BSON_APPEND_TIMESTAMP(doc, "t0", 0, 0);
	check(doc,
	    "{\"p\":{\"$dbPointer\":{\"$ref\":\"db.coll\","
	    "\"$id\":{\"$oid\":\"57e193d7a9cc81b4027498b5\"}}},"
	    "\"c\":{\"$code\":\"function() {\\n}\"},"
	    "\"s\":{\"$symbol\":\"sym\\\"bol\"},"
	    "\"ts\":{\"$timestamp\":{\"t\":4294967295,\"i\":1}},"
	    "\"t0\":{\"$timestamp\":{\"t\":0,\"i\":0}}}",
	    "{\"p\":{\"$dbPointer\":{\"$ref\":\"db.coll\","
	    "\"$id\":{\"$oid\":\"57e193d7a9cc81b4027498b5\"}}},"
	    "\"c\":{\"$code\":\"function() {\\n}\"},"
	    "\"s\":{\"$symbol\":\"sym\\\"bol\"},"
	    "\"ts\":{\"$timestamp\":{\"t\":4294967295,\"i\":1}},"
	    "\"t0\":{\"$timestamp\":{\"t\":0,\"i\":0}}}",
	    "dbPointer, code, symbol, timestamp");

	doc = bson_new();
	bson_init(&scope);
	BSON_APPEND_INT32(&scope, "x", 1);
	BSON_APPEND_DOUBLE(&scope, "y", 2.5);
	BSON_APPEND_CODE_WITH_SCOPE(doc, "cs", "f(x)", &scope);
	bson_reinit(&scope);
	BSON_APPEND_CODE_WITH_SCOPE(doc, "ce", "g", &scope);
	bson_destroy(&scope);
	check(doc,
	    "{\"cs\":{\"$code\":\"f(x)\",\"$scope\":{\"x\":1,\"y\":2.5}},"
	    "\"ce\":{\"$code\":\"g\",\"$scope\":{}}}",
	    "{\"cs\":{\"$code\":\"f(x)\",\"$scope\":{"
	    "\"x\":{\"$numberInt\":\"1\"},\"y\":{\"$numberDouble\":\"2.5\"}}},"
	    "\"ce\":{\"$code\":\"g\",\"$scope\":{}}}",
	    "code with scope");

	{
		static const char *const decs[][2] = {
		    {"1.5", "1.5"},
		    {"-0", "-0"},
		    {"0", "0"},
		    {"0E+3", "0E+3"},
		    {"1E+3", "1E+3"},
		    {"1000", "1000"},
		    {"-1.00E-8", "-1.00E-8"},
		    {"0.001234", "0.001234"},
		    {"0.0000001234", "1.234E-7"},
		    {"12345678901234567890123456789012.34",
			"12345678901234567890123456789012.34"},
		    {"9.999999999999999999999999999999999E+6144",
			"9.999999999999999999999999999999999E+6144"},
		    {"1E-6176", "1E-6176"},
		    {"NaN", "NaN"},
		    {"Infinity", "Infinity"},
		    {"-Infinity", "-Infinity"},
		};
		size_t i;

		for (i = 0; i < sizeof(decs) / sizeof(decs[0]); i++) {
			char want[128];

			doc = bson_new();
			bson_decimal128_from_string(decs[i][0], &dec);
			BSON_APPEND_DECIMAL128(doc, "x", &dec);
			snprintf(want, sizeof(want),
			    "{\"x\":{\"$numberDecimal\":\"%s\"}}", decs[i][1]);
			check(doc, want, want, decs[i][0]);
		}

		/* A coefficient of 10^34 or more is not canonical: the spec
		 * reads it as zero, libbson drops a digit, Go prints it. */
		doc = bson_new();
		dec.high = UINT64_C(0x3041ffffffffffff);
		dec.low = UINT64_C(0xffffffffffffffff);
		BSON_APPEND_DECIMAL128(doc, "x", &dec);
		check(doc,
		    "{\"x\":{\"$numberDecimal\":"
		    "\"10384593717069655257060992658440191\"}}",
		    "{\"x\":{\"$numberDecimal\":"
		    "\"10384593717069655257060992658440191\"}}",
		    "non-canonical decimal as Go prints it");
	}
}

/* --------------------------------------------------------- structure */

static void
test_structure(void)
{
	bson_t *doc, child, arr, inner;
	bson_error_t berr;
	const char *json;
	struct sp_buf b;
	bson_value_t v;

	doc = bson_new();
	check(doc, "{}", "{}", "empty document");

	doc = bson_new();
	BSON_APPEND_DOCUMENT_BEGIN(doc, "e", &child);
	bson_append_document_end(doc, &child);
	BSON_APPEND_ARRAY_BEGIN(doc, "a", &arr);
	bson_append_array_end(doc, &arr);
	check(doc, "{\"e\":{},\"a\":[]}", "{\"e\":{},\"a\":[]}",
	    "empty subdocument and array");

	doc = bson_new();
	BSON_APPEND_UTF8(doc, "name", "x");
	BSON_APPEND_DOCUMENT_BEGIN(doc, "loc", &child);
	BSON_APPEND_UTF8(&child, "type", "Point");
	BSON_APPEND_ARRAY_BEGIN(&child, "coordinates", &arr);
	BSON_APPEND_DOUBLE(&arr, "0", -73.97);
	BSON_APPEND_DOUBLE(&arr, "1", 40.77);
	BSON_APPEND_INT32(&arr, "2", 3);
	BSON_APPEND_DOCUMENT_BEGIN(&arr, "3", &inner);
	BSON_APPEND_INT64(&inner, "deep", 7);
	bson_append_document_end(&arr, &inner);
	bson_append_array_end(&child, &arr);
	bson_append_document_end(doc, &child);
	BSON_APPEND_BOOL(doc, "ok", true);
	check(doc,
	    "{\"name\":\"x\",\"loc\":{\"type\":\"Point\",\"coordinates\":"
	    "[-73.97,40.77,3,{\"deep\":7}]},\"ok\":true}",
	    "{\"name\":\"x\",\"loc\":{\"type\":\"Point\",\"coordinates\":"
	    "[{\"$numberDouble\":\"-73.97\"},{\"$numberDouble\":\"40.77\"},"
	    "{\"$numberInt\":\"3\"},{\"deep\":{\"$numberLong\":\"7\"}}]},"
	    "\"ok\":true}",
	    "nested documents and arrays");

	/* Canonical Extended JSON in, through libbson's parser. */
	json = "{\"_id\":{\"$oid\":\"57e193d7a9cc81b4027498b5\"},"
	       "\"d\":{\"$numberDouble\":\"1e21\"},"
	       "\"l\":{\"$numberLong\":\"42\"},"
	       "\"t\":{\"$date\":{\"$numberLong\":\"1356351330500\"}},"
	       "\"m\":{\"$numberDecimal\":\"1234.5\"}}";
	doc = bson_new_from_json((const uint8_t *)json, -1, &berr);
	ok(doc != NULL, "bson_new_from_json parsed the input");
	if (doc != NULL)
		check(doc,
		    "{\"_id\":{\"$oid\":\"57e193d7a9cc81b4027498b5\"},"
		    "\"d\":1E+21,\"l\":42,"
		    "\"t\":{\"$date\":\"2012-12-24T12:15:30.5Z\"},"
		    "\"m\":{\"$numberDecimal\":\"1234.5\"}}",
		    "{\"_id\":{\"$oid\":\"57e193d7a9cc81b4027498b5\"},"
		    "\"d\":{\"$numberDouble\":\"1E+21\"},"
		    "\"l\":{\"$numberLong\":\"42\"},"
		    "\"t\":{\"$date\":{\"$numberLong\":\"1356351330500\"}},"
		    "\"m\":{\"$numberDecimal\":\"1234.5\"}}",
		    "from canonical Extended JSON");

	/* sp_ejson_doc and sp_ejson_value append; EOD appends nothing. */
	sp_buf_init(&b);
	sp_buf_puts(&b, "[");
	doc = bson_new();
	BSON_APPEND_INT32(doc, "a", 1);
	sp_ejson_doc(&b, bson_get_data(doc), doc->len, SP_EJSON_RELAXED);
	sp_buf_putc(&b, ',');
	v.value_type = BSON_TYPE_EOD;
	sp_ejson_value(&b, &v, SP_EJSON_RELAXED);
	v.value_type = BSON_TYPE_INT64;
	v.value.v_int64 = -5;
	sp_ejson_value(&b, &v, SP_EJSON_CANONICAL);
	sp_buf_putc(&b, ',');
	v.value_type = BSON_TYPE_DOCUMENT;
	v.value.v_doc.data = (uint8_t *)bson_get_data(doc);
	v.value.v_doc.data_len = doc->len;
	sp_ejson_value(&b, &v, SP_EJSON_CANONICAL);
	sp_buf_putc(&b, ',');
	v.value_type = BSON_TYPE_ARRAY;
	sp_ejson_value(&b, &v, SP_EJSON_RELAXED);
	sp_buf_putc(&b, ',');
	v.value_type = BSON_TYPE_UTF8;
	v.value.v_utf8.str = NULL;
	v.value.v_utf8.len = 0;
	sp_ejson_value(&b, &v, SP_EJSON_RELAXED);
	sp_buf_putc(&b, ']');
	is_str(sp_buf_cstr(&b),
	    "[{\"a\":1},{\"$numberLong\":\"-5\"},"
	    "{\"a\":{\"$numberInt\":\"1\"}},[1],\"\"]",
	    "sp_ejson_doc and sp_ejson_value append");
	bson_destroy(doc);
	sp_buf_release(&b);
}

/* The bson-corpus "All BSON types" document (multi-type.json). */
static void
test_corpus_all_types(void)
{
	static const char hex[] =
	    "F4010000075F69640057E193D7A9CC81B4027498B502537472696E67"
	    "0007000000737472696E670010496E743332002A00000012496E7436"
	    "34002A0000000000000001446F75626C6500000000000000F0BF0542"
	    "696E617279001000000003A34C38F7C3ABEDC8A37814A992AB8DB605"
	    "42696E61727955736572446566696E65640005000000800102030405"
	    "0D436F6465000E00000066756E6374696F6E2829207B7D000F436F64"
	    "655769746853636F7065001B0000000E00000066756E6374696F6E28"
	    "29207B7D00050000000003537562646F63756D656E74001200000002"
	    "666F6F00040000006261720000044172726179002800000010300001"
	    "00000010310002000000103200030000001033000400000010340005"
	    "000000001154696D657374616D7000010000002A0000000B52656765"
	    "78007061747465726E0000094461746574696D6545706F6368000000"
	    "000000000000094461746574696D65506F73697469766500FFFFFF7F"
	    "00000000094461746574696D654E656761746976650000000080FFFF"
	    "FFFF085472756500010846616C73650000034442526566003D000000"
	    "0224726566000B000000636F6C6C656374696F6E00072469640057FD"
	    "71E96E32AB4225B723FB022464620009000000646174616261736500"
	    "00FF4D696E6B6579007F4D61786B6579000A4E756C6C0000";
	uint8_t bin[sizeof(hex) / 2];
	size_t i, n = 0;
	bson_t doc;

	for (i = 0; hex[i] != '\0' && hex[i + 1] != '\0'; i += 2) {
		unsigned v;

		sscanf(hex + i, "%2x", &v);
		bin[n++] = (uint8_t)v;
	}
	if (!bson_init_static(&doc, bin, n)) {
		ok(0, "corpus document is valid BSON");
		return;
	}
	is_str(ej(&doc, SP_EJSON_RELAXED),
	    "{\"_id\":{\"$oid\":\"57e193d7a9cc81b4027498b5\"},"
	    "\"String\":\"string\",\"Int32\":42,\"Int64\":42,\"Double\":-1.0,"
	    "\"Binary\":{\"$binary\":{\"base64\":\"o0w498Or7cijeBSpkquNtg==\","
	    "\"subType\":\"03\"}},"
	    "\"BinaryUserDefined\":{\"$binary\":{\"base64\":\"AQIDBAU=\","
	    "\"subType\":\"80\"}},"
	    "\"Code\":{\"$code\":\"function() {}\"},"
	    "\"CodeWithScope\":{\"$code\":\"function() {}\",\"$scope\":{}},"
	    "\"Subdocument\":{\"foo\":\"bar\"},\"Array\":[1,2,3,4,5],"
	    "\"Timestamp\":{\"$timestamp\":{\"t\":42,\"i\":1}},"
	    "\"Regex\":{\"$regularExpression\":{\"pattern\":\"pattern\","
	    "\"options\":\"\"}},"
	    "\"DatetimeEpoch\":{\"$date\":\"1970-01-01T00:00:00Z\"},"
	    "\"DatetimePositive\":{\"$date\":\"1970-01-25T20:31:23.647Z\"},"
	    "\"DatetimeNegative\":{\"$date\":{\"$numberLong\":\"-2147483648\"}}"
	    ","
	    "\"True\":true,\"False\":false,"
	    "\"DBRef\":{\"$ref\":\"collection\","
	    "\"$id\":{\"$oid\":\"57fd71e96e32ab4225b723fb\"},"
	    "\"$db\":\"database\"},"
	    "\"Minkey\":{\"$minKey\":1},\"Maxkey\":{\"$maxKey\":1},"
	    "\"Null\":null}",
	    "bson-corpus all types (relaxed)");
	is_str(ej(&doc, SP_EJSON_CANONICAL),
	    "{\"_id\":{\"$oid\":\"57e193d7a9cc81b4027498b5\"},"
	    "\"String\":\"string\",\"Int32\":{\"$numberInt\":\"42\"},"
	    "\"Int64\":{\"$numberLong\":\"42\"},"
	    "\"Double\":{\"$numberDouble\":\"-1.0\"},"
	    "\"Binary\":{\"$binary\":{\"base64\":\"o0w498Or7cijeBSpkquNtg==\","
	    "\"subType\":\"03\"}},"
	    "\"BinaryUserDefined\":{\"$binary\":{\"base64\":\"AQIDBAU=\","
	    "\"subType\":\"80\"}},"
	    "\"Code\":{\"$code\":\"function() {}\"},"
	    "\"CodeWithScope\":{\"$code\":\"function() {}\",\"$scope\":{}},"
	    "\"Subdocument\":{\"foo\":\"bar\"},"
	    "\"Array\":[{\"$numberInt\":\"1\"},{\"$numberInt\":\"2\"},"
	    "{\"$numberInt\":\"3\"},{\"$numberInt\":\"4\"},"
	    "{\"$numberInt\":\"5\"}],"
	    "\"Timestamp\":{\"$timestamp\":{\"t\":42,\"i\":1}},"
	    "\"Regex\":{\"$regularExpression\":{\"pattern\":\"pattern\","
	    "\"options\":\"\"}},"
	    "\"DatetimeEpoch\":{\"$date\":{\"$numberLong\":\"0\"}},"
	    "\"DatetimePositive\":{\"$date\":{\"$numberLong\":\"2147483647\"}},"
	    "\"DatetimeNegative\":{\"$date\":{\"$numberLong\":\"-2147483648\"}}"
	    ","
	    "\"True\":true,\"False\":false,"
	    "\"DBRef\":{\"$ref\":\"collection\","
	    "\"$id\":{\"$oid\":\"57fd71e96e32ab4225b723fb\"},"
	    "\"$db\":\"database\"},"
	    "\"Minkey\":{\"$minKey\":1},\"Maxkey\":{\"$maxKey\":1},"
	    "\"Null\":null}",
	    "bson-corpus all types (canonical)");
}

int
main(void)
{
	sp_buf_init(&out);
	test_doubles();
	test_strings();
	test_integers();
	test_dates();
	test_binary();
	test_other_types();
	test_structure();
	test_corpus_all_types();
	sp_buf_release(&out);
	return done_testing();
}
