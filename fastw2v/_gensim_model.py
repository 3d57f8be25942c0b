"""Read Word2Vec and KeyedVectors models saved by gensim, without running code from the file.

gensim's ``save()`` writes a pickle, and an ordinary ``pickle.load`` of a file from someone else
runs whatever the file asks for. Here the pickle is read by an unpickler that knows a short list
of names (:data:`_ALLOWED`): the gensim classes a Word2Vec or KeyedVectors model is made of, and
the few numpy and standard-library constructors such a file needs. Each maps to a stand-in that
only collects data; no gensim or numpy code runs on the file's behalf, and any other name is
refused with a :class:`GensimModelError` naming it. Before that, one pass over the pickle's
opcodes refuses those that reach outside the file and memo numbers that would make the
unpickler allocate far more memory than the file could fill. Arrays gensim stored next to the
model file (``model.wv.vectors.npy`` and the like) are read with
``numpy.load(..., allow_pickle=False)``, only for the names the pickle lists as stored apart,
and only from the model's own folder.

The result is a :class:`GensimModelData` of plain Python and numpy values, which
:func:`keyed_vectors_from` turns into a :class:`fastw2v.KeyedVectors`.
"""

from __future__ import annotations

import bz2
import gzip
import math
import os
import pickle
import pickletools
import re
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Literal, Optional, Union, cast

import numpy as np

if TYPE_CHECKING:
    from fastw2v.keyedvectors import KeyedVectors

__all__ = [
    "GensimModelData",
    "GensimModelError",
    "is_gensim_pickle",
    "keyed_vectors_from",
    "read_gensim_model",
]

_GZIP_MAGIC = b"\x1f\x8b"
_BZIP2_MAGIC = b"BZh"
_PROTOCOLS = range(2, 6)
_MMAP_MODES = (None, "r", "r+", "c")
_MmapMode = Literal["r", "r+", "c"]
_KEY_TYPES = {str, int, type(None)}
# Separately stored arrays fastw2v uses; the others gensim may store apart (norms, cum_table,
# ...) are recomputed, so their files are never opened.
_WANTED_ARRAYS = frozenset(
    {"vectors", "syn0", "syn1neg", "syn1", "vectors_lockf", "syn0_lockf"}
)
# How deep gensim nests objects that store their own arrays (model -> wv); a file asking for
# more is not a model.
_MAX_NESTING = 4


class GensimModelError(ValueError):
    """A gensim model file fastw2v refuses or cannot read; the message names the file."""


class _Malformed(ValueError):
    """Raised by the stand-ins; :func:`read_gensim_model` adds the file's name."""


# ------------------------------------------------------------------------------------------
# Stand-ins handed to the unpickler. None of them runs code chosen by the file: each checks its
# arguments and builds plain values. Every one defines __setstate__, so a BUILD opcode aimed at
# a stand-in (or at the class itself) can never set attributes on it.


class _GensimObject:
    """An instance of an allowed gensim class: its pickled ``__dict__``, nothing else."""

    __slots__ = ("state",)
    state: dict[str, Any]
    gensim_name = ""

    def __new__(cls, *args: Any, **kwargs: Any) -> _GensimObject:
        instance = object.__new__(cls)
        instance.state = {}
        return instance

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        # gensim objects pickle their __dict__; with __slots__ Python sends (dict, slots).
        parts = state if isinstance(state, tuple) and len(state) == 2 else (state,)
        for part in parts:
            if part is None:
                continue
            if not isinstance(part, dict):
                raise _Malformed(
                    f"the state of {self.gensim_name} is a {type(part).__name__}, not a dict"
                )
            self.state.update(part)


def _gensim_class(qualified_name: str) -> type:
    return type(
        qualified_name.rsplit(".", 1)[1],
        (_GensimObject,),
        {"__slots__": (), "gensim_name": qualified_name},
    )


class _Global:
    """A global the file refers to as a value (``hashfxn=hash``), never as something to call."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"

    def __setstate__(self, state: Any) -> None:
        raise _Malformed(f"the file tries to set the state of {self.name}")


class _Factory:
    """An allowed constructor: calls fastw2v's own builder, never the original."""

    __slots__ = ("name", "build")

    def __init__(self, name: str, build: Callable[..., Any]) -> None:
        self.name = name
        self.build = build

    def __call__(self, *args: Any) -> Any:
        try:
            return self.build(*args)
        except TypeError as exc:
            raise _Malformed(f"bad arguments for {self.name}: {exc}") from None

    def __setstate__(self, state: Any) -> None:
        raise _Malformed(f"the file tries to set the state of {self.name}")


class _Opaque:
    """Random number generator state: fastw2v draws its own, so it is read and dropped."""

    __slots__ = ()

    def __setstate__(self, state: Any) -> None:
        pass


class _DType:
    """``numpy.dtype(name, align, copy)`` followed by its pickled state, for plain dtypes."""

    __slots__ = ("dtype",)
    # The codes numpy pickles for bool, integer, float, complex, object and fixed-width text
    # dtypes (words that were numpy strings, np.str_, are pickled as U scalars).
    _NAME = re.compile(r"b1|[iu][1248]|f(?:2|4|8|16)|c(?:8|16|32)|O[48]?|[US][1-9][0-9]{0,5}")

    def __init__(self, name: Any, align: Any = False, copy: Any = True) -> None:
        if not isinstance(name, str) or not self._NAME.fullmatch(name):
            raise _Malformed(f"unsupported array dtype {name!r}")
        self.dtype = np.dtype(name)

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) < 5:
            raise _Malformed("malformed dtype state")
        byteorder, subarray, names, fields = state[1:5]
        if subarray is not None or names is not None or fields is not None:
            raise _Malformed("structured array dtypes are not part of a word2vec model")
        if byteorder in ("<", ">"):
            self.dtype = self.dtype.newbyteorder(byteorder)
        elif byteorder not in ("|", "="):
            raise _Malformed(f"unknown dtype byte order {byteorder!r}")


