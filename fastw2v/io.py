"""Files: the word2vec text and binary formats, and fastw2v's own archive format.

The word2vec formats are the interchange formats of the original C tool: a header line
``"<count> <dimensions>\\n"`` followed by one vector per word, either as text
(``"word v1 v2 ...\\n"``) or as binary (``"word "`` followed by the raw little-endian float32
values and, as the C tool writes it, ``"\\n"``). Files ending in ``.gz``, ``.bz2``, ``.xz`` or
``.lzma`` are compressed and decompressed transparently; :func:`open_for_reading` and
:func:`is_compressed` give the rest of fastw2v the same rule.

fastw2v's own format is a single uncompressed zip holding ``metadata.json`` and one ``.npy``
file per array. Unlike pickle-based model files it never executes code when loaded, and because
the members are stored uncompressed the arrays can be memory-mapped straight from the archive.
Every file is written through :func:`atomic_write`, so an interrupted save never destroys the
previous file.

Examples
--------
>>> import numpy as np, os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "model.fw2v")
>>> save_archive(path, {"kind": "example"}, {"weights": np.eye(2, dtype=np.float32)})
>>> metadata, arrays = load_archive(path)
>>> metadata["kind"], arrays["weights"].shape
('example', (2, 2))
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import json
import logging
import lzma
import os
import secrets
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any, BinaryIO, Union

import numpy as np

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "atomic_write",
    "is_compressed",
    "load_archive",
    "open_for_reading",
    "read_word2vec_format",
    "save_archive",
    "write_word2vec_format",
]

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]

FORMAT_NAME = "fastw2v"
FORMAT_VERSION = 1

_METADATA_MEMBER = "metadata.json"
_ARRAY_SUFFIX = ".npy"
_RESERVED_METADATA_KEYS = ("format", "format_version")
# Header ID of the zip "extra field" that pads local headers so that array data starts on a
# 64-byte boundary; zip readers skip extra fields they do not know.
_ALIGNMENT_EXTRA_ID = 0xD935
_DATA_ALIGNMENT = 64
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_LOCAL_HEADER_SIGNATURE = b"PK\x03\x04"
# zipfile appends a 20-byte ZIP64 extra field to the local header of members opened with it.
_ZIP64_LOCAL_EXTRA_SIZE = 20
_ZIP64_THRESHOLD = 1 << 30
# Deflate cannot compress better than about 1032:1, so a member claiming more is lying.
_MAX_DEFLATE_RATIO = 1032
_READ_CHUNK_BYTES = 1 << 24
# A fixed member timestamp makes saving the same data twice produce identical files.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)

# Decompressing openers by file extension. lzma.open detects the container, so it reads both
# .xz files and legacy .lzma ("LZMA alone") files.
_COMPRESSED_SUFFIXES = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open, ".lzma": lzma.open}
# What a damaged compressed stream raises while being read.
_DECOMPRESSION_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)

# Rows preallocated for vectors when the input size cannot bound them (compressed input).
_GROWTH_START_BYTES = 1 << 26


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
def _atomic_write_compressed(path: PathLike) -> Iterator[BinaryIO]:
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


# --------------------------------------------------------------------------------------------
# word2vec formats: writing


def write_word2vec_format(
    path: PathLike,
    keys: Sequence[Any],
    vectors: np.ndarray,
    *,
    counts: Sequence[int] | np.ndarray | None = None,
    fvocab: PathLike | None = None,
    binary: bool = False,
    total_vec: int | None = None,
    write_header: bool = True,
) -> None:
    """Write vectors in the word2vec text or binary format, in the order given.

    Parameters
    ----------
    path : str or os.PathLike
        Output file; ``.gz``, ``.bz2``, ``.xz`` and ``.lzma`` names are compressed.
    keys : sequence of str
        One word per row of `vectors`. Words may not contain spaces or newlines, which the
        format uses as separators.
    vectors : numpy.ndarray
        2-D array, one row per key.
    counts : sequence of int, optional
        Word counts, written to `fvocab`.
    fvocab : str or os.PathLike, optional
        Also write ``"word count"`` lines here (the C tool's ``-save-vocab`` format).
    binary : bool
        Binary (float32) rather than text values.
    total_vec : int, optional
        Count to declare in the header; defaults to ``len(keys)``.
    write_header : bool
        Write the ``"count dimensions"`` line (GloVe-style files have none).

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "vectors.txt")
    >>> write_word2vec_format(path, ["a", "b"], np.array([[1, 2], [3, 4]], dtype=np.float32))
    >>> print(open(path).read(), end="")
    2 2
    a 1.0 2.0
    b 3.0 4.0
    """
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[0] != len(keys):
        raise ValueError(
            f"vectors must be a 2-D array with one row per key; got shape {vectors.shape} "
            f"for {len(keys)} keys"
        )
    words = [str(key) for key in keys]
    for word in words:
        if " " in word or "\n" in word:
            raise ValueError(
                f"key {word!r} contains a space or newline, which the word2vec format cannot store"
            )
    if fvocab is not None:
        if counts is None:
            raise ValueError("fvocab needs counts to write")
        if len(counts) != len(words):
            raise ValueError(f"got {len(counts)} counts for {len(words)} keys")
        with _atomic_write_compressed(fvocab) as out:
            out.writelines(f"{word} {int(count)}\n".encode() for word, count in zip(words, counts))
    if total_vec is None:
        total_vec = len(words)
    with _atomic_write_compressed(path) as out:
        if write_header:
            out.write(f"{total_vec} {vectors.shape[1]}\n".encode())
        if binary:
            little_endian = vectors.astype("<f4", copy=False)
            for word, row in zip(words, little_endian):
                out.write(word.encode() + b" " + row.tobytes() + b"\n")
        else:
            # str() of a numpy float is its shortest round-tripping form, so text files are exact.
            for word, row in zip(words, vectors):
                out.write(f"{word} {' '.join(map(str, row))}\n".encode())


# --------------------------------------------------------------------------------------------
# word2vec formats: reading


class _VectorRows:
    """Rows appended one at a time into a preallocated array that grows only as rows arrive.

    A file's header is untrusted: a corrupt "1000000000 300" must not allocate 1.2 TB before
    the first line is read. Capacity is therefore bounded by what the input can actually hold,
    and grows geometrically past that.
    """

    def __init__(self, dimensions: int, dtype: np.dtype, expected: int | None, size_bound: int):
        self._dimensions = dimensions
        self._dtype = dtype
        self._limit = expected
        self._initial = size_bound if expected is None else min(expected, size_bound)
        self._rows = np.empty((0, dimensions), dtype=dtype)
        self.count = 0

    def append(self, row: np.ndarray) -> None:
        if self.count == len(self._rows):
            self._grow()
        self._rows[self.count] = row
        self.count += 1

    def _grow(self) -> None:
        capacity = max(self._initial, 2 * len(self._rows), 1)
        if self._limit is not None:
            capacity = min(capacity, self._limit)
        grown = np.empty((capacity, self._dimensions), dtype=self._dtype)
        grown[: self.count] = self._rows[: self.count]
        self._rows = grown

    def take(self, selection: list[int] | None) -> np.ndarray:
        rows = self._rows[: self.count]
        if selection is not None:
            return rows[selection]
        return rows if len(self._rows) == self.count else rows.copy()


class _ByteCursor:
    """Reads space-terminated words and fixed-size records from a binary stream."""

    def __init__(self, stream: BinaryIO, offset: int):
        self._stream = stream
        self._buffer = bytearray()
        self._position = 0
        self._exhausted = False
        self._base_offset = offset

    @property
    def offset(self) -> int:
        """Byte offset in the (decompressed) file of the next unread byte."""
        return self._base_offset + self._position

    def _fill(self) -> bool:
        if self._exhausted:
            return False
        chunk = self._stream.read(1 << 20)
        if not chunk:
            self._exhausted = True
            return False
        if self._position > len(self._buffer) // 2:
            self._base_offset += self._position
            del self._buffer[: self._position]
            self._position = 0
        self._buffer += chunk
        return True

    def read_word(self) -> bytes | None:
        """Bytes up to the next space (consumed, not returned); None at end of file."""
        search_from = self._position
        while True:
            end = self._buffer.find(b" ", search_from)
            if end >= 0:
                word = bytes(self._buffer[self._position : end])
                self._position = end + 1
                return word
            # Filling may move the unread bytes to the front of the buffer.
            already_searched = len(self._buffer) - self._position
            if not self._fill():
                return None
            search_from = self._position + already_searched

    def read_exactly(self, size: int) -> bytes | None:
        while len(self._buffer) - self._position < size:
            if not self._fill():
                return None
        data = bytes(self._buffer[self._position : self._position + size])
        self._position += size
        return data

    def rest_is_blank(self) -> bool:
        while True:
            if self._buffer[self._position :].strip():
                return False
            self._position = len(self._buffer)
            if not self._fill():
                return True


def read_word2vec_format(
    path: PathLike,
    *,
    fvocab: PathLike | None = None,
    binary: bool = False,
    encoding: str = "utf8",
    unicode_errors: str = "strict",
    limit: int | None = None,
    datatype: type | np.dtype = np.float32,
    no_header: bool = False,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Read a word2vec text or binary file.

    Parameters
    ----------
    path : str or os.PathLike
        The file; ``.gz``, ``.bz2``, ``.xz`` and ``.lzma`` names are decompressed.
    fvocab : str or os.PathLike, optional
        A ``"word count"`` file (the C tool's ``-save-vocab`` output) giving the counts.
    binary : bool
        The file holds binary float32 values rather than text.
    encoding, unicode_errors : str
        How words are decoded; ``unicode_errors='strict'`` rejects undecodable words, while
        ``'ignore'`` or ``'replace'`` accept words the C tool truncated mid-character.
    limit : int, optional
        Read only the first `limit` vectors.
    datatype : numpy dtype
        dtype of the returned vectors.
    no_header : bool
        The text file has no header line (GloVe); dimensions come from the first line.

    Returns
    -------
    keys : list of str
        Words in file order; a repeated word keeps its first vector.
    vectors : numpy.ndarray
        ``(len(keys), dimensions)`` array of `datatype`.
    counts : numpy.ndarray
        int64 counts: from `fvocab` when given (0 for a word it lacks), otherwise
        made-up counts decreasing from the declared vector count, so that the file order
        (most frequent first, by convention) survives any sort by count.

    Raises
    ------
    ValueError
        For a malformed file, naming the file and line: a bad header, a truncated file, a body
        longer than the header says, a vector of the wrong length, a non-numeric value, or
        (with ``unicode_errors='strict'``) a word that does not decode.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "vectors.txt")
    >>> _ = open(path, "w").write("2 3\\nhello 1 2 3\\nworld 4 5 6\\n")
    >>> keys, vectors, counts = read_word2vec_format(path)
    >>> keys, vectors[1].tolist(), counts.tolist()
    (['hello', 'world'], [4.0, 5.0, 6.0], [2, 1])
    """
    if no_header and binary:
        raise ValueError("no_header=True is only possible for text files (binary=False)")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be None or >= 0, got {limit}")
    dtype = np.dtype(datatype)
    name = os.fspath(path)
    vocab_counts = _read_counts(fvocab, encoding, unicode_errors) if fvocab is not None else None

    # Values beyond the range of `datatype` become infinities, as numpy casts them, without
    # a warning per value.
    with open_for_reading(path) as stream, np.errstate(over="ignore"):
        try:
            if binary:
                keys, rows, declared = _read_binary_body(stream, name, encoding, unicode_errors,
                                                         limit, dtype)
            else:
                keys, rows, declared = _read_text_body(stream, name, encoding, unicode_errors,
                                                       limit, dtype, no_header)
        except _DECOMPRESSION_ERRORS as error:
            raise ValueError(f"{name}: cannot read the file: {error}") from error

    first_positions: dict[str, int] = {}
    for position, word in enumerate(keys):
        first_positions.setdefault(word, position)
    selection = None
    if len(first_positions) != len(keys):
        logger.warning(
            "%s: %d repeated words; keeping the first vector of each",
            name, len(keys) - len(first_positions),
        )
        selection = list(first_positions.values())
        keys = list(first_positions)
    vectors = rows.take(selection)

    if vocab_counts is None:
        counts = declared - np.arange(len(keys), dtype=np.int64)
    else:
        missing = [word for word in keys if word not in vocab_counts]
        if missing:
            logger.warning(
                "%s lacks counts for %d words (e.g. %r); using 0", fvocab, len(missing), missing[0]
            )
        counts = np.array([vocab_counts.get(word, 0) for word in keys], dtype=np.int64)
    return keys, vectors, counts


