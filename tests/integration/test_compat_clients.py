"""Real clients against facteur: swaks in every AUTH/TLS mode, curl's
smtps/imaps/pop3s URLs (listing, UID fetch, SEARCH through -X),
fetchmail over POP3 and IMAP, and mbsync syncing a new account both ways
(Maildir on the client side, a folder created on the client, a message
deleted on the server, a flag and a deletion pushed from the client).

Each test skips when its tool is not installed.
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from fixture import Facteur, wait_for


def have(tool):
    return shutil.which(tool) is not None


MSG = ("From: ann@example.net\r\nTo: %(to)s\r\nSubject: %(subj)s\r\n"
       "Message-ID: <%(subj)s@example.net>\r\n"
       "Date: Tue, 24 Nov 2026 10:00:00 +0100\r\n\r\nbody %(subj)s\r\n")


class ClientsCompat(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("compat_clients")
        cls.f.start()
        cls.f.add_domain("example.org")
        for u in ("bob", "sw", "cu", "fm", "mb"):
            cls.f.add_user("%s@example.org" % u, "secret")
        cls.tmp = tempfile.mkdtemp(prefix="compat-clients-",
                                   dir=os.path.dirname(cls.f.dir))

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def put(self, to, subj):
        self.f.deliver(to, MSG % {"to": to, "subj": subj})

    def run_tool(self, args, timeout=60, input=None):
        p = subprocess.run(args, capture_output=True, text=True,
                           timeout=timeout, input=input,
                           env=dict(os.environ, HOME=self.tmp))
        return p

    # -- swaks ------------------------------------------------------------
    def swaks(self, *extra):
        args = ["swaks", "-s", "127.0.0.1", "--to", "sw@example.org",
                "--helo", "client.example.net", "--h-Subject",
                "swaks test"] + list(extra)
        return self.run_tool(args)

    @unittest.skipUnless(have("swaks"), "swaks not installed")
    def test_swaks_modes(self):
        p = self.f.ports
        auth = ["-au", "bob@example.org", "-ap", "secret",
                "-f", "bob@example.org"]
        ok_modes = [
            ("plain 25", ["-p", str(p["smtp"])]),
            ("starttls 25", ["-p", str(p["smtp"]), "-tls"]),
            ("pipelining 25", ["-p", str(p["smtp"]), "--pipeline"]),
            ("587 PLAIN", ["-p", str(p["submission"]), "-tls", "-a",
                           "PLAIN"] + auth),
            ("587 LOGIN", ["-p", str(p["submission"]), "-tls", "-a",
                           "LOGIN"] + auth),
            ("465 PLAIN", ["-p", str(p["smtps"]), "-tlsc", "-a",
                           "PLAIN"] + auth),
            ("465 LOGIN pipelined", ["-p", str(p["smtps"]), "-tlsc", "-a",
                                     "LOGIN", "--pipeline"] + auth),
            ("custom body", ["-p", str(p["smtp"]), "--body",
                          "line\nline\n"]),
        ]
        before = len(self.f.messages("sw@example.org"))
        for name, args in ok_modes:
            r = self.swaks(*args)
            self.assertEqual(r.returncode, 0, "%s:\n%s%s" % (
                name, r.stdout[-2000:], r.stderr[-500:]))
        self.assertTrue(self.f.wait_messages("sw@example.org",
                                             before + len(ok_modes)))
        bad_modes = [
            # AUTH only on submission ports, only under TLS
            ("auth on 25", ["-p", str(p["smtp"]), "-tls", "-a", "PLAIN"]
             + auth, "did not advertise"),
            ("587 without TLS", ["-p", str(p["submission"]), "-a",
                                 "PLAIN"] + auth, "did not advertise"),
            ("CRAM-MD5", ["-p", str(p["submission"]), "-tls", "-a",
                          "CRAM-MD5"] + auth, "not available"),
            ("bad password", ["-p", str(p["smtps"]), "-tlsc", "-a", "PLAIN",
                              "-au", "bob@example.org", "-ap", "wrong"],
             "535 5.7.8"),
            ("not owner", ["-p", str(p["smtps"]), "-tlsc", "-a", "PLAIN",
                           "-au", "bob@example.org", "-ap", "secret",
                           "-f", "sw@example.org"], "553 5.7.1"),
        ]
        for name, args, why in bad_modes:
            r = self.swaks(*args)
            self.assertNotEqual(r.returncode, 0, name)
            self.assertIn(why, r.stdout + r.stderr, name)

    # -- curl -------------------------------------------------------------
    def curl(self, url, *extra, user="cu@example.org:secret", input=None):
        args = ["curl", "-sS", "--cacert", self.f.cafile, "-u", user,
                url] + list(extra)
        return self.run_tool(args, input=input)

    @unittest.skipUnless(have("curl"), "curl not installed")
    def test_curl_smtps_imaps_pop3s(self):
        p = self.f.ports
        msg = MSG % {"to": "cu@example.org", "subj": "viacurl"}
        r = self.curl("smtps://localhost:%d" % p["smtps"],
                      "--mail-from", "cu@example.org",
                      "--mail-rcpt", "cu@example.org", "-T", "-",
                      input=msg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.put("cu@example.org", "second")
        self.assertTrue(self.f.wait_messages("cu@example.org", 2))
        imap = "imaps://localhost:%d" % p["imaps"]
        r = self.curl(imap + "/")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('"INBOX"', r.stdout)
        self.assertIn("\\Sent", r.stdout)
        r = self.curl(imap + "/INBOX", "-X", "UID SEARCH SUBJECT second")
        self.assertEqual(r.returncode, 0, r.stderr)
        uid = re.search(r"\* SEARCH (\d+)", r.stdout).group(1)
        r = self.curl(imap + "/INBOX;UID=%s" % uid)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("body second", r.stdout)
        r = self.curl(imap + "/INBOX;UID=%s/;SECTION=HEADER.FIELDS%%20"
                      "(SUBJECT)" % uid)
        self.assertEqual(r.stdout.strip(), "Subject: second")
        r = self.curl(imap + "/INBOX?SUBJECT%20viacurl")
        self.assertRegex(r.stdout, r"\* SEARCH \d+")
        r = self.curl(imap + "/INBOX", "-X", "EXAMINE INBOX")
        self.assertIn("2 EXISTS", r.stdout)
        r = self.curl(imap + "/", "-X", 'CREATE "From curl"')
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.curl(imap + "/", "-X", 'LIST "" "From*"')
        self.assertIn('"From curl"', r.stdout)
        # APPEND through curl's upload
        up = os.path.join(self.tmp, "upload.eml")
        with open(up, "w") as fh:
            fh.write(MSG % {"to": "x", "subj": "uploaded"})
        r = self.curl(imap + "/From%20curl", "-T", up)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.curl(imap + "/From%20curl", "-X", "STATUS \"From curl\" "
                      "(MESSAGES)")
        self.assertIn("MESSAGES 1", r.stdout)
        # wrong password: curl's login failure (67)
        r = self.curl(imap + "/", user="cu@example.org:wrong")
        self.assertEqual(r.returncode, 67, r.stderr)
        pop = "pop3s://localhost:%d" % p["pop3s"]
        r = self.curl(pop + "/")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(r.stdout.split("\n")) - 1, 2)
        r = self.curl(pop + "/1")
        self.assertIn("body viacurl", r.stdout)
        r = self.curl(pop + "/", "-X", "UIDL")
        self.assertEqual(len(r.stdout.strip().split("\n")), 2)
        r = self.curl(pop + "/", "-X", "TOP 2 0")
        self.assertIn("Subject: second", r.stdout)
        self.assertNotIn("body second", r.stdout)

    # -- fetchmail --------------------------------------------------------
    @unittest.skipUnless(have("fetchmail"), "fetchmail not installed")
    def test_fetchmail_pop3_and_imap(self):
        for i in range(3):
            self.put("fm@example.org", "fm%d" % i)
        self.assertTrue(self.f.wait_messages("fm@example.org", 3))
        out = os.path.join(self.tmp, "fetchmail.out")
        rc = os.path.join(self.tmp, "fetchmailrc")
        for proto, port, keep in (("pop3", self.f.ports["pop3s"], "keep"),
                                  ("imap", self.f.ports["imaps"], "")):
            if os.path.exists(out):
                os.unlink(out)
            with open(rc, "w") as fh:
                fh.write('set no bouncemail\npoll localhost port %d proto '
                         '%s auth password user "fm@example.org" there '
                         'with password "secret" is "%s" here options ssl '
                         'sslcertck sslcertfile "%s" %s mda "/bin/sh -c '
                         '\'cat >> %s\'"\n' % (
                             port, proto, os.environ.get("USER", "root"),
                             self.f.cafile, keep, out))
            os.chmod(rc, 0o600)
            r = self.run_tool(["fetchmail", "-f", rc, "--nodetach", "-a",
                               "-v"])
            self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr)
            with open(out, "rb") as fh:
                got = fh.read()
            for i in range(3):
                self.assertIn(b"Subject: fm%d" % i, got, proto)
        # the IMAP run (no keep) flagged and expunged them
        self.assertTrue(wait_for(lambda: not self.f.messages(
            "fm@example.org", "new") and not self.f.messages(
                "fm@example.org", "cur")))

    # -- mbsync -----------------------------------------------------------
    @unittest.skipUnless(have("mbsync"), "mbsync (isync) not installed")
    def test_mbsync_both_ways(self):
        for i in range(3):
            self.put("mb@example.org", "mb%d" % i)
        self.assertTrue(self.f.wait_messages("mb@example.org", 3))
        local = os.path.join(self.tmp, "mbsync-local")
        os.makedirs(local)
        rc = os.path.join(self.tmp, "mbsyncrc")
        with open(rc, "w") as fh:
            fh.write("""IMAPAccount t
