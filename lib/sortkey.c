/* sortkey.c: sort patterns ({"a.b": 1, "c": -1}) and the sort keys of
 * documents, as $sort, $topN's sortBy and $bucketAuto use them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "group_int.h"

/* ------------------------------------------------------------- parsing */

/*
 * BSONElement::safeNumberLong: NaN is 0, what is beyond int64 clamps,
 * doubles truncate and decimals round half to even. Only whether the
 * result is 1 or -1 matters here.
 */
static int64_t
safe_number_long(const bson_value_t *v)
{
	struct sp_decimal d;
	double x;
	int64_t n;

	switch (v->value_type) {
	case BSON_TYPE_INT32: return v->value.v_int32;
	case BSON_TYPE_INT64: return v->value.v_int64;
	case BSON_TYPE_DOUBLE:
		x = v->value.v_double;
		if (isnan(x))
			return 0;
		if (x >= 9223372036854775808.0)
			return INT64_MAX;
		if (x < -9223372036854775808.0)
			return INT64_MIN;
		return (int64_t)x;
	case BSON_TYPE_DECIMAL128:
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		if (sp_decimal_to_int64(&d, SP_DECIMAL_HALF_EVEN, &n) < 0)
			return 0; /* NaN, or clamped far from 1 and -1 */
		return n;
	default: return 0;
	}
}

/*
 * A {$meta: ...} sort part (SortPattern's parseMetaExpression). The ones
 * MongoDB knows sort by metadata that only $text, $geoNear, $search and
 * $sample make, and sp has none of them, so each is refused with the
 * words of the dependency check that would refuse it (DepsTracker).
 */
static int
parse_meta(const bson_value_t *v, struct sp_error *err)
{
	static const struct {
		const char *name, *what;
	} metas[] = {
	    {"textScore", "text score"},
	    {"randVal", "rand val"},
	    {"geoNearDistance", "$geoNear distance"},
	    {"searchScore", "$search score"},
	    {"vectorSearchScore", "$vectorSearch score"},
	};
	struct sp_buf b;
	bson_iter_t it;
	const bson_value_t *m;
	size_t i;

	if (!bson_iter_init_from_data(
		&it, v->value.v_doc.data, v->value.v_doc.data_len) ||
	    !bson_iter_next(&it) || strcmp(bson_iter_key(&it), "$meta") != 0)
		return sp_error_set(err,
		    "$meta is the only expression supported by $sort right "
		    "now");
	m = bson_iter_value(&it);
	if (bson_iter_next(&it))
		return sp_error_set(err,
		    "Cannot have additional keys in a $meta sort "
		    "specification");
	if (m->value_type == BSON_TYPE_UTF8)
		for (i = 0; i < sizeof(metas) / sizeof(metas[0]); i++)
			if (strcmp(m->value.v_utf8.str, metas[i].name) == 0)
				return sp_error_set(err,
				    "query requires %s metadata, but it is "
				    "not available",
				    metas[i].what);
	sp_buf_init(&b);
	bson_elem_str(&b, "$meta", m);
	sp_error_set(err, "Illegal $meta sort: %s", sp_buf_cstr(&b));
	sp_buf_release(&b);
	return -1;
}

int
sort_pattern_parse(
    struct sort_pattern *p, const bson_value_t *spec, struct sp_error *err)
{
	struct sp_buf b;
	bson_iter_t it;
	int64_t ord;
	int i;

