/* json.c: libFuzzer target for sp_json_parse. */
/*
 * Build and run (about a minute):
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -Ilib $(pkg-config --cflags libbson-1.0) -o /tmp/fuzz-json \
 *       t/fuzz/json.c lib/json.c lib/util.c \
 *       $(pkg-config --libs libbson-1.0) -lm
 *   /tmp/fuzz-json -max_total_time=60 -max_len=4096
 *
 * Beyond "never crash or read out of bounds", every accepted input must
 * give valid BSON, and libbson's canonical Extended JSON of that BSON must
 * parse back to the very same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sp_buf out, again;
	struct sp_error err;
	bson_t b;
	char *json;
	size_t n;

	if (sp_json_parse(&out, (const char *)data, size, &err) != 0)
		return 0;
	if (!bson_init_static(&b, out.data, out.len) ||
	    !bson_validate(
		&b, BSON_VALIDATE_UTF8 | BSON_VALIDATE_UTF8_ALLOW_NULL, NULL))
		abort();
	if ((json = bson_as_canonical_extended_json(&b, &n)) == NULL)
		abort();
	if (sp_json_parse(&again, json, n, &err) != 0 || again.len != out.len ||
	    memcmp(again.data, out.data, out.len) != 0)
		abort();
	bson_free(json);
	return 0;
}
