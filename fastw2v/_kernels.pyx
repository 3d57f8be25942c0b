"""GIL-free word2vec training kernels.

An *architecture* decides what the inputs of a prediction are and where their steps go:
skip-gram predicts the centre word from context rows, CBOW from the mean (or sum) of the
window's rows. Both go through `predict`, which hands the inputs to each objective in turn.
An *objective* is one `ObjectiveStep` function: a logistic one lists the output rows that
score the target (negative sampling the target and its noise words, hierarchical softmax the
inner nodes of the target's Huffman path) and runs the dense step of `_dense.h` over them; the
exact full softmax is built on BLAS matrix-vector products. A new objective is one such
function, exported in a capsule, and one class in `_objectives.py` that owns its tables.

Updates follow the word2vec papers and the derivations the project was designed from; for an
input h, target t and learning rate a:
    logistic objectives g_o = a * (label_o - sigmoid(u_o . h)); h_step += g_o u_o; u_o += g_o h
                        (label 1 for the target / 1 - code on the Huffman path, 0 for noise)
    full softmax        e = softmax(U h) - onehot(t); h_step = -a U^T e; U -= a e h^T
Every step is computed from the rows as they were before it. CBOW adds its input's step to
every context row, which with `cbow_mean=1` is word2vec.c's update (the step with respect to
the mean, not divided by the window size). With `batched`, skip-gram shares one draw of
negatives among all the context rows of a window and updates each row once per window.
"""

import numpy as np

cimport numpy as cnp
from libc.math cimport expf, log
from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer, PyCapsule_New
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcpy, memset

from fastw2v._sampling cimport AliasEntry, draw_alias, next_random, random_below
from fastw2v._tokenize cimport MAX_SENTENCE_LENGTH

cnp.import_array()

cdef extern from *:
    """
    #include <stdint.h>
    #if defined(_MSC_VER)
    #include <intrin.h>
    static __inline int64_t fw_atomic_add(int64_t *p, int64_t v) {
        return _InterlockedExchangeAdd64((volatile __int64 *)p, v) + v; }
    static __inline int64_t fw_atomic_load(int64_t *p) {
        return _InterlockedOr64((volatile __int64 *)p, 0); }
    static __inline int fw_atomic_load_int(int *p) {
        return (int)_InterlockedOr((volatile long *)p, 0); }
    #else
    static inline int64_t fw_atomic_add(int64_t *p, int64_t v) {
        return __atomic_add_fetch(p, v, __ATOMIC_RELAXED); }
    static inline int64_t fw_atomic_load(int64_t *p) {
        return __atomic_load_n(p, __ATOMIC_RELAXED); }
    static inline int fw_atomic_load_int(int *p) {
        return __atomic_load_n(p, __ATOMIC_RELAXED); }
    #endif
    """
    int64_t fw_atomic_add(int64_t *p, int64_t v) nogil
    int64_t fw_atomic_load(int64_t *p) nogil
    int fw_atomic_load_int(int *p) nogil

cdef extern from *:
    """
    static const char FW_STEP_CAPSULE[] = "fastw2v._kernels.ObjectiveStep";
    """
    const char *FW_STEP_CAPSULE

cdef extern from "_dense.h":
    void fw_init_sigmoid() nogil
    void fw_logistic_step(int dim, int n_in, float *const *inputs, const float *in_weights,
                          int n_out, float *const *outputs, const float *labels,
                          const float *out_weights, float alpha, float *input_grads,
                          int grads_unset, float *scratch, float **input_rows,
                          float *loss_scores, float *loss_weights) nogil
    double fw_weighted_loss(int n, const float *z, const float *weights) nogil
    void fw_axpy(int dim, float a, const float *x, float *y) nogil
    float fw_dot(int dim, const float *x, const float *y) nogil
    void fw_prefetch_row(const float *row, int dim) nogil
    void fw_prefetch_line(const void *address) nogil
    void fw_add_step(int dim, const float *step, float *row) nogil
    void fw_sum_rows(int dim, int n, float *const *rows, float scale, float *out) nogil
    void fw_add_steps(int dim, int n, const float *steps, size_t stride, float *const *rows) nogil
    void fw_clamp_rows(size_t count, float *y) nogil
    float fw_logistic_error(float label, float score) nogil
    double fw_neg_log_sigmoid(double x) nogil

cdef int ONE = 1
cdef float ONEF = 1.0
cdef float ZEROF = 0.0

fw_init_sigmoid()


# ----------------------------------------------------------------------------------- objectives
# Each objective is one ObjectiveStep function, handed to Python in a capsule (the `*_STEP`
# names below) that its class in `_objectives.py` passes to the Trainer. A logistic objective
# lists the output rows that score the target, with labels and merged duplicate weights, and
# runs the shared dense step over them.

cdef void set_input_grads(const Model *m, Worker *w, int n_in) noexcept nogil:
    """Zero the inputs' steps if nothing has written them yet in this prediction: called by a
    step that adds to them (the first logistic step of a prediction writes them instead)."""
    if w.grads_unset:
        memset(w.input_grads, 0, n_in * m.dim * sizeof(float))
        w.grads_unset = False


cdef inline int _add_output(Worker *w, int n_out, int32_t word, float *row,
                            float label) noexcept nogil:
    # The row itself was asked for ahead (the noise words two steps ahead, the target by
    # train_sentence one word ahead).
    cdef int o
    for o in range(n_out):
        if w.output_words[o] == word:
            w.out_weights[o] += 1.0
            return n_out
    w.output_words[n_out] = word
    w.outputs[n_out] = row
    w.labels[n_out] = label
    w.out_weights[n_out] = 1.0
    return n_out + 1


# Noise words drawn per refill of a worker's buffer: the draws are independent, so their random
# alias-table reads overlap their cache misses instead of waiting on one at a time.
cdef enum:
    NOISE_BATCHES = 64

# Pairs of the loss summed at a time: enough vectors of eight for their polynomial chains to
# overlap (a CBOW step alone has six pairs).
cdef enum:
    LOSS_PAIRS = 256


