/* expr.c: aggregation expressions: compiler, operator table, evaluation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "expr_int.h"

/*
 * sp_expr_compile turns a spec into a tree of struct enode, resolving
 * operator names, field paths and variable names once; sp_expr_eval then
 * runs the tree against each document. Subtrees whose inputs are all
 * constants are evaluated at compile time and replaced by their value, as
 * MongoDB's optimize() does, so a constant spec error such as
 * {$divide: [1, 0]} is reported when the spec is compiled.
 *
 * Variables live in numbered slots: $$ROOT is slot 0, $$CURRENT slot 1 and
 * each $let variable gets its own slot at compile time, so a variable read
 * is an array index.
 */

struct sp_expr {
	struct enode *root;
	int nslots;
	/* Stage variables (sp_expr_compile_vars): slots 2.. start each
	 * evaluation holding these borrowed values. */
	int nvars;
	bson_value_t *vars;
};

/* A compile-time variable binding ($let), innermost first. */

/* Compilation recurses on the spec; BSON itself nests no deeper. */
#define MAX_DEPTH 200

static int compile_literal(struct expr_comp *, const struct expr_op *,
    const bson_value_t *, struct enode **);
static int compile_cond(struct expr_comp *, const struct expr_op *,
    const bson_value_t *, struct enode **);
static int compile_ifnull(struct expr_comp *, const struct expr_op *,
    const bson_value_t *, struct enode **);
static int compile_switch(struct expr_comp *, const struct expr_op *,
    const bson_value_t *, struct enode **);
static int compile_let(struct expr_comp *, const struct expr_op *,
    const bson_value_t *, struct enode **);

/*
 * The operator table, sorted by name for bsearch. A row is the name, an
 * optional compile function (NULL: the argument is one expression or an
 * array of them), the evaluate function, the argument count (min, max;
 * max -1 for no limit) and a per-operator parameter.
 */
static const struct expr_op core_ops[] = {
    {"$abs", NULL, sp_expr_op_abs, 1, 1, 0, 0},
    {"$add", NULL, sp_expr_op_add, 0, -1, 0, 0},
    {"$and", NULL, sp_expr_op_and, 0, -1, 0, 0},
    {"$ceil", NULL, sp_expr_op_ceil, 1, 1, 0, 0},
    {"$cmp", NULL, sp_expr_op_compare, 2, 2, EXPR_CMP_CMP, 0},
    {"$cond", compile_cond, sp_expr_op_cond, 3, 3, 0, 0},
    {"$const", compile_literal, NULL, 0, 0, 0, 0},
    {"$divide", NULL, sp_expr_op_divide, 2, 2, 0, 0},
    {"$eq", NULL, sp_expr_op_compare, 2, 2, EXPR_CMP_EQ, 0},
    {"$exp", NULL, sp_expr_op_exp, 1, 1, 0, 0},
    {"$floor", NULL, sp_expr_op_floor, 1, 1, 0, 0},
    {"$gt", NULL, sp_expr_op_compare, 2, 2, EXPR_CMP_GT, 0},
    {"$gte", NULL, sp_expr_op_compare, 2, 2, EXPR_CMP_GTE, 0},
    {"$ifNull", compile_ifnull, sp_expr_op_ifnull, 2, -1, 0, 0},
    {"$in", NULL, sp_expr_op_in, 2, 2, 0, 0},
    {"$isArray", NULL, sp_expr_op_isarray, 1, 1, 0, 0},
    {"$isNumber", NULL, sp_expr_op_isnumber, 1, 1, 0, 0},
    {"$let", compile_let, sp_expr_op_let, 0, 0, 0, 0},
    {"$literal", compile_literal, NULL, 0, 0, 0, 0},
    {"$ln", NULL, sp_expr_op_ln, 1, 1, 0, 0},
    {"$log", NULL, sp_expr_op_log, 2, 2, 0, 0},
    {"$log10", NULL, sp_expr_op_log10, 1, 1, 0, 0},
    {"$lt", NULL, sp_expr_op_compare, 2, 2, EXPR_CMP_LT, 0},
    {"$lte", NULL, sp_expr_op_compare, 2, 2, EXPR_CMP_LTE, 0},
    {"$mod", NULL, sp_expr_op_mod, 2, 2, 0, 0},
    {"$multiply", NULL, sp_expr_op_multiply, 0, -1, 0, 0},
    {"$ne", NULL, sp_expr_op_compare, 2, 2, EXPR_CMP_NE, 0},
    {"$not", NULL, sp_expr_op_not, 1, 1, 0, 0},
    {"$or", NULL, sp_expr_op_or, 0, -1, 0, 0},
    {"$pow", NULL, sp_expr_op_pow, 2, 2, 0, 0},
    {"$round", NULL, sp_expr_op_round, 1, 2, SP_DECIMAL_HALF_EVEN, 0},
    {"$size", NULL, sp_expr_op_size, 1, 1, 0, 0},
    {"$sqrt", NULL, sp_expr_op_sqrt, 1, 1, 0, 0},
    {"$subtract", NULL, sp_expr_op_subtract, 2, 2, 0, 0},
    {"$switch", compile_switch, sp_expr_op_switch, 0, 0, 0, 0},
    {"$trunc", NULL, sp_expr_op_round, 1, 2, SP_DECIMAL_TRUNC, 0},
    {"$type", NULL, sp_expr_op_type, 1, 1, 0, 0},
};

const struct expr_optable sp_expr_core_ops = {
    core_ops, sizeof(core_ops) / sizeof(core_ops[0])};

/* Every family's table; each is sorted by name and owned by its file. */
static const struct expr_optable *const tables[] = {
    &sp_expr_core_ops,
    &sp_expr_str_ops,
    &sp_expr_array_ops,
    &sp_expr_date_ops,
    &sp_expr_conv_ops,
    &sp_expr_obj_ops,
    &sp_expr_accum_ops,
};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

static int
op_cmp(const void *key, const void *row)
{
	return strcmp(key, ((const struct expr_op *)row)->name);
}

static const struct expr_op *
op_find(const char *name)
{
	const struct expr_op *op;
	size_t i;

	for (i = 0; i < NTABLES; i++) {
		op = bsearch(name, tables[i]->ops, tables[i]->n,
		    sizeof(tables[i]->ops[0]), op_cmp);
		if (op != NULL)
			return op;
	}
	return NULL;
}

/*
 * bsearch needs each table sorted, and a name must live in one table only.
 * A mistake there would make operators silently unknown, so it is checked
 * once per process, before the first compile.
 */
