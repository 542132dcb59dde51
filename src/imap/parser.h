/*
 * parser - incremental IMAP command parser (RFC 3501 section 9 grammar,
 * LITERAL+ / LITERAL- non-synchronizing literals, RFC 7888).
 *
 * Pure: bytes in, events out, no I/O. The session feeds what it read and
 * gets NEED_MORE, LITERAL (a literal's size is known: the caller checks it
 * against its limits and accepts or rejects it before "+ OK" is sent), DONE
 * (a whole command is parsed) or ERROR (the rest of the offending line has
 * been skipped; the tag, when it was read, is kept for the BAD reply).
 *
 * A command is "tag SP name *(SP arg) CRLF"; arguments are atoms, quoted
 * strings, literals and parenthesised lists. An atom may hold a bracketed
 * part with spaces and parens, so that FETCH's BODY[HEADER.FIELDS (A B)]<0.9>
 * is one atom (the fetch parser reads the inside). Bare LF is accepted as
 * a line end.
 */
#ifndef IMAP_PARSER_H
#define IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define IMAP_TAG_MAX		64
#define IMAP_CMDNAME_MAX	32

enum imap_arg_type {
	IMAP_ARG_ATOM = 0,	/* also NIL, numbers, flags, seq sets */
	IMAP_ARG_QUOTED,
	IMAP_ARG_LITERAL,
	IMAP_ARG_LIST,
	IMAP_ARG_STREAMED	/* a literal the caller consumed itself
				 * (imap_parser_literal_streamed); str is ""
				 * and len its declared size */
};

struct imap_arg {
	enum imap_arg_type	 type;
	char			*str;	/* the bytes, NUL-terminated
					 * (a literal may hold NULs) */
	size_t			 len;
	struct imap_arg		*list;	/* children of a list */
	size_t			 count;
};

enum imap_parse_rc {
	IMAP_PARSE_NEED_MORE = 0,
	IMAP_PARSE_LITERAL,	/* imap_parser_literal_size() is known */
	IMAP_PARSE_DONE,	/* a command is ready */
	IMAP_PARSE_ERROR	/* imap_parser_error(); line skipped */
};

struct imap_parser_limits {
	size_t	max_line;	/* non-literal bytes of one command */
	size_t	max_depth;	/* list nesting */
	size_t	max_args;	/* arguments in all lists together */
};

struct imap_parser;

/* imap_parser_new: a parser with the given limits (copied). */
struct imap_parser *imap_parser_new(const struct imap_parser_limits *lim);
void imap_parser_free(struct imap_parser **pp);
/* imap_parser_set_limits: new limits from the next command on. */
void imap_parser_set_limits(struct imap_parser *p,
    const struct imap_parser_limits *lim);

/*
 * imap_parser_feed: consume bytes of data[0..n); *used_r tells how many.
 * Stops right after an event (LITERAL, DONE, ERROR): the caller feeds the
 * rest again after handling it. After DONE or ERROR the caller reads the
 * command (or the error) and calls imap_parser_reset() before feeding on.
 * While a literal is pending (after LITERAL, before accept/reject), feed
 * returns ERROR.
 */
enum imap_parse_rc imap_parser_feed(struct imap_parser *p, const char *data,
    size_t n, size_t *used_r);

/* After LITERAL: the declared size and whether it was {n+} (no "+"
 * continuation expected by the client). */
uint64_t imap_parser_literal_size(const struct imap_parser *p);
bool imap_parser_literal_nonsync(const struct imap_parser *p);
/*
 * imap_parser_literal_accept: the literal's size is acceptable; feed its
 * bytes next. The caller sends "+ OK" for a synchronizing literal.
 */
void imap_parser_literal_accept(struct imap_parser *p);
/*
 * imap_parser_literal_streamed: the caller reads the literal's bytes from
 * the connection itself (APPEND streams them to disk); the parser records
 * an IMAP_ARG_STREAMED argument and continues after the literal.
 */
void imap_parser_literal_streamed(struct imap_parser *p);
/*
 * imap_parser_literal_reject: drop the whole command (the client sent a
 * synchronizing literal and waits; it reads the tagged reply instead). The
 * parser is reset for the next command.
 */
void imap_parser_literal_reject(struct imap_parser *p);

/* imap_parser_reset: forget the current command, start a new one. */
void imap_parser_reset(struct imap_parser *p);

/* The tag ("" until read), the command name (upper-cased, "" until read),
 * the error text after ERROR; borrowed until reset. */
const char *imap_parser_tag(const struct imap_parser *p);
const char *imap_parser_name(const struct imap_parser *p);
const char *imap_parser_error(const struct imap_parser *p);
/* After DONE: the top-level arguments (after the command name). */
const struct imap_arg *imap_parser_args(const struct imap_parser *p,
    size_t *count_r);
/* imap_parser_in_command: some bytes of a command have been fed. */
bool imap_parser_in_command(const struct imap_parser *p);

/* --- helpers on parsed arguments --- */

/* imap_parser_partial_args: the top-level arguments read so far (valid
 * while a literal is pending, e.g. APPEND's mailbox and flags). */
const struct imap_arg *imap_parser_partial_args(const struct imap_parser *p,
    size_t *count_r);

/* imap_arg_is_string: atom, quoted or literal (an IMAP astring). */
bool imap_arg_is_string(const struct imap_arg *a);
/* imap_arg_is_atom_ci: an atom equal to word, ASCII case-insensitive. */
bool imap_arg_is_atom_ci(const struct imap_arg *a, const char *word);
/* imap_arg_is_nil: the atom NIL. */
bool imap_arg_is_nil(const struct imap_arg *a);
/* imap_arg_has_nul: a string argument holds a NUL byte. */
bool imap_arg_has_nul(const struct imap_arg *a);

#endif
