/* accum.c: unit tests for the basic accumulators of $group (TAP). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "group_int.h"
#include "tap.h"

/*
 * Every accumulator runs here through the accum API alone: accum_compile,
 * init, eval (or its expression) and add, result, partial and merge. JSON
 * is written with single quotes, turned into double quotes before
 * parsing. Results are compared as canonical Extended JSON, so the type
 * counts as well as the value.
 */

static struct sp_arena ar;

/* Parses JSON (single quotes allowed) into b. */
static int
parse(struct sp_buf *b, const char *json, struct sp_error *err)
{
	char *s = strdup(json), *p;
	int rc;

	for (p = s; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	rc = sp_json_parse(b, s, strlen(s), err);
	free(s);
	return rc;
}

/* The value of {"v": json}, in the arena. */
static bson_value_t
value_of(const char *json)
{
	struct sp_buf b, w;
	struct sp_error err;
	bson_value_t v;
	bson_iter_t it;
	uint8_t *copy;

	sp_buf_init(&b);
	sp_buf_init(&w);
	sp_buf_printf(&w, "{'v': %s}", json);
	if (parse(&b, sp_buf_cstr(&w), &err)) {
		printf("# bad JSON %s: %s\n", json, err.msg);
		exit(1);
	}
	copy = sp_arena_dup(&ar, b.data, b.len);
	bson_iter_init_from_data(&it, copy, (uint32_t)b.len);
	bson_iter_next(&it);
	v = *bson_iter_value(&it);
	sp_buf_release(&b);
	sp_buf_release(&w);
	return v;
}

/* Canonical Extended JSON of v, in the arena ("MISSING" for missing). */
static const char *
json_of(const bson_value_t *v)
{
	struct sp_buf b;
	const char *s;

	if (v->value_type == BSON_TYPE_EOD)
		return "MISSING";
	sp_buf_init(&b);
	sp_ejson_value(&b, v, SP_EJSON_CANONICAL);
	s = sp_arena_dup(&ar, b.data, b.len);
	sp_buf_release(&b);
	return s;
}

/* json as canonical Extended JSON, for comparing with json_of. */
static const char *
canon(const char *json)
{
	bson_value_t v = value_of(json);

	return json_of(&v);
}

static void *
state_new(const struct accum *a)
{
	bson_value_t key;
	struct sp_error err;
	void *st = calloc(1, a->ops->size ? a->ops->size : 1);

	expr_set_null(&key);
	if (a->ops->init(a, st, &key, &err)) {
		printf("# init failed: %s\n", err.msg);
		exit(1);
	}
	return st;
}

static void
state_free(const struct accum *a, void *st)
{
	if (a->ops->release != NULL)
		a->ops->release(a, st);
	free(st);
}

/* One document into st: 0, or -1 with err (st untouched). */
static int
feed(const struct accum *a, void *st, const bson_value_t *doc,
    struct sp_error *err)
{
	bson_value_t v;
	int rc;

	if (a->ops->eval != NULL)
		rc = a->ops->eval(a, doc->value.v_doc.data,
		    doc->value.v_doc.data_len, &ar, &v, err);
	else
		rc = sp_expr_eval(a->expr, doc->value.v_doc.data,
		    doc->value.v_doc.data_len, &ar, &v, err);
	if (rc == 0)
		a->ops->add(a, st, &v);
	return rc;
}

/* The documents of a JSON array, as values. */
static int
docs_of(const char *json, bson_value_t *docs, int max)
{
	bson_value_t arr = value_of(json);
	bson_iter_t it;
	int n = 0;

	bson_iter_init_from_data(
	    &it, arr.value.v_doc.data, arr.value.v_doc.data_len);
	while (bson_iter_next(&it) && n < max)
		docs[n++] = *bson_iter_value(&it);
	return n;
}

static void
compile(struct accum *a, const char *spec)
{
	struct sp_error err;
	bson_value_t v = value_of(spec);

	if (accum_compile(a, "f", &v, &err)) {
		printf("# compile %s: %s\n", spec, err.msg);
		exit(1);
	}
}

/* The result of spec over all of docs, or "ERR:<message>". */
static const char *
run_docs(const char *spec, const bson_value_t *docs, int n)
{
	struct accum a;
	struct sp_error err;
	bson_value_t r;
	const char *s;
	void *st;
	int i;

	compile(&a, spec);
	st = state_new(&a);
	for (i = 0; i < n; i++)
		if (feed(&a, st, &docs[i], &err)) {
			s = sp_arena_dup(&ar, err.msg, strlen(err.msg));
			state_free(&a, st);
			accum_release(&a);
			return s;
		}
	a.ops->result(&a, st, &ar, &r);
	s = json_of(&r);
	state_free(&a, st);
	accum_release(&a);
	return s;
}

static const char *
run(const char *spec, const char *docs_json)
{
	bson_value_t docs[64];
	int n = docs_of(docs_json, docs, 64);

	return run_docs(spec, docs, n);
}

/* Takes a partial through canonical Extended JSON text and back, as
 * sp-group --partial | sp-group --merge do. */
static bson_value_t
through_json(const bson_value_t *part)
{
	struct sp_buf b;
	bson_value_t v;

	sp_buf_init(&b);
	sp_ejson_value(&b, part, SP_EJSON_CANONICAL);
	v = value_of(sp_buf_cstr(&b));
	sp_buf_release(&b);
	return v;
}

/*
 * Splits docs at the cuts (3 of them: 4 consecutive shards, any may be
 * empty), takes a partial of each, merges the 4 in order into a new
 * state and returns its result.
 */
static const char *
run_sharded(const char *spec, const bson_value_t *docs, int n, const int *cut)
{
	struct accum a;
	struct sp_error err;
	bson_value_t r, part[4];
	const char *s;
	void *st;
	int k, i, from, to;

	compile(&a, spec);
	for (k = 0; k < 4; k++) {
		from = k == 0 ? 0 : cut[k - 1];
		to = k == 3 ? n : cut[k];
		st = state_new(&a);
		for (i = from; i < to; i++)
			if (feed(&a, st, &docs[i], &err)) {
				printf("# shard feed: %s\n", err.msg);
				exit(1);
			}
		a.ops->partial(&a, st, &ar, &r);
		part[k] = through_json(&r);
		state_free(&a, st);
	}
	st = state_new(&a);
	for (k = 0; k < 4; k++)
		if (a.ops->merge(&a, st, &part[k], &err)) {
			s = sp_arena_dup(&ar, err.msg, strlen(err.msg));
			state_free(&a, st);
			accum_release(&a);
			return s;
		}
	a.ops->result(&a, st, &ar, &r);
	s = json_of(&r);
	state_free(&a, st);
	accum_release(&a);
	return s;
}

/* ----------------------------------------------------- random inputs */

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/*
 * Nasty documents {x: ...}: ints at the limits, longs near 2^63, doubles
 * of every magnitude (1e16, 1 and -1e16 among them, some past 2^960),
 * decimals with exponents far apart, and values that are not numbers.
 */
static int
nasty_docs(bson_value_t *docs, int n, bool decimals, bool huge)
{
	static const double fixed[] = {1e16, 1.0, -1e16, 0.1, 0.2, 0.3, -0.0,
	    1e-300, 3.5, -7.25, 1e300, -1e300, 1e308, 1e308, -1e308};
	bson_decimal128_t dec;
	struct sp_buf b;
	char txt[96];
	int i;

	for (i = 0; i < n; i++) {
		bson_t d = BSON_INITIALIZER;
		uint64_t r = rnd();
		double x;

		switch (r % 12) {
		case 0:
			BSON_APPEND_INT32(&d, "x",
			    (r >> 8) % 3 == 0 ? INT32_MAX
					      : (int32_t)(rnd() >> 33));
			break;
		case 1:
			BSON_APPEND_INT64(&d, "x",
			    (r >> 8) % 2 ? INT64_MAX - (int64_t)(r >> 40)
					 : -(int64_t)(rnd() >> 2));
			break;
		case 2:
		case 3:
			x = fixed[(r >> 8) % (sizeof(fixed) / sizeof(*fixed))];
			if (!huge && fabs(x) > 1e200)
				x = 1e16;
			BSON_APPEND_DOUBLE(&d, "x", x);
			break;
		case 4:
		case 5:
			x = ldexp(
			    (double)(rnd() >> 11), (int)((r >> 8) % 120) - 110);
			BSON_APPEND_DOUBLE(&d, "x", (r >> 20) & 1 ? -x : x);
			break;
		case 6:
			if (!decimals) {
				BSON_APPEND_INT32(&d, "x", (int32_t)(r >> 40));
				break;
			}
			snprintf(txt, sizeof(txt), "%s%llu.%lluE%d",
			    (r >> 8) & 1 ? "-" : "",
			    (unsigned long long)(rnd() % 1000000000000ULL),
			    (unsigned long long)(rnd() % 1000000ULL),
			    (int)((r >> 9) % 80) - 40);
			bson_decimal128_from_string(txt, &dec);
			BSON_APPEND_DECIMAL128(&d, "x", &dec);
			break;
		case 7:
			BSON_APPEND_UTF8(&d, "x", (r >> 8) & 1 ? "a" : "b");
			break;
		case 8: BSON_APPEND_NULL(&d, "x"); break;
		case 9: break; /* missing */
		case 10: {
			bson_t sub;

			BSON_APPEND_DOCUMENT_BEGIN(&d, "x", &sub);
			BSON_APPEND_INT32(&sub, "k", (int32_t)(r >> 8) % 3);
			bson_append_document_end(&d, &sub);
			break;
		}
		default:
			BSON_APPEND_INT32(&d, "x", (int32_t)((r >> 8) % 7) - 3);
			break;
		}
		sp_buf_init(&b);
		docs[i].value_type = BSON_TYPE_DOCUMENT;
		docs[i].value.v_doc.data =
		    sp_arena_dup(&ar, bson_get_data(&d), d.len);
		docs[i].value.v_doc.data_len = d.len;
		sp_buf_release(&b);
		bson_destroy(&d);
	}
	return n;
}

/* Single run against 4-shard merges at several cuts, docs[0..n). */
static void
check_shards(
    const char *spec, const bson_value_t *docs, int n, const char *what)
{
	const char *whole = run_docs(spec, docs, n), *merged;
	int cut[3], t, bad = 0;

	for (t = 0; t < 40; t++) {
		switch (t) {
		case 0: cut[0] = cut[1] = cut[2] = 0; break;
		case 1: cut[0] = cut[1] = cut[2] = n; break;
		case 2:
			cut[0] = n / 4;
			cut[1] = n / 2;
			cut[2] = 3 * n / 4;
			break;
		default:
			cut[0] = (int)(rnd() % (uint64_t)(n + 1));
			cut[1] =
			    cut[0] + (int)(rnd() % (uint64_t)(n - cut[0] + 1));
			cut[2] =
			    cut[1] + (int)(rnd() % (uint64_t)(n - cut[1] + 1));
			break;
		}
		merged = run_sharded(spec, docs, n, cut);
		if (strcmp(merged, whole) != 0) {
			if (bad++ == 0)
				printf("# cuts %d %d %d: whole %s, merged %s\n",
				    cut[0], cut[1], cut[2], whole, merged);
		}
	}
	ok(bad == 0, "%s %s: 4 shards merged = one run (%s)", spec, what,
	    whole);
}

/* ------------------------------------------------------------ tests */

#define DEC(s) "{'$numberDecimal': '" s "'}"
#define LONG(s) "{'$numberLong': '" s "'}"
#define DBL(s) "{'$numberDouble': '" s "'}"

struct tcase {
	const char *spec;
	const char *docs;
	const char *want; /* Extended JSON, or "ERR:" + message */
};

static const struct tcase cases[] = {
    /* $sum: numbers only, the widest type, exact */
    {"{'$sum': '$x'}", "[]", "0"},
    {"{'$sum': '$x'}", "[{}, {'x': null}, {'x': 'a'}, {'x': [1, 2]}]", "0"},
    {"{'$sum': '$x'}", "[{'x': 1}, {'x': 2}, {'x': {'$undefined': true}}]",
	"3"},
    {"{'$sum': '$x'}", "[{'x': 2147483647}, {'x': 1}]", LONG("2147483648")},
    {"{'$sum': '$x'}", "[{'x': 2147483647}, {'x': 1}, {'x': -2}]",
	"2147483646"},
    {"{'$sum': '$x'}", "[{'x': 1}, {'x': " LONG("2") "}]", LONG("3")},
    {"{'$sum': '$x'}",
	"[{'x': " LONG("9223372036854775807") "}, {'x': " LONG("1") "}]",
	"9.223372036854775808e18"},
    {"{'$sum': '$x'}",
	"[{'x': " LONG("9223372036854775807") "}, {'x': 1}, {'x': " LONG(
	    "9223372036854775807") "}, {'x': " LONG("-9223372036854775807") "}"
									    "]",
	"9.223372036854775808e18"},
    {"{'$sum': '$x'}", "[{'x': 1}, {'x': 0.5}]", "1.5"},
    {"{'$sum': '$x'}", "[{'x': 1e16}, {'x': 1.0}, {'x': -1e16}]", "1.0"},
    {"{'$sum': '$x'}", "[{'x': 1e308}, {'x': 1e308}, {'x': -1e308}]", "1e308"},
    {"{'$sum': '$x'}", "[{'x': " DBL("-0.0") "}]", "0.0"},
    {"{'$sum': '$x'}", "[{'x': " DBL("NaN") "}, {'x': 1}]", DBL("NaN")},
    {"{'$sum': '$x'}",
	"[{'x': " DBL("Infinity") "}, {'x': " DBL("-Infinity") "}]",
	DBL("NaN")},
    {"{'$sum': '$x'}", "[{'x': " DBL("-Infinity") "}, {'x': 1e308}]",
	DBL("-Infinity")},
    {"{'$sum': '$x'}", "[{'x': 1}, {'x': " DEC("2.50") "}]", DEC("3.50")},
    {"{'$sum': '$x'}", "[{'x': " DEC("1E+40") "}, {'x': " DEC("1E-40") "}]",
	DEC("1.000000000000000000000000000000000E+40")},
    {"{'$sum': '$x'}",
	"[{'x': " DEC("1E+40") "}, {'x': " DEC("1E-40") "}, {'x': " DEC(
	    "-1E+40") "}]",
	DEC("1E-40")},
    {"{'$sum': '$x'}", "[{'x': " DEC("-0") "}]", DEC("0")},
    {"{'$sum': '$x'}", "[{'x': " DEC("NaN") "}, {'x': 1}]", DEC("NaN")},
    {"{'$sum': '$x'}", "[{'x': " DEC("-Infinity") "}, {'x': 1}]",
	DEC("-Infinity")},
    /* $count */
    {"{'$count': {}}", "[{}, {'x': 1}, {'x': null}]", "3"},
    {"{'$count': {}}", "[]", "0"},
    /* $avg */
    {"{'$avg': '$x'}", "[]", "null"},
    {"{'$avg': '$x'}", "[{'x': 'a'}, {}]", "null"},
    {"{'$avg': '$x'}", "[{'x': 1}, {'x': 2}, {'x': 'a'}, {}]", "1.5"},
    {"{'$avg': '$x'}", "[{'x': " LONG("4") "}]", "4.0"},
    {"{'$avg': '$x'}", "[{'x': " DEC("1") "}, {'x': 2}]", DEC("1.5")},
    {"{'$avg': '$x'}", "[{'x': " DBL("NaN") "}, {'x': 2}]", DBL("NaN")},
    /* $min and $max */
    {"{'$min': '$x'}", "[]", "null"},
    {"{'$min': '$x'}", "[{}, {'x': null}, {'x': {'$undefined': true}}]",
	"null"},
    {"{'$min': '$x'}", "[{'x': 3}, {}, {'x': null}, {'x': 'a'}, {'x': 2}]",
	"2"},
    {"{'$max': '$x'}", "[{'x': 3}, {}, {'x': null}, {'x': 'a'}, {'x': 2}]",
	"'a'"},
    {"{'$min': '$x'}", "[{'x': 1}, {'x': " DBL("NaN") "}]", DBL("NaN")},
    {"{'$max': '$x'}", "[{'x': [1, 2]}, {'x': {'a': 1}}]", "[1, 2]"},
    /* ties keep the first */
    {"{'$min': '$x'}", "[{'x': " LONG("2") "}, {'x': 2.0}]", LONG("2")},
    {"{'$max': '$x'}", "[{'x': 2.0}, {'x': " DEC("2") "}]", "2.0"},
    /* $first and $last */
    {"{'$first': '$x'}", "[{'x': 1}, {'x': 2}]", "1"},
    {"{'$first': '$x'}", "[{}, {'x': 2}]", "null"},
    {"{'$last': '$x'}", "[{'x': 1}, {'x': 2}]", "2"},
    {"{'$last': '$x'}", "[{'x': 1}, {}]", "null"},
    {"{'$last': '$x'}", "[{'x': 1}, {'x': null}]", "null"},
    {"{'$first': '$x'}", "[]", "null"},
    /* $push: missing skipped, null kept, in order */
    {"{'$push': '$x'}", "[]", "[]"},
    {"{'$push': '$x'}", "[{'x': 1}, {}, {'x': null}, {'x': [2]}]",
	"[1, null, [2]]"},
    {"{'$push': {'a': '$x'}}", "[{'x': 1}, {}]", "[{'a': 1}, {}]"},
    /* $addToSet: MongoDB equality, first seen kept, in order */
    {"{'$addToSet': '$x'}", "[]", "[]"},
    {"{'$addToSet': '$x'}",
	"[{'x': 1}, {'x': 1.0}, {'x': " LONG("1") "}, {'x': " DEC(
	    "1.00") "}, {}, {'x': null}, {'x': null}]",
	"[1, null]"},
    {"{'$addToSet': '$x'}",
	"[{'x': {'a': 1, 'b': 2}}, {'x': {'b': 2, 'a': 1}}, {'x': {'a': 1.0, "
	"'b': " DEC("2") "}}]",
	"[{'a': 1, 'b': 2}, {'b': 2, 'a': 1}]"},
    {"{'$addToSet': '$x'}",
	"[{'x': " DBL("-0.0") "}, {'x': 0}, {'x': " DBL("NaN") "}, {'x': " DEC(
	    "NaN") "}, {'x': 0.5}, {'x': " DEC("0.50") "}, {'x': 'a'}]",
	"[" DBL("-0.0") ", " DBL("NaN") ", 0.5, 'a']"},
    {"{'$addToSet': '$x'}", "[{'x': [1, 2]}, {'x': [2, 1]}, {'x': [1, 2.0]}]",
	"[[1, 2], [2, 1]]"},
    /* $stdDevPop and $stdDevSamp */
    {"{'$stdDevPop': '$x'}",
	"[{'x': 2}, {'x': 4}, {'x': 4}, {'x': 4}, {'x': 5}, {'x': 5}, {'x': "
	"7}, {'x': 9}]",
	"2.0"},
    {"{'$stdDevPop': '$x'}", "[{'x': 85}, {'x': 96}, {'x': 72}, {'x': 77}]",
	"9.069178573608527"},
    {"{'$stdDevPop': '$x'}", "[{'x': 1e300}, {'x': 1}]", DBL("Infinity")},
    {"{'$stdDevPop': '$x'}", "[{'x': 10}, {'x': 20}]", "5.0"},
    {"{'$stdDevPop': '$x'}", "[{'x': 'a'}]", "null"},
    {"{'$stdDevPop': '$x'}", "[{'x': 7}]", "0.0"},
    {"{'$stdDevSamp': '$x'}", "[{'x': 7}]", "null"},
    {"{'$stdDevSamp': '$x'}", "[{'x': 1}, {'x': 2}, {'x': 3}, {}]", "1.0"},
    {"{'$stdDevPop': '$x'}", "[{'x': 1}, {'x': " DBL("NaN") "}]", DBL("NaN")},
    {"{'$stdDevSamp': '$x'}",
	"[{'x': 1e9}, {'x': 1000000001}, {'x': 1000000002}]", "1.0"},
    /* $mergeObjects */
    {"{'$mergeObjects': '$x'}", "[]", "{}"},
    {"{'$mergeObjects': '$x'}",
	"[{'x': {'a': 1, 'b': 1}}, {}, {'x': null}, {'x': {'c': 2, 'a': 2}}, "
	"{'x': {'b': null}}]",
	"{'a': 2, 'b': null, 'c': 2}"},
    {"{'$mergeObjects': '$x'}", "[{'x': {'a': 1}}, {'x': 5}]",
	"$mergeObjects requires object inputs, but input 5 is of type int"},
    {"{'$mergeObjects': '$x'}", "[{'x': [1]}]",
	"$mergeObjects requires object inputs, but input [1] is of type "
	"array"},
    /* an expression's error is the document's */
    {"{'$sum': {'$divide': [1, '$x']}}", "[{'x': 0}]", "can't $divide by zero"},
};

/* Compile errors: the spec of field "f" and the message. */
static const struct {
	const char *spec;
	const char *msg;
} bad[] = {
    {"5", "The field 'f' must be an accumulator object"},
    {"{}", "The field 'f' must be an accumulator object"},
    {"{'sum': 1}", "The field 'f' must be an accumulator object"},
    {"{'$sum': 1, '$avg': 1}", "The field 'f' must specify one accumulator"},
    {"{'$sum': [1]}", "The $sum accumulator is a unary operator"},
    {"{'$foo': 1}", "Unknown group operator '$foo'"},
    {"{'$count': 1}", "$count takes no arguments, i.e. $count:{}"},
    {"{'$count': {'a': 1}}", "$count takes no arguments, i.e. $count:{}"},
    {"{'$sum': {'$nope': 1}}", "Unrecognized expression '$nope'"},
};

static void
test_cases(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *want = cases[i].want;

		if (want[0] != '$' && strstr(want, "divide") == NULL)
			want = canon(want);
		is_str(run(cases[i].spec, cases[i].docs), want, "%s over %s",
		    cases[i].spec, cases[i].docs);
	}
}

