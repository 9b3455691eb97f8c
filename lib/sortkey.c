/* sortkey.c: sort patterns and sort keys (to be written). */
#include "group_int.h"

int
sort_pattern_parse(
    struct sort_pattern *p, const bson_value_t *spec, struct sp_error *err)
{
	return sp_error_set(err, "$sort is not supported yet");
}

void
sort_pattern_release(struct sort_pattern *p)
{
}

void
sort_key_get(const struct sort_pattern *p, const uint8_t *doc, uint32_t len,
    bson_value_t *keys)
{
}

int
sort_key_compare(
    const struct sort_pattern *p, const bson_value_t *a, const bson_value_t *b)
{
	return 0;
}
