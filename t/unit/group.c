/* group.c: unit tests of group specs and group tables (lib/group.c), with
 * accumulators of the test's own so that the table is tested alone. */
#include <stdlib.h>
#include <string.h>

#include "group_int.h"
#include "tap.h"

/* ------------------------------------------------------------ helpers */

static struct sp_buf scratch[1024];
static int nscratch;

/* JSON text as BSON, kept until the end of the test. */
static const uint8_t *
bson(const char *json, uint32_t *len)
{
	struct sp_buf *b = &scratch[nscratch++];
	struct sp_error err;

	sp_buf_init(b);
	if (sp_json_parse(b, json, strlen(json), &err) < 0) {
		printf("# bad JSON %s: %s\n", json, err.msg);
		exit(2);
	}
	*len = (uint32_t)b->len;
	return b->data;
}

static void
free_scratch(void)
{
	while (nscratch > 0)
		sp_buf_release(&scratch[--nscratch]);
}

/* The value of {"v": json}. */
static bson_value_t
value(const char *json)
{
	char text[1024];
	const uint8_t *d;
	uint32_t len;
	bson_iter_t it;

	snprintf(text, sizeof(text), "{\"v\": %s}", json);
	d = bson(text, &len);
	bson_iter_init_from_data(&it, d, len);
	bson_iter_next(&it);
	return *bson_iter_value(&it);
}

static char rendered[4096];

static const char *
render(const bson_value_t *v, unsigned flags)
{
	struct sp_buf b;

	sp_buf_init(&b);
	if (v->value_type == BSON_TYPE_DOCUMENT)
		sp_ejson_doc(
		    &b, v->value.v_doc.data, v->value.v_doc.data_len, flags);
	else
		sp_ejson_value(&b, v, flags);
	snprintf(rendered, sizeof(rendered), "%s", sp_buf_cstr(&b));
	sp_buf_release(&b);
	return rendered;
}

/* ------------------------------------------- the test's accumulators */

/* tsum: the sum of the numbers, as a double; its partial is that double. */
static void
tsum_add(const struct accum *a, void *st, const bson_value_t *v)
{
	if (sp_value_is_number(v))
		*(double *)st += sp_expr_num_double(v);
}

static int
tsum_merge(const struct accum *a, void *st, const bson_value_t *part,
    struct sp_error *err)
{
	if (part->value_type != BSON_TYPE_DOUBLE)
		return sp_error_set(err, "tsum: not a partial");
	*(double *)st += part->value.v_double;
	return 0;
}

static void
tsum_result(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	expr_set_double(out, *(const double *)st);
}

static const struct accum_ops tsum_ops = {
    .name = "$tsum",
    .size = sizeof(double),
    .add = tsum_add,
    .merge = tsum_merge,
    .result = tsum_result,
    .partial = tsum_result,
};

/* tlist: every int32 seen, on the heap; the result and the partial are
 * the array. init refuses the key "bad". */
struct tlist {
	int32_t *v;
	size_t n;
};

static int tlist_live; /* lists initialized and not yet released */

static int
tlist_init(const struct accum *a, void *st, const bson_value_t *key,
    struct sp_error *err)
{
	if (key->value_type == BSON_TYPE_UTF8 &&
	    strcmp(key->value.v_utf8.str, "bad") == 0)
		return sp_error_set(err, "tlist: bad key");
	tlist_live++;
	return 0;
}

static void
tlist_push(struct tlist *l, int32_t x)
{
	l->v = sp_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = x;
}

static void
tlist_add(const struct accum *a, void *st, const bson_value_t *v)
{
	if (v->value_type == BSON_TYPE_INT32)
		tlist_push(st, v->value.v_int32);
}

static int
tlist_merge(const struct accum *a, void *st, const bson_value_t *part,
    struct sp_error *err)
{
	bson_iter_t it;

