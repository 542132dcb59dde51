/*
 * parser - incremental IMAP command parser. See parser.h.
 *
 * Trusts nothing: every byte goes through a state machine; the non-literal
 * part of a command is capped (max_line), as are list nesting and the
 * number of arguments. A literal's bytes are only buffered after the
 * session has accepted its declared size. On a syntax error the rest of
 * the line is skipped without being buffered, so the next command starts
 * clean. RFC 3501 section 9, RFC 7888 (LITERAL+).
 */
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "core/xmalloc.h"
#include "imap/parser.h"

enum pstate {
	PS_TAG = 0,
	PS_NAME,
	PS_ARGS,	/* between arguments */
	PS_ATOM,
	PS_QUOTED,
	PS_QUOTED_ESC,
	PS_LIT_HDR,	/* after '{' */
	PS_LIT_CLOSE,	/* after '+', expecting '}' */
	PS_LIT_CR,	/* after '}' */
	PS_LIT_LF,
	PS_LIT_WAIT,	/* LITERAL returned, accept/reject pending */
	PS_LIT_DATA,
	PS_CR,		/* CR seen at the end of the command */
	PS_SKIP,	/* error: skipping to LF */
	PS_DONE,
	PS_FAILED	/* ERROR returned */
};

struct plist {
	struct imap_arg	*items;
	size_t		 n;
	size_t		 cap;
};

struct imap_parser {
	struct imap_parser_limits lim;
	enum pstate	 st;
	char		 tag[IMAP_TAG_MAX + 1];
	size_t		 taglen;
	char		 name[IMAP_CMDNAME_MAX + 1];
	size_t		 namelen;
	struct buf	 tok;		/* current atom/quoted/literal */
	size_t		 bracket;	/* '[' depth inside an atom */
	bool		 bquote;	/* inside "..." within brackets */
	bool		 bquote_esc;
	uint64_t	 litsize;
	bool		 litplus;
	unsigned	 litdigits;
	uint64_t	 litleft;
	size_t		 linebytes;
	size_t		 nargs;
	struct plist	*stack;		/* stack[0] = top level */
	size_t		 depth;		/* open lists */
	size_t		 stackcap;
	const char	*error;
	bool		 started;
};

static void
args_free(struct imap_arg *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(a[i].str);
		if (a[i].type == IMAP_ARG_LIST)
			args_free(a[i].list, a[i].count);
	}
	free(a);
}

static void
stack_clear(struct imap_parser *p)
{
	size_t i;

	for (i = 0; i <= p->depth && i < p->stackcap; i++) {
		args_free(p->stack[i].items, p->stack[i].n);
		p->stack[i].items = NULL;
		p->stack[i].n = 0;
		p->stack[i].cap = 0;
	}
	p->depth = 0;
}

struct imap_parser *
imap_parser_new(const struct imap_parser_limits *lim)
{
	struct imap_parser *p;

	p = xcalloc(1, sizeof(*p));
	p->lim = *lim;
	p->stackcap = 4;
	p->stack = xcalloc(p->stackcap, sizeof(*p->stack));
	buf_init(&p->tok, lim->max_line);
	return p;
}

void
imap_parser_free(struct imap_parser **pp)
{
	struct imap_parser *p = *pp;

	if (p == NULL)
		return;
	stack_clear(p);
	free(p->stack);
	buf_free(&p->tok);
	free(p);
	*pp = NULL;
}

void
imap_parser_set_limits(struct imap_parser *p,
    const struct imap_parser_limits *lim)
{
	p->lim = *lim;
}

void
imap_parser_reset(struct imap_parser *p)
{
	stack_clear(p);
	buf_free(&p->tok);
	buf_init(&p->tok, p->lim.max_line);
	p->st = PS_TAG;
	p->tag[0] = '\0';
	p->taglen = 0;
	p->name[0] = '\0';
	p->namelen = 0;
	p->bracket = 0;
	p->bquote = false;
	p->bquote_esc = false;
	p->litsize = 0;
	p->litplus = false;
	p->litdigits = 0;
	p->litleft = 0;
	p->linebytes = 0;
	p->nargs = 0;
	p->error = NULL;
	p->started = false;
}

