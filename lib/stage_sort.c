/* stage_sort.c: the $sort, $limit and $skip stages. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "group_int.h"

static const struct stage_ops limit_ops, skip_ops;

struct limit_stage {
	struct stage base;
	int64_t n;
	int64_t seen;
};

/* ---------------------------------------------------------------- $sort */

/*
 * One document held by $sort, in one allocation: this header, the sort
 * key (pointing into the copy or at static values), then the copy.
 */
struct sort_item {
	uint64_t seq; /* arrival order: equal keys keep it */
	uint32_t len;
	uint8_t *doc;
	bson_value_t keys[]; /* pattern.n of them */
};

struct sort_stage {
	struct stage base;
	struct sort_pattern pat;
	struct sort_item **item;
	size_t n, cap;
	uint64_t seq;
	/*
	 * The documents the stages after this one let through at most
	 * ($limit, after any $skip), found at the first push; 0: no bound.
	 * With a bound, item is a heap with the worst item on top, so
	 * memory stays within the bound, as MongoDB's $sort keeps only the
	 * top n when a $limit follows it.
	 */
	uint64_t bound;
	bool planned;
	bson_value_t *scratch; /* a key, pat.n values */
};

/* Order of (key, seq): the order documents leave in. */
static int
item_cmp(const struct sort_pattern *p, const bson_value_t *ka, uint64_t sa,
    const struct sort_item *b)
{
	int c = sort_key_compare(p, ka, b->keys);

	if (c != 0)
		return c;
	return sa < b->seq ? -1 : sa > b->seq;
}

static void
sift_down(struct sort_stage *ss, size_t i)
{
	struct sort_item **h = ss->item, *t;
	size_t c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= ss->n)
			return;
		if (c + 1 < ss->n &&
		    item_cmp(&ss->pat, h[c + 1]->keys, h[c + 1]->seq, h[c]) > 0)
			c++;
		if (item_cmp(&ss->pat, h[i]->keys, h[i]->seq, h[c]) >= 0)
			return;
		t = h[i];
		h[i] = h[c];
		h[c] = t;
		i = c;
	}
}

static void
sift_up(struct sort_stage *ss, size_t i)
{
	struct sort_item **h = ss->item, *t;
	size_t up;

	while (i > 0) {
		up = (i - 1) / 2;
		if (item_cmp(&ss->pat, h[i]->keys, h[i]->seq, h[up]) <= 0)
			return;
		t = h[i];
		h[i] = h[up];
		h[up] = t;
		i = up;
	}
}

/* $skip and $limit right after the $sort: how many documents can pass
 * them (what DocumentSourceSort::extractLimitForPushdown finds). */
static uint64_t
find_bound(const struct stage *s)
{
	uint64_t skip = 0;

	for (s = s->next; s != NULL; s = s->next) {
		if (s->ops == &skip_ops)
			skip += (uint64_t)((const struct limit_stage *)s)->n;
		else if (s->ops == &limit_ops)
			return skip +
			    (uint64_t)((const struct limit_stage *)s)->n;
		else
			return 0;
		if (skip > (uint64_t)INT64_MAX)
			return 0;
	}
	return 0;
}

static struct sort_item *
item_new(const struct sort_pattern *p, const uint8_t *doc, uint32_t len,
    uint64_t seq)
{
	size_t keys = sizeof(bson_value_t) * (size_t)p->n;
	struct sort_item *it = sp_xmalloc(sizeof(*it) + keys + len);

	it->seq = seq;
	it->len = len;
	it->doc = (uint8_t *)it->keys + keys;
	memcpy(it->doc, doc, len);
	return it;
}

