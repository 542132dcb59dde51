/*
 * dmarc - RFC 7489 policy records and evaluation.
 *
 * Input: untrusted TXT records (tag lists, taglist.h) and the results of
 * SPF and DKIM. A DNS failure while looking for the policy is
 * temperror, never a pass. Only a DKIM "pass" counts for alignment
 * ("policy" from a partial l= body, and test-mode keys, do not).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/str.h"
#include "mailauth/dmarc.h"
#include "mailauth/psl.h"
#include "mailauth/taglist.h"

const char *
dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_P_QUARANTINE:
		return "quarantine";
	case DMARC_P_REJECT:
		return "reject";
	default:
		return "none";
	}
}

const char *
dmarc_result_name(enum dmarc_result r)
{
	static const char *const names[] = { "none", "pass", "fail",
	    "temperror", "permerror" };

	if ((unsigned)r < sizeof(names) / sizeof(names[0]))
		return names[r];
	return "permerror";
}

static bool
dm_is(const struct tag *t, const char *v)
{
	return t->value_len == strlen(v) && str_ieqn(t->value, v,
	    t->value_len);
}

static int
dm_policy(const struct tag *t, enum dmarc_policy *p)
{
	if (dm_is(t, "none"))
		*p = DMARC_P_NONE;
	else if (dm_is(t, "quarantine"))
		*p = DMARC_P_QUARANTINE;
	else if (dm_is(t, "reject"))
		*p = DMARC_P_REJECT;
	else
		return -1;
	return 0;
}

int
dmarc_parse(const char *txt, size_t n, struct dmarc_record *r,
    const char **why_r)
{
	struct taglist tl;
	struct tag t;
	bool first = true, havep = false, badp = false, badsp = false;
	int rc;

	memset(r, 0, sizeof(*r));
	r->pct = 100;
	taglist_init(&tl, txt, n);
	while ((rc = taglist_next(&tl, &t)) == 1) {
		if (first) {
			if (!taglist_is(&t, "v") || t.value_len != 6 ||
			    memcmp(t.value, "DMARC1", 6) != 0) {
				*why_r = "not a DMARC record";
				return -1;
			}
			first = false;
			continue;
		}
		if (taglist_is(&t, "p")) {
			havep = true;
			if (dm_policy(&t, &r->p) < 0)
				badp = true;
		} else if (taglist_is(&t, "sp")) {
			if (dm_policy(&t, &r->sp) < 0)
				badsp = true;
			else
				r->has_sp = true;
		} else if (taglist_is(&t, "adkim")) {
			r->adkim_strict = dm_is(&t, "s");
		} else if (taglist_is(&t, "aspf")) {
			r->aspf_strict = dm_is(&t, "s");
		} else if (taglist_is(&t, "pct")) {
			unsigned v = 0;
			size_t i;

			for (i = 0; i < t.value_len && i < 4; i++) {
				if (t.value[i] < '0' || t.value[i] > '9')
					break;
				v = v * 10 + (unsigned)(t.value[i] - '0');
			}
			if (i == t.value_len && i > 0 && v <= 100)
				r->pct = v;
		} else if (taglist_is(&t, "rua")) {
			/* at least one mailto: URI makes it "valid" enough */
			if (t.value_len > 7 && str_ieqn(t.value, "mailto:", 7))
				r->has_rua = true;
		}
	}
	if (rc < 0 && first) {
		*why_r = "not a DMARC record";
		return -1;
	}
	if (first) {
		*why_r = "not a DMARC record";
		return -1;
	}
	if (rc < 0) {
		/* a syntax error after v=DMARC1: tags read so far count,
		 * but the record is only usable with a good p= */
		badp = badp || !havep;
	}
	if (!havep || badp || badsp) {
		if (!r->has_rua) {
			*why_r = "no valid p= in DMARC record";
			return -1;
		}
		r->p = DMARC_P_NONE;
		r->has_sp = false;
	}
	if (!r->has_sp)
		r->sp = r->p;
	return 0;
}

