/* util.c: errors, allocation that cannot fail, the growable byte buffer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp.h"

int
sp_error_set(struct sp_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void
sp_oom(void)
{
	static const char msg[] = "sp: out of memory\n";

	/* stdio may itself need memory; write(2) does not. */
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	exit(2);
}

void *
sp_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		sp_oom();
	return p;
}

void *
sp_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		sp_oom();
	return p;
}

void *
sp_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		sp_oom();
	return p;
}

char *
sp_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(sp_xmalloc(n), s, n);
}

void
sp_buf_init(struct sp_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
sp_buf_release(struct sp_buf *b)
{
	free(b->data);
	sp_buf_init(b);
}

uint8_t *
sp_buf_reserve(struct sp_buf *b, size_t n)
{
	/* Keep one spare byte so sp_buf_cstr never reallocates. */
	if (b->cap - b->len < n + 1) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap - b->len < n + 1) {
			if (cap > SIZE_MAX / 2)
				sp_oom();
			cap *= 2;
		}
		b->data = sp_xrealloc(b->data, cap);
		b->cap = cap;
	}
	return b->data + b->len;
}

void
sp_buf_append(struct sp_buf *b, const void *p, size_t n)
{
	memcpy(sp_buf_reserve(b, n), p, n);
	b->len += n;
}

void
sp_buf_putc(struct sp_buf *b, int c)
{
	*sp_buf_reserve(b, 1) = (uint8_t)c;
	b->len++;
}

void
sp_buf_puts(struct sp_buf *b, const char *s)
{
	sp_buf_append(b, s, strlen(s));
}

void
sp_buf_printf(struct sp_buf *b, const char *fmt, ...)
{
	va_list ap;
	char probe[1];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(probe, sizeof(probe), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sp_buf_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

const char *
sp_buf_cstr(struct sp_buf *b)
{
	sp_buf_reserve(b, 0);
	b->data[b->len] = '\0';
	return (const char *)b->data;
}
