/* stage_redact.c: the $redact stage. */
#include <stdlib.h>
#include <string.h>

#include "stage_int.h"

/*
 * DocumentSourceRedact: the expression runs on the document, with
 * $$CURRENT the (sub)document being looked at and $$ROOT the whole one,
 * and must give $$KEEP (keep it as it is), $$PRUNE (leave it out) or
 * $$DESCEND (keep its fields, running the expression again on each
 * document below, also inside arrays).
 */

struct redact_stage {
	struct stage base;
	struct sp_expr *e;
	struct sp_buf msg;
};

enum { R_ERROR = -1, R_PRUNE, R_KEEP };

static int redact_object(struct redact_stage *rs, const uint8_t *root,
    uint32_t rootlen, const uint8_t *cur, uint32_t curlen, bson_value_t *out);

/* redactValue: documents and arrays are walked; out is missing when the
 * value is pruned. */
static int
redact_value(struct redact_stage *rs, const uint8_t *root, uint32_t rootlen,
    const bson_value_t *v, bson_value_t *out)
{
	struct stage *s = &rs->base;
	struct expr_buf b;
	bson_iter_t it;
	bson_value_t r;

	switch (v->value_type) {
	case BSON_TYPE_DOCUMENT:
		return redact_object(rs, root, rootlen, v->value.v_doc.data,
		    v->value.v_doc.data_len, out);
	case BSON_TYPE_ARRAY:
		sp_expr_buf_init(&b, stage_arena(s));
		if (bson_iter_init_from_data(
			&it, v->value.v_doc.data, v->value.v_doc.data_len)) {
			while (bson_iter_next(&it)) {
				if (redact_value(rs, root, rootlen,
					bson_iter_value(&it), &r) < 0)
					return -1;
				if (r.value_type != BSON_TYPE_EOD)
					sp_expr_buf_append(&b, NULL, 0, &r);
			}
		}
		if (sp_expr_buf_finish(&b, BSON_TYPE_ARRAY, out) < 0)
			return sp_error_set(stage_err(s), "%s", EXPR_TOO_LARGE);
		return 0;
	default: *out = *v; return 0;
	}
}

static bool
is_str(const bson_value_t *v, const char *s)
{
	return v->value_type == BSON_TYPE_UTF8 &&
	    v->value.v_utf8.len == strlen(s) &&
	    memcmp(v->value.v_utf8.str, s, v->value.v_utf8.len) == 0;
}

/* redactObject: out is the kept document, or missing when pruned. */
static int
redact_object(struct redact_stage *rs, const uint8_t *root, uint32_t rootlen,
    const uint8_t *cur, uint32_t curlen, bson_value_t *out)
{
	struct stage *s = &rs->base;
	struct expr_buf b;
	bson_iter_t it;
	bson_value_t r, v;

	if (sp_expr_eval_at(rs->e, root, rootlen, cur, curlen, stage_arena(s),
		&r, stage_err(s)) < 0)
		return -1;
	if (is_str(&r, "keep")) {
		doc_value(out, cur, curlen);
		return 0;
	}
	if (is_str(&r, "prune")) {
		out->value_type = BSON_TYPE_EOD;
		return 0;
	}
	if (!is_str(&r, "descend")) {
		sp_buf_reset(&rs->msg);
		value_str(&rs->msg, &r);
		return sp_error_set(stage_err(s),
		    "$redact's expression should not return anything aside "
		    "from the variables $$KEEP, $$DESCEND, and $$PRUNE, but "
		    "returned %s",
		    sp_buf_cstr(&rs->msg));
	}
	sp_expr_buf_init(&b, stage_arena(s));
	if (bson_iter_init_from_data(&it, cur, curlen)) {
		while (bson_iter_next(&it)) {
			if (redact_value(rs, root, rootlen,
				bson_iter_value(&it), &v) < 0)
				return -1;
			if (v.value_type != BSON_TYPE_EOD)
				sp_expr_buf_append(&b, bson_iter_key(&it),
				    bson_iter_key_len(&it), &v);
		}
	}
	if (sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, out) < 0)
		return sp_error_set(stage_err(s), "%s", EXPR_TOO_LARGE);
	return 0;
}

static int
redact_push(struct stage *s, const uint8_t *doc, uint32_t len)
{
	struct redact_stage *rs = (struct redact_stage *)s;
	bson_value_t out;

	if (redact_object(rs, doc, len, doc, len, &out) < 0) {
		stage_fail(s, doc, len, stage_err(s)->msg);
		return 0;
	}
	if (out.value_type != BSON_TYPE_DOCUMENT)
		return 0; /* pruned: the user's own condition */
	return stage_emit(s, out.value.v_doc.data, out.value.v_doc.data_len);
}

static void
redact_free(struct stage *s)
{
	struct redact_stage *rs = (struct redact_stage *)s;

	sp_expr_free(rs->e);
	sp_buf_release(&rs->msg);
	free(rs);
}

static const struct stage_ops redact_ops = {
    "RedactOperator", redact_push, NULL, redact_free};

int
stage_redact_new(struct stage **out, const char *name, const bson_value_t *spec,
    struct sp_error *err)
{
	static const char descend[] = "descend", prune[] = "prune",
			  keep[] = "keep";
	struct sp_expr_var vars[3];
	struct redact_stage *rs;
	struct sp_expr *e;

	*out = NULL;
	vars[0].name = "DESCEND";
	expr_set_cstr(&vars[0].value, descend);
	vars[1].name = "PRUNE";
	expr_set_cstr(&vars[1].value, prune);
	vars[2].name = "KEEP";
	expr_set_cstr(&vars[2].value, keep);
	if (sp_expr_compile_vars(&e, spec, vars, 3, err) < 0)
		return -1;
	rs = sp_xcalloc(1, sizeof(*rs));
	rs->base.ops = &redact_ops;
	rs->base.name = name;
	rs->e = e;
	sp_buf_init(&rs->msg);
	*out = &rs->base;
	return 0;
}
