/* stage_unwind.c: the $unwind stage. */
#include <stdlib.h>
#include <string.h>

#include "stage_int.h"

struct unwind_stage {
	struct stage base;
	struct spath path; /* through documents only */
	struct spath index; /* includeArrayIndex; n == 0: none */
	bool preserve; /* preserveNullAndEmptyArrays */
};

/* The document with its index field set, then passed on. */
static int
emit_with_index(struct unwind_stage *us, const bson_value_t *doc,
    const bson_value_t *idx, const uint8_t *in, uint32_t inlen)
{
	struct stage *s = &us->base;
	bson_value_t out = *doc;

	if (us->index.n > 0 &&
	    doc_set_path(stage_arena(s), doc->value.v_doc.data,
		doc->value.v_doc.data_len, &us->index, 0, idx, &out) < 0) {
		stage_fail(s, in, inlen, EXPR_TOO_LARGE);
		return 0;
	}
	return stage_emit(s, out.value.v_doc.data, out.value.v_doc.data_len);
}

/*
 * DocumentSourceUnwind's Unwinder: one document per element of the array
 * at the path, the element in the array's place; a value that is not an
 * array passes as it is; null, missing and [] pass only with
 * preserveNullAndEmptyArrays ([] then leaves the field out). The index is
 * a long, or null when the value did not come from an array.
 */
static int
unwind_push(struct stage *s, const uint8_t *doc, uint32_t len)
{
	struct unwind_stage *us = (struct unwind_stage *)s;
	struct sp_arena *a = stage_arena(s);
	struct sp_arena_mark mark;
	bson_value_t v, in, out, idx;
	bson_iter_t it;
	int64_t i = 0;
	int rc;

	doc_value(&in, doc, len);
	expr_set_null(&idx);
	doc_get_path(doc, len, &us->path, &v);
	if (v.value_type == BSON_TYPE_ARRAY) {
		bool empty = v.value.v_doc.data_len <= 5;

		if (empty) {
			if (!us->preserve)
				return 0;
			v.value_type = BSON_TYPE_EOD;
			if (doc_set_path(a, doc, len, &us->path, 0, &v, &out) <
			    0) {
				stage_fail(s, doc, len, EXPR_TOO_LARGE);
				return 0;
			}
			return emit_with_index(us, &out, &idx, doc, len);
		}
		bson_iter_init_from_data(
		    &it, v.value.v_doc.data, v.value.v_doc.data_len);
		/* What the rest of the chain allocates for one element is
		 * reclaimed before the next. */
		sp_arena_mark(a, &mark);
		while (bson_iter_next(&it)) {
			if (doc_set_path(a, doc, len, &us->path, 0,
				bson_iter_value(&it), &out) < 0) {
				stage_fail(s, doc, len, EXPR_TOO_LARGE);
				return 0;
			}
			expr_set_int64(&idx, i++);
			rc = emit_with_index(us, &out, &idx, doc, len);
			sp_arena_rewind(a, &mark);
			if (rc < 0)
				return -1;
		}
		return 0;
	}
	if (expr_nullish(&v) && !us->preserve)
		return 0;
	return emit_with_index(us, &in, &idx, doc, len);
}

static void
unwind_free(struct stage *s)
{
	struct unwind_stage *us = (struct unwind_stage *)s;

	spath_release(&us->path);
	spath_release(&us->index);
	free(us);
}

static const struct stage_ops unwind_ops = {
    "UnwindOperator", unwind_push, NULL, unwind_free};

int
stage_unwind_new(struct stage **out, const char *name, const bson_value_t *spec,
    struct sp_error *err)
{
	const char *path = NULL, *index = NULL;
	struct unwind_stage *us;
	bool preserve = false;
	bson_iter_t it;

	*out = NULL;
	if (spec->value_type == BSON_TYPE_DOCUMENT) {
		bson_iter_init_from_data(
		    &it, spec->value.v_doc.data, spec->value.v_doc.data_len);
		while (bson_iter_next(&it)) {
			const char *k = bson_iter_key(&it);
			const bson_value_t *v = bson_iter_value(&it);

			if (strcmp(k, "path") == 0) {
				if (v->value_type != BSON_TYPE_UTF8)
					return sp_error_set(err,
					    "expected a string as the path for "
					    "$unwind stage, got %s",
					    sp_expr_type_name(v->value_type));
				path = v->value.v_utf8.str;
			} else if (strcmp(k, "preserveNullAndEmptyArrays") ==
			    0) {
				if (v->value_type != BSON_TYPE_BOOL)
					return sp_error_set(err,
					    "expected a boolean for the "
					    "preserveNullAndEmptyArrays option "
					    "to $unwind stage, got %s",
					    sp_expr_type_name(v->value_type));
				preserve = v->value.v_bool;
			} else if (strcmp(k, "includeArrayIndex") == 0) {
				/* The server's message has two spaces. */
				if (v->value_type != BSON_TYPE_UTF8 ||
				    v->value.v_utf8.len == 0)
					return sp_error_set(err,
					    "expected a non-empty string for "
					    "the includeArrayIndex  option to "
					    "$unwind stage, got %s",
					    sp_expr_type_name(v->value_type));
				index = v->value.v_utf8.str;
				if (index[0] == '$')
					return sp_error_set(err,
					    "includeArrayIndex option to "
					    "$unwind stage should not be "
					    "prefixed with a '$': %s",
					    index);
			} else {
				return sp_error_set(err,
				    "unrecognized option to $unwind stage: %s",
				    k);
			}
		}
	} else if (spec->value_type == BSON_TYPE_UTF8) {
		path = spec->value.v_utf8.str;
	} else {
		return sp_error_set(err,
		    "expected either a string or an object as specification "
		    "for $unwind stage, got %s",
		    sp_expr_type_name(spec->value_type));
	}
	if (path == NULL || path[0] == '\0')
		return sp_error_set(err, "no path specified to $unwind stage");
	if (path[0] != '$')
		return sp_error_set(err,
		    "path option to $unwind stage should be prefixed with a "
		    "'$': %s",
		    path);
	us = sp_xcalloc(1, sizeof(*us));
	us->base.ops = &unwind_ops;
	us->base.name = name;
	us->preserve = preserve;
	if (spath_parse(&us->path, path + 1, strlen(path + 1), err) < 0 ||
	    (index != NULL &&
		spath_parse(&us->index, index, strlen(index), err) < 0)) {
		unwind_free(&us->base);
		return -1;
	}
	*out = &us->base;
	return 0;
}
