/* expr_arith.c: arithmetic expression operators ($add ... $sqrt). */
#include <math.h>

#include "expr_int.h"

/*
 * MongoDB's result types: the narrowest of int, long, double, decimal
 * that the operands call for, int widening to long and long to double on
 * overflow (the server's AddState, MultiplyState, evaluateSubtract...).
 * Decimal operands make the result decimal; a double converted to decimal
 * keeps 15 significant digits, as Value::coerceToDecimal does.
 */

enum { W_INT, W_LONG, W_DOUBLE, W_DEC };

static int
width(bson_type_t t)
{
	switch (t) {
	case BSON_TYPE_INT32: return W_INT;
	case BSON_TYPE_INT64: return W_LONG;
	case BSON_TYPE_DOUBLE: return W_DOUBLE;
	default: return W_DEC;
	}
}

double
sp_expr_num_double(const bson_value_t *v)
{
	struct sp_decimal d;

	switch (v->value_type) {
	case BSON_TYPE_INT32: return v->value.v_int32;
	case BSON_TYPE_INT64: return (double)v->value.v_int64;
	case BSON_TYPE_DOUBLE: return v->value.v_double;
	case BSON_TYPE_DECIMAL128:
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		return sp_decimal_to_double(&d);
	default: return 0;
	}
}

void
sp_expr_num_dec(const bson_value_t *v, struct sp_decimal *d)
{
	switch (v->value_type) {
	case BSON_TYPE_INT32: sp_decimal_from_int64(d, v->value.v_int32); break;
	case BSON_TYPE_INT64: sp_decimal_from_int64(d, v->value.v_int64); break;
	case BSON_TYPE_DOUBLE:
		sp_decimal_from_double(d, v->value.v_double, 15);
		break;
	default: sp_decimal_unpack(d, &v->value.v_decimal128); break;
	}
}

/* An int or long operand as int64. */
static int64_t
num_long(const bson_value_t *v)
{
	return v->value_type == BSON_TYPE_INT32 ? v->value.v_int32
						: v->value.v_int64;
}

static long double
num_ldouble(const bson_value_t *v)
{
	struct sp_decimal d;

	if (v->value_type != BSON_TYPE_DECIMAL128)
		return sp_expr_num_double(v);
	sp_decimal_unpack(&d, &v->value.v_decimal128);
	return sp_decimal_to_ldouble(&d);
}

/* A double that llround can take and that a long can hold. */
static bool
double_fits_long(double d)
{
	return d >= -0x1p63 && d < 0x1p63;
}

/* -------------------------------------------------------------- $add */

struct addst {
	int64_t l;
	double d;
	struct sp_decimal x;
	int wide;
	bool date;
};

static void
add_value(const struct addst *s, bson_value_t *out)
{
	if (s->date) {
		expr_set_date(out, s->l);
		return;
	}
	switch (s->wide) {
	case W_INT: expr_set_int_or_long(out, s->l); break;
	case W_LONG: expr_set_int64(out, s->l); break;
	case W_DOUBLE: expr_set_double(out, s->d); break;
	default: expr_set_dec(out, &s->x); break;
	}
}

/* Once a date is in the sum, everything adds as milliseconds. */
static int
add_to_date(struct addst *s, const bson_value_t *v, struct sp_error *err)
{
	struct sp_decimal d;
	int64_t ms;

	switch (v->value_type) {
	case BSON_TYPE_INT32:
	case BSON_TYPE_INT64: ms = num_long(v); break;
	case BSON_TYPE_DOUBLE:
		if (!double_fits_long(v->value.v_double))
			return sp_error_set(err, "date overflow");
		ms = llround(v->value.v_double);
		break;
	default:
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		if (sp_decimal_to_int64(&d, SP_DECIMAL_HALF_EVEN, &ms))
			return sp_error_set(err, "date overflow");
		break;
	}
	if (__builtin_add_overflow(s->l, ms, &s->l))
		return sp_error_set(err, "date overflow");
	return 0;
}

