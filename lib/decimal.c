/* decimal.c: IEEE 754-2008 decimal128: conversions, parsing, comparison
 * helpers and exact arithmetic. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decimal_int.h"

/*
 * libbson only converts decimal128 to and from strings, and MongoDB gets
 * its arithmetic from Intel's decimal library, so this file does the four
 * operations itself, exactly: operands are unpacked into coefficient and
 * exponent, the exact result is formed in a wide decimal digit array, and
 * rounded once to 34 digits (round half to even), with IEEE's preferred
 * exponents. Transcendental functions go through long double (about 19
 * correct digits), see sp_decimal_from_ldouble.
 */

typedef unsigned __int128 u128;

#define DIGITS SP_DECIMAL_DIGITS
#define EMAX SP_DECIMAL_EMAX
#define EMIN SP_DECIMAL_EMIN
#define BIAS SP_DECIMAL_BIAS
/* How far an addend may be shifted before it only matters as "nonzero". */
#define MAXSHIFT 70
#define WMAX (DIGITS + MAXSHIFT + 8)

/* An exact intermediate: little-endian decimal digits, no leading zeros. */
struct wide {
	int n;
	uint8_t d[WMAX];
};

static u128
pow10u(int k)
{
	u128 p = 1;

	while (k-- > 0)
		p *= 10;
	return p;
}

static void
w_from(struct wide *w, u128 v)
{
	w->n = 0;
	while (v != 0) {
		w->d[w->n++] = (uint8_t)(v % 10);
		v /= 10;
	}
}

/* Multiplies by 10^k. */
static void
w_shift(struct wide *w, int k)
{
	if (w->n == 0 || k == 0)
		return;
	memmove(w->d + k, w->d, (size_t)w->n);
	memset(w->d, 0, (size_t)k);
	w->n += k;
}

static int
w_cmp(const struct wide *a, const struct wide *b)
{
	int i;

	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	for (i = a->n - 1; i >= 0; i--)
		if (a->d[i] != b->d[i])
			return a->d[i] < b->d[i] ? -1 : 1;
	return 0;
}

static void
w_trim(struct wide *w)
{
	while (w->n > 0 && w->d[w->n - 1] == 0)
		w->n--;
}

static void
w_add(struct wide *r, const struct wide *a, const struct wide *b)
{
	int i, n = a->n > b->n ? a->n : b->n, carry = 0;

	for (i = 0; i < n; i++) {
		int s =
		    carry + (i < a->n ? a->d[i] : 0) + (i < b->n ? b->d[i] : 0);

		r->d[i] = (uint8_t)(s % 10);
		carry = s / 10;
	}
	if (carry)
		r->d[n++] = (uint8_t)carry;
	r->n = n;
}

/* r = a - b, where a >= b. */
static void
w_sub(struct wide *r, const struct wide *a, const struct wide *b)
{
	int i, borrow = 0;

	for (i = 0; i < a->n; i++) {
		int s = a->d[i] - borrow - (i < b->n ? b->d[i] : 0);

		borrow = s < 0;
		r->d[i] = (uint8_t)(s < 0 ? s + 10 : s);
	}
	r->n = a->n;
	w_trim(r);
}

static void
w_mul(struct wide *r, const struct wide *a, const struct wide *b)
{
	unsigned acc[2 * DIGITS + 2] = {0};
	int i, j, n = a->n + b->n;

	for (i = 0; i < a->n; i++)
		for (j = 0; j < b->n; j++)
			acc[i + j] += (unsigned)a->d[i] * b->d[j];
	for (i = 0; i < n; i++) {
		if (i + 1 < n)
			acc[i + 1] += acc[i] / 10;
		r->d[i] = (uint8_t)(acc[i] % 10);
	}
	r->n = n;
	w_trim(r);
}

/*
 * Drops the lowest drop digits of w (plus sticky, "something nonzero below
 * them") and rounds with mode. Returns the remaining coefficient, which
 * may have one digit more than before rounding (all nines rounded up).
 */
