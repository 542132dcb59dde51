/*
 * queue - enqueue, scheduler and delivery workers. See queue.h and
 * docs/queue.md.
 *
 * Threads: one scheduler scans env/ (every QUEUE_RESCAN_S seconds, or
 * sooner when a message falls due or queue_enqueue wakes it) and hands
 * due message ids to a pool of QUEUE_WORKERS delivery threads (the
 * global concurrency limit). A worker owns its message until done: it
 * groups the due recipients by domain, takes a per-domain slot (at most
 * QUEUE_PER_DOMAIN sessions per domain at once; a message that finds its
 * domain full waits, still owned, and is handed the next slot that
 * frees), runs one SMTP transaction per domain, and
 * rewrites the envelope durably after each, so a recipient a server
 * accepted is never sent again, whatever happens next.
 *
 * Bounces: recipients that failed for good get one DSN per round (null
 * sender), delivered through the local hook when the sender's domain is
 * ours, else queued like any message; none for a null sender.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/str.h"
#include "core/strnum.h"
#include "core/xmalloc.h"
#include "directory/dir.h"
#include "net/dns.h"
#include "net/tls.h"
#include "queue/bounce.h"
#include "queue/mta.h"
#include "queue/qfile.h"
#include "queue/queue.h"

#define QUEUE_WORKERS		20
#define QUEUE_PER_DOMAIN	5
#define QUEUE_RESCAN_S		5
#define QUEUE_STACK		(512 * 1024)
#define QUEUE_BOUNCE_MAX	(BOUNCE_HDR_MAX + 256 * 1024)

struct queue_cache {
	char		 id[QUEUE_ID_MAX + 1];
	struct timespec	 mtime;
	ino_t		 ino;
	int64_t		 due;
	bool		 bad;		/* unreadable: logged once */
	bool		 seen;
};

struct queue_dom {
	char	 name[DNS_NAME_MAX + 1];
	int	 n;
};

/* a message that found its domain at the limit, until a slot frees */
struct queue_wait {
	char	*id;
	char	 domain[DNS_NAME_MAX + 1];
};

static struct {
	pthread_mutex_t	 mu;
	pthread_cond_t	 sched_cv;
	pthread_cond_t	 work_cv;
	bool		 started, stop, wake;
	int64_t		 hint;		/* earliest due time workers left */
	char		*qdir;
	char		*hostname;
	uint64_t	 retry[CONF_MAX_RETRY];
	size_t		 nretry;
	uint64_t	 lifetime;
	struct dir	*dir;
	queue_local_fn	 local_fn;
	void		*local_arg;
	struct mta_cfg	 mta;
	char		*relay_host, *relay_user, *relay_pass;
	pthread_t	 sched;
	pthread_t	 watch;
	int		 inotify_fd;	/* -1: no kick watch */
	pthread_t	 workers[QUEUE_WORKERS];
	int		 nworkers;
	char		**jobs;		/* FIFO of ids to deliver */
	size_t		 njobs;
	char		**busy;		/* queued or being delivered */
	size_t		 nbusy;
	struct queue_dom *doms;
	size_t		 ndoms;
	struct queue_wait *waits;
	size_t		 nwaits;
	struct queue_cache *cache;
	size_t		 ncache;
} q = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.sched_cv = PTHREAD_COND_INITIALIZER,
	.work_cv = PTHREAD_COND_INITIALIZER,
};

void
queue_set_local_delivery(queue_local_fn fn, void *arg)
{
	pthread_mutex_lock(&q.mu);
	q.local_fn = fn;
	q.local_arg = arg;
	pthread_mutex_unlock(&q.mu);
}

static void
queue_wake(void)
{
	pthread_mutex_lock(&q.mu);
	q.wake = true;
	pthread_cond_signal(&q.sched_cv);
	pthread_mutex_unlock(&q.mu);
}

void
queue_kick(void)
{
	queue_wake();
}

/*
 * queue_watch: wakes the scheduler when another process touches
 * queue_dir/kick (`facteur queue retry`). Only queue_dir itself is
 * watched, not env/, so the workers' own rewrites cost nothing.
 */
