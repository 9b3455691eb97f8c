/* expr_array.c: array and set operators ($arrayElemAt, $filter, $map, $reduce,
 * $set*, ...). */
#include "expr_int.h"

/* Sorted by name (expr.c checks). No operators yet. */
static const struct expr_op ops[1];

const struct expr_optable sp_expr_array_ops = {ops, 0};
