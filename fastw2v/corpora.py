"""Streaming corpus readers and a tokenising helper.

Every reader yields sentences as lists of ``str`` tokens and can be iterated any number of
times, each iteration starting from the beginning, which is what training needs (one pass to
build the vocabulary, one per epoch). Only a bounded amount of text is held in memory.

The readers are gensim-compatible: ``LineSentence``, ``PathLineSentences`` and ``Text8Corpus``
take the same arguments and yield the same sentences as their gensim 4 namesakes, except where
the class docstrings say otherwise.

Examples
--------
>>> import os, tempfile
>>> from fastw2v.corpora import LineSentence
>>> folder = tempfile.mkdtemp()
>>> path = os.path.join(folder, "corpus.txt")
>>> with open(path, "w", encoding="utf-8") as stream:
...     _ = stream.write("the cat sat\\n\\nthe dog ran far\\n")
>>> list(LineSentence(path, max_sentence_length=3))
[['the', 'cat', 'sat'], ['the', 'dog', 'ran'], ['far']]
"""

from __future__ import annotations

import errno
import itertools
import numbers
import os
import re
from collections.abc import Iterable, Iterator
from typing import IO, Union, cast

from fastw2v._corpus import MAX_SENTENCE_LENGTH
from fastw2v._io import is_compressed, open_for_reading

__all__ = [
    "MAX_SENTENCE_LENGTH",
    "LineSentence",
    "PathLineSentences",
    "Text8Corpus",
    "simple_tokenize",
]

# Text8 is a single ~100 MB line, so it is read in pieces of this many bytes.
_TEXT8_CHUNK_BYTES = 8192

# bytes.split() separates on exactly these; a UTF-8 multi-byte sequence never contains them, so
# cutting just after one of them never cuts a character or a word in two.
_ASCII_WHITESPACE = b" \t\n\r\x0b\x0c"

_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")

PathType = Union[str, "os.PathLike[str]"]
Sentence = list[str]


def simple_tokenize(text: str) -> list[str]:
    """Lowercase `text` and split it into words of letters and digits.

    Any character other than a letter or digit separates words, except an apostrophe between two
    letters or digits (``don't``); typographic apostrophes (U+2019) are written as ``'``.

    Parameters
    ----------
    text : str
        Raw text, of any length.

    Returns
    -------
    list of str
        The tokens in order of appearance.

    Examples
    --------
    >>> simple_tokenize("Don't PANIC: 42 towels, 'please'!")
    ["don't", 'panic', '42', 'towels', 'please']
    """
    return _TOKEN.findall(text.lower().replace("\u2019", "'"))


def _existing_path(source: PathType) -> str:
    path = os.fsdecode(source)
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, "corpus file or directory not found", path)
    return path


def _is_integer(value: object) -> bool:
    # numpy integers count; True and False do not, though bool subclasses int.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_sizes(max_sentence_length: int, limit: int | None) -> None:
    if not _is_integer(max_sentence_length) or max_sentence_length < 1:
        raise ValueError(
            f"max_sentence_length must be a positive integer, got {max_sentence_length!r}"
        )
    if limit is not None and (not _is_integer(limit) or limit < 0):
        raise ValueError(f"limit must be None or a non-negative integer, got {limit!r}")


def _undecodable(err: UnicodeDecodeError, where: str) -> UnicodeDecodeError:
    # Keep the exception type, so callers catching UnicodeDecodeError or ValueError still do,
    # and add where in which file the bad bytes are, which the codec cannot know.
    return UnicodeDecodeError(err.encoding, err.object, err.start, err.end, f"{err.reason} {where}")


def _line_sentences(
    lines: Iterable[bytes | str], name: str, max_sentence_length: int, limit: int | None
) -> Iterator[Sentence]:
    for line_number, line in enumerate(itertools.islice(lines, limit), start=1):
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as err:
                raise _undecodable(err, f"in {name!r} at line {line_number}") from None
        tokens = line.split()
        if len(tokens) <= max_sentence_length:
            # Skipping empty lines keeps gensim's behaviour: an empty sentence trains nothing.
            if tokens:
                yield tokens
        else:
            for start in range(0, len(tokens), max_sentence_length):
                yield tokens[start : start + max_sentence_length]


