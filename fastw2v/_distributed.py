"""Training across the processes of an MPI job, through mpi4py.

``Word2Vec(corpus_file=..., comm=MPI.COMM_WORLD, workers=...)``, started by ``mpiexec`` in every
process of the job, trains one model on all of them. mpi4py is imported by the caller, never by
fastw2v: without ``comm`` nothing here runs.

Data
    One ``corpus_file`` that every process can read (a shared file system) is cut into
    processes x workers line-aligned byte ranges (`_corpus.line_ranges`); process r trains the
    r-th run of `workers` of them. A list of files (the same list in every process) is shared out
    whole, balanced by bytes: the largest file goes to the process with the fewest bytes so far;
    each process cuts each of its files into `workers` ranges. Every word is counted, and
    trained, by exactly one process.
Vocabulary
    Each process counts its share with the trainer's tokenizer (`_count.count_file_words` on its
    byte ranges, in up to `workers` threads for large ones, as one process counts a file); the
    first process merges the tables in process order (so that words keep the order a single
    pass over the file would first see them in) and sends the merged counts to
    every process, where `Word2Vec` prunes and sorts them as it always does. Vocabulary, Huffman
    tree, noise table and initial vectors are then computed from the same counts and seed:
    identical everywhere, and identical to one process counting the whole file. (With
    ``max_vocab_size`` each process prunes its own table as it counts, and the merged table is
    pruned again past that size: close to, not exactly, what one process would keep. A
    ``trim_rule`` must be the same function in every process: it is not compared.)
Training
    Every process runs its worker threads as usual, and one more thread, the only one that calls
    MPI while training runs, combines the model with the others' every `period` seconds. The
    vocabulary is sorted by frequency, so the rows that every process updates all the time form
    a prefix (a suffix of hierarchical softmax's inner nodes, the root last): round n combines
    the first ``hot_rows * 2**k`` rows, where 2**k is the largest power of two dividing n. The
    hottest `hot_rows` rows are combined every round, the next tier of as many every second
    round, the next, twice as large, every fourth round, and so on (the scheme of Ji et al.,
    "Parallelizing Word2Vec in Shared and Distributed Memory", arXiv:1604.04661): under Zipf's
    law every tier's rows see about as many updates between two rounds that combine them.
    Each process sends (Allreduce) what its rows moved since they were last combined, and a row
    takes a share of the sum of the moves that depends on how often it was updated. A row
    updated once in a while in each process, from different text, takes the sum: one process
    reading the whole corpus would have made all of those updates (their mean, pWord2Vec's rule,
    divides the learning of most of the vocabulary by the number of processes). A row every
    process updates thousands of times per round has moved, in each process, most of the way to
    where its updates pull it; each move is one estimate of the same step, and the sum would
    overshoot (it diverges from 4 processes on): it takes the mean. In between: if each of a
    row's u updates shrinks its distance to that point by a factor q, one process doing the
    P processes' updates one after the other would have moved it (1 - q^(P u)) / (1 - q^u) times
    one process's move, which is the rule: the sum times (1 - a^P) / (P (1 - a)), a = q^u. The
    updates u of a row since it was last combined are its share of the words read (a word's
    count; the words below a Huffman node) times the words each process read since then, and
    ln q = -`contraction` x the learning rate at the time x the mean squared length of the rows
    the row's updates are multiplied by (the output rows for an input vector, the input vectors
    for an output row, weighted by how often each is the one): an update of the logistic loss
    moves a row along the other row by the learning rate times the loss's curvature, at most
    1/4, times that length squared (the default `contraction` is that bound; an update here is
    one word read, and a Huffman path counts as its mean node, so the constant is only a guide;
    in CBOW with ``cbow_mean=1``, where a word's vector is one of the n context rows whose mean
    is the input, the word vectors' rate is divided by n, the mean number of context words, and
    the output rows', updated once per window by that mean, by n^2). So at the start, when the
    output rows are zero and the input vectors short, every row takes the sum and learns as fast
    as one process would; the rows that become hot move toward the mean as the vectors grow, the
    input vectors sooner than the output rows, which are multiplied by the shorter input
    vectors. The combined move is added to the rows as they are by then, so the updates the
    workers made while the round ran are kept.
    Rows combined every 2**k-th round count 2**k rounds' words, so that tiers combined rarely
    take nearly the mean: hence tiers from 8192 rows by default. At the end of every
    epoch the workers stop, every row is combined by the first process and sent from it, so
    that all processes start each epoch (and end training) with the same model. Each round also
    sums the words read, so that all processes follow one learning-rate schedule over the words
    read by all of them, and the epoch's loss is the sum of theirs.
Faults
    Before anything is counted or trained, the processes compare their parameters and corpus
    (and, for training, their vocabulary and weights); any difference, or a missing file on any
    process, is a ValueError (or the error the file check raised) in every process, naming the
    process and what differs. Once they work together, a process that fails prints its error
    and ends the job (MPI_Abort): the others would otherwise wait for it forever. Every
    collective call is polled with a deadline (`timeout`), so that a process that hangs or
    vanished ends the job too, after printing what it waited for.

The communication thread needs MPI initialised with at least ``MPI_THREAD_SERIALIZED`` (mpi4py
asks for ``MPI_THREAD_MULTIPLE`` unless told otherwise); no other thread of the program may call
MPI on the communicator while a model trains.
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
import threading
import time
import traceback
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

from fastw2v import _averaging, _corpus, _objectives, _vocab
from fastw2v._vocab import CorpusScan

logger = logging.getLogger("fastw2v.distributed")

# Rows of one matrix sent in one collective call, in bytes: bounds the scratch buffers.
_CHUNK_BYTES = 8 << 20
# Tests of a pending request before the poller starts sleeping between tests, and the sleep:
# short collectives finish while spinning, long waits (another process still counting, say)
# cost no CPU the workers could use.
_SPIN_TESTS = 200
_POLL_SECONDS = 0.0005
# How long a failing process waits between printing its error and ending the job.
_FORWARD_SECONDS = 0.3


@dataclass(frozen=True)
class Averaging:
    """How processes combine their models: give it as ``Word2Vec(comm=...)``.

    Parameters
    ----------
    comm : mpi4py.MPI.Intracomm
        The processes that train together, such as ``MPI.COMM_WORLD``.
    period : float, default 0.1
        Seconds from the end of one averaging round to the start of the next.
    hot_rows : int, default 8192
        Rows combined in every round (the most frequent words); the next tiers, each as large as
        all the rows before it, are combined every 2nd, 4th, 8th... round.
    contraction : float, default 0.25
        How far one update moves a row toward where its updates pull it (as ``-ln`` of the
        factor left), per unit of learning rate and of the squared length of the rows the update
        multiplies it by. The default is the bound on the logistic loss's curvature (1/4), not a
        tuned value; it was measured on skip-gram with negative sampling. CBOW with
        ``cbow_mean=1`` divides it by the mean number of context words n (6 at ``window=5`` with
        shrinking windows) for the word vectors, by n^2 for the output rows. It sets which rows
        take the mean of the processes' moves (rows updated so often that each process's move
        reaches that point) and which take their sum (rows updated rarely). 0 sums every move.
    timeout : float, default 300
        Seconds any process waits for the others in one collective call before it decides one
        of them died or hangs, and ends the job. It must exceed the longest legitimate wait: the
        first process merging the vocabulary, callbacks that run between epochs, a process that
        starts late.

    Examples
    --------
    >>> from fastw2v import Averaging
    >>> Averaging(comm=None, period=0.5).hot_rows
    8192
    """

    comm: Any
    period: float = 0.1
    hot_rows: int = 8192
    contraction: float = 0.25
    timeout: float = 300.0

    def __post_init__(self) -> None:
        for name in ("period", "timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"Averaging {name} must be a number of seconds > 0, "
                                 f"got {value!r}")
        if (isinstance(self.hot_rows, bool) or not isinstance(self.hot_rows, int)
                or self.hot_rows < 1):
            raise ValueError(f"Averaging hot_rows must be an int >= 1, got {self.hot_rows!r}")
        if (isinstance(self.contraction, bool) or not isinstance(self.contraction, (int, float))
                or not self.contraction >= 0 or self.contraction == float("inf")):
            raise ValueError("Averaging contraction must be a finite number >= 0, got "
                             f"{self.contraction!r}")


def settings(comm: Any) -> Averaging:
    """The averaging settings of ``Word2Vec(comm=...)``: an `Averaging` as it is, or a
    communicator with the default settings."""
    if isinstance(comm, Averaging):
        return comm
    if not all(hasattr(comm, name) for name in ("Get_rank", "Get_size", "Idup", "Iallreduce")):
        raise TypeError("comm must be an mpi4py communicator (such as mpi4py.MPI.COMM_WORLD) "
                        f"or a fastw2v.Averaging, got {type(comm).__name__}")
    return Averaging(comm)


def rows_for_round(round_number: int, hot_rows: int, rows: int) -> int:
    """How many of a matrix's `rows`, hottest first, averaging round `round_number` (1, 2, ...)
    takes: `hot_rows` times the largest power of two that divides the round number.

    >>> [rows_for_round(n, 1024, 5000) for n in range(1, 9)]
    [1024, 2048, 1024, 4096, 1024, 2048, 1024, 5000]
    """
    return min(rows, hot_rows << ((round_number & -round_number).bit_length() - 1))


# ------------------------------------------------------------------------------ collectives


def _every_rank(error: BaseException) -> BaseException:
    # Raised by every process at the same point: nobody is left waiting, so no abort is due.
    error._fastw2v_every_rank = True  # type: ignore[attr-defined]
    return error


class _Group:
    """The processes of one build_vocab() or train() call: a private duplicate of the caller's
    communicator (so that fastw2v's messages never meet the caller's), and collective calls
    polled with a deadline."""

    def __init__(self, averaging: Averaging) -> None:
        from mpi4py import MPI

        self.settings = averaging
        self.world = averaging.comm
        self.rank = self.world.Get_rank()
        self.size = self.world.Get_size()
        if self.size > 1 and MPI.Query_thread() < MPI.THREAD_SERIALIZED:
            names = {MPI.THREAD_SINGLE: "MPI_THREAD_SINGLE",
                     MPI.THREAD_FUNNELED: "MPI_THREAD_FUNNELED"}
            raise RuntimeError(
                "training across processes combines the models from a thread of its own, which "
                "needs MPI initialised with MPI_THREAD_SERIALIZED or MPI_THREAD_MULTIPLE, but it "
                f"was initialised with {names.get(MPI.Query_thread(), MPI.Query_thread())}: "
                "leave mpi4py.rc.thread_level (or MPI4PY_RC_THREAD_LEVEL) at 'multiple'")
        self.comm, request = self.world.Idup()
        self.wait(request, "starting")

    def close(self) -> None:
        self.comm.Free()

    def abort(self, message: str, code: int = 1) -> None:
        """Print `message` and end every process of the job."""
        print(f"fastw2v: process {self.rank} of {self.size}: {message}; ending the MPI job",
              file=sys.stderr, flush=True)
        # The launcher forwards each process's output as it comes; once the job is aborted,
        # what it has not forwarded yet is lost.
        time.sleep(_FORWARD_SECONDS)
        self.world.Abort(code)
        # Some MPI libraries return from MPI_Abort before the launcher ends the job: nothing
        # more may run here meanwhile.
        os._exit(code)

    @contextmanager
    def guard(self, what: str) -> Iterator[None]:
        """End the job when this process fails alone: the others would wait for it forever."""
        try:
            yield
        except BaseException as error:
            if self.size == 1 or getattr(error, "_fastw2v_every_rank", False):
                raise
            if isinstance(error, KeyboardInterrupt):
                self.abort(f"interrupted while {what}", 130)
            traceback.print_exc(file=sys.stderr)
            self.abort(f"failed while {what}: {type(error).__name__}: {error}")
            raise

    def wait(self, request: Any, what: str) -> None:
        """Wait for a nonblocking collective call, ending the job at the deadline."""
        tests = 0
        deadline = None
        while not request.Test():
            tests += 1
            if tests < _SPIN_TESTS:
                continue
            now = time.monotonic()
            if deadline is None:
                deadline = now + self.settings.timeout
            elif now > deadline:
                self.abort(f"no answer from the other processes for {self.settings.timeout:g} s "
                           f"while {what}: one of them died or hangs (Averaging(timeout=...) "
                           "sets how long to wait)")
            time.sleep(_POLL_SECONDS)

    def allreduce(self, values: np.ndarray, what: str) -> np.ndarray:
        total = np.empty_like(values)
        self.wait(self.comm.Iallreduce(values, total), what)
        return total

    def allgather_object(self, value: Any, what: str) -> list:
        data = np.frombuffer(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), np.uint8)
        sizes = np.zeros(self.size, dtype=np.int64)
        self.wait(self.comm.Iallgather(np.array([data.size], dtype=np.int64), sizes), what)
        gathered = np.empty(int(sizes.sum()), dtype=np.uint8)
        self.wait(self.comm.Iallgatherv(data, (gathered, sizes.tolist())), what)
        ends = np.cumsum(sizes)
        return [pickle.loads(gathered[end - size:end].tobytes())
                for size, end in zip(sizes.tolist(), ends.tolist())]

    def gather_object(self, value: Any, what: str) -> Optional[list]:
        """Every process's `value`, in process order, on the first process (None elsewhere)."""
        data = np.frombuffer(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), np.uint8)
        sizes = np.zeros(self.size, dtype=np.int64)
        self.wait(self.comm.Igather(np.array([data.size], dtype=np.int64), sizes, root=0), what)
        gathered = np.empty(int(sizes.sum()) if self.rank == 0 else 0, dtype=np.uint8)
        self.wait(self.comm.Igatherv(
            data, (gathered, sizes.tolist()) if self.rank == 0 else None, root=0), what)
        if self.rank != 0:
            return None
        ends = np.cumsum(sizes)
        return [pickle.loads(gathered[end - size:end].tobytes())
                for size, end in zip(sizes.tolist(), ends.tolist())]

    def bcast_object(self, value: Any, what: str) -> Any:
        """The first process's `value`, on every process."""
        data = (np.frombuffer(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), np.uint8)
                if self.rank == 0 else None)
        size = np.array([data.size if data is not None else 0], dtype=np.int64)
        self.wait(self.comm.Ibcast(size, root=0), what)
        buffer = data.copy() if data is not None else np.empty(int(size[0]), dtype=np.uint8)
        self.wait(self.comm.Ibcast(buffer, root=0), what)
        return pickle.loads(buffer.tobytes()) if self.rank else value

    def agree(self, work: Callable[[], Any], what: str) -> Any:
        """Run `work` in every process; if it raised in any, raise that error in every one,
        naming the process."""
        problem = None
        own: Optional[Exception] = None
        try:
            value = work()
        except Exception as error:
            value, own = None, error
            message = (f"{error.filename}: {error.strerror}"
                       if isinstance(error, OSError) and error.filename and error.strerror
                       else str(error))
            problem = (type(error), message)
            try:
                pickle.dumps(problem)
            except Exception:
                problem = (ValueError, f"{type(error).__name__}: {error}")
        problems = self.allgather_object(problem, what)
        failed = [(rank, p) for rank, p in enumerate(problems) if p is not None]
        if not failed:
            return value
        rank, (kind, message) = failed[0]
        text = f"process {rank} of {self.size}: {message}"
        if len(failed) > 1:
            others = ", ".join(str(rank) for rank, _ in failed[1:])
            text += f" (process{'es' if len(failed) > 2 else ''} {others} failed too)"
        try:
            failure = kind(text)
        except Exception:
            failure = ValueError(text)
        raise _every_rank(failure) from own

    def agree_on(self, facts: dict, what: str) -> None:
        """Raise a ValueError in every process unless all of them give the same `facts`."""
        everyone = self.allgather_object(_flat(facts), f"comparing {what}")
        differences = []
        for rank, theirs in enumerate(everyone[1:], start=1):
            for key in sorted(set(theirs) | set(everyone[0])):
                if theirs.get(key) != everyone[0].get(key):
                    differences.append(f"process {rank} has {key}={theirs.get(key)!r} where "
                                       f"process 0 has {everyone[0].get(key)!r}")
        if differences:
            shown = "; ".join(differences[:5])
            more = f" (and {len(differences) - 5} more)" if len(differences) > 5 else ""
            raise _every_rank(ValueError(
                f"the processes disagree on {what}: {shown}{more}; start every process with "
                "the same parameters, corpus and model"))


