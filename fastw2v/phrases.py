"""Phrase detection: join word pairs that occur together far more often than chance.

`Phrases` counts words and adjacent word pairs (bigrams) in a corpus, scores each bigram, and
rewrites sentences with the high-scoring pairs joined into one token (``new york`` becomes
``new_york``). Applying a second `Phrases`, trained on the output of the first, builds longer
phrases (``new_york city`` becomes ``new_york_city``). `FrozenPhrases` keeps only the detected
phrases, which is all that rewriting needs: smaller, faster, and no longer trainable.

The API is gensim-compatible (gensim 4's ``Phrases`` and ``FrozenPhrases``); the differences are
listed in the class docstrings. Models are saved as JSON, never pickled.

Examples
--------
>>> from fastw2v.phrases import Phrases
>>> colours = ["red", "blue", "green", "gold"]
>>> corpus = [[a, "new", "york", b] for a in colours for b in colours]
>>> bigram = Phrases(corpus, min_count=1, threshold=0.5)
>>> bigram[["we", "saw", "new", "york"]]
['we', 'saw', 'new_york']
>>> list(bigram[[["a", "new", "york", "hat"], ["york", "new"]]])
[['a', 'new_york', 'hat'], ['york', 'new']]
"""

from __future__ import annotations

import inspect
import itertools
import json
import logging
import math
import numbers
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, TypeVar, Union, cast

from fastw2v._io import atomic_write, require_regular_file

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "ENGLISH_CONNECTOR_WORDS",
    "FrozenPhrases",
    "Phrases",
    "npmi_scorer",
    "original_scorer",
]

logger = logging.getLogger(__name__)

#: Words that may sit inside an English phrase without ending it: ``bank_of_america``.
ENGLISH_CONNECTOR_WORDS = frozenset(
    {"a", "an", "the"}
    | {"for", "of", "with", "without", "at", "from", "to", "in", "on", "by"}
    | {"and", "or"}
)

_FORMAT = "fastw2v.phrases"
_FORMAT_VERSION = 1
_SCORER_PARAMETERS = (
    "worda_count",
    "wordb_count",
    "bigram_count",
    "len_vocab",
    "min_count",
    "corpus_word_count",
)

PathType = Union[str, "os.PathLike[str]"]
Scorer = Callable[..., float]


def original_scorer(
    worda_count: int,
    wordb_count: int,
    bigram_count: int,
    len_vocab: int,
    min_count: float,
    corpus_word_count: int,
) -> float:
    """Score a bigram with the word2phrase formula (Mikolov et al., 2013).

    ``(bigram_count - min_count) / (worda_count * wordb_count) * len_vocab``: how much more often
    the pair occurs than its words' frequencies predict, discounted so that rare pairs score low.

    Parameters
    ----------
    worda_count, wordb_count : int
        Occurrences of the first and of the last word of the bigram.
    bigram_count : int
        Occurrences of the bigram.
    len_vocab : int
        Number of distinct unigrams plus distinct bigrams counted.
    min_count : float
        Subtracted from `bigram_count`, so that a bigram seen `min_count` times or less scores
        zero or below.
    corpus_word_count : int
        Unused; accepted so that all scorers share one signature.

    Returns
    -------
    float
        The score, unbounded; ``-inf`` when a word count is zero.

    Examples
    --------
    >>> original_scorer(10, 20, 8, 1000, 5, 50000)
    15.0
    """
    if worda_count <= 0 or wordb_count <= 0:
        return -math.inf
    return (bigram_count - min_count) / (worda_count * wordb_count) * len_vocab


def npmi_scorer(
    worda_count: int,
    wordb_count: int,
    bigram_count: int,
    len_vocab: int,
    min_count: float,
    corpus_word_count: int,
) -> float:
    """Score a bigram with normalized pointwise mutual information (Bouma, 2009).

    ``ln(p(ab) / (p(a) p(b))) / -ln(p(ab))``, each probability being a count divided by
    `corpus_word_count`: 1 when the words only ever occur together, 0 when independent, -1 when
    they never meet.

    Parameters
    ----------
    worda_count, wordb_count : int
        Occurrences of the first and of the last word of the bigram.
    bigram_count : int
        Occurrences of the bigram.
    len_vocab : int
        Unused; accepted so that all scorers share one signature.
    min_count : float
        A bigram seen fewer times scores ``-inf``.
    corpus_word_count : int
        Number of words in the corpus, connector words included.

    Returns
    -------
    float
        The score, in [-1, 1], or ``-inf``.

    Examples
    --------
    >>> round(npmi_scorer(100, 100, 100, 0, 5, 10000), 6)
    1.0
    """
    if bigram_count < min_count or min(worda_count, wordb_count, bigram_count) <= 0:
        return -math.inf
    p_a = worda_count / corpus_word_count
    p_b = wordb_count / corpus_word_count
    p_ab = bigram_count / corpus_word_count
    return math.log(p_ab / (p_a * p_b)) / -math.log(p_ab)