	if (part->value_type != BSON_TYPE_ARRAY ||
	    !bson_iter_init_from_data(
		&it, part->value.v_doc.data, part->value.v_doc.data_len))
		return sp_error_set(err, "tlist: not a partial");
	while (bson_iter_next(&it))
		if (!BSON_ITER_HOLDS_INT32(&it))
			return sp_error_set(err, "tlist: not a partial");
	bson_iter_init_from_data(
	    &it, part->value.v_doc.data, part->value.v_doc.data_len);
	while (bson_iter_next(&it))
		tlist_push(st, bson_iter_int32(&it));
	return 0;
}

static void
tlist_result(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	const struct tlist *l = st;
	struct expr_buf b;
	bson_value_t x;
	size_t i;

	sp_expr_buf_init(&b, ar);
	for (i = 0; i < l->n; i++) {
		expr_set_int32(&x, l->v[i]);
		sp_expr_buf_append(&b, NULL, 0, &x);
	}
	sp_expr_buf_finish(&b, BSON_TYPE_ARRAY, out);
}

static size_t
tlist_bytes(const struct accum *a, const void *st)
{
	return ((const struct tlist *)st)->n * sizeof(int32_t);
}

static void
tlist_release(const struct accum *a, void *st)
{
	struct tlist *l = st;

	free(l->v);
	l->v = NULL;
	l->n = 0;
	tlist_live--;
}

static const struct accum_ops tlist_ops = {
    .name = "$tlist",
    .size = sizeof(struct tlist),
    .init = tlist_init,
    .add = tlist_add,
    .merge = tlist_merge,
    .result = tlist_result,
    .partial = tlist_result,
    .bytes = tlist_bytes,
    .release = tlist_release,
};

/*
 * A spec made by hand: _id from id_json, then "s": {$tsum: sum_json} and,
 * when list_json is not NULL, "l": {$tlist: list_json}.
 */
static struct group_spec *
spec_new(const char *id_json, const char *sum_json, const char *list_json)
{
	struct group_spec *g = sp_xcalloc(1, sizeof(*g));
	struct sp_error err;
	bson_value_t v;

	v = value(id_json);
	if (sp_expr_compile(&g->id, &v, &err) < 0) {
		printf("# bad _id %s: %s\n", id_json, err.msg);
		exit(2);
	}
	g->acc = sp_xcalloc(2, sizeof(*g->acc));
	g->acc[0].ops = &tsum_ops;
	g->acc[0].field = "s";
	v = value(sum_json);
	sp_expr_compile(&g->acc[0].expr, &v, &err);
	g->acc[0].off = 0;
	g->size = 16;
	g->n = 1;
	if (list_json != NULL) {
		g->acc[1].ops = &tlist_ops;
		g->acc[1].field = "l";
		v = value(list_json);
		sp_expr_compile(&g->acc[1].expr, &v, &err);
		g->acc[1].off = 16;
		g->size = 16 + sizeof(struct tlist);
		g->n = 2;
	}
	return g;
}

static void
spec_free(struct group_spec *g)
{
	int i;

	for (i = 0; i < g->n; i++)
		sp_expr_free(g->acc[i].expr);
	free(g->acc);
	sp_expr_free(g->id);
	free(g);
}

static struct sp_arena arena;
static struct sp_error err;

static int
add(struct group_table *t, const char *json)
{
	struct sp_buf b;
	int rc;

	sp_buf_init(&b);
	if (sp_json_parse(&b, json, strlen(json), &err) < 0) {
		printf("# bad JSON %s: %s\n", json, err.msg);
		exit(2);
	}
	/* The table keeps copies: the document goes at once. */
	rc = group_table_add(t, b.data, (uint32_t)b.len, &arena, &err);
	sp_buf_release(&b);
	return rc;
}

