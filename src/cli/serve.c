/*
 * serve - `facteur serve`: the root supervisor and the worker.
 *
 * Supervisor (root): reads the config, binds every listener, checks that
 * the TLS key loads, forks the worker, restarts it if it dies (backoff
 * 1 s doubling to 30 s while it keeps crashing), forwards SIGTERM/SIGINT,
 * and on SIGHUP re-execs itself with the listening sockets inherited
 * (FACTEUR_LISTEN_FDS) to reload config and certificates without
 * dropping a listener.
 *
 * Worker: loads the TLS key and certificate and the DB password as root,
 * creates mail_root and queue_dir owned by run_user, then drops to
 * run_user for good (setgroups, setresgid, setresuid, and checks root
 * cannot be regained), starts the queue and one accept thread per
 * listener. SIGTERM: stop accepting, let sessions finish (30 s), exit.
 *
 * SECURITY: the supervisor never reads client data; the worker runs
 * unprivileged and holds no capabilities after the drop.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/worker.h"
#include "core/conf.h"
#include "core/log.h"
#include "core/str.h"
#include "core/strnum.h"
#include "core/xmalloc.h"
#include "net/server.h"

struct serve_listener {
	enum listen_kind kind;
	const char	*spec;
	int		 fd;
};

static volatile sig_atomic_t sup_term;
static volatile sig_atomic_t sup_hup;
static volatile sig_atomic_t sup_child;

static void
sup_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		sup_term = sig;
	else if (sig == SIGHUP)
		sup_hup = 1;
	else if (sig == SIGCHLD)
		sup_child = 1;
}

static const char *
serve_spec(const struct conf *c, enum listen_kind k)
{
	switch (k) {
	case LK_SMTP:		return c->smtp_listen;
	case LK_SMTPS:		return c->smtps_listen;
	case LK_SUBMISSION:	return c->submission_listen;
	case LK_IMAPS:		return c->imaps_listen;
	case LK_IMAP:		return c->imap_listen;
	case LK_POP3S:		return c->pop3s_listen;
	case LK_POP3:		return c->pop3_listen;
	case LK_ADMIN:		return c->admin_listen;
	case LK_COUNT:		break;
	}
	return "";
}

/* serve_inherited: fd for kind+spec from FACTEUR_LISTEN_FDS, or -1. The
 * variable reads "kind=fd=spec;kind=fd=spec". */
static int
serve_inherited(enum listen_kind k, const char *spec)
{
	const char *env = getenv("FACTEUR_LISTEN_FDS");
	char *copy, *save = NULL, *item;
	int fd = -1;

	if (env == NULL)
		return -1;
	copy = xstrdup(env);
	for (item = strtok_r(copy, ";", &save); item != NULL;
	    item = strtok_r(NULL, ";", &save)) {
		char *e1 = strchr(item, '='), *e2;
		uint32_t n;

		if (e1 == NULL)
			continue;
		*e1 = '\0';
		e2 = strchr(e1 + 1, '=');
		if (e2 == NULL)
			continue;
		*e2 = '\0';
		if (strcmp(item, listen_kind_name(k)) == 0 &&
		    strcmp(e2 + 1, spec) == 0 &&
		    str_to_u32(e1 + 1, &n) == 0) {
			fd = (int)n;
			break;
		}
	}
	free(copy);
	return fd;
}

static void
serve_close_stale_inherited(const struct serve_listener *ls, size_t n)
{
	const char *env = getenv("FACTEUR_LISTEN_FDS");
	char *copy, *save = NULL, *item;

	if (env == NULL)
		return;
	copy = xstrdup(env);
	for (item = strtok_r(copy, ";", &save); item != NULL;
	    item = strtok_r(NULL, ";", &save)) {
		char *e1 = strchr(item, '=');
		char *e2 = e1 != NULL ? strchr(e1 + 1, '=') : NULL;
		uint32_t fd;
		size_t i;
		int used = 0;

		if (e2 == NULL)
			continue;
		*e2 = '\0';
		if (str_to_u32(e1 + 1, &fd) < 0)
			continue;
		for (i = 0; i < n; i++)
			if (ls[i].fd == (int)fd)
				used = 1;
		if (!used)
			close((int)fd);
	}
	free(copy);
	unsetenv("FACTEUR_LISTEN_FDS");
}

