/*
 * alias - `facteur alias add|del|list [-c FILE] [SOURCE [DEST]]`.
 *
 * add SOURCE DEST   SOURCE is user@domain or the catch-all @domain of a
 *                   local domain; DEST any address (one per row: several
 *                   rows with one SOURCE fan out)
 * del SOURCE [DEST] one row, or every row of SOURCE
 * list [SOURCE]     source and destination per line; SOURCE may also be
 *                   a domain name (every alias of that domain)
 * resolve ADDRESS   diagnostic, like `postmap -q`: where mail to ADDRESS
 *                   goes after alias expansion, one "address<TAB>local"
 *                   or "address<TAB>remote" per line; exit 1 when it
 *                   reaches nobody
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/cli_dir.h"
#include "directory/dir.h"

#define ALIAS_USAGE	"alias add|del|list|resolve [-c FILE] SOURCE [DEST]"

static int
alias_resolve(struct dir *d, const char *addr, const char *what)
{
	struct dir_dest *dests;
	const char *why = NULL;
	size_t n, i;
	int rc;

	rc = dir_resolve(d, addr, &dests, &n, &why);
	if (rc < 0)
		return cli_err(what, why != NULL ? why : "failed");
	if (rc == 0)
		return cli_err(what, "reaches nobody (550 5.1.1 if local)");
	for (i = 0; i < n; i++)
		printf("%s\t%s\n", dests[i].addr,
		    dests[i].local ? "local" : "remote");
	free(dests);
	return CLI_OK;
}

/*
 * alias_hint: after adding SOURCE -> DEST where SOURCE is a mailbox,
 * say (on stderr) that its mail now goes only to the alias rows, as in
 * Postfix, unless a row SOURCE -> SOURCE keeps a copy.
 */
static void
alias_hint(struct dir *d, const char *source, const char *what)
{
	struct dir_user u;
	struct dir_list l;
	const char *why = NULL;
	size_t i;
	int self = 0;

	if (dir_user_lookup(d, source, &u) != 1)
		return;
	if (dir_alias_list(d, u.email, &l, &why) < 0)
		return;
	for (i = 0; i < l.nrows; i++)
		if (strcasecmp(l.rows[i * l.ncols + 1], u.email) == 0)
			self = 1;
	dir_list_free(&l);
	if (!self)
		fprintf(stderr, "facteur: %s: note: %s is a mailbox; its mail "
		    "now goes to its aliases only (`facteur alias add %s %s` "
		    "keeps a copy)\n", what, u.email, u.email, u.email);
}

int
cli_alias(int argc, char **argv)
{
	struct cli_args a;
	struct dir_list l;
	struct dir *d;
	const char *why = NULL;
	char what[512];
	int rc;

	rc = cli_args_parse(argc, argv, ALIAS_USAGE, false, &a);
	if (rc != CLI_OK)
		return rc;
	if (!((strcmp(a.action, "add") == 0 && a.npos == 2) ||
	    (strcmp(a.action, "del") == 0 && (a.npos == 1 || a.npos == 2)) ||
	    (strcmp(a.action, "list") == 0 && a.npos <= 1) ||
	    (strcmp(a.action, "resolve") == 0 && a.npos == 1))) {
		cli_args_free(&a);
		return cli_usage(ALIAS_USAGE);
	}
	d = cli_dir_open(&a);
	if (d == NULL) {
		cli_args_free(&a);
		return CLI_ERR;
	}
	cli_what(&a, a.npos > 0 ? a.pos[0] : NULL, what, sizeof(what));
	rc = CLI_OK;
	if (strcmp(a.action, "add") == 0) {
		if (dir_alias_add(d, a.pos[0], a.pos[1], NULL, &why) < 0)
			rc = cli_err(what, why);
		else
			alias_hint(d, a.pos[0], what);
	} else if (strcmp(a.action, "del") == 0) {
		if (dir_alias_del(d, a.pos[0], a.npos == 2 ? a.pos[1] : NULL,
		    NULL, &why) < 0)
			rc = cli_err(what, why);
	} else if (strcmp(a.action, "resolve") == 0) {
		rc = alias_resolve(d, a.pos[0], what);
	} else {
		if (dir_alias_list(d, a.npos == 1 ? a.pos[0] : NULL, &l,
		    &why) < 0) {
			rc = cli_err(what, why);
		} else {
			cli_print_list(&l);
			dir_list_free(&l);
		}
	}
	dir_close(&d);
	cli_args_free(&a);
	return rc;
}
