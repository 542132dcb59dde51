/*
 * dkim - `facteur dkim ...`: DKIM signing keys in the directory, and
 * diagnostics that run the same code as the server.
 *
 *   generate DOMAIN [--selector S] [--algorithm rsa|ed25519]
 *            make a key (RSA 2048 by default), store it in
 *            facteur_dkim_keys, print the DNS TXT record to publish
 *   show DOMAIN [--selector S]   the TXT record of the newest key again
 *   list                         domain, selector, algorithm, created
 *   del DOMAIN --selector S
 *
 * Diagnostics (documented in docs/mailauth.md, not in the usage line):
 *   sign DOMAIN [--selector S] < msg   print msg with DKIM-Signatures
 *                                      (the newest key of each algorithm,
 *                                      as the server, or the selector)
 *   verify < msg                       one line per signature; exit 0
 *                                      when one passes, 1 otherwise
 *   check IP HELO MAILFROM < msg       the verdict of the port 25
 *                                      check, then the message as the
 *                                      server would store it
 * DNS goes to dns_server of the configuration, as in the server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/cli_dir.h"
#include "core/buf.h"
#include "core/str.h"
#include "directory/dir.h"
#include "directory/dkimkeys.h"
#include "mailauth/dkim.h"
#include "mailauth/mailauth.h"
#include "mailauth/psl.h"
#include "net/dns.h"

#define DKIM_USAGE "dkim generate|show|list|del [-c FILE] [DOMAIN] " \
    "[--selector S] [--algorithm rsa|ed25519]"
#define DKIM_ARGV_MAX	32

/* Read all of stdin (at most max bytes). 0 or -1. */
static int
dkim_read_stdin(struct buf *b)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (buf_append(b, chunk, n) < 0)
			return -1;
	return ferror(stdin) ? -1 : 0;
}

/* Print a TXT value as a zone file line, split in 255-byte strings. */
static void
dkim_print_record(const char *selector, const char *domain, const char *txt)
{
	size_t n = strlen(txt), i;

	printf("%s._domainkey.%s. IN TXT (", selector, domain);
	for (i = 0; i < n; i += 255)
		printf(" \"%.*s\"", (int)(n - i > 255 ? 255 : n - i), txt + i);
	printf(" )\n");
}

static int
dkim_generate(struct cli_args *a, struct dir *d, const char *selector,
    const char *algorithm)
{
	enum dkim_keytype type;
	struct buf pem, txt;
	char sel[64], what[512];
	const char *why = NULL;
	time_t now = time(NULL);
	struct tm tm;
	int rc = CLI_OK;

	cli_what(a, a->pos[0], what, sizeof(what));
	if (algorithm == NULL || strcmp(algorithm, "rsa") == 0)
		type = DKIM_K_RSA;
	else if (strcmp(algorithm, "ed25519") == 0)
		type = DKIM_K_ED25519;
	else
		return cli_usage(DKIM_USAGE);
	if (selector == NULL) {
		/* a dated default, distinct per algorithm */
		gmtime_r(&now, &tm);
		snprintf(sel, sizeof(sel), "f%04d%02d%02d%s", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, type == DKIM_K_RSA ? "r" : "e");
		selector = sel;
	}
	buf_init(&pem, 16384);
	buf_init(&txt, 4096);
	if (dkim_keygen(type, &pem, &txt) < 0) {
		rc = cli_err(what, "key generation failed");
	} else if (dir_dkim_add(d, a->pos[0], selector, type == DKIM_K_RSA ?
	    "rsa-sha256" : "ed25519-sha256", buf_cstr(&pem), NULL, &why) <
	    0) {
		rc = cli_err(what, why);
	} else {
		char dom[256];

		str_copy(dom, a->pos[0], sizeof(dom));
		str_lower(dom);
		printf("; publish this record in the DNS of %s, then mail "
		    "from %s is signed with selector %s\n", dom, dom,
		    selector);
		dkim_print_record(selector, dom, buf_cstr(&txt));
	}
	if (pem.data != NULL)
		explicit_bzero(pem.data, pem.len);
	buf_free(&pem);
	buf_free(&txt);
	return rc;
}

