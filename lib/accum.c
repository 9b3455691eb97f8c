/* accum.c: the basic accumulators of $group ($sum ... $mergeObjects). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group_int.h"

/*
 * Each accumulator is a row of ops (group_int.h) over a fixed block of
 * state per group. What MongoDB computes with rounding at every step,
 * ($sum, $avg, $stdDev*) is kept here exactly and rounded once when the
 * result is asked for, so that the state of a run can be cut at any
 * document, written as a partial, and merged back without changing a bit
 * of the answer (sp-group --partial/--merge): addition of exact values
 * is associative, addition of rounded ones is not. For ordinary inputs
 * (no intermediate rounding in MongoDB either) the answers are MongoDB's.
 *
 * A state block is zeroed by the caller before init, and the blocks may
 * move (a group table grows), so no state points into itself; members
 * need at most 8-byte alignment.
 */

/* ------------------------------------------------ values kept in state */

void
value_keep(bson_value_t *dst, const bson_value_t *v)
{
	if (v->value_type == BSON_TYPE_EOD) {
		memset(dst, 0, sizeof(*dst));
		return;
	}
	bson_value_copy(v, dst);
}

void
value_drop(bson_value_t *v)
{
	if (v->value_type != BSON_TYPE_EOD)
		bson_value_destroy(v);
	memset(v, 0, sizeof(*v));
}

size_t
value_heap_bytes(const bson_value_t *v)
{
	switch (v->value_type) {
	case BSON_TYPE_UTF8: return v->value.v_utf8.len + 1;
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY: return v->value.v_doc.data_len;
	case BSON_TYPE_BINARY: return v->value.v_binary.data_len;
	case BSON_TYPE_REGEX:
		return strlen(v->value.v_regex.regex) +
		    strlen(v->value.v_regex.options) + 2;
	case BSON_TYPE_DBPOINTER:
		return v->value.v_dbpointer.collection_len + 1;
	case BSON_TYPE_CODE: return v->value.v_code.code_len + 1;
	case BSON_TYPE_SYMBOL: return v->value.v_symbol.len + 1;
	case BSON_TYPE_CODEWSCOPE:
		return v->value.v_codewscope.code_len + 1 +
		    v->value.v_codewscope.scope_len;
	default: return 0;
	}
}

/* ------------------------------------------ exact sums of doubles */

/*
 * Shewchuk's non-overlapping partials (Python's math.fsum): the exact
 * sum of the doubles added so far is the sum of the partials, kept in
 * increasing magnitude. A few live inline; more go to the heap.
 */
#define XS_INLINE 3

struct xsum {
	uint32_t n, cap; /* cap: of heap; 0 while inline */
	double *heap;
	double in[XS_INLINE];
};

static double *
xs_data(struct xsum *x)
{
	return x->heap != NULL ? x->heap : x->in;
}

static const double *
xs_cdata(const struct xsum *x)
{
	return x->heap != NULL ? x->heap : x->in;
}

static void
xs_reserve(struct xsum *x, uint32_t need)
{
	uint32_t cap = x->heap != NULL ? x->cap : XS_INLINE;
	double *p;

	if (need <= cap)
		return;
	cap = cap * 2 > need ? cap * 2 : need;
	p = sp_xmalloc(sizeof(*p) * cap);
	memcpy(p, xs_data(x), sizeof(*p) * x->n);
	free(x->heap);
	x->heap = p;
	x->cap = cap;
}

/* Adds finite v: room for n + 1 partials must be there. */
static uint32_t
xs_add_raw(double *p, uint32_t n, double v)
{
	uint32_t i = 0, j;
	double y, hi, lo, t;

	for (j = 0; j < n; j++) {
		y = p[j];
		if (fabs(v) < fabs(y)) {
			t = v;
			v = y;
			y = t;
		}
		hi = v + y;
		lo = y - (hi - v);
		if (lo != 0)
			p[i++] = lo;
		v = hi;
	}
	if (v != 0)
		p[i++] = v;
	return i;
}

static void
xs_add(struct xsum *x, double v)
{
	if (v == 0)
		return;
	xs_reserve(x, x->n + 1);
	x->n = xs_add_raw(xs_data(x), x->n, v);
}

/* The partials' exact sum, correctly rounded (fsum's last step). */
static double
xs_round(const struct xsum *x)
{
	const double *p = xs_cdata(x);
	uint32_t n = x->n;
	double hi = 0, lo = 0, y, yr, t;

	if (n == 0)
		return 0;
	hi = p[--n];
	while (n > 0) {
		t = hi;
		y = p[--n];
		hi = t + y;
		yr = hi - t;
		lo = y - yr;
		if (lo != 0)
			break;
	}
	/* Half-way: the partials below lo say which way to go. */
	if (n > 0 && ((lo < 0 && p[n - 1] < 0) || (lo > 0 && p[n - 1] > 0))) {
		y = lo * 2;
		t = hi + y;
		yr = t - hi;
		if (y == yr)
			hi = t;
	}
	return hi;
}

static void
xs_copy(struct xsum *dst, const struct xsum *src)
{
	memset(dst, 0, sizeof(*dst));
	xs_reserve(dst, src->n);
	memcpy(xs_data(dst), xs_cdata(src), sizeof(double) * src->n);
	dst->n = src->n;
}

static void
xs_release(struct xsum *x)
{
	free(x->heap);
	memset(x, 0, sizeof(*x));
}

static size_t
xs_bytes(const struct xsum *x)
{
	return x->heap != NULL ? x->cap * sizeof(double) : 0;
}

/*
 * The exact sum of doubles, whatever their magnitude: those of 2^960 and
 * more are kept scaled by 2^-512 in a second expansion, so that no
 * partial ever overflows (2^63 inputs below 2^960 stay below 2^1023).
 * NaN and the infinities are flags, as MongoDB's simple sum would have
 * them: NaN if any NaN or both infinities, else the infinity.
 */
#define BIG_DOUBLE 0x1p960
#define BIG_SCALE 512

enum { SPECIAL_NAN = 1, SPECIAL_PINF = 2, SPECIAL_NINF = 4 };

struct dsum {
	struct xsum x;
	struct xsum *big; /* NULL until a double of 2^960 or more */
	uint32_t special;
	uint32_t pad;
};

static void
ds_add(struct dsum *d, double v)
{
	if (isnan(v))
		d->special |= SPECIAL_NAN;
	else if (isinf(v))
		d->special |= v > 0 ? SPECIAL_PINF : SPECIAL_NINF;
	else if (fabs(v) >= BIG_DOUBLE) {
		if (d->big == NULL)
			d->big = sp_xcalloc(1, sizeof(*d->big));
		xs_add(d->big, ldexp(v, -BIG_SCALE));
	} else
		xs_add(&d->x, v);
}

static void
ds_release(struct dsum *d)
{
	xs_release(&d->x);
	if (d->big != NULL) {
		xs_release(d->big);
		free(d->big);
	}
	d->big = NULL;
}

static size_t
ds_bytes(const struct dsum *d)
{
	return xs_bytes(&d->x) +
	    (d->big != NULL ? sizeof(*d->big) + xs_bytes(d->big) : 0);
}

static double
special_double(uint32_t s)
{
	if ((s & SPECIAL_NAN) ||
	    (s & (SPECIAL_PINF | SPECIAL_NINF)) ==
		(SPECIAL_PINF | SPECIAL_NINF))
		return NAN;
	return (s & SPECIAL_PINF) ? INFINITY : -INFINITY;
}

/* __int128 without its 16-byte alignment, for state blocks. */
struct i128 {
	uint64_t lo;
	uint64_t hi;
};

static __int128
i128_get(const struct i128 *v)
{
	return (__int128)((unsigned __int128)v->hi << 64 | v->lo);
}

