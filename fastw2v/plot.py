"""Pictures of training and of word vectors, drawn with matplotlib (the ``[plot]`` extra).

- :func:`training`: the loss and the speed of each epoch, to see that training converged;
- :func:`words`: a labelled 2-D map of chosen words, or of each query word and its nearest
  neighbours, coloured by group, to see that the neighbourhoods make sense;
- :class:`TrainingRecorder`: a training callback that times each epoch, for :func:`training`.

Both functions build a :class:`matplotlib.figure.Figure` without pyplot, so they never open a
window and leave pyplot's current figure alone: save the figure with ``figure.savefig(path)``,
or leave it as a notebook cell's value to see it there. The 2-D maps come from a PCA computed
with NumPy; t-SNE (scikit-learn) and UMAP (umap-learn) are used when asked for and installed.

Install the extra with ``pip install "fastw2v[plot]"``.

Examples
--------
>>> from fastw2v import Word2Vec
>>> from fastw2v.plot import TrainingRecorder, training, words
>>> recorder = TrainingRecorder()
>>> sentences = [["cat", "says", "meow"], ["dog", "says", "woof"]] * 200
>>> model = Word2Vec(sentences, vector_size=16, min_count=1, workers=1, epochs=3,
...                  compute_loss=True, callbacks=[recorder])
>>> figure = training(model, recorder)
>>> [axes.get_ylabel() for axes in figure.axes]
['loss (sum over the epoch)', 'words/s']
>>> figure = words(model.wv, ["cat", "dog", "meow", "woof"])
>>> sorted(text.get_text() for text in figure.axes[0].texts)
['cat', 'dog', 'meow', 'woof']
>>> figure.savefig("map.png")  # doctest: +SKIP
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, Union, cast

import numpy as np

from fastw2v.callbacks import CallbackAny2Vec

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from fastw2v import KeyedVectors, Word2Vec

__all__ = ["INSTALL_HINT", "METHODS", "EpochRecord", "TrainingRecorder", "training", "words"]

#: The projections :func:`words` knows, and the package each needs beyond NumPy.
METHODS = {"pca": None, "tsne": "scikit-learn", "umap": "umap-learn"}

#: Words placed by :func:`words` when it is given neither words nor groups.
DEFAULT_WORD_COUNT = 50

#: How to install what this module needs.
INSTALL_HINT = 'pip install "fastw2v[plot]"'
_METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
_AXIS_NAMES = {"pca": "PC", "tsne": "t-SNE", "umap": "UMAP"}

Groups = Union[Mapping[str, Sequence[str]], Sequence[str]]


def _figure_class() -> type[Figure]:
    """matplotlib's Figure, or an ImportError that says how to install it."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            f"fastw2v.plot needs matplotlib: {INSTALL_HINT} (or pip install matplotlib)"
        ) from error
    return Figure


def require_matplotlib() -> None:
    """Raise the ImportError of a missing ``[plot]`` extra now, before any long work."""
    _figure_class()


# --------------------------------------------------------------------------------------------
# Training


@dataclass(frozen=True)
class EpochRecord:
    """What one epoch took: its number (counted over every ``train()`` call), its duration,
    the raw words it read, and its loss when the model computed it."""

    epoch: int
    seconds: float
    raw_words: int
    loss: Optional[float] = None

    @property
    def words_per_second(self) -> float:
        return self.raw_words / self.seconds if self.seconds > 0 else 0.0


