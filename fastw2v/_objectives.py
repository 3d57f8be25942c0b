"""Training objectives: negative sampling, hierarchical softmax and the exact full softmax.

Each objective is one unit. It owns its output weights (gensim's ``syn1neg`` or ``syn1``), the
tables it samples or walks (the alias table over the noise distribution, the Huffman paths),
the arrays a saved model keeps for it, and how all of these follow the vocabulary when it grows.
It hands the compiled trainer its step (a capsule of one compiled function) and a kernel table
(a dict of its arrays). Adding an objective is one class here and one function in
``_kernels.pyx`` (or in any compiled module that cimports ``fastw2v._kernels``).

>>> import numpy as np
>>> from fastw2v._config import TrainingConfig
>>> objectives = objectives_for(TrainingConfig(hs=1, negative=5), np.array([5, 3, 2]), 4)
>>> [type(o).__name__ for o in objectives]
['HierarchicalSoftmax', 'NegativeSampling']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Optional

import numpy as np

from fastw2v import _kernels, _sampling, _vocab
from fastw2v._config import TrainingConfig

# Hierarchical softmax's inner nodes nearest the root that each worker keeps a private copy of
# when there are several (see `_kernels.merge_hot_rows`): the top of the tree, which nearly every
# prediction writes; and the trained words between merges of a worker's copy.
HOT_NODES = 63
HOT_MERGE_WORDS = 256


def word_shares(counts: np.ndarray) -> np.ndarray:
    """Each word's share of the words read (zeros when nothing was counted)."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    return counts / total if total > 0 else np.zeros(len(counts))


class Objective:
    """What every objective provides; subclasses fill in the tables.

    Parameters
    ----------
    output : ndarray of float32, shape (vocabulary size, vector size)
        The output weights, trained in place.
    """

    #: The name of the output weights on `Word2Vec` and in saved models.
    output_name: ClassVar[str]
    #: The compiled step: a capsule named ``_kernels.STEP_CAPSULE_NAME``.
    step: ClassVar[Any]

    def __init__(self, output: np.ndarray) -> None:
        self.output = output

    @classmethod
    def enabled(cls, config: TrainingConfig) -> bool:
        """Whether `config` trains this objective."""
        raise NotImplementedError

    @classmethod
    def create(cls, config: TrainingConfig, counts: np.ndarray,
               output: Optional[np.ndarray] = None) -> Objective:
        """The objective for a vocabulary with these counts (zero output weights by default)."""
        if output is None:
            output = np.zeros((len(counts), config.vector_size), dtype=np.float32)
        objective = cls(output)
        objective.update_tables(config, counts)
        return objective

    def update_tables(self, config: TrainingConfig, counts: np.ndarray) -> None:
        """Rebuild the sampling tables from the (new) counts; nothing by default."""

    def row_shares(self, counts: np.ndarray) -> np.ndarray:
        """Each output row's share of the words read: the fraction whose predictions update it
        (the target's own row by default), for combining models across processes."""
        return word_shares(counts)

    def grow(self, config: TrainingConfig, counts: np.ndarray) -> None:
        """Follow a vocabulary that grew to len(counts) words: rows learned so far are kept,
        new words' rows start at zero, and the tables are rebuilt from the combined counts."""
        grown = np.zeros((len(counts), self.output.shape[1]), dtype=np.float32)
        keep = min(len(self.output), len(counts))
        grown[:keep] = self.output[:keep]
        self.output = grown
        self.update_tables(config, counts)

    def kernel_table(self) -> dict[str, Any]:
        """The arrays and sizes the compiled trainer reads (see `_kernels.Trainer`)."""
        return {"output": self.output}

    def saved_arrays(self) -> dict[str, np.ndarray]:
        """What a saved model keeps: the output weights (tables are rebuilt from the counts)."""
        return {self.output_name: self.output}


class NegativeSampling(Objective):
    """The target against ``negative`` noise words drawn from counts ** ns_exponent."""

    output_name = "syn1neg"
    step = _kernels.NEGATIVE_SAMPLING_STEP

    def __init__(self, output: np.ndarray, noise_table: Optional[np.ndarray] = None,
                 negative: int = 5) -> None:
        super().__init__(output)
        self.noise_table = noise_table
        self.negative = negative

    @classmethod
    def enabled(cls, config: TrainingConfig) -> bool:
        return config.negative > 0

    def update_tables(self, config: TrainingConfig, counts: np.ndarray) -> None:
        self.negative = config.negative
        weights = (np.maximum(_vocab.noise_weights(counts, config.ns_exponent), 0.0)
                   if np.any(counts > 0) else np.ones(len(counts)))
        self.noise_table = _sampling.build_alias_table(weights)

    def kernel_table(self) -> dict[str, Any]:
        return {"output": self.output, "noise_table": self.noise_table,
                "negative": self.negative}


