/*
 * strnum - strict number parsing (no atoi): the whole string must be a
 * number in range, no sign, no spaces. Returns 0 or -1.
 */
#ifndef CORE_STRNUM_H
#define CORE_STRNUM_H

#include <stddef.h>
#include <stdint.h>

int str_to_u64(const char *s, uint64_t *r) __attribute__((warn_unused_result));
int str_to_u32(const char *s, uint32_t *r) __attribute__((warn_unused_result));
/* str_to_u64n: parse exactly n bytes (need not be NUL-terminated). */
int str_to_u64n(const char *s, size_t n, uint64_t *r)
    __attribute__((warn_unused_result));
int str_to_u32n(const char *s, size_t n, uint32_t *r)
    __attribute__((warn_unused_result));
/* str_to_size: "1048576", "10k", "50M", "2G" (binary units) -> bytes. */
int str_to_size(const char *s, uint64_t *r) __attribute__((warn_unused_result));
/* str_to_duration: "30", "30s", "5m", "2h", "5d", "1w" -> seconds. */
int str_to_duration(const char *s, uint64_t *secs_r)
    __attribute__((warn_unused_result));

#endif
