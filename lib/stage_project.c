/* stage_project.c: $project, $unset, $addFields and $set: one projection tree.
 */
#include <stdlib.h>
#include <string.h>

#include "stage_int.h"

/*
 * All four stages compile to a tree of field names, as MongoDB's
 * projection executors do: a leaf includes a field, excludes it, or
 * computes it from an expression; an inner node holds the fields below a
 * path ("a.b" and {a: {b: ...}} make the same tree). Applying the tree
 * walks the document once per level; arrays on the way are walked element
 * by element (nested arrays too), as MongoDB applies projections.
 *
 * $addFields and $set only compute; $project either includes (and may
 * compute) or excludes; $unset is an exclusion $project.
 */

enum pkind { P_INCLUDE, P_EXCLUDE, P_EXPR, P_TREE };

struct pnode;

struct pentry {
	char *name;
	uint32_t len;
	enum pkind kind;
	struct sp_expr *expr; /* P_EXPR */
	struct pnode *child; /* P_TREE */
};

struct pnode {
	struct pentry *e; /* in the order fields were added */
	int n;
	bool computed; /* an expression here or below */
};

enum pmode { MODE_ADD, MODE_INCLUDE, MODE_EXCLUDE };

struct proj_stage {
	struct stage base;
	enum pmode mode;
	struct pnode root;
};

/* ------------------------------------------------------------ the tree */

static void
pnode_release(struct pnode *n)
{
	int i;

	for (i = 0; i < n->n; i++) {
		free(n->e[i].name);
		sp_expr_free(n->e[i].expr);
		if (n->e[i].child != NULL) {
			pnode_release(n->e[i].child);
			free(n->e[i].child);
		}
	}
	free(n->e);
	memset(n, 0, sizeof(*n));
}

static struct pentry *
pnode_find(const struct pnode *n, const char *name, uint32_t len)
{
	int i;

	for (i = 0; i < n->n; i++)
		if (n->e[i].len == len && memcmp(n->e[i].name, name, len) == 0)
			return &n->e[i];
	return NULL;
}

static struct pentry *
pnode_add(struct pnode *n, const char *name, uint32_t len, enum pkind kind)
{
	struct pentry *e;

	n->e = sp_xrealloc(n->e, sizeof(*n->e) * (n->n + 1));
	e = &n->e[n->n++];
	memset(e, 0, sizeof(*e));
	e->name = sp_xmalloc(len + 1);
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	e->len = len;
	e->kind = kind;
	if (kind == P_TREE)
		e->child = sp_xcalloc(1, sizeof(*e->child));
	return e;
}

/* The inner node at p (created as needed), for $addFields: the
 * validator has ruled out collisions already. */
static struct pnode *
pnode_path(struct pnode *n, const struct spath *p, int upto)
{
	struct pentry *e;
	int i;

	for (i = 0; i < upto; i++) {
		e = pnode_find(n, p->c[i].name, p->c[i].len);
		if (e == NULL || e->kind != P_TREE)
			e = pnode_add(n, p->c[i].name, p->c[i].len, P_TREE);
		n->computed = true;
		n = e->child;
	}
	return n;
}

/* The "remaining portion" of MongoDB's message: the path less its first
 * component (FieldPath::tail). */
static const char *
tail_of(const struct spath *p)
{
	return p->full + p->c[0].len + 1;
}

/*
 * addNodeAtPath of MongoDB's projection parser: a leaf (or, with
 * kind P_TREE, an inner node that may already exist) at the relative
 * path p below n. An existing leaf on the way is a collision.
 */
static struct pentry *
pnode_put(struct pnode *n, const struct spath *p, enum pkind kind,
    struct sp_error *err)
{
	struct pentry *e;
	int i;

	for (i = 0; i < p->n; i++) {
		e = pnode_find(n, p->c[i].name, p->c[i].len);
		if (i == p->n - 1) {
			if (e != NULL &&
			    !(kind == P_TREE && e->kind == P_TREE)) {
				sp_error_set(
				    err, "Path collision at %s", p->full);
				return NULL;
			}
			return e != NULL
			    ? e
			    : pnode_add(n, p->c[i].name, p->c[i].len, kind);
		}
		if (e == NULL)
			e = pnode_add(n, p->c[i].name, p->c[i].len, P_TREE);
		else if (e->kind != P_TREE) {
			sp_error_set(err,
			    "Path collision at %s remaining portion %s",
			    p->full, tail_of(p));
			return NULL;
		}
		n = e->child;
	}
	return NULL; /* not reached: a path has a component */
}

