/* sortkey.c: unit tests of sort patterns and sort keys (lib/sortkey.c). */
#include <stdlib.h>
#include <string.h>

#include "group_int.h"
#include "tap.h"

static char result[1024];

/* Parses the JSON text of a value through a wrapper document. */
static void
json_value(struct sp_buf *b, const char *json, bson_value_t *v)
{
	struct sp_error err;
	struct sp_buf w;
	bson_iter_t it;

	sp_buf_init(&w);
	sp_buf_printf(&w, "{\"v\": %s}", json);
	if (sp_json_parse(b, (const char *)w.data, w.len, &err) < 0) {
		printf("# bad test JSON %s: %s\n", json, err.msg);
		exit(2);
	}
	sp_buf_release(&w);
	bson_iter_init_from_data(&it, b->data, b->len);
	bson_iter_next(&it);
	*v = *bson_iter_value(&it);
}

/* "ok n=2 dir=1,-1" or the parse error. */
static const char *
parse(const char *spec)
{
	struct sort_pattern p;
	struct sp_error err;
	struct sp_buf b;
	bson_value_t v;
	int i, n;

	sp_buf_init(&b);
	json_value(&b, spec, &v);
	if (sort_pattern_parse(&p, &v, &err) < 0) {
		snprintf(result, sizeof(result), "%s", err.msg);
	} else {
		n = snprintf(result, sizeof(result), "ok");
		for (i = 0; i < p.n; i++)
			n += snprintf(result + n, sizeof(result) - n, " %s:%d",
			    p.path[i].full, p.dir[i]);
		sort_pattern_release(&p);
	}
	sp_buf_release(&b);
	return result;
}

/* The sort key of doc under spec, as canonical Extended JSON values
 * joined by ", "; or "error: ..." when MongoDB refuses the document. */
static const char *
key(const char *spec, const char *doc)
{
	struct sort_pattern p;
	struct sp_error err;
	struct sp_buf sb, db, out;
	bson_value_t v, d, keys[8], keys2[8];
	int i;

	sp_buf_init(&sb);
	sp_buf_init(&db);
	sp_buf_init(&out);
	json_value(&sb, spec, &v);
	json_value(&db, doc, &d);
	if (sort_pattern_parse(&p, &v, &err) < 0) {
		snprintf(result, sizeof(result), "bad spec: %s", err.msg);
		goto out;
	}
	if (sort_key_make(&p, d.value.v_doc.data, d.value.v_doc.data_len, keys,
		&err) < 0) {
		sp_buf_printf(&out, "error: %s", err.msg);
		/* sort_key_get, which cannot say so, gives nulls. */
		for (i = 0; i < p.n; i++)
			if (keys[i].value_type != BSON_TYPE_NULL)
				sp_buf_puts(&out, " (keys not null)");
	} else {
		for (i = 0; i < p.n; i++) {
			if (i > 0)
				sp_buf_puts(&out, ", ");
			sp_ejson_value(&out, &keys[i], SP_EJSON_CANONICAL);
		}
		/* sort_key_get agrees. */
		sort_key_get(
		    &p, d.value.v_doc.data, d.value.v_doc.data_len, keys2);
		if (sort_key_compare(&p, keys, keys2) != 0)
			sp_buf_puts(&out, " (sort_key_get differs)");
	}
	snprintf(result, sizeof(result), "%s", sp_buf_cstr(&out));
	sort_pattern_release(&p);
out:
	sp_buf_release(&sb);
	sp_buf_release(&db);
	sp_buf_release(&out);
	return result;
}

/*
 * docs (a JSON array of documents) sorted under spec by their keys, with
 * a stable insertion sort: the input positions, space-separated.
 */
static const char *
order(const char *spec, const char *docs)
{
	struct sort_pattern p;
	struct sp_error err;
	struct sp_buf sb, db;
	bson_value_t v, arr, keys[32][4], t[4];
	int idx[32], n = 0, i, j, ti, len = 0;
	bson_iter_t it;

	sp_buf_init(&sb);
	sp_buf_init(&db);
	json_value(&sb, spec, &v);
	json_value(&db, docs, &arr);
	if (sort_pattern_parse(&p, &v, &err) < 0) {
		snprintf(result, sizeof(result), "bad spec: %s", err.msg);
		goto out;
	}
	bson_iter_init_from_data(
	    &it, arr.value.v_doc.data, arr.value.v_doc.data_len);
	while (bson_iter_next(&it) && n < 32) {
		const bson_value_t *d = bson_iter_value(&it);

		sort_key_get(
		    &p, d->value.v_doc.data, d->value.v_doc.data_len, keys[n]);
		idx[n] = n;
		n++;
	}
	for (i = 1; i < n; i++) {
		memcpy(t, keys[i], sizeof(t));
		ti = idx[i];
		for (j = i; j > 0 && sort_key_compare(&p, t, keys[j - 1]) < 0;
		     j--) {
			memcpy(keys[j], keys[j - 1], sizeof(t));
			idx[j] = idx[j - 1];
		}
		memcpy(keys[j], t, sizeof(t));
		idx[j] = ti;
	}
	result[0] = '\0';
	for (i = 0; i < n; i++)
		len += snprintf(result + len, sizeof(result) - len, "%s%d",
		    i ? " " : "", idx[i]);
	sort_pattern_release(&p);
out:
	sp_buf_release(&sb);
	sp_buf_release(&db);
	return result;
}

