/* json.c: unit tests for sp_json_parse (strict JSON and Extended JSON v2). */
#include <bson/bson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sp.h"
#include "tap.h"

static struct sp_buf out;
static struct sp_error err;

/*
 * Parses exactly len bytes from a heap copy that is not NUL-terminated, so
 * that AddressSanitizer and valgrind catch any read past the end.
 */
static int
parse_n(const char *json, size_t len)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, json, len);
	err.msg[0] = '\0';
	rc = sp_json_parse(&out, copy, len, &err);
	free(copy);
	return rc;
}

static int
parse(const char *json)
{
	return parse_n(json, strlen(json));
}

static void
hexdump(const char *label, const uint8_t *p, size_t n)
{
	size_t i;

	printf("# %s:", label);
	for (i = 0; i < n; i++)
		printf("%02X", p[i]);
	printf("\n");
}

/* Parses json (len bytes) and compares with want, which it destroys. */
static void
expect_n(const char *json, size_t len, bson_t *want, const char *title)
{
	int rc = parse_n(json, len), same;

	same = rc == 0 && out.len == want->len &&
	    memcmp(out.data, bson_get_data(want), want->len) == 0;
	ok(same, "%s", title);
	if (!same) {
		if (rc != 0)
			printf("# error: %s\n", err.msg);
		else
			hexdump("got ", out.data, out.len);
		hexdump("want", bson_get_data(want), want->len);
	}
	bson_destroy(want);
}

static void
expect(const char *json, bson_t *want, const char *title)
{
	expect_n(json, strlen(json), want, title);
}

static size_t
unhex(const char *hex, uint8_t *d)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		sscanf(hex, "%2x", &v);
		d[n++] = (uint8_t)v;
	}
	return n;
}

/* Parses json and compares with BSON given as hex (bson-corpus style). */
static void
expect_hex(const char *json, const char *hex, const char *title)
{
	uint8_t want[1024];
	size_t n = unhex(hex, want);
	int rc = parse(json), same;

	same = rc == 0 && out.len == n && memcmp(out.data, want, n) == 0;
	ok(same, "%s", title);
	if (!same) {
		if (rc != 0)
			printf("# error: %s\n", err.msg);
		else
			hexdump("got ", out.data, out.len);
		hexdump("want", want, n);
	}
}

/* Parses json and compares with what libbson makes of the same text. */
static void
same_as_libbson(const char *json, const char *title)
{
	bson_t *b;
	bson_error_t be;

	b = bson_new_from_json((const uint8_t *)json, -1, &be);
	if (b == NULL) {
		ok(0, "%s (libbson: %s)", title, be.message);
		return;
	}
	expect(json, b, title);
}

/* Expects an error whose message contains want. */
static void
rejects_n(const char *json, size_t len, const char *want, const char *title)
{
	int rc = parse_n(json, len);
	int good = rc == -1 && strstr(err.msg, want) != NULL;

	ok(good, "rejects %s", title);
	if (!good) {
		printf("# rc %d, message '%s'\n", rc, rc ? err.msg : "");
		printf("# expected a message containing '%s'\n", want);
	}
}

static void
rejects(const char *json, const char *want, const char *title)
{
	rejects_n(json, strlen(json), want, title);
}

/* s with control and non-ASCII bytes escaped, for test titles. */
static const char *
show(const char *s)
{
	static char buf[512];
	size_t n = 0;

	for (; *s != '\0' && n < sizeof(buf) - 8; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "\\x%02x", (unsigned char)*s);
		else
			buf[n++] = *s;
	}
	buf[n] = '\0';
	return buf;
}

/* Expects exactly this error message. */
static void
error_is(const char *json, const char *msg)
{
	int rc = parse(json);

	is_str(rc == -1 ? err.msg : "(accepted)", msg, "message for %s",
	    show(json));
}

/* Parses {"v": <value>} and returns the BSON type of v (EOD on error). */
static bson_type_t
type_of(const char *value)
{
	char json[512];
	bson_iter_t it;

	snprintf(json, sizeof(json), "{\"v\":%s}", value);
	if (parse(json) != 0)
		return BSON_TYPE_EOD;
	if (!bson_iter_init_from_data(&it, out.data, out.len) ||
	    !bson_iter_find(&it, "v"))
		return BSON_TYPE_EOD;
	return bson_iter_type(&it);
}

/* The iterator for "v" in the last parsed document. */
static bool
iter_v(bson_iter_t *it)
{
	return bson_iter_init_from_data(it, out.data, out.len) &&
	    bson_iter_find(it, "v");
}

