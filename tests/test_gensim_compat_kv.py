"""KeyedVectors against gensim 4.4's on identical vectors: same results, same exceptions.

Each scenario builds a fastw2v and a gensim KeyedVectors from one random matrix with
``add_vectors`` and runs the same calls on both. Skipped without gensim; the Word Mover's
Distance scenarios also need POT.
"""

from __future__ import annotations

import inspect
import logging
import warnings

import numpy as np
import pytest

from fastw2v.keyedvectors import KeyedVectors

gensim_models = pytest.importorskip("gensim.models")

WORDS = [f"w{i}" for i in range(60)]
DIMENSIONS = 8

# gensim 4.4 public names fastw2v leaves out on purpose (listed in the README table).
DELIBERATELY_ABSENT = {
    # A log of "model created/saved/loaded" events, saved inside gensim's pickles; fastw2v
    # keeps no such log and its archive format saves none.
    "add_lifecycle_event",
}
# Signatures that differ on purpose, or not yet.
SIGNATURE_DIFFERENCES = {
    "evaluate_word_analogies": "the file is optional: fastw2v ships the Google analogy set",
    "evaluate_word_pairs": "the file is optional: fastw2v ships WordSim-353",
    "save": "a safe archive of one file, not gensim's pickle with its pickling options",
    "save_word2vec_format": "prefix, append and sort_attr are not there yet",
}
# Keyword parameters fastw2v adds after all of gensim's.
EXTRA_PARAMETERS = {name: ["indexer"] for name in
                    ("similar_by_key", "similar_by_word", "similar_by_vector")}


def pair(vectors=None, words=WORDS, counts=True):
    """A fastw2v and a gensim KeyedVectors holding the same keys, vectors and counts."""
    if vectors is None:
        vectors = np.random.default_rng(7).standard_normal((len(words), DIMENSIONS))
    vectors = np.asarray(vectors, dtype=np.float32)
    ours = KeyedVectors(vectors.shape[1])
    theirs = gensim_models.KeyedVectors(vectors.shape[1])
    ours.add_vectors(list(words), vectors.copy())
    theirs.add_vectors(list(words), vectors.copy())
    if counts:
        for kv in (ours, theirs):
            for rank, word in enumerate(words):
                kv.set_vecattr(word, "count", len(words) - rank)
    return ours, theirs


def assert_same_contents(ours, theirs):
    assert list(ours.index_to_key) == list(theirs.index_to_key)
    assert ours.key_to_index == theirs.key_to_index
    assert ours.next_index == theirs.next_index
    assert ours.vectors.dtype == theirs.vectors.dtype
    np.testing.assert_array_equal(ours.vectors, theirs.vectors)
    assert ours.expandos.keys() == theirs.expandos.keys()
    for attr in ours.expandos:
        np.testing.assert_array_equal(ours.expandos[attr], theirs.expandos[attr])


def same_outcome(call, ours, theirs):
    """Run `call` on both; return both results, or assert both raise the same type."""
    outcomes = []
    for kv in (ours, theirs):
        try:
            outcomes.append(("value", call(kv)))
        except Exception as error:  # noqa: BLE001 -- the type is what is compared
            outcomes.append(("error", type(error)))
    assert outcomes[0][0] == outcomes[1][0], outcomes
    if outcomes[0][0] == "error":
        assert outcomes[0][1] is outcomes[1][1], outcomes
    return outcomes[0][1], outcomes[1][1]


def assert_same(call, ours, theirs):
    mine, gensims = same_outcome(call, ours, theirs)
    if isinstance(mine, np.ndarray):
        np.testing.assert_array_equal(mine, gensims)
    elif not isinstance(mine, type):
        assert mine == gensims


# --------------------------------------------------------------------------------------------
# The public API


def test_every_public_gensim_name_is_present_unless_left_out_on_purpose():
    public = {name for name in dir(gensim_models.KeyedVectors) if not name.startswith("_")}
    missing = {name for name in public if not hasattr(KeyedVectors, name)}
    assert missing == DELIBERATELY_ABSENT
    instance_attributes = set(vars(gensim_models.KeyedVectors(3))) - {"lifecycle_events"}
    assert instance_attributes <= set(vars(KeyedVectors(3)))