def _flat(facts: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in facts.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def collectively(comm: Any, work: Callable[[], Any]) -> Any:
    """Run `work` in every process of `comm`; when it raises in any of them, every process
    raises that error (for checks that must fail everywhere or nowhere, such as the command
    line's checks of its files)."""
    group = _Group(settings(comm))
    try:
        with group.guard("checking the input"):
            return group.agree(work, "checking the input")
    finally:
        group.close()


# ---------------------------------------------------------------------------- data shares


@dataclass
class Share:
    """One process's part of the corpus.

    `jobs[k]` lists worker k's byte ranges as (job number, path, start, end), job numbers
    unique across processes (they seed the ranges' random draws); `count_ranges` are the byte
    ranges this process counts the vocabulary of; `description` is what every process must
    agree on.
    """

    jobs: list
    count_ranges: list
    description: dict


def _corpus_paths(model: Any, corpus_iterable: Any, corpus_file: Any) -> list[str]:
    if corpus_iterable is not None:
        raise TypeError("training across processes (comm=...) reads corpus files: give "
                        "corpus_file=path (one file every process reads its part of) or a list "
                        "of files, not sentences")
    if corpus_file is None:
        raise TypeError("give corpus_file: a path, or a list of paths")
    if isinstance(corpus_file, (str, os.PathLike)):
        files = [corpus_file]
    elif isinstance(corpus_file, Sequence) and not isinstance(corpus_file, bytes):
        files = list(corpus_file)
        if not files:
            raise ValueError("corpus_file is an empty list: give at least one file")
    else:
        raise TypeError(f"corpus_file must be a path or a list of paths, got "
                        f"{type(corpus_file).__name__}")
    return [model._check_corpus(None, path) for path in files]


def balance(sizes: Sequence[int], processes: int) -> list[list[int]]:
    """Which files (indices into `sizes`) each process trains: the largest file first, each to
    the process with the fewest bytes so far (the lowest-numbered on a tie); each process's files
    in their given order.

    >>> balance([10, 40, 30, 20], 2)
    [[0, 1], [2, 3]]
    """
    loads = [0] * processes
    owned: list[list[int]] = [[] for _ in range(processes)]
    for index in sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)):
        rank = min(range(processes), key=lambda r: (loads[r], r))
        owned[rank].append(index)
        loads[rank] += sizes[index]
    return [sorted(files) for files in owned]


