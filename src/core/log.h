/*
 * log - one line per event on stderr (journald under systemd).
 *
 * Line shape (STYLE.md 16):  <level> <session-id> <proto> <event> key=value
 * e.g. "warn 3f9a2c1e7b00d412 smtp auth result=permfail address=203.0.113.9"
 * Outside journald each line starts with an RFC 3339 UTC timestamp.
 * Each line goes out in one write(2), so threads never interleave.
 * Untrusted text must pass through log_esc() first; secrets never logged.
 */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_CRIT };

/* log_init: once at start; reads JOURNAL_STREAM to drop timestamps. */
void log_init(enum log_level level);
void log_set_level(enum log_level level);
/* log_level_parse: "debug|info|warn|error" -> 0, or -1 if unknown. */
int log_level_parse(const char *name, enum log_level *level_r);
int log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define log_debug(...) do { if (log_enabled(LOG_DEBUG)) \
	log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...)	log_msg(LOG_ERROR, __VA_ARGS__)

/* fatal: log with ": strerror(errno)" appended, exit(1). fatalx: without. */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/*
 * log_esc: copy untrusted bytes into dst as a printable, quoted-safe token:
 * printable ASCII except '"' and '\\' kept, others as \xHH; truncated with
 * "..." when dst is too small. Always NUL-terminates; returns dst.
 */
const char *log_esc(char *dst, size_t dstlen, const char *src, size_t srclen);

/* log_session_id: a fresh random 64-bit session id for log lines. */
uint64_t log_session_id(void);

#endif
