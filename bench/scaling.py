"""fastw2v against itself: thread scaling, and time and memory as the corpus grows.

    python bench/scaling.py workers --mode file --pairs 3      # workers=1 vs workers=2, alternating
    python bench/scaling.py growth                             # 30 MB, 100 MB, 300 MB corpora
    python bench/scaling.py growth --max-final-vocab 28000     # the same, vocabulary held fixed
    python bench/scaling.py modes --pairs 3                    # corpus_file vs iterable vs list

Each run is a fresh process (compare.py's child runner), with the standard run's settings.
`growth` builds the 300 MB corpus by concatenating the benchmark corpus three times.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
from pathlib import Path

import compare


def _run(mode: str, corpus: Path, workers: int, scratch: Path, tag: str,
         extra: dict | None = None) -> dict:
    params = dict(compare.PRESETS["sg-ns"], workers=workers)
    spec = {"program": "fastw2v", "params": params, "extra": extra or {}, "mode": mode,
            "corpus": str(corpus), "evaluate": False,
            "result_path": str(scratch / f"{tag}.json")}
    result = compare._spawn(spec)
    result["words_per_second"] = result["corpus_words"] * params["epochs"] / result[
        "train_seconds"]
    return result


def workers(args: argparse.Namespace, corpus: Path, scratch: Path) -> dict:
    ratios, runs = [], []
    for pair in range(args.pairs):
        one = _run(args.mode, corpus, 1, scratch, f"w1-{pair}")
        two = _run(args.mode, corpus, 2, scratch, f"w2-{pair}")
        ratios.append(two["words_per_second"] / one["words_per_second"])
        runs += [one, two]
        print(f"pair {pair + 1}: 1 worker {one['words_per_second'] / 1e6:.3f} M words/s, "
              f"2 workers {two['words_per_second'] / 1e6:.3f} M words/s, "
              f"ratio {ratios[-1]:.2f}", flush=True)
    print(f"median ratio 2 workers / 1 worker ({args.mode}): {statistics.median(ratios):.2f}")
    return {"mode": args.mode, "runs": runs, "ratios": ratios,
            "median_ratio": statistics.median(ratios)}


def modes(args: argparse.Namespace, corpus: Path, scratch: Path) -> dict:
    per_mode: dict = {mode: [] for mode in compare.MODES}
    for pair in range(args.pairs):
        for mode in compare.MODES:
            run = _run(mode, corpus, 2, scratch, f"{mode}-{pair}")
            per_mode[mode].append(run["words_per_second"])
        print(f"round {pair + 1}: " + ", ".join(
            f"{mode} {per_mode[mode][-1] / 1e6:.3f}" for mode in compare.MODES) + " M words/s",
            flush=True)
    ratios = {mode: statistics.median(a / b for a, b in zip(per_mode[mode], per_mode["file"]))
              for mode in compare.MODES}
    print("median ratio to corpus_file: " + ", ".join(f"{m} {r:.3f}" for m, r in ratios.items()))
    return {"words_per_second": per_mode, "median_ratio_to_file": ratios}


def growth(args: argparse.Namespace, corpus: Path, scratch: Path) -> dict:
    words = compare._count_words(corpus)
    sizes = {"30MB": compare._prepare_corpus(corpus, compare.DEFAULT_CACHE, int(words * 0.3)),
             "100MB": corpus}
    tripled = compare.DEFAULT_CACHE / "pg_dev.x3.txt"
    if not tripled.exists():
        # Streamed: a child's peak RSS on Linux starts from its parent's at the fork, so the
        # parent must never hold the corpus in memory.
        with open(tripled, "wb") as sink:
            for _ in range(3):
                with open(corpus, "rb") as source:
                    shutil.copyfileobj(source, sink, 1 << 20)
    sizes["300MB"] = tripled
    runs = []
    for name, path in sizes.items():
        extra = {"max_final_vocab": args.max_final_vocab} if args.max_final_vocab else None
        run = _run("file", path, 2, scratch, f"growth-{name}", extra)
        run["size"] = name
        run["max_final_vocab"] = args.max_final_vocab
        runs.append(run)
        print(f"{name}: {run['corpus_words']:,} words, {run['train_seconds']:.1f} s training, "
              f"{1e9 * run['train_seconds'] / (run['corpus_words'] * 5):.1f} ns/word, "
              f"peak RSS {run['peak_rss_mb']:.0f} MB", flush=True)
    return {"runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["workers", "growth", "modes"])
    parser.add_argument("--mode", choices=compare.MODES, default="file")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=compare.DEFAULT_CORPUS)
    parser.add_argument("--max-final-vocab", type=int, default=None,
                        help="growth: hold the vocabulary to this many words at every size, so "
                             "that memory is measured against corpus size alone")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    corpus = compare._prepare_corpus(args.corpus, compare.DEFAULT_CACHE, None)
    with tempfile.TemporaryDirectory() as scratch:
        run = {"workers": workers, "growth": growth, "modes": modes}[args.what]
        result = run(args, corpus, Path(scratch))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
