"""Submission: 465 (implicit TLS) and 587 (STARTTLS required), AUTH PLAIN
and LOGIN, failures and their delay, sender ownership, relaying for
authenticated users only."""
import base64
import re
import smtplib
import subprocess
import time
import unittest

from fixture import Facteur, LineClient, wait_for

HOST = "mx.test.invalid"


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


class SmtpSubmission(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("smtp_sub")
        cls.f.start()
        f = cls.f
        f.add_domain("example.org")
        f.add_user("bob@example.org", "bob-secret")
        f.add_user("alice@example.org", "alice-secret")
        f.add_alias("bob.alias@example.org", "bob@example.org")

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()

    def cmd(self, c, line, want=None):
        c.send(line + "\r\n")
        code, text = c.smtp_reply()
        if want is not None:
            self.assertEqual(code, want, "%s -> %d %s" % (line, code, text))
        return code, text

    def starttls_client(self):
        sock = self.f.raw("submission")
        c = LineClient(sock)
        self.assertEqual(c.smtp_reply()[0], 220)
        self.cmd(c, "EHLO client.test.invalid", 250)
        self.cmd(c, "STARTTLS", 220)
        t = LineClient(self.f.ssl_context().wrap_socket(
            sock, server_hostname="localhost"))
        code, text = self.cmd(t, "EHLO client.test.invalid", 250)
        return t, text.split("\n")

    # -- 587 before TLS ---------------------------------------------------
    def test_587_requires_starttls(self):
        c = LineClient(self.f.raw("submission"))
        self.assertEqual(c.smtp_reply()[0], 220)
        code, text = self.cmd(c, "EHLO client.test.invalid", 250)
        lines = text.split("\n")
        self.assertIn("STARTTLS", lines)
        self.assertFalse([l for l in lines if l.startswith("AUTH")],
                         "AUTH offered without TLS")
        code, text = self.cmd(c, "AUTH PLAIN " + b64("\0bob@example.org\0"
                                                     "bob-secret"), 530)
        self.assertIn("5.7.0 Must issue a STARTTLS command first", text)
        code, text = self.cmd(c, "MAIL FROM:<bob@example.org>", 530)
        self.assertIn("5.7.0", text)
        self.cmd(c, "QUIT", 221)
        c.close()

    def test_587_mail_needs_auth(self):
        t, ext = self.starttls_client()
        self.assertIn("AUTH PLAIN LOGIN", ext)
        self.assertNotIn("STARTTLS", ext)
        code, text = self.cmd(t, "MAIL FROM:<bob@example.org>", 530)
        self.assertIn("5.7.0 Authentication required", text)
        self.cmd(t, "QUIT", 221)
        t.close()

    # -- AUTH ---------------------------------------------------------------
    def test_587_auth_plain_smtplib(self):
        before = len(self.f.messages("alice@example.org"))
        s = self.f.smtp_tls("submission")
        s.login("bob@example.org", "bob-secret")
        s.sendmail("bob@example.org", ["alice@example.org"],
                   b"Subject: from bob\r\n\r\nhello alice\r\n")
        s.quit()
        names = self.f.wait_messages("alice@example.org", before + 1)
        self.assertTrue(names)
        data = self.f.read_message("alice@example.org", sorted(names)[-1])
        self.assertIn(b"with ESMTPSA id", data)
        self.assertIn(b"Return-Path: <bob@example.org>\n", data)
        self.assertRegex(self.f.log(), r'smtp auth result=ok '
                         r'user="bob@example\.org" address=127\.0\.0\.1')

    def test_587_auth_login_raw(self):
        t, ext = self.starttls_client()
        code, text = self.cmd(t, "AUTH LOGIN", 334)
        self.assertEqual(base64.b64decode(text), b"Username:")
        code, text = self.cmd(t, b64("bob@example.org"), 334)
        self.assertEqual(base64.b64decode(text), b"Password:")
        code, text = self.cmd(t, b64("bob-secret"), 235)
        self.assertIn("2.7.0", text)
        self.cmd(t, "AUTH PLAIN " + b64("\0bob@example.org\0bob-secret"), 503)
        self.cmd(t, "MAIL FROM:<bob@example.org>", 250)
        self.cmd(t, "QUIT", 221)
        t.close()

    def test_auth_plain_without_initial_response(self):
        t, ext = self.starttls_client()
        code, text = self.cmd(t, "AUTH PLAIN", 334)
        self.cmd(t, b64("\0bob@example.org\0bob-secret"), 235)
        self.cmd(t, "QUIT", 221)
        t.close()

    def test_auth_cancel_and_bad_mech(self):
        t, ext = self.starttls_client()
        self.cmd(t, "AUTH LOGIN", 334)
        self.cmd(t, "*", 501)
        self.cmd(t, "AUTH CRAM-MD5", 504)
        self.cmd(t, "AUTH PLAIN !!!notbase64", 501)
        self.cmd(t, "QUIT", 221)
        t.close()

    def test_swaks_587_starttls_auth_pipelining(self):
        before = len(self.f.messages("alice@example.org"))
        for mech in ("PLAIN", "LOGIN"):
            p = subprocess.run(
                ["swaks", "--server", "127.0.0.1",
                 "--port", str(self.f.ports["submission"]), "--tls",
                 "--auth", mech, "--auth-user", "bob@example.org",
                 "--auth-password", "bob-secret", "--pipeline",
                 "--from", "bob@example.org", "--to", "alice@example.org",
                 "--header", "Subject: swaks %s" % mech,
                 "--body", "via swaks"], capture_output=True, text=True,
                timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertTrue(self.f.wait_messages("alice@example.org", before + 2))

    def test_465_implicit_tls_auth_login(self):
        s = self.f.smtps()
        self.assertIn("auth", s.esmtp_features)
        self.assertNotIn("starttls", s.esmtp_features)
        s.user, s.password = "alice@example.org", "alice-secret"
        code, text = s.auth("LOGIN", s.auth_login, initial_response_ok=True)
        self.assertEqual(code, 235)
        s.sendmail("alice@example.org", ["bob@example.org"],
                   b"Subject: 465\r\n\r\nvia smtps\r\n")
        s.quit()

    def test_bad_password_delayed(self):
        s = self.f.smtp_tls("submission")
        t0 = time.time()
        with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
            s.login("bob@example.org", "wrong-password")
        elapsed = time.time() - t0
        self.assertEqual(cm.exception.smtp_code, 535)
        self.assertIn(b"5.7.8", cm.exception.smtp_error)
        self.assertGreaterEqual(elapsed, 0.19)   # auth_fail_delay_ms = 200
        s.quit()
        self.assertTrue(wait_for(lambda: re.search(
            r'warn [0-9a-f]{16} smtp auth result=fail '
            r'user="bob@example\.org" address=127\.0\.0\.1', self.f.log()),
            5), self.f.log()[-2000:])

    def test_unknown_user_is_535(self):
        s = self.f.smtps()
        with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
            s.login("nobody@example.org", "x")
        self.assertEqual(cm.exception.smtp_code, 535)
        s.quit()

    # -- sender ownership and relaying ------------------------------------
    def test_sender_mismatch(self):
        s = self.f.smtps()
        s.login("bob@example.org", "bob-secret")
        code, text = s.mail("alice@example.org")
        self.assertEqual(code, 553)
        self.assertIn(b"5.7.1", text)
        self.assertIn(b"not owned by user bob@example.org", text)
        s.rset()
        code, text = s.mail("bob.alias@example.org")
        self.assertEqual(code, 250, text)
        s.rset()
        code, text = s.mail("")
        self.assertEqual(code, 250, text)
        s.quit()

    def test_authenticated_relay_is_queued(self):
        s = self.f.smtps()
        s.login("bob@example.org", "bob-secret")
        refused = s.sendmail("bob@example.org",
                             ["friend@remote.test.invalid"],
                             b"Subject: out\r\n\r\nto the world\r\n")
        self.assertEqual(refused, {})
        s.quit()
        self.assertTrue(wait_for(lambda: re.search(
            r"smtp queued id=\S+ from=<bob@example\.org> rcpts=1",
            self.f.log()), 5), self.f.log()[-2000:])

    def test_bounce_comes_back_to_local_sender(self):
        # the queue cannot resolve this domain: its bounce reaches bob's
        # Maildir through smtp_deliver_local (Return-Path <>)
        before = len(self.f.messages("alice@example.org"))
        s = self.f.smtps()
        s.login("alice@example.org", "alice-secret")
        s.sendmail("alice@example.org", ["nobody@nowhere.test.invalid"],
                   b"Subject: will bounce\r\n\r\nbye\r\n")
        s.quit()
        names = self.f.wait_messages("alice@example.org", before + 1,
                                     timeout=30)
        self.assertTrue(names, self.f.log()[-3000:])
        data = b"".join(self.f.read_message("alice@example.org", n)
                        for n in names)
        self.assertIn(b"Return-Path: <>\n", data)
        self.assertIn(b"Delivered-To: alice@example.org\n", data)
        self.assertIn(b"nobody@nowhere.test.invalid", data)

    def test_unauthenticated_relay_on_25(self):
        s = self.f.smtp()
        s.mail("bob@example.org")
        code, text = s.rcpt("friend@remote.test.invalid")
        self.assertEqual(code, 554)
        self.assertIn(b"Relay access denied", text)
        s.quit()

    def test_port_25_never_offers_auth(self):
        s = self.f.smtp_tls("smtp")
        self.assertNotIn("auth", s.esmtp_features)
        code, text = s.docmd("AUTH", "PLAIN " + b64("\0bob@example.org\0"
                                                     "bob-secret"))
        self.assertEqual(code, 503)
        s.quit()


if __name__ == "__main__":
    unittest.main()


class SmtpAuthThrottle(unittest.TestCase):
    """Its own server: the throttle is per process, and this test makes
    127.0.0.1 look like an attacker."""

    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("smtp_throttle")
        cls.f.start()
        cls.f.add_domain("example.org")
        cls.f.add_user("victim@example.org", "right-password")

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()

    def login(self, password):
        s = self.f.smtps()
        try:
            s.login("victim@example.org", password)
            return 235
        except smtplib.SMTPAuthenticationError as e:
            return e.smtp_code
        finally:
            s.close()

    def test_blocked_after_failures(self):
        codes = [self.login("wrong-%d" % i) for i in range(12)]
        self.assertEqual(codes[0], 535)
        self.assertIn(454, codes, codes)
        # blocked: even the right password is refused for now
        self.assertEqual(self.login("right-password"), 454)
        self.assertRegex(self.f.log(), r'smtp auth result=blocked '
                         r'user="victim@example\.org" address=127\.0\.0\.1')
