/*
 * db - `facteur db init [-c FILE]`: create or upgrade the schema from
 * sql/ (cli_sqldir): ISPmail's tables when missing, then facteur's
 * migrations not yet applied. Idempotent; on an existing ISPmail
 * database it adds only facteur's tables. Creates the database itself
 * when it does not exist and the configured user may.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_dir.h"
#include "directory/dir.h"

#define DB_USAGE	"db init [-c FILE]"

int
cli_db(int argc, char **argv)
{
	struct cli_args a;
	struct dir *d;
	const char *why = NULL;
	int rc;

	rc = cli_args_parse(argc, argv, DB_USAGE, false, &a);
	if (rc != CLI_OK)
		return rc;
	if (strcmp(a.action, "init") != 0 || a.npos != 0) {
		cli_args_free(&a);
		return cli_usage(DB_USAGE);
	}
	d = cli_dir_open(&a);
	if (d == NULL) {
		cli_args_free(&a);
		return CLI_ERR;
	}
	rc = CLI_OK;
	if (dir_schema_init(d, cli_sqldir(), &why) < 0)
		rc = cli_err("db init", why != NULL ? why : "failed");
	dir_close(&d);
	cli_args_free(&a);
	return rc;
}
