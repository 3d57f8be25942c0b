"""fastw2v's files: atomic writes, the word2vec formats and fastw2v's own archive format.

A private package: the rest of fastw2v imports these names from here, users go through
:class:`~fastw2v.KeyedVectors`, :class:`~fastw2v.Word2Vec` and the corpus readers.

- :mod:`fastw2v._io.files`: :func:`atomic_write`, and :func:`open_for_reading` of files that may
  be compressed (the extension decides);
- :mod:`fastw2v._io.word2vec_format`: the C tool's text and binary vectors files;
- :mod:`fastw2v._io.archive`: the model archive, a zip of ``metadata.json`` and ``.npy`` arrays;
- :mod:`fastw2v._io.projector`: the TensorFlow Embedding Projector's vectors and metadata TSV files.
"""

from fastw2v._io.archive import FORMAT_NAME, FORMAT_VERSION, load_archive, save_archive
from fastw2v._io.files import (
    atomic_write,
    atomic_write_compressed,
    check_writable,
    file_kind,
    is_compressed,
    named_decode_error,
    open_for_reading,
    output_target,
    require_regular_file,
)
from fastw2v._io.projector import projector_paths, write_projector
from fastw2v._io.word2vec_format import read_word2vec_format, write_word2vec_format

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "atomic_write",
    "atomic_write_compressed",
    "check_writable",
    "file_kind",
    "is_compressed",
    "load_archive",
    "named_decode_error",
    "open_for_reading",
    "output_target",
    "projector_paths",
    "require_regular_file",
    "read_word2vec_format",
    "save_archive",
    "write_projector",
    "write_word2vec_format",
]
