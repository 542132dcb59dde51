/*
 * events - ring buffer of recent events for the dashboard. See events.h.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/events.h"
#include "core/str.h"

#define EV_KINDS 16

static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static struct event ev_ring[EVENTS_MAX];
static size_t ev_next, ev_fill;
static struct {
	char		kind[16];
	unsigned long	count;
} ev_counts[EV_KINDS];

void
events_push(const char *kind, const char *fmt, ...)
{
	struct event *e;
	va_list ap;
	size_t i;

	pthread_mutex_lock(&ev_lock);
	e = &ev_ring[ev_next];
	e->when = time(NULL);
	str_copy(e->kind, kind, sizeof(e->kind));
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	ev_next = (ev_next + 1) % EVENTS_MAX;
	if (ev_fill < EVENTS_MAX)
		ev_fill++;
	for (i = 0; i < EV_KINDS; i++) {
		if (ev_counts[i].kind[0] == '\0')
			str_copy(ev_counts[i].kind, kind,
			    sizeof(ev_counts[i].kind));
		if (strcmp(ev_counts[i].kind, kind) == 0) {
			ev_counts[i].count++;
			break;
		}
	}
	pthread_mutex_unlock(&ev_lock);
}

size_t
events_recent(struct event *out, size_t max)
{
	size_t i, n;

	pthread_mutex_lock(&ev_lock);
	n = ev_fill < max ? ev_fill : max;
	for (i = 0; i < n; i++)
		out[i] = ev_ring[(ev_next + EVENTS_MAX - 1 - i) % EVENTS_MAX];
	pthread_mutex_unlock(&ev_lock);
	return n;
}

unsigned long
events_count(const char *kind)
{
	unsigned long n = 0;
	size_t i;

	pthread_mutex_lock(&ev_lock);
	for (i = 0; i < EV_KINDS; i++)
		if (strcmp(ev_counts[i].kind, kind) == 0)
			n = ev_counts[i].count;
	pthread_mutex_unlock(&ev_lock);
	return n;
}
