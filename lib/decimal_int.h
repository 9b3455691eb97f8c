/* decimal_int.h: IEEE 754-2008 decimal128 (MongoDB's Decimal128), for
 * every part of lib/ that reads, converts, compares or computes one. */
#ifndef SP_DECIMAL_INT_H
#define SP_DECIMAL_INT_H

#include "sp.h"

/*
 * A decimal128 unpacked: the value is (-1)^neg * coef * 10^exp, with
 * coef < 10^34 and exp in -6176..6111. BSON holds the BID encoding;
 * sp_decimal_unpack and sp_decimal_pack go between the two. Everything
 * else works on the unpacked form and is exact: results are rounded once,
 * to 34 digits, as Intel's decimal library (the server's) rounds them.
 */
enum { SP_DECIMAL_FINITE, SP_DECIMAL_INF, SP_DECIMAL_NAN };

struct sp_decimal {
	unsigned __int128 coef;
	int32_t exp;
	uint8_t kind; /* SP_DECIMAL_FINITE, _INF, _NAN */
	bool neg;
};

/* Rounding modes, and what sp_decimal_to_int64 does with a fraction. */
enum {
	SP_DECIMAL_HALF_EVEN, /* the IEEE default */
	SP_DECIMAL_TRUNC, /* toward zero */
	SP_DECIMAL_CEIL, /* toward +infinity */
	SP_DECIMAL_FLOOR, /* toward -infinity */
	SP_DECIMAL_EXACT /* sp_decimal_to_int64: a fraction fails */
};
/* sp_decimal_to_int64, or-ed into the mode: the value before rounding must
 * lie within int64's range too (BSONElement::tryCoerce). */
#define SP_DECIMAL_IN_RANGE 0x100

#define SP_DECIMAL_DIGITS 34 /* of a coefficient, at most */
#define SP_DECIMAL_BIAS 6176
#define SP_DECIMAL_EMAX 6111 /* largest exponent of a coefficient */
#define SP_DECIMAL_EMIN (-6176) /* smallest */
/* 10^34 - 1, the largest canonical coefficient. */
#define SP_DECIMAL_MAX_COEF                                                    \
	((unsigned __int128)0x1ed09bead87c0ULL << 64 | 0x378d8e63ffffffffULL)

/* ------------------------------------------------------------- encoding */

/*
 * The fields as encoded. The coefficient may be non-canonical (10^34 or
 * more, up to 2^113), which the Go driver prints as it is; the form with
 * the implicit 0b100 prefix is always beyond 10^34 and reads as zero.
 */
static inline void
sp_decimal_fields(struct sp_decimal *d, const bson_decimal128_t *b)
{
	uint64_t hi = b->high;

	d->neg = (hi >> 63) != 0;
	if ((hi >> 61 & 3) != 3) {
		d->kind = SP_DECIMAL_FINITE;
		d->exp = (int32_t)(hi >> 49 & 0x3fff) - SP_DECIMAL_BIAS;
		d->coef =
		    (unsigned __int128)(hi & 0x1ffffffffffffULL) << 64 | b->low;
		return;
	}
	d->coef = 0;
	d->exp = 0;
	switch (hi >> 58 & 0x1f) {
	case 0x1f: d->kind = SP_DECIMAL_NAN; break;
	case 0x1e: d->kind = SP_DECIMAL_INF; break;
	default:
		d->kind = SP_DECIMAL_FINITE;
		d->exp = (int32_t)(hi >> 47 & 0x3fff) - SP_DECIMAL_BIAS;
		break;
	}
}

/* Unpacks b. A non-canonical coefficient is zero, as IEEE 754 and Intel's
 * library read it. */
static inline void
sp_decimal_unpack(struct sp_decimal *d, const bson_decimal128_t *b)
{
	sp_decimal_fields(d, b);
	if (d->coef > SP_DECIMAL_MAX_COEF)
		d->coef = 0;
}

/* Packs d (a NaN loses its sign). */
void sp_decimal_pack(bson_decimal128_t *b, const struct sp_decimal *d);

static inline bool
sp_decimal_is_nan(const bson_decimal128_t *b)
{
	return (b->high & 0x7c00000000000000ULL) == 0x7c00000000000000ULL;
}

/* -1, 0, 1 for negative, zero, positive; 2 for NaN. */
static inline int
sp_decimal_sign(const struct sp_decimal *d)
{
	if (d->kind == SP_DECIMAL_NAN)
		return 2;
	if (d->kind == SP_DECIMAL_FINITE && d->coef == 0)
		return 0;
	return d->neg ? -1 : 1;
}

/* ---------------------------------------------------------- conversions */

void sp_decimal_from_int64(struct sp_decimal *d, int64_t v);
/* As MongoDB's Decimal128(double): rounded to 15 significant digits
 * (digits == 15, the default for coerceToDecimal) or to 34. */
