/* expr_accum.c: the accumulators as expressions (to be written). */
#include "group_int.h"

const struct expr_optable sp_expr_accum_ops = {NULL, 0};
