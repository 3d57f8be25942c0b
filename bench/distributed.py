"""Training across MPI processes (``comm=``) against one process, on the standard run.

    python bench/distributed.py throughput --pairs 3        # 2 processes x 1 thread vs 1 x 2
    python bench/distributed.py throughput --processes 4,8  # 4 x 1 vs 1 x 4, then 8 x 1 vs 1 x 8
    python bench/distributed.py quality --seeds 1,2,3 --processes 1,2,4
    python bench/distributed.py allreduce                   # the per-row cost of Allreduce
    python bench/distributed.py model                       # 8 to 128 nodes, on paper

Every run is a fresh job: ``mpiexec -n P python bench/distributed.py --child SPEC`` for P
processes (the first one evaluates the vectors and writes the result), or a plain process for
the single-process runs. Throughput is corpus words x epochs / training wall seconds of the
first process (all processes end training together). Each process also reports what its
averaging did (the INFO record of ``fastw2v.distributed``): payload bytes it reduced, rounds,
the wall and CPU seconds of its averaging thread, and the seconds its workers stood still at
epoch ends (waiting for the slowest process included).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import compare

MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")


def _spawn(spec: dict, processes: int) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    if spec["distributed"]:
        command = [MPIEXEC, "-n", str(processes), *command]
    completed = subprocess.run(command, check=False,
                               env={**os.environ, **compare.SINGLE_THREADED_BLAS})
    if completed.returncode != 0:
        raise SystemExit(f"distributed.py: error: a run failed (exit {completed.returncode})")
    return json.loads(Path(spec["result_path"]).read_text())


def _child(spec: dict) -> None:
    from fastw2v import Averaging, Word2Vec

    comm = None
    records: list[dict] = []
    if spec["distributed"]:
        from mpi4py import MPI

        comm = MPI.COMM_WORLD

        class Keep(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                records.append(dict(record.args))  # type: ignore[arg-type]

        averaging_log = logging.getLogger("fastw2v.distributed")
        averaging_log.addHandler(Keep())
        averaging_log.setLevel(logging.INFO)
    params = dict(spec["params"], progress=False)
    model = Word2Vec(comm=Averaging(comm, **spec["averaging"]) if comm else None, **params)
    start = time.perf_counter()
    model.build_vocab(corpus_file=spec["corpus"])
    vocab_seconds = time.perf_counter() - start
    start = time.perf_counter()
    model.train(corpus_file=spec["corpus"], total_words=model.corpus_total_words,
                epochs=model.epochs)
    train_seconds = time.perf_counter() - start
    everyone = comm.gather(records[-1], root=0) if comm else []
    if comm and comm.rank != 0:
        return
    result = {"processes": comm.size if comm else 1, "params": params,
              "averaging": spec["averaging"], "vocab_seconds": vocab_seconds,
              "train_seconds": train_seconds, "corpus_words": model.corpus_total_words,
              "vocabulary": len(model.wv), "peak_rss_mb": compare._peak_rss_mb(),
              "averaging_statistics": everyone}
    if spec["evaluate"]:
        result.update(compare._evaluate(list(model.wv.index_to_key), model.wv.vectors))
    Path(spec["result_path"]).write_text(json.dumps(result))


def _run(args: argparse.Namespace, corpus: Path, scratch: str, tag: str, processes: int,
         workers: int, seed: int, distributed: bool, evaluate: bool) -> dict:
    params = dict(compare.PRESETS[args.preset], workers=workers, seed=seed)
    if args.epochs:
        params["epochs"] = args.epochs
    if args.alpha and distributed:
        params["alpha"] = args.alpha
    spec = {"corpus": str(corpus), "params": params, "distributed": distributed,
            "averaging": {"period": args.period, "hot_rows": args.hot_rows,
                          "contraction": args.contraction},
            "evaluate": evaluate, "result_path": str(Path(scratch, f"{tag}.json"))}
    result = _spawn(spec, processes)
    result["words_per_second"] = result["corpus_words"] * params["epochs"] / result[
        "train_seconds"]
    stats = result["averaging_statistics"]
    if stats:
        seconds = result["train_seconds"]
        result["bytes_per_second_per_process"] = statistics.mean(
            s["bytes_reduced"] for s in stats) / seconds
        result["rounds_fraction"] = statistics.mean(s["seconds_in_rounds"] for s in stats) / seconds
        result["rounds_cpu_fraction"] = statistics.mean(
            s["cpu_seconds_in_rounds"] for s in stats) / seconds
        result["epoch_end_fraction"] = statistics.mean(
            s["seconds_at_epoch_ends"] for s in stats) / seconds
        result["rounds"] = stats[0]["rounds"]
    print(_describe(tag, result), flush=True)
    return result


def _describe(tag: str, result: dict) -> str:
    text = (f"{tag}: {result['processes']} process(es) x {result['params']['workers']} thread(s)"
            f", train {result['train_seconds']:.1f} s, "
            f"{result['words_per_second'] / 1e6:.3f} M words/s")
    if result.get("analogy") is not None:
        text += f", analogy {result['analogy']:.4f}, WS353 {result['ws353_spearman']:.4f}"
    if "rounds" in result:
        text += (f"; {result['rounds']} rounds, "
                 f"{result['bytes_per_second_per_process'] / 1e6:.2f} MB/s reduced per process, "
                 f"rounds {100 * result['rounds_fraction']:.1f}% of the time "
                 f"({100 * result['rounds_cpu_fraction']:.1f}% CPU), "
                 f"epoch ends {100 * result['epoch_end_fraction']:.1f}%")
    return text


def throughput(args: argparse.Namespace, corpus: Path, scratch: str) -> dict:
    """For each process count P (default 2): 1 process x P threads against P processes x 1
    thread, alternating."""
    found = {}
    for processes in [p for p in args.processes or [2] if p > 1]:
        ratios, runs = [], []
        for pair in range(args.pairs):
            seed = args.seeds[pair % len(args.seeds)]
            alone = _run(args, corpus, scratch, f"pair{pair}-1x{processes}", 1, processes, seed,
                         False, False)
            apart = _run(args, corpus, scratch, f"pair{pair}-{processes}x1", processes, 1, seed,
                         True, False)
            ratios.append(apart["words_per_second"] / alone["words_per_second"])
            runs += [alone, apart]
            print(f"pair {pair + 1}: ratio {processes}x1 / 1x{processes} = {ratios[-1]:.3f}",
                  flush=True)
        print(f"{processes} processes, median ratio: {statistics.median(ratios):.3f} (per pair: "
              + ", ".join(f"{r:.3f}" for r in ratios) + ")", flush=True)
        found[processes] = {"runs": runs, "ratios": ratios,
                            "median_ratio": statistics.median(ratios)}
    return found


def quality(args: argparse.Namespace, corpus: Path, scratch: str) -> dict:
    """Analogy and WS353 for each seed and process count: 1 is one plain process of 2 threads,
    more are that many processes of 1 thread each."""
    counts = args.processes or [1, 2, 4]
    runs = []
    for seed in args.seeds:
        for processes in counts:
            if processes == 1:
                runs.append(_run(args, corpus, scratch, f"seed{seed}-1x2", 1, 2, seed, False,
                                 True))
            else:
                runs.append(_run(args, corpus, scratch, f"seed{seed}-{processes}x1", processes,
                                 1, seed, True, True))
    summary = {}
    for processes in counts:
        own = [r for r in runs if r["processes"] == processes]
        summary[processes] = {}
        for key in ("analogy", "ws353_spearman"):
            values = [r[key] for r in own]
            summary[processes][key] = {"mean": statistics.mean(values),
                                       "sd": statistics.pstdev(values), "values": values}
        print(f"{processes} process(es): analogy {summary[processes]['analogy']['mean']:.4f} ± "
              f"{summary[processes]['analogy']['sd']:.4f}, WS353 "
              f"{summary[processes]['ws353_spearman']['mean']:.4f} ± "
              f"{summary[processes]['ws353_spearman']['sd']:.4f}")
    return {"runs": runs, "summary": summary}


ALLREDUCE_PROBE = '''
import json, sys, time
import numpy as np
from mpi4py import MPI
comm = MPI.COMM_WORLD
dim, repeats, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rows_list = [256, 1024, 4096, 16384, 65536]
result = {}
for rows in rows_list:
    send = np.ones((rows, dim), np.float32)
    summed = np.empty_like(send)
    comm.Barrier()
    start = time.perf_counter()
    for _ in range(repeats):
        comm.Allreduce(send, summed)
    result[rows] = (time.perf_counter() - start) / repeats
if comm.rank == 0:
    json.dump(result, open(out, "w"))
'''


def allreduce(args: argparse.Namespace, corpus: Path, scratch: str) -> dict:
    """Seconds per Allreduce of rows of 100 floats (vector_size), by row count and processes."""
    probe = Path(scratch, "probe.py")
    probe.write_text(ALLREDUCE_PROBE)
    found = {}
    for processes in [p for p in args.processes or [2, 4] if p > 1]:
        out = Path(scratch, f"allreduce{processes}.json")
        subprocess.run([MPIEXEC, "-n", str(processes), sys.executable, str(probe), "100", "20",
                        str(out)], check=True)
        found[processes] = {int(k): v for k, v in json.loads(out.read_text()).items()}
        for rows, seconds in found[processes].items():
            print(f"{processes} processes, {rows} rows of 100 floats: {seconds * 1e3:.2f} ms, "
                  f"{seconds / rows * 1e6:.3f} us per row", flush=True)
    return found


def rows_per_round(vocabulary: int, hot_rows: int, rounds: int = 1 << 16) -> float:
    """Mean rows of one matrix that a round combines (fastw2v's tier schedule)."""
    from fastw2v._distributed import rows_for_round

    return sum(rows_for_round(n, hot_rows, vocabulary) for n in range(1, rounds + 1)) / rounds


def _allreduce_seconds(payload: float, nodes: int, bandwidth: float, latency: float) -> float:
    # A bandwidth-optimal Allreduce (reduce-scatter then allgather, as MPI libraries run long
    # messages): each node sends and receives 2 (N - 1) / N of the payload, in 2 log2 N steps.
    return 2 * (nodes - 1) / nodes * payload / bandwidth + 2 * math.log2(nodes) * latency


def model(args: argparse.Namespace, corpus: Path, scratch: str) -> dict:
    """Throughput on paper at 8, 32 and 128 nodes like this one, on 10 and 100 Gbit/s links
    (see bench/README.md for the formulas)."""
    row_bytes = 4 * args.vector_size
    rows = rows_per_round(args.vocabulary, args.hot_rows)
    table = []
    print(f"rows per round and matrix: {rows:.0f}; {args.matrices} matrices of "
          f"{args.vocabulary} rows of {row_bytes} bytes")
    for gbits, latency in ((10, 20e-6), (100, 5e-6)):
        bandwidth = gbits * 1e9 / 8
        for nodes in (8, 32, 128):
            payload = args.matrices * rows * row_bytes
            local = args.matrices * rows * args.cpu_per_row
            round_seconds = _allreduce_seconds(payload, nodes, bandwidth, latency) + local
            busy = round_seconds / (args.period + round_seconds)
            stolen = local / (args.period + round_seconds) / args.cores
            model_bytes = args.matrices * args.vocabulary * row_bytes
            epoch_end = (2 * _allreduce_seconds(model_bytes, nodes, bandwidth, latency)
                         + args.matrices * args.vocabulary * args.cpu_per_row + args.period)
            speed = args.words_per_second * (1 - stolen)
            row = {"gbits": gbits, "nodes": nodes, "round_ms": 1e3 * round_seconds,
                   "busy": busy, "epoch_end_s": epoch_end,
                   "period_for_10_percent_ms": 1e3 * 9 * round_seconds}
            for words in (args.corpus_words, 1e9):
                epoch = words / (nodes * speed)
                row[f"mwords_per_second_{words:.0e}"] = (
                    nodes * speed * epoch / (epoch + epoch_end) / 1e6)
            table.append(row)
            print(f"{gbits:>3} Gbit/s, {nodes:>3} nodes: round {row['round_ms']:.1f} ms, "
                  f"averaging thread busy {100 * busy:.1f}%, epoch end {epoch_end:.2f} s, "
                  f"period for <10%: {row['period_for_10_percent_ms']:.0f} ms; M words/s: "
                  + ", ".join(f"{v:.0f} ({k.rsplit('_', 1)[1]} words)" for k, v in row.items()
                              if k.startswith("mwords")))
    return {"rows_per_round": rows, "table": table}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?",
                        choices=("throughput", "quality", "allreduce", "model"))
    parser.add_argument("--corpus", default=str(compare.DEFAULT_CORPUS))
    parser.add_argument("--cache-dir", default=str(compare.DEFAULT_CACHE))
    parser.add_argument("--limit-words", type=int, help="train on the first N words only")
    parser.add_argument("--preset", choices=sorted(compare.PRESETS), default="sg-ns")
    parser.add_argument("--epochs", type=int, help="override the preset's epochs")
    parser.add_argument("--alpha", type=float,
                        help="override the preset's starting learning rate in the runs of more "
                        "than one process")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--seeds", type=compare._int_list, default=[1, 2, 3])
    parser.add_argument("--processes", type=compare._int_list,
                        help="process counts (quality, default 1,2,4: 1 = one plain process of 2 "
                        "threads; throughput, default 2: P processes x 1 thread against 1 x P "
                        "threads; allreduce, default 2,4)")
    from fastw2v import Averaging

    defaults = Averaging(comm=None)
    parser.add_argument("--period", type=float, default=defaults.period,
                        help="Averaging(period=...)")
    parser.add_argument("--hot-rows", type=int, default=defaults.hot_rows,
                        help="Averaging(hot_rows=...)")
    parser.add_argument("--contraction", type=float, default=defaults.contraction,
                        help="Averaging(contraction=...)")
    parser.add_argument("--out", help="write the runs and the summary to this JSON file")
    model_options = parser.add_argument_group(
        "model", "the measured figures the model starts from (defaults: this machine, "
        "2026-12-01, bench/RESULTS.md)")
    model_options.add_argument("--vocabulary", type=int, default=49_285)
    model_options.add_argument("--vector-size", type=int, default=100)
    model_options.add_argument("--matrices", type=int, default=2, help="syn0 and syn1neg")
    model_options.add_argument("--cpu-per-row", type=float, default=0.6e-6,
                               help="seconds of the averaging thread per row combined")
    model_options.add_argument("--words-per-second", type=float, default=2.7e6,
                               help="one node's training speed")
    model_options.add_argument("--cores", type=int, default=2, help="cores per node")
    model_options.add_argument("--corpus-words", type=float, default=18.95e6)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        _child(json.loads(args.child))
        return 0
    if args.what is None:
        parser.error("say what to measure: throughput, quality or allreduce")
    if MPIEXEC is None and args.what != "model":
        raise SystemExit("distributed.py: error: no mpiexec: pip install 'fastw2v[mpi]'")
    corpus = (compare._prepare_corpus(Path(args.corpus), Path(args.cache_dir), args.limit_words)
              if args.what in ("throughput", "quality") else Path(args.corpus))
    with tempfile.TemporaryDirectory(prefix="fastw2v-distributed-") as scratch:
        found = {"throughput": throughput, "quality": quality, "allreduce": allreduce,
                 "model": model}[args.what](args, corpus, scratch)
    if args.out:
        report = {"command": shlex.join([sys.executable, *sys.argv]),
                  "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "machine": compare._machine(), "corpus": str(corpus),
                  "preset": args.preset, "period": args.period, "hot_rows": args.hot_rows,
                  "contraction": args.contraction,
                  "python": platform.python_version(), "results": found}
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
