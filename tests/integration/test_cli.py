"""The directory subcommands: facteur db|domain|user|alias|admin.

Black-box: runs the real binary against the run's MariaDB (fixture.py)
and checks exit codes (0 ok, 1 clear error, 2 usage), the
"facteur: <what>: <why>" error shape, and the tab-separated output.
"""
import os
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from fixture import BIN, TOP, Facteur, free_port

# migration numbers shipped in sql/migrations, as db init records them
MIGRATIONS = sorted((str(int(f.split("_")[0]))
                     for f in os.listdir(os.path.join(TOP, "sql",
                                                      "migrations"))
                     if f.endswith(".sql") and f.split("_")[0].isdigit()),
                    key=int)


def run(args, input=None, timeout=60):
    return subprocess.run([BIN] + list(args), input=input,
                          capture_output=True, text=True, timeout=timeout)


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("cli")
        cls.f.write_conf()          # fresh database + `facteur db init`
        cls.c = cls.f.conf_path
        cls.f.add_domain("example.org")

    def cli(self, *args, input=None):
        """`facteur GROUP ACTION -c CONF args...` (-c after the action)."""
        return run([args[0], args[1], "-c", self.c] + list(args[2:]),
                   input=input)

    def sql(self, text):
        return self.f.db.sql(text, db=self.f.dbname)

    def assertErr(self, p, code, what, why=None):
        self.assertEqual(p.returncode, code, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertTrue(p.stderr.startswith("facteur: " + what + ": ")
                        if code == 1 else p.stderr.startswith("usage: "),
                        p.stderr)
        if why is not None:
            self.assertIn(why, p.stderr)
        self.assertEqual(p.stderr.count("\n"), 1, p.stderr)

    # -- db ------------------------------------------------------------
    def test_db_init_twice(self):
        for _ in range(2):
            p = self.cli("db", "init")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout, "")
        versions = self.sql("SELECT version FROM facteur_schema_version "
                            "ORDER BY version").split()
        self.assertEqual(versions, MIGRATIONS)
        # data survives a second init
        self.assertIn("example.org", self.cli("domain", "list").stdout)

    def test_db_init_concurrent_creates_database(self):
        """Four `db init` at once on a missing database: one creates it,
        the named lock serialises the rest, each migration runs once."""
        g = Facteur("cliconc")
        g.write_conf()
        g.db.sql("DROP DATABASE `%s`" % g.dbname)
        procs = [subprocess.Popen([BIN, "db", "init", "-c", g.conf_path],
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
                 for _ in range(4)]
        for p in procs:
            out, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, err)
            self.assertEqual(out, "")
        self.assertEqual(g.db.sql("SELECT version FROM "
                                  "facteur_schema_version ORDER BY version",
                                  db=g.dbname).split(), MIGRATIONS)
        g.db.sql("DROP DATABASE `%s`" % g.dbname)

    # -- usage errors: exit 2 -------------------------------------------
    def test_usage_errors(self):
        cases = [
            ["domain"],
            ["domain", "-c", self.c],
            ["domain", "frobnicate", "-c", self.c, "x.org"],
            ["domain", "add", "-c", self.c],
            ["domain", "add", "-c", self.c, "a.org", "b.org"],
            ["domain", "list", "-c", self.c, "extra"],
            ["user", "add", "-c", self.c],
            ["user", "add", "-c", self.c, "a@example.org", "--bogus"],
            ["user", "add", "-c", self.c, "a@example.org", "--quota"],
            ["user", "add", "-c", self.c, "q@example.org", "--quota",
             "lots"],
            ["user", "del", "-c", self.c, "a@example.org", "b@example.org"],
            ["alias", "add", "-c", self.c, "a@example.org"],
            ["alias", "list", "-c", self.c, "a", "b"],
            ["admin", "add", "-c", self.c],
            ["db", "init", "-c", self.c, "extra"],
            ["db", "upgrade", "-c", self.c],
            ["domain", "list", "-c"],
        ]
        for args in cases:
            with self.subTest(args=args):
                p = run(args, input="pw\n")
                self.assertEqual(p.returncode, 2, (p.stdout, p.stderr))
                self.assertEqual(p.stdout, "")
        self.assertNotIn("q@example.org", self.cli("user", "list").stdout)

    def test_conf_before_or_after_action(self):
        a = run(["domain", "-c", self.c, "list"])
        b = run(["domain", "list", "-c", self.c])
        self.assertEqual(a.returncode, 0, a.stderr)
        self.assertEqual(a.stdout, b.stdout)
        self.assertIn("example.org\n", a.stdout)

    def test_bad_config_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".conf") as fh:
            fh.write("no_such_key = 1\n")
            fh.flush()
            p = run(["domain", "list", "-c", fh.name])
        self.assertEqual(p.returncode, 1)
        self.assertIn(":1:", p.stderr)
        self.assertIn("unknown key", p.stderr)
        p = run(["domain", "list", "-c", "/nonexistent/facteur.conf"])
        self.assertEqual(p.returncode, 1)
        self.assertTrue(p.stderr.startswith("facteur: /nonexistent"))

    # -- domains --------------------------------------------------------
    def test_domain_add_list_del(self):
        p = self.cli("domain", "add", "Mixed-Case.Example")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertIn("mixed-case.example\n",
                      self.cli("domain", "list").stdout)
        self.assertErr(self.cli("domain", "add", "MIXED-case.example"), 1,
                       "domain add MIXED-case.example", "already exists")
        self.assertEqual(self.cli("domain", "del",
                                  "mixed-case.example").returncode, 0)
        self.assertNotIn("mixed-case.example",
                         self.cli("domain", "list").stdout)
        self.assertErr(self.cli("domain", "del", "mixed-case.example"), 1,
                       "domain del mixed-case.example", "no such domain")

    def test_domain_invalid(self):
        for bad in ["", "a..b", ".lead", "trail.", "-x.org", "x-.org",
                    "sp ace.org", "semi;colon.org", "quo'te.org",
                    "a" * 51, "x/y.org", "a\\b.org"]:
            with self.subTest(bad=bad):
                p = self.cli("domain", "add", "--", bad)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertTrue(p.stderr.startswith("facteur: domain add"))
        p = self.cli("domain", "add", "a" * 40 + ".org")   # 44 chars
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_domain_utf8(self):
        p = self.cli("domain", "add", "élan-café.example")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("élan-café.example\n", self.cli("domain",
                                                      "list").stdout)

    def test_domain_del_cascades(self):
        self.assertEqual(self.cli("domain", "add", "gone.example")
                         .returncode, 0)
        self.assertEqual(self.cli("user", "add", "u@gone.example",
                                  input="pw\n").returncode, 0)
        self.assertEqual(self.cli("alias", "add", "a@gone.example",
                                  "u@gone.example").returncode, 0)
        p = self.cli("domain", "del", "gone.example")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Maildirs kept", p.stderr)
        self.assertTrue(os.path.isdir(self.f.maildir("u@gone.example")))
        self.assertEqual(self.sql("SELECT count(*) FROM virtual_users "
                                  "WHERE email LIKE '%@gone.example'"),
                         "0\n")
        self.assertEqual(self.sql("SELECT count(*) FROM virtual_aliases "
                                  "WHERE source LIKE '%@gone.example'"),
                         "0\n")

    # -- users ----------------------------------------------------------
    def test_user_add_list_quota(self):
        p = self.cli("user", "add", "Quota.User@Example.org", "--quota",
                     "10M", input="pw1\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "")
        out = self.cli("user", "list", "example.org").stdout
        self.assertIn("quota.user@example.org\t10485760\n", out)
        for line in out.splitlines():
            self.assertEqual(len(line.split("\t")), 2, line)
        # stored as ISPmail does: lower-case, {ARGON2ID}
        row = self.sql("SELECT email, password, quota FROM virtual_users "
                       "WHERE email = 'quota.user@example.org'")
        email, pw, quota = row.rstrip("\n").split("\t")
        self.assertEqual(email, "quota.user@example.org")
        self.assertTrue(pw.startswith("{ARGON2ID}$argon2id$"), pw)
        self.assertEqual(quota, "10485760")
        p = self.cli("user", "quota", "quota.user@example.org", "2G")
        self.assertErr(p, 1, "user quota quota.user@example.org",
                       "2147483647")
        p = self.cli("user", "quota", "quota.user@example.org", "1G")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("quota.user@example.org\t1073741824\n",
                      self.cli("user", "list").stdout)

    def test_user_quota_limit(self):
        p = self.cli("user", "add", "huge@example.org", "--quota", "2G",
                     input="pw\n")
        self.assertErr(p, 1, "user add huge@example.org", "2 GiB")
        p = self.cli("user", "add", "max@example.org", "--quota",
                     "2147483647", input="pw\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("max@example.org\t2147483647\n",
                      self.cli("user", "list").stdout)

    def test_user_unknown_domain(self):
        p = self.cli("user", "add", "bob@unknown.example", input="pw\n")
        self.assertErr(p, 1, "user add bob@unknown.example",
                       "unknown domain")
        p = self.cli("user", "list", "unknown.example")
        self.assertErr(p, 1, "user list unknown.example", "unknown domain")

    def test_user_duplicate_and_missing_password(self):
        self.assertEqual(self.cli("user", "add", "dup@example.org",
                                  input="pw\n").returncode, 0)
        self.assertErr(self.cli("user", "add", "DUP@example.org",
                                input="pw\n"), 1, "user add DUP@example.org",
                       "already exists")
        self.assertErr(self.cli("user", "add", "nopw@example.org",
                                input=""), 1, "user add nopw@example.org",
                       "password")
        self.assertErr(self.cli("user", "add", "nopw@example.org",
                                input="\n"), 1, "user add nopw@example.org")
        self.assertNotIn("nopw@", self.cli("user", "list").stdout)

    def test_user_invalid_addresses(self):
        for bad in ["noat", "@example.org", "a b@example.org",
                    "a/b@example.org", "a%b@example.org", "..@example.org",
                    "a,b@example.org", "x" * 65 + "@example.org",
                    "a@b@", "tab\t@example.org"]:
            with self.subTest(bad=bad):
                p = self.cli("user", "add", bad, input="pw\n")
                self.assertEqual(p.returncode, 1, p.stderr)

    def test_user_passwd_and_verify(self):
        self.assertEqual(self.cli("user", "add", "pw@example.org",
                                  input="old secret\n").returncode, 0)
        self.assertEqual(self.cli("user", "verify", "pw@example.org",
                                  input="old secret\n").returncode, 0)
        self.assertEqual(self.cli("user", "verify", "PW@Example.ORG",
                                  input="old secret\n").returncode, 0)
        self.assertErr(self.cli("user", "verify", "pw@example.org",
                                input="wrong\n"), 1,
                       "user verify pw@example.org", "wrong password")
        self.assertEqual(self.cli("user", "passwd", "pw@example.org",
                                  input="new secret\r\n").returncode, 0)
        self.assertEqual(self.cli("user", "verify", "pw@example.org",
                                  input="old secret\n").returncode, 1)
        self.assertEqual(self.cli("user", "verify", "pw@example.org",
                                  input="new secret\n").returncode, 0)
        self.assertErr(self.cli("user", "passwd", "ghost@example.org",
                                input="x\n"), 1,
                       "user passwd ghost@example.org", "no such user")
        self.assertEqual(self.cli("user", "verify", "ghost@example.org",
                                  input="x\n").returncode, 1)

    def test_user_del_keeps_maildir(self):
        self.assertEqual(self.cli("user", "add", "del@example.org",
                                  input="pw\n").returncode, 0)
        md = self.f.maildir("del@example.org")
        self.assertTrue(os.path.isdir(os.path.join(md, "new")), md)
        p = self.cli("user", "del", "del@example.org")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertIn("kept", p.stderr)
        self.assertIn(md, p.stderr)
        self.assertTrue(os.path.isdir(md))
        self.assertNotIn("del@example.org", self.cli("user", "list").stdout)
        self.assertErr(self.cli("user", "del", "del@example.org"), 1,
                       "user del del@example.org", "no such user")

    def test_user_maildir_owner(self):
        if os.geteuid() != 0:
            self.skipTest("chown needs root")
        import pwd
        self.assertEqual(self.cli("user", "add", "own@example.org",
                                  input="pw\n").returncode, 0)
        md = self.f.maildir("own@example.org")
        try:
            want = pwd.getpwnam(self.f_run_user()).pw_uid
        except KeyError:
            self.skipTest("run_user does not exist")
        for path in [md, os.path.join(md, "new"), os.path.dirname(md)]:
            self.assertEqual(os.stat(path).st_uid, want, path)

    def f_run_user(self):
        with open(self.c) as fh:
            for line in fh:
                k, _, v = line.partition("=")
                if k.strip() == "run_user":
                    return v.strip()
        return "vmail"

    def test_user_accents_distinct(self):
        """New tables compare case-insensitively but accent-sensitively."""
        for u in ("müller@example.org", "muller@example.org"):
            p = self.cli("user", "add", u, input=u + "\n")
            self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.cli("user", "verify", "muller@example.org",
                                  input="müller@example.org\n").returncode,
                         1)
        self.assertEqual(self.cli("user", "verify", "MÜLLER@example.org",
                                  input="müller@example.org\n").returncode,
                         0)
        # local destinations come back as stored, so case variants of a
        # non-ASCII letter meet in one mailbox (and one delivery)
        for a in ("Müller@Example.org", "MÜLLER@example.org"):
            p = self.cli("alias", "resolve", a)
            self.assertEqual(p.stdout, "müller@example.org\tlocal\n")
        self.sql("INSERT INTO virtual_aliases (domain_id, source, "
                 "destination) SELECT id, 'both@example.org', "
                 "'MÜLLER@example.org, müller@example.org, "
                 "muller@example.org' FROM virtual_domains "
                 "WHERE name = 'example.org'")
        p = self.cli("alias", "resolve", "both@example.org")
        self.assertEqual(sorted(p.stdout.splitlines()),
                         ["muller@example.org\tlocal",
                          "müller@example.org\tlocal"])

    # -- SQL metacharacters and UTF-8 are data --------------------------
    def test_sql_metacharacters(self):
        users = ["o'brien@example.org",
                 "x';drop_table_virtual_users;--@example.org",
                 'quo"te@example.org', "back\\slash@example.org",
                 "x\\';select@example.org", "ünï.cødé@example.org"]
        for u in users:
            with self.subTest(u=u):
                p = self.cli("user", "add", u, input="pw'\";--\n")
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(self.cli("user", "verify", u,
                                          input="pw'\";--\n").returncode,
                                 0)
        listed = self.cli("user", "list", "example.org").stdout
        for u in users:
            self.assertIn(u + "\t0\n", listed)
        admins = ["'; DROP TABLE facteur_admins; --", 'say "hi"',
                  "back\\slash\\", "Ünïcödé 管理者", "%_wild%",
                  "管" * 100]     # 300 bytes: longer than a fetch buffer
        for a in admins:
            with self.subTest(a=a):
                p = self.cli("admin", "add", a, input="pw\n")
                self.assertEqual(p.returncode, 0, p.stderr)
        names = [l.split("\t")[0]
                 for l in self.cli("admin", "list").stdout.splitlines()]
        for a in admins:
            self.assertIn(a, names)
        # a LIKE wildcard in a name deletes only that name
        self.assertEqual(self.cli("admin", "del", "%_wild%").returncode, 0)
        self.assertEqual(self.cli("admin", "del", "%").returncode, 1)
        self.assertIn("'; DROP TABLE facteur_admins; --",
                      self.cli("admin", "list").stdout)
        src = "it's;--@example.org"
        dst = 'o"q\\z@élan.example'
        self.assertEqual(self.cli("alias", "add", src, dst).returncode, 0)
        self.assertIn(src + "\t" + dst + "\n",
                      self.cli("alias", "list", src).stdout)
        tables = self.sql("SHOW TABLES").split()
        for t in ["virtual_users", "virtual_domains", "virtual_aliases",
                  "facteur_admins"]:
            self.assertIn(t, tables)

    # -- aliases --------------------------------------------------------
    def test_alias_add_list_del(self):
        self.assertEqual(self.cli("alias", "add", "Sales@Example.org",
                                  "a@remote.example").returncode, 0)
        self.assertEqual(self.cli("alias", "add", "sales@example.org",
                                  "b@remote.example").returncode, 0)
        self.assertErr(self.cli("alias", "add", "sales@example.org",
                                "b@remote.example"), 1,
                       "alias add sales@example.org", "already exists")
        out = self.cli("alias", "list", "sales@example.org").stdout
        self.assertEqual(out, "sales@example.org\ta@remote.example\n"
                              "sales@example.org\tb@remote.example\n")
        self.assertIn(out, self.cli("alias", "list", "example.org").stdout)
        self.assertEqual(self.cli("alias", "del", "sales@example.org",
                                  "a@remote.example").returncode, 0)
        self.assertEqual(self.cli("alias", "list", "sales@example.org")
                         .stdout, "sales@example.org\tb@remote.example\n")
        self.assertEqual(self.cli("alias", "del", "sales@example.org")
                         .returncode, 0)
        self.assertEqual(self.cli("alias", "list", "sales@example.org")
                         .stdout, "")
        self.assertErr(self.cli("alias", "del", "sales@example.org"), 1,
                       "alias del sales@example.org", "no such alias")

    def test_alias_on_mailbox_hint(self):
        self.assertEqual(self.cli("user", "add", "fw@example.org",
                                  input="pw\n").returncode, 0)
        p = self.cli("alias", "add", "fw@example.org", "x@remote.example")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertIn("keeps a copy", p.stderr)
        p = self.cli("alias", "add", "fw@example.org", "fw@example.org")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.cli("alias", "add", "fw@example.org", "y@remote.example")
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        p = self.cli("alias", "add", "notabox@example.org", "fw@example.org")
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        self.assertEqual(sorted(self.cli("alias", "resolve",
                                         "fw@example.org").stdout
                                .splitlines()),
                         ["fw@example.org\tlocal", "x@remote.example\tremote",
                          "y@remote.example\tremote"])

    def test_alias_catchall_and_validation(self):
        self.assertEqual(self.cli("alias", "add", "@example.org",
                                  "postmaster@example.org").returncode, 0)
        self.assertIn("@example.org\tpostmaster@example.org\n",
                      self.cli("alias", "list", "@example.org").stdout)
        self.assertEqual(self.cli("alias", "del", "@example.org")
                         .returncode, 0)
        self.assertErr(self.cli("alias", "add", "x@notlocal.example",
                                "y@example.org"), 1,
                       "alias add x@notlocal.example", "not a local domain")
        for src, dst in [("nodomain", "y@example.org"),
                         ("@", "y@example.org"),
                         ("x@example.org", "nodomain"),
                         ("x@example.org", "a@b.org,c@d.org"),
                         ("x@example.org", "sp ace@b.org"),
                         ("x@example.org", "x" * 101 + "@b.org")]:
            with self.subTest(src=src, dst=dst):
                p = self.cli("alias", "add", src, dst)
                self.assertEqual(p.returncode, 1, p.stderr)

    # -- admins ---------------------------------------------------------
    def test_admin(self):
        p = self.cli("admin", "add", "root-admin", input="adminpw\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertErr(self.cli("admin", "add", "root-admin",
                                input="x\n"), 1, "admin add root-admin",
                       "already exists")
        out = self.cli("admin", "list").stdout
        line = [l for l in out.splitlines() if l.startswith("root-admin\t")]
        self.assertEqual(len(line), 1, out)
        self.assertRegex(line[0], r"^root-admin\t\d{4}-\d\d-\d\d \d\d:")
        pw = self.sql("SELECT password FROM facteur_admins WHERE "
                      "name = 'root-admin'")
        self.assertTrue(pw.startswith("{ARGON2ID}"), pw)
        self.assertErr(self.cli("admin", "add", "nopw", input=""), 1,
                       "admin add nopw")
        self.assertEqual(self.cli("admin", "del", "root-admin").returncode,
                         0)
        self.assertErr(self.cli("admin", "del", "root-admin"), 1,
                       "admin del root-admin", "no such admin")


