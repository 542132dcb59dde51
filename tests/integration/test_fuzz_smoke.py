"""Fuzz smoke test for CI: build every tests/fuzz/fuzz_*.c with clang,
libFuzzer, ASan and UBSan (tests/fuzz/run.sh) and run each target for 5
seconds on its seed corpus, two at a time. Passes when run.sh ends with its
"no crash" line and ran every target. A crash shows the end of the
target's log; the reproducer is in build-fuzz-smoke/crashes/.

The build directory build-fuzz-smoke/ is kept between runs (the build is
incremental), separate from the developers' build-fuzz/. Skipped when
clang or its libFuzzer runtime is missing. Takes well under 4 minutes
with a warm build directory (about 1 minute of compiling when cold).
"""
import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from fixture import TOP

SECONDS = 5
BUDGET = 840    # seconds: a fresh clone compiles every target with clang first,
                # on a machine busy with the other test modules


def libfuzzer_missing():
    """Why the fuzz build cannot work here, or None."""
    if shutil.which("clang") is None:
        return "clang not installed (apt-get install clang)"
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "t.c")
        with open(src, "w") as fh:
            fh.write("#include <stddef.h>\n#include <stdint.h>\n"
                     "int LLVMFuzzerTestOneInput(const uint8_t *d, "
                     "size_t n);\n"
                     "int LLVMFuzzerTestOneInput(const uint8_t *d, "
                     "size_t n) { (void)d; (void)n; return 0; }\n")
        p = subprocess.run(["clang", "-fsanitize=fuzzer,address,undefined",
                            "-o", os.path.join(d, "t"), src],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            return ("clang cannot link -fsanitize=fuzzer (libFuzzer "
                    "runtime missing?): " + p.stderr.strip()[-300:])
    return None


class FuzzSmoke(unittest.TestCase):
    def test_every_target_runs_without_crash(self):
        why = libfuzzer_missing()
        if why:
            self.skipTest(why)
        targets = glob.glob(os.path.join(TOP, "tests", "fuzz", "fuzz_*.c"))
        self.assertTrue(targets, "no fuzz targets")
        env = dict(os.environ)
        env["FUZZ_OUT"] = "build-fuzz-smoke"
        env["FUZZ_JOBS"] = "2"
        try:
            p = subprocess.run(["sh", "tests/fuzz/run.sh", str(SECONDS)],
                               cwd=TOP, env=env, capture_output=True,
                               text=True, timeout=BUDGET)
        except subprocess.TimeoutExpired as e:
            out = e.stdout or ""
            if isinstance(out, bytes):
                out = out.decode(errors="replace")
            self.fail("fuzz smoke took over %d s:\n%s" % (BUDGET,
                                                          out[-3000:]))
        out = p.stdout + p.stderr
        lines = [l for l in p.stdout.splitlines() if l.strip()]
        self.assertEqual(p.returncode, 0, "run.sh failed:\n" + out[-6000:])
        self.assertTrue(lines, "run.sh printed nothing")
        m = re.match(r"^fuzz: (\d+) targets ran (\d+)s each with no crash$",
                     lines[-1])
        self.assertIsNotNone(m, "no 'no crash' line:\n" + out[-3000:])
        self.assertEqual(int(m.group(1)), len(targets), out[-3000:])
        self.assertEqual(int(m.group(2)), SECONDS)
        # every target actually executed inputs
        done = re.findall(r"^fuzz: (fuzz_\w+): Done (\d+) runs", p.stdout,
                          re.M)
        self.assertEqual(len(done), len(targets), out[-3000:])
        for name, runs in done:
            self.assertGreater(int(runs), 0, name)


if __name__ == "__main__":
    unittest.main()