/* Marks the nodes that have expressions below them. */
static bool
mark_computed(struct pnode *n)
{
	int i;

	n->computed = false;
	for (i = 0; i < n->n; i++)
		if (n->e[i].kind == P_EXPR ||
		    (n->e[i].kind == P_TREE && mark_computed(n->e[i].child)))
			n->computed = true;
	return n->computed;
}

/* ------------------------------------------------------------ applying */

/*
 * Each apply function builds its result in the pipeline's arena and
 * returns -1 on an expression error (message in the stage's error) or
 * when the result would outgrow BSON.
 */

static int
too_large(struct stage *s)
{
	sp_error_set(stage_err(s), "%s", EXPR_TOO_LARGE);
	return -1;
}

static int incl_value(struct stage *s, const struct pnode *n,
    const bson_value_t *v, bson_value_t *out);

/* The inclusion pass over a document: the included fields, in the
 * document's order. */
static int
incl_doc(struct stage *s, const struct pnode *n, const uint8_t *doc,
    uint32_t len, bson_value_t *out)
{
	struct pentry *e;
	struct expr_buf b;
	bson_iter_t it;
	bson_value_t r;

	sp_expr_buf_init(&b, stage_arena(s));
	if (bson_iter_init_from_data(&it, doc, len)) {
		while (bson_iter_next(&it)) {
			e = pnode_find(
			    n, bson_iter_key(&it), bson_iter_key_len(&it));
			if (e == NULL)
				continue;
			if (e->kind == P_INCLUDE) {
				sp_expr_buf_append(
				    &b, e->name, e->len, bson_iter_value(&it));
			} else if (e->kind == P_TREE) {
				if (incl_value(
					s, e->child, bson_iter_value(&it), &r))
					return -1;
				if (r.value_type != BSON_TYPE_EOD)
					sp_expr_buf_append(
					    &b, e->name, e->len, &r);
			}
		}
	}
	if (sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, out) < 0)
		return too_large(s);
	return 0;
}

/* A value below an inner node: documents are projected, arrays element by
 * element, and anything else is left out. */
static int
incl_value(struct stage *s, const struct pnode *n, const bson_value_t *v,
    bson_value_t *out)
{
	struct expr_buf b;
	bson_iter_t it;
	bson_value_t r;

	switch (v->value_type) {
	case BSON_TYPE_DOCUMENT:
		return incl_doc(
		    s, n, v->value.v_doc.data, v->value.v_doc.data_len, out);
	case BSON_TYPE_ARRAY:
		sp_expr_buf_init(&b, stage_arena(s));
		if (bson_iter_init_from_data(
			&it, v->value.v_doc.data, v->value.v_doc.data_len)) {
			while (bson_iter_next(&it)) {
				if (incl_value(s, n, bson_iter_value(&it), &r))
					return -1;
				if (r.value_type != BSON_TYPE_EOD)
					sp_expr_buf_append(&b, NULL, 0, &r);
			}
		}
		if (sp_expr_buf_finish(&b, BSON_TYPE_ARRAY, out) < 0)
			return too_large(s);
		return 0;
	default: out->value_type = BSON_TYPE_EOD; return 0;
	}
}

static int excl_value(struct stage *s, const struct pnode *n,
    const bson_value_t *v, bson_value_t *out);

/* The exclusion pass: every field but the excluded ones. */
static int
excl_doc(struct stage *s, const struct pnode *n, const uint8_t *doc,
    uint32_t len, bson_value_t *out)
{
	struct pentry *e;
	struct expr_buf b;
	bson_iter_t it;
	bson_value_t r;

	sp_expr_buf_init(&b, stage_arena(s));
	if (bson_iter_init_from_data(&it, doc, len)) {
		while (bson_iter_next(&it)) {
			e = pnode_find(
			    n, bson_iter_key(&it), bson_iter_key_len(&it));
			if (e != NULL && e->kind == P_EXCLUDE)
				continue;
			if (e != NULL && e->kind == P_TREE) {
				if (excl_value(
					s, e->child, bson_iter_value(&it), &r))
					return -1;
				sp_expr_buf_append(&b, e->name, e->len, &r);
				continue;
			}
			sp_expr_buf_append(&b, bson_iter_key(&it),
			    bson_iter_key_len(&it), bson_iter_value(&it));
		}
	}
	if (sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, out) < 0)
		return too_large(s);
	return 0;
}

