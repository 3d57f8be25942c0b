"""scikit-learn pipelines: :class:`Word2VecTransformer` turns tokenised documents into vectors.

It learns word vectors on the documents it is fitted on and represents each document by the
mean of its words' vectors, so that a classifier, a clustering or a search index can follow it
in a :class:`sklearn.pipeline.Pipeline`, and grid searches can tune the word2vec parameters.

Install the extra with ``pip install "fastw2v[sklearn]"``.

Examples
--------
>>> from sklearn.linear_model import LogisticRegression
>>> from sklearn.pipeline import make_pipeline
>>> documents = [["good", "great", "fine"], ["bad", "awful", "poor"]] * 50
>>> labels = [1, 0] * 50
>>> pipeline = make_pipeline(
...     Word2VecTransformer(vector_size=16, min_count=1, workers=1, epochs=20),
...     LogisticRegression())
>>> pipeline.fit(documents, labels).predict([["great", "good"], ["poor"]]).shape
(2,)
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any, Optional

import numpy as np

from fastw2v._config import PARAMETERS, parameters_doc

try:
    from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
    from sklearn.utils.validation import check_is_fitted
except ImportError as error:
    raise ImportError(
        'fastw2v.sklearn needs scikit-learn: pip install "fastw2v[sklearn]" (or pip install '
        "scikit-learn)"
    ) from error

__all__ = ["Word2VecTransformer"]


class Word2VecTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Learn word vectors on tokenised documents; transform each document to its mean vector.

    The parameters are those of :class:`fastw2v.Word2Vec`, with the same names and defaults
    (listed below). They are only stored by the constructor and checked by :meth:`fit`, as
    scikit-learn expects, so that ``clone``, ``get_params``, ``set_params`` and grid searches
    work on every one of them.

    A document is a list of tokens (``text.split()``, or any tokenizer's output); ``X`` is a
    sequence of documents. :meth:`transform` averages the vectors of a document's tokens that
    are in the vocabulary, and gives a row of zeros for a document that has none.

    Attributes
    ----------
    wv_ : KeyedVectors
        The word vectors learned by :meth:`fit`.

    Examples
    --------
    >>> transformer = Word2VecTransformer(vector_size=4, min_count=1, workers=1)
    >>> features = transformer.fit_transform([["a", "b"], ["b", "c"], ["c", "unknown"]])
    >>> features.shape, features.dtype
    ((3, 4), dtype('float32'))
    >>> transformer.get_feature_names_out()[:2].tolist()
    ['word2vectransformer0', 'word2vectransformer1']
    """

    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - set(PARAMETERS))
        if unknown:
            raise TypeError(f"Word2VecTransformer got unexpected parameters: {', '.join(unknown)}")
        for name, parameter in PARAMETERS.items():
            setattr(self, name, params.get(name, parameter.default))

    def fit(self, X: Iterable[Iterable[str]], y: Any = None) -> Word2VecTransformer:
        """Learn the word vectors of the documents `X` (`y` is ignored).

        Raises
        ------
        TypeError, ValueError
            For a parameter out of its bounds (named as in Word2Vec), for documents that are
            strings instead of lists of tokens, or when no word reaches ``min_count``.
        """
        from fastw2v import Word2Vec

        documents = _documents(X, "fit")
        model = Word2Vec(documents, **self.get_params())
        self.wv_ = model.wv
        self._n_features_out = model.vector_size
        return self

    def transform(self, X: Iterable[Iterable[str]]) -> np.ndarray:
        """The mean word vector of each document of `X`, as a ``(len(X), vector_size)`` float32
        array."""
        check_is_fitted(self, "wv_")
        documents = _documents(X, "transform")
        rows = np.zeros((len(documents), self.wv_.vector_size), dtype=np.float32)
        lookup = self.wv_.key_to_index
        for row, document in enumerate(documents):
            known = [lookup[token] for token in document if token in lookup]
            if known:
                rows[row] = self.wv_.vectors[known].mean(axis=0)
        return rows

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # Lists of tokens, not a numeric matrix: scikit-learn's generic checks, which fit on
        # random numbers, do not apply (tests/test_sklearn.py says which run, and why).
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []
        return tags


def _documents(X: Any, action: str) -> list[list[str]]:
    """`X` as a list of token lists, or a TypeError saying what is wrong with it."""
    if isinstance(X, (str, bytes)):
        raise TypeError(f"{action}() takes a sequence of documents, each a list of tokens, not "
                        "a single string")
    try:
        documents = list(X)
    except TypeError:
        raise TypeError(f"{action}() takes a sequence of documents, each a list of tokens; got "
                        f"{type(X).__name__}") from None
    checked = []
    for number, document in enumerate(documents):
        if isinstance(document, (str, bytes)):
            raise TypeError(f"document {number} is a string: give each document as a list of "
                            "tokens (for instance text.split())")
        try:
            tokens = list(document)
        except TypeError:
            raise TypeError(f"document {number} is a {type(document).__name__}, not a list of "
                            "tokens") from None
        bad: Optional[Any] = next((t for t in tokens if not isinstance(t, str)), None)
        if bad is not None:
            raise TypeError(f"document {number} holds the {type(bad).__name__} {bad!r}: tokens "
                            "must be strings")
        checked.append(tokens)
    if not checked:
        raise ValueError(f"{action}() got no documents")
    return checked


# The constructor's signature lists every Word2Vec parameter, as scikit-learn's get_params
# reads it; each is declared once, in fastw2v._config.
Word2VecTransformer.__init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    + [inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default)
       for p in PARAMETERS.values()])
if Word2VecTransformer.__doc__:
    Word2VecTransformer.__doc__ = Word2VecTransformer.__doc__.replace(
        "    Attributes\n", "    Parameters\n    ----------\n"
        + "".join(f"    {line}\n" for line in parameters_doc().splitlines())
        + "\n    Attributes\n", 1)
