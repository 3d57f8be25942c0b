"""fastw2v's own model format: one uncompressed zip of ``metadata.json`` and ``.npy`` arrays.

Unlike pickle-based model files it never executes code when loaded, and because the members are
stored uncompressed the arrays can be memory-mapped straight from the archive. The archive is
written through :func:`fastw2v._io.files.atomic_write`.

Examples
--------
>>> import numpy as np, os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "model.fw2v")
>>> save_archive(path, {"kind": "example"}, {"weights": np.eye(2, dtype=np.float32)})
>>> metadata, arrays = load_archive(path)
>>> metadata["kind"], arrays["weights"].shape
('example', (2, 2))
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Container, Mapping
from typing import IO, Any, BinaryIO, Literal, Optional, cast

import numpy as np

from fastw2v._io.files import PathLike, atomic_write, require_regular_file
from fastw2v.errors import NotAModelError

# The memory-mapping modes load_archive accepts (read-only, or copy-on-write).
_MapMode = Literal["r", "c"]

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "load_archive", "save_archive"]

FORMAT_NAME = "fastw2v"
FORMAT_VERSION = 1

_METADATA_MEMBER = "metadata.json"
_ARRAY_SUFFIX = ".npy"
# Where metadata.json declares the byte size of each array member.
_DECLARED_SIZES_KEY = "array_bytes"
_RESERVED_METADATA_KEYS = ("format", "format_version", _DECLARED_SIZES_KEY)
# Header ID of the zip "extra field" that pads local headers so that array data starts on a
# 64-byte boundary; zip readers skip extra fields they do not know.
_ALIGNMENT_EXTRA_ID = 0xD935
_DATA_ALIGNMENT = 64
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_LOCAL_HEADER_SIGNATURE = b"PK\x03\x04"
# zipfile appends a 20-byte ZIP64 extra field to the local header of members opened with it.
_ZIP64_LOCAL_EXTRA_SIZE = 20
_ZIP64_THRESHOLD = 1 << 30
# Deflate cannot compress better than about 1032:1, so a member claiming more is lying.
_MAX_DEFLATE_RATIO = 1032
_READ_CHUNK_BYTES = 1 << 24
# metadata.json may decompress to the archive's own size, or this much for a small archive.
_METADATA_FLOOR_BYTES = 1 << 20
# A fixed member timestamp makes saving the same data twice produce identical files.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def save_archive(
    path: PathLike, metadata: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
) -> None:
    """Save metadata and arrays as one fastw2v archive, atomically.

    The archive is an uncompressed zip: one ``<name>.npy`` per array, each array's data aligned
    to 64 bytes in the file so that :func:`load_archive` can memory-map it, then
    ``metadata.json``, which also declares the size of every array member (under
    ``"array_bytes"``) so that a reader knows how much it will read before reading it. Nothing
    is pickled.

    Parameters
    ----------
    path : str or os.PathLike
        Output file, replaced atomically (see :func:`~fastw2v._io.files.atomic_write`, which
        also says what may be saved over).
    metadata : mapping
        JSON-serialisable values (str, int, float, bool, None, lists, dicts; numpy scalars are
        converted). ``"format"``, ``"format_version"`` and ``"array_bytes"`` are added and may
        not be given. A ``"kind"`` entry naming what the archive holds is recommended.
    arrays : mapping of str to numpy.ndarray
        Numeric or fixed-width arrays; object arrays are refused. Names may not contain ``/``.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "model.fw2v")
    >>> save_archive(path, {"kind": "example", "words": ["a", "b"]}, {"counts": np.arange(2)})
    >>> load_archive(path)[0]["words"]
    ['a', 'b']
    """
    clashing = [key for key in _RESERVED_METADATA_KEYS if key in metadata]
    if clashing:
        raise ValueError(f"metadata keys {clashing} are reserved for the archive format")
    document = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **metadata}
    # Encoded before anything is written, so that a value JSON cannot hold fails fast.
    encoded_metadata = _encode_json(document)
    checked = {}
    for array_name, array in arrays.items():
        if (
            not isinstance(array_name, str)
            or not array_name
            or "/" in array_name
            or "\\" in array_name
        ):
            raise ValueError(f"invalid array name {array_name!r}")
        array = np.asarray(array)
        if array.dtype.hasobject:
            raise ValueError(
                f"array {array_name!r} holds Python objects (dtype {array.dtype}); fastw2v "
                f"archives store only plain data, never pickles"
            )
        checked[array_name] = array

    with atomic_write(path, "wb") as raw, zipfile.ZipFile(
        raw, "w", compression=zipfile.ZIP_STORED, allowZip64=True
    ) as archive:
        member_bytes = {}
        for array_name, array in checked.items():
            member = array_name + _ARRAY_SUFFIX
            zip64 = array.nbytes > _ZIP64_THRESHOLD
            info = zipfile.ZipInfo(member, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            info.extra = _alignment_padding(raw.tell(), member, zip64)
            with archive.open(info, "w", force_zip64=zip64) as stream:
                np.lib.format.write_array(stream, array, allow_pickle=False)
            member_bytes[array_name] = info.file_size
        # The sizes are known only once the arrays are written, hence metadata.json last.
        declared = b', "' + _DECLARED_SIZES_KEY.encode() + b'": ' + _encode_json(member_bytes)
        archive.writestr(
            zipfile.ZipInfo(_METADATA_MEMBER, date_time=_ZIP_DATE),
            encoded_metadata[:-1] + declared + b"}",
        )


def _encode_json(value: Any) -> bytes:
    # Surrogates (from words decoded with 'surrogateescape') survive via 'surrogatepass'.
    return json.dumps(value, ensure_ascii=False, default=_json_default).encode(
        "utf-8", "surrogatepass"
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable; arrays go in `arrays`")


def _alignment_padding(header_offset: int, member: str, zip64: bool) -> bytes:
    """An extra field that makes the member's data, and so its .npy data, start aligned.

    numpy pads .npy headers to a multiple of 64 bytes, so aligning the member aligns the array.
    """
    header_size = _LOCAL_HEADER.size + len(member.encode()) + 4
    if zip64:
        header_size += _ZIP64_LOCAL_EXTRA_SIZE
    padding = -(header_offset + header_size) % _DATA_ALIGNMENT
    return struct.pack("<HH", _ALIGNMENT_EXTRA_ID, padding) + bytes(padding)


def load_archive(
    path: PathLike,
    mmap: str | None = None,
    *,
    kind: str | None = None,
    arrays: Callable[[str], bool] | Container[str] | None = None,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Load a file written by :func:`save_archive`, without ever unpickling anything.

    The archive comes from outside and is treated as hostile. Before any array is read, the
    layout is checked (zip members may not overlap, nor reach past the end of the data), then
    ``metadata.json`` (which may not decompress to more than the archive's own size, or 1 MiB),
    then the member list: only ``metadata.json`` and the arrays it declares may be present, each
    of exactly the size declared, so no more bytes are ever decompressed than the metadata
    declares. Archives of fastw2v versions that did not declare sizes are read with every
    ``.npy`` member counted as declared.

    Parameters
    ----------
    path : str or os.PathLike
        The archive.
    mmap : {None, 'r', 'c'}
        None reads the arrays into memory (verifying their checksums). ``'r'`` memory-maps them
        read-only straight from the archive, ``'c'`` copy-on-write; members that are not stored
        uncompressed (an archive repacked by another tool) are read instead. The maps are made
        from the very file that was validated, even if another process replaces `path`
        meanwhile (as :func:`save_archive` does, atomically). A file truncated or rewritten in
        place while mapped is another matter: the operating system then kills the process
        with ``SIGBUS`` when it touches a vanished page, which no check can prevent; replace
        such files, never rewrite them in place.
    kind : str, optional
        The ``"kind"`` the metadata must name; checked before any array is read.
    arrays : callable or container of str, optional
        The arrays the caller uses: a predicate on names, or a collection of them. An array
        outside it is refused as an unexpected member, never read. By default every declared
        array is read.

    Returns
    -------
    metadata : dict
        The saved metadata, including ``"format"`` and ``"format_version"``.
    arrays : dict of str to numpy.ndarray
        The saved arrays (``numpy.memmap`` instances when memory-mapped).

    Raises
    ------
    ValueError
        If the file is not a fastw2v archive (or not of `kind`), comes from a newer fastw2v, is
        truncated or corrupted, or is built to cost more than it declares; the message names the
        file and the problem.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "model.fw2v")
    >>> save_archive(path, {"kind": "example"}, {"weights": np.ones((3, 2), dtype=np.float32)})
    >>> metadata, arrays = load_archive(path, mmap="r", kind="example")
    >>> float(arrays["weights"].sum())
    6.0
    """
    if mmap not in (None, "r", "c"):
        raise ValueError(f"mmap must be None, 'r' or 'c', got {mmap!r}")
    if arrays is None:
        wanted: Callable[[str], bool] = _everything
    elif callable(arrays):
        wanted = arrays
    else:
        wanted = arrays.__contains__
    name = os.fspath(path)
    require_regular_file(path, "a fastw2v archive")
    with open(path, "rb") as handle:
        try:
            return _load_archive(handle, name, cast(Optional[_MapMode], mmap), kind, wanted)
        except _KindError as error:
            # gensim raises AttributeError here; NotAModelError is that and a ValueError.
            raise NotAModelError(f"{name}: {error}") from None
        except _ArchiveError as error:
            raise ValueError(f"{name}: {error}") from None
        except Exception as error:  # noqa: BLE001
            # zipfile and numpy, parsing damaged bytes, fail in many ways (BadZipFile,
            # struct.error, EOFError, OSError from bad offsets, ...); all mean a damaged file.
            other = _other_format(name, kind) if isinstance(error, zipfile.BadZipFile) else None
            if other is not None:
                raise ValueError(f"{name}: not a fastw2v archive: {other}") from None
            raise ValueError(
                f"{name}: not a valid fastw2v archive ({type(error).__name__}: {error})"
            ) from None