static int
check_tables(struct sp_error *err)
{
	static int checked; /* 0 unknown, 1 good, -1 bad */
	static char msg[sizeof(err->msg)];
	size_t i, j, k;

	if (checked == 0) {
		checked = 1;
		for (i = 0; i < NTABLES && checked > 0; i++) {
			const struct expr_optable *t = tables[i];

			for (j = 0; j < t->n && checked > 0; j++) {
				if (j > 0 &&
				    strcmp(t->ops[j - 1].name,
					t->ops[j].name) >= 0) {
					snprintf(msg, sizeof(msg),
					    "internal error: expression "
					    "operator table not sorted at "
					    "'%s'",
					    t->ops[j].name);
					checked = -1;
				}
				for (k = i + 1; k < NTABLES && checked > 0; k++)
					if (bsearch(t->ops[j].name,
						tables[k]->ops, tables[k]->n,
						sizeof(t->ops[0]), op_cmp)) {
						snprintf(msg, sizeof(msg),
						    "internal error: "
						    "expression "
						    "operator '%s' is defined "
						    "twice",
						    t->ops[j].name);
						checked = -1;
					}
			}
		}
	}
	if (checked < 0)
		return sp_error_set(err, "%s", msg);
	return 0;
}

const char *
sp_expr_type_name(bson_type_t t)
{
	switch (t) {
	case BSON_TYPE_EOD: return "missing";
	case BSON_TYPE_DOUBLE: return "double";
	case BSON_TYPE_UTF8: return "string";
	case BSON_TYPE_DOCUMENT: return "object";
	case BSON_TYPE_ARRAY: return "array";
	case BSON_TYPE_BINARY: return "binData";
	case BSON_TYPE_UNDEFINED: return "undefined";
	case BSON_TYPE_OID: return "objectId";
	case BSON_TYPE_BOOL: return "bool";
	case BSON_TYPE_DATE_TIME: return "date";
	case BSON_TYPE_NULL: return "null";
	case BSON_TYPE_REGEX: return "regex";
	case BSON_TYPE_DBPOINTER: return "dbPointer";
	case BSON_TYPE_CODE: return "javascript";
	case BSON_TYPE_SYMBOL: return "symbol";
	case BSON_TYPE_CODEWSCOPE: return "javascriptWithScope";
	case BSON_TYPE_INT32: return "int";
	case BSON_TYPE_TIMESTAMP: return "timestamp";
	case BSON_TYPE_INT64: return "long";
	case BSON_TYPE_DECIMAL128: return "decimal";
	case BSON_TYPE_MINKEY: return "minKey";
	case BSON_TYPE_MAXKEY: return "maxKey";
	}
	return "unknown";
}

bool
sp_value_truthy(const bson_value_t *v)
{
	struct sp_decimal d;

	switch (v->value_type) {
	case BSON_TYPE_EOD:
	case BSON_TYPE_NULL:
	case BSON_TYPE_UNDEFINED: return false;
	case BSON_TYPE_BOOL: return v->value.v_bool;
	case BSON_TYPE_INT32: return v->value.v_int32 != 0;
	case BSON_TYPE_INT64: return v->value.v_int64 != 0;
	case BSON_TYPE_DOUBLE:
		/* NaN != 0, so NaN is true, as in MongoDB. */
		return v->value.v_double != 0;
	case BSON_TYPE_DECIMAL128:
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		return sp_decimal_sign(&d) != 0;
	default: return true;
	}
}

/* ------------------------------------------------ BSON in the arena */

static const uint8_t empty_doc[5] = {5, 0, 0, 0, 0};

void
sp_expr_buf_init(struct expr_buf *b, struct sp_arena *a)
{
	b->arena = a;
	b->cap = 64;
	b->p = sp_arena_alloc(a, b->cap);
	b->len = 4;
	b->n = 0;
	b->overflow = false;
}

static uint8_t *
buf_room(struct expr_buf *b, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = (size_t)b->cap * 2;
		uint8_t *p;

		if (cap < b->len + n)
			cap = b->len + n;
		if (cap > INT32_MAX) {
			b->overflow = true;
			return NULL;
		}
		p = sp_arena_alloc(b->arena, cap);
		memcpy(p, b->p, b->len);
		b->p = p;
		b->cap = (uint32_t)cap;
	}
	return b->p + b->len;
}

static void
buf_put(struct expr_buf *b, const void *p, size_t n)
{
	uint8_t *q;

	if (b->overflow || (q = buf_room(b, n)) == NULL)
		return;
	memcpy(q, p, n);
	b->len += (uint32_t)n;
}

static void
buf_u32(struct expr_buf *b, uint32_t v)
{
	v = BSON_UINT32_TO_LE(v);
	buf_put(b, &v, 4);
}

static void
buf_u64(struct expr_buf *b, uint64_t v)
{
	v = BSON_UINT64_TO_LE(v);
	buf_put(b, &v, 8);
}

/* A BSON "string": int32 length (with the NUL), bytes, NUL. */
static void
buf_str(struct expr_buf *b, const char *s, uint32_t len)
{
	buf_u32(b, len + 1);
	buf_put(b, s, len);
	buf_put(b, "", 1);
}

/* n in decimal into buf (at least 11 bytes): an array element's key.
 * Every array built goes through here, so no printf. */
static size_t
index_key(char *buf, uint32_t n)
{
	char tmp[10];
	size_t i = 0, k = 0;

	do {
		tmp[i++] = (char)('0' + n % 10);
		n /= 10;
	} while (n != 0);
	while (i > 0)
		buf[k++] = tmp[--i];
	buf[k] = '\0';
	return k;
}

void
sp_expr_buf_append(
    struct expr_buf *b, const char *key, size_t keylen, const bson_value_t *v)
{
	char idx[16];
	uint8_t t = (uint8_t)v->value_type;
	double d;

