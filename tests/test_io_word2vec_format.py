"""Tests for fastw2v._io.word2vec_format: the C tool's text and binary vectors files."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import pathlib
import pickle
import re
import tracemalloc
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastw2v import _w2v_format
from fastw2v._io import read_word2vec_format, word2vec_format, write_word2vec_format
from fastw2v.errors import TruncatedFileError

FUZZ = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    mutated = bytearray(data)
    for position, value in edits:
        mutated[position % len(mutated)] = value
    return bytes(mutated[:cut] if cut is not None else mutated)


# --------------------------------------------------------------------------------------------
# word2vec formats

WORDS = ["the", "naïve", "日本", "x"]


def sample_vectors() -> np.ndarray:
    return np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("suffix", ["", ".gz", ".bz2", ".xz", ".lzma"])
def test_word2vec_round_trip(tmp_path, binary, suffix):
    vectors = sample_vectors()
    path = tmp_path / f"vectors.bin{suffix}"
    write_word2vec_format(path, WORDS, vectors, counts=[9, 7, 5, 1],
                             fvocab=tmp_path / "vocab.txt", binary=binary)
    keys, loaded, counts = read_word2vec_format(path, binary=binary, fvocab=tmp_path / "vocab.txt")
    assert keys == WORDS
    np.testing.assert_array_equal(loaded, vectors)
    assert counts.tolist() == [9, 7, 5, 1]
    assert (tmp_path / "vocab.txt").read_text("utf-8") == "the 9\nnaïve 7\n日本 5\nx 1\n"
    opener = {"": open, ".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open,
              ".lzma": lzma.open}[suffix]
    with opener(path, "rb") as handle:
        assert handle.readline() == b"4 3\n"


def test_lzma_files_are_written_in_the_legacy_lzma_format(tmp_path):
    path = tmp_path / "vectors.txt.lzma"
    write_word2vec_format(path, ["a"], np.ones((1, 2), dtype=np.float32))
    assert lzma.decompress(path.read_bytes(), format=lzma.FORMAT_ALONE) == b"1 2\na 1.0 1.0\n"


def test_word2vec_text_layout_is_exact(tmp_path):
    vectors = np.array([[0.1, -2.5, 1e-05], [3.0, 0.0, 123456.79]], dtype=np.float32)
    write_word2vec_format(tmp_path / "v.txt", ["a", "b"], vectors)
    assert (tmp_path / "v.txt").read_bytes() == b"2 3\na 0.1 -2.5 1e-05\nb 3.0 0.0 123456.79\n"


def test_word2vec_binary_layout_matches_the_c_tool(tmp_path):
    vectors = sample_vectors()[:2]
    write_word2vec_format(tmp_path / "v.bin", ["a", "b"], vectors, binary=True)
    expected = (b"2 3\n" + b"a " + vectors[0].astype("<f4").tobytes() + b"\n"
                + b"b " + vectors[1].astype("<f4").tobytes() + b"\n")
    assert (tmp_path / "v.bin").read_bytes() == expected


def test_reads_files_as_other_tools_write_them(tmp_path):
    vectors = sample_vectors()[:2]
    # The C tool's text output: "%lf " values, so a trailing space on every line.
    (tmp_path / "c.txt").write_bytes(b"2 3\n" + b"".join(
        word + b" " + b"".join(b"%lf " % value for value in row) + b"\n"
        for word, row in zip([b"a", b"b"], vectors.astype(np.float64))
    ))
    keys, loaded, _ = read_word2vec_format(tmp_path / "c.txt")
    assert keys == ["a", "b"]
    np.testing.assert_allclose(loaded, vectors, atol=1e-6)
    # Binary without the newline after each vector, CRLF text, and no header (GloVe).
    (tmp_path / "nonl.bin").write_bytes(
        b"2 3\na " + vectors[0].tobytes() + b"b " + vectors[1].tobytes())
    np.testing.assert_array_equal(
        read_word2vec_format(tmp_path / "nonl.bin", binary=True)[1], vectors)
    (tmp_path / "crlf.txt").write_bytes(b"2 2\r\na 1 2\r\nb 3 4\r\n")
    assert read_word2vec_format(tmp_path / "crlf.txt")[1].tolist() == [[1, 2], [3, 4]]
    (tmp_path / "glove.txt").write_bytes(b"a 1 2\nb 3 4\n\n")
    keys, loaded, counts = read_word2vec_format(tmp_path / "glove.txt", no_header=True)
    assert keys == ["a", "b"] and loaded.tolist() == [[1, 2], [3, 4]] and counts.tolist() == [2, 1]


@pytest.mark.parametrize("binary", [False, True])
def test_limit_reads_only_the_first_vectors(tmp_path, binary):
    write_word2vec_format(tmp_path / "v", WORDS, sample_vectors(), binary=binary)
    keys, vectors, counts = read_word2vec_format(tmp_path / "v", binary=binary, limit=2)
    assert keys == WORDS[:2] and vectors.shape == (2, 3) and counts.tolist() == [2, 1]
    # Whatever follows the limit is not even looked at.
    with open(tmp_path / "v", "ab") as handle:
        handle.write(b"\xff garbage")
    assert read_word2vec_format(tmp_path / "v", binary=binary, limit=3)[0] == WORDS[:3]
    with pytest.raises(ValueError, match="holds more"):
        read_word2vec_format(tmp_path / "v", binary=binary, limit=4)


def test_datatype_and_repeated_words(tmp_path):
    (tmp_path / "v.txt").write_bytes(b"3 2\na 1 2\nb 3 4\na 5 6\n")
    keys, vectors, counts = read_word2vec_format(tmp_path / "v.txt", datatype=np.float64)
    assert keys == ["a", "b"] and vectors.dtype == np.float64
    assert vectors.tolist() == [[1, 2], [3, 4]] and counts.tolist() == [3, 2]


def test_unicode_errors_ignore_accepts_truncated_words(tmp_path):
    (tmp_path / "v.bin").write_bytes(b"1 1\ncaf\xc3 " + np.float32(1).tobytes())
    with pytest.raises(ValueError, match="line 2.*decode"):
        read_word2vec_format(tmp_path / "v.bin", binary=True)
    assert read_word2vec_format(
        tmp_path / "v.bin", binary=True, unicode_errors="ignore")[0] == ["caf"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "line 1: expected a header"),
        (b"hello world\n", "line 1: expected a header"),
        (b"3\n", "line 1: expected a header"),
        (b"-1 3\n", "line 1: expected a header"),
        (b"3 2\na 1 2\nb 3 4\n", "line 4: unexpected end of file.*declares 3 vectors.*holds 2"),
        (b"2 2\na 1 2\nb 3 4\nc 5 6\n",
         "line 4: the header declares 2 vectors but the file holds more"),
        (b"2 2\na 1 2\nb 3\n", "line 3: vector for 'b' has 1 values, expected 2"),
        (b"2 2\na 1 2\nb 3 4 5\n", "line 3: vector for 'b' has 3 values, expected 2"),
        (b"2 2\na 1 2\nb 3 x\n", "line 3: non-numeric value in the vector for 'b'"),
        (b"2 2\na 1 2\n\xff\xfe 3 4\n", "line 3: cannot decode"),
    ],
)
def test_malformed_text_files_name_the_line(tmp_path, content, message):
    (tmp_path / "bad.txt").write_bytes(content)
    with pytest.raises(ValueError, match=f"bad.txt: {message}"):
        read_word2vec_format(tmp_path / "bad.txt")


def test_malformed_binary_files_name_the_line(tmp_path):
    one = np.ones(2, dtype=np.float32).tobytes()
    cases = {
        b"2 2\na " + one + b"\nb " + one[:5]: "line 3 .*unexpected end of file",
        b"2 2\na " + one + b"\nb" + one: "line 3 .*unexpected end of file",
        b"1 2\na " + one + b"\nextra": "line 3 .*holds more data",
        b"1 2\n\xff " + one: "line 2 .*cannot decode",
    }
    for content, message in cases.items():
        (tmp_path / "bad.bin").write_bytes(content)
        with pytest.raises(ValueError, match=f"bad.bin: {message}"):
            read_word2vec_format(tmp_path / "bad.bin", binary=True)


def test_damaged_compressed_file_raises_value_error(tmp_path):
    write_word2vec_format(tmp_path / "v.txt.gz", WORDS, sample_vectors())
    data = (tmp_path / "v.txt.gz").read_bytes()
    (tmp_path / "cut.txt.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.txt.gz"):
        read_word2vec_format(tmp_path / "cut.txt.gz")


def test_huge_header_counts_do_not_allocate_up_front(tmp_path):
    (tmp_path / "v.txt").write_bytes(b"1000000000000 300\na " + b"1 " * 300 + b"\n")
    with pytest.raises(ValueError, match="line 3: unexpected end of file"):
        read_word2vec_format(tmp_path / "v.txt")
    (tmp_path / "v.bin").write_bytes(b"2 100000000000\na \x00\x00")
    with pytest.raises(ValueError, match="line 2 .*unexpected end of file"):
        read_word2vec_format(tmp_path / "v.bin", binary=True)


def test_vocabulary_file_errors_and_gaps(tmp_path):
    write_word2vec_format(tmp_path / "v.txt", ["a", "b"], np.eye(2, dtype=np.float32))
    (tmp_path / "vocab.txt").write_bytes(b"a 5\n\n")
    assert read_word2vec_format(
        tmp_path / "v.txt", fvocab=tmp_path / "vocab.txt")[2].tolist() == [5, 0]
    (tmp_path / "vocab.txt").write_bytes(b"a 5\nb five\n")
    with pytest.raises(ValueError, match="vocab.txt: line 2"):
        read_word2vec_format(tmp_path / "v.txt", fvocab=tmp_path / "vocab.txt")


def test_writer_refuses_what_the_format_cannot_hold(tmp_path):
    with pytest.raises(ValueError, match="space or newline"):
        write_word2vec_format(tmp_path / "v", ["a b"], np.zeros((1, 2)))
    with pytest.raises(ValueError, match="one row per key"):
        write_word2vec_format(tmp_path / "v", ["a", "b"], np.zeros((1, 2)))
    with pytest.raises(ValueError, match="needs counts"):
        write_word2vec_format(tmp_path / "v", ["a"], np.zeros((1, 2)), fvocab=tmp_path / "c")
    assert os.listdir(tmp_path) == []


def test_no_header_binary_is_refused(tmp_path):
    (tmp_path / "v").write_bytes(b"")
    with pytest.raises(ValueError, match="no_header"):
        read_word2vec_format(tmp_path / "v", binary=True, no_header=True)


def assert_reads_or_value_error(path: pathlib.Path, binary: bool) -> None:
    try:
        keys, vectors, counts = read_word2vec_format(path, binary=binary)
    except ValueError as error:
        assert os.fspath(path) in str(error)
    else:
        assert vectors.shape[0] == len(keys) == len(counts)


@FUZZ
@given(data=st.binary(max_size=600), binary=st.booleans(), header=st.booleans())
def test_fuzz_random_bytes_never_crash_the_word2vec_reader(tmp_path, data, binary, header):
    path = tmp_path / "fuzz.txt"
    # With a plausible header the fuzzer gets past line 1 and exercises the body parser.
    path.write_bytes((b"3 4\n" if header else b"") + data)
    assert_reads_or_value_error(path, binary)


@FUZZ
@given(
    binary=st.booleans(),
    edits=st.lists(st.tuples(st.integers(0, 1 << 16), st.sampled_from(
        [0, 9, 10, 13, 32, 45, 46, 48, 49, 101, 120, 0x80, 0xC3, 0xFF])), max_size=4),
    cut=st.none() | st.integers(0, 200),
)
def test_fuzz_mutated_files_never_crash_the_word2vec_reader(tmp_path, binary, edits, cut):
    valid = tmp_path / f"valid{binary}"
    if not valid.exists():
        write_word2vec_format(valid, WORDS, sample_vectors(), binary=binary)
    path = tmp_path / "fuzz"
    path.write_bytes(mutate(valid.read_bytes(), edits, cut))
    assert_reads_or_value_error(path, binary)


# --------------------------------------------------------------------------------------------
# Hostile files: bounded memory, gensim's exception types


def peak_bytes_while(function, *args, **kwargs) -> tuple[int, BaseException | None]:
    """Peak Python memory allocated while `function` runs, and what it raised."""
    tracemalloc.start()
    try:
        function(*args, **kwargs)
    except BaseException as error:  # noqa: BLE001
        raised = error
    else:
        raised = None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak, raised


HUGE = 64 << 20  # far more than a word and a few values can take, and than the tests' bound


@pytest.mark.parametrize(
    ("binary", "content"),
    [
        (False, b"2 3\n" + b"1" * HUGE),  # one line without a newline or a space
        (False, b"2 3\na " + b"1 " * (HUGE // 2)),  # a line of far too many values
        (True, b"2 3\n" + b"w" * HUGE),  # a binary word that never ends
    ],
    ids=["text word", "text values", "binary word"],
)
def test_an_enormous_line_is_refused_before_it_is_read_whole(tmp_path, binary, content):
    path = tmp_path / "vectors.txt.gz"
    path.write_bytes(gzip.compress(content, compresslevel=1))
    peak, raised = peak_bytes_while(read_word2vec_format, path, binary=binary)
    assert isinstance(raised, ValueError) and "vectors.txt.gz: line 2" in str(raised)
    assert "longer than" in str(raised) and len(str(raised)) < 500
    assert peak < HUGE // 4


@pytest.mark.parametrize("binary", [False, True])
def test_enormous_data_after_the_declared_vectors_is_not_read_whole(tmp_path, binary):
    write_word2vec_format(tmp_path / "v", ["a"], np.ones((1, 2), np.float32), binary=binary)
    path = tmp_path / "v.gz"
    path.write_bytes(gzip.compress((tmp_path / "v").read_bytes() + b" " * HUGE + b"x",
                                   compresslevel=1))
    peak, raised = peak_bytes_while(read_word2vec_format, path, binary=binary)
    assert isinstance(raised, ValueError) and "holds more" in str(raised)
    assert peak < HUGE // 4


def test_an_enormous_vocabulary_line_is_refused_before_it_is_read_whole(tmp_path):
    write_word2vec_format(tmp_path / "v.txt", ["a"], np.ones((1, 2), np.float32))
    (tmp_path / "vocab.txt.gz").write_bytes(gzip.compress(b"a" * HUGE, compresslevel=1))
    peak, raised = peak_bytes_while(
        read_word2vec_format, tmp_path / "v.txt", fvocab=tmp_path / "vocab.txt.gz")
    assert isinstance(raised, ValueError) and "vocab.txt.gz: line 1" in str(raised)
    assert peak < HUGE // 4


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_a_truncated_file_raises_truncated_file_error(tmp_path, binary, suffix):
    write_word2vec_format(tmp_path / f"v{suffix}", WORDS, sample_vectors(), binary=binary)
    whole = (tmp_path / f"v{suffix}").read_bytes()
    for cut in (len(whole) // 2, len(whole) - 9):
        (tmp_path / f"cut{suffix}").write_bytes(whole[:cut])
        with pytest.raises(TruncatedFileError, match=f"cut{re.escape(suffix)}: ") as caught:
            read_word2vec_format(tmp_path / f"cut{suffix}", binary=binary)
        assert isinstance(caught.value, EOFError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("binary", "content", "message"),
    [
        (False, b"2 2\na 1 2\n\xff\xfe 3 4\n", "bad: line 3: cannot decode"),
        (True, b"1 2\n\xff " + np.ones(2, np.float32).tobytes(), "bad: line 2 .*cannot decode"),
    ],
)
def test_an_undecodable_word_raises_unicode_decode_error_naming_the_file(
    tmp_path, binary, content, message
):
    (tmp_path / "bad").write_bytes(content)
    with pytest.raises(UnicodeDecodeError, match=message) as caught:
        read_word2vec_format(tmp_path / "bad", binary=binary)
    assert caught.value.object and caught.value.start < caught.value.end
    # An exception that crosses processes keeps its message.
    assert str(pickle.loads(pickle.dumps(caught.value))) == str(caught.value)


def test_an_undecodable_vocabulary_file_raises_unicode_decode_error_naming_it(tmp_path):
    write_word2vec_format(tmp_path / "v.txt", ["a"], np.ones((1, 2), np.float32))
    (tmp_path / "vocab.txt").write_bytes(b"a 1\n\xff 2\n")
    with pytest.raises(UnicodeDecodeError, match="vocab.txt: line 2: cannot decode"):
        read_word2vec_format(tmp_path / "v.txt", fvocab=tmp_path / "vocab.txt")


def test_a_refused_vectors_file_leaves_no_vocabulary_file_either(tmp_path):
    (tmp_path / "vectors.txt").mkdir()
    with pytest.raises(IsADirectoryError, match="vectors.txt"):
        write_word2vec_format(tmp_path / "vectors.txt", ["a"], np.ones((1, 2)), counts=[3],
                              fvocab=tmp_path / "vocab.txt")
    assert not (tmp_path / "vocab.txt").exists()


# --------------------------------------------------------------------------------------------
# The compiled readers and writers: the Python reader's rules exactly, and gensim's bytes


def hard_float32() -> np.ndarray:
    """float32 values where printing is hardest: powers of two and their neighbours (unequal
    gaps), subnormals, numpy's notation thresholds, random bit patterns, and the specials."""
    bits = [
        (exponent << 23 | mantissa) + step
        for exponent in range(255)
        for mantissa in (0, 1, 0x400000, 0x7FFFFF)
        for step in (-1, 0, 1)
    ]
    finite = np.clip(np.array(bits, dtype=np.int64), 0, 0x7F7FFFFF).astype(np.uint32)
    random_bits = np.random.default_rng(7).integers(0, 0x7F800000, 20_000, dtype=np.uint32)
    thresholds = np.array([1e-4, 1.0000001e-4, 9.999999e-5, 1e6, 999999.94, 1e16, 9.999999e15,
                           0.1, 1.0, 123456.79, 3.4028235e38, 1e-45], dtype=np.float32)
    positive = np.concatenate([finite.view(np.float32), random_bits.view(np.float32), thresholds])
    return np.concatenate([positive, -positive, np.array([np.inf, -np.inf, np.nan], np.float32)])


