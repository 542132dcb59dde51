"""The queue against Debian's Postfix as the receiving MTA: a private
Postfix instance (own config, queue and maillog) on 127.0.0.16 with
STARTTLS, a virtual mailbox for bob@pf.test, and a small
message_size_limit. Checks delivery over TLS, a 550 for an unknown user
turned into a DSN, and a SIZE refusal before any data is sent.
"""
import os
import pwd
import re
import shutil
import subprocess
import unittest

from fixture import Facteur, SCRATCH, free_port, make_cert, wait_for, \
    wait_port
from test_queue import Dns, HAVE_DNSLIB, PASSWORD

HAVE_POSTFIX = shutil.which("postfix") is not None and os.geteuid() == 0

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = pf.test.invalid
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
biff = no
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
smtpd_banner = $myhostname ESMTP Postfix
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = may
smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination
message_size_limit = 20000
virtual_mailbox_domains = pf.test
virtual_mailbox_base = {dir}/mail
virtual_mailbox_maps = inline:{{ bob@pf.test=bob/ }}
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
"""

MASTER_CF = """\
{listen} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

IP = "127.0.0.16"


class Postfix:
    def __init__(self, port):
        self.port = port
        self.dir = os.path.join(SCRATCH, "postfix-queue-%d" % os.getpid())

    def start(self):
        if os.path.exists(self.dir):
            shutil.rmtree(self.dir)
        for d in ("queue", "data", "mail"):
            os.makedirs(os.path.join(self.dir, d))
        os.chmod(self.dir, 0o755)
        pw = pwd.getpwnam("postfix")
        shutil.chown(os.path.join(self.dir, "data"), "postfix")
        shutil.chown(os.path.join(self.dir, "mail"), "postfix")
        cert, key = make_cert(os.path.join(SCRATCH, "tls"))
        with open(os.path.join(self.dir, "main.cf"), "w") as fh:
            fh.write(MAIN_CF.format(dir=self.dir, cert=cert, key=key,
                                    uid=pw.pw_uid, gid=pw.pw_gid))
        with open(os.path.join(self.dir, "master.cf"), "w") as fh:
            fh.write(MASTER_CF.format(listen="%s:%d" % (IP, self.port)))
        p = subprocess.run(["postfix", "-c", self.dir, "start"],
                           capture_output=True, text=True)
        if p.returncode != 0 or not wait_port(self.port, host=IP):
            raise RuntimeError("postfix did not start: %s%s\n%s" % (
                p.stdout, p.stderr, self.log()))

    def stop(self):
        subprocess.run(["postfix", "-c", self.dir, "stop"],
                       capture_output=True)

    def log(self):
        try:
            with open(os.path.join(self.dir, "maillog")) as fh:
                return fh.read()
        except FileNotFoundError:
            return ""

    def mails(self, user):
        d = os.path.join(self.dir, "mail", user, "new")
        try:
            return [os.path.join(d, n) for n in sorted(os.listdir(d))]
        except FileNotFoundError:
            return []


@unittest.skipUnless(HAVE_DNSLIB, "python3-dnslib not installed")
@unittest.skipUnless(HAVE_POSTFIX, "needs root and Debian's postfix")
class QueueToPostfix(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.port = free_port()
        cls.pf = Postfix(cls.port)
        cls.pf.start()
        try:
            cls.setup_rest()
        except Exception:
            cls.pf.stop()   # never leave a Postfix master behind
            raise

    @classmethod
    def setup_rest(cls):
        cls.dns = Dns()
        cls.dns.start()
        cls.dns.zone.add("pf.test. 60 IN MX 10 mx.pf.test.")
        cls.dns.zone.add("mx.pf.test. 60 IN A %s" % IP)
        os.environ["FACTEUR_SMTP_PORT"] = str(cls.port)
        os.environ["FACTEUR_SMTP_TIMEOUT_MS"] = "10000"
        cls.f = Facteur("qpostfix", hostname="mail.example.org",
                        dns_server="127.0.0.1:%d" % cls.dns.port,
                        queue_retry="1s")
        cls.f.start()
        cls.f.add_domain("example.org")
        cls.f.add_user("alice@example.org", PASSWORD)

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()
        cls.dns.stop()
        cls.pf.stop()

    def send(self, rcpt, subject, body="Hello from facteur.\r\n"):
        s = self.f.smtp_tls("submission")
        try:
            s.login("alice@example.org", PASSWORD)
            s.sendmail("alice@example.org", [rcpt],
                       "From: alice@example.org\r\nTo: %s\r\nSubject: %s"
                       "\r\n\r\n%s" % (rcpt, subject, body))
        finally:
            s.quit()

    def dsn_for(self, rcpt, timeout=20):
        def find():
            box = "alice@example.org"
            for n in self.f.messages(box):
                m = self.f.read_message(box, n)
                if rcpt.encode() in m:
                    return m
            return None
        return wait_for(find, timeout, 0.2)

    def test_delivery_over_tls(self):
        self.send("bob@pf.test", "to-postfix",
                  body="line\r\n.starts with a dot\r\nend\r\n")
        self.assertTrue(wait_for(lambda: self.pf.mails("bob"), 20),
                        self.f.log()[-3000:] + self.pf.log()[-2000:])
        with open(self.pf.mails("bob")[0], "rb") as fh:
            m = fh.read()
        self.assertIn(b"Subject: to-postfix", m)
        self.assertIn(b"\n.starts with a dot\n", m)
        # ehlo twice, around STARTTLS; MAIL+RCPT pipelined, one DATA (the
        # logs may trail the delivery by a moment)
        pat = re.compile(r"disconnect from \S+ ehlo=2 starttls=1 mail=1 "
                         r"rcpt=1 data=1 quit=1")
        self.assertTrue(wait_for(lambda: pat.search(self.pf.log()), 10),
                        self.pf.log()[-2000:])
        self.assertIn("to=<bob@pf.test>, relay=virtual", self.pf.log())
        ours = re.compile(r"smtp-out delivered to=<bob@pf.test> relay="
                          r"mx.pf.test\[%s\]:%d tls=TLSv1\.[23] dsn=2\.0\.0 "
                          r"status=sent \(250 2\.0\.0 Ok" % (IP, self.port))
        self.assertTrue(wait_for(lambda: ours.search(self.f.log()), 10),
                        self.f.log()[-2000:])

    def test_unknown_user_bounce(self):
        self.send("nobody@pf.test", "pf-bounce")
        m = self.dsn_for("nobody@pf.test")
        self.assertTrue(m, self.f.log()[-3000:])
        self.assertIn(b"Status: 5.1.1", m)
        self.assertIn(b"Remote-MTA: dns; mx.pf.test", m)
        self.assertIn(b"Diagnostic-Code: smtp; 550 5.1.1 <nobody@pf.test>:"
                      b" Recipient address rejected", m)

    def test_size_limit_from_ehlo(self):
        self.send("bob@pf.test", "pf-too-big",
                  body=("y" * 70 + "\r\n") * 450)
        m = self.dsn_for("pf-too-big")
        self.assertTrue(m, self.f.log()[-3000:])
        self.assertIn(b"Status: 5.3.4", m)
        self.assertIn(b"exceeds size limit 20000", m)
        self.assertRegex(self.f.log(), r"bounced to=<bob@pf.test> .* "
                         r"dsn=5\.3\.4 status=bounced \(message size")


if __name__ == "__main__":
    unittest.main()
