/* expr_date.c: date operators ($dateAdd, $dateToString, $year, ... with time
 * zones). */
#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include <pcre2.h>

#include "expr_int.h"

/*
 * MongoDB computes dates with timelib; this file follows the server's own
 * code (src/mongo/db/exec/expression/evaluate_date.cpp,
 * src/mongo/db/query/datetime/date_time_support.cpp, timelib 2022.10) step
 * by step, including the order in which arguments are checked, which
 * decides which error or null a bad record gets.
 *
 * A date operator's node keeps its arguments at fixed positions; an
 * argument that was not given is a constant "missing" placeholder (fold()
 * needs every argument to be a node) and a bit in the node's prep. The
 * prep holds what can be worked out once: constant time zones, units,
 * weekdays, bin sizes and compiled format strings. As in MongoDB 8's
 * optimize(), an invalid constant of that kind is a compile error unless
 * the whole expression is constant and folds; formats are checked when
 * evaluated, as the server does, but parsed only once.
 */

#define BIT(i) (1u << (i))

/* Operator kinds (enode.aux). */
enum {
	K_YEAR,
	K_MONTH,
	K_DAY_OF_MONTH,
	K_HOUR,
	K_MINUTE,
	K_SECOND,
	K_MILLISECOND,
	K_DAY_OF_WEEK,
	K_DAY_OF_YEAR,
	K_WEEK,
	K_ISO_WEEK,
	K_ISO_WEEK_YEAR,
	K_ISO_DAY_OF_WEEK,
	K_ADD,
	K_SUBTRACT
};

enum {
	U_YEAR,
	U_QUARTER,
	U_MONTH,
	U_WEEK,
	U_DAY,
	U_HOUR,
	U_MINUTE,
	U_SECOND,
	U_MILLISECOND
};

static const char *const unit_names[] = {"year", "quarter", "month", "week",
    "day", "hour", "minute", "second", "millisecond"};

/* One piece of a compiled format: a specifier, or literal text. */
struct fop {
	char spec; /* 0 for literal text */
	uint32_t off, len; /* the literal, within the format string */
};

struct prep {
	unsigned present; /* bit i: argument i was given */
	bool always_null; /* a constant made the result null */
	int tz_arg; /* the time zone's argument index, -1: none */
	const struct sp_tz *tz; /* the constant time zone, if any */
	bool tz_null; /* the constant time zone is nullish */
	int unit; /* constant unit, -1: evaluate */
	bool unit_null; /* the constant unit is nullish */
	int sow; /* constant startOfWeek 1..7, 0: evaluate */
	bool sow_null;
	int64_t bin; /* constant binSize, 0: evaluate */
	/* A constant format, compiled; fmt_err set if it was invalid. */
	bool fmt_const;
	char fmt_err[128];
	int nops;
	struct fop ops[];
};

#define PREP(n) ((const struct prep *)(const void *)(n)->slots)

/* ------------------------------------------------------------ helpers */

static int64_t
floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t
floormod(int64_t a, int64_t b)
{
	return a - floordiv(a, b) * b;
}

static bool
given(const struct enode *n, int i)
{
	return (PREP(n)->present & BIT(i)) != 0;
}

static int
arg(const struct enode *n, struct ectx *cx, int i, bson_value_t *v)
{
	if (!given(n, i)) {
		expr_set_missing(v);
		return 0;
	}
	return expr_eval(n->args[i], cx, v);
}

/* Value::coercibleToDate: a date, a timestamp or an ObjectId. */
static bool
date_like(const bson_value_t *v)
{
	return v->value_type == BSON_TYPE_DATE_TIME ||
	    v->value_type == BSON_TYPE_TIMESTAMP ||
	    v->value_type == BSON_TYPE_OID;
}

/* Value::coerceToDate (v must be date_like). */
static int64_t
date_ms(const bson_value_t *v)
{
	switch (v->value_type) {
	case BSON_TYPE_DATE_TIME: return v->value.v_datetime;
	case BSON_TYPE_TIMESTAMP:
		return (int64_t)v->value.v_timestamp.timestamp * 1000;
	default:
		/* OID::asDateT: the leading four bytes are a signed int32. */
		return (int64_t)(int32_t)((uint32_t)v->value.v_oid.bytes[0]
			       << 24 |
			   (uint32_t)v->value.v_oid.bytes[1] << 16 |
			   (uint32_t)v->value.v_oid.bytes[2] << 8 |
			   v->value.v_oid.bytes[3]) *
		    1000;
	}
}

static int
to_date(const bson_value_t *v, int64_t *ms, struct sp_error *err)
{
	if (!date_like(v))
		return sp_error_set(err,
		    "can't convert from BSON type %s to Date",
		    sp_expr_type_name(v->value_type));
	*ms = date_ms(v);
	return 0;
}

/* Value::integral64Bit and coerceToLong. */
static bool
integral64(const bson_value_t *v, int64_t *out)
{
	struct expr_dec d;
	double x;

	switch (v->value_type) {
	case BSON_TYPE_INT32: *out = v->value.v_int32; return true;
	case BSON_TYPE_INT64: *out = v->value.v_int64; return true;
	case BSON_TYPE_DOUBLE:
		x = v->value.v_double;
		if (!(x >= -0x1p63 && x < 0x1p63) || x != trunc(x))
			return false;
		*out = (int64_t)x;
		return true;
	case BSON_TYPE_DECIMAL128: {
		struct expr_dec q;
		int64_t l;

		expr_dec_unpack(&d, &v->value.v_decimal128);
		if (expr_dec_to_int64(&d, EXPR_DEC_TRUNC, &l))
			return false;
		expr_dec_from_int64(&q, l);
		expr_dec_sub(&q, &d, &q);
		if (expr_dec_sign(&q) != 0)
			return false;
		*out = l;
		return true;
	}
	default: return false;
	}
}

/* Value::toString, for error messages: strings quoted, the rest as
 * relaxed Extended JSON. */
static void
value_text(const bson_value_t *v, char *buf, size_t size)
{
	struct sp_buf b;

	sp_buf_init(&b);
	if (v->value_type == BSON_TYPE_UTF8) {
		sp_buf_printf(&b, "\"%.*s\"", (int)v->value.v_utf8.len,
		    v->value.v_utf8.str);
	} else if (v->value_type == BSON_TYPE_EOD) {
		sp_buf_puts(&b, "MISSING");
	} else {
		sp_ejson_value(&b, v, SP_EJSON_RELAXED);
	}
	snprintf(buf, size, "%s", sp_buf_cstr(&b));
	sp_buf_release(&b);
}

/* ------------------------------------------------------- time zones */

/* makeTimeZone: 0 with *z, 1 when nullish, -1 on error. ctx, when not
 * NULL, is the context $dateDiff and $dateTrunc put before the error. */
static int
resolve_tz(const bson_value_t *v, const char *ctx, struct sp_error *err,
    const struct sp_tz **z)
{
	char msg[400];

	if (expr_nullish(v))
		return 1;
	if (v->value_type != BSON_TYPE_UTF8) {
		snprintf(msg, sizeof(msg),
		    "timezone must evaluate to a string, found %s",
		    sp_expr_type_name(v->value_type));
	} else if ((*z = sp_tz_find(
			v->value.v_utf8.str, v->value.v_utf8.len)) != NULL) {
		return 0;
	} else {
		snprintf(msg, sizeof(msg),
		    "unrecognized time zone identifier: \"%.*s\"",
		    (int)(v->value.v_utf8.len > 200 ? 200
						    : v->value.v_utf8.len),
		    v->value.v_utf8.str);
	}
	if (ctx != NULL)
		return sp_error_set(err, "%s :: caused by :: %s", ctx, msg);
	return sp_error_set(err, "%s", msg);
}

static int
eval_tz(const struct enode *n, struct ectx *cx, const char *ctx,
    const struct sp_tz **z)
{
	const struct prep *p = PREP(n);
	bson_value_t v;

	if (p->tz_arg < 0 || !given(n, p->tz_arg)) {
		*z = sp_tz_utc();
		return 0;
	}
	if (p->tz != NULL) {
		*z = p->tz;
		return 0;
	}
	if (p->tz_null)
		return 1;
	if (expr_eval(n->args[p->tz_arg], cx, &v))
		return -1;
	return resolve_tz(&v, ctx, cx->err, z);
}

/* ------------------------------------------------------- date parts */

struct parts {
	int64_t y; /* the year; fits an int for every date */
	int m, d, h, mi, s, ms;
	int64_t days; /* local days since 1970-01-01 */
	int32_t off; /* the offset in effect */
};

/* TimeZone::getTimelibTime: the local calendar fields of an instant. */
static void
parts_of(const struct sp_tz *z, int64_t ms, struct parts *p)
{
	int64_t secs = floordiv(ms, 1000), local, sod;

	p->ms = (int)(ms - secs * 1000);
	p->off = sp_tz_offset(z, secs, NULL);
	local = secs + p->off;
	p->days = floordiv(local, 86400);
	sod = local - p->days * 86400;
	p->h = (int)(sod / 3600);
	p->mi = (int)(sod / 60 % 60);
	p->s = (int)(sod % 60);
	sp_tz_civil_from_days(p->days, &p->y, &p->m, &p->d);
}

static int
day_of_year(const struct parts *p)
{
	return (int)(p->days - sp_tz_days_from_civil(p->y, 1, 1)) + 1;
}

/* 1 for Sunday ... 7 for Saturday. */
static int
day_of_week(const struct parts *p)
{
	return sp_tz_weekday(p->days) + 1;
}

/* 1 for Monday ... 7 for Sunday. */
static int
iso_day_of_week(int64_t days)
{
	int w = sp_tz_weekday(days);

	return w == 0 ? 7 : w;
}

/* TimeZone::week: weeks begin on Sunday; days before the year's first
 * Sunday are week 0. */
static int
week_of(const struct parts *p)
{
	return (day_of_year(p) - day_of_week(p) + 7) / 7;
}

/* The ISO 8601 week and its year: the week of the Thursday. */
static void
iso_week(int64_t days, int64_t *year, int *week)
{
	int64_t thu = days - iso_day_of_week(days) + 4, y;
	int m, d;

	sp_tz_civil_from_days(thu, &y, &m, &d);
	*year = y;
	*week = (int)((thu - sp_tz_days_from_civil(y, 1, 1)) / 7) + 1;
}

/* TimeZone::utcOffset: timelib is asked with the seconds truncated toward
 * zero, not floored. */
static int32_t
utc_offset(const struct sp_tz *z, int64_t ms)
{
	return sp_tz_offset(z, ms / 1000, NULL);
}

/* ------------------------------------------------ building the nodes */

static const bson_value_t missing_value = {.value_type = BSON_TYPE_EOD};

/*
 * A node for op with nargs arguments; vals[i] NULL for one not given.
 * extra: room for compiled format pieces after the prep.
 */
static int
build(struct expr_comp *c, const struct expr_op *op, int kind, int nargs,
    const bson_value_t *const *vals, int tz_arg, int extra, struct enode **out)
{
	struct enode *n = sp_expr_node_new(op->eval), *a;
	struct prep *p;
	int i;

	*out = NULL;
	n->op = op;
	n->aux = kind;
	/* The prep lives in the slots array: freed with the node, and malloc
	 * memory is aligned for any type. */
	p = sp_xcalloc(1, sizeof(*p) + (size_t)extra * sizeof(struct fop));
	n->slots = (int *)(void *)p;
	p->tz_arg = tz_arg;
	p->unit = -1;
	for (i = 0; i < nargs; i++) {
		if (vals[i] != NULL) {
			if (sp_expr_compile_value(c, vals[i], &a)) {
				sp_expr_node_free(n);
				return -1;
			}
			p->present |= BIT(i);
		} else {
			a = sp_expr_const_new(&missing_value);
		}
		sp_expr_add_arg(n, a);
	}
	*out = n;
	return 0;
}

static struct prep *
prep_of(struct enode *n)
{
	return (struct prep *)(void *)n->slots;
}

/* True when every argument given is a constant: fold() will evaluate the
 * node now, so constants are not checked ahead of it. */
static bool
all_const(const struct enode *n)
{
	int i;

	for (i = 0; i < n->nargs; i++)
		if (!sp_expr_is_const(n->args[i]))
			return false;
	return true;
}

/* A constant argument, or NULL. */
static const bson_value_t *
const_arg(const struct enode *n, int i)
{
	if (!given(n, i) || !sp_expr_is_const(n->args[i]))
		return NULL;
	return &n->args[i]->cval;
}

/* A constant time zone, resolved now (optimize() does the same). null_ok:
 * a constant null makes the whole result null. */
static int
prep_tz(struct expr_comp *c, struct enode *n, const char *ctx, bool null_ok)
{
	struct prep *p = prep_of(n);
	const bson_value_t *v;
	int rc;

	if (p->tz_arg < 0 || (v = const_arg(n, p->tz_arg)) == NULL)
		return 0;
	rc = resolve_tz(v, ctx, c->err, &p->tz);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		p->tz_null = true;
		if (null_ok)
			p->always_null = true;
	}
	return 0;
}

static void
fail_free(struct enode *n)
{
	sp_expr_node_free(n);
}

/* ------------------------------------------- $year, $month, ... */

enum { P_DATE, P_TZ, P_NARGS };

/* parseDateExpressionAcceptingTimeZone: <date>, [<date>], or
 * {date: <date>, timezone: <tz>}; an object whose first key starts with
 * '$' is an expression for the date. */
static int
compile_part(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	const bson_value_t *vals[P_NARGS] = {NULL, NULL};
	bson_value_t store[P_NARGS];
	static const char *const names[] = {"date", "timezone", NULL};
	const char *bad;
	bson_iter_t it;
	struct enode *n;
	char *s;

	*out = NULL;
	if (arg->value_type == BSON_TYPE_DOCUMENT) {
		bson_iter_init_from_data(
		    &it, arg->value.v_doc.data, arg->value.v_doc.data_len);
		if (bson_iter_next(&it) && bson_iter_key(&it)[0] == '$') {
			vals[P_DATE] = arg;
		} else {
			if ((bad = sp_expr_named_args(
				 arg, names, store, vals)) != NULL)
				return sp_error_set(c->err,
				    "unrecognized option to %s: \"%s\"",
				    op->name, bad);
			if (vals[P_DATE] == NULL) {
				bson_t b;

				s = NULL;
				if (bson_init_static(&b, arg->value.v_doc.data,
					arg->value.v_doc.data_len))
					s = bson_as_relaxed_extended_json(
					    &b, NULL);
				sp_error_set(c->err,
				    "missing 'date' argument to %s, provided: "
				    "%s: %s",
				    op->name, op->name, s != NULL ? s : "{}");
				bson_free(s);
				return -1;
			}
		}
	} else if (arg->value_type == BSON_TYPE_ARRAY) {
		uint32_t count = 0;

		bson_iter_init_from_data(
		    &it, arg->value.v_doc.data, arg->value.v_doc.data_len);
		while (bson_iter_next(&it)) {
			if (count == 0) {
				store[P_DATE] = *bson_iter_value(&it);
				vals[P_DATE] = &store[P_DATE];
			}
			count++;
		}
		if (count != 1)
			return sp_error_set(c->err,
			    "%s accepts exactly one argument if given an "
			    "array, but was given %u",
			    op->name, count);
	} else {
		vals[P_DATE] = arg;
	}
	if (build(c, op, op->aux, P_NARGS, vals, P_TZ, 0, &n))
		return -1;
	if (!all_const(n) && prep_tz(c, n, NULL, false)) {
		fail_free(n);
		return -1;
	}
	*out = n;
	return 0;
}

