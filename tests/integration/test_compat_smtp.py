"""SMTP compatibility: facteur against RFC 5321/5322/1870/2920/3030/3207/
3848/4954/6152/6531/2034 and what Postfix answers, as an external test
suite or a picky client would see it. Raw sessions (LineClient) so that
every reply code and enhanced status code is checked exactly.

Where facteur deliberately differs from Postfix's defaults the test
says so; docs/compat.md lists those choices.
"""
import base64
import os
import re
import socket
import ssl
import unittest

from fixture import Facteur, LineClient, wait_for

HOST = "mx.example.org"


class Sess:
    """One raw SMTP session: cmd() sends a line, returns (code, text)."""

    def __init__(self, f, kind="smtp", tls=False):
        sock = f.raw(kind)
        if tls:
            sock = f.ssl_context().wrap_socket(sock,
                                               server_hostname="localhost")
        self.f = f
        self.c = LineClient(sock)
        self.greeting = self.c.smtp_reply()

    def cmd(self, line):
        if isinstance(line, str):
            line = line.encode()
        self.c.send(line + b"\r\n")
        return self.c.smtp_reply()

    def send(self, data):
        self.c.send(data)

    def reply(self):
        return self.c.smtp_reply()

    def starttls(self):
        code, _ = self.cmd("STARTTLS")
        assert code == 220, code
        self.c.sock = self.f.ssl_context().wrap_socket(
            self.c.sock, server_hostname="localhost")
        self.c.buf = b""

    def close(self):
        self.c.close()


def esc(text):
    """The enhanced status code of a reply text ("2.1.0"), or None."""
    m = re.match(r"(\d\.\d{1,3}\.\d{1,3}) ", text)
    return m.group(1) if m else None