/* Characters allowed in an atom (RFC 3501 ATOM-CHAR, plus the list
 * wildcards and ']' which astrings allow). */
static bool
is_atom_char(unsigned char ch)
{
	if (ch <= 0x20 || ch >= 0x7f)
		return false;
	switch (ch) {
	case '(':
	case ')':
	case '{':
	case '"':
		return false;
	default:
		return true;
	}
}

static enum imap_parse_rc
fail(struct imap_parser *p, const char *why, bool at_lf)
{
	p->error = why;
	if (at_lf) {
		p->st = PS_FAILED;
		return IMAP_PARSE_ERROR;
	}
	p->st = PS_SKIP;
	return IMAP_PARSE_NEED_MORE;
}

static int
push_arg(struct imap_parser *p, enum imap_arg_type type)
{
	struct plist *l = &p->stack[p->depth];
	struct imap_arg *a;
	size_t len;

	if (++p->nargs > p->lim.max_args)
		return -1;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->items = xreallocarray(l->items, l->cap, sizeof(*l->items));
	}
	a = &l->items[l->n++];
	memset(a, 0, sizeof(*a));
	a->type = type;
	if (type != IMAP_ARG_LIST) {
		a->str = buf_steal(&p->tok, &len);
		a->len = len;
		buf_init(&p->tok, p->lim.max_line);
	}
	return 0;
}

static int
open_list(struct imap_parser *p)
{
	if (p->depth + 1 > p->lim.max_depth)
		return -1;
	if (p->depth + 1 >= p->stackcap) {
		p->stack = xreallocarray(p->stack, p->stackcap * 2,
		    sizeof(*p->stack));
		memset(p->stack + p->stackcap, 0,
		    p->stackcap * sizeof(*p->stack));
		p->stackcap *= 2;
	}
	p->depth++;
	memset(&p->stack[p->depth], 0, sizeof(p->stack[p->depth]));
	return 0;
}

static int
close_list(struct imap_parser *p)
{
	struct plist child;
	struct imap_arg *a;

	if (p->depth == 0)
		return -1;
	child = p->stack[p->depth];
	memset(&p->stack[p->depth], 0, sizeof(p->stack[p->depth]));
	p->depth--;
	if (push_arg(p, IMAP_ARG_LIST) < 0) {
		args_free(child.items, child.n);
		return -1;
	}
	a = &p->stack[p->depth].items[p->stack[p->depth].n - 1];
	a->list = child.items;
	a->count = child.n;
	return 0;
}

/* end_of_line: LF seen in a state where the command may end. */
static enum imap_parse_rc
end_of_line(struct imap_parser *p)
{
	if (p->depth != 0)
		return fail(p, "Missing ')'", true);
	p->st = PS_DONE;
	return IMAP_PARSE_DONE;
}

static enum imap_parse_rc
finish_atom(struct imap_parser *p)
{
	if (p->bracket > 0)
		return fail(p, "Missing ']'", false);
	if (push_arg(p, IMAP_ARG_ATOM) < 0)
		return fail(p, "Too many arguments", false);
	p->st = PS_ARGS;
	return IMAP_PARSE_NEED_MORE;
}

/* One byte in PS_ARGS (also used to continue after an atom ends). */
static enum imap_parse_rc
args_byte(struct imap_parser *p, unsigned char ch)
{
	switch (ch) {
	case ' ':
		return IMAP_PARSE_NEED_MORE;
	case '(':
		if (open_list(p) < 0)
			return fail(p, "Too deep nesting", false);
		return IMAP_PARSE_NEED_MORE;
	case ')':
		if (close_list(p) < 0)
			return fail(p, "Unexpected ')'", false);
		return IMAP_PARSE_NEED_MORE;
	case '"':
		p->st = PS_QUOTED;
		return IMAP_PARSE_NEED_MORE;
	case '{':
		p->st = PS_LIT_HDR;
		p->litsize = 0;
		p->litdigits = 0;
		p->litplus = false;
		return IMAP_PARSE_NEED_MORE;
	case '\r':
		p->st = PS_CR;
		return IMAP_PARSE_NEED_MORE;
	case '\n':
		return end_of_line(p);
	default:
		break;
	}
	if (ch == '[' || is_atom_char(ch)) {
		p->st = PS_ATOM;
		p->bracket = 0;
		p->bquote = false;
		if (ch == '[')
			p->bracket = 1;
		if (buf_putc(&p->tok, (char)ch) < 0)
			return fail(p, "Line too long", false);
		return IMAP_PARSE_NEED_MORE;
	}
	if (ch == 0)
		return fail(p, "NUL byte in command", false);
	return fail(p, "Invalid character in command", false);
}

