"""Tests of the ``fastw2v`` command, run in-process through ``main`` and once as a subprocess."""

from __future__ import annotations

import gzip
import lzma
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

import fastw2v
from fastw2v import KeyedVectors, cli

# Words that co-occur within a topic, so that the vectors have neighbours worth printing.
TOPICS = (
    ("king", "queen", "prince", "princess", "crown", "throne", "royal", "palace"),
    ("man", "woman", "boy", "girl", "father", "mother", "son", "daughter"),
    ("one", "two", "three", "four", "five", "six", "seven", "eight"),
    ("water", "river", "sea", "rain", "lake", "wet", "ocean", "flow"),
)
FILLERS = ("the", "a", "of", "and", "to", "in")
VOCABULARY = {word for topic in TOPICS for word in topic} | set(FILLERS)
QUICK = ["--size", "16", "--iter", "1", "--threads", "2", "--min-count", "1", "--no-progress"]


def write_corpus(path: Path, sentences: int = 3000, seed: int = 0) -> Path:
    rng = random.Random(seed)
    lines = []
    for _ in range(sentences):
        topic = rng.choice(TOPICS)
        words = [rng.choice(topic) for _ in range(6)] + [rng.choice(FILLERS) for _ in range(2)]
        rng.shuffle(words)
        lines.append(" ".join(words))
    text = "\n".join(lines) + "\n"
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    elif path.suffix == ".xz":
        path.write_bytes(lzma.compress(text.encode()))
    elif path.suffix == ".lzma":
        path.write_bytes(lzma.compress(text.encode(), format=lzma.FORMAT_ALONE))
    else:
        path.write_text(text)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code != 0
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("fastw2v: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus") / "corpus.txt")


@pytest.fixture(scope="module")
def text_vectors(corpus: Path) -> Path:
    output = corpus.with_name("vectors.txt")
    assert cli.main(["train", str(corpus), "-o", str(output), "--sg", *QUICK]) == 0
    return output


@pytest.fixture(scope="module")
def binary_vectors(corpus: Path) -> Path:
    output = corpus.with_name("vectors.bin")
    assert cli.main(["train", str(corpus), "-o", str(output), "--binary", *QUICK]) == 0
    return output


def test_train_reports_and_writes_text_vectors(corpus, tmp_path, capsys):
    output = tmp_path / "vectors.txt"
    code, out, _ = run(capsys, "train", str(corpus), "-o", str(output), *QUICK)
    assert code == 0
    assert f"vocabulary: {len(VOCABULARY)} words" in out
    assert "words/s" in out
    vectors = KeyedVectors.load_word2vec_format(str(output), binary=False)
    assert set(vectors.index_to_key) == VOCABULARY
    assert vectors["king"].shape == (16,)


def test_train_binary_writes_the_binary_format(binary_vectors):
    vectors = KeyedVectors.load_word2vec_format(str(binary_vectors), binary=True)
    assert set(vectors.index_to_key) == VOCABULARY
    assert vectors.vector_size == 16


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([], {"sg": 0, "alpha": 0.05, "negative": 5, "hs": 0, "softmax": 0}),
        (["--sg"], {"sg": 1, "alpha": 0.025, "negative": 5}),
        (["--cbow", "--alpha", "0.01"], {"sg": 0, "alpha": 0.01}),
        (["--hs"], {"hs": 1, "negative": 0}),
        (["--hs", "--negative", "3"], {"hs": 1, "negative": 3}),
        (["--softmax"], {"softmax": 1, "negative": 0}),
        (
            ["--window", "3", "--sample", "0", "--seed", "7"],
            {"window": 3, "sample": 0.0, "seed": 7, "vector_size": 16, "epochs": 1, "workers": 2},
        ),
    ],
)
def test_train_maps_word2vec_options(corpus, tmp_path, capsys, monkeypatch, options, expected):
    received = {}

    class RecordingWord2Vec(fastw2v.Word2Vec):
        def __init__(self, **parameters):
            received.update(parameters)
            super().__init__(**parameters)

    monkeypatch.setattr(fastw2v, "Word2Vec", RecordingWord2Vec)
    output = tmp_path / "vectors.txt"
    code, _, err = run(capsys, "train", str(corpus), "-o", str(output), *QUICK, *options)
    assert code == 0, err
    assert {name: received[name] for name in expected} == expected
    assert len(KeyedVectors.load_word2vec_format(str(output))) == len(VOCABULARY)


