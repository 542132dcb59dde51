/*
 * date - IMAP dates: "1-Feb-1994" (SEARCH, RFC 3501 date) and
 * "01-Feb-1994 21:43:05 +0100" (APPEND, date-time). Strict, untrusted.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/str.h"
#include "imap/imap_int.h"

static const char *const months[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

static int
digits(const char *s, size_t n, int *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* days_from_civil: days since 1970-01-01 (Howard Hinnant's algorithm). */
static long long
days_from_civil(int y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* parse_date: "d-Mon-yyyy" or "dd-Mon-yyyy" at s; *len_r consumed. */
static int
parse_date(const char *s, int *y, int *m, int *d, size_t *len_r)
{
	size_t i = 0;
	int k;

	if (s[0] == ' ')
		i = 1;
	if (s[i] < '0' || s[i] > '9')
		return -1;
	*d = s[i++] - '0';
	if (s[i] >= '0' && s[i] <= '9')
		*d = *d * 10 + (s[i++] - '0');
	if (s[i++] != '-')
		return -1;
	for (k = 0; k < 12; k++)
		if (str_ieqn(s + i, months[k], 3))
			break;
	if (k == 12)
		return -1;
	*m = k + 1;
	i += 3;
	if (s[i++] != '-')
		return -1;
	if (digits(s + i, 4, y) < 0)
		return -1;
	i += 4;
	if (*d < 1 || *d > 31 || *y < 1900)
		return -1;
	*len_r = i;
	return 0;
}

int
imap_date_parse(const char *s, time_t *t_r)
{
	int y, m, d;
	size_t len;

	if (parse_date(s, &y, &m, &d, &len) < 0 || s[len] != '\0')
		return -1;
	*t_r = (time_t)(days_from_civil(y, m, d) * 86400LL);
	return 0;
}

int
imap_datetime_parse(const char *s, time_t *t_r)
{
	int y, m, d, hh, mm, ss, zh, zm;
	size_t len;
	long long t;

	if (parse_date(s, &y, &m, &d, &len) < 0)
		return -1;
	s += len;
	if (strlen(s) != 15 || s[0] != ' ' || s[3] != ':' || s[6] != ':' ||
	    s[9] != ' ' || (s[10] != '+' && s[10] != '-'))
		return -1;
	if (digits(s + 1, 2, &hh) < 0 || digits(s + 4, 2, &mm) < 0 ||
	    digits(s + 7, 2, &ss) < 0 || digits(s + 11, 2, &zh) < 0 ||
	    digits(s + 13, 2, &zm) < 0)
		return -1;
	if (hh > 23 || mm > 59 || ss > 60 || zm > 59)
		return -1;
	t = days_from_civil(y, m, d) * 86400LL + hh * 3600 + mm * 60 + ss;
	if (s[10] == '+')
		t -= zh * 3600 + zm * 60;
	else
		t += zh * 3600 + zm * 60;
	*t_r = (time_t)t;
	return 0;
}
