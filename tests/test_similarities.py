"""Tests for fastw2v.similarities: the indexers behind ``most_similar(..., indexer=...)``.

Annoy and hnswlib are optional: tests that build their indexes are skipped without them; the
tests of a missing package hide it (it need not be installed for those).
"""

from __future__ import annotations

import json
import pathlib
import pickle
import sys

import numpy as np
import pytest

from fastw2v import KeyedVectors, Word2Vec, similarities
from fastw2v.similarities import AnnoyIndexer, ExactIndexer, HnswIndexer

CLUSTERS, MEMBERS, DIMENSIONS = 150, 5, 24


def make_kv(keys, vectors) -> KeyedVectors:
    kv = KeyedVectors(vectors.shape[1])
    kv.add_vectors(list(keys), np.asarray(vectors, dtype=np.float32))
    return kv


@pytest.fixture(scope="module")
def planted() -> KeyedVectors:
    """Tight clusters of MEMBERS vectors around random centres: each key's 4 nearest
    neighbours are the other members of its cluster, by construction."""
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((CLUSTERS, DIMENSIONS))
    vectors = np.repeat(centres, MEMBERS, axis=0)
    vectors += 0.02 * rng.standard_normal(vectors.shape)
    keys = [f"c{row // MEMBERS}m{row % MEMBERS}" for row in range(len(vectors))]
    return make_kv(keys, vectors)


def cluster_of(key: str) -> str:
    return key.split("m")[0]


def planted_recall(kv: KeyedVectors, indexer) -> float:
    """Share of each key's planted siblings found among its MEMBERS nearest (itself included)."""
    hits = 0
    for key in kv.index_to_key:
        found = kv.most_similar(key, topn=MEMBERS, indexer=indexer)
        hits += sum(cluster_of(other) == cluster_of(key) for other, _ in found if other != key)
    return hits / (len(kv) * (MEMBERS - 1))


def annoy_indexer(kv, num_trees=20):
    pytest.importorskip("annoy")
    return AnnoyIndexer(kv, num_trees, seed=3)


def hnsw_indexer(kv, **parameters):
    pytest.importorskip("hnswlib")
    return HnswIndexer(kv, num_threads=1, **parameters)


BUILDERS = {"annoy": annoy_indexer, "hnsw": hnsw_indexer}


# ---------------------------------------------------------------------------- against exact


@pytest.mark.parametrize("name", ["exact", *BUILDERS])
def test_indexer_finds_the_planted_neighbours(planted, name):
    indexer = ExactIndexer(planted) if name == "exact" else BUILDERS[name](planted)
    assert planted_recall(planted, indexer) >= (1.0 if name == "exact" else 0.95)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_approximate_indexers_agree_with_exact_search(name):
    rng = np.random.default_rng(11)
    kv = make_kv([f"w{row}" for row in range(1500)], rng.standard_normal((1500, 16)))
    indexer = BUILDERS[name](kv)
    overlap = 0
    for row in range(0, 1500, 15):
        key = f"w{row}"
        exact = {other for other, _ in kv.most_similar(key, topn=10)}
        found = [other for other, _ in kv.most_similar(key, topn=11, indexer=indexer)]
        assert found[0] == key  # the index sees only a vector: the query's key comes first
        overlap += len(exact & set(found[1:]))
    assert overlap / (100 * 10) >= 0.9


@pytest.mark.parametrize("name", list(BUILDERS))
def test_similarities_are_cosines(planted, name):
    indexer = BUILDERS[name](planted)
    query = planted["c3m1"] + planted["c9m0"]
    for key, similarity in indexer.most_similar(query, 8):
        expected = np.dot(planted[key], query) / (
            np.linalg.norm(planted[key]) * np.linalg.norm(query)
        )
        assert similarity == pytest.approx(expected, abs=1e-5)


def test_exact_indexer_matches_most_similar(planted):
    indexer = ExactIndexer(planted)
    rng = np.random.default_rng(5)
    for vector in rng.standard_normal((20, DIMENSIONS)):
        expected = planted.similar_by_vector(vector.astype(np.float32), topn=7)
        found = planted.similar_by_vector(vector.astype(np.float32), topn=7, indexer=indexer)
        assert [key for key, _ in found] == [key for key, _ in expected]
        assert [score for _, score in found] == pytest.approx([s for _, s in expected], abs=1e-6)


