"""Output files that are whole or untouched: never a half-written file in place of the old one.

Every file mmviz writes goes through write_atomic: the data goes to a new file beside the
target, is flushed and fsynced, and only then renamed over the target (os.replace is
atomic within a file system). A failure part-way (disk full, a file-size limit, Ctrl-C)
removes the new file and leaves the old one as it was.
"""

from __future__ import annotations

import os
import secrets
import stat


def write_atomic(path, data: bytes) -> int:
    """Replace path's contents with data, all at once; returns the number of bytes written.

    A new file gets the usual permissions (0666 less the umask); an existing one keeps its
    mode. A symbolic link is followed: its target is replaced, the link stays. A device or
    a pipe (-o /dev/stdout) has no old contents to keep and is written straight through.
    """
    path = os.fspath(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        with open(path, "wb") as f:
            f.write(data)
        return len(data)
    mode = stat.S_IMODE(st.st_mode) if st is not None else None
    target = os.path.realpath(path)
    folder, name = os.path.split(target)
    tmp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)
    return len(data)


def _fsync_dir(folder):
    """Make the rename itself durable (best effort: not every system can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
