#!/usr/bin/python3
"""pace_receiver - a receiving SMTP server for the pacing tests (aiosmtpd).

pace_receiver.py PORT LOG [LIMIT]
Listens on 127.0.0.1:PORT. Each RCPT is an attempt, written to LOG as
"EPOCH accepted ADDRESS" or "EPOCH refused ADDRESS". With LIMIT, a RCPT when
LIMIT recipients were accepted in the last 60 seconds (a sliding window) is
answered "421 4.7.28 ... rate limited", as a large provider answers a sender
that goes too fast. Prints "listening" once ready; stops on SIGTERM.
"""
import asyncio
import collections
import signal
import sys
import time

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, log, limit):
        self.log = log
        self.limit = limit
        self.window = collections.deque()

    def note(self, what, addr):
        self.log.write("%.3f %s %s\n" % (time.time(), what, addr))
        self.log.flush()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        now = time.time()
        while self.window and self.window[0] <= now - 60:
            self.window.popleft()
        if self.limit and len(self.window) >= self.limit:
            self.note("refused", address)
            return "421 4.7.28 [127.0.0.1] Our system has detected an unusual rate of mail, rate limited"
        self.window.append(now)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        for a in envelope.rcpt_tos:
            self.note("accepted", a)
        return "250 2.0.0 OK queued"


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    log = open(path, "a")
    c = Controller(Handler(log, limit), hostname="127.0.0.1", port=port)
    c.start()
    print("listening", flush=True)
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *a: stop.__setitem__(0, True))
    while not stop[0]:
        time.sleep(0.2)
    c.stop()


if __name__ == "__main__":
    main()
