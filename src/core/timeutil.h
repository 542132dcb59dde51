/*
 * timeutil - clocks and date formats.
 */
#ifndef CORE_TIMEUTIL_H
#define CORE_TIMEUTIL_H

#include <stdint.h>
#include <time.h>

/* time_mono_ms: monotonic milliseconds, for deadlines. */
uint64_t time_mono_ms(void);
/* time_fmt_rfc5322: "Wed, 25 Nov 2026 15:34:04 +0000" (local zone offset). */
void time_fmt_rfc5322(char dst[64], time_t t);
/* time_fmt_imap: IMAP date-time "25-Nov-2026 15:34:04 +0000". */
void time_fmt_imap(char dst[64], time_t t);

#endif
