"""Workloads 3 (IMAP on 10,000 and 100,000 messages, and a 10-client
read-mostly mix) and 4 (memory of 1,000 idle IMAPS connections)."""
import multiprocessing
import os
import random
import shutil
import ssl
import subprocess
import time

import corpus
import stacks
from imapc import Imap, ImapError

D = stacks.DOMAIN
PW = stacks.PASSWORD


def install_corpus(ctx, st, n, user):
    """Hard-link the corpus into user's Maildir on st (fresh copy)."""
    src = corpus.ensure(n, ctx.outdir)
    md = st.maildir(user)
    if os.path.exists(os.path.dirname(md)):
        shutil.rmtree(os.path.dirname(md))
    os.makedirs(os.path.dirname(md))
    subprocess.run(["cp", "-al", src, md], check=True)
    stacks.chown_tree(os.path.dirname(os.path.dirname(md)))


def connect(ctx, st, user):
    c = Imap(st.port("imaps"), tls=True, cafile=ctx.bench.cert,
             timeout=600)
    c.login(user, PW)
    return c


def timed(c, command):
    t0 = time.perf_counter()
    _, nbytes, _ = c.cmd(command)
    return time.perf_counter() - t0, nbytes


FETCH_ENV = "FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)"
FETCH_BS = "FETCH 1:* BODYSTRUCTURE"
SEARCH_HDR = 'UID SEARCH SUBJECT "invoice"'
SEARCH_BODY = 'UID SEARCH BODY "zanzibar"'


def imap_suite(ctx):
    ctx.variant("debian")
    for n in ctx.sizes["imap_sizes"]:
        user = "box%d@%s" % (n, D)
        big = n == max(ctx.sizes["imap_sizes"])
        reps = ctx.sizes["imap_big_repeats"] if big else \
            ctx.sizes["repeats"]
        grp = "3. IMAP, one client, %d messages (times in s)" % n
        half = ("≤ ½ ref", lambda f, d, t: f <= d / 2) if big else None
        notslower = ("≤ ref", lambda f, d, t: f <= d) if big else None
        rows = {
            "first": ctx.row(grp, "first SELECT (no index yet)", "s",
                             "lower"),
            "cold": ctx.row(grp, "SELECT after server restart", "s",
                            "lower", target=notslower,
                            note="cold = server restarted, indexes on "
                            "disk, page cache warm" if big else ""),
            "warm": ctx.row(grp, "SELECT warm", "s", "lower",
                            target=notslower),
            "env1": ctx.row(grp, "FETCH 1:* (UID FLAGS INTERNALDATE "
                            "RFC822.SIZE ENVELOPE), first time", "s",
                            "lower"),
            "env": ctx.row(grp, "FETCH 1:* (UID FLAGS INTERNALDATE "
                           "RFC822.SIZE ENVELOPE) warm", "s", "lower",
                           target=half),
            "bs1": ctx.row(grp, "FETCH 1:* BODYSTRUCTURE, first time", "s",
                           "lower"),
            "bs": ctx.row(grp, "FETCH 1:* BODYSTRUCTURE warm", "s",
                          "lower"),
            "shdr": ctx.row(grp, "UID SEARCH SUBJECT (header) warm", "s",
                            "lower", target=half),
            "sbody": ctx.row(grp, "UID SEARCH BODY (text) warm", "s",
                             "lower", target=half,
                             note="Dovecot without FTS plugin, as "
                             "ISPmail sets it up" if big else ""),
            "store": ctx.row(grp, "STORE 1:* +FLAGS (\\Flagged)", "s",
                             "lower"),
        }
        check = {}
        for who, st in (("facteur", ctx.fac), ("debian", ctx.ref)):
            ctx.log("  %d messages on %s" % (n, st.name))
            install_corpus(ctx, st, n, user)
            c = connect(ctx, st, user)
            rows["first"].add(who, timed(c, "SELECT INBOX")[0])
            rows["env1"].add(who, timed(c, FETCH_ENV)[0])
            rows["bs1"].add(who, timed(c, FETCH_BS)[0])
            c.logout()
            for _ in range(reps):
                st.restart()
                c = connect(ctx, st, user)
                rows["cold"].add(who, timed(c, "SELECT INBOX")[0])
                c.logout()
            c = connect(ctx, st, user)
            timed(c, "SELECT INBOX")
            timed(c, FETCH_ENV)     # after a restart: warm it again
            timed(c, SEARCH_HDR)
            for _ in range(reps):
                # the STORE of the previous round changed every file
                # name: resync untimed, then time a warm SELECT
                timed(c, "SELECT INBOX")
                rows["warm"].add(who, timed(c, "SELECT INBOX")[0])
                t, nb = timed(c, FETCH_ENV)
                rows["env"].add(who, t)
                rows["bs"].add(who, timed(c, FETCH_BS)[0])
                rows["shdr"].add(who, timed(c, SEARCH_HDR)[0])
                rows["sbody"].add(who, timed(c, SEARCH_BODY)[0])
                rows["store"].add(who, timed(c, "STORE 1:* +FLAGS "
                                                "(\\Flagged)")[0])
                c.cmd("STORE 1:* -FLAGS.SILENT (\\Flagged)")
            _, _, lines = c.cmd(SEARCH_HDR, collect=True)
            check[who + " subject"] = count_search(lines)
            _, _, lines = c.cmd(SEARCH_BODY, collect=True)
            check[who + " body"] = count_search(lines)
            c.logout()
        ctx.log("  search hits: %s" % check)
        if (check.get("facteur subject") != check.get("debian subject") or
                check.get("facteur body") != check.get("debian body")):
            rows["shdr"].note += (" SEARCH results differ: %s" % check)
    imap_mix(ctx)