	if (key == NULL) {
		keylen = index_key(idx, b->n);
		key = idx;
	}
	b->n++;
	buf_put(b, &t, 1);
	buf_put(b, key, keylen);
	buf_put(b, "", 1);
	switch (v->value_type) {
	case BSON_TYPE_DOUBLE:
		d = v->value.v_double;
		buf_put(b, &d, 8);
		break;
	case BSON_TYPE_UTF8:
		buf_str(b, v->value.v_utf8.str, v->value.v_utf8.len);
		break;
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
		buf_put(b, v->value.v_doc.data, v->value.v_doc.data_len);
		break;
	case BSON_TYPE_BINARY: {
		uint8_t st = (uint8_t)v->value.v_binary.subtype;
		uint32_t n = v->value.v_binary.data_len;

		/* The old binary subtype repeats the length inside. */
		if (st == BSON_SUBTYPE_BINARY_DEPRECATED) {
			buf_u32(b, n + 4);
			buf_put(b, &st, 1);
			buf_u32(b, n);
		} else {
			buf_u32(b, n);
			buf_put(b, &st, 1);
		}
		buf_put(b, v->value.v_binary.data, n);
		break;
	}
	case BSON_TYPE_OID: buf_put(b, v->value.v_oid.bytes, 12); break;
	case BSON_TYPE_BOOL:
		t = v->value.v_bool ? 1 : 0;
		buf_put(b, &t, 1);
		break;
	case BSON_TYPE_DATE_TIME:
		buf_u64(b, (uint64_t)v->value.v_datetime);
		break;
	case BSON_TYPE_REGEX:
		buf_put(b, v->value.v_regex.regex,
		    strlen(v->value.v_regex.regex) + 1);
		buf_put(b, v->value.v_regex.options,
		    strlen(v->value.v_regex.options) + 1);
		break;
	case BSON_TYPE_DBPOINTER:
		buf_str(b, v->value.v_dbpointer.collection,
		    v->value.v_dbpointer.collection_len);
		buf_put(b, v->value.v_dbpointer.oid.bytes, 12);
		break;
	case BSON_TYPE_CODE:
		buf_str(b, v->value.v_code.code, v->value.v_code.code_len);
		break;
	case BSON_TYPE_SYMBOL:
		buf_str(b, v->value.v_symbol.symbol, v->value.v_symbol.len);
		break;
	case BSON_TYPE_CODEWSCOPE:
		buf_u32(b,
		    4 + 4 + v->value.v_codewscope.code_len + 1 +
			v->value.v_codewscope.scope_len);
		buf_str(b, v->value.v_codewscope.code,
		    v->value.v_codewscope.code_len);
		buf_put(b, v->value.v_codewscope.scope_data,
		    v->value.v_codewscope.scope_len);
		break;
	case BSON_TYPE_INT32: buf_u32(b, (uint32_t)v->value.v_int32); break;
	case BSON_TYPE_TIMESTAMP:
		buf_u32(b, v->value.v_timestamp.increment);
		buf_u32(b, v->value.v_timestamp.timestamp);
		break;
	case BSON_TYPE_INT64: buf_u64(b, (uint64_t)v->value.v_int64); break;
	case BSON_TYPE_DECIMAL128:
		buf_u64(b, v->value.v_decimal128.low);
		buf_u64(b, v->value.v_decimal128.high);
		break;
	default:
		/* null, undefined, minKey, maxKey: no payload */
		break;
	}
}

int
sp_expr_buf_finish(struct expr_buf *b, bson_type_t t, bson_value_t *out)
{
	uint32_t len;

	buf_put(b, "", 1);
	if (b->overflow) {
		expr_set_null(out);
		return -1;
	}
	len = BSON_UINT32_TO_LE(b->len);
	memcpy(b->p, &len, 4);
	out->value_type = t;
	out->value.v_doc.data = b->p;
	out->value.v_doc.data_len = b->len;
	return 0;
}

/* --------------------------------------------------------------- nodes */

struct enode *
sp_expr_node_new(expr_eval_fn eval)
{
	struct enode *n = sp_xcalloc(1, sizeof(*n));

	n->eval = eval;
	n->slot = -1;
	return n;
}

static int
eval_const(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	*out = n->cval;
	return 0;
}

bool
sp_expr_is_const(const struct enode *n)
{
	return n->eval == eval_const;
}

void
sp_expr_node_free(struct enode *n)
{
	int i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nargs; i++)
		sp_expr_node_free(n->args[i]);
	free(n->args);
	for (i = 0; i < n->npath; i++)
		free(n->path[i].name);
	free(n->path);
	if (n->keys != NULL)
		for (i = 0; i < n->nargs; i++)
			free(n->keys[i].name);
	free(n->keys);
	free(n->slots);
	if (n->priv_free != NULL)
		n->priv_free(n->priv);
	if (sp_expr_is_const(n))
		bson_value_destroy(&n->cval);
	free(n);
}

/* A constant node holding a deep copy of v (missing stays missing). */
struct enode *
sp_expr_const_new(const bson_value_t *v)
{
	struct enode *n = sp_expr_node_new(eval_const);

	if (v->value_type == BSON_TYPE_EOD)
		expr_set_missing(&n->cval);
	else
		bson_value_copy(v, &n->cval);
	return n;
}

void
sp_expr_add_arg(struct enode *n, struct enode *arg)
{
	n->args = sp_xrealloc(n->args, sizeof(*n->args) * (n->nargs + 1));
	n->args[n->nargs++] = arg;
}