static void
i128_set(struct i128 *v, __int128 x)
{
	v->lo = (uint64_t)x;
	v->hi = (uint64_t)((unsigned __int128)x >> 64);
}

/*
 * The total (doubles plus the integer i) as one expansion in t, which the
 * caller releases; *scaled: t holds the total times 2^-512 (there were
 * doubles of 2^960 or more). Exact, but that beside big doubles the
 * partials below 2^-510 lose bits to the scaling.
 */
static void
ds_total(const struct dsum *d, __int128 i, struct xsum *t, bool *scaled)
{
	const double *p;
	uint32_t k;
	double h;
	int s;

	*scaled = d->big != NULL && d->big->n > 0;
	s = *scaled ? -BIG_SCALE : 0;
	if (*scaled)
		xs_copy(t, d->big);
	else
		memset(t, 0, sizeof(*t));
	p = xs_cdata(&d->x);
	for (k = 0; k < d->x.n; k++)
		xs_add(t, ldexp(p[k], s));
	/* An int128 is a few doubles of 53 bits each. */
	for (k = 0; k < 4 && i != 0; k++) {
		h = (double)i;
		if (h >= 0x1p127 || h < -0x1p127)
			h = h > 0 ? 0x1p126 : -0x1p126;
		i -= (__int128)h;
		xs_add(t, ldexp(h, s));
	}
}

/* The total, rounded once; *lo: what is left, rounded (double-double). */
static double
ds_round(const struct dsum *d, __int128 i, double *lo)
{
	struct xsum t;
	bool scaled;
	double hi;

	if (d->special) {
		if (lo != NULL)
			*lo = 0;
		return special_double(d->special);
	}
	ds_total(d, i, &t, &scaled);
	hi = xs_round(&t);
	if (lo != NULL) {
		xs_add(&t, -hi);
		*lo = xs_round(&t);
		if (scaled)
			*lo = ldexp(*lo, BIG_SCALE);
	}
	if (scaled)
		hi = ldexp(hi, BIG_SCALE);
	xs_release(&t);
	return hi;
}

/* ---------------------------------------- exact sums of decimal128 */

/*
 * An exact decimal: (-1)^neg * mag * 10^exp, mag in base 10^9 limbs,
 * least significant first. exp is the smallest exponent seen and 0
 * (MongoDB's running total starts as Decimal128(0)), which is the
 * exponent IEEE addition gives the sum when no rounding happens.
 */
#define LIMB 1000000000u

struct bigdec {
	int32_t exp;
	bool neg;
	uint8_t special;
	uint32_t n, cap;
	uint32_t *limb;
};

static void
bd_reserve(struct bigdec *b, uint32_t need)
{
	if (need <= b->cap)
		return;
	b->cap = b->cap * 2 > need ? b->cap * 2 : need;
	b->limb = sp_xrealloc(b->limb, sizeof(*b->limb) * b->cap);
}

static void
bd_trim(struct bigdec *b)
{
	while (b->n > 0 && b->limb[b->n - 1] == 0)
		b->n--;
}