static void *
queue_watch(void *arg)
{
	char evbuf[4096] __attribute__((aligned(__alignof__(struct
	    inotify_event))));

	(void)arg;
	for (;;) {
		struct pollfd pfd = { .fd = q.inotify_fd, .events = POLLIN };
		bool stop, kick = false;
		ssize_t n;
		int rc;

		pthread_mutex_lock(&q.mu);
		stop = q.stop;
		pthread_mutex_unlock(&q.mu);
		if (stop)
			break;
		rc = poll(&pfd, 1, 1000);
		if (rc <= 0)
			continue;
		n = read(q.inotify_fd, evbuf, sizeof(evbuf));
		for (ssize_t off = 0; n > 0 && off < n;) {
			const struct inotify_event *ev =
			    (const struct inotify_event *)(evbuf + off);

			if (ev->len > 0 && strcmp(ev->name, "kick") == 0)
				kick = true;
			off += (ssize_t)(sizeof(*ev) + ev->len);
		}
		if (kick)
			queue_wake();
	}
	return NULL;
}

enum ferr
queue_enqueue(const struct queue_msg_in *m, char *id_r, size_t idlen)
{
	char from[128];
	enum ferr fe;
	uint64_t size = 0;

	if (q.qdir == NULL)
		return FERR_TEMP;
	if (m->sender == NULL)
		return FERR_INVALID;
	fe = qfile_enqueue(q.qdir, m, time(NULL), id_r, idlen);
	if (fe != FERR_NONE)
		return fe;
	for (int i = 0; i < m->iovcnt; i++)
		size += m->iov[i].iov_len;
	log_esc(from, sizeof(from), m->sender, strlen(m->sender));
	log_info("%s queue queued from=<%s> nrcpt=%zu size=%" PRIu64
	    " client=%s", id_r, from, m->nrcpts, size,
	    m->client_ip != NULL ? m->client_ip : "local");
	queue_wake();
	return FERR_NONE;
}

/* caller holds q.mu */
static bool
queue_is_busy(const char *id)
{
	for (size_t i = 0; i < q.nbusy; i++)
		if (strcmp(q.busy[i], id) == 0)
			return true;
	return false;
}

static void
queue_unbusy(const char *id)
{
	for (size_t i = 0; i < q.nbusy; i++) {
		if (strcmp(q.busy[i], id) == 0) {
			free(q.busy[i]);
			q.busy[i] = q.busy[--q.nbusy];
			return;
		}
	}
}

/* per-domain slot: true if taken */
static bool
queue_dom_acquire(const char *domain)
{
	bool ok = false;
	size_t i;

	pthread_mutex_lock(&q.mu);
	for (i = 0; i < q.ndoms; i++)
		if (str_ieq(q.doms[i].name, domain))
			break;
	if (i == q.ndoms) {
		q.doms = xreallocarray(q.doms, q.ndoms + 1, sizeof(*q.doms));
		str_copy(q.doms[i].name, domain, sizeof(q.doms[i].name));
		q.doms[i].n = 0;
		q.ndoms++;
	}
	if (q.doms[i].n < QUEUE_PER_DOMAIN) {
		q.doms[i].n++;
		ok = true;
	}
	pthread_mutex_unlock(&q.mu);
	return ok;
}

/* caller holds q.mu: sessions open to domain */
static int
queue_dom_count(const char *domain)
{
	for (size_t i = 0; i < q.ndoms; i++)
		if (str_ieq(q.doms[i].name, domain))
			return q.doms[i].n;
	return 0;
}

/* caller holds q.mu: append id (ownership passes) to the jobs */
static void
queue_push_job(char *id)
{
	q.jobs = xreallocarray(q.jobs, q.njobs + 1, sizeof(*q.jobs));
	q.jobs[q.njobs++] = id;
	pthread_cond_signal(&q.work_cv);
}

static void
queue_dom_release(const char *domain)
{
	pthread_mutex_lock(&q.mu);
	for (size_t i = 0; i < q.ndoms; i++) {
		if (!str_ieq(q.doms[i].name, domain))
			continue;
		if (--q.doms[i].n == 0)
			q.doms[i] = q.doms[--q.ndoms];
		break;
	}
	/* the freed slot goes to one message waiting for it */
	for (size_t i = 0; i < q.nwaits; i++) {
		if (!str_ieq(q.waits[i].domain, domain))
			continue;
		queue_push_job(q.waits[i].id);
		q.waits[i] = q.waits[--q.nwaits];
		break;
	}
	pthread_mutex_unlock(&q.mu);
}

