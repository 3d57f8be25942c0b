"""Objectives as units: their tables, growth, saved arrays, and a toy objective added from
outside the package in one class and one compiled function (tests/toy_objective.pyx)."""

import os
import shutil
import sys

import numpy as np
import pytest

import fastw2v
from fastw2v import _kernels, _objectives
from fastw2v import _vocab as vocab_mod
from fastw2v._config import TrainingConfig
from fastw2v.keyedvectors import KeyedVectors

COUNTS = np.array([9, 7, 5, 3, 2, 1], dtype=np.int64)


def test_each_config_gets_its_objectives_in_the_trainers_order():
    def names(**params):
        return [type(o).__name__ for o in _objectives.objectives_for(
            TrainingConfig(vector_size=4, **params), COUNTS)]

    assert names(negative=5) == ["NegativeSampling"]
    assert names(hs=1, negative=0) == ["HierarchicalSoftmax"]
    assert names(hs=1, negative=3) == ["HierarchicalSoftmax", "NegativeSampling"]
    assert names(softmax=1, negative=0) == ["FullSoftmax"]


def test_growth_keeps_learned_rows_and_rebuilds_the_tables():
    config = TrainingConfig(vector_size=4, hs=1, negative=2)
    hs, ns = _objectives.objectives_for(config, COUNTS)
    for objective in (hs, ns):
        objective.output[:] = 0.5
    grown_counts = np.append(COUNTS, [100, 4])
    hs2, ns2 = _objectives.follow_vocabulary([hs, ns], config, grown_counts)
    assert hs2 is hs and ns2 is ns
    for objective in (hs, ns):
        assert objective.output.shape == (8, 4)
        assert np.all(objective.output[:6] == 0.5) and np.all(objective.output[6:] == 0.0)
    assert len(ns.noise_table) == 8
    # The frequent new word sits near the root of the rebuilt tree: its path is the shortest.
    points, codes, offsets = hs.paths
    lengths = np.diff(offsets)
    assert lengths[6] == lengths.min()


def test_an_objective_switched_on_at_update_starts_fresh():
    config = TrainingConfig(vector_size=4, negative=2)
    objectives = _objectives.objectives_for(config, COUNTS)
    both = config.replace(hs=1)
    grown = _objectives.follow_vocabulary(objectives, both, np.append(COUNTS, 3))
    assert [type(o).__name__ for o in grown] == ["HierarchicalSoftmax", "NegativeSampling"]
    assert grown[0].output.shape == (7, 4) and not grown[0].output.any()


def test_saved_arrays_round_trip_and_mismatches_are_refused():
    config = TrainingConfig(vector_size=4, negative=2)
    (ns,) = _objectives.objectives_for(config, COUNTS)
    ns.output[:] = np.arange(24, dtype=np.float32).reshape(6, 4)
    arrays = _objectives.saved_arrays([ns], 4)
    assert set(arrays) == {"syn1neg", "syn1"} and arrays["syn1"].shape == (0, 4)
    (restored,) = _objectives.restore(config, COUNTS, arrays)
    np.testing.assert_array_equal(restored.output, ns.output)
    with pytest.raises(ValueError, match="do not match"):
        _objectives.restore(config, COUNTS[:5], arrays)
    with pytest.raises(ValueError, match="do not match"):
        _objectives.restore(config, COUNTS, {**arrays, "syn1": np.ones((6, 4), np.float32)})


def test_the_trainer_refuses_tables_that_do_not_fit():
    config = TrainingConfig(vector_size=4, hs=1, negative=0)
    syn0 = np.zeros((6, 4), dtype=np.float32)
    keep = vocab_mod.keep_thresholds(COUNTS, 0)
    (hs,) = _objectives.objectives_for(config, COUNTS)
    points, codes, offsets = hs.paths
    bad_points = points.copy()
    bad_points[0] = 6
    with pytest.raises(ValueError, match="hs_points"):
        _kernels.Trainer(config, syn0, keep, [_objectives.HierarchicalSoftmax(
            hs.output, (bad_points, codes, offsets))])
    with pytest.raises(ValueError, match="shape of syn0"):
        _kernels.Trainer(config, syn0, keep, [_objectives.FullSoftmax(
            np.zeros((5, 4), np.float32))])
    with pytest.raises(ValueError, match="noise_table"):
        _kernels.Trainer(config, syn0, keep, [_objectives.NegativeSampling(
            np.zeros((6, 4), np.float32), None, 3)])
    with pytest.raises(ValueError, match="1 to"):
        _kernels.Trainer(config, syn0, keep, [])


# ---------------------------------------------------------------- a toy objective from outside


