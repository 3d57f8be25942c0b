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
import errno
import gzip
import io
import lzma
import os
import secrets
import stat
import sys
import zlib
from collections.abc import Callable, Iterator
from typing import IO, Any, BinaryIO, Union, cast

from fastw2v.errors import TruncatedFileError

__all__ = [
    "DECOMPRESSION_ERRORS",
    "PathLike",
    "atomic_write",
    "atomic_write_compressed",
    "check_writable",
    "file_kind",
    "is_compressed",
    "named_decode_error",
    "open_for_reading",
    "output_target",
    "require_regular_file",
]

PathLike = Union[str, "os.PathLike[str]"]

# Decompressing readers by file extension (each opens for reading by default). LZMAFile detects
# the container when reading, so it reads both .xz files and legacy .lzma ("LZMA alone") files.
_COMPRESSED_SUFFIXES: dict[str, Callable[[PathLike], io.BufferedIOBase]] = {
    ".gz": gzip.GzipFile,
    ".bz2": bz2.BZ2File,
    ".xz": lzma.LZMAFile,
    ".lzma": lzma.LZMAFile,
}
_FORMAT_NAMES = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".lzma": "lzma"}
# What a damaged compressed stream raises while being read.
DECOMPRESSION_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)
# Buffer over a decompressing stream: large enough that its Python-level refills are rare.
_READ_BUFFER = 1 << 16


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
    ``.<name>.<random>.tmp`` file, but never a half-written `path`. On Linux the kernel is asked,
    every 32 MiB, to start writing the data to the disk, so that the closing ``fsync`` of a
    large file waits for its last megabytes rather than for all of it.

    Replacing the file instead of overwriting it also keeps memory-mapped readers of the old
    file valid. What may be saved over follows :func:`output_target`: a symbolic link is written
    through (its target is replaced, the link stays), and a directory, a device, a FIFO, a socket
    or a read-only file is refused before anything is written. Errors name `path` as given, never
    the temporary file.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        Destination file.
    mode : {'wb', 'w'}
        Binary, or text encoded as UTF-8.

    Yields
    ------
    file object
        The temporary file to write to.

    Raises
    ------
    OSError
        Before the block runs, for a destination that cannot be saved over (see
        :func:`output_target`) or a directory where no file can be created; after it, when the
        data cannot be flushed or the file renamed into place.

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
    given = _display_name(path)
    target = output_target(path)
    directory, name = os.path.split(target)
    try:
        fd, temp_path = _open_temp_file(directory, name)
    except OSError as error:
        raise _naming(error, given) from None
    try:
        raw = _WritebackFile(fd, "wb")
        buffered = io.BufferedWriter(raw)
        opened = buffered if mode == "wb" else io.TextIOWrapper(buffered, encoding="utf-8")
        with opened as handle:
            yield handle
            try:
                handle.flush()
                os.fsync(handle.fileno())
                if temp_path is None:
                    temp_path = _name_anonymous_file(handle.fileno(), directory, name)
            except OSError as error:
                raise _naming(error, given) from None
        try:
            with contextlib.suppress(FileNotFoundError):
                os.chmod(temp_path, stat.S_IMODE(os.stat(target).st_mode))
            os.replace(temp_path, target)
        except OSError as error:
            raise _naming(error, given) from None
    except BaseException:
        if temp_path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_path)
        raise
    _fsync_directory(directory)