_BUILTIN_SCORERS: dict[str, Scorer] = {"default": original_scorer, "npmi": npmi_scorer}


def _resolve_scorer(scoring: str | Scorer, threshold: float) -> Scorer:
    if isinstance(scoring, str):
        if scoring not in _BUILTIN_SCORERS:
            raise ValueError(f"scoring must be 'default', 'npmi' or a function, got {scoring!r}")
        if scoring == "default" and threshold <= 0:
            raise ValueError(f"threshold must be positive for 'default' scoring, got {threshold}")
        if scoring == "npmi" and not -1 <= threshold <= 1:
            raise ValueError(
                f"threshold must be within [-1, 1] for 'npmi' scoring, got {threshold}"
            )
        return _BUILTIN_SCORERS[scoring]
    if not callable(scoring):
        raise TypeError(f"scoring must be a str or a function, got {type(scoring).__name__}")
    parameters = inspect.signature(scoring).parameters
    takes_any_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    missing = [name for name in _SCORER_PARAMETERS if name not in parameters]
    if missing and not takes_any_keyword:
        raise ValueError(f"the scoring function lacks the keyword parameters {missing}")
    return scoring


def _is_integer(value: object) -> bool:
    # numpy integers count; True and False do not, though bool subclasses int.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    # As _is_integer, for any real number. It takes `object` because to the type checker a
    # float is no numbers.Real: an isinstance test of a float parameter would read as a dead end.
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_connector_words(connector_words: Iterable[str]) -> frozenset[str]:
    # A string is iterable too, and would silently become a set of single letters.
    if isinstance(connector_words, str):
        raise TypeError("connector_words must be a collection of words, not a single str")
    return frozenset(connector_words)


def _phrase_key(word_a: str, in_between: Iterable[str], word_b: str) -> tuple[str, ...]:
    return (word_a, *in_between, word_b)


# A word or a bigram: what the two count tables are keyed by.
_CountKey = TypeVar("_CountKey", str, tuple[str, ...])


def _add_counts(counts: dict[_CountKey, int], new_counts: dict[_CountKey, int]) -> None:
    for key, count in new_counts.items():
        counts[key] = counts.get(key, 0) + count


def _drop_counted_at_most(counts: dict[_CountKey, int], at_most: int) -> None:
    for key in [key for key, count in counts.items() if count <= at_most]:
        del counts[key]


class _PhrasedCorpus:
    """A corpus seen through a phrase detector, rewritten lazily at each iteration."""

    def __init__(self, transformer: _PhraseTransformer, corpus: Iterable[Iterable[str]]) -> None:
        self._transformer = transformer
        self._corpus = corpus

    def __iter__(self) -> Iterator[list[str]]:
        analyze = self._transformer.analyze_sentence
        for sentence in self._corpus:
            yield [token for token, _ in analyze(sentence)]


