/*
 * cli - the facteur subcommands. main.c dispatches argv[1] to one of
 * these; each gets argc/argv with argv[0] = the subcommand name and
 * returns the exit status: 0 success, 1 a clear error printed to stderr
 * as "facteur: <what>: <why>", 2 usage error.
 *
 * Every subcommand takes "-c FILE" right after its name; without it
 * FACTEUR_CONF or /etc/facteur/facteur.conf (cli_load_conf handles it).
 */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include "core/conf.h"

#define CLI_OK		0
#define CLI_ERR		1
#define CLI_USAGE	2

/*
 * cli_load_conf: if argv[*argi] is "-c" take the next argument as the
 * file (advancing *argi past both), else the default path; load it into
 * c. Returns 0, or prints "facteur: FILE:LINE: why" and returns -1.
 * When the default file is missing, defaults are used only if
 * allow_missing_default (for `facteur hash`, `version`).
 */
int cli_load_conf(int argc, char **argv, int *argi, struct conf *c,
    int allow_missing_default);
/* cli_err: print "facteur: <what>: <why>\n" to stderr; returns CLI_ERR. */
int cli_err(const char *what, const char *why);
/* cli_read_password: one line from stdin without its line end (no echo
 * when stdin is a terminal). Returns malloc'ed string or NULL (empty/EOF).
 */
char *cli_read_password(const char *prompt);
/* cli_sqldir: where sql/ lives: $FACTEUR_SQLDIR, else next to the binary
 * (../sql or ./sql for a build tree), else /usr/share/facteur/sql. */
const char *cli_sqldir(void);

int cli_serve(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_db(int argc, char **argv);
int cli_domain(int argc, char **argv);
int cli_user(int argc, char **argv);
int cli_alias(int argc, char **argv);
int cli_admin(int argc, char **argv);
int cli_queue(int argc, char **argv);
int cli_hash(int argc, char **argv);
int cli_dkim(int argc, char **argv);

#endif
