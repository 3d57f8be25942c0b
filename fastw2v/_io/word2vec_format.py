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

import contextlib
import logging
import os
from collections.abc import Sequence
from typing import Any, BinaryIO

import numpy as np

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
# Trailing data is checked for blankness in pieces of this size, never read whole.
_SCAN_BYTES = 1 << 20


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
        # Both files or neither: the vectors' destination is checked before fvocab is written.
        output_target(path)
        with atomic_write_compressed(fvocab) as out:
            out.writelines(f"{word} {int(count)}\n".encode() for word, count in zip(words, counts))
    if total_vec is None:
        total_vec = len(words)
    with atomic_write_compressed(path) as out:
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

    def read_word(self, most: int) -> bytes | None:
        """Bytes up to the next space (consumed, not returned); None at end of file.

        Past `most` bytes without a space the search stops: the first ``most + 1`` bytes are
        returned, for the caller to refuse, so an endless word is never held whole.
        """
        search_from = self._position
        while True:
            end = self._buffer.find(b" ", search_from)
            if end >= 0:
                word = bytes(self._buffer[self._position : end])
                self._position = end + 1
                return word
            # Filling may move the unread bytes to the front of the buffer.
            already_searched = len(self._buffer) - self._position
            if already_searched > most:
                return bytes(self._buffer[self._position : self._position + most + 1])
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
        if binary:
            keys, rows, declared = _read_binary_body(stream, name, encoding, unicode_errors,
                                                     limit, dtype)
        else:
            keys, rows, declared = _read_text_body(stream, name, encoding, unicode_errors,
                                                   limit, dtype, no_header)

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
    # A decompressing stream has no file number: its size says nothing of what it holds.
    with contextlib.suppress(AttributeError, OSError, ValueError):
        return os.fstat(stream.fileno()).st_size // bytes_per_row + 1
    return max(1, _GROWTH_START_BYTES // bytes_per_row)


def _read_bounded_line(
    stream: BinaryIO, name: str, line_number: int, dimensions: int, what: str
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


def _rest_is_blank(stream: BinaryIO) -> bool:
    while True:
        piece = stream.read(_SCAN_BYTES)
        if not piece:
            return True
        if piece.strip():
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
        line_number += 1
        if dimensions is None:
            line = _read_bounded_line(stream, name, line_number, _MAX_UNDECLARED_DIMENSIONS,
                                      f"{_MAX_UNDECLARED_DIMENSIONS:,} values")
        else:
            line = _read_bounded_line(stream, name, line_number, dimensions,
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
    if declared is not None and wanted == declared and not _rest_is_blank(stream):
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