def test_exact_batch_merges_blocks_correctly(planted, monkeypatch):
    # Blocks of 7 rows and 3 queries: every query's best rows span several blocks.
    monkeypatch.setattr(similarities, "_ROWS_PER_BLOCK", 7)
    monkeypatch.setattr(similarities, "_QUERIES_PER_BLOCK", 3)
    indexer = ExactIndexer(planted)
    queries = np.random.default_rng(2).standard_normal((10, DIMENSIONS))
    unit = planted.get_normed_vectors()
    for query, found in zip(queries, indexer.most_similar_batch(queries, 12)):
        scores = unit @ (query / np.linalg.norm(query))
        best = np.argsort(-scores)[:12]
        assert [key for key, _ in found] == [planted.index_to_key[row] for row in best]


@pytest.mark.parametrize("name", ["exact", *BUILDERS])
def test_batch_answers_as_single_queries(planted, name):
    indexer = ExactIndexer(planted) if name == "exact" else BUILDERS[name](planted)
    queries = planted.vectors[[0, 33, 400]]
    batch = indexer.most_similar_batch(queries, 6)
    for found, query in zip(batch, queries):
        # A matrix product may round differently from a matrix-vector product.
        single = indexer.most_similar(query, 6)
        assert [key for key, _ in found] == [key for key, _ in single]
        assert [score for _, score in found] == pytest.approx([s for _, s in single], abs=1e-6)


@pytest.mark.parametrize("name", ["exact", *BUILDERS])
def test_more_neighbours_than_keys_returns_every_key(name):
    kv = make_kv(["a", "b", "c"], np.eye(3))
    indexer = ExactIndexer(kv) if name == "exact" else BUILDERS[name](kv)
    assert sorted(key for key, _ in indexer.most_similar(np.ones(3), 10)) == ["a", "b", "c"]
    assert indexer.most_similar(np.ones(3), 0) == []


def test_zero_vectors_score_zero():
    kv = make_kv(["zero", "x"], np.array([[0, 0], [1, 0]]))
    assert ExactIndexer(kv).most_similar(np.array([1.0, 0.0]), 2) == [("x", 1.0), ("zero", 0.0)]


# ------------------------------------------------------------------ gensim's tutorial habits


def test_gensim_tutorial_pattern_with_annoy():
    pytest.importorskip("annoy")
    rng = np.random.default_rng(0)
    words = [f"word{i}" for i in range(60)]
    sentences = [list(rng.choice(words, 12)) for _ in range(300)]
    model = Word2Vec(sentences, vector_size=16, min_count=1, seed=1, workers=1, epochs=2)
    # As gensim's Annoy tutorial writes it: the index built from the model itself.
    result = model.wv.most_similar("word3", topn=10, indexer=AnnoyIndexer(model, 100))
    assert len(result) == 10
    assert result[0][0] == "word3" and result[0][1] == pytest.approx(1.0, abs=1e-5)
    # 100 trees over 60 words inspect them all: the exact answer, the query word first.
    exact = model.wv.most_similar("word3", topn=9)
    assert [key for key, _ in result[1:]] == [key for key, _ in exact]


def test_gensim_load_pattern_on_an_instance(planted, tmp_path):
    indexer = annoy_indexer(planted)
    indexer.save(tmp_path / "index")
    # gensim's documented way: an empty indexer, filled by load, then given the model.
    restored = AnnoyIndexer()
    assert restored.load(tmp_path / "index") is restored
    restored.model = planted
    assert restored.num_trees == 20
    assert planted.most_similar("c1m1", topn=5, indexer=restored) == planted.most_similar(
        "c1m1", topn=5, indexer=indexer
    )


class Recorder:
    """An indexer that records what it is asked, to see that the queries reach it."""

    def __init__(self):
        self.calls = []

    def most_similar(self, vector, num_neighbors):
        self.calls.append((np.array(vector), num_neighbors))
        return [("answer", 0.5)]


def test_similar_by_methods_pass_the_indexer(planted):
    recorder = Recorder()
    assert planted.similar_by_key("c2m0", topn=3, indexer=recorder) == [("answer", 0.5)]
    assert planted.similar_by_word("c2m0", topn=4, indexer=recorder) == [("answer", 0.5)]
    vector = np.arange(DIMENSIONS, dtype=np.float32)
    assert planted.similar_by_vector(vector, topn=5, indexer=recorder) == [("answer", 0.5)]
    assert [count for _, count in recorder.calls] == [3, 4, 5]
    unit = planted["c2m0"] / np.linalg.norm(planted["c2m0"])
    np.testing.assert_allclose(recorder.calls[0][0], unit, rtol=1e-6)
    np.testing.assert_allclose(recorder.calls[2][0], vector / np.linalg.norm(vector), rtol=1e-6)


