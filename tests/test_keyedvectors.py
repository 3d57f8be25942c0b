"""Tests for fastw2v.keyedvectors: lookups, similarity queries and files.

Tests named ``*_matches_gensim`` compare with gensim 4 on the same vectors and are skipped when
gensim is not installed.
"""

from __future__ import annotations

import pathlib
import pickle

import numpy as np
import pytest

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
def small() -> KeyedVectors:
    rng = np.random.default_rng(42)
    words = [f"w{i}" for i in range(200)]
    return make_kv(words, rng.standard_normal((200, 16)).astype(np.float32),
                   counts=np.arange(200, 0, -1))


# --------------------------------------------------------------------------------------------
# Construction, lookups and per-key attributes


def test_new_instance_is_preallocated_zeros():
    kv = KeyedVectors(4, count=3)
    assert kv.vectors.shape == (3, 4) and kv.vectors.dtype == np.float32
    assert kv.vectors.flags.c_contiguous and not kv.vectors.any()
    assert len(kv) == 3 and kv.norms is None and kv.expandos == {}
    assert KeyedVectors(2, dtype=np.float64).vectors.dtype == np.float64
    assert repr(KeyedVectors(5)) == "KeyedVectors<vector_size=5, 0 keys>"


def test_lookups(small):
    assert small["w3"].tolist() == small.vectors[3].tolist()
    assert small[["w3", "w0"]].tolist() == small.vectors[[3, 0]].tolist()
    assert small[["w3"]].shape == (1, 16)
    assert "w3" in small and "nope" not in small and len(small) == 200
    assert small.get_index("w7") == 7 and small.get_index("nope", default=-1) == -1
    assert small.get_index(5) == 5 and small.has_index_for(199) and not small.has_index_for(200)
    assert not small.get_vector("w1").flags.writeable


@pytest.mark.parametrize("lookup", [
    lambda kv: kv["xyz"], lambda kv: kv[["w1", "xyz"]], lambda kv: kv.get_vector("xyz"),
    lambda kv: kv.get_index("xyz"), lambda kv: kv.most_similar("xyz"),
    lambda kv: kv.similarity("w1", "xyz"), lambda kv: kv.most_similar_cosmul("xyz"),
    lambda kv: kv.distances("w1", ["xyz"]), lambda kv: kv.relative_cosine_similarity("xyz", "w1"),
    lambda kv: kv.relative_cosine_similarity("w1", "xyz"),
])
def test_unknown_keys_raise_key_error_naming_them(small, lookup):
    with pytest.raises(KeyError, match="Key 'xyz' not present in vocabulary"):
        lookup(small)


def test_norms_are_lazy_and_follow_reassigned_vectors():
    kv = make_kv(["a", "b"], np.array([[3, 4], [0, 2]], dtype=np.float32))
    assert kv.norms is None
    assert kv.get_vector("a", norm=True).tolist() == pytest.approx([0.6, 0.8])
    assert kv.norms.tolist() == [5, 2]
    # Training code replaces the matrix and the vocabulary without touching the norms.
    kv.index_to_key = ["a", "b", "c"]
    kv.key_to_index = {"a": 0, "b": 1, "c": 2}
    kv.vectors = np.array([[1, 0], [0, 1], [0, 3]], dtype=np.float32)
    assert kv.get_normed_vectors().tolist() == [[1, 0], [0, 1], [0, 1]]
    kv.vectors[2] = [4, 0]  # in-place change, then the norms are reset as training does
    kv.norms = None
    assert kv.most_similar("a", topn=1) == [("c", 1.0)]
    kv.fill_norms(force=True)
    assert kv.norms.tolist() == [1, 1, 4]


def test_vecattrs():
    kv = KeyedVectors(2, count=2)
    kv.add_vector("a", np.ones(2))
    kv.add_vector("b", np.zeros(2))
    kv.set_vecattr("b", "count", 7)
    assert kv.expandos["count"].dtype == np.int64 and kv.expandos["count"].tolist() == [0, 7]
    assert kv.get_vecattr("b", "count") == 7
    with pytest.raises(TypeError, match="count"):
        kv.set_vecattr("a", "count", 1.5)
    kv.set_vecattr("a", "weight", 0.25)
    kv.index_to_key.append("c")
    kv.allocate_vecattrs()
    assert (kv.expandos["count"].tolist() == [0, 7, 0]
            and kv.expandos["weight"].tolist() == [0.25, 0, 0])


def test_add_vectors_and_setitem():
    kv = KeyedVectors(2, count=1)
    assert kv.add_vector("a", np.array([1, 2])) == 0  # fills the preallocated slot
    assert kv.add_vector("b", np.array([3, 4])) == 1  # grows
    kv.add_vectors(["b", "c"], np.array([[9, 9], [5, 6]]), extras={"count": np.array([2, 1])})
    assert kv.index_to_key == ["a", "b", "c"] and kv["b"].tolist() == [3, 4]
    assert kv.expandos["count"].tolist() == [0, 0, 1]
    kv.add_vectors(["b"], np.array([[7, 8]]), replace=True)
    kv["c"] = np.array([0, 1])
    kv[["d", "a"]] = np.array([[1, 1], [2, 2]])
    assert kv.vectors.tolist() == [[2, 2], [7, 8], [0, 1], [1, 1]]
    assert kv.key_to_index == {"a": 0, "b": 1, "c": 2, "d": 3}
    assert kv.most_similar("c", topn=1)[0][0] == "b"  # norms follow the changes


