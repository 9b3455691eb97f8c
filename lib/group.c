/* group.c: $group specs and group tables: keys under MongoDB's equality,
 * one state block per group, groups in the order they were first seen. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "group_int.h"

/*
 * A table is an array of groups in first-seen order plus an open-addressing
 * index of their positions, keyed by a hash of each _id in a normal form
 * that agrees with sp_value_compare: values that compare equal hash alike
 * (1, 1L, 1.0 and 1m; "a" and Symbol("a"); {a: 1} and {a: 1.0}), and
 * sp_value_compare settles collisions. Each group's key bytes and state
 * block are carved out of slabs that the table owns, so a group costs its
 * key, its block and one array entry, and nothing else: memory grows with
 * the number of groups, never with the number of documents.
 */

/* ------------------------------------------------------------ compiling */

/*
 * The _id as the server parses it (parseIdExpression): an object whose
 * first field is an operator is that operator; any other object is an
 * object of expressions, which may not use inclusion syntax ({a: 1}); the
 * rest is an operand ("$path", "$$var" or a constant).
 */
static int
compile_id(struct sp_expr **out, const bson_value_t *v, struct sp_error *err)
{
	bson_iter_t it;

	if (v->value_type == BSON_TYPE_DOCUMENT &&
	    bson_iter_init_from_data(
		&it, v->value.v_doc.data, v->value.v_doc.data_len) &&
	    bson_iter_next(&it) && bson_iter_key(&it)[0] != '$') {
		do {
			if (BSON_ITER_HOLDS_NUMBER(&it) ||
			    BSON_ITER_HOLDS_BOOL(&it))
				return sp_error_set(err,
				    "$group does not support inclusion-style "
				    "expressions");
		} while (bson_iter_next(&it));
	}
	return sp_expr_compile(out, v, err);
}

/* The checks of AccumulationStatement::parseAccumulationStatement that
 * come before the accumulator's own, in the server's order. */
static int
check_field(const char *name, const bson_value_t *v, struct sp_error *err)
{
	bson_iter_t it;

	if (v->value_type != BSON_TYPE_DOCUMENT ||
	    !bson_iter_init_from_data(
		&it, v->value.v_doc.data, v->value.v_doc.data_len) ||
	    !bson_iter_next(&it) || bson_iter_key(&it)[0] != '$')
		return sp_error_set(
		    err, "The field '%s' must be an accumulator object", name);
	if (strchr(name, '.') != NULL)
		return sp_error_set(
		    err, "The field name '%s' cannot contain '.'", name);
	if (name[0] == '$')
		return sp_error_set(err,
		    "The field name '%s' cannot be an operator name", name);
	return 0;
}

#define ALIGN16(n) (((n) + 15) & ~(size_t)15)

/* The field of a partial state that names the spec it was made by. A
 * group's own fields cannot start with '$', so it never collides. */
#define PARTIAL_OF "$partialOf"

int
group_spec_compile(
    struct group_spec **out, const bson_value_t *spec, struct sp_error *err)
{
	struct group_spec *g;
	bson_iter_t it;
	bool has_id = false;
	int i;

	*out = NULL;
	if (spec->value_type != BSON_TYPE_DOCUMENT ||
	    !bson_iter_init_from_data(
		&it, spec->value.v_doc.data, spec->value.v_doc.data_len))
		return sp_error_set(
		    err, "a group's fields must be specified in an object");
	g = sp_xcalloc(1, sizeof(*g));
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		const bson_value_t *v = bson_iter_value(&it);
		struct accum *a;