class _Array:
    """An ndarray rebuilt from pickled bytes by fastw2v, never by ``ndarray.__setstate__``."""

    __slots__ = ("array",)

    def __init__(self, array: Optional[np.ndarray] = None) -> None:
        self.array = array

    def __setstate__(self, state: Any) -> None:
        if self.array is not None:
            raise _Malformed("an array is given its data twice")
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise _Malformed("malformed array state")
        if len(state) == 5:
            if state[0] != 1:
                raise _Malformed(f"unknown array state version {state[0]!r}")
            state = state[1:]
        shape, dtype, fortran, data = state
        shape = _shape(shape)
        dtype = _dtype(dtype)
        count = math.prod(shape)
        if dtype.kind == "O":
            # Per-key object attributes (gensim's hierarchical softmax codes) hold small arrays,
            # already rebuilt by the stand-ins; nothing in them is executable.
            if not isinstance(data, list) or len(data) != count:
                raise _Malformed("an object array does not hold one value per element")
            flat = np.empty(count, dtype=object)
            for position, value in enumerate(data):
                flat[position] = _plain(value)
        else:
            flat = np.frombuffer(_raw_bytes(data, count * dtype.itemsize), dtype=dtype).copy()
        self.array = flat.reshape(shape, order="F" if fortran else "C")


def _shape(shape: Any) -> tuple[int, ...]:
    if not isinstance(shape, tuple) or not all(
        type(side) is int and side >= 0 for side in shape
    ):
        raise _Malformed(f"malformed array shape {shape!r}")
    return shape


def _dtype(dtype: Any) -> np.dtype:
    if not isinstance(dtype, _DType):
        raise _Malformed("an array's dtype is not a numpy dtype")
    return dtype.dtype


def _raw_bytes(data: Any, size: int) -> bytes:
    if isinstance(data, str):
        # Python 2 wrote array data as str; gensim reads it back as latin-1, byte for byte.
        data = data.encode("latin-1")
    if not isinstance(data, (bytes, bytearray)):
        raise _Malformed(f"array data is a {type(data).__name__}, not bytes")
    if len(data) != size:
        raise _Malformed(f"array data has {len(data)} bytes, its shape and dtype need {size}")
    return bytes(data) if isinstance(data, bytearray) else data


def _reconstruct(subtype: Any, shape: Any, typecode: Any) -> _Array:
    # numpy pickles an array as _reconstruct(ndarray, (0,), b"b") and then its state.
    if not (isinstance(subtype, _Global) and subtype.name in _ARRAY_TYPES):
        raise _Malformed(f"numpy _reconstruct of {subtype!r}, not of an ndarray")
    return _Array()


def _frombuffer(data: Any, dtype: Any, shape: Any, order: Any) -> _Array:
    # Protocol 5 pickles a contiguous array as _frombuffer(buffer, dtype, shape, order).
    dtype, shape = _dtype(dtype), _shape(shape)
    if dtype.kind == "O" or order not in ("C", "F"):
        raise _Malformed("malformed protocol 5 array")
    flat = np.frombuffer(_raw_bytes(data, math.prod(shape) * dtype.itemsize), dtype=dtype)
    return _Array(flat.copy().reshape(shape, order=order))


def _scalar(dtype: Any, data: Any) -> Any:
    # A numpy scalar (np.float32 alpha, np.int64 count) becomes the equal Python number.
    dtype = _dtype(dtype)
    if dtype.kind == "O":
        return data
    return np.frombuffer(_raw_bytes(data, dtype.itemsize), dtype=dtype)[0].item()


def _encode(text: Any, encoding: Any) -> bytes:
    # Protocol 2 pickles bytes as _codecs.encode(text, "latin1").
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _Malformed("_codecs.encode is allowed only to turn latin-1 text into bytes")
    return text.encode("latin-1")


def _empty_bytes() -> bytes:
    return b""


def _defaultdict(default_factory: Any = None) -> dict:
    # Only the data matters (raw word counts); SETITEMS fills the returned dict.
    return {}


def _ordered_dict(items: Any = ()) -> dict:
    if not isinstance(items, (list, tuple)) or not all(
        isinstance(item, (list, tuple)) and len(item) == 2 for item in items
    ):
        raise _Malformed("malformed OrderedDict items")
    return dict(items)


def _set(items: Any = ()) -> set:
    if not isinstance(items, (list, tuple)):
        raise _Malformed("malformed set items")
    return set(items)


def _frozenset(items: Any = ()) -> frozenset:
    return frozenset(_set(items))


def _opaque(*args: Any, **kwargs: Any) -> _Opaque:
    return _Opaque()


_WORD2VEC_CLASSES = ("gensim.models.word2vec.Word2Vec",)
_KEYED_VECTORS_CLASSES = (
    "gensim.models.keyedvectors.KeyedVectors",
    "gensim.models.keyedvectors.Word2VecKeyedVectors",
    "gensim.models.keyedvectors.EuclideanKeyedVectors",
)
_VOCAB_CLASSES = (
    "gensim.models.keyedvectors.Vocab",
    "gensim.models.keyedvectors.CompatVocab",
    "gensim.models.word2vec.Vocab",
)
_ARRAY_TYPES = (
    "numpy.ndarray",
    "numpy.memmap",
    "numpy.core.memmap.memmap",
    "numpy._core.memmap.memmap",
)


