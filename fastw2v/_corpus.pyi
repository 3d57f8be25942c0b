"""Type stub of the compiled `_corpus` module (see `_corpus.pyx`)."""

import os
from collections.abc import Sequence
from typing import Any, Literal, Union, overload

import numpy as np
import numpy.typing as npt

from fastw2v._kernels import Trainer, WorkerState

_Path = Union[str, bytes, os.PathLike[str], os.PathLike[bytes]]

MAX_SENTENCE_LENGTH: int
MAX_PROBED_LINE_BYTES: int

def sentence_tokens(sentence: Any, index: int) -> Sequence[Any]: ...
def encode_sentences(
    sentences: list[Any], key_to_index: dict[str, int], first_index: int = ...
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...

class VocabHash:
    def __init__(self, index_to_key: Sequence[str]) -> None: ...
    def get(self, word: str) -> int: ...

class RangeCache:
    def __init__(
        self, budget: int, expected_ids: int = ..., expected_sentences: int = ...
    ) -> None: ...
    @property
    def complete(self) -> bool: ...
    @property
    def nbytes(self) -> int: ...

def train_file_range(
    trainer: Trainer,
    worker: WorkerState,
    vocab: VocabHash,
    path: _Path,
    start: int,
    end: int,
    cache: RangeCache | None = ...,
) -> None: ...
@overload
def line_ranges(
    path: _Path,
    parts: int,
    start: int = ...,
    end: int | None = ...,
    lines_only: Literal[False] = ...,
    probe_bytes: int = ...,
) -> list[tuple[int, int]]: ...
@overload
def line_ranges(
    path: _Path,
    parts: int,
    start: int = ...,
    end: int | None = ...,
    *,
    lines_only: Literal[True],
    probe_bytes: int = ...,
) -> list[tuple[int, int]] | None: ...
