"""Type stub of the compiled `_averaging` module (see `_averaging.pyx`)."""

from typing import Optional

import numpy as np

def measure(rows: np.ndarray, out: np.ndarray) -> None: ...
def add_combined(live: Optional[np.ndarray], base: np.ndarray, moves: np.ndarray,
                 summed: np.ndarray, shares: np.ndarray, words_combined: np.ndarray,
                 words: int, processes: int, rate: float,
                 squared_lengths: np.ndarray) -> None: ...
