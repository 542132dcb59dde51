"""POP3 compatibility: RFC 1939, 2449 (CAPA, response codes), 5034
(SASL), 2595 (STLS) and Dovecot's answers, every command in every state,
argument ranges, the multi-line terminator and byte stuffing, as a picky
external suite sees them. Raw sessions (LineClient).
"""
import base64
import unittest

from fixture import Facteur, LineClient

PLAIN_BOB = base64.b64encode(b"\0bob@example.org\0secret").decode()


class Pop:
    def __init__(self, f, kind="pop3s"):
        sock = f.raw(kind)
        if kind == "pop3s":
            sock = f.ssl_context().wrap_socket(sock,
                                               server_hostname="localhost")
        self.f = f
        self.c = LineClient(sock)
        self.greeting = self.c.line()

    def cmd(self, line):
        self.c.send(line + "\r\n")
        return self.c.line().rstrip(b"\r\n").decode("utf-8", "replace")

    def multi(self):
        """The lines of a multi-line answer, raw, up to the "." line."""
        out = []
        while True:
            ln = self.c.line()
            if not ln:
                raise ConnectionError("closed in a multi-line answer")
            if ln == b".\r\n":
                return out
            self.assert_crlf(ln)
            out.append(ln[:-2])

    @staticmethod
    def assert_crlf(ln):
        if not ln.endswith(b"\r\n") or b"\r" in ln[:-2] or \
                b"\n" in ln[:-2]:
            raise AssertionError("bad line end: %r" % ln)

    def close(self):
        self.c.close()


