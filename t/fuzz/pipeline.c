/* pipeline.c: libFuzzer target for sp_pipeline_parse, _compile and _push. */
/*
 * Built and run by `make fuzz` (build-fuzz/fuzz-pipeline).
 *
 * The input is a pipeline in JSON, a newline, then a document in JSON.
 * Planning must either succeed or give a message; every document the
 * pipeline writes must be valid BSON, every dead letter must have an
 * operator and a reason; nothing may crash, leak or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
emit(void *arg, const uint8_t *doc, uint32_t len)
{
	bson_t b;

	(void)arg;
	if (!bson_init_static(&b, doc, len) || !bson_validate(&b, 0, NULL))
		abort();
	return 0;
}

static void
dead(void *arg, const struct sp_dead *d)
{
	(void)arg;
	if (d->op == NULL || d->reason == NULL || d->reason[0] == '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	struct sp_pipeline_sink sink = {emit, dead, NULL};
	struct sp_buf spec, doc;
	struct sp_pipeline *p = NULL;
	struct sp_error err;
	size_t i;

	if (nl == NULL)
		return 0;
	sp_buf_init(&spec);
	sp_buf_init(&doc);
	err.msg[0] = '\0';
	if (sp_pipeline_parse(
		&spec, (const char *)data, (size_t)(nl - data), &err) < 0 ||
	    sp_pipeline_compile(&p, spec.data, (uint32_t)spec.len, &err) < 0) {
		if (err.msg[0] == '\0' || p != NULL)
			abort();
		goto out;
	}
	sp_pipeline_set_sink(p, &sink);
	if (!sp_pipeline_reads_input(p)) {
		for (i = 0; i < sp_pipeline_ndocuments(p) && i < 16; i++)
			sp_pipeline_push_document(p, i);
	} else if (sp_json_parse(&doc, (const char *)nl + 1,
		       size - (size_t)(nl - data) - 1, &err) == 0) {
		sp_pipeline_push(p, doc.data, (uint32_t)doc.len, NULL);
	}
	sp_pipeline_finish(p);
out:
	sp_pipeline_free(p);
	sp_buf_release(&spec);
	sp_buf_release(&doc);
	return 0;
}
