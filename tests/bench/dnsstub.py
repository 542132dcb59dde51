"""A loopback DNS stub for the benchmark: facteur checks SPF/DKIM/DMARC
on inbound mail, and the bench must send no query off the machine (and
not wait for time-outs). Every question gets NXDOMAIN at once, as for
the bench's sender domain (remote.bench.invalid) in real life; so SPF
and DMARC find nothing. UDP only (an NXDOMAIN is never truncated)."""
import socket
import struct
import threading


class DnsStub:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.queries = 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            if len(data) < 12:
                continue
            self.queries += 1
            qid, flags, qd = struct.unpack("!HHH", data[:6])
            # question section: copy it back (name, type, class)
            i = 12
            while i < len(data) and data[i] != 0:
                i += data[i] + 1
            q = data[12:i + 5] if qd == 1 else b""
            rflags = 0x8000 | (flags & 0x7900) | 0x0080 | 3   # NXDOMAIN
            resp = struct.pack("!HHHHHH", qid, rflags, 1 if q else 0,
                               0, 0, 0) + q
            try:
                self.sock.sendto(resp, peer)
            except OSError:
                pass

    def close(self):
        self.sock.close()
