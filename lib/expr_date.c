/* expr_date.c: date operators ($dateAdd, $dateToString, $year, ... with time
 * zones). */
#include "expr_int.h"

/* Sorted by name (expr.c checks). No operators yet. */
static const struct expr_op ops[1];

const struct expr_optable sp_expr_date_ops = {ops, 0};
