/*
 * server - listeners and the thread-per-connection accept loop.
 *
 * Limits: max_connections in all, max_per_ip from one address (IPv6
 * counted per /64, so one host cannot dodge the limit by rotating
 * addresses inside its prefix). A connection over a limit still gets a
 * thread briefly so the protocol can say "busy" in its own words, unless
 * the process is far over (2x), when it is closed at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/str.h"
#include "core/strnum.h"
#include "core/xmalloc.h"
#include "net/server.h"

#define IPTAB_SIZE 4096		/* buckets of the per-IP counter table */

struct ipent {
	struct ipent	*next;
	unsigned	 count;
	char		 key[INET6_ADDRSTRLEN];
};

static pthread_mutex_t srv_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ipent *srv_iptab[IPTAB_SIZE];
static unsigned srv_active;
static struct server_limits srv_limits;
static volatile int srv_stopping;
static int srv_stop_pipe[2] = { -1, -1 };

static const char *const lk_names[LK_COUNT] = {
	"smtp", "smtps", "submission", "imaps", "imap", "pop3s", "pop3",
	"admin"
};

const char *
listen_kind_name(enum listen_kind k)
{
	return (unsigned)k < LK_COUNT ? lk_names[k] : "unknown";
}

int
listen_bind(const char *spec, char *err, size_t errlen)
{
	char host[256];
	const char *port;
	struct addrinfo hints, *res = NULL;
	int fd, rc, one = 1, zero = 0;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (end == NULL || end[1] != ':' ||
		    (size_t)(end - spec - 1) >= sizeof(host)) {
			snprintf(err, errlen, "%s: bad listen address", spec);
			return -1;
		}
		memcpy(host, spec + 1, (size_t)(end - spec - 1));
		host[end - spec - 1] = '\0';
		port = end + 2;
	} else {
		const char *colon = strrchr(spec, ':');

		if (colon == NULL || (size_t)(colon - spec) >= sizeof(host)) {
			snprintf(err, errlen, "%s: bad listen address", spec);
			return -1;
		}
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
		port = colon + 1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] != '\0' && strcmp(host, "*") != 0 ? host :
	    NULL, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", spec, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC,
	    res->ai_protocol);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", spec, strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (res->ai_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
		    sizeof(zero));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    listen(fd, 1024) < 0) {
		snprintf(err, errlen, "%s: %s", spec, strerror(errno));
		close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	return fd;
}

static unsigned
ip_hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h % IPTAB_SIZE;
}

/* ip_key: the limit key of an address: IPv4 as is, IPv6 its /64. */
static void
ip_key(const char *ip, char *key, size_t keylen)
{
	struct in6_addr a6;

	if (strchr(ip, ':') != NULL && inet_pton(AF_INET6, ip, &a6) == 1) {
		memset(&a6.s6_addr[8], 0, 8);
		inet_ntop(AF_INET6, &a6, key, (socklen_t)keylen);
		return;
	}
	str_copy(key, ip, keylen);
}

/* srv_admit: count a new connection; returns its over-limit reason or
 * NULL. Always counted (srv_release undoes it). */
static const char *
srv_admit(const char *ip, unsigned *ipcount_r)
{
	char key[INET6_ADDRSTRLEN];
	struct ipent *e;
	unsigned h;
	const char *why = NULL;

	ip_key(ip, key, sizeof(key));
	h = ip_hash(key);
	pthread_mutex_lock(&srv_lock);
	for (e = srv_iptab[h]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			break;
	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		str_copy(e->key, key, sizeof(e->key));
		e->next = srv_iptab[h];
		srv_iptab[h] = e;
	}
	e->count++;
	srv_active++;
	if (srv_limits.max_connections > 0 &&
	    srv_active > srv_limits.max_connections)
		why = "too many connections";
	else if (srv_limits.max_per_ip > 0 && e->count > srv_limits.max_per_ip)
		why = "too many connections from your address";
	*ipcount_r = srv_active;
	pthread_mutex_unlock(&srv_lock);
	return why;
}

static void
srv_release(const char *ip)
{
	char key[INET6_ADDRSTRLEN];
	struct ipent *e, **pp;
	unsigned h;

	ip_key(ip, key, sizeof(key));
	h = ip_hash(key);
	pthread_mutex_lock(&srv_lock);
	for (pp = &srv_iptab[h]; *pp != NULL; pp = &(*pp)->next) {
		e = *pp;
		if (strcmp(e->key, key) != 0)
			continue;
		if (--e->count == 0) {
			*pp = e->next;
			free(e);
		}
		break;
	}
	srv_active--;
	pthread_mutex_unlock(&srv_lock);
}

