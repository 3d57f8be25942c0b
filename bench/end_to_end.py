"""End to end: from process start to the written vectors file, fastw2v against gensim.

fastw2v runs as its command, ``fastw2v train CORPUS -o OUT --binary ...``; gensim as the script a
user would write, ``Word2Vec(corpus_file=CORPUS, ...)`` then ``wv.save_word2vec_format(OUT,
binary=True)``. Both get the settings of a ``bench/compare.py`` preset (the standard run by
default) and the same seed in each pair; runs alternate (A B A B ...) and each is timed from its
spawn to its exit, interpreter start, imports, vocabulary, training and writing included. Peak
RSS is the child's ``ru_maxrss``. The speed ratio is the median of the per-pair ratios gensim
seconds / fastw2v seconds.

``--phases`` instead times each step inside one process per program (imports, vocabulary,
training, writing), to see where the fixed costs lie.

    python bench/end_to_end.py --corpus /tmp/pg_dev.txt               # the standard run, 3 pairs
    python bench/end_to_end.py --corpus /tmp/pg_dev.txt --phases --pairs 1
    python bench/end_to_end.py --limit-words 2000000 --pairs 1       # a quick smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import compare

PROGRAMS = ("fastw2v", "gensim")

# The gensim side, as a user would write it; formatted with the settings and paths.
GENSIM_SCRIPT = """\
from gensim.models import Word2Vec
model = Word2Vec(corpus_file={corpus!r}, **{params!r})
model.wv.save_word2vec_format({output!r}, binary={binary!r})
"""


def main() -> int:
    args = _parse_args()
    if args.child is not None:
        print(json.dumps(_phases(json.loads(args.child))))
        return 0
    corpus = compare._prepare_corpus(Path(args.corpus), Path(args.cache_dir), args.limit_words)
    params = dict(compare.PRESETS[args.preset])
    if args.epochs is not None:
        params["epochs"] = args.epochs
    print(f"corpus {corpus}, preset {args.preset}: {params}; "
          f"{'text' if args.text else 'binary'} output")
    runs = []
    with tempfile.TemporaryDirectory(prefix="fastw2v-e2e-") as scratch:
        for pair in range(args.pairs):
            seed = args.seeds[pair % len(args.seeds)]
            for program in args.programs:
                output = Path(scratch, f"{program}.vectors")
                settings = {**params, "seed": seed}
                if args.phases:
                    result = _spawn_phases(program, corpus, settings, output, not args.text)
                else:
                    result = _run(program, corpus, settings, output, not args.text)
                result.update(pair=pair, seed=seed, program=program,
                              output_bytes=output.stat().st_size)
                output.unlink()
                runs.append(result)
                print(_describe(result), flush=True)
    summary = _summarize(runs, args.programs, args.pairs)
    for line in summary["lines"]:
        print(line)
    if args.out:
        report = {
            "command": shlex.join([sys.executable, *sys.argv]),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": compare._machine(),
            "corpus": str(corpus),
            "preset": args.preset,
            "params": params,
            "binary": not args.text,
            "runs": runs,
            "summary": summary,
        }
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 0


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=str(compare.DEFAULT_CORPUS),
                        help="one sentence per line (default ../shared/data/pg_dev.txt, "
                        "decompressed into the cache from .xz when missing)")
    parser.add_argument("--preset", choices=sorted(compare.PRESETS), default="sg-ns")
    parser.add_argument("--epochs", type=int, help="override the preset's 5 epochs")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--seeds", type=compare._int_list, default=[1, 2, 3])
    parser.add_argument("--programs", type=compare._program_list, default=list(PROGRAMS))
    parser.add_argument("--text", action="store_true", help="write text vectors, not binary")
    parser.add_argument("--phases", action="store_true",
                        help="time imports, vocabulary, training and writing apart, in-process")
    parser.add_argument("--limit-words", type=int, help="a copy of the first N corpus words")
    parser.add_argument("--cache-dir", default=str(compare.DEFAULT_CACHE))
    parser.add_argument("--out", help="write the runs and the summary to this JSON file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    return args


def _cli_arguments(params: dict[str, Any]) -> list[str]:
    """The ``fastw2v train`` options of a preset's settings."""
    flags = ["--sg" if params["sg"] else "--cbow"]
    if params["hs"]:
        flags.append("--hs")
    names = {"vector_size": "--size", "window": "--window", "negative": "--negative",
             "sample": "--sample", "min_count": "--min-count", "epochs": "--iter",
             "alpha": "--alpha", "workers": "--threads", "seed": "--seed"}
    for name, flag in names.items():
        flags += [flag, repr(params[name])]
    # The command has no options for these; its defaults are the presets' values.
    for name, default in (("min_alpha", 0.0001), ("cbow_mean", 1)):
        if params.get(name, default) != default:
            raise SystemExit(f"end_to_end.py: fastw2v train cannot set {name}={params[name]}")
    return flags


