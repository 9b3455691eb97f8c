/* stage_match.c: the $match stage. */
#include <stdlib.h>
#include <string.h>

#include "stage_int.h"

struct match_stage {
	struct stage base;
	struct sp_match *m;
};

static int
match_push(struct stage *s, const uint8_t *doc, uint32_t len)
{
	struct match_stage *ms = (struct match_stage *)s;
	int rc = sp_match_exec(ms->m, doc, len, stage_arena(s), stage_err(s));

	if (rc < 0) {
		stage_fail(s, doc, len, stage_err(s)->msg);
		return 0;
	}
	return rc == 1 ? stage_emit(s, doc, len) : 0;
}

static void
match_free(struct stage *s)
{
	struct match_stage *ms = (struct match_stage *)s;

	sp_match_free(ms->m);
	free(ms);
}

static const struct stage_ops match_ops = {
    "MatchOperator", match_push, NULL, match_free};

/* A $text anywhere a text query can be: at the top or under $and, $or and
 * $nor (Atlas's planner asks DocumentSourceMatch::isTextQuery). */
static bool
has_text(const bson_value_t *filter)
{
	bson_iter_t it, el;

	if (!bson_iter_init_from_data(
		&it, filter->value.v_doc.data, filter->value.v_doc.data_len))
		return false;
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);

		if (strcmp(k, "$text") == 0)
			return true;
		if ((strcmp(k, "$and") == 0 || strcmp(k, "$or") == 0 ||
			strcmp(k, "$nor") == 0) &&
		    BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &el))
			while (bson_iter_next(&el))
				if (BSON_ITER_HOLDS_DOCUMENT(&el) &&
				    has_text(bson_iter_value(&el)))
					return true;
	}
	return false;
}

int
stage_match_new(struct stage **out, const char *name, const bson_value_t *spec,
    struct sp_error *err)
{
	struct match_stage *ms;
	struct sp_match *m;

	*out = NULL;
	if (spec->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(
		    err, "the match filter must be an expression in an object");
	if (has_text(spec))
		return sp_error_set(err,
		    "Cannot use $text in $match stage "
		    "in Atlas Stream Processing.");
	if (sp_match_compile(&m, spec->value.v_doc.data,
		spec->value.v_doc.data_len, err) < 0)
		return -1;
	ms = sp_xcalloc(1, sizeof(*ms));
	ms->base.ops = &match_ops;
	ms->base.name = name;
	ms->m = m;
	*out = &ms->base;
	return 0;
}