def plan_share(paths: Sequence[str], workers: int, processes: int, rank: int) -> Share:
    """The share of process `rank`: see the module's docstring."""
    sizes = [os.path.getsize(path) for path in paths]
    description = {"files": [os.path.basename(p) for p in paths], "bytes": sizes}
    if len(paths) == 1:
        path = paths[0]
        ranges = _corpus.line_ranges(path, processes * workers)
        mine = ranges[rank * workers:(rank + 1) * workers]
        own_jobs = [[(rank * workers + k, path, start, end)] for k, (start, end) in enumerate(mine)]
        return Share(own_jobs, [(path, mine[0][0], mine[-1][1])], description)
    jobs: list[list] = [[] for _ in range(workers)]
    count_ranges = []
    for index in balance(sizes, processes)[rank]:
        path = paths[index]
        for k, (start, end) in enumerate(_corpus.line_ranges(path, workers)):
            jobs[k].append((index * workers + k, path, start, end))
        count_ranges.append((path, 0, sizes[index]))
    return Share(jobs, count_ranges, description)


# ------------------------------------------------------------------------------ vocabulary


def _count_share(share: Share, max_vocab_size: Optional[int], threads: int = 1) -> tuple:
    counts: dict[str, int] = {}
    total = sentences = 0
    min_reduce = 1
    for path, start, end in share.count_ranges:
        items, words, lines, reduced = _vocab.count_file(
            path, max_vocab_size, _corpus.MAX_SENTENCE_LENGTH, threads, start, end)
        _vocab.add_decoded_counts(counts, path, items)
        total += words
        sentences += lines
        min_reduce = max(min_reduce, reduced)
    # Tokens hold no whitespace, so one newline-joined string carries them compactly.
    return ("\n".join(counts), np.fromiter(counts.values(), np.int64, len(counts)), total,
            sentences, min_reduce)


