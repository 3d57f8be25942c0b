"""Word2Vec end to end: learning known structure, the schedule, threads, state and errors."""

import _thread
import os
import pickle
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from fastw2v import CallbackAny2Vec, LineSentence, Word2Vec

GROUPS = 6
WORDS_PER_GROUP = 8


def planted_corpus(n_sentences=3000, length=10, seed=0):
    """Sentences drawn within one group each: words of a group share all their contexts."""
    rng = np.random.default_rng(seed)
    groups = [[f"g{g}w{i}" for i in range(WORDS_PER_GROUP)] for g in range(GROUPS)]
    return [list(rng.choice(groups[rng.integers(GROUPS)], length)) for _ in range(n_sentences)]


def group_precision(wv, topn=5):
    hits = total = 0
    for word in wv.index_to_key:
        group = word.split("w")[0]
        hits += sum(other.split("w")[0] == group for other, _ in wv.most_similar(word, topn=topn))
        total += topn
    return hits / total


CONFIGS = {
    "sg-ns-pairs": dict(sg=1, negative=5, batched=False),
    "sg-ns-batched": dict(sg=1, negative=5, batched=True),
    "cbow-ns-mean": dict(sg=0, negative=5),
    "cbow-ns-sum": dict(sg=0, negative=5, cbow_mean=0, alpha=0.01),
    "sg-hs-pairs": dict(sg=1, hs=1, negative=0, batched=False),
    "sg-hs-batched": dict(sg=1, hs=1, negative=0),
    "cbow-hs": dict(sg=0, hs=1, negative=0),
    "sg-softmax": dict(sg=1, softmax=1, negative=0),
    "cbow-softmax": dict(sg=0, softmax=1, negative=0),
    "sg-hs-and-ns": dict(sg=1, hs=1, negative=3),
}


@pytest.fixture(scope="module")
def corpus():
    return planted_corpus()


@pytest.fixture(scope="module")
def corpus_path(tmp_path_factory, corpus):
    path = tmp_path_factory.mktemp("corpus") / "planted.txt"
    path.write_text("\n".join(" ".join(s) for s in corpus) + "\n")
    return path


@pytest.mark.parametrize("name", list(CONFIGS))
def test_planted_groups_are_learned_from_an_iterable(corpus, name):
    model = Word2Vec(corpus, vector_size=24, window=3, min_count=1, workers=2, epochs=5,
                     seed=3, **CONFIGS[name])
    assert group_precision(model.wv) >= 0.9


@pytest.mark.parametrize("name", ["sg-ns-batched", "cbow-ns-mean", "sg-hs-batched"])
def test_planted_groups_are_learned_from_a_corpus_file(corpus_path, name):
    model = Word2Vec(corpus_file=str(corpus_path), vector_size=24, window=3, min_count=1,
                     workers=2, epochs=5, seed=3, **CONFIGS[name])
    assert group_precision(model.wv) >= 0.9


def test_corpus_file_trains_every_line_once_per_epoch(corpus_path, corpus):
    model = Word2Vec(vector_size=8, min_count=1, workers=2, sample=0)
    model.build_vocab(corpus_file=str(corpus_path))
    assert model.corpus_total_words == sum(map(len, corpus))
    effective, raw = model.train(corpus_file=str(corpus_path), epochs=3,
                                 total_words=model.corpus_total_words)
    assert raw == 3 * model.corpus_total_words
    assert effective == raw  # no subsampling, no unknown words: every token trained


def test_corpus_file_and_line_sentence_agree_on_the_vocabulary(corpus_path):
    from_file = Word2Vec(vector_size=8, min_count=1)
    from_file.build_vocab(corpus_file=str(corpus_path))
    from_lines = Word2Vec(vector_size=8, min_count=1)
    from_lines.build_vocab(LineSentence(str(corpus_path)))
    assert from_file.wv.index_to_key == from_lines.wv.index_to_key
    assert from_file.corpus_count == from_lines.corpus_count