static const char *
queue_domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL ? at + 1 : "";
}

/* one log line per recipient and attempt */
static void
queue_log_rcpt(const char *id, const struct mta_job *job,
    const struct mta_rcpt *r, const char *event, const char *status)
{
	char to[300], diag[QDIAG_MAX + 64];

	log_esc(to, sizeof(to), r->addr, strlen(r->addr));
	log_esc(diag, sizeof(diag), r->diag, strlen(r->diag));
	log_msg(strcmp(event, "delivered") == 0 ? LOG_INFO : LOG_WARN,
	    "%s smtp-out %s to=<%s> relay=%s tls=%s dsn=%s status=%s (%s)",
	    id, event, to, job->relay, job->tls, r->dsn, status, diag);
}

/* hand the DSN over; FERR_NONE when it is safe */
static enum ferr
queue_send_bounce(struct qenv *e, const char *content, size_t clen)
{
	struct buf b;
	struct iovec iov;
	const char *rcpts[1];
	struct queue_msg_in m;
	char nid[QUEUE_ID_MAX + 1], from[300];
	const char *domain;
	enum ferr fe;
	int n, local = 0;

	buf_init(&b, QUEUE_BOUNCE_MAX);
	n = bounce_build(&b, q.hostname, e, content, clen, time(NULL));
	if (n <= 0) {
		buf_free(&b);
		return n == 0 ? FERR_NONE : FERR_INTERNAL;
	}
	iov.iov_base = b.data;
	iov.iov_len = b.len;
	log_esc(from, sizeof(from), e->sender, strlen(e->sender));
	domain = queue_domain_of(e->sender);
	if (q.dir != NULL) {
		local = dir_domain_is_local(q.dir, domain);
		if (local < 0) {
			buf_free(&b);
			return FERR_TEMP;
		}
	}
	if (local == 1) {
		queue_local_fn fn;
		void *arg;

		pthread_mutex_lock(&q.mu);
		fn = q.local_fn;
		arg = q.local_arg;
		pthread_mutex_unlock(&q.mu);
		fe = fn != NULL ? fn("", e->sender, &iov, 1, arg) : FERR_TEMP;
		if (fe == FERR_NONE)
			log_info("%s queue bounce to=<%s> delivery=local "
			    "nrcpt=%d", e->id, from, n);
		else if (fe == FERR_TEMP || fe == FERR_NOSPACE ||
		    fe == FERR_INTERNAL || fe == FERR_QUOTA)
			log_warn("%s queue bounce to=<%s> delivery=local "
			    "result=%s (will retry)", e->id, from,
			    ferr_name(fe));
		else {
			/* the sender's own mailbox refuses it: nothing more
			 * can be done (a bounce of a bounce is never sent) */
			log_warn("%s queue bounce to=<%s> delivery=local "
			    "result=%s, dropped", e->id, from, ferr_name(fe));
			fe = FERR_NONE;
		}
		buf_free(&b);
		return fe;
	}
	rcpts[0] = e->sender;
	memset(&m, 0, sizeof(m));
	m.sender = "";
	m.rcpts = rcpts;
	m.nrcpts = 1;
	m.iov = &iov;
	m.iovcnt = 1;
	m.smtputf8 = e->smtputf8;
	m.client_ip = "bounce";
	fe = qfile_enqueue(q.qdir, &m, time(NULL), nid, sizeof(nid));
	if (fe == FERR_NONE)
		log_info("%s queue bounce to=<%s> delivery=queue dsn-id=%s "
		    "nrcpt=%d", e->id, from, nid, n);
	buf_free(&b);
	return fe;
}

/* map the content file read-only; *len_r 0 gives a non-NULL "" */
static const char *
queue_map(const char *id, size_t *len_r, int *ok_r)
{
	char path[PATH_MAX];
	struct stat st;
	void *p;
	int fd;

	*ok_r = 0;
	*len_r = 0;
	if (qfile_path(path, sizeof(path), q.qdir, "msg", id) < 0)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return NULL;
	}
	*ok_r = 1;
	if (st.st_size == 0) {
		close(fd);
		return "";
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		*ok_r = 0;
		return NULL;
	}
	*len_r = (size_t)st.st_size;
	return p;
}

