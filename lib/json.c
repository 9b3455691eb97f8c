/* json.c: one NDJSON line (strict JSON, MongoDB Extended JSON v2) to BSON. */
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sp.h"

/*
 * The parser makes one pass over the text and writes BSON straight into the
 * caller's buffer: an element's type byte and key first, then its value.
 * Objects and arrays get a zero length placeholder that is patched when
 * they close, so nothing is built twice and nothing is allocated once the
 * buffer has grown to the size of the largest record.
 *
 * Extended JSON wrappers are parsed as ordinary objects.  When an object
 * whose first key starts with '$' closes, ejson() looks at the BSON just
 * written for it and, if it is a wrapper such as {"$oid": "..."}, replaces
 * the embedded document with the typed value it stands for.  Wrappers nest
 * ({"$date": {"$numberLong": "1"}}): the inner one has already become an
 * int64 by the time the outer one closes.
 */

#define MAX_DEPTH 200
/* BSON lengths are int32: NEED refuses to grow past this, and every
 * object's length is checked again when it closes. */
#define MAX_DOC ((size_t)INT32_MAX)
/* Keeps exponent arithmetic far from int overflow on absurd inputs. */
#define E10_CLAMP 100000000

struct frame {
	size_t start; /* offset of the container's int32 length */
	size_t elem; /* offset of the type byte of the element holding it */
	size_t at; /* text offset of its '{' or '[' for messages */
	uint32_t count; /* members so far; the next array index */
	uint8_t array;
	uint8_t dollar; /* first key starts with '$': maybe a wrapper */
};

struct parser {
	const uint8_t *text;
	const uint8_t *end;
	struct sp_buf *out;
	struct sp_error *err;
};

/* A number as scanned: value = m * 10^e10, unless many is set. */
struct num {
	uint64_t m; /* up to 19 significant digits */
	int e10;
	bool neg;
	bool real; /* has a fraction or an exponent */
	bool many; /* nonzero digits past the 19th were dropped */
};

/* One element of a BSON document that this file wrote itself. */
struct elem {
	const char *key;
	size_t klen;
	uint8_t type;
	const uint8_t *v;
	size_t vlen;
};

static const double pow10_exact[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
    1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22};

static locale_t c_locale;

static int
fail(struct parser *ps, const uint8_t *at, const char *what)
{
	ps->out->len = 0;
	return sp_error_set(ps->err, "invalid JSON at offset %zu: %s",
	    (size_t)(at - ps->text), what);
}

static void
put_le32(uint8_t *d, uint32_t v)
{
	d[0] = (uint8_t)v;
	d[1] = (uint8_t)(v >> 8);
	d[2] = (uint8_t)(v >> 16);
	d[3] = (uint8_t)(v >> 24);
}

static void
put_le64(uint8_t *d, uint64_t v)
{
	put_le32(d, (uint32_t)v);
	put_le32(d + 4, (uint32_t)(v >> 32));
}

static uint32_t
get_le32(const uint8_t *d)
{
	return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
	    (uint32_t)d[3] << 24;
}

static uint64_t
get_le64(const uint8_t *d)
{
	return (uint64_t)get_le32(d) | (uint64_t)get_le32(d + 4) << 32;
}

static void
put_double(uint8_t *d, double x)
{
	uint64_t u;

	memcpy(&u, &x, sizeof(u));
	put_le64(d, u);
}

static inline bool
is_ws(uint8_t c)
{
	return c <= ' ' && (c == ' ' || c == '\n' || c == '\r' || c == '\t');
}

static inline bool
is_digit(uint8_t c)
{
	return (unsigned)(c - '0') < 10;
}

static int
hexval(uint8_t c)
{
	if (is_digit(c))
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Returns the first byte in [p, end) that needs attention inside a string:
 * '"', '\\', a control character or a non-ASCII byte; end if none.  Eight
 * bytes at a time, since most strings are plain ASCII.
 */
static inline const uint8_t *
scan_plain(const uint8_t *p, const uint8_t *end)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t high = 0x8080808080808080ULL;

	while (end - p >= 8) {
		uint64_t x, q, b, t;

		memcpy(&x, p, 8);
		q = x ^ (ones * '"');
		b = x ^ (ones * '\\');
		/* A byte is flagged when zero in q or b, below 0x20, or >=
		 * 0x80; borrows only ever flag bytes above a truly flagged one.
		 */
		t = ((q - ones) & ~q) | ((b - ones) & ~b) |
		    ((x - ones * 0x20) & ~x) | x;
		t &= high;
		if (t != 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return p + (__builtin_ctzll(t) >> 3);
#else
			break;
#endif
		}
		p += 8;
	}
	for (; p < end; p++)
		if (*p == '"' || *p == '\\' || *p < 0x20 || *p >= 0x80)
			break;
	return p;
}