def output_target(path: PathLike) -> str:
    """The file that saving to `path` replaces, after checking that it may be replaced.

    The rule every fastw2v writer follows: a symbolic link is followed to the file it leads to
    (which need not exist yet), and that file is the one replaced, so the link survives. An
    existing destination must be a regular file that is writable, judged by its permission bits
    as well as by :func:`os.access`, so that even a process running as root keeps its hands off
    a read-only (``chmod a-w``) file, as it does off ``/dev/null``.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The destination as the user gave it.

    Returns
    -------
    str
        The absolute path, links resolved, of the file to replace.

    Raises
    ------
    IsADirectoryError
        When the destination is a directory.
    PermissionError
        When it is a read-only file.
    OSError
        When it is a device, a FIFO or a socket, or its directory does not exist; every error
        names `path` as given.

    Examples
    --------
    >>> try:
    ...     output_target("/dev/null")
    ... except OSError as error:
    ...     print(error.filename, "-", error.strerror.split(";")[0])
    /dev/null - is a character device, not a regular file
    """
    given = _display_name(path)
    target = os.path.realpath(given)
    try:
        status = os.stat(target)
    except FileNotFoundError:
        if not os.path.isdir(os.path.dirname(target)):
            raise FileNotFoundError(
                errno.ENOENT, "no such directory to save the file in", given
            ) from None
        return target
    except OSError as error:
        raise _naming(error, given) from None
    if stat.S_ISDIR(status.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a file", given)
    if not stat.S_ISREG(status.st_mode):
        raise OSError(
            errno.EINVAL,
            f"is {file_kind(status.st_mode)}, not a regular file; fastw2v saves only to "
            f"regular files",
            given,
        )
    if not status.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(
        target, os.W_OK
    ):
        raise PermissionError(
            errno.EACCES, "Permission denied: the file is read-only; fastw2v will not replace it",
            given,
        )
    return target


def check_writable(path: PathLike) -> None:
    """Fail now if saving to `path` would fail: see :func:`output_target`, and try the directory.

    A file is created in the destination's directory and removed again, so an unwritable or
    read-only location is found before hours of work go into what would be saved there.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The destination as the user gave it.

    Raises
    ------
    OSError
        As :func:`atomic_write` would, naming `path`.
    """
    given = _display_name(path)
    directory, name = os.path.split(output_target(path))
    try:
        fd, temp_path = _open_temp_file(directory, name)
    except OSError as error:
        raise _naming(error, given) from None
    os.close(fd)
    if temp_path is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_path)


def require_regular_file(path: PathLike, what: str) -> None:
    """Refuse, before opening it, an input that is not a regular file.

    For readers of formats that no pipe or device can hold: opening a FIFO would block until
    some writer comes, and reading ``/dev/zero`` would never end.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The input as the user gave it.
    what : str
        What the file should be, for the message (``"a fastw2v archive"``).

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        As ``open`` would.
    ValueError
        For a device, FIFO or socket, naming `path` and saying what it is.
    """
    given = _display_name(path)
    try:
        mode = os.stat(given).st_mode
    except OSError as error:
        raise _naming(error, given) from None
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a file", given)
    if not stat.S_ISREG(mode):
        raise ValueError(f"{given}: is {file_kind(mode)}, not {what}")


def _display_name(path: PathLike) -> str:
    # Bytes names are decoded as the file system does, so messages and temporary names are text.
    return os.fsdecode(os.fspath(path))


def _naming(error: OSError, path: str) -> OSError:
    """The same error about `path`, the user's name, instead of whatever name it carried."""
    if error.errno is None:
        return error
    renamed = OSError(error.errno, error.strerror, path)
    # OSError(errno, ...) picks the subclass of the errno; keep the original class if it differs.
    return renamed if isinstance(renamed, type(error)) else type(error)(*renamed.args[:2], path)


def file_kind(mode: int) -> str:
    """What a file of `mode` (an ``st_mode``) is, in words, for messages.

    Examples
    --------
    >>> import os
    >>> file_kind(os.stat("/dev/null").st_mode)
    'a character device'
    """
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISREG(mode):
        return "a regular file"
    return "not a regular file"


def _open_temp_file(directory: str, name: str) -> tuple[int, str | None]:
    """A new file in `directory`: anonymous (path None) where the system supports it."""
    # Permissions: mode 0o666 lets the umask decide, as for an ordinary new file.
    if hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            return os.open(directory, os.O_TMPFILE | os.O_WRONLY, 0o666), None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temp_path = os.path.join(directory, _temp_name(directory, name))
        try:
            return os.open(temp_path, flags, 0o666), temp_path
        except FileExistsError:
            continue