def _everything(name: str) -> bool:
    return True


# A word2vec vectors file starts with "<count> <dimension>"; enough of it to see its first row.
_WORD2VEC_HEADER = re.compile(rb"\s*(\d{1,18})[ \t]+(\d{1,18})[ \t]*\r?\n")
_SNIFF_BYTES = 1 << 16
_COMPRESSED_MAGIC: dict[bytes, Callable[[str, Literal["rb"]], io.BufferedIOBase]] = {
    b"\x1f\x8b": gzip.open, b"BZh": bz2.open, b"\xfd7zXZ": lzma.open
}


def _other_format(name: str, kind: str | None) -> str | None:
    """What a file that is not a zip holds, when it is a model format fastw2v knows, and
    what to call to read it; None when it cannot tell."""
    from fastw2v._gensim_model import is_gensim_pickle

    if is_gensim_pickle(name):
        loader = "KeyedVectors" if kind == "KeyedVectors" else "Word2Vec"
        return (
            f"saved by gensim (a pickle, which fastw2v's load never unpickles): use "
            f"{loader}.load_gensim()"
        )
    start = _decompressed_start(name)
    header = _WORD2VEC_HEADER.match(start)
    if header is None:
        return None
    count, dimension = int(header.group(1)), int(header.group(2))
    first_row = start[header.end() :].split(b"\n", 1)[0].split()
    if count and not first_row:
        return None  # a header alone: too little to tell
    binary = not (len(first_row) == dimension + 1 and all(map(_is_number, first_row[1:])))
    form = "binary" if binary else "text"
    return (
        f"a word2vec {form} vectors file ({count:,} vectors of {dimension}): "
        f"read it with KeyedVectors.load_word2vec_format({name!r}, binary={binary})"
    )


