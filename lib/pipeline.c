/* pipeline.c: an Atlas Stream Processing pipeline: planner, chain, source,
 * sink. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "group_int.h"

/*
 * sp_pipeline_compile checks the whole pipeline the way Atlas's planner
 * does (shape first, then each stage) and builds the chain of stages once;
 * sp_pipeline_push then runs each document through it. An optional
 * $source at the front stands for the input (or holds inline documents)
 * and stamps the event time; an optional $emit or $merge at the end is the
 * sink, which writes to the pipeline's sink callbacks either way.
 */

/* Where a stage may stand: Atlas's stage traits. */
#define IN_MAIN 0x1u
#define IN_WINDOW 0x2u

/* Why a stage Atlas has is not run here (yet). */
enum gap { GAP_NONE, GAP_WINDOW, GAP_LATER, GAP_CONNECTION };

static const struct stage_def {
	const char *name;
	stage_new_fn make;
	unsigned where;
	enum gap gap;
} stage_defs[] = {
    {"$addFields", stage_add_fields_new, IN_MAIN | IN_WINDOW, GAP_NONE},
    {"$bucket", stage_bucket_new, IN_MAIN | IN_WINDOW, GAP_NONE},
    {"$bucketAuto", stage_bucket_auto_new, IN_MAIN | IN_WINDOW, GAP_NONE},
    {"$cachedLookup", NULL, IN_MAIN, GAP_CONNECTION},
    {"$count", stage_count_new, IN_MAIN | IN_WINDOW, GAP_NONE},
    {"$externalFunction", NULL, IN_MAIN | IN_WINDOW, GAP_CONNECTION},
    {"$group", stage_group_new, IN_MAIN | IN_WINDOW, GAP_NONE},
    {"$hoppingWindow", NULL, IN_MAIN, GAP_WINDOW},
    {"$https", NULL, IN_MAIN | IN_WINDOW, GAP_CONNECTION},
    {"$limit", stage_limit_new, IN_MAIN | IN_WINDOW, GAP_NONE},
    {"$lookup", NULL, IN_MAIN | IN_WINDOW, GAP_CONNECTION},
    {"$match", stage_match_new, IN_MAIN | IN_WINDOW, GAP_NONE},
    {"$project", stage_project_new, IN_MAIN | IN_WINDOW, GAP_NONE},
    {"$redact", stage_redact_new, IN_MAIN | IN_WINDOW, GAP_NONE},
    {"$replaceRoot", stage_replace_root_new, IN_MAIN | IN_WINDOW, GAP_NONE},
    {"$replaceWith", stage_replace_root_new, IN_MAIN | IN_WINDOW, GAP_NONE},
    {"$sessionWindow", NULL, IN_MAIN, GAP_WINDOW},
    {"$set", stage_add_fields_new, IN_MAIN | IN_WINDOW, GAP_NONE},
    {"$setStreamMeta", NULL, IN_MAIN, GAP_LATER},
    {"$skip", stage_skip_new, IN_MAIN | IN_WINDOW, GAP_NONE},
    {"$sort", stage_sort_new, IN_MAIN | IN_WINDOW, GAP_NONE},
    {"$sortByCount", stage_sort_by_count_new, IN_MAIN | IN_WINDOW, GAP_NONE},
    {"$tumblingWindow", NULL, IN_MAIN, GAP_WINDOW},
    {"$unset", stage_unset_new, IN_MAIN | IN_WINDOW, GAP_NONE},
    {"$unwind", stage_unwind_new, IN_MAIN | IN_WINDOW, GAP_NONE},
    {"$validate", NULL, IN_MAIN | IN_WINDOW, GAP_LATER},
};

struct sp_pipeline {
	struct stage *head; /* the first stage, or &sink */
	struct stage sink; /* the terminal stage: $emit, $merge or none */
	struct sp_pipeline_sink out;
	struct sp_arena arena;
	struct sp_error err;
	struct sp_buf msg;

