/* accum_n.c: unit tests for $top, $bottom, the n-accumulators and the
 * percentiles (TAP), driven through the sp_accum_n table. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "group_int.h"
#include "tap.h"

/*
 * JSON here is written with single quotes (made double before parsing).
 * Results are compared as canonical Extended JSON unless a test says
 * relaxed, so types count as well as values.
 */

static char *
dq(const char *s)
{
	char *t = sp_xstrdup(s), *p;

	for (p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	return t;
}

/* Parses {"v": <json>} into b and points v at the value. */
static int
parse_value(struct sp_buf *b, const char *json, bson_value_t *v)
{
	struct sp_error err;
	struct sp_buf t;
	bson_iter_t it;
	char *j = dq(json);
	int rc;

	sp_buf_init(&t);
	sp_buf_printf(&t, "{\"v\": %s}", j);
	free(j);
	rc = sp_json_parse(b, (const char *)t.data, t.len, &err);
	sp_buf_release(&t);
	if (rc < 0) {
		printf("# bad test JSON: %s: %s\n", json, err.msg);
		return -1;
	}
	bson_iter_init_from_data(&it, b->data, (uint32_t)b->len);
	bson_iter_next(&it);
	*v = *bson_iter_value(&it);
	return 0;
}

static const struct accum_ops *
find_op(const char *name)
{
	size_t i;

	for (i = 0; i < sp_accum_n.n; i++)
		if (strcmp(sp_accum_n.ops[i]->name, name) == 0)
			return sp_accum_n.ops[i];
	return NULL;
}

static void
acc_release(struct accum *a)
{
	sp_expr_free(a->expr);
	if (a->ops->free_priv != NULL)
		a->ops->free_priv(a);
	memset(a, 0, sizeof(*a));
}

/* Compiles {name: arg}; -1 with err. */
static int
acc_compile(
    struct accum *a, const char *name, const char *arg, struct sp_error *err)
{
	struct sp_buf b;
	bson_value_t v;
	int rc;

	memset(a, 0, sizeof(*a));
	a->ops = find_op(name);
	if (a->ops == NULL)
		return sp_error_set(err, "no accumulator %s", name);
	sp_buf_init(&b);
	if (parse_value(&b, arg, &v) < 0) {
		sp_buf_release(&b);
		return sp_error_set(err, "bad JSON");
	}
	rc = a->ops->compile(a, &v, err);
	sp_buf_release(&b);
	if (rc < 0)
		acc_release(a);
	return rc;
}

static void *
state_new(const struct accum *a)
{
	return sp_xcalloc(1, a->ops->size + 1);
}

static void
state_free(const struct accum *a, void *st)
{
	if (a->ops->release != NULL)
		a->ops->release(a, st);
	free(st);
}

static int
state_init(
    const struct accum *a, void *st, const char *key, struct sp_error *err)
{
	struct sp_buf b;
	bson_value_t k;
	int rc;

	sp_buf_init(&b);
	if (parse_value(&b, key != NULL ? key : "null", &k) < 0) {
		sp_buf_release(&b);
		return -1;
	}
	rc = a->ops->init != NULL ? a->ops->init(a, st, &k, err) : 0;
	sp_buf_release(&b);
	return rc;
}

/* Evaluates and adds one document (BSON). */
static int
add_doc(const struct accum *a, void *st, const uint8_t *doc, uint32_t len,
    struct sp_error *err)
{
	struct sp_arena ar;
	bson_value_t v;
	int rc;

	sp_arena_init(&ar);
	if (a->ops->eval != NULL)
		rc = a->ops->eval(a, doc, len, &ar, &v, err);
	else
		rc = sp_expr_eval(a->expr, doc, len, &ar, &v, err);
	if (rc == 0)
		a->ops->add(a, st, &v);
	sp_arena_release(&ar);
	return rc;
}

static int
add_json(
    const struct accum *a, void *st, const char *json, struct sp_error *err)
{
	struct sp_buf b;
	char *j = dq(json);
	int rc;

	sp_buf_init(&b);
	rc = sp_json_parse(&b, j, strlen(j), err);
	free(j);
	if (rc == 0)
		rc = add_doc(a, st, b.data, (uint32_t)b.len, err);
	sp_buf_release(&b);
	return rc;
}

/* The state's result or partial as Extended JSON, malloc'd. */
static char *
render(const struct accum *a, const void *st, bool partial, unsigned flags)
{
	struct sp_arena ar;
	struct sp_buf b;
	bson_value_t v;
	char *s;

	sp_arena_init(&ar);
	if (partial)
		a->ops->partial(a, st, &ar, &v);
	else
		a->ops->result(a, st, &ar, &v);
	sp_buf_init(&b);
	sp_ejson_value(&b, &v, flags);
	s = sp_xstrdup(sp_buf_cstr(&b));
	sp_buf_release(&b);
	sp_arena_release(&ar);
	return s;
}

/* Canonical JSON of a single-quoted JSON value, for comparisons. */
static char *
canon(const char *json)
{
	struct sp_buf b, o;
	bson_value_t v;
	char *s;

	sp_buf_init(&b);
	sp_buf_init(&o);
	if (parse_value(&b, json, &v) == 0)
		sp_ejson_value(&o, &v, SP_EJSON_CANONICAL);
	s = sp_xstrdup(sp_buf_cstr(&o));
	sp_buf_release(&b);
	sp_buf_release(&o);
	return s;
}

/*
 * One group: {name: arg} with _id key over docs (NULL-terminated);
 * the result as canonical JSON, "CERR:msg", "IERR:msg" or "ERR:msg".
 */
static char *
run(const char *name, const char *arg, const char *key, const char *const *docs)
{
	struct sp_error err;
	struct accum a;
	struct sp_buf b;
	void *st;
	char *s;

	sp_buf_init(&b);
	if (acc_compile(&a, name, arg, &err) < 0) {
		sp_buf_printf(&b, "CERR:%s", err.msg);
		goto out;
	}
	st = state_new(&a);
	if (state_init(&a, st, key, &err) < 0) {
		sp_buf_printf(&b, "IERR:%s", err.msg);
		free(st);
		acc_release(&a);
		goto out;
	}
	for (; docs != NULL && *docs != NULL; docs++)
		if (add_json(&a, st, *docs, &err) < 0) {
			sp_buf_printf(&b, "ERR:%s", err.msg);
			break;
		}
	if (b.len == 0) {
		s = render(&a, st, false, SP_EJSON_CANONICAL);
		sp_buf_puts(&b, s);
		free(s);
	}
	state_free(&a, st);
	acc_release(&a);
out:
	s = sp_xstrdup(sp_buf_cstr(&b));
	sp_buf_release(&b);
	return s;
}

/* run() and compare with want (JSON, or an error prefix as is). */
static void
check(const char *title, const char *name, const char *arg, const char *key,
    const char *const *docs, const char *want)
{
	char *got = run(name, arg, key, docs);
	char *w;

	if (strncmp(want, "CERR:", 5) == 0 || strncmp(want, "ERR:", 4) == 0 ||
	    strncmp(want, "IERR:", 5) == 0)
		w = sp_xstrdup(want);
	else
		w = canon(want);
	is_str(got, w, "%s", title);
	free(got);
	free(w);
}

/* ------------------------------------------------------------- data */

/* The manual's gamescores collection. */
static const char *const games[] = {
    "{'playerId': 'PlayerA', 'gameId': 'G1', 'score': 31}",
    "{'playerId': 'PlayerB', 'gameId': 'G1', 'score': 33}",
    "{'playerId': 'PlayerC', 'gameId': 'G1', 'score': 99}",
    "{'playerId': 'PlayerD', 'gameId': 'G1', 'score': 1}",
    NULL,
};
static const char *const games2[] = {
    "{'playerId': 'PlayerA', 'gameId': 'G2', 'score': 10}",
    "{'playerId': 'PlayerB', 'gameId': 'G2', 'score': 14}",
    "{'playerId': 'PlayerC', 'gameId': 'G2', 'score': 66}",
    "{'playerId': 'PlayerD', 'gameId': 'G2', 'score': 80}",
    NULL,
};
/* The manual's null and missing example. */
static const char *const nulls[] = {
    "{'playerId': 'PlayerA', 'gameId': 'G1', 'score': 1}",
    "{'playerId': 'PlayerB', 'gameId': 'G1', 'score': 2}",
    "{'playerId': 'PlayerC', 'gameId': 'G1', 'score': 3}",
    "{'playerId': 'PlayerD', 'gameId': 'G1'}",
    "{'playerId': 'PlayerE', 'gameId': 'G1', 'score': null}",
    NULL,
};
/* The manual's testScores ($percentile, $median). */
static const char *const scores[] = {
    "{'studentId': '2345', 'test01': 62, 'test02': 81, 'test03': 80}",
    "{'studentId': '2356', 'test01': 60, 'test02': 83, 'test03': 79}",
    "{'studentId': '2358', 'test01': 67, 'test02': 82, 'test03': 78}",
    "{'studentId': '2367', 'test01': 64, 'test02': 72, 'test03': 77}",
    "{'studentId': '2369', 'test01': 60, 'test02': 53, 'test03': 72}",
    NULL,
};

#define L(s) "{'$numberLong': '" s "'}"
#define D(s) "{'$numberDouble': '" s "'}"
#define DEC(s) "{'$numberDecimal': '" s "'}"

static void
test_manual(void)
{
	check("$firstN: manual, first three of G1", "$firstN",
	    "{'input': ['$playerId', '$score'], 'n': 3}", "'G1'", games,
	    "[['PlayerA', 31], ['PlayerB', 33], ['PlayerC', 99]]");
	check("$lastN: manual, last three of G1", "$lastN",
	    "{'input': ['$playerId', '$score'], 'n': 3}", "'G1'", games,
	    "[['PlayerB', 33], ['PlayerC', 99], ['PlayerD', 1]]");
	check("$topN: manual, top three of G1", "$topN",
	    "{'output': ['$playerId', '$score'], 'sortBy': {'score': -1}, "
	    "'n': 3}",
	    "'G1'", games,
	    "[['PlayerC', 99], ['PlayerB', 33], ['PlayerA', 31]]");
	check("$bottomN: manual, bottom three of G1", "$bottomN",
	    "{'output': ['$playerId', '$score'], 'sortBy': {'score': -1}, "
	    "'n': 3}",
	    "'G1'", games,
	    "[['PlayerB', 33], ['PlayerA', 31], ['PlayerD', 1]]");
	check("$top: manual, G1", "$top",
	    "{'output': ['$playerId', '$score'], 'sortBy': {'score': -1}}",
	    "'G1'", games, "['PlayerC', 99]");
	check("$bottom: manual, G1", "$bottom",
	    "{'output': ['$playerId', '$score'], 'sortBy': {'score': -1}}",
	    "'G1'", games, "['PlayerD', 1]");
	check("$maxN: manual, three largest of G1", "$maxN",
	    "{'input': ['$score', '$playerId'], 'n': 3}", "'G1'", games,
	    "[[99, 'PlayerC'], [33, 'PlayerB'], [31, 'PlayerA']]");
	check("$minN: manual, three smallest of G1", "$minN",
	    "{'input': ['$score', '$playerId'], 'n': 3}", "'G1'", games,
	    "[[1, 'PlayerD'], [31, 'PlayerA'], [33, 'PlayerB']]");
	check("$topN: manual, G2", "$topN",
	    "{'output': ['$playerId', '$score'], 'sortBy': {'score': -1}, "
	    "'n': 3}",
	    "'G2'", games2,
	    "[['PlayerD', 80], ['PlayerC', 66], ['PlayerB', 14]]");

	/* Null and missing. */
	check("$firstN keeps null, missing becomes null", "$firstN",
	    "{'input': '$score', 'n': 5}", "'G1'", nulls,
	    "[1, 2, 3, null, null]");
	check("$lastN keeps null, missing becomes null", "$lastN",
	    "{'input': '$score', 'n': 3}", "'G1'", nulls, "[3, null, null]");
	check("$maxN drops null and missing", "$maxN",
	    "{'input': '$score', 'n': 2}", "'G1'", nulls, "[3, 2]");
	check("$minN drops null and missing", "$minN",
	    "{'input': '$score', 'n': 2}", "'G1'", nulls, "[1, 2]");
	check("$maxN: n above the count gives all, descending", "$maxN",
	    "{'input': '$score', 'n': 10}", "'G1'", nulls, "[3, 2, 1]");
	check("$minN of nothing but nulls is []", "$minN",
	    "{'input': '$nope', 'n': 2}", "'G1'", nulls, "[]");
	check("$bottomN: manual nulls example", "$bottomN",
	    "{'output': ['$playerId', '$score'], 'sortBy': {'score': -1}, "
	    "'n': 3}",
	    "'G1'", nulls,
	    "[['PlayerA', 1], ['PlayerD', null], ['PlayerE', null]]");
	check("$bottom: manual nulls example (first of the tied)", "$bottom",
	    "{'output': ['$playerId', '$score'], 'sortBy': {'score': -1}}",
	    "'G1'", nulls, "['PlayerD', null]");
	check("$topN: manual nulls example", "$topN",
	    "{'output': ['$playerId', '$score'], 'sortBy': {'score': -1}, "
	    "'n': 3}",
	    "'G1'", nulls, "[['PlayerC', 3], ['PlayerB', 2], ['PlayerA', 1]]");
	check("$top: manual nulls example", "$top",
	    "{'output': ['$playerId', '$score'], 'sortBy': {'score': -1}}",
	    "'G1'", nulls, "['PlayerC', 3]");
	check("$topN: missing output becomes null", "$topN",
	    "{'output': '$score', 'sortBy': {'playerId': 1}, 'n': 5}", "'G1'",
	    nulls, "[1, 2, 3, null, null]");
	check("$top: missing output becomes null", "$top",
	    "{'output': '$score', 'sortBy': {'playerId': -1}}", "'G1'", nulls,
	    "null");
	check("$topN: ascending puts null (and missing) first", "$topN",
	    "{'output': '$playerId', 'sortBy': {'score': 1}, 'n': 3}", "'G1'",
	    nulls, "['PlayerD', 'PlayerE', 'PlayerA']");

	/* Percentiles: the manual's testScores. */
	check("$percentile: manual test01", "$percentile",
	    "{'input': '$test01', 'p': [0.5, 0.75, 0.9, 0.95], 'method': "
	    "'approximate'}",
	    NULL, scores,
	    "[" D("62.0") ", " D("64.0") ", " D("67.0") ", " D("67.0") "]");
	check("$percentile: manual test02", "$percentile",
	    "{'input': '$test02', 'p': [0.5, 0.75, 0.9, 0.95], 'method': "
	    "'approximate'}",
	    NULL, scores,
	    "[" D("81.0") ", " D("82.0") ", " D("83.0") ", " D("83.0") "]");
	check("$percentile: manual test03", "$percentile",
	    "{'input': '$test03', 'p': [0.5, 0.75, 0.9, 0.95], 'method': "
	    "'approximate'}",
	    NULL, scores,
	    "[" D("78.0") ", " D("79.0") ", " D("80.0") ", " D("80.0") "]");
	check("$median: manual test01", "$median",
	    "{'input': '$test01', 'method': 'approximate'}", NULL, scores,
	    D("62.0"));
	check("$median: manual test02", "$median",
	    "{'input': '$test02', 'method': 'approximate'}", NULL, scores,
	    D("81.0"));
	check("$percentile: p as given, not sorted; 0 and 1 are min and max",
	    "$percentile",
	    "{'input': '$test01', 'p': [1, 0, 0.5, 0.2, 0.21], 'method': "
	    "'approximate'}",
	    NULL, scores,
	    "[" D("67.0") ", " D("60.0") ", " D("62.0") ", " D("60.0") ", " D(
		"60.0") "]");
}

static void
test_percentile_values(void)
{
	static const char *const mixed[] = {
	    "{'x': 'a'}",
	    "{'x': null}",
	    "{}",
	    "{'x': true}",
	    "{'x': [1, 2]}",
	    "{'x': " L("3") "}",
	    "{'x': " DEC("1.5") "}",
	    "{'x': 2}",
	    "{'x': " D("NaN") "}",
	    NULL,
	};
	static const char *const none[] = {"{'x': 'a'}", "{}", NULL};
	static const char *const infs[] = {
	    "{'x': " D("Infinity") "}",
	    "{'x': 1}",
	    "{'x': " D("-Infinity") "}",
	    "{'x': 2}",
	    NULL,
	};
	static const char *const onlyinf[] = {"{'x': " D("Infinity") "}", NULL};
	static const char *const negs[] = {"{'x': -5}", "{'x': -3}", NULL};

	check("$percentile: only numbers count (long, decimal, int; NaN "
	      "ignored)",
	    "$percentile",
	    "{'input': '$x', 'p': [0, 0.5, 1], 'method': 'approximate'}", NULL,
	    mixed, "[" D("1.5") ", " D("2.0") ", " D("3.0") "]");
	check("$percentile: no numbers gives nulls", "$percentile",
	    "{'input': '$x', 'p': [0.1, 0.9], 'method': 'approximate'}", NULL,
	    none, "[null, null]");
	check("$median: no numbers gives null", "$median",
	    "{'input': '$x', 'method': 'approximate'}", NULL, none, "null");
	check("$median: no documents gives null", "$median",
	    "{'input': '$x', 'method': 'approximate'}", NULL, NULL, "null");
	check("$percentile: infinities rank at the ends", "$percentile",
	    "{'input': '$x', 'p': [0, 0.25, 0.5, 0.75, 1], 'method': "
	    "'approximate'}",
	    NULL, infs,
	    "[" D("-Infinity") ", " D("-Infinity") ", " D("1.0") ", " D(
		"2.0") ", " D("Infinity") "]");
	check("$percentile: only Infinity", "$percentile",
	    "{'input': '$x', 'p': [0, 0.5, 1], 'method': 'approximate'}", NULL,
	    onlyinf,
	    "[" D("Infinity") ", " D("Infinity") ", " D("Infinity") "]");
	check("$percentile: all negative, p 1 is the max", "$percentile",
	    "{'input': '$x', 'p': [1, 0.5], 'method': 'approximate'}", NULL,
	    negs, "[" D("-3.0") ", " D("-5.0") "]");
	check("$percentile: p from a constant expression", "$percentile",
	    "{'input': '$test01', 'p': {'$concatArrays': [[0.5], [0.95]]}, "
	    "'method': 'approximate'}",
	    NULL, scores, "[" D("62.0") ", " D("67.0") "]");
}

static void
test_errors(void)
{
	static const char *const one[] = {"{'a': 1, 'g': 'x'}", NULL};

	/* $firstN family. */
	check("$firstN: not an object", "$firstN", "3", NULL, NULL,
	    "CERR:specification must be an object; found $firstN: 3");
	check("$maxN: not an object (array)", "$maxN", "[1]", NULL, NULL,
	    "CERR:specification must be an object; found $maxN: [ 1 ]");
	check("$firstN: unknown field", "$firstN",
	    "{'input': '$a', 'n': 2, 'randomField': 'x'}", NULL, NULL,
	    "CERR:Unknown argument for 'n' operator: randomField");
	check("$firstN: 'output' is not its word", "$firstN",
	    "{'output': '$a', 'n': 2}", NULL, NULL,
	    "CERR:Unknown argument for 'n' operator: output");
	check("$lastN: missing n", "$lastN", "{'input': '$a'}", NULL, NULL,
	    "CERR:Missing value for 'n'");
	check("$minN: missing input", "$minN", "{'n': 2}", NULL, NULL,
	    "CERR:Missing value for 'input'");
	check("$minN: n and input both missing: n first", "$minN", "{}", NULL,
	    NULL, "CERR:Missing value for 'n'");
	check("$firstN: n a string", "$firstN", "{'input': '$a', 'n': 'x'}",
	    NULL, NULL,
	    "CERR:Value for 'n' must be of integral type, but found \"x\"");
	check("$firstN: n 3.2", "$firstN", "{'input': '$a', 'n': 3.2}", NULL,
	    NULL, "CERR:Value for 'n' must be of integral type, but found 3.2");
	check("$firstN: n -1", "$firstN", "{'input': '$a', 'n': -1}", NULL,
	    NULL, "CERR:'n' must be greater than 0, found -1");
	check("$firstN: n 0", "$maxN", "{'input': '$a', 'n': 0}", NULL, NULL,
	    "CERR:'n' must be greater than 0, found 0");
	check("$firstN: n null", "$firstN", "{'input': '$a', 'n': null}", NULL,
	    NULL,
	    "CERR:Value for 'n' must be of integral type, but found null");
	check("$firstN: n NaN", "$firstN", "{'input': '$a', 'n': " D("NaN") "}",
	    NULL, NULL,
	    "CERR:Value for 'n' must be of integral type, but found nan");
	check("$firstN: n 2.0 is integral", "$firstN",
	    "{'input': '$a', 'n': 2.0}", NULL, one, "[1]");
	check("$firstN: n a decimal 2", "$firstN",
	    "{'input': '$a', 'n': " DEC("2") "}", NULL, one, "[1]");
	check("$maxN: n the largest int64 as a decimal (min_n_max_n.js)",
	    "$maxN", "{'input': '$a', 'n': " DEC("9223372036854775807") "}",
	    NULL, one, "[1]");
	check("$maxN: n a decimal 2.5", "$maxN",
	    "{'input': '$a', 'n': " DEC("2.5") "}", NULL, NULL,
	    "CERR:Value for 'n' must be of integral type, but found 2.5");
	check("$maxN: n a double past int64", "$maxN",
	    "{'input': '$a', 'n': 1e30}", NULL, NULL,
	    "CERR:Value for 'n' must be of integral type, but found 1e+30");
	check("$firstN: n a long", "$lastN", "{'input': '$a', 'n': " L("2") "}",
	    NULL, one, "[1]");
	check("$firstN: a constant expression for n", "$firstN",
	    "{'input': '$a', 'n': {'$add': [1, 1]}}", NULL, one, "[1]");
	check("$firstN: a bad constant expression for n", "$firstN",
	    "{'input': '$a', 'n': {'$subtract': [1, 1]}}", NULL, NULL,
	    "CERR:'n' must be greater than 0, found 0");
	check("$firstN: n from the key, bad for this group", "$firstN",
	    "{'input': '$a', 'n': '$g'}", "{'g': 'x'}", NULL,
	    "IERR:Value for 'n' must be of integral type, but found \"x\"");
	check("$firstN: n from a scalar key is over {}: missing", "$firstN",
	    "{'input': '$a', 'n': '$g'}", "5", NULL,
	    "IERR:Value for 'n' must be of integral type, but found MISSING");
	check("$firstN: bad input expression", "$firstN",
	    "{'input': {'$nope': 1}, 'n': 2}", NULL, NULL,
	    "CERR:Unrecognized expression '$nope'");

	/* $topN family. */
	check("$topN: not an object", "$topN", "1", NULL, NULL,
	    "CERR:specification must be an object; found $topN: 1");
	check("$top: not an object", "$top", "'x'", NULL, NULL,
	    "CERR:specification must be an object; found $top: \"x\"");
	check("$topN: unknown field", "$topN",
	    "{'output': '$a', 'sortBy': {'a': 1}, 'n': 1, 'foo': 1}", NULL,
	    NULL, "CERR:Unknown argument to $topN 'foo'");
	check("$top: n is unknown to it", "$top",
	    "{'output': '$a', 'sortBy': {'a': 1}, 'n': 1}", NULL, NULL,
	    "CERR:Unknown argument to $top 'n'");
	check("$bottom: 'input' is unknown", "$bottom",
	    "{'input': '$a', 'sortBy': {'a': 1}}", NULL, NULL,
	    "CERR:Unknown argument to $bottom 'input'");
	check("$topN: missing n", "$topN",
	    "{'output': '$a', 'sortBy': {'a': 1}}", NULL, NULL,
	    "CERR:Missing value for 'n'");
	check("$bottomN: missing output", "$bottomN",
	    "{'sortBy': {'a': 1}, 'n': 1}", NULL, NULL,
	    "CERR:Missing value for 'output'");
	check("$top: missing sortBy", "$top", "{'output': '$a'}", NULL, NULL,
	    "CERR:Missing value for 'sortBy'");
	check("$topN: sortBy not an object", "$topN",
	    "{'output': '$a', 'sortBy': 1, 'n': 1}", NULL, NULL,
	    "CERR:invalid parameter: expected an object (sortBy)");
	check("$topN: sortBy empty", "$topN",
	    "{'output': '$a', 'sortBy': {}, 'n': 1}", NULL, NULL,
	    "CERR:$sort stage must have at least one sort key");
	check("$topN: sortBy direction 2", "$topN",
	    "{'output': '$a', 'sortBy': {'a': 2}, 'n': 1}", NULL, NULL,
	    "CERR:$sort key ordering must be 1 (for ascending) or -1 (for "
	    "descending)");
	check("$topN: sortBy checked before n", "$topN",
	    "{'output': '$a', 'sortBy': {'a': 2}, 'n': 0}", NULL, NULL,
	    "CERR:$sort key ordering must be 1 (for ascending) or -1 (for "
	    "descending)");
	check("$topN: n 0", "$topN",
	    "{'output': '$a', 'sortBy': {'a': 1}, 'n': 0}", NULL, NULL,
	    "CERR:'n' must be greater than 0, found 0");
	check("$bottomN: n 1.5", "$bottomN",
	    "{'output': '$a', 'sortBy': {'a': 1}, 'n': 1.5}", NULL, NULL,
	    "CERR:Value for 'n' must be of integral type, but found 1.5");
	check("$topN: parallel arrays in sortBy fail the document", "$topN",
	    "{'output': '$a', 'sortBy': {'a': 1, 'b': 1}, 'n': 1}", NULL,
	    (const char *const[]){"{'a': [1, 2], 'b': [3, 4]}", NULL},
	    "ERR:cannot sort with keys that are parallel arrays");

	/* Percentiles. */
	check("$percentile: not an object", "$percentile", "0.5", NULL, NULL,
	    "CERR:specification must be an object; found $percentile: 0.5");
	check("$median: not an object", "$median", "'$x'", NULL, NULL,
	    "CERR:specification must be an object; found $median: \"$x\"");
	check("$percentile: missing p", "$percentile",
	    "{'input': '$x', 'method': 'approximate'}", NULL, NULL,
	    "CERR:BSON field '$percentile.p' is missing but a required field");
	check("$percentile: missing input", "$percentile",
	    "{'p': [0.5], 'method': 'approximate'}", NULL, NULL,
	    "CERR:BSON field '$percentile.input' is missing but a required "
	    "field");
	check("$percentile: missing method", "$percentile",
	    "{'p': [0.5], 'input': '$x'}", NULL, NULL,
	    "CERR:BSON field '$percentile.method' is missing but a required "
	    "field");
	check("$percentile: unknown field", "$percentile",
	    "{'p': [0.5], 'input': '$x', 'method': 'approximate', 'extras': "
	    "42}",
	    NULL, NULL,
	    "CERR:BSON field '$percentile.extras' is an unknown field.");
	check("$percentile: duplicate field", "$percentile",
	    "{'p': [0.5], 'input': '$x', 'p': [0.1], 'method': 'approximate'}",
	    NULL, NULL, "CERR:BSON field '$percentile.p' is a duplicate field");
	check("$percentile: method not a string", "$percentile",
	    "{'p': [0.5], 'input': '$x', 'method': 42}", NULL, NULL,
	    "CERR:BSON field '$percentile.method' is the wrong type 'int', "
	    "expected type 'string'");
	check("$percentile: method 'fancy'", "$percentile",
	    "{'p': [0.5], 'input': '$x', 'method': 'fancy'}", NULL, NULL,
	    "CERR:Currently only 'approximate' can be used as percentile "
	    "'method'.");
	check("$percentile: method 'discrete' (off in 8.0)", "$percentile",
	    "{'p': [0.5], 'input': '$x', 'method': 'discrete'}", NULL, NULL,
	    "CERR:Currently only 'approximate' can be used as percentile "
	    "'method'.");
	check("$median: method 'continuous' (off in 8.0)", "$median",
	    "{'input': '$x', 'method': 'continuous'}", NULL, NULL,
	    "CERR:Currently only 'approximate' can be used as percentile "
	    "'method'.");
	check("$median: p is unknown to it", "$median",
	    "{'p': [0.5], 'input': '$x', 'method': 'approximate'}", NULL, NULL,
	    "CERR:BSON field '$median.p' is an unknown field.");
	check("$median: missing input", "$median", "{'method': 'approximate'}",
	    NULL, NULL,
	    "CERR:BSON field '$median.input' is missing but a required field");
	check("$percentile: p not an array", "$percentile",
	    "{'p': 0.5, 'input': '$x', 'method': 'approximate'}", NULL, NULL,
	    "CERR:The $percentile 'p' field must be an array of numbers from "
	    "[0.0, 1.0], but found: 0.5");
	check("$percentile: p empty", "$percentile",
	    "{'p': [], 'input': '$x', 'method': 'approximate'}", NULL, NULL,
	    "CERR:The $percentile 'p' field must be an array of numbers from "
	    "[0.0, 1.0], but found: []");
	check("$percentile: p with a string", "$percentile",
	    "{'p': [0.5, 'foo'], 'input': '$x', 'method': 'approximate'}", NULL,
	    NULL,
	    "CERR:The $percentile 'p' field must be an array of numbers from "
	    "[0.0, 1.0], but found: \"foo\"");
	check("$percentile: p above 1", "$percentile",
	    "{'p': [0.5, 10], 'input': '$x', 'method': 'approximate'}", NULL,
	    NULL,
	    "CERR:The $percentile 'p' field must be an array of numbers from "
	    "[0.0, 1.0], but found: 10");
	check("$percentile: p below 0", "$percentile",
	    "{'p': [-0.5], 'input': '$x', 'method': 'approximate'}", NULL, NULL,
	    "CERR:The $percentile 'p' field must be an array of numbers from "
	    "[0.0, 1.0], but found: -0.5");
	check("$percentile: p NaN", "$percentile",
	    "{'p': [" D("NaN") "], 'input': '$x', 'method': 'approximate'}",
	    NULL, NULL,
	    "CERR:The $percentile 'p' field must be an array of numbers from "
	    "[0.0, 1.0], but found: nan");
	check("$percentile: p not constant", "$percentile",
	    "{'p': ['$x'], 'input': '$x', 'method': 'approximate'}", NULL, NULL,
	    "CERR:The $percentile 'p' field must be an array of constant "
	    "values, but found value: [ \"$x\" ].");
	check("$percentile: p an expression of a non-array", "$percentile",
	    "{'p': {'$add': [0.1, 0.5]}, 'input': '$x', 'method': "
	    "'approximate'}",
	    NULL, NULL,
	    "CERR:The $percentile 'p' field must be an array of numbers from "
	    "[0.0, 1.0], but found: 0.6");
}

static void
test_n_from_key(void)
{
	static const char *const docs[] = {
	    "{'a': 1}", "{'a': 2}", "{'a': 3}", "{'a': 4}", NULL};
	const char *arg = "{'input': '$a', 'n': {'$cond': {'if': {'$eq': "
			  "['$gameId', 'G2']}, 'then': 1, 'else': 3}}}";

	/* The manual's example: _id {gameId: "$gameId"}. */
	check("n from the _id document: G2 takes 1", "$firstN", arg,
	    "{'gameId': 'G2'}", docs, "[1]");
	check("n from the _id document: G1 takes 3", "$firstN", arg,
	    "{'gameId': 'G1'}", docs, "[1, 2, 3]");
	check("n over {} when _id is not a document", "$lastN", arg, "'G2'",
	    docs, "[2, 3, 4]");
	check("n from the key for $topN", "$topN",
	    "{'output': '$a', 'sortBy': {'a': -1}, 'n': '$k'}", "{'k': 2}",
	    docs, "[4, 3]");
	check("n from the key for $maxN, a long", "$maxN",
	    "{'input': '$a', 'n': '$k'}", "{'k': " L("3") "}", docs,
	    "[4, 3, 2]");
}

static void
test_ties(void)
{
	/* 1, 1.0 and 1L are equal: which one shows says which was kept. */
	static const char *const eq[] = {
	    "{'a': 1, 't': 'a'}",
	    "{'a': 1.0, 't': 'b'}",
	    "{'a': " L("1") ", 't': 'c'}",
	    "{'a': 0, 't': 'd'}",
	    NULL,
	};
	static const char *const eq2[] = {
	    "{'a': 1, 't': 'a'}",
	    "{'a': 1, 't': 'b'}",
	    "{'a': 1, 't': 'c'}",
	    "{'a': 2, 't': 'd'}",
	    NULL,
	};

	check("$maxN: ties come latest first (the multiset read backwards)",
	    "$maxN", "{'input': '$a', 'n': 3}", NULL, eq,
	    "[" L("1") ", 1.0, 1]");
	check("$minN: ties in arrival order", "$minN",
	    "{'input': '$a', 'n': 3}", NULL, eq, "[0, 1, 1.0]");
	check("$minN n=2: the first of the tied is kept", "$minN",
	    "{'input': '$a', 'n': 2}", NULL, eq, "[0, 1]");
	check("$maxN n=2: the first two tied are kept", "$maxN",
	    "{'input': '$a', 'n': 2}", NULL, eq, "[1.0, 1]");
	check("$topN: ties keep the first seen", "$topN",
	    "{'output': '$t', 'sortBy': {'a': -1}, 'n': 2}", NULL, eq,
	    "['a', 'b']");
	check("$top: the first of the tied", "$top",
	    "{'output': '$t', 'sortBy': {'a': -1}}", NULL, eq, "'a'");
	check("$bottom: the first of the tied", "$bottom",
	    "{'output': '$t', 'sortBy': {'a': 1}}", NULL, eq, "'a'");
	/* MongoDB evicts the earliest of its smallest: a goes when d
	 * comes, though c was refused as a tie. */
	check("$bottomN: eviction takes the earliest of the tied", "$bottomN",
	    "{'output': '$t', 'sortBy': {'a': 1}, 'n': 2}", NULL, eq2,
	    "['b', 'd']");
	check("$maxN: eviction takes the earliest of the tied", "$maxN",
	    "{'input': '$a', 'n': 2}", NULL,
	    (const char *const[]){"{'a': 1}", "{'a': 1.0}", "{'a': " L("1") "}",
		"{'a': 2}", NULL},
	    "[2, 1.0]");
	check("$bottomN: sortBy on two fields", "$bottomN",
	    "{'output': '$t', 'sortBy': {'a': 1, 't': -1}, 'n': 2}", NULL, eq2,
	    "['a', 'd']");
	check("$topN: sort key through an array (ascending: its least)",
	    "$topN", "{'output': '$t', 'sortBy': {'a': 1}, 'n': 1}", NULL,
	    (const char *const[]){
		"{'a': [5, 0], 't': 'x'}", "{'a': 1, 't': 'y'}", NULL},
	    "['x']");
	check("$topN: sort key through an array (descending: its greatest)",
	    "$topN", "{'output': '$t', 'sortBy': {'a': -1}, 'n': 1}", NULL,
	    (const char *const[]){
		"{'a': 4, 't': 'y'}", "{'a': [5, 0], 't': 'x'}", NULL},
	    "['x']");
	check("$topN: dotted sortBy path", "$topN",
	    "{'output': '$t', 'sortBy': {'a.b': -1}, 'n': 2}", NULL,
	    (const char *const[]){"{'a': {'b': 1}, 't': 'x'}",
		"{'a': {'b': 3}, 't': 'y'}", "{'t': 'z'}", NULL},
	    "['y', 'x']");
	check("$topN: mixed types sort in BSON order", "$topN",
	    "{'output': '$a', 'sortBy': {'a': 1}, 'n': 4}", NULL,
	    (const char *const[]){"{'a': 'b'}", "{'a': 2}", "{'a': null}",
		"{'a': {'x': 1}}", "{'a': 1}", NULL},
	    "[null, 1, 2, 'b']");
}

/* --------------------------------------------- reference and shards */

/* A tiny PRNG, so that failures repeat. */
static uint64_t rng = 88172645463325252ull;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* One random document: a from a few values of mixed numeric types (lots
 * of ties), sometimes null or missing; t tells the documents apart. */
static char *
rand_doc(int i)
{
	static const char *const av[] = {
	    "1", "1.0", L("1"), "2", "3", DEC("2"), "0", "null", NULL, "-1"};
	const char *a = av[rnd(sizeof(av) / sizeof(av[0]))];
	struct sp_buf b;
	char *s;

	sp_buf_init(&b);
	if (a == NULL)
		sp_buf_printf(&b, "{'t': %d}", i);
	else
		sp_buf_printf(&b, "{'a': %s, 't': %d}", a, i);
	s = sp_xstrdup(sp_buf_cstr(&b));
	sp_buf_release(&b);
	return s;
}

/* The value of field f of a JSON document (a copy in b), EOD if absent. */
static void
field_of(struct sp_buf *b, const char *json, const char *f, bson_value_t *v)
{
	struct sp_error err;
	bson_iter_t it;
	char *j = dq(json);

	sp_json_parse(b, j, strlen(j), &err);
	free(j);
	v->value_type = BSON_TYPE_EOD;
	if (bson_iter_init_from_data(&it, b->data, (uint32_t)b->len) &&
	    bson_iter_find(&it, f))
		*v = *bson_iter_value(&it);
}

/*
 * MongoDB's accumulator simulated plainly: a list in (key, arrival)
 * order where equal keys go after those already there (a multimap), with
 * its rules for who is refused and who is evicted.
 */
struct ref {
	struct sp_buf doc[64];
	bson_value_t key[64], out[64];
	int n;
};

static int
ref_cmp(const bson_value_t *x, const bson_value_t *y, int dir)
{
	bson_value_t nx = *x, ny = *y;

	if (nx.value_type == BSON_TYPE_EOD)
		nx.value_type = BSON_TYPE_NULL;
	if (ny.value_type == BSON_TYPE_EOD)
		ny.value_type = BSON_TYPE_NULL;
	return sp_value_compare(&nx, &ny) * dir;
}

/*
 * kind: "$minN", "$maxN", "$topN", "$bottomN" (sortBy {a: dir}, output
 * t). Returns the expected result as canonical JSON (malloc'd).
 */
static char *
reference(const char *kind, int dir, int n, char **docs, int nd)
{
	struct ref *r = sp_xcalloc(1, sizeof(*r));
	bool low = strcmp(kind, "$minN") == 0 || strcmp(kind, "$topN") == 0;
	bool vals = strcmp(kind, "$minN") == 0 || strcmp(kind, "$maxN") == 0;
	struct sp_buf out;
	int i, j, pos;
	char *s;

	for (i = 0; i < nd; i++) {
		struct sp_buf b;
		bson_value_t k, o;

		sp_buf_init(&b);
		field_of(&b, docs[i], "a", &k);
		if (vals) {
			if (expr_nullish(&k)) {
				sp_buf_release(&b);
				continue;
			}
			o = k;
		} else {
			/* t is an int32, held in the value itself. */
			struct sp_buf b2;

			sp_buf_init(&b2);
			field_of(&b2, docs[i], "t", &o);
			sp_buf_release(&b2);
		}
		if (r->n == n) {
			if (low) {
				if (ref_cmp(&r->key[n - 1], &k, dir) <= 0) {
					sp_buf_release(&b);
					continue;
				}
				sp_buf_release(&r->doc[n - 1]);
				r->n--;
			} else {
				if (ref_cmp(&k, &r->key[0], dir) <= 0) {
					sp_buf_release(&b);
					continue;
				}
				sp_buf_release(&r->doc[0]);
				memmove(&r->doc[0], &r->doc[1],
				    sizeof(r->doc[0]) * (size_t)(r->n - 1));
				memmove(&r->key[0], &r->key[1],
				    sizeof(r->key[0]) * (size_t)(r->n - 1));
				memmove(&r->out[0], &r->out[1],
				    sizeof(r->out[0]) * (size_t)(r->n - 1));
				r->n--;
			}
		}
		for (pos = r->n;
		     pos > 0 && ref_cmp(&r->key[pos - 1], &k, dir) > 0; pos--)
			;
		memmove(&r->doc[pos + 1], &r->doc[pos],
		    sizeof(r->doc[0]) * (size_t)(r->n - pos));
		memmove(&r->key[pos + 1], &r->key[pos],
		    sizeof(r->key[0]) * (size_t)(r->n - pos));
		memmove(&r->out[pos + 1], &r->out[pos],
		    sizeof(r->out[0]) * (size_t)(r->n - pos));
		r->doc[pos] = b;
		r->key[pos] = k;
		r->out[pos] = o;
		r->n++;
	}
	sp_buf_init(&out);
	sp_buf_putc(&out, '[');
	for (i = 0; i < r->n; i++) {
		j = strcmp(kind, "$maxN") == 0 ? r->n - 1 - i : i;
		if (i > 0)
			sp_buf_putc(&out, ',');
		sp_ejson_value(&out, &r->out[j], SP_EJSON_CANONICAL);
	}
	sp_buf_putc(&out, ']');
	for (i = 0; i < r->n; i++)
		sp_buf_release(&r->doc[i]);
	free(r);
	s = sp_xstrdup(sp_buf_cstr(&out));
	sp_buf_release(&out);
	return s;
}

/*
 * Runs docs[0..nd) through {name: arg} once, and again in 4 consecutive
 * shards whose partials (through canonical Extended JSON) are merged in
 * order. Returns both results (malloc'd) in *one and *merged.
 */
static int
shards(const char *name, const char *arg, char **docs, int nd, const int cut[3],
    char **one, char **merged)
{
	struct sp_error err;
	struct accum a;
	void *st, *fin;
	int s, i, from, to;

	*one = *merged = NULL;
	if (acc_compile(&a, name, arg, &err) < 0) {
		printf("# %s\n", err.msg);
		return -1;
	}
	st = state_new(&a);
	state_init(&a, st, NULL, &err);
	for (i = 0; i < nd; i++)
		add_json(&a, st, docs[i], &err);
	*one = render(&a, st, false, SP_EJSON_CANONICAL);
	state_free(&a, st);

	fin = state_new(&a);
	state_init(&a, fin, NULL, &err);
	for (s = 0; s < 4; s++) {
		struct sp_buf pb;
		bson_value_t pv;
		char *p;

		from = s == 0 ? 0 : cut[s - 1];
		to = s == 3 ? nd : cut[s];
		st = state_new(&a);
		state_init(&a, st, NULL, &err);
		for (i = from; i < to; i++)
			add_json(&a, st, docs[i], &err);
		p = render(&a, st, true, SP_EJSON_CANONICAL);
		state_free(&a, st);
		sp_buf_init(&pb);
		if (parse_value(&pb, p, &pv) < 0 ||
		    a.ops->merge(&a, fin, &pv, &err) < 0) {
			printf("# merge: %s\n", err.msg);
			free(p);
			sp_buf_release(&pb);
			break;
		}
		free(p);
		sp_buf_release(&pb);
	}
	*merged = render(&a, fin, false, SP_EJSON_CANONICAL);
	state_free(&a, fin);
	acc_release(&a);
	return 0;
}

static void
rand_cuts(int nd, int cut[3])
{
	int i, t;

	for (i = 0; i < 3; i++)
		cut[i] = (int)rnd((unsigned)nd + 1);
	/* sorted; shards may be empty */
	for (i = 0; i < 3; i++)
		for (t = i + 1; t < 3; t++)
			if (cut[t] < cut[i]) {
				int x = cut[t];

				cut[t] = cut[i];
				cut[i] = x;
			}
}

static void
test_reference_and_shards(void)
{
	static const char *const kinds[] = {
	    "$minN", "$maxN", "$topN", "$bottomN"};
	int k, round, bad_ref = 0, bad_merge = 0, runs = 0;

	for (k = 0; k < 4; k++) {
		for (round = 0; round < 600; round++) {
			int nd = 1 + (int)rnd(63), n = 1 + (int)rnd(6);
			int dir = rnd(2) ? 1 : -1, cut[3], i;
			char *docs[64], arg[160], *one, *merged, *want;

			for (i = 0; i < nd; i++)
				docs[i] = rand_doc(i);
			if (k < 2)
				snprintf(arg, sizeof(arg),
				    "{'input': '$a', 'n': %d}", n);
			else
				snprintf(arg, sizeof(arg),
				    "{'output': '$t', 'sortBy': {'a': %d}, "
				    "'n': %d}",
				    dir, n);
			rand_cuts(nd, cut);
			shards(kinds[k], arg, docs, nd, cut, &one, &merged);
			want =
			    reference(kinds[k], k < 2 ? 1 : dir, n, docs, nd);
			runs++;
			if (one == NULL || strcmp(one, want) != 0) {
				if (bad_ref++ < 3)
					printf("# %s %s: got %s, MongoDB "
					       "would give %s\n",
					    kinds[k], arg, one ? one : "-",
					    want);
			}
			if (one == NULL || merged == NULL ||
			    strcmp(one, merged) != 0) {
				if (bad_merge++ < 3)
					printf("# %s %s cuts %d %d %d: one "
					       "run %s, merged %s\n",
					    kinds[k], arg, cut[0], cut[1],
					    cut[2], one ? one : "-",
					    merged ? merged : "-");
			}
			free(one);
			free(merged);
			free(want);
			for (i = 0; i < nd; i++)
				free(docs[i]);
		}
	}
	is_int(bad_ref, 0,
	    "%d random streams with ties: $minN $maxN $topN $bottomN as "
	    "MongoDB's multimap gives them",
	    runs);
	is_int(bad_merge, 0,
	    "%d random streams: 4 shards' partials merged give one run's "
	    "answer",
	    runs);
}

static void
test_shards_first_last_single(void)
{
	static const char *const cases[][2] = {
	    {"$firstN", "{'input': '$a', 'n': 3}"},
	    {"$lastN", "{'input': '$a', 'n': 3}"},
	    {"$firstN", "{'input': '$a', 'n': 1}"},
	    {"$lastN", "{'input': '$a', 'n': 7}"},
	    {"$top", "{'output': '$t', 'sortBy': {'a': 1}}"},
	    {"$bottom", "{'output': '$t', 'sortBy': {'a': -1}}"},
	    {"$top", "{'output': ['$a', '$t'], 'sortBy': {'a': -1, 't': 1}}"},
	    {"$bottom", "{'output': '$a', 'sortBy': {'a': 1}}"},
	};
	size_t c;
	int round, bad = 0, runs = 0;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		for (round = 0; round < 100; round++) {
			int nd = (int)rnd(30), cut[3], i;
			char *docs[64], *one, *merged;

			for (i = 0; i < nd; i++)
				docs[i] = rand_doc(i);
			rand_cuts(nd, cut);
			shards(cases[c][0], cases[c][1], docs, nd, cut, &one,
			    &merged);
			runs++;
			if (one == NULL || merged == NULL ||
			    strcmp(one, merged) != 0) {
				if (bad++ < 3)
					printf("# %s: one %s, merged %s\n",
					    cases[c][0], one ? one : "-",
					    merged ? merged : "-");
			}
			free(one);
			free(merged);
			for (i = 0; i < nd; i++)
				free(docs[i]);
		}
	is_int(bad, 0,
	    "%d random streams: $firstN $lastN $top $bottom merged from 4 "
	    "shards",
	    runs);
}

/* ------------------------------------------------------- percentiles */

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Feeds x[0..n) as {x: value} documents; returns the state. */
static void *
feed(const struct accum *a, const double *x, int n)
{
	struct sp_error err;
	bson_t d;
	void *st = state_new(a);
	int i;

	state_init(a, st, NULL, &err);
	for (i = 0; i < n; i++) {
		bson_init(&d);
		BSON_APPEND_DOUBLE(&d, "x", x[i]);
		add_doc(a, st, bson_get_data(&d), d.len, &err);
		bson_destroy(&d);
	}
	return st;
}

static const char *const pct_arg =
    "{'input': '$x', 'p': [0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999, 1], "
    "'method': 'approximate'}";
static const double pct_p[] = {0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999, 1};

/* The discrete percentiles of x[0..n), as canonical JSON. */
static char *
discrete(const double *x, int n)
{
	double *s = sp_xmalloc(sizeof(*s) * (size_t)n);
	struct sp_buf b;
	bson_value_t v;
	size_t i;
	char *r;

	memcpy(s, x, sizeof(*s) * (size_t)n);
	qsort(s, (size_t)n, sizeof(*s), dcmp);
	sp_buf_init(&b);
	sp_buf_putc(&b, '[');
	for (i = 0; i < sizeof(pct_p) / sizeof(pct_p[0]); i++) {
		long rank =
		    pct_p[i] >= 1 ? n - 1 : (long)ceil(n * pct_p[i]) - 1;

		if (rank < 0)
			rank = 0;
		if (i > 0)
			sp_buf_putc(&b, ',');
		expr_set_double(&v, s[rank]);
		sp_ejson_value(&b, &v, SP_EJSON_CANONICAL);
	}
	sp_buf_putc(&b, ']');
	free(s);
	r = sp_xstrdup(sp_buf_cstr(&b));
	sp_buf_release(&b);
	return r;
}

static void
test_percentile_exact(void)
{
	struct sp_error err;
	struct accum a;
	double *x = sp_xmalloc(sizeof(*x) * 6000);
	int sizes[] = {1, 2, 3, 10, 99, 500, 999, 1000}, bad = 0;
	size_t k;
	int i;

	acc_compile(&a, "$percentile", pct_arg, &err);
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		void *st;
		char *got, *want;

		for (i = 0; i < sizes[k]; i++)
			x[i] = (double)rnd(200) - 50 + (rnd(4) ? 0 : 0.25);
		st = feed(&a, x, sizes[k]);
		got = render(&a, st, false, SP_EJSON_CANONICAL);
		want = discrete(x, sizes[k]);
		if (strcmp(got, want) != 0 && bad++ < 2)
			printf("# n=%d: got %s want %s\n", sizes[k], got, want);
		free(got);
		free(want);
		state_free(&a, st);
	}
	is_int(bad, 0,
	    "$percentile: exact discrete percentiles up to 1000 "
	    "values, ties and negatives");

	/* 1001 distinct values: the digest merges centroids, and the
	 * answer is no longer exactly the discrete one, but close. */
	{
		void *st;
		double lo = 0, hi = 0;
		struct sp_arena ar;
		bson_value_t v;
		bson_iter_t it;

		for (i = 0; i < 6000; i++)
			x[i] = i;
		st = feed(&a, x, 6000);
		sp_arena_init(&ar);
		a.ops->result(&a, st, &ar, &v);
		bson_iter_init_from_data(
		    &it, v.value.v_doc.data, v.value.v_doc.data_len);
		bson_iter_next(&it);
		lo = bson_iter_double(&it);
		for (i = 0; i < 4; i++)
			bson_iter_next(&it);
		hi = bson_iter_double(&it);
		ok(lo == 0 && fabs(hi - 2999) <= 30,
		    "$percentile over 6000 values: min exact, median %g "
		    "within 1%%",
		    hi);
		sp_arena_release(&ar);
		state_free(&a, st);
	}
	acc_release(&a);
	free(x);
}

