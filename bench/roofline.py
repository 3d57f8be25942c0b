"""Roofline of fastw2v's training kernels: how far each preset runs from this machine's limits.

For each preset of `compare.py` (and cbow-hs and the 300-dimension, min_count=1 models where
compare.py does not define them yet), this script

1. counts, per *trained word* (a word kept by subsampling: the kernel's ``words_trained``, the
   centre of one window), the floating-point operations of fastw2v's step and the bytes of weight
   rows it moves, from a model of `predict` / `train_sentence` (``_kernels.pyx``) and
   `fw_logistic_step` (``_dense.h``) fed with averages measured on the real corpus: the
   vocabulary of the whole corpus (its counts, keep probabilities and Huffman codes), the words
   of the training prefix kept by the compiled subsampler, windows shrunk at random as the
   kernel shrinks them, and negatives drawn from the noise distribution;
2. trains fastw2v itself on that prefix (1 epoch, one worker) and reads trained words per
   second from the model (effective words that ``train`` returns, over ``training_seconds``);
3. measures this core's peak: an FMA loop in C (8-lane AVX2 + FMA, the instruction set the
   kernels are compiled for, and 16-lane AVX-512 where the CPU has it), and a numpy streaming
   copy, far beyond the caches and within L2;

and prints a markdown table of flops and bytes per trained word, achieved GFLOP/s and GB/s per
core, their shares of the peaks, and the words per second the roofline allows.

The model of one window (centre word t, C context positions after shrinking, d dimensions):

* the dense step of n_in inputs x n_out outputs costs 6 n_in n_out d flops: n_in n_out dot
  products (2d each), the inputs' steps (each input accumulates n_out scaled output rows) and the
  outputs' updates (each output accumulates n_in scaled input rows);
* skip-gram, batched (the default): n_in = the distinct context words, one output set per
  window, plus d flops per input to add its step to its row;
* skip-gram per pair: C predictions of n_in = 1, each with its own output set;
* CBOW: one input, the mean of the C context rows ((C - 1) d adds and d multiplies), one output
  set, then the input's step added to each of the C context rows (C d flops);
* outputs: hierarchical softmax the inner nodes of t's Huffman path; negative sampling t plus
  the distinct noise words that differ from t (the kernel merges repeated draws into one row);
* bytes: every weight row the step touches is read once and written once, 2 x d x 4 bytes
  (CBOW: each context position's row, as the kernel adds the step per position). Rows that stay
  in L1/L2 between steps (the window's rows, frequent words, the top of the Huffman tree) move
  far fewer bytes to and from DRAM, so the byte count is an upper bound on memory traffic.
  Scalar work (sigmoid lookups, index bookkeeping, random draws) is not counted as flops.

Run it alone on a quiet machine where possible, e.g.
``nice -n 10 python bench/roofline.py --corpus /tmp/pg_dev.txt --limit-words 3000000``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

import compare
import numpy as np

# A BLAS library with threads of its own would take the other core from the measurement.
os.environ.update(compare.SINGLE_THREADED_BLAS)

from fastw2v import Word2Vec, _corpus, _kernels, _objectives, _vocab  # noqa: E402
from fastw2v._config import TrainingConfig  # noqa: E402

FLOAT_BYTES = 4


def presets() -> dict[str, dict[str, Any]]:
    """compare.py's presets, with cbow-hs and the 300-d min_count=1 models where it lacks them."""
    found = dict(compare.PRESETS)
    cbow = found["cbow-ns"]
    fallback = {
        "cbow-hs": {**cbow, "hs": 1, "negative": 0},
        "sg-ns-300": {**found["sg-ns"], "vector_size": 300, "min_count": 1},
        "cbow-ns-300": {**cbow, "vector_size": 300, "min_count": 1},
    }
    for name, params in fallback.items():
        found.setdefault(name, params)
    return found


# ----------------------------------------------------------------------------- per-word counts

@dataclass
class WordCost:
    """Averages over the trained words of a corpus, for one preset."""

    trained_share: float      # trained words / in-vocabulary corpus words
    context: float            # context positions per window
    inputs: float             # inputs per prediction (skip-gram batched: distinct context words)
    outputs: float            # output rows per prediction, all objectives
    flops: float              # per trained word
    row_bytes: float          # weight-row bytes per trained word (read + write)