def _allow_list() -> dict[tuple[str, str], Any]:
    allowed: dict[str, Any] = {}
    # The model classes: gensim 4 Word2Vec/KeyedVectors; gensim 3 Word2VecKeyedVectors and the
    # Word2VecVocab/Word2VecTrainables holders of its training state; gensim 2-3.2 wrote
    # KeyedVectors as EuclideanKeyedVectors. Stand-ins collect their __dict__.
    for name in (
        *_WORD2VEC_CLASSES,
        *_KEYED_VECTORS_CLASSES,
        "gensim.models.word2vec.Word2VecVocab",
        "gensim.models.word2vec.Word2VecTrainables",
        # gensim < 4 stored each word's count and row in a Vocab object (keyedvectors since
        # 1.0, word2vec before); gensim 4 renamed the class CompatVocab.
        *_VOCAB_CLASSES,
    ):
        allowed[name] = _gensim_class(name)
    # Referred to, never called: Word2Vec.load is gensim.utils.call_on_class_only on the
    # instance, hashfxn is builtins.hash, raw_vocab is defaultdict(int), and numpy names the
    # array class it reconstructs.
    for name in (
        "gensim.utils.call_on_class_only",
        "builtins.hash",
        "builtins.int",
        *_ARRAY_TYPES,
    ):
        allowed[name] = _Global(name)
    factories: dict[str, Callable[..., Any]] = {}
    # Arrays pickled inline: numpy 1 paths (numpy.core) and numpy 2 paths (numpy._core);
    # _frombuffer is what protocol 5 uses for contiguous arrays.
    for core in ("numpy.core", "numpy._core"):
        factories[f"{core}.multiarray._reconstruct"] = _reconstruct
        factories[f"{core}.multiarray.scalar"] = _scalar
        factories[f"{core}.numeric._frombuffer"] = _frombuffer
    factories.update({
        # An array's dtype, limited to bool/int/float/complex/object.
        "numpy.dtype": _DType,
        # Protocol 2 writes bytes as _codecs.encode(text, "latin1"), and b"" as bytes().
        "_codecs.encode": _encode,
        "builtins.bytes": _empty_bytes,
        # raw_vocab is a defaultdict; OrderedDict and sets (lifecycle events' ``ignore``) may
        # appear; all become plain dict/set/frozenset.
        "collections.defaultdict": _defaultdict,
        "collections.OrderedDict": _ordered_dict,
        "builtins.set": _set,
        "builtins.frozenset": _frozenset,
    })
    # Word2Vec.random, a numpy RandomState (or Generator after a reload), for every numpy that
    # gensim 2-4 ran on.
    for name in (
        "numpy.random.__RandomState_ctor",
        "numpy.random._pickle.__randomstate_ctor",
        "numpy.random._pickle.__generator_ctor",
        "numpy.random._pickle.__bit_generator_ctor",
        "numpy.random._mt19937.MT19937",
        "numpy.random._pcg64.PCG64",
        "numpy.random.bit_generator.__pyx_unpickle_SeedSequence",
        "numpy.random.bit_generator.SeedSequence",
    ):
        factories[name] = _opaque
    for name, build in factories.items():
        allowed[name] = _Factory(name, build)
    table = {}
    for name, value in allowed.items():
        module, _, attribute = name.rpartition(".")
        table[(module, attribute)] = value
        if module == "builtins":
            # Protocol 2 pickles (Python 2's, and Python 3's written for it) name the builtins
            # module __builtin__ ...
            table[("__builtin__", attribute)] = value
    # ... and int, Python 2's long (the factory of raw_vocab's defaultdict).
    table[("__builtin__", "long")] = allowed["builtins.int"]
    return table


_ALLOWED = _allow_list()


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, stream: BinaryIO, source: str) -> None:
        # latin-1, as gensim reads: Python 2 array data arrives as str, byte for byte.
        super().__init__(stream, encoding="latin1")
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        # Exact names only: the default find_class would also follow dotted names through
        # attributes (gensim.utils + os.system).
        allowed = _ALLOWED.get((module, name))
        if allowed is None:
            hint = (
                "; fastw2v reads gensim Word2Vec and KeyedVectors models only"
                if module.startswith("gensim.") else ""
            )
            raise GensimModelError(
                f"{self.source}: refusing to load {module}.{name}: a gensim Word2Vec or "
                f"KeyedVectors model has no such object, and fastw2v never runs code from a "
                f"model file{hint}"
            )
        return allowed


def _plain(value: Any) -> Any:
    """The numpy array behind an array stand-in; any other value as is."""
    if isinstance(value, _Array):
        if value.array is None:
            raise _Malformed("an array has no data")
        return value.array
    return value


# ------------------------------------------------------------------------------------------
# The result


