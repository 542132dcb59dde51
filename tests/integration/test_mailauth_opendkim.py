"""Cross-check with OpenDKIM (Debian's opendkim-tools, libopendkim): mail
signed by facteur (the code the server signs submissions with) verifies
in opendkim-testmsg, and a changed body does not.

opendkim-testmsg looks keys up through the system resolver, so it runs
in a network namespace of its own whose /etc/resolv.conf (ip netns exec
mounts /etc/netns/NAME/resolv.conf) names a dnslib zone server on
127.0.0.1:53 there, publishing the records `facteur dkim generate`
printed."""
import os
import re
import shutil
import subprocess
import time
import unittest

from fixture import Facteur

NETNS = "facteurodk%d" % os.getpid()
PY = "/usr/bin/python3"
MSG = (b"From: Alice <alice@example.org>\n"
       b"To: Bob <bob@example.net>\n"
       b"Subject: OpenDKIM cross-check\n"
       b"Date: Wed, 25 Nov 2026 16:00:00 +0000\n"
       b"Message-ID: <odk-1@example.org>\n"
       b"\n"
       b"Hello Bob,\n"
       b"  a line with trailing blanks   \n"
       b"\n"
       b"\n")


def have_dnslib():
    return subprocess.run([PY, "-c", "import dnslib.zoneresolver"],
                          capture_output=True).returncode == 0


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("ip") and
                     os.path.exists("/usr/sbin/opendkim-testmsg") and
                     os.path.exists(PY) and have_dnslib(),
                     "needs root, iproute2, opendkim-tools, python3-dnslib")
class OpenDkimVerifies(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("odk")
        cls.f.write_conf()
        cls.f.add_domain("example.org")
        zone = []
        cls.selectors = {}
        for sel, alg in (("rsa1", "rsa"), ("ed1", "ed25519")):
            out = cls.f.cli("dkim", "generate", "example.org", "--selector",
                            sel, "--algorithm", alg).stdout
            line = [l for l in out.splitlines() if " IN TXT " in l][0]
            zone.append(line.replace(" IN TXT ( ", " 300 IN TXT ")
                        .replace(" )", ""))
            cls.selectors[sel] = alg
        cls.zonefile = os.path.join(cls.f.dir, "zone")
        with open(cls.zonefile, "w") as fh:
            fh.write("\n".join(zone) + "\n")
        subprocess.run(["ip", "netns", "add", NETNS], check=True)
        subprocess.run(["ip", "netns", "exec", NETNS, "ip", "link", "set",
                        "lo", "up"], check=True)
        os.makedirs("/etc/netns/" + NETNS, exist_ok=True)
        with open("/etc/netns/%s/resolv.conf" % NETNS, "w") as fh:
            fh.write("nameserver 127.0.0.1\n")
        cls.dns = subprocess.Popen(
            ["ip", "netns", "exec", NETNS, PY, "-m", "dnslib.zoneresolver",
             "--zone", cls.zonefile, "--port", "53", "--address",
             "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)

    @classmethod
    def tearDownClass(cls):
        cls.dns.kill()
        cls.dns.wait()
        subprocess.run(["ip", "netns", "del", NETNS], check=False)
        shutil.rmtree("/etc/netns/" + NETNS, ignore_errors=True)

    def sign(self, selector):
        p = self.f.cli("dkim", "sign", "example.org", "--selector", selector,
                       input=MSG.decode())
        self.assertIn("DKIM-Signature:", p.stdout)
        return p.stdout.encode()

    def opendkim_verify(self, msg):
        return subprocess.run(["ip", "netns", "exec", NETNS,
                               "/usr/sbin/opendkim-testmsg"], input=msg,
                              capture_output=True, timeout=60)

    def test_rsa_signature_verifies_in_opendkim(self):
        signed = self.sign("rsa1")
        self.assertIn(b"a=rsa-sha256", signed)
        p = self.opendkim_verify(signed)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout + p.stderr, b"")
        # a changed body breaks it for OpenDKIM too
        p = self.opendkim_verify(signed.replace(b"Hello Bob", b"Hello Eve"))
        self.assertNotEqual(p.returncode, 0)
        self.assertRegex((p.stdout + p.stderr).lower(), rb"bad signature|body hash")

    def test_ed25519_signature_verifies_in_opendkim(self):
        signed = self.sign("ed1")
        self.assertIn(b"a=ed25519-sha256", signed)
        p = self.opendkim_verify(signed)
        if re.search(rb"unknown|unsupported|algorithm", p.stderr, re.I):
            self.skipTest("this libopendkim has no ed25519: %r" % p.stderr)
        self.assertEqual(p.returncode, 0, p.stderr)


if __name__ == "__main__":
    unittest.main()