bool
dmarc_aligned(const char *a, const char *b, bool strict)
{
	char oa[256], ob[256];

	if (a == NULL || b == NULL || *a == '\0' || *b == '\0')
		return false;
	if (str_ieq(a, b))
		return true;
	if (strict)
		return false;
	if (psl_org_domain(a, oa, sizeof(oa)) < 0 ||
	    psl_org_domain(b, ob, sizeof(ob)) < 0)
		return false;
	return strcmp(oa, ob) == 0;
}

/* 1 found (*r), 0 none, -1 DNS failure. */
static int
dm_fetch(const struct resolve *dns, const char *domain,
    struct dmarc_record *r)
{
	char name[300], **txt = NULL;
	struct dmarc_record tmp;
	enum dns_status st;
	size_t n = 0, i, found = 0;
	const char *why;

	if (strlen(domain) > 240)
		return 0;
	snprintf(name, sizeof(name), "_dmarc.%s", domain);
	st = dns->txt(dns->arg, name, &txt, &n);
	if (st == DNS_TEMP || st == DNS_FAIL)
		return -1;
	if (st != DNS_OK)
		return 0;
	for (i = 0; i < n; i++) {
		if (dmarc_parse(txt[i], strlen(txt[i]), &tmp, &why) == 0) {
			if (found == 0)
				*r = tmp;
			found++;
		}
	}
	dns_txt_free(txt, n);
	/* RFC 7489 6.6.3: more than one record: none applies */
	return found == 1 ? 1 : 0;
}

void
dmarc_evaluate(const struct resolve *dns, const struct dmarc_input *in,
    int pct_roll, struct dmarc_outcome *o)
{
	struct dmarc_record rec;
	char org[256];
	bool at_org = false;
	size_t i;
	int r;

	memset(o, 0, sizeof(*o));
	if (in->from_domain == NULL || *in->from_domain == '\0' ||
	    strlen(in->from_domain) >= sizeof(o->from)) {
		o->result = DMARC_PERMERROR;
		o->why = "no usable From domain";
		return;
	}
	str_copy(o->from, in->from_domain, sizeof(o->from));
	str_lower(o->from);
	if (o->from[0] != '\0' && o->from[strlen(o->from) - 1] == '.')
		o->from[strlen(o->from) - 1] = '\0';
	if (psl_org_domain(o->from, org, sizeof(org)) < 0) {
		o->result = DMARC_PERMERROR;
		o->why = "no usable From domain";
		return;
	}
	r = dm_fetch(dns, o->from, &rec);
	if (r == 0 && strcmp(org, o->from) != 0) {
		r = dm_fetch(dns, org, &rec);
		at_org = true;
	}
	if (r < 0) {
		o->result = DMARC_TEMPERROR;
		o->why = "DMARC record lookup failed";
		return;
	}
	if (r == 0) {
		o->result = DMARC_NONE;
		return;
	}

	o->spf_aligned = in->spf == SPF_PASS && dmarc_aligned(in->spf_domain,
	    o->from, rec.aspf_strict);
	for (i = 0; i < in->ndkim; i++)
		if (in->dkim[i].result == DKIM_PASS &&
		    dmarc_aligned(in->dkim[i].d, o->from, rec.adkim_strict))
			o->dkim_aligned = true;
	o->requested = at_org && rec.has_sp ? rec.sp : rec.p;
	if (o->spf_aligned || o->dkim_aligned) {
		o->result = DMARC_PASS;
		o->policy = DMARC_P_NONE;
		return;
	}
	o->result = DMARC_FAIL;
	o->policy = o->requested;
	if (rec.pct < 100 && o->policy != DMARC_P_NONE) {
		if (pct_roll < 0) {
			unsigned v = 0;

			if (getrandom(&v, sizeof(v), 0) != sizeof(v))
				v = 0;
			pct_roll = (int)(v % 100);
		}
		if ((unsigned)pct_roll >= rec.pct) {
			o->sampled_out = true;
			o->policy = o->policy == DMARC_P_REJECT ?
			    DMARC_P_QUARANTINE : DMARC_P_NONE;
		}
	}
}
