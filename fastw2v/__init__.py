"""fastw2v: fast word2vec training with gensim's API.

>>> from fastw2v import Word2Vec
>>> model = Word2Vec([["hello", "world"]] * 50, vector_size=8, min_count=1, epochs=1, workers=1)
>>> model.wv["hello"].shape
(8,)
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name -> module that defines it. Loaded on first use (PEP 562) so that `import fastw2v`
# stays cheap and the pure-Python modules import without the compiled ones.
_PUBLIC = {
    "Word2Vec": "fastw2v.word2vec",
    "Averaging": "fastw2v._distributed",
    "KeyedVectors": "fastw2v.keyedvectors",
    "CallbackAny2Vec": "fastw2v.callbacks",
    "LineSentence": "fastw2v.corpora",
    "PathLineSentences": "fastw2v.corpora",
    "Text8Corpus": "fastw2v.corpora",
    "Phrases": "fastw2v.phrases",
    "FrozenPhrases": "fastw2v.phrases",
}

__all__ = ["__version__", *_PUBLIC]

if TYPE_CHECKING:
    # Type checkers do not run __getattr__: they read the public names here, one import per
    # entry of _PUBLIC, each `as` itself to mark it re-exported (tests/test_typing.py checks
    # that the two agree).
    from fastw2v._distributed import Averaging as Averaging
    from fastw2v.callbacks import CallbackAny2Vec as CallbackAny2Vec
    from fastw2v.corpora import LineSentence as LineSentence
    from fastw2v.corpora import PathLineSentences as PathLineSentences
    from fastw2v.corpora import Text8Corpus as Text8Corpus
    from fastw2v.keyedvectors import KeyedVectors as KeyedVectors
    from fastw2v.phrases import FrozenPhrases as FrozenPhrases
    from fastw2v.phrases import Phrases as Phrases
    from fastw2v.word2vec import Word2Vec as Word2Vec


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'fastw2v' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
