"""Tests for fastw2v.io: atomic writes, the archive format and the word2vec formats."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import pathlib
import pickle
import signal
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastw2v import io
from fastw2v.io import atomic_write, load_archive, read_word2vec_format, save_archive

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


def leftovers(directory: pathlib.Path, keep: set[str]) -> list[str]:
    return sorted(name for name in os.listdir(directory) if name not in keep)


# --------------------------------------------------------------------------------------------
# atomic_write


def test_atomic_write_replaces_the_file(tmp_path):
    target = tmp_path / "file.bin"
    target.write_bytes(b"old")
    with atomic_write(target) as handle:
        handle.write(b"new contents")
        assert target.read_bytes() == b"old"  # nothing visible before the block ends
    assert target.read_bytes() == b"new contents"
    assert leftovers(tmp_path, {"file.bin"}) == []


def test_atomic_write_text_mode_is_utf8(tmp_path):
    target = tmp_path / "file.txt"
    with atomic_write(target, "w") as handle:
        handle.write("naïve 日本")
    assert target.read_bytes().decode("utf-8") == "naïve 日本"


def test_atomic_write_rejects_other_modes(tmp_path):
    with pytest.raises(ValueError, match="mode"), atomic_write(tmp_path / "x", "ab"):
        pass


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_atomic_write_failure_keeps_old_file_and_leaves_no_temp(tmp_path, error):
    target = tmp_path / "file.bin"
    target.write_bytes(b"precious")
    with pytest.raises(type(error)), atomic_write(target) as handle:
        handle.write(b"x" * 100_000)
        raise error
    assert target.read_bytes() == b"precious"
    assert leftovers(tmp_path, {"file.bin"}) == []


def test_atomic_write_failure_without_previous_file_creates_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic_write(tmp_path / "new.bin") as handle:
        handle.write(b"partial")
        raise RuntimeError
    assert os.listdir(tmp_path) == []


def test_save_archive_interrupted_by_serialisation_error_keeps_old_archive(tmp_path):
    target = tmp_path / "model.fw2v"
    save_archive(target, {"kind": "first"}, {"a": np.arange(3)})
    before = target.read_bytes()
    with pytest.raises(ValueError, match="Python objects"):
        save_archive(target, {"kind": "second"}, {"a": np.array([object()])})
    with pytest.raises(TypeError):
        save_archive(target, {"kind": "second", "bad": {1, 2}}, {"a": np.arange(3)})
    assert target.read_bytes() == before
    assert leftovers(tmp_path, {"model.fw2v"}) == []


def test_atomic_write_keeps_permissions_of_the_replaced_file(tmp_path):
    target = tmp_path / "private"
    target.write_bytes(b"old")
    os.chmod(target, 0o600)
    with atomic_write(target) as handle:
        handle.write(b"new")
    assert os.stat(target).st_mode & 0o777 == 0o600


def anonymous_temp_files_supported(directory: pathlib.Path) -> bool:
    if not hasattr(os, "O_TMPFILE") or not os.path.isdir("/proc/self/fd"):
        return False
    try:
        os.close(os.open(directory, os.O_TMPFILE | os.O_WRONLY, 0o600))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_save_killed_midway_keeps_previous_archive(tmp_path):
    target = tmp_path / "model.fw2v"
    save_archive(target, {"kind": "previous"}, {"vectors": np.ones((10, 4), dtype=np.float32)})
    before = target.read_bytes()
    # The child's array writer is replaced by one that writes 8 MB, reports and hangs, so the
    # kill lands in the middle of the save.
    child_code = textwrap.dedent(
        f"""
        import time
        import numpy as np
        from fastw2v import io

        def write_then_hang(stream, array, **kwargs):
            stream.write(b"x" * (8 << 20))
            stream.flush()
            print("writing", flush=True)
            time.sleep(60)

        io.np.lib.format.write_array = write_then_hang
        io.save_archive({str(target)!r}, {{"kind": "next"}}, {{"vectors": np.zeros((1000, 1000))}})
        """
    )
    # The child imports the same fastw2v as this process (the installed one), not the sources.
    package_parent = pathlib.Path(io.__file__).resolve().parents[1]
    env = dict(os.environ,
               PYTHONPATH=str(package_parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    child = subprocess.Popen(
        [sys.executable, "-c", child_code], stdout=subprocess.PIPE, env=env, cwd=tmp_path
    )
    try:
        assert child.stdout.readline() == b"writing\n"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        child.kill()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert target.read_bytes() == before
    assert load_archive(target)[0]["kind"] == "previous"
    remaining = leftovers(tmp_path, {"model.fw2v"})
    if anonymous_temp_files_supported(tmp_path):
        assert remaining == []
    else:
        assert all(name.startswith(".model.fw2v.") and name.endswith(".tmp") for name in remaining)


# --------------------------------------------------------------------------------------------
# Archives


def test_archive_round_trip(tmp_path):
    arrays = sample_arrays()
    metadata = {"kind": "test", "words": ["a", "ß", "日本", "\udcff"], "n": np.int64(4), "x": None}
    save_archive(tmp_path / "a.fw2v", metadata, arrays)
    loaded_metadata, loaded = load_archive(tmp_path / "a.fw2v")
    assert loaded_metadata == {
        "format": "fastw2v", "format_version": io.FORMAT_VERSION,
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
    monkeypatch.setattr(io, "_ZIP64_THRESHOLD", 0)
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


# --------------------------------------------------------------------------------------------
# word2vec formats

WORDS = ["the", "naïve", "日本", "x"]


def sample_vectors() -> np.ndarray:
    return np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("suffix", ["", ".gz", ".bz2", ".xz", ".lzma"])
def test_word2vec_round_trip(tmp_path, binary, suffix):
    vectors = sample_vectors()
    path = tmp_path / f"vectors.bin{suffix}"
    io.write_word2vec_format(path, WORDS, vectors, counts=[9, 7, 5, 1],
                             fvocab=tmp_path / "vocab.txt", binary=binary)
    keys, loaded, counts = read_word2vec_format(path, binary=binary, fvocab=tmp_path / "vocab.txt")
    assert keys == WORDS
    np.testing.assert_array_equal(loaded, vectors)
    assert counts.tolist() == [9, 7, 5, 1]
    assert (tmp_path / "vocab.txt").read_text("utf-8") == "the 9\nnaïve 7\n日本 5\nx 1\n"
    opener = {"": open, ".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open,
              ".lzma": lzma.open}[suffix]
    with opener(path, "rb") as handle:
        assert handle.readline() == b"4 3\n"


@pytest.mark.parametrize(
    ("name", "compress"),
    [
        ("words.txt", bytes),
        ("words.txt.gz", gzip.compress),
        ("words.txt.BZ2", bz2.compress),
        ("words.txt.xz", lzma.compress),
        ("words.txt.lzma", lambda data: lzma.compress(data, format=lzma.FORMAT_ALONE)),
        ("words.txt.lzma", lzma.compress),
    ],
)
def test_open_for_reading_decompresses_by_extension(tmp_path, name, compress):
    path = tmp_path / name
    path.write_bytes(compress(b"hello\nworld\n"))
    assert io.is_compressed(path) is (name != "words.txt")
    assert io.is_compressed(str(path)) is (name != "words.txt")
    with io.open_for_reading(path) as handle:
        assert handle.read() == b"hello\nworld\n"


def test_is_compressed_looks_only_at_the_last_extension():
    assert not io.is_compressed("archive.gz.txt")
    assert not io.is_compressed("gz")
    assert not io.is_compressed(pathlib.Path("folder.xz") / "corpus.txt")
    assert io.is_compressed(pathlib.Path("no-such-folder") / "corpus.LZMA")


def test_lzma_files_are_written_in_the_legacy_lzma_format(tmp_path):
    path = tmp_path / "vectors.txt.lzma"
    io.write_word2vec_format(path, ["a"], np.ones((1, 2), dtype=np.float32))
    assert lzma.decompress(path.read_bytes(), format=lzma.FORMAT_ALONE) == b"1 2\na 1.0 1.0\n"


def test_word2vec_text_layout_is_exact(tmp_path):
    vectors = np.array([[0.1, -2.5, 1e-05], [3.0, 0.0, 123456.79]], dtype=np.float32)
    io.write_word2vec_format(tmp_path / "v.txt", ["a", "b"], vectors)
    assert (tmp_path / "v.txt").read_bytes() == b"2 3\na 0.1 -2.5 1e-05\nb 3.0 0.0 123456.79\n"


def test_word2vec_binary_layout_matches_the_c_tool(tmp_path):
    vectors = sample_vectors()[:2]
    io.write_word2vec_format(tmp_path / "v.bin", ["a", "b"], vectors, binary=True)
    expected = (b"2 3\n" + b"a " + vectors[0].astype("<f4").tobytes() + b"\n"
                + b"b " + vectors[1].astype("<f4").tobytes() + b"\n")
    assert (tmp_path / "v.bin").read_bytes() == expected


def test_reads_files_as_other_tools_write_them(tmp_path):
    vectors = sample_vectors()[:2]
    # The C tool's text output: "%lf " values, so a trailing space on every line.
    (tmp_path / "c.txt").write_bytes(b"2 3\n" + b"".join(
        word + b" " + b"".join(b"%lf " % value for value in row) + b"\n"
        for word, row in zip([b"a", b"b"], vectors.astype(np.float64))
    ))
    keys, loaded, _ = read_word2vec_format(tmp_path / "c.txt")
    assert keys == ["a", "b"]
    np.testing.assert_allclose(loaded, vectors, atol=1e-6)
    # Binary without the newline after each vector, CRLF text, and no header (GloVe).
    (tmp_path / "nonl.bin").write_bytes(
        b"2 3\na " + vectors[0].tobytes() + b"b " + vectors[1].tobytes())
    np.testing.assert_array_equal(
        read_word2vec_format(tmp_path / "nonl.bin", binary=True)[1], vectors)
    (tmp_path / "crlf.txt").write_bytes(b"2 2\r\na 1 2\r\nb 3 4\r\n")
    assert read_word2vec_format(tmp_path / "crlf.txt")[1].tolist() == [[1, 2], [3, 4]]
    (tmp_path / "glove.txt").write_bytes(b"a 1 2\nb 3 4\n\n")
    keys, loaded, counts = read_word2vec_format(tmp_path / "glove.txt", no_header=True)
    assert keys == ["a", "b"] and loaded.tolist() == [[1, 2], [3, 4]] and counts.tolist() == [2, 1]


@pytest.mark.parametrize("binary", [False, True])
def test_limit_reads_only_the_first_vectors(tmp_path, binary):
    io.write_word2vec_format(tmp_path / "v", WORDS, sample_vectors(), binary=binary)
    keys, vectors, counts = read_word2vec_format(tmp_path / "v", binary=binary, limit=2)
    assert keys == WORDS[:2] and vectors.shape == (2, 3) and counts.tolist() == [2, 1]
    # Whatever follows the limit is not even looked at.
    with open(tmp_path / "v", "ab") as handle:
        handle.write(b"\xff garbage")
    assert read_word2vec_format(tmp_path / "v", binary=binary, limit=3)[0] == WORDS[:3]
    with pytest.raises(ValueError, match="holds more"):
        read_word2vec_format(tmp_path / "v", binary=binary, limit=4)


def test_datatype_and_repeated_words(tmp_path):
    (tmp_path / "v.txt").write_bytes(b"3 2\na 1 2\nb 3 4\na 5 6\n")
    keys, vectors, counts = read_word2vec_format(tmp_path / "v.txt", datatype=np.float64)
    assert keys == ["a", "b"] and vectors.dtype == np.float64
    assert vectors.tolist() == [[1, 2], [3, 4]] and counts.tolist() == [3, 2]


def test_unicode_errors_ignore_accepts_truncated_words(tmp_path):
    (tmp_path / "v.bin").write_bytes(b"1 1\ncaf\xc3 " + np.float32(1).tobytes())
    with pytest.raises(ValueError, match="line 2.*decode"):
        read_word2vec_format(tmp_path / "v.bin", binary=True)
    assert read_word2vec_format(
        tmp_path / "v.bin", binary=True, unicode_errors="ignore")[0] == ["caf"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "line 1: expected a header"),
        (b"hello world\n", "line 1: expected a header"),
        (b"3\n", "line 1: expected a header"),
        (b"-1 3\n", "line 1: expected a header"),
        (b"3 2\na 1 2\nb 3 4\n", "line 4: unexpected end of file.*declares 3 vectors.*holds 2"),
        (b"2 2\na 1 2\nb 3 4\nc 5 6\n",
         "line 4: the header declares 2 vectors but the file holds more"),
        (b"2 2\na 1 2\nb 3\n", "line 3: vector for 'b' has 1 values, expected 2"),
        (b"2 2\na 1 2\nb 3 4 5\n", "line 3: vector for 'b' has 3 values, expected 2"),
        (b"2 2\na 1 2\nb 3 x\n", "line 3: non-numeric value in the vector for 'b'"),
        (b"2 2\na 1 2\n\xff\xfe 3 4\n", "line 3: cannot decode"),
    ],
)
def test_malformed_text_files_name_the_line(tmp_path, content, message):
    (tmp_path / "bad.txt").write_bytes(content)
    with pytest.raises(ValueError, match=f"bad.txt: {message}"):
        read_word2vec_format(tmp_path / "bad.txt")


def test_malformed_binary_files_name_the_line(tmp_path):
    one = np.ones(2, dtype=np.float32).tobytes()
    cases = {
        b"2 2\na " + one + b"\nb " + one[:5]: "line 3 .*unexpected end of file",
        b"2 2\na " + one + b"\nb" + one: "line 3 .*unexpected end of file",
        b"1 2\na " + one + b"\nextra": "line 3 .*holds more data",
        b"1 2\n\xff " + one: "line 2 .*cannot decode",
    }
    for content, message in cases.items():
        (tmp_path / "bad.bin").write_bytes(content)
        with pytest.raises(ValueError, match=f"bad.bin: {message}"):
            read_word2vec_format(tmp_path / "bad.bin", binary=True)


def test_damaged_compressed_file_raises_value_error(tmp_path):
    io.write_word2vec_format(tmp_path / "v.txt.gz", WORDS, sample_vectors())
    data = (tmp_path / "v.txt.gz").read_bytes()
    (tmp_path / "cut.txt.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.txt.gz"):
        read_word2vec_format(tmp_path / "cut.txt.gz")


def test_huge_header_counts_do_not_allocate_up_front(tmp_path):
    (tmp_path / "v.txt").write_bytes(b"1000000000000 300\na " + b"1 " * 300 + b"\n")
    with pytest.raises(ValueError, match="line 3: unexpected end of file"):
        read_word2vec_format(tmp_path / "v.txt")
    (tmp_path / "v.bin").write_bytes(b"2 100000000000\na \x00\x00")
    with pytest.raises(ValueError, match="line 2 .*unexpected end of file"):
        read_word2vec_format(tmp_path / "v.bin", binary=True)


def test_vocabulary_file_errors_and_gaps(tmp_path):
    io.write_word2vec_format(tmp_path / "v.txt", ["a", "b"], np.eye(2, dtype=np.float32))
    (tmp_path / "vocab.txt").write_bytes(b"a 5\n\n")
    assert read_word2vec_format(
        tmp_path / "v.txt", fvocab=tmp_path / "vocab.txt")[2].tolist() == [5, 0]
    (tmp_path / "vocab.txt").write_bytes(b"a 5\nb five\n")
    with pytest.raises(ValueError, match="vocab.txt: line 2"):
        read_word2vec_format(tmp_path / "v.txt", fvocab=tmp_path / "vocab.txt")


def test_writer_refuses_what_the_format_cannot_hold(tmp_path):
    with pytest.raises(ValueError, match="space or newline"):
        io.write_word2vec_format(tmp_path / "v", ["a b"], np.zeros((1, 2)))
    with pytest.raises(ValueError, match="one row per key"):
        io.write_word2vec_format(tmp_path / "v", ["a", "b"], np.zeros((1, 2)))
    with pytest.raises(ValueError, match="needs counts"):
        io.write_word2vec_format(tmp_path / "v", ["a"], np.zeros((1, 2)), fvocab=tmp_path / "c")
    assert os.listdir(tmp_path) == []


def test_no_header_binary_is_refused(tmp_path):
    (tmp_path / "v").write_bytes(b"")
    with pytest.raises(ValueError, match="no_header"):
        read_word2vec_format(tmp_path / "v", binary=True, no_header=True)


def assert_reads_or_value_error(path: pathlib.Path, binary: bool) -> None:
    try:
        keys, vectors, counts = read_word2vec_format(path, binary=binary)
    except ValueError as error:
        assert os.fspath(path) in str(error)
    else:
        assert vectors.shape[0] == len(keys) == len(counts)


@FUZZ
@given(data=st.binary(max_size=600), binary=st.booleans(), header=st.booleans())
def test_fuzz_random_bytes_never_crash_the_word2vec_reader(tmp_path, data, binary, header):
    path = tmp_path / "fuzz.txt"
    # With a plausible header the fuzzer gets past line 1 and exercises the body parser.
    path.write_bytes((b"3 4\n" if header else b"") + data)
    assert_reads_or_value_error(path, binary)


@FUZZ
@given(
    binary=st.booleans(),
    edits=st.lists(st.tuples(st.integers(0, 1 << 16), st.sampled_from(
        [0, 9, 10, 13, 32, 45, 46, 48, 49, 101, 120, 0x80, 0xC3, 0xFF])), max_size=4),
    cut=st.none() | st.integers(0, 200),
)
def test_fuzz_mutated_files_never_crash_the_word2vec_reader(tmp_path, binary, edits, cut):
    valid = tmp_path / f"valid{binary}"
    if not valid.exists():
        io.write_word2vec_format(valid, WORDS, sample_vectors(), binary=binary)
    path = tmp_path / "fuzz"
    path.write_bytes(mutate(valid.read_bytes(), edits, cut))
    assert_reads_or_value_error(path, binary)
