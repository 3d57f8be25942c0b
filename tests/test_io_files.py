"""Tests for fastw2v._io.files: atomic writes and opening files that may be compressed."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import pathlib
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastw2v
from fastw2v._io import atomic_write, files, load_archive, save_archive


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
        from fastw2v._io import archive

        def write_then_hang(stream, array, **kwargs):
            stream.write(b"x" * (8 << 20))
            stream.flush()
            print("writing", flush=True)
            time.sleep(60)

        archive.np.lib.format.write_array = write_then_hang
        archive.save_archive(
            {str(target)!r}, {{"kind": "next"}}, {{"vectors": np.zeros((1000, 1000))}}
        )
        """
    )
    # The child imports the same fastw2v as this process (the installed one), not the sources.
    package_parent = pathlib.Path(fastw2v.__file__).resolve().parents[1]
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
# Compression by file name


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
    assert files.is_compressed(path) is (name != "words.txt")
    assert files.is_compressed(str(path)) is (name != "words.txt")
    with files.open_for_reading(path) as handle:
        assert handle.read() == b"hello\nworld\n"


def test_is_compressed_looks_only_at_the_last_extension():
    assert not files.is_compressed("archive.gz.txt")
    assert not files.is_compressed("gz")
    assert not files.is_compressed(pathlib.Path("folder.xz") / "corpus.txt")
    assert files.is_compressed(pathlib.Path("no-such-folder") / "corpus.LZMA")
