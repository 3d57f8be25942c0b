"""The names gensim 4 keeps on KeyedVectors for code written for gensim 3.

:class:`Gensim3Names` is a base class of :class:`fastw2v.keyedvectors.KeyedVectors`, which
keeps its own file for the API worth learning. Here, as in gensim 4: the deprecated aliases
``word_vec``, ``words_closer_than`` and ``init_sims`` warn and work; reading the removed
attributes ``index2word``, ``index2entity``, ``vocab`` and ``vectors_norm`` raises an
AttributeError saying what replaced them; ``similarity_unseen_docs``, a Doc2Vec method,
raises NotImplementedError.

Examples
--------
>>> import numpy as np
>>> from fastw2v import KeyedVectors
>>> kv = KeyedVectors(2)
>>> kv.add_vectors(["a"], np.ones((1, 2), dtype=np.float32))
>>> try:
...     kv.index2word
... except AttributeError as error:
...     print("index_to_key" in str(error))
True
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

__all__ = ["Gensim3Names"]

logger = logging.getLogger(__name__)

_RENAMED = (
    "The {old} attribute was replaced by {new} in gensim 4.0.0; fastw2v has only {new}"
)
_VOCAB_REMOVED = (
    "The vocab attribute was removed from KeyedVectors in gensim 4.0.0: use .key_to_index, "
    ".index_to_key, .get_vecattr(key, attr) and .set_vecattr(key, attr, value) instead"
)


def _deprecated(name: str, replacement: str) -> None:
    warnings.warn(
        f"{name}() is deprecated, as in gensim 4: use {replacement} instead",
        DeprecationWarning,
        stacklevel=3,
    )


class Gensim3Names:
    """Deprecated and removed gensim names; KeyedVectors provides what they call."""

    if TYPE_CHECKING:
        # What the aliases call, defined by KeyedVectors (its own signatures prevail).
        def get_vector(self, *args: Any, **kwargs: Any) -> Any: ...
        def fill_norms(self, *args: Any, **kwargs: Any) -> Any: ...
        def unit_normalize_all(self, *args: Any, **kwargs: Any) -> Any: ...
        def closer_than(self, *args: Any, **kwargs: Any) -> Any: ...

    def word_vec(self, *args: Any, **kwargs: Any) -> np.ndarray:
        """Deprecated alias of :meth:`get_vector`, as in gensim 4."""
        _deprecated("word_vec", "get_vector")
        return self.get_vector(*args, **kwargs)

    def init_sims(self, replace: bool = False) -> None:
        """Compute the norms; deprecated, as in gensim 4, since they are computed on demand.

        Parameters
        ----------
        replace : bool
            Also scale every vector to unit length in place (see :meth:`unit_normalize_all`);
            the original lengths are lost, so training should not continue afterwards.

        Warns
        -----
        DeprecationWarning
            Always: call :meth:`fill_norms` or :meth:`unit_normalize_all` instead.

        Examples
        --------
        >>> import warnings
        >>> import numpy as np
        >>> from fastw2v import KeyedVectors
        >>> kv = KeyedVectors(2)
        >>> kv.add_vectors(["a"], np.array([[3, 4]], dtype=np.float32))
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", DeprecationWarning)
        ...     kv.init_sims(replace=True)
        >>> kv["a"]
        array([0.6, 0.8], dtype=float32)
        """
        _deprecated("init_sims", "fill_norms (or unit_normalize_all to scale in place)")
        self.fill_norms()
        if replace:
            logger.warning(
                "init_sims(replace=True) scales the vectors in place for good; "
                "unit_normalize_all() does the same without the deprecation"
            )
            self.unit_normalize_all()

    # gensim 3 names that gensim 4 removed: reading them raises AttributeError, as there.

    @property
    def index2word(self) -> list[Any]:
        """Removed in gensim 4: use :attr:`index_to_key`."""
        raise AttributeError(_RENAMED.format(old="index2word", new="index_to_key"))

    @index2word.setter
    def index2word(self, keys: list[Any]) -> None:
        self._assign_index_to_key(keys)

    @property
    def index2entity(self) -> list[Any]:
        """Removed in gensim 4: use :attr:`index_to_key`."""
        raise AttributeError(_RENAMED.format(old="index2entity", new="index_to_key"))

    @index2entity.setter
    def index2entity(self, keys: list[Any]) -> None:
        self._assign_index_to_key(keys)

    def _assign_index_to_key(self, keys: list[Any]) -> None:
        # gensim 4 assigns index_to_key alone; keeping key_to_index in step avoids lookups
        # that disagree with the new order.
        self.index_to_key = list(keys)
        self.key_to_index = {key: index for index, key in enumerate(self.index_to_key)
                             if key is not None}

    @property
    def vocab(self) -> Any:
        """Removed in gensim 4: use :attr:`key_to_index`, :attr:`index_to_key` and
        :meth:`get_vecattr`/:meth:`set_vecattr`."""
        raise AttributeError(_VOCAB_REMOVED)

    @vocab.setter
    def vocab(self, value: Any) -> None:
        raise AttributeError(_VOCAB_REMOVED)

    @property
    def vectors_norm(self) -> np.ndarray:
        """Removed in gensim 4: use :meth:`get_normed_vectors`."""
        raise AttributeError(
            "The vectors_norm attribute is computed on demand since gensim 4.0.0: "
            "use .get_normed_vectors() instead"
        )

    @vectors_norm.setter
    def vectors_norm(self, value: Any) -> None:
        """Ignored, as in gensim 4 (old code sets it to None to free memory)."""

    def words_closer_than(self, word1: Any, word2: Any) -> list[Any]:
        """Deprecated alias of :meth:`closer_than`, as in gensim 4."""
        _deprecated("words_closer_than", "closer_than")
        return self.closer_than(word1, word2)

    def similarity_unseen_docs(self, *args: Any, **kwargs: Any) -> float:
        """Not for word vectors: gensim raises NotImplementedError here too (a Doc2Vec method).

        Raises
        ------
        NotImplementedError
            Always.
        """
        raise NotImplementedError(
            "similarity_unseen_docs compares documents: it needs a Doc2Vec model, which "
            "fastw2v does not have"
        )