def _decompressed_start(name: str) -> bytes:
    try:
        with open(name, "rb") as handle:
            start = handle.read(_SNIFF_BYTES)
        for magic, opener in _COMPRESSED_MAGIC.items():
            if start.startswith(magic):
                with opener(name, "rb") as stream:
                    return stream.read(_SNIFF_BYTES)
    except (OSError, EOFError, zlib.error, lzma.LZMAError):
        return b""
    return start


def _is_number(token: bytes) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


class _ArchiveError(Exception):
    """A problem found while validating an archive; reported as ValueError with the path."""


class _KindError(_ArchiveError):
    """The archive holds another kind of object than the caller loads."""

    def __init__(self, found: Any, wanted: str) -> None:
        hint = f": load it with {found}.load()" if found in ("Word2Vec", "KeyedVectors") else ""
        super().__init__(f"holds {found!r}, not {wanted!r}{hint}")


def _load_archive(
    handle: BinaryIO,
    name: str,
    mmap: _MapMode | None,
    kind: str | None,
    wanted: Callable[[str], bool],
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    file_size = os.fstat(handle.fileno()).st_size
    with zipfile.ZipFile(handle) as archive:
        members = archive.infolist()
        names = [info.filename for info in members]
        if len(set(names)) != len(names):
            raise _ArchiveError("corrupted archive: a member appears twice")
        if _METADATA_MEMBER not in names:
            raise _ArchiveError("not a fastw2v archive: it has no metadata.json")
        data_starts = _check_layout(handle, members, archive.start_dir)
        for info in members:
            _check_member_sizes(info)
        metadata = _read_metadata(archive, archive.getinfo(_METADATA_MEMBER), file_size)
        if kind is not None and metadata.get("kind") != kind:
            raise _KindError(metadata.get("kind"), kind)
        to_read = _declared_members(members, metadata.pop(_DECLARED_SIZES_KEY, None), wanted)
        arrays: dict[str, np.ndarray] = {}
        for array_name, info in to_read.items():
            stored = info.compress_type == zipfile.ZIP_STORED and not info.flag_bits & 1
            if mmap is not None and stored:
                arrays[array_name] = _map_member(handle, info, data_starts[info.filename], mmap)
            else:
                arrays[array_name] = _read_member(archive, info)
    return metadata, arrays


def _check_layout(
    handle: BinaryIO, members: list[zipfile.ZipInfo], data_end: int
) -> dict[str, int]:
    """Check that no two members share bytes; return where each member's data starts.

    zipfile trusts the central directory, so an archive whose entries point into each other's
    data makes the same bytes decompress again and again (a "zip bomb" of overlapping files).
    Every member's local header and data must lie apart, before the central directory.
    """
    extents = []
    data_starts = {}
    for info in members:
        handle.seek(info.header_offset)
        header = handle.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size:
            raise _ArchiveError(f"truncated: the local header of member {info.filename!r} is cut")
        fields = _LOCAL_HEADER.unpack(header)
        signature, name_length, extra_length = fields[0], fields[9], fields[10]
        if signature != _LOCAL_HEADER_SIGNATURE:
            raise _ArchiveError(f"corrupted local header for member {info.filename!r}")
        data_start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
        extents.append((info.header_offset, data_start + info.compress_size, info.filename))
        data_starts[info.filename] = data_start
    extents.sort()
    for (_, end, first), (start, _, second) in zip(extents, extents[1:]):
        if start < end:
            raise _ArchiveError(
                f"members {first!r} and {second!r} overlap: a zip crafted to decompress the "
                f"same bytes more than once"
            )
    for _, end, member in extents:
        if end > data_end:
            raise _ArchiveError(f"truncated: member {member!r} extends past the end of the file")
    return data_starts


def _check_member_sizes(info: zipfile.ZipInfo) -> None:
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size:
            raise _ArchiveError(f"corrupted sizes for member {info.filename!r}")
    elif info.file_size > _MAX_DEFLATE_RATIO * max(info.compress_size, 1):
        raise _ArchiveError(f"corrupted sizes for member {info.filename!r}")


def _declared_members(
    members: list[zipfile.ZipInfo], declared: Any, wanted: Callable[[str], bool]
) -> dict[str, zipfile.ZipInfo]:
    """The array members to read, by array name, after checking them against the metadata."""
    found: dict[str, zipfile.ZipInfo] = {}
    for info in members:
        if info.filename == _METADATA_MEMBER:
            continue
        array_name = info.filename[: -len(_ARRAY_SUFFIX)]
        if (
            not info.filename.endswith(_ARRAY_SUFFIX)
            or info.is_dir()
            or (declared is not None and array_name not in declared)
            or not wanted(array_name)
        ):
            raise _ArchiveError(f"unexpected member {info.filename!r}")
        found[array_name] = info
    if declared is None:
        return found
    if not isinstance(declared, dict) or not all(
        isinstance(size, int) and not isinstance(size, bool) and size >= 0
        for size in declared.values()
    ):
        raise _ArchiveError(f"metadata.json: invalid {_DECLARED_SIZES_KEY!r}")
    missing = sorted(set(declared) - set(found))
    if missing:
        raise _ArchiveError(f"member {missing[0] + _ARRAY_SUFFIX!r} is missing")
    for array_name, info in found.items():
        if info.file_size != declared[array_name]:
            raise _ArchiveError(
                f"member {info.filename!r} holds {info.file_size:,} bytes but metadata.json "
                f"declares {declared[array_name]:,}"
            )
    return found


def _read_metadata(archive: zipfile.ZipFile, info: zipfile.ZipInfo, file_size: int) -> dict:
    most = max(_METADATA_FLOOR_BYTES, file_size)
    if info.file_size > most:
        raise _ArchiveError(
            f"metadata.json would decompress to {info.file_size:,} bytes, more than the "
            f"archive's own {file_size:,}: damaged, or built to exhaust memory"
        )
    with archive.open(info) as stream:
        # zipfile stops at the size the directory declares, checked above; read no more anyway.
        encoded = stream.read(most + 1)
    if len(encoded) > most:
        raise _ArchiveError("metadata.json decompresses to more than it declares")
    try:
        metadata = json.loads(encoded.decode("utf-8", "surrogatepass"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise _ArchiveError(f"metadata.json is not valid JSON ({error})") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise _ArchiveError("not a fastw2v archive: metadata.json lacks the fastw2v format marker")
    version = metadata.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _ArchiveError(f"invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise _ArchiveError(
            f"written in format version {version} by a newer fastw2v; this version reads up to "
            f"{FORMAT_VERSION}"
        )
    return metadata


def _read_npy_header(stream: IO[bytes], member: str) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """Parse and validate a .npy header; returns shape, Fortran order, dtype and data size."""
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise _ArchiveError(f"member {member!r} uses unsupported .npy version {version}")
    except _ArchiveError:
        raise
    except Exception as error:  # noqa: BLE001
        # numpy parses the header as a Python literal, whose tokenizer and parser raise a
        # variety of errors on garbage (ValueError, SyntaxError, tokenize.TokenError, ...).
        raise _ArchiveError(f"member {member!r} has an invalid .npy header ({error})") from None
    if dtype.hasobject:
        raise _ArchiveError(
            f"member {member!r} holds pickled Python objects, which fastw2v never loads"
        )
    if any(size < 0 for size in shape):
        raise _ArchiveError(f"member {member!r} declares a negative shape {shape}")
    return shape, fortran_order, dtype, int(np.prod(shape, dtype=object)) * dtype.itemsize


def _check_payload_size(info: zipfile.ZipInfo, header_size: int, data_size: int) -> None:
    if header_size + data_size != info.file_size:
        raise _ArchiveError(
            f"member {info.filename!r} is truncated or corrupted: its header describes "
            f"{data_size} bytes of data but it holds {info.file_size - header_size}"
        )


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    with archive.open(info) as stream:
        shape, fortran_order, dtype, data_size = _read_npy_header(stream, info.filename)
        _check_payload_size(info, stream.tell(), data_size)
        flat = np.empty(data_size // dtype.itemsize if dtype.itemsize else 0, dtype=dtype)
        view = flat.view(np.uint8).data if data_size else memoryview(b"")
        filled = 0
        while filled < data_size:
            chunk = stream.read(min(_READ_CHUNK_BYTES, data_size - filled))
            if not chunk:
                raise _ArchiveError(f"member {info.filename!r} is truncated")
            view[filled : filled + len(chunk)] = chunk
            filled += len(chunk)
        # Reading past the data makes zipfile verify the member's CRC.
        if stream.read(1):
            raise _ArchiveError(f"member {info.filename!r} has trailing data")
    if dtype.itemsize == 0:
        return np.empty(shape, dtype=dtype)
    if fortran_order:
        return flat.reshape(shape[::-1]).T
    return flat.reshape(shape)


def _map_member(
    handle: BinaryIO, info: zipfile.ZipInfo, data_start: int, mode: _MapMode
) -> np.ndarray:
    handle.seek(data_start)
    shape, fortran_order, dtype, data_size = _read_npy_header(handle, info.filename)
    header_size = handle.tell() - data_start
    _check_payload_size(info, header_size, data_size)
    if data_size == 0:
        return np.empty(shape, dtype=dtype)
    # Mapping the open handle, not the path: the path may name another file by now.
    return np.memmap(
        handle,
        dtype=dtype,
        mode=mode,
        offset=data_start + header_size,
        shape=shape,
        order="F" if fortran_order else "C",
    )
