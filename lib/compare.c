/* compare.c: MongoDB's total order over BSON values (sort, $match, $group). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal_int.h"
#include "sp.h"

/*
 * The rules follow the server's BSONElement::compareElements and
 * Value::compare (which must agree with it): canonical type rank first,
 * then a per-type rule. Numbers compare by exact mathematical value;
 * int32/int64/double stay on integer and double arithmetic, and only a
 * decimal128 operand takes the slow path through exact decimal digits.
 */

int
sp_canonical_type(bson_type_t t)
{
	switch (t) {
	case BSON_TYPE_MINKEY: return -1;
	case BSON_TYPE_EOD:
	case BSON_TYPE_UNDEFINED: return 0;
	case BSON_TYPE_NULL: return 5;
	case BSON_TYPE_DOUBLE:
	case BSON_TYPE_INT32:
	case BSON_TYPE_INT64:
	case BSON_TYPE_DECIMAL128: return 10;
	case BSON_TYPE_UTF8:
	case BSON_TYPE_SYMBOL: return 15;
	case BSON_TYPE_DOCUMENT: return 20;
	case BSON_TYPE_ARRAY: return 25;
	case BSON_TYPE_BINARY: return 30;
	case BSON_TYPE_OID: return 35;
	case BSON_TYPE_BOOL: return 40;
	case BSON_TYPE_DATE_TIME: return 45;
	case BSON_TYPE_TIMESTAMP: return 47;
	case BSON_TYPE_REGEX: return 50;
	case BSON_TYPE_DBPOINTER: return 55;
	case BSON_TYPE_CODE: return 60;
	case BSON_TYPE_CODEWSCOPE: return 65;
	case BSON_TYPE_MAXKEY: return 127;
	}
	/* Not a BSON type: valid documents never hold one. */
	return 0;
}

/* ---------------------------------------------------------------- numbers */

bool
sp_value_is_number(const bson_value_t *v)
{
	switch (v->value_type) {
	case BSON_TYPE_INT32:
	case BSON_TYPE_INT64:
	case BSON_TYPE_DOUBLE:
	case BSON_TYPE_DECIMAL128: return true;
	default: return false;
	}
}

bool
sp_value_is_nan(const bson_value_t *v)
{
	if (v->value_type == BSON_TYPE_DOUBLE)
		return isnan(v->value.v_double);
	if (v->value_type == BSON_TYPE_DECIMAL128)
		return sp_decimal_is_nan(&v->value.v_decimal128);
	return false;
}

static int
cmp_i64(int64_t a, int64_t b)
{
	return (a > b) - (a < b);
}

/* NaN is below every number and equal to NaN (compareDoubles). */
static int
cmp_double(double a, double b)
{
	if (a < b)
		return -1;
	if (a > b)
		return 1;
	if (a == b)
		return 0;
	if (isnan(a))
		return isnan(b) ? 0 : -1;
	return 1;
}

/*
 * int64 against double without rounding the long through double
 * (compareLongToDouble): beyond 2^53 a long may not be representable, but
 * a double there has no fraction, so the double converts exactly instead.
 */
static int
cmp_i64_double(int64_t a, double b)
{
	if (isnan(b))
		return 1;
	if (a <= (1LL << 53) && a >= -(1LL << 53))
		return cmp_double((double)a, b);
	if (b >= 0x1p63)
		return -1;
	if (b < -0x1p63)
		return 1;
	/* |a| > 2^53 and b is integral or |b| < 2^53: truncation is safe. */
	return cmp_i64(a, (int64_t)b);
}

static int64_t
as_i64(const bson_value_t *v)
{
	return v->value_type == BSON_TYPE_INT32 ? v->value.v_int32
						: v->value.v_int64;
}

/*
 * A finite number as exact decimal digits: value = sign * d[0].d[1]... *
 * 10^exp with no leading or trailing zeros. A double needs up to 767
 * significant digits (denormals), a decimal128 34, an int64 19.
 */
enum { NUM_NAN, NUM_NEGINF, NUM_FINITE, NUM_POSINF };

struct exact {
	int cls; /* NUM_*: NaN < -inf < finite < +inf */
	int sign; /* finite only: -1, 0 (zero), 1 */
	int exp;
	int nd;
	char d[800];
};

static void
exact_trim(struct exact *x)
{
	while (x->nd > 0 && x->d[x->nd - 1] == '0')
		x->nd--;
	if (x->nd == 0)
		x->sign = 0;
}