def test_signatures_and_defaults_match_gensim():
    for name in dir(gensim_models.KeyedVectors):
        if name.startswith("_") and name != "__init__" or name in SIGNATURE_DIFFERENCES:
            continue
        theirs = inspect.getattr_static(gensim_models.KeyedVectors, name)
        if isinstance(theirs, property) or not callable(getattr(KeyedVectors, name, None)):
            continue
        if name == "add_lifecycle_event":
            continue
        parameters = inspect.signature(getattr(gensim_models.KeyedVectors, name)).parameters
        ours = inspect.signature(getattr(KeyedVectors, name)).parameters
        assert list(ours) == list(parameters) + EXTRA_PARAMETERS.get(name, []), name
        for parameter in parameters.values():
            assert ours[parameter.name].default == parameter.default, (name, parameter.name)


# --------------------------------------------------------------------------------------------
# Methods fastw2v added


def test_init_sims():
    ours, theirs = pair()
    for kv in (ours, theirs):
        with pytest.warns(DeprecationWarning, match="init_sims"):
            kv.init_sims()
        assert kv["w1"].tolist() == ours.vectors[1].tolist()
    np.testing.assert_array_equal(ours.norms, theirs.norms)
    for kv in (ours, theirs):
        with pytest.warns(DeprecationWarning):
            kv.init_sims(replace=True)
    assert_same_contents(ours, theirs)
    np.testing.assert_array_equal(ours.norms, theirs.norms)
    assert ours.norms.dtype == theirs.norms.dtype
    assert ours.most_similar("w3", topn=8) == theirs.most_similar("w3", topn=8)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # gensim's cosmul calls init_sims
def test_unit_normalize_all():
    ours, theirs = pair()
    for kv in (ours, theirs):
        kv.unit_normalize_all()
    assert_same_contents(ours, theirs)
    np.testing.assert_array_equal(ours.norms, theirs.norms)
    assert ours.most_similar_cosmul("w2", "w5") == theirs.most_similar_cosmul("w2", "w5")


@pytest.mark.parametrize(("document1", "document2"), [
    (["w1", "w2", "w3"], ["w4", "w5"]),
    (["w1", "w1", "w2", "zzz"], ["w2", "w9", "w9", "w9", "w30"]),
    (["w7"], ["w8"]),
    ("w1 w2 w10 w11".split(), "w11 w10 w2 w1".split()),
    (["w3", "w3"], ["w3"]),
    (["zzz"], ["w1"]),
    ([], ["w1"]),
    (["w1", "w2"], []),
])
@pytest.mark.parametrize("norm", [True, False])
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_wmdistance(document1, document2, norm):
    pytest.importorskip("ot")
    ours, theirs = pair()
    assert_same(lambda kv: kv.wmdistance(document1, document2, norm=norm), ours, theirs)


def test_wmdistance_on_coincident_vectors():
    pytest.importorskip("ot")
    ours, theirs = pair(np.ones((3, 4)), words=["a", "b", "c"])
    assert_same(lambda kv: kv.wmdistance(["a", "b"], ["c"]), ours, theirs)
    assert ours.wmdistance(["a", "b"], ["c"]) == float("inf")


@pytest.mark.parametrize(("wa", "wb", "topn"), [
    ("w1", "w2", 10), ("w1", "w2", 1), ("w5", "w5", 3), ("w9", "w40", 59), ("w9", "w40", 100),
    ("w1", "w2", 0), ("w1", "w2", -3), ("w1", "w2", None), ("zzz", "w2", 10), ("w1", "zzz", 10),
])
def test_relative_cosine_similarity(wa, wb, topn):
    ours, theirs = pair()
    assert_same(lambda kv: kv.relative_cosine_similarity(wa, wb, topn), ours, theirs)


@pytest.mark.parametrize("keys", [
    ["w3", "zzz", "w1", "w3"], iter(["w5", "w6"]), [], ["zzz"], ["w2", 45], WORDS[::-1],
])
@pytest.mark.parametrize("allow_inference", [True, False])
@pytest.mark.parametrize("copy_vecattrs", [True, False])
def test_vectors_for_all(keys, allow_inference, copy_vecattrs):
    ours, theirs = pair()
    for kv in (ours, theirs):
        kv.set_vecattr("w3", "weight", 0.25)
    keys = list(keys)
    results = [kv.vectors_for_all(keys, allow_inference=allow_inference,
                                  copy_vecattrs=copy_vecattrs) for kv in (ours, theirs)]
    assert type(results[0]) is KeyedVectors
    assert_same_contents(*results)


def test_vectors_for_all_without_counts():
    ours, theirs = pair(counts=False)
    assert_same_contents(ours.vectors_for_all(["w4", "w2"], copy_vecattrs=True),
                         theirs.vectors_for_all(["w4", "w2"], copy_vecattrs=True))


