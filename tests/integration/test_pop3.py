"""POP3 end to end: the real binary on 995 (implicit TLS) and 110 (STLS),
spoken to by poplib, raw sockets, curl and fetchmail.

Covers RFC 1939 (USER/PASS, STAT, LIST, RETR, TOP, DELE, RSET, UIDL,
NOOP, QUIT and the UPDATE state), CAPA (RFC 2449), STLS (RFC 2595) and
AUTH PLAIN (RFC 5034), and Dovecot compatibility: UIDLs are "%08x%08x" of
UID and UIDVALIDITY read back from dovecot-uidlist (P overrides honoured),
sizes are CRLF sizes, RETR sets \\Seen, DELE takes effect only at QUIT,
[IN-USE] for a second session.
"""
import base64
import imaplib
import os
import poplib
import pwd
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from fixture import RUN_USER, Facteur, LineClient, wait_for

PLAINTEXT_REFUSED = (b"-ERR [AUTH] Plaintext authentication disallowed on "
                     b"non-secure (SSL/TLS) connections.")
PASSWORD = "pop-secret 1"


def crlf(data):
    """The bytes with every bare LF turned into CRLF."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def stuffed(data):
    """What RETR must send for a stored message: CRLF, dot-stuffed."""
    out = b"".join(b"." + ln if ln.startswith(b".") else ln
                   for ln in crlf(data).splitlines(keepends=True))
    if not out.endswith(b"\r\n"):
        out += b"\r\n"
    return out


class Pop3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("pop3")
        cls.f.start()
        cls.f.add_domain("example.org")
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()

    def tearDown(self):
        if self._outcome_failed():
            print("---- facteur log tail ----")
            print("\n".join(self.f.log().splitlines()[-40:]))

    def _outcome_failed(self):
        res = getattr(self, "_outcome", None)
        if res is None or not hasattr(res, "result"):
            return False
        r = res.result
        return any(t is self for t, _ in r.failures + r.errors)

    # -- helpers -------------------------------------------------------
    def new_user(self):
        type(self).n += 1
        email = "pop%d-%d@example.org" % (self.n, os.getpid())
        self.f.add_user(email, PASSWORD)
        return email

    def put(self, email, data, sub="new"):
        """Store a message straight into the Maildir, Dovecot style
        (LF line ends, S= and W= in the name)."""
        md = self.f.maildir(email)
        uid = gid = None
        if RUN_USER:
            pw = pwd.getpwnam(RUN_USER)
            uid, gid = pw.pw_uid, pw.pw_gid
        for d in (md, md + "/cur", md + "/new", md + "/tmp"):
            if not os.path.isdir(d):
                os.makedirs(d, mode=0o700)
                if uid is not None:
                    for p in (os.path.dirname(os.path.dirname(md)),
                              os.path.dirname(md), d):
                        os.chown(p, uid, gid)
        type(self).n += 1
        now = time.time()
        name = "%d.M%dP%d_%d.test,S=%d,W=%d" % (
            int(now), int(now * 1e6) % 1000000, os.getpid(), self.n,
            len(data), len(crlf(data)))
        tmp = os.path.join(md, "tmp", name)
        with open(tmp, "wb") as fh:
            fh.write(data)
        if uid is not None:
            os.chown(tmp, uid, gid)
        os.rename(tmp, os.path.join(md, sub, name))
        return name

    def msg(self, i, extra=b""):
        return (b"From: sender@remote.test.invalid\n"
                b"To: someone@example.org\n"
                b"Subject: message %d\n"
                b"\n"
                b"Body line 1 of %d\n"
                b".a line starting with a dot\n"
                b"..two dots\n"
                b".\n"
                b"last line\n" % (i, i)) + extra

    def pop3s(self, email=None, password=PASSWORD, timeout=20):
        p = poplib.POP3_SSL("localhost", self.f.ports["pop3s"],
                            context=self.f.ssl_context(), timeout=timeout)
        if email is not None:
            p.user(email)
            p.pass_(password)
        return p

    def raw_tls(self):
        c = LineClient(self.f.raw_tls("pop3s"), timeout=20)
        self.assertTrue(c.line().startswith(b"+OK"))
        return c

    def multiline(self, c):
        """Lines of a multi-line response after its +OK, up to '.'."""
        out = []
        while True:
            ln = c.line()
            if not ln:
                raise ConnectionError("closed in multi-line: %r" % out)
            if ln == b".\r\n":
                return out
            out.append(ln)

    def cur_files(self, email):
        return self.f.messages(email, "cur")

    def uidlist(self, email):
        """(uidvalidity, {base file name: uid}) from dovecot-uidlist."""
        with open(os.path.join(self.f.maildir(email),
                               "dovecot-uidlist"), "rb") as fh:
            lines = fh.read().decode().splitlines()
        hdr = lines[0].split()
        self.assertEqual(hdr[0], "3")
        uidv = int([h for h in hdr if h.startswith("V")][0][1:])
        recs = {}
        for ln in lines[1:]:
            head, _, fname = ln.partition(" :")
            recs[fname] = int(head.split()[0])
        return uidv, recs

    # -- greeting, CAPA, TLS -------------------------------------------
    def test_pop3s_capa(self):
        p = self.pop3s()
        try:
            self.assertTrue(p.getwelcome().startswith(b"+OK"))
            capa = p.capa()
            for k in ("TOP", "UIDL", "USER", "SASL", "RESP-CODES",
                      "AUTH-RESP-CODE", "PIPELINING", "IMPLEMENTATION"):
                self.assertIn(k, capa)
            self.assertEqual(capa["SASL"], ["PLAIN"])
            self.assertNotIn("STLS", capa)
        finally:
            p.quit()

    def test_plain_port_refuses_credentials_before_stls(self):
        email = self.new_user()
        p = poplib.POP3("127.0.0.1", self.f.ports["pop3"], timeout=20)
        try:
            capa = p.capa()
            self.assertIn("STLS", capa)
            self.assertNotIn("USER", capa)
            self.assertNotIn("SASL", capa)
            with self.assertRaises(poplib.error_proto) as cm:
                p.user(email)
            self.assertEqual(cm.exception.args[0], PLAINTEXT_REFUSED)
            with self.assertRaises(poplib.error_proto) as cm:
                p.pass_(PASSWORD)
            self.assertEqual(cm.exception.args[0], PLAINTEXT_REFUSED)
            resp = b"AUTH PLAIN " + base64.b64encode(
                b"\0" + email.encode() + b"\0" + PASSWORD.encode())
            with self.assertRaises(poplib.error_proto) as cm:
                p._shortcmd(resp.decode())
            self.assertEqual(cm.exception.args[0], PLAINTEXT_REFUSED)
            # STAT before login is refused by state
            with self.assertRaises(poplib.error_proto):
                p.stat()

            p.stls(context=self.f.ssl_context())
            capa = p.capa()
            self.assertNotIn("STLS", capa)
            self.assertIn("USER", capa)
            self.assertEqual(capa["SASL"], ["PLAIN"])
            p.user(email)
            self.assertEqual(p.pass_(PASSWORD), b"+OK Logged in.")
            self.assertEqual(p.stat(), (0, 0))
            with self.assertRaises(poplib.error_proto):
                p._shortcmd("STLS")     # not in TRANSACTION
        finally:
            p.quit()
        self.assertIn("pop3 auth result=refused reason=cleartext", self.f.log())

    def test_stls_drops_pipelined_plaintext(self):
        s = self.f.raw("pop3")
        c = LineClient(s, timeout=20)
        self.assertTrue(c.line().startswith(b"+OK"))
        # QUIT injected after STLS in the same packet must not run
        c.send(b"STLS\r\nQUIT\r\n")
        self.assertEqual(c.line(), b"+OK Begin TLS negotiation now.\r\n")
        self.assertEqual(c.buf, b"")
        t = LineClient(self.f.ssl_context().wrap_socket(
            s, server_hostname="localhost"), timeout=20)
        t.send(b"CAPA\r\n")
        self.assertEqual(t.line(), b"+OK\r\n")
        self.assertIn(b"USER\r\n", self.multiline(t))
        t.send(b"QUIT\r\n")
        self.assertTrue(t.line().startswith(b"+OK"))
        t.close()

    # -- authentication ------------------------------------------------
    def test_auth_plain_initial_response(self):
        email = self.new_user()
        c = self.raw_tls()
        c.send(b"AUTH PLAIN " + base64.b64encode(
            b"\0" + email.encode() + b"\0" + PASSWORD.encode()) + b"\r\n")
        self.assertEqual(c.line(), b"+OK Logged in.\r\n")
        c.send(b"STAT\r\nQUIT\r\n")
        self.assertEqual(c.line(), b"+OK 0 0\r\n")
        self.assertEqual(c.line(), b"+OK Logging out.\r\n")
        c.close()

    def test_auth_plain_continuation(self):
        email = self.new_user()
        c = self.raw_tls()
        c.send(b"AUTH PLAIN\r\n")
        self.assertEqual(c.line(), b"+ \r\n")
        c.send(base64.b64encode(email.encode() + b"\0" + email.encode() +
                                b"\0" + PASSWORD.encode()) + b"\r\n")
        self.assertEqual(c.line(), b"+OK Logged in.\r\n")
        c.send(b"QUIT\r\n")
        c.line()
        c.close()
        # "*" cancels; AUTH with no argument lists PLAIN; others refused
        c = self.raw_tls()
        c.send(b"AUTH PLAIN\r\n")
        self.assertEqual(c.line(), b"+ \r\n")
        c.send(b"*\r\n")
        self.assertEqual(c.line(),
                         b"-ERR Authentication aborted by client.\r\n")
        c.send(b"AUTH\r\n")
        self.assertEqual(c.line(), b"+OK\r\n")
        self.assertEqual(self.multiline(c), [b"PLAIN\r\n"])
        c.send(b"AUTH CRAM-MD5\r\n")
        self.assertTrue(c.line().startswith(b"-ERR [AUTH]"))
        # acting as someone else (authzid) is not offered; "=" (empty)
        # and bad base64 fail like a wrong password
        for resp in (base64.b64encode(b"other@example.org\0" +
                                      email.encode() + b"\0" +
                                      PASSWORD.encode()), b"!!!", b"="):
            c.send(b"AUTH PLAIN " + resp + b"\r\n")
            self.assertEqual(c.line(),
                             b"-ERR [AUTH] Authentication failed.\r\n")
        self.assertEqual(c.line(), b"")     # third failure: closed
        c.close()

    def test_bad_password(self):
        email = self.new_user()
        p = self.pop3s()
        try:
            p.user(email)
            t0 = time.time()
            with self.assertRaises(poplib.error_proto) as cm:
                p.pass_("Zq9-never-logged")
            self.assertGreaterEqual(time.time() - t0, 0.19)
            self.assertEqual(cm.exception.args[0],
                             b"-ERR [AUTH] Authentication failed.")
            # PASS without USER
            with self.assertRaises(poplib.error_proto) as cm:
                p.pass_(PASSWORD)
            self.assertEqual(cm.exception.args[0],
                             b"-ERR No username given.")
            # and the right one still works on the same connection
            p.user(email)
            p.pass_(PASSWORD)
        finally:
            p.quit()
        log = self.f.log()
        self.assertRegex(log, r"warn [0-9a-f]{16} pop3 auth result=permfail "
                         r"address=127\.0\.0\.1 user=\"%s\"" % re.escape(email))
        self.assertNotIn("Zq9-never-logged", log)

    def test_three_failures_close(self):
        email = self.new_user()
        c = self.raw_tls()
        for _ in range(3):
            c.send(("USER %s\r\nPASS nope\r\n" % email).encode())
            self.assertEqual(c.line(), b"+OK\r\n")
            self.assertEqual(c.line(), b"-ERR [AUTH] Authentication failed.\r\n")
        self.assertEqual(c.line(), b"")
        c.close()

    # -- maildrop ------------------------------------------------------
    def test_list_stat_sizes_are_crlf_sizes(self):
        email = self.new_user()
        bodies = [self.msg(1), self.msg(2, b"x" * 5000 + b"\n"),
                  b"Subject: no final newline\n\nabc"]
        for b in bodies:
            self.put(email, b)
        p = self.pop3s(email)
        try:
            sizes = [len(crlf(b)) for b in bodies]
            self.assertEqual(p.stat(), (3, sum(sizes)))
            resp, lines, _ = p.list()
            self.assertEqual(resp, b"+OK 3 messages:")
            self.assertEqual(lines, [b"%d %d" % (i + 1, s)
                                     for i, s in enumerate(sizes)])
            self.assertEqual(p.list(2), b"+OK 2 %d" % sizes[1])
            with self.assertRaises(poplib.error_proto) as cm:
                p.list(4)
            self.assertEqual(cm.exception.args[0],
                             b"-ERR There's no message 4.")
        finally:
            p.quit()
        # new/ was moved to cur/ at login, as Dovecot does
        self.assertEqual(self.f.messages(email, "new"), [])
        self.assertEqual(len(self.cur_files(email)), 3)

    def test_retr_byte_exact(self):
        email = self.new_user()
        bodies = [self.msg(1), b"Subject: crlf already\r\n\r\n.x\r\nend\r\n",
                  b"Subject: no final newline\n\nabc"]
        for b in bodies:
            self.put(email, b)
        c = self.raw_tls()
        c.send(("USER %s\r\nPASS %s\r\n" % (email, PASSWORD)).encode())
        c.line()
        self.assertEqual(c.line(), b"+OK Logged in.\r\n")
        for i, b in enumerate(bodies):
            c.send(b"RETR %d\r\n" % (i + 1))
            self.assertEqual(c.line(), b"+OK %d octets\r\n" % len(crlf(b)))
            got = b"".join(self.multiline(c))
            self.assertEqual(got, stuffed(b))
        c.send(b"QUIT\r\n")
        c.line()
        c.close()
        # poplib undoes the stuffing: lines equal the stored ones
        p = self.pop3s(email)
        try:
            resp, lines, octets = p.retr(1)
            self.assertEqual(lines, bodies[0].rstrip(b"\n").split(b"\n"))
        finally:
            p.quit()

    def test_top(self):
        email = self.new_user()
        self.put(email, self.msg(1))
        p = self.pop3s(email)
        try:
            resp, lines, _ = p.top(1, 2)
            self.assertEqual(resp, b"+OK")
            self.assertEqual(lines, [
                b"From: sender@remote.test.invalid",
                b"To: someone@example.org", b"Subject: message 1", b"",
                b"Body line 1 of 1", b".a line starting with a dot"])
            resp, lines, _ = p.top(1, 0)
            self.assertEqual(lines[-1], b"")
            self.assertEqual(len(lines), 4)
        finally:
            p.quit()
        # TOP does not set \Seen
        self.assertFalse(self.cur_files(email)[0].endswith("S"))

    def test_uidl_dovecot_format_and_stability(self):
        email = self.new_user()
        names = [self.put(email, self.msg(i)) for i in range(3)]
        p = self.pop3s(email)
        try:
            resp, lines, _ = p.uidl()
            got = [ln.split() for ln in lines]
            self.assertEqual(p.uidl(2).split()[1:], got[1])
        finally:
            p.quit()
        uidv, recs = self.uidlist(email)
        want = [[b"%d" % (i + 1),
                 ("%08x%08x" % (recs[n.split(":")[0]], uidv)).encode()]
                for i, n in enumerate(names)]
        self.assertEqual(got, want)
        for _, u in got:
            self.assertRegex(u.decode(), r"^[0-9a-f]{16}$")
        # the same after a new session and after a restart
        p = self.pop3s(email)
        try:
            self.assertEqual([ln.split() for ln in p.uidl()[1]], want)
        finally:
            p.quit()
        self.f.restart()
        p = self.pop3s(email)
        try:
            self.assertEqual([ln.split() for ln in p.uidl()[1]], want)
        finally:
            p.quit()

    def test_uidl_pop3_override_in_uidlist(self):
        email = self.new_user()
        for i in range(2):
            self.put(email, self.msg(i))
        p = self.pop3s(email)        # assigns the UIDs
        p.quit()
        path = os.path.join(self.f.maildir(email), "dovecot-uidlist")
        with open(path) as fh:
            lines = fh.read().splitlines()
        head, _, fname = lines[2].partition(" :")
        lines[2] = "%s Pmigrated-from-courier-0042 :%s" % (head, fname)
        st = os.stat(path)
        with open(path, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        os.chown(path, st.st_uid, st.st_gid)
        p = self.pop3s(email)
        try:
            self.assertEqual(p.uidl(2), b"+OK 2 migrated-from-courier-0042")
            self.assertRegex(p.uidl(1).decode(), r"^\+OK 1 [0-9a-f]{16}$")
        finally:
            p.quit()

    def test_dele_takes_effect_at_quit(self):
        email = self.new_user()
        for i in range(3):
            self.put(email, self.msg(i))
        p = self.pop3s(email)
        try:
            self.assertEqual(p.dele(2), b"+OK Marked to be deleted.")
            with self.assertRaises(poplib.error_proto) as cm:
                p.retr(2)
            self.assertEqual(cm.exception.args[0], b"-ERR Message is deleted.")
            self.assertEqual(p.stat()[0], 2)
            self.assertEqual(len(p.list()[1]), 2)
            self.assertEqual(len(p.uidl()[1]), 2)
            self.assertEqual(len(self.cur_files(email)), 3)   # not yet
        finally:
            self.assertEqual(p.quit(), b"+OK Logging out, messages deleted.")
        self.assertEqual(len(self.cur_files(email)), 2)
        p = self.pop3s(email)
        try:
            self.assertEqual(p.stat()[0], 2)
        finally:
            p.quit()
        self.imap_count(email, 2)

    def imap_count(self, email, want):
        """IMAP sees the POP3 expunge (skipped if IMAP is not there)."""
        if "imaps" not in self.f.ports:
            return
        try:
            m = imaplib.IMAP4_SSL("localhost", self.f.ports["imaps"],
                                  ssl_context=self.f.ssl_context(),
                                  timeout=20)
        except OSError as e:
            self.skipTest("IMAP not available: %s" % e)
        try:
            m.login(email, PASSWORD)
            typ, data = m.select("INBOX")
            self.assertEqual(typ, "OK")
            self.assertEqual(int(data[0]), want)
        finally:
            try:
                m.logout()
            except Exception:
                pass

    def test_drop_without_quit_deletes_nothing(self):
        email = self.new_user()
        for i in range(2):
            self.put(email, self.msg(i))
        c = self.raw_tls()
        c.send(("USER %s\r\nPASS %s\r\n" % (email, PASSWORD)).encode())
        c.line()
        self.assertEqual(c.line(), b"+OK Logged in.\r\n")
        c.send(b"RETR 1\r\n")
        self.assertTrue(c.line().startswith(b"+OK"))
        self.multiline(c)
        c.send(b"DELE 1\r\nDELE 2\r\n")
        c.line()
        c.line()
        c.close()
        self.assertTrue(wait_for(lambda: re.search(
            r"pop3 disconnect user=\"%s\".*"
            r"reason=\"(disconnected|connection error)\"" %
            re.escape(email), self.f.log())))
        files = self.cur_files(email)
        self.assertEqual(len(files), 2)
        # RETR's \Seen is kept even without QUIT (Dovecot's default)
        self.assertEqual(sum(1 for n in files if n.endswith(":2,S")), 1)

    def test_rset(self):
        email = self.new_user()
        for i in range(2):
            self.put(email, self.msg(i))
        p = self.pop3s(email)
        try:
            p.dele(1)
            p.retr(2)
            self.assertEqual(p.stat()[0], 1)
            self.assertEqual(p.rset(), b"+OK")
            self.assertEqual(p.stat()[0], 2)
        finally:
            self.assertEqual(p.quit(), b"+OK Logging out.")
        files = self.cur_files(email)
        self.assertEqual(len(files), 2)
        # RSET also forgot the \Seen of RETR, as in Dovecot
        self.assertFalse(any(n.endswith("S") for n in files))

    def test_retr_sets_seen_at_quit(self):
        email = self.new_user()
        names = [self.put(email, self.msg(i)) for i in range(2)]
        p = self.pop3s(email)
        try:
            p.retr(1)
        finally:
            p.quit()
        files = self.cur_files(email)
        seen = [n for n in files if n.endswith(":2,S")]
        self.assertEqual(len(seen), 1)
        self.assertTrue(seen[0].startswith(names[0]))

    def test_in_use(self):
        email = self.new_user()
        self.put(email, self.msg(1))
        a = self.pop3s(email)
        try:
            b = self.pop3s()
            b.user(email)
            with self.assertRaises(poplib.error_proto) as cm:
                b.pass_(PASSWORD)
            self.assertTrue(cm.exception.args[0].startswith(b"-ERR [IN-USE]"))
            b.quit()
        finally:
            a.quit()
        b = self.pop3s(email)
        self.assertEqual(b.stat()[0], 1)
        b.quit()

    def test_snapshot_at_login(self):
        email = self.new_user()
        self.put(email, self.msg(1))
        p = self.pop3s(email)
        try:
            self.put(email, self.msg(2))
            self.assertEqual(p.stat()[0], 1)
            self.assertEqual(len(p.list()[1]), 1)
        finally:
            p.quit()
        p = self.pop3s(email)
        try:
            self.assertEqual(p.stat()[0], 2)
        finally:
            p.quit()

    def test_smtp_delivery_then_pop3(self):
        email = self.new_user()
        body = (b"From: a@remote.test.invalid\r\nTo: %s\r\n"
                b"Subject: via smtp\r\n\r\n.leading dot\r\nbye\r\n"
                % email.encode())
        try:
            self.f.deliver(email, body)
        except Exception as e:      # SMTP may not be wired yet
            self.skipTest("SMTP delivery failed: %s" % e)
        self.assertTrue(self.f.wait_messages(email, 1))
        p = self.pop3s(email)
        try:
            resp, lines, _ = p.retr(1)
            self.assertIn(b"Subject: via smtp", lines)
            self.assertIn(b".leading dot", lines)
        finally:
            p.quit()

    # -- Dovecot, byte for byte ----------------------------------------
    DOVECOT_POP3 = "/usr/lib/dovecot/pop3"
    COMPARE = (b"STAT\r\nLIST\r\nLIST 2\r\nUIDL\r\nUIDL 3\r\nTOP 1 1\r\n"
               b"TOP 2 0\r\nTOP 3 100\r\nRETR 1\r\nRETR 2\r\nRETR 3\r\n"
               b"DELE 1\r\nLIST\r\nSTAT\r\nUIDL\r\nRETR 1\r\nLIST 9\r\n"
               b"RSET\r\nSTAT\r\nNOOP\r\nQUIT\r\n")

    def dovecot_session(self, email, commands):
        """Dovecot's own pop3 binary, pre-authenticated on stdin, on the
        same Maildir: its replies to commands."""
        d = tempfile.mkdtemp(prefix="dovecot-", dir=self.f.dir)
        os.chmod(d, 0o755)
        user = RUN_USER or pwd.getpwuid(os.geteuid()).pw_name
        pw = pwd.getpwnam(user)
        conf = os.path.join(d, "dovecot.conf")
        with open(conf, "w") as fh:
            fh.write("log_path = %s/log\n"
                     "mail_location = maildir:%s\n"
                     "mail_uid = %d\nmail_gid = %d\n"
                     "first_valid_uid = 0\nfirst_valid_gid = 0\n"
                     "ssl = no\n" % (d, self.f.maildir(email), pw.pw_uid,
                                     pw.pw_gid))
        r = subprocess.run([self.DOVECOT_POP3, "-c", conf], input=commands,
                           capture_output=True, timeout=60,
                           env={"USER": email, "HOME": d,
                                "PATH": os.environ.get("PATH", "")})
        return r.stdout

    def facteur_session(self, email, commands):
        c = self.raw_tls()
        c.send(("USER %s\r\nPASS %s\r\n" % (email, PASSWORD)).encode())
        self.assertEqual(c.line(), b"+OK\r\n")
        self.assertEqual(c.line(), b"+OK Logged in.\r\n")
        c.send(commands)
        out = c.buf
        while True:
            chunk = c.sock.recv(65536)
            if not chunk:
                break
            out += chunk
        c.close()
        return out

    def test_same_bytes_as_dovecot(self):
        """Dovecot 2.3 first (it creates dovecot-uidlist, moves new/ to
        cur/), then facteur on the same Maildir: every reply identical,
        UIDLs included. Then facteur first on a fresh Maildir, Dovecot
        after it."""
        if os.geteuid() != 0 or not os.access(self.DOVECOT_POP3, os.X_OK):
            self.skipTest("needs root and Debian's dovecot-pop3d")
        bodies = [self.msg(1),
                  b"Subject: crlf\r\n\r\n.x\r\nend\r\n",
                  b"Subject: no final newline\n\nabc\n..\nlast"]
        for order in ("dovecot-first", "facteur-first"):
            email = self.new_user()
            for b in bodies:
                self.put(email, b)
            if order == "dovecot-first":
                dv = self.dovecot_session(email, self.COMPARE)
                fa = self.facteur_session(email, self.COMPARE)
            else:
                fa = self.facteur_session(email, self.COMPARE)
                dv = self.dovecot_session(email, self.COMPARE)
            self.assertTrue(dv.startswith(b"+OK 3 "), dv)
            self.assertEqual(fa.decode("latin-1").splitlines(),
                             dv.decode("latin-1").splitlines(), order)
            self.assertEqual(fa, dv, order)

    # -- protocol hygiene ----------------------------------------------
    def test_line_too_long_and_bad_commands(self):
        c = self.raw_tls()
        c.send(b"NOOP " + b"x" * 600 + b"\r\n")
        self.assertEqual(c.line(), b"-ERR Line too long.\r\n")
        c.send(b"CAPA\r\n")
        self.assertEqual(c.line(), b"+OK\r\n")
        self.multiline(c)
        c.send(b"FOO\r\n")
        self.assertEqual(c.line(), b"-ERR Unknown command.\r\n")
        c.send(b"USER a\0b\r\n")
        self.assertEqual(c.line(), b"-ERR Invalid characters in command.\r\n")
        # two bad so far (FOO, the NUL); eight more reach the limit
        for _ in range(8):
            c.send(b"BAD\r\n")
        lines = [c.line() for _ in range(9)]
        self.assertEqual(lines[-1], b"-ERR Too many bad commands.\r\n")
        self.assertEqual(c.line(), b"")
        c.close()

    def test_pipelining(self):
        email = self.new_user()
        for i in range(2):
            self.put(email, self.msg(i))
        c = self.raw_tls()
        c.send(("USER %s\r\nPASS %s\r\nSTAT\r\nLIST 1\r\nUIDL 2\r\n"
                "NOOP\r\nQUIT\r\n" % (email, PASSWORD)).encode())
        got = [c.line() for _ in range(7)]
        self.assertEqual(got[0], b"+OK\r\n")
        self.assertEqual(got[1], b"+OK Logged in.\r\n")
        self.assertTrue(got[2].startswith(b"+OK 2 "))
        self.assertTrue(got[3].startswith(b"+OK 1 "))
        self.assertTrue(got[4].startswith(b"+OK 2 "))
        self.assertEqual(got[5], b"+OK\r\n")
        self.assertEqual(got[6], b"+OK Logging out.\r\n")
        c.close()

    def test_session_summary_log(self):
        email = self.new_user()
        for i in range(2):
            self.put(email, self.msg(i))
        p = self.pop3s(email)
        p.retr(1)
        p.dele(2)
        p.quit()
        self.assertTrue(wait_for(lambda: re.search(
            r"pop3 disconnect user=\"%s\" address=127\.0\.0\.1 "
            r"reason=\"quit\" state=update retr=1 retr_bytes=\d+ top=0 "
            r"top_bytes=0 dele=1 deleted=1 msgs=2 size=\d+" %
            re.escape(email), self.f.log())), self.f.log()[-2000:])
        self.assertRegex(self.f.log(), r"pop3 login result=ok "
                         r"address=127\.0\.0\.1 user=\"%s\"" %
                         re.escape(email))

    # -- real clients --------------------------------------------------
    def test_curl_pop3s(self):
        if shutil.which("curl") is None:
            self.skipTest("curl not installed")
        email = self.new_user()
        bodies = [self.msg(1), self.msg(2)]
        for b in bodies:
            self.put(email, b)
        url = "pop3s://localhost:%d/" % self.f.ports["pop3s"]
        base = ["curl", "-sS", "--cacert", self.f.cafile, "--user",
                "%s:%s" % (email, PASSWORD), "--max-time", "30"]
        r = subprocess.run(base + [url], capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(b"\r\n")[:2],
                         [b"1 %d" % len(crlf(bodies[0])),
                          b"2 %d" % len(crlf(bodies[1]))])
        r = subprocess.run(base + [url + "2"], capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, crlf(bodies[1]))

    def fetchmail(self, email, keep, out):
        home = tempfile.mkdtemp(prefix="fm-", dir=self.f.dir)
        rc = os.path.join(home, "fetchmailrc")
        with open(rc, "w") as fh:
            fh.write(
                "set no syslog\n"
                "poll localhost protocol pop3 port %d uidl\n"
                "  user \"%s\" password \"%s\" is root here\n"
                "  ssl sslcertck sslcertfile \"%s\"\n"
                "  mda \"/bin/sh -c 'cat >> %s'\"\n"
                % (self.f.ports["pop3s"], email, PASSWORD, self.f.cafile,
                   out))
        os.chmod(rc, 0o600)
        env = dict(os.environ, FETCHMAILHOME=home, HOME=home)
        return subprocess.run(["fetchmail", "-f", rc, "--nodetach", "-v",
                               "--all", "--keep" if keep else "--nokeep"],
                              capture_output=True, text=True, env=env,
                              timeout=90)

    def test_fetchmail_keep_and_delete(self):
        if shutil.which("fetchmail") is None:
            self.skipTest("fetchmail not installed")
        email = self.new_user()
        for i in range(3):
            self.put(email, self.msg(i))
        out = os.path.join(self.f.dir, "fetched-%d.mbox" % os.getpid())
        r = self.fetchmail(email, True, out)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(out, "rb") as fh:
            got = fh.read()
        self.assertEqual(got.count(b"Subject: message "), 3)
        self.assertIn(b"\n.a line starting with a dot\n", got)
        self.assertIn(b"\n..two dots\n", got)
        self.assertEqual(len(self.cur_files(email)), 3)   # kept
        os.unlink(out)
        r = self.fetchmail(email, False, out)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(out, "rb") as fh:
            self.assertEqual(fh.read().count(b"Subject: message "), 3)
        self.assertEqual(self.cur_files(email), [])        # deleted


class Pop3LimitsTest(unittest.TestCase):
    """Connection limit and a directory that is down."""

    def test_over_limit(self):
        f = Facteur("pop3lim", max_connections_per_ip=2)
        f.start()
        try:
            # the fixture's readiness probes may still count for a
            # moment: wait until two sessions are welcome
            for _ in range(40):
                a = f.raw_tls("pop3s")
                b = f.raw_tls("pop3s")
                la, lb = LineClient(a).line(), LineClient(b).line()
                if la.startswith(b"+OK") and lb.startswith(b"+OK"):
                    break
                a.close()
                b.close()
                time.sleep(0.25)
            self.assertTrue(lb.startswith(b"+OK"))
            c = LineClient(f.raw_tls("pop3s"))
            self.assertEqual(c.line(),
                             b"-ERR [SYS/TEMP] Too many connections\r\n")
            self.assertEqual(c.line(), b"")
            for s in (a, b):
                s.close()
        finally:
            f.stop()

    def test_db_down_is_temporary(self):
        f = Facteur("pop3nodb")
        f.write_conf()
        f.add_domain("example.org")
        f.add_user("x@example.org", PASSWORD)
        with open(f.conf_path) as fh:
            conf = fh.read()
        conf = re.sub(r"(?m)^db_socket = .*$",
                      "db_socket = %s/no-such.sock" % f.dir, conf)
        with open(f.conf_path, "w") as fh:
            fh.write(conf)
        f.start()
        try:
            p = poplib.POP3_SSL("localhost", f.ports["pop3s"],
                                context=f.ssl_context(), timeout=30)
            p.user("x@example.org")
            with self.assertRaises(poplib.error_proto) as cm:
                p.pass_(PASSWORD)
            self.assertTrue(cm.exception.args[0].startswith(
                b"-ERR [SYS/TEMP]"), cm.exception.args[0])
            p.quit()
        finally:
            f.stop()


if __name__ == "__main__":
    unittest.main()