static int
add_one(struct addst *s, const bson_value_t *v, struct sp_error *err)
{
	bson_value_t val, cur;
	struct sp_decimal d;
	int old = s->wide;
	int64_t l;

	if (v->value_type == BSON_TYPE_DATE_TIME) {
		if (s->date)
			return sp_error_set(
			    err, "only one date allowed in an $add expression");
		/* What was summed so far joins the date's milliseconds. */
		add_value(s, &cur);
		s->l = 0;
		if (add_to_date(s, &cur, err))
			return -1;
		s->date = true;
		expr_set_int64(&val, v->value.v_datetime);
	} else {
		if (width(v->value_type) > s->wide)
			s->wide = width(v->value_type);
		val = *v;
	}
	if (s->date)
		return add_to_date(s, &val, err);

	if (old != s->wide) {
		if (s->wide == W_DOUBLE)
			s->d = (double)s->l;
		else if (s->wide == W_DEC && old == W_DOUBLE)
			sp_decimal_from_double(&s->x, s->d, 15);
		else if (s->wide == W_DEC)
			sp_decimal_from_int64(&s->x, s->l);
	}
	switch (s->wide) {
	case W_INT:
	case W_LONG:
		if (__builtin_add_overflow(s->l, num_long(&val), &l)) {
			s->wide = W_DOUBLE;
			s->d = (double)s->l + sp_expr_num_double(&val);
		} else {
			s->l = l;
		}
		break;
	case W_DOUBLE: s->d += sp_expr_num_double(&val); break;
	default:
		sp_expr_num_dec(&val, &d);
		sp_decimal_add(&s->x, &s->x, &d);
		break;
	}
	return 0;
}

int
sp_expr_op_add(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	struct addst s;
	bson_value_t v;
	int i;

	memset(&s, 0, sizeof(s));
	s.wide = W_INT;
	for (i = 0; i < n->nargs; i++) {
		if (expr_eval(n->args[i], cx, &v))
			return -1;
		if (expr_nullish(&v)) {
			expr_set_null(out);
			return 0;
		}
		if (!expr_is_number(&v) && v.value_type != BSON_TYPE_DATE_TIME)
			return sp_error_set(cx->err,
			    "$add only supports numeric or date types, not %s",
			    sp_expr_type_name(v.value_type));
		if (add_one(&s, &v, cx->err))
			return -1;
	}
	add_value(&s, out);
	return 0;
}

/* --------------------------------------------------------- $subtract */

static int
subtract_from_date(const bson_value_t *l, const bson_value_t *r,
    struct ectx *cx, bson_value_t *out)
{
	int64_t ms = l->value.v_datetime, sub;
	struct sp_decimal d;

	switch (r->value_type) {
	case BSON_TYPE_DATE_TIME:
		/* Wrapping like the server's int64 difference, without UB. */
		expr_set_int64(out,
		    (int64_t)((uint64_t)ms - (uint64_t)r->value.v_datetime));
		return 0;
	case BSON_TYPE_INT32:
	case BSON_TYPE_INT64: sub = num_long(r); break;
	case BSON_TYPE_DOUBLE:
		if (!double_fits_long(r->value.v_double))
			return sp_error_set(cx->err, "date overflow");
		sub = llround(r->value.v_double);
		break;
	case BSON_TYPE_DECIMAL128:
		sp_decimal_unpack(&d, &r->value.v_decimal128);
		if (sp_decimal_to_int64(&d, SP_DECIMAL_HALF_EVEN, &sub))
			return sp_error_set(cx->err, "date overflow");
		break;
	default:
		return sp_error_set(cx->err, "can't $subtract %s from Date",
		    sp_expr_type_name(r->value_type));
	}
	if (__builtin_sub_overflow(ms, sub, &ms))
		return sp_error_set(cx->err, "date overflow");
	expr_set_date(out, ms);
	return 0;
}

