/*
 * domain - `facteur domain add|del|list [-c FILE] [NAME]`.
 *
 * add NAME   a new local domain (lower-cased; at most 50 characters)
 * del NAME   the domain with its users and aliases; Maildirs stay on disk
 * list       one domain per line
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/cli_dir.h"
#include "core/str.h"
#include "directory/dir.h"

#define DOMAIN_USAGE	"domain add|del|list [-c FILE] [NAME]"

/* domain_note_kept: say on stderr that the domain's Maildirs stay */
static void
domain_note_kept(const struct cli_args *a, const char *name,
    const char *what)
{
	char path[4096], lower[256];
	struct stat st;

	if (str_copy(lower, name, sizeof(lower)) >= sizeof(lower) ||
	    strchr(lower, '/') != NULL || strcmp(lower, "..") == 0)
		return;
	str_lower(lower);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", a->conf.mail_root,
	    lower) >= sizeof(path))
		return;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		fprintf(stderr, "facteur: %s: users and aliases removed; "
		    "Maildirs kept on disk under %s (delete them by hand)\n",
		    what, path);
}

int
cli_domain(int argc, char **argv)
{
	struct cli_args a;
	struct dir_list l;
	struct dir *d;
	const char *why = NULL;
	char what[512];
	int rc;

	rc = cli_args_parse(argc, argv, DOMAIN_USAGE, false, &a);
	if (rc != CLI_OK)
		return rc;
	if (!((strcmp(a.action, "add") == 0 && a.npos == 1) ||
	    (strcmp(a.action, "del") == 0 && a.npos == 1) ||
	    (strcmp(a.action, "list") == 0 && a.npos == 0))) {
		cli_args_free(&a);
		return cli_usage(DOMAIN_USAGE);
	}
	d = cli_dir_open(&a);
	if (d == NULL) {
		cli_args_free(&a);
		return CLI_ERR;
	}
	cli_what(&a, a.npos > 0 ? a.pos[0] : NULL, what, sizeof(what));
	rc = CLI_OK;
	if (strcmp(a.action, "add") == 0) {
		if (dir_domain_add(d, a.pos[0], NULL, &why) < 0)
			rc = cli_err(what, why);
	} else if (strcmp(a.action, "del") == 0) {
		if (dir_domain_del(d, a.pos[0], NULL, &why) < 0)
			rc = cli_err(what, why);
		else
			domain_note_kept(&a, a.pos[0], what);
	} else {
		if (dir_domain_list(d, &l, &why) < 0) {
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