static int
op_part(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	const struct sp_tz *z;
	struct parts p;
	bson_value_t v;
	int64_t ms, iy;
	int rc, iw;

	if (arg(n, cx, P_DATE, &v))
		return -1;
	if (expr_nullish(&v)) {
		expr_set_null(out);
		return 0;
	}
	if (to_date(&v, &ms, cx->err))
		return -1;
	if ((rc = eval_tz(n, cx, NULL, &z)) != 0) {
		if (rc > 0)
			expr_set_null(out);
		return rc < 0 ? -1 : 0;
	}
	parts_of(z, ms, &p);
	switch (n->aux) {
	case K_YEAR: expr_set_int32(out, (int32_t)p.y); break;
	case K_MONTH: expr_set_int32(out, p.m); break;
	case K_DAY_OF_MONTH: expr_set_int32(out, p.d); break;
	case K_HOUR: expr_set_int32(out, p.h); break;
	case K_MINUTE: expr_set_int32(out, p.mi); break;
	case K_SECOND: expr_set_int32(out, p.s); break;
	case K_MILLISECOND: expr_set_int32(out, p.ms); break;
	case K_DAY_OF_WEEK: expr_set_int32(out, day_of_week(&p)); break;
	case K_DAY_OF_YEAR: expr_set_int32(out, day_of_year(&p)); break;
	case K_WEEK: expr_set_int32(out, week_of(&p)); break;
	case K_ISO_DAY_OF_WEEK:
		expr_set_int32(out, iso_day_of_week(p.days));
		break;
	case K_ISO_WEEK:
		iso_week(p.days, &iy, &iw);
		expr_set_int32(out, iw);
		break;
	default:
		/* TimeZone::isoYear returns a long long: $isoWeekYear is the
		 * one date part that comes back as a long. */
		iso_week(p.days, &iy, &iw);
		expr_set_int64(out, iy);
		break;
	}
	return 0;
}

/* ---------------------------------------------------- $dateToParts */

enum { TP_DATE, TP_TZ, TP_ISO, TP_NARGS };

static int
compile_to_parts(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	static const char *const names[] = {
	    "date", "timezone", "iso8601", NULL};
	const bson_value_t *vals[TP_NARGS] = {NULL, NULL, NULL};
	bson_value_t store[TP_NARGS];
	const char *bad;
	struct enode *n;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(c->err,
		    "$dateToParts only supports an object as its argument");
	if ((bad = sp_expr_named_args(arg, names, store, vals)) != NULL)
		return sp_error_set(
		    c->err, "Unrecognized argument to $dateToParts: %s", bad);
	if (vals[TP_DATE] == NULL)
		return sp_error_set(
		    c->err, "Missing 'date' parameter to $dateToParts");
	if (build(c, op, 0, TP_NARGS, vals, TP_TZ, 0, &n))
		return -1;
	if (!all_const(n) && prep_tz(c, n, NULL, true)) {
		fail_free(n);
		return -1;
	}
	*out = n;
	return 0;
}

static void
put_int(struct expr_buf *b, const char *key, int64_t i)
{
	bson_value_t v;

	expr_set_int32(&v, (int32_t)i);
	sp_expr_buf_append(b, key, strlen(key), &v);
}

static int
op_to_parts(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	const struct sp_tz *z;
	struct expr_buf b;
	struct parts p;
	bson_value_t date, iso;
	int64_t ms, iy;
	int rc, iw;

	if (PREP(n)->always_null) {
		expr_set_null(out);
		return 0;
	}
	if (arg(n, cx, TP_DATE, &date))
		return -1;
	if ((rc = eval_tz(n, cx, NULL, &z)) != 0) {
		if (rc > 0)
			expr_set_null(out);
		return rc < 0 ? -1 : 0;
	}
	if (given(n, TP_ISO)) {
		if (expr_eval(n->args[TP_ISO], cx, &iso))
			return -1;
		if (expr_nullish(&iso)) {
			expr_set_null(out);
			return 0;
		}
		if (iso.value_type != BSON_TYPE_BOOL)
			return sp_error_set(cx->err,
			    "iso8601 must evaluate to a bool, found %s",
			    sp_expr_type_name(iso.value_type));
	} else {
		expr_set_bool(&iso, false);
	}
	if (expr_nullish(&date)) {
		expr_set_null(out);
		return 0;
	}
	if (to_date(&date, &ms, cx->err))
		return -1;
	parts_of(z, ms, &p);
	sp_expr_buf_init(&b, cx->arena);
	if (iso.value.v_bool) {
		iso_week(p.days, &iy, &iw);
		put_int(&b, "isoWeekYear", iy);
		put_int(&b, "isoWeek", iw);
		put_int(&b, "isoDayOfWeek", iso_day_of_week(p.days));
	} else {
		put_int(&b, "year", p.y);
		put_int(&b, "month", p.m);
		put_int(&b, "day", p.d);
	}
	put_int(&b, "hour", p.h);
	put_int(&b, "minute", p.mi);
	put_int(&b, "second", p.s);
	put_int(&b, "millisecond", p.ms);
	(void)sp_expr_buf_finish(&b, BSON_TYPE_DOCUMENT, out);
	return 0;
}

/* ------------------------------------------------- format strings */

/* TimeZone::validateToStringFormat / validateFromStringFormat, compiling
 * into ops (room for len + 1). Returns the number of ops, or -1 with the
 * error in msg. */
static int
fmt_compile(const char *s, uint32_t len, const char *allowed, struct fop *ops,
    char *msg, size_t msgsize)
{
	uint32_t i, lit = 0;
	int n = 0;

	for (i = 0; i < len; i++) {
		if (s[i] != '%')
			continue;
		if (i + 1 >= len) {
			snprintf(msg, msgsize,
			    "Unmatched '%%' at end of format string");
			return -1;
		}
		if (s[i + 1] != '%' &&
		    (s[i + 1] == '\0' || strchr(allowed, s[i + 1]) == NULL)) {
			snprintf(msg, msgsize,
			    "Invalid format character '%%%c' in format string",
			    s[i + 1]);
			return -1;
		}
		if (i > lit)
			ops[n++] = (struct fop){0, lit, i - lit};
		ops[n++] = (struct fop){s[i + 1], i, 2};
		i++;
		lit = i + 1;
	}
	if (len > lit)
		ops[n++] = (struct fop){0, lit, len - lit};
	return n;
}

static const char to_string_specs[] = "bBdGHjLmMSwuUVYzZ";
static const char from_string_specs[] = "bBdGHjLmMSuVYzZ";

/* A constant format argument, compiled into the prep now. */
static void
prep_format(struct enode *n, int i, const char *allowed)
{
	struct prep *p = prep_of(n);
	const bson_value_t *v = const_arg(n, i);
	int nops;

	if (v == NULL || v->value_type != BSON_TYPE_UTF8)
		return;
	nops = fmt_compile(v->value.v_utf8.str, v->value.v_utf8.len, allowed,
	    p->ops, p->fmt_err, sizeof(p->fmt_err));
	p->fmt_const = true;
	p->nops = nops < 0 ? 0 : nops;
}

static const char *const month_names[12] = {"January", "February", "March",
    "April", "May", "June", "July", "August", "September", "October",
    "November", "December"};

/* insertPadded: width digits, zero padded, for 0..9999 only. */
static int
padded(char **o, int64_t v, int width, struct sp_error *err)
{
	if (v < 0 || v > 9999)
		return sp_error_set(err,
		    "Could not convert date to string: date component was "
		    "outside the supported range of 0-9999: %lld",
		    (long long)v);
	*o += sprintf(*o, "%0*d", width, (int)v);
	return 0;
}

/* TimeZone::formatDate. */
static int
format_date(const struct fop *ops, int nops, const char *fmt,
    const struct sp_tz *z, int64_t ms, struct ectx *cx, bson_value_t *out)
{
	struct parts p;
	size_t cap = 1;
	int64_t iy;
	int32_t off;
	char *buf, *o;
	int i, iw;

	for (i = 0; i < nops; i++)
		cap += ops[i].spec ? 16 : ops[i].len;
	buf = o = sp_arena_alloc(cx->arena, cap);
	parts_of(z, ms, &p);
	for (i = 0; i < nops; i++) {
		int rc = 0;

		switch (ops[i].spec) {
		case 0:
			memcpy(o, fmt + ops[i].off, ops[i].len);
			o += ops[i].len;
			break;
		case '%': *o++ = '%'; break;
		case 'Y': rc = padded(&o, p.y, 4, cx->err); break;
		case 'm': rc = padded(&o, p.m, 2, cx->err); break;
		case 'd': rc = padded(&o, p.d, 2, cx->err); break;
		case 'H': rc = padded(&o, p.h, 2, cx->err); break;
		case 'M': rc = padded(&o, p.mi, 2, cx->err); break;
		case 'S': rc = padded(&o, p.s, 2, cx->err); break;
		case 'L': rc = padded(&o, p.ms, 3, cx->err); break;
		case 'j': rc = padded(&o, day_of_year(&p), 3, cx->err); break;
		case 'w': rc = padded(&o, day_of_week(&p), 1, cx->err); break;
		case 'U': rc = padded(&o, week_of(&p), 2, cx->err); break;
		case 'u':
			rc = padded(&o, iso_day_of_week(p.days), 1, cx->err);
			break;
		case 'G':
			iso_week(p.days, &iy, &iw);
			rc = padded(&o, iy, 4, cx->err);
			break;
		case 'V':
			iso_week(p.days, &iy, &iw);
			rc = padded(&o, iw, 2, cx->err);
			break;
		case 'z':
			off = utc_offset(z, ms);
			*o++ = off < 0 ? '-' : '+';
			o += sprintf(
			    o, "%02d%02d", abs(off / 3600), abs(off / 60) % 60);
			break;
		case 'Z': o += sprintf(o, "%d", utc_offset(z, ms) / 60); break;
		case 'b':
			memcpy(o, month_names[p.m - 1], 3);
			o += 3;
			break;
		case 'B': o += sprintf(o, "%s", month_names[p.m - 1]); break;
		}
		if (rc != 0)
			return -1;
	}
	*o = '\0';
	out->value_type = BSON_TYPE_UTF8;
	out->value.v_utf8.str = buf;
	out->value.v_utf8.len = (uint32_t)(o - buf);
	return 0;
}

/* --------------------------------------------------- $dateToString */

enum { TS_DATE, TS_FORMAT, TS_TZ, TS_ONNULL, TS_NARGS };

static int
compile_to_string(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	static const char *const names[] = {
	    "date", "format", "timezone", "onNull", NULL};
	const bson_value_t *vals[TS_NARGS] = {NULL, NULL, NULL, NULL};
	bson_value_t store[TS_NARGS];
	const char *bad;
	struct enode *n;
	int extra = 0;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(c->err,
		    "$dateToString only supports an object as its argument");
	if ((bad = sp_expr_named_args(arg, names, store, vals)) != NULL)
		return sp_error_set(
		    c->err, "Unrecognized argument to $dateToString: %s", bad);
	if (vals[TS_DATE] == NULL)
		return sp_error_set(
		    c->err, "Missing 'date' parameter to $dateToString");
	if (vals[TS_FORMAT] != NULL &&
	    vals[TS_FORMAT]->value_type == BSON_TYPE_UTF8)
		extra = (int)vals[TS_FORMAT]->value.v_utf8.len + 1;
	if (build(c, op, 0, TS_NARGS, vals, TS_TZ, extra, &n))
		return -1;
	if (!all_const(n)) {
		if (prep_tz(c, n, NULL, false)) {
			fail_free(n);
			return -1;
		}
		prep_format(n, TS_FORMAT, to_string_specs);
	}
	*out = n;
	return 0;
}

static const char iso_format_z[] = "%Y-%m-%dT%H:%M:%S.%LZ";
static const char iso_format[] = "%Y-%m-%dT%H:%M:%S.%L";

/* The two default formats, compiled once. */
static const struct fop *
default_format(bool utc, int *nops)
{
	static struct fop z_ops[sizeof(iso_format_z)], ops[sizeof(iso_format)];
	static int nz, n;
	char msg[8];

	if (nz == 0) {
		nz = fmt_compile(iso_format_z, sizeof(iso_format_z) - 1,
		    to_string_specs, z_ops, msg, sizeof(msg));
		n = fmt_compile(iso_format, sizeof(iso_format) - 1,
		    to_string_specs, ops, msg, sizeof(msg));
	}
	*nops = utc ? nz : n;
	return utc ? z_ops : ops;
}

static int
op_to_string(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	const struct prep *p = PREP(n);
	const struct sp_tz *z = NULL;
	const struct fop *ops;
	const char *fmt;
	bson_value_t date, format;
	struct fop *dyn = NULL;
	char msg[128];
	int64_t ms;
	int rc, nops = 0;

	if (arg(n, cx, TS_DATE, &date))
		return -1;
	/* The format is checked first, even when the date is null. */
	expr_set_missing(&format);
	if (given(n, TS_FORMAT)) {
		if (expr_eval(n->args[TS_FORMAT], cx, &format))
			return -1;
		if (!expr_nullish(&format)) {
			if (format.value_type != BSON_TYPE_UTF8) {
				value_text(&format, msg, sizeof(msg));
				return sp_error_set(cx->err,
				    "$dateToString requires that 'format' be "
				    "a string, found: %s with value %s",
				    sp_expr_type_name(format.value_type), msg);
			}
			if (p->fmt_const && p->fmt_err[0] != '\0')
				return sp_error_set(cx->err, "%s", p->fmt_err);
			if (!p->fmt_const) {
				dyn = sp_arena_alloc(cx->arena,
				    sizeof(*dyn) *
					(format.value.v_utf8.len + 1));
				nops = fmt_compile(format.value.v_utf8.str,
				    format.value.v_utf8.len, to_string_specs,
				    dyn, msg, sizeof(msg));
				if (nops < 0)
					return sp_error_set(cx->err, "%s", msg);
			}
		}
	}
	rc = eval_tz(n, cx, NULL, &z);
	if (rc < 0)
		return -1;
	if (expr_nullish(&date)) {
		if (given(n, TS_ONNULL))
			return expr_eval(n->args[TS_ONNULL], cx, out);
		expr_set_null(out);
		return 0;
	}
	if (rc > 0) {
		expr_set_null(out);
		return 0;
	}
	if (given(n, TS_FORMAT)) {
		if (expr_nullish(&format)) {
			expr_set_null(out);
			return 0;
		}
		fmt = format.value.v_utf8.str;
		ops = dyn != NULL ? dyn : p->ops;
		nops = dyn != NULL ? nops : p->nops;
	} else {
		ops = default_format(sp_tz_is_utc(z), &nops);
		fmt = sp_tz_is_utc(z) ? iso_format_z : iso_format;
	}
	if (to_date(&date, &ms, cx->err))
		return -1;
	return format_date(ops, nops, fmt, z, ms, cx, out);
}

/* ------------------------------------------------ units, weekdays */

/* parseTimeUnit: 0 with *unit, -1 on error. */
static int
parse_unit(
    const bson_value_t *v, const char *opname, struct sp_error *err, int *unit)
{
	int i;

	if (v->value_type != BSON_TYPE_UTF8)
		return sp_error_set(err,
		    "%s requires 'unit' to be a string, but got %s", opname,
		    sp_expr_type_name(v->value_type));
	for (i = 0; i <= U_MILLISECOND; i++)
		if (strlen(unit_names[i]) == v->value.v_utf8.len &&
		    memcmp(unit_names[i], v->value.v_utf8.str,
			v->value.v_utf8.len) == 0) {
			*unit = i;
			return 0;
		}
	return sp_error_set(err,
	    "%s parameter 'unit' value parsing failed :: caused by :: "
	    "unknown time unit value: %.*s",
	    opname,
	    (int)(v->value.v_utf8.len > 200 ? 200 : v->value.v_utf8.len),
	    v->value.v_utf8.str);
}

/* parseDayOfWeek (case-insensitive): 1 for Monday ... 7 for Sunday. */
static int
parse_sow(
    const bson_value_t *v, const char *opname, struct sp_error *err, int *sow)
{
	static const char *const days[] = {"monday", "tuesday", "wednesday",
	    "thursday", "friday", "saturday", "sunday"};
	uint32_t len;
	int i;

	if (v->value_type != BSON_TYPE_UTF8)
		return sp_error_set(err,
		    "%s requires 'startOfWeek' to be a string, but got %s",
		    opname, sp_expr_type_name(v->value_type));
	len = v->value.v_utf8.len;
	for (i = 0; i < 7; i++)
		if ((len == 3 || len == strlen(days[i])) &&
		    strncasecmp(days[i], v->value.v_utf8.str, len) == 0) {
			*sow = i + 1;
			return 0;
		}
	return sp_error_set(err,
	    "%s parameter 'startOfWeek' value cannot be recognized as a day "
	    "of a week: %.*s",
	    opname, (int)(len > 200 ? 200 : len), v->value.v_utf8.str);
}

