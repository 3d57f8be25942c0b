# The training kernels' shared state, cimported by the corpus readers that feed them.

cimport numpy as cnp
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t

from fastw2v._sampling cimport AliasEntry


cdef struct Model:
    # Parameters, written by every worker without locks (Hogwild).
    float *syn0
    float *syn1neg
    float *syn1
    int dim
    int vocab_size
    # Architecture and objectives.
    bint sg
    bint batched
    bint sgemm
    bint cbow_mean
    bint hs
    bint softmax
    int negative
    int window
    bint shrink_windows
    bint compute_loss
    # Negative sampling: alias table over the noise distribution.
    const AliasEntry *noise
    uint64_t noise_size
    # Hierarchical softmax: word w's path is points/codes[offsets[w]:offsets[w + 1]].
    const int32_t *hs_points
    const uint8_t *hs_codes
    const int64_t *hs_offsets
    int max_outputs
    # Subsampling: keep word w when 32 random bits fall below keep_threshold[w] (2**32 = always).
    const uint64_t *keep_threshold
    # Learning-rate schedule, shared by all workers through one atomic word counter.
    double alpha_start
    double alpha_end
    int64_t total_words
    int64_t *words_done
    int *stop_requested


cdef struct Worker:
    uint64_t rng
    # One step's inputs (context rows, or CBOW's mean in `hidden`) and their merged weights.
    float *hidden
    float **inputs
    float *in_weights
    int32_t *input_words
    float *input_grads
    float **input_rows
    # One objective's output rows with their labels and merged weights.
    float **outputs
    float *labels
    float *out_weights
    int32_t *output_words
    float *step_scratch
    # The sgemm variant of the dense step: the rows gathered into matrices, and output steps.
    float *input_matrix
    float *output_matrix
    float *output_steps
    float *scores
    int32_t *context
    int32_t *sentence
    int64_t sentence_capacity
    # Noise words drawn in bulk: noise_words[noise_used:noise_count] are the next ones to use.
    int32_t *noise_words
    int noise_used
    int noise_count
    # Test hook: when not NULL, negative sampling uses these instead of drawing.
    const int32_t *fixed_negatives
    double loss
    int64_t predictions
    int64_t words_trained


cdef float current_alpha(const Model *m) noexcept nogil
cdef void train_sentence(const Model *m, Worker *w, const int32_t *ids, int64_t n, float alpha) noexcept nogil
cdef int64_t add_words_done(const Model *m, int64_t raw_words) noexcept nogil
cdef bint stop_requested(const Model *m) noexcept nogil
cdef int reserve_sentence(Worker *w, int64_t length) noexcept nogil


cdef class Trainer:
    cdef Model model
    cdef object _keep_alive
    cdef cnp.ndarray _words_done
    cdef cnp.ndarray _stop


cdef class WorkerState:
    cdef Worker state