# ------------------------------------------------------------------------------ save / load


@pytest.mark.parametrize("name", list(BUILDERS))
def test_save_load_round_trip(planted, tmp_path, name):
    indexer = BUILDERS[name](planted)
    path = tmp_path / "index"
    indexer.save(path)
    assert sorted(item.name for item in tmp_path.iterdir()) == ["index", "index.json"]
    loaded = type(indexer).load(path)
    assert loaded.model is None and loaded.labels == planted.index_to_key
    for key in ("c0m0", "c77m3", "c149m4"):
        assert planted.most_similar(key, topn=6, indexer=loaded) == planted.most_similar(
            key, topn=6, indexer=indexer
        )
    loaded.save(path)  # a loaded index saves again, over its own file
    assert type(indexer).load(path).labels == planted.index_to_key


def test_hnsw_parameters_are_saved_and_settable(planted, tmp_path):
    indexer = hnsw_indexer(planted, M=8, ef_construction=40, ef=30)
    indexer.ef = 64
    indexer.save(tmp_path / "index")
    loaded = HnswIndexer.load(tmp_path / "index")
    assert (loaded.M, loaded.ef_construction, loaded.ef) == (8, 40, 64)
    with pytest.raises(ValueError, match="ef must be"):
        loaded.ef = 0


def test_int_keys_round_trip_and_other_keys_are_refused(tmp_path):
    kv = make_kv([10, 20, 30], np.eye(3))
    indexer = hnsw_indexer(kv)
    indexer.save(tmp_path / "index")
    assert HnswIndexer.load(tmp_path / "index").labels == [10, 20, 30]
    kv = make_kv([("a", 1), ("b", 2)], np.eye(2))
    with pytest.raises(ValueError, match=r"cannot save key \('a', 1\)"):
        hnsw_indexer(kv).save(tmp_path / "tuples")
    assert not (tmp_path / "tuples").exists()


class _HandBuiltAnnoyIndex:
    """Stands in for an Annoy index built outside the indexer, so no tree count is known."""

    def save(self, path):
        pathlib.Path(path).write_bytes(b"trees")

    def unload(self):
        pass

    def load(self, path):
        pass


def test_an_annoy_index_of_unknown_num_trees_is_not_saved(tmp_path):
    # Its saved description would hold num_trees null, which load refuses.
    indexer = AnnoyIndexer()
    indexer.index, indexer.labels, indexer.dimension = _HandBuiltAnnoyIndex(), ["a"], 2
    with pytest.raises(ValueError, match="num_trees is unknown"):
        indexer.save(tmp_path / "index")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def saved_hnsw(planted, tmp_path) -> pathlib.Path:
    hnsw_indexer(planted).save(tmp_path / "index")
    return tmp_path / "index"


def test_a_changed_byte_in_the_index_is_refused(saved_hnsw):
    data = bytearray(saved_hnsw.read_bytes())
    data[len(data) // 2] ^= 0xFF
    saved_hnsw.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"index: its SHA-256 digest differs"):
        HnswIndexer.load(saved_hnsw)


def test_a_truncated_index_is_refused(saved_hnsw):
    data = saved_hnsw.read_bytes()
    saved_hnsw.write_bytes(data[:-100])
    with pytest.raises(ValueError, match=f"index: holds {len(data) - 100:,} bytes"):
        HnswIndexer.load(saved_hnsw)


def test_an_index_of_another_kind_is_refused(saved_hnsw):
    pytest.importorskip("annoy")
    with pytest.raises(ValueError, match=r"index.json: .*'hnsw'.*HnswIndexer.load"):
        AnnoyIndexer.load(saved_hnsw)