/* A constant unit, parsed now. A constant null one is null when read;
 * null_ok: the whole result is null at once (ExpressionDateDiff). */
static int
prep_unit(struct expr_comp *c, struct enode *n, int i, const char *opname,
    bool null_ok)
{
	struct prep *p = prep_of(n);
	const bson_value_t *v = const_arg(n, i);

	if (v == NULL)
		return 0;
	if (expr_nullish(v)) {
		p->unit_null = true;
		p->always_null |= null_ok;
		return 0;
	}
	return parse_unit(v, opname, c->err, &p->unit);
}

static int
prep_sow(struct expr_comp *c, struct enode *n, int i, const char *opname,
    bool null_ok)
{
	struct prep *p = prep_of(n);
	const bson_value_t *v = const_arg(n, i);

	if (v == NULL)
		return 0;
	if (expr_nullish(v)) {
		p->sow_null = true;
		p->always_null |= null_ok;
		return 0;
	}
	return parse_sow(v, opname, c->err, &p->sow);
}

/* The unit argument: 0 with *unit, 1 when nullish, -1 on error. */
static int
eval_unit(const struct enode *n, struct ectx *cx, int i, const char *opname,
    int *unit)
{
	bson_value_t v;

	if (PREP(n)->unit >= 0) {
		*unit = PREP(n)->unit;
		return 0;
	}
	if (PREP(n)->unit_null)
		return 1;
	if (expr_eval(n->args[i], cx, &v))
		return -1;
	if (expr_nullish(&v))
		return 1;
	return parse_unit(&v, opname, cx->err, unit);
}

/* startOfWeek, read only for weeks: Sunday unless given. */
static int
eval_sow(
    const struct enode *n, struct ectx *cx, int i, const char *opname, int *sow)
{
	bson_value_t v;

	*sow = 7;
	if (PREP(n)->sow != 0) {
		*sow = PREP(n)->sow;
		return 0;
	}
	if (PREP(n)->sow_null)
		return 1;
	if (!given(n, i))
		return 0;
	if (expr_eval(n->args[i], cx, &v))
		return -1;
	if (expr_nullish(&v))
		return 1;
	return parse_sow(&v, opname, cx->err, sow);
}

/* ------------------------------------------------- date arithmetic */

/* The days between two local dates. */
static int64_t
diff_days(const struct parts *a, const struct parts *b)
{
	return b->days - a->days;
}

/* Which day of a week starting on sow (1..7) a date is: 0 .. 6. */
static int
week_day(int64_t days, int sow)
{
	return (iso_day_of_week(days) - sow + 7) % 7;
}

static int64_t
diff_weeks(int64_t from, int64_t to, int sow)
{
	return (to - from + week_day(from, sow) - week_day(to, sow)) / 7;
}

/* isDateAddAmountValid: amounts that cannot overflow the arithmetic. */
static bool
amount_ok(int64_t amount, int unit)
{
	static const int64_t max_days = 213503982335LL; /* ULLONG_MAX / ms
							 * per day + 1 */
	static const int64_t max_years = 584942418LL; /* max_days / 365 + 1 */
	int64_t max;

	switch (unit) {
	case U_YEAR: max = max_years; break;
	case U_QUARTER: max = max_years * 4; break;
	case U_MONTH: max = max_years * 12; break;
	case U_WEEK: max = max_days / 7; break;
	case U_DAY: max = max_days; break;
	case U_HOUR: max = max_days * 24; break;
	case U_MINUTE: max = max_days * 24 * 60; break;
	default: max = max_days * 24 * 60 * 60; break;
	}
	return -max < amount && amount < max;
}

/* The seconds of one hour, minute and second unit. */
static int64_t
unit_seconds(int unit)
{
	return unit == U_HOUR ? 3600 : unit == U_MINUTE ? 60 : 1;
}

/*
 * dateAdd (date_time_support.cpp). Days and longer are added to the local
 * calendar date, keeping the wall-clock time, and the result goes back
 * through the zone; months clamp to the month's last day. Hours and
 * shorter are added to the instant itself.
 */
static int
date_add(int64_t ms, int unit, int64_t amount, const struct sp_tz *z,
    struct sp_error *err, int64_t *out)
{
	struct parts p;
	int64_t y, m, days, local, secs, msecs;
	int target;

	if (unit == U_MILLISECOND) {
		if (__builtin_add_overflow(ms, amount, out))
			return sp_error_set(err,
			    "Overflow while adding %lldms to %lldms",
			    (long long)amount, (long long)ms);
		return 0;
	}
	if (!amount_ok(amount, unit))
		return sp_error_set(err,
		    "invalid dateAdd 'amount' parameter value: %lld %s",
		    (long long)amount, unit_names[unit]);
	parts_of(z, ms, &p);
	days = p.days;
	if (unit == U_YEAR || unit == U_QUARTER || unit == U_MONTH) {
		m = amount * (unit == U_YEAR ? 12 : unit == U_QUARTER ? 3 : 1);
		m += p.m;
		y = p.y;
		/* addMonths, then the last day adjustment. */
		if (m > 12) {
			y += m / 12;
			m -= 12 * (m / 12);
		}
		if (m <= 0) {
			int64_t years = -m / 12 + 1;

			m += 12 * years;
			y -= years;
		}
		target = p.d;
		if (target > sp_tz_days_in_month(y, (int)m))
			target = sp_tz_days_in_month(y, (int)m);
		days = sp_tz_days_from_civil(y, (int)m, target);
	} else if (unit == U_WEEK || unit == U_DAY) {
		days += amount * (unit == U_WEEK ? 7 : 1);
	}
	if (!sp_tz_is_olson(z) || days != p.days) {
		/* timelib_add on the local time: UTC and fixed offsets
		 * always, Olson zones when the date moves. */
		local = days * 86400 + p.h * 3600 + p.mi * 60 + p.s;
		if (unit >= U_HOUR)
			local += amount * unit_seconds(unit);
		secs = sp_tz_from_local(z, local);
	} else {
		/* Hours and shorter in an Olson zone are added in UTC, so
		 * that no daylight saving correction applies; so is an
		 * amount of zero days or months. */
		secs = floordiv(ms, 1000);
		if (unit >= U_HOUR)
			secs += amount * unit_seconds(unit);
	}
	if (__builtin_mul_overflow(secs, 1000, &msecs) ||
	    __builtin_add_overflow(msecs, p.ms, out))
		return sp_error_set(err, "dateAdd overflowed");
	return 0;
}

/* ---------------------------------------- $dateAdd, $dateSubtract */

enum { DA_START, DA_UNIT, DA_AMOUNT, DA_TZ, DA_NARGS };

static int
compile_add(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	static const char *const names[] = {
	    "startDate", "unit", "amount", "timezone", NULL};
	const bson_value_t *vals[DA_NARGS] = {NULL, NULL, NULL, NULL};
	bson_value_t store[DA_NARGS];
	const char *bad;
	struct enode *n;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(
		    c->err, "%s expects an object as its argument", op->name);
	if ((bad = sp_expr_named_args(arg, names, store, vals)) != NULL)
		return sp_error_set(c->err,
		    "Unrecognized argument to %s: %s. Expected arguments are "
		    "startDate, unit, amount, and optionally timezone.",
		    op->name, bad);
	if (vals[DA_START] == NULL || vals[DA_UNIT] == NULL ||
	    vals[DA_AMOUNT] == NULL)
		return sp_error_set(c->err,
		    "%s requires startDate, unit, and amount to be present",
		    op->name);
	if (build(c, op, op->aux, DA_NARGS, vals, DA_TZ, 0, &n))
		return -1;
	if (!all_const(n) &&
	    (prep_unit(c, n, DA_UNIT, op->name, false) ||
		prep_tz(c, n, NULL, false))) {
		fail_free(n);
		return -1;
	}
	*out = n;
	return 0;
}

static int
op_add(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	const char *name = n->op->name;
	const struct sp_tz *z;
	bson_value_t start, amount;
	int64_t ms, amt, res;
	int unit, rc;

	expr_set_null(out);
	if (PREP(n)->always_null)
		return 0;
	if (arg(n, cx, DA_START, &start))
		return -1;
	if (expr_nullish(&start))
		return 0;
	if ((rc = eval_unit(n, cx, DA_UNIT, name, &unit)) != 0)
		return rc < 0 ? -1 : 0;
	if (arg(n, cx, DA_AMOUNT, &amount))
		return -1;
	if (expr_nullish(&amount))
		return 0;
	if ((rc = eval_tz(n, cx, NULL, &z)) != 0)
		return rc < 0 ? -1 : 0;
	if (!date_like(&start))
		return sp_error_set(cx->err,
		    "%s requires startDate to be convertible to a date", name);
	if (!integral64(&amount, &amt))
		return sp_error_set(
		    cx->err, "%s expects integer amount of time units", name);
	ms = date_ms(&start);
	if (n->aux == K_SUBTRACT) {
		if (amt == INT64_MIN)
			return sp_error_set(cx->err,
			    "invalid $dateSubtract 'amount' parameter value: "
			    "%lld",
			    (long long)amt);
		amt = -amt;
	}
	if (date_add(ms, unit, amt, z, cx->err, &res))
		return -1;
	expr_set_date(out, res);
	return 0;
}

/* ------------------------------------------------------- $dateDiff */

enum { DD_START, DD_END, DD_UNIT, DD_TZ, DD_SOW, DD_NARGS };

static const char dd_tz_ctx[] =
    "$dateDiff parameter 'timezone' value parsing failed";

static int
compile_diff(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	static const char *const names[] = {
	    "startDate", "endDate", "unit", "timezone", "startOfWeek", NULL};
	const bson_value_t *vals[DD_NARGS] = {NULL, NULL, NULL, NULL, NULL};
	bson_value_t store[DD_NARGS];
	const char *bad;
	struct enode *n;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(c->err,
		    "$dateDiff only supports an object as its argument");
	if ((bad = sp_expr_named_args(arg, names, store, vals)) != NULL)
		return sp_error_set(
		    c->err, "Unrecognized argument to $dateDiff: %s", bad);
	if (vals[DD_START] == NULL)
		return sp_error_set(
		    c->err, "Missing 'startDate' parameter to $dateDiff");
	if (vals[DD_END] == NULL)
		return sp_error_set(
		    c->err, "Missing 'endDate' parameter to $dateDiff");
	if (vals[DD_UNIT] == NULL)
		return sp_error_set(
		    c->err, "Missing 'unit' parameter to $dateDiff");
	if (build(c, op, 0, DD_NARGS, vals, DD_TZ, 0, &n))
		return -1;
	/* ExpressionDateDiff::optimize parses a constant startOfWeek
	 * whatever the unit, so a constant null one makes the result null
	 * even for days. */
	if (!all_const(n) &&
	    (prep_unit(c, n, DD_UNIT, "$dateDiff", true) ||
		prep_sow(c, n, DD_SOW, "$dateDiff", true) ||
		prep_tz(c, n, dd_tz_ctx, true))) {
		fail_free(n);
		return -1;
	}
	*out = n;
	return 0;
}

/* dateDiff: whole unit boundaries crossed between the local times. */
static int
date_diff(int64_t a, int64_t b, int unit, const struct sp_tz *z, int sow,
    struct sp_error *err, int64_t *out)
{
	struct parts s, e;
	int64_t hours, minutes;

	if (unit == U_MILLISECOND) {
		if (__builtin_sub_overflow(b, a, out))
			return sp_error_set(err, "dateDiff overflowed");
		return 0;
	}
	parts_of(z, a, &s);
	parts_of(z, b, &e);
	/* The offset correction of timelib's z fields, truncated toward
	 * zero as C++ divides. */
	hours = e.h - s.h + diff_days(&s, &e) * 24;
	minutes = e.mi - s.mi + hours * 60;
	switch (unit) {
	case U_YEAR: *out = e.y - s.y; break;
	case U_QUARTER:
		*out = (e.m - 1) / 3 - (s.m - 1) / 3 + (e.y - s.y) * 4;
		break;
	case U_MONTH: *out = e.m - s.m + (e.y - s.y) * 12; break;
	case U_WEEK: *out = diff_weeks(s.days, e.days, sow); break;
	case U_DAY: *out = diff_days(&s, &e); break;
	case U_HOUR: *out = hours + (s.off - e.off) / 3600; break;
	case U_MINUTE: *out = minutes + (s.off - e.off) / 60; break;
	default: *out = e.s - s.s + minutes * 60 + (s.off - e.off); break;
	}
	return 0;
}

static int
op_diff(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	const struct sp_tz *z;
	bson_value_t start, end;
	int64_t res;
	int unit, sow = 7, rc;

	expr_set_null(out);
	if (PREP(n)->always_null)
		return 0;
	if (arg(n, cx, DD_START, &start))
		return -1;
	if (expr_nullish(&start))
		return 0;
	if (arg(n, cx, DD_END, &end))
		return -1;
	if (expr_nullish(&end))
		return 0;
	if ((rc = eval_unit(n, cx, DD_UNIT, "$dateDiff", &unit)) != 0)
		return rc < 0 ? -1 : 0;
	if (unit == U_WEEK &&
	    (rc = eval_sow(n, cx, DD_SOW, "$dateDiff", &sow)) != 0)
		return rc < 0 ? -1 : 0;
	if ((rc = eval_tz(n, cx, dd_tz_ctx, &z)) != 0)
		return rc < 0 ? -1 : 0;
	if (!date_like(&start))
		return sp_error_set(cx->err,
		    "$dateDiff requires 'startDate' to be a date, but got %s",
		    sp_expr_type_name(start.value_type));
	if (!date_like(&end))
		return sp_error_set(cx->err,
		    "$dateDiff requires 'endDate' to be a date, but got %s",
		    sp_expr_type_name(end.value_type));
	if (date_diff(
		date_ms(&start), date_ms(&end), unit, z, sow, cx->err, &res))
		return -1;
	expr_set_int64(out, res);
	return 0;
}

/* ------------------------------------------------------ $dateTrunc */

enum { DT_DATE, DT_UNIT, DT_BIN, DT_TZ, DT_SOW, DT_NARGS };

static const char dt_tz_ctx[] =
    "$dateTrunc parameter 'timezone' value parsing failed";

/* convertDateTruncBinSizeValue. */
static int
parse_bin(const bson_value_t *v, struct sp_error *err, int64_t *bin)
{
	char text[128];

	if (!integral64(v, bin)) {
		value_text(v, text, sizeof(text));
		return sp_error_set(err,
		    "$dateTrunc requires 'binSize' to be a 64-bit integer, but "
		    "got value '%s' of type %s",
		    text, sp_expr_type_name(v->value_type));
	}
	if (*bin <= 0)
		return sp_error_set(err,
		    "$dateTrunc requires 'binSize' to be greater than 0, but "
		    "got value %lld",
		    (long long)*bin);
	return 0;
}

static int
compile_trunc(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	static const char *const names[] = {
	    "date", "unit", "binSize", "timezone", "startOfWeek", NULL};
	const bson_value_t *vals[DT_NARGS] = {NULL, NULL, NULL, NULL, NULL};
	bson_value_t store[DT_NARGS];
	const bson_value_t *v;
	const char *bad;
	struct enode *n;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(c->err,
		    "$dateTrunc only supports an object as its argument");
	if ((bad = sp_expr_named_args(arg, names, store, vals)) != NULL)
		return sp_error_set(c->err,
		    "Unrecognized argument to $dateTrunc: %s. Expected "
		    "arguments are date, unit, and optionally, binSize, "
		    "timezone, startOfWeek",
		    bad);
	if (vals[DT_DATE] == NULL)
		return sp_error_set(
		    c->err, "Missing 'date' parameter to $dateTrunc");
	if (vals[DT_UNIT] == NULL)
		return sp_error_set(
		    c->err, "Missing 'unit' parameter to $dateTrunc");
	if (build(c, op, 0, DT_NARGS, vals, DT_TZ, 0, &n))
		return -1;
	if (!all_const(n)) {
		struct prep *p = prep_of(n);

		if ((v = const_arg(n, DT_BIN)) != NULL) {
			if (expr_nullish(v))
				p->always_null = true;
			else if (parse_bin(v, c->err, &p->bin))
				goto fail;
		}
		if (prep_unit(c, n, DT_UNIT, "$dateTrunc", false) ||
		    prep_sow(c, n, DT_SOW, "$dateTrunc", false) ||
		    prep_tz(c, n, dt_tz_ctx, false))
			goto fail;
	}
	*out = n;
	return 0;
fail:
	fail_free(n);
	return -1;
}

