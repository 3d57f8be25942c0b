"""Tests for fastw2v.corpora: the streaming corpus readers and the tokeniser."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import re
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastw2v import corpora
from fastw2v.corpora import LineSentence, PathLineSentences, Text8Corpus, simple_tokenize
from fastw2v.errors import TruncatedFileError

TEXT = (
    "the quick brown fox\n"
    "\n"
    "  jumps\tover the\u00a0lazy dog  \n"
    "caf\u00e9 na\u00efve \u65e5\u672c\u8a9e\r\n"
    "last line without newline"
)
EXPECTED = [
    ["the", "quick", "brown", "fox"],
    ["jumps", "over", "the", "lazy", "dog"],
    ["caf\u00e9", "na\u00efve", "\u65e5\u672c\u8a9e"],
    ["last", "line", "without", "newline"],
]
WRITERS = {
    "corpus.txt": open,
    "corpus.txt.gz": gzip.open,
    "corpus.txt.bz2": bz2.open,
    "corpus.txt.xz": lzma.open,
    "corpus.txt.lzma": lzma.open,
}


def write_as(path, data: bytes) -> str:
    with WRITERS[os.path.basename(path)](path, "wb") as stream:
        stream.write(data)
    return str(path)


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_every_compression_gives_the_same_sentences(tmp_path, name):
    path = write_as(tmp_path / name, TEXT.encode("utf-8"))
    assert list(LineSentence(path)) == EXPECTED


def test_path_is_offered_only_for_a_plain_file_read_whole(tmp_path):
    plain = write_as(tmp_path / "corpus.txt", TEXT.encode())
    packed = write_as(tmp_path / "corpus.txt.gz", TEXT.encode())
    assert LineSentence(plain).path == plain
    assert LineSentence(tmp_path / "corpus.txt").path == plain
    assert LineSentence(plain, limit=2).path is None
    assert LineSentence(packed).path is None
    assert LineSentence(io.BytesIO(TEXT.encode())).path is None


def test_source_is_kept_as_given(tmp_path):
    path = tmp_path / "corpus.txt"
    write_as(path, TEXT.encode())
    assert LineSentence(path).source is path


def test_long_lines_are_cut_into_consecutive_sentences_not_dropped(tmp_path):
    words = [f"w{i}" for i in range(25)]
    path = write_as(tmp_path / "corpus.txt", (" ".join(words) + "\nshort line\n").encode())
    sentences = list(LineSentence(path, max_sentence_length=10))
    assert sentences == [words[:10], words[10:20], words[20:], ["short", "line"]]


def test_a_line_of_exactly_max_length_stays_whole(tmp_path):
    path = write_as(tmp_path / "corpus.txt", b"a b c\nd e f g\n")
    assert list(LineSentence(path, max_sentence_length=3)) == [
        ["a", "b", "c"],
        ["d", "e", "f"],
        ["g"],
    ]


def test_limit_counts_lines_including_empty_ones(tmp_path):
    path = write_as(tmp_path / "corpus.txt", TEXT.encode())
    assert list(LineSentence(path, limit=0)) == []
    assert list(LineSentence(path, limit=1)) == EXPECTED[:1]
    assert list(LineSentence(path, limit=3)) == EXPECTED[:2]


def test_iterating_again_starts_over(tmp_path):
    corpus = LineSentence(write_as(tmp_path / "corpus.txt.bz2", TEXT.encode()))
    first = iter(corpus)
    assert next(first) == EXPECTED[0]
    assert list(corpus) == EXPECTED
    assert list(corpus) == EXPECTED
    assert next(first) == EXPECTED[1]


@pytest.mark.parametrize(
    "stream",
    [io.BytesIO(TEXT.encode("utf-8")), io.StringIO(TEXT, newline=None)],
    ids=["binary", "text"],
)
def test_seekable_file_objects_are_rewound_at_each_iteration(stream):
    corpus = LineSentence(stream, max_sentence_length=3)
    expected = [s[i : i + 3] for s in EXPECTED for i in range(0, len(s), 3)]
    assert list(corpus) == expected
    assert list(corpus) == expected


def test_open_file_object_from_disk(tmp_path):
    path = write_as(tmp_path / "corpus.txt", TEXT.encode())
    with open(path, "rb") as stream:
        assert list(LineSentence(stream)) == list(LineSentence(stream)) == EXPECTED


class OneShotStream(io.RawIOBase):
    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, buffer):
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_a_non_seekable_stream_refuses_a_second_iteration():
    corpus = LineSentence(io.BufferedReader(OneShotStream(TEXT.encode())))
    assert list(corpus) == EXPECTED
    with pytest.raises(RuntimeError, match="only once"):
        list(corpus)


@pytest.mark.parametrize("reader", [LineSentence, PathLineSentences, Text8Corpus])
def test_a_missing_path_fails_at_construction_naming_it(tmp_path, reader):
    missing = tmp_path / "no-such-corpus.txt"
    with pytest.raises(FileNotFoundError, match="no-such-corpus.txt"):
        reader(missing)


def test_linesentence_on_a_directory_points_to_pathlinesentences(tmp_path):
    with pytest.raises(IsADirectoryError, match="PathLineSentences"):
        LineSentence(tmp_path)


def test_a_source_that_is_neither_path_nor_file_is_a_type_error():
    with pytest.raises(TypeError, match="path or a file object"):
        LineSentence([["already", "tokenised"]])


@pytest.mark.parametrize(
    "kwargs", [{"max_sentence_length": 0}, {"max_sentence_length": 2.5}, {"limit": -1}]
)
def test_invalid_sizes_are_rejected_naming_the_parameter(tmp_path, kwargs):
    path = write_as(tmp_path / "corpus.txt", b"a b\n")
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        LineSentence(path, **kwargs)


@pytest.mark.parametrize("name", ["corpus.txt", "corpus.txt.gz"])
def test_undecodable_line_names_file_and_line_number(tmp_path, name):
    path = write_as(tmp_path / name, b"good line\nanother\nbad \xff byte\n")
    corpus = LineSentence(path)
    with pytest.raises(UnicodeDecodeError, match=rf"{name}.* at line 3") as caught:
        list(corpus)
    assert isinstance(caught.value, ValueError)


def test_undecodable_bytes_in_a_binary_stream_name_the_stream():
    stream = io.BytesIO(b"ok\n\xc3\x28\n")
    stream.name = "stream-name"
    with pytest.raises(UnicodeDecodeError, match="stream-name.* at line 2"):
        list(LineSentence(stream))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.one_of(
        st.binary(max_size=300), st.text(max_size=200).map(lambda text: text.encode("utf-8"))
    ),
    max_sentence_length=st.integers(1, 5),
)
def test_random_bytes_give_token_lists_or_the_documented_error(tmp_path, data, max_sentence_length):
    path = tmp_path / "random.txt"
    path.write_bytes(data)
    try:
        sentences = list(LineSentence(path, max_sentence_length=max_sentence_length))
    except UnicodeDecodeError as err:
        assert "random.txt" in str(err)
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        return
    for sentence in sentences:
        assert isinstance(sentence, list)
        assert 1 <= len(sentence) <= max_sentence_length
        assert all(
            isinstance(token, str) and token and token.split() == [token] for token in sentence
        )
    lines = data.split(b"\n")
    assert [t for s in sentences for t in s] == [
        token for line in lines for token in line.decode("utf-8").split()
    ]


def make_tree(root):
    (root / "b.txt").write_bytes(b"from b\n")
    write_as(root / "corpus.txt.gz", b"from gz one\nfrom gz two\n")
    (root / "a.txt").write_bytes(b"from a one\nfrom a two\nfrom a three\n")
    (root / "sub").mkdir()
    (root / "sub" / "c.txt").write_bytes(b"never read\n")


def test_pathlinesentences_reads_files_in_sorted_order_skipping_subdirectories(tmp_path):
    make_tree(tmp_path)
    corpus = PathLineSentences(tmp_path)
    assert [os.path.basename(p) for p in corpus.input_files] == ["a.txt", "b.txt", "corpus.txt.gz"]
    assert list(corpus) == [
        ["from", "a", "one"],
        ["from", "a", "two"],
        ["from", "a", "three"],
        ["from", "b"],
        ["from", "gz", "one"],
        ["from", "gz", "two"],
    ]
    assert list(corpus) == list(corpus)


def test_pathlinesentences_limit_and_max_length_apply_per_file(tmp_path):
    make_tree(tmp_path)
    corpus = PathLineSentences(tmp_path, max_sentence_length=2, limit=1)
    assert list(corpus) == [["from", "a"], ["one"], ["from", "b"], ["from", "gz"], ["one"]]


def test_pathlinesentences_accepts_a_single_file(tmp_path):
    path = write_as(tmp_path / "corpus.txt.xz", TEXT.encode())
    assert list(PathLineSentences(path)) == EXPECTED


def text8_like(word_count: int) -> str:
    # Words of varied byte lengths (including 2- and 3-byte characters), so that chunk
    # boundaries fall at every possible offset inside words and characters.
    stems = ["a", "bb", "ccc", "d\u00e9f", "\u65e5\u672c", "ghijklm", "no"]
    return " ".join(f"{stems[i % len(stems)]}{i}" for i in range(word_count))


def test_text8_never_splits_a_word_at_the_8192_byte_boundary(tmp_path):
    straddler = "straddlingword"
    prefix = "x " * ((8192 - 5) // 2)
    data = (prefix + straddler + " tail end").encode()
    assert data.index(straddler.encode()) < 8192 < data.index(straddler.encode()) + len(straddler)
    path = write_as(tmp_path / "corpus.txt", data)
    words = [w for s in Text8Corpus(path) for w in s]
    assert words == data.decode().split()
    assert straddler in words


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 5, 7, 64, 8192])
def test_text8_output_does_not_depend_on_where_chunks_end(tmp_path, monkeypatch, chunk_bytes):
    monkeypatch.setattr(corpora, "_TEXT8_CHUNK_BYTES", chunk_bytes)
    text = " " + text8_like(900).replace("ccc", "c\tc\nc") + "  "
    path = write_as(tmp_path / "corpus.txt", text.encode())
    sentences = list(Text8Corpus(path, max_sentence_length=100))
    words = text.split()
    assert sentences == [words[i : i + 100] for i in range(0, len(words), 100)]


class CountingStream:
    def __init__(self, stream):
        self.stream = stream
        self.bytes_read = 0

    def read(self, size):
        data = self.stream.read(size)
        self.bytes_read += len(data)
        return data

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stream.close()


@pytest.mark.parametrize("separator", [" ", "\n", "\t"])
def test_text8_streams_whatever_whitespace_separates_words(tmp_path, monkeypatch, separator):
    monkeypatch.setattr(corpora, "_TEXT8_CHUNK_BYTES", 64)
    words = [f"word{i}" for i in range(10000)]
    path = write_as(tmp_path / "corpus.txt", separator.join(words).encode())
    streams = []

    def counting_open(path):
        with open(path, "rb") as stream:
            streams.append(CountingStream(io.BytesIO(stream.read())))
        return streams[-1]

    monkeypatch.setattr(corpora, "open_for_reading", counting_open)
    sentences = iter(Text8Corpus(path, max_sentence_length=10))
    assert next(sentences) == words[:10]
    assert streams[0].bytes_read <= 2 * 64


def test_text8_sentences_have_exactly_max_length_except_the_last(tmp_path):
    path = write_as(tmp_path / "corpus.txt.gz", text8_like(3 * 4000 + 7).encode())
    lengths = [len(s) for s in Text8Corpus(path, max_sentence_length=4000)]
    assert lengths == [4000, 4000, 4000, 7]


def test_text8_is_restartable_and_empty_file_gives_nothing(tmp_path):
    corpus = Text8Corpus(write_as(tmp_path / "corpus.txt", text8_like(50).encode()))
    assert list(corpus) == list(corpus) == [text8_like(50).split()]
    assert list(Text8Corpus(write_as(tmp_path / "corpus.txt.bz2", b""))) == []


def test_text8_undecodable_bytes_name_file_and_byte_offset(tmp_path):
    path = write_as(tmp_path / "corpus.txt", b"a" * 10000 + b" ok \xff bad")
    with pytest.raises(UnicodeDecodeError, match=r"corpus\.txt.* at byte 10004"):
        list(Text8Corpus(path))


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Don't PANIC: 42 towels, 'please'!", ["don't", "panic", "42", "towels", "please"]),
        ("rock\u2019n\u2019roll_band", ["rock'n'roll", "band"]),
        ("\u00c9t\u00e9 \u65e5\u672c\u8a9e x2", ["\u00e9t\u00e9", "\u65e5\u672c\u8a9e", "x2"]),
        ("--- ''", []),
    ],
)
def test_simple_tokenize(text, tokens):
    assert simple_tokenize(text) == tokens


# --------------------------------------------------- when the compiled reader may stand in


def _splits_like_str_split(tmp_path, data: bytes) -> bool:
    from fastw2v import _count

    path = tmp_path / "probe.txt"
    path.write_bytes(data)
    return _count.splits_like_str_split(str(path))


def test_every_whitespace_str_split_knows_beyond_ascii_is_detected(tmp_path):
    # Enumerated from the running Python, so a new Unicode version cannot slip past.
    ascii_spaces = set(b" \t\n\r\x0b\x0c")
    others = [chr(c) for c in range(0x110000) if chr(c).isspace() and c not in ascii_spaces]
    assert len(others) >= 20
    for space in others:
        data = f"one{space}two three\n".encode()
        assert not _splits_like_str_split(tmp_path, data), hex(ord(space))


@pytest.mark.parametrize("text", [
    "plain ascii words\n", "caf\u00e9 \u2014 \u4e2d\u6587 \U0001f600\n",
    "\ufeffbom first\r\nwindows line\r\n", "no final newline",
    "x" * 4096 + " longest kept token\n", "",
    # the first and last of each UTF-8 length's ranges (continuation ranges reset after them)
    "\u0080 \u07ff \u0800 \ud7ff \ue000 \uffff \U00010000 \U0010ffff\n"])
def test_text_that_splits_the_same_is_accepted(tmp_path, text):
    assert _splits_like_str_split(tmp_path, text.encode())


@pytest.mark.parametrize("data", [b"\xc3", b"caf\xc3 x", b"\x80", b"\xc0\x80", b"\xed\xa0\x80",
                                  b"\xf4\x90\x80\x80", b"\xff", b"\xe2\x82", b"x" * 4097,
                                  b"\xe0\x80\x80", b"\xf0\x80\x80\x80", b"\xf5\x80\x80\x80",
                                  b"word " * 13108 + b"\n"])
def test_invalid_utf8_and_overlong_tokens_are_refused(tmp_path, data):
    assert not _splits_like_str_split(tmp_path, data)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(st.sampled_from(
    [b"a", b"word", b" ", b"\t", b"\n", b"\r", b"\x0b", b"\x0c", b"\x1c", b"\x00", b"\xc2\xa0",
     b"\xc2\x85", b"\xc3\xa9", b"\xe2\x80\x83", b"\xe2\x80\x94", b"\xe3\x80\x80", b"\xe3\x80\x81",
     b"\xf0\x9f\x98\x80", b"\xc3", b"\x80", b"\xed\xa0\x80"]), max_size=40))
def test_acceptance_implies_the_same_tokens_as_str_split(tmp_path, pieces):
    data = b"".join(pieces)
    if _splits_like_str_split(tmp_path, data):
        decoded = [line.decode("utf-8").split() for line in data.split(b"\n")]
        ascii_split = [[token.decode("utf-8") for token in line.split()]
                       for line in data.split(b"\n")]
        assert decoded == ascii_split


def test_state_carries_across_the_checks_read_chunks(tmp_path):
    # The check reads 1 MiB at a time: a character and a token that straddle the boundary.
    chunk = 1 << 20
    euro = "\u20ac".encode()  # three bytes
    straddling_char = b"a\n" * ((chunk - 1) // 2) + b"x" + euro + b" end\n"
    assert _splits_like_str_split(tmp_path, straddling_char)
    # The same, with the character's first byte alone before the boundary and no follow-up.
    assert not _splits_like_str_split(tmp_path, straddling_char[: chunk + 1])
    token = b"t" * 4096
    straddling_token = b"a\n" * ((chunk - 2048) // 2) + token + b"\n"
    assert _splits_like_str_split(tmp_path, straddling_token)
    assert not _splits_like_str_split(tmp_path, straddling_token[:-1] + b"t\n")


# --------------------------------------------------------------------------------------------
# Hostile files


def bytes_examined_by_bytes_methods(function, *args) -> tuple[int, object]:
    """Total length of the bytes every bytes method called while `function` runs works on.

    A measure of work that does not depend on the machine's speed.
    """
    examined = [0]

    def profile(frame, event, arg):
        if event == "c_call":
            owner = getattr(arg, "__self__", None)
            if isinstance(owner, (bytes, bytearray)):
                examined[0] += len(owner)

    sys.setprofile(profile)
    try:
        result = function(*args)
    finally:
        sys.setprofile(None)
    return examined[0], result


@pytest.mark.parametrize("name", ["corpus.txt", "corpus.txt.gz"])
def test_text8_without_whitespace_costs_linear_work(tmp_path, name):
    size = 1 << 20
    path = write_as(tmp_path / name, b"x" * size)
    examined, sentences = bytes_examined_by_bytes_methods(lambda: list(Text8Corpus(path)))
    assert sentences == [["x" * size]]
    # Each byte is looked at a bounded number of times: no rescan of what came before.
    assert examined < 10 * size


def damaged_files(directory) -> dict[str, bytes]:
    whole = gzip.compress(TEXT.encode() * 50)
    return {
        "truncated.txt.gz": whole[: len(whole) // 2],
        "fake.txt.gz": TEXT.encode(),  # plain text under a compressed name
        "garbage.txt.xz": b"\xfd7zXZ\x00" + bytes(200),
        "garbage.txt.bz2": b"BZh9" + bytes(200),
    }


@pytest.mark.parametrize("reader", [LineSentence, PathLineSentences, Text8Corpus])
def test_a_damaged_compressed_file_raises_value_error_naming_it(tmp_path, reader):
    for name, data in damaged_files(tmp_path).items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=re.escape(str(tmp_path / name))) as caught:
            list(reader(str(tmp_path / name)))
        if name.startswith("truncated"):
            # Both gensim's type for a truncated stream and fastw2v's.
            assert isinstance(caught.value, TruncatedFileError)
            assert isinstance(caught.value, EOFError)
