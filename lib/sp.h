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

#endif /* SP_H */