static void
test_parse(void)
{
	is_str(parse("{\"a\": 1, \"b.c\": -1}"), "ok a:1 b.c:-1", "compound");
	is_str(
	    parse("{\"a\": {\"$numberLong\": \"-1\"}}"), "ok a:-1", "a long");
	/* safeNumberLong: doubles truncate, decimals round half to even. */
	is_str(parse("{\"a\": 1.9, \"b\": -1.5}"), "ok a:1 b:-1",
	    "doubles truncate");
	is_str(parse("{\"a\": {\"$numberDecimal\": \"0.6\"}}"), "ok a:1",
	    "a decimal rounds");
	is_str(parse("{\"a\": {\"$numberDecimal\": \"1.5\"}}"),
	    "$sort key ordering must be 1 (for ascending) or -1 (for "
	    "descending)",
	    "decimal 1.5 rounds to 2");
	is_str(parse("{\"a\": 0}"),
	    "$sort key ordering must be 1 (for ascending) or -1 (for "
	    "descending)",
	    "0");
	is_str(parse("{\"a\": 2}"),
	    "$sort key ordering must be 1 (for ascending) or -1 (for "
	    "descending)",
	    "2");
	is_str(parse("{\"a\": 0.5}"),
	    "$sort key ordering must be 1 (for ascending) or -1 (for "
	    "descending)",
	    "0.5 truncates to 0");
	is_str(parse("{\"a\": {\"$numberDouble\": \"NaN\"}}"),
	    "$sort key ordering must be 1 (for ascending) or -1 (for "
	    "descending)",
	    "NaN");
	is_str(parse("5"), "the $sort key specification must be an object",
	    "not an object");
	is_str(parse("[{\"a\": 1}]"),
	    "the $sort key specification must be an object", "an array");
	is_str(parse("{}"), "$sort stage must have at least one sort key",
	    "empty");
	is_str(parse("{\"a\": \"x\"}"),
	    "Illegal key in $sort specification: a: \"x\"", "a string");
	is_str(parse("{\"a\": true}"),
	    "Illegal key in $sort specification: a: true", "a bool");
	is_str(parse("{\"a\": null}"),
	    "Illegal key in $sort specification: a: null", "null");
	is_str(parse("{\"a\": 1, \"a\": -1}"),
	    "$sort key must not contain duplicate keys (duplicate: 'a')",
	    "duplicate keys");
	is_str(parse("{\"$a\": 1}"),
	    "FieldPath field names may not start with '$'. Consider using "
	    "$getField or $setField.",
	    "a $ path");
	is_str(parse("{\"\": 1}"),
	    "FieldPath cannot be constructed with empty string",
	    "an empty path");
	is_str(parse("{\"a.\": 1}"), "FieldPath must not end with a '.'.",
	    "a trailing dot");
	/* The direction is checked before the path. */
	is_str(parse("{\"$a\": 2}"),
	    "$sort key ordering must be 1 (for ascending) or -1 (for "
	    "descending)",
	    "direction first");

	/* At most 32 keys (the index key pattern's Ordering). */
	{
		char spec[512];
		int i, n = 0;

		for (i = 0; i < 33; i++)
			n += snprintf(spec + n, sizeof(spec) - n,
			    "%s\"k%d\": 1", i ? ", " : "{", i);
		snprintf(spec + n, sizeof(spec) - n, "}");
		is_str(parse(spec), "too many compound keys", "33 keys");
		strcpy(strrchr(spec, ','), "}");
		ok(strncmp(parse(spec), "ok k0:1 ", 8) == 0, "32 keys");
	}

	/* $meta: sp has no metadata to sort by. */
	is_str(parse("{\"s\": {\"$meta\": \"textScore\"}}"),
	    "query requires text score metadata, but it is not available",
	    "textScore");
	is_str(parse("{\"s\": {\"$meta\": \"randVal\"}}"),
	    "query requires rand val metadata, but it is not available",
	    "randVal");
	is_str(parse("{\"s\": {\"$meta\": \"geoNearDistance\"}}"),
	    "query requires $geoNear distance metadata, but it is not "
	    "available",
	    "geoNearDistance");
	is_str(parse("{\"s\": {\"$meta\": \"bogus\"}}"),
	    "Illegal $meta sort: $meta: \"bogus\"", "an unknown $meta");
	is_str(parse("{\"s\": {\"$meta\": 1}}"), "Illegal $meta sort: $meta: 1",
	    "$meta not a string");
	is_str(parse("{\"s\": {\"x\": 1}}"),
	    "$meta is the only expression supported by $sort right now",
	    "an object that is not $meta");
	is_str(parse("{\"s\": {}}"),
	    "$meta is the only expression supported by $sort right now",
	    "an empty object");
	is_str(parse("{\"s\": {\"$meta\": \"textScore\", \"x\": 1}}"),
	    "Cannot have additional keys in a $meta sort specification",
	    "$meta with more");
}

