/* sp-match: write the NDJSON documents that match a MongoDB $match filter. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "sp.h"

#define PROG "sp-match"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " [-cuv] [-d file] [-L bytes] [-n name] filter "
	    "[file ...]\n"
	    "       " PROG " [-cuv] [-d file] [-L bytes] [-n name] -f "
	    "filter-file [file ...]\n");
}

static void
help(void)
{
	usage(stdout);
	fputs("\n"
	      "Writes each input line whose document matches the $match "
	      "filter, byte for byte.\n\n"
	      "  -c, --canonical         write matches as canonical "
	      "Extended JSON\n"
	      "  -d, --dlq FILE          append dead letters to FILE "
	      "(default: standard error)\n"
	      "  -f, --file FILE         read the filter from FILE\n"
	      "  -L, --max-line-bytes N  longest input line (default 64M); "
	      "longer is a dead letter\n"
	      "  -n, --name NAME         processorName in dead letters "
	      "(default: " PROG ")\n"
	      "  -u, --unbuffered        flush after every record\n"
	      "  -v, --invert-match      write the lines that do not match\n"
	      "      --stats             print counts to standard error at "
	      "the end\n"
	      "  -h, --help              print this help\n"
	      "  -V, --version           print the version\n"
	      "\nExit status: 0 all records passed or filtered, 1 some "
	      "became dead letters,\n2 usage, filter or I/O error. "
	      "See sp-match(1) and sp(7).\n",
	    stdout);
}

static void
version(void)
{
	char pcre[64] = "";

	pcre2_config(PCRE2_CONFIG_VERSION, pcre);
	printf(PROG " %s (libbson %s, PCRE2 %s)\n", SP_VERSION,
	    bson_get_version(), pcre);
}

/* Parses a byte count: digits with an optional K, M or G (powers of 1024),
 * at most 1G: BSON lengths are int32, and a line is parsed in one piece. */
static size_t
parse_bytes(const char *s)
{
	const unsigned long long limit = 1ULL << 30;
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		goto bad;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	}
	if (*end != '\0' || v == 0 || v > limit >> shift)
		goto bad;
	return (size_t)(v << shift);
bad:
	errx(2, "--max-line-bytes: invalid byte count '%s' (1 to 1G)", s);
}

/* Reads a whole spec file ("-" is standard input) into buf. */
static void
read_spec_file(const char *path, struct sp_buf *buf)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	size_t n;

	if (f == NULL)
		err(2, "%s", path);
	do {
		sp_buf_reserve(buf, 65536);
		n = fread(buf->data + buf->len, 1, 65536, f);
		buf->len += n;
	} while (n > 0);
	if (ferror(f))
		err(2, "%s", path);
	if (f != stdin)
		fclose(f);
}

struct flushers {
	struct sp_out *out;
	struct sp_dlq *dlq;
};

