/* expr_conv.c: type conversion operators ($convert, $toInt, $toString, ...). */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr_int.h"

/*
 * $convert and its shorthands follow MongoDB 8.0's ExpressionConvert (the
 * conversion table in src/mongo/db/pipeline/expression.cpp, since moved to
 * src/mongo/db/exec/expression/evaluate_convert.cpp): one function per
 * (input type, target type) pair, "Unsupported conversion" for the rest.
 *
 * A failed conversion is MongoDB's ConversionFailure, the one error that
 * onError replaces. Errors in the arguments themselves (an unknown type
 * name, a bad subtype, format or byteOrder, a date outside years 0-9999)
 * carry other codes in MongoDB, so onError lets them through; CONV_HARD
 * marks those here.
 *
 * Atlas Stream Processing adds binData <-> int, long and double with
 * byteOrder (the server took the same conversions up in 8.1), and its own
 * examples convert a bool to a one-byte binData.
 *
 * Everything the spec fixes is parsed when the expression is compiled: a
 * constant 'to', 'format' and 'byteOrder' become integers in n->slots, so
 * a record only pays for the conversion itself.
 */

#define CONV_FAIL (-1) /* ConversionFailure: onError applies */
#define CONV_HARD (-2) /* any other error */

/* Binary formats ('format'), and "none" when it is absent. */
enum {
	FMT_NONE = -1,
	FMT_AUTO,
	FMT_BASE64,
	FMT_BASE64URL,
	FMT_HEX,
	FMT_UTF8,
	FMT_UUID
};
static const char *const fmt_names[] = {
    "auto", "base64", "base64url", "hex", "utf8", "uuid"};

enum { ORDER_LITTLE, ORDER_BIG };

/* n->slots of a $convert node: what compiling found out. */
enum { S_TYPE, S_SUBTYPE, S_FORMAT, S_ORDER, S_N };
/* Not constant, or not valid: worked out (or failed) per record. */
#define RUNTIME (-100)
#define T_NULL (-101) /* 'to' is null: every result is null */

/* $convert's optional arguments, present when their bit is in n->aux; they
 * follow input and to in n->args in this order. */
#define HAS_ONERROR 0x1
#define HAS_ONNULL 0x2
#define HAS_FORMAT 0x4
#define HAS_ORDER 0x8

/* One conversion: the target and how to read or write binary data. */
struct conv {
	int type; /* a bson_type_t; BSON_TYPE_EOD is "missing" */
	int subtype; /* binData subtype; -1: work it out from subval */
	bson_value_t subval; /* to.subtype as given; missing: absent */
	int format; /* FMT_* */
	int order; /* ORDER_* */
};

static int conv_err(struct ectx *cx, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
conv_err(struct ectx *cx, int rc, const char *fmt, ...)
{
	va_list ap;

	if (cx->err != NULL) {
		va_start(ap, fmt);
		vsnprintf(cx->err->msg, sizeof(cx->err->msg), fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* ------------------------------------------------------------ helpers */

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	    c == '\r';
}

static void
set_str(struct ectx *cx, bson_value_t *out, const char *s, size_t n)
{
	out->value_type = BSON_TYPE_UTF8;
	/* An empty sp_buf has no data yet; memcpy must not see NULL. */
	out->value.v_utf8.str = sp_arena_dup(cx->arena, n > 0 ? s : "", n);
	out->value.v_utf8.len = (uint32_t)n;
}

static void
set_bin(struct ectx *cx, bson_value_t *out, const void *p, size_t n, int st)
{
	out->value_type = BSON_TYPE_BINARY;
	out->value.v_binary.data = sp_arena_dup(cx->arena, n > 0 ? p : "", n);
	out->value.v_binary.data_len = (uint32_t)n;
	out->value.v_binary.subtype = (bson_subtype_t)st;
}

/* MongoDB's Value::integral(): a whole number that fits in an int32. */
static bool
value_int32(const bson_value_t *v, int32_t *out)
{
	struct sp_decimal d;
	int64_t i;
	double x;

	switch (v->value_type) {
	case BSON_TYPE_INT32: *out = v->value.v_int32; return true;
	case BSON_TYPE_INT64: i = v->value.v_int64; break;
	case BSON_TYPE_DOUBLE:
		x = v->value.v_double;
		if (!(x >= INT32_MIN && x <= INT32_MAX) || x != trunc(x))
			return false;
		i = (int64_t)x;
		break;
	case BSON_TYPE_DECIMAL128:
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		if (sp_decimal_to_int64(&d, SP_DECIMAL_EXACT, &i) < 0)
			return false;
		break;
	default: return false;
	}
	if (i < INT32_MIN || i > INT32_MAX)
		return false;
	*out = (int32_t)i;
	return true;
}

static const char hex_upper[] = "0123456789ABCDEF";
static const char hex_lower[] = "0123456789abcdef";

static void
put_hex(struct sp_buf *b, const uint8_t *p, size_t n, const char *digits)
{
	uint8_t *q = sp_buf_reserve(b, 2 * n);
	size_t i;

	for (i = 0; i < n; i++) {
		*q++ = (uint8_t)digits[p[i] >> 4];
		*q++ = (uint8_t)digits[p[i] & 15];
	}
	b->len += 2 * n;
}

/* The rendering as a C string for a message (truncated to fit one). */
static const char *
repr(const bson_value_t *v, char *buf, size_t size)
{
	return sp_expr_value_cstr(buf, size, v, EXPR_TEXT_CONV);
}

/* ---------------------------------------------------- argument parsing */

static const struct {
	const char *name;
	int type;
} type_names[] = {
    {"double", BSON_TYPE_DOUBLE},
    {"string", BSON_TYPE_UTF8},
    {"object", BSON_TYPE_DOCUMENT},
    {"array", BSON_TYPE_ARRAY},
    {"binData", BSON_TYPE_BINARY},
    {"undefined", BSON_TYPE_UNDEFINED},
    {"objectId", BSON_TYPE_OID},
    {"bool", BSON_TYPE_BOOL},
    {"date", BSON_TYPE_DATE_TIME},
    {"null", BSON_TYPE_NULL},
    {"regex", BSON_TYPE_REGEX},
    {"dbPointer", BSON_TYPE_DBPOINTER},
    {"javascript", BSON_TYPE_CODE},
    {"symbol", BSON_TYPE_SYMBOL},
    {"javascriptWithScope", BSON_TYPE_CODEWSCOPE},
    {"int", BSON_TYPE_INT32},
    {"timestamp", BSON_TYPE_TIMESTAMP},
    {"long", BSON_TYPE_INT64},
    {"decimal", BSON_TYPE_DECIMAL128},
    {"minKey", BSON_TYPE_MINKEY},
    {"maxKey", BSON_TYPE_MAXKEY},
    {"missing", BSON_TYPE_EOD},
};

/* typeFromName() for a string 'to', isValidBSONType() for a number. */
static int
parse_type(struct sp_error *err, const bson_value_t *v, int *type)
{
	size_t i;
	int32_t code;

	if (v->value_type == BSON_TYPE_UTF8) {
		for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]);
		     i++) {
			if (strlen(type_names[i].name) == v->value.v_utf8.len &&
			    memcmp(type_names[i].name, v->value.v_utf8.str,
				v->value.v_utf8.len) == 0) {
				*type = type_names[i].type;
				return 0;
			}
		}
		return sp_error_set(err, "Unknown type name: %.*s",
		    (int)v->value.v_utf8.len, v->value.v_utf8.str);
	}
	if (!expr_is_number(v))
		return sp_error_set(err,
		    "$convert's 'to' argument must be a string or number, "
		    "but is %s",
		    sp_expr_type_name(v->value_type));
	if (!value_int32(v, &code))
		return sp_error_set(err,
		    "In $convert, numeric 'to' argument is not an integer");
	if (!((code >= 0 && code <= 19) || code == -1 || code == 127))
		return sp_error_set(err,
		    "In $convert, numeric value for 'to' does not correspond "
		    "to a BSON type: %d",
		    code);
	*type = code == -1 ? BSON_TYPE_MINKEY : code;
	return 0;
}