static u128
w_round_at(const struct wide *w, int drop, bool sticky, bool neg, int mode)
{
	u128 c = 0;
	int i, first = 0, last;
	bool rest = sticky, inc = false;

	for (i = w->n - 1; i >= drop; i--)
		c = c * 10 + w->d[i];
	if (drop <= 0)
		return c;
	if (drop - 1 < w->n)
		first = w->d[drop - 1];
	for (i = 0; i < drop - 1 && i < w->n; i++)
		if (w->d[i] != 0)
			rest = true;
	last = (int)(c % 10);
	switch (mode) {
	case SP_DECIMAL_HALF_EVEN:
		inc = first > 5 || (first == 5 && (rest || (last & 1)));
		break;
	case SP_DECIMAL_CEIL: inc = !neg && (first != 0 || rest); break;
	case SP_DECIMAL_FLOOR: inc = neg && (first != 0 || rest); break;
	default: break;
	}
	return inc ? c + 1 : c;
}

/* Rounds the exact value w * 10^exp to a decimal128 (half to even). */
static void
w_round(struct sp_decimal *r, const struct wide *w, int32_t exp, bool neg,
    bool sticky)
{
	int drop = w->n > DIGITS ? w->n - DIGITS : 0;
	u128 c;

	if ((int64_t)exp + drop < EMIN)
		drop = EMIN - exp;
	c = w_round_at(w, drop, sticky, neg, SP_DECIMAL_HALF_EVEN);
	if (c == pow10u(DIGITS)) {
		c /= 10;
		drop++;
	}
	r->kind = SP_DECIMAL_FINITE;
	r->neg = neg;
	r->coef = c;
	r->exp = exp + drop;
	if (r->exp > EMAX) {
		/* Exact values clamp by padding the coefficient with zeros. */
		if (c == 0) {
			r->exp = EMAX;
			return;
		}
		while (r->exp > EMAX && r->coef < pow10u(DIGITS - 1)) {
			r->coef *= 10;
			r->exp--;
		}
		if (r->exp > EMAX)
			r->kind = SP_DECIMAL_INF;
	}
}

static void
set_nan(struct sp_decimal *r)
{
	r->kind = SP_DECIMAL_NAN;
	r->neg = false;
	r->coef = 0;
	r->exp = 0;
}

static void
set_inf(struct sp_decimal *r, bool neg)
{
	r->kind = SP_DECIMAL_INF;
	r->neg = neg;
	r->coef = 0;
	r->exp = 0;
}

static int
ndigits(u128 v)
{
	int n = 0;

	while (v != 0) {
		v /= 10;
		n++;
	}
	return n;
}

/* ---------------------------------------------------------- encoding */

void
sp_decimal_pack(bson_decimal128_t *b, const struct sp_decimal *d)
{
	uint64_t sign = d->neg ? 1ull << 63 : 0;

	switch (d->kind) {
	case SP_DECIMAL_NAN:
		b->high = 0x7c00000000000000ull;
		b->low = 0;
		return;
	case SP_DECIMAL_INF:
		b->high = sign | 0x7800000000000000ull;
		b->low = 0;
		return;
	}
	b->high = sign | ((uint64_t)(d->exp + BIAS) << 49) |
	    (uint64_t)(d->coef >> 64);
	b->low = (uint64_t)d->coef;
}

void
sp_decimal_from_int64(struct sp_decimal *d, int64_t v)
{
	d->kind = SP_DECIMAL_FINITE;
	d->neg = v < 0;
	d->exp = 0;
	/* Negate in unsigned arithmetic so INT64_MIN works. */
	d->coef = v < 0 ? (u128)(0 - (uint64_t)v) : (u128)v;
}

