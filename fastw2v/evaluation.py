"""The standard evaluations of word vectors: analogy questions and word-pair similarities.

Both take the vectors as a matrix and its row keys; :meth:`KeyedVectors.evaluate_word_analogies
<fastw2v.keyedvectors.KeyedVectors.evaluate_word_analogies>` and :meth:`KeyedVectors.
evaluate_word_pairs <fastw2v.keyedvectors.KeyedVectors.evaluate_word_pairs>` delegate here, and
their results are gensim 4's on the same vectors. Candidates are ranked with the functions of
:mod:`fastw2v._similarity`, which the similarity queries use too, so an analogy is answered
exactly as :meth:`~fastw2v.keyedvectors.KeyedVectors.most_similar` would answer it.

Examples
--------
>>> import os, tempfile
>>> import numpy as np
>>> vectors = np.array([[1, 1], [1, 0], [0, 1], [0.2, 1.5]], dtype=np.float32)
>>> path = os.path.join(tempfile.mkdtemp(), "questions.txt")
>>> _ = open(path, "w").write(": royalty\\nman king woman queen\\n")
>>> evaluate_word_analogies(vectors, ["king", "man", "woman", "queen"], path)[0]
1.0
"""

from __future__ import annotations

import io
import itertools
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fastw2v import _io
from fastw2v._similarity import (
    cosmul_scores,
    largest_first,
    row_similarities,
    unit_row,
    unit_vector,
    weighted_mean,
)

__all__ = [
    "evaluate_word_analogies",
    "evaluate_word_pairs",
    "log_accuracy",
    "log_evaluate_word_pairs",
]

logger = logging.getLogger(__name__)

_DATA_DIR = Path(__file__).resolve().parent / "data"
# Analogy questions are answered in batches of one matrix product; this bounds the size of the
# (batch, vocabulary) score matrix.
_ANALOGY_BATCH_SCORES = 1 << 25
_ANALOGY_TOPN = 5


def _norms_of(vectors: np.ndarray, norms: np.ndarray | None) -> np.ndarray:
    if norms is None or len(norms) != len(vectors):
        return np.linalg.norm(vectors, axis=1)
    return norms


def _restricted_vocab(
    index_to_key: Sequence[Any], restrict_vocab: int | None, case_insensitive: bool
) -> dict:
    """Row of each of the first `restrict_vocab` keys, uppercased if `case_insensitive`.

    Among case variants the first, i.e. the most frequent, wins.
    """
    vocab: dict[str, int] = {}
    for index, key in enumerate(index_to_key[:restrict_vocab]):
        vocab.setdefault(key.upper() if case_insensitive else key, index)
    return vocab


