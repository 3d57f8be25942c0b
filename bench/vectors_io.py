"""Pretrained vectors: load and save a large word2vec file, fastw2v against gensim.

The file (``--rows`` words of ``--dims`` float32 values, 1,000,000 x 300 by default: 1.2 GB binary,
about 3.4 GB text) is generated once into ``--dir`` (under /tmp by default; never shipped) and
kept for later runs. Each measurement runs in a fresh child process (this script again, with
``--child``), the programs alternating (A B A B ...) as BENCHMARK.md asks:

- load: ``KeyedVectors.load_word2vec_format(path, binary=...)``, timed from the call to its return;
- save: the binary file is loaded first (untimed), then ``save_word2vec_format(out, binary=...)``
  is timed, and the written file removed. fastw2v's save includes its ``fsync`` (an atomic
  write); gensim's does not sync.

Peak memory is the child's peak resident set size (``VmHWM``; for a save, reset just before it
via ``/proc/self/clear_refs``), reported as is and against the bytes of the matrix. Speed is the
median of the per-pair ratios gensim seconds / fastw2v seconds, in wall time (the protocol's) and
in CPU time (user + system, steadier on a shared machine; it leaves out waiting on the disk).

    python bench/vectors_io.py                                  # 1M x 300, 3 pairs, everything
    python bench/vectors_io.py --rows 300000 --formats binary   # smaller, binary only
    python bench/vectors_io.py --operations save --out-dir /dev/shm   # saves without the disk
    python bench/vectors_io.py --programs fastw2v,gensim,before --before-path /tmp/old-checkout
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

PROGRAMS = ("fastw2v", "gensim", "before")
FORMATS = ("binary", "text")
OPERATIONS = ("load", "save")
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def main() -> int:
    args = _parse_args()
    if args.child is not None:
        spec = json.loads(args.child)
        print(json.dumps(_child(spec)))
        return 0
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    out_directory = Path(args.out_dir or args.dir)
    out_directory.mkdir(parents=True, exist_ok=True)
    files = _generate(directory, args.rows, args.dims, args.formats)
    matrix_bytes = 4 * args.rows * args.dims
    sizes = ", ".join(f"{kind} file {files[kind].stat().st_size / 2**20:,.0f} MiB"
                      for kind in args.formats)
    print(f"{args.rows:,} x {args.dims} float32: matrix {matrix_bytes / 2**20:,.0f} MiB; {sizes}")
    print(f"{'operation':<12} {'pair':>4}  {'program':<8} {'seconds':>8}  {'CPU s':>8}  "
          f"{'peak RSS MiB':>12}  {'peak/matrix':>11}")
    runs = []
    for operation in args.operations:
        for kind in args.formats:
            # Both programs read the files from the page cache, the first run as the later ones.
            _read_through(files[kind])
            if operation == "save":
                _read_through(files["binary"])
            for pair in range(args.pairs):
                for program in args.programs:
                    spec = {
                        "program": program,
                        "operation": operation,
                        "format": kind,
                        "path": str(files["binary" if operation == "save" else kind]),
                        "out": str(out_directory / f"saved-by-{program}.{kind}"),
                        "before_path": args.before_path,
                        "rows": args.rows,
                        "dims": args.dims,
                    }
                    result = _spawn(spec)
                    result.update(pair=pair, matrix_mb=matrix_bytes / 2**20)
                    runs.append(result)
                    print(f"{operation + ' ' + kind:<12} {pair + 1:>4}  {program:<8} "
                          f"{result['seconds']:>8.2f}  {result['cpu_seconds']:>8.2f}  "
                          f"{result['peak_rss_mb']:>12,.0f}  "
                          f"{result['peak_rss_mb'] / result['matrix_mb']:>11.2f}", flush=True)
    summary = _summarize(runs, args)
    for line in summary["lines"]:
        print(line)
    if args.out:
        report = {
            "command": shlex.join([sys.executable, *sys.argv]),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "cpu": _cpu(),
            "rows": args.rows,
            "dims": args.dims,
            "file_bytes": {kind: files[kind].stat().st_size for kind in args.formats},
            "save_directory": str(out_directory),
            "runs": runs,
            "summary": summary,
        }
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.out}")
    if not args.keep:
        for path in out_directory.glob("saved-by-*"):
            path.unlink()
    return 0


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dims", type=int, default=300)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--formats", type=_choices(FORMATS), default=list(FORMATS))
    parser.add_argument("--operations", type=_choices(OPERATIONS), default=list(OPERATIONS))
    parser.add_argument("--programs", type=_choices(PROGRAMS), default=["fastw2v", "gensim"])
    parser.add_argument("--before-path", help="a checkout of an older fastw2v (built in place), "
                        "measured as the program 'before'")
    parser.add_argument("--dir", default="/tmp/fastw2v-vectors-io",
                        help="where the generated files are kept (default /tmp/fastw2v-vectors-io)")
    parser.add_argument("--out-dir", help="where the saves write (default --dir); a tmpfs such as "
                        "/dev/shm takes the disk out of the measurement")
    parser.add_argument("--keep", action="store_true", help="keep the files the saves wrote")
    parser.add_argument("--out", help="write the runs and the summary to this JSON file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if "before" in args.programs and not args.before_path:
        parser.error("the program 'before' needs --before-path")
    if args.pairs < 1 or args.rows < 1 or args.dims < 1:
        parser.error("--pairs, --rows and --dims must be positive")
    return args


def _choices(allowed: tuple[str, ...]) -> Any:
    def parse(text: str) -> list[str]:
        chosen = text.split(",")
        if not set(chosen) <= set(allowed) or len(set(chosen)) != len(chosen):
            raise argparse.ArgumentTypeError(f"expected some of {','.join(allowed)}, got {text!r}")
        return chosen

    return parse


def _generate(directory: Path, rows: int, dims: int, formats: list[str]) -> dict[str, Path]:
    """The benchmark's files, written once (with fastw2v) and kept."""
    import numpy as np

    from fastw2v._io import write_word2vec_format

    stem = directory / f"vectors-{rows}x{dims}"
    files = {"binary": stem.with_suffix(".bin"), "text": stem.with_suffix(".txt")}
    missing = [kind for kind in {"binary", *formats} if not files[kind].exists()]
    if not missing:
        return files
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 10, size=rows)
    letters = rng.integers(0, 26, size=int(lengths.sum()))
    # Words of 2-9 letters made unique by their index: about English words' lengths.
    text = "".join(LETTERS[i] for i in letters)
    ends = np.cumsum(lengths)
    words = [f"{text[end - length:end]}{index}"
             for index, (end, length) in enumerate(zip(ends.tolist(), lengths.tolist()))]
    vectors = rng.standard_normal((rows, dims), dtype=np.float32)
    vectors *= 0.1
    for kind in missing:
        print(f"writing {files[kind]}", flush=True)
        write_word2vec_format(files[kind], words, vectors, binary=kind == "binary")
    return files


