/* stage.c: what the stages share: field paths, document edits, messages. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stage_int.h"

/* ------------------------------------------------------------- paths */

int
spath_parse(struct spath *p, const char *s, size_t len, struct sp_error *err)
{
	const char *end = s + len, *dot;

	memset(p, 0, sizeof(*p));
	if (sp_expr_check_field_path(s, len, err) < 0)
		return -1;
	p->full = sp_xmalloc(len + 1);
	memcpy(p->full, s, len);
	p->full[len] = '\0';
	while (s <= end) {
		dot = memchr(s, '.', (size_t)(end - s));
		if (dot == NULL)
			dot = end;
		p->c = sp_xrealloc(p->c, sizeof(*p->c) * (p->n + 1));
		p->c[p->n].len = (uint32_t)(dot - s);
		p->c[p->n].name = sp_xmalloc(p->c[p->n].len + 1);
		memcpy(p->c[p->n].name, s, p->c[p->n].len);
		p->c[p->n].name[p->c[p->n].len] = '\0';
		p->n++;
		s = dot + 1;
	}
	return 0;
}

void
spath_release(struct spath *p)
{
	int i;

	for (i = 0; i < p->n; i++)
		free(p->c[i].name);
	free(p->c);
	free(p->full);
	memset(p, 0, sizeof(*p));
}

static bool
find_field(const uint8_t *doc, uint32_t len, const char *name, uint32_t nlen,
    bson_iter_t *it)
{
	return bson_iter_init_from_data(it, doc, len) &&
	    bson_iter_find_w_len(it, name, (int)nlen);
}

void
doc_get_path(
    const uint8_t *doc, uint32_t len, const struct spath *p, bson_value_t *out)
{
	bson_iter_t it;
	int i;

	for (i = 0; i < p->n; i++) {
		if (!find_field(doc, len, p->c[i].name, p->c[i].len, &it))
			break;
		if (i == p->n - 1) {
			*out = *bson_iter_value(&it);
			return;
		}
		if (!BSON_ITER_HOLDS_DOCUMENT(&it))
			break;
		bson_iter_document(&it, &len, &doc);
	}
	out->value_type = BSON_TYPE_EOD;
}

static const uint8_t empty_doc[5] = {5, 0, 0, 0, 0};

int
doc_set_path(struct sp_arena *a, const uint8_t *doc, uint32_t len,
    const struct spath *p, int from, const bson_value_t *v, bson_value_t *out)
{
	const struct expr_path *c = &p->c[from];
	struct expr_buf b;
	bson_iter_t it;
	bson_value_t sub;
	bool done = false;

	if (doc == NULL) {
		doc = empty_doc;
		len = sizeof(empty_doc);
	}
	sp_expr_buf_init(&b, a);
	if (!bson_iter_init_from_data(&it, doc, len))
		return sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, out);
	while (bson_iter_next(&it)) {
		if (done || bson_iter_key_len(&it) != c->len ||
		    memcmp(bson_iter_key(&it), c->name, c->len) != 0) {
			sp_expr_buf_append(&b, bson_iter_key(&it),
			    bson_iter_key_len(&it), bson_iter_value(&it));
			continue;
		}
		done = true;
		if (from == p->n - 1) {
			if (v->value_type != BSON_TYPE_EOD)
				sp_expr_buf_append(&b, c->name, c->len, v);
			continue;
		}
		if (BSON_ITER_HOLDS_DOCUMENT(&it)) {
			const uint8_t *d;
			uint32_t n;

			bson_iter_document(&it, &n, &d);
			if (doc_set_path(a, d, n, p, from + 1, v, &sub) < 0)
				return -1;
		} else if (doc_set_path(a, NULL, 0, p, from + 1, v, &sub) < 0) {
			return -1;
		}
		sp_expr_buf_append(&b, c->name, c->len, &sub);
	}
	if (!done) {
		if (from == p->n - 1) {
			if (v->value_type != BSON_TYPE_EOD)
				sp_expr_buf_append(&b, c->name, c->len, v);
		} else {
			if (doc_set_path(a, NULL, 0, p, from + 1, v, &sub) < 0)
				return -1;
			sp_expr_buf_append(&b, c->name, c->len, &sub);
		}
	}
	return sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, out);
}

