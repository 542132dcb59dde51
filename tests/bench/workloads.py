"""The benchmark workloads. Each takes the Ctx and appends Rows."""
import multiprocessing
import os
import shutil
import ssl
import statistics
import subprocess
import time

import stacks
from imapc import Imap, ImapError
from table import Row

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
D = stacks.DOMAIN
PW = stacks.PASSWORD


class Ctx:
    def __init__(self, bench, fac, ref, sizes, rows, log, outdir):
        self.bench = bench
        self.fac = fac
        self.ref = ref
        self.sizes = sizes
        self.rows = rows
        self.log = log
        self.outdir = outdir
        self.next_smtp_user = 0
        self.physical = {}

    def row(self, *a, **kw):
        r = Row(*a, **kw)
        self.rows.append(r)
        return r

    def variant(self, v):
        """Switch the reference's Dovecot to 'debian' or 'tuned'."""
        if self.ref.variant != v:
            self.log("dovecot -> %s" % v)
            self.ref.restart_dovecot(v)
            time.sleep(1.0)


def facteur_version():
    try:
        p = subprocess.run([stacks.fixture.BIN, "version"],
                           capture_output=True, text=True, timeout=10)
        return p.stdout.strip() or "facteur ?"
    except OSError:
        return "facteur ?"


def postfix_version():
    p = subprocess.run(["postconf", "-d", "mail_version"],
                       capture_output=True, text=True)
    return "Postfix " + p.stdout.split("=")[-1].strip()


def dovecot_version():
    p = subprocess.run(["dovecot", "--version"], capture_output=True,
                       text=True)
    return p.stdout.strip()


def sha512_crypt(password):
    p = subprocess.run(["doveadm", "pw", "-s", "SHA512-CRYPT", "-p",
                        password], capture_output=True, text=True,
                       check=True)
    return p.stdout.strip()


SMTP_USERS = 400
LOGIN_USERS = 200


def create_users(ctx):
    h = sha512_crypt(PW)
    names = ["s%d@%s" % (i, D) for i in range(SMTP_USERS)]
    names += ["u%d@%s" % (i, D) for i in range(LOGIN_USERS)]
    names += ["box%d@%s" % (n, D) for n in ctx.sizes["imap_sizes"]]
    names += ["cg@%s" % D, "mix@%s" % D]
    for i in range(0, len(names), 200):
        stacks.sql_users(ctx.bench, ctx.fac.dbname, names[i:i + 200], h)


def median(xs):
    return statistics.median(xs) if xs else None


# -- idle memory --------------------------------------------------------
def idle_memory(ctx):
    rss = ctx.row("idle", "resident memory, all server processes (RSS)",
                  "MiB", "lower",
                  target=("< 20 MiB", lambda f, d, t: f < 20),
                  note="facteur: supervisor + worker; reference: Postfix "
                  "master and its idle daemons + Dovecot master, config, "
                  "log, anvil, stats, auth, login processes (MariaDB, "
                  "shared by both, is not counted)")
    pss = ctx.row("idle", "proportional memory, all server processes (PSS)",
                  "MiB", "lower")
    nproc = ctx.row("idle", "processes", "count", "lower")
    # one delivery and one login first, so lazily loaded parts are in
    for v in ("debian", "tuned"):
        ctx.variant(v)
        for st in (ctx.fac, ctx.ref):
            warm_up(ctx, st)
        time.sleep(3)
        for who, st in (("facteur", ctx.fac), (v, ctx.ref)):
            if who == "facteur" and v == "tuned":
                continue
            pids = st.pids()
            p, r = stacks.pss_kib(pids)
            rss.add(who, r / 1024)
            pss.add(who, p / 1024)
            nproc.add(who, len(pids))
    ctx.variant("debian")


def warm_up(ctx, st):
    user = "u0@" + D
    smtp_source(st.port("smtp"), user, 1, 1, 1024)
    try:
        c = Imap(st.port("imaps"), tls=True, cafile=ctx.bench.cert)
        c.login(user, PW)
        c.cmd("SELECT INBOX")
        c.logout()
    except (ImapError, OSError) as e:
        ctx.log("warm-up IMAP on %s failed: %s" % (st.name, e))