def corpus_sentences(path: Path, key_to_index: dict[str, int]) -> list[np.ndarray]:
    """The in-vocabulary ids of each sentence the file trainer sees: lines, cut every
    MAX_SENTENCE_LENGTH tokens, out-of-vocabulary words dropped."""
    limit = _corpus.MAX_SENTENCE_LENGTH
    sentences = []
    with open(path, encoding="utf-8") as source:
        for line in source:
            tokens = line.split()
            for start in range(0, len(tokens), limit):
                ids = [key_to_index.get(t, -1) for t in tokens[start:start + limit]]
                ids_array = np.array(ids, dtype=np.int32)
                sentences.append(ids_array[ids_array >= 0])
    return sentences


def kept_words(config: TrainingConfig, counts: np.ndarray, sentences: list[np.ndarray],
               seed: int) -> list[np.ndarray]:
    """Each sentence's words that the compiled subsampler keeps (the training code path)."""
    # A one-dimensional trainer: only its keep thresholds and random generator are used.
    small = config.replace(vector_size=1, hs=0, negative=1)
    trainer = _kernels.Trainer(small, np.zeros((len(counts), 1), dtype=np.float32),
                               _vocab.keep_thresholds(counts, config.sample),
                               _objectives.objectives_for(small, counts))
    worker = _kernels.WorkerState(trainer, seed)
    return [trainer.subsample_ids(worker, s) for s in sentences if len(s)]


