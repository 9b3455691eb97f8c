/* accum_n.c: $top, $bottom, the n-accumulators ($topN, $bottomN, $firstN,
 * $lastN, $maxN, $minN) and the percentiles ($median, $percentile). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "group_int.h"

/*
 * How each keeps its state, and why merging shards gives one run's answer:
 *
 * $firstN keeps the first n values, $lastN a ring of the last n.
 *
 * $topN and $minN keep the n smallest entries in the order (key, arrival):
 * MongoDB's multimap refuses a newcomer that ties with its largest entry
 * and evicts the latest of the largest, so what survives is exactly that.
 * A partial is those entries; fed in after a state's own, in their order,
 * they keep the relative arrival order of equal keys, which is all that
 * the order above looks at.
 *
 * $bottomN and $maxN are subtler: MongoDB refuses a newcomer that ties
 * with its smallest entry but evicts the *earliest* of the smallest, so
 * which of the entries tied at the threshold survive depends on when they
 * came. With K the n-th largest key seen: every entry above K survives,
 * and of the entries equal to K, those that came while fewer than n
 * entries >= K had been seen were let in, and the last m of those survive
 * (m the places left). Entries below K, and entries equal to K that came
 * after n entries >= K, can never matter, whatever came before or comes
 * after; the state is the rest (compacted whenever max(n, 8) entries
 * more than n have gathered), in arrival order. Its partial is that list, and
 * merging feeds it in as if the shard's documents came after: the answer is the
 * same.
 *
 * The percentiles are MongoDB's t-digest (k2 scaling, delta 1000, a buffer
 * of 5000 raw values flushed into the centroids when full). Up to 1000
 * values it is exact: every centroid holds one value and the answer is the
 * discrete percentile, value number max(0, ceil(n p) - 1) from 0 in
 * ascending order. Memory is bounded by the buffer and 2 delta centroids.
 * A partial carries the buffer raw, so shards merge into exactly one run's
 * digest as long as no shard after the first has flushed (holds 5000
 * values or more); one that has brings centroids, merged as MongoDB merges
 * its shards' digests: approximate, like the digest itself.
 */

static const uint8_t empty_doc[5] = {5, 0, 0, 0, 0};

enum kind { K_FIRST, K_LAST, K_MIN, K_MAX, K_TOP, K_BOTTOM };

/* What compile keeps for the n-accumulators. */
struct npriv {
	enum kind kind;
	bool single; /* $top, $bottom: one value, not an array */
	const char *name;
	struct sp_expr *nexpr; /* n when it is not a constant */
	int64_t n; /* n when it is */
	/* $top and $bottom: */
	struct sort_pattern keyp; /* over the evaluated {s0, s1...} */
	int nk;
	struct sp_expr **sf; /* "$path" of each sortBy field */
};

/* One kept entry: the value, and for $top/$bottom its sort key. */
struct item {
	bson_value_t out;
	bson_value_t *keys; /* nk values; NULL: the key is out itself */
	uint64_t seq; /* arrival */
};

struct nstate {
	int64_t n;
	uint64_t seq;
	struct item *it;
	size_t len, cap;
	size_t head; /* $lastN: the oldest entry of the ring */
	bson_value_t *kc; /* $bottomN, $maxN: a lower bound of K */
	size_t heap; /* bytes held by the entries' values */
};

/* ----------------------------------------------------------- helpers */

static void
elem_str(struct sp_buf *b, const char *key, const bson_value_t *v)
{
	bson_elem_str(b, key, v);
}

/* BSONElement::toString(false, false): the value as a BSONObj shows it. */
static void
elem_value_str(struct sp_buf *b, const bson_value_t *v)
{
	struct sp_buf t;

	sp_buf_init(&t);
	bson_elem_str(&t, "", v);
	sp_buf_puts(b, sp_buf_cstr(&t) + 2);
	sp_buf_release(&t);
}

/* "specification must be an object; found $topN: 5" */
static int
not_object(const char *name, const bson_value_t *arg, struct sp_error *err)
{
	struct sp_buf b;

	sp_buf_init(&b);
	elem_str(&b, name, arg);
	sp_error_set(
	    err, "specification must be an object; found %s", sp_buf_cstr(&b));
	sp_buf_release(&b);
	return -1;
}

int
spec_const_value(
    const bson_value_t *spec, bson_value_t *out, struct sp_error *err)
{
	struct expr_comp c;
	struct enode *n;
	int rc = 0;

	c.err = err;
	c.scope = NULL;
	c.nslots = 2;
	c.depth = 0;
	if (sp_expr_compile_value(&c, spec, &n) < 0)
		return -1;
	if (sp_expr_is_const(n)) {
		/* $$REMOVE folds to missing, which bson_value_copy refuses. */
		if (n->cval.value_type == BSON_TYPE_EOD)
			expr_set_missing(out);
		else
			bson_value_copy(&n->cval, out);
		rc = 1;
	}
	sp_expr_node_free(n);
	return rc;
}

/* AccumulatorN::validateN. */
static int
validate_n(const bson_value_t *v, int64_t *n, struct sp_error *err)
{
	struct sp_decimal dec;
	struct sp_buf b;
	bool integral = false;
	double d;

	switch (v->value_type) {
	case BSON_TYPE_INT32:
		*n = v->value.v_int32;
		integral = true;
		break;
	case BSON_TYPE_INT64:
		*n = v->value.v_int64;
		integral = true;
		break;
	case BSON_TYPE_DOUBLE:
		/* coerceToLong, then "is it the same number as a double". */
		d = v->value.v_double;
		integral = d >= -9223372036854775808.0 &&
		    d < 9223372036854775808.0 && (double)(int64_t)d == d;
		if (integral)
			*n = (int64_t)d;
		break;
	case BSON_TYPE_DECIMAL128:
		/* Rounded to an integer, compared as doubles: the decimal
		 * 9223372036854775807 passes, as in MongoDB. */
		sp_decimal_unpack(&dec, &v->value.v_decimal128);
		integral =
		    sp_decimal_to_int64(&dec, SP_DECIMAL_HALF_EVEN, n) == 0 &&
		    (double)*n == sp_expr_num_double(v);
		break;
	default: break;
	}
	if (!integral) {
		sp_buf_init(&b);
		value_str(&b, v);
		sp_error_set(err,
		    "Value for 'n' must be of integral type, but found %s",
		    sp_buf_cstr(&b));
		sp_buf_release(&b);
		return -1;
	}
	if (*n <= 0)
		return sp_error_set(err,
		    "'n' must be greater than 0, found %lld", (long long)*n);
	return 0;
}

/* A value kept in state, counted in *heap. */
static void
keep(size_t *heap, bson_value_t *dst, const bson_value_t *v)
{
	value_keep(dst, v);
	*heap += value_heap_bytes(dst);
}

static void
drop(size_t *heap, bson_value_t *v)
{
	*heap -= value_heap_bytes(v);
	value_drop(v);
}

/*
 * A partial's fields: {"acc": name, ...}; *fields[i] is set to the value
 * of names[i] (EOD when absent). -1 when v is not a document of acc name
 * or has other fields.
 */
static int
partial_fields(const char *name, const bson_value_t *v,
    const char *const *names, bson_value_t *fields, int nf,
    struct sp_error *err)
{
	bson_iter_t it;
	bool acc = false;
	int i;

	for (i = 0; i < nf; i++)
		fields[i].value_type = BSON_TYPE_EOD;
	if (v->value_type != BSON_TYPE_DOCUMENT ||
	    !bson_iter_init_from_data(
		&it, v->value.v_doc.data, v->value.v_doc.data_len))
		return partial_refused(err, "", name, v);
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);

		if (strcmp(k, "acc") == 0) {
			if (!BSON_ITER_HOLDS_UTF8(&it) ||
			    strcmp(bson_iter_utf8(&it, NULL), name) != 0)
				return partial_refused(err, "", name, v);
			acc = true;
			continue;
		}
		for (i = 0; i < nf; i++)
			if (strcmp(k, names[i]) == 0)
				break;
		if (i == nf || fields[i].value_type != BSON_TYPE_EOD)
			return partial_refused(err, "", name, v);
		fields[i] = *bson_iter_value(&it);
	}
	if (!acc)
		return partial_refused(err, "", name, v);
	return 0;
}

