"""Vocabulary: counting, pruning, sorting, subsampling thresholds, noise weights, Huffman codes."""

from __future__ import annotations

import heapq
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

#: Return values of a `trim_rule(word, count, min_count)`, as in gensim.
RULE_DEFAULT = 0
RULE_DISCARD = 1
RULE_KEEP = 2

TrimRule = Optional[Callable[[str, int, int], int]]

# Keep thresholds compare against 32 random bits: 2**32 means "always keep".
ALWAYS_KEEP = 1 << 32


@dataclass
class CorpusScan:
    """What one pass over a corpus found: raw counts in first-seen order, and its size."""

    counts: dict
    corpus_count: int
    total_words: int
    min_reduce: int = 1


def keep_vocab_item(word: str, count: int, min_count: int, trim_rule: TrimRule = None) -> bool:
    """Whether `word` survives `min_count`, unless `trim_rule` decides otherwise."""
    default = count >= min_count
    if trim_rule is None:
        return default
    rule = trim_rule(word, count, min_count)
    if rule == RULE_KEEP:
        return True
    if rule == RULE_DISCARD:
        return False
    return default


def _prune_by_count(counts: dict, min_reduce: int) -> None:
    for word in [w for w, c in counts.items() if c < min_reduce]:
        del counts[word]


def scan_sentences(sentences: Iterable, max_vocab_size: int | None = None) -> CorpusScan:
    """Count the words of an iterable of token lists.

    With `max_vocab_size`, the rarest words are pruned whenever the table grows past it at the
    end of a sentence (each time with a higher cut-off), so memory stays bounded on corpora with
    huge vocabularies. Pruning goes by count alone, as in `scan_corpus_file`, so both give the
    same vocabulary for the same corpus; `trim_rule` applies when the final vocabulary is chosen.
    """
    counts: Counter = Counter()
    min_reduce = 1
    corpus_count = 0
    total_words = 0
    from fastw2v._corpus import sentence_tokens

    for index, sentence in enumerate(sentences):
        tokens = sentence_tokens(sentence, index)
        try:
            counts.update(tokens)
        except TypeError:
            bad = next(t for t in tokens if not isinstance(t, str))
            raise TypeError(f"sentence {index} holds a token of type {type(bad).__name__} "
                            f"({bad!r}); tokens must be str") from None
        total_words += len(tokens)
        corpus_count += 1
        if max_vocab_size and len(counts) > max_vocab_size:
            _prune_by_count(counts, min_reduce)
            min_reduce += 1
    for key in counts:
        if not isinstance(key, str):
            raise TypeError(f"tokens must be str, found {type(key).__name__} token {key!r}")
    return CorpusScan(dict(counts), corpus_count, total_words, min_reduce)


def scan_corpus_file(path: str | os.PathLike, max_vocab_size: int | None = None,
                     max_sentence_length: int | None = None, threads: int = 1) -> CorpusScan:
    """Count the words of a corpus file: one sentence per line, tokens split on ASCII whitespace.

    Counted in C with the same tokenisation as the compiled corpus-file trainer, so both agree
    on every word; `max_vocab_size` prunes as `scan_sentences` does. Up to `threads` threads
    count line-aligned parts of a large file at once, with the same result as one.
    """
    from fastw2v import _corpus

    items, total_words, sentences, min_reduce = count_file(
        path, max_vocab_size, max_sentence_length or _corpus.MAX_SENTENCE_LENGTH, threads)
    counts: dict[str, int] = {}
    add_decoded_counts(counts, path, items)
    return CorpusScan(counts, sentences, total_words, min_reduce)


def add_decoded_counts(counts: dict[str, int], path: str | os.PathLike, items: Iterable) -> None:
    """Add a compiled count's (bytes, count) items to `counts`, keyed by the decoded word, in
    their order; a token that is not UTF-8 is an error that names the file."""
    for key, count in items:
        try:
            word = key.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"corpus file {os.fspath(path)!r} is not valid UTF-8 "
                             f"(token {key[:40]!r}: {error.reason})") from None
        counts[word] = counts.get(word, 0) + count


#: Bytes of corpus per counting thread below which one thread counts alone.
PARALLEL_COUNT_BYTES = 8 << 20


def count_file(path: str | os.PathLike, max_vocab_size: int | None, max_sentence_length: int,
               threads: int, start: int = 0, end: int | None = None) -> tuple:
    """`_count.count_file_words` of bytes [start, end) of a corpus file (to its end by default),
    in up to `threads` threads when it is large and there is no `max_vocab_size`."""
    from fastw2v import _count

    ranges = None if max_vocab_size else count_ranges(path, threads, start, end)
    if ranges:
        return _count.count_file_ranges(path, ranges, max_sentence_length)
    return _count.count_file_words(path, max_vocab_size or 0, max_sentence_length, start, end)


