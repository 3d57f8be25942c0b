"""Tests for fastw2v._gensim_model: models saved by gensim, read without running their code."""

from __future__ import annotations

import bz2
import collections
import functools
import gzip
import io
import os
import pickle
import re
import subprocess
import sys
import types
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastw2v import KeyedVectors
from fastw2v._gensim_model import (
    GensimModelData,
    GensimModelError,
    is_gensim_pickle,
    keyed_vectors_from,
    read_gensim_model,
)

SENTENCES = [
    ["the", "cat", "sat", "on", "the", "mat"],
    ["the", "dog", "sat", "on", "the", "log"],
    ["a", "cat", "and", "a", "dog", "met", "on", "a", "mat"],
    ["rare", "words", "appear", "once"],
] * 15

# Word2Vec attributes that gensim 4 stores under the same name as GensimModelData.
PARAMETERS = (
    "sg", "hs", "negative", "ns_exponent", "cbow_mean", "window", "shrink_windows", "sample",
    "min_count", "effective_min_count", "max_vocab_size", "max_final_vocab", "sorted_vocab",
    "null_word", "alpha", "min_alpha", "min_alpha_yet_reached", "epochs", "seed",
    "layer1_size", "batch_words", "workers", "compute_loss", "running_training_loss",
    "corpus_count", "corpus_total_words", "train_count", "total_train_time", "comment",
)
OBJECTIVES = [(0, 5), (1, 0), (1, 3)]  # (hs, negative): ns only, hs only, both


# ------------------------------------------------------------------------------------------
# Models written by gensim 4


@pytest.fixture(scope="module")
def gensim():
    return pytest.importorskip("gensim")


@functools.cache
def gensim_model(sg: int, hs: int, negative: int):
    from gensim.models import Word2Vec

    # Every parameter away from its default, so reading a default would not pass.
    return Word2Vec(
        SENTENCES, vector_size=12, window=3, min_count=2, sg=sg, hs=hs, negative=negative,
        ns_exponent=0.6, cbow_mean=0, sample=0.01, alpha=0.03, min_alpha=0.002, epochs=3,
        seed=7, workers=1, batch_words=500, shrink_windows=False, max_final_vocab=50,
        compute_loss=True, comment="fastw2v test",
    )


def assert_same_array(ours: Any, theirs: Any) -> None:
    if theirs is None:
        assert ours is None
        return
    assert isinstance(ours, np.ndarray)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    if theirs.dtype == object:  # hierarchical softmax codes and points: one array per word
        for mine, gensims in zip(ours, theirs):
            np.testing.assert_array_equal(mine, gensims)
            assert mine.dtype == gensims.dtype
    else:
        np.testing.assert_array_equal(ours, theirs)


def assert_same_vectors(data: GensimModelData, wv) -> None:
    assert data.index_to_key == wv.index_to_key
    assert data.vector_size == wv.vector_size
    assert_same_array(data.vectors, wv.vectors)
    assert_same_array(data.counts, wv.expandos.get("count"))
    assert sorted(data.expandos) == sorted(wv.expandos)
    for name, values in wv.expandos.items():
        assert_same_array(data.expandos[name], values)


def assert_same_word2vec(data: GensimModelData, model) -> None:
    assert data.kind == "Word2Vec"
    assert data.gensim_class == "gensim.models.word2vec.Word2Vec"
    import gensim

    assert data.gensim_version == gensim.__version__
    assert_same_vectors(data, model.wv)
    assert_same_array(data.syn1neg, getattr(model, "syn1neg", None))
    assert_same_array(data.syn1, getattr(model, "syn1", None))
    assert_same_array(data.vectors_lockf, model.wv.vectors_lockf)
    for name in PARAMETERS:
        assert getattr(data, name) == getattr(model, name), name
        assert type(getattr(data, name)) is type(getattr(model, name)), name


def separate_files(path: str) -> list[str]:
    folder, name = os.path.split(path)
    return sorted(entry for entry in os.listdir(folder) if entry.startswith(name + "."))


@pytest.mark.parametrize("sg", [0, 1])
@pytest.mark.parametrize("hs, negative", OBJECTIVES)
@pytest.mark.parametrize("separately", [False, True])
def test_word2vec_equals_gensim(gensim, tmp_path, sg, hs, negative, separately):
    model = gensim_model(sg, hs, negative)
    path = str(tmp_path / "w2v.model")
    # sep_limit counts elements: 1 sends every array to its own .npy file.
    model.save(path, **({"sep_limit": 1} if separately else {}))
    expected_files = ["w2v.model.wv.vectors.npy", "w2v.model.wv.vectors_lockf.npy"]
    expected_files += ["w2v.model.syn1.npy"] if hs else []
    expected_files += ["w2v.model.syn1neg.npy"] if negative else []
    assert separate_files(path) == (sorted(expected_files) if separately else [])
    data = read_gensim_model(path)
    assert_same_word2vec(data, model)
    assert (data.syn1 is None) == (not hs) and (data.syn1neg is None) == (not negative)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("separately", [False, True])
