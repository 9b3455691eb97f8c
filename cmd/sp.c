/* sp: run an Atlas Stream Processing pipeline over NDJSON documents. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "sp.h"

#define PROG "sp"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " [-cu] [-d file] [-L bytes] [-n name] pipeline "
	    "[file ...]\n"
	    "       " PROG " [-cu] [-d file] [-L bytes] [-n name] -f "
	    "pipeline-file [file ...]\n");
}

static void
help(void)
{
	usage(stdout);
	fputs(
	    "\n"
	    "Runs each input document through the Atlas Stream Processing "
	    "pipeline\n(a JSON array of stages) and writes what comes out.\n\n"
	    "  -c, --canonical         write canonical Extended JSON\n"
	    "  -d, --dlq FILE          append dead letters to FILE "
	    "(default: standard error)\n"
	    "  -f, --file FILE         read the pipeline from FILE\n"
	    "  -L, --max-line-bytes N  longest input line (default 64M); "
	    "longer is a dead letter\n"
	    "  -n, --name NAME         processorName in dead letters "
	    "(default: " PROG ")\n"
	    "  -u, --unbuffered        flush after every record\n"
	    "      --stats             print counts to standard error at "
	    "the end\n"
	    "  -h, --help              print this help\n"
	    "  -V, --version           print the version\n"
	    "\nExit status: 0 all records passed or filtered, 1 some "
	    "became dead letters,\n2 usage, pipeline or I/O error. "
	    "See sp(1) and sp(7).\n",
	    stdout);
}

static void
warn_msg(const char *msg)
{
	warnx("%s", msg);
}

/* The pipeline's output: one line each, as long as anyone reads it. */
static int
emit(void *arg, const uint8_t *doc, uint32_t len)
{
	struct sp_run *r = arg;

	sp_run_emit_doc(r, doc, len);
	return r->out.err_no != 0 ? -1 : 0;
}

static void
dead(void *arg, const struct sp_dead *d)
{
	struct sp_run *r = arg;

	if (d->source_meta)
		sp_dlq_doc_meta(r->dlq, d->meta_name, d->meta, d->metalen,
		    d->op, d->reason, d->doc, d->len);
	else
		sp_run_dead(r, d->op, d->reason, d->doc, d->len);
}

static int
push_one(struct sp_run *r, const uint8_t *doc, uint32_t len, void *arg)
{
	return sp_pipeline_push(arg, doc, len, r->pos);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    SP_RUN_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	static const struct sp_run_tool tool = {
	    "pipeline", sp_pipeline_parse, NULL, longopts, NULL};
	struct sp_pipeline_sink sink;
	struct sp_pipeline *p;
	struct sp_buf bson;
	struct sp_error e;
	struct sp_run r;
	size_t i, n;
	int rc;

	sp_run_init(&r, PROG);
	r.warn = warn_msg;
	switch (sp_run_args(&r, &argc, &argv, &tool, NULL, &bson, &e)) {
	case SP_RUN_HELP: help(); return 0;
	case SP_RUN_VERSION: puts(sp_run_version(PROG)); return 0;
	case SP_RUN_USAGE: usage(stderr); return 2;
	case -1: errx(2, "%s", e.msg);
	}
	/* The pipeline is planned and compiled before any input is read. */
	if (sp_pipeline_compile(&p, bson.data, (uint32_t)bson.len, &e) < 0)
		errx(2, "%s: %s", r.spec_name, e.msg);
	sp_buf_release(&bson);
	if (!sp_pipeline_reads_input(p) && argc > 0)
		errx(2,
		    "%s: $source holds the documents: no input file is "
		    "read",
		    r.spec_name);

	if (sp_run_open(&r, &e) < 0)
		errx(2, "--dlq: %s", e.msg);
	sink.emit = emit;
	sink.dead = dead;
	sink.arg = &r;
	sp_pipeline_set_sink(p, &sink);
	rc = 0;
	if (sp_pipeline_reads_input(p)) {
		sp_run_input(&r, argv, argc, push_one, p);
	} else {
		n = sp_pipeline_ndocuments(p);
		for (i = 0; i < n && rc == 0; i++) {
			r.nin++;
			rc = sp_pipeline_push_document(p, i);
		}
	}
	/* Stages that hold documents give them at the end of the input,
	 * unless nobody is reading any more. */
	if (r.out.err_no == 0)
		sp_pipeline_finish(p);
	rc = sp_run_close(&r);
	sp_pipeline_free(p);
	return rc;
}
