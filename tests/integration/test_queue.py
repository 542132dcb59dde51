"""Outbound queue end to end: a real facteur, a tiny DNS server (dnslib)
on 127.0.0.1, and scripted receiving MTAs on 127.0.0.2-127.0.0.9.

Covers: STARTTLS delivery with dot-stuffing and CRLF, PIPELINING (one
transaction per domain), a receiver down then up (delivered exactly
once), 4xx then 250, 5xx and null MX bouncing with an RFC 3464 DSN in
the local sender's INBOX, several domains, kill -9 with a full queue
then restart (everything delivered once, nothing re-sent after a 250),
and `facteur queue list|show|retry|delete`.

Internal knobs (environment of the facteur process): FACTEUR_SMTP_PORT
(port used for MX hosts instead of 25), FACTEUR_SMTP_TIMEOUT_MS (caps
the RFC 5321 timeouts).
"""
import base64
import os
import re
import socket
import socketserver
import ssl
import sys
import threading
import time
import unittest

from fixture import Facteur, free_port, make_cert, SCRATCH, wait_for

try:
    import dnslib  # noqa: F401
except ImportError:  # Debian's python3-dnslib under a non-system python
    sys.path.append("/usr/lib/python3/dist-packages")
try:
    from dnslib import RR, QTYPE, RCODE
    from dnslib.server import DNSServer, BaseResolver, DNSLogger
    HAVE_DNSLIB = True
except ImportError:
    HAVE_DNSLIB = False
    BaseResolver = object

PASSWORD = "alice-secret"


class Zone(BaseResolver):
    """name -> records; unknown names are NXDOMAIN, `servfail` names
    answer SERVFAIL."""

    def __init__(self):
        self.records = {}
        self.servfail = set()
        self.tcp_queries = []
        self.lock = threading.Lock()

    def add(self, line):
        with self.lock:
            for rr in RR.fromZone(line):
                self.records.setdefault(str(rr.rname).lower(), []).append(rr)

    def resolve(self, request, handler):
        reply = request.reply()
        qname = str(request.q.qname).lower()
        qtype = request.q.qtype
        handler.udplen = 512     # classic limit: big answers get TC
        with self.lock:
            if handler.protocol == "tcp":
                self.tcp_queries.append(qname)
            if qname in self.servfail:
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            rrs = self.records.get(qname)
            if rrs is None:
                reply.header.rcode = RCODE.NXDOMAIN
                return reply
            for rr in rrs:
                if rr.rtype == qtype or rr.rtype == QTYPE.CNAME:
                    reply.add_answer(rr)
        return reply


class Dns:
    def __init__(self):
        self.zone = Zone()
        self.port = free_port()
        logger = DNSLogger(log="-request,-reply,-truncated,-error,-recv,"
                           "-send,-data", prefix=False, logf=lambda s: None)
        self.udp = DNSServer(self.zone, port=self.port, address="127.0.0.1",
                             logger=logger)
        self.tcp = DNSServer(self.zone, port=self.port, address="127.0.0.1",
                             tcp=True, logger=logger)

    def start(self):
        self.udp.start_thread()
        self.tcp.start_thread()

    def stop(self):
        self.udp.stop()
        self.tcp.stop()


