/*
 * deliver - what happens to a message once DATA or BDAT LAST is complete:
 * remote targets go to the outbound queue (one entry for all of them),
 * local mailboxes get one durable copy each through maildir_deliver(),
 * which fsyncs before returning, so the 250 that follows is true.
 *
 * Each local copy starts with
 *   Return-Path: <sender>
 *   Delivered-To: user@domain        (the mailbox, as Dovecot LDA writes)
 *   Received: ...                    (from the session)
 * then the content exactly as received (LF line ends), less any
 * Return-Path field the sender put in its header (Postfix drops them).
 *
 * Order: the queue first, so that when it fails nothing has been stored
 * and the 451 causes no duplicate; then the mailboxes. RFC 5321 gives
 * DATA one reply, so a temporary failure of one mailbox after others
 * succeeded is answered 451: the retry duplicates the message for those
 * mailboxes, which is better than losing it for the one that failed.
 * (Postfix avoids the dilemma by queueing everything before the 250 and
 * bouncing later; facteur stores directly and keeps no local queue.)
 *
 * Also smtp_deliver_local(), the queue's hook for bounces.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/events.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "directory/dir.h"
#include "queue/queue.h"
#include "smtp/smtp.h"
#include "smtp/smtp_int.h"
#include "store/maildir.h"

#define DELIVER_HDR_MAX	(2 * DIR_ADDR_MAX + 64)
#define DELIVER_IOV_MAX	9	/* pieces of content around Return-Paths */

/*
 * Store one copy in the mailbox of the local user email. head/headlen is
 * any header text to put after Return-Path and Delivered-To (Received),
 * then iov. Logs the outcome.
 */
static enum ferr
deliver_mailbox(struct smtp_server *srv, const char *sid, const char *txn_id,
    const char *sender, const char *email, const char *head, size_t headlen,
    const struct iovec *iov, int iovcnt)
{
	struct dir_user u;
	char path[4096], name[256], hdr[DELIVER_HDR_MAX], esc[DIR_ADDR_MAX * 4];
	char sesc[DIR_ADDR_MAX * 4];
	struct iovec *v;
	enum ferr e;
	size_t size = 0;
	int r, n, i;

	log_esc(esc, sizeof(esc), email, strlen(email));
	log_esc(sesc, sizeof(sesc), sender, strlen(sender));
	r = dir_user_lookup(srv->dir, email, &u);
	if (r < 0) {
		log_warn("%s smtp deliver to=\"%s\" result=tempfail "
		    "reason=\"directory unavailable\"", sid, esc);
		return FERR_TEMP;
	}
	if (r == 0) {
		log_warn("%s smtp deliver to=\"%s\" result=fail "
		    "reason=\"mailbox vanished\"", sid, esc);
		return FERR_NOTFOUND;
	}
	if (store_user_maildir(srv->conf->mail_root, u.email, path,
	    sizeof(path)) < 0) {
		log_error("%s smtp deliver to=\"%s\" result=fail "
		    "reason=\"unusable mailbox name\"", sid, esc);
		return FERR_INTERNAL;
	}
	e = store_user_ensure(path);
	if (e != FERR_NONE) {
		log_error("%s smtp deliver to=\"%s\" result=tempfail "
		    "reason=\"cannot create maildir: %s\"", sid, esc,
		    ferr_name(e));
		return e;
	}
	n = snprintf(hdr, sizeof(hdr), "Return-Path: <%s>\nDelivered-To: %s\n",
	    sender, u.email);
	if (n < 0 || (size_t)n >= sizeof(hdr))
		return FERR_INTERNAL;
	v = xcalloc((size_t)iovcnt + 2, sizeof(*v));
	v[0].iov_base = hdr;
	v[0].iov_len = (size_t)n;
	v[1].iov_base = (void *)(uintptr_t)head;
	v[1].iov_len = headlen;
	for (i = 0; i < iovcnt; i++)
		v[i + 2] = iov[i];
	for (i = 0; i < iovcnt + 2; i++)
		size += v[i].iov_len;
	e = maildir_deliver(path, v, iovcnt + 2, u.quota, name, sizeof(name));
	free(v);
	if (e == FERR_NONE) {
		log_info("%s smtp delivered id=%s from=<%s> to=<%s> size=%zu "
		    "file=%s", sid, txn_id, sesc, esc, size, name);
		events_push("delivered", "<%s> to <%s>, %zu bytes", sesc, esc,
		    size);
	} else
		log_warn("%s smtp deliver id=%s from=<%s> to=<%s> size=%zu "
		    "result=%s", sid, txn_id, sesc, esc, size,
		    e == FERR_QUOTA ? "overquota" : ferr_name(e));
	return e;
}

