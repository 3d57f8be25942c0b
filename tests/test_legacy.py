"""Tests for fastw2v._legacy: the gensim 3 names that gensim 4 keeps on KeyedVectors."""

import numpy as np
import pytest

from fastw2v.keyedvectors import KeyedVectors


def make_kv(words, vectors) -> KeyedVectors:
    kv = KeyedVectors(vectors.shape[1])
    kv.add_vectors(list(words), vectors)
    return kv


@pytest.fixture
def small() -> KeyedVectors:
    rng = np.random.default_rng(42)
    return make_kv([f"w{i}" for i in range(20)], rng.standard_normal((20, 4)).astype(np.float32))


def test_init_sims_is_deprecated_but_works():
    kv = make_kv(["a", "b"], np.array([[3, 4], [0, 2]], dtype=np.float32))
    with pytest.warns(DeprecationWarning, match="init_sims.*fill_norms"):
        kv.init_sims()
    assert kv.norms.tolist() == [5, 2] and kv["a"].tolist() == [3, 4]
    with pytest.warns(DeprecationWarning):
        kv.init_sims(replace=True)
    np.testing.assert_allclose(kv.vectors, [[0.6, 0.8], [0, 1]], rtol=1e-6)
    assert kv.norms.tolist() == [1, 1]
    assert kv.most_similar("a", topn=1) == [("b", pytest.approx(0.8))]


def test_deprecated_aliases_warn_and_work(small):
    with pytest.warns(DeprecationWarning, match="word_vec.*get_vector"):
        assert small.word_vec("w3", norm=True).tolist() == small.get_vector("w3", True).tolist()
    with pytest.warns(DeprecationWarning, match="words_closer_than.*closer_than"):
        assert small.words_closer_than("w1", "w2") == small.closer_than("w1", "w2")
    with pytest.raises(NotImplementedError, match="Doc2Vec"):
        small.similarity_unseen_docs("a", "b")


def test_gensim_3_attributes_raise_as_in_gensim_4(small):
    for name in ("index2word", "index2entity"):
        with pytest.raises(AttributeError, match=f"{name}.*index_to_key"):
            getattr(small, name)
    with pytest.raises(AttributeError, match="vocab.*key_to_index"):
        small.vocab  # noqa: B018
    with pytest.raises(AttributeError, match="vocab"):
        small.vocab = {}
    with pytest.raises(AttributeError, match="get_normed_vectors"):
        small.vectors_norm  # noqa: B018
    small.vectors_norm = None  # ignored, as gensim 4 ignores it
    kv = make_kv(["a", "b"], np.eye(2, dtype=np.float32))
    kv.index2word = ["b", "a"]
    assert kv.index_to_key == ["b", "a"] and kv.key_to_index == {"b": 0, "a": 1}
    assert KeyedVectors(2, mapfile_path="unused").mapfile_path == "unused"