/* mag *= 10^k */
static void
bd_scale(struct bigdec *b, uint32_t k)
{
	static const uint32_t pow10[9] = {
	    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
	uint32_t shift = k / 9, m = pow10[k % 9], i;
	uint64_t carry = 0, t;

	if (b->n == 0)
		return;
	if (m != 1) {
		for (i = 0; i < b->n; i++) {
			t = (uint64_t)b->limb[i] * m + carry;
			b->limb[i] = (uint32_t)(t % LIMB);
			carry = t / LIMB;
		}
		if (carry != 0) {
			bd_reserve(b, b->n + 1);
			b->limb[b->n++] = (uint32_t)carry;
		}
	}
	if (shift > 0) {
		bd_reserve(b, b->n + shift);
		memmove(b->limb + shift, b->limb, sizeof(*b->limb) * b->n);
		memset(b->limb, 0, sizeof(*b->limb) * shift);
		b->n += shift;
	}
}

static int
mag_cmp(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb)
{
	uint32_t i;

	if (na != nb)
		return na < nb ? -1 : 1;
	for (i = na; i-- > 0;)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* Adds (-1)^neg * x * 10^exp, x the n limbs (x may be scaled, so it is
 * taken as a bigdec the caller owns). */
static void
bd_add_big(struct bigdec *b, struct bigdec *x)
{
	uint32_t i, n;
	int64_t t;
	int c;

	if (x->n == 0) {
		if (x->exp < b->exp) {
			bd_scale(b, (uint32_t)(b->exp - x->exp));
			b->exp = x->exp;
		}
		return;
	}
	if (x->exp < b->exp) {
		bd_scale(b, (uint32_t)(b->exp - x->exp));
		b->exp = x->exp;
	} else if (x->exp > b->exp) {
		bd_scale(x, (uint32_t)(x->exp - b->exp));
		x->exp = b->exp;
	}
	if (b->n == 0)
		b->neg = x->neg;
	n = b->n > x->n ? b->n : x->n;
	bd_reserve(b, n + 1);
	for (i = b->n; i < n + 1; i++)
		b->limb[i] = 0;
	if (b->neg == x->neg) {
		t = 0;
		for (i = 0; i < n; i++) {
			t += (int64_t)b->limb[i] + (i < x->n ? x->limb[i] : 0);
			b->limb[i] = (uint32_t)(t % LIMB);
			t /= LIMB;
		}
		b->limb[n] = (uint32_t)t;
		b->n = n + 1;
	} else {
		c = mag_cmp(b->limb, b->n, x->limb, x->n);
		t = 0;
		for (i = 0; i < n; i++) {
			int64_t u = i < b->n ? b->limb[i] : 0;
			int64_t v = i < x->n ? x->limb[i] : 0;

			t += c >= 0 ? u - v : v - u;
			if (t < 0) {
				b->limb[i] = (uint32_t)(t + LIMB);
				t = -1;
			} else {
				b->limb[i] = (uint32_t)t;
				t = 0;
			}
		}
		b->n = n;
		if (c < 0)
			b->neg = x->neg;
	}
	bd_trim(b);
	if (b->n == 0)
		b->neg = false;
}

static void
bd_from_u128(struct bigdec *x, unsigned __int128 c)
{
	x->n = 0;
	while (c != 0) {
		bd_reserve(x, x->n + 1);
		x->limb[x->n++] = (uint32_t)(c % LIMB);
		c /= LIMB;
	}
}

static void
bd_add_dec(struct bigdec *b, const struct sp_decimal *d)
{
	struct bigdec x = {0};

	if (d->kind == SP_DECIMAL_NAN) {
		b->special |= SPECIAL_NAN;
		return;
	}
	if (d->kind == SP_DECIMAL_INF) {
		b->special |= d->neg ? SPECIAL_NINF : SPECIAL_PINF;
		return;
	}
	bd_from_u128(&x, d->coef);
	x.exp = d->exp;
	x.neg = d->neg;
	bd_add_big(b, &x);
	free(x.limb);
}

/* The magnitude's decimal digits, NUL-terminated, malloc'd ("0"). */
static char *
bd_digits(const struct bigdec *b, size_t *len)
{
	char *s = sp_xmalloc((size_t)b->n * 9 + 2);
	size_t n;
	uint32_t i;

	if (b->n == 0) {
		strcpy(s, "0");
		*len = 1;
		return s;
	}
	n = (size_t)sprintf(s, "%u", b->limb[b->n - 1]);
	for (i = b->n - 1; i-- > 0;)
		n += (size_t)sprintf(s + n, "%09u", b->limb[i]);
	*len = n;
	return s;
}

/* Parses digits (no sign) into x's magnitude; -1 on anything else. */
static int
bd_parse_digits(struct bigdec *x, const char *s, size_t len)
{
	size_t i, end;
	uint32_t v;

	x->n = 0;
	if (len == 0)
		return -1;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	for (end = len; end > 0;) {
		size_t start = end >= 9 ? end - 9 : 0;

		v = 0;
		for (i = start; i < end; i++)
			v = v * 10 + (uint32_t)(s[i] - '0');
		bd_reserve(x, x->n + 1);
		x->limb[x->n++] = v;
		end = start;
	}
	bd_trim(x);
	return 0;
}

/* The exact value rounded once to a decimal128, half to even. */
static void
bd_round(const struct bigdec *b, struct sp_decimal *d)
{
	unsigned __int128 coef = 0;
	size_t len, keep, i;
	int32_t exp;
	bool up = false, sticky = false;
	char *s;

	memset(d, 0, sizeof(*d));
	if (b->special) {
		if ((b->special & SPECIAL_NAN) ||
		    (b->special & (SPECIAL_PINF | SPECIAL_NINF)) ==
			(SPECIAL_PINF | SPECIAL_NINF))
			d->kind = SP_DECIMAL_NAN;
		else {
			d->kind = SP_DECIMAL_INF;
			d->neg = (b->special & SPECIAL_NINF) != 0;
		}
		return;
	}
	d->kind = SP_DECIMAL_FINITE;
	d->neg = b->neg;
	s = bd_digits(b, &len);
	keep = len > SP_DECIMAL_DIGITS ? SP_DECIMAL_DIGITS : len;
	for (i = 0; i < keep; i++)
		coef = coef * 10 + (unsigned)(s[i] - '0');
	exp = b->exp + (int32_t)(len - keep);
	if (keep < len) {
		for (i = keep + 1; i < len && !sticky; i++)
			sticky = s[i] != '0';
		up = s[keep] > '5' ||
		    (s[keep] == '5' && (sticky || (coef & 1) != 0));
	}
	free(s);
	if (up && ++coef > SP_DECIMAL_MAX_COEF) {
		coef /= 10;
		exp++;
	}
	/* A large exponent folds into the coefficient while it fits. */
	while (exp > SP_DECIMAL_EMAX && coef != 0 &&
	    coef * 10 <= SP_DECIMAL_MAX_COEF) {
		coef *= 10;
		exp--;
	}
	if (exp > SP_DECIMAL_EMAX) {
		if (coef == 0)
			exp = SP_DECIMAL_EMAX;
		else {
			d->kind = SP_DECIMAL_INF;
			return;
		}
	}
	d->coef = coef;
	d->exp = exp;
}

static size_t
bd_bytes(const struct bigdec *b)
{
	return sizeof(*b) + sizeof(*b->limb) * b->cap;
}

static void
bd_free(struct bigdec *b)
{
	if (b != NULL)
		free(b->limb);
	free(b);
}

/* ------------------------------------------------------ $sum, $avg */

enum { T_NONE, T_INT, T_LONG, T_DOUBLE };
static const char *const type_names[] = {"none", "int", "long", "double"};

struct numsum {
	struct i128 isum; /* ints and longs, exactly */
	struct dsum d; /* doubles, exactly */
	struct bigdec *dec; /* decimals, exactly; NULL until one */
	int64_t count; /* numbers seen ($avg) */
	uint32_t type; /* widest type but decimal: T_* */
	uint32_t pad;
};

static void
ns_add(struct numsum *s, const bson_value_t *v)
{
	struct sp_decimal d;
	uint32_t t;

	switch (v->value_type) {
	case BSON_TYPE_INT32:
		i128_set(&s->isum, i128_get(&s->isum) + v->value.v_int32);
		t = T_INT;
		break;
	case BSON_TYPE_INT64:
		i128_set(&s->isum, i128_get(&s->isum) + v->value.v_int64);
		t = T_LONG;
		break;
	case BSON_TYPE_DOUBLE:
		ds_add(&s->d, v->value.v_double);
		t = T_DOUBLE;
		break;
	case BSON_TYPE_DECIMAL128:
		if (s->dec == NULL)
			s->dec = sp_xcalloc(1, sizeof(*s->dec));
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		bd_add_dec(s->dec, &d);
		t = T_NONE;
		break;
	default:
		/* Non-numbers (arrays too) are ignored by $sum and $avg. */
		return;
	}
	if (t > s->type)
		s->type = t;
	s->count++;
}

/* DoubleDoubleSummation::getDecimal of the non-decimal part. */
static void
ns_nondec_decimal(const struct numsum *s, struct sp_decimal *out)
{
	struct sp_decimal a, b;
	double hi, lo;

	hi = ds_round(&s->d, i128_get(&s->isum), &lo);
	if (!isfinite(hi)) {
		sp_decimal_from_double(out, hi, SP_DECIMAL_DIGITS);
		return;
	}
	sp_decimal_from_double(&a, hi, SP_DECIMAL_DIGITS);
	sp_decimal_from_double(&b, lo, SP_DECIMAL_DIGITS);
	sp_decimal_add(out, &a, &b);
}

/* The decimal total: the decimals' sum plus the rest as a decimal. */
static void
ns_decimal(const struct numsum *s, struct sp_decimal *out)
{
	struct sp_decimal a, b;

	bd_round(s->dec, &a);
	ns_nondec_decimal(s, &b);
	sp_decimal_add(out, &a, &b);
}

static void
ns_sum_result(const struct numsum *s, bson_value_t *out)
{
	struct sp_decimal d;
	__int128 i = i128_get(&s->isum);

	if (s->dec != NULL) {
		ns_decimal(s, &d);
		expr_set_dec(out, &d);
		return;
	}
	/* Integers stay integers while they fit a long (an int sum that
	 * outgrows int32 is a long, as createIntOrLong makes it); beyond,
	 * and with any double, the sum is a double. */
	if (s->type != T_DOUBLE && i >= INT64_MIN && i <= INT64_MAX) {
		if (s->type == T_LONG)
			expr_set_int64(out, (int64_t)i);
		else
			expr_set_int_or_long(out, (int64_t)i);
		return;
	}
	expr_set_double(out, ds_round(&s->d, i, NULL));
}

static void
ns_avg_result(const struct numsum *s, bson_value_t *out)
{
	struct sp_decimal d, n, q;

	if (s->count == 0) {
		expr_set_null(out);
		return;
	}
	if (s->dec != NULL) {
		ns_decimal(s, &d);
		sp_decimal_from_int64(&n, s->count);
		sp_decimal_div(&q, &d, &n);
		expr_set_dec(out, &q);
		return;
	}
	expr_set_double(
	    out, ds_round(&s->d, i128_get(&s->isum), NULL) / (double)s->count);
}

static void
ns_release(struct numsum *s)
{
	ds_release(&s->d);
	bd_free(s->dec);
	s->dec = NULL;
}

static size_t
ns_bytes(const struct numsum *s)
{
	return ds_bytes(&s->d) + (s->dec != NULL ? bd_bytes(s->dec) : 0);
}

/* ------------------------------------------------ partial documents */

/* Helpers for building a partial in the arena and reading one back. */

static void
put_str(struct expr_buf *b, const char *key, const char *s)
{
	bson_value_t v;

	expr_set_cstr(&v, s);
	sp_expr_buf_append(b, key, strlen(key), &v);
}

static void
put_value(struct expr_buf *b, const char *key, const bson_value_t *v)
{
	if (v->value_type != BSON_TYPE_EOD)
		sp_expr_buf_append(b, key, strlen(key), v);
}

static void
put_bool(struct expr_buf *b, const char *key, bool t)
{
	bson_value_t v;

	expr_set_bool(&v, t);
	sp_expr_buf_append(b, key, strlen(key), &v);
}

static void
put_long(struct expr_buf *b, const char *key, int64_t i)
{
	bson_value_t v;

	expr_set_int64(&v, i);
	sp_expr_buf_append(b, key, strlen(key), &v);
}

/* A partial starts with the accumulator's name: {acc: "$sum", ...}. */
static void
part_begin(struct expr_buf *b, const struct accum *a, struct sp_arena *ar)
{
	sp_expr_buf_init(b, ar);
	put_str(b, "acc", a->ops->name);
}

static void
part_end(struct expr_buf *b, bson_value_t *out)
{
	/* A state that outgrows BSON cannot travel; null says so, and
	 * merge refuses it. */
	(void)sp_expr_buf_finish(b, BSON_TYPE_DOCUMENT, out);
}

static void
put_doubles(struct expr_buf *b, struct sp_arena *ar, const char *key,
    const struct xsum *x)
{
	const double *p = xs_cdata(x);
	struct expr_buf arr;
	bson_value_t v;
	uint32_t i;

	sp_expr_buf_init(&arr, ar);
	for (i = 0; i < x->n; i++) {
		expr_set_double(&v, p[i]);
		sp_expr_buf_append(&arr, NULL, 0, &v);
	}
	(void)sp_expr_buf_finish(&arr, BSON_TYPE_ARRAY, &v);
	sp_expr_buf_append(b, key, strlen(key), &v);
}

int
partial_refused(struct sp_error *err, const char *prefix, const char *name,
    const bson_value_t *v)
{
	struct sp_buf s;

	sp_buf_init(&s);
	value_str(&s, v);
	if (s.len > 200) {
		s.len = 200;
		sp_buf_puts(&s, "...");
	}
	sp_error_set(err, "%snot a partial state of %s: %s", prefix, name,
	    sp_buf_cstr(&s));
	sp_buf_release(&s);
	return -1;
}

static int
bad_partial(
    const struct accum *a, const bson_value_t *part, struct sp_error *err)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "%s: ", a->ops->name);
	return partial_refused(err, prefix, a->ops->name, part);
}

