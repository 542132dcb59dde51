/*
 * strnum - strict number parsing. See strnum.h.
 */
#include <string.h>

#include "core/strnum.h"

int
str_to_u64n(const char *s, size_t n, uint64_t *r)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*r = v;
	return 0;
}

int
str_to_u64(const char *s, uint64_t *r)
{
	return str_to_u64n(s, strlen(s), r);
}

int
str_to_u32n(const char *s, size_t n, uint32_t *r)
{
	uint64_t v;

	if (str_to_u64n(s, n, &v) < 0 || v > UINT32_MAX)
		return -1;
	*r = (uint32_t)v;
	return 0;
}

int
str_to_u32(const char *s, uint32_t *r)
{
	return str_to_u32n(s, strlen(s), r);
}

static int
str_to_scaled(const char *s, uint64_t *r, const char *units,
    const uint64_t *mult)
{
	size_t n = strlen(s);
	uint64_t v, m = 1;
	const char *u;

	if (n == 0)
		return -1;
	if (s[n - 1] < '0' || s[n - 1] > '9') {
		char c = s[n - 1];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		u = strchr(units, c);
		if (u == NULL || c == '\0')
			return -1;
		m = mult[u - units];
		n--;
	}
	if (str_to_u64n(s, n, &v) < 0)
		return -1;
	if (m != 0 && v > UINT64_MAX / m)
		return -1;
	*r = v * m;
	return 0;
}

int
str_to_size(const char *s, uint64_t *r)
{
	static const uint64_t mult[] = { 1, 1024, 1024 * 1024,
	    1024ULL * 1024 * 1024, 1024ULL * 1024 * 1024 * 1024 };

	return str_to_scaled(s, r, "bkmgt", mult);
}

int
str_to_duration(const char *s, uint64_t *secs_r)
{
	static const uint64_t mult[] = { 1, 60, 3600, 86400, 7 * 86400 };

	return str_to_scaled(s, secs_r, "smhdw", mult);
}