@dataclass
class GensimModelData:
    """What a gensim Word2Vec or KeyedVectors file holds, as plain data.

    Attributes
    ----------
    kind : {"Word2Vec", "KeyedVectors"}
        What the file saved.
    gensim_class : str
        The class gensim pickled, e.g. ``"gensim.models.word2vec.Word2Vec"``.
    vector_size : int
        Dimensionality of the vectors.
    index_to_key : list
        Keys in row order (str, int, or None for a slot gensim allocated but never filled).
    key_to_index : dict
        Row of each key.
    vectors : numpy.ndarray
        ``(len(index_to_key), vector_size)`` floating point array; a read-only or copy-on-write
        memory map when it was stored separately and read with `mmap`.
    counts : numpy.ndarray or None
        Each key's corpus count (int64), None when the file has none.
    expandos : dict of str to numpy.ndarray
        Every per-key attribute gensim stored (``count``, ``sample_int``, ``code``, ``point``
        ...), one entry per row; gensim 3's per-word Vocab objects converted to this layout.
    vectors_lockf : numpy.ndarray or None
        Per-row lock factors (one value for all rows, or one per row).
    syn1neg, syn1 : numpy.ndarray or None
        Output weights of negative sampling and of hierarchical softmax.
    gensim_version : str or None
        The gensim version that saved the file, when it says (gensim 4 does).

    The remaining attributes are Word2Vec's training parameters and state, with gensim's
    names; None for a KeyedVectors file or when the file does not store them. gensim versions
    older than 4 kept some of them in ``vocabulary``/``trainables`` (and called `epochs`
    ``iter``); they are gathered here. Where gensim itself assumes a default for a parameter
    older versions did not store (``ns_exponent=0.75``, ``shrink_windows=True``), so does this.
    """

    kind: str
    gensim_class: str
    vector_size: int
    index_to_key: list = field(repr=False)
    key_to_index: dict = field(repr=False)
    vectors: np.ndarray = field(repr=False)
    counts: Optional[np.ndarray] = field(default=None, repr=False)
    expandos: dict = field(default_factory=dict, repr=False)
    vectors_lockf: Optional[np.ndarray] = field(default=None, repr=False)
    syn1neg: Optional[np.ndarray] = field(default=None, repr=False)
    syn1: Optional[np.ndarray] = field(default=None, repr=False)
    gensim_version: Optional[str] = None
    sg: Optional[int] = None
    hs: Optional[int] = None
    negative: Optional[int] = None
    ns_exponent: Optional[float] = None
    cbow_mean: Optional[int] = None
    window: Optional[int] = None
    shrink_windows: Optional[bool] = None
    sample: Optional[float] = None
    min_count: Optional[int] = None
    effective_min_count: Optional[int] = None
    max_vocab_size: Optional[int] = None
    max_final_vocab: Optional[int] = None
    sorted_vocab: Optional[int] = None
    null_word: Optional[int] = None
    alpha: Optional[float] = None
    min_alpha: Optional[float] = None
    min_alpha_yet_reached: Optional[float] = None
    epochs: Optional[int] = None
    seed: Optional[int] = None
    layer1_size: Optional[int] = None
    batch_words: Optional[int] = None
    workers: Optional[int] = None
    compute_loss: Optional[bool] = None
    running_training_loss: Optional[float] = None
    corpus_count: Optional[int] = None
    corpus_total_words: Optional[int] = None
    train_count: Optional[int] = None
    total_train_time: Optional[float] = None
    comment: Optional[str] = None


# Word2Vec parameters: (name, type, where older gensim versions kept it, default when absent).
_INT, _FLOAT, _BOOL, _STR = "int", "float", "bool", "str"
_PARAMETERS = (
    ("sg", _INT, (), None),
    ("hs", _INT, (), None),
    ("negative", _INT, (), None),
    ("ns_exponent", _FLOAT, ("vocabulary",), 0.75),
    ("cbow_mean", _INT, (), None),
    ("window", _INT, (), None),
    ("shrink_windows", _BOOL, (), True),
    ("sample", _FLOAT, ("vocabulary",), None),
    ("min_count", _INT, ("vocabulary",), None),
    ("effective_min_count", _INT, ("vocabulary",), None),
    ("max_vocab_size", _INT, ("vocabulary",), None),
    ("max_final_vocab", _INT, ("vocabulary",), None),
    ("sorted_vocab", _INT, ("vocabulary",), None),
    ("null_word", _INT, ("vocabulary",), None),
    ("alpha", _FLOAT, (), None),
    ("min_alpha", _FLOAT, (), None),
    ("min_alpha_yet_reached", _FLOAT, (), None),
    ("seed", _INT, ("trainables",), None),
    ("layer1_size", _INT, ("trainables",), None),
    ("batch_words", _INT, (), None),
    ("workers", _INT, (), None),
    ("compute_loss", _BOOL, (), None),
    ("running_training_loss", _FLOAT, (), None),
    ("corpus_count", _INT, (), None),
    ("corpus_total_words", _INT, (), None),
    ("train_count", _INT, (), None),
    ("total_train_time", _FLOAT, (), None),
    ("comment", _STR, (), None),
)


# ------------------------------------------------------------------------------------------
# Public functions


def is_gensim_pickle(path: Union[str, os.PathLike]) -> bool:
    """Whether `path` starts like a file gensim's ``save()`` writes.

    That is a pickle header of protocol 2 to 5, possibly inside gzip or bzip2 compression
    (gensim compresses when the name ends in ``.gz`` or ``.bz2``). Only the first bytes are
    read; nothing is unpickled.

    Parameters
    ----------
    path : str or os.PathLike
        The file to sniff.

    Returns
    -------
    bool
        False as well when the file cannot be read.

    Examples
    --------
    >>> import os, pickle, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "data.pkl")
    >>> with open(path, "wb") as out:
    ...     pickle.dump([1, 2], out, protocol=4)
    >>> is_gensim_pickle(path)
    True
    """
    try:
        with _open_decompressed(os.fspath(path)) as stream:
            return _has_pickle_header(stream.read(2))
    except (OSError, EOFError, zlib.error):
        return False


