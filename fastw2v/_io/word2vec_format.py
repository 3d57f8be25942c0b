"""The word2vec text and binary formats of the original C tool.

A header line ``"<count> <dimensions>\\n"`` is followed by one vector per word, either as text
(``"word v1 v2 ...\\n"``) or as binary (``"word "`` followed by the raw little-endian float32
values and, as the C tool writes it, ``"\\n"``). Compressed names (``.gz``, ``.bz2``, ``.xz``,
``.lzma``) are compressed on writing and decompressed on reading.

Examples
--------
>>> import numpy as np, os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "vectors.txt.gz")
>>> write_word2vec_format(path, ["a", "b"], np.eye(2, dtype=np.float32))
>>> read_word2vec_format(path)[0]
['a', 'b']
"""

from __future__ import annotations

import codecs
import contextlib
import io
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, BinaryIO

import numpy as np

from fastw2v import _w2v_format
from fastw2v._io.files import (
    PathLike,
    atomic_write_compressed,
    named_decode_error,
    open_for_reading,
    output_target,
)
from fastw2v.errors import TruncatedFileError

__all__ = ["read_word2vec_format", "write_word2vec_format"]

logger = logging.getLogger(__name__)

# Rows preallocated for vectors when the input size cannot bound them (compressed input).
_GROWTH_START_BYTES = 1 << 26
# A line is read whole only once it is known to fit what the header declares: a word, which
# may take this many bytes (the C tool's words take at most 100) ...
_MAX_WORD_BYTES = 1 << 20
# ... and one value per dimension, each taking this many bytes on average: the shortest exact
# form of any float takes at most 24 characters; C's "%f" of a large number takes more.
_MAX_VALUE_BYTES = 64
# Values a header-less (GloVe) file's first line may hold, which fixes its dimension.
_MAX_UNDECLARED_DIMENSIONS = 1 << 16
# Files are read in pieces of this size; trailing data is checked for blankness piece by piece,
# never read whole.
_CHUNK_BYTES = 1 << 20
# Rows are formatted into a buffer of this size, written whenever it is full.
_WRITE_BUFFER_BYTES = 1 << 22
# float32 values whose str() tells numpy's print rule: where scientific notation starts (1e6
# since numpy 2.3, 1e16 before), and digits as the legacy printing modes would print otherwise.
_PRINT_PROBE = np.array(
    [0.1, 0.3, 2 / 3, 1.1, -2.5, 1e-4, 1.0000001e-4, 1e-5, 123456.79, 999999.94, 1e6, 1e15,
     9.999999e15, 1e16, 3.4028235e38, 1e-45, 1.0, -0.0, 16777216.0],
    dtype=np.float32,
)


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
    order: np.ndarray | None = None,
) -> None:
    """Write vectors in the word2vec text or binary format, in the order given.

    Parameters
    ----------
    path : str or os.PathLike
        Output file; ``.gz``, ``.bz2``, ``.xz`` and ``.lzma`` names are compressed.
    keys : sequence of str
        One word per row written. Words may not contain spaces or newlines, which the format
        uses as separators.
    vectors : numpy.ndarray
        2-D array, one row per key (or the rows that `order` picks from).
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
    order : array of int, optional
        Row ``i`` of the file is ``vectors[order[i]]``, one index per key: a reordered file
        without a reordered copy of the matrix.

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
    if order is not None:
        order = np.asarray(order)
        if order.shape != (len(keys),) or order.dtype.kind not in "iu":
            raise ValueError(f"order must be one integer per key; got {order.dtype} "
                             f"{order.shape} for {len(keys)} keys")
        if vectors.ndim == 2 and len(order) and not 0 <= order.min() <= order.max() < len(vectors):
            raise ValueError(f"order holds rows outside the {len(vectors)} vectors")
    if vectors.ndim != 2 or (order is None and vectors.shape[0] != len(keys)):
        raise ValueError(
            f"vectors must be a 2-D array with one row per key; got shape {vectors.shape} "
            f"for {len(keys)} keys"
        )
    words = _writable_words(keys)
    if fvocab is not None:
        if counts is None:
            raise ValueError("fvocab needs counts to write")
        if len(counts) != len(words):
            raise ValueError(f"got {len(counts)} counts for {len(words)} keys")
        # Both files or neither: the vectors' destination is checked before fvocab is written.
        output_target(path)
        with atomic_write_compressed(fvocab) as out:
            out.writelines(f"{word} {int(count)}\n".encode() for word, count in zip(words, counts))
    if total_vec is None:
        total_vec = len(words)
    with atomic_write_compressed(path) as out:
        if write_header:
            out.write(f"{total_vec} {vectors.shape[1]}\n".encode())
        rows = None if order is None else order.astype(np.int64, copy=False)
        if binary and sys.byteorder == "little":
            _write_rows(out, words, np.ascontiguousarray(vectors, dtype="<f4"), rows, True, 0.0)
            return
        in_order = vectors if order is None else (vectors[index] for index in order)
        if binary:
            for word, row in zip(words, in_order):
                out.write(word.encode() + b" " + row.astype("<f4").tobytes() + b"\n")
            return
        limit = _numpy_positional_limit() if vectors.dtype == np.float32 else None
        if limit is not None:
            _write_rows(out, words, np.ascontiguousarray(vectors), rows, False, limit)
            return
        # Other dtypes, and numpy's legacy printing: str() of a numpy float is its shortest
        # round-tripping form (in the default printing), so text files are exact.
        for word, row in zip(words, in_order):
            out.write(f"{word} {' '.join(map(str, row))}\n".encode())


def _writable_words(keys: Sequence[Any]) -> list[str]:
    """The keys as words, refused when the format cannot hold one."""
    words = keys if isinstance(keys, list) else list(keys)
    index, problem = _w2v_format.first_unwritable_word(words)
    if problem == "type":
        words = [str(key) for key in keys]
        index, problem = _w2v_format.first_unwritable_word(words)
    if problem is not None:
        raise ValueError(
            f"key {words[index]!r} contains a space or newline, which the word2vec format "
            f"cannot store"
        )
    return words


def _numpy_positional_limit() -> float | None:
    """Where numpy's str() of a float32 turns scientific; None when the compiled writer does not
    print as numpy prints now (a legacy printing mode)."""
    if str(np.get_printoptions().get("legacy", False)) == "1.13":
        return None
    expected = " ".join(map(str, _PRINT_PROBE)).encode()
    buffer = bytearray(2 + len(_PRINT_PROBE) * (_w2v_format.MAX_VALUE_CHARS + 1))
    for limit in (1e6, 1e16):
        _, size = _w2v_format.format_rows(
            [""], _PRINT_PROBE[np.newaxis], 0, 1, buffer, False, False, limit
        )
        # The row is the empty word, a space, the values and a newline.
        if buffer[1 : size - 1] == expected:
            return limit
    return None


def _write_rows(
    out: BinaryIO,
    words: list[str],
    vectors: np.ndarray,
    order: np.ndarray | None,
    binary: bool,
    limit: float,
) -> None:
    """Format rows in C into a buffer, and write the buffer whenever it is full."""
    buffer = bytearray(_WRITE_BUFFER_BYTES)
    row = 0
    while row < len(words):
        # As the C tool writes it, a newline after each binary vector.
        written, size = _w2v_format.format_rows(
            words, vectors, row, len(words), buffer, binary, True, limit, order
        )
        if written == 0:  # a row longer than the buffer
            buffer = bytearray(2 * len(buffer))
            continue
        with memoryview(buffer) as view:
            out.write(view[:size])
        row += written


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
        self.storage()[self.count] = row
        self.count += 1

    def storage(self) -> np.ndarray:
        """The whole preallocated array, grown first when full: rows from `count` on are free."""
        if self.count == len(self._rows):
            self._grow()
        return self._rows

    @property
    def limit(self) -> int | None:
        """The most rows there can be (those wanted), if known."""
        return self._limit

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


class _Buffer:
    """A stream read ahead in pieces into one buffer, which the compiled parsers read in place.

    ``data[start:end]`` holds the bytes read and not yet consumed. The buffer grows only when
    one piece of data (a line, a word, a record) asked for does not fit, and the callers bound
    what they ask for, so a hostile file never makes it hold more than that.
    """

    def __init__(self, stream: io.BufferedReader, offset: int):
        self._stream = stream
        self.data = bytearray(_CHUNK_BYTES)
        self.start = 0
        self.end = 0
        self._exhausted = False
        self._base_offset = offset

    @property
    def offset(self) -> int:
        """Byte offset in the (decompressed) file of the next unread byte."""
        return self._base_offset + self.start

    def fill(self) -> bool:
        """Read more after the bytes held; False at the end of the stream."""
        if self._exhausted:
            return False
        if self.start:
            held = self.end - self.start
            self.data[:held] = self.data[self.start : self.end]
            self._base_offset += self.start
            self.start, self.end = 0, held
        if self.end == len(self.data):
            self.data.extend(bytes(len(self.data)))
        with memoryview(self.data) as view:
            count = self._stream.readinto(view[self.end :])
        if not count:
            self._exhausted = True
            return False
        self.end += count
        return True

    def _take(self, size: int) -> bytes:
        with memoryview(self.data) as view:
            piece = bytes(view[self.start : self.start + size])
        self.start += size
        return piece

    def readline(self, size: int) -> bytes:
        """Bytes up to and including the next newline, at most `size` of them (as io's)."""
        searched = self.start
        while True:
            stop = min(self.end, self.start + size)
            newline = self.data.find(b"\n", searched, stop)
            if newline >= 0:
                return self._take(newline + 1 - self.start)
            if stop - self.start >= size:
                return self._take(size)
            # Filling may move the unread bytes to the front of the buffer.
            already_searched = self.end - self.start
            if not self.fill():
                return self._take(self.end - self.start)
            searched = self.start + already_searched

    def read_word(self, most: int) -> bytes | None:
        """Bytes up to the next space (consumed, not returned); None at end of file.

        Past `most` bytes without a space the search stops: the first ``most + 1`` bytes are
        returned, for the caller to refuse, so an endless word is never held whole.
        """
        searched = self.start
        while True:
            space = self.data.find(b" ", searched, self.end)
            if space >= 0:
                word = self._take(space - self.start)
                self.start += 1
                return word
            already_searched = self.end - self.start
            if already_searched > most:
                return self._take(most + 1)
            if not self.fill():
                return None
            searched = self.start + already_searched

    def read_exactly(self, size: int) -> bytes | None:
        while self.end - self.start < size:
            if not self.fill():
                return None
        return self._take(size)

    def rest_is_blank(self) -> bool:
        while True:
            with memoryview(self.data) as view:
                if bytes(view[self.start : self.end]).strip():
                    return False
            self.start = self.end
            if not self.fill():
                return True


def _compiled_parse(
    parse: Any, source: _Buffer, rows: _VectorRows, keys: list[str], *arguments: Any
) -> int:
    """Rows parsed by a compiled parser until it meets a row for the Python reader, the rows
    asked for are read, or the file ends (the Python reader then reports what is missing)."""
    parsed = 0
    while True:
        storage = rows.storage()
        stop, count, source.start = parse(
            source.data, source.start, source.end, storage, rows.count, keys, *arguments
        )
        rows.count += count
        parsed += count
        if stop == _w2v_format.STOP_SLOW:
            return parsed
        if stop == _w2v_format.STOP_DONE:
            if rows.count == rows.limit:
                return parsed
        elif not source.fill():
            return parsed


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
        if binary:
            keys, rows, declared = _read_binary_body(stream, name, encoding, unicode_errors,
                                                     limit, dtype)
        else:
            keys, rows, declared = _read_text_body(stream, name, encoding, unicode_errors,
                                                   limit, dtype, no_header)

    selection = None
    if len(set(keys)) != len(keys):
        first_positions: dict[str, int] = {}
        for position, word in enumerate(keys):
            first_positions.setdefault(word, position)
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
    # A decompressing stream has no file number: its size says nothing of what it holds.
    with contextlib.suppress(AttributeError, OSError, ValueError):
        return os.fstat(stream.fileno()).st_size // bytes_per_row + 1
    return max(1, _GROWTH_START_BYTES // bytes_per_row)


def _read_bounded_line(
    stream: BinaryIO | _Buffer, name: str, line_number: int, dimensions: int, what: str
) -> bytes:
    """The next line, refused as soon as it outgrows a word and `dimensions` values."""
    most = _MAX_WORD_BYTES + dimensions * _MAX_VALUE_BYTES
    line = stream.readline(most + 1)
    if len(line) > most:
        raise ValueError(
            f"{name}: line {line_number}: longer than {most:,} bytes, more than a word and "
            f"{what} take; not a word2vec file, or a wrong header?"
        )
    return line


def _is_utf8(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def _cannot_decode(error: UnicodeDecodeError, where: str) -> UnicodeDecodeError:
    return named_decode_error(error, f"{where}: cannot decode: {error}")


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
    stream: io.BufferedReader,
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
    source = _Buffer(stream, 0)
    # The compiled parser takes the rows it reads exactly as the lines below would; it splits
    # at the byte level, which only an ASCII-compatible encoding allows.
    compiled = _is_utf8(encoding) and dtype.isnative and dtype.char in "fd"
    while wanted is None or len(keys) < wanted:
        if compiled and rows is not None and dimensions is not None:
            line_number += _compiled_parse(
                _w2v_format.parse_text, source, rows, keys,
                _MAX_WORD_BYTES + dimensions * _MAX_VALUE_BYTES,
            )
            if wanted is not None and len(keys) == wanted:
                break
        line_number += 1
        if dimensions is None:
            line = _read_bounded_line(source, name, line_number, _MAX_UNDECLARED_DIMENSIONS,
                                      f"{_MAX_UNDECLARED_DIMENSIONS:,} values")
        else:
            line = _read_bounded_line(source, name, line_number, dimensions,
                                      f"the {dimensions} values of a vector")
        if not line:
            if declared is not None:
                raise TruncatedFileError(
                    f"{name}: line {line_number}: unexpected end of file; the header declares "
                    f"{declared} vectors but the file holds {len(keys)}"
                )
            break
        try:
            text = line.decode(encoding, unicode_errors).rstrip()
        except UnicodeDecodeError as error:
            raise _cannot_decode(error, f"{name}: line {line_number}") from None
        if no_header and not text:
            continue
        word, _, rest = text.partition(" ")
        fields = rest.split()
        if dimensions is None:
            dimensions = len(fields)
            if dimensions == 0:
                raise ValueError(f"{name}: line {line_number}: no vector values after {word!r}")
        if len(fields) < dimensions and not line.endswith(b"\n"):
            raise TruncatedFileError(
                f"{name}: line {line_number}: unexpected end of file in the vector for {word!r}: "
                f"it has {len(fields)} values, expected {dimensions}"
            )
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
    if declared is not None and wanted == declared and not source.rest_is_blank():
        raise ValueError(
            f"{name}: line {line_number + 1}: the header declares {declared} vectors but the "
            f"file holds more"
        )
    if dimensions is None:
        raise ValueError(f"{name}: the file holds no vectors")
    if rows is None:
        rows = _VectorRows(dimensions, dtype, 0, 0)
    return keys, rows, len(keys) if declared is None or wanted is None else wanted


def _read_binary_body(
    stream: io.BufferedReader,
    name: str,
    encoding: str,
    unicode_errors: str,
    limit: int | None,
    dtype: np.dtype,
) -> tuple[list[str], _VectorRows, int]:
    declared, dimensions = _read_header(stream, name, encoding)
    wanted = declared if limit is None else min(declared, limit)
    cursor = _Buffer(stream, stream.tell())
    record_bytes = 4 * dimensions
    keys: list[str] = []
    rows: _VectorRows | None = None
    # The compiled parser copies float32 values as they lie in memory: little-endian ones.
    compiled = (sys.byteorder == "little" and dtype.isnative and dtype.char in "fd"
                and encoding.isascii())
    while len(keys) < wanted:
        if compiled and rows is not None:
            _compiled_parse(_w2v_format.parse_binary, cursor, rows, keys, _MAX_WORD_BYTES,
                            None if _is_utf8(encoding) else encoding)
            if len(keys) == wanted:
                break
        # Line numbers count the header as line 1 and, as the C tool writes them, one line
        # per vector.
        line_number = len(keys) + 2
        start = cursor.offset
        raw_word = cursor.read_word(_MAX_WORD_BYTES)
        if raw_word is not None and len(raw_word) > _MAX_WORD_BYTES:
            raise ValueError(
                f"{name}: line {line_number} (byte {start}): a word longer than "
                f"{_MAX_WORD_BYTES:,} bytes; not a binary word2vec file, or a wrong header?"
            )
        values = None if raw_word is None else cursor.read_exactly(record_bytes)
        if raw_word is None or values is None:
            raise TruncatedFileError(
                f"{name}: line {line_number} (byte {start}): unexpected end of file; the header "
                f"declares {declared} vectors of {dimensions} dimensions but the file holds "
                f"{len(keys)}"
            )
        try:
            # The C tool ends each vector with a newline that other writers omit.
            word = raw_word.lstrip(b"\n").decode(encoding, unicode_errors)
        except UnicodeDecodeError as error:
            raise named_decode_error(
                error, f"{name}: line {line_number} (byte {start}): cannot decode word: {error}"
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
        line_number = 0
        while True:
            line_number += 1
            # A count takes one value's room.
            line = _read_bounded_line(stream, name, line_number, 1, "a count")
            if not line:
                return counts
            try:
                fields = line.decode(encoding, unicode_errors).split()
            except UnicodeDecodeError as error:
                raise _cannot_decode(error, f"{name}: line {line_number}") from None
            if not fields:
                continue
            try:
                word, count = fields
                counts[word] = int(count)
            except ValueError:
                raise ValueError(
                    f"{name}: line {line_number}: expected '<word> <count>', got {line[:80]!r}"
                ) from None