def evaluate_word_analogies(
    vectors: np.ndarray,
    index_to_key: Sequence[str],
    analogies: str | os.PathLike[str] | None = None,
    restrict_vocab: int | None = 300000,
    case_insensitive: bool = True,
    dummy4unknown: bool = False,
    similarity_function: str = "most_similar",
    norms: np.ndarray | None = None,
) -> tuple[float, list[dict[str, Any]]]:
    """Accuracy on "a is to b as c is to d" questions, like the C tool's compute-accuracy.

    For each question ``a b c d`` the answer is the key most similar to ``b + c - a``
    (among the first `restrict_vocab` keys, excluding the three question words and, when
    case-insensitive, their case variants); it counts as correct if it is ``d``.

    Parameters
    ----------
    vectors : numpy.ndarray
        ``(number of keys, dimensions)`` matrix, one row per key.
    index_to_key : sequence of str
        The key of each row, most frequent first.
    analogies : str or os.PathLike, optional
        File of questions, four words per line, in sections started by ``": name"``
        lines; by default the Google analogy set shipped with fastw2v.
    restrict_vocab : int or None
        Only the first `restrict_vocab` keys (the most frequent) are used, both to answer
        and to decide which questions are in vocabulary.
    case_insensitive : bool
        Compare words uppercased; the most frequent case variant of a key is used.
    dummy4unknown : bool
        Count questions with out-of-vocabulary words as wrong instead of skipping them.
    similarity_function : {'most_similar', 'most_similar_cosmul'}
        3CosAdd or 3CosMul (gensim always uses 3CosAdd).
    norms : numpy.ndarray, optional
        The Euclidean length of each row, if already known.

    Returns
    -------
    score : float
        Overall accuracy.
    sections : list of dict
        For each section and finally ``'Total accuracy'``: ``{'section': name,
        'correct': [(a, b, c, d), ...], 'incorrect': [...]}``.

    Raises
    ------
    ValueError
        For an unknown `similarity_function`, or questions before the first section header.

    Examples
    --------
    >>> import os, tempfile
    >>> vectors = np.array([[1, 1], [1, 0], [0, 1], [0.2, 1.5]], dtype=np.float32)
    >>> path = os.path.join(tempfile.mkdtemp(), "questions.txt")
    >>> _ = open(path, "w").write(": royalty\\nman king woman queen\\n")
    >>> score, sections = evaluate_word_analogies(vectors, ["king", "man", "woman", "queen"],
    ...                                           path)
    >>> score, sections[0]["correct"]
    (1.0, [('MAN', 'KING', 'WOMAN', 'QUEEN')])
    """
    if similarity_function not in ("most_similar", "most_similar_cosmul"):
        raise ValueError(
            "similarity_function must be 'most_similar' or 'most_similar_cosmul', "
            f"got {similarity_function!r}"
        )
    path = _DATA_DIR / "questions-words.txt" if analogies is None else analogies
    vocab = _restricted_vocab(index_to_key, restrict_vocab, case_insensitive)
    parsed_sections = _read_analogies(path, case_insensitive)
    norms = _norms_of(vectors, norms)
    end = min(restrict_vocab, len(vectors)) if restrict_vocab else len(vectors)

    questions = [question for _, section_questions in parsed_sections
                 for question in section_questions]
    answerable = [number for number, question in enumerate(questions)
                  if all(word in vocab for word in question)]
    rows = np.array([[vocab[word] for word in questions[number][:3]] for number in answerable],
                    dtype=np.int64).reshape(-1, 3)
    asked = [questions[number] for number in answerable]
    ranker = _Ranker(vectors, norms, index_to_key, end)
    if similarity_function == "most_similar":
        predicted = ranker.predict_3cosadd(rows, asked, vocab, case_insensitive)
    else:
        predicted = [
            _analogy_prediction(ranker.rank_3cosmul(row), question, case_insensitive)
            for row, question in zip(rows, asked)
        ]
    predictions = dict(zip(answerable, predicted))

    sections = []
    out_of_vocabulary = 0
    numbers = itertools.count()
    for name, section_questions in parsed_sections:
        section: dict[str, Any] = {"section": name, "correct": [], "incorrect": []}
        for question, number in zip(section_questions, numbers):
            if number in predictions:
                outcome = "correct" if predictions[number] == question[3] else "incorrect"
                section[outcome].append(question)
            else:
                out_of_vocabulary += 1
                if dummy4unknown:
                    section["incorrect"].append(question)
        _log_section(section)
        sections.append(section)
    total = {
        "section": "Total accuracy",
        "correct": list(itertools.chain.from_iterable(s["correct"] for s in sections)),
        "incorrect": list(itertools.chain.from_iterable(s["incorrect"] for s in sections)),
    }
    if questions:
        logger.info(
            "questions with out-of-vocabulary words: %.1f%%",
            100.0 * out_of_vocabulary / len(questions),
        )
    score = _log_section(total)
    sections.append(total)
    return score, sections