def as_rows(values: np.ndarray, width: int) -> np.ndarray:
    padded = np.concatenate([values, np.zeros(-len(values) % width, values.dtype)])
    return padded.reshape(-1, width)


@pytest.mark.parametrize("legacy", [False, "2.2", "1.13"])
def test_text_values_are_printed_as_numpy_prints_them(tmp_path, legacy):
    # numpy 2.3 moved the start of scientific notation from 1e16 to 1e6 (legacy="2.2" keeps
    # 1e16); legacy="1.13" prints otherwise, and numpy's own str() then writes the file.
    vectors = as_rows(hard_float32(), 8)
    if legacy == "1.13":
        vectors = vectors[:200]
    words = [f"w{index}" for index in range(len(vectors))]
    with np.printoptions(legacy=legacy):
        write_word2vec_format(tmp_path / "v.txt", words, vectors)
        expected = [" ".join([word, *map(str, row)]) for word, row in zip(words, vectors)]
    lines = (tmp_path / "v.txt").read_text("ascii").splitlines()
    assert lines[0] == f"{len(vectors)} 8"
    assert lines[1:] == expected


def gensim_binary_with_the_c_tools_newlines(data: bytes, rows: int, dimensions: int) -> bytes:
    """gensim's binary file with a newline after each vector, as fastw2v (and the C tool)
    writes it."""
    header_end = data.index(b"\n") + 1
    pieces, position = [data[:header_end]], header_end
    for _ in range(rows):
        values_start = data.index(b" ", position) + 1
        end = values_start + 4 * dimensions
        pieces.append(data[position:end] + b"\n")
        position = end
    assert position == len(data)
    return b"".join(pieces)