/* Checks that part is a document whose acc is a's name. */
static bool
part_check(const struct accum *a, const bson_value_t *part)
{
	bson_iter_t it;

	if (part->value_type != BSON_TYPE_DOCUMENT ||
	    !bson_iter_init_from_data(
		&it, part->value.v_doc.data, part->value.v_doc.data_len) ||
	    !bson_iter_find(&it, "acc") || !BSON_ITER_HOLDS_UTF8(&it))
		return false;
	return strcmp(bson_iter_utf8(&it, NULL), a->ops->name) == 0;
}

/* The field key of the partial, or missing. */
static void
part_get(const bson_value_t *part, const char *key, bson_value_t *out)
{
	bson_iter_t it;

	if (bson_iter_init_from_data(
		&it, part->value.v_doc.data, part->value.v_doc.data_len) &&
	    bson_iter_find(&it, key))
		*out = *bson_iter_value(&it);
	else
		expr_set_missing(out);
}

static bool
get_flag(const bson_value_t *part, const char *key)
{
	bson_value_t v;

	part_get(part, key, &v);
	return v.value_type == BSON_TYPE_BOOL && v.value.v_bool;
}

/* The field key of part; false when part is not a partial of a. */
static bool
part_field(const struct accum *a, const bson_value_t *part, const char *key,
    bson_value_t *out)
{
	if (!part_check(a, part))
		return false;
	part_get(part, key, out);
	return true;
}

/* A partial of one field: {acc: name, key: v}. */
static void
part_one(const struct accum *a, struct sp_arena *ar, const char *key,
    const bson_value_t *v, bson_value_t *out)
{
	struct expr_buf b;

	part_begin(&b, a, ar);
	put_value(&b, key, v);
	part_end(&b, out);
}

/* Checks that v is missing or an array of finite doubles. */
static bool
doubles_ok(const bson_value_t *v)
{
	bson_iter_t it;

	if (v->value_type == BSON_TYPE_EOD)
		return true;
	if (v->value_type != BSON_TYPE_ARRAY ||
	    !bson_iter_init_from_data(
		&it, v->value.v_doc.data, v->value.v_doc.data_len))
		return false;
	while (bson_iter_next(&it))
		if (!BSON_ITER_HOLDS_DOUBLE(&it) ||
		    !isfinite(bson_iter_double(&it)))
			return false;
	return true;
}

static void
add_doubles(struct xsum *x, const bson_value_t *v)
{
	bson_iter_t it;

	if (v->value_type != BSON_TYPE_ARRAY ||
	    !bson_iter_init_from_data(
		&it, v->value.v_doc.data, v->value.v_doc.data_len))
		return;
	while (bson_iter_next(&it))
		xs_add(x, bson_iter_double(&it));
}

static void
put_special(struct expr_buf *b, uint32_t s)
{
	if (s & SPECIAL_NAN)
		put_bool(b, "nan", true);
	if (s & SPECIAL_PINF)
		put_bool(b, "posInf", true);
	if (s & SPECIAL_NINF)
		put_bool(b, "negInf", true);
}

static uint32_t
get_special(const bson_value_t *part)
{
	return (get_flag(part, "nan") ? SPECIAL_NAN : 0) |
	    (get_flag(part, "posInf") ? SPECIAL_PINF : 0) |
	    (get_flag(part, "negInf") ? SPECIAL_NINF : 0);
}

