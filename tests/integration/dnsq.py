#!/usr/bin/env python3
"""Minimal DNS client for tests: dnsq.py SERVER[:PORT] NAME [udp|tcp] -> prints the A records.

Exit 0 with the addresses on an answer, 1 on no answer or error (message on stderr). Always
bounded by a 2-second timeout.
"""
import random
import socket
import struct
import sys


def query(name):
    qid = random.randint(0, 65535)
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return qid, header + qname + struct.pack("!HH", 1, 1)


def parse(resp):
    ancount = struct.unpack("!H", resp[6:8])[0]
    i = 12
    while resp[i] != 0:
        i += resp[i] + 1
    i += 5
    out = []
    for _ in range(ancount):
        if resp[i] & 0xC0 == 0xC0:
            i += 2
        else:
            while resp[i] != 0:
                i += resp[i] + 1
            i += 1
        rtype, _, _, rdlen = struct.unpack("!HHIH", resp[i:i + 10])
        i += 10
        if rtype == 1:
            out.append(socket.inet_ntoa(resp[i:i + 4]))
        i += rdlen
    return out


def main():
    server, name = sys.argv[1], sys.argv[2]
    proto = sys.argv[3] if len(sys.argv) > 3 else "udp"
    host, _, port = server.partition(":")
    port = int(port or 53)
    _, msg = query(name)
    try:
        if proto == "tcp":
            s = socket.create_connection((host, port), timeout=2)
            s.sendall(struct.pack("!H", len(msg)) + msg)
            n = struct.unpack("!H", s.recv(2))[0]
            resp = b""
            while len(resp) < n:
                chunk = s.recv(n - len(resp))
                if not chunk:
                    break
                resp += chunk
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(2)
            s.sendto(msg, (host, port))
            resp = s.recv(4096)
        addrs = parse(resp)
        print(" ".join(addrs))
        return 0 if addrs else 1
    except OSError as e:
        print(f"dnsq: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
