#!/usr/bin/env python3
"""Interop of facteur's Maildir store with a real Dovecot 2.3.

Runs a throwaway Dovecot (as root, on a scratch directory, loopback high
ports, no TLS) and checks both directions on the same Maildir:

- Dovecot writes (doveadm save/flags/mailbox create/subscribe/expunge),
  facteur's store reads: UIDVALIDITY, UIDNEXT, UIDs, flags, keywords,
  sizes, internal dates, folders, subscriptions, and POP3 UIDLs as
  Dovecot's own POP3 server gives them.
- facteur writes (deliver, append with flags/keywords/date, store flags,
  copy, move, expunge, create/rename/delete folders, subscribe), Dovecot
  reads the same facts back with doveadm.

The store is driven through tests/tools/storetool.c. It is found as
$STORETOOL, or built from $FACTEUR_BUILD_DIR/libfacteur.a (default
build/): cc -std=c11 -D_GNU_SOURCE -pthread -Isrc -o <tmp>/storetool
tests/tools/storetool.c <build>/libfacteur.a -pthread.

Skips (with the reason) when not root, when dovecot/doveadm are not
installed (apt-get install -y dovecot-imapd dovecot-pop3d), or when the
library is not built. $FACTEUR_BUILD (set by tests/lib/run-all.sh) is
used too.
"""

import json
import os
import poplib
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"

SKIP_REASON = None
if os.geteuid() != 0:
    SKIP_REASON = "needs root to run a throwaway Dovecot"
elif not (os.path.exists(DOVECOT) and os.path.exists(DOVEADM)):
    SKIP_REASON = ("dovecot not installed "
                   "(apt-get install -y dovecot-imapd dovecot-pop3d)")

try:
    NOBODY = pwd.getpwnam("nobody")
except KeyError:
    NOBODY = None
    SKIP_REASON = SKIP_REASON or "no 'nobody' user for the mail uid"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def mutf7_decode(name):
    """IMAP modified UTF-7 -> str (RFC 3501 5.1.3)."""
    out, i = [], 0
    while i < len(name):
        c = name[i]
        if c != "&":
            out.append(c)
            i += 1
            continue
        j = name.index("-", i)
        if j == i + 1:
            out.append("&")
        else:
            b64 = name[i + 1:j].replace(",", "/")
            b64 += "=" * (-len(b64) % 4)
            import base64
            out.append(base64.b64decode(b64).decode("utf-16-be"))
        i = j + 1
    return "".join(out)


CONF = """
protocols = imap pop3
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:{d}/mail/%d/%n/Maildir
mail_plugins = quota
namespace inbox {{
  inbox = yes
  separator = .
}}
passdb {{
  driver = static
  args = password=pass
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/mail/%d/%n
}}
plugin {{
  quota = maildir:User quota
  quota_rule = *:bytes=10M
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
"""


