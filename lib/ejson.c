/* ejson.c: BSON to MongoDB Extended JSON v2, byte for byte as mongoexport. */
/*
 * mongoexport decodes each document into a bson.D and writes it with the Go
 * driver's bson.MarshalExtJSON(doc, canonical, escapeHTML=false), i.e.
 * bson/bsonrw/extjson_writer.go of the 1.x driver that mongo-tools builds
 * with. Everything here copies that writer; where it departs from the
 * Extended JSON spec or from the spec's bson-corpus strings, the comment
 * says so. The output has no spaces: {"a":1,"b":{"$oid":"..."}}. Checked
 * byte for byte against the driver (1.8.4) on random documents of every
 * type and on every power of two and of ten with their neighbours.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal_int.h"
#include "ejson_int.h"
#include "sp.h"

/* ------------------------------------------------------------ buffer */

/* sp_buf_reserve with the common case (enough room) inline. */
static inline uint8_t *
room(struct sp_buf *b, size_t n)
{
	if (b->cap - b->len < n + 1)
		return sp_buf_reserve(b, n);
	return b->data + b->len;
}

static inline void
put(struct sp_buf *b, const void *s, size_t n)
{
	memcpy(room(b, n), s, n);
	b->len += n;
}

static inline void
putch(struct sp_buf *b, int c)
{
	*room(b, 1) = (uint8_t)c;
	b->len++;
}

#define PUTLIT(b, lit) put((b), (lit), sizeof(lit) - 1)

/* Ends a write that began at room(): p is one past the last byte. */
static inline void
commit(struct sp_buf *b, const void *p)
{
	b->len = (size_t)((const uint8_t *)p - b->data);
}

/* ----------------------------------------------------------- numbers */

static const char digit_pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

/* Writes v in decimal at p (at most 20 bytes); returns the end. */
static char *
fmt_u64(char *p, uint64_t v)
{
	char tmp[20], *t = tmp + sizeof(tmp);
	size_t n;

	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		t -= 2;
		memcpy(t, digit_pairs + 2 * r, 2);
	}
	if (v >= 10) {
		t -= 2;
		memcpy(t, digit_pairs + 2 * v, 2);
	} else
		*--t = (char)('0' + v);
	n = (size_t)(tmp + sizeof(tmp) - t);
	memcpy(p, t, n);
	return p + n;
}

static char *
fmt_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		/* Unsigned negation: INT64_MIN has no positive int64. */
		return fmt_u64(p, 0 - (uint64_t)v);
	}
	return fmt_u64(p, (uint64_t)v);
}

static void
put_i64(struct sp_buf *b, int64_t v)
{
	commit(b, fmt_i64((char *)room(b, 21), v));
}

/* Two digits, zero-padded (dates). */
static char *
fmt_2(char *p, unsigned v)
{
	memcpy(p, digit_pairs + 2 * v, 2);
	return p + 2;
}

/* ----------------------------------------------------------- doubles */

/* clang-format off */
static const double pow10_tab[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
	1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};
/* clang-format on */

/* Digits of m > 0 into d; returns how many, trailing zeros dropped, and
 * sets *ndigits to the count before dropping. */
static int
u64_digits(char *d, uint64_t m, int *ndigits)
{
	char tmp[20];
	char *e = fmt_u64(tmp, m);
	int n = (int)(e - tmp);

	*ndigits = n;
	while (n > 1 && tmp[n - 1] == '0')
		n--;
	memcpy(d, tmp, (size_t)n);
	return n;
}

/* Correctly rounded p significant digits of ax > 0 (glibc's printf is
 * exact); returns p and sets *dp. */
static int
rounded_digits(double ax, int p, char *d, int *dp)
{
	char buf[48], *s = buf;
	int n = 0;

	snprintf(buf, sizeof(buf), "%.*e", p - 1, ax);
	for (; *s != 'e'; s++)
		if (*s != '.')
			d[n++] = *s;
	*dp = atoi(s + 1) + 1;
	return n;
}

/* What digits * 10^(dp - nd) reads back as. */
static double
read_back(const char *d, int nd, int dp)
{
	char buf[48], *p = buf;

	memcpy(p, d, (size_t)nd);
	p += nd;
	*p++ = 'e';
	p = fmt_i64(p, dp - nd);
	*p = '\0';
	return strtod(buf, NULL);
}

