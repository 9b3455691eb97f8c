/* expr_array.c: array and set expression operators ($arrayElemAt, $filter,
 * $map, $reduce, $set*, $sortArray, $zip, ...). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr_int.h"

/*
 * The rules, messages and result types follow MongoDB 8.0's
 * expression.cpp, accumulator_multi.cpp and pattern_cmp.cpp:
 * - "integral" index arguments are numbers an int32 holds exactly
 *   (Value::integral), so 2.0 and NumberDecimal("2.0") are indexes and
 *   2^31 is not;
 * - arrays are read from their BSON once per evaluation and new arrays
 *   are built in the arena; an element that evaluates to missing becomes
 *   null where MongoDB says so ($map, [..]) and is dropped where MongoDB's
 *   BSON serialisation drops it ($zip defaults);
 * - set operators use Value comparison (1, 1.0, NumberLong(1) and
 *   NumberDecimal("1") are one element) and, like the server's ValueSet,
 *   return $setUnion and $setIntersection sorted ascending, keeping the
 *   first of equal values; the manual calls that order unspecified;
 * - operators whose MongoDB optimize() does not fold ($filter, $map,
 *   $reduce, $zip, $sortArray, $firstN...) are EXPR_NOFOLD, so a bad
 *   constant input is a per-record error there as in MongoDB.
 * Error texts keep the server's quirks (missing spaces included), since
 * users match on them.
 */

/* The elements of an array value, borrowed from its BSON. */
struct elems {
	bson_value_t *v;
	uint32_t n;
};

static void
load(struct ectx *cx, const bson_value_t *arr, struct elems *e)
{
	bson_iter_t it;
	uint32_t n = 0;

	e->n = 0;
	e->v = NULL;
	if (!bson_iter_init_from_data(
		&it, arr->value.v_doc.data, arr->value.v_doc.data_len))
		return;
	while (bson_iter_next(&it))
		n++;
	e->v = sp_arena_alloc(cx->arena, sizeof(*e->v) * ((size_t)n + 1));
	bson_iter_init_from_data(
	    &it, arr->value.v_doc.data, arr->value.v_doc.data_len);
	while (e->n < n && bson_iter_next(&it))
		e->v[e->n++] = *bson_iter_value(&it);
}

static bool
is_empty_array(const bson_value_t *arr)
{
	return arr->value.v_doc.data_len <= 5;
}

static int
finish(struct expr_buf *b, bson_type_t t, struct ectx *cx, bson_value_t *out)
{
	if (sp_expr_buf_finish(b, t, out) < 0)
		return sp_error_set(cx->err, "%s", EXPR_TOO_LARGE);
	return 0;
}

/* A new array of v[0..n); missing values are left out, as BSON does. */
static int
make_array(
    struct ectx *cx, const bson_value_t *v, uint32_t n, bson_value_t *out)
{
	struct expr_buf b;
	uint32_t i;

	sp_expr_buf_init(&b, cx->arena);
	for (i = 0; i < n; i++)
		if (v[i].value_type != BSON_TYPE_EOD)
			sp_expr_buf_append(&b, NULL, 0, &v[i]);
	return finish(&b, BSON_TYPE_ARRAY, cx, out);
}

/* Value::integral(): a number that an int32 holds exactly. */
static bool
int32_exact(const bson_value_t *v, int32_t *out)
{
	struct sp_decimal d;
	int64_t l;
	double x;

	switch (v->value_type) {
	case BSON_TYPE_INT32: *out = v->value.v_int32; return true;
	case BSON_TYPE_INT64: l = v->value.v_int64; break;
	case BSON_TYPE_DOUBLE:
		x = v->value.v_double;
		if (!(x >= INT32_MIN && x <= INT32_MAX && x == trunc(x)))
			return false;
		l = (int64_t)x;
		break;
	case BSON_TYPE_DECIMAL128:
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		if (sp_decimal_to_int64(&d, SP_DECIMAL_EXACT, &l))
			return false;
		break;
	default: return false;
	}
	if (l < INT32_MIN || l > INT32_MAX)
		return false;
	*out = (int32_t)l;
	return true;
}

/* A number with an exact int64 value (AccumulatorN::validateN). */
static bool
int64_exact(const bson_value_t *v, int64_t *out)
{
	struct sp_decimal d;
	double x;

	switch (v->value_type) {
	case BSON_TYPE_INT32: *out = v->value.v_int32; return true;
	case BSON_TYPE_INT64: *out = v->value.v_int64; return true;
	case BSON_TYPE_DOUBLE:
		x = v->value.v_double;
		if (!(x >= -0x1p63 && x < 0x1p63 && x == trunc(x)))
			return false;
		*out = (int64_t)x;
		return true;
	case BSON_TYPE_DECIMAL128:
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		return sp_decimal_to_int64(&d, SP_DECIMAL_EXACT, out) == 0;
	default: return false;
	}
}

/* ------------------------------------------- values in error messages */

/* Value::toString (the server's operator<< for Value). */
static void
vstr(struct sp_buf *b, const bson_value_t *v)
{
	sp_expr_value_string(b, v, EXPR_TEXT_ANY_YEAR | EXPR_TEXT_RARE_NAMES);
}

/* BSONElement::toString with its field name, for "found $firstN: 5". */
static void
estr(struct sp_buf *b, const bson_value_t *v)
{
	bson_iter_t it;
	const char *sep;
	char num[40];
	bool arr = v->value_type == BSON_TYPE_ARRAY;

	switch (v->value_type) {
	case BSON_TYPE_DOUBLE:
		/* StringBuilder::appendDoubleNice */
		snprintf(num, sizeof(num), "%.16g", v->value.v_double);
		sp_buf_puts(b, num);
		if (strpbrk(num, ".EeNn") == NULL)
			sp_buf_puts(b, ".0");
		break;
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
		if (v->value.v_doc.data_len <= 5 ||
		    !bson_iter_init_from_data(
			&it, v->value.v_doc.data, v->value.v_doc.data_len)) {
			sp_buf_puts(b, arr ? "[]" : "{}");
			break;
		}
		sep = arr ? "[ " : "{ ";
		while (bson_iter_next(&it)) {
			sp_buf_puts(b, sep);
			if (!arr) {
				sp_buf_puts(b, bson_iter_key(&it));
				sp_buf_puts(b, ": ");
			}
			estr(b, bson_iter_value(&it));
			sep = ", ";
		}
		sp_buf_puts(b, arr ? " ]" : " }");
		break;
	default: vstr(b, v); break;
	}
}