@unittest.skipIf(SKIP_REASON is not None, SKIP_REASON or "")
class DovecotInterop(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="facteur-dovecot-")
        os.chmod(cls.dir, 0o755)
        for sub in ("run", "state", "mail"):
            os.mkdir(os.path.join(cls.dir, sub))
        os.chown(os.path.join(cls.dir, "mail"), NOBODY.pw_uid,
                 NOBODY.pw_gid)
        cls.tool_path = cls._storetool()
        cls.pop3_port = free_port()
        cls.conf = os.path.join(cls.dir, "dovecot.conf")
        with open(cls.conf, "w") as f:
            f.write(CONF.format(d=cls.dir, uid=NOBODY.pw_uid,
                                gid=NOBODY.pw_gid, imap=free_port(),
                                pop3=cls.pop3_port))
        cls.proc = subprocess.Popen([DOVECOT, "-F", "-c", cls.conf],
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            if os.path.exists(os.path.join(cls.dir, "run", "auth-userdb")):
                break
            time.sleep(0.1)
        else:
            cls.tearDownClass()
            raise RuntimeError("dovecot did not start")

    @classmethod
    def tearDownClass(cls):
        proc = getattr(cls, "proc", None)
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def _storetool(cls):
        dst = os.path.join(cls.dir, "storetool")
        src = os.environ.get("STORETOOL")
        if src:
            shutil.copy(src, dst)
        else:
            build = (os.environ.get("FACTEUR_BUILD_DIR") or
                     os.environ.get("FACTEUR_BUILD") or
                     os.path.join(TOP, "build"))
            lib = os.path.join(build, "libfacteur.a")
            if not os.path.exists(lib):
                raise unittest.SkipTest("library not built: " + lib)
            # a library built with SANITIZE=1 needs the same runtime
            san = []
            nm = subprocess.run(["nm", lib], capture_output=True, text=True)
            if "__asan_" in nm.stdout or "__ubsan_" in nm.stdout:
                san = ["-fsanitize=address,undefined"]
            subprocess.run(["cc", "-std=c11", "-D_GNU_SOURCE", "-pthread"] +
                           san + ["-I" + os.path.join(TOP, "src"), "-o", dst,
                                  os.path.join(TOP, "tests/tools/storetool.c"),
                                  lib, "-pthread"], check=True)
        os.chmod(dst, 0o755)
        return dst

    # ---- helpers ----

    def maildir(self, user):
        local, domain = user.split("@")
        return os.path.join(self.dir, "mail", domain, local, "Maildir")

    def doveadm(self, *args, stdin=None):
        r = subprocess.run([DOVEADM, "-c", self.conf] + list(args),
                           input=stdin, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0,
                         "doveadm %s: %s" % (args, r.stderr.decode()))
        return r.stdout.decode()

    def doveadm_tab(self, *args):
        lines = self.doveadm("-f", "tab", *args).splitlines()
        if not lines:
            return []
        head = lines[0].split("\t")
        return [dict(zip(head, ln.split("\t"))) for ln in lines[1:]]

    def tool(self, *args, check=True):
        r = subprocess.run([self.tool_path] + [str(a) for a in args],
                           capture_output=True, timeout=60,
                           user=NOBODY.pw_uid, group=NOBODY.pw_gid,
                           cwd=self.dir)
        if check:
            self.assertEqual(r.returncode, 0, "storetool %s: %s" %
                             (args, r.stderr.decode()))
        return [json.loads(ln) for ln in r.stdout.decode().splitlines()
                if ln.strip()]

    def msgfile(self, text, name="msg"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def dump(self, user):
        """facteur's view: folders, status and messages by UTF-8 name."""
        folders, status, msgs = {}, {}, {}
        for o in self.tool("dump", self.maildir(user)):
            name = mutf7_decode(o.get("name", o.get("folder", "")))
            if o["type"] == "folder":
                folders[name] = o
            elif o["type"] == "status":
                status[name] = o
            else:
                msgs[(name, o["uid"])] = o
        return folders, status, msgs

    def dovecot_view(self, user):
        status = {}
        for r in self.doveadm_tab("mailbox", "status", "-u", user,
                                  "messages uidnext uidvalidity unseen",
                                  "*"):
            status[r["mailbox"]] = {k: int(v) for k, v in r.items()
                                    if k != "mailbox"}
        msgs = {}
        for r in self.doveadm_tab("fetch", "-u", user,
                                  "mailbox uid flags size.physical "
                                  "size.virtual date.received.unixtime",
                                  "all"):
            flags = [f for f in r["flags"].split(" ")
                     if f and f != "\\Recent"]
            msgs[(r["mailbox"], int(r["uid"]))] = {
                "flags": sorted(f for f in flags if f.startswith("\\")),
                "keywords": sorted(f for f in flags
                                   if not f.startswith("\\")),
                "size": int(r["size.physical"]),
                "vsize": int(r["size.virtual"]),
                "date": int(r["date.received.unixtime"]),
            }
        subs = set(self.doveadm("mailbox", "list", "-u", user,
                                "-s").split())
        return status, msgs, subs

    def assert_same(self, user):
        """facteur and Dovecot agree on every folder and message."""
        dstatus, dmsgs, dsubs = self.dovecot_view(user)
        folders, status, msgs = self.dump(user)
        self.assertEqual(set(status), set(dstatus))
        for name, st in dstatus.items():
            mine = status[name]
            for k in ("uidvalidity", "uidnext", "messages", "unseen"):
                self.assertEqual(mine[k], st[k], "%s %s" % (name, k))
        self.assertEqual(set(msgs), set(dmsgs))
        for key, d in dmsgs.items():
            m = msgs[key]
            self.assertEqual(sorted(m["flags"]), d["flags"], key)
            self.assertEqual(sorted(m["keywords"]), d["keywords"], key)
            self.assertEqual(m["size"], d["size"], key)
            self.assertEqual(m["vsize"], d["vsize"], key)
            self.assertEqual(m["date"], d["date"], key)
        mysubs = {n for n, f in folders.items() if f["subscribed"]}
        # Dovecot lists subscribed names even without a folder
        self.assertEqual(mysubs, dsubs & set(folders))
        return status, msgs

    def pop3_uidls(self, user):
        p = poplib.POP3("127.0.0.1", self.pop3_port, timeout=30)
        try:
            p.user(user)
            p.pass_("pass")
            out = {}
            for ln in p.uidl()[1]:
                num, uidl = ln.decode().split(" ", 1)
                size = int(p.list(int(num)).decode().split(" ")[2])
                out[uidl] = size
            return out
        finally:
            p.quit()

    # ---- tests ----

    def test_1_dovecot_writes_facteur_reads(self):
        user = "alice@example.org"
        for i in range(4):
            self.doveadm("save", "-u", user, stdin=(
                "From: a@example.org\nSubject: m%d\n\nbody %d\n" %
                (i, i)).encode())
        self.doveadm("mailbox", "create", "-u", user, "Work", "Work.2024",
                     "Entwürfe", "Archive.Old.Deep")
        self.doveadm("save", "-u", user, "-m", "Entwürfe",
                     stdin=b"Subject: draft\n\nx\r\ny\n")
        self.doveadm("flags", "add", "-u", user,
                     "\\Seen $Forwarded Important", "mailbox", "INBOX",
                     "uid", "1")
        self.doveadm("flags", "add", "-u", user, "\\Flagged \\Answered "
                     "\\Draft Work", "mailbox", "INBOX", "uid", "2")
        self.doveadm("flags", "add", "-u", user, "\\Deleted",
                     "mailbox", "INBOX", "uid", "3")
        self.doveadm("expunge", "-u", user, "mailbox", "INBOX", "uid", "3")
        self.doveadm("mailbox", "subscribe", "-u", user, "Work",
                     "Entwürfe")
        status, msgs = self.assert_same(user)
        self.assertEqual(status["INBOX"]["messages"], 3)
        self.assertEqual(status["INBOX"]["uidnext"], 5)
        self.assertEqual(sorted(msgs[("INBOX", 1)]["keywords"]),
                         ["$Forwarded", "Important"])
        # POP3: Dovecot's own UIDLs and sizes are ours
        mine = {m["uidl"]: m["vsize"] for (f, _), m in msgs.items()
                if f == "INBOX"}
        self.assertEqual(self.pop3_uidls(user), mine)
        # the Entwürfe folder exists on disk in modified UTF-7
        self.assertTrue(os.path.isdir(os.path.join(self.maildir(user),
                                                   ".Entw&APw-rfe")))

    def test_2_facteur_writes_dovecot_reads(self):
        user = "bob@example.org"
        md = self.maildir(user)
        # Dovecot creates the user first (so the Maildir is Dovecot's)
        self.doveadm("save", "-u", user, stdin=b"Subject: d1\n\nd1\n")
        self.tool("deliver", md, self.msgfile("Subject: f1\n\nline\n"))
        self.tool("deliver", md, self.msgfile(
            "Subject: f2\n\n" + "long line\n" * 500))
        self.tool("create", md, "Caf&AOk-")
        self.tool("create", md, "Projects.2025")
        self.tool("subscribe", md, "Caf&AOk-")
        r = self.tool("append", md, "Caf&AOk-",
                      self.msgfile("Subject: app\r\n\r\nCRLF\r\n"),
                      "SF", "Important,Later", 1600000000)
        self.assertEqual(r[0]["uid"], 1)
        self.tool("flags", md, "INBOX", 2, "+", "R", "Work")
        self.tool("flags", md, "INBOX", 1, "+", "ST", "-")
        self.tool("copy", md, "INBOX", 2, "Projects.2025")
        self.tool("move", md, "INBOX", 3, "Caf&AOk-")
        status, msgs = self.assert_same(user)
        self.assertEqual(status["INBOX"]["messages"], 2)
        self.assertEqual(status["Café"]["messages"], 2)
        self.assertEqual(msgs[("Café", 1)]["date"], 1600000000)
        self.assertEqual(msgs[("Café", 1)]["vsize"],
                         len("Subject: app\r\n\r\nCRLF\r\n"))
        # Dovecot adds more: UIDs continue after ours
        self.doveadm("save", "-u", user, stdin=b"Subject: d2\n\nd2\n")
        self.doveadm("flags", "remove", "-u", user, "Work", "mailbox",
                     "INBOX", "uid", "2")
        status, msgs = self.assert_same(user)
        self.assertEqual(status["INBOX"]["uidnext"], 5)
        self.assertIn(("INBOX", 4), msgs)
        # facteur expunges, renames and deletes; Dovecot agrees
        self.tool("expunge", md, "INBOX", 1)
        self.tool("rename", md, "Projects", "Jobs")
        self.tool("delete", md, "Caf&AOk-")
        self.tool("unsubscribe", md, "Caf&AOk-")
        status, msgs = self.assert_same(user)
        self.assertIn("Jobs.2025", status)
        self.assertNotIn("Café", status)
        self.assertEqual(status["INBOX"]["messages"], 2)
        mine = {m["uidl"]: m["vsize"] for (f, _), m in msgs.items()
                if f == "INBOX"}
        self.assertEqual(self.pop3_uidls(user), mine)

    def test_3_facteur_creates_user(self):
        user = "carol@example.org"
        md = self.maildir(user)
        os.makedirs(os.path.dirname(md))
        os.chown(os.path.dirname(md), NOBODY.pw_uid, NOBODY.pw_gid)
        self.tool("ensure", md)
        self.tool("deliver", md, self.msgfile("Subject: hi\n\nhi\n"))
        self.tool("sync", md, "INBOX")
        status, msgs = self.assert_same(user)
        for name in ("Drafts", "Sent", "Junk", "Trash", "Archive"):
            self.assertIn(name, status)
        subs = set(self.doveadm("mailbox", "list", "-u", user,
                                "-s").split())
        self.assertEqual(subs, {"Drafts", "Sent", "Junk", "Trash",
                                "Archive"})
        # Dovecot's quota view of what we delivered
        out = self.doveadm("-f", "tab", "quota", "get", "-u", user)
        self.assertIn("STORAGE", out)
        with open(os.path.join(md, "maildirsize")) as f:
            lines = f.read().splitlines()
        total = sum(int(ln.split()[0]) for ln in lines[1:])
        self.assertEqual(total, msgs[("INBOX", 1)]["size"])


if __name__ == "__main__":
    unittest.main()