static bool
deliver_seen(const char *const *list, size_t n, const char *addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(list[i], addr) == 0)
			return true;
	return false;
}

/* Queue content for the remote targets. FERR_NONE or why not. */
static enum ferr
deliver_queue(const char *sid, const char *txn_id, const char *sender,
    const char *const *remote, size_t nremote, const struct iovec *iov,
    int iovcnt, bool smtputf8, bool eightbit, const char *auth_user,
    const char *client_ip)
{
	struct queue_msg_in m;
	char qid[QUEUE_ID_MAX + 1], sesc[DIR_ADDR_MAX * 4];
	enum ferr e;

	memset(&m, 0, sizeof(m));
	m.sender = sender;
	m.rcpts = remote;
	m.nrcpts = nremote;
	m.iov = iov;
	m.iovcnt = iovcnt;
	m.smtputf8 = smtputf8;
	m.eightbit = eightbit;
	m.auth_user = auth_user;
	m.client_ip = client_ip;
	qid[0] = '\0';
	e = queue_enqueue(&m, qid, sizeof(qid));
	log_esc(sesc, sizeof(sesc), sender, strlen(sender));
	if (e == FERR_NONE)
		log_info("%s smtp queued id=%s from=<%s> rcpts=%zu "
		    "queue_id=%s", sid, txn_id, sesc, nremote, qid);
	else
		log_warn("%s smtp queue id=%s from=<%s> rcpts=%zu "
		    "result=%s", sid, txn_id, sesc, nremote, ferr_name(e));
	return e;
}

/*
 * Split content into at most max pieces that leave out every Return-Path
 * field of its header section (with its continuation lines): the final
 * delivery writes its own (RFC 5321 4.4), and Postfix's cleanup drops
 * the ones a sender put there, so a forged one never sits below ours.
 * The header section ends at an empty line or at the first line that is
 * not a header field. Past max - 1 such fields the rest stay. Returns
 * the number of pieces.
 */
static int
deliver_strip_return_path(const char *p, size_t len, struct iovec *iov,
    int max)
{
	size_t i = 0, start = 0, eol, k;
	int n = 0;

	while (i < len && n < max - 1) {
		const char *q = memchr(p + i, '\n', len - i);

		eol = q == NULL ? len : (size_t)(q - p) + 1;
		if (p[i] == '\n' || (p[i] == '\r' && i + 1 < len &&
		    p[i + 1] == '\n'))
			break;		/* end of the header section */
		for (k = i; k < eol && p[k] > ' ' && p[k] != ':' &&
		    p[k] != 0x7f; k++)
			;
		if (k == i || k == eol || p[k] != ':') {
			/* a continuation line, or not a header at all */
			if (p[i] == ' ' || p[i] == '\t') {
				i = eol;
				continue;
			}
			break;
		}
		if (k - i == 11 && strncasecmp(p + i, "Return-Path", 11) == 0) {
			if (i > start) {
				iov[n].iov_base = (void *)(uintptr_t)(p + start);
				iov[n].iov_len = i - start;
				n++;
			}
			/* and its continuation lines */
			while (eol < len && (p[eol] == ' ' || p[eol] == '\t')) {
				q = memchr(p + eol, '\n', len - eol);
				eol = q == NULL ? len : (size_t)(q - p) + 1;
			}
			start = eol;
		}
		i = eol;
	}
	if (start < len || n == 0) {
		iov[n].iov_base = (void *)(uintptr_t)(p + start);
		iov[n].iov_len = len - start;
		n++;
	}
	return n;
}

