"""Compiled loops of the word2vec text and binary formats (``fastw2v._io.word2vec_format``).

The readers parse whole batches of rows from a buffer of the file straight into the vector
matrix, and stop at the first row they cannot take exactly as the Python reader would (an
unusual number, a word that does not decode strictly, a line that is too long, too short or
incomplete): that row is handed to the Python reader, which either takes it or raises the error
that names it, so every check keeps its message while well-formed files never reach it. The
writers format rows into a caller's buffer. Numbers are converted in ``_w2v_format.h``; loops
run without the GIL, which is taken only to create and decode the words.
"""

cimport cython
from cpython.object cimport PyObject
from libc.stdint cimport int64_t
from libc.string cimport memchr, memcpy

cdef extern from "Python.h":
    double PyOS_string_to_double(
        const char *text, char **end, PyObject *overflow_exception) except? -1.0
    object PyUnicode_DecodeUTF8(const char *text, Py_ssize_t size, const char *errors)
    object PyUnicode_Decode(
        const char *text, Py_ssize_t size, const char *encoding, const char *errors)
    object PyUnicode_AsUTF8String(object text)
    bint PyUnicode_IS_ASCII(object text)
    void *PyUnicode_DATA(object text)
    Py_ssize_t PyUnicode_GET_LENGTH(object text)
    char *PyBytes_AS_STRING(object data)
    Py_ssize_t PyBytes_GET_SIZE(object data)

cdef extern from "_w2v_format.h" nogil:
    int FW_MAX_VALUE_CHARS
    int FW_NOT_A_NUMBER
    int FW_PARSED
    int FW_NEEDS_FULL
    void fw_format_init()
    int fw_format_float32(float value, double positional_limit, char *out)
    int fw_parse_decimal(const char *p, const char *end, double *value, const char **stop)

fw_format_init()

# Why a parse stopped (the first item of what the readers return).
cdef enum:
    DONE = 0  # every row asked for is parsed
    MORE = 1  # the next row is not complete in the buffer: refill, or at the end, truncated
    SLOW = 2  # the next row is for the Python reader
STOP_DONE = DONE
STOP_MORE = MORE
STOP_SLOW = SLOW

# Rows parsed between two takings of the GIL, to create their words.
DEF BATCH = 512

cdef enum:
    TAB = 9
    NEWLINE = 10
    CARRIAGE_RETURN = 13
    SPACE = 32
# The most bytes one value may take in a written text row.
MAX_VALUE_CHARS = FW_MAX_VALUE_CHARS


cdef inline bint _is_separator(char byte) noexcept nogil:
    # The ASCII whitespace that may stand between values; str.split() splits at each of these
    # (at other whitespace too, which goes to the Python reader).
    return byte == SPACE or byte == TAB or byte == CARRIAGE_RETURN


cdef object _decode(const char *text, Py_ssize_t size, const char *encoding):
    """The word, or None when it does not decode strictly (the Python reader then reports it)."""
    try:
        if encoding == NULL:
            return PyUnicode_DecodeUTF8(text, size, NULL)
        return PyUnicode_Decode(text, size, encoding, NULL)
    except UnicodeDecodeError:
        return None


