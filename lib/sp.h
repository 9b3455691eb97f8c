/* sp.h: everything cmd/ may call from lib/ (libsp.a). */
#ifndef SP_H
#define SP_H

/*
 * Ownership, once for the whole library:
 * - sp_<module>_new() returns a new object the caller frees with
 *   sp_<module>_free(); every _free accepts NULL.
 * - sp_<module>_init() sets up a caller-owned struct that the caller tears
 *   down with sp_<module>_release().
 * - Values (bson_value_t) handed out by lib/ are borrowed: they point into a
 *   document buffer or into an arena and live as long as that buffer or
 *   until the arena is reset. Borrowed results are const.
 * - lib/ never prints and never exits, except on running out of memory
 *   (sp_oom), which prints one line and exits 2. Errors come back as a
 *   status plus a filled struct sp_error; cmd/ reports them.
 *
 * A "missing" value (a field that is absent) is a bson_value_t whose
 * value_type is BSON_TYPE_EOD.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#define SP_VERSION "0.1.0"

/* ---------------------------------------------------------------- errors */

struct sp_error {
	char msg[512];
};

/* Formats into err->msg (printf-style). Always returns -1 so callers can
 * write `return sp_error_set(err, "...")`. err may be NULL. */
int sp_error_set(struct sp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "sp: out of memory" to stderr and exits 2. */
void sp_oom(void) __attribute__((noreturn));

/* malloc/realloc/strdup that call sp_oom on failure. */
void *sp_xmalloc(size_t n);
void *sp_xcalloc(size_t n, size_t size);
void *sp_xrealloc(void *p, size_t n);
char *sp_xstrdup(const char *s);

/* ------------------------------------------------------------ byte buffer */

/* A growable byte buffer. Caller-owned struct: sp_buf_init/sp_buf_release.
 * data is always allocated with at least one spare byte, so
 * sp_buf_cstr() can NUL-terminate. */
struct sp_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

void sp_buf_init(struct sp_buf *b);
void sp_buf_release(struct sp_buf *b);
/* Makes room for n more bytes; returns a pointer to data + len. */
uint8_t *sp_buf_reserve(struct sp_buf *b, size_t n);
void sp_buf_append(struct sp_buf *b, const void *p, size_t n);
void sp_buf_putc(struct sp_buf *b, int c);
void sp_buf_puts(struct sp_buf *b, const char *s);
void sp_buf_printf(struct sp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* NUL-terminates (without counting the NUL in len) and returns data. */
const char *sp_buf_cstr(struct sp_buf *b);
static inline void
sp_buf_reset(struct sp_buf *b)
{
	b->len = 0;
}

/* ------------------------------------------------------------------ arena */

/* A bump allocator for per-record scratch values (expression results).
 * sp_arena_reset() frees everything at once; memory is kept for reuse, so
 * the steady state allocates nothing. Caller-owned struct. */
struct sp_arena_block;
struct sp_arena {
	struct sp_arena_block *head;
	struct sp_arena_block *cur;
	size_t used;
};

void sp_arena_init(struct sp_arena *a);
void sp_arena_release(struct sp_arena *a);
void sp_arena_reset(struct sp_arena *a);
/* Returns n bytes aligned to 16, valid until the next reset. Never NULL. */
void *sp_arena_alloc(struct sp_arena *a, size_t n);
/* Copies n bytes into the arena (and NUL-terminates the copy). */
void *sp_arena_dup(struct sp_arena *a, const void *p, size_t n);

/* A point to come back to: sp_arena_rewind reclaims what was allocated
 * after sp_arena_mark (and keeps what was before), so a stage that emits
 * many documents from one record ($unwind) runs in constant memory. */
struct sp_arena_mark {
	struct sp_arena_block *cur;
	size_t used;
};
void sp_arena_mark(const struct sp_arena *a, struct sp_arena_mark *m);
void sp_arena_rewind(struct sp_arena *a, const struct sp_arena_mark *m);

/* ----------------------------------------------------- JSON -> BSON parse */

/*
 * Parses one JSON text (a whole NDJSON line without its line terminator)
 * that must be a JSON object, into BSON. Strict JSON (RFC 8259): no NaN,
 * Infinity, comments, trailing commas, single quotes, control characters in
 * strings, invalid UTF-8 or trailing garbage; a top-level array or scalar is
 * an error. MongoDB Extended JSON v2 wrappers, canonical, relaxed and the
 * legacy forms mongoimport accepts ($oid, $date, $numberInt, $numberLong,
 * $numberDouble, $numberDecimal, $binary, $uuid, $regularExpression,
 * $regex/$options, $timestamp, $symbol, $code, $scope, $dbPointer, $minKey,
 * $maxKey, $undefined) become the BSON types they name. A malformed wrapper
 * (e.g. {"$oid": 5}) is an error. Plain integers become int32 when they fit,
 * else int64, else double; numbers with a fraction or exponent are doubles.
 *
 * out is reset and receives the BSON document bytes (out->len is the BSON
 * length). Returns 0, or -1 with err->msg saying what and where (byte
 * offset), e.g. "invalid JSON at offset 12: expected ':'".
 */
int sp_json_parse(
    struct sp_buf *out, const char *text, size_t len, struct sp_error *err);

/* ----------------------------------------------------- BSON -> Ext. JSON */

#define SP_EJSON_RELAXED 0u
#define SP_EJSON_CANONICAL 1u

/*
 * Appends the document (compact, no spaces, no newline) as MongoDB Extended
 * JSON v2, relaxed or canonical, written as mongoexport writes it. The
 * document must be valid BSON (as made by sp_json_parse or libbson).
 */
void sp_ejson_doc(
    struct sp_buf *out, const uint8_t *doc, uint32_t len, unsigned flags);
/* Appends one value. A missing value (EOD) appends nothing. */
void sp_ejson_value(struct sp_buf *out, const bson_value_t *v, unsigned flags);
/* Appends s as a JSON string literal (quotes and escapes). */
void sp_ejson_string(struct sp_buf *out, const char *s, size_t len);

/* ------------------------------------------------------------ comparison */

/*
 * MongoDB's canonical type rank (the cross-type order): MinKey -1,
 * missing/undefined 0, null 5, numbers 10, string/symbol 15, object 20,
 * array 25, binData 30, objectId 35, bool 40, date 45, timestamp 47,
 * regex 50, dbPointer 55, code 60, codeWScope 65, MaxKey 127.
 */
int sp_canonical_type(bson_type_t t);

/*
 * Compares two values in MongoDB's order (BSONElement::compareElements /
 * Value::compare): canonical type first, then the value. Numbers compare
 * by exact mathematical value across int32, int64, double and decimal128;
 * NaN is below every number and equal to NaN (double or decimal). Strings
 * are binary. Objects compare pair by pair (type, then name, then value);
 * arrays element by element. Returns <0, 0, >0. Missing (EOD) ranks with
 * undefined, below null: callers that want "missing sorts as null" map it
 * first.
 */
int sp_value_compare(const bson_value_t *a, const bson_value_t *b);

/* True for a double or decimal128 NaN. */
bool sp_value_is_nan(const bson_value_t *v);
/* True for int32, int64, double, decimal128. */
bool sp_value_is_number(const bson_value_t *v);

/* ----------------------------------------------------------------- regex */

struct sp_regex;

/*
 * Compiles a MongoDB regex (PCRE2, UTF-8) with options from "imsxu".
 * Returns a new sp_regex (free with sp_regex_free) or NULL with err set
 * ("invalid regular expression: ..." / "invalid flag in regex options: z").
 */
struct sp_regex *sp_regex_new(
    const char *pattern, const char *options, struct sp_error *err);
void sp_regex_free(struct sp_regex *re);
/*
 * Returns 1 when the pattern matches somewhere in subject, 0 when it does
 * not, and -1 when PCRE2 gave up (match or depth limit, invalid UTF-8) with
 * err saying why: then there is no answer, and the record must not be
 * taken for one that does not match.
 */
int sp_regex_test(const struct sp_regex *re, const char *subject, size_t len,
    struct sp_error *err);
/*
 * sp_regex_new for callers that word their own errors: the pattern is len
 * bytes (the caller rejects an embedded NUL if it must), and on failure
 * err->msg is PCRE2's message alone ("missing closing parenthesis").
 */
struct sp_regex *sp_regex_compile(
    const char *pattern, size_t len, const char *options, struct sp_error *err);
/*
 * Matches from byte offset start of subject (^ and lookbehind still see
 * what comes before start). Returns 1 on a match, 0 on none, -1 when PCRE2
 * gave up, with err->msg PCRE2's message alone. On a match *m holds byte
 * offsets: m[0], m[1] the match, m[2k], m[2k+1] capture group k, both
 * SP_REGEX_UNSET for a group that took no part. *m is borrowed from re and
 * valid until re's next match: nothing is allocated per call.
 */
int sp_regex_exec(const struct sp_regex *re, const char *subject, size_t len,
    size_t start, const size_t **m, struct sp_error *err);
#define SP_REGEX_UNSET SIZE_MAX
/* The number of capture groups in the pattern. */
int sp_regex_ncaptures(const struct sp_regex *re);
const char *sp_regex_pattern(const struct sp_regex *re);
const char *sp_regex_options(const struct sp_regex *re);

/* ----------------------------------------------------------- expressions */

struct sp_expr;

/*
 * Compiles an aggregation expression: a literal, a "$field.path", a
 * "$$variable", an object of expressions, an array of expressions, or an
 * operator object {"$op": args}. Returns 0 and a new *out (sp_expr_free),
 * or -1 with err in MongoDB's words (e.g. "Unrecognized expression
 * '$foo'", "Expression $eq takes exactly 2 arguments. 1 were passed in.").
 * Constant subexpressions are folded, so an error in one (a constant
 * division by zero) is a compile error, as in MongoDB. Compiled once;
 * evaluated many times.
 */
int sp_expr_compile(
    struct sp_expr **out, const bson_value_t *spec, struct sp_error *err);
void sp_expr_free(struct sp_expr *e);

/*
 * Evaluates e with $$ROOT and $$CURRENT = the document (doc, len). The
 * result is borrowed from doc or allocated in arena. Returns 0, or -1 on a
 * runtime error with err->msg as MongoDB says it (e.g. "can't $divide by
 * zero").
 */
int sp_expr_eval(const struct sp_expr *e, const uint8_t *doc, uint32_t len,
    struct sp_arena *arena, bson_value_t *out, struct sp_error *err);

/* A variable that a stage defines around its expression, as $redact
 * defines $$DESCEND, $$PRUNE and $$KEEP. */
struct sp_expr_var {
	const char *name; /* without the "$$" */
	bson_value_t value; /* borrowed: must outlive the expression */
};

/* sp_expr_compile with vars[0..nvars) bound (at most 8). */
int sp_expr_compile_vars(struct sp_expr **out, const bson_value_t *spec,
    const struct sp_expr_var *vars, int nvars, struct sp_error *err);

/* sp_expr_eval with $$ROOT = (doc, len) and $$CURRENT = (cur, curlen), a
 * document inside it or the same one ($redact walks subdocuments so). */
int sp_expr_eval_at(const struct sp_expr *e, const uint8_t *doc, uint32_t len,
    const uint8_t *cur, uint32_t curlen, struct sp_arena *arena,
    bson_value_t *out, struct sp_error *err);

/* MongoDB's truthiness for expressions: false, null, missing, undefined and
 * numeric zero are false; everything else (including "" and []) is true. */
bool sp_value_truthy(const bson_value_t *v);

/* ----------------------------------------------------------------- match */

struct sp_match;

/*
 * Compiles a $match filter (a BSON document) with MongoDB 8 semantics.
 * Returns 0 and a new *out (sp_match_free), or -1 with err naming the
 * problem, e.g. "unknown operator: $foo", "$in needs an array",
 * "$where is not allowed in Atlas Stream Processing".
 */
int sp_match_compile(struct sp_match **out, const uint8_t *filter, uint32_t len,
    struct sp_error *err);
void sp_match_free(struct sp_match *m);

/*
 * Tests one document. Returns 1 (matches), 0 (does not), or -1 when
 * evaluation failed at run time ($expr error) with err->msg set. arena is
 * scratch space for $expr; the caller resets it between documents.
 */
int sp_match_exec(const struct sp_match *m, const uint8_t *doc, uint32_t len,
    struct sp_arena *arena, struct sp_error *err);

/* ----------------------------------------------------------------- input */

/* Where a record came from: for messages and dead letters. */
struct sp_pos {
	const char *file; /* operand as given; "-" for standard input */
	uint64_t line; /* 1-based line number within file */
	uint64_t offset; /* byte offset of the line's start within file */
};

/* One input line, borrowed from the reader until the next call. */
struct sp_line {
	const char *data; /* the line without its LF or CRLF terminator */
	size_t len;
	struct sp_pos pos;
	/* Set when the line was longer than the reader's cap: data then holds
	 * only the first SP_LINE_KEEP bytes and full_len says how long the
	 * line really was. */
	bool too_long;
	uint64_t full_len;
};

#define SP_LINE_KEEP 4096
#define SP_MAX_LINE_DEFAULT ((size_t)64 << 20)
#define SP_MAX_LINE_MAX ((size_t)1 << 30) /* the largest -L */

struct sp_reader;

/*
 * Streams the lines of the named files in order ("-" is standard input;
 * npaths == 0 reads standard input). Lines may be of any length up to
 * max_line bytes; a longer line is returned with too_long set and its
 * bytes beyond SP_LINE_KEEP are skipped, never held in memory. Blank lines
 * (only spaces, tabs, CR) are skipped; a UTF-8 byte order mark at the start
 * of a file is dropped. Returns a new reader (sp_reader_free); paths are
 * borrowed and must outlive it.
 */
struct sp_reader *sp_reader_new(
    char *const *paths, int npaths, size_t max_line);
void sp_reader_free(struct sp_reader *r);

/*
 * Before any read that would block (no input ready), the reader calls
 * fn(arg): tools flush their output there, so records pass through a pipe
 * at once while a busy stream still gets large writes.
 */
void sp_reader_on_idle(struct sp_reader *r, void (*fn)(void *), void *arg);

/*
 * Returns 1 and fills *line, 0 at the end of all input, or -1 when a file
 * cannot be opened or read (err says "FILE: reason"); after -1 the next
 * call goes on with the next file.
 */
int sp_reader_next(
    struct sp_reader *r, struct sp_line *line, struct sp_error *err);

/* ---------------------------------------------------------------- output */

/* A buffered writer on a file descriptor. Caller-owned struct. Writes go
 * out in large blocks; sp_out_flush pushes what is buffered. After a write
 * error (EPIPE included) the writer drops further data and keeps errno in
 * err_no, so callers check once, at flush time. */
struct sp_out {
	int fd;
	bool unbuffered; /* flush after every sp_out_end_record */
	int err_no;
	struct sp_buf buf;
};

void sp_out_init(struct sp_out *o, int fd);
void sp_out_release(struct sp_out *o);
void sp_out_write(struct sp_out *o, const void *p, size_t n);
/* Ends a record: writes the buffer out when it is large or unbuffered. */
void sp_out_end_record(struct sp_out *o);
/* Returns 0, or -1 with errno-style code in o->err_no. */
int sp_out_flush(struct sp_out *o);

/* ----------------------------------------------------------- dead letters */

struct sp_dlq;

/*
 * Opens the dead-letter sink: path appended to (created 0666 & ~umask), or
 * standard error when path is NULL. processor is processorName in every
 * record; flags are SP_EJSON_* for the record's JSON. Returns a new
 * sp_dlq (sp_dlq_free, which flushes) or NULL with err set.
 */
struct sp_dlq *sp_dlq_new(const char *path, const char *processor,
    unsigned flags, struct sp_error *err);
void sp_dlq_free(struct sp_dlq *d);

/*
 * Writes one dead letter in Atlas's shape:
 *   {"_stream_meta": {...}, "errInfo": {"reason": reason},
 *    "operatorName": op, "doc": <doc>, "processorName": ...,
 *    "dlqTime": {"$date": now}}
 * _stream_meta is the document's own _stream_meta when it has one, else
 * {"source": {"type": "file", "file": ..., "line": ..., "offset": ...}}.
 */
void sp_dlq_doc(struct sp_dlq *d, const struct sp_pos *pos, const char *op,
    const char *reason, const uint8_t *doc, uint32_t len);

/*
 * The same with the stream metadata given: (meta, metalen), a document,
 * is written under meta_name first, as a pipeline with a $source knows it
 * ({"source": {"type": "generated"}}); meta_name NULL writes none.
 */
void sp_dlq_doc_meta(struct sp_dlq *d, const char *meta_name,
    const uint8_t *meta, uint32_t metalen, const char *op, const char *reason,
    const uint8_t *doc, uint32_t len);

/*
 * The same for an input line that is not a document: no "doc"; instead
 * "raw" holds the line (a string when it is valid UTF-8, else binary), and
 * "rawLength" its full length when the line was cut (too long).
 */
void sp_dlq_raw(struct sp_dlq *d, const struct sp_pos *pos, const char *op,
    const char *reason, const struct sp_line *line);

/* How many dead letters were written so far. */
uint64_t sp_dlq_count(const struct sp_dlq *d);
/* Flushes; returns 0 or -1 with err ("dead letters: <file>: reason"). */
int sp_dlq_flush(struct sp_dlq *d, struct sp_error *err);

/* ------------------------------------------------------------ time zones */

struct sp_tz;

/*
 * Finds a time zone as MongoDB names one: "UTC", an Olson name from the
 * system tz database ($TZDIR, else /usr/share/zoneinfo), or a UTC offset
 * "+HH", "+HHMM" or "+HH:MM" (or with '-'). Returns a borrowed zone that
 * lives as long as the process (each is loaded once and cached), or NULL
 * when the name is unknown. Not thread-safe.
 */
const struct sp_tz *sp_tz_find(const char *name, size_t len);
const struct sp_tz *sp_tz_utc(void);
const char *sp_tz_name(const struct sp_tz *z);
/* MongoDB's isUtcZone: "UTC" or a zero offset such as "+00:00". */
bool sp_tz_is_utc(const struct sp_tz *z);
/* An Olson zone, as opposed to UTC or a fixed offset. */
bool sp_tz_is_olson(const struct sp_tz *z);
/* The offset from UTC, in seconds, in effect at instant t (seconds since
 * the epoch); *since (may be NULL) gets the instant that offset began, or
 * INT64_MIN when it has no known start. */
int32_t sp_tz_offset(const struct sp_tz *z, int64_t t, int64_t *since);
/* The instant of a wall-clock time (seconds since the epoch as if it were
 * UTC), resolving gaps and overlaps as MongoDB (timelib) does. */
int64_t sp_tz_from_local(const struct sp_tz *z, int64_t local);

/* The proleptic Gregorian calendar: days since 1970-01-01. */
int64_t sp_tz_days_from_civil(int64_t y, int m, int d);
void sp_tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
bool sp_tz_is_leap(int64_t y);
int sp_tz_days_in_month(int64_t y, int m);
/* 0 for Sunday ... 6 for Saturday. */
int sp_tz_weekday(int64_t days);

/* -------------------------------------------------------------- pipeline */

/*
 * An Atlas Stream Processing pipeline, compiled once into a chain of
 * stages, then fed one document at a time: each document runs through the
 * whole chain (BSON in, BSON out, scratch memory reset per document)
 * before the next is pushed. Stages that hold documents until the end of
 * the input ($group, $sort, ...: a later version) emit at
 * sp_pipeline_finish.
 */
struct sp_pipeline;

/* A document that became a dead letter on its way through. */
struct sp_dead {
	const char *op; /* Atlas's operatorName: "AddFieldsOperator" */
	const char *reason; /* the whole errInfo.reason */
	const uint8_t *doc; /* the failing stage's input */
	uint32_t len;
	/* false: no $source, the record's metadata is the document's own or
	 * where it was read (sp_dlq_doc). true: the pipeline's $source made
	 * it: (meta, metalen) under meta_name, or none when meta_name is
	 * NULL (sp_dlq_doc_meta). */
	bool source_meta;
	const char *meta_name;
	const uint8_t *meta;
	uint32_t metalen;
};

/* Where documents leave a pipeline. */
struct sp_pipeline_sink {
	/* An output document, borrowed until return. Returns 0, or -1 to
	 * stop: then the push returns -1 too. */
	int (*emit)(void *arg, const uint8_t *doc, uint32_t len);
	void (*dead)(void *arg, const struct sp_dead *d);
	void *arg;
};

/*
 * Parses pipeline text (a JSON array of stages, Extended JSON) into out,
 * which receives the BSON array. -1 with err as sp_json_parse words it,
 * offsets counted in text.
 */
int sp_pipeline_parse(
    struct sp_buf *out, const char *text, size_t len, struct sp_error *err);

/*
 * Plans and compiles a pipeline (stages: a BSON array, as from
 * sp_pipeline_parse) with Atlas's rules: each stage one {"$name": spec};
 * an optional $source first (documents, timeField, tsFieldName); an
 * optional $emit or $merge last; $match, $addFields, $set, $unset,
 * $project, $replaceRoot, $replaceWith, $unwind, $redact between. Returns
 * 0 and a new pipeline (sp_pipeline_free), or -1 with err saying which
 * stage (counted from 1) and what, in Atlas's or MongoDB's words:
 * "stage 2 ($project): Invalid $project :: caused by :: ...".
 */
int sp_pipeline_compile(struct sp_pipeline **out, const uint8_t *stages,
    uint32_t len, struct sp_error *err);
void sp_pipeline_free(struct sp_pipeline *p);

/* Sets where documents go (copied). Call before the first push. */
void sp_pipeline_set_sink(
    struct sp_pipeline *p, const struct sp_pipeline_sink *s);

/* False when $source holds the documents (then read no input and push
 * them with sp_pipeline_push_document). */
bool sp_pipeline_reads_input(const struct sp_pipeline *p);
size_t sp_pipeline_ndocuments(const struct sp_pipeline *p);

/*
 * Runs one input document (borrowed) through the pipeline; pos (may be
 * NULL) is where it was read, for the stream metadata. Returns 0, or -1
 * when the sink asked to stop. Failures become dead letters and the
 * stream goes on.
 */
int sp_pipeline_push(struct sp_pipeline *p, const uint8_t *doc, uint32_t len,
    const struct sp_pos *pos);
/* Runs the i-th of $source's documents through the pipeline. */
int sp_pipeline_push_document(struct sp_pipeline *p, size_t i);
/* End of input: stages that hold documents emit them. */
int sp_pipeline_finish(struct sp_pipeline *p);

/* ------------------------------------------------------------- tool runs */

/*
 * What every tool shares, so that they all behave alike: the common
 * options, reading NDJSON lines from files or standard input, making bad
 * lines dead letters (SourceOperator), output with flush-on-idle, a reader
 * of standard output that goes away (EPIPE: a quiet stop), --stats and the
 * exit status. A tool's main:
 *
 *	sp_run_init(&r, "sp-x"); r.warn = ...;
 *	sp_run_args(&r, &argc, &argv, &tool, ctx, &bson, &err): the options
 *	    and the spec; then compile bson
 *	sp_run_open(&r, &err);
 *	sp_run_input(&r, files, nfiles, per_document, ctx);
 *	return sp_run_close(&r);
 *
 * The per-document callback writes with sp_run_emit_doc/_line and makes
 * dead letters with sp_run_dead. Caller-owned struct; lib/ prints nothing:
 * what must be said goes to r->warn.
 */
struct sp_run_state;
struct sp_run {
	/* Options: defaults from sp_run_init, set by sp_run_args. */
	const char *prog; /* the tool's name */
	const char *dlq_path; /* -d; NULL: standard error */
	const char *spec_file; /* -f; NULL: the first operand */
	const char *name; /* -n: processorName (default prog) */
	bool canonical; /* -c */
	bool unbuffered; /* -u, or SP_UNBUFFERED set and not empty */
	bool stats; /* --stats */
	size_t max_line; /* -L */
	/* What messages call the spec: the -f file, or "filter"... */
	const char *spec_name;
	/* Gets each diagnostic ("FILE: reason", the --stats line), without
	 * the program name; tools pass it to warnx. */
	void (*warn)(const char *msg);

	/* Between sp_run_open and sp_run_close. */
	struct sp_out out;
	struct sp_dlq *dlq;
	struct sp_arena arena; /* reset before each document */
	const struct sp_line *line; /* the line being processed, or NULL */
	const struct sp_pos *pos; /* its position, or NULL */
	uint64_t nin, nout; /* records read, written */
	int status; /* 2 after an input error */
	struct sp_run_state *st;
};

/* The common letters, for getopt_long; a tool's longopts start with
 * SP_RUN_LONGOPTS. */
#define SP_RUN_SHORTOPTS "cd:f:hL:n:uV"
#define SP_RUN_OPT_STATS 0x100 /* --stats has no letter */
/* clang-format off */
#define SP_RUN_LONGOPTS \
	{"canonical", no_argument, NULL, 'c'}, \
	{"dlq", required_argument, NULL, 'd'}, \
	{"file", required_argument, NULL, 'f'}, \
	{"help", no_argument, NULL, 'h'}, \
	{"max-line-bytes", required_argument, NULL, 'L'}, \
	{"name", required_argument, NULL, 'n'}, \
	{"stats", no_argument, NULL, SP_RUN_OPT_STATS}, \
	{"unbuffered", no_argument, NULL, 'u'}, \
	{"version", no_argument, NULL, 'V'}
/* clang-format on */

/* Defaults; SP_UNBUFFERED is read here. */
void sp_run_init(struct sp_run *r, const char *prog);
/* "PROG X.Y.Z (libbson A, PCRE2 B)", in static storage (borrowed). */
const char *sp_run_version(const char *prog);
/* Appends the whole file ("-": standard input) to buf; -1 with err
 * "PATH: reason". */
int sp_read_file(const char *path, struct sp_buf *buf, struct sp_error *err);

/* A tool's own part of its command line, for sp_run_args. */
struct option;
struct sp_run_tool {
	const char *what; /* the spec: "filter", "group", "pipeline" */
	/* Parses the spec's text: sp_json_parse, sp_pipeline_parse. */
	int (*parse)(struct sp_buf *out, const char *text, size_t len,
	    struct sp_error *err);
	const char *shortopts; /* the tool's letters beyond SP_RUN_SHORTOPTS */
	const struct option *longopts; /* SP_RUN_LONGOPTS, the tool's, {0} */
	/* Takes one of the tool's own letters: 1, or 0 when ch is none of
	 * them. NULL: the tool has none. */
	int (*option)(int ch, void *arg);
};

/* What sp_run_args leaves to the tool besides going on (0). */
#define SP_RUN_HELP 1 /* -h: print the help, exit 0 */
#define SP_RUN_VERSION 2 /* -V: print sp_run_version(), exit 0 */
#define SP_RUN_USAGE 3 /* print the usage, exit 2: what was wrong is said */

/*
 * The command line of a tool: getopt_long over the common options (c d f
 * L n u --stats, into r) and the tool's (tool->option with arg), then the
 * spec (the -f file when one was given, else the first operand, taken
 * off) parsed with tool->parse into bson. *argc and *argv are left at the
 * input files, r->spec_name at what messages call the spec.
 *
 * Returns 0, and the caller compiles bson and frees it (sp_buf_release);
 * SP_RUN_HELP or SP_RUN_VERSION at -h or -V; SP_RUN_USAGE for an unknown
 * option (getopt_long has said so) or no spec ("no <what> given" to
 * r->warn); -1 with err for a bad option argument, or a spec that cannot
 * be read or parsed ("NAME: reason"). bson holds nothing but after 0.
 */
int sp_run_args(struct sp_run *r, int *argc, char ***argv,
    const struct sp_run_tool *tool, void *arg, struct sp_buf *bson,
    struct sp_error *err);

/* Opens the dead letters and standard output, and ignores SIGPIPE (EPIPE
 * is noticed instead). -1 with err ("FILE: reason") when --dlq cannot be
 * opened. */
int sp_run_open(struct sp_run *r, struct sp_error *err);

/* Called with each input document (borrowed until return; r->line and
 * r->pos say where it was read). Returns 0 to go on, -1 to stop reading. */
typedef int (*sp_run_fn)(
    struct sp_run *r, const uint8_t *doc, uint32_t len, void *arg);

/*
 * Reads the named files in order (none: standard input), resets r->arena
 * and calls fn for each line that is a document; a line that is not, or
 * is longer than -L, becomes a dead letter. A file that cannot be read is
 * reported and sets the exit status to 2; the next file is read. Stops
 * early when standard output has gone away or fn returns -1.
 */
void sp_run_input(
    struct sp_run *r, char *const *paths, int npaths, sp_run_fn fn, void *arg);

/* Writes a document as relaxed (canonical with -c) Extended JSON and a
 * newline; counts it. */
void sp_run_emit_doc(struct sp_run *r, const uint8_t *doc, uint32_t len);
/* Writes the current input line as it was read. */
void sp_run_emit_line(struct sp_run *r);
/* A dead letter for doc, at the current position (sp_dlq_doc). */
void sp_run_dead(struct sp_run *r, const char *op, const char *reason,
    const uint8_t *doc, uint32_t len);

/* Flushes, reports write errors and --stats, frees; returns the exit
 * status: 0, 1 when there were dead letters, 2 after an I/O error. */
int sp_run_close(struct sp_run *r);

/* -------------------------------------------------------------- grouping */

/*
 * A $group over a whole stream, for sp-group: the groups' state, kept per
 * group and never per document, in the order the groups were first seen.
 */
struct sp_group;

/*
 * Compiles the body of a $group stage, (spec, len) a BSON document:
 * {"_id": <expression>, "<field>": {<accumulator>: <expression>}, ...}.
 * Returns 0 and a new *out (sp_group_free), or -1 with err in MongoDB's
 * words ("a group specification must include an _id", ...).
 */
int sp_group_compile(struct sp_group **out, const uint8_t *spec, uint32_t len,
    struct sp_error *err);
void sp_group_free(struct sp_group *g);

/* Adds one document (borrowed); arena is scratch. -1 with err when an
 * expression fails: then no group has changed. */
int sp_group_add(struct sp_group *g, const uint8_t *doc, uint32_t len,
    struct sp_arena *arena, struct sp_error *err);
/* Folds in one partial-state document, as sp_group_result writes it with
 * partial set (maybe in another process). -1 with err when it is not one:
 * then no group has changed. */
int sp_group_merge(struct sp_group *g, const uint8_t *doc, uint32_t len,
    struct sp_arena *arena, struct sp_error *err);

/* The number of groups so far. */
size_t sp_group_count(const struct sp_group *g);
/* Bytes of state held: keys, accumulator states, index. */
size_t sp_group_bytes(const struct sp_group *g);

/*
 * Group i (0 is the first seen) as its output document {_id, <field>:
 * <result>, ...}, or with partial as its partial-state document; built in
 * arena (*doc borrowed from it). -1 when the document would exceed BSON's
 * size limit.
 */
int sp_group_result(const struct sp_group *g, size_t i, bool partial,
    struct sp_arena *arena, const uint8_t **doc, uint32_t *len);

#endif /* SP_H */
