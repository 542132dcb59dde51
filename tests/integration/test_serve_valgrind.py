"""SIGHUP reload with the supervisor under valgrind (what `make valgrind`
does): the re-exec must run facteur again, not the valgrind tool that
/proc/self/exe names there (that killed the supervisor with "valgrind:
mmap(0x58000000, 4096) failed in UME"), and the listeners must survive.
Skipped when valgrind is not installed. About 30 s.
"""
import os
import shutil
import signal
import smtplib
import subprocess
import unittest

from fixture import BIN, Facteur, wait_for


def valgrind_unusable():
    """Why facteur cannot run under valgrind here, or None."""
    if not shutil.which("valgrind"):
        return "valgrind not installed"
    p = subprocess.run(["valgrind", "-q", "--vgdb=no", BIN, "version"],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        # an ASan build (make check SANITIZE=1) cannot run under valgrind
        return "facteur does not run under valgrind: " + (
            p.stderr.strip()[-200:] or "exit %d" % p.returncode)
    return None


class ReloadUnderValgrind(unittest.TestCase):
    def setUp(self):
        why = valgrind_unusable()
        if why:
            self.skipTest(why)
        self.saved = {k: os.environ.get(k)
                      for k in ("FACTEUR_VALGRIND", "VALGRIND_OPTS")}
        os.environ["FACTEUR_VALGRIND"] = "1"
        if not os.environ.get("VALGRIND_OPTS"):
            os.environ["VALGRIND_OPTS"] = "--vgdb=no"
        self.f = Facteur("serve_vg")
        self.f.start()

    def tearDown(self):
        self.f.stop()
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def test_sighup_reexec_under_valgrind(self):
        self.assertTrue(wait_for(
            lambda: self.f.log().count("worker ready") >= 1, 60))
        self.f.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_for(
            lambda: self.f.log().count("worker ready") >= 2, 90),
            "no worker after the reload:\n" + self.f.log()[-3000:])
        self.assertIsNone(self.f.proc.poll(), "supervisor died")
        self.assertNotIn("failed in UME", self.f.log())
        self.assertEqual(self.f.log().count("supervisor starting"), 2)
        s = smtplib.SMTP("127.0.0.1", self.f.ports["smtp"], timeout=60)
        code, _ = s.ehlo("after.reload")
        self.assertEqual(code, 250)
        s.quit()


if __name__ == "__main__":
    unittest.main()
