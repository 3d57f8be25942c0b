"""Tests for fastw2v._io.archive: the model archive, a zip of metadata.json and .npy arrays."""

from __future__ import annotations

import json
import os
import pathlib
import pickle
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastw2v._io import archive, load_archive, save_archive

FUZZ = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def sample_arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "vectors": rng.standard_normal((7, 5)).astype(np.float32),
        "counts": np.arange(7, dtype=np.int64)[::-1].copy(),
        "fortran": np.asfortranarray(rng.standard_normal((3, 4))),
        "empty": np.zeros((0, 5), dtype=np.float32),
        "scalar": np.array(3.5),
        "bigendian": np.arange(4, dtype=">i4"),
        "text": np.array(["alpha", "βeta"]),
    }


# --------------------------------------------------------------------------------------------
# Archives


def test_archive_round_trip(tmp_path):
    arrays = sample_arrays()
    metadata = {"kind": "test", "words": ["a", "ß", "日本", "\udcff"], "n": np.int64(4), "x": None}
    save_archive(tmp_path / "a.fw2v", metadata, arrays)
    loaded_metadata, loaded = load_archive(tmp_path / "a.fw2v")
    assert loaded_metadata == {
        "format": "fastw2v", "format_version": archive.FORMAT_VERSION,
        "kind": "test", "words": ["a", "ß", "日本", "\udcff"], "n": 4, "x": None,
    }
    assert loaded.keys() == arrays.keys()
    for name, array in arrays.items():
        assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape
        np.testing.assert_array_equal(loaded[name], array)
        assert loaded[name].flags.writeable


def test_archive_memory_maps_aligned_read_only_arrays(tmp_path):
    arrays = sample_arrays()
    save_archive(tmp_path / "a.fw2v", {"kind": "test"}, arrays)
    _, mapped = load_archive(tmp_path / "a.fw2v", mmap="r")
    for name, array in arrays.items():
        np.testing.assert_array_equal(mapped[name], array)
        if array.size:
            assert isinstance(mapped[name], np.memmap)
            assert mapped[name].ctypes.data % 64 == 0
            assert not mapped[name].flags.writeable
    assert mapped["fortran"].flags.f_contiguous
    _, copy_on_write = load_archive(tmp_path / "a.fw2v", mmap="c")
    copy_on_write["vectors"][0, 0] = 123.0
    assert load_archive(tmp_path / "a.fw2v")[1]["vectors"][0, 0] == arrays["vectors"][0, 0]


def test_zip64_members_are_aligned_too(tmp_path, monkeypatch):
    # Members over the threshold get a ZIP64 local header; lower it to cover that layout.
    monkeypatch.setattr(archive, "_ZIP64_THRESHOLD", 0)
    arrays = sample_arrays()
    save_archive(tmp_path / "a.fw2v", {"kind": "test"}, arrays)
    for mmap in (None, "r"):
        _, loaded = load_archive(tmp_path / "a.fw2v", mmap=mmap)
        np.testing.assert_array_equal(loaded["vectors"], arrays["vectors"])
    assert loaded["vectors"].ctypes.data % 64 == 0


def test_archive_is_an_uncompressed_zip_with_json_metadata(tmp_path):
    save_archive(tmp_path / "a.fw2v", {"kind": "test"}, {"v": np.arange(3)})
    with zipfile.ZipFile(tmp_path / "a.fw2v") as archive:
        assert sorted(archive.namelist()) == ["metadata.json", "v.npy"]
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
        assert archive.testzip() is None
        metadata = json.loads(archive.read("metadata.json"))
        member_size = archive.getinfo("v.npy").file_size
    # metadata.json declares how many bytes each array member holds.
    assert metadata == {"format": "fastw2v", "format_version": 1, "kind": "test",
                        "array_bytes": {"v": member_size}}


def test_saving_twice_gives_identical_files(tmp_path):
    for name in ("one", "two"):
        save_archive(tmp_path / name, {"kind": "test"}, sample_arrays())
    assert (tmp_path / "one").read_bytes() == (tmp_path / "two").read_bytes()