class TrainingRecorder(CallbackAny2Vec):
    """A callback that records every epoch as an :class:`EpochRecord`, for :func:`training`.

    The model keeps each epoch's loss (``training_loss_history``, with ``compute_loss=True``)
    but only the speed of a whole ``train()`` call; this callback times each epoch. An epoch's
    words are those of the corpus the vocabulary was counted on (``corpus_total_words``), which
    is what every epoch reads when training runs on that corpus. Records accumulate over
    several ``train()`` calls.

    Examples
    --------
    >>> from fastw2v import Word2Vec
    >>> recorder = TrainingRecorder()
    >>> model = Word2Vec([["a", "b", "c"]] * 100, vector_size=8, min_count=1, workers=1,
    ...                  epochs=2, callbacks=[recorder])
    >>> [(record.epoch, record.raw_words) for record in recorder.epochs]
    [(1, 300), (2, 300)]
    """

    def __init__(self) -> None:
        self.epochs: list[EpochRecord] = []
        self._started = 0.0
        self._losses_before = 0

    def on_epoch_begin(self, model: Word2Vec) -> None:
        self._losses_before = len(model.training_loss_history)
        self._started = time.perf_counter()

    def on_epoch_end(self, model: Word2Vec) -> None:
        seconds = time.perf_counter() - self._started
        history = model.training_loss_history
        # The history grows only when the model computes the loss.
        loss = float(history[-1]) if len(history) > self._losses_before else None
        self.epochs.append(
            EpochRecord(model.epochs_trained, seconds, int(model.corpus_total_words), loss)
        )


def _epochs_of(model: Word2Vec) -> tuple[list[Optional[float]], list[float], bool]:
    """The loss and the words/s of each epoch of the model's last ``train()`` call, and whether
    the speeds are per epoch (True) or the call's mean repeated (False)."""
    losses: list[Optional[float]] = [float(loss) for loss in model.training_loss_history]
    # Per-epoch records (raw_words, seconds) where the model keeps them.
    history = getattr(model, "training_history", None) or []
    if history:
        def field(record: Any, name: str) -> Any:
            return record[name] if isinstance(record, Mapping) else getattr(record, name)

        speeds = [field(record, "raw_words") / max(field(record, "seconds"), 1e-9)
                  for record in history]
    else:
        epochs = len(losses) or (model.epochs if model.words_per_second else 0)
        speeds = [float(model.words_per_second)] * epochs
    losses += [None] * (len(speeds) - len(losses))
    return losses[:len(speeds)], speeds, bool(history)


def training(
    model: Word2Vec,
    recorder: Optional[TrainingRecorder] = None,
    *,
    figsize: tuple[float, float] = (7.0, 5.0),
    dpi: float = 100,
) -> Figure:
    """Plot the loss and the training speed of each epoch, one above the other.

    Parameters
    ----------
    model : Word2Vec
        A trained model. Its ``training_loss_history`` (kept with ``compute_loss=True``) gives
        the loss of each epoch of the last ``train()`` call.
    recorder : TrainingRecorder, optional
        The callback the model trained with: its records give each epoch's speed, and every
        epoch of every ``train()`` call. Without it the speeds come from the model's own
        ``training_history`` (the epochs of the last ``train()`` call).
    figsize : tuple of float
        Width and height in inches.
    dpi : float
        Dots per inch: a PNG is ``figsize * dpi`` pixels.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If the model has not been trained.
    ImportError
        If matplotlib is not installed.
    """
    figure_class = _figure_class()
    from matplotlib.ticker import EngFormatter, MaxNLocator

    if recorder is not None and recorder.epochs:
        numbers = [record.epoch for record in recorder.epochs]
        losses = [record.loss for record in recorder.epochs]
        speeds = [record.words_per_second for record in recorder.epochs]
        per_epoch = True
    else:
        losses, speeds, per_epoch = _epochs_of(model)
        numbers = list(range(1, len(speeds) + 1))
    if not numbers:
        raise ValueError("the model has not been trained yet: there is no epoch to plot")

    figure = figure_class(figsize=figsize, dpi=dpi, layout="constrained")
    loss_axes, speed_axes = figure.subplots(2, 1, sharex=True)
    known = [(number, loss) for number, loss in zip(numbers, losses) if loss is not None]
    if known:
        loss_axes.plot(*zip(*known), marker="o")
    else:
        loss_axes.text(0.5, 0.5, "no loss recorded: train with compute_loss=True",
                       transform=loss_axes.transAxes, ha="center", va="center")
    loss_axes.set_ylabel("loss (sum over the epoch)")
    loss_axes.set_title(f"Training: {len(numbers)} epochs, {_model_summary(model)}")
    if per_epoch:
        speed_axes.plot(numbers, speeds, marker="o", color="tab:green")
    else:
        speed_axes.plot(numbers, speeds, linestyle="--", color="tab:green",
                        label="mean of the last train() call")
        speed_axes.legend(loc="lower right")
    speed_axes.set_ylim(bottom=0)
    # "1.5 M" rather than an offset of 1e6 written above the axis.
    speed_axes.yaxis.set_major_formatter(EngFormatter())
    speed_axes.set_ylabel("words/s")
    speed_axes.set_xlabel("epoch")
    speed_axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    return figure


