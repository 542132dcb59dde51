"""SMTP on port 25 (MX): real clients (smtplib, swaks, raw sockets)
against the real binary and MariaDB. Checks what reaches the Maildir byte
for byte, the no-open-relay rules, SMTP smuggling and STARTTLS injection,
aliases, catch-all, quota, size limits, pipelining and BDAT."""
import os
import re
import smtplib
import socket
import ssl
import subprocess
import time
import unittest

from fixture import Facteur, LineClient, wait_for

HOST = "mx.test.invalid"
SIZE_LIMIT = 1000000


def lf(b):
    return b.replace(b"\r\n", b"\n")


class SmtpInbound(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("smtp_in", message_size_limit=SIZE_LIMIT,
                        smtp_max_recipients=6, smtp_max_errors=10)
        cls.f.start()
        f = cls.f
        f.add_domain("example.org")
        f.add_domain("other.example")
        f.add_user("bob@example.org", "bob-secret")
        f.add_user("alice@example.org", "alice-secret")
        f.add_user("carol@example.org", "carol-secret", quota=2000)
        f.add_user("dave@other.example", "dave-secret")
        f.add_user("erin@example.org", "erin-secret")
        f.add_user("frank@example.org", "frank-secret")
        f.add_alias("info@example.org", "bob@example.org")
        f.add_alias("info@example.org", "alice@example.org")
        f.add_alias("fwd@example.org", "someone@remote.test.invalid")
        f.add_alias("@other.example", "alice@example.org")

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()

    # -- helpers -------------------------------------------------------
    def client(self, port="smtp"):
        c = LineClient(self.f.raw(port))
        code, text = c.smtp_reply()
        self.assertEqual(code, 220)
        return c

    def cmd(self, c, line, want=None):
        c.send(line + "\r\n")
        code, text = c.smtp_reply()
        if want is not None:
            self.assertEqual(code, want, "%s -> %d %s" % (line, code, text))
        return code, text

    def rcpt_reply(self, rcpt, port="smtp"):
        c = self.client(port)
        try:
            self.cmd(c, "EHLO client.test.invalid", 250)
            self.cmd(c, "MAIL FROM:<sender@remote.test.invalid>", 250)
            return self.cmd(c, "RCPT TO:%s" % rcpt)
        finally:
            c.close()

    def count(self, email):
        return len(self.f.messages(email))

    def newest(self, email, before):
        names = self.f.wait_messages(email, before + 1)
        self.assertTrue(names, "no new message for %s; log:\n%s"
                        % (email, self.f.log()[-3000:]))
        new = [n for n in names]
        # the newest: highest seconds.microseconds prefix
        new.sort(key=lambda n: (int(n.split(".")[0]),
                                int(n.split(".")[1][1:].split("P")[0])))
        return new[-1]

    def queue_files(self):
        out = []
        for root, dirs, files in os.walk(self.f.queue_dir):
            out += [os.path.join(root, x) for x in files]
        return out

    # -- greeting and EHLO ---------------------------------------------
    def test_greeting_and_ehlo(self):
        c = LineClient(self.f.raw())
        code, text = c.smtp_reply()
        self.assertEqual(code, 220)
        self.assertEqual(text, "%s ESMTP facteur" % HOST)
        code, text = self.cmd(c, "EHLO client.test.invalid", 250)
        lines = text.split("\n")
        self.assertEqual(lines[0], HOST)
        for ext in ("PIPELINING", "SIZE %d" % SIZE_LIMIT, "8BITMIME",
                    "ENHANCEDSTATUSCODES", "STARTTLS", "SMTPUTF8",
                    "CHUNKING"):
            self.assertIn(ext, lines)
        self.assertFalse([l for l in lines if l.startswith("AUTH")],
                         "port 25 must not offer AUTH")
        self.cmd(c, "HELO client.test.invalid", 250)
        code, text = self.cmd(c, "VRFY bob@example.org", 252)
        self.cmd(c, "EXPN staff", 502)
        self.cmd(c, "HELP", 214)
        self.cmd(c, "NOOP", 250)
        code, text = self.cmd(c, "AUTH PLAIN AGJvYgBib2Itc2VjcmV0", 503)
        self.cmd(c, "QUIT", 221)
        c.close()

    def test_order_and_syntax_errors(self):
        c = self.client()
        code, text = self.cmd(c, "MAIL FROM:<a@remote.test.invalid>", 503)
        self.assertIn("5.5.1", text)
        self.cmd(c, "EHLO x", 250)
        self.cmd(c, "RCPT TO:<bob@example.org>", 503)
        self.cmd(c, "DATA", 503)
        code, text = self.cmd(c, "FOO BAR", 500)
        self.assertIn("5.5.2", text)
        code, text = self.cmd(c, "MAIL FROM:<bad address>", 501)
        self.assertIn("5.1.7", text)
        code, text = self.cmd(c, "MAIL FROM:<a@remote.test.invalid> X=Y", 555)
        self.cmd(c, "MAIL FROM:<a@remote.test.invalid>", 250)
        self.cmd(c, "MAIL FROM:<a@remote.test.invalid>", 503)
        code, text = self.cmd(c, "DATA", 554)   # no valid recipients
        self.cmd(c, "RSET", 250)
        self.cmd(c, "QUIT", 221)
        c.close()

    def test_line_too_long(self):
        c = self.client()
        self.cmd(c, "EHLO x", 250)
        code, text = self.cmd(c, "NOOP " + "x" * 600, 500)
        self.assertIn("5.5.2", text)
        # a huge line is swallowed to its end; the session goes on
        code, text = self.cmd(c, "NOOP " + "y" * 100000, 500)
        self.cmd(c, "NOOP", 250)
        self.cmd(c, "QUIT", 221)
        c.close()

    def test_too_many_errors(self):
        c = self.client()
        code = None
        for i in range(20):
            c.send("BOGUS%d\r\n" % i)
            code, text = c.smtp_reply()
            if code == 421:
                break
        self.assertEqual(code, 421)
        self.assertIn("4.7.0", text)
        try:
            self.assertEqual(c.line(), b"")   # closed
        except ConnectionResetError:
            pass    # closed too: the 421 has been read already
        c.close()

    def test_harvest_tarpit_and_cut_off(self):
        # refused recipients are errors: past half the limit each costs
        # a second, at the limit the session ends
        c = self.client()
        self.cmd(c, "EHLO harvest.test.invalid", 250)
        self.cmd(c, "MAIL FROM:<h@remote.test.invalid>", 250)
        t0 = time.time()
        codes = []
        for i in range(12):
            c.send("RCPT TO:<guess%d@example.org>\r\n" % i)
            code, text = c.smtp_reply()
            codes.append(code)
            if code == 421:
                break
        self.assertEqual(codes[-1], 421, codes)
        self.assertEqual(codes[:-1], [550] * 10)
        self.assertGreaterEqual(time.time() - t0, 4.0)
        c.close()

    # -- delivery, byte for byte ----------------------------------------
    def test_smtplib_plain_exact_bytes(self):
        before = self.count("bob@example.org")
        body = (b"From: Sender <sender@remote.test.invalid>\r\n"
                b"To: bob@example.org\r\n"
                b"Subject: exact\r\n"
                b"\r\n"
                b"line one\r\n"
                b".leading dot\r\n"
                b"\r\n"
                b"8bit: \xc3\xa9t\xc3\xa9 \xff\xfe\r\n"
                b"last line\r\n")
        s = self.f.smtp()
        s.sendmail("sender@remote.test.invalid", ["bob@example.org"], body,
                   mail_options=["BODY=8BITMIME"])
        s.quit()
        name = self.newest("bob@example.org", before)
        data = self.f.read_message("bob@example.org", name)
        m = re.match(
            rb"Return-Path: <sender@remote\.test\.invalid>\n"
            rb"Delivered-To: bob@example\.org\n"
            rb"Received: from client\.test\.invalid \(\[127\.0\.0\.1\]\)\n"
            rb"\tby mx\.test\.invalid \(facteur\) with ESMTP id "
            rb"([0-9a-f]{16}-\d+)\n"
            rb"\tfor <bob@example\.org>; "
            rb"[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} "
            rb"\d\d:\d\d:\d\d [+-]\d{4}\n"
            # port 25 adds our SPF/DKIM/DMARC verdict (RFC 8601)
            rb"Authentication-Results: mx\.test\.invalid;\n(?:\t.*\n)*", data)
        self.assertIsNotNone(m, data[:600])
        self.assertEqual(data[m.end():], lf(body))
        self.assertNotIn(b"\r", data)
        size = len(data)
        vsize = size + data.count(b"\n")
        self.assertIn(",S=%d,W=%d" % (size, vsize), name)

    def test_swaks(self):
        before = self.count("alice@example.org")
        p = subprocess.run(
            ["swaks", "--server", "127.0.0.1",
             "--port", str(self.f.ports["smtp"]),
             "--from", "swaks@remote.test.invalid",
             "--to", "alice@example.org", "--helo", "swaks.test.invalid",
             "--header", "Subject: via swaks", "--body", "hello from swaks",
             "--tls"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        name = self.newest("alice@example.org", before)
        data = self.f.read_message("alice@example.org", name)
        self.assertIn(b"Subject: via swaks", data)
        self.assertIn(b"hello from swaks", data)
        self.assertIn(b"with ESMTPS id", data)
        self.assertRegex(data, rb"\(using TLSv1\.[23] with cipher \S+ "
                               rb"\(\d+/\d+ bits\)\)")

    def test_starttls_smtplib(self):
        before = self.count("bob@example.org")
        s = self.f.smtp_tls("smtp")
        self.assertNotIn("starttls", s.esmtp_features)
        self.assertNotIn("auth", s.esmtp_features)   # never on 25
        s.sendmail("tls@remote.test.invalid", ["bob@example.org"],
                   b"Subject: tls\r\n\r\nsecret\r\n")
        s.quit()
        name = self.newest("bob@example.org", before)
        data = self.f.read_message("bob@example.org", name)
        self.assertIn(b"with ESMTPS id", data)
        self.assertIn(b"using TLSv1.", data)
        log = self.f.log()
        self.assertRegex(log, r"smtp tls address=127\.0\.0\.1 version=TLSv1")

    def test_long_lines_kept(self):
        before = self.count("bob@example.org")
        long_line = b"x" * 5000
        body = b"Subject: long\r\n\r\n" + long_line + b"\r\nend\r\n"
        self.f.deliver("bob@example.org", body)
        name = self.newest("bob@example.org", before)
        data = self.f.read_message("bob@example.org", name)
        self.assertTrue(data.endswith(b"\n\n" + long_line + b"\nend\n"))

    def test_large_message_exact(self):
        # beyond the in-memory part: the content goes through the spool
        before = self.count("bob@example.org")
        lines = [b"line %06d " % i + bytes(range(0x80, 0x80 + i % 100))
                 for i in range(9000)]
        body = (b"Subject: large\r\n\r\n" + b"\r\n".join(lines) +
                b"\r\n")
        self.assertGreater(len(body), 500000)
        s = self.f.smtp()
        s.sendmail("big@remote.test.invalid", ["bob@example.org"], body)
        s.quit()
        name = self.newest("bob@example.org", before)
        data = self.f.read_message("bob@example.org", name)
        self.assertTrue(data.endswith(b"\n\n" + lf(body)[len(b"Subject: "
                        b"large\n\n"):]))
        self.assertIn(b"\nSubject: large\n\nline 000000 \n", data)

    def test_large_bdat_exact(self):
        before = self.count("bob@example.org")
        body = b"Subject: big bdat\r\n\r\n" + (b"0123456789" * 99 +
                                                 b"\r\n") * 700
        c = self.client()
        self.cmd(c, "EHLO chunk.test.invalid", 250)
        self.cmd(c, "MAIL FROM:<c@remote.test.invalid>", 250)
        self.cmd(c, "RCPT TO:<bob@example.org>", 250)
        step = 100001
        for off in range(0, len(body), step):
            part = body[off:off + step]
            last = off + step >= len(body)
            c.send(b"BDAT %d%s\r\n" % (len(part), b" LAST" if last else b"")
                   + part)
            code, text = c.smtp_reply()
            self.assertEqual(code, 250, text)
        self.cmd(c, "QUIT", 221)
        c.close()
        name = self.newest("bob@example.org", before)
        self.assertTrue(self.f.read_message("bob@example.org", name)
                        .endswith(b"\n" + lf(body)))

    def test_multiple_recipients_one_copy_each(self):
        b0 = self.count("bob@example.org")
        a0 = self.count("alice@example.org")
        s = self.f.smtp()
        s.sendmail("multi@remote.test.invalid",
                   ["bob@example.org", "alice@example.org",
                    "BOB@example.org"], b"Subject: multi\r\n\r\nhi\r\n")
        s.quit()
        nb = self.newest("bob@example.org", b0)
        na = self.newest("alice@example.org", a0)
        self.assertEqual(self.count("bob@example.org"), b0 + 1)
        db = self.f.read_message("bob@example.org", nb)
        da = self.f.read_message("alice@example.org", na)
        self.assertIn(b"Delivered-To: bob@example.org\n", db)
        self.assertIn(b"Delivered-To: alice@example.org\n", da)
        self.assertNotIn(b"\tfor <", db)   # several recipients: no "for"

    def test_partial_temporary_failure_is_451(self):
        # one mailbox cannot be written: the one DATA reply must be 451 so
        # the client retries (the other mailbox then gets a duplicate,
        # the lesser evil); nothing is lost
        self.f.deliver("frank@example.org", "Subject: init\r\n\r\nx\r\n")
        self.assertTrue(self.f.wait_messages("frank@example.org", 1))
        e0 = self.count("erin@example.org")
        f0 = self.count("frank@example.org")
        tmp = os.path.join(self.f.maildir("frank@example.org"), "tmp")
        os.chmod(tmp, 0)
        try:
            s = self.f.smtp()
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                s.sendmail("p@remote.test.invalid",
                           ["erin@example.org", "frank@example.org"],
                           b"Subject: partial\r\n\r\nx\r\n")
            self.assertEqual(cm.exception.smtp_code, 451)
            self.assertIn(b"4.3.0", cm.exception.smtp_error)
            s.quit()
        finally:
            os.chmod(tmp, 0o700)
        self.assertEqual(self.count("erin@example.org"), e0 + 1)
        self.assertEqual(self.count("frank@example.org"), f0)
        # the retry reaches both
        self.f.deliver(["erin@example.org", "frank@example.org"],
                       "Subject: partial\r\n\r\nx\r\n")
        self.assertEqual(self.count("erin@example.org"), e0 + 2)
        self.assertEqual(self.count("frank@example.org"), f0 + 1)

    # -- pipelining -------------------------------------------------------
    def test_pipelining_one_write(self):
        before = self.count("bob@example.org")
        c = self.client()
        c.send("EHLO pipe.test.invalid\r\n"
               "MAIL FROM:<pipe@remote.test.invalid>\r\n"
               "RCPT TO:<bob@example.org>\r\n"
               "RCPT TO:<nobody@example.org>\r\n"
               "RCPT TO:<x@remote.test.invalid>\r\n"
               "DATA\r\n")
        codes = [c.smtp_reply()[0] for _ in range(6)]
        self.assertEqual(codes, [250, 250, 250, 550, 554, 354])
        c.send("Subject: piped\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        self.assertEqual(c.smtp_reply()[0], 250)
        self.assertEqual(c.smtp_reply()[0], 221)
        c.close()
        name = self.newest("bob@example.org", before)
        self.assertTrue(self.f.read_message("bob@example.org", name)
                        .endswith(b"Subject: piped\n\nbody\n"))

    # -- STARTTLS injection (CVE-2011-0411 style) -----------------------
    def test_starttls_injection(self):
        sock = self.f.raw()
        c = LineClient(sock)
        self.assertEqual(c.smtp_reply()[0], 220)
        self.cmd(c, "EHLO inject.test.invalid", 250)
        c.send("STARTTLS\r\nRSET\r\nMAIL FROM:<evil@remote.test.invalid>\r\n")
        code, text = c.smtp_reply()
        self.assertEqual(code, 220)
        self.assertEqual(c.buf, b"", "server answered plaintext after 220")
        tls = self.f.ssl_context().wrap_socket(sock,
                                               server_hostname="localhost")
        t = LineClient(tls)
        # the first reply inside TLS must be to our EHLO, not to RSET
        t.send("EHLO inject.test.invalid\r\n")
        code, text = t.smtp_reply()
        self.assertEqual(code, 250)
        self.assertEqual(text.split("\n")[0], HOST)
        self.assertNotIn("STARTTLS", text.split("\n"))
        # and the injected MAIL did not start a transaction
        self.cmd(t, "RCPT TO:<bob@example.org>", 503)
        self.cmd(t, "QUIT", 221)
        t.close()
        self.assertIn("plaintext pipelined after STARTTLS", self.f.log())

    def test_state_reset_after_starttls(self):
        sock = self.f.raw()
        c = LineClient(sock)
        c.smtp_reply()
        self.cmd(c, "EHLO a.test.invalid", 250)
        self.cmd(c, "STARTTLS", 220)
        tls = self.f.ssl_context().wrap_socket(sock,
                                               server_hostname="localhost")
        t = LineClient(tls)
        # EHLO must be sent again
        self.cmd(t, "MAIL FROM:<a@remote.test.invalid>", 503)
        self.cmd(t, "EHLO a.test.invalid", 250)
        self.cmd(t, "STARTTLS", 554)
        self.cmd(t, "QUIT", 221)
        t.close()

    def test_tls12_minimum(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            ctx.set_ciphers("ALL:@SECLEVEL=0")
        except (ValueError, ssl.SSLError):
            self.skipTest("local OpenSSL cannot offer TLS 1.1")
        sock = self.f.raw()
        c = LineClient(sock)
        c.smtp_reply()
        self.cmd(c, "EHLO old.test.invalid", 250)
        self.cmd(c, "STARTTLS", 220)
        with self.assertRaises((ssl.SSLError, OSError)):
            ctx.wrap_socket(sock, server_hostname="localhost")
        sock.close()

    # -- smuggling --------------------------------------------------------
    def smuggle(self, sep):
        before = self.count("bob@example.org")
        c = self.client()
        self.cmd(c, "EHLO smuggler.test.invalid", 250)
        self.cmd(c, "MAIL FROM:<a@remote.test.invalid>", 250)
        self.cmd(c, "RCPT TO:<bob@example.org>", 250)
        self.cmd(c, "DATA", 354)
        c.send(b"Subject: outer\r\n\r\nhello" + sep +
               b"MAIL FROM:<admin@example.org>\r\n"
               b"RCPT TO:<bob@example.org>\r\n"
               b"DATA\r\n"
               b"Subject: smuggled\r\n\r\nevil\r\n.\r\n")
        code, text = c.smtp_reply()
        # one reply for the whole thing: the real end is the last CRLF.CRLF
        self.assertEqual(code, 550, text)
        self.assertIn("5.5.2", text)
        self.cmd(c, "NOOP", 250)
        self.cmd(c, "QUIT", 221)
        c.close()
        time.sleep(0.2)
        self.assertEqual(self.count("bob@example.org"), before)

    def test_smuggling_lf_dot_lf(self):
        self.smuggle(b"\n.\n")

    def test_smuggling_lf_dot_crlf(self):
        self.smuggle(b"\n.\r\n")

    def test_smuggling_crlf_dot_lf(self):
        self.smuggle(b"\r\n.\n")

    def test_smuggling_cr_dot_crlf(self):
        self.smuggle(b"\r.\r\n")

    def test_smuggling_cr_dot_cr(self):
        self.smuggle(b"\r.\r")

    def test_bare_lf_normalised(self):
        before = self.count("bob@example.org")
        c = self.client()
        self.cmd(c, "EHLO lf.test.invalid", 250)
        self.cmd(c, "MAIL FROM:<a@remote.test.invalid>", 250)
        self.cmd(c, "RCPT TO:<bob@example.org>", 250)
        self.cmd(c, "DATA", 354)
        c.send(b"Subject: lf\n\nline1\nline2\r\n..dot\n.\r\n")
        # "\n.\r\n" is no end: keep going to the real one
        c.send(b"tail\r\n.\r\n")
        code, text = c.smtp_reply()
        self.assertEqual(code, 550)   # the "\n.\r\n" lookalike is refused
        self.cmd(c, "MAIL FROM:<a@remote.test.invalid>", 250)
        self.cmd(c, "RCPT TO:<bob@example.org>", 250)
        self.cmd(c, "DATA", 354)
        c.send(b"Subject: lf\n\nline1\nline2\r\n..dot\nend\r\n.\r\n")
        self.assertEqual(c.smtp_reply()[0], 250)
        self.cmd(c, "QUIT", 221)
        c.close()
        name = self.newest("bob@example.org", before)
        self.assertTrue(self.f.read_message("bob@example.org", name)
                        .endswith(b"\nSubject: lf\n\nline1\nline2\n.dot\n"
                                  b"end\n"))

    # -- relay ------------------------------------------------------------
    def test_no_open_relay(self):
        q0 = self.queue_files()
        for rcpt in ("<user@remote.test.invalid>",
                     "<user%remote.test.invalid@example.org>",
                     "<remote.test.invalid!user@example.org>",
                     "<@example.org:user@remote.test.invalid>",
                     "<@remote.test.invalid:bob@example.org>",
                     '<"user@remote.test.invalid"@example.org>',
                     '<"user%remote.test.invalid"@example.org>',
                     "<bob@[127.0.0.1]>",
                     "<bob@[IPv6:::1]>",
                     "user@remote.test.invalid"):
            code, text = self.rcpt_reply(rcpt)
            self.assertEqual(code, 554, "%s -> %d %s" % (rcpt, code, text))
            self.assertIn("5.7.1", text)
            self.assertIn("Relay access denied", text)
        self.assertEqual(self.queue_files(), q0)
        self.assertRegex(self.f.log(), r"smtp rcpt result=reject "
                         r"from=<sender@remote\.test\.invalid> "
                         r"to=<user@remote\.test\.invalid>")

    def test_unknown_user(self):
        code, text = self.rcpt_reply("<nobody@example.org>")
        self.assertEqual(code, 550)
        self.assertIn("5.1.1", text)

    def test_postmaster_without_domain_is_accepted_syntax(self):
        code, text = self.rcpt_reply("<postmaster>")
        # our hostname is not a local domain here: refused, but cleanly
        self.assertIn(code, (250, 550, 554))

    # -- aliases ----------------------------------------------------------
    def test_alias_fan_out(self):
        b0 = self.count("bob@example.org")
        a0 = self.count("alice@example.org")
        self.f.deliver("info@example.org", "Subject: to info\r\n\r\nhi\r\n")
        nb = self.newest("bob@example.org", b0)
        na = self.newest("alice@example.org", a0)
        db = self.f.read_message("bob@example.org", nb)
        da = self.f.read_message("alice@example.org", na)
        self.assertIn(b"Delivered-To: bob@example.org\n", db)
        self.assertIn(b"Delivered-To: alice@example.org\n", da)
        self.assertIn(b"for <info@example.org>", db)

    def test_catch_all_and_own_address(self):
        a0 = self.count("alice@example.org")
        d0 = self.count("dave@other.example")
        self.f.deliver("random@other.example", "Subject: c\r\n\r\ncatch\r\n")
        na = self.newest("alice@example.org", a0)
        self.assertIn(b"catch", self.f.read_message("alice@example.org", na))
        self.assertEqual(self.count("dave@other.example"), d0)
        self.f.deliver("dave@other.example", "Subject: d\r\n\r\nfor dave\r\n")
        nd = self.newest("dave@other.example", d0)
        self.assertIn(b"for dave",
                      self.f.read_message("dave@other.example", nd))
        self.assertEqual(self.count("alice@example.org"), a0 + 1)

    def test_alias_to_remote_is_queued(self):
        q0 = len(self.queue_files())
        self.f.deliver("fwd@example.org", "Subject: fwd\r\n\r\nforward\r\n")
        self.assertTrue(wait_for(lambda: "smtp queued" in self.f.log(), 5),
                        self.f.log()[-2000:])

    # -- quota and size -----------------------------------------------------
    def test_quota(self):
        # declared size over the quota: refused at RCPT
        s = self.f.smtp()
        s.mail("q@remote.test.invalid", ["SIZE=5000"])
        code, text = s.rcpt("carol@example.org")
        self.assertEqual(code, 552, text)
        self.assertIn(b"5.2.2", text)
        s.quit()
        # no SIZE given: the delivery itself enforces the quota (552), or
        # takes the message that crosses it; then RCPT refuses
        c = self.client()
        self.cmd(c, "EHLO q.test.invalid", 250)
        self.cmd(c, "MAIL FROM:<q@remote.test.invalid>", 250)
        self.cmd(c, "RCPT TO:<carol@example.org>", 250)
        self.cmd(c, "DATA", 354)
        c.send(b"Subject: fill\r\n\r\n" + b"y" * 3000 + b"\r\n.\r\n")
        code, text = c.smtp_reply()
        self.assertIn(code, (250, 552), text)
        if code == 552:
            self.assertIn("5.2.2", text)
            self.assertEqual(self.count("carol@example.org"), 0)
        else:
            self.cmd(c, "MAIL FROM:<q@remote.test.invalid>", 250)
            code, text = self.cmd(c, "RCPT TO:<carol@example.org>")
            self.assertEqual(code, 552, text)
            self.assertIn("5.2.2", text)
        self.cmd(c, "QUIT", 221)
        c.close()

    def test_size_declared(self):
        c = self.client()
        self.cmd(c, "EHLO s.test.invalid", 250)
        code, text = self.cmd(c, "MAIL FROM:<s@remote.test.invalid> SIZE=%d"
                              % (SIZE_LIMIT + 1))
        self.assertEqual(code, 552)
        self.assertIn("5.3.4", text)
        self.cmd(c, "QUIT", 221)
        c.close()

    def test_size_actual(self):
        before = self.count("bob@example.org")
        c = self.client()
        self.cmd(c, "EHLO s.test.invalid", 250)
        self.cmd(c, "MAIL FROM:<s@remote.test.invalid>", 250)
        self.cmd(c, "RCPT TO:<bob@example.org>", 250)
        self.cmd(c, "DATA", 354)
        line = b"z" * 998 + b"\r\n"
        c.send(b"Subject: big\r\n\r\n" + line * (SIZE_LIMIT // 1000 + 50)
               + b".\r\n")
        code, text = c.smtp_reply()
        self.assertEqual(code, 552)
        self.assertIn("5.3.4", text)
        self.cmd(c, "NOOP", 250)   # read to the end: still in sync
        self.cmd(c, "QUIT", 221)
        c.close()
        time.sleep(0.2)
        self.assertEqual(self.count("bob@example.org"), before)

    def test_too_many_recipients(self):
        c = self.client()
        self.cmd(c, "EHLO r.test.invalid", 250)
        self.cmd(c, "MAIL FROM:<r@remote.test.invalid>", 250)
        for i in range(6):
            self.cmd(c, "RCPT TO:<bob@example.org>", 250)
        code, text = self.cmd(c, "RCPT TO:<bob@example.org>", 452)
        self.assertIn("4.5.3", text)
        self.cmd(c, "QUIT", 221)
        c.close()

    # -- BDAT ---------------------------------------------------------------
    def test_bdat(self):
        before = self.count("bob@example.org")
        c = self.client()
        self.cmd(c, "EHLO chunk.test.invalid", 250)
        self.cmd(c, "MAIL FROM:<c@remote.test.invalid> BODY=8BITMIME", 250)
        self.cmd(c, "RCPT TO:<bob@example.org>", 250)
        p1 = b"Subject: chunked\r\n\r\nfirst part\r"
        p2 = b"\n.second\r\n\xe9t\xe9\r\n"
        c.send(b"BDAT %d\r\n" % len(p1) + p1)
        code, text = c.smtp_reply()
        self.assertEqual(code, 250, text)
        c.send(b"BDAT %d LAST\r\n" % len(p2) + p2 + b"NOOP\r\n")
        self.assertEqual(c.smtp_reply()[0], 250)
        self.assertEqual(c.smtp_reply()[0], 250)   # the NOOP after it
        self.cmd(c, "QUIT", 221)
        c.close()
        name = self.newest("bob@example.org", before)
        self.assertTrue(self.f.read_message("bob@example.org", name).endswith(
            b"\nSubject: chunked\n\nfirst part\n.second\n\xe9t\xe9\n"))

    def test_bdat_without_transaction_is_skipped(self):
        c = self.client()
        self.cmd(c, "EHLO chunk.test.invalid", 250)
        # the chunk holds something that looks like commands: it must be
        # read and dropped, never executed
        payload = b"MAIL FROM:<x@y.invalid>\r\n"
        c.send(b"BDAT %d\r\n" % len(payload) + payload)
        code, text = c.smtp_reply()
        self.assertEqual(code, 503)
        self.cmd(c, "RCPT TO:<bob@example.org>", 503)
        self.cmd(c, "QUIT", 221)
        c.close()

    def test_bdat_over_limit(self):
        c = self.client()
        self.cmd(c, "EHLO chunk.test.invalid", 250)
        self.cmd(c, "MAIL FROM:<c@remote.test.invalid>", 250)
        self.cmd(c, "RCPT TO:<bob@example.org>", 250)
        big = b"a" * (SIZE_LIMIT + 10)
        c.send(b"BDAT %d LAST\r\n" % len(big) + big)
        code, text = c.smtp_reply()
        self.assertEqual(code, 552)
        self.cmd(c, "NOOP", 250)
        self.cmd(c, "QUIT", 221)
        c.close()

    # -- SMTPUTF8, HELO, loops ----------------------------------------
    def test_smtputf8(self):
        before = self.count("bob@example.org")
        c = self.client()
        self.cmd(c, "EHLO utf8.test.invalid", 250)
        code, text = self.cmd(c, "MAIL FROM:<j\u00f6rg@remote.test.invalid>")
        self.assertEqual(code, 553)
        self.assertIn("5.6.7", text)
        self.cmd(c, "MAIL FROM:<j\u00f6rg@remote.test.invalid> SMTPUTF8 "
                 "BODY=8BITMIME", 250)
        self.cmd(c, "RCPT TO:<bob@example.org>", 250)
        self.cmd(c, "DATA", 354)
        c.send("From: J\u00f6rg <j\u00f6rg@remote.test.invalid>\r\n"
               "Subject: \u00e9t\u00e9\r\n\r\nh\u00e9\r\n.\r\n")
        self.assertEqual(c.smtp_reply()[0], 250)
        self.cmd(c, "QUIT", 221)
        c.close()
        name = self.newest("bob@example.org", before)
        data = self.f.read_message("bob@example.org", name)
        self.assertIn("Return-Path: <j\u00f6rg@remote.test.invalid>\n"
                      .encode(), data)
        self.assertIn(b"with UTF8SMTP id", data)
        self.assertTrue(data.endswith("Subject: \u00e9t\u00e9\n\nh\u00e9\n"
                                      .encode()))

    def test_helo_gives_smtp(self):
        before = self.count("bob@example.org")
        s = self.f.smtp(ehlo=False)
        s.helo("old.test.invalid")
        s.sendmail("old@remote.test.invalid", ["bob@example.org"],
                   b"Subject: helo\r\n\r\nx\r\n")
        s.quit()
        name = self.newest("bob@example.org", before)
        data = self.f.read_message("bob@example.org", name)
        self.assertIn(b"Received: from old.test.invalid ([127.0.0.1])\n"
                      b"\tby mx.test.invalid (facteur) with SMTP id ", data)

    def test_mail_loop_refused(self):
        before = self.count("bob@example.org")
        hops = b"".join(b"Received: from h%d by h%d; "
                        b"Thu, 1 Jan 2026 00:00:00 +0000\r\n" % (i, i)
                        for i in range(50))
        s = self.f.smtp()
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            s.sendmail("loop@remote.test.invalid", ["bob@example.org"],
                       hops + b"Subject: loop\r\n\r\nx\r\n")
        self.assertEqual(cm.exception.smtp_code, 554)
        self.assertIn(b"5.4.6", cm.exception.smtp_error)
        s.quit()
        self.assertEqual(self.count("bob@example.org"), before)

    # -- logs -----------------------------------------------------------
    def test_log_lines(self):
        self.f.deliver("bob@example.org", "Subject: log\r\n\r\nx\r\n")
        log = self.f.log()
        self.assertRegex(log, r"[0-9a-f]{16} smtp connect address=127\.0\.0\.1")
        self.assertRegex(log, r"[0-9a-f]{16} smtp delivered id=\S+ "
                         r"from=<sender@remote\.test\.invalid> "
                         r"to=<bob@example\.org> size=\d+ file=\S+")
        self.assertTrue(wait_for(lambda: re.search(
            r"smtp disconnect address=127\.0\.0\.1 reason=quit commands=\d+",
            self.f.log()), 5))


if __name__ == "__main__":
    unittest.main()


class SmtpConnectionLimit(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("smtp_limit", max_connections_per_ip=2)
        cls.f.start()

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()

    def test_over_limit_421(self):
        held = []
        time.sleep(1.0)   # let the start-up port probes finish
        try:
            for i in range(2):
                c = LineClient(self.f.raw())
                self.assertEqual(c.smtp_reply()[0], 220)
                held.append(c)
            c = LineClient(self.f.raw())
            held.append(c)
            code, text = c.smtp_reply()
            self.assertEqual(code, 421)
            self.assertIn("4.7.0", text)
            self.assertEqual(c.line(), b"")
        finally:
            for c in held:
                c.close()
