/* expr_cases.c: runs the expression cases in t/data/expr as TAP. */
/*
 * A cases file is plain text, one directive a line:
 *
 *   # a comment
 *   % {"$add": ["$a", 1]}      the expression (compiled once)
 *   < {"a": 1}                 the document ($$ROOT); default {}
 *   = 2                        expected result, as Extended JSON: the type
 *                              is exact ({"$numberLong": "2"} for a long,
 *                              2.0 for a double); "missing" for no value
 *   ! can't $divide by zero    expected error (compile or run time), a
 *                              substring of the message
 *   ? date                     expected result type only ($type's names)
 *
 * Each =, ! or ? line is one test, run against the last % and <.
 * SP_DATA names the data directory (default t/data).
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp.h"
#include "tap.h"

struct state {
	const char *file;
	int lineno;
	char expr_text[4096];
	struct sp_expr *expr;
	char compile_err[600];
	struct sp_buf doc;
	char doc_text[4096];
};

static void
value_json(struct sp_buf *b, const bson_value_t *v)
{
	if (v->value_type == BSON_TYPE_EOD)
		sp_buf_puts(b, "missing");
	else
		sp_ejson_value(b, v, SP_EJSON_CANONICAL);
}

/* Exact equality: same type and same bytes, except that NaN equals NaN. */
static bool
same(const bson_value_t *a, const bson_value_t *b)
{
	bson_t x = BSON_INITIALIZER, y = BSON_INITIALIZER;
	bool eq;

	if (a->value_type != b->value_type)
		return false;
	if (a->value_type == BSON_TYPE_EOD)
		return true;
	if (a->value_type == BSON_TYPE_DOUBLE && isnan(a->value.v_double) &&
	    isnan(b->value.v_double))
		return true;
	bson_append_value(&x, "v", 1, a);
	bson_append_value(&y, "v", 1, b);
	eq = x.len == y.len &&
	    memcmp(bson_get_data(&x), bson_get_data(&y), x.len) == 0;
	bson_destroy(&x);
	bson_destroy(&y);
	return eq;
}

static const char *
type_name(bson_type_t t)
{
	static const struct {
		bson_type_t t;
		const char *name;
	} names[] = {
	    {BSON_TYPE_DOUBLE, "double"},
	    {BSON_TYPE_UTF8, "string"},
	    {BSON_TYPE_DOCUMENT, "object"},
	    {BSON_TYPE_ARRAY, "array"},
	    {BSON_TYPE_BINARY, "binData"},
	    {BSON_TYPE_UNDEFINED, "undefined"},
	    {BSON_TYPE_OID, "objectId"},
	    {BSON_TYPE_BOOL, "bool"},
	    {BSON_TYPE_DATE_TIME, "date"},
	    {BSON_TYPE_NULL, "null"},
	    {BSON_TYPE_REGEX, "regex"},
	    {BSON_TYPE_INT32, "int"},
	    {BSON_TYPE_TIMESTAMP, "timestamp"},
	    {BSON_TYPE_INT64, "long"},
	    {BSON_TYPE_DECIMAL128, "decimal"},
	    {BSON_TYPE_EOD, "missing"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].t == t)
			return names[i].name;
	return "other";
}