int
sp_expr_op_subtract(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t l, r;
	struct sp_decimal a, b, x;
	int64_t res;
	int w;

	if (expr_eval(n->args[0], cx, &l) || expr_eval(n->args[1], cx, &r))
		return -1;
	if (expr_is_number(&l) && expr_is_number(&r)) {
		w = width(l.value_type) > width(r.value_type)
		    ? width(l.value_type)
		    : width(r.value_type);
		switch (w) {
		case W_DEC:
			sp_expr_num_dec(&l, &a);
			sp_expr_num_dec(&r, &b);
			sp_decimal_sub(&x, &a, &b);
			expr_set_dec(out, &x);
			break;
		case W_DOUBLE:
			expr_set_double(out,
			    sp_expr_num_double(&l) - sp_expr_num_double(&r));
			break;
		case W_LONG:
			if (__builtin_sub_overflow(
				num_long(&l), num_long(&r), &res))
				expr_set_double(out,
				    sp_expr_num_double(&l) -
					sp_expr_num_double(&r));
			else
				expr_set_int64(out, res);
			break;
		default:
			expr_set_int_or_long(out, num_long(&l) - num_long(&r));
			break;
		}
		return 0;
	}
	if (expr_nullish(&l) || expr_nullish(&r)) {
		expr_set_null(out);
		return 0;
	}
	if (l.value_type == BSON_TYPE_DATE_TIME)
		return subtract_from_date(&l, &r, cx, out);
	return sp_error_set(cx->err, "can't $subtract %s from %s",
	    sp_expr_type_name(r.value_type), sp_expr_type_name(l.value_type));
}

/* --------------------------------------------------------- $multiply */

int
sp_expr_op_multiply(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	double dprod = 1;
	int64_t lprod = 1;
	struct sp_decimal x, d;
	int i, wide = W_INT, old;
	bson_value_t v;

	memset(&x, 0, sizeof(x));
	for (i = 0; i < n->nargs; i++) {
		if (expr_eval(n->args[i], cx, &v))
			return -1;
		if (expr_nullish(&v)) {
			expr_set_null(out);
			return 0;
		}
		if (!expr_is_number(&v))
			return sp_error_set(cx->err,
			    "$multiply only supports numeric types, not %s",
			    sp_expr_type_name(v.value_type));
		old = wide;
		if (width(v.value_type) > wide)
			wide = width(v.value_type);
		if (wide == W_DEC) {
			if (old == W_DOUBLE)
				sp_decimal_from_double(&x, dprod, 15);
			else if (old != W_DEC)
				sp_decimal_from_int64(&x, lprod);
			sp_expr_num_dec(&v, &d);
			sp_decimal_mul(&x, &x, &d);
			continue;
		}
		/* The double product runs alongside the integer one, ready
		 * for when the integer one overflows. */
		dprod *= sp_expr_num_double(&v);
		if (wide != W_DOUBLE &&
		    __builtin_mul_overflow(lprod, num_long(&v), &lprod))
			wide = W_DOUBLE;
	}
	switch (wide) {
	case W_INT: expr_set_int_or_long(out, lprod); break;
	case W_LONG: expr_set_int64(out, lprod); break;
	case W_DOUBLE: expr_set_double(out, dprod); break;
	default: expr_set_dec(out, &x); break;
	}
	return 0;
}

/* ------------------------------------------------------ $divide, $mod */

int
sp_expr_op_divide(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t l, r;
	struct sp_decimal a, b, x;
	double den;

	if (expr_eval(n->args[0], cx, &l) || expr_eval(n->args[1], cx, &r))
		return -1;
	if (expr_is_number(&l) && expr_is_number(&r)) {
		if (l.value_type == BSON_TYPE_DECIMAL128 ||
		    r.value_type == BSON_TYPE_DECIMAL128) {
			sp_expr_num_dec(&l, &a);
			sp_expr_num_dec(&r, &b);
			if (sp_decimal_sign(&b) == 0)
				return sp_error_set(
				    cx->err, "can't $divide by zero");
			sp_decimal_div(&x, &a, &b);
			expr_set_dec(out, &x);
			return 0;
		}
		den = sp_expr_num_double(&r);
		if (den == 0)
			return sp_error_set(cx->err, "can't $divide by zero");
		expr_set_double(out, sp_expr_num_double(&l) / den);
		return 0;
	}
	if (expr_nullish(&l) || expr_nullish(&r)) {
		expr_set_null(out);
		return 0;
	}
	return sp_error_set(cx->err,
	    "$divide only supports numeric types, not %s and %s",
	    sp_expr_type_name(l.value_type), sp_expr_type_name(r.value_type));
}