/* truncateDateMillis. */
static int
trunc_millis(
    int64_t ms, int64_t ref, int64_t bin, struct sp_error *err, int64_t *out)
{
	int64_t shifted;

	if (__builtin_sub_overflow(ms, ref, &shifted) ||
	    __builtin_sub_overflow(ms, floormod(shifted, bin), out))
		return sp_error_set(err, "dateTrunc overflowed");
	return 0;
}

/*
 * truncateDate: bins counted from a reference point, 2000-01-01T00:00 in
 * the zone (for weeks, the first startOfWeek day on or after it).
 */
static int
date_trunc(int64_t ms, int unit, int64_t bin, const struct sp_tz *z, int sow,
    struct sp_error *err, int64_t *out)
{
	static const int64_t unit_ms[] = {
	    0, 0, 0, 0, 0, 3600000, 60000, 1000, 1};
	const int64_t ref_utc = 946684800000LL; /* 2000-01-01T00:00:00Z */
	int64_t ref, bin_ms, dist, lower, ref_days;
	struct parts p;
	int day = 1;

	ref = ref_utc - (int64_t)utc_offset(z, ref_utc) * 1000;
	if (unit == U_WEEK) {
		/* 2000-01-01 was a Saturday (6). */
		int adjust = (7 - (6 - sow + 7) % 7) % 7;

		ref += (int64_t)adjust * 86400000;
		day += adjust;
	}
	if (unit >= U_HOUR) {
		if (__builtin_mul_overflow(bin, unit_ms[unit], &bin_ms))
			return sp_error_set(err, "dateTrunc overflowed");
		return trunc_millis(ms, ref, bin_ms, err, out);
	}
	if (bin > 100000000000LL)
		return sp_error_set(err, "dateTrunc unsupported binSize value");
	parts_of(z, ms, &p);
	ref_days = sp_tz_days_from_civil(2000, 1, day);
	switch (unit) {
	case U_DAY: dist = p.days - ref_days; break;
	case U_WEEK: dist = diff_weeks(ref_days, p.days, sow); break;
	case U_MONTH: dist = (p.y - 2000) * 12 + p.m - 1; break;
	case U_QUARTER: dist = (p.y - 2000) * 4 + (p.m - 1) / 3; break;
	default: dist = p.y - 2000; break;
	}
	if (__builtin_sub_overflow(dist, floormod(dist, bin), &lower))
		return sp_error_set(err, "dateTrunc overflowed");
	return date_add(ref, unit, lower, z, err, out);
}

static int
op_trunc(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	const struct prep *p = PREP(n);
	const struct sp_tz *z;
	bson_value_t date, v;
	int64_t bin = 1, res;
	int unit, sow = 7, rc;

	expr_set_null(out);
	if (p->always_null)
		return 0;
	if (arg(n, cx, DT_DATE, &date))
		return -1;
	if (expr_nullish(&date))
		return 0;
	if (p->bin != 0) {
		bin = p->bin;
	} else if (given(n, DT_BIN)) {
		if (expr_eval(n->args[DT_BIN], cx, &v))
			return -1;
		if (expr_nullish(&v))
			return 0;
		if (parse_bin(&v, cx->err, &bin))
			return -1;
	}
	if ((rc = eval_unit(n, cx, DT_UNIT, "$dateTrunc", &unit)) != 0)
		return rc < 0 ? -1 : 0;
	if (unit == U_WEEK &&
	    (rc = eval_sow(n, cx, DT_SOW, "$dateTrunc", &sow)) != 0)
		return rc < 0 ? -1 : 0;
	if ((rc = eval_tz(n, cx, dt_tz_ctx, &z)) != 0)
		return rc < 0 ? -1 : 0;
	if (!date_like(&date))
		return sp_error_set(cx->err,
		    "$dateTrunc requires 'date' to be a date, but got %s",
		    sp_expr_type_name(date.value_type));
	if (date_trunc(date_ms(&date), unit, bin, z, sow, cx->err, &res))
		return -1;
	expr_set_date(out, res);
	return 0;
}

/* -------------------------------------------------- $dateFromParts */

enum {
	FP_YEAR,
	FP_MONTH,
	FP_DAY,
	FP_HOUR,
	FP_MINUTE,
	FP_SECOND,
	FP_MS,
	FP_ISO_YEAR,
	FP_ISO_WEEK,
	FP_ISO_DAY,
	FP_TZ,
	FP_NARGS
};

static const char *const fp_names[] = {"year", "month", "day", "hour", "minute",
    "second", "millisecond", "isoWeekYear", "isoWeek", "isoDayOfWeek",
    "timezone", NULL};

static int
compile_from_parts(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	const bson_value_t *vals[FP_NARGS];
	bson_value_t store[FP_NARGS];
	const char *bad;
	struct enode *n;

	*out = NULL;
	memset(vals, 0, sizeof(vals));
	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(c->err,
		    "$dateFromParts only supports an object as its argument");
	if ((bad = sp_expr_named_args(arg, fp_names, store, vals)) != NULL)
		return sp_error_set(
		    c->err, "Unrecognized argument to $dateFromParts: %s", bad);
	if (vals[FP_YEAR] == NULL && vals[FP_ISO_YEAR] == NULL)
		return sp_error_set(c->err,
		    "$dateFromParts requires either 'year' or 'isoWeekYear' to "
		    "be present");
	if (vals[FP_YEAR] != NULL &&
	    (vals[FP_ISO_YEAR] != NULL || vals[FP_ISO_WEEK] != NULL ||
		vals[FP_ISO_DAY] != NULL))
		return sp_error_set(c->err,
		    "$dateFromParts does not allow mixing natural dates with "
		    "ISO dates");
	if (vals[FP_ISO_YEAR] != NULL &&
	    (vals[FP_YEAR] != NULL || vals[FP_MONTH] != NULL ||
		vals[FP_DAY] != NULL))
		return sp_error_set(c->err,
		    "$dateFromParts does not allow mixing ISO dates with "
		    "natural dates");
	if (build(c, op, 0, FP_NARGS, vals, FP_TZ, 0, &n))
		return -1;
	if (!all_const(n) && prep_tz(c, n, NULL, true)) {
		fail_free(n);
		return -1;
	}
	*out = n;
	return 0;
}

/* evaluateNumberWithDefault[AndBounds]: 0 with *out, 1 when nullish. */
static int
part_number(const struct enode *n, struct ectx *cx, int i, int64_t def,
    bool bounded, int64_t *out)
{
	bson_value_t v;
	char text[128];

	*out = def;
	if (!given(n, i))
		return 0;
	if (expr_eval(n->args[i], cx, &v))
		return -1;
	if (expr_nullish(&v))
		return 1;
	if (!integral64(&v, out)) {
		value_text(&v, text, sizeof(text));
		return sp_error_set(cx->err,
		    "'%s' must evaluate to an integer, found %s with value %s",
		    fp_names[i], sp_expr_type_name(v.value_type), text);
	}
	if (bounded && (*out < INT16_MIN || *out > INT16_MAX))
		return sp_error_set(cx->err,
		    "'%s' must evaluate to a value in the range [-32768, "
		    "32767]; value %lld is not in range",
		    fp_names[i], (long long)*out);
	return 0;
}

static int
op_from_parts(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	static const struct {
		int arg;
		int64_t def;
		bool bounded;
	} time_parts[4] = {{FP_HOUR, 0, true}, {FP_MINUTE, 0, true},
	    {FP_SECOND, 0, false}, {FP_MS, 0, false}};
	const struct sp_tz *z;
	int64_t t[4], d[3], days, secs, ms;
	__int128 local;
	int i, rc, first;

	expr_set_null(out);
	if (PREP(n)->always_null)
		return 0;
	for (i = 0; i < 4; i++)
		if ((rc = part_number(n, cx, time_parts[i].arg,
			 time_parts[i].def, time_parts[i].bounded, &t[i])) != 0)
			return rc < 0 ? -1 : 0;
	if ((rc = eval_tz(n, cx, NULL, &z)) != 0)
		return rc < 0 ? -1 : 0;
	first = given(n, FP_YEAR) ? FP_YEAR : FP_ISO_YEAR;
	for (i = 0; i < 3; i++)
		if ((rc = part_number(n, cx, first + i, i == 0 ? 1970 : 1,
			 i > 0, &d[i])) != 0)
			return rc < 0 ? -1 : 0;
	if (d[0] < 1 || d[0] > 9999)
		return sp_error_set(cx->err,
		    "'%s' must evaluate to an integer in the range 1 to 9999, "
		    "found %lld",
		    fp_names[first], (long long)d[0]);
	if (first == FP_YEAR) {
		/* Out-of-range months and days carry over, as timelib's
		 * normalisation does: month 14 is February of next year, day
		 * 0 the last day of the month before. */
		int64_t y = d[0] + floordiv(d[1] - 1, 12);
		int m = (int)floormod(d[1] - 1, 12) + 1;

		days = sp_tz_days_from_civil(y, m, 1) + d[2] - 1;
	} else {
		/* timelib_date_from_isodate: week 1 holds 4 January. */
		int64_t jan1 = sp_tz_days_from_civil(d[0], 1, 1);
		int dow = sp_tz_weekday(jan1);

		days = jan1 - (dow > 4 ? dow - 7 : dow) + (d[1] - 1) * 7 + d[2];
	}
	local = (__int128)days * 86400 + (__int128)t[0] * 3600 +
	    (__int128)t[1] * 60 + t[2] + floordiv(t[3], 1000);
	if (local > (__int128)INT64_MAX / 2 || local < (__int128)INT64_MIN / 2)
		goto overflow;
	secs = sp_tz_from_local(z, (int64_t)local);
	if (__builtin_mul_overflow(secs, 1000, &ms) ||
	    __builtin_add_overflow(ms, floormod(t[3], 1000), &ms))
		goto overflow;
	expr_set_date(out, ms);
	return 0;
overflow:
	/* Seconds to milliseconds is where MongoDB notices. */
	return sp_error_set(cx->err,
	    "Overflow casting from a lower-precision duration to a "
	    "higher-precision duration");
}

/* ------------------------------------------------ parsing date strings */

/*
 * $dateFromString is timelib: timelib_parse_from_format_with_map when a
 * format is given, else timelib_strtotime, whose grammar is a re2c scanner
 * (parse_date.re). The format parser is ported as it is. The free-form
 * grammar is ported rule by rule: each rule's regular expression runs as a
 * PCRE2 DFA match, which, like re2c, yields the longest match; the longest
 * rule wins and ties go to the rule listed first, as in re2c. Its actions
 * are timelib's. Not ported: "first monday of" and the "weekday" business
 * day units, which MongoDB users have little reason to send and which come
 * out as parse errors here.
 */

#define UNSET INT64_MIN

enum { ZT_NONE, ZT_OFFSET, ZT_ABBR };

struct ptime {
	int64_t y, m, d, h, i, s, us;
	int have_time, have_date, have_zone;
	bool have_relative, have_weekday, first_day, last_day;
	int zone_type;
	int64_t z;
	int dst;
	char abbr[8];
	int64_t rel_y, rel_m, rel_d, rel_h, rel_i, rel_s, rel_us;
	int weekday, weekday_behavior;
};

/* timelib's error container, as MongoDB prints it. */
#define MAX_PERR 16
struct perr {
	int n, nwarn;
	struct {
		int pos;
		char ch;
		bool tzid; /* TIMELIB_ERR_TZID_NOT_FOUND */
		const char *msg;
	} e[MAX_PERR], w[MAX_PERR];
};

static void
add_err(struct perr *pe, bool warn, int pos, char ch, const char *msg)
{
	int *n = warn ? &pe->nwarn : &pe->n;

	if (*n < MAX_PERR) {
		(warn ? pe->w : pe->e)[*n].pos = pos;
		(warn ? pe->w : pe->e)[*n].ch = ch;
		(warn ? pe->w : pe->e)[*n].msg = msg;
		(warn ? pe->w : pe->e)[*n].tzid = false;
	}
	(*n)++;
}

static const char tz_not_found_msg[] =
    "The timezone could not be found in the database";

/* TimeZoneDatabase::fromString's message. */
static int
perr_report(const struct perr *pe, const bson_value_t *s, struct sp_error *err)
{
	struct sp_buf b;
	int i, k;

	sp_buf_init(&b);
	sp_buf_printf(&b, "Error parsing date string '%.*s'",
	    (int)(s->value.v_utf8.len > 200 ? 200 : s->value.v_utf8.len),
	    s->value.v_utf8.str);
	for (k = 0; k < 2; k++) {
		int n = k == 0 ? pe->n : pe->nwarn;

		for (i = 0; i < n && i < MAX_PERR; i++) {
			const char *msg = k == 0 ? pe->e[i].msg : pe->w[i].msg;
			char ch = k == 0 ? pe->e[i].ch : pe->w[i].ch;

			/* MongoDB never offers its time zone database to
			 * the parser, and says so. */
			if (msg == tz_not_found_msg)
				msg = "passing a time zone identifier as part "
				      "of the string is not allowed";
			sp_buf_printf(&b, "; %d: %s '",
			    k == 0 ? pe->e[i].pos : pe->w[i].pos, msg);
			/* A NUL would end the message here; MongoDB's has the
			 * byte itself. */
			if (ch != '\0')
				sp_buf_putc(&b, ch);
			sp_buf_putc(&b, '\'');
		}
	}
	sp_error_set(err, "%s", sp_buf_cstr(&b));
	sp_buf_release(&b);
	return -1;
}

/* --------------------------------------------- timelib's little helpers */

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int64_t
get_nr_ex(const char **ptr, int max, int *scanned)
{
	const char *begin;
	int64_t v = 0;
	int len = 0;

	while (!is_digit(**ptr)) {
		if (**ptr == '\0')
			return UNSET;
		++*ptr;
	}
	begin = *ptr;
	while (is_digit(**ptr) && len < max) {
		v = v * 10 + (**ptr - '0');
		++*ptr;
		++len;
	}
	if (scanned != NULL)
		*scanned = (int)(*ptr - begin);
	return v;
}

static int64_t
get_nr(const char **ptr, int max)
{
	return get_nr_ex(ptr, max, NULL);
}

/* timelib_get_signed_nr: signs, then up to max digits. */
static int64_t
get_signed_nr(const char **ptr, int max, bool *ok)
{
	int64_t v = 0;
	int sign = 1, len = 0;

	*ok = true;
	while (!is_digit(**ptr) && **ptr != '+' && **ptr != '-') {
		if (**ptr == '\0') {
			*ok = false;
			return 0;
		}
		++*ptr;
	}
	while (**ptr == '+' || **ptr == '-') {
		if (**ptr == '-')
			sign = -sign;
		++*ptr;
	}
	while (!is_digit(**ptr)) {
		if (**ptr == '\0') {
			*ok = false;
			return 0;
		}
		++*ptr;
	}
	while (is_digit(**ptr) && len < max) {
		if (v > (INT64_MAX - 9) / 10) {
			*ok = false;
			return 0;
		}
		v = v * 10 + (**ptr - '0');
		++*ptr;
		++len;
	}
	return sign * v;
}

/* TIMELIB_PROCESS_YEAR: two-digit years. */
static void
process_year(int64_t *y, int len)
{
	if (*y == UNSET || len >= 4)
		return;
	if (*y < 100)
		*y += *y < 70 ? 2000 : 1900;
}