Host localhost
Port %d
User mb@example.org
Pass secret
SSLType IMAPS
CertificateFile %s

IMAPStore remote
Account t

MaildirStore local
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel c
Far :remote:
Near :local:
Patterns *
Create Both
Remove Both
Expunge Both
SyncState *
""" % (self.f.ports["imaps"], self.f.cafile, local, local))

        def sync():
            r = self.run_tool(["mbsync", "-V", "-c", rc, "c"])
            self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr)
            return r.stdout + r.stderr

        def local_msgs(folder="INBOX"):
            d = os.path.join(local, folder)
            return sorted(os.path.join(d, s, n) for s in ("cur", "new")
                          for n in os.listdir(os.path.join(d, s)))

        sync()
        self.assertEqual(len(local_msgs()), 3)
        for box in ("Sent", "Drafts", "Trash", "Junk"):
            self.assertTrue(os.path.isdir(os.path.join(local, box)), box)
        # a folder made on the client, with one message in it
        os.makedirs(os.path.join(local, "Projects", "cur"))
        for sub in ("new", "tmp"):
            os.makedirs(os.path.join(local, "Projects", sub))
        shutil.copy(local_msgs()[0], os.path.join(
            local, "Projects", "new", "1795000000.1_1.client"))
        sync()
        self.assertEqual(len(self.f.messages("mb@example.org", "new",
                                             "Projects")) +
                         len(self.f.messages("mb@example.org", "cur",
                                             "Projects")), 1)
        # a message deleted on the server (IMAP) disappears locally
        import imaplib
        import ssl as _ssl
        m = imaplib.IMAP4_SSL("localhost", self.f.ports["imaps"],
                              ssl_context=self.f.ssl_context())
        m.login("mb@example.org", "secret")
        m.select("INBOX")
        typ, data = m.search(None, "SUBJECT", "mb1")
        m.store(data[0].split()[0], "+FLAGS", "(\\Deleted)")
        m.expunge()
        sync()
        names = local_msgs()
        self.assertEqual(len(names), 2)
        self.assertFalse([n for n in names if b"Subject: mb1" in
                          open(n, "rb").read()])
        # a flag and a deletion made on the client reach the server
        first, second = names
        os.rename(first, re.sub(r"(:2,[A-Z]*)?$", ":2,F", first))
        os.unlink(second)
        sync()
        m.select("INBOX")
        typ, data = m.fetch("1:*", "(FLAGS)")
        self.assertEqual(len([d for d in data if d]), 1, data)
        self.assertIn(b"\\Flagged", data[0])
        m.logout()
        # nothing left to do: a second sync changes nothing
        out = sync()
        self.assertNotIn("pushed", out)
        self.assertNotIn("pulled", out)


if __name__ == "__main__":
    unittest.main()