class Interrupted(Exception):
    """Stops a command once the test has seen what it wanted."""


def test_train_defaults_are_those_of_word2vec_c(corpus, monkeypatch):
    received = {}

    def record(**parameters):
        received.update(parameters)
        raise Interrupted

    monkeypatch.setattr(fastw2v, "Word2Vec", record)
    with pytest.raises(Interrupted):
        cli.main(["train", str(corpus), "-o", str(corpus.with_name("unused.txt"))])
    assert received == {
        "sg": 0,
        "vector_size": 100,
        "window": 5,
        "negative": 5,
        "hs": 0,
        "softmax": 0,
        "sample": 1e-3,
        "min_count": 5,
        "epochs": 5,
        "workers": os.cpu_count(),
        "alpha": 0.05,
        "seed": 1,
        "progress": None,
    }


@pytest.mark.parametrize("suffix", [".gz", ".lzma"])
def test_train_reads_a_compressed_corpus(tmp_path, capsys, suffix):
    corpus = write_corpus(tmp_path / f"corpus.txt{suffix}")
    output = tmp_path / "vectors.txt"
    code, out, err = run(capsys, "train", str(corpus), "-o", str(output), *QUICK)
    assert code == 0, err
    assert f"vocabulary: {len(VOCABULARY)} words" in out
    assert len(KeyedVectors.load_word2vec_format(str(output))) == len(VOCABULARY)


def test_binary_format_is_detected(text_vectors, binary_vectors, tmp_path):
    assert not cli._is_binary_word2vec(str(text_vectors))
    assert cli._is_binary_word2vec(str(binary_vectors))
    compressed = tmp_path / "vectors.bin.gz"
    compressed.write_bytes(gzip.compress(binary_vectors.read_bytes()))
    assert cli._is_binary_word2vec(str(compressed))
    header_only = tmp_path / "empty.txt"
    header_only.write_text("0 16\n")
    assert not cli._is_binary_word2vec(str(header_only))


def test_similar_prints_neighbours_of_each_word(text_vectors, capsys):
    code, out, _ = run(capsys, "similar", str(text_vectors), "king", "two", "--topn", "3")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "king:"
    assert lines[4] == "two:"
    assert len(lines) == 8
    neighbour, similarity = lines[1].split()
    assert neighbour in VOCABULARY - {"king"}
    assert -1.0 <= float(similarity) <= 1.0


def test_similar_reads_binary_vectors_without_being_told(text_vectors, binary_vectors, capsys):
    _, from_text, _ = run(capsys, "similar", str(text_vectors), "water")
    code, from_binary, _ = run(capsys, "similar", str(binary_vectors), "water")
    assert code == 0
    assert len(from_binary.splitlines()) == len(from_text.splitlines()) == 11
    _, forced, _ = run(capsys, "similar", str(binary_vectors), "water", "--binary")
    assert forced == from_binary


def test_analogy_prints_answers(text_vectors, capsys):
    code, out, _ = run(capsys, "analogy", str(text_vectors), "man", "king", "woman", "--topn", "2")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "man : king :: woman : ?"
    assert len(lines) == 3
    assert all(line.split()[0] not in {"man", "king", "woman"} for line in lines[1:])


def test_eval_prints_sections_and_correlations(text_vectors, tmp_path, capsys):
    analogies = tmp_path / "analogies.txt"
    analogies.write_text(
        ": royalty\nman king woman queen\nboy prince girl princess\n"
        ": numbers\none two three four\nfive six seven eight\n"
    )
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("king\tqueen\t8.5\nking\triver\t1.0\ntwo\tthree\t7.0\nsea\tocean\t9.0\n")
    code, out, err = run(
        capsys, "eval", str(text_vectors), "--analogies", str(analogies), "--pairs", str(pairs)
    )
    assert code == 0, err
    rows = {line.split()[0]: line for line in out.splitlines()}
    assert rows["royalty"].endswith("/2)")
    assert rows["numbers"].endswith("/2)")
    assert rows["Total"].endswith("/4)")
    assert {"Spearman", "Pearson", "OOV"} <= rows.keys()


