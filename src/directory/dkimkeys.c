/*
 * dkimkeys - signing keys per domain, newest of each algorithm (see
 * dkimkeys.h). Input: a domain from a message (untrusted: normalized,
 * bound as a parameter). At most DKIMKEYS_ROWS rows are read.
 */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "directory/dir.h"
#include "directory/dir_int.h"
#include "directory/dkimkeys.h"

#define DKIMKEYS_ROWS	16

static const char SQL_DKIM_SIGNING[] =
    "SELECT domain, selector, algorithm, private_key FROM "
    "facteur_dkim_keys WHERE domain = ? ORDER BY created DESC, id DESC "
    "LIMIT 16";

int
dir_dkim_signing_keys(struct dir *d, const char *domain,
    struct dir_dkim_key *keys, size_t max, size_t *n_r)
{
	char dom[DIR_ADDR_MAX + 1];
	struct dir_list l;
	struct db_val p[1];
	const char *why;
	size_t i, j;

	*n_r = 0;
	if (dir_norm_lookup(domain, dom, sizeof(dom)) < 0)
		return 0;
	p[0] = DB_S(dom);
	if (db_query(d, SQL_DKIM_SIGNING, p, 1, &l, NULL, NULL, &why) < 0) {
		log_warn("dir dkim signing keys lookup failed: %s", why);
		return -1;
	}
	for (i = 0; i < l.nrows && i < DKIMKEYS_ROWS && *n_r < max; i++) {
		char **row = l.rows + i * l.ncols;
		struct dir_dkim_key *k = &keys[*n_r];

		for (j = 0; j < *n_r; j++)
			if (strcmp(keys[j].algorithm, row[2]) == 0)
				break;
		if (j < *n_r)
			continue;	/* an older key of that algorithm */
		memset(k, 0, sizeof(*k));
		str_copy(k->domain, row[0], sizeof(k->domain));
		str_copy(k->selector, row[1], sizeof(k->selector));
		str_copy(k->algorithm, row[2], sizeof(k->algorithm));
		/* hand the PEM over without a copy */
		k->private_key = row[3];
		row[3] = xstrdup("");
		(*n_r)++;
	}
	dir_list_free(&l);
	return *n_r > 0 ? 1 : 0;
}