def count_ranges(path: str | os.PathLike, threads: int, start: int = 0,
                 end: int | None = None) -> list[tuple[int, int]] | None:
    """Bytes [start, end) of a corpus file (to its end by default) cut into up to `threads`
    ranges that each start right after a newline, so that together they hold the same sentences;
    None when one thread should count it (too few bytes for two, or no newline near a cut)."""
    from fastw2v import _corpus

    try:
        end = os.path.getsize(path) if end is None else end
    except OSError:
        return None  # the count names the file
    threads = min(threads, (end - start) // PARALLEL_COUNT_BYTES)
    if threads < 2:
        return None
    ranges = _corpus.line_ranges(path, threads, start, end, lines_only=True)
    if ranges is None or any(first >= last for first, last in ranges):
        return None
    return ranges


def effective_min_count(counts: dict, min_count: int, max_final_vocab: int | None) -> int:
    """`min_count`, raised if needed so that at most `max_final_vocab` words remain."""
    if not max_final_vocab or max_final_vocab >= len(counts):
        return min_count
    ranked = sorted(counts.values(), reverse=True)
    return max(min_count, ranked[max_final_vocab] + 1)


def select_words(counts: dict, min_count: int, trim_rule: TrimRule = None,
                 sorted_vocab: bool = True) -> list[str]:
    """Words that survive `min_count`/`trim_rule`: by descending count, and words of equal
    count in the reverse of the order in which they were first seen, as gensim sorts them."""
    words = [w for w, c in counts.items() if keep_vocab_item(w, c, min_count, trim_rule)]
    if sorted_vocab:
        # A stable sort of the reversed list: the order gensim's lexsort gives. It decides which
        # words a cut by rank keeps (restrict_vocab, an analogy set's "30,000 most frequent").
        words.reverse()
        words.sort(key=counts.__getitem__, reverse=True)
    return words


def grown_vocabulary(index_to_key: list, old_counts: np.ndarray, counts: dict, min_count: int,
                     trim_rule: TrimRule = None, sorted_vocab: bool = True
                     ) -> tuple[list[str], np.ndarray]:
    """The vocabulary after an update with the new corpus's `counts`: known words keep their
    place and add their new counts; new words that survive `min_count`/`trim_rule` follow, by
    descending count when `sorted_vocab`. Returns (words, counts)."""
    known = {w: i for i, w in enumerate(index_to_key)}
    merged = np.array(old_counts, dtype=np.int64, copy=True)
    new_words = []
    for word, count in counts.items():
        index = known.get(word)
        if index is not None:
            merged[index] += count
        elif keep_vocab_item(word, count, min_count, trim_rule):
            new_words.append(word)
    if sorted_vocab:
        new_words.sort(key=counts.__getitem__, reverse=True)
    words = list(index_to_key) + new_words
    return words, np.concatenate([merged, np.array([counts[w] for w in new_words],
                                                   dtype=np.int64)])


def keep_thresholds(counts: np.ndarray, sample: float) -> np.ndarray:
    """Per-word subsampling thresholds on 32 random bits (word2vec.c's formula).

    A word seen c times is kept with probability min(1, (sqrt(c / t) + 1) * t / c), where
    t = sample * the vocabulary's total count. A `sample` >= 1 is gensim's shorthand for a count:
    t = int(sample * (3 + sqrt(5)) / 2), which downsamples the words seen more than
    t * (3 + sqrt(5)) / 2 times.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if not sample or counts.size == 0:
        return np.full(counts.shape, ALWAYS_KEEP, dtype=np.uint64)
    if sample >= 1.0:
        threshold_count = float(int(sample * (3 + np.sqrt(5)) / 2))
    else:
        threshold_count = sample * counts.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        probability = (np.sqrt(counts / threshold_count) + 1.0) * (threshold_count / counts)
    probability = np.where(counts > 0, np.minimum(probability, 1.0), 1.0)
    return np.round(probability * ALWAYS_KEEP).astype(np.uint64)


def keep_probability(thresholds: np.ndarray) -> np.ndarray:
    """The keep probability each threshold stands for."""
    return np.asarray(thresholds, dtype=np.float64) / ALWAYS_KEEP


def noise_weights(counts: np.ndarray, ns_exponent: float) -> np.ndarray:
    """Unnormalised noise distribution count ** ns_exponent (a uniform one for exponent 0)."""
    return np.power(np.asarray(counts, dtype=np.float64), ns_exponent)


def huffman_paths(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Huffman tree over the word counts, flattened for the kernels.

    Returns (points, codes, offsets): word w's path from the root is inner nodes
    points[offsets[w]:offsets[w + 1]] (rows of syn1) with branch bits codes[...] (0 left, 1 right).
    Ties between equal counts break on node index, so the tree is deterministic.
    """
    size = len(counts)
    if size < 2:
        # One word needs no decision: give it a single node so that it still gets trained.
        return (np.zeros(size, dtype=np.int32), np.zeros(size, dtype=np.uint8),
                np.arange(size + 1, dtype=np.int64))
    heap = [(int(c), i) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    parent = np.empty(2 * size - 1, dtype=np.int64)
    branch = np.zeros(2 * size - 1, dtype=np.uint8)
    next_node = size
    while len(heap) > 1:
        count_a, a = heapq.heappop(heap)
        count_b, b = heapq.heappop(heap)
        parent[a] = parent[b] = next_node
        branch[b] = 1
        heapq.heappush(heap, (count_a + count_b, next_node))
        next_node += 1
    root = 2 * size - 2
    # Parents are created after their children, so walking node ids downwards visits every
    # parent before its children and each path is its parent's path plus one step.
    code_paths: list = [None] * (2 * size - 1)
    point_paths: list = [None] * (2 * size - 1)
    code_paths[root] = []
    point_paths[root] = []
    parent_list = parent.tolist()
    branch_list = branch.tolist()
    for node in range(root - 1, -1, -1):
        up = parent_list[node]
        code_paths[node] = code_paths[up] + [branch_list[node]]
        point_paths[node] = point_paths[up] + [up - size]
    lengths = np.fromiter((len(code_paths[w]) for w in range(size)), dtype=np.int64, count=size)
    offsets = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    codes = np.fromiter((b for w in range(size) for b in code_paths[w]), dtype=np.uint8,
                        count=int(offsets[-1]))
    points = np.fromiter((p for w in range(size) for p in point_paths[w]), dtype=np.int32,
                         count=int(offsets[-1]))
    return points, codes, offsets
