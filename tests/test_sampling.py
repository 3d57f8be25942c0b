"""Alias-method sampling of the noise distribution."""

import numpy as np
import pytest
from scipy import stats

from fastw2v import _sampling

COUNTS = np.array([1000, 400, 250, 120, 60, 31, 15, 8, 4, 2, 1] * 3, dtype=np.float64)


def test_draws_follow_count_to_the_three_quarters():
    weights = COUNTS ** 0.75
    table = _sampling.build_alias_table(weights)
    draws = _sampling.draw_samples(table, 2_000_000, seed=7)
    observed = np.bincount(draws, minlength=len(COUNTS))
    expected = weights / weights.sum() * len(draws)
    assert stats.chisquare(observed, expected).pvalue > 1e-3
    # The same test rejects the unsmoothed distribution: it can tell 0.75 from 1.
    wrong = COUNTS / COUNTS.sum() * len(draws)
    assert stats.chisquare(observed, wrong).pvalue < 1e-12


def test_every_outcome_reachable_and_zero_weights_never_drawn():
    weights = np.array([0.0, 5.0, 0.0, 1.0, 1e-6])
    draws = _sampling.draw_samples(_sampling.build_alias_table(weights), 3_000_000, seed=1)
    seen = np.bincount(draws, minlength=5)
    assert seen[0] == 0 and seen[2] == 0
    assert seen[1] > seen[3] > 0


def test_single_outcome_and_invalid_weights():
    assert set(_sampling.draw_samples(_sampling.build_alias_table([3.0]), 1000, 5)) == {0}
    for bad in ([], [0.0, 0.0], [1.0, -1.0], [np.inf, 1.0]):
        with pytest.raises(ValueError):
            _sampling.build_alias_table(np.array(bad, dtype=np.float64))


def test_generator_is_deterministic_per_seed_and_uniform():
    a = _sampling.random_words(42, 100_000)
    assert np.array_equal(a, _sampling.random_words(42, 100_000))
    assert not np.array_equal(a, _sampling.random_words(43, 100_000))
    top_bits = (a >> np.uint64(60)).astype(np.int64)
    assert stats.chisquare(np.bincount(top_bits, minlength=16)).pvalue > 1e-3
