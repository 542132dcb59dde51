/*
 * psl - public suffix list lookups. The list is trusted (a Debian
 * package file) but still read with bounds: lines over 255 bytes and
 * more than PSL_MAX_RULES rules are ignored. Rules live in one sorted
 * array searched with bsearch; the list is immutable once loaded.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "mailauth/psl.h"

#define PSL_MAX_RULES	100000

static char	**psl_rules;
static size_t	  psl_nrules;
static pthread_once_t psl_once = PTHREAD_ONCE_INIT;

static int
psl_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
psl_free_rules(char **rules, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(rules[i]);
	free(rules);
}

int
psl_load(const char *path)
{
	char line[512], **rules = NULL;
	size_t n = 0, cap = 0, k;
	FILE *fp;

	if (path == NULL)
		path = PSL_DEFAULT_PATH;
	fp = fopen(path, "re");
	if (fp == NULL) {
		log_warn("mailauth psl open path=\"%s\" failed: DMARC uses "
		    "the last two labels as organizational domain", path);
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *p = line;

		if (strchr(line, '\n') == NULL && !feof(fp)) {
			int ch;

			while ((ch = fgetc(fp)) != EOF && ch != '\n')
				;
			continue;	/* overlong: skip */
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (p[0] == '\0' || p[0] == '\n' || (p[0] == '/' &&
		    p[1] == '/'))
			continue;
		k = strcspn(p, " \t\r\n");
		p[k] = '\0';
		if (k == 0 || n >= PSL_MAX_RULES)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 4096 : cap * 2;
			rules = xreallocarray(rules, cap, sizeof(*rules));
		}
		rules[n++] = str_lower(xstrdup(p));
	}
	fclose(fp);
	qsort(rules, n, sizeof(*rules), psl_cmp);
	psl_free_rules(psl_rules, psl_nrules);
	psl_rules = rules;
	psl_nrules = n;
	return 0;
}

static void
psl_load_default(void)
{
	if (psl_rules == NULL)
		(void)psl_load(NULL);
}

static bool
psl_has(const char *rule)
{
	if (psl_nrules == 0)
		return false;
	return bsearch(&rule, psl_rules, psl_nrules, sizeof(*psl_rules),
	    psl_cmp) != NULL;
}

int
psl_org_domain(const char *domain, char *out, size_t outlen)
{
	char d[256], cand[258];
	const char *labels[128];
	size_t n = 0, i, len, suffix = 1;	/* labels in the suffix */
	char *p;

	(void)pthread_once(&psl_once, psl_load_default);
	len = strlen(domain);
	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0 || len >= sizeof(d))
		return -1;
	memcpy(d, domain, len);
	d[len] = '\0';
	str_lower(d);
	p = d;
	for (;;) {
		if (n >= sizeof(labels) / sizeof(labels[0]))
			return -1;
		labels[n++] = p;
		p = strchr(p, '.');
		if (p == NULL)
			break;
		p++;
	}
	/* the leftmost (longest) match wins; exceptions beat the rest */
	for (i = 0; i < n; i++) {
		snprintf(cand, sizeof(cand), "!%s", labels[i]);
		if (psl_has(cand)) {
			suffix = n - i - 1;
			break;
		}
		if (psl_has(labels[i])) {
			suffix = n - i;
			break;
		}
		if (i + 1 < n) {
			snprintf(cand, sizeof(cand), "*.%s", labels[i + 1]);
			if (psl_has(cand)) {
				suffix = n - i;
				break;
			}
		}
	}
	if (suffix >= n)
		str_copy(out, d, outlen);	/* a public suffix itself */
	else
		str_copy(out, labels[n - suffix - 1], outlen);
	return strlen(out) < outlen ? 0 : -1;
}