class SmtpCompat(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # a high error limit: the tarpit (1 s per error past half of it)
        # would otherwise make the error-path tests slow
        cls.f = Facteur("compat_smtp", hostname=HOST, smtp_max_errors=1000)
        cls.f.start()
        cls.f.add_domain("example.org")
        cls.f.add_domain("other.test")
        cls.f.add_user("bob@example.org", "secret")
        cls.f.add_user("carol@other.test", "secret")
        cls.f.add_alias("postmaster@example.org", "bob@example.org")

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()

    def sess(self, kind="smtp", ehlo=True, tls=False):
        s = Sess(self.f, kind, tls)
        self.addCleanup(s.close)
        if ehlo:
            code, _ = s.cmd("EHLO client.example.net")
            self.assertEqual(code, 250)
        return s

    def expect(self, s, line, code, enh=None):
        got, text = s.cmd(line)
        self.assertEqual(got, code, "%r -> %d %s" % (line, got, text))
        if enh is not None:
            self.assertEqual(esc(text), enh, "%r -> %d %s" % (line, got,
                                                              text))
        return text

    def count(self, email="bob@example.org"):
        """The names in new/ now (pass to last_message as before)."""
        return set(self.f.messages(email))

    def last_message(self, email="bob@example.org", before=()):
        """The one message delivered since count() gave before."""
        new = wait_for(lambda: set(self.f.messages(email)) - before)
        self.assertEqual(len(new), 1, "expected one new message: %r" % new)
        with open(os.path.join(self.f.maildir(email), "new",
                               new.pop()), "rb") as fh:
            return fh.read()

    # -- greeting, EHLO, HELO -------------------------------------------
    def test_greeting_and_ehlo(self):
        s = self.sess(ehlo=False)
        self.assertEqual(s.greeting[0], 220)
        self.assertTrue(s.greeting[1].startswith(HOST + " "))
        code, text = s.cmd("EHLO client.example.net")
        self.assertEqual(code, 250)
        lines = text.split("\n")
        # RFC 5321 4.1.1.1: the first line carries the server's domain
        self.assertEqual(lines[0].split()[0], HOST)
        kw = {ln.split()[0].upper(): ln for ln in lines[1:]}
        for k in ("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES",
                  "SMTPUTF8", "CHUNKING", "STARTTLS", "SIZE"):
            self.assertIn(k, kw)
        # RFC 1870: SIZE with the fixed limit
        self.assertRegex(kw["SIZE"], r"^SIZE \d+$")
        # no AUTH on port 25 (Postfix smtpd_sasl_auth_enable = no on 25)
        self.assertNotIn("AUTH", kw)

    def test_helo_is_one_line_and_verbs_any_case(self):
        s = self.sess(ehlo=False)
        code, text = s.cmd("helo client.example.net")
        self.assertEqual(code, 250)
        self.assertNotIn("\n", text)
        self.expect(s, "mail from:<a@example.net>", 250, "2.1.0")
        self.expect(s, "RcPt To:<bob@example.org>", 250, "2.1.5")
        self.expect(s, "rset", 250, "2.0.0")

    def test_helo_ehlo_need_argument(self):
        s = self.sess(ehlo=False)
        self.expect(s, "HELO", 501, "5.5.4")
        self.expect(s, "EHLO", 501, "5.5.4")

    def test_ehlo_resets_transaction(self):
        # RFC 5321 4.1.4: EHLO in a transaction is an implicit RSET
        s = self.sess()
        self.expect(s, "MAIL FROM:<a@example.net>", 250)
        self.expect(s, "EHLO again.example.net", 250)
        self.expect(s, "RCPT TO:<bob@example.org>", 503, "5.5.1")

    # -- command errors ---------------------------------------------------
    def test_unknown_command(self):
        # RFC 5321 4.2.4: 500 for an unrecognised command (Postfix: 502)
        s = self.sess()
        got, text = s.cmd("FROBNICATE now")
        self.assertIn(got, (500, 502))
        self.assertEqual(esc(text), "5.5.2")
        # the session goes on
        self.expect(s, "NOOP", 250, "2.0.0")

    def test_mail_before_helo(self):
        # facteur insists on HELO/EHLO (Postfix smtpd_helo_required=yes);
        # RFC 5321 4.1.4 allows 503 here
        s = self.sess(ehlo=False)
        self.expect(s, "MAIL FROM:<a@example.net>", 503, "5.5.1")
        self.expect(s, "NOOP", 250)

    def test_bad_sequence(self):
        s = self.sess()
        self.expect(s, "RCPT TO:<bob@example.org>", 503, "5.5.1")
        self.expect(s, "DATA", 503, "5.5.1")
        self.expect(s, "MAIL FROM:<a@example.net>", 250, "2.1.0")
        self.expect(s, "MAIL FROM:<a@example.net>", 503, "5.5.1")
        # no valid recipients: Postfix's 554 5.5.1
        self.expect(s, "DATA", 554, "5.5.1")
        self.expect(s, "RCPT TO:<nobody@example.org>", 550, "5.1.1")
        self.expect(s, "DATA", 554, "5.5.1")

    def test_syntax_errors_501(self):
        s = self.sess()
        for line in ("MAIL", "MAIL FROM", "MAIL TO:<a@example.net>",
                     "MAIL FROM:<a@example.net", "MAIL FROM:<a b@c>",
                     "VRFY", "DATA now", "STARTTLS please",
                     "BDAT", "BDAT -1", "BDAT 1x", "BDAT 1 NOTLAST"):
            got, text = s.cmd(line)
            self.assertEqual(got, 501, "%r -> %d %s" % (line, got, text))
            self.assertEqual(esc(text)[:2], "5.", text)
        self.expect(s, "MAIL FROM:<a@example.net>", 250)
        for line in ("RCPT", "RCPT TO", "RCPT TO:"):
            self.expect(s, line, 501)

    def test_rset_and_noop_and_help(self):
        s = self.sess()
        self.expect(s, "NOOP", 250, "2.0.0")
        # RFC 5321 4.1.1.9: NOOP may carry a string
        self.expect(s, "NOOP anything at all", 250, "2.0.0")
        self.expect(s, "HELP", 214)
        self.expect(s, "HELP MAIL", 214)
        self.expect(s, "MAIL FROM:<a@example.net>", 250)
        self.expect(s, "RSET", 250, "2.0.0")
        self.expect(s, "RCPT TO:<bob@example.org>", 503)
        # RSET outside a transaction is fine too
        self.expect(s, "RSET", 250)

    def test_vrfy_expn(self):
        # VRFY: 252 (RFC 5321 3.5.3, no user enumeration); EXPN: 502
        s = self.sess()
        self.expect(s, "VRFY bob@example.org", 252)
        self.expect(s, "VRFY nobody@example.org", 252)
        self.expect(s, "EXPN staff", 502, "5.5.1")

    def test_line_too_long(self):
        # RFC 5321 4.5.3.1.4: command lines up to 512 octets
        s = self.sess()
        self.expect(s, "NOOP " + "x" * 500, 250)
        got, text = s.cmd("NOOP " + "x" * 2000)
        self.assertEqual(got, 500)
        self.assertEqual(esc(text), "5.5.2")
        self.expect(s, "NOOP", 250)

    def test_nul_and_control_bytes(self):
        s = self.sess()
        got, _ = s.cmd(b"NOOP a\x00b")
        self.assertEqual(got, 501)
        got, _ = s.cmd(b"MAIL FROM:<a\x01@example.net>")
        self.assertEqual(got, 501)
        self.expect(s, "NOOP", 250)

    def test_quit(self):
        s = self.sess()
        self.expect(s, "QUIT", 221, "2.0.0")
        self.assertEqual(s.c.line(), b"")

    # -- MAIL/RCPT forms --------------------------------------------------
    def test_path_forms_postfix_accepts(self):
        s = self.sess()
        # trailing space, space after the colon, no brackets: Postfix
        # (strict_rfc821_envelopes = no) takes all of them
        for line in ("MAIL FROM:<a@example.net> ",
                     "MAIL FROM: <a@example.net>",
                     "MAIL FROM:a@example.net",
                     "MAIL FROM:<>"):
            self.expect(s, line, 250, "2.1.0")
            self.expect(s, "RSET", 250)
        self.expect(s, "MAIL FROM:<a@example.net>", 250)
        for line in ("RCPT TO:<bob@example.org> ",
                     "RCPT TO: <bob@example.org>",
                     "RCPT TO:bob@example.org",
                     "RCPT TO:<BOB@EXAMPLE.ORG>",
                     'RCPT TO:<"bob"@example.org>'):
            self.expect(s, line, 250, "2.1.5")

    def test_unknown_and_relay(self):
        s = self.sess()
        self.expect(s, "MAIL FROM:<a@example.net>", 250)
        text = self.expect(s, "RCPT TO:<nobody@example.org>", 550, "5.1.1")
        self.assertIn("<nobody@example.org>", text)
        # Postfix reject_unauth_destination: 554 5.7.1 Relay access denied
        text = self.expect(s, "RCPT TO:<x@elsewhere.example>", 554,
                           "5.7.1")
        self.assertIn("Relay access denied", text)
        self.expect(s, "RCPT TO:<bob%elsewhere.example@example.org>", 554,
                    "5.7.1")

    def test_esmtp_parameters(self):
        s = self.sess()
        ok = ("SIZE=1000", "size=1000", "BODY=8BITMIME", "BODY=7BIT",
              "SMTPUTF8", "AUTH=<>", "SIZE=0 BODY=8BITMIME")
        for p in ok:
            self.expect(s, "MAIL FROM:<a@example.net> " + p, 250, "2.1.0")
            self.expect(s, "RSET", 250)
        # RFC 5321 4.1.1.11: unrecognised or not advertised: 555
        for p in ("FOO=BAR", "BODY=BINARYMIME", "RET=HDRS", "ENVID=x1",
                  "SMTPUTF8=yes"):
            got, text = s.cmd("MAIL FROM:<a@example.net> " + p)
            self.assertIn(got, (501, 555), "%s -> %d %s" % (p, got, text))
            self.assertEqual(esc(text), "5.5.4", text)
        # a malformed value of a known parameter: 501 or 555
        for p in ("SIZE=", "SIZE=abc", "SIZE=-1",
                  "SIZE=99999999999999999999999", "SIZE=1 SIZE=1"):
            got, text = s.cmd("MAIL FROM:<a@example.net> " + p)
            self.assertIn(got, (501, 555), "%s -> %d %s" % (p, got, text))
        # RFC 1870 6.1: over the fixed limit: 552 5.3.4
        self.expect(s, "MAIL FROM:<a@example.net> SIZE=%d" % (1 << 40), 552,
                    "5.3.4")
        self.expect(s, "MAIL FROM:<a@example.net>", 250)
        got, text = s.cmd("RCPT TO:<bob@example.org> FOO=BAR")
        self.assertEqual(got, 555)
        # DSN parameters on RCPT are tolerated (syntax checked)
        self.expect(s, "RCPT TO:<bob@example.org> NOTIFY=NEVER", 250)

    def test_smtputf8(self):
        # RFC 6531 3.4: a UTF-8 address needs SMTPUTF8 on MAIL: 553 5.6.7
        s = self.sess()
        got, text = s.cmd("MAIL FROM:<j\u00f6rg@example.net>".encode())
        self.assertEqual((got, esc(text)), (553, "5.6.7"))
        self.expect(s, "MAIL FROM:<a@example.net>", 250)
        got, text = s.cmd("RCPT TO:<j\u00f6rg@example.org>".encode())
        self.assertEqual((got, esc(text)), (553, "5.6.7"))
        self.expect(s, "RSET", 250)
        before = self.count()
        got, text = s.cmd("MAIL FROM:<j\u00f6rg@b\u00fccher.example> "
                          "SMTPUTF8".encode())
        self.assertEqual(got, 250, text)
        self.expect(s, "RCPT TO:<bob@example.org>", 250)
        self.expect(s, "DATA", 354)
        s.send("Subject: =?utf-8?q?gr=C3=BC=C3=9Fe?=\r\n\r\n"
               "gr\u00fc\u00dfe\r\n.\r\n".encode())
        self.assertEqual(s.reply()[0], 250)
        msg = self.last_message(before=before)
        self.assertIn("Return-Path: <j\u00f6rg@b\u00fccher.example>"
                      .encode(), msg)
        # RFC 6531 4.3: the with-protocol is UTF8SMTP
        self.assertRegex(msg, rb"with UTF8SMTP ")

    def test_postmaster_bare(self):
        # RFC 5321 4.5.1: "RCPT TO:<Postmaster>" MUST be accepted
        s = self.sess()
        self.expect(s, "MAIL FROM:<a@example.net>", 250)
        self.expect(s, "RCPT TO:<Postmaster>", 250, "2.1.5")
        self.expect(s, "RCPT TO:<postmaster>", 250, "2.1.5")
        self.expect(s, "RCPT TO:<POSTMASTER@example.org>", 250, "2.1.5")
        before = self.count()
        self.expect(s, "DATA", 354)
        s.send(b"Subject: to postmaster\r\n\r\nhi\r\n.\r\n")
        self.assertEqual(s.reply()[0], 250)
        self.assertIn(b"Subject: to postmaster",
                      self.last_message(before=before))

    def test_postmaster_of_every_domain(self):
        # RFC 5321 4.5.1: postmaster at every domain served. other.test
        # has no postmaster of its own: it reaches the server's
        # postmaster (Postfix needs an explicit virtual alias for this).
        s = self.sess()
        self.expect(s, "MAIL FROM:<a@example.net>", 250)
        self.expect(s, "RCPT TO:<postmaster@other.test>", 250, "2.1.5")
        self.expect(s, "RCPT TO:<PostMaster@Other.Test>", 250, "2.1.5")
        # other local parts of that domain are still unknown
        self.expect(s, "RCPT TO:<abuse@other.test>", 550, "5.1.1")

    # -- DATA -------------------------------------------------------------
    def _data(self, s, body, sender="a@example.net"):
        self.expect(s, "MAIL FROM:<%s>" % sender, 250)
        self.expect(s, "RCPT TO:<bob@example.org>", 250)
        self.expect(s, "DATA", 354)
        s.send(body)
        return s.reply()

    def test_zero_byte_message(self):
        s = self.sess()
        before = self.count()
        got, text = self._data(s, b".\r\n")
        self.assertEqual((got, esc(text)), (250, "2.0.0"))
        msg = self.last_message(before=before)
        self.assertTrue(msg.startswith(b"Return-Path: <a@example.net>\n"))

    def test_dot_stuffing_and_no_final_newline(self):
        s = self.sess()
        before = self.count()
        got, _ = self._data(s, b"Subject: dots\r\n\r\n..one\r\n...two\r\n"
                            b"last line\r\n.\r\n")
        self.assertEqual(got, 250)
        msg = self.last_message(before=before)
        self.assertIn(b"\n.one\n..two\nlast line\n", msg)
        self.assertFalse(msg.endswith(b".\n"))

    def test_received_and_return_path(self):
        s = self.sess()
        before = self.count()
        got, _ = self._data(s, b"Subject: r\r\n\r\nbody\r\n.\r\n")
        self.assertEqual(got, 250)
        msg = self.last_message(before=before).decode()
        head = msg.split("\n\n", 1)[0]
        # Return-Path first and exactly once (RFC 5321 4.4)
        self.assertTrue(head.startswith("Return-Path: <a@example.net>\n"))
        self.assertEqual(head.count("Return-Path:"), 1)
        rcv = re.search(r"^Received: (.*?)(?=^\S)", head + "\nX",
                        re.M | re.S).group(1)
        rcv = re.sub(r"\s+", " ", rcv).strip()
        # RFC 5321 4.4 Stamp: from ... by ... with ... id ... for ...;
        # date-time (RFC 5322 3.3)
        self.assertRegex(
            rcv,
            r"^from client\.example\.net \(.*\[127\.0\.0\.1\]\) "
            r"(\(.*\) )?by mx\.example\.org (\(.*\) )?with ESMTP "
            r"id \S+ for <bob@example\.org>; "
            r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} "
            r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
            r"\d\d:\d\d:\d\d [+-]\d{4}$")

    def test_sender_return_path_dropped(self):
        # RFC 5321 4.4: final delivery adds Return-Path; one the sender
        # put in the header is dropped (Postfix cleanup: HDR_OPT_DROP),
        # folded or not, any case; a body line that looks like one stays
        s = self.sess()
        before = self.count()
        got, _ = self._data(s, b"Return-Path: <forged@bank.example>\r\n"
                            b"Subject: rp\r\nreturn-path:\r\n"
                            b"\t<folded@bank.example>\r\n"
                            b"X-Other: keep\r\n\r\n"
                            b"Return-Path: <in-body@example.net>\r\n"
                            b".\r\n")
        self.assertEqual(got, 250)
        msg = self.last_message(before=before)
        head, body = msg.split(b"\n\n", 1)
        self.assertEqual(head.lower().count(b"return-path:"), 1, msg)
        self.assertTrue(head.startswith(b"Return-Path: <a@example.net>\n"))
        self.assertNotIn(b"bank.example", msg)
        self.assertIn(b"\nSubject: rp\nX-Other: keep", head)
        self.assertEqual(body, b"Return-Path: <in-body@example.net>\n")
        # the same through BDAT, whose content is taken raw
        before = self.count()
        self._bdat_start(s)
        chunk = (b"Return-Path: <forged@bank.example>\r\nSubject: b\r\n"
                 b"\r\nbody\r\n")
        s.send(b"BDAT %d LAST\r\n" % len(chunk) + chunk)
        self.assertEqual(s.reply()[0], 250)
        msg = self.last_message(before=before)
        self.assertNotIn(b"bank.example", msg)
        self.assertEqual(msg.lower().count(b"return-path:"), 1, msg)

    def test_received_8bit_helo(self):
        # a header of a message sent without SMTPUTF8 stays ASCII
        # (RFC 5322 2.2): the 8-bit bytes of a HELO name become "?", as
        # Postfix's printable() does; with SMTPUTF8 they may stay
        for utf8, want in ((False, b"from h??llo.example "),
                           (True, "from h\u00e9llo.example ".encode())):
            s = self.sess(ehlo=False)
            self.expect(s, "EHLO h\u00e9llo.example".encode(), 250)
            before = self.count()
            self.expect(s, "MAIL FROM:<a@example.net>" +
                        (" SMTPUTF8" if utf8 else ""), 250)
            self.expect(s, "RCPT TO:<bob@example.org>", 250)
            self.expect(s, "DATA", 354)
            s.send(b"Subject: h\r\n\r\nx\r\n.\r\n")
            self.assertEqual(s.reply()[0], 250)
            head = self.last_message(before=before).split(b"\n\n")[0]
            self.assertIn(b"Received: " + want, head)
            if not utf8:
                self.assertTrue(all(b < 0x80 for b in head), head)

    def test_with_protocol_rfc3848(self):
        s = self.sess("submission")
        s.starttls()
        self.expect(s, "EHLO client.example.net", 250)
        auth = base64.b64encode(b"\0bob@example.org\0secret").decode()
        self.expect(s, "AUTH PLAIN " + auth, 235, "2.7.0")
        before = self.count()
        got, _ = self._data(s, b"Subject: sa\r\n\r\nx\r\n.\r\n",
                            "bob@example.org")
        self.assertEqual(got, 250)
        self.assertRegex(self.last_message(before=before),
                         rb"with ESMTPSA id")
        s2 = self.sess()
        s2.starttls()
        self.expect(s2, "EHLO client.example.net", 250)
        before = self.count()
        got, _ = self._data(s2, b"Subject: s\r\n\r\nx\r\n.\r\n")
        self.assertEqual(got, 250)
        self.assertRegex(self.last_message(before=before),
                         rb"with ESMTPS id")

    def test_pipelining_with_rset_in_the_middle(self):
        # RFC 2920: the whole group in one write, one reply per command
        s = self.sess()
        before = self.count()
        s.send(b"MAIL FROM:<a@example.net>\r\n"
               b"RCPT TO:<bob@example.org>\r\n"
               b"RSET\r\n"
               b"MAIL FROM:<b@example.net>\r\n"
               b"RCPT TO:<nobody@example.org>\r\n"
               b"RCPT TO:<bob@example.org>\r\n"
               b"DATA\r\n")
        codes = [s.reply()[0] for _ in range(7)]
        self.assertEqual(codes, [250, 250, 250, 250, 550, 250, 354])
        s.send(b"Subject: p\r\n\r\nx\r\n.\r\nNOOP\r\nQUIT\r\n")
        self.assertEqual([s.reply()[0] for _ in range(3)], [250, 250, 221])
        self.assertIn(b"Return-Path: <b@example.net>",
                      self.last_message(before=before))

    # -- BDAT (RFC 3030) --------------------------------------------------
    def _bdat_start(self, s):
        self.expect(s, "MAIL FROM:<a@example.net>", 250)
        self.expect(s, "RCPT TO:<bob@example.org>", 250)

    def test_bdat_zero_last(self):
        s = self.sess()
        before = self.count()
        self._bdat_start(s)
        s.send(b"BDAT 9\r\nSubject: ")
        self.assertEqual(s.reply()[0], 250)
        s.send(b"BDAT 0 LAST\r\n")
        got, text = s.reply()
        self.assertEqual((got, esc(text)), (250, "2.0.0"))
        self.assertIn(b"\nSubject: ", self.last_message(before=before))

    def test_bdat_then_data_refused(self):
        s = self.sess()
        self._bdat_start(s)
        s.send(b"BDAT 4\r\nab\r\n")
        self.assertEqual(s.reply()[0], 250)
        self.expect(s, "DATA", 503, "5.5.1")
        self.expect(s, "MAIL FROM:<a@example.net>", 503)
        # RSET aborts the BDAT transaction (RFC 3030 2)
        self.expect(s, "RSET", 250)
        self._bdat_start(s)
        before = self.count()
        s.send(b"BDAT 13 LAST\r\nSubject: b\r\n\r\n")
        self.assertEqual(s.reply()[0], 250)
        self.assertIn(b"Subject: b", self.last_message(before=before))

    def test_bdat_refused_chunk_is_not_commands(self):
        # the chunk of a refused BDAT is still read and thrown away:
        # its bytes are never taken as commands
        s = self.sess()
        payload = b"QUIT\r\nQUIT\r\n"
        s.send(b"BDAT %d\r\n" % len(payload) + payload)
        got, _ = s.reply()
        self.assertEqual(got, 503)
        self.expect(s, "NOOP", 250)

    def test_bdat_without_last_then_quit(self):
        s = self.sess()
        before = self.count()
        self._bdat_start(s)
        s.send(b"BDAT 3\r\nabc")
        self.assertEqual(s.reply()[0], 250)
        self.expect(s, "QUIT", 221)
        # nothing delivered without LAST
        self.assertEqual(self.count(), before)

    def test_data_after_bdat_message(self):
        s = self.sess()
        self._bdat_start(s)
        s.send(b"BDAT 0 LAST\r\n")
        self.assertEqual(s.reply()[0], 250)
        got, _ = self._data(s, b"Subject: d\r\n\r\nx\r\n.\r\n")
        self.assertEqual(got, 250)

    # -- submission and AUTH (RFC 4954, 8314, 3207) -------------------------
    def test_submission_requires_tls_then_auth(self):
        s = self.sess("submission")
        code, text = s.cmd("EHLO c.example.net")
        self.assertNotIn("AUTH", text)
        self.expect(s, "AUTH PLAIN AGJvYgBzZWNyZXQ=", 530, "5.7.0")
        self.expect(s, "MAIL FROM:<bob@example.org>", 530, "5.7.0")
        s.starttls()
        code, text = s.cmd("EHLO c.example.net")
        self.assertIn("AUTH PLAIN LOGIN", text)
        self.assertNotIn("STARTTLS", text)
        self.expect(s, "MAIL FROM:<bob@example.org>", 530, "5.7.0")
        # RFC 4954 4: unknown mechanism 504 5.5.4, cancel "*" 501
        self.expect(s, "AUTH CRAM-MD5", 504, "5.5.4")
        self.expect(s, "AUTH PLAIN", 334)
        got, text = s.cmd("*")
        self.assertEqual(got, 501)
        self.expect(s, "AUTH PLAIN !!!notbase64", 501, "5.5.2")
        bad = base64.b64encode(b"\0bob@example.org\0wrong").decode()
        self.expect(s, "AUTH PLAIN " + bad, 535, "5.7.8")
        good = base64.b64encode(b"\0bob@example.org\0secret").decode()
        self.expect(s, "AUTH PLAIN " + good, 235, "2.7.0")
        self.expect(s, "AUTH PLAIN " + good, 503, "5.5.1")
        self.expect(s, "MAIL FROM:<bob@example.org>", 250)
        self.expect(s, "RCPT TO:<someone@elsewhere.example>", 250)

    def test_auth_login_and_empty_initial_response(self):
        s = self.sess("smtps", ehlo=False, tls=True)
        self.expect(s, "EHLO c.example.net", 250)
        # RFC 4954 4: "=" is an empty initial response
        got, _ = s.cmd("AUTH PLAIN =")
        self.assertIn(got, (501, 535))
        got, text = s.cmd("AUTH LOGIN")
        self.assertEqual(got, 334)
        self.assertEqual(base64.b64decode(text), b"Username:")
        got, text = s.cmd(base64.b64encode(b"bob@example.org").decode())
        self.assertEqual(got, 334)
        self.assertEqual(base64.b64decode(text), b"Password:")
        self.expect(s, base64.b64encode(b"secret").decode(), 235, "2.7.0")

    def test_starttls_twice_and_plaintext_injection(self):
        # RFC 3207 5: no STARTTLS after TLS; commands pipelined after
        # STARTTLS in plaintext are discarded (CVE-2011-0411 class)
        s = self.sess()
        s.send(b"STARTTLS\r\nRSET\r\n")
        code, _ = s.reply()
        self.assertEqual(code, 220)
        s.c.sock = self.f.ssl_context().wrap_socket(
            s.c.sock, server_hostname="localhost")
        s.c.buf = b""
        # the first reply in TLS belongs to this NOOP, not the RSET
        got, text = s.cmd("NOOP")
        self.assertEqual(got, 250)
        self.expect(s, "MAIL FROM:<a@example.net>", 503)  # EHLO again
        code, text = s.cmd("EHLO c.example.net")
        self.assertNotIn("STARTTLS", text)
        # Postfix: 554 5.5.1 Error: TLS already active
        got, _ = s.cmd("STARTTLS")
        self.assertIn(got, (503, 554))


if __name__ == "__main__":
    unittest.main()
