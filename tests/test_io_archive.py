"""Tests for fastw2v._io.archive: the model archive, a zip of metadata.json and .npy arrays."""

from __future__ import annotations

import json
import os
import pathlib
import pickle
import zipfile

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
    assert metadata == {"format": "fastw2v", "format_version": 1, "kind": "test"}


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