def test_demo_trains_and_shows_neighbours_analogies_and_accuracy(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "DEMO_CORPUS", write_corpus(tmp_path / "demo.txt.xz"))
    code, out, err = run(capsys, "demo", "--workers", "2")
    assert code == 0, err
    assert "nearest to 'king':" in out
    assert "nearest to 'water':" in out
    assert "nearest to 'france':" not in out
    assert "man : king :: woman : ?" in out
    assert "paris : france" not in out
    assert "analogies" in out


@pytest.mark.slow
def test_demo_on_the_shipped_corpus(capsys):
    if not cli.DEMO_CORPUS.is_file():
        pytest.skip("the demo corpus is not in this checkout")
    code, out, err = run(capsys, "demo", "--workers", "2")
    assert code == 0, err
    assert "nearest to 'king':" in out


@pytest.mark.parametrize("command", ["train", "similar", "analogy", "eval", "demo"])
def test_every_command_has_help(capsys, command):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert out.startswith(f"usage: fastw2v {command}")


def test_missing_corpus_is_one_line(tmp_path, capsys):
    code, _, err = run(capsys, "train", str(tmp_path / "nope.txt"), "-o", str(tmp_path / "v"))
    assert_one_line_error(code, err, "nope.txt")


def test_missing_output_directory_fails_before_training(corpus, tmp_path, capsys):
    output = tmp_path / "missing" / "vectors.txt"
    code, out, err = run(capsys, "train", str(corpus), "-o", str(output), *QUICK)
    assert_one_line_error(code, err, "missing")
    assert "vocabulary" not in out


def test_invalid_parameter_from_the_library_is_one_line(corpus, tmp_path, capsys):
    output = tmp_path / "vectors.txt"
    code, _, err = run(capsys, "train", str(corpus), "-o", str(output), *QUICK, "--window", "0")
    assert_one_line_error(code, err, "window")


def test_malformed_option_is_one_line_with_status_2(corpus, capsys):
    code, _, err = run(capsys, "train", str(corpus), "-o", "v.txt", "--size", "big")
    assert code == 2
    assert_one_line_error(code, err, "--size")


def test_missing_vectors_file_is_one_line(tmp_path, capsys):
    code, _, err = run(capsys, "similar", str(tmp_path / "nope.txt"), "king")
    assert_one_line_error(code, err, "nope.txt")


def test_missing_evaluation_file_fails_before_evaluating(text_vectors, tmp_path, capsys):
    code, out, err = run(capsys, "eval", str(text_vectors), "--pairs", str(tmp_path / "nope.tsv"))
    assert_one_line_error(code, err, "nope.tsv")
    assert out == ""


@pytest.mark.parametrize("topn", ["0", "-1", "ten"])
def test_topn_must_be_a_positive_integer(text_vectors, capsys, topn):
    code, _, err = run(capsys, "similar", str(text_vectors), "king", "--topn", topn)
    assert code == 2
    assert_one_line_error(code, err, "--topn", "positive integer")


def test_unknown_words_are_named_in_one_line(text_vectors, capsys):
    code, _, err = run(capsys, "similar", str(text_vectors), "king", "zebra", "King")
    assert_one_line_error(code, err, "'zebra'", "did you mean 'king'?")
    code, _, err = run(capsys, "analogy", str(text_vectors), "man", "king", "empress")
    assert_one_line_error(code, err, "'empress'")


@pytest.mark.parametrize(
    "content",
    [b"not a header\nking 0.1 0.2\n", b"2 3\nking 0.1 0.2 0.3\nqueen 0.1 oops 0.3\n", b"2 3\n"],
    ids=["header", "number", "truncated"],
)
def test_malformed_vectors_file_is_one_line(tmp_path, capsys, content):
    path = tmp_path / "broken.txt"
    path.write_bytes(content)
    code, _, err = run(capsys, "eval", str(path))
    assert_one_line_error(code, err)