/* Parses the digits and exponent of a "%.Ne" rendering into w (exactly). */
static void
sci_parse(const char *s, struct wide *w, int32_t *exp)
{
	char digs[64];
	int n = 0, i;
	const char *e;

	for (; *s != '\0' && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9' && n < (int)sizeof(digs))
			digs[n++] = *s;
	e = *s == 'e' ? s + 1 : "0";
	*exp = (int32_t)strtol(e, NULL, 10) - (n - 1);
	w->n = n;
	for (i = 0; i < n; i++)
		w->d[i] = (uint8_t)(digs[n - 1 - i] - '0');
	w_trim(w);
}

void
sp_decimal_from_double(struct sp_decimal *d, double v, int digits)
{
	char buf[80];
	struct wide w;
	int32_t exp;
	int drop;

	if (isnan(v)) {
		set_nan(d);
		return;
	}
	if (isinf(v)) {
		set_inf(d, v < 0);
		return;
	}
	d->kind = SP_DECIMAL_FINITE;
	d->neg = signbit(v) != 0;
	if (v == 0) {
		d->coef = 0;
		d->exp = 0;
		return;
	}
	/* glibc prints the exact binary value correctly rounded: this is
	 * Intel's binary64_to_bid128 at 34 digits. */
	snprintf(buf, sizeof(buf), "%.33e", fabs(v));
	sci_parse(buf, &w, &exp);
	if (digits >= DIGITS) {
		/* Drop trailing zeros the conversion added. */
		drop = 0;
		while (drop < w.n - 1 && w.d[drop] == 0)
			drop++;
		d->coef = w_round_at(&w, drop, false, false, SP_DECIMAL_TRUNC);
		d->exp = exp + drop;
		return;
	}
	/* MongoDB then quantizes to exactly `digits` significant digits,
	 * keeping trailing zeros (0.1 becomes 0.100000000000000). */
	drop = w.n - digits;
	d->coef = w_round_at(&w, drop, false, d->neg, SP_DECIMAL_HALF_EVEN);
	d->exp = exp + drop;
	if (d->coef == pow10u(digits)) {
		d->coef /= 10;
		d->exp++;
	}
}

void
sp_decimal_from_ldouble(struct sp_decimal *d, long double v)
{
	char buf[80];
	struct wide w;
	int32_t exp;
	int drop = 0;

	if (isnan(v)) {
		set_nan(d);
		return;
	}
	if (isinf(v)) {
		set_inf(d, v < 0);
		return;
	}
	if (v == 0) {
		d->kind = SP_DECIMAL_FINITE;
		d->neg = signbit(v) != 0;
		d->coef = 0;
		d->exp = 0;
		return;
	}
	/* 19 digits is what an x87 long double carries; exact results such
	 * as sqrt(4) lose their trailing zeros and come out as 2. */
	snprintf(buf, sizeof(buf), "%.18Le", fabsl(v));
	sci_parse(buf, &w, &exp);
	while (drop < w.n - 1 && w.d[drop] == 0)
		drop++;
	d->kind = SP_DECIMAL_FINITE;
	d->neg = signbit(v) != 0;
	d->coef = w_round_at(&w, drop, false, false, SP_DECIMAL_TRUNC);
	d->exp = exp + drop;
	if (d->exp < EMIN || d->exp > EMAX) {
		struct wide c;

		w_from(&c, d->coef);
		w_round(d, &c, d->exp, d->neg, false);
	}
}

/* Writes "[-]<coef>e<exp>" for strtod/strtold. */
static void
dec_sci(const struct sp_decimal *d, char *buf, size_t size)
{
	char digs[48];
	int n = 0;
	u128 c = d->coef;

	do {
		digs[n++] = (char)('0' + (int)(c % 10));
		c /= 10;
	} while (c != 0);
	if (d->neg && size > 1) {
		*buf++ = '-';
		size--;
	}
	while (n > 0 && size > 1) {
		*buf++ = digs[--n];
		size--;
	}
	snprintf(buf, size, "e%d", (int)d->exp);
}

double
sp_decimal_to_double(const struct sp_decimal *d)
{
	char buf[80];

	if (d->kind == SP_DECIMAL_NAN)
		return NAN;
	if (d->kind == SP_DECIMAL_INF)
		return d->neg ? -INFINITY : INFINITY;
	dec_sci(d, buf, sizeof(buf));
	return strtod(buf, NULL);
}

long double
sp_decimal_to_ldouble(const struct sp_decimal *d)
{
	char buf[80];

	if (d->kind == SP_DECIMAL_NAN)
		return NAN;
	if (d->kind == SP_DECIMAL_INF)
		return d->neg ? -INFINITY : INFINITY;
	dec_sci(d, buf, sizeof(buf));
	return strtold(buf, NULL);
}

/* ---------------------------------------------------------- parsing */

#define DEC_KEEP 40 /* digits kept; later ones only matter as "nonzero" */

const char *
sp_decimal_parse(const char *s, size_t n, bson_decimal128_t *out)
{
	uint8_t dig[DEC_KEEP];
	struct sp_decimal d;
	u128 coef = 0, lim;
	int64_t e = 0, x = 0;
	size_t i = 0, j, used;
	int nd = 0, k, rd, t;
	bool neg = false, sticky = false, seen = false, point = false, st;
	bool inexact = false;

	if (n == 0)
		return "Empty string";
	if (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-';
		i = 1;
	}
	d.neg = neg;
	if (n - i >= 3 &&
	    (strncasecmp(s + i, "inf", 3) == 0 ||
		strncasecmp(s + i, "nan", 3) == 0)) {
		d.kind = (s[i] | 0x20) == 'n' ? SP_DECIMAL_NAN : SP_DECIMAL_INF;
		used = i +
		    (n - i >= 8 && strncasecmp(s + i, "infinity", 8) == 0 ? 8
									  : 3);
		if (used != n)
			return "Did not consume whole string.";
		sp_decimal_pack(out, &d);
		/* sp_decimal_pack has no signed NaN; "-nan" keeps its sign. */
		if (neg)
			out->high |= 1ull << 63;
		return NULL;
	}
	for (j = i; j < n; j++) {
		if (s[j] == '.' && !point) {
			point = true;
			continue;
		}
		if (s[j] < '0' || s[j] > '9')
			break;
		seen = true;
		if (nd == 0 && s[j] == '0') {
			/* leading zero */
		} else if (nd < DEC_KEEP) {
			dig[nd++] = (uint8_t)(s[j] - '0');
		} else {
			sticky |= s[j] != '0';
			e++;
		}
		if (point)
			e--;
	}
	if (!seen)
		return "Failed to parse string to decimal";
	used = j;
	if (j < n && (s[j] == 'e' || s[j] == 'E')) {
		size_t q = j + 1;
		bool eneg = false;

		if (q < n && (s[q] == '+' || s[q] == '-'))
			eneg = s[q++] == '-';
		if (q < n && s[q] >= '0' && s[q] <= '9') {
			for (; q < n && s[q] >= '0' && s[q] <= '9'; q++)
				if (x < 1000000000)
					x = x * 10 + (s[q] - '0');
			e += eneg ? -x : x;
			used = q;
		}
	}
	d.kind = SP_DECIMAL_FINITE;
	if (nd == 0) {
		/* Zero keeps its exponent, clamped without any flag. */
		d.coef = 0;
		d.exp = (int32_t)(e < -6176 ? -6176 : e > 6111 ? 6111 : e);
		goto done;
	}
	/* Drop digits past 34, and below the smallest exponent. */
	k = 0;
	if (nd > 34)
		k = nd - 34;
	if (e + k < -6176)
		k = (int)(-6176 - e);
	if (k == 0) {
		for (t = 0; t < nd; t++)
			coef = coef * 10 + dig[t];
	} else {
		for (t = 0; t < nd - k; t++)
			coef = coef * 10 + dig[t];
		rd = k <= nd ? dig[nd - k] : 0;
		st = sticky || k > nd;
		for (t = nd - k + 1 > 0 ? nd - k + 1 : 0; t < nd; t++)
			st |= dig[t] != 0;
		inexact = rd != 0 || st;
		if (rd > 5 || (rd == 5 && (st || (coef & 1))))
			coef++;
		e += k;
		lim = pow10u(DIGITS);
		if (coef == lim) {
			coef /= 10;
			e++;
		}
	}
	if (inexact && (coef == 0 || e + ndigits(coef) - 1 < -6143))
		return "Conversion from string to decimal would underflow";
	if (e > 6111) {
		if (coef != 0 && ndigits(coef) + (e - 6111) > 34)
			return "Conversion from string to decimal would "
			       "overflow";
		for (; e > 6111; e--)
			coef *= 10;
	}
	d.coef = coef;
	d.exp = (int32_t)e;
done:
	if (used != n)
		return "Did not consume whole string.";
	sp_decimal_pack(out, &d);
	return NULL;
}

/* ------------------------------------------------------- comparison */

/*
 * Coefficient and power of ten each round by at most an ulp or so
 * (relative error under 1e-15 in all), so a gap above 1e-12 of the larger
 * magnitude cannot be a rounding artefact. The exponent bounds keep the
 * product clear of overflow and denormals.
 */
bool
sp_decimal_cmp_double_quick(const struct sp_decimal *d, double x, int *res)
{
	double approx, diff;

	if (d->kind != SP_DECIMAL_FINITE || d->coef == 0 || !isfinite(x) ||
	    x == 0 || d->exp < -280 || d->exp > 270)
		return false;
	approx = (double)d->coef * pow(10, d->exp);
	if (d->neg)
		approx = -approx;
	diff = approx - x;
	if (fabs(diff) <= 1e-12 * fmax(fabs(approx), fabs(x)))
		return false;
	*res = diff < 0 ? -1 : 1;
	return true;
}

/* -------------------------------------------------------- arithmetic */

void
sp_decimal_add(struct sp_decimal *r, const struct sp_decimal *a,
    const struct sp_decimal *b)
{
	const struct sp_decimal *hi, *lo;
	struct wide wh, wl, wr;
	int32_t exp;
	int shift, c;
	bool neg;

	if (a->kind == SP_DECIMAL_NAN || b->kind == SP_DECIMAL_NAN) {
		set_nan(r);
		return;
	}
	if (a->kind == SP_DECIMAL_INF || b->kind == SP_DECIMAL_INF) {
		if (a->kind == SP_DECIMAL_INF && b->kind == SP_DECIMAL_INF &&
		    a->neg != b->neg)
			set_nan(r);
		else
			set_inf(r, a->kind == SP_DECIMAL_INF ? a->neg : b->neg);
		return;
	}
	hi = a->exp >= b->exp ? a : b;
	lo = hi == a ? b : a;
	if (hi->coef == 0 && lo->coef == 0) {
		r->kind = SP_DECIMAL_FINITE;
		r->coef = 0;
		r->exp = lo->exp;
		r->neg = a->neg && b->neg;
		return;
	}
	if (hi->coef == 0) {
		/* Exact: lo already has the smaller (preferred) exponent. */
		*r = *lo;
		return;
	}
	shift = hi->exp - lo->exp;
	exp = lo->exp;
	w_from(&wl, lo->coef);
	if (shift > MAXSHIFT) {
		/*
		 * lo lies wholly below the rounding digit of the result:
		 * only its sign and "nonzero" matter, so stand in a unit at
		 * a position that still fits the digit array.
		 */
		shift = MAXSHIFT;
		exp = hi->exp - MAXSHIFT;
		w_from(&wl, lo->coef != 0 ? 1 : 0);
	}
	w_from(&wh, hi->coef);
	w_shift(&wh, shift);
	if (hi->neg == lo->neg) {
		w_add(&wr, &wh, &wl);
		neg = hi->neg;
	} else {
		c = w_cmp(&wh, &wl);
		if (c >= 0) {
			w_sub(&wr, &wh, &wl);
			neg = hi->neg;
		} else {
			w_sub(&wr, &wl, &wh);
			neg = lo->neg;
		}
		if (wr.n == 0)
			neg = false; /* x + -x is +0 */
	}
	w_round(r, &wr, exp, neg, false);
}

void
sp_decimal_sub(struct sp_decimal *r, const struct sp_decimal *a,
    const struct sp_decimal *b)
{
	struct sp_decimal nb = *b;

	if (nb.kind != SP_DECIMAL_NAN)
		nb.neg = !nb.neg;
	sp_decimal_add(r, a, &nb);
}

void
sp_decimal_mul(struct sp_decimal *r, const struct sp_decimal *a,
    const struct sp_decimal *b)
{
	struct wide wa, wb, wr;
	bool neg = a->neg != b->neg;

	if (a->kind == SP_DECIMAL_NAN || b->kind == SP_DECIMAL_NAN) {
		set_nan(r);
		return;
	}
	if (a->kind == SP_DECIMAL_INF || b->kind == SP_DECIMAL_INF) {
		if ((a->kind == SP_DECIMAL_FINITE && a->coef == 0) ||
		    (b->kind == SP_DECIMAL_FINITE && b->coef == 0))
			set_nan(r);
		else
			set_inf(r, neg);
		return;
	}
	w_from(&wa, a->coef);
	w_from(&wb, b->coef);
	w_mul(&wr, &wa, &wb);
	w_round(r, &wr, a->exp + b->exp, neg, false);
}

/* The coefficient's digits, most significant first. */
static int
msd_digits(u128 c, uint8_t *out)
{
	uint8_t tmp[40];
	int n = 0, i;

	while (c != 0) {
		tmp[n++] = (uint8_t)(c % 10);
		c /= 10;
	}
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

void
sp_decimal_div(struct sp_decimal *r, const struct sp_decimal *a,
    const struct sp_decimal *b)
{
	uint8_t ad[40], qd[DIGITS + 8];
	struct wide q;
	int an, qn = 0, i = 0, extra = 0, k;
	bool neg = a->neg != b->neg;
	u128 rem = 0;

	if (a->kind == SP_DECIMAL_NAN || b->kind == SP_DECIMAL_NAN ||
	    (a->kind == SP_DECIMAL_INF && b->kind == SP_DECIMAL_INF)) {
		set_nan(r);
		return;
	}
	if (a->kind == SP_DECIMAL_INF) {
		set_inf(r, neg);
		return;
	}
	if (b->kind == SP_DECIMAL_INF) {
		r->kind = SP_DECIMAL_FINITE;
		r->neg = neg;
		r->coef = 0;
		r->exp = EMIN;
		return;
	}
	if (b->coef == 0) {
		/* Callers report division by zero before getting here. */
		if (a->coef == 0)
			set_nan(r);
		else
			set_inf(r, neg);
		return;
	}
	if (a->coef == 0) {
		w_from(&q, 0);
		w_round(r, &q, a->exp - b->exp, neg, false);
		return;
	}
	/*
	 * Long division one decimal digit at a time: the remainder stays
	 * below the divisor (< 10^34), so rem * 10 + 9 fits 128 bits. Stop
	 * when the division is exact or there is a guard digit past 34.
	 */
	an = msd_digits(a->coef, ad);
	for (;;) {
		int dig;

		if (i < an) {
			dig = ad[i++];
		} else {
			if (rem == 0 || qn > DIGITS)
				break;
			dig = 0;
			extra++;
		}
		rem = rem * 10 + (u128)dig;
		dig = (int)(rem / b->coef);
		rem %= b->coef;
		if (qn > 0 || dig != 0)
			qd[qn++] = (uint8_t)dig;
	}
	/* An exact quotient keeps the preferred exponent a.exp - b.exp. */
	while (rem == 0 && extra > 0 && qn > 1 && qd[qn - 1] == 0) {
		qn--;
		extra--;
	}
	q.n = qn;
	for (k = 0; k < qn; k++)
		q.d[k] = qd[qn - 1 - k];
	w_trim(&q);
	w_round(r, &q, a->exp - b->exp - extra, neg, rem != 0);
}

void
sp_decimal_mod(struct sp_decimal *r, const struct sp_decimal *a,
    const struct sp_decimal *b)
{
	uint8_t ad[40];
	int an, i;
	int64_t k;
	u128 rem = 0;

	if (a->kind == SP_DECIMAL_NAN || b->kind == SP_DECIMAL_NAN ||
	    a->kind == SP_DECIMAL_INF ||
	    (b->kind == SP_DECIMAL_FINITE && b->coef == 0)) {
		set_nan(r);
		return;
	}
	if (b->kind == SP_DECIMAL_INF) {
		*r = *a;
		return;
	}
	r->kind = SP_DECIMAL_FINITE;
	r->neg = a->neg;
	if (a->exp >= b->exp) {
		/* a.coef * 10^k mod b.coef, streaming the k zeros. */
		an = msd_digits(a->coef, ad);
		for (i = 0; i < an; i++)
			rem = (rem * 10 + ad[i]) % b->coef;
		for (k = (int64_t)a->exp - b->exp; k > 0 && rem != 0; k--)
			rem = rem * 10 % b->coef;
		r->coef = rem;
		r->exp = b->exp;
		return;
	}
	/* b scaled to a's exponent; once it has more digits than any
	 * coefficient, a is already the remainder. */
	k = (int64_t)b->exp - a->exp;
	if (ndigits(b->coef) + k > DIGITS + 2) {
		r->coef = a->coef;
	} else {
		u128 div = b->coef * pow10u((int)k);

		r->coef = a->coef % div;
	}
	r->exp = a->exp;
}

void
sp_decimal_quantize(
    struct sp_decimal *r, const struct sp_decimal *a, int32_t exp, int mode)
{
	struct wide w;
	int64_t k;

	if (a->kind != SP_DECIMAL_FINITE) {
		set_nan(r);
		return;
	}
	r->kind = SP_DECIMAL_FINITE;
	r->neg = a->neg;
	r->exp = exp;
	if (a->exp >= exp) {
		k = (int64_t)a->exp - exp;
		if (a->coef == 0) {
			r->coef = 0;
		} else if (ndigits(a->coef) + k > DIGITS) {
			set_nan(r);
		} else {
			r->coef = a->coef * pow10u((int)k);
		}
		return;
	}
	/* Dropping more digits than the coefficient has rounds the same
	 * whatever the count, so the count can be capped. */
	k = (int64_t)exp - a->exp;
	w_from(&w, a->coef);
	r->coef = w_round_at(&w, k > WMAX ? WMAX : (int)k, false, a->neg, mode);
}
