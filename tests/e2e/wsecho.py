#!/usr/bin/env python3
"""A minimal WebSocket (RFC 6455) echo server and client, standard library only.

  wsecho.py serve PORT [CERT KEY]       echo every text frame back, forever (wss with CERT)
  wsecho.py ask HOST PORT TEXT [CA]     one handshake, one frame, print the echo; exit 0 on a
                                        match (wss with CA, the SNI being HOST)
"""
import base64
import hashlib
import os
import socket
import ssl
import struct
import sys
import threading

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def read_frame(s):
    b1, b2 = recv_exact(s, 2)
    length = b2 & 0x7F
    if length == 126:
        length = struct.unpack("!H", recv_exact(s, 2))[0]
    elif length == 127:
        length = struct.unpack("!Q", recv_exact(s, 8))[0]
    mask = recv_exact(s, 4) if b2 & 0x80 else None
    payload = recv_exact(s, length)
    if mask:
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    return b1 & 0x0F, payload


def frame(payload, masked):
    head = bytes([0x81])
    n = len(payload)
    mbit = 0x80 if masked else 0
    head += bytes([mbit | n]) if n < 126 else bytes([mbit | 126]) + struct.pack("!H", n)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))


def serve_one(conn):
    conn.settimeout(10)
    req = b""
    while b"\r\n\r\n" not in req:
        req += conn.recv(4096)
    key = [l.split(b":", 1)[1].strip() for l in req.split(b"\r\n") if l.lower().startswith(b"sec-websocket-key:")][0]
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
    op, payload = read_frame(conn)
    if op == 1:
        conn.sendall(frame(payload, masked=False))
    conn.close()


def serve(port, cert=None, key=None):
    ctx = None
    if cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(16)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve_tls if ctx else serve_one, args=((conn, ctx) if ctx else (conn,)),
                         daemon=True).start()


def serve_tls(conn, ctx):
    try:
        conn.settimeout(10)
        serve_one(ctx.wrap_socket(conn, server_side=True))
    except (OSError, ssl.SSLError):
        conn.close()


def ask(host, port, text, ca=None):
    s = socket.create_connection((host, port), timeout=5)
    if ca:
        s = ssl.create_default_context(cafile=ca).wrap_socket(s, server_hostname=host)
    key = base64.b64encode(os.urandom(16))
    s.sendall(b"GET / HTTP/1.1\r\nHost: " + host.encode() + b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
    resp = b""
    while b"\r\n\r\n" not in resp:
        resp += s.recv(4096)
    expected = base64.b64encode(hashlib.sha1(key + GUID).digest())
    if b" 101 " not in resp.split(b"\r\n")[0] or expected not in resp:
        print("bad handshake")
        return 1
    s.sendall(frame(text.encode(), masked=True))
    op, payload = read_frame(s)
    print(payload.decode())
    return 0 if payload.decode() == text else 1


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]), *sys.argv[3:5])
    else:
        sys.exit(ask(sys.argv[2], int(sys.argv[3]), sys.argv[4], *sys.argv[5:6]))