def _model_summary(model: Any) -> str:
    try:
        architecture = "skip-gram" if model.sg else "CBOW"
        return f"{architecture}, {len(model.wv):,} words, dimension {model.vector_size}"
    except AttributeError:
        return type(model).__name__


# --------------------------------------------------------------------------------------------
# Word maps


def words(
    kv: KeyedVectors | Word2Vec,
    words: Optional[Sequence[str]] = None,
    *,
    topn: int = 0,
    method: str = "pca",
    groups: Optional[Groups] = None,
    seed: int = 0,
    title: Optional[str] = None,
    figsize: tuple[float, float] = (8.0, 6.0),
    dpi: float = 100,
) -> Figure:
    """A labelled 2-D map of words: which words lie near which.

    The unit-length vectors of the words are projected to two dimensions, so that distances on
    the map follow cosine similarity as far as two dimensions allow. Each group of words gets
    its colour; query words are labelled in bold.

    Parameters
    ----------
    kv : KeyedVectors or Word2Vec
        The vectors (a model's ``wv`` is used).
    words : sequence of str, optional
        The words to place. Default: the words of `groups`, or else the 50 most frequent keys.
    topn : int
        Also place each word's `topn` nearest neighbours (by cosine similarity), in that word's
        colour: each query word then makes a group of its own (unless `groups` says otherwise).
    method : {'pca', 'tsne', 'umap'}
        The projection: PCA (NumPy, deterministic, keeps the large-scale layout), t-SNE
        (scikit-learn) or UMAP (umap-learn), which keep neighbourhoods together better.
    groups : mapping or sequence of str, optional
        Either ``{group name: [words]}`` (then `words` must be None), or one group name per
        word of `words`. Each group gets its colour and a legend entry.
    seed : int
        Seed of t-SNE's and UMAP's random state.
    title : str, optional
        The figure's title; by default it says what is shown.
    figsize : tuple of float
        Width and height in inches.
    dpi : float
        Dots per inch: a PNG is ``figsize * dpi`` pixels.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    KeyError
        Naming every requested word that is not in the vocabulary.
    ValueError
        For an unknown method, a negative `topn`, groups that do not fit `words`, or fewer
        than 2 words to place.
    ImportError
        If matplotlib, or the package `method` needs, is not installed.

    Examples
    --------
    >>> import numpy as np
    >>> from fastw2v import KeyedVectors
    >>> kv = KeyedVectors(3)
    >>> kv.add_vectors(["red", "green", "cat", "dog"],
    ...                np.array([[1, 0, 0], [1, .2, 0], [0, 0, 1], [0, .2, 1]], np.float32))
    >>> figure = words(kv, groups={"colours": ["red", "green"], "animals": ["cat", "dog"]})
    >>> figure.axes[0].get_legend_handles_labels()[1]
    ['colours', 'animals']
    """
    figure_class = _figure_class()
    vectors = cast("KeyedVectors", getattr(kv, "wv", kv))
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, got {method!r}")
    if isinstance(topn, bool) or not isinstance(topn, (int, np.integer)) or topn < 0:
        raise ValueError(f"topn must be a non-negative integer, got {topn!r}")
    placed, group_of, queries = _select(vectors, words, topn, groups)
    if len(placed) < 2:
        raise ValueError(f"a map needs at least 2 words, got {len(placed)}")

    points = np.array([vectors.get_vector(word, norm=True) for word in placed], dtype=np.float64)
    coordinates, axis_labels = _project(points, method, seed)

    figure = figure_class(figsize=figsize, dpi=dpi, layout="constrained")
    axes = figure.add_subplot()
    names = list(dict.fromkeys(group_of))
    colours = _colours(len(names))
    for name, colour in zip(names, colours):
        members = [i for i, group in enumerate(group_of) if group == name]
        axes.scatter(coordinates[members, 0], coordinates[members, 1], s=24, color=colour,
                     label=name if len(names) > 1 else None)
    axes.set_xlabel(axis_labels[0])
    axes.set_ylabel(axis_labels[1])
    # The coordinates of a projection have no unit worth reading.
    axes.set_xticks([])
    axes.set_yticks([])
    # Room for the labels of the outermost points.
    axes.margins(0.1)
    _label_points(axes, coordinates, placed, queries)
    if len(names) > 1:
        axes.legend(loc="best", fontsize=8)
    if title is None:
        shown = f"{len(placed)} words"
        if topn:
            shown = f"{len(queries)} words and their {topn} nearest neighbours"
        title = f"{shown} ({_METHOD_NAMES[method]})"
    axes.set_title(title)
    return figure


