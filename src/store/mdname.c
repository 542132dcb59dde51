/*
 * mdname - parse and build Dovecot Maildir file names (see mdname.h).
 *
 * Input: directory entries, which anyone with access to the Maildir can
 * create, so every field is checked and numbers are parsed strictly.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/str.h"
#include "core/strnum.h"
#include "store/mailbox.h"
#include "store/mdname.h"

static const struct {
	char		letter;
	unsigned	flag;
} mdname_flags[] = {
	{ 'D', MBOX_F_DRAFT },
	{ 'F', MBOX_F_FLAGGED },
	{ 'R', MBOX_F_ANSWERED },
	{ 'S', MBOX_F_SEEN },
	{ 'T', MBOX_F_DELETED },
};

static atomic_uint mdname_counter;

/* Parse the ",X=num" field starting at p (just after ','), ends at e. */
static int
mdname_num_field(const char *p, const char *e, uint64_t *v)
{
	if (e - p < 3)
		return -1;
	return str_to_u64n(p + 2, (size_t)(e - p - 2), v);
}

int
mdname_parse(const char *name, struct mdname *p)
{
	const char *colon, *c, *e, *info;
	size_t len = strnlen(name, MDNAME_MAX + 1);
	size_t nother = 0;

	memset(p, 0, sizeof(*p));
	if (len == 0 || len > MDNAME_MAX || name[0] == '.')
		return -1;
	if (memchr(name, '/', len) != NULL || str_has_ctl(name, len))
		return -1;
	colon = strchr(name, ':');
	p->keylen = colon != NULL ? (size_t)(colon - name) : len;
	if (p->keylen == 0)
		return -1;
	/* ",S=" and ",W=" extra fields after the base */
	c = memchr(name, ',', p->keylen);
	while (c != NULL) {
		c++;
		e = memchr(c, ',', p->keylen - (size_t)(c - name));
		if (e == NULL)
			e = name + p->keylen;
		if (c[0] == 'S' && e - c > 1 && c[1] == '=') {
			if (mdname_num_field(c, e, &p->size) < 0)
				return -1;
			p->has_size = true;
		} else if (c[0] == 'W' && e - c > 1 && c[1] == '=') {
			if (mdname_num_field(c, e, &p->vsize) < 0)
				return -1;
			p->has_vsize = true;
		}
		c = e < name + p->keylen ? e : NULL;
	}
	if (colon == NULL)
		return 0;
	info = colon + 1;
	if (info[0] != '2' || info[1] != ',')
		return 0;	/* other info versions carry no flags for us */
	p->has_info = true;
	for (c = info + 2; *c != '\0'; c++) {
		size_t i;
		int known = 0;

		if (*c >= 'a' && *c <= 'z') {
			p->keywords |= 1u << (*c - 'a');
			continue;
		}
		for (i = 0; i < sizeof(mdname_flags) / sizeof(mdname_flags[0]);
		    i++) {
			if (mdname_flags[i].letter == *c) {
				p->flags |= mdname_flags[i].flag;
				known = 1;
			}
		}
		if (known)
			continue;
		if (memchr(p->other, *c, nother) != NULL)
			continue;
		if (nother + 1 >= sizeof(p->other))
			return -1;
		p->other[nother++] = *c;
	}
	p->other[nother] = '\0';
	return 0;
}

void
mdname_flag_letters(unsigned flags, uint32_t keywords, const char *other,
    char *dst)
{
	size_t n = 0, i;
	int ch;

	/* byte order: walk every byte value once (others kept as they are) */
	for (ch = 1; ch < 256; ch++) {
		int on = 0;

		if (ch >= 'a' && ch <= 'z')
			on = (keywords >> (ch - 'a')) & 1;
		else {
			for (i = 0; i < sizeof(mdname_flags) /
			    sizeof(mdname_flags[0]); i++) {
				if (mdname_flags[i].letter == ch)
					on = (flags &
					    mdname_flags[i].flag) != 0;
			}
			if (!on && other != NULL &&
			    strchr(other, ch) != NULL)
				on = 1;
		}
		if (on)
			dst[n++] = (char)ch;
	}
	dst[n] = '\0';
}

int
mdname_with_flags(const char *name, size_t keylen, unsigned flags,
    uint32_t keywords, const char *other, char *dst, size_t dstlen)
{
	char letters[128];
	int n;

	mdname_flag_letters(flags, keywords, other, letters);
	n = snprintf(dst, dstlen, "%.*s:2,%s", (int)keylen, name, letters);
	if (n < 0 || (size_t)n >= dstlen)
		return -1;
	return n;
}

int
mdname_new_base(char *dst, size_t dstlen)
{
	char host[256], esc[256 * 4 + 1];
	struct timeval tv;
	size_t i, o = 0;
	unsigned n;
	int r;

	if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
		str_copy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] != '\0'; i++) {
		if (host[i] == '/') {
			memcpy(esc + o, "\\057", 4);
			o += 4;
		} else if (host[i] == ':') {
			memcpy(esc + o, "\\072", 4);
			o += 4;
		} else if (host[i] == ',' || (unsigned char)host[i] < 0x21 ||
		    (unsigned char)host[i] >= 0x7f) {
			/* never in a real host name: keep names parseable */
			esc[o++] = '_';
		} else
			esc[o++] = host[i];
	}
	esc[o] = '\0';
	gettimeofday(&tv, NULL);
	n = atomic_fetch_add(&mdname_counter, 1);
	r = snprintf(dst, dstlen, "%lld.M%ldP%ldQ%u.%s", (long long)tv.tv_sec,
	    (long)tv.tv_usec, (long)getpid(), n, esc);
	if (r < 0 || (size_t)r >= dstlen)
		return -1;
	return r;
}
