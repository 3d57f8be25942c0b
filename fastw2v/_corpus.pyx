"""Corpus preparation without the GIL's per-token cost.

Two ways text reaches the kernels:
- `encode_sentences` turns a batch of Python sentences into word ids with C-level dict lookups
  (one producer thread keeps several workers fed);
- `train_file_range` reads one line-aligned byte range of a corpus file, tokenises it with the
  tokenizer of `_tokenize.pxd` (the one `_count` counted the vocabulary with), looks words up in
  a C hash table, and trains each sentence, all without the GIL.
`line_ranges` cuts a file, or a part of one, into such ranges, for training and for counting.
A `RangeCache` keeps the word ids of a range from its first pass, so that later epochs
train from memory instead of reading and tokenising again.
"""

import os
from collections.abc import Mapping

import numpy as np

cimport numpy as cnp
from cpython.dict cimport PyDict_GetItem
from cpython.long cimport PyLong_AsLong
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.stdio cimport FILE, fclose, fread
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcmp, memcpy

from fastw2v._kernels cimport (
    Model,
    Trainer,
    WorkerState,
    add_words_done,
    current_alpha,
    end_job,
    stop_requested,
    train_sentence,
)
from fastw2v._tokenize cimport (
    MAX_SENTENCE_LENGTH as _MAX_SENTENCE_LENGTH,
    MAX_TOKEN_BYTES,
    READ_CHUNK,
    SENTENCE_ENDED,
    TOKEN_ENDED,
    Tokenizer,
    hash_token,
    open_corpus,
    seek_corpus,
    tokenizer_feed,
    tokenizer_init,
)

cnp.import_array()

#: Sentences longer than this many tokens are cut into consecutive pieces (nothing is dropped,
#: only windows across a cut are lost); defined once, in _tokenize.pxd.
MAX_SENTENCE_LENGTH = _MAX_SENTENCE_LENGTH
# How far past a range's nominal start `line_ranges` looks for the next newline.
cdef enum:
    PROBE_BYTES = 1 << 16
#: Lines longer than this may not start a worker's byte range (see `_count.splits_like_str_split`).
MAX_PROBED_LINE_BYTES = PROBE_BYTES - 1


cpdef object sentence_tokens(object sentence, Py_ssize_t index):
    """The tokens of corpus sentence `index` as a list or tuple, whose len() is what iterating
    the sentence gives (a sentence object's own __len__ is never trusted)."""
    cdef type kind = type(sentence)
    if kind is list or kind is tuple:
        return sentence
    if isinstance(sentence, (str, bytes)):
        raise TypeError(f"sentence {index} is a {kind.__name__}, not a list of tokens: split it "
                        "first, e.g. text.split()")
    if isinstance(sentence, Mapping):
        raise TypeError(f"sentence {index} is a {kind.__name__}, a mapping, not a list of "
                        "tokens: give its words as a list")
    try:
        return list(sentence)
    except TypeError:
        raise TypeError(f"sentence {index} is a {kind.__name__}, not a list of str "
                        "tokens") from None


def encode_sentences(list sentences, dict key_to_index, Py_ssize_t first_index=0):
    """Word ids of a batch of sentences, dropping out-of-vocabulary tokens.

    Returns (ids, sentence_ends, raw_words): sentence s is ids[ends[s-1]:ends[s]], and
    raw_words[s] its token count before unknown words were dropped. `first_index` is the index
    of the batch's first sentence in the corpus, for error messages.
    """
    cdef Py_ssize_t n_sentences = len(sentences), total = 0, s, n = 0, t
    cdef object tokens, token
    cdef void *value
    cdef list token_lists = [sentence_tokens(sentences[s], first_index + s)
                             for s in range(n_sentences)]
    for tokens in token_lists:
        total += len(tokens)
    ids_array = np.empty(total, dtype=np.int32)
    ends_array = np.empty(n_sentences, dtype=np.int64)
    raw_array = np.empty(n_sentences, dtype=np.int64)
    cdef int32_t[::1] ids = ids_array
    cdef int64_t[::1] ends = ends_array
    cdef int64_t[::1] raw = raw_array
    for s in range(n_sentences):
        tokens = token_lists[s]
        raw[s] = len(tokens)
        # Indexing a list or tuple of known length: nothing can yield more than was counted.
        for t in range(raw[s]):
            token = tokens[t]
            value = PyDict_GetItem(key_to_index, token)
            if value == NULL:
                # The vocabulary holds only str keys, so any other token type lands here.
                if not isinstance(token, str):
                    raise TypeError(
                        f"sentence {first_index + s} holds a token of type "
                        f"{type(token).__name__} ({token!r}); tokens must be str")
                continue
            ids[n] = <int32_t>PyLong_AsLong(<object>value)
            n += 1
        ends[s] = n
    return ids_array[:n], ends_array, raw_array


