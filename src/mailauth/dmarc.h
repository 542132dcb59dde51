/*
 * dmarc - DMARC, RFC 7489: record parsing (dmarc_parse), policy
 * discovery (_dmarc.<From domain>, then _dmarc.<organizational domain>),
 * identifier alignment (relaxed through the public suffix list, or
 * strict), p= / sp= / pct= application. Reports (rua/ruf) are not sent.
 */
#ifndef MAILAUTH_DMARC_H
#define MAILAUTH_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include "mailauth/dkim.h"
#include "mailauth/resolve.h"
#include "mailauth/spf.h"

enum dmarc_policy {
	DMARC_P_NONE = 0,
	DMARC_P_QUARANTINE,
	DMARC_P_REJECT
};

struct dmarc_record {
	enum dmarc_policy p;
	enum dmarc_policy sp;		/* = p when absent */
	bool		 has_sp;
	bool		 adkim_strict;
	bool		 aspf_strict;
	unsigned	 pct;		/* 0-100, default 100 */
	bool		 has_rua;
};

/*
 * dmarc_parse: a TXT record. Must start with v=DMARC1. An invalid or
 * missing p= (or invalid sp=) makes the record p=none when rua= is
 * present, else the record is invalid (RFC 7489 6.6.3 step 6). Bad
 * adkim/aspf/pct values fall back to their defaults. 0 or -1 (not a
 * usable DMARC record) with a reason.
 */
int dmarc_parse(const char *txt, size_t n, struct dmarc_record *r,
    const char **why_r);

/* dmarc_policy_name: "none", "quarantine", "reject". */
const char *dmarc_policy_name(enum dmarc_policy p);

enum dmarc_result {
	DMARC_NONE = 0,		/* no policy published */
	DMARC_PASS,
	DMARC_FAIL,
	DMARC_TEMPERROR,
	DMARC_PERMERROR		/* no usable From domain */
};

const char *dmarc_result_name(enum dmarc_result r);

/* What SPF and DKIM established. */
struct dmarc_input {
	const char	*from_domain;	/* RFC5322.From domain */
	enum spf_result	 spf;
	const char	*spf_domain;	/* MAIL FROM (or HELO) domain */
	const struct dkim_verdict *dkim;
	size_t		 ndkim;
};

struct dmarc_outcome {
	enum dmarc_result result;
	enum dmarc_policy policy;	/* to apply (after pct) */
	enum dmarc_policy requested;	/* p or sp, before pct */
	bool		 sampled_out;	/* pct made policy milder */
	bool		 spf_aligned;
	bool		 dkim_aligned;
	char		 from[256];	/* lower-cased From domain */
	const char	*why;		/* static */
};

/*
 * dmarc_evaluate: look up the policy of in->from_domain and evaluate.
 * pct_roll: 0-99 to decide pct= sampling, or -1 to draw one at random.
 * Always fills o (result NONE / PASS / FAIL / TEMPERROR / PERMERROR).
 */
void dmarc_evaluate(const struct resolve *dns, const struct dmarc_input *in,
    int pct_roll, struct dmarc_outcome *o);

/* dmarc_aligned: a and b align (strict: equal; relaxed: same org). */
bool dmarc_aligned(const char *a, const char *b, bool strict);

#endif