cdef inline bint _refill_if_short(Worker *w, const ObjectiveTable *t) noexcept nogil:
    # Make sure the buffer holds a step's negatives; True when it was refilled.
    cdef int k
    if w.noise_used + t.negative <= w.noise_count:
        return False
    for k in range(t.negative * NOISE_BATCHES):
        w.noise_words[k] = draw_alias(t.noise, t.noise_size, &w.rng)
    w.noise_used = 0
    w.noise_count = t.negative * NOISE_BATCHES
    return True


cdef inline void _prefetch_noise(const Model *m, Worker *w, const ObjectiveTable *t, int first,
                                 int steps) noexcept nogil:
    # Ask for the rows of `steps` steps' negatives from buffer position `first`, as far as the
    # buffer goes: random rows, mostly out of cache, whose misses then overlap the steps between.
    cdef int k, last = min(first + steps * t.negative, w.noise_count)
    for k in range(first, last):
        fw_prefetch_row(&t.output[<int64_t>w.noise_words[k] * m.dim], m.dim)


cdef inline void _take_negatives(const Model *m, Worker *w, const ObjectiveTable *t) noexcept nogil:
    # After a step has taken its negatives: make sure the next step's are in the buffer, and ask
    # for the rows of the step after it, so that they have two steps to arrive (the next step's
    # were asked for by the step before, or are asked for now when the buffer was refilled).
    w.noise_used += t.negative
    if _refill_if_short(w, t):
        _prefetch_noise(m, w, t, 0, 2)
    else:
        _prefetch_noise(m, w, t, w.noise_used + t.negative, 1)


cdef double negative_sampling_step(const Model *m, Worker *w, const ObjectiveTable *t,
                                   int n_in, int32_t target, float alpha) noexcept nogil:
    """The target with label 1 and `negative` noise words with label 0; a draw equal to the
    target is dropped and repeated draws are merged into one row of higher weight."""
    cdef int k, n_out = 0
    cdef int32_t word
    cdef int64_t dim = m.dim
    cdef const int32_t *negatives = w.fixed_negatives
    if negatives == NULL:
        # Only a worker's first step finds the buffer short.
        if _refill_if_short(w, t):
            _prefetch_noise(m, w, t, 0, 1)
        negatives = &w.noise_words[w.noise_used]
    n_out = _add_output(w, n_out, target, &t.output[target * dim], 1.0)
    for k in range(t.negative):
        word = negatives[k]
        if word != target:
            n_out = _add_output(w, n_out, word, &t.output[word * dim], 0.0)
    if w.fixed_negatives == NULL:
        _take_negatives(m, w, t)
    return logistic_step(m, w, n_in, n_out, alpha)


cdef void _prefetch_target(const Model *m, const ObjectiveTable *t, const int32_t *ahead,
                           int64_t n_ahead) noexcept nogil:
    fw_prefetch_row(&t.output[<int64_t>ahead[0] * m.dim], m.dim)


cdef void _prefetch_path(const Model *m, const ObjectiveTable *t, const int32_t *ahead,
                         int64_t n_ahead) noexcept nogil:
    # A pipeline of three stages, each reading what the one before asked for: the path's offset
    # three centres ahead, its nodes and codes two ahead, and the rows of the next centre's nodes
    # below the hot ones (a rare word's deep nodes are seldom in cache, while those near the root
    # are used by nearly every prediction).
    cdef int64_t p, point, first, last
    if n_ahead > 2:
        fw_prefetch_line(&t.hs_offsets[ahead[2]])
    if n_ahead > 1:
        first = t.hs_offsets[ahead[1]]
        last = t.hs_offsets[ahead[1] + 1] - 1
        if last >= first:
            fw_prefetch_line(&t.hs_points[first])
            fw_prefetch_line(&t.hs_points[last])
            fw_prefetch_line(&t.hs_codes[first])
            fw_prefetch_line(&t.hs_codes[last])
    for p in range(t.hs_offsets[ahead[0]], t.hs_offsets[ahead[0] + 1]):
        point = t.hs_points[p]
        if point < t.hot_first:
            fw_prefetch_row(&t.output[point * m.dim], m.dim)


cdef double hierarchical_softmax_step(const Model *m, Worker *w, const ObjectiveTable *t,
                                      int n_in, int32_t target, float alpha) noexcept nogil:
    """The inner nodes on the target's Huffman path, labelled 1 - code."""
    cdef int64_t p, point, dim = m.dim, first = t.hs_offsets[target]
    cdef int n_out = <int>(t.hs_offsets[target + 1] - first)
    cdef float *hot = NULL
    if w.hot_table == t:
        if not w.hot_loaded:
            _load_hot_rows(m, w)
        hot = w.hot_rows
    for p in range(n_out):
        point = t.hs_points[first + p]
        if hot != NULL and point >= t.hot_first:
            w.outputs[p] = &hot[(point - t.hot_first) * dim]
        else:
            w.outputs[p] = &t.output[point * dim]
        w.labels[p] = 1.0 - t.hs_codes[first + p]
        w.out_weights[p] = 1.0
    return logistic_step(m, w, n_in, n_out, alpha)


# BLAS, from scipy.linalg.cython_blas's exported functions, bound on first use: importing
# scipy.linalg costs a quarter of a second of every start-up, and only the exact softmax (and
# the sgemm experiment) call BLAS.
ctypedef void (*sgemv_t)(char *trans, int *m, int *n, float *alpha, float *a, int *lda,
                         float *x, int *incx, float *beta, float *y, int *incy) noexcept nogil
ctypedef void (*sger_t)(int *m, int *n, float *alpha, float *x, int *incx, float *y,
                        int *incy, float *a, int *lda) noexcept nogil
ctypedef void (*sgemm_t)(char *transa, char *transb, int *m, int *n, int *k, float *alpha,
                         float *a, int *lda, float *b, int *ldb, float *beta, float *c,
                         int *ldc) noexcept nogil
cdef sgemv_t sgemv = NULL
cdef sger_t sger = NULL
cdef sgemm_t sgemm = NULL


cdef void *_blas_function(dict exported, str name) except NULL:
    capsule = exported[name]
    return PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule))


