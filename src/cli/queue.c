/*
 * cli/queue - `facteur queue list|show|retry|delete [ID]`: look at and
 * act on the outbound queue in queue_dir. Safe while the server runs:
 * reads see whole files (the server replaces envelopes atomically),
 * retry rewrites an envelope the same way, delete removes the envelope
 * first (the server notices and stops).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/conf.h"
#include "core/fsutil.h"
#include "queue/bounce.h"
#include "queue/qfile.h"

static int
cli_queue_usage(void)
{
	fprintf(stderr, "usage: facteur queue list [-c FILE]\n"
	    "       facteur queue show|delete [-c FILE] ID\n"
	    "       facteur queue retry [-c FILE] [ID]\n");
	return CLI_USAGE;
}

static void
cli_queue_time(char *dst, size_t len, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0) {
		snprintf(dst, len, "now");
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(dst, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
cli_queue_print(const struct qenv *e, bool full)
{
	char at[32], nt[32];

	cli_queue_time(at, sizeof(at), e->arrival);
	printf("%s  %" PRIu64 "  %s  <%s>\n", e->id, e->size, at, e->sender);
	if (full) {
		printf("  auth_user: %s\n  client_ip: %s\n  smtputf8: %s\n"
		    "  8bitmime: %s\n", e->auth_user[0] != '\0' ?
		    e->auth_user : "-", e->client_ip[0] != '\0' ?
		    e->client_ip : "-", e->smtputf8 ? "yes" : "no",
		    e->eightbit ? "yes" : "no");
	}
	for (size_t i = 0; i < e->nrcpts; i++) {
		const struct qrcpt *r = &e->rcpts[i];

		printf("    %s  %s  attempts=%" PRIu32, r->addr,
		    qrcpt_state_name(r->state), r->attempts);
		if (r->state == QR_PENDING || r->state == QR_DEFERRED) {
			cli_queue_time(nt, sizeof(nt), r->next_try);
			printf("  next=%s", nt);
		}
		if (r->dsn[0] != '\0')
			printf("  dsn=%s", r->dsn);
		if (r->diag[0] != '\0')
			printf("  (%s)", r->diag);
		printf("\n");
	}
}

static int
cli_queue_list(const char *qdir)
{
	char **ids;
	size_t n, shown = 0;

	if (qfile_list(qdir, &ids, &n) < 0)
		return cli_err(qdir, strerror(errno));
	for (size_t i = 0; i < n; i++) {
		struct qenv e;
		const char *why;
		int rc = qenv_load(qdir, ids[i], &e, &why);

		if (rc == 0)
			continue;	/* delivered meanwhile */
		if (rc < 0) {
			printf("%s  (unreadable: %s)\n", ids[i], why);
			continue;
		}
		cli_queue_print(&e, false);
		qenv_free(&e);
		shown++;
	}
	qfile_list_free(ids, n);
	if (shown == 0)
		printf("queue is empty\n");
	else
		printf("%zu message%s\n", shown, shown == 1 ? "" : "s");
	return CLI_OK;
}

static int
cli_queue_load(const char *qdir, const char *id, struct qenv *e)
{
	const char *why;
	int rc;

	if (!qfile_valid_id(id)) {
		cli_err(id, "not a queue id");
		return -1;
	}
	rc = qenv_load(qdir, id, e, &why);
	if (rc <= 0) {
		cli_err(id, rc == 0 ? "no such message" : why);
		return -1;
	}
	return 0;
}

static int
cli_queue_show(const char *qdir, const char *id)
{
	struct qenv e;
	char path[PATH_MAX];
	struct buf b;
	int rc;

	if (cli_queue_load(qdir, id, &e) < 0)
		return CLI_ERR;
	cli_queue_print(&e, true);
	qenv_free(&e);
	if (qfile_path(path, sizeof(path), qdir, "msg", id) < 0)
		return cli_err(id, "path too long");
	buf_init(&b, BOUNCE_HDR_MAX * 2);
	rc = fs_read_file(path, &b);
	if (rc < 0 && errno != EFBIG) {
		buf_free(&b);
		return cli_err(path, strerror(errno));
	}
	printf("\n");
	if (b.len > 0)
		fwrite(b.data, 1, bounce_header_end(b.data, b.len), stdout);
	buf_free(&b);
	return CLI_OK;
}