def _read_through(path: Path) -> None:
    with open(path, "rb") as handle:
        while handle.read(1 << 24):
            pass


def _spawn(spec: dict[str, Any]) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    completed = subprocess.run(command, check=False, capture_output=True, text=True)
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        raise SystemExit(f"vectors_io.py: the {spec['program']} run failed")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _child(spec: dict[str, Any]) -> dict[str, Any]:
    """One load or save by one program; runs in its own process."""
    import logging

    logging.disable(logging.WARNING)  # gensim warns on every save of vectors without counts
    start = time.perf_counter()
    if spec["program"] == "gensim":
        import gensim
        from gensim.models import KeyedVectors

        version = gensim.__version__
    else:
        if spec["program"] == "before":
            sys.path.insert(0, spec["before_path"])
        import fastw2v
        from fastw2v import KeyedVectors

        version = fastw2v.__version__
        if spec["program"] == "before" and not fastw2v.__file__.startswith(spec["before_path"]):
            raise SystemExit(f"imported {fastw2v.__file__}, not the one in --before-path")
    import_seconds = time.perf_counter() - start
    binary = spec["format"] == "binary"
    if spec["operation"] == "load":
        start, cpu_start = time.perf_counter(), _cpu_seconds()
        vectors = KeyedVectors.load_word2vec_format(spec["path"], binary=binary)
        seconds, cpu_seconds = time.perf_counter() - start, _cpu_seconds() - cpu_start
    else:
        vectors = KeyedVectors.load_word2vec_format(spec["path"], binary=True)
        _reset_peak_rss()
        start, cpu_start = time.perf_counter(), _cpu_seconds()
        vectors.save_word2vec_format(spec["out"], binary=binary)
        seconds, cpu_seconds = time.perf_counter() - start, _cpu_seconds() - cpu_start
        os.unlink(spec["out"])
    if vectors.vectors.shape != (spec["rows"], spec["dims"]):
        raise SystemExit(f"read {vectors.vectors.shape}, expected {spec['rows']} x {spec['dims']}")
    return {
        "program": spec["program"],
        "version": version,
        "operation": spec["operation"],
        "format": spec["format"],
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "import_seconds": import_seconds,
        "peak_rss_mb": _status_mb("VmHWM"),
    }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _reset_peak_rss() -> None:
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _summarize(runs: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    summary: dict[str, Any] = {"lines": [], "ratios": {}}
    for operation in args.operations:
        for kind in args.formats:
            own = [run for run in runs if run["operation"] == operation and run["format"] == kind]
            seconds = {(run["pair"], run["program"]): run["seconds"] for run in own}
            cpu = {(run["pair"], run["program"]): run["cpu_seconds"] for run in own}
            for program in args.programs:
                mine = [run for run in own if run["program"] == program]
                median = statistics.median(run["seconds"] for run in mine)
                summary["lines"].append(
                    f"{operation} {kind}, {program}: median {median:.2f} s, "
                    f"peak RSS up to {max(r['peak_rss_mb'] for r in mine):,.0f} MiB "
                    f"({max(r['peak_rss_mb'] / r['matrix_mb'] for r in mine):.2f}x the matrix)"
                )
            for program in args.programs:
                if program == "fastw2v":
                    continue
                if "fastw2v" not in args.programs:
                    continue
                for what, table in (("s", seconds), ("CPU s", cpu)):
                    ratios = [table[pair, program] / table[pair, "fastw2v"]
                              for pair in range(args.pairs)]
                    key = f"{operation} {kind}: {program} {what} / fastw2v {what}"
                    summary["ratios"][key] = {
                        "per_pair": ratios, "median": statistics.median(ratios)
                    }
                    summary["lines"].append(
                        f"{key}: per pair {', '.join(f'{r:.2f}' for r in ratios)}; "
                        f"median {statistics.median(ratios):.2f}"
                    )
    return summary


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return next(line.split(":", 1)[1].strip() for line in cpuinfo
                        if line.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