static int
excl_value(struct stage *s, const struct pnode *n, const bson_value_t *v,
    bson_value_t *out)
{
	struct expr_buf b;
	bson_iter_t it;
	bson_value_t r;

	switch (v->value_type) {
	case BSON_TYPE_DOCUMENT:
		return excl_doc(
		    s, n, v->value.v_doc.data, v->value.v_doc.data_len, out);
	case BSON_TYPE_ARRAY:
		sp_expr_buf_init(&b, stage_arena(s));
		if (bson_iter_init_from_data(
			&it, v->value.v_doc.data, v->value.v_doc.data_len)) {
			while (bson_iter_next(&it)) {
				if (excl_value(s, n, bson_iter_value(&it), &r))
					return -1;
				sp_expr_buf_append(&b, NULL, 0, &r);
			}
		}
		if (sp_expr_buf_finish(&b, BSON_TYPE_ARRAY, out) < 0)
			return too_large(s);
		return 0;
	default: *out = *v; return 0;
	}
}

static int expr_value(struct stage *s, const struct pnode *n,
    const uint8_t *root, uint32_t rootlen, const bson_value_t *v,
    bson_value_t *out);

/*
 * The computing pass (ProjectionNode::applyExpressions): every expression
 * sees the stage's input document (root) and is evaluated in the order
 * the spec gave; a computed field that exists keeps its place, a new one
 * goes last, and one that evaluates to missing ($$REMOVE) is left out.
 * doc NULL is an empty document.
 */
static int
expr_doc(struct stage *s, const struct pnode *n, const uint8_t *root,
    uint32_t rootlen, const uint8_t *doc, uint32_t len, bson_value_t *out)
{
	static const uint8_t empty[5] = {5, 0, 0, 0, 0};
	struct sp_arena *a = stage_arena(s);
	struct expr_buf b;
	bson_value_t *vals, cur;
	bson_iter_t it;
	bool *done;
	int i;

	if (doc == NULL) {
		doc = empty;
		len = sizeof(empty);
	}
	vals = sp_arena_alloc(a, sizeof(*vals) * (size_t)n->n);
	done = sp_arena_alloc(a, sizeof(*done) * (size_t)n->n);
	for (i = 0; i < n->n; i++) {
		const struct pentry *e = &n->e[i];

		/* Fields this pass does not touch count as done. */
		done[i] = true;
		if (e->kind == P_EXPR) {
			if (sp_expr_eval(e->expr, root, rootlen, a, &vals[i],
				stage_err(s)) < 0)
				return -1;
			done[i] = false;
		} else if (e->kind == P_TREE && e->child->computed) {
			cur.value_type = BSON_TYPE_EOD;
			if (bson_iter_init_from_data(&it, doc, len) &&
			    bson_iter_find_w_len(&it, e->name, (int)e->len))
				cur = *bson_iter_value(&it);
			if (expr_value(
				s, e->child, root, rootlen, &cur, &vals[i]) < 0)
				return -1;
			done[i] = false;
		}
	}
	sp_expr_buf_init(&b, a);
	if (bson_iter_init_from_data(&it, doc, len)) {
		while (bson_iter_next(&it)) {
			for (i = 0; i < n->n; i++)
				if (!done[i] &&
				    n->e[i].len == bson_iter_key_len(&it) &&
				    memcmp(n->e[i].name, bson_iter_key(&it),
					n->e[i].len) == 0)
					break;
			if (i == n->n) {
				sp_expr_buf_append(&b, bson_iter_key(&it),
				    bson_iter_key_len(&it),
				    bson_iter_value(&it));
				continue;
			}
			done[i] = true;
			if (vals[i].value_type != BSON_TYPE_EOD)
				sp_expr_buf_append(
				    &b, n->e[i].name, n->e[i].len, &vals[i]);
		}
	}
	for (i = 0; i < n->n; i++)
		if (!done[i] && vals[i].value_type != BSON_TYPE_EOD)
			sp_expr_buf_append(
			    &b, n->e[i].name, n->e[i].len, &vals[i]);
	if (sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, out) < 0)
		return too_large(s);
	return 0;
}

/* A value below an inner node that computes: documents get the fields,
 * arrays element by element, and anything else (missing too) is replaced
 * by a new document of the computed fields ({"a.b": 1} on {a: 1} gives
 * {a: {b: 1}}). */
