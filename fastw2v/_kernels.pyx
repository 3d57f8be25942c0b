"""GIL-free word2vec training kernels.

An *architecture* decides what the hidden vector is and where its gradient goes: skip-gram
predicts the centre word from one context row, CBOW from the mean (or sum) of the window's rows.
Both go through `predict`. An *objective* scores the hidden vector against a target word, updates
its own output rows and accumulates the step for the hidden vector: negative sampling,
hierarchical softmax and the exact full softmax are one function each. A new objective is one
new function and one line in `predict`.

Updates follow the word2vec papers and the derivations the project was designed from; for a
hidden vector h, target t and learning rate a:
    negative sampling   g_i = a * (label_i - sigmoid(u_i . h)); h_step += g_i u_i; u_i += g_i h
    hierarchical softm. the same over the inner nodes of t's Huffman path, label = 1 - code
    full softmax        e = softmax(U h) - onehot(t); h_step = -a U^T e; U -= a e h^T
The hidden step is added to every context row, which for CBOW with `cbow_mean=1` is the update
word2vec.c applies (the step with respect to the mean, not divided by the window size).
"""

import numpy as np

cimport numpy as cnp
from libc.math cimport exp, expf, log, log1p
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy, memset
from scipy.linalg.cython_blas cimport saxpy, sdot, sgemv, sger, sscal

from fastw2v._sampling cimport AliasEntry, draw_alias, next_random, random_below

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

cdef int ONE = 1
cdef float ONEF = 1.0
cdef float ZEROF = 0.0

# Sigmoid by table with linear interpolation: within 2e-7 of the exact value on [-8, 8], exact
# (through expf) outside, where the branch is rare.
cdef enum:
    SIGMOID_STEPS = 4096
cdef float SIGMOID_RANGE = 8.0
cdef float SIGMOID_TABLE[SIGMOID_STEPS + 1]
cdef float SIGMOID_SCALE = SIGMOID_STEPS / (2.0 * 8.0)


cdef void _fill_sigmoid_table():
    cdef int i
    cdef double x
    for i in range(SIGMOID_STEPS + 1):
        x = -SIGMOID_RANGE + i / SIGMOID_SCALE
        SIGMOID_TABLE[i] = <float>(1.0 / (1.0 + exp(-x)))


_fill_sigmoid_table()


cdef inline float sigmoid(float x) noexcept nogil:
    cdef float position
    cdef int i
    if x <= -SIGMOID_RANGE or x >= SIGMOID_RANGE:
        return 1.0 / (1.0 + expf(-x))
    position = (x + SIGMOID_RANGE) * SIGMOID_SCALE
    i = <int>position
    if i >= SIGMOID_STEPS:
        i = SIGMOID_STEPS - 1
    return SIGMOID_TABLE[i] + (position - i) * (SIGMOID_TABLE[i + 1] - SIGMOID_TABLE[i])


cdef inline double neg_log_sigmoid(double x) noexcept nogil:
    # -log(sigmoid(x)) without overflow for large |x|.
    if x > 0:
        return log1p(exp(-x))
    return -x + log1p(exp(x))


# ----------------------------------------------------------------------------------- objectives

cdef inline void _binary_step(const Model *m, Worker *w, const float *hidden, float *hidden_grad,
                              float *row, float label, float alpha) noexcept nogil:
    # One logistic unit: the step for the hidden vector uses the row before its own update.
    cdef int dim = m.dim
    cdef float score = sdot(&dim, hidden, &ONE, row, &ONE)
    cdef float g = (label - sigmoid(score)) * alpha
    if m.compute_loss:
        w.loss += neg_log_sigmoid(score if label > 0.5 else -score)
    saxpy(&dim, &g, row, &ONE, hidden_grad, &ONE)
    saxpy(&dim, &g, hidden, &ONE, row, &ONE)


cdef void negative_sampling(const Model *m, Worker *w, const float *hidden, float *hidden_grad,
                            int32_t target, float alpha) noexcept nogil:
    cdef int k
    cdef int32_t word
    cdef int64_t dim = m.dim
    _binary_step(m, w, hidden, hidden_grad, &m.syn1neg[target * dim], 1.0, alpha)
    for k in range(m.negative):
        if w.fixed_negatives != NULL:
            word = w.fixed_negatives[k]
        else:
            word = draw_alias(m.noise, m.noise_size, &w.rng)
        if word == target:
            continue
        _binary_step(m, w, hidden, hidden_grad, &m.syn1neg[word * dim], 0.0, alpha)


cdef void hierarchical_softmax(const Model *m, Worker *w, const float *hidden, float *hidden_grad,
                               int32_t target, float alpha) noexcept nogil:
    cdef int64_t p, dim = m.dim
    for p in range(m.hs_offsets[target], m.hs_offsets[target + 1]):
        _binary_step(m, w, hidden, hidden_grad, &m.syn1[m.hs_points[p] * dim],
                     1.0 - m.hs_codes[p], alpha)