	/* $source */
	bool has_source;
	bool has_documents;
	uint8_t *docs; /* the inline documents, a BSON array */
	uint32_t docs_len;
	size_t ndocs;
	struct {
		uint32_t off, len;
	} * doc; /* each one's place in docs */
	struct sp_expr *time_field;
	char *ts_name; /* NULL: no event-time field */
	char *meta_name; /* NULL: no stream metadata */
	bool meta_early; /* the stages read it: put it in at the source */

	/* The record going through. */
	bool generated; /* it came from $source.documents */
	bson_value_t meta; /* its stream metadata, a document */
};

struct sp_arena *
stage_arena(const struct stage *s)
{
	return &s->pl->arena;
}

struct sp_error *
stage_err(const struct stage *s)
{
	return &s->pl->err;
}

static void
dead(struct sp_pipeline *p, const char *op, const char *reason,
    const uint8_t *doc, uint32_t len)
{
	struct sp_dead d;

	memset(&d, 0, sizeof(d));
	d.op = op;
	d.reason = reason;
	d.doc = doc;
	d.len = len;
	if (p->has_source) {
		d.source_meta = true;
		if (p->meta_name != NULL) {
			d.meta_name = p->meta_name;
			d.meta = p->meta.value.v_doc.data;
			d.metalen = p->meta.value.v_doc.data_len;
		}
	}
	if (p->out.dead != NULL)
		p->out.dead(p->out.arg, &d);
}

void
stage_fail(struct stage *s, const uint8_t *doc, uint32_t len, const char *what)
{
	struct sp_pipeline *p = s->pl;

	sp_buf_reset(&p->msg);
	sp_buf_printf(&p->msg,
	    "Failed to process input document in %s with error: %s", s->ops->op,
	    what);
	dead(p, s->ops->op, sp_buf_cstr(&p->msg), doc, len);
}

/* ------------------------------------------------------ stream metadata */

/*
 * The record's stream metadata merged into what the document already
 * holds under that name: ours first, then its own other fields (a value
 * that is not a document is replaced), as Atlas's sink does.
 */
static int
put_meta(
    struct sp_pipeline *p, const uint8_t *doc, uint32_t len, bson_value_t *out)
{
	struct expr_buf b;
	bson_iter_t it, own;
	bson_value_t merged = p->meta;

	if (bson_iter_init_from_data(&own, doc, len) &&
	    bson_iter_find(&own, p->meta_name) &&
	    BSON_ITER_HOLDS_DOCUMENT(&own) && bson_iter_recurse(&own, &it)) {
		bson_iter_t mine;

		sp_expr_buf_init(&b, &p->arena);
		bson_iter_init_from_data(&mine, p->meta.value.v_doc.data,
		    p->meta.value.v_doc.data_len);
		while (bson_iter_next(&mine))
			sp_expr_buf_append(&b, bson_iter_key(&mine),
			    bson_iter_key_len(&mine), bson_iter_value(&mine));
		while (bson_iter_next(&it)) {
			bson_iter_t dup;

			if (bson_iter_init_from_data(&dup,
				p->meta.value.v_doc.data,
				p->meta.value.v_doc.data_len) &&
			    bson_iter_find_w_len(&dup, bson_iter_key(&it),
				(int)bson_iter_key_len(&it)))
				continue;
			sp_expr_buf_append(&b, bson_iter_key(&it),
			    bson_iter_key_len(&it), bson_iter_value(&it));
		}
		if (sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, &merged) < 0)
			return -1;
	}
	return doc_set_field(&p->arena, doc, len, p->meta_name, &merged, out);
}