static int
strip_zeros(const char *d, int nd)
{
	while (nd > 1 && d[nd - 1] == '0')
		nd--;
	return nd;
}

/*
 * The general case: ask printf for correctly rounded digits. A normal
 * double has at most one decimal of 15 significant digits within its
 * rounding interval (decimals that close are 1e-15 apart relatively, the
 * interval is at most 2^-52 wide), so if the 15-digit rounding reads back,
 * it is the only candidate of 15 digits or fewer and dropping its trailing
 * zeros gives the shortest. Otherwise 16, then 17 digits (17 always read
 * back). Subnormals have fewer significant bits, so they count up from 1.
 */
static int
shortest_slow(double ax, char *d, int *dp)
{
	uint64_t bits;
	int p, nd;
	bool pow2;

	memcpy(&bits, &ax, sizeof(bits));
	/*
	 * At a power of two the interval below x is half as wide as the one
	 * above, so the nearest p-digit decimal can fall outside it (below)
	 * while the next one up is inside; Go's shortest algorithm takes that
	 * one. The smallest normal has a symmetric interval.
	 */
	pow2 = (bits & ((UINT64_C(1) << 52) - 1)) == 0 && (bits >> 52) > 1;
	for (p = (bits >> 52) == 0 ? 1 : 15;; p++) {
		double back;
		int i;

		nd = rounded_digits(ax, p, d, dp);
		back = read_back(d, nd, *dp);
		if (back == ax || p == 17)
			break;
		if (!pow2 || back > ax)
			continue;
		for (i = nd - 1; i >= 0 && d[i] == '9'; i--)
			d[i] = '0';
		if (i >= 0)
			d[i]++;
		else {
			d[0] = '1';
			(*dp)++;
		}
		if (read_back(d, nd, *dp) == ax)
			break;
	}
	return strip_zeros(d, nd);
}

int
sp_ejson_double_digits(double x, char digits[17], int *dp)
{
	double ax = fabs(x);
	int k, n, nd;

	if (ax == 0) {
		*dp = 0;
		return 0;
	}
	/*
	 * Fast path, exact by the same uniqueness argument as shortest_slow:
	 * if some integer m < 1e15 with m / 10^k (or m * 10^k) == x, computed
	 * with one correctly rounded IEEE operation on exact operands, then
	 * m * 10^-k is the one decimal of at most 15 digits that reads back
	 * as x, hence the shortest. Most data (prices, readings, counters)
	 * ends here without printf or strtod.
	 */
	if (ax < 1e15) {
		for (k = 0; k <= 22; k++) {
			double m = ax * pow10_tab[k], r;

			if (m >= 1e15)
				break;
			r = (double)(uint64_t)(m + 0.5);
			if (r != 0 && r / pow10_tab[k] == ax) {
				nd = u64_digits(digits, (uint64_t)r, &n);
				*dp = n - k;
				return nd;
			}
		}
	} else if (ax < 1e37) {
		for (k = 1; k <= 22; k++) {
			double m = ax / pow10_tab[k], r;

			if (m >= 1e15)
				continue;
			r = (double)(uint64_t)(m + 0.5);
			if (r * pow10_tab[k] == ax) {
				nd = u64_digits(digits, (uint64_t)r, &n);
				*dp = n + k;
				return nd;
			}
		}
	}
	return shortest_slow(ax, digits, dp);
}

