/* stage_bucket.c: the $bucket and $bucketAuto stages. */
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group_int.h"

/*
 * Both stages are blocking: they hold per-bucket accumulator state (or, for
 * $bucketAuto, what each document contributes) and emit at end of input.
 * Their output fields are compiled as the body of a $group ({<output...>,
 * _id: null}), so an accumulator is spelled and checked exactly as in
 * $group, and the state of a bucket is one group_spec block driven through
 * the accumulators' own ops.
 */

/* --------------------------------------------------- shared helpers */

/* BSONElement::toString(false, false): a spec value in a message. */
static const char *
elem_text(struct sp_buf *b, const bson_value_t *v)
{
	sp_buf_reset(b);
	bson_elem_str(b, "", v);
	/* bson_elem_str writes "key: value"; the key is empty. */
	return sp_buf_cstr(b) + 2;
}

/* Appends each field of the document v (an "output" spec) to b. */
static void
append_fields(bson_t *b, const bson_value_t *v)
{
	bson_iter_t it;

	bson_iter_init_from_data(
	    &it, v->value.v_doc.data, v->value.v_doc.data_len);
	while (bson_iter_next(&it))
		bson_append_value(b, bson_iter_key(&it),
		    (int)bson_iter_key_len(&it), bson_iter_value(&it));
}

/*
 * The output fields as a group_spec: out (the fields of every "output"
 * seen; none: count: {$sum: 1}) plus _id: null. Takes out.
 */
static int
compile_output(
    struct group_spec **g, bson_t *out, bool given, struct sp_error *err)
{
	bson_value_t v;
	int rc;

	if (!given) {
		bson_t sum;

		BSON_APPEND_DOCUMENT_BEGIN(out, "count", &sum);
		BSON_APPEND_INT32(&sum, "$sum", 1);
		bson_append_document_end(out, &sum);
	}
	BSON_APPEND_NULL(out, "_id");
	doc_value(&v, bson_get_data(out), out->len);
	rc = group_spec_compile(g, &v, err);
	bson_destroy(out);
	return rc;
}

/* A bucket's state, freed with block_free. */
static uint8_t *
block_new(
    const struct group_spec *g, const bson_value_t *key, struct sp_error *err)
{
	uint8_t *st = sp_xcalloc(1, g->size > 0 ? g->size : 1);

	if (group_block_init(g, st, key, err) < 0) {
		free(st);
		return NULL;
	}
	return st;
}

static void
block_free(const struct group_spec *g, uint8_t *st)
{
	if (st == NULL)
		return;
	group_block_release(g, st, g->n);
	free(st);
}

static void
block_add(const struct group_spec *g, uint8_t *st, const bson_value_t *vals)
{
	int j;

	for (j = 0; j < g->n; j++)
		g->acc[j].ops->add(&g->acc[j], st + g->acc[j].off, &vals[j]);
}

/* Emits one bucket's document, then reclaims what the rest of the chain
 * allocated for it. */
static int
emit_block(struct stage *s, const struct group_spec *g, const uint8_t *st,
    const bson_value_t *id)
{
	struct sp_arena *ar = stage_arena(s);
	struct sp_arena_mark mark;
	bson_value_t out;
	int rc = 0;

	sp_arena_mark(ar, &mark);
	if (group_block_result(g, st, id, false, ar, &out) == 0)
		rc = stage_emit(
		    s, out.value.v_doc.data, out.value.v_doc.data_len);
	sp_arena_rewind(ar, &mark);
	return rc;
}

typedef int (*parse_fn)(struct stage *s, const bson_value_t *spec,
    struct sp_buf *msg, struct sp_error *err);

/* Sets up s (zeroed, of ops' kind) from spec with parse, which words its
 * errors in msg; frees s when that fails. */
static int
stage_make(struct stage **out, struct stage *s, const struct stage_ops *ops,
    const char *name, parse_fn parse, const bson_value_t *spec,
    struct sp_error *err)
{
	struct sp_buf msg;
	int rc;

	*out = NULL;
	s->ops = ops;
	s->name = name;
	sp_buf_init(&msg);
	rc = parse(s, spec, &msg, err);
	sp_buf_release(&msg);
	if (rc < 0) {
		ops->free(s);
		return -1;
	}
	*out = s;
	return 0;
}

bool
group_by_ok(const bson_value_t *v, size_t minlen)
{
	bson_iter_t it;

	if (v->value_type == BSON_TYPE_UTF8)
		return v->value.v_utf8.len >= minlen &&
		    v->value.v_utf8.str[0] == '$';
	if (v->value_type != BSON_TYPE_DOCUMENT)
		return false;
	return bson_iter_init_from_data(
		   &it, v->value.v_doc.data, v->value.v_doc.data_len) &&
	    bson_iter_next(&it) && bson_iter_key(&it)[0] == '$';
}

/* ----------------------------------------------------------- $bucket */

/*
 * DocumentSourceBucket turns the stage into a $group whose _id is a
 * $switch over the boundaries ([b[i], b[i+1]) -> b[i], else the default)
 * and a $sort on _id. The boundaries are sorted and of one canonical type,
 * so the $switch picks the one i with b[i] <= v < b[i+1]: found here by
 * binary search, with groupBy evaluated once. Each bucket's state is
 * indexed by i (the default's is the last); only buckets that got a
 * document are written, in $sort's order of their _id.
 */
