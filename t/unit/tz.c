/* tz.c: unit tests of lib/tz.c: zone lookup, TZif and POSIX TZ rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp.h"
#include "tap.h"

/*
 * The zones under test are written here as TZif files into a scratch
 * $TZDIR, so that the POSIX footer rules (what "slim" tzdata relies on)
 * and odd shapes are tested whatever the system's tzdata looks like.
 */

static char dir[64];

static void
put32(FILE *f, uint32_t v)
{
	unsigned char b[4] = {v >> 24, v >> 16, v >> 8, v};

	fwrite(b, 1, 4, f);
}

static void
put64(FILE *f, uint64_t v)
{
	put32(f, (uint32_t)(v >> 32));
	put32(f, (uint32_t)v);
}

/* One TZif v2 file: ntrans transitions to alternating types 0/1 (offsets
 * off0, off1), then the footer. */
static void
write_zone(const char *name, const int64_t *trans, int ntrans, int32_t off0,
    int32_t off1, const char *footer)
{
	char path[256];
	FILE *f;
	int pass, i;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL) {
		perror(path);
		exit(2);
	}
	for (pass = 0; pass < 2; pass++) {
		int n = pass == 0 ? 0 : ntrans;

		fwrite("TZif2", 1, 5, f);
		for (i = 0; i < 15; i++)
			fputc(0, f);
		put32(f, 0); /* isutcnt */
		put32(f, 0); /* isstdcnt */
		put32(f, 0); /* leapcnt */
		put32(f, (uint32_t)n);
		put32(f, 2); /* typecnt */
		put32(f, 4); /* charcnt */
		for (i = 0; i < n; i++)
			put64(f, (uint64_t)trans[i]);
		for (i = 0; i < n; i++)
			fputc(i % 2 == 0 ? 1 : 0, f);
		put32(f, (uint32_t)off0);
		fputc(0, f);
		fputc(0, f);
		put32(f, (uint32_t)off1);
		fputc(1, f);
		fputc(0, f);
		fwrite("AAA\0", 1, 4, f);
	}
	fprintf(f, "\n%s\n", footer);
	fclose(f);
}

static const struct sp_tz *
find(const char *name)
{
	return sp_tz_find(name, strlen(name));
}

/* Seconds since the epoch of a UTC calendar time. */
static int64_t
at(int y, int m, int d, int h, int mi)
{
	return sp_tz_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60;
}

