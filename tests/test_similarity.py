"""Tests for fastw2v._similarity: the ranking pieces shared by queries and evaluations."""

import numpy as np
import pytest

from fastw2v._similarity import (
    cosmul_scores,
    largest_first,
    row_similarities,
    unit_row,
    unit_vector,
    weighted_mean,
    word_movers_distance,
)


def test_unit_vector_keeps_the_dtype_and_leaves_zero_vectors_alone():
    scaled = unit_vector(np.array([3, 4], dtype=np.float32))
    assert scaled.dtype == np.float32 and scaled.tolist() == pytest.approx([0.6, 0.8])
    zero = np.zeros(3, dtype=np.float64)
    assert unit_vector(zero) is zero


def test_largest_first_orders_the_best_and_handles_counts_past_the_end():
    scores = np.array([0.3, 0.9, -1.0, 0.5, 0.7])
    assert largest_first(scores, 3).tolist() == [1, 4, 3]
    assert largest_first(scores, 5).tolist() == [1, 4, 3, 0, 2]
    assert largest_first(scores, 50).tolist() == [1, 4, 3, 0, 2]
    assert largest_first(scores, 0).tolist() == []


def test_row_cosines_and_means():
    vectors = np.array([[2, 0], [1, 1], [0, -3]], dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1)
    assert unit_row(vectors, norms, 2).tolist() == [0, -1]
    cosines = row_similarities(vectors, norms, np.array([1.0, 0.0]), 1, 3)
    assert cosines.tolist() == pytest.approx([np.sqrt(0.5), 0.0])
    mean = weighted_mean([(vectors[0], 1.0), (vectors[2], -2.0)], 2, np.float64, unit=False)
    assert mean.tolist() == pytest.approx([2 / 3, 2.0])
    unit_mean = weighted_mean([(vectors[0], 1.0)], 2, np.float64, unit=True)
    assert unit_mean.dtype == np.float32 and unit_mean.tolist() == [1, 0]
    assert weighted_mean([], 2, np.float32, unit=False).tolist() == [0, 0]


def test_cosmul_scores_follow_levy_and_goldberg():
    vectors = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1)
    positive, negative = [np.array([1.0, 0.0])], [np.array([0.0, 1.0])]
    cosines_positive = vectors @ positive[0] / norms
    cosines_negative = vectors @ negative[0] / norms
    expected = ((1 + cosines_positive) / 2) / ((1 + cosines_negative) / 2 + 1e-6)
    assert cosmul_scores(vectors, norms, positive, negative, 3).tolist() == pytest.approx(
        expected.tolist())
    assert cosmul_scores(vectors, norms, positive, negative, 2).shape == (2,)


def test_word_movers_distance_moves_the_frequency_weights():
    pytest.importorskip("ot")
    points = {"origin": np.zeros(2), "east": np.array([3.0, 0.0]), "north": np.array([0.0, 4.0]),
              "twin": np.zeros(2)}
    assert word_movers_distance(["origin"], ["east"], points.get) == pytest.approx(3.0)
    # A third of the weight goes east, two thirds north.
    assert word_movers_distance(["origin"] * 3, ["east", "north", "north"], points.get) == (
        pytest.approx(3 / 3 + 2 * 4 / 3))
    assert word_movers_distance(["east", "origin"], ["origin"], points.get) == pytest.approx(1.5)
    assert word_movers_distance(["east", "east"], ["east"], points.get) == 0.0
    assert word_movers_distance(["origin"], ["twin"], points.get) == float("inf")
