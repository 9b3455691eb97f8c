/* group.c: group specs and group tables (to be written). */
#include "group_int.h"

int
group_spec_compile(
    struct group_spec **out, const bson_value_t *spec, struct sp_error *err)
{
	*out = NULL;
	return sp_error_set(err, "$group is not supported yet");
}

void
group_spec_free(struct group_spec *g)
{
}