def _file_sentences(path: str, max_sentence_length: int, limit: int | None) -> Iterator[Sentence]:
    with open_for_reading(path) as stream:
        yield from _line_sentences(stream, path, max_sentence_length, limit)


class LineSentence:
    """Sentences from a text file with one sentence per line, tokens separated by whitespace.

    Each line is decoded as UTF-8 and split on whitespace (``str.split()``). A line of more than
    `max_sentence_length` tokens is cut into consecutive sentences of at most that many tokens,
    so no token is lost; an empty line yields no sentence.

    Parameters
    ----------
    source : str, os.PathLike or file object
        A path to a plain text file, or to a compressed one chosen by its extension: ``.gz``,
        ``.bz2``, ``.xz`` or ``.lzma``. Or an open file object in binary or text mode; when it is
        seekable it is rewound at the start of each iteration.
    max_sentence_length : int, optional
        Longest sentence yielded, in tokens.
    limit : int or None, optional
        Read at most this many lines (empty ones included) per iteration; ``None`` reads all.

    Attributes
    ----------
    source : str, os.PathLike or file object
        `source` as given.
    max_sentence_length : int
    limit : int or None

    Raises
    ------
    FileNotFoundError
        At construction, when `source` is a path that does not exist.
    UnicodeDecodeError
        While iterating, when a line is not valid UTF-8; the message names the file and the line
        number (1-based). It is a ``ValueError``. A file object opened in text mode decodes by
        itself and raises its own errors.
    RuntimeError
        When a file object that cannot seek is iterated a second time: the sentences it held are
        gone, and training silently on nothing would be worse.

    Examples
    --------
    >>> import io
    >>> corpus = LineSentence(io.BytesIO(b"human interface computer\\nsurvey user\\n"))
    >>> list(corpus)
    [['human', 'interface', 'computer'], ['survey', 'user']]
    >>> list(corpus) == list(corpus)
    True
    """

    def __init__(
        self,
        source: PathType | IO[bytes] | IO[str],
        max_sentence_length: int = MAX_SENTENCE_LENGTH,
        limit: int | None = None,
    ) -> None:
        _check_sizes(max_sentence_length, limit)
        self.source = source
        self.max_sentence_length = max_sentence_length
        self.limit = limit
        self._path: str | None = None
        if isinstance(source, (str, bytes, os.PathLike)):
            self._path = _existing_path(source)
            if os.path.isdir(self._path):
                raise IsADirectoryError(
                    errno.EISDIR, "LineSentence reads one file; use PathLineSentences", self._path
                )
        elif not hasattr(source, "read"):
            raise TypeError(f"source must be a path or a file object, got {type(source).__name__}")
        self._exhausted_stream = False

    @property
    def path(self) -> str | None:
        """The file path when reading that file directly gives exactly these sentences, else None.

        That is the case for an uncompressed file read without a `limit`; a trainer can then use
        its own reader on the file, cutting lines at `max_sentence_length` tokens as well.
        """
        if self._path is None or self.limit is not None or is_compressed(self._path):
            return None
        return self._path

    def __iter__(self) -> Iterator[Sentence]:
        if self._path is not None:
            yield from _file_sentences(self._path, self.max_sentence_length, self.limit)
            return
        # A path was read above: the source is a file object.
        stream = cast(Union[IO[bytes], IO[str]], self.source)
        seekable = getattr(stream, "seekable", None)
        if seekable is not None and seekable():
            stream.seek(0)
        elif self._exhausted_stream:
            raise RuntimeError(
                "LineSentence over a non-seekable stream can be iterated only once; "
                "write the corpus to a file or pass a list of sentences to iterate it again"
            )
        else:
            self._exhausted_stream = True
        name = str(getattr(stream, "name", repr(stream)))
        yield from _line_sentences(stream, name, self.max_sentence_length, self.limit)


