/* match.c: the $match engine, a filter compiled to a tree run on raw BSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal_int.h"
#include "sp.h"

/*
 * The design follows the server's classic matcher (src/mongo/db/matcher and
 * src/mongo/db/exec/matcher): the parser turns the filter into a tree of
 * MatchExpression-like nodes, and evaluation has two entry points, as in
 * the server:
 *
 *   match_doc()   "matches": a node against a whole (sub)document. Tree
 *                 nodes combine their children; a leaf node walks its field
 *                 path and is true when any value the walk yields passes.
 *   match_value() "matchesSingleElement": a node against one value. Used
 *                 for the values a path yields and by $elemMatch on array
 *                 elements.
 *
 * The path walk is BSONElementIterator (path.cpp) for MongoDB 8.x, i.e.
 * before SERVER-36681 changed dotted null semantics in 9.0: a leaf array
 * yields each element and then the array itself; an array in the middle
 * of a path descends into its object elements, and a numeric component
 * indexes it; scalars in the middle of a path yield "missing" (so
 * {"a.b": null} matches {a: 4}) but scalars inside a mid-path array yield
 * nothing at all.
 */

enum op {
	/* Tree and document-level nodes. */
	OP_AND,
	OP_OR,
	OP_NOR,
	OP_NOT,
	OP_TRUE,
	OP_FALSE,
	OP_EXPR,
	OP_SAMPLE,
	/* Leaves: tested on every value the path yields. */
	OP_EQ,
	OP_LT,
	OP_LTE,
	OP_GT,
	OP_GTE,
	OP_IN,
	OP_REGEX,
	OP_EXISTS,
	OP_TYPE,
	OP_MOD,
	OP_BITS_ALL_SET,
	OP_BITS_ALL_CLEAR,
	OP_BITS_ANY_SET,
	OP_BITS_ANY_CLEAR,
	/* Array leaves: leaf arrays are tested whole, not expanded. */
	OP_SIZE,
	OP_ELEM_OBJ,
	OP_ELEM_VAL,
};

/* One component of a dotted field path. */
struct comp {
	const char *s;
	uint32_t len;
	bool num; /* all digits: may index an array */
};

struct path {
	struct comp *c;
	size_t n;
	char *buf; /* owns the component strings */
};

/* $in's list: strings apart, sorted, so that the common case is a binary
 * search with memcmp; every other value is compared in full. */
struct str {
	const char *s;
	uint32_t len;
};

struct inset {
	bool has_null;
	struct str *strs;
	size_t nstr;
	bson_value_t *other;
	size_t nother;
	struct node **re; /* regex nodes, tested in value context */
	size_t nre;
};

struct node {
	enum op op;
	struct path path; /* leaves only; n == 0 in value context */
	struct node **kids;
	size_t nkids;
	bson_value_t rhs; /* comparisons; points into sp_match.filter */
	union {
		struct inset in;
		struct {
			struct sp_regex *re;
			const char *flags;
		} rx;
		struct {
			uint64_t mask;
			uint32_t *pos;
			size_t npos;
		} bits;
		struct {
			int64_t div;
			int64_t rem;
		} mod;
		struct {
			uint32_t set; /* bit per BSON type, see type_bit() */
			bool number;
		} type;
		int32_t size;
		struct sp_expr *expr;
		double rate;
	} u;
};

struct sp_match {
	uint8_t *filter; /* private copy: node values point into it */
	uint32_t len;
	struct node *root;
	uint64_t *rng; /* $sampleRate state: changes under a const sp_match */
	bool has_expr;
};

/* Where a node is parsed (the server's DocumentParseLevel). */
enum level {
	LV_PREDICATE_TOP,
	LV_DOC_TOP,
	LV_SUB, /* inside $elemMatch: $expr and friends are refused */
};

#define MAX_NESTING 200

struct parser {
	struct sp_error *err;
	int depth;
	bool has_expr; /* exec then needs an arena */
};

/* Evaluation context. */
struct ctx {
	const uint8_t *root;
	uint32_t rootlen;
	struct sp_arena *arena;
	struct sp_error *err;
	uint64_t *rng;
	/* Set when a test could not be answered (a regex hit PCRE2's match
	 * limit): value matchers return bool, so the failure travels here
	 * and sp_match_exec turns the whole result into -1. */
	bool failed;
};

static int match_doc(
    const struct node *n, const uint8_t *doc, uint32_t len, struct ctx *c);
static bool match_value(
    const struct node *n, const bson_value_t *v, struct ctx *c);

/* ------------------------------------------------------------- helpers */

static int
canon(bson_type_t t)
{
	/* Missing is not a BSON type, but ranks with undefined. */
	return t == BSON_TYPE_EOD ? 0 : sp_canonical_type(t);
}

static bool
is_num_type(bson_type_t t)
{
	return t == BSON_TYPE_INT32 || t == BSON_TYPE_INT64 ||
	    t == BSON_TYPE_DOUBLE || t == BSON_TYPE_DECIMAL128;
}

static bool
value_is_nan(const bson_value_t *v)
{
	if (v->value_type == BSON_TYPE_DOUBLE)
		return isnan(v->value.v_double);
	if (v->value_type == BSON_TYPE_DECIMAL128)
		return sp_decimal_is_nan(&v->value.v_decimal128);
	return false;
}

/* Decimal128 to int64: SP_DECIMAL_EXACT for toLongExact, SP_DECIMAL_TRUNC
 * where the server truncates. 0, or -1 when it has no such value. Out of
 * line, so that the decimal path stays out of match_value. */
static __attribute__((noinline)) int
dec_to_i64(const bson_decimal128_t *b, int mode, int64_t *out)
{
	struct sp_decimal d;

	sp_decimal_unpack(&d, b);
	return sp_decimal_to_int64(&d, mode, out);
}

static double
num_as_double(const bson_value_t *v)
{
	struct sp_decimal d;

	switch (v->value_type) {
	case BSON_TYPE_DOUBLE: return v->value.v_double;
	case BSON_TYPE_INT32: return v->value.v_int32;
	case BSON_TYPE_INT64: return (double)v->value.v_int64;
	default:
		/* As libbson's string read it: a non-canonical coefficient
		 * keeps its digits. */
		sp_decimal_fields(&d, &v->value.v_decimal128);
		return sp_decimal_to_double(&d);
	}
}

/* BSONElement::trueValue(), which $exists uses. */
static bool
true_value(const bson_value_t *v)
{
	struct sp_decimal d;

	switch (v->value_type) {
	case BSON_TYPE_INT32: return v->value.v_int32 != 0;
	case BSON_TYPE_INT64: return v->value.v_int64 != 0;
	case BSON_TYPE_DOUBLE: return v->value.v_double != 0;
	case BSON_TYPE_DECIMAL128:
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		return sp_decimal_sign(&d) != 0;
	case BSON_TYPE_BOOL: return v->value.v_bool;
	case BSON_TYPE_EOD:
	case BSON_TYPE_NULL:
	case BSON_TYPE_UNDEFINED: return false;
	default: return true;
	}
}

/*
 * Renders "key: value" for error messages, close to the server's
 * BSONElement::toString(true, true).
 */
static const char *
elem_str(char *buf, size_t n, const char *key, const bson_value_t *v)
{
	char d[BSON_DECIMAL128_STRING + 32];
	double x;

	switch (v->value_type) {
	case BSON_TYPE_INT32:
		snprintf(buf, n, "%s: %d", key, v->value.v_int32);
		break;
	case BSON_TYPE_INT64:
		snprintf(buf, n, "%s: %lld", key, (long long)v->value.v_int64);
		break;
	case BSON_TYPE_DOUBLE:
		/* StringBuilder::appendDoubleNice: %.16g, plus ".0" when the
		 * text has no '.', 'E' or 'N' (so NaN prints "nan.0"). */
		x = v->value.v_double;
		snprintf(d, sizeof(d), "%.16g", x);
		snprintf(buf, n, "%s: %s%s", key, d,
		    strpbrk(d, ".EN") == NULL ? ".0" : "");
		break;
	case BSON_TYPE_DECIMAL128:
		bson_decimal128_to_string(&v->value.v_decimal128, d);
		snprintf(buf, n, "%s: NumberDecimal(\"%s\")", key, d);
		break;
	case BSON_TYPE_UTF8:
		snprintf(buf, n, "%s: \"%.*s\"", key, (int)v->value.v_utf8.len,
		    v->value.v_utf8.str);
		break;
	case BSON_TYPE_BOOL:
		snprintf(
		    buf, n, "%s: %s", key, v->value.v_bool ? "true" : "false");
		break;
	case BSON_TYPE_NULL: snprintf(buf, n, "%s: null", key); break;
	case BSON_TYPE_DOCUMENT: snprintf(buf, n, "%s: {...}", key); break;
	case BSON_TYPE_ARRAY: snprintf(buf, n, "%s: [...]", key); break;
	default: snprintf(buf, n, "%s: <%s>", key, "value"); break;
	}
	return buf;
}

/* ------------------------------------------------------ integer parsing */

/* The server's parseIntegerElementToLong and friends, with its messages. */
static int
parse_long(
    struct parser *p, const char *key, const bson_value_t *v, int64_t *out)
{
	char b[256];
	double x;