def _merge_counts(tables: list, max_vocab_size: Optional[int]) -> tuple:
    merged: dict[str, int] = {}
    total = sentences = 0
    min_reduce = 1
    # In process order: the shares follow each other in the corpus, so first-seen order is the
    # order of one pass over it.
    for words, counts, table_total, table_sentences, table_min_reduce in tables:
        for word, count in zip(words.split("\n") if words else (), counts.tolist()):
            merged[word] = merged.get(word, 0) + count
        total += table_total
        sentences += table_sentences
        min_reduce = max(min_reduce, table_min_reduce)
    while max_vocab_size and len(merged) > max_vocab_size:
        merged = {w: c for w, c in merged.items() if c >= min_reduce}
        min_reduce += 1
    return ("\n".join(merged), np.fromiter(merged.values(), np.int64, len(merged)), total,
            sentences, min_reduce)


def scan_corpus(comm: Any, model: Any, corpus_iterable: Any, corpus_file: Any) -> CorpusScan:
    """Count the vocabulary of the corpus across the processes of `comm`: every process returns
    the same counts, in the first-seen order of one pass over the corpus."""
    group = _Group(settings(comm))
    try:
        with group.guard("counting the vocabulary"):
            paths = group.agree(lambda: _corpus_paths(model, corpus_iterable, corpus_file),
                                "checking the corpus files")
            share = plan_share(paths, model.workers, group.size, group.rank)
            group.agree_on({"parameters": model.config.saved(), "corpus": share.description},
                           "the vocabulary's parameters and corpus")
            table = group.agree(lambda: _count_share(share, model.max_vocab_size,
                                                     model.workers),
                                "counting the vocabulary")
            tables = group.gather_object(table, "sending the word counts")
            merged = group.bcast_object(
                _merge_counts(tables, model.max_vocab_size) if tables is not None else None,
                "receiving the merged word counts")
    finally:
        group.close()
    words, counts, total, sentences, min_reduce = merged
    return CorpusScan(dict(zip(words.split("\n") if words else (), counts.tolist())),
                      sentences, total, min_reduce)