class HierarchicalSoftmax(Objective):
    """The inner nodes of the target's path in a Huffman tree over the counts."""

    output_name = "syn1"
    step = _kernels.HIERARCHICAL_SOFTMAX_STEP

    def __init__(self, output: np.ndarray,
                 paths: Optional[tuple[np.ndarray, np.ndarray, np.ndarray]] = None) -> None:
        super().__init__(output)
        self.paths = paths

    @classmethod
    def enabled(cls, config: TrainingConfig) -> bool:
        return bool(config.hs)

    def update_tables(self, config: TrainingConfig, counts: np.ndarray) -> None:
        # Rebuilt from the combined counts after a vocabulary update: inner nodes keep their
        # rows, so the tree's early nodes start from what was learned before.
        self.paths = _vocab.huffman_paths(counts)

    def row_shares(self, counts: np.ndarray) -> np.ndarray:
        """An inner node's share is that of the words below it: the root's is 1."""
        assert self.paths is not None
        points, _, offsets = self.paths
        counts = np.asarray(counts, dtype=np.float64)
        below = np.bincount(points, weights=np.repeat(counts, np.diff(offsets)),
                            minlength=len(self.output))
        total = counts.sum()
        return below / total if total > 0 else below

    def kernel_table(self) -> dict[str, Any]:
        assert self.paths is not None
        points, codes, offsets = self.paths
        # Inner nodes are numbered in the order the tree was built, heaviest last: the last
        # HOT_NODES rows (root included) are the ones most predictions pass through.
        inner = max(len(offsets) - 2, 0)
        hot = min(HOT_NODES, inner)
        return {"output": self.output, "hs_points": points, "hs_codes": codes,
                "hs_offsets": offsets, "hot_first": inner - hot, "hot_count": hot,
                "hot_merge_words": HOT_MERGE_WORDS}


class FullSoftmax(Objective):
    """The exact softmax over every word: O(vocabulary) per prediction."""

    output_name = "syn1"
    step = _kernels.FULL_SOFTMAX_STEP

    @classmethod
    def enabled(cls, config: TrainingConfig) -> bool:
        return bool(config.softmax)

    def kernel_table(self) -> dict[str, Any]:
        _kernels.bind_blas()
        return {"output": self.output, "scratch_floats": len(self.output)}


#: Every objective, in the order the trainer runs them for each prediction.
OBJECTIVES: tuple[type[Objective], ...] = (HierarchicalSoftmax, NegativeSampling, FullSoftmax)
#: The output arrays a saved model holds, whether or not its objective is enabled.
OUTPUT_NAMES = tuple(dict.fromkeys(o.output_name for o in OBJECTIVES))


def objectives_for(config: TrainingConfig, counts: np.ndarray,
                   dim: Optional[int] = None) -> list[Objective]:
    """Fresh objectives of `config` for a vocabulary with these counts."""
    if dim is not None and dim != config.vector_size:
        config = config.replace(vector_size=dim)
    return [cls.create(config, counts) for cls in OBJECTIVES if cls.enabled(config)]


def follow_vocabulary(objectives: Sequence[Objective], config: TrainingConfig,
                      counts: np.ndarray) -> list[Objective]:
    """The objectives of `config` after the vocabulary grew to len(counts) words: those that
    already existed keep what they learned, others start fresh."""
    existing = {type(o): o for o in objectives}
    result = []
    for cls in OBJECTIVES:
        if not cls.enabled(config):
            continue
        objective = existing.get(cls)
        if objective is None:
            objective = cls.create(config, counts)
        else:
            objective.grow(config, counts)
        result.append(objective)
    return result


def restore(config: TrainingConfig, counts: np.ndarray,
            arrays: Mapping[str, np.ndarray]) -> list[Objective]:
    """The objectives of a saved model, from its arrays (ValueError if they do not fit)."""
    size, dim = len(counts), config.vector_size
    objectives = []
    claimed = set()
    for cls in OBJECTIVES:
        if cls.enabled(config):
            output = np.array(arrays[cls.output_name], dtype=np.float32)
            if output.shape != (size, dim):
                raise ValueError("output weights do not match the vocabulary")
            objectives.append(cls.create(config, counts, output))
            claimed.add(cls.output_name)
    for name in OUTPUT_NAMES:
        if name not in claimed and np.shape(arrays[name]) != (0, dim):
            raise ValueError("output weights do not match the vocabulary")
    return objectives


def saved_arrays(objectives: Sequence[Objective], dim: int) -> dict[str, np.ndarray]:
    """The output arrays of a saved model: an empty (0, dim) array for each unused name."""
    arrays = {name: np.zeros((0, dim), dtype=np.float32) for name in OUTPUT_NAMES}
    for objective in objectives:
        arrays.update(objective.saved_arrays())
    return arrays