/*
 * ConvertTargetTypeInfo::parse: 'to' is a type, or {type:, subtype:}.
 * Returns 1 with the target in cv, 0 when 'to' is null or missing (the
 * result is then null), -1 on error.
 */
static int
parse_target(struct sp_error *err, const bson_value_t *to, struct conv *cv)
{
	bson_value_t tv = *to;
	bson_iter_t it;

	cv->subtype = -1;
	expr_set_missing(&cv->subval);
	if (expr_nullish(to))
		return 0;
	if (to->value_type == BSON_TYPE_DOCUMENT) {
		/* Copies: bson_iter_value's result changes with each key. */
		expr_set_missing(&tv);
		bson_iter_init_from_data(
		    &it, to->value.v_doc.data, to->value.v_doc.data_len);
		while (bson_iter_next(&it)) {
			if (strcmp(bson_iter_key(&it), "type") == 0 &&
			    tv.value_type == BSON_TYPE_EOD)
				tv = *bson_iter_value(&it);
			else if (strcmp(bson_iter_key(&it), "subtype") == 0 &&
			    cv->subval.value_type == BSON_TYPE_EOD)
				cv->subval = *bson_iter_value(&it);
		}
		/* No nullish shortcut here: server test
		 * NonStringNonNumericalTypeFails wants {dinosaur: ...} to fail
		 * as "must be a string or number". */
	}
	if (parse_type(err, &tv, &cv->type))
		return -1;
	return 1;
}

/* computeBinDataType(): the subtype 'to' asks for, 0 when it does not. */
static int
parse_subtype(struct sp_error *err, const bson_value_t *v, int *st)
{
	int32_t i;

	if (v->value_type == BSON_TYPE_EOD) {
		*st = 0;
		return 0;
	}
	if (!expr_is_number(v))
		return sp_error_set(err,
		    "For BinData, $convert's 'subtype' argument must be a "
		    "number, but is %s",
		    sp_expr_type_name(v->value_type));
	if (!value_int32(v, &i))
		return sp_error_set(err,
		    "In $convert, numeric 'subtype' argument is not an "
		    "integer");
	/* 0-9 are the defined subtypes (9 is vector), 128-255 user ones. */
	if (!((i >= 0 && i <= 9) || (i >= 128 && i <= 255)))
		return sp_error_set(err,
		    "In $convert, numeric value for 'subtype' does not "
		    "correspond to a BinData type: %d",
		    i);
	*st = i;
	return 0;
}

static int
parse_format(struct sp_error *err, const bson_value_t *v, int *fmt)
{
	char buf[256];
	size_t i;

	*fmt = FMT_NONE;
	if (expr_nullish(v))
		return 0;
	if (v->value_type != BSON_TYPE_UTF8)
		return sp_error_set(err,
		    "$convert requires that 'format' be a string, found: %s "
		    "with value %s",
		    sp_expr_type_name(v->value_type),
		    repr(v, buf, sizeof(buf)));
	for (i = 0; i < sizeof(fmt_names) / sizeof(fmt_names[0]); i++) {
		if (strlen(fmt_names[i]) == v->value.v_utf8.len &&
		    memcmp(fmt_names[i], v->value.v_utf8.str,
			v->value.v_utf8.len) == 0) {
			*fmt = (int)i;
			return 0;
		}
	}
	return sp_error_set(err, "Invalid 'format' argument for $convert: %.*s",
	    (int)v->value.v_utf8.len, v->value.v_utf8.str);
}

static int
parse_order(struct sp_error *err, const bson_value_t *v, int *order)
{
	char buf[256];
	const char *s;
	uint32_t n;

	*order = ORDER_LITTLE;
	if (expr_nullish(v))
		return 0;
	if (v->value_type != BSON_TYPE_UTF8)
		return sp_error_set(err,
		    "$convert requires that 'byteOrder' be a string, found: "
		    "%s with value %s",
		    sp_expr_type_name(v->value_type),
		    repr(v, buf, sizeof(buf)));
	s = v->value.v_utf8.str;
	n = v->value.v_utf8.len;
	if (n == 3 && memcmp(s, "big", 3) == 0)
		*order = ORDER_BIG;
	else if (!(n == 6 && memcmp(s, "little", 6) == 0))
		return sp_error_set(err,
		    "Invalid 'byteOrder' argument for $convert: %.*s", (int)n,
		    s);
	return 0;
}

/* --------------------------------------------------------- numbers */

static int
unsupported(struct ectx *cx, bson_type_t from, int to)
{
	return conv_err(cx, CONV_FAIL,
	    "Unsupported conversion from %s to %s in $convert with no "
	    "onError value",
	    sp_expr_type_name(from), sp_expr_type_name((bson_type_t)to));
}

static int
overflow(struct ectx *cx, const char *what)
{
	return conv_err(cx, CONV_FAIL,
	    "Conversion would overflow target type in $convert with no "
	    "onError value: %s",
	    what);
}

