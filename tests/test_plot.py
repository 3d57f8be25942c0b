"""Tests of fastw2v.plot: figures rendered with Agg and read back as a person would see them.

They need matplotlib (the ``[plot]`` extra) and are skipped without it, except the test of the
message a missing extra gives.
"""

from __future__ import annotations

import random
import struct
import sys
from importlib.util import find_spec
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from fastw2v import KeyedVectors, Word2Vec, plot

needs_matplotlib = pytest.mark.skipif(find_spec("matplotlib") is None,
                                      reason="the [plot] extra (matplotlib) is not installed")

TOPICS = (
    ("king", "queen", "prince", "princess", "crown", "throne"),
    ("man", "woman", "boy", "girl", "father", "mother"),
    ("one", "two", "three", "four", "five", "six"),
    ("water", "river", "sea", "rain", "lake", "ocean"),
)


def sentences(count: int = 1500, seed: int = 0) -> list[list[str]]:
    rng = random.Random(seed)
    corpus = []
    for _ in range(count):
        topic = rng.choice(TOPICS)
        corpus.append([rng.choice(topic) for _ in range(8)])
    return corpus


@pytest.fixture(scope="module")
def recorded() -> tuple[Word2Vec, plot.TrainingRecorder]:
    recorder = plot.TrainingRecorder()
    model = Word2Vec(sentences(), vector_size=16, min_count=1, workers=1, epochs=3, seed=3,
                     compute_loss=True, callbacks=[recorder])
    return model, recorder


@pytest.fixture(scope="module")
def kv(recorded) -> KeyedVectors:
    return recorded[0].wv


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG file, after checking that it is one."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    assert data[12:16] == b"IHDR"
    assert data[-8:-4] == b"IEND", "the PNG file is cut short"
    return struct.unpack(">II", data[16:24])


def texts(axes) -> list[str]:
    return [text.get_text() for text in axes.texts]


# --------------------------------------------------------------------------------------------
# training()


@needs_matplotlib
def test_training_draws_loss_and_speed_of_each_epoch_as_a_png(recorded, tmp_path):
    model, recorder = recorded
    figure = plot.training(model, recorder, figsize=(6, 4), dpi=50)
    loss_axes, speed_axes = figure.axes
    assert loss_axes.get_ylabel() == "loss (sum over the epoch)"
    assert speed_axes.get_ylabel() == "words/s"
    assert speed_axes.get_xlabel() == "epoch"
    (loss_line,) = loss_axes.get_lines()
    assert list(loss_line.get_xdata()) == [1, 2, 3]
    assert list(loss_line.get_ydata()) == model.training_loss_history
    (speed_line,) = speed_axes.get_lines()
    assert list(speed_line.get_ydata()) == [r.words_per_second for r in recorder.epochs]
    assert all(speed > 0 for speed in speed_line.get_ydata())
    path = tmp_path / "training.png"
    figure.savefig(path)
    assert png_size(path) == (300, 200)


@needs_matplotlib
def test_training_without_a_recorder_draws_the_models_own_epoch_records(recorded):
    model, _ = recorded
    figure = plot.training(model)
    (speed_line,) = figure.axes[1].get_lines()
    assert list(speed_line.get_ydata()) == [e.raw_words / e.seconds
                                            for e in model.training_history]
    assert len(model.training_history) == 3
    assert speed_line.get_linestyle() == "-"


@needs_matplotlib
def test_training_without_loss_says_how_to_record_it():
    model = Word2Vec(sentences(200), vector_size=8, min_count=1, workers=1, epochs=2)
    figure = plot.training(model)
    assert figure.axes[0].get_lines() == []
    assert any("compute_loss=True" in text for text in texts(figure.axes[0]))
    assert len(figure.axes[1].get_lines()[0].get_ydata()) == 2