size_t
sp_ejson_format_double(char *out, double x)
{
	char d[17], *p = out;
	int nd, dp, e10, i;

	if (isnan(x)) {
		memcpy(out, "NaN", 4);
		return 3;
	}
	if (isinf(x)) {
		if (x > 0) {
			memcpy(out, "Infinity", 9);
			return 8;
		}
		memcpy(out, "-Infinity", 10);
		return 9;
	}
	nd = sp_ejson_double_digits(x, d, &dp);
	if (signbit(x))
		*p++ = '-';
	/*
	 * strconv's 'G' with shortest precision switches to %E when the
	 * exponent is < -4 or >= 6 (eprec is fixed at 6, not 21 as in
	 * JavaScript), with at least two exponent digits; formatDouble then
	 * appends ".0" only when there is neither '.' nor 'E'. So 1e21 is
	 * "1E+21", 1e6 is "1E+06", 1e-7 is "1E-07", 100000 is "100000.0".
	 * (The bson-corpus spells these "1.0e+21" etc.; mongoexport does not.)
	 */
	e10 = dp - 1;
	if (nd > 0 && (e10 < -4 || e10 >= 6)) {
		*p++ = d[0];
		if (nd > 1) {
			*p++ = '.';
			memcpy(p, d + 1, (size_t)(nd - 1));
			p += nd - 1;
		}
		*p++ = 'E';
		if (e10 < 0) {
			*p++ = '-';
			e10 = -e10;
		} else
			*p++ = '+';
		if (e10 >= 100)
			*p++ = (char)('0' + e10 / 100);
		p = fmt_2(p, (unsigned)(e10 % 100));
	} else {
		if (dp > 0)
			for (i = 0; i < dp; i++)
				*p++ = i < nd ? d[i] : '0';
		else
			*p++ = '0';
		*p++ = '.';
		if (nd > dp)
			for (i = 0; i < nd - dp; i++)
				*p++ = dp + i >= 0 ? d[dp + i] : '0';
		else
			*p++ = '0';
	}
	*p = '\0';
	return (size_t)(p - out);
}

/* ------------------------------------------------------- decimal128 */

/* Sign, 45 digits, '.', "E-6176". */
#define DECIMAL_BUFSZ 64

/* (hi:lo) /= 1e9 in 32-bit steps; returns the remainder. */
static uint32_t
divmod_1e9(uint64_t *hi, uint64_t *lo)
{
	const uint64_t div = 1000000000;
	uint64_t a = *hi >> 32, aq = a / div, ar = a % div;
	uint64_t b = ar << 32 | (*hi & 0xffffffff), bq = b / div, br = b % div;
	uint64_t c = br << 32 | *lo >> 32, cq = c / div, cr = c % div;
	uint64_t d = cr << 32 | (*lo & 0xffffffff), dq = d / div;

	*hi = aq << 32 | bq;
	*lo = cq << 32 | dq;
	return (uint32_t)(d % div);
}

/*
 * Decimal128 as primitive.Decimal128.String() in the Go driver (mgo's
 * algorithm), which is what mongoexport prints; writes at most
 * DECIMAL_BUFSZ bytes at out and returns the end. On canonical values it
 * agrees with the spec's to-string and bson_decimal128_to_string; on a
 * non-canonical coefficient (10^34 or more, below 2^113) Go prints every
 * digit where libbson drops one and the spec says to read it as zero.
 */
static char *
fmt_decimal128(char *out, const bson_decimal128_t *b)
{
	char repr[48];
	const int len = (int)sizeof(repr);
	int pos, e, last = len, i = len, dot, d9, d1;
	struct sp_decimal d;
	uint64_t hi, lo;
	uint32_t rem;
	size_t n;

	/* The coefficient as encoded: Go keeps a non-canonical one. */
	sp_decimal_fields(&d, b);
	pos = !d.neg;
	switch (d.kind) {
	case SP_DECIMAL_NAN: memcpy(out, "NaN", 3); return out + 3;
	case SP_DECIMAL_INF:
		n = pos ? 8 : 9;
		memcpy(out, &"-Infinity"[pos], n);
		return out + n;
	}
	e = d.exp;
	hi = (uint64_t)(d.coef >> 64);
	lo = (uint64_t)d.coef;
	if (hi == 0 && lo == 0 && e == 0) {
		n = pos ? 1 : 2;
		memcpy(out, &"-0"[pos], n);
		return out + n;
	}
	dot = len + e;
	for (d9 = 0; d9 < 5; d9++) {
		rem = divmod_1e9(&hi, &lo);
		for (d1 = 0; d1 < 9; d1++) {
			char c;

			/* Where the point goes: "0.00123400", "1.050E+3". */
			if (i < len &&
			    (dot == i ||
				(lo == 0 && hi == 0 && rem > 0 && rem < 10 &&
				    (dot < i - 6 || e > 0)))) {
				e += len - i;
				repr[--i] = '.';
				last = i - 1;
				dot = len;
			}
			c = (char)('0' + rem % 10);
			rem /= 10;
			repr[--i] = c;
			/* A lone digit with an exponent: "0E+3", "1E-10". */
			if (lo == 0 && hi == 0 && rem == 0 && i == len - 1 &&
			    (dot < i - 5 || e > 0)) {
				last = i;
				goto done;
			}
			if (c != '0')
				last = i;
			if (dot > i && lo == 0 && hi == 0 && rem == 0)
				goto done;
		}
	}
done:
	repr[--last] = '-';
	n = (size_t)(len - last - pos);
	memcpy(out, repr + last + pos, n);
	out += n;
	if (e != 0) {
		*out++ = 'E';
		if (e > 0)
			*out++ = '+';
		out = fmt_i64(out, e);
	}
	return out;
}

