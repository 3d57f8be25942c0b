"""Vocabulary counting, pruning, subsampling thresholds and Huffman codes."""

import heapq

import numpy as np
import pytest

from fastw2v import _kernels, _objectives, _sampling
from fastw2v import _vocab as vocab_mod
from fastw2v._config import TrainingConfig


def test_scan_counts_words_and_sentences():
    scan = vocab_mod.scan_sentences([["a", "b", "a"], [], ["c", "a"]])
    assert scan.counts == {"a": 3, "b": 1, "c": 1}
    assert (scan.corpus_count, scan.total_words) == (3, 5)


def test_scan_rejects_strings_and_non_str_tokens():
    with pytest.raises(TypeError, match="sentence 1 is a str"):
        vocab_mod.scan_sentences([["a"], "not tokens"])
    with pytest.raises(TypeError, match="tokens must be str"):
        vocab_mod.scan_sentences([["a", 3]])


def test_max_vocab_size_prunes_rare_words_during_the_scan():
    sentences = [["common"] * 5 + [f"rare{i}"] for i in range(1000)]
    scan = vocab_mod.scan_sentences(sentences, max_vocab_size=50)
    assert len(scan.counts) <= 51
    assert scan.counts["common"] == 5000


def test_selection_order_min_count_trim_rule_and_max_final_vocab():
    counts = {"b": 3, "a": 5, "c": 3, "d": 1, "e": 3}
    # Ties in the reverse of the order first seen, as gensim sorts them.
    assert vocab_mod.select_words(counts, 2) == ["a", "e", "c", "b"]
    assert vocab_mod.select_words(counts, 2, sorted_vocab=False) == ["b", "a", "c", "e"]

    def keep_d_drop_a(word, count, min_count):
        return {"d": vocab_mod.RULE_KEEP, "a": vocab_mod.RULE_DISCARD}.get(
            word, vocab_mod.RULE_DEFAULT)

    assert vocab_mod.select_words(counts, 2, keep_d_drop_a) == ["e", "c", "b", "d"]
    # max_final_vocab raises min_count past the tie at the cut, as gensim does.
    assert vocab_mod.effective_min_count(counts, 1, 2) == 4
    assert vocab_mod.effective_min_count(counts, 1, 10) == 1


def test_keep_thresholds_follow_the_word2vec_formula():
    counts = np.array([10_000, 1000, 100, 10, 1])
    sample = 1e-3
    t = sample * counts.sum()
    expected = np.minimum((np.sqrt(counts / t) + 1) * t / counts, 1.0)
    np.testing.assert_allclose(vocab_mod.keep_probability(
        vocab_mod.keep_thresholds(counts, sample)), expected, rtol=1e-9)
    assert np.all(vocab_mod.keep_thresholds(counts, 0) == vocab_mod.ALWAYS_KEEP)


def test_kept_fraction_per_word_matches_the_formula():
    counts = np.array([50_000, 20_000, 5_000, 500, 50], dtype=np.int64)
    thresholds = vocab_mod.keep_thresholds(counts, 1e-3)
    syn = np.zeros((len(counts), 4), dtype=np.float32)
    config = TrainingConfig(sg=1, negative=1, window=2, vector_size=4)
    trainer = _kernels.Trainer(config, syn, thresholds, [_objectives.NegativeSampling(
        syn.copy(), _sampling.build_alias_table(counts), 1)])
    worker = _kernels.WorkerState(trainer, 11)
    trials = 200_000
    ids = np.repeat(np.arange(len(counts), dtype=np.int32), trials)
    kept = np.bincount(trainer.subsample_ids(worker, ids), minlength=len(counts)) / trials
    p = vocab_mod.keep_probability(thresholds)
    standard_error = np.sqrt(p * (1 - p) / trials)
    assert np.all(np.abs(kept - p) <= 5 * standard_error + 1e-9)
    assert p[0] < 0.5 and p[-1] == 1.0


def huffman_cost(counts):
    heap = list(counts)
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        cost += merged
        heapq.heappush(heap, merged)
    return cost


def test_huffman_codes_are_optimal_prefix_free_and_index_inner_nodes():
    counts = np.array([45, 13, 12, 16, 9, 5, 5, 1])
    points, codes, offsets = vocab_mod.huffman_paths(counts)
    paths = [tuple(codes[offsets[w]:offsets[w + 1]]) for w in range(len(counts))]
    for a in paths:
        for b in paths:
            assert a == b or a != b[:len(a)]
    lengths = np.diff(offsets)
    assert int(np.dot(lengths, counts)) == huffman_cost(counts)
    assert points.min() >= 0 and points.max() == len(counts) - 2
    assert all(points[offsets[w]] == len(counts) - 2 for w in range(len(counts)))  # the root
    assert lengths[0] == lengths.min()


def test_huffman_of_one_word_still_has_a_path():
    points, codes, offsets = vocab_mod.huffman_paths(np.array([7]))
    assert list(offsets) == [0, 1]