static void
skip_day_suffix(const char **ptr)
{
	if (**ptr == ' ' || **ptr == '\t' || **ptr == '\n' || **ptr == '\r' ||
	    **ptr == '\v' || **ptr == '\f')
		return;
	if (strncasecmp(*ptr, "nd", 2) == 0 ||
	    strncasecmp(*ptr, "rd", 2) == 0 ||
	    strncasecmp(*ptr, "st", 2) == 0 || strncasecmp(*ptr, "th", 2) == 0)
		*ptr += 2;
}

/* timelib_get_frac_nr: microseconds from ".ddd". */
static int64_t
get_frac_nr(const char **ptr)
{
	const char *begin, *end;
	char buf[64];
	size_t n;

	while (**ptr != '.' && **ptr != ':' && !is_digit(**ptr)) {
		if (**ptr == '\0')
			return UNSET;
		++*ptr;
	}
	begin = *ptr;
	while (**ptr == '.' || **ptr == ':' || is_digit(**ptr))
		++*ptr;
	end = *ptr;
	n = (size_t)(end - begin - 1);
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, begin + 1, n);
	buf[n] = '\0';
	return (
	    int64_t)(strtod(buf, NULL) * pow(10, 7 - (double)(end - begin)));
}

static const struct {
	const char *name;
	int value;
} month_table[] = {{"jan", 1}, {"feb", 2}, {"mar", 3}, {"apr", 4}, {"may", 5},
    {"jun", 6}, {"jul", 7}, {"aug", 8}, {"sep", 9}, {"sept", 9}, {"oct", 10},
    {"nov", 11}, {"dec", 12}, {"i", 1}, {"ii", 2}, {"iii", 3}, {"iv", 4},
    {"v", 5}, {"vi", 6}, {"vii", 7}, {"viii", 8}, {"ix", 9}, {"x", 10},
    {"xi", 11}, {"xii", 12}, {"january", 1}, {"february", 2}, {"march", 3},
    {"april", 4}, {"june", 6}, {"july", 7}, {"august", 8}, {"september", 9},
    {"october", 10}, {"november", 11}, {"december", 12}};

static int64_t
lookup_month(const char **ptr)
{
	const char *begin = *ptr;
	size_t len, i;

	while (is_alpha(**ptr))
		++*ptr;
	len = (size_t)(*ptr - begin);
	for (i = 0; i < sizeof(month_table) / sizeof(month_table[0]); i++)
		if (strlen(month_table[i].name) == len &&
		    strncasecmp(month_table[i].name, begin, len) == 0)
			return month_table[i].value;
	return 0;
}

static int64_t
get_month(const char **ptr)
{
	while (**ptr == ' ' || **ptr == '\t' || **ptr == '-' || **ptr == '.' ||
	    **ptr == '/')
		++*ptr;
	return lookup_month(ptr);
}

static void
eat_spaces(const char **ptr)
{
	for (;;) {
		if (**ptr == ' ' || **ptr == '\t')
			++*ptr;
		else if (memcmp(*ptr, "\xe2\x80\xaf", 3) == 0)
			*ptr += 3;
		else if (memcmp(*ptr, "\xc2\xa0", 2) == 0)
			*ptr += 2;
		else
			break;
	}
}

/* timelib_meridian: the hours to add for am/pm. */
static int64_t
meridian(const char **ptr, int64_t h)
{
	int64_t r = 0;

	while (**ptr != '\0' && strchr("AaPp", **ptr) == NULL)
		++*ptr;
	if (**ptr == 'a' || **ptr == 'A') {
		if (h == 12)
			r = -12;
	} else if (h != 12) {
		r = 12;
	}
	if (**ptr != '\0')
		++*ptr;
	if (**ptr == '.')
		++*ptr;
	if (**ptr == 'M' || **ptr == 'm')
		++*ptr;
	if (**ptr == '.')
		++*ptr;
	return r;
}

/*
 * Time zone abbreviations: the first entry for each name in timelib's
 * timezonemap.h (its total offset) for the names in common use, and the
 * military letters. timelib has some 1,500 more, mostly historical; a name
 * not listed here is reported as not found.
 */
static const struct {
	const char *name;
	int32_t off;
	int dst;
} abbrs[] = {{"a", 3600, 0}, {"acdt", 37800, 1}, {"acst", -14400, 1},
    {"adt", -10800, 1}, {"aedt", 39600, 1}, {"aest", 36000, 0},
    {"akdt", -28800, 1}, {"akst", -32400, 0}, {"ast", 10800, 0},
    {"awst", 28800, 0}, {"b", 7200, 0}, {"bst", 3600, 1}, {"c", 10800, 0},
    {"cat", -36000, 0}, {"cdt", -18000, 1}, {"cest", 7200, 1}, {"cet", 3600, 0},
    {"cst", -21600, 0}, {"d", 14400, 0}, {"e", 18000, 0}, {"eat", 10800, 0},
    {"edt", -14400, 1}, {"eest", 10800, 1}, {"eet", 7200, 0},
    {"est", -18000, 0}, {"f", 21600, 0}, {"g", 25200, 0}, {"gmt", 0, 0},
    {"h", 28800, 0}, {"hdt", -32400, 1}, {"hst", -36000, 0}, {"i", 32400, 0},
    {"jst", 32400, 0}, {"k", 36000, 0}, {"l", 39600, 0}, {"m", 43200, 0},
    {"mdt", -21600, 1}, {"msk", 10800, 0}, {"mst", -25200, 0}, {"n", -3600, 0},
    {"nzdt", 46800, 1}, {"nzst", 43200, 0}, {"o", -7200, 0}, {"p", -10800, 0},
    {"pdt", -25200, 1}, {"pst", -28800, 0}, {"q", -14400, 0}, {"r", -18000, 0},
    {"s", -21600, 0}, {"sast", 7200, 0}, {"t", -25200, 0}, {"u", -28800, 0},
    {"utc", 0, 0}, {"v", -32400, 0}, {"w", -36000, 0}, {"wat", 3600, 0},
    {"west", 3600, 1}, {"wet", 0, 0}, {"x", -39600, 0}, {"y", -43200, 0},
    {"z", 0, 0}};

/* timelib_parse_tz_cor: [h]h[[:]mm[[:]ss]] after the sign. */
static int64_t
parse_tz_cor(const char **ptr, bool *not_found)
{
	const char *begin = *ptr;
	size_t len;

	*not_found = true;
	while (is_digit(**ptr) || **ptr == ':')
		++*ptr;
	len = (size_t)(*ptr - begin);
	switch (len) {
	case 1:
	case 2: *not_found = false; return strtol(begin, NULL, 10) * 3600;
	case 3:
	case 4:
		*not_found = false;
		if (begin[1] == ':')
			return strtol(begin, NULL, 10) * 3600 +
			    strtol(begin + 2, NULL, 10) * 60;
		if (begin[2] == ':')
			return strtol(begin, NULL, 10) * 3600 +
			    strtol(begin + 3, NULL, 10) * 60;
		{
			long v = strtol(begin, NULL, 10);

			return v / 100 * 3600 + v % 100 * 60;
		}
	case 5:
		if (begin[2] != ':')
			break;
		*not_found = false;
		return strtol(begin, NULL, 10) * 3600 +
		    strtol(begin + 3, NULL, 10) * 60;
	case 6: {
		long v = strtol(begin, NULL, 10);

		*not_found = false;
		return v / 10000 * 3600 + v / 100 % 100 * 60 + v % 100;
	}
	case 8:
		if (begin[2] != ':' || begin[5] != ':')
			break;
		*not_found = false;
		return strtol(begin, NULL, 10) * 3600 +
		    strtol(begin + 3, NULL, 10) * 60 +
		    strtol(begin + 6, NULL, 10);
	}
	return 0;
}

/* timelib_parse_zone: an offset or an abbreviation; false: not found. */
static bool
parse_zone(const char **ptr, struct ptime *t)
{
	const char *begin;
	bool not_found = false;
	size_t len, i;

	while (**ptr == ' ' || **ptr == '\t' || **ptr == '(')
		++*ptr;
	if (strncmp(*ptr, "GMT", 3) == 0 &&
	    ((*ptr)[3] == '+' || (*ptr)[3] == '-'))
		*ptr += 3;
	if (**ptr == '+' || **ptr == '-') {
		int sign = **ptr == '-' ? -1 : 1;

		++*ptr;
		t->zone_type = ZT_OFFSET;
		t->dst = 0;
		t->z = sign * parse_tz_cor(ptr, &not_found);
	} else {
		begin = *ptr;
		while (is_alpha(**ptr) || is_digit(**ptr) || **ptr == '/' ||
		    **ptr == '_' || **ptr == '-' || **ptr == '+')
			++*ptr;
		len = (size_t)(*ptr - begin);
		not_found = true;
		t->z = 0;
		/* Abbreviations are shorter than _POSIX_TZNAME_MAX (6). */
		for (i = 0; len < 6 && i < sizeof(abbrs) / sizeof(abbrs[0]);
		     i++)
			if (strlen(abbrs[i].name) == len &&
			    strncasecmp(abbrs[i].name, begin, len) == 0) {
				size_t k;

				t->zone_type = ZT_ABBR;
				t->dst = abbrs[i].dst;
				t->z = abbrs[i].off - abbrs[i].dst * 3600;
				for (k = 0; k < len; k++)
					t->abbr[k] = (char)toupper(
					    (unsigned char)begin[k]);
				t->abbr[len] = '\0';
				not_found = false;
				break;
			}
	}
	while (**ptr == ')')
		++*ptr;
	return !not_found;
}

static void
ptime_init(struct ptime *t)
{
	memset(t, 0, sizeof(*t));
	t->y = t->m = t->d = t->h = t->i = t->s = t->us = UNSET;
}

/* timelib_valid_date / timelib_valid_time. */
static bool
valid_date(int64_t y, int64_t m, int64_t d)
{
	return m >= 1 && m <= 12 && d >= 1 &&
	    d <= sp_tz_days_in_month(y, (int)m);
}

static bool
valid_time(int64_t h, int64_t i, int64_t s)
{
	return h >= 0 && h <= 23 && i >= 0 && i <= 59 && s >= 0 && s <= 59;
}

/* ------------------------------------------------- with a format */

#define CHECK_NUMBER                                                           \
	do {                                                                   \
		if (!is_digit(*ptr))                                           \
			add_err(pe, false, (int)(begin - str), *begin,         \
			    "Unexpected data found.");                         \
	} while (0)

/* timelib_parse_from_format_with_map, with MongoDB's '%' map. */
static void
parse_format(const struct fop *ops, int nops, const char *fmt, const char *str,
    struct ptime *t, struct perr *pe)
{
	const char *ptr = str, *begin;
	int64_t iso_year = UNSET, iso_week = UNSET, iso_day = UNSET, tmp;
	int k = 0, len;
	uint32_t lit = 0;

#define PERR(msg) add_err(pe, false, (int)(begin - str), *begin, msg)
	/* Literal text matches byte for byte; each '%x' is one specifier. */
	while (k < nops && *ptr != '\0') {
		begin = ptr;
		if (ops[k].spec == 0 || ops[k].spec == '%') {
			char want =
			    ops[k].spec == '%' ? '%' : fmt[ops[k].off + lit];

			if (*ptr != want)
				PERR("Format literal not found");
			ptr++;
			if (ops[k].spec == '%' || ++lit == ops[k].len) {
				lit = 0;
				k++;
			}
			continue;
		}
		switch (ops[k].spec) {
		case 'd':
			CHECK_NUMBER;
			if ((t->d = get_nr(&ptr, 2)) == UNSET)
				PERR("A two digit day could not be found");
			else
				t->have_date = 1;
			break;
		case 'j':
			CHECK_NUMBER;
			if (t->y == UNSET)
				PERR("A 'day of year' can only come after a "
				     "year has been found");
			if ((tmp = get_nr(&ptr, 3)) == UNSET) {
				PERR("A three digit day-of-year could not be "
				     "found");
			} else if (t->y != UNSET) {
				/* timelib counts this field from zero. */
				int64_t days =
				    sp_tz_days_from_civil(t->y, 1, 1) + tmp;
				int m, d;

				t->have_date = 1;
				sp_tz_civil_from_days(days, &t->y, &m, &d);
				t->m = m;
				t->d = d;
			}
			break;
		case 'm':
			CHECK_NUMBER;
			if ((t->m = get_nr(&ptr, 2)) == UNSET)
				PERR("A two digit month could not be found");
			else
				t->have_date = 1;
			break;
		case 'b':
		case 'B':
			if ((tmp = lookup_month(&ptr)) == 0) {
				PERR("A textual month could not be found");
			} else {
				t->have_date = 1;
				t->m = tmp;
			}
			break;
		case 'Y':
			CHECK_NUMBER;
			if ((t->y = get_nr(&ptr, 4)) == UNSET)
				PERR("A four digit year could not be found");
			else
				t->have_date = 1;
			break;
		case 'H':
			CHECK_NUMBER;
			if ((t->h = get_nr(&ptr, 2)) == UNSET)
				PERR("A two digit hour could not be found");
			else
				t->have_time = 1;
			break;
		case 'M':
			CHECK_NUMBER;
			tmp = get_nr_ex(&ptr, 2, &len);
			if (tmp == UNSET || len != 2) {
				PERR("A two digit minute could not be found");
			} else {
				t->have_time = 1;
				t->i = tmp;
			}
			break;
		case 'S':
			CHECK_NUMBER;
			tmp = get_nr_ex(&ptr, 2, &len);
			if (tmp == UNSET || len != 2) {
				PERR("A two digit second could not be found");
			} else {
				t->have_time = 1;
				t->s = tmp;
			}
			break;
		case 'L': {
			const char *tptr;

			CHECK_NUMBER;
			tptr = ptr;
			if ((tmp = get_nr(&ptr, 3)) == UNSET ||
			    ptr - tptr < 1) {
				PERR("A three digit millisecond could not be "
				     "found");
				break;
			}
			t->us = (int64_t)((double)tmp *
			    pow(10, 3 - (double)(ptr - tptr)) * 1000);
			break;
		}
		case 'G':
			if ((iso_year = get_nr(&ptr, 4)) == UNSET)
				PERR(
				    "A four digit ISO year could not be found");
			else
				t->have_date = 1;
			break;
		case 'V':
			if ((iso_week = get_nr(&ptr, 2)) == UNSET) {
				PERR("A two digit ISO week could not be found");
			} else if (iso_week < 1 || iso_week > 53) {
				PERR("ISO Week must be between 1 and 53");
			} else {
				t->have_date = 1;
			}
			break;
		case 'u':
			if ((iso_day = get_nr(&ptr, 1)) == UNSET) {
				PERR("A single digit day of week could not be "
				     "found");
			} else if (iso_day < 1 || iso_day > 7) {
				PERR("Day of week must be between 1 and 7");
			} else {
				t->have_date = 1;
			}
			break;
		case 'z':
			if (!parse_zone(&ptr, t)) {
				add_err(pe, false, (int)(begin - str), *begin,
				    tz_not_found_msg);
				break;
			}
			t->have_zone = 1;
			break;
		case 'Z':
			/* timelib_parse_tz_minutes: a sign, then minutes. */
			if (*ptr != '+' && *ptr != '-') {
				PERR("Invalid timezone offset in minutes");
				break;
			}
			tmp = strtol(ptr + 1, NULL, 10) * 60;
			t->z = *ptr == '-' ? -tmp : tmp;
			t->zone_type = ZT_OFFSET;
			t->dst = 0;
			t->have_zone = 1;
			for (ptr++; is_digit(*ptr); ptr++)
				;
			break;
		}
		k++;
	}
#undef PERR
	if (*ptr != '\0')
		add_err(pe, false, (int)(ptr - str), *ptr, "Trailing data");
	if (k < nops)
		add_err(pe, false, (int)(ptr - str), *ptr,
		    "Not enough data available to satisfy format");
	if (t->h != UNSET || t->i != UNSET || t->s != UNSET || t->us != UNSET) {
		if (t->h == UNSET)
			t->h = 0;
		if (t->i == UNSET)
			t->i = 0;
		if (t->s == UNSET)
			t->s = 0;
		if (t->us == UNSET)
			t->us = 0;
	}
	if ((t->y != UNSET &&
		(iso_week != UNSET || iso_year != UNSET || iso_day != UNSET)) ||
	    (iso_year != UNSET &&
		(t->y != UNSET || t->m != UNSET || t->d != UNSET)))
		add_err(pe, false, (int)(ptr - str), *ptr,
		    "Mixing of ISO dates with natural dates is not allowed");
	if (iso_year != UNSET) {
		int64_t jan1, days;
		int dow, m, d;

		if (iso_week == UNSET)
			iso_week = 1;
		if (iso_day == UNSET)
			iso_day = 1;
		jan1 = sp_tz_days_from_civil(iso_year, 1, 1);
		dow = sp_tz_weekday(jan1);
		days = jan1 - (dow > 4 ? dow - 7 : dow) + (iso_week - 1) * 7 +
		    iso_day;
		sp_tz_civil_from_days(days, &t->y, &m, &d);
		t->m = m;
		t->d = d;
	} else if (iso_week != UNSET || iso_day != UNSET) {
		add_err(pe, true, (int)(ptr - str), *ptr,
		    "The parsed date was invalid");
	}
	if (t->h != UNSET && t->i != UNSET && t->s != UNSET &&
	    !valid_time(t->h, t->i, t->s))
		add_err(pe, true, (int)(ptr - str), *ptr,
		    "The parsed time was invalid");
	if (t->y != UNSET && t->m != UNSET && t->d != UNSET &&
	    !valid_date(t->y, t->m, t->d))
		add_err(pe, true, (int)(ptr - str), *ptr,
		    "The parsed date was invalid");
}

