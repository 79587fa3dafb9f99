#!/usr/bin/python3
"""webhook_receiver - a local HTTP endpoint for postino's webhook tests and benchmark.

Verifies every request's signature with the Standard Webhooks algorithm,
written here from the specification (not with postino's code): the signed
content is "webhook-id.webhook-timestamp.body", the key the base64-decoded
part of the secret after "whsec_", the signature "v1," + base64(HMAC-SHA256).
Each request is one JSON line in --log:
  {"id": webhook-id, "type", "data", "ok": signature valid, "status": answered,
   "t": receipt time (epoch seconds, float), "ts": webhook-timestamp}
Options: --fail-first N answers 500 to the first N requests (then 200);
--fail-all answers 500 to all; --status-file F: when F exists, its content is
the status answered (a 3xx with a Location to /elsewhere), or "sleep:N" to wait N
seconds before answering 200. --tls-cert/--tls-key: HTTPS. Writes its port to
--port-file once it listens.
"""
import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import ssl
import sys
import time


def verify(secret, msg_id, ts, body, sig_header):
    key = base64.b64decode(secret[len("whsec_"):])
    signed = msg_id.encode() + b"." + ts.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for part in sig_header.split(" "):
        version, _, sig = part.partition(",")
        if version == "v1" and hmac.compare_digest(sig, expected):
            return True
    return False


class Receiver:
    def __init__(self, args):
        self.args = args
        self.secret = open(args.secret_file).read().strip() if args.secret_file else None
        self.n = 0
        self.log = open(args.log, "a", buffering=1)

    def status_for(self):
        self.n += 1
        if self.args.status_file and os.path.exists(self.args.status_file):
            text = open(self.args.status_file).read().strip()
            if text.startswith("sleep:"):
                return text
            try:
                return int(text or "200")
            except ValueError:
                return 200
        if self.args.fail_all or self.n <= self.args.fail_first:
            return 500
        return 200

    async def handle(self, reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                path = line.decode("latin-1").split(" ")[1] if b" " in line else ""

                headers = {}
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    k, _, v = h.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                t = time.time()
                msg_id = headers.get("webhook-id", "")
                ts = headers.get("webhook-timestamp", "")
                sig = headers.get("webhook-signature", "")
                secret = self.secret
                if not secret and self.args.secret_file:   # not known yet: read again
                    secret = open(self.args.secret_file).read().strip()
                ok = bool(secret) and verify(secret, msg_id, ts, body, sig)
                try:
                    j = json.loads(body)
                except ValueError:
                    j = {}
                status = self.status_for() if ok else 401
                if isinstance(status, str):
                    await asyncio.sleep(float(status.split(":")[1]))
                    status = 200
                self.log.write(json.dumps({"id": msg_id, "type": j.get("type"), "data": j.get("data"), "ok": ok,
                                           "status": status, "t": t, "ts": ts, "path": path}) + "\n")
                reply = b"fine" if status == 200 else b"not now"
                extra = b"Location: /elsewhere\r\n" if 300 <= status < 400 else b""
                writer.write(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\nContent-Type: text/plain\r\n%s\r\n%s"
                             % (status, len(reply), extra, reply))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--listen", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--secret-file")
    p.add_argument("--log", required=True)
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--fail-all", action="store_true")
    p.add_argument("--status-file")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    args = p.parse_args()
    r = Receiver(args)
    ctx = None
    if args.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
    server = await asyncio.start_server(r.handle, args.listen, args.port, backlog=512, ssl=ctx)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.rename(args.port_file + ".tmp", args.port_file)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