def test_corpus_file_counts_equal_python_split_counts(tmp_path):
    from collections import Counter

    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in rng.integers(0, 120_000, 400_000)]
    lines, position = [], 0
    while position < len(words):
        step = int(rng.integers(0, 30))
        lines.append(" \t".join(["common", *words[position:position + step]]))
        position += step
    text = "\n".join(lines) + "\r\n\x0b\x0cx" * 3 + "\n" + "y" * 4096 + " tail"
    path = tmp_path / "c.txt"
    path.write_bytes(text.encode())
    expected = Counter(text.encode().split())
    scan = vocab_mod.scan_corpus_file(path)
    assert scan.total_words == sum(expected.values())
    assert scan.counts == {k.decode(): v for k, v in expected.items()}
    assert list(scan.counts)[:50] == list(dict.fromkeys(text.split()))[:50]  # first-seen order
    pruned = vocab_mod.scan_corpus_file(path, max_vocab_size=5000)
    assert len(pruned.counts) <= 5000 and pruned.min_reduce > 1
    # A pruned word that comes back starts counting again: counts are lower bounds.
    assert all(0 < c <= expected[w.encode()] for w, c in pruned.counts.items())
    assert pruned.counts["common"] == expected[b"common"]


@pytest.mark.parametrize("threads", [2, 3, 7])
def test_counting_in_threads_gives_one_pass_result(tmp_path, monkeypatch, threads):
    from fastw2v import _count

    rng = np.random.default_rng(threads)
    lines = []
    for _ in range(3000):
        words = [f"w{i}" for i in rng.zipf(1.3, int(rng.integers(0, 40))) % 5000]
        lines.append(rng.choice([" ", "\t", "  ", " \x0b"]).join(words))
    lines[100] = " ".join(["long"] * 95)  # several sentences of max_sentence_length words
    text = ("\n".join(lines) + "\r\n\n\n").encode()
    path = tmp_path / "c.txt"
    path.write_bytes(text)
    calls = []
    original = _count.count_file_ranges
    monkeypatch.setattr(_count, "count_file_ranges", lambda p, ranges, *a: (
        calls.append(len(ranges)), original(p, ranges, *a))[1])
    one = vocab_mod.scan_corpus_file(path, max_sentence_length=20)
    monkeypatch.setattr(vocab_mod, "PARALLEL_COUNT_BYTES", len(text) // (threads + 1))
    parts = vocab_mod.scan_corpus_file(path, max_sentence_length=20, threads=threads)
    assert calls == [threads]
    assert list(parts.counts.items()) == list(one.counts.items())  # first-seen order too
    assert (parts.total_words, parts.corpus_count) == (one.total_words, one.corpus_count)
    assert one.total_words == len(text.split())
    # With max_vocab_size the count prunes as it goes, which one pass alone gives.
    vocab_mod.scan_corpus_file(path, max_vocab_size=100, threads=threads)
    assert calls == [threads]


def test_counting_in_threads_falls_back_to_one_where_no_line_ends_near_a_cut(
        tmp_path, monkeypatch):
    from fastw2v import _count

    path = tmp_path / "one_line.txt"
    path.write_bytes(b" ".join(b"w%d" % (i % 97) for i in range(20_000)))
    monkeypatch.setattr(vocab_mod, "PARALLEL_COUNT_BYTES", 1000)
    monkeypatch.setattr(_count, "count_file_ranges", None)  # must not be called
    scan = vocab_mod.scan_corpus_file(path, max_sentence_length=1000, threads=4)
    assert (scan.total_words, scan.corpus_count) == (20_000, 20)


def test_counting_in_threads_reports_the_first_bad_token_of_the_file(tmp_path, monkeypatch):
    from fastw2v import _count

    path = tmp_path / "c.txt"
    lines = [b"a b c"] * 2000
    lines[500] = b"x " + b"y" * 5000
    lines[1500] = b"z" * 6000
    path.write_bytes(b"\n".join(lines) + b"\n")
    monkeypatch.setattr(vocab_mod, "PARALLEL_COUNT_BYTES", 2000)
    monkeypatch.setattr(_count, "count_file_words", None)  # the threads count it
    with pytest.raises(ValueError, match=rf"{path.name}.*5,000 bytes at byte {500 * 6 + 2:,}\b"):
        vocab_mod.scan_corpus_file(path, threads=4)


def test_a_token_too_long_for_the_reader_is_an_error_not_a_drop(tmp_path):
    from fastw2v import Word2Vec

    path = tmp_path / "c.txt"
    head = b"a b c\nd "
    path.write_bytes(head + b"y" * 4097 + b" e\n")
    message = rf"{path.name}.*4,097 bytes at byte {len(head)}\b"
    with pytest.raises(ValueError, match=message):
        vocab_mod.scan_corpus_file(path)
    # Training on a file whose vocabulary came from elsewhere stops at the token too.
    model = Word2Vec(min_count=1, vector_size=4, workers=1)
    model.build_vocab([["a", "b", "c", "d", "e"]])
    with pytest.raises(ValueError, match=message):
        model.train(corpus_file=str(path), total_words=6, epochs=1)


def test_corpus_file_sentences_split_long_lines(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a " * 25 + "\n\n  \nb c\n")
    scan = vocab_mod.scan_corpus_file(path, max_sentence_length=10)
    assert (scan.corpus_count, scan.total_words) == (4, 27)
