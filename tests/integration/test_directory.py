"""The MariaDB directory: schema set-up on new and existing (ISPmail)
databases, Postfix virtual alias semantics, logins with migrated hashes.

Alias resolution is observed through `facteur alias resolve ADDRESS`
(the postmap -q of facteur: prints "address<TAB>local|remote" lines, exit
1 when the address reaches nobody) and logins through `facteur user
verify EMAIL` (doveadm auth test): both call the same directory code as
the SMTP and IMAP servers.
"""
import os
import subprocess
import tempfile
import unittest

from fixture import BIN, Facteur, shared_mariadb

# The ISPmail guide's test user (FORMATS.md b.1): password "summersun".
ISPMAIL_HASH = ("{BLF-CRYPT}$2y$05$m.GdQNMyUFNG0vPsaXxSB.0ZQqZhe1e9Un841oB"
                "cWi6U6HRF2Kmky")
ISPMAIL_PASSWORD = "summersun"

# The ISPmail bookworm schema as that guide creates it (utf8, InnoDB),
# written from the column list in FORMATS.md b.1.
ISPMAIL_DDL = """
CREATE TABLE virtual_domains (
  id int(11) NOT NULL auto_increment,
  name varchar(50) NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
CREATE TABLE virtual_users (
  id int(11) NOT NULL auto_increment,
  domain_id int(11) NOT NULL,
  password varchar(150) NOT NULL,
  email varchar(100) NOT NULL,
  quota int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (id),
  UNIQUE KEY email (email),
  FOREIGN KEY (domain_id) REFERENCES virtual_domains(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
CREATE TABLE virtual_aliases (
  id int(11) NOT NULL auto_increment,
  domain_id int(11) NOT NULL,
  source varchar(100) NOT NULL,
  destination varchar(100) NOT NULL,
  PRIMARY KEY (id),
  FOREIGN KEY (domain_id) REFERENCES virtual_domains(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
"""


def run(args, input=None, timeout=60):
    return subprocess.run([BIN] + list(args), input=input,
                          capture_output=True, text=True, timeout=timeout)


class IspmailSchemaTest(unittest.TestCase):
    """facteur on a database an ISPmail Postfix + Dovecot already uses."""

    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("ispmail")
        cls.f.write_conf()
        cls.db = cls.f.db
        n = cls.f.dbname
        cls.db.sql("DROP DATABASE `%s`; CREATE DATABASE `%s` CHARACTER SET "
                   "utf8;" % (n, n))
        cls.db.sql(ISPMAIL_DDL, db=n)
        cls.db.sql("INSERT INTO virtual_domains (name) VALUES "
                   "('example.org');"
                   "INSERT INTO virtual_users (domain_id, password, email) "
                   "VALUES (1, '%s', 'john@example.org');"
                   "INSERT INTO virtual_aliases (domain_id, source, "
                   "destination) VALUES (1, 'jack@example.org', "
                   "'john@example.org');" % ISPMAIL_HASH, db=n)
        cls.before = {t: cls.create_table(t) for t in
                      ("virtual_domains", "virtual_users")}

    @classmethod
    def create_table(cls, t):
        return cls.db.sql("SHOW CREATE TABLE %s" % t, db=cls.f.dbname)

    def cli(self, *args, input=None):
        return run([args[0], args[1], "-c", self.f.conf_path] +
                   list(args[2:]), input=input)

    def test_1_init_keeps_ispmail_tables(self):
        for _ in range(2):
            p = self.cli("db", "init")
            self.assertEqual(p.returncode, 0, p.stderr)
        tables = set(self.db.sql("SHOW TABLES", db=self.f.dbname).split())
        self.assertEqual(tables, {"virtual_domains", "virtual_users",
                                  "virtual_aliases", "facteur_admins",
                                  "facteur_dkim_keys",
                                  "facteur_schema_version"})
        for t, ddl in self.before.items():
            self.assertEqual(self.create_table(t), ddl, t)
        idx = self.db.sql("SHOW INDEX FROM virtual_aliases",
                          db=self.f.dbname)
        self.assertIn("facteur_virtual_aliases_source", idx)
        # ISPmail's rows are all still there
        self.assertIn("john@example.org\t0\n",
                      self.cli("user", "list").stdout)
        self.assertIn("jack@example.org\tjohn@example.org\n",
                      self.cli("alias", "list").stdout)

    def test_2_blf_crypt_login_and_rehash(self):
        self.assertEqual(self.cli("db", "init").returncode, 0)
        self.assertEqual(self.cli("user", "verify", "john@example.org",
                                  input="wrong\n").returncode, 1)
        stored = self.db.sql("SELECT password FROM virtual_users WHERE "
                             "email='john@example.org'", db=self.f.dbname)
        self.assertEqual(stored.strip(), ISPMAIL_HASH)
        p = self.cli("user", "verify", "john@example.org",
                     input=ISPMAIL_PASSWORD + "\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        # auth_rehash (default yes): now {ARGON2ID}, which Dovecot reads too
        stored = self.db.sql("SELECT password FROM virtual_users WHERE "
                             "email='john@example.org'", db=self.f.dbname)
        self.assertTrue(stored.startswith("{ARGON2ID}$argon2id$"), stored)
        self.assertEqual(self.cli("user", "verify", "John@Example.org",
                                  input=ISPMAIL_PASSWORD + "\n").returncode,
                         0)
        self.assertEqual(self.cli("user", "verify", "john@example.org",
                                  input="summersun2\n").returncode, 1)

    def test_3_alias_on_ispmail_rows(self):
        p = self.cli("alias", "resolve", "jack@example.org")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "john@example.org\tlocal\n")


