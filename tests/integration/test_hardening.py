"""Fault injection and attacks against the whole server (issue 10):
kill -9 of the worker and of the supervisor under SMTP load (every 250
is on disk intact, nothing partial in new/), the supervisor restarting a
crashed worker without dropping its listeners, a full disk, slow and
many idle clients not starving others, the TLS configuration, and the
worker's privileges and file modes."""
import concurrent.futures
import hashlib
import os
import re
import shutil
import smtplib
import socket
import ssl
import stat
import subprocess
import threading
import time
import unittest

from fixture import Facteur, LineClient, RUN_USER, wait_for, wait_port

PW = "hardening-pw-1"


def message(i, size=2000):
    body = ("line %d " % i) * (size // 10)
    text = ("From: load@remote.test\r\nTo: u@example.org\r\n"
            "Subject: load %d\r\nMessage-ID: <load-%d@remote.test>\r\n\r\n%s\r\n"
            % (i, i, body))
    return text.encode()


def body_digest(raw):
    """Digest of the body part (after the first empty line), LF ends."""
    raw = raw.replace(b"\r\n", b"\n")
    return hashlib.sha256(raw.split(b"\n\n", 1)[1]).hexdigest()


class Crash(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("hard_crash", max_connections_per_ip=200)
        cls.f.start()
        cls.f.add_domain("example.org")
        cls.f.add_user("u@example.org", PW)

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()

    def send_many(self, start, count, stop_event, accepted):
        """One SMTP client sending messages start.. until stop; records
        the Message-IDs that got 250."""
        i = start
        while i < start + count and not stop_event.is_set():
            try:
                s = smtplib.SMTP("127.0.0.1", self.f.ports["smtp"], timeout=10)
                s.ehlo("load.test")
                while i < start + count and not stop_event.is_set():
                    m = message(i)
                    s.sendmail("load@remote.test", ["u@example.org"], m)
                    accepted[i] = body_digest(m)
                    i += 1
                s.quit()
            except (smtplib.SMTPException, OSError):
                time.sleep(0.05)
                i += 1   # that one may or may not have been accepted

    def stored(self):
        """Message-ID number -> body digest of every file in new/ + cur/."""
        out = {}
        md = self.f.maildir("u@example.org")
        for sub in ("new", "cur"):
            for name in os.listdir(os.path.join(md, sub)):
                with open(os.path.join(md, sub, name), "rb") as fh:
                    raw = fh.read()
                m = re.search(rb"Message-ID: <load-(\d+)@", raw)
                self.assertIsNotNone(m, "partial or foreign file %s" % name)
                # the size in the name matches the file: never half-written
                sm = re.search(r",S=(\d+)", name)
                self.assertEqual(int(sm.group(1)), len(raw), name)
                out[int(m.group(1))] = body_digest(raw)
        return out

    def test_kill9_worker_and_supervisor_under_load(self):
        for victim in ("worker", "supervisor"):
            accepted = {}
            stop = threading.Event()
            base = 100000 if victim == "worker" else 200000
            threads = [threading.Thread(target=self.send_many,
                                        args=(base + k * 10000, 10000, stop, accepted))
                       for k in range(8)]
            for t in threads:
                t.start()
            self.assertTrue(wait_for(lambda: len(accepted) >= 40, 30))
            if victim == "worker":
                for pid in self.f.worker_pids():
                    os.kill(pid, 9)
                time.sleep(0.5)
            else:
                self.f.kill9()
            stop.set()
            for t in threads:
                t.join()
            if victim == "supervisor":
                self.f.start()
            self.assertTrue(wait_port(self.f.ports["smtp"]))
            got = self.stored()
            missing = [i for i in accepted if i not in got]
            self.assertEqual(missing, [], "accepted with 250 but not on disk")
            for i, dig in accepted.items():
                self.assertEqual(got[i], dig, "message %d changed on disk" % i)
            # nothing but complete files was ever renamed into new/
            tmp = os.path.join(self.f.maildir("u@example.org"), "tmp")
            for name in os.listdir(tmp):
                self.assertNotIn(name, os.listdir(os.path.join(
                    self.f.maildir("u@example.org"), "new")))
        # still serving
        self.f.deliver("u@example.org", message(999999))

    def test_supervisor_restarts_crashed_worker_keeping_listeners(self):
        before = self.f.worker_pids()
        self.assertTrue(before)
        # a client connected before the crash may lose its session...
        for pid in before:
            os.kill(pid, 9)
        self.assertTrue(wait_for(lambda: not any(
            os.path.exists("/proc/%d/status" % p) and
            "zombie" not in open("/proc/%d/status" % p).read()
            for p in before), 10))
        # ...but the listening socket stays open in the supervisor:
        # new connections queue in the backlog and are served by the
        # new worker
        s = smtplib.SMTP("127.0.0.1", self.f.ports["smtp"], timeout=20)
        code, _ = s.ehlo("after.crash")
        self.assertEqual(code, 250)
        s.quit()
        after = self.f.worker_pids()
        self.assertTrue(after)
        self.assertFalse(set(before) & set(after))
        self.assertIn("killed by signal 9", self.f.log())


@unittest.skipUnless(os.geteuid() == 0, "mounting a tmpfs needs root")
class DiskFull(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mnt = os.path.join("/tmp", "facteur-full-%d" % os.getpid())
        os.makedirs(cls.mnt, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", cls.mnt],
                       check=True)
        cls.f = Facteur("hard_full", mail_root=os.path.join(cls.mnt, "vmail"))
        cls.f.start()
        cls.f.add_domain("example.org")
        cls.f.add_user("u@example.org", PW)

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()
        subprocess.run(["umount", "-l", cls.mnt], check=False)
        shutil.rmtree(cls.mnt, ignore_errors=True)

    def test_full_disk_is_a_temporary_error_and_leaves_nothing_behind(self):
        codes = []
        for i in range(20):
            s = self.f.smtp()
            try:
                s.sendmail("x@remote.test", ["u@example.org"], message(i, 100000))
                codes.append(250)
            except smtplib.SMTPDataError as e:
                codes.append(e.smtp_code)
                self.assertEqual(e.smtp_code, 452, e)
                self.assertIn(b"4.3.1", e.smtp_error)
            finally:
                try:
                    s.quit()
                except smtplib.SMTPException:
                    pass
        self.assertIn(250, codes)
        self.assertIn(452, codes)
        md = self.f.maildir("u@example.org")
        self.assertEqual(os.listdir(os.path.join(md, "tmp")), [])
        for name in os.listdir(os.path.join(md, "new")):
            sm = re.search(r",S=(\d+)", name)
            self.assertEqual(int(sm.group(1)),
                             os.path.getsize(os.path.join(md, "new", name)))


class Crowd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("hard_crowd", max_connections_per_ip=100,
                        max_connections=20000)
        cls.f.start()
        cls.f.add_domain("example.org")
        cls.f.add_user("u@example.org", PW)

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()

    def test_idle_crowd_and_slowloris_do_not_starve_others(self):
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = min(hard, 12000)
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        n = min(5000, want - 500)
        socks = []
        # spread over 127.0.0.x so the per-IP limit is not what stops us
        for i in range(n):
            src = "127.0.%d.%d" % (1 + i // 90 // 250, 2 + (i // 90) % 250)
            s = socket.socket()
            s.bind((src, 0))
            s.settimeout(10)
            kind = ("smtp", "imaps", "pop3s", "admin")[i % 4]
            try:
                s.connect(("127.0.0.1", self.f.ports[kind]))
            except OSError:
                s.close()
                continue
            if kind == "smtp" and i % 8 == 0:
                s.sendall(b"EHLO slow")   # a slowloris: never ends the line
            socks.append(s)
        self.assertGreater(len(socks), n * 0.9)
        t0 = time.time()
        self.f.deliver("u@example.org", message(1))
        self.assertTrue(self.f.wait_messages("u@example.org", 1, timeout=20))
        # a real IMAPS login still goes through promptly
        import imaplib
        m = imaplib.IMAP4_SSL("localhost", self.f.ports["imaps"],
                              ssl_context=self.f.ssl_context(), timeout=30)
        m.login("u@example.org", PW)
        m.logout()
        self.assertLess(time.time() - t0, 30)
        for s in socks:
            s.close()

    def test_per_ip_limit(self):
        socks = []
        for _ in range(100):
            s = socket.create_connection(("127.0.0.1", self.f.ports["smtp"]),
                                         source_address=("127.9.9.9", 0))
            socks.append(s)
        c = LineClient(socket.create_connection(("127.0.0.1", self.f.ports["smtp"]),
                                                source_address=("127.9.9.9", 0)))
        code, text = c.smtp_reply()
        self.assertEqual(code, 421)
        c.close()
        for s in socks:
            s.close()


@unittest.skipUnless(shutil.which("sslscan"), "needs sslscan")
class TlsScan(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("hard_tls")
        cls.f.start()

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()

    def scan(self, port, starttls=None):
        cmd = ["sslscan", "--no-colour", "--no-heartbleed"]
        if starttls:
            cmd.append("--starttls-" + starttls)
        cmd.append("127.0.0.1:%d" % port)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=180).stdout

    def check(self, out):
        self.assertRegex(out, r"TLSv1\.2\s+enabled")
        self.assertRegex(out, r"TLSv1\.3\s+enabled")
        for old in ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1"):
            self.assertRegex(out, old.replace(".", r"\.") + r"\s+disabled")
        accepted = [l for l in out.splitlines() if l.startswith(("Accepted", "Preferred"))]
        self.assertTrue(accepted)
        for l in accepted:
            self.assertNotRegex(l, r"RC4|DES|NULL|EXPORT|MD5|anon|CBC|SHA(\s|$)")
            bits = int(re.search(r"(\d+) bits", l).group(1))
            self.assertGreaterEqual(bits, 128, l)

    def test_implicit_tls_ports(self):
        for kind in ("imaps", "smtps", "pop3s", "admin"):
            self.check(self.scan(self.f.ports[kind]))

    def test_starttls_ports(self):
        self.check(self.scan(self.f.ports["smtp"], "smtp"))
        self.check(self.scan(self.f.ports["imap"], "imap"))
        self.check(self.scan(self.f.ports["pop3"], "pop3"))

    def test_full_chain_is_served(self):
        ctx = self.f.ssl_context()
        with socket.create_connection(("127.0.0.1", self.f.ports["imaps"])) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as t:
                cert = t.getpeercert()
                self.assertIn(("commonName", "localhost"), cert["subject"][0])


@unittest.skipUnless(os.geteuid() == 0 and RUN_USER, "privilege drop needs root")
class Privileges(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("hard_priv")
        cls.f.start()
        cls.f.add_domain("example.org")
        cls.f.add_user("u@example.org", PW)

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()

    def test_worker_has_no_privileges(self):
        import pwd
        want = pwd.getpwnam(RUN_USER)
        pids = self.f.worker_pids()
        self.assertTrue(pids)
        for pid in pids:
            with open("/proc/%d/status" % pid) as fh:
                status = fh.read()
            uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M).groups()
            gids = re.search(r"^Gid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M).groups()
            self.assertEqual(set(uids), {str(want.pw_uid)})
            self.assertEqual(set(gids), {str(want.pw_gid)})
            groups = re.search(r"^Groups:\s*(.*)$", status, re.M).group(1).split()
            self.assertLessEqual(set(groups), {str(want.pw_gid)})
            for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
                v = re.search(r"^%s:\s+([0-9a-f]+)" % cap, status, re.M).group(1)
                self.assertEqual(int(v, 16), 0, cap)

    def test_mail_files_are_private(self):
        import pwd
        want = pwd.getpwnam(RUN_USER)
        self.f.deliver("u@example.org", message(5))
        self.assertTrue(self.f.wait_messages("u@example.org", 1))
        md = self.f.maildir("u@example.org")
        for dirpath, dirnames, filenames in os.walk(md):
            st = os.stat(dirpath)
            self.assertEqual(st.st_uid, want.pw_uid, dirpath)
            self.assertEqual(stat.S_IMODE(st.st_mode) & 0o077, 0, dirpath)
            for fn in filenames:
                st = os.stat(os.path.join(dirpath, fn))
                self.assertEqual(st.st_uid, want.pw_uid, fn)
                self.assertEqual(stat.S_IMODE(st.st_mode) & 0o077, 0,
                                 os.path.join(dirpath, fn))
        for dirpath, dirnames, filenames in os.walk(self.f.queue_dir):
            st = os.stat(dirpath)
            self.assertEqual(stat.S_IMODE(st.st_mode) & 0o077, 0, dirpath)


if __name__ == "__main__":
    unittest.main()
