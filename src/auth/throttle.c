/*
 * throttle - authentication failure throttling per client IP and account.
 *
 * Each key holds a leaky-bucket score: a failure adds 1, and the score
 * leaks at max/window per second, so "max failures within the window"
 * blocks the key for block_secs. Defaults: 10 failures per account or
 * 20 per IP within 15 minutes, blocked 5 minutes. An IPv6 client is
 * counted by its /64 (one host usually owns the whole prefix), an
 * IPv4-mapped address as IPv4; account names count case-insensitively.
 *
 * Memory is bounded: two tables (IPs, accounts) of at most 10,000 keys
 * each, so a flood of one kind cannot push out the other; when full the
 * least recently failed key that is not blocked goes first. Every call
 * takes one process-wide mutex; the work under it is a hash lookup.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/lru.h"
#include "auth/throttle.h"
#include "core/timeutil.h"

#define THR_TABLE_MAX		10000
#define THR_KEY_MAX		512
#define THR_EVICT_SCAN		16	/* keys tried on eviction */
#define THR_DEF_ACCOUNT_MAX	10
#define THR_DEF_IP_MAX		20
#define THR_DEF_BLOCK_SECS	300
#define THR_DEF_WINDOW_SECS	900

struct thr_entry {
	struct lru_entry	e;
	double			score;
	uint64_t		last_ms;
	uint64_t		blocked_until_ms;
};

static pthread_mutex_t thr_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lru thr_ips;
static struct lru thr_accounts;
static int thr_ready;
static uint32_t thr_account_max = THR_DEF_ACCOUNT_MAX;
static uint32_t thr_ip_max = THR_DEF_IP_MAX;
static uint32_t thr_block_secs = THR_DEF_BLOCK_SECS;
static uint32_t thr_window_secs = THR_DEF_WINDOW_SECS;

/* called with thr_lock held */
static void
thr_init_locked(void)
{
	if (thr_ready)
		return;
	lru_init(&thr_ips, THR_TABLE_MAX);
	lru_init(&thr_accounts, THR_TABLE_MAX);
	thr_ready = 1;
}

/* thr_ip_key: the counting key for a client address. */
static void
thr_ip_key(const char *ip, char *dst, size_t dstlen)
{
	struct in6_addr a6;
	char tmp[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET6, ip, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			if (inet_ntop(AF_INET, &a6.s6_addr[12], dst,
			    (socklen_t)dstlen) != NULL)
				return;
		} else {
			memset(&a6.s6_addr[8], 0, 8);
			if (inet_ntop(AF_INET6, &a6, tmp, sizeof(tmp)) !=
			    NULL) {
				snprintf(dst, dstlen, "%s/64", tmp);
				return;
			}
		}
	}
	snprintf(dst, dstlen, "%s", ip);
}