@cython.boundscheck(False)
@cython.wraparound(False)
def parse_text(
    const unsigned char[::1] data,
    Py_ssize_t position,
    Py_ssize_t end,
    cython.floating[:, ::1] rows,
    Py_ssize_t first_row,
    list keys,
    Py_ssize_t max_line_bytes,
):
    """Parse ``"word v1 ... vd\\n"`` lines of ``data[position:end]`` into ``rows[first_row:]``.

    A line is taken when it ends within `max_line_bytes` bytes (its newline included), holds a
    space, and after the first space exactly ``rows.shape[1]`` decimal numbers separated by
    spaces, tabs or carriage returns; its word (the bytes before the first space) must decode
    as strict UTF-8. Words are appended to `keys`.

    Returns
    -------
    (stop, parsed, position) : (int, int, int)
        Why parsing stopped (``STOP_DONE``, ``STOP_MORE``, ``STOP_SLOW``), the rows parsed, and
        where the first unparsed line starts.
    """
    cdef const char *base = <const char *> &data[0] if data.shape[0] else NULL
    cdef Py_ssize_t dimensions = rows.shape[1]
    cdef Py_ssize_t row = first_row, stop_row = rows.shape[0]
    cdef Py_ssize_t word_start[BATCH]
    cdef Py_ssize_t word_size[BATCH]
    cdef Py_ssize_t line_start[BATCH]
    cdef Py_ssize_t batch, b, j, window
    cdef const char *line
    cdef const char *line_end
    cdef const char *p
    cdef const char *number_end
    cdef const char *newline
    cdef const char *space
    cdef char *full_end
    cdef double value
    cdef int kind
    cdef int stop = DONE
    if end > data.shape[0] or position < 0 or position > end:
        raise ValueError("position and end must lie within the buffer")
    if first_row < 0 or first_row > stop_row:
        raise ValueError("first_row must lie within rows")
    while row < stop_row and stop == DONE:
        batch = 0
        with nogil:
            while batch < BATCH and row + batch < stop_row:
                line = base + position
                window = end - position
                if window > max_line_bytes:
                    window = max_line_bytes
                newline = <const char *> memchr(line, NEWLINE, window)
                if newline == NULL:
                    stop = SLOW if end - position >= max_line_bytes else MORE
                    break
                line_end = newline
                space = <const char *> memchr(line, SPACE, line_end - line)
                if space == NULL:
                    stop = SLOW
                    break
                p = space + 1
                for j in range(dimensions):
                    while p < line_end and _is_separator(p[0]):
                        p += 1
                    kind = fw_parse_decimal(p, line_end, &value, &number_end)
                    if kind == FW_NOT_A_NUMBER or (
                            number_end < line_end and not _is_separator(number_end[0])):
                        stop = SLOW
                        break
                    if kind == FW_NEEDS_FULL:
                        with gil:
                            value = PyOS_string_to_double(p, &full_end, NULL)
                        if full_end != number_end:
                            stop = SLOW
                            break
                    rows[row + batch, j] = <cython.floating> value
                    p = number_end
                if stop != DONE:
                    break
                while p < line_end and _is_separator(p[0]):
                    p += 1
                if p != line_end:
                    stop = SLOW
                    break
                word_start[batch] = line - base
                word_size[batch] = space - line
                line_start[batch] = position
                position = (newline - base) + 1
                batch += 1
        for b in range(batch):
            word = _decode(base + word_start[b], word_size[b], NULL)
            if word is None:
                position = line_start[b]
                stop = SLOW
                batch = b
                break
            keys.append(word)
        row += batch
    return stop, row - first_row, position


@cython.boundscheck(False)
@cython.wraparound(False)
def parse_binary(
    const unsigned char[::1] data,
    Py_ssize_t position,
    Py_ssize_t end,
    cython.floating[:, ::1] rows,
    Py_ssize_t first_row,
    list keys,
    Py_ssize_t max_word_bytes,
    str encoding,
):
    """Parse ``"word "`` + float32 records of ``data[position:end]`` into ``rows[first_row:]``.

    Leading newlines of a word (the C tool ends each vector with one) are dropped; the word must
    hold at most `max_word_bytes` bytes and decode strictly in `encoding` (None: UTF-8). Values
    are read as little-endian float32 (the caller checks that the machine is little-endian).
    Words are appended to `keys`.

    Returns
    -------
    (stop, parsed, position) : (int, int, int)
        As :func:`parse_text`.
    """
    cdef const char *base = <const char *> &data[0] if data.shape[0] else NULL
    cdef Py_ssize_t dimensions = rows.shape[1]
    cdef Py_ssize_t record_bytes = 4 * dimensions
    cdef Py_ssize_t row = first_row, stop_row = rows.shape[0]
    cdef Py_ssize_t word_start[BATCH]
    cdef Py_ssize_t word_size[BATCH]
    cdef Py_ssize_t record_start[BATCH]
    cdef Py_ssize_t batch, b, j, window
    cdef const char *record
    cdef const char *word
    cdef const char *space
    cdef const char *values
    cdef float single
    cdef int stop = DONE
    cdef bytes encoding_bytes = None
    cdef const char *encoding_name = NULL
    if encoding is not None:
        encoding_bytes = encoding.encode("ascii")
        encoding_name = encoding_bytes
    if end > data.shape[0] or position < 0 or position > end:
        raise ValueError("position and end must lie within the buffer")
    if first_row < 0 or first_row > stop_row:
        raise ValueError("first_row must lie within rows")
    while row < stop_row and stop == DONE:
        batch = 0
        with nogil:
            while batch < BATCH and row + batch < stop_row:
                record = base + position
                window = end - position
                if window > max_word_bytes + 1:
                    window = max_word_bytes + 1
                space = <const char *> memchr(record, SPACE, window)
                if space == NULL:
                    stop = SLOW if end - position > max_word_bytes else MORE
                    break
                if (space - base) + 1 + record_bytes > end:
                    stop = MORE
                    break
                values = space + 1
                if cython.floating is float:
                    memcpy(&rows[row + batch, 0], values, record_bytes)
                else:
                    for j in range(dimensions):
                        memcpy(&single, values + 4 * j, 4)
                        rows[row + batch, j] = single
                word = record
                while word < space and word[0] == NEWLINE:
                    word += 1
                word_start[batch] = word - base
                word_size[batch] = space - word
                record_start[batch] = position
                position = (values - base) + record_bytes
                batch += 1
        for b in range(batch):
            key = _decode(base + word_start[b], word_size[b], encoding_name)
            if key is None:
                position = record_start[b]
                stop = SLOW
                batch = b
                break
            keys.append(key)
        row += batch
    return stop, row - first_row, position


