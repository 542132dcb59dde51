/*
 * qfile - queue files: ids, envelope text format, durable writes,
 * listing, removal and start-up recovery. See qfile.h and docs/queue.md.
 *
 * Input trusted: the envelope files are ours, but they are parsed
 * strictly anyway (a corrupt file is reported, never half-used).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "core/str.h"
#include "core/strnum.h"
#include "core/xmalloc.h"
#include "queue/qfile.h"

static const char *const qrcpt_names[] = {
	"pending", "deferred", "sent", "bounced"
};

const char *
qrcpt_state_name(enum qrcpt_state s)
{
	if ((unsigned)s < sizeof(qrcpt_names) / sizeof(qrcpt_names[0]))
		return qrcpt_names[s];
	return "?";
}

bool
qfile_valid_id(const char *id)
{
	size_t n = 0;

	for (; id[n] != '\0'; n++) {
		char c = id[n];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z')))
			return false;
		if (n >= QUEUE_ID_MAX)
			return false;
	}
	return n > 0;
}

int
qfile_path(char *dst, size_t len, const char *qdir, const char *sub,
    const char *id)
{
	int n = snprintf(dst, len, "%s/%s/%s", qdir, sub, id);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
qfile_init_dirs(const char *qdir)
{
	static const char *const subs[] = { "msg", "env", "tmp" };
	char p[PATH_MAX];

	for (size_t i = 0; i < 3; i++) {
		if (snprintf(p, sizeof(p), "%s/%s", qdir, subs[i]) >=
		    (int)sizeof(p)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (fs_mkdir_p(p, 0700) < 0)
			return -1;
	}
	return 0;
}

/* %XX for bytes <= 0x20, 0x7f, '%'; "" is written "-", "-" as "%2D" */
int
qfile_esc(struct buf *out, const char *s)
{
	if (*s == '\0')
		return buf_putc(out, '-');
	if (strcmp(s, "-") == 0)
		return buf_puts(out, "%2D");
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c == 0x7f || c == '%') {
			if (buf_printf(out, "%%%02X", c) < 0)
				return -1;
		} else if (buf_putc(out, (char)c) < 0)
			return -1;
	}
	return 0;
}

