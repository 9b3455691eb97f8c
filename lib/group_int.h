/* group_int.h: accumulators, sort keys and group tables: what $group, the
 * blocking stages, sp-group and (later) the window stages share in lib/. */
#ifndef SP_GROUP_INT_H
#define SP_GROUP_INT_H

#include "stage_int.h"

/*
 * A $group is compiled once into a group_spec: the _id expression and one
 * accumulator per output field. A group_table holds the state of every
 * group seen so far for one spec, in the order the groups were first seen;
 * $group outside a window has one table for the whole input, a window has
 * one per open window, and sp-group has one for its run.
 *
 * State is incremental: an accumulator keeps a fixed-size block per group
 * (inline in the group) plus what it must keep on the heap ($push's array,
 * $min's value, $topN's n entries), and never the input documents. What a
 * group holds is measurable (group_table_bytes), for stateSize.
 *
 * Every accumulator can also write its state as a value (its "partial")
 * and fold such a value back in (merge), so that runs over shards of the
 * input combine into exactly the answer of one run: sp-group --partial and
 * --merge. A partial is our own format, written and read as canonical
 * Extended JSON so that no type is lost on the way.
 */

/* ------------------------------------------------- accumulators (accum.c) */

struct accum;

struct accum_ops {
	const char *name; /* "$sum" */
	size_t size; /* bytes of fixed state per group (inline) */
	/*
	 * Compiles arg, the value of {"$sum": arg}: sets a->expr and
	 * a->priv. -1 with err in MongoDB's words.
	 */
	int (*compile)(
	    struct accum *a, const bson_value_t *arg, struct sp_error *err);
	/*
	 * What one document contributes, in ar: evaluated before any state
	 * changes, so that a document that fails (-1 with err) leaves every
	 * group as it was. NULL: a->expr evaluated over the document.
	 */
	int (*eval)(const struct accum *a, const uint8_t *doc, uint32_t len,
	    struct sp_arena *ar, bson_value_t *out, struct sp_error *err);
	/*
	 * A new group's state in st (size bytes, zeroed before). key is the
	 * group's _id, for arguments that may depend on it (n of $topN...).
	 * -1 with err when such an argument is bad; the group is not made.
	 */
	int (*init)(const struct accum *a, void *st, const bson_value_t *key,
	    struct sp_error *err);
	/* Folds in one value from eval. Never fails. */
	void (*add)(const struct accum *a, void *st, const bson_value_t *v);
	/* Folds in a partial state (from partial, maybe another process).
	 * -1 with err when it is not one. */
	int (*merge)(const struct accum *a, void *st, const bson_value_t *part,
	    struct sp_error *err);
	/* The final value, in ar or borrowed from st until st changes. */
	void (*result)(const struct accum *a, const void *st,
	    struct sp_arena *ar, bson_value_t *out);
	/* The state as a value that merge takes, in ar. */
	void (*partial)(const struct accum *a, const void *st,
	    struct sp_arena *ar, bson_value_t *out);
	/* Heap bytes st holds beyond size; NULL: none. */
	size_t (*bytes)(const struct accum *a, const void *st);
	/* Frees what st holds; NULL: nothing. */
	void (*release)(const struct accum *a, void *st);
	/* Frees a->priv; NULL: nothing to free. */
	void (*free_priv)(struct accum *a);
};

/* One compiled accumulator: one output field of a $group. */
struct accum {
	const struct accum_ops *ops;
	char *field; /* the output field name */
	struct sp_expr *expr; /* the argument expression, or NULL */
	void *priv; /* what compile keeps besides (n, sortBy...) */
	size_t off; /* where its state starts in a group's block */
};

/* A family of accumulators, sorted by name. */
struct accum_table {
	const struct accum_ops *const *ops;
	size_t n;
};
extern const struct accum_table sp_accum_basic; /* accum.c */
extern const struct accum_table sp_accum_n; /* accum_n.c: $topN... */

/* The accumulator called name ("$sum"), or NULL. */
const struct accum_ops *accum_find(const char *name);