/* Sorts idx[0..n) with cmp(ctx, a, b), stably (a merge sort). */
typedef int (*idx_cmp)(const void *ctx, size_t a, size_t b);

static void
sort_idx(size_t *idx, size_t n, idx_cmp cmp, const void *ctx)
{
	size_t *tmp, w, i, lo, mid, hi, a, b;

	if (n < 2)
		return;
	tmp = sp_xmalloc(sizeof(*tmp) * n);
	for (w = 1; w < n; w *= 2) {
		for (lo = 0; lo < n; lo += 2 * w) {
			mid = lo + w < n ? lo + w : n;
			hi = lo + 2 * w < n ? lo + 2 * w : n;
			a = lo;
			b = mid;
			for (i = lo; i < hi; i++)
				if (a < mid &&
				    (b >= hi || cmp(ctx, idx[a], idx[b]) <= 0))
					tmp[i] = idx[a++];
				else
					tmp[i] = idx[b++];
		}
		memcpy(idx, tmp, sizeof(*idx) * n);
	}
	free(tmp);
}

/* ------------------------------------------------------- n: compile */

static const char *const kind_names[] = {
    "$firstN", "$lastN", "$minN", "$maxN", "$topN", "$bottomN"};

static void
npriv_free(struct npriv *p)
{
	int i;

	if (p == NULL)
		return;
	sp_expr_free(p->nexpr);
	sort_pattern_release(&p->keyp);
	for (i = 0; i < p->nk; i++)
		sp_expr_free(p->sf[i]);
	free(p->sf);
	free(p);
}

static void
n_free_priv(struct accum *a)
{
	npriv_free(a->priv);
	a->priv = NULL;
}

/*
 * n: a constant is checked now (MongoDB checks it when the first group is
 * made; a spec that can only fail is refused before any input here), an
 * expression when each group is made, over its _id.
 */
static int
compile_n(struct npriv *p, const bson_value_t *spec, struct sp_error *err)
{
	bson_value_t v;
	int rc;

	sp_expr_free(p->nexpr);
	p->nexpr = NULL;
	if (sp_expr_compile(&p->nexpr, spec, err) < 0)
		return -1;
	if ((rc = spec_const_value(spec, &v, err)) < 0)
		return -1;
	if (rc == 1) {
		sp_expr_free(p->nexpr);
		p->nexpr = NULL;
		/* The check itself waits until every argument has parsed,
		 * as MongoDB's parse errors come first. */
		p->n = 0;
		if (validate_n(&v, &p->n, NULL) < 0)
			p->n = -1;
		bson_value_destroy(&v);
	}
	return 0;
}

/* The error of a constant n that compile_n found bad. */
static int
check_const_n(
    const struct npriv *p, const bson_value_t *spec, struct sp_error *err)
{
	bson_value_t v;
	int64_t n;
	int rc;

	if (p->nexpr != NULL || p->n > 0)
		return 0;
	if ((rc = spec_const_value(spec, &v, err)) <= 0)
		return rc;
	rc = validate_n(&v, &n, err);
	bson_value_destroy(&v);
	return rc;
}

/* $firstN, $lastN, $minN, $maxN: {input: <expr>, n: <expr>}. */
static int
compile_input_n(struct accum *a, const bson_value_t *arg, enum kind kind,
    struct sp_error *err)
{
	struct npriv *p;
	bson_iter_t it;
	bson_value_t nspec = {.value_type = BSON_TYPE_EOD};
	bool have_n = false, have_in = false;

	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return not_object(kind_names[kind], arg, err);
	p = sp_xcalloc(1, sizeof(*p));
	p->kind = kind;
	p->name = kind_names[kind];
	a->priv = p;
	bson_iter_init_from_data(
	    &it, arg->value.v_doc.data, arg->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);

		if (strcmp(k, "input") == 0) {
			sp_expr_free(a->expr);
			a->expr = NULL;
			if (sp_expr_compile(
				&a->expr, bson_iter_value(&it), err) < 0)
				return -1;
			have_in = true;
		} else if (strcmp(k, "n") == 0) {
			nspec = *bson_iter_value(&it);
			if (compile_n(p, &nspec, err) < 0)
				return -1;
			have_n = true;
		} else {
			return sp_error_set(
			    err, "Unknown argument for 'n' operator: %s", k);
		}
	}
	if (!have_n)
		return sp_error_set(err, "Missing value for 'n'");
	if (!have_in)
		return sp_error_set(err, "Missing value for 'input'");
	return check_const_n(p, &nspec, err);
}

static int
compile_first_n(struct accum *a, const bson_value_t *arg, struct sp_error *err)
{
	return compile_input_n(a, arg, K_FIRST, err);
}

static int
compile_last_n(struct accum *a, const bson_value_t *arg, struct sp_error *err)
{
	return compile_input_n(a, arg, K_LAST, err);
}

static int
compile_min_n(struct accum *a, const bson_value_t *arg, struct sp_error *err)
{
	return compile_input_n(a, arg, K_MIN, err);
}

static int
compile_max_n(struct accum *a, const bson_value_t *arg, struct sp_error *err)
{
	return compile_input_n(a, arg, K_MAX, err);
}

/*
 * $top, $bottom, $topN, $bottomN: {n: <expr>, sortBy: {...}, output:
 * <expr>}. As MongoDB does, the sortBy fields are evaluated as the
 * expressions "$<field>" next to output, and the sort key is taken from
 * that small document, not from the input document.
 */
static int
compile_top_bottom(struct accum *a, const bson_value_t *arg, enum kind kind,
    bool single, struct sp_error *err)
{
	const char *name =
	    single ? (kind == K_TOP ? "$top" : "$bottom") : kind_names[kind];
	struct sort_pattern user;
	struct npriv *p;
	bson_iter_t it;
	bson_value_t nspec = {.value_type = BSON_TYPE_EOD}, out, sort;
	bson_t keyspec;
	bool have_n = false;
	char key[24];
	int i, rc;

	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return not_object(name, arg, err);
	p = sp_xcalloc(1, sizeof(*p));
	p->kind = kind;
	p->single = single;
	p->name = name;
	p->n = 1;
	a->priv = p;
	out.value_type = sort.value_type = BSON_TYPE_EOD;
	bson_iter_init_from_data(
	    &it, arg->value.v_doc.data, arg->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);

		if (!single && strcmp(k, "n") == 0) {
			nspec = *bson_iter_value(&it);
			if (compile_n(p, &nspec, err) < 0)
				return -1;
			have_n = true;
		} else if (strcmp(k, "output") == 0) {
			out = *bson_iter_value(&it);
		} else if (strcmp(k, "sortBy") == 0) {
			if (!BSON_ITER_HOLDS_DOCUMENT(&it) &&
			    !BSON_ITER_HOLDS_ARRAY(&it))
				return sp_error_set(err,
				    "invalid parameter: expected an object "
				    "(sortBy)");
			sort = *bson_iter_value(&it);
			sort.value_type = BSON_TYPE_DOCUMENT;
		} else {
			return sp_error_set(
			    err, "Unknown argument to %s '%s'", name, k);
		}
	}
	if (!single && !have_n)
		return sp_error_set(err, "Missing value for 'n'");
	if (out.value_type == BSON_TYPE_EOD)
		return sp_error_set(err, "Missing value for 'output'");
	if (sort.value_type == BSON_TYPE_EOD)
		return sp_error_set(err, "Missing value for 'sortBy'");
	if (sort_pattern_parse(&user, &sort, err) < 0)
		return -1;

	p->nk = user.n;
	p->sf = sp_xcalloc((size_t)user.n, sizeof(*p->sf));
	bson_init(&keyspec);
	rc = 0;
	for (i = 0; i < user.n && rc == 0; i++) {
		bson_value_t ps;
		char *s;

		s = sp_xmalloc(strlen(user.path[i].full) + 2);
		s[0] = '$';
		strcpy(s + 1, user.path[i].full);
		expr_set_cstr(&ps, s);
		rc = sp_expr_compile(&p->sf[i], &ps, err);
		free(s);
		snprintf(key, sizeof(key), "s%d", i);
		BSON_APPEND_INT32(&keyspec, key, user.dir[i]);
	}
	sort_pattern_release(&user);
	if (rc == 0) {
		bson_value_t ks;

		doc_value(&ks, bson_get_data(&keyspec), keyspec.len);
		rc = sort_pattern_parse(&p->keyp, &ks, err);
	}
	bson_destroy(&keyspec);
	if (rc < 0)
		return -1;
	if (sp_expr_compile(&a->expr, &out, err) < 0)
		return -1;
	return have_n ? check_const_n(p, &nspec, err) : 0;
}