def read_gensim_model(
    path: Union[str, os.PathLike], mmap: Optional[str] = None
) -> GensimModelData:
    """Read a Word2Vec or KeyedVectors model written by gensim's ``save()``, running no code.

    Reads gensim 1.x to 4.x files, compressed (``.gz``, ``.bz2``) or not, pickled with
    protocol 2 to 5, and the arrays gensim stored beside them (``<path>.wv.vectors.npy``,
    ``<path>.syn1neg.npy``, or ``.npz`` next to a compressed file).

    Parameters
    ----------
    path : str or os.PathLike
        The file gensim saved.
    mmap : {None, 'r', 'r+', 'c'}
        Memory-map the separately stored arrays with this mode instead of reading them (as
        gensim's ``load(mmap=...)``); arrays pickled inside the file are always read. A
        compressed model's arrays cannot be memory-mapped.

    Returns
    -------
    GensimModelData

    Raises
    ------
    GensimModelError
        A ValueError: the file asks for a Python object outside the short list a gensim
        Word2Vec or KeyedVectors model needs (the message names it), is damaged or is not
        such a model, or a separately stored array is missing, unsafe or inconsistent.
    OSError
        The file itself cannot be opened.

    Examples
    --------
    >>> from gensim.models import Word2Vec  # doctest: +SKIP
    >>> Word2Vec([["a", "b"]], vector_size=4, min_count=1).save("w2v.model")  # doctest: +SKIP
    >>> read_gensim_model("w2v.model").index_to_key  # doctest: +SKIP
    ['b', 'a']
    """
    source = os.fspath(path)
    if mmap not in _MMAP_MODES:
        raise ValueError(f"mmap must be one of {_MMAP_MODES}, not {mmap!r}")
    with _open_decompressed(source) as stream:  # an unreadable file raises its own OSError
        root = _guarded(source, _unpickle, stream, source)
    return _guarded(source, _model_of, root, source, cast(Optional[_MmapMode], mmap))


def keyed_vectors_from(data: GensimModelData) -> KeyedVectors:
    """A :class:`fastw2v.KeyedVectors` holding the vectors of `data`, counts as ``"count"``.

    The vectors are used as they are (a memory map stays one).

    Parameters
    ----------
    data : GensimModelData
        From :func:`read_gensim_model`.

    Returns
    -------
    fastw2v.KeyedVectors

    Examples
    --------
    >>> import numpy as np
    >>> data = GensimModelData("KeyedVectors", "gensim.models.keyedvectors.KeyedVectors", 2,
    ...                        ["a", "b"], {"a": 0, "b": 1}, np.eye(2, dtype=np.float32),
    ...                        counts=np.array([5, 3]))
    >>> kv = keyed_vectors_from(data)
    >>> kv["b"].tolist(), int(kv.get_vecattr("a", "count"))
    ([0.0, 1.0], 5)
    """
    from fastw2v.keyedvectors import KeyedVectors

    kv = KeyedVectors(data.vector_size, dtype=data.vectors.dtype)
    kv.index_to_key = list(data.index_to_key)
    kv.key_to_index = dict(data.key_to_index)
    kv.vectors = data.vectors
    kv.next_index = len(kv.index_to_key)
    kv.norms = None
    kv.expandos = {} if data.counts is None else {"count": data.counts}
    return kv


# ------------------------------------------------------------------------------------------
# Reading


def _guarded(source: str, step: Callable[..., Any], *args: Any) -> Any:
    """Run `step`, turning every failure into a GensimModelError naming `source`."""
    try:
        return step(*args)
    except GensimModelError:
        raise
    except _Malformed as exc:
        raise GensimModelError(f"{source}: {exc}") from None
    except Exception as exc:
        # Anything the unpickler trips over (truncated data, unknown opcodes, a length no
        # memory can hold, a damaged compressed stream) means a damaged or foreign file.
        raise GensimModelError(
            f"{source}: not a readable gensim model ({type(exc).__name__}: {exc})"
        ) from exc


def _model_of(root: Any, source: str, mmap: Optional[_MmapMode]) -> GensimModelData:
    if not isinstance(root, _GensimObject):
        raise _Malformed(
            f"it holds a {type(root).__name__}, not a gensim Word2Vec or KeyedVectors model"
        )
    _read_separate_arrays(root, source, mmap)
    return _model_data(root)


def _open_decompressed(source: str) -> BinaryIO:
    with open(source, "rb") as probe:
        magic = probe.read(3)
    # The decompressing files have a binary file's methods without declaring typing.BinaryIO.
    if magic.startswith(_GZIP_MAGIC):
        return cast(BinaryIO, gzip.open(source, "rb"))
    if magic.startswith(_BZIP2_MAGIC):
        return cast(BinaryIO, bz2.open(source, "rb"))
    return open(source, "rb")


def _has_pickle_header(start: bytes) -> bool:
    return len(start) == 2 and start[0] == pickle.PROTO[0] and start[1] in _PROTOCOLS


def _unpickle(stream: BinaryIO, source: str) -> Any:
    if not _has_pickle_header(stream.read(2)):
        raise _Malformed(
            "not a gensim model file: it does not start with a pickle of protocol 2 to 5"
        )
    stream.seek(0)
    _check_opcodes(stream)
    stream.seek(0)
    return _RestrictedUnpickler(stream, source).load()