/*
 * Compiles {"$acc": arg} (the value of one $group field) into a, with
 * MongoDB's messages: "The field 'f' must be an accumulator object",
 * "The field 'f' must specify one accumulator", "Unknown group operator
 * '$x'". field is copied. a->off is left to the caller.
 */
int accum_compile(struct accum *a, const char *field, const bson_value_t *spec,
    struct sp_error *err);
void accum_release(struct accum *a);

/*
 * Compiles spec (an accumulator's or a stage's argument) and tells whether
 * it folds to a constant, as MongoDB's optimize() does: 1 with *out a deep
 * copy (bson_value_destroy; missing for $$REMOVE), 0 when it does not, -1
 * with err when it does not compile. accum_n.c
 */
int spec_const_value(
    const bson_value_t *spec, bson_value_t *out, struct sp_error *err);

/* -1 with err "<prefix>not a partial state of <name>: <v>" (v cut at 200
 * bytes): what merge says of a value it cannot take. */
int partial_refused(struct sp_error *err, const char *prefix, const char *name,
    const bson_value_t *v);

/* ------------------------------------------------ values kept in state */

/* A deep copy of v into dst (malloc'd when v has out-of-line bytes). */
void value_keep(bson_value_t *dst, const bson_value_t *v);
/* Frees what value_keep allocated. */
void value_drop(bson_value_t *v);
/* Heap bytes a kept value holds. */
size_t value_heap_bytes(const bson_value_t *v);

/* ------------------------------------------------ sort keys (sortkey.c) */

/*
 * A sort pattern: {"a.b": 1, "c": -1}, as $sort, $topN's sortBy and
 * $bucketAuto use it.
 */
struct sort_pattern {
	int n;
	struct spath *path; /* n field paths */
	int *dir; /* n directions: 1 or -1 */
};

/* Parses a $sort specification with the $sort stage's messages. */
int sort_pattern_parse(
    struct sort_pattern *p, const bson_value_t *spec, struct sp_error *err);
void sort_pattern_release(struct sort_pattern *p);

/*
 * The sort key of doc: keys[i] for path i, as MongoDB's $sort picks it
 * through arrays (ascending: the smallest value reached, descending: the
 * largest; an empty array sorts below null; missing sorts as null).
 * Values are borrowed from doc or static storage.
 */
void sort_key_get(const struct sort_pattern *p, const uint8_t *doc,
    uint32_t len, bson_value_t *keys);
/*
 * sort_key_get that says when MongoDB would refuse the document: -1 with
 * err ("cannot sort with keys that are parallel arrays", or the ambiguous
 * numeric field name of BtreeKeyGenerator), and keys all null.
 */
int sort_key_make(const struct sort_pattern *p, const uint8_t *doc,
    uint32_t len, bson_value_t *keys, struct sp_error *err);
/* Compares two keys from sort_key_get: <0, 0, >0 in the pattern's order. */
int sort_key_compare(
    const struct sort_pattern *p, const bson_value_t *a, const bson_value_t *b);

/* ------------------------------------------------ groups (group.c) */

struct group_spec {
	struct sp_expr *id; /* the _id expression */
	int n;
	struct accum *acc; /* n accumulators, in the spec's order */
	size_t size; /* a group's state block: every accumulator's */
	/* The spec's fingerprint (FNV-1a of its BSON, in hex): a partial
	 * state carries it as "$partialOf", and merge takes only its own. */
	char fingerprint[17];
};

/*
 * Compiles the body of a $group stage ({_id: <expr>, <field>: {<acc>:
 * <expr>}, ...}) with MongoDB's messages ("a group specification must
 * include an _id", ...).
 */
int group_spec_compile(
    struct group_spec **out, const bson_value_t *spec, struct sp_error *err);
void group_spec_free(struct group_spec *g);

/*
 * A group's state block: g->size bytes, one accumulator's state at each
 * a->off, driven through the accumulators' ops (as the group table and
 * the $bucket stages keep their blocks).
 */
