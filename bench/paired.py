"""Two fastw2v builds trained at the same time, each on a core of its own: their speed ratio.

For a change too small for alternating runs to resolve on a shared machine, whose speed can swing
by half between one run and the next. Each pair starts both builds together, one worker each,
each pinned to its own core (the cores swap every pair, so that a faster core favours neither),
on the same job: one preset, the same seed. Whatever slows the host slows both alike, and their
CPU-time ratio is steady where wall-clock pairs are not. It measures one worker per build, so it
says nothing about how a change scales over threads.

    python bench/paired.py DIR_A DIR_B --preset sg-ns --corpus pg_dev.txt --pairs 6

DIR_A and DIR_B are checkouts built in place (``python setup.py build_ext --inplace``). The
figure is the median over the pairs of A's speed over B's (B's CPU seconds over A's).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import PRESETS, SINGLE_THREADED_BLAS  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_a", nargs="?")
    parser.add_argument("build_b", nargs="?")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="sg-ns")
    parser.add_argument("--corpus", required=True, help="one sentence per line")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(json.loads(args.child))))
        return 0
    if not (args.build_a and args.build_b):
        parser.error("give the two builds, DIR_A and DIR_B")
    if len(os.sched_getaffinity(0)) < 2:
        parser.error("needs two cores")
    core_a, core_b = sorted(os.sched_getaffinity(0))[:2]
    ratios = []
    for pair in range(args.pairs):
        cores = (core_a, core_b) if pair % 2 == 0 else (core_b, core_a)
        builds = (args.build_a, args.build_b)
        runs = [_start(build, core, args) for build, core in zip(builds, cores)]
        a, b = (_finish(run, build) for run, build in zip(runs, builds))
        ratios.append(b["cpu_seconds"] / a["cpu_seconds"])
        print(f"pair {pair + 1}: A {a['cpu_seconds']:.2f} CPU s on core {cores[0]}, "
              f"B {b['cpu_seconds']:.2f} CPU s on core {cores[1]}: A/B speed {ratios[-1]:.3f}",
              flush=True)
    print(f"{args.preset}: A/B speed, median of {args.pairs} simultaneous pairs "
          f"{statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f})")
    return 0


def _start(build: str, core: int, args: argparse.Namespace) -> subprocess.Popen:
    spec = {"preset": args.preset, "corpus": str(Path(args.corpus).resolve()),
            "epochs": args.epochs, "core": core, "build": str(Path(build).resolve())}
    env = dict(os.environ, PYTHONPATH=spec["build"], **SINGLE_THREADED_BLAS)
    # Run from the builds' parent: never from a checkout that has no compiled modules.
    return subprocess.Popen([sys.executable, __file__, "--corpus", args.corpus,
                             "--child", json.dumps(spec)],
                            env=env, stdout=subprocess.PIPE, text=True, cwd="/")


def _finish(run: subprocess.Popen, build: str) -> dict:
    output, _ = run.communicate()
    if run.returncode:
        raise SystemExit(f"paired.py: the run of {build} failed (exit {run.returncode})")
    return json.loads(output.strip().splitlines()[-1])


def _child(spec: dict) -> dict:
    os.sched_setaffinity(0, {spec["core"]})
    import fastw2v
    from fastw2v import Word2Vec

    if not fastw2v.__file__.startswith(spec["build"]):
        raise SystemExit(f"paired.py: imported fastw2v from {fastw2v.__file__}, "
                         f"not from {spec['build']}")
    params = dict(PRESETS[spec["preset"]], workers=1, epochs=spec["epochs"], seed=1,
                  progress=False)
    model = Word2Vec(**params)
    model.build_vocab(corpus_file=spec["corpus"])
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    model.train(corpus_file=spec["corpus"], total_examples=model.corpus_count,
                total_words=model.corpus_total_words, epochs=spec["epochs"])
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_seconds": wall, "cpu_seconds": cpu}


if __name__ == "__main__":
    raise SystemExit(main())