static int
dkim_show(struct cli_args *a, struct dir *d, const char *selector)
{
	struct dir_dkim_key k;
	struct buf txt;
	char what[512];
	int r, rc = CLI_OK;

	cli_what(a, a->pos[0], what, sizeof(what));
	r = dir_dkim_get(d, a->pos[0], selector, &k);
	if (r < 0)
		return cli_err(what, "directory unavailable");
	if (r == 0)
		return cli_err(what, "no such key");
	buf_init(&txt, 4096);
	if (dkim_key_txt(k.private_key, &txt) < 0)
		rc = cli_err(what, "the stored key is unusable");
	else
		dkim_print_record(k.selector, k.domain, buf_cstr(&txt));
	buf_free(&txt);
	dir_dkim_key_free(&k);
	return rc;
}

static int
dkim_sign_stdin(struct cli_args *a, struct dir *d, const char *selector)
{
	struct dir_dkim_key k[DIR_DKIM_SIGNING_MAX];
	struct mailauth_key mk;
	struct buf msg, sig;
	const char *why = NULL;
	char what[512];
	size_t n = 0, i;
	int r, rc = CLI_OK;

	cli_what(a, a->pos[0], what, sizeof(what));
	/* as the server: the newest key of each algorithm, or the one
	 * asked for */
	if (selector != NULL) {
		r = dir_dkim_get(d, a->pos[0], selector, &k[0]);
		n = r > 0 ? 1 : 0;
	} else {
		r = dir_dkim_signing_keys(d, a->pos[0], k,
		    DIR_DKIM_SIGNING_MAX, &n);
	}
	if (r < 0)
		return cli_err(what, "directory unavailable");
	if (r == 0)
		return cli_err(what, "no such key");
	buf_init(&msg, a->conf.message_size_limit);
	buf_init(&sig, 65536);
	if (dkim_read_stdin(&msg) < 0)
		rc = cli_err(what, "cannot read the message (too big?)");
	for (i = 0; i < n && rc == CLI_OK; i++) {
		mk.domain = k[i].domain;
		mk.selector = k[i].selector;
		mk.pem = k[i].private_key;
		if (mailauth_sign(&mk, msg.data != NULL ? msg.data : "",
		    msg.len, 0, &sig, &why) < 0)
			rc = cli_err(what, why);
	}
	if (rc == CLI_OK) {
		fwrite(sig.data, 1, sig.len, stdout);
		fwrite(msg.data, 1, msg.len, stdout);
	}
	buf_free(&msg);
	buf_free(&sig);
	for (i = 0; i < n; i++)
		dir_dkim_key_free(&k[i]);
	return rc;
}

static int
dkim_dns_setup(const struct conf *c)
{
	const char *why = NULL;

	if (dns_configure(c->dns_server, 2000, 2, &why) < 0)
		return cli_err("dns_server", why);
	(void)psl_load(NULL);
	return CLI_OK;
}

static int
dkim_verify_stdin(struct cli_args *a)
{
	struct dkim_verdict v[DKIM_MAX_SIGS];
	struct buf msg;
	size_t n = 0, i;
	int rc = CLI_ERR;

	if (dkim_dns_setup(&a->conf) != CLI_OK)
		return CLI_ERR;
	buf_init(&msg, a->conf.message_size_limit);
	if (dkim_read_stdin(&msg) < 0) {
		buf_free(&msg);
		return cli_err("dkim verify", "cannot read the message");
	}
	if (dkim_verify(resolve_default(), msg.data != NULL ? msg.data : "",
	    msg.len, time(NULL), v, DKIM_MAX_SIGS, &n) < 0) {
		buf_free(&msg);
		return cli_err("dkim verify", "header too large");
	}
	if (n == 0)
		printf("dkim=none\n");
	for (i = 0; i < n; i++) {
		printf("dkim=%s d=%s s=%s a=%s", dkim_result_name(v[i].result),
		    v[i].d[0] != '\0' ? v[i].d : "-",
		    v[i].s[0] != '\0' ? v[i].s : "-", !v[i].alg_known ? "-" :
		    v[i].alg == DKIM_RSA_SHA256 ? "rsa-sha256" :
		    "ed25519-sha256");
		if (v[i].why != NULL)
			printf(" (%s)", v[i].why);
		printf("\n");
		if (v[i].result == DKIM_PASS)
			rc = CLI_OK;
	}
	buf_free(&msg);
	return rc;
}