/* Every group as relaxed JSON, one per line (partial: canonical). */
static const char *
dump(const struct group_table *t, bool partial)
{
	static char out[8192];
	struct sp_buf b;
	bson_value_t v;
	size_t i;

	sp_buf_init(&b);
	for (i = 0; i < group_table_count(t); i++) {
		group_table_result(t, i, partial, &arena, &v);
		sp_ejson_doc(&b, v.value.v_doc.data, v.value.v_doc.data_len,
		    partial ? SP_EJSON_CANONICAL : SP_EJSON_RELAXED);
		sp_buf_putc(&b, '\n');
	}
	snprintf(out, sizeof(out), "%s", sp_buf_cstr(&b));
	sp_buf_release(&b);
	return out;
}

/* ---------------------------------------------------------------- tests */

static void
test_numbers(void)
{
	struct group_spec *g = spec_new("\"$k\"", "1", NULL);
	struct group_table *t = group_table_new(g);

	add(t, "{\"k\": 1}");
	add(t, "{\"k\": {\"$numberLong\": \"1\"}}");
	add(t, "{\"k\": 1.0}");
	add(t, "{\"k\": {\"$numberDecimal\": \"1.000\"}}");
	is_int(group_table_count(t), 1, "1, 1L, 1.0, 1.000m: one group");
	is_str(render(group_table_key(t, 0), SP_EJSON_CANONICAL),
	    "{\"$numberInt\":\"1\"}", "the first representation is kept");
	group_table_clear(t);
	is_int(group_table_count(t), 0, "clear drops every group");

	add(t, "{\"k\": {\"$numberDecimal\": \"2\"}}");
	add(t, "{\"k\": 2}");
	add(t, "{\"k\": 2.0}");
	is_int(group_table_count(t), 1, "2m, 2, 2.0: one group");
	is_str(render(group_table_key(t, 0), SP_EJSON_CANONICAL),
	    "{\"$numberDecimal\":\"2\"}", "a decimal seen first is kept");
	group_table_clear(t);

	add(t, "{\"k\": {\"$numberDouble\": \"-0.0\"}}");
	add(t, "{\"k\": 0}");
	add(t, "{\"k\": {\"$numberDecimal\": \"-0E+3\"}}");
	is_int(group_table_count(t), 1, "-0.0, 0 and -0E+3m: one group");
	group_table_clear(t);

	add(t, "{\"k\": {\"$numberDouble\": \"NaN\"}}");
	add(t, "{\"k\": {\"$numberDecimal\": \"NaN\"}}");
	add(t, "{\"k\": {\"$numberDecimal\": \"-NaN\"}}");
	is_int(group_table_count(t), 1, "double and decimal NaNs: one group");
	add(t, "{\"k\": {\"$numberDouble\": \"Infinity\"}}");
	add(t, "{\"k\": {\"$numberDecimal\": \"Infinity\"}}");
	add(t, "{\"k\": {\"$numberDouble\": \"-Infinity\"}}");
	is_int(group_table_count(t), 3, "+inf (double, decimal), -inf");
	group_table_clear(t);

	add(t, "{\"k\": 0.5}");
	add(t, "{\"k\": {\"$numberDecimal\": \"0.50\"}}");
	is_int(group_table_count(t), 1, "0.5 and 0.50m: one group");
	add(t, "{\"k\": 0.1}");
	add(t, "{\"k\": {\"$numberDecimal\": \"0.1\"}}");
	is_int(group_table_count(t), 3,
	    "0.1 and 0.1m differ (the double is not exactly 0.1)");
	group_table_clear(t);

	/* Beyond 2^53 a long is not a double. */
	add(t, "{\"k\": {\"$numberLong\": \"9007199254740993\"}}");
	add(t, "{\"k\": 9007199254740992.0}");
	add(t, "{\"k\": {\"$numberDecimal\": \"9007199254740993\"}}");
	add(t, "{\"k\": {\"$numberLong\": \"9007199254740992\"}}");
	is_int(group_table_count(t), 2,
	    "2^53+1 (long, decimal) and 2^53 (double, long)");
	add(t, "{\"k\": 9223372036854775808.0}");
	add(t, "{\"k\": {\"$numberLong\": \"9223372036854775807\"}}");
	add(t, "{\"k\": {\"$numberDecimal\": \"9223372036854775808\"}}");
	is_int(group_table_count(t), 4, "2^63 (double, decimal), 2^63-1");
	add(t, "{\"k\": 1e300}");
	add(t, "{\"k\": {\"$numberDecimal\": \"1E+300\"}}");
	is_int(group_table_count(t), 6, "1e300 and 1E+300m differ");
	group_table_free(t);
	spec_free(g);
}