def bind_blas():
    """Bind the BLAS functions the exact softmax calls; idempotent, and needed before it trains."""
    global sgemv, sger, sgemm
    if sgemm != NULL:
        return
    from scipy.linalg import cython_blas

    exported = cython_blas.__pyx_capi__
    sgemv = <sgemv_t>_blas_function(exported, "sgemv")
    sger = <sger_t>_blas_function(exported, "sger")
    sgemm = <sgemm_t>_blas_function(exported, "sgemm")


cdef double _full_softmax(const Model *m, Worker *w, const ObjectiveTable *t,
                          const float *hidden, float *hidden_grad, int32_t target,
                          float alpha) noexcept nogil:
    # The output matrix is (vocab_size x dim) row-major, i.e. a column-major dim x vocab_size
    # matrix U^T, so BLAS's matrix-vector products apply to it directly.
    cdef int dim = m.dim, size = m.vocab_size, i
    cdef float *scores = w.scratch
    cdef float top, target_score, step = -alpha
    cdef double total = 0.0, loss = 0.0
    sgemv(b"T", &dim, &size, &ONEF, t.output, &dim, <float *>hidden, &ONE, &ZEROF, scores,
          &ONE)
    top = scores[0]
    for i in range(1, size):
        if scores[i] > top:
            top = scores[i]
    target_score = scores[target]
    for i in range(size):
        scores[i] = expf(scores[i] - top)
        total += scores[i]
    if m.compute_loss:
        # log-sum-exp: stays finite even when the target's probability underflows.
        loss = log(total) - (target_score - top)
    for i in range(size):
        scores[i] = <float>(scores[i] / total)
    scores[target] -= 1.0
    sgemv(b"N", &dim, &size, &step, t.output, &dim, scores, &ONE, &ONEF, hidden_grad, &ONE)
    sger(&dim, &size, &step, <float *>hidden, &ONE, scores, &ONE, t.output, &dim)
    fw_clamp_rows(<size_t>size * dim, t.output)
    return loss


cdef double full_softmax_step(const Model *m, Worker *w, const ObjectiveTable *t,
                              int n_in, int32_t target, float alpha) noexcept nogil:
    """Exact softmax over the whole vocabulary, input by input: O(vocabulary) per prediction."""
    cdef int b
    cdef double loss = 0.0
    set_input_grads(m, w, n_in)
    for b in range(n_in):
        loss += w.in_weights[b] * _full_softmax(m, w, t, w.inputs[b],
                                                &w.input_grads[<int64_t>b * m.dim], target,
                                                alpha * w.in_weights[b])
    return loss


cdef object _step_capsule(ObjectiveStep step):
    return PyCapsule_New(<void *>step, FW_STEP_CAPSULE, NULL)


#: Name of the capsules that hold an ObjectiveStep.
STEP_CAPSULE_NAME = FW_STEP_CAPSULE.decode()
NEGATIVE_SAMPLING_STEP = _step_capsule(negative_sampling_step)
HIERARCHICAL_SOFTMAX_STEP = _step_capsule(hierarchical_softmax_step)
FULL_SOFTMAX_STEP = _step_capsule(full_softmax_step)


# ------------------------------------------------------------------------------- the dense step

cdef extern from *:
    """
    /* The sgemm variant of the dense step is an experiment, kept to be measured against the C
     * loop (bench/test_micro.py): it is compiled in only with FASTW2V_SGEMM=1 (setup.py). */
    #ifndef FW_SGEMM_STEP
    #define FW_SGEMM_STEP 0
    #endif
    """
    const bint FW_SGEMM_STEP

#: Whether this build runs the dense step through sgemm (FASTW2V_SGEMM=1).
SGEMM_STEP = bool(FW_SGEMM_STEP)
if SGEMM_STEP:
    bind_blas()


cdef double sgemm_logistic_step(const Model *m, Worker *w, int n_in, int n_out,
                                float alpha) noexcept nogil:
    """`fw_logistic_step` through BLAS: gather the rows into matrices, three sgemm calls,
    scatter. At word2vec's sizes, a few thousand flops per product, it loses to the C loop
    (bench/RESULTS.md)."""
    cdef int dim = m.dim, b, o
    cdef float score, weight
    cdef double loss = 0.0
    cdef float *g = w.step_scratch
    set_input_grads(m, w, n_in)
    for b in range(n_in):
        memcpy(&w.input_matrix[b * dim], w.inputs[b], dim * sizeof(float))
    for o in range(n_out):
        memcpy(&w.output_matrix[o * dim], w.outputs[o], dim * sizeof(float))
    # Row-major n x dim matrices are column-major dim x n: g[o * n_in + b] = in_b . out_o.
    sgemm(b"T", b"N", &n_in, &n_out, &dim, &ONEF, w.input_matrix, &dim, w.output_matrix, &dim,
          &ZEROF, g, &n_in)
    for o in range(n_out):
        for b in range(n_in):
            score = g[o * n_in + b]
            weight = w.in_weights[b] * w.out_weights[o]
            g[o * n_in + b] = fw_logistic_error(w.labels[o], score) * alpha * weight
            if m.compute_loss:
                loss += weight * fw_neg_log_sigmoid(score if w.labels[o] > 0.5 else -score)
    # input_grad_b += sum_o g[o][b] out_o, then output step_o = sum_b g[o][b] in_b.
    sgemm(b"N", b"T", &dim, &n_in, &n_out, &ONEF, w.output_matrix, &dim, g, &n_in, &ONEF,
          w.input_grads, &dim)
    sgemm(b"N", b"N", &dim, &n_out, &n_in, &ONEF, w.input_matrix, &dim, g, &n_in, &ZEROF,
          w.output_steps, &dim)
    for o in range(n_out):
        fw_add_step(dim, &w.output_steps[o * dim], w.outputs[o])
    return loss