void sp_decimal_from_double(struct sp_decimal *d, double v, int digits);
/* Nearest decimal with at most 19 significant digits (long double math). */
void sp_decimal_from_ldouble(struct sp_decimal *d, long double v);
/* The nearest double (long double): correctly rounded. */
double sp_decimal_to_double(const struct sp_decimal *d);
long double sp_decimal_to_ldouble(const struct sp_decimal *d);
/*
 * Rounds to an integer with mode (SP_DECIMAL_EXACT: a fraction fails),
 * optionally or-ed with SP_DECIMAL_IN_RANGE. Returns 0 with *out, or -1
 * (*out untouched) for NaN, infinity, a result beyond int64, or what the
 * mode refuses. Inline: $mod and the $bits operators of $match call it
 * for every decimal they test.
 */
static inline int
sp_decimal_to_int64(const struct sp_decimal *d, int mode, int64_t *out)
{
	const unsigned __int128 lim = (unsigned __int128)1 << 63;
	unsigned __int128 c, p = 1, r = 0;
	bool in_range = (mode & SP_DECIMAL_IN_RANGE) != 0, inc = false;
	int i;

	mode &= ~SP_DECIMAL_IN_RANGE;
	if (d->kind != SP_DECIMAL_FINITE)
		return -1;
	if (d->coef == 0) {
		*out = 0;
		return 0;
	}
	if (d->exp >= 0) {
		c = d->coef;
		for (i = 0; i < d->exp; i++) {
			if (c > lim)
				return -1;
			c *= 10;
		}
	} else if (d->exp < -SP_DECIMAL_DIGITS) {
		/* Below 0.1 in magnitude: only "nonzero" matters. */
		c = 0;
		r = 1;
		p = 10;
	} else {
		for (i = 0; i < -d->exp; i++)
			p *= 10;
		c = d->coef / p;
		r = d->coef % p;
	}
	if (r != 0) {
		switch (mode) {
		case SP_DECIMAL_EXACT: return -1;
		case SP_DECIMAL_HALF_EVEN:
			inc = r > p / 2 || (r == p / 2 && (c & 1));
			break;
		case SP_DECIMAL_CEIL: inc = !d->neg; break;
		case SP_DECIMAL_FLOOR: inc = d->neg; break;
		default: break;
		}
		if (in_range && c >= (d->neg ? lim : lim - 1))
			return -1;
	}
	if (inc)
		c++;
	if (c > (d->neg ? lim : lim - 1))
		return -1;
	*out = d->neg ? (int64_t)(0 - (uint64_t)c) : (int64_t)c;
	return 0;
}

/*
 * Decimal128(string) as MongoDB's NumberParser calls it: Intel's
 * bid128_from_string rounding half to even on the longest prefix that is
 * a number (digits with a point, an exponent; or inf, infinity, nan, any
 * case, signed). Returns NULL with *out, or MongoDB's reason ("Failed to
 * parse string to decimal", "Did not consume whole string.", "Conversion
 * from string to decimal would overflow", ...).
 */
const char *sp_decimal_parse(const char *s, size_t n, bson_decimal128_t *out);

/* ----------------------------------------------------------- comparison */

/*
 * Two finite nonzero decimals of one sign and exponent (the usual cohort)
 * compare by coefficient: true with *res (-1, 0, 1), false for any other
 * pair. The tests are kept apart on purpose: joined in one condition, GCC
 * merges the adjacent fields into one wide load of what was just stored
 * byte by byte, and the stalled store forwarding doubles the cost.
 */
static inline bool
sp_decimal_cmp_cohort(
    const struct sp_decimal *a, const struct sp_decimal *b, int *res)
{
	if (a->kind != SP_DECIMAL_FINITE || b->kind != SP_DECIMAL_FINITE)
		return false;
	if (a->exp != b->exp)
		return false;
	if (a->neg != b->neg)
		return false;
	if (a->coef == 0 || b->coef == 0)
		return false;
	*res = (a->coef > b->coef) - (a->coef < b->coef);
	if (a->neg)
		*res = -*res;
	return true;
}

/*
 * d against double x, settled in floating point when the two are far
 * apart. Returns true with *res (-1, 1), or false when only exact digits
 * can tell (close values, zero, NaN, infinity, extreme exponents).
 */
bool sp_decimal_cmp_double_quick(
    const struct sp_decimal *d, double x, int *res);

/* ----------------------------------------------------------- arithmetic */

void sp_decimal_add(struct sp_decimal *r, const struct sp_decimal *a,
    const struct sp_decimal *b);
void sp_decimal_sub(struct sp_decimal *r, const struct sp_decimal *a,
    const struct sp_decimal *b);
void sp_decimal_mul(struct sp_decimal *r, const struct sp_decimal *a,
    const struct sp_decimal *b);
void sp_decimal_div(struct sp_decimal *r, const struct sp_decimal *a,
    const struct sp_decimal *b);
/* Remainder with the sign of a (C fmod, IEEE bid128_fmod). */
void sp_decimal_mod(struct sp_decimal *r, const struct sp_decimal *a,
    const struct sp_decimal *b);
/* The value rounded (mode) to exponent exp; NaN if it needs more than 34
 * digits or a is infinite (IEEE quantize). */
void sp_decimal_quantize(
    struct sp_decimal *r, const struct sp_decimal *a, int32_t exp, int mode);

#endif /* SP_DECIMAL_INT_H */
