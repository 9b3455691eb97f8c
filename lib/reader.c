/* reader.c: streams NDJSON lines from files and standard input. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp.h"

#define READ_CHUNK ((size_t)256 << 10)

struct sp_reader {
	char *const *paths;
	int npaths;
	int next_path; /* index of the next operand to open */
	size_t max_line;

	int fd; /* -1 when no file is open */
	bool is_stdin; /* fd is standard input: never closed */
	const char *name;
	bool eof;

	char *buf; /* unconsumed input is buf[start..end) */
	size_t cap, start, end;
	uint64_t base; /* file offset of buf[0] */
	uint64_t lineno;

	/* A line longer than max_line: its head is kept, the rest skipped. */
	bool skipping;
	uint64_t skip_len;
	struct sp_pos skip_pos;
	/* One byte more than is handed out, so the dead-letter writer can
	 * see whether the cut falls inside a UTF-8 character. */
	char keep[SP_LINE_KEEP + 1];
	size_t keep_have; /* bytes in keep, filled across reads */

	void (*idle)(void *);
	void *idle_arg;
};

struct sp_reader *
sp_reader_new(char *const *paths, int npaths, size_t max_line)
{
	struct sp_reader *r = sp_xcalloc(1, sizeof(*r));
	static char *const stdin_only[] = {"-"};

	if (npaths == 0) {
		paths = stdin_only;
		npaths = 1;
	}
	r->paths = paths;
	r->npaths = npaths;
	r->max_line = max_line ? max_line : SP_MAX_LINE_DEFAULT;
	r->fd = -1;
	r->cap = READ_CHUNK;
	r->buf = sp_xmalloc(r->cap);
	return r;
}

static void
close_file(struct sp_reader *r)
{
	if (r->fd >= 0 && !r->is_stdin)
		close(r->fd);
	r->fd = -1;
}

void
sp_reader_free(struct sp_reader *r)
{
	if (r == NULL)
		return;
	close_file(r);
	free(r->buf);
	free(r);
}

void
sp_reader_on_idle(struct sp_reader *r, void (*fn)(void *), void *arg)
{
	r->idle = fn;
	r->idle_arg = arg;
}

static int
open_next(struct sp_reader *r, struct sp_error *err)
{
	const char *path = r->paths[r->next_path++];

	r->name = path;
	r->start = r->end = 0;
	r->base = 0;
	r->lineno = 0;
	r->eof = false;
	r->skipping = false;
	r->is_stdin = strcmp(path, "-") == 0;
	if (r->is_stdin) {
		r->fd = STDIN_FILENO;
		return 0;
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return sp_error_set(err, "%s: %s", path, strerror(errno));
	return 0;
}

static bool
blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

/* Makes room at the end of buf: slides the unconsumed bytes down, then
 * grows up to the line cap (plus one byte, to see that a line is over). */
static void
make_room(struct sp_reader *r)
{
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->base += r->start;
		r->end -= r->start;
		r->start = 0;
	}
	if (r->cap - r->end < READ_CHUNK / 4 && r->cap < r->max_line + 1) {
		size_t cap = r->cap * 2;

		if (cap > r->max_line + 1)
			cap = r->max_line + 1;
		r->buf = sp_xrealloc(r->buf, cap);
		r->cap = cap;
	}
}

static int
fill(struct sp_reader *r, struct sp_error *err)
{
	ssize_t n;

	make_room(r);
	if (r->idle != NULL) {
		struct pollfd p = {.fd = r->fd, .events = POLLIN};

		if (poll(&p, 1, 0) == 0)
			r->idle(r->idle_arg);
	}
	do
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sp_error_set(err, "%s: %s", r->name, strerror(errno));
	if (n == 0)
		r->eof = true;
	r->end += (size_t)n;
	return 0;
}

/* Adds the next n bytes of the line being skipped to its kept head. */
static void
keep_more(struct sp_reader *r, const char *p, size_t n)
{
	size_t room = sizeof(r->keep) - r->keep_have;

	if (n > room)
		n = room;
	memcpy(r->keep + r->keep_have, p, n);
	r->keep_have += n;
}

/* Starts skipping an over-long line whose first bytes are at buf+start. */
static void
start_skip(struct sp_reader *r)
{
	r->skipping = true;
	r->skip_pos.file = r->name;
	r->skip_pos.line = r->lineno + 1;
	r->skip_pos.offset = r->base + r->start;
	r->keep_have = 0;
	r->skip_len = 0;
}

int
sp_reader_next(struct sp_reader *r, struct sp_line *line, struct sp_error *err)
{
	for (;;) {
		char *p, *nl;
		size_t n;

		if (r->fd < 0) {
			if (r->next_path >= r->npaths)
				return 0;
			if (open_next(r, err) < 0)
				return -1;
		}
		p = r->buf + r->start;
		n = r->end - r->start;
		nl = memchr(p, '\n', n);
		if (nl == NULL && !r->eof) {
			if (!r->skipping && n > r->max_line)
				start_skip(r);
			if (r->skipping) {
				keep_more(r, p, n);
				r->skip_len += n;
				r->start = r->end;
			}
			if (fill(r, err) < 0) {
				close_file(r);
				return -1;
			}
			continue;
		}
		if (nl == NULL && n == 0 && !r->skipping) {
			close_file(r);
			continue;
		}
		/* A whole line: up to the LF, or the rest of the file. */
		if (nl == NULL)
			nl = p + n;
		if (r->skipping) {
			size_t tail = (size_t)(nl - p);

			/* The CR of a CRLF is not part of the line. */
			if (nl < p + n && tail > 0 && p[tail - 1] == '\r')
				tail--;
			keep_more(r, p, tail);
			r->skip_len += tail;
			r->start += (size_t)(nl - p) + (nl < p + n);
			r->skipping = false;
			r->lineno++;
			line->data = r->keep;
			line->len = r->keep_have < SP_LINE_KEEP ? r->keep_have
								: SP_LINE_KEEP;
			line->pos = r->skip_pos;
			line->too_long = true;
			line->full_len = r->skip_len;
			return 1;
		}
		line->pos.file = r->name;
		line->pos.line = ++r->lineno;
		line->pos.offset = r->base + r->start;
		line->data = p;
		line->len = (size_t)(nl - p);
		line->too_long = false;
		r->start += line->len + (nl < p + n);
		if (line->len > 0 && line->data[line->len - 1] == '\r')
			line->len--;
		if (line->pos.line == 1 && line->len >= 3 &&
		    memcmp(line->data, "\xEF\xBB\xBF", 3) == 0) {
			line->data += 3;
			line->len -= 3;
		}
		if (line->len > r->max_line) {
			/* The line ended within the buffer but is over the cap
			 * (the cap is smaller than one read). */
			r->keep_have = 0;
			keep_more(r, line->data, line->len);
			line->full_len = line->len;
			line->data = r->keep;
			line->len = r->keep_have < SP_LINE_KEEP ? r->keep_have
								: SP_LINE_KEEP;
			line->too_long = true;
			return 1;
		}
		line->full_len = line->len;
		if (blank(line->data, line->len))
			continue;
		return 1;
	}
}