class _Ranker:
    """Analogy candidates among the first `end` rows, ranked as the similarity queries rank."""

    def __init__(
        self, vectors: np.ndarray, norms: np.ndarray, index_to_key: Sequence[str], end: int
    ):
        self.vectors = vectors
        self.norms = norms
        self.index_to_key = index_to_key
        self.end = end

    def rank_3cosadd(self, row: np.ndarray) -> list[str]:
        """The five best keys for one question, computed exactly as ``most_similar``."""
        index_a, index_b, index_c = (int(index) for index in row)
        terms = [
            (unit_row(self.vectors, self.norms, index_b), np.float64(1.0)),
            (unit_row(self.vectors, self.norms, index_c), np.float64(1.0)),
            (unit_row(self.vectors, self.norms, index_a), np.float64(-1.0)),
        ]
        query = weighted_mean(terms, self.vectors.shape[1], self.vectors.dtype, unit=True)
        similarities = row_similarities(self.vectors, self.norms, query, 0, self.end)
        excluded = {index_a, index_b, index_c}
        best = largest_first(similarities, _ANALOGY_TOPN + 3)
        return [self.index_to_key[i] for i in best if i not in excluded][:_ANALOGY_TOPN]

    def rank_3cosmul(self, row: np.ndarray) -> list[str]:
        """The five best keys for one question, computed exactly as ``most_similar_cosmul``."""
        index_a, index_b, index_c = (int(index) for index in row)
        scores = cosmul_scores(
            self.vectors,
            self.norms,
            [unit_row(self.vectors, self.norms, index_b),
             unit_row(self.vectors, self.norms, index_c)],
            [unit_row(self.vectors, self.norms, index_a)],
            self.end,
        )
        excluded = {index_a, index_b, index_c}
        best = largest_first(scores, _ANALOGY_TOPN + len(excluded))
        return [self.index_to_key[i] for i in best if i not in excluded][:_ANALOGY_TOPN]

    def predict_3cosadd(
        self,
        rows: np.ndarray,
        questions: Sequence[tuple[str, ...]],
        vocab: dict[str, int],
        case_insensitive: bool,
    ) -> list[str | None]:
        """Predicted answers to many questions, equal to those of :meth:`rank_3cosadd`.

        One matrix product scores a whole batch of questions, which is far faster than one
        matrix-vector product per question. Its rounding differs from the per-question
        product, so wherever two of the scores that decide an answer are closer than rounding
        could account for, that question is recomputed exactly: answers match gensim's.

        `rows` holds the rows of the words a, b, c of each question; `vocab` maps the
        (uppercased, if `case_insensitive`) first `end` keys to their rows.
        """
        end = self.end
        norms = self.norms[:end]
        # The batch needs six candidates besides the three question words.
        batchable = (
            self.vectors.dtype in (np.float32, np.float64)
            and end > _ANALOGY_TOPN + 3
            and bool(np.all(np.isfinite(norms)) and np.all(norms > 0))
        )
        if not batchable:
            return [
                _analogy_prediction(self.rank_3cosadd(row), question, case_insensitive)
                for row, question in zip(rows, questions)
            ]
        # Identify each key with the row its (uppercased) form maps to, so that comparing
        # answers, and spotting case variants of the question words, compares integers.
        answer_rows = np.array(
            [vocab[key.upper() if case_insensitive else key] for key in self.index_to_key[:end]]
        )
        # Both computations of a cosine of unit vectors err by at most about
        # vector_size * eps / 2; twice their combined worst case leaves a safety margin.
        tolerance = 4 * (self.vectors.shape[1] + 8) * np.finfo(np.float32).eps
        vectors = self.vectors[:end]
        batch_size = max(1, _ANALOGY_BATCH_SCORES // end)
        predictions: list[str | None] = []
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            positions = np.arange(len(batch))
            unit = self.vectors[batch] / self.norms[batch][..., np.newaxis]
            queries = unit[:, 1] + unit[:, 2] - unit[:, 0]
            queries /= np.linalg.norm(queries, axis=1, keepdims=True)
            scores = np.dot(queries, vectors.T)
            scores /= norms
            scores[positions[:, np.newaxis], batch] = -np.inf
            # A few passes of argmax find the best candidates faster than a partition.
            top = np.empty((len(batch), _ANALOGY_TOPN + 1), dtype=np.intp)
            top_scores = np.empty(top.shape, dtype=scores.dtype)
            for rank in range(_ANALOGY_TOPN + 1):
                top[:, rank] = np.argmax(scores, axis=1)
                top_scores[:, rank] = scores[positions, top[:, rank]]
                scores[positions, top[:, rank]] = -np.inf
            # The prediction is the first of five candidates that is not a question word,
            # or the fifth; the order up to it, and the gap after it, decide the answer.
            is_question_word = (
                answer_rows[top[:, :_ANALOGY_TOPN], np.newaxis] == batch[:, np.newaxis, :]
            ).any(axis=2)
            depth = np.where(
                is_question_word.all(axis=1), _ANALOGY_TOPN, np.argmin(is_question_word, axis=1) + 1
            )
            deciding = np.arange(_ANALOGY_TOPN) < depth[:, np.newaxis]
            gaps = top_scores[:, :-1] - top_scores[:, 1:]
            certain = np.all((gaps > tolerance) | ~deciding, axis=1)
            chosen = top[positions, depth - 1]
            for row, question, is_certain, index in zip(
                batch, questions[start : start + batch_size], certain, chosen
            ):
                if is_certain:
                    key = self.index_to_key[index]
                    predictions.append(key.upper() if case_insensitive else key)
                else:
                    candidates = self.rank_3cosadd(row)
                    predictions.append(_analogy_prediction(candidates, question, case_insensitive))
        return predictions


def evaluate_word_pairs(
    vectors: np.ndarray,
    index_to_key: Sequence[str],
    pairs: str | os.PathLike[str] | None = None,
    delimiter: str = "\t",
    encoding: str = "utf8",
    restrict_vocab: int | None = 300000,
    case_insensitive: bool = True,
    dummy4unknown: bool = False,
) -> tuple[Any, Any, float]:
    """Correlation of the vectors' similarities with human judgements of word pairs.

    Parameters
    ----------
    vectors : numpy.ndarray
        ``(number of keys, dimensions)`` matrix, one row per key.
    index_to_key : sequence of str
        The key of each row, most frequent first.
    pairs : str or os.PathLike, optional
        File of ``word1<delimiter>word2<delimiter>score`` lines (``#`` starts a comment);
        by default WordSim-353 shipped with fastw2v.
    delimiter : str
        Field separator.
    encoding : str
        Encoding of the file.
    restrict_vocab : int or None
        Only the first `restrict_vocab` keys count as known.
    case_insensitive : bool
        Compare words uppercased; the most frequent case variant of a key is used.
    dummy4unknown : bool
        Score pairs with unknown words as similarity 0 instead of skipping them.

    Returns
    -------
    pearson : scipy.stats PearsonRResult
        Pearson correlation and two-sided p-value (indexable as ``(r, p)``).
    spearman : scipy.stats SignificanceResult
        Spearman rank correlation and two-sided p-value (indexable as ``(rho, p)``).
    oov_ratio : float
        Percentage of pairs with unknown words.

    Raises
    ------
    ValueError
        If the file has no pair of known words (nor, with `dummy4unknown`, any valid line).

    Examples
    --------
    >>> import os, tempfile
    >>> vectors = np.array([[1, 0], [1, 0.2], [0, 1]], dtype=np.float32)
    >>> path = os.path.join(tempfile.mkdtemp(), "pairs.tsv")
    >>> _ = open(path, "w").write("a\\tb\\t9\\na\\tc\\t1\\nb\\tc\\t2\\na\\tzzz\\t5\\n")
    >>> pearson, spearman, oov = evaluate_word_pairs(vectors, ["a", "b", "c"], path)
    >>> round(float(spearman[0]), 3), oov
    (1.0, 25.0)
    """
    from scipy import stats

    path = _DATA_DIR / "wordsim353.tsv" if pairs is None else pairs
    vocab = _restricted_vocab(index_to_key, restrict_vocab, case_insensitive)
    similarity_gold: list[float] = []
    similarity_model: list[Any] = []
    out_of_vocabulary = 0
    with io.TextIOWrapper(_io.open_for_reading(path), encoding=encoding) as stream:
        for line_number, line in enumerate(stream, 1):
            if line.startswith("#"):
                continue
            try:
                fields = line.split(delimiter)
                if case_insensitive:
                    fields = [field.upper() for field in fields]
                word_a, word_b, score_text = fields
                score = float(score_text)
            except ValueError:
                logger.info("skipping invalid line %d in %s", line_number, path)
                continue
            if word_a not in vocab or word_b not in vocab:
                out_of_vocabulary += 1
                if dummy4unknown:
                    similarity_model.append(0.0)
                    similarity_gold.append(score)
                continue
            similarity_gold.append(score)
            similarity_model.append(
                np.dot(unit_vector(vectors[vocab[word_a]]), unit_vector(vectors[vocab[word_b]]))
            )
    if not similarity_gold:
        raise ValueError(
            f"No valid similarity judgements found in {path}: either invalid format or "
            f"all are out-of-vocabulary among the {len(index_to_key)} keys of the vectors"
        )
    spearman = stats.spearmanr(similarity_gold, similarity_model)
    pearson = stats.pearsonr(similarity_gold, similarity_model)
    if dummy4unknown:
        oov_ratio = float(out_of_vocabulary) / len(similarity_gold) * 100
    else:
        oov_ratio = float(out_of_vocabulary) / (len(similarity_gold) + out_of_vocabulary) * 100
    log_evaluate_word_pairs(pearson, spearman, oov_ratio, path)
    return pearson, spearman, oov_ratio


def log_evaluate_word_pairs(pearson: Any, spearman: Any, oov: float, pairs: Any) -> None:
    """Log the correlations and the unknown-pair percentage :func:`evaluate_word_pairs` found.

    Examples
    --------
    >>> log_evaluate_word_pairs((0.5, 0.01), (0.4, 0.02), 10.0, "pairs.tsv")
    """
    logger.info("Pearson correlation coefficient against %s: %.4f", pairs, pearson[0])
    logger.info("Spearman rank-order correlation coefficient against %s: %.4f", pairs, spearman[0])
    logger.info("Pairs with unknown words ratio: %.1f%%", oov)


def log_accuracy(section: dict[str, Any]) -> None:
    """Log the accuracy of one analogy section, if it has answered questions.

    Examples
    --------
    >>> log_accuracy({"section": "family", "correct": [("a", "b", "c", "d")], "incorrect": []})
    """
    _log_section(section)


def _analogy_prediction(
    candidates: list[str], question: tuple[str, ...], case_insensitive: bool
) -> str | None:
    """The first candidate that is not a question word (nor, if case-insensitive, a case
    variant of one).

    As in gensim only five candidates are examined and, when all five are question words,
    the last of them is the prediction.
    """
    prediction = None
    for candidate in candidates[:_ANALOGY_TOPN]:
        prediction = candidate.upper() if case_insensitive else candidate
        if prediction not in question[:3]:
            break
    return prediction


def _read_analogies(
    path: str | os.PathLike[str], case_insensitive: bool
) -> list[tuple[str, list[tuple[str, str, str, str]]]]:
    """Sections of an analogy file as (name, questions); malformed lines are skipped."""
    sections: list[tuple[str, list[tuple[str, str, str, str]]]] = []
    with _io.open_for_reading(path) as stream:
        for line_number, raw_line in enumerate(stream, 1):
            line = raw_line.decode("utf-8")
            if line.startswith(": "):
                sections.append((line.lstrip(": ").strip(), []))
                continue
            if not sections:
                raise ValueError(f"Missing section header before line #{line_number} in {path}")
            words = [word.upper() for word in line.split()] if case_insensitive else line.split()
            if len(words) != 4:
                logger.info("skipping invalid line #%d in %s", line_number, path)
                continue
            first, second, third, answer = words
            sections[-1][1].append((first, second, third, answer))
    return sections


def _log_section(section: dict[str, Any]) -> float:
    """Accuracy of one analogy section (0.0 when it has no answered questions), logged."""
    correct, incorrect = len(section["correct"]), len(section["incorrect"])
    if correct + incorrect == 0:
        return 0.0
    score = correct / (correct + incorrect)
    logger.info(
        "%s: %.1f%% (%d/%d)", section["section"], 100.0 * score, correct, correct + incorrect
    )
    return score