cdef double logistic_step(const Model *m, Worker *w, int n_in, int n_out,
                          float alpha) noexcept nogil:
    """The dense step over the inputs and the outputs an objective listed in the worker; with
    m.compute_loss its pairs go to the worker's loss list (see flush_loss), and 0 is returned."""
    cdef int pairs = n_in * n_out
    if FW_SGEMM_STEP:
        return sgemm_logistic_step(m, w, n_in, n_out, alpha)
    cdef bint grads_unset = w.grads_unset
    w.grads_unset = False
    if not m.compute_loss:
        fw_logistic_step(m.dim, n_in, w.inputs, w.in_weights, n_out, w.outputs, w.labels,
                         w.out_weights, alpha, w.input_grads, grads_unset, w.step_scratch,
                         w.input_rows, NULL, NULL)
        return 0.0
    if w.loss_pairs + pairs > w.loss_capacity:
        flush_loss(w)
    fw_logistic_step(m.dim, n_in, w.inputs, w.in_weights, n_out, w.outputs, w.labels,
                     w.out_weights, alpha, w.input_grads, grads_unset, w.step_scratch,
                     w.input_rows, &w.loss_scores[w.loss_pairs], &w.loss_weights[w.loss_pairs])
    w.loss_pairs += pairs
    # Summed into w.loss by flush_loss.
    return 0.0


cdef void flush_loss(Worker *w) noexcept nogil:
    """Add the loss of the pairs listed since the last call to w.loss."""
    cdef int j, padded = (w.loss_pairs + 7) // 8 * 8
    if w.loss_pairs == 0:
        return
    for j in range(w.loss_pairs, padded):
        w.loss_scores[j] = 0.0
        w.loss_weights[j] = 0.0
    w.loss += fw_weighted_loss(w.loss_pairs, w.loss_scores, w.loss_weights)
    w.loss_pairs = 0


# -------------------------------------------------------------------------------- architectures

cdef inline void _add_input_step(const Model *m, Worker *w, const float *step, int32_t word,
                                 float *row) noexcept nogil:
    """Add an input's step to its row, scaled by the word's lock factor."""
    cdef float factor
    cdef int k
    factor = m.lockf[word % m.lockf_size]
    if factor == 1.0:
        fw_add_step(m.dim, step, row)
    elif factor != 0.0:
        for k in range(m.dim):
            w.locked_step[k] = factor * step[k]
        fw_add_step(m.dim, w.locked_step, row)


cdef void predict(const Model *m, Worker *w, const int32_t *context, int n_context,
                  int32_t target, float alpha) noexcept nogil:
    """Predict `target` from the rows `context`, then add each input's step to its rows.

    Skip-gram: every context row is an input of its own (repeated words merged into one input of
    higher weight). CBOW: one input, the mean (or sum) of the context rows, whose step is added
    to every context row.
    """
    cdef int dim = m.dim, j, b, k, n_in = 0
    cdef int64_t d = m.dim
    cdef float scale
    cdef double loss = 0.0
    if m.sg:
        for j in range(n_context):
            for b in range(n_in):
                if w.input_words[b] == context[j]:
                    w.in_weights[b] += 1.0
                    break
            else:
                w.input_words[n_in] = context[j]
                w.inputs[n_in] = &m.syn0[context[j] * d]
                w.in_weights[n_in] = 1.0
                n_in += 1
    else:
        for j in range(n_context):
            w.input_rows[j] = &m.syn0[context[j] * d]
        scale = 1.0 / n_context if m.cbow_mean and n_context > 1 else 1.0
        fw_sum_rows(dim, n_context, w.input_rows, scale, w.hidden)
        w.inputs[0] = w.hidden
        w.in_weights[0] = 1.0
        n_in = 1
    w.grads_unset = True
    for k in range(m.n_objectives):
        loss += m.objectives[k].step(m, w, &m.objectives[k], n_in, target, alpha)
    set_input_grads(m, w, n_in)
    if m.lockf == NULL:
        if m.sg:
            fw_add_steps(dim, n_in, w.input_grads, d, w.inputs)
        else:
            for j in range(n_context):
                w.input_rows[j] = &m.syn0[context[j] * d]
            fw_add_steps(dim, n_context, w.input_grads, 0, w.input_rows)
    elif m.sg:
        for b in range(n_in):
            _add_input_step(m, w, &w.input_grads[b * d], w.input_words[b], w.inputs[b])
    else:
        for j in range(n_context):
            _add_input_step(m, w, w.input_grads, context[j], &m.syn0[context[j] * d])
    w.loss += loss
    w.predictions += n_in if m.sg else 1


cdef inline int64_t subsample(const Model *m, Worker *w, const int32_t *ids, int64_t n,
                              int32_t *kept_ids) noexcept nogil:
    """Copy the words that survive subsampling to kept_ids; returns how many."""
    cdef int64_t i, kept = 0
    cdef int32_t word
    for i in range(n):
        word = ids[i]
        if (next_random(&w.rng) & <uint64_t>0xFFFFFFFF) < m.keep_threshold[word]:
            kept_ids[kept] = word
            kept += 1
    return kept


cdef void train_sentence(const Model *m, Worker *w, const int32_t *ids, int64_t n,
                         float alpha) noexcept nogil:
    """Subsample one sentence of in-vocabulary ids, then train every window of what is kept."""
    cdef int64_t i, j, start, end
    cdef int reduced, n_context, k
    cdef int32_t *sentence = w.sentence
    cdef int64_t kept = subsample(m, w, ids, n, sentence)
    for i in range(kept):
        # The next centre's output rows and the row about to enter the window: fetch them early.
        if i + 1 < kept:
            for k in range(m.n_objectives):
                if m.objectives[k].prefetch != NULL:
                    m.objectives[k].prefetch(m, &m.objectives[k], &sentence[i + 1], kept - i - 1)
        if i + m.window + 1 < kept:
            fw_prefetch_row(&m.syn0[<int64_t>sentence[i + m.window + 1] * m.dim], m.dim)
        reduced = <int>random_below(&w.rng, m.window) if m.shrink_windows else 0
        start = i - m.window + reduced
        if start < 0:
            start = 0
        end = i + m.window + 1 - reduced
        if end > kept:
            end = kept
        if m.sg and not m.batched:
            for j in range(start, end):
                if j != i:
                    predict(m, w, &sentence[j], 1, sentence[i], alpha)
        else:
            n_context = 0
            for j in range(start, end):
                if j != i:
                    w.context[n_context] = sentence[j]
                    n_context += 1
            if n_context:
                predict(m, w, w.context, n_context, sentence[i], alpha)
    w.words_trained += kept
    if w.hot_loaded:
        w.hot_words += kept
        if w.hot_words >= w.hot_table.hot_merge_words:
            merge_hot_rows(m, w)
    if m.compute_loss:
        flush_loss(w)


