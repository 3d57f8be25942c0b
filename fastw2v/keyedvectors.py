"""Word vectors and similarity queries (the evaluations live in :mod:`fastw2v.evaluation`).

:class:`KeyedVectors` has gensim 4's API and, unless its docstrings say otherwise, gensim 4's
results: the same neighbours in the same order with the same scores, and the same evaluation
numbers.

Examples
--------
>>> import numpy as np
>>> kv = KeyedVectors(vector_size=2)
>>> kv.add_vectors(["cat", "dog", "car"], np.array([[1, 0.1], [1, 0.2], [0, 1]], dtype=np.float32))
>>> [word for word, _ in kv.most_similar("cat", topn=2)]
['dog', 'car']
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from numbers import Integral
from typing import Any, Union

import numpy as np

from fastw2v import _io, evaluation
from fastw2v._legacy import Gensim3Names
from fastw2v._similarity import (
    cosmul_scores,
    largest_first,
    row_similarities,
    unit_row,
    unit_vector,
    weighted_mean,
    word_movers_distance,
)

__all__ = ["KeyedVectors"]

logger = logging.getLogger(__name__)

Key = Union[str, int, np.integer]
# A query term: a key or a vector, optionally paired with a weight.
Term = Union[Key, np.ndarray, tuple[Union[Key, np.ndarray], float]]

_KEY_TYPES = (str, int, np.integer)
_TERM_TYPES = (str, int, np.integer, np.ndarray)
# dtype kinds that vectors can be made of: booleans, integers and reals.
_NUMBER_KINDS = "biuf"
_ARCHIVE_KIND = "KeyedVectors"
_EXPANDO_PREFIX = "expandos."


class KeyedVectors(Gensim3Names):
    """A mapping from keys (words) to vectors, with similarity queries.

    Parameters
    ----------
    vector_size : int
        Dimensionality of the vectors.
    count : int
        Number of slots to preallocate; :meth:`add_vector` fills them in order.
    dtype : numpy dtype
        dtype of :attr:`vectors`.
    mapfile_path : str, optional
        Unused, as in gensim.

    Attributes
    ----------
    vectors : numpy.ndarray
        ``(len(self), vector_size)`` array, row ``i`` holding the vector of ``index_to_key[i]``.
    index_to_key : list of str
        Keys in row order (most frequent first for trained models).
    key_to_index : dict of str to int
        Row of each key.
    norms : numpy.ndarray or None
        Euclidean length of each row, computed on demand; code that changes :attr:`vectors`
        in place sets it back to None.
    expandos : dict of str to numpy.ndarray
        Per-key attributes, one array entry per row, such as ``'count'``.
    vectors_lockf : numpy.ndarray, optional
        Lock factor of each row for further training (0.0 fixed, 1.0 free), or a single
        factor for all; absent until set, as by :meth:`intersect_word2vec_format`.

    Notes
    -----
    Differences from gensim 4: :meth:`save` writes a safe zip archive instead of a pickle;
    :meth:`most_similar_cosmul` honours `restrict_vocab` and integer keys, and
    :meth:`evaluate_word_analogies` honours ``similarity_function='most_similar_cosmul'``
    (gensim accepts and ignores both); :meth:`load_word2vec_format` rejects malformed files
    with a ``ValueError`` naming the line, including data beyond the vector count the header
    declares; :meth:`save_word2vec_format` refuses keys containing spaces or newlines, which
    would make the file unreadable; :meth:`add_vectors`, :meth:`add_vector` and
    ``kv[keys] = weights`` check every shape and key before changing anything, and refuse what
    gensim would scramble or half-add (a transposed matrix, too few `extras`, a None key, a
    key :meth:`add_vector` already has); :meth:`unit_normalize_all` leaves zero vectors zero
    (gensim makes them NaN); :meth:`resize_vectors` drops rows past the number of keys
    (gensim raises); :meth:`intersect_word2vec_format` works without a per-key
    :attr:`vectors_lockf` set beforehand and resets the norms.

    The names gensim 4 keeps for gensim 3 code (``init_sims``, ``word_vec``,
    ``words_closer_than``, and the removed ``index2word``, ``index2entity``, ``vocab`` and
    ``vectors_norm``) come from the base class :class:`fastw2v._legacy.Gensim3Names`.

    Examples
    --------
    >>> import numpy as np
    >>> kv = KeyedVectors(vector_size=3)
    >>> kv.add_vectors(["a", "b"], np.eye(2, 3, dtype=np.float32))
    >>> kv["b"], "a" in kv, len(kv)
    (array([0., 1., 0.], dtype=float32), True, 2)
    """

    def __init__(
        self,
        vector_size: int,
        count: int = 0,
        dtype: Any = np.float32,
        mapfile_path: str | None = None,
    ):
        self.vector_size = vector_size
        self.index_to_key: list[Any] = [None] * count
        self.key_to_index: dict[Any, int] = {}
        self.next_index = 0
        self.vectors = np.zeros((count, vector_size), dtype=dtype)
        self.norms: np.ndarray | None = None
        self.expandos: dict[str, np.ndarray] = {}
        # Kept for gensim's signature; as in gensim, nothing reads it.
        self.mapfile_path = mapfile_path

    def __repr__(self) -> str:
        return f"{type(self).__name__}<vector_size={self.vector_size}, {len(self)} keys>"

    # ----------------------------------------------------------------------------------------
    # Keys, vectors and per-key attributes

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key: Any) -> bool:
        return self.has_index_for(key)

    def __getitem__(self, key_or_keys: Key | Iterable[Key]) -> np.ndarray:
        """The vector of one key, or a 2-D array with the vectors of several keys."""
        if isinstance(key_or_keys, _KEY_TYPES):
            return self.get_vector(key_or_keys)
        return self.vectors[[self.get_index(key) for key in key_or_keys]]

    def __setitem__(self, keys: Key | list[Key], weights: np.ndarray) -> None:
        """Add or replace vectors: ``kv["word"] = vector`` or ``kv[["a", "b"]] = matrix``."""
        if not isinstance(keys, list):
            keys = [keys]
            weights = np.asarray(weights).reshape(1, -1)
        self.add_vectors(keys, weights, replace=True)

    def get_index(self, key: Key, default: int | None = None) -> int:
        """Row of `key`.

        An integer that is not itself a key is taken as a row number, as in gensim.

        Parameters
        ----------
        key : str or int
            The key.
        default : int, optional
            Returned for an unknown key instead of raising.

        Returns
        -------
        int

        Raises
        ------
        KeyError
            If `key` is unknown and no `default` is given.

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b"], np.zeros((2, 2), dtype=np.float32))
        >>> kv.get_index("b"), kv.get_index("zzz", -1)
        (1, -1)
        """
        index = self.key_to_index.get(key, -1)
        if index >= 0:
            return index
        if isinstance(key, (int, np.integer)) and 0 <= key < len(self.index_to_key):
            return int(key)
        if default is not None:
            return default
        raise KeyError(f"Key {key!r} not present in vocabulary")

    def has_index_for(self, key: Any) -> bool:
        """Whether `key` has a row (see :meth:`get_index`).

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a"], np.zeros((1, 2), dtype=np.float32))
        >>> kv.has_index_for("a"), kv.has_index_for("b")
        (True, False)
        """
        return self.get_index(key, -1) >= 0

    def get_vector(self, key: Key, norm: bool = False) -> np.ndarray:
        """The vector of `key`, read-only, scaled to unit length if `norm`.

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a"], np.array([[3, 4]], dtype=np.float32))
        >>> kv.get_vector("a", norm=True)
        array([0.6, 0.8], dtype=float32)
        """
        index = self.get_index(key)
        if norm:
            result = self.vectors[index] / self._filled_norms()[index]
        else:
            result = self.vectors[index]
        # A writable view would let callers change a vector without invalidating `norms`.
        result.setflags(write=False)
        return result

    def fill_norms(self, force: bool = False) -> None:
        """Compute :attr:`norms` if missing, stale in length, or `force` is set.

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a"], np.array([[3, 4]], dtype=np.float32))
        >>> kv.fill_norms()
        >>> kv.norms
        array([5.], dtype=float32)
        """
        self._filled_norms(force)

    def _filled_norms(self, force: bool = False) -> np.ndarray:
        """:attr:`norms`, computed first as :meth:`fill_norms` does."""
        norms = self.norms
        if force or norms is None or len(norms) != len(self.vectors):
            norms = self.norms = np.linalg.norm(self.vectors, axis=1)
        return norms

    def get_normed_vectors(self) -> np.ndarray:
        """A new array with every vector scaled to unit length.

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a"], np.array([[0, 2]], dtype=np.float32))
        >>> kv.get_normed_vectors()
        array([[0., 1.]], dtype=float32)
        """
        return self.vectors / self._filled_norms()[:, np.newaxis]

    def unit_normalize_all(self) -> None:
        """Scale every vector to unit length in place; their lengths are lost.

        A vector of length zero stays zero, with norm 0 (gensim turns it into NaNs).

        Raises
        ------
        ValueError
            If the vectors are read-only (memory-mapped with ``mmap='r'``).

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b"], np.array([[3, 4], [0, 0]], dtype=np.float32))
        >>> kv.unit_normalize_all()
        >>> kv.vectors.tolist(), kv.norms.tolist()
        ([[0.6000000238418579, 0.800000011920929], [0.0, 0.0]], [1.0, 0.0])
        """
        self._check_writable("scale the vectors in place")
        norms = self._filled_norms()
        scalable = norms > 0
        np.divide(self.vectors, norms[:, np.newaxis], out=self.vectors,
                  where=scalable[:, np.newaxis])
        self.norms = np.where(scalable, 1.0, norms.astype(np.float64))

    def _check_writable(self, action: str) -> None:
        if not self.vectors.flags.writeable:
            raise ValueError(
                f"cannot {action}: the vectors are read-only (loaded with mmap='r'?); "
                "load them without mmap to change them"
            )

    def allocate_vecattrs(
        self, attrs: Sequence[str] | None = None, types: Sequence[Any] | None = None
    ) -> None:
        """Make every per-key attribute array as long as :attr:`index_to_key`.

        Parameters
        ----------
        attrs : sequence of str, optional
            Attributes to create if missing; by default the existing ones are resized.
        types : sequence of types, optional
            dtype of each attribute in `attrs`; Python ``int`` means int64.

        Raises
        ------
        TypeError
            If an existing attribute cannot hold values of the requested type; nothing is
            allocated then.
        ValueError
            If `types` does not give one type per attribute.

        Examples
        --------
        >>> kv = KeyedVectors(2, count=3)
        >>> kv.allocate_vecattrs(["count"], [int])
        >>> kv.expandos["count"]
        array([0, 0, 0])
        """
        if attrs is None:
            attrs = list(self.expandos)
            types = [self.expandos[attr].dtype for attr in attrs]
        else:
            if isinstance(attrs, str):
                raise ValueError(f"attrs must be a list of attribute names, not the str {attrs!r}")
            if types is None:
                raise TypeError("allocate_vecattrs needs types along with attrs")
            attrs, types = list(attrs), list(types)
            if len(types) != len(attrs):
                raise ValueError(
                    f"allocate_vecattrs needs one type per attribute: got {len(attrs)} "
                    f"attributes and {len(types)} types"
                )
        # Every type is checked before any array changes, so a refusal leaves all as it was.
        dtypes = [self._vecattr_dtype(attr, kind) for attr, kind in zip(attrs, types)]
        size = len(self.index_to_key)
        for attr, dtype in zip(attrs, dtypes):
            current = self.expandos.get(attr)
            if current is None:
                self.expandos[attr] = np.zeros(size, dtype=dtype)
            elif len(current) != size:
                resized = np.zeros(size, dtype=current.dtype)
                kept = min(size, len(current))
                resized[:kept] = current[:kept]
                self.expandos[attr] = resized

    def _vecattr_dtype(self, attr: str, kind: Any) -> np.dtype:
        """The dtype per-key attribute `attr` has, or gets, to hold values of type `kind`."""
        dtype = np.dtype(np.int64 if kind is int else object if kind is str else kind)
        current = self.expandos.get(attr)
        if current is None:
            return dtype
        if not np.can_cast(dtype, current.dtype, casting="same_kind"):
            raise TypeError(
                f"cannot store {dtype} values in attribute {attr!r} of dtype {current.dtype}"
            )
        return current.dtype

    def set_vecattr(self, key: Key, attr: str, val: Any) -> None:
        """Set the per-key attribute `attr` of `key` to `val`.

        Raises
        ------
        KeyError
            If `key` is unknown.
        TypeError
            If the attribute already holds values of a type `val` cannot be stored as.

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a"], np.zeros((1, 2), dtype=np.float32))
        >>> kv.set_vecattr("a", "count", 7)
        >>> int(kv.get_vecattr("a", "count"))
        7
        """
        index = self.get_index(key)
        # Converting first makes a value that does not fit (2**70 in int64) fail before the
        # attribute is created.
        value = np.array(val, dtype=self._vecattr_dtype(attr, type(val)))
        self.allocate_vecattrs([attr], [type(val)])
        self.expandos[attr][index] = value

    def get_vecattr(self, key: Key, attr: str) -> Any:
        """The per-key attribute `attr` of `key` (see :meth:`set_vecattr`)."""
        return self.expandos[attr][self.get_index(key)]

    def resize_vectors(self, seed: int = 0) -> None:
        """Give :attr:`vectors` one row per key of :attr:`index_to_key`.

        Existing rows are kept; new rows get small random values drawn, for a given `seed`,
        exactly as gensim draws them (uniform in ``[-1, 1) / vector_size``). Rows past the
        number of keys are dropped (gensim raises then). The per-key attributes are resized
        too.

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a"], np.ones((1, 2), dtype=np.float32))
        >>> kv.index_to_key.append("b"); kv.key_to_index["b"] = 1
        >>> kv.resize_vectors()
        >>> kv.vectors.shape, kv["a"].tolist()
        ((2, 2), [1.0, 1.0])
        """
        target = (len(self.index_to_key), self.vector_size)
        if self.vectors.shape != target:
            rng = np.random.default_rng(seed=seed)
            # Drawn in float32, then scaled in place, so the values are gensim's.
            fresh = rng.random(target, dtype=np.float32)
            fresh *= 2.0
            fresh -= 1.0
            fresh /= self.vector_size
            resized = fresh.astype(self.vectors.dtype, copy=False)
            rows, columns = min(target[0], len(self.vectors)), min(target[1], self.vectors.shape[1])
            resized[:rows, :columns] = self.vectors[:rows, :columns]
            self.vectors = resized
        self.allocate_vecattrs()
        self.norms = None

    def vectors_for_all(
        self, keys: Iterable[Key], allow_inference: bool = True, copy_vecattrs: bool = False
    ) -> KeyedVectors:
        """A new KeyedVectors with the vectors of the known `keys`, each once, in given order.

        Parameters
        ----------
        keys : iterable of str
            Keys wanted; unknown ones are left out, repeated ones kept once.
        allow_inference : bool
            Also accept what ``key in self`` accepts beyond the keys themselves (an integer
            row number); subclasses that infer vectors for unknown words would use it.
        copy_vecattrs : bool
            Copy the per-key attributes too.

        Returns
        -------
        KeyedVectors
            With a ``'count'`` attribute decreasing from ``len(result)`` to 1 (made up, as in
            gensim), replaced by the original counts when `copy_vecattrs` copies them.

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b", "c"], np.eye(3, 2, dtype=np.float32))
        >>> kv.vectors_for_all(["c", "zzz", "a", "c"]).index_to_key
        ['c', 'a']
        """
        present: list[Any] = []
        seen: set[Any] = set()
        for key in keys:
            if key in seen:
                continue
            seen.add(key)
            if key in (self if allow_inference else self.key_to_index):
                present.append(key)
        rows = [self.get_index(key) for key in present]
        expandos: dict[str, np.ndarray] = {}
        if present:
            expandos["count"] = np.arange(len(present), 0, -1, dtype=np.int64)
            if copy_vecattrs:
                expandos.update((attr, values[rows]) for attr, values in self.expandos.items())
        result = KeyedVectors(self.vector_size, dtype=self.vectors.dtype)
        result._set_contents(present, self.vectors[rows], expandos)
        return result

    def add_vector(self, key: Key, vector: np.ndarray) -> int:
        """Add one vector for a new key, filling the next preallocated slot if there is one.

        Returns
        -------
        int
            The row of the new vector.

        Raises
        ------
        ValueError
            If `key` is already present (assign ``kv[key] = vector`` to replace its vector),
            is None, or `vector` does not hold :attr:`vector_size` numbers; nothing changes then.

        Examples
        --------
        >>> kv = KeyedVectors(2, count=1)
        >>> kv.add_vector("a", np.ones(2, dtype=np.float32))
        0
        """
        self._check_new_keys([key])
        if key in self.key_to_index:
            raise ValueError(
                f"key {key!r} is already present (row {self.key_to_index[key]}); "
                "assign kv[key] = vector to replace its vector"
            )
        array = np.asarray(vector)
        if array.ndim == 2 and array.shape[0] == 1:
            array = array[0]
        if array.shape != (self.vector_size,) or array.dtype.kind not in _NUMBER_KINDS:
            raise ValueError(
                f"vector has shape {array.shape} and dtype {array.dtype}; expected "
                f"({self.vector_size},) numbers"
            )
        index = self.next_index
        if index < len(self.index_to_key) and self.index_to_key[index] is None:
            self.vectors[index] = array
            self.index_to_key[index] = key
            self.key_to_index[key] = index
            self.norms = None
        else:
            index = len(self.index_to_key)
            self.add_vectors([key], array.reshape(1, -1))
        self.next_index = index + 1
        return index

    def add_vectors(
        self,
        keys: Key | Sequence[Key],
        weights: np.ndarray | Sequence[np.ndarray],
        extras: dict[str, np.ndarray] | None = None,
        replace: bool = False,
    ) -> None:
        """Append vectors for new keys; existing keys keep their vector unless `replace`.

        Every argument is checked before anything changes: a call that raises leaves the
        vectors, the keys and their attributes as they were.

        Parameters
        ----------
        keys : str or sequence of str
            Keys, one per row of `weights`.
        weights : numpy.ndarray or sequence of numpy.ndarray
            The vectors: a ``(len(keys), vector_size)`` matrix or a list of vectors; a single
            vector for a single key.
        extras : dict of str to numpy.ndarray, optional
            Per-key attribute values, one per key.
        replace : bool
            Overwrite the vectors (and extras) of keys already present.

        Raises
        ------
        ValueError
            If `weights` does not hold one row of :attr:`vector_size` numbers per key (a
            transposed matrix included), an array of `extras` does not hold one value per key,
            or a key is None.
        TypeError
            If a key is unhashable, or an attribute of `extras` already holds values of a type
            its new values cannot be stored as.

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b"], np.eye(2, dtype=np.float32),
        ...                extras={"count": np.array([5, 3])})
        >>> kv.index_to_key, kv.expandos["count"].tolist()
        (['a', 'b'], [5, 3])
        """
        keys = [keys] if isinstance(keys, _KEY_TYPES) else list(keys)
        self._check_new_keys(keys)
        weights = self._checked_weights(keys, weights)
        extras = _checked_extras(keys, extras)
        for attr, values in extras.items():
            self._vecattr_dtype(attr, values.dtype)
        if len(self.vectors) != len(self.index_to_key):
            raise ValueError(
                f"the vectors have {len(self.vectors)} rows for {len(self.index_to_key)} keys; "
                "make them agree before adding vectors"
            )

        new_rows: list[int] = []
        existing_rows: list[int] = []
        existing_indices: list[int] = []
        # A key repeated within `keys` counts as present from its second occurrence on.
        added: dict[Any, int] = {}
        for row, key in enumerate(keys):
            index = self.key_to_index.get(key, added.get(key))
            if index is None:
                added[key] = len(self.index_to_key) + len(new_rows)
                new_rows.append(row)
            else:
                existing_rows.append(row)
                existing_indices.append(index)

        first_new = len(self.index_to_key)
        self.vectors = np.ascontiguousarray(
            np.vstack((self.vectors, weights[new_rows].astype(self.vectors.dtype)))
        )
        self.index_to_key.extend(keys[row] for row in new_rows)
        self.key_to_index.update(added)
        self.allocate_vecattrs(list(extras), [values.dtype for values in extras.values()])
        for attr, values in extras.items():
            self.expandos[attr][first_new:] = values[new_rows]
        if replace and existing_rows:
            self.vectors[existing_indices] = weights[existing_rows]
            for attr, values in extras.items():
                self.expandos[attr][existing_indices] = values[existing_rows]
        self.norms = None

    @staticmethod
    def _check_new_keys(keys: list[Any]) -> None:
        for key in keys:
            if key is None:
                raise ValueError("None cannot be a key: it marks an unfilled preallocated slot")
            hash(key)  # an unhashable key raises TypeError here, before anything changes

    def _checked_weights(self, keys: list[Any], weights: Any) -> np.ndarray:
        """`weights` as a ``(len(keys), vector_size)`` array, or a ValueError naming its shape."""
        array = np.asarray(weights)
        if array.dtype.kind not in _NUMBER_KINDS:
            raise ValueError(f"weights must be numbers, got an array of dtype {array.dtype}")
        expected = (len(keys), self.vector_size)
        if array.shape == expected:
            return array
        if (len(keys) == 1 and array.shape == (self.vector_size,)) or (
            not keys and array.size == 0
        ):
            return array.reshape(expected)
        transposed = " (a transposed matrix?)" if array.shape == expected[::-1] else ""
        raise ValueError(
            f"weights has shape {array.shape}; expected {expected}, one row of "
            f"{self.vector_size} values per key{transposed}"
        )

    def sort_by_descending_frequency(self) -> None:
        """Reorder the rows by descending ``'count'`` attribute, keeping ties in order.

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["rare", "common"], np.eye(2, dtype=np.float32),
        ...                extras={"count": np.array([1, 9])})
        >>> kv.sort_by_descending_frequency()
        >>> kv.index_to_key
        ['common', 'rare']
        """
        if not len(self):
            return
        if "count" not in self.expandos:
            raise ValueError("cannot sort by frequency without a 'count' attribute")
        order = np.argsort(-self.expandos["count"], kind="stable")
        self.index_to_key = [self.index_to_key[index] for index in order]
        self.key_to_index = {key: index for index, key in enumerate(self.index_to_key)}
        self.vectors = self.vectors[order]
        self.expandos = {attr: values[order] for attr, values in self.expandos.items()}
        self.norms = None

    # ----------------------------------------------------------------------------------------
    # Similarity queries

    def get_mean_vector(
        self,
        keys: Sequence[Key | np.ndarray] | np.ndarray,
        weights: Sequence[float] | np.ndarray | None = None,
        pre_normalize: bool = True,
        post_normalize: bool = False,
        ignore_missing: bool = True,
    ) -> np.ndarray:
        """Weighted mean of the vectors of `keys` (which may also be vectors themselves).

        Parameters
        ----------
        keys : sequence of str or numpy.ndarray
            Keys or vectors; vectors are used as given.
        weights : sequence of float, optional
            One weight per key (default 1); the sum is divided by the total absolute weight.
        pre_normalize : bool
            Scale each key's vector to unit length first.
        post_normalize : bool
            Scale the result to unit length (and float32).
        ignore_missing : bool
            Skip unknown keys instead of raising ``KeyError``.

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["x", "y"], np.array([[2, 0], [0, 4]], dtype=np.float32))
        >>> kv.get_mean_vector(["x", "y"])
        array([0.5, 0.5], dtype=float32)
        """
        if len(keys) == 0:
            raise ValueError("cannot compute mean with no input")
        if weights is None:
            weights = np.ones(len(keys), dtype=self.vectors.dtype)
        elif not isinstance(weights, np.ndarray):
            weights = np.array(weights, dtype=self.vectors.dtype)
        if len(keys) != len(weights):
            raise ValueError(f"got {len(weights)} weights for {len(keys)} keys")
        terms = []
        for key, weight in zip(keys, weights):
            if isinstance(key, np.ndarray):
                terms.append((key, weight))
            elif self.has_index_for(key):
                terms.append((self.get_vector(key, norm=pre_normalize), weight))
            elif not ignore_missing:
                raise KeyError(f"Key {key!r} not present in vocabulary")
        return self._weighted_mean(terms, post_normalize)

    def _weighted_mean(self, terms: list[tuple[np.ndarray, Any]], unit: bool) -> np.ndarray:
        return weighted_mean(terms, self.vector_size, self.vectors.dtype, unit)

    def _unit_row(self, index: int) -> np.ndarray:
        return unit_row(self.vectors, self._filled_norms(), index)

    def _row_similarities(self, query: np.ndarray, start: int, end: int) -> np.ndarray:
        return row_similarities(self.vectors, self._filled_norms(), query, start, end)

    def _parse_terms(
        self, positive: Any, negative: Any
    ) -> tuple[list[tuple[np.ndarray, float]], list[int]]:
        """Query terms as (unit vector or given vector, weight), and the rows of the keys."""
        terms, rows = [], []
        for items, default_weight in ((positive, 1.0), (negative, -1.0)):
            for item in _as_term_list(items):
                if isinstance(item, _TERM_TYPES):
                    target, weight = item, default_weight
                else:
                    target, weight = item
                # Double-precision weights make the mean round exactly as gensim's does.
                weight = np.float64(weight)
                if isinstance(target, np.ndarray):
                    terms.append((target, weight))
                else:
                    index = self.get_index(target)
                    terms.append((self._unit_row(index), weight))
                    rows.append(index)
        return terms, rows

    def most_similar(
        self,
        positive: Term | Sequence[Term] | None = None,
        negative: Term | Sequence[Term] | None = None,
        topn: int | None = 10,
        clip_start: int = 0,
        clip_end: int | None = None,
        restrict_vocab: int | None = None,
        indexer: Any = None,
    ) -> list[tuple[str, float]] | np.ndarray:
        """Keys whose vectors are closest (by cosine) to the weighted mean of the query.

        Parameters
        ----------
        positive, negative : key, vector, (key or vector, weight), or a list of those
            Query terms; weights default to +1 for positive and -1 for negative terms. Key
            vectors are scaled to unit length first, given vectors are used as they are.
        topn : int or None
            Number of results; None returns the similarity of every row as an array.
        clip_start, clip_end : int
            Search only rows ``[clip_start, clip_end)``.
        restrict_vocab : int, optional
            Search only the first `restrict_vocab` rows (overrides the clip arguments).
        indexer : object, optional
            A nearest-neighbour index with a ``most_similar(vector, num_neighbors)`` method,
            such as those of :mod:`fastw2v.similarities`, used instead of the exact search when
            `topn` is an int. It is handed the unit-length query vector and its answer is
            returned as it is: the query's own keys included, the clip arguments ignored (as
            in gensim).

        Returns
        -------
        list of (str, float) or numpy.ndarray
            The `topn` closest keys, most similar first, excluding the query's own keys.

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["king", "man", "woman", "queen"],
        ...                np.array([[1, 1], [1, 0], [0, 1], [0.2, 1.5]], dtype=np.float32))
        >>> kv.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0]
        'queen'
        """
        if isinstance(topn, Integral) and topn < 1:
            return []
        self.fill_norms()
        terms, query_rows = self._parse_terms(positive, negative)
        if not terms:
            raise ValueError("cannot compute mean with no input")
        query = self._weighted_mean(terms, unit=True)
        if indexer is not None and isinstance(topn, int):
            return indexer.most_similar(query, topn)
        clip_end = clip_end or len(self.vectors)
        if restrict_vocab:
            clip_start, clip_end = 0, restrict_vocab
        similarities = self._row_similarities(query, clip_start, clip_end)
        if not topn:
            return similarities
        excluded = set(query_rows)
        # Fetching len(query_rows) extra candidates leaves topn after dropping the query's keys.
        best = largest_first(similarities, topn + len(query_rows))
        return [
            (self.index_to_key[offset + clip_start], float(similarities[offset]))
            for offset in best
            if offset + clip_start not in excluded
        ][:topn]

    def similar_by_key(
        self,
        key: Key,
        topn: int | None = 10,
        restrict_vocab: int | None = None,
        indexer: Any = None,
    ) -> list[tuple[str, float]] | np.ndarray:
        """The `topn` keys most similar to `key` (see :meth:`most_similar`, also for `indexer`,
        which gensim's similar_by_* methods lack).

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b", "c"], np.array([[1, 0], [1, 0.1], [0, 1]], dtype=np.float32))
        >>> kv.similar_by_key("a", topn=1)[0][0]
        'b'
        """
        return self.most_similar(
            positive=[key], topn=topn, restrict_vocab=restrict_vocab, indexer=indexer
        )

    def similar_by_word(
        self,
        word: Key,
        topn: int | None = 10,
        restrict_vocab: int | None = None,
        indexer: Any = None,
    ) -> list[tuple[str, float]] | np.ndarray:
        """Alias of :meth:`similar_by_key`."""
        return self.similar_by_key(word, topn, restrict_vocab, indexer)

    def similar_by_vector(
        self,
        vector: np.ndarray,
        topn: int | None = 10,
        restrict_vocab: int | None = None,
        indexer: Any = None,
    ) -> list[tuple[str, float]] | np.ndarray:
        """The `topn` keys most similar to `vector` (see :meth:`most_similar`, also for
        `indexer`).

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b"], np.array([[1, 0], [0, 1]], dtype=np.float32))
        >>> kv.similar_by_vector(np.array([0.1, 1.0], dtype=np.float32), topn=1)[0][0]
        'b'
        """
        return self.most_similar(
            positive=[vector], topn=topn, restrict_vocab=restrict_vocab, indexer=indexer
        )

    def most_similar_cosmul(
        self,
        positive: Key | np.ndarray | Sequence[Key | np.ndarray] | None = None,
        negative: Key | np.ndarray | Sequence[Key | np.ndarray] | None = None,
        topn: int | None = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]] | np.ndarray:
        """Most similar keys by the multiplicative objective 3CosMul (Levy and Goldberg, 2014).

        Each row scores the product of its shifted cosines ``(1 + cos) / 2`` with the positive
        terms divided by the product with the negative terms (plus 1e-6).

        Parameters
        ----------
        positive, negative : key, vector, or a list of those
            Query terms; there must be at least one positive term.
        topn : int or None
            Number of results; None returns the score of every row as an array.
        restrict_vocab : int, optional
            Search only the first `restrict_vocab` rows (gensim ignores this argument).

        Returns
        -------
        list of (str, float) or numpy.ndarray

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["king", "man", "woman", "queen"],
        ...                np.array([[1, 1], [1, 0], [0, 1], [0.2, 1.5]], dtype=np.float32))
        >>> kv.most_similar_cosmul(positive=["king", "woman"], negative=["man"], topn=1)[0][0]
        'queen'
        """
        if isinstance(topn, Integral) and topn < 1:
            return []
        norms = self._filled_norms()
        positive_terms: list[np.ndarray] = []
        negative_terms: list[np.ndarray] = []
        query_rows: set[int] = set()
        for items, terms in ((positive, positive_terms), (negative, negative_terms)):
            for item in _as_term_list(items):
                if isinstance(item, np.ndarray):
                    terms.append(item)
                else:
                    index = self.get_index(item)
                    terms.append(self._unit_row(index))
                    query_rows.add(index)
        if not positive_terms:
            raise ValueError("cannot compute similarity with no input")
        end = restrict_vocab or len(self.vectors)
        scores = cosmul_scores(self.vectors, norms, positive_terms, negative_terms, end)
        if not topn:
            return scores
        best = largest_first(scores, topn + len(query_rows))
        return [
            (self.index_to_key[index], float(scores[index]))
            for index in best
            if index not in query_rows
        ][:topn]

    def rank_by_centrality(
        self, words: Sequence[Key], use_norm: bool = True
    ) -> list[tuple[float, Key]]:
        """The known `words` sorted by cosine similarity to their mean, closest first.

        Unknown words are skipped with a warning.

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b", "c"], np.array([[1, 0], [1, 0.1], [0, 1]], dtype=np.float32))
        >>> [word for _, word in kv.rank_by_centrality(["a", "b", "c"])]
        ['b', 'a', 'c']
        """
        self.fill_norms()
        used_words = [word for word in words if word in self]
        if len(used_words) != len(words):
            logger.warning(
                "ignoring words not in the vocabulary: %s", set(words) - set(used_words)
            )
        if not used_words:
            raise ValueError("cannot select a word from an empty list")
        vectors = np.vstack([self.get_vector(word, norm=use_norm) for word in used_words])
        vectors = vectors.astype(np.float32)
        mean = self.get_mean_vector(vectors, post_normalize=True)
        return sorted(zip(np.dot(vectors, mean), used_words), reverse=True)

    def doesnt_match(self, words: Sequence[Key]) -> Key:
        """The word furthest from the mean of `words` (unknown words are skipped).

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["cat", "dog", "car"],
        ...                np.array([[1, 0], [1, 0.1], [0, 1]], dtype=np.float32))
        >>> kv.doesnt_match(["cat", "dog", "car"])
        'car'
        """
        return self.rank_by_centrality(words)[-1][1]

    @staticmethod
    def cosine_similarities(vector_1: np.ndarray, vectors_all: np.ndarray) -> np.ndarray:
        """Cosine similarity of `vector_1` with each row of `vectors_all`.

        Examples
        --------
        >>> KeyedVectors.cosine_similarities(np.array([1.0, 0.0]),
        ...                                  np.array([[2.0, 0.0], [0.0, 1.0]]))
        array([1., 0.])
        """
        norm = np.linalg.norm(vector_1)
        all_norms = np.linalg.norm(vectors_all, axis=1)
        return np.dot(vectors_all, vector_1) / (norm * all_norms)

    def distances(
        self, word_or_vector: Key | np.ndarray, other_words: Sequence[Key] = ()
    ) -> np.ndarray:
        """Cosine distances from a key or vector to `other_words` (default: every key).

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b"], np.array([[1, 0], [0, 1]], dtype=np.float32))
        >>> kv.distances("a")
        array([0., 1.], dtype=float32)
        """
        if isinstance(word_or_vector, _KEY_TYPES):
            vector = self.get_vector(word_or_vector)
        else:
            vector = word_or_vector
        if other_words:
            others = self.vectors[[self.get_index(word) for word in other_words]]
        else:
            others = self.vectors
        return 1 - self.cosine_similarities(vector, others)

    def similarity(self, w1: Key, w2: Key) -> float:
        """Cosine similarity of two keys.

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b"], np.array([[1, 0], [1, 1]], dtype=np.float32))
        >>> round(float(kv.similarity("a", "b")), 4)
        0.7071
        """
        return np.dot(unit_vector(self[w1]), unit_vector(self[w2]))

    def distance(self, w1: Key, w2: Key) -> float:
        """Cosine distance of two keys, ``1 - similarity(w1, w2)``.

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b"], np.array([[1, 0], [0, 1]], dtype=np.float32))
        >>> float(kv.distance("a", "b"))
        1.0
        """
        return 1 - self.similarity(w1, w2)

    def n_similarity(self, ws1: Sequence[Key], ws2: Sequence[Key]) -> float:
        """Cosine similarity of the means of two sets of keys.

        Unknown keys are left out, as in gensim; a set with no known key has a zero mean,
        whose similarity with anything is 0.

        Raises
        ------
        ZeroDivisionError
            If either set is empty (as gensim).

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b", "c"], np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32))
        >>> round(float(kv.n_similarity(["a", "b"], ["c"])), 4)
        1.0
        """
        if not (len(ws1) and len(ws2)):
            raise ZeroDivisionError("At least one of the passed list is empty.")
        mean1 = self.get_mean_vector(ws1, pre_normalize=False)
        mean2 = self.get_mean_vector(ws2, pre_normalize=False)
        return np.dot(unit_vector(mean1), unit_vector(mean2))

    def most_similar_to_given(self, key1: Key, keys_list: Sequence[Key]) -> Key:
        """The key of `keys_list` most similar to `key1`.

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b", "c"], np.array([[1, 0], [1, 0.1], [0, 1]], dtype=np.float32))
        >>> kv.most_similar_to_given("a", ["c", "b"])
        'b'
        """
        return keys_list[int(np.argmax([self.similarity(key1, key) for key in keys_list]))]

    def closer_than(self, key1: Key, key2: Key) -> list[Key]:
        """Keys closer to `key1` than `key2` is.

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b", "c"], np.array([[1, 0], [1, 0.1], [0, 1]], dtype=np.float32))
        >>> kv.closer_than("a", "c")
        ['b']
        """
        all_distances = self.distances(key1)
        index1, index2 = self.get_index(key1), self.get_index(key2)
        closer = np.flatnonzero(all_distances < all_distances[index2])
        return [self.index_to_key[index] for index in closer if index != index1]

    def rank(self, key1: Key, key2: Key) -> int:
        """Rank of `key2` among the keys nearest to `key1` (1 for the nearest).

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b", "c"], np.array([[1, 0], [1, 0.1], [0, 1]], dtype=np.float32))
        >>> kv.rank("a", "c")
        2
        """
        return len(self.closer_than(key1, key2)) + 1

    def relative_cosine_similarity(self, wa: Key, wb: Key, topn: int = 10) -> float:
        """Similarity of `wa` and `wb` relative to `wa`'s `topn` nearest neighbours.

        ``similarity(wa, wb) / sum(similarities of the topn keys most similar to wa)``
        (equation 1 of Leeuwenberg et al., 2016, "A Minimally Supervised Approach for
        Synonym Extraction with Word Embeddings"); above about 0.10 for ``topn=10``, `wb` is
        more similar to `wa` than an arbitrary word is.

        Raises
        ------
        KeyError
            If `wa` or `wb` is unknown.
        ValueError
            If `topn` is not a positive integer, or `wa` has no neighbour.

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b", "c"], np.array([[1, 0], [1, 0.1], [1, 1]], dtype=np.float32))
        >>> round(kv.relative_cosine_similarity("a", "b", topn=2), 4)
        0.5846
        """
        if topn is None or isinstance(topn, bool) or not isinstance(topn, Integral):
            raise ValueError(f"topn must be a positive integer, got {topn!r}")
        neighbours = self.similar_by_word(wa, topn)
        if not neighbours:
            raise ValueError(
                f"cannot compute a relative cosine similarity for {wa!r}: no similar word "
                f"among its topn={topn} neighbours"
            )
        return float(self.similarity(wa, wb)) / sum(score for _, score in neighbours)

    def wmdistance(
        self, document1: Sequence[Key], document2: Sequence[Key], norm: bool = True
    ) -> float:
        """Word Mover's Distance between two documents (Kusner et al., 2015).

        The least total distance the words of one document must travel, in the vector
        space, to become the words of the other, each document weighing its words by their
        frequency in it. Solved by the optional POT package (Flamary et al., 2021, "POT:
        Python Optimal Transport") on the same problem gensim gives it, hence gensim's result.

        Parameters
        ----------
        document1, document2 : list of str
            The documents' words; unknown words are left out.
        norm : bool
            Use unit-length vectors.

        Returns
        -------
        float
            The distance; ``inf`` when a document has no known word, or when all the known
            words of both sit at the same point; 0.0 when both are one and the same word.

        Raises
        ------
        ImportError
            If POT is not installed: ``pip install "fastw2v[wmd]"``.

        Examples
        --------
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b"], np.array([[1, 0], [0, 1]], dtype=np.float32))
        >>> kv.wmdistance(["a"], ["a", "zzz"])
        0.0
        """
        try:
            import ot  # noqa: F401 -- only to say early, and clearly, that it is missing
        except ImportError as error:
            raise ImportError(
                "wmdistance needs the optional POT package (Python Optimal Transport): "
                'pip install "fastw2v[wmd]"'
            ) from error
        known1 = [word for word in document1 if word in self]
        known2 = [word for word in document2 if word in self]
        if len(known1) < len(document1) or len(known2) < len(document2):
            logger.info("wmdistance: left out %d and %d words not in the vocabulary",
                        len(document1) - len(known1), len(document2) - len(known2))
        if not known1 or not known2:
            logger.warning("wmdistance: a document has no word in the vocabulary")
            return float("inf")
        return word_movers_distance(known1, known2, lambda word: self.get_vector(word, norm=norm))

    # ----------------------------------------------------------------------------------------
    # Evaluation (see fastw2v.evaluation)

    def evaluate_word_analogies(
        self,
        analogies: str | os.PathLike[str] | None = None,
        restrict_vocab: int | None = 300000,
        case_insensitive: bool = True,
        dummy4unknown: bool = False,
        similarity_function: str = "most_similar",
    ) -> tuple[float, list[dict[str, Any]]]:
        """Accuracy on "a is to b as c is to d" questions, like the C tool's compute-accuracy.

        For each question ``a b c d`` the answer is the key most similar to ``b + c - a``
        (among the first `restrict_vocab` keys, excluding the three question words and, when
        case-insensitive, their case variants); it counts as correct if it is ``d``. See
        :func:`fastw2v.evaluation.evaluate_word_analogies`.

        Parameters
        ----------
        analogies : str or os.PathLike, optional
            File of questions, four words per line, in sections started by ``": name"``
            lines; by default the Google analogy set shipped with fastw2v.
        restrict_vocab : int or None
            Only the first `restrict_vocab` keys (the most frequent) are used, both to answer
            and to decide which questions are in vocabulary.
        case_insensitive : bool
            Compare words uppercased; the most frequent case variant of a key is used.
        dummy4unknown : bool
            Count questions with out-of-vocabulary words as wrong instead of skipping them.
        similarity_function : {'most_similar', 'most_similar_cosmul'}
            3CosAdd or 3CosMul (gensim always uses 3CosAdd).

        Returns
        -------
        score : float
            Overall accuracy.
        sections : list of dict
            For each section and finally ``'Total accuracy'``: ``{'section': name,
            'correct': [(a, b, c, d), ...], 'incorrect': [...]}``.

        Examples
        --------
        >>> import os, tempfile
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["king", "man", "woman", "queen"],
        ...                np.array([[1, 1], [1, 0], [0, 1], [0.2, 1.5]], dtype=np.float32))
        >>> path = os.path.join(tempfile.mkdtemp(), "questions.txt")
        >>> _ = open(path, "w").write(": royalty\\nman king woman queen\\n")
        >>> score, sections = kv.evaluate_word_analogies(path)
        >>> score, sections[0]["correct"]
        (1.0, [('MAN', 'KING', 'WOMAN', 'QUEEN')])
        """
        self.fill_norms()
        return evaluation.evaluate_word_analogies(
            self.vectors,
            self.index_to_key,
            analogies,
            restrict_vocab=restrict_vocab,
            case_insensitive=case_insensitive,
            dummy4unknown=dummy4unknown,
            similarity_function=similarity_function,
            norms=self.norms,
        )

    def evaluate_word_pairs(
        self,
        pairs: str | os.PathLike[str] | None = None,
        delimiter: str = "\t",
        encoding: str = "utf8",
        restrict_vocab: int | None = 300000,
        case_insensitive: bool = True,
        dummy4unknown: bool = False,
    ) -> tuple[Any, Any, float]:
        """Correlation of the model's similarities with human judgements of word pairs.

        See :func:`fastw2v.evaluation.evaluate_word_pairs`.

        Parameters
        ----------
        pairs : str or os.PathLike, optional
            File of ``word1<delimiter>word2<delimiter>score`` lines (``#`` starts a comment);
            by default WordSim-353 shipped with fastw2v.
        delimiter : str
            Field separator.
        encoding : str
            Encoding of the file.
        restrict_vocab : int or None
            Only the first `restrict_vocab` keys count as known.
        case_insensitive : bool
            Compare words uppercased; the most frequent case variant of a key is used.
        dummy4unknown : bool
            Score pairs with unknown words as similarity 0 instead of skipping them.

        Returns
        -------
        pearson : scipy.stats PearsonRResult
            Pearson correlation and two-sided p-value (indexable as ``(r, p)``).
        spearman : scipy.stats SignificanceResult
            Spearman rank correlation and two-sided p-value (indexable as ``(rho, p)``).
        oov_ratio : float
            Percentage of pairs with unknown words.

        Examples
        --------
        >>> import os, tempfile
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b", "c"], np.array([[1, 0], [1, 0.2], [0, 1]], dtype=np.float32))
        >>> path = os.path.join(tempfile.mkdtemp(), "pairs.tsv")
        >>> _ = open(path, "w").write("a\\tb\\t9\\na\\tc\\t1\\nb\\tc\\t2\\na\\tzzz\\t5\\n")
        >>> pearson, spearman, oov = kv.evaluate_word_pairs(path)
        >>> round(float(spearman[0]), 3), oov
        (1.0, 25.0)
        """
        return evaluation.evaluate_word_pairs(
            self.vectors,
            self.index_to_key,
            pairs,
            delimiter=delimiter,
            encoding=encoding,
            restrict_vocab=restrict_vocab,
            case_insensitive=case_insensitive,
            dummy4unknown=dummy4unknown,
        )

    @staticmethod
    def log_accuracy(section: dict[str, Any]) -> None:
        """Log the accuracy of one section of :meth:`evaluate_word_analogies`' result."""
        evaluation.log_accuracy(section)

    @staticmethod
    def log_evaluate_word_pairs(pearson: Any, spearman: Any, oov: float, pairs: Any) -> None:
        """Log the result of :meth:`evaluate_word_pairs` on the file `pairs`."""
        evaluation.log_evaluate_word_pairs(pearson, spearman, oov, pairs)

    # ----------------------------------------------------------------------------------------
    # Merging vectors from a file

    def intersect_word2vec_format(
        self,
        fname: str | os.PathLike[str],
        lockf: float = 0.0,
        binary: bool = False,
        encoding: str = "utf8",
        unicode_errors: str = "strict",
    ) -> None:
        """Take the vectors of a word2vec-format file for the keys already present.

        No key is added; the keys the file shares with these vectors get the file's vectors
        and the lock factor `lockf` in :attr:`vectors_lockf` (0.0 keeps them fixed in further
        training, 1.0 lets them train). The file is read whole before anything changes.

        Parameters
        ----------
        fname : str or os.PathLike
            The file; ``.gz``, ``.bz2``, ``.xz`` and ``.lzma`` names are decompressed.
        lockf : float
            Lock factor of the merged vectors.
        binary : bool
            The file is in the binary format.
        encoding, unicode_errors : str
            How words are decoded.

        Raises
        ------
        ValueError
            If the file's vectors have another dimensionality, the file is malformed,
            :attr:`vectors_lockf` has neither one entry nor one per key, or the vectors are
            read-only.

        Notes
        -----
        :attr:`vectors_lockf` becomes one lock factor per key, the others keeping the value
        of a single shared factor (1.0 when there was none). gensim needs that per-key array
        set beforehand and raises otherwise.

        Examples
        --------
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "pretrained.txt")
        >>> _ = open(path, "w").write("2 2\\nb 0.5 0.5\\nzzz 1 1\\n")
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b"], np.zeros((2, 2), dtype=np.float32))
        >>> kv.intersect_word2vec_format(path)
        >>> kv["b"].tolist(), kv.vectors_lockf.tolist()
        ([0.5, 0.5], [1.0, 0.0])
        """
        keys, vectors, _ = _io.read_word2vec_format(
            fname, binary=binary, encoding=encoding, unicode_errors=unicode_errors
        )
        if vectors.shape[1] != self.vector_size:
            raise ValueError(
                f"{os.fspath(fname)}: incompatible vector size {vectors.shape[1]}; these "
                f"vectors have {self.vector_size}"
            )
        lock = getattr(self, "vectors_lockf", None)
        if lock is None or len(lock) == 1:
            shared = 1.0 if lock is None else float(lock[0])
            lock = np.full(len(self), shared, dtype=np.float32)
        elif len(lock) != len(self):
            raise ValueError(
                f"vectors_lockf has {len(lock)} entries for {len(self)} keys: "
                "give it one lock factor, or one per key"
            )
        self._check_writable("merge vectors into them")
        rows, file_rows = [], []
        for file_row, key in enumerate(keys):
            index = self.key_to_index.get(key)
            if index is not None:
                rows.append(index)
                file_rows.append(file_row)
        self.vectors[rows] = vectors[file_rows]
        lock[rows] = lockf
        self.vectors_lockf = lock
        self.norms = None
        logger.info("merged %d vectors from %s into %s", len(rows), os.fspath(fname), self)

    # ----------------------------------------------------------------------------------------
    # Files

    def save_word2vec_format(
        self,
        fname: str | os.PathLike[str],
        fvocab: str | os.PathLike[str] | None = None,
        binary: bool = False,
        total_vec: int | None = None,
        write_header: bool = True,
    ) -> None:
        """Save in the C word2vec tool's text or binary format, most frequent keys first.

        Rows are ordered by descending ``'count'`` attribute when there is one, otherwise
        kept in order. The file is written atomically; ``.gz``, ``.bz2``, ``.xz`` and ``.lzma``
        names are compressed.

        Parameters
        ----------
        fname : str or os.PathLike
            Output file.
        fvocab : str or os.PathLike, optional
            Also write ``"word count"`` lines here; needs the ``'count'`` attribute.
        binary : bool
            Binary float32 values instead of text.
        total_vec : int, optional
            Vector count for the header, if more vectors will be appended to the file.
        write_header : bool
            Write the ``"count dimensions"`` header line.

        Examples
        --------
        >>> import os, tempfile
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b"], np.eye(2, dtype=np.float32))
        >>> path = os.path.join(tempfile.mkdtemp(), "vectors.bin")
        >>> kv.save_word2vec_format(path, binary=True)
        >>> KeyedVectors.load_word2vec_format(path, binary=True)["b"]
        array([0., 1.], dtype=float32)
        """
        counts = self.expandos.get("count")
        if counts is None:
            if fvocab is not None:
                raise ValueError("cannot write fvocab: the vectors have no 'count' attribute")
            order = np.arange(len(self.index_to_key))
        else:
            order = np.argsort(-counts, kind="stable")
            counts = counts[order]
        _io.write_word2vec_format(
            fname,
            [self.index_to_key[index] for index in order],
            self.vectors,
            order=order,
            counts=counts,
            fvocab=fvocab,
            binary=binary,
            total_vec=total_vec,
            write_header=write_header,
        )

    @classmethod
    def load_word2vec_format(
        cls,
        fname: str | os.PathLike[str],
        fvocab: str | os.PathLike[str] | None = None,
        binary: bool = False,
        encoding: str = "utf8",
        unicode_errors: str = "strict",
        limit: int | None = None,
        datatype: Any = np.float32,
        no_header: bool = False,
    ) -> KeyedVectors:
        """Load vectors from the C word2vec tool's text or binary format.

        Parameters
        ----------
        fname : str or os.PathLike
            The file; ``.gz``, ``.bz2``, ``.xz`` and ``.lzma`` names are decompressed.
        fvocab : str or os.PathLike, optional
            ``"word count"`` file giving the counts; without it the counts are made up,
            decreasing in file order.
        binary : bool
            The file is in the binary format.
        encoding, unicode_errors : str
            How words are decoded; use ``unicode_errors='ignore'`` for files whose words the C
            tool truncated mid-character.
        limit : int, optional
            Read only the first `limit` vectors.
        datatype : numpy dtype
            dtype of the loaded vectors.
        no_header : bool
            The text file has no header line (GloVe format).

        Returns
        -------
        KeyedVectors

        Raises
        ------
        ValueError
            For a malformed file, with the line number (see
            :func:`fastw2v._io.read_word2vec_format`).

        Examples
        --------
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "vectors.txt")
        >>> _ = open(path, "w").write("2 2\\nhello 1 0\\nworld 0 1\\n")
        >>> KeyedVectors.load_word2vec_format(path).index_to_key
        ['hello', 'world']
        """
        keys, vectors, counts = _io.read_word2vec_format(
            fname,
            fvocab=fvocab,
            binary=binary,
            encoding=encoding,
            unicode_errors=unicode_errors,
            limit=limit,
            datatype=datatype,
            no_header=no_header,
        )
        kv = cls(vectors.shape[1], dtype=datatype)
        kv._set_contents(keys, np.ascontiguousarray(vectors), {"count": counts})
        return kv

    def _set_contents(self, keys: list[Any], vectors: np.ndarray, expandos: dict) -> None:
        self.index_to_key = keys
        self.key_to_index = {key: index for index, key in enumerate(keys) if key is not None}
        self.vectors = vectors
        self.expandos = expandos
        self.next_index = len(keys)
        self.norms = None

    def save(self, fname: str | os.PathLike[str]) -> None:
        """Save to a fastw2v archive (see :func:`fastw2v._io.save_archive`).

        Unlike gensim's pickle files the archive cannot run code when loaded, and its vectors
        can be memory-mapped. Per-key attributes must be numeric.

        Examples
        --------
        >>> import os, tempfile
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b"], np.eye(2, dtype=np.float32))
        >>> path = os.path.join(tempfile.mkdtemp(), "vectors.fw2v")
        >>> kv.save(path)
        >>> KeyedVectors.load(path, mmap="r")["b"].tolist()
        [0.0, 1.0]
        """
        for key in self.index_to_key:
            if not (key is None or isinstance(key, (str, int))):
                raise ValueError(f"cannot save key {key!r}: keys must be str or int")
        metadata = {
            "kind": _ARCHIVE_KIND,
            "vector_size": int(self.vector_size),
            "index_to_key": list(self.index_to_key),
            "next_index": int(self.next_index),
        }
        arrays = {"vectors": self.vectors}
        for attr, values in self.expandos.items():
            arrays[_EXPANDO_PREFIX + attr] = values
        _io.save_archive(fname, metadata, arrays)

    @classmethod
    def load_gensim(cls, fname: str | os.PathLike[str], mmap: str | None = None) -> KeyedVectors:
        """The vectors of a file saved by gensim 3 or 4's ``save()``: a KeyedVectors, or the
        ``wv`` of a Word2Vec model. Read without running any of the pickle's code (see
        :meth:`fastw2v.Word2Vec.load_gensim`); the per-word attributes (such as ``count``) come
        along."""
        from fastw2v._gensim_model import keyed_vectors_from, read_gensim_model

        return keyed_vectors_from(read_gensim_model(fname, mmap=mmap))

    @classmethod
    def load(cls, fname: str | os.PathLike[str], mmap: str | None = None) -> KeyedVectors:
        """Load vectors saved by :meth:`save`; ``mmap='r'`` memory-maps them read-only.

        Parameters
        ----------
        fname : str or os.PathLike
            The archive.
        mmap : {None, 'r', 'c'}
            None reads the vectors into memory; ``'r'`` maps them read-only from the file,
            ``'c'`` copy-on-write. The map is made from the file that was checked, even if
            another process saves over `fname` meanwhile (fastw2v's saves replace the file, so
            a mapped reader keeps the old one). Truncating or rewriting a mapped file in place
            (not by replacing it) makes the operating system kill the process with ``SIGBUS``
            when it next reads a vanished page; no check can prevent that.

        Raises
        ------
        ValueError
            If the file is not a fastw2v KeyedVectors archive or is damaged.

        Examples
        --------
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "vectors.fw2v")
        >>> KeyedVectors(3).save(path)
        >>> KeyedVectors.load(path)
        KeyedVectors<vector_size=3, 0 keys>
        """
        from fastw2v._gensim_model import is_gensim_pickle

        if is_gensim_pickle(fname):
            return cls.load_gensim(fname, mmap=mmap)
        metadata, arrays = _io.load_archive(
            fname, mmap=mmap, kind=_ARCHIVE_KIND,
            arrays=lambda name: name == "vectors" or name.startswith(_EXPANDO_PREFIX))
        source = os.fspath(fname)
        keys = metadata.get("index_to_key")
        vector_size = metadata.get("vector_size")
        vectors = arrays.get("vectors")
        if (not isinstance(keys, list) or isinstance(vector_size, bool)
                or not isinstance(vector_size, int) or vectors is None):
            raise ValueError(f"{source}: incomplete KeyedVectors data")
        if vectors.dtype.kind != "f":
            raise ValueError(f"{source}: vectors must be floating point, not {vectors.dtype}")
        if vectors.shape != (len(keys), vector_size):
            raise ValueError(
                f"{source}: vectors have shape {vectors.shape}, expected {(len(keys), vector_size)}"
            )
        if not all(key is None or isinstance(key, (str, int)) for key in keys):
            raise ValueError(f"{source}: keys must be strings or integers")
        present = [key for key in keys if key is not None]
        if len(set(present)) != len(present):
            raise ValueError(f"{source}: repeated keys")
        expandos = {
            name[len(_EXPANDO_PREFIX) :]: values
            for name, values in arrays.items()
            if name.startswith(_EXPANDO_PREFIX)
        }
        for attr, values in expandos.items():
            if values.shape != (len(keys),):
                raise ValueError(f"{source}: attribute {attr!r} has shape {values.shape}")
        kv = cls(vector_size, dtype=vectors.dtype)
        kv._set_contents(keys, vectors, expandos)
        next_index = metadata.get("next_index")
        if next_index is not None:
            if (isinstance(next_index, bool) or not isinstance(next_index, int)
                    or not 0 <= next_index <= len(keys)):
                raise ValueError(f"{source}: next_index must be in [0, {len(keys)}]")
            kv.next_index = next_index
        return kv

    def save_projector(
        self, prefix: str | os.PathLike[str], *, counts: bool = True, limit: int | None = None
    ) -> tuple[str, str]:
        """Save for the TensorFlow Embedding Projector (projector.tensorflow.org).

        Writes a vectors TSV file and a metadata TSV file of the keys, the layout that gensim's
        ``word2vec2tensor`` script writes and the projector's "Load" dialog reads; see
        :mod:`fastw2v._io.projector` for how keys holding tabs or line breaks are written. Both
        files are written atomically.

        Parameters
        ----------
        prefix : str or os.PathLike
            A directory (an existing one, or a path ending with a separator) gets
            ``vectors.tsv`` and ``metadata.tsv`` inside it; another prefix gets
            ``_vectors.tsv`` and ``_metadata.tsv`` appended (``runs/text8`` gives
            ``runs/text8_vectors.tsv``).
        counts : bool
            With a ``'count'`` attribute, order the rows most frequent first and add a
            ``count`` column to the metadata (which then opens with a ``word``/``count``
            header row, as the projector expects of several columns). Vectors read by
            :meth:`load_word2vec_format` without ``fvocab`` have made-up counts: pass
            ``counts=False`` for those.
        limit : int, optional
            Save only this many vectors (the most frequent first, with counts).

        Returns
        -------
        tuple of str
            The vectors file and the metadata file.

        Examples
        --------
        >>> import os, tempfile
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a", "b"], np.eye(2, dtype=np.float32))
        >>> vectors, metadata = kv.save_projector(os.path.join(tempfile.mkdtemp(), "toy"))
        >>> os.path.basename(metadata), open(metadata).read()
        ('toy_metadata.tsv', 'a\\nb\\n')
        """
        return _io.write_projector(
            prefix,
            self.index_to_key,
            self.vectors,
            counts=self.expandos.get("count") if counts else None,
            limit=limit,
        )


def _checked_extras(keys: list[Any], extras: dict[str, Any] | None) -> dict[str, np.ndarray]:
    """The per-key attribute values of `extras` as arrays of one value per key."""
    checked = {}
    for attr, values in (extras or {}).items():
        array = np.asarray(values)
        if array.shape != (len(keys),):
            raise ValueError(
                f"extras[{attr!r}] has shape {array.shape}; expected ({len(keys)},), one value "
                "per key"
            )
        checked[attr] = array
    return checked


def _as_term_list(value: Any) -> list:
    """Query terms as a list: a single key or vector becomes a one-item list."""
    if value is None:
        return []
    if isinstance(value, _KEY_TYPES) or (isinstance(value, np.ndarray) and value.ndim == 1):
        return [value]
    return list(value)
