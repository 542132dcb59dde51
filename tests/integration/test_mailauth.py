"""DKIM, SPF and DMARC end to end.

- `facteur dkim generate` stores keys and prints the TXT record;
- messages signed by facteur (`facteur dkim sign`, the same code the
  server uses) verify with dkimpy (Debian's python3-dkim, an independent
  implementation), and messages signed by dkimpy verify in facteur
  (`facteur dkim verify`), for rsa-sha256 and ed25519-sha256 and several
  canonicalizations;
- SPF and DMARC against a tiny DNS server with crafted records, through
  `facteur dkim check IP HELO MAILFROM < msg` (the check port 25 runs):
  pass, fail, softfail, neutral, permerror, temperror, the lookup limit,
  include loops, DMARC reject / accept / pct.
- When the SMTP server calls mailauth_check (src/smtp), the same through
  port 25: a DMARC p=reject failure gets 550 5.7.1, other mail is
  delivered with Authentication-Results, forged ones are removed.
"""
import base64
import glob
import os
import re
import smtplib
import subprocess
import sys
import unittest

from fixture import Facteur, TOP

sys.path.append("/usr/lib/python3/dist-packages")
try:
    import dkim
    import nacl.signing
    HAVE_DKIMPY = True
except ImportError:
    HAVE_DKIMPY = False

from test_queue import Dns, HAVE_DNSLIB  # noqa: E402

HOST = "mx.facteur.test"

MSG = (b"From: Alice <alice@example.org>\n"
       b"To: Bob <bob@example.net>\n"
       b"Cc: carol@example.net\n"
       b"Subject: DKIM cross-check\n"
       b"Date: Wed, 25 Nov 2026 16:00:00 +0000\n"
       b"Message-ID: <xcheck-1@example.org>\n"
       b"MIME-Version: 1.0\n"
       b"Content-Type: text/plain; charset=utf-8\n"
       b"\n"
       b"Hello Bob,\n"
       b"\n"
       b"  an indented line with trailing blanks   \t\n"
       b"a line\twith\t\ttabs\n"
       b"\xc3\xa9t\xc3\xa9 8-bit text\n"
       b"\n\n\n")


def smtp_wired():
    """The SMTP server calls the inbound check (src/smtp/*.c)."""
    for f in glob.glob(os.path.join(TOP, "src", "smtp", "*.c")):
        with open(f, encoding="utf-8", errors="replace") as fh:
            if "mailauth_check" in fh.read():
                return True
    return False


def zone_txt(name, value):
    """A TXT zone line, the value cut in 255-byte strings."""
    parts = [value[i:i + 255] for i in range(0, len(value), 255)]
    return "%s 300 IN TXT %s" % (name, " ".join('"%s"' % p for p in parts))


def txt_value(out):
    """The TXT value from `facteur dkim generate|show` output."""
    line = [l for l in out.splitlines() if " IN TXT " in l][0]
    return "".join(re.findall(r'"([^"]*)"', line))


@unittest.skipUnless(HAVE_DNSLIB, "python3-dnslib not installed")
class MailauthBase(unittest.TestCase):
    reject_policy = "reject"

    @classmethod
    def setUpClass(cls):
        cls.dns = Dns()
        cls.dns.start()
        cls.f = Facteur("ma%s" % cls.__name__.lower(), hostname=HOST,
                        dns_server="127.0.0.1:%d" % cls.dns.port,
                        dmarc_reject_policy=cls.reject_policy)
        cls.f.write_conf()

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()
        cls.dns.stop()

    def zone(self, line):
        self.dns.zone.add(line)

    def check(self, ip, helo, mail_from, msg=MSG):
        p = self.f.cli("dkim", "check", ip, helo, mail_from,
                       input=msg.decode("utf-8"))
        return p.stdout


