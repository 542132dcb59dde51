"""IMAP compatibility: the command sequences real clients send
(Thunderbird, K-9, iOS Mail, Outlook), untagged response rules of RFC
3501/9051 across two sessions, literals, modified UTF-7 names,
UIDVALIDITY across restarts. Raw sessions (LineClient) so that every
untagged line is seen.

src/imap is owned by its author: a test of a bug found here is marked
expectedFailure with "owner: imap" and reported, not fixed here.
"""
import datetime
import re
import time
import unittest

from fixture import Facteur, LineClient


class Imap:
    def __init__(self, f, user="bob@example.org", password="secret"):
        sock = f.raw_tls("imaps")
        self.c = LineClient(sock)
        self.greeting = self.c.line()
        self.n = 0
        if user:
            self.ok("LOGIN %s %s" % (user, password))

    def run(self, text):
        """Send one command; (untagged lines, tagged line) as str."""
        self.n += 1
        tag = "t%d" % self.n
        if isinstance(text, str):
            text = text.encode()
        self.c.send(tag.encode() + b" " + text + b"\r\n")
        lines = self.c.until_tagged(tag)
        dec = [ln.decode("utf-8", "replace").rstrip("\r\n") for ln in lines]
        return dec[:-1], dec[-1][len(tag) + 1:]

    def ok(self, text):
        untagged, tagged = self.run(text)
        if not tagged.startswith("OK"):
            raise AssertionError("%s -> %s" % (text, tagged))
        return untagged

    def close(self):
        self.c.close()


def exists(untagged):
    for ln in untagged:
        m = re.match(r"\* (\d+) EXISTS$", ln)
        if m:
            return int(m.group(1))
    return None


def uidvalidity(untagged):
    for ln in untagged:
        m = re.search(r"\[UIDVALIDITY (\d+)\]", ln)
        if m:
            return int(m.group(1))
    return None


MSG = (b"From: Ann <ann@example.net>\r\nTo: bob@example.org\r\n"
       b"Subject: %s\r\nMessage-ID: <%s@example.net>\r\n"
       b"Date: Tue, 24 Nov 2026 10:00:00 +0100\r\n\r\nbody of %s\r\n")