def _select(
    vectors: KeyedVectors, words: Optional[Sequence[str]], topn: int, groups: Optional[Groups]
) -> tuple[list[str], list[str], set[str]]:
    """The words to place, the group of each, and the query words (labelled in bold)."""
    if isinstance(words, str):
        raise TypeError(f"words must be a sequence of words, not the string {words!r}")
    if isinstance(groups, Mapping):
        if words is not None:
            raise ValueError("give the words either in words or in a groups mapping, not both")
        queries = [(str(name), word) for name, members in groups.items() for word in members]
    else:
        if words is None:
            if groups is not None:
                raise ValueError("groups as a sequence names the group of each of words: "
                                 "give words too, or groups as {name: [words]}")
            words = [key for key in vectors.index_to_key[:DEFAULT_WORD_COUNT]]
        words = list(words)
        if groups is not None:
            groups = list(groups)
            if len(groups) != len(words):
                raise ValueError(f"groups has {len(groups)} names for {len(words)} words: give "
                                 "one group name per word")
            names = [str(name) for name in groups]
        elif topn:
            names = [str(word) for word in words]
        else:
            names = [""] * len(words)
        queries = list(zip(names, words))
    missing = [word for word in dict.fromkeys(word for _, word in queries) if word not in vectors]
    if missing:
        noun = "word" if len(missing) == 1 else "words"
        raise KeyError(f"{noun} not in the vocabulary: {', '.join(map(repr, missing))}")

    placed: dict[str, str] = {}
    for name, word in queries:
        placed.setdefault(word, name)
    if topn:
        for name, word in queries:
            for neighbour, _ in vectors.most_similar(positive=[word], topn=topn):
                placed.setdefault(neighbour, name)
    query_words = {word for _, word in queries} if topn else set()
    return list(placed), list(placed.values()), query_words


# Where a label may sit around its point, in the order tried: offset in points, alignment.
_LABEL_SPOTS = ((4, 3, "left", "bottom"), (-4, 3, "right", "bottom"),
                (4, -3, "left", "top"), (-4, -3, "right", "top"))
_LABEL_SIZE = 9


def _label_points(axes: Any, coordinates: np.ndarray, labels: Sequence[str],
                  bold: set[str]) -> None:
    """Label each point on the side where its text covers the fewest labels and points.

    Greedy, in the order given (query words first), with the text's size estimated from its
    length: enough to keep neighbouring labels apart without a layout library.
    """
    axes.autoscale_view()
    anchors = axes.transData.transform(coordinates) * (72.0 / axes.figure.dpi)
    markers = np.hstack([anchors - 3, anchors + 3])
    taken: list[np.ndarray] = []
    for index, (word, (x, y)) in enumerate(zip(labels, anchors)):
        width = 0.6 * _LABEL_SIZE * len(word) * (1.1 if word in bold else 1.0)
        height = float(_LABEL_SIZE)
        best: Optional[tuple[float, tuple[int, int, str, str], np.ndarray]] = None
        for spot in _LABEL_SPOTS:
            dx, dy, horizontal, vertical = spot
            left = x + dx if horizontal == "left" else x + dx - width
            bottom = y + dy if vertical == "bottom" else y + dy - height
            box = np.array([left, bottom, left + width, bottom + height])
            others = np.delete(markers, index, axis=0)
            covered = _overlap(box, np.array(taken)) + _overlap(box, others)
            if best is None or covered < best[0]:
                best = (covered, spot, box)
            if covered == 0:
                break
        assert best is not None
        _, (dx, dy, horizontal, vertical), box = best
        taken.append(box)
        axes.annotate(word, coordinates[index], xytext=(dx, dy), textcoords="offset points",
                      ha=horizontal, va=vertical, fontsize=_LABEL_SIZE,
                      fontweight="bold" if word in bold else "normal")