static int
cli_queue_retry_one(const char *qdir, const char *id, bool quiet)
{
	struct qenv e;
	size_t n = 0;

	if (cli_queue_load(qdir, id, &e) < 0)
		return CLI_ERR;
	for (size_t i = 0; i < e.nrcpts; i++) {
		if (e.rcpts[i].state == QR_PENDING ||
		    e.rcpts[i].state == QR_DEFERRED) {
			e.rcpts[i].next_try = 0;
			n++;
		}
	}
	if (n > 0) {
		int rc = qenv_update(qdir, &e);

		if (rc <= 0) {
			qenv_free(&e);
			/* delivered or deleted while we looked: nothing to do */
			return rc == 0 ? cli_err(id, "no such message") :
			    cli_err(id, strerror(errno));
		}
	}
	qenv_free(&e);
	if (!quiet || n > 0)
		printf("%s: %zu recipient%s due now\n", id, n,
		    n == 1 ? "" : "s");
	return CLI_OK;
}

static int
cli_queue_retry_all(const char *qdir)
{
	char **ids;
	size_t n;
	int rc = CLI_OK;

	if (qfile_list(qdir, &ids, &n) < 0)
		return cli_err(qdir, strerror(errno));
	for (size_t i = 0; i < n; i++)
		if (cli_queue_retry_one(qdir, ids[i], true) != CLI_OK)
			rc = CLI_ERR;
	qfile_list_free(ids, n);
	return rc;
}

static int
cli_queue_delete(const char *qdir, const char *id)
{
	char path[PATH_MAX];

	if (!qfile_valid_id(id))
		return cli_err(id, "not a queue id");
	if (qfile_path(path, sizeof(path), qdir, "env", id) < 0)
		return cli_err(id, "path too long");
	if (access(path, F_OK) < 0)
		return cli_err(id, "no such message");
	if (qfile_remove(qdir, id) < 0)
		return cli_err(id, strerror(errno));
	printf("%s: deleted\n", id);
	return CLI_OK;
}

int
cli_queue(int argc, char **argv)
{
	struct conf c;
	const char *action, *id = NULL;
	int argi = 1, rc;

	if (argc < 2)
		return cli_queue_usage();
	/* "-c FILE" may come before or after the action */
	if (strcmp(argv[1], "-c") == 0) {
		if (argc < 4)
			return cli_queue_usage();
		action = argv[3];
		if (cli_load_conf(argc, argv, &argi, &c, 0) < 0)
			return CLI_ERR;
		argi = 4;
	} else {
		action = argv[1];
		argi = 2;
		if (cli_load_conf(argc, argv, &argi, &c, 0) < 0)
			return CLI_ERR;
	}
	if (argi < argc)
		id = argv[argi++];
	if (argi < argc) {
		conf_free(&c);
		return cli_queue_usage();
	}
	rc = CLI_USAGE;
	if (strcmp(action, "list") == 0 && id == NULL)
		rc = cli_queue_list(c.queue_dir);
	else if (strcmp(action, "show") == 0 && id != NULL)
		rc = cli_queue_show(c.queue_dir, id);
	else if (strcmp(action, "retry") == 0)
		rc = id != NULL ? cli_queue_retry_one(c.queue_dir, id, false) :
		    cli_queue_retry_all(c.queue_dir);
	else if (strcmp(action, "delete") == 0 && id != NULL)
		rc = cli_queue_delete(c.queue_dir, id);
	else
		rc = cli_queue_usage();
	/* a running server picks the change up at once */
	if (rc == CLI_OK && strcmp(action, "retry") == 0)
		(void)qfile_kick(c.queue_dir);
	conf_free(&c);
	return rc;
}