@needs_matplotlib
def test_training_reads_per_epoch_records_that_the_model_keeps():
    # A model that keeps each epoch's words and seconds needs no recorder.
    model = SimpleNamespace(
        training_loss_history=[9.0, 7.0], words_per_second=150.0, epochs=2, sg=1,
        vector_size=4, wv=[0] * 10,
        training_history=[{"raw_words": 100, "seconds": 1.0}, {"raw_words": 100, "seconds": 0.5}])
    figure = plot.training(model)
    assert list(figure.axes[0].get_lines()[0].get_ydata()) == [9.0, 7.0]
    assert list(figure.axes[1].get_lines()[0].get_ydata()) == [100.0, 200.0]


@needs_matplotlib
def test_training_refuses_an_untrained_model():
    with pytest.raises(ValueError, match="not been trained"):
        plot.training(Word2Vec(vector_size=8))


def test_recorder_numbers_epochs_across_train_calls(recorded):
    model, _ = recorded
    recorder = plot.TrainingRecorder()
    corpus = sentences(200)
    for epochs in (2, 1):
        model.train(corpus, total_examples=len(corpus), epochs=epochs, callbacks=[recorder])
    first = model.epochs_trained - 2
    assert [record.epoch for record in recorder.epochs] == [first, first + 1, first + 2]
    assert all(record.raw_words == model.corpus_total_words for record in recorder.epochs)
    # The fixture's model computes the loss: each record has its epoch's value.
    assert recorder.epochs[-1].loss == model.training_loss_history[-1]


# --------------------------------------------------------------------------------------------
# words()


@needs_matplotlib
def test_words_map_is_a_png_of_the_expected_size_with_labelled_axes_and_words(kv, tmp_path):
    chosen = ["king", "queen", "man", "woman"]
    figure = plot.words(kv, chosen, figsize=(5, 4), dpi=60)
    (axes,) = figure.axes
    assert sorted(texts(axes)) == sorted(chosen)
    assert axes.get_xlabel().startswith("PC 1 (")
    assert axes.get_ylabel().startswith("PC 2 (")
    assert axes.get_title() == "4 words (PCA)"
    path = tmp_path / "map.png"
    figure.savefig(path)
    assert png_size(path) == (300, 240)


@needs_matplotlib
def test_words_renders_with_agg_and_leaves_pyplot_alone(kv):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    before = pyplot.get_fignums()
    figure = plot.words(kv, ["king", "water"], figsize=(4, 3), dpi=50)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    assert np.asarray(canvas.buffer_rgba()).shape == (150, 200, 4)
    assert pyplot.get_fignums() == before


@needs_matplotlib
def test_words_with_topn_places_each_words_neighbours_in_its_colour(kv):
    figure = plot.words(kv, ["king", "two"], topn=3)
    (axes,) = figure.axes
    expected = {"king", "two"}
    for word in ("king", "two"):
        expected |= {neighbour for neighbour, _ in kv.most_similar(word, topn=3)}
    assert set(texts(axes)) == expected
    assert len(texts(axes)) == len(expected)
    assert axes.get_legend_handles_labels()[1] == ["king", "two"]
    bold = {text.get_text() for text in axes.texts if text.get_fontweight() == "bold"}
    assert bold == {"king", "two"}
    assert axes.get_title() == "2 words and their 3 nearest neighbours (PCA)"


@needs_matplotlib
def test_words_groups_colour_the_map(kv):
    by_mapping = plot.words(kv, groups={"royal": ["king", "queen"], "sea": ["sea", "lake"]})
    assert by_mapping.axes[0].get_legend_handles_labels()[1] == ["royal", "sea"]
    assert len(by_mapping.axes[0].collections) == 2
    by_label = plot.words(kv, ["king", "sea", "queen"], groups=["a", "b", "a"])
    offsets = [len(collection.get_offsets()) for collection in by_label.axes[0].collections]
    assert offsets == [2, 1]


@needs_matplotlib
def test_words_defaults_to_the_most_frequent_words():
    words = [f"w{i}" for i in range(60)]
    small = KeyedVectors(3)
    small.add_vectors(words, np.random.default_rng(0).standard_normal((60, 3)).astype(np.float32))
    figure = plot.words(small)
    assert texts(figure.axes[0]) == words[:plot.DEFAULT_WORD_COUNT]


