"""The two stacks under benchmark, on loopback high ports, same machine.

facteur is run the way the integration tests run it (tests/integration/
fixture.py: private MariaDB, `facteur db init`, CLI for domains/users,
run_user facteurtest when root), with log_level = warn.

The reference is the classic ISPmail set-up from Debian's packages:
Postfix (virtual domains/users/aliases from MariaDB through mysql: maps,
virtual_transport = lmtp:unix:private/dovecot-lmtp) and Dovecot 2.3
(SQL passdb/userdb on the same database, Maildir under its own mail
root, LMTP socket inside Postfix's queue directory). Nothing is started
by Debian's init scripts: Postfix runs with `postfix -c DIR start` and
Dovecot with `dovecot -F -c FILE`, both on private directories.

Dovecot is configured two ways:
  debian  what Debian ships (high-security login mode: one imap-login per
          connection, one imap process per session, no auth cache), with
          only the limits raised that 1,000 connections from one address
          need (process_limit, mail_max_userip_connections);
  tuned   login processes in high-performance mode (service_count = 0,
          process_min_avail = nproc, client_limit 1,000+), auth cache on,
          imap-hibernate for IDLE, imap processes reused (service_count
          = 100).
"""
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

import fixture  # noqa: E402  (FACTEUR_TEST_DIR is set by bench.py first)

DOMAIN = "bench.test"
PASSWORD = "bench-Password-1"
RUN_USER = fixture.RUN_USER


def run_ids():
    """uid, gid the mail stores belong to (facteurtest as root)."""
    if RUN_USER:
        pw = pwd.getpwnam(RUN_USER)
        return pw.pw_uid, pw.pw_gid
    return os.getuid(), os.getgid()


def chown_tree(path):
    uid, gid = run_ids()
    if os.geteuid() != 0:
        return
    subprocess.run(["chown", "-R", "%d:%d" % (uid, gid), path], check=True)


