"""Tests for fastw2v.evaluation: analogy questions and word-pair correlations.

The evaluations are exercised through the KeyedVectors methods that delegate to them and
directly on arrays. Tests named ``*_matches_gensim`` compare with gensim 4 on the same vectors
and are skipped when gensim is not installed.
"""

from __future__ import annotations

import itertools
import pathlib

import numpy as np
import pytest

from fastw2v import evaluation
from fastw2v.keyedvectors import KeyedVectors

DATA = pathlib.Path(__file__).resolve().parents[1] / "fastw2v" / "data"
ANALOGIES = DATA / "questions-words.txt"
WORDSIM = DATA / "wordsim353.tsv"


def make_kv(words, vectors, counts=None) -> KeyedVectors:
    kv = KeyedVectors(vectors.shape[1])
    extras = None if counts is None else {"count": np.asarray(counts, dtype=np.int64)}
    kv.add_vectors(list(words), vectors, extras=extras)
    return kv


@pytest.fixture(scope="module")
def sampled_analogies(tmp_path_factory) -> pathlib.Path:
    """Every fourth question of each section, to keep gensim comparisons fast."""
    lines = ANALOGIES.read_text("utf-8").splitlines()
    kept = [line for position, line in enumerate(lines)
            if line.startswith(":") or position % 4 == 0]
    path = tmp_path_factory.mktemp("analogies") / "sample.txt"
    path.write_text("\n".join(kept) + "\n", "utf-8")
    return path


# --------------------------------------------------------------------------------------------
# Analogies and word pairs


def reference_analogy_evaluation(kv, path, restrict_vocab, case_insensitive, dummy4unknown):
    """The analogy evaluation stated plainly, one most_similar call per question."""
    vocab = {}
    for index, key in enumerate(kv.index_to_key[:restrict_vocab]):
        vocab.setdefault(key.upper() if case_insensitive else key, index)
    sections = []
    for line in pathlib.Path(path).read_text("utf-8").splitlines(keepends=True):
        if line.startswith(": "):
            sections.append({"section": line.lstrip(": ").strip(), "correct": [], "incorrect": []})
            continue
        words = tuple(w.upper() if case_insensitive else w for w in line.split())
        if len(words) != 4:
            continue
        if any(word not in vocab for word in words):
            if dummy4unknown:
                sections[-1]["incorrect"].append(words)
            continue
        a, b, c, expected = words
        # Integer keys are rows, which stand for the most frequent case variant.
        sims = kv.most_similar(positive=[vocab[b], vocab[c]], negative=[vocab[a]], topn=5,
                               restrict_vocab=restrict_vocab)
        predicted = None
        for word, _ in sims:
            predicted = word.upper() if case_insensitive else word
            if predicted not in {a, b, c}:
                break
        sections[-1]["correct" if predicted == expected else "incorrect"].append(words)
    total = {"section": "Total accuracy",
             "correct": list(itertools.chain.from_iterable(s["correct"] for s in sections)),
             "incorrect": list(itertools.chain.from_iterable(s["incorrect"] for s in sections))}
    answered = len(total["correct"]) + len(total["incorrect"])
    return (len(total["correct"]) / answered if answered else 0.0), sections + [total]


@pytest.mark.parametrize(("restrict_vocab", "case_insensitive", "dummy4unknown"), [
    (300000, True, False), (900, True, True), (None, False, False),
])
def test_batched_analogy_evaluation_equals_per_question_evaluation(
    analogy_kv, sampled_analogies, restrict_vocab, case_insensitive, dummy4unknown
):
    expected = reference_analogy_evaluation(
        analogy_kv, sampled_analogies, restrict_vocab, case_insensitive, dummy4unknown)
    result = analogy_kv.evaluate_word_analogies(
        sampled_analogies, restrict_vocab=restrict_vocab, case_insensitive=case_insensitive,
        dummy4unknown=dummy4unknown)
    assert result == expected
    assert 0.2 < result[0] < 0.9  # the vocabulary makes a good share of answers right