/* {"source": {"type": "generated"}}, or where the line was read. */
static void
make_meta(struct sp_pipeline *p, const struct sp_pos *pos)
{
	struct expr_buf b, src;
	bson_value_t v, s;

	sp_expr_buf_init(&src, &p->arena);
	if (p->generated || pos == NULL) {
		expr_set_cstr(&v, "generated");
		sp_expr_buf_append(&src, "type", 4, &v);
	} else {
		expr_set_cstr(&v, "file");
		sp_expr_buf_append(&src, "type", 4, &v);
		expr_set_cstr(&v, pos->file);
		sp_expr_buf_append(&src, "file", 4, &v);
		expr_set_int64(&v, (int64_t)pos->line);
		sp_expr_buf_append(&src, "line", 4, &v);
		expr_set_int64(&v, (int64_t)pos->offset);
		sp_expr_buf_append(&src, "offset", 6, &v);
	}
	sp_expr_buf_finish(&src, BSON_TYPE_DOCUMENT, &s);
	sp_expr_buf_init(&b, &p->arena);
	sp_expr_buf_append(&b, "source", 6, &s);
	sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, &p->meta);
}

/* --------------------------------------------------------- the source */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A record the source cannot stamp: Atlas's documents source gives the
 * bare reason, its Kafka source wraps it. */
static void
source_fail(
    struct sp_pipeline *p, const uint8_t *doc, uint32_t len, const char *what)
{
	char reason[1100];

	if (p->generated) {
		dead(p, "DocumentsDataSourceOperator", what, doc, len);
		return;
	}
	snprintf(reason, sizeof(reason),
	    "Failed to process input document with error: %s", what);
	dead(p, "SourceOperator", reason, doc, len);
}

/* What Atlas's $source does to a document: the event time into _ts (or
 * tsFieldName), and the stream metadata when the stages read it. */
static int
source_push(struct sp_pipeline *p, const uint8_t *doc, uint32_t len,
    const struct sp_pos *pos)
{
	bson_value_t ts, v;
	struct sp_buf *m = &p->msg;

	if (p->meta_name != NULL)
		make_meta(p, pos);
	if (p->time_field != NULL) {
		if (sp_expr_eval(
			p->time_field, doc, len, &p->arena, &ts, &p->err) < 0) {
			source_fail(p, doc, len, p->err.msg);
			return 0;
		}
		if (ts.value_type != BSON_TYPE_DATE_TIME) {
			sp_buf_reset(m);
			sp_buf_puts(m,
			    "Failed to extract timestamp from "
			    "document, extracted timestampVal: ");
			value_str(m, &ts);
			source_fail(p, doc, len, sp_buf_cstr(m));
			return 0;
		}
	} else {
		expr_set_date(&ts, now_ms());
	}
	doc_value(&v, doc, len);
	if (p->ts_name != NULL &&
	    doc_set_field(&p->arena, doc, len, p->ts_name, &ts, &v) < 0)
		goto too_large;
	if (p->meta_name != NULL && p->meta_early &&
	    put_meta(p, v.value.v_doc.data, v.value.v_doc.data_len, &v) < 0)
		goto too_large;
	return p->head->ops->push(
	    p->head, v.value.v_doc.data, v.value.v_doc.data_len);
too_large:
	source_fail(p, doc, len, EXPR_TOO_LARGE);
	return 0;
}

/* ----------------------------------------------------------- the sink */

static int
sink_push(struct stage *s, const uint8_t *doc, uint32_t len)
{
	struct sp_pipeline *p = s->pl;
	bson_value_t v;

	/* What a blocking stage emits at the end of the input belongs to no
	 * one record: it gets no metadata of its own (an empty meta). */
	if (p->has_source && p->meta_name != NULL && !p->meta_early &&
	    p->meta.value.v_doc.data_len > 5) {
		if (put_meta(p, doc, len, &v) < 0) {
			stage_fail(s, doc, len, EXPR_TOO_LARGE);
			return 0;
		}
		doc = v.value.v_doc.data;
		len = v.value.v_doc.data_len;
	}
	return p->out.emit != NULL ? p->out.emit(p->out.arg, doc, len) : 0;
}

static const struct stage_ops sink_ops = {
    "SinkOperator", sink_push, NULL, NULL};
