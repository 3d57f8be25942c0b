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

import json
import os
import struct
import zipfile
from collections.abc import Mapping
from typing import Any, BinaryIO

import numpy as np

from fastw2v._io.files import PathLike, atomic_write

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "load_archive", "save_archive"]

FORMAT_NAME = "fastw2v"
FORMAT_VERSION = 1

_METADATA_MEMBER = "metadata.json"
_ARRAY_SUFFIX = ".npy"
_RESERVED_METADATA_KEYS = ("format", "format_version")
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
# A fixed member timestamp makes saving the same data twice produce identical files.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


# --------------------------------------------------------------------------------------------
# Archives


def save_archive(
    path: PathLike, metadata: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
) -> None:
    """Save metadata and arrays as one fastw2v archive, atomically.

    The archive is an uncompressed zip: ``metadata.json`` and one ``<name>.npy`` per array, each
    array's data aligned to 64 bytes in the file so that :func:`load_archive` can memory-map it.
    Nothing is pickled.

    Parameters
    ----------
    path : str or os.PathLike
        Output file, replaced atomically (see :func:`atomic_write`).
    metadata : mapping
        JSON-serialisable values (str, int, float, bool, None, lists, dicts; numpy scalars are
        converted). ``"format"`` and ``"format_version"`` are added and may not be given. A
        ``"kind"`` entry naming what the archive holds is recommended.
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
    # Surrogates (from words decoded with 'surrogateescape') survive via 'surrogatepass'.
    encoded_metadata = json.dumps(document, ensure_ascii=False, default=_json_default).encode(
        "utf-8", "surrogatepass"
    )
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
        archive.writestr(zipfile.ZipInfo(_METADATA_MEMBER, date_time=_ZIP_DATE), encoded_metadata)
        for array_name, array in checked.items():
            member = array_name + _ARRAY_SUFFIX
            zip64 = array.nbytes > _ZIP64_THRESHOLD
            info = zipfile.ZipInfo(member, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            info.extra = _alignment_padding(raw.tell(), member, zip64)
            with archive.open(info, "w", force_zip64=zip64) as stream:
                np.lib.format.write_array(stream, array, allow_pickle=False)


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
    path: PathLike, mmap: str | None = None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Load a file written by :func:`save_archive`, without ever unpickling anything.

    Parameters
    ----------
    path : str or os.PathLike
        The archive.
    mmap : {None, 'r', 'c'}
        None reads the arrays into memory (verifying their checksums). ``'r'`` memory-maps them
        read-only straight from the archive, ``'c'`` copy-on-write; members that are not stored
        uncompressed (an archive repacked by another tool) are read instead.

    Returns
    -------
    metadata : dict
        The saved metadata, including ``"format"`` and ``"format_version"``.
    arrays : dict of str to numpy.ndarray
        The saved arrays (``numpy.memmap`` instances when memory-mapped).

    Raises
    ------
    ValueError
        If the file is not a fastw2v archive, comes from a newer fastw2v, or is truncated or
        corrupted; the message names the file and the problem.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "model.fw2v")
    >>> save_archive(path, {"kind": "example"}, {"weights": np.ones((3, 2), dtype=np.float32)})
    >>> metadata, arrays = load_archive(path, mmap="r")
    >>> float(arrays["weights"].sum())
    6.0
    """
    if mmap not in (None, "r", "c"):
        raise ValueError(f"mmap must be None, 'r' or 'c', got {mmap!r}")
    name = os.fspath(path)
    with open(path, "rb") as handle:
        try:
            return _load_archive(handle, name, mmap)
        except _ArchiveError as error:
            raise ValueError(f"{name}: {error}") from None
        except Exception as error:  # noqa: BLE001
            # zipfile and numpy, parsing damaged bytes, fail in many ways (BadZipFile,
            # struct.error, EOFError, OSError from bad offsets, ...); all mean a damaged file.
            raise ValueError(
                f"{name}: not a valid fastw2v archive ({type(error).__name__}: {error})"
            ) from None


class _ArchiveError(Exception):
    """A problem found while validating an archive; reported as ValueError with the path."""


def _load_archive(
    handle: BinaryIO, name: str, mmap: str | None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    file_size = os.fstat(handle.fileno()).st_size
    with zipfile.ZipFile(handle) as archive:
        members = archive.infolist()
        names = [info.filename for info in members]
        if len(set(names)) != len(names):
            raise _ArchiveError("corrupted archive: a member appears twice")
        if _METADATA_MEMBER not in names:
            raise _ArchiveError("not a fastw2v archive: it has no metadata.json")
        metadata = _read_metadata(archive, archive.getinfo(_METADATA_MEMBER), file_size)
        arrays: dict[str, np.ndarray] = {}
        for info in members:
            if info.filename == _METADATA_MEMBER:
                continue
            if not info.filename.endswith(_ARRAY_SUFFIX) or info.is_dir():
                raise _ArchiveError(f"unexpected member {info.filename!r}")
            _check_member_bounds(info, file_size)
            array_name = info.filename[: -len(_ARRAY_SUFFIX)]
            stored = info.compress_type == zipfile.ZIP_STORED and not info.flag_bits & 1
            if mmap is not None and stored:
                arrays[array_name] = _map_member(handle, name, info, mmap, file_size)
            else:
                arrays[array_name] = _read_member(archive, info)
    return metadata, arrays


def _check_member_bounds(info: zipfile.ZipInfo, file_size: int) -> None:
    if info.header_offset + _LOCAL_HEADER.size + info.compress_size > file_size:
        raise _ArchiveError(f"truncated: member {info.filename!r} extends past the end of the file")
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size:
            raise _ArchiveError(f"corrupted sizes for member {info.filename!r}")
    elif info.file_size > _MAX_DEFLATE_RATIO * max(info.compress_size, 1):
        raise _ArchiveError(f"corrupted sizes for member {info.filename!r}")


def _read_metadata(archive: zipfile.ZipFile, info: zipfile.ZipInfo, file_size: int) -> dict:
    _check_member_bounds(info, file_size)
    try:
        metadata = json.loads(archive.read(info).decode("utf-8", "surrogatepass"))
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


def _read_npy_header(stream: BinaryIO, member: str) -> tuple[tuple[int, ...], bool, np.dtype, int]:
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
        view = memoryview(flat.view(np.uint8)) if data_size else memoryview(b"")
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
    handle: BinaryIO, name: str, info: zipfile.ZipInfo, mode: str, file_size: int
) -> np.ndarray:
    handle.seek(info.header_offset)
    header = handle.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size:
        raise _ArchiveError(f"truncated local header for member {info.filename!r}")
    fields = _LOCAL_HEADER.unpack(header)
    signature, name_length, extra_length = fields[0], fields[9], fields[10]
    member_name = handle.read(name_length)
    if signature != _LOCAL_HEADER_SIGNATURE or member_name != info.filename.encode():
        raise _ArchiveError(f"corrupted local header for member {info.filename!r}")
    data_start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
    if data_start + info.file_size > file_size:
        raise _ArchiveError(f"truncated: member {info.filename!r} extends past the end of the file")
    handle.seek(data_start)
    shape, fortran_order, dtype, data_size = _read_npy_header(handle, info.filename)
    header_size = handle.tell() - data_start
    _check_payload_size(info, header_size, data_size)
    if data_size == 0:
        return np.empty(shape, dtype=dtype)
    return np.memmap(
        name,
        dtype=dtype,
        mode=mode,
        offset=data_start + header_size,
        shape=shape,
        order="F" if fortran_order else "C",
    )