def test_every_pickle_protocol(gensim, tmp_path, protocol, separately):
    model = gensim_model(1, 1, 3)
    path = str(tmp_path / "w2v.model")
    model.save(path, pickle_protocol=protocol, **({"sep_limit": 1} if separately else {}))
    with open(path, "rb") as saved:
        assert saved.read(2) == bytes([0x80, protocol])
    assert_same_word2vec(read_gensim_model(path), model)


@pytest.mark.parametrize("suffix, opener", [(".gz", gzip.open), (".bz2", bz2.open)])
@pytest.mark.parametrize("separately", [False, True])
def test_compressed_model(gensim, tmp_path, suffix, opener, separately):
    model = gensim_model(0, 0, 5)
    path = str(tmp_path / f"w2v.model{suffix}")
    model.save(path, **({"sep_limit": 1} if separately else {}))
    with opener(path, "rb") as stream:  # really compressed
        assert stream.read(1) == b"\x80"
    if separately:
        assert f"w2v.model{suffix}.wv.vectors.npz" in separate_files(path)
    assert_same_word2vec(read_gensim_model(path), model)


def test_compressed_model_cannot_be_memory_mapped(gensim, tmp_path):
    model = gensim_model(0, 0, 5)
    inline, apart = str(tmp_path / "inline.model.gz"), str(tmp_path / "apart.model.gz")
    model.save(inline)
    model.save(apart, sep_limit=1)
    # Nothing to map in a model whose arrays are all inside the pickle, as in gensim.
    assert_same_word2vec(read_gensim_model(inline, mmap="r"), model)
    with pytest.raises(ValueError, match=r"cannot memory-map .*apart\.model\.gz\..*\.npz"):
        read_gensim_model(apart, mmap="r")


def test_memory_mapped_arrays(gensim, tmp_path):
    model = gensim_model(1, 1, 3)
    path = str(tmp_path / "w2v.model")
    model.save(path, sep_limit=1)
    data = read_gensim_model(path, mmap="r")
    assert_same_word2vec(data, model)
    for array in (data.vectors, data.syn1neg, data.syn1):
        assert isinstance(array, np.memmap) and not array.flags.writeable
    copy_on_write = read_gensim_model(path, mmap="c")
    copy_on_write.vectors[0] = 1.0
    assert_same_word2vec(read_gensim_model(path), model)  # the file is unchanged
    with pytest.raises(ValueError, match="mmap must be one of"):
        read_gensim_model(path, mmap="w+")


@pytest.mark.parametrize("suffix, separately", [("", False), ("", True), (".gz", True)])
def test_keyed_vectors_file(gensim, tmp_path, suffix, separately):
    wv = gensim_model(0, 1, 0).wv
    path = str(tmp_path / f"vectors.kv{suffix}")
    wv.save(path, **({"sep_limit": 1} if separately else {}))
    data = read_gensim_model(path)
    assert data.kind == "KeyedVectors"
    assert data.gensim_class == "gensim.models.keyedvectors.KeyedVectors"
    assert_same_vectors(data, wv)
    assert_same_array(data.vectors_lockf, wv.vectors_lockf)
    assert data.syn1neg is None and data.syn1 is None
    assert all(getattr(data, name) is None for name in PARAMETERS)


def test_keyed_vectors_without_counts(gensim, tmp_path):
    from gensim.models import KeyedVectors as GensimKeyedVectors

    wv = GensimKeyedVectors(3)
    wv.add_vectors(["x", "y"], np.arange(6, dtype=np.float32).reshape(2, 3))
    path = str(tmp_path / "plain.kv")
    wv.save(path)
    data = read_gensim_model(path)
    assert data.counts is None and data.expandos == {}
    assert_same_vectors(data, wv)


def test_keyed_vectors_with_unfilled_slots(gensim, tmp_path):
    from gensim.models import KeyedVectors as GensimKeyedVectors

    wv = GensimKeyedVectors(2, count=3)  # three rows allocated, one filled
    wv.add_vector("only", np.ones(2, dtype=np.float32))
    path = str(tmp_path / "slots.kv")
    wv.save(path)
    data = read_gensim_model(path)
    assert data.index_to_key == ["only", None, None] and data.key_to_index == {"only": 0}
    assert_same_vectors(data, wv)
    kv = keyed_vectors_from(data)
    assert len(kv) == 3 and kv["only"].tolist() == [1.0, 1.0]