int
sp_expr_op_mod(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t l, r;
	struct sp_decimal a, b, x;
	int64_t ll, rl;
	double rd;

	if (expr_eval(n->args[0], cx, &l) || expr_eval(n->args[1], cx, &r))
		return -1;
	if (expr_is_number(&l) && expr_is_number(&r)) {
		if (l.value_type == BSON_TYPE_DECIMAL128 ||
		    r.value_type == BSON_TYPE_DECIMAL128) {
			sp_expr_num_dec(&l, &a);
			sp_expr_num_dec(&r, &b);
			if (sp_decimal_sign(&b) == 0)
				return sp_error_set(
				    cx->err, "can't $mod by zero");
			sp_decimal_mod(&x, &a, &b);
			expr_set_dec(out, &x);
			return 0;
		}
		rd = sp_expr_num_double(&r);
		if (rd == 0)
			return sp_error_set(cx->err, "can't $mod by zero");
		if (l.value_type == BSON_TYPE_DOUBLE ||
		    r.value_type == BSON_TYPE_DOUBLE) {
			expr_set_double(out, fmod(sp_expr_num_double(&l), rd));
			return 0;
		}
		/* overflow::safeMod: x % -1 is 0 even for the minimum. */
		ll = num_long(&l);
		rl = num_long(&r);
		if (l.value_type == BSON_TYPE_INT64 ||
		    r.value_type == BSON_TYPE_INT64)
			expr_set_int64(out, rl == -1 ? 0 : ll % rl);
		else
			expr_set_int32(out, rl == -1 ? 0 : (int32_t)(ll % rl));
		return 0;
	}
	if (expr_nullish(&l) || expr_nullish(&r)) {
		expr_set_null(out);
		return 0;
	}
	return sp_error_set(cx->err,
	    "$mod only supports numeric types, not %s and %s",
	    sp_expr_type_name(l.value_type), sp_expr_type_name(r.value_type));
}

/* ------------------------------------------- single numeric argument */

/*
 * The argument of a one-number operator: 1 with the number in v, 0 when
 * the result is already decided (null for a null or missing argument),
 * -1 on error (ExpressionSingleNumericArg).
 */
static int
unary_arg(
    const struct enode *n, struct ectx *cx, bson_value_t *v, bson_value_t *out)
{
	if (expr_eval(n->args[0], cx, v))
		return -1;
	if (expr_nullish(v)) {
		expr_set_null(out);
		return 0;
	}
	if (!expr_is_number(v))
		return sp_error_set(cx->err,
		    "%s only supports numeric types, not %s", n->op->name,
		    sp_expr_type_name(v->value_type));
	return 1;
}

int
sp_expr_op_abs(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t v;
	struct sp_decimal d;
	int rc;

	if ((rc = unary_arg(n, cx, &v, out)) <= 0)
		return rc;
	switch (v.value_type) {
	case BSON_TYPE_DOUBLE:
		expr_set_double(out, fabs(v.value.v_double));
		break;
	case BSON_TYPE_DECIMAL128:
		sp_decimal_unpack(&d, &v.value.v_decimal128);
		d.neg = false;
		expr_set_dec(out, &d);
		break;
	case BSON_TYPE_INT64:
		if (v.value.v_int64 == INT64_MIN)
			return sp_error_set(
			    cx->err, "can't take $abs of long long min");
		expr_set_int64(out, llabs(v.value.v_int64));
		break;
	default:
		/* abs(INT32_MIN) becomes a long */
		expr_set_int_or_long(out, llabs((int64_t)v.value.v_int32));
		break;
	}
	return 0;
}

/* $ceil and $floor: doubles and decimals round, integers stay. */
static int
ceil_floor(const struct enode *n, struct ectx *cx, bson_value_t *out, bool up)
{
	bson_value_t v;
	struct sp_decimal d, r;
	int rc;

	if ((rc = unary_arg(n, cx, &v, out)) <= 0)
		return rc;
	switch (v.value_type) {
	case BSON_TYPE_DOUBLE:
		expr_set_double(
		    out, up ? ceil(v.value.v_double) : floor(v.value.v_double));
		break;
	case BSON_TYPE_DECIMAL128:
		sp_decimal_unpack(&d, &v.value.v_decimal128);
		sp_decimal_quantize(
		    &r, &d, 0, up ? SP_DECIMAL_CEIL : SP_DECIMAL_FLOOR);
		expr_set_dec(out, &r);
		break;
	default: *out = v; break;
	}
	return 0;
}