static enum imap_parse_rc
atom_byte(struct imap_parser *p, unsigned char ch)
{
	enum imap_parse_rc rc;

	if (p->bracket > 0) {
		if (ch == '\r' || ch == '\n' || ch == 0)
			return fail(p, "Missing ']'", ch == '\n');
		if (p->bquote) {
			if (p->bquote_esc)
				p->bquote_esc = false;
			else if (ch == '\\')
				p->bquote_esc = true;
			else if (ch == '"')
				p->bquote = false;
		} else if (ch == '"') {
			p->bquote = true;
		} else if (ch == '[') {
			p->bracket++;
		} else if (ch == ']') {
			p->bracket--;
		} else if (ch < 0x20 || ch >= 0x7f) {
			return fail(p, "Invalid character in atom", false);
		}
		if (buf_putc(&p->tok, (char)ch) < 0)
			return fail(p, "Line too long", false);
		return IMAP_PARSE_NEED_MORE;
	}
	if (ch == '[') {
		p->bracket = 1;
		if (buf_putc(&p->tok, (char)ch) < 0)
			return fail(p, "Line too long", false);
		return IMAP_PARSE_NEED_MORE;
	}
	if (is_atom_char(ch)) {
		if (buf_putc(&p->tok, (char)ch) < 0)
			return fail(p, "Line too long", false);
		return IMAP_PARSE_NEED_MORE;
	}
	if (ch == ' ' || ch == ')' || ch == '\r' || ch == '\n') {
		rc = finish_atom(p);
		if (p->st != PS_ARGS)
			return rc;
		return args_byte(p, ch);
	}
	if (ch == 0)
		return fail(p, "NUL byte in command", false);
	return fail(p, "Invalid character in atom", false);
}

/* The tag and the command name, both atoms ending with SP (or CRLF for
 * a command without arguments). */
static enum imap_parse_rc
word_byte(struct imap_parser *p, unsigned char ch)
{
	if (p->st == PS_TAG) {
		if (ch == ' ') {
			if (p->taglen == 0)
				return fail(p, "Missing tag", false);
			p->st = PS_NAME;
			return IMAP_PARSE_NEED_MORE;
		}
		if (ch == '\r' || ch == '\n') {
			if (p->taglen == 0) {
				/* empty lines between commands: ignored */
				p->linebytes = 0;
				p->started = false;
				return IMAP_PARSE_NEED_MORE;
			}
			return fail(p, "Missing command", ch == '\n');
		}
		if (!is_atom_char(ch) || ch == '+' || ch == '*' ||
		    ch == '%' || ch == ']')
			return fail(p, "Invalid tag", false);
		if (p->taglen >= IMAP_TAG_MAX)
			return fail(p, "Tag too long", false);
		p->tag[p->taglen++] = (char)ch;
		p->tag[p->taglen] = '\0';
		return IMAP_PARSE_NEED_MORE;
	}
	/* PS_NAME */
	if (ch == ' ' || ch == '\r' || ch == '\n') {
		if (p->namelen == 0)
			return fail(p, "Missing command", ch == '\n');
		p->st = PS_ARGS;
		if (ch == ' ')
			return IMAP_PARSE_NEED_MORE;
		return args_byte(p, ch);
	}
	if (!is_atom_char(ch) || ch == '[' || ch == ']')
		return fail(p, "Invalid command name", false);
	if (p->namelen >= IMAP_CMDNAME_MAX)
		return fail(p, "Unknown command", false);
	if (ch >= 'a' && ch <= 'z')
		ch = (unsigned char)(ch - 'a' + 'A');
	p->name[p->namelen++] = (char)ch;
	p->name[p->namelen] = '\0';
	return IMAP_PARSE_NEED_MORE;
}

