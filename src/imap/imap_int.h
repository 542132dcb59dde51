/*
 * imap_int - what the files of src/imap/ share: the session, the command
 * handler signature, response helpers, flag and mailbox-name helpers.
 * Not for other modules (they see imap.h only).
 */
#ifndef IMAP_INT_H
#define IMAP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/err.h"
#include "directory/dir.h"
#include "imap/fetch.h"
#include "imap/imap.h"
#include "imap/parser.h"
#include "imap/seqset.h"
#include "store/mailbox.h"

/* Limits (STYLE.md 12: smaller before authentication). */
#define IMAP_LINE_MAX		(64 * 1024)
#define IMAP_LINE_MAX_PREAUTH	(8 * 1024)
#define IMAP_DEPTH_MAX		100
#define IMAP_DEPTH_MAX_PREAUTH	4
#define IMAP_ARGS_MAX		10000
#define IMAP_ARGS_MAX_PREAUTH	100		/* ID sends ~30 pairs */
#define IMAP_LITERAL_MAX	(64 * 1024)	/* non-APPEND literals */
#define IMAP_LITERAL_MAX_PREAUTH 4096
/* all literals of one command (APPEND's message excepted) */
#define IMAP_LITERALS_TOTAL_MAX	(1024 * 1024)
#define IMAP_BAD_MAX		20		/* in a row, then BYE */
#define IMAP_AUTHFAIL_MAX	5		/* then BYE */

enum imap_state {
	IMAP_ST_NOAUTH = 0,
	IMAP_ST_AUTH,
	IMAP_ST_SELECTED,
	IMAP_ST_LOGOUT
};

struct imap_session {
	struct conn			*c;
	const struct imap_server	*srv;
	enum listen_kind		 kind;
	char				 sid[17];
	char				 ip[64];
	enum imap_state			 state;
	char				 user[DIR_ADDR_MAX + 1];
	uint64_t			 quota;
	struct mstore			*st;
	struct mbox			*mb;
	struct imap_parser		*parser;
	struct mstore_append		*append;	/* APPEND being
							 * streamed */
	unsigned			 nbad;
	unsigned			 nauthfail;
	bool				 tls;
	uint64_t			 idle_secs;	/* autologout */
	uint64_t			 litbytes;	/* this command's */
	/* what the client knows of the selected mailbox */
	uint32_t			 exists;
	uint32_t			 recent;
	/* CRLF index of the last big message fetched in parts */
	struct fetch_crlf_index		 ix;
	const struct mbox		*ix_mb;
	uint32_t			 ix_uid;
	/* the command being run */
	const char			*tag;
	bool				 uid;	/* UID variant */
	const char			*close_reason;	/* log */
};

/*
 * A command handler: args are the arguments after the command name (after
 * "UID <name>" for UID variants). It writes the tagged reply itself.
 * Returns 0 to go on, -1 to end the session (BYE already sent or the
 * connection is dead).
 */
typedef int (*imap_cmd_fn)(struct imap_session *s,
    const struct imap_arg *args, size_t nargs);

