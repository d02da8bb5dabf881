"""Run a command in a real pseudo-terminal, type into it and read its screen output.

Used by process tests (kill -9 mid-session) and benchmarks (time to first frame), where the
chat must run as the real `utta` process a trainee starts, not inside the test's event loop.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import struct
import termios
import threading
import time
from collections.abc import Callable, Sequence

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[PX^_].*?\x1b\\|\x1b.")


def plain(text: str) -> str:
    """Terminal output without escape sequences."""
    return _ANSI.sub("", text)


class Terminal:
    def __init__(
        self, argv: Sequence[str], env: dict[str, str], *, columns: int = 120, rows: int = 40
    ) -> None:
        self.started = time.perf_counter()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child: become the program
            os.execvpe(argv[0], list(argv), env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self._chunks: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.1)
                if not ready:
                    if self.exited():
                        return
                    continue
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self._chunks.append(data.decode("utf-8", "replace"))

    @property
    def output(self) -> str:
        with self._lock:
            return plain("".join(self._chunks))

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def wait_for(self, predicate: Callable[[str], bool] | str, timeout: float = 30.0) -> float:
        """Seconds since start when ``predicate(output)`` first held (or the text appeared)."""
        check = (lambda out: predicate in out) if isinstance(predicate, str) else predicate
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if check(self.output):
                return time.perf_counter() - self.started
            if self.exited():
                break
            time.sleep(0.02)
        raise TimeoutError(f"not seen within {timeout}s; last output:\n{self.output[-2000:]}")

    def exited(self) -> bool:
        try:
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return True
        if pid == self.pid:
            self.pid = -1
            return True
        return self.pid == -1

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.pid > 0:
            try:
                os.kill(self.pid, sig)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.pid = -1
        with contextlib.suppress(OSError):
            os.close(self.fd)