static int
expr_value(struct stage *s, const struct pnode *n, const uint8_t *root,
    uint32_t rootlen, const bson_value_t *v, bson_value_t *out)
{
	struct expr_buf b;
	bson_iter_t it;
	bson_value_t r;

	switch (v->value_type) {
	case BSON_TYPE_DOCUMENT:
		return expr_doc(s, n, root, rootlen, v->value.v_doc.data,
		    v->value.v_doc.data_len, out);
	case BSON_TYPE_ARRAY:
		sp_expr_buf_init(&b, stage_arena(s));
		if (bson_iter_init_from_data(
			&it, v->value.v_doc.data, v->value.v_doc.data_len)) {
			while (bson_iter_next(&it)) {
				if (expr_value(s, n, root, rootlen,
					bson_iter_value(&it), &r) < 0)
					return -1;
				sp_expr_buf_append(&b, NULL, 0, &r);
			}
		}
		if (sp_expr_buf_finish(&b, BSON_TYPE_ARRAY, out) < 0)
			return too_large(s);
		return 0;
	default: return expr_doc(s, n, root, rootlen, NULL, 0, out);
	}
}

static int
proj_push(struct stage *s, const uint8_t *doc, uint32_t len)
{
	struct proj_stage *ps = (struct proj_stage *)s;
	bson_value_t v;
	int rc;

	switch (ps->mode) {
	case MODE_ADD:
		rc = expr_doc(s, &ps->root, doc, len, doc, len, &v);
		break;
	case MODE_EXCLUDE: rc = excl_doc(s, &ps->root, doc, len, &v); break;
	default:
		rc = incl_doc(s, &ps->root, doc, len, &v);
		if (rc == 0 && ps->root.computed)
			rc = expr_doc(s, &ps->root, doc, len,
			    v.value.v_doc.data, v.value.v_doc.data_len, &v);
		break;
	}
	if (rc < 0) {
		stage_fail(s, doc, len, stage_err(s)->msg);
		return 0;
	}
	return stage_emit(s, v.value.v_doc.data, v.value.v_doc.data_len);
}

static void
proj_free(struct stage *s)
{
	struct proj_stage *ps = (struct proj_stage *)s;

	pnode_release(&ps->root);
	free(ps);
}

static const struct stage_ops add_fields_ops = {
    "AddFieldsOperator", proj_push, NULL, proj_free};
static const struct stage_ops set_ops = {
    "SetOperator", proj_push, NULL, proj_free};
static const struct stage_ops project_ops = {
    "ProjectOperator", proj_push, NULL, proj_free};

static struct proj_stage *
proj_new(const struct stage_ops *ops, const char *name)
{
	struct proj_stage *ps = sp_xcalloc(1, sizeof(*ps));

	ps->base.ops = ops;
	ps->base.name = name;
	return ps;
}

/* "Invalid $project :: caused by :: ...", as MongoDB wraps parse errors. */
static int
invalid(struct sp_error *err, const char *name)
{
	char m[sizeof(err->msg)];

	snprintf(m, sizeof(m), "%s", err->msg);
	return sp_error_set(err, "Invalid %s :: caused by :: %s", name, m);
}

/* --------------------------------------------------------- $addFields */

/*
 * ProjectionSpecValidator: the paths a spec sets, with MongoDB's check
 * that no two are equal or one a prefix of the other (it keeps them in a
 * sorted set and looks at the neighbours, so the path it names is the
 * neighbour's).
 */
struct seen {
	char **p;
	int n;
	const bson_value_t *raw;
};

static bool
is_prefix(const char *a, const char *b)
{
	size_t n = strlen(a);

	return strlen(b) > n && strncmp(a, b, n) == 0 && b[n] == '.';
}

static int
seen_add(struct seen *sn, const char *path, struct sp_error *err)
{
	const char *prev = NULL, *next = NULL, *conflict = NULL;
	struct sp_buf m;
	int i;

	for (i = 0; i < sn->n; i++) {
		int c = strcmp(sn->p[i], path);

		if (c == 0)
			conflict = sn->p[i];
		else if (c < 0 && (prev == NULL || strcmp(sn->p[i], prev) > 0))
			prev = sn->p[i];
		else if (c > 0 && (next == NULL || strcmp(sn->p[i], next) < 0))
			next = sn->p[i];
	}
	if (conflict == NULL && prev != NULL && is_prefix(prev, path))
		conflict = prev;
	if (conflict == NULL && next != NULL && is_prefix(path, next))
		conflict = next;
	if (conflict != NULL) {
		sp_buf_init(&m);
		bson_obj_str(&m, sn->raw->value.v_doc.data,
		    sn->raw->value.v_doc.data_len);
		sp_error_set(err,
		    "specification contains two conflicting paths. Cannot "
		    "specify both '%s' and '%s': %s",
		    path, conflict, sp_buf_cstr(&m));
		sp_buf_release(&m);
		return -1;
	}
	sn->p = sp_xrealloc(sn->p, sizeof(*sn->p) * (sn->n + 1));
	sn->p[sn->n++] = sp_xstrdup(path);
	return 0;
}

