/* expr_obj.c: object operators ($mergeObjects, $getField, ...) and Atlas's
 * $meta, $currentDate, $createUUID. */
#include "expr_int.h"

/* Sorted by name (expr.c checks). No operators yet. */
static const struct expr_op ops[1];

const struct expr_optable sp_expr_obj_ops = {ops, 0};