int
doc_set_field(struct sp_arena *a, const uint8_t *doc, uint32_t len,
    const char *name, const bson_value_t *v, bson_value_t *out)
{
	struct expr_path c;
	struct spath p;

	c.name = (char *)name;
	c.len = (uint32_t)strlen(name);
	p.n = 1;
	p.c = &c;
	p.full = (char *)name;
	return doc_set_path(a, doc, len, &p, 0, v, out);
}

/* ---------------------------------------------------------- messages */

static void
hex(struct sp_buf *b, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		sp_buf_putc(b, digits[p[i] >> 4]);
		sp_buf_putc(b, digits[p[i] & 15]);
	}
}

static void
oid_hex(struct sp_buf *b, const bson_oid_t *oid)
{
	char s[25];

	bson_oid_to_string(oid, s);
	sp_buf_puts(b, s);
}

/* expr_value.c's renderer, with every date in ISO form and NaN as "nan". */
void
value_str(struct sp_buf *b, const bson_value_t *v)
{
	sp_expr_value_string(b, v, EXPR_TEXT_ANY_YEAR | EXPR_TEXT_NAN_BARE);
}

/* BSONElement::toString's value part, StringBuilder's appendDoubleNice for
 * doubles ("%.16g", then ".0" unless there is a '.', 'E' or 'N'). */
static void
bson_value_str(struct sp_buf *b, const bson_value_t *v)
{
	char s[BSON_DECIMAL128_STRING + 32];
	bson_iter_t it;
	const char *sep = " ";

	switch (v->value_type) {
	case BSON_TYPE_DOUBLE:
		snprintf(s, sizeof(s), "%.16g", v->value.v_double);
		sp_buf_puts(b, s);
		if (strpbrk(s, ".EN") == NULL)
			sp_buf_puts(b, ".0");
		break;
	case BSON_TYPE_DECIMAL128:
		bson_decimal128_to_string(&v->value.v_decimal128, s);
		sp_buf_printf(b, "NumberDecimal(\"%s\")", s);
		break;
	case BSON_TYPE_OID:
		sp_buf_puts(b, "ObjectId('");
		oid_hex(b, &v->value.v_oid);
		sp_buf_puts(b, "')");
		break;
	case BSON_TYPE_DATE_TIME:
		sp_buf_printf(b, "new Date(%" PRId64 ")", v->value.v_datetime);
		break;
	case BSON_TYPE_SYMBOL:
		sp_buf_putc(b, '"');
		sp_buf_append(
		    b, v->value.v_symbol.symbol, v->value.v_symbol.len);
		sp_buf_putc(b, '"');
		break;
	case BSON_TYPE_BINARY:
		sp_buf_printf(
		    b, "BinData(%d, ", (int)v->value.v_binary.subtype);
		hex(b, v->value.v_binary.data, v->value.v_binary.data_len);
		sp_buf_putc(b, ')');
		break;
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
		if (!bson_iter_init_from_data(
			&it, v->value.v_doc.data, v->value.v_doc.data_len) ||
		    v->value.v_doc.data_len <= 5) {
			sp_buf_puts(
			    b, v->value_type == BSON_TYPE_ARRAY ? "[]" : "{}");
			break;
		}
		sp_buf_putc(b, v->value_type == BSON_TYPE_ARRAY ? '[' : '{');
		while (bson_iter_next(&it)) {
			sp_buf_puts(b, sep);
			if (v->value_type == BSON_TYPE_DOCUMENT)
				bson_elem_str(b, bson_iter_key(&it),
				    bson_iter_value(&it));
			else
				bson_value_str(b, bson_iter_value(&it));
			sep = ", ";
		}
		sp_buf_puts(b, v->value_type == BSON_TYPE_ARRAY ? " ]" : " }");
		break;
	default: value_str(b, v); break;
	}
}

void
bson_elem_str(struct sp_buf *b, const char *key, const bson_value_t *v)
{
	sp_buf_puts(b, key);
	sp_buf_puts(b, ": ");
	bson_value_str(b, v);
}

void
bson_obj_str(struct sp_buf *b, const uint8_t *doc, uint32_t len)
{
	bson_value_t v;

	doc_value(&v, doc, len);
	bson_value_str(b, &v);
}