def test_line_sentence_over_a_plain_file_is_read_by_the_compiled_reader(
        corpus_path, monkeypatch):
    from fastw2v import _corpus, _count

    calls = []
    for module, name in ((_count, "count_file_words"), (_corpus, "train_file_range")):
        original = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _f=original, _n=name: (
            calls.append(_n), _f(*a))[1])
    params = dict(vector_size=24, window=3, min_count=1, workers=2, epochs=5, seed=3)
    from_lines = Word2Vec(LineSentence(str(corpus_path)), **params)
    assert calls.count("count_file_words") == 1
    assert calls.count("train_file_range") == 2 * 5  # two workers, five epochs
    expected = Word2Vec(list(LineSentence(str(corpus_path))), **params)
    assert from_lines.wv.index_to_key == expected.wv.index_to_key
    assert from_lines.corpus_count == expected.corpus_count
    assert from_lines.corpus_total_words == expected.corpus_total_words
    assert group_precision(from_lines.wv) >= 0.9


def test_line_sentences_the_compiled_reader_would_change_are_iterated(tmp_path, corpus_path):
    import gzip

    from fastw2v._training import line_sentence_file as _line_sentence_file

    class Lowered(LineSentence):
        def __iter__(self):
            return ([token.lower() for token in s] for s in super().__iter__())

    packed = tmp_path / "planted.txt.gz"
    packed.write_bytes(gzip.compress(corpus_path.read_bytes()))
    long_line = tmp_path / "long_line.txt"
    long_line.write_text("word " * 20_000 + "\n")  # 100 kB: past the range splitter's probe
    assert _line_sentence_file(LineSentence(str(corpus_path))) == str(corpus_path)
    for corpus in (LineSentence(str(corpus_path), limit=100), LineSentence(str(packed)),
                   Lowered(str(corpus_path)), LineSentence(str(long_line)),
                   LineSentence(str(corpus_path), max_sentence_length=7),
                   list(LineSentence(str(corpus_path)))):
        assert _line_sentence_file(corpus) is None


def test_max_vocab_size_scan_of_a_line_sentence_matches_its_sentences(tmp_path):
    # The compiled counter prunes by token, Python by sentence: with a cap, Python's must count.
    path = tmp_path / "cap.txt"
    path.write_text("a b c\nd e a\nf a b\n" * 3)
    from_lines = Word2Vec(vector_size=8, min_count=1, max_vocab_size=3)
    from_lines.build_vocab(LineSentence(str(path)))
    from_list = Word2Vec(vector_size=8, min_count=1, max_vocab_size=3)
    from_list.build_vocab(list(LineSentence(str(path))))
    assert from_lines.wv.index_to_key == from_list.wv.index_to_key
    assert [from_lines.wv.get_vecattr(w, "count") for w in from_lines.wv.index_to_key] == [
        from_list.wv.get_vecattr(w, "count") for w in from_list.wv.index_to_key]


def test_a_corpus_file_emptied_after_build_vocab_is_an_error(tmp_path):
    path = tmp_path / "soon_empty.txt"
    path.write_text("one two three\n" * 100)
    model = Word2Vec(vector_size=8, min_count=1, workers=2)
    model.build_vocab(corpus_file=str(path))
    path.write_text("   \n")
    with pytest.raises(ValueError, match="no words to train on"):
        model.train(corpus_file=str(path), total_words=300, epochs=1)


def test_line_sentence_with_unicode_whitespace_keeps_str_split_tokens(tmp_path):
    # A no-break space splits tokens for str.split() but not for an ASCII reader, so this file
    # must be read in Python: its vocabulary is that of the token lists LineSentence yields.
    path = tmp_path / "nbsp.txt"
    path.write_text("caf\u00e9 au\u00a0lait\u2003noir\n" * 50 + "x\x1cy z\n" * 50,
                    encoding="utf-8")
    model = Word2Vec(LineSentence(str(path)), vector_size=8, min_count=1, workers=2, epochs=1)
    expected = Word2Vec(list(LineSentence(str(path))), vector_size=8, min_count=1, epochs=1)
    assert sorted(model.wv.index_to_key) == sorted(expected.wv.index_to_key)
    assert "lait" in model.wv and "au\u00a0lait" not in model.wv
    assert model.corpus_total_words == expected.corpus_total_words == 50 * 4 + 50 * 3


