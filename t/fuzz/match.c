/* match.c: libFuzzer target for sp_match_compile and sp_match_exec. */
/*
 * Build and run (about a minute):
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -Ilib $(pkg-config --cflags libbson-1.0 libpcre2-8) \
 *       -o /tmp/fuzz-match t/fuzz/match.c lib/match.c lib/regex.c \
 *       lib/compare.c lib/expr*.c lib/arena.c lib/util.c \
 *       $(pkg-config --libs libbson-1.0 libpcre2-8) -lm
 *   /tmp/fuzz-match -max_total_time=60 -max_len=2048
 *
 * The input is a filter in JSON (read by libbson), a newline, then the
 * document: JSON again when it starts with '{', otherwise raw bytes taken
 * as BSON as they are, so that malformed documents reach the matcher's
 * own BSON reader. Compiling must either succeed or give a message;
 * matching must return -1, 0 or 1, with a message for -1; nothing may
 * crash, leak or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sp_arena arena;
	const uint8_t *nl = memchr(data, '\n', size);
	struct sp_error err;
	struct sp_match *m;
	bson_error_t berr;
	bson_t *filter, *doc = NULL;
	const uint8_t *dp;
	size_t flen, dlen;
	uint8_t *raw = NULL;
	int r;

	if (nl == NULL)
		return 0;
	flen = (size_t)(nl - data);
	dp = nl + 1;
	dlen = size - flen - 1;
	filter = bson_new_from_json(data, (ssize_t)flen, &berr);
	if (filter == NULL)
		return 0;
	err.msg[0] = '\0';
	if (sp_match_compile(&m, bson_get_data(filter), filter->len, &err) !=
	    0) {
		if (err.msg[0] == '\0' || m != NULL)
			abort();
		bson_destroy(filter);
		return 0;
	}
	if (dlen > 0 && dp[0] == '{') {
		doc = bson_new_from_json(dp, (ssize_t)dlen, &berr);
		if (doc != NULL) {
			dp = bson_get_data(doc);
			dlen = doc->len;
		}
	}
	if (doc == NULL) {
		/* A private copy, so that ASan sees reads past its end. */
		raw = malloc(dlen ? dlen : 1);
		memcpy(raw, dp, dlen);
		dp = raw;
	}
	err.msg[0] = '\0';
	r = sp_match_exec(m, dp, (uint32_t)dlen, &arena, &err);
	if (r < -1 || r > 1 || (r == -1 && err.msg[0] == '\0'))
		abort();
	sp_arena_reset(&arena);
	sp_match_free(m);
	bson_destroy(filter);
	bson_destroy(doc);
	free(raw);
	return 0;
}