struct bucket_stage {
	struct stage base;
	struct group_spec *g;
	struct sp_expr *group_by;
	int nb; /* boundaries */
	bson_value_t *bound; /* nb owned values */
	bool has_default;
	bson_value_t dflt; /* owned, when has_default */
	uint8_t **state; /* nb slots: bucket i's, the default's last */
	struct sort_pattern by_id; /* {_id: 1} */
	bool has_by_id;
};

/* The bucket of v: i for [bound[i], bound[i+1]), or -1. */
static int
bucket_find(const struct bucket_stage *bs, const bson_value_t *v)
{
	int lo = 0, hi = bs->nb - 1, mid;

	if (sp_value_compare(v, &bs->bound[0]) < 0 ||
	    sp_value_compare(v, &bs->bound[bs->nb - 1]) >= 0)
		return -1;
	/* bound[lo] <= v < bound[hi] */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (sp_value_compare(v, &bs->bound[mid]) < 0)
			hi = mid;
		else
			lo = mid;
	}
	return lo;
}

static int
bucket_push(struct stage *s, const uint8_t *doc, uint32_t len)
{
	struct bucket_stage *bs = (struct bucket_stage *)s;
	struct sp_arena *ar = stage_arena(s);
	struct sp_error *err = stage_err(s);
	const bson_value_t *id;
	bson_value_t v, *vals;
	int i;

	if (sp_expr_eval(bs->group_by, doc, len, ar, &v, err) < 0) {
		stage_fail(s, doc, len, err->msg);
		return 0;
	}
	if ((i = bucket_find(bs, &v)) >= 0) {
		id = &bs->bound[i];
	} else if (bs->has_default) {
		i = bs->nb - 1;
		id = &bs->dflt;
	} else {
		/* The $switch's own message: MongoDB says it so. */
		stage_fail(s, doc, len,
		    "$switch could not find a matching branch for an input, "
		    "and no default was specified.");
		return 0;
	}
	vals = sp_arena_alloc(ar, sizeof(*vals) * (bs->g->n + 1));
	if (group_block_inputs(bs->g, doc, len, ar, vals, err) < 0) {
		stage_fail(s, doc, len, err->msg);
		return 0;
	}
	if (bs->state[i] == NULL &&
	    (bs->state[i] = block_new(bs->g, id, err)) == NULL) {
		stage_fail(s, doc, len, err->msg);
		return 0;
	}
	block_add(bs->g, bs->state[i], vals);
	return 0;
}

struct bucket_order {
	const struct sort_pattern *by; /* {_id: 1} */
	int slot;
	bson_value_t key;
};

static int
order_cmp(const void *pa, const void *pb)
{
	const struct bucket_order *a = pa, *b = pb;
	int c = sort_key_compare(a->by, &a->key, &b->key);

	return c != 0 ? c : (a->slot > b->slot) - (a->slot < b->slot);
}

static const bson_value_t *
bucket_id(const struct bucket_stage *bs, int slot)
{
	return slot == bs->nb - 1 ? &bs->dflt : &bs->bound[slot];
}

/* The non-empty buckets in the order of $sort: {_id: 1}. */
static int
bucket_finish(struct stage *s)
{
	struct bucket_stage *bs = (struct bucket_stage *)s;
	struct sp_arena *ar = stage_arena(s);
	struct bucket_order *ord;
	int i, n = 0, rc = 0;

	ord = sp_xmalloc(sizeof(*ord) * bs->nb);
	for (i = 0; i < bs->nb; i++) {
		struct expr_buf b;
		bson_value_t doc;

		if (bs->state[i] == NULL)
			continue;
		/* sort_key_get reads documents: {_id: <id>}, kept in the
		 * arena until every bucket is written. */
		sp_expr_buf_init(&b, ar);
		sp_expr_buf_append(&b, "_id", 3, bucket_id(bs, i));
		sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, &doc);
		ord[n].by = &bs->by_id;
		ord[n].slot = i;
		sort_key_get(&bs->by_id, doc.value.v_doc.data,
		    doc.value.v_doc.data_len, &ord[n].key);
		n++;
	}
	qsort(ord, n, sizeof(*ord), order_cmp);
	for (i = 0; i < n && rc == 0; i++) {
		int slot = ord[i].slot;

		rc = emit_block(s, bs->g, bs->state[slot], bucket_id(bs, slot));
	}
	free(ord);
	return rc;
}

static void
bucket_free(struct stage *s)
{
	struct bucket_stage *bs = (struct bucket_stage *)s;
	int i;

	if (bs->state != NULL)
		for (i = 0; i < bs->nb; i++)
			block_free(bs->g, bs->state[i]);
	free(bs->state);
	for (i = 0; i < bs->nb; i++)
		bson_value_destroy(&bs->bound[i]);
	free(bs->bound);
	if (bs->has_default)
		bson_value_destroy(&bs->dflt);
	group_spec_free(bs->g);
	sp_expr_free(bs->group_by);
	if (bs->has_by_id)
		sort_pattern_release(&bs->by_id);
	free(bs);
}

/*
 * No Atlas name is documented for $bucket's dead letters. The server
 * expands it into a $group and a $sort, so Atlas may well report
 * GroupOperator; until that is known, the stage's own name.
 */
static const struct stage_ops bucket_ops = {
    "BucketOperator", bucket_push, bucket_finish, bucket_free};

/* Takes the boundaries array v, appending to bs->bound as the server
 * appends every "boundaries" it is given, and checks them all. */
static int
bucket_boundaries(struct bucket_stage *bs, const bson_value_t *v,
    struct sp_buf *msg, struct sp_error *err)
{
	bson_iter_t it;
	int i, rc;

