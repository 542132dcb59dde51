#!/usr/bin/env python3
"""Run every tests/integration/test_*.py module with unittest and print a
closing line "integration: N passed, N failed, N skipped".

Modules run in up to FACTEUR_TEST_JOBS processes at once (default 2): each
test class starts its own facteur on its own ports and its own database,
so modules are independent. Per-module output goes to the scratch dir and
is shown for failures.
"""
import concurrent.futures
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PAT = re.compile(r"^RESULT passed=(\d+) failed=(\d+) skipped=(\d+)$", re.M)


def run_module(mod):
    start = time.time()
    env = dict(os.environ)
    env["PYTHONPATH"] = HERE + os.pathsep + env.get("PYTHONPATH", "")
    try:
        p = subprocess.run([sys.executable, os.path.join(HERE, "one.py"), mod],
                           cwd=HERE, env=env, capture_output=True, text=True,
                           timeout=int(os.environ.get("FACTEUR_MODULE_TIMEOUT", "900")))
        out = p.stdout + p.stderr
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        out += "\nMODULE TIMED OUT\nRESULT passed=0 failed=1 skipped=0\n"
    m = PAT.search(out)
    if m:
        counts = tuple(int(x) for x in m.groups())
    else:
        counts = (0, 1, 0)
        out += "\n(no RESULT line: the module crashed)\n"
    return mod, counts, out, time.time() - start


def main():
    only = sys.argv[1:]
    mods = sorted(f[:-3] for f in os.listdir(HERE)
                  if f.startswith("test_") and f.endswith(".py"))
    if only:
        mods = [m for m in mods if any(o in m for o in only)]
    jobs = int(os.environ.get("FACTEUR_TEST_JOBS", "2"))
    tp = tf = ts = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        for mod, (p, f, s), out, secs in ex.map(run_module, mods):
            tp += p
            tf += f
            ts += s
            print(f"integration: {mod}: {p} passed, {f} failed, {s} skipped ({secs:.1f}s)", flush=True)
            if f or os.environ.get("FACTEUR_TEST_VERBOSE"):
                print(out, flush=True)
    print(f"integration: {tp} passed, {tf} failed, {ts} skipped", flush=True)
    return 0 if tf == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