def test_resize_vectors():
    ours, theirs = pair()
    for kv in (ours, theirs):
        kv.index_to_key += ["new1", "new2", "new3"]
        kv.key_to_index.update(new1=60, new2=61, new3=62)
        kv.resize_vectors(seed=11)
    assert_same_contents(ours, theirs)
    for kv in (ours, theirs):
        kv.resize_vectors()  # nothing to do now
    assert_same_contents(ours, theirs)


@pytest.mark.parametrize("binary", [False, True])
def test_intersect_word2vec_format(tmp_path, binary):
    source, _ = pair(np.random.default_rng(3).standard_normal((5, DIMENSIONS)),
                     words=["w2", "other", "w7", "w59", "more"])
    source.save_word2vec_format(tmp_path / "pretrained", binary=binary)
    source.save_word2vec_format(tmp_path / "pretrained.txt")
    ours, theirs = pair()
    for kv in (ours, theirs):
        kv.vectors_lockf = np.ones(len(kv), dtype=np.float32)  # gensim needs one per key
    ours.intersect_word2vec_format(tmp_path / "pretrained", lockf=0.25, binary=binary)
    # gensim 4.4 reads binary files here with np.fromstring, which numpy 2 refuses.
    theirs.intersect_word2vec_format(str(tmp_path / "pretrained.txt"), lockf=0.25)
    assert_same_contents(ours, theirs)
    np.testing.assert_array_equal(ours.vectors_lockf, theirs.vectors_lockf)
    other, _ = pair(np.ones((1, 3)), words=["w2"])
    other.save_word2vec_format(tmp_path / "narrow.txt")
    assert_same(lambda kv: kv.intersect_word2vec_format(str(tmp_path / "narrow.txt")),
                ours, theirs)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_gensim_3_names():
    ours, theirs = pair()
    for name in ("index2word", "index2entity", "vocab", "vectors_norm"):
        assert_same(lambda kv, name=name: getattr(kv, name), ours, theirs)
    assert_same(lambda kv: setattr(kv, "vectors_norm", None), ours, theirs)
    assert_same(lambda kv: kv.word_vec("w3"), ours, theirs)
    assert_same(lambda kv: kv.word_vec("w3", norm=True), ours, theirs)
    assert_same(lambda kv: kv.words_closer_than("w3", "w8"), ours, theirs)
    assert_same(lambda kv: kv.similarity_unseen_docs(), ours, theirs)
    for kv in (ours, theirs):
        with pytest.warns(DeprecationWarning):
            kv.word_vec("w1")
        with pytest.warns(DeprecationWarning):
            kv.words_closer_than("w1", "w2")


def test_log_helpers_log_what_gensim_logs(caplog):
    section = {"section": "family", "correct": [("A", "B", "C", "D")] * 3, "incorrect": [()]}
    messages = []
    for kv_class in (KeyedVectors, gensim_models.KeyedVectors):
        caplog.clear()
        with caplog.at_level(logging.INFO):
            assert kv_class.log_accuracy(section) is None
            assert kv_class.log_accuracy({"section": "-", "correct": [], "incorrect": []}) is None
            assert kv_class.log_evaluate_word_pairs((0.5, 0.1), (0.25, 0.2), 12.5, "p.tsv") is None
        messages.append([record.getMessage() for record in caplog.records])
    assert messages[0] == messages[1] and len(messages[0]) == 4


def test_mapfile_path():
    assert (KeyedVectors(3, mapfile_path="x").mapfile_path
            == gensim_models.KeyedVectors(3, mapfile_path="x").mapfile_path)


# --------------------------------------------------------------------------------------------
# Methods fastw2v changed


@pytest.mark.parametrize(("ws1", "ws2"), [
    (["w1", "zzz"], ["w2"]), (["zzz"], ["w2"]), (["zzz"], ["yyy"]), (["w1", "w1", "w4"], ["w5"]),
    ([], ["w1"]), (["w1"], []),
])
def test_n_similarity_with_unknown_words(ws1, ws2):
    ours, theirs = pair()
    assert_same(lambda kv: kv.n_similarity(ws1, ws2), ours, theirs)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # gensim's cosmul calls init_sims