def _size_bound(stream: BinaryIO, bytes_per_row: int) -> int:
    """Most rows the input can hold; a fixed memory budget when it is compressed."""
    if not isinstance(stream, (gzip.GzipFile, bz2.BZ2File, lzma.LZMAFile)):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            return os.fstat(stream.fileno()).st_size // bytes_per_row + 1
    return max(1, _GROWTH_START_BYTES // bytes_per_row)


def _read_header(stream: BinaryIO, name: str, encoding: str) -> tuple[int, int]:
    line = stream.readline(1024)
    if len(line) == 1024 and not line.endswith(b"\n"):
        raise ValueError(f"{name}: line 1: header line is too long; not a word2vec file?")
    try:
        fields = line.decode(encoding).split()
        count, dimensions = (int(field) for field in fields) if len(fields) == 2 else (-1, -1)
    except (UnicodeDecodeError, ValueError):
        count, dimensions = -1, -1
    if count < 0 or dimensions < 1:
        raise ValueError(
            f"{name}: line 1: expected a header '<vector count> <dimensions>', got {line[:80]!r}"
        )
    return count, dimensions


def _read_text_body(
    stream: BinaryIO,
    name: str,
    encoding: str,
    unicode_errors: str,
    limit: int | None,
    dtype: np.dtype,
    no_header: bool,
) -> tuple[list[str], _VectorRows, int]:
    if no_header:
        declared, dimensions, line_number = None, None, 0
    else:
        declared, dimensions = _read_header(stream, name, encoding)
        line_number = 1
    wanted = declared if limit is None else (limit if declared is None else min(declared, limit))
    keys: list[str] = []
    rows: _VectorRows | None = None
    while wanted is None or len(keys) < wanted:
        line = stream.readline()
        line_number += 1
        if not line:
            if declared is not None:
                raise ValueError(
                    f"{name}: line {line_number}: unexpected end of file; the header declares "
                    f"{declared} vectors but the file holds {len(keys)}"
                )
            break
        try:
            text = line.decode(encoding, unicode_errors).rstrip()
        except UnicodeDecodeError as error:
            raise ValueError(f"{name}: line {line_number}: cannot decode: {error}") from None
        if no_header and not text:
            continue
        word, _, rest = text.partition(" ")
        fields = rest.split()
        if dimensions is None:
            dimensions = len(fields)
            if dimensions == 0:
                raise ValueError(f"{name}: line {line_number}: no vector values after {word!r}")
        if len(fields) != dimensions:
            raise ValueError(
                f"{name}: line {line_number}: vector for {word!r} has {len(fields)} values, "
                f"expected {dimensions}"
            )
        try:
            row = np.array(fields, dtype=dtype)
        except ValueError:
            raise ValueError(
                f"{name}: line {line_number}: non-numeric value in the vector for {word!r}"
            ) from None
        if rows is None:
            rows = _VectorRows(dimensions, dtype, wanted, _size_bound(stream, 2 * dimensions))
        rows.append(row)
        keys.append(word)
    if declared is not None and wanted == declared and stream.read().strip():
        raise ValueError(
            f"{name}: line {line_number + 1}: the header declares {declared} vectors but the "
            f"file holds more"
        )
    if dimensions is None:
        raise ValueError(f"{name}: the file holds no vectors")
    if rows is None:
        rows = _VectorRows(dimensions, dtype, 0, 0)
    return keys, rows, len(keys) if declared is None else wanted


def _read_binary_body(
    stream: BinaryIO,
    name: str,
    encoding: str,
    unicode_errors: str,
    limit: int | None,
    dtype: np.dtype,
) -> tuple[list[str], _VectorRows, int]:
    declared, dimensions = _read_header(stream, name, encoding)
    wanted = declared if limit is None else min(declared, limit)
    cursor = _ByteCursor(stream, stream.tell())
    record_bytes = 4 * dimensions
    keys: list[str] = []
    rows: _VectorRows | None = None
    while len(keys) < wanted:
        # Line numbers count the header as line 1 and, as the C tool writes them, one line
        # per vector.
        line_number = len(keys) + 2
        start = cursor.offset
        raw_word = cursor.read_word()
        values = None if raw_word is None else cursor.read_exactly(record_bytes)
        if values is None:
            raise ValueError(
                f"{name}: line {line_number} (byte {start}): unexpected end of file; the header "
                f"declares {declared} vectors of {dimensions} dimensions but the file holds "
                f"{len(keys)}"
            )
        try:
            # The C tool ends each vector with a newline that other writers omit.
            word = raw_word.lstrip(b"\n").decode(encoding, unicode_errors)
        except UnicodeDecodeError as error:
            raise ValueError(
                f"{name}: line {line_number} (byte {start}): cannot decode word: {error}"
            ) from None
        if rows is None:
            rows = _VectorRows(dimensions, dtype, wanted, _size_bound(stream, record_bytes + 1))
        rows.append(np.frombuffer(values, dtype="<f4"))
        keys.append(word)
    if wanted == declared and not cursor.rest_is_blank():
        raise ValueError(
            f"{name}: line {wanted + 2} (byte {cursor.offset}): the header declares {declared} "
            f"vectors but the file holds more data"
        )
    if rows is None:
        rows = _VectorRows(dimensions, dtype, 0, 0)
    return keys, rows, wanted


def _read_counts(path: PathLike, encoding: str, unicode_errors: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    name = os.fspath(path)
    with open_for_reading(path) as stream:
        try:
            for line_number, line in enumerate(stream, 1):
                try:
                    fields = line.decode(encoding, unicode_errors).split()
                except UnicodeDecodeError as error:
                    raise ValueError(
                        f"{name}: line {line_number}: cannot decode: {error}"
                    ) from None
                if not fields:
                    continue
                try:
                    word, count = fields
                    counts[word] = int(count)
                except ValueError:
                    raise ValueError(
                        f"{name}: line {line_number}: expected '<word> <count>', got {line[:80]!r}"
                    ) from None
        except _DECOMPRESSION_ERRORS as error:
            raise ValueError(f"{name}: cannot read the file: {error}") from error
    return counts


# --------------------------------------------------------------------------------------------
# Archives


def save_archive(
    path: PathLike, metadata: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
) -> None:
    """Save metadata and arrays as one fastw2v archive, atomically.

    The archive is an uncompressed zip: ``metadata.json`` and one ``<name>.npy`` per array, each
    array's data aligned to 64 bytes in the file so that :func:`load_archive` can memory-map it.
    Nothing is pickled.

    Parameters
    ----------
    path : str or os.PathLike
        Output file, replaced atomically (see :func:`atomic_write`).
    metadata : mapping
        JSON-serialisable values (str, int, float, bool, None, lists, dicts; numpy scalars are
        converted). ``"format"`` and ``"format_version"`` are added and may not be given. A
        ``"kind"`` entry naming what the archive holds is recommended.
    arrays : mapping of str to numpy.ndarray
        Numeric or fixed-width arrays; object arrays are refused. Names may not contain ``/``.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "model.fw2v")
    >>> save_archive(path, {"kind": "example", "words": ["a", "b"]}, {"counts": np.arange(2)})
    >>> load_archive(path)[0]["words"]
    ['a', 'b']
    """
    clashing = [key for key in _RESERVED_METADATA_KEYS if key in metadata]
    if clashing:
        raise ValueError(f"metadata keys {clashing} are reserved for the archive format")
    document = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **metadata}
    # Surrogates (from words decoded with 'surrogateescape') survive via 'surrogatepass'.
    encoded_metadata = json.dumps(document, ensure_ascii=False, default=_json_default).encode(
        "utf-8", "surrogatepass"
    )
    checked = {}
    for array_name, array in arrays.items():
        if (
            not isinstance(array_name, str)
            or not array_name
            or "/" in array_name
            or "\\" in array_name
        ):
            raise ValueError(f"invalid array name {array_name!r}")
        array = np.asarray(array)
        if array.dtype.hasobject:
            raise ValueError(
                f"array {array_name!r} holds Python objects (dtype {array.dtype}); fastw2v "
                f"archives store only plain data, never pickles"
            )
        checked[array_name] = array

    with atomic_write(path, "wb") as raw, zipfile.ZipFile(
        raw, "w", compression=zipfile.ZIP_STORED, allowZip64=True
    ) as archive:
        archive.writestr(zipfile.ZipInfo(_METADATA_MEMBER, date_time=_ZIP_DATE), encoded_metadata)
        for array_name, array in checked.items():
            member = array_name + _ARRAY_SUFFIX
            zip64 = array.nbytes > _ZIP64_THRESHOLD
            info = zipfile.ZipInfo(member, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            info.extra = _alignment_padding(raw.tell(), member, zip64)
            with archive.open(info, "w", force_zip64=zip64) as stream:
                np.lib.format.write_array(stream, array, allow_pickle=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable; arrays go in `arrays`")


def _alignment_padding(header_offset: int, member: str, zip64: bool) -> bytes:
    """An extra field that makes the member's data, and so its .npy data, start aligned.

    numpy pads .npy headers to a multiple of 64 bytes, so aligning the member aligns the array.
    """
    header_size = _LOCAL_HEADER.size + len(member.encode()) + 4
    if zip64:
        header_size += _ZIP64_LOCAL_EXTRA_SIZE
    padding = -(header_offset + header_size) % _DATA_ALIGNMENT
    return struct.pack("<HH", _ALIGNMENT_EXTRA_ID, padding) + bytes(padding)


def load_archive(
    path: PathLike, mmap: str | None = None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Load a file written by :func:`save_archive`, without ever unpickling anything.

    Parameters
    ----------
    path : str or os.PathLike
        The archive.
    mmap : {None, 'r', 'c'}
        None reads the arrays into memory (verifying their checksums). ``'r'`` memory-maps them
        read-only straight from the archive, ``'c'`` copy-on-write; members that are not stored
        uncompressed (an archive repacked by another tool) are read instead.

    Returns
    -------
    metadata : dict
        The saved metadata, including ``"format"`` and ``"format_version"``.
    arrays : dict of str to numpy.ndarray
        The saved arrays (``numpy.memmap`` instances when memory-mapped).

    Raises
    ------
    ValueError
        If the file is not a fastw2v archive, comes from a newer fastw2v, or is truncated or
        corrupted; the message names the file and the problem.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "model.fw2v")
    >>> save_archive(path, {"kind": "example"}, {"weights": np.ones((3, 2), dtype=np.float32)})
    >>> metadata, arrays = load_archive(path, mmap="r")
    >>> float(arrays["weights"].sum())
    6.0
    """
    if mmap not in (None, "r", "c"):
        raise ValueError(f"mmap must be None, 'r' or 'c', got {mmap!r}")
    name = os.fspath(path)
    with open(path, "rb") as handle:
        try:
            return _load_archive(handle, name, mmap)
        except _ArchiveError as error:
            raise ValueError(f"{name}: {error}") from None
        except Exception as error:  # noqa: BLE001
            # zipfile and numpy, parsing damaged bytes, fail in many ways (BadZipFile,
            # struct.error, EOFError, OSError from bad offsets, ...); all mean a damaged file.
            raise ValueError(
                f"{name}: not a valid fastw2v archive ({type(error).__name__}: {error})"
            ) from None


class _ArchiveError(Exception):
    """A problem found while validating an archive; reported as ValueError with the path."""


def _load_archive(
    handle: BinaryIO, name: str, mmap: str | None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    file_size = os.fstat(handle.fileno()).st_size
    with zipfile.ZipFile(handle) as archive:
        members = archive.infolist()
        names = [info.filename for info in members]
        if len(set(names)) != len(names):
            raise _ArchiveError("corrupted archive: a member appears twice")
        if _METADATA_MEMBER not in names:
            raise _ArchiveError("not a fastw2v archive: it has no metadata.json")
        metadata = _read_metadata(archive, archive.getinfo(_METADATA_MEMBER), file_size)
        arrays: dict[str, np.ndarray] = {}
        for info in members:
            if info.filename == _METADATA_MEMBER:
                continue
            if not info.filename.endswith(_ARRAY_SUFFIX) or info.is_dir():
                raise _ArchiveError(f"unexpected member {info.filename!r}")
            _check_member_bounds(info, file_size)
            array_name = info.filename[: -len(_ARRAY_SUFFIX)]
            stored = info.compress_type == zipfile.ZIP_STORED and not info.flag_bits & 1
            if mmap is not None and stored:
                arrays[array_name] = _map_member(handle, name, info, mmap, file_size)
            else:
                arrays[array_name] = _read_member(archive, info)
    return metadata, arrays


def _check_member_bounds(info: zipfile.ZipInfo, file_size: int) -> None:
    if info.header_offset + _LOCAL_HEADER.size + info.compress_size > file_size:
        raise _ArchiveError(f"truncated: member {info.filename!r} extends past the end of the file")
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size:
            raise _ArchiveError(f"corrupted sizes for member {info.filename!r}")
    elif info.file_size > _MAX_DEFLATE_RATIO * max(info.compress_size, 1):
        raise _ArchiveError(f"corrupted sizes for member {info.filename!r}")


def _read_metadata(archive: zipfile.ZipFile, info: zipfile.ZipInfo, file_size: int) -> dict:
    _check_member_bounds(info, file_size)
    try:
        metadata = json.loads(archive.read(info).decode("utf-8", "surrogatepass"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise _ArchiveError(f"metadata.json is not valid JSON ({error})") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise _ArchiveError("not a fastw2v archive: metadata.json lacks the fastw2v format marker")
    version = metadata.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _ArchiveError(f"invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise _ArchiveError(
            f"written in format version {version} by a newer fastw2v; this version reads up to "
            f"{FORMAT_VERSION}"
        )
    return metadata


def _read_npy_header(stream: BinaryIO, member: str) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """Parse and validate a .npy header; returns shape, Fortran order, dtype and data size."""
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise _ArchiveError(f"member {member!r} uses unsupported .npy version {version}")
    except _ArchiveError:
        raise
    except Exception as error:  # noqa: BLE001
        # numpy parses the header as a Python literal, whose tokenizer and parser raise a
        # variety of errors on garbage (ValueError, SyntaxError, tokenize.TokenError, ...).
        raise _ArchiveError(f"member {member!r} has an invalid .npy header ({error})") from None
    if dtype.hasobject:
        raise _ArchiveError(
            f"member {member!r} holds pickled Python objects, which fastw2v never loads"
        )
    if any(size < 0 for size in shape):
        raise _ArchiveError(f"member {member!r} declares a negative shape {shape}")
    return shape, fortran_order, dtype, int(np.prod(shape, dtype=object)) * dtype.itemsize


def _check_payload_size(info: zipfile.ZipInfo, header_size: int, data_size: int) -> None:
    if header_size + data_size != info.file_size:
        raise _ArchiveError(
            f"member {info.filename!r} is truncated or corrupted: its header describes "
            f"{data_size} bytes of data but it holds {info.file_size - header_size}"
        )


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    with archive.open(info) as stream:
        shape, fortran_order, dtype, data_size = _read_npy_header(stream, info.filename)
        _check_payload_size(info, stream.tell(), data_size)
        flat = np.empty(data_size // dtype.itemsize if dtype.itemsize else 0, dtype=dtype)
        view = memoryview(flat.view(np.uint8)) if data_size else memoryview(b"")
        filled = 0
        while filled < data_size:
            chunk = stream.read(min(_READ_CHUNK_BYTES, data_size - filled))
            if not chunk:
                raise _ArchiveError(f"member {info.filename!r} is truncated")
            view[filled : filled + len(chunk)] = chunk
            filled += len(chunk)
        # Reading past the data makes zipfile verify the member's CRC.
        if stream.read(1):
            raise _ArchiveError(f"member {info.filename!r} has trailing data")
    if dtype.itemsize == 0:
        return np.empty(shape, dtype=dtype)
    if fortran_order:
        return flat.reshape(shape[::-1]).T
    return flat.reshape(shape)


def _map_member(
    handle: BinaryIO, name: str, info: zipfile.ZipInfo, mode: str, file_size: int
) -> np.ndarray:
    handle.seek(info.header_offset)
    header = handle.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size:
        raise _ArchiveError(f"truncated local header for member {info.filename!r}")
    fields = _LOCAL_HEADER.unpack(header)
    signature, name_length, extra_length = fields[0], fields[9], fields[10]
    member_name = handle.read(name_length)
    if signature != _LOCAL_HEADER_SIGNATURE or member_name != info.filename.encode():
        raise _ArchiveError(f"corrupted local header for member {info.filename!r}")
    data_start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
    if data_start + info.file_size > file_size:
        raise _ArchiveError(f"truncated: member {info.filename!r} extends past the end of the file")
    handle.seek(data_start)
    shape, fortran_order, dtype, data_size = _read_npy_header(handle, info.filename)
    header_size = handle.tell() - data_start
    _check_payload_size(info, header_size, data_size)
    if data_size == 0:
        return np.empty(shape, dtype=dtype)
    return np.memmap(
        name,
        dtype=dtype,
        mode=mode,
        offset=data_start + header_size,
        shape=shape,
        order="F" if fortran_order else "C",
    )
