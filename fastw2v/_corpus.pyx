"""Corpus preparation without the GIL's per-token cost.

Two ways text reaches the kernels:
- `encode_sentences` turns a batch of Python sentences into word ids with C-level dict lookups
  (one producer thread keeps several workers fed);
- `train_file_range` reads one line-aligned byte range of a corpus file, tokenises on ASCII
  whitespace (the same rule as `bytes.split()`, which counted the vocabulary), looks words up in
  a C hash table, and trains each sentence, all without the GIL.
"""

import os

import numpy as np

cimport numpy as cnp
from cpython.dict cimport PyDict_GetItem
from cpython.long cimport PyLong_AsLong
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdio cimport FILE, fclose, ferror, fopen, fread
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcmp, memcpy, memmove

from fastw2v._kernels cimport (
    Model,
    Trainer,
    WorkerState,
    add_words_done,
    current_alpha,
    stop_requested,
    train_sentence,
)

cnp.import_array()

cdef extern from *:
    """
    #include <stdio.h>
    #include <stdint.h>
    #if defined(_WIN32)
    static int fw_seek(FILE *f, int64_t offset) { return _fseeki64(f, offset, SEEK_SET); }
    #else
    #include <sys/types.h>
    static int fw_seek(FILE *f, int64_t offset) { return fseeko(f, (off_t)offset, SEEK_SET); }
    #endif
    """
    int fw_seek(FILE *f, int64_t offset) nogil

# Sentences longer than this many tokens are cut into consecutive pieces, as LineSentence does:
# nothing is dropped, only windows across a cut are lost.
cdef int64_t MAX_SENTENCE = 10000
MAX_SENTENCE_LENGTH = MAX_SENTENCE
# Longer tokens cannot be vocabulary words of any real corpus; they are read as unknown words.
cdef enum:
    MAX_TOKEN_BYTES = 4096
    READ_CHUNK = 1 << 20
    # How far past a worker's nominal start `file_ranges` looks for the next newline.
    PROBE_BYTES = 1 << 16


def encode_sentences(list sentences, dict key_to_index, Py_ssize_t first_index=0):
    """Word ids of a batch of sentences, dropping out-of-vocabulary tokens.

    Returns (ids, sentence_ends, raw_words): sentence s is ids[ends[s-1]:ends[s]], and
    raw_words[s] its token count before unknown words were dropped. `first_index` is the index
    of the batch's first sentence in the corpus, for error messages.
    """
    cdef Py_ssize_t n_sentences = len(sentences), total = 0, s, n = 0
    cdef object sentence, token
    cdef void *value
    for s in range(n_sentences):
        sentence = sentences[s]
        if isinstance(sentence, (str, bytes)):
            raise TypeError(
                f"sentence {first_index + s} is a {type(sentence).__name__}, not a list of "
                "tokens: split it first, e.g. text.split()")
        try:
            total += len(sentence)
        except TypeError:
            raise TypeError(
                f"sentence {first_index + s} is a {type(sentence).__name__}, not a list of "
                "str tokens") from None
    ids_array = np.empty(total, dtype=np.int32)
    ends_array = np.empty(n_sentences, dtype=np.int64)
    raw_array = np.empty(n_sentences, dtype=np.int64)
    cdef int32_t[::1] ids = ids_array
    cdef int64_t[::1] ends = ends_array
    cdef int64_t[::1] raw = raw_array
    for s in range(n_sentences):
        sentence = sentences[s]
        raw[s] = len(sentence)
        for token in sentence:
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


