/* expr_int.h: what the aggregation expression engine's files share. */
#ifndef SP_EXPR_INT_H
#define SP_EXPR_INT_H

#include <string.h>

#include "decimal_int.h"
#include "sp.h"

/*
 * The engine compiles an expression spec once into a tree of nodes; each
 * node carries the function that evaluates it, so evaluation never looks at
 * the spec again. An operator is one row of the table in expr.c (name,
 * argument count, evaluate function, and an optional compile function for
 * operators whose arguments are not "an expression or an array of them").
 * Adding an operator is adding a row and a function.
 *
 * Values are bson_value_t. A result is borrowed: it points into the input
 * document, into a compiled constant, into static storage or into the
 * arena. Scalars live inside the bson_value_t itself, so arithmetic and
 * comparison never allocate. Missing is BSON_TYPE_EOD.
 */

struct enode;
struct ectx;
struct expr_comp;
struct expr_op;

typedef int (*expr_eval_fn)(
    const struct enode *n, struct ectx *cx, bson_value_t *out);
/* Compiles the operator's argument (the value of {"$op": arg}). */
typedef int (*expr_compile_fn)(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, struct enode **out);

/* Operator flags. */
#define EXPR_NOFOLD 0x1u /* never evaluate at compile time */

struct expr_op {
	const char *name; /* "$add" */
	expr_compile_fn compile; /* NULL: the generic n-ary argument parser */
	expr_eval_fn eval;
	short min, max; /* argument count; max < 0: no upper limit */
	short aux; /* per-operator parameter (comparison kind...) */
	unsigned flags;
};

struct expr_path {
	char *name;
	uint32_t len;
};

struct enode {
	expr_eval_fn eval;
	const struct expr_op *op; /* NULL for literals, paths, objects */
	int aux;
	int nargs;
	struct enode **args;
	bson_value_t cval; /* constants: an owned deep copy */
	int slot; /* variable reads: the variable's slot */
	int npath; /* field path below the variable */
	struct expr_path *path;
	struct expr_path *keys; /* object expressions: one key per arg */
	int *slots; /* $let: the slot of each variable */
	/* What an operator keeps for itself (a compiled regex...): when
	 * priv_free is set, sp_expr_node_free calls it with priv. */
	void *priv;
	void (*priv_free)(void *);
};

/* Evaluation state: variable slots ($$ROOT is slot 0, $$CURRENT slot 1). */
struct ectx {
	bson_value_t *slots;
	struct sp_arena *arena;
	struct sp_error *err;
};

#define EXPR_SLOT_ROOT 0
#define EXPR_SLOT_CURRENT 1

static inline int
expr_eval(const struct enode *n, struct ectx *cx, bson_value_t *out)
{
	return n->eval(n, cx, out);
}

/* ------------------------------------------------- the compiler's API */

/* Variables in scope while compiling: a chain from innermost out. */
struct scope {
	const struct scope *up;
	const char *name;
	size_t len;
	int slot;
};

struct expr_comp {
	struct sp_error *err;
	const struct scope *scope;
	int nslots; /* slots allocated so far ($$ROOT, $$CURRENT, variables) */
	int depth;
};

/*
 * An operator family (strings, arrays, dates...) lives in its own
 * lib/expr_<family>.c with its own table, sorted by name; expr.c searches
 * every table, and checks once per process that each is sorted and that no
 * name is in two of them.
 */
struct expr_optable {
	const struct expr_op *ops;
	size_t n;
};

extern const struct expr_optable sp_expr_core_ops; /* expr.c */
extern const struct expr_optable sp_expr_str_ops; /* expr_str.c */
extern const struct expr_optable sp_expr_array_ops; /* expr_array.c */
extern const struct expr_optable sp_expr_date_ops; /* expr_date.c */
extern const struct expr_optable sp_expr_conv_ops; /* expr_conv.c */
extern const struct expr_optable sp_expr_obj_ops; /* expr_obj.c */
/* $sum, $avg, $min, $max, $stdDevPop, $stdDevSamp, $median and $percentile
 * as expressions: the accumulators over an array or the arguments. */
extern const struct expr_optable sp_expr_accum_ops; /* expr_accum.c */

/* Compiles any expression spec into *out (a new node tree). */
int sp_expr_compile_value(
    struct expr_comp *c, const bson_value_t *v, struct enode **out);
/* The generic argument parser: arg is one expression or an array of them;
 * with check, the count must be within op->min..op->max. */
int sp_expr_compile_nary(struct expr_comp *c, const struct expr_op *op,
    const bson_value_t *arg, bool check, struct enode **out);
/* A new node evaluated by eval (free with sp_expr_node_free, which frees
 * its arguments and its priv too). */
struct enode *sp_expr_node_new(expr_eval_fn eval);
void sp_expr_node_free(struct enode *n);
/* Appends arg to n's arguments; n owns it from then on. */
void sp_expr_add_arg(struct enode *n, struct enode *arg);
/* A constant node holding a deep copy of v. */
struct enode *sp_expr_const_new(const bson_value_t *v);
bool sp_expr_is_const(const struct enode *n);
/* Checks a user variable name ($let vars, "as"); define: being bound. */
int sp_expr_check_var_name(
    const char *name, size_t len, bool define, struct sp_error *err);