/* apply one domain's results to the envelope and log them */
static void
queue_apply(struct qenv *e, struct mta_job *job, const size_t *idx,
    time_t now)
{
	for (size_t k = 0; k < job->nrcpts; k++) {
		struct mta_rcpt *mr = &job->rcpts[k];
		struct qrcpt *r = &e->rcpts[idx[k]];

		r->attempts++;
		str_copy(r->dsn, mr->dsn, sizeof(r->dsn));
		free(r->diag);
		r->diag = xstrdup(mr->diag);
		free(r->mta);
		r->mta = xstrdup(mr->mta);
		switch (mr->result) {
		case MTA_SENT:
			r->state = QR_SENT;
			queue_log_rcpt(e->id, job, mr, "delivered", "sent");
			break;
		case MTA_BOUNCE:
			r->state = QR_BOUNCED;
			r->notified = false;
			queue_log_rcpt(e->id, job, mr, "bounced", "bounced");
			break;
		default:
			if ((uint64_t)(now - e->arrival) >= q.lifetime) {
				r->state = QR_BOUNCED;
				r->notified = false;
				queue_log_rcpt(e->id, job, mr, "bounced",
				    "expired");
				break;
			}
			r->state = QR_DEFERRED;
			r->next_try = (int64_t)now + (int64_t)
			    qfile_retry_delay(q.retry, q.nretry, r->attempts);
			queue_log_rcpt(e->id, job, mr, "deferred",
			    "deferred");
			break;
		}
	}
}

/*
 * queue_process: one delivery round for message id. Returns true when a
 * domain was skipped for its concurrency limit (its name in skipped, of
 * DNS_NAME_MAX + 1 bytes); *due_r gets the message's next due time
 * (INT64_MAX when gone).
 */