static void
test_keys(void)
{
	struct group_spec *g = spec_new("\"$k\"", "1", NULL);
	struct group_table *t = group_table_new(g);

	add(t, "{\"k\": {\"a\": 1, \"b\": 2}}");
	add(t, "{\"k\": {\"b\": 2, \"a\": 1}}");
	is_int(group_table_count(t), 2, "{a:1,b:2} and {b:2,a:1}: two groups");
	add(t, "{\"k\": {\"a\": 1.0, \"b\": {\"$numberLong\": \"2\"}}}");
	is_int(group_table_count(t), 2, "{a:1.0,b:2L} is {a:1,b:2}");
	add(t, "{\"k\": [1, 2]}");
	add(t, "{\"k\": [2, 1]}");
	add(t, "{\"k\": [1.0, {\"$numberDecimal\": \"2\"}]}");
	is_int(group_table_count(t), 4, "arrays element-wise, in order");
	add(t, "{\"k\": [1]}");
	add(t, "{\"k\": 1}");
	is_int(group_table_count(t), 6, "[1] and 1 differ");
	add(t, "{\"k\": \"a\"}");
	add(t, "{\"k\": {\"$symbol\": \"a\"}}");
	is_int(group_table_count(t), 7, "a string and a symbol alike");
	add(t, "{\"k\": {\"$date\": \"1970-01-01T00:00:01Z\"}}");
	add(t, "{\"k\": {\"$timestamp\": {\"t\": 1, \"i\": 0}}}");
	is_int(group_table_count(t), 9, "a date and a timestamp differ");
	add(t, "{\"k\": true}");
	add(t, "{\"k\": false}");
	add(t, "{\"k\": {\"$oid\": \"0123456789abcdef01234567\"}}");
	add(t, "{\"k\": {\"$oid\": \"0123456789abcdef01234567\"}}");
	add(t,
	    "{\"k\": {\"$binary\": {\"base64\": \"AAE=\", \"subType\": "
	    "\"00\"}}}");
	add(t,
	    "{\"k\": {\"$binary\": {\"base64\": \"AAE=\", \"subType\": "
	    "\"05\"}}}");
	add(t,
	    "{\"k\": {\"$regularExpression\": {\"pattern\": \"a\", "
	    "\"options\": \"i\"}}}");
	add(t,
	    "{\"k\": {\"$regularExpression\": {\"pattern\": \"a\", "
	    "\"options\": \"i\"}}}");
	add(t, "{\"k\": {\"$minKey\": 1}}");
	add(t, "{\"k\": {\"$maxKey\": 1}}");
	is_int(group_table_count(t), 17, "bools, oid, binary, regex, min/max");
	add(t, "{\"k\": {\"x\": {\"y\": [{\"$numberLong\": \"3\"}]}}}");
	add(t, "{\"k\": {\"x\": {\"y\": [3.0]}}}");
	is_int(group_table_count(t), 18, "deep keys normalize their numbers");
	group_table_free(t);
	spec_free(g);

	/* A plain _id: missing and null are one group. */
	g = spec_new("\"$k\"", "1", NULL);
	t = group_table_new(g);
	add(t, "{\"k\": null}");
	add(t, "{}");
	add(t, "{\"k\": {\"$undefined\": true}}");
	is_int(
	    group_table_count(t), 2, "null and missing one, undefined apart");
	is_str(dump(t, false),
	    "{\"_id\":null,\"s\":2.0}\n"
	    "{\"_id\":{\"$undefined\":true},\"s\":1.0}\n",
	    "missing _id shows as null");
	group_table_free(t);
	spec_free(g);

	/* $$REMOVE is missing too. */
	g = spec_new("\"$$REMOVE\"", "1", NULL);
	t = group_table_new(g);
	add(t, "{\"k\": 1}");
	is_str(dump(t, false), "{\"_id\":null,\"s\":1.0}\n", "$$REMOVE: null");
	group_table_free(t);
	spec_free(g);

	/* A compound _id: a missing field is left out, so {} is not
	 * {x: null}. */
	g = spec_new("{\"x\": \"$v\"}", "1", NULL);
	t = group_table_new(g);
	add(t, "{\"v\": null}");
	add(t, "{}");
	add(t, "{\"v\": null}");
	add(t, "{\"w\": 1}");
	is_str(dump(t, false),
	    "{\"_id\":{\"x\":null},\"s\":2.0}\n{\"_id\":{},\"s\":2.0}\n",
	    "compound: {x: null} and {} apart");
	group_table_free(t);
	spec_free(g);
}