static void
test_keys(void)
{
	/* Scalars, missing and null. */
	is_str(key("{\"a\": 1}", "{\"a\": 5}"), "{\"$numberInt\":\"5\"}",
	    "a scalar");
	is_str(key("{\"a\": 1}", "{}"), "null", "missing sorts as null");
	is_str(key("{\"a\": 1}", "{\"a\": null}"), "null", "null");
	is_str(key("{\"a.b\": 1}", "{\"a\": 5}"), "null",
	    "a path through a scalar");
	is_str(key("{\"a.b\": 1}", "{\"a\": {\"c\": 1}}"), "null",
	    "a path not there");

	/* Arrays: the smallest element ascending, the largest descending. */
	is_str(key("{\"a\": 1}", "{\"a\": [3, 1, 2]}"),
	    "{\"$numberInt\":\"1\"}", "ascending: smallest");
	is_str(key("{\"a\": -1}", "{\"a\": [3, 1, 2]}"),
	    "{\"$numberInt\":\"3\"}", "descending: largest");
	is_str(key("{\"a\": 1}", "{\"a\": [3, \"x\", null]}"), "null",
	    "null in an array");
	is_str(key("{\"a\": -1}", "{\"a\": [3, \"x\", null]}"), "\"x\"",
	    "the largest across types");
	is_str(key("{\"a\": 1}", "{\"a\": []}"), "{\"$undefined\":true}",
	    "an empty array is undefined");
	is_str(key("{\"a\": -1}", "{\"a\": []}"), "{\"$undefined\":true}",
	    "either way");
	is_str(key("{\"a\": 1}", "{\"a\": [[]]}"), "[]",
	    "an array in an array is a value");
	is_str(key("{\"a\": 1}", "{\"a\": [[2, 1], 3]}"),
	    "{\"$numberInt\":\"3\"}", "not expanded: [2, 1] is an array");
	is_str(key("{\"a\": -1}", "{\"a\": [[2, 1], 3]}"),
	    "[{\"$numberInt\":\"2\"},{\"$numberInt\":\"1\"}]",
	    "and arrays rank above numbers");

	/* Dotted paths through arrays, as index keys reach them. */
	is_str(
	    key("{\"a.b\": 1}", "{\"a\": [{\"b\": 1}, {\"b\": [2, 3]}, {}]}"),
	    "null", "a.b: 1, 2, 3 and null, ascending");
	is_str(
	    key("{\"a.b\": -1}", "{\"a\": [{\"b\": 1}, {\"b\": [2, 3]}, {}]}"),
	    "{\"$numberInt\":\"3\"}", "descending");
	is_str(key("{\"a.b\": 1}", "{\"a\": [{\"b\": 4}, {\"b\": [2, 3]}]}"),
	    "{\"$numberInt\":\"2\"}", "into an inner array");
	is_str(key("{\"a.b\": 1}", "{\"a\": [{\"b\": 4}, 7]}"), "null",
	    "a scalar element reaches null");
	is_str(key("{\"a.b\": 1}", "{\"a\": []}"), "null",
	    "a path going on past an empty array is null");
	is_str(key("{\"a.b\": 1}", "{\"a\": [{\"b\": []}, {\"b\": 5}]}"),
	    "{\"$undefined\":true}", "an empty array at the end");
	is_str(key("{\"a.b\": 1}", "{\"a\": [[{\"b\": 1}]]}"), "null",
	    "no path through an array of arrays");
	is_str(key("{\"a.b.c\": -1}",
		   "{\"a\": {\"b\": [{\"c\": 2}, {\"c\": [9, 1]}]}}"),
	    "{\"$numberInt\":\"9\"}", "three levels");

	/* Numeric components. */
	is_str(key("{\"a.0\": 1}", "{\"a\": [10, 5]}"),
	    "{\"$numberInt\":\"10\"}", "a.0 is the first element");
	is_str(key("{\"a.1\": -1}", "{\"a\": [10, 5, 20]}"),
	    "{\"$numberInt\":\"5\"}", "a.1 is the second");
	is_str(key("{\"a.0.b\": 1}", "{\"a\": [{\"b\": 7}, {\"b\": 1}]}"),
	    "{\"$numberInt\":\"7\"}", "a.0.b");
	is_str(key("{\"a.0\": 1}", "{\"a\": [[3, 1], 2]}"),
	    "[{\"$numberInt\":\"3\"},{\"$numberInt\":\"1\"}]",
	    "an array at a.0 stays whole");
	is_str(key("{\"a.0.b\": 1}", "{\"a\": [{\"b\": [4, 2]}]}"),
	    "{\"$numberInt\":\"2\"}", "an array below a.0 is expanded");
	is_str(key("{\"a.5\": 1}", "{\"a\": [{\"5\": 3}, {\"5\": 1}]}"),
	    "{\"$numberInt\":\"1\"}", "no element 5: a field named 5");
	is_str(key("{\"a.0\": 1}", "{\"a\": {\"0\": 8}}"),
	    "{\"$numberInt\":\"8\"}", "a field named 0 in a document");
	is_str(key("{\"a.0\": 1}", "{\"a\": [{\"0\": 1}]}"),
	    "error: Ambiguous field name found in array (do not use numeric "
	    "field names in embedded elements in an array), field: '0' for "
	    "array: { 0: { 0: 1 } }",
	    "a field named 0 in element 0");

	/* Compound keys: paths through one array stay together. */
	is_str(key("{\"a.x\": 1, \"a.y\": -1}",
		   "{\"a\": [{\"x\": 1, \"y\": 1}, {\"x\": 2, \"y\": 5}]}"),
	    "{\"$numberInt\":\"1\"}, {\"$numberInt\":\"1\"}",
	    "one element's x and y, not the best of each");
	is_str(key("{\"a.x\": 1, \"a.y\": -1}",
		   "{\"a\": [{\"x\": 1, \"y\": 1}, {\"x\": 1, \"y\": 5}]}"),
	    "{\"$numberInt\":\"1\"}, {\"$numberInt\":\"5\"}",
	    "ties on x: the best y");
	is_str(key("{\"a\": 1, \"b\": -1}", "{\"a\": [2, 1], \"b\": 3}"),
	    "{\"$numberInt\":\"1\"}, {\"$numberInt\":\"3\"}",
	    "one array and a scalar");
	is_str(key("{\"a\": 1, \"b\": 1}", "{\"a\": [1, 2], \"b\": [3, 4]}"),
	    "error: cannot sort with keys that are parallel arrays",
	    "parallel arrays");
	is_str(key("{\"a.x\": 1, \"a.y\": 1}",
		   "{\"a\": [{\"x\": [1], \"y\": [2]}]}"),
	    "error: cannot sort with keys that are parallel arrays",
	    "parallel arrays one level down");
	is_str(key("{\"a\": 1, \"b\": 1}", "{\"a\": [], \"b\": 3}"),
	    "{\"$undefined\":true}, {\"$numberInt\":\"3\"}",
	    "an empty array in a compound key");
	is_str(key("{\"a\": 1, \"a.b\": 1}", "{\"a\": [{\"b\": 2}, 1]}"),
	    "{\"$numberInt\":\"1\"}, null", "a path and its prefix");
	is_str(key("{\"a\": 1, \"b\": 1, \"c\": 1, \"d\": 1, \"e.f\": -1}",
		   "{\"a\": 1, \"e\": [{\"f\": 1}, {\"f\": 3}]}"),
	    "{\"$numberInt\":\"1\"}, null, null, null, {\"$numberInt\":\"3\"}",
	    "five paths (beyond the small-pattern buffers)");
}