cdef float alpha_after(const Model *m, int64_t words_done) noexcept nogil:
    """The learning rate once `words_done` raw words are on the schedule."""
    cdef double progress
    if m.total_words <= 0:
        return <float>m.alpha_start
    progress = <double>words_done / m.total_words
    if progress > 1.0:
        progress = 1.0
    return <float>(m.alpha_start - (m.alpha_start - m.alpha_end) * progress)


cdef float current_alpha(const Model *m) noexcept nogil:
    return alpha_after(m, fw_atomic_load(m.words_done))


cdef int64_t add_words_done(const Model *m, int64_t raw_words) noexcept nogil:
    return fw_atomic_add(m.words_done, raw_words)


cdef bint stop_requested(const Model *m) noexcept nogil:
    return fw_atomic_load_int(m.stop_requested) != 0


cdef int reserve_sentence(Worker *w, int64_t length) noexcept nogil:
    cdef int32_t *grown
    if length <= w.sentence_capacity:
        return 0
    grown = <int32_t *>realloc(w.sentence, length * sizeof(int32_t))
    if grown == NULL:
        return -1
    w.sentence = grown
    w.sentence_capacity = length
    return 0


# ------------------------------------------------------------------------------ Python surface

cdef inline void *_data(cnp.ndarray array):
    return NULL if array.size == 0 else cnp.PyArray_DATA(array)


cdef cnp.ndarray _checked(object array, object dtype, str name):
    if not isinstance(array, np.ndarray) or array.dtype != dtype or not array.flags.c_contiguous:
        raise TypeError(f"{name} must be a C-contiguous {np.dtype(dtype)} array")
    if not array.flags.writeable:
        raise ValueError(f"{name} must be writeable")
    return array