	if (v->value_type != BSON_TYPE_ARRAY)
		return sp_error_set(err,
		    "The $bucket 'boundaries' field must be an array, but "
		    "found type: %s.",
		    sp_expr_type_name(v->value_type));
	bson_iter_init_from_data(
	    &it, v->value.v_doc.data, v->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		bs->bound =
		    sp_xrealloc(bs->bound, sizeof(*bs->bound) * (bs->nb + 1));
		rc = spec_const_value(
		    bson_iter_value(&it), &bs->bound[bs->nb], err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return sp_error_set(err,
			    "The $bucket 'boundaries' field must be an array "
			    "of constant values, but found value: %s.",
			    elem_text(msg, bson_iter_value(&it)));
		bs->nb++;
	}
	if (bs->nb < 2)
		return sp_error_set(err,
		    "The $bucket 'boundaries' field must have at least 2 "
		    "values, but found %d value(s).",
		    bs->nb);
	for (i = 1; i < bs->nb; i++) {
		const bson_value_t *lo = &bs->bound[i - 1], *hi = &bs->bound[i];
		struct sp_buf b2;

		if (sp_canonical_type(lo->value_type) !=
		    sp_canonical_type(hi->value_type))
			return sp_error_set(err,
			    "All values in the the 'boundaries' option to "
			    "$bucket must have the same type. Found "
			    "conflicting types %s and %s.",
			    sp_expr_type_name(lo->value_type),
			    sp_expr_type_name(hi->value_type));
		if (sp_value_compare(lo, hi) >= 0) {
			sp_buf_reset(msg);
			value_str(msg, lo);
			sp_buf_init(&b2);
			value_str(&b2, hi);
			sp_error_set(err,
			    "The 'boundaries' option to $bucket must be "
			    "sorted, but elements %d and %d are not in "
			    "ascending order (%s is not less than %s).",
			    i - 1, i, sp_buf_cstr(msg), sp_buf_cstr(&b2));
			sp_buf_release(&b2);
			return -1;
		}
	}
	return 0;
}

static int
bucket_parse(struct stage *s, const bson_value_t *spec, struct sp_buf *msg,
    struct sp_error *err)
{
	struct bucket_stage *bs = (struct bucket_stage *)s;
	bson_value_t group_by; /* borrowed from spec */
	bson_t out = BSON_INITIALIZER;
	bool has_output = false, has_group_by = false;
	bson_iter_t it;
	int rc;

