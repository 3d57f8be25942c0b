"""Type stub of the compiled `_sampling` module (see `_sampling.pyx`)."""

import numpy as np
import numpy.typing as npt

ALIAS_DTYPE: np.dtype[np.void]

def build_alias_table(weights: npt.ArrayLike) -> np.ndarray: ...
def draw_samples(table: np.ndarray, count: int, seed: int) -> npt.NDArray[np.int32]: ...
def random_words(seed: int, count: int) -> npt.NDArray[np.uint64]: ...
