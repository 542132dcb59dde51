/*
 * hash - `facteur hash [-c FILE] [--scheme S]`: read one password line on
 * stdin (no echo on a terminal), print "{SCHEME}hash" for the directory.
 *
 * The line ends at LF (a CR before it is dropped); an empty line, a NUL
 * byte or a line longer than HASH_LINE_MAX is refused. The password is
 * wiped from memory before exit. -c FILE is accepted for symmetry with
 * the other subcommands; hashing needs no configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth/scheme.h"
#include "cli/hash.h"

#define HASH_LINE_MAX	4096

static int
hash_usage(void)
{
	fprintf(stderr, "usage: facteur hash [-c FILE] [--scheme SCHEME]\n"
	    "  reads a password on stdin, prints {SCHEME}hash\n"
	    "  schemes: ARGON2ID (default), ARGON2I, SHA512-CRYPT, "
	    "SHA256-CRYPT,\n"
	    "           BLF-CRYPT, SSHA512, SSHA256, PLAIN\n");
	return 2;
}

static int
hash_fail(const char *why)
{
	fprintf(stderr, "facteur: hash: %s\n", why);
	return 1;
}

/*
 * hash_read_line: one line from fp into buf (HASH_LINE_MAX + 1 bytes).
 * Returns its length without the line end, or -1 with *why_r set.
 */
static long
hash_read_line(FILE *fp, char *buf, const char **why_r)
{
	size_t n = 0;
	int c;

	for (;;) {
		c = getc(fp);
		if (c == EOF || c == '\n')
			break;
		if (c == '\0') {
			*why_r = "password holds a NUL byte";
			return -1;
		}
		if (n >= HASH_LINE_MAX) {
			*why_r = "password too long";
			return -1;
		}
		buf[n++] = (char)c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (n == 0) {
		*why_r = c == EOF && ferror(fp) ? "cannot read stdin" :
		    "empty password";
		return -1;
	}
	return (long)n;
}

int
cli_hash(int argc, char **argv)
{
	char line[HASH_LINE_MAX + 1];
	const char *scheme = NULL, *why = NULL;
	struct termios old, noecho;
	int i = 1, tty, ret;
	char *out;
	long n;

	if (i < argc && strcmp(argv[i], "-c") == 0) {
		if (i + 1 >= argc)
			return hash_usage();
		i += 2;
	}
	for (; i < argc; i++) {
		if ((strcmp(argv[i], "--scheme") == 0 ||
		    strcmp(argv[i], "-s") == 0) && i + 1 < argc)
			scheme = argv[++i];
		else if (strncmp(argv[i], "--scheme=", 9) == 0)
			scheme = argv[i] + 9;
		else
			return hash_usage();
	}
	if (scheme != NULL && !pw_hash_supported(scheme)) {
		fprintf(stderr, "facteur: hash: %s: unknown scheme or not "
		    "usable for new hashes\n", scheme);
		return hash_usage();
	}

	tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		fputs("Password: ", stderr);
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
	}
	n = hash_read_line(stdin, line, &why);
	if (tty) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n < 0) {
		explicit_bzero(line, sizeof(line));
		return hash_fail(why);
	}

	out = pw_hash(scheme, line, (size_t)n, &why);
	explicit_bzero(line, sizeof(line));
	if (out == NULL)
		return hash_fail(why);
	ret = 0;
	if (printf("%s\n", out) < 0 || fflush(stdout) != 0)
		ret = hash_fail("cannot write stdout");
	explicit_bzero(out, strlen(out));
	free(out);
	return ret;
}
