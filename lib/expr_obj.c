/* expr_obj.c: object operators ($mergeObjects, $getField, ...) and Atlas's
 * $meta, $currentDate, $createUUID. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "expr_int.h"

/* The field $getField reads and $setField writes is fixed when the spec is
 * compiled; it lives in n->path[0], taken as one name, dots and all. */

static char *
xstrndup(const char *s, size_t len)
{
	char *p = sp_xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static void
set_field_name(struct enode *n, const char *s, uint32_t len)
{
	n->path = sp_xcalloc(1, sizeof(*n->path));
	n->path[0].name = xstrndup(s, len);
	n->path[0].len = len;
	n->npath = 1;
}

/* Looks key up in a document; the first of equal names wins. */
static bool
doc_get(
    const bson_value_t *doc, const char *key, uint32_t len, bson_value_t *out)
{
	bson_iter_t it;

	if (bson_iter_init_from_data(
		&it, doc->value.v_doc.data, doc->value.v_doc.data_len)) {
		while (bson_iter_next(&it)) {
			if (bson_iter_key_len(&it) == len &&
			    memcmp(bson_iter_key(&it), key, len) == 0) {
				*out = *bson_iter_value(&it);
				return true;
			}
		}
	}
	expr_set_missing(out);
	return false;
}

/*
 * The checks MongoDB makes on 'field' before optimizing: a field path is
 * refused, and anything but a literal (a scalar, $const or $literal) is
 * "non-constant" even when it would fold, as {$concat: ["a", "b"]} would.
 * spec is the raw argument; name receives the string.
 */
static int
check_field(struct expr_comp *c, const char *op, const bson_value_t *spec,
    const char **name, uint32_t *len)
{
	const bson_value_t *v = spec;
	bson_iter_t it;

	if (v->value_type == BSON_TYPE_UTF8 && v->value.v_utf8.len > 0 &&
	    v->value.v_utf8.str[0] == '$')
		return sp_error_set(c->err,
		    "A field path reference which is not allowed in this "
		    "context. Did you mean {$literal: '%s'}?",
		    v->value.v_utf8.str);
	if (v->value_type == BSON_TYPE_DOCUMENT ||
	    v->value_type == BSON_TYPE_ARRAY) {
		v = NULL;
		if (spec->value_type == BSON_TYPE_DOCUMENT &&
		    bson_iter_init_from_data(&it, spec->value.v_doc.data,
			spec->value.v_doc.data_len) &&
		    bson_iter_next(&it) &&
		    (strcmp(bson_iter_key(&it), "$const") == 0 ||
			strcmp(bson_iter_key(&it), "$literal") == 0))
			v = bson_iter_value(&it);
		if (v == NULL)
			return sp_error_set(c->err,
			    "%s requires 'field' to evaluate to a constant, "
			    "but got a non-constant argument",
			    op);
	}
	if (v->value_type != BSON_TYPE_UTF8)
		return sp_error_set(c->err,
		    "%s requires 'field' to evaluate to type String, but got "
		    "%s",
		    op, sp_expr_type_name(v->value_type));
	*name = v->value.v_utf8.str;
	*len = v->value.v_utf8.len;
	return 0;
}

/* ------------------------------------------------------------ $getField */

/* {$getField: {field:, input:}}, or {$getField: <field>} for $$CURRENT. */
static int
compile_get_field(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	static const bson_value_t current = {.value_type = BSON_TYPE_UTF8,
	    .value.v_utf8 = {.str = (char *)"$$CURRENT", .len = 9}};
	struct enode *field = NULL, *input = NULL, *n;
	const bson_value_t *fspec = NULL;
	bson_value_t fval; /* the iterator's value changes with each key */
	bson_iter_t it;
	const char *key, *name;
	uint32_t len;
	int rc = -1;

	*out = NULL;
	if (arg->value_type == BSON_TYPE_DOCUMENT) {
		bson_iter_init_from_data(
		    &it, arg->value.v_doc.data, arg->value.v_doc.data_len);
		while (bson_iter_next(&it)) {
			key = bson_iter_key(&it);
			/* {$getField: {$const: "a.b"}}: an expression. */
			if (field == NULL && input == NULL && key[0] == '$') {
				fspec = arg;
				break;
			}
			if (strcmp(key, "field") == 0) {
				sp_expr_node_free(field);
				field = NULL;
				fval = *bson_iter_value(&it);
				fspec = &fval;
				if (sp_expr_compile_value(c, fspec, &field))
					goto done;
			} else if (strcmp(key, "input") == 0) {
				sp_expr_node_free(input);
				input = NULL;
				if (sp_expr_compile_value(
					c, bson_iter_value(&it), &input))
					goto done;
			} else {
				sp_error_set(c->err,
				    "$getField found an unknown argument: %s",
				    key);
				goto done;
			}
		}
	} else {
		fspec = arg;
	}
	if (fspec == arg) {
		if (sp_expr_compile_value(c, arg, &field) ||
		    sp_expr_compile_value(c, &current, &input))
			goto done;
	}
	if (field == NULL) {
		sp_error_set(
		    c->err, "$getField requires 'field' to be specified");
		goto done;
	}
	if (input == NULL) {
		sp_error_set(
		    c->err, "$getField requires 'input' to be specified");
		goto done;
	}
	if (check_field(c, op->name, fspec, &name, &len))
		goto done;
	n = sp_expr_node_new(op->eval);
	n->op = op;
	set_field_name(n, name, len);
	sp_expr_add_arg(n, input);
	input = NULL;
	*out = n;
	rc = 0;
done:
	sp_expr_node_free(field);
	sp_expr_node_free(input);
	return rc;
}

static int
eval_get_field(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t in;

	if (expr_eval(n->args[0], cx, &in))
		return -1;
	/* Missing stays missing, null and undefined give null, any other
	 * non-object gives missing. */
	if (in.value_type == BSON_TYPE_NULL ||
	    in.value_type == BSON_TYPE_UNDEFINED)
		expr_set_null(out);
	else if (in.value_type != BSON_TYPE_DOCUMENT)
		expr_set_missing(out);
	else
		doc_get(&in, n->path[0].name, n->path[0].len, out);
	return 0;
}

/* ----------------------------------------------- $setField, $unsetField */

/* {$setField: {field:, input:, value:}}; {$unsetField: {field:, input:}}
 * is the same with value $$REMOVE (op->aux 1). */
static int
compile_set_field(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	struct enode *parts[3] = {NULL, NULL, NULL}, *n;
	bson_value_t fspec; /* the iterator's value changes with each key */
	bson_iter_t it;
	const char *key, *name;
	uint32_t len;
	int i, rc = -1;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(c->err,
		    "%s only supports an object as its argument", op->name);
	bson_iter_init_from_data(
	    &it, arg->value.v_doc.data, arg->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		key = bson_iter_key(&it);
		if (strcmp(key, "field") == 0) {
			i = 0;
			fspec = *bson_iter_value(&it);
		} else if (strcmp(key, "input") == 0) {
			i = 1;
		} else if (strcmp(key, "value") == 0 && op->aux == 0) {
			i = 2;
		} else {
			sp_error_set(c->err, "%s found an unknown argument: %s",
			    op->name, key);
			goto done;
		}
		sp_expr_node_free(parts[i]);
		parts[i] = NULL;
		if (sp_expr_compile_value(c, bson_iter_value(&it), &parts[i]))
			goto done;
	}
	if (parts[0] == NULL) {
		sp_error_set(
		    c->err, "%s requires 'field' to be specified", op->name);
		goto done;
	}
	if (op->aux == 0 && parts[2] == NULL) {
		sp_error_set(
		    c->err, "%s requires 'value' to be specified", op->name);
		goto done;
	}
	if (parts[1] == NULL) {
		sp_error_set(
		    c->err, "%s requires 'input' to be specified", op->name);
		goto done;
	}
	if (check_field(c, op->name, &fspec, &name, &len))
		goto done;
	n = sp_expr_node_new(op->eval);
	n->op = op;
	n->aux = op->aux;
	set_field_name(n, name, len);
	for (i = 1; i < 3; i++) {
		if (parts[i] != NULL)
			sp_expr_add_arg(n, parts[i]);
		parts[i] = NULL;
	}
	*out = n;
	rc = 0;
done:
	for (i = 0; i < 3; i++)
		sp_expr_node_free(parts[i]);
	return rc;
}

/* The input with the field replaced where it stands, added at the end, or
 * (value missing) left out. */
static int
eval_set_field(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	const struct expr_path *f = &n->path[0];
	bson_value_t in, val;
	struct expr_buf b;
	bson_iter_t it;
	bool done = false;

	if (expr_eval(n->args[0], cx, &in))
		return -1;
	if (expr_nullish(&in)) {
		expr_set_null(out);
		return 0;
	}
	if (in.value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(cx->err,
		    "%s requires 'input' to evaluate to type Object",
		    n->op->name);
	expr_set_missing(&val);
	if (n->nargs > 1 && expr_eval(n->args[1], cx, &val))
		return -1;
	sp_expr_buf_init(&b, cx->arena);
	bson_iter_init_from_data(
	    &it, in.value.v_doc.data, in.value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		if (!done && bson_iter_key_len(&it) == f->len &&
		    memcmp(bson_iter_key(&it), f->name, f->len) == 0) {
			done = true;
			if (val.value_type != BSON_TYPE_EOD)
				sp_expr_buf_append(&b, f->name, f->len, &val);
			continue;
		}
		sp_expr_buf_append(&b, bson_iter_key(&it),
		    bson_iter_key_len(&it), bson_iter_value(&it));
	}
	if (!done && val.value_type != BSON_TYPE_EOD)
		sp_expr_buf_append(&b, f->name, f->len, &val);
	if (sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, out) < 0)
		return sp_error_set(cx->err, "%s", EXPR_TOO_LARGE);
	return 0;
}

/* -------------------------------------------------------- $mergeObjects */

struct field {
	const char *key;
	uint32_t len;
	bson_value_t val;
};

/* Later documents win; a field keeps the place where it first appeared
 * (MutableDocument::setField). Null and missing arguments are skipped. */
static int
eval_merge(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	struct field *f = NULL, *g;
	size_t nf = 0, cap = 0, j;
	struct expr_buf b;
	struct sp_buf msg;
	bson_value_t v;
	bson_iter_t it;
	int i;

	for (i = 0; i < n->nargs; i++) {
		if (expr_eval(n->args[i], cx, &v))
			return -1;
		if (expr_nullish(&v))
			continue;
		if (v.value_type != BSON_TYPE_DOCUMENT) {
			sp_buf_init(&msg);
			sp_expr_value_string(&msg, &v, EXPR_TEXT_CONV);
			sp_error_set(cx->err,
			    "$mergeObjects requires object inputs, but input "
			    "%s is of type %s",
			    sp_buf_cstr(&msg), sp_expr_type_name(v.value_type));
			sp_buf_release(&msg);
			return -1;
		}
		bson_iter_init_from_data(
		    &it, v.value.v_doc.data, v.value.v_doc.data_len);
		while (bson_iter_next(&it)) {
			uint32_t len = bson_iter_key_len(&it);

			for (j = 0; j < nf; j++)
				if (f[j].len == len &&
				    memcmp(f[j].key, bson_iter_key(&it), len) ==
					0)
					break;
			if (j == nf) {
				if (nf == cap) {
					cap = cap ? 2 * cap : 16;
					g = sp_arena_alloc(
					    cx->arena, cap * sizeof(*g));
					if (nf > 0)
						memcpy(g, f, nf * sizeof(*g));
					f = g;
				}
				f[nf].key = bson_iter_key(&it);
				f[nf].len = len;
				nf++;
			}
			f[j].val = *bson_iter_value(&it);
		}
	}
	sp_expr_buf_init(&b, cx->arena);
	for (j = 0; j < nf; j++)
		sp_expr_buf_append(&b, f[j].key, f[j].len, &f[j].val);
	if (sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, out) < 0)
		return sp_error_set(cx->err, "%s", EXPR_TOO_LARGE);
	return 0;
}