class _PhraseTransformer(ABC):
    """Rewriting and saving shared by `Phrases` and `FrozenPhrases`, which differ in what they
    keep: counts to score from, or only the scores."""

    delimiter: str
    threshold: float
    connector_words: frozenset[str]

    @abstractmethod
    def score_candidate(
        self, word_a: str, word_b: str, in_between: list[str]
    ) -> tuple[str, float] | tuple[None, None]:
        """Score the candidate phrase `word_a`, `in_between`..., `word_b`.

        Returns
        -------
        (str, float) or (None, None)
            The phrase joined by `delimiter` and its score when it is a phrase (its score is above
            `threshold`), else ``(None, None)``.
        """

    def analyze_sentence(self, sentence: Iterable[str]) -> Iterator[tuple[str, float | None]]:
        """Walk `sentence` left to right, joining detected phrases greedily.

        A phrase starts and ends with an ordinary word and may hold connector words in between.
        Each word is scored with the one after it (skipping connectors); once a pair is joined,
        its last word cannot start another phrase, so ``a b c`` becomes ``a_b c`` even when
        ``b c`` scores higher.

        Parameters
        ----------
        sentence : iterable of str
            The tokens of one sentence.

        Yields
        ------
        (str, float or None)
            ``(phrase, score)`` for each detected phrase, ``(token, None)`` for every other token.

        Examples
        --------
        >>> colours = ["red", "blue", "green", "gold"]
        >>> corpus = [[a, "new", "york", b] for a in colours for b in colours]
        >>> phrases = Phrases(corpus, min_count=1, threshold=0.5)
        >>> list(phrases.analyze_sentence(["red", "new", "york"]))
        [('red', None), ('new_york', 0.87890625)]
        """
        connectors = self.connector_words
        start: str | None = None
        in_between: list[str] = []
        for word in sentence:
            if word in connectors:
                if start is None:
                    yield word, None
                else:
                    in_between.append(word)
                continue
            if start is not None:
                phrase, score = self.score_candidate(start, word, in_between)
                if phrase is not None:
                    yield phrase, score
                    start, in_between = None, []
                    continue
                yield start, None
                for connector in in_between:
                    yield connector, None
                in_between = []
            start = word
        if start is not None:
            yield start, None
            for connector in in_between:
                yield connector, None

    def __getitem__(
        self, sentence: Iterable[str] | Iterable[Iterable[str]]
    ) -> list[str] | Iterable[list[str]]:
        """Rewrite one sentence, or every sentence of a corpus, with phrases joined.

        Parameters
        ----------
        sentence : iterable of str, or iterable of iterables of str
            One sentence (its first item is a str; an empty input counts as one empty sentence),
            or a corpus.

        Returns
        -------
        list of str, or iterable of list of str
            For a sentence, its tokens with phrases joined by `delimiter`. For a corpus, a lazy
            iterable rewriting each sentence as it is read; it can be iterated again whenever the
            corpus can (a list or a `LineSentence`, not a generator).

        Examples
        --------
        >>> colours = ["red", "blue", "green", "gold"]
        >>> corpus = [[a, "new", "york", b] for a in colours for b in colours]
        >>> phrases = Phrases(corpus, min_count=1, threshold=0.5)
        >>> phrases[["i", "like", "new", "york"]]
        ['i', 'like', 'new_york']
        >>> list(phrases[[["new", "york"], ["york", "new"]]])
        [['new_york'], ['york', 'new']]
        """
        iterator = iter(sentence)
        try:
            first = next(iterator)
        except StopIteration:
            return []
        items: Iterable[str | Iterable[str]] = sentence
        if iterator is sentence:
            # A one-shot iterator: `first` is gone from it, so put it back in front.
            items = itertools.chain((first,), iterator)
        if isinstance(first, str):
            # The first item says that the input is a sentence, all of str tokens: a narrowing
            # of `items` by one of its elements, which the type checker cannot follow.
            return [token for token, _ in self.analyze_sentence(cast("Iterable[str]", items))]
        return _PhrasedCorpus(self, items)

    def find_phrases(self, sentences: Iterable[Iterable[str]]) -> dict[str, float]:
        """Every phrase detected in `sentences`, with its score.

        Parameters
        ----------
        sentences : iterable of iterables of str
            The corpus to analyze.

        Returns
        -------
        dict of str to float
            Each distinct phrase, joined by `delimiter`, mapped to its score.

        Examples
        --------
        >>> colours = ["red", "blue", "green", "gold"]
        >>> corpus = [[a, "new", "york", b] for a in colours for b in colours]
        >>> phrases = Phrases(corpus, min_count=1, threshold=0.5)
        >>> phrases.find_phrases([["to", "new", "york"], ["red", "new", "car"]])
        {'new_york': 0.87890625}
        """
        found: dict[str, float] = {}
        for sentence in sentences:
            for token, score in self.analyze_sentence(sentence):
                if score is not None:
                    found[token] = score
        return found

    @abstractmethod
    def _header(self) -> dict[str, object]:
        """The settings to save, as JSON values."""

    @abstractmethod
    def _tables(self) -> dict[str, Iterable[list[object]]]:
        """The counts or scores to save, as rows of JSON values."""

    @classmethod
    @abstractmethod
    def _from_document(cls, document: dict) -> Self:
        """Rebuild a model from what `save` wrote."""

    @classmethod
    def _saved_class(cls, name: object) -> type[Phrases] | type[FrozenPhrases] | None:
        """The class that wrote a file whose ``"class"`` is `name`, or None if unknown."""
        # The class called on first: a subclass's file loads through that subclass.
        for known in (cls, Phrases, FrozenPhrases):
            if known.__name__ == name and issubclass(known, (Phrases, FrozenPhrases)):
                return known
        return None

    def save(self, path: PathType) -> None:
        """Save the model to `path` as a JSON document.

        The file is written under a temporary name in the same directory and renamed over `path`
        only once complete, so a crash never leaves a truncated model behind.

        Parameters
        ----------
        path : str or os.PathLike
            Where to write.

        Raises
        ------
        TypeError
            When the model is a `Phrases` with a custom scoring function, which JSON cannot hold;
            freeze it first, since `FrozenPhrases` keeps scores, not the function.
        OSError
            When `path` is a directory, a device, a FIFO or a read-only file, which a save never
            replaces (a symbolic link is followed, and the file it leads to replaced).

        Examples
        --------
        >>> import os, tempfile
        >>> phrases = Phrases([["new", "york"], ["old", "car"]] * 5, min_count=1, threshold=0.5)
        >>> path = os.path.join(tempfile.mkdtemp(), "phrases.json")
        >>> phrases.save(path)
        >>> Phrases.load(path)[["new", "york"]]
        ['new_york']
        """
        header = {"format": _FORMAT, "version": _FORMAT_VERSION, "class": type(self).__name__}
        header.update(self._header())
        tables = self._tables()
        with atomic_write(path, "w") as stream:
            _write_document(stream, header, tables)

    @classmethod
    def load(cls, path: PathType) -> Phrases | FrozenPhrases:
        """Load a model written by `save`, as the class that saved it.

        As in gensim, the file decides the class: ``Phrases.load`` of a file written by
        ``FrozenPhrases.save`` returns a `FrozenPhrases`, and the other way round.

        Parameters
        ----------
        path : str or os.PathLike
            A file written by ``save`` of `Phrases` or `FrozenPhrases` (or of a subclass,
            loaded through that subclass).

        Returns
        -------
        Phrases or FrozenPhrases
            An instance of the class that saved the file.

        Raises
        ------
        ValueError
            When the file is not UTF-8 JSON (or is nested too deeply to read), not a fastw2v
            phrase model, damaged, of an unknown format version, or saved by a class `load`
            does not know; also for a device or FIFO given as the file. The message names the
            file.

        Examples
        --------
        >>> import os, tempfile
        >>> phrases = Phrases([["new", "york"], ["old", "car"]] * 5, min_count=1, threshold=0.5)
        >>> frozen = phrases.freeze()
        >>> path = os.path.join(tempfile.mkdtemp(), "frozen.json")
        >>> frozen.save(path)
        >>> FrozenPhrases.load(path).phrasegrams == frozen.phrasegrams
        True
        """
        name = os.fsdecode(path)
        require_regular_file(name, "a saved fastw2v phrase model")
        try:
            with open(name, encoding="utf-8") as stream:
                document = json.load(stream)
        except UnicodeDecodeError as err:
            raise ValueError(f"{name!r} is not a saved fastw2v phrase model: not UTF-8 text "
                             f"({err})") from None
        except json.JSONDecodeError as err:
            raise ValueError(f"{name!r} is not a saved fastw2v phrase model: not valid JSON "
                             f"({err})") from None
        except RecursionError:
            raise ValueError(f"{name!r} is not a saved fastw2v phrase model: its JSON is "
                             f"nested too deeply to read") from None
        if not isinstance(document, dict) or document.get("format") != _FORMAT:
            raise ValueError(f"{name!r} is not a saved fastw2v phrase model")
        if document.get("version") != _FORMAT_VERSION:
            raise ValueError(
                f"{name!r} has format version {document.get('version')!r}; "
                f"this fastw2v reads version {_FORMAT_VERSION}"
            )
        saved_class = cls._saved_class(document.get("class"))
        if saved_class is None:
            raise ValueError(
                f"{name!r} holds a model of class {document.get('class')!r}, which "
                f"{cls.__name__}.load cannot rebuild; load it through that class"
            )
        try:
            return saved_class._from_document(document)
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as err:
            raise ValueError(f"{name!r} is a damaged fastw2v phrase model: {err!r}") from None