	if (spec->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(err,
		    "Argument to $bucket stage must be an object, but found "
		    "type: %s.",
		    sp_expr_type_name(spec->value_type));
	bson_iter_init_from_data(
	    &it, spec->value.v_doc.data, spec->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		const bson_value_t *v = bson_iter_value(&it);

		if (strcmp(k, "groupBy") == 0) {
			if (!group_by_ok(v, 1))
				goto bad_group_by;
			/* v is the iterator's: it changes with it. */
			group_by = *v;
			has_group_by = true;
		} else if (strcmp(k, "boundaries") == 0) {
			if (bucket_boundaries(bs, v, msg, err) < 0)
				goto fail;
		} else if (strcmp(k, "default") == 0) {
			if (bs->has_default)
				bson_value_destroy(&bs->dflt);
			bs->has_default = false;
			if ((rc = spec_const_value(v, &bs->dflt, err)) < 0)
				goto fail;
			if (rc == 0) {
				sp_error_set(err,
				    "The $bucket 'default' field must be a "
				    "constant expression, but found: %s.",
				    elem_text(msg, v));
				goto fail;
			}
			/* A missing default ($$REMOVE) is none, as the
			 * server's $switch is given no "default" then. */
			bs->has_default = bs->dflt.value_type != BSON_TYPE_EOD;
		} else if (strcmp(k, "output") == 0) {
			if (v->value_type != BSON_TYPE_DOCUMENT) {
				sp_error_set(err,
				    "The $bucket 'output' field must be an "
				    "object, but found type: %s.",
				    sp_expr_type_name(v->value_type));
				goto fail;
			}
			has_output = true;
			append_fields(&out, v);
		} else {
			sp_error_set(
			    err, "Unrecognized option to $bucket: %s.", k);
			goto fail;
		}
	}
	if (!has_group_by || bs->nb == 0) {
		sp_error_set(err,
		    "$bucket requires 'groupBy' and 'boundaries' "
		    "to be specified.");
		goto fail;
	}
	/* A default of the boundaries' type must lie outside them. */
	if (bs->has_default &&
	    sp_canonical_type(bs->dflt.value_type) ==
		sp_canonical_type(bs->bound[0].value_type) &&
	    sp_value_compare(&bs->dflt, &bs->bound[0]) >= 0 &&
	    sp_value_compare(&bs->dflt, &bs->bound[bs->nb - 1]) < 0) {
		sp_error_set(err,
		    "The $bucket 'default' field must be less than the "
		    "lowest boundary or greater than or equal to the highest "
		    "boundary.");
		goto fail;
	}
	/* Then the $group: its accumulators, then its _id (groupBy). */
	if (compile_output(&bs->g, &out, has_output, err) < 0)
		return -1;
	if (sp_expr_compile(&bs->group_by, &group_by, err) < 0)
		return -1;
	{
		bson_t sort = BSON_INITIALIZER;
		bson_value_t sv;

		BSON_APPEND_INT32(&sort, "_id", 1);
		doc_value(&sv, bson_get_data(&sort), sort.len);
		rc = sort_pattern_parse(&bs->by_id, &sv, err);
		bson_destroy(&sort);
		if (rc < 0)
			return -1;
		bs->has_by_id = true;
	}
	bs->state = sp_xcalloc(bs->nb, sizeof(*bs->state));
	return 0;

bad_group_by:
	sp_error_set(err,
	    "The $bucket 'groupBy' field must be defined as a $-prefixed "
	    "path or an expression, but found: %s.",
	    elem_text(msg, bson_iter_value(&it)));
fail:
	bson_destroy(&out);
	return -1;
}

int
stage_bucket_new(struct stage **out, const char *name, const bson_value_t *spec,
    struct sp_error *err)
{
	return stage_make(out, sp_xcalloc(1, sizeof(struct bucket_stage)),
	    &bucket_ops, name, bucket_parse, spec, err);
}

/* ------------------------------------------------ granularity rounders */

/*
 * GranularityRounder: a preferred-number series (base values scaled by
 * powers of ten) or the powers of two. The arithmetic is the server's,
 * step by step, so that the same doubles come out: a double, int or long
 * rounds in double and gives a double; a decimal rounds in decimal, with
 * the series as Decimal128(double) makes them (15 digits); POWERSOF2
 * gives $pow(2, exponent) of the value's kind.
 */
struct rounder {
	const char *name;
	const double *s; /* NULL: powers of two */
	int n;
};

static const double r5[] = {10, 16, 25, 40, 63};
static const double r10[] = {100, 125, 160, 200, 250, 315, 400, 500, 630, 800};
static const double r20[] = {100, 112, 125, 140, 160, 180, 200, 224, 250, 280,
    315, 355, 400, 450, 500, 560, 630, 710, 800, 900};
static const double r40[] = {100, 106, 112, 118, 125, 132, 140, 150, 160, 170,
    180, 190, 200, 212, 224, 236, 250, 265, 280, 300, 315, 355, 375, 400, 425,
    450, 475, 500, 530, 560, 600, 630, 670, 710, 750, 800, 850, 900, 950};
static const double r80[] = {103, 109, 115, 122, 128, 136, 145, 155, 165, 175,
    185, 195, 206, 218, 230, 243, 258, 272, 290, 307, 325, 345, 365, 387, 412,
    437, 462, 487, 515, 545, 575, 615, 650, 690, 730, 775, 825, 875, 925, 975};
static const double s125[] = {10, 20, 50};
static const double e6[] = {10, 15, 22, 33, 47, 68};
static const double e12[] = {10, 12, 15, 18, 22, 27, 33, 39, 47, 56, 68, 82};
static const double e24[] = {10, 11, 12, 13, 15, 16, 18, 20, 22, 24, 27, 30, 33,
    36, 39, 43, 47, 51, 56, 62, 68, 75, 82, 91};
static const double e48[] = {100, 105, 110, 115, 121, 127, 133, 140, 147, 154,
    162, 169, 178, 187, 196, 205, 215, 226, 237, 249, 261, 274, 287, 301, 316,
    332, 348, 365, 383, 402, 422, 442, 464, 487, 511, 536, 562, 590, 619, 649,
    681, 715, 750, 787, 825, 866, 909, 953};
static const double e96[] = {100, 102, 105, 107, 110, 113, 115, 118, 121, 124,
    127, 130, 133, 137, 140, 143, 147, 150, 154, 158, 162, 165, 169, 174, 178,
    182, 187, 191, 196, 200, 205, 210, 215, 221, 226, 232, 237, 243, 249, 255,
    261, 267, 274, 280, 287, 294, 301, 309, 316, 324, 332, 340, 348, 357, 365,
    374, 383, 392, 402, 412, 422, 432, 442, 453, 464, 475, 487, 499, 511, 523,
    536, 549, 562, 576, 590, 604, 619, 634, 649, 665, 681, 698, 715, 732, 750,
    768, 787, 806, 825, 845, 866, 887, 909, 931, 953, 976};
static const double e192[] = {100, 101, 102, 104, 105, 106, 107, 109, 110, 111,
    113, 114, 115, 117, 118, 120, 121, 123, 124, 126, 127, 129, 130, 132, 133,
    135, 137, 138, 140, 142, 143, 145, 147, 149, 150, 152, 154, 156, 158, 160,
    162, 164, 165, 167, 169, 172, 174, 176, 178, 180, 182, 184, 187, 189, 191,
    193, 196, 198, 200, 203, 205, 208, 210, 213, 215, 218, 221, 223, 226, 229,
    232, 234, 237, 240, 243, 246, 249, 252, 255, 258, 261, 264, 267, 271, 274,
    277, 280, 284, 287, 291, 294, 298, 301, 305, 309, 312, 316, 320, 324, 328,
    332, 336, 340, 344, 348, 352, 357, 361, 365, 370, 374, 379, 383, 388, 392,
    397, 402, 407, 412, 417, 422, 427, 432, 437, 442, 448, 453, 459, 464, 470,
    475, 481, 487, 493, 499, 505, 511, 517, 523, 530, 536, 542, 549, 556, 562,
    569, 576, 583, 590, 597, 604, 612, 619, 626, 634, 642, 649, 657, 665, 673,
    681, 690, 698, 706, 715, 723, 732, 741, 750, 759, 768, 777, 787, 796, 806,
    816, 825, 835, 845, 856, 866, 876, 887, 898, 909, 920, 931, 942, 953, 965,
    976, 988};

#define SERIES(name, a)                                                        \
	{                                                                      \
		name, a, (int)(sizeof(a) / sizeof(a[0]))                       \
	}
static const struct rounder rounders[] = {
    SERIES("R5", r5),
    SERIES("R10", r10),
    SERIES("R20", r20),
    SERIES("R40", r40),
    SERIES("R80", r80),
    SERIES("1-2-5", s125),
    SERIES("E6", e6),
    SERIES("E12", e12),
    SERIES("E24", e24),
    SERIES("E48", e48),
    SERIES("E96", e96),
    SERIES("E192", e192),
    {"POWERSOF2", NULL, 0},
};
#undef SERIES

static const struct rounder *
rounder_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(rounders) / sizeof(rounders[0]); i++)
		if (strcmp(rounders[i].name, name) == 0)
			return &rounders[i];
	return NULL;
}

