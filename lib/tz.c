/* tz.c: time zones (system TZif files, POSIX rules, offsets), calendar. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sp.h"

/*
 * MongoDB resolves time zones with timelib and its compiled-in copy of the
 * tz database. Here the same database comes from the system (Debian's
 * tzdata: /usr/share/zoneinfo, or $TZDIR). Each zone file is parsed once,
 * on first use, and kept for the life of the process: a lookup per record
 * is a hash probe, an offset is a binary search over the transitions, and
 * instants past the last transition follow the file's POSIX TZ footer, as
 * timelib does (tzdata built "slim" stops its tables early and relies on
 * the footer alone).
 */

enum { TZ_UTC, TZ_OFFSET, TZ_OLSON, TZ_UNKNOWN };

/* A POSIX TZ date rule: Jn, n or Mm.w.d, with a time of day. */
struct rule {
	char kind; /* 'J', 'N' or 'M' */
	int m, w, d;
	int32_t secs; /* local time of the change, may be <0 or >24h */
};

struct sp_tz {
	char *name;
	size_t len;
	int kind;
	int32_t fixed; /* TZ_OFFSET: the offset */
	/* TZ_OLSON */
	size_t ntrans;
	int64_t *trans; /* transition instants, ascending */
	int32_t *trans_off; /* the offset that starts at each */
	int32_t first_off; /* before the first transition: type 0 */
	bool posix; /* a usable footer rule */
	bool posix_dst; /* the footer has summer time */
	int32_t std_off, dst_off;
	struct rule start, end;
	struct sp_tz *next; /* hash chain */
};

#define NBUCKETS 64
#define MAX_UNKNOWN 1024 /* unknown names remembered (a bound on memory) */

static struct sp_tz *buckets[NBUCKETS];
static int nunknown;
static struct sp_tz utc_zone = {
    .name = (char *)"UTC", .len = 3, .kind = TZ_UTC};

/* ------------------------------------------------------------ calendar */

/* Howard Hinnant's days_from_civil: exact for every int64 year we meet. */
int64_t
sp_tz_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
sp_tz_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

bool
sp_tz_is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
sp_tz_days_in_month(int64_t y, int m)
{
	static const int days[12] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && sp_tz_is_leap(y) ? 29 : days[m - 1];
}

/* 0 for Sunday ... 6 for Saturday. */
int
sp_tz_weekday(int64_t days)
{
	int64_t r = (days + 4) % 7; /* 1970-01-01 was a Thursday */

	return (int)(r < 0 ? r + 7 : r);
}

/* Floor division and its remainder, for instants before 1970. */
static int64_t
floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* ---------------------------------------------------------- POSIX TZ */

static const char *
posix_name(const char *p)
{
	if (*p == '<') {
		while (*p != '\0' && *p != '>')
			p++;
		return *p == '>' ? p + 1 : NULL;
	}
	if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
		return NULL;
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	return p;
}

/* [+-]hh[:mm[:ss]] into seconds; hours up to 167 (RFC 8536). */
static const char *
posix_time(const char *p, int32_t *out)
{
	int sign = 1, part[3] = {0, 0, 0}, i, digits;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (i = 0; i < 3; i++) {
		if (i > 0) {
			if (*p != ':')
				break;
			p++;
		}
		for (digits = 0; *p >= '0' && *p <= '9' && digits < 3; digits++)
			part[i] = part[i] * 10 + (*p++ - '0');
		if (digits == 0)
			return NULL;
	}
	if (part[0] > 167 || part[1] > 59 || part[2] > 59)
		return NULL;
	*out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	return p;
}

static const char *
posix_num(const char *p, int *out, int lo, int hi)
{
	int v = 0, digits = 0;

	while (*p >= '0' && *p <= '9' && digits < 4) {
		v = v * 10 + (*p++ - '0');
		digits++;
	}
	if (digits == 0 || v < lo || v > hi)
		return NULL;
	*out = v;
	return p;
}

static const char *
posix_rule(const char *p, struct rule *r)
{
	r->secs = 7200; /* 02:00 unless told */
	if (*p == 'M') {
		r->kind = 'M';
		if ((p = posix_num(p + 1, &r->m, 1, 12)) == NULL || *p++ != '.')
			return NULL;
		if ((p = posix_num(p, &r->w, 1, 5)) == NULL || *p++ != '.')
			return NULL;
		if ((p = posix_num(p, &r->d, 0, 6)) == NULL)
			return NULL;
	} else if (*p == 'J') {
		r->kind = 'J';
		if ((p = posix_num(p + 1, &r->d, 1, 365)) == NULL)
			return NULL;
	} else {
		r->kind = 'N';
		if ((p = posix_num(p, &r->d, 0, 365)) == NULL)
			return NULL;
	}
	if (*p == '/')
		p = posix_time(p + 1, &r->secs);
	return p;
}

