"""Neighbour search on a large generated matrix: exact search, Annoy and HNSW, against gensim.

    python bench/ann.py prepare --rows 1000000 --dim 300     # the matrix and the exact truth
    python bench/ann.py table                                # exact, gensim, Annoy, HNSW rows
    python bench/ann.py exact-pairs --pairs 3                # batch vs gensim's loop, A B A B
    python bench/ann.py prepare --rows 200000 --data bench/out/ann200k
    python bench/ann.py candidates --data bench/out/ann200k  # hnswlib, usearch, faiss-cpu

The matrix is word-vector-like rather than uniform noise: a Gaussian mixture of 2,000 clusters
(Zipf-like sizes) in a 100-dimensional latent space, projected to `dim` dimensions, plus isotropic
noise (about 11% of the energy). `prepare` writes it to ``--data`` (default
``bench/out/ann/``, git-ignored) with 1,000 query rows and their exact 10 nearest neighbours
(cosine, the query row itself left out, as ``most_similar(word)`` leaves it out).

Every measured method runs in a fresh process, which loads the matrix into a KeyedVectors
(fastw2v's, or gensim's for the gensim rows) before the clock starts, then reports:

- build seconds, and the memory the index holds (resident set growth once built) and needed at
  its peak (sampled every 20 ms during the build), beside the matrix itself;
- queries per second through ``kv.most_similar(word, topn=..., indexer=...)``, one word at a
  time, as users call it, and through the indexer's batch call where it has one;
- recall@10: the share of the exact 10 neighbours found in the index's 10 (the query word, which
  an indexer returns first, is dropped before counting).

Times are given both as wall seconds and as CPU seconds of the process (all its threads), since on
a shared machine the wall clock mostly measures the neighbours. BLAS runs on one thread (the
protocol of ``bench/README.md``); Annoy and hnswlib build with every core, and the HNSW batch
queries use every core too.

`candidates` measures the three HNSW libraries directly, same graph parameters, to choose one.
`exact-pairs` alternates fastw2v's batched exact search and gensim's ``most_similar`` loop on the
same matrix and prints the median of the per-pair ratios of queries per second.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parent / "out" / "ann"
TOPN = 10
_CLUSTERS = 2000
_LATENT_DIM = 100
_WITHIN_CLUSTER = 1.0
_NOISE = 0.5
_CHUNK_ROWS = 100_000


# ------------------------------------------------------------------------------------ data


def generate(rows: int, dim: int, seed: int) -> np.ndarray:
    """The benchmark matrix: clustered latent vectors, projected, plus isotropic noise."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((_CLUSTERS, _LATENT_DIM)).astype(np.float32)
    weights = 1.0 / (np.arange(_CLUSTERS) + 10.0)
    weights /= weights.sum()
    projection = (rng.standard_normal((_LATENT_DIM, dim)) / np.sqrt(_LATENT_DIM)).astype(
        np.float32
    )
    matrix = np.empty((rows, dim), dtype=np.float32)
    for start in range(0, rows, _CHUNK_ROWS):
        end = min(rows, start + _CHUNK_ROWS)
        labels = rng.choice(_CLUSTERS, size=end - start, p=weights)
        latent = centres[labels] + _WITHIN_CLUSTER * rng.standard_normal(
            (end - start, _LATENT_DIM), dtype=np.float32
        )
        matrix[start:end] = latent @ projection + _NOISE * rng.standard_normal(
            (end - start, dim), dtype=np.float32
        )
    return matrix


def exact_truth(matrix: np.ndarray, queries: np.ndarray, topn: int) -> np.ndarray:
    """Rows of the `topn` largest cosines with each query row, the row itself left out."""
    norms = np.linalg.norm(matrix, axis=1)
    unit_queries = matrix[queries] / norms[queries, None]
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_rows = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, len(matrix), _CHUNK_ROWS):
        end = min(len(matrix), start + _CHUNK_ROWS)
        scores = unit_queries @ matrix[start:end].T / norms[start:end]
        inside = (queries >= start) & (queries < end)
        scores[np.nonzero(inside)[0], queries[inside] - start] = -np.inf
        take = min(topn, end - start)
        part = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        best_scores = np.hstack((best_scores, np.take_along_axis(scores, part, axis=1)))
        best_rows = np.hstack((best_rows, part + start))
    order = np.argsort(-best_scores, axis=1, kind="stable")[:, :topn]
    return np.take_along_axis(best_rows, order, axis=1)


def prepare(args: argparse.Namespace) -> None:
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    matrix = generate(args.rows, args.dim, args.seed)
    queries = np.random.default_rng(args.seed + 1).choice(args.rows, args.queries, replace=False)
    truth = exact_truth(matrix, queries, TOPN)
    np.save(data / "matrix.npy", matrix)
    np.savez(data / "queries.npz", queries=queries, truth=truth)
    print(f"{args.rows:,} x {args.dim} matrix and {args.queries} queries with their exact "
          f"neighbours in {data} ({time.perf_counter() - started:.1f} s)")