static void
test_percentile_bounded(void)
{
	struct sp_error err;
	struct accum a;
	void *st;
	size_t small = 0, big;
	int i;
	bson_t d;

	acc_compile(
	    &a, "$median", "{'input': '$x', 'method': 'approximate'}", &err);
	st = state_new(&a);
	for (i = 0; i < 400000; i++) {
		if (i == 20000)
			small = a.ops->bytes(&a, st);
		bson_init(&d);
		BSON_APPEND_DOUBLE(&d, "x", (double)rnd(1000000) / 7);
		add_doc(&a, st, bson_get_data(&d), d.len, &err);
		bson_destroy(&d);
	}
	big = a.ops->bytes(&a, st);
	ok(big < 128 * 1024 && big <= small + 32 * 1024,
	    "$median state stays bounded: %zu bytes after 20000 values, %zu "
	    "after 400000",
	    small, big);
	state_free(&a, st);
	acc_release(&a);
}

static void
test_percentile_shards(void)
{
	struct sp_error err;
	struct accum a;
	double *x = sp_xmalloc(sizeof(*x) * 20000);
	int round, bad = 0, big = 0, i;

	acc_compile(&a, "$percentile", pct_arg, &err);
	for (round = 0; round < 40; round++) {
		/* Sizes around the exact limit and the buffer: the shards
		 * after the first hold fewer than 5000 values each. */
		int nd =
		    round < 20 ? 1 + (int)rnd(1500) : 4000 + (int)rnd(9000);
		int cut[3], s, from, to;
		void *st, *fin;
		char *one, *merged;

		for (i = 0; i < nd; i++)
			x[i] = (double)rnd(100000) / 3 - 1000;
		if (round % 5 == 0)
			x[rnd((unsigned)nd)] = INFINITY;
		if (round >= 20) {
			cut[0] = nd - 3 * (int)rnd(1600) - 100;
			if (cut[0] < 0)
				cut[0] = 0;
			cut[1] =
			    cut[0] + (int)rnd((unsigned)(nd - cut[0]) / 2 + 1);
			cut[2] = cut[1] + (int)rnd((unsigned)(nd - cut[1]) + 1);
			if (nd - cut[2] >= 5000 || cut[2] - cut[1] >= 5000 ||
			    cut[1] - cut[0] >= 5000)
				continue;
		} else {
			rand_cuts(nd, cut);
		}
		big += cut[0] >= 5000;
		st = feed(&a, x, nd);
		one = render(&a, st, false, SP_EJSON_CANONICAL);
		state_free(&a, st);
		fin = state_new(&a);
		for (s = 0; s < 4; s++) {
			struct sp_buf pb;
			bson_value_t pv;
			char *p;

			from = s == 0 ? 0 : cut[s - 1];
			to = s == 3 ? nd : cut[s];
			st = feed(&a, x + from, to - from);
			p = render(&a, st, true, SP_EJSON_CANONICAL);
			state_free(&a, st);
			sp_buf_init(&pb);
			if (parse_value(&pb, p, &pv) < 0 ||
			    a.ops->merge(&a, fin, &pv, &err) < 0)
				printf("# merge: %s\n", err.msg);
			sp_buf_release(&pb);
			free(p);
		}
		merged = render(&a, fin, false, SP_EJSON_CANONICAL);
		state_free(&a, fin);
		if (strcmp(one, merged) != 0 && bad++ < 3)
			printf("# n=%d cuts %d %d %d: one %s merged %s\n", nd,
			    cut[0], cut[1], cut[2], one, merged);
		free(one);
		free(merged);
	}
	is_int(bad, 0,
	    "$percentile: 4 shards merged equal one run (%d of them with a "
	    "first shard past the buffer)",
	    big);

	/* A later shard with its own centroids: approximate, but close. */
	{
		void *st, *fin, *s2;
		struct sp_arena ar;
		bson_value_t pv, v;
		bson_iter_t it;
		double med;

		for (i = 0; i < 20000; i++)
			x[i] = i;
		fin = feed(&a, x, 7000);
		s2 = feed(&a, x + 7000, 13000);
		sp_arena_init(&ar);
		a.ops->partial(&a, s2, &ar, &pv);
		a.ops->merge(&a, fin, &pv, &err);
		a.ops->result(&a, fin, &ar, &v);
		bson_iter_init_from_data(
		    &it, v.value.v_doc.data, v.value.v_doc.data_len);
		for (i = 0; i < 5; i++)
			bson_iter_next(&it);
		med = bson_iter_double(&it);
		ok(fabs(med - 9999.5) < 100,
		    "$percentile: merging two digests is approximate (median "
		    "%g of 0..19999)",
		    med);
		sp_arena_release(&ar);
		state_free(&a, s2);
		state_free(&a, fin);
		st = NULL;
		(void)st;
	}
	acc_release(&a);
	free(x);
}