/* ----------------------------------------------------------- strings */

/*
 * Byte classes for writeStringWithEscapes with escapeHTML false: 0 copies
 * as is (so '<', '>', '&', '\'' and DEL stay raw), 1 is an ASCII byte to
 * escape (control characters, '"', '\\'), 2 starts a multibyte sequence
 * that must be checked for valid UTF-8 and for U+2028/U+2029.
 */
/* clang-format off */
static const uint8_t byte_class[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10 */
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20 '"' */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x30 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x50 '\\' */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x60 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x70 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0x80 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};
/* clang-format on */

static const char hex_lower[] = "0123456789abcdef";

/*
 * Length of the valid UTF-8 sequence at s (lead byte >= 0x80), or 0 when
 * it is not one. The same rules as Go's utf8.DecodeRune: no overlongs, no
 * surrogates, nothing above U+10FFFF, no truncated sequence.
 */
static size_t
utf8_seq(const uint8_t *s, size_t n)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xBF;
	size_t need;

	if (c < 0xC2 || c > 0xF4)
		return 0;
	if (c < 0xE0)
		need = 2;
	else if (c < 0xF0) {
		need = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else {
		need = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	}
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	if (need > 2 && (s[2] & 0xC0) != 0x80)
		return 0;
	if (need > 3 && (s[3] & 0xC0) != 0x80)
		return 0;
	return need;
}

/* True when none of the 8 bytes in w needs a look: no control character,
 * '"', '\\' or byte >= 0x80 (the classic haszero/hasless bit tricks). */
static inline bool
plain8(uint64_t w)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	const uint64_t high = UINT64_C(0x8080808080808080);
	uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
	uint64_t bad = ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
	    ((bs - ones) & ~bs) | w;

	return (bad & high) == 0;
}

/* Writes the escape for the ASCII byte c (u = 0), for U+2028 or U+2029
 * (u = 0x28 or 0x29), or for a byte of invalid UTF-8 (u = 0xfffd). */
static void
put_escape(struct sp_buf *b, uint8_t c, unsigned u)
{
	char *p = (char *)room(b, 6);

	*p++ = '\\';
	if (u == 0xfffd) {
		memcpy(p, "ufffd", 5);
		p += 5;
	} else if (u != 0) {
		memcpy(p, "u202", 4);
		p[4] = hex_lower[u & 0xf];
		p += 5;
	} else {
		switch (c) {
		case '"':
		case '\\': *p++ = (char)c; break;
		case '\n': *p++ = 'n'; break;
		case '\r': *p++ = 'r'; break;
		case '\t': *p++ = 't'; break;
		case '\b': *p++ = 'b'; break;
		case '\f': *p++ = 'f'; break;
		default:
			/* Lower-case hex, as Go's hexChars. */
			memcpy(p, "u00", 3);
			p[3] = hex_lower[c >> 4];
			p[4] = hex_lower[c & 0xf];
			p += 5;
			break;
		}
	}
	commit(b, p);
}

/* True for the valid UTF-8 sequence at s, other than U+2028/U+2029, with
 * its length in *len. */
static inline bool
plain_utf8(const uint8_t *s, size_t n, size_t *len)
{
	*len = utf8_seq(s, n);
	return *len != 0 &&
	    !(*len == 3 && s[0] == 0xE2 && s[1] == 0x80 &&
		(s[2] & 0xFE) == 0xA8);
}

