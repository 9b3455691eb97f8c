/* expr_accum.c: the accumulators as expressions ($sum ... $percentile). */
#include <stdlib.h>
#include <string.h>

#include "group_int.h"

/*
 * MongoDB's ExpressionFromAccumulator: {$sum: <args>} outside $group
 * folds its arguments through the accumulator, or, given exactly one
 * argument that evaluates to an array, the array's elements (arrays among
 * several arguments are values like any other). $median and $percentile
 * take the accumulators' argument object and fold input's elements (or
 * input itself). Each runs the accumulator's own ops (accum.c, accum_n.c)
 * on a state in the arena, so every rule lives in one place.
 */

/* Moves what v points to into the arena: the state it came from is
 * about to be released. */
static void
arena_copy(struct sp_arena *ar, bson_value_t *v)
{
	struct expr_buf b;
	bson_value_t d;
	bson_iter_t it;

	switch (v->value_type) {
	case BSON_TYPE_UTF8:
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
	case BSON_TYPE_BINARY:
	case BSON_TYPE_REGEX:
	case BSON_TYPE_DBPOINTER:
	case BSON_TYPE_CODE:
	case BSON_TYPE_SYMBOL:
	case BSON_TYPE_CODEWSCOPE: break;
	default: return;
	}
	sp_expr_buf_init(&b, ar);
	sp_expr_buf_append(&b, "v", 1, v);
	if (sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, &d) == 0 &&
	    bson_iter_init_from_data(
		&it, d.value.v_doc.data, d.value.v_doc.data_len) &&
	    bson_iter_next(&it))
		*v = *bson_iter_value(&it);
}

/*
 * Runs a over the values: with one argument that is an array, its
 * elements (each = true), else the arguments themselves.
 */
static int
fold(const struct accum *a, const struct enode *n, bool each, struct ectx *cx,
    bson_value_t *out)
{
	const struct accum_ops *ops = a->ops;
	void *st = sp_arena_alloc(cx->arena, ops->size ? ops->size : 1);
	bson_value_t v, key;
	bson_iter_t it;
	int i, rc = 0;

	memset(st, 0, ops->size);
	expr_set_null(&key);
	if (ops->init != NULL && ops->init(a, st, &key, cx->err))
		return -1;
	for (i = 0; i < n->nargs; i++) {
		if ((rc = expr_eval(n->args[i], cx, &v)) != 0)
			break;
		if (each && n->nargs == 1 && v.value_type == BSON_TYPE_ARRAY) {
			if (bson_iter_init_from_data(&it, v.value.v_doc.data,
				v.value.v_doc.data_len))
				while (bson_iter_next(&it))
					ops->add(a, st, bson_iter_value(&it));
		} else
			ops->add(a, st, &v);
	}
	if (rc == 0) {
		ops->result(a, st, cx->arena, out);
		arena_copy(cx->arena, out);
	}
	if (ops->release != NULL)
		ops->release(a, st);
	return rc;
}

/* ------------------------------------- $sum $avg $min $max $stdDev* */

static int
compile_fold(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	const struct accum_ops *ops = accum_find(op->name);

	*out = NULL;
	if (ops == NULL)
		return sp_error_set(
		    c->err, "Unrecognized expression '%s'", op->name);
	if (sp_expr_compile_nary(c, op, arg, false, out))
		return -1;
	/* Static ops: nothing to free. */
	(*out)->priv = (void *)ops;
	return 0;
}

static int
eval_fold(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	struct accum a;

	memset(&a, 0, sizeof(a));
	a.ops = n->priv;
	return fold(&a, n, true, cx, out);
}

/* ----------------------------------------- $median, $percentile */

static void
quantile_free(void *p)
{
	accum_release(p);
	free(p);
}

/*
 * The accumulator's own compile checks p and method (one parser for
 * both forms); input is compiled here instead, in the expression's scope,
 * so that it can read $let's variables: the accumulator sees a null input.
 */
static int
compile_quantile(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	const struct accum_ops *ops = accum_find(op->name);
	bson_value_t spec = *arg, input;
	struct enode *n, *in = NULL;
	struct accum *a;
	bson_iter_t it;
	bson_t copy;
	int rc;

	*out = NULL;
	if (ops == NULL)
		return sp_error_set(
		    c->err, "Unrecognized expression '%s'", op->name);
	expr_set_missing(&input);
	bson_init(&copy);
	if (arg->value_type == BSON_TYPE_DOCUMENT &&
	    bson_iter_init_from_data(
		&it, arg->value.v_doc.data, arg->value.v_doc.data_len)) {
		while (bson_iter_next(&it)) {
			if (strcmp(bson_iter_key(&it), "input") == 0 &&
			    input.value_type == BSON_TYPE_EOD) {
				input = *bson_iter_value(&it);
				BSON_APPEND_NULL(&copy, "input");
			} else
				bson_append_value(&copy, bson_iter_key(&it),
				    (int)bson_iter_key_len(&it),
				    bson_iter_value(&it));
		}
		doc_value(&spec, bson_get_data(&copy), copy.len);
	}
	a = sp_xcalloc(1, sizeof(*a));
	a->ops = ops;
	rc = ops->compile(a, &spec, c->err);
	bson_destroy(&copy);
	if (rc == 0 && input.value_type != BSON_TYPE_EOD)
		rc = sp_expr_compile_value(c, &input, &in);
	if (rc != 0) {
		quantile_free(a);
		return -1;
	}
	sp_expr_free(a->expr);
	a->expr = NULL;
	n = sp_expr_node_new(op->eval);
	n->op = op;
	if (in == NULL) {
		expr_set_null(&input);
		in = sp_expr_const_new(&input);
	}
	sp_expr_add_arg(n, in);
	n->priv = a;
	n->priv_free = quantile_free;
	*out = n;
	return 0;
}

/* ExpressionFromAccumulatorQuantile: input's elements, or input. */
static int
eval_quantile(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	return fold(n->priv, n, true, cx, out);
}

/* Sorted by name; expr.c checks it and that no name is elsewhere. */
static const struct expr_op ops_table[] = {
    {"$avg", compile_fold, eval_fold, 0, -1, 0, 0},
    {"$max", compile_fold, eval_fold, 0, -1, 0, 0},
    {"$median", compile_quantile, eval_quantile, 1, 1, 0, 0},
    {"$min", compile_fold, eval_fold, 0, -1, 0, 0},
    {"$percentile", compile_quantile, eval_quantile, 1, 1, 0, 0},
    {"$stdDevPop", compile_fold, eval_fold, 0, -1, 0, 0},
    {"$stdDevSamp", compile_fold, eval_fold, 0, -1, 0, 0},
    {"$sum", compile_fold, eval_fold, 0, -1, 0, 0},
};

const struct expr_optable sp_expr_accum_ops = {
    ops_table, sizeof(ops_table) / sizeof(ops_table[0])};