def _run(program: str, corpus: Path, params: dict[str, Any], output: Path,
         binary: bool) -> dict[str, Any]:
    if program == "fastw2v":
        executable = shutil.which("fastw2v", path=str(Path(sys.executable).parent))
        if executable is None:
            raise SystemExit("end_to_end.py: no fastw2v command next to this Python")
        command = [executable, "train", str(corpus), "-o", str(output), "--no-progress",
                   *_cli_arguments(params), *(["--binary"] if binary else [])]
    else:
        script = GENSIM_SCRIPT.format(corpus=str(corpus), params=params, output=str(output),
                                      binary=binary)
        command = [sys.executable, "-c", script]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                             env={**os.environ, **compare.SINGLE_THREADED_BLAS})
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"end_to_end.py: {shlex.join(command)} failed ({status})")
    return {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": usage.ru_maxrss / 1024}


def _spawn_phases(program: str, corpus: Path, params: dict[str, Any], output: Path,
                  binary: bool) -> dict[str, Any]:
    spec = {"program": program, "corpus": str(corpus), "params": params,
            "output": str(output), "binary": binary}
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)],
        check=True, capture_output=True, text=True,
        env={**os.environ, **compare.SINGLE_THREADED_BLAS})
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["seconds"] = time.perf_counter() - start
    return result


def _phases(spec: dict[str, Any]) -> dict[str, Any]:
    """Each step of one program, timed inside its process (what the command does, step by
    step)."""
    clock = time.perf_counter
    marks = [("start", clock())]
    if spec["program"] == "fastw2v":
        from fastw2v import Word2Vec

        params = {**spec["params"], "progress": False}
    else:
        from gensim.models import Word2Vec

        params = dict(spec["params"])
    marks.append(("imports", clock()))
    model = Word2Vec(**params)
    model.build_vocab(corpus_file=spec["corpus"])
    marks.append(("vocabulary", clock()))
    model.train(corpus_file=spec["corpus"], total_examples=model.corpus_count,
                total_words=model.corpus_total_words, epochs=model.epochs)
    marks.append(("training", clock()))
    model.wv.save_word2vec_format(spec["output"], binary=spec["binary"])
    marks.append(("writing", clock()))
    phases = {name: end - begin for (_, begin), (name, end) in zip(marks, marks[1:])}
    return {"phases": phases, "peak_rss_mb": compare._peak_rss_mb(),
            "vocabulary": len(model.wv)}


def _describe(result: dict[str, Any]) -> str:
    line = (f"pair {result['pair'] + 1}  {result['program']:<8} seed {result['seed']}  "
            f"{result['seconds']:7.2f} s")
    if "cpu_seconds" in result:
        line += f"  CPU {result['cpu_seconds']:7.2f} s"
    line += f"  peak RSS {result['peak_rss_mb']:5.0f} MB"
    if "phases" in result:
        line += "  (" + ", ".join(f"{name} {seconds:.2f}"
                                  for name, seconds in result["phases"].items()) + ")"
    return line


def _summarize(runs: list[dict[str, Any]], programs: list[str], pairs: int) -> dict[str, Any]:
    summary: dict[str, Any] = {"lines": []}
    for program in programs:
        own = [run for run in runs if run["program"] == program]
        summary["lines"].append(
            f"{program}: median {statistics.median(r['seconds'] for r in own):.2f} s, "
            f"peak RSS up to {max(r['peak_rss_mb'] for r in own):.0f} MB")
    if set(PROGRAMS) <= set(programs):
        seconds = {(run["pair"], run["program"]): run["seconds"] for run in runs}
        ratios = [seconds[pair, "gensim"] / seconds[pair, "fastw2v"] for pair in range(pairs)]
        summary["ratio_gensim_over_fastw2v"] = {"per_pair": ratios,
                                                "median": statistics.median(ratios)}
        summary["lines"].append(
            f"gensim s / fastw2v s per pair: {', '.join(f'{r:.2f}' for r in ratios)}; "
            f"median {statistics.median(ratios):.2f}")
        if all("cpu_seconds" in run for run in runs):
            # Steadier than wall time on a shared machine (both programs keep 2 threads busy).
            cpu = {(run["pair"], run["program"]): run["cpu_seconds"] for run in runs}
            ratios = [cpu[pair, "gensim"] / cpu[pair, "fastw2v"] for pair in range(pairs)]
            summary["cpu_ratio_gensim_over_fastw2v"] = {"per_pair": ratios,
                                                        "median": statistics.median(ratios)}
            summary["lines"].append(
                f"gensim CPU s / fastw2v CPU s per pair: {', '.join(f'{r:.2f}' for r in ratios)};"
                f" median {statistics.median(ratios):.2f}")
    return summary


if __name__ == "__main__":
    raise SystemExit(main())
