/* expr_value.c: values as MongoDB's Value::toString writes them, for
 * error messages. */
#include <math.h>
#include <stdio.h>

#include "expr_int.h"

/*
 * The one renderer behind every message that quotes a value ("... found:
 * %s"). MongoDB writes those with Value's operator<< (value.cpp); the
 * EXPR_TEXT_* flags keep the renderings that some operators' messages
 * were written against (see expr_int.h).
 *
 * A message holds at most EXPR_TEXT_MAX bytes, so that is all a value
 * gets: what does not fit is dropped, and a huge document costs no more
 * than a small one.
 */

/* Output with a fixed allowance. */
struct text {
	struct sp_buf *b;
	size_t room; /* bytes that may still be appended */
	unsigned flags;
};

static void
put(struct text *t, const char *s, size_t n)
{
	if (n > t->room)
		n = t->room;
	sp_buf_append(t->b, s, n);
	t->room -= n;
}

static void
puts_text(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

static void put_value(struct text *t, const bson_value_t *v, int depth);

int64_t
sp_expr_iso_date(char *buf, size_t size, int64_t ms)
{
	int64_t days, rem, y;
	int mo, d;

	days = ms / 86400000;
	rem = ms % 86400000;
	if (rem < 0) {
		rem += 86400000;
		days--;
	}
	sp_tz_civil_from_days(days, &y, &mo, &d);
	snprintf(buf, size, "%04lld-%02d-%02dT%02u:%02u:%02u.%03uZ",
	    (long long)y, mo, d, (unsigned)(rem / 3600000),
	    (unsigned)(rem / 60000 % 60), (unsigned)(rem / 1000 % 60),
	    (unsigned)(rem % 1000));
	return y;
}

static void
put_hex(struct text *t, const uint8_t *p, size_t n, const char *digits)
{
	char pair[2];
	size_t i;

	for (i = 0; i < n && t->room > 0; i++) {
		pair[0] = digits[p[i] >> 4];
		pair[1] = digits[p[i] & 15];
		put(t, pair, 2);
	}
}

static void
put_doc(struct text *t, const bson_value_t *v, int depth)
{
	bool array = v->value_type == BSON_TYPE_ARRAY;
	bson_iter_t it;
	bool first = true;

	puts_text(t, array ? "[" : "{");
	if (bson_iter_init_from_data(
		&it, v->value.v_doc.data, v->value.v_doc.data_len)) {
		while (t->room > 0 && bson_iter_next(&it)) {
			if (!first)
				puts_text(t, ", ");
			first = false;
			if (!array) {
				put(t, bson_iter_key(&it),
				    bson_iter_key_len(&it));
				puts_text(t, ": ");
			}
			put_value(t, bson_iter_value(&it), depth + 1);
		}
	}
	puts_text(t, array ? "]" : "}");
}

static void
put_value(struct text *t, const bson_value_t *v, int depth)
{
	char buf[64];
	double x;
	int64_t y;

	if ((t->flags & EXPR_TEXT_DEPTH) && depth > 20) {
		puts_text(t, "...");
		return;
	}
	switch (v->value_type) {
	case BSON_TYPE_EOD: puts_text(t, "MISSING"); break;
	case BSON_TYPE_MINKEY: puts_text(t, "MinKey"); break;
	case BSON_TYPE_MAXKEY: puts_text(t, "MaxKey"); break;
	case BSON_TYPE_NULL: puts_text(t, "null"); break;
	case BSON_TYPE_UNDEFINED: puts_text(t, "undefined"); break;
	case BSON_TYPE_BOOL:
		puts_text(t, v->value.v_bool ? "true" : "false");
		break;
	case BSON_TYPE_INT32:
		snprintf(buf, sizeof(buf), "%d", (int)v->value.v_int32);
		puts_text(t, buf);
		break;
	case BSON_TYPE_INT64:
		snprintf(buf, sizeof(buf), "%lld", (long long)v->value.v_int64);
		puts_text(t, buf);
		break;
	case BSON_TYPE_DOUBLE:
		/* ostream prints doubles as "%g" does. */
		x = v->value.v_double;
		if ((t->flags & EXPR_TEXT_NAN_BARE) && isnan(x))
			snprintf(buf, sizeof(buf), "nan");
		else
			snprintf(buf, sizeof(buf), "%g", x);
		puts_text(t, buf);
		break;
	case BSON_TYPE_DECIMAL128:
		/* libbson writes the IEEE to-scientific-string form that
		 * Decimal128::toString writes ("1.3E+37", "0.0000", "NaN"). */
		bson_decimal128_to_string(&v->value.v_decimal128, buf);
		puts_text(t, buf);
		break;
	case BSON_TYPE_UTF8:
		puts_text(t, "\"");
		put(t, v->value.v_utf8.str, v->value.v_utf8.len);
		puts_text(t, "\"");
		break;
	case BSON_TYPE_SYMBOL:
		puts_text(t, "Symbol(\"");
		put(t, v->value.v_symbol.symbol, v->value.v_symbol.len);
		puts_text(t, "\")");
		break;
	case BSON_TYPE_CODE:
		puts_text(t,
		    (t->flags & EXPR_TEXT_CODE_JS) ? "javascript: "
						   : "Code(\"");
		put(t, v->value.v_code.code, v->value.v_code.code_len);
		if (!(t->flags & EXPR_TEXT_CODE_JS))
			puts_text(t, "\")");
		break;
	case BSON_TYPE_CODEWSCOPE:
		if (t->flags & EXPR_TEXT_RARE_NAMES) {
			puts_text(t, sp_expr_type_name(v->value_type));
			break;
		}
		puts_text(t,
		    (t->flags & EXPR_TEXT_CODE_JS) ? "javascript: "
						   : "CodeWScope(\"");
		put(t, v->value.v_codewscope.code,
		    v->value.v_codewscope.code_len);
		if (!(t->flags & EXPR_TEXT_CODE_JS))
			puts_text(t, "\", ...)");
		break;
	case BSON_TYPE_OID:
		bson_oid_to_string(&v->value.v_oid, buf);
		puts_text(t, buf);
		break;
	case BSON_TYPE_REGEX:
		puts_text(t, "/");
		puts_text(t, v->value.v_regex.regex);
		puts_text(t, "/");
		puts_text(t, v->value.v_regex.options);
		break;
	case BSON_TYPE_DATE_TIME:
		/* TimeZone::formatDate refuses years outside 0-9999. */
		y = sp_expr_iso_date(buf, sizeof(buf), v->value.v_datetime);
		if (!(t->flags & EXPR_TEXT_ANY_YEAR) && (y < 0 || y > 9999))
			puts_text(t, "illegal date");
		else
			puts_text(t, buf);
		break;
	case BSON_TYPE_TIMESTAMP:
		snprintf(buf, sizeof(buf), "Timestamp(%u, %u)",
		    (unsigned)v->value.v_timestamp.timestamp,
		    (unsigned)v->value.v_timestamp.increment);
		puts_text(t, buf);
		break;
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY: put_doc(t, v, depth); break;
	case BSON_TYPE_BINARY:
		snprintf(buf, sizeof(buf), "BinData(%d, ",
		    (int)v->value.v_binary.subtype);
		puts_text(t, buf);
		if (!(t->flags & EXPR_TEXT_BINDATA_BARE))
			puts_text(t, "\"");
		put_hex(t, v->value.v_binary.data, v->value.v_binary.data_len,
		    "0123456789ABCDEF");
		puts_text(t, (t->flags & EXPR_TEXT_BINDATA_BARE) ? ")" : "\")");
		break;
	case BSON_TYPE_DBPOINTER:
		if (t->flags & EXPR_TEXT_RARE_NAMES) {
			puts_text(t, sp_expr_type_name(v->value_type));
			break;
		}
		puts_text(t, "DBRef(\"");
		put(t, v->value.v_dbpointer.collection,
		    v->value.v_dbpointer.collection_len);
		puts_text(t, "\", ");
		bson_oid_to_string(&v->value.v_dbpointer.oid, buf);
		puts_text(t, buf);
		puts_text(t, ")");
		break;
	default: puts_text(t, "?"); break;
	}
}

void
sp_expr_value_string(struct sp_buf *b, const bson_value_t *v, unsigned flags)
{
	struct text t = {b, EXPR_TEXT_MAX, flags};

	put_value(&t, v, 0);
}

const char *
sp_expr_value_cstr(
    char *buf, size_t size, const bson_value_t *v, unsigned flags)
{
	struct sp_buf b;

	sp_buf_init(&b);
	sp_expr_value_string(&b, v, flags);
	snprintf(buf, size, "%s", sp_buf_cstr(&b));
	sp_buf_release(&b);
	return buf;
}