static void
test_compile_errors(void)
{
	struct accum a;
	struct sp_error err;
	bson_value_t v;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = value_of(bad[i].spec);
		err.msg[0] = '\0';
		ok(accum_compile(&a, "f", &v, &err) == -1, "%s fails",
		    bad[i].spec);
		is_str(err.msg, bad[i].msg, "%s: message", bad[i].spec);
	}
	v = value_of("{'$sum': 1}");
	accum_compile(&a, "a.b", &v, &err);
	is_str(err.msg, "The field name 'a.b' cannot contain '.'", "dotted");
	accum_compile(&a, "$a", &v, &err);
	is_str(err.msg, "The field name '$a' cannot be an operator name",
	    "operator name");
	ok(accum_find("$sum") != NULL && accum_find("$nope") == NULL,
	    "accum_find");
	for (i = 1; i < sp_accum_basic.n; i++)
		if (strcmp(sp_accum_basic.ops[i - 1]->name,
			sp_accum_basic.ops[i]->name) >= 0)
			break;
	ok(i == sp_accum_basic.n, "sp_accum_basic is sorted");
}

/* merge refuses what is not its own kind of partial. */
static void
test_merge_refuses(void)
{
	struct accum a, b;
	struct sp_error err;
	bson_value_t part, v;
	void *st, *sb;
	static const char *const junk[] = {"5", "{}", "{'acc': '$sum'}",
	    "{'acc': '$sum', 'type': 'int', 'integer': 'x1'}",
	    "{'acc': '$sum', 'type': 'int', 'integer': '1', 'doubles': ['a']}",
	    "{'acc': '$sum', 'type': 'int', 'integer': '1', 'decimal': "
	    "{'digits': '1-', 'exponent': 0}}"};
	size_t i;

	compile(&a, "{'$sum': '$x'}");
	compile(&b, "{'$avg': '$x'}");
	st = state_new(&a);
	sb = state_new(&b);
	v = value_of("{'x': 1}");
	feed(&a, st, &v, &err);
	a.ops->partial(&a, st, &ar, &part);
	ok(b.ops->merge(&b, sb, &part, &err) == -1 &&
		strstr(err.msg, "not a partial state of $avg") != NULL,
	    "$avg refuses a $sum partial: %s", err.msg);
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		v = value_of(junk[i]);
		ok(a.ops->merge(&a, st, &v, &err) == -1, "$sum refuses %s",
		    junk[i]);
	}
	a.ops->result(&a, st, &ar, &v);
	is_str(json_of(&v), "{\"$numberInt\":\"1\"}",
	    "a refused merge changed nothing");
	state_free(&a, st);
	state_free(&b, sb);
	accum_release(&a);
	accum_release(&b);
}