# -- workload 1: the physical limit -------------------------------------
def fsyncrate_bin():
    return os.environ.get("BENCH_FSYNCRATE",
                          os.path.join(TOP, "build", "bench", "fsyncrate"))


def physical_limit(ctx):
    n = ctx.sizes["fsync_count"]
    for threads in (1, 16, 64):
        r = ctx.row("1. physical limit (bench disk)",
                    "durable 4 KiB creates (write, fsync, rename, fsync "
                    "dir), %d thread%s" % (threads, "s" if threads > 1
                                           else ""),
                    "files/s", "higher",
                    note="a property of the disk, not of a server: "
                    "shown in the facteur column" if threads == 1 else "")
        for _ in range(ctx.sizes["repeats"]):
            d = os.path.join(ctx.bench.scratch, "fsync")
            shutil.rmtree(d, ignore_errors=True)
            p = subprocess.run([fsyncrate_bin(), d, str(n[threads]),
                                "4096", str(threads)],
                               capture_output=True, text=True, check=True)
            r.add("facteur", float(p.stdout.split()[2]))
            shutil.rmtree(d, ignore_errors=True)
        ctx.physical[threads] = r.median("facteur")


# -- workload 2: inbound SMTP --------------------------------------------
def smtp_source(port, rcpt, sessions, count, size):
    p = subprocess.run(
        ["smtp-source", "-s", str(sessions), "-m", str(count), "-l",
         str(size), "-f", "sender@remote.bench.invalid", "-t", rcpt,
         "-S", "bench message", "127.0.0.1:%d" % port],
        capture_output=True, text=True, timeout=1800)
    return p


def count_new(path):
    try:
        return len(os.listdir(path))
    except FileNotFoundError:
        return 0


def smtp_run(ctx, st, sessions, count, size):
    """One timed run; returns messages/s (None on failure)."""
    rcpt = "s%d@%s" % (ctx.next_smtp_user, D)
    ctx.next_smtp_user = (ctx.next_smtp_user + 1) % SMTP_USERS
    md = st.maildir(rcpt)
    new = os.path.join(md, "new")
    if os.path.exists(md):
        shutil.rmtree(os.path.dirname(md))
    # the first delivery creates the Maildir: not part of the timing
    smtp_source(st.port("smtp"), rcpt, 1, 1, 512)
    if not wait_count(new, 1, 30):
        ctx.log("%s: first delivery to %s did not arrive" % (st.name, rcpt))
        return None
    count += 1
    subprocess.run(["sync"])
    t0 = time.time()
    p = smtp_source(st.port("smtp"), rcpt, sessions, count - 1, size)
    t_sent = time.time()
    deadline = t_sent + (60 + count / 20 if p.returncode == 0 else 5)
    n = count_new(new)
    while n < count and time.time() < deadline:
        time.sleep(0.02)
        n = count_new(new)
    t1 = time.time()
    if p.returncode != 0 or n < count:
        ctx.log("%s: smtp-source rc %d, %d/%d delivered: %s" % (
            st.name, p.returncode, n, count, (p.stderr or "")[-500:]))
        return None
    shutil.rmtree(os.path.dirname(md), ignore_errors=True)
    return (count - 1) / (t1 - t0)


def wait_count(path, n, timeout):
    deadline = time.time() + timeout
    while count_new(path) < n:
        if time.time() > deadline:
            return False
        time.sleep(0.02)
    return True


