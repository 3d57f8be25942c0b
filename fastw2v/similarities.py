"""Nearest-neighbour indexes for ``most_similar(..., indexer=...)``, as gensim users know them.

An indexer is built once from a :class:`~fastw2v.Word2Vec` or :class:`~fastw2v.KeyedVectors`
and then answers ``most_similar(vector, num_neighbors)`` with ``(key, cosine similarity)`` pairs,
most similar first; ``KeyedVectors.most_similar``, ``similar_by_key``/``similar_by_word`` and
``similar_by_vector`` hand it their query vector when given ``indexer=``. As with gensim's
indexers, the results include the query's own key (usually first, with similarity 1), since the
index sees only a vector.

- :class:`HnswIndexer`: a hierarchical navigable small-world graph (the ``hnswlib`` package,
  ``pip install "fastw2v[ann]"``): the recommended approximate index, with its build parameters
  (``M``, ``ef_construction``) and its query parameter (``ef``) exposed.
- :class:`AnnoyIndexer`: gensim's ``AnnoyIndexer`` over Spotify's Annoy forest of random
  projection trees (``pip install "fastw2v[annoy]"``), with gensim's signature and methods.
- :class:`ExactIndexer`: exact search, by blocks of one matrix product, which answers many
  queries at once (:meth:`ExactIndexer.most_similar_batch`) far faster than one call per query.

Saved indexes are two files: the library's own binary index at ``fname``, and ``fname + ".json"``
holding the keys, the parameters and the size and SHA-256 digest of the index file. Nothing is
pickled. Loading checks the JSON, then the index file against its recorded size and digest, and
only then hands the file (the very one checked) to the library: a damaged, swapped or
half-written index is refused with a ValueError naming the file. Both files are written through
fastw2v's atomic writes; a save interrupted between them leaves a pair whose digests disagree,
which loading refuses. The digest guards against damage and mix-ups, not against a pair of files
crafted together: Annoy and hnswlib read their binary formats without defending against
malicious content (nothing in the file is run, as a pickle would be, but a crafted index can
crash the process), so load indexes that you or your own pipeline saved.

Examples
--------
>>> from fastw2v import KeyedVectors
>>> import numpy as np
>>> kv = KeyedVectors(2)
>>> kv.add_vectors(["cat", "dog", "car"], np.array([[1, 0], [1, 0.2], [0, 1]], dtype=np.float32))
>>> indexer = ExactIndexer(kv)
>>> [key for key, _ in kv.most_similar("cat", topn=2, indexer=indexer)]
['cat', 'dog']
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from importlib import import_module
from numbers import Integral
from typing import TYPE_CHECKING, Any, Callable, TypeVar

import numpy as np

from fastw2v._io import atomic_write, output_target, require_regular_file

if TYPE_CHECKING:
    from typing_extensions import TypeGuard

__all__ = ["AnnoyIndexer", "ExactIndexer", "HnswIndexer", "INDEX_FORMAT"]

INDEX_FORMAT = "fastw2v.index"
INDEX_FORMAT_VERSION = 1
SIDECAR_SUFFIX = ".json"
# Rows normalised (or scored) at a time: bounds the temporary memory of building and of exact
# search at a few tens of MB, whatever the vocabulary.
_ROWS_PER_BLOCK = 1 << 16
# Exact batch search scores this many queries against each block of rows.
_QUERIES_PER_BLOCK = 256
_HASH_CHUNK_BYTES = 1 << 22

Key = Any
Neighbours = list[tuple[Key, float]]
_IndexerT = TypeVar("_IndexerT", bound="_SavedIndexer")


# ----------------------------------------------------------------------------------- helpers


def _key_vectors(model: Any) -> Any:
    """The KeyedVectors of `model` (a Word2Vec's ``wv``, or `model` itself)."""
    vectors = getattr(model, "wv", model)
    if not (hasattr(vectors, "vectors") and hasattr(vectors, "index_to_key")):
        raise ValueError(
            f"model must be a Word2Vec or KeyedVectors instance, not {type(model).__name__}"
        )
    return vectors


def _unit_rows(vectors: np.ndarray, start: int, end: int) -> np.ndarray:
    """Rows ``[start, end)`` scaled to unit length, as float32; zero rows stay zero."""
    rows = np.asarray(vectors[start:end], dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return rows / norms


def _query_rows(vectors: Any, dim: int) -> np.ndarray:
    """Query vectors as a unit-length float32 matrix, or a ValueError naming their shape."""
    rows = np.asarray(vectors, dtype=np.float32)
    if rows.ndim == 1:
        rows = rows[np.newaxis]
    if rows.ndim != 2 or rows.shape[1] != dim:
        raise ValueError(
            f"query vectors must have {dim} values each, got an array of shape "
            f"{np.shape(vectors)}"
        )
    return _unit_rows(rows, 0, len(rows))


def _neighbour_count(num_neighbors: Any, available: int) -> int:
    if isinstance(num_neighbors, bool) or not isinstance(num_neighbors, Integral):
        raise TypeError(f"num_neighbors must be an integer, got {num_neighbors!r}")
    if num_neighbors < 0:
        raise ValueError(f"num_neighbors must be >= 0, got {num_neighbors}")
    return min(int(num_neighbors), available)


def _positive_int(name: str, value: Any, smallest: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < smallest:
        raise ValueError(f"{name} must be an integer >= {smallest}, got {value!r}")
    return int(value)


def _require(module: str, extra: str, user: str) -> Any:
    """Import an optional package, or say which extra of fastw2v brings it."""
    try:
        return import_module(module)
    except ImportError as error:
        raise ImportError(
            f"{user} needs the {module} package, which is not installed: "
            f'pip install "fastw2v[{extra}]"'
        ) from error


def _loader(function: Callable[..., Any]) -> Any:
    """Make `function` callable on the class (a new indexer) or on an instance (filled in).

    gensim's ``AnnoyIndexer.load`` fills the instance it is called on, its ``NmslibIndexer.load``
    is a class method: code written either way works.
    """

    class Loader:
        def __get__(self, instance: Any, owner: type) -> Callable[..., Any]:
            @functools.wraps(function)
            def load(fname: str | os.PathLike[str]) -> Any:
                return function(owner, instance, fname)

            return load

    return Loader()


# ------------------------------------------------------------------------------ exact search


class ExactIndexer:
    """Exact cosine search over a model's vectors, one matrix product per block of queries.

    The same answers as ``KeyedVectors.most_similar`` (up to the rounding of float32 sums),
    in the indexer protocol: it can be passed as ``indexer=``, and :meth:`most_similar_batch`
    answers many queries with one pass over the vectors. It holds a reference to the model's
    vectors, not a copy, and is not saved (the model already is).

    Parameters
    ----------
    model : Word2Vec or KeyedVectors
        The vectors to search.

    Examples
    --------
    >>> from fastw2v import KeyedVectors
    >>> kv = KeyedVectors(2)
    >>> kv.add_vectors(["a", "b", "c"], np.array([[1, 0], [1, 1], [0, 1]], dtype=np.float32))
    >>> [[key for key, _ in found] for found in
    ...  ExactIndexer(kv).most_similar_batch(np.eye(2), 2)]
    [['a', 'b'], ['c', 'b']]
    """

    def __init__(self, model: Any) -> None:
        vectors = _key_vectors(model)
        self.model = model
        self.labels = list(vectors.index_to_key)
        self.vectors = vectors.vectors
        # einsum sums the squares row by row, without a squared copy of the whole matrix.
        norms = np.sqrt(np.einsum("ij,ij->i", self.vectors, self.vectors))
        norms[norms == 0] = 1
        self.norms = norms.astype(self.vectors.dtype)

    def most_similar(self, vector: np.ndarray, num_neighbors: int) -> Neighbours:
        """The `num_neighbors` keys whose vectors have the largest cosine with `vector`.

        Parameters
        ----------
        vector : numpy.ndarray
            The query, of the model's vector size.
        num_neighbors : int
            How many neighbours to return.

        Returns
        -------
        list of (key, float)
            ``(key, cosine similarity)``, most similar first.
        """
        return self.most_similar_batch(vector, num_neighbors)[0]

    def most_similar_batch(self, vectors: np.ndarray, num_neighbors: int) -> list[Neighbours]:
        """:meth:`most_similar` for each row of `vectors`, in one pass over the model's vectors.

        Parameters
        ----------
        vectors : numpy.ndarray
            Queries, one per row (a single vector counts as one row).
        num_neighbors : int
            How many neighbours each query gets.

        Returns
        -------
        list of list of (key, float)
            One result list per query, in the order of the rows.
        """
        queries = _query_rows(vectors, self.vectors.shape[1]).astype(self.vectors.dtype)
        count = _neighbour_count(num_neighbors, len(self.labels))
        if count == 0:
            return [[] for _ in queries]
        results: list[Neighbours] = []
        for first in range(0, len(queries), _QUERIES_PER_BLOCK):
            rows, scores = self._search(queries[first : first + _QUERIES_PER_BLOCK], count)
            results.extend(
                [(self.labels[row], float(score)) for row, score in zip(found, values)]
                for found, values in zip(rows.tolist(), scores.tolist())
            )
        return results

    def _search(self, queries: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the `count` best matches of each query, best first."""
        candidate_rows, candidate_scores = [], []
        for start in range(0, len(self.vectors), _ROWS_PER_BLOCK):
            end = min(len(self.vectors), start + _ROWS_PER_BLOCK)
            scores = queries @ self.vectors[start:end].T
            scores /= self.norms[start:end]
            take = min(count, end - start)
            # Each block keeps only its own best `count`: the overall best are among them.
            best = np.argpartition(scores, -take, axis=1)[:, -take:]
            candidate_rows.append(best + start)
            candidate_scores.append(np.take_along_axis(scores, best, axis=1))
        rows = np.hstack(candidate_rows)
        scores = np.hstack(candidate_scores)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :count]
        return np.take_along_axis(rows, order, axis=1), np.take_along_axis(scores, order, axis=1)


# ------------------------------------------------------------------------- saved indexes


class _SavedIndexer:
    """What the approximate indexers share: queries by vector, and the safe save format."""

    kind = ""
    extra = ""
    library = ""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.index: Any = None
        self.labels: list[Key] | None = None
        self.dimension = 0

    # -- what each index defines

    def _parameters(self) -> dict[str, int]:
        """The parameters to save, JSON integers."""
        raise NotImplementedError

    def _set_parameters(self, parameters: dict[str, Any]) -> None:
        """Restore the saved parameters (checked by the setters)."""
        raise NotImplementedError

    def _search(self, queries: np.ndarray, count: int) -> tuple[list[list[int]], list[list[float]]]:
        """Rows and cosine similarities of the (at most) `count` neighbours of each unit query."""
        raise NotImplementedError

    def _write_index(self, path: str) -> None:
        raise NotImplementedError

    def _read_index(self, path: str, dimension: int, count: int) -> Any:
        raise NotImplementedError

    # -- the indexer protocol

    def _built(self) -> list[Key]:
        if self.index is None or self.labels is None:
            raise ValueError(
                f"this {type(self).__name__} holds no index: build it from a model or load one"
            )
        return self.labels

    def most_similar(self, vector: np.ndarray, num_neighbors: int) -> Neighbours:
        """The (approximately) `num_neighbors` keys most similar to `vector`.

        Parameters
        ----------
        vector : numpy.ndarray
            The query, of the model's vector size; its length does not matter.
        num_neighbors : int
            How many neighbours to return (fewer if the index holds fewer).

        Returns
        -------
        list of (key, float)
            ``(key, cosine similarity)``, most similar first.
        """
        return self.most_similar_batch(vector, num_neighbors)[0]

    def most_similar_batch(self, vectors: np.ndarray, num_neighbors: int) -> list[Neighbours]:
        """:meth:`most_similar` for each row of `vectors`.

        Parameters
        ----------
        vectors : numpy.ndarray
            Queries, one per row (a single vector counts as one row).
        num_neighbors : int
            How many neighbours each query gets.

        Returns
        -------
        list of list of (key, float)
            One result list per query, in the order of the rows.
        """
        labels = self._built()
        queries = _query_rows(vectors, self.dimension)
        count = _neighbour_count(num_neighbors, len(labels))
        if count == 0:
            return [[] for _ in queries]
        rows, similarities = self._search(queries, count)
        return [
            [(labels[row], float(similarity)) for row, similarity in zip(found, values)]
            for found, values in zip(rows, similarities)
        ]

    # -- files

    def save(self, fname: str | os.PathLike[str]) -> None:
        """Save the index to `fname` and its keys and parameters to ``fname + ".json"``.

        The model is not saved. Both files are replaced atomically; nothing is pickled.

        Parameters
        ----------
        fname : str or os.PathLike
            The index file; the JSON file goes beside it.

        Raises
        ------
        ValueError
            If a key is neither a str nor an int (JSON holds no other keys faithfully).
        OSError
            If either file cannot be written; see :func:`fastw2v._io.atomic_write`.
        """
        labels = self._built()
        for key in labels:
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise ValueError(
                    f"cannot save key {key!r} of type {type(key).__name__}: saved indexes "
                    f"hold str and int keys"
                )
        index_path = os.fspath(fname)
        sidecar = index_path + SIDECAR_SUFFIX
        output_target(sidecar)  # fail before the index is written, not after
        parameters = self._parameters()
        size, digest = self._write_through(index_path)
        document = {
            "format": INDEX_FORMAT,
            "format_version": INDEX_FORMAT_VERSION,
            "index": self.kind,
            "library": self.library,
            "dimension": self.dimension,
            "count": len(labels),
            "parameters": parameters,
            "index_file": {"bytes": size, "sha256": digest},
            "keys": labels,
        }
        encoded = json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass")
        with atomic_write(sidecar, "wb") as handle:
            handle.write(encoded)

    def _write_through(self, index_path: str) -> tuple[int, str]:
        """Let the library write its file, then copy it into place atomically, hashing it.

        The libraries write only to a path of their own, so they write into a temporary
        folder beside the destination (the same file system, no space taken elsewhere).
        """
        directory = os.path.dirname(output_target(index_path))
        digest = hashlib.sha256()
        size = 0
        with tempfile.TemporaryDirectory(dir=directory, prefix=".fastw2v-index-") as scratch:
            written = os.path.join(scratch, "index")
            self._write_index(written)
            with open(written, "rb") as source, atomic_write(index_path, "wb") as target:
                while chunk := source.read(_HASH_CHUNK_BYTES):
                    digest.update(chunk)
                    target.write(chunk)
                    size += len(chunk)
            self._after_write(index_path)
        return size, digest.hexdigest()

    def _after_write(self, index_path: str) -> None:
        """Hook for a library that keeps the file it wrote open (Annoy maps it)."""

    @_loader
    def load(cls: type[_IndexerT], instance: _IndexerT | None,
             fname: str | os.PathLike[str]) -> _IndexerT:
        """Load an index written by :meth:`save`.

        Callable on the class (``HnswIndexer.load(fname)`` returns a new indexer) or, as with
        gensim's ``AnnoyIndexer``, on an instance (``indexer.load(fname)`` fills it in and
        returns it). The loaded indexer has no ``model``; set one if your code reads it.

        Parameters
        ----------
        fname : str or os.PathLike
            The index file given to :meth:`save`; ``fname + ".json"`` must be beside it.

        Raises
        ------
        FileNotFoundError
            If either file is missing.
        ValueError
            If the JSON file is not a fastw2v index description of this kind of index, is
            damaged, or the index file does not match the size and SHA-256 digest it records;
            the message names the file.
        ImportError
            If the library of the index is not installed.
        """
        index_path = os.fspath(fname)
        document = _read_sidecar(index_path, cls)
        loaded = cls(model=None) if instance is None else instance
        loaded.model = None
        loaded.index = None
        try:
            loaded._set_parameters(document["parameters"])
        except (TypeError, ValueError) as error:
            raise ValueError(f"{index_path}{SIDECAR_SUFFIX}: invalid parameters: {error}") from None
        dimension, count = document["dimension"], document["count"]
        with _checked_index_file(index_path, document["index_file"]) as library_path:
            try:
                index = loaded._read_index(library_path, dimension, count)
            except ValueError as error:
                raise ValueError(f"{index_path}: {error}") from None
        loaded.index = index
        loaded.labels = document["keys"]
        loaded.dimension = dimension
        return loaded


def _read_sidecar(index_path: str, cls: type[_SavedIndexer]) -> dict[str, Any]:
    """The checked description of a saved index of `cls`'s kind."""
    sidecar = index_path + SIDECAR_SUFFIX
    if not os.path.exists(sidecar):
        for suffix in (".dict", ".d"):
            if os.path.exists(index_path + suffix):
                raise ValueError(
                    f"{index_path}{suffix}: an index saved by gensim, whose description is a "
                    f"pickle, which fastw2v never loads; rebuild the index with "
                    f"fastw2v.similarities.{cls.__name__}(model, ...)"
                )
        raise FileNotFoundError(
            f"{sidecar}: no such file; a saved index is two files, {index_path} and {sidecar}"
        )
    require_regular_file(sidecar, "a fastw2v index description")

    def refuse(problem: str) -> ValueError:
        return ValueError(f"{sidecar}: {problem}")

    with open(sidecar, "rb") as handle:
        encoded = handle.read()
    try:
        document = json.loads(encoded.decode("utf-8", "surrogatepass"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise refuse(f"not a fastw2v index description: not valid JSON ({error})") from None
    if not isinstance(document, dict) or document.get("format") != INDEX_FORMAT:
        raise refuse("not a fastw2v index description: it lacks the fastw2v.index marker")
    version = document.get("format_version")
    if not _is_int(version) or version < 1:
        raise refuse(f"invalid format_version {version!r}")
    if version > INDEX_FORMAT_VERSION:
        raise refuse(
            f"written in format version {version} by a newer fastw2v; this version reads up to "
            f"{INDEX_FORMAT_VERSION}"
        )
    kind = document.get("index")
    if kind != cls.kind:
        known = {indexer.kind: indexer.__name__ for indexer in (AnnoyIndexer, HnswIndexer)}
        hint = f": load it with {known[kind]}.load()" if kind in known else ""
        raise refuse(f"describes an index of kind {kind!r}, not {cls.kind!r}{hint}")
    dimension, count, keys = document.get("dimension"), document.get("count"), document.get("keys")
    if not _is_int(dimension) or dimension < 1:
        raise refuse(f"invalid dimension {dimension!r}")
    if not _is_int(count) or count < 0:
        raise refuse(f"invalid count {count!r}")
    if not isinstance(keys, list) or len(keys) != count:
        raise refuse(f"'keys' must be a list of the {count} keys")
    if not all(isinstance(key, str) or _is_int(key) for key in keys):
        raise refuse("every key must be a str or an int")
    if len(set(keys)) != len(keys):
        raise refuse("a key appears twice")
    if not isinstance(document.get("parameters"), dict):
        raise refuse("'parameters' must be an object")
    file_record = document.get("index_file")
    if (
        not isinstance(file_record, dict)
        or not _is_int(file_record.get("bytes"))
        or not isinstance(file_record.get("sha256"), str)
    ):
        raise refuse("'index_file' must record the index file's bytes and sha256")
    return document


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


@contextlib.contextmanager
def _checked_index_file(path: str, record: dict[str, Any]) -> Iterator[str]:
    """Open the index file, check its size and digest, and yield a path to that very file.

    On Linux the library is given ``/proc/self/fd/N`` of the checked file, so that a file put
    at `path` in the meantime never reaches it unchecked.
    """
    require_regular_file(path, "a saved index")
    mismatch = (
        f"not the index that was saved with {path}{SIDECAR_SUFFIX} (damaged, replaced, or its "
        f"save was interrupted)"
    )
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size != record["bytes"]:
            raise ValueError(
                f"{path}: holds {size:,} bytes where {record['bytes']:,} were saved: {mismatch}"
            )
        digest = hashlib.sha256()
        while chunk := handle.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
        if digest.hexdigest() != record["sha256"]:
            raise ValueError(f"{path}: its SHA-256 digest differs from the saved one: {mismatch}")
        by_descriptor = f"/proc/self/fd/{handle.fileno()}"
        yield by_descriptor if os.path.exists(by_descriptor) else path


# ------------------------------------------------------------------------------------ Annoy


class AnnoyIndexer(_SavedIndexer):
    """gensim's ``AnnoyIndexer`` for fastw2v models: a forest of random projection trees.

    Needs the ``annoy`` package (``pip install "fastw2v[annoy]"``). More trees give better
    recall and a bigger index; ``search_k`` (nodes inspected per query, by default
    ``num_trees * num_neighbors``) trades query speed for recall without rebuilding.

    Parameters
    ----------
    model : Word2Vec or KeyedVectors, optional
        The vectors to index; without one the indexer is empty until :meth:`load`.
    num_trees : int, optional
        Number of trees; required with `model`.
    search_k : int
        Query-time nodes to inspect; -1 for Annoy's default.
    n_jobs : int
        Threads building the trees; -1 for all cores.
    seed : int, optional
        Seed of the random projections, for a reproducible index.

    Examples
    --------
    >>> from fastw2v import Word2Vec
    >>> sentences = [["cute", "cat", "say", "meow"], ["cute", "dog", "say", "woof"]]
    >>> model = Word2Vec(sentences, min_count=1, seed=1, workers=1)
    >>> indexer = AnnoyIndexer(model, 2)  # doctest: +SKIP
    >>> model.wv.most_similar("cat", topn=2, indexer=indexer)[0][0]  # doctest: +SKIP
    'cat'
    """

    kind = "annoy"
    extra = "annoy"
    library = "annoy"

    def __init__(
        self,
        model: Any = None,
        num_trees: int | None = None,
        *,
        search_k: int = -1,
        n_jobs: int = -1,
        seed: int | None = None,
    ) -> None:
        super().__init__(model)
        self.num_trees = num_trees
        self.search_k = search_k
        self.n_jobs = n_jobs
        self.seed = seed
        if model is not None:
            if num_trees is None:
                raise ValueError("num_trees is needed to build an Annoy index from a model")
            self.num_trees = _positive_int("num_trees", num_trees)
            self._build(_key_vectors(model))

    def _build(self, vectors: Any) -> None:
        annoy = _require("annoy", self.extra, "AnnoyIndexer")
        matrix = vectors.vectors
        self.dimension = matrix.shape[1]
        # 'angular' is Annoy's cosine: the distance between unit vectors, sqrt(2 - 2 cos).
        index = annoy.AnnoyIndex(self.dimension, "angular")
        if self.seed is not None:
            index.set_seed(self.seed)
        for start in range(0, len(matrix), _ROWS_PER_BLOCK):
            for offset, row in enumerate(_unit_rows(matrix, start, start + _ROWS_PER_BLOCK)):
                index.add_item(start + offset, row)
        index.build(self.num_trees, n_jobs=self.n_jobs)
        self.index = index
        self.labels = list(vectors.index_to_key)

    def _search(self, queries: np.ndarray, count: int) -> tuple[list[list[int]], list[list[float]]]:
        rows, similarities = [], []
        for query in queries:
            # Fewer than `count` come back when search_k inspects too few nodes.
            found, distances = self.index.get_nns_by_vector(
                query, count, search_k=self.search_k, include_distances=True
            )
            rows.append(found)
            similarities.append([1 - distance * distance / 2 for distance in distances])
        return rows, similarities

    def _parameters(self) -> dict[str, int]:
        if self.num_trees is None:
            # An index attached by hand: saved without its tree count, it would not load.
            raise ValueError(
                "cannot save an AnnoyIndexer whose num_trees is unknown: set num_trees to the "
                "number of trees its index was built with"
            )
        return {"num_trees": self.num_trees, "search_k": self.search_k}

    def _set_parameters(self, parameters: dict[str, Any]) -> None:
        self.num_trees = _positive_int("num_trees", parameters.get("num_trees"))
        search_k = parameters.get("search_k", -1)
        self.search_k = search_k if search_k == -1 else _positive_int("search_k", search_k)

    def _write_index(self, path: str) -> None:
        self.index.save(path)

    def _after_write(self, index_path: str) -> None:
        # Annoy maps the file it saved; map the saved copy instead, so the scratch file goes.
        self.index.unload()
        self.index.load(index_path)

    def _read_index(self, path: str, dimension: int, count: int) -> Any:
        annoy = _require("annoy", self.extra, "AnnoyIndexer")
        index = annoy.AnnoyIndex(dimension, "angular")
        try:
            index.load(path)
        except OSError as error:
            raise ValueError(f"not an Annoy index of dimension {dimension} ({error})") from None
        if index.get_n_items() != count:
            index.unload()
            raise ValueError(f"the Annoy index holds {index.get_n_items()} items, not {count}")
        return index


# ------------------------------------------------------------------------------------ HNSW


class HnswIndexer(_SavedIndexer):
    """An HNSW graph index (the ``hnswlib`` package): fast, high-recall approximate search.

    Needs ``hnswlib`` (``pip install "fastw2v[ann]"``). Each vector is linked to about ``M``
    neighbours per layer; ``ef_construction`` is the breadth of the search that picks them when
    building, ``ef`` the breadth of each query (at least the number of neighbours asked for).
    Larger values give better recall for more time (and, for ``M``, memory); ``ef`` can be
    changed at any time.

    Parameters
    ----------
    model : Word2Vec or KeyedVectors, optional
        The vectors to index; without one the indexer is empty until :meth:`load`.
    M : int
        Links per vector and layer (hnswlib's default 16).
    ef_construction : int
        Build-time search breadth (hnswlib's default 200).
    ef : int
        Query-time search breadth.
    num_threads : int
        Threads for building and for :meth:`most_similar_batch`; -1 for all cores. A single
        query runs in the calling thread.
    seed : int
        Seed of the level draws.

    Examples
    --------
    >>> from fastw2v import Word2Vec
    >>> sentences = [["cute", "cat", "say", "meow"], ["cute", "dog", "say", "woof"]]
    >>> model = Word2Vec(sentences, min_count=1, seed=1, workers=1)
    >>> indexer = HnswIndexer(model, M=8, ef=20)  # doctest: +SKIP
    >>> model.wv.most_similar("cat", topn=2, indexer=indexer)[0][0]  # doctest: +SKIP
    'cat'
    """

    kind = "hnsw"
    extra = "ann"
    library = "hnswlib"

    def __init__(
        self,
        model: Any = None,
        M: int = 16,  # noqa: N803 - the name every HNSW paper and library uses
        ef_construction: int = 200,
        ef: int = 50,
        num_threads: int = -1,
        seed: int = 100,
    ) -> None:
        super().__init__(model)
        self.M = _positive_int("M", M, smallest=2)
        self.ef_construction = _positive_int("ef_construction", ef_construction)
        self._ef = _positive_int("ef", ef)
        if num_threads != -1:
            _positive_int("num_threads", num_threads)
        self.num_threads = num_threads
        self.seed = seed
        if model is not None:
            self._build(_key_vectors(model))

    @property
    def ef(self) -> int:
        """Query-time search breadth; more finds more true neighbours, more slowly."""
        return self._ef

    @ef.setter
    def ef(self, value: int) -> None:
        self._ef = _positive_int("ef", value)
        if self.index is not None:
            self.index.set_ef(self._ef)

    def _build(self, vectors: Any) -> None:
        hnswlib = _require("hnswlib", self.extra, "HnswIndexer")
        matrix = vectors.vectors
        self.dimension = matrix.shape[1]
        # Inner product of unit vectors is the cosine; hnswlib's distance is 1 - product.
        index = hnswlib.Index(space="ip", dim=self.dimension)
        index.init_index(
            max_elements=max(1, len(matrix)),
            M=self.M,
            ef_construction=self.ef_construction,
            random_seed=self.seed,
        )
        for start in range(0, len(matrix), _ROWS_PER_BLOCK):
            rows = _unit_rows(matrix, start, start + _ROWS_PER_BLOCK)
            index.add_items(
                rows, np.arange(start, start + len(rows)), num_threads=self.num_threads
            )
        index.set_ef(self._ef)
        self.index = index
        self.labels = list(vectors.index_to_key)

    def _search(self, queries: np.ndarray, count: int) -> tuple[list[list[int]], list[list[float]]]:
        threads = 1 if len(queries) == 1 else self.num_threads
        rows, distances = self.index.knn_query(queries, k=count, num_threads=threads)
        return rows.tolist(), (1 - distances.astype(np.float64)).tolist()

    def _parameters(self) -> dict[str, int]:
        return {"M": self.M, "ef_construction": self.ef_construction, "ef": self._ef}

    def _set_parameters(self, parameters: dict[str, Any]) -> None:
        self.M = _positive_int("M", parameters.get("M"), smallest=2)
        self.ef_construction = _positive_int("ef_construction", parameters.get("ef_construction"))
        self._ef = _positive_int("ef", parameters.get("ef"))

    def _write_index(self, path: str) -> None:
        self.index.save_index(path)

    def _read_index(self, path: str, dimension: int, count: int) -> Any:
        hnswlib = _require("hnswlib", self.extra, "HnswIndexer")
        index = hnswlib.Index(space="ip", dim=dimension)
        try:
            index.load_index(path, max_elements=max(1, count))
        except (RuntimeError, OSError) as error:
            raise ValueError(f"not an hnswlib index ({error})") from None
        if index.get_current_count() != count or index.dim != dimension:
            raise ValueError(
                f"the hnswlib index holds {index.get_current_count()} vectors of dimension "
                f"{index.dim}, not {count} of dimension {dimension}"
            )
        index.set_ef(self._ef)
        return index