def test_analogy_evaluation_with_float64_and_tiny_vocabularies(tmp_path, analogy_vocabulary):
    words, vectors = analogy_vocabulary(dimensions=8, seed=3)
    kv = make_kv(words, vectors.astype(np.float64))
    expected = reference_analogy_evaluation(kv, ANALOGIES, 2000, True, False)
    assert kv.evaluate_word_analogies(restrict_vocab=2000) == expected
    tiny = make_kv(["a", "b", "c", "d", "e"], np.eye(5, dtype=np.float32))
    (tmp_path / "q.txt").write_text(": s\na b c d\na b c e\nA b c zzz\n", "utf-8")
    assert tiny.evaluate_word_analogies(tmp_path / "q.txt") == reference_analogy_evaluation(
        tiny, tmp_path / "q.txt", 300000, True, False)


def test_analogy_evaluation_sections_and_errors(tmp_path):
    kv = make_kv(["king", "man", "woman", "queen", "x"],
                 np.array([[1, 1, 0], [1, 0, 0], [0, 1, 0], [0.2, 1.5, 0], [0, 0, 1]],
                          dtype=np.float32))
    (tmp_path / "q.txt").write_text(
        ": royalty\nman king woman queen\nbad line\n"
        ": other\nman king woman x\nman king woman zzz\n",
        "utf-8")
    score, sections = kv.evaluate_word_analogies(tmp_path / "q.txt")
    assert score == 0.5
    assert sections == [
        {"section": "royalty", "correct": [("MAN", "KING", "WOMAN", "QUEEN")], "incorrect": []},
        {"section": "other", "correct": [], "incorrect": [("MAN", "KING", "WOMAN", "X")]},
        {"section": "Total accuracy", "correct": [("MAN", "KING", "WOMAN", "QUEEN")],
         "incorrect": [("MAN", "KING", "WOMAN", "X")]},
    ]
    cosmul_score, _ = kv.evaluate_word_analogies(tmp_path / "q.txt",
                                                 similarity_function="most_similar_cosmul")
    assert cosmul_score == 0.5
    with pytest.raises(ValueError, match="similarity_function"):
        kv.evaluate_word_analogies(tmp_path / "q.txt", similarity_function="3cosadd")
    (tmp_path / "headless.txt").write_text("man king woman queen\n", "utf-8")
    with pytest.raises(ValueError, match="Missing section header"):
        kv.evaluate_word_analogies(tmp_path / "headless.txt")


def test_word_pair_evaluation(tmp_path):
    kv = make_kv(["a", "b", "c", "A"],
                 np.array([[1, 0], [1, 0.2], [0, 1], [0, 1]], dtype=np.float32))
    (tmp_path / "pairs.tsv").write_text(
        "# comment\na\tb\t9\na\tc\t1\nb\tc\t2\na\tzzz\t5\nnot a pair\n", "utf-8")
    pearson, spearman, oov = kv.evaluate_word_pairs(tmp_path / "pairs.tsv")
    assert spearman[0] == pytest.approx(1.0) and oov == 25.0
    assert pearson[0] == pytest.approx(np.corrcoef([9, 1, 2], [
        kv.similarity("a", "b"), kv.similarity("a", "c"), kv.similarity("b", "c")])[0, 1])
    with_dummies, _, oov = kv.evaluate_word_pairs(tmp_path / "pairs.tsv", dummy4unknown=True)
    assert oov == 25.0
    assert with_dummies[0] == pytest.approx(np.corrcoef([9, 1, 2, 5], [
        kv.similarity("a", "b"), kv.similarity("a", "c"), kv.similarity("b", "c"), 0.0])[0, 1])
    (tmp_path / "none.tsv").write_text("x\ty\t1\n", "utf-8")
    with pytest.raises(ValueError, match="No valid similarity judgements"):
        kv.evaluate_word_pairs(tmp_path / "none.tsv")