def snapshot(kv):
    """Everything a failed call must leave as it was."""
    return (list(kv.index_to_key), dict(kv.key_to_index), kv.next_index, kv.vectors.copy(),
            {attr: values.copy() for attr, values in kv.expandos.items()})


def assert_unchanged(kv, before):
    index_to_key, key_to_index, next_index, vectors, expandos = before
    assert kv.index_to_key == index_to_key and kv.key_to_index == key_to_index
    assert kv.next_index == next_index
    np.testing.assert_array_equal(kv.vectors, vectors)
    assert kv.expandos.keys() == expandos.keys()
    for attr, values in expandos.items():
        np.testing.assert_array_equal(kv.expandos[attr], values)


@pytest.fixture
def three_d():
    """Two keys of 3-dimensional vectors with a 'count' attribute, and room for one more."""
    kv = KeyedVectors(3)
    kv.add_vectors(["a", "b"], np.arange(6, dtype=np.float32).reshape(2, 3),
                   extras={"count": np.array([5, 3])})
    return kv


@pytest.mark.parametrize(("call", "error", "message"), [
    # A transposed (dim, n) matrix used to be reshaped silently into n scrambled rows.
    (lambda kv: kv.add_vectors(["c", "d", "e", "f"], np.ones((3, 4))),
     ValueError, r"weights has shape \(3, 4\); expected \(4, 3\)"),
    (lambda kv: kv.add_vectors(["c", "d"], np.ones((3, 2))),
     ValueError, r"weights has shape \(3, 2\); expected \(2, 3\).*transposed"),
    (lambda kv: kv.add_vectors(["c", "d"], np.ones((3, 3))), ValueError, "weights has shape"),
    (lambda kv: kv.add_vectors(["c", "d"], np.ones(6)), ValueError, "weights has shape"),
    (lambda kv: kv.add_vectors("c", np.ones(4)), ValueError, "weights has shape"),
    (lambda kv: kv.add_vectors(["c"], [["x", "y", "z"]]), ValueError, "weights must be numbers"),
    # Too few extras used to fail with an IndexError after the keys were added.
    (lambda kv: kv.add_vectors(["c", "d"], np.ones((2, 3)), extras={"count": np.array([7])}),
     ValueError, r"extras\['count'\] has shape \(1,\); expected \(2,\)"),
    (lambda kv: kv.add_vectors(["c"], np.ones((1, 3)),
                               extras={"weight": np.array([0.5]), "count": np.array(["x"])}),
     TypeError, "count"),
    (lambda kv: kv.add_vectors(["c", ["d"]], np.ones((2, 3))), TypeError, "unhashable"),
    (lambda kv: kv.add_vectors(["c", None], np.ones((2, 3))), ValueError, "None"),
    (lambda kv: kv.__setitem__(["c", "d"], np.ones((3, 2))), ValueError, "weights has shape"),
    (lambda kv: kv.__setitem__("c", np.ones(2)), ValueError, "weights has shape"),
    (lambda kv: kv.add_vector("c", np.ones(2)), ValueError, r"vector has shape \(2,\)"),
    (lambda kv: kv.add_vector("c", 1.0), ValueError, r"vector has shape \(\)"),
    (lambda kv: kv.add_vector("a", np.ones(3)), ValueError, "'a' is already present"),
    (lambda kv: kv.add_vector(None, np.ones(3)), ValueError, "None"),
    (lambda kv: kv.allocate_vecattrs(["weight", "count"], [float]), ValueError, "one type per"),
    (lambda kv: kv.allocate_vecattrs(["weight", "count"], [float, float]), TypeError, "count"),
    (lambda kv: kv.set_vecattr("zzz", "weight", 0.5), KeyError, "zzz"),
    (lambda kv: kv.set_vecattr("a", "big", 2**70), OverflowError, None),
], ids=["transposed", "transposed-named", "too-many-rows", "flat", "single-key-size",
        "strings", "too-few-extras", "incompatible-extra", "unhashable-key", "none-key",
        "setitem-transposed", "setitem-size", "add-vector-size", "add-vector-scalar",
        "add-vector-existing", "add-vector-none", "attrs-without-types", "attr-type",
        "set-vecattr-unknown-key", "set-vecattr-overflow"])
def test_failed_additions_change_nothing(three_d, call, error, message):
    before = snapshot(three_d)
    with pytest.raises(error, match=message):
        call(three_d)
    assert_unchanged(three_d, before)


def test_add_vector_into_a_preallocated_slot_checks_first():
    kv = KeyedVectors(3, count=2)
    before = snapshot(kv)
    with pytest.raises(ValueError, match="vector has shape"):
        kv.add_vector("a", np.ones(2))  # used to map 'a' to slot 0, then fail to fill it
    assert_unchanged(kv, before)
    assert kv.add_vector("a", np.ones((1, 3))) == 0 and kv["a"].tolist() == [1, 1, 1]