cdef class VocabHash:
    """Open-addressing hash table from a word's utf-8 bytes to its index, built once per train()."""

    cdef object _blob
    cdef const uint8_t *keys
    cdef int64_t[::1] offsets
    cdef uint64_t[::1] hashes
    cdef int32_t[::1] slots
    cdef uint64_t mask

    def __init__(self, index_to_key):
        encoded = [word.encode("utf-8") for word in index_to_key]
        lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
        self.offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        self._blob = b"".join(encoded)
        self.keys = self._blob
        capacity = 1
        while capacity < 2 * len(encoded) + 1:
            capacity *= 2
        self.mask = capacity - 1
        self.slots = np.full(capacity, -1, dtype=np.int32)
        self.hashes = np.empty(len(encoded), dtype=np.uint64)
        cdef Py_ssize_t i
        cdef uint64_t slot
        for i in range(len(encoded)):
            self.hashes[i] = hash_token(&self.keys[self.offsets[i]],
                                        self.offsets[i + 1] - self.offsets[i])
            slot = self.hashes[i] & self.mask
            while self.slots[slot] != -1:
                slot = (slot + 1) & self.mask
            self.slots[slot] = i

    cdef inline int32_t lookup(self, const uint8_t *token, Py_ssize_t length) noexcept nogil:
        cdef uint64_t h = hash_token(token, length)
        cdef uint64_t slot = h & self.mask
        cdef int32_t word
        while True:
            word = self.slots[slot]
            if word < 0:
                return -1
            if (self.hashes[word] == h
                    and self.offsets[word + 1] - self.offsets[word] == length
                    and memcmp(&self.keys[self.offsets[word]], token, length) == 0):
                return word
            slot = (slot + 1) & self.mask

    def get(self, word: str) -> int:
        """Index of `word`, or -1 (for tests)."""
        data = word.encode("utf-8")
        return self.lookup(<const uint8_t *>(<bytes>data), len(data))


cdef struct IdCache:
    # The in-vocabulary ids of a range's sentences, one after the other, and per sentence its
    # number of ids and of raw words (what the learning-rate schedule counts; both at most
    # MAX_SENTENCE_LENGTH, a sentence being cut there).
    int32_t *ids
    int32_t *sentences
    int64_t n_ids
    int64_t ids_capacity
    int64_t n_sentences
    int64_t sentences_capacity
    # Bytes the cache may grow to; past it the cache gives up and the range is read every epoch.
    int64_t budget
    # What the range is expected to hold (its share of the corpus's words and sentences).
    int64_t expected_ids
    int64_t expected_sentences
    bint recording
    bint complete


cdef void _drop_cache(IdCache *c) noexcept nogil:
    free(c.ids)
    free(c.sentences)
    c.ids = NULL
    c.sentences = NULL
    c.n_ids = c.ids_capacity = c.n_sentences = c.sentences_capacity = 0
    c.recording = False
    c.complete = False


cdef bint _grow(void **buffer, int64_t *capacity, int64_t needed, size_t item,
                int64_t other_bytes, int64_t budget, int64_t expected) noexcept nogil:
    """Make room for `needed` items within `budget` bytes (with `other_bytes` already used): at
    first the `expected` number, then a quarter more at a time, so that the peak stays close to
    what the range needs (a doubling could hold twice the ids at its last step)."""
    cdef int64_t wanted = capacity[0] + capacity[0] // 4 if capacity[0] else expected
    if wanted < 1 << 12:
        wanted = 1 << 12
    cdef void *grown
    if needed <= capacity[0]:
        return True
    if wanted < needed:
        wanted = needed
    if other_bytes + wanted * <int64_t>item > budget:
        wanted = (budget - other_bytes) // <int64_t>item
        if wanted < needed:
            return False
    grown = realloc(buffer[0], wanted * item)
    if grown == NULL:
        return False
    buffer[0] = grown
    capacity[0] = wanted
    return True