def test_default_evaluation_sets_are_shipped(analogy_kv):
    _score, sections = analogy_kv.evaluate_word_analogies()
    assert [s["section"] for s in sections][:2] == ["capital-common-countries", "capital-world"]
    assert len(sections) == 15 and sections[-1]["section"] == "Total accuracy"
    pearson, _spearman, oov = analogy_kv.evaluate_word_pairs()
    assert -1 <= pearson[0] <= 1 and 0 < oov < 20


def test_evaluations_take_plain_arrays(analogy_kv, sampled_analogies):
    vectors, keys = analogy_kv.vectors.copy(), list(analogy_kv.index_to_key)
    for function in ("most_similar", "most_similar_cosmul"):
        assert (evaluation.evaluate_word_analogies(vectors, keys, sampled_analogies,
                                                   similarity_function=function)
                == analogy_kv.evaluate_word_analogies(sampled_analogies,
                                                      similarity_function=function))
    norms = np.linalg.norm(vectors, axis=1)
    assert (evaluation.evaluate_word_analogies(vectors, keys, sampled_analogies, norms=norms)
            == evaluation.evaluate_word_analogies(vectors, keys, sampled_analogies))
    pearson, spearman, oov = evaluation.evaluate_word_pairs(vectors, keys, WORDSIM)
    expected_pearson, expected_spearman, expected_oov = analogy_kv.evaluate_word_pairs()
    assert (tuple(pearson), tuple(spearman), oov) == (
        tuple(expected_pearson), tuple(expected_spearman), expected_oov)


def test_evaluation_does_not_import_keyedvectors():
    # The evaluations sit below KeyedVectors: importing them must not pull it in (no cycle).
    import os
    import subprocess
    import sys

    import fastw2v

    code = ("import sys, fastw2v.evaluation; "
            "sys.exit('fastw2v.keyedvectors' in sys.modules)")
    # Run where the imported package lives (`-c` puts the working directory first on sys.path).
    package_parent = os.path.dirname(os.path.dirname(fastw2v.__file__))
    assert subprocess.run([sys.executable, "-c", code], cwd=package_parent).returncode == 0


# --------------------------------------------------------------------------------------------
# Parity with gensim


@pytest.mark.parametrize(("restrict_vocab", "case_insensitive", "dummy4unknown"), [
    (300000, True, False), (1000, True, True), (300000, False, False),
])
def test_analogy_evaluation_matches_gensim(
    analogy_kv, gensim_kv, sampled_analogies, restrict_vocab, case_insensitive, dummy4unknown
):
    options = {"restrict_vocab": restrict_vocab, "case_insensitive": case_insensitive,
                   "dummy4unknown": dummy4unknown}
    assert (analogy_kv.evaluate_word_analogies(sampled_analogies, **options)
            == gensim_kv(analogy_kv).evaluate_word_analogies(str(sampled_analogies), **options))


def test_analogy_evaluation_on_the_full_default_set_matches_gensim(analogy_kv, gensim_kv):
    expected = gensim_kv(analogy_kv).evaluate_word_analogies(str(ANALOGIES))
    assert analogy_kv.evaluate_word_analogies() == expected


@pytest.mark.parametrize(("restrict_vocab", "case_insensitive", "dummy4unknown"), [
    (300000, True, False), (300, True, True), (300000, False, False),
])
def test_word_pair_evaluation_matches_gensim(
    analogy_kv, gensim_kv, restrict_vocab, case_insensitive, dummy4unknown
):
    options = {"restrict_vocab": restrict_vocab, "case_insensitive": case_insensitive,
                   "dummy4unknown": dummy4unknown}
    pearson, spearman, oov = analogy_kv.evaluate_word_pairs(**options)
    expected_pearson, expected_spearman, expected_oov = gensim_kv(analogy_kv).evaluate_word_pairs(
        str(WORDSIM), **options)
    assert tuple(pearson) == tuple(expected_pearson)
    assert tuple(spearman) == tuple(expected_spearman)
    assert oov == expected_oov
