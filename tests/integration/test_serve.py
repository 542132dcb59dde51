"""`facteur serve`, `check` and `version` as an administrator meets them:
config errors name file and line, SIGHUP reloads config and certificate
without closing a listener, SIGTERM stops cleanly, `check` says what is
wrong."""
import os
import signal
import smtplib
import socket
import subprocess
import time
import unittest

from fixture import BIN, Facteur, wait_for


def run(*args, input=None):
    return subprocess.run([BIN] + list(args), capture_output=True, text=True,
                          input=input, timeout=60)


class ServeCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("serve_cli")
        cls.f.write_conf()

    def test_version(self):
        p = run("version")
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"^facteur \d+\.\d+\.\d+")

    def test_unknown_command_and_usage(self):
        p = run("frobnicate")
        self.assertEqual(p.returncode, 2)
        self.assertIn("facteur: frobnicate: unknown command", p.stderr)
        p = run()
        self.assertEqual(p.returncode, 2)
        self.assertIn("usage:", p.stderr)
        p = run("serve", "--bogus")
        self.assertEqual(p.returncode, 2)

    def test_bad_config_names_file_and_line(self):
        bad = os.path.join(self.f.dir, "bad.conf")
        with open(self.f.conf_path) as fh:
            text = fh.read()
        with open(bad, "w") as fh:
            fh.write(text + "# a comment\nsmtpd_banner = hello\n")
        nlines = text.count("\n") + 2
        for cmd in (("serve", "-f", "-c", bad), ("check", "-c", bad)):
            p = run(*cmd)
            self.assertEqual(p.returncode, 1, cmd)
            self.assertIn("facteur: %s:%d: unknown key \"smtpd_banner\"" % (bad, nlines),
                          p.stderr)
        with open(bad, "w") as fh:
            fh.write(text + "message_size_limit = lots\n")
        p = run("serve", "-f", "-c", bad)
        self.assertEqual(p.returncode, 1)
        self.assertIn("%s:%d: message_size_limit:" % (bad, nlines - 1), p.stderr)
        p = run("serve", "-f", "-c", "/nonexistent/facteur.conf")
        self.assertEqual(p.returncode, 1)
        self.assertIn("/nonexistent/facteur.conf", p.stderr)

    def test_check_reports_each_item(self):
        p = run("check", "-c", self.f.conf_path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        for item in ("config", "tls", "run_user", "mail_root", "queue_dir",
                     "database"):
            self.assertRegex(p.stdout, r"(?m)^ok\s+%s" % item)
        # a broken certificate path and an unreachable database
        broken = os.path.join(self.f.dir, "broken.conf")
        with open(self.f.conf_path) as fh:
            text = fh.read()
        with open(broken, "w") as fh:
            fh.write(text + "tls_cert = /nonexistent/cert.pem\n"
                     "db_socket = /nonexistent/sock\n")
        t0 = time.time()
        p = run("check", "-c", broken)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stdout, r"(?m)^FAIL\s+tls /nonexistent/cert.pem")
        self.assertRegex(p.stdout, r"(?m)^FAIL\s+database")
        self.assertLess(time.time() - t0, 30)

    def test_serve_refuses_unusable_tls(self):
        broken = os.path.join(self.f.dir, "notls.conf")
        with open(self.f.conf_path) as fh:
            text = fh.read()
        with open(broken, "w") as fh:
            fh.write(text + "tls_key = /nonexistent/key.pem\n")
        p = run("serve", "-f", "-c", broken)
        self.assertEqual(p.returncode, 1)
        self.assertIn("tls", p.stderr)


class Reload(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("serve_reload", hostname="before.test.invalid")
        cls.f.start()

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()

    def banner(self):
        s = socket.create_connection(("127.0.0.1", self.f.ports["smtp"]), timeout=10)
        data = s.recv(200)
        s.close()
        return data

    def test_sighup_reloads_config_without_closing_listeners(self):
        self.assertIn(b"before.test.invalid", self.banner())
        with open(self.f.conf_path) as fh:
            text = fh.read()
        with open(self.f.conf_path, "w") as fh:
            fh.write(text.replace("hostname = before.test.invalid",
                                  "hostname = after.test.invalid"))
        old_workers = self.f.worker_pids()
        # a client hammering the port during the reload never sees a refusal
        refused = []
        stop = [False]

        def hammer():
            while not stop[0]:
                try:
                    s = socket.create_connection(("127.0.0.1", self.f.ports["smtp"]),
                                                 timeout=10)
                    s.recv(10)
                    s.close()
                except ConnectionRefusedError:
                    refused.append(1)
                except OSError:
                    pass
        import threading
        t = threading.Thread(target=hammer)
        t.start()
        self.f.proc.send_signal(signal.SIGHUP)
        ok = wait_for(lambda: b"after.test.invalid" in self.banner(), 20, 0.2)
        stop[0] = True
        t.join()
        self.assertTrue(ok, self.f.log()[-2000:])
        self.assertEqual(refused, [])
        self.assertEqual(self.f.proc.poll(), None)  # same supervisor pid
        self.assertTrue(wait_for(lambda: not (set(old_workers) &
                                              set(self.f.worker_pids())), 40))
        s = smtplib.SMTP("127.0.0.1", self.f.ports["smtp"], timeout=10)
        self.assertEqual(s.ehlo("x")[0], 250)
        s.quit()

    def test_sigterm_stops_cleanly(self):
        g = Facteur("serve_term")
        g.start()
        workers = g.worker_pids()
        g.proc.send_signal(signal.SIGTERM)
        self.assertEqual(g.proc.wait(timeout=40), 0)
        self.assertIn("supervisor stopping", g.log())
        self.assertIn("worker exit", g.log())
        for w in workers:
            self.assertFalse(os.path.exists("/proc/%d" % w) and
                             "Z" not in open("/proc/%d/stat" % w).read().split(") ")[1][:1])
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", g.ports["smtp"]), timeout=2)
        g.proc = None
        g.stop()


if __name__ == "__main__":
    unittest.main()
