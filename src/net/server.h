/*
 * server - listening sockets and the thread-per-connection accept loop.
 *
 * The supervisor binds every listener as root (listen_bind) and hands the
 * sockets to the worker; the worker runs server_run(), which starts one
 * accept thread per listener. Each accepted connection gets a detached
 * thread with a small stack running the listener's handler; per-IP and
 * global connection limits are enforced before the handler runs (the
 * handler is told, so the protocol can answer with its own busy reply).
 */
#ifndef NET_SERVER_H
#define NET_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "net/conn.h"

enum listen_kind {
	LK_SMTP = 0,	/* 25, STARTTLS offered */
	LK_SMTPS,	/* 465, implicit TLS, submission */
	LK_SUBMISSION,	/* 587, STARTTLS required before AUTH */
	LK_IMAPS,
	LK_IMAP,
	LK_POP3S,
	LK_POP3,
	LK_ADMIN,	/* HTTPS */
	LK_COUNT
};

/* listen_kind_name: "smtp", "smtps", "submission", "imaps", ... */
const char *listen_kind_name(enum listen_kind k);

/*
 * listen_bind: parse "[::]:25", "127.0.0.1:2525", "[::1]:993" and return a
 * listening socket (SO_REUSEADDR, IPV6_V6ONLY off for [::]). -1 with a
 * reason in err.
 */
int listen_bind(const char *spec, char *err, size_t errlen);

/* What a handler learns about its connection. */
struct session_info {
	enum listen_kind kind;
	bool		 over_limit;	/* per-IP or global limit reached:
					 * answer "busy" and return */
	const char	*limit_reason;	/* "too many connections from ..." */
};

typedef void (*server_handler_fn)(struct conn *c,
    const struct session_info *si, void *arg);

struct server_listener {
	enum listen_kind  kind;
	int		  fd;
	server_handler_fn fn;
	void		 *arg;
};

struct server_limits {
	unsigned max_connections;
	unsigned max_per_ip;
	size_t	 stack_size;	/* per connection thread */
};

/*
 * server_start: start accept threads for n listeners. Returns 0, or -1
 * (thread creation failed). The handler owns the conn and must free it.
 */
int server_start(const struct server_listener *l, size_t n,
    const struct server_limits *lim);
/* server_stop: stop accepting (close listeners); in-flight sessions go
 * on. server_active: connections now open. */
void server_stop(void);
unsigned server_active(void);

#endif
