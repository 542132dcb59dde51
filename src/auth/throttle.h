/*
 * throttle - authentication failure throttling per client IP and per
 * account, process-wide (behind its own lock), bounded memory (old
 * entries evicted). Used by SMTP AUTH, IMAP, POP3 and the admin page.
 *
 * Policy: each failure raises a counter that decays over time; past a
 * threshold the key is blocked for a while (answers fail at once, even
 * with a right password, and the caller logs it).
 */
#ifndef AUTH_THROTTLE_H
#define AUTH_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

/* throttle_blocked: true if ip or account is currently blocked. */
bool throttle_blocked(const char *ip, const char *account);
/* throttle_fail: record a failure for both keys (account may be NULL). */
void throttle_fail(const char *ip, const char *account);
/* throttle_success: forget the account's failures (not the IP's). */
void throttle_success(const char *ip, const char *account);
/* throttle_reset_all: clear everything (tests). */
void throttle_reset_all(void);
/* throttle_configure: failures before blocking, block seconds. An
 * account blocks after max_failures, an IP after 2 * max_failures
 * (defaults 10 and 20 within 15 minutes, blocked 300 s). */
void throttle_configure(uint32_t max_failures, uint32_t block_secs);
/* throttle_configure_full: every knob: thresholds per account and per
 * IP, block time, the window over which a score leaks away, and the
 * number of keys kept per table (0 = 10,000). */
void throttle_configure_full(uint32_t account_max, uint32_t ip_max,
    uint32_t block_secs, uint32_t window_secs, uint32_t table_max);

#endif
