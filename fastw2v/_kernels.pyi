"""Type stub of the compiled `_kernels` module (see `_kernels.pyx`)."""

from collections.abc import Iterable
from typing import Any, Optional

import numpy as np
import numpy.typing as npt

STEP_CAPSULE_NAME: str
NEGATIVE_SAMPLING_STEP: object
HIERARCHICAL_SOFTMAX_STEP: object
FULL_SOFTMAX_STEP: object
SGEMM_STEP: bool

def bind_blas() -> None: ...

class Trainer:
    def __init__(
        self,
        config: Any,
        syn0: np.ndarray,
        keep_threshold: np.ndarray,
        objectives: Iterable[Any],
        *,
        compute_loss: bool = ...,
        lockf: Optional[npt.ArrayLike] = ...,
    ) -> None: ...
    def set_schedule(
        self, alpha_start: float, alpha_end: float, total_words: int, words_done: int = ...
    ) -> None: ...
    @property
    def words_done(self) -> int: ...
    def add_words_done(self, words: int) -> int: ...
    @property
    def alpha(self) -> float: ...
    def alpha_after(self, words_done: int) -> float: ...
    def request_stop(self) -> None: ...
    @property
    def stop_requested(self) -> bool: ...
    def train_batch(
        self,
        worker: WorkerState,
        ids: npt.NDArray[np.int32],
        sentence_ends: npt.NDArray[np.int64],
        raw_words: npt.NDArray[np.int64],
    ) -> int: ...
    def subsample_ids(self, worker: WorkerState, ids: npt.ArrayLike) -> np.ndarray: ...
    def predict_step(
        self,
        worker: WorkerState,
        context: npt.ArrayLike,
        target: int,
        alpha: float,
        negatives: Optional[npt.ArrayLike] = ...,
    ) -> None: ...

def score_sentences(
    trainer: Trainer,
    ids: npt.NDArray[np.int32],
    sentence_ends: npt.NDArray[np.int64],
    scores: npt.NDArray[np.float32],
) -> None: ...

class WorkerState:
    def __init__(self, trainer: Trainer, seed: int) -> None: ...
    def reseed(self, seed: int) -> None: ...
    @property
    def loss(self) -> float: ...
    @property
    def predictions(self) -> int: ...
    @property
    def words_trained(self) -> int: ...
    def reset_counters(self) -> None: ...