cdef class Trainer:
    """Shared training state: the architecture, the input weights, the objectives' tables and
    the learning-rate schedule.

    `config` is a checked `TrainingConfig`, of which the architecture is read (sg, cbow_mean,
    batched, window, shrink_windows). Each objective gives `step`, a capsule holding its compiled
    `ObjectiveStep`, and `kernel_table()`, a dict of its output matrix and tables; they run in
    the order given. `lockf` (gensim's ``vectors_lockf``: one factor, or one per word) scales
    each word's input steps. The arrays' types and shapes are checked here, once, so that the
    kernels can trust every index.
    """

    def __init__(self, config, syn0, keep_threshold, objectives, *, bint compute_loss=False,
                 lockf=None):
        cdef cnp.ndarray s0 = _checked(syn0, np.float32, "syn0")
        cdef int k
        if s0.ndim != 2 or s0.shape[0] == 0 or s0.shape[1] == 0:
            raise ValueError("syn0 must be a non-empty 2-D array")
        objectives = list(objectives)
        if not 1 <= len(objectives) <= MAX_OBJECTIVES:
            raise ValueError(f"a model trains 1 to {MAX_OBJECTIVES} objectives, "
                             f"got {len(objectives)}")
        if config.window < 1:
            raise ValueError("window must be >= 1")
        threshold = _checked(keep_threshold, np.uint64, "keep_threshold")
        if len(threshold) != s0.shape[0]:
            raise ValueError("keep_threshold must have one entry per word")
        self._keep_alive = [s0, threshold]
        self._words_done = np.zeros(1, dtype=np.int64)
        self._stop = np.zeros(1, dtype=np.intc)

        memset(&self.model, 0, sizeof(Model))
        self.model.syn0 = <float *>_data(s0)
        self.model.dim = s0.shape[1]
        self.model.vocab_size = s0.shape[0]
        self.model.sg = config.sg
        self.model.batched = config.batched
        self.model.cbow_mean = config.cbow_mean
        self.model.window = config.window
        self.model.shrink_windows = config.shrink_windows
        self.model.compute_loss = compute_loss
        self.model.private_hot = config.workers > 1
        self.model.keep_threshold = <const uint64_t *>_data(threshold)
        self.model.words_done = <int64_t *>_data(self._words_done)
        self.model.stop_requested = <int *>_data(self._stop)
        for k in range(len(objectives)):
            self._add_objective(&self.model.objectives[k], objectives[k], s0)
        self.model.n_objectives = len(objectives)
        if lockf is not None:
            factors = np.ascontiguousarray(lockf, dtype=np.float32)
            if factors.ndim != 1 or len(factors) not in (1, s0.shape[0]):
                raise ValueError(f"vectors_lockf must hold 1 or {s0.shape[0]} factors (one "
                                 f"per word), got shape {np.shape(lockf)}")
            if not np.all(np.isfinite(factors)):
                raise ValueError("vectors_lockf must be finite")
            if np.any(factors != 1.0):
                self._keep_alive.append(factors)
                self.model.lockf = <const float *>_data(factors)
                self.model.lockf_size = len(factors)

    cdef _add_objective(self, ObjectiveTable *t, objective, cnp.ndarray syn0):
        from fastw2v._sampling import ALIAS_DTYPE

        name = type(objective).__name__
        table = dict(objective.kernel_table())
        t.step = <ObjectiveStep>PyCapsule_GetPointer(objective.step, FW_STEP_CAPSULE)
        output = _checked(table.pop("output"), np.float32, f"{name} output")
        if output.ndim != 2 or output.shape[0] != syn0.shape[0] or output.shape[1] != syn0.shape[1]:
            raise ValueError(f"{name} output must have the shape of syn0")
        self._keep_alive.append(output)
        t.output = <float *>_data(output)
        t.max_outputs = max(1, int(table.pop("max_outputs", 1)))
        t.scratch_floats = int(table.pop("scratch_floats", 0))
        if t.scratch_floats < 0:
            raise ValueError(f"{name} scratch_floats must be >= 0")
        # `negative` sizes the workers' buffers of noise words and of output rows.
        t.negative = int(table.pop("negative", 0))
        if t.negative < 0:
            raise ValueError("negative must be >= 0")
        t.max_outputs = max(t.max_outputs, t.negative + 1)
        noise = table.pop("noise_table", None)
        if noise is not None:
            noise = _checked(noise, ALIAS_DTYPE, "noise_table")
            if len(noise) != syn0.shape[0]:
                raise ValueError("noise_table must have one entry per word")
            self._keep_alive.append(noise)
            t.noise = <const AliasEntry *>_data(noise)
            t.noise_size = len(noise)
        if "hs_points" in table:
            points = _checked(table.pop("hs_points"), np.int32, "hs_points")
            codes = _checked(table.pop("hs_codes"), np.uint8, "hs_codes")
            offsets = _checked(table.pop("hs_offsets"), np.int64, "hs_offsets")
            if (len(offsets) != syn0.shape[0] + 1 or offsets[0] != 0
                    or offsets[len(offsets) - 1] != len(points) or len(codes) != len(points)
                    or np.any(np.diff(offsets) < 0)):
                raise ValueError("hs_offsets must delimit every word's path")
            if len(points) and (points.min() < 0 or points.max() >= syn0.shape[0]):
                raise ValueError("hs_points must index rows of syn1")
            self._keep_alive.extend([points, codes, offsets])
            t.hs_points = <const int32_t *>_data(points)
            t.hs_codes = <const uint8_t *>_data(codes)
            t.hs_offsets = <const int64_t *>_data(offsets)
            t.max_outputs = max(t.max_outputs, int(np.max(np.diff(offsets))))
        t.hot_first = int(table.pop("hot_first", 0))
        t.hot_count = int(table.pop("hot_count", 0))
        t.hot_merge_words = int(table.pop("hot_merge_words", 0))
        if t.hot_first < 0 or t.hot_count < 0 or t.hot_first + t.hot_count > syn0.shape[0]:
            raise ValueError(f"{name} hot rows must be rows of its output")
        if t.hot_merge_words < 0:
            raise ValueError(f"{name} hot_merge_words must be >= 0")
        if t.step == negative_sampling_step and t.negative and t.noise == NULL:
            raise ValueError("negative sampling needs a noise_table")
        t.prefetch = NULL
        if t.step == negative_sampling_step:
            t.prefetch = _prefetch_target
        elif t.step == hierarchical_softmax_step:
            t.prefetch = _prefetch_path
        if table:
            raise ValueError(f"{name} kernel table has unknown entries: {sorted(table)}")

    cdef int _negative(self):
        cdef int k, negative = 0
        for k in range(self.model.n_objectives):
            negative = max(negative, self.model.objectives[k].negative)
        return negative

    def set_schedule(self, double alpha_start, double alpha_end, int64_t total_words,
                     int64_t words_done=0):
        """Decay alpha linearly from alpha_start to alpha_end over total_words raw words."""
        self.model.alpha_start = alpha_start
        self.model.alpha_end = alpha_end
        self.model.total_words = total_words
        self._words_done[0] = words_done
        self._stop[0] = 0

    @property
    def words_done(self) -> int:
        return int(fw_atomic_load(self.model.words_done))

    def add_words_done(self, int64_t words) -> int:
        """Count `words` more raw words on the learning-rate schedule, atomically, while the
        workers count theirs (the words other processes trained, say); returns the new total."""
        return int(fw_atomic_add(self.model.words_done, words))

    @property
    def alpha(self) -> float:
        return current_alpha(&self.model)

    def alpha_after(self, int64_t words_done) -> float:
        """The learning rate once `words_done` raw words are on the schedule."""
        return alpha_after(&self.model, words_done)

    def request_stop(self) -> None:
        """Ask every worker to return after its current sentence."""
        self._stop[0] = 1

    @property
    def stop_requested(self) -> bool:
        return bool(self._stop[0])

    def train_batch(self, WorkerState worker, const int32_t[::1] ids,
                    const int64_t[::1] sentence_ends, const int64_t[::1] raw_words):
        """Train consecutive sentences: sentence s is ids[sentence_ends[s-1]:sentence_ends[s]].

        raw_words[s] counts sentence s's words before out-of-vocabulary words were dropped,
        for the learning-rate schedule. Returns the number of sentences trained.
        """
        cdef Py_ssize_t s, n_sentences = sentence_ends.shape[0]
        cdef int64_t start = 0, end, longest = 0, trained = 0
        if raw_words.shape[0] != n_sentences:
            raise ValueError("raw_words needs one count per sentence")
        if n_sentences and (sentence_ends[n_sentences - 1] != ids.shape[0]):
            raise ValueError("sentence_ends must end at len(ids)")
        for s in range(n_sentences):
            if sentence_ends[s] < start:
                raise ValueError("sentence_ends must be non-decreasing")
            if sentence_ends[s] - start > longest:
                longest = sentence_ends[s] - start
            start = sentence_ends[s]
        if ids.shape[0]:
            low, high = np.min(ids), np.max(ids)
            if low < 0 or high >= self.model.vocab_size:
                raise ValueError("word ids out of range")
        if reserve_sentence(&worker.state, longest) != 0:
            raise MemoryError("cannot allocate a sentence buffer")
        start = 0
        with nogil:
            for s in range(n_sentences):
                if stop_requested(&self.model):
                    break
                end = sentence_ends[s]
                if end > start:
                    train_sentence(&self.model, &worker.state, &ids[start], end - start,
                                   current_alpha(&self.model))
                add_words_done(&self.model, raw_words[s])
                start = end
                trained += 1
            end_job(&self.model, &worker.state)
        return trained

    def subsample_ids(self, WorkerState worker, ids) -> np.ndarray:
        """Test hook: the words of `ids` that survive subsampling, by the training code path."""
        cdef int32_t[::1] words = np.ascontiguousarray(ids, dtype=np.int32)
        cdef int32_t[::1] kept = np.empty(words.shape[0], dtype=np.int32)
        cdef int64_t n_kept
        if words.shape[0] and (min(words) < 0 or max(words) >= self.model.vocab_size):
            raise ValueError("word ids out of range")
        if words.shape[0] == 0:
            return np.empty(0, dtype=np.int32)
        with nogil:
            n_kept = subsample(&self.model, &worker.state, &words[0], words.shape[0], &kept[0])
        return np.asarray(kept)[:n_kept].copy()

    def predict_step(self, WorkerState worker, context, int target, float alpha,
                     negatives=None):
        """Test hook: one prediction of `target` from `context` rows, optionally with fixed
        negatives, through the same code path as training."""
        cdef int32_t[::1] ctx = np.ascontiguousarray(context, dtype=np.int32)
        cdef int32_t[::1] neg
        if ctx.shape[0] < 1 or ctx.shape[0] > 2 * self.model.window:
            raise ValueError("context must hold 1 to 2*window word ids")
        if min(ctx) < 0 or max(ctx) >= self.model.vocab_size:
            raise ValueError("context ids out of range")
        if not 0 <= target < self.model.vocab_size:
            raise ValueError("target out of range")
        if negatives is not None:
            neg = np.ascontiguousarray(negatives, dtype=np.int32)
            if neg.shape[0] != self._negative():
                raise ValueError("need exactly `negative` fixed negatives")
            if neg.shape[0] and (min(neg) < 0 or max(neg) >= self.model.vocab_size):
                raise ValueError("negative ids out of range")
            worker.state.fixed_negatives = &neg[0] if neg.shape[0] else NULL
        try:
            predict(&self.model, &worker.state, &ctx[0], ctx.shape[0], target, alpha)
            end_job(&self.model, &worker.state)
        finally:
            worker.state.fixed_negatives = NULL