def count_search(lines):
    for ln in lines:
        if ln.startswith(b"* SEARCH"):
            return len(ln.split()) - 2
    return None


# -- the 10-client read-mostly mix --------------------------------------------
def _mix_worker(args):
    port, cafile, user, n, secs, seed = args
    rng = random.Random(seed)
    c = Imap(port, tls=True, cafile=cafile, timeout=120)
    c.login(user, PW)
    c.cmd("SELECT INBOX")
    ops = errs = 0
    deadline = time.time() + secs
    while time.time() < deadline:
        r = rng.random()
        m = rng.randrange(1, n + 1)
        try:
            if r < 0.40:
                lo = rng.randrange(1, max(2, n - 20))
                c.cmd("FETCH %d:%d (UID FLAGS ENVELOPE)" % (lo, lo + 19))
            elif r < 0.65:
                c.cmd("FETCH %d BODY.PEEK[]" % m)
            elif r < 0.70:
                c.cmd("FETCH %d BODYSTRUCTURE" % m)
            elif r < 0.80:
                c.cmd("UID SEARCH UNSEEN")
            elif r < 0.90:
                c.cmd("STORE %d %sFLAGS (\\Seen)" % (
                    m, "+" if rng.random() < 0.5 else "-"))
            else:
                c.cmd("NOOP")
            ops += 1
        except ImapError:
            errs += 1
    c.logout()
    return ops, errs


def imap_mix(ctx):
    n = min(ctx.sizes["imap_sizes"])
    user = "box%d@%s" % (n, D)
    nc = ctx.sizes["imap_mix_clients"]
    secs = ctx.sizes["imap_mix_secs"]
    r = ctx.row("3. IMAP load: %d clients, read-mostly mix, %d messages"
                % (nc, n), "operations, %d s runs" % secs, "ops/s",
                "higher",
                note="40% FETCH 20 envelopes, 25% FETCH BODY.PEEK[], 5% "
                "BODYSTRUCTURE, 10% SEARCH UNSEEN, 10% STORE \\Seen, 10% "
                "NOOP; one mailbox, each client its own session")
    errs = {}
    for v in ("debian", "tuned"):
        ctx.variant(v)
        for rep in range(ctx.sizes["repeats"]):
            for who, st in (("facteur", ctx.fac), (v, ctx.ref)):
                if who == "facteur" and v == "tuned":
                    continue
                args = [(st.port("imaps"), ctx.bench.cert, user, n, secs,
                         rep * 100 + i) for i in range(nc)]
                t0 = time.time()
                with multiprocessing.get_context("fork").Pool(nc) as pool:
                    res = pool.map(_mix_worker, args)
                dt = time.time() - t0
                r.add(who, sum(x[0] for x in res) / dt)
                errs[who] = errs.get(who, 0) + sum(x[1] for x in res)
    if any(errs.values()):
        r.note += " (errors: %s)" % errs
    ctx.variant("debian")