static const struct stage_ops emit_ops = {
    "KafkaEmitOperator", sink_push, NULL, NULL};
static const struct stage_ops merge_ops = {
    "MergeOperator", sink_push, NULL, NULL};

/* ------------------------------------------------------------ parsing */

#define WRAP_PRE "{\"pipeline\":"
#define WRAP_NPRE (sizeof(WRAP_PRE) - 1)

/* The JSON parser reads objects: parse {"pipeline": <text>}. */
static int
parse_wrapped(
    struct sp_buf *out, const char *text, size_t len, struct sp_error *err)
{
	struct sp_buf w;
	int rc;

	sp_buf_init(&w);
	sp_buf_append(&w, WRAP_PRE, WRAP_NPRE);
	sp_buf_append(&w, text, len);
	sp_buf_putc(&w, '}');
	rc = sp_json_parse(out, (const char *)w.data, w.len, err);
	sp_buf_release(&w);
	return rc;
}

int
sp_pipeline_parse(
    struct sp_buf *out, const char *text, size_t len, struct sp_error *err)
{
	unsigned long long off;
	struct sp_error e2;
	struct sp_buf tmp;
	bson_iter_t it;
	size_t i = 0;
	char *at;

	while (i < len &&
	    (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' ||
		text[i] == '\r'))
		i++;
	if (i == len)
		return sp_error_set(
		    err, "empty pipeline: expected a JSON array of stages");
	if (text[i] != '[')
		return sp_error_set(
		    err, "a pipeline is a JSON array of stages, [{...}, ...]");
	if (parse_wrapped(out, text, len, err) < 0) {
		/* Give the offset in the caller's text, and say what the
		 * wrapping hides: the end of the text, or text after the
		 * array. */
		at = strstr(err->msg, "offset ");
		if (at == NULL || sscanf(at, "offset %llu", &off) != 1 ||
		    off < WRAP_NPRE)
			return -1;
		off -= WRAP_NPRE;
		sp_buf_init(&tmp);
		if (off >= len)
			sp_error_set(err,
			    "invalid JSON at offset %zu: unexpected end of "
			    "input",
			    len);
		else if (parse_wrapped(&tmp, text, (size_t)off, &e2) == 0)
			sp_error_set(err,
			    "trailing characters after the array at offset "
			    "%llu",
			    off);
		else {
			char rest[sizeof(err->msg)];
			const char *tail = at + 7;

			while (*tail >= '0' && *tail <= '9')
				tail++;
			snprintf(rest, sizeof(rest), "%s", tail);
			snprintf(at, sizeof(err->msg) - (size_t)(at - err->msg),
			    "offset %llu%s", off, rest);
		}
		sp_buf_release(&tmp);
		return -1;
	}
	/* Leave only the array's bytes. */
	if (!bson_iter_init_from_data(&it, out->data, out->len) ||
	    !bson_iter_next(&it) || !BSON_ITER_HOLDS_ARRAY(&it)) {
		out->len = 0;
		return sp_error_set(err, "a pipeline is a JSON array");
	}
	{
		const uint8_t *d;
		uint32_t n;

		bson_iter_array(&it, &n, &d);
		memmove(out->data, d, n);
		out->len = n;
	}
	return 0;
}

/* ------------------------------------------------------------ planning */

static const struct stage_def *
find_def(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(stage_defs) / sizeof(stage_defs[0]); i++)
		if (strcmp(stage_defs[i].name, name) == 0)
			return &stage_defs[i];
	return NULL;
}

static bool
is_sink(const char *name)
{
	return strcmp(name, "$emit") == 0 || strcmp(name, "$merge") == 0;
}

/* Whether v mentions the metadata field (as a key or a path), or the
 * whole document, so that the stages must see the metadata: a
 * conservative stand-in for Atlas's dependency analysis. */