def _distinct_per_row(values: np.ndarray) -> np.ndarray:
    """Number of distinct entries >= 0 in each row."""
    ordered = np.sort(values, axis=1)
    valid = ordered >= 0
    new = np.ones_like(valid)
    new[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    return (valid & new).sum(axis=1)


def word_cost(config: TrainingConfig, counts: np.ndarray, sentences: list[np.ndarray],
              seed: int = 1, chunk: int = 500_000) -> WordCost:
    """Flops and row bytes per trained word of `config` on these in-vocabulary sentences."""
    rng = np.random.default_rng(seed)
    kept = kept_words(config, counts, sentences, seed)
    lengths = np.array([len(k) for k in kept], dtype=np.int64)
    ids = np.concatenate(kept)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    position = np.arange(len(ids)) - starts
    length = np.repeat(lengths, lengths)
    window, dim = config.window, config.vector_size
    reduced = (rng.integers(0, window, len(ids)) if config.shrink_windows
               else np.zeros(len(ids), dtype=np.int64))
    half = window - reduced
    context = (np.minimum(position, half) + np.minimum(length - 1 - position, half))

    path_lengths = (np.diff(_vocab.huffman_paths(counts)[2]) if config.hs
                    else np.zeros(len(counts), dtype=np.int64))
    noise = (_vocab.noise_weights(counts, config.ns_exponent) if config.negative
             else None)
    noise_cdf = None if noise is None else np.cumsum(noise) / noise.sum()

    totals = dict(inputs=0.0, outputs=0.0, flops=0.0, rows=0.0)
    predictions = 0.0
    for begin in range(0, len(ids), chunk):
        end = min(begin + chunk, len(ids))
        centre = ids[begin:end]
        c = context[begin:end].astype(np.float64)
        n_out = path_lengths[centre].astype(np.float64)
        if noise_cdf is not None:
            draws = np.searchsorted(noise_cdf, rng.random((end - begin, config.negative)),
                                    side="right").astype(np.int32)
            draws[draws == centre[:, None]] = -1
            n_out = n_out + 1 + _distinct_per_row(draws)
        trains = c > 0  # a window without context makes no prediction
        if config.sg and config.batched:
            offsets = [k for k in range(-window, window + 1) if k]
            neighbours = np.full((end - begin, len(offsets)), -1, dtype=np.int32)
            here = np.arange(begin, end)
            for column, k in enumerate(offsets):
                inside = ((np.abs(k) <= half[begin:end]) & (position[begin:end] + k >= 0)
                          & (position[begin:end] + k < length[begin:end]))
                neighbours[inside, column] = ids[here[inside] + k]
            n_in = _distinct_per_row(neighbours).astype(np.float64)
            flops = 6 * n_in * n_out * dim + n_in * dim
            rows = n_in + n_out
            totals["inputs"] += float((n_in * trains).sum())
            totals["outputs"] += float((n_out * trains).sum())
            predictions += float(trains.sum())
        elif config.sg:
            flops = c * (6 * n_out * dim + dim)
            rows = c * (1 + n_out)
            totals["inputs"] += float(c.sum())
            totals["outputs"] += float((c * n_out).sum())
            predictions += float(c.sum())
        else:
            mean_flops = np.maximum(c - 1, 0) * dim + np.where(
                (c > 1) & bool(config.cbow_mean), dim, 0)
            flops = np.where(trains, mean_flops + 6 * n_out * dim + c * dim, 0.0)
            rows = np.where(trains, c + n_out, 0.0)
            totals["inputs"] += float(trains.sum())
            totals["outputs"] += float((n_out * trains).sum())
            predictions += float(trains.sum())
        totals["flops"] += float(flops.sum())
        totals["rows"] += float(rows.sum())
    words = len(ids)
    return WordCost(
        trained_share=words / sum(len(s) for s in sentences),
        context=float(context.mean()),
        inputs=totals["inputs"] / max(predictions, 1.0),
        outputs=totals["outputs"] / max(predictions, 1.0),
        flops=totals["flops"] / words,
        row_bytes=totals["rows"] / words * 2 * dim * FLOAT_BYTES,
    )


# ------------------------------------------------------------------------------ the machine

_FMA_LOOP = r"""
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Independent multiply-adds in registers (the inner loop unrolled, so that the chains are not
 * kept in memory), enough of them to cover the FMA latency on every FMA port; every chain
 * feeds the printed result, so that none is optimised away. */
#define CHAINS 12

__attribute__((target("avx2,fma"))) static float run256(long n) {
    __m256 acc[CHAINS];
    __m256 m = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-7f);
    for (int k = 0; k < CHAINS; k++) acc[k] = _mm256_set1_ps((float)k);
    for (long i = 0; i < n; i++)
#pragma GCC unroll 12
        for (int k = 0; k < CHAINS; k++) acc[k] = _mm256_fmadd_ps(acc[k], m, c);
    __m256 s = acc[0];
    for (int k = 1; k < CHAINS; k++) s = _mm256_add_ps(s, acc[k]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0];
}

__attribute__((target("avx512f"))) static float run512(long n) {
    __m512 acc[CHAINS];
    __m512 m = _mm512_set1_ps(0.9999999f), c = _mm512_set1_ps(1e-7f);
    for (int k = 0; k < CHAINS; k++) acc[k] = _mm512_set1_ps((float)k);
    for (long i = 0; i < n; i++)
#pragma GCC unroll 12
        for (int k = 0; k < CHAINS; k++) acc[k] = _mm512_fmadd_ps(acc[k], m, c);
    __m512 s = acc[0];
    for (int k = 1; k < CHAINS; k++) s = _mm512_add_ps(s, acc[k]);
    return _mm512_reduce_add_ps(s);
}

int main(int argc, char **argv) {
    int lanes = atoi(argv[1]);
    long n = atol(argv[2]);
    if (lanes == 16 && !__builtin_cpu_supports("avx512f")) return 2;
    if (lanes == 8 && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))
        return 2;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    float sink = lanes == 16 ? run512(n) : run256(n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    printf("%.9f %g\n", seconds, (double)sink);
    return 0;
}
"""


def fma_peak(lanes: int, repeats: int = 5, iterations: int = 200_000_000) -> Optional[float]:
    """Best GFLOP/s of one core over `repeats` runs of the FMA loop (None: no compiler, or the
    CPU lacks the instructions)."""
    compiler = shutil.which(os.environ.get("CC", "cc"))
    if compiler is None:
        return None
    with tempfile.TemporaryDirectory(prefix="fastw2v-roofline-") as scratch:
        source, program = Path(scratch, "fma.c"), Path(scratch, "fma")
        source.write_text(_FMA_LOOP)
        built = subprocess.run(
            [compiler, "-O2", "-Wno-unknown-pragmas", "-o", str(program), str(source)],
            capture_output=True, text=True)
        if built.returncode != 0:
            print(f"note: the FMA loop did not compile: {built.stderr.strip()}", file=sys.stderr)
            return None
        best = 0.0
        for _ in range(repeats):
            run = subprocess.run([str(program), str(lanes), str(iterations)],
                                 capture_output=True, text=True)
            if run.returncode != 0:
                return None
            seconds = float(run.stdout.split()[0])
            # 12 chains x lanes x 2 flops (multiply and add) per iteration.
            best = max(best, iterations * 12 * lanes * 2 / seconds / 1e9)
    return best


def copy_bandwidth(megabytes: float, repeats: int) -> float:
    """Best GB/s of a numpy copy between two float32 arrays of `megabytes` each, counting the
    bytes read and the bytes written (not the write-allocate reads a cache may add)."""
    size = int(megabytes * 2**20) // FLOAT_BYTES
    source = np.ones(size, dtype=np.float32)
    target = np.zeros(size, dtype=np.float32)
    np.copyto(target, source)
    best = float("inf")
    inner = max(1, int(64 / megabytes))  # time runs of at least ~64 MB
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            np.copyto(target, source)
        best = min(best, (time.perf_counter() - start) / inner)
    return 2 * source.nbytes / best / 1e9


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_mhz() -> Optional[float]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("cpu MHz"):
                return float(line.split(":", 1)[1])
    except (OSError, ValueError):
        pass
    return None


# --------------------------------------------------------------------------------- throughput

def measure(name: str, params: dict[str, Any], word_freq: dict[str, int], corpus: Path,
            corpus_words: int, seed: int, repeats: int) -> dict[str, Any]:
    """Per-word costs of preset `name` and fastw2v's trained words per second on one core:
    the fastest of `repeats` one-epoch passes (on a shared machine the fastest is the one least
    disturbed)."""
    params = {**params, "workers": 1, "epochs": 1, "seed": seed}
    model = Word2Vec(**params)
    model.build_vocab_from_freq(word_freq)
    counts = np.asarray(model.wv.expandos["count"], dtype=np.int64)
    sentences = corpus_sentences(corpus, model.wv.key_to_index)
    cost = word_cost(model.config, counts, sentences, seed)
    rates = []
    for _ in range(repeats):
        effective, _raw = model.train(corpus_file=str(corpus), total_words=corpus_words,
                                      epochs=1)
        rates.append(effective / model.training_seconds)
    return {"name": name, "params": params, "vocabulary": len(counts), "cost": cost,
            "trained_words": effective, "trained_per_second": max(rates)}


def _table(rows: list[dict[str, Any]], peak: float, peak512: Optional[float], dram: float,
           l2: float) -> str:
    header = ("| preset | d | vocab | kept | context | inputs x outputs | kFLOP / word "
              "| KB / word | flop / byte | M words/s/core | GFLOP/s | % FMA peak | GB/s "
              "| % DRAM BW | roofs M words/s: compute, DRAM |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for row in rows:
        cost: WordCost = row["cost"]
        rate = row["trained_per_second"]
        gflops = cost.flops * rate / 1e9
        gbytes = cost.row_bytes * rate / 1e9
        compute_roof = peak * 1e9 / cost.flops
        memory_roof = dram * 1e9 / cost.row_bytes
        share512 = f" ({100 * gflops / peak512:.1f})" if peak512 else ""
        lines.append(
            f"| {row['name']} | {row['params']['vector_size']} | {row['vocabulary']:,} "
            f"| {100 * cost.trained_share:.0f}% | {cost.context:.2f} "
            f"| {cost.inputs:.2f} x {cost.outputs:.2f} | {cost.flops / 1e3:.1f} "
            f"| {cost.row_bytes / 1e3:.1f} | {cost.flops / cost.row_bytes:.2f} "
            f"| {rate / 1e6:.3f} | {gflops:.1f} | {100 * gflops / peak:.1f}{share512} "
            f"| {gbytes:.1f} | {100 * gbytes / dram:.0f} ({100 * gbytes / l2:.0f}) "
            f"| {compute_roof / 1e6:.2f}, {memory_roof / 1e6:.2f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=str(compare.DEFAULT_CORPUS),
                        help="the corpus whose vocabulary is built (plain text or .xz)")
    parser.add_argument("--cache-dir", default=str(compare.DEFAULT_CACHE))
    parser.add_argument("--limit-words", type=int, default=3_000_000,
                        help="train and measure averages on the first N words (default 3M)")
    parser.add_argument("--presets", default=",".join(presets()),
                        help="comma-separated preset names (default: all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2,
                        help="training passes per preset; the fastest counts (default 2)")
    parser.add_argument("--out", help="also write the markdown report here")
    args = parser.parse_args()
    available = presets()
    chosen = [p for p in args.presets.split(",") if p]
    unknown = [p for p in chosen if p not in available]
    if unknown:
        parser.error(f"--presets: unknown {', '.join(unknown)}; known: {', '.join(available)}")
    if args.limit_words < 1:
        parser.error("--limit-words must be at least 1")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    full = compare._prepare_corpus(Path(args.corpus), Path(args.cache_dir), None)
    prefix = compare._prepare_corpus(Path(args.corpus), Path(args.cache_dir), args.limit_words)
    prefix_words = compare._count_words(prefix)

    print("peak: FMA loop, numpy copies ...", file=sys.stderr, flush=True)
    peak = fma_peak(8)
    peak512 = fma_peak(16)
    peak_how = "measured FMA loop (8-lane AVX2 + FMA, 12 independent chains, best of 5)"
    if peak is None:
        mhz = cpu_mhz() or 0.0
        peak = 8 * 2 * 2 * mhz / 1e3
        peak_how = (f"nominal: 8 lanes x 2 flops x 2 FMA units x {mhz:.0f} MHz "
                    "(no C compiler for the FMA loop)")
    dram = copy_bandwidth(512, repeats=5)
    l2 = copy_bandwidth(0.25, repeats=20)

    print(f"vocabulary of {full} ...", file=sys.stderr, flush=True)
    counting = Word2Vec(min_count=1, workers=1)
    counting.build_vocab(corpus_file=str(full))
    word_freq = dict(zip(counting.wv.index_to_key,
                         np.asarray(counting.wv.expandos["count"]).tolist()))

    rows = []
    for name in chosen:
        print(f"{name} ...", file=sys.stderr, flush=True)
        rows.append(measure(name, available[name], word_freq, prefix, prefix_words, args.seed,
                            args.repeats))

    mhz = cpu_mhz()
    report = [
        f"Command: `{' '.join(['python', *sys.argv])}`",
        f"Date: {datetime.now(timezone.utc).isoformat(timespec='seconds')}; "
        f"CPU: {cpu_model()} ({os.cpu_count()} cores"
        + (f", {mhz:.0f} MHz reported" if mhz else "") + ")",
        f"Vocabulary: counts of {full} ({sum(word_freq.values()):,} words); training and "
        f"averages: its first {prefix_words:,} words, workers=1, seed {args.seed}, the fastest "
        f"of {args.repeats} one-epoch passes.",
        f"Peak per core: {peak:.1f} GFLOP/s, {peak_how}"
        + (f"; AVX-512 (16 lanes, same loop): {peak512:.1f} GFLOP/s, in parentheses"
           if peak512 else "") + ".",
        f"Memory bandwidth per core: {dram:.1f} GB/s, numpy copy of 512 MiB float32 arrays "
        f"(bytes read + written, best of 5); L2-resident copy of 256 KiB arrays {l2:.1f} GB/s, "
        "in parentheses.",
        "",
        _table(rows, peak, peak512, dram, l2),
        "",
        "kept: trained words / in-vocabulary words (subsampling); context: context positions per"
        " window; inputs x outputs: mean per prediction; M words/s: trained words per second"
        " on one core; roofs: the trained words per second that the FMA peak (flops) and the"
        " DRAM bandwidth (bytes) would each allow. Bytes count every touched weight row read and"
        " written once per step (2 x d x 4 bytes), an upper bound on DRAM traffic: rows that"
        " stay in L1/L2 between steps move less, so the DRAM share and roof are pessimistic.",
    ]
    text = "\n".join(report)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