def test_model_with_a_generator_for_random(gensim, tmp_path):
    # gensim 4 gives a model re-saved after loading an old one a numpy Generator.
    from gensim.models import Word2Vec

    model = Word2Vec(SENTENCES, vector_size=4, min_count=1, epochs=1, workers=1, seed=3)
    model.random = np.random.default_rng(3)
    path = str(tmp_path / "generator.model")
    model.save(path)
    assert b"__generator_ctor" in (tmp_path / "generator.model").read_bytes()
    assert_same_word2vec(read_gensim_model(path), model)


def test_keyed_vectors_from_answers_like_gensim(gensim, tmp_path):
    model = gensim_model(1, 0, 5)
    path = str(tmp_path / "w2v.model")
    model.save(path, sep_limit=1)
    data = read_gensim_model(path, mmap="r")
    kv = keyed_vectors_from(data)
    assert isinstance(kv, KeyedVectors)
    assert kv.vectors is data.vectors  # still the memory map
    assert kv.index_to_key == model.wv.index_to_key
    assert kv.key_to_index == model.wv.key_to_index
    assert [int(kv.get_vecattr(word, "count")) for word in kv.index_to_key] == [
        model.wv.get_vecattr(word, "count") for word in model.wv.index_to_key
    ]
    ours, theirs = kv.most_similar("cat", topn=5), model.wv.most_similar("cat", topn=5)
    assert [word for word, _ in ours] == [word for word, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-5)
    archive = str(tmp_path / "vectors.fw2v")
    kv.save(archive)  # the counts are a plain numeric attribute fastw2v can store
    np.testing.assert_array_equal(KeyedVectors.load(archive).vectors, model.wv.vectors)


def test_is_gensim_pickle(gensim, tmp_path):
    model = gensim_model(0, 0, 5)
    for name in ("a.model", "b.model.gz", "c.model.bz2"):
        model.save(str(tmp_path / name))
        assert is_gensim_pickle(tmp_path / name)
    model.wv.save_word2vec_format(str(tmp_path / "vectors.txt"))
    model.wv.save_word2vec_format(str(tmp_path / "vectors.bin"), binary=True)
    keyed_vectors_from(read_gensim_model(tmp_path / "a.model")).save(str(tmp_path / "x.fw2v"))
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "protocol1.pkl").write_bytes(pickle.dumps([1], protocol=1))
    (tmp_path / "text.gz").write_bytes(gzip.compress(b"hello"))
    for name in ("vectors.txt", "vectors.bin", "x.fw2v", "empty", "protocol1.pkl", "text.gz",
                 "missing", "."):
        assert not is_gensim_pickle(tmp_path / name), name


def test_other_gensim_models_are_refused(gensim, tmp_path):
    from gensim.models import FastText

    path = str(tmp_path / "ft.model")
    FastText(SENTENCES, vector_size=4, min_count=1, epochs=1, workers=1).save(path)
    with pytest.raises(ValueError, match=r"gensim\.models\.fasttext\.FastText.*Word2Vec and "
                                         r"KeyedVectors models only"):
        read_gensim_model(path)


# ------------------------------------------------------------------------------------------
# Files shaped like older gensim versions, built here with stand-in classes under gensim's names


class _Saved:
    """An object pickled like a gensim SaveLoad instance: its __dict__."""

    def __init__(self, **state: Any) -> None:
        self.__dict__.update(state)


GENSIM_CLASSES = {
    "gensim.models.word2vec": ("Word2Vec", "Word2VecVocab", "Word2VecTrainables", "Vocab"),
    "gensim.models.keyedvectors": (
        "KeyedVectors", "Word2VecKeyedVectors", "EuclideanKeyedVectors", "Vocab",
    ),
    "gensim.models.fasttext": ("FastText",),
}


