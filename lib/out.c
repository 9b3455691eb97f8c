/* out.c: a buffered writer on a file descriptor for NDJSON records. */
#include <errno.h>
#include <unistd.h>

#include "sp.h"

/* Large enough that a busy stream makes few write(2) calls. */
#define OUT_HIGH ((size_t)64 << 10)

void
sp_out_init(struct sp_out *o, int fd)
{
	o->fd = fd;
	o->unbuffered = false;
	o->err_no = 0;
	sp_buf_init(&o->buf);
}

void
sp_out_release(struct sp_out *o)
{
	sp_buf_release(&o->buf);
}

void
sp_out_write(struct sp_out *o, const void *p, size_t n)
{
	if (o->err_no != 0)
		return;
	sp_buf_append(&o->buf, p, n);
}

int
sp_out_flush(struct sp_out *o)
{
	size_t off = 0;

	while (o->err_no == 0 && off < o->buf.len) {
		ssize_t n = write(o->fd, o->buf.data + off, o->buf.len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			o->err_no = errno;
			break;
		}
		off += (size_t)n;
	}
	o->buf.len = 0;
	return o->err_no ? -1 : 0;
}

void
sp_out_end_record(struct sp_out *o)
{
	if (o->unbuffered || o->buf.len >= OUT_HIGH)
		sp_out_flush(o);
}
