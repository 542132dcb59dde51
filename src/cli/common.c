/*
 * common - helpers shared by the subcommands: config loading with -c,
 * error lines, reading a password from stdin, finding sql/; and for the
 * directory subcommands (cli_dir.h) argument parsing and list output.
 *
 * Input: the command line and stdin of an administrator (trusted, but
 * checked: bad usage exits 2, everything else prints one error line).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/cli_dir.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "directory/dir.h"

#define CLI_PASSWORD_MAX	4096
#define CLI_SHARE_SQL		"/usr/share/facteur/sql"

int
cli_err(const char *what, const char *why)
{
	fprintf(stderr, "facteur: %s: %s\n", what, why);
	return CLI_ERR;
}

int
cli_load_conf(int argc, char **argv, int *argi, struct conf *c,
    int allow_missing_default)
{
	char err[1024];
	const char *path;
	struct stat st;

	if (*argi < argc && strcmp(argv[*argi], "-c") == 0) {
		if (*argi + 1 >= argc) {
			fprintf(stderr, "facteur: -c: a file name must "
			    "follow\n");
			return -1;
		}
		path = argv[*argi + 1];
		*argi += 2;
	} else {
		path = conf_default_path();
		if (allow_missing_default && stat(path, &st) < 0 &&
		    errno == ENOENT) {
			conf_defaults(c);
			return 0;
		}
	}
	if (conf_load(c, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "facteur: %s\n", err);
		conf_free(c);
		return -1;
	}
	return 0;
}

char *
cli_read_password(const char *prompt)
{
	struct termios old, noecho;
	char *line;
	size_t n = 0;
	int ch = EOF, tty;

	tty = isatty(STDIN_FILENO);
	if (tty && tcgetattr(STDIN_FILENO, &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		if (prompt != NULL)
			fprintf(stderr, "%s", prompt);
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
	} else {
		tty = 0;
	}
	line = xmalloc(CLI_PASSWORD_MAX + 1);
	for (;;) {
		ch = getchar();
		if (ch == EOF || ch == '\n')
			break;
		if (ch == '\0' || n >= CLI_PASSWORD_MAX) {
			n = 0;	/* refuse: NUL byte or too long */
			while (ch != EOF && ch != '\n')
				ch = getchar();
			break;
		}
		line[n++] = (char)ch;
	}
	if (tty) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	if (n == 0) {
		free(line);
		return NULL;
	}
	return line;
}

static int
cli_has_schema(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/schema.sql", dir) >=
	    sizeof(path))
		return 0;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

const char *
cli_sqldir(void)
{
	/* computed once per process, in the single-threaded CLI */
	static char found[PATH_MAX];
	char exe[PATH_MAX], cand[PATH_MAX], *slash;
	const char *env = getenv("FACTEUR_SQLDIR");
	static const char *const rel[] = { "../sql", "sql", "../../sql",
	    "../share/facteur/sql" };
	ssize_t n;
	size_t i;

	if (env != NULL && *env != '\0')
		return env;
	if (found[0] != '\0')
		return found;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash != NULL)
			*slash = '\0';
		for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			if ((size_t)snprintf(cand, sizeof(cand), "%s/%s", exe,
			    rel[i]) >= sizeof(cand))
				continue;
			if (cli_has_schema(cand)) {
				if (realpath(cand, found) == NULL)
					str_copy(found, cand, sizeof(found));
				return found;
			}
		}
	}
	str_copy(found, CLI_SHARE_SQL, sizeof(found));
	return found;
}

/* --- cli_dir.h --- */

int
cli_usage(const char *usage)
{
	fprintf(stderr, "usage: facteur %s\n", usage);
	return CLI_USAGE;
}

int
cli_args_parse(int argc, char **argv, const char *usage, bool allow_quota,
    struct cli_args *a)
{
	int i = 1;

	memset(a, 0, sizeof(*a));
	a->group = argv[0];
	if (i < argc && strcmp(argv[i], "-c") == 0) {
		if (cli_load_conf(argc, argv, &i, &a->conf, 0) < 0)
			return i + 1 >= argc ? cli_usage(usage) : CLI_ERR;
		a->conf_loaded = true;
	}
	if (i >= argc || argv[i][0] == '-') {
		if (i < argc && (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)) {
			cli_args_free(a);
			fprintf(stdout, "usage: facteur %s\n", usage);
			return CLI_USAGE;
		}
		cli_args_free(a);
		return cli_usage(usage);
	}
	a->action = argv[i++];
	if (i < argc && strcmp(argv[i], "-c") == 0) {
		if (a->conf_loaded) {
			cli_args_free(a);
			return cli_usage(usage);
		}
		if (i + 1 >= argc)
			return cli_usage(usage);
		if (cli_load_conf(argc, argv, &i, &a->conf, 0) < 0)
			return CLI_ERR;
		a->conf_loaded = true;
	}
	for (; i < argc; i++) {
		if (allow_quota && strcmp(argv[i], "--quota") == 0) {
			if (i + 1 >= argc || a->quota != NULL) {
				cli_args_free(a);
				return cli_usage(usage);
			}
			a->quota = argv[++i];
			continue;
		}
		if (allow_quota && strncmp(argv[i], "--quota=", 8) == 0 &&
		    a->quota == NULL) {
			a->quota = argv[i] + 8;
			continue;
		}
		if (strcmp(argv[i], "--") == 0) {
			i++;
			for (; i < argc; i++) {
				if (a->npos == CLI_MAX_POS) {
					cli_args_free(a);
					return cli_usage(usage);
				}
				a->pos[a->npos++] = argv[i];
			}
			break;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "facteur: %s: unknown option %s\n",
			    a->group, argv[i]);
			cli_args_free(a);
			return cli_usage(usage);
		}
		if (a->npos == CLI_MAX_POS) {
			cli_args_free(a);
			return cli_usage(usage);
		}
		a->pos[a->npos++] = argv[i];
	}
	if (!a->conf_loaded) {
		int j = 0;

		if (cli_load_conf(0, NULL, &j, &a->conf, 0) < 0)
			return CLI_ERR;
		a->conf_loaded = true;
	}
	/* the CLI reports errors itself; keep library warnings quiet */
	log_set_level(LOG_ERROR);
	return CLI_OK;
}

void
cli_args_free(struct cli_args *a)
{
	if (a->conf_loaded)
		conf_free(&a->conf);
	a->conf_loaded = false;
}

struct dir *
cli_dir_open(struct cli_args *a)
{
	const char *why = NULL;
	struct dir *d;

	d = dir_open(&a->conf, &why);
	if (d == NULL)
		(void)cli_err("db_password_file", why != NULL ? why :
		    "cannot be read");
	return d;
}

const char *
cli_what(const struct cli_args *a, const char *arg, char *dst, size_t dstlen)
{
	if (arg != NULL)
		snprintf(dst, dstlen, "%s %s %s", a->group, a->action, arg);
	else
		snprintf(dst, dstlen, "%s %s", a->group, a->action);
	return dst;
}

static void
cli_put_value(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
}

void
cli_print_list(const struct dir_list *l)
{
	size_t r, c;

	for (r = 0; r < l->nrows; r++) {
		for (c = 0; c < l->ncols; c++) {
			if (c > 0)
				putchar('\t');
			cli_put_value(l->rows[r * l->ncols + c]);
		}
		putchar('\n');
	}
}