def test_add_vectors_accepts_gensim_shapes(three_d):
    three_d.add_vectors("c", np.full(3, 2.0))
    three_d.add_vectors(["d"], np.full(3, 3.0))  # one key, one 1-D vector
    three_d.add_vectors(["e", "f"], [np.full(3, 4.0), np.full(3, 5.0)])
    three_d.add_vectors([], [])
    three_d.add_vectors(["g"], np.ones((1, 3), dtype=np.int64), extras={"count": np.array([9])})
    assert three_d.index_to_key == ["a", "b", "c", "d", "e", "f", "g"]
    assert three_d[["c", "d", "e", "f"]][:, 0].tolist() == [2, 3, 4, 5]
    assert three_d.vectors.dtype == np.float32
    assert three_d.expandos["count"].tolist() == [5, 3, 0, 0, 0, 0, 9]


def test_add_vectors_refuses_vectors_out_of_step_with_keys(three_d):
    three_d.index_to_key.append("c")  # as a caller growing the vocabulary by hand might
    with pytest.raises(ValueError, match="2 rows for 3 keys"):
        three_d.add_vectors(["d"], np.ones((1, 3)))


def test_unit_normalize_all_keeps_zero_vectors_and_refuses_read_only_vectors(tmp_path):
    kv = make_kv(["a", "zero", "b"], np.array([[3, 4], [0, 0], [0, -2]], dtype=np.float32))
    with np.errstate(all="raise"):  # no division by zero either
        kv.unit_normalize_all()
    np.testing.assert_allclose(kv.vectors, [[0.6, 0.8], [0, 0], [0, -1]], rtol=1e-6)
    assert kv.norms.tolist() == [1, 0, 1]
    kv.save(tmp_path / "kv.fw2v")
    mapped = KeyedVectors.load(tmp_path / "kv.fw2v", mmap="r")
    with pytest.raises(ValueError, match="read-only.*mmap"):
        mapped.unit_normalize_all()


def test_resize_vectors_keeps_rows_and_draws_new_ones_from_the_seed():
    kv = KeyedVectors(4, dtype=np.float64)
    kv.add_vectors(["a", "b"], np.ones((2, 4)), extras={"count": np.array([3, 2])})
    kv.index_to_key += ["c", "d"]
    kv.key_to_index.update(c=2, d=3)
    kv.resize_vectors(seed=5)
    assert kv.vectors.shape == (4, 4) and kv.vectors.dtype == np.float64
    assert kv.vectors[:2].tolist() == np.ones((2, 4)).tolist()
    fresh = kv.vectors[2:]
    assert np.all(np.abs(fresh) < 1 / 4) and len(np.unique(fresh)) == 8
    assert kv.expandos["count"].tolist() == [3, 2, 0, 0]
    again = KeyedVectors(4, dtype=np.float64)
    again.add_vectors(["a", "b"], np.ones((2, 4)))
    again.index_to_key += ["c", "d"]
    again.resize_vectors(seed=5)
    assert again.vectors.tolist() == kv.vectors.tolist()
    kv.index_to_key = ["a"]
    kv.key_to_index = {"a": 0}
    kv.resize_vectors()
    assert kv.vectors.tolist() == [[1, 1, 1, 1]] and kv.expandos["count"].tolist() == [3]


def test_vectors_for_all():
    kv = make_kv(["a", "b", "c"], np.arange(6, dtype=np.float32).reshape(3, 2), counts=[7, 5, 1])
    kv.set_vecattr("b", "weight", 0.5)
    subset = kv.vectors_for_all(["c", "zzz", "a", "c"])
    assert subset.index_to_key == ["c", "a"] and subset.key_to_index == {"c": 0, "a": 1}
    assert subset.vectors.tolist() == [[4, 5], [0, 1]] and subset.vectors.dtype == np.float32
    assert subset.expandos.keys() == {"count"} and subset.expandos["count"].tolist() == [2, 1]
    assert subset.next_index == 2
    copied = kv.vectors_for_all(iter(["b", "a"]), copy_vecattrs=True)
    assert copied.expandos["count"].tolist() == [5, 7]
    assert copied.expandos["weight"].tolist() == [0.5, 0]
    assert kv.vectors_for_all([1, "a"]).index_to_key == [1, "a"]  # a row number, as `1 in kv`
    assert kv.vectors_for_all([1, "a"], allow_inference=False).index_to_key == ["a"]
    empty = kv.vectors_for_all(["zzz"])
    assert len(empty) == 0 and empty.vectors.shape == (0, 2) and empty.expandos == {}
    subset.vectors[0, 0] = 99  # a copy, not a view
    assert kv["c"][0] == 4


def test_sort_of_empty_vectors_does_nothing():
    kv = KeyedVectors(3)
    kv.sort_by_descending_frequency()
    assert len(kv) == 0