static int
qfile_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
qfile_unesc(const char *s, size_t n)
{
	char *out, *o;

	if (n == 1 && s[0] == '-')
		return xstrdup("");
	out = xmalloc(n + 1);
	o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int h, l;

			if (i + 2 >= n)
				goto bad;
			h = qfile_hexval(s[i + 1]);
			l = qfile_hexval(s[i + 2]);
			if (h < 0 || l < 0 || (h == 0 && l == 0))
				goto bad;
			*o++ = (char)(h << 4 | l);
			i += 2;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

int
qenv_format(const struct qenv *e, struct buf *out)
{
	buf_reset(out);
	if (buf_printf(out, "version=1\nid=%s\narrival=%" PRId64 "\nsender=",
	    e->id, e->arrival) < 0 || qfile_esc(out, e->sender) < 0 ||
	    buf_puts(out, "\nauth_user=") < 0 ||
	    qfile_esc(out, e->auth_user) < 0 ||
	    buf_puts(out, "\nclient_ip=") < 0 ||
	    qfile_esc(out, e->client_ip) < 0 ||
	    buf_printf(out, "\nsmtputf8=%d\neightbit=%d\nsize=%" PRIu64 "\n",
	    e->smtputf8, e->eightbit, e->size) < 0)
		return -1;
	for (size_t i = 0; i < e->nrcpts; i++) {
		const struct qrcpt *r = &e->rcpts[i];

		if (buf_printf(out, "rcpt=%s %" PRIu32 " %" PRId64 " %d ",
		    qrcpt_state_name(r->state), r->attempts, r->next_try,
		    r->notified) < 0 || qfile_esc(out, r->addr) < 0 ||
		    buf_putc(out, ' ') < 0 || qfile_esc(out, r->dsn) < 0 ||
		    buf_putc(out, ' ') < 0 || qfile_esc(out, r->mta) < 0 ||
		    buf_putc(out, ' ') < 0 || qfile_esc(out, r->diag) < 0 ||
		    buf_putc(out, '\n') < 0)
			return -1;
	}
	return buf_puts(out, "end\n");
}

void
qenv_free(struct qenv *e)
{
	for (size_t i = 0; i < e->nrcpts; i++) {
		free(e->rcpts[i].addr);
		free(e->rcpts[i].mta);
		free(e->rcpts[i].diag);
	}
	free(e->rcpts);
	free(e->sender);
	free(e->auth_user);
	free(e->client_ip);
	memset(e, 0, sizeof(*e));
}

void
qenv_add_rcpt(struct qenv *e, const char *addr)
{
	struct qrcpt *r;

	e->rcpts = xreallocarray(e->rcpts, e->nrcpts + 1, sizeof(*e->rcpts));
	r = &e->rcpts[e->nrcpts++];
	memset(r, 0, sizeof(*r));
	r->addr = xstrdup(addr);
	r->mta = xstrdup("");
	r->diag = xstrdup("");
}

static int
qfile_parse_i64(const char *s, int64_t *r)
{
	uint64_t u;
	int neg = *s == '-';

	if (str_to_u64(s + neg, &u) < 0 || u > INT64_MAX)
		return -1;
	*r = neg ? -(int64_t)u : (int64_t)u;
	return 0;
}

/* one "rcpt=" value: state attempts next notified addr dsn mta diag */
static int
qenv_parse_rcpt(char *v, struct qrcpt *r)
{
	char *f[8];
	size_t nf = 0;
	char *p = v;
	uint32_t notified;
	char *dsn;
	size_t k;

	while (nf < 8) {
		f[nf++] = p;
		p = strchr(p, ' ');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	if (nf != 8 || p != NULL)
		return -1;
	for (k = 0; k < 4; k++)
		if (strcmp(f[0], qrcpt_names[k]) == 0)
			break;
	if (k == 4)
		return -1;
	r->state = (enum qrcpt_state)k;
	if (str_to_u32(f[1], &r->attempts) < 0 ||
	    qfile_parse_i64(f[2], &r->next_try) < 0 ||
	    str_to_u32(f[3], &notified) < 0 || notified > 1)
		return -1;
	r->notified = notified == 1;
	r->addr = qfile_unesc(f[4], strlen(f[4]));
	dsn = qfile_unesc(f[5], strlen(f[5]));
	r->mta = qfile_unesc(f[6], strlen(f[6]));
	r->diag = qfile_unesc(f[7], strlen(f[7]));
	if (dsn != NULL)
		str_copy(r->dsn, dsn, sizeof(r->dsn));
	if (r->addr == NULL || dsn == NULL || r->mta == NULL ||
	    r->diag == NULL || r->addr[0] == '\0') {
		free(dsn);
		return -1;
	}
	free(dsn);
	return 0;
}

int
qenv_parse(const char *text, size_t len, struct qenv *e, const char **why_r)
{
	char *copy, *line, *next;
	int seen_end = 0, seen_version = 0;
	uint32_t b;

	memset(e, 0, sizeof(*e));
	if (memchr(text, '\0', len) != NULL) {
		*why_r = "NUL byte";
		return -1;
	}
	copy = xstrndup(text, len);
	for (line = copy; *line != '\0'; line = next) {
		char *eq, *v;

		next = strchr(line, '\n');
		if (next == NULL) {
			*why_r = "truncated";	/* no final newline */
			goto bad;
		}
		*next++ = '\0';
		if (seen_end) {
			*why_r = "data after end";
			goto bad;
		}
		if (strcmp(line, "end") == 0) {
			seen_end = 1;
			continue;
		}
		eq = strchr(line, '=');
		if (eq == NULL) {
			*why_r = "line without '='";
			goto bad;
		}
		*eq = '\0';
		v = eq + 1;
		*why_r = "bad value";
		if (strcmp(line, "version") == 0) {
			if (strcmp(v, "1") != 0) {
				*why_r = "unknown version";
				goto bad;
			}
			seen_version = 1;
		} else if (strcmp(line, "id") == 0) {
			if (!qfile_valid_id(v))
				goto bad;
			str_copy(e->id, v, sizeof(e->id));
		} else if (strcmp(line, "arrival") == 0) {
			if (qfile_parse_i64(v, &e->arrival) < 0)
				goto bad;
		} else if (strcmp(line, "sender") == 0 ||
		    strcmp(line, "auth_user") == 0 ||
		    strcmp(line, "client_ip") == 0) {
			char **dst = line[0] == 's' ? &e->sender :
			    line[0] == 'a' ? &e->auth_user : &e->client_ip;

			free(*dst);
			*dst = qfile_unesc(v, strlen(v));
			if (*dst == NULL)
				goto bad;
		} else if (strcmp(line, "smtputf8") == 0 ||
		    strcmp(line, "eightbit") == 0) {
			if (str_to_u32(v, &b) < 0 || b > 1)
				goto bad;
			if (line[0] == 's')
				e->smtputf8 = b;
			else
				e->eightbit = b;
		} else if (strcmp(line, "size") == 0) {
			if (str_to_u64(v, &e->size) < 0)
				goto bad;
		} else if (strcmp(line, "rcpt") == 0) {
			struct qrcpt r;

			if (e->nrcpts >= QRCPT_MAX) {
				*why_r = "too many recipients";
				goto bad;
			}
			memset(&r, 0, sizeof(r));
			if (qenv_parse_rcpt(v, &r) < 0) {
				free(r.addr);
				free(r.mta);
				free(r.diag);
				*why_r = "bad rcpt line";
				goto bad;
			}
			e->rcpts = xreallocarray(e->rcpts, e->nrcpts + 1,
			    sizeof(*e->rcpts));
			e->rcpts[e->nrcpts++] = r;
		} else {
			*why_r = "unknown key";
			goto bad;
		}
	}
	if (!seen_end || !seen_version || e->id[0] == '\0' ||
	    e->sender == NULL || e->nrcpts == 0) {
		*why_r = "incomplete envelope";
		goto bad;
	}
	if (e->auth_user == NULL)
		e->auth_user = xstrdup("");
	if (e->client_ip == NULL)
		e->client_ip = xstrdup("");
	free(copy);
	return 0;
bad:
	free(copy);
	qenv_free(e);
	return -1;
}

int
qenv_load(const char *qdir, const char *id, struct qenv *e,
    const char **why_r)
{
	char path[PATH_MAX];
	struct buf b;
	int rc;

	memset(e, 0, sizeof(*e));
	if (!qfile_valid_id(id) ||
	    qfile_path(path, sizeof(path), qdir, "env", id) < 0) {
		*why_r = "bad queue id";
		return -1;
	}
	buf_init(&b, QENV_MAX);
	rc = fs_read_file(path, &b);
	if (rc <= 0) {
		*why_r = rc == 0 ? "no such message" : strerror(errno);
		buf_free(&b);
		return rc;
	}
	rc = qenv_parse(b.data != NULL ? b.data : "", b.len, e, why_r);
	buf_free(&b);
	if (rc < 0)
		return -1;
	if (strcmp(e->id, id) != 0) {
		qenv_free(e);
		*why_r = "id does not match file name";
		return -1;
	}
	return 1;
}

/*
 * qfile_install: move the finished temp file to dst. replace_only: only
 * if dst still exists, atomically (RENAME_EXCHANGE, then the old
 * version, now under the temp name, is unlinked), so a message that was
 * delivered or deleted meanwhile is never brought back. 1 done, 0 dst
 * gone (temp removed), -1 error (errno).
 */
static int
qfile_install(const char *tmp, const char *dst, bool replace_only)
{
	struct stat st;

	if (!replace_only)
		return rename(tmp, dst) < 0 ? -1 : 1;
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_EXCHANGE) == 0) {
		(void)unlink(tmp);
		return 1;
	}
	if (errno == ENOENT) {
		(void)unlink(tmp);
		return 0;
	}
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* no RENAME_EXCHANGE on this file system: best effort */
	if (stat(dst, &st) < 0) {
		(void)unlink(tmp);
		return errno == ENOENT ? 0 : -1;
	}
	return rename(tmp, dst) < 0 ? -1 : 1;
}

