/*
 * cache - verified-credential cache. See cache.h.
 *
 * An entry never holds the password: it holds SHA-256(pepper || salt ||
 * password), with a random 16-byte salt per entry and a random pepper
 * per process, and SHA-256 of the stored hash the password was verified
 * against (so a password change in the directory misses). Entries live
 * ttl seconds (default 300); at most max_entries (default 4096), the
 * least recently used dropped first. One mutex guards the table; the
 * digests are computed outside it.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>

#include "auth/cache.h"
#include "auth/lru.h"
#include "core/timeutil.h"

#define CACHE_DEF_TTL		300
#define CACHE_DEF_MAX		4096
#define CACHE_SALT_LEN		16
#define CACHE_HASH_LEN		32
#define CACHE_ACCOUNT_MAX	1024

struct cache_entry {
	struct lru_entry	e;
	uint64_t		expires_ms;
	unsigned char		salt[CACHE_SALT_LEN];
	unsigned char		pwhash[CACHE_HASH_LEN];
	unsigned char		storedhash[CACHE_HASH_LEN];
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lru cache_tab;
static int cache_ready;
static unsigned char cache_pepper[32];
static unsigned cache_ttl = CACHE_DEF_TTL;
static size_t cache_max = CACHE_DEF_MAX;

/* called with cache_lock held; 0 or -1 (no randomness: cache off) */
static int
cache_init_locked(void)
{
	if (cache_ready)
		return cache_ready > 0 ? 0 : -1;
	if (RAND_bytes(cache_pepper, sizeof(cache_pepper)) != 1) {
		cache_ready = -1;
		return -1;
	}
	lru_init(&cache_tab, cache_max);
	cache_ready = 1;
	return 0;
}

static int
cache_sha256(const void *a, size_t alen, const void *b, size_t blen,
    const void *c, size_t clen, unsigned char out[CACHE_HASH_LEN])
{
	EVP_MD_CTX *ctx;
	int ok;

	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return -1;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, a, alen) == 1 &&
	    EVP_DigestUpdate(ctx, b, blen) == 1 &&
	    EVP_DigestUpdate(ctx, c, clen) == 1 &&
	    EVP_DigestFinal_ex(ctx, out, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int
cache_stored_hash(const char *stored, unsigned char out[CACHE_HASH_LEN])
{
	return cache_sha256("stored", 6, stored, strlen(stored), "", 0, out);
}

static bool
cache_usable(const char *account, const char *stored, const char *password)
{
	return account != NULL && stored != NULL && password != NULL &&
	    strnlen(account, CACHE_ACCOUNT_MAX) < CACHE_ACCOUNT_MAX &&
	    cache_ttl > 0 && cache_max > 0;
}

bool
auth_cache_check(const char *account, const char *stored,
    const char *password, size_t pwlen)
{
	unsigned char sh[CACHE_HASH_LEN], ph[CACHE_HASH_LEN];
	unsigned char salt[CACHE_SALT_LEN], want[CACHE_HASH_LEN];
	struct cache_entry *ce;
	bool found = false, ok;

	if (!cache_usable(account, stored, password) ||
	    cache_stored_hash(stored, sh) < 0)
		return false;
	pthread_mutex_lock(&cache_lock);
	if (cache_init_locked() == 0) {
		ce = (struct cache_entry *)lru_get(&cache_tab, account);
		if (ce != NULL && ce->expires_ms <= time_mono_ms()) {
			lru_del(&cache_tab, &ce->e);
			ce = NULL;
		}
		if (ce != NULL &&
		    CRYPTO_memcmp(ce->storedhash, sh, sizeof(sh)) == 0) {
			memcpy(salt, ce->salt, sizeof(salt));
			memcpy(want, ce->pwhash, sizeof(want));
			lru_touch(&cache_tab, &ce->e);
			found = true;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	if (!found)
		return false;
	ok = cache_sha256(cache_pepper, sizeof(cache_pepper), salt,
	    sizeof(salt), password, pwlen, ph) == 0 &&
	    CRYPTO_memcmp(ph, want, sizeof(ph)) == 0;
	OPENSSL_cleanse(ph, sizeof(ph));
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

void
auth_cache_put(const char *account, const char *stored,
    const char *password, size_t pwlen)
{
	unsigned char sh[CACHE_HASH_LEN], ph[CACHE_HASH_LEN];
	unsigned char salt[CACHE_SALT_LEN];
	struct cache_entry *ce;

	if (!cache_usable(account, stored, password) ||
	    cache_stored_hash(stored, sh) < 0 ||
	    RAND_bytes(salt, sizeof(salt)) != 1)
		return;
	pthread_mutex_lock(&cache_lock);
	if (cache_init_locked() < 0) {
		pthread_mutex_unlock(&cache_lock);
		return;
	}
	pthread_mutex_unlock(&cache_lock);
	/* the pepper is fixed once initialised: hash outside the lock */
	if (cache_sha256(cache_pepper, sizeof(cache_pepper), salt,
	    sizeof(salt), password, pwlen, ph) < 0)
		return;
	pthread_mutex_lock(&cache_lock);
	ce = (struct cache_entry *)lru_get(&cache_tab, account);
	if (ce == NULL)
		ce = (struct cache_entry *)lru_add(&cache_tab, account,
		    sizeof(*ce));
	else
		lru_touch(&cache_tab, &ce->e);
	ce->expires_ms = time_mono_ms() + (uint64_t)cache_ttl * 1000;
	memcpy(ce->salt, salt, sizeof(salt));
	memcpy(ce->pwhash, ph, sizeof(ph));
	memcpy(ce->storedhash, sh, sizeof(sh));
	pthread_mutex_unlock(&cache_lock);
	OPENSSL_cleanse(ph, sizeof(ph));
}

void
auth_cache_forget(const char *account)
{
	struct lru_entry *e;

	if (account == NULL)
		return;
	pthread_mutex_lock(&cache_lock);
	if (cache_init_locked() == 0) {
		e = lru_get(&cache_tab, account);
		if (e != NULL)
			lru_del(&cache_tab, e);
	}
	pthread_mutex_unlock(&cache_lock);
}

void
auth_cache_configure(unsigned ttl_secs, size_t max_entries)
{
	pthread_mutex_lock(&cache_lock);
	cache_ttl = ttl_secs;
	cache_max = max_entries;
	if (cache_init_locked() == 0) {
		if (max_entries == 0 || ttl_secs == 0)
			lru_clear(&cache_tab);
		else
			lru_set_max(&cache_tab, max_entries);
	}
	pthread_mutex_unlock(&cache_lock);
}