static bool
queue_process(const char *id, int64_t *due_r, char *skipped_dom)
{
	struct qenv e;
	const char *why, *content;
	size_t clen;
	int ok, rc;
	bool skipped = false, dirty = false;
	time_t now = time(NULL);
	char **doms = NULL;
	size_t ndoms = 0;

	*due_r = INT64_MAX;
	rc = qenv_load(q.qdir, id, &e, &why);
	if (rc <= 0) {
		if (rc < 0)
			log_error("%s queue envelope unreadable: %s", id, why);
		return false;
	}
	content = queue_map(id, &clen, &ok);
	if (!ok) {
		int saved = errno;

		/* only a missing file is final; EMFILE, EIO... retry */
		if (saved == ENOENT) {
			log_error("%s queue content missing; message removed",
			    id);
			(void)qfile_remove(q.qdir, id);
		} else {
			log_error("%s queue content unreadable: %s", id,
			    strerror(saved));
			*due_r = (int64_t)now + QUEUE_RESCAN_S;
		}
		qenv_free(&e);
		return false;
	}
	/* the due recipients' domains, each once */
	for (size_t i = 0; i < e.nrcpts; i++) {
		struct qrcpt *r = &e.rcpts[i];
		const char *d = queue_domain_of(r->addr);
		size_t j;

		if ((r->state != QR_PENDING && r->state != QR_DEFERRED) ||
		    r->next_try > (int64_t)now)
			continue;
		for (j = 0; j < ndoms; j++)
			if (str_ieq(doms[j], d))
				break;
		if (j == ndoms) {
			doms = xreallocarray(doms, ndoms + 1, sizeof(*doms));
			doms[ndoms++] = xstrdup(d);
		}
	}
	for (size_t di = 0; di < ndoms; di++) {
		struct mta_job job;
		struct mta_rcpt *mr;
		size_t *idx, n = 0;

		if (!queue_dom_acquire(doms[di])) {
			if (!skipped)
				str_copy(skipped_dom, doms[di],
				    DNS_NAME_MAX + 1);
			skipped = true;
			continue;
		}
		mr = xcalloc(e.nrcpts, sizeof(*mr));
		idx = xcalloc(e.nrcpts, sizeof(*idx));
		for (size_t i = 0; i < e.nrcpts; i++) {
			struct qrcpt *r = &e.rcpts[i];

			if ((r->state != QR_PENDING &&
			    r->state != QR_DEFERRED) ||
			    r->next_try > (int64_t)now ||
			    !str_ieq(queue_domain_of(r->addr), doms[di]))
				continue;
			mr[n].addr = r->addr;
			idx[n++] = i;
		}
		memset(&job, 0, sizeof(job));
		job.queue_id = e.id;
		job.sender = e.sender;
		job.domain = doms[di];
		job.rcpts = mr;
		job.nrcpts = n;
		job.content = content;
		job.clen = clen;
		job.eightbit = e.eightbit;
		job.smtputf8 = e.smtputf8;
		job.needs_utf8 = mta_needs_smtputf8(e.sender, mr, n,
		    e.smtputf8, content, clen);
		mta_deliver(&q.mta, &job);
		queue_dom_release(doms[di]);
		queue_apply(&e, &job, idx, time(NULL));
		free(mr);
		free(idx);
		rc = qenv_update(q.qdir, &e);
		if (rc == 0) {
			log_info("%s queue removed while delivering", id);
			goto out;
		}
		if (rc < 0)
			log_error("%s queue envelope save: %s", id,
			    strerror(errno));
	}
	/* bounces */
	for (size_t i = 0; i < e.nrcpts; i++) {
		if (e.rcpts[i].state == QR_BOUNCED && !e.rcpts[i].notified) {
			dirty = true;
			break;
		}
	}
	if (dirty) {
		enum ferr fe = FERR_NONE;

		if (e.sender[0] == '\0')
			log_info("%s queue bounce skipped: null sender", id);
		else
			fe = queue_send_bounce(&e, content, clen);
		if (fe != FERR_NONE &&
		    (uint64_t)(now - e.arrival) >= q.lifetime) {
			/* a DSN that could not be handed over for the whole
			 * queue lifetime (mailbox over quota, directory down):
			 * give up rather than keep the message forever */
			log_warn("%s queue bounce dropped after queue_lifetime:"
			    " %s", id, ferr_name(fe));
			fe = FERR_NONE;
		}
		if (fe == FERR_NONE) {
			for (size_t i = 0; i < e.nrcpts; i++)
				if (e.rcpts[i].state == QR_BOUNCED)
					e.rcpts[i].notified = true;
			rc = qenv_update(q.qdir, &e);
			if (rc == 0) {
				log_info("%s queue removed while delivering",
				    id);
				goto out;
			}
			if (rc < 0)
				log_error("%s queue envelope save: %s", id,
				    strerror(errno));
		}
	}
	if (qenv_done(&e)) {
		if (qfile_remove(q.qdir, id) < 0)
			log_error("%s queue remove: %s", id, strerror(errno));
		else
			log_info("%s queue removed", id);
	} else
		*due_r = qenv_next_due(&e);
out:
	for (size_t i = 0; i < ndoms; i++)
		free(doms[i]);
	free(doms);
	if (clen > 0)
		munmap((void *)(uintptr_t)content, clen);
	qenv_free(&e);
	return skipped;
}

static void *
queue_worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&q.mu);
	for (;;) {
		char *id, skipped_dom[DNS_NAME_MAX + 1];
		bool skipped;
		int64_t due;

		while (q.njobs == 0 && !q.stop)
			pthread_cond_wait(&q.work_cv, &q.mu);
		if (q.stop)
			break;
		id = q.jobs[0];
		memmove(q.jobs, q.jobs + 1, (q.njobs - 1) * sizeof(*q.jobs));
		q.njobs--;
		pthread_mutex_unlock(&q.mu);
		skipped = queue_process(id, &due, skipped_dom);
		pthread_mutex_lock(&q.mu);
		if (skipped) {
			/* stays busy: back to the jobs at once if a slot
			 * freed meanwhile, else when queue_dom_release frees
			 * one (both under q.mu: no wake-up is lost) */
			if (queue_dom_count(skipped_dom) < QUEUE_PER_DOMAIN) {
				queue_push_job(id);
			} else {
				q.waits = xreallocarray(q.waits, q.nwaits + 1,
				    sizeof(*q.waits));
				q.waits[q.nwaits].id = id;
				str_copy(q.waits[q.nwaits].domain, skipped_dom,
				    sizeof(q.waits[0].domain));
				q.nwaits++;
			}
			continue;
		}
		/* still due right after a round: the work could not be done
		 * (a bounce that could not be handed over); do not spin */
		if (due <= (int64_t)time(NULL))
			due = (int64_t)time(NULL) + QUEUE_RESCAN_S;
		if (due < q.hint) {
			q.hint = due;
			pthread_cond_signal(&q.sched_cv);
		}
		queue_unbusy(id);
		free(id);
	}
	pthread_mutex_unlock(&q.mu);
	return NULL;
}

