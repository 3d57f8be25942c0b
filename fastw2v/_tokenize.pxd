# The one tokenizer and sentence cutter of corpus files, and the file primitives its readers
# share. The trainer (`_corpus.train_file_range`) and the counter (`_count.count_file_words`)
# both feed every byte through `tokenizer_feed`, so they agree on every word and every cut.
#
# The rule: tokens are separated by ASCII whitespace (space, \t, \n, \v, \f, \r: what
# bytes.split() splits on); a sentence ends at a newline, or after MAX_SENTENCE_LENGTH tokens,
# where the rest of the line continues as the next sentence (nothing is dropped).

from libc.stdint cimport int64_t, uint8_t, uint64_t
from libc.stdio cimport FILE, fclose, fopen
from libc.stdlib cimport malloc

cdef extern from *:
    """
    #include <stdio.h>
    #include <stdint.h>
    #if defined(_WIN32)
    static int fw_seek_corpus(FILE *f, int64_t offset) { return _fseeki64(f, offset, SEEK_SET); }
    #else
    #include <sys/types.h>
    static int fw_seek_corpus(FILE *f, int64_t offset) {
        return fseeko(f, (off_t)offset, SEEK_SET); }
    #endif
    """
    # Seek to a byte offset of a corpus file beyond 2 GiB on every platform (0 on success).
    int seek_corpus "fw_seek_corpus"(FILE *f, int64_t offset) nogil

cdef enum:
    # Sentences longer than this many tokens are cut into consecutive pieces, as LineSentence
    # does. The Python value is `fastw2v._corpus.MAX_SENTENCE_LENGTH`.
    MAX_SENTENCE_LENGTH = 10000
    # Longer tokens cannot be vocabulary words of any real corpus.
    MAX_TOKEN_BYTES = 4096
    READ_CHUNK = 1 << 20

# What a byte fed to the tokenizer ended (both can happen at once).
cdef enum:
    TOKEN_ENDED = 1
    SENTENCE_ENDED = 2


cdef struct Tokenizer:
    # The first MAX_TOKEN_BYTES bytes of the token being read, and its whole length.
    uint8_t token[MAX_TOKEN_BYTES]
    int64_t length
    # After TOKEN_ENDED: the length of the token that ended (its bytes are still in `token`;
    # a length over MAX_TOKEN_BYTES marks a token too long to keep).
    int64_t ended_length
    # Tokens of the sentence being read, and where a sentence is cut.
    int64_t words
    int64_t max_words


cdef inline void tokenizer_init(Tokenizer *t, int64_t max_words) noexcept nogil:
    t.length = 0
    t.ended_length = 0
    t.words = 0
    t.max_words = max_words


cdef inline bint is_space(uint8_t c) noexcept nogil:
    return c == 32 or 9 <= c <= 13


cdef inline int tokenizer_feed(Tokenizer *t, uint8_t c) noexcept nogil:
    """Feed one byte; returns what it ended (TOKEN_ENDED, SENTENCE_ENDED, both or 0). Readers
    feed one newline after their last byte, so that the last sentence ends too."""
    cdef int events = 0
    if not is_space(c):
        if t.length < MAX_TOKEN_BYTES:
            t.token[t.length] = c
        t.length += 1
        return 0
    if t.length:
        t.ended_length = t.length
        t.length = 0
        t.words += 1
        events = TOKEN_ENDED
    if t.words and (c == 10 or t.words == t.max_words):
        t.words = 0
        events |= SENTENCE_ENDED
    return events


cdef inline uint64_t hash_token(const uint8_t *data, Py_ssize_t length) noexcept nogil:
    # FNV-1a: words are short, and one multiply per byte beats any setup cost.
    cdef uint64_t h = <uint64_t>14695981039346656037ULL
    cdef Py_ssize_t i
    for i in range(length):
        h = (h ^ data[i]) * <uint64_t>1099511628211ULL
    return h


cdef inline FILE *open_corpus(object path) except NULL:
    """Open a corpus file for binary reading; the error names the file."""
    from os import fsencode, fspath

    cdef bytes encoded_path = fsencode(path)
    cdef FILE *f = fopen(encoded_path, "rb")
    if f == NULL:
        raise OSError(f"cannot open corpus file {fspath(path)!r}")
    return f


cdef inline uint8_t *read_buffer(FILE *f) except NULL:
    """A READ_CHUNK-byte buffer for reading `f`; closes `f` if there is no memory for it."""
    cdef uint8_t *chunk = <uint8_t *>malloc(READ_CHUNK)
    if chunk == NULL:
        fclose(f)
        raise MemoryError("cannot allocate a read buffer")
    return chunk