static void
test_order(void)
{
	/* The cross-type order: MinKey < [] < null = missing < numbers <
	 * strings < objects < arrays < binData < ObjectId < bool < date <
	 * timestamp < regex < MaxKey. */
	is_str(
	    order("{\"a\": 1}",
		"[{\"a\": {\"$maxKey\": 1}}, {\"a\": {\"$regularExpression\": "
		"{\"pattern\": \"x\", \"options\": \"\"}}}, "
		"{\"a\": {\"$timestamp\": {\"t\": 1, \"i\": 1}}}, "
		"{\"a\": {\"$date\": 0}}, {\"a\": true}, "
		"{\"a\": {\"$oid\": \"000000000000000000000000\"}}, "
		"{\"a\": {\"$binary\": {\"base64\": \"\", \"subType\": "
		"\"00\"}}}, {\"a\": [[1]]}, {\"a\": {\"b\": 1}}, {\"a\": "
		"\"s\"}, {\"a\": 1}, {\"a\": null}, {\"a\": []}, "
		"{\"a\": {\"$minKey\": 1}}]"),
	    "13 12 11 10 9 8 7 6 5 4 3 2 1 0", "the cross-type order");
	is_str(
	    order("{\"a\": -1}",
		"[{\"a\": {\"$minKey\": 1}}, {\"a\": []}, {\"a\": null}, {}, "
		"{\"a\": 1}]"),
	    "4 2 3 1 0", "descending; null and missing tie");
	is_str(
	    order("{\"a\": 1}",
		"[{\"a\": null}, {\"b\": 1}, {\"a\": {\"$undefined\": true}}, "
		"{\"a\": []}]"),
	    "2 3 0 1", "undefined and [] tie, null and missing tie");

	/* Numbers by value across types; NaN below every number. */
	is_str(order("{\"a\": 1}",
		   "[{\"a\": {\"$numberLong\": \"9007199254740993\"}}, "
		   "{\"a\": 9007199254740992.0}, {\"a\": {\"$numberDecimal\": "
		   "\"-Infinity\"}}, {\"a\": {\"$numberDouble\": \"NaN\"}}, "
		   "{\"a\": {\"$numberDecimal\": \"0.1\"}}, {\"a\": 0.1}]"),
	    "3 2 4 5 1 0", "numbers");
	is_str(
	    order("{\"a\": 1}",
		"[{\"a\": 2}, {\"a\": 1.0}, {\"a\": {\"$numberLong\": \"1\"}}, "
		"{\"a\": {\"$numberDecimal\": \"1.00\"}}, {\"a\": 1}]"),
	    "1 2 3 4 0", "equal numbers tie");

	/* The manual's array example (Comparison/Sort Order), as Mingo
	 * quotes MongoDB 8.0's answer; ties (null and [1, null]; the four
	 * whose smallest element is 1) in input order. */
	is_str(order("{\"a\": 1}",
		   "[{\"a\": [1,2]}, {\"a\": [1,2,0]}, {\"a\": [1]}, "
		   "{\"a\": [[1,2]]}, {\"a\": [1,3]}, {\"a\": [1,null]}, "
		   "{\"a\": [1,\"a\"]}, {\"a\": []}, {\"a\": [2]}, "
		   "{\"a\": [[1]]}, {\"a\": [\"a\"]}, {\"a\": null}]"),
	    "7 5 11 1 0 2 4 6 8 10 9 3", "arrays by their smallest element");
	is_str(order("{\"a\": -1}",
		   "[{\"a\": [1,2]}, {\"a\": [1,2,0]}, {\"a\": [1]}, "
		   "{\"a\": [[1,2]]}, {\"a\": [1,3]}, {\"a\": [1,null]}, "
		   "{\"a\": [1,\"a\"]}, {\"a\": []}, {\"a\": [2]}, "
		   "{\"a\": [[1]]}, {\"a\": [\"a\"]}, {\"a\": null}]"),
	    "3 9 6 10 4 0 1 8 2 5 11 7", "descending by the largest");

	/* Compound order, mixed directions. */
	is_str(order("{\"a\": 1, \"b\": -1}",
		   "[{\"a\": 2, \"b\": 1}, {\"a\": 1, \"b\": 1}, "
		   "{\"a\": 1, \"b\": 2}, {\"a\": 2, \"b\": 3}, {\"b\": 0}]"),
	    "4 2 1 3 0", "compound");
	is_str(order("{\"s\": 1}",
		   "[{\"s\": \"b\"}, {\"s\": \"B\"}, {\"s\": \"a\"}, "
		   "{\"s\": \"ab\"}, {\"s\": \"\"}]"),
	    "4 1 2 3 0", "strings are binary");
}

int
main(void)
{
	test_parse();
	test_keys();
	test_order();
	return done_testing();
}