static char *
i128_str(char *buf, __int128 v)
{
	unsigned __int128 u;
	char tmp[48];
	int n = 0, k = 0;

	if (v < 0)
		u = (unsigned __int128)0 - (unsigned __int128)v;
	else
		u = (unsigned __int128)v;
	do {
		tmp[n++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u != 0);
	if (v < 0)
		buf[k++] = '-';
	while (n > 0)
		buf[k++] = tmp[--n];
	buf[k] = '\0';
	return buf;
}

static int
i128_parse(const bson_value_t *v, __int128 *out)
{
	const char *s;
	unsigned __int128 u = 0;
	uint32_t i = 0, len;
	bool neg = false;

	if (v->value_type != BSON_TYPE_UTF8)
		return -1;
	s = v->value.v_utf8.str;
	len = v->value.v_utf8.len;
	if (len > 0 && s[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == len || len - i > 39)
		return -1;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		u = u * 10 + (unsigned)(s[i] - '0');
		if (u > ((unsigned __int128)1 << 126))
			return -1;
	}
	*out = neg ? -(__int128)u : (__int128)u;
	return 0;
}

/* The decimal part: {digits: "-123", exponent: -2, nan...}. */
static void
put_bigdec(struct expr_buf *b, struct sp_arena *ar, const struct bigdec *d)
{
	struct expr_buf sub;
	bson_value_t v;
	size_t len;
	char *s = bd_digits(d, &len), *t;

	t = sp_arena_alloc(ar, len + 2);
	t[0] = '-';
	memcpy(t + 1, s, len + 1);
	free(s);
	sp_expr_buf_init(&sub, ar);
	put_str(&sub, "digits", d->neg ? t : t + 1);
	expr_set_int32(&v, d->exp);
	sp_expr_buf_append(&sub, "exponent", 8, &v);
	put_special(&sub, d->special);
	(void)sp_expr_buf_finish(&sub, BSON_TYPE_DOCUMENT, &v);
	sp_expr_buf_append(b, "decimal", 7, &v);
}

/* Reads a put_bigdec value into x (a fresh bigdec the caller frees). */
static int
get_bigdec(const bson_value_t *v, struct bigdec *x)
{
	bson_value_t dg, ex;
	const char *s;
	uint32_t len;

	if (v->value_type != BSON_TYPE_DOCUMENT)
		return -1;
	part_get(v, "digits", &dg);
	part_get(v, "exponent", &ex);
	if (dg.value_type != BSON_TYPE_UTF8 ||
	    ex.value_type != BSON_TYPE_INT32 ||
	    ex.value.v_int32 < SP_DECIMAL_EMIN || ex.value.v_int32 > 0)
		return -1;
	s = dg.value.v_utf8.str;
	len = dg.value.v_utf8.len;
	x->neg = len > 0 && s[0] == '-';
	if (x->neg) {
		s++;
		len--;
	}
	if (bd_parse_digits(x, s, len))
		return -1;
	if (x->n == 0)
		x->neg = false;
	x->exp = ex.value.v_int32;
	x->special = (uint8_t)get_special(v);
	return 0;
}

static void
ns_partial(const struct accum *a, const struct numsum *s, bool count,
    struct sp_arena *ar, bson_value_t *out)
{
	struct expr_buf b;
	char buf[48];

	part_begin(&b, a, ar);
	put_str(&b, "type", type_names[s->type]);
	if (count)
		put_long(&b, "count", s->count);
	put_str(&b, "integer", i128_str(buf, i128_get(&s->isum)));
	put_doubles(&b, ar, "doubles", &s->d.x);
	if (s->d.big != NULL && s->d.big->n > 0)
		put_doubles(&b, ar, "scaledDoubles", s->d.big);
	put_special(&b, s->d.special);
	if (s->dec != NULL)
		put_bigdec(&b, ar, s->dec);
	part_end(&b, out);
}

static int
ns_merge(const struct accum *a, struct numsum *s, bool count,
    const bson_value_t *part, struct sp_error *err)
{
	bson_value_t ty, in, dbl, big, dec, cnt;
	struct bigdec x = {0};
	__int128 i;
	uint32_t t;

	if (!part_check(a, part))
		return bad_partial(a, part, err);
	part_get(part, "type", &ty);
	part_get(part, "integer", &in);
	part_get(part, "doubles", &dbl);
	part_get(part, "scaledDoubles", &big);
	part_get(part, "decimal", &dec);
	part_get(part, "count", &cnt);
	for (t = 0; t < 4; t++)
		if (ty.value_type == BSON_TYPE_UTF8 &&
		    strcmp(ty.value.v_utf8.str, type_names[t]) == 0)
			break;
	if (t == 4 || i128_parse(&in, &i) || !doubles_ok(&dbl) ||
	    !doubles_ok(&big) ||
	    (count &&
		(cnt.value_type != BSON_TYPE_INT64 || cnt.value.v_int64 < 0)))
		return bad_partial(a, part, err);
	if (dec.value_type != BSON_TYPE_EOD && get_bigdec(&dec, &x)) {
		free(x.limb);
		return bad_partial(a, part, err);
	}
	/* Checked; from here on nothing fails. */
	if (t > s->type)
		s->type = t;
	if (count)
		s->count += cnt.value.v_int64;
	i128_set(&s->isum, i128_get(&s->isum) + i);
	add_doubles(&s->d.x, &dbl);
	if (big.value_type != BSON_TYPE_EOD) {
		if (s->d.big == NULL)
			s->d.big = sp_xcalloc(1, sizeof(*s->d.big));
		add_doubles(s->d.big, &big);
	}
	s->d.special |= get_special(part);
	if (dec.value_type != BSON_TYPE_EOD) {
		if (s->dec == NULL)
			s->dec = sp_xcalloc(1, sizeof(*s->dec));
		s->dec->special |= x.special;
		bd_add_big(s->dec, &x);
	}
	free(x.limb);
	return 0;
}

/* ------------------------------------------- ops shared by many rows */

static int
compile_expr(struct accum *a, const bson_value_t *arg, struct sp_error *err)
{
	return sp_expr_compile(&a->expr, arg, err);
}

static int
init_zero(const struct accum *a, void *st, const bson_value_t *key,
    struct sp_error *err)
{
	return 0;
}

/* ---------------------------------------------------- $sum, $count */

static void
sum_add(const struct accum *a, void *st, const bson_value_t *v)
{
	ns_add(st, v);
}

static int
sum_merge(const struct accum *a, void *st, const bson_value_t *part,
    struct sp_error *err)
{
	return ns_merge(a, st, false, part, err);
}

static void
sum_result(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	ns_sum_result(st, out);
}

static void
sum_partial(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	ns_partial(a, st, false, ar, out);
}

static size_t
sum_bytes(const struct accum *a, const void *st)
{
	return ns_bytes(st);
}

static void
sum_release(const struct accum *a, void *st)
{
	ns_release(st);
}

/* {$count: {}} is {$sum: 1}. */
static int
count_compile(struct accum *a, const bson_value_t *arg, struct sp_error *err)
{
	bson_value_t one;

	if (arg->value_type != BSON_TYPE_DOCUMENT ||
	    arg->value.v_doc.data_len != 5)
		return sp_error_set(
		    err, "$count takes no arguments, i.e. $count:{}");
	expr_set_int32(&one, 1);
	return sp_expr_compile(&a->expr, &one, err);
}

/* ------------------------------------------------------------ $avg */

static int
avg_merge(const struct accum *a, void *st, const bson_value_t *part,
    struct sp_error *err)
{
	return ns_merge(a, st, true, part, err);
}

static void
avg_result(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	ns_avg_result(st, out);
}

static void
avg_partial(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	ns_partial(a, st, true, ar, out);
}

/* ---------------------------------------------- $stdDevPop, $stdDevSamp */

/*
 * MongoDB runs Welford's online update, whose rounding depends on the
 * order and grouping of the inputs: two shards merged give another
 * answer than one run. Here the state is the count and the exact sums of
 * x and of x*x (each square split exactly into two doubles with fma), so
 * it is the same however the input was cut. At the end
 *
 *   n*S2 - S1^2 = n * sum(x^2) - (sum x)^2
 *
 * is formed exactly in one expansion (n split into two exact doubles,
 * every product of partials split by fma), rounded once, and only then
 * divided: no cancellation, and the variance is never negative. The
 * result can differ from Welford's in the last bit.
 *
 * Limits: x is taken as a double (as MongoDB's getDouble); an x of 2^511
 * or more, whose square overflows, makes the result +Infinity (Welford's
 * is often finite there), and squares below 2^-1022 lose bits
 * (deterministically, per input, so shards still agree).
 */
struct stddev {
	int64_t n;
	struct xsum s1, s2;
	uint32_t nonfinite; /* NaN or an infinity seen */
	uint32_t overflow; /* a square overflowed */
};

static void
sd_add(const struct accum *a, void *st, const bson_value_t *v)
{
	struct stddev *s = st;
	double x, p;

	if (!expr_is_number(v))
		return;
	x = sp_expr_num_double(v);
	s->n++;
	if (!isfinite(x)) {
		s->nonfinite = 1;
		return;
	}
	/* Past 2^511 the square overflows: the sums are left alone, so
	 * that they stay finite, and the result is +Infinity. */
	if (fabs(x) >= 0x1p511) {
		s->overflow = 1;
		return;
	}
	xs_add(&s->s1, x);
	p = x * x;
	xs_add(&s->s2, p);
	xs_add(&s->s2, fma(x, x, -p));
}

/* Adds the exact product a*b (two doubles) to t. */
static void
add_product(struct xsum *t, double a, double b)
{
	double p = a * b;

	xs_add(t, p);
	xs_add(t, fma(a, b, -p));
}

static void
sd_result_common(const struct stddev *s, bool samp, bson_value_t *out)
{
	int64_t adj = samp ? s->n - 1 : s->n;
	const double *p1 = xs_cdata(&s->s1), *p2 = xs_cdata(&s->s2);
	struct xsum t = {0};
	double nhi, nlo, dd;
	uint32_t i, j;

	if (adj <= 0) {
		expr_set_null(out);
		return;
	}
	if (s->nonfinite) {
		expr_set_double(out, NAN);
		return;
	}
	if (s->overflow) {
		expr_set_double(out, INFINITY);
		return;
	}
	/* n as two exact doubles: below 2^32 and the rest. */
	nlo = (double)(s->n & 0xffffffffLL);
	nhi = (double)(s->n - (s->n & 0xffffffffLL));
	for (i = 0; i < s->s2.n; i++) {
		add_product(&t, nhi, p2[i]);
		add_product(&t, nlo, p2[i]);
	}
	for (i = 0; i < s->s1.n; i++)
		for (j = 0; j < s->s1.n; j++)
			add_product(&t, -p1[i], p1[j]);
	dd = xs_round(&t);
	xs_release(&t);
	if (dd < 0)
		dd = 0;
	expr_set_double(out, sqrt(dd / ((double)s->n * (double)adj)));
}

static void
sdpop_result(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	sd_result_common(st, false, out);
}

static void
sdsamp_result(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	sd_result_common(st, true, out);
}

static void
sd_partial(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	const struct stddev *s = st;
	struct expr_buf b;

	part_begin(&b, a, ar);
	put_long(&b, "count", s->n);
	put_doubles(&b, ar, "sum", &s->s1);
	put_doubles(&b, ar, "sumSquares", &s->s2);
	if (s->nonfinite)
		put_bool(&b, "nonFinite", true);
	if (s->overflow)
		put_bool(&b, "overflow", true);
	part_end(&b, out);
}

static int
sd_merge(const struct accum *a, void *st, const bson_value_t *part,
    struct sp_error *err)
{
	struct stddev *s = st;
	bson_value_t n, s1, s2;

	if (!part_check(a, part))
		return bad_partial(a, part, err);
	part_get(part, "count", &n);
	part_get(part, "sum", &s1);
	part_get(part, "sumSquares", &s2);
	if (n.value_type != BSON_TYPE_INT64 || n.value.v_int64 < 0 ||
	    s1.value_type != BSON_TYPE_ARRAY || !doubles_ok(&s1) ||
	    s2.value_type != BSON_TYPE_ARRAY || !doubles_ok(&s2))
		return bad_partial(a, part, err);
	s->n += n.value.v_int64;
	add_doubles(&s->s1, &s1);
	add_doubles(&s->s2, &s2);
	s->nonfinite |= get_flag(part, "nonFinite");
	s->overflow |= get_flag(part, "overflow");
	return 0;
}

static size_t
sd_bytes(const struct accum *a, const void *st)
{
	const struct stddev *s = st;

	return xs_bytes(&s->s1) + xs_bytes(&s->s2);
}

static void
sd_release(const struct accum *a, void *st)
{
	struct stddev *s = st;

	xs_release(&s->s1);
	xs_release(&s->s2);
}

/* ------------------------------------------ one kept value: min ... */

struct kept {
	bson_value_t v; /* missing: none yet (or $first's value missing) */
	uint32_t seen; /* $first/$last: a document was seen */
	uint32_t pad;
};

static void
kept_set(struct kept *k, const bson_value_t *v)
{
	value_drop(&k->v);
	value_keep(&k->v, v);
}

/* $min/$max: null, missing and undefined do not count (MongoDB's
 * nullish); ties keep the value seen first. */
static void
min_add(const struct accum *a, void *st, const bson_value_t *v)
{
	struct kept *k = st;

	if (expr_nullish(v))
		return;
	if (k->v.value_type == BSON_TYPE_EOD || sp_value_compare(&k->v, v) > 0)
		kept_set(k, v);
}

static void
max_add(const struct accum *a, void *st, const bson_value_t *v)
{
	struct kept *k = st;

	if (expr_nullish(v))
		return;
	if (k->v.value_type == BSON_TYPE_EOD || sp_value_compare(&k->v, v) < 0)
		kept_set(k, v);
}

static void
first_add(const struct accum *a, void *st, const bson_value_t *v)
{
	struct kept *k = st;

	if (k->seen)
		return;
	k->seen = 1;
	kept_set(k, v);
}

static void
last_add(const struct accum *a, void *st, const bson_value_t *v)
{
	struct kept *k = st;

	k->seen = 1;
	kept_set(k, v);
}

/* The kept value, null when there is none (or $first's was missing). */
static void
kept_result(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	const struct kept *k = st;

	if (k->v.value_type == BSON_TYPE_EOD)
		expr_set_null(out);
	else
		*out = k->v;
}

static void
kept_partial(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	const struct kept *k = st;
	struct expr_buf b;

	part_begin(&b, a, ar);
	if (k->seen)
		put_bool(&b, "seen", true);
	put_value(&b, "value", &k->v);
	part_end(&b, out);
}

/* min/max: the other state's value is one more input. */
static int
minmax_merge(const struct accum *a, void *st, const bson_value_t *part,
    struct sp_error *err)
{
	bson_value_t v;

	if (!part_field(a, part, "value", &v))
		return bad_partial(a, part, err);
	a->ops->add(a, st, &v);
	return 0;
}

/* first/last: the merged documents come after the ones in st. */
static int
firstlast_merge(const struct accum *a, void *st, const bson_value_t *part,
    struct sp_error *err)
{
	bson_value_t v;

	if (!part_field(a, part, "value", &v))
		return bad_partial(a, part, err);
	if (get_flag(part, "seen"))
		a->ops->add(a, st, &v);
	return 0;
}

static size_t
kept_bytes(const struct accum *a, const void *st)
{
	const struct kept *k = st;

	return value_heap_bytes(&k->v);
}

static void
kept_release(const struct accum *a, void *st)
{
	struct kept *k = st;

	value_drop(&k->v);
}

/* ------------------------------------------------------------ $push */

static const uint8_t empty_bson[5] = {5, 0, 0, 0, 0};

struct push {
	bson_t *arr; /* NULL until a value; first, for held_bytes */
	uint32_t n;
	uint32_t pad;
};

static void
push_add(const struct accum *a, void *st, const bson_value_t *v)
{
	struct push *p = st;
	char key[16];
	const char *k;
	size_t len;

	if (v->value_type == BSON_TYPE_EOD)
		return;
	if (p->arr == NULL)
		p->arr = bson_new();
	len = bson_uint32_to_string(p->n++, &k, key, sizeof(key));
	/* Past BSON's 2 GiB the append fails and the value is dropped:
	 * MongoDB stops long before with its memory limit. */
	(void)bson_append_value(p->arr, k, (int)len, v);
}

/* b as a value of type (array or document); NULL: an empty one. */
static void
held_value(const bson_t *b, bson_type_t type, bson_value_t *out)
{
	out->value_type = type;
	if (b == NULL) {
		out->value.v_doc.data = (uint8_t *)empty_bson;
		out->value.v_doc.data_len = sizeof(empty_bson);
	} else {
		out->value.v_doc.data = (uint8_t *)bson_get_data(b);
		out->value.v_doc.data_len = b->len;
	}
}

static void
push_result(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	held_value(((const struct push *)st)->arr, BSON_TYPE_ARRAY, out);
}

static void
push_partial(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	bson_value_t v;

	held_value(((const struct push *)st)->arr, BSON_TYPE_ARRAY, &v);
	part_one(a, ar, "values", &v, out);
}

/* Feeds each element of the partial's "values" to add. */
static int
values_merge(const struct accum *a, void *st, const bson_value_t *part,
    struct sp_error *err)
{
	bson_value_t v;
	bson_iter_t it;

	if (!part_field(a, part, "values", &v) ||
	    v.value_type != BSON_TYPE_ARRAY ||
	    !bson_iter_init_from_data(
		&it, v.value.v_doc.data, v.value.v_doc.data_len))
		return bad_partial(a, part, err);
	while (bson_iter_next(&it))
		a->ops->add(a, st, bson_iter_value(&it));
	return 0;
}

/* $push's and $mergeObjects' states start with their bson_t * (NULL
 * until a value): these serve both. */
static size_t
held_bytes(const struct accum *a, const void *st)
{
	const bson_t *b = *(bson_t *const *)st;

	return b != NULL ? sizeof(bson_t) + b->len : 0;
}

static void
held_release(const struct accum *a, void *st)
{
	bson_t **b = st;

	bson_destroy(*b);
	*b = NULL;
}

/* --------------------------------------------------------- $addToSet */

/*
 * The distinct values in insertion order, with an open-addressing index
 * over them. Equal under sp_value_compare means equal hash: numbers hash
 * by value whatever their type, strings and symbols alike, documents and
 * arrays by their names and elements' hashes.
 */
struct vset {
	bson_value_t *v;
	uint32_t n, cap;
	uint32_t *slot; /* index + 1; 0 empty */
	uint32_t nslot; /* a power of two */
	size_t heap; /* bytes the kept values hold */
};

struct addtoset {
	struct vset *set; /* NULL until a value */
};

static uint64_t
mix(uint64_t h, uint64_t x)
{
	h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

static uint64_t
hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n-- > 0)
		h = (h ^ *s++) * 0x100000001b3ULL;
	return h;
}