	switch (v->value_type) {
	case BSON_TYPE_INT32: *out = v->value.v_int32; return 0;
	case BSON_TYPE_INT64: *out = v->value.v_int64; return 0;
	case BSON_TYPE_DOUBLE:
		x = v->value.v_double;
		if (isnan(x))
			return sp_error_set(p->err,
			    "Expected an integer, but found NaN in: %s",
			    elem_str(b, sizeof(b), key, v));
		if (x >= 9223372036854775808.0 || x < -9223372036854775808.0)
			return sp_error_set(p->err,
			    "Cannot represent as a 64-bit integer: %s",
			    elem_str(b, sizeof(b), key, v));
		if (x != (double)(int64_t)x)
			return sp_error_set(p->err, "Expected an integer: %s",
			    elem_str(b, sizeof(b), key, v));
		*out = (int64_t)x;
		return 0;
	case BSON_TYPE_DECIMAL128:
		if (dec_to_i64(&v->value.v_decimal128, SP_DECIMAL_EXACT, out))
			return sp_error_set(p->err,
			    "Cannot represent as a 64-bit integer: %s",
			    elem_str(b, sizeof(b), key, v));
		return 0;
	default:
		return sp_error_set(p->err, "Expected a number in: %s",
		    elem_str(b, sizeof(b), key, v));
	}
}

static int
parse_nonneg_long(
    struct parser *p, const char *key, const bson_value_t *v, int64_t *out)
{
	char b[256];

	if (parse_long(p, key, v, out) < 0)
		return -1;
	if (*out < 0)
		return sp_error_set(p->err,
		    "Expected a non-negative number in: %s",
		    elem_str(b, sizeof(b), key, v));
	return 0;
}

static int
parse_int(
    struct parser *p, const char *key, const bson_value_t *v, int32_t *out)
{
	char b[256];
	int64_t l;

	if (parse_long(p, key, v, &l) < 0)
		return -1;
	if (l < INT32_MIN || l > INT32_MAX)
		return sp_error_set(p->err, "Cannot represent %s in an int",
		    elem_str(b, sizeof(b), key, v));
	*out = (int32_t)l;
	return 0;
}

static int
parse_nonneg_int(
    struct parser *p, const char *key, const bson_value_t *v, int32_t *out)
{
	char b[256];

	if (parse_int(p, key, v, out) < 0)
		return -1;
	if (*out < 0)
		return sp_error_set(p->err,
		    "Expected a non-negative number in: %s",
		    elem_str(b, sizeof(b), key, v));
	return 0;
}

/* BSONElement::tryCoerce<long long>: truncation toward zero. */
static const char *
coerce_long(const bson_value_t *v, int64_t *out)
{
	struct sp_decimal d;
	double x;

	switch (v->value_type) {
	case BSON_TYPE_DOUBLE:
		x = v->value.v_double;
		if (!isfinite(x))
			return "Unable to coerce NaN/Inf to integral type";
		if (x >= 9223372036854775808.0 || x < -9223372036854775808.0)
			return "Out of bounds coercing to integral value";
		*out = (int64_t)x;
		return NULL;
	case BSON_TYPE_DECIMAL128:
		sp_decimal_unpack(&d, &v->value.v_decimal128);
		if (d.kind != SP_DECIMAL_FINITE)
			return "Unable to coerce NaN/Inf to integral type";
		if (sp_decimal_to_int64(
			&d, SP_DECIMAL_TRUNC | SP_DECIMAL_IN_RANGE, out))
			return "Out of bounds coercing to integral value";
		return NULL;
	case BSON_TYPE_INT32: *out = v->value.v_int32; return NULL;
	default: *out = v->value.v_int64; return NULL;
	}
}

/* --------------------------------------------------------------- nodes */

static struct node *
node_new(enum op op)
{
	struct node *n = sp_xcalloc(1, sizeof(*n));

	n->op = op;
	return n;
}

static void
node_free(struct node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->path.c);
	free(n->path.buf);
	switch (n->op) {
	case OP_IN:
		for (i = 0; i < n->u.in.nre; i++)
			node_free(n->u.in.re[i]);
		free(n->u.in.re);
		free(n->u.in.strs);
		free(n->u.in.other);
		break;
	case OP_REGEX: sp_regex_free(n->u.rx.re); break;
	case OP_BITS_ALL_SET:
	case OP_BITS_ALL_CLEAR:
	case OP_BITS_ANY_SET:
	case OP_BITS_ANY_CLEAR: free(n->u.bits.pos); break;
	case OP_EXPR: sp_expr_free(n->u.expr); break;
	default: break;
	}
	free(n);
}

static void
add_kid(struct node *parent, struct node *kid)
{
	parent->kids = sp_xrealloc(
	    parent->kids, (parent->nkids + 1) * sizeof(*parent->kids));
	parent->kids[parent->nkids++] = kid;
}

static struct node *
wrap_not(struct node *kid)
{
	struct node *n = node_new(OP_NOT);

	add_kid(n, kid);
	return n;
}

/* Splits "a.b.0" once, at compile time. name NULL: value context. */
static void
set_path(struct node *n, const char *name)
{
	size_t len, i, k;
	char *s;

	if (name == NULL)
		return;
	len = strlen(name);
	n->path.buf = s = sp_xstrdup(name);
	n->path.n = 1;
	for (i = 0; i < len; i++)
		if (s[i] == '.')
			n->path.n++;
	n->path.c = sp_xcalloc(n->path.n, sizeof(*n->path.c));
	for (i = 0, k = 0;; k++) {
		size_t start = i;
		struct comp *c = &n->path.c[k];

		while (i < len && s[i] != '.')
			i++;
		c->s = s + start;
		c->len = (uint32_t)(i - start);
		c->num = true;
		for (size_t j = start; j < i; j++)
			if (s[j] < '0' || s[j] > '9')
				c->num = false;
		s[i] = '\0';
		if (i >= len)
			break;
		i++;
	}
}

static struct node *
leaf_new(enum op op, const char *name)
{
	struct node *n = node_new(op);

	set_path(n, name);
	return n;
}

/* ------------------------------------------------------------- parsing */

/* Operators that take a path ({a: {$op: ...}}), the server's
 * queryOperatorMap without the internal ones. */
enum kw {
	KW_NONE,
	KW_ALL,
	KW_BITS_ALL_CLEAR,
	KW_BITS_ALL_SET,
	KW_BITS_ANY_CLEAR,
	KW_BITS_ANY_SET,
	KW_ELEM_MATCH,
	KW_EQ,
	KW_EXISTS,
	KW_GEO, /* geoIntersects, geoWithin, within, near, nearSphere, geoNear
		 */
	KW_GT,
	KW_GTE,
	KW_IN,
	KW_LT,
	KW_LTE,
	KW_MOD,
	KW_NE,
	KW_NIN,
	KW_OPTIONS,
	KW_REGEX,
	KW_SIZE,
	KW_TYPE,
};

static const struct {
	const char *name;
	enum kw kw;
} keywords[] = {
    {"$all", KW_ALL},
    {"$bitsAllClear", KW_BITS_ALL_CLEAR},
    {"$bitsAllSet", KW_BITS_ALL_SET},
    {"$bitsAnyClear", KW_BITS_ANY_CLEAR},
    {"$bitsAnySet", KW_BITS_ANY_SET},
    {"$elemMatch", KW_ELEM_MATCH},
    {"$eq", KW_EQ},
    {"$exists", KW_EXISTS},
    {"$geoIntersects", KW_GEO},
    {"$geoNear", KW_GEO},
    {"$geoWithin", KW_GEO},
    {"$gt", KW_GT},
    {"$gte", KW_GTE},
    {"$in", KW_IN},
    {"$lt", KW_LT},
    {"$lte", KW_LTE},
    {"$mod", KW_MOD},
    {"$ne", KW_NE},
    {"$near", KW_GEO},
    {"$nearSphere", KW_GEO},
    {"$nin", KW_NIN},
    {"$options", KW_OPTIONS},
    {"$regex", KW_REGEX},
    {"$size", KW_SIZE},
    {"$type", KW_TYPE},
    {"$within", KW_GEO},
};

static enum kw
keyword(const char *key)
{
	size_t i;

	if (key[0] != '$' || key[1] == '\0')
		return KW_NONE;
	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strcmp(key, keywords[i].name) == 0)
			return keywords[i].kw;
	return KW_NONE;
}

/* Operators without a path ({$op: ...}), the server's pathlessOperatorMap
 * without the internal ones. */
static bool
is_pathless(const char *key)
{
	static const char *const names[] = {"$and", "$or", "$nor", "$expr",
	    "$comment", "$where", "$text", "$jsonSchema", "$alwaysFalse",
	    "$alwaysTrue", "$sampleRate", "$id", "$ref", "$db"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(key, names[i]) == 0)
			return true;
	return false;
}

static void
value_doc(const bson_value_t *v, const uint8_t **data, uint32_t *len)
{
	*data = v->value.v_doc.data;
	*len = v->value.v_doc.data_len;
}

static bool
doc_first_key(const uint8_t *data, uint32_t len, const char **key)
{
	bson_iter_t it;

	if (!bson_iter_init_from_data(&it, data, len) || !bson_iter_next(&it))
		return false;
	*key = bson_iter_key(&it);
	return true;
}

/*
 * isExpressionDocument: a non-empty object whose first key starts with
 * '$', unless it is a DBRef ({$ref, $id} or, when incomplete ones are
 * allowed, any of $ref, $id, $db).
 */
static bool
is_expression_doc(const bson_value_t *v, bool incomplete_dbref)
{
	bool ref = false, id = false, db = false;
	const uint8_t *data;
	const char *key;
	bson_iter_t it;
	uint32_t len;

	if (v->value_type != BSON_TYPE_DOCUMENT)
		return false;
	value_doc(v, &data, &len);
	if (!doc_first_key(data, len, &key) || key[0] != '$')
		return false;
	bson_iter_init_from_data(&it, data, len);
	while (!(ref && id) && bson_iter_next(&it)) {
		key = bson_iter_key(&it);
		if (!ref && strcmp(key, "$ref") == 0)
			ref = true;
		else if (!id && strcmp(key, "$id") == 0)
			id = true;
		else if (!db && strcmp(key, "$db") == 0)
			db = true;
	}
	if (incomplete_dbref ? (ref || id || db) : (ref && id))
		return false;
	return true;
}

