"""Admin page API over real HTTPS (http.client + ssl), against the real
binary and MariaDB: authentication everywhere, CSRF, sessions, limits,
escaping, SQL metacharacters, static files."""
import http.client
import json
import os
import smtplib
import socket
import ssl
import time
import unittest

from fixture import Facteur, LineClient

ADMIN_PW = "admin-password-1"


class Api:
    def __init__(self, f):
        self.f = f
        self.cookie = None
        self.csrf = None

    def conn(self):
        return http.client.HTTPSConnection(
            "localhost", self.f.ports["admin"], context=self.f.ssl_context(),
            timeout=30)

    def call(self, method, path, body=None, csrf=True, ctype="application/json",
             raw=None, headers=None):
        c = self.conn()
        h = {"Host": "localhost:%d" % self.f.ports["admin"]}
        if self.cookie:
            h["Cookie"] = self.cookie
        if csrf and self.csrf and method != "GET":
            h["X-CSRF-Token"] = self.csrf
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            h["Content-Type"] = ctype
        h.update(headers or {})
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        payload = r.read()
        c.close()
        try:
            js = json.loads(payload) if payload else None
        except ValueError:
            js = None
        return r, js, payload

    def login(self, user="root", pw=ADMIN_PW):
        r, js, _ = self.call("POST", "/api/login", {"user": user, "password": pw})
        if r.status == 200:
            self.cookie = r.getheader("Set-Cookie").split(";")[0]
            self.csrf = js["csrf"]
        return r, js


class AdminApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.f = Facteur("admin_api")
        cls.f.start()
        cls.f.cli("admin", "add", "root", input=ADMIN_PW + "\n")
        cls.f.add_domain("example.org")

    @classmethod
    def tearDownClass(cls):
        cls.f.stop()

    def admin(self):
        a = Api(self.f)
        r, js = a.login()
        self.assertEqual(r.status, 200, js)
        return a

    def test_security_headers_and_static_files(self):
        a = Api(self.f)
        r, _, body = a.call("GET", "/")
        self.assertEqual(r.status, 200)
        self.assertIn(b"<title>facteur admin</title>", body)
        csp = r.getheader("Content-Security-Policy")
        self.assertIn("script-src 'self'", csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertEqual(r.getheader("X-Content-Type-Options"), "nosniff")
        self.assertTrue(r.getheader("Strict-Transport-Security").startswith("max-age="))
        self.assertEqual(r.getheader("Referrer-Policy"), "no-referrer")
        etag = r.getheader("ETag")
        self.assertTrue(etag)
        r, _, body = a.call("GET", "/", headers={"If-None-Match": etag})
        self.assertEqual(r.status, 304)
        self.assertEqual(body, b"")
        r, _, body = a.call("GET", "/app.js")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.getheader("Content-Type").startswith("text/javascript"))

    def test_no_path_traversal(self):
        a = Api(self.f)
        for p in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                  "/..%2f..%2fetc%2fpasswd", "/.hidden", "/%00index.html",
                  "//etc/passwd"):
            r, _, body = a.call("GET", p)
            self.assertIn(r.status, (400, 404), p)
            self.assertNotIn(b"root:", body)

    def test_auth_required_everywhere(self):
        a = Api(self.f)
        for method, path in (("GET", "/api/dashboard"), ("GET", "/api/domains"),
                             ("GET", "/api/users"), ("GET", "/api/aliases"),
                             ("GET", "/api/queue"), ("GET", "/api/admins"),
                             ("GET", "/api/session")):
            r, js, _ = a.call(method, path)
            self.assertEqual(r.status, 401, path)
            self.assertIn("error", js)
        r, js, _ = a.call("POST", "/api/domains", {"name": "evil.example"})
        self.assertEqual(r.status, 401)

    def test_login_wrong_password_is_delayed(self):
        a = Api(self.f)
        t0 = time.time()
        r, js = a.login(pw="wrong-password")
        self.assertEqual(r.status, 401)
        self.assertGreaterEqual(time.time() - t0, 0.15)  # auth_fail_delay_ms=200
        self.assertIsNone(a.cookie)
        self.assertIn("auth result=fail", self.f.log())

    def test_session_cookie_flags_and_logout_revokes(self):
        a = Api(self.f)
        r, js, _ = a.call("POST", "/api/login", {"user": "root", "password": ADMIN_PW})
        self.assertEqual(r.status, 200)
        cookie = r.getheader("Set-Cookie")
        for flag in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"):
            self.assertIn(flag, cookie)
        token = cookie.split(";")[0].split("=", 1)[1]
        self.assertGreaterEqual(len(token), 32)  # >= 128 random bits as hex
        a.cookie = cookie.split(";")[0]
        a.csrf = js["csrf"]
        r, js, _ = a.call("GET", "/api/session")
        self.assertEqual(r.status, 200)
        self.assertEqual(js["name"], "root")
        self.assertTrue(js["admin"])
        r, _, _ = a.call("POST", "/api/logout", {})
        self.assertEqual(r.status, 200)
        r, _, _ = a.call("GET", "/api/session")
        self.assertEqual(r.status, 401)  # server-side revocation

    def test_csrf_rejected(self):
        a = self.admin()
        r, js, _ = a.call("POST", "/api/domains", {"name": "csrf.example"}, csrf=False)
        self.assertEqual(r.status, 403)
        r, js, _ = a.call("POST", "/api/domains", {"name": "csrf.example"},
                          headers={"X-CSRF-Token": "0" * 32})
        self.assertEqual(r.status, 403)
        r, js, _ = a.call("POST", "/api/domains", {"name": "csrf.example"},
                          headers={"Origin": "https://evil.example"})
        self.assertEqual(r.status, 403)
        # a form post (the classic CSRF vector) is not JSON
        r, js, _ = a.call("POST", "/api/domains", raw=b"name=csrf.example",
                          ctype="application/x-www-form-urlencoded")
        self.assertEqual(r.status, 415)
        r, js, _ = a.call("GET", "/api/domains")
        self.assertNotIn("csrf.example", [d["name"] for d in js])

    def test_bad_json_and_oversized_bodies(self):
        a = self.admin()
        for raw in (b"{", b"[]", b'{"name": "a", "name": "b"}', b'{"name": {"x": 1}}',
                    b'{"name": "x"} trailing', b'{"name": "\\ud800"}', b"\xff\xfe"):
            r, js, _ = a.call("POST", "/api/domains", raw=raw)
            self.assertEqual(r.status, 400, raw)
            self.assertIn("bad JSON", js["error"])
        r, js, _ = a.call("POST", "/api/domains", raw=b'{"name":"' + b"a" * 70000 + b'"}')
        self.assertEqual(r.status, 413)

    def test_domain_user_alias_round_trip(self):
        a = self.admin()
        r, js, _ = a.call("POST", "/api/domains", {"name": "Round.Example"})
        self.assertEqual(r.status, 201, js)
        r, js, _ = a.call("POST", "/api/domains", {"name": "round.example"})
        self.assertEqual(r.status, 409)
        r, js, _ = a.call("POST", "/api/domains", {"name": "not a domain"})
        self.assertEqual(r.status, 422)
        r, js, _ = a.call("POST", "/api/users", {"email": "carol@round.example",
                                                  "password": "carol-pass-1", "quota": "10M"})
        self.assertEqual(r.status, 201, js)
        r, js, _ = a.call("POST", "/api/users", {"email": "short@round.example",
                                                  "password": "short"})
        self.assertEqual(r.status, 422)
        r, js, _ = a.call("GET", "/api/users")
        users = {u["email"]: u for u in js}
        self.assertEqual(users["carol@round.example"]["quota"], 10 * 1024 * 1024)
        r, js, _ = a.call("POST", "/api/aliases", {"source": "info@round.example",
                                                    "destinations": "carol@round.example, x@elsewhere.example"})
        self.assertEqual(r.status, 201, js)
        r, js, _ = a.call("GET", "/api/aliases")
        pairs = {(x["source"], x["destination"]) for x in js}
        self.assertIn(("info@round.example", "carol@round.example"), pairs)
        self.assertIn(("info@round.example", "x@elsewhere.example"), pairs)
        # the CLI sees what the API wrote
        out = self.f.cli("alias", "list").stdout
        self.assertIn("info@round.example", out)
        # mail to the alias reaches the new user, who can then log in
        self.f.deliver("info@round.example", "Subject: via alias\r\n\r\nbody\r\n")
        self.assertTrue(self.f.wait_messages("carol@round.example", 1))
        u = Api(self.f)
        r, js = u.login("carol@round.example", "carol-pass-1")
        self.assertEqual(r.status, 200)
        self.assertFalse(js["admin"])
        r, js, _ = u.call("GET", "/api/users")
        self.assertEqual(r.status, 403)
        r, js, _ = u.call("POST", "/api/users/password", {"email": "other@round.example",
                                                           "password": "new-pass-123",
                                                           "current": "carol-pass-1"})
        self.assertEqual(r.status, 403)
        r, js, _ = u.call("POST", "/api/users/password", {"email": "carol@round.example",
                                                           "password": "new-pass-123",
                                                           "current": "carol-pass-1"})
        self.assertEqual(r.status, 200, js)
        self.assertEqual(Api(self.f).login("carol@round.example", "new-pass-123")[0].status, 200)
        # deleting needs the name repeated
        r, js, _ = a.call("DELETE", "/api/domains?name=round.example")
        self.assertEqual(r.status, 422)
        r, js, _ = a.call("DELETE", "/api/domains?name=round.example&confirm=round.example")
        self.assertEqual(r.status, 200, js)

    def test_script_and_sql_metacharacters_are_data(self):
        a = self.admin()
        nasty = "<script>alert(1)</script>@example.org"
        r, js, _ = a.call("POST", "/api/aliases", {"source": nasty,
                                                    "destinations": "bob@example.org"})
        self.assertEqual(r.status, 422)  # not an address
        src = "o'brien@example.org"
        r, js, _ = a.call("POST", "/api/aliases", {"source": src,
                                                    "destinations": "x'); DROP TABLE virtual_users; --@example.org"})
        self.assertEqual(r.status, 422)  # the destination is not an address either
        r, js, _ = a.call("POST", "/api/aliases", {"source": src,
                                                    "destinations": "bob@example.org"})
        self.assertEqual(r.status, 201, js)
        r, js, raw = a.call("GET", "/api/aliases")
        self.assertIn(src, [x["source"] for x in js])
        r, js, raw = a.call("POST", "/api/admins", {"name": "<img src=x onerror=1>",
                                                   "password": "long-enough-1"})
        self.assertEqual(r.status, 422)
        self.assertNotIn(b"<img", raw)  # error text never echoes raw HTML
        # the tables are intact
        self.assertIn("example.org", self.f.cli("domain", "list").stdout)

    def test_http_limits(self):
        # header flood and oversized head
        s = self.f.raw_tls("admin")
        c = LineClient(s)
        c.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n" +
               b"".join(b"X-F%d: y\r\n" % i for i in range(200)) + b"\r\n")
        status = c.line()
        self.assertTrue(status.startswith(b"HTTP/1.1 431"), status)
        c.close()
        s = self.f.raw_tls("admin")
        c = LineClient(s)
        c.send(b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(c.line().startswith(b"HTTP/1.1 414"))
        c.close()
        s = self.f.raw_tls("admin")
        c = LineClient(s)
        c.send(b"POST /api/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        self.assertTrue(c.line().startswith(b"HTTP/1.1 501"))
        c.close()
        s = self.f.raw_tls("admin")
        c = LineClient(s)
        c.send(b"GET / HTTP/1.1\r\n\r\n")  # no Host
        self.assertTrue(c.line().startswith(b"HTTP/1.1 400"))
        c.close()

    def test_keep_alive(self):
        a = Api(self.f)
        c = a.conn()
        for _ in range(3):
            c.request("GET", "/app.css", headers={"Host": "localhost"})
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
        c.close()

    def test_dashboard_counts_and_events(self):
        self.f.add_user("dash@example.org", "dash-password-1")
        self.f.deliver("dash@example.org", "Subject: d\r\n\r\nx\r\n")
        s = self.f.smtp()
        try:
            with self.assertRaises(smtplib.SMTPRecipientsRefused):
                s.sendmail("a@remote.test", ["nobody-here@example.org"], b"x\r\n")
        finally:
            s.quit()
        a = self.admin()
        r, js, _ = a.call("GET", "/api/dashboard")
        self.assertEqual(r.status, 200)
        self.assertGreaterEqual(js["delivered"], 1)
        self.assertGreaterEqual(js["rejected"], 1)
        self.assertGreaterEqual(js["users"], 1)
        self.assertGreaterEqual(js["domains"], 1)
        kinds = {e["kind"] for e in js["events"]}
        self.assertIn("delivered", kinds)
        self.assertIn("rejected", kinds)
        texts = " ".join(e["text"] for e in js["events"])
        self.assertIn("nobody-here@example.org", texts)

    def test_dns_records_to_publish_include_dkim(self):
        a = self.admin()
        out = self.f.cli("dkim", "generate", "example.org", "--selector", "s1",
                         "--algorithm", "ed25519").stdout
        self.assertIn("s1._domainkey.example.org", out)
        r, js, _ = a.call("GET", "/api/domains/dns?name=example.org")
        self.assertEqual(r.status, 200, js)
        recs = {(x["type"], x["name"]): x for x in js["records"]}
        self.assertEqual(recs[("MX", "example.org")]["value"], self.f.hostname)
        self.assertTrue(recs[("TXT", "example.org")]["value"].startswith("v=spf1"))
        self.assertTrue(recs[("TXT", "_dmarc.example.org")]["value"].startswith("v=DMARC1"))
        dk = recs[("TXT", "s1._domainkey.example.org")]
        self.assertIn("k=ed25519", dk["value"])
        self.assertIn("p=", dk["value"])
        # nothing is published in this closed test network
        self.assertFalse(dk["ok"])
        r, js, _ = a.call("GET", "/api/domains/dns?name=bad..name")
        self.assertEqual(r.status, 422)

    def test_plain_http_is_not_served(self):
        s = self.f.raw("admin")
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(10)
        try:
            data = s.recv(100)
        except (ConnectionResetError, socket.timeout):
            data = b""
        self.assertFalse(data.startswith(b"HTTP/1.1 200"))
        s.close()


if __name__ == "__main__":
    unittest.main()
