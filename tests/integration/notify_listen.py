#!/usr/bin/python3
"""notify_listen.py SOCKET LOG - what a Type=notify service tells systemd, recorded.

Binds a unix datagram socket at SOCKET (as systemd's NOTIFY_SOCKET) and appends
each message to LOG, one line each (its newlines shown as " | "), until killed.
"""
import os
import socket
import sys

path, log = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o777)   # the service runs as another user
with open(log, "a", buffering=1) as f:
    f.write("listening\n")
    while True:
        data = s.recv(4096)
        f.write(data.decode("utf-8", "replace").strip().replace("\n", " | ") + "\n")