static int validate_nested(struct seen *sn, const bson_value_t *obj,
    const char *prefix, struct sp_error *err);

static int
validate_elem(struct seen *sn, const bson_value_t *v, const char *path,
    struct sp_error *err)
{
	if (v->value_type == BSON_TYPE_DOCUMENT)
		return validate_nested(sn, v, path, err);
	return seen_add(sn, path, err);
}

static int
validate_nested(struct seen *sn, const bson_value_t *obj, const char *prefix,
    struct sp_error *err)
{
	bson_iter_t it;
	struct sp_buf m;
	uint32_t nf = 0;
	int rc = 0;

	bson_iter_init_from_data(
	    &it, obj->value.v_doc.data, obj->value.v_doc.data_len);
	while (bson_iter_next(&it))
		nf++;
	bson_iter_init_from_data(
	    &it, obj->value.v_doc.data, obj->value.v_doc.data_len);
	sp_buf_init(&m);
	while (rc == 0 && bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);

		if (k[0] == '$') {
			if (nf != 1) {
				sp_buf_reset(&m);
				bson_obj_str(&m, obj->value.v_doc.data,
				    obj->value.v_doc.data_len);
				sp_buf_puts(&m, ", while parsing object ");
				bson_obj_str(&m, sn->raw->value.v_doc.data,
				    sn->raw->value.v_doc.data_len);
				rc = sp_error_set(err,
				    "an expression specification must contain "
				    "exactly one field, the name of the "
				    "expression. Found %u fields in %s",
				    nf, sp_buf_cstr(&m));
				break;
			}
			rc = seen_add(sn, prefix, err);
			continue;
		}
		if (strchr(k, '.') != NULL) {
			sp_buf_reset(&m);
			bson_obj_str(&m, sn->raw->value.v_doc.data,
			    sn->raw->value.v_doc.data_len);
			rc = sp_error_set(err,
			    "cannot use dotted field name '%s' in a sub "
			    "object: %s",
			    k, sp_buf_cstr(&m));
			break;
		}
		sp_buf_reset(&m);
		sp_buf_printf(&m, "%s.%s", prefix, k);
		{
			char *path = sp_xstrdup(sp_buf_cstr(&m));

			rc = validate_elem(sn, bson_iter_value(&it), path, err);
			free(path);
		}
	}
	sp_buf_release(&m);
	return rc;
}

/* addExpressionForPath: the expression for value v at path p. */
static int
add_expr(struct pnode *root, const struct spath *p, const bson_value_t *v,
    struct sp_error *err)
{
	struct pnode *n;
	struct pentry *e;
	struct sp_expr *x;

	if (sp_expr_compile(&x, v, err) < 0)
		return -1;
	n = pnode_path(root, p, p->n - 1);
	e = pnode_find(n, p->c[p->n - 1].name, p->c[p->n - 1].len);
	if (e == NULL)
		e = pnode_add(
		    n, p->c[p->n - 1].name, p->c[p->n - 1].len, P_EXPR);
	sp_expr_free(e->expr);
	e->expr = x;
	n->computed = true;
	return 0;
}

/* AddFieldsProjectionExecutor::parseSubObject. */
static int
add_sub(struct pnode *root, const bson_value_t *obj, const char *prefix,
    struct sp_error *err)
{
	struct spath p;
	bson_iter_t it, first;
	struct sp_buf path;
	bool any = false;
	int rc = 0;