	memset(p, 0, sizeof(*p));
	if (spec->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(
		    err, "the $sort key specification must be an object");
	if (!bson_iter_init_from_data(
		&it, spec->value.v_doc.data, spec->value.v_doc.data_len))
		return sp_error_set(
		    err, "the $sort key specification must be an object");
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		const bson_value_t *v = bson_iter_value(&it);

		if (v->value_type == BSON_TYPE_DOCUMENT) {
			parse_meta(v, err);
			goto fail;
		}
		if (!sp_value_is_number(v)) {
			sp_buf_init(&b);
			bson_elem_str(&b, k, v);
			sp_error_set(err,
			    "Illegal key in $sort specification: %s",
			    sp_buf_cstr(&b));
			sp_buf_release(&b);
			goto fail;
		}
		ord = safe_number_long(v);
		if (ord != 1 && ord != -1) {
			sp_error_set(err,
			    "$sort key ordering must be 1 (for ascending) or "
			    "-1 (for descending)");
			goto fail;
		}
		p->path = sp_xrealloc(p->path, sizeof(*p->path) * (p->n + 1));
		p->dir = sp_xrealloc(p->dir, sizeof(*p->dir) * (p->n + 1));
		if (spath_parse(
			&p->path[p->n], k, bson_iter_key_len(&it), err) < 0)
			goto fail;
		p->dir[p->n] = (int)ord;
		p->n++;
		for (i = 0; i < p->n - 1; i++)
			if (strcmp(p->path[i].full, k) == 0) {
				sp_error_set(err,
				    "$sort key must not contain duplicate "
				    "keys (duplicate: '%s')",
				    k);
				goto fail;
			}
	}
	if (p->n == 0)
		return sp_error_set(
		    err, "$sort stage must have at least one sort key");
	/* The key pattern's Ordering holds one bit per key. */
	if (p->n > 32) {
		sp_error_set(err, "too many compound keys");
		goto fail;
	}
	return 0;
fail:
	sort_pattern_release(p);
	return -1;
}

void
sort_pattern_release(struct sort_pattern *p)
{
	int i;

	for (i = 0; i < p->n; i++)
		spath_release(&p->path[i]);
	free(p->path);
	free(p->dir);
	memset(p, 0, sizeof(*p));
}

/* ---------------------------------------------------------------- keys */

/*
 * The sort key is the one MongoDB's SortKeyGenerator takes: the keys an
 * index over the pattern would hold for the document (BtreeKeyGenerator),
 * and of those the first in the pattern's order. Key generation walks
 * every path at once; where paths reach an array, it makes one key per
 * element, each path going on inside that element, so paths through one
 * array stay together ({"a.x": 1, "a.y": -1} over a: [{x: 1, y: 1},
 * {x: 2, y: 5}] has keys (1, 1) and (2, 5), never (1, 5)). Two different
 * arrays at one step are parallel arrays, which MongoDB refuses. An array
 * at a path's end gives its elements, not expanded further; an empty one
 * gives undefined, which sorts below null; missing gives null.
 *
 * A numeric component ("a.0") that names an element of the array reached
 * takes that element only (the "positional" path), for every element of
 * the array alike.
 */

static const uint8_t empty_doc[5] = {5, 0, 0, 0, 0};

/* Where one path stands while keys are made. */
struct kpath {
	int at; /* next component; == path->n when the path has ended */
	bool pos; /* a positional element was found for it (below) */
	bool pos_array; /* that element is itself an array */
	int pos_at; /* the path's position after the positional part */
	bson_value_t pos_val; /* what the positional part reached, or EOD */
	const bson_value_t *pos_arr; /* the array it was taken from */
};

struct keygen {
	const struct sort_pattern *p;
	bson_value_t *best; /* the best key so far */
	bool have;
	struct sp_error *err;
};

static bool
get_field(const uint8_t *obj, uint32_t len, const struct expr_path *c,
    bson_iter_t *it)
{
	return bson_iter_init_from_data(it, obj, len) &&
	    bson_iter_find_w_len(it, c->name, (int)c->len);
}

/*
 * dotted_path_support::extractElementAtPathOrArrayAlongPath: down through
 * documents from component *at until the path ends or an array is met;
 * *at is left after the last component used. EOD when the path is not
 * there (or goes through a scalar).
 */
static void
extract_along(const uint8_t *obj, uint32_t len, const struct spath *sp, int *at,
    bson_value_t *out)
{
	bson_iter_t it;

	for (;;) {
		if (!get_field(obj, len, &sp->c[*at], &it)) {
			(*at)++;
			break;
		}
		(*at)++;
		if (BSON_ITER_HOLDS_ARRAY(&it) || *at == sp->n) {
			*out = *bson_iter_value(&it);
			return;
		}
		if (!BSON_ITER_HOLDS_DOCUMENT(&it))
			break;
		bson_iter_document(&it, &len, &obj);
	}
	out->value_type = BSON_TYPE_EOD;
}