/* Length of the prefix of s that is copied as is. */
static size_t
plain_prefix(const uint8_t *s, size_t n)
{
	size_t i = 0, len;

	while (i < n) {
		uint64_t w;

		if (n - i >= 8) {
			memcpy(&w, s + i, sizeof(w));
			if (plain8(w)) {
				i += 8;
				continue;
			}
		}
		if (byte_class[s[i]] == 0)
			i++;
		else if (byte_class[s[i]] == 2 &&
		    plain_utf8(s + i, n - i, &len))
			i += len;
		else
			break;
	}
	return i;
}

/*
 * The body of a JSON string (no quotes), as writeStringWithEscapes with
 * escapeHTML false: \" \\ \n \r \t \b \f, other control characters as
 * \u00xx, each byte of invalid UTF-8 as \ufffd, U+2028 and U+2029 as
 * \u2028 and \u2029, everything else (DEL, '<', '>', '&', valid non-ASCII)
 * raw. Runs of plain bytes are copied with one memcpy. The caller has
 * already found that s[0, i) is plain.
 */
static void
put_escaped_from(struct sp_buf *b, const uint8_t *s, size_t n, size_t i)
{
	size_t run = 0, len;

	while (i < n) {
		uint8_t c = s[i];

		put(b, s + run, i - run);
		if (byte_class[c] == 1) {
			put_escape(b, c, 0);
			i++;
		} else if ((len = utf8_seq(s + i, n - i)) == 0) {
			put_escape(b, c, 0xfffd);
			i++;
		} else {
			/* plain_prefix stopped here: U+2028 or U+2029. */
			put_escape(b, c, s[i + 2] - 0x80);
			i += 3;
		}
		run = i;
		i += plain_prefix(s + i, n - i);
	}
	put(b, s + run, n - run);
}

static void
put_escaped(struct sp_buf *b, const uint8_t *s, size_t n)
{
	put_escaped_from(b, s, n, plain_prefix(s, n));
}

/*
 * '"', s escaped, then close: "\"" after a value, "\":" after a key.
 * Nothing to escape, by far the common case, is one reservation and one
 * copy.
 */
static void
put_quoted(struct sp_buf *b, const uint8_t *s, size_t n, const char *close,
    size_t closelen)
{
	size_t i = plain_prefix(s, n);

	if (i == n) {
		uint8_t *p = room(b, n + 1 + closelen);

		*p++ = '"';
		memcpy(p, s, n);
		memcpy(p + n, close, closelen);
		commit(b, p + n + closelen);
		return;
	}
	putch(b, '"');
	put_escaped_from(b, s, n, i);
	put(b, close, closelen);
}

void
sp_ejson_string(struct sp_buf *out, const char *s, size_t len)
{
	/* An empty string may come with s == NULL, which memcpy rejects. */
	if (len == 0) {
		PUTLIT(out, "\"\"");
		return;
	}
	put_quoted(out, (const uint8_t *)s, len, "\"", 1);
}

/*
 * Regex options, sorted by code point as sortStringAlphebeticAscending
 * does (Go sorts []rune(options), so invalid bytes become U+FFFD), then
 * escaped. Options are a few ASCII letters in practice; this picks the
 * next larger code point on each pass, so it needs no scratch memory.
 */
static void
put_sorted_options(struct sp_buf *b, const char *opts)
{
	const uint8_t *s = (const uint8_t *)opts;
	size_t n = strlen(opts), i, len;
	uint32_t prev = 0, best;
	bool first = true;

	putch(b, '"');
	for (;;) {
		uint8_t enc[4];
		size_t count = 0, elen;

		best = UINT32_MAX;
		for (i = 0; i < n; i += len) {
			uint32_t r = s[i];

			len = 1;
			if (r >= 0x80) {
				len = utf8_seq(s + i, n - i);
				if (len == 0) {
					r = 0xfffd;
					len = 1;
				} else if (len == 2)
					r = (r & 0x1f) << 6 | (s[i + 1] & 0x3f);
				else if (len == 3)
					r = (r & 0x0f) << 12 |
					    (uint32_t)(s[i + 1] & 0x3f) << 6 |
					    (s[i + 2] & 0x3f);
				else
					r = (r & 0x07) << 18 |
					    (uint32_t)(s[i + 1] & 0x3f) << 12 |
					    (uint32_t)(s[i + 2] & 0x3f) << 6 |
					    (s[i + 3] & 0x3f);
			}
			if (!first && r <= prev)
				continue;
			if (r < best) {
				best = r;
				count = 1;
			} else if (r == best)
				count++;
		}
		if (count == 0)
			break;
		if (best < 0x80) {
			enc[0] = (uint8_t)best;
			elen = 1;
		} else if (best < 0x800) {
			enc[0] = (uint8_t)(0xC0 | best >> 6);
			enc[1] = (uint8_t)(0x80 | (best & 0x3f));
			elen = 2;
		} else if (best < 0x10000) {
			enc[0] = (uint8_t)(0xE0 | best >> 12);
			enc[1] = (uint8_t)(0x80 | (best >> 6 & 0x3f));
			enc[2] = (uint8_t)(0x80 | (best & 0x3f));
			elen = 3;
		} else {
			enc[0] = (uint8_t)(0xF0 | best >> 18);
			enc[1] = (uint8_t)(0x80 | (best >> 12 & 0x3f));
			enc[2] = (uint8_t)(0x80 | (best >> 6 & 0x3f));
			enc[3] = (uint8_t)(0x80 | (best & 0x3f));
			elen = 4;
		}
		while (count-- > 0)
			put_escaped(b, enc, elen);
		prev = best;
		first = false;
	}
	putch(b, '"');
}