def proc_children():
    """{ppid: [pid, ...]} for every process."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as fh:
                st = fh.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(roots):
    """Every pid under (and including) the given roots."""
    kids = proc_children()
    out, todo = [], list(roots)
    while todo:
        p = todo.pop()
        if p in out:
            continue
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def pss_kib(pids):
    """Sum of Pss and of Rss (KiB) over pids, from smaps_rollup."""
    pss = rss = 0
    for p in pids:
        try:
            with open("/proc/%d/smaps_rollup" % p) as fh:
                for ln in fh:
                    if ln.startswith("Pss:"):
                        pss += int(ln.split()[1])
                    elif ln.startswith("Rss:"):
                        rss += int(ln.split()[1])
        except OSError:
            pass
    return pss, rss


class Bench:
    """Shared state: scratch dir, MariaDB, certificate, users."""

    def __init__(self, scratch):
        self.scratch = scratch
        self.db = fixture.MariaDB(os.path.join(scratch, "mariadb"))
        self.cert, self.key = None, None

    def start_db(self):
        self.db.start()
        # Postfix opens one connection per map per smtpd/cleanup/
        # trivial-rewrite process: 64 sessions need more than 151
        self.db.sql("SET GLOBAL max_connections = 4000;")
        self.cert, self.key = fixture.make_cert(
            os.path.join(self.scratch, "tls"))
        # readable by the servers' unprivileged users (Dovecot reads the
        # key as root; facteur as root before dropping)
        os.chmod(os.path.join(self.scratch, "tls"), 0o755)


class BenchFacteur(fixture.Facteur):
    """fixture.Facteur at log_level = warn: the worker's "worker ready"
    line (info) is not logged, so readiness is the listeners answering
    (the bench's ports are its own: nothing else binds them)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.extra_conf["log_level"] = "warn"

    def wait_ready(self, timeout=20.0):
        deadline = time.time() + timeout
        for l, p in self.ports.items():
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError("facteur exited; log:\n%s" % self.log())
            if not fixture.wait_port(p, timeout=max(1.0, deadline -
                                                    time.time())):
                raise RuntimeError("facteur did not listen on %s port %d; "
                                   "log:\n%s" % (l, p, self.log()))


class FacteurStack:
    name = "facteur"

    def __init__(self, bench, binary, dns_port):
        fixture.BIN = binary
        self.bench = bench
        self.f = BenchFacteur(
            "bench", db=bench.db,
            dns_server="127.0.0.1:%d" % dns_port,
            max_connections="20000", max_connections_per_ip="20000",
            hostname="facteur.bench.test", auth_fail_delay_ms="200",
            # the stacks share the user table: no rehash behind Dovecot
            auth_rehash="no",
            disable=("submission", "smtps", "pop3s", "pop3", "admin"))
        self.dbname = self.f.dbname

    @property
    def mail_root(self):
        return self.f.mail_root

    def port(self, kind):
        return self.f.ports[kind]

    def setup(self):
        self.f.write_conf()
        self.f.add_domain(DOMAIN)
        # one user through the CLI: its ARGON2ID hash is what facteur
        # stores for a new account
        self.f.add_user("argon@" + DOMAIN, PASSWORD)
        os.makedirs(self.f.mail_root, exist_ok=True)
        chown_tree(self.f.mail_root)

    def start(self):
        self.f.start()

    def stop(self):
        self.f.stop()

    def restart(self):
        self.f.stop()
        self.f.start()

    def pids(self):
        if not self.f.proc:
            return []
        return tree([self.f.proc.pid])

    def imap_pids(self):
        return self.pids()

    def maildir(self, email):
        return self.f.maildir(email)


def sql_users(bench, dbname, users, scheme_hash):
    """Insert users directly (fast; the hash is computed once)."""
    vals = ",".join(
        "((SELECT id FROM virtual_domains WHERE name='%s'),'%s','%s')"
        % (DOMAIN, scheme_hash.replace("'", "''"), u) for u in users)
    bench.db.sql("INSERT INTO virtual_users (domain_id, password, email) "
                 "VALUES %s;" % vals, db=dbname)


POSTFIX_MASTER = """\
{smtp_port} inet n - n - - smtpd
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

POSTFIX_MAIN = """\
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = ref.bench.test
mydomain = bench.invalid
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
biff = no
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
smtpd_banner = $myhostname ESMTP
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = may
smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination
smtpd_recipient_restrictions = reject_unauth_destination
message_size_limit = 41943040
virtual_mailbox_domains = mysql:{dir}/mysql-virtual-mailbox-domains.cf
virtual_mailbox_maps = mysql:{dir}/mysql-virtual-mailbox-maps.cf
virtual_alias_maps = mysql:{dir}/mysql-virtual-alias-maps.cf,
  mysql:{dir}/mysql-email2email.cf
virtual_transport = lmtp:unix:private/dovecot-lmtp
"""

POSTFIX_MAPS = {
    "mysql-virtual-mailbox-domains.cf":
        "SELECT 1 FROM virtual_domains WHERE name='%s'",
    "mysql-virtual-mailbox-maps.cf":
        "SELECT 1 FROM virtual_users WHERE email='%s'",
    "mysql-virtual-alias-maps.cf":
        "SELECT destination FROM virtual_aliases WHERE source='%s'",
    "mysql-email2email.cf":
        "SELECT email FROM virtual_users WHERE email='%s'",
}

DOVECOT_COMMON = """\
protocols = imap lmtp
listen = 127.0.0.1
base_dir = {dir}/run
state_dir = {dir}/state
instance_name = dovecot-bench
log_path = {dir}/dovecot.log
info_log_path = {dir}/dovecot.log
default_internal_user = dovecot
default_login_user = dovenull
mail_location = maildir:~/Maildir
mail_privileged_group = mail
namespace inbox {{
  inbox = yes
  separator = .
}}
first_valid_uid = 1
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
ssl_dh = </usr/share/dovecot/dh.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
postmaster_address = postmaster@{domain}
passdb {{
  driver = sql
  args = {dir}/dovecot-sql.conf.ext
}}
userdb {{
  driver = sql
  args = {dir}/dovecot-sql.conf.ext
}}
service imap-login {{
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
    ssl = yes
  }}
{login_extra}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service lmtp {{
  unix_listener {lmtp_socket} {{
    mode = 0600
    user = postfix
    group = postfix
  }}
}}
service imap {{
{imap_extra}
}}
# 1,000 connections of the same users from 127.0.0.1
mail_max_userip_connections = 5000
default_client_limit = 5000
default_vsz_limit = 1G
{extra}
"""

DEBIAN_LOGIN = """\
  process_limit = 1200
"""
DEBIAN_IMAP = """\
  process_limit = 1200
"""
DEBIAN_EXTRA = ""

TUNED_LOGIN = """\
  service_count = 0
  process_min_avail = {nproc}
  client_limit = 2500
  process_limit = 1200
"""
TUNED_IMAP = """\
  service_count = 100
  # processes freed by imap-hibernate do not linger a minute
  idle_kill = 3s
  process_limit = 1200
  client_limit = 1
  unix_listener imap-master {
    user = $default_internal_user
  }
  extra_groups = $default_internal_group
"""
TUNED_EXTRA = """\
auth_cache_size = 10M
auth_cache_ttl = 1 hour
auth_cache_negative_ttl = 1 hour
imap_hibernate_timeout = 2s
service imap-hibernate {
  unix_listener imap-hibernate {
    mode = 0660
    group = $default_internal_group
  }
}
service auth {
  client_limit = 6000
}
"""

DOVECOT_SQL = """\
driver = mysql
connect = host={sock} dbname={db} user={user} password={pw}
user_query = SELECT email as user, \\
  concat('*:bytes=', quota) AS quota_rule, \\
  '{mail_root}/%d/%n' AS home, \\
  {uid} AS uid, {gid} AS gid \\
  FROM virtual_users WHERE email='%u'
password_query = SELECT password FROM virtual_users WHERE email='%u'
iterate_query = SELECT email AS user FROM virtual_users
"""


class ReferenceStack:
    """Postfix + Dovecot (+ the shared MariaDB)."""

    def __init__(self, bench, dbname):
        self.bench = bench
        self.dbname = dbname
        self.dir = os.path.join(bench.scratch, "ref")
        self.pdir = os.path.join(self.dir, "postfix")
        self.ddir = os.path.join(self.dir, "dovecot")
        self.mail_root = os.path.join(self.dir, "vmail")
        self.ports = {"smtp": fixture.free_port(),
                      "imap": fixture.free_port(),
                      "imaps": fixture.free_port()}
        self.variant = "debian"
        self.dproc = None
        self.dlog = None

    name = "reference"

    def port(self, kind):
        return self.ports[kind]

    # -- set-up ---------------------------------------------------------
    def setup(self):
        if os.path.exists(self.dir):
            shutil.rmtree(self.dir)
        for d in (self.pdir, self.ddir, self.mail_root,
                  os.path.join(self.pdir, "queue"),
                  os.path.join(self.pdir, "data")):
            os.makedirs(d)
        os.chmod(self.dir, 0o755)
        os.chmod(self.ddir, 0o755)
        chown_tree(self.mail_root)
        if os.geteuid() == 0:
            shutil.chown(os.path.join(self.pdir, "data"), "postfix")
        sock = self.bench.db.sock
        with open(os.path.join(self.pdir, "main.cf"), "w") as fh:
            fh.write(POSTFIX_MAIN.format(dir=self.pdir, cert=self.bench.cert,
                                         key=self.bench.key))
        with open(os.path.join(self.pdir, "master.cf"), "w") as fh:
            fh.write(POSTFIX_MASTER.format(smtp_port=self.ports["smtp"]))
        for name, q in POSTFIX_MAPS.items():
            p = os.path.join(self.pdir, name)
            with open(p, "w") as fh:
                fh.write("user = %s\npassword = %s\nhosts = unix:%s\n"
                         "dbname = %s\nquery = %s\n" % (
                             fixture.DB_USER, fixture.DB_PASSWORD, sock,
                             self.dbname, q))
            os.chmod(p, 0o640)
            if os.geteuid() == 0:
                shutil.chown(p, "root", "postfix")
        uid, gid = run_ids()
        p = os.path.join(self.ddir, "dovecot-sql.conf.ext")
        with open(p, "w") as fh:
            fh.write(DOVECOT_SQL.format(
                sock=sock, db=self.dbname, user=fixture.DB_USER,
                pw=fixture.DB_PASSWORD, mail_root=self.mail_root,
                uid=uid, gid=gid))
        os.chmod(p, 0o600)
        self.write_dovecot("debian")

    def write_dovecot(self, variant):
        self.variant = variant
        if variant == "debian":
            login, imap, extra = DEBIAN_LOGIN, DEBIAN_IMAP, DEBIAN_EXTRA
        else:
            login = TUNED_LOGIN.format(nproc=os.cpu_count() or 2)
            imap, extra = TUNED_IMAP, TUNED_EXTRA
        lmtp = os.path.join(self.pdir, "queue", "private", "dovecot-lmtp")
        conf = DOVECOT_COMMON.format(
            dir=self.ddir, cert=self.bench.cert, key=self.bench.key,
            domain=DOMAIN, imap_port=self.ports["imap"],
            imaps_port=self.ports["imaps"], lmtp_socket=lmtp,
            login_extra=login, imap_extra=imap, extra=extra)
        self.dconf = os.path.join(self.ddir, "dovecot.conf")
        with open(self.dconf, "w") as fh:
            fh.write(conf)

    # -- processes -------------------------------------------------------
    def start(self):
        self.start_postfix()
        self.start_dovecot()

    def start_postfix(self):
        p = subprocess.run(["postfix", "-c", self.pdir, "start"],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("postfix start failed: %s%s" % (p.stdout,
                                                                p.stderr))
        if not fixture.wait_port(self.ports["smtp"]):
            raise RuntimeError("postfix does not listen; %s" %
                               self.tail(os.path.join(self.pdir, "maillog")))

    def start_dovecot(self):
        os.makedirs(os.path.join(self.ddir, "run"), exist_ok=True)
        os.makedirs(os.path.join(self.ddir, "state"), exist_ok=True)
        self.dproc = subprocess.Popen(["dovecot", "-F", "-c", self.dconf],
                                      stdout=subprocess.DEVNULL,
                                      stderr=open(os.path.join(
                                          self.ddir, "stderr.log"), "ab"))
        ok = fixture.wait_port(self.ports["imaps"])
        lmtp = os.path.join(self.pdir, "queue", "private", "dovecot-lmtp")
        ok = ok and fixture.wait_for(lambda: os.path.exists(lmtp), 10)
        if not ok:
            raise RuntimeError("dovecot did not start: %s" %
                               self.tail(os.path.join(self.ddir,
                                                      "dovecot.log")))

    def stop_dovecot(self):
        if self.dproc and self.dproc.poll() is None:
            self.dproc.send_signal(signal.SIGTERM)
            try:
                self.dproc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.dproc.kill()
                self.dproc.wait()
        self.dproc = None
        # wait for its children (imap, login, auth) to be gone too
        time.sleep(0.3)

    def restart_dovecot(self, variant=None):
        self.stop_dovecot()
        if variant:
            self.write_dovecot(variant)
        self.start_dovecot()

    def restart(self):
        self.restart_dovecot()

    def stop(self):
        self.stop_dovecot()
        subprocess.run(["postfix", "-c", self.pdir, "stop"],
                       capture_output=True)
        pid = self.postfix_master()
        if pid:
            for _ in range(100):
                if not os.path.exists("/proc/%d" % pid):
                    break
                time.sleep(0.1)

    def postfix_master(self):
        try:
            with open(os.path.join(self.pdir, "queue", "pid",
                                   "master.pid")) as fh:
                return int(fh.read().strip())
        except (OSError, ValueError):
            return None

    def pids(self):
        roots = []
        m = self.postfix_master()
        if m:
            roots.append(m)
        if self.dproc:
            roots.append(self.dproc.pid)
        return tree(roots)

    def imap_pids(self):
        return tree([self.dproc.pid]) if self.dproc else []

    def maildir(self, email):
        local, domain = email.lower().rsplit("@", 1)
        return os.path.join(self.mail_root, domain, local, "Maildir")

    @staticmethod
    def tail(path, n=30):
        try:
            with open(path, errors="replace") as fh:
                return "".join(fh.readlines()[-n:])
        except OSError:
            return "(no %s)" % path
