"""Tests for fastw2v._io.files: atomic writes and opening files that may be compressed."""

from __future__ import annotations

import bz2
import functools
import gzip
import io
import lzma
import os
import pathlib
import re
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastw2v
from fastw2v._io import atomic_write, files, load_archive, save_archive
from fastw2v.errors import TruncatedFileError

FUZZ_FILES = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


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


@pytest.mark.parametrize("mode", ["wb", "w"])
def test_atomic_write_starts_the_disk_writing_every_few_megabytes(tmp_path, monkeypatch, mode):
    requests = []
    # The module atomic_write runs in (a doctest run may have imported a second copy of it).
    module = atomic_write.__wrapped__.__globals__
    monkeypatch.setitem(module, "_WRITEBACK_BYTES", 4096)
    monkeypatch.setitem(module, "_start_writeback", requests.append)
    line = "0123456789" * 10 + "\n"
    with atomic_write(tmp_path / "big", mode) as handle:
        for _ in range(1000):  # 101,000 bytes, written through the 8 KiB buffer
            handle.write(line if mode == "w" else line.encode())
    assert (tmp_path / "big").read_text() == line * 1000
    # The buffer hands the OS 8 KiB at a time, each over the 4096 bytes of a request: about
    # one request per 8 KiB, all of them for the temporary file's fd.
    assert 101_000 // 8192 - 1 <= len(requests) <= 101_000 // 4096
    assert len(set(requests)) == 1


def test_writeback_request_is_harmless_on_a_real_file(tmp_path):
    path = tmp_path / "data"
    with open(path, "wb") as handle:
        handle.write(b"x" * 100_000)
        handle.flush()
        files._start_writeback(handle.fileno())
        handle.write(b"y")
    assert path.read_bytes() == b"x" * 100_000 + b"y"
    if sys.platform.startswith("linux"):
        assert files._sync_file_range  # bound from the C library


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


# --------------------------------------------------------------------------------------------
# What a save may replace: links are written through, non-regular and read-only files refused

def make_target(directory: pathlib.Path, kind: str, name: str = "target") -> pathlib.Path:
    """A destination of `kind` in `directory`; regular and read-only files hold b'old'."""
    path = directory / name
    if kind in ("regular", "read-only"):
        path.write_bytes(b"old")
        if kind == "read-only":
            path.chmod(0o444)
    elif kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "character device":
        # The device numbers of /dev/null, under another name: if the rule failed, only this
        # copy would be replaced, never the system's /dev/null.
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    elif kind == "socket":
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(os.fspath(path))
        listener.close()
    elif kind != "missing":
        raise ValueError(kind)
    return path


def can_make_devices() -> bool:
    try:
        with tempfile.TemporaryDirectory() as scratch:
            make_target(pathlib.Path(scratch), "character device")
    except (PermissionError, AttributeError):
        return False
    return True


REFUSED = {
    "directory": IsADirectoryError,
    "read-only": PermissionError,
    "fifo": OSError,
    "character device": OSError,
    "socket": OSError,
}
KINDS = ["missing", "regular", *REFUSED]


def snapshot(path: pathlib.Path) -> tuple:
    """What identifies a destination: its type, inode and, for a file, its bytes."""
    status = os.lstat(path)
    data = path.read_bytes() if stat.S_ISREG(status.st_mode) else None
    return stat.S_IFMT(status.st_mode), status.st_ino, stat.S_IMODE(status.st_mode), data


@functools.cache
def trained_objects() -> dict:
    from fastw2v import FrozenPhrases, KeyedVectors, Phrases, Word2Vec

    sentences = [["new", "york", "is", "big"], ["old", "york", "is", "small"]] * 20
    model = Word2Vec(sentences, vector_size=4, min_count=1, epochs=1, workers=1, seed=1)
    phrases = Phrases(sentences, min_count=1, threshold=0.1)
    return {"model": model, "kv": model.wv, "phrases": phrases, "frozen": phrases.freeze(),
            "classes": (KeyedVectors, Word2Vec, Phrases, FrozenPhrases)}


class CommandFailed(Exception):
    """The command returned a non-zero status; the message is its error line."""


def _cli_train(path: pathlib.Path, scratch: pathlib.Path) -> None:
    from fastw2v import cli

    corpus = scratch / "corpus.txt"
    if not corpus.exists():
        corpus.write_text("new york is big\nold york is small\n" * 20)
    code = cli.main(["train", str(corpus), f"--output={path}", "--size", "4", "--iter", "1",
                     "--threads", "1", "--min-count", "1", "--no-progress"])
    if code:
        raise CommandFailed(code)