/* Sets err to the formatted text followed by v's Value::toString. */
static int fail_with(struct sp_error *err, const bson_value_t *v,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail_with(struct sp_error *err, const bson_value_t *v, const char *fmt, ...)
{
	struct sp_buf b;
	char head[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	sp_buf_init(&b);
	sp_buf_puts(&b, head);
	vstr(&b, v);
	sp_error_set(err, "%s", sp_buf_cstr(&b));
	sp_buf_release(&b);
	return -1;
}

/* ------------------------------------------------ sorting and sets */

struct item {
	bson_value_t v;
	const bson_value_t *keys; /* $sortArray by fields: one per field */
	uint32_t idx; /* position in the input */
};

/* How items compare: the whole value (dir +1 or -1), or keys. */
struct order {
	int dir;
	int nkeys;
	const int *dirs;
};

static int
item_cmp(const struct item *a, const struct item *b, const struct order *o)
{
	int i, c;

	if (o->nkeys == 0) {
		c = sp_value_compare(&a->v, &b->v);
		return o->dir < 0 ? -c : c;
	}
	for (i = 0; i < o->nkeys; i++) {
		c = sp_value_compare(&a->keys[i], &b->keys[i]);
		if (c != 0)
			return o->dirs[i] < 0 ? -c : c;
	}
	return 0;
}

/*
 * A stable merge sort. MongoDB calls std::sort, which is not stable in
 * general but is on the short arrays (up to 16 elements) that its tests
 * cover; stable is the defensible reading for longer ones.
 */
static void
msort(struct item *a, struct item *tmp, size_t n, const struct order *o)
{
	size_t i, j, k, m;
	struct item x;

	if (n <= 8) {
		for (i = 1; i < n; i++) {
			x = a[i];
			for (j = i; j > 0 && item_cmp(&a[j - 1], &x, o) > 0;
			     j--)
				a[j] = a[j - 1];
			a[j] = x;
		}
		return;
	}
	m = n / 2;
	msort(a, tmp, m, o);
	msort(a + m, tmp, n - m, o);
	if (item_cmp(&a[m - 1], &a[m], o) <= 0)
		return;
	for (i = 0, j = m, k = 0; i < m && j < n;)
		tmp[k++] = item_cmp(&a[j], &a[i], o) < 0 ? a[j++] : a[i++];
	while (i < m)
		tmp[k++] = a[i++];
	while (j < n)
		tmp[k++] = a[j++];
	memcpy(a, tmp, sizeof(*a) * n);
}

static const struct order by_value = {1, 0, NULL};

static struct item *
items_new(struct ectx *cx, size_t n)
{
	return sp_arena_alloc(cx->arena, sizeof(struct item) * (n + 1));
}

/* Appends the elements of e to it[*n...]. */
static void
items_add(struct item *it, uint32_t *n, const struct elems *e)
{
	uint32_t i;

	for (i = 0; i < e->n; i++) {
		it[*n].v = e->v[i];
		it[*n].keys = NULL;
		it[*n].idx = *n;
		(*n)++;
	}
}

/*
 * Turns it[0..*n) into a ValueSet: sorted, distinct, the first of equal
 * values kept (std::set::insert keeps the element already there).
 */
static void
make_set(struct ectx *cx, struct item *it, uint32_t *n)
{
	uint32_t i, k;

	if (*n < 2)
		return;
	msort(it, items_new(cx, *n), *n, &by_value);
	for (i = 1, k = 1; i < *n; i++)
		if (sp_value_compare(&it[k - 1].v, &it[i].v) != 0)
			it[k++] = it[i];
	*n = k;
}

static bool
set_has(const struct item *set, uint32_t n, const bson_value_t *v)
{
	uint32_t lo = 0, hi = n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = sp_value_compare(&set[mid].v, v);
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* The set of one array's elements. */
static struct item *
array_set(struct ectx *cx, const bson_value_t *arr, uint32_t *n)
{
	struct elems e;
	struct item *it;

	load(cx, arr, &e);
	it = items_new(cx, e.n);
	*n = 0;
	items_add(it, n, &e);
	make_set(cx, it, n);
	return it;
}

static int
items_array(
    struct ectx *cx, const struct item *it, uint32_t n, bson_value_t *out)
{
	struct expr_buf b;
	uint32_t i;

	sp_expr_buf_init(&b, cx->arena);
	for (i = 0; i < n; i++)
		sp_expr_buf_append(&b, NULL, 0, &it[i].v);
	return finish(&b, BSON_TYPE_ARRAY, cx, out);
}

/* ----------------------------------------------- element access */

static int
op_all_any(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t arr;
	bson_iter_t it;
	bool all = n->aux != 0;

	if (expr_eval(n->args[0], cx, &arr))
		return -1;
	/* No null shortcut here: null is an error, as in MongoDB. */
	if (arr.value_type != BSON_TYPE_ARRAY)
		return sp_error_set(cx->err,
		    "%s's argument must be an array, but is %s", n->op->name,
		    sp_expr_type_name(arr.value_type));
	if (bson_iter_init_from_data(
		&it, arr.value.v_doc.data, arr.value.v_doc.data_len)) {
		while (bson_iter_next(&it)) {
			if (sp_value_truthy(bson_iter_value(&it)) != all) {
				expr_set_bool(out, !all);
				return 0;
			}
		}
	}
	expr_set_bool(out, all);
	return 0;
}

/* arrayElemAt() in MongoDB, shared by $arrayElemAt, $first and $last. */
static int
elem_at(const struct enode *n, struct ectx *cx, const bson_value_t *arr,
    const bson_value_t *idx, bson_value_t *out)
{
	struct elems e;
	int32_t i;

	if (expr_nullish(arr) || expr_nullish(idx)) {
		expr_set_null(out);
		return 0;
	}
	if (arr->value_type != BSON_TYPE_ARRAY)
		return sp_error_set(cx->err,
		    "%s's %s must be an array, but is %s", n->op->name,
		    n->nargs == 1 ? "argument" : "first argument",
		    sp_expr_type_name(arr->value_type));
	if (!expr_is_number(idx))
		return sp_error_set(cx->err,
		    "%s's second argument must be a numeric value, but is %s",
		    n->op->name, sp_expr_type_name(idx->value_type));
	if (!int32_exact(idx, &i))
		return sp_error_set(cx->err,
		    "%s's second argument must be representable as a 32-bit "
		    "integer: %g",
		    n->op->name, sp_expr_num_double(idx));
	load(cx, arr, &e);
	if (i < 0)
		i += (int32_t)e.n;
	/* Out of range either way: no value, like a missing field. */
	if (i < 0 || (uint32_t)i >= e.n)
		expr_set_missing(out);
	else
		*out = e.v[i];
	return 0;
}

static int
op_elem_at(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t arr, idx;

	if (expr_eval(n->args[0], cx, &arr) || expr_eval(n->args[1], cx, &idx))
		return -1;
	return elem_at(n, cx, &arr, &idx, out);
}

/* $first (aux 0) and $last (aux -1): $arrayElemAt at a fixed index. */
static int
op_first_last(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t arr, idx;

	if (expr_eval(n->args[0], cx, &arr))
		return -1;
	expr_set_int32(&idx, n->aux);
	return elem_at(n, cx, &arr, &idx, out);
}

static int
op_slice(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t arr, a2, cnt;
	struct elems e;
	int32_t x, count;
	int64_t start, end;

	if (expr_eval(n->args[0], cx, &arr) || expr_eval(n->args[1], cx, &a2))
		return -1;
	if (expr_nullish(&arr) || expr_nullish(&a2)) {
		expr_set_null(out);
		return 0;
	}
	if (arr.value_type != BSON_TYPE_ARRAY)
		return sp_error_set(cx->err,
		    "First argument to $slice must be an array, but is of "
		    "type: %s",
		    sp_expr_type_name(arr.value_type));
	if (!expr_is_number(&a2))
		return sp_error_set(cx->err,
		    "Second argument to $slice must be a numeric value, but "
		    "is of type: %s",
		    sp_expr_type_name(a2.value_type));
	if (!int32_exact(&a2, &x))
		return sp_error_set(cx->err,
		    "Second argument to $slice can't be represented as a "
		    "32-bit integer: %g",
		    sp_expr_num_double(&a2));
	load(cx, &arr, &e);
	if (n->nargs == 2) {
		/* Only a count: negative counts from the back. */
		start = 0;
		end = e.n;
		if (x >= 0)
			end = x < end ? x : end;
		else
			start = (int64_t)e.n + x > 0 ? (int64_t)e.n + x : 0;
	} else {
		if (x < 0)
			start = (int64_t)e.n + x > 0 ? (int64_t)e.n + x : 0;
		else
			start = x < (int64_t)e.n ? x : (int64_t)e.n;
		if (expr_eval(n->args[2], cx, &cnt))
			return -1;
		if (expr_nullish(&cnt)) {
			expr_set_null(out);
			return 0;
		}
		if (!expr_is_number(&cnt))
			return sp_error_set(cx->err,
			    "Third argument to $slice must be numeric, but is "
			    "of type: %s",
			    sp_expr_type_name(cnt.value_type));
		if (!int32_exact(&cnt, &count))
			return sp_error_set(cx->err,
			    "Third argument to $slice can't be represented as "
			    "a 32-bit integer: %g",
			    sp_expr_num_double(&cnt));
		if (count <= 0)
			return sp_error_set(cx->err,
			    "Third argument to $slice must be positive: %d",
			    count);
		end =
		    start + count < (int64_t)e.n ? start + count : (int64_t)e.n;
	}
	return make_array(cx, e.v + start, (uint32_t)(end - start), out);
}

static int
op_concat(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	struct expr_buf b;
	bson_value_t v;
	bson_iter_t it;
	int i;

	sp_expr_buf_init(&b, cx->arena);
	for (i = 0; i < n->nargs; i++) {
		if (expr_eval(n->args[i], cx, &v))
			return -1;
		if (expr_nullish(&v)) {
			expr_set_null(out);
			return 0;
		}
		if (v.value_type != BSON_TYPE_ARRAY)
			return sp_error_set(cx->err,
			    "$concatArrays only supports arrays, not %s",
			    sp_expr_type_name(v.value_type));
		if (bson_iter_init_from_data(
			&it, v.value.v_doc.data, v.value.v_doc.data_len))
			while (bson_iter_next(&it))
				sp_expr_buf_append(
				    &b, NULL, 0, bson_iter_value(&it));
	}
	return finish(&b, BSON_TYPE_ARRAY, cx, out);
}

static int
op_reverse(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t arr;
	struct elems e;
	struct expr_buf b;
	uint32_t i;

	if (expr_eval(n->args[0], cx, &arr))
		return -1;
	if (expr_nullish(&arr)) {
		expr_set_null(out);
		return 0;
	}
	if (arr.value_type != BSON_TYPE_ARRAY)
		return sp_error_set(cx->err,
		    "The argument to $reverseArray must be an array, but was "
		    "of type: %s",
		    sp_expr_type_name(arr.value_type));
	load(cx, &arr, &e);
	if (e.n < 2) {
		*out = arr;
		return 0;
	}
	sp_expr_buf_init(&b, cx->arena);
	for (i = e.n; i > 0; i--)
		sp_expr_buf_append(&b, NULL, 0, &e.v[i - 1]);
	return finish(&b, BSON_TYPE_ARRAY, cx, out);
}

/* $indexOfArray's optional start and end: int32, not negative. */
static int
index_arg(const struct enode *n, struct ectx *cx, int i, const char *what,
    int32_t *out)
{
	bson_value_t v;

	if (expr_eval(n->args[i], cx, &v))
		return -1;
	/* "$indexOfArrayrequires": the server's text has no space there. */
	if (!int32_exact(&v, out))
		return fail_with(cx->err, &v,
		    "%srequires an integral %s, found a value of type: %s, "
		    "with value: ",
		    n->op->name, what, sp_expr_type_name(v.value_type));
	if (*out < 0)
		return fail_with(cx->err, &v,
		    "%s requires a nonnegative %s, found: ", n->op->name, what);
	return 0;
}

static int
op_index_of(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t arr, x;
	struct elems e;
	int32_t start = 0, end, i;

	if (expr_eval(n->args[0], cx, &arr))
		return -1;
	if (expr_nullish(&arr)) {
		expr_set_null(out);
		return 0;
	}
	if (arr.value_type != BSON_TYPE_ARRAY)
		return sp_error_set(cx->err,
		    "$indexOfArray requires an array as a first argument, "
		    "found: %s",
		    sp_expr_type_name(arr.value_type));
	load(cx, &arr, &e);
	end = (int32_t)e.n;
	if (n->nargs > 2 && index_arg(n, cx, 2, "starting index", &start))
		return -1;
	if (n->nargs > 3) {
		if (index_arg(n, cx, 3, "ending index", &i))
			return -1;
		if (i < end)
			end = i;
	}
	if (expr_eval(n->args[1], cx, &x))
		return -1;
	for (i = start; i < end; i++) {
		if (sp_value_compare(&e.v[i], &x) == 0) {
			expr_set_int32(out, i);
			return 0;
		}
	}
	expr_set_int32(out, -1);
	return 0;
}

/*
 * ExpressionIndexOfArray::optimize: a constant first argument that is
 * null makes the whole expression null, and one that is not an array is
 * the spec's error, even when the other arguments vary.
 */
static int
compile_index_of(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	struct enode *n;
	bson_value_t null;
	int i;

	if (sp_expr_compile_nary(c, op, arg, true, &n))
		return -1;
	*out = n;
	for (i = 0; i < n->nargs; i++)
		if (!sp_expr_is_const(n->args[i]))
			break;
	/* All constant: folded by the caller, with the run-time message. */
	if (i == n->nargs || !sp_expr_is_const(n->args[0]))
		return 0;
	if (expr_nullish(&n->args[0]->cval)) {
		sp_expr_node_free(n);
		expr_set_null(&null);
		*out = sp_expr_const_new(&null);
		return 0;
	}
	if (n->args[0]->cval.value_type != BSON_TYPE_ARRAY) {
		sp_error_set(c->err,
		    "First operand of $indexOfArray must be an array. First "
		    "argument is of type: %s",
		    sp_expr_type_name(n->args[0]->cval.value_type));
		sp_expr_node_free(n);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int
op_range(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t sv, ev, stv;
	struct expr_buf b;
	bson_value_t iv;
	int32_t s, e, st = 1;
	int64_t cur, steps, len;

	if (expr_eval(n->args[0], cx, &sv) || expr_eval(n->args[1], cx, &ev))
		return -1;
	if (!expr_is_number(&sv))
		return sp_error_set(cx->err,
		    "$range requires a numeric starting value, found value of "
		    "type: %s",
		    sp_expr_type_name(sv.value_type));
	if (!int32_exact(&sv, &s))
		return fail_with(cx->err, &sv,
		    "$range requires a starting value that can be represented "
		    "as a 32-bit integer, found value: ");
	if (!expr_is_number(&ev))
		return sp_error_set(cx->err,
		    "$range requires a numeric ending value, found value of "
		    "type: %s",
		    sp_expr_type_name(ev.value_type));
	if (!int32_exact(&ev, &e))
		return fail_with(cx->err, &ev,
		    "$range requires an ending value that can be represented "
		    "as a 32-bit integer, found value: ");
	if (n->nargs == 3) {
		if (expr_eval(n->args[2], cx, &stv))
			return -1;
		/* No space after "type:" in the server's text. */
		if (!expr_is_number(&stv))
			return sp_error_set(cx->err,
			    "$range requires a numeric step value, found value "
			    "of type:%s",
			    sp_expr_type_name(stv.value_type));
		if (!int32_exact(&stv, &st))
			return fail_with(cx->err, &stv,
			    "$range requires a step value that can be "
			    "represented as a 32-bit integer, found value: ");
		if (st == 0)
			return sp_error_set(
			    cx->err, "$range requires a non-zero step value");
	}
	/* internalQueryMaxRangeBytes (100 MiB) over the server's estimate:
	 * a vector (24 bytes) and one 16-byte Value per element. */
	steps = ((int64_t)e - s) / st;
	len = steps >= 0 ? 1 + steps : 0;
	if (24 + len * 16 >= 100 * 1024 * 1024)
		return sp_error_set(cx->err,
		    "$range would use too much memory (%lld bytes) and cannot "
		    "spill to disk. Memory limit: %d bytes",
		    (long long)(24 + len * 16), 100 * 1024 * 1024);
	sp_expr_buf_init(&b, cx->arena);
	for (cur = s; st > 0 ? cur < e : cur > e; cur += st) {
		expr_set_int32(&iv, (int32_t)cur);
		sp_expr_buf_append(&b, NULL, 0, &iv);
	}
	return finish(&b, BSON_TYPE_ARRAY, cx, out);
}

/* ------------------------------------------- objects and arrays */

static int
op_object_to_array(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	struct expr_buf b, kv;
	bson_value_t doc, k, pair;
	bson_iter_t it;

	if (expr_eval(n->args[0], cx, &doc))
		return -1;
	if (expr_nullish(&doc)) {
		expr_set_null(out);
		return 0;
	}
	if (doc.value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(cx->err,
		    "$objectToArray requires a document input, found: %s",
		    sp_expr_type_name(doc.value_type));
	sp_expr_buf_init(&b, cx->arena);
	if (bson_iter_init_from_data(
		&it, doc.value.v_doc.data, doc.value.v_doc.data_len)) {
		while (bson_iter_next(&it)) {
			k.value_type = BSON_TYPE_UTF8;
			k.value.v_utf8.str = (char *)bson_iter_key(&it);
			k.value.v_utf8.len = bson_iter_key_len(&it);
			sp_expr_buf_init(&kv, cx->arena);
			sp_expr_buf_append(&kv, "k", 1, &k);
			sp_expr_buf_append(&kv, "v", 1, bson_iter_value(&it));
			if (finish(&kv, BSON_TYPE_DOCUMENT, cx, &pair))
				return -1;
			sp_expr_buf_append(&b, NULL, 0, &pair);
		}
	}
	return finish(&b, BSON_TYPE_ARRAY, cx, out);
}

/* One field of $arrayToObject's output. */
struct field {
	const char *key;
	uint32_t len;
	bson_value_t v;
};

/*
 * Adds key: v, or replaces the value of an earlier field of that name in
 * its place (MutableDocument's output[key] = v). The hash table has
 * 2^bits slots of field indexes + 1.
 */
static void
field_set(struct field *f, uint32_t *nf, uint32_t *tab, unsigned bits,
    const char *key, uint32_t len, const bson_value_t *v)
{
	uint32_t h = 2166136261u, mask = (1u << bits) - 1, i;

	for (i = 0; i < len; i++)
		h = (h ^ (uint8_t)key[i]) * 16777619u;
	for (i = h & mask; tab[i] != 0; i = (i + 1) & mask) {
		struct field *g = &f[tab[i] - 1];

		if (g->len == len && memcmp(g->key, key, len) == 0) {
			g->v = *v;
			return;
		}
	}
	tab[i] = ++*nf;
	f[*nf - 1].key = key;
	f[*nf - 1].len = len;
	f[*nf - 1].v = *v;
}

static int
op_array_to_object(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t arr, k, v;
	struct elems e, pair;
	struct field *f;
	struct expr_buf b;
	bson_iter_t it;
	uint32_t i, nf = 0, *tab, nkeys;
	unsigned bits = 1;
	bool arrays;

	if (expr_eval(n->args[0], cx, &arr))
		return -1;
	if (expr_nullish(&arr)) {
		expr_set_null(out);
		return 0;
	}
	if (arr.value_type != BSON_TYPE_ARRAY)
		return sp_error_set(cx->err,
		    "$arrayToObject requires an array input, found: %s",
		    sp_expr_type_name(arr.value_type));
	load(cx, &arr, &e);
	/* The first element decides the format for the whole array. */
	if (e.n > 0 && e.v[0].value_type != BSON_TYPE_ARRAY &&
	    e.v[0].value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(cx->err,
		    "Unrecognised input type format for $arrayToObject: %s",
		    sp_expr_type_name(e.v[0].value_type));
	arrays = e.n > 0 && e.v[0].value_type == BSON_TYPE_ARRAY;
	while ((1u << bits) < 2 * e.n)
		bits++;
	tab = sp_arena_alloc(cx->arena, sizeof(*tab) << bits);
	memset(tab, 0, sizeof(*tab) << bits);
	f = sp_arena_alloc(cx->arena, sizeof(*f) * ((size_t)e.n + 1));
	for (i = 0; i < e.n; i++) {
		/* The messages run words together as the server's do. */
		if (arrays) {
			if (e.v[i].value_type != BSON_TYPE_ARRAY)
				return sp_error_set(cx->err,
				    "$arrayToObject requires a consistent "
				    "input "
				    "format. Elements mustall be arrays or all "
				    "be objects. Array was detected, now "
				    "found: "
				    "%s",
				    sp_expr_type_name(e.v[i].value_type));
			load(cx, &e.v[i], &pair);
			if (pair.n != 2)
				return sp_error_set(cx->err,
				    "$arrayToObject requires an array of size "
				    "2 "
				    "arrays,found array of size: %u",
				    pair.n);
			if (pair.v[0].value_type != BSON_TYPE_UTF8)
				return sp_error_set(cx->err,
				    "$arrayToObject requires an array of "
				    "key-value pairs, where the key must be of "
				    "type string. Found key type: %s",
				    sp_expr_type_name(pair.v[0].value_type));
			k = pair.v[0];
			v = pair.v[1];
		} else {
			if (e.v[i].value_type != BSON_TYPE_DOCUMENT)
				return sp_error_set(cx->err,
				    "$arrayToObject requires a consistent "
				    "input "
				    "format. Elements mustall be arrays or all "
				    "be objects. Object was detected, now "
				    "found: %s",
				    sp_expr_type_name(e.v[i].value_type));
			nkeys = 0;
			expr_set_missing(&k);
			expr_set_missing(&v);
			if (bson_iter_init_from_data(&it,
				e.v[i].value.v_doc.data,
				e.v[i].value.v_doc.data_len)) {
				while (bson_iter_next(&it)) {
					const char *key = bson_iter_key(&it);

					nkeys++;
					if (strcmp(key, "k") == 0 &&
					    k.value_type == BSON_TYPE_EOD)
						k = *bson_iter_value(&it);
					else if (strcmp(key, "v") == 0 &&
					    v.value_type == BSON_TYPE_EOD)
						v = *bson_iter_value(&it);
				}
			}
			if (nkeys != 2)
				return sp_error_set(cx->err,
				    "$arrayToObject requires an object keys of "
				    "'k' and 'v'. Found incorrect number of "
				    "keys:%u",
				    nkeys);
			if (k.value_type == BSON_TYPE_EOD ||
			    v.value_type == BSON_TYPE_EOD)
				return fail_with(cx->err, &e.v[i],
				    "$arrayToObject requires an object with "
				    "keys 'k' and 'v'. Missing either or both "
				    "keys from: ");
			if (k.value_type != BSON_TYPE_UTF8)
				return sp_error_set(cx->err,
				    "$arrayToObject requires an object with "
				    "keys 'k' and 'v', where the value of 'k' "
				    "must be of type string. Found type: %s",
				    sp_expr_type_name(k.value_type));
		}
		if (memchr(k.value.v_utf8.str, '\0', k.value.v_utf8.len))
			return sp_error_set(cx->err,
			    "Key field cannot contain an embedded null byte");
		field_set(f, &nf, tab, bits, k.value.v_utf8.str,
		    k.value.v_utf8.len, &v);
	}
	sp_expr_buf_init(&b, cx->arena);
	for (i = 0; i < nf; i++)
		sp_expr_buf_append(&b, f[i].key, f[i].len, &f[i].v);
	return finish(&b, BSON_TYPE_DOCUMENT, cx, out);
}

/* --------------------------------------------------------- $zip */

static int
op_zip(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	int nin = n->aux >> 1, i;
	bool longest = n->aux & 1;
	struct elems *in;
	bson_value_t v, *defs;
	struct expr_buf b, row;
	uint32_t min = 0, max = 0, r, len;

	in = sp_arena_alloc(cx->arena, sizeof(*in) * (size_t)nin);
	defs = sp_arena_alloc(cx->arena, sizeof(*defs) * (size_t)nin);
	for (i = 0; i < nin; i++) {
		if (expr_eval(n->args[i], cx, &v))
			return -1;
		if (expr_nullish(&v)) {
			expr_set_null(out);
			return 0;
		}
		if (v.value_type != BSON_TYPE_ARRAY)
			return fail_with(cx->err, &v,
			    "$zip found a non-array expression in input: ");
		load(cx, &v, &in[i]);
		if (i == 0 || in[i].n < min)
			min = in[i].n;
		if (i == 0 || in[i].n > max)
			max = in[i].n;
		expr_set_null(&defs[i]);
	}
	/* The defaults are evaluated only when some input is shorter. */
	if (min != max)
		for (i = nin; i < n->nargs; i++)
			if (expr_eval(n->args[i], cx, &defs[i - nin]))
				return -1;
	len = longest ? max : min;
	sp_expr_buf_init(&b, cx->arena);
	for (r = 0; r < len; r++) {
		sp_expr_buf_init(&row, cx->arena);
		for (i = 0; i < nin; i++) {
			v = r < in[i].n ? in[i].v[r] : defs[i];
			if (v.value_type != BSON_TYPE_EOD)
				sp_expr_buf_append(&row, NULL, 0, &v);
		}
		if (finish(&row, BSON_TYPE_ARRAY, cx, &v))
			return -1;
		sp_expr_buf_append(&b, NULL, 0, &v);
	}
	return finish(&b, BSON_TYPE_ARRAY, cx, out);
}

/* {inputs: [...], useLongestLength: bool, defaults: [...]}; the node
 * holds the inputs, then the defaults; aux = ninputs * 2 + longest. */
static int
compile_zip(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	struct enode *n, *defs, *a;
	bson_iter_t it, ai;
	const char *key;
	bool longest = false;
	int nin, i;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(c->err,
		    "$zip only supports an object as an argument, found %s",
		    sp_expr_type_name(arg->value_type));
	n = sp_expr_node_new(op->eval);
	n->op = op;
	defs = sp_expr_node_new(op->eval);
	bson_iter_init_from_data(
	    &it, arg->value.v_doc.data, arg->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		key = bson_iter_key(&it);
		if (strcmp(key, "inputs") == 0 ||
		    strcmp(key, "defaults") == 0) {
			bool inputs = key[0] == 'i';

			if (!BSON_ITER_HOLDS_ARRAY(&it)) {
				sp_error_set(c->err,
				    "%s must be an array of expressions, found "
				    "%s",
				    key,
				    sp_expr_type_name(bson_iter_type(&it)));
				goto fail;
			}
			/* A repeated key adds to the list, as in MongoDB. */
			bson_iter_recurse(&it, &ai);
			while (bson_iter_next(&ai)) {
				if (sp_expr_compile_value(
					c, bson_iter_value(&ai), &a))
					goto fail;
				sp_expr_add_arg(inputs ? n : defs, a);
			}
		} else if (strcmp(key, "useLongestLength") == 0) {
			/* The server names the type of the $zip argument
			 * here, not of the value: always "object". */
			if (!BSON_ITER_HOLDS_BOOL(&it)) {
				sp_error_set(c->err,
				    "useLongestLength must be a bool, found %s",
				    sp_expr_type_name(arg->value_type));
				goto fail;
			}
			longest = bson_iter_bool(&it);
		} else {
			sp_error_set(
			    c->err, "$zip found an unknown argument: %s", key);
			goto fail;
		}
	}
	if (n->nargs == 0) {
		sp_error_set(c->err, "$zip requires at least one input array");
		goto fail;
	}
	if (!longest && defs->nargs > 0) {
		sp_error_set(c->err,
		    "cannot specify defaults unless useLongestLength is true");
		goto fail;
	}
	if (defs->nargs > 0 && defs->nargs != n->nargs) {
		sp_error_set(
		    c->err, "defaults and inputs must have the same length");
		goto fail;
	}
	nin = n->nargs;
	for (i = 0; i < defs->nargs; i++) {
		sp_expr_add_arg(n, defs->args[i]);
		defs->args[i] = NULL;
	}
	sp_expr_node_free(defs);
	n->aux = nin * 2 + (longest ? 1 : 0);
	*out = n;
	return 0;
fail:
	sp_expr_node_free(defs);
	sp_expr_node_free(n);
	return -1;
}

/* ------------------------------------------------ $filter, $map */

/*
 * Compiles input in the outer scope, then body (and limit, outer again)
 * with the variable named by "as" (default "this") bound to a new slot,
 * as MongoDB's VariablesParseState does.
 */
static int
compile_iter(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *input, const bson_value_t *as, const bson_value_t *body,
    const bson_value_t *limit, struct enode **out)
{
	struct enode *n = sp_expr_node_new(op->eval), *a;
	struct scope bind;
	const char *name = "this";
	size_t len = 4;
	int rc;

	*out = NULL;
	n->op = op;
	if (sp_expr_compile_value(c, input, &a))
		goto fail;
	sp_expr_add_arg(n, a);
	/* BSONElement::str(): a non-string "as" is the empty name. */
	if (as->value_type == BSON_TYPE_UTF8) {
		name = as->value.v_utf8.str;
		len = as->value.v_utf8.len;
	} else if (as->value_type != BSON_TYPE_EOD) {
		name = "";
		len = 0;
	}
	if (sp_expr_check_var_name(name, len, true, c->err))
		goto fail;
	bind.up = c->scope;
	bind.name = name;
	bind.len = len;
	bind.slot = n->slot = c->nslots++;
	c->scope = &bind;
	rc = sp_expr_compile_value(c, body, &a);
	c->scope = bind.up;
	if (rc)
		goto fail;
	sp_expr_add_arg(n, a);
	if (limit != NULL) {
		if (sp_expr_compile_value(c, limit, &a))
			goto fail;
		sp_expr_add_arg(n, a);
	}
	*out = n;
	return 0;
fail:
	sp_expr_node_free(n);
	return -1;
}

/* {input:, as:, cond:, limit:}; "cond" sees "as" whatever the order. */
enum { F_INPUT, F_AS, F_COND, F_LIMIT, F_NARGS };

static int
compile_filter(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	static const char *const names[] = {
	    "input", "as", "cond", "limit", NULL};
	const bson_value_t *vals[F_NARGS] = {NULL, NULL, NULL, NULL};
	bson_value_t store[F_NARGS];
	const char *bad;
	int i;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(
		    c->err, "$filter only supports an object as its argument");
	for (i = 0; i < F_NARGS; i++)
		expr_set_missing(&store[i]);
	if ((bad = sp_expr_named_args(arg, names, store, vals)) != NULL)
		return sp_error_set(
		    c->err, "Unrecognized parameter to $filter: %s", bad);
	if (vals[F_INPUT] == NULL)
		return sp_error_set(
		    c->err, "Missing 'input' parameter to $filter");
	if (vals[F_COND] == NULL)
		return sp_error_set(
		    c->err, "Missing 'cond' parameter to $filter");
	return compile_iter(c, op, &store[F_INPUT], &store[F_AS],
	    &store[F_COND], vals[F_LIMIT], out);
}

/* {input:, as:, in:}; "in" sees "as" whatever the order. */
enum { M_INPUT, M_AS, M_IN, M_NARGS };

static int
compile_map(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	static const char *const names[] = {"input", "as", "in", NULL};
	const bson_value_t *vals[M_NARGS] = {NULL, NULL, NULL};
	bson_value_t store[M_NARGS];
	const char *bad;
	int i;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(
		    c->err, "$map only supports an object as its argument");
	for (i = 0; i < M_NARGS; i++)
		expr_set_missing(&store[i]);
	if ((bad = sp_expr_named_args(arg, names, store, vals)) != NULL)
		return sp_error_set(
		    c->err, "Unrecognized parameter to $map: %s", bad);
	if (vals[M_INPUT] == NULL)
		return sp_error_set(
		    c->err, "Missing 'input' parameter to $map");
	if (vals[M_IN] == NULL)
		return sp_error_set(c->err, "Missing 'in' parameter to $map");
	return compile_iter(
	    c, op, &store[M_INPUT], &store[M_AS], &store[M_IN], NULL, out);
}

static int
op_filter(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t in, lim, c;
	struct expr_buf b;
	bson_iter_t it;
	int32_t limit = -1;

	if (expr_eval(n->args[0], cx, &in))
		return -1;
	if (expr_nullish(&in)) {
		expr_set_null(out);
		return 0;
	}
	if (in.value_type != BSON_TYPE_ARRAY)
		return sp_error_set(cx->err,
		    "input to $filter must be an array not %s",
		    sp_expr_type_name(in.value_type));
	if (is_empty_array(&in)) {
		*out = in;
		return 0;
	}
	/* A null limit means no limit. */
	if (n->nargs > 2) {
		if (expr_eval(n->args[2], cx, &lim))
			return -1;
		if (!expr_nullish(&lim)) {
			if (!int32_exact(&lim, &limit))
				return fail_with(cx->err, &lim,
				    "$filter: limit must be represented as a "
				    "32-bit integral value: ");
			if (limit <= 0)
				return fail_with(cx->err, &lim,
				    "$filter: limit must be greater than 0: ");
		}
	}
	sp_expr_buf_init(&b, cx->arena);
	if (bson_iter_init_from_data(
		&it, in.value.v_doc.data, in.value.v_doc.data_len)) {
		while (limit != 0 && bson_iter_next(&it)) {
			cx->slots[n->slot] = *bson_iter_value(&it);
			if (expr_eval(n->args[1], cx, &c))
				return -1;
			if (sp_value_truthy(&c)) {
				sp_expr_buf_append(
				    &b, NULL, 0, bson_iter_value(&it));
				if (limit > 0)
					limit--;
			}
		}
	}
	return finish(&b, BSON_TYPE_ARRAY, cx, out);
}

static int
op_map(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t in, v;
	struct expr_buf b;
	bson_iter_t it;

	if (expr_eval(n->args[0], cx, &in))
		return -1;
	if (expr_nullish(&in)) {
		expr_set_null(out);
		return 0;
	}
	if (in.value_type != BSON_TYPE_ARRAY)
		return sp_error_set(cx->err,
		    "input to $map must be an array not %s",
		    sp_expr_type_name(in.value_type));
	if (is_empty_array(&in)) {
		*out = in;
		return 0;
	}
	sp_expr_buf_init(&b, cx->arena);
	if (bson_iter_init_from_data(
		&it, in.value.v_doc.data, in.value.v_doc.data_len)) {
		while (bson_iter_next(&it)) {
			cx->slots[n->slot] = *bson_iter_value(&it);
			if (expr_eval(n->args[1], cx, &v))
				return -1;
			if (v.value_type == BSON_TYPE_EOD)
				expr_set_null(&v);
			sp_expr_buf_append(&b, NULL, 0, &v);
		}
	}
	return finish(&b, BSON_TYPE_ARRAY, cx, out);
}

/* ------------------------------------------------------- $reduce */

/* {input:, initialValue:, in:}; "in" sees $$this and $$value. The node's
 * slots are those two variables'. */
static int
compile_reduce(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	static const char *const names[3] = {"input", "initialValue", "in"};
	const struct scope *saved = c->scope;
	struct scope bind[2];
	struct enode *n, *parts[3] = {NULL, NULL, NULL};
	bson_iter_t it;
	int i, rc;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(c->err,
		    "$reduce requires an object as an argument, found: %s",
		    sp_expr_type_name(arg->value_type));
	n = sp_expr_node_new(op->eval);
	n->op = op;
	n->slots = sp_xcalloc(2, sizeof(*n->slots));
	bind[0].up = c->scope;
	bind[0].name = "this";
	bind[0].len = 4;
	bind[0].slot = n->slots[0] = c->nslots++;
	bind[1].up = &bind[0];
	bind[1].name = "value";
	bind[1].len = 5;
	bind[1].slot = n->slots[1] = c->nslots++;
	/* Parsed in the order given, as the server does. */
	bson_iter_init_from_data(
	    &it, arg->value.v_doc.data, arg->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		for (i = 0; i < 3; i++)
			if (strcmp(bson_iter_key(&it), names[i]) == 0)
				break;
		if (i == 3) {
			sp_error_set(c->err,
			    "$reduce found an unknown argument: %s",
			    bson_iter_key(&it));
			goto fail;
		}
		sp_expr_node_free(parts[i]);
		parts[i] = NULL;
		if (i == 2)
			c->scope = &bind[1];
		rc = sp_expr_compile_value(c, bson_iter_value(&it), &parts[i]);
		c->scope = saved;
		if (rc)
			goto fail;
	}
	for (i = 0; i < 3; i++) {
		if (parts[i] == NULL) {
			sp_error_set(c->err,
			    "$reduce requires '%s' to be specified", names[i]);
			goto fail;
		}
	}
	for (i = 0; i < 3; i++)
		sp_expr_add_arg(n, parts[i]);
	*out = n;
	return 0;
fail:
	for (i = 0; i < 3; i++)
		sp_expr_node_free(parts[i]);
	sp_expr_node_free(n);
	return -1;
}

static int
op_reduce(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t in, acc;
	bson_iter_t it;

	if (expr_eval(n->args[0], cx, &in))
		return -1;
	if (expr_nullish(&in)) {
		expr_set_null(out);
		return 0;
	}
	if (in.value_type != BSON_TYPE_ARRAY)
		return fail_with(cx->err, &in,
		    "$reduce requires that 'input' be an array, found: ");
	if (expr_eval(n->args[1], cx, &acc))
		return -1;
	if (bson_iter_init_from_data(
		&it, in.value.v_doc.data, in.value.v_doc.data_len)) {
		while (bson_iter_next(&it)) {
			cx->slots[n->slots[0]] = *bson_iter_value(&it);
			cx->slots[n->slots[1]] = acc;
			if (expr_eval(n->args[2], cx, &acc))
				return -1;
		}
	}
	*out = acc;
	return 0;
}

/* ------------------------------------ $firstN $lastN $maxN $minN */

enum { N_FIRST, N_LAST, N_MAX, N_MIN };

/* AccumulatorN::parseArgs: {n:, input:}, compiled in the order given. */
static int
compile_n(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	struct enode *n, *parts[2] = {NULL, NULL};
	struct sp_buf b;
	bson_iter_t it;
	int i;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT) {
		sp_buf_init(&b);
		sp_buf_printf(&b, "%s: ", op->name);
		estr(&b, arg);
		sp_error_set(c->err,
		    "specification must be an object; found %s",
		    sp_buf_cstr(&b));
		sp_buf_release(&b);
		return -1;
	}
	bson_iter_init_from_data(
	    &it, arg->value.v_doc.data, arg->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		if (strcmp(bson_iter_key(&it), "n") == 0) {
			i = 0;
		} else if (strcmp(bson_iter_key(&it), "input") == 0) {
			i = 1;
		} else {
			sp_error_set(c->err,
			    "Unknown argument for 'n' operator: %s",
			    bson_iter_key(&it));
			goto fail;
		}
		sp_expr_node_free(parts[i]);
		parts[i] = NULL;
		if (sp_expr_compile_value(c, bson_iter_value(&it), &parts[i]))
			goto fail;
	}
	if (parts[0] == NULL || parts[1] == NULL) {
		sp_error_set(c->err, "Missing value for '%s'",
		    parts[0] == NULL ? "n" : "input");
		goto fail;
	}
	n = sp_expr_node_new(op->eval);
	n->op = op;
	n->aux = op->aux;
	sp_expr_add_arg(n, parts[0]);
	sp_expr_add_arg(n, parts[1]);
	*out = n;
	return 0;
fail:
	sp_expr_node_free(parts[0]);
	sp_expr_node_free(parts[1]);
	return -1;
}

/*
 * $minN and $maxN as AccumulatorMinMaxN does them, so that which of equal
 * values (1 and 1.0) survive, and their order, match. The server keeps a
 * multiset that inserts after its equals and, once full, evicts its
 * largest (min) or smallest (max) element when a strictly better value
 * comes; among equals the evicted one is the last (min) or first (max)
 * inserted. So the victim is always the extreme by (value, position),
 * which a heap on that pair finds in log time. Nullish values are
 * skipped.
 */
static int
vi_cmp(const struct item *a, const struct item *b)
{
	int c = sp_value_compare(&a->v, &b->v);

	if (c != 0)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Heap order: the top is the victim; s = 1 puts the largest there. */
static void
heap_down(struct item *h, uint32_t m, uint32_t i, int s)
{
	uint32_t c;
	struct item t;

	for (; (c = 2 * i + 1) < m; i = c) {
		if (c + 1 < m && s * vi_cmp(&h[c + 1], &h[c]) > 0)
			c++;
		if (s * vi_cmp(&h[c], &h[i]) <= 0)
			break;
		t = h[i];
		h[i] = h[c];
		h[c] = t;
	}
}

static void
heap_up(struct item *h, uint32_t i, int s)
{
	struct item t;

	for (; i > 0 && s * vi_cmp(&h[i], &h[(i - 1) / 2]) > 0;
	     i = (i - 1) / 2) {
		t = h[i];
		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = t;
	}
}

static int
by_idx(const void *a, const void *b)
{
	uint32_t x = ((const struct item *)a)->idx;
	uint32_t y = ((const struct item *)b)->idx;

	return x < y ? -1 : x > y;
}

static int
by_idx_desc(const void *a, const void *b)
{
	return by_idx(b, a);
}

static int
min_max_n(struct ectx *cx, const struct elems *e, int64_t k, bool max,
    bson_value_t *out)
{
	static const struct order asc = {1, 0, NULL}, desc = {-1, 0, NULL};
	struct item *h = items_new(cx, e->n);
	uint32_t i, m = 0;
	int s = max ? -1 : 1;

	for (i = 0; i < e->n; i++) {
		if (expr_nullish(&e->v[i]))
			continue;
		if ((int64_t)m == k) {
			if (s * sp_value_compare(&h[0].v, &e->v[i]) <= 0)
				continue;
			h[0] = h[--m];
			heap_down(h, m, 0, s);
		}
		h[m].v = e->v[i];
		h[m].keys = NULL;
		h[m].idx = i;
		heap_up(h, m++, s);
	}
	/* Ascending for min; for max descending, later equals first (the
	 * multiset read backwards): presort by position, then stably by
	 * value. */
	qsort(h, m, sizeof(*h), max ? by_idx_desc : by_idx);
	msort(h, items_new(cx, m), m, max ? &desc : &asc);
	return items_array(cx, h, m, out);
}

static int
op_n(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t nv, in;
	struct elems e;
	int64_t k;
	uint32_t m;

	if (expr_eval(n->args[0], cx, &nv))
		return -1;
	if (!expr_is_number(&nv) || !int64_exact(&nv, &k))
		return fail_with(cx->err, &nv,
		    "Value for 'n' must be of integral type, but found ");
	if (k <= 0)
		return sp_error_set(cx->err,
		    "'n' must be greater than 0, found %lld", (long long)k);
	if (expr_eval(n->args[1], cx, &in))
		return -1;
	/* Unlike most array operators, null input is an error here. */
	if (in.value_type != BSON_TYPE_ARRAY)
		return sp_error_set(cx->err, "Input must be an array");
	load(cx, &in, &e);
	switch (n->aux) {
	case N_FIRST:
		return make_array(
		    cx, e.v, (int64_t)e.n < k ? e.n : (uint32_t)k, out);
	case N_LAST:
		m = (int64_t)e.n < k ? e.n : (uint32_t)k;
		return make_array(cx, e.v + (e.n - m), m, out);
	default: return min_max_n(cx, &e, k, n->aux == N_MAX, out);
	}
}

/* ----------------------------------------------------- $sortArray */

/*
 * bson::extractElementAtPath: the whole rest of the path as one field
 * name first, then the part before the first dot (an object or array
 * that is not empty) and the rest inside it. Arrays are not traversed:
 * "a.b" over a: [{b: 1}] finds nothing, "a.0" finds the first element.
 */
static void
path_get(const bson_value_t *doc, const char *p, size_t len, bson_value_t *out)
{
	const uint8_t *data = doc->value.v_doc.data;
	uint32_t dlen = doc->value.v_doc.data_len;
	const char *dot;
	bson_iter_t it;

	for (;;) {
		if (bson_iter_init_from_data(&it, data, dlen) &&
		    bson_iter_find_w_len(&it, p, (int)len)) {
			*out = *bson_iter_value(&it);
			return;
		}
		dot = memchr(p, '.', len);
		if (dot == NULL || !bson_iter_init_from_data(&it, data, dlen) ||
		    !bson_iter_find_w_len(&it, p, (int)(dot - p)) ||
		    !(BSON_ITER_HOLDS_DOCUMENT(&it) ||
			BSON_ITER_HOLDS_ARRAY(&it)))
			break;
		if (BSON_ITER_HOLDS_DOCUMENT(&it))
			bson_iter_document(&it, &dlen, &data);
		else
			bson_iter_array(&it, &dlen, &data);
		if (dlen <= 5)
			break;
		len -= (size_t)(dot - p) + 1;
		p = dot + 1;
	}
	expr_set_missing(out);
}

/*
 * sortBy: 1 or -1 sorts whole values (aux is the direction); a document
 * of fields is kept as n->path (one dotted name each) and n->slots (the
 * directions), aux 0. Messages are pattern_cmp::checkSortClause's.
 */
static int
parse_sort_by(struct expr_comp *c, struct enode *n, const bson_value_t *v)
{
	bson_iter_t it;
	const char *key;
	size_t len;
	double d;
	int i;

	for (i = 0; i < n->npath; i++)
		free(n->path[i].name);
	free(n->path);
	free(n->slots);
	n->path = NULL;
	n->slots = NULL;
	n->npath = 0;
	if (expr_is_number(v)) {
		d = sp_expr_num_double(v);
		if (d != 1 && d != -1)
			return sp_error_set(c->err,
			    "The $sort element value must be either 1 or -1");
		n->aux = d < 0 ? -1 : 1;
		return 0;
	}
	if (v->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(c->err,
		    "The $sort is invalid: use 1/-1 to sort the whole element, "
		    "or {field:1/-1} to sort embedded fields");
	n->aux = 0;
	bson_iter_init_from_data(
	    &it, v->value.v_doc.data, v->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		key = bson_iter_key(&it);
		len = bson_iter_key_len(&it);
		d = expr_is_number(bson_iter_value(&it))
		    ? sp_expr_num_double(bson_iter_value(&it))
		    : 0;
		if (d != 1 && d != -1)
			return sp_error_set(c->err,
			    "BadValue: The sort element value must be either 1 "
			    "or -1");
		if (len == 0)
			return sp_error_set(
			    c->err, "BadValue: The sort field cannot be empty");
		if (key[0] == '.' || key[len - 1] == '.' ||
		    strstr(key, "..") != NULL)
			return sp_error_set(c->err,
			    "BadValue: The sort field is a dotted field but "
			    "has "
			    "an empty part: %s",
			    key);
		n->path =
		    sp_xrealloc(n->path, sizeof(*n->path) * (n->npath + 1));
		n->slots =
		    sp_xrealloc(n->slots, sizeof(*n->slots) * (n->npath + 1));
		n->path[n->npath].name = sp_xstrdup(key);
		n->path[n->npath].len = (uint32_t)len;
		n->slots[n->npath] = d < 0 ? -1 : 1;
		n->npath++;
	}
	if (n->npath == 0)
		return sp_error_set(c->err,
		    "BadValue: The sort pattern is empty when it should be a "
		    "set of fields.");
	return 0;
}

/* {input:, sortBy:} */
static int
compile_sort_array(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	struct enode *n, *input = NULL;
	bson_iter_t it;
	bool have_sort = false;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(c->err,
		    "$sortArray requires an object as an argument, found: %s",
		    sp_expr_type_name(arg->value_type));
	n = sp_expr_node_new(op->eval);
	n->op = op;
	bson_iter_init_from_data(
	    &it, arg->value.v_doc.data, arg->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		if (strcmp(bson_iter_key(&it), "input") == 0) {
			sp_expr_node_free(input);
			input = NULL;
			if (sp_expr_compile_value(
				c, bson_iter_value(&it), &input))
				goto fail;
		} else if (strcmp(bson_iter_key(&it), "sortBy") == 0) {
			if (parse_sort_by(c, n, bson_iter_value(&it)))
				goto fail;
			have_sort = true;
		} else {
			sp_error_set(c->err,
			    "$sortArray found an unknown argument: %s",
			    bson_iter_key(&it));
			goto fail;
		}
	}
	if (input == NULL) {
		sp_error_set(
		    c->err, "$sortArray requires 'input' to be specified");
		goto fail;
	}
	if (!have_sort) {
		sp_error_set(
		    c->err, "$sortArray requires 'sortBy' to be specified");
		goto fail;
	}
	sp_expr_add_arg(n, input);
	*out = n;
	return 0;
fail:
	sp_expr_node_free(input);
	sp_expr_node_free(n);
	return -1;
}

/*
 * PatternValueCmp: whole values by Value comparison (arrays compare
 * element by element, not by their smallest element as the $sort stage
 * does), or, with fields, each element's values at those paths, null
 * where missing or where the element is not an object.
 */
static int
op_sort_array(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t in, *keys;
	struct elems e;
	struct item *it;
	struct order o;
	uint32_t i, j, m = 0;

	if (expr_eval(n->args[0], cx, &in))
		return -1;
	if (expr_nullish(&in)) {
		expr_set_null(out);
		return 0;
	}
	if (in.value_type != BSON_TYPE_ARRAY)
		return sp_error_set(cx->err,
		    "The input argument to $sortArray must be an array, but "
		    "was of type: %s",
		    sp_expr_type_name(in.value_type));
	load(cx, &in, &e);
	if (e.n < 2) {
		*out = in;
		return 0;
	}
	it = items_new(cx, e.n);
	items_add(it, &m, &e);
	o.dir = n->aux;
	o.nkeys = n->aux == 0 ? n->npath : 0;
	o.dirs = n->slots;
	if (o.nkeys > 0) {
		keys = sp_arena_alloc(
		    cx->arena, sizeof(*keys) * (size_t)e.n * o.nkeys);
		for (i = 0; i < e.n; i++) {
			it[i].keys = keys + (size_t)i * o.nkeys;
			for (j = 0; j < (uint32_t)o.nkeys; j++) {
				bson_value_t *k =
				    &keys[(size_t)i * o.nkeys + j];

				if (e.v[i].value_type == BSON_TYPE_DOCUMENT)
					path_get(&e.v[i], n->path[j].name,
					    n->path[j].len, k);
				else
					expr_set_missing(k);
				if (k->value_type == BSON_TYPE_EOD)
					expr_set_null(k);
			}
		}
	}
	msort(it, items_new(cx, e.n), e.n, &o);
	return items_array(cx, it, e.n, out);
}

/* ------------------------------------------------------------ sets */

static int
op_set_union(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	struct elems *e;
	struct item *it;
	bson_value_t v;
	uint32_t total = 0, m = 0;
	int i;

	e = sp_arena_alloc(cx->arena, sizeof(*e) * ((size_t)n->nargs + 1));
	for (i = 0; i < n->nargs; i++) {
		if (expr_eval(n->args[i], cx, &v))
			return -1;
		if (expr_nullish(&v)) {
			expr_set_null(out);
			return 0;
		}
		if (v.value_type != BSON_TYPE_ARRAY)
			return sp_error_set(cx->err,
			    "All operands of $setUnion must be arrays. One "
			    "argument is of type: %s",
			    sp_expr_type_name(v.value_type));
		load(cx, &v, &e[i]);
		total += e[i].n;
	}
	it = items_new(cx, total);
	for (i = 0; i < n->nargs; i++)
		items_add(it, &m, &e[i]);
	make_set(cx, it, &m);
	return items_array(cx, it, m, out);
}

static int
op_set_intersection(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	struct item *cur = NULL, *next, *t;
	bson_value_t v;
	uint32_t ncur = 0, nnext, nt, j, k;
	int i;

	for (i = 0; i < n->nargs; i++) {
		if (expr_eval(n->args[i], cx, &v))
			return -1;
		if (expr_nullish(&v)) {
			expr_set_null(out);
			return 0;
		}
		if (v.value_type != BSON_TYPE_ARRAY)
			return sp_error_set(cx->err,
			    "All operands of $setIntersection must be arrays. "
			    "One argument is of type: %s",
			    sp_expr_type_name(v.value_type));
		if (i == 0) {
			cur = array_set(cx, &v, &ncur);
			continue;
		}
		if (ncur == 0)
			continue;
		next = array_set(cx, &v, &nnext);
		/* The server keeps the smaller set's copy of equal values. */
		if (ncur > nnext) {
			t = cur;
			cur = next;
			next = t;
			nt = ncur;
			ncur = nnext;
			nnext = nt;
		}
		for (j = 0, k = 0; j < ncur; j++)
			if (set_has(next, nnext, &cur[j].v))
				cur[k++] = cur[j];
		ncur = k;
	}
	return items_array(cx, cur, ncur, out);
}

/* The elements of the first array not in the second, in their order,
 * each once. */
static int
op_set_difference(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t a, b;
	struct item *lhs, *rhs;
	struct elems e;
	uint32_t nl = 0, nr, i;
	bool *keep;

	if (expr_eval(n->args[0], cx, &a) || expr_eval(n->args[1], cx, &b))
		return -1;
	if (expr_nullish(&a) || expr_nullish(&b)) {
		expr_set_null(out);
		return 0;
	}
	if (a.value_type != BSON_TYPE_ARRAY)
		return sp_error_set(cx->err,
		    "both operands of $setDifference must be arrays. First "
		    "argument is of type: %s",
		    sp_expr_type_name(a.value_type));
	if (b.value_type != BSON_TYPE_ARRAY)
		return sp_error_set(cx->err,
		    "both operands of $setDifference must be arrays. Second "
		    "argument is of type: %s",
		    sp_expr_type_name(b.value_type));
	rhs = array_set(cx, &b, &nr);
	load(cx, &a, &e);
	lhs = items_new(cx, e.n);
	items_add(lhs, &nl, &e);
	make_set(cx, lhs, &nl);
	keep = sp_arena_alloc(cx->arena, (size_t)e.n + 1);
	memset(keep, 0, (size_t)e.n + 1);
	for (i = 0; i < nl; i++)
		if (!set_has(rhs, nr, &lhs[i].v))
			keep[lhs[i].idx] = true;
	for (i = 0, nl = 0; i < e.n; i++)
		if (keep[i])
			e.v[nl++] = e.v[i];
	return make_array(cx, e.v, nl, out);
}

static int
op_set_equals(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	struct item *first = NULL, *s;
	bson_value_t v;
	uint32_t nfirst = 0, ns, j;
	int i;

	for (i = 0; i < n->nargs; i++) {
		if (expr_eval(n->args[i], cx, &v))
			return -1;
		if (v.value_type != BSON_TYPE_ARRAY)
			return sp_error_set(cx->err,
			    "All operands of $setEquals must be arrays. %d-th "
			    "argument is of type: %s",
			    i + 1, sp_expr_type_name(v.value_type));
		s = array_set(cx, &v, &ns);
		if (i == 0) {
			first = s;
			nfirst = ns;
			continue;
		}
		/* Two sorted distinct lists: equal when pairwise equal. */
		if (ns != nfirst)
			goto differ;
		for (j = 0; j < ns; j++)
			if (sp_value_compare(&first[j].v, &s[j].v) != 0)
				goto differ;
	}
	expr_set_bool(out, true);
	return 0;
differ:
	expr_set_bool(out, false);
	return 0;
}

/* ExpressionSetEquals: at least two arguments, and constant ones must be
 * arrays (its optimize()). */
static int
compile_set_equals(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	struct enode *n;
	int i;

	if (sp_expr_compile_nary(c, op, arg, false, &n))
		return -1;
	*out = NULL;
	if (n->nargs < 2) {
		sp_error_set(c->err,
		    "$setEquals needs at least two arguments had: %d",
		    n->nargs);
		goto fail;
	}
	for (i = 0; i < n->nargs; i++) {
		if (sp_expr_is_const(n->args[i]) &&
		    n->args[i]->cval.value_type != BSON_TYPE_ARRAY) {
			sp_error_set(c->err,
			    "All operands of $setEquals must be arrays. %d-th "
			    "argument is of type: %s",
			    i + 1,
			    sp_expr_type_name(n->args[i]->cval.value_type));
			goto fail;
		}
	}
	*out = n;
	return 0;
fail:
	sp_expr_node_free(n);
	return -1;
}

static int
op_set_is_subset(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t a, b;
	struct item *rhs;
	struct elems e;
	uint32_t nr, i;

	if (expr_eval(n->args[0], cx, &a))
		return -1;
	if (a.value_type != BSON_TYPE_ARRAY)
		return sp_error_set(cx->err,
		    "both operands of $setIsSubset must be arrays. First "
		    "argument is of type: %s",
		    sp_expr_type_name(a.value_type));
	if (expr_eval(n->args[1], cx, &b))
		return -1;
	if (b.value_type != BSON_TYPE_ARRAY)
		return sp_error_set(cx->err,
		    "both operands of $setIsSubset must be arrays. Second "
		    "argument is of type: %s",
		    sp_expr_type_name(b.value_type));
	rhs = array_set(cx, &b, &nr);
	load(cx, &a, &e);
	for (i = 0; i < e.n; i++) {
		if (!set_has(rhs, nr, &e.v[i])) {
			expr_set_bool(out, false);
			return 0;
		}
	}
	expr_set_bool(out, true);
	return 0;
}

/* ExpressionSetIsSubset::optimize: a constant second argument must be an
 * array, even when the first varies. */
static int
compile_set_is_subset(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	struct enode *n;

	if (sp_expr_compile_nary(c, op, arg, true, &n))
		return -1;
	*out = n;
	if (!sp_expr_is_const(n->args[0]) && sp_expr_is_const(n->args[1]) &&
	    n->args[1]->cval.value_type != BSON_TYPE_ARRAY) {
		sp_error_set(c->err,
		    "both operands of $setIsSubset must be arrays. Second "
		    "argument is of type: %s",
		    sp_expr_type_name(n->args[1]->cval.value_type));
		sp_expr_node_free(n);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* Sorted by name (expr.c checks). */
static const struct expr_op ops[] = {
    {"$allElementsTrue", NULL, op_all_any, 1, 1, 1, 0},
    {"$anyElementTrue", NULL, op_all_any, 1, 1, 0, 0},
    {"$arrayElemAt", NULL, op_elem_at, 2, 2, 0, 0},
    {"$arrayToObject", NULL, op_array_to_object, 1, 1, 0, 0},
    {"$concatArrays", NULL, op_concat, 0, -1, 0, 0},
    {"$filter", compile_filter, op_filter, 0, 0, 0, EXPR_NOFOLD},
    {"$first", NULL, op_first_last, 1, 1, 0, 0},
    {"$firstN", compile_n, op_n, 0, 0, N_FIRST, EXPR_NOFOLD},
    {"$indexOfArray", compile_index_of, op_index_of, 2, 4, 0, 0},
    {"$last", NULL, op_first_last, 1, 1, -1, 0},
    {"$lastN", compile_n, op_n, 0, 0, N_LAST, EXPR_NOFOLD},
    {"$map", compile_map, op_map, 0, 0, 0, EXPR_NOFOLD},
    {"$maxN", compile_n, op_n, 0, 0, N_MAX, EXPR_NOFOLD},
    {"$minN", compile_n, op_n, 0, 0, N_MIN, EXPR_NOFOLD},
    {"$objectToArray", NULL, op_object_to_array, 1, 1, 0, 0},
    {"$range", NULL, op_range, 2, 3, 0, 0},
    {"$reduce", compile_reduce, op_reduce, 0, 0, 0, EXPR_NOFOLD},
    {"$reverseArray", NULL, op_reverse, 1, 1, 0, 0},
    {"$setDifference", NULL, op_set_difference, 2, 2, 0, 0},
    {"$setEquals", compile_set_equals, op_set_equals, 2, -1, 0, 0},
    {"$setIntersection", NULL, op_set_intersection, 0, -1, 0, 0},
    {"$setIsSubset", compile_set_is_subset, op_set_is_subset, 2, 2, 0, 0},
    {"$setUnion", NULL, op_set_union, 0, -1, 0, 0},
    {"$slice", NULL, op_slice, 2, 3, 0, 0},
    {"$sortArray", compile_sort_array, op_sort_array, 0, 0, 0, EXPR_NOFOLD},
    {"$zip", compile_zip, op_zip, 0, 0, 0, EXPR_NOFOLD},
};

const struct expr_optable sp_expr_array_ops = {
    ops, sizeof(ops) / sizeof(ops[0])};
