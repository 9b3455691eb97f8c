/* pipeline.c: unit tests of the pipeline API (lib/pipeline.c and the stages).
 */
#include <stdlib.h>
#include <string.h>

#include "sp.h"
#include "tap.h"

/* What came out of a pipeline: each document as relaxed Extended JSON,
 * each dead letter as "op: reason", one per line. */
struct got {
	struct sp_buf out, dead;
	int stop_after; /* emit returns -1 after this many; 0: never */
	int emitted;
	bool source_meta;
};

static int
emit(void *arg, const uint8_t *doc, uint32_t len)
{
	struct got *g = arg;

	sp_ejson_doc(&g->out, doc, len, SP_EJSON_RELAXED);
	sp_buf_putc(&g->out, '\n');
	g->emitted++;
	return g->stop_after > 0 && g->emitted >= g->stop_after ? -1 : 0;
}

static void
dead(void *arg, const struct sp_dead *d)
{
	struct got *g = arg;

	sp_buf_printf(&g->dead, "%s: %s\n", d->op, d->reason);
	g->source_meta = d->source_meta;
}

static struct sp_pipeline *
compile(const char *text, struct got *g, struct sp_error *err)
{
	struct sp_pipeline_sink sink = {emit, dead, g};
	struct sp_pipeline *p = NULL;
	struct sp_buf b;

	sp_buf_init(&b);
	if (sp_pipeline_parse(&b, text, strlen(text), err) == 0 &&
	    sp_pipeline_compile(&p, b.data, (uint32_t)b.len, err) == 0)
		sp_pipeline_set_sink(p, &sink);
	sp_buf_release(&b);
	return p;
}

static int
push(struct sp_pipeline *p, const char *json)
{
	struct sp_error err;
	struct sp_buf b;
	int rc;

	sp_buf_init(&b);
	if (sp_json_parse(&b, json, strlen(json), &err) < 0)
		abort();
	rc = sp_pipeline_push(p, b.data, (uint32_t)b.len, NULL);
	sp_buf_release(&b);
	return rc;
}

static void
got_init(struct got *g)
{
	memset(g, 0, sizeof(*g));
	sp_buf_init(&g->out);
	sp_buf_init(&g->dead);
}

static void
got_release(struct got *g)
{
	sp_buf_release(&g->out);
	sp_buf_release(&g->dead);
}

int
main(void)
{
	struct sp_pipeline *p;
	struct sp_error err;
	struct got g;
	int i, rc;

	/* Planning errors name the stage, counted from 1. */
	got_init(&g);
	p = compile("[{\"$match\": {}}, {\"$frob\": 1}]", &g, &err);
	ok(p == NULL, "an unknown stage is a compile error");
	is_str(err.msg, "stage 2: Unsupported stage: $frob",
	    "the message names the stage");
	p = compile("[{\"$set\": {\"a\": 1}}, {\"$source\": {}}]", &g, &err);
	is_str(err.msg, "stage 1: First stage must be $source, found: $set",
	    "$source only first");
	p = compile("[{\"$project\": {\"a\": 1, \"b\": 0}}]", &g, &err);
	is_str(err.msg,
	    "stage 1 ($project): Invalid $project :: caused by :: Cannot do "
	    "exclusion on field b in inclusion projection",
	    "MongoDB's own words, wrapped as MongoDB wraps them");
	p = compile("[{\"$match\": {}}", &g, &err);
	ok(p == NULL && strstr(err.msg, "invalid JSON at offset") != NULL,
	    "parse errors: %s", err.msg);

	/* One document through a chain; several out of one ($unwind). */
	p = compile("[{\"$unwind\": \"$a\"}, {\"$set\": {\"b\": {\"$add\": "
		    "[\"$a\", 1]}}}, {\"$match\": {\"b\": {\"$gt\": 2}}}]",
	    &g, &err);
	ok(p != NULL, "a chain compiles");
	ok(sp_pipeline_reads_input(p), "no $source: it reads input");
	rc = push(p, "{\"a\": [1, 2, 3]}");
	is_int(rc, 0, "push returns 0");
	is_str(sp_buf_cstr(&g.out), "{\"a\":2,\"b\":3}\n{\"a\":3,\"b\":4}\n",
	    "each element goes through the rest of the chain");
	is_int(sp_pipeline_finish(p), 0, "finish returns 0");

	/* The sink can stop the stream, even in the middle of an $unwind. */
	sp_buf_reset(&g.out);
	g.emitted = 0;
	g.stop_after = 1;
	rc = push(p, "{\"a\": [5, 6, 7]}");
	is_int(rc, -1, "push returns -1 when the sink stops");
	is_int(g.emitted, 1, "and nothing more is emitted");
	sp_pipeline_free(p);
	got_release(&g);

	/* A failing stage: a dead letter, and the stream goes on. */
	got_init(&g);
	p = compile("[{\"$unwind\": \"$a\"}, {\"$addFields\": {\"r\": "
		    "{\"$divide\": [1, \"$a\"]}}}]",
	    &g, &err);
	rc = push(p, "{\"a\": [0, 4]}");
	is_int(rc, 0, "a dead letter does not stop the push");
	is_str(sp_buf_cstr(&g.dead),
	    "AddFieldsOperator: Failed to process input document in "
	    "AddFieldsOperator with error: can't $divide by zero\n",
	    "the dead letter has Atlas's operator name and reason");
	is_str(sp_buf_cstr(&g.out), "{\"a\":4,\"r\":0.25}\n",
	    "the next element is written");
	ok(!g.source_meta, "without $source, no stream metadata of its own");
	sp_pipeline_free(p);
	got_release(&g);

	/* $source.documents: no input; _ts and _stream_meta. */
	got_init(&g);
	p = compile("[{\"$source\": {\"documents\": [{\"t\": {\"$date\": "
		    "\"2024-01-01T00:00:00Z\"}}, {\"t\": 1}], \"timeField\": "
		    "\"$t\"}}]",
	    &g, &err);
	ok(p != NULL && !sp_pipeline_reads_input(p),
	    "$source.documents reads no input");
	is_int(sp_pipeline_ndocuments(p), 2, "two documents");
	for (i = 0; i < 2; i++)
		sp_pipeline_push_document(p, (size_t)i);
	is_str(sp_buf_cstr(&g.out),
	    "{\"t\":{\"$date\":\"2024-01-01T00:00:00Z\"},\"_ts\":{\"$date\":"
	    "\"2024-01-01T00:00:00Z\"},\"_stream_meta\":{\"source\":{\"type\":"
	    "\"generated\"}}}\n",
	    "_ts from timeField, _stream_meta at the sink");
	is_str(sp_buf_cstr(&g.dead),
	    "DocumentsDataSourceOperator: Failed to extract timestamp from "
	    "document, extracted timestampVal: 1\n",
	    "a timeField that is not a date");
	ok(g.source_meta, "the dead letter carries the source's metadata");
	sp_pipeline_free(p);
	got_release(&g);

	sp_pipeline_free(NULL);
	ok(1, "sp_pipeline_free(NULL) is a no-op");
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