		if (strcmp(k, "_id") == 0) {
			if (has_id) {
				sp_error_set(err,
				    "a group's _id may only be specified once");
				goto fail;
			}
			if (compile_id(&g->id, v, err) < 0)
				goto fail;
			has_id = true;
			continue;
		}
		if (check_field(k, v, err) < 0)
			goto fail;
		/* The server would write the field twice; one name is one
		 * output field here, as JSON readers expect. */
		for (i = 0; i < g->n; i++)
			if (strcmp(g->acc[i].field, k) == 0) {
				sp_error_set(err,
				    "a group's field '%s' may only be "
				    "specified once",
				    k);
				goto fail;
			}
		g->acc = sp_xrealloc(g->acc, sizeof(*g->acc) * (g->n + 1));
		a = &g->acc[g->n];
		memset(a, 0, sizeof(*a));
		if (accum_compile(a, k, v, err) < 0)
			goto fail;
		a->off = ALIGN16(g->size);
		g->size = a->off + a->ops->size;
		g->n++;
	}
	if (!has_id) {
		sp_error_set(err, "a group specification must include an _id");
		goto fail;
	}
	{
		const uint8_t *p = spec->value.v_doc.data;
		uint64_t h = 0xcbf29ce484222325ULL;
		uint32_t n;

		for (n = 0; n < spec->value.v_doc.data_len; n++)
			h = (h ^ p[n]) * 0x100000001b3ULL;
		snprintf(g->fingerprint, sizeof(g->fingerprint), "%016llx",
		    (unsigned long long)h);
	}
	*out = g;
	return 0;
fail:
	group_spec_free(g);
	return -1;
}

void
group_spec_free(struct group_spec *g)
{
	int i;

	if (g == NULL)
		return;
	for (i = 0; i < g->n; i++)
		accum_release(&g->acc[i]);
	free(g->acc);
	sp_expr_free(g->id);
	free(g);
}

/* --------------------------------------------------------------- hashing */

#define H_MUL 0x9e3779b97f4a7c15ULL

static inline uint64_t
mix(uint64_t h, uint64_t x)
{
	h = (h ^ x) * H_MUL;
	return h ^ (h >> 29);
}

static uint64_t
mix_bytes(uint64_t h, const void *p, size_t n)
{
	const uint8_t *s = p;
	uint64_t w;

	h = mix(h, n);
	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = mix(h, w);
	}
	if (n > 0) {
		w = 0;
		memcpy(&w, s, n);
		h = mix(h, w);
	}
	return h;
}

/* Tags of the normal forms; a type's canonical rank for the rest. */
enum { H_INT = 1000, H_DOUBLE, H_NAN };

/*
 * A number in its normal form: an integer within int64's range as that
 * int64 (so -0 is 0), NaN as one class, anything else as its correctly
 * rounded double, which equal values share.
 */
static uint64_t
hash_number(uint64_t h, const bson_value_t *v)
{
	struct sp_decimal d;
	double x;
	int64_t i;

	switch (v->value_type) {
	case BSON_TYPE_INT32:
		return mix(mix(h, H_INT), (uint64_t)v->value.v_int32);
	case BSON_TYPE_INT64:
		return mix(mix(h, H_INT), (uint64_t)v->value.v_int64);
	case BSON_TYPE_DECIMAL128:
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		if (d.kind == SP_DECIMAL_NAN)
			return mix(h, H_NAN);
		if (sp_decimal_to_int64(&d, SP_DECIMAL_EXACT, &i) == 0)
			return mix(mix(h, H_INT), (uint64_t)i);
		x = sp_decimal_to_double(&d);
		break;
	default: x = v->value.v_double; break;
	}
	if (isnan(x))
		return mix(h, H_NAN);
	/* 2^63 itself is beyond int64: the bound is exclusive. */
	if (x >= -9223372036854775808.0 && x < 9223372036854775808.0 &&
	    x == trunc(x))
		return mix(mix(h, H_INT), (uint64_t)(int64_t)x);
	{
		uint64_t bits;

		memcpy(&bits, &x, 8);
		return mix(mix(h, H_DOUBLE), bits);
	}
}

/* Nesting below this is hashed by type only: still consistent with
 * equality, and a deep key cannot exhaust the stack. */
#define HASH_DEPTH 32