def _name_anonymous_file(fd: int, directory: str, name: str) -> str:
    directory_fd = os.open(directory, os.O_RDONLY)
    try:
        while True:
            temp_name = _temp_name(directory, name)
            try:
                # Passing a directory fd makes Python call linkat(AT_SYMLINK_FOLLOW), which
                # links the open file itself rather than the /proc symlink to it.
                os.link(f"/proc/self/fd/{fd}", temp_name, dst_dir_fd=directory_fd)
                return os.path.join(directory, temp_name)
            except FileExistsError:
                continue
    finally:
        os.close(directory_fd)


def _temp_name(directory: str, name: str) -> str:
    """A hidden name next to `name` that fits the file system's limit on name length.

    The limit counts bytes, so `name` is shortened as encoded; a cut inside a multi-byte
    character is harmless, since the name is only ever used as the file system's bytes.
    """
    suffix = f".{secrets.token_hex(6)}.tmp".encode()
    try:
        name_max = os.pathconf(directory, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):
        name_max = 255
    kept = os.fsencode(name)[: max(1, min(name_max, 255) - len(suffix) - 1)]
    return os.fsdecode(b"." + kept + suffix)


# Bytes written between two requests that the kernel start writing the file to the disk.
_WRITEBACK_BYTES = 32 << 20
# linux/fs.h: start writing out the dirty pages of the range that are not being written yet.
_SYNC_FILE_RANGE_WRITE = 2
_sync_file_range: Any = None


class _WritebackFile(io.FileIO):
    """A file being written that asks the kernel, every `_WRITEBACK_BYTES`, to start writing
    what it holds to the disk.

    Without it the kernel keeps the whole file in memory until the closing ``fsync``, which then
    waits for all of it: a gigabyte of vectors is written to the page cache, and only then to
    the disk. Started early, the disk writes while the data are still being formatted, and the
    ``fsync`` waits for the last few megabytes only. Linux only (``sync_file_range``); elsewhere
    the file is an ordinary one.
    """

    _unsubmitted = 0

    def write(self, data: Any) -> int:
        written = super().write(data)
        self._unsubmitted += written
        if self._unsubmitted >= _WRITEBACK_BYTES:
            self._unsubmitted = 0
            _start_writeback(self.fileno())
        return written


def _start_writeback(fd: int) -> None:
    """Ask the kernel to start writing the dirty pages of `fd` to the disk, without waiting."""
    global _sync_file_range
    if _sync_file_range is None:
        _sync_file_range = False
        if sys.platform.startswith("linux"):
            import ctypes

            try:
                function = ctypes.CDLL(None, use_errno=True).sync_file_range
            except (AttributeError, OSError):
                return
            function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
            function.restype = ctypes.c_int
            _sync_file_range = function
    if _sync_file_range:
        # From offset 0 to the end of the file (a length of 0); a failure here only means that
        # the closing fsync does all the work, as it would without this.
        _sync_file_range(fd, 0, 0, _SYNC_FILE_RANGE_WRITE)


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
    suffix = os.path.splitext(_display_name(path))[1].lower()
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


def open_for_reading(path: PathLike) -> io.BufferedReader:
    """Open a file for binary reading, decompressing ``.gz``, ``.bz2``, ``.xz`` and ``.lzma`` files.

    A compressed stream that turns out damaged, truncated or not compressed at all raises, while
    it is read, a ``ValueError`` that names the file: :class:`~fastw2v.errors.TruncatedFileError`
    (also an ``EOFError``) when the stream ends early, a plain ``ValueError`` otherwise. Every
    reader of fastw2v opens its files here, so they all report such a file the same way.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        File to open; its extension decides the decompression.

    Returns
    -------
    binary file object
        Buffered; its ``name`` is `path`.

    Examples
    --------
    >>> import gzip, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "words.txt.gz")
    >>> with gzip.open(path, "wb") as handle:
    ...     _ = handle.write(b"hello world")
    >>> with open_for_reading(path) as handle:
    ...     handle.read()
    b'hello world'
    >>> _ = open(path, "wb").write(b"plain text")
    >>> open_for_reading(path).read()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...words.txt.gz: damaged, or not gzip data: Not a gzipped file (b'pl')
    """
    suffix = _compression_suffix(path)
    if not suffix:
        return open(path, "rb")
    stream = _COMPRESSED_SUFFIXES[suffix](path)
    return io.BufferedReader(_Decompressed(stream, _display_name(path), suffix), _READ_BUFFER)


