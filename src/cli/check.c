/*
 * check - `facteur check [-c FILE]`: config, TLS key and certificate,
 * database, directories, whether postmaster reaches someone. Prints one
 * "ok"/"warn"/"FAIL" line per item and exits 0 when everything is
 * usable (warnings included), 1 otherwise.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/conf.h"
#include "directory/dir.h"
#include "net/tls.h"

static int
check_dir(const char *what, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT) {
			printf("ok    %s %s (will be created at start)\n", what,
			    path);
			return 0;
		}
		printf("FAIL  %s %s: %s\n", what, path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		printf("FAIL  %s %s: not a directory\n", what, path);
		return -1;
	}
	printf("ok    %s %s\n", what, path);
	return 0;
}

/*
 * RFC 5321 4.5.1: postmaster must reach someone. The SMTP server sends
 * <postmaster> and postmaster@ any local domain nobody has to postmaster
 * at the hostname or its nearest local parent domain; warn (not fail)
 * when that address reaches nobody. 0, or -1 on a database error.
 */
static int
check_postmaster(struct dir *d, const char *hostname)
{
	struct dir_dest *dests = NULL;
	const char *dom = hostname, *err = NULL;
	char addr[DIR_ADDR_MAX + 1];
	size_t n = 0;
	int r;

	for (;;) {
		r = dir_domain_is_local(d, dom);
		if (r < 0)
			return -1;
		if (r == 1)
			break;
		dom = strchr(dom, '.');
		if (dom == NULL || strchr(dom + 1, '.') == NULL) {
			printf("warn  postmaster: neither %s nor a parent "
			    "domain of it is a local domain: mail to "
			    "<postmaster> is refused (RFC 5321 4.5.1)\n",
			    hostname);
			return 0;
		}
		dom++;
	}
	snprintf(addr, sizeof(addr), "postmaster@%s", dom);
	r = dir_resolve(d, addr, &dests, &n, &err);
	free(dests);
	if (r < 0)
		return -1;
	if (r == 0)
		printf("warn  postmaster %s reaches nobody: add it with "
		    "`facteur alias add %s YOU@%s` (RFC 5321 4.5.1)\n", addr,
		    addr, dom);
	else
		printf("ok    postmaster %s\n", addr);
	return 0;
}

int
cli_check(int argc, char **argv)
{
	struct conf c;
	struct tls_ctx *t;
	struct dir *d;
	const char *err = NULL;
	int argi = 1, bad = 0;

	if (cli_load_conf(argc, argv, &argi, &c, 0) < 0)
		return CLI_ERR;
	if (argi != argc) {
		fprintf(stderr, "usage: facteur check [-c FILE]\n");
		return CLI_USAGE;
	}
	printf("ok    config %s\n", c.path);
	tls_init();
	t = tls_server_new(c.tls_cert, c.tls_key, c.tls_min_version, &err);
	if (t == NULL) {
		printf("FAIL  tls %s: %s\n", c.tls_cert, err);
		bad = 1;
	} else {
		printf("ok    tls %s\n", c.tls_cert);
		tls_ctx_free(&t);
	}
	if (geteuid() == 0 && getpwnam(c.run_user) == NULL) {
		printf("FAIL  run_user %s: no such user\n", c.run_user);
		bad = 1;
	} else {
		printf("ok    run_user %s\n", c.run_user);
	}
	if (check_dir("mail_root", c.mail_root) < 0)
		bad = 1;
	if (check_dir("queue_dir", c.queue_dir) < 0)
		bad = 1;
	d = dir_open(&c, &err);
	if (d == NULL) {
		printf("FAIL  database: %s\n", err);
		bad = 1;
	} else if (dir_ping(d, &err) < 0) {
		printf("FAIL  database %s: %s\n", c.db_name, err);
		bad = 1;
	} else {
		printf("ok    database %s\n", c.db_name);
		if (check_postmaster(d, c.hostname) < 0) {
			printf("FAIL  database %s: lookup failed\n", c.db_name);
			bad = 1;
		}
	}
	if (d != NULL)
		dir_close(&d);
	conf_free(&c);
	return bad ? CLI_ERR : CLI_OK;
}