/* Parsing recurses with the filter's nesting: bound it (the server refuses
 * BSON nested deeper than 200 levels anyway). */
static bool
too_deep(struct parser *p)
{
	if (++p->depth <= MAX_NESTING)
		return false;
	sp_error_set(
	    p->err, "filter is nested more than %d levels deep", MAX_NESTING);
	return true;
}

static struct node *parse_doc(
    struct parser *p, const uint8_t *data, uint32_t len, enum level lv);
static int parse_sub(struct parser *p, const char *name, const uint8_t *data,
    uint32_t len, enum level lv, struct node *and);

static struct node *
cmp_node(struct parser *p, enum op op, const char *name, const bson_value_t *v)
{
	struct node *n;

	if (v->value_type == BSON_TYPE_UNDEFINED) {
		sp_error_set(p->err, "cannot compare to undefined");
		return NULL;
	}
	n = leaf_new(op, name);
	n->rhs = *v;
	return n;
}

static struct node *
regex_node(struct parser *p, const char *name, const char *pattern, size_t plen,
    const char *flags)
{
	struct sp_regex *re;
	struct node *n;

	if (strlen(pattern) != plen) {
		sp_error_set(p->err,
		    "Regular expression cannot contain an embedded null byte");
		return NULL;
	}
	if ((re = sp_regex_new(pattern, flags, p->err)) == NULL)
		return NULL;
	n = leaf_new(OP_REGEX, name);
	n->u.rx.re = re;
	n->u.rx.flags = sp_regex_options(re);
	return n;
}

/* {a: /re/flags} and regexes inside $in, $all, $not. */
static struct node *
regex_value_node(struct parser *p, const char *name, const bson_value_t *v)
{
	const char *pat = v->value.v_regex.regex;

	return regex_node(p, name, pat, strlen(pat), v->value.v_regex.options);
}

/* {$regex: ..., $options: ...}: the whole operator object is the context. */
static struct node *
parse_regex_doc(
    struct parser *p, const char *name, const uint8_t *data, uint32_t len)
{
	const char *re = "", *opts = "";
	size_t relen = 0;
	bson_iter_t it;

	bson_iter_init_from_data(&it, data, len);
	while (bson_iter_next(&it)) {
		const char *key = bson_iter_key(&it);
		const bson_value_t *v = bson_iter_value(&it);

		if (strcmp(key, "$regex") == 0) {
			if (v->value_type == BSON_TYPE_UTF8) {
				re = v->value.v_utf8.str;
				relen = v->value.v_utf8.len;
			} else if (v->value_type == BSON_TYPE_REGEX) {
				re = v->value.v_regex.regex;
				relen = strlen(re);
				if (v->value.v_regex.options[0] != '\0') {
					if (opts[0] != '\0') {
						sp_error_set(p->err,
						    "options set in both "
						    "$regex and $options");
						return NULL;
					}
					opts = v->value.v_regex.options;
				}
			} else {
				sp_error_set(
				    p->err, "$regex has to be a string");
				return NULL;
			}
		} else if (strcmp(key, "$options") == 0) {
			if (v->value_type != BSON_TYPE_UTF8) {
				sp_error_set(
				    p->err, "$options has to be a string");
				return NULL;
			}
			if (opts[0] != '\0') {
				sp_error_set(p->err,
				    "options set in both $regex and $options");
				return NULL;
			}
			if (strlen(v->value.v_utf8.str) !=
			    v->value.v_utf8.len) {
				sp_error_set(p->err,
				    "invalid flag in regex options: \\0");
				return NULL;
			}
			opts = v->value.v_utf8.str;
		}
	}
	return regex_node(p, name, re, relen, opts);
}

static int
str_cmp(const void *a, const void *b)
{
	const struct str *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->s, y->s, x->len);
}

static struct node *
parse_in(struct parser *p, const char *name, const bson_value_t *arr)
{
	struct node *n = leaf_new(OP_IN, name);
	struct inset *in = &n->u.in;
	const uint8_t *data;
	bson_iter_t it;
	uint32_t len;

	value_doc(arr, &data, &len);
	bson_iter_init_from_data(&it, data, len);
	while (bson_iter_next(&it)) {
		const bson_value_t *v = bson_iter_value(&it);

		if (is_expression_doc(v, false)) {
			sp_error_set(p->err, "cannot nest $ under $in");
			goto fail;
		}
		switch (v->value_type) {
		case BSON_TYPE_REGEX: {
			struct node *re = regex_value_node(p, NULL, v);

			if (re == NULL)
				goto fail;
			in->re = sp_xrealloc(
			    in->re, (in->nre + 1) * sizeof(*in->re));
			in->re[in->nre++] = re;
			break;
		}
		case BSON_TYPE_UNDEFINED:
			sp_error_set(p->err,
			    "InMatchExpression equality cannot be undefined");
			goto fail;
		case BSON_TYPE_UTF8:
		case BSON_TYPE_SYMBOL:
			in->strs = sp_xrealloc(
			    in->strs, (in->nstr + 1) * sizeof(*in->strs));
			in->strs[in->nstr].s = v->value.v_utf8.str;
			in->strs[in->nstr].len = v->value.v_utf8.len;
			in->nstr++;
			break;
		default:
			if (v->value_type == BSON_TYPE_NULL)
				in->has_null = true;
			in->other = sp_xrealloc(
			    in->other, (in->nother + 1) * sizeof(*in->other));
			in->other[in->nother++] = *v;
			break;
		}
	}
	if (in->nstr > 1)
		qsort(in->strs, in->nstr, sizeof(*in->strs), str_cmp);
	return n;
fail:
	node_free(n);
	return NULL;
}

/* $type codes as bits: 1..19 are the BSON codes, MinKey and MaxKey get
 * 20 and 21. */
static int
type_bit(int code)
{
	if (code == -1 || code == BSON_TYPE_MINKEY)
		return 20;
	if (code == BSON_TYPE_MAXKEY)
		return 21;
	return code;
}

static const struct {
	const char *name;
	int code;
} type_aliases[] = {
    {"double", 1},
    {"string", 2},
    {"object", 3},
    {"array", 4},
    {"binData", 5},
    {"undefined", 6},
    {"objectId", 7},
    {"bool", 8},
    {"date", 9},
    {"null", 10},
    {"regex", 11},
    {"dbPointer", 12},
    {"javascript", 13},
    {"symbol", 14},
    {"javascriptWithScope", 15},
    {"int", 16},
    {"timestamp", 17},
    {"long", 18},
    {"decimal", 19},
    {"minKey", -1},
    {"maxKey", 127},
};

static int
parse_one_type(
    struct parser *p, const char *key, const bson_value_t *v, struct node *n)
{
	struct sp_error scratch;
	struct parser q = {&scratch, p->depth, false};
	int32_t code = 0;
	double x;
	size_t i;

	if (v->value_type == BSON_TYPE_UTF8) {
		const char *s = v->value.v_utf8.str;

		if (strcmp(s, "number") == 0) {
			n->u.type.number = true;
			return 0;
		}
		for (i = 0; i < sizeof(type_aliases) / sizeof(type_aliases[0]);
		     i++) {
			if (strcmp(s, type_aliases[i].name) == 0) {
				n->u.type.set |= 1u
				    << type_bit(type_aliases[i].code);
				return 0;
			}
		}
		if (strcmp(s, "missing") == 0)
			return sp_error_set(p->err,
			    "'missing' is not a legal type name. To query for "
			    "non-existence of a field, use {$exists:false}.");
		return sp_error_set(p->err, "Unknown type name alias: %s", s);
	}
	if (!is_num_type(v->value_type))
		return sp_error_set(
		    p->err, "type must be represented as a number or a string");
	/* The server prints elt.number(), a double, with ostream's default
	 * format, which is %g. */
	x = num_as_double(v);
	if (parse_int(&q, key, v, &code) < 0 ||
	    !(code == -1 || (code >= 0 && code <= 19) || code == 127))
		return sp_error_set(
		    p->err, "Invalid numerical type code: %g", x);
	if (code == 0)
		return sp_error_set(p->err,
		    "Invalid numerical type code: %g. Instead use "
		    "{$exists:false}.",
		    x);
	n->u.type.set |= 1u << type_bit(code);
	return 0;
}

static struct node *
parse_type(
    struct parser *p, const char *name, const char *key, const bson_value_t *v)
{
	struct node *n = leaf_new(OP_TYPE, name);

	if (v->value_type == BSON_TYPE_ARRAY) {
		const uint8_t *data;
		bson_iter_t it;
		uint32_t len;

		value_doc(v, &data, &len);
		bson_iter_init_from_data(&it, data, len);
		while (bson_iter_next(&it))
			if (parse_one_type(p, bson_iter_key(&it),
				bson_iter_value(&it), n) < 0)
				goto fail;
	} else if (parse_one_type(p, key, v, n) < 0) {
		goto fail;
	}
	if (n->u.type.set == 0 && !n->u.type.number) {
		sp_error_set(p->err, "%s must match at least one type",
		    name ? name : "");
		goto fail;
	}
	return n;
fail:
	node_free(n);
	return NULL;
}