# -------------------------------------------------------------------------------- training


class RangeCorpus:
    """A process's share of the corpus files: worker k trains its byte ranges one after another,
    each from the random draws of its job number."""

    def __init__(self, index_to_key: list, jobs: list) -> None:
        self.vocab_hash = _corpus.VocabHash(index_to_key)
        self.jobs = jobs

    def run_epoch(self, trainer: Any, states: list, pool: Any,
                  seed_for: Callable[[int], int]) -> int:
        for state, jobs in zip(states, self.jobs):
            pool.start(_train_ranges, trainer, state, self.vocab_hash, jobs, seed_for)
        pool.wait()
        return 0


def _train_ranges(trainer: Any, state: Any, vocab_hash: Any, jobs: list,
                  seed_for: Callable[[int], int]) -> None:
    for job, path, start, end in jobs:
        if trainer.stop_requested:
            return
        state.reseed(seed_for(job))
        _corpus.train_file_range(trainer, state, vocab_hash, path, start, end)


def mean_context_words(window: int, shrink_windows: bool) -> float:
    """The mean number of context words of a window away from a sentence's ends: each side's
    reach is drawn uniformly in [1, window] when windows shrink.

    >>> mean_context_words(5, True), mean_context_words(5, False)
    (6.0, 10.0)
    """
    return float(window + 1 if shrink_windows else 2 * window)