	sp_buf_init(&path);
	bson_iter_init_from_data(
	    &it, obj->value.v_doc.data, obj->value.v_doc.data_len);
	while (rc == 0 && bson_iter_next(&it)) {
		const bson_value_t *v = bson_iter_value(&it);

		any = true;
		sp_buf_reset(&path);
		sp_buf_printf(&path, "%s.%s", prefix, bson_iter_key(&it));
		if (v->value_type == BSON_TYPE_DOCUMENT &&
		    !(bson_iter_recurse(&it, &first) &&
			bson_iter_next(&first) &&
			bson_iter_key(&first)[0] == '$')) {
			char *pre = sp_xstrdup(sp_buf_cstr(&path));

			rc = add_sub(root, v, pre, err);
			free(pre);
			continue;
		}
		if (spath_parse(&p, (const char *)path.data, path.len, err) < 0)
			rc = -1;
		else
			rc = add_expr(root, &p, v, err);
		spath_release(&p);
	}
	/* An empty object is a value: {a: {}} sets a to {}. */
	if (rc == 0 && !any) {
		if (spath_parse(&p, prefix, strlen(prefix), err) < 0)
			rc = -1;
		else
			rc = add_expr(root, &p, obj, err);
		spath_release(&p);
	}
	sp_buf_release(&path);
	return rc;
}

int
stage_add_fields_new(struct stage **out, const char *name,
    const bson_value_t *spec, struct sp_error *err)
{
	struct proj_stage *ps;
	struct seen sn = {NULL, 0, spec};
	struct spath p;
	bson_iter_t it, first;
	int i, rc = 0;

	*out = NULL;
	if (spec->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(err,
		    "%s specification stage must be an object, got %s", name,
		    sp_expr_type_name(spec->value_type));
	ps = proj_new(
	    strcmp(name, "$set") == 0 ? &set_ops : &add_fields_ops, name);
	ps->mode = MODE_ADD;
	/* The validator first, over the whole spec. */
	bson_iter_init_from_data(
	    &it, spec->value.v_doc.data, spec->value.v_doc.data_len);
	while (rc == 0 && bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);

		if (sp_expr_check_field_path(k, bson_iter_key_len(&it), err) <
		    0)
			rc = -1;
		else
			rc = validate_elem(&sn, bson_iter_value(&it), k, err);
	}
	for (i = 0; i < sn.n; i++)
		free(sn.p[i]);
	free(sn.p);
	/* Then the tree. */
	bson_iter_init_from_data(
	    &it, spec->value.v_doc.data, spec->value.v_doc.data_len);
	while (rc == 0 && bson_iter_next(&it)) {
		const bson_value_t *v = bson_iter_value(&it);
		const char *k = bson_iter_key(&it);

		if (v->value_type == BSON_TYPE_DOCUMENT &&
		    !(bson_iter_recurse(&it, &first) &&
			bson_iter_next(&first) &&
			bson_iter_key(&first)[0] == '$')) {
			rc = add_sub(&ps->root, v, k, err);
			continue;
		}
		if (spath_parse(&p, k, bson_iter_key_len(&it), err) < 0)
			rc = -1;
		else
			rc = add_expr(&ps->root, &p, v, err);
		spath_release(&p);
	}
	if (rc < 0) {
		proj_free(&ps->base);
		return invalid(err, name);
	}
	mark_computed(&ps->root);
	*out = &ps->base;
	return 0;
}

/* ------------------------------------------------- $project and $unset */

struct pparse {
	enum pmode type; /* MODE_ADD: not known yet */
	bool id_specified, id_included, id_excluded;
	struct sp_error *err;
};

static bool
positional(const char *k)
{
	size_t n = strlen(k);

	return strstr(k, ".$.") != NULL ||
	    (n >= 2 && strcmp(k + n - 2, ".$") == 0) || strcmp(k, "$") == 0;
}

static int pp_elem(
    struct pparse *pp, struct pnode *parent, bool top, bson_iter_t *it);