/* ------------------------------------------------- without a format */

/* The named patterns of parse_date.re, in PCRE syntax. */
#define SPACE "(?:[ \\t]+|(?:\\xc2\\xa0)+|(?:\\xe2\\x80\\xaf)+)"
#define FRAC "\\.[0-9]+"
#define HOUR24 "(?:[01]?[0-9]|2[0-4])"
#define HOUR24LZ "(?:[01][0-9]|2[0-4])"
#define HOUR12 "(?:0?[1-9]|1[0-2])"
#define MINUTE "[0-5]?[0-9]"
#define MINUTELZ "[0-5][0-9]"
#define SECOND "(?:[0-5]?[0-9]|60)"
#define SECONDLZ "(?:[0-5][0-9]|60)"
#define MERIDIAN "[AaPp]\\.?[Mm]\\.?[\\x00\\t ]"
#define TZ "(?:\\(?[A-Za-z]{1,6}\\)?|[A-Z][a-z]+(?:[_/-][A-Za-z]+)+)"
#define TZCORRECTION                                                           \
	"(?:GMT)?[+-](?:" HOUR24 "(?::?" MINUTE                                \
	")?|" HOUR24LZ MINUTELZ SECONDLZ "|" HOUR24LZ ":" MINUTELZ             \
	":" SECONDLZ ")"
#define DAYSUF "(?:st|nd|rd|th)"
#define MONTH "(?:0?[0-9]|1[0-2])"
#define DAY "(?:(?:[0-2]?[0-9]|3[01])" DAYSUF "?)"
#define YEAR "[0-9]{1,4}"
#define YEAR2 "[0-9]{2}"
#define YEAR4 "[0-9]{4}"
#define DAYOFYEAR "(?:00[1-9]|0[1-9][0-9]|[12][0-9][0-9]|3[0-5][0-9]|36[0-6])"
#define WEEKOFYEAR "(?:0[1-9]|[1-4][0-9]|5[0-3])"
#define MONTHLZ "(?:0[0-9]|1[0-2])"
#define DAYLZ "(?:0[0-9]|[12][0-9]|3[01])"
#define DAYTEXT                                                                \
	"(?i:(?:sun|mon|tues|wednes|thurs|fri|satur)days?|sun|mon|tue|wed|"    \
	"thu|fri|sat|weekdays?)"
#define MONTHFULL                                                              \
	"(?i:january|february|march|april|may|june|july|august|september|"     \
	"october|november|december)"
#define MONTHABBR "(?i:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)"
#define MONTHTEXT                                                              \
	"(?:" MONTHFULL "|" MONTHABBR "|I|II|III|IV|V|VI|VII|VIII|IX|X|XI|"    \
	"XII)"
#define TIMESHORT12 HOUR12 "[:.]" MINUTELZ SPACE "?" MERIDIAN
#define TIMELONG12 HOUR12 "[:.]" MINUTE "[:.]" SECONDLZ SPACE "?" MERIDIAN
#define TIMESHORT24 "[tT]?" HOUR24 "[:.]" MINUTE
#define TIMELONG24 "[tT]?" HOUR24 "[:.]" MINUTE "[:.]" SECOND
#define ISO8601NORMTZ                                                          \
	"[tT]?" HOUR24 "[:.]" MINUTE "[:.]" SECONDLZ SPACE "?(?:" TZCORRECTION \
	"|" TZ ")"
#define DATENOYEAR MONTHTEXT "[ .\\t-]*" DAY "(?:[,.stndrh\\t ]+|\\x00)"
#define RELTEXTNUMBER                                                          \
	"(?i:first|second|third|fourth|fifth|sixth|seventh|eighth?|ninth|"     \
	"tenth|eleventh|twelfth)"
#define RELTEXTTEXT "(?i:next|last|previous|this)"
#define RELTEXTUNIT                                                            \
	"(?:(?i:ms|\\xc2\\xb5s|(?:msec|millisecond|\\xc2\\xb5sec|microsecond|" \
	"usec|sec|second|min|minute|hour|day|fortnight|forthnight|month|"      \
	"year)s?|weeks)|" DAYTEXT ")"

enum {
	R_NOW,
	R_NOON,
	R_MIDNIGHT,
	R_TOMORROW,
	R_YESTERDAY,
	R_TIMESTAMP,
	R_TIMESTAMPMS,
	R_FIRSTLASTDAYOF,
	R_BACKFRONTOF,
	R_TIME12,
	R_MSSQLTIME,
	R_TIME24,
	R_GNUNOCOLON,
	R_ISO8601NOCOLON,
	R_AMERICAN,
	R_ISO8601DATE4,
	R_ISO8601DATE2,
	R_ISO8601DATEX,
	R_GNUDATESHORTER,
	R_GNUDATESHORT,
	R_DATEFULL,
	R_POINTEDDATE4,
	R_POINTEDDATE2,
	R_DATENODAY,
	R_DATENODAYREV,
	R_DATETEXTUAL,
	R_DATENOYEARREV,
	R_DATENOCOLON,
	R_XMLRPC,
	R_PGYDOTD,
	R_ISOWEEKDAY,
	R_ISOWEEK,
	R_PGTEXTSHORT,
	R_PGTEXTREVERSE,
	R_CLF,
	R_YEAR4,
	R_AGO,
	R_DAYTEXT,
	R_RELATIVETEXTWEEK,
	R_RELATIVETEXT,
	R_MONTHTEXT,
	R_TZ,
	R_DATESHORTWITHTIME12,
	R_DATESHORTWITHTIME24,
	R_RELATIVE,
	R_NRULES
};

/* In parse_date.re's order, which breaks ties between equal matches. */
static const char *const rule_src[R_NRULES] = {
    [R_NOW] = "(?i:now)",
    [R_NOON] = "(?i:noon)",
    [R_MIDNIGHT] = "(?i:midnight|today)",
    [R_TOMORROW] = "(?i:tomorrow)",
    [R_YESTERDAY] = "(?i:yesterday)",
    [R_TIMESTAMP] = "@-?[0-9]+",
    [R_TIMESTAMPMS] = "@-?[0-9]+\\.[0-9]{0,6}",
    [R_FIRSTLASTDAYOF] = "(?i:first day of|last day of)",
    [R_BACKFRONTOF] =
	"(?i:back of |front of )" HOUR24 "(?:" SPACE "?" MERIDIAN ")?",
    [R_TIME12] = HOUR12 SPACE "?" MERIDIAN "|" TIMESHORT12 "|" TIMELONG12,
    [R_MSSQLTIME] = HOUR12 ":" MINUTELZ ":" SECONDLZ "[:.][0-9]+" MERIDIAN,
    [R_TIME24] = "[tT]" HOUR24 "|" TIMESHORT24 "|" TIMELONG24 "|[tT]?" HOUR24
		 "[:.]" MINUTE "[:.]" SECOND FRAC,
    [R_GNUNOCOLON] = "[tT]?" HOUR24LZ MINUTELZ,
    [R_ISO8601NOCOLON] = "[tT]?" HOUR24LZ MINUTELZ SECONDLZ,
    [R_AMERICAN] = MONTH "/" DAY "(?:/" YEAR ")?",
    [R_ISO8601DATE4] = "[+-]?" YEAR4 "-" MONTHLZ "-" DAYLZ "|" YEAR4 "/" MONTHLZ
		       "/" DAYLZ "/?|" YEAR4 "/" MONTH "/" DAY,
    [R_ISO8601DATE2] = YEAR2 "-" MONTHLZ "-" DAYLZ,
    [R_ISO8601DATEX] = "[+-][0-9]{5,19}-" MONTHLZ "-" DAYLZ,
    [R_GNUDATESHORTER] = YEAR4 "-" MONTH,
    [R_GNUDATESHORT] = YEAR "-" MONTH "-" DAY,
    [R_DATEFULL] = DAY "[ \\t.-]*" MONTHTEXT "[ \\t.-]*" YEAR,
    [R_POINTEDDATE4] = DAY "[.\\t-]" MONTH "[.-]" YEAR4,
    [R_POINTEDDATE2] = DAY "[.\\t]" MONTH "\\." YEAR2,
    [R_DATENODAY] = MONTHTEXT "[ .\\t-]*" YEAR4,
    [R_DATENODAYREV] = YEAR4 "[ .\\t-]*" MONTHTEXT,
    [R_DATETEXTUAL] =
	MONTHTEXT "[ .\\t-]*" DAY "[,.stndrh\\t ]+" YEAR "|" DATENOYEAR,
    [R_DATENOYEARREV] = DAY "[ .\\t-]*" MONTHTEXT,
    [R_DATENOCOLON] = YEAR4 MONTHLZ DAYLZ,
    [R_XMLRPC] = YEAR4 MONTHLZ DAYLZ
    "T" HOUR24 ":" MINUTELZ ":" SECONDLZ "|" YEAR4 MONTHLZ DAYLZ
    "[tT]" HOUR24 MINUTELZ SECONDLZ "|" YEAR4 "-" MONTHLZ "-" DAYLZ "T" HOUR24LZ
    ":" MINUTELZ ":" SECONDLZ FRAC "(?:" TZCORRECTION ")?|" YEAR4 "-" MONTH
    "-" DAY "T" HOUR24 ":" MINUTE ":" SECOND "|" YEAR4 ":" MONTHLZ ":" DAYLZ
    " " HOUR24LZ ":" MINUTELZ ":" SECONDLZ,
    [R_PGYDOTD] = YEAR4 "[.-]?" DAYOFYEAR,
    [R_ISOWEEKDAY] = YEAR4 "-?W" WEEKOFYEAR "-?[0-7]",
    [R_ISOWEEK] = YEAR4 "-?W" WEEKOFYEAR,
    [R_PGTEXTSHORT] = MONTHABBR "-" DAYLZ "-" YEAR,
    [R_PGTEXTREVERSE] = YEAR "-" MONTHABBR "-" DAYLZ,
    [R_CLF] = DAY "/" MONTHABBR "/" YEAR4 ":" HOUR24LZ ":" MINUTELZ
		  ":" SECONDLZ SPACE TZCORRECTION,
    [R_YEAR4] = YEAR4,
    [R_AGO] = "(?i:ago)",
    [R_DAYTEXT] = DAYTEXT,
    [R_RELATIVETEXTWEEK] = RELTEXTTEXT SPACE "(?i:week)",
    [R_RELATIVETEXT] =
	"(?:" RELTEXTNUMBER "|" RELTEXTTEXT ")" SPACE RELTEXTUNIT,
    [R_MONTHTEXT] = MONTHFULL "|" MONTHABBR,
    [R_TZ] = TZCORRECTION "|" TZ,
    [R_DATESHORTWITHTIME12] = DATENOYEAR "(?:" TIMESHORT12 "|" TIMELONG12 ")",
    [R_DATESHORTWITHTIME24] =
	DATENOYEAR "(?:" TIMESHORT24 "|" TIMELONG24 "|" ISO8601NORMTZ ")",
    [R_RELATIVE] =
	"[+-]*[ \\t]*[0-9]{1,13}" SPACE "?(?:" RELTEXTUNIT "|(?i:week))",
};

static pcre2_code *rules[R_NRULES];
static pcre2_match_data *rule_md;
static int rule_ws[4096];
/* Which rules can begin with each byte: a token needs only a few. */
static uint64_t rule_first[256];

static bool
rules_compile(void)
{
	static int state; /* 0 not yet, 1 ready, -1 failed */
	PCRE2_SIZE eoff;
	int i, ec;

	if (state == 0) {
		state = 1;
		for (i = 0; i < R_NRULES && state > 0; i++) {
			rules[i] = pcre2_compile((PCRE2_SPTR)rule_src[i],
			    PCRE2_ZERO_TERMINATED, PCRE2_ANCHORED, &ec, &eoff,
			    NULL);
			if (rules[i] == NULL)
				state = -1;
		}
		rule_md = pcre2_match_data_create(1, NULL);
		if (rule_md == NULL)
			state = -1;
		/* A partial match of one byte: the rule can start there. */
		for (i = 0; i < R_NRULES && state > 0; i++) {
			int c;

			for (c = 0; c < 256; c++) {
				unsigned char b = (unsigned char)c;
				int rc = pcre2_dfa_match(rules[i], &b, 1, 0,
				    PCRE2_PARTIAL_HARD, rule_md, NULL, rule_ws,
				    sizeof(rule_ws) / sizeof(rule_ws[0]));

				if (rc >= 0 || rc == PCRE2_ERROR_PARTIAL)
					rule_first[c] |= (uint64_t)1 << i;
			}
		}
	}
	return state > 0;
}

/* The longest match of each rule at s; the longest overall wins. */
static int
scan_rule(const char *s, size_t len, size_t *mlen)
{
	int i, best = -1, rc;
	size_t blen = 0;

	for (i = 0; i < R_NRULES; i++) {
		if (!(rule_first[(unsigned char)s[0]] & ((uint64_t)1 << i)))
			continue;
		rc =
		    pcre2_dfa_match(rules[i], (PCRE2_SPTR)s, len, 0, 0, rule_md,
			NULL, rule_ws, sizeof(rule_ws) / sizeof(rule_ws[0]));
		/* 0: more matches than the ovector holds; the longest
		 * is first all the same. */
		if (rc >= 0) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(rule_md);

			if (ov[1] > blen) {
				blen = ov[1];
				best = i;
			}
		}
	}
	*mlen = blen;
	return best;
}

/* The relative units of timelib_relunit_lookup. */
enum { RU_US, RU_S, RU_I, RU_H, RU_D, RU_M, RU_Y, RU_WEEKDAY, RU_SPECIAL };

