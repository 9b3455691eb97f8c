/* expr_cmp.c: comparison, boolean and type expression operators. */
#include "expr_int.h"

/*
 * Aggregation comparisons do not look inside arrays and do not bracket
 * types: they order any two values by sp_value_compare (MongoDB's
 * Value::compare), in which missing sorts below null and equals missing.
 */

int
sp_expr_op_compare(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t a, b;
	int c;

	if (expr_eval(n->args[0], cx, &a) || expr_eval(n->args[1], cx, &b))
		return -1;
	c = sp_value_compare(&a, &b);
	switch (n->aux) {
	case EXPR_CMP_EQ: expr_set_bool(out, c == 0); break;
	case EXPR_CMP_NE: expr_set_bool(out, c != 0); break;
	case EXPR_CMP_GT: expr_set_bool(out, c > 0); break;
	case EXPR_CMP_GTE: expr_set_bool(out, c >= 0); break;
	case EXPR_CMP_LT: expr_set_bool(out, c < 0); break;
	case EXPR_CMP_LTE: expr_set_bool(out, c <= 0); break;
	default: expr_set_int32(out, c < 0 ? -1 : c > 0); break;
	}
	return 0;
}

/* $and and $or stop at the first argument that decides. */
static int
and_or(const struct enode *n, struct ectx *cx, bson_value_t *out, bool stop)
{
	bson_value_t v;
	int i;

	for (i = 0; i < n->nargs; i++) {
		if (expr_eval(n->args[i], cx, &v))
			return -1;
		if (sp_value_truthy(&v) == stop) {
			expr_set_bool(out, stop);
			return 0;
		}
	}
	expr_set_bool(out, !stop);
	return 0;
}

int
sp_expr_op_and(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	return and_or(n, cx, out, false);
}

int
sp_expr_op_or(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	return and_or(n, cx, out, true);
}

int
sp_expr_op_not(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t v;

	if (expr_eval(n->args[0], cx, &v))
		return -1;
	expr_set_bool(out, !sp_value_truthy(&v));
	return 0;
}

int
sp_expr_op_in(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t x, arr;
	bson_iter_t it;

	if (expr_eval(n->args[0], cx, &x) || expr_eval(n->args[1], cx, &arr))
		return -1;
	if (arr.value_type != BSON_TYPE_ARRAY)
		return sp_error_set(cx->err,
		    "$in requires an array as a second argument, found: %s",
		    sp_expr_type_name(arr.value_type));
	if (bson_iter_init_from_data(
		&it, arr.value.v_doc.data, arr.value.v_doc.data_len)) {
		while (bson_iter_next(&it)) {
			if (sp_value_compare(&x, bson_iter_value(&it)) == 0) {
				expr_set_bool(out, true);
				return 0;
			}
		}
	}
	expr_set_bool(out, false);
	return 0;
}

int
sp_expr_op_size(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t arr;
	bson_iter_t it;
	int64_t count = 0;

	if (expr_eval(n->args[0], cx, &arr))
		return -1;
	if (arr.value_type != BSON_TYPE_ARRAY)
		return sp_error_set(cx->err,
		    "The argument to $size must be an array, but was of type: "
		    "%s",
		    sp_expr_type_name(arr.value_type));
	if (bson_iter_init_from_data(
		&it, arr.value.v_doc.data, arr.value.v_doc.data_len))
		while (bson_iter_next(&it))
			count++;
	expr_set_int_or_long(out, count);
	return 0;
}

int
sp_expr_op_isarray(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t v;

	if (expr_eval(n->args[0], cx, &v))
		return -1;
	expr_set_bool(out, v.value_type == BSON_TYPE_ARRAY);
	return 0;
}

int
sp_expr_op_isnumber(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t v;

	if (expr_eval(n->args[0], cx, &v))
		return -1;
	expr_set_bool(out, expr_is_number(&v));
	return 0;
}

int
sp_expr_op_type(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t v;

	if (expr_eval(n->args[0], cx, &v))
		return -1;
	expr_set_cstr(out, sp_expr_type_name(v.value_type));
	return 0;
}