static bool
mentions_meta(const bson_value_t *v, const char *meta)
{
	size_t n = strlen(meta);
	bson_iter_t it;
	const char *s;
	size_t len;

	switch (v->value_type) {
	case BSON_TYPE_UTF8:
		s = v->value.v_utf8.str;
		len = v->value.v_utf8.len;
		if ((len == 6 && memcmp(s, "$$ROOT", 6) == 0) ||
		    (len >= 7 && memcmp(s, "$$ROOT.", 7) == 0) ||
		    (len == 9 && memcmp(s, "$$CURRENT", 9) == 0) ||
		    (len >= 10 && memcmp(s, "$$CURRENT.", 10) == 0))
			return true;
		if (len > 0 && s[0] == '$') {
			s++;
			len--;
		}
		return len >= n && memcmp(s, meta, n) == 0 &&
		    (len == n || s[n] == '.');
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
		if (!bson_iter_init_from_data(
			&it, v->value.v_doc.data, v->value.v_doc.data_len))
			return false;
		while (bson_iter_next(&it)) {
			bson_value_t k;

			if (v->value_type == BSON_TYPE_DOCUMENT) {
				/* {$meta: "stream..."} reads it too. */
				if (strcmp(bson_iter_key(&it), "$meta") == 0)
					return true;
				expr_set_cstr(&k, bson_iter_key(&it));
				if (k.value.v_utf8.str[0] != '$' &&
				    mentions_meta(&k, meta))
					return true;
			}
			if (mentions_meta(bson_iter_value(&it), meta))
				return true;
		}
		return false;
	default: return false;
	}
}

static int
wrong_type(struct sp_error *err, const char *field, const bson_value_t *v,
    const char *want)
{
	return sp_error_set(err,
	    "BSON field '$source.%s' is the wrong type '%s', expected %s",
	    field, sp_expr_type_name(v->value_type), want);
}

/* $source.documents: an array of documents, or an expression that gives
 * one (evaluated once, here). */
static int
source_documents(
    struct sp_pipeline *p, const bson_value_t *v, struct sp_error *err)
{
	struct sp_expr *e = NULL;
	struct sp_arena a;
	bson_value_t arr = *v;
	bson_iter_t it;
	int rc = -1;

	sp_arena_init(&a);
	if (v->value_type == BSON_TYPE_DOCUMENT) {
		static const uint8_t empty[5] = {5, 0, 0, 0, 0};

		if (sp_expr_compile(&e, v, err) < 0 ||
		    sp_expr_eval(e, empty, sizeof(empty), &a, &arr, err) < 0)
			goto out;
		if (arr.value_type != BSON_TYPE_ARRAY) {
			sp_error_set(err,
			    "The documents list expression does "
			    "not evaluate to an array.");
			goto out;
		}
	} else if (v->value_type != BSON_TYPE_ARRAY) {
		wrong_type(err, "documents", v, "types '[array, object]'");
		goto out;
	}
	if (!bson_iter_init_from_data(
		&it, arr.value.v_doc.data, arr.value.v_doc.data_len))
		goto out;
	while (bson_iter_next(&it)) {
		if (!BSON_ITER_HOLDS_DOCUMENT(&it)) {
			if (e != NULL)
				sp_error_set(err,
				    "The documents list expression does not "
				    "evaluate to an array of objects.");
			else
				sp_error_set(err,
				    "BSON field '$source.documents.%s' is the "
				    "wrong type '%s', expected type 'object'",
				    bson_iter_key(&it),
				    sp_expr_type_name(bson_iter_type(&it)));
			goto out;
		}
		{
			const uint8_t *d;
			uint32_t dl;

			bson_iter_document(&it, &dl, &d);
			p->doc = sp_xrealloc(
			    p->doc, sizeof(*p->doc) * (p->ndocs + 1));
			p->doc[p->ndocs].off =
			    (uint32_t)(d - arr.value.v_doc.data);
			p->doc[p->ndocs].len = dl;
			p->ndocs++;
		}
	}
	p->docs_len = arr.value.v_doc.data_len;
	p->docs = sp_xmalloc(p->docs_len);
	memcpy(p->docs, arr.value.v_doc.data, p->docs_len);
	p->has_documents = true;
	rc = 0;
out:
	sp_expr_free(e);
	sp_arena_release(&a);
	return rc;
}

