"""The admin page end to end in real headless Chromium (Debian's chromium
and chromium-driver through python3-selenium): log in, add a domain, a
user and an alias, then send a mail to the alias over SMTP and read it
over IMAPS as the new user. Screenshots of each page are kept in
<build>/artifacts/admin/."""
import imaplib
import os
import shutil
import tempfile
import unittest

from fixture import Facteur, TOP

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    HAVE_SELENIUM = True
except ImportError:  # pragma: no cover
    HAVE_SELENIUM = False

CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"
ADMIN_PW = "browser-admin-pw"


@unittest.skipUnless(HAVE_SELENIUM and os.path.exists(CHROMIUM) and
                     os.path.exists(DRIVER),
                     "needs chromium, chromium-driver, python3-selenium")
class AdminBrowser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("admin_browser")
        cls.f.start()
        cls.f.cli("admin", "add", "root", input=ADMIN_PW + "\n")
        cls.shots = os.path.join(os.environ.get("FACTEUR_BUILD",
                                                os.path.join(TOP, "build")),
                                 "artifacts", "admin")
        os.makedirs(cls.shots, exist_ok=True)
        cls.profile = tempfile.mkdtemp(prefix="chromium-")
        opts = Options()
        opts.binary_location = CHROMIUM
        for a in ("--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-quic", "--no-first-run",
                  "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--ignore-certificate-errors",
                  "--window-size=412,900",   # a phone-sized window
                  "--user-data-dir=" + cls.profile):
            opts.add_argument(a)
        cls.drv = webdriver.Chrome(service=Service(DRIVER), options=opts)
        cls.drv.set_page_load_timeout(30)
        cls.base = "https://localhost:%d/" % cls.f.ports["admin"]

    @classmethod
    def tearDownClass(cls):
        try:
            cls.drv.quit()
        finally:
            shutil.rmtree(cls.profile, ignore_errors=True)
            cls.f.stop()

    def wait(self, cond, timeout=15):
        return WebDriverWait(self.drv, timeout).until(cond)

    def shot(self, name):
        self.drv.save_screenshot(os.path.join(self.shots, name + ".png"))

    def visible(self, ident):
        return self.wait(EC.visibility_of_element_located((By.ID, ident)))

    def fill(self, ident, text):
        e = self.visible(ident)
        e.clear()
        e.send_keys(text)

    def click(self, ident):
        self.wait(EC.element_to_be_clickable((By.ID, ident))).click()

    def table_text(self, ident):
        return self.drv.find_element(By.ID, ident).text

    def test_admin_flow_then_mail_reaches_new_user(self):
        d = self.drv
        d.get(self.base)
        self.visible("page-login")
        self.shot("01-login")
        # a wrong password shows the API's message
        self.fill("login-user", "root")
        self.fill("login-password", "not-the-password")
        self.click("login-submit")
        self.wait(lambda _: "wrong name or password" in
                  d.find_element(By.ID, "message").text)
        self.fill("login-password", ADMIN_PW)
        self.click("login-submit")
        self.visible("page-dashboard")
        self.wait(lambda _: "Domains" in self.table_text("dash-stats"))
        self.shot("02-dashboard")

        d.get(self.base + "#domains")
        self.fill("domain-name", "browser.example")
        self.click("domain-add")
        self.wait(lambda _: "browser.example" in self.table_text("domain-list"))
        self.shot("03-domains")

        d.get(self.base + "#users")
        self.fill("user-email", "dora@browser.example")
        self.fill("user-password", "dora-password-1")
        self.fill("user-quota", "50M")
        self.click("user-add")
        self.wait(lambda _: "dora@browser.example" in self.table_text("user-list"))
        self.shot("04-users")

        d.get(self.base + "#aliases")
        self.fill("alias-source", "hello@browser.example")
        self.fill("alias-dests", "dora@browser.example")
        self.click("alias-add")
        self.wait(lambda _: "hello@browser.example" in self.table_text("alias-list"))
        self.shot("05-aliases")

        d.get(self.base + "#queue")
        self.visible("page-queue")
        self.shot("06-queue")
        d.get(self.base + "#admins")
        self.wait(lambda _: "root" in self.table_text("admin-list"))
        self.shot("07-admins")

        # names are shown as text, never run as HTML
        d.get(self.base + "#aliases")
        self.fill("alias-source", "<b>x</b>@browser.example")
        self.fill("alias-dests", "dora@browser.example")
        self.click("alias-add")
        self.wait(lambda _: "not" in d.find_element(By.ID, "message").text or
                  "source" in d.find_element(By.ID, "message").text)
        self.assertEqual(d.find_elements(By.CSS_SELECTOR, "#alias-list b"), [])

        # the mail path: SMTP to the alias, IMAPS as the new user
        self.f.deliver("hello@browser.example",
                       "Subject: made in the browser\r\n\r\nit works\r\n")
        self.assertTrue(self.f.wait_messages("dora@browser.example", 1))
        if "imaps" in self.f.ports:
            m = imaplib.IMAP4_SSL("localhost", self.f.ports["imaps"],
                                  ssl_context=self.f.ssl_context())
            m.login("dora@browser.example", "dora-password-1")
            typ, data = m.select("INBOX")
            self.assertEqual(typ, "OK")
            typ, data = m.fetch("1", "(BODY[HEADER.FIELDS (SUBJECT)])")
            self.assertEqual(typ, "OK")
            self.assertIn(b"made in the browser", data[0][1])
            m.logout()

        # log out: the page returns to the login form
        self.click("logout")
        self.visible("page-login")
        self.shot("08-logged-out")


if __name__ == "__main__":
    unittest.main()