static uint64_t value_hash(const bson_value_t *v);

static uint64_t
hash_number(const bson_value_t *v)
{
	struct sp_decimal d;
	int64_t i;
	double x;

	switch (v->value_type) {
	case BSON_TYPE_INT32:
		return mix(1, (uint64_t)(int64_t)v->value.v_int32);
	case BSON_TYPE_INT64: return mix(1, (uint64_t)v->value.v_int64);
	case BSON_TYPE_DOUBLE:
		x = v->value.v_double;
		if (isnan(x))
			return 2;
		if (x >= -0x1p63 && x < 0x1p63 && x == trunc(x))
			return mix(1, (uint64_t)(int64_t)x);
		break;
	default:
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		if (d.kind == SP_DECIMAL_NAN)
			return 2;
		if (sp_decimal_to_int64(&d, SP_DECIMAL_EXACT, &i) == 0)
			return mix(1, (uint64_t)i);
		/* An equal double converts back to itself exactly. */
		x = sp_decimal_to_double(&d);
		break;
	}
	if (x == 0)
		x = 0;
	return mix(3, hash_bytes(&x, sizeof(x)));
}

static uint64_t
hash_doc(const bson_value_t *v, bool names)
{
	bson_iter_t it;
	uint64_t h = names ? 20 : 25;

	if (!bson_iter_init_from_data(
		&it, v->value.v_doc.data, v->value.v_doc.data_len))
		return h;
	while (bson_iter_next(&it)) {
		if (names)
			h = mix(h,
			    hash_bytes(
				bson_iter_key(&it), bson_iter_key_len(&it)));
		h = mix(h, value_hash(bson_iter_value(&it)));
	}
	return h;
}