@needs_matplotlib
def test_words_pca_lays_collinear_vectors_out_along_the_first_axis():
    line = KeyedVectors(3)
    angles = np.linspace(0.1, 0.6, 5)
    line.add_vectors([f"p{i}" for i in range(5)], np.stack(
        [np.cos(angles), np.sin(angles), np.zeros(5)], axis=1).astype(np.float32))
    figure = plot.words(line, [f"p{i}" for i in range(5)])
    xy = figure.axes[0].collections[0].get_offsets()
    order = np.argsort(xy[:, 0])
    assert list(order) in ([0, 1, 2, 3, 4], [4, 3, 2, 1, 0])
    # On an arc: the second axis only holds its small curvature.
    assert np.ptp(xy[:, 1]) < 0.1 * np.ptp(xy[:, 0])


@needs_matplotlib
def test_words_accepts_a_model(recorded):
    figure = plot.words(recorded[0], ["king", "queen"])
    assert sorted(texts(figure.axes[0])) == ["king", "queen"]


@needs_matplotlib
@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        (lambda kv: plot.words(kv, ["king", "kingz", "qeen"]), KeyError, "'kingz', 'qeen'"),
        (lambda kv: plot.words(kv, ["king", "queen"], method="mds"), ValueError, "method"),
        (lambda kv: plot.words(kv, ["king", "queen"], topn=-1), ValueError, "topn"),
        (lambda kv: plot.words(kv, ["king"]), ValueError, "at least 2 words"),
        (lambda kv: plot.words(kv, "king"), TypeError, "string"),
        (lambda kv: plot.words(kv, ["king", "queen"], groups=["a"]), ValueError, "one group"),
        (lambda kv: plot.words(kv, ["king"], groups={"a": ["queen"]}), ValueError, "not both"),
        (lambda kv: plot.words(kv, groups=["a", "b"]), ValueError, "give words too"),
    ],
)
def test_words_refusals_name_the_problem(kv, call, error, fragment):
    with pytest.raises(error, match=fragment):
        call(kv)


@needs_matplotlib
def test_words_with_tsne(kv):
    pytest.importorskip("sklearn")
    chosen = ["king", "queen", "man", "woman", "one", "two"]
    figure = plot.words(kv, chosen, method="tsne")
    (axes,) = figure.axes
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("t-SNE 1", "t-SNE 2")
    assert sorted(texts(axes)) == sorted(chosen)


@needs_matplotlib
@pytest.mark.slow  # umap's first call compiles its numba kernels
def test_words_with_umap(kv):
    pytest.importorskip("umap")
    chosen = ["king", "queen", "man", "woman", "one", "two"]
    figure = plot.words(kv, chosen, method="umap")
    assert figure.axes[0].get_xlabel() == "UMAP 1"
    assert sorted(texts(figure.axes[0])) == sorted(chosen)
    with pytest.raises(ValueError, match="at least 4 words"):
        plot.words(kv, chosen[:3], method="umap")


# --------------------------------------------------------------------------------------------
# Missing packages


def test_a_missing_plot_extra_names_it(kv, monkeypatch):
    # A None entry in sys.modules makes the import fail as if the package were not installed.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    for call in (lambda: plot.words(kv, ["king", "queen"]),
                 lambda: plot.training(Word2Vec(vector_size=8)),
                 plot.require_matplotlib):
        with pytest.raises(ImportError, match=r'pip install "fastw2v\[plot\]"'):
            call()


@needs_matplotlib
@pytest.mark.parametrize(("method", "module", "package"), [
    ("tsne", "sklearn.manifold", "scikit-learn"), ("umap", "umap", "umap-learn")])
def test_a_missing_projection_package_names_it(kv, monkeypatch, method, module, package):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=f"pip install {package}"):
        plot.words(kv, ["king", "queen", "man", "woman"], method=method)
