/* sp-match: write the NDJSON documents that match a MongoDB $match filter. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

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

struct matcher {
	struct sp_match *m;
	bool invert;
};

/* One document: written when it matches (or not, with -v). */
static int
match_one(struct sp_run *r, const uint8_t *doc, uint32_t len, void *arg)
{
	struct matcher *mt = arg;
	struct sp_error e;
	char reason[600];
	int rc;

	rc = sp_match_exec(mt->m, doc, len, &r->arena, &e);
	if (rc < 0) {
		snprintf(reason, sizeof(reason),
		    "Failed to process input document in MatchOperator with "
		    "error: %s",
		    e.msg);
		sp_run_dead(r, "MatchOperator", reason, doc, len);
		return 0;
	}
	if (rc == mt->invert)
		return 0;
	if (r->canonical)
		sp_run_emit_doc(r, doc, len);
	else
		sp_run_emit_line(r);
	return 0;
}

static int
match_option(int ch, void *arg)
{
	struct matcher *mt = arg;

	if (ch != 'v')
		return 0;
	mt->invert = true;
	return 1;
}

static void
warn_msg(const char *msg)
{
	warnx("%s", msg);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    SP_RUN_LONGOPTS,
	    {"invert-match", no_argument, NULL, 'v'},
	    {NULL, 0, NULL, 0},
	};
	static const struct sp_run_tool tool = {
	    "filter", sp_json_parse, "v", longopts, match_option};
	struct sp_buf bson;
	struct sp_error e;
	struct sp_run r;
	struct matcher mt = {NULL, false};
	int status;

	sp_run_init(&r, PROG);
	r.warn = warn_msg;
	switch (sp_run_args(&r, &argc, &argv, &tool, &mt, &bson, &e)) {
	case SP_RUN_HELP: help(); return 0;
	case SP_RUN_VERSION: puts(sp_run_version(PROG)); return 0;
	case SP_RUN_USAGE: usage(stderr); return 2;
	case -1: errx(2, "%s", e.msg);
	}
	if (sp_match_compile(&mt.m, bson.data, (uint32_t)bson.len, &e) < 0)
		errx(2, "%s: %s", r.spec_name, e.msg);
	sp_buf_release(&bson);

	if (sp_run_open(&r, &e) < 0)
		errx(2, "--dlq: %s", e.msg);
	sp_run_input(&r, argv, argc, match_one, &mt);
	status = sp_run_close(&r);
	sp_match_free(mt.m);
	return status;
}
