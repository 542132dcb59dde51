/*
 * thread - RFC 5256 section 4 threading. See thread.h.
 *
 * REFERENCES keeps containers in one array linked by indexes (parent,
 * first child, next sibling) and Message-IDs in an open-addressing hash
 * table; every walk (pruning, sorting, output) uses explicit stacks, so a
 * long reply chain cannot exhaust the C stack. Loop checks walk the
 * parent chain. Sorting is by sent date, then sequence number.
 */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "imap/sortkey.h"
#include "imap/thread.h"

/* --- msg-id lists --- */

void
thread_ids_free(char **ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

size_t
thread_ids_parse(const char *v, size_t n, char ***ids_r, size_t *n_r,
    size_t max)
{
	size_t i = 0, j, k, l, found = 0;
	char *id;

	while (i < n) {
		if (v[i] != '<') {
			i++;
			continue;
		}
		for (j = i + 1; j < n && v[j] != '>' && v[j] != '<'; j++)
			;
		if (j >= n || v[j] == '<') {
			i = j;
			continue;
		}
		/* copy without folding white space */
		id = xmalloc(j - i + 2);
		for (k = i, l = 0; k <= j; k++)
			if (v[k] != ' ' && v[k] != '\t' && v[k] != '\r' &&
			    v[k] != '\n' && v[k] != '\0')
				id[l++] = v[k];
		id[l] = '\0';
		found++;
		if (l <= 2 || l > THREAD_ID_MAX) {
			free(id);
			found--;
		} else {
			if (max > 0 && *n_r >= max) {
				free((*ids_r)[0]);
				memmove(*ids_r, *ids_r + 1,
				    (*n_r - 1) * sizeof(**ids_r));
				(*n_r)--;
			}
			*ids_r = xreallocarray(*ids_r, *n_r + 1,
			    sizeof(**ids_r));
			(*ids_r)[(*n_r)++] = id;
		}
		i = j + 1;
	}
	return found;
}

/* --- common --- */

struct tnode {
	long		msg;		/* index in m, -1 dummy */
	long		parent;
	long		child;
	long		next;
	time_t		date;		/* for sorting */
	uint32_t	seq;
};

struct tree {
	struct tnode		*v;
	size_t			 n;
	size_t			 cap;
	const struct thread_msg	*m;
};

static long
node_new(struct tree *t, long msg)
{
	struct tnode *x;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	x = &t->v[t->n];
	x->msg = msg;
	x->parent = x->child = x->next = -1;
	x->date = msg >= 0 ? t->m[msg].date : 0;
	x->seq = msg >= 0 ? t->m[msg].seq : 0;
	return (long)t->n++;
}

static void
node_link(struct tree *t, long parent, long kid)
{
	t->v[kid].parent = parent;
	t->v[kid].next = t->v[parent].child;
	t->v[parent].child = kid;
}

static void
node_unlink(struct tree *t, long kid)
{
	long p = t->v[kid].parent, *pp;

	if (p < 0)
		return;
	for (pp = &t->v[p].child; *pp >= 0; pp = &t->v[*pp].next)
		if (*pp == kid) {
			*pp = t->v[kid].next;
			break;
		}
	t->v[kid].parent = -1;
	t->v[kid].next = -1;
}

/* is_ancestor: a is b or one of b's ancestors (a childless a can only be
 * b itself: the usual case, a new message, costs no walk) */
static bool
is_ancestor(const struct tree *t, long a, long b)
{
	if (t->v[a].child < 0)
		return a == b;
	for (; b >= 0; b = t->v[b].parent)
		if (b == a)
			return true;
	return false;
}

static int
cmp_node(const void *a, const void *b, void *ctx)
{
	const struct tree *t = ctx;
	const struct tnode *x = &t->v[*(const long *)a];
	const struct tnode *y = &t->v[*(const long *)b];

	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

/* sort_kids: order p's children by date; a dummy takes its first
 * child's date (children are sorted before their parents). */
static void
sort_kids(struct tree *t, long p, long **tmp, size_t *tmpcap)
{
	size_t k = 0, i;
	long c;

	for (c = t->v[p].child; c >= 0; c = t->v[c].next) {
		if (k == *tmpcap) {
			*tmpcap = *tmpcap ? *tmpcap * 2 : 64;
			*tmp = xreallocarray(*tmp, *tmpcap, sizeof(**tmp));
		}
		(*tmp)[k++] = c;
	}
	if (k > 1)
		qsort_r(*tmp, k, sizeof(**tmp), cmp_node, t);
	t->v[p].child = k > 0 ? (*tmp)[0] : -1;
	for (i = 0; i < k; i++)
		t->v[(*tmp)[i]].next = i + 1 < k ? (*tmp)[i + 1] : -1;
	if (t->v[p].msg < 0 && k > 0) {
		t->v[p].date = t->v[(*tmp)[0]].date;
		t->v[p].seq = t->v[(*tmp)[0]].seq;
	}
}

/* sort_all: sort every sibling list under root, deepest first. */
static void
sort_all(struct tree *t, long root)
{
	long *order, *tmp = NULL, c;
	size_t no = 0, top, tmpcap = 0, i;
	long *stack;

	order = xreallocarray(NULL, t->n, sizeof(*order));
	stack = xreallocarray(NULL, t->n, sizeof(*stack));
	top = 0;
	stack[top++] = root;
	while (top > 0) {
		long x = stack[--top];

		order[no++] = x;
		for (c = t->v[x].child; c >= 0; c = t->v[c].next)
			stack[top++] = c;
	}
	for (i = no; i > 0; i--)
		sort_kids(t, order[i - 1], &tmp, &tmpcap);
	free(order);
	free(stack);
	free(tmp);
}

/* emit: the threads under root as "(a b (c)(d))...". */
static int
emit(const struct tree *t, long root, struct buf *out)
{
	/* stack entries: node index, or -2 for ")" and -3 for "(" */
	long *stack, x, c;
	size_t top = 0, cap = 3 * t->n + 3, nk;
	bool space;
	int rc = 0;

	stack = xreallocarray(NULL, cap, sizeof(*stack));
	for (nk = 0, c = t->v[root].child; c >= 0; c = t->v[c].next)
		nk++;
	/* push the roots in reverse order */
	{
		long *r = xreallocarray(NULL, nk + 1, sizeof(*r));
		size_t i = 0;

		for (c = t->v[root].child; c >= 0; c = t->v[c].next)
			r[i++] = c;
		while (i > 0) {
			stack[top++] = -2;
			stack[top++] = r[--i];
			stack[top++] = -3;
		}
		free(r);
	}
	while (top > 0 && rc == 0) {
		x = stack[--top];
		if (x == -2) {
			rc = buf_putc(out, ')');
			continue;
		}
		if (x == -3) {
			rc = buf_putc(out, '(');
			continue;
		}
		space = false;
		for (;;) {
			const struct tnode *nd = &t->v[x];

			if (nd->msg >= 0) {
				if (buf_printf(out, space ? " %u" : "%u",
				    t->m[nd->msg].id) < 0) {
					rc = -1;
					break;
				}
				space = true;
			}
			for (nk = 0, c = nd->child; c >= 0; c = t->v[c].next)
				nk++;
			if (nk == 0)
				break;
			if (nk == 1) {
				x = nd->child;
				continue;
			}
			if (space && buf_putc(out, ' ') < 0) {
				rc = -1;
				break;
			}
			{
				long *r = xreallocarray(NULL, nk,
				    sizeof(*r));
				size_t i = 0;

				for (c = nd->child; c >= 0; c = t->v[c].next)
					r[i++] = c;
				while (i > 0) {
					stack[top++] = -2;
					stack[top++] = r[--i];
					stack[top++] = -3;
				}
				free(r);
			}
			break;
		}
	}
	free(stack);
	return rc;
}

/* --- ORDEREDSUBJECT (RFC 5256 4) --- */

static int
cmp_subj(const void *a, const void *b, void *ctx)
{
	const struct thread_msg *m = ctx;
	const struct thread_msg *x = &m[*(const long *)a];
	const struct thread_msg *y = &m[*(const long *)b];
	int r = sort_strcmp(x->subj, x->subjlen, y->subj, y->subjlen);

	if (r != 0)
		return r;
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

int
thread_orderedsubject(const struct thread_msg *m, size_t n, struct buf *out)
{
	struct tree t;
	long *ix, root, head = -1;
	size_t i;
	int rc;

	memset(&t, 0, sizeof(t));
	t.m = m;
	ix = xreallocarray(NULL, n + 1, sizeof(*ix));
	for (i = 0; i < n; i++)
		ix[i] = (long)i;
	qsort_r(ix, n, sizeof(*ix), cmp_subj, (void *)m);
	root = node_new(&t, -1);
	for (i = 0; i < n; i++) {
		long x = node_new(&t, ix[i]);

		if (head >= 0 && sort_strcmp(m[ix[i]].subj, m[ix[i]].subjlen,
		    m[t.v[head].msg].subj, m[t.v[head].msg].subjlen) == 0)
			node_link(&t, head, x);
		else {
			node_link(&t, root, x);
			head = x;
		}
	}
	free(ix);
	sort_all(&t, root);
	rc = emit(&t, root, out);
	free(t.v);
	return rc;
}

/* --- REFERENCES (RFC 5256 4) --- */

struct idtab {
	const char	**key;
	long		 *node;
	size_t		  cap;		/* power of two */
};

static size_t
id_hash(const char *s)
{
	size_t h = 5381;

	while (*s != '\0')
		h = h * 33 + (unsigned char)*s++;
	return h;
}

/* id_slot: the slot of key (its node >= 0) or the free slot for it */
static size_t
id_slot(const struct idtab *tab, const char *key)
{
	size_t i = id_hash(key) & (tab->cap - 1);

	while (tab->key[i] != NULL && strcmp(tab->key[i], key) != 0)
		i = (i + 1) & (tab->cap - 1);
	return i;
}

static long
id_get(struct tree *t, struct idtab *tab, const char *key)
{
	size_t i = id_slot(tab, key);

	if (tab->key[i] == NULL) {
		tab->key[i] = key;
		tab->node[i] = node_new(t, -1);
	}
	return tab->node[i];
}

/* subject of a root: its message's, or its first child's for a dummy */
static const struct thread_msg *
root_msg(const struct tree *t, long x)
{
	if (t->v[x].msg < 0 && t->v[x].child >= 0)
		x = t->v[x].child;
	return t->v[x].msg >= 0 ? &t->m[t->v[x].msg] : NULL;
}

static int
cmp_root_subj(const void *a, const void *b, void *ctx)
{
	const struct tree *t = ctx;
	const long *x = a, *y = b;
	const struct thread_msg *mx = root_msg(t, x[0]);
	const struct thread_msg *my = root_msg(t, y[0]);
	int r = sort_strcmp(mx->subj, mx->subjlen, my->subj, my->subjlen);

	if (r != 0)
		return r;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* prune: RFC 5256 4 step 4 on every sibling list, from the root down. */
static void
prune(struct tree *t, long root)
{
	long *stack, p, *pp, x, c, last;
	size_t top = 0, nk;

	stack = xreallocarray(NULL, t->n + 1, sizeof(*stack));
	stack[top++] = root;
	while (top > 0) {
		p = stack[--top];
		pp = &t->v[p].child;
		while (*pp >= 0) {
			x = *pp;
			if (t->v[x].msg >= 0) {
				pp = &t->v[x].next;
				continue;
			}
			for (nk = 0, c = t->v[x].child; c >= 0;
			    c = t->v[c].next)
				nk++;
			if (nk == 0) {
				*pp = t->v[x].next;
				continue;
			}
			if (p == root && nk > 1) {
				pp = &t->v[x].next;
				continue;
			}
			/* splice x's children in its place */
			last = -1;
			for (c = t->v[x].child; c >= 0; c = t->v[c].next) {
				t->v[c].parent = p;
				last = c;
			}
			t->v[last].next = t->v[x].next;
			*pp = t->v[x].child;
			t->v[x].child = -1;
		}
		for (c = t->v[p].child; c >= 0; c = t->v[c].next)
			stack[top++] = c;
	}
	free(stack);
}

static void
merge_subjects(struct tree *t, long root)
{
	long (*rs)[2], *roots, c, tab, r, d, tabpos;
	size_t nr = 0, i, j, g;
	const struct thread_msg *mt, *mr;

	for (c = t->v[root].child; c >= 0; c = t->v[c].next)
		nr++;
	if (nr < 2)
		return;
	roots = xreallocarray(NULL, nr, sizeof(*roots));
	rs = xreallocarray(NULL, nr, sizeof(*rs));
	for (i = 0, c = t->v[root].child; c >= 0; c = t->v[c].next, i++)
		roots[i] = c;
	for (i = 0, j = 0; i < nr; i++) {
		mr = root_msg(t, roots[i]);
		if (mr == NULL || mr->subjlen == 0)
			continue;
		rs[j][0] = roots[i];
		rs[j][1] = (long)i;
		j++;
	}
	qsort_r(rs, j, sizeof(*rs), cmp_root_subj, t);
	for (g = 0; g < j; g = i) {
		mt = root_msg(t, rs[g][0]);
		for (i = g + 1; i < j; i++) {
			mr = root_msg(t, rs[i][0]);
			if (sort_strcmp(mt->subj, mt->subjlen, mr->subj,
			    mr->subjlen) != 0)
				break;
		}
		if (i - g < 2)
			continue;
		/* (A) the table's entry for this subject */
		tab = rs[g][0];
		tabpos = rs[g][1];
		for (size_t k = g + 1; k < i; k++) {
			r = rs[k][0];
			if (t->v[tab].msg < 0)
				break;
			if (t->v[r].msg < 0 || (root_msg(t, tab)->reply &&
			    !root_msg(t, r)->reply)) {
				tab = r;
				tabpos = rs[k][1];
			}
		}
		/* (B) merge the others into it */
		for (size_t k = g; k < i; k++) {
			r = rs[k][0];
			if (r == tab)
				continue;
			if (t->v[tab].msg < 0 && t->v[r].msg < 0) {
				while ((c = t->v[r].child) >= 0) {
					node_unlink(t, c);
					node_link(t, tab, c);
				}
				roots[rs[k][1]] = -1;
			} else if (t->v[tab].msg < 0 ||
			    (t->m[t->v[r].msg].reply &&
			    !t->m[t->v[tab].msg].reply)) {
				node_link(t, tab, r);
				roots[rs[k][1]] = -1;
			} else {
				d = node_new(t, -1);
				node_link(t, d, tab);
				node_link(t, d, r);
				roots[tabpos] = d;
				roots[rs[k][1]] = -1;
				tab = d;
			}
		}
	}
	/* relink the root list in its order */
	t->v[root].child = -1;
	for (i = nr; i > 0; i--) {
		if (roots[i - 1] < 0)
			continue;
		t->v[roots[i - 1]].next = t->v[root].child;
		t->v[roots[i - 1]].parent = root;
		t->v[root].child = roots[i - 1];
	}
	free(roots);
	free(rs);
}

int
thread_references(const struct thread_msg *m, size_t n, struct buf *out)
{
	struct tree t;
	struct idtab tab;
	size_t i, j, nids = 0;
	long root, x, prev, c, nx;
	int rc;

	memset(&t, 0, sizeof(t));
	t.m = m;
	for (i = 0; i < n; i++)
		nids += 1 + m[i].nrefs;
	for (tab.cap = 16; tab.cap < 2 * nids; tab.cap *= 2)
		;
	tab.key = xcalloc(tab.cap, sizeof(*tab.key));
	tab.node = xcalloc(tab.cap, sizeof(*tab.node));
	/* (1) containers and links */
	for (i = 0; i < n; i++) {
		x = -1;
		if (m[i].msgid != NULL) {
			x = id_get(&t, &tab, m[i].msgid);
			if (t.v[x].msg >= 0)
				x = -1;		/* duplicate: as if none */
			else {
				t.v[x].msg = (long)i;
				t.v[x].date = m[i].date;
				t.v[x].seq = m[i].seq;
			}
		}
		if (x < 0)
			x = node_new(&t, (long)i);
		prev = -1;
		for (j = 0; j < m[i].nrefs; j++) {
			c = id_get(&t, &tab, m[i].refs[j]);
			if (prev >= 0 && t.v[c].parent < 0 &&
			    !is_ancestor(&t, c, prev))
				node_link(&t, prev, c);
			prev = c;
		}
		node_unlink(&t, x);
		if (prev >= 0 && !is_ancestor(&t, x, prev))
			node_link(&t, prev, x);
	}
	free(tab.key);
	free(tab.node);
	/* (2) the root set */
	root = node_new(&t, -1);
	for (x = 0; x < root; x++)
		if (t.v[x].parent < 0)
			node_link(&t, root, x);
	/* keep the root list in creation order */
	{
		long rev = -1;

		for (c = t.v[root].child; c >= 0; c = nx) {
			nx = t.v[c].next;
			t.v[c].next = rev;
			rev = c;
		}
		t.v[root].child = rev;
	}
	/* (4) dummies, (5) sort, (6) subjects, (7) sort */
	prune(&t, root);
	sort_all(&t, root);
	merge_subjects(&t, root);
	sort_all(&t, root);
	rc = emit(&t, root, out);
	free(t.v);
	return rc;
}
