"""Reading files a user names: regular files only, and never more bytes than a cap.

Every path ccaic opens on a user's say-so (the .ccai files and their imports, `file(...)` id
lists, groups files, Polis exports, prompt, few-shot and evaluation files) goes through
`read_user_bytes`. `/dev/zero`, `/dev/urandom`, a FIFO or a symlink to one would otherwise
read until memory runs out or block forever; a huge regular file would be read whole before
anything could say it is wrong. docs/limits.md lists the caps and how to change them.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Default cap on a .ccai file (a root file or an import): far above any real spec.
MAX_SOURCE_BYTES = 16 * 1024 * 1024
#: Default cap on any other file a spec names (votes, id lists, prompts, evaluation data).
MAX_DATA_BYTES = 4 * 1024 * 1024 * 1024
SOURCE_ENV = "CCAIC_MAX_SOURCE_BYTES"
DATA_ENV = "CCAIC_MAX_FILE_BYTES"

NOT_REGULAR = "CCAI108"
TOO_LARGE = "CCAI109"
UNUSABLE = "CCAI113"

_CHUNK = 1 << 20

#: Open `recording()` blocks: real path -> sha256 of the bytes read there.
_recorders: list[dict[str, str]] = []


@contextmanager
def recording() -> Iterator[dict[str, str]]:
    """Collect every file read through `read_user_bytes` inside the block, with the sha256 of
    the bytes read, so a cached stage knows exactly which inputs its result came from."""
    reads: dict[str, str] = {}
    _recorders.append(reads)
    try:
        yield reads
    finally:
        _recorders.remove(reads)


class FileRefused(OSError):
    """A path ccaic will not read: not a regular file, or over its size cap.

    An OSError so that code catching read failures also catches this; `code` and `hint`
    say which diagnostic to give."""

    def __init__(self, code: str, reason: str, hint: str):
        super().__init__(errno.EINVAL, reason)
        self.code = code
        self.hint = hint


#: What to do about an OSError on a path the user named, by errno.
_OS_HINTS = {
    errno.ENAMETOOLONG: "a file or folder name is limited to 255 bytes and a whole path to "
                        "4,096; shorten the name",
    errno.ELOOP: "the path goes round a loop of symlinks; check where each link points "
                 "(`ls -l`)",
    errno.EACCES: "ccaic may not read it; check the permissions of the file and of the folders "
                  "above it (`ls -l`)",
    errno.EPERM: "ccaic may not read it; check the permissions of the file and of the folders "
                 "above it (`ls -l`)",
    errno.ENOTDIR: "a part of the path that should be a folder is a file; check the path",
}


def unusable(exc: OSError) -> FileRefused:
    """An OSError on a user-named path that is not "missing" or "a folder" (a name too long,
    a symlink loop, no permission, a file used as a folder, ...) as a coded refusal, so that
    it is a CCAI113 diagnostic at the path and never a crash."""
    if isinstance(exc, FileRefused):
        return exc
    hint = _OS_HINTS.get(exc.errno or 0, "check the path and the file")
    return FileRefused(UNUSABLE, exc.strerror or str(exc), hint)


def path_kind(path: str | Path) -> str:
    """"file", "dir", "other" (device, FIFO, ...) or "missing" for a user-named path;
    Path.is_file() raises on a name too long, so every other OSError is a FileRefused."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        raise unusable(exc) from None
    except ValueError:  # an embedded NUL byte
        return "missing"
    if stat.S_ISREG(mode):
        return "file"
    return "dir" if stat.S_ISDIR(mode) else "other"


def relative_posix(path: str, base: Path) -> str:
    """`path` relative to `base` with POSIX separators, as artifacts record a user-named path
    (no absolute path of this machine); just its name when it is on another drive."""
    try:
        rel = os.path.relpath(path, base)
    except ValueError:  # another drive on Windows
        rel = Path(path).name
    return Path(rel).as_posix()


def resolved(path: str | Path) -> Path:
    """`Path(path).resolve()`, or the absolute path where that fails (a symlink loop is a
    RuntimeError in Python 3.11, a name too long an OSError): opening it later says why."""
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError, ValueError):
        return Path(os.path.abspath(path))


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def size_text(n: int) -> str:
    """Bytes in the largest whole-ish unit, e.g. 16 MiB, 1.5 GiB."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if value.is_integer() else f"{value:.1f} {unit}"
    return f"{n} bytes"


def limit_from_env(name: str, default: int) -> int:
    """A cap from the environment (a whole number of bytes), else the default.

    A value that is not a positive whole number is refused, not ignored: a typo must not
    silently restore the default."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    text = raw.strip().replace("_", "")
    # isascii: str.isdigit() accepts '²', which int() refuses
    if not (text.isascii() and text.isdigit()) or int(text) <= 0:
        raise FileRefused(TOO_LARGE, f"${name} is {raw!r}, not a number of bytes",
                          f"set {name} to a positive whole number of bytes, e.g. "
                          f"{name}={default}, or unset it")
    return int(text)


def source_limit() -> int:
    return limit_from_env(SOURCE_ENV, MAX_SOURCE_BYTES)


def data_limit() -> int:
    return limit_from_env(DATA_ENV, MAX_DATA_BYTES)


def _too_large(size: str, limit: int, env: str) -> FileRefused:
    return FileRefused(TOO_LARGE, f"it is {size}, over the {size_text(limit)} limit",
                       f"check that this is the file you meant; to raise the limit, set {env} "
                       "(see docs/limits.md)")


#: Kernel pseudo-file systems. Their files pass for regular ones, but hold the process's own
#: state (/proc/self/environ: its secrets), never data: a `votes.csv` linked there by a shared
#: repository had its "header" printed in a CI log.
_KERNEL_ROOTS = ("/proc/", "/sys/")


def _kernel_file(path: str | Path) -> bool:
    try:
        return os.path.realpath(path).startswith(_KERNEL_ROOTS)
    except (OSError, ValueError):
        return False


def read_user_bytes(path: str | Path, limit: int, env: str = DATA_ENV) -> bytes:
    """The bytes of a regular file of at most `limit` bytes.

    Opened non-blocking and checked on the open descriptor, so a FIFO neither hangs the open
    nor slips in between a check and the read; the read itself stops at `limit` + 1 bytes, as
    /proc files report a size of 0."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except (FileNotFoundError, IsADirectoryError):
        raise
    except OSError as exc:
        raise unusable(exc) from None
    try:
        info = os.fstat(fd)
        mode = info.st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(mode):
            raise FileRefused(NOT_REGULAR, f"it is {_kind(mode)}, not a regular file",
                              "name a regular file; devices, FIFOs and sockets are not read")
        if _kernel_file(path):
            raise FileRefused(NOT_REGULAR, "it is a kernel file (under /proc or /sys), not a "
                              "regular file", "name a regular file; /proc and /sys are not read")
        if info.st_size > limit:
            raise _too_large(size_text(info.st_size), limit, env)
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise _too_large(f"over {size_text(limit)}", limit, env)
        data = b"".join(chunks)
        if _recorders:
            digest = hashlib.sha256(data).hexdigest()
            for reads in _recorders:
                reads[os.path.realpath(path)] = digest
        return data
    finally:
        os.close(fd)


def read_source_bytes(path: str | Path) -> bytes:
    """A .ccai file's bytes, under the source cap."""
    return read_user_bytes(path, source_limit(), SOURCE_ENV)


def read_data_bytes(path: str | Path) -> bytes:
    """A data file's bytes (votes, ids, prompts, evaluation data), under the data cap."""
    return read_user_bytes(path, data_limit(), DATA_ENV)