def test_sort_by_descending_frequency():
    kv = make_kv(["a", "b", "c", "d"], np.arange(8, dtype=np.float32).reshape(4, 2),
                 counts=[1, 5, 1, 9])
    kv.sort_by_descending_frequency()
    assert kv.index_to_key == ["d", "b", "a", "c"]
    assert kv["a"].tolist() == [0, 1] and kv.get_vecattr("d", "count") == 9
    assert kv.key_to_index["c"] == 3


# --------------------------------------------------------------------------------------------
# Similarity queries


def brute_force_neighbours(kv, query, exclude=(), end=None):
    vectors = kv.vectors[:end].astype(np.float64)
    cosines = vectors @ query / np.linalg.norm(vectors, axis=1) / np.linalg.norm(query)
    order = [i for i in np.argsort(-cosines, kind="stable") if kv.index_to_key[i] not in exclude]
    return [kv.index_to_key[i] for i in order], cosines


def test_most_similar_ranks_by_cosine_and_excludes_the_query(small):
    unit = small.get_normed_vectors().astype(np.float64)
    query = unit[1] + unit[2] - unit[3]
    expected, cosines = brute_force_neighbours(small, query, exclude={"w1", "w2", "w3"})
    result = small.most_similar(positive=["w1", "w2"], negative=["w3"], topn=15)
    assert [word for word, _ in result] == expected[:15]
    for word, score in result:
        assert score == pytest.approx(cosines[small.get_index(word)], abs=1e-5)
    assert all(isinstance(score, float) for _, score in result)


def test_most_similar_options(small):
    everything = small.most_similar("w0", topn=None)
    assert isinstance(everything, np.ndarray) and everything.shape == (200,)
    assert everything[0] == pytest.approx(1.0)
    assert small.most_similar("w0", topn=0) == []
    assert len(small.most_similar("w0", topn=500)) == 199
    restricted = small.most_similar("w0", topn=10, restrict_vocab=20)
    assert [w for w, _ in restricted] == brute_force_neighbours(
        small, small["w0"], exclude={"w0"}, end=20)[0][:10]
    clipped = small.most_similar("w0", topn=None, clip_start=50, clip_end=60)
    assert clipped.tolist() == everything[50:60].tolist()
    by_vector = small.most_similar(positive=[small["w5"]], topn=3)
    assert by_vector[0][0] == "w5"  # vectors are not excluded, only keys
    assert small.similar_by_vector(small["w5"], topn=3) == by_vector
    assert small.similar_by_word("w5", topn=3) == small.similar_by_key("w5", topn=3)
    assert small.similar_by_key("w5", topn=3) == small.most_similar("w5", topn=3)
    weighted = small.most_similar(positive=[("w1", 2.0), "w2"], negative=[("w3", -0.5)], topn=5)
    unit = small.get_normed_vectors().astype(np.float64)
    expected = brute_force_neighbours(small, 2 * unit[1] + unit[2] - 0.5 * unit[3],
                                      exclude={"w1", "w2", "w3"})[0]
    assert [w for w, _ in weighted] == expected[:5]
    with pytest.raises(ValueError, match="no input"):
        small.most_similar(positive=[], negative=[])


def test_most_similar_uses_the_indexer(small):
    class Indexer:
        def most_similar(self, vector, topn):
            self.seen = (vector, topn)
            return [("from-index", 1.0)]

    indexer = Indexer()
    assert small.most_similar("w1", topn=4, indexer=indexer) == [("from-index", 1.0)]
    assert indexer.seen[1] == 4
    assert indexer.seen[0] == pytest.approx(small.get_vector("w1", norm=True), abs=1e-6)


def test_other_queries(small):
    assert small.similarity("w1", "w1") == pytest.approx(1.0)
    assert small.distance("w1", "w2") == pytest.approx(1 - small.similarity("w1", "w2"))
    distances = small.distances("w1")
    assert distances.shape == (200,) and distances[1] == pytest.approx(0, abs=1e-6)
    assert small.distances("w1", ["w2", "w3"]).tolist() == pytest.approx(distances[[2, 3]].tolist())
    closer = small.closer_than("w1", "w2")
    assert all(distances[small.get_index(w)] < distances[2] for w in closer) and "w1" not in closer
    assert small.rank("w1", "w2") == len(closer) + 1
    assert small.rank("w1", small.most_similar("w1", topn=1)[0][0]) == 1
    cosines = KeyedVectors.cosine_similarities(np.array([1.0, 0]), np.array([[2.0, 0], [1, 1]]))
    assert cosines.tolist() == pytest.approx([1.0, np.sqrt(0.5)])
    assert small.most_similar_to_given("w1", ["w2", "w1", "w3"]) == "w1"
    with pytest.raises(ZeroDivisionError):
        small.n_similarity([], ["w1"])


def test_n_similarity_leaves_out_unknown_keys_as_gensim(small):
    # It used to raise KeyError; gensim 4.4 leaves unknown keys out of the means.
    assert small.n_similarity(["w1", "xyz"], ["w2"]) == small.n_similarity(["w1"], ["w2"])
    assert small.n_similarity(["xyz"], ["w2"]) == 0.0


