"""Compare fastw2v with gensim end to end: same corpus, same settings, alternating runs.

The protocol is the one of BENCHMARK.md. The two programs run in turn (A B A B ...), each run in a
fresh child process (this script again, with ``--child``), so that neither inherits the other's
memory or warm caches. Pair ``i`` trains both programs with seed ``seeds[i % len(seeds)]``, so the
pairs that measure speed are also the seeds that measure quality.

Each child times the vocabulary build and the training apart, reads its peak resident set size
when training ends, and then scores its vectors with gensim's own evaluator (fastw2v's where gensim
is not installed, held to gensim's results by the tests; questions-words on the
30,000 most frequent words, case-insensitive; WordSim-353) so that both programs are judged by the
same code. Throughput is corpus words x epochs / training wall seconds, the corpus words being
counted once here, for both.

Run ``python bench/compare.py --help`` for the options, and see ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import ast
import json
import lzma
import os
import platform
import resource
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

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "data" / "pg_dev.txt"
DEFAULT_CACHE = REPO / "bench" / "out" / "cache"
QUESTIONS = REPO / "fastw2v" / "data" / "questions-words.txt"
WORDSIM = REPO / "fastw2v" / "data" / "wordsim353.tsv"

PROGRAMS = ("fastw2v", "gensim")
# With --baseline DIR, a third program: fastw2v imported from DIR, a checkout of another commit
# built in place (``python setup.py build_ext --inplace``), to measure a change against the
# code before it in the same run.
BASELINE = "baseline"
MODES = ("file", "iterable", "list")

_STANDARD_RUN = {
    "sg": 1,
    "vector_size": 100,
    "window": 5,
    "negative": 5,
    "hs": 0,
    "sample": 1e-4,
    "min_count": 5,
    "epochs": 5,
    "alpha": 0.025,
    "min_alpha": 0.0001,
    "workers": 2,
}
PRESETS = {
    "sg-ns": _STANDARD_RUN,
    "cbow-ns": {**_STANDARD_RUN, "sg": 0, "cbow_mean": 1, "alpha": 0.05},
    "sg-hs": {**_STANDARD_RUN, "hs": 1, "negative": 0},
    "cbow-hs": {**_STANDARD_RUN, "sg": 0, "cbow_mean": 1, "alpha": 0.05, "hs": 1, "negative": 0},
    # The large model users train: 300 dimensions and every word of the corpus, so that the
    # weights are far beyond the caches.
    "sg-ns-300": {**_STANDARD_RUN, "vector_size": 300, "min_count": 1},
    "cbow-ns-300": {**_STANDARD_RUN, "sg": 0, "cbow_mean": 1, "alpha": 0.05, "vector_size": 300,
                    "min_count": 1},
}

ANALOGY_VOCABULARY = 30_000
# gensim's LineSentence cuts lines into pieces of this many words, and its training ignores the
# words beyond it, so the in-memory corpus is cut the same way to give both programs equal work.
MAX_SENTENCE_WORDS = 10_000
# A BLAS library that starts its own threads next to the workers would oversubscribe the cores.
SINGLE_THREADED_BLAS = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def main() -> int:
    args = _parse_args()
    if args.child is not None:
        spec = json.loads(args.child)
        result = _child_run(spec)
        Path(spec["result_path"]).write_text(json.dumps(result))
        return 0

    corpus = _prepare_corpus(Path(args.corpus), Path(args.cache_dir), args.limit_words)
    corpus_words = _count_words(corpus)
    params = dict(PRESETS[args.preset])
    if args.workers is not None:
        params["workers"] = args.workers
    if args.epochs is not None:
        params["epochs"] = args.epochs
    print(f"corpus: {corpus} ({corpus_words:,} words)")
    print(f"preset {args.preset}, mode {args.mode}: {params}")
    if args.extra:
        print(f"fastw2v only: {args.extra}")
    print(_ROW.format(*_HEADER))

    runs = []
    with tempfile.TemporaryDirectory(prefix="fastw2v-compare-") as scratch:
        for pair in range(args.pairs):
            seed = args.seeds[pair % len(args.seeds)]
            for program in args.programs:
                spec = {
                    "program": program,
                    "mode": args.mode,
                    "corpus": str(corpus),
                    "params": {**params, "seed": seed},
                    "extra": args.extra if program == "fastw2v" else {},
                    "baseline": args.baseline,
                    "evaluate": not args.no_eval,
                    "result_path": str(Path(scratch, f"{pair}-{program}.json")),
                }
                result = _spawn(spec)
                result.update(pair=pair, seed=seed)
                result["mwords_per_second"] = (
                    corpus_words * params["epochs"] / result["train_seconds"] / 1e6
                )
                runs.append(result)
                print(_format_row(result), flush=True)
                if result["corpus_words"] != corpus_words:
                    print(
                        f"  note: {program} counted {result['corpus_words']:,} corpus words",
                        flush=True,
                    )

    summary = _summarize(runs, args.programs)
    _print_summary(summary)
    if args.out:
        report = {
            "command": shlex.join([sys.executable, *sys.argv]),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": _machine(),
            "corpus": str(corpus),
            "corpus_words": corpus_words,
            "preset": args.preset,
            "mode": args.mode,
            "params": params,
            "extra": args.extra,
            "blas_environment": SINGLE_THREADED_BLAS,
            "runs": runs,
            "summary": summary,
        }
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 0


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Train fastw2v and gensim in alternation on one corpus and compare them.",
    )
    parser.add_argument(
        "--corpus",
        default=str(DEFAULT_CORPUS),
        help="one sentence per line; PATH.xz is decompressed into the cache when PATH is missing",
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        default="file",
        help="file: corpus_file=; iterable: each program's LineSentence; list: a list of lists",
    )
    parser.add_argument("--preset", choices=sorted(PRESETS), default="sg-ns")
    parser.add_argument("--workers", type=int, help="override the preset's 2 workers")
    parser.add_argument("--epochs", type=int, help="override the preset's 5 epochs")
    parser.add_argument(
        "--seeds",
        type=_int_list,
        default=[1, 2, 3],
        help="comma-separated seeds, one per pair in turn (default 1,2,3)",
    )
    parser.add_argument("--pairs", type=int, default=3, help="runs of each program (default 3)")
    parser.add_argument(
        "--programs",
        type=_program_list,
        default=list(PROGRAMS),
        help="comma-separated, in running order (default fastw2v,gensim)",
    )
    parser.add_argument(
        "--limit-words",
        type=int,
        help="train on a copy of the first N words of the corpus (for quick smoke runs)",
    )
    parser.add_argument(
        "--extra",
        type=_key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a Word2Vec argument for fastw2v only (repeatable), e.g. batched=1",
    )
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help="a checkout of another fastw2v commit built in place: adds the program 'baseline' "
        "(fastw2v from DIR) to --programs' choices, e.g. --programs fastw2v,baseline",
    )
    parser.add_argument("--no-eval", action="store_true", help="skip the quality evaluation")
    parser.add_argument("--out", help="write the runs and the summary to this JSON file")
    parser.add_argument(
        "--cache-dir",
        default=str(DEFAULT_CACHE),
        help="where decompressed and truncated corpora are kept (default bench/out/cache)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.extra = dict(args.extra)
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    if (BASELINE in args.programs) != (args.baseline is not None):
        parser.error("--baseline DIR and the program 'baseline' in --programs go together")
    if args.baseline is not None:
        args.baseline = str(Path(args.baseline).resolve())
    if args.limit_words is not None and args.limit_words < 1:
        parser.error("--limit-words must be at least 1")
    return args


def _int_list(text: str) -> list[int]:
    try:
        values = [int(item) for item in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers separated by commas, got {text!r}"
        ) from None
    return values


def _program_list(text: str) -> list[str]:
    programs = text.split(",")
    known = (*PROGRAMS, BASELINE)
    if not set(programs) <= set(known) or len(set(programs)) != len(programs):
        raise argparse.ArgumentTypeError(
            f"expected some of {','.join(known)}, each once; got {text!r}"
        )
    return programs


def _key_value(text: str) -> tuple[str, Any]:
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def _prepare_corpus(corpus: Path, cache_dir: Path, limit_words: int | None) -> Path:
    """Return a plain-text corpus file, decompressing or truncating into the cache as asked."""
    if corpus.suffix == ".xz":
        packed = corpus
    elif not corpus.exists() and corpus.with_name(corpus.name + ".xz").exists():
        packed = corpus.with_name(corpus.name + ".xz")
    else:
        packed = None
    if packed is not None:
        corpus = cache_dir / packed.name[: -len(".xz")]
        if not corpus.exists():
            print(f"decompressing {packed} into {corpus}", flush=True)
            with lzma.open(packed, "rb") as source:
                _write_atomically(corpus, lambda sink: shutil.copyfileobj(source, sink))
    if not corpus.is_file():
        raise SystemExit(f"compare.py: error: {corpus}: no such file")
    if limit_words is None:
        return corpus

    truncated = cache_dir / f"{corpus.stem}.first{limit_words}{corpus.suffix}"
    if not truncated.exists():
        print(f"writing the first {limit_words:,} words of {corpus} to {truncated}", flush=True)

        def copy_head(sink: Any) -> None:
            remaining = limit_words
            with open(corpus, "rb") as source:
                for line in source:
                    words = line.split()
                    if not words:
                        continue
                    sink.write(b" ".join(words[:remaining]) + b"\n")
                    remaining -= min(len(words), remaining)
                    if remaining == 0:
                        break

        _write_atomically(truncated, copy_head)
    return truncated


def _write_atomically(path: Path, write: Any) -> None:
    # An interrupted run must not leave a partial file that later runs would take as complete.
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as sink:
        write(sink)
    partial.replace(path)


def _count_words(corpus: Path) -> int:
    with open(corpus, "rb") as source:
        return sum(len(line.split()) for line in source)


def _spawn(spec: dict[str, Any]) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    env = {**os.environ, **SINGLE_THREADED_BLAS}
    if spec["program"] == BASELINE:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [spec["baseline"],
                                                          env.get("PYTHONPATH")]))
    completed = subprocess.run(command, check=False, env=env)
    if completed.returncode != 0:
        raise SystemExit(
            f"compare.py: error: the {spec['program']} run failed (exit {completed.returncode})"
        )
    return json.loads(Path(spec["result_path"]).read_text())


def _child_run(spec: dict[str, Any]) -> dict[str, Any]:
    """Train one program once and measure it; runs in its own process."""
    params = dict(spec["params"])
    if spec["program"] in ("fastw2v", BASELINE):
        import fastw2v
        from fastw2v import LineSentence, Word2Vec

        version = fastw2v.__version__
        if spec["program"] == BASELINE and not fastw2v.__file__.startswith(spec["baseline"]):
            raise SystemExit(f"compare.py: the baseline imported fastw2v from {fastw2v.__file__}, "
                             f"not from {spec['baseline']}")
        # gensim shows no progress bar; drawing one would be work the other program does not do.
        params.update(progress=False, **spec["extra"])
    else:
        import gensim
        from gensim.models.word2vec import LineSentence, Word2Vec

        version = gensim.__version__

    if spec["mode"] == "file":
        corpus: dict[str, Any] = {"corpus_file": spec["corpus"]}
    elif spec["mode"] == "iterable":
        corpus = {"corpus_iterable": LineSentence(spec["corpus"])}
    else:
        corpus = {"corpus_iterable": _read_sentences(spec["corpus"])}

    model = Word2Vec(**params)
    start = time.perf_counter()
    model.build_vocab(**corpus)
    vocab_seconds = time.perf_counter() - start
    start = time.perf_counter()
    model.train(
        **corpus,
        total_examples=model.corpus_count,
        total_words=model.corpus_total_words,
        epochs=model.epochs,
    )
    train_seconds = time.perf_counter() - start
    result = {
        "program": spec["program"],
        "version": version,
        "mode": spec["mode"],
        "vocab_seconds": vocab_seconds,
        "train_seconds": train_seconds,
        "peak_rss_mb": _peak_rss_mb(),
        "vocabulary": len(model.wv.index_to_key),
        "corpus_words": model.corpus_total_words,
        "analogy": None,
        "ws353_spearman": None,
        "ws353_pearson": None,
        "ws353_oov_percent": None,
    }
    if spec["evaluate"]:
        result.update(_evaluate(list(model.wv.index_to_key), model.wv.vectors))
    return result


def _read_sentences(path: str) -> list[list[str]]:
    with open(path, encoding="utf-8") as lines:
        return [
            words[start : start + MAX_SENTENCE_WORDS]
            for words in (line.split() for line in lines)
            for start in range(0, len(words), MAX_SENTENCE_WORDS)
        ]


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kibibytes, macOS bytes.
    return peak / (1 << 20) if sys.platform == "darwin" else peak / (1 << 10)


def _evaluate(keys: list[str], vectors: Any) -> dict[str, Any]:
    """Score vectors with gensim's evaluator, whichever program trained them.

    Where gensim is not installed (a cluster's nodes, say), fastw2v's own evaluator scores them:
    tests/test_gensim_compat_kv.py holds it to gensim's results for the same arguments, and the
    result says which one it was.
    """
    import numpy as np

    try:
        from gensim.models import KeyedVectors
        evaluator = "gensim"
    except ImportError:
        from fastw2v import KeyedVectors  # type: ignore[assignment]
        evaluator = "fastw2v"

    vectors = np.asarray(vectors, dtype=np.float32)
    keyed = KeyedVectors(vector_size=vectors.shape[1])
    keyed.add_vectors(keys, vectors)
    analogy, _ = keyed.evaluate_word_analogies(
        str(QUESTIONS), restrict_vocab=ANALOGY_VOCABULARY, case_insensitive=True
    )
    (pearson, _), (spearman, _), oov_percent = keyed.evaluate_word_pairs(
        str(WORDSIM), case_insensitive=True
    )
    return {
        "analogy": float(analogy),
        "ws353_spearman": float(spearman),
        "ws353_pearson": float(pearson),
        "ws353_oov_percent": float(oov_percent),
        "evaluator": evaluator,
    }


def _summarize(runs: list[dict[str, Any]], programs: list[str]) -> dict[str, Any]:
    summary: dict[str, Any] = {"programs": {}}
    for program in programs:
        own = [run for run in runs if run["program"] == program]
        summary["programs"][program] = {
            "runs": len(own),
            "mwords_per_second_median": statistics.median(r["mwords_per_second"] for r in own),
            "train_seconds_median": statistics.median(r["train_seconds"] for r in own),
            "vocab_seconds_median": statistics.median(r["vocab_seconds"] for r in own),
            "peak_rss_mb_max": max(r["peak_rss_mb"] for r in own),
            "analogy": _spread([r["analogy"] for r in own]),
            "ws353_spearman": _spread([r["ws353_spearman"] for r in own]),
        }
    speed = {(run["pair"], run["program"]): run["mwords_per_second"] for run in runs}
    pairs = sorted({run["pair"] for run in runs})
    for peer in ("gensim", BASELINE):
        if {"fastw2v", peer} <= set(programs):
            ratios = [speed[pair, "fastw2v"] / speed[pair, peer] for pair in pairs]
            summary[f"speed_ratio_fastw2v_over_{peer}"] = {
                "per_pair": ratios,
                "median": statistics.median(ratios),
            }
    return summary


def _spread(values: list[float | None]) -> dict[str, float] | None:
    measured = [value for value in values if value is not None]
    if not measured:
        return None
    return {
        "mean": statistics.fmean(measured),
        "stdev": statistics.stdev(measured) if len(measured) > 1 else 0.0,
        "min": min(measured),
        "max": max(measured),
    }


_HEADER = (
    "pair",
    "program",
    "seed",
    "vocab s",
    "train s",
    "M words/s",
    "RSS MB",
    "analogy",
    "WS353",
)
_ROW = "{:>4}  {:<8}  {:>4}  {:>8}  {:>8}  {:>9}  {:>7}  {:>7}  {:>6}"


def _format_row(run: dict[str, Any]) -> str:
    analogy = "-" if run["analogy"] is None else f"{100 * run['analogy']:.1f}%"
    spearman = "-" if run["ws353_spearman"] is None else f"{run['ws353_spearman']:.3f}"
    return _ROW.format(
        run["pair"] + 1,
        run["program"],
        run["seed"],
        f"{run['vocab_seconds']:.2f}",
        f"{run['train_seconds']:.2f}",
        f"{run['mwords_per_second']:.3f}",
        f"{run['peak_rss_mb']:.0f}",
        analogy,
        spearman,
    )


def _print_summary(summary: dict[str, Any]) -> None:
    print()
    for program, figures in summary["programs"].items():
        line = (
            f"{program}: median {figures['mwords_per_second_median']:.3f} M words/s over "
            f"{figures['runs']} runs, peak RSS up to {figures['peak_rss_mb_max']:.0f} MB"
        )
        analogy, spearman = figures["analogy"], figures["ws353_spearman"]
        if analogy is not None and spearman is not None:
            line += (
                f"; analogy {100 * analogy['mean']:.2f}% +- {100 * analogy['stdev']:.2f}"
                f" (range {100 * analogy['min']:.2f}-{100 * analogy['max']:.2f}),"
                f" WS353 {spearman['mean']:.4f} +- {spearman['stdev']:.4f}"
            )
        print(line)
    for peer in ("gensim", BASELINE):
        ratio = summary.get(f"speed_ratio_fastw2v_over_{peer}")
        if ratio is not None:
            per_pair = ", ".join(f"{value:.2f}" for value in ratio["per_pair"])
            print(f"words/s ratio fastw2v/{peer} per pair: {per_pair}; "
                  f"median {ratio['median']:.2f}")


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next(
                line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


if __name__ == "__main__":
    raise SystemExit(main())
