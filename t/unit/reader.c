/* reader.c: unit tests of the NDJSON line reader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

	p[0] = write_file("d", "", 0);
	snprintf(p[0], 256, "%s", dir);
	s = slurp(p, 1, 0, &errors);
	is_int(errors, 1, "a directory operand is an error");
	free(s);

	if (system("rm -rf /tmp/sp-reader.*") != 0)
		return 1;
	return done_testing();
}