def test_relative_cosine_similarity(small):
    neighbours = small.most_similar("w1", topn=4)
    expected = float(small.similarity("w1", "w7")) / sum(score for _, score in neighbours)
    assert small.relative_cosine_similarity("w1", "w7", topn=4) == expected
    assert isinstance(small.relative_cosine_similarity("w1", "w7"), float)
    for topn in (0, -2, None, 2.5):
        with pytest.raises(ValueError, match="topn"):
            small.relative_cosine_similarity("w1", "w7", topn=topn)


@pytest.fixture
def documents_kv():
    return make_kv(["cat", "dog", "car", "bus", "same1", "same2"],
                   np.array([[1, 0.1], [1, 0.3], [0.1, 1], [0.3, 1], [2, 2], [2, 2]],
                            dtype=np.float32))


def test_wmdistance(documents_kv):
    pytest.importorskip("ot")
    kv = documents_kv
    unit = kv.get_normed_vectors().astype(np.float64)
    # One word against one word travels the whole way between them.
    assert kv.wmdistance(["cat"], ["car", "zzz"]) == pytest.approx(
        np.linalg.norm(unit[0] - unit[2]))
    assert kv.wmdistance(["cat"], ["car"], norm=False) == pytest.approx(
        np.linalg.norm(kv["cat"].astype(np.float64) - kv["car"]))
    # Half of "cat cat" goes to "dog", half stays; "car bus" is farther than "dog cat".
    near = kv.wmdistance(["cat", "cat"], ["cat", "dog"])
    assert near == pytest.approx(np.linalg.norm(unit[0] - unit[1]) / 2)
    assert kv.wmdistance(["cat", "dog"], ["car", "bus"]) > kv.wmdistance(["cat"], ["dog"])
    assert kv.wmdistance(["cat", "cat"], ["cat"]) == 0.0
    assert kv.wmdistance(["zzz"], ["cat"]) == float("inf")
    assert kv.wmdistance([], ["cat"]) == float("inf")
    assert kv.wmdistance(["same1"], ["same2"]) == float("inf")  # an all-zero cost matrix


