"""Type stub of the compiled `_count` module (see `_count.pyx`)."""

import os
from collections.abc import Sequence
from typing import Union

_Path = Union[str, bytes, os.PathLike[str], os.PathLike[bytes]]

MAX_PROBED_LINE_BYTES: int

class _WordCounter:
    def items(self) -> list[tuple[bytes, int]]: ...

def token_too_long(path: _Path, offset: int, length: int) -> ValueError: ...
def count_file_words(
    path: _Path,
    max_vocab_size: int = ...,
    max_sentence_length: int = ...,
    start: int = ...,
    end: int | None = ...,
) -> tuple[list[tuple[bytes, int]], int, int, int]: ...
def count_file_ranges(
    path: _Path,
    ranges: Sequence[tuple[int, int]],
    max_sentence_length: int = ...,
) -> tuple[list[tuple[bytes, int]], int, int, int]: ...
def splits_like_str_split(path: _Path, max_line_bytes: int = ...) -> bool: ...