/* For the stages: whether name ("$add") is an expression operator, and
 * FieldPath's checks of a dotted path, with its messages. */
bool sp_expr_is_operator(const char *name);

/*
 * Reads an operator's named arguments ({input: ..., n: ...}; arg must be a
 * document, names[] ends with NULL) into store[i], pointing vals[i] at
 * each one given; the last occurrence of a name wins, as in MongoDB.
 * Returns NULL, or the first unknown name (pointing into arg), for the
 * operator's own message.
 */
const char *sp_expr_named_args(const bson_value_t *arg,
    const char *const *names, bson_value_t *store, const bson_value_t **vals);
int sp_expr_check_field_path(const char *s, size_t len, struct sp_error *err);

/* ------------------------------------------------------------ values */

static inline void
expr_set_missing(bson_value_t *v)
{
	v->value_type = BSON_TYPE_EOD;
}

static inline void
expr_set_null(bson_value_t *v)
{
	v->value_type = BSON_TYPE_NULL;
}

static inline void
expr_set_bool(bson_value_t *v, bool b)
{
	v->value_type = BSON_TYPE_BOOL;
	v->value.v_bool = b;
}

static inline void
expr_set_int32(bson_value_t *v, int32_t i)
{
	v->value_type = BSON_TYPE_INT32;
	v->value.v_int32 = i;
}

static inline void
expr_set_int64(bson_value_t *v, int64_t i)
{
	v->value_type = BSON_TYPE_INT64;
	v->value.v_int64 = i;
}

/* MongoDB's Value::createIntOrLong. */
static inline void
expr_set_int_or_long(bson_value_t *v, int64_t i)
{
	if (i >= INT32_MIN && i <= INT32_MAX)
		expr_set_int32(v, (int32_t)i);
	else
		expr_set_int64(v, i);
}

static inline void
expr_set_double(bson_value_t *v, double d)
{
	v->value_type = BSON_TYPE_DOUBLE;
	v->value.v_double = d;
}

static inline void
expr_set_date(bson_value_t *v, int64_t ms)
{
	v->value_type = BSON_TYPE_DATE_TIME;
	v->value.v_datetime = ms;
}

/* Points v at a static or otherwise long-lived string. */
static inline void
expr_set_cstr(bson_value_t *v, const char *s)
{
	v->value_type = BSON_TYPE_UTF8;
	v->value.v_utf8.str = (char *)s;
	v->value.v_utf8.len = (uint32_t)strlen(s);
}

/* MongoDB's Value::nullish: missing, null or undefined. */
static inline bool
expr_nullish(const bson_value_t *v)
{
	return v->value_type == BSON_TYPE_EOD ||
	    v->value_type == BSON_TYPE_NULL ||
	    v->value_type == BSON_TYPE_UNDEFINED;
}

static inline bool
expr_is_number(const bson_value_t *v)
{
	switch (v->value_type) {
	case BSON_TYPE_INT32:
	case BSON_TYPE_INT64:
	case BSON_TYPE_DOUBLE:
	case BSON_TYPE_DECIMAL128: return true;
	default: return false;
	}
}

/* MongoDB's typeName(): "double", "string", ..., "missing" for EOD. */
const char *sp_expr_type_name(bson_type_t t);

/* ------------------------------------------- values in error messages */

/*
 * expr_value.c: a value as MongoDB's Value::toString (operator<< in
 * value.cpp) writes it into a message: strings in double quotes, doubles
 * as "%g", {k: v}, [a, b], dates in ISO form ("illegal date" outside
 * years 0-9999), BinData(0, "0A0B"), "MISSING" for missing. The flags keep
 * the renderings that some operators' messages were written against:
 */
#define EXPR_TEXT_BINDATA_BARE 0x01u /* BinData(0, 0A0B): $convert's */
#define EXPR_TEXT_CODE_JS 0x02u /* code as "javascript: <code>" */
#define EXPR_TEXT_ANY_YEAR 0x04u /* every date in ISO form */
#define EXPR_TEXT_NAN_BARE 0x08u /* NaN as "nan" whatever its sign */
#define EXPR_TEXT_DEPTH 0x10u /* "..." for what is nested over 20 deep */
#define EXPR_TEXT_RARE_NAMES 0x20u /* dbPointer, CodeWScope: type names */
/* $convert's and $mergeObjects' messages: BinData unquoted, as MongoDB's
 * convert tests show; code, dates and NaN as they always wrote them. */
#define EXPR_TEXT_CONV                                                         \
	(EXPR_TEXT_BINDATA_BARE | EXPR_TEXT_CODE_JS | EXPR_TEXT_ANY_YEAR |     \
	    EXPR_TEXT_NAN_BARE)
/* The most a value adds (a message holds no more): the rest is dropped. */
#define EXPR_TEXT_MAX (sizeof(((struct sp_error *)0)->msg) - 1)

