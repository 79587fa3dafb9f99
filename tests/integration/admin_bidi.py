"""admin_bidi - a small WebDriver BiDi client for Firefox, with no geckodriver:
Firefox started headless with its own BiDi server
(--remote-debugging-port), spoken to over its WebSocket with Debian's
python3-websocket. Commands carry an id and wait for the answer of that id
with a deadline; events that arrive meanwhile are kept in order.

    ff = Firefox(port)          start Firefox on a fresh profile, connect, open a session
    ff.command(method, params)  send a command, return its result (raises BidiError)
    ff.events(method)           the events of METHOD received so far, in order
    ff.forget()                 forget the events received so far
    ff.pump(seconds)            read the events that arrive for SECONDS (nothing sent)
    ff.close()                  end the session, stop Firefox, remove the profile
"""
import ctypes
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import websocket

FIREFOX = "/usr/bin/firefox-esr"
DEADLINE = 60  # seconds for one command's answer: generous on a busy machine

# a profile that stays offline and quiet: no updates, telemetry or first-run pages
PREFS = {
    "remote.active-protocols": 1,          # WebDriver BiDi only
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.aboutwelcome.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.update.disabledForTesting": True,
    "app.normandy.enabled": False,
    "services.settings.server": "http://127.0.0.1:9/",
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "extensions.update.enabled": False,
}


def _die_with_parent():
    """in the child: SIGTERM when the test that started it dies, so no Firefox outlives a failed run"""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class BidiError(Exception):
    """an error answer of a command: its error code and message"""


class Firefox:
    def __init__(self, port, log_path=None):
        self.profile = tempfile.mkdtemp(prefix="postino-ff-")
        with open(os.path.join(self.profile, "user.js"), "w") as f:
            for k, v in PREFS.items():
                f.write(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n")
        self.log = open(log_path or os.devnull, "w")
        self.proc = subprocess.Popen(
            [FIREFOX, "--headless", "--no-remote", "--profile", self.profile, "--remote-debugging-port", str(port)],
            stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent, env=dict(os.environ, MOZ_CRASHREPORTER_DISABLE="1"))
        self.ws = None
        self.next_id = 0
        self.received = []
        try:
            self.ws = self._connect(f"ws://127.0.0.1:{port}/session")
            # a prompt (an alert() that should never run) stays open and is reported, not dismissed
            self.command("session.new", {"capabilities": {"alwaysMatch": {"unhandledPromptBehavior": {"default": "ignore"}}}})
        except BaseException:
            self.close()
            raise

    def _connect(self, url):
        """the WebSocket, once Firefox listens (it takes a while to start on a busy machine)"""
        end = time.time() + DEADLINE
        while True:
            try:
                return websocket.create_connection(url, timeout=DEADLINE, suppress_origin=True)
            except (ConnectionError, OSError, websocket.WebSocketException) as e:
                if self.proc.poll() is not None:
                    raise BidiError(f"firefox exited with status {self.proc.returncode} before listening") from e
                if time.time() > end:
                    raise BidiError(f"firefox did not listen on {url} within {DEADLINE}s: {e}") from e
                time.sleep(0.2)

    def _read(self, timeout):
        """one message (parsed), or None when nothing came within TIMEOUT seconds"""
        self.ws.settimeout(max(timeout, 0.01))
        try:
            return json.loads(self.ws.recv())
        except websocket.WebSocketTimeoutException:
            return None

    def command(self, method, params=None, deadline=DEADLINE):
        self.next_id += 1
        want = self.next_id
        self.ws.send(json.dumps({"id": want, "method": method, "params": params or {}}))
        end = time.time() + deadline
        while time.time() < end:
            m = self._read(end - time.time())
            if m is None:
                continue
            if m.get("type") == "event":
                self.received.append(m)
            elif m.get("id") == want:
                if m.get("type") == "error":
                    raise BidiError(f"{method}: {m.get('error')}: {m.get('message')}")
                return m["result"]
        raise BidiError(f"{method}: no answer within {deadline}s")

    def pump(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            m = self._read(end - time.time())
            if m is not None and m.get("type") == "event":
                self.received.append(m)

    def events(self, method):
        return [m["params"] for m in self.received if m["method"] == method]

    def forget(self):
        self.received.clear()

    def close(self):
        if self.ws is not None:
            try:
                self.command("session.end", deadline=10)
                self.ws.close()
            except (BidiError, OSError, websocket.WebSocketException):
                pass
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)