static int
sort_push(struct stage *s, const uint8_t *doc, uint32_t len)
{
	struct sort_stage *ss = (struct sort_stage *)s;
	struct sort_item *it;

	if (!ss->planned) {
		ss->bound = find_bound(s);
		ss->planned = true;
	}
	if (ss->bound > 0 && ss->n == ss->bound) {
		/* Full: a document no better than the worst kept would not
		 * pass the $limit, so it is not copied at all. */
		if (sort_key_make(
			&ss->pat, doc, len, ss->scratch, stage_err(s)) < 0) {
			stage_fail(s, doc, len, stage_err(s)->msg);
			return 0;
		}
		if (item_cmp(&ss->pat, ss->scratch, ss->seq, ss->item[0]) >=
		    0) {
			ss->seq++;
			return 0;
		}
	}
	it = item_new(&ss->pat, doc, len, ss->seq);
	if (sort_key_make(&ss->pat, it->doc, len, it->keys, stage_err(s)) < 0) {
		free(it);
		stage_fail(s, doc, len, stage_err(s)->msg);
		return 0;
	}
	ss->seq++;
	if (ss->bound > 0 && ss->n == ss->bound) {
		free(ss->item[0]);
		ss->item[0] = it;
		sift_down(ss, 0);
		return 0;
	}
	if (ss->n == ss->cap) {
		ss->cap = ss->cap ? ss->cap * 2 : 64;
		ss->item = sp_xrealloc(ss->item, sizeof(*ss->item) * ss->cap);
	}
	ss->item[ss->n++] = it;
	if (ss->bound > 0)
		sift_up(ss, ss->n - 1);
	return 0;
}

/* A stable merge sort of a[0..n) by (key, seq), using tmp (n slots). */
static void
merge_sort(const struct sort_pattern *p, struct sort_item **a,
    struct sort_item **tmp, size_t n)
{
	size_t mid = n / 2, i = 0, j, k = 0;

	if (n < 2)
		return;
	merge_sort(p, a, tmp, mid);
	merge_sort(p, a + mid, tmp, n - mid);
	/* Already in order: the common case of sorted input. */
	if (item_cmp(p, a[mid - 1]->keys, a[mid - 1]->seq, a[mid]) <= 0)
		return;
	memcpy(tmp, a, sizeof(*a) * mid);
	j = mid;
	while (i < mid && j < n) {
		if (item_cmp(p, a[j]->keys, a[j]->seq, tmp[i]) < 0)
			a[k++] = a[j++];
		else
			a[k++] = tmp[i++];
	}
	while (i < mid)
		a[k++] = tmp[i++];
}

static void
sort_clear(struct sort_stage *ss)
{
	size_t i;

	for (i = 0; i < ss->n; i++)
		free(ss->item[i]);
	free(ss->item);
	ss->item = NULL;
	ss->n = ss->cap = 0;
	ss->seq = 0;
}

/* End of input: every document, in order; each is freed once the rest of
 * the chain is done with it, and what the chain allocated for it is
 * reclaimed before the next. */
static int
sort_finish(struct stage *s)
{
	struct sort_stage *ss = (struct sort_stage *)s;
	struct sp_arena *a = stage_arena(s);
	struct sort_item **tmp;
	struct sp_arena_mark mark;
	size_t i;
	int rc = 0;

	tmp = sp_xmalloc(sizeof(*tmp) * (ss->n / 2 + 1));
	merge_sort(&ss->pat, ss->item, tmp, ss->n);
	free(tmp);
	sp_arena_mark(a, &mark);
	for (i = 0; i < ss->n; i++) {
		if (rc == 0)
			rc = stage_emit(s, ss->item[i]->doc, ss->item[i]->len);
		sp_arena_rewind(a, &mark);
		free(ss->item[i]);
		ss->item[i] = NULL;
	}
	ss->n = 0;
	sort_clear(ss);
	return rc;
}

static void
sort_free(struct stage *s)
{
	struct sort_stage *ss = (struct sort_stage *)s;

	sort_clear(ss);
	sort_pattern_release(&ss->pat);
	free(ss->scratch);
	free(ss);
}

static const struct stage_ops sort_ops = {
    "SortOperator", sort_push, sort_finish, sort_free};

int
stage_sort_new(struct stage **out, const char *name, const bson_value_t *spec,
    struct sp_error *err)
{
	struct sort_stage *ss;
	struct sort_pattern pat;