# -- workload 4: memory per idle IMAPS connection ------------------------------
def _hold_worker(args):
    port, cafile, users, pipe_r, ready_w = args
    ctxs = ssl.create_default_context(cafile=cafile)
    ctxs.check_hostname = False
    conns = []
    ok = 0
    for u in users:
        try:
            c = Imap(port, tls=True, ctx=ctxs, timeout=120)
            c.login(u, PW)
            c.cmd("SELECT INBOX")
            c.n += 1
            c.send(b"I%d IDLE\r\n" % c.n)
            ln = c._line()
            if ln.startswith(b"+"):
                ok += 1
            conns.append(c)
        except (ImapError, OSError):
            pass
    os.write(ready_w, b"%d\n" % ok)
    os.read(pipe_r, 1)          # hold until told
    for c in conns:
        c.close()
    return ok


def idle_connections(ctx):
    total = ctx.sizes["mem_conns"]
    nproc = 10
    r = ctx.row("4. memory: %d IMAPS connections logged in, in IDLE" % total,
                "memory per connection (ΔPss of all server processes)",
                "KiB", "lower",
                target=("< 40 KiB", lambda f, d, t: f < 40),
                note="Pss summed over the server's process tree before and "
                "after; reference = Dovecot only; users u0..u199, 5 "
                "connections each, SELECT INBOX then IDLE")
    rp = ctx.row(r.group, "server processes while holding them", "count",
                 "lower")
    rok = ctx.row(r.group, "connections that reached IDLE", "count",
                  "higher")
    users = ["u%d@%s" % (i % 200, D) for i in range(total)]
    for v in ("debian", "tuned"):
        ctx.variant(v)
        for rep in range(ctx.sizes["mem_repeats"]):
            for who, st in (("facteur", ctx.fac), (v, ctx.ref)):
                if who == "facteur" and v == "tuned":
                    continue
                st.restart()
                time.sleep(2)
                before, _ = stacks.pss_kib(st.imap_pids())
                pipes = [os.pipe() for _ in range(nproc)]
                ready = os.pipe()
                args = [(st.port("imaps"), ctx.bench.cert,
                         users[i::nproc], pipes[i][0], ready[1])
                        for i in range(nproc)]
                pool = multiprocessing.get_context("fork").Pool(nproc)
                res = pool.map_async(_hold_worker, args)
                ok = 0
                got = b""
                deadline = time.time() + 600
                while got.count(b"\n") < nproc and time.time() < deadline:
                    got += os.read(ready[0], 100)
                ok = sum(int(x) for x in got.split())
                # imap-hibernate moves IDLE sessions after 2 s, and
                # freed imap processes exit after 3 s
                time.sleep(8)
                pids = st.imap_pids()
                after, _ = stacks.pss_kib(pids)
                for pr, pw in pipes:
                    os.write(pw, b"x")
                res.get(600)
                pool.close()
                pool.join()
                for pr, pw in pipes:
                    os.close(pr)
                    os.close(pw)
                os.close(ready[0])
                os.close(ready[1])
                if ok:
                    r.add(who, (after - before) / ok)
                rp.add(who, len(pids))
                rok.add(who, ok)
                ctx.log("  %s: %d idle, Pss %d -> %d KiB, %d processes" % (
                    who, ok, before, after, len(pids)))
    ctx.variant("debian")