static char *
xstrndup(const char *s, size_t len)
{
	char *p = sp_xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* Renders a document for an error message (relaxed Extended JSON). */
static void
doc_string(const bson_value_t *v, char *buf, size_t size)
{
	bson_t b;
	char *s = NULL;

	if (bson_init_static(&b, v->value.v_doc.data, v->value.v_doc.data_len))
		s = bson_as_relaxed_extended_json(&b, NULL);
	snprintf(buf, size, "%s", s != NULL ? s : "{}");
	bson_free(s);
}

static int eval_object(
    const struct enode *n, struct ectx *cx, bson_value_t *out);
static int eval_array(
    const struct enode *n, struct ectx *cx, bson_value_t *out);

/*
 * Replaces n by its value when every input is a constant; MongoDB folds
 * the same subtrees in optimize(). An error here is the spec's error.
 */
static int
fold(struct expr_comp *c, struct enode *n, struct enode **out)
{
	struct sp_arena arena;
	struct ectx cx;
	bson_value_t v;
	int i, rc;

	*out = n;
	if (sp_expr_is_const(n) ||
	    (n->op != NULL && (n->op->flags & EXPR_NOFOLD)))
		return 0;
	/* Only operators, objects and arrays are folded. A field path or a
	 * variable has no arguments, so "every input is constant" would hold
	 * trivially and it would be frozen to its value in an empty document
	 * (as when a constant $cond returns its "$a" branch). */
	if (n->op == NULL && n->eval != eval_object && n->eval != eval_array)
		return 0;
	for (i = 0; i < n->nargs; i++)
		if (!sp_expr_is_const(n->args[i]))
			return 0;
	sp_arena_init(&arena);
	cx.slots = sp_arena_alloc(&arena, sizeof(*cx.slots) * c->nslots);
	for (i = 0; i < c->nslots; i++)
		expr_set_missing(&cx.slots[i]);
	cx.slots[EXPR_SLOT_ROOT].value_type = BSON_TYPE_DOCUMENT;
	cx.slots[EXPR_SLOT_ROOT].value.v_doc.data = (uint8_t *)empty_doc;
	cx.slots[EXPR_SLOT_ROOT].value.v_doc.data_len = sizeof(empty_doc);
	cx.slots[EXPR_SLOT_CURRENT] = cx.slots[EXPR_SLOT_ROOT];
	cx.arena = &arena;
	cx.err = c->err;
	rc = expr_eval(n, &cx, &v);
	if (rc == 0)
		*out = sp_expr_const_new(&v);
	sp_arena_release(&arena);
	sp_expr_node_free(n);
	if (rc != 0)
		*out = NULL;
	return rc;
}

/* --------------------------------------------------- paths, variables */

static void walk_array(const bson_value_t *arr, const struct expr_path *p,
    int np, struct ectx *cx, bson_value_t *out);

/* ExpressionFieldPath::evaluatePath: p[0..np) in a document. */
static void
walk_doc(const uint8_t *data, uint32_t len, const struct expr_path *p, int np,
    struct ectx *cx, bson_value_t *out)
{
	bson_iter_t it;

	for (;;) {
		if (!bson_iter_init_from_data(&it, data, len) ||
		    !bson_iter_find_w_len(&it, p->name, (int)p->len)) {
			expr_set_missing(out);
			return;
		}
		if (np == 1) {
			*out = *bson_iter_value(&it);
			return;
		}
		switch (bson_iter_type(&it)) {
		case BSON_TYPE_DOCUMENT:
			bson_iter_document(&it, &len, &data);
			p++;
			np--;
			break;
		case BSON_TYPE_ARRAY:
			walk_array(
			    bson_iter_value(&it), p + 1, np - 1, cx, out);
			return;
		default: expr_set_missing(out); return;
		}
	}
}

/*
 * ExpressionFieldPath::evaluatePathArray: the rest of the path in every
 * element that is a document; elements of other types (nested arrays
 * too) and missing results are skipped.
 */
static void
walk_array(const bson_value_t *arr, const struct expr_path *p, int np,
    struct ectx *cx, bson_value_t *out)
{
	struct expr_buf b;
	bson_iter_t it;
	bson_value_t v;
	const uint8_t *data;
	uint32_t len;

	sp_expr_buf_init(&b, cx->arena);
	if (bson_iter_init_from_data(
		&it, arr->value.v_doc.data, arr->value.v_doc.data_len)) {
		while (bson_iter_next(&it)) {
			if (bson_iter_type(&it) != BSON_TYPE_DOCUMENT)
				continue;
			bson_iter_document(&it, &len, &data);
			walk_doc(data, len, p, np, cx, &v);
			if (v.value_type != BSON_TYPE_EOD)
				sp_expr_buf_append(&b, NULL, 0, &v);
		}
	}
	/* Bounded by the input document, so it cannot overflow. */
	(void)sp_expr_buf_finish(&b, BSON_TYPE_ARRAY, out);
}

/* "$a.b" and "$$v.a.b": a variable, then a path through it. */
static int
eval_var(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	const bson_value_t *base = &cx->slots[n->slot];

	if (n->npath == 0)
		*out = *base;
	else if (base->value_type == BSON_TYPE_DOCUMENT)
		walk_doc(base->value.v_doc.data, base->value.v_doc.data_len,
		    n->path, n->npath, cx, out);
	else if (base->value_type == BSON_TYPE_ARRAY)
		walk_array(base, n->path, n->npath, cx, out);
	else
		expr_set_missing(out);
	return 0;
}

/* $$NOW: the wall clock when the record is evaluated (MongoDB fixes it
 * per command; a stream has no command, so it is per evaluation). */
static int
eval_now(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	struct timespec ts;

	if (n->npath > 0) {
		expr_set_missing(out);
		return 0;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	expr_set_date(out, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	return 0;
}

static const char dollar_hint[] = " Consider using $getField or $setField.";

/* FieldPath::uassertValidFieldName. */
static int
check_field_name(const char *s, size_t len, struct sp_error *err)
{
	static const char *const allowed[] = {"$id", "$ref", "$db", "$sortKey",
	    "$recordId", "$searchSortValues", "$searchScore"};
	size_t i;

	if (len == 0)
		return sp_error_set(
		    err, "FieldPath field names may not be empty strings.");
	if (s[0] == '$') {
		for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
			if (strlen(allowed[i]) == len &&
			    memcmp(allowed[i], s, len) == 0)
				break;
		if (i == sizeof(allowed) / sizeof(allowed[0]))
			return sp_error_set(err,
			    "FieldPath field names may not start with '$'.%s",
			    dollar_hint);
	}
	if (memchr(s, '\0', len) != NULL)
		return sp_error_set(
		    err, "FieldPath field names may not contain '\\0'.");
	if (memchr(s, '.', len) != NULL)
		return sp_error_set(err,
		    "FieldPath field names may not contain '.'.%s",
		    dollar_hint);
	return 0;
}

/* Splits a dotted path (FieldPath's checks) into n's path components. */
static int
set_path(struct enode *n, const char *s, size_t len, struct sp_error *err)
{
	const char *end = s + len, *dot;

	if (len == 0)
		return sp_error_set(
		    err, "FieldPath cannot be constructed with empty string");
	if (s[len - 1] == '.')
		return sp_error_set(err, "FieldPath must not end with a '.'.");
	while (s <= end) {
		dot = memchr(s, '.', (size_t)(end - s));
		if (dot == NULL)
			dot = end;
		if (check_field_name(s, (size_t)(dot - s), err))
			return -1;
		n->path =
		    sp_xrealloc(n->path, sizeof(*n->path) * (n->npath + 1));
		n->path[n->npath].name = xstrndup(s, (size_t)(dot - s));
		n->path[n->npath].len = (uint32_t)(dot - s);
		n->npath++;
		s = dot + 1;
	}
	return 0;
}

/* variableValidation::validateName for reads and for $let's writes. */
int
sp_expr_check_var_name(
    const char *s, size_t len, bool write, struct sp_error *err)
{
	size_t i;
	unsigned char ch;

	if (write && len == 7 && memcmp(s, "CURRENT", 7) == 0)
		return 0;
	if (len == 0)
		return sp_error_set(
		    err, "empty variable names are not allowed");
	ch = (unsigned char)s[0];
	if (!((ch >= 'a' && ch <= 'z') || (ch & 0x80) ||
		(!write && ch >= 'A' && ch <= 'Z')))
		return sp_error_set(err,
		    "'%.*s' starts with an invalid character for a user "
		    "variable name",
		    (int)len, s);
	for (i = 1; i < len; i++) {
		ch = (unsigned char)s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			(ch >= '0' && ch <= '9') || ch == '_' || (ch & 0x80)))
			return sp_error_set(err,
			    "'%.*s' contains an invalid character for a "
			    "variable name: '%c'",
			    (int)len, s, ch);
	}
	return 0;
}

static const struct scope *
scope_find(const struct scope *sc, const char *name, size_t len)
{
	for (; sc != NULL; sc = sc->up)
		if (sc->len == len && memcmp(sc->name, name, len) == 0)
			return sc;
	return NULL;
}

/* Compiles "$path" or "$$var[.path]". */
static int
compile_path(struct expr_comp *c, const char *s, size_t len, struct enode **out)
{
	const struct scope *sc;
	const char *body, *dot;
	struct enode *n;
	size_t blen, vlen;
	bson_value_t missing;

	*out = NULL;
	if (memchr(s, '\0', len) != NULL)
		return sp_error_set(c->err,
		    "field path must not contain embedded null characters");
	if (len < 2)
		return sp_error_set(
		    c->err, "'$' by itself is not a valid FieldPath");
	if (s[1] != '$') {
		sc = scope_find(c->scope, "CURRENT", 7);
		n = sp_expr_node_new(eval_var);
		n->slot = sc != NULL ? sc->slot : EXPR_SLOT_CURRENT;
		if (set_path(n, s + 1, len - 1, c->err)) {
			sp_expr_node_free(n);
			return -1;
		}
		*out = n;
		return 0;
	}
	body = s + 2;
	blen = len - 2;
	dot = memchr(body, '.', blen);
	vlen = dot != NULL ? (size_t)(dot - body) : blen;
	if (sp_expr_check_var_name(body, vlen, false, c->err))
		return -1;
	if ((sc = scope_find(c->scope, body, vlen)) != NULL) {
		n = sp_expr_node_new(eval_var);
		n->slot = sc->slot;
	} else if (vlen == 4 && memcmp(body, "ROOT", 4) == 0) {
		n = sp_expr_node_new(eval_var);
		n->slot = EXPR_SLOT_ROOT;
	} else if (vlen == 7 && memcmp(body, "CURRENT", 7) == 0) {
		n = sp_expr_node_new(eval_var);
		n->slot = EXPR_SLOT_CURRENT;
	} else if (vlen == 6 && memcmp(body, "REMOVE", 6) == 0) {
		expr_set_missing(&missing);
		n = sp_expr_const_new(&missing);
	} else if (vlen == 3 && memcmp(body, "NOW", 3) == 0) {
		n = sp_expr_node_new(eval_now);
	} else {
		return sp_error_set(
		    c->err, "Use of undefined variable: %.*s", (int)vlen, body);
	}
	/* The whole "var.a.b" is one FieldPath; the node keeps "a.b". */
	if (dot != NULL) {
		struct enode *pn =
		    sp_expr_is_const(n) ? sp_expr_node_new(eval_var) : n;
		int rc = 0;

		if (body[blen - 1] == '.')
			rc = sp_error_set(
			    c->err, "FieldPath must not end with a '.'.");
		else
			rc = set_path(pn, dot + 1, blen - vlen - 1, c->err);
		if (pn != n)
			sp_expr_node_free(pn);
		if (rc != 0) {
			sp_expr_node_free(n);
			return -1;
		}
	}
	*out = n;
	return 0;
}

/* --------------------------------------------- objects, arrays, literals */

static int
eval_object(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	struct expr_buf b;
	bson_value_t v;
	int i;

	sp_expr_buf_init(&b, cx->arena);
	for (i = 0; i < n->nargs; i++) {
		if (expr_eval(n->args[i], cx, &v))
			return -1;
		/* Fields that evaluate to missing are left out. */
		if (v.value_type == BSON_TYPE_EOD)
			continue;
		sp_expr_buf_append(&b, n->keys[i].name, n->keys[i].len, &v);
	}
	if (sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, out) < 0)
		return sp_error_set(cx->err, "%s", EXPR_TOO_LARGE);
	return 0;
}