def _writers(scratch: pathlib.Path) -> dict:
    objects = trained_objects()
    kv, model = objects["kv"], objects["model"]
    return {
        "KeyedVectors.save": kv.save,
        "save_word2vec_format text": kv.save_word2vec_format,
        "save_word2vec_format binary": lambda path: kv.save_word2vec_format(path, binary=True),
        "save_word2vec_format fvocab": lambda path: kv.save_word2vec_format(
            scratch / "vectors.txt", fvocab=path),
        "Word2Vec.save": model.save,
        "Phrases.save": objects["phrases"].save,
        "FrozenPhrases.save": objects["frozen"].save,
        "fastw2v train -o": lambda path: _cli_train(path, scratch),
    }


def holds_what_was_written(writer: str, path: pathlib.Path) -> bool:
    keyed_vectors, word2vec, phrases, frozen = trained_objects()["classes"]
    words = trained_objects()["kv"].index_to_key
    if writer == "KeyedVectors.save":
        return keyed_vectors.load(path).index_to_key == words
    if writer in ("save_word2vec_format text", "save_word2vec_format binary"):
        loaded = keyed_vectors.load_word2vec_format(path, binary=writer.endswith("binary"))
        return loaded.index_to_key == words
    if writer == "save_word2vec_format fvocab":
        with files.open_for_reading(path) as stream:
            return stream.read().decode().split()[::2] == words
    if writer == "Word2Vec.save":
        return word2vec.load(path).wv.index_to_key == words
    if writer == "Phrases.save":
        return phrases.load(path).vocab == trained_objects()["phrases"].vocab
    if writer == "FrozenPhrases.save":
        return frozen.load(path).phrasegrams == trained_objects()["frozen"].phrasegrams
    return set(keyed_vectors.load_word2vec_format(path).index_to_key) == set(words)


WRITER_NAMES = [
    "KeyedVectors.save", "save_word2vec_format text", "save_word2vec_format binary",
    "save_word2vec_format fvocab", "Word2Vec.save", "Phrases.save", "FrozenPhrases.save",
    "fastw2v train -o",
]


def save_with(writer: str, path: pathlib.Path, scratch: pathlib.Path,
              capsys: pytest.CaptureFixture[str]) -> None:
    """Save with `writer`; a failed command raises CommandFailed with its error line."""
    try:
        _writers(scratch)[writer](path)
    except CommandFailed:
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        # The output is checked before training starts.
        assert "vocabulary:" not in captured.out
        raise CommandFailed(captured.err) from None
    finally:
        capsys.readouterr()


@FUZZ_FILES
@given(
    writer=st.sampled_from(WRITER_NAMES),
    kind=st.sampled_from(KINDS),
    links=st.lists(st.booleans(), max_size=3),
    compressed=st.booleans(),
)
def test_fuzz_every_writer_writes_through_links_and_refuses_what_it_must_not_replace(
    tmp_path, capsys, writer, kind, links, compressed
):
    if kind == "character device" and not can_make_devices():
        return
    suffix = ".gz" if compressed and writer.startswith("save_word2vec_format") else ""
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    case = pathlib.Path(tempfile.mkdtemp(dir=tmp_path))
    (case / "far").mkdir()
    target = make_target(case / "far", kind, f"target{suffix}")
    # A chain of links, each absolute or relative; the user names the last one made.
    given_path, chain = target, []
    for number, relative in enumerate(links):
        link = case / f"link{number}{suffix}"
        link.symlink_to(os.path.relpath(given_path, case) if relative else given_path)
        given_path = link
        chain.append(link)
    links_before = {link: os.readlink(link) for link in chain}
    target_before = snapshot(target) if kind != "missing" else None

    if kind in REFUSED:
        expected = CommandFailed if writer == "fastw2v train -o" else REFUSED[kind]
        with pytest.raises(expected) as caught:
            save_with(writer, given_path, scratch, capsys)
        message = str(caught.value)
        assert os.fspath(given_path) in message and ".tmp" not in message
        if kind not in ("read-only", "directory"):
            assert "not a regular file" in message
        assert snapshot(target) == target_before
    else:
        save_with(writer, given_path, scratch, capsys)
        assert stat.S_ISREG(os.lstat(target).st_mode)
        assert holds_what_was_written(writer, given_path)
        assert holds_what_was_written(writer, target)
    # The links are untouched, and no temporary file was left anywhere.
    assert {link: os.readlink(link) for link in chain} == links_before
    assert os.listdir(case / "far") == [target.name]
    assert sorted(os.listdir(case)) == sorted(["far", *(link.name for link in chain)])


def test_saving_onto_a_link_replaces_the_file_it_leads_to_and_keeps_the_link(tmp_path):
    save_archive(tmp_path / "real.fw2v", {"kind": "old"}, {})
    (tmp_path / "link.fw2v").symlink_to("real.fw2v")
    save_archive(tmp_path / "link.fw2v", {"kind": "new"}, {})
    assert os.readlink(tmp_path / "link.fw2v") == "real.fw2v"
    assert load_archive(tmp_path / "real.fw2v")[0]["kind"] == "new"


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_what_is_not_a_writable_regular_file_is_refused_before_writing(tmp_path, kind):
    if kind == "character device" and not can_make_devices():
        pytest.skip("cannot create device nodes here")
    target = make_target(tmp_path, kind)
    before = snapshot(target)
    body_ran = False
    with pytest.raises(REFUSED[kind], match=re.escape(str(target))):
        with atomic_write(target) as handle:
            body_ran = True
            handle.write(b"new")
    assert not body_ran and snapshot(target) == before
    assert leftovers(tmp_path, {"target"}) == []