/* The footer: std offset [dst [offset] [,start[/time],end[/time]]]. */
static bool
posix_parse(struct sp_tz *z, const char *p)
{
	int32_t off;

	if ((p = posix_name(p)) == NULL || (p = posix_time(p, &off)) == NULL)
		return false;
	z->std_off = -off; /* POSIX counts west of Greenwich as positive */
	z->posix_dst = false;
	if (*p == '\0')
		return true;
	if ((p = posix_name(p)) == NULL)
		return false;
	z->dst_off = z->std_off + 3600;
	if (*p != ',' && *p != '\0') {
		if ((p = posix_time(p, &off)) == NULL)
			return false;
		z->dst_off = -off;
	}
	if (*p == '\0') {
		/* No rule: the United States' rules, as tzcode assumes. */
		z->start = (struct rule){'M', 3, 2, 0, 7200};
		z->end = (struct rule){'M', 11, 1, 0, 7200};
	} else {
		if (*p++ != ',' || (p = posix_rule(p, &z->start)) == NULL ||
		    *p++ != ',' || (p = posix_rule(p, &z->end)) == NULL ||
		    *p != '\0')
			return false;
	}
	z->posix_dst = true;
	return true;
}

/* The day (days since 1970) a rule names in year y. */
static int64_t
rule_day(const struct rule *r, int64_t y)
{
	int64_t jan1 = sp_tz_days_from_civil(y, 1, 1), first;
	int day;

	switch (r->kind) {
	case 'J':
		/* Day 1..365, never counting 29 February. */
		return jan1 + r->d - 1 + (sp_tz_is_leap(y) && r->d >= 60);
	case 'N': return jan1 + r->d;
	default:
		first = sp_tz_days_from_civil(y, r->m, 1);
		day =
		    1 + (r->d - sp_tz_weekday(first) + 7) % 7 + (r->w - 1) * 7;
		while (day > sp_tz_days_in_month(y, r->m))
			day -= 7;
		return first + day - 1;
	}
}

/*
 * The footer's answer for instant t: the transitions of the years around t
 * (timelib looks at year-1 .. year+1), and the latest one at or before t.
 */
static int32_t
posix_offset(const struct sp_tz *z, int64_t t, int64_t *since)
{
	int64_t y, best = INT64_MIN, ts, te;
	int32_t off = z->std_off;
	int m, d, i;

	if (!z->posix_dst) {
		*since = z->ntrans > 0 ? z->trans[z->ntrans - 1] : INT64_MIN;
		return z->std_off;
	}
	sp_tz_civil_from_days(floordiv(t, 86400), &y, &m, &d);
	for (i = -1; i <= 1; i++) {
		ts = rule_day(&z->start, y + i) * 86400 + z->start.secs -
		    z->std_off;
		te =
		    rule_day(&z->end, y + i) * 86400 + z->end.secs - z->dst_off;
		if (ts <= t && ts > best) {
			best = ts;
			off = z->dst_off;
		}
		if (te <= t && te > best) {
			best = te;
			off = z->std_off;
		}
	}
	*since = best;
	return off;
}

/* --------------------------------------------------------------- TZif */

static int32_t
be32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static int64_t
be64(const uint8_t *p)
{
	return (
	    int64_t)((uint64_t)(uint32_t)be32(p) << 32 | (uint32_t)be32(p + 4));
}

/*
 * Parses a TZif file (RFC 8536) into z. The version 2+ block, with 64-bit
 * times, is used when present; leap second records are skipped.
 */