unsigned
server_active(void)
{
	unsigned n;

	pthread_mutex_lock(&srv_lock);
	n = srv_active;
	pthread_mutex_unlock(&srv_lock);
	return n;
}

struct srv_job {
	const struct server_listener *l;
	struct conn	*c;
	struct session_info si;
	char		 ip[INET6_ADDRSTRLEN];
};

static void *
srv_conn_thread(void *arg)
{
	struct srv_job *job = arg;

	job->l->fn(job->c, &job->si, job->l->arg);
	srv_release(job->ip);
	free(job);
	return NULL;
}

static void *
srv_accept_thread(void *arg)
{
	const struct server_listener *l = arg;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (srv_limits.stack_size > 0)
		pthread_attr_setstacksize(&attr, srv_limits.stack_size);
	for (;;) {
		struct srv_job *job;
		pthread_t tid;
		unsigned active;
		int fd;

		{
			struct pollfd pfd[2] = {
				{ .fd = l->fd, .events = POLLIN },
				{ .fd = srv_stop_pipe[0], .events = POLLIN },
			};

			if (poll(pfd, 2, -1) < 0 && errno != EINTR)
				usleep(10000);
			if (srv_stopping || pfd[1].revents != 0)
				break;
			if ((pfd[0].revents & POLLIN) == 0)
				continue;
		}
		fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (srv_stopping)
				break;
			/* EAGAIN: another process (a worker during a reload)
			 * took the connection first */
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("server %s accept: %s; pausing",
				    listen_kind_name(l->kind), strerror(errno));
				usleep(100000);
				continue;
			}
			if (errno == EBADF || errno == EINVAL)
				break;
			continue;
		}
		job = xcalloc(1, sizeof(*job));
		job->l = l;
		job->c = conn_new(fd);
		str_copy(job->ip, conn_peer_ip(job->c), sizeof(job->ip));
		job->si.kind = l->kind;
		job->si.limit_reason = srv_admit(job->ip, &active);
		job->si.over_limit = job->si.limit_reason != NULL;
		if (job->si.over_limit && srv_limits.max_connections > 0 &&
		    active > 2 * srv_limits.max_connections) {
			/* far over: no thread, just close */
			conn_free(&job->c);
			srv_release(job->ip);
			free(job);
			continue;
		}
		if (pthread_create(&tid, &attr, srv_conn_thread, job) != 0) {
			log_warn("server %s: cannot create thread: %s",
			    listen_kind_name(l->kind), strerror(errno));
			conn_free(&job->c);
			srv_release(job->ip);
			free(job);
			usleep(10000);
		}
	}
	pthread_attr_destroy(&attr);
	/* this process's copy only: the socket lives on in the supervisor */
	close(l->fd);
	return NULL;
}

int
server_start(const struct server_listener *l, size_t n,
    const struct server_limits *lim)
{
	pthread_attr_t attr;
	size_t i;

	srv_limits = *lim;
	if (pipe2(srv_stop_pipe, O_CLOEXEC) < 0)
		return -1;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (i = 0; i < n; i++) {
		pthread_t tid;

		/* never block in accept(): the socket is shared with the
		 * supervisor and, during a reload, with the next worker */
		int fl = fcntl(l[i].fd, F_GETFL);

		if (fl >= 0)
			(void)fcntl(l[i].fd, F_SETFL, fl | O_NONBLOCK);
		if (pthread_create(&tid, &attr, srv_accept_thread,
		    (void *)&l[i]) != 0) {
			pthread_attr_destroy(&attr);
			return -1;
		}
	}
	pthread_attr_destroy(&attr);
	return 0;
}

void
server_stop(void)
{
	/*
	 * Never shutdown() a listening socket here: it is one socket shared
	 * with the supervisor and the next worker, and shutdown() would
	 * stop it for all of them. The accept threads wake on the pipe and
	 * close this process's copies, so the port is free again as soon
	 * as no other process holds it.
	 */
	srv_stopping = 1;
	if (srv_stop_pipe[1] >= 0)
		(void)!write(srv_stop_pipe[1], "x", 1);
}
