"""SORT, THREAD, ESORT and ESEARCH against Dovecot: random mailboxes (decorated subjects,
encoded words, missing and garbage dates, duplicate and missing
Message-IDs, References and In-Reply-To to earlier, later and absent
messages, reference loops) are filled through facteur's APPEND; the same
Maildir is then read by Dovecot's imap binary (PREAUTH on stdin), and
every SORT criterion and both THREAD algorithms must answer identically.

Skips when not root or without /usr/lib/dovecot/imap."""
import calendar
import imaplib
import os
import random
import re
import shutil
import subprocess
import tempfile
import unittest

from fixture import Facteur

DOVECOT_IMAP = "/usr/lib/dovecot/imap"
USER = "diff@example.org"
PASS = "diff-pw-1234"
CMDS = (["THREAD REFERENCES UTF-8 ALL", "THREAD ORDEREDSUBJECT UTF-8 ALL",
         "THREAD REFERENCES UTF-8 NOT SUBJECT apple"] +
        ["SORT (%s) UTF-8 ALL" % c for c in
         ("SUBJECT", "DATE", "FROM", "TO", "CC", "SIZE", "ARRIVAL",
          "REVERSE SUBJECT DATE", "FROM REVERSE DATE", "REVERSE ARRIVAL")] +
        ["SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 ALL",
         "SORT RETURN (ALL) (SUBJECT) UTF-8 1:10",
         "UID SORT RETURN (MIN MAX) (FROM) UTF-8 ALL",
         "SEARCH RETURN (MIN MAX COUNT ALL) SUBJECT apple",
         "UID SEARCH RETURN () FROM amy",
         "SEARCH RETURN (MIN) SUBJECT nothing-at-all"])
KINDS = (b"* THREAD", b"* SORT", b"* ESEARCH")


def untag(line):
    """An ESEARCH line without its (TAG "x") correlator."""
    return re.sub(r'^\* ESEARCH \(TAG "[^"]*"\)', "* ESEARCH", line)


def mailbox(seed, n):
    rnd = random.Random(seed)
    bases = ["apple", "banana", "cherry pie", "Apple", "", "x"]
    decor = [lambda s: s, lambda s: "Re: " + s, lambda s: "Fwd: " + s,
             lambda s: "RE: re: " + s, lambda s: "[list] " + s,
             lambda s: "[list] Re: " + s, lambda s: s + " (fwd)",
             lambda s: "[fwd: " + s + "]", lambda s: "Re[2]: " + s,
             lambda s: "  " + s + "  ",
             lambda s: "=?UTF-8?Q?" + s.replace(" ", "_") + "?="]
    users = ["amy", "Bob", "carl", "dan", "eve", "zed"]
    ids = ["<m%d@x.test>" % i for i in range(n + 20)]
    out = []
    for i in range(n):
        h = []
        if rnd.random() < 0.9:
            h.append(("Subject", rnd.choice(decor)(rnd.choice(bases))))
        if rnd.random() < 0.9:
            h.append(("From", "%s <%s@x.test>" % (rnd.choice(users),
                                                  rnd.choice(users))))
        if rnd.random() < 0.7:
            h.append(("To", "%s@x.test" % rnd.choice(users)))
        if rnd.random() < 0.3:
            h.append(("Cc", "%s@x.test, %s@y.test" % (rnd.choice(users),
                                                      rnd.choice(users))))
        r = rnd.random()
        if r < 0.8:
            h.append(("Date", "Mon, %d Jan 2026 %02d:%02d:00 %s" % (
                rnd.randrange(1, 20), rnd.randrange(24), rnd.randrange(60),
                rnd.choice(["+0000", "+0200", "-0500"]))))
        elif r < 0.85:
            h.append(("Date", "garbage"))
        if rnd.random() < 0.9:
            h.append(("Message-ID", rnd.choice(ids[:i + 5])
                      if rnd.random() < 0.1 else ids[i]))
        r = rnd.random()
        if r < 0.4 and i > 0:
            h.append(("References", " ".join(
                rnd.choice(ids[:i + 10]) for _ in range(rnd.randrange(1, 4)))))
        elif r < 0.6 and i > 0:
            h.append(("In-Reply-To", rnd.choice(ids[:i + 10])))
        body = ("".join("%s: %s\r\n" % x for x in h) + "\r\n" +
                "b" * rnd.randrange(10, 2000) + "\r\n")
        when = calendar.timegm((2026, 2, rnd.randrange(1, 28), 12,
                                rnd.randrange(60), 0, 0, 0, 0))
        out.append((body.encode(), when))
    return out