static void
key_found(struct keygen *g, const bson_value_t *key)
{
	if (!g->have || sort_key_compare(g->p, key, g->best) < 0) {
		memcpy(g->best, key, sizeof(*key) * (size_t)g->p->n);
		g->have = true;
	}
}

static int
ambiguous(struct keygen *g, const struct expr_path *c, const bson_value_t *arr)
{
	struct sp_buf b;

	sp_buf_init(&b);
	bson_obj_str(&b, arr->value.v_doc.data, arr->value.v_doc.data_len);
	sp_error_set(g->err,
	    "Ambiguous field name found in array (do not use numeric field "
	    "names in embedded elements in an array), field: '%s' for array: "
	    "%s",
	    c->name, sp_buf_cstr(&b));
	sp_buf_release(&b);
	return -1;
}

/*
 * One step of BtreeKeyGenerator::_getKeysWithArray over obj: kp and fixed
 * (n each) are this step's own copies, and may be changed.
 */
static int
gen_keys(struct keygen *g, const uint8_t *obj, uint32_t len, struct kpath *kp,
    bson_value_t *fixed)
{
	const struct sort_pattern *p = g->p;
	int n = p->n, i, rc = 0;
	bool may_expand = true, *in_arr;
	bson_value_t arr, e, *cfixed;
	struct kpath *ckp;
	struct kpath ckp_local[4];
	bson_value_t cfixed_local[4];
	bool in_arr_local[4];
	bson_iter_t it;
	void *mem = NULL;

	/* Patterns of a few paths (most) make keys without the heap. */
	memset(&arr, 0, sizeof(arr));
	arr.value_type = BSON_TYPE_EOD;
	if (n <= 4) {
		ckp = ckp_local;
		cfixed = cfixed_local;
		in_arr = in_arr_local;
	} else {
		mem = sp_xmalloc(
		    (sizeof(*ckp) + sizeof(*cfixed) + sizeof(*in_arr)) *
		    (size_t)n);
		ckp = mem;
		cfixed = (bson_value_t *)(ckp + n);
		in_arr = (bool *)(cfixed + n);
	}
	memset(in_arr, 0, sizeof(*in_arr) * (size_t)n);

	for (i = 0; i < n; i++) {
		const struct spath *sp = &p->path[i];
		bool have_field, nested = false;

		if (kp[i].at == sp->n)
			continue;
		have_field = get_field(obj, len, &sp->c[kp[i].at], &it);
		if (have_field && kp[i].pos) {
			rc = ambiguous(g, &sp->c[kp[i].at], kp[i].pos_arr);
			goto out;
		}
		if (have_field) {
			extract_along(obj, len, sp, &kp[i].at, &e);
		} else if (kp[i].pos) {
			nested = kp[i].pos_array;
			kp[i].at = kp[i].pos_at;
			e = kp[i].pos_val;
		} else {
			e.value_type = BSON_TYPE_EOD;
		}
		if (e.value_type == BSON_TYPE_EOD) {
			expr_set_null(&fixed[i]);
			kp[i].at = sp->n;
		} else if (e.value_type == BSON_TYPE_ARRAY) {
			in_arr[i] = true;
			if (arr.value_type == BSON_TYPE_EOD) {
				arr = e;
			} else if (e.value.v_doc.data != arr.value.v_doc.data) {
				sp_error_set(g->err,
				    "cannot sort with keys that are parallel "
				    "arrays");
				rc = -1;
				goto out;
			}
			if (nested)
				may_expand = false;
		} else {
			fixed[i] = e;
		}
	}

	if (arr.value_type == BSON_TYPE_EOD) {
		key_found(g, fixed);
		goto out;
	}
	if (arr.value.v_doc.data_len <= 5) {
		/* An empty array: undefined where a path ends at it, null
		 * further down (the paths go on in nothing). */
		memcpy(cfixed, fixed, sizeof(*fixed) * (size_t)n);
		memset(ckp, 0, sizeof(*ckp) * (size_t)n);
		for (i = 0; i < n; i++) {
			ckp[i].at = kp[i].at;
			if (in_arr[i] && kp[i].at == p->path[i].n)
				cfixed[i].value_type = BSON_TYPE_UNDEFINED;
		}
		rc = gen_keys(g, empty_doc, sizeof(empty_doc), ckp, cfixed);
		goto out;
	}

	/* Positional components are resolved once, for every element. */
	for (i = 0; i < n; i++) {
		const struct spath *sp = &p->path[i];

		memset(
		    &kp[i].pos, 0, sizeof(*kp) - offsetof(struct kpath, pos));
		if (kp[i].at == sp->n)
			continue;
		if (!get_field(arr.value.v_doc.data, arr.value.v_doc.data_len,
			&sp->c[kp[i].at], &it))
			continue;
		kp[i].pos = true;
		kp[i].pos_array = BSON_ITER_HOLDS_ARRAY(&it);
		kp[i].pos_at = kp[i].at;
		kp[i].pos_arr = &arr;
		extract_along(arr.value.v_doc.data, arr.value.v_doc.data_len,
		    sp, &kp[i].pos_at, &kp[i].pos_val);
	}
	bson_iter_init_from_data(
	    &it, arr.value.v_doc.data, arr.value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		const bson_value_t *el = bson_iter_value(&it);

		memcpy(ckp, kp, sizeof(*kp) * (size_t)n);
		memcpy(cfixed, fixed, sizeof(*fixed) * (size_t)n);
		for (i = 0; i < n; i++)
			if (in_arr[i] && kp[i].at == p->path[i].n)
				cfixed[i] = may_expand ? *el : arr;
		if (el->value_type == BSON_TYPE_DOCUMENT)
			rc = gen_keys(g, el->value.v_doc.data,
			    el->value.v_doc.data_len, ckp, cfixed);
		else
			rc = gen_keys(
			    g, empty_doc, sizeof(empty_doc), ckp, cfixed);
		if (rc < 0)
			break;
	}
out:
	free(mem);
	return rc;
}