static struct node *
parse_mod(struct parser *p, const char *name, const bson_value_t *v)
{
	const bson_value_t *dv, *rv;
	bson_value_t d, r;
	const uint8_t *data;
	const char *why;
	bson_iter_t it;
	uint32_t len;
	int64_t div, rem;
	struct node *n;

	if (v->value_type != BSON_TYPE_ARRAY) {
		sp_error_set(p->err, "malformed mod, needs to be an array");
		return NULL;
	}
	value_doc(v, &data, &len);
	bson_iter_init_from_data(&it, data, len);
	if (!bson_iter_next(&it)) {
		sp_error_set(p->err, "malformed mod, not enough elements");
		return NULL;
	}
	dv = bson_iter_value(&it);
	if (!is_num_type(dv->value_type)) {
		sp_error_set(p->err, "malformed mod, divisor not a number");
		return NULL;
	}
	d = *dv;
	if (!bson_iter_next(&it)) {
		sp_error_set(p->err, "malformed mod, not enough elements");
		return NULL;
	}
	rv = bson_iter_value(&it);
	if (!is_num_type(rv->value_type)) {
		sp_error_set(p->err, "malformed mod, remainder not a number");
		return NULL;
	}
	r = *rv;
	if (bson_iter_next(&it)) {
		sp_error_set(p->err, "malformed mod, too many elements");
		return NULL;
	}
	if ((why = coerce_long(&d, &div)) != NULL) {
		sp_error_set(p->err,
		    "malformed mod, divisor value is invalid :: caused by :: "
		    "%s",
		    why);
		return NULL;
	}
	if ((why = coerce_long(&r, &rem)) != NULL) {
		sp_error_set(p->err,
		    "malformed mod, remainder value is invalid :: caused by :: "
		    "%s",
		    why);
		return NULL;
	}
	if (div == 0) {
		sp_error_set(p->err, "divisor cannot be 0");
		return NULL;
	}
	n = leaf_new(OP_MOD, name);
	n->u.mod.div = div;
	n->u.mod.rem = rem;
	return n;
}

static void
bits_add_pos(struct node *n, uint32_t pos)
{
	n->u.bits.pos = sp_xrealloc(
	    n->u.bits.pos, (n->u.bits.npos + 1) * sizeof(*n->u.bits.pos));
	n->u.bits.pos[n->u.bits.npos++] = pos;
}

static struct node *
parse_bits(struct parser *p, enum op op, const char *name, const char *key,
    const bson_value_t *v)
{
	struct node *n = leaf_new(op, name);
	char b[256];

	if (v->value_type == BSON_TYPE_ARRAY) {
		const uint8_t *data;
		bson_iter_t it;
		uint32_t len;

		value_doc(v, &data, &len);
		bson_iter_init_from_data(&it, data, len);
		while (bson_iter_next(&it)) {
			struct sp_error why;
			struct parser q = {&why, p->depth, false};
			int32_t pos;

			if (parse_nonneg_int(&q, bson_iter_key(&it),
				bson_iter_value(&it), &pos) < 0) {
				sp_error_set(p->err,
				    "Failed to parse bit position. %s",
				    why.msg);
				goto fail;
			}
			bits_add_pos(n, (uint32_t)pos);
			/* Bits past 63 test the sign bit: numbers are
			 * sign-extended. */
			n->u.bits.mask |= 1ULL << (pos > 63 ? 63 : pos);
		}
	} else if (is_num_type(v->value_type)) {
		int64_t mask;
		int bit;

		if (parse_nonneg_long(p, key, v, &mask) < 0)
			goto fail;
		n->u.bits.mask = (uint64_t)mask;
		for (bit = 0; bit < 64; bit++)
			if ((uint64_t)mask & (1ULL << bit))
				bits_add_pos(n, (uint32_t)bit);
	} else if (v->value_type == BSON_TYPE_BINARY) {
		const uint8_t *bin = v->value.v_binary.data;
		uint32_t i, len = v->value.v_binary.data_len;
		int bit;

		for (i = 0; i < len; i++) {
			if (bin[i] == 0)
				continue;
			/* Numbers are sign-extended: a mask bit past 63
			 * tests the sign bit. */
			if (i < 8)
				n->u.bits.mask |= (uint64_t)bin[i] << (i * 8);
			else
				n->u.bits.mask |= 1ULL << 63;
			for (bit = 0; bit < 8; bit++)
				if (bin[i] & (1u << bit))
					bits_add_pos(n, 8 * i + (uint32_t)bit);
		}
	} else {
		sp_error_set(p->err,
		    "%s takes an Array, a number, or a BinData but received: "
		    "%s",
		    name ? name : "", elem_str(b, sizeof(b), key, v));
		goto fail;
	}
	return n;
fail:
	node_free(n);
	return NULL;
}

static struct node *
parse_elem_match(struct parser *p, const char *name, const bson_value_t *v)
{
	const uint8_t *data;
	const char *first;
	struct node *n, *sub;
	uint32_t len;
	bool value_case = false;

	if (v->value_type != BSON_TYPE_DOCUMENT) {
		sp_error_set(p->err, "$elemMatch needs an Object");
		return NULL;
	}
	value_doc(v, &data, &len);
	/*
	 * The value form ({$elemMatch: {$gt: 1, $lt: 5}}) applies when the
	 * first key is an operator that is not a pathless one such as $and
	 * or $expr; everything else is a query on the elements as documents.
	 */
	if (is_expression_doc(v, true) && doc_first_key(data, len, &first))
		value_case = !is_pathless(first);
	if (value_case) {
		n = leaf_new(OP_ELEM_VAL, name);
		if (parse_sub(p, NULL, data, len, LV_SUB, n) < 0) {
			node_free(n);
			return NULL;
		}
		return n;
	}
	if ((sub = parse_doc(p, data, len, LV_SUB)) == NULL)
		return NULL;
	n = leaf_new(OP_ELEM_OBJ, name);
	add_kid(n, sub);
	return n;
}

/*
 * Whether $all refuses an object element with this first key. The server
 * asks parsePathAcceptingKeyword, which does not know $eq (SERVER-19565):
 * {$all: [{$eq: 1}]} compares with the document {$eq: 1}, as it would
 * with {$foo: 1}.
 */
static bool
all_refuses(const char *key)
{
	enum kw kw = keyword(key);

	return kw != KW_NONE && kw != KW_EQ;
}

static struct node *
parse_all(struct parser *p, const char *name, const bson_value_t *v)
{
	const uint8_t *data, *fdata;
	const char *fkey;
	bson_iter_t it;
	uint32_t len, flen;
	struct node *and, *kid;
	bool elem = false;

	if (v->value_type != BSON_TYPE_ARRAY) {
		sp_error_set(p->err, "$all needs an array");
		return NULL;
	}
	value_doc(v, &data, &len);
	bson_iter_init_from_data(&it, data, len);
	if (bson_iter_next(&it) && bson_iter_type(&it) == BSON_TYPE_DOCUMENT) {
		value_doc(bson_iter_value(&it), &fdata, &flen);
		elem = doc_first_key(fdata, flen, &fkey) &&
		    strcmp(fkey, "$elemMatch") == 0;
	}
	and = node_new(OP_AND);
	bson_iter_init_from_data(&it, data, len);
	while (bson_iter_next(&it)) {
		const bson_value_t *e = bson_iter_value(&it);

		if (elem) {
			/* $all: [{$elemMatch: ...}, ...]: only the first key
			 * of each object counts, as in the server. */
			bson_iter_t sub;

			if (e->value_type != BSON_TYPE_DOCUMENT ||
			    !bson_iter_recurse(&it, &sub) ||
			    !bson_iter_next(&sub) ||
			    strcmp(bson_iter_key(&sub), "$elemMatch") != 0) {
				sp_error_set(p->err,
				    "$all/$elemMatch has to be consistent");
				goto fail;
			}
			kid = parse_elem_match(p, name, bson_iter_value(&sub));
		} else if (e->value_type == BSON_TYPE_REGEX) {
			kid = regex_value_node(p, name, e);
		} else if (e->value_type == BSON_TYPE_DOCUMENT &&
		    (value_doc(e, &fdata, &flen),
			doc_first_key(fdata, flen, &fkey)) &&
		    all_refuses(fkey)) {
			sp_error_set(p->err, "no $ expressions in $all");
			goto fail;
		} else {
			kid = cmp_node(p, OP_EQ, name, e);
		}
		if (kid == NULL)
			goto fail;
		add_kid(and, kid);
	}
	if (and->nkids == 0) {
		/* An empty $all matches nothing. */
		and->op = OP_FALSE;
	}
	return and;
fail:
	node_free(and);
	return NULL;
}

static struct node *
parse_not(
    struct parser *p, const char *name, const bson_value_t *v, enum level lv)
{
	const uint8_t *data;
	struct node *and, *kid;
	const char *first;
	uint32_t len;

	if (v->value_type == BSON_TYPE_REGEX) {
		if ((kid = regex_value_node(p, name, v)) == NULL)
			return NULL;
		return wrap_not(kid);
	}
	if (v->value_type != BSON_TYPE_DOCUMENT) {
		sp_error_set(
		    p->err, "$not argument must be a regex or an object");
		return NULL;
	}
	value_doc(v, &data, &len);
	if (!doc_first_key(data, len, &first)) {
		sp_error_set(
		    p->err, "$not argument must be a non-empty object");
		return NULL;
	}
	and = node_new(OP_AND);
	if (parse_sub(p, name, data, len, lv, and) < 0) {
		node_free(and);
		return NULL;
	}
	return wrap_not(and);
}

static int
asp_unsupported(struct parser *p, const char *op)
{
	return sp_error_set(
	    p->err, "%s is not supported in Atlas Stream Processing", op);
}

/*
 * One operator of {name: {$op: v, ...}}. ctx is the whole operator object
 * ($regex and $options look at each other). Returns 1 with *out set, 0
 * when the operator adds no node ($options next to $regex), -1 on error.
 */