/* ----------------------------------------------------- merge errors */

static void
test_merge_errors(void)
{
	static const char *const cases[][3] = {
	    {"$firstN", "{'input': '$a', 'n': 2}", "[1, 2]"},
	    {"$firstN", "{'input': '$a', 'n': 2}",
		"{'acc': '$lastN', 'v': []}"},
	    {"$firstN", "{'input': '$a', 'n': 2}", "{'acc': '$firstN'}"},
	    {"$firstN", "{'input': '$a', 'n': 2}",
		"{'acc': '$firstN', 'v': [], 'x': 1}"},
	    {"$maxN", "{'input': '$a', 'n': 2}",
		"{'acc': '$maxN', 'v': [null]}"},
	    {"$topN", "{'output': '$a', 'sortBy': {'a': 1}, 'n': 2}",
		"{'acc': '$topN', 'v': [1]}"},
	    {"$topN", "{'output': '$a', 'sortBy': {'a': 1}, 'n': 2}",
		"{'acc': '$topN', 'v': [{'o': 1, 'k': [1, 2]}]}"},
	    {"$top", "{'output': '$a', 'sortBy': {'a': 1}}",
		"{'acc': '$topN', 'v': [{'o': 1, 'k': [1]}]}"},
	    {"$percentile",
		"{'input': '$x', 'p': [0.5], 'method': 'approximate'}",
		"{'acc': '$median', 'neg': " L("0") ", 'pos': " L(
		    "0") ", 'min': 0.0, 'max': 0.0, 'w': [], 'm': [], 'b': "
			 "[]}"},
	    {"$median", "{'input': '$x', 'method': 'approximate'}",
		"{'acc': '$median', 'neg': " L("0") ", 'pos': " L(
		    "0") ", 'min': 0.0, 'max': 0.0, 'w': [1.0], 'm': [], 'b': "
			 "[]}"},
	    {"$median", "{'input': '$x', 'method': 'approximate'}",
		"{'acc': '$median', 'neg': " L("0") ", 'pos': " L(
		    "0") ", 'min': 0.0, 'max': 0.0, 'w': [], 'm': [], 'b': "
			 "['x']}"},
	    {"$median", "{'input': '$x', 'method': 'approximate'}",
		"{'acc': '$median', 'neg': " L("-1") ", 'pos': " L(
		    "0") ", 'min': 0.0, 'max': 0.0, 'w': [], 'm': [], 'b': "
			 "[]}"},
	};
	struct sp_error err;
	size_t c;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct accum a;
		struct sp_buf pb;
		bson_value_t pv;
		void *st;
		char *r;
		int rc;

		acc_compile(&a, cases[c][0], cases[c][1], &err);
		st = state_new(&a);
		state_init(&a, st, NULL, &err);
		add_json(&a, st, "{'a': 5, 'x': 5}", &err);
		sp_buf_init(&pb);
		parse_value(&pb, cases[c][2], &pv);
		rc = a.ops->merge(&a, st, &pv, &err);
		r = render(&a, st, false, SP_EJSON_RELAXED);
		ok(rc < 0 &&
			strncmp(err.msg, "not a partial state of ", 23) == 0,
		    "%s merge refuses %s (%s)", cases[c][0], cases[c][2],
		    rc < 0 ? err.msg : "accepted");
		ok(strstr(r, "5") != NULL, "%s: state unchanged: %s",
		    cases[c][0], r);
		free(r);
		sp_buf_release(&pb);
		state_free(&a, st);
		acc_release(&a);
	}
	{
		/* Missing (an absent field in a partial document). */
		struct accum a;
		bson_value_t miss = {.value_type = BSON_TYPE_EOD};
		void *st;

		acc_compile(&a, "$lastN", "{'input': '$a', 'n': 2}", &err);
		st = state_new(&a);
		state_init(&a, st, NULL, &err);
		ok(a.ops->merge(&a, st, &miss, &err) < 0 &&
			strcmp(err.msg,
			    "not a partial state of $lastN: MISSING") == 0,
		    "merge refuses a missing partial: %s", err.msg);
		state_free(&a, st);
		acc_release(&a);
	}
}