/* ------------------------------------------------------------- types */

static void put_doc(struct sp_buf *b, const uint8_t *data, size_t len,
    bool array, unsigned flags);

static void
put_oid_hex(struct sp_buf *b, const bson_oid_t *oid)
{
	char *p = (char *)room(b, 24);
	int i;

	for (i = 0; i < 12; i++) {
		*p++ = hex_lower[oid->bytes[i] >> 4];
		*p++ = hex_lower[oid->bytes[i] & 0xf];
	}
	commit(b, p);
}

static void
put_binary(struct sp_buf *b, const uint8_t *d, uint32_t n, unsigned subtype)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *p;
	uint32_t i;

	PUTLIT(b, "{\"$binary\":{\"base64\":\"");
	/* base64.StdEncoding: standard alphabet, '=' padding. */
	p = (char *)room(b, ((size_t)n + 2) / 3 * 4);
	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v =
		    (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];

		*p++ = b64[v >> 18];
		*p++ = b64[v >> 12 & 0x3f];
		*p++ = b64[v >> 6 & 0x3f];
		*p++ = b64[v & 0x3f];
	}
	if (n - i == 1) {
		*p++ = b64[d[i] >> 2];
		*p++ = b64[(d[i] & 3) << 4];
		*p++ = '=';
		*p++ = '=';
	} else if (n - i == 2) {
		*p++ = b64[d[i] >> 2];
		*p++ = b64[(d[i] & 3) << 4 | d[i + 1] >> 4];
		*p++ = b64[(d[i + 1] & 0xf) << 2];
		*p++ = '=';
	}
	commit(b, p);
	/* fmt "%02x": two lower-case digits, "04", "80". */
	PUTLIT(b, "\",\"subType\":\"");
	putch(b, hex_lower[subtype >> 4 & 0xf]);
	putch(b, hex_lower[subtype & 0xf]);
	PUTLIT(b, "\"}}");
}

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant). */
static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

/* The first millisecond of year 10000. */
#define MS_YEAR_10000 INT64_C(253402300800000)