class _Handler(socketserver.StreamRequestHandler):
    def send(self, text):
        self.wfile.write((text + "\r\n").encode())
        self.wfile.flush()

    def handle(self):
        rx = self.server.rx
        rx.enter()
        try:
            self.session(rx)
        finally:
            rx.leave()

    def session(self, rx):
        sock = self.request
        rx.note_session()
        tls = False
        auth = None
        mail = None
        rcpts = []
        rfile = self.rfile
        if rx.implicit_tls:
            sock = rx.ctx.wrap_socket(sock, server_side=True)
            rfile = sock.makefile("rb")
            self.wfile = sock.makefile("wb")
            tls = True
            rx.tls_version = sock.version()
        self.send("220 %s ESMTP test" % rx.name)
        while True:
            line = rfile.readline(4096)
            if not line:
                return
            cmd = line.decode("utf-8", "replace").rstrip("\r\n")
            up = cmd.upper()
            rx.commands.append(cmd)
            if up.startswith("EHLO") and rx.ehlo_fails:
                self.send("502 5.5.2 EHLO not supported")
            elif up.startswith("EHLO"):
                ext = ["PIPELINING", "8BITMIME", "SIZE %d" % rx.size]
                if rx.smtputf8:
                    ext.append("SMTPUTF8")
                if rx.starttls and not tls:
                    ext.append("STARTTLS")
                if rx.auth and tls:
                    ext.append("AUTH PLAIN LOGIN")
                lines = [rx.name] + ext
                for l in lines[:-1]:
                    self.wfile.write(("250-%s\r\n" % l).encode())
                self.send("250 " + lines[-1])
            elif up.startswith("HELO"):
                self.send("250 " + rx.name)
            elif up == "STARTTLS" and rx.starttls and not tls:
                self.send("220 go ahead")
                if rx.broken_tls:
                    self.wfile.write(b"this is not a TLS record\r\n" * 4)
                    self.wfile.flush()
                    return
                sock = rx.ctx.wrap_socket(sock, server_side=True)
                rfile = sock.makefile("rb")
                self.wfile = sock.makefile("wb")
                tls = True
                rx.tls_version = sock.version()
            elif up.startswith("AUTH PLAIN "):
                raw = base64.b64decode(cmd[11:])
                parts = raw.split(b"\0")
                auth = (parts[1].decode(), parts[2].decode())
                rx.auths.append(auth)
                if rx.auth == auth:
                    self.send("235 2.7.0 ok")
                else:
                    auth = None
                    self.send("535 5.7.8 bad credentials")
            elif up.startswith("MAIL FROM:"):
                if rx.auth and auth is None:
                    self.send("530 5.7.0 authentication required")
                    continue
                mail = cmd[10:]
                rcpts = []
                self.send("250 2.1.0 ok")
            elif up.startswith("RCPT TO:"):
                addr = cmd[8:].split(">")[0].lstrip("<")
                code, text = rx.rcpt_reply(addr)
                if code // 100 == 2:
                    rcpts.append(addr)
                self.send("%d %s" % (code, text))
            elif up == "DATA":
                if not rcpts:
                    self.send("503 5.5.1 no valid recipients")
                    continue
                self.send("354 go")
                lines = []
                while True:
                    l = rfile.readline(1 << 20)
                    if not l:
                        return
                    if l == b".\r\n":
                        break
                    lines.append(l)
                if rx.data_delay:
                    time.sleep(rx.data_delay)
                code, text = rx.data_reply()
                if code // 100 == 2:
                    rx.record(mail, rcpts, lines, tls, auth)
                self.send("%d %s" % (code, text))
            elif up in ("RSET", "NOOP"):
                self.send("250 ok")
            elif up == "QUIT":
                self.send("221 bye")
                return
            else:
                self.send("502 5.5.2 what")


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


def have_ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


class Receiver:
    """A scripted receiving MTA on ip:port."""

    def __init__(self, ip, port, name=None, starttls=True, auth=None,
                 implicit_tls=False, broken_tls=False):
        self.ip = ip
        self.port = port
        self.implicit_tls = implicit_tls
        self.broken_tls = broken_tls
        self.ehlo_fails = False
        self.data_delay = 0
        self.active = 0
        self.max_active = 0
        self.name = name or "rx-" + ip
        self.starttls = starttls
        self.auth = auth
        self.smtputf8 = True
        self.size = 10 * 1024 * 1024
        self.messages = []
        self.commands = []
        self.auths = []
        self.sessions = 0
        self.tls_version = None
        self.rcpt_script = {}   # addr -> list of (code, text), consumed
        self.lock = threading.Lock()
        cert, key = make_cert(os.path.join(SCRATCH, "tls"))
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.server = None

    def start(self):
        cls = _Server6 if ":" in self.ip else _Server
        self.server = cls((self.ip, self.port), _Handler)
        self.server.rx = self
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def enter(self):
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)

    def leave(self):
        with self.lock:
            self.active -= 1

    def note_session(self):
        with self.lock:
            self.sessions += 1

    def rcpt_reply(self, addr):
        with self.lock:
            script = self.rcpt_script.get(addr.lower())
            if script:
                return script.pop(0) if len(script) > 1 else script[0]
        return 250, "2.1.5 ok"

    def data_reply(self):
        return 250, "2.0.0 queued as TEST"

    def record(self, mail, rcpts, lines, tls, auth):
        with self.lock:
            self.messages.append({"from": mail, "rcpts": list(rcpts),
                                  "lines": lines, "tls": tls, "auth": auth})

    def count_for(self, addr):
        with self.lock:
            return sum(1 for m in self.messages if addr in m["rcpts"])