static void
test_partial_format(void)
{
	struct sp_error err;
	struct accum a;
	void *st;
	char *p;

	acc_compile(&a, "$topN",
	    "{'output': '$t', 'sortBy': {'a': -1, 'b': 1}, 'n': 2}", &err);
	st = state_new(&a);
	state_init(&a, st, NULL, &err);
	add_json(&a, st, "{'a': 1, 't': 'x'}", &err);
	add_json(&a, st, "{'a': [], 'b': 'q', 't': 'y'}", &err);
	p = render(&a, st, true, SP_EJSON_RELAXED);
	is_str(p,
	    "{\"acc\":\"$topN\",\"v\":[{\"o\":\"x\",\"k\":[1,null]},{\"o\":"
	    "\"y\",\"k\":[{\"$undefined\":true},\"q\"]}]}",
	    "$topN partial: outputs with their sort keys (undefined for [])");
	free(p);
	state_free(&a, st);
	acc_release(&a);

	acc_compile(
	    &a, "$median", "{'input': '$x', 'method': 'approximate'}", &err);
	st = state_new(&a);
	add_json(&a, st, "{'x': 2}", &err);
	add_json(&a, st, "{'x': " D("-Infinity") "}", &err);
	add_json(&a, st, "{'x': 0.1}", &err);
	p = render(&a, st, true, SP_EJSON_RELAXED);
	is_str(p,
	    "{\"acc\":\"$median\",\"neg\":1,\"pos\":0,\"min\":0.0,\"max\":0."
	    "0,\"w\":[],\"m\":[],\"b\":[2.0,0.1]}",
	    "$median partial: counts, centroids and the raw buffer");
	free(p);
	state_free(&a, st);
	acc_release(&a);
}