static int
parse_subfield(struct parser *p, const char *name, const uint8_t *ctx,
    uint32_t ctxlen, bson_iter_t *it, enum level lv, struct node **out)
{
	const char *key = bson_iter_key(it);
	const bson_value_t *v = bson_iter_value(it);
	const char *fname = name ? name : "";
	enum kw kw = keyword(key);
	bson_iter_t scan;
	struct node *n = NULL;
	int32_t size;

	if (strcmp(key, "$not") == 0) {
		n = parse_not(p, name, v, lv);
		goto done;
	}
	switch (kw) {
	case KW_NONE:
		if (strcmp(key, "$where") == 0)
			return sp_error_set(
			    p->err, "$where cannot be applied to a field");
		return sp_error_set(p->err, "unknown operator: %s", key);
	case KW_LT:
	case KW_LTE:
	case KW_GT:
	case KW_GTE:
		if (v->value_type == BSON_TYPE_REGEX)
			return sp_error_set(p->err,
			    "Can't have RegEx as arg to non-equality predicate "
			    "over field '%s'.",
			    fname);
		n = cmp_node(p,
		    kw == KW_LT        ? OP_LT
			: kw == KW_LTE ? OP_LTE
			: kw == KW_GT  ? OP_GT
				       : OP_GTE,
		    name, v);
		break;
	case KW_EQ: n = cmp_node(p, OP_EQ, name, v); break;
	case KW_NE:
		if (v->value_type == BSON_TYPE_REGEX)
			return sp_error_set(
			    p->err, "Can't have regex as arg to $ne.");
		if ((n = cmp_node(p, OP_EQ, name, v)) != NULL)
			n = wrap_not(n);
		break;
	case KW_IN:
	case KW_NIN:
		if (v->value_type != BSON_TYPE_ARRAY)
			return sp_error_set(p->err, "%s needs an array", key);
		n = parse_in(p, name, v);
		if (n != NULL && kw == KW_NIN)
			n = wrap_not(n);
		break;
	case KW_SIZE: {
		struct sp_error why;
		struct parser q = {&why, p->depth, false};

		if (parse_nonneg_int(&q, key, v, &size) < 0)
			return sp_error_set(
			    p->err, "Failed to parse $size. %s", why.msg);
		n = leaf_new(OP_SIZE, name);
		n->u.size = size;
		break;
	}
	case KW_EXISTS:
		n = leaf_new(OP_EXISTS, name);
		if (!true_value(v))
			n = wrap_not(n);
		break;
	case KW_TYPE: n = parse_type(p, name, key, v); break;
	case KW_MOD: n = parse_mod(p, name, v); break;
	case KW_OPTIONS:
		/* $options may come before or after its $regex. */
		bson_iter_init_from_data(&scan, ctx, ctxlen);
		while (bson_iter_next(&scan))
			if (strcmp(bson_iter_key(&scan), "$regex") == 0)
				return 0;
		return sp_error_set(p->err, "$options needs a $regex");
	case KW_REGEX: n = parse_regex_doc(p, name, ctx, ctxlen); break;
	case KW_ELEM_MATCH: n = parse_elem_match(p, name, v); break;
	case KW_ALL: n = parse_all(p, name, v); break;
	case KW_GEO: return asp_unsupported(p, key);
	case KW_BITS_ALL_SET:
		n = parse_bits(p, OP_BITS_ALL_SET, name, key, v);
		break;
	case KW_BITS_ALL_CLEAR:
		n = parse_bits(p, OP_BITS_ALL_CLEAR, name, key, v);
		break;
	case KW_BITS_ANY_SET:
		n = parse_bits(p, OP_BITS_ANY_SET, name, key, v);
		break;
	case KW_BITS_ANY_CLEAR:
		n = parse_bits(p, OP_BITS_ANY_CLEAR, name, key, v);
		break;
	}
done:
	if (n == NULL)
		return -1;
	*out = n;
	return 1;
}

/* {name: {$op: v, ...}}: each operator adds a node to and. */
static int
parse_sub(struct parser *p, const char *name, const uint8_t *data, uint32_t len,
    enum level lv, struct node *and)
{
	const char *first;
	bson_iter_t it;

	if (too_deep(p))
		return -1;
	if (doc_first_key(data, len, &first) &&
	    (strcmp(first, "$near") == 0 || strcmp(first, "$nearSphere") == 0 ||
		strcmp(first, "$geoNear") == 0))
		return asp_unsupported(p, first);
	bson_iter_init_from_data(&it, data, len);
	while (bson_iter_next(&it)) {
		struct node *n = NULL;
		int r = parse_subfield(p, name, data, len, &it, lv, &n);

		if (r < 0)
			return -1;
		if (r > 0)
			add_kid(and, n);
	}
	p->depth--;
	return 0;
}

static struct node *
parse_tree(
    struct parser *p, const char *key, const bson_value_t *v, enum level lv)
{
	enum op op = strcmp(key, "$and") == 0 ? OP_AND
	    : strcmp(key, "$or") == 0         ? OP_OR
					      : OP_NOR;
	const uint8_t *data;
	bson_iter_t it;
	uint32_t len;
	struct node *n;

	if (v->value_type != BSON_TYPE_ARRAY) {
		sp_error_set(p->err, "%s argument must be an array", key);
		return NULL;
	}
	value_doc(v, &data, &len);
	bson_iter_init_from_data(&it, data, len);
	if (!bson_iter_next(&it)) {
		sp_error_set(
		    p->err, "%s argument must be a non-empty array", key);
		return NULL;
	}
	n = node_new(op);
	do {
		const bson_value_t *e = bson_iter_value(&it);
		const uint8_t *sd;
		uint32_t sl;
		struct node *kid;

		if (e->value_type != BSON_TYPE_DOCUMENT) {
			sp_error_set(p->err,
			    "%s argument's entries must be objects", key);
			goto fail;
		}
		value_doc(e, &sd, &sl);
		if ((kid = parse_doc(p, sd, sl, lv)) == NULL)
			goto fail;
		add_kid(n, kid);
	} while (bson_iter_next(&it));
	return n;
fail:
	node_free(n);
	return NULL;
}

static struct node *
parse_always(
    struct parser *p, const char *key, const bson_value_t *v, enum op op)
{
	int64_t one;

	if (parse_long(p, key, v, &one) < 0)
		return NULL;
	if (one != 1) {
		sp_error_set(p->err, "%s must be an integer value of 1", key);
		return NULL;
	}
	return node_new(op);
}

static struct node *
parse_sample_rate(struct parser *p, const bson_value_t *v, enum level lv)
{
	struct node *n;
	double x;

	if (lv == LV_SUB) {
		sp_error_set(p->err,
		    "$sampleRate can only be applied to the top-level "
		    "document");
		return NULL;
	}
	if (!is_num_type(v->value_type)) {
		sp_error_set(
		    p->err, "argument to $sampleRate must be a numeric type");
		return NULL;
	}
	x = num_as_double(v);
	/* Written so that NaN fails too. */
	if (!(x >= 0.0 && x <= 1.0)) {
		sp_error_set(p->err,
		    "numeric argument to $sampleRate must be in [0, 1]");
		return NULL;
	}
	if (x == 0.0)
		return node_new(OP_FALSE);
	if (x == 1.0)
		return node_new(OP_TRUE);
	n = node_new(OP_SAMPLE);
	n->u.rate = x;
	return n;
}

/* A top-level {$op: v}. Returns 1 with *out, 0 for $comment, -1. */
static int
parse_pathless(
    struct parser *p, bson_iter_t *it, enum level lv, struct node **out)
{
	const char *key = bson_iter_key(it);
	const bson_value_t *v = bson_iter_value(it);
	struct node *n;

	if (strcmp(key, "$and") == 0 || strcmp(key, "$or") == 0 ||
	    strcmp(key, "$nor") == 0) {
		n = parse_tree(p, key, v, lv);
	} else if (strcmp(key, "$expr") == 0) {
		struct sp_expr *e;

		if (lv == LV_SUB)
			return sp_error_set(p->err,
			    "$expr can only be applied to the top-level "
			    "document");
		if (sp_expr_compile(&e, v, p->err) < 0)
			return -1;
		n = node_new(OP_EXPR);
		n->u.expr = e;
		p->has_expr = true;
	} else if (strcmp(key, "$comment") == 0) {
		return 0;
	} else if (strcmp(key, "$where") == 0) {
		return sp_error_set(
		    p->err, "$where is not allowed in Atlas Stream Processing");
	} else if (strcmp(key, "$text") == 0) {
		return asp_unsupported(p, key);
	} else if (strcmp(key, "$jsonSchema") == 0) {
		return sp_error_set(
		    p->err, "$jsonSchema is not allowed in this context");
	} else if (strcmp(key, "$alwaysTrue") == 0) {
		n = parse_always(p, key, v, OP_TRUE);
	} else if (strcmp(key, "$alwaysFalse") == 0) {
		n = parse_always(p, key, v, OP_FALSE);
	} else if (strcmp(key, "$sampleRate") == 0) {
		n = parse_sample_rate(p, v, lv);
	} else if (strcmp(key, "$id") == 0 || strcmp(key, "$ref") == 0 ||
	    strcmp(key, "$db") == 0) {
		/* DBRef fields are plain equality on the field itself. */
		n = cmp_node(p, OP_EQ, key, v);
	} else if (strcmp(key, "$not") == 0) {
		return sp_error_set(p->err,
		    "unknown top level operator: $not. If you are trying to "
		    "negate an entire expression, use $nor.");
	} else {
		return sp_error_set(p->err,
		    "unknown top level operator: %s. If you have a field name "
		    "that starts with a '$' symbol, consider using $getField "
		    "or $setField.",
		    key);
	}
	if (n == NULL)
		return -1;
	*out = n;
	return 1;
}

/* The server's limit on path components (BSON depth for user storage),
 * which also bounds the recursion of the path walk. */
#define MAX_PATH 180