/* cache lookup/insert by id (scheduler thread only) */
static struct queue_cache *
queue_cache_get(const char *id)
{
	for (size_t i = 0; i < q.ncache; i++)
		if (strcmp(q.cache[i].id, id) == 0)
			return &q.cache[i];
	q.cache = xreallocarray(q.cache, q.ncache + 1, sizeof(*q.cache));
	memset(&q.cache[q.ncache], 0, sizeof(*q.cache));
	str_copy(q.cache[q.ncache].id, id, sizeof(q.cache[0].id));
	q.cache[q.ncache].due = -1;
	return &q.cache[q.ncache++];
}

/* due time of id: from the cache while the file is unchanged */
static int64_t
queue_due(const char *id)
{
	struct queue_cache *ce = queue_cache_get(id);
	char path[PATH_MAX];
	struct stat st;
	struct qenv e;
	const char *why;
	int rc;

	ce->seen = true;
	if (qfile_path(path, sizeof(path), q.qdir, "env", id) < 0 ||
	    stat(path, &st) < 0)
		return INT64_MAX;
	if (ce->due >= 0 && st.st_ino == ce->ino &&
	    st.st_mtim.tv_sec == ce->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == ce->mtime.tv_nsec)
		return ce->bad ? INT64_MAX : ce->due;
	ce->ino = st.st_ino;
	ce->mtime = st.st_mtim;
	rc = qenv_load(q.qdir, id, &e, &why);
	if (rc <= 0) {
		if (rc < 0 && !ce->bad)
			log_error("%s queue envelope unreadable: %s", id, why);
		ce->bad = rc < 0;
		ce->due = INT64_MAX;
		return INT64_MAX;
	}
	ce->bad = false;
	ce->due = qenv_next_due(&e);
	qenv_free(&e);
	return ce->due;
}

static void *
queue_scheduler(void *arg)
{
	(void)arg;
	for (;;) {
		char **ids = NULL;
		size_t n = 0, k = 0;
		time_t now = time(NULL);
		int64_t next = (int64_t)now + QUEUE_RESCAN_S;
		struct timespec ts;

		pthread_mutex_lock(&q.mu);
		if (q.stop) {
			pthread_mutex_unlock(&q.mu);
			break;
		}
		q.wake = false;
		q.hint = INT64_MAX;
		pthread_mutex_unlock(&q.mu);
		if (qfile_list(q.qdir, &ids, &n) < 0)
			log_error("queue scan %s/env: %s", q.qdir,
			    strerror(errno));
		for (size_t i = 0; i < q.ncache; i++)
			q.cache[i].seen = false;
		for (size_t i = 0; i < n; i++) {
			int64_t due;
			bool busy;

			pthread_mutex_lock(&q.mu);
			busy = queue_is_busy(ids[i]);
			pthread_mutex_unlock(&q.mu);
			if (busy) {
				queue_cache_get(ids[i])->seen = true;
				continue;
			}
			due = queue_due(ids[i]);
			if (due > (int64_t)now) {
				if (due < next)
					next = due;
				continue;
			}
			pthread_mutex_lock(&q.mu);
			q.busy = xreallocarray(q.busy, q.nbusy + 1,
			    sizeof(*q.busy));
			q.busy[q.nbusy++] = xstrdup(ids[i]);
			queue_push_job(xstrdup(ids[i]));
			pthread_mutex_unlock(&q.mu);
			/* the worker rewrites the file: re-read next time */
			queue_cache_get(ids[i])->due = -1;
		}
		qfile_list_free(ids, n);
		/* forget removed messages */
		for (size_t i = 0; i < q.ncache; i++)
			if (q.cache[i].seen)
				q.cache[k++] = q.cache[i];
		q.ncache = k;
		pthread_mutex_lock(&q.mu);
		while (!q.stop && !q.wake) {
			int64_t target = q.hint < next ? q.hint : next;

			if (target <= (int64_t)time(NULL))
				break;
			ts.tv_sec = (time_t)target;
			ts.tv_nsec = 0;
			if (pthread_cond_timedwait(&q.sched_cv, &q.mu,
			    &ts) == ETIMEDOUT)
				break;
		}
		pthread_mutex_unlock(&q.mu);
	}
	return NULL;
}