static int
eval_array(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	struct expr_buf b;
	bson_value_t v;
	int i;

	sp_expr_buf_init(&b, cx->arena);
	for (i = 0; i < n->nargs; i++) {
		if (expr_eval(n->args[i], cx, &v))
			return -1;
		if (v.value_type == BSON_TYPE_EOD)
			expr_set_null(&v); /* arrays cannot hold missing */
		sp_expr_buf_append(&b, NULL, 0, &v);
	}
	if (sp_expr_buf_finish(&b, BSON_TYPE_ARRAY, out) < 0)
		return sp_error_set(cx->err, "%s", EXPR_TOO_LARGE);
	return 0;
}

/* {a: <expr>, b: <expr>}: ExpressionObject. */
static int
compile_object(struct expr_comp *c, const bson_value_t *v, struct enode **out)
{
	struct enode *n = sp_expr_node_new(eval_object), *arg;
	bson_iter_t it;
	const char *key;
	uint32_t klen;
	int i;

	*out = NULL;
	bson_iter_init_from_data(
	    &it, v->value.v_doc.data, v->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		key = bson_iter_key(&it);
		klen = bson_iter_key_len(&it);
		if (check_field_name(key, klen, c->err))
			goto fail;
		for (i = 0; i < n->nargs; i++) {
			if (n->keys[i].len == klen &&
			    memcmp(n->keys[i].name, key, klen) == 0) {
				char buf[256];

				doc_string(v, buf, sizeof(buf));
				sp_error_set(c->err,
				    "duplicate field name specified in object "
				    "literal: %s",
				    buf);
				goto fail;
			}
		}
		if (sp_expr_compile_value(c, bson_iter_value(&it), &arg))
			goto fail;
		n->keys =
		    sp_xrealloc(n->keys, sizeof(*n->keys) * (n->nargs + 1));
		n->keys[n->nargs].name = xstrndup(key, klen);
		n->keys[n->nargs].len = klen;
		sp_expr_add_arg(n, arg);
	}
	return fold(c, n, out);
fail:
	sp_expr_node_free(n);
	return -1;
}

