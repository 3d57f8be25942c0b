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

from typing import Any

import numpy as np

__all__ = [
    "cosmul_scores",
    "largest_first",
    "row_similarities",
    "unit_row",
    "unit_vector",
    "weighted_mean",
]


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
