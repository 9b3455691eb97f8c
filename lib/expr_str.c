/* expr_str.c: string operators ($concat, $substr*, $split, $regex*, ...). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "expr_int.h"

/*
 * MongoDB's string operators work on bytes: only the *CP operators, $trim
 * and the regex operators know about UTF-8 code points, and $toLower,
 * $toUpper and $strcasecmp change ASCII letters only (boost's case
 * functions in the "C" locale). Messages, argument order and the null
 * rules follow the server's evaluate_string.cpp and evaluate_regex.cpp
 * (classic engine) as of 8.x; where that code has a quirk, so does this
 * file, with a comment saying so.
 *
 * Results are new strings in the arena, NUL-terminated for the benefit of
 * callers that want C strings; an operator whose result is its whole input
 * returns the input itself.
 */

/* StringBuilder's cap (BufferMaxSize): longer strings are an error. */
#define STR_MAX ((size_t)64 << 20)

/* ----------------------------------------------------------- UTF-8 */

static bool
is_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/* str::getCodePointLength: 1 for ASCII, else the count of leading ones. */
static size_t
cp_len(unsigned char c)
{
	size_t n = 0;

	if (c < 0x80)
		return 1;
	while (c & 0x80) {
		n++;
		c <<= 1;
	}
	return n;
}

/* str::lengthInUTF8CodePoints: the bytes that are not continuations. */
static size_t
cp_count(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (!is_cont((unsigned char)s[i]))
			n++;
	return n;
}

/* ---------------------------------------------------- string results */

static void
set_str(bson_value_t *out, const char *s, size_t len)
{
	out->value_type = BSON_TYPE_UTF8;
	out->value.v_utf8.str = (char *)(s != NULL ? s : "");
	out->value.v_utf8.len = (uint32_t)len;
}

/* A copy of s in the arena. */
static void
dup_str(struct ectx *cx, bson_value_t *out, const char *s, size_t len)
{
	set_str(out, sp_arena_dup(cx->arena, s != NULL ? s : "", len), len);
}

/* A string under construction in the arena. */
struct sbuf {
	struct sp_arena *arena;
	char *p;
	size_t len, cap;
};

static void
sb_init(struct sbuf *b, struct sp_arena *a, size_t cap)
{
	b->arena = a;
	b->cap = cap < 32 ? 32 : cap;
	b->p = sp_arena_alloc(a, b->cap + 1);
	b->len = 0;
}

