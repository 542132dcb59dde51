/*
 * queue - the outbound queue in queue_dir: messages for remote
 * recipients, kept durably until every recipient has a final answer.
 *
 * Contract for the SMTP server (the one sideways edge smtp -> queue):
 * queue_enqueue() writes content and envelope and fsyncs both before it
 * returns, so the server may answer 250 right after. Message content is
 * passed with LF line ends (facteur's internal form); the queue sends it
 * with CRLF and dot-stuffing.
 *
 * Local recipients never enter the queue, except bounces (DSNs) to local
 * senders: the worker registers the local delivery function with
 * queue_set_local_delivery() so the queue can hand those over without
 * depending on smtp/.
 */
#ifndef QUEUE_QUEUE_H
#define QUEUE_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/conf.h"
#include "core/err.h"

#define QUEUE_ID_MAX 40

struct dir;

struct queue_msg_in {
	const char	*sender;	/* "" = null sender <> */
	const char *const *rcpts;	/* remote recipient addresses */
	size_t		 nrcpts;
	const struct iovec *iov;	/* content pieces, LF line ends */
	int		 iovcnt;
	int		 smtputf8;	/* client used SMTPUTF8 */
	int		 eightbit;	/* BODY=8BITMIME */
	const char	*auth_user;	/* submitting user or NULL (forward) */
	const char	*client_ip;	/* for logs */
};

/*
 * queue_enqueue: durable write (content, then envelope, each fsynced and
 * renamed into place, directory fsynced). Returns FERR_NONE and the
 * queue id in id_r, or FERR_NOSPACE / FERR_TEMP / FERR_INTERNAL with
 * nothing left behind. Wakes the scheduler.
 */
enum ferr queue_enqueue(const struct queue_msg_in *m, char *id_r,
    size_t idlen);

/*
 * Local delivery hook: deliver content to one local address (resolved by
 * the callee); returns FERR_*.
 */
typedef enum ferr (*queue_local_fn)(const char *sender, const char *rcpt,
    const struct iovec *iov, int iovcnt, void *arg);
void queue_set_local_delivery(queue_local_fn fn, void *arg);

/*
 * queue_start: in the worker, after privileges are dropped: recover the
 * queue directory (finish or discard half-written entries), start the
 * scheduler and delivery threads. 0 or -1 (fatal at start-up).
 */
int queue_start(const struct conf *c, struct dir *d);
void queue_stop(void);

/*
 * queue_kick: make the scheduler rescan queue_dir now (after an envelope
 * was rewritten in this process, e.g. a retry from the admin page).
 * Other processes use qfile_kick(), which the scheduler watches.
 */
void queue_kick(void);

#endif