cdef void full_softmax(const Model *m, Worker *w, const float *hidden, float *hidden_grad,
                       int32_t target, float alpha) noexcept nogil:
    # syn1 is (vocab_size x dim) row-major, i.e. a column-major dim x vocab_size matrix U^T.
    cdef int dim = m.dim, size = m.vocab_size, i
    cdef float *scores = w.scores
    cdef float top, step = -alpha
    cdef double total = 0.0
    sgemv(b"T", &dim, &size, &ONEF, m.syn1, &dim, hidden, &ONE, &ZEROF, scores, &ONE)
    top = scores[0]
    for i in range(1, size):
        if scores[i] > top:
            top = scores[i]
    for i in range(size):
        scores[i] = expf(scores[i] - top)
        total += scores[i]
    if m.compute_loss:
        w.loss += log(total) - log(scores[target])
    for i in range(size):
        scores[i] = <float>(scores[i] / total)
    scores[target] -= 1.0
    sgemv(b"N", &dim, &size, &step, m.syn1, &dim, scores, &ONE, &ONEF, hidden_grad, &ONE)
    sger(&dim, &size, &step, hidden, &ONE, scores, &ONE, m.syn1, &dim)


# -------------------------------------------------------------------------------- architectures

cdef void predict(const Model *m, Worker *w, const int32_t *context, int n_context,
                  int32_t target, float alpha) noexcept nogil:
    """Predict `target` from the rows `context`: one row for skip-gram, a window for CBOW."""
    cdef int dim = m.dim, j
    cdef int64_t d = m.dim
    cdef float *hidden
    cdef float scale
    if n_context == 1:
        hidden = &m.syn0[context[0] * d]
    else:
        hidden = w.hidden
        memcpy(hidden, &m.syn0[context[0] * d], dim * sizeof(float))
        for j in range(1, n_context):
            saxpy(&dim, &ONEF, &m.syn0[context[j] * d], &ONE, hidden, &ONE)
        if m.cbow_mean:
            scale = 1.0 / n_context
            sscal(&dim, &scale, hidden, &ONE)
    memset(w.hidden_grad, 0, dim * sizeof(float))
    if m.hs:
        hierarchical_softmax(m, w, hidden, w.hidden_grad, target, alpha)
    if m.negative:
        negative_sampling(m, w, hidden, w.hidden_grad, target, alpha)
    if m.softmax:
        full_softmax(m, w, hidden, w.hidden_grad, target, alpha)
    for j in range(n_context):
        saxpy(&dim, &ONEF, w.hidden_grad, &ONE, &m.syn0[context[j] * d], &ONE)
    w.predictions += 1


cdef void train_sentence(const Model *m, Worker *w, const int32_t *ids, int64_t n,
                         float alpha) noexcept nogil:
    """Subsample one sentence of in-vocabulary ids, then train every window of what is kept."""
    cdef int64_t i, j, kept = 0, start, end
    cdef int32_t word
    cdef int reduced, n_context
    cdef int32_t *sentence = w.sentence
    for i in range(n):
        word = ids[i]
        if (next_random(&w.rng) & <uint64_t>0xFFFFFFFF) < m.keep_threshold[word]:
            sentence[kept] = word
            kept += 1
    for i in range(kept):
        reduced = <int>random_below(&w.rng, m.window) if m.shrink_windows else 0
        start = i - m.window + reduced
        if start < 0:
            start = 0
        end = i + m.window + 1 - reduced
        if end > kept:
            end = kept
        if m.sg:
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


