"""examples/chat.py run as a person would: two processes, lines typed in one appear in the other."""

import os
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mesh_helpers import WAIT

CHAT = Path(__file__).resolve().parents[3] / "examples" / "chat.py"


class Chat:
    """A chat.py process with its output read on a thread, so that waits are bounded."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(CHAT), "--port", "0", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
        self.lines: "queue.Queue[str]" = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, pattern: str) -> "re.Match[str]":
        while True:
            try:
                line = self.lines.get(timeout=WAIT)
            except queue.Empty:
                raise AssertionError(f"chat never printed {pattern!r}; it printed {self.seen!r}")
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found

    def type(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def finish(self) -> int:
        if self.proc.poll() is None and self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            return self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


@pytest.fixture
def chats():
    made = []

    def start(*args):
        chat = Chat(*args)
        made.append(chat)
        return chat

    yield start
    for chat in made:
        if chat.proc.poll() is None:
            chat.proc.kill()
            chat.proc.wait()


def test_two_chats_talk(chats):
    first = chats()
    first_short, port = first.expect(r"you are (\S+), listening on 127\.0\.0\.1:(\d+)").groups()
    second = chats("--connect", f"127.0.0.1:{port}")
    second_short = second.expect(r"you are (\S+),").group(1)
    first.expect(rf"\* {re.escape(second_short)} joined")
    second.expect(r"joined")

    second.type("hello from the second terminal")
    first.expect(rf"\[{re.escape(second_short)}\] hello from the second terminal")
    first.type("and back")
    second.expect(rf"\[{re.escape(first_short)}\] and back")

    first.type("/peers")
    first.expect(rf"\* {re.escape(second_short)} .*they dialled")
    first.type("/quit")
    assert first.finish() == 0
    first.expect(r"bye")
    # The second one sees the first leave, then ends at end of input.
    second.expect(r"left")
    assert second.finish() == 0
