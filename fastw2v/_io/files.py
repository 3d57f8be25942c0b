"""Files on disk: atomic writes, and reading files that may be compressed.

Every file fastw2v writes goes through :func:`atomic_write`, so an interrupted save never
destroys the previous file. Files ending in ``.gz``, ``.bz2``, ``.xz`` or ``.lzma`` are
compressed and decompressed transparently; :func:`open_for_reading` and :func:`is_compressed`
give the rest of fastw2v the same rule.

Examples
--------
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "hello.txt.gz")
>>> with atomic_write_compressed(path) as handle:
...     _ = handle.write(b"hello")
>>> with open_for_reading(path) as handle:
...     handle.read()
b'hello'
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import lzma
import os
import secrets
import stat
import zlib
from collections.abc import Iterator
from typing import IO, Any, BinaryIO, Union

__all__ = [
    "DECOMPRESSION_ERRORS",
    "PathLike",
    "atomic_write",
    "atomic_write_compressed",
    "is_compressed",
    "open_for_reading",
]

PathLike = Union[str, "os.PathLike[str]"]

# Decompressing openers by file extension. lzma.open detects the container, so it reads both
# .xz files and legacy .lzma ("LZMA alone") files.
_COMPRESSED_SUFFIXES = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open, ".lzma": lzma.open}
# What a damaged compressed stream raises while being read.
DECOMPRESSION_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)


# --------------------------------------------------------------------------------------------
# Atomic writes


@contextlib.contextmanager
def atomic_write(path: PathLike, mode: str = "wb") -> Iterator[IO[Any]]:
    """Write a file so that it is either completely written or not changed at all.

    The data go to a temporary file in the same directory. When the ``with`` block ends
    normally the temporary file is flushed, ``fsync``-ed and renamed onto `path` (and the
    directory is ``fsync``-ed where the platform allows it). When the block raises anything,
    ``KeyboardInterrupt`` included, the temporary file is removed and an existing `path` is left
    untouched. On Linux the temporary file has no name until it is complete, so even a process
    killed outright leaves nothing behind; elsewhere it may leave a hidden
    ``.<name>.<random>.tmp`` file, but never a half-written `path`.

    Replacing the file instead of overwriting it also keeps memory-mapped readers of the old
    file valid.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file.
    mode : {'wb', 'w'}
        Binary, or text encoded as UTF-8.

    Yields
    ------
    file object
        The temporary file to write to.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "hello.txt")
    >>> with atomic_write(path, "w") as handle:
    ...     _ = handle.write("hello")
    >>> open(path).read()
    'hello'
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}")
    target = os.path.abspath(os.fspath(path))
    directory, name = os.path.split(target)
    fd, temp_path = _open_temp_file(directory, name)
    try:
        text_options = {"encoding": "utf-8"} if mode == "w" else {}
        with os.fdopen(fd, mode, **text_options) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
            if temp_path is None:
                temp_path = _name_anonymous_file(handle.fileno(), directory, name)
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temp_path, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(temp_path, target)
    except BaseException:
        if temp_path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_path)
        raise
    _fsync_directory(directory)


def _open_temp_file(directory: str, name: str) -> tuple[int, str | None]:
    """A new file in `directory`: anonymous (path None) where the system supports it."""
    # Permissions: mode 0o666 lets the umask decide, as for an ordinary new file.
    if hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            return os.open(directory, os.O_TMPFILE | os.O_WRONLY, 0o666), None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temp_path = os.path.join(directory, _temp_name(name))
        try:
            return os.open(temp_path, flags, 0o666), temp_path
        except FileExistsError:
            continue


def _name_anonymous_file(fd: int, directory: str, name: str) -> str:
    directory_fd = os.open(directory, os.O_RDONLY)
    try:
        while True:
            temp_name = _temp_name(name)
            try:
                # Passing a directory fd makes Python call linkat(AT_SYMLINK_FOLLOW), which
                # links the open file itself rather than the /proc symlink to it.
                os.link(f"/proc/self/fd/{fd}", temp_name, dst_dir_fd=directory_fd)
                return os.path.join(directory, temp_name)
            except FileExistsError:
                continue
    finally:
        os.close(directory_fd)


def _temp_name(name: str) -> str:
    return f".{name[:200]}.{secrets.token_hex(6)}.tmp"


def _fsync_directory(directory: str) -> None:
    # Makes the rename durable. Windows and some filesystems cannot open or sync a directory;
    # the file itself is already synced, so that is not an error.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------------------
# Compression by file name


def _compression_suffix(path: PathLike) -> str:
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    return suffix if suffix in _COMPRESSED_SUFFIXES else ""


def is_compressed(path: PathLike) -> bool:
    """Whether :func:`open_for_reading` decompresses `path`, judging by its extension alone.

    ``.gz``, ``.bz2``, ``.xz`` and ``.lzma`` (in any letter case) mean compressed; the file's
    contents are not looked at, and the file need not exist.

    Parameters
    ----------
    path : str or os.PathLike
        File name.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_compressed("corpus.txt.xz"), is_compressed("corpus.TXT.GZ"), is_compressed("corpus.txt")
    (True, True, False)
    """
    return bool(_compression_suffix(path))


def open_for_reading(path: PathLike) -> BinaryIO:
    """Open a file for binary reading, decompressing ``.gz``, ``.bz2``, ``.xz`` and ``.lzma`` files.

    Parameters
    ----------
    path : str or os.PathLike
        File to open; its extension decides the decompression.

    Returns
    -------
    binary file object

    Examples
    --------
    >>> import gzip, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "words.txt.gz")
    >>> with gzip.open(path, "wb") as handle:
    ...     _ = handle.write(b"hello world")
    >>> with open_for_reading(path) as handle:
    ...     handle.read()
    b'hello world'
    """
    suffix = _compression_suffix(path)
    if suffix:
        return _COMPRESSED_SUFFIXES[suffix](path, "rb")
    return open(path, "rb")


@contextlib.contextmanager
def atomic_write_compressed(path: PathLike) -> Iterator[BinaryIO]:
    """Atomic binary write, compressed according to the extension of `path`."""
    suffix = _compression_suffix(path)
    with atomic_write(path, "wb") as raw:
        if suffix == ".gz":
            # The name stored in the gzip header is the final one, not the temporary file's.
            with gzip.GzipFile(filename=os.fspath(path), mode="wb", fileobj=raw) as stream:
                yield stream
        elif suffix == ".bz2":
            with bz2.BZ2File(raw, "wb") as stream:
                yield stream
        elif suffix == ".xz":
            with lzma.LZMAFile(raw, "wb") as stream:
                yield stream
        elif suffix == ".lzma":
            with lzma.LZMAFile(raw, "wb", format=lzma.FORMAT_ALONE) as stream:
                yield stream
        else:
            yield raw