cdef inline uint64_t _hash_bytes(const uint8_t *data, Py_ssize_t length) noexcept nogil:
    # FNV-1a: words are short, and one multiply per byte beats any setup cost.
    cdef uint64_t h = <uint64_t>14695981039346656037ULL
    cdef Py_ssize_t i
    for i in range(length):
        h = (h ^ data[i]) * <uint64_t>1099511628211ULL
    return h


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
            self.hashes[i] = _hash_bytes(&self.keys[self.offsets[i]],
                                         self.offsets[i + 1] - self.offsets[i])
            slot = self.hashes[i] & self.mask
            while self.slots[slot] != -1:
                slot = (slot + 1) & self.mask
            self.slots[slot] = i

    cdef inline int32_t lookup(self, const uint8_t *token, Py_ssize_t length) noexcept nogil:
        cdef uint64_t h = _hash_bytes(token, length)
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


cdef FILE *_open_corpus(path) except NULL:
    """Open a corpus file for binary reading; the error names the file."""
    cdef bytes encoded_path = os.fsencode(path)
    cdef FILE *f = fopen(encoded_path, "rb")
    if f == NULL:
        raise OSError(f"cannot open corpus file {os.fspath(path)!r}")
    return f


cdef uint8_t *_read_buffer(FILE *f) except NULL:
    """A READ_CHUNK-byte buffer for reading `f`; closes `f` if there is no memory for it."""
    cdef uint8_t *chunk = <uint8_t *>malloc(READ_CHUNK)
    if chunk == NULL:
        fclose(f)
        raise MemoryError("cannot allocate a read buffer")
    return chunk


cdef inline bint _is_space(uint8_t c) noexcept nogil:
    return c == 32 or 9 <= c <= 13


cdef int _train_range(Trainer trainer, WorkerState worker, VocabHash vocab, FILE *f,
                      int64_t length) noexcept nogil:
    """Train every sentence in the next `length` bytes of `f`; -1 on allocation failure."""
    cdef const Model *m = &trainer.model
    cdef uint8_t *chunk = <uint8_t *>malloc(READ_CHUNK)
    cdef uint8_t *token = <uint8_t *>malloc(MAX_TOKEN_BYTES)
    cdef int32_t *ids = <int32_t *>malloc(MAX_SENTENCE * sizeof(int32_t))
    cdef int64_t remaining = length, got, i, n_ids = 0, n_raw = 0
    cdef Py_ssize_t token_length = 0
    cdef bint token_too_long = False, end_of_sentence
    cdef int32_t word
    cdef uint8_t c
    if chunk == NULL or token == NULL or ids == NULL:
        free(chunk)
        free(token)
        free(ids)
        return -1
    while remaining > 0 and not stop_requested(m):
        got = fread(chunk, 1, READ_CHUNK if remaining > READ_CHUNK else remaining, f)
        if got <= 0:
            break
        remaining -= got
        for i in range(got + (1 if remaining <= 0 or got < READ_CHUNK else 0)):
            # One virtual newline after the range's last byte ends its last sentence.
            c = chunk[i] if i < got else 10
            if not _is_space(c):
                if token_length < MAX_TOKEN_BYTES:
                    token[token_length] = c
                    token_length += 1
                else:
                    token_too_long = True
                continue
            if token_length:
                n_raw += 1
                word = -1 if token_too_long else vocab.lookup(token, token_length)
                if word >= 0:
                    ids[n_ids] = word
                    n_ids += 1
                token_length = 0
                token_too_long = False
            end_of_sentence = c == 10 or n_raw == MAX_SENTENCE
            if end_of_sentence and n_raw:
                if n_ids:
                    train_sentence(m, &worker.state, ids, n_ids, current_alpha(m))
                add_words_done(m, n_raw)
                n_ids = 0
                n_raw = 0
                if stop_requested(m):
                    break
    free(chunk)
    free(token)
    free(ids)
    return 0


def train_file_range(Trainer trainer, WorkerState worker, VocabHash vocab, path,
                     int64_t start, int64_t end) -> None:
    """Train on bytes [start, end) of the corpus file; both ends must be line or token bounds."""
    cdef FILE *f
    cdef int status
    if end <= start:
        return
    f = _open_corpus(path)
    try:
        if fw_seek(f, start) != 0:
            raise OSError(f"cannot seek to byte {start} of {os.fspath(path)!r}")
        with nogil:
            status = _train_range(trainer, worker, vocab, f, end - start)
        if status != 0:
            raise MemoryError("cannot allocate corpus reading buffers")
    finally:
        fclose(f)


