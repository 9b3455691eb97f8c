/* gen-solar: writes N sample_stream_solar documents as NDJSON (deterministic). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* xorshift64*: the same documents on every machine. */
static uint64_t state = 0x9E3779B97F4A7C15ull;

static uint64_t
next(void)
{
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 2685821657736338717ull;
}

static int
uniform(int lo, int hi)
{
	return lo + (int)(next() % (uint64_t)(hi - lo + 1));
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	/* From 2024-08-12T00:00:00Z, 50 ms apart: a million documents span both
	 * halves of the day, where the generator halves its maxima. */
	int64_t ms = 1723420800000LL;

	if (n <= 0) {
		fprintf(stderr, "usage: gen-solar [count]\n");
		return 2;
	}
	for (long i = 0; i < n; i++, ms += 50) {
		time_t s = (time_t)(ms / 1000);
		struct tm tm;
		char ts[32];
		int low;

		gmtime_r(&s, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		low = tm.tm_hour < 12; /* maxima halved 00:00-12:00 UTC */
		printf("{\"device_id\":\"device_%d\",\"group_id\":%d,"
		       "\"timestamp\":\"%s.%03d+00:00\",\"max_watts\":450,",
		    uniform(0, 10), uniform(0, 10), ts, (int)(ms % 1000));
		if (next() % 200 == 0)
			printf("\"event_type\":1,"
			       "\"event_details\":\"Network error\"}\n");
		else
			printf("\"event_type\":0,\"obs\":{\"watts\":%d,"
			       "\"temp\":%d}}\n",
			    uniform(0, low ? 225 : 450),
			    uniform(5, low ? 12 : 25));
	}
	return ferror(stdout) ? 1 : 0;
}