static int
plan_source(
    struct sp_pipeline *p, const bson_value_t *spec, struct sp_error *err)
{
	/* Fields that name where Atlas reads from: the input stands in for
	 * the connection, so they are accepted and not used. */
	static const char *const ignored[] = {"connectionName", "topic", "db",
	    "coll", "config", "partitionIdleTimeout", "schemaRegistry",
	    "initialSync", "readPreference", "readPreferenceTags"};
	bson_iter_t it;
	size_t i;

	p->has_source = true;
	p->ts_name = sp_xstrdup("_ts");
	p->meta_name = sp_xstrdup("_stream_meta");
	if (spec->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(err,
		    "$source specification must be an object, got %s",
		    sp_expr_type_name(spec->value_type));
	bson_iter_init_from_data(
	    &it, spec->value.v_doc.data, spec->value.v_doc.data_len);
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		const bson_value_t *v = bson_iter_value(&it);

		if (strcmp(k, "documents") == 0) {
			if (source_documents(p, v, err) < 0)
				return -1;
		} else if (strcmp(k, "timeField") == 0) {
			if (v->value_type == BSON_TYPE_UTF8 &&
			    v->value.v_utf8.str[0] != '$')
				return sp_error_set(err,
				    "FieldPath '%s' doesn't start with $",
				    v->value.v_utf8.str);
			if (v->value_type != BSON_TYPE_UTF8 &&
			    v->value_type != BSON_TYPE_DOCUMENT)
				return wrong_type(
				    err, k, v, "types '[object, string]'");
			sp_expr_free(p->time_field);
			p->time_field = NULL;
			if (sp_expr_compile(&p->time_field, v, err) < 0)
				return -1;
		} else if (strcmp(k, "tsFieldName") == 0 ||
		    strcmp(k, "tsFieldOverride") == 0) {
			if (v->value_type != BSON_TYPE_UTF8)
				return wrong_type(err, k, v, "type 'string'");
			if (strchr(v->value.v_utf8.str, '.') != NULL)
				return sp_error_set(err,
				    "'tsFieldOverride' "
				    "cannot be a dotted "
				    "path");
			free(p->ts_name);
			p->ts_name = v->value.v_utf8.len > 0
			    ? sp_xstrdup(v->value.v_utf8.str)
			    : NULL;
		} else if (strcmp(k, "streamMetaFieldName") == 0) {
			if (v->value_type != BSON_TYPE_UTF8)
				return wrong_type(err, k, v, "type 'string'");
			free(p->meta_name);
			p->meta_name = v->value.v_utf8.len > 0
			    ? sp_xstrdup(v->value.v_utf8.str)
			    : NULL;
		} else {
			for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]);
			     i++)
				if (strcmp(k, ignored[i]) == 0)
					break;
			if (i == sizeof(ignored) / sizeof(ignored[0]))
				return sp_error_set(err,
				    "BSON field '$source.%s' is an unknown "
				    "field.",
				    k);
		}
	}
	return 0;
}

static const char *
gap_words(enum gap g)
{
	switch (g) {
	case GAP_CONNECTION:
		return "is not supported: it needs a connection that sp does "
		       "not have";
	default: return "is not supported yet";
	}
}

/* "stage N ($name): " before a message about that stage. */
static int
stage_error(struct sp_error *err, int i, const char *name, const char *msg)
{
	char m[sizeof(err->msg)];

	snprintf(m, sizeof(m), "%s", msg);
	if (name != NULL)
		return sp_error_set(err, "stage %d (%s): %s", i + 1, name, m);
	return sp_error_set(err, "stage %d: %s", i + 1, m);
}

