/*
 * fetch - FETCH attribute parsing (RFC 3501 6.4.5) and the LF -> CRLF
 * conversion with partial ranges that BODY[...]<origin.count> needs.
 * Pure: the session (imap_cmd_fetch.c) runs the parsed items.
 */
#ifndef IMAP_FETCH_H
#define IMAP_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/parser.h"

#define FETCH_PART_MAX		64	/* "1.2.3..." */
#define FETCH_FIELDS_MAX	100	/* HEADER.FIELDS names */
#define FETCH_ITEMS_MAX		100

enum fetch_kind {
	FI_FLAGS = 0,
	FI_INTERNALDATE,
	FI_SIZE,		/* RFC822.SIZE */
	FI_ENVELOPE,
	FI_UID,
	FI_BODY,		/* BODY without a section: BODYSTRUCTURE
				 * without extension data */
	FI_BODYSTRUCTURE,
	FI_SECTION,		/* BODY[...] / BODY.PEEK[...] */
	FI_RFC822,		/* = BODY[] (sets \Seen) */
	FI_RFC822_HEADER,	/* = BODY.PEEK[HEADER] */
	FI_RFC822_TEXT		/* = BODY[TEXT] (sets \Seen) */
};

enum fetch_sec {
	FS_ALL = 0,		/* "" or a part number: the part's body */
	FS_HEADER,
	FS_FIELDS,		/* HEADER.FIELDS (...) */
	FS_FIELDS_NOT,		/* HEADER.FIELDS.NOT (...) */
	FS_TEXT,
	FS_MIME
};

struct fetch_item {
	enum fetch_kind	 kind;
	enum fetch_sec	 sec;
	char		 part[FETCH_PART_MAX + 1];	/* "" or "1.2" */
	char		**fields;	/* FS_FIELDS(_NOT) names */
	size_t		 nfields;
	bool		 peek;
	bool		 partial;
	uint64_t	 origin;
	uint64_t	 count;
	char		*name;		/* response name, no <origin>:
					 * "BODY[1.HEADER.FIELDS (A B)]" */
};

struct fetch_spec {
	struct fetch_item *items;
	size_t		 n;
	bool		 need_data;	/* message bytes needed */
	bool		 sets_seen;	/* some item sets \Seen */
};

/*
 * fetch_parse: the FETCH attribute argument (an atom, a macro such as ALL
 * or FAST, or a list). uid: add UID to the items (UID FETCH). Returns 0,
 * or -1 with *why_r (static text for BAD).
 */
int fetch_parse(const struct imap_arg *a, bool uid, struct fetch_spec *spec,
    const char **why_r);
void fetch_spec_free(struct fetch_spec *spec);

/*
 * fetch_crlf_copy: emit the CRLF form of data[0..len) (each LF not
 * preceded by CR becomes CRLF), skipping its first skip octets and
 * emitting at most count octets. emit is called with consecutive pieces.
 * Returns the number of octets emitted.
 */
uint64_t fetch_crlf_copy(const char *data, size_t len, uint64_t skip,
    uint64_t count, void (*emit)(void *ctx, const char *p, size_t n),
    void *ctx);

/* fetch_crlf_size: octets of the CRLF form of data[0..len). */
uint64_t fetch_crlf_size(const char *data, size_t len);

/*
 * A CRLF offset index of one message, so that a client fetching a big
 * message in chunks (BODY.PEEK[]<n.64k>, as Thunderbird does) costs one
 * scan of the message, not one per chunk: vpos[i] is the CRLF offset of
 * raw offset i * step.
 */
struct fetch_crlf_index {
	size_t		 step;
	size_t		 n;
	uint64_t	*vpos;
	uint64_t	 total;		/* CRLF size of the whole */
};

/* fetch_crlf_index_build: index data[0..len) (one pass). */
void fetch_crlf_index_build(const char *data, size_t len, size_t step,
    struct fetch_crlf_index *ix);
void fetch_crlf_index_free(struct fetch_crlf_index *ix);
/* fetch_crlf_copy_indexed: fetch_crlf_copy() starting the scan at the
 * indexed position nearest below skip. */
uint64_t fetch_crlf_copy_indexed(const char *data, size_t len,
    const struct fetch_crlf_index *ix, uint64_t skip, uint64_t count,
    void (*emit)(void *ctx, const char *p, size_t n), void *ctx);

#endif