/* performCastDoubleToInt / performCastDoubleToLong. */
static int
double_to_int(struct ectx *cx, double x, bool to_int, int64_t *out)
{
	char buf[32];

	if (isnan(x))
		return conv_err(cx, CONV_FAIL,
		    "Attempt to convert NaN value to integer type in $convert "
		    "with no onError value");
	if (isinf(x))
		return conv_err(cx, CONV_FAIL,
		    "Attempt to convert infinity value to integer type in "
		    "$convert with no onError value");
	if (to_int
		? !(x >= INT32_MIN && x <= INT32_MAX)
		: !(x >= -9223372036854775808.0 && x < 9223372036854775808.0)) {
		/* MongoDB streams the double into the message: %g. */
		snprintf(buf, sizeof(buf), "%g", x);
		return overflow(cx, buf);
	}
	*out = (int64_t)x;
	return 0;
}

/* performCastDecimalToInt: truncates toward zero. */
static int
decimal_to_int(
    struct ectx *cx, const bson_value_t *v, bool to_int, int64_t *out)
{
	char buf[BSON_DECIMAL128_STRING];
	struct sp_decimal d;

	sp_decimal_unpack(&d, &v->value.v_decimal128);
	if (d.kind == SP_DECIMAL_NAN)
		return double_to_int(cx, NAN, to_int, out);
	if (d.kind == SP_DECIMAL_INF)
		return double_to_int(cx, INFINITY, to_int, out);
	if (sp_decimal_to_int64(&d, SP_DECIMAL_TRUNC, out) < 0 ||
	    (to_int && (*out < INT32_MIN || *out > INT32_MAX))) {
		bson_decimal128_to_string(&v->value.v_decimal128, buf);
		return overflow(cx, buf);
	}
	return 0;
}

/*
 * NumberParser for int and long (base 10): a sign, then digits only.
 * Returns NULL or MongoDB's reason.
 */
static const char *
parse_int(const char *s, uint32_t n, int64_t lo, int64_t hi, int64_t *out)
{
	uint32_t i = 0;
	uint64_t m = 0, max;
	bool neg = false;

	if (n > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == n)
		return "No digits";
	for (; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9)
			break;
		if (m > (UINT64_MAX - d) / 10)
			return "Overflow";
		m = m * 10 + d;
	}
	if (i != n)
		return "Did not consume whole string.";
	max = neg ? (uint64_t) - (lo + 1) + 1 : (uint64_t)hi;
	if (m > max)
		return "Overflow";
	*out = neg ? (int64_t)(0 - m) : (int64_t)m;
	return NULL;
}

/* NumberParser for a double: strtod, as the server calls it. */
static const char *
parse_double(struct ectx *cx, const char *s, uint32_t n, double *out)
{
	char *buf, *end;

	if (n == 0)
		return "Empty string";
	if (is_space(s[0]))
		return "Leading whitespace";
	buf = sp_arena_dup(cx->arena, s, n);
	errno = 0;
	*out = strtod(buf, &end);
	if (end == buf)
		return "Did not consume any digits";
	if (errno == ERANGE)
		return "Out of range";
	if (end != buf + n)
		return "Did not consume whole string.";
	return NULL;
}

static bool
prefix_ci(const char *s, uint32_t n, const char *word)
{
	size_t i, k = strlen(word);

	if (n < k)
		return false;
	for (i = 0; i < k; i++)
		if ((s[i] | 0x20) != word[i])
			return false;
	return true;
}

/* parseStringToNumber: every target rejects "0x" first (strtod would
 * read it), then says why NumberParser failed. */
static int
string_to_number(
    struct ectx *cx, const bson_value_t *v, int type, bson_value_t *out)
{
	const char *s = v->value.v_utf8.str, *why = NULL;
	uint32_t n = v->value.v_utf8.len;
	int64_t i;
	double x;

	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return conv_err(cx, CONV_FAIL,
		    "Illegal hexadecimal input in $convert with no onError "
		    "value: %.*s",
		    (int)n, s);
	switch (type) {
	case BSON_TYPE_INT32:
		if ((why = parse_int(s, n, INT32_MIN, INT32_MAX, &i)) == NULL)
			expr_set_int32(out, (int32_t)i);
		break;
	case BSON_TYPE_INT64:
		if ((why = parse_int(s, n, INT64_MIN, INT64_MAX, &i)) == NULL)
			expr_set_int64(out, i);
		break;
	case BSON_TYPE_DOUBLE:
		if ((why = parse_double(cx, s, n, &x)) == NULL)
			expr_set_double(out, x);
		break;
	default:
		out->value_type = BSON_TYPE_DECIMAL128;
		why = sp_decimal_parse(s, n, &out->value.v_decimal128);
		break;
	}
	if (why != NULL)
		return conv_err(cx, CONV_FAIL,
		    "Failed to parse number '%.*s' in $convert with no onError "
		    "value: %s",
		    (int)n, s, why);
	return 0;
}

/* ------------------------------------------------------------ dates */

static int
digits_at(const char *s, uint32_t n, uint32_t *i, int min, int max, int *v)
{
	int k = 0;

	*v = 0;
	while (k < max && *i < n && s[*i] >= '0' && s[*i] <= '9') {
		*v = *v * 10 + (s[*i] - '0');
		(*i)++;
		k++;
	}
	return k >= min ? 0 : -1;
}

/*
 * The ISO 8601 forms of TimeZoneDatabase::fromString (timelib): a date
 * "YYYY-MM-DD", then optionally "T" or a space and "HH:MM[:SS[.fff]]",
 * then optionally Z, UTC, GMT or an offset +HH[:MM]. Returns -1, or the
 * offset of the first character that does not fit.
 */
