"""A realistic, deterministic Maildir corpus for the IMAP benchmark.

Varied sizes and structures: plain text, multipart/alternative (text +
HTML), multipart/mixed with base64 attachments (PDF, JPEG), nested
mixed(alternative + attachment), forwarded message/rfc822, replies with
quoted text and In-Reply-To/References, RFC 2047 encoded subjects,
quoted-printable non-ASCII text, mailing-list headers. Mean size about
6 KiB, a few up to ~300 KiB. Generated once per size into
build/bench/corpus-N/ (cur/ only, Dovecot-style names with S= and W=,
most messages \\Seen) and hard-linked into each server's mail store.

Needles for SEARCH: the subject word "invoice" in about 1% of messages,
the body word "zanzibar" in about 0.5%.
"""
import base64
import os
import random
import time

VERSION = 1
WORDS = ("the of and to in is you that it he was for on are as with his "
         "they at be this have from or one had by word but not what all "
         "were we when your can said there use an each which she do how "
         "their if will up other about out many then them these so some "
         "her would make like him into time has look two more write go see "
         "number no way could people my than first water been call who "
         "oil its now find long down day did get come made may part "
         "meeting project report budget schedule review server update "
         "release deadline customer contract proposal draft weekend").split()
NAMES = ["Alice Martin", "Bob Durand", "Chloé Petit", "David Lefèvre",
         "Emma Moreau", "François Roux", "Grace Hopper", "Hugo Fournier",
         "Inès Girard", "Jules Bonnet", "Karim Benali", "Léa Dupont",
         "Marc Lambert", "Nora Fontaine", "Oscar Chevalier", "Paul Garnier"]
DOMAINS = ["example.org", "example.com", "mail.example.net", "corp.test",
           "lists.example.org", "univ.example.edu"]


def _addr(rng):
    n = rng.choice(NAMES)
    local = n.split()[0].lower().replace("é", "e").replace("ç", "c")
    return n, "%s.%d@%s" % (local, rng.randrange(50), rng.choice(DOMAINS))


def _fmt_addr(name, addr):
    if any(ord(c) > 127 for c in name):
        enc = base64.b64encode(name.encode()).decode()
        return "=?UTF-8?B?%s?= <%s>" % (enc, addr)
    return '"%s" <%s>' % (name, addr)


