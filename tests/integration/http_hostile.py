#!/usr/bin/python3
"""http_hostile - clients that misbehave on purpose, for test_api_limits.sh.

Each command prints one JSON object on standard output; times are seconds
since the command's connections were opened.

  early ADDR N METHOD PATH LENGTH [HEADER...]
      N connections, from 127.0.0.10, 127.0.0.11 and on, each send a request's headers declaring a body of LENGTH
      bytes, and nothing more; {"before_body": [status or null, ...]} is what
      each was answered within 10 s, before any of its body was sent. Then they
      send their bodies side by side (as far as the server takes them) and close.
  chunked ADDR PATH SIZE [HEADER...]
      a body of SIZE bytes in chunks of 1 KiB: {"status": status or null}
  drip ADDR N EVERY OTHER_SOURCE
      N connections from 127.0.0.1 each send a request line, then a header line
      every EVERY seconds and never the end of the headers; 1 s in, a normal
      GET /healthz from OTHER_SOURCE. {"closed_at": [t or null, ...],
      "other": status or null}: when the server closed each (null: still
      open after 20 s).
  slowbody ADDR PATH LENGTH STEP_BYTES EVERY [HEADER...]
      headers declaring LENGTH bytes, then STEP_BYTES of the body every EVERY
      seconds: {"closed_at": t or null, "status": status or null, "sent": n}
  keepalive ADDR PATH PAUSE
      two GETs on one connection, PAUSE seconds apart: {"statuses": [a, b]}
"""
import http.client
import json
import select
import socket
import sys
import time


def connect(addr, source=None):
    host, port = addr.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=10,
                                    source_address=(source, 0) if source else None)


def head(method, path, extra, length=None, chunked=False):
    h = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if length is not None:
        h += f"Content-Length: {length}\r\n"
    if chunked:
        h += "Transfer-Encoding: chunked\r\n"
    for x in extra:
        h += x + "\r\n"
    return (h + "\r\n").encode()


def status_of(data):
    """the status code of an answer's first bytes, or None"""
    parts = data.split(b" ", 2)
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return None


def read_answer(s, secs):
    """the status of what S is answered within SECS, or None (nothing, or closed)"""
    end = time.monotonic() + secs
    data = b""
    while b"\r\n" not in data:
        left = end - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            return None
        try:
            got = s.recv(4096)
        except OSError:
            return status_of(data)
        if not got:
            return status_of(data)
        data += got
    return status_of(data)


def early(addr, n, method, path, length, *extra):
    socks = [connect(addr, f"127.0.0.{10 + i}") for i in range(int(n))]
    for s in socks:
        s.sendall(head(method, path, extra, length=int(length)))
    before = [read_answer(s, 10) if i == 0 else None for i, s in enumerate(socks)]
    # the others had the same 10 s, at the same time
    for i, s in enumerate(socks[1:], 1):
        before[i] = read_answer(s, 0.5)
    # the bodies side by side, as many clients would send them, as far as the server takes them
    chunk = b"x" * 65536
    live = list(socks)
    for s in socks:
        s.settimeout(20)
    for _ in range(int(length) // len(chunk)):
        for s in list(live):
            try:
                s.sendall(chunk)
            except OSError:
                live.remove(s)
    for s in socks:
        s.close()
    return {"before_body": before}


def chunked(addr, path, size, *extra):
    s = connect(addr)
    s.settimeout(20)
    s.sendall(head("POST", path, extra, chunked=True))
    left = int(size)
    try:
        while left > 0:
            n = min(1024, left)
            s.sendall(b"%x\r\n" % n + b"a" * n + b"\r\n")
            left -= n
        s.sendall(b"0\r\n\r\n")
    except OSError:
        pass
    st = read_answer(s, 20)
    s.close()
    return {"status": st}


def closed(s):
    """has the server closed S (without waiting)"""
    try:
        if not select.select([s], [], [], 0)[0]:
            return False
        return s.recv(4096) == b""
    except OSError:
        return True


def drip(addr, n, every, other_source):
    t0 = time.monotonic()
    socks = []
    for i in range(int(n)):
        s = connect(addr)
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        except OSError:
            pass
        socks.append(s)
    closed_at = [None] * len(socks)
    other = None
    next_drip = t0 + float(every)
    while time.monotonic() - t0 < 20 and None in closed_at:
        now = time.monotonic()
        for i, s in enumerate(socks):
            if closed_at[i] is None and closed(s):
                closed_at[i] = round(now - t0, 2)
        if other is None and now - t0 >= 1:
            c = http.client.HTTPConnection(addr, timeout=10, source_address=(other_source, 0))
            try:
                c.request("GET", "/healthz")
                other = c.getresponse().status
            except OSError:
                other = 0
            c.close()
        if now >= next_drip:
            for i, s in enumerate(socks):
                if closed_at[i] is None:
                    try:
                        s.sendall(b"X-Drip: %d\r\n" % i)
                    except OSError:
                        closed_at[i] = round(time.monotonic() - t0, 2)
            next_drip += float(every)
        time.sleep(0.05)
    for s in socks:
        s.close()
    return {"closed_at": closed_at, "other": other}


def slowbody(addr, path, length, step, every, *extra):
    t0 = time.monotonic()
    s = connect(addr)
    s.sendall(head("POST", path, extra, length=int(length)))
    sent, closed_at, st = 0, None, None
    while sent < int(length) and time.monotonic() - t0 < 20:
        if closed(s):
            closed_at = round(time.monotonic() - t0, 2)
            break
        n = min(int(step), int(length) - sent)
        try:
            s.sendall(b"a" * n)
        except OSError:
            closed_at = round(time.monotonic() - t0, 2)
            break
        sent += n
        time.sleep(float(every))
    if closed_at is None:
        st = read_answer(s, 20)
        if st is None:
            closed_at = round(time.monotonic() - t0, 2)
    s.close()
    return {"closed_at": closed_at, "status": st, "sent": sent}


def keepalive(addr, path, pause):
    c = http.client.HTTPConnection(addr, timeout=10)
    out = []
    for i in range(2):
        if i:
            time.sleep(float(pause))
        try:
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            out.append(r.status)
        except (OSError, http.client.HTTPException):
            out.append(None)
    c.close()
    return {"statuses": out}


if __name__ == "__main__":
    cmds = {"early": early, "chunked": chunked, "drip": drip, "slowbody": slowbody, "keepalive": keepalive}
    print(json.dumps(cmds[sys.argv[1]](*sys.argv[2:])))