class OldIspmailTest(unittest.TestCase):
    """Editions before buster had no quota column: db init adds it."""

    def test_quota_column_added(self):
        f = Facteur("oldispmail")
        f.write_conf()
        n = f.dbname
        f.db.sql("DROP DATABASE `%s`; CREATE DATABASE `%s`;" % (n, n))
        f.db.sql(ISPMAIL_DDL.replace(
            "  quota int(11) NOT NULL DEFAULT 0,\n", ""), db=n)
        f.db.sql("INSERT INTO virtual_domains (name) VALUES ('example.org');"
                 "INSERT INTO virtual_users (domain_id, password, email) "
                 "VALUES (1, '%s', 'john@example.org');" % ISPMAIL_HASH,
                 db=n)
        self.assertNotIn("quota", f.db.sql("SHOW CREATE TABLE virtual_users",
                                           db=n))
        f.cli("db", "init")
        self.assertEqual(f.cli("user", "list").stdout,
                         "john@example.org\t0\n")
        p = f.cli("user", "verify", "john@example.org",
                  input=ISPMAIL_PASSWORD + "\n", check=False)
        self.assertEqual(p.returncode, 0, p.stderr)


class RehashOffTest(unittest.TestCase):
    def test_no_rehash_when_off(self):
        f = Facteur("norehash", auth_rehash="no")
        f.write_conf()
        f.add_domain("example.org")
        f.db.sql("INSERT INTO virtual_users (domain_id, password, email) "
                 "SELECT id, '%s', 'john@example.org' FROM virtual_domains"
                 % ISPMAIL_HASH, db=f.dbname)
        p = f.cli("user", "verify", "john@example.org",
                  input=ISPMAIL_PASSWORD + "\n", check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        stored = f.db.sql("SELECT password FROM virtual_users",
                          db=f.dbname)
        self.assertEqual(stored.strip(), ISPMAIL_HASH)


class LegacyHashesTest(unittest.TestCase):
    """Hashes other ISPmail-era tools wrote (FORMATS.md b.1 notes)."""

    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("hashes", auth_rehash="no")
        cls.f.write_conf()
        cls.f.add_domain("example.org")

    def add_raw(self, email, stored):
        self.f.db.sql("INSERT INTO virtual_users (domain_id, password, "
                      "email) SELECT id, '%s', '%s' FROM virtual_domains "
                      "WHERE name='example.org'" % (stored, email),
                      db=self.f.dbname)

    def verify(self, email, pw):
        return self.f.cli("user", "verify", email, input=pw + "\n",
                          check=False).returncode

    def test_schemes(self):
        p = run(["hash", "--scheme", "SHA512-CRYPT"], input="pw512\n")
        if p.returncode != 0:
            self.skipTest("facteur hash unavailable: " + p.stderr)
        cases = [("sha512@example.org", p.stdout.strip(), "pw512")]
        p = run(["hash", "--scheme", "SSHA512"], input="ssha\n")
        cases.append(("ssha@example.org", p.stdout.strip(), "ssha"))
        # unprefixed crypt(3) string, as older guides stored
        cases.append(("bare@example.org", ISPMAIL_HASH[len("{BLF-CRYPT}"):],
                      ISPMAIL_PASSWORD))
        for email, stored, pw in cases:
            with self.subTest(email=email):
                self.add_raw(email, stored)
                self.assertEqual(self.verify(email, pw), 0)
                self.assertEqual(self.verify(email, pw + "x"), 1)

    def test_garbage_hash_fails_closed(self):
        self.add_raw("junk@example.org", "{NOSUCH}abc")
        self.assertEqual(self.verify("junk@example.org", "abc"), 1)
        self.add_raw("empty@example.org", "")
        self.assertEqual(self.verify("empty@example.org", ""), 1)
        self.assertEqual(self.verify("empty@example.org", "x"), 1)


class CreateDatabaseTest(unittest.TestCase):
    """`facteur db init` creates the database when it does not exist (as
    MariaDB root over the unix socket with an empty password file)."""

    def test_create(self):
        if os.geteuid() != 0:
            self.skipTest("unix_socket root login needs OS root")
        db = shared_mariadb()
        with tempfile.TemporaryDirectory() as d:
            pw = os.path.join(d, "empty")
            open(pw, "w").close()
            name = "t_create_%d" % os.getpid()
            conf = os.path.join(d, "f.conf")
            with open(conf, "w") as fh:
                fh.write("db_socket = %s\ndb_user = root\ndb_name = %s\n"
                         "db_password_file = %s\n" % (db.sock, name, pw))
            db.sql("DROP DATABASE IF EXISTS `%s`" % name)
            try:
                for _ in range(2):
                    p = run(["db", "init", "-c", conf])
                    self.assertEqual(p.returncode, 0, p.stderr)
                cs = db.sql("SELECT default_character_set_name FROM "
                            "information_schema.schemata WHERE "
                            "schema_name = '%s'" % name)
                self.assertEqual(cs.strip(), "utf8mb4")
                self.assertIn("virtual_users", db.sql("SHOW TABLES",
                                                      db=name))
            finally:
                db.sql("DROP DATABASE IF EXISTS `%s`" % name)

    def test_missing_sqldir(self):
        f = Facteur("nosql")
        f.write_conf()
        env = dict(os.environ, FACTEUR_SQLDIR="/nonexistent/sql")
        p = subprocess.run([BIN, "db", "init", "-c", f.conf_path],
                           capture_output=True, text=True, env=env)
        self.assertEqual(p.returncode, 1)
        self.assertIn("/nonexistent/sql/schema.sql", p.stderr)


class AliasSemanticsTest(unittest.TestCase):
    """Postfix virtual_alias_maps on ISPmail tables (DESIGN.md)."""

    @classmethod
    def setUpClass(cls):
        f = cls.f = Facteur("aliases")
        f.write_conf()
        for dom in ("example.org", "other.org"):
            f.add_domain(dom)
        for u in ("alice", "bob", "carol", "keep", "fwd"):
            f.add_user(u + "@example.org", "pw")
        f.add_user("dan@other.org", "pw")
        aliases = [
            ("team@example.org", "alice@example.org"),
            ("team@example.org", "bob@example.org"),
            ("all@example.org", "team@example.org"),
            ("all@example.org", "carol@example.org"),
            ("loop1@example.org", "loop2@example.org"),
            ("loop2@example.org", "loop1@example.org"),
            ("loopy@example.org", "loopx@example.org"),
            ("loopx@example.org", "loopy@example.org"),
            ("loopx@example.org", "alice@example.org"),
            ("ext@example.org", "Someone@Remote.example"),
            ("mixed@example.org", "far@remote.example"),
            ("mixed@example.org", "carol@example.org"),
            ("dup@example.org", "alice@example.org"),
            ("dup@example.org", "team@example.org"),
            ("@example.org", "carol@example.org"),
            # ISPmail keep-a-copy: self row plus a forward
            ("keep@example.org", "keep@example.org"),
            ("keep@example.org", "copy@remote.example"),
            # an explicit alias on a user address forwards (Postfix order)
            ("fwd@example.org", "elsewhere@remote.example"),
            ("ghost@other.org", "nobody@other.org"),
            ("half@other.org", "nobody@other.org"),
            ("half@other.org", "dan@other.org"),
            ("tocatch@other.org", "x@example.org"),
        ]
        for i in range(25):
            aliases.append(("deep%d@other.org" % i,
                            "deep%d@other.org" % (i + 1)))
        aliases.append(("deep25@other.org", "dan@other.org"))
        for i in range(10):
            aliases.append(("ok%d@other.org" % i, "ok%d@other.org" % (i + 1)))
        aliases.append(("ok10@other.org", "dan@other.org"))
        for src, dst in aliases:
            f.add_alias(src, dst)
        # destinations written by other tools: comma-separated lists
        f.db.sql("INSERT INTO virtual_aliases (domain_id, source, "
                 "destination) SELECT id, 'list@other.org', "
                 "'dan@other.org, alice@example.org,,bob@example.org ' "
                 "FROM virtual_domains WHERE name = 'other.org'",
                 db=f.dbname)
        # a case variant of an existing row (add refuses it as a duplicate)
        f.db.sql("INSERT INTO virtual_aliases (domain_id, source, "
                 "destination) SELECT id, 'dup@example.org', "
                 "'ALICE@example.org' FROM virtual_domains "
                 "WHERE name = 'example.org'", db=f.dbname)

    def resolve(self, addr):
        p = self.f.cli("alias", "resolve", addr, check=False)
        if p.returncode != 0:
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertEqual(p.stdout, "")
            return None, p.stderr
        rows = [tuple(l.split("\t")) for l in p.stdout.splitlines()]
        return rows, p.stderr

    def assertResolves(self, addr, want):
        got, err = self.resolve(addr)
        self.assertIsNotNone(got, err)
        self.assertEqual(sorted(got), sorted(want))

    def assertNobody(self, addr):
        got, err = self.resolve(addr)
        self.assertIsNone(got, got)
        self.assertIn("reaches nobody", err)

    def L(self, *addrs):
        return [(a, "local") for a in addrs]

    def test_user_own_address(self):
        self.assertResolves("alice@example.org",
                            self.L("alice@example.org"))

    def test_user_wins_over_catchall(self):
        self.assertResolves("bob@example.org", self.L("bob@example.org"))

    def test_fan_out(self):
        self.assertResolves("team@example.org",
                            self.L("alice@example.org", "bob@example.org"))

    def test_recursion(self):
        self.assertResolves("all@example.org",
                            self.L("alice@example.org", "bob@example.org",
                                   "carol@example.org"))

    def test_exact_before_catchall(self):
        # team has rows: the catch-all (-> carol) is not used
        got, _ = self.resolve("team@example.org")
        self.assertNotIn(("carol@example.org", "local"), got)

    def test_catchall(self):
        self.assertResolves("whoever@example.org",
                            self.L("carol@example.org"))
        self.assertResolves("tocatch@other.org",
                            self.L("carol@example.org"))

    def test_case_insensitive(self):
        self.assertResolves("TEAM@Example.ORG",
                            self.L("alice@example.org", "bob@example.org"))
        self.assertResolves("Alice@EXAMPLE.org",
                            self.L("alice@example.org"))

    def test_external(self):
        self.assertResolves("ext@example.org",
                            [("someone@remote.example", "remote")])
        self.assertResolves("mixed@example.org",
                            [("far@remote.example", "remote"),
                             ("carol@example.org", "local")])
        # a remote address as such is remote
        self.assertResolves("x@remote.example",
                            [("x@remote.example", "remote")])

    def test_dedupe(self):
        self.assertResolves("dup@example.org",
                            self.L("alice@example.org", "bob@example.org"))

    def test_loops(self):
        self.assertNobody("loop1@example.org")
        self.assertResolves("loopy@example.org",
                            self.L("alice@example.org"))

    def test_depth_limit(self):
        got, err = self.resolve("deep0@other.org")
        self.assertIsNone(got)
        self.assertIn("nesting", err)
        self.assertResolves("ok0@other.org", self.L("dan@other.org"))

    def test_keep_copy_self_alias(self):
        self.assertResolves("keep@example.org",
                            [("keep@example.org", "local"),
                             ("copy@remote.example", "remote")])

    def test_alias_on_user_forwards(self):
        self.assertResolves("fwd@example.org",
                            [("elsewhere@remote.example", "remote")])

    def test_unknown_local(self):
        self.assertNobody("nobody@other.org")
        self.assertNobody("ghost@other.org")
        self.assertResolves("half@other.org", self.L("dan@other.org"))

    def test_comma_lists(self):
        self.assertResolves("list@other.org",
                            self.L("dan@other.org", "alice@example.org",
                                   "bob@example.org"))

    def test_garbage_addresses(self):
        for a in ["", "noat", "@example.org", "x" * 400 + "@example.org"]:
            with self.subTest(a=a):
                self.assertNobody(a)


if __name__ == "__main__":
    unittest.main()