static int
compile_top_n(struct accum *a, const bson_value_t *arg, struct sp_error *err)
{
	return compile_top_bottom(a, arg, K_TOP, false, err);
}

static int
compile_bottom_n(struct accum *a, const bson_value_t *arg, struct sp_error *err)
{
	return compile_top_bottom(a, arg, K_BOTTOM, false, err);
}

static int
compile_top(struct accum *a, const bson_value_t *arg, struct sp_error *err)
{
	return compile_top_bottom(a, arg, K_TOP, true, err);
}

static int
compile_bottom(struct accum *a, const bson_value_t *arg, struct sp_error *err)
{
	return compile_top_bottom(a, arg, K_BOTTOM, true, err);
}

/*
 * What one document gives $top...: {"o": <output>, "k": [<sort key>]},
 * output left out when missing. The key is made here, so that a document
 * MongoDB would refuse (parallel arrays in sortBy) fails before any state
 * changes.
 */
static int
tb_eval(const struct accum *a, const uint8_t *doc, uint32_t len,
    struct sp_arena *ar, bson_value_t *out, struct sp_error *err)
{
	const struct npriv *p = a->priv;
	struct expr_buf fb, kb, ob;
	bson_value_t o, v, fields, karr, *keys;
	char key[24];
	int i;

	if (sp_expr_eval(a->expr, doc, len, ar, &o, err) < 0)
		return -1;
	sp_expr_buf_init(&fb, ar);
	for (i = 0; i < p->nk; i++) {
		if (sp_expr_eval(p->sf[i], doc, len, ar, &v, err) < 0)
			return -1;
		if (v.value_type == BSON_TYPE_EOD)
			continue;
		/* "s<i>", as compile named them (at most 32 keys); no printf
		 * per document. */
		key[0] = 's';
		if (i < 10) {
			key[1] = (char)('0' + i);
			key[2] = '\0';
		} else {
			key[1] = (char)('0' + i / 10);
			key[2] = (char)('0' + i % 10);
			key[3] = '\0';
		}
		sp_expr_buf_append(&fb, key, strlen(key), &v);
	}
	if (sp_expr_buf_finish(&fb, BSON_TYPE_DOCUMENT, &fields) < 0)
		return sp_error_set(err, EXPR_TOO_LARGE);
	keys = sp_arena_alloc(ar, sizeof(*keys) * (size_t)p->nk);
	if (sort_key_make(&p->keyp, fields.value.v_doc.data,
		fields.value.v_doc.data_len, keys, err) < 0)
		return -1;
	sp_expr_buf_init(&kb, ar);
	for (i = 0; i < p->nk; i++)
		sp_expr_buf_append(&kb, NULL, 0, &keys[i]);
	(void)sp_expr_buf_finish(&kb, BSON_TYPE_ARRAY, &karr);
	sp_expr_buf_init(&ob, ar);
	if (o.value_type != BSON_TYPE_EOD)
		sp_expr_buf_append(&ob, "o", 1, &o);
	sp_expr_buf_append(&ob, "k", 1, &karr);
	if (sp_expr_buf_finish(&ob, BSON_TYPE_DOCUMENT, out) < 0)
		return sp_error_set(err, EXPR_TOO_LARGE);
	return 0;
}

/* ------------------------------------------------------- n: state */

static int
n_init(const struct accum *a, void *st, const bson_value_t *key,
    struct sp_error *err)
{
	const struct npriv *p = a->priv;
	struct nstate *s = st;
	struct sp_arena ar;
	bson_value_t v;
	const uint8_t *doc = empty_doc;
	uint32_t len = sizeof(empty_doc);
	int rc;

	if (p->nexpr == NULL) {
		s->n = p->n;
		return 0;
	}
	/* MongoDB evaluates n over the group's _id when it is a document
	 * ({_id: {g: "$g"}} lets n say "$g"), else over an empty one. */
	if (key != NULL && key->value_type == BSON_TYPE_DOCUMENT) {
		doc = key->value.v_doc.data;
		len = key->value.v_doc.data_len;
	}
	sp_arena_init(&ar);
	rc = sp_expr_eval(p->nexpr, doc, len, &ar, &v, err);
	if (rc == 0)
		rc = validate_n(&v, &s->n, err);
	sp_arena_release(&ar);
	return rc;
}

static const bson_value_t *
key_of(const struct item *it)
{
	return it->keys != NULL ? it->keys : &it->out;
}

static int
kcmp(const struct npriv *p, const bson_value_t *x, const bson_value_t *y)
{
	if (p->nk > 0)
		return sort_key_compare(&p->keyp, x, y);
	return sp_value_compare(x, y);
}

/* (key, arrival) order. */
static int
item_cmp(const struct npriv *p, const struct item *x, const struct item *y)
{
	int c = kcmp(p, key_of(x), key_of(y));

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
item_release(struct nstate *s, struct item *it)
{
	int i;

	drop(&s->heap, &it->out);
	if (it->keys != NULL) {
		/* nk is not at hand: the key array ends where an EOD is. */
		for (i = 0; it->keys[i].value_type != BSON_TYPE_EOD; i++)
			drop(&s->heap, &it->keys[i]);
		s->heap -= sizeof(*it->keys) * (size_t)(i + 1);
		free(it->keys);
		it->keys = NULL;
	}
}

/* A new item from v (and keys, nk of them, or none). */
static void
item_make(struct nstate *s, struct item *it, const bson_value_t *v,
    const bson_value_t *keys, int nk)
{
	int i;

	keep(&s->heap, &it->out, v);
	it->keys = NULL;
	if (keys != NULL) {
		it->keys = sp_xmalloc(sizeof(*it->keys) * (size_t)(nk + 1));
		s->heap += sizeof(*it->keys) * (size_t)(nk + 1);
		for (i = 0; i < nk; i++)
			keep(&s->heap, &it->keys[i], &keys[i]);
		it->keys[nk].value_type = BSON_TYPE_EOD;
	}
	it->seq = s->seq++;
}

static struct item *
item_push(struct nstate *s)
{
	if (s->len == s->cap) {
		s->cap = s->cap < 4 ? 4 : s->cap * 2;
		s->it = sp_xrealloc(s->it, sizeof(*s->it) * s->cap);
	}
	return &s->it[s->len++];
}

/* ---- $topN, $minN: a max-heap in (key, arrival) order, n at most. */

static void
heap_up(const struct npriv *p, struct item *h, size_t i)
{
	struct item t;

	while (i > 0) {
		size_t up = (i - 1) / 2;

		if (item_cmp(p, &h[up], &h[i]) >= 0)
			break;
		t = h[up];
		h[up] = h[i];
		h[i] = t;
		i = up;
	}
}

static void
heap_down(const struct npriv *p, struct item *h, size_t n, size_t i)
{
	struct item t;

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < n && item_cmp(p, &h[l], &h[m]) > 0)
			m = l;
		if (r < n && item_cmp(p, &h[r], &h[m]) > 0)
			m = r;
		if (m == i)
			break;
		t = h[m];
		h[m] = h[i];
		h[i] = t;
		i = m;
	}
}

