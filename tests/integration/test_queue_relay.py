"""Outbound queue through a smarthost (relayhost): STARTTLS required
before AUTH PLAIN with the credentials of relayhost_auth_file, no MX
lookup, deferral when the smarthost offers no TLS or refuses AUTH, and
implicit TLS on port 465 (when the test runs as root and may bind it).
"""
import os
import unittest

from fixture import Facteur, free_port, wait_for
from test_queue import Dns, HAVE_DNSLIB, PASSWORD, Receiver

RELAY_USER = "relayuser@isp.test"
RELAY_PASS = "s3cret:with:colons"


def _facteur(name, relay, authfile_dir=None):
    dns = Dns()
    dns.start()
    f = Facteur(name, dns_server="127.0.0.1:%d" % dns.port,
                queue_retry="1s", relayhost=relay)
    f.write_conf()
    authfile = os.path.join(f.dir, "relay.auth")
    with open(authfile, "w") as fh:
        fh.write("%s:%s\n" % (RELAY_USER, RELAY_PASS))
    os.chmod(authfile, 0o644)
    with open(f.conf_path, "a") as fh:
        fh.write("relayhost_auth_file = %s\n" % authfile)
    f.start()
    f.add_domain("example.org")
    f.add_user("alice@example.org", PASSWORD)
    return f, dns


def _submit(f, rcpt, subject="relay"):
    s = f.smtp_tls("submission")
    try:
        s.login("alice@example.org", PASSWORD)
        s.sendmail("alice@example.org", [rcpt],
                   "From: alice@example.org\r\nTo: %s\r\nSubject: %s\r\n"
                   "\r\nvia the smarthost\r\n" % (rcpt, subject))
    finally:
        s.quit()


@unittest.skipUnless(HAVE_DNSLIB, "python3-dnslib not installed")
class QueueRelayhost(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        os.environ["FACTEUR_SMTP_TIMEOUT_MS"] = "5000"
        cls.port = free_port()
        cls.f, cls.dns = _facteur("qrelay", "127.0.0.13:%d" % cls.port)

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()
        cls.dns.stop()

    def test_starttls_auth_plain(self):
        rx = Receiver("127.0.0.13", self.port,
                      auth=(RELAY_USER, RELAY_PASS)).start()
        try:
            # no DNS record at all for the domain: the smarthost takes it
            _submit(self.f, "someone@anywhere.test")
            self.assertTrue(wait_for(
                lambda: rx.count_for("someone@anywhere.test"), 20),
                self.f.log()[-3000:])
            m = rx.messages[0]
            self.assertTrue(m["tls"])
            self.assertEqual(m["auth"], (RELAY_USER, RELAY_PASS))
            # AUTH came only after STARTTLS
            cmds = [c.split()[0].upper() for c in rx.commands]
            self.assertLess(cmds.index("STARTTLS"), cmds.index("AUTH"))
            self.assertTrue(wait_for(lambda: "delivered to=<someone@"
                                     "anywhere.test>" in self.f.log(), 10))
            log = self.f.log()
            self.assertRegex(log, r"delivered to=<someone@anywhere.test> "
                             r"relay=127.0.0.13\[127.0.0.13\]:%d tls=TLSv1"
                             % self.port)
            self.assertNotIn(RELAY_PASS, log)
        finally:
            rx.stop()

    def test_no_starttls_defers(self):
        rx = Receiver("127.0.0.13", self.port, starttls=False,
                      auth=(RELAY_USER, RELAY_PASS)).start()
        try:
            _submit(self.f, "plain@anywhere.test")
            self.assertTrue(wait_for(lambda: "deferred to=<plain@anywhere"
                                     ".test>" in self.f.log(), 15))
            self.assertIn("dsn=4.7.4", self.f.log())
            self.assertEqual(rx.count_for("plain@anywhere.test"), 0)
            self.assertFalse([c for c in rx.commands
                              if c.upper().startswith(("AUTH", "MAIL"))])
        finally:
            rx.stop()
        # the smarthost fixed: the deferred message goes out
        rx = Receiver("127.0.0.13", self.port,
                      auth=(RELAY_USER, RELAY_PASS)).start()
        try:
            self.assertTrue(wait_for(
                lambda: rx.count_for("plain@anywhere.test"), 20),
                self.f.log()[-3000:])
        finally:
            rx.stop()

    def test_auth_refused_defers(self):
        rx = Receiver("127.0.0.13", self.port,
                      auth=("other", "password")).start()
        try:
            _submit(self.f, "refused@anywhere.test")
            self.assertTrue(wait_for(lambda: "deferred to=<refused@anywhere"
                                     ".test>" in self.f.log(), 15))
            self.assertIn("dsn=4.7.8", self.f.log())
            self.assertIn("SASL authentication failed", self.f.log())
        finally:
            rx.stop()
        rx = Receiver("127.0.0.13", self.port,
                      auth=(RELAY_USER, RELAY_PASS)).start()
        try:
            self.assertTrue(wait_for(
                lambda: rx.count_for("refused@anywhere.test"), 20))
        finally:
            rx.stop()


@unittest.skipUnless(HAVE_DNSLIB, "python3-dnslib not installed")
@unittest.skipUnless(os.geteuid() == 0, "binding port 465 needs root")
class QueueRelayhost465(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        os.environ["FACTEUR_SMTP_TIMEOUT_MS"] = "5000"
        cls.f, cls.dns = _facteur("qrelay465", "127.0.0.14:465")

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()
        cls.dns.stop()

    def test_implicit_tls(self):
        rx = Receiver("127.0.0.14", 465, starttls=False, implicit_tls=True,
                      auth=(RELAY_USER, RELAY_PASS)).start()
        try:
            _submit(self.f, "x@anywhere.test")
            self.assertTrue(wait_for(lambda: rx.count_for("x@anywhere.test"),
                                     20), self.f.log()[-3000:])
            self.assertTrue(rx.messages[0]["tls"])
            self.assertEqual(rx.messages[0]["auth"], (RELAY_USER,
                                                      RELAY_PASS))
            self.assertNotIn("STARTTLS", [c.upper() for c in rx.commands])
        finally:
            rx.stop()


if __name__ == "__main__":
    unittest.main()