/* The smallest series value above x (x > 0). */
static double
series_up(const struct rounder *r, double x)
{
	double m = 1.0, prev;
	int i;

	while (x >= r->s[r->n - 1] * m)
		m *= 10.0;
	while (x < r->s[0] * m) {
		prev = r->s[0] * m;
		m /= 10.0;
		/* Between the previous scale's first and this one's last. */
		if (x >= r->s[r->n - 1] * m)
			return prev;
	}
	for (i = 0; i < r->n - 1; i++)
		if (x < r->s[i] * m)
			break;
	return r->s[i] * m;
}

/* The largest series value below x (x > 0). */
static double
series_down(const struct rounder *r, double x)
{
	double m = 1.0, prev;
	int i;

	while (x <= r->s[0] * m)
		m /= 10.0;
	/* Below every scaled series value the multiplier reaches zero
	 * (SERVER-57091's subnormals): the value rounds down to 0. */
	if (m == 0.0)
		return 0.0;
	while (x > r->s[r->n - 1] * m) {
		prev = r->s[r->n - 1] * m;
		m *= 10.0;
		if (x <= r->s[0] * m)
			return prev;
	}
	for (i = 1; i < r->n; i++)
		if (!(r->s[i] * m < x))
			break;
	return r->s[i - 1] * m;
}

static int
dec_cmp(const struct sp_decimal *a, const struct sp_decimal *b)
{
	bson_value_t x, y;

	expr_set_dec(&x, a);
	expr_set_dec(&y, b);
	return sp_value_compare(&x, &y);
}

/* series_up and series_down in decimal128. */
static void
series_dec(const struct rounder *r, const struct sp_decimal *x, bool up,
    struct sp_decimal *out)
{
	struct sp_decimal s[192], m, ten, t, prev;
	int i, n = r->n;

	for (i = 0; i < n; i++)
		sp_decimal_from_double(&s[i], r->s[i], 15);
	sp_decimal_from_int64(&m, 1);
	sp_decimal_from_int64(&ten, 10);
	if (up) {
		for (;;) {
			sp_decimal_mul(&t, &s[n - 1], &m);
			if (dec_cmp(x, &t) < 0)
				break;
			sp_decimal_mul(&m, &m, &ten);
		}
		for (;;) {
			sp_decimal_mul(&t, &s[0], &m);
			if (dec_cmp(x, &t) >= 0)
				break;
			prev = t;
			sp_decimal_div(&m, &m, &ten);
			sp_decimal_mul(&t, &s[n - 1], &m);
			if (dec_cmp(x, &t) >= 0) {
				*out = prev;
				return;
			}
		}
		for (i = 0; i < n - 1; i++) {
			sp_decimal_mul(&t, &s[i], &m);
			if (dec_cmp(x, &t) < 0)
				break;
		}
		sp_decimal_mul(out, &s[i], &m);
		return;
	}
	for (;;) {
		sp_decimal_mul(&t, &s[0], &m);
		if (dec_cmp(x, &t) > 0)
			break;
		sp_decimal_div(&m, &m, &ten);
		if (sp_decimal_sign(&m) == 0) {
			sp_decimal_from_int64(out, 0);
			return;
		}
	}
	for (;;) {
		sp_decimal_mul(&t, &s[n - 1], &m);
		if (dec_cmp(x, &t) <= 0)
			break;
		prev = t;
		sp_decimal_mul(&m, &m, &ten);
		sp_decimal_mul(&t, &s[0], &m);
		if (dec_cmp(x, &t) <= 0) {
			*out = prev;
			return;
		}
	}
	for (i = 1; i < n; i++) {
		sp_decimal_mul(&t, &s[i], &m);
		if (dec_cmp(&t, x) >= 0)
			break;
	}
	sp_decimal_mul(out, &s[i - 1], &m);
}

/* $pow(2, e) for an int e: int, long, or double past a long. */
static void
pow2_int(int e, bson_value_t *out)
{
	if (e < 0 || e > 62)
		expr_set_double(out, pow(2.0, e));
	else
		expr_set_int_or_long(out, (int64_t)1 << e);
}

/* $pow(2, e) for a decimal e: exact while 34 digits hold it, else by
 * squaring, rounded as decimal128 multiplication rounds. */
static void
pow2_dec(int e, bson_value_t *out)
{
	struct sp_decimal d, b, r;
	unsigned __int128 c = 1;
	unsigned k;
	int i;

	memset(&d, 0, sizeof(d));
	d.kind = SP_DECIMAL_FINITE;
	if (e >= 0 && e <= 112) {
		d.coef = c << e;
	} else if (e < 0 && e >= -48) {
		/* 2^-k = 5^k * 10^-k */
		for (i = 0; i < -e; i++)
			c *= 5;
		d.coef = c;
		d.exp = e;
	} else {
		/* b is 2 or 0.5, squared for each bit of |e|. */
		b = d;
		b.coef = e > 0 ? 2 : 5;
		b.exp = e > 0 ? 0 : -1;
		d.coef = 1;
		for (k = e > 0 ? (unsigned)e : (unsigned)-e; k > 0; k >>= 1) {
			if (k & 1) {
				sp_decimal_mul(&r, &d, &b);
				d = r;
			}
			sp_decimal_mul(&r, &b, &b);
			b = r;
		}
	}
	expr_set_dec(out, &d);
}