class DbDownTest(unittest.TestCase):
    """A dead or hung database gives exit 1 and a clear message, fast."""

    def conf(self, d, extra):
        path = os.path.join(d, "f.conf")
        pw = os.path.join(d, "pw")
        open(pw, "w").close()
        with open(path, "w") as fh:
            fh.write("db_password_file = %s\nmail_root = %s/vmail\n" %
                     (pw, d))
            fh.write(extra)
        return path

    def check_fails_fast(self, conf, limit):
        for args in (["domain", "list"], ["user", "list"],
                     ["alias", "resolve", "a@example.org"], ["db", "init"]):
            with self.subTest(args=args):
                t0 = time.time()
                p = run([args[0], "-c", conf] + args[1:], input="pw\n")
                took = time.time() - t0
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertEqual(p.stdout, "")
                self.assertTrue(p.stderr.startswith("facteur: "), p.stderr)
                self.assertIn("connect", p.stderr)
                self.assertLess(took, limit)

    def test_no_socket(self):
        with tempfile.TemporaryDirectory() as d:
            conf = self.conf(d, "db_socket = %s/nonexistent.sock\n" % d)
            self.check_fails_fast(conf, 5)

    def test_refused_tcp(self):
        with tempfile.TemporaryDirectory() as d:
            conf = self.conf(d, "db_host = 127.0.0.1\ndb_port = %d\n"
                             % free_port())
            self.check_fails_fast(conf, 5)

    def test_hung_server(self):
        """A server that accepts and never speaks: the connect timeout
        (a few seconds) ends the wait."""
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "hung.sock")
            srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            srv.bind(path)
            srv.listen(16)
            held = []
            stop = threading.Event()

            def accept():
                srv.settimeout(0.2)
                while not stop.is_set():
                    try:
                        held.append(srv.accept()[0])
                    except OSError:
                        pass
            t = threading.Thread(target=accept, daemon=True)
            t.start()
            try:
                conf = self.conf(d, "db_socket = %s\n" % path)
                t0 = time.time()
                p = run(["domain", "list", "-c", conf])
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertTrue(p.stderr.startswith("facteur: "), p.stderr)
                self.assertLess(time.time() - t0, 15)
            finally:
                stop.set()
                t.join()
                for s in held:
                    s.close()
                srv.close()


if __name__ == "__main__":
    unittest.main()