@unittest.skipUnless(os.geteuid() == 0 and os.path.exists(DOVECOT_IMAP),
                     "needs root and %s" % DOVECOT_IMAP)
class SortThreadVsDovecot(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("imapsortdv")
        cls.f.start()
        cls.f.add_domain("example.org")
        cls.f.add_user(USER, PASS)
        cls.dv = tempfile.mkdtemp(prefix="facteur-dv-")
        os.chmod(cls.dv, 0o755)
        with open(os.path.join(cls.dv, "dovecot.conf"), "w") as fh:
            fh.write("mail_location = maildir:%s/Maildir\n"
                     "log_path = %s/dovecot.log\nssl = no\n"
                     "mail_uid = nobody\nmail_gid = nogroup\n"
                     "first_valid_uid = 1\nfirst_valid_gid = 1\n"
                     % (cls.dv, cls.dv))

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()
        shutil.rmtree(cls.dv, ignore_errors=True)

    def ours(self, box):
        m = imaplib.IMAP4_SSL("localhost", self.f.ports["imaps"],
                              ssl_context=self.f.ssl_context(), timeout=60)
        m.login(USER, PASS)
        m.create(box)
        out = []
        for body, when in self.msgs:
            self.assertEqual(m.append(box, None,
                                      imaplib.Time2Internaldate(when),
                                      body)[0], "OK")
        m.select(box)
        for c in CMDS:
            tag = m._new_tag()
            m.send(tag + b" " + c.encode() + b"\r\n")
            while True:
                line = m._get_line()
                if line.startswith(tag):
                    self.assertIn(b" OK ", line)
                    break
                if line.startswith(KINDS):
                    out.append(untag(line.decode()))
        m.logout()
        return out

    def theirs(self, box):
        md = os.path.join(self.dv, "Maildir")
        shutil.rmtree(md, ignore_errors=True)
        shutil.copytree(self.f.maildir(USER, box), md)
        subprocess.run(["chown", "-R", "nobody:nogroup", self.dv],
                       check=True)
        inp = ("a SELECT INBOX\r\n" + "".join(
            "t%d %s\r\n" % (i, c) for i, c in enumerate(CMDS)) +
            "z LOGOUT\r\n")
        p = subprocess.run([DOVECOT_IMAP, "-c",
                            os.path.join(self.dv, "dovecot.conf")],
                           input=inp.encode(), capture_output=True,
                           env={"USER": "diff", "HOME": self.dv},
                           timeout=60)
        return [untag(x) for x in p.stdout.decode().split("\r\n")
                if x.encode().startswith(KINDS)]

    def check(self, seed, n):
        self.msgs = mailbox(seed, n)
        box = "Diff%d" % seed
        ours = self.ours(box)
        theirs = self.theirs(box)
        self.assertEqual(len(ours), len(CMDS))
        self.assertEqual(len(theirs), len(CMDS))
        for c, a, b in zip(CMDS, ours, theirs):
            self.assertEqual(a, b, c)

    def test_seed_1(self):
        self.check(1, 60)

    def test_seed_2(self):
        self.check(2, 300)

    def test_seed_3(self):
        self.check(3, 300)


if __name__ == "__main__":
    unittest.main()