/* log2 of a positive finite decimal, from its digits and exponent, so that
 * no long double overflows on the way. */
static double
dec_log2(const struct sp_decimal *d)
{
	return (double)(log2l((long double)d->coef) +
	    (long double)d->exp * log2l(10.0L));
}

static void
round_pow2(const bson_value_t *v, bool up, bson_value_t *out)
{
	struct sp_decimal d;
	double x;
	int64_t l;
	int lz, tz;

	switch (v->value_type) {
	case BSON_TYPE_DOUBLE:
		x = log2(v->value.v_double);
		pow2_int(
		    up ? (int)(floor(x) + 1.0) : (int)(ceil(x) - 1.0), out);
		return;
	case BSON_TYPE_DECIMAL128:
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		x = dec_log2(&d);
		pow2_dec(
		    up ? (int)(floor(x) + 1.0) : (int)(ceil(x) - 1.0), out);
		return;
	default:
		/* The bit count of the long: a power of two rounds down to
		 * the one below. */
		l = v->value_type == BSON_TYPE_INT32 ? v->value.v_int32
						     : v->value.v_int64;
		lz = __builtin_clzll((unsigned long long)l);
		tz = __builtin_ctzll((unsigned long long)l);
		if (up)
			pow2_int(63 - lz + 1, out);
		else
			pow2_int(lz + tz == 63 ? 63 - lz - 1 : 63 - lz, out);
		return;
	}
}

/* roundUp (up) or roundDown of v, a finite non-negative number. Zero (as
 * a double) is its own rounding, whatever its type. */
static void
gran_round(
    const struct rounder *r, const bson_value_t *v, bool up, bson_value_t *out)
{
	struct sp_decimal d, res;

	if (sp_expr_num_double(v) == 0.0) {
		*out = *v;
		return;
	}
	if (r->s == NULL) {
		round_pow2(v, up, out);
	} else if (v->value_type == BSON_TYPE_DECIMAL128) {
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		series_dec(r, &d, up, &res);
		expr_set_dec(out, &res);
	} else {
		double x = sp_expr_num_double(v);

		expr_set_double(out, up ? series_up(r, x) : series_down(r, x));
	}
}

/* ------------------------------------------------------- $bucketAuto */

/*
 * DocumentSourceBucketAuto sorts every document by its groupBy value
 * (missing as null), then fills buckets of round(n / buckets) documents
 * each, never splitting equal values, the last bucket taking the rest.
 * Without granularity a bucket's max is the next bucket's min (the last
 * one's: its own largest value); with it, the max is rounded up to the
 * series and takes in every value below it, and the next min is the
 * previous max. Accumulators see a bucket's documents in their input
 * order (MongoDB 8's positional $first, $last, $push...).
 *
 * So the stage keeps, for each document, only its groupBy value and what
 * each accumulator takes from it (evaluated on arrival, so that a failing
 * document is a dead letter and nothing else), never the document.
 */
struct bauto_entry {
	bson_value_t key; /* kept (value_keep) */
	size_t pos; /* arrival: the entry's inputs are vals[pos * g->n...] */
};

struct bauto_stage {
	struct stage base;
	struct group_spec *g;
	struct sp_expr *group_by;
	int nbuckets;
	const struct rounder *gran; /* NULL: none */
	struct bauto_entry *e;
	bson_value_t *vals; /* g->n kept values per entry */
	size_t n, cap;
};

/* extractKey's checks when there is a granularity; NULL when v is fine. */
static const char *
gran_check(const bson_value_t *v, char *buf, size_t size)
{
	struct sp_decimal d;
	double x;

	if (!expr_is_number(v)) {
		snprintf(buf, size,
		    "$bucketAuto can specify a 'granularity' with numeric "
		    "boundaries only, but found a value with type: %s",
		    sp_expr_type_name(v->value_type));
		return buf;
	}
	x = sp_expr_num_double(v);
	if (isnan(x))
		return "$bucketAuto can specify a 'granularity' with numeric "
		       "boundaries only, but found a NaN";
	if (x < 0.0)
		return "$bucketAuto can specify a 'granularity' with "
		       "non-negative numbers only, but found a negative number";
	/* The server's rounders never return from infinity. */
	if (v->value_type == BSON_TYPE_DECIMAL128)
		sp_decimal_unpack(&d, &v->value.v_decimal128);
	if (isinf(x) &&
	    (v->value_type != BSON_TYPE_DECIMAL128 || d.kind == SP_DECIMAL_INF))
		return "$bucketAuto can specify a 'granularity' with finite "
		       "numbers only, but found an infinite number";
	return NULL;
}

