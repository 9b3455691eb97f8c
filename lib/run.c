/* run.c: what every tool shares: common options, the read loop, exit status. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "sp.h"

/*
 * A tool's main reads its command line with sp_run_args (its own letters
 * to a callback), compiles its spec, then calls sp_run_open,
 * sp_run_input with a callback per document, and sp_run_close for the
 * exit status. Everything a record can run into on the way (a file that
 * cannot be opened, a line that is not a document, a stage that fails) is
 * handled here the same way for every tool.
 */

struct sp_run_state {
	struct sp_reader *reader;
	struct sp_buf bson; /* the current record's document */
	struct sp_buf json; /* re-serialized output */
};

void
sp_run_init(struct sp_run *r, const char *prog)
{
	const char *u = getenv("SP_UNBUFFERED");

	memset(r, 0, sizeof(*r));
	r->prog = prog;
	r->name = prog;
	r->max_line = SP_MAX_LINE_DEFAULT;
	r->unbuffered = u != NULL && *u != '\0';
}

/* Parses a byte count: digits with an optional K, M or G (powers of 1024),
 * at most 1G: BSON lengths are int32, and a line is parsed in one piece. */
static int
parse_bytes(const char *s, size_t *out, struct sp_error *err)
{
	const unsigned long long limit = SP_MAX_LINE_MAX;
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
	*out = (size_t)(v << shift);
	return 0;
bad:
	return sp_error_set(
	    err, "--max-line-bytes: invalid byte count '%s' (1 to 1G)", s);
}

/*
 * Takes one of the common options (c d f L n u --stats; h and V stay with
 * the tool). Returns 1 when ch was one, 0 when it is not common, -1 for a
 * bad argument with err set ("--max-line-bytes: invalid byte count ...").
 */
static int
run_option(struct sp_run *r, int ch, const char *arg, struct sp_error *err)
{
	switch (ch) {
	case 'c': r->canonical = true; return 1;
	case 'd': r->dlq_path = arg; return 1;
	case 'f': r->spec_file = arg; return 1;
	case 'L': return parse_bytes(arg, &r->max_line, err) < 0 ? -1 : 1;
	case 'n': r->name = arg; return 1;
	case 'u': r->unbuffered = true; return 1;
	case SP_RUN_OPT_STATS: r->stats = true; return 1;
	default: return 0;
	}
}

const char *
sp_run_version(const char *prog)
{
	static char buf[256];
	char pcre[64] = "";

	pcre2_config(PCRE2_CONFIG_VERSION, pcre);
	snprintf(buf, sizeof(buf), "%s %s (libbson %s, PCRE2 %s)", prog,
	    SP_VERSION, bson_get_version(), pcre);
	return buf;
}

int
sp_read_file(const char *path, struct sp_buf *buf, struct sp_error *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	size_t n;

	if (f == NULL)
		return sp_error_set(err, "%s: %s", path, strerror(errno));
	do {
		sp_buf_reserve(buf, 65536);
		n = fread(buf->data + buf->len, 1, 65536, f);
		buf->len += n;
	} while (n > 0);
	if (ferror(f)) {
		sp_error_set(err, "%s: %s", path, strerror(errno));
		if (f != stdin)
			fclose(f);
		return -1;
	}
	if (f != stdin)
		fclose(f);
	return 0;
}

/*
 * The spec: the -f file when one was given, else the first operand, which
 * is then taken off (*argc, *argv). Appends it to spec and points *name at
 * what messages call it: the file, or what. Returns 0; 1 when there is
 * neither; -1 with err when the file cannot be read.
 */
static int
run_spec(const struct sp_run *r, int *argc, char ***argv, const char *what,
    struct sp_buf *spec, const char **name, struct sp_error *err)
{
	if (r->spec_file != NULL) {
		*name = r->spec_file;
		return sp_read_file(r->spec_file, spec, err);
	}
	if (*argc < 1)
		return 1;
	*name = what;
	sp_buf_append(spec, (*argv)[0], strlen((*argv)[0]));
	(*argc)--;
	(*argv)++;
	return 0;
}

static void warn(struct sp_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
warn(struct sp_run *r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->warn != NULL)
		r->warn(msg);
}

int
sp_run_args(struct sp_run *r, int *argc, char ***argv,
    const struct sp_run_tool *tool, void *arg, struct sp_buf *bson,
    struct sp_error *err)
{
	char shortopts[64];
	struct sp_buf spec;
	int ch, rc;

	snprintf(shortopts, sizeof(shortopts), "%s%s", SP_RUN_SHORTOPTS,
	    tool->shortopts != NULL ? tool->shortopts : "");
	while ((ch = getopt_long(
		    *argc, *argv, shortopts, tool->longopts, NULL)) != -1) {
		if (tool->option != NULL && tool->option(ch, arg))
			continue;
		switch (ch) {
		case 'h': return SP_RUN_HELP;
		case 'V': return SP_RUN_VERSION;
		default:
			rc = run_option(r, ch, optarg, err);
			if (rc < 0)
				return -1;
			if (rc == 0)
				return SP_RUN_USAGE;
			break;
		}
	}
	*argc -= optind;
	*argv += optind;

