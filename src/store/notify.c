/*
 * notify - in-process change notification for IMAP IDLE (mailbox.h).
 *
 * Subscribers get an eventfd per folder path. Changes made by this
 * process call store_notify_signal(); changes by other processes
 * (Dovecot, the CLI, another facteur) are seen through one inotify
 * instance watching new/ and cur/ of every subscribed folder, read by a
 * background thread started on first use. Every table is behind one
 * mutex; paths are compared after dropping trailing '/'.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "core/log.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "store/mailbox.h"
#include "store/spath.h"

struct nsub {
	int	 fd;
	char	*path;
};

struct nwatch {
	int	 wd;
	char	*path;		/* the folder, not new/ or cur/ */
	int	 refs;
};

static pthread_mutex_t notify_mu = PTHREAD_MUTEX_INITIALIZER;
static struct nsub *notify_subs;
static size_t notify_nsubs, notify_capsubs;
static struct nwatch *notify_watches;
static size_t notify_nwatches, notify_capwatches;
static int notify_ifd = -1;
static int notify_thread_started;

static char *
notify_norm(const char *path)
{
	char *p = xstrdup(path);
	size_t n = strlen(p);

	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	return p;
}

static void
notify_wake(int fd)
{
	uint64_t one = 1;

	/* EAGAIN: counter saturated, already readable */
	(void)!write(fd, &one, sizeof(one));
}

/* Wake subscribers of path; notify_mu held. */
static void
notify_signal_locked(const char *path)
{
	size_t i;

	for (i = 0; i < notify_nsubs; i++) {
		if (strcmp(notify_subs[i].path, path) == 0)
			notify_wake(notify_subs[i].fd);
	}
}

static void *
notify_thread(void *arg)
{
	char buf[8192]
	    __attribute__((aligned(__alignof__(struct inotify_event))));

	(void)arg;
	for (;;) {
		ssize_t n = read(notify_ifd, buf, sizeof(buf));
		char *p;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("store notify: inotify read failed errno=%d",
			    errno);
			return NULL;
		}
		pthread_mutex_lock(&notify_mu);
		for (p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;
			size_t i;

			for (i = 0; i < notify_nwatches; i++) {
				if (notify_watches[i].wd == ev->wd)
					notify_signal_locked(
					    notify_watches[i].path);
			}
			p += sizeof(*ev) + ev->len;
		}
		pthread_mutex_unlock(&notify_mu);
	}
	return NULL;
}

/* Add inotify watches on path/new and path/cur; notify_mu held. */
static void
notify_watch_locked(const char *path)
{
	static const char *const subs[] = { "new", "cur" };
	size_t i, k;

	if (notify_ifd < 0) {
		notify_ifd = inotify_init1(IN_CLOEXEC);
		if (notify_ifd < 0) {
			log_warn("store notify: inotify unavailable errno=%d",
			    errno);
			return;
		}
	}
	if (!notify_thread_started) {
		pthread_attr_t attr;
		pthread_t t;

		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 64 * 1024);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, notify_thread, NULL) == 0)
			notify_thread_started = 1;
		pthread_attr_destroy(&attr);
	}
	for (k = 0; k < 2; k++) {
		char dir[SPATH_MAX];
		int wd;

		if (spath(dir, sizeof(dir), "%s/%s", path, subs[k]) < 0)
			continue;
		wd = inotify_add_watch(notify_ifd, dir, IN_CREATE |
		    IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR);
		if (wd < 0)
			continue;
		for (i = 0; i < notify_nwatches; i++) {
			if (notify_watches[i].wd == wd)
				break;
		}
		if (i < notify_nwatches) {
			notify_watches[i].refs++;
			continue;
		}
		if (notify_nwatches == notify_capwatches) {
			notify_capwatches = notify_capwatches == 0 ? 16 :
			    notify_capwatches * 2;
			notify_watches = xreallocarray(notify_watches,
			    notify_capwatches, sizeof(*notify_watches));
		}
		notify_watches[notify_nwatches].wd = wd;
		notify_watches[notify_nwatches].path = xstrdup(path);
		notify_watches[notify_nwatches].refs = 1;
		notify_nwatches++;
	}
}

static void
notify_unwatch_locked(const char *path)
{
	size_t i = 0;

	while (i < notify_nwatches) {
		struct nwatch *w = &notify_watches[i];

		if (strcmp(w->path, path) != 0 || --w->refs > 0) {
			i++;
			continue;
		}
		inotify_rm_watch(notify_ifd, w->wd);
		free(w->path);
		notify_watches[i] = notify_watches[--notify_nwatches];
	}
}

int
store_notify_subscribe(const char *path)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		return -1;
	pthread_mutex_lock(&notify_mu);
	if (notify_nsubs == notify_capsubs) {
		notify_capsubs = notify_capsubs == 0 ? 16 : notify_capsubs * 2;
		notify_subs = xreallocarray(notify_subs, notify_capsubs,
		    sizeof(*notify_subs));
	}
	notify_subs[notify_nsubs].fd = fd;
	notify_subs[notify_nsubs].path = notify_norm(path);
	notify_watch_locked(notify_subs[notify_nsubs].path);
	notify_nsubs++;
	pthread_mutex_unlock(&notify_mu);
	return fd;
}

void
store_notify_unsubscribe(int fd)
{
	size_t i;

	if (fd < 0)
		return;
	pthread_mutex_lock(&notify_mu);
	for (i = 0; i < notify_nsubs; i++) {
		if (notify_subs[i].fd != fd)
			continue;
		notify_unwatch_locked(notify_subs[i].path);
		free(notify_subs[i].path);
		notify_subs[i] = notify_subs[--notify_nsubs];
		break;
	}
	pthread_mutex_unlock(&notify_mu);
	close(fd);
}

void
store_notify_drain(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
}

void
store_notify_signal(const char *path)
{
	char *p;

	pthread_mutex_lock(&notify_mu);
	if (notify_nsubs == 0) {
		pthread_mutex_unlock(&notify_mu);
		return;
	}
	p = notify_norm(path);
	notify_signal_locked(p);
	pthread_mutex_unlock(&notify_mu);
	free(p);
}
