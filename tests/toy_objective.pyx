# A toy objective for tests/test_objectives.py, compiled by the test: it shows that an objective
# is one compiled function (this file) and one Python class (in the test), and that a module
# outside fastw2v can add one through the capsule the Trainer reads.
#
# Negative sampling with noise words drawn uniformly from the vocabulary (not by frequency).

from cpython.pycapsule cimport PyCapsule_New
from libc.stdint cimport int32_t, int64_t

from fastw2v._kernels cimport Model, ObjectiveTable, Worker, logistic_step
from fastw2v._sampling cimport random_below


cdef double uniform_negatives_step(const Model *m, Worker *w, const ObjectiveTable *t,
                                   int n_in, int32_t target, float alpha) noexcept nogil:
    cdef int _draw, n_out = 1
    cdef int32_t word
    w.outputs[0] = &t.output[<int64_t>target * m.dim]
    w.labels[0] = 1.0
    w.out_weights[0] = 1.0
    for _draw in range(t.negative):
        word = <int32_t>random_below(&w.rng, m.vocab_size)
        if word != target:
            w.outputs[n_out] = &t.output[<int64_t>word * m.dim]
            w.labels[n_out] = 0.0
            w.out_weights[n_out] = 1.0
            n_out += 1
    return logistic_step(m, w, n_in, n_out, alpha)


STEP = PyCapsule_New(<void *>uniform_negatives_step, "fastw2v._kernels.ObjectiveStep", NULL)
