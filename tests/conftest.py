"""Shared test configuration."""

import os
import pathlib
import signal

import numpy as np
import pytest

import fastw2v


def pytest_report_header(config):
    # The suite is meant to test the installed package; say which copy was imported.
    return f"fastw2v {fastw2v.__version__} from {os.path.dirname(fastw2v.__file__)}"


@pytest.fixture
def python_handles_ctrl_c():
    """Skip a test that simulates Ctrl-C where SIGINT is not Python's default handler: a process
    started in the background ignores it, and the simulated Ctrl-C would do nothing."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is not Python's default here, so a Ctrl-C cannot be simulated")


# --------------------------------------------------------------------------------------------
# Vectors shared by the KeyedVectors, evaluation and gensim-compatibility tests

_DATA = pathlib.Path(__file__).resolve().parents[1] / "fastw2v" / "data"


def _analogy_vocabulary(dimensions: int = 24, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Words of the analogy and word-pair sets, with vectors under which many analogies hold.

    Within a section, the second word of a pair is the first plus the section's offset (plus
    noise), so a good share of questions is answered correctly. Lowercase variants follow, some
    with exactly the vector of their capitalised form, which creates exact ties between a
    question word and a candidate; some words are left out to leave questions unanswerable.
    """
    rng = np.random.default_rng(seed)
    vectors: dict[str, np.ndarray] = {}
    offset = None
    for line in (_DATA / "questions-words.txt").read_text("utf-8").splitlines():
        if line.startswith(":"):
            offset = rng.standard_normal(dimensions)
            continue
        a, b, *_ = line.split()
        if a not in vectors:
            vectors[a] = rng.standard_normal(dimensions)
        if b not in vectors:
            vectors[b] = vectors[a] + offset + 0.3 * rng.standard_normal(dimensions)
    for line in (_DATA / "wordsim353.tsv").read_text("utf-8").splitlines():
        if not line.startswith("#"):
            for word in line.split("\t")[:2]:
                vectors.setdefault(word, rng.standard_normal(dimensions))
    words = [word for position, word in enumerate(vectors) if position % 17 != 5]
    variants = []
    for position, word in enumerate(words):
        if word.lower() != word and word.lower() not in vectors:
            same = position % 3 == 0
            variant = vectors[word] if same else rng.standard_normal(dimensions)
            variants.append((word.lower(), variant))
    words += [word for word, _ in variants]
    matrix = np.array([vectors[word] for word in words[: len(words) - len(variants)]]
                      + [vector for _, vector in variants], dtype=np.float32)
    return words, matrix


@pytest.fixture(scope="session")
def analogy_vocabulary():
    """The builder of :func:`_analogy_vocabulary`'s words and vectors."""
    return _analogy_vocabulary


@pytest.fixture(scope="session")
def analogy_kv():
    """KeyedVectors of the default analogy vocabulary, with descending counts."""
    from fastw2v.keyedvectors import KeyedVectors

    words, vectors = _analogy_vocabulary()
    kv = KeyedVectors(vectors.shape[1])
    kv.add_vectors(words, vectors, extras={"count": np.arange(len(words), 0, -1, dtype=np.int64)})
    return kv


@pytest.fixture(scope="session")
def gensim_kv():
    """A converter of fastw2v KeyedVectors to gensim's, with the same keys, vectors and counts."""
    gensim_models = pytest.importorskip("gensim.models")

    def convert(kv):
        converted = gensim_models.KeyedVectors(kv.vector_size)
        converted.add_vectors(list(kv.index_to_key), kv.vectors.copy())
        if "count" in kv.expandos:
            for word, count in zip(kv.index_to_key, kv.expandos["count"]):
                converted.set_vecattr(word, "count", int(count))
        return converted

    return convert
