"""Exceptions that are both gensim's type and fastw2v's ValueError.

Code written for gensim catches gensim's exception types (a ``RuntimeError`` for an empty
vocabulary, an ``EOFError`` for a truncated vectors file, ...); code written for fastw2v catches
``ValueError`` for any bad input. Each class here inherits from both, so either handler works.
An undecodable file raises the built-in ``UnicodeDecodeError``, which already is a ValueError.

>>> from fastw2v.errors import EmptyVocabularyError
>>> isinstance(EmptyVocabularyError("no words"), (RuntimeError, ValueError))
True
"""

__all__ = [
    "CompressedCorpusFileError",
    "EmptyVocabularyError",
    "NotAModelError",
    "TruncatedFileError",
]


class EmptyVocabularyError(RuntimeError, ValueError):
    """The corpus gives no word to learn: it is empty, or every word was pruned."""


class TruncatedFileError(EOFError, ValueError):
    """A vectors file ends before the rows its header announces."""


class NotAModelError(AttributeError, ValueError):
    """The file holds something other than what was asked for (vectors, not a model)."""


class CompressedCorpusFileError(TypeError, ValueError):
    """``corpus_file`` is compressed; the parallel reader needs a plain text file."""
