/* accum.c: the accumulators (to be written). */
#include "group_int.h"

const struct accum_table sp_accum_basic = {NULL, 0};

const struct accum_ops *
accum_find(const char *name)
{
	return NULL;
}

int
accum_compile(struct accum *a, const char *field, const bson_value_t *spec,
    struct sp_error *err)
{
	return sp_error_set(err, "accumulators are not supported yet");
}

void
accum_release(struct accum *a)
{
}

void
value_keep(bson_value_t *dst, const bson_value_t *v)
{
	bson_value_copy(v, dst);
}

void
value_drop(bson_value_t *v)
{
	bson_value_destroy(v);
}

size_t
value_heap_bytes(const bson_value_t *v)
{
	return 0;
}