/* relayhost "host", "host:port", "[host]:port", "[v6]:port" */
static int
queue_parse_relay(const char *s)
{
	char host[DNS_NAME_MAX + 1];
	const char *port = NULL;
	uint32_t pn = 25;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || (size_t)(rb - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = '\0';
		if (rb[1] == ':')
			port = rb + 2;
	} else {
		const char *c = strrchr(s, ':');

		if (c != NULL && strchr(s, ':') == c) {
			if ((size_t)(c - s) >= sizeof(host))
				return -1;
			memcpy(host, s, (size_t)(c - s));
			host[c - s] = '\0';
			port = c + 1;
		} else if (str_copy(host, s, sizeof(host)) >= sizeof(host))
			return -1;
	}
	if (port != NULL && (str_to_u32(port, &pn) < 0 || pn == 0 ||
	    pn > 65535))
		return -1;
	q.relay_host = xstrdup(host);
	q.mta.relay_host = q.relay_host;
	q.mta.relay_port = (uint16_t)pn;
	return 0;
}

static int
queue_read_auth(const char *path)
{
	struct buf b;
	char *line, *colon, *nl;
	int rc;

	buf_init(&b, 4096);
	rc = fs_read_file(path, &b);
	if (rc <= 0) {
		log_error("queue relayhost_auth_file %s: %s", path,
		    rc == 0 ? "not found" : strerror(errno));
		buf_free(&b);
		return -1;
	}
	line = b.data != NULL ? b.data : (char *)"";
	nl = strpbrk(line, "\r\n");
	if (nl != NULL)
		*nl = '\0';
	colon = strchr(line, ':');
	if (colon == NULL || colon == line) {
		log_error("queue relayhost_auth_file %s: expected "
		    "user:password", path);
		buf_free(&b);
		return -1;
	}
	*colon = '\0';
	q.relay_user = xstrdup(line);
	q.relay_pass = xstrdup(colon + 1);
	explicit_bzero(b.data, b.len);
	buf_free(&b);
	q.mta.relay_user = q.relay_user;
	q.mta.relay_pass = q.relay_pass;
	return 0;
}

/* internal knobs for tests, from the environment */
static int
queue_env_int(const char *name, int def)
{
	const char *v = getenv(name);
	uint32_t u;

	if (v == NULL || str_to_u32(v, &u) < 0 || u > INT32_MAX)
		return def;
	return (int)u;
}

