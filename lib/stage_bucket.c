/* stage_bucket.c: (to be written). */
#include "group_int.h"

int
stage_bucket_new(struct stage **out, const char *name, const bson_value_t *spec,
    struct sp_error *err)
{
	*out = NULL;
	return sp_error_set(err, "%s is not supported yet", name);
}

int
stage_bucket_auto_new(struct stage **out, const char *name,
    const bson_value_t *spec, struct sp_error *err)
{
	*out = NULL;
	return sp_error_set(err, "%s is not supported yet", name);
}
