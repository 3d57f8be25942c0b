"""The same scenarios run against gensim and fastw2v's Word2Vec: equal results where they are
deterministic, equal behaviour (the exception type gensim code catches) otherwise."""

import gzip
import os
import warnings

import numpy as np
import pytest

gensim_models = pytest.importorskip("gensim.models")

from fastw2v import KeyedVectors, Word2Vec  # noqa: E402
from fastw2v.errors import NotAModelError  # noqa: E402

GROUPS = [[f"g{g}w{i}" for i in range(6)] for g in range(4)]


def corpus(n=600, seed=0):
    rng = np.random.default_rng(seed)
    return [list(rng.choice(GROUPS[rng.integers(4)], 8)) for _ in range(n)]


SENTENCES = corpus()
COMMON = dict(vector_size=12, min_count=1, window=3, workers=1, epochs=3, seed=5)
BOTH = [pytest.param(gensim_models.Word2Vec, id="gensim"), pytest.param(Word2Vec, id="fastw2v")]


def same_vocabulary_models(**params):
    """A gensim and a fastw2v model with the same vocabulary order and the same weights."""
    theirs = gensim_models.Word2Vec(SENTENCES, **COMMON, **params)
    ours = Word2Vec(**COMMON, **params, sorted_vocab=0)  # gensim's order, as given
    ours.build_vocab_from_freq({w: int(theirs.wv.get_vecattr(w, "count"))
                                for w in theirs.wv.index_to_key})
    assert ours.wv.index_to_key == theirs.wv.index_to_key
    ours.wv.vectors[:] = theirs.wv.vectors
    if params.get("negative", 5):
        ours.syn1neg[:] = theirs.syn1neg
    if params.get("hs"):
        ours.syn1[:] = theirs.syn1
    return theirs, ours


# ------------------------------------------------------------------------- missing methods


@pytest.mark.parametrize("sg", [0, 1])
@pytest.mark.parametrize("cbow_mean", [0, 1])
def test_predict_output_word_equals_gensim(sg, cbow_mean):
    theirs, ours = same_vocabulary_models(sg=sg, cbow_mean=cbow_mean)
    context = ["g0w1", "g0w2", "unknown"]
    everything = dict(theirs.predict_output_word(context, topn=len(theirs.wv)))
    got = ours.predict_output_word(context, topn=5)
    # The same probabilities (float32 rounding apart), so the same top 5 up to near-ties.
    np.testing.assert_allclose([p for _, p in got], [everything[w] for w, _ in got], rtol=1e-4)
    fifth = sorted(everything.values(), reverse=True)[4]
    assert all(everything[w] >= fifth * (1 - 1e-4) for w, _ in got)
    assert ours.predict_output_word(["unknown"]) is None
    assert theirs.predict_output_word(["unknown"]) is None


@pytest.mark.parametrize("cls", BOTH)
def test_predict_output_word_needs_negative_sampling(cls):
    model = cls(SENTENCES, **COMMON, hs=1, negative=0)
    with pytest.raises(RuntimeError):
        model.predict_output_word(["g0w1"])