/* Length of the valid UTF-8 sequence at p (2-4), or 0 (RFC 3629 table). */
static size_t
utf8_seq(const uint8_t *p, const uint8_t *end)
{
	size_t avail = (size_t)(end - p);
	uint8_t c = p[0], lo = 0x80, hi = 0xBF;
	size_t n, i;

	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		else if (c == 0xED)
			hi = 0x9F; /* UTF-16 surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90; /* overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	} else
		return 0;
	if (avail < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

static size_t
put_utf8(uint8_t *d, uint32_t cp)
{
	if (cp < 0x80) {
		d[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (uint8_t)(0xC0 | cp >> 6);
		d[1] = (uint8_t)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (uint8_t)(0xE0 | cp >> 12);
		d[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		d[2] = (uint8_t)(0x80 | (cp & 0x3F));
		return 3;
	}
	d[0] = (uint8_t)(0xF0 | cp >> 18);
	d[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
	d[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
	d[3] = (uint8_t)(0x80 | (cp & 0x3F));
	return 4;
}

/* Four hex digits at p, or -1. */
static long
hex4(const uint8_t *p, const uint8_t *end)
{
	long v = 0;
	int i, h;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		if ((h = hexval(p[i])) < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/*
 * The general string path: escapes, UTF-8, errors.  s is the first byte
 * after the opening quote, q the first byte scan_plain() stopped at.
 * Appends the decoded bytes and a NUL to ps->out (after an int32 length
 * when value is set, which it then fills in).  Returns the position after
 * the closing quote, or NULL with the error set.
 */
static const uint8_t *
string_slow(struct parser *ps, const uint8_t *s, const uint8_t *q, bool value)
{
	struct sp_buf *out = ps->out;
	const uint8_t *end = ps->end;
	size_t lenat = out->len, n;
	uint8_t *d;
	long u, lo;

	if (value)
		sp_buf_append(out, "\0\0\0\0", 4);
	sp_buf_append(out, s, (size_t)(q - s));
	for (;;) {
		if (q == end) {
			fail(ps, s - 1, "unterminated string");
			return NULL;
		}
		if (*q == '"')
			break;
		if (*q == '\\') {
			d = sp_buf_reserve(out, 4);
			if (q + 1 == end) {
				fail(ps, s - 1, "unterminated string");
				return NULL;
			}
			switch (q[1]) {
			case '"':
			case '\\':
			case '/':
				*d = q[1];
				n = 1;
				break;
			case 'b':
				*d = '\b';
				n = 1;
				break;
			case 'f':
				*d = '\f';
				n = 1;
				break;
			case 'n':
				*d = '\n';
				n = 1;
				break;
			case 'r':
				*d = '\r';
				n = 1;
				break;
			case 't':
				*d = '\t';
				n = 1;
				break;
			case 'u':
				if ((u = hex4(q + 2, end)) < 0) {
					fail(ps, q, "invalid \\u escape");
					return NULL;
				}
				if (u >= 0xDC00 && u <= 0xDFFF) {
					fail(ps, q,
					    "lone surrogate in \\u escape");
					return NULL;
				}
				if (u >= 0xD800 && u <= 0xDBFF) {
					if (end - q < 12 || q[6] != '\\' ||
					    q[7] != 'u' ||
					    (lo = hex4(q + 8, end)) < 0xDC00 ||
					    lo > 0xDFFF) {
						fail(ps, q,
						    "lone surrogate in \\u "
						    "escape");
						return NULL;
					}
					u = 0x10000 + ((u - 0xD800) << 10) +
					    (lo - 0xDC00);
					q += 6;
				}
				if (u == 0 && !value) {
					fail(ps, q, "object key contains NUL");
					return NULL;
				}
				n = put_utf8(d, (uint32_t)u);
				q += 4;
				break;
			default:
				fail(ps, q, "invalid escape in string");
				return NULL;
			}
			out->len += n;
			q += 2;
		} else if (*q < 0x20) {
			fail(ps, q, "control character in string");
			return NULL;
		} else {
			if ((n = utf8_seq(q, end)) == 0) {
				ps->out->len = 0;
				sp_error_set(ps->err,
				    "invalid UTF-8 at offset %zu",
				    (size_t)(q - ps->text));
				return NULL;
			}
			sp_buf_append(out, q, n);
			q += n;
		}
		s = q;
		q = scan_plain(q, end);
		sp_buf_append(out, s, (size_t)(q - s));
	}
	sp_buf_putc(out, 0);
	if (value)
		put_le32(out->data + lenat, (uint32_t)(out->len - lenat - 4));
	return q + 1;
}

/*
 * Scans a JSON number (RFC 8259 grammar) at p.  Returns the position after
 * it, or NULL with *why set.
 */
static const uint8_t *
scan_number(
    const uint8_t *p, const uint8_t *end, struct num *nm, const char **why)
{
	uint64_t m = 0;
	int nd = 0, e10 = 0, ex = 0, d;
	bool eneg = false;

	nm->m = 0;
	nm->e10 = 0;
	nm->neg = nm->real = nm->many = false;
	if (p < end && *p == '-') {
		nm->neg = true;
		p++;
	}
	if (p == end || !is_digit(*p)) {
		*why = "invalid number";
		return NULL;
	}
	if (*p == '0') {
		p++;
		if (p < end && is_digit(*p)) {
			*why = "invalid number: leading zero";
			return NULL;
		}
	} else {
		for (; p < end && is_digit(*p); p++) {
			d = *p - '0';
			if (nd < 19) {
				m = m * 10 + (uint64_t)d;
				nd++;
			} else {
				/* Dropped zeros only scale; others lose digits.
				 * Past the clamp strtod reads the text anyway.
				 */
				nm->many |= d != 0;
				if (e10 < E10_CLAMP)
					e10++;
			}
		}
	}
	if (p < end && *p == '.') {
		nm->real = true;
		p++;
		if (p == end || !is_digit(*p)) {
			*why = "invalid number: expected a digit after '.'";
			return NULL;
		}
		for (; p < end && is_digit(*p); p++) {
			d = *p - '0';
			if (nd < 19) {
				m = m * 10 + (uint64_t)d;
				/* Leading zeros of 0.000123 are not
				 * significant. */
				if (m != 0)
					nd++;
				if (e10 > -E10_CLAMP)
					e10--;
			} else
				nm->many |= d != 0;
		}
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		nm->real = true;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p == end || !is_digit(*p)) {
			*why =
			    "invalid number: expected a digit in the exponent";
			return NULL;
		}
		for (; p < end && is_digit(*p); p++)
			if (ex < 1000000)
				ex = ex * 10 + (*p - '0');
		e10 += eneg ? -ex : ex;
	}
	nm->m = m;
	nm->e10 = e10;
	return p;
}

static double
c_strtod(const char *s)
{
	locale_t l = __atomic_load_n(&c_locale, __ATOMIC_ACQUIRE);
	locale_t none = (locale_t)0;

	/* strtod() would follow LC_NUMERIC if a tool ever set a locale. */
	if (l == (locale_t)0) {
		if ((l = newlocale(LC_ALL_MASK, "C", (locale_t)0)) ==
		    (locale_t)0)
			sp_oom();
		if (!__atomic_compare_exchange_n(&c_locale, &none, l, false,
			__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			freelocale(l);
			l = none;
		}
	}
	return strtod_l(s, NULL, l);
}

/*
 * The double nearest to the number scanned from [s, e).  Clinger's fast
 * path is exact when both the mantissa and the power of ten are exact
 * doubles; anything else goes to strtod, which rounds correctly, on a
 * NUL-terminated copy in scratch (at least e - s + 1 bytes).
 */
static double
num_double(
    const struct num *nm, const uint8_t *s, const uint8_t *e, uint8_t *scratch)
{
	double x;

	if (nm->m == 0 && !nm->many)
		return nm->neg ? -0.0 : 0.0;
#if FLT_EVAL_METHOD == 0
	if (!nm->many && nm->m <= (1ULL << 53) && nm->e10 >= -22 &&
	    nm->e10 <= 22) {
		x = (double)nm->m;
		if (nm->e10 < 0)
			x /= pow10_exact[-nm->e10];
		else
			x *= pow10_exact[nm->e10];
		return nm->neg ? -x : x;
	}
#endif
	memcpy(scratch, s, (size_t)(e - s));
	scratch[e - s] = '\0';
	return c_strtod((const char *)scratch);
}

/* Ensures room for n more bytes after len; false past the BSON limit. */
static bool
grow(struct sp_buf *out, size_t len, size_t n)
{
	if (len > MAX_DOC || n > MAX_DOC - len)
		return false;
	out->len = len;
	sp_buf_reserve(out, n);
	return true;
}

/* Writes the decimal array index i and its NUL; returns the bytes. */
static inline size_t
put_index(uint8_t *d, uint32_t i)
{
	uint8_t tmp[10];
	size_t k = 0, n;

	if (i < 10) {
		d[0] = (uint8_t)('0' + i);
		d[1] = 0;
		return 2;
	}
	do {
		tmp[k++] = (uint8_t)('0' + i % 10);
		i /= 10;
	} while (i != 0);
	for (n = 0; n < k; n++)
		d[n] = tmp[k - 1 - n];
	d[k] = 0;
	return k + 1;
}

/* ------------------------------------------------ Extended JSON wrappers */

enum wrapper {
	W_NONE,
	W_OID,
	W_SYMBOL,
	W_INT,
	W_LONG,
	W_DOUBLE,
	W_DECIMAL,
	W_BINARY,
	W_TYPE,
	W_UUID,
	W_CODE,
	W_SCOPE,
	W_TIMESTAMP,
	W_REGEXP,
	W_REGEX,
	W_OPTIONS,
	W_DBPOINTER,
	W_DATE,
	W_MINKEY,
	W_MAXKEY,
	W_UNDEFINED,
};

/* clang-format off */
#define WRAPPER(k, w) { k, sizeof(k) - 1, w }
static const struct {
	const char *key;
	size_t len;
	enum wrapper w;
} wrappers[] = {
	WRAPPER("$oid", W_OID),
	WRAPPER("$symbol", W_SYMBOL),
	WRAPPER("$numberInt", W_INT),
	WRAPPER("$numberLong", W_LONG),
	WRAPPER("$numberDouble", W_DOUBLE),
	WRAPPER("$numberDecimal", W_DECIMAL),
	WRAPPER("$binary", W_BINARY),
	WRAPPER("$type", W_TYPE),
	WRAPPER("$uuid", W_UUID),
	WRAPPER("$code", W_CODE),
	WRAPPER("$scope", W_SCOPE),
	WRAPPER("$timestamp", W_TIMESTAMP),
	WRAPPER("$regularExpression", W_REGEXP),
	WRAPPER("$regex", W_REGEX),
	WRAPPER("$options", W_OPTIONS),
	WRAPPER("$dbPointer", W_DBPOINTER),
	WRAPPER("$date", W_DATE),
	WRAPPER("$minKey", W_MINKEY),
	WRAPPER("$maxKey", W_MAXKEY),
	WRAPPER("$undefined", W_UNDEFINED),
};
#undef WRAPPER
/* clang-format on */

/* Every object whose first key starts with '$' comes here, operators such
 * as {"$gt": 1} included, so compare lengths before bytes. */
static enum wrapper
wrapper_kind(const char *key, size_t klen)
{
	size_t i;

	for (i = 0; i < sizeof(wrappers) / sizeof(wrappers[0]); i++)
		if (wrappers[i].len == klen &&
		    memcmp(wrappers[i].key, key, klen) == 0)
			return wrappers[i].w;
	return W_NONE;
}

/* Size of a value of BSON type t starting at v. */
static size_t
value_size(uint8_t t, const uint8_t *v)
{
	switch (t) {
	case BSON_TYPE_DOUBLE:
	case BSON_TYPE_DATE_TIME:
	case BSON_TYPE_TIMESTAMP:
	case BSON_TYPE_INT64: return 8;
	case BSON_TYPE_UTF8:
	case BSON_TYPE_CODE:
	case BSON_TYPE_SYMBOL: return 4 + get_le32(v);
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
	case BSON_TYPE_CODEWSCOPE: return get_le32(v);
	case BSON_TYPE_BINARY: return 5 + get_le32(v);
	case BSON_TYPE_OID: return 12;
	case BSON_TYPE_BOOL: return 1;
	case BSON_TYPE_REGEX: {
		size_t n = strlen((const char *)v) + 1;

		return n + strlen((const char *)v + n) + 1;
	}
	case BSON_TYPE_DBPOINTER: return 4 + get_le32(v) + 12;
	case BSON_TYPE_INT32: return 4;
	case BSON_TYPE_DECIMAL128: return 16;
	default: /* undefined, null, minKey, maxKey */ return 0;
	}
}

/*
 * Reads up to max elements of the document at d (written by this file, so
 * well formed) into el; returns how many elements it has in all.
 */
static int
doc_elements(const uint8_t *d, struct elem *el, int max)
{
	const uint8_t *p = d + 4, *end = d + get_le32(d) - 1;
	struct elem e;
	int n = 0;

	while (p < end) {
		e.type = *p++;
		e.key = (const char *)p;
		e.klen = strlen(e.key);
		e.v = p + e.klen + 1;
		e.vlen = value_size(e.type, e.v);
		p = e.v + e.vlen;
		if (n < max)
			el[n] = e;
		n++;
	}
	return n;
}

/* The element of the document at d named key, or false. */
static bool
doc_find(const uint8_t *d, const char *key, struct elem *out)
{
	const uint8_t *p = d + 4, *end = d + get_le32(d) - 1;
	size_t klen = strlen(key);
	struct elem e;

	while (p < end) {
		e.type = *p++;
		e.key = (const char *)p;
		e.klen = strlen(e.key);
		e.v = p + e.klen + 1;
		e.vlen = value_size(e.type, e.v);
		p = e.v + e.vlen;
		if (e.klen == klen && memcmp(e.key, key, klen) == 0) {
			*out = e;
			return true;
		}
	}
	return false;
}

static bool
key_is(const struct elem *e, const char *key)
{
	return e->klen == strlen(key) && memcmp(e->key, key, e->klen) == 0;
}

/* A string element's bytes (without the NUL) and length. */
static bool
str_of(const struct elem *e, const char **s, size_t *n)
{
	if (e->type != BSON_TYPE_UTF8)
		return false;
	*s = (const char *)e->v + 4;
	*n = get_le32(e->v) - 1;
	return true;
}

/* A string element that can be a C string (no NUL inside). */
static bool
cstr_of(const struct elem *e, const char **s, size_t *n)
{
	return str_of(e, s, n) && memchr(*s, 0, *n) == NULL;
}

/* An integer element (int32 or int64) in [lo, hi]. */
static bool
int_of(const struct elem *e, int64_t lo, int64_t hi, int64_t *v)
{
	if (e->type == BSON_TYPE_INT32)
		*v = (int32_t)get_le32(e->v);
	else if (e->type == BSON_TYPE_INT64)
		*v = (int64_t)get_le64(e->v);
	else
		return false;
	return *v >= lo && *v <= hi;
}

/* Strict integer text: the JSON integer grammar, within [lo, hi]. */
static bool
parse_int_text(const char *s, size_t n, int64_t lo, int64_t hi, int64_t *v)
{
	const uint8_t *p = (const uint8_t *)s, *e;
	struct num nm;
	const char *why;

	e = scan_number(p, p + n, &nm, &why);
	if (e != p + n || nm.real || nm.many || nm.e10 != 0)
		return false;
	if (nm.neg) {
		if (nm.m > (uint64_t)INT64_MAX + 1)
			return false;
		*v = nm.m == (uint64_t)INT64_MAX + 1 ? INT64_MIN
						     : -(int64_t)nm.m;
	} else {
		if (nm.m > (uint64_t)INT64_MAX)
			return false;
		*v = (int64_t)nm.m;
	}
	return *v >= lo && *v <= hi;
}

/* 1-2 hex digits, as in "subType": "04". */
static bool
parse_subtype(const char *s, size_t n, uint8_t *st)
{
	int a, b;

	if (n == 1 && (a = hexval((uint8_t)s[0])) >= 0) {
		*st = (uint8_t)a;
		return true;
	}
	if (n == 2 && (a = hexval((uint8_t)s[0])) >= 0 &&
	    (b = hexval((uint8_t)s[1])) >= 0) {
		*st = (uint8_t)(a << 4 | b);
		return true;
	}
	return false;
}

static int
b64val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (is_digit(c))
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decodes padded standard base64 (RFC 4648 section 4) into d, which has
 * room for n / 4 * 3 bytes.  Returns the decoded size, or -1.
 */
static long
base64_decode(const char *s, size_t n, uint8_t *d)
{
	size_t i, pad = 0, o = 0;
	uint32_t acc;
	int k, v;

	if (n % 4 != 0)
		return -1;
	if (n > 0 && s[n - 1] == '=')
		pad = n > 1 && s[n - 2] == '=' ? 2 : 1;
	for (i = 0; i < n; i += 4) {
		acc = 0;
		for (k = 0; k < 4; k++) {
			if (i + k >= n - pad) {
				v = 0;
			} else if ((v = b64val((uint8_t)s[i + k])) < 0)
				return -1;
			acc = acc << 6 | (uint32_t)v;
		}
		d[o++] = (uint8_t)(acc >> 16);
		d[o++] = (uint8_t)(acc >> 8);
		d[o++] = (uint8_t)acc;
	}
	return (long)(o - pad);
}

/* Writes a BSON binary value; subtype 2 carries its own inner length. */
static size_t
put_binary(uint8_t *d, uint8_t subtype, const uint8_t *data, size_t n)
{
	size_t h = 5;

	if (subtype == BSON_SUBTYPE_BINARY_DEPRECATED) {
		put_le32(d, (uint32_t)(n + 4));
		d[4] = subtype;
		put_le32(d + 5, (uint32_t)n);
		h = 9;
	} else {
		put_le32(d, (uint32_t)n);
		d[4] = subtype;
	}
	memmove(d + h, data, n);
	return h + n;
}

static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	/* Howard Hinnant's algorithm: years start in March. */
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!is_digit((uint8_t)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM|+HHMM|-HHMM) to
 * milliseconds since the epoch; the fraction is truncated to ms.
 */
static bool
parse_iso_date(const char *s, size_t n, int64_t *ms)
{
	static const int mdays[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *p = s + 19, *e = s + n;
	int y, mo, d, h, mi, sec, frac = 0, scale = 100, oh = 0, om = 0;
	int sign = 0, dim;

	if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':')
		return false;
	if ((y = digits(s, 4)) < 0 || (mo = digits(s + 5, 2)) < 1 || mo > 12 ||
	    (d = digits(s + 8, 2)) < 1 || (h = digits(s + 11, 2)) < 0 ||
	    h > 23 || (mi = digits(s + 14, 2)) < 0 || mi > 59 ||
	    (sec = digits(s + 17, 2)) < 0 || sec > 59)
		return false;
	dim = mdays[mo - 1];
	if (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		dim = 29;
	if (d > dim)
		return false;
	if (*p == '.') {
		if (++p == e || !is_digit((uint8_t)*p))
			return false;
		for (; p < e && is_digit((uint8_t)*p); p++) {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (p == e)
		return false;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (e - p == 5 && p[2] == ':') {
			oh = digits(p, 2);
			om = digits(p + 3, 2);
		} else if (e - p == 4) {
			oh = digits(p, 2);
			om = digits(p + 2, 2);
		} else
			return false;
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return false;
		p = e;
	} else
		return false;
	if (p != e)
		return false;
	*ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + sec;
	*ms = *ms * 1000 + frac - (int64_t)sign * (oh * 60 + om) * 60000;
	return true;
}

static bool
valid_regex_options(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '\0' || strchr("ilmsux", s[i]) == NULL)
			return false;
	return true;
}

static int
wrapper_error(struct parser *ps, const struct frame *f, const char *name,
    const char *what)
{
	ps->out->len = 0;
	return sp_error_set(
	    ps->err, "invalid %s at offset %zu: %s", name, f->at, what);
}

/*
 * Called when the object of frame f (not the top level) closes and its
 * first key starts with '$'.  Rewrites it into the BSON value it stands
 * for; returns 1 when it did, 0 when it stays a document, -1 on error.
 */
static int
ejson(struct parser *ps, const struct frame *f)
{
	struct sp_buf *out = ps->out;
	size_t start = f->start, oend = out->len, vn = 0;
	const uint8_t *doc;
	uint8_t *w, type = 0;
	enum wrapper kind;
	struct elem el[2], a, b, sub[3];
	const char *s, *s2, *name;
	size_t n, n2;
	int64_t v, v2;
	int k, kk;
	uint8_t st;
	long dn;
	bson_decimal128_t dec;
	double x;
	uint8_t uuid[16];

	/* The new value is built past the end, then moved down over the
	 * document.  It is never larger than the document, so one reserve
	 * keeps every pointer below valid. */
	sp_buf_reserve(out, oend - start + 32);
	doc = out->data + start;
	w = out->data + oend;
	k = doc_elements(doc, el, 2);
	switch (kind = wrapper_kind(el[0].key, el[0].klen)) {
	case W_NONE: return 0;
	case W_OID:
		name = "$oid";
		if (k != 1 || !str_of(&el[0], &s, &n) || n != 24)
			return wrapper_error(ps, f, name,
			    "expected {\"$oid\": <24 hex digits>}");
		for (n = 0; n < 12; n++) {
			int hi = hexval((uint8_t)s[2 * n]);
			int lo = hexval((uint8_t)s[2 * n + 1]);

			if (hi < 0 || lo < 0)
				return wrapper_error(
				    ps, f, name, "expected 24 hex digits");
			w[n] = (uint8_t)(hi << 4 | lo);
		}
		type = BSON_TYPE_OID;
		vn = 12;
		break;
	case W_SYMBOL:
		if (k != 1 || el[0].type != BSON_TYPE_UTF8)
			return wrapper_error(ps, f, "$symbol",
			    "expected {\"$symbol\": <string>}");
		type = BSON_TYPE_SYMBOL;
		memcpy(w, el[0].v, el[0].vlen);
		vn = el[0].vlen;
		break;
	case W_INT:
		if (k != 1 || !str_of(&el[0], &s, &n) ||
		    !parse_int_text(s, n, INT32_MIN, INT32_MAX, &v))
			return wrapper_error(ps, f, "$numberInt",
			    "expected {\"$numberInt\": <int32 as a string>}");
		type = BSON_TYPE_INT32;
		put_le32(w, (uint32_t)(int32_t)v);
		vn = 4;
		break;
	case W_LONG:
		if (k != 1 || !str_of(&el[0], &s, &n) ||
		    !parse_int_text(s, n, INT64_MIN, INT64_MAX, &v))
			return wrapper_error(ps, f, "$numberLong",
			    "expected {\"$numberLong\": <int64 as a string>}");
		type = BSON_TYPE_INT64;
		put_le64(w, (uint64_t)v);
		vn = 8;
		break;
	case W_DOUBLE:
		name = "$numberDouble";
		if (k != 1 || !str_of(&el[0], &s, &n))
			return wrapper_error(ps, f, name,
			    "expected {\"$numberDouble\": <string>}");
		if (n == 8 && memcmp(s, "Infinity", 8) == 0)
			x = HUGE_VAL;
		else if (n == 9 && memcmp(s, "-Infinity", 9) == 0)
			x = -HUGE_VAL;
		else if (n == 3 && memcmp(s, "NaN", 3) == 0)
			x = (double)NAN;
		else {
			const uint8_t *p = (const uint8_t *)s, *e;
			struct num nm;
			const char *why;

			e = scan_number(p, p + n, &nm, &why);
			if (e != p + n)
				return wrapper_error(ps, f, name,
				    "expected a decimal number, \"Infinity\", "
				    "\"-Infinity\" or \"NaN\"");
			/* w has room: the string is inside the document. */
			x = num_double(&nm, p, e, w);
			if (isinf(x))
				return wrapper_error(
				    ps, f, name, "number out of range");
		}
		type = BSON_TYPE_DOUBLE;
		put_double(w, x);
		vn = 8;
		break;
	case W_DECIMAL:
		if (k != 1 || !str_of(&el[0], &s, &n) ||
		    memchr(s, 0, n) != NULL ||
		    !bson_decimal128_from_string_w_len(s, (int)n, &dec))
			return wrapper_error(ps, f, "$numberDecimal",
			    "expected {\"$numberDecimal\": <decimal as a "
			    "string>}");
		type = BSON_TYPE_DECIMAL128;
		put_le64(w, dec.low);
		put_le64(w + 8, dec.high);
		vn = 16;
		break;
	case W_TYPE:
		/* Without "$binary" this is the $type query operator. */
		if (!doc_find(doc, "$binary", &a))
			return 0;
		/* FALLTHROUGH */
	case W_BINARY:
		name = "$binary";
		if (!doc_find(doc, "$binary", &a))
			return wrapper_error(
			    ps, f, name, "missing \"$binary\"");
		if (a.type == BSON_TYPE_DOCUMENT) {
			if (k != 1 || doc_elements(a.v, sub, 3) != 2)
				return wrapper_error(ps, f, name,
				    "expected {\"$binary\": {\"base64\": "
				    "<string>, \"subType\": <hex string>}}");
			kk = key_is(&sub[0], "base64") ? 0 : 1;
			if (!key_is(&sub[kk], "base64") ||
			    !key_is(&sub[1 - kk], "subType"))
				return wrapper_error(ps, f, name,
				    "expected keys \"base64\" and \"subType\"");
			b = sub[1 - kk];
			a = sub[kk];
		} else if (k != 2 || !doc_find(doc, "$type", &b))
			return wrapper_error(ps, f, name,
			    "expected {\"$binary\": {\"base64\": <string>, "
			    "\"subType\": <hex string>}}");
		if (!str_of(&b, &s2, &n2) || !parse_subtype(s2, n2, &st))
			return wrapper_error(ps, f, name,
			    "subtype must be a string of 1 or 2 hex digits");
		if (!str_of(&a, &s, &n))
			return wrapper_error(
			    ps, f, name, "payload must be a base64 string");
		/* Decode past the header, then put_binary moves it down. */
		if ((dn = base64_decode(s, n, w + 9)) < 0)
			return wrapper_error(ps, f, name, "invalid base64");
		type = BSON_TYPE_BINARY;
		vn = put_binary(w, st, w + 9, (size_t)dn);
		break;
	case W_UUID:
		name = "$uuid";
		if (k != 1 || !str_of(&el[0], &s, &n) || n != 36)
			return wrapper_error(ps, f, name,
			    "expected {\"$uuid\": \"xxxxxxxx-xxxx-xxxx-xxxx-"
			    "xxxxxxxxxxxx\"}");
		for (n = 0, n2 = 0; n < 36; n++) {
			int hi, lo;

			if (n == 8 || n == 13 || n == 18 || n == 23) {
				if (s[n] != '-')
					return wrapper_error(ps, f, name,
					    "expected 8-4-4-4-12 hex digits");
				continue;
			}
			hi = hexval((uint8_t)s[n]);
			lo = hexval((uint8_t)s[n + 1]);
			if (hi < 0 || lo < 0 || n + 1 == 8 || n + 1 == 13 ||
			    n + 1 == 18 || n + 1 == 23)
				return wrapper_error(ps, f, name,
				    "expected 8-4-4-4-12 hex digits");
			uuid[n2++] = (uint8_t)(hi << 4 | lo);
			n++;
		}
		type = BSON_TYPE_BINARY;
		vn = put_binary(w, BSON_SUBTYPE_UUID, uuid, sizeof(uuid));
		break;
	case W_CODE:
	case W_SCOPE:
		name = "$code";
		if (!doc_find(doc, "$code", &a) || !str_of(&a, &s, &n))
			return wrapper_error(ps, f, name,
			    "expected {\"$code\": <string>} or {\"$code\": "
			    "<string>, \"$scope\": <object>}");
		if (k == 1) {
			type = BSON_TYPE_CODE;
			memcpy(w, a.v, a.vlen);
			vn = a.vlen;
			break;
		}
		if (k != 2 || !doc_find(doc, "$scope", &b) ||
		    b.type != BSON_TYPE_DOCUMENT)
			return wrapper_error(ps, f, name,
			    "expected {\"$code\": <string>, \"$scope\": "
			    "<object>}");
		type = BSON_TYPE_CODEWSCOPE;
		vn = 4 + a.vlen + b.vlen;
		put_le32(w, (uint32_t)vn);
		memcpy(w + 4, a.v, a.vlen);
		memcpy(w + 4 + a.vlen, b.v, b.vlen);
		break;
	case W_TIMESTAMP:
		name = "$timestamp";
		if (k != 1 || el[0].type != BSON_TYPE_DOCUMENT ||
		    doc_elements(el[0].v, sub, 3) != 2)
			return wrapper_error(ps, f, name,
			    "expected {\"$timestamp\": {\"t\": <uint32>, "
			    "\"i\": <uint32>}}");
		kk = key_is(&sub[0], "t") ? 0 : 1;
		if (!key_is(&sub[kk], "t") || !key_is(&sub[1 - kk], "i") ||
		    !int_of(&sub[kk], 0, UINT32_MAX, &v) ||
		    !int_of(&sub[1 - kk], 0, UINT32_MAX, &v2))
			return wrapper_error(ps, f, name,
			    "expected {\"t\": <uint32>, \"i\": <uint32>}");
		type = BSON_TYPE_TIMESTAMP;
		put_le32(w, (uint32_t)v2);
		put_le32(w + 4, (uint32_t)v);
		vn = 8;
		break;
	case W_REGEXP:
		name = "$regularExpression";
		if (k != 1 || el[0].type != BSON_TYPE_DOCUMENT ||
		    doc_elements(el[0].v, sub, 3) != 2)
			return wrapper_error(ps, f, name,
			    "expected {\"$regularExpression\": {\"pattern\": "
			    "<string>, \"options\": <string>}}");
		kk = key_is(&sub[0], "pattern") ? 0 : 1;
		if (!key_is(&sub[kk], "pattern") ||
		    !key_is(&sub[1 - kk], "options"))
			return wrapper_error(ps, f, name,
			    "expected keys \"pattern\" and \"options\"");
		a = sub[kk];
		b = sub[1 - kk];
		goto regex;
	case W_REGEX:
	case W_OPTIONS:
		/* Only exactly {"$regex": <string>, "$options": <valid
		 * options>} is the legacy wrapper. Anything else, such as
		 * {"$regex": "^x", "$options": "i", "$ne": "xx"} or bad
		 * options, is the $regex query operator: it stays a document
		 * and the $match compiler judges it. */
		name = "$regex";
		if (k != 2 || !doc_find(doc, "$regex", &a) ||
		    a.type != BSON_TYPE_UTF8 ||
		    !doc_find(doc, "$options", &b) || !str_of(&b, &s2, &n2) ||
		    !valid_regex_options(s2, n2))
			return 0;
	regex:
		if (!cstr_of(&a, &s, &n))
			return wrapper_error(ps, f, name,
			    "pattern must be a string without NUL");
		if (!str_of(&b, &s2, &n2) || !valid_regex_options(s2, n2))
			return wrapper_error(ps, f, name,
			    "options must be a string of \"ilmsux\"");
		type = BSON_TYPE_REGEX;
		memcpy(w, s, n);
		w[n] = 0;
		vn = n + 1;
		/* BSON wants the flags sorted; each once, as libbson does. */
		for (s = "ilmsux"; *s != '\0'; s++)
			if (memchr(s2, *s, n2) != NULL)
				w[vn++] = (uint8_t)*s;
		w[vn++] = 0;
		break;
	case W_DBPOINTER:
		name = "$dbPointer";
		if (k != 1 || el[0].type != BSON_TYPE_DOCUMENT ||
		    doc_elements(el[0].v, sub, 3) != 2)
			return wrapper_error(ps, f, name,
			    "expected {\"$dbPointer\": {\"$ref\": <string>, "
			    "\"$id\": {\"$oid\": <hex>}}}");
		kk = key_is(&sub[0], "$ref") ? 0 : 1;
		if (!key_is(&sub[kk], "$ref") || !key_is(&sub[1 - kk], "$id") ||
		    sub[kk].type != BSON_TYPE_UTF8 ||
		    sub[1 - kk].type != BSON_TYPE_OID)
			return wrapper_error(ps, f, name,
			    "expected {\"$ref\": <string>, \"$id\": "
			    "{\"$oid\": <hex>}}");
		type = BSON_TYPE_DBPOINTER;
		memcpy(w, sub[kk].v, sub[kk].vlen);
		memcpy(w + sub[kk].vlen, sub[1 - kk].v, 12);
		vn = sub[kk].vlen + 12;
		break;
	case W_DATE:
		name = "$date";
		if (k != 1)
			return wrapper_error(ps, f, name,
			    "expected {\"$date\": <ISO-8601 string>} or "
			    "{\"$date\": {\"$numberLong\": <string>}}");
		if (str_of(&el[0], &s, &n)) {
			if (!parse_iso_date(s, n, &v))
				return wrapper_error(ps, f, name,
				    "expected an ISO-8601 date such as "
				    "\"2024-08-12T21:41:01.788Z\"");
		} else if (!int_of(&el[0], INT64_MIN, INT64_MAX, &v))
			return wrapper_error(ps, f, name,
			    "expected a string, {\"$numberLong\": <string>} "
			    "or an integer");
		type = BSON_TYPE_DATE_TIME;
		put_le64(w, (uint64_t)v);
		vn = 8;
		break;
	case W_MINKEY:
	case W_MAXKEY:
		name = kind == W_MINKEY ? "$minKey" : "$maxKey";
		if (k != 1 || !int_of(&el[0], 1, 1, &v))
			return wrapper_error(ps, f, name, "expected 1");
		type = kind == W_MINKEY ? BSON_TYPE_MINKEY : BSON_TYPE_MAXKEY;
		break;
	case W_UNDEFINED:
		if (k != 1 || el[0].type != BSON_TYPE_BOOL || el[0].v[0] != 1)
			return wrapper_error(ps, f, "$undefined",
			    "expected {\"$undefined\": true}");
		type = BSON_TYPE_UNDEFINED;
		break;
	}
	memmove(out->data + start, w, vn);
	out->len = start + vn;
	out->data[f->elem] = type;
	return 1;
}

/* ------------------------------------------------------------ the parser */

int
sp_json_parse(
    struct sp_buf *out, const char *text, size_t len, struct sp_error *err)
{
	struct parser ps;
	struct frame stack[MAX_DEPTH], *f;
	const uint8_t *p, *end, *q;
	uint8_t *ob;
	size_t ol, oc, n, elem;
	int depth = 0;
	struct num nm;
	const char *why;
	double x;

	ps.text = (const uint8_t *)text;
	ps.end = ps.text + len;
	ps.out = out;
	ps.err = err;
	p = ps.text;
	end = ps.end;
	sp_buf_reset(out);
	sp_buf_reserve(out, 64);
	ob = out->data;
	oc = out->cap;
	ol = 0;

/* Room for k more bytes at ob + ol (and the spare byte sp_buf keeps). */
#define NEED(k)                                                                \
	do {                                                                   \
		if (oc - ol <= (size_t)(k)) {                                  \
			if (!grow(out, ol, (size_t)(k)))                       \
				goto too_large;                                \
			ob = out->data;                                        \
			oc = out->cap;                                         \
		}                                                              \
	} while (0)
#define SKIP_WS()                                                              \
	do {                                                                   \
		while (p < end && is_ws(*p))                                   \
			p++;                                                   \
	} while (0)

	SKIP_WS();
	if (p == end)
		return fail(&ps, p, "unexpected end of input");
	if (*p != '{') {
		out->len = 0;
		return sp_error_set(err, "top-level value is not an object");
	}
	f = stack;
	f->start = 0;
	f->elem = 0;
	f->at = 0;
	f->count = 0;
	f->array = 0;
	f->dollar = 0;
	ol = 4;
	p++;

	/*
	 * The labels below are the states of the parser; f is the innermost
	 * open container and elem the type byte of the element being read.
	 * A goto machine rather than recursion: the depth limit is a fixed
	 * array and the hot locals stay in registers.
	 */
obj_open:
	SKIP_WS();
	if (p < end && *p == '}') {
		p++;
		goto close;
	}
	goto member;
obj_comma:
	SKIP_WS();
	if (p < end && *p == '}')
		return fail(&ps, p, "trailing comma before '}'");
member:
	if (p == end)
		return fail(&ps, p, "unexpected end of input");
	if (*p != '"')
		return fail(&ps, p, "expected a string for an object key");
	elem = ol;
	q = scan_plain(p + 1, end);
	if (q < end && *q == '"') {
		n = (size_t)(q - p - 1);
		NEED(n + 2);
		memcpy(ob + ol + 1, p + 1, n);
		ob[ol + 1 + n] = 0;
		ol += n + 2;
		p = q + 1;
	} else {
		NEED(1);
		out->len = ol + 1;
		if ((p = string_slow(&ps, p + 1, q, false)) == NULL)
			return -1;
		ob = out->data;
		ol = out->len;
		oc = out->cap;
	}
	if (f->count++ == 0)
		f->dollar = ob[elem + 1] == '$';
	SKIP_WS();
	if (p == end || *p != ':')
		return fail(&ps, p, "expected ':' after object key");
	p++;
	SKIP_WS();
	goto value;

arr_open:
	SKIP_WS();
	if (p < end && *p == ']') {
		p++;
		goto close;
	}
	goto element;
arr_comma:
	SKIP_WS();
	if (p < end && *p == ']')
		return fail(&ps, p, "trailing comma before ']'");
element:
	elem = ol;
	NEED(12);
	ol += 1 + put_index(ob + ol + 1, f->count++);

value:
	if (p == end)
		return fail(&ps, p, "unexpected end of input");
	switch (*p) {
	case '"':
		q = scan_plain(p + 1, end);
		if (q < end && *q == '"') {
			n = (size_t)(q - p - 1);
			NEED(n + 5);
			put_le32(ob + ol, (uint32_t)(n + 1));
			memcpy(ob + ol + 4, p + 1, n);
			ob[ol + 4 + n] = 0;
			ol += n + 5;
			p = q + 1;
		} else {
			out->len = ol;
			if ((p = string_slow(&ps, p + 1, q, true)) == NULL)
				return -1;
			ob = out->data;
			ol = out->len;
			oc = out->cap;
		}
		ob[elem] = BSON_TYPE_UTF8;
		break;
	case '{':
	case '[':
		if (depth + 1 == MAX_DEPTH)
			return fail(&ps, p, "nesting deeper than 200 levels");
		f = &stack[++depth];
		f->start = ol;
		f->elem = elem;
		f->at = (size_t)(p - ps.text);
		f->count = 0;
		f->dollar = 0;
		NEED(4);
		ol += 4;
		if (*p++ == '{') {
			f->array = 0;
			ob[elem] = BSON_TYPE_DOCUMENT;
			goto obj_open;
		}
		f->array = 1;
		ob[elem] = BSON_TYPE_ARRAY;
		goto arr_open;
	case 't':
		if (end - p < 4 || memcmp(p, "true", 4) != 0)
			return fail(&ps, p, "invalid literal");
		NEED(1);
		ob[elem] = BSON_TYPE_BOOL;
		ob[ol++] = 1;
		p += 4;
		break;
	case 'f':
		if (end - p < 5 || memcmp(p, "false", 5) != 0)
			return fail(&ps, p, "invalid literal");
		NEED(1);
		ob[elem] = BSON_TYPE_BOOL;
		ob[ol++] = 0;
		p += 5;
		break;
	case 'n':
		if (end - p < 4 || memcmp(p, "null", 4) != 0)
			return fail(&ps, p, "invalid literal");
		ob[elem] = BSON_TYPE_NULL;
		p += 4;
		break;
	case '-':
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9':
		if ((q = scan_number(p, end, &nm, &why)) == NULL)
			return fail(&ps, p, why);
		/* Also room for num_double's copy of the text. */
		NEED((size_t)(q - p) + 9);
		if (!nm.real && !nm.many && nm.e10 == 0) {
			if (nm.neg ? nm.m <= (uint64_t)INT32_MAX + 1
				   : nm.m <= INT32_MAX) {
				ob[elem] = BSON_TYPE_INT32;
				put_le32(ob + ol,
				    nm.neg ? (uint32_t)(0 - nm.m)
					   : (uint32_t)nm.m);
				ol += 4;
				p = q;
				break;
			}
			if (nm.neg ? nm.m <= (uint64_t)INT64_MAX + 1
				   : nm.m <= INT64_MAX) {
				ob[elem] = BSON_TYPE_INT64;
				put_le64(ob + ol, nm.neg ? 0 - nm.m : nm.m);
				ol += 8;
				p = q;
				break;
			}
		}
		x = num_double(&nm, p, q, ob + ol);
		if (isinf(x))
			return fail(&ps, p, "number out of range");
		ob[elem] = BSON_TYPE_DOUBLE;
		put_double(ob + ol, x);
		ol += 8;
		p = q;
		break;
	default: return fail(&ps, p, "expected a value");
	}

after:
	SKIP_WS();
	if (p == end)
		return fail(&ps, p, "unexpected end of input");
	if (f->array) {
		if (*p == ',') {
			p++;
			goto arr_comma;
		}
		if (*p == ']') {
			p++;
			goto close;
		}
		return fail(&ps, p, "expected ',' or ']' after array element");
	}
	if (*p == ',') {
		p++;
		goto obj_comma;
	}
	if (*p == '}') {
		p++;
		goto close;
	}
	return fail(&ps, p, "expected ',' or '}' after object member");

close:
	NEED(1);
	ob[ol++] = 0;
	n = ol - f->start;
	/* String and wrapper writes can grow the buffer past the check in
	 * NEED; every length is checked here, where it is written. */
	if (n > MAX_DOC)
		goto too_large;
	put_le32(ob + f->start, (uint32_t)n);
	if (depth == 0)
		goto done;
	if (f->dollar && !f->array) {
		out->len = ol;
		if (ejson(&ps, f) < 0)
			return -1;
		ob = out->data;
		ol = out->len;
		oc = out->cap;
	}
	f = &stack[--depth];
	goto after;

done:
	SKIP_WS();
	if (p != end) {
		out->len = 0;
		return sp_error_set(err,
		    "trailing characters after the object at offset %zu",
		    (size_t)(p - ps.text));
	}
	out->len = ol;
	return 0;

too_large:
	out->len = 0;
	return sp_error_set(
	    err, "document too large at offset %zu", (size_t)(p - ps.text));
#undef NEED
#undef SKIP_WS
}