def smtp_inbound(ctx):
    ctx.variant("debian")
    for size in ctx.sizes["smtp_sizes"]:
        for sessions in (1, 16, 64):
            count = ctx.sizes["smtp_msgs"][sessions]
            tgt = None
            if sessions == 16 and size == 4096:
                phys = ctx.physical.get(16)
                tgt = ("≥2x ref and ≥½ disk limit",
                       lambda f, d, t, phys=phys: f >= 2 * d and (
                           phys is None or f >= phys / 2))
            r = ctx.row("2. inbound SMTP to Maildir, durable, end to end",
                        "%d KiB, %d session%s, %d msgs" % (
                            size // 1024, sessions,
                            "s" if sessions > 1 else "", count),
                        "msgs/s", "higher", target=tgt,
                        note="smtp-source, one message per connection, "
                        "timed from the first connection to the last file "
                        "in new/; reference = Postfix -> LMTP -> Dovecot"
                        if sessions == 1 and size == 4096 else "")
            for _ in range(ctx.sizes["repeats"]):
                for who, st in (("facteur", ctx.fac), ("debian", ctx.ref)):
                    r.add(who, smtp_run(ctx, st, sessions, count, size))
            ctx.log("  %s: f %s ref %s" % (r.name, r.median("facteur"),
                                           r.median("debian")))


# -- workload 5: logins ---------------------------------------------------
def _login_worker(args):
    port, cafile, user, secs = args
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False
    n = errs = 0
    deadline = time.time() + secs
    first = True
    while first or time.time() < deadline:
        first = False
        try:
            c = Imap(port, tls=True, ctx=ctx, timeout=30)
            c.login(user, PW)
            c.cmd("LOGOUT")
            c.close()
            n += 1
        except (ImapError, OSError):
            errs += 1
            time.sleep(0.01)
    return n, errs


def login_rate(port, cafile, users, secs):
    # one untimed login per user first (fills the caches of both)
    with multiprocessing.get_context("fork").Pool(len(users)) as pool:
        pool.map(_login_worker, [(port, cafile, u, 0.01) for u in users])
    args = [(port, cafile, u, secs) for u in users]
    t0 = time.time()
    with multiprocessing.get_context("fork").Pool(len(args)) as pool:
        res = pool.map(_login_worker, args)
    dt = time.time() - t0
    n = sum(r[0] for r in res)
    errs = sum(r[1] for r in res)
    return n / dt, errs


def logins(ctx):
    nc = ctx.sizes["login_clients"]
    secs = ctx.sizes["login_secs"]
    cases = [
        ("SHA512-CRYPT, %d users" % nc,
         ["u%d@%s" % (i, D) for i in range(nc)], secs,
         ("≥2x tuned", lambda f, d, t: f >= 2 * t)),
        ("ARGON2ID (facteur's hash), 1 user",
         ["argon@" + D] * nc, max(2, secs // 2), None),
    ]
    for label, users, s, tgt in cases:
        r = ctx.row("5. logins: IMAPS connect + TLS + LOGIN + LOGOUT, "
                    "%d parallel clients" % nc, label, "logins/s", "higher",
                    target=tgt,
                    note="same RSA-2048 certificate for both; clients are "
                    "Python processes on the same 2 cores"
                    if tgt else "facteur caches verified credentials; "
                    "Dovecot's auth cache keeps the hash and verifies "
                    "the password again")
        errs = {}
        for v in ("debian", "tuned"):
            ctx.variant(v)
            for _ in range(ctx.sizes["repeats"]):
                for who, st in (("facteur", ctx.fac), (v, ctx.ref)):
                    if who == "facteur" and v == "tuned":
                        continue
                    rate, e = login_rate(st.port("imaps"), ctx.bench.cert,
                                         users, s)
                    r.add(who, rate)
                    errs[who] = errs.get(who, 0) + e
        if any(errs.values()):
            r.note += " (errors: %s)" % errs
        ctx.log("  %s: %s" % (label, {k: median(v) for k, v in
                                      r.samples.items()}))
    ctx.variant("debian")


# -- later steps -----------------------------------------------------------
def imap_suite(ctx):
    import imapbench
    imapbench.imap_suite(ctx)


def idle_connections(ctx):
    import imapbench
    imapbench.idle_connections(ctx)


def callgrind(ctx):
    import cgbench
    cgbench.callgrind(ctx)
