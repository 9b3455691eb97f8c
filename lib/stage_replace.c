/* stage_replace.c: $replaceRoot and $replaceWith. */
#include <stdlib.h>
#include <string.h>

#include "stage_int.h"

struct replace_stage {
	struct stage base;
	struct sp_expr *root;
	const char *opener; /* how MongoDB's message starts */
	struct sp_buf msg;
};

static int
replace_push(struct stage *s, const uint8_t *doc, uint32_t len)
{
	struct replace_stage *rs = (struct replace_stage *)s;
	bson_value_t v, in;

	if (sp_expr_eval(rs->root, doc, len, stage_arena(s), &v, stage_err(s)) <
	    0) {
		stage_fail(s, doc, len, stage_err(s)->msg);
		return 0;
	}
	if (v.value_type != BSON_TYPE_DOCUMENT) {
		sp_buf_reset(&rs->msg);
		sp_buf_puts(&rs->msg, rs->opener);
		sp_buf_puts(&rs->msg,
		    " must evaluate to an object, but resulting value was: ");
		value_str(&rs->msg, &v);
		sp_buf_printf(&rs->msg,
		    ". Type of resulting value: '%s'. Input document: ",
		    sp_expr_type_name(v.value_type));
		doc_value(&in, doc, len);
		value_str(&rs->msg, &in);
		stage_fail(s, doc, len, sp_buf_cstr(&rs->msg));
		return 0;
	}
	return stage_emit(s, v.value.v_doc.data, v.value.v_doc.data_len);
}

static void
replace_free(struct stage *s)
{
	struct replace_stage *rs = (struct replace_stage *)s;

	sp_expr_free(rs->root);
	sp_buf_release(&rs->msg);
	free(rs);
}

static const struct stage_ops replace_ops = {
    "ReplaceRootOperator", replace_push, NULL, replace_free};

int
stage_replace_root_new(struct stage **out, const char *name,
    const bson_value_t *spec, struct sp_error *err)
{
	const bson_value_t *root = spec;
	struct replace_stage *rs;
	struct sp_expr *e;
	bson_iter_t it;
	bool with = strcmp(name, "$replaceWith") == 0;

	*out = NULL;
	if (!with) {
		/* {newRoot: <expr>}, parsed as MongoDB's IDL does. */
		if (spec->value_type != BSON_TYPE_DOCUMENT)
			return sp_error_set(err,
			    "expected an object as specification for "
			    "$replaceRoot stage, got %s",
			    sp_expr_type_name(spec->value_type));
		root = NULL;
		bson_iter_init_from_data(
		    &it, spec->value.v_doc.data, spec->value.v_doc.data_len);
		while (bson_iter_next(&it)) {
			if (strcmp(bson_iter_key(&it), "newRoot") != 0)
				return sp_error_set(err,
				    "BSON field '$replaceRoot.%s' is an "
				    "unknown field.",
				    bson_iter_key(&it));
			if (root != NULL)
				return sp_error_set(err,
				    "BSON field '$replaceRoot.newRoot' is a "
				    "duplicate field");
			root = bson_iter_value(&it);
		}
		if (root == NULL)
			return sp_error_set(err,
			    "BSON field '$replaceRoot.newRoot' is missing but "
			    "a required field");
	}
	if (sp_expr_compile(&e, root, err) < 0)
		return -1;
	rs = sp_xcalloc(1, sizeof(*rs));
	rs->base.ops = &replace_ops;
	rs->base.name = name;
	rs->root = e;
	/* The server's own spacing: a double space after "expression". */
	rs->opener = with ? "'replacement document'" : "'newRoot' expression ";
	sp_buf_init(&rs->msg);
	*out = &rs->base;
	return 0;
}
