"""The TensorFlow Embedding Projector's files: vectors and their labels, as two TSV files.

The projector (projector.tensorflow.org, and TensorBoard's projector plugin) loads a *vectors*
file, one row of tab-separated numbers per point, and a *metadata* file, one row of labels per
point in the same order. A metadata file of a single column has no header row; one of several
columns (here the word and its count) starts with a row naming them.

Labels are one line each, so a key holding a tab, a newline or a carriage return is written with
the escapes ``\\t``, ``\\n`` and ``\\r`` (a backslash itself as ``\\\\``), and a key that is empty
or only whitespace, which the projector would skip as a blank line, as its Python ``repr``.

Examples
--------
>>> import os, tempfile
>>> import numpy as np
>>> prefix = os.path.join(tempfile.mkdtemp(), "")
>>> paths = write_projector(prefix, ["a", "b"], np.eye(2, dtype=np.float32))
>>> [os.path.basename(path) for path in paths]
['vectors.tsv', 'metadata.tsv']
>>> open(paths[0]).read()
'1\\t0\\n0\\t1\\n'
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from fastw2v._io.files import PathLike, atomic_write

__all__ = ["projector_label", "projector_paths", "write_projector"]

VECTORS_NAME = "vectors.tsv"
METADATA_NAME = "metadata.tsv"

# Escapes in this order: the backslash first, so that the ones added after it stay readable.
_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))


def projector_paths(prefix: PathLike) -> tuple[str, str]:
    """The vectors and metadata files that `prefix` names.

    A `prefix` that ends with a path separator, or is an existing directory, gets
    ``vectors.tsv`` and ``metadata.tsv`` inside it; any other prefix gets ``_vectors.tsv`` and
    ``_metadata.tsv`` appended.

    Examples
    --------
    >>> projector_paths("runs/text8")
    ('runs/text8_vectors.tsv', 'runs/text8_metadata.tsv')
    >>> projector_paths("out/")
    ('out/vectors.tsv', 'out/metadata.tsv')
    """
    prefix = os.fspath(prefix)
    separators = tuple(sep for sep in (os.sep, os.altsep) if sep)
    if prefix.endswith(separators) or os.path.isdir(prefix):
        return os.path.join(prefix, VECTORS_NAME), os.path.join(prefix, METADATA_NAME)
    return f"{prefix}_{VECTORS_NAME}", f"{prefix}_{METADATA_NAME}"


def projector_label(key: Any) -> str:
    """A key as one metadata cell: never empty, without tabs or line breaks.

    Examples
    --------
    >>> print(projector_label("new\\tyork"), projector_label(" "), projector_label(7))
    new\\tyork ' ' 7
    """
    text = key if isinstance(key, str) else str(key)
    if not text.strip():
        return repr(text)
    for character, escape in _ESCAPES:
        text = text.replace(character, escape)
    return text


def write_projector(
    prefix: PathLike,
    keys: Sequence[Any],
    vectors: np.ndarray,
    counts: np.ndarray | None = None,
    limit: int | None = None,
) -> tuple[str, str]:
    """Write `vectors` and the labels `keys` for the Embedding Projector.

    Parameters
    ----------
    prefix : str or os.PathLike
        Where the two files go (see :func:`projector_paths`).
    keys : sequence
        One label per row of `vectors`.
    vectors : numpy.ndarray
        2-D array of the vectors.
    counts : numpy.ndarray, optional
        One count per key: rows are then written most frequent first and the metadata gets a
        ``count`` column (and so a ``word``/``count`` header row).
    limit : int, optional
        Write only the first `limit` rows (the most frequent, with `counts`): the projector runs
        in a browser and slows down past some tens of thousands of points.

    Returns
    -------
    tuple of str
        The vectors file and the metadata file, as written.

    Raises
    ------
    ValueError
        When `keys`, `vectors` and `counts` do not have one entry per row, or `limit` is not a
        positive integer.
    """
    vectors = np.asarray(vectors)
    if vectors.ndim != 2:
        raise ValueError(f"vectors must be a 2-D array, got shape {vectors.shape}")
    if len(keys) != len(vectors):
        raise ValueError(f"{len(keys)} keys for {len(vectors)} vectors: give one key per vector")
    order = np.arange(len(keys))
    if counts is not None:
        counts = np.asarray(counts)
        if counts.shape != (len(keys),):
            raise ValueError(f"counts has shape {counts.shape}; expected ({len(keys)},)")
        order = np.argsort(-counts, kind="stable")
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        order = order[:limit]

    vectors_path, metadata_path = projector_paths(prefix)
    # float32 needs 9 significant digits to read back exactly; float64, 17.
    digits = 9 if vectors.dtype.itemsize <= 4 else 17
    # Nested, so that a failure while writing either file leaves both old files in place.
    with atomic_write(vectors_path, "w") as vectors_out, \
            atomic_write(metadata_path, "w") as metadata_out:
        np.savetxt(vectors_out, vectors[order], fmt=f"%.{digits}g", delimiter="\t")
        labels = [projector_label(keys[index]) for index in order.tolist()]
        if counts is None:
            metadata_out.write("".join(f"{label}\n" for label in labels))
        else:
            metadata_out.write("word\tcount\n")
            metadata_out.write("".join(f"{label}\t{int(count)}\n"
                                       for label, count in zip(labels, counts[order])))
    return vectors_path, metadata_path