	/* The spec is parsed before any input is read. */
	sp_buf_init(&spec);
	sp_buf_init(bson);
	rc = run_spec(r, argc, argv, tool->what, &spec, &r->spec_name, err);
	if (rc == 1) {
		warn(r, "no %s given", tool->what);
		rc = SP_RUN_USAGE;
	} else if (rc == 0 &&
	    tool->parse(bson, (const char *)spec.data, spec.len, err) < 0) {
		char msg[sizeof(err->msg)];

		memcpy(msg, err->msg, sizeof(msg));
		rc = sp_error_set(err, "%s: %s", r->spec_name, msg);
	}
	sp_buf_release(&spec);
	if (rc != 0)
		sp_buf_release(bson);
	return rc;
}

static void
flush_all(void *arg)
{
	struct sp_run *r = arg;

	sp_out_flush(&r->out);
	sp_dlq_flush(r->dlq, NULL);
}

int
sp_run_open(struct sp_run *r, struct sp_error *err)
{
	/* EPIPE on standard output ends the run quietly (see sp(7)). */
	signal(SIGPIPE, SIG_IGN);
	r->dlq = sp_dlq_new(r->dlq_path, r->name,
	    r->canonical ? SP_EJSON_CANONICAL : SP_EJSON_RELAXED, err);
	if (r->dlq == NULL)
		return -1;
	sp_out_init(&r->out, STDOUT_FILENO);
	r->out.unbuffered = r->unbuffered;
	sp_arena_init(&r->arena);
	r->st = sp_xcalloc(1, sizeof(*r->st));
	sp_buf_init(&r->st->bson);
	sp_buf_init(&r->st->json);
	return 0;
}

void
sp_run_input(
    struct sp_run *r, char *const *paths, int npaths, sp_run_fn fn, void *arg)
{
	struct sp_run_state *st = r->st;
	struct sp_line line;
	struct sp_error e;
	char reason[600];
	int rc, i;

	/* "-f -" took standard input for the spec: reading it again for
	 * input would silently find nothing. */
	if (r->spec_file != NULL && strcmp(r->spec_file, "-") == 0) {
		for (i = 0; i < npaths && strcmp(paths[i], "-") != 0; i++)
			;
		if (npaths == 0 || i < npaths) {
			warn(r,
			    "-f -: standard input holds the spec; name "
			    "the input files");
			r->status = 2;
			return;
		}
	}
	st->reader = sp_reader_new(paths, npaths, r->max_line);
	sp_reader_on_idle(st->reader, flush_all, r);
	while ((rc = sp_reader_next(st->reader, &line, &e)) != 0) {
		if (rc < 0) {
			warn(r, "%s", e.msg);
			r->status = 2;
			continue;
		}
		r->nin++;
		r->line = &line;
		r->pos = &line.pos;
		if (line.too_long) {
			snprintf(reason, sizeof(reason),
			    "Failed to parse input message with error:line is "
			    "%llu bytes, longer than --max-line-bytes %zu",
			    (unsigned long long)line.full_len, r->max_line);
			sp_dlq_raw(
			    r->dlq, &line.pos, "SourceOperator", reason, &line);
			continue;
		}
		if (sp_json_parse(&st->bson, line.data, line.len, &e) < 0) {
			snprintf(reason, sizeof(reason),
			    "Failed to parse input message with error:%s",
			    e.msg);
			sp_dlq_raw(
			    r->dlq, &line.pos, "SourceOperator", reason, &line);
			continue;
		}
		sp_arena_reset(&r->arena);
		if (fn(r, st->bson.data, (uint32_t)st->bson.len, arg) < 0)
			break;
		if (r->out.err_no != 0)
			break;
	}
	r->line = NULL;
	r->pos = NULL;
	sp_reader_free(st->reader);
	st->reader = NULL;
}

static void
end_record(struct sp_run *r)
{
	sp_out_write(&r->out, "\n", 1);
	sp_out_end_record(&r->out);
	r->nout++;
}

void
sp_run_emit_line(struct sp_run *r)
{
	sp_out_write(&r->out, r->line->data, r->line->len);
	end_record(r);
}

void
sp_run_emit_doc(struct sp_run *r, const uint8_t *doc, uint32_t len)
{
	struct sp_buf *json = &r->st->json;

	sp_buf_reset(json);
	sp_ejson_doc(json, doc, len,
	    r->canonical ? SP_EJSON_CANONICAL : SP_EJSON_RELAXED);
	sp_out_write(&r->out, json->data, json->len);
	end_record(r);
}

void
sp_run_dead(struct sp_run *r, const char *op, const char *reason,
    const uint8_t *doc, uint32_t len)
{
	static const struct sp_pos nowhere = {"-", 0, 0};

	sp_dlq_doc(
	    r->dlq, r->pos != NULL ? r->pos : &nowhere, op, reason, doc, len);
}

int
sp_run_close(struct sp_run *r)
{
	struct sp_error e;
	int status = r->status;

	if (sp_out_flush(&r->out) < 0 && r->out.err_no != EPIPE) {
		warn(r, "standard output: %s", strerror(r->out.err_no));
		status = 2;
	}
	if (sp_dlq_flush(r->dlq, &e) < 0) {
		warn(r, "%s", e.msg);
		status = 2;
	}
	if (r->stats)
		warn(r, "%llu records read, %llu written, %llu dead letters",
		    (unsigned long long)r->nin, (unsigned long long)r->nout,
		    (unsigned long long)sp_dlq_count(r->dlq));
	if (status == 0 && sp_dlq_count(r->dlq) > 0)
		status = 1;
	sp_dlq_free(r->dlq);
	r->dlq = NULL;
	sp_out_release(&r->out);
	sp_arena_release(&r->arena);
	sp_buf_release(&r->st->bson);
	sp_buf_release(&r->st->json);
	free(r->st);
	r->st = NULL;
	return status;
}