/* A stage compiled for the chain. */
static int
plan_stage(struct sp_pipeline *p, int i, const char *name,
    const bson_value_t *spec, struct stage **out, struct sp_error *err)
{
	const struct stage_def *def = find_def(name);
	struct sp_error e;
	char m[sizeof(err->msg)];

	*out = NULL;
	if (def == NULL) {
		snprintf(m, sizeof(m), "Unsupported stage: %s", name);
		return stage_error(err, i, NULL, m);
	}
	if (def->make == NULL) {
		snprintf(m, sizeof(m), "%s %s", name, gap_words(def->gap));
		return stage_error(err, i, name, m);
	}
	if (def->make(out, def->name, spec, &e) < 0)
		return stage_error(err, i, name, e.msg);
	(*out)->pl = p;
	return 0;
}

/* Whether the document at it has exactly one field; st is at it. */
static bool
one_field(const bson_iter_t *it, bson_iter_t *st)
{
	bson_iter_t t;

	if (!bson_iter_recurse(it, st) || !bson_iter_next(st))
		return false;
	t = *st;
	return !bson_iter_next(&t);
}

int
sp_pipeline_compile(struct sp_pipeline **out, const uint8_t *stages,
    uint32_t len, struct sp_error *err)
{
	struct sp_pipeline *p;
	struct stage **chain = NULL, **tail;
	bson_iter_t it, st;
	int n = 0, i, nchain = 0;
	char m[sizeof(err->msg)];

	*out = NULL;
	p = sp_xcalloc(1, sizeof(*p));
	sp_arena_init(&p->arena);
	sp_buf_init(&p->msg);
	p->sink.ops = &sink_ops;
	p->sink.name = "";
	p->sink.pl = p;
	p->head = &p->sink;
	if (!bson_iter_init_from_data(&it, stages, len)) {
		sp_error_set(err, "invalid BSON pipeline");
		goto fail;
	}

	/* The shape first: each stage one {"$name": spec}, $source only
	 * first, nothing after the sink. */
	while (bson_iter_next(&it)) {
		const char *name;

		if (!BSON_ITER_HOLDS_DOCUMENT(&it)) {
			stage_error(err, n, NULL,
			    "Each element of the 'pipeline' array must be an "
			    "object");
			goto fail;
		}
		if (!one_field(&it, &st)) {
			stage_error(err, n, NULL,
			    "A pipeline stage specification object must "
			    "contain exactly one field.");
			goto fail;
		}
		name = bson_iter_key(&st);
		if (strcmp(name, "$source") == 0 && n > 0) {
			bson_iter_t first;

			bson_iter_init_from_data(&first, stages, len);
			bson_iter_next(&first);
			bson_iter_recurse(&first, &st);
			bson_iter_next(&st);
			if (strcmp(bson_iter_key(&st), "$source") == 0) {
				stage_error(err, n, "$source",
				    "Only one $source stage is allowed in a "
				    "pipeline.");
			} else {
				snprintf(m, sizeof(m),
				    "First stage must be $source, found: %s",
				    bson_iter_key(&st));
				stage_error(err, 0, NULL, m);
			}
			goto fail;
		}
		n++;
	}
	if (n == 0) {
		sp_error_set(err, "Pipeline must have at least one stage");
		goto fail;
	}

	chain = sp_xcalloc((size_t)n, sizeof(*chain));
	bson_iter_init_from_data(&it, stages, len);
	for (i = 0; bson_iter_next(&it); i++) {
		const bson_value_t *spec;
		const char *name;
		struct sp_error e;

		bson_iter_recurse(&it, &st);
		bson_iter_next(&st);
		name = bson_iter_key(&st);
		spec = bson_iter_value(&st);
		if (strcmp(name, "$source") == 0) {
			if (plan_source(p, spec, &e) < 0) {
				stage_error(err, i, name, e.msg);
				goto fail;
			}
			continue;
		}
		if (is_sink(name)) {
			if (i != n - 1) {
				stage_error(err, i, name,
				    "No stages are allowed after a $merge or "
				    "$emit stage.");
				goto fail;
			}
			if (spec->value_type != BSON_TYPE_DOCUMENT) {
				snprintf(m, sizeof(m),
				    "%s specification must be an object, got "
				    "%s",
				    name, sp_expr_type_name(spec->value_type));
				stage_error(err, i, name, m);
				goto fail;
			}
			p->sink.ops = name[1] == 'e' ? &emit_ops : &merge_ops;
			p->sink.name = name[1] == 'e' ? "$emit" : "$merge";
			continue;
		}
		if (plan_stage(p, i, name, spec, &chain[nchain], err) < 0)
			goto fail;
		nchain++;
	}

	/* The stages read the metadata, or a $sort holds documents until the
	 * end of the input, when no record is going through: the source puts
	 * it in, and each document carries its own. */
	if (p->has_source && p->meta_name != NULL) {
		bson_iter_init_from_data(&it, stages, len);
		while (bson_iter_next(&it)) {
			bson_iter_recurse(&it, &st);
			bson_iter_next(&st);
			if (strcmp(bson_iter_key(&st), "$source") == 0 ||
			    is_sink(bson_iter_key(&st)))
				continue;
			if (strcmp(bson_iter_key(&st), "$redact") == 0 ||
			    strcmp(bson_iter_key(&st), "$sort") == 0 ||
			    mentions_meta(bson_iter_value(&st), p->meta_name))
				p->meta_early = true;
		}
	}

	/* Link the chain, from the end. */
	tail = &p->head;
	for (i = 0; i < nchain; i++) {
		*tail = chain[i];
		tail = &chain[i]->next;
	}
	*tail = &p->sink;
	free(chain);
	*out = p;
	return 0;
fail:
	if (chain != NULL) {
		for (i = 0; i < nchain; i++)
			chain[i]->ops->free(chain[i]);
		free(chain);
	}
	sp_pipeline_free(p);
	return -1;
}

