/*
 * lru - a bounded string-keyed hash table that remembers use order, for
 * the auth throttle and cache (private to src/auth). Not thread-safe:
 * each user holds its own lock around every call.
 *
 * A user's entry struct starts with a struct lru_entry; lru_add
 * allocates entry_size bytes (zeroed) and owns them from then on.
 */
#ifndef AUTH_LRU_H
#define AUTH_LRU_H

#include <stddef.h>
#include <stdint.h>

struct lru_entry {
	struct lru_entry	*hnext;		/* bucket chain */
	struct lru_entry	*older;		/* toward lru->oldest */
	struct lru_entry	*newer;		/* toward lru->newest */
	uint64_t		 hash;
	size_t			 size;		/* bytes */
	char			*key;
};

struct lru {
	struct lru_entry	**buckets;	/* NULL until the first add */
	size_t			  nbuckets;	/* a power of two */
	size_t			  count;
	size_t			  max;
	struct lru_entry	 *newest;
	struct lru_entry	 *oldest;
	uint64_t		  seed;		/* hash key */
};

/* lru_init: empty table holding at most max (>= 1) entries. */
void lru_init(struct lru *t, size_t max);
/* lru_get: the entry for key, or NULL. Does not change the order. */
struct lru_entry *lru_get(struct lru *t, const char *key);
/* lru_touch: mark e as the most recently used. */
void lru_touch(struct lru *t, struct lru_entry *e);
/*
 * lru_add: a new zeroed entry of entry_size bytes for key (which must not
 * be present), most recent; the oldest entry is dropped first when full.
 * Never NULL (aborts on out of memory).
 */
struct lru_entry *lru_add(struct lru *t, const char *key,
    size_t entry_size);
/* lru_del: remove and free e (its memory is wiped). */
void lru_del(struct lru *t, struct lru_entry *e);
/* lru_set_max: new ceiling (>= 1); drops the oldest entries past it. */
void lru_set_max(struct lru *t, size_t max);
/* lru_clear: drop everything; the table stays usable. */
void lru_clear(struct lru *t);

#endif