static const struct {
	const char *name;
	int unit, mult;
} relunits[] = {{"ms", RU_US, 1000}, {"msec", RU_US, 1000},
    {"msecs", RU_US, 1000}, {"millisecond", RU_US, 1000},
    {"milliseconds", RU_US, 1000}, {"\xc2\xb5s", RU_US, 1}, {"usec", RU_US, 1},
    {"usecs", RU_US, 1}, {"\xc2\xb5sec", RU_US, 1}, {"\xc2\xb5secs", RU_US, 1},
    {"microsecond", RU_US, 1}, {"microseconds", RU_US, 1}, {"sec", RU_S, 1},
    {"secs", RU_S, 1}, {"second", RU_S, 1}, {"seconds", RU_S, 1},
    {"min", RU_I, 1}, {"mins", RU_I, 1}, {"minute", RU_I, 1},
    {"minutes", RU_I, 1}, {"hour", RU_H, 1}, {"hours", RU_H, 1},
    {"day", RU_D, 1}, {"days", RU_D, 1}, {"week", RU_D, 7}, {"weeks", RU_D, 7},
    {"fortnight", RU_D, 14}, {"fortnights", RU_D, 14}, {"forthnight", RU_D, 14},
    {"forthnights", RU_D, 14}, {"month", RU_M, 1}, {"months", RU_M, 1},
    {"year", RU_Y, 1}, {"years", RU_Y, 1}, {"mondays", RU_WEEKDAY, 1},
    {"monday", RU_WEEKDAY, 1}, {"mon", RU_WEEKDAY, 1},
    {"tuesdays", RU_WEEKDAY, 2}, {"tuesday", RU_WEEKDAY, 2},
    {"tue", RU_WEEKDAY, 2}, {"wednesdays", RU_WEEKDAY, 3},
    {"wednesday", RU_WEEKDAY, 3}, {"wed", RU_WEEKDAY, 3},
    {"thursdays", RU_WEEKDAY, 4}, {"thursday", RU_WEEKDAY, 4},
    {"thu", RU_WEEKDAY, 4}, {"fridays", RU_WEEKDAY, 5},
    {"friday", RU_WEEKDAY, 5}, {"fri", RU_WEEKDAY, 5},
    {"saturdays", RU_WEEKDAY, 6}, {"saturday", RU_WEEKDAY, 6},
    {"sat", RU_WEEKDAY, 6}, {"sundays", RU_WEEKDAY, 0},
    {"sunday", RU_WEEKDAY, 0}, {"sun", RU_WEEKDAY, 0},
    {"weekday", RU_SPECIAL, 0}, {"weekdays", RU_SPECIAL, 0}};

/* timelib_lookup_relunit: the word up to a separator. */
static int
lookup_relunit(const char **ptr)
{
	const char *begin = *ptr;
	size_t len, i;

	while (**ptr != '\0' && strchr(" ,\t;:/.-()", **ptr) == NULL)
		++*ptr;
	len = (size_t)(*ptr - begin);
	for (i = 0; i < sizeof(relunits) / sizeof(relunits[0]); i++)
		if (strlen(relunits[i].name) == len &&
		    strncasecmp(relunits[i].name, begin, len) == 0)
			return (int)i;
	return -1;
}

/* The scanner's state: the time so far and where the token began. */
struct scan {
	struct ptime *t;
	struct perr *pe;
	int tok; /* offset of the token being handled */
	char tokch;
};

static void
scan_err(struct scan *sc, const char *msg)
{
	add_err(sc->pe, false, sc->tok, sc->tokch, msg);
}

static void
unhave_time(struct ptime *t)
{
	t->have_time = 0;
	t->h = t->i = t->s = t->us = 0;
}

/* TIMELIB_HAVE_TIME: false (an error) for a second time. */
static bool
have_time(struct scan *sc)
{
	if (sc->t->have_time) {
		scan_err(sc, "Double time specification");
		return false;
	}
	sc->t->have_time = 1;
	sc->t->h = sc->t->i = sc->t->s = sc->t->us = 0;
	return true;
}

static bool
have_date(struct scan *sc)
{
	if (sc->t->have_date) {
		scan_err(sc, "Double date specification");
		return false;
	}
	sc->t->have_date = 1;
	return true;
}

static bool
have_tz(struct scan *sc)
{
	if (sc->t->have_zone) {
		add_err(sc->pe, sc->t->have_zone == 1, sc->tok, sc->tokch,
		    "Double timezone specification");
		sc->t->have_zone++;
		return false;
	}
	sc->t->have_zone++;
	return true;
}

/* timelib_set_relative; keep: the time part survives a weekday. */
static void
set_relative(
    struct scan *sc, const char **ptr, int64_t amount, int behavior, bool keep)
{
	struct ptime *t = sc->t;
	int64_t v;
	int i;

	if ((i = lookup_relunit(ptr)) < 0)
		return;
	if (relunits[i].unit == RU_SPECIAL) {
		scan_err(sc, "Unexpected character");
		return;
	}
	if (relunits[i].unit == RU_WEEKDAY) {
		t->have_relative = t->have_weekday = true;
		if (!keep)
			unhave_time(t);
		t->rel_d += (amount > 0 ? amount - 1 : amount) * 7;
		t->weekday = relunits[i].mult;
		t->weekday_behavior = behavior;
		return;
	}
	if (__builtin_mul_overflow(amount, relunits[i].mult, &v)) {
		scan_err(sc, "Number out of range");
		return;
	}
	switch (relunits[i].unit) {
	case RU_US: t->rel_us += v; break;
	case RU_S: t->rel_s += v; break;
	case RU_I: t->rel_i += v; break;
	case RU_H: t->rel_h += v; break;
	case RU_D: t->rel_d += v; break;
	case RU_M: t->rel_m += v; break;
	default: t->rel_y += v; break;
	}
}

/* timelib_lookup_relative_text: first ... twelfth, next, last, this. */
static int64_t
relative_text(const char **ptr, int *behavior)
{
	static const struct {
		const char *name;
		int type, value;
	} words[] = {{"first", 0, 1}, {"next", 0, 1}, {"second", 0, 2},
	    {"third", 0, 3}, {"fourth", 0, 4}, {"fifth", 0, 5}, {"sixth", 0, 6},
	    {"seventh", 0, 7}, {"eight", 0, 8}, {"eighth", 0, 8},
	    {"ninth", 0, 9}, {"tenth", 0, 10}, {"eleventh", 0, 11},
	    {"twelfth", 0, 12}, {"last", 0, -1}, {"previous", 0, -1},
	    {"this", 1, 0}};
	const char *begin;
	size_t len, i;
	int64_t v = 0;

	while (**ptr == ' ' || **ptr == '\t' || **ptr == '-' || **ptr == '/')
		++*ptr;
	begin = *ptr;
	while (is_alpha(**ptr))
		++*ptr;
	len = (size_t)(*ptr - begin);
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i].name) == len &&
		    strncasecmp(words[i].name, begin, len) == 0) {
			v = words[i].value;
			*behavior = words[i].type;
		}
	return v;
}

/* The actions of parse_date.re's rules; tok is the matched text. */
static void
rule_action(struct scan *sc, int rule, const char *tok)
{
	struct ptime *t = sc->t;
	const char *ptr = tok;
	int len = 0, behavior = 0;
	int64_t v;
	bool ok;

	switch (rule) {
	case R_NOW: break;
	case R_NOON:
		unhave_time(t);
		if (have_time(sc))
			t->h = 12;
		break;
	case R_MIDNIGHT: unhave_time(t); break;
	case R_TOMORROW:
	case R_YESTERDAY:
		t->have_relative = true;
		unhave_time(t);
		t->rel_d = rule == R_TOMORROW ? 1 : -1;
		break;
	case R_TIMESTAMP:
	case R_TIMESTAMPMS: {
		bool neg = tok[1] == '-';

		t->have_relative = true;
		t->have_date = 0;
		t->d = t->m = t->y = 0;
		unhave_time(t);
		if (!have_tz(sc))
			break;
		v = get_signed_nr(&ptr, 24, &ok);
		if (!ok) {
			scan_err(sc, "Found unexpected data");
			break;
		}
		t->y = 1970;
		t->m = t->d = 1;
		t->rel_s += v;
		if (rule == R_TIMESTAMPMS) {
			const char *before = ptr;
			int64_t us = get_signed_nr(&ptr, 6, &ok);

			us = (int64_t)((double)us *
			    pow(10, 7 - (double)(ptr - before)));
			t->rel_us = neg ? -us : us;
		}
		t->zone_type = ZT_OFFSET;
		t->z = 0;
		t->dst = 0;
		break;
	}
	case R_FIRSTLASTDAYOF:
		t->have_relative = true;
		unhave_time(t);
		if (*ptr == 'l' || *ptr == 'L')
			t->last_day = true;
		else
			t->first_day = true;
		break;
	case R_BACKFRONTOF:
		unhave_time(t);
		if (!have_time(sc))
			break;
		if (*ptr == 'b' || *ptr == 'B') {
			t->h = get_nr(&ptr, 2);
			t->i = 15;
		} else {
			t->h = get_nr(&ptr, 2) - 1;
			t->i = 45;
		}
		if (*ptr != '\0') {
			eat_spaces(&ptr);
			t->h += meridian(&ptr, t->h);
		}
		break;
	case R_TIME12:
		if (!have_time(sc))
			break;
		t->h = get_nr(&ptr, 2);
		if (*ptr == ':' || *ptr == '.') {
			t->i = get_nr(&ptr, 2);
			if (*ptr == ':' || *ptr == '.')
				t->s = get_nr(&ptr, 2);
		}
		eat_spaces(&ptr);
		t->h += meridian(&ptr, t->h);
		break;
	case R_MSSQLTIME:
		if (!have_time(sc))
			break;
		t->h = get_nr(&ptr, 2);
		t->i = get_nr(&ptr, 2);
		if (*ptr == ':' || *ptr == '.') {
			t->s = get_nr(&ptr, 2);
			if (*ptr == ':' || *ptr == '.')
				t->us = get_frac_nr(&ptr);
		}
		eat_spaces(&ptr);
		t->h += meridian(&ptr, t->h);
		break;
	case R_TIME24:
		if (!have_time(sc))
			break;
		t->h = get_nr(&ptr, 2);
		if (*ptr == ':' || *ptr == '.') {
			t->i = get_nr(&ptr, 2);
			if (*ptr == ':' || *ptr == '.') {
				t->s = get_nr(&ptr, 2);
				if (*ptr == '.')
					t->us = get_frac_nr(&ptr);
			}
		}
		break;
	case R_GNUNOCOLON:
		/* Four digits: a time, or, after one, the year. */
		if (t->have_time == 0) {
			t->h = get_nr(&ptr, 2);
			t->i = get_nr(&ptr, 2);
			t->s = 0;
		} else if (t->have_time == 1) {
			t->y = get_nr(&ptr, 4);
		} else {
			scan_err(sc, "Double time specification");
			break;
		}
		t->have_time++;
		break;
	case R_ISO8601NOCOLON:
		if (!have_time(sc))
			break;
		t->h = get_nr(&ptr, 2);
		t->i = get_nr(&ptr, 2);
		t->s = get_nr(&ptr, 2);
		break;
	case R_AMERICAN:
		if (!have_date(sc))
			break;
		t->m = get_nr(&ptr, 2);
		t->d = get_nr(&ptr, 2);
		if (*ptr == '/') {
			t->y = get_nr_ex(&ptr, 4, &len);
			process_year(&t->y, len);
		}
		break;
	case R_ISO8601DATE4:
		if (!have_date(sc))
			break;
		t->y = get_signed_nr(&ptr, 4, &ok);
		t->m = get_nr(&ptr, 2);
		t->d = get_nr(&ptr, 2);
		break;
	case R_ISO8601DATE2:
	case R_GNUDATESHORT:
		if (!have_date(sc))
			break;
		t->y = get_nr_ex(&ptr, 4, &len);
		t->m = get_nr(&ptr, 2);
		t->d = get_nr(&ptr, 2);
		process_year(&t->y, len);
		break;
	case R_ISO8601DATEX:
		if (!have_date(sc))
			break;
		t->y = get_signed_nr(&ptr, 19, &ok);
		t->m = get_nr(&ptr, 2);
		t->d = get_nr(&ptr, 2);
		break;
	case R_GNUDATESHORTER:
		if (!have_date(sc))
			break;
		t->y = get_nr_ex(&ptr, 4, &len);
		t->m = get_nr(&ptr, 2);
		t->d = 1;
		process_year(&t->y, len);
		break;
	case R_DATEFULL:
		if (!have_date(sc))
			break;
		t->d = get_nr(&ptr, 2);
		skip_day_suffix(&ptr);
		t->m = get_month(&ptr);
		t->y = get_nr_ex(&ptr, 4, &len);
		process_year(&t->y, len);
		break;
	case R_POINTEDDATE4:
	case R_POINTEDDATE2:
		if (!have_date(sc))
			break;
		t->d = get_nr(&ptr, 2);
		t->m = get_nr(&ptr, 2);
		if (rule == R_POINTEDDATE4) {
			t->y = get_nr(&ptr, 4);
		} else {
			t->y = get_nr_ex(&ptr, 2, &len);
			process_year(&t->y, len);
		}
		break;
	case R_DATENODAY:
		if (!have_date(sc))
			break;
		t->m = get_month(&ptr);
		t->y = get_nr_ex(&ptr, 4, &len);
		t->d = 1;
		process_year(&t->y, len);
		break;
	case R_DATENODAYREV:
		if (!have_date(sc))
			break;
		t->y = get_nr_ex(&ptr, 4, &len);
		t->m = get_month(&ptr);
		t->d = 1;
		process_year(&t->y, len);
		break;
	case R_DATETEXTUAL:
	case R_PGTEXTSHORT:
		if (!have_date(sc))
			break;
		t->m = get_month(&ptr);
		t->d = get_nr(&ptr, 2);
		t->y = get_nr_ex(&ptr, 4, &len);
		process_year(&t->y, len);
		break;
	case R_DATENOYEARREV:
		if (!have_date(sc))
			break;
		t->d = get_nr(&ptr, 2);
		skip_day_suffix(&ptr);
		t->m = get_month(&ptr);
		break;
	case R_DATENOCOLON:
		if (!have_date(sc))
			break;
		t->y = get_nr(&ptr, 4);
		t->m = get_nr(&ptr, 2);
		t->d = get_nr(&ptr, 2);
		break;
	case R_XMLRPC:
		if (!have_time(sc) || !have_date(sc))
			break;
		t->y = get_nr(&ptr, 4);
		t->m = get_nr(&ptr, 2);
		t->d = get_nr(&ptr, 2);
		t->h = get_nr(&ptr, 2);
		t->i = get_nr(&ptr, 2);
		t->s = get_nr(&ptr, 2);
		if (*ptr == '.') {
			t->us = get_frac_nr(&ptr);
			if (*ptr != '\0' && !parse_zone(&ptr, t))
				add_err(sc->pe, false, sc->tok, sc->tokch,
				    tz_not_found_msg);
		}
		break;
	case R_PGYDOTD:
		if (!have_date(sc))
			break;
		t->y = get_nr_ex(&ptr, 4, &len);
		t->d = get_nr(&ptr, 3);
		t->m = 1;
		process_year(&t->y, len);
		break;
	case R_ISOWEEKDAY:
	case R_ISOWEEK: {
		int64_t w, d = 1, jan1;
		int dow;

		if (!have_date(sc))
			break;
		t->have_relative = true;
		t->y = get_nr(&ptr, 4);
		w = get_nr(&ptr, 2);
		if (rule == R_ISOWEEKDAY)
			d = get_nr(&ptr, 1);
		t->m = t->d = 1;
		/* timelib_daynr_from_weeknr */
		jan1 = sp_tz_days_from_civil(t->y, 1, 1);
		dow = sp_tz_weekday(jan1);
		t->rel_d = -(dow > 4 ? dow - 7 : dow) + (w - 1) * 7 + d;
		break;
	}
	case R_PGTEXTREVERSE:
		if (!have_date(sc))
			break;
		t->y = get_nr_ex(&ptr, 4, &len);
		t->m = get_month(&ptr);
		t->d = get_nr(&ptr, 2);
		process_year(&t->y, len);
		break;
	case R_CLF:
		if (!have_time(sc) || !have_date(sc))
			break;
		t->d = get_nr(&ptr, 2);
		t->m = get_month(&ptr);
		t->y = get_nr(&ptr, 4);
		t->h = get_nr(&ptr, 2);
		t->i = get_nr(&ptr, 2);
		t->s = get_nr(&ptr, 2);
		eat_spaces(&ptr);
		if (!parse_zone(&ptr, t))
			add_err(sc->pe, false, sc->tok, sc->tokch,
			    tz_not_found_msg);
		break;
	case R_YEAR4: t->y = get_nr(&ptr, 4); break;
	case R_AGO:
		t->rel_y = -t->rel_y;
		t->rel_m = -t->rel_m;
		t->rel_d = -t->rel_d;
		t->rel_h = -t->rel_h;
		t->rel_i = -t->rel_i;
		t->rel_s = -t->rel_s;
		t->weekday = -t->weekday;
		if (t->weekday == 0)
			t->weekday = -7;
		break;
	case R_DAYTEXT: {
		int i;

		t->have_relative = t->have_weekday = true;
		unhave_time(t);
		i = lookup_relunit(&ptr);
		if (i < 0 || relunits[i].unit != RU_WEEKDAY) {
			scan_err(sc, "Unexpected character");
			break;
		}
		t->weekday = relunits[i].mult;
		if (t->weekday_behavior != 2)
			t->weekday_behavior = 1;
		break;
	}
	case R_RELATIVETEXTWEEK:
	case R_RELATIVETEXT:
		t->have_relative = true;
		while (*ptr != '\0') {
			const char *was = ptr;

			v = relative_text(&ptr, &behavior);
			eat_spaces(&ptr);
			set_relative(sc, &ptr, v, behavior, false);
			if (rule == R_RELATIVETEXTWEEK) {
				t->weekday_behavior = 2;
				if (!t->have_weekday) {
					t->have_weekday = true;
					t->weekday = 1;
				}
			}
			if (ptr == was)
				break;
		}
		break;
	case R_MONTHTEXT:
		if (!have_date(sc))
			break;
		t->m = lookup_month(&ptr);
		break;
	case R_TZ:
		if (!have_tz(sc))
			break;
		eat_spaces(&ptr);
		if (!parse_zone(&ptr, t))
			add_err(sc->pe, false, sc->tok, sc->tokch,
			    tz_not_found_msg);
		break;
	case R_DATESHORTWITHTIME12:
	case R_DATESHORTWITHTIME24:
		if (!have_date(sc))
			break;
		t->m = get_month(&ptr);
		t->d = get_nr(&ptr, 2);
		if (!have_time(sc))
			break;
		t->h = get_nr(&ptr, 2);
		t->i = get_nr(&ptr, 2);
		if (rule == R_DATESHORTWITHTIME12) {
			if (*ptr == ':' || *ptr == '.') {
				t->s = get_nr(&ptr, 2);
				if (*ptr == '.')
					t->us = get_frac_nr(&ptr);
			}
			t->h += meridian(&ptr, t->h);
			break;
		}
		if (*ptr == ':') {
			t->s = get_nr(&ptr, 2);
			if (*ptr == '.')
				t->us = get_frac_nr(&ptr);
		}
		if (*ptr != '\0' && !parse_zone(&ptr, t))
			add_err(sc->pe, false, sc->tok, sc->tokch,
			    tz_not_found_msg);
		break;
	case R_RELATIVE:
		t->have_relative = true;
		while (*ptr != '\0') {
			v = get_signed_nr(&ptr, 24, &ok);
			if (!ok) {
				scan_err(sc, "Found unexpected data");
				break;
			}
			eat_spaces(&ptr);
			set_relative(sc, &ptr, v, 1, true);
		}
		break;
	}
}

