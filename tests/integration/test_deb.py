"""The Debian package end to end: build it, install it into a fresh Debian
12 system made with debootstrap (with mariadb-server), start MariaDB and
the unit's ExecStart line there (no systemd in the chroot), add a domain
and a user with the CLI, send a mail over SMTP and read it over IMAPS;
then upgrade to a package with a higher version and check mail and
config survive; purge keeps /var/vmail; systemd-analyze verify the unit.

The chroot's services run in a network namespace of their own, so ports
25 and 993 there never meet anything on the host.

Needs root, debootstrap, dpkg-buildpackage and Debian's mirror (the
packages come from the archive). The pristine base system is cached in
/var/tmp/facteur-deb/base between runs.
"""
import glob
import os
import shutil
import subprocess
import tempfile
import textwrap
import time
import unittest

from fixture import TOP, SCRATCH

BASE = "/var/tmp/facteur-deb/base"
NETNS = "facteurdeb%d" % os.getpid()


def run(cmd, check=True, timeout=1200, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (
            " ".join(cmd), p.returncode, p.stdout[-3000:], p.stderr[-3000:]))
    return p


def have(tool):
    return shutil.which(tool) is not None


CLIENT = textwrap.dedent(r'''
    import imaplib, smtplib, ssl, sys, time
    mode = sys.argv[1]
    for i in range(100):
        try:
            s = smtplib.SMTP("127.0.0.1", 25, timeout=10); break
        except OSError:
            time.sleep(0.2)
    else:
        sys.exit("nothing listens on 127.0.0.1:25")
    if mode == "send":
        s.ehlo("client.example.net")
        s.sendmail("someone@example.net", ["alice@example.org"],
                   b"Subject: deb test\r\nMessage-ID: <deb@x>\r\n\r\nvia the package\r\n")
    s.quit()
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for i in range(50):
        m = imaplib.IMAP4_SSL("127.0.0.1", 993, ssl_context=ctx)
        m.login("alice@example.org", "alice-password")
        typ, d = m.select("INBOX")
        if int(d[0]) >= 1:
            break
        m.logout()
        time.sleep(0.2)
    typ, d = m.uid("FETCH", "1:*", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    print(repr(d))
    m.logout()
''')


@unittest.skipUnless(os.geteuid() == 0 and have("debootstrap") and
                     have("dpkg-buildpackage") and have("ip"),
                     "needs root, debootstrap, dpkg-buildpackage, iproute2")
class DebianPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="deb-", dir=SCRATCH)
        cls.root = os.path.join(cls.work, "chroot")
        cls.mounted = []
        cls.procs = []
        cls.build_packages()
        cls.make_chroot()
        run(["ip", "netns", "add", NETNS])
        run(["ip", "netns", "exec", NETNS, "ip", "link", "set", "lo", "up"])

    @classmethod
    def tearDownClass(cls):
        for p in cls.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        run(["ip", "netns", "pids", NETNS], check=False)
        pids = run(["ip", "netns", "pids", NETNS], check=False).stdout.split()
        for pid in pids:
            run(["kill", "-9", pid], check=False)
        time.sleep(0.5)
        for m in reversed(cls.mounted):
            run(["umount", "-l", m], check=False)
        run(["ip", "netns", "del", NETNS], check=False)
        shutil.rmtree(cls.work, ignore_errors=True)

    # -- set-up helpers ---------------------------------------------------
    @classmethod
    def build_packages(cls):
        src = os.path.join(cls.work, "src")
        os.makedirs(src)
        files = run(["git", "ls-files"], cwd=TOP).stdout.split("\n")
        for f in files:
            if not f or not os.path.exists(os.path.join(TOP, f)):
                continue
            dst = os.path.join(src, f)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.join(TOP, f), dst)
        env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck")
        # the package builds the way Debian does, not with the variables
        # of the make that runs these tests (SANITIZE=1, BUILD_DIR=...)
        for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES",
                  "SANITIZE", "BUILD_DIR", "CFLAGS", "LDFLAGS"):
            env.pop(k, None)
        run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, env=env)
        debs = [d for d in glob.glob(os.path.join(cls.work, "facteur_*.deb"))]
        assert len(debs) == 1, debs
        cls.deb = debs[0]
        if have("lintian"):
            p = run(["lintian", "--fail-on", "error,warning", cls.deb], check=False)
            cls.lintian = (p.returncode, p.stdout + p.stderr)
        else:
            cls.lintian = None
        # the "upgrade": the same package rebuilt with a higher version
        x = os.path.join(cls.work, "x")
        run(["dpkg-deb", "-R", cls.deb, x])
        ctl = os.path.join(x, "DEBIAN", "control")
        with open(ctl) as fh:
            text = fh.read()
        ver = [l.split(": ", 1)[1] for l in text.splitlines() if l.startswith("Version: ")][0]
        cls.old_version = ver
        cls.new_version = ver + "+upgrade1"
        with open(ctl, "w") as fh:
            fh.write(text.replace("Version: " + ver, "Version: " + cls.new_version))
        cls.deb2 = os.path.join(cls.work, "facteur_%s_amd64.deb" % cls.new_version)
        run(["dpkg-deb", "-b", x, cls.deb2])

    @classmethod
    def make_chroot(cls):
        if not os.path.exists(os.path.join(BASE, "usr/bin/apt-get")):
            tmp = BASE + ".tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            os.makedirs(os.path.dirname(BASE), exist_ok=True)
            run(["debootstrap", "--variant=minbase", "bookworm", tmp,
                 "http://deb.debian.org/debian"], timeout=1800)
            os.rename(tmp, BASE)
        run(["cp", "-a", BASE, cls.root])
        shutil.copy("/etc/resolv.conf", os.path.join(cls.root, "etc/resolv.conf"))
        prc = os.path.join(cls.root, "usr/sbin/policy-rc.d")
        with open(prc, "w") as fh:
            fh.write("#!/bin/sh\nexit 101\n")
        os.chmod(prc, 0o755)
        for m, args in (("proc", ["-t", "proc", "proc"]),
                        ("dev", ["--bind", "/dev"]),
                        ("dev/pts", ["--bind", "/dev/pts"])):
            target = os.path.join(cls.root, m)
            run(["mount"] + args + [target])
            cls.mounted.append(target)
        with open(os.path.join(cls.root, "etc/hostname"), "w") as fh:
            fh.write("mail.example.org\n")

    def chroot(self, *cmd, check=True, input=None, netns=False, timeout=1200):
        full = ["chroot", self.root] + list(cmd)
        if netns:
            full = ["ip", "netns", "exec", NETNS] + full
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
               "DEBIAN_FRONTEND": "noninteractive", "HOME": "/root"}
        return run(full, check=check, input=input, env=env, timeout=timeout)

    def start_bg(self, *cmd, log):
        fh = open(os.path.join(self.work, log), "ab")
        p = subprocess.Popen(["ip", "netns", "exec", NETNS, "chroot", self.root] + list(cmd),
                             stdout=fh, stderr=subprocess.STDOUT,
                             env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"})
        self.procs.append(p)
        return p

    def start_mariadb(self):
        self.chroot("install", "-d", "-o", "mysql", "-g", "mysql", "/run/mysqld")
        self.start_bg("/usr/sbin/mariadbd", "--user=mysql", log="mariadb.log")
        for _ in range(150):
            if self.chroot("mariadb", "-uroot", "-e", "select 1", check=False).returncode == 0:
                return
            time.sleep(0.2)
        self.fail("MariaDB did not start in the chroot")

    def exec_start(self):
        unit = os.path.join(self.root, "lib/systemd/system/facteur.service")
        with open(unit) as fh:
            line = [l for l in fh if l.startswith("ExecStart=")][0]
        return line.split("=", 1)[1].split()

    def client(self, mode):
        path = os.path.join(self.work, "client.py")
        with open(path, "w") as fh:
            fh.write(CLIENT)
        py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"
        p = run(["ip", "netns", "exec", NETNS, py, path, mode], timeout=120, check=False)
        if p.returncode != 0:
            logs = ""
            for name in sorted(glob.glob(os.path.join(self.work, "*.log"))):
                with open(name, errors="replace") as fh:
                    logs += "== %s\n%s\n" % (name, fh.read()[-3000:])
            self.fail("client %s failed:\n%s\n%s\n%s" % (mode, p.stdout, p.stderr, logs))
        return p.stdout

    def stop_facteur(self, p):
        p.terminate()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    # -- the test -----------------------------------------------------------
    def test_install_serve_upgrade_purge(self):
        if self.lintian is not None:
            self.assertEqual(self.lintian[0], 0, "lintian: " + self.lintian[1])
        self.chroot("apt-get", "update", "-q")
        self.chroot("apt-get", "install", "-y", "-q", "--no-install-recommends",
                    "mariadb-server", "mariadb-client")
        self.start_mariadb()
        shutil.copy(self.deb, os.path.join(self.root, "tmp/"))
        out = self.chroot("apt-get", "install", "-y", "-q", "--no-install-recommends",
                          "/tmp/" + os.path.basename(self.deb)).stdout
        self.assertIn("database mailserver ready", out)

        # what postinst set up
        st = os.stat(os.path.join(self.root, "etc/facteur/db.password"))
        self.assertEqual(st.st_mode & 0o777, 0o640)
        self.assertEqual(self.chroot("id", "-u", "vmail").stdout.strip(), "5000")
        self.assertEqual(self.chroot("stat", "-c", "%a %U", "/var/vmail").stdout.strip(),
                         "770 vmail")
        self.assertTrue(os.path.exists(os.path.join(self.root, "etc/facteur/tls/privkey.pem")))
        self.chroot("facteur", "check")

        # a domain and a user with the CLI, then mail in and out
        self.chroot("facteur", "domain", "add", "example.org")
        self.chroot("facteur", "user", "add", "alice@example.org", input="alice-password\n")
        p = self.start_bg(*self.exec_start(), log="facteur.log")
        out = self.client("send")
        self.assertIn("deb test", out)
        self.stop_facteur(p)

        conf_before = open(os.path.join(self.root, "etc/facteur/facteur.conf"), "rb").read()
        pw_before = open(os.path.join(self.root, "etc/facteur/db.password"), "rb").read()

        # upgrade: data and config stay
        shutil.copy(self.deb2, os.path.join(self.root, "tmp/"))
        self.chroot("apt-get", "install", "-y", "-q", "/tmp/" + os.path.basename(self.deb2))
        ver = self.chroot("dpkg-query", "-W", "-f=${Version}", "facteur").stdout
        self.assertEqual(ver, self.new_version)
        self.assertEqual(open(os.path.join(self.root, "etc/facteur/facteur.conf"), "rb").read(),
                         conf_before)
        self.assertEqual(open(os.path.join(self.root, "etc/facteur/db.password"), "rb").read(),
                         pw_before)
        p = self.start_bg(*self.exec_start(), log="facteur2.log")
        out = self.client("read")
        self.assertIn("deb test", out)  # the mail from before the upgrade
        self.stop_facteur(p)

        # purge: config gone, mail kept
        self.chroot("dpkg", "--purge", "facteur")
        self.assertFalse(os.path.exists(os.path.join(self.root, "etc/facteur/facteur.conf")))
        self.assertTrue(glob.glob(os.path.join(
            self.root, "var/vmail/example.org/alice/Maildir/*/*deb*")) or
            glob.glob(os.path.join(self.root, "var/vmail/example.org/alice/Maildir/cur/*")) or
            glob.glob(os.path.join(self.root, "var/vmail/example.org/alice/Maildir/new/*")))

    def test_systemd_unit_verifies(self):
        if not have("systemd-analyze"):
            self.skipTest("systemd-analyze not installed")
        # verify the unit as installed: ExecStart must point at a real file
        d = os.path.join(self.work, "verify")
        os.makedirs(os.path.join(d, "usr/sbin"), exist_ok=True)
        shutil.copy(os.path.join(TOP, "debian", "facteur.service"), d)
        unit = os.path.join(d, "facteur.service")
        with open(unit) as fh:
            text = fh.read()
        fake = os.path.join(d, "usr/sbin/facteur")
        with open(fake, "w") as fh:
            fh.write("#!/bin/sh\n")
        os.chmod(fake, 0o755)
        with open(unit, "w") as fh:
            fh.write(text.replace("/usr/sbin/facteur", fake))
        for sec in ("8", "5"):
            os.makedirs(os.path.join(d, "man", "man" + sec), exist_ok=True)
        shutil.copy(os.path.join(TOP, "debian", "facteur.8"), os.path.join(d, "man", "man8"))
        shutil.copy(os.path.join(TOP, "debian", "facteur.conf.5"), os.path.join(d, "man", "man5"))
        p = run(["systemd-analyze", "verify", unit], check=False,
                env=dict(os.environ, MANPATH=os.path.join(d, "man")))
        errors = [l for l in (p.stdout + p.stderr).splitlines()
                  if "facteur.service" in l and "man:" not in l]
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(errors, [])


if __name__ == "__main__":
    unittest.main()