class ImapCompat(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("compat_imap")
        cls.f.start()
        cls.f.add_domain("example.org")
        cls.f.add_user("bob@example.org", "secret")
        cls.f.add_user("tb@example.org", "secret")
        for i in range(3):
            cls.f.deliver("bob@example.org", MSG % ((b"m%d" % i,) * 3))
        cls.f.wait_messages("bob@example.org", 3)

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()

    def imap(self, user="bob@example.org"):
        s = Imap(self.f, user)
        self.addCleanup(s.close)
        return s

    # -- Thunderbird ------------------------------------------------------
    def test_thunderbird_sequence(self):
        self.f.deliver("tb@example.org", MSG % ((b"tb",) * 3))
        self.f.wait_messages("tb@example.org", 1)
        s = self.imap("tb@example.org")
        caps = " ".join(s.ok("CAPABILITY"))
        for c in ("IMAP4rev1", "IDLE", "UIDPLUS", "MOVE", "SPECIAL-USE",
                  "NAMESPACE", "ID"):
            self.assertIn(c, caps)
        self.assertTrue(any(ln.startswith("* ID ") for ln in
                            s.ok('ID ("name" "Thunderbird" "version" '
                                 '"128.0")')))
        lst = s.ok('LIST (SPECIAL-USE) "" "*"')
        uses = " ".join(lst)
        for u in ("\\Sent", "\\Drafts", "\\Trash", "\\Junk"):
            self.assertIn(u, uses)
        lst = s.ok('LIST "" "*"')
        self.assertIn('* LIST (\\HasNoChildren) "." "INBOX"', lst)
        sel = s.ok("SELECT INBOX")
        self.assertEqual(exists(sel), 1)
        self.assertTrue(any("[UIDNEXT " in ln for ln in sel))
        self.assertTrue(any("[PERMANENTFLAGS " in ln for ln in sel))
        fl = s.ok("UID FETCH 1:* (FLAGS)")
        self.assertEqual(len(fl), 1)
        self.assertRegex(fl[0], r"^\* 1 FETCH \((UID 1 FLAGS \([^)]*\)|"
                         r"FLAGS \([^)]*\) UID 1)\)$")
        self.assertNotIn("\\Seen", fl[0])
        hdr = s.ok("UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER."
                   "FIELDS (From To Cc Bcc Subject Date Message-ID Priority "
                   "X-Priority References Newsgroups In-Reply-To "
                   "Content-Type Reply-To)])")
        self.assertIn("Subject: tb", hdr)
        self.assertNotIn("Received:", "\n".join(hdr))
        # peek did not set \Seen
        self.assertNotIn("\\Seen", s.ok("UID FETCH 1 (FLAGS)")[0])
        # APPEND to Sent with flags and a date (LITERAL+)
        msg = MSG % ((b"sent",) * 3)
        untagged, tagged = s.run(
            b'APPEND Sent (\\Seen) "24-Nov-2026 10:00:00 +0100" {%d+}\r\n'
            % len(msg) + msg)
        self.assertRegex(tagged, r"^OK \[APPENDUID \d+ 1\]")
        # the date given to APPEND is the INTERNALDATE (same instant)
        s.ok("EXAMINE Sent")
        idate = re.search(r'INTERNALDATE "([^"]+)"',
                          s.ok("FETCH 1 (INTERNALDATE)")[0]).group(1)
        self.assertEqual(
            datetime.datetime.strptime(idate.strip(),
                                       "%d-%b-%Y %H:%M:%S %z"),
            datetime.datetime(2026, 11, 24, 9, 0, 0,
                              tzinfo=datetime.timezone.utc))
        s.ok("SELECT INBOX")
        st = s.ok("STATUS Sent (MESSAGES UNSEEN UIDNEXT)")
        self.assertIn("MESSAGES 1", st[0])
        self.assertIn("UNSEEN 0", st[0])
        self.assertIn("UIDNEXT 2", st[0])
        # UID STORE, UID MOVE to Trash, EXPUNGE
        s.ok("UID STORE 1 +FLAGS (\\Seen $label1)")
        untagged, tagged = s.run("UID MOVE 1 Trash")
        self.assertTrue(tagged.startswith("OK"), tagged)
        self.assertTrue(any(re.search(r"\[COPYUID \d+ 1 1\]", ln)
                            for ln in untagged + [tagged]))
        self.assertIn("* 1 EXPUNGE", untagged)
        self.assertEqual(s.ok("UID FETCH 1:* (FLAGS)"), [])
        tr = s.ok("EXAMINE Trash")
        self.assertEqual(exists(tr), 1)
        f = s.ok("FETCH 1 (FLAGS INTERNALDATE)")[0]
        self.assertIn("\\Seen", f)
        self.assertIn("$label1", f)

    def test_idle_sees_delivery_and_expunge(self):
        s = self.imap()
        s.ok("SELECT INBOX")
        n0 = exists(s.ok("NOOP")) or len(s.ok("SEARCH ALL")[0].split()) - 2
        s.c.send(b"i1 IDLE\r\n")
        self.assertTrue(s.c.line().startswith(b"+ "))
        self.f.deliver("bob@example.org", MSG % ((b"idle",) * 3))
        s.c.sock.settimeout(10)
        ln = s.c.line()
        self.assertRegex(ln, rb"^\* \d+ EXISTS\r\n$")
        n1 = int(ln.split()[1])
        self.assertGreater(n1, n0)
        s.c.send(b"DONE\r\n")
        rest = s.c.until_tagged("i1")
        self.assertTrue(rest[-1].startswith(b"i1 OK"))
        # the other session expunges it; the IDLE session hears it
        o = self.imap()
        o.ok("SELECT INBOX")
        o.ok("STORE %d +FLAGS.SILENT (\\Deleted)" % n1)
        s.c.send(b"i2 IDLE\r\n")
        # the flag change may be announced before or after "+"
        ln = s.c.line()
        while ln.startswith(b"* "):
            self.assertIn(b"FETCH", ln)
            ln = s.c.line()
        self.assertTrue(ln.startswith(b"+ "), ln)
        o.ok("EXPUNGE")
        self.assertEqual(s.c.line(), b"* %d EXPUNGE\r\n" % n1)
        s.c.send(b"DONE\r\n")
        s.c.until_tagged("i2")

    # -- two sessions: RFC 3501 7.4.1, 5.5 ----------------------------------
    def test_no_expunge_during_fetch_store_search(self):
        for i in range(2):
            self.f.deliver("bob@example.org", MSG % ((b"x%d" % i,) * 3))
        a = self.imap()
        b = self.imap()
        n = exists(a.ok("SELECT INBOX"))
        self.assertEqual(exists(b.ok("SELECT INBOX")), n)
        a.ok("STORE %d +FLAGS.SILENT (\\Deleted)" % n)
        a.ok("EXPUNGE")
        # RFC 3501 7.4.1: no EXPUNGE during FETCH, STORE, SEARCH
        for c in ("FETCH 1:* (FLAGS)", "STORE 1 +FLAGS.SILENT (\\Seen)",
                  "SEARCH ALL"):
            untagged, tagged = b.run(c)
            self.assertFalse([ln for ln in untagged if "EXPUNGE" in ln],
                             "%s: %r" % (c, untagged))
        # NOOP reports it, and sequence numbers follow
        self.assertIn("* %d EXPUNGE" % n, b.ok("NOOP"))
        self.assertEqual(len(b.ok("FETCH 1:* (UID)")), n - 1)
        # an EXISTS for new mail comes before the tagged OK of NOOP
        self.f.deliver("bob@example.org", MSG % ((b"new",) * 3))
        time.sleep(0.3)
        self.assertIn("* %d EXISTS" % n, b.ok("NOOP"))

    # -- K-9, iOS ---------------------------------------------------------
    def test_k9_ios_sequence(self):
        s = self.imap()
        ns = s.ok("NAMESPACE")
        self.assertEqual(ns, ['* NAMESPACE (("" ".")) NIL NIL'])
        # hierarchy delimiter query
        self.assertEqual(s.ok('LIST "" ""'), ['* LIST (\\Noselect) "." ""'])
        # RFC 5258 LIST-EXTENDED is not advertised: BAD or plain answers,
        # never a crash
        for c in ('LIST "" "*" RETURN (SPECIAL-USE)',
                  'LIST "" "*" RETURN (STATUS (MESSAGES UNSEEN))',
                  'LIST (SUBSCRIBED) "" "*"'):
            untagged, tagged = s.run(c)
            self.assertRegex(tagged, r"^(OK|BAD)")
        s.ok("NOOP")
        s.ok("EXAMINE INBOX")
        # iOS: UID SEARCH over a range, UID FETCH with BODYSTRUCTURE
        uids = s.ok("UID SEARCH 1:*")[0].split()[2:]
        self.assertTrue(uids)
        bs = s.ok("UID FETCH %s (UID FLAGS BODYSTRUCTURE ENVELOPE "
                  "INTERNALDATE RFC822.SIZE)" % uids[0])
        self.assertIn('"text" "plain"', bs[0])
        self.assertIn('"Ann" NIL "ann" "example.net"', bs[0])
        # EXAMINE is read-only: STORE fails, FETCH BODY[] sets nothing
        untagged, tagged = s.run("UID STORE %s +FLAGS (\\Flagged)"
                                 % uids[0])
        self.assertTrue(tagged.startswith("NO"), tagged)

    # -- Outlook ----------------------------------------------------------
    def test_outlook_polling(self):
        s = self.imap()
        mboxes = [re.search(r'"([^"]*)"$', ln).group(1)
                  for ln in s.ok('LIST "" "*"') if "\\Noselect" not in ln]
        for _ in range(3):
            for m in mboxes:
                st = s.ok('STATUS "%s" (MESSAGES UNSEEN RECENT UIDNEXT '
                          'UIDVALIDITY)' % m)
                self.assertEqual(len(st), 1)
                self.assertRegex(st[0], r'^\* STATUS "?%s"? \(MESSAGES \d+ '
                                 r'UNSEEN \d+ RECENT \d+ UIDNEXT \d+ '
                                 r'UIDVALIDITY \d+\)$' % re.escape(m))
            s.ok("NOOP")
        s.ok("SELECT INBOX")
        # STATUS of the selected mailbox is allowed (RFC 3501 6.3.10)
        s.ok("STATUS INBOX (MESSAGES)")
        s.ok("CHECK")

    # -- syntax: literals, names, numbers --------------------------------
    def test_literals(self):
        s = Imap(self.f, user=None)
        self.addCleanup(s.close)
        s.c.send(b"l1 LOGIN {15}\r\n")
        self.assertTrue(s.c.line().startswith(b"+"))
        s.c.send(b"bob@example.org {6}\r\n")
        self.assertTrue(s.c.line().startswith(b"+"))
        s.c.send(b"secret\r\n")
        self.assertTrue(s.c.until_tagged("l1")[-1].startswith(b"l1 OK"))
        # LITERAL+ and an empty quoted string
        untagged, tagged = s.run(b'LIST {0+}\r\n "*"')
        self.assertTrue(tagged.startswith("OK"), tagged)
        # a literal too big for APPEND: NO [TOOBIG] without "+" first
        s.c.send(b"l2 APPEND INBOX {999999999999}\r\n")
        ln = s.c.line()
        self.assertTrue(ln.startswith(b"l2 NO") or ln.startswith(b"l2 BAD"),
                        ln)
        s.ok("NOOP")

    def test_empty_literal_arguments(self):
        # An empty literal ({0} or {0+}) as an astring is the empty
        # string, as "" is (RFC 3501 4.3, RFC 7888). It once was not
        # NUL-terminated (buf_reserve on an empty buffer), and commands
        # read heap garbage:
        #   GETQUOTAROOT {0+}\r\n -> NO [NONEXISTENT] Mailbox doesn't
        #       exist: <6 heap bytes, a pointer>   (info leak)
        #   SELECT {0+}\r\n -> NO [CANNOT] Control characters/8-bit ...
        #   LIST {0+}\r\n "*" -> ASan heap-buffer-overflow (strlen in
        #       cmd_mailbox.c do_list), the worker dies with every session
        s = self.imap()
        _, quoted = s.run('GETQUOTAROOT ""')
        _, literal = s.run(b"GETQUOTAROOT {0+}\r\n")
        self.assertEqual(literal, quoted)
        _, quoted = s.run('SELECT ""')
        _, literal = s.run(b"SELECT {0+}\r\n")
        self.assertEqual(literal, quoted)
        self.assertEqual(s.ok(b'LIST {0+}\r\n "*"'), s.ok('LIST "" "*"'))

    def test_mutf7_names_and_rename(self):
        s = self.imap()
        s.ok('CREATE "Caf&AOk-"')
        s.ok('CREATE "&ZeVnLIqe-.&U,BTFw-"')
        names = "\n".join(s.ok('LIST "" "*"'))
        self.assertIn('"Caf&AOk-"', names)
        self.assertIn('"&ZeVnLIqe-.&U,BTFw-"', names)
        # 8-bit and broken modified UTF-7 are refused, not stored
        for bad in ('"Caf\xc3\xa9"', '"Caf&AOk"', '"&Jjo!"'):
            untagged, tagged = s.run(('CREATE ' + bad).encode("latin-1"))
            self.assertRegex(tagged, r"^(NO|BAD)")
        s.ok('SELECT "Caf&AOk-"')
        s.ok('RENAME "Caf&AOk-" "Th&AOk-"')
        names = "\n".join(s.ok('LIST "" "*"'))
        self.assertIn('"Th&AOk-"', names)
        self.assertNotIn('"Caf&AOk-"', names)
        # RFC 3501 6.3.5: renaming INBOX moves its messages, INBOX stays
        n = exists(s.ok("SELECT INBOX"))
        s.ok('RENAME INBOX "Old-Inbox"')
        self.assertEqual(exists(s.ok('SELECT "Old-Inbox"')), n)
        self.assertEqual(exists(s.ok('SELECT INBOX')), 0)
        s.ok("UID MOVE 1:* INBOX") if False else None
        s.ok('SELECT "Old-Inbox"')
        s.ok('MOVE 1:* INBOX')
        self.assertEqual(exists(s.ok('SELECT INBOX')), n)

    def test_mailbox_errors(self):
        s = self.imap()
        s.ok("SELECT INBOX")
        # RFC 3501 6.4.7 / 6.3.11: [TRYCREATE]
        for c in ("COPY 1 Nonexistent", "APPEND Nonexistent {1+}\r\nx"):
            untagged, tagged = s.run(c)
            self.assertTrue(tagged.startswith("NO [TRYCREATE]"), tagged)
        for c in ("DELETE INBOX", "CREATE INBOX", "CREATE inbox",
                  "SELECT Nonexistent"):
            untagged, tagged = s.run(c)
            self.assertTrue(tagged.startswith("NO"), (c, tagged))
        # a failed SELECT leaves no mailbox selected (RFC 3501 6.3.1)
        untagged, tagged = s.run("FETCH 1 (FLAGS)")
        self.assertTrue(tagged.startswith("BAD"), tagged)

    def test_sequence_numbers(self):
        s = self.imap()
        s.ok("SELECT INBOX")
        for c in ("FETCH 0 (UID)", "FETCH 1:0 (UID)", "FETCH x (UID)"):
            untagged, tagged = s.run(c)
            self.assertTrue(tagged.startswith("BAD"), (c, tagged))
        # UIDs that do not exist: OK with nothing
        self.assertEqual(s.ok("UID FETCH 999999 (UID)"), [])

    def test_uid_4294967295(self):
        # RFC 3501 9 (and RFC 9051): nz-number is 1..4294967295, so
        # "UID FETCH 1:4294967295" (common in sync tools) is valid and
        # means every message (was BAD; fixed by imap in 2a571fb)
        s = self.imap()
        n = exists(s.ok("SELECT INBOX"))
        self.assertEqual(len(s.ok("UID FETCH 1:4294967295 (UID)")), n)
        self.assertEqual(s.ok("UID FETCH 4294967295 (UID)"), [])
        s.ok("UID SEARCH UID 4294967295")

    def test_lsub_star_lists_only_subscribed(self):
        # RFC 3501 6.3.9: LSUB returns names from the subscription list;
        # only for "%" does an unsubscribed parent come back as
        # \Noselect (fixed by imap in 2a571fb)
        s = self.imap()
        s.ok('CREATE "Lsub.Child"')
        s.ok('SUBSCRIBE "Lsub.Child"')
        lsub = s.ok('LSUB "" "*"')
        self.assertIn('* LSUB () "." "Lsub.Child"', lsub)
        self.assertFalse([ln for ln in lsub if ln.endswith('"Lsub"')],
                         lsub)

    def test_lsub_percent_parent_noselect(self):
        s = self.imap()
        s.ok('CREATE "Pct.Child"')
        s.ok('SUBSCRIBE "Pct.Child"')
        lsub = s.ok('LSUB "" "Pct%"')
        self.assertEqual(lsub, ['* LSUB (\\Noselect) "." "Pct"'])

    def test_uidvalidity_and_uids_survive_restart(self):
        s = self.imap()
        sel = s.ok("SELECT INBOX")
        v1 = uidvalidity(sel)
        uids1 = s.ok("UID SEARCH ALL")
        st1 = s.ok("STATUS Sent (UIDVALIDITY UIDNEXT)")
        s.close()
        self.f.restart()
        s = self.imap()
        sel = s.ok("SELECT INBOX")
        self.assertEqual(uidvalidity(sel), v1)
        self.assertEqual(s.ok("UID SEARCH ALL"), uids1)
        self.assertEqual(s.ok("STATUS Sent (UIDVALIDITY UIDNEXT)"), st1)


if __name__ == "__main__":
    unittest.main()
