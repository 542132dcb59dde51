"""A small raw-socket IMAP client for the benchmark: it sends a command
and reads until its tagged reply, without parsing what comes before (so
the client costs little next to the server it measures). Literals are
skipped by counting, so a tag inside a message body cannot end a read
early."""
import re
import socket
import ssl

_LIT = re.compile(rb"\{(\d+)\}\r\n")


class ImapError(Exception):
    pass


class Imap:
    def __init__(self, port, tls=False, cafile=None, host="127.0.0.1",
                 timeout=300.0, ctx=None):
        sock = socket.create_connection((host, port), timeout=timeout)
        if tls:
            if ctx is None:
                ctx = ssl.create_default_context(cafile=cafile)
                ctx.check_hostname = False
            sock = ctx.wrap_socket(sock, server_hostname="localhost")
        self.sock = sock
        self.buf = bytearray()
        self.n = 0
        self.greeting = self._line()

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ImapError("connection closed")
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                out = bytes(self.buf[:i + 2])
                del self.buf[:i + 2]
                return out
            self._fill()

    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, text, collect=False):
        """Run one command; returns (status, bytes received, lines if
        collect). Raises ImapError on NO/BAD when check is needed by
        the caller."""
        self.n += 1
        tag = b"T%d" % self.n
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        return self.wait(tag, collect)

    def wait(self, tag, collect=False):
        total = 0
        lines = [] if collect else None
        pos = 0
        tagsp = tag + b" "
        while True:
            # scan complete lines in buf from pos
            i = self.buf.find(b"\r\n", pos)
            if i < 0:
                if pos:
                    del self.buf[:pos]
                    pos = 0
                self._fill()
                continue
            end = i + 2
            m = None
            if self.buf[i - 1:i] == b"}":
                m = _LIT.search(self.buf, max(pos, i - 24), end)
            if m and m.end() == end:
                n = int(m.group(1))
                while len(self.buf) < end + n:
                    self._fill()
                # literal and the rest of the line follow
                end2 = self.buf.find(b"\r\n", end + n)
                while end2 < 0:
                    self._fill()
                    end2 = self.buf.find(b"\r\n", end + n)
                # the rest of the line may hold another literal: treat
                # the remainder as a new line start
                seg_end = end + n
                if collect:
                    lines.append(bytes(self.buf[pos:seg_end]))
                total += seg_end - pos
                pos = seg_end
                continue
            line = self.buf[pos:end]
            total += end - pos
            if collect:
                lines.append(bytes(line))
            pos = end
            if line.startswith(tagsp):
                del self.buf[:pos]
                status = line.split(b" ", 2)[1].decode()
                if status != "OK":
                    raise ImapError(bytes(line).decode("utf-8", "replace"))
                return status, total, lines

    def login(self, user, password):
        return self.cmd('LOGIN "%s" "%s"' % (user, password))

    def logout(self):
        try:
            self.cmd("LOGOUT")
        except (ImapError, OSError):
            pass
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