cdef inline object _utf8(object word):
    # An ASCII str is its own UTF-8; any other is encoded into a new bytes object.
    if PyUnicode_IS_ASCII(word):
        return word
    return PyUnicode_AsUTF8String(word)


cdef inline const char *_utf8_pointer(object encoded, Py_ssize_t *size):
    if isinstance(encoded, bytes):
        size[0] = PyBytes_GET_SIZE(encoded)
        return PyBytes_AS_STRING(encoded)
    size[0] = PyUnicode_GET_LENGTH(encoded)
    return <const char *> PyUnicode_DATA(encoded)


def first_unwritable_word(list words):
    """Index of the first word the format cannot hold, and why: ``(-1, None)`` when none.

    The reason is ``'type'`` for an item that is not a ``str`` and ``'separator'`` for a word
    holding a space or a newline.
    """
    cdef Py_ssize_t index, size
    cdef const char *text
    for index in range(len(words)):
        word = words[index]
        if type(word) is not str:
            return index, "type"
        encoded = _utf8(word)
        text = _utf8_pointer(encoded, &size)
        if memchr(text, SPACE, size) != NULL or memchr(text, NEWLINE, size) != NULL:
            return index, "separator"
    return -1, None


@cython.boundscheck(False)
@cython.wraparound(False)
def format_rows(
    list words,
    const float[:, ::1] vectors,
    Py_ssize_t start,
    Py_ssize_t stop,
    unsigned char[::1] out,
    bint binary,
    bint newline,
    double positional_limit,
    order=None,
):
    """Write rows ``start:stop`` into `out`, as many as fit whole.

    Row ``i`` is ``words[i]`` with ``vectors[order[i]]`` (``vectors[i]`` without `order`, an
    int64 array). Text rows are ``"word v1 ... vd\\n"`` with numpy's str() of each float32;
    binary rows are ``"word "`` followed by the little-endian values (the caller passes
    little-endian data) and, with `newline`, ``"\\n"``. The words are ``str``, checked
    beforehand by :func:`first_unwritable_word`.

    Returns
    -------
    (rows, size) : (int, int)
        Rows written (those that fit in `out`) and the bytes they take.
    """
    cdef Py_ssize_t dimensions = vectors.shape[1]
    cdef Py_ssize_t capacity = out.shape[0]
    cdef Py_ssize_t used = 0, row = start, batch, b, j, size, need, source
    cdef char *target = <char *> &out[0] if capacity else NULL
    cdef const char *word_text[BATCH]
    cdef Py_ssize_t word_length[BATCH]
    cdef Py_ssize_t source_row[BATCH]
    cdef const int64_t[::1] rows_order
    cdef bint ordered = order is not None
    cdef bint full = False
    cdef Py_ssize_t value_room = 4 if binary else FW_MAX_VALUE_CHARS + 1
    if ordered:
        rows_order = order
    if start < 0 or start > stop or stop > len(words):
        raise ValueError("start and stop must lie within words")
    if stop > (rows_order.shape[0] if ordered else vectors.shape[0]):
        raise ValueError("fewer rows than words")
    while row < stop and not full:
        batch = min(BATCH, stop - row)
        held = []
        for b in range(batch):
            word = words[row + b]
            if type(word) is not str:
                raise TypeError(f"word {row + b} is a {type(word).__name__}, not a str")
            held.append(_utf8(word))
            word_text[b] = _utf8_pointer(held[b], &size)
            word_length[b] = size
            source = rows_order[row + b] if ordered else row + b
            if source < 0 or source >= vectors.shape[0]:
                raise IndexError(f"row {source} is out of range for {vectors.shape[0]} vectors")
            source_row[b] = source
        b = 0
        with nogil:
            while b < batch:
                need = word_length[b] + 2 + dimensions * value_room
                if used + need > capacity:
                    full = True
                    break
                memcpy(target + used, word_text[b], word_length[b])
                used += word_length[b]
                target[used] = SPACE
                used += 1
                source = source_row[b]
                if binary:
                    memcpy(target + used, &vectors[source, 0], 4 * dimensions)
                    used += 4 * dimensions
                    if newline:
                        target[used] = NEWLINE
                        used += 1
                else:
                    for j in range(dimensions):
                        if j:
                            target[used] = SPACE
                            used += 1
                        used += fw_format_float32(
                            vectors[source, j], positional_limit, target + used)
                    target[used] = NEWLINE
                    used += 1
                b += 1
        row += b
    return row - start, used
