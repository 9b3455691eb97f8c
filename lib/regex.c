/* regex.c: MongoDB regular expressions on PCRE2, compiled once. */
#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif

#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "sp.h"

/*
 * The server (src/mongo/util/pcre_util.cpp, flagsToOptions) always compiles
 * with PCRE2_UTF and nothing else by default: no PCRE2_UCP, so \w, \d, \b
 * and case-free matching of [[:classes:]] stay ASCII, as they do in
 * MongoDB. Options map i, m, s, x to CASELESS, MULTILINE, DOTALL, EXTENDED;
 * u is accepted and ignored; anything else is an error.
 */

struct sp_regex {
	pcre2_code *code;
	/* One match block per regex: sp is single-threaded, and this keeps
	 * sp_regex_test free of allocation. */
	pcre2_match_data *md;
	char *pattern;
	char *options;
};

struct sp_regex *
sp_regex_new(const char *pattern, const char *options, struct sp_error *err)
{
	struct sp_regex *re;
	uint32_t opt = PCRE2_UTF;
	const char *f;
	int code;
	PCRE2_SIZE off;

	if (options == NULL)
		options = "";
	for (f = options; *f != '\0'; f++) {
		switch (*f) {
		case 'i': opt |= PCRE2_CASELESS; break;
		case 'm': opt |= PCRE2_MULTILINE; break;
		case 's': opt |= PCRE2_DOTALL; break;
		case 'x': opt |= PCRE2_EXTENDED; break;
		case 'u': break;
		default:
			sp_error_set(
			    err, "invalid flag in regex options: %c", *f);
			return NULL;
		}
	}

	re = sp_xcalloc(1, sizeof(*re));
	re->code = pcre2_compile(
	    (PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opt, &code, &off, NULL);
	if (re->code == NULL) {
		PCRE2_UCHAR msg[256];

		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			strcpy((char *)msg, "unknown error");
		sp_error_set(err,
		    "invalid regular expression: %s at offset %zu",
		    (const char *)msg, (size_t)off);
		free(re);
		return NULL;
	}
	/* JIT is an optimisation only: when the platform or the library lacks
	 * it, pcre2_match falls back to the interpreter by itself.
	 * SP_REGEX_NO_JIT turns it off for valgrind, which cannot see into
	 * JIT code and reports false errors there. */
	if (getenv("SP_REGEX_NO_JIT") == NULL)
		(void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
	re->md = pcre2_match_data_create_from_pattern(re->code, NULL);
	if (re->md == NULL)
		sp_oom();
	re->pattern = sp_xstrdup(pattern);
	re->options = sp_xstrdup(options);
	return re;
}

void
sp_regex_free(struct sp_regex *re)
{
	if (re == NULL)
		return;
	pcre2_match_data_free(re->md);
	pcre2_code_free(re->code);
	free(re->pattern);
	free(re->options);
	free(re);
}

int
sp_regex_test(const struct sp_regex *re, const char *subject, size_t len,
    struct sp_error *err)
{
	PCRE2_UCHAR msg[128];
	int rc;

	/* The UTF check stays on: a subject that is not valid UTF-8 (possible
	 * in BSON that did not come through the JSON parser) is an error
	 * instead of a read out of bounds. */
	rc =
	    pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, re->md, NULL);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (pcre2_get_error_message(rc, msg, sizeof(msg)) < 0)
		strcpy((char *)msg, "unknown error");
	return sp_error_set(err, "regular expression /%s/ failed: %s",
	    re->pattern, (const char *)msg);
}

const char *
sp_regex_pattern(const struct sp_regex *re)
{
	return re->pattern;
}

const char *
sp_regex_options(const struct sp_regex *re)
{
	return re->options;
}