def test_single_worker_training_is_bit_identical_across_processes(tmp_path, corpus_path):
    script = (
        "import sys, numpy as np\n"
        "from fastw2v import Word2Vec\n"
        f"m = Word2Vec(corpus_file={str(corpus_path)!r}, vector_size=16, min_count=1,"
        " workers=1, epochs=2, seed=5)\n"
        "np.save(sys.argv[1], m.wv.vectors)\n"
    )
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"v{hash_seed}.npy"
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        # From tmp_path, so that the child imports the installed package, not the sources.
        subprocess.run([sys.executable, "-c", script, str(out)], check=True, env=env,
                       cwd=tmp_path)
        outputs.append(np.load(out))
    assert np.array_equal(outputs[0], outputs[1])
    in_process = Word2Vec(corpus_file=str(corpus_path), vector_size=16, min_count=1,
                          workers=1, epochs=2, seed=5)
    assert np.array_equal(in_process.wv.vectors, outputs[0])
    other_seed = Word2Vec(corpus_file=str(corpus_path), vector_size=16, min_count=1,
                          workers=1, epochs=2, seed=6)
    assert not np.array_equal(other_seed.wv.vectors, outputs[0])


def test_iterable_single_worker_training_is_deterministic(corpus):
    first = Word2Vec(corpus, vector_size=16, min_count=1, workers=1, epochs=2, seed=9)
    second = Word2Vec(corpus, vector_size=16, min_count=1, workers=1, epochs=2, seed=9)
    assert np.array_equal(first.wv.vectors, second.wv.vectors)


def test_loss_is_per_epoch_decreasing_and_independent_of_workers(corpus):
    losses = {}
    for workers in (1, 2):
        runs = []
        for seed in (1, 2, 3):
            model = Word2Vec(corpus, vector_size=16, min_count=1, workers=workers, epochs=4,
                             seed=seed, compute_loss=True, sg=1)
            history = model.training_loss_history
            assert len(history) == 4
            assert history[-1] < history[0]
            assert model.get_latest_training_loss() == history[-1]
            runs.append(history)
        losses[workers] = np.sum(runs)
    # Seeds alone move one epoch's loss by a few percent; summed over epochs and seeds the two
    # must agree. A loss that lost a worker's share, or accumulated across epochs, would not.
    assert losses[2] == pytest.approx(losses[1], rel=0.02)


def test_callbacks_fire_in_order_in_the_calling_thread(corpus):
    events = []
    caller = threading.get_ident()

    class Recorder(CallbackAny2Vec):
        def on_train_begin(self, model):
            events.append(("train_begin", threading.get_ident()))

        def on_epoch_begin(self, model):
            events.append(("epoch_begin", threading.get_ident()))

        def on_epoch_end(self, model):
            events.append(("epoch_end", threading.get_ident()))

        def on_train_end(self, model):
            events.append(("train_end", threading.get_ident()))

    Word2Vec(corpus[:200], vector_size=8, min_count=1, epochs=2, callbacks=[Recorder()])
    assert [e for e, _ in events] == ["train_begin", "epoch_begin", "epoch_end", "epoch_begin",
                                      "epoch_end", "train_end"]
    assert {t for _, t in events} == {caller}


def test_online_update_adds_words_and_keeps_learned_vectors(corpus):
    model = Word2Vec(corpus, vector_size=16, min_count=1, epochs=2, workers=1, sg=1, hs=1)
    old_words = list(model.wv.index_to_key)
    old_vectors = model.wv.vectors.copy()
    more = [["new1", "new2", "g0w1"]] * 50 + [["g0w1", "g0w2"]] * 10
    model.build_vocab(more, update=True)
    assert model.wv.index_to_key[:len(old_words)] == old_words
    assert {"new1", "new2"} <= set(model.wv.index_to_key)
    np.testing.assert_array_equal(model.wv.vectors[:len(old_words)], old_vectors)
    assert model.wv.get_vecattr("g0w1", "count") > 0
    assert model.syn1neg.shape == model.wv.vectors.shape == model.syn1.shape
    model.train(more, total_examples=len(more), epochs=2)
    assert np.all(np.isfinite(model.wv.vectors))
    assert not np.array_equal(model.wv["new1"], model.wv.vectors[len(old_words)] * 0)