static int
serve_bind_all(const struct conf *c, struct serve_listener *ls,
    size_t *n_r)
{
	size_t n = 0;
	int k;

	for (k = 0; k < LK_COUNT; k++) {
		const char *spec = serve_spec(c, (enum listen_kind)k);
		char err[256];
		int fd;

		if (spec == NULL || *spec == '\0')
			continue;
		fd = serve_inherited((enum listen_kind)k, spec);
		if (fd < 0)
			fd = listen_bind(spec, err, sizeof(err));
		if (fd < 0) {
			fprintf(stderr, "facteur: %s_listen: %s\n",
			    listen_kind_name((enum listen_kind)k), err);
			return -1;
		}
		ls[n].kind = (enum listen_kind)k;
		ls[n].spec = spec;
		ls[n].fd = fd;
		n++;
	}
	*n_r = n;
	return 0;
}

/*
 * serve_exec_self: exec our own binary again. By its path when that still
 * names the running file: under valgrind /proc/self/exe is the valgrind
 * tool, and exec'ing it killed the supervisor; readlink() there gives the
 * client's path. After an upgrade replaced the file ("... (deleted)"),
 * /proc/self/exe keeps running the same image as before. Returns on error.
 */
static void
serve_exec_self(char **argv)
{
	char path[PATH_MAX];
	ssize_t n;

	n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n > 0) {
		static const char del[] = " (deleted)";

		path[n] = '\0';
		if (path[0] == '/' && ((size_t)n < sizeof(del) - 1 ||
		    strcmp(path + n - (sizeof(del) - 1), del) != 0) &&
		    access(path, X_OK) == 0) {
			execv(path, argv);
			log_warn("supervisor reload: exec %s: %s", path,
			    strerror(errno));
		}
	}
	execv("/proc/self/exe", argv);
}

static void
serve_reexec(char **argv, const struct serve_listener *ls, size_t n,
    pid_t worker)
{
	char env[2048], tmp[600];
	size_t i;

	env[0] = '\0';
	for (i = 0; i < n; i++) {
		int fl = fcntl(ls[i].fd, F_GETFD);

		if (fl >= 0)
			(void)fcntl(ls[i].fd, F_SETFD, fl & ~FD_CLOEXEC);
		snprintf(tmp, sizeof(tmp), "%s%s=%d=%s", i ? ";" : "",
		    listen_kind_name(ls[i].kind), ls[i].fd, ls[i].spec);
		if (strlen(env) + strlen(tmp) < sizeof(env))
			strcat(env, tmp);
	}
	setenv("FACTEUR_LISTEN_FDS", env, 1);
	snprintf(tmp, sizeof(tmp), "%ld", (long)worker);
	setenv("FACTEUR_OLD_WORKER", tmp, 1);
	log_info("supervisor reload: re-executing");
	serve_exec_self(argv);
	log_error("supervisor reload failed: %s; keeping the running worker",
	    strerror(errno));
}

/* serve_worker_main: never returns. */
static void
serve_worker_main(struct conf *c, const struct serve_listener *ls, size_t n)
{
	struct worker_listener wl[LK_COUNT];
	size_t i;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	for (i = 0; i < n; i++) {
		wl[i].kind = ls[i].kind;
		wl[i].fd = ls[i].fd;
	}
	exit(worker_run(c, wl, n));
}