/*
 * qfile_write_durable: write iov into tmp/, fsync, install as
 * <sub>/<id> (qfile_install), fsync <sub>. 1 written, 0 replace_only and
 * the file is gone, -1 error (errno; temp file removed).
 */
static int
qfile_write_durable(const char *qdir, const char *sub, const char *id,
    const struct iovec *iov, int iovcnt, bool replace_only)
{
	int rc;

	char tmp[PATH_MAX], dst[PATH_MAX], dir[PATH_MAX];
	unsigned rnd = 0;
	int fd, saved;

	(void)!getrandom(&rnd, sizeof(rnd), 0);
	if (snprintf(tmp, sizeof(tmp), "%s/tmp/%s.%s.%08x", qdir, id, sub,
	    rnd) >= (int)sizeof(tmp) ||
	    qfile_path(dst, sizeof(dst), qdir, sub, id) < 0 ||
	    snprintf(dir, sizeof(dir), "%s/%s", qdir, sub) >=
	    (int)sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	/* `facteur queue retry` runs as root: the file must stay readable
	 * by the server, which owns the queue directory */
	if (geteuid() == 0) {
		struct stat st;

		if (stat(dir, &st) == 0 && st.st_uid != 0 &&
		    fchown(fd, st.st_uid, st.st_gid) < 0)
			goto fail;
	}
	for (int i = 0; i < iovcnt; i++)
		if (fs_write_all(fd, iov[i].iov_base, iov[i].iov_len) < 0)
			goto fail;
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	rc = qfile_install(tmp, dst, replace_only);
	if (rc < 0)
		goto fail;
	if (rc == 0)
		return 0;
	return fs_fsync_dir(dir) < 0 ? -1 : 1;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

static int
qenv_write(const char *qdir, const struct qenv *e, bool replace_only)
{
	struct buf b;
	struct iovec iov;
	int rc;

	buf_init(&b, QENV_MAX);
	if (qenv_format(e, &b) < 0) {
		buf_free(&b);
		errno = EFBIG;
		return -1;
	}
	iov.iov_base = b.data;
	iov.iov_len = b.len;
	rc = qfile_write_durable(qdir, "env", e->id, &iov, 1, replace_only);
	buf_free(&b);
	return rc;
}

int
qenv_save(const char *qdir, const struct qenv *e)
{
	return qenv_write(qdir, e, false) < 0 ? -1 : 0;
}

int
qenv_update(const char *qdir, const struct qenv *e)
{
	return qenv_write(qdir, e, true);
}

int64_t
qenv_next_due(const struct qenv *e)
{
	int64_t due = INT64_MAX;

	for (size_t i = 0; i < e->nrcpts; i++) {
		const struct qrcpt *r = &e->rcpts[i];

		if (r->state == QR_BOUNCED && !r->notified)
			return 0;
		if ((r->state == QR_PENDING || r->state == QR_DEFERRED) &&
		    r->next_try < due)
			due = r->next_try;
	}
	return due;
}

bool
qenv_done(const struct qenv *e)
{
	for (size_t i = 0; i < e->nrcpts; i++) {
		const struct qrcpt *r = &e->rcpts[i];

		if (r->state == QR_PENDING || r->state == QR_DEFERRED)
			return false;
		if (r->state == QR_BOUNCED && !r->notified)
			return false;
	}
	return true;
}

uint64_t
qfile_retry_delay(const uint64_t *steps, size_t n, uint32_t attempts)
{
	if (n == 0)
		return 60;
	if (attempts == 0)
		attempts = 1;
	if (attempts > n)
		return steps[n - 1];
	return steps[attempts - 1];
}

void
qfile_new_id(char *id, size_t len)
{
	uint8_t rnd[6] = { 0 };
	char hex[13];
	struct timespec ts;

	(void)!getrandom(rnd, sizeof(rnd), 0);
	hex_encode(rnd, sizeof(rnd), hex);
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(id, len, "%08llx%s",
	    (unsigned long long)ts.tv_sec & 0xffffffffULL, hex);
}

enum ferr
qfile_enqueue(const char *qdir, const struct queue_msg_in *m, time_t now,
    char *id_r, size_t idlen)
{
	char id[QUEUE_ID_MAX + 1], path[PATH_MAX];
	struct qenv e;
	uint64_t size = 0;
	enum ferr fe;
	int saved;

	if (m->nrcpts == 0 || m->nrcpts > QRCPT_MAX)
		return FERR_INVALID;
	for (int i = 0; i < m->iovcnt; i++)
		size += m->iov[i].iov_len;
	/* a fresh id: O_EXCL on the temp file and a check on the final
	 * name keep two messages from sharing one */
	for (int tries = 0;; tries++) {
		struct stat st;

		qfile_new_id(id, sizeof(id));
		if (qfile_path(path, sizeof(path), qdir, "msg", id) < 0)
			return FERR_INTERNAL;
		if (stat(path, &st) < 0 && errno == ENOENT)
			break;
		if (tries > 10)
			return FERR_INTERNAL;
	}
	if (qfile_write_durable(qdir, "msg", id, m->iov, m->iovcnt,
	    false) < 0) {
		saved = errno;
		log_error("%s queue enqueue write content: %s", id,
		    strerror(saved));
		return ferr_from_errno(saved) == FERR_NOSPACE ? FERR_NOSPACE :
		    FERR_INTERNAL;
	}
	memset(&e, 0, sizeof(e));
	str_copy(e.id, id, sizeof(e.id));
	e.arrival = (int64_t)now;
	e.sender = xstrdup(m->sender != NULL ? m->sender : "");
	e.auth_user = xstrdup(m->auth_user != NULL ? m->auth_user : "");
	e.client_ip = xstrdup(m->client_ip != NULL ? m->client_ip : "");
	e.smtputf8 = m->smtputf8 != 0;
	e.eightbit = m->eightbit != 0;
	e.size = size;
	for (size_t i = 0; i < m->nrcpts; i++)
		qenv_add_rcpt(&e, m->rcpts[i]);
	fe = FERR_NONE;
	if (qenv_save(qdir, &e) < 0) {
		saved = errno;
		log_error("%s queue enqueue write envelope: %s", id,
		    strerror(saved));
		fe = ferr_from_errno(saved) == FERR_NOSPACE ? FERR_NOSPACE :
		    FERR_INTERNAL;
		unlink(path);
	}
	qenv_free(&e);
	if (fe == FERR_NONE)
		str_copy(id_r, id, idlen);
	return fe;
}

static int
qfile_idcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ids of the files in qdir/sub, sorted */
static int
qfile_list_sub(const char *qdir, const char *sub, char ***ids_r, size_t *n_r)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *de;
	char **ids = NULL;
	size_t n = 0;

	*ids_r = NULL;
	*n_r = 0;
	if (snprintf(dir, sizeof(dir), "%s/%s", qdir, sub) >=
	    (int)sizeof(dir))
		return -1;
	d = opendir(dir);
	if (d == NULL)
		return -1;
	for (de = readdir(d); de != NULL; de = readdir(d)) {
		if (!qfile_valid_id(de->d_name))
			continue;
		ids = xreallocarray(ids, n + 1, sizeof(*ids));
		ids[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(ids, n, sizeof(*ids), qfile_idcmp);
	*ids_r = ids;
	*n_r = n;
	return 0;
}

int
qfile_list(const char *qdir, char ***ids_r, size_t *n_r)
{
	return qfile_list_sub(qdir, "env", ids_r, n_r);
}

void
qfile_list_free(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

int
qfile_remove(const char *qdir, const char *id)
{
	char path[PATH_MAX], dir[PATH_MAX];
	int rc = 0;

	if (!qfile_valid_id(id))
		return -1;
	if (qfile_path(path, sizeof(path), qdir, "env", id) < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT)
		rc = -1;
	snprintf(dir, sizeof(dir), "%s/env", qdir);
	(void)fs_fsync_dir(dir);
	if (qfile_path(path, sizeof(path), qdir, "msg", id) < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT)
		rc = -1;
	return rc;
}

int
qfile_recover(const char *qdir)
{
	char dir[PATH_MAX], path[PATH_MAX];
	char **msg, **env;
	size_t nmsg, nenv, i, j;
	DIR *d;
	struct dirent *de;
	int left = 0;

	/* tmp/: anything there was never reported as queued */
	if (snprintf(dir, sizeof(dir), "%s/tmp", qdir) >= (int)sizeof(dir))
		return -1;
	d = opendir(dir);
	if (d == NULL)
		return -1;
	for (de = readdir(d); de != NULL; de = readdir(d)) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) <
		    (int)sizeof(path))
			(void)unlink(path);
	}
	closedir(d);
	if (qfile_list_sub(qdir, "msg", &msg, &nmsg) < 0)
		return -1;
	if (qfile_list_sub(qdir, "env", &env, &nenv) < 0) {
		qfile_list_free(msg, nmsg);
		return -1;
	}
	/* both sorted: one merge pass */
	for (i = 0, j = 0; i < nmsg || j < nenv;) {
		int c = i == nmsg ? 1 : j == nenv ? -1 :
		    strcmp(msg[i], env[j]);

		if (c == 0) {
			left++;
			i++;
			j++;
		} else if (c < 0) {
			/* content without envelope: enqueue never finished */
			log_info("%s queue recover removed=partial", msg[i]);
			if (qfile_path(path, sizeof(path), qdir, "msg",
			    msg[i]) == 0)
				(void)unlink(path);
			i++;
		} else {
			log_error("%s queue recover envelope without content,"
			    " removed", env[j]);
			if (qfile_path(path, sizeof(path), qdir, "env",
			    env[j]) == 0)
				(void)unlink(path);
			j++;
		}
	}
	qfile_list_free(msg, nmsg);
	qfile_list_free(env, nenv);
	return left;
}

int
qfile_kick(const char *qdir)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/kick", qdir) >= (int)sizeof(path))
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	return close(fd);
}