static bool
tzif_parse(struct sp_tz *z, const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len, *data;
	uint32_t cnt[6], isut, isstd, leap, timecnt, typecnt, charcnt;
	size_t tsz = 4, need, i;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		if ((size_t)(end - p) < 44 || memcmp(p, "TZif", 4) != 0)
			return false;
		for (i = 0; i < 6; i++)
			cnt[i] = (uint32_t)be32(p + 20 + 4 * i);
		isut = cnt[0], isstd = cnt[1], leap = cnt[2];
		timecnt = cnt[3], typecnt = cnt[4], charcnt = cnt[5];
		if (typecnt == 0 || typecnt > 256 || timecnt > 100000 ||
		    leap > 100000 || charcnt > 100000)
			return false;
		need = timecnt * tsz + timecnt + typecnt * 6 + charcnt +
		    leap * (tsz + 4) + isstd + isut;
		data = p + 44;
		if ((size_t)(end - data) < need)
			return false;
		if (pass == 0 && p[4] >= '2') {
			/* Skip the 32-bit block; read the 64-bit one. */
			p = data + need;
			tsz = 8;
			continue;
		}
		break;
	}
	z->ntrans = timecnt;
	z->trans = sp_xcalloc(timecnt, sizeof(*z->trans));
	z->trans_off = sp_xcalloc(timecnt, sizeof(*z->trans_off));
	for (i = 0; i < timecnt; i++) {
		const uint8_t *tp = data + i * tsz;
		uint8_t idx = data[timecnt * tsz + i];

		if (idx >= typecnt)
			return false;
		z->trans[i] = tsz == 8 ? be64(tp) : be32(tp);
		z->trans_off[i] =
		    be32(data + timecnt * tsz + timecnt + (size_t)idx * 6);
		if (i > 0 && z->trans[i] <= z->trans[i - 1])
			return false;
	}
	z->first_off = be32(data + timecnt * tsz + timecnt);
	z->posix = false;
	if (tsz == 8) {
		/* The footer: "\n" TZ-string "\n" after the data. */
		const uint8_t *f = data + need, *nl;
		char buf[128];

		if (f < end && *f == '\n' &&
		    (nl = memchr(f + 1, '\n', (size_t)(end - f - 1))) != NULL &&
		    nl > f + 1 && (size_t)(nl - f - 1) < sizeof(buf)) {
			memcpy(buf, f + 1, (size_t)(nl - f - 1));
			buf[nl - f - 1] = '\0';
			z->posix = posix_parse(z, buf);
		}
	}
	return true;
}

static bool
read_file(const char *path, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > (1 << 20)) {
		close(fd);
		return false;
	}
	buf = sp_xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*out = buf;
	*len = got;
	return true;
}

/*
 * Only names shaped like the tz database's may reach the file system:
 * letters, digits and "/_+-." in components that are not "." or "..". The
 * "posix/" and "right/" trees are aliases and leap-second variants that
 * timelib's database does not have; "localtime" and "posixrules" are the
 * system's configuration, not zones.
 */
static bool
olson_name_ok(const char *s, size_t len)
{
	size_t i, comp = 0;

	if (len == 0 || len > 255 || s[0] == '/' || s[len - 1] == '/')
		return false;
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '/') {
			if (comp == 0 ||
			    (comp <= 2 &&
				memcmp(s + i - comp, "..", comp) == 0))
				return false;
			comp = 0;
			continue;
		}
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
			s[i] == '-' || s[i] == '+' || s[i] == '.'))
			return false;
		comp++;
	}
	if ((len > 6 && memcmp(s, "posix/", 6) == 0) ||
	    (len > 6 && memcmp(s, "right/", 6) == 0))
		return false;
	if ((len == 9 && memcmp(s, "localtime", 9) == 0) ||
	    (len == 10 && memcmp(s, "posixrules", 10) == 0))
		return false;
	return true;
}