@pytest.mark.parametrize("sg", [0, 1])
@pytest.mark.parametrize("cbow_mean", [0, 1])
def test_score_equals_gensim(sg, cbow_mean, tmp_path):
    # The same weights and the same Huffman tree: the model gensim trained, loaded.
    theirs = gensim_models.Word2Vec(SENTENCES, **COMMON, sg=sg, cbow_mean=cbow_mean, hs=1,
                                    negative=0)
    theirs.save(str(tmp_path / "m"))
    ours = Word2Vec.load_gensim(str(tmp_path / "m"))
    sentences = SENTENCES[:40] + [["g1w1", "unknown", "g1w2"], ["unknown"], []]
    expected = theirs.score(sentences, total_sentences=len(sentences))
    got = ours.score(sentences, total_sentences=len(sentences))
    assert got.dtype == np.float32 and got.shape == expected.shape == (len(sentences),)
    # fastw2v computes gensim's sums exactly; gensim reads each log-sigmoid from a table of
    # 1000 steps over [-6, 6) and skips nodes outside it: the same loops with that table give
    # gensim's figures, so the loops are the same and only the table differs.
    np.testing.assert_allclose(got, reference_scores(theirs, sentences), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(expected, reference_scores(theirs, sentences, gensim_table=True),
                               rtol=1e-4, atol=1e-3)
    assert got[-1] == got[-2] == 0.0
    assert len(ours.score(sentences, total_sentences=10)) == 10


def reference_scores(model, sentences, gensim_table=False):
    """gensim's score loops (score_sentence_sg / score_sentence_cbow) in float64, with exact
    log-sigmoids or, with `gensim_table`, its table's (1000 steps over [-6, 6), looked up as
    gensim does, nodes outside skipped; CBOW words without context scored from a zero input)."""
    vectors, syn1 = model.wv.vectors.astype(np.float64), model.syn1.astype(np.float64)
    steps = np.arange(1000) / 1000 * 12 - 6
    table = np.log(1.0 / (1.0 + np.exp(-steps))).astype(np.float32)
    scores = []
    for sentence in sentences:
        ids = [model.wv.get_index(w) for w in sentence if w in model.wv]
        total = 0.0
        for i, word in enumerate(ids):
            codes = model.wv.get_vecattr(model.wv.index_to_key[word], "code")
            points = model.wv.get_vecattr(model.wv.index_to_key[word], "point")
            window = [ids[j] for j in range(max(0, i - model.window),
                                             min(len(ids), i + model.window + 1)) if j != i]
            if model.sg:
                inputs = [vectors[j] for j in window]
            elif window:
                hidden = vectors[window].sum(axis=0)
                inputs = [hidden / len(window) if model.cbow_mean else hidden]
            else:
                inputs = [np.zeros(vectors.shape[1])] if gensim_table else []
            for h in inputs:
                f = syn1[points] @ h * np.where(codes == 0, 1.0, -1.0)
                if gensim_table:
                    f = f[np.abs(f) < 6]
                    # gensim's index scale is EXP_TABLE_SIZE / MAX_EXP / 2 in C integers: 83,
                    # not 83.33, so its lookups land up to 1.6% of the way left of f.
                    total += float(np.sum(table[((f + 6) * 83).astype(int)]))
                else:
                    total += float(np.sum(-np.logaddexp(0.0, -f)))
        scores.append(total)
    return np.array(scores)


@pytest.mark.parametrize("cls", BOTH)
def test_score_needs_hierarchical_softmax(cls):
    model = cls(SENTENCES, **COMMON)
    with pytest.raises(RuntimeError):
        model.score(SENTENCES[:3])


@pytest.mark.parametrize("cls", BOTH)
def test_scan_and_prepare_vocab_are_build_vocab_in_two_halves(cls):
    model = cls(vector_size=8, min_count=3, sample=0.01, workers=1)
    sentences = SENTENCES[:50] + [["rare", "rare"], ["once"]]
    total_words, corpus_count = model.scan_vocab(sentences)
    assert (total_words, corpus_count) == (sum(map(len, sentences)), len(sentences))
    dry = model.prepare_vocab(dry_run=True)
    assert len(model.wv) == 0
    report = model.prepare_vocab()
    assert report == dry
    assert report["drop_unique"] == 2 and report["num_retained_words"] == 24
    assert report["retain_total"] == 400
    assert 0 < report["downsample_total"] < report["retain_total"]
    assert 0 < report["downsample_unique"] <= 24
    assert len(model.wv) == 24


def test_prepare_vocab_reports_as_gensim():
    sentences = SENTENCES[:50] + [["rare", "rare"], ["once"]]
    reports = []
    for cls in (gensim_models.Word2Vec, Word2Vec):
        model = cls(vector_size=8, min_count=2, sample=0.01, workers=1)
        model.scan_vocab(sentences)
        reports.append(model.prepare_vocab(dry_run=True))
    assert reports[0] == reports[1]


@pytest.mark.parametrize("cls", BOTH)
def test_reset_from_takes_the_vocabulary_and_fresh_weights(cls):
    trained = cls(SENTENCES, **COMMON)
    fresh = cls(**{**COMMON, "seed": 9})
    fresh.reset_from(trained)
    assert list(fresh.wv.index_to_key) == list(trained.wv.index_to_key)
    assert fresh.corpus_count == trained.corpus_count
    assert not np.array_equal(fresh.wv.vectors, trained.wv.vectors)
    if cls is Word2Vec:  # (gensim 4.4's reset_from leaves a model whose train() hangs)
        fresh.train(SENTENCES, total_examples=len(SENTENCES), epochs=1)


@pytest.mark.parametrize("cls", BOTH)
def test_estimate_memory_reports_the_same_parts(cls):
    model = cls(SENTENCES, **COMMON, hs=1)
    report = model.estimate_memory()
    assert set(report) == {"vocab", "vectors", "syn1", "syn1neg", "total"}
    assert report["vectors"] == len(model.wv) * 12 * 4
    assert report["total"] == sum(v for k, v in report.items() if k != "total")
    assert cls(vector_size=100).estimate_memory(vocab_size=1000)["vectors"] == 400_000


@pytest.mark.parametrize("cls", BOTH)
def test_load_on_an_instance_is_an_attribute_error(cls, tmp_path):
    model = cls(SENTENCES, **COMMON)
    model.save(str(tmp_path / "m"))
    with pytest.raises(AttributeError):
        model.load(str(tmp_path / "m"))


# ------------------------------------------------------------------------- vector locking


@pytest.mark.parametrize("cls", BOTH)
@pytest.mark.parametrize("params", [dict(sg=1), dict(sg=0), dict(sg=1, hs=1, negative=0)])
def test_a_lock_factor_of_zero_keeps_a_vector_still(cls, params):
    model = cls(**{**COMMON, "workers": 2}, **params)
    model.build_vocab(SENTENCES)
    model.wv.vectors_lockf = np.ones(len(model.wv), dtype=np.float32)
    frozen = model.wv.get_index("g2w3")
    model.wv.vectors_lockf[frozen] = 0.0
    before = model.wv.vectors.copy()
    model.train(SENTENCES, total_examples=len(SENTENCES), epochs=2)
    np.testing.assert_array_equal(model.wv.vectors[frozen], before[frozen])
    assert not np.array_equal(model.wv.vectors, before)


# ------------------------------------------------------------------------- exception types


@pytest.mark.parametrize("cls", BOTH)
def test_an_empty_or_pruned_vocabulary_is_a_runtime_error(cls):
    with pytest.raises(RuntimeError):
        cls([["a", "b"]], min_count=5, workers=1)


def test_fastw2v_errors_are_value_errors_too():
    with pytest.raises(ValueError):
        Word2Vec([["a", "b"]], min_count=5, workers=1)


@pytest.mark.parametrize("cls", BOTH)
def test_a_compressed_corpus_file_is_a_type_error(cls, tmp_path):
    path = tmp_path / "corpus.txt.gz"
    path.write_bytes(gzip.compress(b"a b c\n" * 50))
    with pytest.raises(TypeError):
        cls(corpus_file=str(path), min_count=1, workers=1)
    # The contents tell too, whatever the name.
    disguised = tmp_path / "corpus.txt"
    disguised.write_bytes(path.read_bytes())
    if cls is Word2Vec:
        with pytest.raises(ValueError, match="compressed"):
            cls(corpus_file=str(disguised), min_count=1, workers=1)


@pytest.mark.parametrize("cls", BOTH)
def test_loading_vectors_as_a_model_is_an_attribute_error(cls, tmp_path):
    model = cls(SENTENCES, **COMMON)
    path = str(tmp_path / "vectors")
    model.wv.save(path)
    with pytest.raises(AttributeError):
        cls.load(path)
    if cls is Word2Vec:
        with pytest.raises(NotAModelError, match="KeyedVectors.load"):
            cls.load(path)


@pytest.mark.parametrize("load", [gensim_models.KeyedVectors.load_word2vec_format,
                                  KeyedVectors.load_word2vec_format], ids=["gensim", "fastw2v"])
def test_a_truncated_binary_vectors_file_is_an_eof_error(load, tmp_path):
    path = tmp_path / "v.bin"
    Word2Vec(SENTENCES, **COMMON).wv.save_word2vec_format(str(path), binary=True)
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(EOFError):
        load(str(path), binary=True)


@pytest.mark.parametrize("load", [gensim_models.KeyedVectors.load_word2vec_format,
                                  KeyedVectors.load_word2vec_format], ids=["gensim", "fastw2v"])
def test_an_undecodable_vectors_file_is_a_unicode_decode_error(load, tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"2 2\n\xff\xfe 0.1 0.2\nb 0.3 0.4\n")
    with pytest.raises(UnicodeDecodeError):
        load(str(path))


# ------------------------------------------------------------------------- reproducibility


@pytest.mark.parametrize("cls", BOTH)
def test_a_corpus_in_one_job_trains_the_same_whatever_the_workers(cls):
    params = {**COMMON, "batch_words": 10**6}
    runs = [cls(SENTENCES[:200], **{**params, "workers": workers}).wv.vectors
            for workers in (1, 3, 3)]
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_array_equal(runs[1], runs[2])


# ------------------------------------------------------------------------- gensim's files


@pytest.mark.parametrize("params", [dict(sg=1), dict(sg=0), dict(sg=1, hs=1, negative=0),
                                    dict(sg=0, hs=1, negative=3)])
@pytest.mark.parametrize("separately", [False, True])
def test_a_model_saved_by_gensim_loads_and_trains_on(tmp_path, params, separately):
    theirs = gensim_models.Word2Vec(SENTENCES, **COMMON, **params)
    path = str(tmp_path / "gensim.model")
    theirs.save(path, sep_limit=1 if separately else 10**9)
    assert os.path.exists(path + ".wv.vectors.npy") == separately
    for model in (Word2Vec.load(path), Word2Vec.load_gensim(path)):
        assert model.wv.index_to_key == theirs.wv.index_to_key
        np.testing.assert_array_equal(model.wv.vectors, theirs.wv.vectors)
        np.testing.assert_array_equal(model.wv.expandos["count"],
                                      [theirs.wv.get_vecattr(w, "count")
                                       for w in theirs.wv.index_to_key])
        if params.get("negative", 5):
            np.testing.assert_array_equal(model.syn1neg, theirs.syn1neg)
        if params.get("hs"):
            np.testing.assert_array_equal(model.syn1, theirs.syn1)
        for name in ("sg", "hs", "negative", "window", "vector_size", "epochs", "alpha"):
            assert getattr(model, name) == getattr(theirs, name), name
        assert model.corpus_count == theirs.corpus_count
    # It trains on as well as gensim does, and what it learned survives a fastw2v save.
    def nearest_in_group(vectors):
        return sum(vectors.most_similar(w, topn=1)[0][0][:2] == w[:2]
                   for w in vectors.index_to_key)

    theirs.train(SENTENCES, total_examples=len(SENTENCES), epochs=2)
    model.train(SENTENCES, total_examples=len(SENTENCES), epochs=2)
    assert nearest_in_group(model.wv) >= nearest_in_group(theirs.wv) - 3
    model.save(tmp_path / "ours.fw2v")
    assert Word2Vec.load(tmp_path / "ours.fw2v").wv.index_to_key == model.wv.index_to_key


def test_continued_hierarchical_softmax_walks_gensims_tree(tmp_path):
    theirs = gensim_models.Word2Vec(SENTENCES, **COMMON, sg=1, hs=1, negative=0)
    path = str(tmp_path / "gensim.model")
    theirs.save(path)
    model = Word2Vec.load_gensim(path)
    (objective,) = model._objectives
    points, codes, offsets = objective.paths
    for index, word in enumerate(theirs.wv.index_to_key):
        np.testing.assert_array_equal(codes[offsets[index]:offsets[index + 1]],
                                      theirs.wv.get_vecattr(word, "code"))
        np.testing.assert_array_equal(points[offsets[index]:offsets[index + 1]],
                                      theirs.wv.get_vecattr(word, "point"))


def test_vectors_saved_by_gensim_load_as_keyed_vectors(tmp_path):
    theirs = gensim_models.Word2Vec(SENTENCES, **COMMON)
    path = str(tmp_path / "vectors.kv")
    theirs.wv.save(path)
    for kv in (KeyedVectors.load(path), KeyedVectors.load_gensim(path)):
        assert kv.index_to_key == theirs.wv.index_to_key
        np.testing.assert_array_equal(kv.vectors, theirs.wv.vectors)
        ours, expected = kv.most_similar("g0w0", topn=3), theirs.wv.most_similar("g0w0", topn=3)
        assert [w for w, _ in ours] == [w for w, _ in expected]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in expected], rtol=1e-5)
    with pytest.raises(NotAModelError, match="KeyedVectors.load_gensim"):
        Word2Vec.load_gensim(path)


def test_a_gensim_pickle_that_runs_code_is_refused_by_load(tmp_path):
    import pickle

    sentinel = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {sentinel}",))

    path = tmp_path / "evil.model"
    path.write_bytes(pickle.dumps({"x": Payload()}, protocol=4))
    for loader in (Word2Vec.load, KeyedVectors.load):
        with pytest.raises(ValueError, match="refusing"):
            loader(path)
    assert not sentinel.exists()


def test_no_deprecation_warnings_from_the_gensim_route(tmp_path):
    theirs = gensim_models.Word2Vec(SENTENCES, **COMMON)
    path = str(tmp_path / "gensim.model")
    theirs.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Word2Vec.load(path)