static long
parse_date(const char *s, uint32_t n, int64_t *ms)
{
	uint32_t i = 0;
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, fd, oh, om = 0;
	int64_t off = 0;

	while (i < n && is_space(s[i]))
		i++;
	if (digits_at(s, n, &i, 4, 4, &y) || i >= n || s[i++] != '-' ||
	    digits_at(s, n, &i, 1, 2, &mo) || i >= n || s[i++] != '-' ||
	    digits_at(s, n, &i, 1, 2, &d))
		return i < n ? (long)i : (long)n;
	if (mo < 1 || mo > 12 || d < 1 || d > sp_tz_days_in_month(y, mo))
		return 0;
	if (i < n &&
	    (s[i] == 'T' || s[i] == 't' ||
		(s[i] == ' ' && i + 1 < n && s[i + 1] >= '0' &&
		    s[i + 1] <= '9'))) {
		i++;
		if (digits_at(s, n, &i, 1, 2, &h) || i >= n || s[i++] != ':' ||
		    digits_at(s, n, &i, 2, 2, &mi))
			return (long)i;
		if (i < n && s[i] == ':') {
			i++;
			if (digits_at(s, n, &i, 2, 2, &sec))
				return (long)i;
			if (i < n && (s[i] == '.' || s[i] == ',')) {
				i++;
				fd = 0;
				if (i >= n || s[i] < '0' || s[i] > '9')
					return (long)i;
				/* Milliseconds: later digits are dropped. */
				while (i < n && s[i] >= '0' && s[i] <= '9') {
					if (fd++ < 3)
						frac = frac * 10 + (s[i] - '0');
					i++;
				}
				for (; fd < 3; fd++)
					frac *= 10;
			}
		}
		if (h > 23 || mi > 59 || sec > 59)
			return 0;
	}
	while (i < n && s[i] == ' ')
		i++;
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (n - i >= 3 &&
	    (prefix_ci(s + i, n - i, "utc") ||
		prefix_ci(s + i, n - i, "gmt"))) {
		i += 3;
	}
	if (i < n && (s[i] == '+' || s[i] == '-')) {
		int sign = s[i++] == '-' ? -1 : 1;

		if (digits_at(s, n, &i, 2, 2, &oh))
			return (long)i;
		if (i < n && s[i] == ':')
			i++;
		if (i < n && s[i] >= '0' && s[i] <= '9' &&
		    digits_at(s, n, &i, 2, 2, &om))
			return (long)i;
		if (oh > 23 || om > 59)
			return (long)i;
		off = sign * ((int64_t)oh * 3600000 + (int64_t)om * 60000);
	}
	while (i < n && is_space(s[i]))
		i++;
	if (i != n)
		return (long)i;
	*ms = sp_tz_days_from_civil(y, mo, d) * 86400000 +
	    (int64_t)h * 3600000 + (int64_t)mi * 60000 + (int64_t)sec * 1000 +
	    frac - off;
	return -1;
}

/* --------------------------------------------------------- binary data */

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64 with '=' padding; base64url without (MongoDB's encoders). */
static void
put_base64(struct sp_buf *b, const uint8_t *p, size_t n, bool url)
{
	const char *al = url ? b64_url : b64_std;
	uint32_t acc;
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		acc = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		sp_buf_putc(b, al[acc >> 18]);
		sp_buf_putc(b, al[acc >> 12 & 63]);
		sp_buf_putc(b, al[acc >> 6 & 63]);
		sp_buf_putc(b, al[acc & 63]);
	}
	if (n - i == 1) {
		acc = (uint32_t)p[i] << 16;
		sp_buf_putc(b, al[acc >> 18]);
		sp_buf_putc(b, al[acc >> 12 & 63]);
		if (!url)
			sp_buf_puts(b, "==");
	} else if (n - i == 2) {
		acc = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		sp_buf_putc(b, al[acc >> 18]);
		sp_buf_putc(b, al[acc >> 12 & 63]);
		sp_buf_putc(b, al[acc >> 6 & 63]);
		if (!url)
			sp_buf_putc(b, '=');
	}
}

static int
b64_value(char c, bool url)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(url ? b64_url : b64_std, c);
	return p == NULL ? -1 : (int)(p - (url ? b64_url : b64_std));
}

/* base64::decode / base64url::decode: NULL or the reason. */
static const char *
get_base64(struct sp_buf *b, const char *s, size_t n, bool url)
{
	size_t last, i, nbits;
	int v[4], k;
	uint32_t acc;

	if (n == 0)
		return NULL;
	last = n % 4 != 0 ? n % 4 : 4;
	if (last < (url ? 2u : 4u))
		return "invalid base64";
	for (i = 0; i + last < n; i += 4) {
		for (k = 0; k < 4; k++)
			if ((v[k] = b64_value(s[i + k], url)) < 0)
				return "Invalid base64 character";
		acc = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
		    (uint32_t)v[2] << 6 | (uint32_t)v[3];
		sp_buf_putc(b, (int)(acc >> 16 & 255));
		sp_buf_putc(b, (int)(acc >> 8 & 255));
		sp_buf_putc(b, (int)(acc & 255));
	}
	/* The last group may end in '=' (or, in base64url, be short). */
	nbits = 24;
	if (last < 4 || s[i + 3] == '=') {
		nbits -= 8;
		if (last < 3 || s[i + 2] == '=')
			nbits -= 8;
	}
	v[2] = v[3] = 0;
	for (k = 0; k < (nbits > 18 ? 4 : nbits > 12 ? 3 : 2); k++)
		if ((v[k] = b64_value(s[i + k], url)) < 0)
			return "Invalid base64 character";
	acc = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
	    (uint32_t)v[2] << 6 | (uint32_t)v[3];
	sp_buf_putc(b, (int)(acc >> 16 & 255));
	if (nbits > 8)
		sp_buf_putc(b, (int)(acc >> 8 & 255));
	if (nbits > 16)
		sp_buf_putc(b, (int)(acc & 255));
	return NULL;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* hexblob::decode: NULL or the reason (in why, room for it). */
static const char *
get_hex(struct sp_buf *b, const char *s, size_t n, char *why, size_t size)
{
	size_t i;
	int hi, lo;

	if (n % 2 != 0)
		return "Hex blob with odd digit count";
	for (i = 0; i < n; i += 2) {
		hi = hex_value(s[i]);
		lo = hex_value(s[i + 1]);
		if (hi < 0 || lo < 0) {
			snprintf(why, size,
			    "The character \\x%02x failed to parse from hex.",
			    (unsigned char)s[hi < 0 ? i : i + 1]);
			return why;
		}
		sp_buf_putc(b, hi << 4 | lo);
	}
	return NULL;
}

/* isValidUTF8 (mongo/util/text.cpp): byte structure only. */
static bool
valid_utf8(const uint8_t *s, size_t n)
{
	size_t i;
	int left = 0, ones;

	for (i = 0; i < n; i++) {
		uint8_t c = s[i];

		for (ones = 0; ones < 8 && (c & (0x80 >> ones)); ones++)
			;
		if (left > 0) {
			if (ones != 1)
				return false;
			left--;
		} else if (ones == 1 || c > 0xF4 || c == 0xC0 || c == 0xC1) {
			return false;
		} else if (ones > 0) {
			left = ones - 1;
		}
	}
	return left == 0;
}

/* UUID::isUUIDString and parse: 8-4-4-4-12 hex digits. */
static bool
parse_uuid(const char *s, size_t n, uint8_t u[16])
{
	size_t i, k = 0;

	if (n != 36)
		return false;
	for (i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : hex_value(s[i]) < 0)
			return false;
	}
	for (i = 0; i < 36; i++) {
		if (s[i] == '-')
			continue;
		u[k++] = (uint8_t)(hex_value(s[i]) << 4 | hex_value(s[i + 1]));
		i++;
	}
	return true;
}

