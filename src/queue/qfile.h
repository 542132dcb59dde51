/*
 * qfile - the queue's files in queue_dir (layout in docs/queue.md):
 *
 *   queue_dir/tmp/<id>.<kind>.<rand>  being written; removed at start-up
 *   queue_dir/msg/<id>               content, LF line ends, never changed
 *   queue_dir/env/<id>               envelope: key=value text, replaced
 *                                    atomically (tmp, fsync, rename,
 *                                    fsync dir) after every attempt
 *
 * A message exists when its envelope exists: content is written first,
 * envelope last; removal goes the other way. Internal to queue/ and the
 * `facteur queue` command.
 */
#ifndef QUEUE_QFILE_H
#define QUEUE_QFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"
#include "queue/queue.h"

#define QENV_MAX	(32 * 1024 * 1024)	/* envelope file ceiling */
#define QRCPT_MAX	10000
#define QDIAG_MAX	512

enum qrcpt_state {
	QR_PENDING = 0,	/* never tried */
	QR_DEFERRED,	/* tried, temporary failure, next_try set */
	QR_SENT,	/* a remote server said 250: never send again */
	QR_BOUNCED	/* permanent failure or expired */
};

struct qrcpt {
	char		*addr;
	enum qrcpt_state state;
	uint32_t	 attempts;
	int64_t		 next_try;	/* unix time; 0 = now */
	bool		 notified;	/* bounce: DSN handed over */
	char		 dsn[16];	/* last status, "5.1.1"; "" none */
	char		*mta;		/* remote MTA host name; "" none */
	char		*diag;		/* last reply / reason; "" none */
};

struct qenv {
	char		 id[QUEUE_ID_MAX + 1];
	int64_t		 arrival;
	char		*sender;	/* "" = null sender */
	char		*auth_user;	/* "" = none */
	char		*client_ip;	/* "" = none */
	bool		 smtputf8;
	bool		 eightbit;
	uint64_t	 size;		/* content bytes (LF form) */
	struct qrcpt	*rcpts;
	size_t		 nrcpts;
};

const char *qrcpt_state_name(enum qrcpt_state s);

/* qfile_valid_id: only [0-9A-Za-z] and 1..QUEUE_ID_MAX long. */
bool qfile_valid_id(const char *id);
/* qfile_path: "<qdir>/<sub>/<id>" into dst. 0 or -1 (too long). */
int qfile_path(char *dst, size_t len, const char *qdir, const char *sub,
    const char *id);
/* qfile_init_dirs: create qdir/{msg,env,tmp} (0700). 0 or -1 (errno). */
int qfile_init_dirs(const char *qdir);

/* qenv_format: the envelope text into out (reset first). 0 or -1. */
int qenv_format(const struct qenv *e, struct buf *out);
/*
 * qenv_parse: text of len bytes into e (zeroed first; free with
 * qenv_free). 0, or -1 with a static reason (e freed).
 */
int qenv_parse(const char *text, size_t len, struct qenv *e,
    const char **why_r);
void qenv_free(struct qenv *e);
/* qenv_add_rcpt: append a pending recipient (copied). */
void qenv_add_rcpt(struct qenv *e, const char *addr);

/* qenv_load: 1 loaded, 0 no such envelope, -1 error (why_r). */
int qenv_load(const char *qdir, const char *id, struct qenv *e,
    const char **why_r);
/* qenv_save: durable atomic write of env/<id> (created or replaced).
 * 0 or -1 (errno). */
int qenv_save(const char *qdir, const struct qenv *e);
/*
 * qenv_update: like qenv_save, but only while env/<id> still exists
 * (atomically: a message delivered, bounced or deleted meanwhile is
 * never brought back). Use it for every rewrite of a queued message
 * (attempt results, retry). 1 written, 0 the message is gone, -1 error.
 */
int qenv_update(const char *qdir, const struct qenv *e);

/*
 * qenv_next_due: when the message next needs work: the earliest
 * next_try of pending/deferred recipients, or 0 when a bounce still has
 * to be reported; INT64_MAX when nothing is left.
 */
int64_t qenv_next_due(const struct qenv *e);
/* qenv_done: every recipient sent, or bounced and reported. */
bool qenv_done(const struct qenv *e);

/*
 * qfile_retry_delay: seconds to wait after the attempts-th failed attempt
 * (1-based): steps[attempts-1], the last step repeating. 60 if n == 0.
 */
uint64_t qfile_retry_delay(const uint64_t *steps, size_t n,
    uint32_t attempts);

/* qfile_new_id: a fresh id (time + random, hex) into id (>= 21 bytes). */
void qfile_new_id(char *id, size_t len);

/*
 * qfile_enqueue: write content (iov) then the envelope, both durable.
 * FERR_NONE with the id in id_r, else FERR_NOSPACE / FERR_INTERNAL /
 * FERR_INVALID (no recipients) with nothing left behind.
 */
enum ferr qfile_enqueue(const char *qdir, const struct queue_msg_in *m,
    time_t now, char *id_r, size_t idlen);

/* qfile_list: ids of every envelope (malloc'ed array of strings). 0/-1. */
int qfile_list(const char *qdir, char ***ids_r, size_t *n_r);
void qfile_list_free(char **ids, size_t n);
/* qfile_remove: envelope first (the message is gone), then content. */
int qfile_remove(const char *qdir, const char *id);
/*
 * qfile_recover: start-up clean-up: empty tmp/, remove content without
 * an envelope and envelopes without content. Returns the number of
 * messages left in the queue, or -1.
 */
int qfile_recover(const char *qdir);

/*
 * qfile_kick: tell a running server to rescan now (touches
 * queue_dir/kick, which the scheduler watches with inotify). 0 or -1.
 */
int qfile_kick(const char *qdir);

/* qfile_esc / qfile_unesc: the %XX coding of envelope fields. */
int qfile_esc(struct buf *out, const char *s);
char *qfile_unesc(const char *s, size_t n);

#endif