@pytest.fixture
def fake_gensim(monkeypatch):
    """Modules named like gensim's, so pickle writes gensim's class names; real gensim is
    shadowed for the test's duration only."""
    classes = types.SimpleNamespace()
    for package in ("gensim", "gensim.models", "gensim.utils", *GENSIM_CLASSES):
        monkeypatch.setitem(sys.modules, package, types.ModuleType(package))
    for module, names in GENSIM_CLASSES.items():
        for name in names:
            cls = type(name, (_Saved,), {"__module__": module})
            setattr(sys.modules[module], name, cls)
            # keyedvectors.Vocab (gensim 1.0-3.8) is the one these tests use.
            setattr(classes, "KVVocab" if module.endswith("keyedvectors") and name == "Vocab"
                    else name, cls)

    def call_on_class_only(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("never called")

    call_on_class_only.__module__ = "gensim.utils"
    call_on_class_only.__qualname__ = "call_on_class_only"
    sys.modules["gensim.utils"].call_on_class_only = call_on_class_only
    classes.call_on_class_only = call_on_class_only
    return classes


def save_like_gensim(
    root: _Saved, path: str, apart: tuple[str, ...] = (), protocol: int = 2, compress: bool = False
) -> None:
    """Write `root` in gensim's layout: the arrays named in `apart` ("wv.vectors") go to their
    own files, and every object lists what it stored apart, recursively."""

    def prepare(obj: _Saved, prefix: str, dotted: str) -> None:
        children = [name for name, value in vars(obj).items() if isinstance(value, _Saved)
                    and not name.startswith("__")]
        obj.__dict__["__recursive_saveloads"] = children
        for name in children:
            prepare(getattr(obj, name), f"{prefix}.{name}", f"{dotted}{name}.")
        numpys = [name for name in list(vars(obj)) if f"{dotted}{name}" in apart]
        for name in numpys:
            array = obj.__dict__.pop(name)
            if compress:
                np.savez_compressed(f"{prefix}.{name}.npz", val=array)
            else:
                np.save(f"{prefix}.{name}.npy", array)
        obj.__dict__["__numpys"] = numpys
        obj.__dict__["__scipys"] = []
        obj.__dict__.setdefault("__ignoreds", [])

    prepare(root, path, "")
    data = pickle.dumps(root, protocol=protocol)
    with open(path, "wb") as out:
        out.write(gzip.compress(data) if compress else data)


def gensim3_model(classes, rows: int = 5, size: int = 4) -> tuple[_Saved, dict]:
    """A gensim 3.8-shaped Word2Vec (vocabulary and trainables holders, Vocab objects) and the
    values a reader must find in it."""
    rng = np.random.default_rng(3)
    words = [f"w{row}" for row in range(rows)]
    counts = [50 - 7 * row for row in range(rows)]
    codes = [np.array([row % 2, 1], dtype=np.uint8) for row in range(rows)]
    points = [np.array([0, row], dtype=np.uint32) for row in range(rows)]
    vectors = rng.standard_normal((rows, size)).astype(np.float32)
    syn1neg = rng.standard_normal((rows, size)).astype(np.float32)
    syn1 = rng.standard_normal((rows, size)).astype(np.float32)
    lockf = np.ones(rows, dtype=np.float32)
    vocab = {
        word: classes.KVVocab(
            count=np.int64(counts[row]), index=row, sample_int=np.uint32(4000000000 - row),
            code=codes[row], point=points[row],
        )
        for row, word in enumerate(words)
    }
    wv = classes.Word2VecKeyedVectors(
        vectors=vectors, vocab=vocab, vector_size=size, index2word=list(words),
        vectors_norm=None, __ignoreds=["vectors_norm"],
    )
    vocabulary = classes.Word2VecVocab(
        max_vocab_size=None, min_count=3, sample=0.002, sorted_vocab=1, null_word=0,
        cum_table=None, raw_vocab=collections.defaultdict(int), max_final_vocab=None,
        ns_exponent=0.5, effective_min_count=3, __ignoreds=["cum_table"],
    )
    trainables = classes.Word2VecTrainables(
        hashfxn=hash, layer1_size=size, seed=11, syn1neg=syn1neg, syn1=syn1, vectors_lockf=lockf,
    )
    model = classes.Word2Vec(
        sg=1, alpha=np.float32(0.03), window=4, random=np.random.RandomState(11),
        min_alpha=0.0002, hs=1, negative=3, ns_exponent=0.5, cbow_mean=1, compute_loss=False,
        running_training_loss=0.0, min_alpha_yet_reached=0.0002, corpus_count=20,
        corpus_total_words=np.int64(180), vector_size=size, workers=3, epochs=7, train_count=1,
        total_train_time=0.25, batch_words=10000, model_trimmed_post_training=False,
        callbacks=(), load=classes.call_on_class_only, max_final_vocab=None, wv=wv,
        vocabulary=vocabulary, trainables=trainables,
    )
    expected = {
        "kind": "Word2Vec", "gensim_class": "gensim.models.word2vec.Word2Vec",
        "index_to_key": words, "vector_size": size, "sg": 1, "hs": 1, "negative": 3,
        "ns_exponent": 0.5, "cbow_mean": 1, "window": 4, "shrink_windows": True,
        "sample": 0.002, "min_count": 3, "effective_min_count": 3, "sorted_vocab": 1,
        "max_final_vocab": None, "alpha": float(np.float32(0.03)), "min_alpha": 0.0002,
        "epochs": 7, "seed": 11, "layer1_size": size, "corpus_count": 20,
        "corpus_total_words": 180, "train_count": 1, "gensim_version": None,
    }
    arrays = {
        "vectors": vectors, "syn1neg": syn1neg, "syn1": syn1, "vectors_lockf": lockf,
        "counts": np.array(counts, dtype=np.int64),
        "sample_int": np.array([4000000000 - row for row in range(rows)], dtype=np.uint32),
        "code": codes, "point": points,
    }
    return model, {"fields": expected, "arrays": arrays}


def assert_gensim3_data(data: GensimModelData, expected: dict) -> None:
    for name, value in expected["fields"].items():
        assert getattr(data, name) == value, name
    arrays = expected["arrays"]
    for name in ("vectors", "syn1neg", "syn1", "vectors_lockf", "counts"):
        np.testing.assert_array_equal(getattr(data, name), arrays[name])
        assert getattr(data, name).dtype == arrays[name].dtype, name
    assert sorted(data.expandos) == ["code", "count", "point", "sample_int"]
    np.testing.assert_array_equal(data.expandos["sample_int"], arrays["sample_int"])
    assert data.expandos["sample_int"].dtype == np.uint32
    for name in ("code", "point"):
        for ours, theirs in zip(data.expandos[name], arrays[name]):
            np.testing.assert_array_equal(ours, theirs)
            assert ours.dtype == theirs.dtype


@pytest.mark.parametrize("protocol", [2, 4])
@pytest.mark.parametrize("apart", [(), ("wv.vectors", "trainables.syn1neg",
                                        "trainables.syn1", "trainables.vectors_lockf")])
def test_gensim3_layout(fake_gensim, tmp_path, protocol, apart):
    model, expected = gensim3_model(fake_gensim)
    path = str(tmp_path / "old.model")
    save_like_gensim(model, path, apart=apart, protocol=protocol)
    for name in apart:
        assert os.path.isfile(f"{path}.{name}.npy")
    data = read_gensim_model(path)
    assert_gensim3_data(data, expected)
    assert data.gensim_class == "gensim.models.word2vec.Word2Vec"
    kv = keyed_vectors_from(data)
    assert kv.index_to_key == expected["fields"]["index_to_key"]
    assert kv.get_vecattr("w1", "count") == 43


def test_gensim3_compressed_layout(fake_gensim, tmp_path):
    model, expected = gensim3_model(fake_gensim)
    path = str(tmp_path / "old.model.gz")
    save_like_gensim(model, path, apart=("wv.vectors", "trainables.syn1neg"), compress=True)
    assert os.path.isfile(f"{path}.trainables.syn1neg.npz")
    assert_gensim3_data(read_gensim_model(path), expected)


def test_numpy1_module_paths(fake_gensim, tmp_path):
    # numpy 1 names its pickling helpers numpy.core.*, numpy 2 numpy._core.*; protocol 2 spells
    # globals as text, so a numpy 2 pickle turns into the numpy 1 spelling by substitution.
    model, expected = gensim3_model(fake_gensim)
    data = pickle.dumps(model, protocol=2)
    assert b"cnumpy._core.multiarray\n_reconstruct\n" in data
    path = tmp_path / "numpy1.model"
    path.write_bytes(data.replace(b"cnumpy._core.", b"cnumpy.core."))
    assert b"numpy._core" not in path.read_bytes()
    assert_gensim3_data(read_gensim_model(path), expected)


def test_gensim2_layout(fake_gensim, tmp_path):
    # gensim 1.x-3.2: parameters on the model, syn0/syn0_lockf/iter, KeyedVectors class.
    rng = np.random.default_rng(5)
    syn0 = rng.standard_normal((3, 2))  # float64: gensim kept whatever dtype it was given
    vocab = {word: fake_gensim.KVVocab(count=9 - row, index=row)
             for row, word in enumerate(["x", "y", "z"])}
    wv = fake_gensim.EuclideanKeyedVectors(syn0=syn0, vocab=vocab, index2word=["x", "y", "z"])
    model = fake_gensim.Word2Vec(
        wv=wv, sg=0, hs=0, negative=2, window=2, min_count=1, sample=0.0, iter=4,
        syn1neg=rng.standard_normal((3, 2)), syn0_lockf=np.ones(3, dtype=np.float32),
        alpha=0.025, min_alpha=0.0001, seed=1, layer1_size=2, vector_size=2,
    )
    path = str(tmp_path / "older.model")
    save_like_gensim(model, path, apart=("wv.syn0",))
    data = read_gensim_model(path)
    np.testing.assert_array_equal(data.vectors, syn0)
    assert data.vectors.dtype == np.float64
    assert (data.epochs, data.vector_size, data.negative, data.ns_exponent) == (4, 2, 2, 0.75)
    assert data.corpus_count is None and data.train_count == 0 and data.syn1 is None
    np.testing.assert_array_equal(data.vectors_lockf, np.ones(3, dtype=np.float32))
    np.testing.assert_array_equal(data.counts, [9, 8, 7])


def test_gensim3_keyed_vectors_and_python2_array_data(fake_gensim, tmp_path):
    # Python 2 wrote array bytes as str, which gensim reads back as latin-1.
    vectors = np.arange(6, dtype=np.float32).reshape(2, 3)
    reconstruct = np.ndarray.__reduce__(vectors)[0]

    class Python2Array:
        pass

    class Python2Pickler(pickle.Pickler):
        def reducer_override(self, obj):
            if isinstance(obj, Python2Array):
                state = (1, vectors.shape, vectors.dtype, False,
                         vectors.tobytes().decode("latin-1"))
                return reconstruct, (np.ndarray, (0,), b"b"), state
            return NotImplemented

    vocab = {"α": fake_gensim.KVVocab(count=2, index=0), "b": fake_gensim.KVVocab(count=1, index=1)}
    wv = fake_gensim.Word2VecKeyedVectors(
        vectors=Python2Array(), vocab=vocab, vector_size=3, index2word=["α", "b"],
        __numpys=[], __scipys=[], __ignoreds=[], __recursive_saveloads=[],
    )
    path = tmp_path / "py2.kv"
    with open(path, "wb") as out:
        Python2Pickler(out, protocol=2).dump(wv)
    data = read_gensim_model(path)
    assert data.kind == "KeyedVectors"
    assert data.gensim_class == "gensim.models.keyedvectors.Word2VecKeyedVectors"
    np.testing.assert_array_equal(data.vectors, vectors)
    assert data.index_to_key == ["α", "b"] and data.counts.tolist() == [2, 1]


def test_inconsistent_files_are_refused(fake_gensim, tmp_path):
    model, _ = gensim3_model(fake_gensim)
    path = str(tmp_path / "old.model")
    save_like_gensim(model, path, apart=("wv.vectors",))
    os.remove(f"{path}.wv.vectors.npy")
    with pytest.raises(ValueError, match=r"old\.model\.wv\.vectors\.npy is missing"):
        read_gensim_model(path)
    np.save(f"{path}.wv.vectors.npy", np.zeros((2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="2 vectors for 5 keys"):
        read_gensim_model(path)
    model, _ = gensim3_model(fake_gensim)
    model.wv.index2word = model.wv.index2word[::-1]
    save_like_gensim(model, path)
    with pytest.raises(ValueError, match="vocab places 'w4' at a row other than index2word"):
        read_gensim_model(path)
    (tmp_path / "vocab.model").write_bytes(pickle.dumps(fake_gensim.KVVocab(count=1), 4))
    with pytest.raises(ValueError, match=r"holds a gensim\.models\.keyedvectors\.Vocab"):
        read_gensim_model(tmp_path / "vocab.model")
    (tmp_path / "list.model").write_bytes(pickle.dumps([1, 2], 4))
    with pytest.raises(ValueError, match="holds a list, not a gensim"):
        read_gensim_model(tmp_path / "list.model")
    good = pickle.dumps(gensim3_model(fake_gensim)[0], 4)
    (tmp_path / "cut.model").write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match=r"cut\.model: the pickle ends before its STOP opcode"):
        read_gensim_model(tmp_path / "cut.model")
    (tmp_path / "text.model").write_bytes(b"3 2\nx 1 2\n")
    with pytest.raises(ValueError, match="does not start with a pickle of protocol 2 to 5"):
        read_gensim_model(tmp_path / "text.model")
    with pytest.raises(FileNotFoundError):
        read_gensim_model(tmp_path / "absent.model")


# ------------------------------------------------------------------------------------------
# Malicious files: each must be refused with a ValueError, and its payload must not have run


class Payload:
    """Pickles as a call of `function` with `args`: what an attacker puts in a model file."""

    def __init__(self, function: Any, *args: Any) -> None:
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args

    def __call__(self) -> None:  # so that defaultdict accepts it as a default factory
        pass


def touch_command(sentinel) -> str:
    return f"touch {sentinel}"


def _short_unicode(text: str) -> bytes:
    data = text.encode()
    return b"\x8c" + bytes([len(data)]) + data


def stack_global_call(module: str, name: str, argument: str) -> bytes:
    """Protocol 4 bytes calling module.name(argument), written opcode by opcode."""
    return (b"\x80\x04" + _short_unicode(module) + _short_unicode(name) + b"\x93"
            + _short_unicode(argument) + b"\x85R.")


def gensim_looking_system_call(sentinel) -> bytes:
    """A file that starts as a gensim Word2Vec and sets its comment to posix.system(...)."""
    command = touch_command(sentinel).encode()
    return (b"\x80\x02cgensim.models.word2vec\nWord2Vec\n)\x81}X\x07\x00\x00\x00comment"
            b"cposix\nsystem\nX" + len(command).to_bytes(4, "little") + command
            + b"\x85Rsb.")


def evil_npy(sentinel, folder) -> str:
    path = os.path.join(folder, "evil.npy")
    np.save(path, np.array([Payload(os.system, touch_command(sentinel)), 0], dtype=object),
            allow_pickle=True)
    return path


def array_with_payload(sentinel) -> bytes:
    reconstruct = np.ndarray.__reduce__(np.zeros(1))[0]

    class Evil:
        pass

    class EvilPickler(pickle.Pickler):
        def reducer_override(self, obj):
            if isinstance(obj, Evil):
                payload = [Payload(os.system, touch_command(sentinel))]
                return reconstruct, (np.ndarray, (0,), b"b"), (1, (1,), np.dtype("O"), False,
                                                               payload)
            return NotImplemented

    buffer = io.BytesIO()
    EvilPickler(buffer, protocol=4).dump({"vectors": Evil()})
    return buffer.getvalue()


SYSTEM = f"{os.system.__module__}.system"  # posix.system on Linux and macOS

# name -> (payload bytes for a sentinel path and a folder, the refused global the error names,
#          whether plain pickle needs real gensim to run it)
MALICIOUS = {
    "os.system via __reduce__": (
        lambda s, d: pickle.dumps(Payload(os.system, touch_command(s)), 4), SYSTEM, False),
    "builtins.eval": (
        lambda s, d: pickle.dumps(Payload(eval, f"open({str(s)!r}, 'w').close()"), 4),
        "builtins.eval", False),
    "subprocess.Popen": (
        lambda s, d: pickle.dumps(Payload(subprocess.Popen, ["touch", str(s)]), 4),
        "subprocess.Popen", False),
    "gensim-looking Word2Vec calling posix.system": (
        lambda s, d: gensim_looking_system_call(s), "posix.system", True),
    "gensim module with a dotted name to os.system": (
        lambda s, d: stack_global_call("gensim.utils", "os.system", touch_command(s)),
        "gensim.utils.os.system", True),
    "defaultdict whose factory calls os.system": (
        lambda s, d: pickle.dumps(
            collections.defaultdict(Payload(os.system, touch_command(s))), 2),
        SYSTEM, False),
    "ndarray whose object state calls os.system": (
        lambda s, d: array_with_payload(s), SYSTEM, False),
    "numpy.load of a pickled .npy": (
        lambda s, d: pickle.dumps(Payload(np.load, evil_npy(s, d), None, True), 4),
        "numpy.load", False),
}


def run_payload(data: bytes) -> None:
    result = pickle.loads(data)
    if isinstance(result, subprocess.Popen):
        result.wait()


@pytest.mark.parametrize("name", list(MALICIOUS))
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, name):
    build, refused, _ = MALICIOUS[name]
    sentinel = tmp_path / "payload-ran"
    path = tmp_path / "evil.model"
    path.write_bytes(build(sentinel, str(tmp_path)))
    with pytest.raises(ValueError, match=rf"evil\.model: refusing to load {re.escape(refused)}:"):
        read_gensim_model(path)
    assert not sentinel.exists()


@pytest.mark.parametrize("name", list(MALICIOUS))
def test_malicious_payloads_are_live(tmp_path, name):
    # The payloads above do run under plain pickle, so the test above can fail.
    build, _, needs_gensim = MALICIOUS[name]
    if needs_gensim:
        pytest.importorskip("gensim")
    sentinel = tmp_path / "payload-ran"
    data = build(sentinel, str(tmp_path))
    try:
        run_payload(data)
    except Exception:
        pass  # e.g. the gensim-looking file is not a valid Word2Vec after its payload ran
    assert sentinel.exists()


@pytest.mark.parametrize("module, name", [
    ("numpy", "frombuffer"), ("numpy", "load"), ("builtins", "getattr"),
    ("builtins", "__import__"), ("copyreg", "_reconstructor"), ("posix", "system"),
    ("gensim.models.word2vec", "np.load"), ("numpy.core.multiarray", "_reconstruct.__globals__"),
])
def test_globals_off_the_list_are_refused(tmp_path, module, name):
    path = tmp_path / "bad.model"
    path.write_bytes(stack_global_call(module, name, "x"))
    with pytest.raises(ValueError, match=f"refusing to load {re.escape(module + '.' + name)}:"):
        read_gensim_model(path)


@pytest.mark.parametrize("body, problem", [
    # A memo slot far beyond those filled would make the unpickler allocate and clear a memo
    # that large (here 1 GiB; a real attack would ask for more).
    (b"]r\x00\x00\x00\x04.", "memo slot 67108864 out of order"),
    (b"]p67108864\n.", "memo slot b'67108864' out of order"),
    (b"Pid\n.", "opcode PERSID has no place"),
    (b"K\x01Q.", "opcode BINPERSID has no place"),
    (b"\x82\x01.", "opcode EXT1 has no place"),
    (b"\x97.", "opcode NEXT_BUFFER has no place"),
    (b"(ibuiltins\nlist\n.", "opcode INST has no place"),
    (b"\xff.", "byte 0xff, not an opcode, has no place"),
    (b"X\xff\xff\xff\xffabc.", "pickle ends before its STOP opcode"),
])
def test_opcodes_are_checked_before_loading(tmp_path, body, problem):
    path = tmp_path / "bad.model"
    path.write_bytes(b"\x80\x02" + body)
    with pytest.raises(ValueError, match=re.escape(problem)):
        read_gensim_model(path)


@pytest.mark.parametrize("listing, names", [
    ("__numpys", ["../../etc/passwd"]),
    ("__numpys", ["/etc/passwd"]),
    ("__recursive_saveloads", [".."]),
    ("__numpys", [7]),
])
def test_array_file_names_cannot_leave_the_folder(fake_gensim, tmp_path, listing, names):
    model, _ = gensim3_model(fake_gensim)
    path = str(tmp_path / "old.model")
    save_like_gensim(model, path)
    model.wv.__dict__[listing] = names
    with open(path, "wb") as out:
        pickle.dump(model, out, protocol=2)
    with pytest.raises(ValueError, match=rf"malformed {listing} list"):
        read_gensim_model(path)


def test_array_file_symlinked_outside_is_refused(fake_gensim, tmp_path):
    model, _ = gensim3_model(fake_gensim)
    folder = tmp_path / "models"
    folder.mkdir()
    path = str(folder / "old.model")
    save_like_gensim(model, path, apart=("wv.vectors",))
    outside = tmp_path / "elsewhere.npy"
    np.save(outside, np.zeros((5, 4), dtype=np.float32))
    os.remove(f"{path}.wv.vectors.npy")
    os.symlink(outside, f"{path}.wv.vectors.npy")
    with pytest.raises(ValueError, match="lies outside the model's folder"):
        read_gensim_model(path)


@pytest.mark.parametrize("compress", [False, True])
def test_object_array_file_is_refused_and_never_runs(fake_gensim, tmp_path, compress):
    model, _ = gensim3_model(fake_gensim)
    path = str(tmp_path / ("old.model.gz" if compress else "old.model"))
    save_like_gensim(model, path, apart=("wv.vectors",), compress=compress)
    sentinel = tmp_path / "payload-ran"
    evil = np.array([Payload(os.system, touch_command(sentinel))] * 20, dtype=object)
    evil_path = f"{path}.wv.vectors.{'npz' if compress else 'npy'}"
    if compress:
        np.savez_compressed(evil_path, val=evil)
    else:
        np.save(evil_path, evil, allow_pickle=True)
    with pytest.raises(ValueError, match="cannot read the array file .*pickle"):
        read_gensim_model(path)
    assert not sentinel.exists()
    loaded = np.load(evil_path, allow_pickle=True)  # what an unrestricted reader would do
    if compress:
        loaded["val"]
    assert sentinel.exists()


# ------------------------------------------------------------------------------------------
# Fuzzing: any bytes give a model or a ValueError, and never run anything

FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_fuzzed_pickles_raise_only_value_error(fake_gensim, tmp_path):
    sentinel = tmp_path / "payload-ran"
    model4, _ = gensim3_model(fake_gensim, rows=3, size=2)
    seeds = [
        pickle.dumps(model4, protocol=4),
        pickle.dumps(gensim3_model(fake_gensim, rows=2, size=2)[0], protocol=2),
        gensim_looking_system_call(sentinel),
        pickle.dumps(Payload(os.system, touch_command(sentinel)), 4),
    ]
    path = tmp_path / "fuzz.model"

    @FUZZ
    @given(
        seed=st.sampled_from(range(len(seeds))),
        edits=st.lists(st.tuples(st.integers(0, 10**6), st.binary(min_size=0, max_size=4),
                                 st.integers(0, 4)), max_size=6),
        cut=st.none() | st.integers(0, 10**6),
        noise=st.none() | st.binary(max_size=200),
    )
    def check(seed, edits, cut, noise):
        data = bytearray(b"\x80\x04" + noise if noise is not None else seeds[seed])
        for position, replacement, removed in edits:
            position %= len(data) + 1
            data[position:position + removed] = replacement
        if cut is not None:
            del data[cut % (len(data) + 1):]
        path.write_bytes(bytes(data))
        try:
            result = read_gensim_model(path)
        except ValueError:
            pass
        else:
            assert isinstance(result, GensimModelData)
        assert not sentinel.exists()

    check()


def test_error_class_is_a_value_error():
    assert issubclass(GensimModelError, ValueError)