/* --- resp.c --- */
int imap_printf(struct imap_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int imap_write(struct imap_session *s, const void *p, size_t n);
/*
 * imap_tagged: "<tag> <status> <text>\r\n" (status "OK", "NO", "BAD").
 * imap_tagged, imap_bad and imap_no_ferr always return 0, so a handler can
 * end with "return imap_bad(...);": write errors show at the next flush.
 */
int imap_tagged(struct imap_session *s, const char *status,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* imap_bad: BAD reply that counts toward IMAP_BAD_MAX. */
int imap_bad(struct imap_session *s, const char *text);
/* imap_write_string: a quoted string, or a literal when the bytes need
 * one (8-bit, CR/LF, NUL, long). */
int imap_write_string(struct imap_session *s, const char *p, size_t n);
/* imap_write_nstring: NIL for p == NULL. */
int imap_write_nstring(struct imap_session *s, const char *p, size_t n);
/* imap_ferr_code: the response code for an error ("UNAVAILABLE",...). */
const char *imap_ferr_code(enum ferr e);
/* imap_no_ferr: tagged NO [CODE] with a text fit for the client (never
 * internals: INTERNAL gives "Internal error, see server log"). */
int imap_no_ferr(struct imap_session *s, enum ferr e, const char *text);
/* imap_capability: the capability list for the current state. */
void imap_capability(const struct imap_session *s, char *dst, size_t dstlen);

/* --- flags.c --- */
/*
 * imap_flags_parse: a flag list (or a single flag atom) into system flags
 * and keyword names (pointers into args, up to max). \Recent is refused
 * (and "\*"). Returns 0 or -1 with *why_r.
 */
int imap_flags_parse(const struct imap_arg *a, unsigned *flags_r,
    const char **kw_r, size_t kwmax, size_t *nkw_r, const char **why_r);
/* imap_write_flags: "(\Seen kw1)" for flags and a keyword bitmask. */
int imap_write_flags(struct imap_session *s, unsigned flags,
    uint32_t keywords);
/* imap_send_flags_lists: "* FLAGS (...)" and "* OK [PERMANENTFLAGS ...]". */
int imap_send_flags_lists(struct imap_session *s);
/* imap_atom_valid: a keyword or flag name made of ATOM-CHARs. */
bool imap_atom_valid(const char *s, size_t n);

/* --- mbname.c --- */
/*
 * imap_mbname: an astring argument as a mailbox name: "INBOX" in any case
 * becomes "INBOX" (also as the first level of "inbox.x"). dst holds
 * MSTORE_NAME_MAX + 1. Returns 0, or -1 with *why_r (NUL, too long).
 */
int imap_mbname(const struct imap_arg *a, char *dst, size_t dstlen,
    const char **why_r);
/* imap_list_match: LIST pattern (with * and %) against a name, "." as
 * separator; INBOX matched case-insensitively. */
bool imap_list_match(const char *pattern, const char *name);

/* --- date.c --- */
/* imap_date_parse: "1-Feb-1994" -> midnight UTC of that day. 0 or -1. */
int imap_date_parse(const char *s, time_t *t_r);
/* imap_datetime_parse: "01-Feb-1994 21:43:05 +0100" -> time. 0 or -1. */
int imap_datetime_parse(const char *s, time_t *t_r);

/* --- msgmap.c --- */
struct imap_msgmap {
	const char	*data;		/* "" for an empty file */
	size_t		 len;
	void		*map;
	size_t		 maplen;
};
/* imap_msg_map: map message idx of mb read-only. FERR_NOTFOUND if it
 * was expunged. Release with imap_msg_unmap(). */
enum ferr imap_msg_map(struct mbox *mb, uint32_t idx, struct imap_msgmap *m);
void imap_msg_unmap(struct imap_msgmap *m);

/* --- imap_cmd_select.c --- */
/*
 * imap_sync: sync the selected view and send the untagged updates
 * (EXPUNGE only when allowed, EXISTS, RECENT, FETCH FLAGS, FLAGS).
 * Returns 0, or -1 when the session must end (mailbox recreated).
 */
int imap_sync(struct imap_session *s, bool allow_expunge);
void imap_unselect(struct imap_session *s);

/*
 * imap_seqset_arg: parse a sequence-set argument and resolve it against
 * the view: for UIDs, "*" is the highest UID; for sequence numbers, "*" is
 * the count, and numbers above the count are an error (*why_r). Returns
 * 0 or -1.
 */
int imap_seqset_arg(struct imap_session *s, const struct imap_arg *a,
    bool uid, struct seqset *set, const char **why_r);
/*
 * imap_seqset_indexes: the view indexes a resolved set selects, ascending
 * (malloc'd array, *n_r entries, possibly 0).
 */
uint32_t *imap_seqset_indexes(struct imap_session *s,
    const struct seqset *set, bool uid, size_t *n_r);

/* --- cmd_search.c --- */
struct search_key;
/*
 * imap_search_prog: "[CHARSET x] key..." parsed and resolved against the
 * view. On error the tagged reply is sent and NULL returned.
 */
struct search_key *imap_search_prog(struct imap_session *s,
    const struct imap_arg *args, size_t nargs);
/* imap_search_run: the view indexes that match, ascending (malloc'd). */
uint32_t *imap_search_run(struct imap_session *s,
    const struct search_key *prog, size_t *n_r);

/* --- command handlers --- */
int imap_cmd_capability(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_noop(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_logout(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_id(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_enable(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_starttls(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_login(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_authenticate(struct imap_session *, const struct imap_arg *,
    size_t);
int imap_cmd_create(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_delete(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_rename(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_subscribe(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_unsubscribe(struct imap_session *, const struct imap_arg *,
    size_t);
int imap_cmd_list(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_lsub(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_status(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_namespace(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_select(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_examine(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_close(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_unselect(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_check(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_expunge(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_fetch(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_store(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_search(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_sort(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_thread(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_append(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_copy(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_move(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_idle(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_getquotaroot(struct imap_session *, const struct imap_arg *,
    size_t);
int imap_cmd_getquota(struct imap_session *, const struct imap_arg *, size_t);
int imap_cmd_setquota(struct imap_session *, const struct imap_arg *, size_t);

#endif