cdef float current_alpha(const Model *m) noexcept nogil:
    cdef double progress
    if m.total_words <= 0:
        return <float>m.alpha_start
    progress = <double>fw_atomic_load(m.words_done) / m.total_words
    if progress > 1.0:
        progress = 1.0
    return <float>(m.alpha_start - (m.alpha_start - m.alpha_end) * progress)


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
    """Shared training state: the weight matrices, the sampling tables and the schedule.

    The Python layer validates every input once here, so that the kernels can trust indices.
    """

    def __init__(self, syn0, syn1neg, syn1, noise_table, keep_threshold, hs_points, hs_codes,
                 hs_offsets, *, bint sg, bint cbow_mean, bint hs, bint softmax, int negative,
                 int window, bint shrink_windows, bint compute_loss):
        from fastw2v._sampling import ALIAS_DTYPE

        cdef cnp.ndarray s0 = _checked(syn0, np.float32, "syn0")
        if s0.ndim != 2 or s0.shape[0] == 0 or s0.shape[1] == 0:
            raise ValueError("syn0 must be a non-empty 2-D array")
        vocab_size, dim = syn0.shape
        if window < 1:
            raise ValueError("window must be >= 1")
        if negative < 0:
            raise ValueError("negative must be >= 0")
        if not (hs or negative or softmax):
            raise ValueError("at least one objective (hs, negative, softmax) must be enabled")
        arrays = {"syn0": s0}
        if negative:
            arrays["syn1neg"] = _checked(syn1neg, np.float32, "syn1neg")
            arrays["noise_table"] = _checked(noise_table, ALIAS_DTYPE, "noise_table")
            if arrays["syn1neg"].shape != syn0.shape:
                raise ValueError("syn1neg must have the shape of syn0")
            if len(noise_table) != vocab_size:
                raise ValueError("noise_table must have one entry per word")
        if hs or softmax:
            arrays["syn1"] = _checked(syn1, np.float32, "syn1")
            if arrays["syn1"].shape != syn0.shape:
                raise ValueError("syn1 must have the shape of syn0")
        if hs:
            arrays["hs_points"] = _checked(hs_points, np.int32, "hs_points")
            arrays["hs_codes"] = _checked(hs_codes, np.uint8, "hs_codes")
            arrays["hs_offsets"] = _checked(hs_offsets, np.int64, "hs_offsets")
            if len(hs_offsets) != vocab_size + 1 or hs_offsets[vocab_size] != len(hs_points):
                raise ValueError("hs_offsets must delimit every word's path")
            if len(hs_points) and (hs_points.min() < 0 or hs_points.max() >= vocab_size):
                raise ValueError("hs_points must index rows of syn1")
        arrays["keep_threshold"] = _checked(keep_threshold, np.uint64, "keep_threshold")
        if len(keep_threshold) != vocab_size:
            raise ValueError("keep_threshold must have one entry per word")
        self._keep_alive = arrays
        self._words_done = np.zeros(1, dtype=np.int64)
        self._stop = np.zeros(1, dtype=np.intc)

        memset(&self.model, 0, sizeof(Model))
        self.model.syn0 = <float *>_data(s0)
        self.model.dim = dim
        self.model.vocab_size = vocab_size
        self.model.sg = sg
        self.model.cbow_mean = cbow_mean
        self.model.hs = hs
        self.model.softmax = softmax
        self.model.negative = negative
        self.model.window = window
        self.model.shrink_windows = shrink_windows
        self.model.compute_loss = compute_loss
        if negative:
            self.model.syn1neg = <float *>_data(arrays["syn1neg"])
            self.model.noise = <const AliasEntry *>_data(arrays["noise_table"])
            self.model.noise_size = vocab_size
        if hs or softmax:
            self.model.syn1 = <float *>_data(arrays["syn1"])
        if hs:
            self.model.hs_points = <const int32_t *>_data(arrays["hs_points"])
            self.model.hs_codes = <const uint8_t *>_data(arrays["hs_codes"])
            self.model.hs_offsets = <const int64_t *>_data(arrays["hs_offsets"])
        self.model.keep_threshold = <const uint64_t *>_data(arrays["keep_threshold"])
        self.model.words_done = <int64_t *>_data(self._words_done)
        self.model.stop_requested = <int *>_data(self._stop)

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

    @property
    def alpha(self) -> float:
        return current_alpha(&self.model)

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
        cdef int64_t start = 0, end, longest = 0
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
        return s + 1 if n_sentences and not stop_requested(&self.model) else s

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
            if neg.shape[0] != self.model.negative:
                raise ValueError("need exactly `negative` fixed negatives")
            if neg.shape[0] and (min(neg) < 0 or max(neg) >= self.model.vocab_size):
                raise ValueError("negative ids out of range")
            worker.state.fixed_negatives = &neg[0] if neg.shape[0] else NULL
        try:
            predict(&self.model, &worker.state, &ctx[0], ctx.shape[0], target, alpha)
        finally:
            worker.state.fixed_negatives = NULL


cdef class WorkerState:
    """One worker's random generator, scratch buffers and loss accumulator."""

    def __cinit__(self, Trainer trainer, uint64_t seed):
        cdef int dim = trainer.model.dim
        memset(&self.state, 0, sizeof(Worker))
        # Decorrelate nearby seeds (seed, seed + 1, ...) given to sibling workers.
        self.state.rng = seed
        next_random(&self.state.rng)
        self.state.hidden = <float *>malloc(dim * sizeof(float))
        self.state.hidden_grad = <float *>malloc(dim * sizeof(float))
        self.state.context = <int32_t *>malloc((2 * trainer.model.window + 1) * sizeof(int32_t))
        self.state.sentence = <int32_t *>malloc(10000 * sizeof(int32_t))
        self.state.sentence_capacity = 10000
        if trainer.model.softmax:
            self.state.scores = <float *>malloc(trainer.model.vocab_size * sizeof(float))
        if (self.state.hidden == NULL or self.state.hidden_grad == NULL
                or self.state.context == NULL
                or self.state.sentence == NULL
                or (trainer.model.softmax and self.state.scores == NULL)):
            raise MemoryError("cannot allocate worker buffers")

    def __dealloc__(self):
        free(self.state.hidden)
        free(self.state.hidden_grad)
        free(self.state.context)
        free(self.state.sentence)
        free(self.state.scores)

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