int
main(void)
{
	const struct sp_tz *z;
	int64_t since, y;
	int m, d;

	snprintf(dir, sizeof(dir), "/tmp/sp-tz-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	setenv("TZDIR", dir, 1);

	/* The calendar. */
	is_int(sp_tz_days_from_civil(1970, 1, 1), 0, "epoch day");
	is_int(sp_tz_days_from_civil(2000, 3, 1), 11017, "2000-03-01");
	is_int(sp_tz_days_from_civil(1969, 12, 31), -1, "the day before");
	is_int(sp_tz_days_from_civil(1, 1, 1), -719162, "year 1");
	sp_tz_civil_from_days(-719162, &y, &m, &d);
	ok(y == 1 && m == 1 && d == 1, "back to year 1");
	sp_tz_civil_from_days(11016, &y, &m, &d);
	ok(y == 2000 && m == 2 && d == 29, "2000 is a leap year");
	ok(!sp_tz_is_leap(1900) && sp_tz_is_leap(2000) && sp_tz_is_leap(2024) &&
		!sp_tz_is_leap(2023),
	    "leap years");
	is_int(sp_tz_days_in_month(2023, 2), 28, "February 2023");
	is_int(sp_tz_weekday(0), 4, "1970-01-01 was a Thursday");
	is_int(sp_tz_weekday(-1), 3, "1969-12-31 was a Wednesday");

	/* UTC and offsets. */
	z = find("UTC");
	ok(z != NULL && sp_tz_is_utc(z) && !sp_tz_is_olson(z), "UTC");
	is_int(sp_tz_offset(z, 12345, &since), 0, "UTC offset");
	ok(since == INT64_MIN, "UTC has no transitions");
	z = find("+05:30");
	ok(z != NULL && !sp_tz_is_utc(z), "+05:30");
	is_int(sp_tz_offset(z, 0, NULL), 19800, "+05:30 offset");
	is_int(sp_tz_from_local(z, 19800), 0, "+05:30 local to UTC");
	is_int(sp_tz_offset(find("-0800"), 0, NULL), -28800, "-0800");
	is_int(sp_tz_offset(find("+03"), 0, NULL), 10800, "+03");
	is_int(sp_tz_offset(find("+99"), 0, NULL), 356400, "+99 as MongoDB");
	ok(sp_tz_is_utc(find("-00:00")), "a zero offset is UTC");
	ok(find("+3") == NULL && find("+5:30") == NULL &&
		find("+05:3") == NULL && find("05:30") == NULL &&
		find("+05-30") == NULL,
	    "malformed offsets");
	ok(find("+05:30") == find("+05:30"), "zones are cached");

	/* Names that must not reach the file system, or are not zones. */
	write_zone("Test_Fixed", NULL, 0, 3600, 3600, "<+01>-1");
	ok(find("Test_Fixed") != NULL, "a zone file in TZDIR");
	ok(find("../tmp/Test_Fixed") == NULL && find("/etc/passwd") == NULL &&
		find("./Test_Fixed") == NULL && find("") == NULL &&
		find("Test_Fixed/") == NULL && find("utc") == NULL,
	    "unsafe or unknown names");
	ok(sp_tz_find("Test_Fixed\0x", 12) == NULL, "an embedded NUL");
	is_int(sp_tz_offset(find("Test_Fixed"), at(2100, 1, 1, 0, 0), NULL),
	    3600, "a footer without DST");
	ok(find("Missing/Zone") == NULL && find("Missing/Zone") == NULL,
	    "unknown zones stay unknown");
	{
		FILE *f;
		char path[256];

		snprintf(path, sizeof(path), "%s/NotTZif", dir);
		f = fopen(path, "w");
		fputs("TZjf but no zone\n", f);
		fclose(f);
		ok(find("NotTZif") == NULL, "a file that is not TZif");
	}

	/* New York's rules from the footer alone (no transitions). */
	write_zone(
	    "Test_NY", NULL, 0, -18000, -14400, "EST5EDT,M3.2.0,M11.1.0");
	z = find("Test_NY");
	ok(z != NULL && sp_tz_is_olson(z), "footer-only zone");
	is_int(sp_tz_offset(z, at(2021, 1, 15, 12, 0), NULL), -18000, "winter");
	is_int(sp_tz_offset(z, at(2021, 7, 15, 12, 0), NULL), -14400, "summer");
	is_int(sp_tz_offset(z, at(2021, 3, 14, 6, 59), NULL), -18000,
	    "a minute before the change");
	is_int(sp_tz_offset(z, at(2021, 3, 14, 7, 0), &since), -14400,
	    "at the change");
	is_int(since, at(2021, 3, 14, 7, 0), "the change's instant");
	is_int(sp_tz_offset(z, at(2021, 11, 7, 5, 59), NULL), -14400,
	    "before the end");
	is_int(sp_tz_offset(z, at(2021, 11, 7, 6, 0), NULL), -18000, "the end");
	is_int(sp_tz_offset(z, at(2040, 3, 11, 7, 0), NULL), -14400,
	    "2040 (second Sunday of March)");
	/* Wall clock to UTC, in the gap and the overlap. */
	is_int(sp_tz_from_local(z, at(2021, 3, 14, 2, 30)),
	    at(2021, 3, 14, 7, 30), "a gap moves forward");
	is_int(sp_tz_from_local(z, at(2021, 11, 7, 1, 30)),
	    at(2021, 11, 7, 5, 30), "an overlap west: the first");
	is_int(sp_tz_from_local(z, at(2021, 7, 1, 12, 0)),
	    at(2021, 7, 1, 16, 0), "summer");

	/* East of Greenwich: London. */
	write_zone("Test_London", NULL, 0, 0, 3600, "GMT0BST,M3.5.0/1,M10.5.0");
	z = find("Test_London");
	is_int(sp_tz_offset(z, at(2021, 3, 28, 1, 0), NULL), 3600,
	    "London at 01:00Z");
	is_int(sp_tz_offset(z, at(2021, 10, 31, 0, 59), NULL), 3600,
	    "London before the end");
	is_int(sp_tz_offset(z, at(2021, 10, 31, 1, 0), NULL), 0,
	    "London at the end");
	is_int(sp_tz_from_local(z, at(2021, 3, 28, 1, 30)),
	    at(2021, 3, 28, 1, 30), "London's gap");
	is_int(sp_tz_from_local(z, at(2021, 10, 31, 1, 30)),
	    at(2021, 10, 31, 1, 30), "an overlap east: the second");

	/* The southern hemisphere: summer spans the new year. */
	write_zone("Test_Sydney", NULL, 0, 36000, 39600,
	    "AEST-10AEDT,M10.1.0,M4.1.0/3");
	z = find("Test_Sydney");
	is_int(sp_tz_offset(z, at(2021, 1, 15, 0, 0), NULL), 39600,
	    "Sydney in January");
	is_int(sp_tz_offset(z, at(2021, 7, 15, 0, 0), NULL), 36000,
	    "Sydney in July");
	/* 2021-04-04 03:00 AEDT is 16:00Z the day before. */
	is_int(sp_tz_offset(z, at(2021, 4, 3, 15, 59), NULL), 39600,
	    "before April's change");
	is_int(sp_tz_offset(z, at(2021, 4, 3, 16, 0), NULL), 36000,
	    "April's change");

	/* Negative DST (Dublin): standard time in summer. */
	write_zone(
	    "Test_Dublin", NULL, 0, 3600, 0, "IST-1GMT0,M10.5.0,M3.5.0/1");
	z = find("Test_Dublin");
	is_int(sp_tz_offset(z, at(2021, 7, 1, 0, 0), NULL), 3600,
	    "Dublin in July");
	is_int(sp_tz_offset(z, at(2021, 12, 1, 0, 0), NULL), 0,
	    "Dublin in December");

	/* Julian day rules and odd times. */
	write_zone(
	    "Test_Julian", NULL, 0, -7200, -3600, "<-02>2<-01>,J60/-1,J300/25");
	z = find("Test_Julian");
	/* J60 is 1 March even in leap years; the change is 23:00 the day
	 * before in local standard time, 01:00Z on 1 March. */
	is_int(sp_tz_offset(z, at(2024, 3, 1, 0, 59), NULL), -7200,
	    "before J60/-1");
	is_int(sp_tz_offset(z, at(2024, 3, 1, 1, 0), NULL), -3600,
	    "J60/-1 in a leap year");

	/* Transitions, then the footer after the last one. */
	{
		int64_t t[2] = {at(2000, 4, 2, 7, 0), at(2000, 10, 29, 6, 0)};

		write_zone("Test_Mixed", t, 2, -18000, -14400,
		    "EST5EDT,M3.2.0,M11.1.0");
	}
	z = find("Test_Mixed");
	is_int(sp_tz_offset(z, at(1999, 7, 1, 0, 0), &since), -18000,
	    "before the first transition: type 0");
	ok(since == INT64_MIN, "no start before the first transition");
	is_int(sp_tz_offset(z, at(2000, 7, 1, 0, 0), &since), -14400,
	    "inside the table");
	is_int(since, at(2000, 4, 2, 7, 0), "the table's transition");
	is_int(sp_tz_offset(z, at(2001, 7, 1, 0, 0), NULL), -14400,
	    "after the table: the footer");

	/* The system's database, when installed. */
	if (access("/usr/share/zoneinfo/America/New_York", R_OK) == 0) {
		unsetenv("TZDIR");
		z = find("America/New_York");
		ok(z != NULL, "America/New_York from the system");
		is_int(sp_tz_offset(z, at(2021, 7, 1, 0, 0), NULL), -14400,
		    "system New York in summer");
		is_int(sp_tz_offset(z, at(1883, 11, 18, 16, 59), NULL), -17762,
		    "local mean time before 1883");
	}

	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			ok(0, "clean up %s", dir);
	}
	return done_testing();
}