int
sp_expr_op_ceil(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	return ceil_floor(n, cx, out, true);
}

int
sp_expr_op_floor(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	return ceil_floor(n, cx, out, false);
}

int
sp_expr_op_exp(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t v;
	struct sp_decimal d;
	int rc;

	if ((rc = unary_arg(n, cx, &v, out)) <= 0)
		return rc;
	if (v.value_type == BSON_TYPE_DECIMAL128) {
		sp_decimal_from_ldouble(&d, expl(num_ldouble(&v)));
		expr_set_dec(out, &d);
	} else {
		expr_set_double(out, exp(sp_expr_num_double(&v)));
	}
	return 0;
}

/* $ln and $log10 share everything but the function and the name. */
static int
log_one(const struct enode *n, struct ectx *cx, bson_value_t *out, bool ten)
{
	bson_value_t v;
	struct sp_decimal d;
	double x;
	int rc;

	if ((rc = unary_arg(n, cx, &v, out)) <= 0)
		return rc;
	if (v.value_type == BSON_TYPE_DECIMAL128) {
		sp_decimal_unpack(&d, &v.value.v_decimal128);
		if (sp_decimal_sign(&d) == 1) {
			long double x1 = sp_decimal_to_ldouble(&d);

			sp_decimal_from_ldouble(
			    &d, ten ? log10l(x1) : logl(x1));
			expr_set_dec(out, &d);
			return 0;
		}
		/* Other decimals take the double path and its error;
		 * NaN comes out as a double NaN, as in the server. */
	}
	x = sp_expr_num_double(&v);
	if (!(x > 0 || isnan(x)))
		return sp_error_set(cx->err,
		    "%s's argument must be a positive number, but is %g",
		    n->op->name, x);
	expr_set_double(out, ten ? log10(x) : log(x));
	return 0;
}

int
sp_expr_op_ln(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	return log_one(n, cx, out, false);
}

int
sp_expr_op_log10(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	return log_one(n, cx, out, true);
}

int
sp_expr_op_sqrt(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t v;
	struct sp_decimal d;
	double x;
	int rc;

	if ((rc = unary_arg(n, cx, &v, out)) <= 0)
		return rc;
	if (v.value_type == BSON_TYPE_DECIMAL128) {
		sp_decimal_unpack(&d, &v.value.v_decimal128);
		if (sp_decimal_sign(&d) == -1)
			return sp_error_set(cx->err,
			    "$sqrt's argument must be greater than or equal to "
			    "0");
		if (d.kind != SP_DECIMAL_NAN)
			sp_decimal_from_ldouble(
			    &d, sqrtl(sp_decimal_to_ldouble(&d)));
		expr_set_dec(out, &d);
		return 0;
	}
	x = sp_expr_num_double(&v);
	if (x < 0)
		return sp_error_set(cx->err,
		    "$sqrt's argument must be greater than or equal to 0");
	expr_set_double(out, sqrt(x));
	return 0;
}

/* ------------------------------------------------------ $log, $pow */

