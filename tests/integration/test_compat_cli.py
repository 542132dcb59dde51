"""CLI as an administrator scripting it sees it: exit status 0/1/2, one
"facteur: <what>: <why>" line on stderr for clear errors, usage on
usage errors, and `facteur check` telling whether postmaster reaches
someone (RFC 5321 4.5.1).
"""
import re
import unittest

from fixture import Facteur


class CliCompat(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("compat_cli", hostname="mx.example.org")
        cls.f.write_conf()

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()

    def run_cli(self, *args, input=None):
        return self.f.cli(*args, input=input, check=False)

    def assertError(self, p, what):
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertRegex(p.stderr.strip(), r"^facteur: %s: \S" %
                         re.escape(what))
        self.assertEqual(p.stdout, "")

    def assertUsage(self, p):
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("usage:", p.stderr)

    def test_errors_and_usage(self):
        self.run_cli("domain", "add", "cli.example")
        self.assertError(self.run_cli("domain", "add", "cli.example"),
                         "domain add cli.example")
        self.assertError(self.run_cli("domain", "add", "bad domain"),
                         "domain add bad domain")
        self.assertError(self.run_cli("domain", "del", "none.example"),
                         "domain del none.example")
        self.assertError(self.run_cli("user", "add", "u@none.example",
                                      input="pw\n"),
                         "user add u@none.example")
        self.assertError(self.run_cli("user", "add", "not-an-address",
                                      input="pw\n"),
                         "user add not-an-address")
        self.assertError(self.run_cli("user", "add", "u@cli.example",
                                      input=""),
                         "user add u@cli.example")
        self.assertError(self.run_cli("user", "del", "ghost@cli.example"),
                         "user del ghost@cli.example")
        self.assertError(self.run_cli("alias", "add", "a@none.example",
                                      "u@cli.example"),
                         "alias add a@none.example")
        self.assertUsage(self.run_cli("domain"))
        self.assertUsage(self.run_cli("domain", "frobnicate"))
        self.assertUsage(self.run_cli("user", "add"))
        p = self.run_cli("user", "add", "u@cli.example", "--quota", "lots",
                         input="pw\n")
        self.assertEqual(p.returncode, 2)
        self.assertIn("quota", p.stderr)
        self.assertUsage(self.run_cli("alias", "add", "a@cli.example"))

    def test_case_folding(self):
        self.run_cli("domain", "add", "Fold.Example")
        p = self.run_cli("user", "add", "Ann@FOLD.example", input="pw\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertError(self.run_cli("user", "add", "ann@fold.example",
                                      input="pw\n"),
                         "user add ann@fold.example")
        out = self.run_cli("user", "list", "fold.example").stdout
        self.assertIn("ann@fold.example", out)

    def test_check_postmaster(self):
        # mx.example.org: example.org is the nearest local parent
        p = self.run_cli("check")
        self.assertRegex(p.stdout, r"(?m)^warn  postmaster: neither "
                         r"mx\.example\.org nor a parent")
        self.run_cli("domain", "add", "example.org")
        p = self.run_cli("check")
        self.assertRegex(p.stdout, r"(?m)^warn  postmaster "
                         r"postmaster@example\.org reaches nobody")
        self.assertEqual(p.returncode, 0)     # a warning is not a failure
        self.run_cli("user", "add", "boss@example.org", input="pw\n")
        self.run_cli("alias", "add", "postmaster@example.org",
                     "boss@example.org")
        p = self.run_cli("check")
        self.assertRegex(p.stdout,
                         r"(?m)^ok    postmaster postmaster@example\.org$")
        self.assertNotIn("warn", p.stdout)


if __name__ == "__main__":
    unittest.main()