static void
put_uuid(struct sp_buf *b, const uint8_t *u)
{
	put_hex(b, u, 4, hex_lower);
	sp_buf_putc(b, '-');
	put_hex(b, u + 4, 2, hex_lower);
	sp_buf_putc(b, '-');
	put_hex(b, u + 6, 2, hex_lower);
	sp_buf_putc(b, '-');
	put_hex(b, u + 8, 2, hex_lower);
	sp_buf_putc(b, '-');
	put_hex(b, u + 10, 6, hex_lower);
}

static int
conv_subtype(struct ectx *cx, const struct conv *c, int *st)
{
	if (c->subtype >= 0) {
		*st = c->subtype;
		return 0;
	}
	return parse_subtype(cx->err, &c->subval, st) ? CONV_HARD : 0;
}

/* performConvertBinDataToString. */
static int
bin_to_string(
    struct ectx *cx, const bson_value_t *v, int fmt, bson_value_t *out)
{
	const uint8_t *p = v->value.v_binary.data;
	uint32_t n = v->value.v_binary.data_len;
	bool uuid = v->value.v_binary.subtype == BSON_SUBTYPE_UUID && n == 16;
	const char *why = NULL;
	struct sp_buf b;
	char buf[256];
	int rc = 0;

	if (fmt == FMT_NONE)
		return conv_err(cx, CONV_HARD,
		    "Format must be speficied when converting from 'binData' "
		    "to 'string'");
	sp_buf_init(&b);
	switch (fmt) {
	case FMT_AUTO:
		if (uuid)
			put_uuid(&b, p);
		else
			put_base64(&b, p, n, false);
		break;
	case FMT_BASE64: put_base64(&b, p, n, false); break;
	case FMT_BASE64URL: put_base64(&b, p, n, true); break;
	case FMT_HEX: put_hex(&b, p, n, hex_upper); break;
	case FMT_UTF8:
		if (!valid_utf8(p, n))
			why = "BinData does not represent a valid UTF-8 string";
		else
			sp_buf_append(&b, p, n);
		break;
	default:
		if (!uuid)
			why = "BinData does not represent a valid UUID";
		else
			put_uuid(&b, p);
		break;
	}
	if (why != NULL)
		rc = conv_err(cx, CONV_FAIL,
		    "Failed to convert '%s' to string in $convert with no "
		    "onError value: %s",
		    repr(v, buf, sizeof(buf)), why);
	else
		set_str(cx, out, (const char *)b.data, b.len);
	sp_buf_release(&b);
	return rc;
}

/* parseStringToBinData. */
static int
string_to_bin(struct ectx *cx, const bson_value_t *v, const struct conv *c,
    bson_value_t *out)
{
	const char *s = v->value.v_utf8.str, *why = NULL;
	uint32_t n = v->value.v_utf8.len;
	char reason[600];
	uint8_t u[16];
	struct sp_buf b;
	int st, rc = 0;

	if (c->format == FMT_NONE)
		return conv_err(cx, CONV_HARD,
		    "Format must be speficied when converting from 'string' "
		    "to 'binData'");
	if ((rc = conv_subtype(cx, c, &st)) != 0)
		return rc;
	sp_buf_init(&b);
	if ((c->format == FMT_UUID) != (st == BSON_SUBTYPE_UUID)) {
		why = "Only the 'uuid' format is allowed with the UUID subtype";
	} else {
		switch (c->format) {
		case FMT_BASE64: why = get_base64(&b, s, n, false); break;
		case FMT_BASE64URL: why = get_base64(&b, s, n, true); break;
		case FMT_HEX:
			why = get_hex(&b, s, n, reason, sizeof(reason));
			break;
		case FMT_UTF8:
			if (!valid_utf8((const uint8_t *)s, n)) {
				snprintf(reason, sizeof(reason),
				    "Invalid UTF-8: %.*s", (int)n, s);
				why = reason;
			} else {
				sp_buf_append(&b, s, n);
			}
			break;
		case FMT_UUID:
			if (!parse_uuid(s, n, u)) {
				snprintf(reason, sizeof(reason),
				    "Invalid UUID string: %.*s", (int)n, s);
				why = reason;
			} else {
				sp_buf_append(&b, u, 16);
			}
			break;
		default: why = "Invalid format 'auto'"; break;
		}
	}
	if (why != NULL)
		rc = conv_err(cx, CONV_FAIL,
		    "Failed to parse BinData '%.*s' in $convert with no "
		    "onError "
		    "value: %s",
		    (int)n, s, why);
	else
		set_bin(cx, out, b.data, b.len, st);
	sp_buf_release(&b);
	return rc;
}

/* readSizedNumberFromBinData: int takes 1, 2 or 4 bytes, long also 8,
 * double 4 (a float) or 8, as two's complement or IEEE 754. */
static int
bin_to_number(struct ectx *cx, const bson_value_t *v, int type, int order,
    bson_value_t *out)
{
	const uint8_t *p = v->value.v_binary.data;
	uint32_t n = v->value.v_binary.data_len, i;
	uint64_t u = 0;
	uint32_t f32;
	char buf[256];
	float f;
	double x;
	bool ok;

	if (type == BSON_TYPE_DOUBLE)
		ok = n == 4 || n == 8;
	else
		ok = n == 1 || n == 2 || n == 4 ||
		    (n == 8 && type == BSON_TYPE_INT64);
	if (!ok)
		return conv_err(cx, CONV_FAIL,
		    "Failed to convert '%s' to number in $convert because of "
		    "invalid length: %u",
		    repr(v, buf, sizeof(buf)), n);
	for (i = 0; i < n; i++)
		u = u << 8 | p[order == ORDER_BIG ? i : n - 1 - i];
	if (type == BSON_TYPE_DOUBLE) {
		if (n == 4) {
			f32 = (uint32_t)u;
			memcpy(&f, &f32, 4);
			expr_set_double(out, f);
		} else {
			memcpy(&x, &u, 8);
			expr_set_double(out, x);
		}
		return 0;
	}
	/* Sign-extend the n-byte two's complement number. */
	if (n < 8 && (u >> (8 * n - 1)) != 0)
		u |= ~0ull << (8 * n);
	if (type == BSON_TYPE_INT32)
		expr_set_int32(out, (int32_t)(int64_t)u);
	else
		expr_set_int64(out, (int64_t)u);
	return 0;
}

