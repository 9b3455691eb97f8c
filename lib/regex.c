/* regex.c: MongoDB regular expressions on PCRE2, compiled once. */
#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif

#include <stdio.h>
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

/* Bytes in the longest pattern the server compiles. */
#define SP_REGEX_MAX_PATTERN 32764

struct sp_regex {
	pcre2_code *code;
	/* One match block per regex: sp is single-threaded, and this keeps
	 * sp_regex_test free of allocation. */
	pcre2_match_data *md;
	uint32_t ncap; /* capture groups in the pattern */
	char *pattern;
	char *options;
};

/* MongoDB's option letters as PCRE2 options; false at an unknown one. */
static bool
options_to_pcre2(const char *options, uint32_t *opt, char *bad)
{
	const char *f;

	*opt = PCRE2_UTF;
	for (f = options; *f != '\0'; f++) {
		switch (*f) {
		case 'i': *opt |= PCRE2_CASELESS; break;
		case 'm': *opt |= PCRE2_MULTILINE; break;
		case 's': *opt |= PCRE2_DOTALL; break;
		case 'x': *opt |= PCRE2_EXTENDED; break;
		case 'u': break;
		default: *bad = *f; return false;
		}
	}
	return true;
}

/* True when the pattern sets a match, depth or heap limit of its own. */
static bool
own_limits(const pcre2_code *code)
{
	uint32_t v;

	return pcre2_pattern_info(code, PCRE2_INFO_MATCHLIMIT, &v) == 0 ||
	    pcre2_pattern_info(code, PCRE2_INFO_DEPTHLIMIT, &v) == 0 ||
	    pcre2_pattern_info(code, PCRE2_INFO_HEAPLIMIT, &v) == 0;
}

/* Compiles; NULL with PCRE2's error code and the offset it stopped at. */
static struct sp_regex *
compile(const char *pattern, size_t len, const char *options, uint32_t opt,
    int *code, size_t *off)
{
	pcre2_compile_context *cc;
	struct sp_regex *re;
	PCRE2_SIZE eoff;

	/* The server's limit (src/mongo/util/pcre.cpp, kMaxPatternLength): a
	 * longer pattern fails with PCRE2's "pattern string is longer than
	 * the limit set by the application". */
	if ((cc = pcre2_compile_context_create(NULL)) == NULL)
		sp_oom();
	(void)pcre2_set_max_pattern_length(cc, SP_REGEX_MAX_PATTERN);
	re = sp_xcalloc(1, sizeof(*re));
	re->code =
	    pcre2_compile((PCRE2_SPTR)pattern, len, opt, code, &eoff, cc);
	pcre2_compile_context_free(cc);
	if (re->code == NULL) {
		*off = eoff;
		free(re);
		return NULL;
	}
	/* JIT is an optimisation only: when the platform or the library lacks
	 * it, pcre2_match falls back to the interpreter by itself.
	 * SP_REGEX_NO_JIT turns it off for valgrind, which cannot see into
	 * JIT code and reports false errors there. A pattern that sets its
	 * own (*LIMIT_MATCH=n) or (*LIMIT_DEPTH=n) stays interpreted: JIT
	 * counts those limits in other units, and the server, which does not
	 * JIT, would give a different answer. */
	if (getenv("SP_REGEX_NO_JIT") == NULL && !own_limits(re->code))
		(void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
	re->md = pcre2_match_data_create_from_pattern(re->code, NULL);
	if (re->md == NULL)
		sp_oom();
	if (pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &re->ncap))
		re->ncap = 0;
	re->pattern = sp_xmalloc(len + 1);
	memcpy(re->pattern, pattern, len);
	re->pattern[len] = '\0';
	re->options = sp_xstrdup(options);
	return re;
}

static void
pcre2_message(int code, char *buf, size_t size)
{
	if (pcre2_get_error_message(code, (PCRE2_UCHAR *)buf, size) < 0)
		snprintf(buf, size, "unknown error");
}

struct sp_regex *
sp_regex_new(const char *pattern, const char *options, struct sp_error *err)
{
	struct sp_regex *re;
	char bad, msg[256];
	uint32_t opt;
	size_t off;
	int code;

	if (options == NULL)
		options = "";
	if (!options_to_pcre2(options, &opt, &bad)) {
		sp_error_set(err, "invalid flag in regex options: %c", bad);
		return NULL;
	}
	re = compile(pattern, strlen(pattern), options, opt, &code, &off);
	if (re == NULL) {
		pcre2_message(code, msg, sizeof(msg));
		sp_error_set(err,
		    "invalid regular expression: %s at offset %zu", msg, off);
	}
	return re;
}

struct sp_regex *
sp_regex_compile(
    const char *pattern, size_t len, const char *options, struct sp_error *err)
{
	struct sp_regex *re;
	char bad, msg[256];
	uint32_t opt;
	size_t off;
	int code;

	if (!options_to_pcre2(options, &opt, &bad)) {
		sp_error_set(err, "invalid flag in regex options: %c", bad);
		return NULL;
	}
	re = compile(pattern, len, options, opt, &code, &off);
	if (re == NULL) {
		pcre2_message(code, msg, sizeof(msg));
		sp_error_set(err, "%s", msg);
	}
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
sp_regex_exec(const struct sp_regex *re, const char *subject, size_t len,
    size_t start, const size_t **m, struct sp_error *err)
{
	char msg[128];
	int rc;

	/* The UTF check stays on: a subject that is not valid UTF-8 (possible
	 * in BSON that did not come through the JSON parser) is an error
	 * instead of a read out of bounds. */
	rc = pcre2_match(re->code, (PCRE2_SPTR)(subject != NULL ? subject : ""),
	    len, start, 0, re->md, NULL);
	if (rc >= 0) {
		*m = pcre2_get_ovector_pointer(re->md);
		return 1;
	}
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	pcre2_message(rc, msg, sizeof(msg));
	return sp_error_set(err, "%s", msg);
}

int
sp_regex_ncaptures(const struct sp_regex *re)
{
	return (int)re->ncap;
}

int
sp_regex_test(const struct sp_regex *re, const char *subject, size_t len,
    struct sp_error *err)
{
	struct sp_error why;
	const size_t *m;
	int rc;

	rc = sp_regex_exec(re, subject, len, 0, &m, &why);
	if (rc < 0)
		return sp_error_set(err, "regular expression /%s/ failed: %s",
		    re->pattern, why.msg);
	return rc;
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