def _overlap(box: np.ndarray, boxes: np.ndarray) -> float:
    """The area `box` shares with `boxes` (rows of left, bottom, right, top)."""
    if not len(boxes):
        return 0.0
    widths = np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])
    heights = np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])
    return float((np.clip(widths, 0, None) * np.clip(heights, 0, None)).sum())


def _project(points: np.ndarray, method: str, seed: int) -> tuple[np.ndarray, tuple[str, str]]:
    """2-D coordinates of `points` (one row each) and the names of the two axes."""
    name = _AXIS_NAMES[method]
    if method == "pca":
        centred = points - points.mean(axis=0)
        _, singular, axes = np.linalg.svd(centred, full_matrices=False)
        # An axis's sign is arbitrary: fix it so that the same vectors give the same map.
        signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
        axes *= np.where(signs == 0, 1, signs)[:, None]
        coordinates = np.zeros((len(points), 2))
        kept = min(2, len(axes))
        coordinates[:, :kept] = centred @ axes[:kept].T
        variance = singular**2
        shares = variance / variance.sum() if variance.sum() > 0 else np.zeros_like(variance)
        labels = tuple(
            f"{name} {i + 1} ({shares[i]:.0%} of the variance)" if i < len(shares)
            else f"{name} {i + 1}" for i in range(2))
        return coordinates, (labels[0], labels[1])
    if method == "tsne":
        manifold = _import_for("sklearn.manifold", method)
        # t-SNE needs a perplexity below the number of points.
        perplexity = float(min(30.0, max(1.0, (len(points) - 1) / 3)))
        embedding = manifold.TSNE(n_components=2, perplexity=perplexity, init="pca",
                                  random_state=seed)
        coordinates = embedding.fit_transform(points)
    else:
        if len(points) < 4:
            # Its spectral start needs more points than the two dimensions it looks for.
            raise ValueError(f"method='umap' needs at least 4 words, got {len(points)}: use "
                             "method='pca' for fewer")
        umap = _import_for("umap", method)
        reducer = umap.UMAP(n_components=2, n_neighbors=max(2, min(15, len(points) - 1)),
                            random_state=seed)
        with warnings.catch_warnings():
            # A random_state makes UMAP single-threaded and say so: that is the point of it.
            warnings.filterwarnings("ignore", message=".*n_jobs.*overridden.*")
            coordinates = reducer.fit_transform(points)
    return np.asarray(coordinates, dtype=np.float64), (f"{name} 1", f"{name} 2")


def _import_for(module: str, method: str) -> Any:
    from importlib import import_module

    try:
        return import_module(module)
    except ImportError as error:
        raise ImportError(
            f"method={method!r} needs {METHODS[method]}: pip install {METHODS[method]} "
            "(method='pca' needs nothing more)"
        ) from error


def _colours(count: int) -> list[Any]:
    """`count` colours that tell groups apart: matplotlib's default cycle, then a wider map."""
    import matplotlib

    cycle = matplotlib.rcParams["axes.prop_cycle"].by_key().get("color", [])
    if count <= len(cycle):
        return list(cycle[:count])
    colour_map = matplotlib.colormaps["turbo"]
    return [colour_map(i / max(count - 1, 1)) for i in range(count)]