/* timelib_strtotime: the scanner loop, then its validity checks. */
static void
parse_free(const char *s, size_t len, struct sp_arena *a, struct ptime *t,
    struct perr *pe)
{
	struct scan sc = {t, pe, 0, 0};
	const char *start = s, *end = s + len;
	size_t n, pos = 0, mlen;
	char *buf, *tok;
	int rule;

	while (start < end && isspace((unsigned char)*start))
		start++;
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	if (start == end) {
		add_err(pe, false, 0, '\0', "Empty string");
		return;
	}
	n = (size_t)(end - start);
	/* NUL padding, like timelib's YYMAXFILL: a meridian may end on it. */
	buf = sp_arena_alloc(a, n + 8);
	memcpy(buf, start, n);
	memset(buf + n, 0, 8);
	tok = sp_arena_alloc(a, n + 8);
	while (pos < n) {
		unsigned char c = (unsigned char)buf[pos];

		if (c == '.' || c == ',' || c == ' ' || c == '\t' ||
		    c == '\0' || c == '\n') {
			pos++;
			continue;
		}
		if (memcmp(buf + pos, "\xc2\xa0", 2) == 0) {
			pos += 2;
			continue;
		}
		if (memcmp(buf + pos, "\xe2\x80\xaf", 3) == 0) {
			pos += 3;
			continue;
		}
		rule = scan_rule(buf + pos, n + 8 - pos, &mlen);
		sc.tok = (int)pos;
		sc.tokch = (char)c;
		if (rule < 0) {
			scan_err(&sc, "Unexpected character");
			pos++;
			continue;
		}
		memcpy(tok, buf + pos, mlen);
		tok[mlen] = '\0';
		rule_action(&sc, rule, tok);
		pos += mlen;
	}
	if (t->have_time && !valid_time(t->h, t->i, t->s))
		add_err(pe, true, (int)n, '\0', "The parsed time was invalid");
	if (t->have_date && !valid_date(t->y, t->m, t->d))
		add_err(pe, true, (int)n, '\0', "The parsed date was invalid");
}

/* do_adjust_for_weekday. */
static void
adjust_weekday(struct ptime *t)
{
	int dow =
	    sp_tz_weekday(sp_tz_days_from_civil(t->y, (int)t->m, 1) + t->d - 1);
	int weekday = t->weekday, diff;

	if (t->weekday_behavior == 2) {
		if (dow == 0 && weekday != 0)
			weekday -= 7;
		if (weekday == 0 && dow != 0)
			weekday = 7;
		t->d += weekday - dow;
		return;
	}
	diff = weekday - dow;
	if ((t->rel_d < 0 && diff < 0) ||
	    (t->rel_d >= 0 && diff <= -t->weekday_behavior))
		diff += 7;
	if (weekday >= 0)
		t->d += diff;
	else
		t->d -= 7 - (abs(weekday) - dow);
}

/* The calendar fields as days since 1970, carrying like timelib does. */
static int64_t
civil_days(int64_t y, int64_t m, int64_t d)
{
	y += floordiv(m - 1, 12);
	m = floormod(m - 1, 12) + 1;
	return sp_tz_days_from_civil(y, (int)m, 1) + d - 1;
}

/* The end of TimeZoneDatabase::fromString: checks, then the instant. */
static int
from_string_finish(struct ptime *t, const struct sp_tz *z,
    const bson_value_t *str, struct sp_error *err, int64_t *out)
{
	int64_t days, secs, us, y, local;
	int m, d;

	if (t->h == UNSET && t->i == UNSET && t->s == UNSET)
		t->h = t->i = t->s = t->us = 0;
	if (t->y == UNSET || t->m == UNSET || t->d == UNSET || t->h == UNSET ||
	    t->i == UNSET || t->s == UNSET)
		return sp_error_set(err,
		    "an incomplete date/time string has been found, with "
		    "elements missing: \"%.*s\"",
		    (int)(str->value.v_utf8.len > 200 ? 200
						      : str->value.v_utf8.len),
		    str->value.v_utf8.str);
	if (!sp_tz_is_utc(z) && t->zone_type == ZT_OFFSET)
		return sp_error_set(err,
		    "you cannot pass in a date/time string with GMT offset "
		    "together with a timezone argument");
	if (!sp_tz_is_utc(z) && t->zone_type == ZT_ABBR)
		return sp_error_set(err,
		    "you cannot pass in a date/time string with time zone "
		    "information ('%s') together with a timezone argument",
		    t->abbr);
	if (t->us == UNSET)
		t->us = 0;
	/* timelib_update_ts: first/last day of, the weekday, then the
	 * relative amounts, each step normalised. */
	if (t->first_day)
		t->d = 1;
	if (t->last_day) {
		t->d = 0;
		t->m++;
	}
	days = civil_days(t->y, t->m, t->d);
	sp_tz_civil_from_days(days, &y, &m, &d);
	t->y = y, t->m = m, t->d = d;
	if (t->have_weekday)
		adjust_weekday(t);
	days = civil_days(t->y, t->m, t->d);
	sp_tz_civil_from_days(days, &y, &m, &d);
	if (t->have_relative) {
		y += t->rel_y;
		t->m = m + t->rel_m;
		t->d = d + t->rel_d;
		if (t->first_day)
			t->d = 1;
		if (t->last_day) {
			t->d = 0;
			t->m++;
		}
		days = civil_days(y, t->m, t->d);
	}
	local = days * 86400 + t->h * 3600 + t->i * 60 + t->s;
	us = t->us;
	if (t->have_relative) {
		local += t->rel_h * 3600 + t->rel_i * 60 + t->rel_s;
		us += t->rel_us;
	}
	local += floordiv(us, 1000000);
	us = floormod(us, 1000000);
	if (!sp_tz_is_utc(z))
		secs = sp_tz_from_local(z, local);
	else if (t->zone_type == ZT_OFFSET)
		secs = local - t->z;
	else if (t->zone_type == ZT_ABBR)
		secs = local - t->z - t->dst * 3600;
	else
		secs = local;
	/* Seconds and microseconds to milliseconds, truncated toward zero
	 * as C++ durations are. */
	*out = (secs * 1000000 + us) / 1000;
	return 0;
}

/* ------------------------------------------------ $dateFromString */

enum { FS_STRING, FS_FORMAT, FS_TZ, FS_ONNULL, FS_ONERROR, FS_NARGS };

static int
compile_from_string(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out)
{
	static const char *const names[] = {
	    "dateString", "format", "timezone", "onNull", "onError", NULL};
	const bson_value_t *vals[FS_NARGS] = {NULL, NULL, NULL, NULL, NULL};
	bson_value_t store[FS_NARGS];
	const char *bad;
	struct enode *n;
	int extra = 0;

	*out = NULL;
	if (arg->value_type != BSON_TYPE_DOCUMENT)
		return sp_error_set(c->err,
		    "$dateFromString only supports an object as an argument, "
		    "found: %s",
		    sp_expr_type_name(arg->value_type));
	if ((bad = sp_expr_named_args(arg, names, store, vals)) != NULL)
		return sp_error_set(c->err,
		    "Unrecognized argument to $dateFromString: %s", bad);
	if (vals[FS_STRING] == NULL)
		return sp_error_set(c->err,
		    "Missing 'dateString' parameter to $dateFromString");
	if (vals[FS_FORMAT] != NULL &&
	    vals[FS_FORMAT]->value_type == BSON_TYPE_UTF8)
		extra = (int)vals[FS_FORMAT]->value.v_utf8.len + 1;
	if (build(c, op, 0, FS_NARGS, vals, FS_TZ, extra, &n))
		return -1;
	if (!all_const(n)) {
		if (prep_tz(c, n, NULL, false)) {
			fail_free(n);
			return -1;
		}
		prep_format(n, FS_FORMAT, from_string_specs);
	}
	if (!rules_compile()) {
		fail_free(n);
		return sp_error_set(c->err,
		    "internal error: the date string grammar did not compile");
	}
	*out = n;
	return 0;
}

/* A ConversionFailure: onError's value when there is one. */
static int
conversion_failure(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	if (given(n, FS_ONERROR))
		return expr_eval(n->args[FS_ONERROR], cx, out);
	return -1;
}

static int
op_from_string(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	const struct prep *p = PREP(n);
	const struct sp_tz *z = NULL;
	const struct fop *ops = NULL;
	bson_value_t str, format;
	struct fop *dyn;
	struct ptime t;
	struct perr pe;
	char msg[160];
	int64_t ms = 0;
	int rc, nops = 0;

	if (arg(n, cx, FS_STRING, &str))
		return -1;
	expr_set_missing(&format);
	if (given(n, FS_FORMAT)) {
		if (expr_eval(n->args[FS_FORMAT], cx, &format))
			return -1;
		if (!expr_nullish(&format)) {
			if (format.value_type != BSON_TYPE_UTF8) {
				value_text(&format, msg, sizeof(msg));
				return sp_error_set(cx->err,
				    "$dateFromString requires that 'format' "
				    "be a string, found: %s with value %s",
				    sp_expr_type_name(format.value_type), msg);
			}
			if (p->fmt_const) {
				if (p->fmt_err[0] != '\0')
					return sp_error_set(
					    cx->err, "%s", p->fmt_err);
				ops = p->ops;
				nops = p->nops;
			} else {
				dyn = sp_arena_alloc(cx->arena,
				    sizeof(*dyn) *
					(format.value.v_utf8.len + 1));
				nops = fmt_compile(format.value.v_utf8.str,
				    format.value.v_utf8.len, from_string_specs,
				    dyn, msg, sizeof(msg));
				if (nops < 0)
					return sp_error_set(cx->err, "%s", msg);
				ops = dyn;
			}
		}
	}
	if ((rc = eval_tz(n, cx, NULL, &z)) < 0)
		return -1;
	if (expr_nullish(&str)) {
		if (given(n, FS_ONNULL))
			return expr_eval(n->args[FS_ONNULL], cx, out);
		expr_set_null(out);
		return 0;
	}
	if (str.value_type != BSON_TYPE_UTF8) {
		value_text(&str, msg, sizeof(msg));
		sp_error_set(cx->err,
		    "$dateFromString requires that 'dateString' be a string, "
		    "found: %s with value %s",
		    sp_expr_type_name(str.value_type), msg);
		return conversion_failure(n, cx, out);
	}
	if (rc > 0 || (given(n, FS_FORMAT) && expr_nullish(&format))) {
		expr_set_null(out);
		return 0;
	}
	ptime_init(&t);
	memset(&pe, 0, sizeof(pe));
	if (ops != NULL)
		/* timelib reads up to a NUL; strings made by other operators
		 * need not end in one. */
		parse_format(ops, nops, format.value.v_utf8.str,
		    sp_arena_dup(
			cx->arena, str.value.v_utf8.str, str.value.v_utf8.len),
		    &t, &pe);
	else
		parse_free(str.value.v_utf8.str, str.value.v_utf8.len,
		    cx->arena, &t, &pe);
	if (pe.n > 0 || pe.nwarn > 0) {
		perr_report(&pe, &str, cx->err);
		return conversion_failure(n, cx, out);
	}
	if (from_string_finish(&t, z, &str, cx->err, &ms))
		return conversion_failure(n, cx, out);
	expr_set_date(out, ms);
	return 0;
}

/* ------------------------------------------------------------ table */

/* Sorted by name (expr.c checks). */
static const struct expr_op ops[] = {
    {"$dateAdd", compile_add, op_add, 0, 0, K_ADD, 0},
    {"$dateDiff", compile_diff, op_diff, 0, 0, 0, 0},
    {"$dateFromParts", compile_from_parts, op_from_parts, 0, 0, 0, 0},
    {"$dateFromString", compile_from_string, op_from_string, 0, 0, 0, 0},
    {"$dateSubtract", compile_add, op_add, 0, 0, K_SUBTRACT, 0},
    {"$dateToParts", compile_to_parts, op_to_parts, 0, 0, 0, 0},
    {"$dateToString", compile_to_string, op_to_string, 0, 0, 0, 0},
    {"$dateTrunc", compile_trunc, op_trunc, 0, 0, 0, 0},
    {"$dayOfMonth", compile_part, op_part, 0, 0, K_DAY_OF_MONTH, 0},
    {"$dayOfWeek", compile_part, op_part, 0, 0, K_DAY_OF_WEEK, 0},
    {"$dayOfYear", compile_part, op_part, 0, 0, K_DAY_OF_YEAR, 0},
    {"$hour", compile_part, op_part, 0, 0, K_HOUR, 0},
    {"$isoDayOfWeek", compile_part, op_part, 0, 0, K_ISO_DAY_OF_WEEK, 0},
    {"$isoWeek", compile_part, op_part, 0, 0, K_ISO_WEEK, 0},
    {"$isoWeekYear", compile_part, op_part, 0, 0, K_ISO_WEEK_YEAR, 0},
    {"$millisecond", compile_part, op_part, 0, 0, K_MILLISECOND, 0},
    {"$minute", compile_part, op_part, 0, 0, K_MINUTE, 0},
    {"$month", compile_part, op_part, 0, 0, K_MONTH, 0},
    {"$second", compile_part, op_part, 0, 0, K_SECOND, 0},
    {"$week", compile_part, op_part, 0, 0, K_WEEK, 0},
    {"$year", compile_part, op_part, 0, 0, K_YEAR, 0},
};

const struct expr_optable sp_expr_date_ops = {
    ops, sizeof(ops) / sizeof(ops[0])};
