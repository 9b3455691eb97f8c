/* stage_group.c: the blocking stages $group, $count and $sortByCount. */
#include <stdlib.h>
#include <string.h>

#include "group_int.h"

/*
 * Outside a window these stages take the whole input and emit at its end
 * (sp_pipeline_finish): our extension for batch and cron runs, where Atlas
 * allows them only inside a window. Each keeps one state per group, never
 * the documents, and emits the groups in the order they were first seen.
 * What the rest of the chain allocates for one output document is
 * reclaimed before the next, so the finish runs in flat memory.
 */

/* ----------------------------------------------------------------- $group */

struct group_stage {
	struct stage base;
	struct group_spec *spec;
	struct group_table *t;
	bool own_spec_acc; /* $sortByCount: acc[0] is ours, not accum.c's */
};

static int
group_push(struct stage *s, const uint8_t *doc, uint32_t len)
{
	struct group_stage *gs = (struct group_stage *)s;

	if (group_table_add(gs->t, doc, len, stage_arena(s), stage_err(s)) < 0)
		stage_fail(s, doc, len, stage_err(s)->msg);
	return 0;
}

/* Group i of t passed on; a result too large for BSON is a dead letter
 * with nothing but its key to show. */
static int
emit_group(struct stage *s, struct group_table *t, size_t i)
{
	struct sp_arena *a = stage_arena(s);
	struct expr_buf b;
	bson_value_t out;

	group_table_result(t, i, false, a, &out);
	if (out.value_type == BSON_TYPE_DOCUMENT)
		return stage_emit(
		    s, out.value.v_doc.data, out.value.v_doc.data_len);
	sp_expr_buf_init(&b, a);
	sp_expr_buf_append(&b, "_id", 3, group_table_key(t, i));
	if (sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, &out) == 0)
		stage_fail(s, out.value.v_doc.data, out.value.v_doc.data_len,
		    EXPR_TOO_LARGE);
	return 0;
}

/* $sortByCount's order: a group's count and where it was first seen. */
struct rank {
	int64_t count;
	size_t i;
};

/* Emits every group, in r's order (NULL: first seen first), then drops
 * them all. */
static int
emit_groups(struct stage *s, const struct rank *r)
{
	struct group_stage *gs = (struct group_stage *)s;
	struct sp_arena *a = stage_arena(s);
	struct sp_arena_mark mark;
	size_t i, n = group_table_count(gs->t);
	int rc = 0;

	sp_arena_mark(a, &mark);
	for (i = 0; i < n && rc == 0; i++) {
		rc = emit_group(s, gs->t, r != NULL ? r[i].i : i);
		sp_arena_rewind(a, &mark);
	}
	group_table_clear(gs->t);
	return rc;
}

static int
group_finish(struct stage *s)
{
	return emit_groups(s, NULL);
}

static void
group_free(struct stage *s)
{
	struct group_stage *gs = (struct group_stage *)s;

	group_table_free(gs->t);
	if (gs->spec != NULL && gs->own_spec_acc) {
		/* The count accumulator was not made by accum_compile. */
		free(gs->spec->acc[0].field);
		free(gs->spec->acc);
		gs->spec->acc = NULL;
		gs->spec->n = 0;
	}
	group_spec_free(gs->spec);
	free(gs);
}

static const struct stage_ops group_ops = {
    "GroupOperator", group_push, group_finish, group_free};

/* A stage of ops over the group g, which it takes. */
static struct stage *
group_stage_make(const struct stage_ops *ops, const char *name,
    struct group_spec *g, bool own_spec_acc)
{
	struct group_stage *gs = sp_xcalloc(1, sizeof(*gs));

	gs->base.ops = ops;
	gs->base.name = name;
	gs->spec = g;
	gs->own_spec_acc = own_spec_acc;
	gs->t = group_table_new(g);
	return &gs->base;
}

int
stage_group_new(struct stage **out, const char *name, const bson_value_t *spec,
    struct sp_error *err)
{
	struct group_spec *g;

	*out = NULL;
	if (group_spec_compile(&g, spec, err) < 0)
		return -1;
	*out = group_stage_make(&group_ops, name, g, false);
	return 0;
}

/* ----------------------------------------------------------------- $count */

struct count_stage {
	struct stage base;
	char *field;
	int64_t n;
};

static int
count_push(struct stage *s, const uint8_t *doc, uint32_t len)
{
	((struct count_stage *)s)->n++;
	return 0;
}

/* {field: n}, n an int while it fits, as {$sum: 1} makes it; nothing for
 * an empty input, as $group gives no group. */
static int
count_finish(struct stage *s)
{
	struct count_stage *cs = (struct count_stage *)s;
	struct expr_buf b;
	bson_value_t v, out;

	if (cs->n == 0)
		return 0;
	expr_set_int_or_long(&v, cs->n);
	cs->n = 0;
	sp_expr_buf_init(&b, stage_arena(s));
	sp_expr_buf_append(&b, cs->field, strlen(cs->field), &v);
	sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, &out);
	return stage_emit(s, out.value.v_doc.data, out.value.v_doc.data_len);
}

