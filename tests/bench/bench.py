"""facteur benchmark suite: facteur against Postfix + Dovecot (+ MariaDB)
on this machine, same run, same work; prints one table and writes it to
build/bench/results.md (raw samples in results.json).

Run through `make bench` (tests/bench/run.sh build/facteur). Environment:
  BENCH_QUICK=1        small sizes, fast smoke run
  BENCH_ONLY=a,b       only these workloads (fsync, smtp, login, idle,
                       imap, mem, callgrind)
  BENCH_KEEP=1         keep the scratch directory
See docs/bench.md for the sizes and what each figure means.
"""
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
SCRATCH = os.environ.get("BENCH_SCRATCH", "/tmp/facteur-bench")
os.environ["FACTEUR_TEST_DIR"] = SCRATCH
sys.path.insert(0, HERE)

import dnsstub  # noqa: E402
import stacks  # noqa: E402
from table import Row, render  # noqa: E402
import workloads  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
ONLY = set(x for x in os.environ.get("BENCH_ONLY", "").split(",") if x)

# Sizes: full mode must finish in < 20 min on the 2-core machine.
SIZES = {
    "repeats": 2 if QUICK else 3,
    "fsync_count": {1: 100, 16: 400, 64: 400} if QUICK
    else {1: 400, 16: 2000, 64: 2000},
    "smtp_msgs": {1: 100, 16: 400, 64: 400} if QUICK
    else {1: 200, 16: 1000, 64: 1000},
    "smtp_sizes": (4096, 102400),
    "login_secs": 3 if QUICK else 5,
    "login_clients": 10,
    "imap_sizes": (1000, 5000) if QUICK else (10000, 100000),
    "imap_mix_secs": 5 if QUICK else 10,
    "imap_mix_clients": 10,
    # the 100,000-message mailbox: fewer repeats (the 20-minute budget)
    "imap_big_repeats": 2,
    "mem_repeats": 1 if not QUICK else 1,
    "mem_conns": 200 if QUICK else 1000,
}


def log(msg):
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def want(name):
    return not ONLY or name in ONLY


def machine_lines():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as fh:
            for ln in fh:
                if ln.startswith("model name"):
                    cpu = ln.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    disk = subprocess.run(["df", "-h", "--output=source,fstype,size",
                           SCRATCH], capture_output=True, text=True)
    disk = " ".join(disk.stdout.split("\n")[1].split()) if disk.stdout else "?"
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") >> 30
    return ["Machine: nproc %d, %s, %d GiB RAM, disk %s, kernel %s" % (
        os.cpu_count(), cpu, mem, disk, platform.release()),
        "Versions: %s; %s; Dovecot %s" % (
            workloads.facteur_version(), workloads.postfix_version(),
            workloads.dovecot_version()),
        "Tree: %s" % subprocess.run(
            ["git", "-C", TOP, "describe", "--always", "--dirty"],
            capture_output=True, text=True).stdout.strip(),
        "Mode: %s; repeats %d; figures are median ±half the min-max "
        "spread in %% of the median; ↑ higher is better, ↓ lower is better."
        % ("BENCH_QUICK" if QUICK else "full", SIZES["repeats"])]


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1
                             else os.path.join(TOP, "build", "facteur"))
    outdir = os.path.join(TOP, "build", "bench")
    os.makedirs(outdir, exist_ok=True)
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want_n = 65536
        if hard < want_n and os.geteuid() == 0:
            hard = want_n
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want_n, hard), hard))
    except (ValueError, OSError):
        pass
    t0 = time.time()
    if os.path.exists(SCRATCH):
        shutil.rmtree(SCRATCH)
    os.makedirs(SCRATCH)
    os.chmod(SCRATCH, 0o755)
    bench = stacks.Bench(SCRATCH)
    log("starting MariaDB")
    bench.start_db()
    dns = dnsstub.DnsStub()
    fac = stacks.FacteurStack(bench, binary, dns.port)
    ref = None
    rows = []
    ctx = workloads.Ctx(bench, fac, None, SIZES, rows, log, outdir)
    try:
        fac.setup()
        workloads.create_users(ctx)
        ref = stacks.ReferenceStack(bench, fac.dbname)
        ctx.ref = ref
        ref.setup()
        log("starting facteur and Postfix + Dovecot")
        fac.start()
        ref.start()
        steps = [("idle", workloads.idle_memory),
                 ("fsync", workloads.physical_limit),
                 ("smtp", workloads.smtp_inbound),
                 ("login", workloads.logins),
                 ("imap", workloads.imap_suite),
                 ("mem", workloads.idle_connections),
                 ("callgrind", workloads.callgrind)]
        for name, fn in steps:
            if not want(name):
                continue
            log("workload %s" % name)
            t1 = time.time()
            try:
                fn(ctx)
            except Exception as e:  # keep going: one failure, one row
                import traceback
                traceback.print_exc()
                r = Row(name, "FAILED", "", "", note="%s: %s" % (
                    type(e).__name__, e))
                rows.append(r)
            log("workload %s took %.0f s" % (name, time.time() - t1))
    finally:
        log("stopping")
        try:
            fac.stop()
        except Exception:
            pass
        if ref:
            try:
                ref.stop()
            except Exception:
                pass
        bench.db.stop()
    log("DNS stub answered %d queries (NXDOMAIN)" % dns.queries)
    header = machine_lines()
    header.append("Command: make bench%s (tests/bench/run.sh build/facteur); "
                  "took %.1f min." % (" BENCH_QUICK=1" if QUICK else "",
                                      (time.time() - t0) / 60))
    text = render(rows, header)
    print(text)
    with open(os.path.join(outdir, "results.md"), "w") as fh:
        fh.write(text)
    with open(os.path.join(outdir, "results.json"), "w") as fh:
        json.dump({"machine": header, "sizes": {k: str(v) for k, v in
                                                SIZES.items()},
                   "rows": [r.to_json() for r in rows]}, fh, indent=1)
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(SCRATCH, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
