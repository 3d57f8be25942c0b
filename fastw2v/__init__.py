"""fastw2v: fast word2vec training with gensim's API.

>>> from fastw2v import Word2Vec
>>> model = Word2Vec([["hello", "world"]] * 50, vector_size=8, min_count=1, epochs=1, workers=1)
>>> model.wv["hello"].shape
(8,)
"""

from importlib import import_module

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


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'fastw2v' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