/* [<expr>, ...]: ExpressionArray. */
static int
compile_array(struct expr_comp *c, const bson_value_t *v, struct enode **out)
{
	struct enode *n = sp_expr_node_new(eval_array), *arg;
	bson_iter_t it;

	*out = NULL;
	bson_iter_init_from_data(
	    &it, v->value.v_doc.data, v->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		if (sp_expr_compile_value(c, bson_iter_value(&it), &arg)) {
			sp_expr_node_free(n);
			return -1;
		}
		sp_expr_add_arg(n, arg);
	}
	return fold(c, n, out);
}

static int
compile_op(struct expr_comp *c, const char *name, const bson_value_t *arg,
    struct enode **out)
{
	const struct expr_op *op = op_find(name);
	struct enode *n;
	int rc;

	*out = NULL;
	if (op == NULL)
		return sp_error_set(
		    c->err, "Unrecognized expression '%s'", name);
	if (op->compile != NULL)
		rc = op->compile(c, op, arg, &n);
	else
		rc = sp_expr_compile_nary(c, op, arg, true, &n);
	if (rc != 0)
		return rc;
	return fold(c, n, out);
}

/* A document: {} and {a: ...} are objects, {$op: ...} an operator. */
static int
compile_doc(struct expr_comp *c, const bson_value_t *v, struct enode **out)
{
	bson_iter_t it;
	const char *key;
	char buf[256];

	*out = NULL;
	if (!bson_iter_init_from_data(
		&it, v->value.v_doc.data, v->value.v_doc.data_len))
		return sp_error_set(c->err, "invalid BSON in expression");
	if (!bson_iter_next(&it)) {
		*out = sp_expr_const_new(v);
		return 0;
	}
	key = bson_iter_key(&it);
	if (key[0] != '$')
		return compile_object(c, v, out);
	{
		bson_iter_t next = it;

		if (bson_iter_next(&next)) {
			doc_string(v, buf, sizeof(buf));
			return sp_error_set(c->err,
			    "An object representing an expression must have "
			    "exactly one field: %s",
			    buf);
		}
	}
	return compile_op(c, key, bson_iter_value(&it), out);
}

int
sp_expr_compile_value(
    struct expr_comp *c, const bson_value_t *v, struct enode **out)
{
	int rc;

	switch (v->value_type) {
	case BSON_TYPE_UTF8:
		if (v->value.v_utf8.len > 0 && v->value.v_utf8.str[0] == '$')
			return compile_path(
			    c, v->value.v_utf8.str, v->value.v_utf8.len, out);
		break;
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
		*out = NULL;
		if (c->depth >= MAX_DEPTH)
			return sp_error_set(c->err,
			    "expression nested more than %d levels deep",
			    MAX_DEPTH);
		c->depth++;
		if (v->value_type == BSON_TYPE_DOCUMENT)
			rc = compile_doc(c, v, out);
		else
			rc = compile_array(c, v, out);
		c->depth--;
		return rc;
	default: break;
	}
	*out = sp_expr_const_new(v);
	return 0;
}

/* ------------------------------------------------ operator compilers */

/*
 * ExpressionNary::parseArguments: an array is the argument list, anything
 * else is the only argument. check: apply the row's argument count.
 */
int
sp_expr_compile_nary(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, bool check, struct enode **out)
{
	struct enode *n = sp_expr_node_new(op->eval), *a;
	bson_iter_t it;

	*out = NULL;
	n->op = op;
	n->aux = op->aux;
	if (arg->value_type == BSON_TYPE_ARRAY) {
		bson_iter_init_from_data(
		    &it, arg->value.v_doc.data, arg->value.v_doc.data_len);
		while (bson_iter_next(&it)) {
			if (sp_expr_compile_value(c, bson_iter_value(&it), &a))
				goto fail;
			sp_expr_add_arg(n, a);
		}
	} else {
		if (sp_expr_compile_value(c, arg, &a))
			goto fail;
		sp_expr_add_arg(n, a);
	}
	if (check && op->min == op->max && n->nargs != op->min) {
		sp_error_set(c->err,
		    "Expression %s takes exactly %d arguments. %d were passed "
		    "in.",
		    op->name, op->min, n->nargs);
		goto fail;
	}
	if (check &&
	    (n->nargs < op->min || (op->max >= 0 && n->nargs > op->max))) {
		if (op->max >= 0)
			sp_error_set(c->err,
			    "Expression %s takes at least %d arguments, and at "
			    "most %d, but %d were passed in.",
			    op->name, op->min, op->max, n->nargs);
		else
			sp_error_set(c->err,
			    "Expression %s takes at least %d arguments. %d "
			    "were passed in.",
			    op->name, op->min, n->nargs);
		goto fail;
	}
	*out = n;
	return 0;
fail:
	sp_expr_node_free(n);
	return -1;
}

/* $literal and $const: the argument is the value, never an expression. */
static int
compile_literal(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	*out = sp_expr_const_new(arg);
	return 0;
}