static size_t
path_parts(const char *key)
{
	size_t n = 1;

	for (; *key != '\0'; key++)
		if (*key == '.')
			n++;
	return n;
}

/* A filter document: an implicit $and of its fields. */
static struct node *
parse_doc(struct parser *p, const uint8_t *data, uint32_t len, enum level lv)
{
	enum level next = lv == LV_PREDICATE_TOP ? LV_DOC_TOP : lv;
	struct node *and, *n = NULL;
	bson_iter_t it;

	if (too_deep(p))
		return NULL;
	and = node_new(OP_AND);
	if (!bson_iter_init_from_data(&it, data, len)) {
		sp_error_set(p->err, "filter is not a valid BSON document");
		goto fail;
	}
	while (bson_iter_next(&it)) {
		const char *key = bson_iter_key(&it);
		const bson_value_t *v = bson_iter_value(&it);
		int r;

		if (key[0] == '$') {
			if ((r = parse_pathless(p, &it, lv, &n)) < 0)
				goto fail;
			if (r > 0)
				add_kid(and, n);
			continue;
		}
		if (path_parts(key) > MAX_PATH) {
			sp_error_set(p->err, "FieldPath is too long");
			goto fail;
		}
		if (is_expression_doc(v, false)) {
			const uint8_t *sd;
			uint32_t sl;

			value_doc(v, &sd, &sl);
			if (parse_sub(p, key, sd, sl, next, and) < 0)
				goto fail;
			continue;
		}
		if (v->value_type == BSON_TYPE_REGEX)
			n = regex_value_node(p, key, v);
		else
			n = cmp_node(p, OP_EQ, key, v);
		if (n == NULL)
			goto fail;
		add_kid(and, n);
	}
	p->depth--;
	if (and->nkids == 1) {
		n = and->kids[0];
		and->nkids = 0;
		node_free(and);
		return n;
	}
	return and;
fail:
	node_free(and);
	return NULL;
}

/* --------------------------------------------------------- BSON reader */

/*
 * The hot path reads documents with this small element reader instead of
 * bson_iter: it is inlined, bounds-checked (a malformed document just ends
 * early) and allocation-free. Values are handed out as bson_value_t, laid
 * out the way bson_iter_value() does it.
 */
struct rd {
	const uint8_t *p;
	const uint8_t *end; /* the document's trailing NUL */
};

struct el {
	uint8_t type;
	const char *key;
	uint32_t klen;
	const uint8_t *v;
	uint32_t vlen;
};

static inline uint32_t
rd_u32(const uint8_t *p)
{
	uint32_t x;

	memcpy(&x, p, 4);
	return BSON_UINT32_FROM_LE(x);
}

static inline uint64_t
rd_u64(const uint8_t *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
	return BSON_UINT64_FROM_LE(x);
}

static inline bool
rd_init(struct rd *r, const uint8_t *doc, uint32_t len)
{
	uint32_t n;

	if (len < 5 || (n = rd_u32(doc)) < 5 || n > len || doc[n - 1] != 0)
		return false;
	r->p = doc + 4;
	r->end = doc + n - 1;
	return true;
}