static uint64_t
hash_value(uint64_t h, const bson_value_t *v, int depth)
{
	const char *s;
	bson_iter_t it;
	bool doc;

	h = mix(h, (uint64_t)(sp_canonical_type(v->value_type) + 2));
	switch (v->value_type) {
	case BSON_TYPE_DOUBLE:
	case BSON_TYPE_INT32:
	case BSON_TYPE_INT64:
	case BSON_TYPE_DECIMAL128: return hash_number(h, v);
	case BSON_TYPE_UTF8:
		return mix_bytes(h, v->value.v_utf8.str, v->value.v_utf8.len);
	case BSON_TYPE_SYMBOL:
		return mix_bytes(
		    h, v->value.v_symbol.symbol, v->value.v_symbol.len);
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
		if (depth >= HASH_DEPTH ||
		    !bson_iter_init_from_data(
			&it, v->value.v_doc.data, v->value.v_doc.data_len))
			return h;
		/* Arrays compare element by element, ignoring the keys. */
		doc = v->value_type == BSON_TYPE_DOCUMENT;
		while (bson_iter_next(&it)) {
			if (doc)
				h = mix_bytes(h, bson_iter_key(&it),
				    bson_iter_key_len(&it));
			h = hash_value(h, bson_iter_value(&it), depth + 1);
		}
		return h;
	case BSON_TYPE_BINARY:
		h = mix(h, (uint64_t)(uint8_t)v->value.v_binary.subtype);
		return mix_bytes(
		    h, v->value.v_binary.data, v->value.v_binary.data_len);
	case BSON_TYPE_OID: return mix_bytes(h, v->value.v_oid.bytes, 12);
	case BSON_TYPE_BOOL: return mix(h, v->value.v_bool ? 1 : 0);
	case BSON_TYPE_DATE_TIME: return mix(h, (uint64_t)v->value.v_datetime);
	case BSON_TYPE_TIMESTAMP:
		return mix(h,
		    (uint64_t)v->value.v_timestamp.timestamp << 32 |
			v->value.v_timestamp.increment);
	case BSON_TYPE_REGEX:
		s = v->value.v_regex.regex ? v->value.v_regex.regex : "";
		h = mix_bytes(h, s, strlen(s));
		s = v->value.v_regex.options ? v->value.v_regex.options : "";
		return mix_bytes(h, s, strlen(s));
	case BSON_TYPE_DBPOINTER:
		h = mix_bytes(h, v->value.v_dbpointer.collection,
		    v->value.v_dbpointer.collection_len);
		return mix_bytes(h, v->value.v_dbpointer.oid.bytes, 12);
	case BSON_TYPE_CODE:
		return mix_bytes(
		    h, v->value.v_code.code, v->value.v_code.code_len);
	case BSON_TYPE_CODEWSCOPE:
		/* The scope is left to sp_value_compare. */
		return mix_bytes(h, v->value.v_codewscope.code,
		    v->value.v_codewscope.code_len);
	default:
		/* null, undefined, MinKey, MaxKey: the rank says it all. */
		return h;
	}
}