# Opcodes no gensim model contains, and which reach beyond the file: persistent ids and
# extension codes name objects the reader would have to supply, out-of-band buffers come from
# outside the pickle, and INST/OBJ are protocol 0/1 ways of calling a class.
_REFUSED_OPCODES = frozenset(
    {"PERSID", "BINPERSID", "EXT1", "EXT2", "EXT4", "NEXT_BUFFER", "READONLY_BUFFER", "INST",
     "OBJ"}
)
_LINE, _TWO_LINES, _SHORT, _COUNTED, _MEMO, _STOPS, _REFUSED = -1, -2, -3, -4, -5, -6, -7
_MAX_LINE = 1 << 16
_SCAN_CHUNK = 1 << 20


def _opcode_tables() -> tuple[list, list]:
    """Per opcode byte: its argument's size or how to find it; the widths of counted ones."""
    sizes = [_REFUSED] * 256
    counted: list[Optional[tuple[int, bool]]] = [None] * 256
    widths = {
        pickletools.TAKEN_FROM_ARGUMENT1: (1, False),
        pickletools.TAKEN_FROM_ARGUMENT4: (4, True),
        pickletools.TAKEN_FROM_ARGUMENT4U: (4, False),
        pickletools.TAKEN_FROM_ARGUMENT8U: (8, False),
    }
    for op in pickletools.opcodes:
        code, arg = ord(op.code), op.arg
        if op.name in _REFUSED_OPCODES:
            continue
        if op.name in ("MEMOIZE", "BINPUT", "LONG_BINPUT"):
            sizes[code] = _MEMO
        elif op.name == "STOP":
            sizes[code] = _STOPS
        elif arg is None:
            sizes[code] = 0
        elif arg.n >= 0:
            sizes[code] = arg.n
        elif arg.n == pickletools.UP_TO_NEWLINE:
            sizes[code] = _TWO_LINES if op.name == "GLOBAL" else _LINE
        elif arg.n == pickletools.TAKEN_FROM_ARGUMENT1:
            sizes[code] = _SHORT
        else:
            sizes[code], counted[code] = _COUNTED, widths[arg.n]
    return sizes, counted


_OPCODE_SIZES, _OPCODE_COUNTED = _opcode_tables()
_MEMOIZE, _BINPUT, _PUT = pickle.MEMOIZE[0], pickle.BINPUT[0], pickle.PUT[0]
_OPCODE_NAMES = {ord(op.code): op.name for op in pickletools.opcodes}


def _check_opcodes(stream: BinaryIO) -> None:
    """Walk the pickle's opcodes once before it is loaded, building nothing.

    Refuses the opcodes above, and memo slots beyond those the file has filled so far: the
    unpickler sizes its memo by the largest slot number, so one crafted number would make it
    allocate and clear gigabytes. Everything else is left to the unpickler.
    """
    sizes, counted = _OPCODE_SIZES, _OPCODE_COUNTED
    buffer, pos, offset, puts = b"", 0, 0, 0
    while True:
        if len(buffer) - pos < 16:  # the longest fixed argument or count is 8 bytes
            if pos > len(buffer):  # a long string or bytes: skip it without reading it in
                stream.seek(pos - len(buffer), os.SEEK_CUR)
                buffer, offset, pos = b"", offset + pos, 0
            buffer = buffer[pos:] + stream.read(_SCAN_CHUNK)
            offset, pos = offset + pos, 0
            if not buffer:
                raise _Malformed("the pickle ends before its STOP opcode")
        code = buffer[pos]
        size = sizes[code]
        pos += 1
        if size >= 0:
            pos += size
        elif size == _SHORT:
            pos += 1 + buffer[pos]
        elif size == _MEMO:
            if code != _MEMOIZE:
                width = 1 if code == _BINPUT else 4
                slot = int.from_bytes(buffer[pos:pos + width], "little")
                if slot > puts:
                    raise _Malformed(f"byte {offset + pos - 1}: memo slot {slot} out of order")
                pos += width
            puts += 1
        elif size == _COUNTED:
            width, signed = counted[code]
            length = int.from_bytes(buffer[pos:pos + width], "little", signed=signed)
            if length < 0:
                raise _Malformed(f"byte {offset + pos - 1}: negative length")
            pos += width + length
        elif size == _STOPS:
            return
        elif size == _REFUSED:
            name = _OPCODE_NAMES.get(code)
            what = f"opcode {name}" if name else f"byte {code:#04x}, not an opcode,"
            raise _Malformed(f"byte {offset + pos - 1}: {what} has no place in a gensim model")
        else:
            at = offset + pos - 1
            for _ in range(2 if size == _TWO_LINES else 1):
                end = buffer.find(b"\n", pos)
                while end < 0:
                    more = stream.read(_SCAN_CHUNK) if len(buffer) - pos <= _MAX_LINE else b""
                    if not more:
                        raise _Malformed(f"byte {at}: unterminated or overlong text argument")
                    buffer = buffer[pos:] + more
                    offset, pos = offset + pos, 0
                    end = buffer.find(b"\n", pos)
                if code == _PUT:
                    slot_text = buffer[pos:end]
                    if not slot_text.isdigit() or int(slot_text) > puts:
                        raise _Malformed(f"byte {at}: memo slot {slot_text!r} out of order")
                    puts += 1
                pos = end + 1


def _attribute_names(state: dict, listing: str) -> list[str]:
    names = state.get(listing, [])
    if not isinstance(names, (list, tuple)) or not all(
        isinstance(name, str) and name.isidentifier() for name in names
    ):
        # An identifier holds no path separator and no "..": the file names stay beside the
        # model file.
        raise _Malformed(f"malformed {listing} list: attribute names must be identifiers")
    return list(names)