cdef void _fit(IdCache *c) noexcept nogil:
    """Give back what the growth left unused once the cache is complete."""
    cdef void *fitted
    if c.n_ids and c.n_ids < c.ids_capacity:
        fitted = realloc(c.ids, c.n_ids * sizeof(int32_t))
        if fitted != NULL:
            c.ids = <int32_t *>fitted
            c.ids_capacity = c.n_ids
    if c.n_sentences and c.n_sentences < c.sentences_capacity:
        fitted = realloc(c.sentences, c.n_sentences * 2 * sizeof(int32_t))
        if fitted != NULL:
            c.sentences = <int32_t *>fitted
            c.sentences_capacity = c.n_sentences


cdef void _record(IdCache *c, const int32_t *ids, int64_t n_ids, int64_t n_raw) noexcept nogil:
    """Append one sentence to a recording cache, or stop recording when it would not fit."""
    cdef int64_t ids_bytes = c.ids_capacity * sizeof(int32_t)
    cdef int64_t sentence_bytes = c.sentences_capacity * 2 * sizeof(int32_t)
    if not _grow(<void **>&c.ids, &c.ids_capacity, c.n_ids + n_ids, sizeof(int32_t),
                 sentence_bytes, c.budget, c.expected_ids):
        _drop_cache(c)
        return
    ids_bytes = c.ids_capacity * sizeof(int32_t)
    if not _grow(<void **>&c.sentences, &c.sentences_capacity, c.n_sentences + 1,
                 2 * sizeof(int32_t), ids_bytes, c.budget, c.expected_sentences):
        _drop_cache(c)
        return
    if n_ids:
        memcpy(&c.ids[c.n_ids], ids, n_ids * sizeof(int32_t))
    c.sentences[2 * c.n_sentences] = <int32_t>n_ids
    c.sentences[2 * c.n_sentences + 1] = <int32_t>n_raw
    c.n_ids += n_ids
    c.n_sentences += 1


cdef void _train_cached(Trainer trainer, WorkerState worker, const IdCache *c) noexcept nogil:
    """Train a range's sentences from its cache, as reading the range would have."""
    cdef const Model *m = &trainer.model
    cdef int64_t s, n_ids, offset = 0
    for s in range(c.n_sentences):
        n_ids = c.sentences[2 * s]
        if n_ids:
            train_sentence(m, &worker.state, &c.ids[offset], n_ids, current_alpha(m))
        add_words_done(m, c.sentences[2 * s + 1])
        offset += n_ids
        if stop_requested(m):
            break


cdef class RangeCache:
    """The word ids of one byte range of a corpus file, kept from its first full pass.

    Later passes (epochs) train from memory: the same sentences in the same order, so training
    is the same as reading the file again, minus the reading and tokenising. A cache that would
    outgrow `budget` bytes gives up on its first pass (and frees what it held): that range is
    then read every epoch. `expected_ids` and `expected_sentences` size its first allocation.
    Valid for one vocabulary; a cache belongs to one `train()` call.
    """

    cdef IdCache cache

    def __cinit__(self, int64_t budget, int64_t expected_ids=0, int64_t expected_sentences=0):
        self.cache.budget = budget
        self.cache.expected_ids = expected_ids
        self.cache.expected_sentences = expected_sentences
        self.cache.recording = budget > 0

    def __dealloc__(self):
        _drop_cache(&self.cache)

    @property
    def complete(self) -> bool:
        """Whether a full pass is held (later passes train from memory)."""
        return bool(self.cache.complete)

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return int(self.cache.ids_capacity * sizeof(int32_t)
                   + self.cache.sentences_capacity * 2 * sizeof(int32_t))