/* writeNumberAccordingToEndianness: int as 4 bytes, long and double as 8. */
static int
number_to_bin(struct ectx *cx, const bson_value_t *v, const struct conv *c,
    bson_value_t *out)
{
	uint8_t p[8];
	uint64_t u;
	int n, i, st, rc;

	if ((rc = conv_subtype(cx, c, &st)) != 0)
		return rc;
	switch (v->value_type) {
	case BSON_TYPE_INT32:
		u = (uint32_t)v->value.v_int32;
		n = 4;
		break;
	case BSON_TYPE_INT64:
		u = (uint64_t)v->value.v_int64;
		n = 8;
		break;
	case BSON_TYPE_DOUBLE:
		memcpy(&u, &v->value.v_double, 8);
		n = 8;
		break;
	default:
		/* Atlas's examples: true is 0x01, false 0x00. */
		u = v->value.v_bool ? 1 : 0;
		n = 1;
		break;
	}
	for (i = 0; i < n; i++)
		p[c->order == ORDER_BIG ? n - 1 - i : i] =
		    (uint8_t)(u >> (8 * i));
	set_bin(cx, out, p, (size_t)n, st);
	return 0;
}

/* ------------------------------------------------------- conversions */

static int
to_double(struct ectx *cx, const bson_value_t *v, const struct conv *c,
    bson_value_t *out)
{
	char buf[BSON_DECIMAL128_STRING];
	struct sp_decimal d;
	double x;

	switch (v->value_type) {
	case BSON_TYPE_DOUBLE: *out = *v; return 0;
	case BSON_TYPE_UTF8:
		return string_to_number(cx, v, BSON_TYPE_DOUBLE, out);
	case BSON_TYPE_BOOL: expr_set_double(out, v->value.v_bool); return 0;
	case BSON_TYPE_DATE_TIME:
		expr_set_double(out, (double)v->value.v_datetime);
		return 0;
	case BSON_TYPE_INT32: expr_set_double(out, v->value.v_int32); return 0;
	case BSON_TYPE_INT64:
		expr_set_double(out, (double)v->value.v_int64);
		return 0;
	case BSON_TYPE_DECIMAL128:
		/* Inexact is fine; overflow and underflow are not. */
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		x = sp_decimal_to_double(&d);
		if (d.kind == SP_DECIMAL_FINITE && d.coef != 0 &&
		    (isinf(x) || fabs(x) < DBL_MIN)) {
			bson_decimal128_to_string(&v->value.v_decimal128, buf);
			return overflow(cx, buf);
		}
		expr_set_double(out, x);
		return 0;
	case BSON_TYPE_BINARY:
		return bin_to_number(cx, v, BSON_TYPE_DOUBLE, c->order, out);
	default: return unsupported(cx, v->value_type, BSON_TYPE_DOUBLE);
	}
}

static int
to_string(struct ectx *cx, const bson_value_t *v, const struct conv *c,
    bson_value_t *out)
{
	char buf[64];
	struct sp_buf b;
	double x;
	int64_t y;

	switch (v->value_type) {
	case BSON_TYPE_DOUBLE:
		/* performFormatDouble in 8.0 streams the double, which is
		 * %g: 6 significant digits ("0.333333", "1e+21"). 8.3 moved
		 * to the shortest round trip. */
		x = v->value.v_double;
		if (isinf(x))
			snprintf(buf, sizeof(buf), "%s",
			    x < 0 ? "-Infinity" : "Infinity");
		else if (isnan(x))
			snprintf(buf, sizeof(buf), "NaN");
		else if (x == 0 && signbit(x))
			snprintf(buf, sizeof(buf), "-0");
		else
			snprintf(buf, sizeof(buf), "%g", x);
		break;
	case BSON_TYPE_UTF8: *out = *v; return 0;
	case BSON_TYPE_OID:
	case BSON_TYPE_DECIMAL128:
		sp_buf_init(&b);
		sp_expr_value_string(&b, v, EXPR_TEXT_CONV);
		set_str(cx, out, (const char *)b.data, b.len);
		sp_buf_release(&b);
		return 0;
	case BSON_TYPE_BOOL:
		expr_set_cstr(out, v->value.v_bool ? "true" : "false");
		return 0;
	case BSON_TYPE_DATE_TIME:
		y = sp_expr_iso_date(buf, sizeof(buf), v->value.v_datetime);
		if (y < 0 || y > 9999)
			return conv_err(cx, CONV_HARD,
			    "Could not convert date to string: date component "
			    "was outside the supported range of 0-9999: %lld",
			    (long long)y);
		break;
	case BSON_TYPE_INT32:
		snprintf(buf, sizeof(buf), "%d", v->value.v_int32);
		break;
	case BSON_TYPE_INT64:
		snprintf(buf, sizeof(buf), "%lld", (long long)v->value.v_int64);
		break;
	case BSON_TYPE_BINARY: return bin_to_string(cx, v, c->format, out);
	default: return unsupported(cx, v->value_type, BSON_TYPE_UTF8);
	}
	set_str(cx, out, buf, strlen(buf));
	return 0;
}

static int
to_oid(struct ectx *cx, const bson_value_t *v, bson_value_t *out)
{
	const char *s;
	uint32_t n, i;
	char why[80];

	if (v->value_type == BSON_TYPE_OID) {
		*out = *v;
		return 0;
	}
	if (v->value_type != BSON_TYPE_UTF8)
		return unsupported(cx, v->value_type, BSON_TYPE_OID);
	s = v->value.v_utf8.str;
	n = v->value.v_utf8.len;
	why[0] = '\0';
	if (n != 24)
		snprintf(why, sizeof(why),
		    "Invalid string length for parsing to OID, expected 24 but "
		    "found %u",
		    n);
	for (i = 0; i < n && why[0] == '\0'; i++)
		if (hex_value(s[i]) < 0)
			snprintf(why, sizeof(why),
			    "Invalid character found in hex string: %c", s[i]);
	if (why[0] != '\0')
		return conv_err(cx, CONV_FAIL,
		    "Failed to parse objectId '%.*s' in $convert with no "
		    "onError value: %s",
		    (int)n, s, why);
	out->value_type = BSON_TYPE_OID;
	for (i = 0; i < 12; i++)
		out->value.v_oid.bytes[i] = (uint8_t)(hex_value(s[2 * i]) << 4 |
		    hex_value(s[2 * i + 1]));
	return 0;
}

