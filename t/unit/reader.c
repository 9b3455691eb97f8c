/* reader.c: unit tests of the NDJSON line reader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sp.h"
#include "tap.h"

static char dir[] = "/tmp/sp-reader.XXXXXX";

static char *
write_file(const char *name, const void *data, size_t n)
{
	static char paths[8][256];
	static int k;
	char *p = paths[k++ % 8];
	FILE *f;

	snprintf(p, 256, "%s/%s", dir, name);
	f = fopen(p, "wb");
	fwrite(data, 1, n, f);
	fclose(f);
	return p;
}

/* Reads every line of the files into one string "line|line|...". */
static char *
slurp(char **paths, int n, size_t max_line, int *errors)
{
	struct sp_reader *r = sp_reader_new(paths, n, max_line);
	struct sp_buf b;
	struct sp_line line;
	struct sp_error e;
	int rc;

	sp_buf_init(&b);
	*errors = 0;
	while ((rc = sp_reader_next(r, &line, &e)) != 0) {
		if (rc < 0) {
			(*errors)++;
			continue;
		}
		if (line.too_long)
			sp_buf_printf(&b, "LONG(%llu,%zu)@%llu:%llu|",
			    (unsigned long long)line.full_len, line.len,
			    (unsigned long long)line.pos.line,
			    (unsigned long long)line.pos.offset);
		else {
			sp_buf_append(&b, line.data, line.len);
			sp_buf_printf(&b, "@%llu:%llu|",
			    (unsigned long long)line.pos.line,
			    (unsigned long long)line.pos.offset);
		}
	}
	sp_reader_free(r);
	return (char *)sp_buf_cstr(&b);
}

int
main(void)
{
	char *p[4], *s, *big;
	int errors;
	size_t n;

	if (mkdtemp(dir) == NULL)
		return 1;

	p[0] = write_file("a", "{\"a\":1}\n{\"b\":2}\n", 16);
	s = slurp(p, 1, 0, &errors);
	is_str(s, "{\"a\":1}@1:0|{\"b\":2}@2:8|", "two LF lines, positions");
	free(s);

	p[0] = write_file("crlf", "{}\r\n\r\n  \t\n{\"x\":1}", 17);
	s = slurp(p, 1, 0, &errors);
	is_str(s, "{}@1:0|{\"x\":1}@4:10|",
	    "CRLF stripped, blank lines skipped but counted, last line "
	    "without LF");
	free(s);

	p[0] = write_file("bom", "\xEF\xBB\xBF{}\n", 6);
	s = slurp(p, 1, 0, &errors);
	is_str(s, "{}@1:0|", "byte order mark dropped");
	free(s);

	p[0] = write_file("empty", "", 0);
	p[1] = write_file("b", "1\n", 2);
	p[2] = "/nonexistent/file";
	p[3] = write_file("c", "2", 1);
	s = slurp(p, 4, 0, &errors);
	is_str(s, "1@1:0|2@1:0|", "several files, positions per file");
	is_int(errors, 1, "a missing file is one error and reading goes on");
	free(s);

	p[0] = write_file("long", "12345678\nabc\n1234567890123\nxy", 29);
	s = slurp(p, 1, 8, &errors);
	is_str(s, "12345678@1:0|abc@2:9|LONG(13,13)@3:13|xy@4:27|",
	    "a line over the cap is cut, the next line is intact");
	free(s);

	/* Over-long lines that span many buffer refills must not be held. */
	n = (size_t)3 << 20;
	big = malloc(n + 64);
	memset(big, 'x', n);
	memcpy(big + n, "\n{}\n", 4);
	p[0] = write_file("huge", big, n + 4);
	s = slurp(p, 1, 1 << 20, &errors);
	is_str(s, "LONG(3145728,4096)@1:0|{}@2:3145729|",
	    "a 3 MiB line over a 1 MiB cap: head kept, rest skipped");
	free(s);
	s = slurp(p, 1, 0, &errors);
	ok(strlen(s) == n + strlen("@1:0|{}@2:3145729|"),
	    "the same line under the default cap is read whole");
	free(s);

	/* A line longer than one read, but under the cap. */
	memset(big, 'y', n);
	memcpy(big + n, "\r\n", 2);
	p[0] = write_file("big", big, n + 2);
	s = slurp(p, 1, 0, &errors);
	ok(strlen(s) == n + 5 && s[n] == '@', "a 3 MiB CRLF line whole");
	free(s);
	free(big);

	/* An over-long line that arrives in pieces through a pipe: its head
	 * is kept across reads, up to SP_LINE_KEEP bytes. */
	{
		int fds[2], st;
		pid_t pid;
		char head[SP_LINE_KEEP + 1];
		struct sp_reader *r;
		struct sp_line line;
		struct sp_error e;

		if (pipe(fds) != 0)
			return 1;
		/* The child must not inherit TAP lines still in the buffer
		 * (under valgrind its exit flushes them a second time). */
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			char chunk[3000];

			close(fds[0]);
			memset(chunk, 'p', sizeof(chunk));
			if (write(fds[1], "{\"a\":\"", 6) != 6 ||
			    write(fds[1], chunk, 100) != 100)
				_exit(1);
			usleep(200000);
			for (int k = 0; k < 3; k++)
				if (write(fds[1], chunk, sizeof(chunk)) !=
				    (ssize_t)sizeof(chunk))
					_exit(1);
			if (write(fds[1], "\"}\r\n{}\n", 6) != 6)
				_exit(1);
			_exit(0);
		}
		close(fds[1]);
		dup2(fds[0], 0);
		close(fds[0]);
		p[0] = "-";
		r = sp_reader_new(p, 1, 50);
		ok(sp_reader_next(r, &line, &e) == 1 && line.too_long,
		    "piecewise over-long line is too long");
		memcpy(head, "{\"a\":\"", 6);
		memset(head + 6, 'p', sizeof(head) - 6);
		is_int(line.len, SP_LINE_KEEP, "its head is SP_LINE_KEEP bytes");
		ok(memcmp(line.data, head, SP_LINE_KEEP + 1) == 0,
		    "the head (and the byte after it) are the line's own bytes");
		is_int(line.full_len, 6 + 100 + 9000 + 2,
		    "full length counted across reads, CR not included");
		ok(sp_reader_next(r, &line, &e) == 1 && !line.too_long &&
			line.len == 2 && line.pos.line == 2,
		    "the next line is read whole");
		sp_reader_free(r);
		waitpid(pid, &st, 0);
	}

	p[0] = write_file("d", "", 0);
	snprintf(p[0], 256, "%s", dir);
	s = slurp(p, 1, 0, &errors);
	is_int(errors, 1, "a directory operand is an error");
	free(s);

	if (system("rm -rf /tmp/sp-reader.*") != 0)
		return 1;
	return done_testing();
}