cdef int _train_range(Trainer trainer, WorkerState worker, VocabHash vocab, FILE *f,
                      int64_t length, int64_t *too_long_at, int64_t *too_long_length,
                      IdCache *cache) noexcept nogil:
    """Train every sentence in the next `length` bytes of `f`, recording them in `cache` if it is
    recording; -1 on allocation failure, -2 at a token longer than MAX_TOKEN_BYTES (its offset in
    the range and its length in the two out-parameters)."""
    cdef const Model *m = &trainer.model
    cdef uint8_t *chunk = <uint8_t *>malloc(READ_CHUNK)
    cdef int32_t *ids = <int32_t *>malloc(_MAX_SENTENCE_LENGTH * sizeof(int32_t))
    cdef Tokenizer *tokens = <Tokenizer *>malloc(sizeof(Tokenizer))
    cdef int64_t remaining = length, got, i, n_ids = 0, n_raw = 0, consumed = 0
    cdef int status = 0
    cdef int32_t word
    cdef int events
    if chunk == NULL or ids == NULL or tokens == NULL:
        free(chunk)
        free(ids)
        free(tokens)
        return -1
    tokenizer_init(tokens, _MAX_SENTENCE_LENGTH)
    while remaining > 0 and not stop_requested(m):
        got = fread(chunk, 1, READ_CHUNK if remaining > READ_CHUNK else remaining, f)
        if got <= 0:
            break
        remaining -= got
        for i in range(got + (1 if remaining <= 0 or got < READ_CHUNK else 0)):
            # One virtual newline after the range's last byte ends its last sentence.
            events = tokenizer_feed(tokens, chunk[i] if i < got else 10)
            if events & TOKEN_ENDED:
                if tokens.ended_length > MAX_TOKEN_BYTES:
                    too_long_at[0] = consumed + i - tokens.ended_length
                    too_long_length[0] = tokens.ended_length
                    status = -2
                    break
                n_raw += 1
                word = vocab.lookup(tokens.token, tokens.ended_length)
                if word >= 0:
                    ids[n_ids] = word
                    n_ids += 1
            if events & SENTENCE_ENDED:
                if n_ids:
                    train_sentence(m, &worker.state, ids, n_ids, current_alpha(m))
                add_words_done(m, n_raw)
                if cache.recording:
                    _record(cache, ids, n_ids, n_raw)
                n_ids = 0
                n_raw = 0
                if stop_requested(m):
                    break
        if status:
            break
        consumed += got
    free(chunk)
    free(ids)
    free(tokens)
    if cache.recording:
        # Only a whole pass can stand in for reading the range.
        if status == 0 and remaining <= 0 and not stop_requested(m):
            cache.recording = False
            cache.complete = True
            _fit(cache)
        else:
            # A pass cut short: the next whole one may record.
            _drop_cache(cache)
            cache.recording = True
    return status


def train_file_range(Trainer trainer, WorkerState worker, VocabHash vocab, path,
                     int64_t start, int64_t end, RangeCache cache=None) -> None:
    """Train on bytes [start, end) of the corpus file; both ends must be line or token bounds.

    With a `cache` of this range, the first pass records its sentences and later passes train
    from them without reading the file.
    """
    cdef FILE *f
    cdef int status
    cdef int64_t too_long_at = 0, too_long_length = 0
    cdef IdCache unused
    cdef IdCache *record = &unused
    if end <= start:
        return
    if cache is not None:
        if cache.cache.complete:
            with nogil:
                _train_cached(trainer, worker, &cache.cache)
                end_job(&trainer.model, &worker.state)
            return
        record = &cache.cache
    unused.recording = False
    f = open_corpus(path)
    try:
        if seek_corpus(f, start) != 0:
            raise OSError(f"cannot seek to byte {start} of {os.fspath(path)!r}")
        with nogil:
            status = _train_range(trainer, worker, vocab, f, end - start, &too_long_at,
                                  &too_long_length, record)
            end_job(&trainer.model, &worker.state)
        if status == -2:
            from fastw2v._count import token_too_long

            raise token_too_long(path, start + too_long_at, too_long_length)
        if status != 0:
            raise MemoryError("cannot allocate corpus reading buffers")
    finally:
        fclose(f)


def line_ranges(path, int parts, int64_t start=0, end=None, bint lines_only=False,
                int64_t probe_bytes=PROBE_BYTES):
    """Bytes [start, end) of a corpus file (to its end by default) cut into `parts` consecutive
    ranges, each cut right after the first newline at or after one byte before its nominal
    place (so a newline just before it cuts there), looked for within `probe_bytes`.

    Where no newline is that near (a one-line corpus): with `lines_only`, None (the caller
    reads the file whole); otherwise the cut goes after the first whitespace, or to the end,
    so that no token is cut in two. Ranges may be empty.
    """
    end = os.path.getsize(path) if end is None else end
    bounds = [start]
    with open(path, "rb") as f:
        for k in range(1, parts):
            nominal = max(start + (end - start) * k // parts, bounds[len(bounds) - 1] + 1)
            f.seek(nominal - 1)
            window = f.read(probe_bytes)
            cut = window.find(b"\n")
            if cut < 0 and lines_only:
                return None
            if cut < 0:
                cut = next((i for i, c in enumerate(window) if c in b" \t\r\x0b\x0c"), -1)
            bounds.append(end if cut < 0 else min(end, nominal + cut))
    bounds.append(end)
    return list(zip(bounds, bounds[1:]))