bool
smtp_deliver_txn(struct smtp_server *srv, const struct smtp_txn *t,
    char *reply, size_t replylen)
{
	const char **local, **remote;
	size_t nlocal = 0, nremote = 0, total = 0, i, j;
	size_t ok = 0, temp = 0, perm = 0;
	struct iovec qiov[1 + DELIVER_IOV_MAX], civ[DELIVER_IOV_MAX];
	bool nospace = false;
	enum ferr e;
	int nciv;

	for (i = 0; i < t->nrcpts; i++)
		total += t->rcpts[i].ndests;
	local = xcalloc(total + 1, sizeof(*local));
	remote = xcalloc(total + 1, sizeof(*remote));
	for (i = 0; i < t->nrcpts; i++) {
		for (j = 0; j < t->rcpts[i].ndests; j++) {
			const struct dir_dest *d = &t->rcpts[i].dests[j];

			if (d->local && !deliver_seen(local, nlocal, d->addr))
				local[nlocal++] = d->addr;
			else if (!d->local &&
			    !deliver_seen(remote, nremote, d->addr))
				remote[nremote++] = d->addr;
		}
	}

	nciv = deliver_strip_return_path(t->content, t->content_len, civ,
	    DELIVER_IOV_MAX);
	qiov[0].iov_base = (void *)(uintptr_t)t->received;
	qiov[0].iov_len = t->received_len;
	memcpy(qiov + 1, civ, (size_t)nciv * sizeof(*civ));
	if (nremote > 0) {
		e = deliver_queue(t->sid, t->txn_id, t->sender, remote,
		    nremote, qiov, 1 + nciv, t->smtputf8, t->eightbit,
		    t->auth_user, t->client_ip);
		if (e != FERR_NONE) {
			snprintf(reply, replylen, e == FERR_NOSPACE ?
			    "452 4.3.1 Insufficient system storage" :
			    "451 4.3.0 Error: queue file write error");
			goto out;
		}
	}

	for (i = 0; i < nlocal; i++) {
		e = deliver_mailbox(srv, t->sid, t->txn_id, t->sender,
		    local[i], t->received, t->received_len, civ, nciv);
		if (e == FERR_NONE)
			ok++;
		else if (e == FERR_QUOTA || e == FERR_NOTFOUND)
			perm++;
		else {
			temp++;
			if (e == FERR_NOSPACE)
				nospace = true;
		}
	}

	if (temp > 0)
		snprintf(reply, replylen, nospace ?
		    "452 4.3.1 Insufficient system storage" :
		    "451 4.3.0 Error: temporary local delivery failure, "
		    "try again later");
	else if (perm > 0 && ok == 0 && nremote == 0)
		snprintf(reply, replylen,
		    "552 5.2.2 Mailbox is over quota or unavailable");
	else if (perm > 0)
		snprintf(reply, replylen, "451 4.2.2 Mailbox is over quota "
		    "for some recipients, try again later");
	else
		snprintf(reply, replylen, "250 2.0.0 Ok: queued as %s",
		    t->txn_id);
out:
	free(local);
	free(remote);
	return strncmp(reply, "250", 3) == 0;
}

enum ferr
smtp_deliver_local(const char *sender, const char *rcpt,
    const struct iovec *iov, int iovcnt, void *arg)
{
	struct smtp_server *srv = arg;
	struct dir_dest *dests = NULL;
	const char **remote;
	const char *why = NULL;
	char esc[DIR_ADDR_MAX * 4], id[32];
	size_t n = 0, i, nremote = 0;
	enum ferr e, worst = FERR_NONE;
	int r;

	log_esc(esc, sizeof(esc), rcpt, strlen(rcpt));
	snprintf(id, sizeof(id), "%016llx",
	    (unsigned long long)log_session_id());
	r = dir_resolve(srv->dir, rcpt, &dests, &n, &why);
	if (r < 0) {
		log_warn("%s smtp local to=<%s> result=tempfail reason=\"%s\"",
		    id, esc, why != NULL ? why : "directory unavailable");
		return FERR_TEMP;
	}
	if (r == 0) {
		log_warn("%s smtp local to=<%s> result=fail "
		    "reason=\"unknown user\"", id, esc);
		return FERR_NOTFOUND;
	}
	remote = xcalloc(n + 1, sizeof(*remote));
	for (i = 0; i < n; i++)
		if (!dests[i].local)
			remote[nremote++] = dests[i].addr;
	if (nremote > 0) {
		e = deliver_queue(id, id, sender, remote, nremote, iov, iovcnt,
		    false, true, NULL, "local");
		if (e != FERR_NONE) {
			/* nothing stored yet: the queue simply retries */
			free(remote);
			free(dests);
			return e;
		}
	}
	for (i = 0; i < n; i++) {
		if (!dests[i].local)
			continue;
		e = deliver_mailbox(srv, id, id, sender, dests[i].addr, "", 0,
		    iov, iovcnt);
		/* a temporary failure wins: the queue retries */
		if (e != FERR_NONE && (worst == FERR_NONE ||
		    worst == FERR_QUOTA || worst == FERR_NOTFOUND))
			worst = e;
	}
	free(remote);
	free(dests);
	return worst;
}