/* Writes the digits of u (nonzero or zero) most significant first. */
static int
u64_digits(char *out, uint64_t u)
{
	char tmp[20];
	int n = 0, i;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

static void
exact_from_i64(struct exact *x, int64_t v)
{
	uint64_t u;

	x->cls = NUM_FINITE;
	if (v == 0) {
		x->sign = 0;
		x->nd = 0;
		return;
	}
	x->sign = v < 0 ? -1 : 1;
	/* Negate in unsigned arithmetic so INT64_MIN does not overflow. */
	u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	x->nd = u64_digits(x->d, u);
	x->exp = x->nd - 1;
	exact_trim(x);
}

static void
exact_from_double(struct exact *x, double v)
{
	char buf[sizeof(x->d) + 16];
	int bexp, prec, n, i, sign;

	if (isnan(v)) {
		x->cls = NUM_NAN;
		return;
	}
	if (isinf(v)) {
		x->cls = v < 0 ? NUM_NEGINF : NUM_POSINF;
		return;
	}
	x->cls = NUM_FINITE;
	if (v == 0) {
		x->sign = 0;
		x->nd = 0;
		return;
	}
	sign = v < 0 ? -1 : 1;
	v = fabs(v);
	if (v < 0x1p63 && v == floor(v)) {
		/* Integral: the int64 digits are exact and cheaper. */
		exact_from_i64(x, (int64_t)v);
		x->sign = sign;
		return;
	}
	x->sign = sign;
	/*
	 * v = m * 2^k with m < 2^53, k = bexp - 53. Its exact expansion has at
	 * most 16 + k*log10(2) digits for k >= 0, and 16 + -k*log10(5) for
	 * k < 0 (m * 5^-k / 10^-k). glibc's printf is exact at any precision,
	 * so asking for that many digits loses nothing.
	 */
	(void)frexp(v, &bexp);
	if (bexp - 53 >= 0)
		prec = 18 + (bexp - 53) * 31 / 100;
	else
		prec = 18 + (53 - bexp) * 70 / 100;
	if (prec > 766)
		prec = 766;
	n = snprintf(buf, sizeof(buf), "%.*e", prec, v);
	if (n < 0 || n >= (int)sizeof(buf)) {
		/* Cannot happen for a finite double. */
		x->nd = 1;
		x->d[0] = '1';
		x->exp = 0;
		return;
	}
	x->d[0] = buf[0];
	x->nd = 1;
	for (i = 2; buf[i] != 'e'; i++)
		x->d[x->nd++] = buf[i];
	x->exp = (int)strtol(buf + i + 1, NULL, 10);
	exact_trim(x);
}

static void
exact_from_dec(struct exact *x, const struct sp_decimal *d)
{
	const uint64_t e19 = 10000000000000000000ULL;
	uint64_t hi, lo;
	char tmp[20];
	int n, i;

	if (d->kind != SP_DECIMAL_FINITE) {
		x->cls = d->kind == SP_DECIMAL_NAN ? NUM_NAN
		    : d->neg                       ? NUM_NEGINF
						   : NUM_POSINF;
		return;
	}
	x->cls = NUM_FINITE;
	if (d->coef == 0) {
		x->sign = 0;
		x->nd = 0;
		return;
	}
	x->sign = d->neg ? -1 : 1;
	/* coef < 10^34, so it splits into two 64-bit halves base 10^19. */
	hi = (uint64_t)(d->coef / e19);
	lo = (uint64_t)(d->coef % e19);
	if (hi != 0) {
		x->nd = u64_digits(x->d, hi);
		n = u64_digits(tmp, lo);
		for (i = 0; i < 19 - n; i++)
			x->d[x->nd++] = '0';
		memcpy(x->d + x->nd, tmp, (size_t)n);
		x->nd += n;
	} else
		x->nd = u64_digits(x->d, lo);
	x->exp = d->exp + x->nd - 1;
	exact_trim(x);
}

static void
exact_from_value(struct exact *x, const bson_value_t *v)
{
	struct sp_decimal d;

	switch (v->value_type) {
	case BSON_TYPE_DOUBLE: exact_from_double(x, v->value.v_double); break;
	case BSON_TYPE_DECIMAL128:
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		exact_from_dec(x, &d);
		break;
	default: exact_from_i64(x, as_i64(v)); break;
	}
}

static int
exact_cmp(const struct exact *a, const struct exact *b)
{
	int c, n;

	if (a->cls != b->cls)
		return a->cls < b->cls ? -1 : 1;
	if (a->cls != NUM_FINITE)
		return 0;
	if (a->sign != b->sign)
		return a->sign < b->sign ? -1 : 1;
	if (a->sign == 0)
		return 0;
	if (a->exp != b->exp)
		c = a->exp < b->exp ? -1 : 1;
	else {
		n = a->nd < b->nd ? a->nd : b->nd;
		c = memcmp(a->d, b->d, (size_t)n);
		if (c == 0)
			c = (a->nd > b->nd) - (a->nd < b->nd);
		else
			c = c < 0 ? -1 : 1;
	}
	return a->sign < 0 ? -c : c;
}

/*
 * The decimal path. Kept out of line so that its two 800-byte digit
 * buffers stay out of the frames of the int and double fast paths.
 */
static __attribute__((noinline)) int
cmp_with_decimal(const bson_value_t *a, const bson_value_t *b)
{
	struct exact xa, xb;
	struct sp_decimal da, db;
	int c;

	/* Two decimals of one exponent (the usual cohort) need no digits. */
	if (a->value_type == BSON_TYPE_DECIMAL128 &&
	    b->value_type == BSON_TYPE_DECIMAL128) {
		sp_decimal_unpack(&da, &a->value.v_decimal128);
		sp_decimal_unpack(&db, &b->value.v_decimal128);
		if (sp_decimal_cmp_cohort(&da, &db, &c))
			return c;
	}
	if (a->value_type == BSON_TYPE_DECIMAL128 &&
	    b->value_type == BSON_TYPE_DOUBLE) {
		sp_decimal_unpack(&da, &a->value.v_decimal128);
		if (sp_decimal_cmp_double_quick(&da, b->value.v_double, &c))
			return c;
	} else if (a->value_type == BSON_TYPE_DOUBLE &&
	    b->value_type == BSON_TYPE_DECIMAL128) {
		sp_decimal_unpack(&db, &b->value.v_decimal128);
		if (sp_decimal_cmp_double_quick(&db, a->value.v_double, &c))
			return -c;
	}
	exact_from_value(&xa, a);
	exact_from_value(&xb, b);
	return exact_cmp(&xa, &xb);
}

static int
cmp_numbers(const bson_value_t *a, const bson_value_t *b)
{
	bson_type_t ta = a->value_type, tb = b->value_type;

	if (ta == BSON_TYPE_DECIMAL128 || tb == BSON_TYPE_DECIMAL128)
		return cmp_with_decimal(a, b);
	if (ta == BSON_TYPE_DOUBLE) {
		if (tb == BSON_TYPE_DOUBLE)
			return cmp_double(a->value.v_double, b->value.v_double);
		return -cmp_i64_double(as_i64(b), a->value.v_double);
	}
	if (tb == BSON_TYPE_DOUBLE)
		return cmp_i64_double(as_i64(a), b->value.v_double);
	return cmp_i64(as_i64(a), as_i64(b));
}

/* ------------------------------------------------------------ the rest */

/* memcmp over the common length, then the shorter first. */
static int
cmp_bytes(const void *a, size_t alen, const void *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n > 0 ? memcmp(a, b, n) : 0;

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

static const char *
str_view(const bson_value_t *v, size_t *len)
{
	if (v->value_type == BSON_TYPE_SYMBOL) {
		*len = v->value.v_symbol.len;
		return v->value.v_symbol.symbol;
	}
	*len = v->value.v_utf8.len;
	return v->value.v_utf8.str;
}

/*
 * Objects, arrays and CodeWScope scopes nest without limit in what a
 * reader may hand us, so the walk keeps its own stack of levels instead
 * of recursing: a deep document cannot overflow the C stack. The first
 * few levels live in the walk itself; deeper ones go to the heap.
 */
struct level {
	bson_iter_t a, b;
	bool oka, okb;
	bool names; /* objects and scopes compare field names, arrays not */
};

struct walk {
	struct level *lv;
	size_t n, cap;
	struct level inl[8];
};

static void
walk_push(struct walk *w, const uint8_t *adata, uint32_t alen,
    const uint8_t *bdata, uint32_t blen, bool names)
{
	struct level *l;

	if (w->n == w->cap) {
		if (w->lv == w->inl) {
			w->lv = sp_xmalloc(2 * w->cap * sizeof(*w->lv));
			memcpy(w->lv, w->inl, w->n * sizeof(*w->lv));
		} else
			w->lv = sp_xrealloc(w->lv, 2 * w->cap * sizeof(*w->lv));
		w->cap *= 2;
	}
	l = &w->lv[w->n++];
	/* A document that does not parse counts as empty. */
	l->oka = adata != NULL && bson_iter_init_from_data(&l->a, adata, alen);
	l->okb = bdata != NULL && bson_iter_init_from_data(&l->b, bdata, blen);
	l->names = names;
}

static bool
is_container(bson_type_t t)
{
	return t == BSON_TYPE_DOCUMENT || t == BSON_TYPE_ARRAY ||
	    t == BSON_TYPE_CODEWSCOPE;
}

static int cmp_scalar(const bson_value_t *a, const bson_value_t *b);

/*
 * Opens two containers of one rank (hence one type). Returns nonzero when
 * that alone decides (CodeWScope code), else pushes a level. a and b may
 * point into the walk's own iterators, which walk_push can move, so take
 * everything from them first.
 */
static int
walk_open(struct walk *w, const bson_value_t *a, const bson_value_t *b)
{
	const uint8_t *ad, *bd;
	uint32_t al, bl;
	int c;

	switch (a->value_type) {
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
		ad = a->value.v_doc.data;
		al = a->value.v_doc.data_len;
		bd = b->value.v_doc.data;
		bl = b->value.v_doc.data_len;
		walk_push(
		    w, ad, al, bd, bl, a->value_type == BSON_TYPE_DOCUMENT);
		return 0;
	default:
		/* CodeWScope: the code as a string, then the scope object. */
		c = cmp_bytes(a->value.v_codewscope.code,
		    a->value.v_codewscope.code_len, b->value.v_codewscope.code,
		    b->value.v_codewscope.code_len);
		if (c != 0)
			return c;
		ad = a->value.v_codewscope.scope_data;
		al = a->value.v_codewscope.scope_len;
		bd = b->value.v_codewscope.scope_data;
		bl = b->value.v_codewscope.scope_len;
		walk_push(w, ad, al, bd, bl, true);
		return 0;
	}
}

/*
 * Pair by pair: the canonical type of the two values, then the field name
 * (objects only: Value::compare ignores array indexes, which only matters
 * for malformed arrays), then the value; the side that runs out first is
 * less.
 */
static int
cmp_nested(const bson_value_t *a, const bson_value_t *b)
{
	struct walk w;
	struct level *top;
	const bson_value_t *va, *vb;
	bool ha, hb;
	int c, ra, rb;

	w.lv = w.inl;
	w.n = 0;
	w.cap = sizeof(w.inl) / sizeof(w.inl[0]);
	if ((c = walk_open(&w, a, b)) != 0)
		return c;
	for (;;) {
		top = &w.lv[w.n - 1];
		ha = top->oka && bson_iter_next(&top->a);
		hb = top->okb && bson_iter_next(&top->b);
		if (!ha || !hb) {
			if (ha != hb) {
				c = ha ? 1 : -1;
				break;
			}
			if (--w.n == 0) {
				c = 0;
				break;
			}
			continue;
		}
		va = bson_iter_value(&top->a);
		vb = bson_iter_value(&top->b);
		if (va->value_type != vb->value_type) {
			ra = sp_canonical_type(va->value_type);
			rb = sp_canonical_type(vb->value_type);
			if (ra != rb) {
				c = ra < rb ? -1 : 1;
				break;
			}
		}
		if (top->names &&
		    (c = strcmp(
			 bson_iter_key(&top->a), bson_iter_key(&top->b))) != 0)
			break;
		if (is_container(va->value_type))
			c = walk_open(&w, va, vb);
		else
			c = cmp_scalar(va, vb);
		if (c != 0)
			break;
	}
	if (w.lv != w.inl)
		free(w.lv);
	return c;
}

/*
 * The length the server sees: libbson hides the inner int32 length of the
 * old binary subtype 2, but the server counts (and compares) it.
 */
static uint64_t
binary_raw_len(const bson_value_t *v)
{
	uint64_t n = v->value.v_binary.data_len;

	if (v->value.v_binary.subtype == BSON_SUBTYPE_BINARY_DEPRECATED)
		n += 4;
	return n;
}

/* binData: length, then subtype (an unsigned byte), then the bytes. */
static int
cmp_binary(const bson_value_t *a, const bson_value_t *b)
{
	uint64_t alen = binary_raw_len(a), blen = binary_raw_len(b);
	int asub = (uint8_t)a->value.v_binary.subtype;
	int bsub = (uint8_t)b->value.v_binary.subtype;

	if (alen != blen)
		return alen < blen ? -1 : 1;
	if (asub != bsub)
		return asub < bsub ? -1 : 1;
	/* Same subtype and length: the inner lengths of subtype 2 agree. */
	return cmp_bytes(a->value.v_binary.data, a->value.v_binary.data_len,
	    b->value.v_binary.data, b->value.v_binary.data_len);
}

static uint64_t
timestamp_bits(const bson_value_t *v)
{
	return (uint64_t)v->value.v_timestamp.timestamp << 32 |
	    v->value.v_timestamp.increment;
}

/* Two values of one rank, neither of them a container. */
static int
cmp_scalar(const bson_value_t *a, const bson_value_t *b)
{
	const char *sa, *sb;
	size_t la, lb;
	uint64_t ta, tb;
	int c;

	switch (a->value_type) {
	case BSON_TYPE_EOD:
	case BSON_TYPE_UNDEFINED:
	case BSON_TYPE_NULL:
	case BSON_TYPE_MINKEY:
	case BSON_TYPE_MAXKEY: return 0;
	case BSON_TYPE_DOUBLE:
	case BSON_TYPE_INT32:
	case BSON_TYPE_INT64:
	case BSON_TYPE_DECIMAL128: return cmp_numbers(a, b);
	case BSON_TYPE_UTF8:
	case BSON_TYPE_SYMBOL:
		sa = str_view(a, &la);
		sb = str_view(b, &lb);
		return cmp_bytes(sa, la, sb, lb);
	case BSON_TYPE_BINARY: return cmp_binary(a, b);
	case BSON_TYPE_OID:
		return memcmp(a->value.v_oid.bytes, b->value.v_oid.bytes, 12);
	case BSON_TYPE_BOOL: return (int)a->value.v_bool - (int)b->value.v_bool;
	case BSON_TYPE_DATE_TIME:
		return cmp_i64(a->value.v_datetime, b->value.v_datetime);
	case BSON_TYPE_TIMESTAMP:
		/* One unsigned 64-bit value: seconds, then increment. */
		ta = timestamp_bits(a);
		tb = timestamp_bits(b);
		return (ta > tb) - (ta < tb);
	case BSON_TYPE_REGEX:
		sa = a->value.v_regex.regex ? a->value.v_regex.regex : "";
		sb = b->value.v_regex.regex ? b->value.v_regex.regex : "";
		if ((c = strcmp(sa, sb)) != 0)
			return c;
		sa = a->value.v_regex.options ? a->value.v_regex.options : "";
		sb = b->value.v_regex.options ? b->value.v_regex.options : "";
		return strcmp(sa, sb);
	case BSON_TYPE_DBPOINTER:
		/*
		 * The server compares the element's value size first (so the
		 * namespace length), then its bytes: namespace, then ObjectId.
		 */
		la = a->value.v_dbpointer.collection_len;
		lb = b->value.v_dbpointer.collection_len;
		if (la != lb)
			return la < lb ? -1 : 1;
		if (la > 0 &&
		    (c = memcmp(a->value.v_dbpointer.collection,
			 b->value.v_dbpointer.collection, la)) != 0)
			return c;
		return memcmp(a->value.v_dbpointer.oid.bytes,
		    b->value.v_dbpointer.oid.bytes, 12);
	case BSON_TYPE_CODE:
		return cmp_bytes(a->value.v_code.code, a->value.v_code.code_len,
		    b->value.v_code.code, b->value.v_code.code_len);
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
	case BSON_TYPE_CODEWSCOPE:
		/* Containers go through cmp_nested. */
		break;
	}
	return 0;
}

int
sp_value_compare(const bson_value_t *a, const bson_value_t *b)
{
	int ra, rb;

	if (a->value_type != b->value_type) {
		ra = sp_canonical_type(a->value_type);
		rb = sp_canonical_type(b->value_type);
		if (ra != rb)
			return ra < rb ? -1 : 1;
	}
	if (is_container(a->value_type))
		return cmp_nested(a, b);
	return cmp_scalar(a, b);
}
