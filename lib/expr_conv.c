/* expr_conv.c: type conversion operators ($convert, $toInt, $toString, ...). */
#include "expr_int.h"

/* Sorted by name (expr.c checks). No operators yet. */
static const struct expr_op ops[1];

const struct expr_optable sp_expr_conv_ops = {ops, 0};