int
queue_start(const struct conf *c, struct dir *d)
{
	const char *why;
	pthread_attr_t attr;
	int left;

	if (q.started)
		return 0;
	if (qfile_init_dirs(c->queue_dir) < 0) {
		log_error("queue %s: %s", c->queue_dir, strerror(errno));
		return -1;
	}
	left = qfile_recover(c->queue_dir);
	if (left < 0) {
		log_error("queue recover %s: %s", c->queue_dir,
		    strerror(errno));
		return -1;
	}
	if (dns_configure(c->dns_server, queue_env_int("FACTEUR_DNS_TIMEOUT_MS",
	    2000), 3, &why) < 0) {
		log_error("queue dns_server %s: %s", c->dns_server, why);
		return -1;
	}
	q.qdir = xstrdup(c->queue_dir);
	q.hostname = xstrdup(c->hostname);
	q.nretry = c->queue_retry_count;
	memcpy(q.retry, c->queue_retry, sizeof(q.retry));
	q.lifetime = c->queue_lifetime;
	q.dir = d;
	memset(&q.mta, 0, sizeof(q.mta));
	q.mta.hostname = q.hostname;
	q.mta.port = (uint16_t)queue_env_int("FACTEUR_SMTP_PORT", 25);
	mta_timeouts_default(&q.mta.to,
	    queue_env_int("FACTEUR_SMTP_TIMEOUT_MS", 0));
	if (c->relayhost != NULL && c->relayhost[0] != '\0') {
		if (queue_parse_relay(c->relayhost) < 0) {
			log_error("queue relayhost %s: expected host[:port]",
			    c->relayhost);
			return -1;
		}
		if (c->relayhost_auth_file != NULL &&
		    c->relayhost_auth_file[0] != '\0' &&
		    queue_read_auth(c->relayhost_auth_file) < 0)
			return -1;
	}
	q.mta.tls = tls_client_new(&why);
	if (q.mta.tls == NULL)
		log_warn("queue tls client context: %s; STARTTLS disabled",
		    why);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, QUEUE_STACK);
	q.stop = false;
	q.hint = INT64_MAX;
	for (int i = 0; i < QUEUE_WORKERS; i++) {
		if (pthread_create(&q.workers[i], &attr, queue_worker,
		    NULL) != 0)
			break;
		q.nworkers++;
	}
	if (q.nworkers == 0 ||
	    pthread_create(&q.sched, &attr, queue_scheduler, NULL) != 0) {
		pthread_attr_destroy(&attr);
		log_error("queue: cannot start threads");
		return -1;
	}
	q.inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (q.inotify_fd >= 0 && (inotify_add_watch(q.inotify_fd, q.qdir,
	    IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVED_TO) < 0 ||
	    pthread_create(&q.watch, &attr, queue_watch, NULL) != 0)) {
		close(q.inotify_fd);
		q.inotify_fd = -1;
	}
	if (q.inotify_fd < 0)
		log_warn("queue: no inotify watch on %s; `facteur queue retry`"
		    " takes effect within %d s", q.qdir, QUEUE_RESCAN_S);
	pthread_attr_destroy(&attr);
	q.started = true;
	log_info("queue started dir=%s messages=%d relayhost=%s", q.qdir,
	    left, q.relay_host != NULL ? q.relay_host : "none");
	return 0;
}

void
queue_stop(void)
{
	if (!q.started)
		return;
	pthread_mutex_lock(&q.mu);
	q.stop = true;
	pthread_cond_broadcast(&q.sched_cv);
	pthread_cond_broadcast(&q.work_cv);
	pthread_mutex_unlock(&q.mu);
	pthread_join(q.sched, NULL);
	if (q.inotify_fd >= 0) {
		pthread_join(q.watch, NULL);
		close(q.inotify_fd);
		q.inotify_fd = -1;
	}
	/* a worker may be inside an SMTP session with long timeouts: give
	 * them a few seconds, then leave them to the process exit (their
	 * messages are safe on disk and resume at the next start) */
	{
		struct timespec dl;
		int left = 0;

		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 5;
		for (int i = 0; i < q.nworkers; i++)
			if (pthread_timedjoin_np(q.workers[i], NULL, &dl) != 0)
				left++;
		q.nworkers = 0;
		if (left > 0) {
			log_warn("queue stopped with %d deliveries in "
			    "progress", left);
			return;
		}
	}
	for (size_t i = 0; i < q.njobs; i++)
		free(q.jobs[i]);
	free(q.jobs);
	q.jobs = NULL;
	q.njobs = 0;
	for (size_t i = 0; i < q.nwaits; i++)
		free(q.waits[i].id);
	free(q.waits);
	q.waits = NULL;
	q.nwaits = 0;
	for (size_t i = 0; i < q.nbusy; i++)
		free(q.busy[i]);
	free(q.busy);
	q.busy = NULL;
	q.nbusy = 0;
	free(q.doms);
	q.doms = NULL;
	q.ndoms = 0;
	free(q.cache);
	q.cache = NULL;
	q.ncache = 0;
	tls_ctx_free(&q.mta.tls);
	free(q.relay_host);
	free(q.relay_user);
	if (q.relay_pass != NULL)
		explicit_bzero(q.relay_pass, strlen(q.relay_pass));
	free(q.relay_pass);
	free(q.hostname);
	free(q.qdir);
	q.relay_host = q.relay_user = q.relay_pass = q.hostname = NULL;
	q.qdir = NULL;
	q.started = false;
}
