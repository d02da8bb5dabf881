"""Real file systems that are full or read-only, for the database fault tests.

As root with mount permission (CI containers, this machine) a size-limited tmpfs is mounted at a
folder under the test's tmp_path: the disk really fills and a remount really makes it read-only.
Elsewhere :func:`tmpfs` yields ``False`` and the tests use the closest stand-ins: a file-size limit
(``RLIMIT_FSIZE``) at the files' current sizes for a full disk (a write past it fails with EFBIG,
which SQLite reports as SQLITE_FULL, like ENOSPC), and file modes for read-only (which an
unprivileged user cannot override).
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path


def _mount(*args: str) -> bool:
    result = subprocess.run(["mount", *args], capture_output=True, check=False)
    return result.returncode == 0


@contextlib.contextmanager
def tmpfs(folder: Path, size: str = "1m") -> Iterator[bool]:
    """Mount a tmpfs of ``size`` at ``folder`` (created); yield whether it could be mounted."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = os.geteuid() == 0 and _mount(
        "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)
    )
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], check=False)


def make_readonly(folder: Path, mounted: bool) -> None:
    """Make ``folder`` and what it holds read-only: a remount, or file modes when not root."""
    if mounted:
        assert _mount("-o", "remount,ro", str(folder)), "remounting the tmpfs read-only failed"
        return
    for path in folder.iterdir():
        path.chmod(0o444)
    folder.chmod(0o555)


def fill(folder: Path) -> Path:
    """Fill the file system holding ``folder`` to the last byte; return the filler to delete."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for size in (65536, 4096, 1):
            with contextlib.suppress(OSError):  # ENOSPC: full at this block size
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return filler


@contextlib.contextmanager
def no_growth(folder: Path) -> Iterator[None]:
    """Within the block, no file of this process may grow past the largest one in ``folder``."""
    limit = max(path.stat().st_size for path in folder.iterdir())
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