	*out = NULL;
	if (sort_pattern_parse(&pat, spec, err) < 0)
		return -1;
	ss = sp_xcalloc(1, sizeof(*ss));
	ss->base.ops = &sort_ops;
	ss->base.name = name;
	ss->pat = pat;
	ss->scratch = sp_xcalloc((size_t)pat.n, sizeof(*ss->scratch));
	*out = &ss->base;
	return 0;
}

/* ------------------------------------------------------- $limit, $skip */

static int
limit_push(struct stage *s, const uint8_t *doc, uint32_t len)
{
	struct limit_stage *ls = (struct limit_stage *)s;

	if (ls->seen >= ls->n)
		return 0;
	ls->seen++;
	return stage_emit(s, doc, len);
}

static int
skip_push(struct stage *s, const uint8_t *doc, uint32_t len)
{
	struct limit_stage *ls = (struct limit_stage *)s;

	if (ls->seen < ls->n) {
		ls->seen++;
		return 0;
	}
	return stage_emit(s, doc, len);
}

static void
limit_free(struct stage *s)
{
	free(s);
}

static const struct stage_ops limit_ops = {
    "LimitOperator", limit_push, NULL, limit_free};
static const struct stage_ops skip_ops = {
    "SkipOperator", skip_push, NULL, limit_free};

/*
 * BSONElement::parseIntegerElementToNonNegativeLong, with the stage's
 * prefix: "invalid argument to $limit stage: Expected an integer:
 * $limit: 2.5".
 */
static int
parse_count(
    const char *name, const bson_value_t *v, int64_t *out, struct sp_error *err)
{
	const char *why = NULL;
	struct sp_decimal d;
	struct sp_buf b;
	double x;

	switch (v->value_type) {
	case BSON_TYPE_INT32: *out = v->value.v_int32; break;
	case BSON_TYPE_INT64: *out = v->value.v_int64; break;
	case BSON_TYPE_DOUBLE:
		x = v->value.v_double;
		if (isnan(x))
			why = "Expected an integer, but found NaN in";
		else if (x >= 9223372036854775808.0 ||
		    x < -9223372036854775808.0)
			why = "Cannot represent as a 64-bit integer";
		else if (x != (double)(int64_t)x)
			why = "Expected an integer";
		else
			*out = (int64_t)x;
		break;
	case BSON_TYPE_DECIMAL128:
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		if (sp_decimal_to_int64(&d, SP_DECIMAL_EXACT, out) < 0)
			why = "Cannot represent as a 64-bit integer";
		break;
	default: why = "Expected a number in"; break;
	}
	if (why == NULL && *out < 0)
		why = "Expected a non-negative number in";
	if (why == NULL)
		return 0;
	sp_buf_init(&b);
	bson_elem_str(&b, name, v);
	sp_error_set(err, "invalid argument to %s stage: %s: %s", name, why,
	    sp_buf_cstr(&b));
	sp_buf_release(&b);
	return -1;
}

static int
count_stage_new(struct stage **out, const char *name, const bson_value_t *spec,
    const struct stage_ops *ops, struct sp_error *err)
{
	struct limit_stage *ls;
	int64_t n;

	*out = NULL;
	if (parse_count(name, spec, &n, err) < 0)
		return -1;
	if (ops == &limit_ops && n == 0)
		return sp_error_set(err, "the limit must be positive");
	ls = sp_xcalloc(1, sizeof(*ls));
	ls->base.ops = ops;
	ls->base.name = name;
	ls->n = n;
	*out = &ls->base;
	return 0;
}

int
stage_limit_new(struct stage **out, const char *name, const bson_value_t *spec,
    struct sp_error *err)
{
	return count_stage_new(out, name, spec, &limit_ops, err);
}

int
stage_skip_new(struct stage **out, const char *name, const bson_value_t *spec,
    struct sp_error *err)
{
	return count_stage_new(out, name, spec, &skip_ops, err);
}