def test_wmdistance_without_pot_names_the_extra(documents_kv, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ot", None)  # what an absent package looks like
    with pytest.raises(ImportError, match=r'pip install "fastw2v\[wmd\]"'):
        documents_kv.wmdistance(["cat"], ["dog"])


def test_doesnt_match():
    kv = make_kv(["cat", "dog", "mouse", "car"],
                 np.array([[1, 0.1, 0], [1, 0.2, 0], [0.9, 0.3, 0], [0, 0, 1]], dtype=np.float32))
    assert kv.doesnt_match(["cat", "dog", "mouse", "car", "unknown"]) == "car"
    with pytest.raises(ValueError, match="empty"):
        kv.doesnt_match(["unknown"])


def test_most_similar_cosmul(small):
    unit = small.get_normed_vectors().astype(np.float64)
    shifted = (1 + unit @ unit.T) / 2
    expected = shifted[1] * shifted[2] / (shifted[3] + 1e-6)
    expected[[1, 2, 3]] = -np.inf
    result = small.most_similar_cosmul(positive=["w1", "w2"], negative=["w3"], topn=5)
    assert [w for w, _ in result] == [small.index_to_key[i] for i in np.argsort(-expected)[:5]]
    assert small.most_similar_cosmul("w1", topn=None).shape == (200,)
    restricted = small.most_similar_cosmul("w1", topn=10, restrict_vocab=30)
    assert all(small.get_index(w) < 30 for w, _ in restricted) and len(restricted) == 10
    with pytest.raises(ValueError, match="no input"):
        small.most_similar_cosmul(negative=["w1"])


# --------------------------------------------------------------------------------------------
# Parity with gensim


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # gensim's cosmul calls init_sims
def test_queries_match_gensim(analogy_kv, gensim_kv):
    reference = gensim_kv(analogy_kv)
    kv = analogy_kv
    queries = [
        {"positive": ["Athens", "Germany"], "negative": ["Greece"]},
        {"positive": "king"},
        {"positive": [("king", 0.3), ("queen", 2.5)], "negative": ["man"]},
        {"positive": [kv["brother"], "girl"], "negative": [kv["sister"]]},
        {"positive": ["king", "king"], "negative": ["man"], "restrict_vocab": 400},
        {"positive": ["Paris"], "clip_start": 100, "clip_end": 900},
    ]
    for query in queries:
        for topn in (1, 10, 50):
            assert kv.most_similar(**query, topn=topn) == reference.most_similar(**query, topn=topn)
        np.testing.assert_array_equal(kv.most_similar(**query, topn=None),
                                      reference.most_similar(**query, topn=None))
    for positive, negative in [(["Athens", "Germany"], ["Greece"]), ("king", None),
                               ([kv["brother"], "girl"], ["sister"])]:
        assert (kv.most_similar_cosmul(positive, negative, topn=20)
                == reference.most_similar_cosmul(positive, negative, topn=20))
        np.testing.assert_array_equal(kv.most_similar_cosmul(positive, negative, topn=None),
                                      reference.most_similar_cosmul(positive, negative, topn=None))
    assert kv.similar_by_vector(kv["Tokyo"]) == reference.similar_by_vector(reference["Tokyo"])
    for words in (["king", "queen", "man", "Tokyo"],
                  ["Athens", "Rome", "Paris", "brother", "nope"]):
        assert kv.doesnt_match(words) == reference.doesnt_match(words)
        assert kv.rank_by_centrality(words) == reference.rank_by_centrality(words)
    for a, b in [("king", "queen"), ("Athens", "athens"), ("brother", "Tokyo")]:
        assert kv.similarity(a, b) == reference.similarity(a, b)
        assert kv.distance(a, b) == reference.distance(a, b)
        assert kv.rank(a, b) == reference.rank(a, b)
        assert kv.closer_than(a, b) == reference.closer_than(a, b)
    assert (kv.n_similarity(["king", "man"], ["queen"])
            == reference.n_similarity(["king", "man"], ["queen"]))
    np.testing.assert_array_equal(kv.distances("king"), reference.distances("king"))
    np.testing.assert_array_equal(kv.distances(kv["brother"], ["girl", "sister"]),
                                  reference.distances(kv["brother"], ["girl", "sister"]))
    np.testing.assert_array_equal(kv.get_mean_vector(["king", kv["man"]], [1.0, 0.5]),
                                  reference.get_mean_vector(["king", kv["man"]], [1.0, 0.5]))


# --------------------------------------------------------------------------------------------
# Files


def test_save_and_load(tmp_path, small):
    small.save(tmp_path / "kv.fw2v")
    for mmap in (None, "r"):
        loaded = KeyedVectors.load(tmp_path / "kv.fw2v", mmap=mmap)
        assert loaded.index_to_key == small.index_to_key
        assert loaded.key_to_index == small.key_to_index
        np.testing.assert_array_equal(loaded.vectors, small.vectors)
        np.testing.assert_array_equal(loaded.expandos["count"], small.expandos["count"])
        assert loaded.most_similar("w1") == small.most_similar("w1")
    mapped = KeyedVectors.load(tmp_path / "kv.fw2v", mmap="r")
    assert isinstance(mapped.vectors, np.memmap) and not mapped.vectors.flags.writeable
    # Saving over the archive a model is mapped from is safe: the file is replaced, not rewritten.
    mapped.save(tmp_path / "kv.fw2v")
    np.testing.assert_array_equal(KeyedVectors.load(tmp_path / "kv.fw2v").vectors, small.vectors)


def test_load_rejects_other_archives_and_inconsistent_contents(tmp_path):
    from fastw2v import _io as io

    io.save_archive(tmp_path / "model.fw2v", {"kind": "Word2Vec"}, {})
    with pytest.raises(ValueError, match="model.fw2v.*'Word2Vec'"):
        KeyedVectors.load(tmp_path / "model.fw2v")
    bad_contents = [
        ({"index_to_key": ["a"], "vector_size": 2}, {"vectors": np.zeros((2, 2))}, "shape"),
        ({"index_to_key": ["a", "a"], "vector_size": 2}, {"vectors": np.zeros((2, 2))}, "repeated"),
        ({"index_to_key": [["a"]], "vector_size": 2}, {"vectors": np.zeros((1, 2))}, "strings"),
        ({"index_to_key": ["a"], "vector_size": 2},
         {"vectors": np.zeros((1, 2)), "expandos.count": np.zeros(3)}, "count"),
        ({"index_to_key": ["a"]}, {"vectors": np.zeros((1, 2))}, "incomplete"),
    ]
    for metadata, arrays, message in bad_contents:
        io.save_archive(tmp_path / "bad.fw2v", {"kind": "KeyedVectors", **metadata}, arrays)
        with pytest.raises(ValueError, match=f"bad.fw2v.*{message}"):
            KeyedVectors.load(tmp_path / "bad.fw2v")


def test_load_of_a_word2vec_file_or_gensim_pickle_says_what_to_call(tmp_path, small):
    small.save_word2vec_format(tmp_path / "vectors.bin", binary=True)
    with pytest.raises(ValueError, match=r"vectors.bin: .*word2vec binary vectors file \(200 "
                                         r"vectors of 16\).*load_word2vec_format"):
        KeyedVectors.load(tmp_path / "vectors.bin")
    (tmp_path / "vectors.kv").write_bytes(pickle.dumps({"vectors": None}, protocol=4))
    # A pickle goes to the safe reader of gensim's files, which says what it found instead.
    with pytest.raises(ValueError, match=r"vectors.kv: .*not a gensim Word2Vec or KeyedVectors"):
        KeyedVectors.load(tmp_path / "vectors.kv")


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_format_round_trip(tmp_path, binary):
    kv = make_kv(["rare", "common", "mid"], np.arange(6, dtype=np.float32).reshape(3, 2) / 7,
                 counts=[1, 9, 5])
    kv.save_word2vec_format(tmp_path / "v", fvocab=tmp_path / "vocab", binary=binary)
    loaded = KeyedVectors.load_word2vec_format(tmp_path / "v", fvocab=tmp_path / "vocab",
                                               binary=binary)
    assert loaded.index_to_key == ["common", "mid", "rare"]  # most frequent first
    assert loaded.expandos["count"].tolist() == [9, 5, 1]
    for word in kv.index_to_key:
        assert loaded[word].tolist() == kv[word].tolist()
    without_counts = KeyedVectors.load_word2vec_format(tmp_path / "v", binary=binary, limit=2)
    assert without_counts.index_to_key == ["common", "mid"]
    assert without_counts.expandos["count"].tolist() == [2, 1]
    assert without_counts.vectors.flags.c_contiguous


def test_save_word2vec_format_without_counts(tmp_path):
    kv = KeyedVectors(2)
    kv.vectors = np.ones((2, 2), dtype=np.float32)
    kv.index_to_key = ["b", "a"]
    kv.key_to_index = {"b": 0, "a": 1}
    kv.save_word2vec_format(tmp_path / "v.txt", write_header=False)
    assert (tmp_path / "v.txt").read_text() == "b 1.0 1.0\na 1.0 1.0\n"
    with pytest.raises(ValueError, match="count"):
        kv.save_word2vec_format(tmp_path / "v.txt", fvocab=tmp_path / "vocab")
    kv.save_word2vec_format(tmp_path / "v.txt", total_vec=10)
    assert (tmp_path / "v.txt").read_text().startswith("10 2\n")


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_word2vec_files_interchange_with_gensim(tmp_path, analogy_kv, gensim_kv, binary, suffix):
    gensim_models = pytest.importorskip("gensim.models")
    reference = gensim_kv(analogy_kv)
    ours, theirs = tmp_path / f"ours{suffix}", tmp_path / f"theirs{suffix}"
    analogy_kv.save_word2vec_format(ours, fvocab=tmp_path / "ours.vocab", binary=binary)
    reference.save_word2vec_format(str(theirs), fvocab=str(tmp_path / "theirs.vocab"),
                                   binary=binary)
    assert (tmp_path / "ours.vocab").read_bytes() == (tmp_path / "theirs.vocab").read_bytes()
    if not binary and not suffix:
        assert ours.read_bytes() == theirs.read_bytes()

    from_theirs = KeyedVectors.load_word2vec_format(theirs, fvocab=tmp_path / "theirs.vocab",
                                                    binary=binary)
    from_ours = gensim_models.KeyedVectors.load_word2vec_format(
        str(ours), fvocab=str(tmp_path / "ours.vocab"), binary=binary)
    for loaded in (from_theirs, from_ours):
        assert list(loaded.index_to_key) == analogy_kv.index_to_key
        np.testing.assert_array_equal(loaded.vectors, analogy_kv.vectors)
        np.testing.assert_array_equal(loaded.expandos["count"], analogy_kv.expandos["count"])
    limited = KeyedVectors.load_word2vec_format(theirs, binary=binary, limit=10)
    expected = gensim_models.KeyedVectors.load_word2vec_format(str(theirs), binary=binary, limit=10)
    assert limited.index_to_key == expected.index_to_key
    np.testing.assert_array_equal(limited.vectors, expected.vectors)
    np.testing.assert_array_equal(limited.expandos["count"], expected.expandos["count"])


@pytest.mark.parametrize("binary", [False, True])
def test_intersect_word2vec_format(tmp_path, binary):
    pretrained = make_kv(["b", "zzz", "d"], np.array([[1, 1], [2, 2], [3, 3]], dtype=np.float32))
    pretrained.save_word2vec_format(tmp_path / "pretrained", binary=binary)
    kv = make_kv(["a", "b", "c", "d"], np.zeros((4, 2), dtype=np.float32))
    kv.fill_norms()
    kv.intersect_word2vec_format(tmp_path / "pretrained", binary=binary)
    assert kv.index_to_key == ["a", "b", "c", "d"]
    assert kv.vectors.tolist() == [[0, 0], [1, 1], [0, 0], [3, 3]]
    assert kv.vectors_lockf.tolist() == [1, 0, 1, 0] and kv.vectors_lockf.dtype == np.float32
    assert kv.norms is None  # recomputed for the merged vectors
    kv.vectors_lockf = np.full(1, 0.5, dtype=np.float32)  # one factor shared by all keys
    kv.intersect_word2vec_format(tmp_path / "pretrained", lockf=1.0, binary=binary)
    assert kv.vectors_lockf.tolist() == [0.5, 1, 0.5, 1]


def test_intersect_word2vec_format_refusals(tmp_path):
    make_kv(["b"], np.ones((1, 3), dtype=np.float32)).save_word2vec_format(tmp_path / "v.txt")
    kv = make_kv(["a", "b"], np.zeros((2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="v.txt.*vector size 3"):
        kv.intersect_word2vec_format(tmp_path / "v.txt")
    make_kv(["b"], np.ones((1, 2), dtype=np.float32)).save_word2vec_format(tmp_path / "v.txt")
    kv.vectors_lockf = np.ones(3, dtype=np.float32)
    before = snapshot(kv)
    with pytest.raises(ValueError, match="vectors_lockf has 3 entries for 2 keys"):
        kv.intersect_word2vec_format(tmp_path / "v.txt")
    assert_unchanged(kv, before)
    kv.save(tmp_path / "kv.fw2v")
    mapped = KeyedVectors.load(tmp_path / "kv.fw2v", mmap="r")
    with pytest.raises(ValueError, match="read-only"):
        mapped.intersect_word2vec_format(tmp_path / "v.txt")


# --------------------------------------------------------------------------------------------
# TensorFlow Embedding Projector files


def read_projector(vectors_path, metadata_path):
    """The two files read back as the projector reads them: rows split on newlines and tabs,
    blank lines skipped."""
    with open(vectors_path, encoding="utf-8") as handle:
        rows = [line.split("\t") for line in handle.read().split("\n") if line.strip()]
    with open(metadata_path, encoding="utf-8") as handle:
        labels = [line.split("\t") for line in handle.read().split("\n") if line.strip()]
    return np.array(rows, dtype=np.float32), labels


def test_save_projector_writes_vectors_and_counted_words_most_frequent_first(tmp_path):
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((5, 7)).astype(np.float32)
    kv = make_kv(["b", "d", "a", "e", "c"], vectors, counts=[20, 5, 40, 1, 10])
    written = kv.save_projector(tmp_path / "run")
    assert written == (str(tmp_path / "run_vectors.tsv"), str(tmp_path / "run_metadata.tsv"))
    read_vectors, labels = read_projector(*written)
    assert labels == [["word", "count"], ["a", "40"], ["b", "20"], ["c", "10"], ["d", "5"],
                      ["e", "1"]]
    # Nine significant digits give every float32 back exactly.
    np.testing.assert_array_equal(read_vectors, kv[["a", "b", "c", "d", "e"]])


def test_save_projector_without_counts_has_one_column_and_no_header(tmp_path):
    kv = make_kv(["x", "y", "z"], np.arange(6, dtype=np.float32).reshape(3, 2))
    vectors_path, metadata_path = kv.save_projector(tmp_path)
    assert (vectors_path, metadata_path) == (str(tmp_path / "vectors.tsv"),
                                             str(tmp_path / "metadata.tsv"))
    assert open(metadata_path).read() == "x\ny\nz\n"
    assert open(vectors_path).read() == "0\t1\n2\t3\n4\t5\n"
    counted = make_kv(["x", "y"], np.eye(2, dtype=np.float32), counts=[1, 2])
    counted.save_projector(tmp_path / "plain", counts=False)
    assert open(tmp_path / "plain_metadata.tsv").read() == "x\ny\n"


def test_save_projector_keeps_one_label_per_vector_whatever_the_keys_hold(tmp_path):
    keys = ["new\tyork", "two\nlines", "cr\rlf", "back\\slash", "", " ", 7, "café"]
    kv = make_kv(keys, np.eye(len(keys), dtype=np.float32))
    vectors, labels = read_projector(*kv.save_projector(tmp_path / "odd"))
    assert len(vectors) == len(labels) == len(keys)
    assert [row[0] for row in labels] == [
        "new\\tyork", "two\\nlines", "cr\\rlf", "back\\\\slash", "''", "' '", "7", "café"]


def test_save_projector_limit_keeps_the_most_frequent(tmp_path):
    kv = make_kv(["rare", "common", "middle"], np.eye(3, dtype=np.float32), counts=[1, 9, 5])
    vectors, labels = read_projector(*kv.save_projector(tmp_path / "top", limit=2))
    assert labels == [["word", "count"], ["common", "9"], ["middle", "5"]]
    np.testing.assert_array_equal(vectors, kv[["common", "middle"]])
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="limit"):
            kv.save_projector(tmp_path / "bad", limit=bad)


def test_save_projector_replaces_neither_file_when_one_cannot_be_written(tmp_path):
    kv = make_kv(["a", "b"], np.eye(2, dtype=np.float32))
    (tmp_path / "run_vectors.tsv").write_text("old vectors")
    (tmp_path / "run_metadata.tsv").mkdir()
    with pytest.raises(IsADirectoryError):
        kv.save_projector(tmp_path / "run")
    assert (tmp_path / "run_vectors.tsv").read_text() == "old vectors"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run_metadata.tsv", "run_vectors.tsv"]


def test_save_projector_matches_gensims_word2vec2tensor(tmp_path):
    word2vec2tensor = pytest.importorskip("gensim.scripts.word2vec2tensor")
    rng = np.random.default_rng(5)
    kv = make_kv([f"w{i}" for i in range(30)], rng.standard_normal((30, 6)).astype(np.float32))
    source = tmp_path / "vectors.txt"
    kv.save_word2vec_format(source)
    word2vec2tensor.word2vec2tensor(str(source), str(tmp_path / "gensim"))
    loaded = KeyedVectors.load_word2vec_format(source)
    ours = read_projector(*loaded.save_projector(tmp_path / "ours", counts=False))
    theirs = read_projector(tmp_path / "gensim_tensor.tsv", tmp_path / "gensim_metadata.tsv")
    assert ours[1] == theirs[1]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
