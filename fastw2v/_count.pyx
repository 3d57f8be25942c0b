"""Counting the words of a corpus file, and checking whether the compiled reader would split a
file as Python's ``str.split()`` does; both without the GIL.

`count_file_words` feeds every byte through the tokenizer of `_tokenize.pxd`, the one the
trainer reads with, so the vocabulary holds exactly the words training will look up; given a
byte range, it reads it as the trainer reads a worker's range (`_corpus.train_file_range`).
"""

from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdio cimport FILE, fclose, ferror, fread
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcmp, memcpy, memmove

from fastw2v._tokenize cimport (
    MAX_SENTENCE_LENGTH,
    MAX_TOKEN_BYTES,
    READ_CHUNK,
    SENTENCE_ENDED,
    TOKEN_ENDED,
    Tokenizer,
    hash_token,
    is_space,
    open_corpus,
    read_buffer,
    seek_corpus,
    tokenizer_feed,
    tokenizer_init,
)

from fastw2v._corpus import MAX_PROBED_LINE_BYTES


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

    cdef int add(self, const uint8_t *token, int64_t length, int64_t count) noexcept nogil:
        """Add `count` to the token's entry, making one at the end of the table if it is new;
        -1 when memory runs out."""
        cdef uint64_t h = hash_token(token, length)
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
                self.counts[entry] += count
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
        self.counts[entry] = count
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

    cdef int absorb(self, _WordCounter other) noexcept nogil:
        """Add every entry of `other`, in its order: the table of one pass over this counter's
        text followed by the other's; -1 when memory runs out."""
        cdef int64_t i, start
        for i in range(other.entries):
            start = other.offsets[i]
            if self.add(&other.arena[start], other.offsets[i + 1] - start, other.counts[i]):
                return -1
        return 0

    def items(self):
        """(word bytes, count) pairs in first-seen order."""
        cdef int64_t i
        return [((<char *>self.arena)[self.offsets[i]:self.offsets[i + 1]], self.counts[i])
                for i in range(self.entries)]


def token_too_long(path, int64_t offset, int64_t length) -> ValueError:
    """The error for a token longer than a corpus file's reader keeps."""
    from os import fspath

    return ValueError(
        f"corpus file {fspath(path)!r} has a token of {length:,} bytes at byte {offset:,}: "
        f"tokens longer than {MAX_TOKEN_BYTES:,} bytes are not words; split or remove it, or "
        "read the file with LineSentence, which keeps it")


def count_file_words(path, int64_t max_vocab_size=0,
                     int64_t max_sentence_length=MAX_SENTENCE_LENGTH, int64_t start=0,
                     end=None):
    """Count the tokens of a corpus file with the trainer's tokenisation.

    Returns (items, total_words, sentences, min_reduce): items are (bytes, count) in first-seen
    order. With max_vocab_size, entries seen fewer than min_reduce times are dropped each time
    the table has grown past it at the end of a sentence, and min_reduce rises by one.

    With `start` and `end`, only bytes [start, end) are counted, read as the trainer reads a
    worker's byte range: both ends must be line or token bounds (as `_corpus.line_ranges`
    cuts), and the range's last sentence ends at `end`. Token offsets in errors are the file's.
    """
    cdef _WordCounter counter = _WordCounter()
    total, sentences, min_reduce = _count_into(counter, path, max_vocab_size,
                                               max_sentence_length, start, end)
    return counter.items(), total, sentences, min_reduce


def count_file_ranges(path, ranges, int64_t max_sentence_length=MAX_SENTENCE_LENGTH):
    """`count_file_words` of the bytes the ranges cover, one thread per range.

    The ranges must follow each other, each after the first starting right after a newline:
    then each range's sentences are those of one pass over them all, and the tables merged in
    range order hold the words in the order that pass first sees them. Without
    `max_vocab_size`: pruning as the count goes depends on everything counted before.
    """
    import threading

    cdef _WordCounter merged
    counters = [_WordCounter() for _ in ranges]
    results = [None] * len(ranges)

    def count(k):
        try:
            results[k] = _count_into(counters[k], path, 0, max_sentence_length, *ranges[k])
        except BaseException as error:
            results[k] = error

    threads = [threading.Thread(target=count, args=(k,), name=f"fastw2v-count-{k}")
               for k in range(1, len(ranges))]
    for thread in threads:
        thread.start()
    count(0)
    for thread in threads:
        thread.join()
    for result in results:  # the error of the earliest range, as one pass would meet it first
        if isinstance(result, BaseException):
            raise result
    merged = counters[0]
    for k in range(1, len(ranges)):
        if merged.absorb(counters[k]):
            raise MemoryError("out of memory while counting the vocabulary")
        counters[k] = None
    return (merged.items(), sum(r[0] for r in results), sum(r[1] for r in results), 1)