/* bytes follows what the state holds; release frees it (ASan). */
static void
test_bytes(void)
{
	static const char *const specs[] = {"{'$push': '$x'}",
	    "{'$addToSet': '$x'}", "{'$max': '$x'}", "{'$mergeObjects': '$x'}",
	    "{'$sum': '$x'}"};
	struct accum a;
	struct sp_error err;
	bson_value_t v;
	size_t i, before;
	void *st;
	int k;

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		compile(&a, specs[i]);
		st = state_new(&a);
		before = a.ops->bytes ? a.ops->bytes(&a, st) : 0;
		for (k = 0; k < 50; k++) {
			char j[80];

			snprintf(j, sizeof(j),
			    i == 3       ? "{'x': {'k%d': 'abcdefgh'}}"
				: i == 4 ? "{'x': " DEC("%d.5") "}"
					 : "{'x': 'value %d'}",
			    k);
			v = value_of(j);
			feed(&a, st, &v, &err);
		}
		ok(a.ops->bytes != NULL && a.ops->bytes(&a, st) > before,
		    "%s: bytes grow (%zu)", specs[i],
		    a.ops->bytes ? a.ops->bytes(&a, st) : 0);
		state_free(&a, st);
		accum_release(&a);
	}
}

static void
test_shards(void)
{
	static const char *const specs[] = {"{'$sum': '$x'}", "{'$avg': '$x'}",
	    "{'$count': {}}", "{'$min': '$x'}", "{'$max': '$x'}",
	    "{'$first': '$x'}", "{'$last': '$x'}", "{'$push': '$x'}",
	    "{'$addToSet': '$x'}", "{'$stdDevPop': '$x'}",
	    "{'$stdDevSamp': '$x'}", "{'$mergeObjects': {'k': '$x'}}"};
	bson_value_t docs[400];
	size_t i;
	int n;

	/* Fixed nasty lists first. */
	n = docs_of("[{'x': 1e16}, {'x': 1}, {'x': -1e16}, {'x': 0.1}, "
		    "{'x': 0.2}, {'x': -0.3}, {'x': 2147483647}, {'x': 1}, "
		    "{'x': " LONG("9223372036854775807") "}, {'x': " LONG(
			"1") "}, {'x': " LONG("-9223372036854775807") "}]",
	    docs, 400);
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		check_shards(specs[i], docs, n, "1e16+1-1e16, int/long limits");
	n = docs_of(
	    "[{'x': " DEC("1E+40") "}, {'x': 0.1}, {'x': " DEC(
		"0.11") "}, {'x': " DEC("-1E+40") "}, {'x': 1e34}, "
						  "{'x': " DEC("1."
							       "00000000000"
							       "00000000000"
							       "0000000000"
							       "1") "}, "
								    "{'x': "
								    "-1e34}"
								    "]",
	    docs, 400);
	for (i = 0; i < 2; i++)
		check_shards(specs[i], docs, n, "decimals that cancel");
	/* Then random ones. */
	n = nasty_docs(docs, 400, true, true);
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		check_shards(specs[i], docs, n, "400 mixed, decimals");
	n = nasty_docs(docs, 400, false, true);
	for (i = 0; i < 3; i++)
		check_shards(specs[i], docs, n, "400 mixed, no decimals");
	n = nasty_docs(docs, 300, false, false);
	for (i = 9; i < 11; i++)
		check_shards(specs[i], docs, n, "300 mixed, no huge");
}