def test_module_runs_as_a_command(text_vectors):
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(Path(fastw2v.__file__).parent.parent), os.environ.get("PYTHONPATH")])
        ),
    }
    command = [sys.executable, "-m", "fastw2v.cli"]
    found = subprocess.run(
        [*command, "similar", str(text_vectors), "sea", "--topn", "2"],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.splitlines()[0] == "sea:"
    failed = subprocess.run(
        [*command, "similar", str(text_vectors), "zebra"],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert failed.returncode == 1
    assert failed.stderr.splitlines() == ["fastw2v: error: word not in the vocabulary: 'zebra'"]


# --------------------------------------------------------------------------------------------
# Hostile inputs and outputs: one line, before any training


@pytest.mark.parametrize("name", ["truncated.txt.gz", "fake.txt.gz", "garbage.txt.xz"])
def test_a_damaged_or_fake_compressed_corpus_is_one_line(tmp_path, capsys, name):
    whole = gzip.compress(b"the king and queen\n" * 500)
    data = {
        "truncated.txt.gz": whole[: len(whole) // 2],
        "fake.txt.gz": b"the king and queen\n" * 500,
        "garbage.txt.xz": b"\xfd7zXZ\x00" + bytes(100),
    }[name]
    (tmp_path / name).write_bytes(data)
    code, _, err = run(capsys, "train", str(tmp_path / name), "-o", str(tmp_path / "v"), *QUICK)
    assert_one_line_error(code, err, str(tmp_path / name))


def test_a_device_or_a_fifo_as_corpus_is_reported_for_what_it_is(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe")
    for corpus, kind in (("/dev/null", "character device"), (str(tmp_path / "pipe"), "FIFO")):
        code, out, err = run(capsys, "train", corpus, "-o", str(tmp_path / "v"), *QUICK)
        assert_one_line_error(code, err, corpus, kind, "not a regular file")
        assert "no such file" not in err and "vocabulary" not in out


def unwritable_outputs(tmp_path: Path, corpus: Path) -> dict[str, tuple[Path, str]]:
    (tmp_path / "read-only.txt").write_text("keep me")
    (tmp_path / "read-only.txt").chmod(0o444)
    (tmp_path / "a-file").write_text("not a folder")
    os.mkfifo(tmp_path / "pipe")
    return {
        "directory": (tmp_path, "is a directory"),
        "read-only file": (tmp_path / "read-only.txt", "read-only"),
        "under a file": (tmp_path / "a-file" / "vectors.txt", "Not a directory"),
        "missing folder": (tmp_path / "missing" / "vectors.txt", "no such directory"),
        "fifo": (tmp_path / "pipe", "not a regular file"),
        "the corpus": (corpus, "the output file is the corpus"),
    }


def test_an_output_that_cannot_be_written_fails_before_training(tmp_path, capsys):
    corpus = write_corpus(tmp_path / "corpus.txt", sentences=200)
    before = corpus.read_bytes()
    for output, fragment in unwritable_outputs(tmp_path, corpus).values():
        code, out, err = run(capsys, "train", str(corpus), "-o", str(output), *QUICK)
        assert_one_line_error(code, err, str(output), fragment)
        assert "vocabulary" not in out
    assert (tmp_path / "read-only.txt").read_text() == "keep me"
    assert corpus.read_bytes() == before


def test_an_output_through_a_link_or_with_a_leading_dash_is_written(tmp_path, capsys):
    corpus = write_corpus(tmp_path / "corpus.txt", sentences=200)
    (tmp_path / "link.txt").symlink_to("real.txt")
    for output, written in ((tmp_path / "link.txt", tmp_path / "real.txt"),
                            (tmp_path / "-vectors.txt", tmp_path / "-vectors.txt")):
        code, _, err = run(capsys, "train", str(corpus), f"--output={output}", *QUICK)
        assert code == 0, err
        assert len(KeyedVectors.load_word2vec_format(str(written))) == len(VOCABULARY)
    assert (tmp_path / "link.txt").is_symlink()


@pytest.mark.parametrize("option", ["--pairs", "--analogies"])
def test_an_undecodable_evaluation_file_is_named(text_vectors, tmp_path, capsys, option):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b": section\nking queen caf\xe9 r\xe9sum\xe9\n" if option == "--analogies"
                    else b"king\tqueen\t8.5\ncaf\xe9\tsea\t1.0\n")
    code, _, err = run(capsys, "eval", str(text_vectors), option, str(bad))
    assert_one_line_error(code, err, str(bad), "UTF-8")