static void
test_failures(void)
{
	struct group_spec *g =
	    spec_new("{\"$divide\": [1, \"$d\"]}", "\"$n\"", "\"$n\"");
	struct group_table *t = group_table_new(g);
	size_t bytes;

	is_int(add(t, "{\"d\": 1, \"n\": 5}"), 0, "a document that works");
	bytes = group_table_bytes(t);
	is_int(add(t, "{\"d\": 0, \"n\": 5}"), -1, "_id fails");
	is_str(err.msg, "can't $divide by zero", "with the expression's error");
	is_int(group_table_count(t), 1, "no group made");
	is_int(group_table_bytes(t), bytes, "nothing held");
	group_table_free(t);
	spec_free(g);

	/* An accumulator's input fails after the _id worked. */
	g = spec_new("\"$k\"", "{\"$divide\": [1, \"$d\"]}", "\"$n\"");
	t = group_table_new(g);
	add(t, "{\"k\": 1, \"d\": 1, \"n\": 7}");
	is_int(add(t, "{\"k\": 1, \"d\": 0, \"n\": 8}"), -1,
	    "an input fails for an old group");
	is_int(add(t, "{\"k\": 2, \"d\": 0, \"n\": 8}"), -1,
	    "an input fails for a new group");
	is_str(dump(t, false), "{\"_id\":1,\"s\":1.0,\"l\":[7]}\n",
	    "no group changed, none made");

	/* An accumulator refuses a key: the group is not made. */
	is_int(add(t, "{\"k\": \"bad\", \"d\": 1, \"n\": 1}"), -1,
	    "init refuses a key");
	is_str(err.msg, "tlist: bad key", "with its error");
	is_int(group_table_count(t), 1, "and no group is made");
	is_int(add(t, "{\"k\": \"good\", \"d\": 1, \"n\": 1}"), 0,
	    "the next key is fine");
	is_int(tlist_live, 2, "every list alive belongs to a group");
	is_str(render(group_table_key(t, 1), SP_EJSON_RELAXED), "\"good\"",
	    "its key is intact");
	group_table_free(t);
	is_int(tlist_live, 0, "free releases every group's state");
	spec_free(g);
}