int
sp_expr_op_log(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t a, b;
	struct sp_decimal da, db, one, r;
	double x, base;

	if (expr_eval(n->args[0], cx, &a) || expr_eval(n->args[1], cx, &b))
		return -1;
	if (expr_nullish(&a) || expr_nullish(&b)) {
		expr_set_null(out);
		return 0;
	}
	if (!expr_is_number(&a))
		return sp_error_set(cx->err,
		    "$log's argument must be numeric, not %s",
		    sp_expr_type_name(a.value_type));
	if (!expr_is_number(&b))
		return sp_error_set(cx->err,
		    "$log's base must be numeric, not %s",
		    sp_expr_type_name(b.value_type));
	if (a.value_type == BSON_TYPE_DECIMAL128 ||
	    b.value_type == BSON_TYPE_DECIMAL128) {
		sp_expr_num_dec(&a, &da);
		sp_expr_num_dec(&b, &db);
		sp_decimal_from_int64(&one, 1);
		sp_decimal_sub(&r, &db, &one);
		if (sp_decimal_sign(&da) == 1 && sp_decimal_sign(&db) == 1 &&
		    sp_decimal_sign(&r) != 0) {
			sp_decimal_from_ldouble(&r,
			    logl(sp_decimal_to_ldouble(&da)) /
				logl(sp_decimal_to_ldouble(&db)));
			expr_set_dec(out, &r);
			return 0;
		}
	}
	x = sp_expr_num_double(&a);
	base = sp_expr_num_double(&b);
	if (!(x > 0 || isnan(x)))
		return sp_error_set(cx->err,
		    "$log's argument must be a positive number, but is %g", x);
	if (!((base > 0 && base != 1) || isnan(base)))
		return sp_error_set(cx->err,
		    "$log's base must be a positive number not equal to 1, but "
		    "is %g",
		    base);
	expr_set_double(out, log(x) / log(base));
	return 0;
}

int
sp_expr_op_pow(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t b, e;
	struct sp_decimal db, de;
	double bd, ed;
	int64_t bl, el, res = 1;
	bool longs;

	if (expr_eval(n->args[0], cx, &b) || expr_eval(n->args[1], cx, &e))
		return -1;
	if (expr_nullish(&b) || expr_nullish(&e)) {
		expr_set_null(out);
		return 0;
	}
	if (!expr_is_number(&b))
		return sp_error_set(cx->err,
		    "$pow's base must be numeric, not %s",
		    sp_expr_type_name(b.value_type));
	if (!expr_is_number(&e))
		return sp_error_set(cx->err,
		    "$pow's exponent must be numeric, not %s",
		    sp_expr_type_name(e.value_type));
	if (b.value_type == BSON_TYPE_DECIMAL128 ||
	    e.value_type == BSON_TYPE_DECIMAL128) {
		sp_expr_num_dec(&b, &db);
		sp_expr_num_dec(&e, &de);
		if (sp_decimal_sign(&db) == 0 && sp_decimal_sign(&de) == -1)
			return sp_error_set(cx->err,
			    "$pow cannot take a base of 0 and a negative "
			    "exponent");
		sp_decimal_from_ldouble(&db,
		    powl(sp_decimal_to_ldouble(&db),
			sp_decimal_to_ldouble(&de)));
		expr_set_dec(out, &db);
		return 0;
	}
	bd = sp_expr_num_double(&b);
	ed = sp_expr_num_double(&e);
	if (bd == 0 && ed < 0)
		return sp_error_set(cx->err,
		    "$pow cannot take a base of 0 and a negative exponent");
	if (b.value_type == BSON_TYPE_DOUBLE ||
	    e.value_type == BSON_TYPE_DOUBLE) {
		expr_set_double(out, pow(bd, ed));
		return 0;
	}
	/* Integers: an exact long when it fits, else a double. */
	longs =
	    b.value_type == BSON_TYPE_INT64 || e.value_type == BSON_TYPE_INT64;
	bl = num_long(&b);
	el = num_long(&e);
	if (bl == 0 || bl == 1)
		res = el == 0 ? 1 : bl;
	else if (bl == -1)
		res = el % 2 == 0 ? 1 : -1;
	else if (el < 0 || el > 63) {
		expr_set_double(out, pow(bd, ed));
		return 0;
	} else {
		for (; el > 0; el--) {
			if (__builtin_mul_overflow(res, bl, &res)) {
				expr_set_double(out, pow(bd, ed));
				return 0;
			}
		}
	}
	if (longs)
		expr_set_int64(out, res);
	else
		expr_set_int_or_long(out, res);
	return 0;
}

/* ---------------------------------------------------- $round, $trunc */

