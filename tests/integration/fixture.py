"""Integration test fixture: a real facteur against a real MariaDB.

The harness (tests/lib/run-all.sh) starts one private MariaDB for the run
and exports:
  FACTEUR_TEST_DIR   scratch directory (MariaDB socket in mariadb/sock)
  FACTEUR_BIN        the facteur binary under test
  FACTEUR_BUILD      its build directory
Run a module alone with:  tests/lib/run-all.sh build --integration-only
or, with a MariaDB already up, FACTEUR_TEST_DIR=... python3 -m unittest test_x

Typical use:

    class T(unittest.TestCase):
        @classmethod
        def setUpClass(cls):
            cls.f = Facteur("smtp_basic")       # own DB, ports, dirs
            cls.f.start()
            cls.f.add_domain("example.org")
            cls.f.add_user("bob@example.org", "secret")
        @classmethod
        def tearDownClass(cls):
            cls.f.stop()

Each Facteur has its own database, mail_root, queue_dir and loopback
ports (all listeners on 127.0.0.1), a self-signed certificate for
"localhost" (f.cafile for clients), and drops to the `facteurtest` user
when run as root.
"""
import glob
import os
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import threading
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRATCH = os.environ.get("FACTEUR_TEST_DIR", "/tmp/facteur-it.manual")
BIN = os.environ.get("FACTEUR_BIN", os.path.join(TOP, "build", "facteur"))
MARIADB_SH = os.path.join(TOP, "tests", "lib", "mariadb.sh")
DB_USER = "facteur"
DB_PASSWORD = "facteur-test-pw"
RUN_USER = "facteurtest" if os.geteuid() == 0 else None

LISTENERS = ("smtp", "smtps", "submission", "imaps", "imap", "pop3s",
             "pop3", "admin")

_lock = threading.Lock()


_ports_given = set()


def free_port():
    """A currently free TCP port on 127.0.0.1.

    Picked at random from 10000-29999, below Linux's ephemeral range
    (32768-60999): a port the kernel handed out for bind(0) is also what
    it hands to outgoing connections, so it could be taken again before
    the server binds it. Ports already given out by this process are not
    given again; Facteur.start() retries with new ports if one is taken
    all the same (another test process may pick it first)."""
    import random
    for _ in range(1000):
        p = random.randint(10000, 29999)
        if p in _ports_given:
            continue
        s = socket.socket()
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", p))
        except OSError:
            continue
        finally:
            s.close()
        _ports_given.add(p)
        return p
    raise RuntimeError("no free port")