@unittest.skipUnless(HAVE_DNSLIB, "python3-dnslib not installed")
class QueueDelivery(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dns = Dns()
        cls.dns.start()
        cls.port = free_port()
        os.environ["FACTEUR_SMTP_PORT"] = str(cls.port)
        os.environ["FACTEUR_SMTP_TIMEOUT_MS"] = "5000"
        os.environ["FACTEUR_DNS_TIMEOUT_MS"] = "500"
        cls.f = Facteur("queue", dns_server="127.0.0.1:%d" % cls.dns.port,
                        queue_retry="1s, 2s", queue_lifetime="1h")
        cls.f.start()
        cls.f.add_domain("example.org")
        cls.f.add_user("alice@example.org", PASSWORD)
        z = cls.dns.zone
        for i in range(2, 10):
            z.add("mx%d.test. 60 IN A 127.0.0.%d" % (i, i))
        z.add("tls.test. 60 IN MX 10 mx2.test.")
        z.add("down.test. 60 IN MX 10 mx3.test.")
        z.add("soft.test. 60 IN MX 10 mx4.test.")
        z.add("hard.test. 60 IN MX 10 mx5.test.")
        z.add("nullmx.test. 60 IN MX 0 .")
        z.add("multi-a.test. 60 IN MX 10 mx6.test.")
        z.add("multi-b.test. 60 IN MX 10 mx7.test.")
        # mx8 is "down" but the domain has a working backup MX
        z.add("backup.test. 60 IN MX 10 mx8.test.")
        z.add("backup.test. 60 IN MX 20 alias-mx9.test.")
        z.add("alias-mx9.test. 60 IN CNAME mx9.test.")
        z.add("noemx.test. 60 IN A 127.0.0.6")   # no MX: implicit MX
        z.add("cli.test. 60 IN MX 10 mx3.test.")
        z.add("badtls.test. 60 IN MX 10 mx11.test.")
        z.add("mx11.test. 60 IN A 127.0.0.11")
        z.add("small.test. 60 IN MX 10 mx12.test.")
        for i in range(17, 24):
            z.add("mx%d.test. 60 IN A 127.0.0.%d" % (i, i))
        z.add("fwd.test. 60 IN MX 10 mx17.test.")
        z.add("senderdom.test. 60 IN MX 10 mx18.test.")
        z.add("conc.test. 60 IN MX 10 mx20.test.")
        z.add("utf.test. 60 IN MX 10 mx21.test.")
        z.add("helo.test. 60 IN MX 10 mx22.test.")
        z.add("eight.test. 60 IN MX 10 mx23.test.")
        z.add("loop.test. 60 IN MX 10 mx19.test.")
        z.add("v6only.test. 60 IN MX 10 mxv6.test.")
        z.add("mxv6.test. 60 IN AAAA ::1")
        z.add("big.test. 60 IN MX 10 mx13.test.")
        z.add("mx13.test. 60 IN A 127.0.0.13")
        for i in range(25):
            z.add("big.test. 60 IN MX 20 a-rather-long-backup-exchanger-"
                  "name-%02d.big.test." % i)
        z.add("mx12.test. 60 IN A 127.0.0.12")

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()
        cls.dns.stop()

    def submit(self, rcpts, body=None, subject="test", options=()):
        if isinstance(rcpts, str):
            rcpts = [rcpts]
        if body is None:
            body = ("From: alice@example.org\r\nTo: %s\r\nSubject: %s\r\n"
                    "Message-ID: <%s.%f@example.org>\r\n\r\nhello\r\n"
                    % (", ".join(rcpts), subject, subject, time.time()))
        s = self.f.smtp_tls("submission")
        try:
            s.login("alice@example.org", PASSWORD)
            s.sendmail("alice@example.org", rcpts, body,
                       mail_options=list(options))
        finally:
            s.quit()

    def queue_ids(self):
        p = self.f.cli("queue", "list", check=False)
        return re.findall(r"^([0-9a-f]{20})  ", p.stdout, re.M)

    def in_queue(self, addr):
        d = os.path.join(self.f.queue_dir, "env")
        for name in os.listdir(d):
            try:
                with open(os.path.join(d, name)) as fh:
                    if " %s " % addr in fh.read():
                        return True
            except OSError:
                pass
        return False

    def wait_gone(self, addr, timeout=20):
        """No envelope mentions addr any more (done and removed)."""
        return wait_for(lambda: not self.in_queue(addr), timeout, 0.2)

    def dsns(self):
        box = "alice@example.org"
        return [self.f.read_message(box, n) for n in self.f.messages(box)]

    def wait_dsn(self, needle, timeout=20):
        def find():
            for m in self.dsns():
                if needle.encode() in m:
                    return m
            return None
        return wait_for(find, timeout, 0.2)

    # -- tests ------------------------------------------------------------
    def test_starttls_delivery(self):
        rx = Receiver("127.0.0.2", self.port).start()
        try:
            body = ("From: alice@example.org\r\nTo: bob@tls.test\r\n"
                    "Subject: dots\r\n\r\nline one\r\n.leading dot\r\n"
                    "..two dots\r\n.\r\nlast\r\n")
            self.submit("bob@tls.test", body=body)
            self.assertTrue(wait_for(lambda: rx.count_for("bob@tls.test"),
                                     15), self.f.log()[-3000:])
            m = rx.messages[0]
            self.assertTrue(m["tls"])
            self.assertIn(rx.tls_version, ("TLSv1.2", "TLSv1.3"))
            self.assertEqual(m["from"].split(">")[0], "<alice@example.org")
            # every line CRLF, leading dots doubled on the wire
            for l in m["lines"]:
                self.assertTrue(l.endswith(b"\r\n"), l)
                self.assertFalse(l.endswith(b"\r\r\n"), l)
            wire = b"".join(m["lines"])
            self.assertIn(b"\r\n..leading dot\r\n...two dots\r\n..\r\n"
                          b"last\r\n", wire)
            self.assertTrue(self.wait_gone("bob@tls.test"))
            log = self.f.log()
            self.assertRegex(log, r"smtp-out delivered to=<bob@tls.test> "
                             r"relay=mx2.test\[127.0.0.2\]:%d tls=TLSv1\.[23]"
                             r" dsn=2\.0\.0 status=sent \(250 " % self.port)
        finally:
            rx.stop()

    def test_down_then_up_delivers_once(self):
        self.submit("carl@down.test")
        self.assertTrue(wait_for(lambda: "deferred to=<carl@down.test>"
                                 in self.f.log(), 15), self.f.log()[-3000:])
        rx = Receiver("127.0.0.3", self.port).start()
        try:
            self.assertTrue(wait_for(lambda: rx.count_for("carl@down.test"),
                                     20), self.f.log()[-3000:])
            self.assertTrue(self.wait_gone("carl@down.test"))
            time.sleep(3)
            self.assertEqual(rx.count_for("carl@down.test"), 1)
        finally:
            rx.stop()

    def test_4xx_then_250(self):
        rx = Receiver("127.0.0.4", self.port)
        rx.rcpt_script["dora@soft.test"] = [(451, "4.7.1 greylisted"),
                                           (250, "2.1.5 ok")]
        rx.start()
        try:
            self.submit("dora@soft.test")
            self.assertTrue(wait_for(lambda: rx.count_for("dora@soft.test"),
                                     20), self.f.log()[-3000:])
            self.assertTrue(self.wait_gone("dora@soft.test"))
            log = self.f.log()
            self.assertIn("deferred to=<dora@soft.test>", log)
            self.assertIn("dsn=4.7.1 status=deferred (451 4.7.1 greylisted)",
                          log)
            time.sleep(2)
            self.assertEqual(rx.count_for("dora@soft.test"), 1)
        finally:
            rx.stop()

    def test_5xx_bounce_dsn(self):
        rx = Receiver("127.0.0.5", self.port)
        rx.rcpt_script["nobody@hard.test"] = [(550, "5.1.1 no such user")]
        rx.start()
        try:
            self.submit(["nobody@hard.test", "fine@hard.test"],
                        subject="bounce-me")
            self.assertTrue(wait_for(lambda: rx.count_for("fine@hard.test"),
                                     15), self.f.log()[-3000:])
            dsn = self.wait_dsn("nobody@hard.test")
            self.assertTrue(dsn, self.f.log()[-3000:])
            text = dsn.decode("utf-8", "replace").replace("\r\n", "\n")
            self.assertRegex(text, r"Content-Type: multipart/report; "
                             r"report-type=delivery-status;")
            self.assertIn("Content-Type: message/delivery-status", text)
            self.assertIn("Reporting-MTA: dns; mx.test.invalid", text)
            self.assertIn("Arrival-Date: ", text)
            self.assertIn("Final-Recipient: rfc822; nobody@hard.test\n"
                          "Action: failed\nStatus: 5.1.1\n"
                          "Remote-MTA: dns; mx5.test\n"
                          "Diagnostic-Code: smtp; 550 5.1.1 no such user",
                          text)
            self.assertIn("Content-Type: text/rfc822-headers", text)
            self.assertIn("Subject: bounce-me", text)
            # the accepted recipient is not in the report
            self.assertNotIn("Final-Recipient: rfc822; fine@hard.test",
                             text)
            # the bounce went out with a null sender
            self.assertRegex(text, r"(?m)^Return-Path: <>$")
            self.assertTrue(self.wait_gone("nobody@hard.test"))
        finally:
            rx.stop()

    def test_null_mx_bounces(self):
        self.submit("x@nullmx.test")
        dsn = self.wait_dsn("x@nullmx.test")
        self.assertTrue(dsn, self.f.log()[-3000:])
        text = dsn.decode("utf-8", "replace")
        self.assertIn("Status: 5.1.10", text)
        self.assertIn("nullMX", text)
        self.assertTrue(self.wait_gone("x@nullmx.test"))

    def test_nxdomain_bounces(self):
        self.submit("x@nonexistent.test")
        dsn = self.wait_dsn("x@nonexistent.test")
        self.assertTrue(dsn, self.f.log()[-3000:])
        self.assertIn(b"Status: 5.1.2", dsn)

    def test_servfail_defers(self):
        self.dns.zone.servfail.add("flaky.test.")
        try:
            self.submit("x@flaky.test")
            self.assertTrue(wait_for(lambda: "deferred to=<x@flaky.test>"
                                     in self.f.log(), 15))
            self.assertIn("dsn=4.4.3", self.f.log())
            self.assertFalse(self.wait_dsn("x@flaky.test", timeout=1))
        finally:
            self.dns.zone.servfail.discard("flaky.test.")
        self.dns.zone.add("flaky.test. 60 IN MX 0 .")
        self.assertTrue(self.wait_dsn("x@flaky.test"))

    def test_multiple_domains_one_transaction_each(self):
        a = Receiver("127.0.0.6", self.port).start()
        b = Receiver("127.0.0.7", self.port).start()
        try:
            self.submit(["u1@multi-a.test", "u2@multi-a.test",
                         "u3@multi-b.test", "u4@noemx.test"])
            self.assertTrue(wait_for(
                lambda: a.count_for("u1@multi-a.test") and
                a.count_for("u4@noemx.test") and
                b.count_for("u3@multi-b.test"), 20), self.f.log()[-3000:])
            both = [m for m in a.messages if "u1@multi-a.test" in m["rcpts"]]
            self.assertEqual(len(both), 1)
            self.assertEqual(sorted(both[0]["rcpts"]),
                             ["u1@multi-a.test", "u2@multi-a.test"])
            self.assertTrue(self.wait_gone("u4@noemx.test"))
        finally:
            a.stop()
            b.stop()

    def test_backup_mx_through_cname(self):
        rx = Receiver("127.0.0.9", self.port).start()
        try:
            self.submit("b@backup.test")
            self.assertTrue(wait_for(lambda: rx.count_for("b@backup.test"),
                                     20), self.f.log()[-3000:])
            self.assertTrue(wait_for(lambda: "relay=alias-mx9.test[127.0.0.9]"
                                     in self.f.log(), 10))
        finally:
            rx.stop()

    def test_tls_handshake_failure_falls_back_to_plain(self):
        rx = Receiver("127.0.0.11", self.port, broken_tls=True).start()
        try:
            self.submit("t@badtls.test")
            self.assertTrue(wait_for(lambda: rx.count_for("t@badtls.test"),
                                     20), self.f.log()[-3000:])
            self.assertFalse(rx.messages[0]["tls"])
            self.assertEqual(rx.count_for("t@badtls.test"), 1)
            self.assertTrue(wait_for(lambda: "delivered to=<t@badtls.test>"
                                     in self.f.log(), 10))
            log = self.f.log()
            self.assertIn("smtp-out tls-failed relay=mx11.test[127.0.0.11]",
                          log)
            self.assertRegex(log, r"delivered to=<t@badtls.test> relay="
                             r"mx11.test\[127.0.0.11\]:\d+ tls=none ")
        finally:
            rx.stop()

    def test_size_limit_bounces(self):
        rx = Receiver("127.0.0.12", self.port)
        rx.size = 200
        rx.start()
        try:
            body = ("From: alice@example.org\r\nTo: big@small.test\r\n"
                    "Subject: too-big\r\n\r\n" + "x" * 70 + "\r\n") * 5
            self.submit("big@small.test", body=body)
            dsn = self.wait_dsn("big@small.test")
            self.assertTrue(dsn, self.f.log()[-3000:])
            self.assertIn(b"Status: 5.3.4", dsn)
            self.assertIn(b"exceeds size limit 200", dsn)
            self.assertEqual(rx.messages, [])
            self.assertFalse([c for c in rx.commands
                              if c.upper().startswith("MAIL")])
        finally:
            rx.stop()

    def test_truncated_udp_answer_retried_over_tcp(self):
        rx = Receiver("127.0.0.13", self.port).start()
        try:
            self.submit("t@big.test")
            self.assertTrue(wait_for(lambda: rx.count_for("t@big.test"),
                                     20), self.f.log()[-3000:])
            self.assertIn("big.test.", self.dns.zone.tcp_queries)
            self.assertTrue(wait_for(lambda: "relay=mx13.test[127.0.0.13]"
                                     in self.f.log(), 10))
        finally:
            rx.stop()

    @unittest.skipUnless(have_ipv6_loopback(), "no IPv6 loopback")
    def test_ipv6_delivery(self):
        rx = Receiver("::1", self.port).start()
        try:
            self.submit("six@v6only.test")
            self.assertTrue(wait_for(lambda: rx.count_for("six@v6only.test"),
                                     20), self.f.log()[-3000:])
            self.assertTrue(wait_for(lambda: "relay=mxv6.test[::1]:%d"
                                     % self.port in self.f.log(), 10))
        finally:
            rx.stop()

    def test_remote_sender_bounce_goes_through_queue(self):
        """An alias forwards to a remote address that refuses: the DSN
        goes to the remote sender through the queue, with MAIL FROM:<>.
        A null-sender message that fails gets no DSN at all."""
        self.f.add_alias("fwd@example.org", "gone@fwd.test")
        self.f.add_alias("fwd2@example.org", "gone2@fwd.test")
        rx = Receiver("127.0.0.17", self.port)
        rx.rcpt_script["gone@fwd.test"] = [(550, "5.1.1 gone")]
        rx.rcpt_script["gone2@fwd.test"] = [(550, "5.1.1 gone too")]
        rx.start()
        snd = Receiver("127.0.0.18", self.port).start()
        try:
            self.f.deliver("fwd@example.org", "Subject: fwd-bounce\r\n\r\n"
                           "x\r\n", sender="someone@senderdom.test")
            self.assertTrue(wait_for(lambda: snd.count_for(
                "someone@senderdom.test"), 20), self.f.log()[-3000:])
            m = snd.messages[0]
            self.assertEqual(m["from"].split()[0], "<>")
            text = b"".join(m["lines"]).decode("utf-8", "replace")
            self.assertIn("report-type=delivery-status", text)
            self.assertIn("Final-Recipient: rfc822; gone@fwd.test", text)
            self.assertIn("Diagnostic-Code: smtp; 550 5.1.1 gone", text)
            self.assertIn("Subject: fwd-bounce", text)
            # null sender: the failure is final, and nobody hears of it
            self.f.deliver("fwd2@example.org", "Subject: fwd-null\r\n\r\n"
                           "x\r\n", sender="")
            self.assertTrue(wait_for(lambda: "bounce skipped: null sender"
                                     in self.f.log(), 20))
            self.assertTrue(self.wait_gone("gone2@fwd.test"))
            time.sleep(1)
            self.assertEqual(len(snd.messages), 1)
        finally:
            rx.stop()
            snd.stop()

    def test_8bitmime_passed_on(self):
        rx = Receiver("127.0.0.23", self.port).start()
        try:
            body = ("From: alice@example.org\r\nTo: e@eight.test\r\n"
                    "Subject: 8bit\r\nContent-Type: text/plain; "
                    "charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
                    "\r\nd\u00e9j\u00e0 vu\r\n").encode()
            self.submit("e@eight.test", body=body,
                        options=["BODY=8BITMIME"])
            self.assertTrue(wait_for(lambda: rx.count_for("e@eight.test"),
                                     20), self.f.log()[-3000:])
            mails = [c for c in rx.commands if c.upper().startswith("MAIL")]
            self.assertIn("BODY=8BITMIME", mails[-1])
            self.assertIn("SIZE=", mails[-1])
            self.assertIn("d\u00e9j\u00e0 vu".encode(),
                          b"".join(rx.messages[0]["lines"]))
        finally:
            rx.stop()

    def test_smtputf8_required_but_missing_bounces(self):
        rx = Receiver("127.0.0.21", self.port)
        rx.smtputf8 = False
        rx.start()
        try:
            self.submit("j\u00f6rg@utf.test", options=["SMTPUTF8"],
                        body="Subject: utf\r\n\r\nhi\r\n")
            m = self.wait_dsn("utf.test")
            self.assertTrue(m, self.f.log()[-3000:])
            self.assertIn(b"Status: 5.6.7", m)
            self.assertEqual(rx.messages, [])
        finally:
            rx.stop()

    def test_mx_pointing_back_at_us_bounces(self):
        # the receiver greets with our own host name
        rx = Receiver("127.0.0.19", self.port, name=self.f.hostname).start()
        try:
            self.submit("l@loop.test")
            m = self.wait_dsn("l@loop.test")
            self.assertTrue(m, self.f.log()[-3000:])
            self.assertIn(b"Status: 5.4.6", m)
            self.assertIn(b"loops back to myself", m)
            self.assertEqual(rx.messages, [])
        finally:
            rx.stop()

    def test_helo_fallback(self):
        rx = Receiver("127.0.0.22", self.port)
        rx.ehlo_fails = True
        rx.start()
        try:
            self.submit("h@helo.test")
            self.assertTrue(wait_for(lambda: rx.count_for("h@helo.test"),
                                     20), self.f.log()[-3000:])
            self.assertTrue([c for c in rx.commands
                             if c.upper().startswith("HELO ")])
            self.assertFalse(rx.messages[0]["tls"])
            # no extensions without EHLO: plain MAIL FROM
            mails = [c for c in rx.commands if c.upper().startswith("MAIL")]
            self.assertEqual(mails[-1], "MAIL FROM:<alice@example.org>")
        finally:
            rx.stop()

    def test_per_domain_concurrency_limit(self):
        rx = Receiver("127.0.0.20", self.port)
        rx.data_delay = 0.6
        rx.start()
        n = 12
        try:
            s = self.f.smtp_tls("submission")
            s.login("alice@example.org", PASSWORD)
            for i in range(n):
                s.sendmail("alice@example.org", ["c%d@conc.test" % i],
                           "Subject: c%d\r\n\r\nx\r\n" % i)
            s.quit()
            self.assertTrue(wait_for(lambda: len(rx.messages) >= n, 30),
                            self.f.log()[-3000:])
            self.assertLessEqual(rx.max_active, 5)
            self.assertGreaterEqual(rx.max_active, 2)
            for i in range(n):
                self.assertEqual(rx.count_for("c%d@conc.test" % i), 1)
        finally:
            rx.stop()

    def test_cli_list_show_retry_delete(self):
        self.submit("q1@cli.test", subject="cli-one")
        self.submit("q2@cli.test", subject="cli-two")
        self.assertTrue(wait_for(lambda: self.f.log().count(
            "deferred to=<q") >= 2, 15))
        out = self.f.cli("queue", "list").stdout
        self.assertIn("q1@cli.test  deferred", out)
        self.assertIn("<alice@example.org>", out)
        self.assertRegex(out, r"connect to mx3.test\[127.0.0.3\]:\d+: "
                         r"Connection refused")
        ids = [i for i in self.queue_ids()]
        self.assertGreaterEqual(len(ids), 2)
        one = [i for i in ids if "q1@cli.test" in
               self.f.cli("queue", "show", i).stdout][0]
        show = self.f.cli("queue", "show", one).stdout
        self.assertIn("Subject: cli-one", show)
        self.assertNotIn("hello", show)   # headers only
        p = self.f.cli("queue", "retry", one)
        self.assertIn("1 recipient due now", p.stdout)
        p = self.f.cli("queue", "delete", one)
        self.assertEqual(p.returncode, 0)
        self.assertNotIn(one, self.queue_ids())
        p = self.f.cli("queue", "show", one, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, r"^facteur: %s: no such message" % one)
        p = self.f.cli("queue", "delete", "../../etc", check=False)
        self.assertEqual(p.returncode, 1)
        p = self.f.cli("queue", "frobnicate", check=False)
        self.assertEqual(p.returncode, 2)
        # the other one is delivered once the receiver is up
        rx = Receiver("127.0.0.3", self.port).start()
        try:
            self.f.cli("queue", "retry")
            self.assertTrue(wait_for(lambda: rx.count_for("q2@cli.test"),
                                     20), self.f.log()[-3000:])
            self.assertEqual(rx.count_for("q1@cli.test"), 0)
        finally:
            rx.stop()


@unittest.skipUnless(HAVE_DNSLIB, "python3-dnslib not installed")
class QueueExpiry(unittest.TestCase):
    """queue_lifetime passed: the recipient bounces with its last
    temporary status."""

    @classmethod
    def setUpClass(cls):
        cls.dns = Dns()
        cls.dns.start()
        cls.port = free_port()
        os.environ["FACTEUR_SMTP_PORT"] = str(cls.port)
        os.environ["FACTEUR_SMTP_TIMEOUT_MS"] = "5000"
        cls.f = Facteur("queueexp", dns_server="127.0.0.1:%d" % cls.dns.port,
                        queue_retry="1s", queue_lifetime="3s")
        cls.f.start()
        cls.f.add_domain("example.org")
        cls.f.add_user("alice@example.org", PASSWORD)
        cls.dns.zone.add("exp.test. 60 IN MX 10 mx.exp.test.")
        cls.dns.zone.add("mx.exp.test. 60 IN A 127.0.0.19")

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()
        cls.dns.stop()

    def test_expired_bounces(self):
        s = self.f.smtp_tls("submission")
        s.login("alice@example.org", PASSWORD)
        s.sendmail("alice@example.org", ["late@exp.test"],
                   "Subject: too-late\r\n\r\nx\r\n")
        s.quit()

        def dsn():
            box = "alice@example.org"
            for n in self.f.messages(box):
                m = self.f.read_message(box, n)
                if b"late@exp.test" in m:
                    return m
            return None
        m = wait_for(dsn, 20, 0.2)
        self.assertTrue(m, self.f.log()[-3000:])
        self.assertIn(b"Action: failed", m)
        self.assertIn(b"Status: 4.4.1", m)
        self.assertIn(b"Connection refused", m)
        self.assertIn("status=expired", self.f.log())
        self.assertGreaterEqual(self.f.log().count(
            "deferred to=<late@exp.test>"), 2)


@unittest.skipUnless(HAVE_DNSLIB, "python3-dnslib not installed")
class QueueKick(unittest.TestCase):
    """`facteur queue retry` wakes the running server at once (inotify
    on queue_dir/kick), long before the next scheduled retry."""

    @classmethod
    def setUpClass(cls):
        cls.dns = Dns()
        cls.dns.start()
        cls.port = free_port()
        os.environ["FACTEUR_SMTP_PORT"] = str(cls.port)
        os.environ["FACTEUR_SMTP_TIMEOUT_MS"] = "5000"
        cls.f = Facteur("queuekick", dns_server="127.0.0.1:%d" % cls.dns.port,
                        queue_retry="1h")
        cls.f.start()
        cls.f.add_domain("example.org")
        cls.f.add_user("alice@example.org", PASSWORD)
        cls.dns.zone.add("kick.test. 60 IN MX 10 mx.kick.test.")
        cls.dns.zone.add("mx.kick.test. 60 IN A 127.0.0.24")

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()
        cls.dns.stop()

    def test_retry_now(self):
        s = self.f.smtp_tls("submission")
        s.login("alice@example.org", PASSWORD)
        s.sendmail("alice@example.org", ["k@kick.test"],
                   "Subject: kick\r\n\r\nx\r\n")
        s.quit()
        self.assertTrue(wait_for(lambda: "deferred to=<k@kick.test>"
                                 in self.f.log(), 15))
        rx = Receiver("127.0.0.24", self.port).start()
        try:
            time.sleep(6)   # past a rescan: nothing is due for an hour
            self.assertEqual(rx.messages, [])
            t0 = time.time()
            p = self.f.cli("queue", "retry")
            self.assertEqual(p.returncode, 0)
            self.assertTrue(wait_for(lambda: rx.count_for("k@kick.test"),
                                     10, 0.05), self.f.log()[-3000:])
            self.assertLess(time.time() - t0, 3.0)
        finally:
            rx.stop()


@unittest.skipUnless(HAVE_DNSLIB, "python3-dnslib not installed")
class QueueCrash(unittest.TestCase):
    """kill -9 with a full queue, restart: all delivered, none twice."""

    @classmethod
    def setUpClass(cls):
        cls.dns = Dns()
        cls.dns.start()
        cls.port = free_port()
        os.environ["FACTEUR_SMTP_PORT"] = str(cls.port)
        os.environ["FACTEUR_SMTP_TIMEOUT_MS"] = "5000"
        cls.f = Facteur("queuecrash",
                        dns_server="127.0.0.1:%d" % cls.dns.port,
                        queue_retry="1s")
        cls.f.start()
        cls.f.add_domain("example.org")
        cls.f.add_user("alice@example.org", PASSWORD)
        cls.dns.zone.add("crash.test. 60 IN MX 10 mx.crash.test.")
        cls.dns.zone.add("mx.crash.test. 60 IN A 127.0.0.8")
        cls.dns.zone.add("crash2.test. 60 IN MX 10 mx.crash2.test.")
        cls.dns.zone.add("mx.crash2.test. 60 IN A 127.0.0.10")

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()
        cls.dns.stop()

    def test_kill9_restart(self):
        n = 12
        env = os.path.join(self.f.queue_dir, "env")
        # receivers down: the whole batch waits in the queue
        s = self.f.smtp_tls("submission")
        s.login("alice@example.org", PASSWORD)
        for i in range(n):
            s.sendmail("alice@example.org",
                       ["r%d@crash.test" % i, "s%d@crash2.test" % i],
                       "Subject: crash %d\r\n\r\nbody %d\r\n" % (i, i))
        s.quit()
        self.assertEqual(len(os.listdir(env)), n)
        self.f.kill9()
        # a half-written enqueue left behind by the crash
        with open(os.path.join(self.f.queue_dir, "msg", "00000000dead"),
                  "w") as fh:
            fh.write("Subject: partial\n\n")
        rx = Receiver("127.0.0.8", self.port).start()
        rx2 = Receiver("127.0.0.10", self.port)
        try:
            self.f.start()
            # crash.test takes everything, crash2.test is still down
            self.assertTrue(wait_for(lambda: len(rx.messages) >= n, 30),
                            self.f.log()[-3000:])

            def sent_recorded():
                out = self.f.cli("queue", "list").stdout
                return out.count("  sent  ") >= n
            self.assertTrue(wait_for(sent_recorded, 20, 0.2))
            self.assertFalse(os.path.exists(os.path.join(
                self.f.queue_dir, "msg", "00000000dead")))
            # crash with every message half delivered, restart with the
            # second domain up: it gets everything, the first nothing more
            self.f.kill9()
            rx2.start()
            self.f.start()
            self.assertTrue(wait_for(lambda: len(rx2.messages) >= n, 30),
                            self.f.log()[-3000:])
            self.assertTrue(wait_for(lambda: not os.listdir(env), 20, 0.2))
            time.sleep(2)
            for i in range(n):
                self.assertEqual(rx.count_for("r%d@crash.test" % i), 1)
                self.assertEqual(rx2.count_for("s%d@crash2.test" % i), 1)
            self.assertEqual(len(rx.messages), n)
            self.assertEqual(len(rx2.messages), n)
        finally:
            rx.stop()
            rx2.stop()


if __name__ == "__main__":
    unittest.main()
