/*
 * websess - admin page login sessions, kept server-side in memory so
 * logout (and a password change) revokes them at once. Tokens are 256
 * random bits; CSRF tokens 128 bits. Sessions end after 12 hours, or 1
 * hour without use. At most WEBSESS_MAX live at once.
 */
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>

#include "core/str.h"
#include "http/http_int.h"

#define WEBSESS_MAX	1024
#define WEBSESS_LIFE	(12 * 3600)
#define WEBSESS_IDLE	3600

static pthread_mutex_t ws_lock = PTHREAD_MUTEX_INITIALIZER;
static struct websess ws_tab[WEBSESS_MAX];

static int
ws_random_hex(char *dst, size_t bytes)
{
	unsigned char rnd[64];

	if (bytes > sizeof(rnd) || getrandom(rnd, bytes, 0) != (ssize_t)bytes)
		return -1;
	hex_encode(rnd, bytes, dst);
	return 0;
}

static bool
ws_live(const struct websess *s, time_t now)
{
	return s->token[0] != '\0' && now - s->created < WEBSESS_LIFE &&
	    now - s->last < WEBSESS_IDLE;
}

int
websess_new(const char *name, bool admin, struct websess *s_r)
{
	time_t now = time(NULL);
	size_t i;
	int rc = -1;

	pthread_mutex_lock(&ws_lock);
	for (i = 0; i < WEBSESS_MAX; i++) {
		struct websess *s = &ws_tab[i];

		if (ws_live(s, now))
			continue;
		memset(s, 0, sizeof(*s));
		if (ws_random_hex(s->token, WEBSESS_TOKEN_LEN / 2) < 0 ||
		    ws_random_hex(s->csrf, 16) < 0) {
			memset(s, 0, sizeof(*s));
			break;
		}
		str_copy(s->name, name, sizeof(s->name));
		s->admin = admin;
		s->created = now;
		s->last = now;
		*s_r = *s;
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&ws_lock);
	return rc;
}

int
websess_get(const char *token, struct websess *s_r)
{
	time_t now = time(NULL);
	size_t i, n = strlen(token);
	int found = 0;

	if (n != WEBSESS_TOKEN_LEN)
		return 0;
	pthread_mutex_lock(&ws_lock);
	for (i = 0; i < WEBSESS_MAX; i++) {
		struct websess *s = &ws_tab[i];

		if (s->token[0] == '\0')
			continue;
		if (CRYPTO_memcmp(s->token, token, WEBSESS_TOKEN_LEN) != 0)
			continue;
		if (!ws_live(s, now)) {
			memset(s, 0, sizeof(*s));
			break;
		}
		s->last = now;
		*s_r = *s;
		found = 1;
		break;
	}
	pthread_mutex_unlock(&ws_lock);
	return found;
}

void
websess_del(const char *token)
{
	size_t i;

	pthread_mutex_lock(&ws_lock);
	for (i = 0; i < WEBSESS_MAX; i++)
		if (ws_tab[i].token[0] != '\0' &&
		    strcmp(ws_tab[i].token, token) == 0)
			memset(&ws_tab[i], 0, sizeof(ws_tab[i]));
	pthread_mutex_unlock(&ws_lock);
}

void
websess_del_name_except(const char *name, const char *keep_token)
{
	size_t i;

	pthread_mutex_lock(&ws_lock);
	for (i = 0; i < WEBSESS_MAX; i++)
		if (ws_tab[i].token[0] != '\0' &&
		    str_ieq(ws_tab[i].name, name) &&
		    (keep_token == NULL ||
		    strcmp(ws_tab[i].token, keep_token) != 0))
			memset(&ws_tab[i], 0, sizeof(ws_tab[i]));
	pthread_mutex_unlock(&ws_lock);
}

void
websess_del_name(const char *name)
{
	websess_del_name_except(name, NULL);
}
