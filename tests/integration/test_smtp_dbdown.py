"""MariaDB unreachable: SMTP answers 451 4.3.0 (never a 5xx, nothing
bounced) and AUTH 454 4.7.0, and recovers once the database is back.
Uses its own MariaDB so that stopping it does not disturb other tests."""
import os
import smtplib
import unittest

from fixture import SCRATCH, Facteur, LineClient, MariaDB, wait_for


class SmtpDbDown(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.db = MariaDB(os.path.join(SCRATCH, "mariadb-smtp-down-%d"
                                      % os.getpid()))
        cls.db.start()
        cls.f = Facteur("smtp_dbdown", db=cls.db)
        cls.f.start()
        cls.f.add_domain("example.org")
        cls.f.add_user("bob@example.org", "bob-secret")

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()
        cls.db.stop()

    def rcpt(self):
        c = LineClient(self.f.raw())
        try:
            self.assertEqual(c.smtp_reply()[0], 220)
            c.send("EHLO client.test.invalid\r\n")
            self.assertEqual(c.smtp_reply()[0], 250)
            c.send("MAIL FROM:<a@remote.test.invalid>\r\n")
            self.assertEqual(c.smtp_reply()[0], 250)
            c.send("RCPT TO:<bob@example.org>\r\n")
            return c.smtp_reply()
        finally:
            c.close()

    def test_db_down_then_back(self):
        self.f.deliver("bob@example.org", "Subject: before\r\n\r\nup\r\n")
        self.assertTrue(self.f.wait_messages("bob@example.org", 1))
        self.db.stop()
        try:
            code, text = self.rcpt()
            self.assertEqual(code, 451, text)
            self.assertIn("4.3.0", text)
            # AUTH with the directory down: temporary, not "bad password"
            s = self.f.smtps()
            with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                s.login("bob@example.org", "bob-secret")
            self.assertEqual(cm.exception.smtp_code, 454)
            s.quit()
        finally:
            self.db.start()
        self.assertTrue(wait_for(lambda: self.rcpt()[0] == 250, 20),
                        self.f.log()[-3000:])
        self.f.deliver("bob@example.org", "Subject: after\r\n\r\nback\r\n")
        self.assertTrue(self.f.wait_messages("bob@example.org", 2))


if __name__ == "__main__":
    unittest.main()
