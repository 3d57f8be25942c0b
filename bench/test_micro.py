"""Micro-benchmarks (pytest-benchmark): `pytest bench/ --benchmark-only`.

Each reports the time of one call; the docstring says what one call does, so that pairs/s,
draws/s and words/s follow from the mean. Not tests: nothing here asserts speed.
"""

import numpy as np
import pytest

from fastw2v import _corpus, _kernels, _objectives, _sampling
from fastw2v import _vocab as vocab_mod
from fastw2v._config import TrainingConfig

VOCAB = 50_000
DIM = 100
SENTENCE_WORDS = 100_000


@pytest.fixture(scope="module")
def zipf_counts():
    return (1e7 / np.arange(1, VOCAB + 1)).astype(np.int64)


@pytest.fixture(scope="module")
def zipf_ids(zipf_counts):
    p = zipf_counts / zipf_counts.sum()
    return np.random.default_rng(0).choice(VOCAB, SENTENCE_WORDS, p=p).astype(np.int32)


def make_trainer(counts, sg, batched=True, hs=False, negative=5, sgemm=False, dim=DIM):
    rng = np.random.default_rng(1)
    syn0 = ((rng.random((VOCAB, dim), dtype=np.float32) - 0.5) / dim)
    if sgemm != _kernels.SGEMM_STEP:
        pytest.skip("the sgemm step is measured in a build with FASTW2V_SGEMM=1" if sgemm else
                    "this build runs the sgemm step")
    config = TrainingConfig(sg=sg, batched=batched, hs=hs, negative=negative, window=5,
                            vector_size=dim)
    trainer = _kernels.Trainer(config, syn0, vocab_mod.keep_thresholds(counts, 1e-4),
                               _objectives.objectives_for(config, counts))
    trainer.set_schedule(0.025, 0.025, 1)
    return trainer, _kernels.WorkerState(trainer, 3)


KERNELS = {
    "sg-ns-batched": dict(sg=True, batched=True),
    # The same dense step through three sgemm calls instead of the C loop.
    "sg-ns-batched-sgemm": dict(sg=True, batched=True, sgemm=True),
    "sg-ns-pairs": dict(sg=True, batched=False),
    "cbow-ns": dict(sg=False),
    "sg-hs-batched": dict(sg=True, hs=True, negative=0),
    "cbow-hs": dict(sg=False, hs=True, negative=0),
    "sg-hs-batched-sgemm": dict(sg=True, hs=True, negative=0, sgemm=True),
}


@pytest.mark.parametrize("name", list(KERNELS))
def test_kernel_words(benchmark, zipf_counts, zipf_ids, name):
    """One call trains 100,000 corpus words (one thread, subsampling 1e-4, window 5)."""
    trainer, worker = make_trainer(zipf_counts, **KERNELS[name])
    ends = np.arange(1000, SENTENCE_WORDS + 1, 1000, dtype=np.int64)
    raw = np.full(len(ends), 1000, dtype=np.int64)
    benchmark(trainer.train_batch, worker, zipf_ids, ends, raw)


# The architecture x objective steps, each at the standard 100 and the large model's 300
# dimensions: `-k cbow`, `-k hs`, `-k d300` pick families of them.
STEPS = {
    "cbow-ns": dict(sg=False),
    "cbow-hs": dict(sg=False, hs=True, negative=0),
    "sg-hs-pairs": dict(sg=True, batched=False, hs=True, negative=0),
    "sg-hs-batched": dict(sg=True, batched=True, hs=True, negative=0),
    "sg-ns-pairs": dict(sg=True, batched=False),
    "sg-ns-batched": dict(sg=True, batched=True),
}
STEP_DIMS = (100, 300)


@pytest.mark.parametrize("dim", STEP_DIMS, ids=lambda dim: f"d{dim}")
@pytest.mark.parametrize("name", list(STEPS))
def test_step_words(benchmark, zipf_counts, zipf_ids, name, dim):
    """One call trains 100,000 corpus words (one thread, subsampling 1e-4, window 5) at `dim`.

    `extra_info` holds the words one call trains (those kept by subsampling, the centres of the
    windows) and both rates: corpus words/s and trained words/s, from the mean time of a call.
    """
    trainer, worker = make_trainer(zipf_counts, dim=dim, **STEPS[name])
    ends = np.arange(1000, SENTENCE_WORDS + 1, 1000, dtype=np.int64)
    raw = np.full(len(ends), 1000, dtype=np.int64)

    def train_once():
        worker.reset_counters()
        trainer.train_batch(worker, zipf_ids, ends, raw)
        return worker.words_trained

    trained = benchmark(train_once)
    benchmark.extra_info["trained_words_per_call"] = trained
    if benchmark.stats is not None:  # None under --benchmark-disable: nothing was timed
        seconds = benchmark.stats.stats.mean
        benchmark.extra_info["corpus_words_per_second"] = SENTENCE_WORDS / seconds
        benchmark.extra_info["trained_words_per_second"] = trained / seconds


def test_alias_draws(benchmark, zipf_counts):
    """One call draws 1,000,000 noise words."""
    table = _sampling.build_alias_table(zipf_counts ** 0.75)
    benchmark(_sampling.draw_samples, table, 1_000_000, 5)


def test_vocabulary_scan_of_a_corpus_file(benchmark, tmp_path, zipf_counts):
    """One call counts the words of a 1,000,000-word corpus file."""
    p = zipf_counts / zipf_counts.sum()
    words = np.random.default_rng(2).choice(VOCAB, 1_000_000, p=p)
    lines = [" ".join(f"w{w}" for w in words[i:i + 20]) for i in range(0, len(words), 20)]
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    benchmark(vocab_mod.scan_corpus_file, path)


def test_vocabulary_scan_of_sentences(benchmark, zipf_counts):
    """One call counts the words of 1,000,000 words in lists of 20 tokens."""
    p = zipf_counts / zipf_counts.sum()
    words = [f"w{w}" for w in np.random.default_rng(2).choice(VOCAB, 1_000_000, p=p)]
    sentences = [words[i:i + 20] for i in range(0, len(words), 20)]
    benchmark(vocab_mod.scan_sentences, sentences)


def test_encode_sentences(benchmark, zipf_counts):
    """One call turns 1,000,000 tokens in lists of 20 into word ids."""
    p = zipf_counts / zipf_counts.sum()
    words = [f"w{w}" for w in np.random.default_rng(2).choice(VOCAB, 1_000_000, p=p)]
    sentences = [words[i:i + 20] for i in range(0, len(words), 20)]
    key_to_index = {f"w{i}": i for i in range(VOCAB)}
    benchmark(_corpus.encode_sentences, sentences, key_to_index)


def test_averaging_round_arithmetic(benchmark, zipf_counts):
    """One averaging round's arithmetic on 8192 rows of a matrix (the hot tier at the default
    `hot_rows`), between processes: the moves taken, then, the collective's sum given, the
    combined move added to the live rows and to the rows as last combined, and the rows
    re-measured."""
    from fastw2v import _distributed

    rng = np.random.default_rng(0)
    live = rng.random((VOCAB, DIM), dtype=np.float32)
    rows = _distributed._Rows(live, True, zipf_counts / zipf_counts.sum())
    hot = 8192
    summed = rng.normal(scale=1e-3, size=(hot, DIM)).astype(np.float32)
    words = iter(range(10**6, 10**12, 10**5))

    def one_round():
        np.subtract(live[:hot], rows.base[:hot], out=rows.moves[:hot])
        rows.summed[:hot] = summed
        rows.add_combined(0, hot, 2, next(words), 1e-3, update_live=True)

    benchmark(one_round)