def test_save_load_and_train_on(tmp_path, corpus):
    model = Word2Vec(corpus, vector_size=16, min_count=1, epochs=1, sg=1, hs=1, workers=1)
    path = tmp_path / "model.fw2v"
    model.save(path)
    loaded = Word2Vec.load(path)
    assert loaded.wv.index_to_key == model.wv.index_to_key
    np.testing.assert_array_equal(loaded.wv.vectors, model.wv.vectors)
    np.testing.assert_array_equal(loaded.syn1neg, model.syn1neg)
    np.testing.assert_array_equal(loaded.syn1, model.syn1)
    assert (loaded.sg, loaded.hs, loaded.negative) == (1, 1, 5)
    loaded.train(corpus, total_examples=loaded.corpus_count, epochs=1)
    assert not np.array_equal(loaded.wv.vectors, model.wv.vectors)
    loaded.save(path)
    assert Word2Vec.load(path).epochs_trained == 2


def test_load_of_a_foreign_file_says_what_it_is_and_what_to_call(tmp_path):
    (tmp_path / "gensim.model").write_bytes(pickle.dumps({"wv": None}, protocol=4))
    # A pickle goes to the safe reader of gensim's files, which says what it found instead.
    with pytest.raises(ValueError, match=r"gensim.model: .*not a gensim Word2Vec or KeyedVect"):
        Word2Vec.load(tmp_path / "gensim.model")
    (tmp_path / "vectors.txt").write_text("1 2\nword 0.5 0.25\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"word2vec text vectors file.*load_word2vec_format"):
        Word2Vec.load(tmp_path / "vectors.txt")


def test_high_learning_rates_never_produce_nan(corpus):
    for params in (dict(sg=1), dict(sg=0, cbow_mean=0), dict(sg=1, hs=1, negative=0),
                   dict(sg=0, softmax=1, negative=0)):
        model = Word2Vec(corpus[:1000], vector_size=16, min_count=1, epochs=3, alpha=1.0,
                         min_alpha=1.0, **params)
        assert np.all(np.isfinite(model.wv.vectors)), params
        assert np.all(np.isfinite(model.syn1neg)) and np.all(np.isfinite(model.syn1))


@pytest.mark.parametrize("mode", ["iterable", "file"])
def test_ctrl_c_stops_training_quickly_and_leaves_a_usable_model(corpus, corpus_path, mode,
                                                                 python_handles_ctrl_c):
    source = {"corpus_iterable": corpus} if mode == "iterable" else {
        "corpus_file": str(corpus_path)}
    model = Word2Vec(vector_size=32, min_count=1, workers=2)
    model.build_vocab(**source)
    timer = threading.Timer(0.5, _thread.interrupt_main)
    started = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        model.train(**source, total_examples=len(corpus), epochs=10_000)
    assert time.perf_counter() - started < 5.0
    assert not [t for t in threading.enumerate() if t.name == "fastw2v-worker"]
    assert np.all(np.isfinite(model.wv.vectors))
    assert 0 < model.epochs_trained < 10_000
    model.train(**source, total_examples=len(corpus), epochs=1)


def test_generators_strings_and_bad_tokens_get_clear_errors():
    with pytest.raises(TypeError, match="restartable"):
        Word2Vec((s for s in [["a", "b"]] * 10), min_count=1)
    with pytest.raises(TypeError, match="sentence 1 is a str"):
        Word2Vec([["a", "b"], "a b"], min_count=1)
    with pytest.raises(TypeError, match="tokens must be str"):
        Word2Vec([["a", "b"], ["a", 7]], min_count=1)
    with pytest.raises(ValueError, match="empty"):
        Word2Vec([[], []], min_count=1)
    with pytest.raises(ValueError, match="min_count=5"):
        Word2Vec([["a", "b"]], min_count=5)


def test_untokenised_batches_during_training_name_the_sentence():
    model = Word2Vec(vector_size=8, min_count=1, workers=1)
    model.build_vocab([["a", "b"]] * 5)
    with pytest.raises(TypeError, match="sentence 2"):
        model.train([["a"], ["b"], "a b"], total_examples=3, epochs=1)


@pytest.mark.parametrize("params,match", [
    (dict(vector_size=0), "vector_size"), (dict(window=0), "window"),
    (dict(negative=-1), "negative"), (dict(sample=-0.1), "sample"),
    (dict(alpha=0), "alpha"), (dict(alpha=1.5), "alpha"), (dict(min_count=-1), "min_count"),
    (dict(workers=0), "workers"), (dict(epochs=0), "epochs"),
    (dict(hs=0, negative=0), "objective"), (dict(softmax=1, negative=5), "softmax"),
    (dict(vector_size=2.5), "vector_size"),
])
def test_parameters_out_of_range_are_named(params, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Word2Vec(**params)


def test_train_needs_a_vocabulary_and_an_existing_file(tmp_path):
    with pytest.raises(RuntimeError, match="build_vocab"):
        Word2Vec().train([["a"]], total_examples=1, epochs=1)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Word2Vec(corpus_file=str(tmp_path / "missing.txt"))
    with pytest.raises(IsADirectoryError):
        Word2Vec(corpus_file=str(tmp_path))
    with pytest.raises(ValueError, match="epochs"):
        model = Word2Vec(min_count=1)
        model.build_vocab([["a", "b"]])
        model.train([["a", "b"]], total_examples=1)


def test_build_vocab_from_freq_and_max_final_vocab():
    model = Word2Vec(vector_size=8, min_count=1, max_final_vocab=2)
    model.build_vocab_from_freq({"a": 10, "b": 7, "c": 7, "d": 1})
    assert model.wv.index_to_key == ["a"]  # the tie at the cut goes as a whole
    model = Word2Vec(vector_size=8, min_count=2)
    model.build_vocab_from_freq({"a": 10, "b": 7, "c": 1})
    assert model.wv.index_to_key == ["a", "b"]
    assert model.wv.get_vecattr("b", "count") == 7


def test_progress_bar_is_drawn_on_request_and_silent_otherwise(corpus, capsys):
    Word2Vec(corpus[:500], vector_size=8, min_count=1, epochs=2, progress=True)
    drawn = capsys.readouterr().err
    assert "word" in drawn and "epoch" in drawn
    Word2Vec(corpus[:500], vector_size=8, min_count=1, epochs=2, progress=False)
    Word2Vec(corpus[:500], vector_size=8, min_count=1, epochs=2)  # stderr is not a terminal
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("params", [dict(sg=1), dict(sg=0), dict(sg=1, hs=1, negative=0),
                                    dict(sg=0, softmax=1, negative=0),
                                    dict(sg=1, batched=False)])
def test_locked_vectors_stay_put_in_every_kernel(corpus, params):
    model = Word2Vec(vector_size=16, min_count=1, workers=2, epochs=1, **params)
    model.build_vocab(corpus[:800])
    locked = [model.wv.key_to_index[w] for w in ("g0w0", "g3w5")]
    model.wv.vectors_lockf = np.ones(len(model.wv), dtype=np.float32)
    model.wv.vectors_lockf[locked] = 0.0
    before = model.wv.vectors.copy()
    model.train(corpus[:800], total_examples=800, epochs=2)
    np.testing.assert_array_equal(model.wv.vectors[locked], before[locked])
    moved = np.delete(np.arange(len(model.wv)), locked)
    assert np.all(np.any(model.wv.vectors[moved] != before[moved], axis=1))


def test_one_job_gives_the_same_vectors_whatever_the_number_of_workers(corpus):
    # Randomness is drawn per job, from (seed, epoch, job number), not per thread.
    params = dict(vector_size=16, min_count=1, epochs=3, seed=7, batch_words=10**7)
    one = Word2Vec(corpus[:500], workers=1, **params)
    for workers in (2, 4):
        many = Word2Vec(corpus[:500], workers=workers, **params)
        np.testing.assert_array_equal(one.wv.vectors, many.wv.vectors)
        np.testing.assert_array_equal(one.syn1neg, many.syn1neg)
    several_jobs = dict(params, batch_words=500)
    np.testing.assert_array_equal(Word2Vec(corpus[:500], workers=1, **several_jobs).wv.vectors,
                                  Word2Vec(corpus[:500], workers=1, **several_jobs).wv.vectors)


def test_a_model_copies_and_pickles_and_trains_on(corpus):
    import copy
    import pickle

    model = Word2Vec(corpus[:300], vector_size=8, min_count=1, workers=1, epochs=2)
    assert [e.number for e in model.training_history] == [1, 2]
    assert all(e.raw_words == model.corpus_total_words for e in model.training_history)
    for twin in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        np.testing.assert_array_equal(twin.wv.vectors, model.wv.vectors)
        np.testing.assert_array_equal(twin.syn1neg, model.syn1neg)
        assert twin.config == model.config
        twin.train(corpus[:300], total_examples=300, epochs=1)
        assert not np.array_equal(twin.wv.vectors, model.wv.vectors)