static int
to_date(struct ectx *cx, const bson_value_t *v, bson_value_t *out)
{
	const uint8_t *o;
	int64_t ms;
	long at;
	int rc;

	switch (v->value_type) {
	case BSON_TYPE_DOUBLE:
		if ((rc = double_to_int(cx, v->value.v_double, false, &ms)))
			return rc;
		break;
	case BSON_TYPE_UTF8:
		at = parse_date(v->value.v_utf8.str, v->value.v_utf8.len, &ms);
		if (at >= 0)
			return conv_err(cx, CONV_FAIL,
			    "Error parsing date string '%.*s'; %ld: "
			    "Unexpected character",
			    (int)v->value.v_utf8.len, v->value.v_utf8.str, at);
		break;
	case BSON_TYPE_OID:
		o = v->value.v_oid.bytes;
		ms = ((int64_t)o[0] << 24 | (int64_t)o[1] << 16 |
			 (int64_t)o[2] << 8 | o[3]) *
		    1000;
		break;
	case BSON_TYPE_DATE_TIME: *out = *v; return 0;
	case BSON_TYPE_TIMESTAMP:
		ms = (int64_t)v->value.v_timestamp.timestamp * 1000;
		break;
	case BSON_TYPE_INT64: ms = v->value.v_int64; break;
	case BSON_TYPE_DECIMAL128:
		if ((rc = decimal_to_int(cx, v, false, &ms)))
			return rc;
		break;
	default: return unsupported(cx, v->value_type, BSON_TYPE_DATE_TIME);
	}
	expr_set_date(out, ms);
	return 0;
}

/* To int (to_int) or long. */
static int
to_integer(struct ectx *cx, const bson_value_t *v, const struct conv *c,
    bson_value_t *out)
{
	bool to_int = c->type == BSON_TYPE_INT32;
	int64_t i;
	int rc;

	switch (v->value_type) {
	case BSON_TYPE_DOUBLE:
		if ((rc = double_to_int(cx, v->value.v_double, to_int, &i)))
			return rc;
		break;
	case BSON_TYPE_UTF8: return string_to_number(cx, v, c->type, out);
	case BSON_TYPE_BOOL: i = v->value.v_bool; break;
	case BSON_TYPE_DATE_TIME:
		if (to_int)
			return unsupported(cx, v->value_type, c->type);
		i = v->value.v_datetime;
		break;
	case BSON_TYPE_INT32: i = v->value.v_int32; break;
	case BSON_TYPE_INT64:
		i = v->value.v_int64;
		/* performCastLongToInt says nothing after the colon. */
		if (to_int && (i < INT32_MIN || i > INT32_MAX))
			return overflow(cx, "");
		break;
	case BSON_TYPE_DECIMAL128:
		if ((rc = decimal_to_int(cx, v, to_int, &i)))
			return rc;
		break;
	case BSON_TYPE_BINARY:
		return bin_to_number(cx, v, c->type, c->order, out);
	default: return unsupported(cx, v->value_type, c->type);
	}
	if (to_int)
		expr_set_int32(out, (int32_t)i);
	else
		expr_set_int64(out, i);
	return 0;
}

static int
to_decimal(struct ectx *cx, const bson_value_t *v, bson_value_t *out)
{
	struct sp_decimal d;

	switch (v->value_type) {
	case BSON_TYPE_DOUBLE:
		/* coerceToDecimal: 15 significant digits, so 0.1 becomes
		 * 0.100000000000000. */
		sp_decimal_from_double(&d, v->value.v_double, 15);
		break;
	case BSON_TYPE_UTF8:
		return string_to_number(cx, v, BSON_TYPE_DECIMAL128, out);
	case BSON_TYPE_BOOL: sp_decimal_from_int64(&d, v->value.v_bool); break;
	case BSON_TYPE_DATE_TIME:
		sp_decimal_from_int64(&d, v->value.v_datetime);
		break;
	case BSON_TYPE_INT32:
		sp_decimal_from_int64(&d, v->value.v_int32);
		break;
	case BSON_TYPE_INT64:
		sp_decimal_from_int64(&d, v->value.v_int64);
		break;
	case BSON_TYPE_DECIMAL128: *out = *v; return 0;
	default: return unsupported(cx, v->value_type, BSON_TYPE_DECIMAL128);
	}
	expr_set_dec(out, &d);
	return 0;
}

static int
to_bin(struct ectx *cx, const bson_value_t *v, const struct conv *c,
    bson_value_t *out)
{
	int st, rc;

	switch (v->value_type) {
	case BSON_TYPE_BINARY:
		if ((rc = conv_subtype(cx, c, &st)) != 0)
			return rc;
		if (st != (int)v->value.v_binary.subtype)
			return conv_err(cx, CONV_FAIL,
			    "Conversions between different BinData subtypes "
			    "are not supported");
		*out = *v;
		return 0;
	case BSON_TYPE_UTF8: return string_to_bin(cx, v, c, out);
	case BSON_TYPE_INT32:
	case BSON_TYPE_INT64:
	case BSON_TYPE_DOUBLE:
	case BSON_TYPE_BOOL: return number_to_bin(cx, v, c, out);
	default: return unsupported(cx, v->value_type, BSON_TYPE_BINARY);
	}
}

/* Converts v (not nullish) as c says: 0, CONV_FAIL or CONV_HARD. */
static int
convert(struct ectx *cx, const bson_value_t *v, const struct conv *c,
    bson_value_t *out)
{
	switch (c->type) {
	case BSON_TYPE_DOUBLE: return to_double(cx, v, c, out);
	case BSON_TYPE_UTF8: return to_string(cx, v, c, out);
	case BSON_TYPE_OID: return to_oid(cx, v, out);
	case BSON_TYPE_BOOL:
		/* Numbers by value; every other type is true. */
		expr_set_bool(out, sp_value_truthy(v));
		return 0;
	case BSON_TYPE_DATE_TIME: return to_date(cx, v, out);
	case BSON_TYPE_INT32:
	case BSON_TYPE_INT64: return to_integer(cx, v, c, out);
	case BSON_TYPE_DECIMAL128: return to_decimal(cx, v, out);
	case BSON_TYPE_BINARY: return to_bin(cx, v, c, out);
	default: return unsupported(cx, v->value_type, c->type);
	}
}

/* ------------------------------------------------------------ $convert */

static const struct enode *
opt_arg(const struct enode *n, int bit)
{
	int i = 2, b;

	if (!(n->aux & bit))
		return NULL;
	for (b = 1; b < bit; b <<= 1)
		if (n->aux & b)
			i++;
	return n->args[i];
}