/* Initializes a zeroed block for key; -1 with err when an accumulator
 * refuses the key, and then nothing is left to free. */
int group_block_init(const struct group_spec *g, uint8_t *st,
    const bson_value_t *key, struct sp_error *err);
/* Frees what accumulators 0 to upto-1 hold in st. */
void group_block_release(const struct group_spec *g, uint8_t *st, int upto);
/* What each accumulator takes from doc (its eval, else its expression)
 * into vals[0..g->n-1], in ar; -1 with err when one fails. */
int group_block_inputs(const struct group_spec *g, const uint8_t *doc,
    uint32_t len, struct sp_arena *ar, bson_value_t *vals,
    struct sp_error *err);
/* {_id: id, <field>: <result or, with partial, partial state>, ...} in
 * ar; -1 when it grew past BSON's limit. */
int group_block_result(const struct group_spec *g, const uint8_t *st,
    const bson_value_t *id, bool partial, struct sp_arena *ar,
    bson_value_t *out);

struct group_table;

struct group_table *group_table_new(const struct group_spec *g);
void group_table_free(struct group_table *t);
/* Drops every group (a window closed). */
void group_table_clear(struct group_table *t);

/*
 * Adds one document: evaluates _id and every accumulator's input, finds
 * or makes the group (keys equal under MongoDB's $group equality: 1, 1L,
 * 1.0 and 1m are one group, the first seen is kept), and folds the values
 * in. -1 with err when an expression fails; then no group changed.
 */
int group_table_add(struct group_table *t, const uint8_t *doc, uint32_t len,
    struct sp_arena *ar, struct sp_error *err);

/* Folds in one partial-state document (group_table_result with partial
 * set, maybe from another process). -1 with err when it is not one. */
int group_table_merge(struct group_table *t, const uint8_t *doc, uint32_t len,
    struct sp_arena *ar, struct sp_error *err);

size_t group_table_count(const struct group_table *t);
/* Bytes the table holds: keys, state blocks, the accumulators' heap. */
size_t group_table_bytes(const struct group_table *t);

/* Group i (0 is the first seen): its key. */
const bson_value_t *group_table_key(const struct group_table *t, size_t i);
/*
 * Group i as an output document {_id: key, <field>: <result>, ...} or,
 * with partial, as a partial-state document {_id: key, <field>:
 * <partial>, ...}; built in ar.
 */
void group_table_result(const struct group_table *t, size_t i, bool partial,
    struct sp_arena *ar, bson_value_t *out);
/* Group i's accumulator j's final value. */
void group_table_value(const struct group_table *t, size_t i, int j,
    struct sp_arena *ar, bson_value_t *out);

/* ------------------------------------------------ the blocking stages */

int stage_group_new(struct stage **, const char *, const bson_value_t *,
    struct sp_error *); /* stage_group.c: $group */
int stage_count_new(struct stage **, const char *, const bson_value_t *,
    struct sp_error *); /* stage_group.c: $count */
int stage_sort_by_count_new(struct stage **, const char *, const bson_value_t *,
    struct sp_error *); /* stage_group.c */
int stage_sort_new(struct stage **, const char *, const bson_value_t *,
    struct sp_error *); /* stage_sort.c: $sort */
int stage_limit_new(struct stage **, const char *, const bson_value_t *,
    struct sp_error *); /* stage_sort.c: $limit */
int stage_skip_new(struct stage **, const char *, const bson_value_t *,
    struct sp_error *); /* stage_sort.c: $skip */
/* Whether a groupBy spec ($bucket, $sortByCount...) is a "$path" of
 * minlen bytes at least or an object whose first field is an operator;
 * the callers word the error. stage_bucket.c */
bool group_by_ok(const bson_value_t *v, size_t minlen);
int stage_bucket_new(struct stage **, const char *, const bson_value_t *,
    struct sp_error *); /* stage_bucket.c: $bucket */
int stage_bucket_auto_new(struct stage **, const char *, const bson_value_t *,
    struct sp_error *); /* stage_bucket.c: $bucketAuto */

#endif /* SP_GROUP_INT_H */
