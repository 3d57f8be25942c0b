"""Tests of the ``fastw2v`` command, run in-process through ``main`` and once as a subprocess."""

from __future__ import annotations

import collections
import gzip
import lzma
import os
import random
import struct
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import numpy as np
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
needs_matplotlib = pytest.mark.skipif(find_spec("matplotlib") is None,
                                      reason="the [plot] extra (matplotlib) is not installed")


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
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "demo", "--workers", "2", "--no-plot")
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
    code, out, err = run(capsys, "demo", "--workers", "2", "--no-plot")
    assert code == 0, err
    assert "nearest to 'king':" in out


@pytest.mark.parametrize(
    "command", ["train", "similar", "analogy", "eval", "plot", "export-projector", "demo"])
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
        # `python -m` puts its working directory first on sys.path: run where the imported
        # package lives, so that a source checkout (without compiled modules) is never used.
        cwd=str(Path(fastw2v.__file__).parent.parent),
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.splitlines()[0] == "sea:"
    failed = subprocess.run(
        [*command, "similar", str(text_vectors), "zebra"],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
        cwd=str(Path(fastw2v.__file__).parent.parent),
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


# --------------------------------------------------------------------------------------------
# Pictures: plot, train --plot-loss, demo's word map


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG file"
    return struct.unpack(">II", data[16:24])


def without_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes the import fail as if the package were not installed.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)


@needs_matplotlib
def test_plot_draws_the_words_and_their_neighbours(text_vectors, tmp_path, capsys):
    image = tmp_path / "map.png"
    code, out, err = run(capsys, "plot", str(text_vectors), "king", "queen", "man", "woman",
                         "-o", str(image))
    assert code == 0, err
    assert out == f"wrote a map of 4 words to {image}\n"
    assert png_size(image) == (800, 600)
    code, out, err = run(capsys, "plot", str(text_vectors), "king", "two", "--topn", "3",
                         "-o", str(tmp_path / "map.svg"))
    assert code == 0, err
    assert out.startswith("wrote a map of 8 words")
    assert (tmp_path / "map.svg").read_text().lstrip().startswith("<?xml")


@needs_matplotlib
def test_plot_refusals_are_one_line(text_vectors, tmp_path, capsys):
    code, _, err = run(capsys, "plot", str(text_vectors), "king", "qeen", "-o",
                       str(tmp_path / "map.png"))
    assert_one_line_error(code, err, "'qeen'")
    code, _, err = run(capsys, "plot", str(text_vectors), "king", "queen", "-o",
                       str(tmp_path / "map.docx"))
    assert_one_line_error(code, err, "map.docx", ".png", ".svg")
    assert not (tmp_path / "map.docx").exists()


def test_plot_without_the_extra_names_it_in_one_line(text_vectors, tmp_path, capsys,
                                                     monkeypatch):
    without_matplotlib(monkeypatch)
    code, _, err = run(capsys, "plot", str(text_vectors), "king", "queen", "-o",
                       str(tmp_path / "map.png"))
    assert_one_line_error(code, err, 'pip install "fastw2v[plot]"')


@needs_matplotlib
def test_train_plot_loss_draws_each_epoch(corpus, tmp_path, capsys):
    image = tmp_path / "loss.png"
    options = [option if option != "1" else "3" for option in QUICK]  # --iter 3
    code, out, err = run(capsys, "train", str(corpus), "-o", str(tmp_path / "vectors.txt"),
                         *options, "--plot-loss", str(image))
    assert code == 0, err
    assert "trained 3 epochs" in out
    assert out.endswith(f"wrote the loss and speed of each epoch to {image}\n")
    assert png_size(image) == (700, 500)


def test_train_plot_loss_without_the_extra_fails_before_training(corpus, tmp_path, capsys,
                                                                 monkeypatch):
    without_matplotlib(monkeypatch)
    code, out, err = run(capsys, "train", str(corpus), "-o", str(tmp_path / "vectors.txt"),
                         *QUICK, "--plot-loss", str(tmp_path / "loss.png"))
    assert_one_line_error(code, err, "[plot]")
    assert "vocabulary" not in out


