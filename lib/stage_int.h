/* stage_int.h: what the pipeline (pipeline.c) and its stages share in lib/. */
#ifndef SP_STAGE_INT_H
#define SP_STAGE_INT_H

#include "expr_int.h"

/*
 * A compiled pipeline is a chain of stages; a document is pushed into the
 * first and each stage hands what it makes to the next with stage_emit,
 * so a document flows through the whole chain before the next one is read
 * and nothing is re-serialized between stages: each stage reads BSON and
 * writes BSON into the pipeline's arena, which is reset per input record.
 * The chain always ends in a terminal stage (the pipeline's sink; a
 * window's collector later), so a stage never asks whether it is last.
 *
 * A stage that keeps documents across pushes ($group, $sort, a window)
 * copies them out of the arena, and emits at finish (end of input) or
 * when its window closes. Its finish runs after every earlier stage's,
 * so what an earlier stage flushes passes through it first.
 */

struct stage;
struct sp_pipeline;

struct stage_ops {
	const char *op; /* Atlas's operatorName, "AddFieldsOperator" */
	/* Takes one document (borrowed until return). Returns 0, or -1
	 * when the sink asked to stop. A document that fails here becomes
	 * a dead letter (stage_fail), and push returns 0. */
	int (*push)(struct stage *s, const uint8_t *doc, uint32_t len);
	/* End of input; NULL for a stage that holds nothing. */
	int (*finish)(struct stage *s);
	void (*free)(struct stage *s);
};

/* Embedded first in each stage's own struct. */
struct stage {
	const struct stage_ops *ops;
	const char *name; /* "$set": the name the spec used (static) */
	struct stage *next; /* never NULL but in a terminal stage */
	struct sp_pipeline *pl; /* set when the chain is linked */
};

/* Per-record scratch of the pipeline the stage is in. */
struct sp_arena *stage_arena(const struct stage *s);
struct sp_error *stage_err(const struct stage *s);

/* Passes doc on to the next stage. */
static inline int
stage_emit(struct stage *s, const uint8_t *doc, uint32_t len)
{
	return s->next->ops->push(s->next, doc, len);
}

/* Makes doc (the stage's input) a dead letter with Atlas's reason
 * "Failed to process input document in <op> with error: <what>". */
void stage_fail(
    struct stage *s, const uint8_t *doc, uint32_t len, const char *what);

/*
 * Each stage's constructor: spec is the value of {name: spec}. Returns 0
 * and a new stage (freed through ops->free), or -1 with err in MongoDB's
 * words (the pipeline says which stage).
 */
typedef int (*stage_new_fn)(struct stage **out, const char *name,
    const bson_value_t *spec, struct sp_error *err);

int stage_match_new(struct stage **, const char *, const bson_value_t *,
    struct sp_error *); /* stage_match.c */
int stage_add_fields_new(struct stage **, const char *, const bson_value_t *,
    struct sp_error *); /* stage_project.c: $addFields, $set */
int stage_project_new(struct stage **, const char *, const bson_value_t *,
    struct sp_error *); /* stage_project.c */
int stage_unset_new(struct stage **, const char *, const bson_value_t *,
    struct sp_error *); /* stage_project.c */
int stage_replace_root_new(struct stage **, const char *, const bson_value_t *,
    struct sp_error *); /* stage_replace.c */
int stage_unwind_new(struct stage **, const char *, const bson_value_t *,
    struct sp_error *); /* stage_unwind.c */
int stage_redact_new(struct stage **, const char *, const bson_value_t *,
    struct sp_error *); /* stage_redact.c */

/* ------------------------------------------- helpers (stage.c) */

/* A dotted field path, checked as MongoDB's FieldPath checks it. */
struct spath {
	int n;
	struct expr_path *c; /* n components, NUL-terminated */
	char *full;
};

/* Parses s (len bytes); -1 with FieldPath's message. */
int spath_parse(
    struct spath *p, const char *s, size_t len, struct sp_error *err);
void spath_release(struct spath *p);

/* The value at p[from..] in doc, through documents only (not arrays, as
 * Document::getNestedField); missing (EOD) when it is not there. */
void doc_get_path(
    const uint8_t *doc, uint32_t len, const struct spath *p, bson_value_t *out);

/*
 * A copy of doc (NULL: an empty document) with the field at p[from..] set
 * to v, or removed when v is missing: an existing field keeps its place, a
 * new one goes last; a missing or non-document step on the way becomes a
 * new document (MutableDocument's setNestedField). The copy is built in a;
 * -1 when it would exceed BSON's size limit.
 */
int doc_set_path(struct sp_arena *a, const uint8_t *doc, uint32_t len,
    const struct spath *p, int from, const bson_value_t *v, bson_value_t *out);

/* doc_set_path for one top-level name. */
int doc_set_field(struct sp_arena *a, const uint8_t *doc, uint32_t len,
    const char *name, const bson_value_t *v, bson_value_t *out);

/* Renders v as MongoDB's Value::toString does, for error messages:
 * {a: 1, b: "x"}, [1, 2], MISSING. */
void value_str(struct sp_buf *b, const bson_value_t *v);
/* Renders a document as BSONObj::toString does: { a: 1, b: "x" }. */
void bson_obj_str(struct sp_buf *b, const uint8_t *doc, uint32_t len);
/* BSONElement::toString: key: value. */
void bson_elem_str(struct sp_buf *b, const char *key, const bson_value_t *v);

/* A document value over (data, len). */
static inline void
doc_value(bson_value_t *v, const uint8_t *data, uint32_t len)
{
	v->value_type = BSON_TYPE_DOCUMENT;
	v->value.v_doc.data = (uint8_t *)data;
	v->value.v_doc.data_len = len;
}

#endif /* SP_STAGE_INT_H */