@unittest.skipUnless(HAVE_DKIMPY, "python3-dkim not installed")
class DkimCrossCheck(MailauthBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.txt = {}
        for sel, alg in (("rsa1", "rsa"), ("ed1", "ed25519")):
            out = cls.f.cli("dkim", "generate", "Example.ORG",
                            "--selector", sel, "--algorithm", alg).stdout
            value = txt_value(out)
            cls.txt[sel] = value
            cls.dns.zone.add(zone_txt("%s._domainkey.example.org." % sel,
                                      value))

    def dnsfunc(self, name, timeout=5):
        n = name.decode() if isinstance(name, bytes) else name
        sel = n.split(".")[0]
        v = self.txt.get(sel)
        return v.encode() if v else None

    def facteur_sign(self, selector, msg=MSG):
        sel = ["--selector", selector] if selector else []
        p = subprocess.run([self.f_bin(), "dkim", "sign", "-c",
                            self.f.conf_path, "example.org"] + sel,
                           input=msg, capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def f_bin(self):
        from fixture import BIN
        return BIN

    def facteur_verify(self, msg):
        p = subprocess.run([self.f_bin(), "dkim", "verify", "-c",
                            self.f.conf_path], input=msg,
                           capture_output=True, timeout=60)
        return p.returncode, p.stdout.decode()

    def test_generate_prints_record(self):
        self.assertTrue(self.txt["rsa1"].startswith("v=DKIM1; k=rsa; p="))
        self.assertTrue(self.txt["ed1"].startswith("v=DKIM1; k=ed25519; p="))
        pub = base64.b64decode(self.txt["ed1"].split("p=")[1])
        self.assertEqual(len(pub), 32)
        # an RSA 2048 SubjectPublicKeyInfo is 294 bytes
        pub = base64.b64decode(self.txt["rsa1"].split("p=")[1])
        self.assertEqual(len(pub), 294)
        # same selector again: refused; show prints the same record
        p = self.f.cli("dkim", "generate", "example.org", "--selector",
                       "rsa1", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("exists", p.stderr)
        out = self.f.cli("dkim", "show", "example.org", "--selector",
                         "ed1").stdout
        self.assertEqual(txt_value(out), self.txt["ed1"])
        p = self.f.cli("dkim", "generate", "example.org", "--algorithm",
                       "dsa", check=False)
        self.assertEqual(p.returncode, 2)
        listing = self.f.cli("dkim", "list").stdout
        self.assertIn("example.org\trsa1\trsa-sha256", listing)
        self.assertIn("example.org\ted1\ted25519-sha256", listing)

    def test_facteur_signs_dkimpy_verifies(self):
        for sel in ("rsa1", "ed1"):
            signed = self.facteur_sign(sel)
            self.assertTrue(signed.startswith(b"DKIM-Signature: v=1; a="))
            self.assertTrue(dkim.verify(signed, dnsfunc=self.dnsfunc),
                            "dkimpy rejects facteur's %s signature:\n%s"
                            % (sel, signed.decode(errors="replace")))
            # CRLF on the wire: same verdict
            self.assertTrue(dkim.verify(signed.replace(b"\n", b"\r\n"),
                                        dnsfunc=self.dnsfunc))
            # tampered: dkimpy says no
            bad = signed.replace(b"Hello Bob", b"Hello Eve")
            self.assertFalse(dkim.verify(bad, dnsfunc=self.dnsfunc))
            # an extra From (oversigned) breaks it too
            bad = signed.replace(b"From: Alice",
                                 b"From: Mallory <m@evil.example>\nFrom: Alice")
            self.assertFalse(dkim.verify(bad, dnsfunc=self.dnsfunc))
            # and facteur agrees with itself through DNS
            rc, out = self.facteur_verify(signed)
            self.assertEqual(rc, 0, out)
            self.assertIn("dkim=pass d=example.org s=%s" % sel, out)

    def test_server_signs_with_each_algorithm(self):
        # no selector: as the server, the newest key of each algorithm
        signed = self.facteur_sign(None)
        self.assertEqual(signed.count(b"DKIM-Signature:"), 2)
        d = dkim.DKIM(signed)
        self.assertTrue(d.verify(idx=0, dnsfunc=self.dnsfunc))
        self.assertTrue(d.verify(idx=1, dnsfunc=self.dnsfunc))
        sels = sorted(re.findall(rb"s=(\w+);", signed))
        self.assertEqual(sels, [b"ed1", b"rsa1"])
        rc, out = self.facteur_verify(signed)
        self.assertEqual(rc, 0, out)
        self.assertEqual(out.count("dkim=pass"), 2, out)

    def dkimpy_sign(self, sel, canon, msg=MSG, length=False):
        if sel == "py-ed":
            privkey = base64.b64encode(bytes(self.ed_key))
            alg = b"ed25519-sha256"
        else:
            privkey = self.rsa_pem
            alg = b"rsa-sha256"
        sig = dkim.sign(msg, sel.encode(), b"example.org", privkey,
                        canonicalize=canon, signature_algorithm=alg,
                        linesep=b"\n", length=length)
        return sig + msg

    def setUp(self):
        if "py-rsa" in self.txt:
            return
        key = subprocess.run(["openssl", "genrsa", "-traditional", "2048"],
                             capture_output=True, check=True).stdout
        der = subprocess.run(["openssl", "rsa", "-pubout", "-outform",
                              "DER"], input=key, capture_output=True,
                             check=True).stdout
        type(self).rsa_pem = key
        type(self).ed_key = nacl.signing.SigningKey.generate()
        self.txt["py-rsa"] = ("v=DKIM1; k=rsa; p=" +
                              base64.b64encode(der).decode())
        self.txt["py-ed"] = ("v=DKIM1; k=ed25519; p=" + base64.b64encode(
            bytes(self.ed_key.verify_key)).decode())
        for sel in ("py-rsa", "py-ed"):
            self.dns.zone.add(zone_txt("%s._domainkey.example.org." % sel,
                                       self.txt[sel]))

    def test_dkimpy_signs_facteur_verifies(self):
        canons = [(b"relaxed", b"relaxed"), (b"simple", b"simple"),
                  (b"relaxed", b"simple"), (b"simple", b"relaxed")]
        for sel in ("py-rsa", "py-ed"):
            for canon in canons:
                signed = self.dkimpy_sign(sel, canon)
                self.assertTrue(dkim.verify(signed, dnsfunc=self.dnsfunc))
                rc, out = self.facteur_verify(signed)
                self.assertEqual(rc, 0, "%s %s: %s" % (sel, canon, out))
                self.assertIn("dkim=pass d=example.org s=%s" % sel, out)
                rc, out = self.facteur_verify(
                    signed.replace(b"Hello Bob", b"Hello Eve"))
                self.assertEqual(rc, 1, out)
                self.assertIn("dkim=fail", out)
                self.assertIn("body hash did not verify", out)

    def test_dkimpy_length_tag(self):
        # l= with content appended after signing: never a plain pass
        signed = self.dkimpy_sign("py-rsa", (b"relaxed", b"relaxed"),
                                  length=True)
        rc, out = self.facteur_verify(signed)
        self.assertEqual(rc, 0, out)
        rc, out = self.facteur_verify(signed + b"Appended advert\n")
        self.assertEqual(rc, 1, out)
        self.assertIn("dkim=policy", out)

    @unittest.skipUnless(os.path.exists("/usr/sbin/opendkim-testmsg"),
                         "opendkim-tools not installed")
    def test_opendkim_rsa_sha1_refused(self):
        # libopendkim's test signer uses rsa-sha1: RFC 8301 says no
        key = os.path.join(self.f.dir, "od.key")
        with open(key, "wb") as fh:
            fh.write(self.rsa_pem)
        p = subprocess.run(["/usr/sbin/opendkim-testmsg", "-d",
                            "example.org", "-s", "py-rsa", "-k", key],
                           input=MSG, capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"a=rsa-sha1", p.stdout)
        rc, out = self.facteur_verify(p.stdout)
        self.assertEqual(rc, 1, out)
        self.assertIn("dkim=permerror", out)
        self.assertIn("rsa-sha1", out)

    def test_two_signatures(self):
        one = self.dkimpy_sign("py-ed", (b"relaxed", b"relaxed"))
        both = self.facteur_sign("rsa1", one)
        rc, out = self.facteur_verify(both)
        self.assertEqual(rc, 0, out)
        lines = out.strip().splitlines()
        self.assertEqual(len(lines), 2, out)
        self.assertTrue(lines[0].startswith("dkim=pass d=example.org s=rsa1"))
        self.assertTrue(lines[1].startswith("dkim=pass d=example.org s=py-ed"))

    def test_unknown_key_and_dns_failure(self):
        signed = self.facteur_sign("rsa1")
        bad = signed.replace(b"s=rsa1;", b"s=nokey;")
        rc, out = self.facteur_verify(bad)
        self.assertEqual(rc, 1)
        self.assertIn("dkim=permerror", out)
        self.dns.zone.servfail.add("temp._domainkey.example.org.")
        rc, out = self.facteur_verify(signed.replace(b"s=rsa1;", b"s=temp;"))
        self.assertEqual(rc, 1)
        self.assertIn("dkim=temperror", out)


class SpfDmarc(MailauthBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        z = cls.dns.zone.add
        z('pass.test. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"')
        z('fail.test. 300 IN TXT "v=spf1 -all"')
        z('soft.test. 300 IN TXT "v=spf1 ~all"')
        z('neutral.test. 300 IN TXT "v=spf1 ?all"')
        z('perm.test. 300 IN TXT "v=spf1 ip4:192.0.2.300 -all"')
        z('incl.test. 300 IN TXT "v=spf1 include:pass.test -all"')
        z('loop.test. 300 IN TXT "v=spf1 include:loop2.test -all"')
        z('loop2.test. 300 IN TXT "v=spf1 include:loop.test -all"')
        z('many.test. 300 IN TXT "v=spf1 ' + " ".join(
            ["a:h%d.test" % i for i in range(11)]) + ' -all"')
        for i in range(11):
            z('h%d.test. 300 IN A 203.0.113.250' % i)
        z('mx.test. 300 IN TXT "v=spf1 mx -all"')
        z('mx.test. 300 IN MX 10 mail.mx.test.')
        z('mail.mx.test. 300 IN A 192.0.2.25')
        z('macro.test. 300 IN TXT "v=spf1 exists:%{i}.allow.macro.test -all"')
        z('192.0.2.9.allow.macro.test. 300 IN A 127.0.0.2')
        z('ptr.test. 300 IN TXT "v=spf1 ptr -all"')
        z('7.2.0.192.in-addr.arpa. 300 IN PTR host.ptr.test.')
        z('8.2.0.192.in-addr.arpa. 300 IN PTR host.ptr.test.')
        z('host.ptr.test. 300 IN A 192.0.2.7')
        z('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.'
          'ip6.arpa. 300 IN PTR host6.ptr.test.')
        z('host6.ptr.test. 300 IN AAAA 2001:db8::1')
        z('six.test. 300 IN TXT "v=spf1 a:v6.six.test -all"')
        z('v6.six.test. 300 IN AAAA 2001:db8::25')
        z('v6.six.test. 300 IN A 192.0.2.99')
        cls.dns.zone.servfail.add("temp.test.")
        # DMARC
        z('dm.test. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"')
        z('_dmarc.dm.test. 300 IN TXT "v=DMARC1; p=reject"')
        z('quar.test. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"')
        z('_dmarc.quar.test. 300 IN TXT "v=DMARC1; p=quarantine"')
        z('pct0.test. 300 IN TXT "v=spf1 -all"')
        z('_dmarc.pct0.test. 300 IN TXT "v=DMARC1; p=reject; pct=0"')
        z('_dmarc.dmtemp.test. 300 IN TXT "v=DMARC1; p=reject"')

    def msg_from(self, domain):
        return MSG.replace(b"alice@example.org",
                           ("alice@%s" % domain).encode())

    def spf(self, ip, sender, helo="helo.test"):
        out = self.check(ip, helo, sender)
        m = re.search(r"spf=(\w+)", out)
        self.assertIsNotNone(m, out)
        return m.group(1), out

    def test_spf_results(self):
        cases = [
            ("192.0.2.7", "a@pass.test", "pass"),
            ("198.51.100.7", "a@pass.test", "fail"),
            ("192.0.2.7", "a@fail.test", "fail"),
            ("192.0.2.7", "a@soft.test", "softfail"),
            ("192.0.2.7", "a@neutral.test", "neutral"),
            ("192.0.2.7", "a@perm.test", "permerror"),
            ("192.0.2.7", "a@nothing.test", "none"),
            ("192.0.2.7", "a@temp.test", "temperror"),
            ("192.0.2.7", "a@incl.test", "pass"),
            ("198.51.100.7", "a@incl.test", "fail"),
            ("192.0.2.7", "a@loop.test", "permerror"),
            ("192.0.2.7", "a@many.test", "permerror"),
            ("192.0.2.25", "a@mx.test", "pass"),
            ("192.0.2.26", "a@mx.test", "fail"),
            ("192.0.2.9", "a@macro.test", "pass"),
            ("192.0.2.10", "a@macro.test", "fail"),
            ("192.0.2.7", "a@ptr.test", "pass"),      # PTR, then A back
            ("192.0.2.8", "a@ptr.test", "fail"),      # A does not match
            ("2001:db8::1", "a@ptr.test", "pass"),    # ip6.arpa
            ("2001:db8::25", "a@six.test", "pass"),   # AAAA
            ("192.0.2.99", "a@six.test", "pass"),
            ("2001:db8::26", "a@six.test", "fail"),
        ]
        for ip, sender, want in cases:
            got, out = self.spf(ip, sender)
            self.assertEqual(got, want, "%s %s:\n%s" % (ip, sender, out))
            dom = sender.split("@")[1]
            self.assertIn("smtp.mailfrom=%s" % dom, out)
        out = self.check("192.0.2.7", "pass.test", "")
        self.assertIn("spf=pass", out)
        self.assertIn("smtp.helo=pass.test", out)
        self.assertIn("lookups", self.spf("192.0.2.7", "a@many.test")[1])

    def test_header_shape(self):
        out = self.check("192.0.2.7", "helo.test", "a@dm.test",
                         self.msg_from("dm.test"))
        self.assertTrue(out.startswith("verdict: accept\n"), out)
        head = out.split("\n", 1)[1]
        self.assertTrue(head.startswith("Authentication-Results: %s;\n"
                                        % HOST), head)
        self.assertIn("dkim=none", head)
        self.assertIn("dmarc=pass (p=reject dis=none) header.from=dm.test",
                      head)
        self.assertIn("verdict: accept", out)

    def test_dmarc_reject(self):
        out = self.check("198.51.100.7", "evil.test", "a@dm.test",
                         self.msg_from("dm.test"))
        self.assertIn("dmarc=fail (p=reject dis=reject)", out)
        self.assertIn("verdict: reject 550 5.7.1", out)
        # quarantine and pct=0 are accepted and marked
        out = self.check("198.51.100.7", "evil.test", "a@quar.test",
                         self.msg_from("quar.test"))
        self.assertIn("dmarc=fail (p=quarantine dis=quarantine)", out)
        self.assertIn("verdict: accept", out)
        out = self.check("198.51.100.7", "evil.test", "a@pct0.test",
                         self.msg_from("pct0.test"))
        self.assertIn("dmarc=fail (p=reject dis=quarantine pct)", out)
        self.assertIn("verdict: accept", out)
        # a subdomain takes the org domain's policy (PSL lookup)
        out = self.check("198.51.100.7", "evil.test", "a@sub.dm.test",
                         self.msg_from("sub.dm.test"))
        self.assertIn("verdict: reject", out)

    def test_dmarc_temperror_accepts(self):
        self.dns.zone.servfail.add("_dmarc.dmtemp2.test.")
        out = self.check("198.51.100.7", "evil.test", "a@dmtemp2.test",
                         self.msg_from("dmtemp2.test"))
        self.assertIn("dmarc=temperror", out)
        self.assertIn("verdict: accept", out)

    def test_forged_results_removed(self):
        msg = (b"Authentication-Results: " + HOST.encode() +
               b"; dmarc=pass header.from=dm.test\n"
               b"Authentication-Results: other.example; spf=pass\n") + \
            self.msg_from("quar.test")
        out = self.check("198.51.100.7", "evil.test", "a@quar.test", msg)
        self.assertEqual(out.count("Authentication-Results: %s" % HOST), 1)
        self.assertIn("Authentication-Results: other.example; spf=pass",
                      out)
        self.assertIn("dmarc=fail", out)


class DnsDown(MailauthBase):
    """A resolver that never answers: temperror everywhere, quickly."""

    @classmethod
    def setUpClass(cls):
        import socket
        cls.hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        cls.hole.bind(("127.0.0.1", 0))
        super().setUpClass()
        # point the configuration at the black hole
        with open(cls.f.conf_path) as fh:
            conf = fh.read()
        conf = re.sub(r"dns_server = .*", "dns_server = 127.0.0.1:%d"
                      % cls.hole.getsockname()[1], conf)
        with open(cls.f.conf_path, "w") as fh:
            fh.write(conf)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.hole.close()

    def test_temperror_not_pass(self):
        import time
        signed = (b"DKIM-Signature: v=1; a=rsa-sha256; d=dm.test; s=a; "
                  b"h=from; bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; "
                  b"b=AAAA\n") * 4 + MSG.replace(b"example.org", b"dm.test")
        t0 = time.time()
        out = self.check("192.0.2.7", "helo.test", "a@dm.test", signed)
        took = time.time() - t0
        self.assertIn("verdict: accept", out)
        self.assertIn("spf=temperror", out)
        self.assertEqual(out.count("dkim=temperror"), 4, out)
        self.assertIn("dmarc=temperror", out)
        self.assertNotIn("=pass", out)
        # one lookup waits for the timeout, the rest fail at once
        self.assertLess(took, 15, out)


class SpfDmarcAccept(MailauthBase):
    """dmarc_reject_policy = accept: p=reject failures are only marked."""
    reject_policy = "accept"

    def test_accept(self):
        self.dns.zone.add('dm.test. 300 IN TXT "v=spf1 -all"')
        self.dns.zone.add('_dmarc.dm.test. 300 IN TXT "v=DMARC1; p=reject"')
        msg = MSG.replace(b"alice@example.org", b"alice@dm.test")
        out = self.check("198.51.100.7", "evil.test", "a@dm.test", msg)
        self.assertIn("dmarc=fail (p=reject dis=reject)", out)
        self.assertIn("verdict: accept", out)


@unittest.skipUnless(smtp_wired(), "src/smtp does not call mailauth yet")
class Port25(MailauthBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        z = cls.dns.zone.add
        z('dm.test. 300 IN TXT "v=spf1 ip4:127.0.0.0/8 -all"')
        z('_dmarc.dm.test. 300 IN TXT "v=DMARC1; p=reject"')
        z('spoof.test. 300 IN TXT "v=spf1 -all"')
        z('_dmarc.spoof.test. 300 IN TXT "v=DMARC1; p=reject"')
        cls.f.start()
        cls.f.add_domain("example.net")
        cls.f.add_user("bob@example.net", "bob-secret")
        cls.f.add_domain("example.org")
        cls.f.add_user("alice@example.org", "alice-secret")
        out = cls.f.cli("dkim", "generate", "example.org", "--selector",
                        "sub1").stdout
        cls.key = txt_value(out)

    def send(self, sender, msg):
        s = self.f.smtp("smtp")
        try:
            return s.sendmail(sender, ["bob@example.net"], msg)
        finally:
            s.quit()

    def test_reject_and_mark(self):
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            self.send("a@spoof.test",
                      MSG.replace(b"alice@example.org", b"alice@spoof.test"))
        self.assertEqual(cm.exception.smtp_code, 550)
        self.assertIn(b"5.7.1", cm.exception.smtp_error)
        msg = (b"Authentication-Results: " + HOST.encode() +
               b"; dkim=pass header.d=bank.example\n") + \
            MSG.replace(b"alice@example.org", b"alice@dm.test")
        self.send("a@dm.test", msg)
        names = self.f.wait_messages("bob@example.net", 1)
        self.assertTrue(names)
        got = self.f.read_message("bob@example.net", names[-1])
        head = got.split(b"\n\n")[0].decode()
        self.assertEqual(head.count("Authentication-Results: %s" % HOST), 1)
        self.assertIn("spf=pass smtp.mailfrom=dm.test", head)
        self.assertIn("dmarc=pass", head)
        self.assertNotIn("bank.example", head)

    @unittest.skipUnless(HAVE_DKIMPY, "python3-dkim not installed")
    def test_submission_signed(self):
        s = self.f.smtp("submission")
        try:
            s.starttls(context=self.f.ssl_context())
            s.ehlo()
            s.login("alice@example.org", "alice-secret")
            s.sendmail("alice@example.org", ["bob@example.net"], MSG)
        finally:
            s.quit()
        names = self.f.wait_messages("bob@example.net", 1)
        got = None
        for n in names:
            m = self.f.read_message("bob@example.net", n)
            if b"DKIM cross-check" in m and b"DKIM-Signature:" in m:
                got = m
        self.assertIsNotNone(got, "no signed copy delivered")
        self.assertIn(b"s=sub1;", got)
        # submissions get no Authentication-Results of ours
        self.assertNotIn(("Authentication-Results: %s" % HOST).encode(),
                         got.split(b"\n\n")[0])

        def dnsfunc(name, timeout=5):
            return self.key.encode()
        self.assertTrue(dkim.verify(got, dnsfunc=dnsfunc),
                        got.decode(errors="replace"))


if __name__ == "__main__":
    unittest.main()
