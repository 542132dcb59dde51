"""Two facteur instances: the sender's queue delivers to the receiver's
port 25 listener found through MX (STARTTLS between them); a recipient
the receiver does not know comes back as a DSN in the sender's INBOX.
"""
import os
import unittest

from fixture import Facteur, wait_for
from test_queue import Dns, HAVE_DNSLIB, PASSWORD


@unittest.skipUnless(HAVE_DNSLIB, "python3-dnslib not installed")
class QueueTwoFacteurs(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dns = Dns()
        cls.dns.start()
        cls.rx = Facteur("qe2e-rx", hostname="mx.other.test")
        cls.rx.start()
        cls.rx.add_domain("other.test")
        cls.rx.add_user("bob@other.test", "bob-secret")
        os.environ["FACTEUR_SMTP_PORT"] = str(cls.rx.ports["smtp"])
        os.environ["FACTEUR_SMTP_TIMEOUT_MS"] = "10000"
        cls.tx = Facteur("qe2e-tx", hostname="mail.example.org",
                         dns_server="127.0.0.1:%d" % cls.dns.port,
                         queue_retry="1s")
        cls.tx.start()
        cls.tx.add_domain("example.org")
        cls.tx.add_user("alice@example.org", PASSWORD)
        cls.dns.zone.add("other.test. 60 IN MX 10 mx.other.test.")
        cls.dns.zone.add("mx.other.test. 60 IN A 127.0.0.1")

    @classmethod
    def tearDownClass(cls):
        cls.tx.stop()
        cls.rx.stop()
        cls.dns.stop()

    def send(self, rcpts, subject):
        s = self.tx.smtp_tls("submission")
        try:
            s.login("alice@example.org", PASSWORD)
            s.sendmail("alice@example.org", rcpts,
                       "From: alice@example.org\r\nTo: %s\r\n"
                       "Subject: %s\r\n\r\nHello Bob.\r\n.dot line\r\n"
                       % (", ".join(rcpts), subject))
        finally:
            s.quit()

    def test_delivery_between_instances(self):
        self.send(["bob@other.test"], "e2e-hello")
        names = self.rx.wait_messages("bob@other.test", 1, timeout=20)
        self.assertTrue(names, self.tx.log()[-3000:])
        msg = self.rx.read_message("bob@other.test", names[0])
        self.assertIn(b"Subject: e2e-hello", msg)
        self.assertIn(b"\n.dot line", msg)
        self.assertIn(b"Hello Bob.", msg)
        self.assertTrue(wait_for(lambda: "delivered to=<bob@other.test>"
                                 in self.tx.log(), 10))
        log = self.tx.log()
        self.assertRegex(log, r"smtp-out delivered to=<bob@other.test> "
                         r"relay=mx.other.test\[127.0.0.1\]:%d "
                         r"tls=TLSv1\.[23] dsn=2\.\d\.\d status=sent"
                         % self.rx.ports["smtp"])

    def test_unknown_user_bounces_to_sender(self):
        self.send(["nobody@other.test"], "e2e-bounce")

        def dsn():
            box = "alice@example.org"
            for n in self.tx.messages(box):
                m = self.tx.read_message(box, n)
                if b"nobody@other.test" in m:
                    return m
            return None
        m = wait_for(dsn, 20, 0.2)
        self.assertTrue(m, self.tx.log()[-3000:])
        self.assertIn(b"Final-Recipient: rfc822; nobody@other.test", m)
        self.assertIn(b"Remote-MTA: dns; mx.other.test", m)
        self.assertRegex(m, rb"Status: 5\.\d\.\d+")
        self.assertRegex(m, rb"Diagnostic-Code: smtp; 5\d\d ")
        self.assertIn(b"Subject: e2e-bounce", m)


if __name__ == "__main__":
    unittest.main()