class Phrases(_PhraseTransformer):
    """Detect phrases from the counts of words and of adjacent word pairs.

    Parameters
    ----------
    sentences : iterable of iterables of str, optional
        Corpus to count now; more can be added later with `add_vocab`.
    min_count : float, optional
        With ``'default'`` scoring, subtracted from every bigram count, so that a bigram seen
        `min_count` times or less never scores above a positive threshold; with ``'npmi'``, a
        bigram seen fewer times is never a phrase. Word counts are not filtered by it.
    threshold : float, optional
        A bigram is a phrase when its score is strictly above this. Must be positive for
        ``'default'`` scoring and within [-1, 1] for ``'npmi'``.
    max_vocab_size : int, optional
        When more distinct words and bigrams than this are held, the rarest are dropped
        (see Notes), so memory stays bounded however large the corpus.
    delimiter : str, optional
        Joins the words of a phrase into one token.
    progress_per : int, optional
        Log progress every this many sentences while counting.
    scoring : {'default', 'npmi'} or callable, optional
        ``'default'`` is `original_scorer`, ``'npmi'`` is `npmi_scorer`. A function is called
        with the keyword arguments `worda_count`, `wordb_count`, `bigram_count`, `len_vocab`,
        `min_count` and `corpus_word_count` and returns a float.
    connector_words : collection of str, optional
        Words that may sit inside a phrase but never start or end one, and are not counted as
        words (``ENGLISH_CONNECTOR_WORDS`` gives ``bank_of_america``).

    Attributes
    ----------
    corpus_word_count : int
        Words counted so far, connector words included.
    vocab : dict of str to int
        Word and bigram counts in one dict (see the property).

    Raises
    ------
    ValueError
        When a parameter is out of its range.
    TypeError
        When `threshold`, `scoring` or `connector_words` is of the wrong type, such as a single
        str for `connector_words`.

    Notes
    -----
    Differences from gensim 4:

    * Bigram counts are keyed by word tuples, not by joined strings, so a token that already
      contains the delimiter (``new_york``, from an earlier pass) never mixes its count with a
      bigram's (``new`` + ``york``), and `freeze` keeps the phrases of a second pass
      (``new_york_city``), which gensim's ``freeze`` drops or scores wrongly because it splits
      the joined phrase at every delimiter. ``len_vocab`` is the number of distinct words plus
      distinct bigrams, which equals gensim's ``len(vocab)`` whenever no token contains the
      delimiter.
    * Pruning follows word2phrase: the first time the limit is passed, words and bigrams seen
      once are dropped, the next time those seen at most twice, and so on. gensim's first
      pruning drops nothing, so its memory overshoots the limit for one more sentence.
    * `save` writes JSON, not a pickle, and cannot store a custom scoring function.

    Examples
    --------
    >>> colours = ["red", "blue", "green", "gold"]
    >>> corpus = [[a, "new", "york", "city", b] for a in colours for b in colours]
    >>> bigram = Phrases(corpus, min_count=1, threshold=0.5)
    >>> bigram[["new", "york", "city"]]
    ['new_york', 'city']
    >>> trigram = Phrases(bigram[corpus], min_count=1, threshold=0.5)
    >>> trigram[bigram[["new", "york", "city"]]]
    ['new_york_city']
    """

    def __init__(
        self,
        sentences: Iterable[Iterable[str]] | None = None,
        min_count: float = 5,
        threshold: float = 10.0,
        max_vocab_size: int = 40_000_000,
        delimiter: str = "_",
        progress_per: int = 10000,
        scoring: str | Scorer = "default",
        connector_words: Iterable[str] = frozenset(),
    ) -> None:
        if not _is_real(min_count) or min_count <= 0:
            raise ValueError(f"min_count must be a positive number, got {min_count!r}")
        if not _is_real(threshold):
            raise TypeError(f"threshold must be a number, got {threshold!r}")
        if not math.isfinite(threshold):
            raise ValueError(f"threshold must be finite, got {threshold!r}")
        if not _is_integer(max_vocab_size) or max_vocab_size < 1:
            raise ValueError(f"max_vocab_size must be a positive integer, got {max_vocab_size!r}")
        if not isinstance(delimiter, str) or not delimiter:
            raise ValueError(f"delimiter must be a non-empty str, got {delimiter!r}")
        if not _is_integer(progress_per) or progress_per < 1:
            raise ValueError(f"progress_per must be a positive integer, got {progress_per!r}")
        self._scorer = _resolve_scorer(scoring, threshold)
        self.scoring = scoring
        # Plain Python numbers, so that numpy scalars given here still save as JSON.
        self.min_count = int(min_count) if _is_integer(min_count) else float(min_count)
        self.threshold = float(threshold)
        self.max_vocab_size = int(max_vocab_size)
        self.delimiter = delimiter
        self.progress_per = int(progress_per)
        self.connector_words = _check_connector_words(connector_words)
        self.corpus_word_count = 0
        self._word_counts: dict[str, int] = {}
        self._bigram_counts: dict[tuple[str, ...], int] = {}
        # Entries counted at most this many times go at the next pruning.
        self._prune_at_most = 1
        if sentences is not None:
            self.add_vocab(sentences)

    def __repr__(self) -> str:
        return (
            f"Phrases<{len(self._word_counts)} words, {len(self._bigram_counts)} bigrams, "
            f"min_count={self.min_count}, threshold={self.threshold}, "
            f"max_vocab_size={self.max_vocab_size}>"
        )

    @property
    def vocab(self) -> dict[str, int]:
        """Word counts and bigram counts (keyed by the delimiter-joined bigram) in one new dict.

        The layout gensim's ``Phrases.vocab`` has; a joined bigram equal to a word sums with it.
        Built at each access, so read it once rather than in a loop.
        """
        merged = dict(self._word_counts)
        for key, count in self._bigram_counts.items():
            phrase = self.delimiter.join(key)
            merged[phrase] = merged.get(phrase, 0) + count
        return merged

    def add_vocab(self, sentences: Iterable[Iterable[str]]) -> None:
        """Count the words and bigrams of more sentences.

        Parameters
        ----------
        sentences : iterable of iterables of str
            The corpus to add; read once.

        Examples
        --------
        >>> phrases = Phrases()
        >>> phrases.add_vocab([["new", "york"], ["new", "car"]])
        >>> phrases.add_vocab([["old", "york"]])
        >>> phrases.corpus_word_count, phrases.vocab["new_york"], phrases.vocab["york"]
        (6, 1, 2)
        """
        # Count into fresh dicts, pruned on their own scale, so that the new sentences' counts
        # are not pruned against the (much larger) counts already held.
        words, bigrams, word_total, prune_at_most = self._count(sentences)
        self.corpus_word_count += word_total
        self._prune_at_most = max(self._prune_at_most, prune_at_most)
        if not self._word_counts and not self._bigram_counts:
            self._word_counts, self._bigram_counts = words, bigrams
        else:
            _add_counts(self._word_counts, words)
            _add_counts(self._bigram_counts, bigrams)
            if self._size() > self.max_vocab_size:
                self._prune(self._word_counts, self._bigram_counts, self._prune_at_most)
                self._prune_at_most += 1
        logger.info("counted %d words; now %r", word_total, self)

    def _count(
        self, sentences: Iterable[Iterable[str]]
    ) -> tuple[dict[str, int], dict[tuple[str, ...], int], int, int]:
        connectors = self.connector_words
        words: dict[str, int] = {}
        bigrams: dict[tuple[str, ...], int] = {}
        word_total = 0
        prune_at_most = 1
        for sentence_number, sentence in enumerate(sentences):
            if isinstance(sentence, str):
                raise TypeError(
                    f"sentence #{sentence_number} is a str; each sentence must be a list of tokens"
                )
            if sentence_number % self.progress_per == 0:
                logger.info(
                    "PROGRESS: at sentence #%d, %d words, %d word and bigram types",
                    sentence_number,
                    word_total,
                    len(words) + len(bigrams),
                )
            previous: str | None = None
            in_between: list[str] = []
            for word in sentence:
                word_total += 1
                if word in connectors:
                    if previous is not None:
                        in_between.append(word)
                    continue
                words[word] = words.get(word, 0) + 1
                if previous is not None:
                    key = _phrase_key(previous, in_between, word)
                    bigrams[key] = bigrams.get(key, 0) + 1
                    if in_between:
                        in_between = []
                previous = word
            if len(words) + len(bigrams) > self.max_vocab_size:
                self._prune(words, bigrams, prune_at_most)
                prune_at_most += 1
        return words, bigrams, word_total, prune_at_most

    @staticmethod
    def _prune(words: dict[str, int], bigrams: dict[tuple[str, ...], int], at_most: int) -> None:
        before = len(words) + len(bigrams)
        _drop_counted_at_most(words, at_most)
        _drop_counted_at_most(bigrams, at_most)
        logger.info(
            "pruned words and bigrams counted at most %d times: %d -> %d entries",
            at_most,
            before,
            len(words) + len(bigrams),
        )

    def _size(self) -> int:
        return len(self._word_counts) + len(self._bigram_counts)

    def score_candidate(
        self, word_a: str, word_b: str, in_between: list[str]
    ) -> tuple[str, float] | tuple[None, None]:
        """Score the candidate phrase `word_a`, `in_between`..., `word_b` from the counts.

        Parameters
        ----------
        word_a, word_b : str
            First and last word of the candidate.
        in_between : list of str
            The connector words between them, usually none.

        Returns
        -------
        (str, float) or (None, None)
            The joined phrase and its score when the score is above `threshold`, else
            ``(None, None)``; also ``(None, None)`` when the bigram or a word was never counted.

        Examples
        --------
        >>> colours = ["red", "blue", "green", "gold"]
        >>> corpus = [[a, "new", "york", b] for a in colours for b in colours]
        >>> phrases = Phrases(corpus, min_count=1, threshold=0.5)
        >>> phrases.score_candidate("new", "york", [])
        ('new_york', 0.87890625)
        >>> phrases.score_candidate("red", "new", [])
        (None, None)
        """
        key = _phrase_key(word_a, in_between, word_b)
        bigram_count = self._bigram_counts.get(key, 0)
        if bigram_count <= 0:
            return None, None
        worda_count = self._word_counts.get(word_a, 0)
        wordb_count = self._word_counts.get(word_b, 0)
        if worda_count <= 0 or wordb_count <= 0:
            return None, None
        score = self._scorer(
            worda_count=worda_count,
            wordb_count=wordb_count,
            bigram_count=bigram_count,
            len_vocab=self._size(),
            min_count=self.min_count,
            corpus_word_count=self.corpus_word_count,
        )
        if score > self.threshold:
            return self.delimiter.join(key), score
        return None, None

    def _scored_phrases(self) -> Iterator[tuple[tuple[str, ...], float]]:
        for key in list(self._bigram_counts):
            scored = self.score_candidate(key[0], key[-1], list(key[1:-1]))
            # Tested whole, not unpacked, so that a phrase found carries a float score.
            if scored[0] is not None:
                yield key, scored[1]

    def export_phrases(self) -> dict[str, float]:
        """Every counted bigram that scores above `threshold`, with its score.

        Returns
        -------
        dict of str to float
            Phrases joined by `delimiter`, mapped to their scores.

        Examples
        --------
        >>> colours = ["red", "blue", "green", "gold"]
        >>> corpus = [[a, "new", "york", b] for a in colours for b in colours]
        >>> phrases = Phrases(corpus, min_count=1, threshold=0.5)
        >>> phrases.export_phrases()
        {'new_york': 0.87890625}
        """
        return {self.delimiter.join(key): score for key, score in self._scored_phrases()}

    def freeze(self) -> FrozenPhrases:
        """A `FrozenPhrases` that rewrites sentences exactly like this model does now.

        Returns
        -------
        FrozenPhrases
            Holds only the phrases and their scores: much smaller, and faster to apply.

        Examples
        --------
        >>> colours = ["red", "blue", "green", "gold"]
        >>> corpus = [[a, "new", "york", b] for a in colours for b in colours]
        >>> phrases = Phrases(corpus, min_count=1, threshold=0.5)
        >>> phrases.freeze()[["in", "new", "york"]]
        ['in', 'new_york']
        """
        return FrozenPhrases(self)

    def _header(self) -> dict[str, object]:
        if not isinstance(self.scoring, str):
            raise TypeError(
                "a Phrases model with a custom scoring function cannot be saved as JSON; "
                "save its freeze() instead, or use scoring='default' or 'npmi'"
            )
        return {
            "min_count": self.min_count,
            "threshold": self.threshold,
            "max_vocab_size": self.max_vocab_size,
            "delimiter": self.delimiter,
            "progress_per": self.progress_per,
            "scoring": self.scoring,
            "connector_words": sorted(self.connector_words),
            "corpus_word_count": self.corpus_word_count,
            "prune_at_most": self._prune_at_most,
        }

    def _tables(self) -> dict[str, Iterable[list[object]]]:
        return {
            "words": ([word, count] for word, count in self._word_counts.items()),
            "bigrams": ([list(key), count] for key, count in self._bigram_counts.items()),
        }

    @classmethod
    def _from_document(cls, document: dict) -> Phrases:
        phrases = cls(
            min_count=document["min_count"],
            threshold=document["threshold"],
            max_vocab_size=document["max_vocab_size"],
            delimiter=document["delimiter"],
            progress_per=document["progress_per"],
            scoring=document["scoring"],
            connector_words=document["connector_words"],
        )
        phrases.corpus_word_count = document["corpus_word_count"]
        phrases._prune_at_most = document["prune_at_most"]
        phrases._word_counts = {word: count for word, count in document["words"]}
        phrases._bigram_counts = {tuple(key): count for key, count in document["bigrams"]}
        return phrases