/* Value::integral: a number that an int32 holds exactly. */
static bool
integral32(const bson_value_t *v)
{
	struct sp_decimal d;
	int64_t l;
	double x;

	switch (v->value_type) {
	case BSON_TYPE_INT32: return true;
	case BSON_TYPE_INT64:
		return v->value.v_int64 >= INT32_MIN &&
		    v->value.v_int64 <= INT32_MAX;
	case BSON_TYPE_DOUBLE:
		x = v->value.v_double;
		return x >= INT32_MIN && x <= INT32_MAX && x == trunc(x);
	case BSON_TYPE_DECIMAL128:
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		return sp_decimal_to_int64(&d, SP_DECIMAL_EXACT, &l) == 0 &&
		    l >= INT32_MIN && l <= INT32_MAX;
	default: return false;
	}
}

/* Value::coerceToLong for the precision argument. */
static int64_t
coerce_long(const bson_value_t *v)
{
	struct sp_decimal d;
	int64_t l = 0;
	double x;

	switch (v->value_type) {
	case BSON_TYPE_DOUBLE:
		x = v->value.v_double;
		if (isnan(x))
			return 0;
		return double_fits_long(x) ? (int64_t)x
					   : (x < 0 ? INT64_MIN : INT64_MAX);
	case BSON_TYPE_DECIMAL128:
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		(void)sp_decimal_to_int64(&d, SP_DECIMAL_TRUNC, &l);
		return l;
	default: return num_long(v);
	}
}

/* $round (aux: half to even) and $trunc (toward zero), MongoDB's
 * evaluateRoundOrTrunc: the rounding is done in decimal. */
int
sp_expr_op_round(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	const char *name = n->op->name;
	bson_value_t v, p;
	struct sp_decimal d, r;
	int64_t prec = 0, l;

	if (expr_eval(n->args[0], cx, &v))
		return -1;
	if (expr_nullish(&v)) {
		expr_set_null(out);
		return 0;
	}
	if (!expr_is_number(&v))
		return sp_error_set(cx->err,
		    "%s only supports numeric types, not %s", name,
		    sp_expr_type_name(v.value_type));
	if (n->nargs > 1) {
		if (expr_eval(n->args[1], cx, &p))
			return -1;
		if (expr_nullish(&p)) {
			expr_set_null(out);
			return 0;
		}
		if (!expr_is_number(&p))
			return sp_error_set(cx->err,
			    "can't convert from BSON type %s to long",
			    sp_expr_type_name(p.value_type));
		prec = coerce_long(&p);
		if (!integral32(&p))
			return sp_error_set(cx->err,
			    "precision argument to  %s must be a integral "
			    "value",
			    name);
		if (prec < -20 || prec > 100)
			return sp_error_set(cx->err,
			    "cannot apply %s with precision value %lld value "
			    "must be in [-20, 100]",
			    name, (long long)prec);
	}
	switch (v.value_type) {
	case BSON_TYPE_DECIMAL128:
		sp_decimal_unpack(&d, &v.value.v_decimal128);
		if (d.kind == SP_DECIMAL_INF) {
			*out = v;
			return 0;
		}
		sp_decimal_quantize(&r, &d, (int32_t)-prec, n->aux);
		expr_set_dec(out, &r);
		return 0;
	case BSON_TYPE_DOUBLE:
		sp_decimal_from_double(&d, v.value.v_double, 34);
		if (d.kind == SP_DECIMAL_INF) {
			*out = v;
			return 0;
		}
		sp_decimal_quantize(&r, &d, (int32_t)-prec, n->aux);
		expr_set_double(out, sp_decimal_to_double(&r));
		return 0;
	default:
		if (prec >= 0) {
			*out = v;
			return 0;
		}
		l = num_long(&v);
		sp_decimal_from_int64(&d, l);
		sp_decimal_quantize(&r, &d, (int32_t)-prec, n->aux);
		if (sp_decimal_to_int64(&r, SP_DECIMAL_HALF_EVEN, &l))
			return sp_error_set(cx->err,
			    "invalid conversion from Decimal128 result in %s "
			    "resulting from arguments: [%lld, %lld]",
			    name, (long long)num_long(&v), (long long)prec);
		if (v.value_type == BSON_TYPE_INT64)
			expr_set_int64(out, l);
		else
			expr_set_int_or_long(out, l);
		return 0;
	}
}