/* The exact sum agrees with a long double check on random doubles. */
static void
test_exact(void)
{
	bson_value_t docs[200];
	struct sp_buf b;
	long double ref = 0;
	double x, want;
	char j[64];
	int i;

	sp_buf_init(&b);
	sp_buf_puts(&b, "[");
	for (i = 0; i < 60; i++) {
		x = ldexp((double)(rnd() >> 24), -(int)(rnd() % 10)) *
		    ((rnd() & 1) ? 1 : -1);
		ref += x; /* 64-bit long double: exact for these */
		snprintf(j, sizeof(j), "%s{'x': %.17g}", i ? ", " : "", x);
		sp_buf_puts(&b, j);
	}
	sp_buf_puts(&b, "]");
	want = (double)ref;
	docs_of(sp_buf_cstr(&b), docs, 200);
	snprintf(j, sizeof(j), "%.17g", want);
	is_str(run_docs("{'$sum': '$x'}", docs, 60), canon(j),
	    "60 random doubles: the sum is rounded once");
	sp_buf_release(&b);
}

int
main(void)
{
	sp_arena_init(&ar);
	test_cases();
	test_compile_errors();
	test_merge_refuses();
	test_bytes();
	test_shards();
	test_exact();
	sp_arena_release(&ar);
	return done_testing();
}