static int
bauto_push(struct stage *s, const uint8_t *doc, uint32_t len)
{
	struct bauto_stage *ba = (struct bauto_stage *)s;
	struct sp_arena *ar = stage_arena(s);
	struct sp_error *err = stage_err(s);
	int gn = ba->g->n, j;
	bson_value_t key, *vals;
	const char *why;

	if (sp_expr_eval(ba->group_by, doc, len, ar, &key, err) < 0) {
		stage_fail(s, doc, len, err->msg);
		return 0;
	}
	if (ba->gran != NULL &&
	    (why = gran_check(&key, err->msg, sizeof(err->msg))) != NULL) {
		stage_fail(s, doc, len, why);
		return 0;
	}
	/* As $group does, missing is null. */
	if (key.value_type == BSON_TYPE_EOD)
		expr_set_null(&key);
	vals = sp_arena_alloc(ar, sizeof(*vals) * (gn + 1));
	if (group_block_inputs(ba->g, doc, len, ar, vals, err) < 0) {
		stage_fail(s, doc, len, err->msg);
		return 0;
	}
	if (ba->n == ba->cap) {
		ba->cap = ba->cap == 0 ? 64 : ba->cap * 2;
		ba->e = sp_xrealloc(ba->e, sizeof(*ba->e) * ba->cap);
		ba->vals = sp_xrealloc(
		    ba->vals, sizeof(*ba->vals) * ba->cap * (gn > 0 ? gn : 1));
	}
	value_keep(&ba->e[ba->n].key, &key);
	ba->e[ba->n].pos = ba->n;
	for (j = 0; j < gn; j++)
		value_keep(&ba->vals[ba->n * gn + j], &vals[j]);
	ba->n++;
	return 0;
}

static int
entry_cmp(const void *pa, const void *pb)
{
	const struct bauto_entry *a = pa, *b = pb;
	int c = sp_value_compare(&a->key, &b->key);

	return c != 0 ? c : (a->pos > b->pos) - (a->pos < b->pos);
}

static int
pos_cmp(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;

	return (a > b) - (a < b);
}

/* Folds entries [from, to) into a new bucket in input order and emits
 * {_id: {min, max}, <output>...}. */
static int
bauto_emit(struct bauto_stage *ba, size_t from, size_t to, size_t *order,
    const bson_value_t *min, const bson_value_t *max)
{
	struct stage *s = &ba->base;
	struct sp_arena *ar = stage_arena(s);
	struct sp_arena_mark mark;
	struct expr_buf b;
	bson_value_t null, id, out;
	uint8_t *st;
	size_t i;
	int rc = 0;

	expr_set_null(&null);
	/* Checked when the stage was made: init does not fail then. */
	if ((st = block_new(ba->g, &null, stage_err(s))) == NULL)
		return 0;
	for (i = from; i < to; i++)
		order[i - from] = ba->e[i].pos;
	qsort(order, to - from, sizeof(*order), pos_cmp);
	for (i = 0; i < to - from; i++)
		block_add(ba->g, st, &ba->vals[order[i] * ba->g->n]);
	sp_arena_mark(ar, &mark);
	sp_expr_buf_init(&b, ar);
	sp_expr_buf_append(&b, "min", 3, min);
	sp_expr_buf_append(&b, "max", 3, max);
	if (sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, &id) == 0 &&
	    group_block_result(ba->g, st, &id, false, ar, &out) == 0)
		rc = stage_emit(
		    s, out.value.v_doc.data, out.value.v_doc.data_len);
	sp_arena_rewind(ar, &mark);
	block_free(ba->g, st);
	return rc;
}

static int
bauto_finish(struct stage *s)
{
	struct bauto_stage *ba = (struct bauto_stage *)s;
	const struct bauto_entry *e = ba->e;
	const struct rounder *r = ba->gran;
	bson_value_t min, max, bound, prev_max;
	bool has_prev = false, last;
	size_t i = 0, start, *order, n = ba->n;
	long long approx, cnt;
	int b, rc = 0;

	if (n == 0)
		return 0;
	qsort(ba->e, n, sizeof(*ba->e), entry_cmp);
	order = sp_xmalloc(sizeof(*order) * n);
	approx = (long long)round((double)n / (double)ba->nbuckets);
	if (approx < 1)
		approx = 1;
	for (b = 1; b <= ba->nbuckets && i < n && rc == 0; b++) {
		start = i;
		min = max = e[i++].key;
		if (r != NULL) {
			if (has_prev)
				min = prev_max;
			else
				gran_round(r, &e[start].key, false, &min);
		}
		last = b == ba->nbuckets;
		for (cnt = 1; i < n && (cnt < approx || last); cnt++)
			max = e[i++].key;
		if (r != NULL) {
			/* Everything below the rounded max joins, and so
			 * does anything equal to the max itself. */
			gran_round(r, &max, true, &bound);
			while (i < n &&
			    (sp_value_compare(&bound, &e[i].key) > 0 ||
				sp_value_compare(&max, &e[i].key) == 0))
				max = e[i++].key;
			/* All zeros: the max is the next min rounded down,
			 * so that it stays exclusive. */
			if (sp_expr_num_double(&bound) == 0.0 && i < n)
				gran_round(r, &e[i].key, false, &max);
			else
				max = bound;
		} else {
			while (i < n && sp_value_compare(&max, &e[i].key) == 0)
				max = e[i++].key;
			if (i < n)
				max = e[i].key;
		}
		prev_max = max;
		has_prev = true;
		rc = bauto_emit(ba, start, i, order, &min, &max);
	}
	free(order);
	return rc;
}

static void
bauto_free(struct stage *s)
{
	struct bauto_stage *ba = (struct bauto_stage *)s;
	size_t i;
	int j;

	for (i = 0; i < ba->n; i++) {
		value_drop(&ba->e[i].key);
		for (j = 0; j < ba->g->n; j++)
			value_drop(&ba->vals[i * ba->g->n + j]);
	}
	free(ba->e);
	free(ba->vals);
	group_spec_free(ba->g);
	sp_expr_free(ba->group_by);
	free(ba);
}

