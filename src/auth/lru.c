/*
 * lru - bounded hash table with use order. See lru.h.
 *
 * Chained buckets, as many as the ceiling rounded up to a power of two,
 * and a doubly linked list from oldest to newest. The hash is FNV-1a
 * over a random per-table seed with a final mix, so a client cannot
 * choose keys (IP addresses, account names) that all land in one chain.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "auth/lru.h"
#include "core/xmalloc.h"

static uint64_t
lru_hash(const struct lru *t, const char *key)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ t->seed;

	while (*key != '\0') {
		h ^= (unsigned char)*key++;
		h *= 0x100000001b3ULL;
	}
	/* splitmix64 finaliser spreads the low bits used as the index */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

static size_t
lru_nbuckets_for(size_t max)
{
	size_t n = 16;

	while (n < max && n < ((size_t)1 << 24))
		n <<= 1;
	return n;
}

void
lru_init(struct lru *t, size_t max)
{
	memset(t, 0, sizeof(*t));
	t->max = max > 0 ? max : 1;
	if (getrandom(&t->seed, sizeof(t->seed), 0) != sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ULL;
}

static void
lru_rehash(struct lru *t, size_t nbuckets)
{
	struct lru_entry *e;
	size_t i;

	free(t->buckets);
	t->buckets = xcalloc(nbuckets, sizeof(*t->buckets));
	t->nbuckets = nbuckets;
	for (e = t->oldest; e != NULL; e = e->newer) {
		i = e->hash & (nbuckets - 1);
		e->hnext = t->buckets[i];
		t->buckets[i] = e;
	}
}

struct lru_entry *
lru_get(struct lru *t, const char *key)
{
	struct lru_entry *e;
	uint64_t h;

	if (t->buckets == NULL)
		return NULL;
	h = lru_hash(t, key);
	for (e = t->buckets[h & (t->nbuckets - 1)]; e != NULL; e = e->hnext) {
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e;
	}
	return NULL;
}

static void
lru_unlink(struct lru *t, struct lru_entry *e)
{
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		t->oldest = e->newer;
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		t->newest = e->older;
	e->older = NULL;
	e->newer = NULL;
}

static void
lru_link_newest(struct lru *t, struct lru_entry *e)
{
	e->older = t->newest;
	e->newer = NULL;
	if (t->newest != NULL)
		t->newest->newer = e;
	else
		t->oldest = e;
	t->newest = e;
}

void
lru_touch(struct lru *t, struct lru_entry *e)
{
	if (t->newest == e)
		return;
	lru_unlink(t, e);
	lru_link_newest(t, e);
}

void
lru_del(struct lru *t, struct lru_entry *e)
{
	struct lru_entry **pp;

	pp = &t->buckets[e->hash & (t->nbuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(t, e);
	t->count--;
	explicit_bzero(e->key, strlen(e->key));
	free(e->key);
	explicit_bzero(e, e->size);
	free(e);
}

struct lru_entry *
lru_add(struct lru *t, const char *key, size_t entry_size)
{
	struct lru_entry *e;
	size_t i;

	if (t->buckets == NULL)
		lru_rehash(t, lru_nbuckets_for(t->max));
	while (t->count >= t->max && t->oldest != NULL)
		lru_del(t, t->oldest);
	if (entry_size < sizeof(*e))
		entry_size = sizeof(*e);
	e = xcalloc(1, entry_size);
	e->size = entry_size;
	e->key = xstrdup(key);
	e->hash = lru_hash(t, key);
	i = e->hash & (t->nbuckets - 1);
	e->hnext = t->buckets[i];
	t->buckets[i] = e;
	lru_link_newest(t, e);
	t->count++;
	return e;
}

void
lru_set_max(struct lru *t, size_t max)
{
	t->max = max > 0 ? max : 1;
	while (t->count > t->max)
		lru_del(t, t->oldest);
	if (t->buckets != NULL && lru_nbuckets_for(t->max) != t->nbuckets)
		lru_rehash(t, lru_nbuckets_for(t->max));
}

void
lru_clear(struct lru *t)
{
	while (t->oldest != NULL)
		lru_del(t, t->oldest);
}