static pid_t
serve_fork_worker(struct conf *c, const struct serve_listener *ls, size_t n)
{
	pid_t pid = fork();

	if (pid < 0) {
		log_error("supervisor fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		serve_worker_main(c, ls, n);
	log_info("supervisor started worker pid=%ld", (long)pid);
	return pid;
}

int
cli_serve(int argc, char **argv)
{
	struct conf c;
	struct serve_listener ls[LK_COUNT];
	size_t n = 0;
	int argi = 1, foreground = 0;
	unsigned backoff = 1;
	time_t started;
	pid_t worker;
	const char *old;
	char **orig_argv = argv - 1;
	struct sigaction sa;
	sigset_t mask, oldmask;

	/* -f and -c FILE in either order ("serve -f -c FILE" is common) */
	{
		char *cargv[3] = { argv[0], NULL, NULL };
		int cargc = 1, ci = 1;

		for (; argi < argc; argi++) {
			if (strcmp(argv[argi], "-f") == 0) {
				foreground = 1;
			} else if (strcmp(argv[argi], "-c") == 0 &&
			    argi + 1 < argc && cargc == 1) {
				cargv[1] = argv[argi];
				cargv[2] = argv[argi + 1];
				cargc = 3;
				argi++;
			} else {
				fprintf(stderr, "usage: facteur serve "
				    "[-c FILE] [-f]\n");
				return CLI_USAGE;
			}
		}
		if (cli_load_conf(cargc, cargv, &ci, &c, 0) < 0)
			return CLI_ERR;
	}
	log_set_level((enum log_level)c.log_level);
	if (worker_precheck(&c) < 0 || serve_bind_all(&c, ls, &n) < 0) {
		conf_free(&c);
		return CLI_ERR;
	}
	serve_close_stale_inherited(ls, n);
	if (!foreground && getenv("FACTEUR_OLD_WORKER") == NULL) {
		pid_t p = fork();

		if (p < 0)
			return cli_err("serve", strerror(errno));
		if (p > 0) {
			conf_free(&c);
			return CLI_OK;
		}
		setsid();
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sup_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	old = getenv("FACTEUR_OLD_WORKER");
	if (old != NULL) {
		uint32_t op;

		if (str_to_u32(old, &op) == 0 && op > 1) {
			log_info("supervisor stopping previous worker pid=%u",
			    op);
			kill((pid_t)op, SIGTERM);
		}
		unsetenv("FACTEUR_OLD_WORKER");
	}
	log_info("supervisor starting version=%s listeners=%zu",
	    FACTEUR_VERSION, n);
	worker = serve_fork_worker(&c, ls, n);
	started = time(NULL);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	for (;;) {
		int status;
		pid_t p;

		sigprocmask(SIG_BLOCK, &mask, &oldmask);
		while (!sup_term && !sup_hup && !sup_child)
			sigsuspend(&oldmask);
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		if (sup_term) {
			log_info("supervisor stopping (signal %d)",
			    (int)sup_term);
			if (worker > 0) {
				kill(worker, SIGTERM);
				waitpid(worker, &status, 0);
			}
			conf_free(&c);
			return CLI_OK;
		}
		if (sup_hup) {
			sup_hup = 0;
			serve_reexec(orig_argv, ls, n, worker);
		}
		sup_child = 0;
		while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
			if (p != worker)
				continue;	/* an old worker draining */
			if (WIFSIGNALED(status))
				log_error("supervisor worker pid=%ld killed by "
				    "signal %d; restarting in %us", (long)p,
				    WTERMSIG(status), backoff);
			else
				log_error("supervisor worker pid=%ld exited "
				    "status=%d; restarting in %us", (long)p,
				    WEXITSTATUS(status), backoff);
			worker = -1;
			if (time(NULL) - started > 60)
				backoff = 1;	/* not a crash loop */
			sleep(backoff);
			if (sup_term)
				break;
			backoff = backoff >= 16 ? 30 : backoff * 2;
			worker = serve_fork_worker(&c, ls, n);
			started = time(NULL);
		}
		if (worker < 0 && !sup_term) {
			sleep(1);
			worker = serve_fork_worker(&c, ls, n);
		}
	}
}