/* ---------------------------------------------------------------- $meta */

/*
 * Atlas Stream Processing's $meta: "stream" or "stream.<path>" reads the
 * record's _stream_meta (stream.source.topic is _stream_meta.source.topic).
 * The path goes through objects only. MongoDB's own $meta names (textScore,
 * searchScore...) have no data in a stream and are refused.
 */
static int
compile_meta(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	const char *s, *end, *dot;
	struct enode *n;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_UTF8)
		return sp_error_set(
		    c->err, "$meta only supports string arguments");
	s = arg->value.v_utf8.str;
	end = s + arg->value.v_utf8.len;
	if (arg->value.v_utf8.len < 6 || memcmp(s, "stream", 6) != 0 ||
	    (arg->value.v_utf8.len > 6 && s[6] != '.') || end[-1] == '.' ||
	    memchr(s, '\0', arg->value.v_utf8.len) != NULL ||
	    strstr(s, "..") != NULL)
		return sp_error_set(
		    c->err, "Unsupported argument to $meta: %s", s);
	n = sp_expr_node_new(op->eval);
	n->op = op;
	for (s += 6; s < end; s = dot) {
		s++; /* the dot */
		if ((dot = memchr(s, '.', (size_t)(end - s))) == NULL)
			dot = end;
		n->path =
		    sp_xrealloc(n->path, sizeof(*n->path) * (n->npath + 1));
		n->path[n->npath].name = xstrndup(s, (size_t)(dot - s));
		n->path[n->npath].len = (uint32_t)(dot - s);
		n->npath++;
	}
	*out = n;
	return 0;
}

