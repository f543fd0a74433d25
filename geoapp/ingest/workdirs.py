"""Working directories that are removed even when the process using them is killed.

Each directory holds a lock file that its owner keeps locked (flock) while it works. The kernel
drops the lock when the owner exits for any reason, kill -9 included, so a sweep can tell a
directory in use from an abandoned one without guessing from ages or process ids.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".owner.lock"
# Directories being set up are named like this until their lock is taken (see `create`).
PARTIAL_PREFIX = ".partial-"
# A directory still partial after this long lost its creator between two system calls.
PARTIAL_GRACE_S = 60.0


class LockedDir:
    """A directory whose lock file this process holds until `release`."""

    def __init__(self, path: Path, lock_fd: int) -> None:
        self.path = path
        self._lock_fd: int | None = lock_fd

    def release(self, remove: bool = True) -> None:
        """Remove the directory (by default) and drop its lock."""
        if remove:
            shutil.rmtree(self.path, ignore_errors=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def create(parent: Path, prefix: str) -> LockedDir:
    """A new locked directory `prefix<random>` under `parent`."""
    parent.mkdir(parents=True, exist_ok=True)
    name = f"{prefix}{uuid.uuid4().hex}"
    # Built under a hidden name and renamed once locked, so a sweep never sees it unlocked.
    partial = parent / f"{PARTIAL_PREFIX}{name}"
    partial.mkdir(mode=0o700)
    fd = os.open(partial / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    final = parent / name
    partial.rename(final)
    return LockedDir(final, fd)


@contextmanager
def locked_dir(parent: Path, prefix: str) -> Iterator[Path]:
    """A locked working directory for the duration of a block, removed after it."""
    directory = create(parent, prefix)
    try:
        yield directory.path
    finally:
        directory.release()


def is_abandoned(directory: Path) -> bool:
    """Whether no live process holds the directory's lock."""
    try:
        fd = os.open(directory / LOCK_NAME, os.O_RDWR)
    except FileNotFoundError:
        # No lock file: not one of ours, or removed by its owner a moment ago.
        return not directory.name.startswith(PARTIAL_PREFIX) and directory.exists()
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def remove_abandoned(parent: Path, prefix: str) -> list[Path]:
    """Remove the directories `prefix*` under `parent` whose owner has gone; those removed."""
    if not parent.is_dir():
        return []
    removed = []
    for entry in parent.iterdir():
        if not entry.is_dir():
            continue
        if entry.name.startswith(prefix) and is_abandoned(entry):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
        elif entry.name.startswith(PARTIAL_PREFIX + prefix) and _older_than(entry,
                                                                             PARTIAL_GRACE_S):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _older_than(path: Path, seconds: float) -> bool:
    """Whether a path was last changed more than `seconds` ago (False once it is gone)."""
    try:
        return time.time() - path.stat().st_mtime > seconds
    except FileNotFoundError:
        return False