# --------------------------------------------------------------------------- private hot rows
# Every hierarchical-softmax prediction writes the root's row and most write the rows just
# below it. Written by two cores at once, those cache lines move between the cores at every
# step. Instead each worker steps a private copy of them and merges what it changed into the
# shared rows every `hot_merge_words` trained words (at a sentence's end) and at the end of each
# job: the other workers see its updates to these rows a few hundred steps late, and none is
# lost.


cdef void _load_hot_rows(const Model *m, Worker *w) noexcept nogil:
    cdef const ObjectiveTable *t = w.hot_table
    cdef size_t size = t.hot_count * m.dim * sizeof(float)
    memcpy(w.hot_rows, &t.output[t.hot_first * m.dim], size)
    memcpy(w.hot_base, w.hot_rows, size)
    w.hot_loaded = True
    w.hot_words = 0


cdef void merge_hot_rows(const Model *m, Worker *w) noexcept nogil:
    """Add what this worker changed in its copy of the hot rows to the shared rows."""
    cdef const ObjectiveTable *t = w.hot_table
    cdef float *shared
    cdef int64_t k, n
    if not w.hot_loaded:
        return
    shared = &t.output[t.hot_first * m.dim]
    n = t.hot_count * m.dim
    for k in range(n):
        # The shared rows as they are now (other workers merged into them meanwhile) plus this
        # worker's change; when nobody else changed a value it becomes this worker's exactly.
        shared[k] = w.hot_rows[k] + (shared[k] - w.hot_base[k])
    w.hot_loaded = False


cdef void end_job(const Model *m, Worker *w) noexcept nogil:
    """At the end of a job (a batch, a byte range): the worker's pending updates go to the
    shared rows, so that between jobs the model holds all of them."""
    merge_hot_rows(m, w)
    if m.compute_loss:
        flush_loss(w)


# ------------------------------------------------------------------------------------- scoring

cdef double _path_log_probability(const Model *m, const ObjectiveTable *t, const float *h,
                                  int32_t target) noexcept nogil:
    """log p(target | h) under hierarchical softmax: the log-sigmoids along its path."""
    cdef int64_t p
    cdef double total = 0.0, f
    for p in range(t.hs_offsets[target], t.hs_offsets[target + 1]):
        f = fw_dot(m.dim, h, &t.output[<int64_t>t.hs_points[p] * m.dim])
        total -= fw_neg_log_sigmoid(f if t.hs_codes[p] == 0 else -f)
    return total


cdef double _score_sentence(const Model *m, const ObjectiveTable *t, const int32_t *ids,
                            int64_t n, float *hidden) noexcept nogil:
    cdef int64_t i, j, start, end, count
    cdef double total = 0.0
    for i in range(n):
        start = i - m.window if i >= m.window else 0
        end = i + m.window + 1 if i + m.window + 1 < n else n
        if m.sg:
            for j in range(start, end):
                if j != i:
                    total += _path_log_probability(m, t, &m.syn0[<int64_t>ids[j] * m.dim],
                                                   ids[i])
            continue
        memset(hidden, 0, m.dim * sizeof(float))
        count = 0
        for j in range(start, end):
            if j != i:
                fw_axpy(m.dim, 1.0, &m.syn0[<int64_t>ids[j] * m.dim], hidden)
                count += 1
        if count == 0:
            continue
        if m.cbow_mean:
            for j in range(m.dim):
                hidden[j] /= count
        total += _path_log_probability(m, t, hidden, ids[i])
    return total