/* Appends v's rendering (EXPR_TEXT_* flags) to b. */
void sp_expr_value_string(
    struct sp_buf *b, const bson_value_t *v, unsigned flags);
/* The same into buf (size bytes, truncated, NUL-terminated); returns buf. */
const char *sp_expr_value_cstr(
    char *buf, size_t size, const bson_value_t *v, unsigned flags);
/* "1970-01-01T00:00:00.000Z": ms since the epoch in UTC, any year
 * (proleptic Gregorian); returns the year, for callers that refuse those
 * outside 0-9999. */
int64_t sp_expr_iso_date(char *buf, size_t size, int64_t ms);

/* --------------------------------------------- BSON building in the arena */

/*
 * A document or array under construction in the arena. Growing copies to a
 * larger arena block; the old one is reclaimed at the next reset.
 */
struct expr_buf {
	struct sp_arena *arena;
	uint8_t *p;
	uint32_t len, cap;
	uint32_t n; /* elements so far: the next array index */
	bool overflow; /* grew past BSON's int32 length: writes dropped */
};

void sp_expr_buf_init(struct expr_buf *b, struct sp_arena *a);
/* Appends v under key (keylen bytes), or under the next array index when
 * key is NULL. v must not be missing. */
void sp_expr_buf_append(
    struct expr_buf *b, const char *key, size_t keylen, const bson_value_t *v);
/* Terminates the buffer; out becomes a document or array (t) value.
 * Returns -1 (out is null) when the value grew past BSON's size limit:
 * that is the record's error, not the process's. */
int sp_expr_buf_finish(struct expr_buf *b, bson_type_t t, bson_value_t *out);
#define EXPR_TOO_LARGE "BSONObj size exceeds the maximum BSON size (2 GiB)"

/* ---------------------------------------------------------- decimal128 */

/*
 * decimal.c owns decimal128 (decimal_int.h). The names it had when it was
 * expr_dec.c, for expr_date.c until that moves over:
 */
#define expr_dec sp_decimal
#define EXPR_DEC_FINITE SP_DECIMAL_FINITE
#define EXPR_DEC_INF SP_DECIMAL_INF
#define EXPR_DEC_NAN SP_DECIMAL_NAN
#define EXPR_DEC_HALF_EVEN SP_DECIMAL_HALF_EVEN
#define EXPR_DEC_TRUNC SP_DECIMAL_TRUNC
#define EXPR_DEC_CEIL SP_DECIMAL_CEIL
#define EXPR_DEC_FLOOR SP_DECIMAL_FLOOR
#define expr_dec_unpack sp_decimal_unpack
#define expr_dec_pack sp_decimal_pack
#define expr_dec_from_int64 sp_decimal_from_int64
#define expr_dec_from_double sp_decimal_from_double
#define expr_dec_from_ldouble sp_decimal_from_ldouble
#define expr_dec_to_double sp_decimal_to_double
#define expr_dec_to_ldouble sp_decimal_to_ldouble
#define expr_dec_to_int64 sp_decimal_to_int64
#define expr_dec_sign sp_decimal_sign
#define expr_dec_add sp_decimal_add
#define expr_dec_sub sp_decimal_sub
#define expr_dec_mul sp_decimal_mul
#define expr_dec_div sp_decimal_div
#define expr_dec_mod sp_decimal_mod
#define expr_dec_quantize sp_decimal_quantize

/* Numeric value helpers (v must be a number). */
double sp_expr_num_double(const bson_value_t *v);
void sp_expr_num_dec(const bson_value_t *v, struct sp_decimal *d);

static inline void
expr_set_dec(bson_value_t *v, const struct sp_decimal *d)
{
	v->value_type = BSON_TYPE_DECIMAL128;
	sp_decimal_pack(&v->value.v_decimal128, d);
}

/* ------------------------------------------------ operator functions */

/* expr.c: control flow and variables */
int sp_expr_op_cond(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_ifnull(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_switch(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_let(const struct enode *, struct ectx *, bson_value_t *);

/* expr_cmp.c: comparison, boolean and type operators */
int sp_expr_op_compare(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_and(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_or(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_not(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_in(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_size(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_isarray(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_isnumber(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_type(const struct enode *, struct ectx *, bson_value_t *);

/* Comparison kinds (expr_op.aux of $eq ... $cmp). */
enum {
	EXPR_CMP_EQ,
	EXPR_CMP_NE,
	EXPR_CMP_GT,
	EXPR_CMP_GTE,
	EXPR_CMP_LT,
	EXPR_CMP_LTE,
	EXPR_CMP_CMP
};

/* expr_arith.c: arithmetic */
int sp_expr_op_add(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_subtract(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_multiply(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_divide(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_mod(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_abs(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_ceil(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_floor(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_round(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_exp(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_ln(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_log(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_log10(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_pow(const struct enode *, struct ectx *, bson_value_t *);
int sp_expr_op_sqrt(const struct enode *, struct ectx *, bson_value_t *);

#endif /* SP_EXPR_INT_H */
