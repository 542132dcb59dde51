"""IMAP part 2 end to end with imaplib: ESEARCH (RFC 4731), SORT and ESORT
(RFC 5256, RFC 5267), THREAD=ORDEREDSUBJECT and THREAD=REFERENCES
(RFC 5256) on a mailbox filled by APPEND with chosen internal dates."""
import calendar
import imaplib
import re
import unittest

from fixture import Facteur

USER = "carol@example.org"
PASS = "carol-pw-3"


def msg(hdrs, pad):
    head = "".join("%s: %s\r\n" % h for h in hdrs)
    return (head + "\r\n" + ("x" * 70 + "\r\n") * pad).encode()


def ts(y, mo, d):
    return calendar.timegm((y, mo, d, 12, 0, 0, 0, 0, 0))


# seq: headers, body lines (sizes far apart), internal date
MSGS = [
    ([("From", "Zed <zed@x.test>"), ("To", "a@x.test"), ("Cc", "m@x.test"),
      ("Subject", "Re: apple"), ("Date", "Sat, 3 Jan 2026 10:00:00 +0000"),
      ("Message-ID", "<m2@x.test>"), ("References", "<m1@x.test>")],
     30, ts(2026, 2, 5)),
    ([("From", "Amy <amy@x.test>"), ("To", "c@x.test"),
      ("Subject", "=?UTF-8?Q?apple?="),
      ("Date", "Thu, 1 Jan 2026 10:00:00 +0000"),
      ("Message-ID", "<m1@x.test>")],
     10, ts(2026, 2, 1)),
    ([("From", "bob@x.test"), ("To", "b@x.test"), ("Subject", "banana"),
      ("Date", "Fri, 2 Jan 2026 10:00:00 +0000"),
      ("Message-ID", "<m3@x.test>")],
     50, ts(2026, 2, 3)),
    ([("From", "carl@x.test"), ("Subject", "[list] Fwd: apple"),
      ("Date", "Sun, 4 Jan 2026 12:00:00 +0200"),
      ("In-Reply-To", "<m2@x.test>"), ("Message-ID", "<m4@x.test>")],
     20, ts(2026, 2, 2)),
    ([("From", "dan@x.test"), ("Subject", "cherry"),
      ("Message-ID", "<m5@x.test>")],
     40, ts(2025, 12, 31)),
]