static void
test_memory(void)
{
	struct group_spec *g = spec_new("\"$k\"", "\"$n\"", NULL);
	struct group_table *t = group_table_new(g);
	size_t b10, i;
	char doc[128];
	int ok_all = 1;

	for (i = 0; i < 10; i++) {
		snprintf(doc, sizeof(doc), "{\"k\": \"key-%zu\", \"n\": 1}", i);
		add(t, doc);
		sp_arena_reset(&arena);
		free_scratch();
	}
	b10 = group_table_bytes(t);
	ok(b10 > 0, "ten groups hold something (%zu bytes)", b10);
	for (i = 0; i < 10000; i++) {
		snprintf(
		    doc, sizeof(doc), "{\"k\": \"key-%zu\", \"n\": 1}", i % 10);
		add(t, doc);
		sp_arena_reset(&arena);
		free_scratch();
	}
	is_int(group_table_count(t), 10, "10000 more documents, same groups");
	is_int(group_table_bytes(t), b10, "and the same bytes");
	for (i = 0; i < 20000; i++) {
		snprintf(doc, sizeof(doc), "{\"k\": %zu, \"n\": %zu}", i, i);
		add(t, doc);
		sp_arena_reset(&arena);
		free_scratch();
	}
	is_int(group_table_count(t), 20010, "20000 new groups");
	for (i = 0; i < 20000; i++) {
		bson_value_t v;

		group_table_value(t, 10 + i, 0, &arena, &v);
		if (v.value.v_double != (double)i ||
		    group_table_key(t, 10 + i)->value.v_int32 != (int32_t)i)
			ok_all = 0;
		snprintf(doc, sizeof(doc), "{\"k\": %zu.0, \"n\": 1}", i);
		add(t, doc);
		sp_arena_reset(&arena);
		free_scratch();
	}
	ok(ok_all, "each in first-seen order with its own state");
	is_int(
	    group_table_count(t), 20010, "found again through a growing index");
	ok(group_table_bytes(t) > b10 * 1000, "bytes grow with groups (%zu)",
	    group_table_bytes(t));
	group_table_clear(t);
	ok(group_table_bytes(t) < 1024, "clear gives them back (%zu)",
	    group_table_bytes(t));
	group_table_free(t);
	spec_free(g);

	/* What an accumulator keeps on the heap counts. */
	g = spec_new("\"$k\"", "1", "\"$n\"");
	t = group_table_new(g);
	add(t, "{\"k\": 1, \"n\": 1}");
	b10 = group_table_bytes(t);
	add(t, "{\"k\": 1, \"n\": 2}");
	add(t, "{\"k\": 1, \"n\": 3}");
	is_int(group_table_bytes(t), b10 + 2 * sizeof(int32_t),
	    "heap bytes (ops->bytes) count");
	group_table_free(t);
	spec_free(g);
}

