/*
 * events - a small in-process ring of recent notable events (deliveries,
 * rejections, auth failures) for the admin dashboard. Bounded (the last
 * EVENTS_MAX), thread-safe, text already escaped by the caller.
 */
#ifndef CORE_EVENTS_H
#define CORE_EVENTS_H

#include <stddef.h>
#include <time.h>

#define EVENTS_MAX	200
#define EVENT_TEXT_MAX	200

struct event {
	time_t	when;
	char	kind[16];	/* "delivered", "rejected", "auth-fail", ... */
	char	text[EVENT_TEXT_MAX];
};

void events_push(const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* events_recent: copy up to max newest events (newest first); returns n. */
size_t events_recent(struct event *out, size_t max);
/* events_count: how many events of kind were pushed since start. */
unsigned long events_count(const char *kind);

#endif