static uint64_t
value_hash(const bson_value_t *v)
{
	switch (v->value_type) {
	case BSON_TYPE_INT32:
	case BSON_TYPE_INT64:
	case BSON_TYPE_DOUBLE:
	case BSON_TYPE_DECIMAL128: return hash_number(v);
	case BSON_TYPE_UTF8:
		return mix(
		    15, hash_bytes(v->value.v_utf8.str, v->value.v_utf8.len));
	case BSON_TYPE_SYMBOL:
		return mix(15,
		    hash_bytes(
			v->value.v_symbol.symbol, v->value.v_symbol.len));
	case BSON_TYPE_DOCUMENT: return hash_doc(v, true);
	case BSON_TYPE_ARRAY: return hash_doc(v, false);
	case BSON_TYPE_BOOL: return mix(40, v->value.v_bool);
	case BSON_TYPE_DATE_TIME: return mix(45, (uint64_t)v->value.v_datetime);
	case BSON_TYPE_OID:
		return mix(35, hash_bytes(v->value.v_oid.bytes, 12));
	default:
		/* Rarer types: their rank; compare settles the rest. */
		return mix(99, (uint64_t)sp_canonical_type(v->value_type));
	}
}

static void
set_rehash(struct vset *s, uint32_t nslot)
{
	uint32_t i, j;

	free(s->slot);
	s->slot = sp_xcalloc(nslot, sizeof(*s->slot));
	s->nslot = nslot;
	for (i = 0; i < s->n; i++) {
		j = (uint32_t)value_hash(&s->v[i]) & (nslot - 1);
		while (s->slot[j] != 0)
			j = (j + 1) & (nslot - 1);
		s->slot[j] = i + 1;
	}
}

static void
set_add(const struct accum *a, void *st, const bson_value_t *v)
{
	struct addtoset *as = st;
	struct vset *s;
	uint32_t j;

	if (v->value_type == BSON_TYPE_EOD)
		return;
	if (as->set == NULL) {
		as->set = sp_xcalloc(1, sizeof(*as->set));
		set_rehash(as->set, 16);
	}
	s = as->set;
	j = (uint32_t)value_hash(v) & (s->nslot - 1);
	for (; s->slot[j] != 0; j = (j + 1) & (s->nslot - 1))
		if (sp_value_compare(&s->v[s->slot[j] - 1], v) == 0)
			return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 8;
		s->v = sp_xrealloc(s->v, sizeof(*s->v) * s->cap);
	}
	value_keep(&s->v[s->n], v);
	s->heap += value_heap_bytes(v);
	s->slot[j] = ++s->n;
	if (s->n * 2 > s->nslot)
		set_rehash(s, s->nslot * 2);
}

static void
set_array(const struct vset *s, struct sp_arena *ar, bson_value_t *out)
{
	struct expr_buf b;
	uint32_t i;

	sp_expr_buf_init(&b, ar);
	for (i = 0; s != NULL && i < s->n; i++)
		sp_expr_buf_append(&b, NULL, 0, &s->v[i]);
	(void)sp_expr_buf_finish(&b, BSON_TYPE_ARRAY, out);
}

static void
set_result(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	set_array(((const struct addtoset *)st)->set, ar, out);
}

static void
set_partial(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	bson_value_t v;

	set_array(((const struct addtoset *)st)->set, ar, &v);
	part_one(a, ar, "values", &v, out);
}

static size_t
set_bytes(const struct accum *a, const void *st)
{
	const struct vset *s = ((const struct addtoset *)st)->set;

	if (s == NULL)
		return 0;
	return sizeof(*s) + s->cap * sizeof(*s->v) +
	    s->nslot * sizeof(*s->slot) + s->heap;
}

static void
set_release(const struct accum *a, void *st)
{
	struct addtoset *as = st;
	uint32_t i;

	if (as->set == NULL)
		return;
	for (i = 0; i < as->set->n; i++)
		value_drop(&as->set->v[i]);
	free(as->set->v);
	free(as->set->slot);
	free(as->set);
	as->set = NULL;
}

/* ----------------------------------------------------- $mergeObjects */

struct merge {
	bson_t *doc; /* NULL until an object; first, for held_bytes */
};

/* Objects only; null, missing and undefined pass (and are skipped). */
static int
merge_eval(const struct accum *a, const uint8_t *doc, uint32_t len,
    struct sp_arena *ar, bson_value_t *out, struct sp_error *err)
{
	struct sp_buf msg;

	if (sp_expr_eval(a->expr, doc, len, ar, out, err))
		return -1;
	if (expr_nullish(out) || out->value_type == BSON_TYPE_DOCUMENT)
		return 0;
	sp_buf_init(&msg);
	sp_expr_value_string(&msg, out, EXPR_TEXT_CONV);
	sp_error_set(err,
	    "$mergeObjects requires object inputs, but input %s is of type %s",
	    sp_buf_cstr(&msg), sp_expr_type_name(out->value_type));
	sp_buf_release(&msg);
	return -1;
}

/* A field of v replaces the one of the same name where it stands; new
 * ones go last (MutableDocument::setField). */