static void
test_merge(void)
{
	struct group_spec *g = spec_new("\"$k\"", "\"$n\"", "\"$n\"");
	struct group_table *a = group_table_new(g), *b = group_table_new(g),
			   *all = group_table_new(g), *m = group_table_new(g);
	const char *docs[] = {"{\"k\": \"x\", \"n\": 1}",
	    "{\"k\": \"y\", \"n\": 2}", "{\"n\": 3}",
	    "{\"k\": \"x\", \"n\": 4}", "{\"k\": \"z\", \"n\": 5}",
	    "{\"k\": \"y\", \"n\": 6}", "{\"k\": \"x\", \"n\": 7}"};
	char want[8192], buf[512];
	bson_value_t v;
	const uint8_t *d;
	uint32_t len;
	size_t i;

	for (i = 0; i < 7; i++) {
		add(all, docs[i]);
		add(i < 3 ? a : b, docs[i]);
	}
	snprintf(want, sizeof(want), "%s", dump(all, false));
	for (i = 0; i < group_table_count(a); i++) {
		group_table_result(a, i, true, &arena, &v);
		is_int(group_table_merge(m, v.value.v_doc.data,
			   v.value.v_doc.data_len, &arena, &err),
		    0, "merge a's group %zu", i);
	}
	for (i = 0; i < group_table_count(b); i++) {
		group_table_result(b, i, true, &arena, &v);
		group_table_merge(m, v.value.v_doc.data, v.value.v_doc.data_len,
		    &arena, &err);
	}
	is_str(dump(m, false), want, "partials merged in order: one run");

	d = bson("{\"s\": 1.0, \"l\": [1]}", &len);
	is_int(group_table_merge(m, d, len, &arena, &err), -1, "no _id");
	is_str(err.msg, "not a partial state of this $group: no _id",
	    "no _id: message");
	d = bson("{\"_id\": \"x\", \"s\": 1.0, \"q\": 1}", &len);
	is_int(
	    group_table_merge(m, d, len, &arena, &err), -1, "an extra field");
	is_str(err.msg, "not a partial state of this $group: unknown field 'q'",
	    "extra field: message");
	d = bson("{\"_id\": \"x\", \"s\": 1.0, \"l\": [1]}", &len);
	is_int(group_table_merge(m, d, len, &arena, &err), -1, "no $partialOf");
	is_str(err.msg, "not a partial state of this $group: no $partialOf",
	    "no $partialOf: message");
	snprintf(buf, sizeof(buf),
	    "{\"_id\": \"x\", \"$partialOf\": \"0123456789abcdef\", "
	    "\"s\": 1.0, \"l\": [1]}");
	d = bson(buf, &len);
	is_int(group_table_merge(m, d, len, &arena, &err), -1,
	    "another spec's $partialOf");
	snprintf(buf, sizeof(buf),
	    "{\"_id\": \"x\", \"$partialOf\": \"%s\", \"s\": 1.0, "
	    "\"l\": [1, \"two\"]}",
	    g->fingerprint);
	d = bson(buf, &len);
	is_int(group_table_merge(m, d, len, &arena, &err), -1,
	    "an accumulator refuses its partial");
	is_str(err.msg, "tlist: not a partial", "with its message");
	snprintf(buf, sizeof(buf),
	    "{\"_id\": \"new\", \"$partialOf\": \"%s\", \"s\": 1.0, "
	    "\"l\": 5}",
	    g->fingerprint);
	d = bson(buf, &len);
	is_int(group_table_merge(m, d, len, &arena, &err), -1,
	    "a bad partial for a new group");
	is_str(dump(m, false), want, "and nothing changed");
	snprintf(buf, sizeof(buf),
	    "{\"_id\": \"w\", \"$partialOf\": \"%s\", \"s\": 2.5, "
	    "\"l\": [9]}",
	    g->fingerprint);
	d = bson(buf, &len);
	is_int(group_table_merge(m, d, len, &arena, &err), 0, "a good one");
	is_int(group_table_count(m), 5, "makes a group");
	group_table_free(a);
	group_table_free(b);
	group_table_free(all);
	group_table_free(m);
	spec_free(g);
}

/* Compile errors that come before any accumulator is looked up. */
static void
test_compile(void)
{
	static const struct {
		const char *spec, *msg;
	} bad[] = {
	    {"{}", "a group specification must include an _id"},
	    {"{\"_id\": 1, \"_id\": 2}",
		"a group's _id may only be specified once"},
	    {"{\"_id\": {\"a\": 1}}",
		"$group does not support inclusion-style expressions"},
	    {"{\"_id\": {\"a\": \"$x\", \"b\": true}}",
		"$group does not support inclusion-style expressions"},
	    {"{\"_id\": null, \"a\": 1}",
		"The field 'a' must be an accumulator object"},
	    {"{\"_id\": null, \"a\": {}}",
		"The field 'a' must be an accumulator object"},
	    {"{\"_id\": null, \"a\": {\"b\": 1}}",
		"The field 'a' must be an accumulator object"},
	    {"{\"_id\": null, \"a.b\": 1}",
		"The field 'a.b' must be an accumulator object"},
	    {"{\"_id\": null, \"a.b\": {\"$sum\": 1}}",
		"The field name 'a.b' cannot contain '.'"},
	    {"{\"_id\": null, \"$a\": {\"$sum\": 1}}",
		"The field name '$a' cannot be an operator name"},
	    {"{\"n\": 5, \"_id\": null}",
		"The field 'n' must be an accumulator object"},
	    {"{\"_id\": {\"$nope\": 1}}", "Unrecognized expression '$nope'"},
	};
	struct group_spec *g;
	bson_value_t v;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = value(bad[i].spec);
		is_int(group_spec_compile(&g, &v, &err), -1, "%s", bad[i].spec);
		is_str(err.msg, bad[i].msg, "%s: message", bad[i].spec);
		ok(g == NULL, "%s: nothing made", bad[i].spec);
	}
	v = value("[1]");
	group_spec_compile(&g, &v, &err);
	is_str(err.msg, "a group's fields must be specified in an object",
	    "not an object");

	v = value("{\"_id\": {}}");
	is_int(group_spec_compile(&g, &v, &err), 0, "_id: {} is a constant");
	if (g != NULL) {
		struct group_table *t = group_table_new(g);

		add(t, "{\"a\": 1}");
		add(t, "{\"b\": 1}");
		is_str(dump(t, false), "{\"_id\":{}}\n", "one group, {}");
		group_table_free(t);
		group_spec_free(g);
	}
	v = value("{\"_id\": {\"a\": \"$a\", \"b\": {\"$add\": [\"$a\", 1]}}}");
	is_int(group_spec_compile(&g, &v, &err), 0, "an object of expressions");
	if (g != NULL) {
		struct group_table *t = group_table_new(g);

		add(t, "{\"a\": 1}");
		is_str(dump(t, false), "{\"_id\":{\"a\":1,\"b\":2}}\n",
		    "evaluated as an object");
		group_table_free(t);
		group_spec_free(g);
	}
}