static void
put_date(struct sp_buf *b, int64_t ms, unsigned flags)
{
	int64_t y, days, rem;
	unsigned mo, d, sec, frac;
	char *p;

	/*
	 * WriteDateTime: relaxed mode uses t.Format(rfc3339Milli) for years
	 * 1970 through 9999, i.e. 0 <= ms < MS_YEAR_10000, everything else
	 * {"$date":{"$numberLong":"..."}}.
	 */
	if ((flags & SP_EJSON_CANONICAL) || ms < 0 || ms >= MS_YEAR_10000) {
		PUTLIT(b, "{\"$date\":{\"$numberLong\":\"");
		put_i64(b, ms);
		PUTLIT(b, "\"}}");
		return;
	}
	days = ms / 86400000;
	rem = ms % 86400000;
	civil_from_days(days, &y, &mo, &d);
	sec = (unsigned)(rem / 1000);
	frac = (unsigned)(rem % 1000);
	p = (char *)room(b, 48);
	memcpy(p, "{\"$date\":\"", 10);
	p += 10;
	p = fmt_2(p, (unsigned)(y / 100));
	p = fmt_2(p, (unsigned)(y % 100));
	*p++ = '-';
	p = fmt_2(p, mo);
	*p++ = '-';
	p = fmt_2(p, d);
	*p++ = 'T';
	p = fmt_2(p, sec / 3600);
	*p++ = ':';
	p = fmt_2(p, sec / 60 % 60);
	*p++ = ':';
	p = fmt_2(p, sec % 60);
	/*
	 * The layout "2006-01-02T15:04:05.999Z07:00" drops trailing zeros
	 * of the milliseconds, and the dot with them when all are zero:
	 * .120 is ".12", .000 is nothing. (The spec's corpus writes ".000";
	 * mongoexport does not.)
	 */
	if (frac != 0) {
		*p++ = '.';
		*p++ = (char)('0' + frac / 100);
		if (frac % 100 != 0) {
			*p++ = (char)('0' + frac / 10 % 10);
			if (frac % 10 != 0)
				*p++ = (char)('0' + frac % 10);
		}
	}
	memcpy(p, "Z\"}", 3);
	commit(b, p + 3);
}

static void
put_double(struct sp_buf *b, double v, unsigned flags)
{
	char *p;
	size_t n;

	if (flags & SP_EJSON_CANONICAL) {
		PUTLIT(b, "{\"$numberDouble\":\"");
		p = (char *)room(b, SP_DOUBLE_BUFSZ);
		commit(b, p + sp_ejson_format_double(p, v));
		PUTLIT(b, "\"}");
		return;
	}
	/* Relaxed: finite doubles as plain numbers; the other three are
	 * wrapped, the same as canonical. */
	if (!isfinite(v)) {
		put_double(b, v, SP_EJSON_CANONICAL);
		return;
	}
	p = (char *)room(b, SP_DOUBLE_BUFSZ);
	n = sp_ejson_format_double(p, v);
	commit(b, p + n);
}

