/* accum_n.c: $top, $bottom and the n-accumulators (to be written). */
#include "group_int.h"

const struct accum_table sp_accum_n = {NULL, 0};