static void
merge_add(const struct accum *a, void *st, const bson_value_t *v)
{
	struct merge *m = st;
	bson_iter_t it, jt;
	bson_t *nd;

	if (v->value_type != BSON_TYPE_DOCUMENT)
		return;
	nd = bson_new();
	if (m->doc != NULL && bson_iter_init(&it, m->doc)) {
		while (bson_iter_next(&it)) {
			const char *k = bson_iter_key(&it);
			uint32_t kl = bson_iter_key_len(&it);
			const bson_value_t *src = bson_iter_value(&it);

			if (bson_iter_init_from_data(&jt, v->value.v_doc.data,
				v->value.v_doc.data_len))
				while (bson_iter_next(&jt))
					if (bson_iter_key_len(&jt) == kl &&
					    memcmp(bson_iter_key(&jt), k, kl) ==
						0)
						src = bson_iter_value(&jt);
			bson_append_value(nd, k, (int)kl, src);
		}
	}
	if (bson_iter_init_from_data(
		&jt, v->value.v_doc.data, v->value.v_doc.data_len)) {
		while (bson_iter_next(&jt)) {
			const char *k = bson_iter_key(&jt);
			uint32_t kl = bson_iter_key_len(&jt);
			bool had = false;

			if (bson_iter_init(&it, nd))
				while (!had && bson_iter_next(&it))
					had = bson_iter_key_len(&it) == kl &&
					    memcmp(bson_iter_key(&it), k, kl) ==
						0;
			if (!had)
				bson_append_value(
				    nd, k, (int)kl, bson_iter_value(&jt));
		}
	}
	bson_destroy(m->doc);
	m->doc = nd;
}

static void
merge_result(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	held_value(((const struct merge *)st)->doc, BSON_TYPE_DOCUMENT, out);
}

static void
merge_partial(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	bson_value_t v;

	held_value(((const struct merge *)st)->doc, BSON_TYPE_DOCUMENT, &v);
	part_one(a, ar, "merged", &v, out);
}

static int
merge_merge(const struct accum *a, void *st, const bson_value_t *part,
    struct sp_error *err)
{
	bson_value_t v;

	if (!part_field(a, part, "merged", &v) ||
	    v.value_type != BSON_TYPE_DOCUMENT)
		return bad_partial(a, part, err);
	merge_add(a, st, &v);
	return 0;
}

/* ------------------------------------------------------------ tables */

static const struct accum_ops op_add_to_set = {"$addToSet",
    sizeof(struct addtoset), compile_expr, NULL, init_zero, set_add,
    values_merge, set_result, set_partial, set_bytes, set_release, NULL};
static const struct accum_ops op_avg = {"$avg", sizeof(struct numsum),
    compile_expr, NULL, init_zero, sum_add, avg_merge, avg_result, avg_partial,
    sum_bytes, sum_release, NULL};
static const struct accum_ops op_count = {"$count", sizeof(struct numsum),
    count_compile, NULL, init_zero, sum_add, sum_merge, sum_result, sum_partial,
    sum_bytes, sum_release, NULL};
static const struct accum_ops op_first = {"$first", sizeof(struct kept),
    compile_expr, NULL, init_zero, first_add, firstlast_merge, kept_result,
    kept_partial, kept_bytes, kept_release, NULL};
static const struct accum_ops op_last = {"$last", sizeof(struct kept),
    compile_expr, NULL, init_zero, last_add, firstlast_merge, kept_result,
    kept_partial, kept_bytes, kept_release, NULL};
static const struct accum_ops op_max = {"$max", sizeof(struct kept),
    compile_expr, NULL, init_zero, max_add, minmax_merge, kept_result,
    kept_partial, kept_bytes, kept_release, NULL};
static const struct accum_ops op_merge_objects = {"$mergeObjects",
    sizeof(struct merge), compile_expr, merge_eval, init_zero, merge_add,
    merge_merge, merge_result, merge_partial, held_bytes, held_release, NULL};
static const struct accum_ops op_min = {"$min", sizeof(struct kept),
    compile_expr, NULL, init_zero, min_add, minmax_merge, kept_result,
    kept_partial, kept_bytes, kept_release, NULL};
static const struct accum_ops op_push = {"$push", sizeof(struct push),
    compile_expr, NULL, init_zero, push_add, values_merge, push_result,
    push_partial, held_bytes, held_release, NULL};
static const struct accum_ops op_std_dev_pop = {"$stdDevPop",
    sizeof(struct stddev), compile_expr, NULL, init_zero, sd_add, sd_merge,
    sdpop_result, sd_partial, sd_bytes, sd_release, NULL};
static const struct accum_ops op_std_dev_samp = {"$stdDevSamp",
    sizeof(struct stddev), compile_expr, NULL, init_zero, sd_add, sd_merge,
    sdsamp_result, sd_partial, sd_bytes, sd_release, NULL};
static const struct accum_ops op_sum = {"$sum", sizeof(struct numsum),
    compile_expr, NULL, init_zero, sum_add, sum_merge, sum_result, sum_partial,
    sum_bytes, sum_release, NULL};

/* Sorted by name (strcmp). */
static const struct accum_ops *const basic_ops[] = {
    &op_add_to_set,
    &op_avg,
    &op_count,
    &op_first,
    &op_last,
    &op_max,
    &op_merge_objects,
    &op_min,
    &op_push,
    &op_std_dev_pop,
    &op_std_dev_samp,
    &op_sum,
};

const struct accum_table sp_accum_basic = {
    basic_ops, sizeof(basic_ops) / sizeof(basic_ops[0])};

static int
ops_cmp(const void *key, const void *row)
{
	return strcmp(key, (*(const struct accum_ops *const *)row)->name);
}

static const struct accum_ops *
table_find(const struct accum_table *t, const char *name)
{
	const struct accum_ops *const *p;

	if (t->n == 0)
		return NULL;
	p = bsearch(name, t->ops, t->n, sizeof(t->ops[0]), ops_cmp);
	return p != NULL ? *p : NULL;
}

const struct accum_ops *
accum_find(const char *name)
{
	const struct accum_ops *op = table_find(&sp_accum_basic, name);

	return op != NULL ? op : table_find(&sp_accum_n, name);
}

/* ---------------------------------------------------------- compile */

int
accum_compile(struct accum *a, const char *field, const bson_value_t *spec,
    struct sp_error *err)
{
	const struct accum_ops *ops;
	bson_iter_t it;
	const char *name;

	memset(a, 0, sizeof(*a));
	if (spec->value_type != BSON_TYPE_DOCUMENT ||
	    !bson_iter_init_from_data(
		&it, spec->value.v_doc.data, spec->value.v_doc.data_len) ||
	    !bson_iter_next(&it) || bson_iter_key(&it)[0] != '$')
		return sp_error_set(
		    err, "The field '%s' must be an accumulator object", field);
	if (strchr(field, '.') != NULL)
		return sp_error_set(
		    err, "The field name '%s' cannot contain '.'", field);
	if (field[0] == '$')
		return sp_error_set(err,
		    "The field name '%s' cannot be an operator name", field);
	name = bson_iter_key(&it);
	if (bson_iter_next(&it))
		return sp_error_set(
		    err, "The field '%s' must specify one accumulator", field);
	bson_iter_init_from_data(
	    &it, spec->value.v_doc.data, spec->value.v_doc.data_len);
	bson_iter_next(&it);
	if (BSON_ITER_HOLDS_ARRAY(&it))
		return sp_error_set(
		    err, "The %s accumulator is a unary operator", name);
	if ((ops = accum_find(name)) == NULL)
		return sp_error_set(err, "Unknown group operator '%s'", name);
	a->ops = ops;
	if (ops->compile(a, bson_iter_value(&it), err)) {
		accum_release(a);
		return -1;
	}
	a->field = sp_xstrdup(field);
	return 0;
}

void
accum_release(struct accum *a)
{
	if (a == NULL)
		return;
	if (a->ops != NULL && a->ops->free_priv != NULL && a->priv != NULL)
		a->ops->free_priv(a);
	sp_expr_free(a->expr);
	free(a->field);
	a->expr = NULL;
	a->field = NULL;
	a->priv = NULL;
}