class FrozenPhrases(_PhraseTransformer):
    """The phrases detected by a `Phrases` model, and their scores, without the counts.

    Rewrites sentences exactly like the `Phrases` it came from did when frozen, in a fraction of
    the memory; it cannot learn from more sentences.

    Parameters
    ----------
    phrases_model : Phrases
        The model to take the phrases from.

    Attributes
    ----------
    threshold : float
        A stored phrase is applied only while its score is above this; raise it to apply fewer.
    min_count, delimiter, scoring, connector_words
        As in the `Phrases` model. `scoring` is ``None`` after loading a model whose scoring was
        a function, as functions are not saved.

    Examples
    --------
    >>> colours = ["red", "blue", "green", "gold"]
    >>> corpus = [[a, "new", "york", b] for a in colours for b in colours]
    >>> frozen = FrozenPhrases(Phrases(corpus, min_count=1, threshold=0.5))
    >>> frozen[["new", "york", "new", "car"]]
    ['new_york', 'new', 'car']
    """

    def __init__(self, phrases_model: Phrases) -> None:
        self.threshold = phrases_model.threshold
        self.min_count = phrases_model.min_count
        self.delimiter = phrases_model.delimiter
        self.scoring: str | Scorer | None = phrases_model.scoring
        self.connector_words = phrases_model.connector_words
        self._scores = dict(phrases_model._scored_phrases())

    def __repr__(self) -> str:
        return (
            f"FrozenPhrases<{len(self._scores)} phrases, "
            f"min_count={self.min_count}, threshold={self.threshold}>"
        )

    @property
    def phrasegrams(self) -> dict[str, float]:
        """Each phrase, joined by `delimiter`, mapped to its score (a new dict at each access)."""
        return {self.delimiter.join(key): score for key, score in self._scores.items()}

    def score_candidate(
        self, word_a: str, word_b: str, in_between: list[str]
    ) -> tuple[str, float] | tuple[None, None]:
        """Look the candidate phrase `word_a`, `in_between`..., `word_b` up.

        Parameters
        ----------
        word_a, word_b : str
            First and last word of the candidate.
        in_between : list of str
            The connector words between them, usually none.

        Returns
        -------
        (str, float) or (None, None)
            The joined phrase and its stored score when it is a phrase with a score above
            `threshold`, else ``(None, None)``.

        Examples
        --------
        >>> colours = ["red", "blue", "green", "gold"]
        >>> corpus = [[a, "new", "york", b] for a in colours for b in colours]
        >>> frozen = Phrases(corpus, min_count=1, threshold=0.5).freeze()
        >>> frozen.score_candidate("new", "york", [])
        ('new_york', 0.87890625)
        """
        key = _phrase_key(word_a, in_between, word_b)
        score = self._scores.get(key)
        if score is not None and score > self.threshold:
            return self.delimiter.join(key), score
        return None, None

    def _header(self) -> dict[str, object]:
        return {
            "min_count": self.min_count,
            "threshold": self.threshold,
            "delimiter": self.delimiter,
            "scoring": self.scoring if isinstance(self.scoring, str) else None,
            "connector_words": sorted(self.connector_words),
        }

    def _tables(self) -> dict[str, Iterable[list[object]]]:
        return {"phrases": ([list(key), score] for key, score in self._scores.items())}

    @classmethod
    def _from_document(cls, document: dict) -> FrozenPhrases:
        # Loading has no Phrases model to take from, so fill the instance directly.
        frozen = cls.__new__(cls)
        frozen.threshold = document["threshold"]
        frozen.min_count = document["min_count"]
        frozen.delimiter = document["delimiter"]
        frozen.scoring = document["scoring"]
        frozen.connector_words = frozenset(document["connector_words"])
        frozen._scores = {tuple(key): score for key, score in document["phrases"]}
        return frozen


def _write_document(
    stream: IO[str], header: dict[str, object], tables: dict[str, Iterable[list[object]]]
) -> None:
    # A table can hold tens of millions of rows: encode them one at a time rather than
    # building the whole document in memory. Each row gets its own line, for readable diffs.
    encode = json.JSONEncoder(allow_nan=False).encode
    stream.write(encode(header)[:-1])
    for name, rows in tables.items():
        stream.write(f", {encode(name)}: [")
        separator = "\n"
        for row in rows:
            stream.write(separator)
            stream.write(encode(row))
            separator = ",\n"
        stream.write("\n]")
    stream.write("}\n")