int
sort_key_make(const struct sort_pattern *p, const uint8_t *doc, uint32_t len,
    bson_value_t *keys, struct sp_error *err)
{
	struct kpath kp_local[4], *kp = kp_local;
	bson_value_t fixed_local[4], *fixed = fixed_local;
	struct keygen g;
	int i, rc;

	if (p->n > 4) {
		kp = sp_xmalloc(sizeof(*kp) * (size_t)p->n);
		fixed = sp_xmalloc(sizeof(*fixed) * (size_t)p->n);
	}
	memset(kp, 0, sizeof(*kp) * (size_t)p->n);
	for (i = 0; i < p->n; i++)
		expr_set_null(&fixed[i]);
	memset(&g, 0, sizeof(g));
	g.p = p;
	g.best = keys;
	g.err = err;
	rc = gen_keys(&g, doc, len, kp, fixed);
	if (rc < 0 || !g.have)
		for (i = 0; i < p->n; i++)
			expr_set_null(&keys[i]);
	if (kp != kp_local) {
		free(kp);
		free(fixed);
	}
	return rc;
}

void
sort_key_get(const struct sort_pattern *p, const uint8_t *doc, uint32_t len,
    bson_value_t *keys)
{
	struct sp_error err;

	/* A document MongoDB would refuse sorts as all nulls here. */
	sort_key_make(p, doc, len, keys, &err);
}

int
sort_key_compare(
    const struct sort_pattern *p, const bson_value_t *a, const bson_value_t *b)
{
	int i, c;

	for (i = 0; i < p->n; i++) {
		c = sp_value_compare(&a[i], &b[i]);
		if (c != 0)
			return (c < 0) == (p->dir[i] > 0) ? -1 : 1;
	}
	return 0;
}