def test_archive_repacked_with_compression_still_loads(tmp_path):
    arrays = sample_arrays()
    save_archive(tmp_path / "a.fw2v", {"kind": "test"}, arrays)
    with zipfile.ZipFile(tmp_path / "a.fw2v") as source, zipfile.ZipFile(
        tmp_path / "deflated.fw2v", "w", compression=zipfile.ZIP_DEFLATED
    ) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
    for mmap in (None, "r"):
        _, loaded = load_archive(tmp_path / "deflated.fw2v", mmap=mmap)
        np.testing.assert_array_equal(loaded["vectors"], arrays["vectors"])


def test_save_archive_validates_its_arguments(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        save_archive(tmp_path / "a", {"format": "mine"}, {})
    with pytest.raises(ValueError, match="invalid array name"):
        save_archive(tmp_path / "a", {}, {"a/b": np.arange(2)})
    assert not (tmp_path / "a").exists()


def test_load_archive_rejects_bad_mmap_mode(tmp_path):
    save_archive(tmp_path / "a", {}, {})
    with pytest.raises(ValueError, match="mmap"):
        load_archive(tmp_path / "a", mmap="w+")


def test_load_archive_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_archive(tmp_path / "absent")


def write_zip(path: pathlib.Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    import io as std_io

    buffer = std_io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


METADATA = json.dumps({"format": "fastw2v", "format_version": 1}).encode()


class LeavesATrace:
    """Unpickling this object creates the file named in it: evidence that code ran."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


@pytest.mark.parametrize("mmap", [None, "r"])
def test_pickled_object_array_is_rejected_without_running_code(tmp_path, mmap):
    marker = tmp_path / "code-ran"
    payload = np.array([LeavesATrace(str(marker)), 1], dtype=object)
    write_zip(tmp_path / "evil.fw2v", {"metadata.json": METADATA,
                                       "vectors.npy": npy_bytes(payload, allow_pickle=True)})
    # The payload is live: numpy would run it if allowed to unpickle.
    with zipfile.ZipFile(tmp_path / "evil.fw2v") as archive, archive.open("vectors.npy") as f:
        np.load(f, allow_pickle=True)
    assert marker.exists()
    marker.unlink()

    with pytest.raises(ValueError, match="evil.fw2v.*pickled"):
        load_archive(tmp_path / "evil.fw2v", mmap=mmap)
    assert not marker.exists()


def test_raw_pickle_file_is_rejected_without_running_code(tmp_path):
    marker = tmp_path / "code-ran"
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(LeavesATrace(str(marker))))
    with pytest.raises(ValueError, match="model.pkl"):
        load_archive(tmp_path / "model.pkl")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("kind", "loader"),
    [("Word2Vec", "Word2Vec"), ("KeyedVectors", "KeyedVectors"), (None, "Word2Vec")],
)
def test_a_pickle_is_named_as_gensim_s_with_the_loader_to_use(tmp_path, kind, loader):
    (tmp_path / "model.pkl").write_bytes(pickle.dumps({"vectors": [1.0]}, protocol=4))
    expected = rf"model.pkl: .*saved by gensim.*{loader}.load_gensim\(\)"
    with pytest.raises(ValueError, match=expected):
        load_archive(tmp_path / "model.pkl", kind=kind)


def test_a_compressed_pickle_is_named_as_gensim_s(tmp_path):
    import gzip

    with gzip.open(tmp_path / "model.pkl.gz", "wb") as out:
        pickle.dump({"vectors": [1.0]}, out, protocol=2)
    with pytest.raises(ValueError, match="saved by gensim"):
        load_archive(tmp_path / "model.pkl.gz")


def word2vec_file(path: pathlib.Path, binary: bool) -> None:
    from fastw2v import KeyedVectors

    kv = KeyedVectors(4)
    kv.add_vectors(["alpha", "beta", "gamma"], np.arange(12, dtype=np.float32).reshape(3, 4))
    kv.save_word2vec_format(path, binary=binary)


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_a_word2vec_vectors_file_is_named_with_the_reader_to_use(tmp_path, binary, suffix):
    path = tmp_path / f"vectors{suffix}"
    word2vec_file(path, binary)
    form = "binary" if binary else "text"
    with pytest.raises(ValueError, match=(
            rf"vectors{suffix}: not a fastw2v archive: a word2vec {form} vectors file \(3 "
            rf"vectors of 4\): read it with KeyedVectors.load_word2vec_format\(.*"
            rf"binary={binary}\)")):
        load_archive(path)


@pytest.mark.parametrize(
    "content", [b"hello world\n", b"3 4\n", b"9" * 5000 + b" 4\n", b"\x1f\x8bnot gzip"]
)
def test_other_files_are_not_named_as_a_known_format(tmp_path, content):
    (tmp_path / "notes.txt").write_bytes(content)
    with pytest.raises(ValueError, match=r"notes.txt: not a valid fastw2v archive \(BadZipFile"):
        load_archive(tmp_path / "notes.txt")


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"v.npy": npy_bytes(np.arange(3))}, "no metadata.json"),
        ({"metadata.json": b"{not json"}, "not valid JSON"),
        ({"metadata.json": b"[" * 100_000}, "not valid JSON"),
        ({"metadata.json": json.dumps({"format": "other"}).encode()}, "format marker"),
        ({"metadata.json": json.dumps({"format": "fastw2v", "format_version": 99}).encode()},
         "newer fastw2v"),
        ({"metadata.json": json.dumps({"format": "fastw2v", "format_version": "1"}).encode()},
         "format_version"),
        ({"metadata.json": METADATA, "notes.txt": b"hello"}, "unexpected member"),
        ({"metadata.json": METADATA, "v.npy": b"\x93NUMPY garbage"}, "unsupported .npy version"),
        ({"metadata.json": METADATA,
          "v.npy": npy_bytes(np.arange(3)).replace(b"'descr'", b"'descX'")}, "invalid .npy header"),
        ({"metadata.json": METADATA, "v.npy": npy_bytes(np.arange(10))[:-8]}, "truncated"),
        ({"metadata.json": METADATA, "v.npy": npy_bytes(np.arange(10)) + b"extra"},
         "corrupted"),
    ],
)
@pytest.mark.parametrize("mmap", [None, "r"])
def test_foreign_or_damaged_archives_raise_value_error(tmp_path, members, message, mmap):
    write_zip(tmp_path / "bad.fw2v", members)
    with pytest.raises(ValueError, match=f"bad.fw2v.*{message}"):
        load_archive(tmp_path / "bad.fw2v", mmap=mmap)


def test_npz_file_is_not_an_archive(tmp_path):
    np.savez(tmp_path / "arrays.npz", a=np.arange(3))
    with pytest.raises(ValueError, match="no metadata.json"):
        load_archive(tmp_path / "arrays.npz")


@pytest.mark.parametrize("mmap", [None, "r"])
def test_truncated_archives_raise_value_error(tmp_path, mmap):
    save_archive(tmp_path / "a.fw2v", {"kind": "test"}, sample_arrays())
    data = (tmp_path / "a.fw2v").read_bytes()
    for cut in range(0, len(data), 97):
        (tmp_path / "cut.fw2v").write_bytes(data[:cut])
        with pytest.raises(ValueError, match="cut.fw2v"):
            load_archive(tmp_path / "cut.fw2v", mmap=mmap)


def test_corrupted_array_data_fails_the_checksum(tmp_path):
    save_archive(tmp_path / "a.fw2v", {"kind": "test"}, {"v": np.zeros(1000)})
    data = bytearray((tmp_path / "a.fw2v").read_bytes())
    data[data.index(b"\x93NUMPY") + 500] ^= 0xFF
    (tmp_path / "a.fw2v").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="a.fw2v"):
        load_archive(tmp_path / "a.fw2v")


def assert_loads_or_value_error(path: pathlib.Path, mmap: str | None) -> None:
    try:
        metadata, arrays = load_archive(path, mmap=mmap)
    except ValueError as error:
        assert os.fspath(path) in str(error)
    else:
        assert metadata["format"] == "fastw2v"
        assert all(not array.dtype.hasobject for array in arrays.values())


@FUZZ
@given(data=st.binary(max_size=2000), mmap=st.sampled_from([None, "r"]))
def test_fuzz_random_bytes_never_crash_load_archive(tmp_path, data, mmap):
    path = tmp_path / "fuzz.fw2v"
    path.write_bytes(data)
    assert_loads_or_value_error(path, mmap)


def mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    mutated = bytearray(data)
    for position, value in edits:
        mutated[position % len(mutated)] = value
    return bytes(mutated[:cut] if cut is not None else mutated)


@FUZZ
@given(
    edits=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=6),
    cut=st.none() | st.integers(0, 4000),
    mmap=st.sampled_from([None, "r"]),
)
def test_fuzz_mutated_archives_never_crash_load_archive(tmp_path, edits, cut, mmap):
    valid = tmp_path / "valid.fw2v"
    if not valid.exists():
        save_archive(valid, {"kind": "test", "words": ["a", "b"]}, sample_arrays())
    path = tmp_path / "fuzz.fw2v"
    path.write_bytes(mutate(valid.read_bytes(), edits, cut))
    assert_loads_or_value_error(path, mmap)


# --------------------------------------------------------------------------------------------
# Hostile archives: overlapping members, sizes the metadata does not declare, bombs

LOCAL_HEADER = struct.Struct("<4s5H3L2H")
CENTRAL_ENTRY = struct.Struct("<4s6H3L5H2L")
END_RECORD = struct.Struct("<4s4H2LH")


def local_header(name: str, method: int, crc: int, compressed: int, size: int) -> bytes:
    encoded = name.encode()
    return LOCAL_HEADER.pack(b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, compressed, size,
                             len(encoded), 0) + encoded


class CraftedZip:
    """A zip written by hand, so that members may overlap or lie about their sizes."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.entries: list[tuple[str, int, int, int, int, int]] = []

    def add(self, name: str, content: bytes, deflate: bool = False, at: int | None = None,
            size_lie: int = 0) -> int:
        """Write a member (at the end, or over bytes already there); return its offset."""
        payload = zlib.compress(content, 9)[2:-4] if deflate else content
        crc = zlib.crc32(content)
        method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
        compressed = len(payload) + (0 if deflate else size_lie)
        blob = local_header(name, method, crc, compressed, len(content) + size_lie) + payload
        offset = len(self.data) if at is None else at
        self.data[offset : offset + len(blob)] = blob
        self.entries.append((name, method, crc, compressed, len(content) + size_lie, offset))
        return offset

    def bytes(self) -> bytes:
        directory = b"".join(
            CENTRAL_ENTRY.pack(b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc, compressed, size,
                               len(name.encode()), 0, 0, 0, 0, 0, offset) + name.encode()
            for name, method, crc, compressed, size, offset in self.entries
        )
        end = END_RECORD.pack(b"PK\x05\x06", 0, 0, len(self.entries), len(self.entries),
                              len(directory), len(self.data), 0)
        return bytes(self.data) + directory + end


def metadata_json(declared: dict[str, int] | None = None, **extra) -> bytes:
    document = {"format": "fastw2v", "format_version": 1, "kind": "test", **extra}
    if declared is not None:
        document["array_bytes"] = declared
    return json.dumps(document).encode()


def nested_members(count: int) -> bytes:
    """Members each stored inside the previous one's data, so their bytes are read again and
    again: the overlapping-files construction of zip bombs, with stored members."""
    contents = []
    blob = b""
    for number in reversed(range(count)):
        content = npy_bytes(np.frombuffer(b"x" * 1000 + blob, dtype=np.uint8))
        blob = local_header(f"a{number}.npy", 0, zlib.crc32(content), len(content),
                            len(content)) + content
        contents.append(content)
    contents.reverse()
    crafted = CraftedZip()
    crafted.data += blob
    offset = 0
    for number, content in enumerate(contents):
        name = f"a{number}.npy"
        crafted.entries.append((name, 0, zlib.crc32(content), len(content), len(content), offset))
        # The next member's local header starts where this member's own bytes end.
        nested = LOCAL_HEADER.size + len(f"a{number + 1}.npy") + len(contents[number + 1]) \
            if number + 1 < count else 0
        offset += LOCAL_HEADER.size + len(name) + len(content) - nested
    crafted.add("metadata.json", metadata_json())
    return crafted.bytes()


def test_overlapping_members_are_refused(tmp_path):
    path = tmp_path / "nested.fw2v"
    path.write_bytes(nested_members(8))
    # zipfile itself reads every member, each holding all the ones after it.
    with zipfile.ZipFile(path) as crafted:
        total = sum(len(crafted.read(name)) for name in crafted.namelist())
    assert total > 3 * path.stat().st_size
    for mmap in (None, "r"):
        with pytest.raises(ValueError, match="nested.fw2v: members .* overlap"):
            load_archive(path, mmap=mmap)


def test_members_metadata_json_does_not_declare_are_refused_unread(tmp_path, monkeypatch):
    save_archive(tmp_path / "a.fw2v", {"kind": "test"}, {"v": np.arange(3)})
    with zipfile.ZipFile(tmp_path / "a.fw2v") as source, zipfile.ZipFile(
        tmp_path / "extra.fw2v", "w", compression=zipfile.ZIP_DEFLATED
    ) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
        target.writestr("junk.npy", npy_bytes(np.zeros(1 << 20, np.uint8)))
    opened = []
    real_open = zipfile.ZipFile.open

    def recording_open(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", recording_open)
    with pytest.raises(ValueError, match="extra.fw2v: unexpected member 'junk.npy'"):
        load_archive(tmp_path / "extra.fw2v")
    assert "junk.npy" not in opened


@pytest.mark.parametrize("lie", [-8, 8, 1 << 20])
def test_a_member_of_another_size_than_declared_is_refused(tmp_path, lie):
    content = npy_bytes(np.zeros(5000, np.uint8))
    crafted = CraftedZip()
    crafted.add("v.npy", content, deflate=True)
    crafted.add("metadata.json", metadata_json({"v": len(content) + lie}))
    (tmp_path / "lying.fw2v").write_bytes(crafted.bytes())
    with pytest.raises(ValueError, match="lying.fw2v: member 'v.npy' holds .* declares"):
        load_archive(tmp_path / "lying.fw2v")


def test_a_declared_member_that_is_missing_is_refused(tmp_path):
    crafted = CraftedZip()
    crafted.add("metadata.json", metadata_json({"v": 128}))
    (tmp_path / "missing.fw2v").write_bytes(crafted.bytes())
    with pytest.raises(ValueError, match="missing.fw2v: member 'v.npy' is missing"):
        load_archive(tmp_path / "missing.fw2v")


def test_a_deflated_metadata_json_cannot_cost_more_than_the_archive_holds(tmp_path):
    # 12 MB of JSON that deflates to 12 KB and would cost a few hundred MB of Python objects.
    crafted = CraftedZip()
    crafted.add("metadata.json", metadata_json(pad=[[]] * 3_000_000), deflate=True)
    path = tmp_path / "bomb.fw2v"
    path.write_bytes(crafted.bytes())
    assert path.stat().st_size < 20_000
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="bomb.fw2v: metadata.json would decompress"):
            load_archive(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20


def test_kind_is_checked_before_any_array_is_read(tmp_path, monkeypatch):
    save_archive(tmp_path / "a.fw2v", {"kind": "Word2Vec"}, {"v": np.arange(3)})
    read = []
    monkeypatch.setattr(archive, "_read_member", lambda *args: read.append(args))
    monkeypatch.setattr(archive, "_map_member", lambda *args: read.append(args))
    for mmap in (None, "r"):
        with pytest.raises(ValueError, match="a.fw2v: holds 'Word2Vec', not 'KeyedVectors'"):
            load_archive(tmp_path / "a.fw2v", mmap=mmap, kind="KeyedVectors")
    assert read == []


def test_only_the_arrays_the_caller_uses_are_read(tmp_path):
    save_archive(tmp_path / "a.fw2v", {"kind": "test"}, {"v": np.arange(3), "w": np.arange(2)})
    _, loaded = load_archive(tmp_path / "a.fw2v", arrays={"v", "w"})
    assert sorted(loaded) == ["v", "w"]
    _, loaded = load_archive(tmp_path / "a.fw2v", arrays=lambda name: name in ("v", "w"))
    assert sorted(loaded) == ["v", "w"]
    with pytest.raises(ValueError, match="a.fw2v: unexpected member 'w.npy'"):
        load_archive(tmp_path / "a.fw2v", arrays={"v"})


@pytest.mark.parametrize("mmap", ["r", "c"])
def test_mmap_maps_the_file_that_was_validated_even_if_the_path_is_replaced(
    tmp_path, monkeypatch, mmap
):
    path = tmp_path / "model.fw2v"
    save_archive(path, {"kind": "first", "words": ["a", "b"]}, {"v": np.zeros(4096, np.float32)})
    save_archive(tmp_path / "next.fw2v", {"kind": "next", "words": ["c", "d"]},
                 {"v": np.ones(4096, np.float32)})
    real_read_metadata = archive._read_metadata

    def read_then_replace(*args):
        metadata = real_read_metadata(*args)
        # Another process saves atomically over the file while this one is loading it.
        os.replace(tmp_path / "next.fw2v", path)
        return metadata

    monkeypatch.setattr(archive, "_read_metadata", read_then_replace)
    metadata, arrays = load_archive(path, mmap=mmap)
    assert metadata["words"] == ["a", "b"]
    assert isinstance(arrays["v"], np.memmap) and not arrays["v"].any()


@st.composite
def crafted_archives(draw) -> tuple[bytes, bool, bool, int]:
    """An archive of stored and deflated members, some written over the data of the one
    before, some lying about their size. Returns it, whether it is an honest archive, whether
    members overlap, and how many bytes its members really hold."""
    crafted = CraftedZip()
    declared: dict[str, int] = {}
    lying, misdeclared, overlapping, real_bytes = False, False, False, 0
    for number in range(draw(st.integers(0, 4))):
        content = npy_bytes(np.zeros(draw(st.integers(0, 3000)), np.uint8))
        lie = draw(st.sampled_from([0, 0, 0, -5, 7, 1 << 16]))
        at = None
        if crafted.entries and draw(st.integers(0, 3)) == 0:
            previous = crafted.entries[-1]
            at = previous[5] + LOCAL_HEADER.size + len(previous[0]) + previous[3] // 2
            overlapping, lie = True, 0
        crafted.add(f"m{number}.npy", content, deflate=draw(st.booleans()), at=at,
                    size_lie=lie)
        wrong_by = draw(st.sampled_from([0, 0, 0, 1, 1 << 20]))
        declared[f"m{number}"] = len(content) + wrong_by
        lying = lying or lie != 0
        misdeclared = misdeclared or wrong_by != 0
        real_bytes += len(content)
    declare = draw(st.booleans())
    metadata = metadata_json(declared if declare else None)
    crafted.add("metadata.json", metadata, deflate=draw(st.booleans()))
    honest = not overlapping and not lying and not (declare and misdeclared)
    return crafted.bytes(), honest, overlapping, real_bytes + len(metadata)


@FUZZ
@given(crafted=crafted_archives(), mmap=st.sampled_from([None, "r"]))
def test_fuzz_overlapping_or_oversized_members_never_cost_more_than_declared(
    tmp_path, monkeypatch, crafted, mmap
):
    data, honest, overlapping, real_bytes = crafted
    path = tmp_path / "crafted.fw2v"
    path.write_bytes(data)
    decompressed = [0]
    real_read = zipfile.ZipExtFile.read

    def counting_read(self, size=-1):
        chunk = real_read(self, size)
        decompressed[0] += len(chunk)
        return chunk

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    try:
        load_archive(path, mmap=mmap)
    except ValueError as error:
        assert "crafted.fw2v" in str(error)
        assert not honest, error
        if overlapping:
            assert "overlap" in str(error)
    else:
        assert not overlapping
    # No byte is decompressed twice, nor beyond what the members really hold.
    assert decompressed[0] <= real_bytes


def test_a_fifo_is_reported_for_what_it_is_and_never_waited_on(tmp_path):
    fifo = tmp_path / "model.fw2v"
    os.mkfifo(fifo)
    # A reader and a writer at the other end, so that even a plain open() would not block.
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    try:
        with pytest.raises(ValueError, match="model.fw2v: is a FIFO"):
            load_archive(fifo)
    finally:
        os.close(writer)
        os.close(reader)
