/* stage_group.c: (to be written). */
#include "group_int.h"

int
stage_group_new(struct stage **out, const char *name, const bson_value_t *spec,
    struct sp_error *err)
{
	*out = NULL;
	return sp_error_set(err, "%s is not supported yet", name);
}

int
stage_count_new(struct stage **out, const char *name, const bson_value_t *spec,
    struct sp_error *err)
{
	*out = NULL;
	return sp_error_set(err, "%s is not supported yet", name);
}

int
stage_sort_by_count_new(struct stage **out, const char *name,
    const bson_value_t *spec, struct sp_error *err)
{
	*out = NULL;
	return sp_error_set(err, "%s is not supported yet", name);
}