def test_a_swapped_index_file_is_refused(planted, saved_hnsw, tmp_path):
    other = make_kv(planted.index_to_key, planted.vectors[::-1])
    hnsw_indexer(other).save(tmp_path / "other")
    saved_hnsw.write_bytes((tmp_path / "other").read_bytes())
    with pytest.raises(ValueError, match="not the index that was saved with"):
        HnswIndexer.load(saved_hnsw)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda document: "not json", "not valid JSON"),
        (lambda document: {**document, "format": "other"}, "lacks the fastw2v.index marker"),
        (lambda document: {**document, "format_version": 99}, "newer fastw2v"),
        (lambda document: {**document, "keys": document["keys"][:-1]}, "'keys' must be a list"),
        (lambda document: {**document, "keys": [[1]] * document["count"]}, "str or an int"),
        (lambda document: {**document, "keys": ["x"] * document["count"]}, "appears twice"),
        (lambda document: {**document, "dimension": 0}, "invalid dimension"),
        (lambda document: {**document, "parameters": {"M": "many"}}, "invalid parameters"),
        (lambda document: {**document, "index_file": None}, "'index_file' must record"),
    ],
)
def test_a_damaged_description_is_refused(saved_hnsw, change, message):
    sidecar = saved_hnsw.with_name("index.json")
    changed = change(json.loads(sidecar.read_text(encoding="utf-8")))
    sidecar.write_text(changed if isinstance(changed, str) else json.dumps(changed), "utf-8")
    with pytest.raises(ValueError, match=f"index.json: .*{message}"):
        HnswIndexer.load(saved_hnsw)


def test_a_missing_description_is_named(saved_hnsw):
    saved_hnsw.with_name("index.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"index.json: no such file"):
        HnswIndexer.load(saved_hnsw)


class LeavesATrace:
    """Unpickling this object creates the file named in it: evidence that code ran."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_a_gensim_pickled_index_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "code-ran"
    (tmp_path / "index").write_bytes(b"\0" * 64)
    (tmp_path / "index.dict").write_bytes(pickle.dumps({"labels": LeavesATrace(str(marker))}))
    with pytest.raises(ValueError, match=r"index.dict: an index saved by gensim.*AnnoyIndexer"):
        AnnoyIndexer.load(tmp_path / "index")
    assert not marker.exists()


def test_a_foreign_file_with_a_matching_digest_is_refused_by_annoy(planted, tmp_path):
    indexer = annoy_indexer(planted)
    indexer.save(tmp_path / "index")
    # A consistent pair whose index file is not an Annoy index of that dimension.
    garbage = b"not an annoy index"
    (tmp_path / "index").write_bytes(garbage)
    sidecar = tmp_path / "index.json"
    document = json.loads(sidecar.read_text(encoding="utf-8"))
    import hashlib

    document["index_file"] = {"bytes": len(garbage), "sha256": hashlib.sha256(garbage).hexdigest()}
    sidecar.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValueError, match="index: not an Annoy index"):
        AnnoyIndexer.load(tmp_path / "index")


# ----------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("module", "build", "extra"),
    [("annoy", lambda kv: AnnoyIndexer(kv, 5), "annoy"), ("hnswlib", HnswIndexer, "ann")],
)
def test_a_missing_package_names_the_extra(planted, monkeypatch, module, build, extra):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    with pytest.raises(ImportError, match=f'pip install "fastw2v\\[{extra}\\]"'):
        build(planted)


def test_a_missing_package_on_load_names_the_extra(saved_hnsw, monkeypatch):
    monkeypatch.setitem(sys.modules, "hnswlib", None)
    with pytest.raises(ImportError, match=r'pip install "fastw2v\[ann\]"'):
        HnswIndexer.load(saved_hnsw)


def test_bad_arguments_are_named(planted):
    with pytest.raises(ValueError, match="num_trees is needed"):
        AnnoyIndexer(planted)
    with pytest.raises(ValueError, match="num_trees must be"):
        AnnoyIndexer(planted, 0)
    with pytest.raises(ValueError, match="M must be"):
        HnswIndexer(planted, M=1)
    with pytest.raises(ValueError, match="model must be a Word2Vec or KeyedVectors"):
        ExactIndexer([[1.0, 2.0]])
    with pytest.raises(ValueError, match="holds no index"):
        HnswIndexer().most_similar(np.ones(DIMENSIONS), 3)
    indexer = ExactIndexer(planted)
    with pytest.raises(ValueError, match=f"{DIMENSIONS} values each"):
        indexer.most_similar(np.ones(DIMENSIONS + 1), 3)
    with pytest.raises(ValueError, match="num_neighbors must be >= 0"):
        indexer.most_similar(np.ones(DIMENSIONS), -1)