static void
thr_account_key(const char *account, char *dst, size_t dstlen)
{
	size_t i;

	for (i = 0; account[i] != '\0' && i + 1 < dstlen; i++) {
		char c = account[i];

		dst[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	dst[i] = '\0';
}

static void
thr_decay(struct thr_entry *te, uint32_t max, uint64_t now)
{
	double leak;

	if (now <= te->last_ms)
		return;
	leak = (double)(now - te->last_ms) * max /
	    ((double)thr_window_secs * 1000.0);
	te->score = te->score > leak ? te->score - leak : 0.0;
	te->last_ms = now;
}

static bool
thr_is_blocked(struct lru *t, const char *key, uint64_t now)
{
	struct thr_entry *te;

	te = (struct thr_entry *)lru_get(t, key);
	return te != NULL && te->blocked_until_ms > now;
}

static void
thr_make_room(struct lru *t, uint64_t now)
{
	struct lru_entry *e;
	int i;

	if (t->count < t->max)
		return;
	e = t->oldest;
	for (i = 0; e != NULL && i < THR_EVICT_SCAN; i++, e = e->newer) {
		if (((struct thr_entry *)e)->blocked_until_ms <= now) {
			lru_del(t, e);
			return;
		}
	}
	/* all blocked: lru_add drops the oldest */
}

static void
thr_fail_key(struct lru *t, const char *key, uint32_t max, uint64_t now)
{
	struct thr_entry *te;

	te = (struct thr_entry *)lru_get(t, key);
	if (te == NULL) {
		thr_make_room(t, now);
		te = (struct thr_entry *)lru_add(t, key, sizeof(*te));
		te->last_ms = now;
	} else {
		thr_decay(te, max, now);
		lru_touch(t, &te->e);
	}
	te->score += 1.0;
	/* half a failure of slack: the leak between failures a few ms
	 * apart must not keep the Nth from counting as N */
	if (te->score >= (double)max - 0.5 && te->blocked_until_ms <= now) {
		te->blocked_until_ms = now + (uint64_t)thr_block_secs * 1000;
		te->score = 0.0;
	}
}

bool
throttle_blocked(const char *ip, const char *account)
{
	char key[THR_KEY_MAX];
	uint64_t now = time_mono_ms();
	bool blocked = false;

	pthread_mutex_lock(&thr_lock);
	thr_init_locked();
	if (ip != NULL && ip[0] != '\0') {
		thr_ip_key(ip, key, sizeof(key));
		blocked = thr_is_blocked(&thr_ips, key, now);
	}
	if (!blocked && account != NULL && account[0] != '\0') {
		thr_account_key(account, key, sizeof(key));
		blocked = thr_is_blocked(&thr_accounts, key, now);
	}
	pthread_mutex_unlock(&thr_lock);
	return blocked;
}

void
throttle_fail(const char *ip, const char *account)
{
	char key[THR_KEY_MAX];
	uint64_t now = time_mono_ms();

	pthread_mutex_lock(&thr_lock);
	thr_init_locked();
	if (ip != NULL && ip[0] != '\0') {
		thr_ip_key(ip, key, sizeof(key));
		thr_fail_key(&thr_ips, key, thr_ip_max, now);
	}
	if (account != NULL && account[0] != '\0') {
		thr_account_key(account, key, sizeof(key));
		thr_fail_key(&thr_accounts, key, thr_account_max, now);
	}
	pthread_mutex_unlock(&thr_lock);
}

void
throttle_success(const char *ip, const char *account)
{
	char key[THR_KEY_MAX];
	struct lru_entry *e;

	(void)ip;
	if (account == NULL || account[0] == '\0')
		return;
	thr_account_key(account, key, sizeof(key));
	pthread_mutex_lock(&thr_lock);
	thr_init_locked();
	e = lru_get(&thr_accounts, key);
	if (e != NULL)
		lru_del(&thr_accounts, e);
	pthread_mutex_unlock(&thr_lock);
}

void
throttle_reset_all(void)
{
	pthread_mutex_lock(&thr_lock);
	thr_init_locked();
	lru_clear(&thr_ips);
	lru_clear(&thr_accounts);
	pthread_mutex_unlock(&thr_lock);
}

void
throttle_configure_full(uint32_t account_max, uint32_t ip_max,
    uint32_t block_secs, uint32_t window_secs, uint32_t table_max)
{
	pthread_mutex_lock(&thr_lock);
	thr_init_locked();
	thr_account_max = account_max > 0 ? account_max : 1;
	thr_ip_max = ip_max > 0 ? ip_max : 1;
	thr_block_secs = block_secs;
	thr_window_secs = window_secs > 0 ? window_secs : 1;
	lru_set_max(&thr_ips, table_max > 0 ? table_max : THR_TABLE_MAX);
	lru_set_max(&thr_accounts, table_max > 0 ? table_max : THR_TABLE_MAX);
	pthread_mutex_unlock(&thr_lock);
}

void
throttle_configure(uint32_t max_failures, uint32_t block_secs)
{
	uint32_t ip_max = max_failures > UINT32_MAX / 2 ? UINT32_MAX :
	    max_failures * 2;

	throttle_configure_full(max_failures, ip_max, block_secs,
	    THR_DEF_WINDOW_SECS, THR_TABLE_MAX);
}