static int
eval_meta(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	bson_value_t v;
	int i;

	doc_get(&cx->slots[EXPR_SLOT_ROOT], "_stream_meta", 12, &v);
	for (i = 0; i < n->npath && v.value_type != BSON_TYPE_EOD; i++) {
		if (v.value_type != BSON_TYPE_DOCUMENT)
			expr_set_missing(&v);
		else
			doc_get(&v, n->path[i].name, n->path[i].len, &v);
	}
	*out = v;
	return 0;
}

/* ---------------------------------------- $currentDate, $createUUID */

/* Both take {} and nothing else. */
static int
compile_noarg(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	struct enode *n;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT ||
	    arg->value.v_doc.data_len != 5)
		return sp_error_set(
		    c->err, "%s does not accept arguments", op->name);
	n = sp_expr_node_new(op->eval);
	n->op = op;
	*out = n;
	return 0;
}

/* The wall clock at each evaluation, as Atlas documents it. */
static int
eval_current_date(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	expr_set_date(out, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	return 0;
}

/* A random (version 4, RFC 4122) UUID: binData subtype 4. */
static int
eval_create_uuid(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	uint8_t *u = sp_arena_alloc(cx->arena, 16);
	size_t got = 0;
	ssize_t r;

	while (got < 16) {
		r = getrandom(u + got, 16 - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return sp_error_set(cx->err,
			    "$createUUID: no random bytes: %s",
			    strerror(errno));
		got += (size_t)r;
	}
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	out->value_type = BSON_TYPE_BINARY;
	out->value.v_binary.subtype = BSON_SUBTYPE_UUID;
	out->value.v_binary.data = u;
	out->value.v_binary.data_len = 16;
	return 0;
}

/* Sorted by name (expr.c checks). */
static const struct expr_op ops[] = {
    {"$createUUID", compile_noarg, eval_create_uuid, 0, 0, 0, EXPR_NOFOLD},
    {"$currentDate", compile_noarg, eval_current_date, 0, 0, 0, EXPR_NOFOLD},
    {"$getField", compile_get_field, eval_get_field, 0, 0, 0, 0},
    {"$mergeObjects", NULL, eval_merge, 0, -1, 0, 0},
    {"$meta", compile_meta, eval_meta, 0, 0, 0, EXPR_NOFOLD},
    {"$setField", compile_set_field, eval_set_field, 0, 0, 0, 0},
    {"$unsetField", compile_set_field, eval_set_field, 0, 0, 1, 0},
};

const struct expr_optable sp_expr_obj_ops = {ops, sizeof(ops) / sizeof(ops[0])};