static void
test_table(void)
{
	size_t i;
	bool sorted = true;

	for (i = 1; i < sp_accum_n.n; i++)
		if (strcmp(sp_accum_n.ops[i - 1]->name,
			sp_accum_n.ops[i]->name) >= 0)
			sorted = false;
	ok(sp_accum_n.n == 10 && sorted,
	    "sp_accum_n holds the 10 accumulators, sorted by name");
	for (i = 0; i < sp_accum_n.n; i++) {
		const struct accum_ops *o = sp_accum_n.ops[i];

		ok(o->compile && o->add && o->merge && o->result &&
			o->partial && o->bytes && o->release && o->free_priv,
		    "%s has every operation", o->name);
	}
}

static void
test_bytes(void)
{
	struct sp_error err;
	struct accum a;
	void *st;
	size_t b0, b1;
	int i;

	acc_compile(&a, "$lastN", "{'input': '$s', 'n': 3}", &err);
	st = state_new(&a);
	state_init(&a, st, NULL, &err);
	b0 = a.ops->bytes(&a, st);
	for (i = 0; i < 1000; i++)
		add_json(
		    &a, st, "{'s': 'a string of some length, kept'}", &err);
	b1 = a.ops->bytes(&a, st);
	ok(b0 == 0 && b1 > 0 && b1 < 1024,
	    "$lastN bytes: %zu empty, %zu after 1000 (3 kept)", b0, b1);
	state_free(&a, st);
	acc_release(&a);

	acc_compile(&a, "$bottomN",
	    "{'output': '$s', 'sortBy': {'k': 1}, 'n': 2}", &err);
	st = state_new(&a);
	state_init(&a, st, NULL, &err);
	for (i = 0; i < 5000; i++) {
		char d[80];

		snprintf(d, sizeof(d), "{'s': 'xxxxxxxxxxxxxxxxxxxx', 'k': %d}",
		    (int)rnd(7));
		add_json(&a, st, d, &err);
	}
	b1 = a.ops->bytes(&a, st);
	ok(b1 > 0 && b1 < 8192,
	    "$bottomN bytes stay bounded by n with many ties: %zu", b1);
	state_free(&a, st);
	acc_release(&a);
}

int
main(void)
{
	test_table();
	test_manual();
	test_percentile_values();
	test_errors();
	test_n_from_key();
	test_ties();
	test_reference_and_shards();
	test_shards_first_last_single();
	test_percentile_exact();
	test_percentile_bounded();
	test_percentile_shards();
	test_merge_errors();
	test_partial_format();
	test_bytes();
	return done_testing();
}