static enum imap_parse_rc
quoted_byte(struct imap_parser *p, unsigned char ch)
{
	if (ch == '\r' || ch == '\n')
		return fail(p, "Missing '\"'", ch == '\n');
	if (ch == 0)
		return fail(p, "NUL byte in quoted string", false);
	if (p->st == PS_QUOTED_ESC) {
		if (ch != '"' && ch != '\\')
			return fail(p, "Invalid escape in quoted string",
			    false);
		p->st = PS_QUOTED;
	} else if (ch == '\\') {
		p->st = PS_QUOTED_ESC;
		return IMAP_PARSE_NEED_MORE;
	} else if (ch == '"') {
		if (push_arg(p, IMAP_ARG_QUOTED) < 0)
			return fail(p, "Too many arguments", false);
		p->st = PS_ARGS;
		return IMAP_PARSE_NEED_MORE;
	}
	if (buf_putc(&p->tok, (char)ch) < 0)
		return fail(p, "Line too long", false);
	return IMAP_PARSE_NEED_MORE;
}

static enum imap_parse_rc
lit_hdr_byte(struct imap_parser *p, unsigned char ch)
{
	switch (p->st) {
	case PS_LIT_HDR:
		if (ch >= '0' && ch <= '9') {
			if (p->litdigits >= 19)
				return fail(p, "Literal size too large",
				    false);
			p->litsize = p->litsize * 10 + (ch - '0');
			p->litdigits++;
			return IMAP_PARSE_NEED_MORE;
		}
		if (p->litdigits == 0)
			return fail(p, "Invalid literal size", ch == '\n');
		if (ch == '+') {
			p->litplus = true;
			p->st = PS_LIT_CLOSE;
			return IMAP_PARSE_NEED_MORE;
		}
		if (ch == '}') {
			p->st = PS_LIT_CR;
			return IMAP_PARSE_NEED_MORE;
		}
		return fail(p, "Invalid literal size", ch == '\n');
	case PS_LIT_CLOSE:
		if (ch == '}') {
			p->st = PS_LIT_CR;
			return IMAP_PARSE_NEED_MORE;
		}
		return fail(p, "Invalid literal size", ch == '\n');
	case PS_LIT_CR:
		if (ch == '\r') {
			p->st = PS_LIT_LF;
			return IMAP_PARSE_NEED_MORE;
		}
		/* FALLTHROUGH */
	case PS_LIT_LF:
		if (ch == '\n') {
			p->st = PS_LIT_WAIT;
			return IMAP_PARSE_LITERAL;
		}
		return fail(p, "Missing CRLF after literal size", false);
	default:
		return fail(p, "Parser state error", false);
	}
}

enum imap_parse_rc
imap_parser_feed(struct imap_parser *p, const char *data, size_t n,
    size_t *used_r)
{
	enum imap_parse_rc rc = IMAP_PARSE_NEED_MORE;
	size_t i = 0, take;
	unsigned char ch;

	*used_r = 0;
	if (p->st == PS_DONE || p->st == PS_FAILED || p->st == PS_LIT_WAIT) {
		if (p->error == NULL)
			p->error = "Parser used out of order";
		return IMAP_PARSE_ERROR;
	}
	while (i < n) {
		if (p->st == PS_LIT_DATA) {
			take = n - i;
			if ((uint64_t)take > p->litleft)
				take = (size_t)p->litleft;
			if (buf_append(&p->tok, data + i, take) < 0) {
				/* cannot happen: reserved on accept */
				i += take;
				rc = fail(p, "Literal too large", false);
				continue;
			}
			i += take;
			p->litleft -= take;
			if (p->litleft == 0) {
				if (push_arg(p, IMAP_ARG_LITERAL) < 0)
					rc = fail(p, "Too many arguments",
					    false);
				else
					p->st = PS_ARGS;
			}
			continue;
		}
		ch = (unsigned char)data[i++];
		p->started = true;
		if (p->st == PS_SKIP) {
			if (ch == '\n') {
				p->st = PS_FAILED;
				rc = IMAP_PARSE_ERROR;
				break;
			}
			continue;
		}
		if (++p->linebytes > p->lim.max_line) {
			rc = fail(p, "Line too long", ch == '\n');
			if (rc != IMAP_PARSE_NEED_MORE)
				break;
			continue;
		}
		switch (p->st) {
		case PS_TAG:
		case PS_NAME:
			rc = word_byte(p, ch);
			break;
		case PS_ARGS:
			rc = args_byte(p, ch);
			break;
		case PS_ATOM:
			rc = atom_byte(p, ch);
			break;
		case PS_QUOTED:
		case PS_QUOTED_ESC:
			rc = quoted_byte(p, ch);
			break;
		case PS_LIT_HDR:
		case PS_LIT_CLOSE:
		case PS_LIT_CR:
		case PS_LIT_LF:
			rc = lit_hdr_byte(p, ch);
			break;
		case PS_CR:
			if (ch == '\n')
				rc = end_of_line(p);
			else
				rc = fail(p, "CR without LF", false);
			break;
		default:
			rc = fail(p, "Parser state error", ch == '\n');
			break;
		}
		if (rc != IMAP_PARSE_NEED_MORE)
			break;
	}
	*used_r = i;
	return rc;
}