class _Decompressed(io.RawIOBase):
    """The raw bytes of a decompressing stream, whose failures become errors naming the file.

    Under an :class:`io.BufferedReader`, so lines and small reads cost no Python call each.
    """

    def __init__(self, stream: io.BufferedIOBase, name: str, suffix: str) -> None:
        super().__init__()
        self._stream = stream
        self._suffix = suffix
        self._position = 0
        self.name = name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            count = self._stream.readinto(buffer)
        except DECOMPRESSION_ERRORS as error:
            raise self._damaged(error) from error
        self._position += count
        return count

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        if not self.closed:
            try:
                self._stream.close()
            finally:
                super().close()

    def _damaged(self, error: BaseException) -> Exception:
        if isinstance(error, OSError) and error.errno is not None:
            # A real I/O error of the file underneath, not a fault of the compressed data.
            return _naming(error, self.name)
        if isinstance(error, EOFError):
            return TruncatedFileError(f"{self.name}: the compressed file is truncated: {error}")
        return ValueError(
            f"{self.name}: damaged, or not {_FORMAT_NAMES[self._suffix]} data: {error}"
        )


@contextlib.contextmanager
def atomic_write_compressed(path: PathLike) -> Iterator[BinaryIO]:
    """Atomic binary write, compressed according to the extension of `path`."""
    suffix = _compression_suffix(path)
    with atomic_write(path, "wb") as raw:
        # The compressing streams have every method of a binary file but are not declared as
        # typing.BinaryIO: the casts say what callers may do with them.
        if suffix == ".gz":
            # The name stored in the gzip header is the final one, not the temporary file's.
            with gzip.GzipFile(filename=os.fspath(path), mode="wb", fileobj=raw) as stream:
                yield cast(BinaryIO, stream)
        elif suffix == ".bz2":
            with bz2.BZ2File(raw, "wb") as stream:
                yield cast(BinaryIO, stream)
        elif suffix == ".xz":
            with lzma.LZMAFile(raw, "wb") as stream:
                yield cast(BinaryIO, stream)
        elif suffix == ".lzma":
            with lzma.LZMAFile(raw, "wb", format=lzma.FORMAT_ALONE) as stream:
                yield cast(BinaryIO, stream)
        else:
            yield cast(BinaryIO, raw)


# --------------------------------------------------------------------------------------------
# Errors that say where


def named_decode_error(error: UnicodeDecodeError, message: str) -> UnicodeDecodeError:
    """`error`, still a ``UnicodeDecodeError`` (so a ``ValueError``), whose text is `message`.

    The codec cannot know which file and line its bytes came from; the reader that does says it
    in `message`, and code that catches ``UnicodeDecodeError`` (as for gensim) still catches it.

    Examples
    --------
    >>> try:
    ...     b"\\xff".decode("utf-8")
    ... except UnicodeDecodeError as error:
    ...     named = named_decode_error(error, f"words.txt: line 3: cannot decode: {error}")
    >>> isinstance(named, UnicodeDecodeError), str(named)[:30]
    (True, 'words.txt: line 3: cannot deco')
    """
    return _NamedDecodeError(
        error.encoding, error.object, error.start, error.end, error.reason, message
    )


class _NamedDecodeError(UnicodeDecodeError):
    def __init__(
        self, encoding: str, data: bytes, start: int, end: int, reason: str, message: str
    ) -> None:
        super().__init__(encoding, data, start, end, reason)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        fields = (self.encoding, self.object, self.start, self.end, self.reason, self.message)
        return type(self), fields
