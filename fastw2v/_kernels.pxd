# The training kernels' shared state, cimported by the corpus readers that feed them and by any
# compiled module that adds an objective (one ObjectiveStep function, handed over in a capsule).

cimport numpy as cnp
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t

from fastw2v._sampling cimport AliasEntry

# How many objectives one model trains at once (hierarchical softmax and negative sampling
# together is the most any setting asks for).
cdef enum:
    MAX_OBJECTIVES = 4


cdef struct Model
cdef struct Worker
cdef struct ObjectiveTable

# One objective's part of a prediction: score the target from the step's n_in inputs
# (w.inputs, w.in_weights), add the inputs' steps to w.input_grads, update the objective's own
# output rows; returns the loss when m.compute_loss (logistic_step lists its pairs in the
# worker instead, where they are summed many at a time, and returns 0). w.input_grads are not
# zeroed before the first step of a prediction: logistic_step writes them when nothing has, and
# a step that adds to them otherwise calls set_input_grads first.
ctypedef double (*ObjectiveStep)(const Model *m, Worker *w, const ObjectiveTable *table,
                                 int n_in, int32_t target, float alpha) noexcept nogil
# Asks for what an objective's step will read for the next centres, ahead[0] the next one (n_ahead
# of them are known), so that their cache misses overlap the steps before.
ctypedef void (*ObjectivePrefetch)(const Model *m, const ObjectiveTable *table,
                                   const int32_t *ahead, int64_t n_ahead) noexcept nogil


cdef struct ObjectiveTable:
    # What an objective hands the compiled trainer: its step and its tables.
    ObjectiveStep step
    # NULL when the step has nothing worth asking for ahead.
    ObjectivePrefetch prefetch
    # Its output weights, one row of `dim` floats per output unit.
    float *output
    # Output rows one prediction scores at most (sizes the workers' output buffers).
    int max_outputs
    # Negative sampling: noise words per prediction, drawn from an alias table.
    int negative
    const AliasEntry *noise
    uint64_t noise_size
    # Hierarchical softmax: word w's path is points/codes[offsets[w]:offsets[w + 1]].
    const int32_t *hs_points
    const uint8_t *hs_codes
    const int64_t *hs_offsets
    # Floats of per-worker scratch the step needs (the full softmax's scores).
    int64_t scratch_floats
    # Rows [hot_first, hot_first + hot_count) of `output` are written by nearly every prediction
    # (hierarchical softmax: the inner nodes nearest the root). With several workers (Model.
    # private_hot), each keeps its own copy of them and adds what it changed to `output` every
    # so often (merge_hot_rows), so that the workers do not fight over their cache lines.
    int64_t hot_first
    int64_t hot_count
    # Trained words between merges: few enough that each worker's change to the rows stays a
    # small step, so that adding the workers' changes is what stepping the shared rows would do.
    int64_t hot_merge_words


cdef struct Model:
    # Input weights, written by every worker without locks (Hogwild).
    float *syn0
    int dim
    int vocab_size
    # Architecture.
    bint sg
    bint batched
    bint cbow_mean
    int window
    bint shrink_windows
    bint compute_loss
    # Objectives, run in this order for every prediction.
    ObjectiveTable objectives[MAX_OBJECTIVES]
    int n_objectives
    # gensim's vectors_lockf: word w's input steps are scaled by lockf[w % lockf_size] (0 locks
    # its vector); NULL when every factor is 1, so the default path does no extra work.
    const float *lockf
    int64_t lockf_size
    # Subsampling: keep word w when 32 random bits fall below keep_threshold[w] (2**32 = always).
    const uint64_t *keep_threshold
    # Learning-rate schedule, shared by all workers through one atomic word counter.
    double alpha_start
    double alpha_end
    int64_t total_words
    int64_t *words_done
    int *stop_requested
    # Whether workers keep private copies of an objective's hot rows (ObjectiveTable.hot_count);
    # set when there is more than one worker.
    bint private_hot


cdef struct Worker:
    uint64_t rng
    # One step's inputs (context rows, or CBOW's mean in `hidden`) and their merged weights.
    float *hidden
    float **inputs
    float *in_weights
    int32_t *input_words
    float *input_grads
    # Whether input_grads are yet to be written in this prediction (see set_input_grads).
    bint grads_unset
    float **input_rows
    # One objective's output rows with their labels and merged weights.
    float **outputs
    float *labels
    float *out_weights
    int32_t *output_words
    float *step_scratch
    # The sgemm variant of the dense step (built with FASTW2V_SGEMM=1 only): the rows gathered
    # into matrices, and the output steps.
    float *input_matrix
    float *output_matrix
    float *output_steps
    # Scratch of the objectives that ask for it (ObjectiveTable.scratch_floats).
    float *scratch
    # An input step scaled by a word's lock factor.
    float *locked_step
    # The loss's pairs (score signed by label, weight) of the steps since it was last summed:
    # summed many at a time (flush_loss), at the end of every sentence and when full.
    float *loss_scores
    float *loss_weights
    int loss_pairs
    int loss_capacity
    int32_t *context
    int32_t *sentence
    int64_t sentence_capacity
    # Noise words drawn in bulk: noise_words[noise_used:noise_count] are the next ones to use.
    int32_t *noise_words
    int noise_used
    int noise_count
    # The private copy of hot_table's hot rows (while hot_loaded), the rows as they were when
    # copied, and the words trained since.
    const ObjectiveTable *hot_table
    float *hot_rows
    float *hot_base
    bint hot_loaded
    int64_t hot_words
    # Test hook: when not NULL, negative sampling uses these instead of drawing.
    const int32_t *fixed_negatives
    double loss
    int64_t predictions
    int64_t words_trained


cdef double logistic_step(const Model *m, Worker *w, int n_in, int n_out,
                          float alpha) noexcept nogil
cdef void set_input_grads(const Model *m, Worker *w, int n_in) noexcept nogil
cdef float current_alpha(const Model *m) noexcept nogil
cdef void train_sentence(const Model *m, Worker *w, const int32_t *ids, int64_t n,
                         float alpha) noexcept nogil
cdef int64_t add_words_done(const Model *m, int64_t raw_words) noexcept nogil
cdef bint stop_requested(const Model *m) noexcept nogil
cdef int reserve_sentence(Worker *w, int64_t length) noexcept nogil
cdef void end_job(const Model *m, Worker *w) noexcept nogil


cdef class Trainer:
    cdef Model model
    cdef object _keep_alive
    cdef cnp.ndarray _words_done
    cdef cnp.ndarray _stop
    cdef _add_objective(self, ObjectiveTable *t, objective, cnp.ndarray syn0)
    cdef int _negative(self)


cdef class WorkerState:
    cdef Worker state
    cdef void *_block