static void
load_olson(struct sp_tz *z)
{
	const char *dir = getenv("TZDIR");
	struct sp_buf path;
	uint8_t *data;
	size_t len;

	z->kind = TZ_UNKNOWN;
	if (!olson_name_ok(z->name, z->len))
		return;
	if (dir == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	sp_buf_init(&path);
	sp_buf_printf(&path, "%s/%s", dir, z->name);
	if (read_file(sp_buf_cstr(&path), &data, &len)) {
		if (tzif_parse(z, data, len))
			z->kind = TZ_OLSON;
		free(data);
	}
	sp_buf_release(&path);
	if (z->kind != TZ_OLSON) {
		free(z->trans);
		free(z->trans_off);
		z->trans = NULL;
		z->trans_off = NULL;
		z->ntrans = 0;
	}
}

/* MongoDB's parseUtcOffset: "+HH", "+HHMM" or "+HH:MM" (or '-'). */
static bool
parse_offset(const char *s, size_t len, int32_t *out)
{
	int sign, h, m = 0;

#define D(i) (s[i] >= '0' && s[i] <= '9')
#define V(i) (s[i] - '0')
	if (len < 3 || (s[0] != '+' && s[0] != '-'))
		return false;
	sign = s[0] == '+' ? 1 : -1;
	if (len == 3 && D(1) && D(2)) {
		h = V(1) * 10 + V(2);
	} else if (len == 5 && D(1) && D(2) && D(3) && D(4)) {
		h = V(1) * 10 + V(2);
		m = V(3) * 10 + V(4);
	} else if (len == 6 && D(1) && D(2) && s[3] == ':' && D(4) && D(5)) {
		h = V(1) * 10 + V(2);
		m = V(4) * 10 + V(5);
	} else {
		return false;
	}
#undef D
#undef V
	*out = sign * (h * 3600 + m * 60);
	return true;
}

static size_t
hash(const char *s, size_t len)
{
	size_t h = 5381, i;

	for (i = 0; i < len; i++)
		h = h * 33 + (unsigned char)s[i];
	return h % NBUCKETS;
}

/* ---------------------------------------------------------------- API */

const struct sp_tz *
sp_tz_utc(void)
{
	return &utc_zone;
}

const struct sp_tz *
sp_tz_find(const char *name, size_t len)
{
	struct sp_tz *z;
	size_t h;
	int32_t off;

	if (len == 3 && memcmp(name, "UTC", 3) == 0)
		return &utc_zone;
	if (memchr(name, '\0', len) != NULL)
		return NULL;
	h = hash(name, len);
	for (z = buckets[h]; z != NULL; z = z->next)
		if (z->len == len && memcmp(z->name, name, len) == 0)
			return z->kind == TZ_UNKNOWN ? NULL : z;
	z = sp_xcalloc(1, sizeof(*z));
	z->name = sp_xmalloc(len + 1);
	memcpy(z->name, name, len);
	z->name[len] = '\0';
	z->len = len;
	if (parse_offset(name, len, &off)) {
		/* "+00:00" is MongoDB's UTC zone in every respect. */
		z->kind = off == 0 ? TZ_UTC : TZ_OFFSET;
		z->fixed = off;
	} else {
		load_olson(z);
	}
	if (z->kind == TZ_UNKNOWN && nunknown >= MAX_UNKNOWN) {
		free(z->name);
		free(z);
		return NULL;
	}
	if (z->kind == TZ_UNKNOWN)
		nunknown++;
	z->next = buckets[h];
	buckets[h] = z;
	return z->kind == TZ_UNKNOWN ? NULL : z;
}

const char *
sp_tz_name(const struct sp_tz *z)
{
	return z->name;
}

bool
sp_tz_is_utc(const struct sp_tz *z)
{
	return z->kind == TZ_UTC;
}

bool
sp_tz_is_olson(const struct sp_tz *z)
{
	return z->kind == TZ_OLSON;
}

int32_t
sp_tz_offset(const struct sp_tz *z, int64_t t, int64_t *since)
{
	size_t lo, hi, mid;
	int64_t dummy;

	if (since == NULL)
		since = &dummy;
	*since = INT64_MIN;
	if (z->kind == TZ_UTC)
		return 0;
	if (z->kind == TZ_OFFSET)
		return z->fixed;
	if (z->ntrans == 0)
		return z->posix ? posix_offset(z, t, since) : z->first_off;
	if (t < z->trans[0])
		return z->first_off;
	if (t >= z->trans[z->ntrans - 1]) {
		if (z->posix)
			return posix_offset(z, t, since);
		*since = z->trans[z->ntrans - 1];
		return z->trans_off[z->ntrans - 1];
	}
	/* The last transition at or before t. */
	lo = 0;
	hi = z->ntrans - 1;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (z->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	*since = z->trans[lo];
	return z->trans_off[lo];
}

/*
 * timelib's do_adjust_timezone, which MongoDB uses for every wall-clock
 * time it turns into an instant: read the offset at the wall-clock value
 * taken as UTC ("before"), then at that value minus it ("after"). They
 * differ near a transition; in a gap the time moves forward by the gap,
 * and in an overlap the zone west of Greenwich gets the earlier (summer)
 * instant and the zone east of it the later one, exactly as timelib does.
 */
int64_t
sp_tz_from_local(const struct sp_tz *z, int64_t local)
{
	int64_t bsince, asince, shifted;
	int32_t before, after;
	bool in_transition;

	if (z->kind == TZ_UTC)
		return local;
	if (z->kind == TZ_OFFSET)
		return local - z->fixed;
	before = sp_tz_offset(z, local, &bsince);
	after = sp_tz_offset(z, local - before, &asince);
	shifted = local - after;
	in_transition = asince != INT64_MIN &&
	    shifted >= asince + (before - after) && shifted < asince;
	if (before != after && !in_transition)
		return local - after;
	return local - before;
}