/* parseSubObject: an expression, or a sub-projection. */
static int
pp_sub(struct pparse *pp, struct pnode *parent, const char *key,
    const bson_value_t *obj)
{
	struct pentry *e;
	struct spath p;
	bson_iter_t it;
	uint32_t nf = 0;
	int rc = 0;

	if (spath_parse(&p, key, strlen(key), pp->err) < 0)
		return -1;
	bson_iter_init_from_data(
	    &it, obj->value.v_doc.data, obj->value.v_doc.data_len);
	while (bson_iter_next(&it))
		nf++;
	bson_iter_init_from_data(
	    &it, obj->value.v_doc.data, obj->value.v_doc.data_len);
	if (nf == 0) {
		spath_release(&p);
		return sp_error_set(pp->err,
		    "An empty sub-projection is not a valid value. Found "
		    "empty object at path");
	}
	bson_iter_next(&it);
	if (nf == 1 && bson_iter_key(&it)[0] == '$') {
		const char *op = bson_iter_key(&it);
		struct sp_expr *x;

		if (strcmp(op, "$elemMatch") == 0) {
			spath_release(&p);
			return sp_error_set(
			    pp->err, "Cannot use $elemMatch in this context");
		}
		if (sp_expr_is_operator(op)) {
			if (pp->type == MODE_EXCLUDE) {
				spath_release(&p);
				return sp_error_set(pp->err,
				    "Cannot use expression other than $meta "
				    "in exclusion projection");
			}
			pp->type = MODE_INCLUDE;
			if (sp_expr_compile(&x, obj, pp->err) < 0) {
				spath_release(&p);
				return -1;
			}
			e = pnode_put(parent, &p, P_EXPR, pp->err);
			if (e == NULL) {
				sp_expr_free(x);
				spath_release(&p);
				return -1;
			}
			e->expr = x;
			spath_release(&p);
			return 0;
		}
		if (sp_expr_check_field_path(op, strlen(op), pp->err) < 0) {
			spath_release(&p);
			return sp_error_set(
			    pp->err, "Unknown expression %s", op);
		}
	}
	e = pnode_put(parent, &p, P_TREE, pp->err);
	spath_release(&p);
	if (e == NULL)
		return -1;
	bson_iter_init_from_data(
	    &it, obj->value.v_doc.data, obj->value.v_doc.data_len);
	while (rc == 0 && bson_iter_next(&it))
		rc = pp_elem(pp, e->child, false, &it);
	return rc;
}

static bool
is_flag(bson_type_t t)
{
	return t == BSON_TYPE_BOOL || t == BSON_TYPE_INT32 ||
	    t == BSON_TYPE_INT64 || t == BSON_TYPE_DOUBLE ||
	    t == BSON_TYPE_DECIMAL128;
}

/* BSONElement::trueValue for the numbers and booleans of a projection. */
static bool
flag_true(const bson_value_t *v)
{
	switch (v->value_type) {
	case BSON_TYPE_BOOL: return v->value.v_bool;
	case BSON_TYPE_INT32: return v->value.v_int32 != 0;
	case BSON_TYPE_INT64: return v->value.v_int64 != 0;
	case BSON_TYPE_DOUBLE: return v->value.v_double != 0;
	default: return sp_value_truthy(v);
	}
}

/* parseElement. */
static int
pp_elem(struct pparse *pp, struct pnode *parent, bool top, bson_iter_t *it)
{
	const char *k = bson_iter_key(it);
	const bson_value_t *v = bson_iter_value(it);
	struct pentry *e;
	struct spath p;
	bool is_id = top && strcmp(k, "_id") == 0;

	if (positional(k))
		return sp_error_set(pp->err,
		    "Cannot use positional projection in aggregation "
		    "projection");
	if (v->value_type == BSON_TYPE_DOCUMENT)
		return pp_sub(pp, parent, k, v);
	if (is_flag(v->value_type)) {
		bool in = flag_true(v);

		if (spath_parse(&p, k, bson_iter_key_len(it), pp->err) < 0)
			return -1;
		e = pnode_put(parent, &p, in ? P_INCLUDE : P_EXCLUDE, pp->err);
		spath_release(&p);
		if (e == NULL)
			return -1;
		if (is_id) {
			if (in)
				pp->id_included = true;
			else
				pp->id_excluded = true;
			return 0;
		}
		if (in && pp->type == MODE_EXCLUDE)
			return sp_error_set(pp->err,
			    "Cannot do inclusion on field %s in exclusion "
			    "projection",
			    k);
		if (!in && pp->type == MODE_INCLUDE)
			return sp_error_set(pp->err,
			    "Cannot do exclusion on field %s in inclusion "
			    "projection",
			    k);
		pp->type = in ? MODE_INCLUDE : MODE_EXCLUDE;
		return 0;
	}
	/* parseLiteral: any other value is computed. */
	{
		struct sp_expr *x;

		if (sp_expr_compile(&x, v, pp->err) < 0)
			return -1;
		if (spath_parse(&p, k, bson_iter_key_len(it), pp->err) < 0) {
			sp_expr_free(x);
			return -1;
		}
		e = pnode_put(parent, &p, P_EXPR, pp->err);
		spath_release(&p);
		if (e == NULL) {
			sp_expr_free(x);
			return -1;
		}
		e->expr = x;
		if (pp->type == MODE_EXCLUDE) {
			struct sp_buf m;

			sp_buf_init(&m);
			bson_elem_str(&m, k, v);
			sp_error_set(pp->err,
			    "Cannot use an expression %s in an exclusion "
			    "projection",
			    sp_buf_cstr(&m));
			sp_buf_release(&m);
			return -1;
		}
		pp->type = MODE_INCLUDE;
	}
	return 0;
}

