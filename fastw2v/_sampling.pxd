# Random numbers and O(1) draws for the training kernels. Everything here is inline so that the
# kernels that cimport it pay no call overhead per draw.

from libc.stdint cimport int32_t, uint32_t, uint64_t


cdef struct AliasEntry:
    # Accept the drawn slot when the low 32 random bits are below `threshold` (a probability
    # scaled by 2**32), otherwise take its `alias`; a slot always kept is its own alias.
    uint32_t threshold
    int32_t alias


cdef inline uint64_t next_random(uint64_t *state) noexcept nogil:
    # splitmix64: one word of state per thread, full 64-bit output, passes BigCrush.
    cdef uint64_t z
    state[0] += <uint64_t>0x9E3779B97F4A7C15
    z = state[0]
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EB
    return z ^ (z >> 31)


cdef inline uint64_t random_below(uint64_t *state, uint64_t bound) noexcept nogil:
    # Multiply-shift instead of modulo: unbiased enough for window sizes, and no division.
    return ((next_random(state) >> 32) * bound) >> 32


cdef inline int32_t draw_alias(const AliasEntry *table, uint64_t size,
                               uint64_t *state) noexcept nogil:
    cdef uint64_t r = next_random(state)
    cdef uint64_t slot = ((r >> 32) * size) >> 32
    # A select rather than a branch: the comparison is random, so a branch would mispredict often.
    cdef int32_t accept = -<int32_t>(<uint32_t>r < table[slot].threshold)
    return (<int32_t>slot & accept) | (table[slot].alias & ~accept)
