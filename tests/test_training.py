"""The training runner's corpus-file path: later epochs from the ids kept of the first."""

import numpy as np
import pytest

from fastw2v import Word2Vec, _corpus, _training
from fastw2v.callbacks import CallbackAny2Vec

PARAMS = dict(vector_size=16, window=3, min_count=1, sample=0, seed=5, workers=1, epochs=3,
              negative=3, progress=False)


@pytest.fixture
def corpus_path(tmp_path):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(60)]
    lines = [" ".join(rng.choice(words, size=int(rng.integers(1, 30)))) for _ in range(500)]
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def train(path, monkeypatch, cache_bytes, callbacks=()):
    monkeypatch.setattr(_training, "ID_CACHE_BYTES", cache_bytes)
    model = Word2Vec(**PARAMS)
    model.build_vocab(corpus_file=str(path))
    model.train(corpus_file=str(path), total_words=model.corpus_total_words,
                epochs=model.epochs, callbacks=list(callbacks))
    return model


class Scramble(CallbackAny2Vec):
    """Replace the corpus with other words of the same length after the first epoch."""

    def __init__(self, path):
        self.path = path
        self.epochs = 0

    def on_epoch_end(self, model):
        self.epochs += 1
        if self.epochs == 1:
            text = self.path.read_text()
            self.path.write_text(text.replace("w1", "w2"))


@pytest.mark.parametrize("cache_bytes", [1 << 30, 2000])
def test_cached_epochs_train_as_reading_the_file_again(corpus_path, monkeypatch, cache_bytes):
    # 2000 bytes cannot hold the ids: the cache gives up during the first pass and every epoch
    # reads the file, as with no cache at all.
    read = train(corpus_path, monkeypatch, 0)
    cached = train(corpus_path, monkeypatch, cache_bytes)
    np.testing.assert_array_equal(read.wv.vectors, cached.wv.vectors)
    np.testing.assert_array_equal(read.syn1neg, cached.syn1neg)
    assert cached.min_alpha_yet_reached == read.min_alpha_yet_reached


def test_later_epochs_train_from_memory(corpus_path, monkeypatch):
    # The file changes after the first epoch: with the cache, training does not see it.
    original = train(corpus_path, monkeypatch, 1 << 30)
    scrambled = train(corpus_path, monkeypatch, 1 << 30, [Scramble(corpus_path)])
    np.testing.assert_array_equal(original.wv.vectors, scrambled.wv.vectors)


def test_without_room_later_epochs_read_the_file(corpus_path, monkeypatch):
    original_text = corpus_path.read_text()
    original = train(corpus_path, monkeypatch, 0)
    corpus_path.write_text(original_text)
    scrambled = train(corpus_path, monkeypatch, 0, [Scramble(corpus_path)])
    assert not np.array_equal(original.wv.vectors, scrambled.wv.vectors)


def test_range_cache_holds_only_a_whole_pass(corpus_path):
    model = Word2Vec(**PARAMS)
    model.build_vocab(corpus_file=str(corpus_path))
    corpus = _training.FileCorpus(str(corpus_path), model.wv.index_to_key, 1)
    trainer = _corpus_trainer(model)
    state = _kernels_state(trainer)
    cache = _corpus.RangeCache(1 << 20)
    start, end = corpus.ranges[0]
    trainer.request_stop()
    _corpus.train_file_range(trainer, state, corpus.vocab_hash, str(corpus_path), start, end,
                             cache)
    assert not cache.complete and cache.nbytes == 0
    trainer = _corpus_trainer(model)
    state = _kernels_state(trainer)
    _corpus.train_file_range(trainer, state, corpus.vocab_hash, str(corpus_path), start, end,
                             cache)
    assert cache.complete
    # ids (4 bytes) of every word and two counts (8 bytes) per line, fitted to size.
    assert cache.nbytes == 4 * model.corpus_total_words + 8 * model.corpus_count
    small = _corpus.RangeCache(100)
    _corpus.train_file_range(trainer, state, corpus.vocab_hash, str(corpus_path), start, end,
                             small)
    assert not small.complete and small.nbytes == 0


def _corpus_trainer(model):
    from fastw2v import _kernels

    trainer = _kernels.Trainer(model.config, model.wv.vectors, model._keep_threshold,
                               model._objectives)
    trainer.set_schedule(0.025, 0.0001, model.corpus_total_words)
    return trainer


def _kernels_state(trainer):
    from fastw2v import _kernels

    return _kernels.WorkerState(trainer, 1)


def test_one_epoch_keeps_no_ids(corpus_path, monkeypatch):
    budgets = []

    class Recording(_training.FileCorpus):
        def __init__(self, *args, cache_bytes=None, **sizes):
            budgets.append(cache_bytes)
            super().__init__(*args, cache_bytes=cache_bytes, **sizes)

    monkeypatch.setattr(_training, "FileCorpus", Recording)
    model = Word2Vec(**PARAMS)
    model.build_vocab(corpus_file=str(corpus_path))
    for epochs in (1, 2):
        model.train(corpus_file=str(corpus_path), total_words=model.corpus_total_words,
                    epochs=epochs)
    assert budgets == [0, None]


# ------------------------------------------------------------------------ cutting a file in ranges

def _check_ranges(ranges, start, end, parts):
    assert len(ranges) == parts
    assert ranges[0][0] == start and ranges[-1][1] == end
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))


@pytest.mark.parametrize("parts", [1, 2, 3, 7])
def test_line_ranges_start_right_after_a_newline(corpus_path, parts):
    text = corpus_path.read_bytes()
    ranges = _corpus.line_ranges(str(corpus_path), parts)
    _check_ranges(ranges, 0, len(text), parts)
    assert all(text[first - 1:first] == b"\n" for first, _ in ranges[1:])
    assert _corpus.line_ranges(str(corpus_path), parts, lines_only=True) == ranges
    # A part of the file: every cut inside it, the same rule.
    start, end = ranges[0][1] if parts > 1 else 0, len(text) - 100
    inner = _corpus.line_ranges(str(corpus_path), parts, start, end)
    _check_ranges(inner, start, end, parts)
    assert all(text[first - 1:first] == b"\n" for first, _ in inner[1:] if first < end)


def test_a_newline_just_before_the_nominal_cut_cuts_there(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"aaa\nbbbb\ncc\n")  # 12 bytes; halfway is byte 6, inside "bbbb"
    assert _corpus.line_ranges(str(path), 2) == [(0, 9), (9, 12)]
    path.write_bytes(b"aaaaa\nbbbbb\n")  # 12 bytes; the newline is byte 5, halfway is 6
    assert _corpus.line_ranges(str(path), 2) == [(0, 6), (6, 12)]


def test_one_line_corpus_is_cut_after_whitespace_or_not_at_all(tmp_path):
    path = tmp_path / "one_line.txt"
    text = b" ".join(b"w%d" % i for i in range(5000))
    path.write_bytes(text)
    ranges = _corpus.line_ranges(str(path), 4)
    _check_ranges(ranges, 0, len(text), 4)
    assert all(text[first - 1:first] == b" " for first, _ in ranges[1:])
    assert b" ".join(text[a:b].strip() for a, b in ranges) == text  # no token cut in two
    assert _corpus.line_ranges(str(path), 4, lines_only=True) is None
    path.write_bytes(b"x" * 1000)  # no whitespace near any cut: one range holds it all
    assert _corpus.line_ranges(str(path), 3, probe_bytes=100) == [(0, 1000), (1000, 1000),
                                                                   (1000, 1000)]