static int
dkim_check_stdin(struct cli_args *a)
{
	struct mailauth_ctx mc;
	struct buf msg, head;
	const char *reply = NULL;
	size_t skip = 0;
	enum mailauth_verdict v;

	if (dkim_dns_setup(&a->conf) != CLI_OK)
		return CLI_ERR;
	buf_init(&msg, a->conf.message_size_limit);
	buf_init(&head, MAILAUTH_HEAD_MAX);
	if (dkim_read_stdin(&msg) < 0) {
		buf_free(&msg);
		return cli_err("dkim check", "cannot read the message");
	}
	memset(&mc, 0, sizeof(mc));
	mc.hostname = a->conf.hostname;
	mc.dmarc_reject = strcmp(a->conf.dmarc_reject_policy, "reject") == 0;
	mc.pct_roll = -1;
	v = mailauth_check(&mc, a->pos[0], a->pos[1], a->pos[2],
	    msg.data != NULL ? msg.data : "", msg.len, &head, &skip, &reply,
	    NULL);
	/* the verdict, then the message as the server would store it */
	printf("verdict: %s%s%s\n", v == MAILAUTH_REJECT ? "reject" :
	    "accept", reply != NULL ? " " : "", reply != NULL ? reply : "");
	fwrite(head.data, 1, head.len, stdout);
	if (msg.len > skip)
		fwrite(msg.data + skip, 1, msg.len - skip, stdout);
	buf_free(&msg);
	buf_free(&head);
	return CLI_OK;
}

int
cli_dkim(int argc, char **argv)
{
	char *rest[DKIM_ARGV_MAX];
	const char *selector = NULL, *algorithm = NULL;
	struct cli_args a;
	struct dir *d = NULL;
	struct dir_list l;
	const char *why = NULL;
	int i, n = 0, rc;

	/* take out the options cli_args_parse does not know */
	for (i = 0; i < argc; i++) {
		if ((strcmp(argv[i], "--selector") == 0 ||
		    strcmp(argv[i], "--algorithm") == 0) && i + 1 < argc) {
			if (argv[i][2] == 's')
				selector = argv[++i];
			else
				algorithm = argv[++i];
			continue;
		}
		if (strncmp(argv[i], "--selector=", 11) == 0) {
			selector = argv[i] + 11;
			continue;
		}
		if (strncmp(argv[i], "--algorithm=", 12) == 0) {
			algorithm = argv[i] + 12;
			continue;
		}
		if (n == DKIM_ARGV_MAX)
			return cli_usage(DKIM_USAGE);
		rest[n++] = argv[i];
	}
	rc = cli_args_parse(n, rest, DKIM_USAGE, false, &a);
	if (rc != CLI_OK)
		return rc;
	if (strcmp(a.action, "verify") == 0 && a.npos == 0) {
		rc = dkim_verify_stdin(&a);
		cli_args_free(&a);
		return rc;
	}
	if (strcmp(a.action, "check") == 0 && a.npos == 3) {
		rc = dkim_check_stdin(&a);
		cli_args_free(&a);
		return rc;
	}
	if (!((strcmp(a.action, "generate") == 0 && a.npos == 1) ||
	    (strcmp(a.action, "show") == 0 && a.npos == 1) ||
	    (strcmp(a.action, "sign") == 0 && a.npos == 1) ||
	    (strcmp(a.action, "del") == 0 && a.npos == 1 &&
	    selector != NULL) ||
	    (strcmp(a.action, "list") == 0 && a.npos == 0)) ||
	    (algorithm != NULL && strcmp(a.action, "generate") != 0)) {
		cli_args_free(&a);
		return cli_usage(DKIM_USAGE);
	}
	d = cli_dir_open(&a);
	if (d == NULL) {
		cli_args_free(&a);
		return CLI_ERR;
	}
	if (strcmp(a.action, "generate") == 0) {
		rc = dkim_generate(&a, d, selector, algorithm);
	} else if (strcmp(a.action, "show") == 0) {
		rc = dkim_show(&a, d, selector);
	} else if (strcmp(a.action, "sign") == 0) {
		rc = dkim_sign_stdin(&a, d, selector);
	} else if (strcmp(a.action, "del") == 0) {
		char what[512];

		cli_what(&a, a.pos[0], what, sizeof(what));
		rc = CLI_OK;
		if (dir_dkim_del(d, a.pos[0], selector, NULL, &why) < 0)
			rc = cli_err(what, why);
	} else {
		rc = CLI_OK;
		if (dir_dkim_list(d, &l, &why) < 0) {
			rc = cli_err("dkim list", why);
		} else {
			cli_print_list(&l);
			dir_list_free(&l);
		}
	}
	dir_close(&d);
	cli_args_free(&a);
	return rc;
}
