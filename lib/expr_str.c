/* expr_str.c: string operators ($concat, $substr*, $split, $regex*, ...). */
#include "expr_int.h"

/* Sorted by name (expr.c checks). No operators yet. */
static const struct expr_op ops[1];

const struct expr_optable sp_expr_str_ops = {ops, 0};
