/*
 * timeutil - clocks and date formats. See timeutil.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/timeutil.h"

static const char *const tu_days[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const tu_months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

uint64_t
time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
tu_zone(const struct tm *tm, char *sign, int *hh, int *mm)
{
	long off = tm->tm_gmtoff;

	*sign = off < 0 ? '-' : '+';
	off = labs(off);
	*hh = (int)(off / 3600);
	*mm = (int)(off % 3600 / 60);
}

void
time_fmt_rfc5322(char dst[64], time_t t)
{
	struct tm tm;
	char sign;
	int hh, mm;

	localtime_r(&t, &tm);
	tu_zone(&tm, &sign, &hh, &mm);
	snprintf(dst, 64, "%s, %d %s %04d %02d:%02d:%02d %c%02d%02d",
	    tu_days[tm.tm_wday], tm.tm_mday, tu_months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    sign, hh, mm);
}

void
time_fmt_imap(char dst[64], time_t t)
{
	struct tm tm;
	char sign;
	int hh, mm;

	localtime_r(&t, &tm);
	tu_zone(&tm, &sign, &hh, &mm);
	snprintf(dst, 64, "%02d-%s-%04d %02d:%02d:%02d %c%02d%02d",
	    tm.tm_mday, tu_months[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, sign, hh, mm);
}