static bool
dbl_identical(double a, double b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

/* ------------------------------------------------------------- structure */

static void
test_structure(void)
{
	bson_iter_t it;
	int i;

	expect("{}", bson_new(), "empty object");
	expect(
	    " \t\r\n{ \t\r\n} \t\r\n", bson_new(), "whitespace around tokens");
	expect("{\"a\":1}", BCON_NEW("a", BCON_INT32(1)), "one member");
	expect("{ \"a\" : 1 , \"b\" : \"x\" }",
	    BCON_NEW("a", BCON_INT32(1), "b", BCON_UTF8("x")),
	    "whitespace between tokens");
	expect("{\"a\":{\"b\":{\"c\":[]}}}",
	    BCON_NEW("a", "{", "b", "{", "c", "[", "]", "}", "}"),
	    "nested objects and empty array");
	expect("{\"a\":[1,\"x\",true,false,null,{},[]]}",
	    BCON_NEW("a", "[", BCON_INT32(1), BCON_UTF8("x"), BCON_BOOL(true),
		BCON_BOOL(false), BCON_NULL, "{", "}", "[", "]", "]"),
	    "array of every plain kind");
	expect("{\"\":0}", BCON_NEW("", BCON_INT32(0)), "empty key");
	expect("{\"a\":1,\"a\":2}",
	    BCON_NEW("a", BCON_INT32(1), "a", BCON_INT32(2)),
	    "duplicate keys kept in order");
	expect("{\"b\":1,\"a\":2}",
	    BCON_NEW("b", BCON_INT32(1), "a", BCON_INT32(2)), "key order kept");
	expect("{\"a\":[[1,[2]],{\"b\":[3]}]}",
	    BCON_NEW("a", "[", "[", BCON_INT32(1), "[", BCON_INT32(2), "]", "]",
		"{", "b", "[", BCON_INT32(3), "]", "}", "]"),
	    "mixed nesting");
	same_as_libbson("{\"device_id\":\"device_8\",\"group_id\":7,"
			"\"timestamp\":\"2024-08-12T21:41:01.788+00:00\","
			"\"max_watts\":450,\"event_type\":0,"
			"\"obs\":{\"watts\":252,\"temp\":17}}",
	    "solar document as libbson parses it");
	same_as_libbson("{\"a\":[1,2.5,\"s\",null,true,{\"b\":[[],{}]}],"
			"\"c\":-7,\"d\":1e3,\"e\":\"\\u00e9\"}",
	    "mixed document as libbson parses it");

	/* Array keys are "0", "1", ... "10", ... */
	{
		char json[8192], *p = json;
		bson_t *want = bson_new(), arr;
		char key[16];

		p += sprintf(p, "{\"a\":[");
		bson_append_array_begin(want, "a", 1, &arr);
		for (i = 0; i < 1005; i++) {
			p += sprintf(p, "%s%d", i ? "," : "", i);
			snprintf(key, sizeof(key), "%d", i);
			bson_append_int32(&arr, key, -1, i);
		}
		sprintf(p, "]}");
		bson_append_array_end(want, &arr);
		expect(json, want, "array keys 0..1004");
	}

	/* The length is respected: the text need not be NUL-terminated. */
	expect_n("{\"a\":1}garbage", 7, BCON_NEW("a", BCON_INT32(1)),
	    "parses only len bytes");
	ok(parse("{\"a\":1}") == 0 &&
		bson_iter_init_from_data(&it, out.data, out.len),
	    "output is valid BSON for libbson");

	/* The buffer is reused and reset on each call. */
	parse("{\"long\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}");
	expect("{\"a\":1}", BCON_NEW("a", BCON_INT32(1)),
	    "second parse into the same buffer");
	parse("{\"a\":");
	is_int(out.len, 0, "buffer reset after an error");
}

/* --------------------------------------------------------------- numbers */

static void
test_numbers(void)
{
	static const char *doubles[] = {
	    "0.1",
	    "0.3",
	    "1.5",
	    "-1.5",
	    "123.456",
	    "1e2",
	    "1E2",
	    "1e+2",
	    "1e-2",
	    "1E-2",
	    "17.5",
	    "252.33",
	    "3.14159265358979",
	    "2.2250738585072011e-308",
	    "2.2250738585072012e-308",
	    "2.2250738585072014e-308",
	    "1.7976931348623157e308",
	    "4.9e-324",
	    "5e-324",
	    "2.4703282292062327e-324",
	    "1e23",
	    "8.98846567431158e307",
	    "9007199254740993.0",
	    "9007199254740992.5",
	    "0.1000000000000000055511151231257827",
	    "3.14159265358979323846264338327950288419716939937510",
	    "123456789012345678901234567890",
	    "1e22",
	    "1e-22",
	    "1e308",
	    "4503599627370496.5",
	    "4503599627370497.5",
	    "0.00000000000000000000000000000000000001",
	    "1000000000000000000000000.0",
	    "7.0e-10",
	    "1e-400",
	    "-1e-400",
	    "0e0",
	    "0E-5",
	    "0.0e999999999999",
	    "72057594037927928.0",
	    "1.00000000000000011102230246251565404",
	    "2.00000000000000011102230246251565404e0",
	    "100000000000000000000000000000000000000000000000000.0",
	    "123.456e-7",
	    "9.999999999999999e22",
	    "1.0e-5000",
	};
	bson_iter_t it;
	size_t i;
	char json[256];
	int bad;

	/* Integers: int32 if it fits, else int64, else double. */
	is_int(type_of("0"), BSON_TYPE_INT32, "0 is int32");
	is_int(type_of("-0"), BSON_TYPE_INT32, "-0 is int32");
	ok(iter_v(&it) && bson_iter_int32(&it) == 0, "-0 is int32 0");
	is_int(type_of("7"), BSON_TYPE_INT32, "7 is int32");
	is_int(type_of("2147483647"), BSON_TYPE_INT32, "INT32_MAX is int32");
	ok(iter_v(&it) && bson_iter_int32(&it) == INT32_MAX, "INT32_MAX");
	is_int(type_of("-2147483648"), BSON_TYPE_INT32, "INT32_MIN is int32");
	ok(iter_v(&it) && bson_iter_int32(&it) == INT32_MIN, "INT32_MIN");
	is_int(type_of("2147483648"), BSON_TYPE_INT64, "INT32_MAX+1 is int64");
	ok(iter_v(&it) && bson_iter_int64(&it) == 2147483648LL,
	    "INT32_MAX+1 value");
	is_int(type_of("-2147483649"), BSON_TYPE_INT64, "INT32_MIN-1 is int64");
	ok(iter_v(&it) && bson_iter_int64(&it) == -2147483649LL,
	    "INT32_MIN-1 value");
	is_int(type_of("9223372036854775807"), BSON_TYPE_INT64,
	    "INT64_MAX is int64");
	ok(iter_v(&it) && bson_iter_int64(&it) == INT64_MAX, "INT64_MAX");
	is_int(type_of("-9223372036854775808"), BSON_TYPE_INT64,
	    "INT64_MIN is int64");
	ok(iter_v(&it) && bson_iter_int64(&it) == INT64_MIN, "INT64_MIN");
	is_int(type_of("9223372036854775808"), BSON_TYPE_DOUBLE,
	    "INT64_MAX+1 is double");
	ok(iter_v(&it) && bson_iter_double(&it) == 9223372036854775808.0,
	    "INT64_MAX+1 value");
	is_int(type_of("-9223372036854775809"), BSON_TYPE_DOUBLE,
	    "INT64_MIN-1 is double");
	is_int(type_of("18446744073709551616"), BSON_TYPE_DOUBLE,
	    "2^64 is double");
	is_int(type_of("100000000000000000000000"), BSON_TYPE_DOUBLE,
	    "24-digit integer is double");
	ok(iter_v(&it) && bson_iter_double(&it) == 1e23,
	    "24-digit integer value");
	is_int(type_of("99999999999999999999"), BSON_TYPE_DOUBLE,
	    "20 nines is double");
	ok(iter_v(&it) && bson_iter_double(&it) == 1e20,
	    "20 nines rounds to 1e20");

	/* Fraction or exponent: always double. */
	is_int(type_of("1.0"), BSON_TYPE_DOUBLE, "1.0 is double");
	is_int(type_of("1e0"), BSON_TYPE_DOUBLE, "1e0 is double");
	is_int(type_of("1E2"), BSON_TYPE_DOUBLE, "1E2 is double");
	is_int(type_of("5e-1"), BSON_TYPE_DOUBLE, "5e-1 is double");
	is_int(type_of("-0.0"), BSON_TYPE_DOUBLE, "-0.0 is double");
	ok(iter_v(&it) && dbl_identical(bson_iter_double(&it), -0.0),
	    "-0.0 keeps its sign");
	is_int(type_of("0.0"), BSON_TYPE_DOUBLE, "0.0 is double");
	ok(iter_v(&it) && dbl_identical(bson_iter_double(&it), 0.0),
	    "0.0 is +0");
	is_int(type_of("-0e5"), BSON_TYPE_DOUBLE, "-0e5 is double");
	ok(iter_v(&it) && dbl_identical(bson_iter_double(&it), -0.0),
	    "-0e5 is -0.0");

	/* Correct rounding: the same bits as strtod. */
	for (i = 0; i < sizeof(doubles) / sizeof(doubles[0]); i++) {
		double want = strtod(doubles[i], NULL);

		snprintf(json, sizeof(json), "{\"v\":%s}", doubles[i]);
		ok(parse(json) == 0 && iter_v(&it) &&
			bson_iter_type(&it) == BSON_TYPE_DOUBLE &&
			dbl_identical(bson_iter_double(&it), want),
		    "%s rounds like strtod", doubles[i]);
	}
	/* Random doubles printed with 17 digits (and shorter) round-trip. */
	srand(42);
	bad = 0;
	for (i = 0; i < 20000; i++) {
		uint64_t u = (uint64_t)rand() << 62 ^ (uint64_t)rand() << 31 ^
		    (uint64_t)rand();
		double d, got = 0;
		int prec = 1 + (int)(i % 17);

		memcpy(&d, &u, sizeof(d));
		if (!isfinite(d))
			continue;
		snprintf(json, sizeof(json), "{\"v\":%.*e}", prec, d);
		if (parse(json) != 0 || !iter_v(&it) ||
		    bson_iter_type(&it) != BSON_TYPE_DOUBLE ||
		    !dbl_identical(
			got = bson_iter_double(&it), strtod(json + 5, NULL))) {
			if (bad++ < 5)
				printf("# mismatch for %s: got %.17g\n", json,
				    got);
		}
	}
	is_int(bad, 0, "20000 random doubles round like strtod");
	/* Random short decimals (the fast path's territory). */
	bad = 0;
	for (i = 0; i < 20000; i++) {
		snprintf(json, sizeof(json), "{\"v\":%d.%0*d%s%d}",
		    rand() % 100000, 1 + rand() % 9, rand() % 1000000,
		    rand() % 2 ? "e-" : "e", rand() % 30);
		if (parse(json) != 0 || !iter_v(&it) ||
		    !dbl_identical(
			bson_iter_double(&it), strtod(json + 5, NULL))) {
			if (bad++ < 5)
				printf("# mismatch for %s\n", json);
		}
	}
	is_int(bad, 0, "20000 random short decimals round like strtod");

	/* Grammar. */
	rejects("{\"v\":01}", "leading zero", "01");
	rejects("{\"v\":-01}", "leading zero", "-01");
	rejects("{\"v\":00}", "leading zero", "00");
	rejects("{\"v\":+1}", "expected a value", "+1");
	rejects("{\"v\":.5}", "expected a value", ".5");
	rejects("{\"v\":1.}", "digit after '.'", "1.");
	rejects("{\"v\":1.e5}", "digit after '.'", "1.e5");
	rejects("{\"v\":1e}", "exponent", "1e");
	rejects("{\"v\":1e+}", "exponent", "1e+");
	rejects("{\"v\":1E-}", "exponent", "1E-");
	rejects("{\"v\":-}", "invalid number", "-");
	rejects("{\"v\":--1}", "invalid number", "--1");
	rejects("{\"v\":-a}", "invalid number", "-a");
	rejects("{\"v\":0x10}", "expected ',' or '}'", "0x10");
	rejects("{\"v\":1.5.3}", "expected ',' or '}'", "1.5.3");
	rejects("{\"v\":1 2}", "expected ',' or '}'", "1 2");
	rejects("{\"v\":NaN}", "expected a value", "NaN");
	rejects("{\"v\":nan}", "invalid literal", "nan");
	rejects("{\"v\":Infinity}", "expected a value", "Infinity");
	rejects("{\"v\":-Infinity}", "invalid number", "-Infinity");
	rejects("{\"v\":1e999}", "number out of range", "1e999");
	rejects("{\"v\":-1e999}", "number out of range", "-1e999");
	rejects("{\"v\":1.8e308}", "number out of range", "1.8e308");
	rejects("{\"v\":[1e400]}", "number out of range", "1e400 in array");
	rejects_n("{\"v\":1", 6, "unexpected end", "number at end of input");
	rejects_n("{\"v\":-", 6, "invalid number", "'-' at end of input");
	rejects_n("{\"v\":1.", 7, "digit after '.'", "'1.' at end of input");
	rejects_n("{\"v\":1e", 7, "exponent", "'1e' at end of input");
	error_is("{\"v\":01}",
	    "invalid JSON at offset 5: invalid number: leading zero");
	error_is(
	    "{\"v\":1e999}", "invalid JSON at offset 5: number out of range");
}

/* --------------------------------------------------------------- strings */

static void
test_strings(void)
{
	bson_iter_t it;
	const char *s;
	uint32_t n;
	char json[256], buf[64];
	int i, pos;
	bson_t *want;

	expect("{\"v\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
	    BCON_NEW("v", BCON_UTF8("\"\\/\b\f\n\r\t")), "every short escape");
	expect("{\"v\":\"\\u0041\\u00e9\\u00E9\\u2606\"}",
	    BCON_NEW("v", BCON_UTF8("A\xc3\xa9\xc3\xa9\xe2\x98\x86")),
	    "\\u escapes to 1, 2 and 3 bytes, either case");
	expect("{\"v\":\"\\ud83d\\ude00\"}",
	    BCON_NEW("v", BCON_UTF8("\xf0\x9f\x98\x80")),
	    "surrogate pair to 4 bytes");
	expect("{\"v\":\"\\uDBFF\\uDFFF\"}",
	    BCON_NEW("v", BCON_UTF8("\xf4\x8f\xbf\xbf")),
	    "U+10FFFF from escapes");
	expect("{\"v\":\"\\u007f\\u0080\\u07ff\\u0800\\uffff\"}",
	    BCON_NEW("v",
		BCON_UTF8("\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80"
			  "\xef\xbf\xbf")),
	    "\\u escapes at UTF-8 length boundaries");
	expect("{\"\\u00e9\\n\":1}", BCON_NEW("\xc3\xa9\n", BCON_INT32(1)),
	    "escapes in keys");
	expect("{\"v\":\"caf\xc3\xa9 \xe2\x98\x86 \xf0\x9f\x98\x80\"}",
	    BCON_NEW("v",
		BCON_UTF8("caf\xc3\xa9 \xe2\x98\x86 "
			  "\xf0\x9f\x98\x80")),
	    "raw UTF-8 of 2, 3 and 4 bytes");
	expect(
	    "{\"v\":\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\xed\x9f\xbf\xee\x80\x80\"}",
	    BCON_NEW("v",
		BCON_UTF8("\xef\xbf\xbf\xf4\x8f\xbf\xbf"
			  "\xed\x9f\xbf\xee\x80\x80")),
	    "raw UTF-8 edges: U+FFFF, U+10FFFF, U+D7FF, U+E000");
	expect("{\"v\":\"\x7f\"}", BCON_NEW("v", BCON_UTF8("\x7f")),
	    "DEL is not a control character for JSON");

	/* A NUL is fine in a value, not in a key. */
	ok(parse("{\"v\":\"ab\\u0000cd\"}") == 0 && iter_v(&it) &&
		(s = bson_iter_utf8(&it, &n)) != NULL && n == 5 &&
		memcmp(s, "ab\0cd", 5) == 0,
	    "\\u0000 inside a string value");
	expect_hex("{\"a\" : \"ab\\u0000bab\\u0000babab\"}",
	    "190000000261000D0000006162006261620062616261620000",
	    "corpus: embedded nulls");
	rejects(
	    "{\"a\\u0000b\":1}", "object key contains NUL", "\\u0000 in a key");

	/* Escape errors. */
	rejects("{\"v\":\"\\x\"}", "invalid escape", "\\x");
	rejects("{\"v\":\"\\U0041\"}", "invalid escape", "\\U");
	rejects("{\"v\":\"\\'\"}", "invalid escape", "\\'");
	rejects("{\"v\":\"\\u12\"}", "invalid \\u escape", "short \\u");
	rejects("{\"v\":\"\\u12G4\"}", "invalid \\u escape", "\\u with G");
	rejects_n(
	    "{\"v\":\"\\u00", 10, "invalid \\u escape", "\\u cut by the end");
	rejects("{\"v\":\"\\ud800\"}", "lone surrogate", "lone high surrogate");
	rejects("{\"v\":\"\\udc00\"}", "lone surrogate", "lone low surrogate");
	rejects("{\"v\":\"\\ud800\\u0041\"}", "lone surrogate",
	    "high surrogate then non-surrogate");
	rejects("{\"v\":\"\\ud800\\ud800\"}", "lone surrogate",
	    "two high surrogates");
	rejects("{\"v\":\"\\ud800x\"}", "lone surrogate",
	    "high surrogate then text");
	rejects_n("{\"v\":\"\\ud800\\udc0", 16, "lone surrogate",
	    "pair cut by the end");
	rejects_n("{\"v\":\"\\", 7, "unterminated string", "backslash at end");

	/* Raw control characters. */
	for (i = 1; i < 0x20; i++) {
		snprintf(json, sizeof(json), "{\"v\":\"a%cb\"}", i);
		if (parse(json) != -1 ||
		    strstr(err.msg, "control character") == NULL)
			break;
	}
	ok(i == 0x20, "raw control characters 0x01-0x1f rejected");
	rejects_n("{\"v\":\"a\0b\"}", 11, "control character", "raw NUL");
	rejects("{\"a\tb\":1}", "control character", "raw tab in a key");
	error_is("{\"v\":\"a\nb\"}",
	    "invalid JSON at offset 7: control character in string");

	/* UTF-8 validity, in values and keys. */
	rejects("{\"v\":\"\xc0\x80\"}", "invalid UTF-8", "overlong NUL C0 80");
	rejects("{\"v\":\"\xc1\xbf\"}", "invalid UTF-8", "overlong C1 BF");
	rejects(
	    "{\"v\":\"\xe0\x80\x80\"}", "invalid UTF-8", "overlong E0 80 80");
	rejects(
	    "{\"v\":\"\xe0\x9f\xbf\"}", "invalid UTF-8", "overlong E0 9F BF");
	rejects("{\"v\":\"\xf0\x80\x80\x80\"}", "invalid UTF-8",
	    "overlong F0 80 80 80");
	rejects("{\"v\":\"\xf0\x8f\xbf\xbf\"}", "invalid UTF-8",
	    "overlong F0 8F BF BF");
	rejects("{\"v\":\"\xed\xa0\x80\"}", "invalid UTF-8",
	    "UTF-8 encoded surrogate D800");
	rejects("{\"v\":\"\xed\xbf\xbf\"}", "invalid UTF-8",
	    "UTF-8 encoded surrogate DFFF");
	rejects(
	    "{\"v\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8", "above U+10FFFF");
	rejects("{\"v\":\"\xf5\x80\x80\x80\"}", "invalid UTF-8", "F5 lead");
	rejects("{\"v\":\"\xff\"}", "invalid UTF-8", "FF byte");
	rejects("{\"v\":\"\xfe\"}", "invalid UTF-8", "FE byte");
	rejects("{\"v\":\"\x80\"}", "invalid UTF-8", "lone continuation");
	rejects("{\"v\":\"\xc3\"}", "invalid UTF-8",
	    "2-byte sequence cut by the quote");
	rejects("{\"v\":\"\xe2\x98\"}", "invalid UTF-8",
	    "3-byte sequence cut by the quote");
	rejects("{\"v\":\"\xe2\x28\xa1\"}", "invalid UTF-8", "bad second byte");
	rejects(
	    "{\"v\":\"\xf0\x9f\x98\x28\"}", "invalid UTF-8", "bad fourth byte");
	rejects_n("{\"v\":\"\xf0\x9f\x98", 9, "invalid UTF-8",
	    "4-byte sequence cut by the end of input");
	rejects("{\"k\xff\":1}", "invalid UTF-8", "invalid UTF-8 in a key");
	error_is("{\"v\":\"abc\xff\"}", "invalid UTF-8 at offset 9");
	rejects("{\"v\":\"\xc3\xa9\xff\"}", "invalid UTF-8 at offset 8",
	    "offset points at the bad byte");

	/* Unterminated. */
	rejects_n("{\"v\":\"abc", 9, "unterminated string", "value");
	rejects_n("{\"abc", 5, "unterminated string", "key");
	rejects_n("{\"v\":\"abcdefghijklmnopqrstuvwxyz", 31,
	    "unterminated string", "long value");
	rejects_n("{\"v\":\"\xc3\xa9", 8, "unterminated string", "after UTF-8");

	/* Every position of a special byte relative to the 8-byte scan. */
	for (pos = 0; pos < 20; pos++) {
		static const char *specials[] = {
		    "\\n", "\xc3\xa9", "\\u0041", "\\\""};
		static const char *decoded[] = {"\n", "\xc3\xa9", "A", "\""};
		size_t k;

		for (k = 0; k < 4; k++) {
			snprintf(json, sizeof(json), "{\"v\":\"%.*s%s%.*s\"}",
			    pos, "abcdefghijklmnopqrstuvwxyz", specials[k],
			    20 - pos, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
			snprintf(buf, sizeof(buf), "%.*s%s%.*s", pos,
			    "abcdefghijklmnopqrstuvwxyz", decoded[k], 20 - pos,
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
			want = BCON_NEW("v", BCON_UTF8(buf));
			if (parse(json) != 0 || out.len != want->len ||
			    memcmp(out.data, bson_get_data(want), out.len)) {
				bson_destroy(want);
				break;
			}
			bson_destroy(want);
		}
		if (k < 4)
			break;
	}
	ok(pos == 20, "escapes and UTF-8 at every offset of the word scan");
	for (pos = 0; pos < 20; pos++) {
		snprintf(json, sizeof(json), "{\"v\":\"%.*s\x01%s\"}", pos,
		    "abcdefghijklmnopqrstuvwxyz", "0123456789abcdefghij");
		if (parse(json) != -1)
			break;
	}
	ok(pos == 20, "control character at every offset of the word scan");
}

/* ------------------------------------------------------------ strictness */

static void
test_strictness(void)
{
	char *deep;
	size_t i, n;
	int depth;

	error_is("[1,2]", "top-level value is not an object");
	error_is("1", "top-level value is not an object");
	error_is("\"s\"", "top-level value is not an object");
	error_is("null", "top-level value is not an object");
	error_is("  [", "top-level value is not an object");
	rejects("", "unexpected end of input", "empty input");
	rejects(" \t ", "unexpected end of input", "only whitespace");
	error_is("{}x", "trailing characters after the object at offset 2");
	error_is("{} {}", "trailing characters after the object at offset 3");
	error_is(
	    "{\"a\":1}}", "trailing characters after the object at offset 7");
	rejects(
	    "{}\v", "trailing characters", "vertical tab is not JSON space");
	rejects("{}\f", "trailing characters", "form feed is not JSON space");
	rejects("\xc2\xa0{}", "top-level value is not an object",
	    "NBSP is not JSON space");
	ok(parse("{} \r\n\t") == 0, "trailing whitespace is fine");
	ok(parse("\xef\xbb\xbf{}") == -1, "byte order mark rejected");

	error_is("{\"a\" 1}",
	    "invalid JSON at offset 5: expected ':' after object key");
	error_is("{\"a\":1 \"b\":2}",
	    "invalid JSON at offset 7: expected ',' "
	    "or '}' after object member");
	error_is("{\"a\":[1 2]}",
	    "invalid JSON at offset 8: expected ',' or "
	    "']' after array element");
	error_is("{\"a\":1,}",
	    "invalid JSON at offset 7: trailing comma before '}'");
	error_is("{\"a\":[1,]}",
	    "invalid JSON at offset 8: trailing comma before ']'");
	rejects("{,}", "expected a string for an object key", "leading comma");
	rejects("{\"a\":[,1]}", "expected a value", "leading comma in array");
	rejects("{\"a\":1,,\"b\":2}", "expected a string", "double comma");
	rejects("{'a':1}", "expected a string", "single-quoted key");
	rejects("{\"a\":'x'}", "expected a value", "single-quoted value");
	rejects("{a:1}", "expected a string", "unquoted key");
	rejects("{1:1}", "expected a string", "number key");
	rejects("{/*c*/}", "expected a string", "block comment");
	rejects("{\"a\":1//c\n}", "expected ','", "line comment");
	rejects("{\"a\":1}#", "trailing characters", "hash after object");
	rejects("{\"a\":tru}", "invalid literal", "tru");
	rejects("{\"a\":True}", "expected a value", "True");
	rejects("{\"a\":nul}", "invalid literal", "nul");
	rejects("{\"a\":falsey}", "expected ','", "falsey");
	rejects("{\"a\":undefined}", "expected a value", "undefined");
	rejects("{\"a\":}", "expected a value", "missing value");
	rejects("{\"a\"}", "expected ':'", "missing colon and value");
	rejects("{\"a\"::1}", "expected a value", "double colon");
	rejects("{\"a\":1]", "expected ',' or '}'", "mismatched bracket");
	rejects("{\"a\":[1}", "expected ',' or ']'", "mismatched brace");

	/* Every truncation of a valid document is an error, never a crash. */
	{
		static const char doc[] =
		    "{\"a\":[1,-2.5e3,\"x\\u00e9\\ud83d\\ude00\xc3\xa9\",true,"
		    "false,null,{\"b\":{}}],\"c\":{\"$date\":"
		    "\"2024-01-01T00:00:00Z\"},\"d\":{\"$oid\":"
		    "\"0123456789abcdef01234567\"}}";
		int bad = 0;

		for (i = 0; i < sizeof(doc) - 1; i++)
			if (parse_n(doc, i) != -1)
				bad++;
		is_int(bad, 0, "every proper prefix rejected");
		ok(parse(doc) == 0, "the whole document parses");
	}

	/* Depth: 200 levels including the top-level object. */
	for (depth = 199; depth <= 200; depth++) {
		n = 0;
		deep = malloc(16 + 2 * (size_t)depth + 8);
		n += (size_t)sprintf(deep, "{\"a\":");
		for (i = 0; i < (size_t)depth; i++)
			deep[n++] = '[';
		for (i = 0; i < (size_t)depth; i++)
			deep[n++] = ']';
		deep[n++] = '}';
		deep[n] = '\0';
		if (depth == 199)
			ok(parse(deep) == 0, "200 levels of nesting accepted");
		else
			rejects(deep, "nesting deeper than 200",
			    "201 levels of nesting");
		free(deep);
	}
	n = 0;
	deep = malloc(16 + 6 * 300);
	n += (size_t)sprintf(deep, "{");
	for (i = 0; i < 199; i++)
		n += (size_t)sprintf(deep + n, "\"a\":{");
	n += (size_t)sprintf(deep + n, "\"z\":1");
	for (i = 0; i < 200; i++)
		deep[n++] = '}';
	deep[n] = '\0';
	ok(parse(deep) == 0, "200 nested objects accepted");
	free(deep);
	deep = malloc(100000);
	n = 0;
	n += (size_t)sprintf(deep, "{\"a\":");
	for (i = 0; i < 50000; i++)
		deep[n++] = '[';
	rejects_n(deep, n, "nesting deeper than 200", "50000 open brackets");
	free(deep);
}

/* ------------------------------------------------------------ large input */

static void
test_large(void)
{
	size_t big = 1 << 20, i, n;
	char *json = malloc(big * 2 + 64), *val = malloc(big + 1);
	bson_t *want;
	bson_iter_t it;
	uint32_t len;
	const char *s;

	if (json == NULL || val == NULL)
		abort();
	for (i = 0; i < big; i++)
		val[i] = (char)('a' + i % 26);
	val[big] = '\0';
	n = (size_t)sprintf(json, "{\"v\":\"%s\",\"w\":1}", val);
	want = BCON_NEW("v", BCON_UTF8(val), "w", BCON_INT32(1));
	expect_n(json, n, want, "1 MB string value");

	/* The same with an escape every 1000 bytes (the slow path). */
	n = (size_t)sprintf(json, "{\"v\":\"");
	for (i = 0; i < big; i++) {
		if (i % 1000 == 999) {
			memcpy(json + n, "\\n", 2);
			n += 2;
			val[i] = '\n';
		} else
			json[n++] = val[i];
	}
	n += (size_t)sprintf(json + n, "\"}");
	ok(parse_n(json, n) == 0 && iter_v(&it) &&
		(s = bson_iter_utf8(&it, &len)) != NULL && len == big &&
		memcmp(s, val, big) == 0,
	    "1 MB string value with escapes");

	/* A 1 MB key. */
	memset(val, 'k', big);
	val[big] = '\0';
	n = (size_t)sprintf(json, "{\"%s\":true}", val);
	expect_n(json, n, BCON_NEW(val, BCON_BOOL(true)), "1 MB key");

	/* 100000 array elements and 20000 keys. */
	{
		bson_t *w = bson_new(), arr;
		char key[16];

		n = (size_t)sprintf(json, "{\"a\":[");
		bson_append_array_begin(w, "a", 1, &arr);
		for (i = 0; i < 100000; i++) {
			n += (size_t)sprintf(
			    json + n, "%s%zu", i ? "," : "", i * 7);
			snprintf(key, sizeof(key), "%zu", i);
			bson_append_int32(&arr, key, -1, (int32_t)(i * 7));
		}
		bson_append_array_end(w, &arr);
		n += (size_t)sprintf(json + n, "]");
		for (i = 0; i < 20000; i++) {
			snprintf(key, sizeof(key), "k%zu", i);
			n += (size_t)sprintf(json + n, ",\"%s\":%zu.5", key, i);
			bson_append_double(w, key, -1, (double)i + 0.5);
		}
		n += (size_t)sprintf(json + n, "}");
		expect_n(json, n, w, "100000 array elements, 20000 keys");
	}
	free(json);
	free(val);
}

/* ---------------------------------------------------- Extended JSON: ok */

static bson_oid_t *
oid(const char *hex)
{
	static bson_oid_t o[4];
	static int k;

	bson_oid_init_from_string(&o[k % 4], hex);
	return &o[k++ % 4];
}

static int64_t
utc_ms(int y, int mo, int d, int h, int mi, int s, int ms)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

static void
date_is(const char *iso, int64_t want)
{
	char json[256];
	bson_iter_t it;
	int rc;

	snprintf(json, sizeof(json), "{\"v\":{\"$date\":\"%s\"}}", iso);
	rc = parse(json);
	ok(rc == 0 && iter_v(&it) &&
		bson_iter_type(&it) == BSON_TYPE_DATE_TIME &&
		bson_iter_date_time(&it) == want,
	    "$date %s", iso);
	if (rc != 0)
		printf("# error: %s\n", err.msg);
	else if (iter_v(&it) && bson_iter_type(&it) == BSON_TYPE_DATE_TIME &&
	    bson_iter_date_time(&it) != want)
		printf("# got %lld, want %lld\n",
		    (long long)bson_iter_date_time(&it), (long long)want);
}

static void
test_ejson_wrappers(void)
{
	static const uint8_t bin[] = {0xff, 0xff};
	static const uint8_t uuid[] = {0x73, 0xff, 0xd2, 0x64, 0x44, 0xb3, 0x4c,
	    0x69, 0x90, 0xe8, 0xe7, 0xd1, 0xdf, 0xc0, 0x35, 0xd4};
	bson_decimal128_t dec;
	bson_t *scope, *want;
	bson_iter_t it;

	/* ObjectId, canonical = relaxed. */
	expect("{\"_id\":{\"$oid\":\"57e193d7a9cc81b4027498b5\"}}",
	    BCON_NEW("_id", BCON_OID(oid("57e193d7a9cc81b4027498b5"))), "$oid");
	expect("{\"_id\":{\"$oid\":\"57E193D7A9CC81B4027498B5\"}}",
	    BCON_NEW("_id", BCON_OID(oid("57e193d7a9cc81b4027498b5"))),
	    "$oid upper case");
	expect("{\"_id\" : { \"$oid\" : \"57e193d7a9cc81b4027498b5\" } , "
	       "\"x\":1}",
	    BCON_NEW("_id", BCON_OID(oid("57e193d7a9cc81b4027498b5")), "x",
		BCON_INT32(1)),
	    "$oid with whitespace, followed by a member");

	/* Numbers. */
	expect("{\"v\":{\"$numberInt\":\"42\"}}", BCON_NEW("v", BCON_INT32(42)),
	    "$numberInt");
	expect("{\"v\":{\"$numberInt\":\"-2147483648\"}}",
	    BCON_NEW("v", BCON_INT32(INT32_MIN)), "$numberInt min");
	expect("{\"v\":{\"$numberInt\":\"2147483647\"}}",
	    BCON_NEW("v", BCON_INT32(INT32_MAX)), "$numberInt max");
	expect("{\"v\":{\"$numberInt\":\"-0\"}}", BCON_NEW("v", BCON_INT32(0)),
	    "$numberInt -0");
	expect("{\"v\":{\"$numberLong\":\"42\"}}",
	    BCON_NEW("v", BCON_INT64(42)), "$numberLong small stays int64");
	expect("{\"v\":{\"$numberLong\":\"-9223372036854775808\"}}",
	    BCON_NEW("v", BCON_INT64(INT64_MIN)), "$numberLong min");
	expect("{\"v\":{\"$numberLong\":\"9223372036854775807\"}}",
	    BCON_NEW("v", BCON_INT64(INT64_MAX)), "$numberLong max");
	expect("{\"v\":{\"$numberDouble\":\"1.0\"}}",
	    BCON_NEW("v", BCON_DOUBLE(1.0)), "$numberDouble 1.0");
	expect("{\"v\":{\"$numberDouble\":\"1\"}}",
	    BCON_NEW("v", BCON_DOUBLE(1.0)), "$numberDouble 1 is a double");
	expect("{\"v\":{\"$numberDouble\":\"-1.2345678901234568e+18\"}}",
	    BCON_NEW("v", BCON_DOUBLE(-1.2345678901234568e+18)),
	    "$numberDouble with exponent");
	expect("{\"v\":{\"$numberDouble\":\"1e-400\"}}",
	    BCON_NEW("v", BCON_DOUBLE(0.0)), "$numberDouble underflow to 0");
	ok(parse("{\"v\":{\"$numberDouble\":\"-0.0\"}}") == 0 && iter_v(&it) &&
		dbl_identical(bson_iter_double(&it), -0.0),
	    "$numberDouble -0.0");
	ok(parse("{\"v\":{\"$numberDouble\":\"-0\"}}") == 0 && iter_v(&it) &&
		dbl_identical(bson_iter_double(&it), -0.0),
	    "$numberDouble -0");
	ok(parse("{\"v\":{\"$numberDouble\":\"Infinity\"}}") == 0 &&
		iter_v(&it) && isinf(bson_iter_double(&it)) &&
		bson_iter_double(&it) > 0,
	    "$numberDouble Infinity");
	ok(parse("{\"v\":{\"$numberDouble\":\"-Infinity\"}}") == 0 &&
		iter_v(&it) && isinf(bson_iter_double(&it)) &&
		bson_iter_double(&it) < 0,
	    "$numberDouble -Infinity");
	ok(parse("{\"v\":{\"$numberDouble\":\"NaN\"}}") == 0 && iter_v(&it) &&
		bson_iter_type(&it) == BSON_TYPE_DOUBLE &&
		isnan(bson_iter_double(&it)),
	    "$numberDouble NaN");
	bson_decimal128_from_string("1234.5", &dec);
	expect("{\"v\":{\"$numberDecimal\":\"1234.5\"}}",
	    BCON_NEW("v", BCON_DECIMAL128(&dec)), "$numberDecimal");
	bson_decimal128_from_string("-Infinity", &dec);
	expect("{\"v\":{\"$numberDecimal\":\"-Infinity\"}}",
	    BCON_NEW("v", BCON_DECIMAL128(&dec)), "$numberDecimal -Infinity");

	/* Binary, canonical and legacy; subtype 2 has an inner length. */
	expect("{\"v\":{\"$binary\":{\"base64\":\"//8=\",\"subType\":\"00\"}}}",
	    BCON_NEW("v", BCON_BIN(BSON_SUBTYPE_BINARY, bin, 2)), "$binary");
	expect("{\"v\":{\"$binary\":{\"subType\":\"80\",\"base64\":\"//8=\"}}}",
	    BCON_NEW("v", BCON_BIN(BSON_SUBTYPE_USER, bin, 2)),
	    "$binary keys reversed");
	expect("{\"v\":{\"$binary\":{\"base64\":\"//8=\",\"subType\":\"5\"}}}",
	    BCON_NEW("v", BCON_BIN(BSON_SUBTYPE_MD5, bin, 2)),
	    "$binary one-digit subtype");
	expect("{\"v\":{\"$binary\":\"//8=\",\"$type\":\"80\"}}",
	    BCON_NEW("v", BCON_BIN(BSON_SUBTYPE_USER, bin, 2)),
	    "legacy $binary/$type");
	expect("{\"v\":{\"$type\":\"80\",\"$binary\":\"//8=\"}}",
	    BCON_NEW("v", BCON_BIN(BSON_SUBTYPE_USER, bin, 2)),
	    "legacy $type/$binary");
	expect("{\"v\":{\"$binary\":{\"base64\":\"//8=\",\"subType\":\"02\"}}}",
	    BCON_NEW("v", BCON_BIN(BSON_SUBTYPE_BINARY_DEPRECATED, bin, 2)),
	    "$binary subtype 2 like libbson");
	expect("{\"v\":{\"$binary\":{\"base64\":\"\",\"subType\":\"00\"}}}",
	    BCON_NEW("v", BCON_BIN(BSON_SUBTYPE_BINARY, bin, 0)),
	    "$binary empty");
	expect("{\"v\":{\"$binary\":{\"base64\":\"AQ==\",\"subType\":\"0\"}}}",
	    BCON_NEW(
		"v", BCON_BIN(BSON_SUBTYPE_BINARY, (const uint8_t *)"\x01", 1)),
	    "$binary one byte");
	expect("{\"v\":{\"$binary\":{\"base64\":\"AQI=\",\"subType\":\"0\"}}}",
	    BCON_NEW("v",
		BCON_BIN(BSON_SUBTYPE_BINARY, (const uint8_t *)"\x01\x02", 2)),
	    "$binary two bytes");
	expect("{\"v\":{\"$binary\":{\"base64\":\"AQID\",\"subType\":\"0\"}}}",
	    BCON_NEW("v",
		BCON_BIN(
		    BSON_SUBTYPE_BINARY, (const uint8_t *)"\x01\x02\x03", 3)),
	    "$binary three bytes");
	expect("{\"v\":{\"$uuid\":\"73ffd264-44b3-4c69-90e8-e7d1dfc035d4\"}}",
	    BCON_NEW("v", BCON_BIN(BSON_SUBTYPE_UUID, uuid, 16)), "$uuid");
	expect("{\"v\":{\"$uuid\":\"73FFD264-44B3-4C69-90E8-E7D1DFC035D4\"}}",
	    BCON_NEW("v", BCON_BIN(BSON_SUBTYPE_UUID, uuid, 16)),
	    "$uuid upper case");

	/* Code, code with scope (either key order), symbol. */
	expect("{\"v\":{\"$code\":\"function() {}\"}}",
	    BCON_NEW("v", BCON_CODE("function() {}")), "$code");
	scope = BCON_NEW("x", BCON_INT32(1));
	want = BCON_NEW("v", BCON_CODEWSCOPE("f()", scope));
	expect("{\"v\":{\"$code\":\"f()\",\"$scope\":{\"x\":1}}}", want,
	    "$code with $scope");
	want = BCON_NEW("v", BCON_CODEWSCOPE("f()", scope));
	expect("{\"v\":{\"$scope\":{\"x\":1},\"$code\":\"f()\"}}", want,
	    "$scope before $code");
	bson_destroy(scope);
	scope = bson_new();
	want = BCON_NEW("v", BCON_CODEWSCOPE("", scope));
	expect("{\"v\":{\"$code\":\"\",\"$scope\":{}}}", want,
	    "empty $code with empty $scope");
	bson_destroy(scope);
	expect("{\"v\":{\"$symbol\":\"sym\"}}",
	    BCON_NEW("v", BCON_SYMBOL("sym")), "$symbol");

	/* Timestamp. */
	expect("{\"v\":{\"$timestamp\":{\"t\":123456789,\"i\":42}}}",
	    BCON_NEW("v", BCON_TIMESTAMP(123456789, 42)), "$timestamp");
	expect("{\"v\":{\"$timestamp\":{\"i\":42,\"t\":123456789}}}",
	    BCON_NEW("v", BCON_TIMESTAMP(123456789, 42)),
	    "$timestamp keys reversed");
	expect("{\"v\":{\"$timestamp\":{\"t\":4294967295,\"i\":4294967295}}}",
	    BCON_NEW("v", BCON_TIMESTAMP(UINT32_MAX, UINT32_MAX)),
	    "$timestamp uint32 max");

	/* Regular expressions; options are stored sorted. */
	expect("{\"v\":{\"$regularExpression\":{\"pattern\":\"a.c\","
	       "\"options\":\"i\"}}}",
	    BCON_NEW("v", BCON_REGEX("a.c", "i")), "$regularExpression");
	expect("{\"v\":{\"$regularExpression\":{\"options\":\"xsmi\","
	       "\"pattern\":\"^a\"}}}",
	    BCON_NEW("v", BCON_REGEX("^a", "imsx")),
	    "$regularExpression keys reversed, options sorted");
	expect("{\"v\":{\"$regularExpression\":{\"pattern\":\"\","
	       "\"options\":\"\"}}}",
	    BCON_NEW("v", BCON_REGEX("", "")), "empty regular expression");
	expect("{\"v\":{\"$regularExpression\":{\"pattern\":\"a\","
	       "\"options\":\"mmixim\"}}}",
	    BCON_NEW("v", BCON_REGEX("a", "imx")),
	    "repeated regex options kept once, as libbson does");
	expect("{\"v\":{\"$regex\":\"^ab\",\"$options\":\"ui\"}}",
	    BCON_NEW("v", BCON_REGEX("^ab", "iu")), "legacy $regex/$options");
	expect("{\"v\":{\"$options\":\"\",\"$regex\":\"x\"}}",
	    BCON_NEW("v", BCON_REGEX("x", "")), "legacy $options/$regex");

	/* DBPointer. */
	expect("{\"v\":{\"$dbPointer\":{\"$ref\":\"db.c\",\"$id\":{\"$oid\":"
	       "\"56e1fc72e0c917e9c4714161\"}}}}",
	    BCON_NEW(
		"v", BCON_DBPOINTER("db.c", oid("56e1fc72e0c917e9c4714161"))),
	    "$dbPointer");

	/* Dates: canonical, relaxed and legacy forms. */
	expect("{\"v\":{\"$date\":{\"$numberLong\":\"1356351330500\"}}}",
	    BCON_NEW("v", BCON_DATE_TIME(1356351330500LL)), "$date canonical");
	expect("{\"v\":{\"$date\":{\"$numberLong\":\"-284643869500\"}}}",
	    BCON_NEW("v", BCON_DATE_TIME(-284643869500LL)),
	    "$date canonical negative");
	expect("{\"v\":{\"$date\":1356351330500}}",
	    BCON_NEW("v", BCON_DATE_TIME(1356351330500LL)),
	    "$date legacy integer");
	expect("{\"v\":{\"$date\":0}}", BCON_NEW("v", BCON_DATE_TIME(0)),
	    "$date legacy int32");
	expect("{\"v\":{\"$date\":\"2012-12-24T12:15:30.500Z\"}}",
	    BCON_NEW("v", BCON_DATE_TIME(1356351330500LL)), "$date relaxed");
	date_is("1970-01-01T00:00:00Z", 0);
	date_is("1970-01-01T00:00:00.000Z", 0);
	date_is("1969-12-31T23:59:59.999Z", -1);
	date_is("1960-12-24T12:15:30.500Z", -284643869500LL);
	date_is("2024-08-12T21:41:01.788+00:00",
	    utc_ms(2024, 8, 12, 21, 41, 1, 788));
	date_is("2024-08-12T21:41:01.788+02:00",
	    utc_ms(2024, 8, 12, 19, 41, 1, 788));
	date_is(
	    "2024-08-12T21:41:01.788-0530", utc_ms(2024, 8, 13, 3, 11, 1, 788));
	date_is("2024-08-12T21:41:01+0000", utc_ms(2024, 8, 12, 21, 41, 1, 0));
	date_is("2024-08-12T21:41:01.5Z", utc_ms(2024, 8, 12, 21, 41, 1, 500));
	date_is("2024-08-12T21:41:01.12Z", utc_ms(2024, 8, 12, 21, 41, 1, 120));
	date_is("2024-08-12T21:41:01.123456789Z",
	    utc_ms(2024, 8, 12, 21, 41, 1, 123));
	date_is("2000-02-29T12:00:00Z", utc_ms(2000, 2, 29, 12, 0, 0, 0));
	date_is("2024-02-29T00:00:00Z", utc_ms(2024, 2, 29, 0, 0, 0, 0));
	date_is("9999-12-31T23:59:59.999Z", 253402300799999LL);
	date_is("0001-01-01T00:00:00Z", -62135596800000LL);
	date_is("1900-03-01T00:00:00Z", utc_ms(1900, 3, 1, 0, 0, 0, 0));

	/* MinKey, MaxKey, undefined. */
	expect(
	    "{\"v\":{\"$minKey\":1}}", BCON_NEW("v", BCON_MINKEY), "$minKey");
	expect(
	    "{\"v\":{\"$maxKey\":1}}", BCON_NEW("v", BCON_MAXKEY), "$maxKey");
	expect("{\"v\":{\"$undefined\":true}}", BCON_NEW("v", BCON_UNDEFINED),
	    "$undefined");

	/* Wrappers inside arrays and deeper, followed by more members. */
	expect("{\"a\":[{\"$numberLong\":\"5\"},{\"$oid\":"
	       "\"0123456789abcdef01234567\"},{\"$minKey\":1},3],\"b\":"
	       "{\"c\":{\"$date\":\"1970-01-01T00:00:01Z\"},\"d\":2},\"e\":1}",
	    BCON_NEW("a", "[", BCON_INT64(5),
		BCON_OID(oid("0123456789abcdef01234567")), BCON_MINKEY,
		BCON_INT32(3), "]", "b", "{", "c", BCON_DATE_TIME(1000), "d",
		BCON_INT32(2), "}", "e", BCON_INT32(1)),
	    "wrappers in arrays and subdocuments");
	expect("{\"v\":{\"\\u0024numberLong\":\"7\"}}",
	    BCON_NEW("v", BCON_INT64(7)), "wrapper key written with an escape");
}

/* --------------------------------- Extended JSON: not wrappers, errors */

static void
test_ejson_not_wrappers(void)
{
	bson_t *want;

	/* Query operators and DBRefs stay documents. */
	expect("{\"v\":{\"$regex\":\"abc\"}}",
	    BCON_NEW("v", "{", "$regex", BCON_UTF8("abc"), "}"),
	    "$regex without $options is the query operator");
	expect("{\"v\":{\"$regex\":{\"$regularExpression\":{\"pattern\":\"p\","
	       "\"options\":\"\"}},\"$options\":\"ix\"}}",
	    BCON_NEW("v", "{", "$regex", BCON_REGEX("p", ""), "$options",
		BCON_UTF8("ix"), "}"),
	    "$regex with a regex value and $options stays a document");
	expect("{\"v\":{\"$regex\":{\"a\":1}}}",
	    BCON_NEW("v", "{", "$regex", "{", "a", BCON_INT32(1), "}", "}"),
	    "$regex with an object value stays a document");
	expect("{\"a\":{\"$regex\":\"abc\",\"$options\":\"\",\"unrelated\":"
	       "true}}",
	    BCON_NEW("a", "{", "$regex", BCON_UTF8("abc"), "$options",
		BCON_UTF8(""), "unrelated", BCON_BOOL(true), "}"),
	    "$regex and $options with more operators is a query (the "
	    "corpus calls it an error; MongoDB filters need it)");
	expect("{\"a\":{\"$regex\":\"^x\",\"$options\":\"i\",\"$ne\":\"xx\"}}",
	    BCON_NEW("a", "{", "$regex", BCON_UTF8("^x"), "$options",
		BCON_UTF8("i"), "$ne", BCON_UTF8("xx"), "}"),
	    "$regex, $options and $ne is a query");
	expect("{\"a\":{\"$regex\":\"a\",\"$options\":\"z\"}}",
	    BCON_NEW("a", "{", "$regex", BCON_UTF8("a"), "$options",
		BCON_UTF8("z"), "}"),
	    "$regex with bad options stays a document for $match to judge");
	expect("{\"a\":{\"$regex\":\"a\",\"$options\":0}}",
	    BCON_NEW("a", "{", "$regex", BCON_UTF8("a"), "$options",
		BCON_INT32(0), "}"),
	    "$regex with non-string options stays a document");
	expect("{\"v\":{\"$options\":\"i\"}}",
	    BCON_NEW("v", "{", "$options", BCON_UTF8("i"), "}"),
	    "$options alone stays a document");
	expect("{\"x\":{\"$type\":\"string\"}}",
	    BCON_NEW("x", "{", "$type", BCON_UTF8("string"), "}"),
	    "$type query operator");
	expect("{\"x\":{\"$type\":{\"$numberInt\":\"2\"}}}",
	    BCON_NEW("x", "{", "$type", BCON_INT32(2), "}"),
	    "$type query operator with a number");
	expect("{\"x\":{\"$type\":[2,\"double\"]}}",
	    BCON_NEW("x", "{", "$type", "[", BCON_INT32(2), BCON_UTF8("double"),
		"]", "}"),
	    "$type query operator with an array");
	expect("{\"d\":{\"$ref\":\"c\",\"$id\":{\"$oid\":"
	       "\"58921b3e6e32ab156a22b59e\"},\"$db\":\"db\"}}",
	    BCON_NEW("d", "{", "$ref", BCON_UTF8("c"), "$id",
		BCON_OID(oid("58921b3e6e32ab156a22b59e")), "$db",
		BCON_UTF8("db"), "}"),
	    "DBRef stays a document");
	expect("{\"d\":{\"$ref\":1,\"$id\":2}}",
	    BCON_NEW(
		"d", "{", "$ref", BCON_INT32(1), "$id", BCON_INT32(2), "}"),
	    "DBRef-like with a number $ref stays a document");
	expect("{\"d\":{\"$id\":1}}",
	    BCON_NEW("d", "{", "$id", BCON_INT32(1), "}"),
	    "$id alone stays a document");
	expect("{\"q\":{\"$gt\":5,\"$lt\":{\"$numberLong\":\"9\"}}}",
	    BCON_NEW("q", "{", "$gt", BCON_INT32(5), "$lt", BCON_INT64(9), "}"),
	    "$gt/$lt stay keys");
	expect("{\"q\":{\"$in\":[1,2]}}",
	    BCON_NEW(
		"q", "{", "$in", "[", BCON_INT32(1), BCON_INT32(2), "]", "}"),
	    "$in stays a key");
	expect("{\"q\":{\"$exists\":true}}",
	    BCON_NEW("q", "{", "$exists", BCON_BOOL(true), "}"),
	    "$exists stays a key");
	expect("{\"q\":{\"$oidx\":\"1\"}}",
	    BCON_NEW("q", "{", "$oidx", BCON_UTF8("1"), "}"),
	    "a longer key is not a wrapper");
	expect("{\"q\":{\"$OID\":\"0123456789abcdef01234567\"}}",
	    BCON_NEW(
		"q", "{", "$OID", BCON_UTF8("0123456789abcdef01234567"), "}"),
	    "keywords are case-sensitive");
	expect("{\"q\":{\"a\":1,\"$oid\":\"x\"}}",
	    BCON_NEW("q", "{", "a", BCON_INT32(1), "$oid", BCON_UTF8("x"), "}"),
	    "a keyword that is not the first key is an ordinary key");
	expect("{\"q\":[{\"$gt\":1}]}",
	    BCON_NEW("q", "[", "{", "$gt", BCON_INT32(1), "}", "]"),
	    "operator object in an array");

	/* The top-level document is never a wrapper. */
	expect("{\"$oid\":\"0123456789abcdef01234567\"}",
	    BCON_NEW("$oid", BCON_UTF8("0123456789abcdef01234567")),
	    "top-level $oid stays a document");
	expect("{\"$numberLong\":5}", BCON_NEW("$numberLong", BCON_INT32(5)),
	    "top-level malformed wrapper is not an error");
	expect("{\"$key\":{\"$numberInt\":\"42\"}}",
	    BCON_NEW("$key", BCON_INT32(42)), "top-level $ key");
	want = BCON_NEW("$regex", BCON_UTF8("not-a-regex"), "$options",
	    BCON_UTF8("i"), "$banana", BCON_UTF8("peel"));
	expect("{\"$regex\": \"not-a-regex\", \"$options\": \"i\", "
	       "\"$banana\": \"peel\"}",
	    want, "corpus: top-level lookalike with extra keys");
	expect("{\"$binary\": \"abcdefg\"}",
	    BCON_NEW("$binary", BCON_UTF8("abcdefg")),
	    "corpus: top-level lookalike with missing keys");
}

static void
test_ejson_errors(void)
{
	static const struct {
		const char *json, *msg;
	} bad[] = {
	    /* bson-corpus parseErrors (top.json and per-type files). */
	    {"{\"a\" : {\"$oid\" : 42}}", "invalid $oid at offset 7"},
	    {"{\"a\" : {\"$numberInt\" : 42}}", "invalid $numberInt"},
	    {"{\"a\" : {\"$numberLong\" : 42}}", "invalid $numberLong"},
	    {"{\"a\" : {\"$numberDouble\" : 42}}", "invalid $numberDouble"},
	    {"{\"a\" : {\"$numberDecimal\" : 42}}", "invalid $numberDecimal"},
	    {"{\"x\" : {\"$binary\" : 0, \"$type\" : \"00\"}}",
		"invalid $binary"},
	    {"{\"x\" : {\"$binary\" : \"\", \"$type\" : 0}}",
		"invalid $binary"},
	    {"{\"a\" : {\"$code\" : 42}}", "invalid $code"},
	    {"{\"x\" : {\"$code\" : \"\", \"$scope\" : 42}}", "invalid $code"},
	    {"{\"a\" : {\"$timestamp\" : 42} }", "invalid $timestamp"},
	    {"{\"a\" : {\"$timestamp\" : {\"t\" : \"123456789\", \"i\" : 42} "
	     "} }",
		"invalid $timestamp"},
	    {"{\"a\" : {\"$timestamp\" : {\"t\" : 123456789, \"i\" : \"42\"} "
	     "} }",
		"invalid $timestamp"},
	    {"{\"a\" : {\"$minKey\" : true}}", "invalid $minKey"},
	    {"{\"a\" : {\"$minKey\" : 0}}", "invalid $minKey"},
	    {"{\"a\" : {\"$maxKey\" : true}}", "invalid $maxKey"},
	    {"{\"a\" : {\"$maxKey\" : 0}}", "invalid $maxKey"},
	    {"{\"x\" : { \"$uuid\" : \"73ffd26444b34c6990e8e7d1dfc035d4\"}}",
		"invalid $uuid"},
	    {"{\"x\" : { \"$uuid\" : { \"data\" : "
	     "\"73ffd264-44b3-4c69-90e8-e7d1dfc035d4\"}}}",
		"invalid $uuid"},
	    {"{\"x\" : { \"$uuid\" : \"73ffd264-44b3-90e8-e7d1dfc035d4\"}}",
		"invalid $uuid"},
	    {"{\"a\": {\"$dbPointer\": {\"a\": {\"$numberInt\": \"1\"}, "
	     "\"$id\": {\"$oid\": \"56e1fc72e0c917e9c4714161\"}, \"c\": "
	     "{\"$numberInt\": \"2\"}, \"$ref\": \"b\"}}}",
		"invalid $dbPointer"},
	    /* $oid */
	    {"{\"a\":{\"$oid\":\"0123456789abcdef0123456\"}}", "invalid $oid"},
	    {"{\"a\":{\"$oid\":\"0123456789abcdef012345678\"}}",
		"invalid $oid"},
	    {"{\"a\":{\"$oid\":\"0123456789abcdef0123456g\"}}", "invalid $oid"},
	    {"{\"a\":{\"$oid\":\"0123456789abcdef01234567\",\"x\":1}}",
		"invalid $oid"},
	    {"{\"a\":{\"$oid\":\"0123456789abcdef01234567\","
	     "\"$oid\":\"0123456789abcdef01234567\"}}",
		"invalid $oid"},
	    /* integers */
	    {"{\"a\":{\"$numberInt\":\"2147483648\"}}", "invalid $numberInt"},
	    {"{\"a\":{\"$numberInt\":\"-2147483649\"}}", "invalid $numberInt"},
	    {"{\"a\":{\"$numberInt\":\"1.0\"}}", "invalid $numberInt"},
	    {"{\"a\":{\"$numberInt\":\"1e2\"}}", "invalid $numberInt"},
	    {"{\"a\":{\"$numberInt\":\"+1\"}}", "invalid $numberInt"},
	    {"{\"a\":{\"$numberInt\":\" 1\"}}", "invalid $numberInt"},
	    {"{\"a\":{\"$numberInt\":\"1 \"}}", "invalid $numberInt"},
	    {"{\"a\":{\"$numberInt\":\"01\"}}", "invalid $numberInt"},
	    {"{\"a\":{\"$numberInt\":\"\"}}", "invalid $numberInt"},
	    {"{\"a\":{\"$numberInt\":\"0x1\"}}", "invalid $numberInt"},
	    {"{\"a\":{\"$numberInt\":\"1\\u0000\"}}", "invalid $numberInt"},
	    {"{\"a\":{\"$numberLong\":\"9223372036854775808\"}}",
		"invalid $numberLong"},
	    {"{\"a\":{\"$numberLong\":\"-9223372036854775809\"}}",
		"invalid $numberLong"},
	    {"{\"a\":{\"$numberLong\":\"99999999999999999999\"}}",
		"invalid $numberLong"},
	    {"{\"a\":{\"$numberLong\":\"12abc\"}}", "invalid $numberLong"},
	    {"{\"a\":{\"$numberLong\":\"1\",\"x\":1}}", "invalid $numberLong"},
	    /* doubles and decimals */
	    {"{\"a\":{\"$numberDouble\":\"abc\"}}", "invalid $numberDouble"},
	    {"{\"a\":{\"$numberDouble\":\"1e999\"}}",
		"invalid $numberDouble at offset 5: number out of range"},
	    {"{\"a\":{\"$numberDouble\":\"inf\"}}", "invalid $numberDouble"},
	    {"{\"a\":{\"$numberDouble\":\"nan\"}}", "invalid $numberDouble"},
	    {"{\"a\":{\"$numberDouble\":\"1.\"}}", "invalid $numberDouble"},
	    {"{\"a\":{\"$numberDouble\":\"\"}}", "invalid $numberDouble"},
	    {"{\"a\":{\"$numberDecimal\":\"abc\"}}", "invalid $numberDecimal"},
	    {"{\"a\":{\"$numberDecimal\":\"1.2.3\"}}",
		"invalid $numberDecimal"},
	    {"{\"a\":{\"$numberDecimal\":\"\"}}", "invalid $numberDecimal"},
	    /* binary */
	    {"{\"a\":{\"$binary\":\"AQ==\"}}", "invalid $binary"},
	    {"{\"a\":{\"$binary\":{\"base64\":\"AQ==\"}}}", "invalid $binary"},
	    {"{\"a\":{\"$binary\":{\"base64\":\"AQ==\",\"subType\":\"123\"}}}",
		"invalid $binary"},
	    {"{\"a\":{\"$binary\":{\"base64\":\"AQ==\",\"subType\":\"zz\"}}}",
		"invalid $binary"},
	    {"{\"a\":{\"$binary\":{\"base64\":\"AQ==\",\"subType\":0}}}",
		"invalid $binary"},
	    {"{\"a\":{\"$binary\":{\"base64\":\"AQ=\",\"subType\":\"00\"}}}",
		"invalid $binary"},
	    {"{\"a\":{\"$binary\":{\"base64\":\"A===\",\"subType\":\"00\"}}}",
		"invalid $binary"},
	    {"{\"a\":{\"$binary\":{\"base64\":\"!!!!\",\"subType\":\"00\"}}}",
		"invalid $binary"},
	    {"{\"a\":{\"$binary\":{\"base64\":\"A=A=\",\"subType\":\"00\"}}}",
		"invalid $binary"},
	    {"{\"a\":{\"$binary\":{\"base64\":\"AQ==\",\"subType\":\"00\","
	     "\"x\":1}}}",
		"invalid $binary"},
	    {"{\"a\":{\"$binary\":{\"base64\":\"AQ==\",\"subType\":\"00\"},"
	     "\"x\":1}}",
		"invalid $binary"},
	    {"{\"a\":{\"$binary\":{\"base64\":\"AQ==\",\"x\":\"00\"}}}",
		"invalid $binary"},
	    {"{\"a\":{\"$binary\":\"AQ==\",\"$type\":\"00\",\"x\":1}}",
		"invalid $binary"},
	    {"{\"a\":{\"$type\":\"00\",\"$binary\":\"AQ==\",\"x\":1}}",
		"invalid $binary"},
	    {"{\"a\":{\"$uuid\":\"73ffd264-44b3-4c69-90e8-e7d1dfc035dg\"}}",
		"invalid $uuid"},
	    {"{\"a\":{\"$uuid\":\"73ffd264+44b3-4c69-90e8-e7d1dfc035d4\"}}",
		"invalid $uuid"},
	    {"{\"a\":{\"$uuid\":\"73ffd2644-4b3-4c69-90e8-e7d1dfc035d4\"}}",
		"invalid $uuid"},
	    /* code, symbol */
	    {"{\"a\":{\"$scope\":{}}}", "invalid $code"},
	    {"{\"a\":{\"$code\":\"x\",\"$scope\":{},\"y\":1}}",
		"invalid $code"},
	    {"{\"a\":{\"$code\":\"x\",\"y\":1}}", "invalid $code"},
	    {"{\"a\":{\"$symbol\":1}}", "invalid $symbol"},
	    {"{\"a\":{\"$symbol\":\"s\",\"x\":1}}", "invalid $symbol"},
	    /* timestamp */
	    {"{\"a\":{\"$timestamp\":{\"t\":-1,\"i\":0}}}",
		"invalid $timestamp"},
	    {"{\"a\":{\"$timestamp\":{\"t\":4294967296,\"i\":0}}}",
		"invalid $timestamp"},
	    {"{\"a\":{\"$timestamp\":{\"t\":1.5,\"i\":0}}}",
		"invalid $timestamp"},
	    {"{\"a\":{\"$timestamp\":{\"t\":1}}}", "invalid $timestamp"},
	    {"{\"a\":{\"$timestamp\":{\"t\":1,\"i\":2,\"x\":3}}}",
		"invalid $timestamp"},
	    {"{\"a\":{\"$timestamp\":{\"t\":1,\"x\":2}}}",
		"invalid $timestamp"},
	    /* regular expressions */
	    {"{\"a\":{\"$regularExpression\":{\"pattern\":\"a\","
	     "\"options\":\"g\"}}}",
		"invalid $regularExpression"},
	    {"{\"a\":{\"$regularExpression\":{\"pattern\":\"a\\u0000b\","
	     "\"options\":\"\"}}}",
		"invalid $regularExpression"},
	    {"{\"a\":{\"$regularExpression\":{\"pattern\":\"a\","
	     "\"options\":\"i\\u0000\"}}}",
		"invalid $regularExpression"},
	    {"{\"a\":{\"$regularExpression\":{\"pattern\":1,"
	     "\"options\":\"\"}}}",
		"invalid $regularExpression"},
	    {"{\"a\":{\"$regularExpression\":{\"pattern\":\"a\"}}}",
		"invalid $regularExpression"},
	    {"{\"a\":{\"$regularExpression\":{\"options\":\"\"}}}",
		"invalid $regularExpression"},
	    {"{\"a\":{\"$regularExpression\":\"a\"}}",
		"invalid $regularExpression"},
	    {"{\"a\":{\"$regularExpression\":{\"pattern\":\"a\","
	     "\"options\":\"\",\"x\":1}}}",
		"invalid $regularExpression"},
	    /* dbPointer */
	    {"{\"a\":{\"$dbPointer\":{\"$ref\":\"b\"}}}", "invalid $dbPointer"},
	    {"{\"a\":{\"$dbPointer\":{\"$ref\":\"b\",\"$id\":\"x\"}}}",
		"invalid $dbPointer"},
	    {"{\"a\":{\"$dbPointer\":{\"$ref\":1,\"$id\":{\"$oid\":"
	     "\"56e1fc72e0c917e9c4714161\"}}}}",
		"invalid $dbPointer"},
	    {"{\"a\":{\"$dbPointer\":\"x\"}}", "invalid $dbPointer"},
	    /* dates */
	    {"{\"a\":{\"$date\":\"2024-13-01T00:00:00Z\"}}",
		"invalid $date at offset 5"},
	    {"{\"a\":{\"$date\":\"2023-02-29T00:00:00Z\"}}", "invalid $date"},
	    {"{\"a\":{\"$date\":\"1900-02-29T00:00:00Z\"}}", "invalid $date"},
	    {"{\"a\":{\"$date\":\"2024-04-31T00:00:00Z\"}}", "invalid $date"},
	    {"{\"a\":{\"$date\":\"2024-00-01T00:00:00Z\"}}", "invalid $date"},
	    {"{\"a\":{\"$date\":\"2024-01-00T00:00:00Z\"}}", "invalid $date"},
	    {"{\"a\":{\"$date\":\"2024-01-01T24:00:00Z\"}}", "invalid $date"},
	    {"{\"a\":{\"$date\":\"2024-01-01T00:60:00Z\"}}", "invalid $date"},
	    {"{\"a\":{\"$date\":\"2024-01-01T00:00:60Z\"}}", "invalid $date"},
	    {"{\"a\":{\"$date\":\"2024-01-01T00:00:00\"}}", "invalid $date"},
	    {"{\"a\":{\"$date\":\"2024-01-01 00:00:00Z\"}}", "invalid $date"},
	    {"{\"a\":{\"$date\":\"2024-01-01T00:00:00.Z\"}}", "invalid $date"},
	    {"{\"a\":{\"$date\":\"2024-01-01T00:00:00+1\"}}", "invalid $date"},
	    {"{\"a\":{\"$date\":\"2024-01-01T00:00:00+01:0\"}}",
		"invalid $date"},
	    {"{\"a\":{\"$date\":\"2024-01-01T00:00:00+24:00\"}}",
		"invalid $date"},
	    {"{\"a\":{\"$date\":\"2024-01-01T00:00:00+01:60\"}}",
		"invalid $date"},
	    {"{\"a\":{\"$date\":\"2024-01-01T00:00:00Zx\"}}", "invalid $date"},
	    {"{\"a\":{\"$date\":\"2024-01-01\"}}", "invalid $date"},
	    {"{\"a\":{\"$date\":\"24-01-01T00:00:00Z\"}}", "invalid $date"},
	    {"{\"a\":{\"$date\":\"garbage\"}}", "invalid $date"},
	    {"{\"a\":{\"$date\":\"\"}}", "invalid $date"},
	    {"{\"a\":{\"$date\":1.5}}", "invalid $date"},
	    {"{\"a\":{\"$date\":1e3}}", "invalid $date"},
	    {"{\"a\":{\"$date\":true}}", "invalid $date"},
	    {"{\"a\":{\"$date\":{\"x\":1}}}", "invalid $date"},
	    {"{\"a\":{\"$date\":{\"$numberLong\":\"x\"}}}",
		"invalid $numberLong"},
	    {"{\"a\":{\"$date\":0,\"x\":1}}", "invalid $date"},
	    /* minKey, maxKey, undefined */
	    {"{\"a\":{\"$minKey\":1,\"x\":1}}", "invalid $minKey"},
	    {"{\"a\":{\"$minKey\":1.0}}", "invalid $minKey"},
	    {"{\"a\":{\"$undefined\":false}}", "invalid $undefined"},
	    {"{\"a\":{\"$undefined\":1}}", "invalid $undefined"},
	    /* nested: the inner error wins */
	    {"{\"a\":[{\"b\":{\"$oid\":1}}]}", "invalid $oid at offset 11"},
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		rejects(bad[i].json, bad[i].msg, show(bad[i].json));
	error_is("{\"a\":{\"$numberLong\":\"x\"}}",
	    "invalid $numberLong at offset 5: expected {\"$numberLong\": "
	    "<int64 as a string>}");
}

/* ------------------------------------------------- bson-corpus vectors */

static void
test_corpus(void)
{
	/* canonical_bson, then the extjson forms that must produce it. */
	static const struct {
		const char *desc, *hex, *json;
	} v[] = {
	    {"double +1.0", "10000000016400000000000000F03F00",
		"{\"d\" : {\"$numberDouble\": \"1.0\"}}"},
	    {"double +1.0 relaxed", "10000000016400000000000000F03F00",
		"{\"d\" : 1.0}"},
	    {"double -1.0001220703125", "10000000016400000000008000F0BF00",
		"{\"d\" : -1.0001220703125}"},
	    {"double 1.23456789012345678e+18",
		"1000000001640081E97DF41022B14300",
		"{\"d\" : 1.23456789012345678e+18}"},
	    {"double -0.0", "10000000016400000000000000008000",
		"{\"d\" : {\"$numberDouble\": \"-0.0\"}}"},
	    {"double -0.0 relaxed", "10000000016400000000000000008000",
		"{\"d\" : -0.0}"},
	    {"double Inf", "10000000016400000000000000F07F00",
		"{\"d\": {\"$numberDouble\": \"Infinity\"}}"},
	    {"double -Inf", "10000000016400000000000000F0FF00",
		"{\"d\": {\"$numberDouble\": \"-Infinity\"}}"},
	    {"double NaN", "10000000016400000000000000F87F00",
		"{\"d\": {\"$numberDouble\": \"NaN\"}}"},
	    {"int32 min", "0C0000001069000000008000",
		"{\"i\" : {\"$numberInt\": \"-2147483648\"}}"},
	    {"int32 max relaxed", "0C000000106900FFFFFF7F00",
		"{\"i\" : 2147483647}"},
	    {"int64 min", "10000000126100000000000000008000",
		"{\"a\" : {\"$numberLong\" : \"-9223372036854775808\"}}"},
	    {"int64 max", "10000000126100FFFFFFFFFFFFFF7F00",
		"{\"a\" : {\"$numberLong\" : \"9223372036854775807\"}}"},
	    {"int64 -1", "10000000126100FFFFFFFFFFFFFFFF00",
		"{\"a\" : {\"$numberLong\" : \"-1\"}}"},
	    {"binary subtype 0 empty", "0D000000057800000000000000",
		"{\"x\" : { \"$binary\" : {\"base64\" : \"\", \"subType\" : "
		"\"00\"}}}"},
	    {"binary subtype 0 keys reversed", "0D000000057800000000000000",
		"{\"x\" : { \"$binary\" : {\"subType\" : \"00\", \"base64\" : "
		"\"\"}}}"},
	    {"binary subtype 1", "0F0000000578000200000001FFFF00",
		"{\"x\" : { \"$binary\" : {\"base64\" : \"//8=\", \"subType\" "
		": "
		"\"01\"}}}"},
	    {"binary subtype 2", "13000000057800060000000202000000FFFF00",
		"{\"x\" : { \"$binary\" : {\"base64\" : \"//8=\", \"subType\" "
		": "
		"\"02\"}}}"},
	    {"binary subtype 3",
		"1D000000057800100000000373FFD26444B34C6990E8E7D1DFC035D400",
		"{\"x\" : { \"$binary\" : {\"base64\" : "
		"\"c//SZESzTGmQ6OfR38A11A==\", \"subType\" : \"03\"}}}"},
	    {"binary UUID",
		"1D000000057800100000000473FFD26444B34C6990E8E7D1DFC035D400",
		"{\"x\" : { \"$uuid\" : "
		"\"73ffd264-44b3-4c69-90e8-e7d1dfc035d4\"}}"},
	    {"binary subtype 0x80", "0F0000000578000200000080FFFF00",
		"{\"x\" : { \"$binary\" : {\"base64\" : \"//8=\", \"subType\" "
		": "
		"\"80\"}}}"},
	    {"$type query operator",
		"1F000000037800170000000224747970650007000000737472696E6700000"
		"0",
		"{\"x\" : { \"$type\" : \"string\"}}"},
	    {"$type query operator with number",
		"180000000378001000000010247479706500020000000000",
		"{\"x\" : { \"$type\" : {\"$numberInt\": \"2\"}}}"},
	    {"datetime epoch", "10000000096100000000000000000000",
		"{\"a\" : {\"$date\" : \"1970-01-01T00:00:00.000Z\"}}"},
	    {"datetime positive ms", "10000000096100C4D8D6CC3B01000000",
		"{\"a\" : {\"$date\" : {\"$numberLong\" : "
		"\"1356351330500\"}}}"},
	    {"datetime negative relaxed", "10000000096100C43CE7B9BDFFFFFF00",
		"{\"a\" : {\"$date\" : \"1960-12-24T12:15:30.500Z\"}}"},
	    {"regex empty", "0A0000000B6100000000",
		"{\"a\" : {\"$regularExpression\" : { \"pattern\": \"\", "
		"\"options\" : \"\"}}}"},
	    {"regex with options", "0F0000000B610061626300696D0000",
		"{\"a\" : {\"$regularExpression\" : { \"pattern\": \"abc\", "
		"\"options\" : \"im\"}}}"},
	    {"regex keys reversed", "0F0000000B610061626300696D0000",
		"{\"a\" : {\"$regularExpression\" : {\"options\" : \"im\", "
		"\"pattern\": \"abc\"}}}"},
	    {"regex with slash", "110000000B610061622F636400696D0000",
		"{\"a\" : {\"$regularExpression\" : { \"pattern\": \"ab/cd\", "
		"\"options\" : \"im\"}}}"},
	    {"regex flags not alphabetized", "100000000B610061626300696D780000",
		"{\"a\" : {\"$regularExpression\" : { \"pattern\": \"abc\", "
		"\"options\" : \"mix\"}}}"},
	    {"regex required escapes", "100000000B610061625C226162000000",
		"{\"a\" : {\"$regularExpression\" : { \"pattern\": "
		"\"ab\\\\\\\"ab\", \"options\" : \"\"}}}"},
	    {"regex as value of $regex query operator",
		"270000000B247265676578007061747465726E000002246F7074696F6E730"
		"00300000069780000",
		"{\"$regex\" : {\"$regularExpression\" : { \"pattern\": "
		"\"pattern\", \"options\" : \"\"}}, \"$options\" : \"ix\"}"},
	    {"dbpointer",
		"1A0000000C610002000000620056E1FC72E0C917E9C471416100",
		"{\"a\": {\"$dbPointer\": {\"$ref\": \"b\", \"$id\": "
		"{\"$oid\": "
		"\"56e1fc72e0c917e9c4714161\"}}}}"},
	    {"dbpointer opposite key order",
		"1A0000000C610002000000620056E1FC72E0C917E9C471416100",
		"{\"a\": {\"$dbPointer\": {\"$id\": {\"$oid\": "
		"\"56e1fc72e0c917e9c4714161\"}, \"$ref\": \"b\"}}}"},
	    {"dbpointer two-byte UTF-8",
		"1B0000000C610003000000C3A90056E1FC72E0C917E9C471416100",
		"{\"a\": {\"$dbPointer\": {\"$ref\": \"\xc3\xa9\", \"$id\": "
		"{\"$oid\": \"56e1fc72e0c917e9c4714161\"}}}}"},
	    {"dbref",
		"37000000036462726566002B0000000224726566000B000000636F6C"
		"6C656374696F6E00072469640058921B3E6E32AB156A22B59E0000",
		"{\"dbref\": {\"$ref\": \"collection\", \"$id\": {\"$oid\": "
		"\"58921b3e6e32ab156a22b59e\"}}}"},
	    {"dbref $ref not a string",
		"2C000000036462726566002000000010247265660001000000072469640058"
		"921B3E6E32AB156A22B59E0000",
		"{\"dbref\": {\"$ref\": {\"$numberInt\": \"1\"}, \"$id\": "
		"{\"$oid\": \"58921b3e6e32ab156a22b59e\"}}}"},
	    {"dbref-like at the top",
		"3E0000000224726566000C0000006E6F742D612D6462726566000724696400"
		"58"
		"921B3E6E32AB156A22B59E022462616E616E6100050000007065656C0000",
		"{\"$ref\": \"not-a-dbref\", \"$id\": {\"$oid\": "
		"\"58921b3e6e32ab156a22b59e\"}, \"$banana\": \"peel\"}"},
	    {"timestamp", "100000001161002A00000015CD5B0700",
		"{\"a\" : {\"$timestamp\" : {\"t\" : 123456789, \"i\" : 42} } "
		"}"},
	    {"timestamp high bits", "10000000116100FFFFFFFFFFFFFFFF00",
		"{\"a\" : {\"$timestamp\" : {\"t\" : 4294967295, \"i\" :  "
		"4294967295} } }"},
	    {"decimal128 NaN",
		"180000001364000000000000000000000000000000007C00",
		"{\"d\" : {\"$numberDecimal\" : \"NaN\"}}"},
	    {"decimal128 -Infinity",
		"18000000136400000000000000000000000000000000F800",
		"{\"d\" : {\"$numberDecimal\" : \"-Infinity\"}}"},
	    {"decimal128 0.001234",
		"18000000136400D204000000000000000000000000343000",
		"{\"d\" : {\"$numberDecimal\" : \"0.001234\"}}"},
	    {"decimal128 -0.0",
		"1800000013640000000000000000000000000000003EB000",
		"{\"d\" : {\"$numberDecimal\" : \"-0.0\"}}"},
	    {"decimal128 largest",
		"18000000136400F2AF967ED05C82DE3297FF6FDE3C403000",
		"{\"d\" : {\"$numberDecimal\" : "
		"\"1234567890123456789012345678901234\"}}"},
	    {"decimal128 1E+3 from 1e3",
		"180000001364000100000000000000000000000000463000",
		"{\"d\" : {\"$numberDecimal\" : \"1e3\"}}"},
	    {"decimal128 tiniest",
		"18000000136400FFFFFFFF638E8D37C087ADBE09ED010000",
		"{\"d\" : {\"$numberDecimal\" : "
		"\"9.999999999999999999999999999999999E-6143\"}}"},
	    {"symbol multi-character",
		"190000000E61000D0000006162616261626162616261620000",
		"{\"a\": {\"$symbol\": \"abababababab\"}}"},
	    {"symbol embedded nulls",
		"190000000E61000D0000006162006261620062616261620000",
		"{\"a\": {\"$symbol\": \"ab\\u0000bab\\u0000babab\"}}"},
	    {"minkey", "08000000FF610000", "{\"a\" : {\"$minKey\" : 1}}"},
	    {"maxkey", "080000007F610000", "{\"a\" : {\"$maxKey\" : 1}}"},
	    {"undefined", "0800000006610000",
		"{\"a\" : {\"$undefined\" : true}}"},
	    {"string two-byte UTF-8",
		"190000000261000D000000C3A9C3A9C3A9C3A9C3A9C3A90000",
		"{\"a\" : \"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}"},
	    {"string three-byte UTF-8",
		"190000000261000D000000E29886E29886E29886E298860000",
		"{\"a\" : \"\\u2606\\u2606\\u2606\\u2606\"}"},
	    {"code_w_scope empty",
		"160000000F61000E0000000100000000050000000000",
		"{\"a\" : {\"$code\" : \"\", \"$scope\" : {}}}"},
	    {"code_w_scope non-empty",
		"210000000F6100190000000500000061626364000C00000010780001000000"
		"0000",
		"{\"a\" : {\"$code\" : \"abcd\", \"$scope\" : {\"x\" : "
		"{\"$numberInt\": \"1\"}}}}"},
	    {"code_w_scope unicode and embedded null",
		"1A0000000F61001200000005000000C3A9006400050000000000",
		"{\"a\" : {\"$code\" : \"\\u00e9\\u0000d\", \"$scope\" : {}}}"},
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		expect_hex(v[i].json, v[i].hex, v[i].desc);

	/* The "All BSON types" document of multi-type.json. */
	expect_hex(
	    "{\"_id\": {\"$oid\": \"57e193d7a9cc81b4027498b5\"}, "
	    "\"String\": \"string\", \"Int32\": {\"$numberInt\": \"42\"}, "
	    "\"Int64\": {\"$numberLong\": \"42\"}, \"Double\": "
	    "{\"$numberDouble\": \"-1.0\"}, \"Binary\": {\"$binary\": "
	    "\"o0w498Or7cijeBSpkquNtg==\", \"$type\": \"03\"}, "
	    "\"BinaryUserDefined\": {\"$binary\": \"AQIDBAU=\", "
	    "\"$type\": \"80\"}, \"Code\": {\"$code\": "
	    "\"function() {}\"}, \"CodeWithScope\": {\"$code\": "
	    "\"function() {}\", \"$scope\": {}}, \"Subdocument\": "
	    "{\"foo\": \"bar\"}, \"Array\": [{\"$numberInt\": \"1\"}, "
	    "{\"$numberInt\": \"2\"}, {\"$numberInt\": \"3\"}, "
	    "{\"$numberInt\": \"4\"}, {\"$numberInt\": \"5\"}], "
	    "\"Timestamp\": {\"$timestamp\": {\"t\": 42, \"i\": 1}}, "
	    "\"Regex\": {\"$regularExpression\": {\"pattern\": "
	    "\"pattern\", \"options\": \"\"}}, \"DatetimeEpoch\": "
	    "{\"$date\": {\"$numberLong\": \"0\"}}, \"DatetimePositive\": "
	    "{\"$date\": {\"$numberLong\": \"2147483647\"}}, "
	    "\"DatetimeNegative\": {\"$date\": {\"$numberLong\": "
	    "\"-2147483648\"}}, \"True\": true, \"False\": false, "
	    "\"DBRef\": {\"$ref\": \"collection\", \"$id\": {\"$oid\": "
	    "\"57fd71e96e32ab4225b723fb\"}, \"$db\": \"database\"}, "
	    "\"Minkey\": {\"$minKey\": 1}, \"Maxkey\": {\"$maxKey\": 1}, "
	    "\"Null\": null}",
	    "F4010000075F69640057E193D7A9CC81B4027498B502537472696E6700070000"
	    "00737472696E670010496E743332002A00000012496E743634002A0000000000"
	    "000001446F75626C6500000000000000F0BF0542696E617279001000000003A3"
	    "4C38F7C3ABEDC8A37814A992AB8DB60542696E61727955736572446566696E65"
	    "6400050000008001020304050D436F6465000E00000066756E6374696F6E2829"
	    "207B7D000F436F64655769746853636F7065001B0000000E00000066756E6374"
	    "696F6E2829207B7D00050000000003537562646F63756D656E74001200000002"
	    "666F6F0004000000626172000004417272617900280000001030000100000010"
	    "310002000000103200030000001033000400000010340005000000001154696D"
	    "657374616D7000010000002A0000000B5265676578007061747465726E000009"
	    "4461746574696D6545706F6368000000000000000000094461746574696D6550"
	    "6F73697469766500FFFFFF7F00000000094461746574696D654E656761746976"
	    "650000000080FFFFFFFF085472756500010846616C7365000003444252656600"
	    "3D0000000224726566000B000000636F6C6C656374696F6E00072469640057FD"
	    "71E96E32AB4225B723FB02246462000900000064617461626173650000FF4D69"
	    "6E6B6579007F4D61786B6579000A4E756C6C0000",
	    "corpus: all BSON types");
}

/* Canonical Extended JSON that libbson also reads gives the same bytes. */
static void
test_against_libbson(void)
{
	static const char *docs[] = {
	    "{\"a\":{\"$numberLong\":\"123\"},\"b\":{\"$oid\":"
	    "\"0123456789abcdef01234567\"}}",
	    "{\"d\":{\"$date\":{\"$numberLong\":\"1723498861788\"}}}",
	    "{\"d\":{\"$date\":\"2024-08-12T21:41:01.788Z\"}}",
	    "{\"x\":{\"$binary\":{\"base64\":\"AAECAwQFBgcICQ==\","
	    "\"subType\":\"05\"}}}",
	    "{\"r\":{\"$regularExpression\":{\"pattern\":\"^a\","
	    "\"options\":\"im\"}}}",
	    "{\"t\":{\"$timestamp\":{\"t\":1,\"i\":2}}}",
	    "{\"m\":[{\"$minKey\":1},{\"$maxKey\":1}]}",
	    "{\"n\":{\"$numberDecimal\":\"1.5E+10\"}}",
	    "{\"u\":{\"$uuid\":\"00112233-4455-6677-8899-aabbccddeeff\"}}",
	    "{\"a\":[1,2,[3,[4]]],\"b\":{\"c\":{\"d\":\"e\"}}}",
	    "{\"big\":12345678901234,\"neg\":-5,\"f\":0.25}",
	};
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		same_as_libbson(docs[i], docs[i]);
}

int
main(void)
{
	sp_buf_init(&out);
	test_structure();
	test_numbers();
	test_strings();
	test_strictness();
	test_large();
	test_ejson_wrappers();
	test_ejson_not_wrappers();
	test_ejson_errors();
	test_corpus();
	test_against_libbson();
	sp_buf_release(&out);
	return done_testing();
}