def file_ranges(path, int workers, int64_t probe_bytes=PROBE_BYTES):
    """Split a corpus file into `workers` byte ranges that start right after a newline, or after
    whitespace if no newline is near (one-line corpora), so that no token is cut in two."""
    size = os.path.getsize(path)
    bounds = [0]
    with open(path, "rb") as f:
        for k in range(1, workers):
            nominal = max(size * k // workers, bounds[len(bounds) - 1])
            f.seek(nominal)
            window = f.read(probe_bytes)
            cut = window.find(b"\n")
            if cut < 0:
                cut = next((i for i, c in enumerate(window) if c in b" \t\r\x0b\x0c"), -1)
            bounds.append(size if cut < 0 else min(size, nominal + cut + 1))
    bounds.append(size)
    return [(bounds[k], bounds[k + 1]) for k in range(workers)]


cdef class _WordCounter:
    """Growable hash table of byte strings to counts, in first-seen order, for vocabulary scans."""

    cdef uint8_t *arena
    cdef int64_t arena_used, arena_size
    cdef int64_t *offsets      # entry i is arena[offsets[i]:offsets[i + 1]]
    cdef int64_t *counts
    cdef uint64_t *hashes
    cdef int64_t entries, capacity
    cdef int32_t *slots
    cdef uint64_t mask

    def __cinit__(self):
        self.arena_size = 1 << 20
        self.capacity = 1 << 16
        self.arena = <uint8_t *>malloc(self.arena_size)
        self.offsets = <int64_t *>malloc((self.capacity + 1) * sizeof(int64_t))
        self.counts = <int64_t *>malloc(self.capacity * sizeof(int64_t))
        self.hashes = <uint64_t *>malloc(self.capacity * sizeof(uint64_t))
        self.slots = <int32_t *>malloc(2 * self.capacity * sizeof(int32_t))
        if (self.arena == NULL or self.offsets == NULL or self.counts == NULL
                or self.hashes == NULL or self.slots == NULL):
            raise MemoryError("cannot allocate the vocabulary counter")
        self.mask = 2 * self.capacity - 1
        self.offsets[0] = 0
        self._clear_slots()

    def __dealloc__(self):
        free(self.arena)
        free(self.offsets)
        free(self.counts)
        free(self.hashes)
        free(self.slots)

    cdef void _clear_slots(self) noexcept nogil:
        cdef int64_t i
        for i in range(self.mask + 1):
            self.slots[i] = -1

    cdef void _reindex(self) noexcept nogil:
        cdef int64_t i
        cdef uint64_t slot
        self._clear_slots()
        for i in range(self.entries):
            slot = self.hashes[i] & self.mask
            while self.slots[slot] != -1:
                slot = (slot + 1) & self.mask
            self.slots[slot] = <int32_t>i

    cdef int _grow(self, int64_t token_length) noexcept nogil:
        """Make room for one more entry of token_length bytes; -1 when memory runs out."""
        cdef void *p
        cdef int64_t size
        if self.arena_used + token_length > self.arena_size:
            size = 2 * self.arena_size + token_length
            p = realloc(self.arena, size)
            if p == NULL:
                return -1
            self.arena = <uint8_t *>p
            self.arena_size = size
        if self.entries == self.capacity:
            if self.capacity >= (1 << 30):
                return -1
            self.capacity *= 2
            p = realloc(self.offsets, (self.capacity + 1) * sizeof(int64_t))
            if p == NULL:
                return -1
            self.offsets = <int64_t *>p
            p = realloc(self.counts, self.capacity * sizeof(int64_t))
            if p == NULL:
                return -1
            self.counts = <int64_t *>p
            p = realloc(self.hashes, self.capacity * sizeof(uint64_t))
            if p == NULL:
                return -1
            self.hashes = <uint64_t *>p
            p = realloc(self.slots, 2 * self.capacity * sizeof(int32_t))
            if p == NULL:
                return -1
            self.slots = <int32_t *>p
            self.mask = 2 * self.capacity - 1
            self._reindex()
        return 0

    cdef int add(self, const uint8_t *token, int64_t length) noexcept nogil:
        cdef uint64_t h = _hash_bytes(token, length)
        cdef uint64_t slot = h & self.mask
        cdef int32_t entry
        cdef int64_t start, capacity
        while True:
            entry = self.slots[slot]
            if entry < 0:
                break
            start = self.offsets[entry]
            if (self.hashes[entry] == h and self.offsets[entry + 1] - start == length
                    and memcmp(&self.arena[start], token, length) == 0):
                self.counts[entry] += 1
                return 0
            slot = (slot + 1) & self.mask
        capacity = self.capacity
        if self._grow(length) != 0:
            return -1
        if self.capacity != capacity:
            # The slots were rebuilt for the larger table: find a free one again.
            slot = h & self.mask
            while self.slots[slot] != -1:
                slot = (slot + 1) & self.mask
        entry = <int32_t>self.entries
        memcpy(&self.arena[self.arena_used], token, length)
        self.arena_used += length
        self.offsets[entry + 1] = self.arena_used
        self.counts[entry] = 1
        self.hashes[entry] = h
        self.slots[slot] = entry
        self.entries += 1
        return 0

    cdef void prune(self, int64_t min_count) noexcept nogil:
        """Drop the entries seen fewer than min_count times, keeping first-seen order."""
        cdef int64_t i, kept = 0, start, length, used = 0
        for i in range(self.entries):
            if self.counts[i] < min_count:
                continue
            start = self.offsets[i]
            length = self.offsets[i + 1] - start
            if used != start:
                memmove(&self.arena[used], &self.arena[start], length)
            self.offsets[kept] = used
            used += length
            self.counts[kept] = self.counts[i]
            self.hashes[kept] = self.hashes[i]
            kept += 1
        self.offsets[kept] = used
        self.entries = kept
        self.arena_used = used
        self._reindex()

    def items(self):
        """(word bytes, count) pairs in first-seen order."""
        cdef int64_t i
        return [((<char *>self.arena)[self.offsets[i]:self.offsets[i + 1]], self.counts[i])
                for i in range(self.entries)]


def count_file_words(path, int64_t max_vocab_size=0, int64_t max_sentence_length=10000):
    """Count the tokens of a corpus file with the trainer's tokenisation.

    Returns (items, total_words, sentences, min_reduce): items are (bytes, count) in first-seen
    order. With max_vocab_size, entries seen fewer than min_reduce times are dropped each time
    the table grows past it, and min_reduce rises by one (word2vec.c's ReduceVocab).
    """
    cdef _WordCounter counter = _WordCounter()
    cdef FILE *f
    cdef uint8_t *chunk
    cdef uint8_t token[MAX_TOKEN_BYTES]
    cdef int64_t got, i, total = 0, sentences = 0, in_line = 0, token_length = 0
    cdef int64_t min_reduce = 1
    cdef bint failed = False, at_end
    cdef uint8_t c
    f = _open_corpus(path)
    chunk = _read_buffer(f)
    try:
        with nogil:
            while not failed:
                got = fread(chunk, 1, READ_CHUNK, f)
                at_end = got < READ_CHUNK
                for i in range(got + (1 if at_end else 0)):
                    c = chunk[i] if i < got else 10
                    if not _is_space(c):
                        if token_length < MAX_TOKEN_BYTES:
                            token[token_length] = c
                        token_length += 1
                        continue
                    if token_length:
                        # Over-long tokens count as words but, as in training, are unknown ones.
                        if token_length <= MAX_TOKEN_BYTES and counter.add(token, token_length):
                            failed = True
                            break
                        token_length = 0
                        total += 1
                        in_line += 1
                        if in_line == max_sentence_length:
                            sentences += 1
                            in_line = 0
                        if max_vocab_size and counter.entries > max_vocab_size:
                            counter.prune(min_reduce)
                            min_reduce += 1
                    if c == 10 and in_line:
                        sentences += 1
                        in_line = 0
                if at_end:
                    break
        if failed:
            raise MemoryError("out of memory while counting the vocabulary")
    finally:
        free(chunk)
        fclose(f)
    return counter.items(), total, sentences, min_reduce


cdef inline bint _is_unicode_space(uint32_t code_point) noexcept nogil:
    # What str.split() splits on beyond ASCII whitespace (str.isspace() above U+007F).
    return (code_point == 0x85 or code_point == 0xA0 or code_point == 0x1680
            or 0x2000 <= code_point <= 0x200A or code_point == 0x2028 or code_point == 0x2029
            or code_point == 0x202F or code_point == 0x205F or code_point == 0x3000)


def splits_like_str_split(path, int64_t max_line_bytes=PROBE_BYTES - 1) -> bool:
    """Whether this file's sentences, read by the compiled reader, are exactly what decoding each
    line as UTF-8 and calling ``str.split()`` gives (LineSentence's rule).

    True when the file is valid UTF-8 (the strict decoder's rules: no overlong forms, no
    surrogates, nothing above U+10FFFF), holds no whitespace that str.split() knows and ASCII
    tokenisation does not (U+001C to U+001F, U+0085, U+00A0, U+1680, U+2000 to U+200A, U+2028,
    U+2029, U+202F, U+205F, U+3000), no token longer than the reader keeps, and no line longer
    than `max_line_bytes`: `file_ranges` then finds a newline near every worker's nominal start,
    so each worker's range starts at a line.
    """
    cdef FILE *f
    cdef uint8_t *chunk
    cdef int64_t got, i, token_length = 0, line_length = 0
    cdef int need = 0
    cdef uint32_t code_point = 0
    cdef uint8_t c, low = 0x80, high = 0xBF
    cdef bint same = True
    f = _open_corpus(path)
    chunk = _read_buffer(f)
    with nogil:
        while same:
            got = fread(chunk, 1, READ_CHUNK, f)
            for i in range(got):
                c = chunk[i]
                if need:
                    # A continuation byte, within the range the lead byte allows for it.
                    if c < low or c > high:
                        same = False
                        break
                    code_point = (code_point << 6) | (c & 0x3F)
                    low, high = 0x80, 0xBF
                    need -= 1
                    if need == 0 and _is_unicode_space(code_point):
                        same = False
                        break
                elif c < 0x80:
                    if 0x1C <= c <= 0x1F:
                        same = False
                        break
                elif 0xC2 <= c <= 0xDF:
                    need, code_point = 1, c & 0x1F
                elif 0xE0 <= c <= 0xEF:
                    need, code_point = 2, c & 0x0F
                    if c == 0xE0:
                        low = 0xA0
                    elif c == 0xED:
                        high = 0x9F
                elif 0xF0 <= c <= 0xF4:
                    need, code_point = 3, c & 0x07
                    if c == 0xF0:
                        low = 0x90
                    elif c == 0xF4:
                        high = 0x8F
                else:
                    same = False
                    break
                if c == 10:
                    line_length = 0
                else:
                    line_length += 1
                    if line_length > max_line_bytes:
                        same = False
                        break
                if _is_space(c):
                    token_length = 0
                else:
                    token_length += 1
                    if token_length > MAX_TOKEN_BYTES:
                        same = False
                        break
            if got < READ_CHUNK:
                break
        if ferror(f):
            same = False
    free(chunk)
    fclose(f)
    # A multi-byte character cut off by the end of the file is not valid UTF-8 either.
    return same and need == 0