static uint64_t
hash_key(const bson_value_t *v)
{
	uint64_t h = hash_value(0x2545f4914f6cdd1dULL, v, 0);

	/* Finish so that the low bits, which pick the slot, depend on all. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

/* ----------------------------------------------------------------- slabs */

/* Keys and state blocks: bump-allocated, freed all at once. */
struct slab {
	struct slab *next;
	size_t used, cap;
	_Alignas(16) uint8_t data[];
};

#define SLAB_MIN 1024
#define SLAB_MAX ((size_t)256 << 10)

/* ------------------------------------------------------------- the table */

struct grp {
	uint64_t hash;
	bson_value_t key; /* out-of-line bytes in the table's slabs */
	uint8_t *st; /* the state block, spec->size bytes */
};

struct group_table {
	const struct group_spec *g;
	struct grp *grp;
	size_t n, cap;
	uint32_t *slot; /* group index + 1; 0: empty */
	size_t nslots; /* a power of two, or 0 */
	struct slab *slab; /* the current one; older ones follow */
	size_t slab_used; /* bytes carved out of every slab */
	size_t slab_size; /* the next slab's size */
	size_t heap; /* what the accumulators hold on the heap */
	bson_value_t *vals; /* one document's inputs, g->n */
	uint8_t *tmp; /* a scratch state block for merges */
};

static void *
slab_alloc(struct group_table *t, size_t n)
{
	struct slab *s = t->slab;
	void *p;

	n = ALIGN16(n);
	if (s == NULL || s->cap - s->used < n) {
		size_t cap = t->slab_size;

		while (cap < n)
			cap *= 2;
		s = sp_xmalloc(sizeof(*s) + cap);
		s->next = t->slab;
		s->used = 0;
		s->cap = cap;
		t->slab = s;
		if (t->slab_size < SLAB_MAX)
			t->slab_size *= 2;
	}
	p = s->data + s->used;
	s->used += n;
	t->slab_used += n;
	return p;
}

static uint8_t *
put(uint8_t **p, const void *src, size_t n, bool nul)
{
	uint8_t *at = *p;

	if (n > 0)
		memcpy(at, src, n);
	*p += n;
	if (nul)
		*(*p)++ = '\0';
	return at;
}

/* A copy of v in dst whose out-of-line bytes go to p (value_heap_bytes
 * of them). */
static void
key_copy(bson_value_t *dst, const bson_value_t *v, uint8_t *p)
{
	*dst = *v;
	switch (v->value_type) {
	case BSON_TYPE_UTF8:
		dst->value.v_utf8.str = (char *)put(
		    &p, v->value.v_utf8.str, v->value.v_utf8.len, true);
		break;
	case BSON_TYPE_SYMBOL:
		dst->value.v_symbol.symbol = (char *)put(
		    &p, v->value.v_symbol.symbol, v->value.v_symbol.len, true);
		break;
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
		dst->value.v_doc.data = put(
		    &p, v->value.v_doc.data, v->value.v_doc.data_len, false);
		break;
	case BSON_TYPE_BINARY:
		dst->value.v_binary.data = put(&p, v->value.v_binary.data,
		    v->value.v_binary.data_len, false);
		break;
	case BSON_TYPE_REGEX:
		dst->value.v_regex.regex =
		    (char *)put(&p, v->value.v_regex.regex,
			strlen(v->value.v_regex.regex), true);
		dst->value.v_regex.options =
		    (char *)put(&p, v->value.v_regex.options,
			strlen(v->value.v_regex.options), true);
		break;
	case BSON_TYPE_DBPOINTER:
		dst->value.v_dbpointer.collection =
		    (char *)put(&p, v->value.v_dbpointer.collection,
			v->value.v_dbpointer.collection_len, true);
		break;
	case BSON_TYPE_CODE:
		dst->value.v_code.code = (char *)put(
		    &p, v->value.v_code.code, v->value.v_code.code_len, true);
		break;
	case BSON_TYPE_CODEWSCOPE:
		dst->value.v_codewscope.code =
		    (char *)put(&p, v->value.v_codewscope.code,
			v->value.v_codewscope.code_len, true);
		dst->value.v_codewscope.scope_data =
		    put(&p, v->value.v_codewscope.scope_data,
			v->value.v_codewscope.scope_len, false);
		break;
	default: break;
	}
}

struct group_table *
group_table_new(const struct group_spec *g)
{
	struct group_table *t = sp_xcalloc(1, sizeof(*t));

	t->g = g;
	t->slab_size = SLAB_MIN;
	t->vals = sp_xcalloc(g->n > 0 ? (size_t)g->n : 1, sizeof(*t->vals));
	t->tmp = sp_xmalloc(g->size > 0 ? g->size : 1);
	return t;
}

void
group_block_release(const struct group_spec *g, uint8_t *st, int upto)
{
	int j;

	for (j = 0; j < upto; j++)
		if (g->acc[j].ops->release != NULL)
			g->acc[j].ops->release(&g->acc[j], st + g->acc[j].off);
}

void
group_table_clear(struct group_table *t)
{
	struct slab *s, *next;
	size_t i;

	for (i = 0; i < t->n; i++)
		group_block_release(t->g, t->grp[i].st, t->g->n);
	for (s = t->slab; s != NULL; s = next) {
		next = s->next;
		free(s);
	}
	t->slab = NULL;
	t->slab_used = 0;
	t->slab_size = SLAB_MIN;
	t->heap = 0;
	/* A closed window gives its memory back. */
	free(t->grp);
	t->grp = NULL;
	t->n = t->cap = 0;
	free(t->slot);
	t->slot = NULL;
	t->nslots = 0;
}

void
group_table_free(struct group_table *t)
{
	if (t == NULL)
		return;
	group_table_clear(t);
	free(t->vals);
	free(t->tmp);
	free(t);
}

size_t
group_table_count(const struct group_table *t)
{
	return t->n;
}

size_t
group_table_bytes(const struct group_table *t)
{
	return t->slab_used + t->heap + t->cap * sizeof(*t->grp) +
	    t->nslots * sizeof(*t->slot);
}

const bson_value_t *
group_table_key(const struct group_table *t, size_t i)
{
	return &t->grp[i].key;
}

/* The group with key k (hash h), or NULL; *at gets the slot it is in or
 * would go to. */
static struct grp *
lookup(
    const struct group_table *t, const bson_value_t *k, uint64_t h, size_t *at)
{
	size_t mask = t->nslots - 1, i = (size_t)h & mask;
	uint32_t e;

	while ((e = t->slot[i]) != 0) {
		struct grp *gr = &t->grp[e - 1];

		if (gr->hash == h && sp_value_compare(&gr->key, k) == 0) {
			*at = i;
			return gr;
		}
		i = (i + 1) & mask;
	}
	*at = i;
	return NULL;
}

static void
grow_index(struct group_table *t)
{
	size_t n = t->nslots ? t->nslots * 2 : 16, i, mask = n - 1, j;

	free(t->slot);
	t->slot = sp_xcalloc(n, sizeof(*t->slot));
	t->nslots = n;
	for (i = 0; i < t->n; i++) {
		for (j = (size_t)t->grp[i].hash & mask; t->slot[j] != 0;
		     j = (j + 1) & mask)
			;
		t->slot[j] = (uint32_t)(i + 1);
	}
}

static void
add_heap(struct group_table *t, const struct accum *a, const uint8_t *st,
    size_t before)
{
	if (a->ops->bytes != NULL)
		t->heap += a->ops->bytes(a, st + a->off) - before;
}

static size_t
heap_of(const struct accum *a, const uint8_t *st)
{
	return a->ops->bytes != NULL ? a->ops->bytes(a, st + a->off) : 0;
}

int
group_block_init(const struct group_spec *g, uint8_t *st,
    const bson_value_t *key, struct sp_error *err)
{
	int j;

	for (j = 0; j < g->n; j++) {
		const struct accum *a = &g->acc[j];

		if (a->ops->init != NULL &&
		    a->ops->init(a, st + a->off, key, err) < 0) {
			group_block_release(g, st, j);
			return -1;
		}
	}
	return 0;
}

int
group_block_inputs(const struct group_spec *g, const uint8_t *doc, uint32_t len,
    struct sp_arena *ar, bson_value_t *vals, struct sp_error *err)
{
	int j, rc;

	for (j = 0; j < g->n; j++) {
		const struct accum *a = &g->acc[j];

		if (a->ops->eval != NULL)
			rc = a->ops->eval(a, doc, len, ar, &vals[j], err);
		else if (a->expr != NULL)
			rc = sp_expr_eval(a->expr, doc, len, ar, &vals[j], err);
		else {
			expr_set_missing(&vals[j]);
			rc = 0;
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

int
group_block_result(const struct group_spec *g, const uint8_t *st,
    const bson_value_t *id, bool partial, struct sp_arena *ar,
    bson_value_t *out)
{
	struct expr_buf b;
	bson_value_t v;
	int j;

	sp_expr_buf_init(&b, ar);
	sp_expr_buf_append(&b, "_id", 3, id);
	if (partial) {
		expr_set_cstr(&v, g->fingerprint);
		sp_expr_buf_append(&b, PARTIAL_OF, strlen(PARTIAL_OF), &v);
	}
	for (j = 0; j < g->n; j++) {
		const struct accum *a = &g->acc[j];

		if (partial && a->ops->partial != NULL)
			a->ops->partial(a, st + a->off, ar, &v);
		else
			a->ops->result(a, st + a->off, ar, &v);
		/* A missing result is null in the output, "so return
		 * objects are predictable" (GroupProcessor::makeDocument);
		 * in a partial it leaves the field out, which merge reads as
		 * a missing state. */
		if (!partial && v.value_type == BSON_TYPE_EOD)
			expr_set_null(&v);
		if (v.value_type != BSON_TYPE_EOD)
			sp_expr_buf_append(&b, a->field, strlen(a->field), &v);
	}
	return sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, out);
}

/*
 * The group for key k: found, or made (the key copied, the state block
 * initialized). -1 with err when an accumulator cannot start a group for
 * this key; then the table is as it was.
 */
static int
find_or_make(struct group_table *t, const bson_value_t *k, struct grp **out,
    struct sp_error *err)
{
	const struct group_spec *g = t->g;
	uint64_t h = hash_key(k);
	size_t at, extra, mark_used, mark_total;
	struct slab *mark;
	struct grp *gr;
	uint8_t *chunk;
	int j;

	if (t->nslots > 0 && (gr = lookup(t, k, h, &at)) != NULL) {
		*out = gr;
		return 0;
	}
	if (t->n >= UINT32_MAX - 1)
		return sp_error_set(err, "too many groups");
	mark = t->slab;
	mark_used = mark != NULL ? mark->used : 0;
	mark_total = t->slab_used;
	extra = ALIGN16(value_heap_bytes(k));
	chunk = slab_alloc(t, g->size + extra);
	memset(chunk, 0, g->size);
	if (group_block_init(g, chunk, k, err) < 0) {
		/* Give the chunk back: to its old slab, or leave the new
		 * one empty for the next group. */
		t->slab->used = t->slab == mark ? mark_used : 0;
		t->slab_used = mark_total;
		return -1;
	}
	if ((t->n + 1) * 4 > t->nslots * 3) {
		grow_index(t);
	}
	lookup(t, k, h, &at);
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->grp = sp_xrealloc(t->grp, t->cap * sizeof(*t->grp));
	}
	gr = &t->grp[t->n];
	gr->hash = h;
	gr->st = chunk;
	key_copy(&gr->key, k, chunk + g->size);
	t->slot[at] = (uint32_t)(t->n + 1);
	t->n++;
	for (j = 0; j < g->n; j++)
		add_heap(t, &g->acc[j], gr->st, 0);
	*out = gr;
	return 0;
}

/* Folds vals (one document's inputs, or with merge partial states that
 * were checked) into the group of key, counting what its heap grows by. */
static int
fold_in(struct group_table *t, const bson_value_t *key,
    const bson_value_t *vals, bool merge, struct sp_error *err)
{
	const struct group_spec *g = t->g;
	struct grp *gr = NULL;
	int j;

	if (find_or_make(t, key, &gr, err) < 0)
		return -1;
	for (j = 0; j < g->n; j++) {
		const struct accum *a = &g->acc[j];
		size_t before = heap_of(a, gr->st);

		if (merge)
			(void)a->ops->merge(a, gr->st + a->off, &vals[j], err);
		else
			a->ops->add(a, gr->st + a->off, &vals[j]);
		add_heap(t, a, gr->st, before);
	}
	return 0;
}

int
group_table_add(struct group_table *t, const uint8_t *doc, uint32_t len,
    struct sp_arena *ar, struct sp_error *err)
{
	const struct group_spec *g = t->g;
	bson_value_t key;

	/* Everything the document gives is worked out before any group is
	 * touched, so that a failure leaves the table as it was. */
	if (sp_expr_eval(g->id, doc, len, ar, &key, err) < 0)
		return -1;
	/* SERVER-4674: a missing _id groups with null. */
	if (key.value_type == BSON_TYPE_EOD)
		expr_set_null(&key);
	if (group_block_inputs(g, doc, len, ar, t->vals, err) < 0)
		return -1;
	return fold_in(t, &key, t->vals, false, err);
}

#define NOT_PARTIAL "not a partial state of this $group: "

int
group_table_merge(struct group_table *t, const uint8_t *doc, uint32_t len,
    struct sp_arena *ar, struct sp_error *err)
{
	const struct group_spec *g = t->g;
	bson_value_t key, *part = t->vals;
	bool of = false;
	bson_iter_t it;
	int j;

	expr_set_missing(&key);
	for (j = 0; j < g->n; j++)
		expr_set_missing(&part[j]);
	if (!bson_iter_init_from_data(&it, doc, len))
		return sp_error_set(err, NOT_PARTIAL "invalid BSON");
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		bson_value_t *slot = NULL;

		if (strcmp(k, PARTIAL_OF) == 0) {
			const bson_value_t *f = bson_iter_value(&it);

			if (f->value_type != BSON_TYPE_UTF8 ||
			    strcmp(f->value.v_utf8.str, g->fingerprint) != 0)
				return sp_error_set(err,
				    NOT_PARTIAL "it was made by another group "
						"(" PARTIAL_OF
						" is not \"%s\")",
				    g->fingerprint);
			of = true;
			continue;
		}
		if (strcmp(k, "_id") == 0)
			slot = &key;
		else
			for (j = 0; j < g->n; j++)
				if (strcmp(g->acc[j].field, k) == 0)
					slot = &part[j];
		if (slot == NULL)
			return sp_error_set(
			    err, NOT_PARTIAL "unknown field '%s'", k);
		if (slot->value_type != BSON_TYPE_EOD)
			return sp_error_set(
			    err, NOT_PARTIAL "field '%s' given twice", k);
		*slot = *bson_iter_value(&it);
	}
	if (key.value_type == BSON_TYPE_EOD)
		return sp_error_set(err, NOT_PARTIAL "no _id");
	if (!of)
		return sp_error_set(err, NOT_PARTIAL "no " PARTIAL_OF);

	/* Each state is first folded into a scratch block: a partial that
	 * an accumulator refuses leaves every group as it was. */
	for (j = 0; j < g->n; j++) {
		const struct accum *a = &g->acc[j];
		uint8_t *st = t->tmp + a->off;
		int rc = 0;

		memset(st, 0, a->ops->size);
		if (a->ops->init != NULL && a->ops->init(a, st, &key, err) < 0)
			return -1;
		rc = a->ops->merge(a, st, &part[j], err);
		if (a->ops->release != NULL)
			a->ops->release(a, st);
		if (rc < 0)
			return -1;
	}
	return fold_in(t, &key, part, true, err);
}

void
group_table_result(const struct group_table *t, size_t i, bool partial,
    struct sp_arena *ar, bson_value_t *out)
{
	const struct grp *gr = &t->grp[i];

	if (group_block_result(t->g, gr->st, &gr->key, partial, ar, out) < 0)
		expr_set_null(out);
}

void
group_table_value(const struct group_table *t, size_t i, int j,
    struct sp_arena *ar, bson_value_t *out)
{
	const struct accum *a = &t->g->acc[j];

	a->ops->result(a, t->grp[i].st + a->off, ar, out);
}

/* ------------------------------------------------ sp.h: for sp-group */

struct sp_group {
	struct group_spec *spec;
	struct group_table *t;
};

int
sp_group_compile(struct sp_group **out, const uint8_t *spec, uint32_t len,
    struct sp_error *err)
{
	struct group_spec *g;
	bson_value_t v;

	*out = NULL;
	doc_value(&v, spec, len);
	if (group_spec_compile(&g, &v, err) < 0)
		return -1;
	*out = sp_xcalloc(1, sizeof(**out));
	(*out)->spec = g;
	(*out)->t = group_table_new(g);
	return 0;
}

void
sp_group_free(struct sp_group *g)
{
	if (g == NULL)
		return;
	group_table_free(g->t);
	group_spec_free(g->spec);
	free(g);
}

int
sp_group_add(struct sp_group *g, const uint8_t *doc, uint32_t len,
    struct sp_arena *ar, struct sp_error *err)
{
	return group_table_add(g->t, doc, len, ar, err);
}

int
sp_group_merge(struct sp_group *g, const uint8_t *doc, uint32_t len,
    struct sp_arena *ar, struct sp_error *err)
{
	return group_table_merge(g->t, doc, len, ar, err);
}

size_t
sp_group_count(const struct sp_group *g)
{
	return group_table_count(g->t);
}

size_t
sp_group_bytes(const struct sp_group *g)
{
	return group_table_bytes(g->t);
}

int
sp_group_result(const struct sp_group *g, size_t i, bool partial,
    struct sp_arena *ar, const uint8_t **doc, uint32_t *len)
{
	bson_value_t v;

	group_table_result(g->t, i, partial, ar, &v);
	if (v.value_type != BSON_TYPE_DOCUMENT)
		return -1;
	*doc = v.value.v_doc.data;
	*len = v.value.v_doc.data_len;
	return 0;
}