static void
low_add(const struct npriv *p, struct nstate *s, const bson_value_t *v,
    const bson_value_t *keys)
{
	const bson_value_t *k = keys != NULL ? keys : v;

	if ((int64_t)s->len >= s->n) {
		/* Full: a newcomer that ties with the largest loses. */
		if (kcmp(p, key_of(&s->it[0]), k) <= 0)
			return;
		item_release(s, &s->it[0]);
		item_make(s, &s->it[0], v, keys, p->nk);
		heap_down(p, s->it, s->len, 0);
		return;
	}
	item_make(s, item_push(s), v, keys, p->nk);
	heap_up(p, s->it, s->len - 1);
}

/* ---- $bottomN, $maxN: the entries that may still matter, in arrival
 * order (see the top of the file). */

static int
desc_cmp(const void *ctx, size_t a, size_t b)
{
	const void *const *c = ctx;
	const struct npriv *p = c[0];
	const struct nstate *s = c[1];

	return kcmp(p, key_of(&s->it[b]), key_of(&s->it[a]));
}

static int
asc_cmp(const void *ctx, size_t a, size_t b)
{
	const void *const *c = ctx;
	const struct npriv *p = c[0];
	const struct nstate *s = c[1];

	return item_cmp(p, &s->it[a], &s->it[b]);
}

/*
 * Marks each entry of a $bottomN/$maxN list: 2 survives (is in the answer
 * now), 1 may still matter, 0 never will. Returns the threshold K (an
 * entry's index), or (size_t)-1 when there are n entries or fewer.
 */
static size_t
high_mark(const struct npriv *p, const struct nstate *s, unsigned char *mark)
{
	const void *ctx[2] = {p, s};
	size_t *idx, i, kpos, above = 0, m, seen = 0;
	const bson_value_t *K;

	if ((int64_t)s->len <= s->n) {
		memset(mark, 2, s->len);
		return (size_t)-1;
	}
	idx = sp_xmalloc(sizeof(*idx) * s->len);
	for (i = 0; i < s->len; i++)
		idx[i] = i;
	sort_idx(idx, s->len, desc_cmp, ctx);
	kpos = idx[s->n - 1];
	free(idx);
	K = key_of(&s->it[kpos]);
	for (i = 0; i < s->len; i++) {
		int c = kcmp(p, key_of(&s->it[i]), K);

		mark[i] = 0;
		if (c > 0) {
			mark[i] = 2;
			above++;
			seen++;
		} else if (c == 0 && (int64_t)seen < s->n) {
			mark[i] = 1;
			seen++;
		}
	}
	/* Of the candidates tied at K, the last m survive: MongoDB evicts
	 * the earliest of its smallest entries. */
	m = (size_t)s->n - above;
	for (i = s->len; i-- > 0 && m > 0;)
		if (mark[i] == 1) {
			mark[i] = 2;
			m--;
		}
	return kpos;
}

/* Drops what can no longer matter; remembers K to refuse early. */
static void
high_compact(const struct npriv *p, struct nstate *s)
{
	unsigned char *mark = sp_xmalloc(s->len);
	size_t kpos, i, j;
	int nk = p->nk > 0 ? p->nk : 1;

	kpos = high_mark(p, s, mark);
	if (kpos != (size_t)-1) {
		if (s->kc == NULL) {
			s->kc = sp_xcalloc((size_t)nk, sizeof(*s->kc));
			s->heap += sizeof(*s->kc) * (size_t)nk;
		} else {
			for (i = 0; i < (size_t)nk; i++)
				drop(&s->heap, &s->kc[i]);
		}
		for (i = 0; i < (size_t)nk; i++)
			keep(&s->heap, &s->kc[i], &key_of(&s->it[kpos])[i]);
	}
	for (i = j = 0; i < s->len; i++) {
		if (mark[i] == 0)
			item_release(s, &s->it[i]);
		else
			s->it[j++] = s->it[i];
	}
	s->len = j;
	free(mark);
}

static void
high_add(const struct npriv *p, struct nstate *s, const bson_value_t *v,
    const bson_value_t *keys)
{
	const bson_value_t *k = keys != NULL ? keys : v;
	size_t slack;

	/* At or below a threshold once reached it can never matter: n
	 * entries at or above it came first, and K only grows. */
	if (s->kc != NULL && kcmp(p, k, s->kc) <= 0)
		return;
	item_make(s, item_push(s), v, keys, p->nk);
	slack = s->n < 8 ? 8 : (size_t)s->n;
	if ((int64_t)s->len > s->n && s->len - (size_t)s->n >= slack)
		high_compact(p, s);
}

/* ---- add, result, partial, merge */

/* Splits a $top... value from tb_eval into output and key. */
static void
tb_split(const struct npriv *p, const bson_value_t *v, bson_value_t *o,
    bson_value_t *keys)
{
	bson_iter_t it, ki;
	int i = 0;

	expr_set_null(o);
	bson_iter_init_from_data(
	    &it, v->value.v_doc.data, v->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		if (strcmp(bson_iter_key(&it), "o") == 0) {
			*o = *bson_iter_value(&it);
		} else if (bson_iter_recurse(&it, &ki)) {
			while (bson_iter_next(&ki) && i < p->nk)
				keys[i++] = *bson_iter_value(&ki);
		}
	}
	for (; i < p->nk; i++)
		expr_set_null(&keys[i]);
}

static void
n_add(const struct accum *a, void *st, const bson_value_t *v)
{
	const struct npriv *p = a->priv;
	struct nstate *s = st;
	bson_value_t o, kl[4], *keys = NULL;

	switch (p->kind) {
	case K_FIRST:
		if ((int64_t)s->len >= s->n)
			return;
		if (v->value_type == BSON_TYPE_EOD) {
			expr_set_null(&o);
			v = &o;
		}
		item_make(s, item_push(s), v, NULL, 0);
		return;
	case K_LAST:
		if (v->value_type == BSON_TYPE_EOD) {
			expr_set_null(&o);
			v = &o;
		}
		if ((int64_t)s->len < s->n) {
			item_make(s, item_push(s), v, NULL, 0);
			return;
		}
		item_release(s, &s->it[s->head]);
		item_make(s, &s->it[s->head], v, NULL, 0);
		s->head = (s->head + 1) % s->len;
		return;
	case K_MIN:
	case K_MAX:
		if (expr_nullish(v))
			return;
		if (p->kind == K_MIN)
			low_add(p, s, v, NULL);
		else
			high_add(p, s, v, NULL);
		return;
	case K_TOP:
	case K_BOTTOM:
		keys =
		    p->nk <= 4 ? kl : sp_xmalloc(sizeof(*keys) * (size_t)p->nk);
		tb_split(p, v, &o, keys);
		if (p->kind == K_TOP)
			low_add(p, s, &o, keys);
		else
			high_add(p, s, &o, keys);
		if (keys != kl)
			free(keys);
		return;
	}
}

/*
 * The entries in answer order, as indices into s->it: *n of them, in a
 * new array (free).
 */