static void
flush_all(void *arg)
{
	struct flushers *fl = arg;

	sp_out_flush(fl->out);
	sp_dlq_flush(fl->dlq, NULL);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"canonical", no_argument, NULL, 'c'},
	    {"dlq", required_argument, NULL, 'd'},
	    {"file", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {"max-line-bytes", required_argument, NULL, 'L'},
	    {"name", required_argument, NULL, 'n'},
	    {"stats", no_argument, NULL, 'S'},
	    {"unbuffered", no_argument, NULL, 'u'},
	    {"invert-match", no_argument, NULL, 'v'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *dlq_path = NULL, *spec_file = NULL, *name = PROG;
	const char *spec_name = "filter";
	bool canonical = false, unbuffered = false, invert = false;
	bool stats = false;
	size_t max_line = SP_MAX_LINE_DEFAULT;
	uint64_t nin = 0, nout = 0;
	struct sp_buf spec, bson, json;
	struct sp_error e;
	struct sp_match *m = NULL;
	struct sp_reader *r;
	struct sp_dlq *dlq;
	struct sp_out out;
	struct sp_arena arena;
	struct sp_line line;
	struct flushers fl;
	int ch, rc, status = 0;

	if (getenv("SP_UNBUFFERED") != NULL && *getenv("SP_UNBUFFERED") != '\0')
		unbuffered = true;
	while ((ch = getopt_long(
		    argc, argv, "cd:f:hL:n:uvV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': canonical = true; break;
		case 'd': dlq_path = optarg; break;
		case 'f': spec_file = optarg; break;
		case 'h': help(); return 0;
		case 'L': max_line = parse_bytes(optarg); break;
		case 'n': name = optarg; break;
		case 'S': stats = true; break;
		case 'u': unbuffered = true; break;
		case 'v': invert = true; break;
		case 'V': version(); return 0;
		default: usage(stderr); return 2;
		}
	}
	argc -= optind;
	argv += optind;

	/* The filter is compiled before any input is read. */
	sp_buf_init(&spec);
	if (spec_file != NULL) {
		read_spec_file(spec_file, &spec);
		spec_name = spec_file;
	} else {
		if (argc < 1) {
			warnx("no filter given");
			usage(stderr);
			return 2;
		}
		sp_buf_append(&spec, argv[0], strlen(argv[0]));
		argc--;
		argv++;
	}
	sp_buf_init(&bson);
	if (sp_json_parse(&bson, (const char *)spec.data, spec.len, &e) < 0)
		errx(2, "%s: %s", spec_name, e.msg);
	if (sp_match_compile(&m, bson.data, (uint32_t)bson.len, &e) < 0)
		errx(2, "%s: %s", spec_name, e.msg);
	sp_buf_release(&spec);

	/* EPIPE on standard output ends the run quietly (see sp(7)). */
	signal(SIGPIPE, SIG_IGN);
	dlq = sp_dlq_new(dlq_path, name,
	    canonical ? SP_EJSON_CANONICAL : SP_EJSON_RELAXED, &e);
	if (dlq == NULL)
		errx(2, "--dlq: %s", e.msg);
	sp_out_init(&out, STDOUT_FILENO);
	out.unbuffered = unbuffered;
	r = sp_reader_new(argv, argc, max_line);
	fl.out = &out;
	fl.dlq = dlq;
	sp_reader_on_idle(r, flush_all, &fl);
	sp_arena_init(&arena);
	sp_buf_init(&json);

	while ((rc = sp_reader_next(r, &line, &e)) != 0) {
		char reason[600];

		if (rc < 0) {
			warnx("%s", e.msg);
			status = 2;
			continue;
		}
		nin++;
		if (line.too_long) {
			snprintf(reason, sizeof(reason),
			    "Failed to parse input message with error:line is "
			    "%llu bytes, longer than --max-line-bytes %zu",
			    (unsigned long long)line.full_len, max_line);
			sp_dlq_raw(
			    dlq, &line.pos, "SourceOperator", reason, &line);
			continue;
		}
		if (sp_json_parse(&bson, line.data, line.len, &e) < 0) {
			snprintf(reason, sizeof(reason),
			    "Failed to parse input message with error:%s",
			    e.msg);
			sp_dlq_raw(
			    dlq, &line.pos, "SourceOperator", reason, &line);
			continue;
		}
		sp_arena_reset(&arena);
		rc =
		    sp_match_exec(m, bson.data, (uint32_t)bson.len, &arena, &e);
		if (rc < 0) {
			snprintf(reason, sizeof(reason),
			    "Failed to process input document in "
			    "MatchOperator with error: %s",
			    e.msg);
			sp_dlq_doc(dlq, &line.pos, "MatchOperator", reason,
			    bson.data, (uint32_t)bson.len);
			continue;
		}
		if (rc == invert)
			continue;
		nout++;
		if (canonical) {
			sp_buf_reset(&json);
			sp_ejson_doc(&json, bson.data, (uint32_t)bson.len,
			    SP_EJSON_CANONICAL);
			sp_out_write(&out, json.data, json.len);
		} else {
			sp_out_write(&out, line.data, line.len);
		}
		sp_out_write(&out, "\n", 1);
		sp_out_end_record(&out);
		if (out.err_no != 0)
			break;
	}

	if (sp_out_flush(&out) < 0 && out.err_no != EPIPE) {
		warnx("standard output: %s", strerror(out.err_no));
		status = 2;
	}
	if (sp_dlq_flush(dlq, &e) < 0) {
		warnx("%s", e.msg);
		status = 2;
	}
	if (stats)
		fprintf(stderr,
		    PROG ": %llu records read, %llu written, %llu dead "
			 "letters\n",
		    (unsigned long long)nin, (unsigned long long)nout,
		    (unsigned long long)sp_dlq_count(dlq));
	if (status == 0 && sp_dlq_count(dlq) > 0)
		status = 1;

	sp_reader_free(r);
	sp_dlq_free(dlq);
	sp_out_release(&out);
	sp_arena_release(&arena);
	sp_buf_release(&bson);
	sp_buf_release(&json);
	sp_match_free(m);
	return status;
}
