"""Type stub of the compiled `_w2v_format` module (see `_w2v_format.pyx`)."""

from typing import Any, Optional

import numpy as np
import numpy.typing as npt

STOP_DONE: int
STOP_MORE: int
STOP_SLOW: int
MAX_VALUE_CHARS: int

def parse_text(
    data: Any,
    position: int,
    end: int,
    rows: np.ndarray,
    first_row: int,
    keys: list[str],
    max_line_bytes: int,
) -> tuple[int, int, int]: ...
def parse_binary(
    data: Any,
    position: int,
    end: int,
    rows: np.ndarray,
    first_row: int,
    keys: list[str],
    max_word_bytes: int,
    encoding: Optional[str],
) -> tuple[int, int, int]: ...
def first_unwritable_word(words: list[Any]) -> tuple[int, Optional[str]]: ...
def format_rows(
    words: list[str],
    vectors: npt.NDArray[np.float32],
    start: int,
    stop: int,
    out: Any,
    binary: bool,
    newline: bool,
    positional_limit: float,
    order: Optional[npt.NDArray[np.intp]] = ...,
) -> tuple[int, int]: ...