@needs_matplotlib
def test_demo_saves_its_word_map_and_says_where(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "DEMO_CORPUS", write_corpus(tmp_path / "demo.txt.xz"))
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "demo", "--workers", "2")
    assert code == 0, err
    assert out.endswith(f"word map: {tmp_path / cli.DEMO_MAP}\n")
    assert png_size(tmp_path / cli.DEMO_MAP) == (800, 600)
    chosen = tmp_path / "elsewhere.png"
    code, out, err = run(capsys, "demo", "--workers", "2", "--plot", str(chosen))
    assert code == 0, err
    assert out.endswith(f"word map: {chosen}\n")
    assert chosen.exists()


def test_demo_without_the_extra_says_how_to_get_a_map(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "DEMO_CORPUS", write_corpus(tmp_path / "demo.txt.xz"))
    monkeypatch.chdir(tmp_path)
    without_matplotlib(monkeypatch)
    code, out, err = run(capsys, "demo", "--workers", "2")
    assert code == 0, err
    assert 'pip install "fastw2v[plot]"' in out.splitlines()[-1]
    assert list(tmp_path.glob("*.png")) == []
    code, _, err = run(capsys, "demo", "--plot", str(tmp_path / "map.png"))
    assert_one_line_error(code, err, "[plot]")


# --------------------------------------------------------------------------------------------
# export-projector


def test_export_projector_writes_the_two_files_and_reads_back(text_vectors, tmp_path, capsys):
    out_dir = tmp_path / "projector" / "run1"
    code, out, err = run(capsys, "export-projector", str(text_vectors), str(out_dir))
    assert code == 0, err
    assert f"to {out_dir / 'vectors.tsv'} and their words to {out_dir / 'metadata.tsv'}" in out
    vectors = KeyedVectors.load_word2vec_format(str(text_vectors))
    words = (out_dir / "metadata.tsv").read_text().splitlines()
    assert words == vectors.index_to_key
    rows = [line.split("\t") for line in (out_dir / "vectors.tsv").read_text().splitlines()]
    assert (np.array(rows, dtype=np.float32) == vectors.vectors).all()


def test_export_projector_adds_counts_from_a_vocabulary_file(text_vectors, tmp_path, capsys):
    vocab = tmp_path / "vocab.txt"
    vectors = KeyedVectors.load_word2vec_format(str(text_vectors))
    vocab.write_text("".join(f"{w} {100 - i}\n" for i, w in enumerate(vectors.index_to_key)))
    code, _, err = run(capsys, "export-projector", str(text_vectors), str(tmp_path / "out"),
                       "--vocab", str(vocab), "--limit", "3")
    assert code == 0, err
    lines = (tmp_path / "out" / "metadata.tsv").read_text().splitlines()
    assert lines == ["word\tcount"] + [f"{w}\t{100 - i}" for i, w in
                                       enumerate(vectors.index_to_key[:3])]
    assert len((tmp_path / "out" / "vectors.tsv").read_text().splitlines()) == 3


def test_export_projector_into_a_file_is_one_line(text_vectors, tmp_path, capsys):
    code, _, err = run(capsys, "export-projector", str(text_vectors), str(text_vectors))
    assert_one_line_error(code, err, str(text_vectors), "not a directory")


# --------------------------------------------------------------------------------------------
# word2vec.c's command line


def record_parameters(monkeypatch: pytest.MonkeyPatch) -> dict:
    """Make Word2Vec record its keyword arguments and stop the command there."""
    received: dict = {}

    def record(**parameters):
        received.update(parameters)
        raise Interrupted

    monkeypatch.setattr(fastw2v, "Word2Vec", record)
    return received


def test_word2vec_c_command_line_of_the_issue_sets_every_parameter(corpus, monkeypatch):
    received = record_parameters(monkeypatch)
    with pytest.raises(Interrupted):
        cli.main(["-train", str(corpus), "-output", str(corpus.with_name("vec.bin")), "-cbow",
                  "1", "-size", "200", "-window", "8", "-negative", "25", "-hs", "0", "-sample",
                  "1e-4", "-threads", "20", "-binary", "1", "-iter", "15", "-min-count", "5",
                  "-alpha", "0.05"])
    assert received == {
        "sg": 0, "vector_size": 200, "window": 8, "negative": 25, "hs": 0, "sample": 1e-4,
        "workers": 20, "epochs": 15, "min_count": 5, "alpha": 0.05, "min_alpha": 0.05 * 1e-4,
        "progress": None,
    }