/* Parses what is constant now, so records do not parse it again. */
static void
precompute(struct enode *n)
{
	const struct enode *a;
	struct conv cv;
	int *s = n->slots;

	s[S_TYPE] = s[S_SUBTYPE] = RUNTIME;
	if (sp_expr_is_const(n->args[1])) {
		switch (parse_target(NULL, &n->args[1]->cval, &cv)) {
		case 0: s[S_TYPE] = T_NULL; break;
		case 1:
			s[S_TYPE] = cv.type;
			if (parse_subtype(NULL, &cv.subval, &s[S_SUBTYPE]))
				s[S_SUBTYPE] = RUNTIME;
			break;
		}
	}
	s[S_FORMAT] = FMT_NONE;
	if ((a = opt_arg(n, HAS_FORMAT)) != NULL &&
	    (!sp_expr_is_const(a) ||
		parse_format(NULL, &a->cval, &s[S_FORMAT])))
		s[S_FORMAT] = RUNTIME;
	s[S_ORDER] = ORDER_LITTLE;
	if ((a = opt_arg(n, HAS_ORDER)) != NULL &&
	    (!sp_expr_is_const(a) || parse_order(NULL, &a->cval, &s[S_ORDER])))
		s[S_ORDER] = RUNTIME;
}

/* {$convert: {input:, to:, onError:, onNull:, format:, byteOrder:}}. */
static int
compile_convert(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	static const char *const names[] = {
	    "input", "to", "onError", "onNull", "format", "byteOrder"};
	struct enode *parts[6] = {NULL}, *n;
	bson_iter_t it;
	size_t i;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(c->err,
		    "$convert expects an object of named arguments but found: "
		    "%s",
		    sp_expr_type_name(arg->value_type));
	bson_iter_init_from_data(
	    &it, arg->value.v_doc.data, arg->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		for (i = 0; i < 6; i++)
			if (strcmp(bson_iter_key(&it), names[i]) == 0)
				break;
		if (i == 6) {
			sp_error_set(c->err,
			    "$convert found an unknown argument: %s",
			    bson_iter_key(&it));
			goto fail;
		}
		sp_expr_node_free(parts[i]);
		parts[i] = NULL;
		if (sp_expr_compile_value(c, bson_iter_value(&it), &parts[i]))
			goto fail;
	}
	if (parts[0] == NULL) {
		sp_error_set(c->err, "Missing 'input' parameter to $convert");
		goto fail;
	}
	if (parts[1] == NULL) {
		sp_error_set(c->err, "Missing 'to' parameter to $convert");
		goto fail;
	}
	n = sp_expr_node_new(op->eval);
	n->op = op;
	for (i = 0; i < 6; i++) {
		if (parts[i] == NULL)
			continue;
		sp_expr_add_arg(n, parts[i]);
		if (i >= 2)
			n->aux |= 1 << (i - 2);
	}
	n->slots = sp_xcalloc(S_N, sizeof(*n->slots));
	precompute(n);
	*out = n;
	return 0;
fail:
	for (i = 0; i < 6; i++)
		sp_expr_node_free(parts[i]);
	return -1;
}

static int
eval_convert(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	const int *s = n->slots;
	const struct enode *a;
	bson_value_t in, to, fmt, order;
	struct conv cv;
	int rc;

	/* MongoDB evaluates every argument but onError and onNull before it
	 * looks at any: an error in 'to' beats a null input. */
	if (s[S_TYPE] == RUNTIME && expr_eval(n->args[1], cx, &to))
		return -1;
	if (expr_eval(n->args[0], cx, &in))
		return -1;
	if (s[S_FORMAT] == RUNTIME &&
	    expr_eval(opt_arg(n, HAS_FORMAT), cx, &fmt))
		return -1;
	if (s[S_ORDER] == RUNTIME &&
	    expr_eval(opt_arg(n, HAS_ORDER), cx, &order))
		return -1;
	if (s[S_TYPE] == RUNTIME) {
		if ((rc = parse_target(cx->err, &to, &cv)) < 0)
			return -1;
		if (rc == 0)
			cv.type = T_NULL;
	} else {
		cv.type = s[S_TYPE];
		cv.subtype = s[S_SUBTYPE];
		expr_set_missing(&cv.subval);
		if (cv.subtype == RUNTIME) {
			/* A constant 'to' whose subtype is wrong: parse it
			 * again for the error. */
			parse_target(NULL, &n->args[1]->cval, &cv);
		}
	}
	if (expr_nullish(&in)) {
		if ((a = opt_arg(n, HAS_ONNULL)) != NULL)
			return expr_eval(a, cx, out);
		expr_set_null(out);
		return 0;
	}
	if (cv.type == T_NULL) {
		expr_set_null(out);
		return 0;
	}
	cv.format = s[S_FORMAT];
	if (cv.format == RUNTIME && parse_format(cx->err, &fmt, &cv.format))
		return -1;
	cv.order = s[S_ORDER];
	if (cv.order == RUNTIME && parse_order(cx->err, &order, &cv.order))
		return -1;
	rc = convert(cx, &in, &cv, out);
	if (rc == CONV_FAIL && (a = opt_arg(n, HAS_ONERROR)) != NULL)
		return expr_eval(a, cx, out);
	return rc == 0 ? 0 : -1;
}

/* $toBool, $toInt, ...: $convert without onError or onNull; $toString
 * formats binary data as a UUID or base64 ("auto"). */
static int
eval_to(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t in;
	struct conv cv;

	if (expr_eval(n->args[0], cx, &in))
		return -1;
	if (expr_nullish(&in)) {
		expr_set_null(out);
		return 0;
	}
	cv.type = n->aux;
	cv.subtype = 0;
	expr_set_missing(&cv.subval);
	cv.format = n->aux == BSON_TYPE_UTF8 ? FMT_AUTO : FMT_NONE;
	cv.order = ORDER_LITTLE;
	return convert(cx, &in, &cv, out) == 0 ? 0 : -1;
}

/* Sorted by name (expr.c checks). */
static const struct expr_op ops[] = {
    {"$convert", compile_convert, eval_convert, 0, 0, 0, 0},
    {"$toBool", NULL, eval_to, 1, 1, BSON_TYPE_BOOL, 0},
    {"$toDate", NULL, eval_to, 1, 1, BSON_TYPE_DATE_TIME, 0},
    {"$toDecimal", NULL, eval_to, 1, 1, BSON_TYPE_DECIMAL128, 0},
    {"$toDouble", NULL, eval_to, 1, 1, BSON_TYPE_DOUBLE, 0},
    {"$toInt", NULL, eval_to, 1, 1, BSON_TYPE_INT32, 0},
    {"$toLong", NULL, eval_to, 1, 1, BSON_TYPE_INT64, 0},
    {"$toObjectId", NULL, eval_to, 1, 1, BSON_TYPE_OID, 0},
    {"$toString", NULL, eval_to, 1, 1, BSON_TYPE_UTF8, 0},
};

const struct expr_optable sp_expr_conv_ops = {
    ops, sizeof(ops) / sizeof(ops[0])};