def _read_separate_arrays(
    root: _GensimObject, source: str, mmap: Optional[_MmapMode]
) -> None:
    """Put the arrays gensim stored beside `source` into the stand-ins' state."""
    compressed = source.endswith((".gz", ".bz2"))
    folder = os.path.realpath(os.path.dirname(os.path.abspath(source)))
    visited: set[int] = set()

    def visit(holder: _GensimObject, prefix: str, depth: int) -> None:
        if id(holder) in visited or depth > _MAX_NESTING:
            raise _Malformed("the separately stored arrays are nested too deeply or in a loop")
        visited.add(id(holder))
        state = holder.state
        for attribute in _attribute_names(state, "__recursive_saveloads"):
            child = state.get(attribute)
            if not isinstance(child, _GensimObject):
                raise _Malformed(f"{attribute!r} is listed as a gensim object but is none")
            visit(child, f"{prefix}.{attribute}", depth + 1)
        for attribute in _attribute_names(state, "__numpys"):
            if attribute in _WANTED_ARRAYS:
                state[attribute] = _Array(
                    _read_array_file(f"{prefix}.{attribute}", folder, compressed, mmap)
                )
            else:
                state[attribute] = None
        # Sparse matrices are no part of a word2vec model; ignored attributes are recomputed.
        for listing in ("__scipys", "__ignoreds"):
            for attribute in _attribute_names(state, listing):
                state[attribute] = None

    visit(root, source, 0)


def _read_array_file(
    prefix: str, folder: str, compressed: bool, mmap: Optional[_MmapMode]
) -> np.ndarray:
    name = f"{prefix}.{'npz' if compressed else 'npy'}"
    real = os.path.realpath(name)
    if os.path.dirname(real) != folder:
        raise _Malformed(f"the array file {name} lies outside the model's folder {folder}")
    if not os.path.isfile(real):
        raise _Malformed(
            f"the array file {name} is missing: gensim stores large arrays in files next to "
            f"the model, keep them together"
        )
    if compressed and mmap:
        raise _Malformed(
            f"cannot memory-map {name}: the arrays of a compressed model are compressed; "
            f"load with mmap=None or save the model uncompressed"
        )
    try:
        loaded = np.load(real, mmap_mode=mmap, allow_pickle=False)
        if compressed:
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise ValueError("not a .npz archive")
            with loaded:
                if loaded.files != ["val"]:
                    raise ValueError(f"holds {loaded.files}, expected ['val']")
                loaded = loaded["val"]
        elif not isinstance(loaded, np.ndarray):
            loaded.close()
            raise ValueError("not a .npy array file")
    except (ValueError, OSError, EOFError, zlib.error) as exc:
        raise _Malformed(f"cannot read the array file {name}: {exc}") from None
    if loaded.dtype.kind not in "biufc":
        raise _Malformed(f"the array file {name} holds {loaded.dtype} values, not numbers")
    return loaded


# ------------------------------------------------------------------------------------------
# From the stand-ins to GensimModelData


def _model_data(root: _GensimObject) -> GensimModelData:
    name = root.gensim_name
    if name in _WORD2VEC_CLASSES:
        return _word2vec_data(root)
    if name in _KEYED_VECTORS_CLASSES:
        vectors = _vectors_data(root.state, name)
        return GensimModelData(
            kind="KeyedVectors",
            gensim_class=name,
            gensim_version=_gensim_version(root.state),
            vectors_lockf=_lock_factors(root.state.get("vectors_lockf"), vectors),
            **vectors,
        )
    raise _Malformed(f"it holds a {name}, not a Word2Vec or KeyedVectors model")


def _word2vec_data(root: _GensimObject) -> GensimModelData:
    state = root.state
    wv = state.get("wv")
    if not isinstance(wv, _GensimObject) or wv.gensim_name not in _KEYED_VECTORS_CLASSES:
        raise _Malformed(
            "the Word2Vec model has no word vectors ('wv'); models saved by gensim before "
            "1.0 are not supported"
        )
    holders = {
        part: state[part].state if isinstance(state.get(part), _GensimObject) else {}
        for part in ("vocabulary", "trainables")
    }

    def lookup(name: str, older: tuple[str, ...] = ()) -> Any:
        for where in (state, *(holders[part] for part in older)):
            if name in where:
                return _plain(where[name])
        return None

    vectors = _vectors_data(wv.state, "wv")
    parameters: dict[str, Any] = {}
    for name, kind, older, default in _PARAMETERS:
        value = lookup(name, older)
        parameters[name] = default if value is None else _typed(value, kind, name)
    epochs = lookup("epochs")
    parameters["epochs"] = _typed(lookup("iter") if epochs is None else epochs, _INT, "epochs")
    if parameters["train_count"] is None:
        parameters["train_count"] = 0
    lockf = wv.state.get("vectors_lockf")
    if lockf is None:
        lockf = lookup("vectors_lockf", ("trainables",))
    if lockf is None:
        lockf = lookup("syn0_lockf")
    rows = len(vectors["index_to_key"])
    return GensimModelData(
        kind="Word2Vec",
        gensim_class=root.gensim_name,
        gensim_version=_gensim_version(state),
        vectors_lockf=_lock_factors(lockf, vectors),
        syn1neg=_matrix(lookup("syn1neg", ("trainables",)), "syn1neg", rows),
        syn1=_matrix(lookup("syn1", ("trainables",)), "syn1", rows),
        **vectors,
        **parameters,
    )


def _typed(value: Any, kind: str, name: str) -> Any:
    if value is None:
        return None
    if kind == _STR:
        if isinstance(value, str):
            return value
    elif kind == _BOOL:
        if isinstance(value, (bool, int)):
            return bool(value)
    elif kind == _INT:
        if isinstance(value, int):
            return int(value)
    elif isinstance(value, (int, float)):
        return float(value)
    raise _Malformed(f"parameter {name!r} is a {type(value).__name__}, expected {kind}")