def architecture_factors(model: Any) -> tuple[float, float]:
    """How much faster than `contraction` states it, per word read, the word vectors and the
    output rows of `model`'s architecture contract.

    `contraction` is stated for skip-gram, where a word's vector is the input of each of its
    predictions and an output row is updated for every context word of a window. In CBOW with
    cbow_mean=1 a word's vector is one of the window's n context rows and their mean is the
    input: one row's move shifts that mean by 1/n of it, so a word vector contracts about 1/n as
    fast. An output row is updated once per window, not n times, and multiplied by the mean of n
    rows, whose squared length is about 1/n of a row's (rows far from parallel): 1/n^2 (the
    screening that chose these is in bench/RESULTS.md, fifteenth session). With cbow_mean=0 the
    input is the sum: each context row takes the whole step, and the output row meets an input
    of about n times a row's squared length, so the skip-gram rates stand (not measured on a
    cluster).
    """
    if model.sg or not model.cbow_mean:
        return 1.0, 1.0
    context = mean_context_words(model.window, model.shrink_windows)
    return 1.0 / context, 1.0 / context ** 2


class _Rows:
    """One matrix combined across processes: its rows as last combined (`base`), each row's
    share of the words read and the words read when it was last combined, and the scratch
    buffers of one chunk."""

    def __init__(self, live: np.ndarray, hot_first: bool, shares: np.ndarray,
                 architecture_factor: float = 1.0) -> None:
        self.live = live
        self.hot_first = hot_first
        self.base = live.copy()
        self.shares = shares
        # The matrices whose rows this one's updates are multiplied by, each with its rows'
        # weights (summing to 1), and the squared length of each row of `base`, kept up to date
        # for the rows each combination changes (so that its cost follows the rows combined).
        self.partners: list[tuple[_Rows, np.ndarray]] = []
        # How much an update of this matrix contracts relative to a skip-gram update, per word
        # read and per unit of the partners' squared length (see ModelSync).
        self.architecture_factor = architecture_factor
        self.squared_lengths = np.empty(len(live), dtype=np.float64)
        self.measure(0, len(live))
        self.words_combined = np.zeros(len(live), dtype=np.int64)
        self.chunk = max(1, _CHUNK_BYTES // (live.shape[1] * live.itemsize))
        rows = min(self.chunk, len(live))
        self.moves = np.empty((rows, live.shape[1]), dtype=np.float32)
        self.summed = np.empty((rows, live.shape[1]), dtype=np.float32)

    def span(self, rows: int) -> tuple[int, int]:
        """The `rows` hottest rows, as a range of row numbers."""
        rows = min(rows, len(self.live))
        return (0, rows) if self.hot_first else (len(self.live) - rows, len(self.live))

    def measure(self, start: int, end: int) -> None:
        """Record the squared lengths of rows [start, end) of `base`, after they changed."""
        _averaging.measure(self.base[start:end], self.squared_lengths[start:end])

    def partner_length(self) -> float:
        """The weighted mean squared length of the partners' rows as last combined: the same
        in every process (einsum, not BLAS, whose sums follow its thread count)."""
        return sum(float(np.einsum("i,i->", weights, partner.squared_lengths))
                   for partner, weights in self.partners)

    def add_combined(self, start: int, end: int, processes: int, words: int, rate: float,
                     update_live: bool) -> None:
        """Add to rows [start, end) of `base` (and of `live`, with `update_live`: less what they
        moved since `moves` was taken) their combined move, their share of the summed moves in
        `summed` by the rule of the module's docstring, and re-measure them: `words` were read
        by all processes by now, and one update of a row shrank its distance to where its
        updates pull it by exp(-`rate`)."""
        rows = end - start
        _averaging.add_combined(self.live[start:end] if update_live else None,
                                self.base[start:end],
                                self.moves[:rows], self.summed[:rows], self.shares[start:end],
                                self.words_combined[start:end], words, processes, rate,
                                self.squared_lengths[start:end])


class ModelSync:
    """Ties one train() call to the same call in the other processes (the runner's `sync`): the
    averaging thread while an epoch runs, and the exact combination and sums at its end."""

    def __init__(self, group: _Group, model: Any, share: Share) -> None:
        self.group = group
        self.is_root = group.rank == 0
        self.share = share
        self._matrices: list[_Rows] = []
        if group.size > 1:
            input_factor, output_factor = architecture_factors(model)
            counts = np.asarray(model.wv.expandos["count"], dtype=np.float64)
            words = _objectives.word_shares(counts)
            inputs = _Rows(model.wv.vectors, True, words, input_factor)
            self._matrices.append(inputs)
            for objective in model._objectives:
                # Huffman inner nodes are numbered from the leaves up: the root, on every
                # word's path, is the last row.
                hot_first = not isinstance(objective, _objectives.HierarchicalSoftmax)
                outputs = _Rows(objective.output, hot_first, objective.row_shares(counts),
                                output_factor)
                self._matrices.append(outputs)
                # An input vector's updates are multiplied by the output rows of its
                # predictions (weighted by how many predictions reach each), an output row's
                # by the input vectors (weighted by their words' counts).
                inputs.partners.append((outputs, outputs.shares / max(outputs.shares.sum(),
                                                                      1e-300)))
                outputs.partners.append((inputs, words))
        self._round = 0
        # Words other processes read, added to this trainer's schedule; this process's words
        # sent to the others so far.
        self._added = 0
        self._reported = 0
        # Words all processes had reported by the last round: the same number in each process,
        # so that all of them combine every row alike.
        self._words_everywhere = 0
        self._thread: Optional[threading.Thread] = None
        self._epoch_done = threading.Event()
        self.rounds = 0
        self.bytes_reduced = 0
        # The averaging thread's time in rounds (while the workers train), and the time from
        # the end of this process's epochs to the end of their combination (workers stopped,
        # waiting for the slowest process included).
        self.seconds_in_rounds = 0.0
        self.cpu_seconds_in_rounds = 0.0
        self.seconds_at_epoch_ends = 0.0

    def corpus(self, index_to_key: list) -> RangeCorpus:
        return RangeCorpus(index_to_key, self.share.jobs)

    def epoch_started(self, trainer: Any) -> None:
        if self.group.size == 1:
            return
        self._epoch_done.clear()
        self._thread = threading.Thread(target=self._combine_while_training, args=(trainer,),
                                        daemon=True, name="fastw2v-averaging")
        self._thread.start()

    def epoch_finished(self, trainer: Any, effective_words: int,
                       loss: float) -> tuple[int, float]:
        """Once this process's workers are done: wait for the others, combine every row, and
        return the epoch's effective words and loss summed over the processes; the trainer's
        word count becomes theirs too."""
        if self.group.size == 1:
            return effective_words, loss
        started = time.perf_counter()
        self._epoch_done.set()
        assert self._thread is not None
        while self._thread.is_alive():
            self._thread.join(0.2)
        local = trainer.words_done - self._added
        counts = self.group.allreduce(np.array([local, effective_words], dtype=np.int64),
                                      "summing the epoch's words")
        losses = self.group.allreduce(np.array([loss], dtype=np.float64),
                                      "summing the epoch's loss")
        missing = int(counts[0]) - trainer.words_done
        trainer.add_words_done(missing)
        self._added += missing
        self._reported = local
        self._words_everywhere = int(counts[0])
        for matrix in self._matrices:
            self._combine(matrix, len(matrix.live), exact=True, trainer=trainer)
        self.seconds_at_epoch_ends += time.perf_counter() - started
        return int(counts[1]), float(losses[0])

    def statistics(self) -> dict:
        """What this process's averaging did: rounds, payload bytes, seconds."""
        return {"rank": self.group.rank, "processes": self.group.size, "rounds": self.rounds,
                "bytes_reduced": self.bytes_reduced, "seconds_in_rounds": self.seconds_in_rounds,
                "cpu_seconds_in_rounds": self.cpu_seconds_in_rounds,
                "seconds_at_epoch_ends": self.seconds_at_epoch_ends}

    def _combine_while_training(self, trainer: Any) -> None:
        period = self.group.settings.period
        try:
            while True:
                # Counted from the end of the last collective call, which all processes leave
                # together, so that they arrive at the next round together too. Once this
                # process's workers are done, the round that tells the others starts at once.
                self._epoch_done.wait(period)
                started, cpu_started = time.perf_counter(), time.thread_time()
                more = self._round_trip(trainer)
                self.seconds_in_rounds += time.perf_counter() - started
                self.cpu_seconds_in_rounds += time.thread_time() - cpu_started
                if not more:
                    return
        except BaseException as error:  # an uncaught error here would leave the others waiting
            traceback.print_exc(file=sys.stderr)
            self.group.abort(f"the averaging thread failed: {type(error).__name__}: {error}")

    def _round_trip(self, trainer: Any) -> bool:
        """One round; False once every process's workers are done with the epoch."""
        local = trainer.words_done - self._added
        header = np.array([local - self._reported, 0 if self._epoch_done.is_set() else 1],
                          dtype=np.int64)
        self._reported = local
        total = self.group.allreduce(header, "combining the model")
        others = int(total[0] - header[0])
        trainer.add_words_done(others)
        self._added += others
        self._words_everywhere += int(total[0])
        if total[1] == 0:
            return False
        self._round += 1
        self.rounds += 1
        for matrix in self._matrices:
            self._combine(matrix, rows_for_round(self._round, self.group.settings.hot_rows,
                                                 len(matrix.live)), exact=False, trainer=trainer)
        return True

    def _combine(self, matrix: _Rows, rows: int, exact: bool, trainer: Any) -> None:
        """Combine the `rows` hottest rows of `matrix` across the processes, chunk by chunk:
        each sends what its rows moved since they were last combined, and the new rows are the
        old ones plus each row's share of the sum of the moves (see the module's docstring). `exact`
        (workers stopped): the first process computes the new rows and sends them to all, so
        that every process holds the same rows bit for bit."""
        low, high = matrix.span(rows)
        live, base, group = matrix.live, matrix.base, self.group
        words = self._words_everywhere
        rate = (group.settings.contraction * matrix.architecture_factor
                * trainer.alpha_after(words) * matrix.partner_length())
        for start in range(low, high, matrix.chunk):
            end = min(start + matrix.chunk, high)
            moves, summed = matrix.moves[:end - start], matrix.summed[:end - start]
            np.subtract(live[start:end], base[start:end], out=moves)
            self.bytes_reduced += moves.nbytes
            if exact:
                group.wait(group.comm.Ireduce(moves, summed if group.rank == 0 else None,
                                              root=0), "combining the model")
                if group.rank == 0:
                    matrix.add_combined(start, end, group.size, words, rate, update_live=False)
                group.wait(group.comm.Ibcast(base[start:end], root=0), "combining the model")
                if group.rank != 0:  # what add_combined did for the first process's rows
                    matrix.words_combined[start:end] = words
                    matrix.measure(start, end)
                np.copyto(live[start:end], base[start:end])
            else:
                group.wait(group.comm.Iallreduce(moves, summed), "combining the model")
                # Added to the rows as they are now, not as they were sent: what the workers
                # wrote meanwhile is kept.
                matrix.add_combined(start, end, group.size, words, rate, update_live=True)


def _fingerprint(model: Any) -> dict:
    words = "\n".join(model.wv.index_to_key).encode("utf-8")
    weights = 0
    for array in [model.wv.vectors] + [o.output for o in model._objectives]:
        weights = zlib.crc32(np.ascontiguousarray(array).view(np.uint8).ravel().data, weights)
    return {"words": len(model.wv), "vocabulary": zlib.crc32(
        np.ascontiguousarray(model.wv.expandos["count"]).view(np.uint8).ravel().data,
        zlib.crc32(words)), "weights": weights, "train_count": model.train_count}


def train(model: Any, comm: Any, corpus_file: Any, *, total_words: int,
          total_examples: Optional[int], epochs: int, start_alpha: float, end_alpha: float,
          compute_loss: bool, callbacks: tuple) -> tuple[int, int]:
    """`Word2Vec.train` across the processes of `comm` (see the module's docstring)."""
    averaging = settings(comm)
    group = _Group(averaging)
    try:
        with group.guard("training"):
            paths = group.agree(lambda: _corpus_paths(model, None, corpus_file),
                                "checking the corpus files")
            share = plan_share(paths, model.workers, group.size, group.rank)
            group.agree_on({
                "parameters": model.config.saved(),
                "train": {"epochs": epochs, "start_alpha": start_alpha, "end_alpha": end_alpha,
                          "total_words": total_words, "total_examples": total_examples,
                          "compute_loss": compute_loss},
                "averaging": {"period": averaging.period, "hot_rows": averaging.hot_rows,
                              "contraction": averaging.contraction},
                "corpus": share.description, "model": _fingerprint(model)},
                "training")
            if not any(start < end for jobs in share.jobs for _, _, start, end in jobs):
                logger.warning("process %i of %i has no part of the corpus to train on",
                               group.rank, group.size)
            sync = ModelSync(group, model, share)
            result = model._train(None, None, total_words, total_examples, epochs, start_alpha,
                                  end_alpha, compute_loss, callbacks if sync.is_root else (),
                                  sync=sync)
            statistics = sync.statistics()
            statistics["seconds_training"] = model.training_seconds
            logger.info("process %(rank)i of %(processes)i: %(rounds)i averaging rounds, "
                        "%(bytes_reduced)i bytes reduced, %(seconds_in_rounds).2f s in rounds "
                        "and %(seconds_at_epoch_ends).2f s at epoch ends of %(seconds_training).2f"
                        " s of training", statistics)
            return result
    finally:
        group.close()