class Gen:
    def __init__(self, seed=42):
        self.rng = random.Random(seed)
        rng = self.rng
        self.paras = []
        for i in range(3000):
            n = rng.randrange(20, 120)
            words = [rng.choice(WORDS) for _ in range(n)]
            if i % 200 == 7:
                words[rng.randrange(n)] = "zanzibar"
            text = " ".join(words).capitalize() + "."
            lines, cur = [], ""
            for w in text.split():
                if len(cur) + len(w) + 1 > 72:
                    lines.append(cur)
                    cur = w
                else:
                    cur = (cur + " " + w) if cur else w
            lines.append(cur)
            self.paras.append("\n".join(lines))
        self.attach = []
        for i in range(150):
            size = int(rng.lognormvariate(8.8, 1.0))    # ~6.6 KiB median
            size = max(2000, min(size, 300000))
            data = rng.randbytes(size)
            b64 = base64.encodebytes(data).decode()
            kind = rng.choice([("application/pdf", "report-%d.pdf"),
                               ("image/jpeg", "IMG_%04d.jpg"),
                               ("application/vnd.openxmlformats-officedocu"
                                "ment.spreadsheetml.sheet", "budget-%d.xlsx")])
            self.attach.append((kind[0], kind[1] % i, b64))

    def body(self, lo, hi):
        return "\n\n".join(self.rng.choice(self.paras)
                           for _ in range(self.rng.randrange(lo, hi)))

    def message(self, i, date):
        rng = self.rng
        fname, faddr = _addr(rng)
        to = [_addr(rng) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
        subj_words = [rng.choice(WORDS) for _ in range(rng.randrange(2, 8))]
        if rng.random() < 0.01:
            subj_words.insert(rng.randrange(len(subj_words) + 1), "invoice")
        subject = " ".join(subj_words).capitalize()
        reply = rng.random() < 0.25
        if reply:
            subject = "Re: " + subject
        if rng.random() < 0.08:
            subject = "=?UTF-8?B?%s?=" % base64.b64encode(
                ("Réunion " + subject).encode()).decode()
        mid = "<%d.%d@%s>" % (i, rng.randrange(10 ** 9), rng.choice(DOMAINS))
        h = ["Return-Path: <%s>" % faddr,
             "Delivered-To: box@bench.test"]
        for k in range(rng.randrange(1, 4)):
            h.append("Received: from mx%d.%s (mx%d.%s [192.0.2.%d])\n"
                     "\tby mail.bench.test with ESMTPS id %08X\n"
                     "\tfor <box@bench.test>; %s" % (
                         k, rng.choice(DOMAINS), k, rng.choice(DOMAINS),
                         rng.randrange(1, 255), rng.randrange(1 << 32),
                         date))
        h += ["From: %s" % _fmt_addr(fname, faddr),
              "To: %s" % ", ".join(_fmt_addr(n, a) for n, a in to)]
        if rng.random() < 0.2:
            h.append("Cc: %s" % _fmt_addr(*_addr(rng)))
        h += ["Subject: %s" % subject, "Date: %s" % date,
              "Message-ID: %s" % mid]
        if reply:
            ref = "<%d.%d@%s>" % (i - 1, rng.randrange(10 ** 9),
                                  rng.choice(DOMAINS))
            h += ["In-Reply-To: %s" % ref, "References: %s" % ref]
        if rng.random() < 0.15:
            h += ["List-Id: Team list <team.lists.example.org>",
                  "List-Unsubscribe: <mailto:leave@lists.example.org>",
                  "Precedence: list"]
        h += ["X-Mailer: Bench Mailer %d.%d" % (rng.randrange(9),
                                                 rng.randrange(9)),
              "MIME-Version: 1.0"]
        kind = rng.random()
        text = self.body(1, 8)
        if reply:
            text += "\n\nOn %s, %s wrote:\n> " % (date, fname) + \
                self.body(1, 4).replace("\n", "\n> ")
        b = "b%d_%d" % (i, rng.randrange(10 ** 6))
        if kind < 0.55:
            h.append("Content-Type: text/plain; charset=utf-8; format=flowed")
            h.append("Content-Transfer-Encoding: 8bit")
            body = text + "\n"
        elif kind < 0.60:
            h.append("Content-Type: text/plain; charset=utf-8")
            h.append("Content-Transfer-Encoding: quoted-printable")
            body = ("Caf=C3=A9 cr=C3=A8me br=C3=BBl=C3=A9e =E2=82=AC 42\n" +
                    text + "\n")
        elif kind < 0.80:
            h.append('Content-Type: multipart/alternative; boundary="%s"' % b)
            body = self.alternative(b, text)
        elif kind < 0.95:
            h.append('Content-Type: multipart/mixed; boundary="%s"' % b)
            parts = []
            if rng.random() < 0.5:
                parts.append("Content-Type: multipart/alternative; "
                             'boundary="%s_a"\n\n' % b +
                             self.alternative(b + "_a", text))
            else:
                parts.append("Content-Type: text/plain; charset=utf-8\n\n" +
                             text + "\n")
            for _ in range(rng.choice((1, 1, 1, 2, 3))):
                ctype, name, data = rng.choice(self.attach)
                parts.append('Content-Type: %s; name="%s"\n'
                             "Content-Disposition: attachment; "
                             'filename="%s"\n'
                             "Content-Transfer-Encoding: base64\n\n%s" % (
                                 ctype, name, name, data))
            body = self.multipart(b, parts)
        else:
            h.append('Content-Type: multipart/mixed; boundary="%s"' % b)
            inner = ("From: %s\nTo: %s\nSubject: %s\nDate: %s\n"
                     "Message-ID: <fwd%d@example.org>\nMIME-Version: 1.0\n"
                     "Content-Type: text/plain; charset=utf-8\n\n%s\n" % (
                         _fmt_addr(*_addr(rng)), _fmt_addr(*_addr(rng)),
                         "Original: " + subject, date, i, self.body(1, 5)))
            body = self.multipart(b, [
                "Content-Type: text/plain; charset=utf-8\n\nSee below.\n",
                "Content-Type: message/rfc822\n\n" + inner])
        return ("\n".join(h) + "\n\n" + body).encode()

    def alternative(self, b, text):
        html = "<html><body>" + "".join(
            "<p>%s</p>\n" % p.replace("\n", " ")
            for p in text.split("\n\n")) + "</body></html>\n"
        return self.multipart(b, [
            "Content-Type: text/plain; charset=utf-8\n\n" + text + "\n",
            "Content-Type: text/html; charset=utf-8\n\n" + html])

    @staticmethod
    def multipart(b, parts):
        out = "This is a multi-part message in MIME format.\n"
        for p in parts:
            out += "\n--%s\n%s" % (b, p)
        return out + "\n--%s--\n" % b


def generate(n, dest):
    """Write n messages into dest/cur (dest/new and dest/tmp empty)."""
    tmp = dest + ".tmp"
    if os.path.exists(tmp):
        import shutil
        shutil.rmtree(tmp)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(tmp, sub))
    g = Gen(42 + n)
    t = 1700000000 - n * 900
    for i in range(n):
        t += g.rng.randrange(1, 1800)
        date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t))
        data = g.message(i, date)
        r = g.rng.random()
        flags = "S" if r < 0.75 else "RS" if r < 0.85 else \
            "FS" if r < 0.88 else ""
        name = "%d.M%dP%d.bench,S=%d,W=%d:2,%s" % (
            t, i % 1000000, 4000 + i % 30000, len(data),
            len(data) + data.count(b"\n"), flags)
        p = os.path.join(tmp, "cur", name)
        with open(p, "wb") as fh:
            fh.write(data)
        os.utime(p, (t, t))
    os.rename(tmp, dest)


def ensure(n, base):
    """The corpus of n messages under base (generated once)."""
    dest = os.path.join(base, "corpus-%d-v%d" % (n, VERSION))
    if not os.path.isdir(dest):
        generate(n, dest)
    return dest


if __name__ == "__main__":
    import sys
    t0 = time.time()
    d = ensure(int(sys.argv[1]), sys.argv[2])
    tot = sum(os.path.getsize(os.path.join(d, "cur", f))
              for f in os.listdir(os.path.join(d, "cur")))
    print(d, "%.1f s" % (time.time() - t0), "mean %.0f B" % (
        tot / int(sys.argv[1])))
