#!/usr/bin/env python3
"""Test servers of the testbed: one process listening on several TCP ports (IPv4 and IPv6).

HTTP ports answer a short page naming the port; TLS ports do the same over a throw-away
self-signed certificate; raw ports accept and record whatever arrives. Every connection and
every received line is appended to LOG, which the tests read to prove what did (not) arrive.

usage: origin.py LOG [http:PORT | tls:PORT:CERT:KEY | raw:PORT | udp:PORT | rawip:PROTO]...
                 [--bind ADDR]...

GET /big/N answers N bytes (a long download); a WebSocket upgrade (RFC 6455) gets the handshake
and its first text frame echoed back; udp ports and raw IP protocols (a capture of
ICMP, SCTP, GRE, ...) record what arrives.
"""
import base64
import hashlib
import socket
import ssl
import struct
import sys
import threading
import time

log_lock = threading.Lock()


def record(log, line):
    with log_lock, open(log, "a") as f:
        f.write(f"{time.time():.3f} {line}\n")


def websocket_echo(conn, head):
    key = [l.split(b":", 1)[1].strip() for l in head.split(b"\r\n") if l.lower().startswith(b"sec-websocket-key:")]
    if not key:
        return False
    accept = base64.b64encode(hashlib.sha1(key[0] + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
    def exact(n):
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data
    b1, b2 = exact(2)
    n = b2 & 0x7F
    if n == 126:
        n = struct.unpack("!H", exact(2))[0]
    mask = exact(4) if b2 & 0x80 else b"\0\0\0\0"
    payload = bytes(c ^ mask[i % 4] for i, c in enumerate(exact(n)))
    conn.sendall(bytes([0x81, len(payload)]) + payload if len(payload) < 126 else
                 bytes([0x81, 126]) + struct.pack("!H", len(payload)) + payload)
    return True


def serve_conn(kind, port, conn, peer, log, ctx):
    conn.settimeout(10)
    try:
        if kind == "tls":
            conn = ctx.wrap_socket(conn, server_side=True)
        record(log, f"{kind}:{port} connect {peer[0]}")
        if kind == "raw":
            while True:
                data = conn.recv(4096)
                if not data:
                    break
                record(log, f"raw:{port} data {peer[0]} {data.decode(errors='replace').strip()}")
            return
        buf = b""
        while b"\r\n\r\n" not in buf and len(buf) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                break
            buf += chunk
        request = buf.split(b"\r\n", 1)[0].decode(errors="replace")
        record(log, f"{kind}:{port} request {peer[0]} {request}")
        parts = request.split(" ")
        if b"upgrade: websocket" in buf.lower() and websocket_echo(conn, buf):
            record(log, f"{kind}:{port} websocket {peer[0]}")
            return
        if len(parts) > 1 and parts[1].startswith("/big/"):
            size = int(parts[1][5:])
            conn.settimeout(120)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                         + f"Connection: close\r\nContent-Length: {size}\r\n\r\n".encode())
            chunk = b"x" * 65536
            while size > 0:
                conn.sendall(chunk[:min(size, len(chunk))])
                size -= min(size, len(chunk))
            record(log, f"{kind}:{port} sent {peer[0]} {parts[1]}")
            return
        body = f"origin {port}\n".encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    except Exception as e:  # a test client hanging up early is normal
        record(log, f"{kind}:{port} error {peer[0]} {type(e).__name__}")
    finally:
        conn.close()


def bind_socket(port, bind):
    fam = socket.AF_INET6 if ":" in bind else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((bind, port))
    s.listen(128)
    return s


def accept_loop(kind, port, s, log, ctx):
    while True:
        conn, peer = s.accept()
        threading.Thread(target=serve_conn, args=(kind, port, conn, peer, log, ctx), daemon=True).start()


def datagram_loop(kind, port, s, log):
    while True:
        data, peer = s.recvfrom(65535)
        record(log, f"{kind}:{port} data {peer[0]} {len(data)}")


def bind_datagram(kind, num, bind):
    fam = socket.AF_INET6 if ":" in bind else socket.AF_INET
    if kind == "udp":
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((bind, num))
    else:  # rawip: every packet of that IP protocol addressed to this host
        s = socket.socket(fam, socket.SOCK_RAW, num)
    return s


def main():
    log = sys.argv[1]
    binds, specs = [], []
    args = sys.argv[2:]
    i = 0
    while i < len(args):
        if args[i] == "--bind":
            binds.append(args[i + 1])
            i += 2
        else:
            specs.append(args[i])
            i += 1
    binds = binds or ["0.0.0.0"]
    threads = []
    for spec in specs:
        parts = spec.split(":")
        kind, port = parts[0], int(parts[1])
        ctx = None
        if kind == "tls":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(parts[2], parts[3])
        for b in binds:
            if kind in ("udp", "rawip"):
                if kind == "rawip" and b not in ("0.0.0.0", "::"):
                    continue
                s = bind_datagram(kind, port, b)
                t = threading.Thread(target=datagram_loop, args=(kind, port, s, log), daemon=True)
                t.start()
                threads.append(t)
                continue
            # Bound before "ready" is logged, so a test that waits for it never races a bind.
            s = bind_socket(port, b)
            t = threading.Thread(target=accept_loop, args=(kind, port, s, log, ctx), daemon=True)
            t.start()
            threads.append(t)
    record(log, "ready")
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
