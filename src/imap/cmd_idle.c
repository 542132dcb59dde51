/*
 * cmd_idle - IDLE (RFC 2177). The session waits on its socket and on the
 * store's notification fd for the selected folder (deliveries by this
 * process and inotify for others, so a new message shows within about a
 * second), syncing and sending EXISTS/EXPUNGE/FETCH as they come. It also
 * syncs every 30 s in case a notification was missed, and ends the
 * session after imap_idle_timeout ("* BYE Autologout").
 */
#include <string.h>

#include "core/log.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "imap/imap_int.h"
#include "net/conn.h"

#define IDLE_POLL_MS 30000

int
imap_cmd_idle(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	uint64_t deadline, now, left;
	struct buf line;
	enum conn_rc crc;
	int nfd = -1, w, rc = 0, wait_ms;

	(void)args;
	if (nargs != 0)
		return imap_bad(s, "IDLE takes no arguments");
	if (s->mb != NULL) {
		nfd = store_notify_subscribe(mbox_path(s->mb));
		if (imap_sync(s, true) < 0) {
			if (nfd >= 0)
				store_notify_unsubscribe(nfd);
			return -1;
		}
	}
	imap_printf(s, "+ idling\r\n");
	if (conn_flush(s->c) < 0) {
		if (nfd >= 0)
			store_notify_unsubscribe(nfd);
		return -1;
	}
	deadline = time_mono_ms() + s->idle_secs * 1000;
	buf_init(&line, 1024);
	for (;;) {
		now = time_mono_ms();
		if (now >= deadline) {
			imap_printf(s, "* BYE Autologout; idle for too "
			    "long\r\n");
			s->close_reason = "idle timeout";
			rc = -1;
			break;
		}
		left = deadline - now;
		wait_ms = left > IDLE_POLL_MS ? IDLE_POLL_MS : (int)left;
		if (conn_pending(s->c) == 0)
			conn_release_buffers(s->c);
		w = conn_wait(s->c, nfd, wait_ms);
		if (w < 0) {
			s->close_reason = "wait error";
			rc = -1;
			break;
		}
		if (w == 1) {
			crc = conn_readline(s->c, &line, 1024);
			if (crc == CONN_EOF || crc == CONN_ERROR ||
			    crc == CONN_TIMEOUT) {
				s->close_reason = "eof in idle";
				rc = -1;
				break;
			}
			while (line.len > 0 &&
			    (line.data[line.len - 1] == '\n' ||
			    line.data[line.len - 1] == '\r'))
				line.len--;
			line.data[line.len] = '\0';
			if (crc == CONN_LINE && str_ieq(line.data, "DONE")) {
				if (s->mb != NULL && imap_sync(s, true) < 0)
					rc = -1;
				else
					imap_tagged(s, "OK", "Idle completed.");
			} else {
				imap_bad(s, "Expected DONE");
			}
			break;
		}
		if (w == 2)
			store_notify_drain(nfd);
		if (s->mb != NULL && imap_sync(s, true) < 0) {
			rc = -1;
			break;
		}
		if (conn_flush(s->c) < 0) {
			s->close_reason = "write error";
			rc = -1;
			break;
		}
	}
	buf_free(&line);
	if (nfd >= 0)
		store_notify_unsubscribe(nfd);
	return rc;
}
