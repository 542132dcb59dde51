/*
 * err - the one status vocabulary every module returns and every protocol
 * maps once into its own reply (STYLE.md 5, after Dovecot's mail_error):
 *
 *             SMTP          IMAP              POP3
 *   TEMP      451 4.3.0     NO [UNAVAILABLE]  -ERR [SYS/TEMP]
 *   NOTFOUND  550 5.1.1     NO [NONEXISTENT]  -ERR
 *   QUOTA     552 5.2.2     NO [OVERQUOTA]    -ERR
 *   NOSPACE   452 4.3.1     NO [OVERQUOTA]    -ERR [SYS/TEMP]
 *   INVALID   501 5.5.4     BAD / NO          -ERR
 *   PERM      550 5.7.1     NO [NOPERM]       -ERR
 *   LIMIT     452 4.5.3     NO [LIMIT]        -ERR
 *   INTERNAL  451 4.3.0     NO [SERVERBUG]    -ERR [SYS/TEMP]
 */
#ifndef CORE_ERR_H
#define CORE_ERR_H

enum ferr {
	FERR_NONE = 0,
	FERR_TEMP,	/* try again later: DB down, lock busy */
	FERR_NOTFOUND,
	FERR_QUOTA,	/* user's quota exceeded */
	FERR_NOSPACE,	/* file system full (ENOSPC, EDQUOT) */
	FERR_INVALID,	/* bad input */
	FERR_PERM,	/* not allowed */
	FERR_LIMIT,	/* a configured limit was hit */
	FERR_EXISTS,	/* already exists */
	FERR_INTERNAL	/* a bug or an unexpected system error: see log */
};

/* ferr_name: short lower-case name for logs ("temp", "quota", ...). */
const char *ferr_name(enum ferr e);
/* ferr_from_errno: map a system errno to the vocabulary. */
enum ferr ferr_from_errno(int errnum);

#endif