@pytest.mark.parametrize("query", [
    {"positive": "w1"}, {"positive": "w1", "negative": "w2"},
    {"positive": ["w1", "w4"], "negative": ["w2"], "topn": 5}, {"positive": ["w1"], "topn": 0},
    {"positive": ["w1"], "topn": -1}, {"positive": ["w1"], "topn": None},
    {"positive": ["w1"], "topn": 100}, {"negative": ["w1"]}, {}, {"positive": ["zzz"]},
    {"positive": [np.ones(DIMENSIONS, dtype=np.float32)], "negative": ["w3"]},
    {"positive": np.eye(2, DIMENSIONS, dtype=np.float32)},
])
def test_most_similar_cosmul_edge_cases(query):
    ours, theirs = pair()
    assert_same(lambda kv: kv.most_similar_cosmul(**query), ours, theirs)


def test_additions_with_valid_input():
    ours, theirs = pair(counts=False)
    rng = np.random.default_rng(1)
    block = rng.standard_normal((3, DIMENSIONS)).astype(np.float32)
    for kv in (ours, theirs):
        kv.add_vectors(["new1", "w1", "new2"], block)
        kv.add_vectors(["w2", "new3"], block[:2], replace=True)
        kv.add_vectors("new4", block[2])
        kv["w5"] = block[0]
        kv[["w6", "new5"]] = block[1:]
        kv.add_vectors([], np.zeros((0, DIMENSIONS), dtype=np.float32))
    assert_same_contents(ours, theirs)
    preallocated = [KeyedVectors(DIMENSIONS, count=2), gensim_models.KeyedVectors(DIMENSIONS, 2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # gensim's "growing by one is costly"
        assert [kv.add_vector("a", block[0]) for kv in preallocated] == [0, 0]
        assert [kv.add_vector("b", block[1]) for kv in preallocated] == [1, 1]
        assert [kv.add_vector("c", block[2]) for kv in preallocated] == [2, 2]
    assert_same_contents(*preallocated)


def test_vecattrs():
    ours, theirs = pair(counts=False)
    for kv in (ours, theirs):
        kv.set_vecattr("w1", "count", 5)
        kv.set_vecattr("w2", "score", 0.5)
        kv.set_vecattr("w3", "tag", "noun")
        kv.allocate_vecattrs(["extra"], [np.float32])
    assert_same_contents(ours, theirs)
    assert_same(lambda kv: kv.get_vecattr("w1", "count"), ours, theirs)
    assert_same(lambda kv: kv.get_vecattr("w3", "tag"), ours, theirs)
    assert_same(lambda kv: kv.get_vecattr("zzz", "count"), ours, theirs)
    assert_same(lambda kv: kv.get_vecattr("w1", "nope"), ours, theirs)
    assert_same(lambda kv: kv.set_vecattr("w1", "count", 1.5), ours, theirs)
    assert_same(lambda kv: kv.set_vecattr("zzz", "count", 1), ours, theirs)


def test_sort_by_descending_frequency_of_nothing():
    ours, theirs = (KeyedVectors(3), gensim_models.KeyedVectors(3))
    assert_same(lambda kv: kv.sort_by_descending_frequency(), ours, theirs)
    assert_same_contents(ours, theirs)


@pytest.mark.parametrize("dummy4unknown", [False, True])
@pytest.mark.parametrize("case_insensitive", [False, True])
@pytest.mark.parametrize("restrict_vocab", [300000, 30])
def test_evaluations_delegated_to_fastw2v_evaluation(
    tmp_path, dummy4unknown, case_insensitive, restrict_vocab
):
    ours, theirs = pair()
    questions = tmp_path / "questions.txt"
    questions.write_text(": one\nw1 w2 w3 w4\nw5 w6 w7 zzz\nW8 w9 w10 w11\n"
                         ": two\nw40 w41 w42 w43\nw1 w1 w1 w1\n", "utf-8")
    options = {"restrict_vocab": restrict_vocab, "case_insensitive": case_insensitive,
               "dummy4unknown": dummy4unknown}
    assert (ours.evaluate_word_analogies(questions, **options)
            == theirs.evaluate_word_analogies(str(questions), **options))
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("# comment\nw1\tw2\t5\nw3\tW4\t1\nw5\tzzz\t3\nw50\tw6\t2\nw7\tw8\t9\n",
                     "utf-8")
    mine, gensims = (kv.evaluate_word_pairs(str(pairs), **options) for kv in (ours, theirs))
    for correlation in (0, 1):  # assert_array_equal counts NaN p-values as equal
        np.testing.assert_array_equal(tuple(mine[correlation]), tuple(gensims[correlation]))
    assert mine[2] == gensims[2]