static inline __attribute__((always_inline)) bool
rd_next(struct rd *r, struct el *e)
{
	const uint8_t *p = r->p, *end = r->end, *k, *q;
	size_t room;
	uint32_t n;
	int z;

	if (p >= end)
		return false;
	e->type = *p++;
	k = p;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* Field names are found eight bytes at a time while the words stay
	 * inside the document. */
	while (p + 8 <= end) {
		uint64_t w, zero;

		memcpy(&w, p, 8);
		zero = (w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL;
		if (zero != 0) {
			p += __builtin_ctzll(zero) >> 3;
			goto key_done;
		}
		p += 8;
	}
#endif
	/* No bound needed inside the loop: *end is a NUL (rd_init). */
	while (*p != 0)
		p++;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
key_done:
#endif
	if (p >= end)
		goto bad;
	e->key = (const char *)k;
	e->klen = (uint32_t)(p - k);
	room = (size_t)(end - ++p);
	switch (e->type) {
	case BSON_TYPE_DOUBLE:
	case BSON_TYPE_DATE_TIME:
	case BSON_TYPE_INT64:
	case BSON_TYPE_TIMESTAMP: n = 8; break;
	case BSON_TYPE_INT32: n = 4; break;
	case BSON_TYPE_BOOL: n = 1; break;
	case BSON_TYPE_NULL:
	case BSON_TYPE_UNDEFINED:
	case BSON_TYPE_MINKEY:
	case BSON_TYPE_MAXKEY: n = 0; break;
	case BSON_TYPE_OID: n = 12; break;
	case BSON_TYPE_DECIMAL128: n = 16; break;
	case BSON_TYPE_UTF8:
	case BSON_TYPE_CODE:
	case BSON_TYPE_SYMBOL:
		if (room < 4 || (n = rd_u32(p)) < 1 || n > room - 4 ||
		    p[4 + n - 1] != 0)
			goto bad;
		n += 4;
		break;
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
	case BSON_TYPE_CODEWSCOPE:
		if (room < 4 || (n = rd_u32(p)) < 5)
			goto bad;
		break;
	case BSON_TYPE_BINARY:
		if (room < 5 || (n = rd_u32(p)) > room - 5)
			goto bad;
		n += 5;
		break;
	case BSON_TYPE_REGEX:
		for (q = p, z = 0; q < end && z < 2; q++)
			if (*q == 0)
				z++;
		if (z < 2)
			goto bad;
		n = (uint32_t)(q - p);
		break;
	case BSON_TYPE_DBPOINTER:
		if (room < 4 || (n = rd_u32(p)) < 1 || n > room - 4 ||
		    room - 4 - n < 12)
			goto bad;
		n += 16;
		break;
	default: goto bad;
	}
	if (n > room)
		goto bad;
	e->v = p;
	e->vlen = n;
	r->p = p + n;
	return true;
bad:
	r->p = end;
	return false;
}

static void
el_value(const struct el *e, bson_value_t *v)
{
	const uint8_t *p = e->v;
	uint32_t n;

	v->value_type = (bson_type_t)e->type;
	switch (e->type) {
	case BSON_TYPE_DOUBLE: {
		uint64_t bits = rd_u64(p);

		memcpy(&v->value.v_double, &bits, 8);
		break;
	}
	case BSON_TYPE_INT32: v->value.v_int32 = (int32_t)rd_u32(p); break;
	case BSON_TYPE_INT64: v->value.v_int64 = (int64_t)rd_u64(p); break;
	case BSON_TYPE_DATE_TIME:
		v->value.v_datetime = (int64_t)rd_u64(p);
		break;
	case BSON_TYPE_TIMESTAMP:
		v->value.v_timestamp.increment = rd_u32(p);
		v->value.v_timestamp.timestamp = rd_u32(p + 4);
		break;
	case BSON_TYPE_BOOL: v->value.v_bool = *p != 0; break;
	case BSON_TYPE_OID: memcpy(v->value.v_oid.bytes, p, 12); break;
	case BSON_TYPE_DECIMAL128:
		v->value.v_decimal128.low = rd_u64(p);
		v->value.v_decimal128.high = rd_u64(p + 8);
		break;
	case BSON_TYPE_UTF8:
		v->value.v_utf8.str = (char *)p + 4;
		v->value.v_utf8.len = e->vlen - 5;
		break;
	case BSON_TYPE_SYMBOL:
		v->value.v_symbol.symbol = (char *)p + 4;
		v->value.v_symbol.len = e->vlen - 5;
		break;
	case BSON_TYPE_CODE:
		v->value.v_code.code = (char *)p + 4;
		v->value.v_code.code_len = e->vlen - 5;
		break;
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
		v->value.v_doc.data = (uint8_t *)p;
		v->value.v_doc.data_len = e->vlen;
		break;
	case BSON_TYPE_BINARY:
		n = rd_u32(p);
		v->value.v_binary.subtype = (bson_subtype_t)p[4];
		v->value.v_binary.data = (uint8_t *)p + 5;
		v->value.v_binary.data_len = n;
		/* As libbson: the old binary subtype's inner length goes. */
		if (p[4] == BSON_SUBTYPE_BINARY_DEPRECATED && n >= 4) {
			v->value.v_binary.data += 4;
			v->value.v_binary.data_len -= 4;
		}
		break;
	case BSON_TYPE_REGEX:
		v->value.v_regex.regex = (char *)p;
		v->value.v_regex.options =
		    (char *)p + strlen((const char *)p) + 1;
		break;
	case BSON_TYPE_DBPOINTER:
		n = rd_u32(p);
		v->value.v_dbpointer.collection = (char *)p + 4;
		v->value.v_dbpointer.collection_len = n - 1;
		memcpy(v->value.v_dbpointer.oid.bytes, p + 4 + n, 12);
		break;
	case BSON_TYPE_CODEWSCOPE:
		/* int32 total, string (int32 length, bytes, NUL), scope. */
		n = e->vlen >= 8 ? rd_u32(p + 4) : 0;
		if (n < 1 || e->vlen < 13 || n > e->vlen - 13 ||
		    p[8 + n - 1] != 0 || rd_u32(p + 8 + n) != e->vlen - 8 - n) {
			v->value_type = BSON_TYPE_EOD;
			break;
		}
		v->value.v_codewscope.code = (char *)p + 8;
		v->value.v_codewscope.code_len = n - 1;
		v->value.v_codewscope.scope_data = (uint8_t *)p + 8 + n;
		v->value.v_codewscope.scope_len = e->vlen - 8 - n;
		break;
	default: break;
	}
}

/* ----------------------------------------------------------- evaluation */

static int
cmp_numbers_fast(const bson_value_t *a, const bson_value_t *b, bool *done)
{
	bson_type_t at = a->value_type, bt = b->value_type;
	double x, y;

	*done = true;
	if (at == BSON_TYPE_INT32 && bt == BSON_TYPE_INT32)
		return (a->value.v_int32 > b->value.v_int32) -
		    (a->value.v_int32 < b->value.v_int32);
	if (at == BSON_TYPE_INT64 && bt == BSON_TYPE_INT64)
		return (a->value.v_int64 > b->value.v_int64) -
		    (a->value.v_int64 < b->value.v_int64);
	/* int32 converts to double exactly; NaN and int64 take the slow,
	 * exact path. */
	if ((at == BSON_TYPE_DOUBLE || at == BSON_TYPE_INT32) &&
	    (bt == BSON_TYPE_DOUBLE || bt == BSON_TYPE_INT32)) {
		x = at == BSON_TYPE_DOUBLE ? a->value.v_double
					   : a->value.v_int32;
		y = bt == BSON_TYPE_DOUBLE ? b->value.v_double
					   : b->value.v_int32;
		if (!isnan(x) && !isnan(y))
			return (x > y) - (x < y);
	}
	*done = false;
	return 0;
}

/* evaluateComparisonExpressionSingleElement (matcher.cpp). */
static bool
cmp_match(enum op op, const bson_value_t *rhs, const bson_value_t *v)
{
	bson_type_t lt = v->value_type, rt = rhs->value_type;
	bool done;
	int c;

	if (lt != rt) {
		int lc = canon(lt), rc = canon(rt);

		if (lc != rc) {
			/* null on the right equals missing (not undefined). */
			if (lc + rc == 5)
				return lt == BSON_TYPE_EOD &&
				    (op == OP_EQ || op == OP_LTE ||
					op == OP_GTE);
			if (rt == BSON_TYPE_MAXKEY || rt == BSON_TYPE_MINKEY) {
				switch (op) {
				case OP_LT:
				case OP_LTE: return rt == BSON_TYPE_MAXKEY;
				case OP_GT:
				case OP_GTE: return rt == BSON_TYPE_MINKEY;
				default: return false;
				}
			}
			return false;
		}
	}
	if (op == OP_EQ) {
		if (lt == BSON_TYPE_UTF8 && rt == BSON_TYPE_UTF8)
			return v->value.v_utf8.len == rhs->value.v_utf8.len &&
			    memcmp(v->value.v_utf8.str, rhs->value.v_utf8.str,
				v->value.v_utf8.len) == 0;
	} else if (value_is_nan(v) || value_is_nan(rhs)) {
		/* NaN equals NaN but is otherwise unordered here. */
		if (op == OP_LTE || op == OP_GTE)
			return value_is_nan(v) && value_is_nan(rhs);
		return false;
	}
	c = cmp_numbers_fast(v, rhs, &done);
	if (!done)
		c = sp_value_compare(v, rhs);
	switch (op) {
	case OP_LT: return c < 0;
	case OP_LTE: return c <= 0;
	case OP_EQ: return c == 0;
	case OP_GT: return c > 0;
	default: return c >= 0;
	}
}

static bool
in_match(const struct inset *in, const bson_value_t *v, struct ctx *c)
{
	size_t i;

	if (v->value_type == BSON_TYPE_EOD)
		return in->has_null;
	if (v->value_type == BSON_TYPE_UTF8 ||
	    v->value_type == BSON_TYPE_SYMBOL) {
		struct str key = {v->value.v_utf8.str, v->value.v_utf8.len};

		if (in->nstr <= 8) {
			for (i = 0; i < in->nstr; i++)
				if (in->strs[i].len == key.len &&
				    memcmp(in->strs[i].s, key.s, key.len) == 0)
					return true;
		} else if (bsearch(&key, in->strs, in->nstr, sizeof(key),
			       str_cmp) != NULL) {
			return true;
		}
	} else {
		int vc = canon(v->value_type);

		for (i = 0; i < in->nother; i++) {
			const bson_value_t *o = &in->other[i];
			bool done;
			int r;

			if (canon(o->value_type) != vc)
				continue;
			r = cmp_numbers_fast(v, o, &done);
			if (!done)
				r = sp_value_compare(v, o);
			if (r == 0)
				return true;
		}
	}
	for (i = 0; i < in->nre; i++)
		if (match_value(in->re[i], v, c))
			return true;
	return false;
}

static bool
regex_result(int r, struct ctx *c)
{
	if (r < 0)
		c->failed = true;
	return r > 0;
}

static bool
regex_match(const struct node *n, const bson_value_t *v, struct ctx *c)
{
	switch (v->value_type) {
	case BSON_TYPE_UTF8:
		return regex_result(
		    sp_regex_test(n->u.rx.re, v->value.v_utf8.str,
			v->value.v_utf8.len, c->err),
		    c);
	case BSON_TYPE_SYMBOL:
		return regex_result(
		    sp_regex_test(n->u.rx.re, v->value.v_symbol.symbol,
			v->value.v_symbol.len, c->err),
		    c);
	case BSON_TYPE_REGEX:
		/* A stored regex matches a regex query equal to it. */
		return strcmp(v->value.v_regex.regex,
			   sp_regex_pattern(n->u.rx.re)) == 0 &&
		    strcmp(v->value.v_regex.options, n->u.rx.flags) == 0;
	default: return false;
	}
}

static bool
type_match(const struct node *n, const bson_value_t *v)
{
	bson_type_t t = v->value_type;

	if (t == BSON_TYPE_EOD)
		return false;
	if (n->u.type.number && is_num_type(t))
		return true;
	if ((int)t > 19 && t != BSON_TYPE_MINKEY && t != BSON_TYPE_MAXKEY)
		return false;
	return (n->u.type.set & (1u << type_bit((int)t))) != 0;
}

static bool
mod_match(const struct node *n, const bson_value_t *v)
{
	int64_t x;
	double d;

	switch (v->value_type) {
	case BSON_TYPE_INT32: x = v->value.v_int32; break;
	case BSON_TYPE_INT64: x = v->value.v_int64; break;
	case BSON_TYPE_DOUBLE:
		d = v->value.v_double;
		if (!isfinite(d))
			return false;
		d = trunc(d);
		if (d >= 9223372036854775808.0 || d < -9223372036854775808.0)
			return false;
		x = (int64_t)d;
		break;
	case BSON_TYPE_DECIMAL128:
		if (dec_to_i64(&v->value.v_decimal128, SP_DECIMAL_TRUNC, &x))
			return false;
		break;
	default: return false;
	}
	/* overflow::safeMod: INT64_MIN % -1 is 0, not a trap. */
	if (n->u.mod.div == -1)
		return n->u.mod.rem == 0;
	return x % n->u.mod.div == n->u.mod.rem;
}

static bool
bits_match(const struct node *n, const bson_value_t *v)
{
	uint64_t mask = n->u.bits.mask, x;
	int64_t l;
	double d;
	size_t i;

	switch (v->value_type) {
	case BSON_TYPE_BINARY: {
		const uint8_t *bin = v->value.v_binary.data;
		uint32_t len = v->value.v_binary.data_len;

		for (i = 0; i < n->u.bits.npos; i++) {
			uint32_t pos = n->u.bits.pos[i];
			bool set = pos < (uint64_t)len * 8 &&
			    (bin[pos / 8] & (1u << (pos % 8))) != 0;

			switch (n->op) {
			case OP_BITS_ALL_SET:
				if (!set)
					return false;
				break;
			case OP_BITS_ALL_CLEAR:
				if (set)
					return false;
				break;
			case OP_BITS_ANY_SET:
				if (set)
					return true;
				break;
			default:
				if (!set)
					return true;
				break;
			}
		}
		return n->op == OP_BITS_ALL_SET || n->op == OP_BITS_ALL_CLEAR;
	}
	case BSON_TYPE_INT32: l = v->value.v_int32; break;
	case BSON_TYPE_INT64: l = v->value.v_int64; break;
	case BSON_TYPE_DOUBLE:
		d = v->value.v_double;
		if (isnan(d) || d >= 9223372036854775808.0 ||
		    d < -9223372036854775808.0 || d != (double)(int64_t)d)
			return false;
		l = (int64_t)d;
		break;
	case BSON_TYPE_DECIMAL128:
		if (dec_to_i64(&v->value.v_decimal128, SP_DECIMAL_EXACT, &l))
			return false;
		break;
	default: return false;
	}
	x = (uint64_t)l;
	switch (n->op) {
	case OP_BITS_ALL_SET: return (x & mask) == mask;
	case OP_BITS_ALL_CLEAR: return (~x & mask) == mask;
	case OP_BITS_ANY_SET: return (x & mask) != 0;
	default: return (~x & mask) != 0;
	}
}

static bool
size_match(const struct node *n, const bson_value_t *v)
{
	struct rd r;
	struct el e;
	int32_t count = 0;

	if (v->value_type != BSON_TYPE_ARRAY ||
	    !rd_init(&r, v->value.v_doc.data, v->value.v_doc.data_len))
		return false;
	while (rd_next(&r, &e))
		count++;
	return count == n->u.size;
}

static bool
elem_obj_match(const struct node *n, const bson_value_t *v, struct ctx *c)
{
	struct rd r;
	struct el e;

	if (v->value_type != BSON_TYPE_ARRAY ||
	    !rd_init(&r, v->value.v_doc.data, v->value.v_doc.data_len))
		return false;
	while (rd_next(&r, &e)) {
		/* Arrays count as objects here (isABSONObj): their keys are
		 * "0", "1", ... */
		if ((e.type == BSON_TYPE_DOCUMENT ||
			e.type == BSON_TYPE_ARRAY) &&
		    match_doc(n->kids[0], e.v, e.vlen, c) > 0)
			return true;
	}
	return false;
}

static bool
elem_val_match(const struct node *n, const bson_value_t *v, struct ctx *c)
{
	bson_value_t ev;
	struct rd r;
	struct el e;
	size_t i;

	if (v->value_type != BSON_TYPE_ARRAY ||
	    !rd_init(&r, v->value.v_doc.data, v->value.v_doc.data_len))
		return false;
	while (rd_next(&r, &e)) {
		el_value(&e, &ev);
		for (i = 0; i < n->nkids; i++)
			if (!match_value(n->kids[i], &ev, c))
				break;
		if (i == n->nkids)
			return true;
	}
	return false;
}

static bool
match_value(const struct node *n, const bson_value_t *v, struct ctx *c)
{
	size_t i;

	switch (n->op) {
	case OP_EQ:
	case OP_LT:
	case OP_LTE:
	case OP_GT:
	case OP_GTE: return cmp_match(n->op, &n->rhs, v);
	case OP_IN: return in_match(&n->u.in, v, c);
	case OP_REGEX: return regex_match(n, v, c);
	case OP_EXISTS: return v->value_type != BSON_TYPE_EOD;
	case OP_TYPE: return type_match(n, v);
	case OP_MOD: return mod_match(n, v);
	case OP_BITS_ALL_SET:
	case OP_BITS_ALL_CLEAR:
	case OP_BITS_ANY_SET:
	case OP_BITS_ANY_CLEAR: return bits_match(n, v);
	case OP_SIZE: return size_match(n, v);
	case OP_ELEM_OBJ: return elem_obj_match(n, v, c);
	case OP_ELEM_VAL: return elem_val_match(n, v, c);
	case OP_NOT: return !match_value(n->kids[0], v, c);
	case OP_AND:
		for (i = 0; i < n->nkids; i++)
			if (!match_value(n->kids[i], v, c))
				return false;
		return true;
	case OP_OR:
		for (i = 0; i < n->nkids; i++)
			if (match_value(n->kids[i], v, c))
				return true;
		return false;
	case OP_NOR:
		for (i = 0; i < n->nkids; i++)
			if (match_value(n->kids[i], v, c))
				return false;
		return true;
	case OP_TRUE: return true;
	default:
		/* $expr and $sampleRate never reach value context: the
		 * parser refuses them below $elemMatch. */
		return false;
	}
}

/* ------------------------------------------------------------ path walk */

struct walk {
	const struct node *n;
	const struct path *p;
	bool expand; /* leaf arrays: also yield their elements */
	struct ctx *c;
};

static bool
yield(const struct walk *w, const bson_value_t *v)
{
	return match_value(w->n, v, w->c);
}

static bool
yield_el(const struct walk *w, const struct el *e)
{
	bson_value_t v;

	el_value(e, &v);
	return match_value(w->n, &v, w->c);
}

static bool
yield_missing(const struct walk *w)
{
	bson_value_t v;

	v.value_type = BSON_TYPE_EOD;
	return yield(w, &v);
}

static inline bool
key_is(const struct el *e, const struct comp *c)
{
	uint32_t i;

	/* Field names are short: a loop beats a call to memcmp. */
	if (e->klen != c->len)
		return false;
	for (i = 0; i < c->len; i++)
		if (e->key[i] != c->s[i])
			return false;
	return true;
}

/* The first field of doc named c (getField: duplicates after the first
 * are invisible). */
static inline bool
lookup(const uint8_t *doc, uint32_t len, const struct comp *c, struct el *e)
{
	struct rd r;

	if (!rd_init(&r, doc, len))
		return false;
	while (rd_next(&r, e))
		if (key_is(e, c))
			return true;
	return false;
}

static bool walk_arr(
    const struct walk *w, const uint8_t *a, uint32_t alen, size_t j);

/* getFieldDottedOrArray, then what BSONElementIterator does with it. */
static bool
walk_obj(const struct walk *w, const uint8_t *doc, uint32_t len, size_t i)
{
	const struct path *p = w->p;
	struct el e;

	for (;;) {
		if (!lookup(doc, len, &p->c[i], &e))
			return yield_missing(w);
		switch (e.type) {
		case BSON_TYPE_DOCUMENT:
			if (i + 1 < p->n) {
				doc = e.v;
				len = e.vlen;
				i++;
				continue;
			}
			break;
		case BSON_TYPE_ARRAY: return walk_arr(w, e.v, e.vlen, i + 1);
		default:
			/* A scalar where the path wants to go on: missing. */
			if (i + 1 < p->n)
				return yield_missing(w);
			break;
		}
		return yield_el(w, &e);
	}
}

/* An array reached with the path components from j on still to go. */
static bool
walk_arr(const struct walk *w, const uint8_t *a, uint32_t alen, size_t j)
{
	const struct path *p = w->p;
	const struct comp *c;
	struct rd r;
	struct el e;

	if (j == p->n) {
		bson_value_t whole;

		if (w->expand && rd_init(&r, a, alen))
			while (rd_next(&r, &e))
				if (yield_el(w, &e))
					return true;
		whole.value_type = BSON_TYPE_ARRAY;
		whole.value.v_doc.data = (uint8_t *)a;
		whole.value.v_doc.data_len = alen;
		return yield(w, &whole);
	}
	if (!rd_init(&r, a, alen))
		return false;
	c = &p->c[j];
	while (rd_next(&r, &e)) {
		if (e.type == BSON_TYPE_DOCUMENT) {
			if (walk_obj(w, e.v, e.vlen, j))
				return true;
			if (c->num && key_is(&e, c)) {
				if (j + 1 == p->n) {
					if (yield_el(w, &e))
						return true;
				} else if (walk_obj(w, e.v, e.vlen, j + 1)) {
					return true;
				}
			}
		} else if (c->num && key_is(&e, c)) {
			if (j + 1 == p->n) {
				if (yield_el(w, &e))
					return true;
			} else if (e.type == BSON_TYPE_ARRAY &&
			    walk_arr(w, e.v, e.vlen, j + 1)) {
				return true;
			}
		}
	}
	/* A path that continues past an array never yields the array. */
	return false;
}

static bool
leaf_match(
    const struct node *n, const uint8_t *doc, uint32_t len, struct ctx *c)
{
	struct walk w;

	w.n = n;
	w.p = &n->path;
	w.expand =
	    !(n->op == OP_SIZE || n->op == OP_ELEM_OBJ || n->op == OP_ELEM_VAL);
	w.c = c;
	return walk_obj(&w, doc, len, 0);
}

static double
next_random(uint64_t *s)
{
	/* xorshift64*: plenty for sampling. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (double)((*s * 2685821657736338717ULL) >> 11) /
	    9007199254740992.0;
}

static int
match_doc(const struct node *n, const uint8_t *doc, uint32_t len, struct ctx *c)
{
	bson_value_t out;
	size_t i;
	int r;

	switch (n->op) {
	case OP_AND:
		for (i = 0; i < n->nkids; i++)
			if ((r = match_doc(n->kids[i], doc, len, c)) <= 0)
				return r;
		return 1;
	case OP_OR:
		for (i = 0; i < n->nkids; i++)
			if ((r = match_doc(n->kids[i], doc, len, c)) != 0)
				return r;
		return 0;
	case OP_NOR:
		for (i = 0; i < n->nkids; i++)
			if ((r = match_doc(n->kids[i], doc, len, c)) != 0)
				return r < 0 ? r : 0;
		return 1;
	case OP_NOT:
		r = match_doc(n->kids[0], doc, len, c);
		return r < 0 ? r : !r;
	case OP_TRUE: return 1;
	case OP_FALSE: return 0;
	case OP_EXPR:
		if (sp_expr_eval(n->u.expr, c->root, c->rootlen, c->arena, &out,
			c->err) < 0)
			return -1;
		return sp_value_truthy(&out);
	case OP_SAMPLE: return next_random(c->rng) < n->u.rate;
	default: return leaf_match(n, doc, len, c);
	}
}

/* ----------------------------------------------------------------- API */

int
sp_match_compile(struct sp_match **out, const uint8_t *filter, uint32_t len,
    struct sp_error *err)
{
	struct parser p = {err, 0, false};
	struct sp_match *m;
	bson_t b;
	size_t off;

	*out = NULL;
	if (!bson_init_static(&b, filter, len) ||
	    !bson_validate(&b, BSON_VALIDATE_NONE, &off))
		return sp_error_set(err, "filter is not a valid BSON document");
	m = sp_xcalloc(1, sizeof(*m));
	m->filter = sp_xmalloc(len);
	memcpy(m->filter, filter, len);
	m->len = len;
	m->rng = sp_xmalloc(sizeof(*m->rng));
	*m->rng = 0x9e3779b97f4a7c15ULL;
	if ((m->root = parse_doc(&p, m->filter, len, LV_PREDICATE_TOP)) ==
	    NULL) {
		sp_match_free(m);
		return -1;
	}
	m->has_expr = p.has_expr;
	*out = m;
	return 0;
}

void
sp_match_free(struct sp_match *m)
{
	if (m == NULL)
		return;
	node_free(m->root);
	free(m->rng);
	free(m->filter);
	free(m);
}

int
sp_match_exec(const struct sp_match *m, const uint8_t *doc, uint32_t len,
    struct sp_arena *arena, struct sp_error *err)
{
	struct sp_arena local;
	struct ctx c;
	int r;

	c.root = doc;
	c.rootlen = len;
	c.arena = arena;
	c.err = err;
	c.rng = m->rng;
	if (arena == NULL && m->has_expr) {
		sp_arena_init(&local);
		c.arena = &local;
	}
	c.failed = false;
	r = match_doc(m->root, doc, len, &c);
	if (c.arena == &local)
		sp_arena_release(&local);
	return c.failed ? -1 : r;
}