def score_sentences(Trainer trainer, const int32_t[::1] ids, const int64_t[::1] sentence_ends,
                    float[::1] scores) -> None:
    """Log-probability of each sentence under the trainer's hierarchical softmax (gensim's
    `score`): skip-gram sums log p(centre | context word) over every pair of the full window,
    CBOW log p(centre | window) per word. Exact log-sigmoids; no subsampling, full windows."""
    cdef const Model *m = &trainer.model
    cdef const ObjectiveTable *t = NULL
    cdef Py_ssize_t s, n_sentences = sentence_ends.shape[0]
    cdef int64_t start = 0, k
    cdef float *hidden
    for k in range(m.n_objectives):
        if m.objectives[k].step == hierarchical_softmax_step:
            t = &m.objectives[k]
    if t == NULL:
        raise ValueError("scoring needs the hierarchical softmax objective")
    if scores.shape[0] != n_sentences:
        raise ValueError("scores needs one entry per sentence")
    if n_sentences and sentence_ends[n_sentences - 1] != ids.shape[0]:
        raise ValueError("sentence_ends must end at len(ids)")
    for s in range(n_sentences):
        if sentence_ends[s] < start:
            raise ValueError("sentence_ends must be non-decreasing")
        start = sentence_ends[s]
    if ids.shape[0] and (np.min(ids) < 0 or np.max(ids) >= m.vocab_size):
        raise ValueError("word ids out of range")
    hidden = <float *>malloc(m.dim * sizeof(float))
    if hidden == NULL:
        raise MemoryError("cannot allocate a scoring buffer")
    start = 0
    with nogil:
        for s in range(n_sentences):
            scores[s] = <float>_score_sentence(m, t, &ids[start], sentence_ends[s] - start,
                                               hidden)
            start = sentence_ends[s]
    free(hidden)


cdef size_t _carve(char **cursor, size_t count, size_t item_size) noexcept nogil:
    # Hand out `count` items from the cursor, each buffer on its own cache line.
    cdef size_t start = <size_t>cursor[0]
    cdef size_t size = (count * item_size + 63) & ~(<size_t>63)
    cursor[0] += size
    return start


cdef size_t _layout(Worker *w, const Model *m, char *base) noexcept nogil:
    """Point the worker's buffers into one block at `base` (64-byte aligned); returns its size.
    With base NULL only the size is computed."""
    cdef char *cursor = base
    cdef size_t inputs = 2 * m.window + 1, outputs = 1, scratch = 0, noise = 0, dim = m.dim
    cdef int k
    for k in range(m.n_objectives):
        outputs = max(outputs, <size_t>m.objectives[k].max_outputs)
        scratch = max(scratch, <size_t>m.objectives[k].scratch_floats)
        noise = max(noise, <size_t>m.objectives[k].negative * NOISE_BATCHES + 1)
    w.hidden = <float *>_carve(&cursor, dim, sizeof(float))
    w.inputs = <float **>_carve(&cursor, inputs, sizeof(float *))
    w.in_weights = <float *>_carve(&cursor, inputs, sizeof(float))
    w.input_words = <int32_t *>_carve(&cursor, inputs, sizeof(int32_t))
    w.input_grads = <float *>_carve(&cursor, inputs * dim, sizeof(float))
    w.input_rows = <float **>_carve(&cursor, inputs, sizeof(float *))
    w.outputs = <float **>_carve(&cursor, outputs, sizeof(float *))
    w.labels = <float *>_carve(&cursor, outputs, sizeof(float))
    w.out_weights = <float *>_carve(&cursor, outputs, sizeof(float))
    w.output_words = <int32_t *>_carve(&cursor, outputs, sizeof(int32_t))
    w.step_scratch = <float *>_carve(&cursor, inputs * outputs, sizeof(float))
    # Room for LOSS_PAIRS pairs and one more step, and the padding to a multiple of eight.
    w.loss_capacity = <int>(LOSS_PAIRS + inputs * outputs)
    w.loss_scores = <float *>_carve(&cursor, w.loss_capacity + 8, sizeof(float))
    w.loss_weights = <float *>_carve(&cursor, w.loss_capacity + 8, sizeof(float))
    w.context = <int32_t *>_carve(&cursor, inputs, sizeof(int32_t))
    w.noise_words = <int32_t *>_carve(&cursor, noise, sizeof(int32_t))
    w.scratch = <float *>_carve(&cursor, scratch, sizeof(float))
    w.locked_step = <float *>_carve(&cursor, dim, sizeof(float))
    w.hot_table = NULL
    if m.private_hot:
        for k in range(m.n_objectives):
            if m.objectives[k].hot_count:
                w.hot_table = &m.objectives[k]
                w.hot_rows = <float *>_carve(&cursor, w.hot_table.hot_count * dim, sizeof(float))
                w.hot_base = <float *>_carve(&cursor, w.hot_table.hot_count * dim, sizeof(float))
                break
    if FW_SGEMM_STEP:
        w.input_matrix = <float *>_carve(&cursor, inputs * dim, sizeof(float))
        w.output_matrix = <float *>_carve(&cursor, outputs * dim, sizeof(float))
        w.output_steps = <float *>_carve(&cursor, outputs * dim, sizeof(float))
    return <size_t>(cursor - base)


cdef class WorkerState:
    """One worker's random generator, scratch buffers and loss accumulator."""

    def __cinit__(self, Trainer trainer, uint64_t seed):
        cdef const Model *m = &trainer.model
        cdef size_t size
        memset(&self.state, 0, sizeof(Worker))
        self.reseed(seed)
        size = _layout(&self.state, m, NULL)
        # calloc: buffers an objective never writes hold zeros, not garbage.
        self._block = calloc(size + 64, 1)
        self.state.sentence = <int32_t *>malloc(MAX_SENTENCE_LENGTH * sizeof(int32_t))
        if self._block == NULL or self.state.sentence == NULL:
            raise MemoryError("cannot allocate worker buffers")
        # Room for the longest sentence a corpus file gives; it grows for longer lists.
        self.state.sentence_capacity = MAX_SENTENCE_LENGTH
        _layout(&self.state, m, <char *>((<size_t>self._block + 63) & ~(<size_t>63)))

    def __dealloc__(self):
        free(self._block)
        free(self.state.sentence)

    def reseed(self, uint64_t seed) -> None:
        """Restart the random generator from `seed` (and forget noise words drawn ahead)."""
        self.state.rng = seed
        # Decorrelate nearby seeds (seed, seed + 1, ...).
        next_random(&self.state.rng)
        self.state.noise_used = 0
        self.state.noise_count = 0

    @property
    def loss(self) -> float:
        return self.state.loss

    @property
    def predictions(self) -> int:
        return self.state.predictions

    @property
    def words_trained(self) -> int:
        return self.state.words_trained

    def reset_counters(self) -> None:
        self.state.loss = 0.0
        self.state.predictions = 0
        self.state.words_trained = 0