static int
sb_put(struct sbuf *b, const char *s, size_t n, struct sp_error *err)
{
	char *p;

	if (n > STR_MAX - b->len)
		return sp_error_set(err,
		    "BufBuilder attempted to grow() to %zu bytes, past the "
		    "64MB limit.",
		    b->len + n);
	if (b->len + n > b->cap) {
		/* The old block is reclaimed when the arena is reset. */
		b->cap = b->cap * 2 > b->len + n ? b->cap * 2 : b->len + n;
		p = sp_arena_alloc(b->arena, b->cap + 1);
		memcpy(p, b->p, b->len);
		b->p = p;
	}
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

static void
sb_finish(struct sbuf *b, bson_value_t *out)
{
	b->p[b->len] = '\0';
	set_str(out, b->p, b->len);
}

/* ------------------------------------------- rendering for messages */

/* Messages are at most sizeof(struct sp_error), so is this. */
struct vstr {
	char s[sizeof(((struct sp_error *)0)->msg)];
};

static const char *
vstr(struct vstr *b, const bson_value_t *v)
{
	return sp_expr_value_cstr(b->s, sizeof(b->s), v, EXPR_TEXT_DEPTH);
}

/* ------------------------------------------------- value coercions */

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/*
 * Value::coerceToString: strings (and symbols, code) as they are, numbers
 * as StringBuilder prints them, dates in ISO form, nullish as "", anything
 * else an error. The result may point into v or into the arena.
 */
static int
coerce_str(struct ectx *cx, const bson_value_t *v, const char **s, size_t *len)
{
	char *buf;
	int64_t y;

	switch (v->value_type) {
	case BSON_TYPE_UTF8:
		*s = v->value.v_utf8.str;
		*len = v->value.v_utf8.len;
		return 0;
	case BSON_TYPE_SYMBOL:
		*s = v->value.v_symbol.symbol;
		*len = v->value.v_symbol.len;
		return 0;
	case BSON_TYPE_CODE:
		*s = v->value.v_code.code;
		*len = v->value.v_code.code_len;
		return 0;
	case BSON_TYPE_EOD:
	case BSON_TYPE_NULL:
	case BSON_TYPE_UNDEFINED:
		*s = "";
		*len = 0;
		return 0;
	default: break;
	}
	buf = sp_arena_alloc(cx->arena, 64);
	switch (v->value_type) {
	case BSON_TYPE_DOUBLE:
		snprintf(buf, 64, "%g", v->value.v_double);
		break;
	case BSON_TYPE_INT32:
		snprintf(buf, 64, "%d", (int)v->value.v_int32);
		break;
	case BSON_TYPE_INT64:
		snprintf(buf, 64, "%lld", (long long)v->value.v_int64);
		break;
	case BSON_TYPE_DECIMAL128:
		bson_decimal128_to_string(&v->value.v_decimal128, buf);
		break;
	case BSON_TYPE_DATE_TIME:
		y = sp_expr_iso_date(buf, 64, v->value.v_datetime);
		if (y < 0 || y > 9999)
			return sp_error_set(cx->err,
			    "failed while coercing date to string :: caused by "
			    ":: $dateToString is only defined on year 0-9999, "
			    "tried to use year %lld",
			    (long long)y);
		break;
	case BSON_TYPE_TIMESTAMP: {
		/*
		 * Timestamp::toStringPretty: ctime(3) without the weekday and
		 * year, then ":" and the increment. ctime uses the server's
		 * local time zone; Atlas runs in UTC, and so does this.
		 */
		time_t secs = (time_t)v->value.v_timestamp.timestamp;
		struct tm tm;

		gmtime_r(&secs, &tm);
		snprintf(buf, 64, "%s%3d %02d:%02d:%02d:%u", months[tm.tm_mon],
		    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    (unsigned)v->value.v_timestamp.increment);
		break;
	}
	default:
		return sp_error_set(cx->err,
		    "can't convert from BSON type %s to String",
		    sp_expr_type_name(v->value_type));
	}
	*s = buf;
	*len = strlen(buf);
	return 0;
}

/*
 * Value::coerceToLong, as $substrBytes uses it: doubles truncate and must
 * fit; decimals round half to even (Decimal128::toLong's default), and one
 * that does not fit becomes INT64_MIN, as the Intel library answers.
 */
static int
coerce_long(const bson_value_t *v, int64_t *out, struct sp_error *err)
{
	struct sp_decimal d;
	double x;

	switch (v->value_type) {
	case BSON_TYPE_INT32: *out = v->value.v_int32; return 0;
	case BSON_TYPE_INT64: *out = v->value.v_int64; return 0;
	case BSON_TYPE_DOUBLE:
		x = v->value.v_double;
		if (!(x >= -0x1p63 && x < 0x1p63)) {
			char buf[32];

			snprintf(buf, sizeof(buf), "%g", x);
			return sp_error_set(err,
			    "Can't coerce out of range value %s to long", buf);
		}
		*out = (int64_t)x;
		return 0;
	default:
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		if (sp_decimal_to_int64(&d, SP_DECIMAL_HALF_EVEN, out))
			*out = INT64_MIN;
		return 0;
	}
}

/*
 * Value::integral and then coerceToInt: a number that is exactly a 32-bit
 * integer (1.0 and NumberDecimal("2.00") are; 1.5 and 2^31 are not).
 */
static bool
integral(const bson_value_t *v, int32_t *out)
{
	struct sp_decimal d;
	int64_t l;
	double x;

	switch (v->value_type) {
	case BSON_TYPE_INT32: *out = v->value.v_int32; return true;
	case BSON_TYPE_INT64:
		if (v->value.v_int64 < INT32_MIN ||
		    v->value.v_int64 > INT32_MAX)
			return false;
		*out = (int32_t)v->value.v_int64;
		return true;
	case BSON_TYPE_DOUBLE:
		x = v->value.v_double;
		if (!(x >= INT32_MIN && x <= INT32_MAX) || x != (int32_t)x)
			return false;
		*out = (int32_t)x;
		return true;
	case BSON_TYPE_DECIMAL128:
		/* Decimal128::toIntExact: no digit may be lost. */
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		if (sp_decimal_to_int64(&d, SP_DECIMAL_EXACT, &l) ||
		    l < INT32_MIN || l > INT32_MAX)
			return false;
		*out = (int32_t)l;
		return true;
	default: return false;
	}
}

/* ------------------------------------------------------------ $concat */

static int
op_concat(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t local[8], *v = local;
	size_t total = 0;
	struct sbuf b;
	int i;

	if (n->nargs > 8)
		v = sp_arena_alloc(cx->arena, sizeof(*v) * n->nargs);
	for (i = 0; i < n->nargs; i++) {
		if (expr_eval(n->args[i], cx, &v[i]))
			return -1;
		if (expr_nullish(&v[i])) {
			expr_set_null(out);
			return 0;
		}
		if (v[i].value_type != BSON_TYPE_UTF8)
			return sp_error_set(cx->err,
			    "$concat only supports strings, not %s",
			    sp_expr_type_name(v[i].value_type));
		total += v[i].value.v_utf8.len;
	}
	if (n->nargs == 1) {
		*out = v[0];
		return 0;
	}
	sb_init(&b, cx->arena, total);
	for (i = 0; i < n->nargs; i++)
		if (sb_put(&b, v[i].value.v_utf8.str, v[i].value.v_utf8.len,
			cx->err))
			return -1;
	sb_finish(&b, out);
	return 0;
}

/* ------------------------------------------------------------ $substr */

/* $substr is an alias whose errors say $substrBytes, arity included. */
static int
compile_substr(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	if (sp_expr_compile_nary(c, op, arg, false, out))
		return -1;
	if ((*out)->nargs != 3) {
		sp_error_set(c->err,
		    "Expression $substrBytes takes exactly 3 arguments. %d "
		    "were "
		    "passed in.",
		    (*out)->nargs);
		sp_expr_node_free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int
op_substr_bytes(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t v, lo, ln;
	int64_t slo, sln;
	size_t len, lower, count;
	const char *s;

	if (expr_eval(n->args[0], cx, &v) || expr_eval(n->args[1], cx, &lo) ||
	    expr_eval(n->args[2], cx, &ln))
		return -1;
	if (coerce_str(cx, &v, &s, &len))
		return -1;
	/* The double spaces after the colon are the server's. */
	if (!expr_is_number(&lo))
		return sp_error_set(cx->err,
		    "$substrBytes:  starting index must be a numeric type (is "
		    "BSON type %s)",
		    sp_expr_type_name(lo.value_type));
	if (!expr_is_number(&ln))
		return sp_error_set(cx->err,
		    "$substrBytes:  length must be a numeric type (is BSON "
		    "type "
		    "%s)",
		    sp_expr_type_name(ln.value_type));
	if (coerce_long(&lo, &slo, cx->err))
		return -1;
	if (slo < 0)
		return sp_error_set(cx->err,
		    "$substrBytes:  starting index must be non-negative (got: "
		    "%lld)",
		    (long long)slo);
	if (coerce_long(&ln, &sln, cx->err))
		return -1;
	lower = (size_t)slo;
	/* A negative length means the rest of the string. */
	count = sln < 0 ? len : (size_t)sln;
	if (lower < len && is_cont((unsigned char)s[lower]))
		return sp_error_set(cx->err,
		    "$substrBytes:  Invalid range, starting index is a UTF-8 "
		    "continuation byte.");
	/* The byte after the last one taken must start a character. */
	if (count < len - (lower < len ? lower : len) &&
	    is_cont((unsigned char)s[lower + count]))
		return sp_error_set(cx->err,
		    "$substrBytes:  Invalid range, ending index is in the "
		    "middle "
		    "of a UTF-8 character.");
	if (lower >= len) {
		set_str(out, "", 0);
		return 0;
	}
	if (count > len - lower)
		count = len - lower;
	if (lower == 0 && count == len && v.value_type == BSON_TYPE_UTF8) {
		*out = v;
		return 0;
	}
	dup_str(cx, out, s + lower, count);
	return 0;
}

static int
op_substr_cp(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t v, lo, ln;
	struct vstr vs;
	int32_t start, count, i;
	size_t len, from, to, cl;
	const char *s;

	if (expr_eval(n->args[0], cx, &v) || expr_eval(n->args[1], cx, &lo) ||
	    expr_eval(n->args[2], cx, &ln))
		return -1;
	if (coerce_str(cx, &v, &s, &len))
		return -1;
	if (!expr_is_number(&lo))
		return sp_error_set(cx->err,
		    "$substrCP: starting index must be a numeric type (is BSON "
		    "type %s)",
		    sp_expr_type_name(lo.value_type));
	if (!integral(&lo, &start))
		return sp_error_set(cx->err,
		    "$substrCP: starting index cannot be represented as a "
		    "32-bit integral value: %s",
		    vstr(&vs, &lo));
	if (!expr_is_number(&ln))
		return sp_error_set(cx->err,
		    "$substrCP: length must be a numeric type (is BSON type "
		    "%s)",
		    sp_expr_type_name(ln.value_type));
	if (!integral(&ln, &count))
		return sp_error_set(cx->err,
		    "$substrCP: length cannot be represented as a 32-bit "
		    "integral value: %s",
		    vstr(&vs, &ln));
	if (count < 0)
		return sp_error_set(cx->err,
		    "$substrCP: length must be a nonnegative integer.");
	if (start < 0)
		return sp_error_set(cx->err,
		    "$substrCP: the starting index must be nonnegative "
		    "integer.");
	/* substr_utils::getSubstringCP */
	for (from = 0, i = 0; i < start; i++) {
		if (from >= len) {
			set_str(out, "", 0);
			return 0;
		}
		cl = cp_len((unsigned char)s[from]);
		if (is_cont((unsigned char)s[from]) || cl > 4)
			return sp_error_set(
			    cx->err, "$substrCP: invalid UTF-8 string");
		from += cl;
	}
	for (to = from, i = 0; i < count && to < len; i++) {
		cl = cp_len((unsigned char)s[to]);
		if (is_cont((unsigned char)s[to]) || cl > 4)
			return sp_error_set(
			    cx->err, "$substrCP: invalid UTF-8 string");
		to += cl;
	}
	if (from > len)
		from = len;
	if (to > len)
		to = len;
	if (from == 0 && to == len && v.value_type == BSON_TYPE_UTF8) {
		*out = v;
		return 0;
	}
	dup_str(cx, out, s + from, to - from);
	return 0;
}

/* ----------------------------------------------------------- lengths */

static int
op_strlen(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t v;
	size_t len;

	if (expr_eval(n->args[0], cx, &v))
		return -1;
	if (v.value_type != BSON_TYPE_UTF8)
		return sp_error_set(cx->err,
		    "%s requires a string argument, found: %s", n->op->name,
		    sp_expr_type_name(v.value_type));
	len = v.value.v_utf8.len;
	if (n->aux)
		len = cp_count(v.value.v_utf8.str, len);
	if (len > INT32_MAX)
		return sp_error_set(cx->err,
		    "string length could not be represented as an int.");
	expr_set_int32(out, (int32_t)len);
	return 0;
}

/* ---------------------------------------------------------- case */

static int
op_case(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bool upper = n->aux != 0;
	bson_value_t v;
	const char *s;
	size_t len, i;
	char *p;

	if (expr_eval(n->args[0], cx, &v) || coerce_str(cx, &v, &s, &len))
		return -1;
	for (i = 0; i < len; i++)
		if (upper ? (s[i] >= 'a' && s[i] <= 'z')
			  : (s[i] >= 'A' && s[i] <= 'Z'))
			break;
	if (i == len) {
		set_str(out, s, len);
		return 0;
	}
	p = sp_arena_dup(cx->arena, s, len);
	for (; i < len; i++) {
		if (upper && p[i] >= 'a' && p[i] <= 'z')
			p[i] -= 'a' - 'A';
		else if (!upper && p[i] >= 'A' && p[i] <= 'Z')
			p[i] += 'a' - 'A';
	}
	set_str(out, p, len);
	return 0;
}

static unsigned char
ascii_upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c;
}

/* Both sides upper-cased (ASCII), then compared as unsigned bytes. */
static int
op_strcasecmp(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t a, b;
	const char *s, *t;
	size_t sl, tl, i;
	int c = 0;

	if (expr_eval(n->args[0], cx, &a) || expr_eval(n->args[1], cx, &b) ||
	    coerce_str(cx, &a, &s, &sl) || coerce_str(cx, &b, &t, &tl))
		return -1;
	for (i = 0; i < sl && i < tl && c == 0; i++)
		c = (int)ascii_upper((unsigned char)s[i]) -
		    (int)ascii_upper((unsigned char)t[i]);
	if (c == 0)
		c = sl < tl ? -1 : sl > tl;
	expr_set_int32(out, c < 0 ? -1 : c > 0);
	return 0;
}

/* ------------------------------------------------------------- $trim */

enum { TRIM_BOTH, TRIM_LEFT, TRIM_RIGHT };

/* str_trim_utils::kDefaultTrimWhitespaceChars, one code point after the
 * other: NUL, space, \t \n \v \f \r, U+00A0, U+1680, U+2000..U+200A. */
static const char ws_chars[] = "\0"
			       " \t\n\v\f\r"
			       "\xc2\xa0"
			       "\xe1\x9a\x80"
			       "\xe2\x80\x80\xe2\x80\x81\xe2\x80\x82"
			       "\xe2\x80\x83\xe2\x80\x84\xe2\x80\x85"
			       "\xe2\x80\x86\xe2\x80\x87\xe2\x80\x88"
			       "\xe2\x80\x89\xe2\x80\x8a";

/* str_trim_utils::numberOfBytesForCodePoint */
static size_t
trim_cp_len(unsigned char c)
{
	if ((c & 0xf8) == 0xf0)
		return 4;
	if ((c & 0xf0) == 0xe0)
		return 3;
	if ((c & 0xe0) == 0xc0)
		return 2;
	return 1;
}

/* extractCodePointsFromChars, as a check: the set is then walked in place
 * by the same rule, so trimming allocates nothing. */
static int
trim_check_chars(const char *s, size_t len, struct sp_error *err)
{
	size_t i = 0;

	while (i < len) {
		if (is_cont((unsigned char)s[i]))
			return sp_error_set(err,
			    "Failed to parse \"chars\" argument to "
			    "$trim/$ltrim/$rtrim: Detected invalid UTF-8. Got "
			    "continuation byte when expecting the start of a "
			    "new code point.");
		i += trim_cp_len((unsigned char)s[i]);
	}
	if (i > len)
		return sp_error_set(err,
		    "Failed to parse \"chars\" argument to "
		    "$trim/$ltrim/$rtrim: "
		    "Detected invalid UTF-8. Missing expected continuation "
		    "byte "
		    "at end of string.");
	return 0;
}

/*
 * The length of the first code point of set found in s ending at (right)
 * or starting at (left) byte at, or 0 when there is none.
 */
static size_t
trim_match(const char *s, size_t len, size_t at, const char *set, size_t setlen,
    bool right)
{
	size_t i, cl;

	for (i = 0; i < setlen; i += cl) {
		cl = trim_cp_len((unsigned char)set[i]);
		if (right) {
			if (at >= cl && memcmp(s + at - cl, set + i, cl) == 0)
				return cl;
		} else if (at + cl <= len && memcmp(s + at, set + i, cl) == 0) {
			return cl;
		}
	}
	return 0;
}

static int
compile_trim(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	struct enode *parts[2] = {NULL, NULL}, *n;
	bson_iter_t it;
	int i;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(c->err,
		    "%s only supports an object as an argument, found %s",
		    op->name, sp_expr_type_name(arg->value_type));
	bson_iter_init_from_data(
	    &it, arg->value.v_doc.data, arg->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		if (strcmp(bson_iter_key(&it), "input") == 0) {
			i = 0;
		} else if (strcmp(bson_iter_key(&it), "chars") == 0) {
			i = 1;
		} else {
			sp_error_set(c->err, "%s found an unknown argument: %s",
			    op->name, bson_iter_key(&it));
			goto fail;
		}
		sp_expr_node_free(parts[i]);
		parts[i] = NULL;
		if (sp_expr_compile_value(c, bson_iter_value(&it), &parts[i]))
			goto fail;
	}
	if (parts[0] == NULL) {
		sp_error_set(c->err, "%s requires an 'input' field", op->name);
		goto fail;
	}
	n = sp_expr_node_new(op->eval);
	n->op = op;
	n->aux = op->aux;
	sp_expr_add_arg(n, parts[0]);
	if (parts[1] != NULL)
		sp_expr_add_arg(n, parts[1]);
	*out = n;
	return 0;
fail:
	sp_expr_node_free(parts[0]);
	sp_expr_node_free(parts[1]);
	return -1;
}

static int
op_trim(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	const char *name = n->op->name, *s, *set = ws_chars;
	size_t len, setlen = sizeof(ws_chars) - 1, lo = 0, hi, cl;
	bson_value_t v, ch;
	struct vstr vs;

	if (expr_eval(n->args[0], cx, &v))
		return -1;
	if (expr_nullish(&v)) {
		expr_set_null(out);
		return 0;
	}
	if (v.value_type != BSON_TYPE_UTF8)
		return sp_error_set(cx->err,
		    "%s requires its input to be a string, got %s (of type %s) "
		    "instead.",
		    name, vstr(&vs, &v), sp_expr_type_name(v.value_type));
	s = v.value.v_utf8.str;
	len = hi = v.value.v_utf8.len;
	if (n->nargs > 1) {
		if (expr_eval(n->args[1], cx, &ch))
			return -1;
		if (expr_nullish(&ch)) {
			expr_set_null(out);
			return 0;
		}
		if (ch.value_type != BSON_TYPE_UTF8)
			return sp_error_set(cx->err,
			    "%s requires 'chars' to be a string, got %s (of "
			    "type %s) instead.",
			    name, vstr(&vs, &ch),
			    sp_expr_type_name(ch.value_type));
		/* A newer server limit (str_trim_utils), kept because it
		 * bounds the quadratic scan below. */
		if (ch.value.v_utf8.len > 4096)
			return sp_error_set(cx->err,
			    "%s requires 'chars' to be not greater than 4096 "
			    "bytes, got %u bytes instead.",
			    name, (unsigned)ch.value.v_utf8.len);
		set = ch.value.v_utf8.str;
		setlen = ch.value.v_utf8.len;
		if (trim_check_chars(set, setlen, cx->err))
			return -1;
	}
	if (n->aux != TRIM_RIGHT)
		while (lo < len &&
		    (cl = trim_match(s, len, lo, set, setlen, false)) > 0)
			lo += cl;
	if (n->aux != TRIM_LEFT)
		while (hi > lo &&
		    (cl = trim_match(
			 s + lo, hi - lo, hi - lo, set, setlen, true)) > 0)
			hi -= cl;
	if (lo == 0 && hi == len)
		*out = v;
	else
		dup_str(cx, out, s + lo, hi - lo);
	return 0;
}

/* ------------------------------------------------------------ $split */

static int
op_split(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t in, sep, part;
	struct expr_buf b;
	const char *s, *p, *end;
	size_t seplen;

	if (expr_eval(n->args[0], cx, &in) || expr_eval(n->args[1], cx, &sep))
		return -1;
	if (expr_nullish(&in) || expr_nullish(&sep)) {
		expr_set_null(out);
		return 0;
	}
	if (in.value_type != BSON_TYPE_UTF8)
		return sp_error_set(cx->err,
		    "$split requires an expression that evaluates to a string "
		    "as a first argument, found: %s",
		    sp_expr_type_name(in.value_type));
	/* A regex separator is newer than 8.x (featureFlagMqlJsEngineGap). */
	if (sep.value_type != BSON_TYPE_UTF8)
		return sp_error_set(cx->err,
		    "$split requires an expression that evaluates to a string "
		    "as a second argument, found: %s",
		    sp_expr_type_name(sep.value_type));
	seplen = sep.value.v_utf8.len;
	if (seplen == 0)
		return sp_error_set(
		    cx->err, "$split requires a non-empty separator");
	sp_expr_buf_init(&b, cx->arena);
	s = in.value.v_utf8.str;
	end = s + in.value.v_utf8.len;
	while ((p = memmem(s, end - s, sep.value.v_utf8.str, seplen)) != NULL) {
		set_str(&part, s, p - s);
		sp_expr_buf_append(&b, NULL, 0, &part);
		s = p + seplen;
	}
	set_str(&part, s, end - s);
	sp_expr_buf_append(&b, NULL, 0, &part);
	if (sp_expr_buf_finish(&b, BSON_TYPE_ARRAY, out) < 0)
		return sp_error_set(cx->err, "%s", EXPR_TOO_LARGE);
	return 0;
}

/* ---------------------------------------------------------- $indexOf* */

/* uassertIfNotIntegralAndNonNegative; the missing space after the
 * operator's name in the first message is the server's. */
static int
index_arg(const struct enode *n, struct ectx *cx, int i, const char *what,
    int32_t *out)
{
	bson_value_t v;
	struct vstr vs;

	if (expr_eval(n->args[i], cx, &v))
		return -1;
	if (!integral(&v, out))
		return sp_error_set(cx->err,
		    "%srequires an integral %s, found a value of type: %s, "
		    "with value: %s",
		    n->op->name, what, sp_expr_type_name(v.value_type),
		    vstr(&vs, &v));
	if (*out < 0)
		return sp_error_set(cx->err,
		    "%s requires a nonnegative %s, found: %s", n->op->name,
		    what, vstr(&vs, &v));
	return 0;
}

/* The haystack and needle of $indexOfBytes and $indexOfCP; 1 for null. */
static int
index_strs(
    const struct enode *n, struct ectx *cx, bson_value_t *in, bson_value_t *tok)
{
	if (expr_eval(n->args[0], cx, in))
		return -1;
	if (expr_nullish(in))
		return 1;
	if (in->value_type != BSON_TYPE_UTF8)
		return sp_error_set(cx->err,
		    "%s requires a string as the first argument, found: %s",
		    n->op->name, sp_expr_type_name(in->value_type));
	if (expr_eval(n->args[1], cx, tok))
		return -1;
	if (tok->value_type != BSON_TYPE_UTF8)
		return sp_error_set(cx->err,
		    "%s requires a string as the second argument, found: %s",
		    n->op->name, sp_expr_type_name(tok->value_type));
	return 0;
}

static int
op_index_bytes(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t in, tok;
	int32_t start = 0, end;
	size_t len, tlen;
	const char *s, *p;
	int rc;

	if ((rc = index_strs(n, cx, &in, &tok)) != 0) {
		if (rc > 0)
			expr_set_null(out);
		return rc < 0 ? -1 : 0;
	}
	s = in.value.v_utf8.str;
	len = in.value.v_utf8.len;
	tlen = tok.value.v_utf8.len;
	if (n->nargs > 2 && index_arg(n, cx, 2, "starting index", &start))
		return -1;
	if (n->nargs > 3) {
		if (index_arg(n, cx, 3, "ending index", &end))
			return -1;
		if ((size_t)end < len)
			len = (size_t)end;
	}
	expr_set_int32(out, -1);
	if ((size_t)start > in.value.v_utf8.len || len < (size_t)start)
		return 0;
	if (tlen == 0) {
		expr_set_int32(out, start);
		return 0;
	}
	p = memmem(s + start, len - start, tok.value.v_utf8.str, tlen);
	if (p != NULL)
		expr_set_int32(out, (int32_t)(p - s));
	return 0;
}

static int
op_index_cp(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t in, tok;
	int32_t start = 0, end;
	size_t len, tlen, cps = 0, sbyte = 0, i, endcp, cur;
	const char *s, *t;
	int rc;

	if ((rc = index_strs(n, cx, &in, &tok)) != 0) {
		if (rc > 0)
			expr_set_null(out);
		return rc < 0 ? -1 : 0;
	}
	s = in.value.v_utf8.str;
	len = in.value.v_utf8.len;
	t = tok.value.v_utf8.str;
	tlen = tok.value.v_utf8.len;
	if (n->nargs > 2 && index_arg(n, cx, 2, "starting index", &start))
		return -1;
	/*
	 * Count the code points and find the byte where the search starts.
	 * As in the server, a start at or past the end leaves that byte at
	 * 0; the search below then does not run.
	 */
	for (i = 0; i < len; cps++) {
		if (cps == (size_t)start)
			sbyte = i;
		if (is_cont((unsigned char)s[i]))
			return sp_error_set(
			    cx->err, "$indexOfCP found bad UTF-8 in the input");
		i += cp_len((unsigned char)s[i]);
	}
	endcp = cps;
	if (n->nargs > 3) {
		if (index_arg(n, cx, 3, "ending index", &end))
			return -1;
		if ((size_t)end < endcp)
			endcp = (size_t)end;
	}
	expr_set_int32(out, -1);
	if (endcp < (size_t)start)
		return 0;
	if (sbyte == 0 && len == 0 && tlen == 0) {
		expr_set_int32(out, 0);
		return 0;
	}
	for (i = sbyte, cur = (size_t)start; cur < endcp; cur++) {
		if (tlen <= len - i && memcmp(s + i, t, tlen) == 0) {
			expr_set_int32(out, (int32_t)cur);
			return 0;
		}
		i += cp_len((unsigned char)s[i]);
		if (i > len)
			break;
	}
	return 0;
}

/* ------------------------------------------------------ $replace* */

static int
compile_replace(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	static const char *const names[3] = {"input", "find", "replacement"};
	struct enode *parts[3] = {NULL, NULL, NULL}, *n;
	bson_iter_t it;
	int i;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(c->err,
		    "%s requires an object as an argument, found: %s", op->name,
		    sp_expr_type_name(arg->value_type));
	bson_iter_init_from_data(
	    &it, arg->value.v_doc.data, arg->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		for (i = 0; i < 3; i++)
			if (strcmp(bson_iter_key(&it), names[i]) == 0)
				break;
		if (i == 3) {
			sp_error_set(c->err, "%s found an unknown argument: %s",
			    op->name, bson_iter_key(&it));
			goto fail;
		}
		sp_expr_node_free(parts[i]);
		parts[i] = NULL;
		if (sp_expr_compile_value(c, bson_iter_value(&it), &parts[i]))
			goto fail;
	}
	for (i = 0; i < 3; i++) {
		if (parts[i] == NULL) {
			sp_error_set(c->err, "%s requires '%s' to be specified",
			    op->name, names[i]);
			goto fail;
		}
	}
	n = sp_expr_node_new(op->eval);
	n->op = op;
	n->aux = op->aux;
	for (i = 0; i < 3; i++)
		sp_expr_add_arg(n, parts[i]);
	*out = n;
	return 0;
fail:
	for (i = 0; i < 3; i++)
		sp_expr_node_free(parts[i]);
	return -1;
}

static int
op_replace(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	static const char *const names[3] = {"input", "find", "replacement"};
	bson_value_t v[3];
	struct vstr vs;
	struct sbuf b;
	const char *s, *end, *f, *r, *p;
	size_t fl, rl;
	int i;

	for (i = 0; i < 3; i++)
		if (expr_eval(n->args[i], cx, &v[i]))
			return -1;
	/* A regex 'find' is newer than 8.x (featureFlagMqlJsEngineGap). */
	for (i = 0; i < 3; i++)
		if (v[i].value_type != BSON_TYPE_UTF8 && !expr_nullish(&v[i]))
			return sp_error_set(cx->err,
			    "%s requires that '%s' be a string, found: %s",
			    n->op->name, names[i], vstr(&vs, &v[i]));
	for (i = 0; i < 3; i++) {
		if (expr_nullish(&v[i])) {
			expr_set_null(out);
			return 0;
		}
	}
	s = v[0].value.v_utf8.str;
	end = s + v[0].value.v_utf8.len;
	f = v[1].value.v_utf8.str;
	fl = v[1].value.v_utf8.len;
	r = v[2].value.v_utf8.str;
	rl = v[2].value.v_utf8.len;
	/* An empty 'find' matches before every byte (not code point: the
	 * server's loop is over chars) and at the end. */
	p = fl == 0 ? s : memmem(s, end - s, f, fl);
	if (p == NULL) {
		*out = v[0];
		return 0;
	}
	sb_init(&b, cx->arena, (size_t)(end - s) + rl);
	if (!n->aux) {
		if (sb_put(&b, s, p - s, cx->err) ||
		    sb_put(&b, r, rl, cx->err) ||
		    sb_put(&b, p + fl, end - (p + fl), cx->err))
			return -1;
	} else if (fl == 0) {
		for (; s < end; s++)
			if (sb_put(&b, r, rl, cx->err) ||
			    sb_put(&b, s, 1, cx->err))
				return -1;
		if (sb_put(&b, r, rl, cx->err))
			return -1;
	} else {
		do {
			if (sb_put(&b, s, p - s, cx->err) ||
			    sb_put(&b, r, rl, cx->err))
				return -1;
			s = p + fl;
		} while ((p = memmem(s, end - s, f, fl)) != NULL);
		if (sb_put(&b, s, end - s, cx->err))
			return -1;
	}
	sb_finish(&b, out);
	return 0;
}

/* ------------------------------------------------------------ regexes */

/*
 * A regex operator's node keeps its compiled regexes (enode.priv, freed
 * with the node). A constant regex is compiled once, when the spec is
 * (aux RX_FIXED, priv the sp_regex). A regex that comes from the data is
 * compiled when a record brings it, as in the server, but the node keeps
 * the last few (aux RX_DATA, priv a struct rxcache), so a field that
 * repeats its pattern compiles it once.
 */
enum { RX_NULL = -1, RX_DATA, RX_FIXED };

struct rxent {
	char *pat;
	size_t plen;
	char opts[8]; /* canonical: a subset of "imsx" in that order */
	struct sp_regex *re;
	uint64_t used;
};

#define RX_CACHE 16

struct rxcache {
	struct rxent e[RX_CACHE];
	uint64_t tick;
};

static void
rx_free(void *p)
{
	sp_regex_free(p);
}

static void
rx_cache_free(void *p)
{
	struct rxcache *c = p;
	size_t i;

	for (i = 0; i < RX_CACHE; i++) {
		sp_regex_free(c->e[i].re);
		free(c->e[i].pat);
	}
	free(c);
}

/* Compiles pat/opts; NULL with err "Invalid Regex in $op: why". */
static struct sp_regex *
rx_compile(const char *op, const char *pat, size_t plen, const char *opts,
    struct sp_error *err)
{
	struct sp_error why;
	struct sp_regex *re;

	re = sp_regex_compile(pat, plen, opts, &why);
	if (re == NULL)
		sp_error_set(err, "Invalid Regex in %s: %s", op, why.msg);
	return re;
}

static bool
rx_same(const struct rxent *e, const char *pat, size_t plen, const char *opts)
{
	return e->re != NULL && e->plen == plen &&
	    memcmp(e->pat, pat, plen) == 0 && strcmp(e->opts, opts) == 0;
}

/* The compiled regex for pat/opts from c, compiled in place of the least
 * recently used one when it is not there; NULL as rx_compile. */
static struct sp_regex *
rx_cached(struct rxcache *c, const char *op, const char *pat, size_t plen,
    const char *opts, struct sp_error *err)
{
	struct sp_regex *re;
	struct rxent *e = &c->e[0];
	size_t i;

	for (i = 0; i < RX_CACHE; i++) {
		if (rx_same(&c->e[i], pat, plen, opts)) {
			c->e[i].used = ++c->tick;
			return c->e[i].re;
		}
		if (c->e[i].used < e->used)
			e = &c->e[i];
	}
	if ((re = rx_compile(op, pat, plen, opts, err)) == NULL)
		return NULL;
	sp_regex_free(e->re);
	free(e->pat);
	e->pat = sp_xmalloc(plen + 1);
	memcpy(e->pat, pat, plen);
	e->pat[plen] = '\0';
	e->plen = plen;
	snprintf(e->opts, sizeof(e->opts), "%s", opts);
	e->re = re;
	e->used = ++c->tick;
	return re;
}

/*
 * extractRegexAndOptions, then pcre_util::flagsToOptions: the pattern
 * (NULL when the regex is nullish) and the canonical option letters.
 * Flags are only checked when there is a pattern, as in the server.
 */
static int
rx_spec(const char *op, const bson_value_t *rx, const bson_value_t *ov,
    const char **pat, size_t *plen, char *opts, struct sp_error *err)
{
	const char *o = "", *f;
	size_t olen = 0;
	bool seen[4] = {false, false, false, false};
	static const char letters[] = "imsx";
	int k;

	*pat = NULL;
	*plen = 0;
	opts[0] = '\0';
	if (!expr_nullish(rx) && rx->value_type != BSON_TYPE_UTF8 &&
	    rx->value_type != BSON_TYPE_REGEX)
		return sp_error_set(
		    err, "%s needs 'regex' to be of type string or regex", op);
	if (!expr_nullish(ov) && ov->value_type != BSON_TYPE_UTF8)
		return sp_error_set(
		    err, "%s needs 'options' to be of type string", op);
	if (rx->value_type == BSON_TYPE_REGEX) {
		*pat = rx->value.v_regex.regex;
		*plen = strlen(*pat);
		o = rx->value.v_regex.options;
		olen = strlen(o);
		if (!expr_nullish(ov) && olen > 0)
			return sp_error_set(err,
			    "%s: found regex option(s) specified in both "
			    "'regex' and 'option' fields",
			    op);
	} else if (rx->value_type == BSON_TYPE_UTF8) {
		*pat = rx->value.v_utf8.str;
		*plen = rx->value.v_utf8.len;
	}
	if (!expr_nullish(ov)) {
		o = ov->value.v_utf8.str;
		olen = ov->value.v_utf8.len;
	}
	if (*pat != NULL && memchr(*pat, '\0', *plen) != NULL)
		return sp_error_set(err,
		    "%s: regular expression cannot contain an embedded null "
		    "byte",
		    op);
	if (memchr(o, '\0', olen) != NULL)
		return sp_error_set(err,
		    "%s: regular expression options cannot contain an "
		    "embedded null byte",
		    op);
	if (*pat == NULL)
		return 0;
	for (f = o; f < o + olen; f++) {
		if (*f == 'u')
			continue;
		for (k = 0; k < 4 && letters[k] != *f; k++)
			;
		if (k == 4)
			return sp_error_set(err,
			    "%s invalid flag in regex options: %c", op, *f);
		seen[k] = true;
	}
	for (k = 0; k < 4; k++)
		if (seen[k])
			*opts++ = letters[k];
	*opts = '\0';
	return 0;
}

static int
compile_regex(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	static const char *const names[3] = {"input", "regex", "options"};
	struct enode *parts[3] = {NULL, NULL, NULL}, *n;
	bson_value_t nullv;
	bson_iter_t it;
	const char *pat;
	char opts[8];
	size_t plen;
	int i;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(c->err,
		    "%s expects an object of named arguments but found: %s",
		    op->name, sp_expr_type_name(arg->value_type));
	bson_iter_init_from_data(
	    &it, arg->value.v_doc.data, arg->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		for (i = 0; i < 3; i++)
			if (strcmp(bson_iter_key(&it), names[i]) == 0)
				break;
		if (i == 3) {
			sp_error_set(c->err, "%s found an unknown argument: %s",
			    op->name, bson_iter_key(&it));
			goto fail;
		}
		sp_expr_node_free(parts[i]);
		parts[i] = NULL;
		if (sp_expr_compile_value(c, bson_iter_value(&it), &parts[i]))
			goto fail;
	}
	for (i = 0; i < 2; i++) {
		if (parts[i] == NULL) {
			sp_error_set(c->err, "%s requires '%s' parameter",
			    op->name, names[i]);
			goto fail;
		}
	}
	/* No options is options: null, as in the server. */
	if (parts[2] == NULL) {
		expr_set_null(&nullv);
		parts[2] = sp_expr_const_new(&nullv);
	}
	n = sp_expr_node_new(op->eval);
	n->op = op;
	for (i = 0; i < 3; i++)
		sp_expr_add_arg(n, parts[i]);
	/*
	 * A constant regex and options are checked and compiled now, as the
	 * server's ExpressionRegex constructor does: a bad one is the spec's
	 * error.
	 */
	if (sp_expr_is_const(n->args[1]) && sp_expr_is_const(n->args[2])) {
		if (rx_spec(op->name, &n->args[1]->cval, &n->args[2]->cval,
			&pat, &plen, opts, c->err))
			goto fail_node;
		if (pat == NULL) {
			n->aux = RX_NULL;
		} else {
			n->priv = rx_compile(op->name, pat, plen, opts, c->err);
			if (n->priv == NULL)
				goto fail_node;
			n->priv_free = rx_free;
			n->aux = RX_FIXED;
		}
	} else {
		n->priv = sp_xcalloc(1, sizeof(struct rxcache));
		n->priv_free = rx_cache_free;
		n->aux = RX_DATA;
	}
	*out = n;
	return 0;
fail_node:
	sp_expr_node_free(n);
	return -1;
fail:
	for (i = 0; i < 3; i++)
		sp_expr_node_free(parts[i]);
	return -1;
}

/*
 * buildInitialState: evaluates input, regex and options, compiles the
 * regex unless it was at compile time, and checks the input. Returns 1
 * when the input or the regex is nullish, 0 with *re and *in set, or -1.
 */
static int
rx_state(const struct enode *n, struct ectx *cx, bson_value_t *in,
    const struct sp_regex **re)
{
	const char *op = n->op->name, *pat;
	bson_value_t rx, ov;
	char opts[8];
	size_t plen;

	if (expr_eval(n->args[0], cx, in) || expr_eval(n->args[1], cx, &rx) ||
	    expr_eval(n->args[2], cx, &ov))
		return -1;
	*re = NULL;
	if (n->aux == RX_FIXED) {
		*re = n->priv;
	} else if (n->aux == RX_DATA) {
		if (rx_spec(op, &rx, &ov, &pat, &plen, opts, cx->err))
			return -1;
		if (pat != NULL &&
		    (*re = rx_cached(n->priv, op, pat, plen, opts, cx->err)) ==
			NULL)
			return -1;
	}
	if (!expr_nullish(in) && in->value_type != BSON_TYPE_UTF8)
		return sp_error_set(
		    cx->err, "%s needs 'input' to be of type string", op);
	return expr_nullish(in) || *re == NULL ? 1 : 0;
}

static int
rx_exec(const struct enode *n, struct ectx *cx, const struct sp_regex *re,
    const bson_value_t *in, size_t start, const size_t **m)
{
	struct sp_error why;
	int rc;

	rc = sp_regex_exec(
	    re, in->value.v_utf8.str, in->value.v_utf8.len, start, m, &why);
	if (rc < 0)
		return sp_error_set(cx->err,
		    "Error occurred while executing the regular expression in "
		    "%s. Result code: %s",
		    n->op->name, why.msg);
	return rc;
}

/* {match, idx, captures} for the match in m, idx in code points. */
static int
rx_match_doc(struct ectx *cx, const struct sp_regex *re, const bson_value_t *in,
    const size_t *m, size_t idx, bson_value_t *out)
{
	struct expr_buf doc, caps;
	const char *s = in->value.v_utf8.str;
	bson_value_t v;
	int i, ncap = sp_regex_ncaptures(re);

	sp_expr_buf_init(&caps, cx->arena);
	for (i = 1; i <= ncap; i++) {
		if (m[2 * i] == SP_REGEX_UNSET)
			expr_set_null(&v);
		else
			set_str(&v, s + m[2 * i], m[2 * i + 1] - m[2 * i]);
		sp_expr_buf_append(&caps, NULL, 0, &v);
	}
	sp_expr_buf_init(&doc, cx->arena);
	set_str(&v, s + m[0], m[1] - m[0]);
	sp_expr_buf_append(&doc, "match", 5, &v);
	if (idx > INT32_MAX)
		expr_set_int64(&v, (int64_t)idx);
	else
		expr_set_int32(&v, (int32_t)idx);
	sp_expr_buf_append(&doc, "idx", 3, &v);
	if (sp_expr_buf_finish(&caps, BSON_TYPE_ARRAY, &v) < 0)
		return sp_error_set(cx->err, "%s", EXPR_TOO_LARGE);
	sp_expr_buf_append(&doc, "captures", 8, &v);
	if (sp_expr_buf_finish(&doc, BSON_TYPE_DOCUMENT, out) < 0)
		return sp_error_set(cx->err, "%s", EXPR_TOO_LARGE);
	return 0;
}

static int
op_regex_match(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	const struct sp_regex *re;
	const size_t *m;
	bson_value_t in;
	int rc;

	if ((rc = rx_state(n, cx, &in, &re)) < 0)
		return -1;
	if (rc > 0) {
		expr_set_bool(out, false);
		return 0;
	}
	if ((rc = rx_exec(n, cx, re, &in, 0, &m)) < 0)
		return -1;
	expr_set_bool(out, rc > 0);
	return 0;
}

static int
op_regex_find(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	const struct sp_regex *re;
	const size_t *m;
	bson_value_t in;
	int rc;

	if ((rc = rx_state(n, cx, &in, &re)) < 0)
		return -1;
	if (rc > 0) {
		expr_set_null(out);
		return 0;
	}
	if ((rc = rx_exec(n, cx, re, &in, 0, &m)) < 0)
		return -1;
	if (rc == 0) {
		expr_set_null(out);
		return 0;
	}
	return rx_match_doc(
	    cx, re, &in, m, cp_count(in.value.v_utf8.str, m[0]), out);
}

static int
op_regex_find_all(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	const struct sp_regex *re;
	const size_t *m;
	bson_value_t in, doc;
	struct expr_buf b;
	size_t start = 0, cpos = 0, len, total = 0;
	const char *s;
	int rc;

	if ((rc = rx_state(n, cx, &in, &re)) < 0)
		return -1;
	sp_expr_buf_init(&b, cx->arena);
	if (rc == 0) {
		s = in.value.v_utf8.str;
		len = in.value.v_utf8.len;
		/* do-while: an empty input may still match once. */
		do {
			if ((rc = rx_exec(n, cx, re, &in, start, &m)) < 0)
				return -1;
			if (rc == 0)
				break;
			cpos += cp_count(s + start, m[0] - start);
			start = m[0];
			if (rx_match_doc(cx, re, &in, m, cpos, &doc))
				return -1;
			total += doc.value.v_doc.data_len;
			if (total > STR_MAX)
				return sp_error_set(cx->err,
				    "$regexFindAll: the size of buffer to "
				    "store output exceeded the 64MB limit");
			sp_expr_buf_append(&b, NULL, 0, &doc);
			if (m[1] == m[0]) {
				/* An empty match: step over one code point
				 * so that it is not found again. */
				if (start >= len)
					break;
				start += cp_len((unsigned char)s[start]);
				cpos++;
			} else {
				cpos += cp_count(s + m[0], m[1] - m[0]);
				start = m[1];
			}
		} while (start < len);
	}
	if (sp_expr_buf_finish(&b, BSON_TYPE_ARRAY, out) < 0)
		return sp_error_set(cx->err, "%s", EXPR_TOO_LARGE);
	return 0;
}

/* -------------------------------------------------------- the table */

/* Sorted by name (strcmp order; expr.c checks). */
static const struct expr_op ops[] = {
    {"$concat", NULL, op_concat, 0, -1, 0, 0},
    {"$indexOfBytes", NULL, op_index_bytes, 2, 4, 0, 0},
    {"$indexOfCP", NULL, op_index_cp, 2, 4, 0, 0},
    {"$ltrim", compile_trim, op_trim, 0, 0, TRIM_LEFT, 0},
    {"$regexFind", compile_regex, op_regex_find, 0, 0, 0, 0},
    {"$regexFindAll", compile_regex, op_regex_find_all, 0, 0, 0, 0},
    {"$regexMatch", compile_regex, op_regex_match, 0, 0, 0, 0},
    {"$replaceAll", compile_replace, op_replace, 0, 0, 1, 0},
    {"$replaceOne", compile_replace, op_replace, 0, 0, 0, 0},
    {"$rtrim", compile_trim, op_trim, 0, 0, TRIM_RIGHT, 0},
    {"$split", NULL, op_split, 2, 2, 0, 0},
    {"$strLenBytes", NULL, op_strlen, 1, 1, 0, 0},
    {"$strLenCP", NULL, op_strlen, 1, 1, 1, 0},
    {"$strcasecmp", NULL, op_strcasecmp, 2, 2, 0, 0},
    {"$substr", compile_substr, op_substr_bytes, 3, 3, 0, 0},
    {"$substrBytes", compile_substr, op_substr_bytes, 3, 3, 0, 0},
    {"$substrCP", NULL, op_substr_cp, 3, 3, 0, 0},
    {"$toLower", NULL, op_case, 1, 1, 0, 0},
    {"$toUpper", NULL, op_case, 1, 1, 1, 0},
    {"$trim", compile_trim, op_trim, 0, 0, TRIM_BOTH, 0},
};

const struct expr_optable sp_expr_str_ops = {ops, sizeof(ops) / sizeof(ops[0])};