/* Removes a top-level entry. */
static void
pnode_drop(struct pnode *n, const char *name)
{
	struct pentry *e = pnode_find(n, name, (uint32_t)strlen(name));
	int i;

	if (e == NULL)
		return;
	i = (int)(e - n->e);
	free(e->name);
	sp_expr_free(e->expr);
	if (e->child != NULL) {
		pnode_release(e->child);
		free(e->child);
	}
	memmove(&n->e[i], &n->e[i + 1], sizeof(*n->e) * (n->n - i - 1));
	n->n--;
}

/* projection_ast::parse, for $project's policies (aggregation: computed
 * fields allowed, _id included by default). */
static int
project_parse(
    struct proj_stage *ps, const bson_value_t *spec, struct sp_error *err)
{
	struct pparse pp = {MODE_ADD, false, false, false, err};
	bson_iter_t it;

	bson_iter_init_from_data(
	    &it, spec->value.v_doc.data, spec->value.v_doc.data_len);
	if (!bson_iter_next(&it))
		return sp_error_set(err,
		    "projection specification must have at least one field");
	bson_iter_init_from_data(
	    &it, spec->value.v_doc.data, spec->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);

		if (strcmp(k, "_id") == 0 || strncmp(k, "_id.", 4) == 0)
			pp.id_specified = true;
		if (pp_elem(&pp, &ps->root, true, &it) < 0)
			return -1;
	}
	if (pp.type == MODE_ADD)
		pp.type = pp.id_included ? MODE_INCLUDE : MODE_EXCLUDE;
	if (!pp.id_specified && pp.type == MODE_INCLUDE)
		pnode_add(&ps->root, "_id", 3, P_INCLUDE);
	if (pp.type == MODE_EXCLUDE && pp.id_included)
		pnode_drop(&ps->root, "_id");
	ps->mode = pp.type;
	mark_computed(&ps->root);
	return 0;
}

int
stage_project_new(struct stage **out, const char *name,
    const bson_value_t *spec, struct sp_error *err)
{
	struct proj_stage *ps;

	*out = NULL;
	if (spec->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(err,
		    "$project specification must be an "
		    "object");
	ps = proj_new(&project_ops, name);
	if (project_parse(ps, spec, err) < 0) {
		proj_free(&ps->base);
		return invalid(err, name);
	}
	*out = &ps->base;
	return 0;
}

int
stage_unset_new(struct stage **out, const char *name, const bson_value_t *spec,
    struct sp_error *err)
{
	struct proj_stage *ps;
	struct expr_buf b;
	struct sp_arena a;
	bson_value_t zero, ex;
	bson_iter_t it;
	int rc;

	*out = NULL;
	if (spec->value_type != BSON_TYPE_UTF8 &&
	    spec->value_type != BSON_TYPE_ARRAY)
		return sp_error_set(
		    err, "$unset specification must be a string or an array");
	/* {f: 0, ...}: an exclusion $project. */
	sp_arena_init(&a);
	sp_expr_buf_init(&b, &a);
	expr_set_int32(&zero, 0);
	if (spec->value_type == BSON_TYPE_UTF8) {
		sp_expr_buf_append(
		    &b, spec->value.v_utf8.str, spec->value.v_utf8.len, &zero);
	} else {
		bool any = false;

		bson_iter_init_from_data(
		    &it, spec->value.v_doc.data, spec->value.v_doc.data_len);
		while (bson_iter_next(&it)) {
			any = true;
			if (!BSON_ITER_HOLDS_UTF8(&it)) {
				sp_arena_release(&a);
				return sp_error_set(err,
				    "$unset specification must be a string "
				    "or an array containing only string "
				    "values");
			}
			sp_expr_buf_append(&b,
			    bson_iter_value(&it)->value.v_utf8.str,
			    bson_iter_value(&it)->value.v_utf8.len, &zero);
		}
		if (!any) {
			sp_arena_release(&a);
			return sp_error_set(err,
			    "$unset specification must be a string or an "
			    "array with at least one field");
		}
	}
	sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, &ex);
	ps = proj_new(&project_ops, name);
	rc = project_parse(ps, &ex, err);
	sp_arena_release(&a);
	if (rc < 0) {
		proj_free(&ps->base);
		return invalid(err, name);
	}
	*out = &ps->base;
	return 0;
}
