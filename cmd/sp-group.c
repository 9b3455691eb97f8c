/* sp-group: group NDJSON documents as a MongoDB $group stage does. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "sp.h"

#define PROG "sp-group"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " [-cmpu] [-d file] [-L bytes] [-n name] group "
	    "[file ...]\n"
	    "       " PROG " [-cmpu] [-d file] [-L bytes] [-n name] -f "
	    "group-file [file ...]\n");
}

static void
help(void)
{
	usage(stdout);
	fputs("\n"
	      "Groups the input documents by the body of a $group stage, "
	      "{\"_id\": <expression>,\n"
	      "\"<field>\": {<accumulator>: <expression>}, ...}, and writes "
	      "one document per group\nat the end, in the order the groups "
	      "were first seen.\n\n"
	      "  -c, --canonical         write canonical Extended JSON\n"
	      "  -d, --dlq FILE          append dead letters to FILE "
	      "(default: standard error)\n"
	      "  -f, --file FILE         read the group from FILE\n"
	      "  -L, --max-line-bytes N  longest input line (default 64M); "
	      "longer is a dead letter\n"
	      "  -m, --merge             the input is partial states from "
	      "--partial runs\n"
	      "  -n, --name NAME         processorName in dead letters "
	      "(default: " PROG ")\n"
	      "  -p, --partial           write mergeable partial states "
	      "instead of results\n"
	      "  -u, --unbuffered        flush after every record\n"
	      "      --stats             print counts to standard error at "
	      "the end\n"
	      "  -h, --help              print this help\n"
	      "  -V, --version           print the version\n"
	      "\nExit status: 0 all records grouped, 1 some "
	      "became dead letters,\n2 usage, group or I/O error. "
	      "See sp-group(1) and sp(7).\n",
	    stdout);
}

struct grouper {
	struct sp_group *g;
	bool merge; /* -m */
	bool partial; /* -p */
};

#define OP "GroupOperator"

/* One document into its group, or one partial state into the groups. */
static int
group_one(struct sp_run *r, const uint8_t *doc, uint32_t len, void *arg)
{
	struct grouper *gr = arg;
	struct sp_error e;
	char reason[600];
	int rc;

	if (gr->merge)
		rc = sp_group_merge(gr->g, doc, len, &r->arena, &e);
	else
		rc = sp_group_add(gr->g, doc, len, &r->arena, &e);
	if (rc < 0) {
		snprintf(reason, sizeof(reason),
		    "Failed to process input document in " OP " with error: %s",
		    e.msg);
		sp_run_dead(r, OP, reason, doc, len);
	}
	return 0;
}

/* Every group, first seen first. A partial is always canonical: no type
 * may be lost between runs. */
static void
write_groups(struct sp_run *r, struct sp_group *g, bool partial)
{
	size_t i, n = sp_group_count(g);
	const uint8_t *doc;
	uint32_t len;
	bool canonical = r->canonical;

	if (partial)
		r->canonical = true;
	for (i = 0; i < n && r->out.err_no == 0; i++) {
		sp_arena_reset(&r->arena);
		if (sp_group_result(g, i, partial, &r->arena, &doc, &len) < 0) {
			warnx("group %zu: result exceeds the maximum BSON size",
			    i + 1);
			r->status = 2;
			continue;
		}
		sp_run_emit_doc(r, doc, len);
	}
	r->canonical = canonical;
}

static int
group_option(int ch, void *arg)
{
	struct grouper *gr = arg;

	switch (ch) {
	case 'm': gr->merge = true; return 1;
	case 'p': gr->partial = true; return 1;
	default: return 0;
	}
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
	    {"merge", no_argument, NULL, 'm'},
	    {"partial", no_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	static const struct sp_run_tool tool = {
	    "group", sp_json_parse, "mp", longopts, group_option};
	struct grouper gr = {NULL, false, false};
	struct sp_buf bson;
	struct sp_error e;
	struct sp_run r;
	size_t ngroups, nbytes;
	int status;

	sp_run_init(&r, PROG);
	r.warn = warn_msg;
	switch (sp_run_args(&r, &argc, &argv, &tool, &gr, &bson, &e)) {
	case SP_RUN_HELP: help(); return 0;
	case SP_RUN_VERSION: puts(sp_run_version(PROG)); return 0;
	case SP_RUN_USAGE: usage(stderr); return 2;
	case -1: errx(2, "%s", e.msg);
	}
	/* A partial state is about 1.4 times the size of the group it holds
	 * (canonical Extended JSON): what one run can write, a merge must be
	 * able to read, so merges take lines up to the largest -L. */
	if (gr.merge && r.max_line == SP_MAX_LINE_DEFAULT)
		r.max_line = SP_MAX_LINE_MAX;
	if (sp_group_compile(&gr.g, bson.data, (uint32_t)bson.len, &e) < 0)
		errx(2, "%s: %s", r.spec_name, e.msg);
	sp_buf_release(&bson);

	if (sp_run_open(&r, &e) < 0)
		errx(2, "--dlq: %s", e.msg);
	sp_run_input(&r, argv, argc, group_one, &gr);
	/* The groups go out at the end of the input, unless nobody is
	 * reading any more, or some input could not be read: groups of part
	 * of the input would look whole, and a partial state of them would
	 * merge without a trace (sort(1) writes nothing either). */
	if (r.status == 2)
		warnx("no groups written: the input was not read whole");
	else if (r.out.err_no == 0)
		write_groups(&r, gr.g, gr.partial);
	ngroups = sp_group_count(gr.g);
	nbytes = sp_group_bytes(gr.g);
	status = sp_run_close(&r);
	if (r.stats)
		warnx("%zu groups, %zu bytes of state", ngroups, nbytes);
	sp_group_free(gr.g);
	return status;
}