void
sp_pipeline_free(struct sp_pipeline *p)
{
	struct stage *s, *next;

	if (p == NULL)
		return;
	for (s = p->head; s != &p->sink; s = next) {
		next = s->next;
		s->ops->free(s);
	}
	sp_expr_free(p->time_field);
	free(p->ts_name);
	free(p->meta_name);
	free(p->docs);
	free(p->doc);
	sp_arena_release(&p->arena);
	sp_buf_release(&p->msg);
	free(p);
}

void
sp_pipeline_set_sink(struct sp_pipeline *p, const struct sp_pipeline_sink *s)
{
	p->out = *s;
}

bool
sp_pipeline_reads_input(const struct sp_pipeline *p)
{
	return !p->has_documents;
}

size_t
sp_pipeline_ndocuments(const struct sp_pipeline *p)
{
	return p->ndocs;
}

int
sp_pipeline_push(struct sp_pipeline *p, const uint8_t *doc, uint32_t len,
    const struct sp_pos *pos)
{
	sp_arena_reset(&p->arena);
	p->generated = false;
	if (!p->has_source)
		return p->head->ops->push(p->head, doc, len);
	return source_push(p, doc, len, pos);
}

int
sp_pipeline_push_document(struct sp_pipeline *p, size_t i)
{
	sp_arena_reset(&p->arena);
	p->generated = true;
	return source_push(p, p->docs + p->doc[i].off, p->doc[i].len, NULL);
}

int
sp_pipeline_finish(struct sp_pipeline *p)
{
	static const uint8_t none[5] = {5, 0, 0, 0, 0};
	struct stage *s;

	/* What a stage emits now belongs to no one record. */
	doc_value(&p->meta, none, sizeof(none));
	for (s = p->head; s != &p->sink; s = s->next) {
		if (s->ops->finish == NULL)
			continue;
		sp_arena_reset(&p->arena);
		if (s->ops->finish(s) < 0)
			return -1;
	}
	return 0;
}