def _count_into(_WordCounter counter, path, int64_t max_vocab_size,
                int64_t max_sentence_length, int64_t start, end):
    """Count bytes [start, end) of the file (to its end if `end` is None) into `counter`, the
    GIL released; returns (total_words, sentences, min_reduce)."""
    cdef FILE *f
    cdef uint8_t *chunk
    cdef Tokenizer tokens
    cdef int64_t got, i, total = 0, sentences = 0, consumed = start, too_long_at = -1
    cdef int64_t min_reduce = 1, remaining = -1, wanted
    cdef bint failed = False, at_end
    cdef int events
    if max_sentence_length < 1:
        raise ValueError(f"max_sentence_length must be >= 1, got {max_sentence_length}")
    if start < 0 or (end is not None and end < start):
        raise ValueError(f"the byte range must have 0 <= start <= end, got [{start}, {end})")
    if end is not None:
        remaining = end - start
    tokenizer_init(&tokens, max_sentence_length)
    f = open_corpus(path)
    chunk = read_buffer(f)
    try:
        if start and seek_corpus(f, start) != 0:
            raise OSError(f"cannot seek to byte {start} of corpus file {path!r}")
        with nogil:
            while not failed and remaining != 0:
                wanted = READ_CHUNK if remaining < 0 or remaining > READ_CHUNK else remaining
                got = fread(chunk, 1, wanted, f)
                if remaining > 0:
                    remaining -= got
                at_end = got < wanted or remaining == 0
                for i in range(got + (1 if at_end else 0)):
                    # One virtual newline after the last byte ends the last sentence.
                    events = tokenizer_feed(&tokens, chunk[i] if i < got else 10)
                    if events & TOKEN_ENDED:
                        if tokens.ended_length > MAX_TOKEN_BYTES:
                            too_long_at = consumed + i - tokens.ended_length
                            break
                        if counter.add(tokens.token, tokens.ended_length, 1):
                            failed = True
                            break
                        total += 1
                    if events & SENTENCE_ENDED:
                        sentences += 1
                        # Pruned between sentences, as the scan of Python sentences does, so
                        # that both give the same vocabulary.
                        if max_vocab_size and counter.entries > max_vocab_size:
                            counter.prune(min_reduce)
                            min_reduce += 1
                consumed += got
                if at_end or too_long_at >= 0:
                    break
        if failed:
            raise MemoryError("out of memory while counting the vocabulary")
        if too_long_at >= 0:
            raise token_too_long(path, too_long_at, tokens.ended_length)
    finally:
        free(chunk)
        fclose(f)
    return total, sentences, min_reduce


cdef inline bint _is_unicode_space(uint32_t code_point) noexcept nogil:
    # What str.split() splits on beyond ASCII whitespace (str.isspace() above U+007F).
    return (code_point == 0x85 or code_point == 0xA0 or code_point == 0x1680
            or 0x2000 <= code_point <= 0x200A or code_point == 0x2028 or code_point == 0x2029
            or code_point == 0x202F or code_point == 0x205F or code_point == 0x3000)


def splits_like_str_split(path, int64_t max_line_bytes=MAX_PROBED_LINE_BYTES) -> bool:
    """Whether this file's sentences, read by the compiled reader, are exactly what decoding each
    line as UTF-8 and calling ``str.split()`` gives (LineSentence's rule).

    True when the file is valid UTF-8 (the strict decoder's rules: no overlong forms, no
    surrogates, nothing above U+10FFFF), holds no whitespace that str.split() knows and ASCII
    tokenisation does not (U+001C to U+001F, U+0085, U+00A0, U+1680, U+2000 to U+200A, U+2028,
    U+2029, U+202F, U+205F, U+3000), no token longer than the reader keeps, and no line longer
    than `max_line_bytes`: `line_ranges` then finds a newline near every worker's nominal start,
    so each worker's range starts at a line.
    """
    cdef FILE *f
    cdef uint8_t *chunk
    cdef int64_t got, i, token_length = 0, line_length = 0
    cdef int need = 0
    cdef uint32_t code_point = 0
    cdef uint8_t c, low = 0x80, high = 0xBF
    cdef bint same = True
    f = open_corpus(path)
    chunk = read_buffer(f)
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
                if is_space(c):
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