static void
put_value(struct sp_buf *b, const bson_value_t *v, unsigned flags)
{
	char *p;

	switch (v->value_type) {
	case BSON_TYPE_EOD: break;
	case BSON_TYPE_DOUBLE: put_double(b, v->value.v_double, flags); break;
	case BSON_TYPE_UTF8:
		sp_ejson_string(b, v->value.v_utf8.str, v->value.v_utf8.len);
		break;
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
		put_doc(b, v->value.v_doc.data, v->value.v_doc.data_len,
		    v->value_type == BSON_TYPE_ARRAY, flags);
		break;
	case BSON_TYPE_BINARY:
		/*
		 * Subtype 2 (old binary) carries its own int32 length, which
		 * libbson strips. Go strips it only when the outer length is
		 * over 4, so an empty old binary prints its zero length:
		 * "AAAAAA==".
		 */
		if (v->value.v_binary.subtype ==
			BSON_SUBTYPE_BINARY_DEPRECATED &&
		    v->value.v_binary.data_len == 0)
			put_binary(b, (const uint8_t *)"\0\0\0\0", 4, 2);
		else
			put_binary(b, v->value.v_binary.data,
			    v->value.v_binary.data_len,
			    (unsigned)v->value.v_binary.subtype);
		break;
	case BSON_TYPE_UNDEFINED: PUTLIT(b, "{\"$undefined\":true}"); break;
	case BSON_TYPE_OID:
		PUTLIT(b, "{\"$oid\":\"");
		put_oid_hex(b, &v->value.v_oid);
		PUTLIT(b, "\"}");
		break;
	case BSON_TYPE_BOOL:
		if (v->value.v_bool)
			PUTLIT(b, "true");
		else
			PUTLIT(b, "false");
		break;
	case BSON_TYPE_DATE_TIME:
		put_date(b, v->value.v_datetime, flags);
		break;
	case BSON_TYPE_NULL: PUTLIT(b, "null"); break;
	case BSON_TYPE_REGEX:
		PUTLIT(b, "{\"$regularExpression\":{\"pattern\":");
		sp_ejson_string(
		    b, v->value.v_regex.regex, strlen(v->value.v_regex.regex));
		PUTLIT(b, ",\"options\":");
		put_sorted_options(b, v->value.v_regex.options);
		PUTLIT(b, "}}");
		break;
	case BSON_TYPE_DBPOINTER:
		/*
		 * Driver 1.x writes $ref raw, unescaped (invalid JSON for a
		 * namespace holding '"'); driver 2.x and the spec escape it.
		 * Escaping is the same bytes for every real namespace.
		 */
		PUTLIT(b, "{\"$dbPointer\":{\"$ref\":");
		sp_ejson_string(b, v->value.v_dbpointer.collection,
		    v->value.v_dbpointer.collection_len);
		PUTLIT(b, ",\"$id\":{\"$oid\":\"");
		put_oid_hex(b, &v->value.v_dbpointer.oid);
		PUTLIT(b, "\"}}}");
		break;
	case BSON_TYPE_CODE:
		PUTLIT(b, "{\"$code\":");
		sp_ejson_string(
		    b, v->value.v_code.code, v->value.v_code.code_len);
		putch(b, '}');
		break;
	case BSON_TYPE_SYMBOL:
		PUTLIT(b, "{\"$symbol\":");
		sp_ejson_string(
		    b, v->value.v_symbol.symbol, v->value.v_symbol.len);
		putch(b, '}');
		break;
	case BSON_TYPE_CODEWSCOPE:
		PUTLIT(b, "{\"$code\":");
		sp_ejson_string(b, v->value.v_codewscope.code,
		    v->value.v_codewscope.code_len);
		PUTLIT(b, ",\"$scope\":");
		put_doc(b, v->value.v_codewscope.scope_data,
		    v->value.v_codewscope.scope_len, false, flags);
		putch(b, '}');
		break;
	case BSON_TYPE_INT32:
		if (flags & SP_EJSON_CANONICAL) {
			PUTLIT(b, "{\"$numberInt\":\"");
			put_i64(b, v->value.v_int32);
			PUTLIT(b, "\"}");
		} else
			put_i64(b, v->value.v_int32);
		break;
	case BSON_TYPE_TIMESTAMP:
		PUTLIT(b, "{\"$timestamp\":{\"t\":");
		p = (char *)room(b, 32);
		p = fmt_u64(p, v->value.v_timestamp.timestamp);
		memcpy(p, ",\"i\":", 5);
		p = fmt_u64(p + 5, v->value.v_timestamp.increment);
		commit(b, p);
		PUTLIT(b, "}}");
		break;
	case BSON_TYPE_INT64:
		if (flags & SP_EJSON_CANONICAL) {
			PUTLIT(b, "{\"$numberLong\":\"");
			put_i64(b, v->value.v_int64);
			PUTLIT(b, "\"}");
		} else
			put_i64(b, v->value.v_int64);
		break;
	case BSON_TYPE_DECIMAL128:
		PUTLIT(b, "{\"$numberDecimal\":\"");
		p = (char *)room(b, DECIMAL_BUFSZ);
		commit(b, fmt_decimal128(p, &v->value.v_decimal128));
		PUTLIT(b, "\"}");
		break;
	case BSON_TYPE_MAXKEY: PUTLIT(b, "{\"$maxKey\":1}"); break;
	case BSON_TYPE_MINKEY: PUTLIT(b, "{\"$minKey\":1}"); break;
	}
}

static void
put_doc(struct sp_buf *b, const uint8_t *data, size_t len, bool array,
    unsigned flags)
{
	bson_iter_t it;
	bool first = true;

	putch(b, array ? '[' : '{');
	if (bson_iter_init_from_data(&it, data, len)) {
		while (bson_iter_next(&it)) {
			if (!first)
				putch(b, ',');
			first = false;
			/* Keys are escaped like string values. */
			if (!array) {
				put_quoted(b,
				    (const uint8_t *)bson_iter_key(&it),
				    bson_iter_key_len(&it), "\":", 2);
			}
			put_value(b, bson_iter_value(&it), flags);
		}
	}
	putch(b, array ? ']' : '}');
}

void
sp_ejson_doc(
    struct sp_buf *out, const uint8_t *doc, uint32_t len, unsigned flags)
{
	put_doc(out, doc, len, false, flags);
}

void
sp_ejson_value(struct sp_buf *out, const bson_value_t *v, unsigned flags)
{
	put_value(out, v, flags);
}