def _build_toy_module(tmp_path):
    """Compile tests/toy_objective.pyx against the installed fastw2v's .pxd files."""
    pytest.importorskip("Cython")
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    source = tmp_path / "toy_objective.pyx"
    shutil.copy(os.path.join(os.path.dirname(__file__), "toy_objective.pyx"), source)
    package_root = os.path.dirname(os.path.dirname(fastw2v.__file__))
    extension = Extension("toy_objective", [str(source)],
                          include_dirs=[np.get_include(), os.path.dirname(fastw2v.__file__)])
    modules = cythonize([extension], include_path=[package_root], language_level=3,
                        quiet=True)
    command = build_ext(Distribution({"ext_modules": modules}))
    command.build_lib = str(tmp_path)
    command.build_temp = str(tmp_path / "build")
    command.ensure_finalized()
    command.run()
    sys.path.insert(0, str(tmp_path))
    try:
        import toy_objective
    finally:
        sys.path.remove(str(tmp_path))
    return toy_objective


@pytest.fixture(scope="module")
def toy_module(tmp_path_factory):
    return _build_toy_module(tmp_path_factory.mktemp("toy"))


def _toy_class(module):
    # The whole Python side of a new objective: its output weights, its step, its table.
    class UniformNegatives(_objectives.Objective):
        """Negative sampling with noise words drawn uniformly from the vocabulary."""

        output_name = "syn1uniform"
        step = module.STEP

        def __init__(self, output, negative=5):
            super().__init__(output)
            self.negative = negative

        def kernel_table(self):
            return {"output": self.output, "negative": self.negative}

    return UniformNegatives


def test_a_toy_objective_takes_the_same_step_as_its_reference(toy_module):
    # With no negatives, the toy's step scores the target alone: one logistic unit, label 1.
    uniform_negatives = _toy_class(toy_module)
    rng = np.random.default_rng(0)
    syn0 = (rng.random((6, 8)) - 0.5).astype(np.float32)
    output = (rng.random((6, 8)) - 0.5).astype(np.float32)
    h, u = syn0[2].astype(np.float64), output[4].astype(np.float64)
    config = TrainingConfig(vector_size=8, sg=1, batched=False, window=2)
    trainer = _kernels.Trainer(config, syn0, vocab_mod.keep_thresholds(COUNTS, 0),
                               [uniform_negatives(output, negative=0)], compute_loss=True)
    worker = _kernels.WorkerState(trainer, 0)
    trainer.predict_step(worker, [2], 4, 0.1)
    # label - sigmoid(score) from the trainer's logistic table (word2vec.c's: 1000 cells on
    # [-6, 6) read at int((x + 6) * 83)).
    cell = int((h @ u + 6) * 83)
    x = np.float32(cell / np.float32(1000) * 2 - 1) * 6.0
    g = 0.1 * (1.0 - float(np.float32(np.exp(x) / (np.exp(x) + 1))))
    np.testing.assert_allclose(syn0[2], h + g * u, atol=1e-6)
    np.testing.assert_allclose(output[4], u + g * h, atol=1e-6)
    assert worker.loss == pytest.approx(np.log1p(np.exp(-h @ u)), rel=1e-5)


def test_a_toy_objective_learns_planted_groups(toy_module):
    uniform_negatives = _toy_class(toy_module)
    groups, per_group = 5, 6
    rng = np.random.default_rng(1)
    sentences = [rng.integers(per_group, size=10) + per_group * rng.integers(groups)
                 for _ in range(3000)]
    size, dim = groups * per_group, 16
    syn0 = ((rng.random((size, dim)) - 0.5) / dim).astype(np.float32)
    objective = uniform_negatives(np.zeros((size, dim), np.float32), negative=5)
    config = TrainingConfig(vector_size=dim, sg=1, window=3)
    trainer = _kernels.Trainer(config, syn0, vocab_mod.keep_thresholds(np.ones(size), 0),
                               [objective])
    worker = _kernels.WorkerState(trainer, 3)
    ids = np.concatenate(sentences).astype(np.int32)
    ends = np.cumsum([len(s) for s in sentences]).astype(np.int64)
    raw = np.array([len(s) for s in sentences], dtype=np.int64)
    epochs = 5
    trainer.set_schedule(0.025, 0.0001, int(raw.sum()) * epochs)
    for _ in range(epochs):
        trainer.train_batch(worker, ids, ends, raw)
    kv = KeyedVectors(dim)
    kv.add_vectors([f"w{i}" for i in range(size)], syn0)
    hits = sum(int(other[1:]) // per_group == i // per_group
               for i in range(size) for other, _ in kv.most_similar(f"w{i}", topn=3))
    assert hits / (3 * size) >= 0.9
