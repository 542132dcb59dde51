/*
 * worker - privilege drop and protocol wiring for `facteur serve`.
 *
 * Order matters: everything that needs root (TLS private key, DB password
 * file, creating mail_root/queue_dir owned by run_user) happens first;
 * then the drop, which is checked; then threads. Nothing is read as root
 * after the drop.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/worker.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "directory/dir.h"
#include "net/server.h"
#include "net/tls.h"

#include "http/http.h"
#include "imap/imap.h"
#include "pop3/pop3.h"
#include "queue/queue.h"
#include "smtp/smtp.h"

/* Thread stacks: small, since idle connections dominate memory. */
#define WORKER_STACK_SIZE (256 * 1024)

int
worker_precheck(const struct conf *c)
{
	struct tls_ctx *t;
	const char *err = NULL;

	tls_init();
	t = tls_server_new(c->tls_cert, c->tls_key, c->tls_min_version, &err);
	if (t == NULL) {
		fprintf(stderr, "facteur: tls: %s\n", err);
		return -1;
	}
	tls_ctx_free(&t);
	if (geteuid() == 0 && getpwnam(c->run_user) == NULL) {
		fprintf(stderr, "facteur: run_user: no such user \"%s\"\n",
		    c->run_user);
		return -1;
	}
	return 0;
}

static int
worker_own_dir(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;

	if (fs_mkdir_p(path, mode) < 0) {
		log_error("worker cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	if (stat(path, &st) < 0)
		return -1;
	if (geteuid() == 0 && (st.st_uid != uid || st.st_gid != gid)) {
		if (chown(path, uid, gid) < 0) {
			log_error("worker cannot chown %s: %s", path,
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* worker_drop: become run_user for good. 0 or -1 (fatal). */
static int
worker_drop(const struct conf *c)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;	/* already unprivileged (tests, dev) */
	pw = getpwnam(c->run_user);
	if (pw == NULL) {
		log_error("worker run_user \"%s\" does not exist", c->run_user);
		return -1;
	}
	if (worker_own_dir(c->mail_root, pw->pw_uid, pw->pw_gid, 0770) < 0 ||
	    worker_own_dir(c->queue_dir, pw->pw_uid, pw->pw_gid, 0700) < 0)
		return -1;
	if (setgroups(1, &pw->pw_gid) < 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
		log_error("worker cannot drop privileges to %s: %s",
		    c->run_user, strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		log_error("worker could regain root after the drop");
		return -1;
	}
	return 0;
}

/*
 * worker_lock: one worker at a time owns queue_dir. After a SIGHUP reload
 * the previous worker drains its sessions (up to 30 s) while the new one
 * waits here, listeners held open by the supervisor (connections wait in
 * the backlog, none is refused): two workers running queues on one
 * directory could deliver a message twice, and the new one's recovery
 * could remove a file the old one is still writing. The lock is an
 * flock, so a crashed worker's is released by the kernel.
 */
static int
worker_lock(const struct conf *c)
{
	char path[4096];
	int fd;

	if (snprintf(path, sizeof(path), "%s/.worker.lock", c->queue_dir) >=
	    (int)sizeof(path)) {
		log_error("worker queue_dir path too long");
		return -1;
	}
	(void)fs_mkdir_p(c->queue_dir, 0700);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_error("worker cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		log_info("worker waiting for the previous worker to finish");
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				log_error("worker lock %s: %s", path,
				    strerror(errno));
				close(fd);
				return -1;
			}
		}
	}
	/* held (fd left open) until this process exits */
	return 0;
}

static struct smtp_server smtp;
static struct imap_server imap;
static struct pop3_server pop3;
static struct http_server http;

int
worker_run(struct conf *c, const struct worker_listener *wl, size_t n)
{
	struct server_listener sl[LK_COUNT];
	struct server_limits lim;
	struct tls_ctx *tls;
	struct dir *d;
	const char *err = NULL;
	size_t i, ns = 0;
	sigset_t set;
	int sig;

	tls_init();
	tls = tls_server_new(c->tls_cert, c->tls_key, c->tls_min_version, &err);
	if (tls == NULL) {
		log_error("worker tls: %s", err);
		return 1;
	}
	d = dir_open(c, &err);
	if (d == NULL) {
		log_error("worker directory: %s", err);
		return 1;
	}
	if (geteuid() != 0) {
		(void)fs_mkdir_p(c->mail_root, 0770);
		(void)fs_mkdir_p(c->queue_dir, 0700);
	}
	if (worker_drop(c) < 0)
		return 1;
	umask(0077);
	if (worker_lock(c) < 0)
		return 1;
	/*
	 * Few malloc arenas: every thread would otherwise get one of up to
	 * 8 x cores arenas, each holding on to freed memory; with a thread
	 * per connection that retention dominates idle memory.
	 */
	mallopt(M_ARENA_MAX, 2);

	/* signals go to one thread: block them before threads start */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* one server context per protocol, shared by its sessions */
	smtp.conf = imap.conf = pop3.conf = http.conf = c;
	smtp.dir = imap.dir = pop3.dir = http.dir = d;
	smtp.tls = imap.tls = pop3.tls = http.tls = tls;
	for (i = 0; i < n; i++) {
		void *arg = NULL;
		server_handler_fn fn = NULL;

		switch (wl[i].kind) {
		case LK_SMTP:
		case LK_SMTPS:
		case LK_SUBMISSION:
			arg = &smtp;
			fn = smtp_session_run;
			break;
		case LK_IMAPS:
		case LK_IMAP:
			arg = &imap;
			fn = imap_session_run;
			break;
		case LK_POP3S:
		case LK_POP3:
			arg = &pop3;
			fn = pop3_session_run;
			break;
		case LK_ADMIN:
			arg = &http;
			fn = http_session_run;
			break;
		case LK_COUNT:
			break;
		}
		if (fn == NULL)
			continue;
		sl[ns].kind = wl[i].kind;
		sl[ns].fd = wl[i].fd;
		sl[ns].fn = fn;
		sl[ns].arg = arg;
		ns++;
	}

	queue_set_local_delivery(smtp_deliver_local, &smtp);
	if (queue_start(c, d) < 0) {
		log_error("worker cannot start the queue");
		return 1;
	}
	lim.max_connections = c->max_connections;
	lim.max_per_ip = c->max_connections_per_ip;
	lim.stack_size = WORKER_STACK_SIZE;
	if (server_start(sl, ns, &lim) < 0) {
		log_error("worker cannot start listeners: %s", strerror(errno));
		return 1;
	}
	log_info("worker ready user=%s listeners=%zu", c->run_user, ns);

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP)
			continue;
		break;
	}
	log_info("worker stopping: no new connections, %u open",
	    server_active());
	server_stop();
	queue_stop();
	for (i = 0; i < 300 && server_active() > 0; i++)
		usleep(100000);
	log_info("worker exit, %u connections still open", server_active());
	return 0;
}