# ------------------------------------------------------------------------- measuring tools


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakMemory:
    """The largest resident set size seen while the ``with`` block runs, sampled every 20 ms."""

    def __enter__(self) -> PeakMemory:
        self.peak = resident_mb()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.02):
            self.peak = max(self.peak, resident_mb())

    def __exit__(self, *exc: Any) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, resident_mb())


def recall(found: list[list[int]], truth: np.ndarray) -> float:
    hits = [len(set(rows) & set(expected.tolist())) for rows, expected in zip(found, truth)]
    return sum(hits) / (TOPN * len(found))


def load_data(data: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    matrix = np.load(data / "matrix.npy")
    saved = np.load(data / "queries.npz")
    return matrix, saved["queries"], saved["truth"]


def keys_for(rows: int) -> list[str]:
    return [f"w{row}" for row in range(rows)]


def row_of(key: str) -> int:
    return int(key[1:])


def without_query(results: list[tuple[str, float]], query_row: int) -> list[int]:
    return [row for row in (row_of(key) for key, _ in results) if row != query_row][:TOPN]


# -------------------------------------------------------------------------------- children


def _fastw2v_kv(matrix: np.ndarray) -> Any:
    from fastw2v import KeyedVectors

    kv = KeyedVectors(matrix.shape[1])
    kv.add_vectors(keys_for(len(matrix)), matrix)
    kv.fill_norms()
    return kv


def _gensim_kv(matrix: np.ndarray) -> Any:
    from gensim.models import KeyedVectors

    kv = KeyedVectors(matrix.shape[1])
    kv.add_vectors(keys_for(len(matrix)), matrix)
    kv.fill_norms()
    return kv


def _time_single(kv: Any, queries: np.ndarray, truth: np.ndarray, indexer: Any,
                 limit: int) -> dict:
    """Queries/s and recall of ``kv.most_similar(word, ...)``, one word at a time."""
    chosen = queries[:limit]
    found = []
    started, started_cpu = time.perf_counter(), time.process_time()
    for row in chosen:
        if indexer is None:
            results = kv.most_similar(f"w{row}", topn=TOPN)
        else:
            results = kv.most_similar(f"w{row}", topn=TOPN + 1, indexer=indexer)
        found.append(without_query(results, int(row)))
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
    return {"queries": len(chosen), "qps_single": len(chosen) / seconds,
            "qps_single_cpu": len(chosen) / cpu_seconds,
            "recall_at_10": recall(found, truth[:limit])}


def _time_batch(kv: Any, queries: np.ndarray, truth: np.ndarray, indexer: Any) -> dict:
    vectors = kv.vectors[queries] / kv.norms[queries, None]
    started, started_cpu = time.perf_counter(), time.process_time()
    batches = indexer.most_similar_batch(vectors, TOPN + 1)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
    found = [without_query(results, int(row)) for results, row in zip(batches, queries)]
    return {"qps_batch": len(queries) / seconds, "qps_batch_cpu": len(queries) / cpu_seconds,
            "recall_batch": recall(found, truth)}


def _indexer(method: str, kv: Any, build: dict) -> Any:
    from fastw2v import similarities

    if method == "exact":
        return similarities.ExactIndexer(kv)
    if method == "annoy":
        return similarities.AnnoyIndexer(kv, **build)
    if method == "hnsw":
        return similarities.HnswIndexer(kv, **build)
    raise ValueError(f"unknown method {method!r}")


def child(spec: dict) -> dict:
    matrix, queries, truth = load_data(Path(spec["data"]))
    method = spec["method"]
    kv = _gensim_kv(matrix) if method == "gensim" else _fastw2v_kv(matrix)
    del matrix
    baseline = resident_mb()
    result: dict[str, Any] = {"method": method, "build": spec.get("build", {}),
                              "rows": len(kv.vectors), "dim": kv.vector_size}
    if method == "gensim":
        result["runs"] = [_time_single(kv, queries, truth, None, spec["exact_queries"])]
        return result
    if method == "exact-single":
        result["runs"] = [_time_single(kv, queries, truth, None, spec["exact_queries"])]
        return result
    with PeakMemory() as peak:
        started, started_cpu = time.perf_counter(), time.process_time()
        indexer = _indexer(method, kv, spec.get("build", {}))
        result["build_seconds"] = time.perf_counter() - started
        result["build_cpu_seconds"] = time.process_time() - started_cpu
    result["index_mb"] = resident_mb() - baseline
    result["peak_build_mb"] = peak.peak - baseline
    runs = []
    for setting in spec.get("query", [{}]):
        for name, value in setting.items():
            setattr(indexer, name, value)
        limit = spec["exact_queries"] if method == "exact" else len(queries)
        run = {"query": setting, **_time_single(kv, queries, truth, indexer, limit)}
        run.update(_time_batch(kv, queries, truth, indexer))
        runs.append(run)
    result["runs"] = runs
    return result


# ---------------------------------------------------------------- the libraries themselves


def _candidate_hnswlib(unit: np.ndarray, graph: dict, threads: int) -> tuple[Any, Callable]:
    import hnswlib

    index = hnswlib.Index(space="ip", dim=unit.shape[1])
    index.init_index(len(unit), M=graph["M"], ef_construction=graph["ef_construction"],
                     random_seed=1)
    index.add_items(unit, num_threads=threads)
    index.set_num_threads(1)

    def search(vectors: np.ndarray, k: int, ef: int) -> np.ndarray:
        index.set_ef(ef)
        return index.knn_query(vectors, k=k)[0]

    return index, search


def _candidate_usearch(unit: np.ndarray, graph: dict, threads: int) -> tuple[Any, Callable]:
    from usearch.index import Index

    index = Index(ndim=unit.shape[1], metric="ip", dtype="f32", connectivity=graph["M"],
                  expansion_add=graph["ef_construction"])
    index.add(np.arange(len(unit)), unit, threads=threads)

    def search(vectors: np.ndarray, k: int, ef: int) -> np.ndarray:
        index.expansion_search = ef
        # One query row comes back as one match list, not a matrix of them.
        return np.asarray(index.search(vectors, k, threads=1).keys).reshape(len(vectors), -1)

    return index, search


def _candidate_faiss(unit: np.ndarray, graph: dict, threads: int) -> tuple[Any, Callable]:
    import faiss

    faiss.omp_set_num_threads(threads)
    index = faiss.IndexHNSWFlat(unit.shape[1], graph["M"], faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = graph["ef_construction"]
    index.add(unit)
    faiss.omp_set_num_threads(1)

    def search(vectors: np.ndarray, k: int, ef: int) -> np.ndarray:
        index.hnsw.efSearch = ef
        return index.search(vectors, k)[1]

    return index, search


CANDIDATES = {"hnswlib": _candidate_hnswlib, "usearch": _candidate_usearch,
              "faiss": _candidate_faiss}


def _library_version(name: str) -> str:
    from importlib.metadata import version

    return version({"faiss": "faiss-cpu"}.get(name, name))


def candidate_child(spec: dict) -> dict:
    matrix, queries, truth = load_data(Path(spec["data"]))
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    del matrix
    baseline = resident_mb()
    with PeakMemory() as peak:
        started, started_cpu = time.perf_counter(), time.process_time()
        _, search = CANDIDATES[spec["library"]](unit, spec["graph"], spec["threads"])
        build_seconds = time.perf_counter() - started
        build_cpu_seconds = time.process_time() - started_cpu
    result = {"library": spec["library"], "version": _library_version(spec["library"]),
              "graph": spec["graph"], "rows": len(unit), "build_seconds": build_seconds,
              "build_cpu_seconds": build_cpu_seconds,
              "index_mb": resident_mb() - baseline, "peak_build_mb": peak.peak - baseline}
    runs = []
    for ef in spec["ef"]:
        found = []
        started, started_cpu = time.perf_counter(), time.process_time()
        for row in queries:
            rows = search(unit[row : row + 1], TOPN + 1, ef)[0]
            found.append([int(r) for r in rows if r != row][:TOPN])
        single = len(queries) / (time.perf_counter() - started)
        single_cpu = len(queries) / (time.process_time() - started_cpu)
        started_cpu = time.process_time()
        search(unit[queries], TOPN + 1, ef)
        batch_cpu = len(queries) / (time.process_time() - started_cpu)
        runs.append({"ef": ef, "qps_single": single, "qps_single_cpu": single_cpu,
                     "qps_batch_per_cpu_second": batch_cpu, "recall_at_10": recall(found, truth)})
    result["runs"] = runs
    return result


# ------------------------------------------------------------------------------- commands


def spawn(spec: dict) -> dict:
    """Run one measurement in a fresh process; its result is the last line it prints."""
    environment = dict(os.environ)
    if spec.get("blas_threads"):
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            environment[name] = str(spec["blas_threads"])
    completed = subprocess.run(
        [sys.executable, __file__, "_child", json.dumps(spec)],
        check=True, stdout=subprocess.PIPE, env=environment, text=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _parse_settings(text: str) -> dict:
    """``"M=16,ef_construction=200"`` as a dict of ints (or strings where not a number)."""
    settings = {}
    for item in filter(None, text.split(",")):
        name, value = item.split("=")
        settings[name] = int(value) if value.lstrip("-").isdigit() else value
    return settings


def _header() -> dict:
    cpu = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"command": " ".join(sys.argv), "date": datetime.date.today().isoformat(),
            "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__}


def table(args: argparse.Namespace) -> list[dict]:
    specs = [
        {"method": "exact-single"},
        {"method": "gensim"},
        {"method": "exact"},
        {"method": "annoy", "build": _parse_settings(args.annoy),
         "query": [{"search_k": value} for value in args.search_k]},
        {"method": "hnsw", "build": _parse_settings(args.hnsw),
         "query": [{"ef": value} for value in args.ef]},
    ]
    results = []
    for spec in specs:
        if args.methods and spec["method"] not in args.methods:
            continue
        spec.update(data=str(args.data), exact_queries=args.exact_queries, blas_threads=1)
        result = spawn(spec)
        print(json.dumps(result), flush=True)
        results.append(result)
    return results


def candidates(args: argparse.Namespace) -> list[dict]:
    results = []
    for library in args.libraries:
        spec = {"candidate": True, "library": library, "data": str(args.data),
                "graph": _parse_settings(args.graph), "ef": args.ef, "threads": args.threads,
                "blas_threads": 1}
        result = spawn(spec)
        print(json.dumps(result), flush=True)
        results.append(result)
    return results


def exact_pairs(args: argparse.Namespace) -> dict:
    ratios, cpu_ratios, runs = [], [], []
    for pair in range(args.pairs):
        ours = spawn({"method": "exact", "data": str(args.data),
                      "exact_queries": args.exact_queries, "blas_threads": 1})
        theirs = spawn({"method": "gensim", "data": str(args.data),
                        "exact_queries": args.exact_queries, "blas_threads": 1})
        batch, loop = ours["runs"][0]["qps_batch"], theirs["runs"][0]["qps_single"]
        ratios.append(batch / loop)
        cpu_ratios.append(ours["runs"][0]["qps_batch_cpu"] / theirs["runs"][0]["qps_single_cpu"])
        runs += [ours, theirs]
        print(f"pair {pair + 1}: fastw2v batch {batch:.1f} q/s, gensim most_similar loop "
              f"{loop:.1f} q/s, ratio {ratios[-1]:.2f} (per CPU second: {cpu_ratios[-1]:.2f})",
              flush=True)
    print(f"median ratio: {statistics.median(ratios):.2f} (per CPU second: "
          f"{statistics.median(cpu_ratios):.2f})")
    return {"runs": runs, "ratios": ratios, "median_ratio": statistics.median(ratios),
            "cpu_ratios": cpu_ratios, "median_cpu_ratio": statistics.median(cpu_ratios)}


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "_child":
        spec = json.loads(sys.argv[2])
        print(json.dumps(candidate_child(spec) if spec.get("candidate") else child(spec)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("prepare", "table", "candidates", "exact-pairs"):
        command = commands.add_parser(name)
        command.add_argument("--data", type=Path, default=DEFAULT_DATA)
        command.add_argument("--out", type=Path, help="also write the results here, as JSON")
        command.add_argument("--exact-queries", type=int, default=100,
                             help="queries timed for the slow exact one-at-a-time searches")
    prepare_command = commands.choices["prepare"]
    prepare_command.add_argument("--rows", type=int, default=1_000_000)
    prepare_command.add_argument("--dim", type=int, default=300)
    prepare_command.add_argument("--queries", type=int, default=1000)
    prepare_command.add_argument("--seed", type=int, default=1)
    table_command = commands.choices["table"]
    table_command.add_argument("--methods", nargs="*",
                               help="exact-single gensim exact annoy hnsw (default: all)")
    table_command.add_argument("--annoy", default="num_trees=100")
    table_command.add_argument("--search-k", type=int, nargs="+", default=[-1, 100_000])
    table_command.add_argument("--hnsw", default="M=16,ef_construction=200")
    table_command.add_argument("--ef", type=int, nargs="+", default=[50, 100, 200])
    candidates_command = commands.choices["candidates"]
    candidates_command.add_argument("--libraries", nargs="+", default=list(CANDIDATES))
    candidates_command.add_argument("--graph", default="M=16,ef_construction=200")
    candidates_command.add_argument("--ef", type=int, nargs="+", default=[50, 100, 200])
    candidates_command.add_argument("--threads", type=int, default=2)
    commands.choices["exact-pairs"].add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args)
        return
    handler = {"table": table, "candidates": candidates, "exact-pairs": exact_pairs}
    results = handler[args.command](args)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({**_header(), "results": results}, indent=1))


if __name__ == "__main__":
    main()