uint64_t
imap_parser_literal_size(const struct imap_parser *p)
{
	return p->litsize;
}

bool
imap_parser_literal_nonsync(const struct imap_parser *p)
{
	return p->litplus;
}

void
imap_parser_literal_accept(struct imap_parser *p)
{
	if (p->st != PS_LIT_WAIT)
		return;
	buf_free(&p->tok);
	buf_init(&p->tok, (size_t)p->litsize);
	/* reserve up front so appends never fail; capped by the caller's
	 * accept decision (it checked the size against its limits) */
	if (buf_reserve(&p->tok, (size_t)p->litsize) < 0) {
		p->error = "Literal too large";
		p->st = PS_SKIP;
		return;
	}
	p->litleft = p->litsize;
	p->st = PS_LIT_DATA;
	if (p->litleft == 0) {
		if (push_arg(p, IMAP_ARG_LITERAL) < 0) {
			p->error = "Too many arguments";
			p->st = PS_SKIP;
			return;
		}
		p->st = PS_ARGS;
	}
}

void
imap_parser_literal_streamed(struct imap_parser *p)
{
	struct plist *l;

	if (p->st != PS_LIT_WAIT)
		return;
	buf_reset(&p->tok);
	if (push_arg(p, IMAP_ARG_STREAMED) < 0) {
		p->error = "Too many arguments";
		p->st = PS_SKIP;
		return;
	}
	l = &p->stack[p->depth];
	l->items[l->n - 1].len = (size_t)p->litsize;
	p->st = PS_ARGS;
}

const struct imap_arg *
imap_parser_partial_args(const struct imap_parser *p, size_t *count_r)
{
	*count_r = p->stack[0].n;
	return p->stack[0].items;
}

void
imap_parser_literal_reject(struct imap_parser *p)
{
	imap_parser_reset(p);
}

const char *
imap_parser_tag(const struct imap_parser *p)
{
	return p->tag;
}

const char *
imap_parser_name(const struct imap_parser *p)
{
	return p->name;
}

const char *
imap_parser_error(const struct imap_parser *p)
{
	return p->error != NULL ? p->error : "Syntax error";
}

const struct imap_arg *
imap_parser_args(const struct imap_parser *p, size_t *count_r)
{
	*count_r = p->stack[0].n;
	return p->stack[0].items;
}

bool
imap_parser_in_command(const struct imap_parser *p)
{
	return p->started;
}

bool
imap_arg_is_string(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_QUOTED ||
	    a->type == IMAP_ARG_LITERAL;
}

bool
imap_arg_is_atom_ci(const struct imap_arg *a, const char *word)
{
	return a->type == IMAP_ARG_ATOM && str_ieq(a->str, word);
}

bool
imap_arg_is_nil(const struct imap_arg *a)
{
	return imap_arg_is_atom_ci(a, "NIL");
}

bool
imap_arg_has_nul(const struct imap_arg *a)
{
	return a->type != IMAP_ARG_LIST && a->type != IMAP_ARG_STREAMED &&
	    a->str != NULL &&
	    memchr(a->str, '\0', a->len) != NULL;
}