static void
count_free(struct stage *s)
{
	struct count_stage *cs = (struct count_stage *)s;

	free(cs->field);
	free(cs);
}

static const struct stage_ops count_ops = {
    "GroupOperator", count_push, count_finish, count_free};

/* DocumentSourceCount::createFromBson's checks, in its order. */
int
stage_count_new(struct stage **out, const char *name, const bson_value_t *spec,
    struct sp_error *err)
{
	struct count_stage *cs;
	const char *f;

	*out = NULL;
	if (spec->value_type != BSON_TYPE_UTF8 || spec->value.v_utf8.len == 0)
		return sp_error_set(
		    err, "the count field must be a non-empty string");
	f = spec->value.v_utf8.str;
	if (f[0] == '$')
		return sp_error_set(
		    err, "the count field cannot be a $-prefixed path");
	if (strlen(f) != spec->value.v_utf8.len)
		return sp_error_set(
		    err, "the count field cannot contain a null byte");
	if (strchr(f, '.') != NULL)
		return sp_error_set(err, "the count field cannot contain '.'");
	/* The server builds {$group: {_id: null, <f>: {$sum: 1}}}. */
	if (strcmp(f, "_id") == 0)
		return sp_error_set(
		    err, "a group's _id may only be specified once");
	cs = sp_xcalloc(1, sizeof(*cs));
	cs->base.ops = &count_ops;
	cs->base.name = name;
	cs->field = sp_xstrdup(f);
	*out = &cs->base;
	return 0;
}

/* ----------------------------------------------------------- $sortByCount */

/* {count: {$sum: 1}} for $sortByCount's own group: an int64 per group. */
static void
cnt_add(const struct accum *a, void *st, const bson_value_t *v)
{
	(*(int64_t *)st)++;
}

static void
cnt_result(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	expr_set_int_or_long(out, *(const int64_t *)st);
}

static int
cnt_merge(const struct accum *a, void *st, const bson_value_t *part,
    struct sp_error *err)
{
	return sp_error_set(err, "$sortByCount does not merge");
}

static const struct accum_ops cnt_ops = {
    .name = "$sum",
    .size = sizeof(int64_t),
    .add = cnt_add,
    .merge = cnt_merge,
    .result = cnt_result,
    .partial = cnt_result,
};

/* Count descending; ties in first-seen order. */
static int
rank_cmp(const void *pa, const void *pb)
{
	const struct rank *a = pa, *b = pb;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return (a->i > b->i) - (a->i < b->i);
}

static int
sort_by_count_finish(struct stage *s)
{
	struct group_stage *gs = (struct group_stage *)s;
	struct sp_arena *a = stage_arena(s);
	size_t i, n = group_table_count(gs->t);
	struct rank *r;
	bson_value_t v;
	int rc;

	if (n == 0)
		return 0;
	r = sp_xmalloc(n * sizeof(*r));
	for (i = 0; i < n; i++) {
		group_table_value(gs->t, i, 0, a, &v);
		r[i].count = v.value_type == BSON_TYPE_INT32 ? v.value.v_int32
							     : v.value.v_int64;
		r[i].i = i;
	}
	qsort(r, n, sizeof(*r), rank_cmp);
	rc = emit_groups(s, r);
	free(r);
	return rc;
}

static const struct stage_ops sort_by_count_ops = {
    "GroupOperator", group_push, sort_by_count_finish, group_free};

/* DocumentSourceSortByCount::createFromBson's checks; then the group is
 * {_id: <spec>, count: {$sum: 1}}, sorted by count descending. */
int
stage_sort_by_count_new(struct stage **out, const char *name,
    const bson_value_t *spec, struct sp_error *err)
{
	struct group_spec *g;
	struct expr_buf b;
	struct sp_arena ar;
	bson_value_t body;
	int rc;

	*out = NULL;
	if (spec->value_type != BSON_TYPE_DOCUMENT &&
	    spec->value_type != BSON_TYPE_UTF8)
		return sp_error_set(err,
		    "the sortByCount field must be specified as a string or "
		    "as an object");
	if (!group_by_ok(spec, 1))
		return sp_error_set(err,
		    "the sortByCount field must be defined as a "
		    "$-prefixed path or an expression inside an "
		    "object");
	sp_arena_init(&ar);
	sp_expr_buf_init(&b, &ar);
	sp_expr_buf_append(&b, "_id", 3, spec);
	sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, &body);
	rc = group_spec_compile(&g, &body, err);
	sp_arena_release(&ar);
	if (rc < 0)
		return -1;
	g->acc = sp_xcalloc(1, sizeof(*g->acc));
	g->acc[0].ops = &cnt_ops;
	g->acc[0].field = sp_xstrdup("count");
	g->acc[0].off = 0;
	g->size = cnt_ops.size;
	g->n = 1;
	*out = group_stage_make(&sort_by_count_ops, name, g, true);
	return 0;
}
