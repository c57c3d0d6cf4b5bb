"""Start and drive a reference node process (py2p or js2p) from a test.

What it is: a thin client of py2p_peer.py / js2p_peer.js. It starts the
process, reads its JSON event lines on a reader thread into a queue, sends
commands and waits for their replies or for given events, each wait bounded
by a timeout. What it is not: a node; see rawpeer.py for raw frames.

    with RefPeer.start("py2p", kind="mesh") as a, RefPeer.start("py2p") as b:
        b.call("connect", host="127.0.0.1", port=a.port)
        a.wait_event("connect")

Values in commands and events use the encoding of py2p_peer.py's header
(bytes <-> {"b": hex}); `B(b"...")` and `unb(v)` convert.
"""

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def B(data):
    """bytes (or str, UTF-8) -> the harness's JSON form of bytes."""
    if isinstance(data, str):
        data = data.encode()
    return {"b": bytes(data).hex()}


def unb(value):
    """Decode the harness's JSON form back to Python values (bytes for {"b":...})."""
    if isinstance(value, list):
        return [unb(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get("b"), str):
            return bytes.fromhex(value["b"])
        if len(value) == 1 and isinstance(value.get("m"), list):
            return {_h(unb(k)): unb(v) for k, v in value["m"]}
        return {k: unb(v) for k, v in value.items()}
    return value


def _h(v):
    return tuple(v) if isinstance(v, list) else v


class PeerError(Exception):
    """The reference node answered a command with an error, or died."""


def py2p_python():
    """The python that runs py2p_peer.py: $PY2P_PYTHON, else this interpreter."""
    return os.environ.get("PY2P_PYTHON", sys.executable)


def node_binary():
    return os.environ.get("NODE", shutil.which("node") or "node")


class RefPeer:
    def __init__(self, proc, impl, ready_timeout):
        self.proc = proc
        self.impl = impl
        self.events = queue.Queue()
        self.backlog = []  # events read by wait_* but not matched yet
        self.stderr_lines = []
        self._next_req = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        ready = self.wait_event("ready", timeout=ready_timeout)
        self.port = ready["port"]
        self.id = ready["id"]
        self.protocol_id = ready.get("protocol_id")

    @classmethod
    def start(cls, impl="py2p", kind="mesh", port=None, subnet=None, leasing=None, ready_timeout=15.0,
              max_outgoing=None):
        if impl == "py2p":
            argv = [py2p_python(), os.path.join(HERE, "py2p_peer.py")]
        elif impl == "js2p":
            argv = [node_binary(), os.path.join(HERE, "js2p_peer.js")]
        else:
            raise ValueError("impl must be py2p or js2p, not %r" % (impl,))
        argv += ["--kind", kind]
        if port:
            argv += ["--port", str(port)]
        if subnet is not None:
            argv += ["--subnet", subnet]
        if leasing is not None:
            argv += ["--leasing", str(int(leasing))]
        if max_outgoing is not None:
            if impl != "py2p":
                raise ValueError("max_outgoing is a py2p_peer.py option")
            argv += ["--max-outgoing", str(int(max_outgoing))]
        proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=HERE
        )
        try:
            return cls(proc, impl, ready_timeout)
        except Exception:
            proc.kill()
            proc.wait(5)
            raise

    def _read_stdout(self):
        for raw in self.proc.stdout:
            try:
                self.events.put(json.loads(raw))
            except ValueError:
                self.events.put({"event": "garbage", "line": raw.decode("utf-8", "replace")})
        self.events.put({"event": "exit"})

    def _read_stderr(self):
        for raw in self.proc.stderr:
            self.stderr_lines.append(raw.decode("utf-8", "replace"))

    # ---- commands ----------------------------------------------------

    def send_command(self, cmd, **fields):
        with self._lock:
            self._next_req += 1
            req = self._next_req
        fields.update(cmd=cmd, req=req)
        self.proc.stdin.write((json.dumps(fields) + "\n").encode())
        self.proc.stdin.flush()
        return req

    def call(self, cmd, reply_timeout=10.0, **fields):
        """Send a command and return its result; raise PeerError on an error reply."""
        req = self.send_command(cmd, **fields)
        reply = self.wait_event("reply", timeout=reply_timeout, where=lambda e: e.get("req") == req)
        if not reply.get("ok"):
            raise PeerError("%s %s: %s" % (self.impl, cmd, reply.get("error")))
        return reply.get("result")

    # ---- events ------------------------------------------------------

    def wait_event(self, name, timeout=10.0, where=None):
        """The first event called `name` (a name or a tuple of names) and
        matching `where`, waiting at most `timeout` seconds. Events passed over
        stay available to later waits."""
        names = (name,) if isinstance(name, str) else tuple(name)

        def matches(e):
            return e.get("event") in names and (where is None or where(e))

        for i, e in enumerate(self.backlog):
            if matches(e):
                return self.backlog.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("%s: no %r event within %.1fs; stderr tail: %s" % (
                    self.impl, name, timeout, "".join(self.stderr_lines[-5:])))
            try:
                e = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            if matches(e):
                return e
            if e.get("event") == "exit" and "exit" not in names:
                self.backlog.append(e)
                raise PeerError("%s exited while waiting for %r; stderr tail: %s" % (
                    self.impl, name, "".join(self.stderr_lines[-10:])))
            self.backlog.append(e)

    def drain(self):
        """Every event received so far, without waiting."""
        out = list(self.backlog)
        self.backlog.clear()
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out

    def wait_until(self, probe, timeout=10.0, interval=0.05):
        """Poll probe() until it returns a truthy value or the timeout passes."""
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met within %.1fs" % timeout)
            time.sleep(interval)

    # ---- lifecycle ---------------------------------------------------

    def stop(self, timeout=5.0):
        """Close stdin (the process then exits by itself); terminate, then kill,
        if it outlives the bound."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(2)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(2)
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