class PathLineSentences:
    """Sentences from every file of a directory, or from one file, in `LineSentence` format.

    Files are read in sorted order of their names, each with `LineSentence`'s rules: the same
    compressions, the same splitting of long lines, and `limit` counted per file (as gensim does),
    not over the whole directory.

    Parameters
    ----------
    source : str or os.PathLike
        A directory, whose regular files (not its subdirectories) are read, or a single file.
    max_sentence_length : int, optional
        Longest sentence yielded, in tokens.
    limit : int or None, optional
        Read at most this many lines of each file; ``None`` reads all.

    Attributes
    ----------
    source : str
        `source` as a path string.
    input_files : list of str
        The files read, in order, listed once at construction.

    Raises
    ------
    FileNotFoundError
        At construction, when `source` does not exist.
    UnicodeDecodeError
        While iterating, when a line is not valid UTF-8 (a ``ValueError`` naming file and line).

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> for name, text in [("b.txt", "second file\\n"), ("a.txt", "first file\\n")]:
    ...     with open(os.path.join(folder, name), "w", encoding="utf-8") as stream:
    ...         _ = stream.write(text)
    >>> list(PathLineSentences(folder))
    [['first', 'file'], ['second', 'file']]
    """

    def __init__(
        self,
        source: PathType,
        max_sentence_length: int = MAX_SENTENCE_LENGTH,
        limit: int | None = None,
    ) -> None:
        _check_sizes(max_sentence_length, limit)
        self.source = _existing_path(source)
        self.max_sentence_length = max_sentence_length
        self.limit = limit
        if os.path.isdir(self.source):
            entries = (os.path.join(self.source, name) for name in sorted(os.listdir(self.source)))
            self.input_files = [path for path in entries if os.path.isfile(path)]
        else:
            self.input_files = [self.source]

    def __iter__(self) -> Iterator[Sentence]:
        for path in self.input_files:
            yield from _file_sentences(path, self.max_sentence_length, self.limit)


class Text8Corpus:
    """Sentences from a file that is one long run of whitespace-separated words (like text8).

    The file is read 8192 bytes at a time, so memory stays bounded however long the file is,
    and cut only at whitespace, so no word is ever split between two reads. The words are
    grouped into sentences of exactly `max_sentence_length` words, the last one shorter.
    Newlines count as ordinary whitespace: they do not end sentences.

    Parameters
    ----------
    fname : str or os.PathLike
        The file, plain or compressed (``.gz``, ``.bz2``, ``.xz``, ``.lzma``).
    max_sentence_length : int, optional
        Words per sentence.

    Raises
    ------
    FileNotFoundError
        At construction, when `fname` does not exist.
    UnicodeDecodeError
        While iterating, when the text is not valid UTF-8; the message names the file and the
        byte offset (in the decompressed text). It is a ``ValueError``.

    Notes
    -----
    gensim may yield a last sentence longer than `max_sentence_length`; this class never does.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "text8")
    >>> with open(path, "w", encoding="utf-8") as stream:
    ...     _ = stream.write(" anarchism originated as a term of abuse")
    >>> list(Text8Corpus(path, max_sentence_length=3))
    [['anarchism', 'originated', 'as'], ['a', 'term', 'of'], ['abuse']]
    """

    def __init__(self, fname: PathType, max_sentence_length: int = MAX_SENTENCE_LENGTH) -> None:
        _check_sizes(max_sentence_length, None)
        self.fname = _existing_path(fname)
        self.max_sentence_length = max_sentence_length

    def __iter__(self) -> Iterator[Sentence]:
        size = self.max_sentence_length
        words: list[str] = []
        # The bytes after the last whitespace seen: a word that may go on in the next chunk.
        # Only each new chunk is searched for whitespace, so text without any (one endless
        # word) costs linear time, not quadratic.
        pending = bytearray()
        decoded_bytes = 0
        with open_for_reading(self.fname) as stream:
            while True:
                chunk = stream.read(_TEXT8_CHUNK_BYTES)
                if chunk:
                    cut = max(chunk.rfind(byte) for byte in _ASCII_WHITESPACE) + 1
                    if not cut:
                        pending += chunk
                        continue
                    text = bytes(pending) + chunk[:cut]
                    pending = bytearray(chunk[cut:])
                else:
                    # At the end of the file there is no next chunk: everything is complete.
                    text = bytes(pending)
                try:
                    words.extend(text.decode("utf-8").split())
                except UnicodeDecodeError as err:
                    where = f"in {self.fname!r} at byte {decoded_bytes + err.start}"
                    raise _undecodable(err, where) from None
                decoded_bytes += len(text)
                complete = len(words) - len(words) % size
                for start in range(0, complete, size):
                    yield words[start : start + size]
                del words[:complete]
                if not chunk:
                    if words:
                        yield words
                    return
