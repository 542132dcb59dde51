"""Who gets a DKIM signature, and who may claim our Authentication-Results:
the server signs only what its domains can vouch for (a submission whose
From domain is the envelope sender's, proven owned by the user; mail an
alias forwards, unless that would make a spoofed From pass DMARC), and
no client on any port can bring in an Authentication-Results field under
our name."""
import os
import smtplib
import time
import unittest

from fixture import Facteur, wait_for

PW = "policy-password-1"


class SigningPolicy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # no reachable DNS here: remote delivery defers, the queued copy
        # stays for inspection
        cls.f = Facteur("mapolicy", hostname="mx.policy.test",
                        dns_server="127.0.0.1:9")
        cls.f.start()
        for d in ("a.test", "b.test"):
            cls.f.add_domain(d)
            cls.f.cli("dkim", "generate", d, "--selector", "s1")
        cls.f.add_user("alice@a.test", PW)
        cls.f.add_user("bob@b.test", PW)
        cls.f.add_alias("fwd@b.test", "outside@remote.test")

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()

    def queued(self, marker):
        """Content of the queued message whose Subject holds marker."""
        d = os.path.join(self.f.queue_dir, "msg")

        def find():
            for name in os.listdir(d):
                with open(os.path.join(d, name), "rb") as fh:
                    data = fh.read()
                if marker.encode() in data:
                    return data
            return None
        return wait_for(find, 10)

    def submit(self, mail_from, header_from, rcpt, subject):
        s = self.f.smtp_tls("submission")
        try:
            s.login("alice@a.test", PW)
            s.sendmail(mail_from, [rcpt],
                       ("From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\nbody\r\n"
                        % (header_from, rcpt, subject)).encode())
        finally:
            s.quit()

    def test_submission_from_own_domain_is_signed(self):
        self.submit("alice@a.test", "Alice <alice@a.test>", "x@remote.test", "own-domain")
        data = self.queued("own-domain")
        self.assertIsNotNone(data)
        self.assertIn(b"DKIM-Signature:", data)
        self.assertIn(b"d=a.test", data)

    def test_submission_with_foreign_header_from_is_not_signed(self):
        # the envelope is alice's, the From claims another hosted domain
        self.submit("alice@a.test", "CEO <ceo@b.test>", "x@remote.test", "foreign-from")
        data = self.queued("foreign-from")
        self.assertIsNotNone(data)
        self.assertNotIn(b"DKIM-Signature:", data)

    def test_submission_with_null_sender_is_not_signed(self):
        self.submit("", "Alice <alice@a.test>", "x@remote.test", "null-sender")
        data = self.queued("null-sender")
        self.assertIsNotNone(data)
        self.assertNotIn(b"DKIM-Signature:", data)

    def test_forwarded_spoof_is_not_signed(self):
        self.f.deliver("fwd@b.test",
                       "From: ceo@b.test\r\nSubject: spoof-fwd\r\n\r\npay now\r\n",
                       sender="x@evil.test")
        data = self.queued("spoof-fwd")
        self.assertIsNotNone(data)
        self.assertNotIn(b"DKIM-Signature:", data)

    def test_forwarded_foreign_mail_is_signed_by_the_forwarder(self):
        self.f.deliver("fwd@b.test",
                       "From: friend@elsewhere.test\r\nSubject: honest-fwd\r\n\r\nhi\r\n",
                       sender="friend@elsewhere.test")
        data = self.queued("honest-fwd")
        self.assertIsNotNone(data)
        self.assertIn(b"DKIM-Signature:", data)
        self.assertIn(b"d=b.test", data)

    def test_forged_authentication_results_removed_on_submission(self):
        s = self.f.smtp_tls("submission")
        try:
            s.login("alice@a.test", PW)
            s.sendmail("alice@a.test", ["bob@b.test"],
                       b"Authentication-Results: mx.policy.test; dmarc=pass "
                       b"header.from=bank.test\r\nFrom: alice@a.test\r\n"
                       b"Subject: forged-ar\r\n\r\nbody\r\n")
        finally:
            s.quit()
        names = self.f.wait_messages("bob@b.test", 1)
        self.assertTrue(names)
        found = False
        for n in self.f.messages("bob@b.test"):
            data = self.f.read_message("bob@b.test", n)
            if b"forged-ar" in data:
                found = True
                self.assertNotIn(b"Authentication-Results: mx.policy.test", data)
        self.assertTrue(found)

    def test_submission_gets_missing_date_and_message_id_before_signing(self):
        self.submit("alice@a.test", "Alice <alice@a.test>", "x@remote.test",
                    "no-msgid")
        data = self.queued("no-msgid")
        self.assertIsNotNone(data)
        head = data.split(b"\n\n", 1)[0]
        self.assertRegex(head, rb"(?m)^Message-ID: <[0-9a-f]{16}-\d+@mx\.policy\.test>$")
        self.assertRegex(head, rb"(?m)^Date: [A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} ")
        self.assertEqual(head.count(b"\nMessage-ID:") + head.startswith(b"Message-ID:"), 1)
        # both are covered by the signature (added before signing)
        self.assertIn(b"DKIM-Signature:", data)
        # a message that has them keeps its own
        s = self.f.smtp_tls("submission")
        try:
            s.login("alice@a.test", PW)
            s.sendmail("alice@a.test", ["x@remote.test"],
                       b"From: alice@a.test\r\nSubject: has-msgid\r\n"
                       b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                       b"Message-ID: <mine@a.test>\r\n\r\nbody\r\n")
        finally:
            s.quit()
        data = self.queued("has-msgid")
        self.assertEqual(data.count(b"Message-ID:"), 1)
        self.assertIn(b"Message-ID: <mine@a.test>", data)
        self.assertEqual(data.count(b"\nDate:") + data.startswith(b"Date:"), 1)

    def test_header_too_large_is_refused(self):
        big = b"".join(b"X-Pad-%d: y\r\n" % i for i in range(10050))
        s = self.f.smtp()
        try:
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                s.sendmail("x@remote.test", ["bob@b.test"],
                           b"Authentication-Results: mx.policy.test; dkim=pass\r\n"
                           + big + b"Subject: huge\r\n\r\nbody\r\n")
            self.assertEqual(cm.exception.smtp_code, 552)
            self.assertIn(b"5.6.0", cm.exception.smtp_error)
        finally:
            s.quit()


if __name__ == "__main__":
    unittest.main()