def _gensim_version(state: dict) -> Optional[str]:
    events = state.get("lifecycle_events")
    if isinstance(events, list):
        for event in reversed(events):
            if isinstance(event, dict) and isinstance(event.get("gensim"), str):
                return event["gensim"]
    return None


def _matrix(value: Any, name: str, rows: int) -> Optional[np.ndarray]:
    value = _plain(value)
    if value is None:
        return None
    if not isinstance(value, np.ndarray) or value.ndim != 2 or value.dtype.kind != "f":
        raise _Malformed(f"{name} is not a 2-D floating point array")
    if value.shape[0] != rows:
        raise _Malformed(f"{name} has {value.shape[0]} rows for {rows} keys")
    return value


def _lock_factors(value: Any, vectors: dict) -> Optional[np.ndarray]:
    value = _plain(value)
    if value is None:
        return None
    rows = len(vectors["index_to_key"])
    if (not isinstance(value, np.ndarray) or value.ndim != 1 or value.dtype.kind != "f"
            or len(value) not in (1, rows)):
        raise _Malformed(f"vectors_lockf must hold 1 or {rows} floating point values")
    return value


def _vectors_data(state: dict, where: str) -> dict:
    """index_to_key, vectors, vector_size, counts and expandos of a KeyedVectors' state."""
    keys = None
    for name in ("index_to_key", "index2word", "index2entity"):
        if name in state:
            keys = state[name]
            break
    if not isinstance(keys, list) or not set(map(type, keys)) <= _KEY_TYPES:
        raise _Malformed(f"{where} has no list of str or int keys (index_to_key)")
    vectors = _plain(state.get("vectors", state.get("syn0")))
    if not isinstance(vectors, np.ndarray) or vectors.ndim != 2 or vectors.dtype.kind != "f":
        raise _Malformed(f"{where} has no 2-D floating point vectors")
    if vectors.shape[0] != len(keys):
        raise _Malformed(f"{where} has {vectors.shape[0]} vectors for {len(keys)} keys")
    vector_size = state.get("vector_size", vectors.shape[1])
    if type(vector_size) is not int or vector_size != vectors.shape[1]:
        raise _Malformed(
            f"{where} says vector_size={vector_size!r} but its vectors have {vectors.shape[1]}"
        )
    key_to_index = dict(zip(keys, range(len(keys))))
    unfilled = keys.count(None)  # slots gensim allocated and never filled
    if unfilled:
        del key_to_index[None]
    if len(key_to_index) != len(keys) - unfilled:
        raise _Malformed(f"{where} repeats a key")
    if "key_to_index" in state:
        if state["key_to_index"] != key_to_index:
            raise _Malformed(f"{where}: key_to_index does not match index_to_key")
        expandos = _expandos(state.get("expandos", {}), len(keys), where)
    elif "vocab" in state:
        expandos = _expandos_of_vocab(state["vocab"], keys, where)
    else:
        raise _Malformed(f"{where} has neither key_to_index nor vocab")
    counts = expandos.get("count")
    if counts is not None:
        if counts.dtype.kind not in "iu":
            raise _Malformed(f"{where} has non-integer counts ({counts.dtype})")
        counts = counts.astype(np.int64, copy=False)
    return {
        "vector_size": vector_size,
        "index_to_key": keys,
        "key_to_index": key_to_index,
        "vectors": vectors,
        "counts": counts,
        "expandos": expandos,
    }


def _expandos(expandos: Any, rows: int, where: str) -> dict:
    if not isinstance(expandos, dict):
        raise _Malformed(f"{where}: expandos is not a dict")
    result = {}
    for name, values in expandos.items():
        values = _plain(values)
        if not isinstance(name, str) or not isinstance(values, np.ndarray):
            raise _Malformed(f"{where}: expandos must map names to arrays")
        if values.shape != (rows,):
            raise _Malformed(f"{where}: attribute {name!r} has shape {values.shape}")
        result[name] = values
    return result


def _expandos_of_vocab(vocab: Any, keys: list, where: str) -> dict:
    """gensim < 4's {word: Vocab(count=..., index=..., ...)} as per-row arrays."""
    if not isinstance(vocab, dict) or len(vocab) != sum(key is not None for key in keys):
        raise _Malformed(f"{where}: vocab does not hold one entry per key")
    columns: dict[str, list] = {}
    for row, key in enumerate(keys):
        if key is None:
            continue
        entry = vocab.get(key)
        if not isinstance(entry, _GensimObject) or entry.gensim_name not in _VOCAB_CLASSES:
            raise _Malformed(f"{where}: vocab has no Vocab entry for {key!r}")
        if entry.state.get("index") != row:
            raise _Malformed(f"{where}: vocab places {key!r} at a row other than index2word")
        for name, value in entry.state.items():
            if name != "index":
                columns.setdefault(name, [None] * len(keys))[row] = _plain(value)
    result = {}
    for name, values in columns.items():
        if all(type(value) is int for value in values):
            dtype: Any = np.uint32 if name == "sample_int" else np.int64
        elif all(type(value) in (int, float) for value in values):
            dtype = np.float64
        elif all(isinstance(value, np.ndarray) for value in values):
            dtype = object  # hierarchical softmax codes and points, one small array per word
        else:
            continue  # nothing fastw2v knows to use
        column = np.empty(len(values), dtype=dtype)
        for row, value in enumerate(values):
            column[row] = value
        result[name] = column
    return result
