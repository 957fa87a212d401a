"""Writing files so that nothing already saved is lost or half-overwritten."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import ClassVar

TEMP_SUFFIX = ".tmp"


def writable_directory(directory: str | os.PathLike[str], name: str = "out_dir") -> Path:
    """Create ``directory`` if needed and check it is writable, before any work is done in it;
    PermissionError naming the parameter (``name``) and the path otherwise."""
    path = Path(directory)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PermissionError(f"{name} {str(path)!r} cannot be created ({error.strerror})") from None
    if not os.access(path, os.W_OK):
        raise PermissionError(f"{name} {str(path)!r} is not writable")
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename it over ``path``.

    A crash leaves either the old file or the new one, never a mix (and possibly a stale
    ``.NAME.*.tmp`` beside it, which :func:`remove_stale_temporaries` clears). The file gets the
    permissions an ordinary ``open`` would give it (0666 less the umask), not mkstemp's 0600.
    Raises PermissionError, FileNotFoundError or IsADirectoryError naming the path.
    """
    target = Path(path)
    if not target.name:
        raise ValueError(f"path={str(path)!r} names no file")
    if target.is_dir():
        raise IsADirectoryError(f"{str(target)!r} is a directory; expected a file path")
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"directory {str(directory)!r} does not exist (writing {str(target)!r})")
    if not os.access(directory, os.W_OK):
        raise PermissionError(f"directory {str(directory)!r} is not writable (writing {str(target)!r})")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=directory)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_temporaries(directory: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files that writes killed half-way left in ``directory`` (call it only
    while holding the directory's lock: a running writer's temporary file looks the same)."""
    removed = []
    for stale in Path(directory).glob(f".*{TEMP_SUFFIX}"):
        if stale.is_file():
            stale.unlink(missing_ok=True)
            removed.append(stale)
    return removed


class DirectoryLock:
    """An exclusive lock on a run directory, so that two processes never write one run.

    ``fcntl.flock`` on ``DIR/.lock``: the kernel releases it when the holder exits, however it
    exits (``kill -9`` included), so a crashed run never leaves the directory locked. Acquiring a
    lock another process holds raises BlockingIOError naming the directory and the holder's pid.

    Re-entrant within the thread that holds it: the CLI takes the lock before it says anything
    about a run (so that a refusal is all it prints), and ``Agent.learn`` inside it takes the
    same lock again, which must not refuse its own caller. Another thread of the same process is
    refused, as another process is.
    """

    # the locks this process holds: resolved directory -> the thread holding it
    _owners: ClassVar[dict[Path, int]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.path = Path(directory) / ".lock"
        self._key = Path(directory).resolve()
        self._fd: int | None = None
        self._reentries = 0  # acquisitions of a lock this thread already held

    def acquire(self) -> None:
        with self._guard:
            owner = self._owners.get(self._key)
            if owner is None:
                self._fd = self._lock_file()
                self._owners[self._key] = threading.get_ident()
            elif owner == threading.get_ident():
                self._reentries += 1
            else:
                raise BlockingIOError(
                    f"{str(self.path.parent)!r} is in use by another thread of this morl process "
                    f"(pid {os.getpid()}); wait for it to finish or use another directory"
                )

    def _lock_file(self) -> int:
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise BlockingIOError(
                f"{str(self.path.parent)!r} is in use by another morl process (pid {holder}); "
                "wait for it to finish or use another directory"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        return fd

    @staticmethod
    def holder(directory: str | os.PathLike[str]) -> int | None:
        """The pid of the process holding ``directory``'s lock, or None if nobody holds it (a
        run in progress, as against one that was interrupted). Takes no lock that lasts."""
        import fcntl

        path = Path(directory) / ".lock"
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 32, 0).decode(errors="replace").strip()
            return int(text) if text.isdigit() else -1
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def release(self) -> None:
        with self._guard:
            if self._reentries > 0:  # the first acquisition keeps the lock
                self._reentries -= 1
            elif self._fd is not None:
                import fcntl

                del self._owners[self._key]
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> DirectoryLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
