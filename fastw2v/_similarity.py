"""Cosine-similarity building blocks shared by the similarity queries and the evaluations.

:class:`fastw2v.keyedvectors.KeyedVectors` answers queries with these functions and
:mod:`fastw2v.evaluation` ranks analogy candidates with the same ones, so that an evaluation
answers exactly as a query would. They take plain arrays and import nothing of fastw2v.

Examples
--------
>>> import numpy as np
>>> vectors = np.array([[3, 4], [0, 2], [1, 0]], dtype=np.float32)
>>> norms = np.linalg.norm(vectors, axis=1)
>>> scores = row_similarities(vectors, norms, unit_vector(np.array([0.0, 1.0])), 0, 3)
>>> largest_first(scores, 2).tolist()
[1, 0]
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "cosmul_scores",
    "largest_first",
    "row_similarities",
    "unit_row",
    "unit_vector",
    "weighted_mean",
    "word_movers_distance",
]

logger = logging.getLogger(__name__)


def unit_vector(vector: np.ndarray) -> np.ndarray:
    """`vector` scaled to unit length, in its own dtype; zero (or NaN) vectors unchanged.

    Scaling in double precision and rounding once makes float32 results match gensim's
    (double-precision BLAS) bit for bit.

    Examples
    --------
    >>> unit_vector(np.array([3, 4], dtype=np.float32))
    array([0.6, 0.8], dtype=float32)
    """
    as_double = vector.astype(np.float64)
    length = np.sqrt(np.dot(as_double, as_double))
    if length > 0:
        return (as_double * (1.0 / length)).astype(vector.dtype)
    return vector


def largest_first(scores: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` largest `scores`, largest first.

    A partial partition finds them in linear time; only those few are then sorted.

    Examples
    --------
    >>> largest_first(np.array([0.1, 0.9, 0.5, 0.7]), 2).tolist()
    [1, 3]
    """
    negated = -scores
    if count >= scores.size:
        return np.argsort(negated)[:count]
    candidates = np.argpartition(negated, count)[:count]
    return candidates[np.argsort(negated[candidates])]


def unit_row(vectors: np.ndarray, norms: np.ndarray, index: int) -> np.ndarray:
    """Row `index` of `vectors` divided by its norm.

    Examples
    --------
    >>> vectors = np.array([[3, 4]], dtype=np.float32)
    >>> unit_row(vectors, np.linalg.norm(vectors, axis=1), 0)
    array([0.6, 0.8], dtype=float32)
    """
    return vectors[index] / norms[index]


def row_similarities(
    vectors: np.ndarray, norms: np.ndarray, query: np.ndarray, start: int, end: int
) -> np.ndarray:
    """Cosine of every row in ``[start, end)`` with the unit-length `query`.

    Dividing the products by the norms costs O(n) and avoids keeping a normalised copy
    of the whole matrix.

    Examples
    --------
    >>> vectors = np.array([[2, 0], [1, 1]], dtype=np.float32)
    >>> row_similarities(vectors, np.linalg.norm(vectors, axis=1), np.array([1, 0]), 0, 2)
    array([1.        , 0.70710679])
    """
    return np.dot(vectors[start:end], query) / norms[start:end]


def weighted_mean(
    terms: list[tuple[np.ndarray, Any]], vector_size: int, dtype: Any, unit: bool
) -> np.ndarray:
    """Sum of ``weight * vector`` over `terms` divided by the total absolute weight.

    Parameters
    ----------
    terms : list of (numpy.ndarray, float)
        Vectors and their weights.
    vector_size : int
        Length of the vectors.
    dtype : numpy dtype
        dtype the sum is accumulated in.
    unit : bool
        Scale the result to unit length (and float32).

    Examples
    --------
    >>> weighted_mean([(np.array([1.0, 0.0]), 1.0), (np.array([0.0, 1.0]), -1.0)],
    ...               2, np.float64, unit=False)
    array([ 0.5, -0.5])
    """
    mean = np.zeros(vector_size, dtype=dtype)
    total_weight = 0
    for vector, weight in terms:
        mean += weight * vector
        total_weight += abs(weight)
    if total_weight > 0:
        mean = mean / total_weight
    if unit:
        mean = unit_vector(mean).astype(np.float32)
    return mean


def cosmul_scores(
    vectors: np.ndarray,
    norms: np.ndarray,
    positive: list[np.ndarray],
    negative: list[np.ndarray],
    end: int,
) -> np.ndarray:
    """3CosMul score of each of the first `end` rows (Levy and Goldberg, 2014).

    The product of the row's shifted cosines ``(1 + cos) / 2`` with the `positive` vectors,
    divided by the product with the `negative` vectors plus 1e-6.

    Examples
    --------
    >>> vectors = np.array([[1, 0], [0, 1]], dtype=np.float32)
    >>> cosmul_scores(vectors, np.ones(2), [np.array([1, 0])], [], 2)
    array([0.999999 , 0.4999995])
    """

    # Shifting cosines from [-1, 1] to [0, 1] keeps products and quotients monotonic
    # (footnote 7 of Levy and Goldberg); 1e-6 guards against division by zero.
    def shifted(term: np.ndarray) -> np.ndarray:
        return (1 + row_similarities(vectors, norms, term, 0, end)) / 2

    return np.prod([shifted(term) for term in positive], axis=0) / (
        np.prod([shifted(term) for term in negative], axis=0) + 1e-6
    )


def word_movers_distance(
    document1: Sequence[Any], document2: Sequence[Any], vector_of: Callable[[Any], np.ndarray]
) -> float:
    """Word Mover's Distance between two documents of known words (Kusner et al., 2015).

    The least total Euclidean distance the words of `document1` must travel to become those
    of `document2`, each document weighing its words by their frequency in it; solved by the
    optional POT package.

    Parameters
    ----------
    document1, document2 : sequence
        Non-empty lists of words.
    vector_of : callable
        The vector of a word.

    Returns
    -------
    float
        0.0 when both documents are one and the same word; ``inf`` when every pair of their
        words is at distance 0.

    Examples
    --------
    >>> vectors = {"a": np.array([0.0, 0.0]), "b": np.array([3.0, 4.0])}
    >>> word_movers_distance(["a", "b"], ["b"], vectors.get)  # half the weight moves 5
    2.5
    """
    from ot import emd2
    from scipy.spatial.distance import cdist

    # Number the distinct words as gensim's dictionary does (each document's new words in
    # sorted order), so that the solver gets the very problem gensim gives it.
    ids: dict[Any, int] = {}
    for document in (document1, document2):
        for word in sorted(set(document)):
            ids.setdefault(word, len(ids))
    if len(ids) == 1:
        return 0.0
    words1, words2 = list(set(document1)), list(set(document2))
    distances = np.zeros((len(ids), len(ids)), dtype=np.float64)
    distances[np.ix_([ids[word] for word in words1], [ids[word] for word in words2])] = cdist(
        np.array([vector_of(word) for word in words1]),
        np.array([vector_of(word) for word in words2]),
    )
    if abs(np.sum(distances)) < 1e-8:
        # The solver does not terminate on an all-zero cost matrix.
        logger.info("word mover's distance: every word pair is at distance 0; returning inf")
        return float("inf")

    def frequencies(document: Sequence[Any]) -> np.ndarray:
        counts = np.zeros(len(ids), dtype=np.float64)
        for word in document:
            counts[ids[word]] += 1
        return counts / float(len(document))

    return float(emd2(frequencies(document1), frequencies(document2), distances))