def test_word2vec_c_defaults_are_its_own(corpus, monkeypatch):
    # word2vec.c 0.1c: size 100, window 5, sample 1e-3, hs 0, negative 5, threads 12, iter 5,
    # min-count 5, cbow 1, alpha 0.05 for CBOW and 0.025 for skip-gram.
    received = record_parameters(monkeypatch)
    output = str(corpus.with_name("unused.txt"))
    with pytest.raises(Interrupted):
        cli.main(["-train", str(corpus), "-output", output])
    assert received == {
        "sg": 0, "vector_size": 100, "window": 5, "negative": 5, "hs": 0, "sample": 1e-3,
        "workers": 12, "epochs": 5, "min_count": 5, "alpha": 0.05, "min_alpha": 0.05 * 1e-4,
        "progress": None,
    }
    with pytest.raises(Interrupted):
        cli.main(["-train", str(corpus), "-output", output, "-cbow", "0", "-debug", "1"])
    assert (received["sg"], received["alpha"], received["progress"]) == (1, 0.025, False)


def test_word2vec_c_usage_example_trains_and_writes_text_vectors(corpus, tmp_path, capsys):
    # The example of word2vec.c's usage text, with a small corpus and 2 threads.
    output = tmp_path / "vec.txt"
    code, out, err = run(capsys, "-train", str(corpus), "-output", str(output), "-size", "20",
                         "-window", "5", "-sample", "1e-4", "-negative", "5", "-hs", "0",
                         "-binary", "0", "-cbow", "1", "-iter", "3", "-threads", "2",
                         "-min-count", "1")
    assert code == 0, err
    assert f"vocabulary: {len(VOCABULARY)} words" in out
    assert "trained 3 epochs" in out
    vectors = KeyedVectors.load_word2vec_format(str(output), binary=False)
    assert set(vectors.index_to_key) == VOCABULARY
    assert vectors.vector_size == 20


def test_word2vec_c_binary_output_and_quiet_debug(corpus, tmp_path, capsys):
    output = tmp_path / "vec.bin"
    code, out, err = run(capsys, "-train", str(corpus), "-output", str(output), "-binary", "1",
                         "-size", "12", "-iter", "1", "-threads", "2", "-min-count", "1",
                         "-debug", "0", "-hs", "1", "-negative", "0")
    assert code == 0, err
    assert out == ""
    assert len(KeyedVectors.load_word2vec_format(str(output), binary=True)) == len(VOCABULARY)


def test_word2vec_c_save_vocab_writes_its_format(corpus, tmp_path, capsys):
    vocab = tmp_path / "vocab.txt"
    code, out, err = run(capsys, "-train", str(corpus), "-save-vocab", str(vocab),
                         "-min-count", "1")
    assert code == 0, err
    assert "trained" not in out  # no -output: word2vec.c stops after the vocabulary
    lines = [line.split(" ") for line in vocab.read_text().splitlines()]
    text = corpus.read_text()
    # word2vec.c's first entry: its sentence-end token, counted once per line break.
    assert lines[0] == ["</s>", str(text.count("\n"))]
    counts = collections.Counter(text.split())
    assert {word: int(count) for word, count in lines[1:]} == counts
    assert [int(count) for _, count in lines[1:]] == sorted(counts.values(), reverse=True)


def test_word2vec_c_read_vocab_fixes_the_vocabulary(corpus, tmp_path, capsys):
    vocab = tmp_path / "vocab.txt"
    # word2vec.c's -save-vocab files start with </s>, which fastw2v's vocabulary does not hold.
    vocab.write_text("</s> 3000\nking 900\nqueen 800\nwater 700\nrare 1\n")
    output = tmp_path / "vec.txt"
    code, out, err = run(capsys, "-train", str(corpus), "-read-vocab", str(vocab), "-output",
                         str(output), "-size", "8", "-iter", "1", "-threads", "2",
                         "-min-count", "2")
    assert code == 0, err
    assert "warn" not in err.lower()  # the schedule knows how many words an epoch reads
    assert f"vocabulary: 3 words read from {vocab}" in out
    vectors = KeyedVectors.load_word2vec_format(str(output))
    assert vectors.index_to_key == ["king", "queen", "water"]