def wait_port(port, host="127.0.0.1", timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def wait_for(pred, timeout=10.0, interval=0.05):
    """Poll pred() until truthy or timeout; return its last value."""
    deadline = time.time() + timeout
    v = pred()
    while not v and time.time() < deadline:
        time.sleep(interval)
        v = pred()
    return v


class _NxStub:
    """A loopback DNS server answering NXDOMAIN to every query (UDP).

    facteur checks SPF/DKIM/DMARC on mail arriving on port 25; with no
    dns_server it would ask the machine's resolver, and tests must send
    nothing beyond loopback. Every Facteur uses this stub unless the test
    gives its own dns_server (the queue and mailauth tests run a real
    zone with dnslib)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        t = threading.Thread(target=self._serve, daemon=True)
        t.start()

    def _serve(self):
        while True:
            try:
                q, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            if len(q) < 12:
                continue
            # same id and question (without any EDNS record after it);
            # QR, RD copied, RA, RCODE 3 (NXDOMAIN)
            i = 12
            while i < len(q) and q[i] != 0 and q[i] < 64:
                i += 1 + q[i]
            end = i + 5
            if end > len(q):
                continue
            flags = 0x8000 | (q[2] << 8 & 0x0100) | 0x0080 | 3
            ans = q[:2] + bytes([flags >> 8, flags & 0xff]) + \
                b"\0\1\0\0\0\0\0\0" + q[12:end]
            try:
                self.sock.sendto(ans, peer)
            except OSError:
                pass


_nxstub = None


def nx_dns():
    """ip:port of the run's NXDOMAIN stub (started on first use)."""
    global _nxstub
    with _lock:
        if _nxstub is None:
            _nxstub = _NxStub()
        return "127.0.0.1:%d" % _nxstub.port


class PortTaken(RuntimeError):
    """The server could not bind a port it was given."""


class MariaDB:
    """A MariaDB server in a scratch directory (tests/lib/mariadb.sh)."""

    def __init__(self, path):
        self.path = path
        self.sock = os.path.join(path, "sock")

    def start(self):
        subprocess.run([MARIADB_SH, "start", self.path], check=True)
        self.sql("CREATE USER IF NOT EXISTS '%s'@'localhost' IDENTIFIED BY '%s';"
                 "GRANT ALL ON *.* TO '%s'@'localhost'; FLUSH PRIVILEGES;"
                 % (DB_USER, DB_PASSWORD, DB_USER))

    def stop(self):
        subprocess.run([MARIADB_SH, "stop", self.path], check=False)

    def sql(self, text, db=None):
        cmd = ["mariadb", "--no-defaults", "-S", self.sock, "-uroot",
               "--batch", "--skip-column-names"]
        if db:
            cmd.append(db)
        p = subprocess.run(cmd, input=text, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("sql failed: %s\n%s" % (text, p.stderr))
        return p.stdout


_shared_db = None


def shared_mariadb():
    """The run's MariaDB (started by run-all.sh; started here if absent)."""
    global _shared_db
    with _lock:
        if _shared_db is None:
            _shared_db = MariaDB(os.path.join(SCRATCH, "mariadb"))
            _shared_db.start()   # idempotent: reuses a running server
        return _shared_db


def make_cert(directory):
    """Self-signed cert for localhost/127.0.0.1 (shared per run)."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    lockfile = os.path.join(directory, ".certlock")
    os.makedirs(directory, exist_ok=True)
    import fcntl
    with open(lockfile, "w") as lf:
        fcntl.flock(lf, fcntl.LOCK_EX)
        if not os.path.exists(cert):
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                 "-keyout", key + ".tmp", "-out", cert + ".tmp", "-days", "30",
                 "-subj", "/CN=localhost",
                 "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                check=True, capture_output=True)
            os.chmod(key + ".tmp", 0o600)
            os.rename(key + ".tmp", key)
            os.rename(cert + ".tmp", cert)
    return cert, key


class Facteur:
    """One facteur server under test."""

    def __init__(self, name, db=None, **conf):
        self.name = name
        self.db = db
        self.dir = os.path.join(SCRATCH, "f-%s-%d" % (name, os.getpid()))
        self.dbname = ("t_%s_%d" % (name, os.getpid())).replace("-", "_")[:60]
        if conf.get("log_level") in ("warn", "error"):
            raise ValueError("log_level must be info or debug: start-up "
                             "waits for the worker's 'ready' line")
        self.extra_conf = conf
        self.proc = None
        self.ports = {}
        self.logfile = os.path.join(self.dir, "facteur.log")
        self.mail_root = conf.get("mail_root", os.path.join(self.dir, "vmail"))
        self.queue_dir = conf.get("queue_dir", os.path.join(self.dir, "queue"))
        self.conf_path = os.path.join(self.dir, "facteur.conf")
        self.cafile = None
        self.hostname = conf.pop("hostname", "mx.test.invalid")

    # -- set-up --------------------------------------------------------
    def write_conf(self):
        if self.db is None:
            self.db = shared_mariadb()
        if os.path.exists(self.dir):
            shutil.rmtree(self.dir)
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        cert, key = make_cert(os.path.join(SCRATCH, "tls"))
        self.cafile = cert
        pwfile = os.path.join(self.dir, "db.password")
        with open(pwfile, "w") as fh:
            fh.write(DB_PASSWORD + "\n")
        os.chmod(pwfile, 0o600)
        if not self.ports:
            self.disabled = self.extra_conf.pop("disable", ())
            for l in LISTENERS:
                if l not in self.disabled:
                    self.ports[l] = free_port()
        conf = {
            "hostname": self.hostname,
            "tls_cert": cert,
            "tls_key": key,
            "db_socket": self.db.sock,
            "db_name": self.dbname,
            "db_user": DB_USER,
            "db_password_file": pwfile,
            "mail_root": self.mail_root,
            "queue_dir": self.queue_dir,
            "web_root": os.path.join(TOP, "web"),
            "run_user": RUN_USER or os.environ.get("USER", "nobody"),
            "log_level": "debug",
            "auth_fail_delay_ms": "200",
            "queue_retry": "2s, 4s",
            "dns_server": nx_dns(),
        }
        for l in LISTENERS:
            conf[l + "_listen"] = ("127.0.0.1:%d" % self.ports[l]
                                   if l in self.ports else "")
        conf.update({k: str(v) for k, v in self.extra_conf.items()})
        with open(self.conf_path, "w") as fh:
            for k, v in conf.items():
                fh.write("%s = %s\n" % (k, v))
        self.db.sql("DROP DATABASE IF EXISTS `%s`; CREATE DATABASE `%s` "
                    "CHARACTER SET utf8mb4;" % (self.dbname, self.dbname))
        self.cli("db", "init")

    def start(self, wait=True):
        for attempt in range(4):
            try:
                return self._start(wait)
            except PortTaken:
                # another test process took one of our ports between
                # free_port() and bind(): new ports, same database
                self.stop()
                self.ports = {}
                self._rewrite_ports()
        return self._start(wait)

    def _rewrite_ports(self):
        for l in LISTENERS:
            if (l not in getattr(self, "disabled", ()) and
                    ("%s_listen" % l) not in self.extra_conf):
                self.ports[l] = free_port()
        with open(self.conf_path) as fh:
            lines = fh.read().splitlines()
        out = []
        for line in lines:
            k = line.split("=", 1)[0].strip()
            if k.endswith("_listen") and k[:-7] in self.ports:
                line = "%s = 127.0.0.1:%d" % (k, self.ports[k[:-7]])
            out.append(line)
        with open(self.conf_path, "w") as fh:
            fh.write("\n".join(out) + "\n")

    def _start(self, wait=True):
        if not os.path.exists(self.conf_path):
            self.write_conf()
        self.log_offset = len(self.log())
        self.log_fh = open(self.logfile, "ab")
        cmd = [BIN, "serve", "-c", self.conf_path, "-f"]
        if os.environ.get("FACTEUR_VALGRIND"):
            cmd = ["valgrind", "--error-exitcode=99", "--leak-check=no",
                   "--trace-children=yes", "-q"] + cmd
        self.proc = subprocess.Popen(cmd, stdout=self.log_fh,
                                     stderr=subprocess.STDOUT)
        if wait:
            try:
                self.wait_ready()
            except BaseException:
                # setUpClass failing skips tearDownClass: never leave a
                # server behind
                self.stop()
                raise
        return self

    def wait_ready(self, timeout=20.0):
        """Wait for this start's "worker ready" line (not just an open
        port: another process could hold a port we were given)."""
        deadline = time.time() + timeout
        while True:
            new = self.log()[self.log_offset:]
            if "worker ready" in new:
                break
            if self.proc is not None and self.proc.poll() is not None:
                if "Address already in use" in new:
                    raise PortTaken(new)
                raise RuntimeError("facteur exited (%s); log:\n%s" % (
                    self.proc.returncode, new))
            if time.time() > deadline:
                raise RuntimeError("facteur not ready; log:\n%s" % new)
            time.sleep(0.05)
        for l, p in self.ports.items():
            if not wait_port(p, timeout=max(1.0, deadline - time.time())):
                raise RuntimeError("facteur did not listen on %s port %d; "
                                   "log:\n%s" % (l, p, self.log()))

    def _has_http(self):
        return bool(glob.glob(os.path.join(TOP, "src", "http", "*.c")))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "log_fh", None):
            self.log_fh.close()
            self.log_fh = None

    def kill9(self):
        """SIGKILL the supervisor and every worker it has, and wait until
        they are gone (their sockets closed), as after a power cut."""
        if self.proc:
            pid = self.proc.pid
            kids = self.worker_pids()
            for k in kids:
                try:
                    os.kill(k, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.kill()
            self.proc.wait()
            self.proc = None

            def gone(p):
                try:
                    with open("/proc/%d/stat" % p) as fh:
                        return fh.read().split(") ", 1)[1][:1] in ("Z", "X")
                except (FileNotFoundError, IndexError):
                    return True
            wait_for(lambda: all(gone(k) for k in kids), 10)
            if getattr(self, "log_fh", None):
                self.log_fh.close()
                self.log_fh = None

    def worker_pids(self):
        if not self.proc:
            return []
        p = subprocess.run(["pgrep", "-P", str(self.proc.pid)],
                           capture_output=True, text=True)
        return [int(x) for x in p.stdout.split()]

    def restart(self):
        self.stop()
        self.start()

    def log(self):
        try:
            with open(self.logfile, "rb") as fh:
                return fh.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    # -- CLI -----------------------------------------------------------
    def cli(self, *args, input=None, check=True):
        """Run `facteur <cmd> -c CONF args...`; returns CompletedProcess."""
        cmd = [BIN, args[0], "-c", self.conf_path] + list(args[1:])
        p = subprocess.run(cmd, input=input, capture_output=True, text=True,
                           timeout=60)
        if check and p.returncode != 0:
            raise RuntimeError("%s failed (%d): %s%s" % (
                " ".join(cmd), p.returncode, p.stdout, p.stderr))
        return p

    def add_domain(self, name):
        self.cli("domain", "add", name)

    def add_user(self, email, password, quota=None):
        args = ["user", "add", email]
        if quota is not None:
            args += ["--quota", str(quota)]
        self.cli(*args, input=password + "\n")

    def add_alias(self, source, dest):
        self.cli("alias", "add", source, dest)

    # -- mail store ----------------------------------------------------
    def maildir(self, email, folder=None):
        local, domain = email.lower().rsplit("@", 1)
        p = os.path.join(self.mail_root, domain, local, "Maildir")
        if folder:
            p = os.path.join(p, "." + folder)
        return p

    def messages(self, email, sub="new", folder=None):
        """Sorted file names in new/ (or cur/) of a Maildir."""
        d = os.path.join(self.maildir(email, folder), sub)
        try:
            return sorted(os.listdir(d))
        except FileNotFoundError:
            return []

    def wait_messages(self, email, count, sub="new", timeout=10.0):
        return wait_for(lambda: len(self.messages(email, sub)) >= count,
                        timeout) and self.messages(email, sub)

    def read_message(self, email, name, sub="new"):
        with open(os.path.join(self.maildir(email), sub, name), "rb") as fh:
            return fh.read()

    # -- clients -------------------------------------------------------
    def ssl_context(self):
        ctx = ssl.create_default_context(cafile=self.cafile)
        ctx.check_hostname = True
        return ctx

    def smtp(self, port_kind="smtp", ehlo=True, timeout=30):
        s = smtplib.SMTP("127.0.0.1", self.ports[port_kind], timeout=timeout)
        if ehlo:
            s.ehlo("client.test.invalid")
        return s

    def smtp_tls(self, port_kind="submission", timeout=30):
        """smtplib over STARTTLS (default: the submission port)."""
        s = smtplib.SMTP("localhost", self.ports[port_kind], timeout=timeout)
        s.ehlo("client.test.invalid")
        s.starttls(context=self.ssl_context())
        s.ehlo("client.test.invalid")
        return s

    def smtps(self, timeout=30):
        s = smtplib.SMTP_SSL("localhost", self.ports["smtps"],
                             context=self.ssl_context(), timeout=timeout)
        s.ehlo("client.test.invalid")
        return s

    def deliver(self, rcpt, body, sender="sender@remote.test.invalid"):
        """Send one message over SMTP port 25 (plain); returns nothing,
        raises on refusal. body is bytes or str with any line ends."""
        if isinstance(body, str):
            body = body.encode()
        s = self.smtp()
        try:
            s.sendmail(sender, [rcpt] if isinstance(rcpt, str) else rcpt,
                       body)
        finally:
            s.quit()

    def raw(self, port_kind="smtp", timeout=10):
        """A raw socket connected to a listener (plain)."""
        return socket.create_connection(("127.0.0.1", self.ports[port_kind]),
                                        timeout=timeout)

    def raw_tls(self, port_kind, timeout=10):
        sock = self.raw(port_kind, timeout)
        return self.ssl_context().wrap_socket(sock, server_hostname="localhost")


def recv_until(sock, marker, timeout=10.0, limit=1 << 20):
    """Read from sock until marker (bytes) is seen; return all bytes."""
    sock.settimeout(timeout)
    data = b""
    while marker not in data and len(data) < limit:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


class LineClient:
    """A raw protocol client over a socket (plain or TLS) that keeps its
    own buffer, so pipelined replies are never lost between reads."""

    def __init__(self, sock, timeout=10.0):
        self.sock = sock
        self.buf = b""
        self.sock.settimeout(timeout)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        """One line including its CRLF; b"" at EOF."""
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                out, self.buf = self.buf, b""
                return out
            self.buf += chunk
        i = self.buf.index(b"\n") + 1
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def smtp_reply(self):
        """One complete SMTP reply: (code, text with lines joined by \\n)."""
        texts = []
        while True:
            ln = self.line()
            if not ln:
                raise ConnectionError("connection closed after %r" % texts)
            ln = ln.rstrip(b"\r\n")
            texts.append(ln[4:].decode("utf-8", "replace"))
            if len(ln) < 4 or ln[3:4] != b"-":
                return int(ln[:3]), "\n".join(texts)

    def until_tagged(self, tag):
        """IMAP: lines up to and including the one starting with tag."""
        if isinstance(tag, str):
            tag = tag.encode()
        out = []
        while True:
            ln = self.line()
            if not ln:
                raise ConnectionError("closed; got %r" % out)
            out.append(ln)
            if ln.startswith(tag + b" "):
                return out

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