static size_t *
n_order(const struct npriv *p, const struct nstate *s, size_t *n)
{
	const void *ctx[2] = {p, s};
	size_t *idx = sp_xmalloc(sizeof(*idx) * (s->len + 1)), i, j;
	unsigned char *mark;

	*n = 0;
	switch (p->kind) {
	case K_FIRST:
		for (i = 0; i < s->len; i++)
			idx[(*n)++] = i;
		break;
	case K_LAST:
		for (i = 0; i < s->len; i++)
			idx[(*n)++] = (s->head + i) % s->len;
		break;
	case K_MIN:
	case K_TOP:
		for (i = 0; i < s->len; i++)
			idx[(*n)++] = i;
		sort_idx(idx, *n, asc_cmp, ctx);
		break;
	case K_MAX:
	case K_BOTTOM:
		mark = sp_xmalloc(s->len + 1);
		(void)high_mark(p, s, mark);
		for (i = 0; i < s->len; i++)
			if (mark[i] == 2)
				idx[(*n)++] = i;
		free(mark);
		sort_idx(idx, *n, asc_cmp, ctx);
		/* $maxN is MongoDB's multiset read backwards: largest
		 * first, and of equal values the latest first. */
		if (p->kind == K_MAX)
			for (i = 0, j = *n; i < j / 2; i++) {
				size_t t = idx[i];

				idx[i] = idx[j - 1 - i];
				idx[j - 1 - i] = t;
			}
		break;
	}
	return idx;
}

static void
n_result(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	const struct npriv *p = a->priv;
	const struct nstate *s = st;
	struct expr_buf b;
	size_t *idx, n, i;

	idx = n_order(p, s, &n);
	if (p->single) {
		/* A group always has had one document; a window may not. */
		if (n == 0)
			expr_set_null(out);
		else
			*out = s->it[idx[0]].out;
		free(idx);
		return;
	}
	sp_expr_buf_init(&b, ar);
	for (i = 0; i < n; i++)
		sp_expr_buf_append(&b, NULL, 0, &s->it[idx[i]].out);
	free(idx);
	if (sp_expr_buf_finish(&b, BSON_TYPE_ARRAY, out) < 0)
		expr_set_null(out);
}

/*
 * The partial: {"acc": "$topN", "v": [...]}: values, or for $top... the
 * {"o", "k"} documents tb_eval makes, in the order merge feeds them back.
 */
static void
n_partial(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	const struct npriv *p = a->priv;
	const struct nstate *s = st;
	struct expr_buf b, vb, eb, kb;
	bson_value_t arr, e, ka, name;
	size_t *idx = NULL, n, i;
	int j;

	if (p->kind == K_MAX || p->kind == K_BOTTOM) {
		/* The whole list, in arrival order: all of it may matter. */
		n = s->len;
		idx = sp_xmalloc(sizeof(*idx) * (n + 1));
		for (i = 0; i < n; i++)
			idx[i] = i;
	} else {
		idx = n_order(p, s, &n);
	}
	sp_expr_buf_init(&vb, ar);
	for (i = 0; i < n; i++) {
		const struct item *it = &s->it[idx[i]];

		if (p->nk == 0) {
			sp_expr_buf_append(&vb, NULL, 0, &it->out);
			continue;
		}
		sp_expr_buf_init(&kb, ar);
		for (j = 0; j < p->nk; j++)
			sp_expr_buf_append(&kb, NULL, 0, &it->keys[j]);
		(void)sp_expr_buf_finish(&kb, BSON_TYPE_ARRAY, &ka);
		sp_expr_buf_init(&eb, ar);
		sp_expr_buf_append(&eb, "o", 1, &it->out);
		sp_expr_buf_append(&eb, "k", 1, &ka);
		(void)sp_expr_buf_finish(&eb, BSON_TYPE_DOCUMENT, &e);
		sp_expr_buf_append(&vb, NULL, 0, &e);
	}
	free(idx);
	(void)sp_expr_buf_finish(&vb, BSON_TYPE_ARRAY, &arr);
	sp_expr_buf_init(&b, ar);
	expr_set_cstr(&name, p->name);
	sp_expr_buf_append(&b, "acc", 3, &name);
	sp_expr_buf_append(&b, "v", 1, &arr);
	if (sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, out) < 0)
		expr_set_null(out);
}

/* A $top... entry of a partial: {"o": <value>, "k": [nk keys]}. */
static bool
tb_entry_ok(const struct npriv *p, const bson_value_t *e)
{
	bson_iter_t it, ki;
	bool o = false, k = false;
	int n;

	if (e->value_type != BSON_TYPE_DOCUMENT ||
	    !bson_iter_init_from_data(
		&it, e->value.v_doc.data, e->value.v_doc.data_len))
		return false;
	while (bson_iter_next(&it)) {
		if (strcmp(bson_iter_key(&it), "o") == 0 && !o) {
			o = true;
		} else if (strcmp(bson_iter_key(&it), "k") == 0 && !k &&
		    BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &ki)) {
			for (n = 0; bson_iter_next(&ki); n++)
				;
			if (n != p->nk)
				return false;
			k = true;
		} else {
			return false;
		}
	}
	return o && k;
}

static int
n_merge(const struct accum *a, void *st, const bson_value_t *part,
    struct sp_error *err)
{
	static const char *const names[] = {"v"};
	const struct npriv *p = a->priv;
	bson_value_t vals;
	bson_iter_t it;

	if (partial_fields(p->name, part, names, &vals, 1, err) < 0)
		return -1;
	if (vals.value_type != BSON_TYPE_ARRAY ||
	    !bson_iter_init_from_data(
		&it, vals.value.v_doc.data, vals.value.v_doc.data_len))
		return partial_refused(err, "", p->name, part);
	/* Checked whole before anything changes. */
	while (bson_iter_next(&it))
		if (p->nk > 0 ? !tb_entry_ok(p, bson_iter_value(&it))
			      : expr_nullish(bson_iter_value(&it)) &&
			    (p->kind == K_MIN || p->kind == K_MAX))
			return partial_refused(err, "", p->name, part);
	bson_iter_init_from_data(
	    &it, vals.value.v_doc.data, vals.value.v_doc.data_len);
	while (bson_iter_next(&it))
		n_add(a, st, bson_iter_value(&it));
	return 0;
}

static size_t
n_bytes(const struct accum *a, const void *st)
{
	const struct nstate *s = st;

	return s->heap + s->cap * sizeof(*s->it);
}

