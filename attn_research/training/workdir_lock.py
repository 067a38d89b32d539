"""One training per workdir: an exclusive fcntl.flock on <workdir>/.lock, held while the training runs.

The kernel releases the lock when its holder exits, however it exits (a crash, SIGKILL), so a stale lock
never blocks a rerun. The file holds the holder's pid, for the error message.
"""

from __future__ import annotations

import fcntl
import os

LOCK_FILE = ".lock"


class WorkdirLockedError(RuntimeError):
    """Another process is training in the same workdir."""


class WorkdirLock:
    """Context manager: `with WorkdirLock(workdir): ...` holds <workdir>/.lock (the folder is created).

    Raises WorkdirLockedError at once (one line naming the workdir and the holder's pid) when another
    process holds it; never waits.
    """

    def __init__(self, workdir: str):
        self.path = os.path.join(workdir, LOCK_FILE)
        self._fd: int | None = None

    def acquire(self) -> None:
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise WorkdirLockedError(
                f"{os.path.dirname(self.path)} is in use by another training (pid {holder}): "
                "wait for it to end, or stop it, before rerunning"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the last descriptor releases the flock
            self._fd = None

    def __enter__(self) -> WorkdirLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()
