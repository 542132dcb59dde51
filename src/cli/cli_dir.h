/*
 * cli_dir - shared by the directory subcommands (db, domain, user, alias,
 * admin): argument parsing with "-c FILE", opening the directory, and
 * printing lists. Only src/cli/ includes this.
 *
 * Command line shape (both places for -c work):
 *   facteur GROUP [-c FILE] ACTION [-c FILE] [ARG...] [--quota SIZE]
 */
#ifndef CLI_CLI_DIR_H
#define CLI_CLI_DIR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/conf.h"
#include "core/err.h"
#include "directory/dir.h"

#define CLI_MAX_POS	4

struct cli_args {
	struct conf	 conf;
	bool		 conf_loaded;
	const char	*group;		/* "user" */
	const char	*action;	/* "add" */
	const char	*pos[CLI_MAX_POS];
	size_t		 npos;
	const char	*quota;		/* --quota value or NULL */
};

/*
 * cli_args_parse: fill a from argv (argv[0] = group). allow_quota:
 * accept --quota SIZE. Returns CLI_OK, CLI_USAGE (usage printed) or
 * CLI_ERR (config error printed). On CLI_OK the config is loaded and
 * must be released with cli_args_free.
 */
int cli_args_parse(int argc, char **argv, const char *usage,
    bool allow_quota, struct cli_args *a);
void cli_args_free(struct cli_args *a);
/* cli_usage: print "usage: facteur USAGE" to stderr; CLI_USAGE. */
int cli_usage(const char *usage);
/* cli_dir_open: dir_open with the loaded config; NULL after printing
 * the error. */
struct dir *cli_dir_open(struct cli_args *a);
/* cli_what: "GROUP ACTION[ ARG]" for error messages, into dst. */
const char *cli_what(const struct cli_args *a, const char *arg, char *dst,
    size_t dstlen);
/* cli_print_list: one row per line, columns separated by a tab;
 * control characters in values are written as \t, \n, \xHH. */
void cli_print_list(const struct dir_list *l);

#endif