def test_word2vec_c_vocabulary_round_trip(corpus, tmp_path, capsys):
    vocab = tmp_path / "vocab.txt"
    assert cli.main(["-train", str(corpus), "-save-vocab", str(vocab), "-min-count", "1",
                     "-debug", "0"]) == 0
    output = tmp_path / "vec.txt"
    assert cli.main(["-train", str(corpus), "-read-vocab", str(vocab), "-output", str(output),
                     "-iter", "1", "-size", "8", "-threads", "2", "-min-count", "1",
                     "-debug", "0"]) == 0
    saved = [line.split()[0] for line in vocab.read_text().splitlines()[1:]]
    assert KeyedVectors.load_word2vec_format(str(output)).index_to_key == saved


def test_word2vec_c_classes_writes_a_class_per_word(corpus, tmp_path, capsys):
    output = tmp_path / "classes.txt"
    code, _, err = run(capsys, "-train", str(corpus), "-output", str(output), "-classes", "4",
                       "-size", "16", "-iter", "3", "-threads", "2", "-min-count", "1",
                       "-cbow", "0")
    assert code == 0, err
    pairs = [line.split(" ") for line in output.read_text().splitlines()]
    assert {word for word, _ in pairs} == VOCABULARY
    classes = {word: int(label) for word, label in pairs}
    assert set(classes.values()) <= {0, 1, 2, 3}
    # The topics are what the vectors learn: most words share their topic's usual class.
    for topic in TOPICS:
        usual = collections.Counter(classes[word] for word in topic).most_common(1)[0][1]
        assert usual >= 5


def reference_word_classes(vectors, classes, iterations=10):
    """word2vec.c's k-means, loop for loop, in plain Python."""
    dims = len(vectors[0])
    labels = [i % classes for i in range(len(vectors))]
    for _ in range(iterations):
        centres = [[0.0] * dims for _ in range(classes)]
        sizes = [1] * classes
        for vector, label in zip(vectors, labels):
            for d in range(dims):
                centres[label][d] += vector[d]
            sizes[label] += 1
        for b in range(classes):
            centres[b] = [x / sizes[b] for x in centres[b]]
            norm = sum(x * x for x in centres[b]) ** 0.5
            centres[b] = [x / norm for x in centres[b]] if norm else None
        for c, vector in enumerate(vectors):
            best, best_id = -10.0, 0
            for d, centre in enumerate(centres):
                if centre is None:
                    continue
                x = sum(a * b for a, b in zip(centre, vector))
                if x > best:
                    best, best_id = x, d
            labels[c] = best_id
    return labels


@pytest.mark.parametrize(("count", "classes"), [(40, 3), (25, 7), (5, 8)])
def test_word_classes_are_word2vec_cs_k_means(count, classes):
    vectors = np.random.default_rng(count).standard_normal((count, 6)).astype(np.float32)
    expected = reference_word_classes(vectors.astype(float).tolist(), classes)
    assert cli._word_classes(vectors, classes).tolist() == expected


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["-train", "x", "-itre", "3"], ["'-itre'", "-iter"]),
        (["-train", "x", "-size"], ["argument missing for -size"]),
        (["-train", "x", "-size", "10", "-size", "20"], ["-size given twice"]),
        (["-train", "x", "-size", "big"], ["-size", "'big'"]),
        (["-train", "x", "-size", "0"], ["-size must be between 1"]),
        (["-train", "x", "-classes", "-2"], ["-classes"]),
    ],
)
def test_word2vec_c_malformed_command_lines_are_one_line_with_status_2(capsys, argv, fragments):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert_one_line_error(code, err, *fragments)


def test_word2vec_c_mistakes_are_one_line(corpus, tmp_path, capsys):
    output = str(tmp_path / "vec.txt")
    code, _, err = run(capsys, "-output", output)
    assert_one_line_error(code, err, "-train <file> is required")
    code, _, err = run(capsys, "-train", str(corpus))
    assert_one_line_error(code, err, "nothing to write")
    code, _, err = run(capsys, "-train", str(tmp_path / "missing.txt"), "-output", output)
    assert_one_line_error(code, err, "missing.txt", "no such file")
    code, out, err = run(capsys, "-train", str(corpus), "-output", output, "-hs", "0",
                         "-negative", "0")
    assert_one_line_error(code, err, "no training objective")
    code, _, err = run(capsys, "-train", str(corpus), "-output", str(corpus))
    assert_one_line_error(code, err, "is the corpus")


def test_help_describes_the_word2vec_c_command_line(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for flag in cli.WORD2VEC_C_OPTIONS:
        assert f"\n  {flag} " in out
    assert "threads; default 12" in out