class ImapPart2(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("imappart2")
        cls.f.start()
        cls.f.add_domain("example.org")
        cls.f.add_user(USER, PASS)
        m = cls.imaps()
        for hdrs, pad, when in MSGS:
            typ, _ = m.append("INBOX", None,
                              imaplib.Time2Internaldate(when),
                              msg(hdrs, pad))
            assert typ == "OK"
        m.logout()

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()

    @classmethod
    def imaps(cls):
        m = imaplib.IMAP4_SSL("localhost", cls.f.ports["imaps"],
                              ssl_context=cls.f.ssl_context(), timeout=30)
        m.login(USER, PASS)
        return m

    def setUp(self):
        self.m = self.imaps()
        typ, _ = self.m.select("INBOX")
        self.assertEqual(typ, "OK")

    def tearDown(self):
        self.m.logout()

    def cmd(self, name, *args):
        typ, dat = self.m._simple_command(name, *args)
        return typ, dat

    def esearch(self, *args, uid=False):
        if uid:
            typ, _ = self.cmd("UID", "SEARCH", *args)
        else:
            typ, _ = self.cmd("SEARCH", *args)
        self.assertEqual(typ, "OK")
        typ, dat = self.m._untagged_response(typ, [None], "ESEARCH")
        self.assertEqual(len(dat), 1, dat)
        return dat[0].decode()

    def test_capability(self):
        typ, dat = self.m.capability()
        caps = dat[0].decode().split()
        for c in ("ESEARCH", "SORT", "ESORT", "THREAD=ORDEREDSUBJECT",
                  "THREAD=REFERENCES", "LIST-STATUS"):
            self.assertIn(c, caps)

    def test_esearch(self):
        r = self.esearch("RETURN", "(MIN MAX COUNT ALL)", "ALL")
        self.assertRegex(r, r'^\(TAG "[^"]+"\) MIN 1 MAX 5 ALL 1:5 COUNT 5$')
        r = self.esearch("RETURN", "()", "SUBJECT", "apple")
        self.assertRegex(r, r'^\(TAG "[^"]+"\) ALL 1:2,4$')
        r = self.esearch("RETURN", "(COUNT)", "ALL", uid=True)
        self.assertRegex(r, r'^\(TAG "[^"]+"\) UID COUNT 5$')
        r = self.esearch("RETURN", "(MIN MAX COUNT ALL)", "SUBJECT", "nope")
        self.assertRegex(r, r'^\(TAG "[^"]+"\) COUNT 0$')
        r = self.esearch("RETURN", "(MAX)", "CHARSET", "UTF-8", "FROM",
                         "bob")
        self.assertRegex(r, r'^\(TAG "[^"]+"\) MAX 3$')
        # the tag in the response is the command's
        tag = self.m._new_tag()
        self.m.send(tag + b" SEARCH RETURN (MIN) ALL\r\n")
        line = self.m._get_line()
        self.assertEqual(line, b'* ESEARCH (TAG "' + tag + b'") MIN 1')
        self.assertTrue(self.m._get_line().startswith(tag + b" OK"))

    def test_esearch_bad(self):
        with self.assertRaises(imaplib.IMAP4.error):
            self.cmd("SEARCH", "RETURN", "(SAVE)", "ALL")
        with self.assertRaises(imaplib.IMAP4.error):
            self.cmd("SEARCH", "RETURN", "(MIN)")
        # plain SEARCH is unchanged
        typ, dat = self.m.search(None, "SUBJECT", "apple")
        self.assertEqual(dat, [b"1 2 4"])

    def sort(self, crit, *search):
        typ, dat = self.m.sort(crit, "UTF-8", *(search or ("ALL",)))
        self.assertEqual(typ, "OK")
        return dat[0].decode()

    def test_sort_keys(self):
        self.assertEqual(self.sort("(SUBJECT)"), "1 2 4 3 5")
        self.assertEqual(self.sort("(DATE)"), "5 2 3 1 4")
        self.assertEqual(self.sort("(REVERSE DATE)"), "4 1 3 2 5")
        self.assertEqual(self.sort("(ARRIVAL)"), "5 2 4 3 1")
        self.assertEqual(self.sort("(SIZE)"), "2 4 1 5 3")
        self.assertEqual(self.sort("(REVERSE SIZE)"), "3 5 1 4 2")
        self.assertEqual(self.sort("(FROM)"), "2 3 4 5 1")
        self.assertEqual(self.sort("(TO)"), "4 5 1 3 2")
        self.assertEqual(self.sort("(CC)"), "2 3 4 5 1")
        self.assertEqual(self.sort("(SUBJECT REVERSE DATE)"), "4 1 2 3 5")
        self.assertEqual(self.sort("(SUBJECT)", "FROM", "amy"), "2")
        self.assertEqual(self.sort("(SUBJECT)", "SUBJECT", "zzz"), "")

    def test_uid_sort(self):
        typ, dat = self.m.uid("FETCH", "1:*", "(UID)")
        uids = [int(re.search(rb"UID (\d+)", d).group(1)) for d in dat]
        typ, dat = self.m.uid("SORT", "(DATE)", "UTF-8", "ALL")
        self.assertEqual(typ, "OK")
        want = " ".join(str(uids[i - 1]) for i in (5, 2, 3, 1, 4))
        self.assertEqual(dat[0].decode(), want)

    def test_sort_errors(self):
        typ, dat = self.cmd("SORT", "(SUBJECT)", "KOI8-R", "ALL")
        self.assertEqual(typ, "NO")
        self.assertIn(b"BADCHARSET", dat[0])
        for bad in (("(FOO)", "UTF-8", "ALL"), ("(REVERSE)", "UTF-8", "ALL"),
                    ("SUBJECT", "UTF-8", "ALL"), ("(SUBJECT)", "UTF-8"),
                    ("(SUBJECT)",)):
            with self.assertRaises(imaplib.IMAP4.error):
                self.cmd("SORT", *bad)

    def test_esort(self):
        typ, _ = self.cmd("SORT", "RETURN", "(MIN MAX COUNT ALL)", "(DATE)",
                          "UTF-8", "ALL")
        self.assertEqual(typ, "OK")
        typ, dat = self.m._untagged_response(typ, [None], "ESEARCH")
        self.assertRegex(dat[0].decode(),
                         r'^\(TAG "[^"]+"\) MIN 5 MAX 4 '
                         r'ALL 5,2:3,1,4 COUNT 5$')

    def test_thread_references(self):
        typ, dat = self.m.thread("REFERENCES", "UTF-8", "ALL")
        self.assertEqual(typ, "OK")
        self.assertEqual(dat[0], b"(5)(2 1 4)(3)")
        typ, dat = self.m.thread("REFERENCES", "UTF-8", "NOT", "FROM",
                                 "zed")
        # without the middle message its reply is still threaded under
        # the root through the dummy: 4's parent <m2> is missing
        self.assertEqual(dat[0], b"(5)(2 4)(3)")

    def test_thread_orderedsubject(self):
        typ, dat = self.m.thread("ORDEREDSUBJECT", "UTF-8", "ALL")
        self.assertEqual(typ, "OK")
        self.assertEqual(dat[0], b"(5)(2 (1)(4))(3)")
        typ, dat = self.m.uid("THREAD", "ORDEREDSUBJECT", "UTF-8",
                              "SUBJECT", "nothing-like-this")
        self.assertEqual(typ, "OK")
        self.assertIn(dat[0], (None, b""))

    def test_thread_errors(self):
        typ, dat = self.cmd("THREAD", "REFERENCES", "X-UNKNOWN", "ALL")
        self.assertEqual(typ, "NO")
        with self.assertRaises(imaplib.IMAP4.error):
            self.cmd("THREAD", "REFS", "UTF-8", "ALL")
        with self.assertRaises(imaplib.IMAP4.error):
            self.cmd("THREAD")


    def test_appendlimit(self):
        typ, dat = self.m.capability()
        caps = dat[0].decode().split()
        lim = [c for c in caps if c.startswith("APPENDLIMIT=")]
        self.assertEqual(len(lim), 1, caps)
        n = int(lim[0].split("=", 1)[1])
        self.assertGreater(n, 0)
        typ, dat = self.m.status("INBOX", "(APPENDLIMIT MESSAGES)")
        self.assertEqual(typ, "OK")
        self.assertIn(b"(APPENDLIMIT %d MESSAGES 5)" % n, dat[0])

    def test_list_status(self):
        typ, _ = self.m.create("Sub2")
        self.assertEqual(typ, "OK")
        try:
            typ, dat = self.cmd("LIST", '""', "*", "RETURN",
                                "(STATUS (MESSAGES UNSEEN))")
            self.assertEqual(typ, "OK")
            typ, lists = self.m._untagged_response(typ, [None], "LIST")
            typ, stats = self.m._untagged_response(typ, [None], "STATUS")
            names = [l.decode().rsplit(" ", 1)[1].strip('"')
                     for l in lists]
            self.assertIn("INBOX", names)
            self.assertIn("Sub2", names)
            st = b" ".join(stats)
            self.assertIn(b"\"INBOX\" (MESSAGES 5 UNSEEN 5)", st)
            self.assertIn(b"\"Sub2\" (MESSAGES 0 UNSEEN 0)", st)
            self.assertEqual(len(stats), len(lists))
            with self.assertRaises(imaplib.IMAP4.error):
                self.cmd("LIST", '""', "*", "RETURN", "(STATUS (BOGUS))")
            with self.assertRaises(imaplib.IMAP4.error):
                self.cmd("LIST", '""', "*", "RETURN", "(STATUS)")
            # plain LIST has no STATUS
            self.m.untagged_responses.pop("STATUS", None)
            typ, dat = self.m.list()
            self.assertNotIn("STATUS", self.m.untagged_responses)
        finally:
            self.m.delete("Sub2")


    def test_thread_hostile(self):
        """Many and long references, a reference loop, no headers at all:
        answers come back and every message is in the result once."""
        self.assertEqual(self.m.create("Hostile")[0], "OK")
        try:
            refs = " ".join("<r%d@x.test>" % i for i in range(2000))
            msgs = [
                [("Subject", "Re: " * 500 + "loop"),
                 ("Message-ID", "<h1@x.test>"),
                 ("References", refs + " <h2@x.test>")],
                [("Subject", "[fwd: loop]"), ("Message-ID", "<h2@x.test>"),
                 ("References", "<h1@x.test>")],
                [("Message-ID", "<" + "y" * 5000 + "@x.test>"),
                 ("In-Reply-To", "<h1@x.test> <h2@x.test>")],
                [],
            ]
            for h in msgs:
                typ, _ = self.m.append("Hostile", None, None, msg(h, 1)
                                       if h else b"no header at all\r\n")
                self.assertEqual(typ, "OK")
            self.m.select("Hostile")
            for alg in ("REFERENCES", "ORDEREDSUBJECT"):
                typ, dat = self.m.thread(alg, "UTF-8", "ALL")
                self.assertEqual(typ, "OK")
                nums = sorted(int(x) for x in
                              re.findall(rb"\d+", dat[0]))
                self.assertEqual(nums, [1, 2, 3, 4], dat)
            for crit in ("(SUBJECT)", "(DATE)", "(FROM)", "(CC)"):
                typ, dat = self.m.sort(crit, "UTF-8", "ALL")
                self.assertEqual(sorted(dat[0].split()),
                                 [b"1", b"2", b"3", b"4"])
        finally:
            self.m.select("INBOX")
            self.m.delete("Hostile")


if __name__ == "__main__":
    unittest.main()