/* Through accumulators of accum.c, when they are there. */
static void
test_real(void)
{
	struct group_spec *g;
	struct group_table *t;
	bson_value_t v;

	v = value("{\"_id\": \"$k\", \"n\": {\"$sum\": 1}, \"a\": {\"$avg\": "
		  "\"$x\"}, \"f\": {\"$first\": \"$x\"}}");
	if (group_spec_compile(&g, &v, &err) < 0) {
		printf("# skipped: accum.c has no $sum yet (%s)\n", err.msg);
		return;
	}
	t = group_table_new(g);
	add(t, "{\"k\": 1, \"x\": 1}");
	add(t, "{\"k\": 1.0, \"x\": 2}");
	add(t, "{\"k\": 2}");
	is_str(dump(t, false),
	    "{\"_id\":1,\"n\":2,\"a\":1.5,\"f\":1}\n"
	    "{\"_id\":2,\"n\":1,\"a\":null,\"f\":null}\n",
	    "$sum, $avg, $first");
	group_table_free(t);
	group_spec_free(g);

	v = value(
	    "{\"_id\": null, \"a\": {\"$sum\": 1}, \"a\": {\"$max\": 1}}");
	is_int(group_spec_compile(&g, &v, &err), -1, "one field twice");
	is_str(err.msg, "a group's field 'a' may only be specified once",
	    "one field twice: message");
	v = value("{\"_id\": null, \"a\": {\"$sum\": 1, \"$max\": 1}}");
	is_int(group_spec_compile(&g, &v, &err), -1, "two accumulators");
	is_str(err.msg, "The field 'a' must specify one accumulator",
	    "two accumulators: message");
	v = value("{\"_id\": null, \"a\": {\"$nope\": 1}}");
	is_int(group_spec_compile(&g, &v, &err), -1, "an unknown one");
	v = value("{\"_id\": null, \"a\": {\"$sum\": 1}, \"b\": {\"$max\": "
		  "\"$x\"}}");
	is_int(group_spec_compile(&g, &v, &err), 0, "two fields");
	if (g != NULL) {
		is_int(g->n, 2, "two accumulators");
		ok(g->acc[1].off >= g->acc[0].off + g->acc[0].ops->size &&
			g->acc[1].off % 16 == 0 &&
			g->size >= g->acc[1].off + g->acc[1].ops->size,
		    "blocks laid out one after the other, aligned");
		group_spec_free(g);
	}
}

int
main(void)
{
	sp_arena_init(&arena);
	test_numbers();
	test_keys();
	test_failures();
	test_memory();
	test_merge();
	test_compile();
	test_real();
	free_scratch();
	sp_arena_release(&arena);
	return done_testing();
}
