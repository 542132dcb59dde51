"""Workload 6: instruction counts under valgrind --tool=callgrind, for
regression tracking (deterministic, unlike times).

The count of one operation is a difference of two whole runs, so that
start-up and shut-down cancel: run A does the set-up (and one untimed
warm-up of the operation), run B the same plus K more operations;
per operation = (B - A) / K, summed over every process of the run.

facteur: `facteur serve` under callgrind (its worker is forked, so
callgrind follows it), SMTP delivery of one 4 KiB message over a fresh
connection, and FETCH 1:1000 (UID FLAGS INTERNALDATE RFC822.SIZE
ENVELOPE) on a warm 1,000-message mailbox over IMAPS.
Dovecot: the imap process itself (`doveadm exec imap`, pre-authenticated,
stdin/stdout, no TLS) for the same FETCH. Postfix + Dovecot's SMTP path
spans a dozen processes and is not counted.
"""
import glob
import os
import shutil
import subprocess
import time

import imapbench
import stacks
from imapc import Imap
from workloads import smtp_source, wait_count

D = stacks.DOMAIN
PW = stacks.PASSWORD
K = 5


def totals(outdir):
    """Sum of the 'summary:'/'totals:' Ir over callgrind.out.* files."""
    n = 0
    for p in glob.glob(os.path.join(outdir, "callgrind.out.*")):
        with open(p, errors="replace") as fh:
            for ln in fh:
                if ln.startswith("summary:") or ln.startswith("totals:"):
                    n += int(ln.split()[1])
                    break
    return n


def facteur_run(ctx, action):
    """Start facteur under callgrind, run action(), stop; Ir total."""
    f = ctx.fac.f
    out = os.path.join(ctx.bench.scratch, "cg-%d" % time.time_ns())
    os.makedirs(out)
    os.chmod(out, 0o777)
    f.stop()
    cmd = ["valgrind", "--tool=callgrind", "--trace-children=no",
           "--callgrind-out-file=%s/callgrind.out.%%p" % out,
           stacks.fixture.BIN, "serve", "-c", f.conf_path, "-f"]
    log = open(os.path.join(out, "log"), "wb")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        for port in f.ports.values():
            if not stacks.fixture.wait_port(port, timeout=60):
                raise RuntimeError("facteur under callgrind did not start")
        time.sleep(1)
        action()
    finally:
        p.terminate()
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()
        # the worker writes its file as it exits
        time.sleep(1)
    n = totals(out)
    shutil.rmtree(out, ignore_errors=True)
    f.start()
    return n


def callgrind(ctx):
    grp = "6. instructions (callgrind), per operation"
    rs = ctx.row(grp, "one SMTP delivery, 4 KiB, new connection",
                 "Minstr", "lower",
                 note="(B - A) / %d over whole runs of the server, all "
                 "processes; reference not counted (a dozen processes)"
                 % K)
    rf = ctx.row(grp, "FETCH 1:1000 (UID FLAGS INTERNALDATE RFC822.SIZE "
                 "ENVELOPE), warm", "Minstr", "lower",
                 note="facteur over IMAPS (includes TLS record work); "
                 "Dovecot's imap process alone, pre-authenticated on a "
                 "pipe")
    user = "cg@" + D
    imapbench.install_corpus(ctx, ctx.fac, 1000, user)
    imapbench.install_corpus(ctx, ctx.ref, 1000, user)
    new = os.path.join(ctx.fac.maildir("s399@" + D), "new")
    fetch = "FETCH 1:1000 (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)"
    state = {"sent": 0}

    def smtp(k):
        def act():
            for _ in range(1 + k):
                smtp_source(ctx.fac.port("smtp"), "s399@" + D, 1, 1, 4096)
                state["sent"] += 1
                wait_count(new, state["sent"], 60)
        return act

    def imap(k):
        def act():
            c = Imap(ctx.fac.port("imaps"), tls=True, cafile=ctx.bench.cert)
            c.login(user, PW)
            c.cmd("SELECT INBOX")
            c.cmd(fetch)
            for _ in range(k):
                c.cmd(fetch)
            c.logout()
        return act

    # build both servers' on-disk indexes first, so that run A does not
    # pay for them and run B does not skip them
    for st in (ctx.fac, ctx.ref):
        c = imapbench.connect(ctx, st, user)
        c.cmd("SELECT INBOX")
        c.cmd(fetch)
        c.logout()
    for _ in range(int(os.environ.get("BENCH_CG_ROUNDS", "1"))):
        a = facteur_run(ctx, smtp(0))
        b = facteur_run(ctx, smtp(K))
        rs.add("facteur", (b - a) / K / 1e6)
        a = facteur_run(ctx, imap(0))
        b = facteur_run(ctx, imap(K))
        rf.add("facteur", (b - a) / K / 1e6)
        a = dovecot_run(ctx, user, 0, fetch)
        b = dovecot_run(ctx, user, K, fetch)
        if a and b:
            rf.add("debian", (b - a) / K / 1e6)
    shutil.rmtree(os.path.dirname(ctx.fac.maildir("s399@" + D)),
                  ignore_errors=True)


def dovecot_run(ctx, user, k, fetch):
    out = os.path.join(ctx.bench.scratch, "cgd-%d" % time.time_ns())
    os.makedirs(out)
    os.chmod(out, 0o777)
    script = "a SELECT INBOX\r\nb %s\r\n" % fetch
    for i in range(k):
        script += "c%d %s\r\n" % (i, fetch)
    script += "z LOGOUT\r\n"
    # as the mail user from the start: imap drops to it, and callgrind
    # opens its output file before that
    pre = (["runuser", "-u", stacks.RUN_USER, "--"] if stacks.RUN_USER
           else [])
    p = subprocess.run(
        pre + ["valgrind", "--tool=callgrind", "--trace-children=yes",
         "--callgrind-out-file=%s/callgrind.out.%%p" % out,
         "doveadm", "-c", ctx.ref.dconf, "exec", "imap", "-u", user],
        input=script.encode(), capture_output=True, timeout=600)
    n = totals(out)
    if b"z OK" not in p.stdout:
        ctx.log("dovecot imap under callgrind: %s" % p.stderr[-400:])
        n = 0
    shutil.rmtree(out, ignore_errors=True)
    return n
