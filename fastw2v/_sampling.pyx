"""Alias tables (Walker/Vose) for O(1) draws from a discrete distribution, and test hooks."""

import numpy as np

cimport numpy as cnp
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t

cnp.import_array()

# The threshold of a slot that is always kept.
cdef uint32_t ALWAYS = 0xFFFFFFFF

ALIAS_DTYPE = np.dtype([("threshold", np.uint32), ("alias", np.int32)])


def build_alias_table(weights) -> np.ndarray:
    """Return the alias table of the distribution proportional to `weights` (Vose's method).

    Each slot i holds a threshold t_i (scaled by 2**32) and an alias a_i: draw a slot uniformly,
    keep it with probability t_i / 2**32, else take a_i. O(n) to build, O(1) per draw. A slot
    kept always is stored as t_i = 2**32 - 1 with itself as its alias, so that an entry is 8
    bytes: the table is read at random, once per noise word, and half the size misses the
    cache half as often on a large vocabulary.
    """
    cdef cnp.float64_t[::1] w = np.ascontiguousarray(weights, dtype=np.float64)
    cdef Py_ssize_t n = w.shape[0], i, small_top = 0, large_top = 0, s, big
    if n == 0:
        raise ValueError("cannot build an alias table over an empty distribution")
    if n >= 2**31:
        raise ValueError("alias table supports at most 2**31 - 1 outcomes")
    total = float(np.sum(weights, dtype=np.float64))
    if not np.isfinite(total) or total <= 0 or np.any(np.asarray(w) < 0):
        raise ValueError("alias table weights must be finite, non-negative and not all zero")

    table = np.zeros(n, dtype=ALIAS_DTYPE)
    cdef cnp.float64_t[::1] scaled = np.asarray(w) * (n / total)
    cdef int64_t[::1] small = np.empty(n, dtype=np.int64)
    cdef int64_t[::1] large = np.empty(n, dtype=np.int64)
    cdef uint32_t[::1] threshold = np.zeros(n, dtype=np.uint32)
    cdef int32_t[::1] alias = np.arange(n, dtype=np.int32)
    cdef double two32 = 4294967296.0

    for i in range(n):
        if scaled[i] < 1.0:
            small[small_top] = i
            small_top += 1
        else:
            large[large_top] = i
            large_top += 1
    while small_top > 0 and large_top > 0:
        small_top -= 1
        s = small[small_top]
        big = large[large_top - 1]
        # Below 2**32 - 1 (truncated, scaled[s] < 1), or the most an entry holds.
        threshold[s] = <uint32_t>min(scaled[s] * two32, <double>ALWAYS)
        alias[s] = <int32_t>big
        scaled[big] = (scaled[big] + scaled[s]) - 1.0
        if scaled[big] < 1.0:
            large_top -= 1
            small[small_top] = big
            small_top += 1
    # Whatever is left has probability 1 up to rounding error: always keep it.
    # (Their alias is still their own index.)
    for i in range(large_top):
        threshold[large[i]] = ALWAYS
    for i in range(small_top):
        threshold[small[i]] = ALWAYS

    table["threshold"] = np.asarray(threshold)
    table["alias"] = np.asarray(alias)
    return table


def draw_samples(table, Py_ssize_t count, uint64_t seed) -> np.ndarray:
    """Draw `count` outcomes from an alias table (for tests and benchmarks)."""
    if table.dtype != ALIAS_DTYPE:
        raise TypeError("table must come from build_alias_table")
    cdef AliasEntry[::1] entries = table
    cdef int32_t[::1] out = np.empty(count, dtype=np.int32)
    cdef uint64_t state = seed
    cdef uint64_t size = entries.shape[0]
    cdef Py_ssize_t i
    with nogil:
        for i in range(count):
            out[i] = draw_alias(&entries[0], size, &state)
    return np.asarray(out)


def random_words(uint64_t seed, Py_ssize_t count) -> np.ndarray:
    """`count` raw 64-bit outputs of the kernels' generator (for tests)."""
    cdef uint64_t[::1] out = np.empty(count, dtype=np.uint64)
    cdef uint64_t state = seed
    cdef Py_ssize_t i
    for i in range(count):
        out[i] = next_random(&state)
    return np.asarray(out)