def test_files_hold_the_bytes_gensim_writes(tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    from fastw2v import KeyedVectors

    vectors = as_rows(hard_float32(), 6)
    words = [f"w{index}" for index in range(len(vectors))]
    words[:4] = ["naïve", "日本", "x", "Ünïcödé"]
    # Counts with ties and out of order: both programs write the most frequent first.
    counts = np.random.default_rng(3).integers(1, 50, len(words))
    ours = KeyedVectors(6)
    ours.add_vectors(words, vectors, extras={"count": counts})
    theirs = gensim_models.KeyedVectors(6)
    theirs.add_vectors(words, vectors)
    for word, count in zip(words, counts):
        theirs.set_vecattr(word, "count", int(count))
    for binary in (False, True):
        ours.save_word2vec_format(tmp_path / f"ours{binary}", binary=binary)
        theirs.save_word2vec_format(str(tmp_path / f"theirs{binary}"), binary=binary)
    assert (tmp_path / "oursFalse").read_bytes() == (tmp_path / "theirsFalse").read_bytes()
    assert (tmp_path / "oursTrue").read_bytes() == gensim_binary_with_the_c_tools_newlines(
        (tmp_path / "theirsTrue").read_bytes(), len(words), 6)


def test_order_writes_rows_without_reordering_a_copy(tmp_path):
    vectors = sample_vectors()
    order = np.array([2, 0, 3, 1])
    for binary in (False, True):
        write_word2vec_format(tmp_path / "ordered", WORDS, vectors, binary=binary, order=order)
        write_word2vec_format(tmp_path / "copied", WORDS, vectors[order], binary=binary)
        assert (tmp_path / "ordered").read_bytes() == (tmp_path / "copied").read_bytes()
    with np.printoptions(legacy="1.13"):  # the Python writer
        write_word2vec_format(tmp_path / "ordered", WORDS, vectors, order=order)
        write_word2vec_format(tmp_path / "copied", WORDS, vectors[order])
    assert (tmp_path / "ordered").read_bytes() == (tmp_path / "copied").read_bytes()
    for bad in ([0, 1, 2], [0, 1, 2, 4], [0, 1, 2, -1], [0.0, 1.0, 2.0, 3.0]):
        with pytest.raises(ValueError, match="order"):
            write_word2vec_format(tmp_path / "bad", WORDS, vectors, order=np.array(bad))


def test_keys_that_are_not_str_are_written_as_str(tmp_path):
    class Word(str):
        pass

    vectors = np.eye(3, dtype=np.float32)
    write_word2vec_format(tmp_path / "v.txt", [7, Word("w"), "x"], vectors)
    assert (tmp_path / "v.txt").read_text() == "3 3\n7 1.0 0.0 0.0\nw 0.0 1.0 0.0\nx 0.0 0.0 1.0\n"
    with pytest.raises(ValueError, match="'a b' contains a space"):
        write_word2vec_format(tmp_path / "v.txt", [7, Word("a b"), "x"], vectors)


def test_rows_longer_than_the_write_buffer(tmp_path, monkeypatch):
    words = ["a" * 100, "b", "c" * 40, "d"]
    vectors = sample_vectors()
    for binary in (False, True):
        write_word2vec_format(tmp_path / "whole", words, vectors, binary=binary)
        with monkeypatch.context() as patch:
            patch.setattr(word2vec_format, "_WRITE_BUFFER_BYTES", 16)
            write_word2vec_format(tmp_path / "pieces", words, vectors, binary=binary)
        assert (tmp_path / "pieces").read_bytes() == (tmp_path / "whole").read_bytes()


def test_float64_vectors_are_written_with_float64_digits(tmp_path):
    vectors = np.array([[0.1, 1 / 3], [2.5, 1e-300]])
    write_word2vec_format(tmp_path / "v.txt", ["a", "b"], vectors)
    assert (tmp_path / "v.txt").read_text() == "2 2\na 0.1 0.3333333333333333\nb 2.5 1e-300\n"


def outcome(read, *args, **kwargs):
    """What a read gives: its keys, vector bytes and counts, or its exception's type and text."""
    try:
        keys, vectors, counts = read(*args, **kwargs)
    except (ValueError, UnicodeDecodeError) as error:
        return type(error), str(error)
    return keys, vectors.dtype, vectors.shape, vectors.tobytes(), counts.tolist()


def python_reader_only(data, position, *rest):
    return _w2v_format.STOP_SLOW, 0, position


def assert_compiled_reads_as_python(path, **kwargs):
    compiled = outcome(read_word2vec_format, path, **kwargs)
    with mock.patch.object(_w2v_format, "parse_text", python_reader_only), \
            mock.patch.object(_w2v_format, "parse_binary", python_reader_only):
        python = outcome(read_word2vec_format, path, **kwargs)
    assert compiled == python


TEXT_WORDS = [b"a", "naïve".encode(), b"", b"b\tc", b"c\r", b"\xff", b"caf\xc3"]
TEXT_VALUES = [
    b"0", b"1", b"-1", b"+1", b"0.5", b"-0.0", b".5", b"5.", b"1e5", b"1E-5", b"-1.5e+3",
    b"1e400", b"-1e400", b"1e-400", b"123456789012345678901234567890", b"9007199254740993",
    b"0.1000000000000000055511151231257827021181583404541015625", b"3.4028235677973366e+38",
    b"0.00000000000000000000000000000000000000000000140129846432481707092372958328991613128",
    b"1_0", b"nan", b"-inf", b"Infinity", b"0x10", b"1e", b"e5", b".", b"-", b"x", b"1.5.5",
    "١".encode(), b"1\x002",
]
SEPARATORS = [b" ", b"  ", b"\t", b"\r", b"\x0b", b"\x0c", b"\x1c", "\u00a0".encode(),
              "\u3000".encode()]
ENDINGS = [b"\n", b"\r\n", b" \n", b"\t\r\n"]


@FUZZ
@given(
    lines=st.lists(
        st.tuples(
            st.sampled_from(TEXT_WORDS),
            st.lists(st.sampled_from(TEXT_VALUES), min_size=2, max_size=4),
            st.sampled_from(SEPARATORS),
            st.sampled_from(ENDINGS),
        ),
        max_size=6,
    ),
    declared=st.integers(0, 7),
    last_ending=st.booleans(),
    datatype=st.sampled_from([np.float32, np.float64]),
    unicode_errors=st.sampled_from(["strict", "replace"]),
    no_header=st.booleans(),
)
def test_fuzz_the_compiled_text_reader_reads_as_the_python_reader(
    tmp_path, lines, declared, last_ending, datatype, unicode_errors, no_header
):
    # Mostly well-formed lines (first separator a space, three values), which the compiled
    # reader takes, among all the others, which it must hand to the Python reader.
    body = b"".join(
        word + b" " + (b" " if index % 2 else separator).join(values) + ending
        for index, (word, values, separator, ending) in enumerate(lines)
    )
    if lines and not last_ending:
        body = body.rstrip(b"\n")
    header = b"" if no_header else b"%d 3\n" % declared
    (tmp_path / "v.txt").write_bytes(header + body)
    assert_compiled_reads_as_python(tmp_path / "v.txt", datatype=datatype,
                                    unicode_errors=unicode_errors, no_header=no_header)


@FUZZ
@given(
    records=st.lists(
        st.tuples(
            st.sampled_from([b"a", b"\nb", b"\n\nc", b"", b"\xff", b"caf\xc3", "日本".encode(),
                             b"d\te"]),
            st.binary(min_size=8, max_size=8),
            st.sampled_from([b"", b"\n"]),
        ),
        max_size=6,
    ),
    declared=st.integers(0, 7),
    cut=st.none() | st.integers(0, 100),
    datatype=st.sampled_from([np.float32, np.float64]),
    unicode_errors=st.sampled_from(["strict", "replace"]),
    encoding=st.sampled_from(["utf8", "latin-1"]),
)
def test_fuzz_the_compiled_binary_reader_reads_as_the_python_reader(
    tmp_path, records, declared, cut, datatype, unicode_errors, encoding
):
    data = b"%d 2\n" % declared + b"".join(
        word + b" " + values + newline for word, values, newline in records)
    (tmp_path / "v.bin").write_bytes(data[:cut] if cut is not None else data)
    assert_compiled_reads_as_python(tmp_path / "v.bin", binary=True, datatype=datatype,
                                    unicode_errors=unicode_errors, encoding=encoding)


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize(("chunk", "suffix"), [(7, ""), (100, ""), (4096, ""), (100, ".gz")])
def test_rows_across_the_reading_buffers_boundaries(tmp_path, monkeypatch, binary, chunk, suffix):
    rng = np.random.default_rng(5)
    words = [f"{'w' * int(length)}{index}" for index, length in
             enumerate(rng.integers(1, 300, 400))]
    vectors = rng.standard_normal((400, 5)).astype(np.float32)
    path = tmp_path / f"v{suffix}"
    write_word2vec_format(path, words, vectors, binary=binary)
    monkeypatch.setattr(word2vec_format, "_CHUNK_BYTES", chunk)
    keys, loaded, _ = read_word2vec_format(path, binary=binary)
    assert keys == words
    assert loaded.tobytes() == vectors.tobytes()
    assert_compiled_reads_as_python(path, binary=binary)


@pytest.mark.parametrize("binary", [False, True])
def test_well_formed_files_never_reach_the_python_reader(tmp_path, monkeypatch, binary):
    words = [f"w{index}" for index in range(3000)]
    write_word2vec_format(tmp_path / "v", words, np.ones((3000, 4), np.float32), binary=binary)
    calls = []
    reader = word2vec_format._read_bounded_line if not binary else word2vec_format._Buffer.read_word

    def counted(*args, **kwargs):
        calls.append(1)
        return reader(*args, **kwargs)

    if binary:
        monkeypatch.setattr(word2vec_format._Buffer, "read_word", counted)
    else:
        monkeypatch.setattr(word2vec_format, "_read_bounded_line", counted)
    assert read_word2vec_format(tmp_path / "v", binary=binary)[0] == words
    # The first row, which fixes the matrix; the compiled parser reads every other.
    assert len(calls) == 1