static const struct stage_ops bauto_ops = {
    "BucketAutoOperator", bauto_push, bauto_finish, bauto_free};

/* Value::integral: a number an int32 holds exactly. */
static bool
integral32(const bson_value_t *v, int *out)
{
	struct sp_decimal d;
	int64_t l;
	double x;

	switch (v->value_type) {
	case BSON_TYPE_INT32: l = v->value.v_int32; break;
	case BSON_TYPE_INT64: l = v->value.v_int64; break;
	case BSON_TYPE_DOUBLE:
		x = v->value.v_double;
		if (!(x >= INT32_MIN && x <= INT32_MAX) || x != trunc(x))
			return false;
		l = (int64_t)x;
		break;
	case BSON_TYPE_DECIMAL128:
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		if (sp_decimal_to_int64(&d, SP_DECIMAL_EXACT, &l) < 0)
			return false;
		break;
	default: return false;
	}
	if (l < INT32_MIN || l > INT32_MAX)
		return false;
	*out = (int)l;
	return true;
}

static int
bauto_parse(struct stage *s, const bson_value_t *spec, struct sp_buf *msg,
    struct sp_error *err)
{
	struct bauto_stage *ba = (struct bauto_stage *)s;
	bson_t out = BSON_INITIALIZER;
	bool has_output = false, has_buckets = false;
	struct group_spec *g;
	bson_iter_t it;
	uint8_t *st;

	if (spec->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(err,
		    "The argument to $bucketAuto must be an object, but found "
		    "type: %s",
		    sp_expr_type_name(spec->value_type));
	bson_iter_init_from_data(
	    &it, spec->value.v_doc.data, spec->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		const bson_value_t *v = bson_iter_value(&it);

		if (strcmp(k, "groupBy") == 0) {
			/* A path needs a name after its '$'. */
			if (!group_by_ok(v, 2)) {
				sp_error_set(err,
				    "The $bucketAuto 'groupBy' field must be "
				    "defined as a $-prefixed path or an "
				    "expression object, but found: %s",
				    elem_text(msg, v));
				goto fail;
			}
			sp_expr_free(ba->group_by);
			ba->group_by = NULL;
			if (sp_expr_compile(&ba->group_by, v, err) < 0)
				goto fail;
		} else if (strcmp(k, "buckets") == 0) {
			if (!expr_is_number(v)) {
				sp_error_set(err,
				    "The $bucketAuto 'buckets' field must be a "
				    "numeric value, but found type: %s",
				    sp_expr_type_name(v->value_type));
				goto fail;
			}
			if (!integral32(v, &ba->nbuckets)) {
				sp_error_set(err,
				    "The $bucketAuto 'buckets' field must be "
				    "representable as a 32-bit integer, but "
				    "found %g",
				    sp_expr_num_double(v));
				goto fail;
			}
			has_buckets = true;
		} else if (strcmp(k, "output") == 0) {
			bson_t one = BSON_INITIALIZER;

			if (v->value_type != BSON_TYPE_DOCUMENT) {
				sp_error_set(err,
				    "The $bucketAuto 'output' field must be an "
				    "object, but found type: %s",
				    sp_expr_type_name(v->value_type));
				goto fail;
			}
			/* Each accumulator is checked where it stands in
			 * the spec, as the server parses it there. */
			append_fields(&one, v);
			if (compile_output(&g, &one, true, err) < 0)
				goto fail;
			group_spec_free(g);
			append_fields(&out, v);
			has_output = true;
		} else if (strcmp(k, "granularity") == 0) {
			if (v->value_type != BSON_TYPE_UTF8) {
				sp_error_set(err,
				    "The $bucketAuto 'granularity' field must "
				    "be a string, but found type: %s",
				    sp_expr_type_name(v->value_type));
				goto fail;
			}
			if ((ba->gran = rounder_find(v->value.v_utf8.str)) ==
			    NULL) {
				sp_error_set(err,
				    "Unknown rounding granularity '%s'",
				    v->value.v_utf8.str);
				goto fail;
			}
		} else {
			sp_error_set(
			    err, "Unrecognized option to $bucketAuto: %s", k);
			goto fail;
		}
	}
	if (ba->group_by == NULL || !has_buckets) {
		sp_error_set(err,
		    "$bucketAuto requires 'groupBy' and "
		    "'buckets' to be specified");
		goto fail;
	}
	if (ba->nbuckets <= 0) {
		sp_error_set(err,
		    "The $bucketAuto 'buckets' field must be greater than 0, "
		    "but found: %d",
		    ba->nbuckets);
		goto fail;
	}
	if (compile_output(&ba->g, &out, has_output, err) < 0)
		return -1;
	/*
	 * A bucket has no single key, so the server evaluates what an
	 * accumulator starts from (n of $firstN...) against nothing and
	 * refuses one that is not a constant. A constant n is checked when
	 * it is compiled; one that cannot start a bucket without a key
	 * reads the key, and is refused here rather than at the end.
	 */
	{
		bson_value_t null;

		expr_set_null(&null);
		if ((st = block_new(ba->g, &null, err)) == NULL)
			return sp_error_set(
			    err, "Can't refer to the group key in $bucketAuto");
		block_free(ba->g, st);
	}
	return 0;

fail:
	bson_destroy(&out);
	return -1;
}

int
stage_bucket_auto_new(struct stage **out, const char *name,
    const bson_value_t *spec, struct sp_error *err)
{
	return stage_make(out, sp_xcalloc(1, sizeof(struct bauto_stage)),
	    &bauto_ops, name, bauto_parse, spec, err);
}
