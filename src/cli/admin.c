/*
 * admin - `facteur admin add|del|list [-c FILE] [NAME]`: accounts of the
 * admin page. add reads the password from stdin and stores it as
 * {ARGON2ID}; list prints name and creation time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/scheme.h"
#include "cli/cli.h"
#include "cli/cli_dir.h"
#include "directory/dir.h"

#define ADMIN_USAGE	"admin add|del|list [-c FILE] [NAME]"

static int
admin_add(struct dir *d, const char *name, const char *what)
{
	const char *why = NULL;
	char *pw, *h;
	int rc = CLI_OK;

	pw = cli_read_password("Password: ");
	if (pw == NULL)
		return cli_err(what, "no password on stdin (one line, not "
		    "empty, no NUL byte, at most 4096 bytes)");
	h = pw_hash(NULL, pw, strlen(pw), &why);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	if (h == NULL)
		return cli_err(what, why != NULL ? why : "cannot hash");
	if (dir_admin_add(d, name, h, NULL, &why) < 0)
		rc = cli_err(what, why);
	free(h);
	return rc;
}

int
cli_admin(int argc, char **argv)
{
	struct cli_args a;
	struct dir_list l;
	struct dir *d;
	const char *why = NULL;
	char what[512];
	int rc;

	rc = cli_args_parse(argc, argv, ADMIN_USAGE, false, &a);
	if (rc != CLI_OK)
		return rc;
	if (!((strcmp(a.action, "add") == 0 && a.npos == 1) ||
	    (strcmp(a.action, "del") == 0 && a.npos == 1) ||
	    (strcmp(a.action, "list") == 0 && a.npos == 0))) {
		cli_args_free(&a);
		return cli_usage(ADMIN_USAGE);
	}
	d = cli_dir_open(&a);
	if (d == NULL) {
		cli_args_free(&a);
		return CLI_ERR;
	}
	cli_what(&a, a.npos > 0 ? a.pos[0] : NULL, what, sizeof(what));
	rc = CLI_OK;
	if (strcmp(a.action, "add") == 0) {
		rc = admin_add(d, a.pos[0], what);
	} else if (strcmp(a.action, "del") == 0) {
		if (dir_admin_del(d, a.pos[0], NULL, &why) < 0)
			rc = cli_err(what, why);
	} else {
		if (dir_admin_list(d, &l, &why) < 0) {
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