class Pop3Compat(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("compat_pop3")
        cls.f.start()
        cls.f.add_domain("example.org")
        cls.f.add_user("bob@example.org", "secret")
        # message 1: dots to stuff, no final newline; 2: no header/body
        # separator; 3: a body of 5 lines
        cls.f.deliver("bob@example.org", b"Subject: one\r\n\r\n.dot\r\n"
                      b"..two\r\n.\r\nlast")
        cls.f.deliver("bob@example.org", b"Subject: headers only\r\n")
        cls.f.deliver("bob@example.org", b"Subject: three\r\n\r\n"
                      + b"".join(b"line %d\r\n" % i for i in range(5)))
        cls.f.wait_messages("bob@example.org", 3)

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()

    def pop(self, login=True, kind="pop3s"):
        p = Pop(self.f, kind)
        self.addCleanup(p.close)
        if login:
            self.ok(p.cmd("AUTH PLAIN " + PLAIN_BOB))
        return p

    def ok(self, reply):
        self.assertTrue(reply.startswith("+OK"), reply)
        return reply

    def err(self, reply):
        self.assertTrue(reply.startswith("-ERR"), reply)
        return reply

    def test_greeting(self):
        p = self.pop(login=False)
        self.assertTrue(p.greeting.startswith(b"+OK"))
        self.assertTrue(p.greeting.endswith(b"\r\n"))

    def test_capa_both_states(self):
        # RFC 2449 5: CAPA in AUTHORIZATION and TRANSACTION
        p = self.pop(login=False)
        self.ok(p.cmd("CAPA"))
        caps = [c.decode() for c in p.multi()]
        for c in ("TOP", "UIDL", "RESP-CODES", "PIPELINING",
                  "AUTH-RESP-CODE", "USER"):
            self.assertIn(c, caps)
        self.assertIn("SASL PLAIN", [c.split(" LOGIN")[0] for c in caps])
        self.ok(p.cmd("AUTH PLAIN " + PLAIN_BOB))
        self.ok(p.cmd("CAPA"))
        caps = [c.decode() for c in p.multi()]
        self.assertIn("UIDL", caps)
        self.assertNotIn("USER", caps)

    def test_authorization_state(self):
        p = self.pop(login=False)
        for c in ("STAT", "LIST", "RETR 1", "DELE 1", "UIDL", "TOP 1 0",
                  "RSET", "NOOP"):
            self.err(p.cmd(c))
        self.err(p.cmd("PASS secret"))     # no USER first
        # 10 bad commands in a row end the session: start again
        p = self.pop(login=False)
        self.err(p.cmd("USER"))
        self.ok(p.cmd("USER bob@example.org"))
        self.err(p.cmd("PASS wrong"))
        # RFC 2449 8.1.2 / 3206: AUTH response code on failure
        self.ok(p.cmd("USER bob@example.org"))
        self.assertIn("[AUTH]", self.err(p.cmd("PASS wrong")))
        self.err(p.cmd("AUTH NOSUCHMECH"))
        self.ok(p.cmd("USER bob@example.org"))
        self.ok(p.cmd("PASS secret"))
        self.ok(p.cmd("STAT"))

    def test_sasl_exchanges(self):
        p = self.pop(login=False)
        # RFC 5034 4: "*" cancels with -ERR
        self.assertTrue(p.cmd("AUTH PLAIN").startswith("+ "))
        self.err(p.cmd("*"))
        # "=" is an empty initial response: a failure, not a hang
        self.err(p.cmd("AUTH PLAIN ="))
        self.assertTrue(p.cmd("AUTH PLAIN").startswith("+"))
        self.ok(p.cmd(PLAIN_BOB))

    def test_quit_in_authorization(self):
        p = self.pop(login=False)
        self.ok(p.cmd("QUIT"))
        self.assertEqual(p.c.line(), b"")

    def test_plaintext_needs_stls(self):
        # Dovecot disable_plaintext_auth: USER/PASS only after STLS
        p = self.pop(login=False, kind="pop3")
        self.ok(p.cmd("CAPA"))
        caps = [c.decode() for c in p.multi()]
        self.assertIn("STLS", caps)
        self.assertNotIn("USER", caps)
        self.err(p.cmd("USER bob@example.org"))
        self.ok(p.cmd("STLS"))
        p.c.sock = self.f.ssl_context().wrap_socket(
            p.c.sock, server_hostname="localhost")
        p.c.buf = b""
        self.ok(p.cmd("USER bob@example.org"))
        self.ok(p.cmd("PASS secret"))
        self.err(p.cmd("STLS"))

    def test_transaction_state_refuses_auth_commands(self):
        p = self.pop()
        for c in ("USER bob@example.org", "PASS secret",
                  "AUTH PLAIN " + PLAIN_BOB, "STLS", "APOP bob x"):
            self.err(p.cmd(c))
        self.ok(p.cmd("NOOP"))
        self.ok(p.cmd("stat"))      # verbs in any case

    def test_stat_list_ranges(self):
        p = self.pop()
        stat = self.ok(p.cmd("STAT")).split()
        self.assertEqual(stat[1], "3")
        self.ok(p.cmd("LIST"))
        listing = p.multi()
        self.assertEqual([ln.split()[0] for ln in listing],
                         [b"1", b"2", b"3"])
        self.assertEqual(sum(int(ln.split()[1]) for ln in listing),
                         int(stat[2]))
        self.assertEqual(self.ok(p.cmd("LIST 2")).split()[1], "2")
        for arg in ("0", "4", "-1", "abc", "4294967297",
                    "99999999999999999999999", "1 2", ""):
            if arg == "":
                continue
            self.err(p.cmd("LIST " + arg))

    def test_octet_counts_match(self):
        # RFC 1939 11: the size is the message with CRLF line ends
        p = self.pop()
        size = int(self.ok(p.cmd("LIST 3")).split()[2])
        self.ok(p.cmd("RETR 3"))
        body = p.multi()
        self.assertEqual(sum(len(ln) + 2 for ln in body), size)

    def test_retr_stuffing_and_terminator(self):
        p = self.pop()
        self.ok(p.cmd("RETR 1"))
        lines = p.multi()
        i = lines.index(b"Subject: one")
        # RFC 1939 3: lines starting with "." get one more; a message
        # without a final newline still ends in CRLF "." CRLF
        self.assertEqual(lines[i + 1:], [b"", b"..dot", b"...two", b"..",
                                         b"last"])

    def test_top(self):
        p = self.pop()
        self.ok(p.cmd("TOP 3 0"))
        lines = p.multi()
        self.assertEqual(lines[-2:], [b"Subject: three", b""])
        self.ok(p.cmd("TOP 3 2"))
        self.assertEqual(p.multi()[-3:], [b"", b"line 0", b"line 1"])
        self.ok(p.cmd("TOP 3 4294967296"))
        self.assertEqual(p.multi()[-1], b"line 4")
        # headers only, no separator: all of it, nothing invented
        self.ok(p.cmd("TOP 2 10"))
        self.assertEqual(p.multi()[-1], b"Subject: headers only")
        for arg in ("3", "3 -1", "3 x", "0 1", "9 1", "3 1 1"):
            self.err(p.cmd("TOP " + arg))

    def test_dele_semantics(self):
        p = self.pop()
        self.ok(p.cmd("UIDL"))
        uidls = dict(ln.split() for ln in p.multi())
        self.ok(p.cmd("DELE 2"))
        self.err(p.cmd("DELE 2"))
        for c in ("RETR 2", "TOP 2 0", "LIST 2", "UIDL 2"):
            self.err(p.cmd(c))
        stat = self.ok(p.cmd("STAT")).split()
        self.assertEqual(stat[1], "2")
        self.ok(p.cmd("LIST"))
        self.assertEqual([ln.split()[0] for ln in p.multi()], [b"1", b"3"])
        self.ok(p.cmd("UIDL"))
        after = dict(ln.split() for ln in p.multi())
        # numbers and UIDLs of the others do not move (RFC 1939 7)
        self.assertEqual(after, {k: v for k, v in uidls.items()
                                 if k != b"2"})
        self.ok(p.cmd("RSET"))
        self.assertEqual(self.ok(p.cmd("STAT")).split()[1], "3")
        # a dropped connection deletes nothing (no UPDATE state)
        self.ok(p.cmd("DELE 1"))
        p.close()
        q = self.pop()
        self.assertEqual(self.ok(q.cmd("STAT")).split()[1], "3")
        self.ok(q.cmd("UIDL"))
        self.assertEqual(dict(ln.split() for ln in q.multi()), uidls)

    def test_unknown_and_noise(self):
        p = self.pop()
        self.err(p.cmd("FROBNICATE"))
        self.err(p.cmd("RETR 1 extra"))
        self.err(p.cmd("LAST"))     # RFC 1460 only, removed in 1725
        self.ok(p.cmd("NOOP"))


if __name__ == "__main__":
    unittest.main()