static void
n_release(const struct accum *a, void *st)
{
	const struct npriv *p = a->priv;
	struct nstate *s = st;
	size_t i;
	int nk = p->nk > 0 ? p->nk : 1;

	for (i = 0; i < s->len; i++)
		item_release(s, &s->it[i]);
	free(s->it);
	if (s->kc != NULL) {
		for (i = 0; i < (size_t)nk; i++)
			drop(&s->heap, &s->kc[i]);
		free(s->kc);
	}
	memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------ percentiles: t-digest */

#define TD_DELTA 1000
#define TD_BUFFER (5 * TD_DELTA)

struct centroid {
	double w, m;
};

struct digest {
	int64_t n; /* values in the centroids */
	int64_t neg, pos; /* -Infinity and Infinity seen */
	double min, max; /* of the values in the centroids */
	double *buf; /* raw values not yet merged */
	size_t blen, bcap;
	struct centroid *c;
	size_t clen, ccap;
};

/* The k2 scaling function (Meta's Folly), as MongoDB uses it. */
static double
k2(double q, double d)
{
	if (q <= 0.5)
		return d * (1 / sqrt(2.0)) * sqrt(q);
	return d - d * (1 / sqrt(2.0)) * sqrt(1 - q);
}

static double
k2_inverse(double s, double d)
{
	double r = s / d, b;

	if (r <= 0.5)
		return 2 * r * r;
	b = 1 - r;
	return 1 - 2 * b * b;
}

static double
k2_limit(double q, double d)
{
	return k2_inverse(1 + k2(q, d), d);
}

/* Centroid::add, the way round that keeps the mean within bounds. */
static void
cen_add(struct centroid *c, const struct centroid *o)
{
	if (o->w < c->w) {
		c->w += o->w;
		c->m += (o->m - c->m) * (o->w / c->w);
	} else {
		double nw = c->w + o->w;

		c->m = o->m + (c->m - o->m) * (c->w / nw);
		c->w = nw;
	}
}

static void
cen_add1(struct centroid *c, double x)
{
	c->w += 1;
	c->m += (x - c->m) / c->w;
}

static void
cen_push(struct centroid **v, size_t *len, size_t *cap, struct centroid c)
{
	if (*len == *cap) {
		*cap = *cap < 16 ? 16 : *cap * 2;
		*v = sp_xrealloc(*v, sizeof(**v) * *cap);
	}
	(*v)[(*len)++] = c;
}

static void
td_minmax(struct digest *d, int64_t before, double lo, double hi)
{
	/* MongoDB starts max at DBL_MIN (the smallest positive double), so
	 * its p = 1 of all-negative input is 2.2e-308; the true max here. */
	if (before == 0) {
		d->min = lo;
		d->max = hi;
	} else {
		d->min = lo < d->min ? lo : d->min;
		d->max = hi > d->max ? hi : d->max;
	}
}

/* Replaces d's centroids by t (len tn, capacity tcap). */
static void
td_swap(struct digest *d, struct centroid *t, size_t tn, size_t tcap)
{
	free(d->c);
	d->c = t;
	d->clen = tn;
	d->ccap = tcap;
}

/* TDigest::merge(sorted): folds sorted raw values into the centroids. */
static void
td_merge_sorted(struct digest *d, const double *x, size_t nx)
{
	struct centroid *t = NULL, cur;
	size_t tn = 0, tcap = 0, ic = 0, ix = 0;
	int64_t w = 0, before = d->n;
	double n, q;

	if (nx == 0)
		return;
	d->n += (int64_t)nx;
	td_minmax(d, before, x[0], x[nx - 1]);
	n = (double)d->n;
	while (ic < d->clen && ix < nx) {
		if (d->c[ic].m > x[ix])
			cur = (struct centroid){1, x[ix++]};
		else
			cur = d->c[ic++];
		q = n * k2_limit((double)w / n, TD_DELTA);
		while (ic < d->clen && ix < nx) {
			if (d->c[ic].m > x[ix]) {
				if (w + cur.w + 1 > q)
					break;
				cen_add1(&cur, x[ix++]);
			} else {
				if (w + cur.w + d->c[ic].w > q)
					break;
				cen_add(&cur, &d->c[ic++]);
			}
		}
		cen_push(&t, &tn, &tcap, cur);
		w += (int64_t)cur.w;
	}
	while (ic < d->clen) {
		cur = d->c[ic++];
		q = n * k2_limit((double)w / n, TD_DELTA);
		while (ic < d->clen && w + cur.w + d->c[ic].w <= q)
			cen_add(&cur, &d->c[ic++]);
		cen_push(&t, &tn, &tcap, cur);
		w += (int64_t)cur.w;
	}
	while (ix < nx) {
		cur = (struct centroid){1, x[ix++]};
		q = n * k2_limit((double)w / n, TD_DELTA);
		while (ix < nx && w + cur.w + 1 <= q)
			cen_add1(&cur, x[ix++]);
		cen_push(&t, &tn, &tcap, cur);
		w += (int64_t)cur.w;
	}
	td_swap(d, t, tn, tcap);
}

/* TDigest::merge(other): two sets of centroids into one. */
static void
td_merge_digest(struct digest *d, const struct digest *o)
{
	struct centroid *t = NULL, cur;
	const struct centroid *c1 = d->c, *c2 = o->c, *tail;
	size_t tn = 0, tcap = 0, i1 = 0, i2 = 0, *it, tend;
	int64_t w = 0, before = d->n;
	double n, q;

	d->neg += o->neg;
	d->pos += o->pos;
	if (o->n == 0)
		return;
	d->n += o->n;
	td_minmax(d, before, o->min, o->max);
	n = (double)d->n;
	while (i1 < d->clen && i2 < o->clen) {
		cur = c1[i1].m > c2[i2].m ? c2[i2++] : c1[i1++];
		q = n * k2_limit((double)w / n, TD_DELTA);
		while (i1 < d->clen && i2 < o->clen) {
			const struct centroid *next =
			    c2[i2].m < c1[i1].m ? &c2[i2] : &c1[i1];

			if (w + cur.w + next->w > q)
				break;
			cen_add(&cur, next);
			if (next == &c2[i2])
				i2++;
			else
				i1++;
		}
		cen_push(&t, &tn, &tcap, cur);
		w += (int64_t)cur.w;
	}
	if (i1 < d->clen) {
		tail = c1;
		it = &i1;
		tend = d->clen;
	} else {
		tail = c2;
		it = &i2;
		tend = o->clen;
	}
	while (*it < tend) {
		cur = tail[(*it)++];
		q = n * k2_limit((double)w / n, TD_DELTA);
		while (*it < tend && w + cur.w + tail[*it].w <= q)
			cen_add(&cur, &tail[(*it)++]);
		cen_push(&t, &tn, &tcap, cur);
		w += (int64_t)cur.w;
	}
	td_swap(d, t, tn, tcap);
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
td_flush(struct digest *d)
{
	if (d->blen == 0)
		return;
	qsort(d->buf, d->blen, sizeof(*d->buf), dbl_cmp);
	td_merge_sorted(d, d->buf, d->blen);
	d->blen = 0;
}

static void
td_add(struct digest *d, double x)
{
	if (isnan(x))
		return;
	if (isinf(x)) {
		if (x < 0)
			d->neg++;
		else
			d->pos++;
		return;
	}
	if (d->blen == d->bcap) {
		d->bcap = d->bcap < 16 ? 16 : d->bcap * 2;
		if (d->bcap > TD_BUFFER)
			d->bcap = TD_BUFFER;
		d->buf = sp_xrealloc(d->buf, sizeof(*d->buf) * d->bcap);
	}
	d->buf[d->blen++] = x;
	if (d->blen >= TD_BUFFER)
		td_flush(d);
}

/* PercentileAlgorithm::computeTrueRank: 0-based, ties to the lower. */
static int64_t
true_rank(int64_t n, double p)
{
	int64_t r;

	if (p >= 1.0)
		return n - 1;
	r = (int64_t)ceil((double)n * p) - 1;
	return r < 0 ? 0 : r;
}

/* TDigest::computePercentile on a flushed digest; false: no values. */
static bool
td_percentile(const struct digest *d, double p, double *out)
{
	const struct centroid *c = d->c;
	int64_t rank;
	size_t i;
	double r = 0, wc, left, right, wl, wr, dr, res;

	if (d->n == 0 && d->neg == 0 && d->pos == 0)
		return false;
	/* min() and max(); with only infinities MongoDB answers its
	 * starting values (DBL_MAX, DBL_MIN), the infinities here. */
	if (p >= 1.0) {
		*out = d->pos > 0 ? INFINITY : d->n > 0 ? d->max : -INFINITY;
		return true;
	}
	if (p <= 0) {
		*out = d->neg > 0 ? -INFINITY : d->n > 0 ? d->min : INFINITY;
		return true;
	}
	rank = true_rank(d->n + d->pos + d->neg, p);
	if (d->neg > 0 && rank < d->neg) {
		*out = -INFINITY;
		return true;
	}
	if (d->pos > 0 && rank >= d->n + d->neg) {
		*out = INFINITY;
		return true;
	}
	rank -= d->neg;
	for (i = 0; i < d->clen; i++) {
		r += c[i].w;
		if (r > (double)rank)
			break;
	}
	if (i == d->clen)
		i = d->clen - 1;
	if (c[i].w == 1) {
		*out = c[i].m;
		return true;
	}
	/* Values assumed spread evenly within each centroid: interpolate
	 * between neighbouring means (never towards an infinity). */
	wc = c[i].w;
	if (r - (double)rank >= wc / 2) {
		left = i == 0 ? d->min : c[i - 1].m;
		right = c[i].m;
		wl = i == 0 ? 0 : c[i - 1].w;
		wr = wc;
		dr = wl + 2 * wr - 2 * (r - 1 - (double)rank);
	} else {
		left = c[i].m;
		right = i == d->clen - 1 ? d->max : c[i + 1].m;
		wl = wc;
		wr = i == d->clen - 1 ? 0 : c[i + 1].w;
		dr = wl - 2 * (r - 1 - (double)rank);
	}
	res = left + (right - left) * (dr / (wl + wr));
	*out = res > right ? right : res;
	return true;
}

/* ------------------------------------------------ percentiles: accumulator */

struct ppriv {
	bool median;
	int np;
	double *p;
};

static void
p_free_priv(struct accum *a)
{
	struct ppriv *p = a->priv;

	if (p != NULL)
		free(p->p);
	free(p);
	a->priv = NULL;
}

/* The 'p' field: a constant array of numbers in [0, 1]. */
static int
parse_p(struct ppriv *pp, const bson_value_t *spec, struct sp_error *err)
{
	static const char msg[] = "The $percentile 'p' field must be an array "
				  "of numbers from [0.0, 1.0], but found: ";
	struct sp_buf b;
	bson_value_t v;
	bson_iter_t it;
	int is_const, rc = -1;

	if ((is_const = spec_const_value(spec, &v, err)) < 0)
		return -1;
	sp_buf_init(&b);
	if (!is_const) {
		elem_value_str(&b, spec);
		sp_error_set(err,
		    "The $percentile 'p' field must be an array of constant "
		    "values, but found value: %s.",
		    sp_buf_cstr(&b));
		sp_buf_release(&b);
		return -1;
	}
	if (v.value_type != BSON_TYPE_ARRAY || v.value.v_doc.data_len <= 5) {
		value_str(&b, &v);
		sp_error_set(err, "%s%s", msg, sp_buf_cstr(&b));
		goto out;
	}
	bson_iter_init_from_data(
	    &it, v.value.v_doc.data, v.value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		const bson_value_t *e = bson_iter_value(&it);
		double x;

		if (!sp_value_is_number(e)) {
			value_str(&b, e);
			sp_error_set(err, "%s%s", msg, sp_buf_cstr(&b));
			goto out;
		}
		x = sp_expr_num_double(e);
		/* MongoDB 8.0 lets NaN through (its range test is false for
		 * it); later versions refuse it, as here. */
		if (!(x >= 0 && x <= 1)) {
			value_str(&b,
			    &(bson_value_t){.value_type = BSON_TYPE_DOUBLE,
				.value.v_double = x});
			sp_error_set(err, "%s%s", msg, sp_buf_cstr(&b));
			goto out;
		}
		pp->p = sp_xrealloc(pp->p, sizeof(*pp->p) * (pp->np + 1));
		pp->p[pp->np++] = x;
	}
	rc = 0;
out:
	sp_buf_release(&b);
	bson_value_destroy(&v);
	return rc;
}

/*
 * {input: <expr>, p: [...], method: "approximate"}, parsed as MongoDB's
 * IDL parser does (strict; its messages); $median has no p. MongoDB 8.0
 * knows "discrete" and "continuous" but accepts them only behind a
 * feature flag that is off: only "approximate" passes.
 */
static int
compile_pct(
    struct accum *a, const bson_value_t *arg, bool median, struct sp_error *err)
{
	const char *name = median ? "$median" : "$percentile";
	bson_value_t f[3];
	static const char *const fn[3] = {"input", "p", "method"};
	struct ppriv *pp;
	bson_iter_t it;
	int i;

	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return not_object(name, arg, err);
	for (i = 0; i < 3; i++)
		f[i].value_type = BSON_TYPE_EOD;
	bson_iter_init_from_data(
	    &it, arg->value.v_doc.data, arg->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		int j = -1;

		for (i = 0; i < 3; i++)
			if (strcmp(k, fn[i]) == 0 && !(median && i == 1))
				j = i;
		if (j < 0)
			return sp_error_set(err,
			    "BSON field '%s.%s' is an unknown field.", name, k);
		if (f[j].value_type != BSON_TYPE_EOD)
			return sp_error_set(err,
			    "BSON field '%s.%s' is a duplicate field", name, k);
		f[j] = *bson_iter_value(&it);
		if (j == 2 && f[j].value_type != BSON_TYPE_UTF8)
			return sp_error_set(err,
			    "BSON field '%s.method' is the wrong type '%s', "
			    "expected type 'string'",
			    name, sp_expr_type_name(f[j].value_type));
		if (j == 2 && strcmp(f[j].value.v_utf8.str, "approximate") != 0)
			return sp_error_set(err,
			    "Currently only 'approximate' can be used as "
			    "percentile 'method'.");
	}
	for (i = 0; i < 3; i++)
		if (!(median && i == 1) && f[i].value_type == BSON_TYPE_EOD)
			return sp_error_set(err,
			    "BSON field '%s.%s' is missing but a required "
			    "field",
			    name, fn[i]);
	if (sp_expr_compile(&a->expr, &f[0], err) < 0)
		return -1;
	pp = sp_xcalloc(1, sizeof(*pp));
	pp->median = median;
	a->priv = pp;
	if (median) {
		pp->p = sp_xmalloc(sizeof(*pp->p));
		pp->p[0] = 0.5;
		pp->np = 1;
		return 0;
	}
	return parse_p(pp, &f[1], err);
}

static int
compile_percentile(
    struct accum *a, const bson_value_t *arg, struct sp_error *err)
{
	return compile_pct(a, arg, false, err);
}

static int
compile_median(struct accum *a, const bson_value_t *arg, struct sp_error *err)
{
	return compile_pct(a, arg, true, err);
}

static void
p_add(const struct accum *a, void *st, const bson_value_t *v)
{
	if (sp_value_is_number(v))
		td_add(st, sp_expr_num_double(v));
}

/* The digest with its buffer flushed, in scratch (state is const). */
static void
td_flushed_copy(const struct digest *d, struct digest *t)
{
	*t = *d;
	t->c = NULL;
	t->clen = t->ccap = 0;
	if (d->clen > 0) {
		t->c = sp_xmalloc(sizeof(*t->c) * d->clen);
		memcpy(t->c, d->c, sizeof(*t->c) * d->clen);
		t->clen = t->ccap = d->clen;
	}
	t->buf = NULL;
	t->blen = t->bcap = 0;
	if (d->blen > 0) {
		t->buf = sp_xmalloc(sizeof(*t->buf) * d->blen);
		memcpy(t->buf, d->buf, sizeof(*t->buf) * d->blen);
		t->blen = t->bcap = d->blen;
	}
	td_flush(t);
}

static void
p_result(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	const struct ppriv *pp = a->priv;
	struct digest t;
	struct expr_buf b;
	bson_value_t v;
	double x;
	int i;

	td_flushed_copy(st, &t);
	if (pp->median) {
		if (td_percentile(&t, 0.5, &x))
			expr_set_double(out, x);
		else
			expr_set_null(out);
	} else {
		sp_expr_buf_init(&b, ar);
		for (i = 0; i < pp->np; i++) {
			if (td_percentile(&t, pp->p[i], &x))
				expr_set_double(&v, x);
			else
				expr_set_null(&v);
			sp_expr_buf_append(&b, NULL, 0, &v);
		}
		if (sp_expr_buf_finish(&b, BSON_TYPE_ARRAY, out) < 0)
			expr_set_null(out);
	}
	free(t.c);
	free(t.buf);
}

/* The doubles x[0..n) as an array value. */
static void
dbl_array(struct sp_arena *ar, const double *x, size_t n, bson_value_t *out)
{
	struct expr_buf b;
	bson_value_t v;
	size_t i;

	sp_expr_buf_init(&b, ar);
	for (i = 0; i < n; i++) {
		expr_set_double(&v, x[i]);
		sp_expr_buf_append(&b, NULL, 0, &v);
	}
	(void)sp_expr_buf_finish(&b, BSON_TYPE_ARRAY, out);
}

/* The centroids' weights (or means) as an array value. */
static void
cen_array(
    struct sp_arena *ar, const struct digest *d, bool means, bson_value_t *out)
{
	struct expr_buf b;
	bson_value_t v;
	size_t i;

	sp_expr_buf_init(&b, ar);
	for (i = 0; i < d->clen; i++) {
		expr_set_double(&v, means ? d->c[i].m : d->c[i].w);
		sp_expr_buf_append(&b, NULL, 0, &v);
	}
	(void)sp_expr_buf_finish(&b, BSON_TYPE_ARRAY, out);
}

/*
 * {"acc": "$percentile", "neg": <long>, "pos": <long>, "min": <double>,
 * "max": <double>, "w": [weights], "m": [means], "b": [buffered values]}.
 * The buffer goes out unflushed: merged into a state, its values are
 * taken in order, as in one run.
 */
static void
p_partial(const struct accum *a, const void *st, struct sp_arena *ar,
    bson_value_t *out)
{
	const struct ppriv *pp = a->priv;
	const struct digest *d = st;
	struct expr_buf b;
	bson_value_t v;

	sp_expr_buf_init(&b, ar);
	expr_set_cstr(&v, pp->median ? "$median" : "$percentile");
	sp_expr_buf_append(&b, "acc", 3, &v);
	expr_set_int64(&v, d->neg);
	sp_expr_buf_append(&b, "neg", 3, &v);
	expr_set_int64(&v, d->pos);
	sp_expr_buf_append(&b, "pos", 3, &v);
	expr_set_double(&v, d->n > 0 ? d->min : 0);
	sp_expr_buf_append(&b, "min", 3, &v);
	expr_set_double(&v, d->n > 0 ? d->max : 0);
	sp_expr_buf_append(&b, "max", 3, &v);
	cen_array(ar, d, false, &v);
	sp_expr_buf_append(&b, "w", 1, &v);
	cen_array(ar, d, true, &v);
	sp_expr_buf_append(&b, "m", 1, &v);
	dbl_array(ar, d->buf, d->blen, &v);
	sp_expr_buf_append(&b, "b", 1, &v);
	if (sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, out) < 0)
		expr_set_null(out);
}

/* An array of doubles into *x (malloc'd), *n of them; -1 when not. */
static int
dbl_list(const bson_value_t *v, double **x, size_t *n)
{
	bson_iter_t it;
	size_t cap = 0;

	*x = NULL;
	*n = 0;
	if (v->value_type != BSON_TYPE_ARRAY ||
	    !bson_iter_init_from_data(
		&it, v->value.v_doc.data, v->value.v_doc.data_len))
		return -1;
	while (bson_iter_next(&it)) {
		if (!BSON_ITER_HOLDS_DOUBLE(&it) ||
		    !isfinite(bson_iter_double(&it))) {
			free(*x);
			*x = NULL;
			return -1;
		}
		if (*n == cap) {
			cap = cap < 16 ? 16 : cap * 2;
			*x = sp_xrealloc(*x, sizeof(**x) * cap);
		}
		(*x)[(*n)++] = bson_iter_double(&it);
	}
	return 0;
}

static int
p_merge(const struct accum *a, void *st, const bson_value_t *part,
    struct sp_error *err)
{
	static const char *const names[] = {
	    "neg", "pos", "min", "max", "w", "m", "b"};
	const struct ppriv *pp = a->priv;
	const char *name = pp->median ? "$median" : "$percentile";
	struct digest *d = st, o;
	bson_value_t f[7];
	double *w = NULL, *m = NULL, *buf = NULL;
	size_t nw, nm, nb, i;
	int rc = -1;

	if (partial_fields(name, part, names, f, 7, err) < 0)
		return -1;
	memset(&o, 0, sizeof(o));
	if (f[0].value_type != BSON_TYPE_INT64 ||
	    f[1].value_type != BSON_TYPE_INT64 ||
	    f[2].value_type != BSON_TYPE_DOUBLE ||
	    f[3].value_type != BSON_TYPE_DOUBLE ||
	    dbl_list(&f[4], &w, &nw) < 0 || dbl_list(&f[5], &m, &nm) < 0 ||
	    dbl_list(&f[6], &buf, &nb) < 0 || nw != nm ||
	    f[0].value.v_int64 < 0 || f[1].value.v_int64 < 0)
		goto bad;
	o.neg = f[0].value.v_int64;
	o.pos = f[1].value.v_int64;
	o.min = f[2].value.v_double;
	o.max = f[3].value.v_double;
	o.c = sp_xmalloc(sizeof(*o.c) * (nw + 1));
	for (i = 0; i < nw; i++) {
		/* Weights are counts; means ascending, within min..max. */
		if (w[i] < 1 || w[i] != trunc(w[i]) || w[i] > 9e15 ||
		    (i > 0 && m[i] < m[i - 1]) || m[i] < o.min || m[i] > o.max)
			goto bad;
		o.c[i].w = w[i];
		o.c[i].m = m[i];
		o.n += (int64_t)w[i];
	}
	o.clen = o.ccap = nw;
	if (o.n > 0 && !(o.min <= o.max))
		goto bad;

	if (d->n == 0 && d->blen == 0) {
		/* Into nothing: the other state as it is, so that a shard's
		 * state merged first stays exactly what it was. */
		free(d->c);
		d->c = o.c;
		d->clen = d->ccap = o.clen;
		o.c = NULL;
		d->n = o.n;
		d->min = o.min;
		d->max = o.max;
		d->neg += o.neg;
		d->pos += o.pos;
	} else {
		/* Approximate from here: centroids merge as MongoDB merges
		 * shards' digests. */
		td_merge_digest(d, &o);
	}
	for (i = 0; i < nb; i++)
		td_add(d, buf[i]);
	rc = 0;
	goto out;
bad:
	partial_refused(err, "", name, part);
out:
	free(o.c);
	free(w);
	free(m);
	free(buf);
	return rc;
}

static size_t
p_bytes(const struct accum *a, const void *st)
{
	const struct digest *d = st;

	return d->bcap * sizeof(*d->buf) + d->ccap * sizeof(*d->c);
}

static void
p_release(const struct accum *a, void *st)
{
	struct digest *d = st;

	free(d->buf);
	free(d->c);
	memset(d, 0, sizeof(*d));
}

/* ------------------------------------------------------------- table */

#define N_OPS(nm, comp, ev)                                                    \
	{                                                                      \
		nm, sizeof(struct nstate), comp, ev, n_init, n_add, n_merge,   \
		    n_result, n_partial, n_bytes, n_release, n_free_priv       \
	}
#define P_OPS(nm, comp)                                                        \
	{                                                                      \
		nm, sizeof(struct digest), comp, NULL, NULL, p_add, p_merge,   \
		    p_result, p_partial, p_bytes, p_release, p_free_priv       \
	}

static const struct accum_ops op_bottom =
    N_OPS("$bottom", compile_bottom, tb_eval);
static const struct accum_ops op_bottom_n =
    N_OPS("$bottomN", compile_bottom_n, tb_eval);
static const struct accum_ops op_first_n =
    N_OPS("$firstN", compile_first_n, NULL);
static const struct accum_ops op_last_n = N_OPS("$lastN", compile_last_n, NULL);
static const struct accum_ops op_max_n = N_OPS("$maxN", compile_max_n, NULL);
static const struct accum_ops op_median = P_OPS("$median", compile_median);
static const struct accum_ops op_min_n = N_OPS("$minN", compile_min_n, NULL);
static const struct accum_ops op_percentile =
    P_OPS("$percentile", compile_percentile);
static const struct accum_ops op_top = N_OPS("$top", compile_top, tb_eval);
static const struct accum_ops op_top_n = N_OPS("$topN", compile_top_n, tb_eval);

/* Sorted by name (strcmp). */
static const struct accum_ops *const n_ops[] = {
    &op_bottom,
    &op_bottom_n,
    &op_first_n,
    &op_last_n,
    &op_max_n,
    &op_median,
    &op_min_n,
    &op_percentile,
    &op_top,
    &op_top_n,
};

const struct accum_table sp_accum_n = {n_ops, sizeof(n_ops) / sizeof(n_ops[0])};
