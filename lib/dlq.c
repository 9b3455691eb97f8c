/* dlq.c: dead-letter records in Atlas Stream Processing's shape. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "sp.h"

struct sp_dlq {
	struct sp_out out;
	char *path; /* NULL: standard error */
	char *processor;
	unsigned flags;
	uint64_t count;
	bson_t *rec; /* reused for every record (bson_t wants 128-byte
		      * alignment, so it comes from bson_new) */
	struct sp_buf json;
};

struct sp_dlq *
sp_dlq_new(const char *path, const char *processor, unsigned flags,
    struct sp_error *err)
{
	struct sp_dlq *d;
	int fd = 2;

	if (path != NULL) {
		fd =
		    open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
		if (fd < 0) {
			sp_error_set(err, "%s: %s", path, strerror(errno));
			return NULL;
		}
	}
	d = sp_xcalloc(1, sizeof(*d));
	sp_out_init(&d->out, fd);
	d->path = path ? sp_xstrdup(path) : NULL;
	d->processor = sp_xstrdup(processor);
	d->flags = flags;
	d->rec = bson_new();
	sp_buf_init(&d->json);
	return d;
}

void
sp_dlq_free(struct sp_dlq *d)
{
	if (d == NULL)
		return;
	sp_dlq_flush(d, NULL);
	if (d->path != NULL)
		close(d->out.fd);
	sp_out_release(&d->out);
	bson_destroy(d->rec);
	sp_buf_release(&d->json);
	free(d->path);
	free(d->processor);
	free(d);
}

uint64_t
sp_dlq_count(const struct sp_dlq *d)
{
	return d->count;
}

int
sp_dlq_flush(struct sp_dlq *d, struct sp_error *err)
{
	if (sp_out_flush(&d->out) < 0)
		return sp_error_set(err, "dead letters: %s: %s",
		    d->path ? d->path : "standard error",
		    strerror(d->out.err_no));
	return 0;
}

/* _stream_meta: the document's own when it carries one (it came through
 * an earlier sp tool or from Kafka), else where the line was read. */
static void
append_meta(
    bson_t *rec, const struct sp_pos *pos, const uint8_t *doc, uint32_t len)
{
	bson_t meta, src;
	bson_iter_t it;

	if (doc != NULL && bson_iter_init_from_data(&it, doc, len) &&
	    bson_iter_find(&it, "_stream_meta") &&
	    BSON_ITER_HOLDS_DOCUMENT(&it)) {
		const uint8_t *data;
		uint32_t n;
		bson_t sub;

		bson_iter_document(&it, &n, &data);
		if (bson_init_static(&sub, data, n)) {
			bson_append_document(rec, "_stream_meta", -1, &sub);
			return;
		}
	}
	bson_append_document_begin(rec, "_stream_meta", -1, &meta);
	bson_append_document_begin(&meta, "source", -1, &src);
	bson_append_utf8(&src, "type", -1, "file", -1);
	bson_append_utf8(&src, "file", -1, pos->file, -1);
	bson_append_int64(&src, "line", -1, (int64_t)pos->line);
	bson_append_int64(&src, "offset", -1, (int64_t)pos->offset);
	bson_append_document_end(&meta, &src);
	bson_append_document_end(rec, &meta);
}

static void
append_info(struct sp_dlq *d, const char *op, const char *reason)
{
	bson_t info;

	bson_append_document_begin(d->rec, "errInfo", -1, &info);
	bson_append_utf8(&info, "reason", -1, reason, -1);
	bson_append_document_end(d->rec, &info);
	bson_append_utf8(d->rec, "operatorName", -1, op, -1);
}

static void
begin(struct sp_dlq *d, const struct sp_pos *pos, const char *op,
    const char *reason, const uint8_t *doc, uint32_t len)
{
	bson_reinit(d->rec);
	append_meta(d->rec, pos, doc, len);
	append_info(d, op, reason);
}

static void
finish(struct sp_dlq *d)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	bson_append_utf8(d->rec, "processorName", -1, d->processor, -1);
	bson_append_date_time(d->rec, "dlqTime", -1,
	    (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000);
	sp_buf_reset(&d->json);
	sp_ejson_doc(&d->json, bson_get_data(d->rec), d->rec->len, d->flags);
	sp_buf_putc(&d->json, '\n');
	sp_out_write(&d->out, d->json.data, d->json.len);
	sp_out_end_record(&d->out);
	d->count++;
}

void
sp_dlq_doc(struct sp_dlq *d, const struct sp_pos *pos, const char *op,
    const char *reason, const uint8_t *doc, uint32_t len)
{
	bson_t sub;

	begin(d, pos, op, reason, doc, len);
	/* Atlas's own words when the document does not fit in the record. */
	if (!bson_init_static(&sub, doc, len) ||
	    !bson_append_document(d->rec, "doc", -1, &sub))
		bson_append_utf8(
		    d->rec, "doc", -1, "full document too large to emit", -1);
	finish(d);
}

void
sp_dlq_doc_meta(struct sp_dlq *d, const char *meta_name, const uint8_t *meta,
    uint32_t metalen, const char *op, const char *reason, const uint8_t *doc,
    uint32_t len)
{
	bson_t sub;

	bson_reinit(d->rec);
	if (meta_name != NULL && bson_init_static(&sub, meta, metalen))
		bson_append_document(d->rec, meta_name, -1, &sub);
	append_info(d, op, reason);
	if (!bson_init_static(&sub, doc, len) ||
	    !bson_append_document(d->rec, "doc", -1, &sub))
		bson_append_utf8(
		    d->rec, "doc", -1, "full document too large to emit", -1);
	finish(d);
}

void
sp_dlq_raw(struct sp_dlq *d, const struct sp_pos *pos, const char *op,
    const char *reason, const struct sp_line *line)
{
	size_t n = line->len;

	begin(d, pos, op, reason, NULL, 0);
	/* A cut line may end inside a character: cut at its start. */
	if (line->too_long && n < line->full_len)
		while (n > 0 && ((uint8_t)line->data[n] & 0xC0) == 0x80)
			n--;
	/* Keep the exact bytes: a string when they are text, else binary. */
	if (bson_utf8_validate(line->data, n, true))
		bson_append_utf8(d->rec, "raw", -1, line->data, (int)n);
	else
		bson_append_binary(d->rec, "raw", -1, BSON_SUBTYPE_BINARY,
		    (const uint8_t *)line->data, (uint32_t)line->len);
	if (line->too_long)
		bson_append_int64(
		    d->rec, "rawLength", -1, (int64_t)line->full_len);
	finish(d);
}
