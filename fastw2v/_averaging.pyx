"""The arithmetic of combining a block of rows across processes (`_distributed`), in one pass.

The averaging thread runs while the workers train, on the same cores: every pass it makes over
the rows it combines is time they lose. NumPy would make five passes over a block (and build
several temporaries of its size); here the rows' shares, the new rows as last combined, the
live rows and their squared lengths come out of one pass over the block after the collective
call, with the GIL released.

Every process must compute the same rows from the same moves, bit for bit: the processes of a
job run one build of fastw2v. (``FASTW2V_NATIVE=1`` builds compiled separately on machines of
different CPUs may round ``base + share * summed`` differently, through fused multiply-adds:
their rows would drift apart by rounding until the epoch's end, where the first process's rows
are sent to all. The squared lengths cannot differ: a product of two floats is exact in
float64, and the sums' order is fixed.)
"""

import numpy as np

cimport numpy as cnp
from libc.math cimport expm1
from libc.stdint cimport int64_t

cnp.import_array()


cdef extern from *:
    """
    /* Each row's squared length in float64, in eight interleaved partial sums added in a fixed
       order: every process sums the same rows the same way (so that all of them derive the
       same learning rate from them), and the partial sums are independent chains, which one
       running sum would not be. */
    static double fw_squared_length(const float *restrict row, Py_ssize_t dim) {
        double partial[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
        double total = 0.0;
        Py_ssize_t j, whole = dim - dim % 8;
        for (j = 0; j < whole; j += 8)
            for (int lane = 0; lane < 8; lane++)
                partial[lane] += (double)row[j + lane] * (double)row[j + lane];
        for (j = whole; j < dim; j++)
            total += (double)row[j] * (double)row[j];
        for (int lane = 0; lane < 8; lane++)
            total += partial[lane];
        return total;
    }

    /* base += share * summed; live += that - moves (live may be NULL). The rows are distinct
       arrays, which `restrict` tells the compiler so that it can vectorize the loops. */
    static void fw_add_share(float *restrict base, float *restrict live,
                             const float *restrict moves, const float *restrict summed,
                             float share, Py_ssize_t dim) {
        Py_ssize_t j;
        if (live) {
            for (j = 0; j < dim; j++) {
                float step = summed[j] * share;
                base[j] = base[j] + step;
                live[j] = live[j] + (step - moves[j]);
            }
        } else {
            for (j = 0; j < dim; j++)
                base[j] = base[j] + summed[j] * share;
        }
    }
    """
    double fw_squared_length(const float* row, Py_ssize_t dim) noexcept nogil
    void fw_add_share(float* base, float* live, const float* moves, const float* summed,
                      float share, Py_ssize_t dim) noexcept nogil


def measure(const float[:, ::1] rows not None, double[::1] out not None) -> None:
    """Write each row's squared length (float64) into `out`."""
    if out.shape[0] != rows.shape[0]:
        raise ValueError("measure: one length per row")
    cdef Py_ssize_t i, dim = rows.shape[1]
    with nogil:
        for i in range(rows.shape[0]):
            out[i] = fw_squared_length(&rows[i, 0], dim) if dim else 0.0


def add_combined(float[:, ::1] live, float[:, ::1] base not None,
                 const float[:, ::1] moves not None, const float[:, ::1] summed not None,
                 const double[::1] shares not None, int64_t[::1] words_combined not None,
                 int64_t words, int processes, double rate,
                 double[::1] squared_lengths not None) -> None:
    """Add each row's share of the summed moves to the block's rows.

    For row i of the block: its updates since it was last combined are ``u = rate *
    shares[i] * (words - words_combined[i]) / processes``; it takes the share
    ``(1 - a**P) / (P * (1 - a))``, ``a = exp(-u)``, of ``summed[i]`` (1, the sum, when ``u``
    is 0), computed in float64 and rounded to float32. That float32 move ``s`` is added to
    ``base[i]`` (the row as last combined) and, when `live` is given, ``s - moves[i]`` to
    ``live[i]``: what the workers wrote since `moves` was taken is kept.
    ``words_combined[i]`` becomes `words` and ``squared_lengths[i]`` the new base row's squared
    length (as `measure` gives it). The four blocks of rows must be distinct memory: the
    compiled loop is told they do not overlap, so that it can vectorize.
    """
    cdef Py_ssize_t rows = base.shape[0], dim = base.shape[1], i
    if (moves.shape[0] != rows or summed.shape[0] != rows or moves.shape[1] != dim
            or summed.shape[1] != dim or shares.shape[0] != rows
            or words_combined.shape[0] != rows or squared_lengths.shape[0] != rows
            or (live is not None and (live.shape[0] != rows or live.shape[1] != dim))):
        raise ValueError("add_combined: the block's arrays disagree on its shape")
    blocks = [base, moves, summed] if live is None else [live, base, moves, summed]
    if any(np.may_share_memory(a, b) for k, a in enumerate(blocks) for b in blocks[k + 1:]):
        raise ValueError("add_combined: live, base, moves and summed must not overlap")
    if processes < 1:
        raise ValueError("add_combined: processes must be >= 1")
    cdef bint update_live = live is not None
    cdef double updates
    cdef float share
    with nogil:
        for i in range(rows):
            updates = rate * shares[i] * (<double>(words - words_combined[i]) / processes)
            if updates > 1e-12:
                share = <float>(expm1(-processes * updates) / (processes * expm1(-updates)))
            else:
                share = 1.0
            words_combined[i] = words
            if dim == 0:
                squared_lengths[i] = 0.0
                continue
            fw_add_share(&base[i, 0], &live[i, 0] if update_live else NULL, &moves[i, 0],
                         &summed[i, 0], share, dim)
            squared_lengths[i] = fw_squared_length(&base[i, 0], dim)