def test_a_read_only_file_is_refused_even_when_root_could_write_it(tmp_path):
    target = make_target(tmp_path, "read-only")
    with pytest.raises(PermissionError, match="read-only") as caught:
        files.check_writable(target)
    assert caught.value.filename == str(target)
    assert target.read_bytes() == b"old"


def test_errors_name_the_path_given_never_the_temporary_file(tmp_path):
    for path in (tmp_path / "no-such-folder" / "model.fw2v", tmp_path / "file" / "model.fw2v"):
        (tmp_path / "file").write_bytes(b"a file, not a folder")
        with pytest.raises(OSError) as caught:
            save_archive(path, {}, {})
        assert caught.value.filename == str(path) and caught.value.filename2 is None
        assert ".tmp" not in str(caught.value)


def test_failures_after_writing_name_the_path_given(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device", args[0] if args else None)

    monkeypatch.setattr(files.os, "fsync", fail)
    with pytest.raises(OSError, match="No space left") as caught:
        save_archive(tmp_path / "model.fw2v", {}, {})
    assert caught.value.filename == str(tmp_path / "model.fw2v")
    assert os.listdir(tmp_path) == []


def test_check_writable_probes_the_folder_and_leaves_nothing(tmp_path):
    files.check_writable(tmp_path / "new.txt")
    with pytest.raises(IsADirectoryError):
        files.check_writable(tmp_path)
    assert os.listdir(tmp_path) == []


FILE_NAME = st.text(
    st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1
).filter(lambda name: name not in (".", "..") and len(os.fsencode(name)) <= 255)


@pytest.mark.parametrize("name", [
    "é" * 127 + "x",  # 255 bytes: the longest name, in a multi-byte encoding
    "x" * 255,
    "-leading dash",
    "with\nnewline and spaces ",
    "日本語のモデル.fw2v",
])
def test_any_name_the_file_system_accepts_can_be_saved_to(tmp_path, name):
    save_archive(tmp_path / name, {"kind": "named"}, {"v": np.arange(3)})
    assert os.listdir(tmp_path) == [name]
    assert load_archive(tmp_path / name)[0]["kind"] == "named"
    (tmp_path / name).unlink()
    save_archive(os.fsencode(tmp_path / name), {"kind": "bytes"}, {})
    assert load_archive(tmp_path / name)[0]["kind"] == "bytes"


@FUZZ_FILES
@given(name=FILE_NAME, writer=st.sampled_from(WRITER_NAMES))
def test_fuzz_every_writer_saves_to_any_name(tmp_path, capsys, name, writer):
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    case = pathlib.Path(tempfile.mkdtemp(dir=tmp_path))
    save_with(writer, case / name, scratch, capsys)
    assert holds_what_was_written(writer, case / name)
    assert os.listdir(case) == [name]


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        ("cut.gz", gzip.compress(b"hello world\n" * 100)[:40], TruncatedFileError),
        ("cut.bz2", bz2.compress(b"hello world\n" * 100)[:40], TruncatedFileError),
        ("cut.xz", lzma.compress(b"hello world\n" * 100)[:40], TruncatedFileError),
        ("plain.gz", b"hello world\n", ValueError),
        ("plain.bz2", b"hello world\n", ValueError),
        ("plain.xz", b"hello world\n", ValueError),
        ("plain.lzma", b"hello world\n", ValueError),
    ],
    ids=["cut.gz", "cut.bz2", "cut.xz", "plain.gz", "plain.bz2", "plain.xz", "plain.lzma"],
)
def test_a_damaged_compressed_file_raises_value_error_naming_it(tmp_path, name, data, error):
    (tmp_path / name).write_bytes(data)
    for read in (lambda stream: stream.read(), lambda stream: list(stream),
                 lambda stream: io.TextIOWrapper(stream).read()):
        with files.open_for_reading(tmp_path / name) as stream, pytest.raises(error) as caught:
            read(stream)
        assert str(caught.value).startswith(f"{tmp_path / name}: ")


def test_a_decompressed_stream_reads_lines_and_tells_its_position(tmp_path):
    (tmp_path / "lines.gz").write_bytes(gzip.compress(b"one\ntwo\nthree"))
    with files.open_for_reading(tmp_path / "lines.gz") as stream:
        assert stream.name == str(tmp_path / "lines.gz")
        assert stream.readline() == b"one\n" and stream.tell() == 4
        assert list(stream) == [b"two\n", b"three"]