static void
run_one(struct state *st, char kind, const char *want)
{
	struct sp_arena arena;
	struct sp_buf wtext, wbuf, got;
	struct sp_error err;
	bson_value_t out, wv;
	bson_iter_t it;
	int rc = -1;

	sp_buf_init(&wtext);
	sp_buf_init(&wbuf);
	sp_buf_init(&got);
	sp_arena_init(&arena);
	err.msg[0] = '\0';
	if (st->expr == NULL) {
		snprintf(err.msg, sizeof(err.msg), "%.500s", st->compile_err);
	} else {
		rc = sp_expr_eval(st->expr, st->doc.data, (uint32_t)st->doc.len,
		    &arena, &out, &err);
	}
	if (kind == '!') {
		ok(rc < 0 && strstr(err.msg, want) != NULL,
		    "%s:%d: %s on %s fails: %s", st->file, st->lineno,
		    st->expr_text, st->doc_text, want);
		if (rc == 0) {
			value_json(&got, &out);
			printf("#   got a value: %s\n", sp_buf_cstr(&got));
		} else if (strstr(err.msg, want) == NULL)
			printf("#   got error: %s\n", err.msg);
		goto done;
	}
	if (rc < 0) {
		ok(0, "%s:%d: %s on %s", st->file, st->lineno, st->expr_text,
		    st->doc_text);
		printf("#   error: %s\n#   expected: %s\n", err.msg, want);
		goto done;
	}
	value_json(&got, &out);
	if (kind == '?') {
		is_str(type_name(out.value_type), want,
		    "%s:%d: %s on %s is a %s", st->file, st->lineno,
		    st->expr_text, st->doc_text, want);
		goto done;
	}
	if (strcmp(want, "missing") == 0) {
		wv.value_type = BSON_TYPE_EOD;
	} else {
		struct sp_error perr;

		sp_buf_printf(&wtext, "{\"v\":%s}", want);
		if (sp_json_parse(&wbuf, (const char *)wtext.data, wtext.len,
			&perr) < 0) {
			ok(0, "%s:%d: bad expected value %s: %s", st->file,
			    st->lineno, want, perr.msg);
			goto done;
		}
		bson_iter_init_from_data(&it, wbuf.data, (uint32_t)wbuf.len);
		bson_iter_next(&it);
		wv = *bson_iter_value(&it);
	}
	ok(same(&out, &wv), "%s:%d: %s on %s = %s", st->file, st->lineno,
	    st->expr_text, st->doc_text, want);
	if (!same(&out, &wv))
		printf("#        got: %s\n", sp_buf_cstr(&got));
done:
	sp_buf_release(&wtext);
	sp_buf_release(&wbuf);
	sp_buf_release(&got);
	sp_arena_release(&arena);
}

static void
set_doc(struct state *st, const char *text)
{
	struct sp_error err;

	snprintf(st->doc_text, sizeof(st->doc_text), "%s", text);
	if (sp_json_parse(&st->doc, text, strlen(text), &err) < 0) {
		ok(0, "%s:%d: bad document %s: %s", st->file, st->lineno, text,
		    err.msg);
		sp_json_parse(&st->doc, "{}", 2, &err);
	}
}

static void
set_expr(struct state *st, const char *src)
{
	struct sp_buf text, spec;
	struct sp_error err;
	bson_iter_t it;

	sp_expr_free(st->expr);
	st->expr = NULL;
	st->compile_err[0] = '\0';
	snprintf(st->expr_text, sizeof(st->expr_text), "%s", src);
	sp_buf_init(&text);
	sp_buf_init(&spec);
	sp_buf_printf(&text, "{\"e\":%s}", src);
	if (sp_json_parse(&spec, (const char *)text.data, text.len, &err) < 0) {
		snprintf(st->compile_err, sizeof(st->compile_err),
		    "bad JSON: %s", err.msg);
	} else {
		bson_iter_init_from_data(&it, spec.data, (uint32_t)spec.len);
		bson_iter_next(&it);
		if (sp_expr_compile(&st->expr, bson_iter_value(&it), &err) < 0)
			snprintf(st->compile_err, sizeof(st->compile_err), "%s",
			    err.msg);
	}
	sp_buf_release(&text);
	sp_buf_release(&spec);
	set_doc(st, "{}");
}

static void
run_file(const char *path, const char *name)
{
	struct state st;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		ok(0, "open %s", path);
		return;
	}
	memset(&st, 0, sizeof(st));
	st.file = name;
	sp_buf_init(&st.doc);
	set_expr(&st, "null");
	while ((n = getline(&line, &cap, f)) >= 0) {
		st.lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n < 2 || line[0] == '#' || line[1] != ' ')
			continue;
		switch (line[0]) {
		case '%': set_expr(&st, line + 2); break;
		case '<': set_doc(&st, line + 2); break;
		case '=':
		case '!':
		case '?': run_one(&st, line[0], line + 2); break;
		}
	}
	free(line);
	fclose(f);
	sp_expr_free(st.expr);
	sp_buf_release(&st.doc);
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int
main(void)
{
	const char *data = getenv("SP_DATA") ? getenv("SP_DATA") : "t/data";
	struct dirent **ents;
	char dir[1024], path[2048];
	int i, k, files = 0;

	snprintf(dir, sizeof(dir), "%s/expr", data);
	k = scandir(dir, &ents, NULL, by_name);
	for (i = 0; i < k; i++) {
		size_t len = strlen(ents[i]->d_name);

		if (len > 6 &&
		    strcmp(ents[i]->d_name + len - 6, ".cases") == 0) {
			snprintf(
			    path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
			run_file(path, ents[i]->d_name);
			files++;
		}
		free(ents[i]);
	}
	if (k >= 0)
		free(ents);
	ok(files > 0, "found case files in %s", dir);
	return done_testing();
}