static int
compile_ifnull(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	if (sp_expr_compile_nary(c, op, arg, false, out))
		return -1;
	if ((*out)->nargs < 2) {
		sp_error_set(c->err,
		    "$ifNull needs at least two arguments, had: %d",
		    (*out)->nargs);
		sp_expr_node_free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* $cond: [if, then, else] or {if:, then:, else:}. */
static int
compile_cond(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	static const char *const names[3] = {"if", "then", "else"};
	struct enode *n, *parts[3] = {NULL, NULL, NULL};
	bson_iter_t it;
	int i;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT) {
		if (sp_expr_compile_nary(c, op, arg, true, &n))
			return -1;
	} else {
		bson_iter_init_from_data(
		    &it, arg->value.v_doc.data, arg->value.v_doc.data_len);
		while (bson_iter_next(&it)) {
			for (i = 0; i < 3; i++)
				if (strcmp(bson_iter_key(&it), names[i]) == 0)
					break;
			if (i == 3) {
				sp_error_set(c->err,
				    "Unrecognized parameter to $cond: %s",
				    bson_iter_key(&it));
				goto fail;
			}
			sp_expr_node_free(parts[i]);
			parts[i] = NULL;
			if (sp_expr_compile_value(
				c, bson_iter_value(&it), &parts[i]))
				goto fail;
		}
		for (i = 0; i < 3; i++) {
			if (parts[i] == NULL) {
				sp_error_set(c->err,
				    "Missing '%s' parameter to $cond",
				    names[i]);
				goto fail;
			}
		}
		n = sp_expr_node_new(op->eval);
		n->op = op;
		for (i = 0; i < 3; i++)
			sp_expr_add_arg(n, parts[i]);
	}
	/* A constant condition picks its branch now (ExpressionCond::
	 * optimize), even when the branches are not constant. */
	if (sp_expr_is_const(n->args[0])) {
		i = sp_value_truthy(&n->args[0]->cval) ? 1 : 2;
		*out = n->args[i];
		n->args[i] = NULL;
		sp_expr_node_free(n);
		return 0;
	}
	*out = n;
	return 0;
fail:
	for (i = 0; i < 3; i++)
		sp_expr_node_free(parts[i]);
	return -1;
}

/* $switch: {branches: [{case:, then:}, ...], default:}. */
static int
compile_switch(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	struct enode *n, *def = NULL, *cs, *th;
	bson_iter_t it, bi, ci;
	const char *key;
	int nbranch = 0;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(c->err,
		    "$switch requires an object as an argument, found: %s",
		    sp_expr_type_name(arg->value_type));
	n = sp_expr_node_new(op->eval);
	n->op = op;
	bson_iter_init_from_data(
	    &it, arg->value.v_doc.data, arg->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		key = bson_iter_key(&it);
		if (strcmp(key, "default") == 0) {
			sp_expr_node_free(def);
			def = NULL;
			if (sp_expr_compile_value(
				c, bson_iter_value(&it), &def))
				goto fail;
			continue;
		}
		if (strcmp(key, "branches") != 0) {
			sp_error_set(c->err,
			    "$switch found an unknown argument: %s", key);
			goto fail;
		}
		if (!BSON_ITER_HOLDS_ARRAY(&it)) {
			sp_error_set(c->err,
			    "$switch expected an array for 'branches', found: "
			    "%s",
			    sp_expr_type_name(bson_iter_type(&it)));
			goto fail;
		}
		bson_iter_recurse(&it, &bi);
		while (bson_iter_next(&bi)) {
			if (!BSON_ITER_HOLDS_DOCUMENT(&bi)) {
				sp_error_set(c->err,
				    "$switch expected each branch to be an "
				    "object, found: %s",
				    sp_expr_type_name(bson_iter_type(&bi)));
				goto fail;
			}
			cs = th = NULL;
			bson_iter_recurse(&bi, &ci);
			while (bson_iter_next(&ci)) {
				struct enode **slot;

				if (strcmp(bson_iter_key(&ci), "case") == 0) {
					slot = &cs;
				} else if (strcmp(bson_iter_key(&ci), "then") ==
				    0) {
					slot = &th;
				} else {
					sp_error_set(c->err,
					    "$switch found an unknown argument "
					    "to a branch: %s",
					    bson_iter_key(&ci));
					goto branch_fail;
				}
				sp_expr_node_free(*slot);
				*slot = NULL;
				if (sp_expr_compile_value(
					c, bson_iter_value(&ci), slot))
					goto branch_fail;
			}
			if (cs == NULL) {
				sp_error_set(c->err,
				    "$switch requires each branch have a "
				    "'case' expression");
				goto branch_fail;
			}
			if (th == NULL) {
				sp_error_set(c->err,
				    "$switch requires each branch have a "
				    "'then' expression.");
				goto branch_fail;
			}
			sp_expr_add_arg(n, cs);
			sp_expr_add_arg(n, th);
			nbranch++;
			continue;
		branch_fail:
			sp_expr_node_free(cs);
			sp_expr_node_free(th);
			goto fail;
		}
	}
	if (nbranch == 0) {
		sp_error_set(c->err, "$switch requires at least one branch.");
		goto fail;
	}
	/* ExpressionSwitch::optimize drops constant false cases and
	 * rejects a switch that has nothing left. */
	if (def == NULL) {
		int i;

		for (i = 0; i < n->nargs; i += 2)
			if (!sp_expr_is_const(n->args[i]) ||
			    sp_value_truthy(&n->args[i]->cval))
				break;
		if (i >= n->nargs) {
			sp_error_set(c->err,
			    "One cannot execute a switch statement where all "
			    "the cases evaluate to false without a default.");
			goto fail;
		}
	}
	/* The default, when there is one, is the last argument. */
	if (def != NULL) {
		sp_expr_add_arg(n, def);
		n->aux = 1;
	}
	*out = n;
	return 0;
fail:
	sp_expr_node_free(def);
	sp_expr_node_free(n);
	return -1;
}

/* $let: {vars: {name: <expr>, ...}, in: <expr>}. */
static int
compile_let(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	const struct scope *saved = c->scope;
	struct scope *bind = NULL;
	struct enode *n, *a;
	bson_iter_t it, vi;
	bson_value_t vars, in;
	int i, nv = 0, rc = -1;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(
		    c->err, "$let only supports an object as its argument");
	vars.value_type = in.value_type = BSON_TYPE_EOD;
	bson_iter_init_from_data(
	    &it, arg->value.v_doc.data, arg->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		if (strcmp(bson_iter_key(&it), "vars") == 0)
			vars = *bson_iter_value(&it);
		else if (strcmp(bson_iter_key(&it), "in") == 0)
			in = *bson_iter_value(&it);
		else
			return sp_error_set(c->err,
			    "Unrecognized parameter to $let: %s",
			    bson_iter_key(&it));
	}
	if (vars.value_type == BSON_TYPE_EOD)
		return sp_error_set(c->err, "Missing 'vars' parameter to $let");
	if (in.value_type == BSON_TYPE_EOD)
		return sp_error_set(c->err, "Missing 'in' parameter to $let");
	if (vars.value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(
		    c->err, "invalid parameter: expected an object (vars)");

	n = sp_expr_node_new(op->eval);
	n->op = op;
	/* The definitions see only the outer variables. */
	bson_iter_init_from_data(
	    &vi, vars.value.v_doc.data, vars.value.v_doc.data_len);
	while (bson_iter_next(&vi)) {
		if (sp_expr_compile_value(c, bson_iter_value(&vi), &a))
			goto done;
		sp_expr_add_arg(n, a);
		nv++;
	}
	bind = sp_xcalloc((size_t)nv + 1, sizeof(*bind));
	n->slots = sp_xcalloc((size_t)nv + 1, sizeof(*n->slots));
	bson_iter_init_from_data(
	    &vi, vars.value.v_doc.data, vars.value.v_doc.data_len);
	for (i = 0; bson_iter_next(&vi); i++) {
		if (sp_expr_check_var_name(bson_iter_key(&vi),
			bson_iter_key_len(&vi), true, c->err))
			goto done;
		bind[i].up = c->scope;
		bind[i].name = bson_iter_key(&vi);
		bind[i].len = bson_iter_key_len(&vi);
		bind[i].slot = n->slots[i] = c->nslots++;
		c->scope = &bind[i];
	}
	if (sp_expr_compile_value(c, &in, &a))
		goto done;
	sp_expr_add_arg(n, a);
	rc = 0;
done:
	c->scope = saved;
	free(bind);
	if (rc != 0)
		sp_expr_node_free(n);
	else
		*out = n;
	return rc;
}

/* ------------------------------------------ control-flow operators */

int
sp_expr_op_cond(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t v;

	if (expr_eval(n->args[0], cx, &v))
		return -1;
	return expr_eval(n->args[sp_value_truthy(&v) ? 1 : 2], cx, out);
}

int
sp_expr_op_ifnull(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	int i;

	/* The first non-null argument, else the last one as it is (which
	 * may be missing). */
	for (i = 0; i < n->nargs; i++) {
		if (expr_eval(n->args[i], cx, out))
			return -1;
		if (!expr_nullish(out))
			break;
	}
	return 0;
}

int
sp_expr_op_switch(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	int i, nb = n->aux ? n->nargs - 1 : n->nargs;
	bson_value_t v;

	for (i = 0; i + 1 < nb; i += 2) {
		if (expr_eval(n->args[i], cx, &v))
			return -1;
		if (sp_value_truthy(&v))
			return expr_eval(n->args[i + 1], cx, out);
	}
	if (!n->aux)
		return sp_error_set(cx->err,
		    "$switch could not find a matching branch for an input, "
		    "and no default was specified.");
	return expr_eval(n->args[n->nargs - 1], cx, out);
}

int
sp_expr_op_let(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	int i, nv = n->nargs - 1;
	bson_value_t v;

	for (i = 0; i < nv; i++) {
		if (expr_eval(n->args[i], cx, &v))
			return -1;
		cx->slots[n->slots[i]] = v;
	}
	return expr_eval(n->args[nv], cx, out);
}

/* ------------------------------------------------------------- the API */

int
sp_expr_compile(
    struct sp_expr **out, const bson_value_t *spec, struct sp_error *err)
{
	return sp_expr_compile_vars(out, spec, NULL, 0, err);
}

#define MAX_STAGE_VARS 8

int
sp_expr_compile_vars(struct sp_expr **out, const bson_value_t *spec,
    const struct sp_expr_var *vars, int nvars, struct sp_error *err)
{
	struct scope sc[MAX_STAGE_VARS];
	struct expr_comp c;
	struct enode *root;
	struct sp_expr *e;
	int i;

	*out = NULL;
	if (check_tables(err))
		return -1;
	if (nvars > MAX_STAGE_VARS)
		return sp_error_set(err, "too many stage variables");
	c.err = err;
	c.scope = NULL;
	c.nslots = 2; /* $$ROOT, $$CURRENT */
	c.depth = 0;
	/* A stage's variables are bound around the whole expression, as
	 * $let binds its own. */
	for (i = 0; i < nvars; i++) {
		sc[i].up = c.scope;
		sc[i].name = vars[i].name;
		sc[i].len = strlen(vars[i].name);
		sc[i].slot = c.nslots++;
		c.scope = &sc[i];
	}
	if (sp_expr_compile_value(&c, spec, &root))
		return -1;
	e = sp_xcalloc(1, sizeof(*e));
	e->root = root;
	e->nslots = c.nslots;
	if (nvars > 0) {
		e->nvars = nvars;
		e->vars = sp_xmalloc(sizeof(*e->vars) * nvars);
		for (i = 0; i < nvars; i++)
			e->vars[i] = vars[i].value;
	}
	*out = e;
	return 0;
}

void
sp_expr_free(struct sp_expr *e)
{
	if (e == NULL)
		return;
	sp_expr_node_free(e->root);
	free(e->vars);
	free(e);
}

bool
sp_expr_is_operator(const char *name)
{
	return op_find(name) != NULL;
}

int
sp_expr_check_field_path(const char *s, size_t len, struct sp_error *err)
{
	struct enode *n = sp_expr_node_new(eval_var);
	int rc = set_path(n, s, len, err);

	sp_expr_node_free(n);
	return rc;
}

#define LOCAL_SLOTS 8

int
sp_expr_eval(const struct sp_expr *e, const uint8_t *doc, uint32_t len,
    struct sp_arena *arena, bson_value_t *out, struct sp_error *err)
{
	return sp_expr_eval_at(e, doc, len, doc, len, arena, out, err);
}

int
sp_expr_eval_at(const struct sp_expr *e, const uint8_t *doc, uint32_t len,
    const uint8_t *cur, uint32_t curlen, struct sp_arena *arena,
    bson_value_t *out, struct sp_error *err)
{
	bson_value_t local[LOCAL_SLOTS], *slots = local;
	struct ectx cx;
	int i;

	/* Expressions with few variables keep them on the C stack. */
	if (e->nslots > LOCAL_SLOTS)
		slots = sp_arena_alloc(arena, sizeof(*slots) * e->nslots);
	for (i = 2; i < e->nslots; i++)
		expr_set_missing(&slots[i]);
	for (i = 0; i < e->nvars; i++)
		slots[2 + i] = e->vars[i];
	slots[EXPR_SLOT_ROOT].value_type = BSON_TYPE_DOCUMENT;
	slots[EXPR_SLOT_ROOT].value.v_doc.data = (uint8_t *)doc;
	slots[EXPR_SLOT_ROOT].value.v_doc.data_len = len;
	slots[EXPR_SLOT_CURRENT].value_type = BSON_TYPE_DOCUMENT;
	slots[EXPR_SLOT_CURRENT].value.v_doc.data = (uint8_t *)cur;
	slots[EXPR_SLOT_CURRENT].value.v_doc.data_len = curlen;
	cx.slots = slots;
	cx.arena = arena;
	cx.err = err;
	if (expr_eval(e->root, &cx, out) != 0) {
		expr_set_missing(out);
		return -1;
	}
	return 0;
}

const char *
sp_expr_named_args(const bson_value_t *arg, const char *const *names,
    bson_value_t *store, const bson_value_t **vals)
{
	bson_iter_t it;
	int i;

	bson_iter_init_from_data(
	    &it, arg->value.v_doc.data, arg->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(bson_iter_key(&it), names[i]) == 0)
				break;
		if (names[i] == NULL)
			return bson_iter_key(&it);
		store[i] = *bson_iter_value(&it);
		vals[i] = &store[i];
	}
	return NULL;
}
