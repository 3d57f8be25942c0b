"""The training runner: worker threads, the bounded job queue, stop and Ctrl-C, progress, the
epoch loss. It drives a compiled `_kernels.Trainer` over a corpus and knows nothing of gensim's
API: the facade (`Word2Vec`) hands it hooks for what happens between epochs.

Every way out of `run` (the end, an error in a worker, Ctrl-C) returns only once no worker runs
any more, so no update lands after `run` has returned or raised. Ctrl-C in the main thread is
turned into a stop request while `run` waits: the workers finish their sentence, and then
KeyboardInterrupt is raised. A second Ctrl-C raises at once, and the workers are still waited
for: they signal their end themselves, since `Thread.join` is not enough (before Python 3.13, a
join interrupted by Ctrl-C can leave a running thread marked as stopped).
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import stat
import sys
import threading
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from fastw2v import _corpus, _count, _kernels
from fastw2v.corpora import LineSentence

logger = logging.getLogger("fastw2v.training")

# How often the waiting thread wakes to update the progress bar, in seconds.
REPORT_INTERVAL = 0.2


# Which versions of which files the compiled reader splits as str.split() does.
_SPLIT_CHECKS: dict = {}


def line_sentence_file(corpus: Any) -> Optional[str]:
    """The file behind a `LineSentence` when the compiled corpus-file reader gives exactly its
    sentences, else None.

    That holds for an uncompressed file read whole, cut at the reader's sentence length, whose
    text splits on ASCII whitespace exactly as ``str.split()`` splits it once decoded, with lines
    short enough for every worker's byte range to start at a line; the last two are checked in
    one pass over the file per version of it. Reading it in C saves the Python decoding and
    splitting of every line, every epoch.
    """
    if type(corpus) is not LineSentence:
        return None
    path = corpus.path
    if path is None or corpus.max_sentence_length != _corpus.MAX_SENTENCE_LENGTH:
        return None
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return None
        key = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        if key not in _SPLIT_CHECKS:
            if len(_SPLIT_CHECKS) >= 64:
                _SPLIT_CHECKS.clear()
            _SPLIT_CHECKS[key] = _count.splits_like_str_split(path)
    except OSError:
        return None  # iterating the LineSentence raises the error, with its own message
    if not _SPLIT_CHECKS[key]:
        return None
    logger.debug("reading LineSentence file %r with the compiled reader", path)
    return path


@dataclass
class EpochResult:
    """What one epoch did: raw words read, words trained after subsampling, its loss."""

    number: int
    raw_words: int
    effective_words: int
    sentences: int
    loss: float
    seconds: float


@dataclass
class RunResult:
    epochs: list[EpochResult] = field(default_factory=list)

    @property
    def raw_words(self) -> int:
        return sum(e.raw_words for e in self.epochs)

    @property
    def effective_words(self) -> int:
        return sum(e.effective_words for e in self.epochs)


# At most this many bytes (and an eighth of the machine's memory) hold a corpus file's word ids
# from the first epoch for the others: 4 bytes a word, so corpora up to about 250 M words train
# their later epochs from memory, without reading and tokenising the file again (for CBOW that
# was a sixth of an epoch). Larger corpora are read every epoch, as before.
ID_CACHE_BYTES = 1 << 30


def _memory_bytes() -> int:
    """Physical memory, or 8 GiB where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 8 << 30


class FileCorpus:
    """A plain-text corpus file, read by the compiled reader in one byte range per worker."""

    def __init__(self, path: str, index_to_key: list, workers: int,
                 cache_bytes: Optional[int] = None, words: int = 0, sentences: int = 0) -> None:
        self.path = path
        self.vocab_hash = _corpus.VocabHash(index_to_key)
        self.ranges = _corpus.line_ranges(path, workers)
        # Each range's ids, kept from the first epoch for the others (within the budget), first
        # sized by its share of the corpus's `words` and `sentences` (a little more, for ranges
        # denser than the average).
        budget = ID_CACHE_BYTES if cache_bytes is None else cache_bytes
        per_range = min(budget, _memory_bytes() // 8) // max(len(self.ranges), 1)
        size = max(os.path.getsize(path), 1)
        self.caches = [
            _corpus.RangeCache(per_range, int(1.02 * words * (end - start) / size),
                               int(1.02 * sentences * (end - start) / size))
            for start, end in self.ranges]

    def run_epoch(self, trainer: _kernels.Trainer, states: list, pool: _WorkerPool,
                  seed_for: Callable[[int], int]) -> int:
        # Job k is byte range k.
        for job, (state, byte_range) in enumerate(zip(states, self.ranges)):
            state.reseed(seed_for(job))
            pool.start(_corpus.train_file_range, trainer, state, self.vocab_hash, self.path,
                       *byte_range, self.caches[job])
        pool.wait()
        return 0


class IterableCorpus:
    """Sentences from any restartable iterable, encoded in batches for the workers by one
    producer (the calling thread) through a bounded queue."""

    def __init__(self, sentences: Iterable, key_to_index: dict, batch_words: int) -> None:
        self.sentences = sentences
        self.key_to_index = key_to_index
        self.batch_words = batch_words

    def run_epoch(self, trainer: _kernels.Trainer, states: list, pool: _WorkerPool,
                  seed_for: Callable[[int], int]) -> int:
        jobs: queue.Queue = queue.Queue(maxsize=2 * len(states))
        pool.jobs = jobs
        for state in states:
            pool.start(_consume, trainer, state, jobs, pool)

        def put(job: Any) -> None:
            # After a worker's error nobody may be left to take jobs: stop feeding them.
            while not pool.failed():
                try:
                    jobs.put(job, timeout=REPORT_INTERVAL)
                    return
                except queue.Full:
                    pool.report()

        def job(batch: list, batch_start: int, number: int) -> tuple:
            return (seed_for(number),
                    *_corpus.encode_sentences(batch, self.key_to_index, batch_start))

        batch: list = []
        batch_start = batch_words = jobs_made = 0
        for sentence in self.sentences:
            batch.append(sentence)
            batch_words += len(sentence) if hasattr(sentence, "__len__") else 1
            if batch_words >= self.batch_words:
                put(job(batch, batch_start, jobs_made))
                jobs_made += 1
                batch_start += len(batch)
                batch, batch_words = [], 0
            if pool.failed():
                break
        if batch and not pool.failed():
            put(job(batch, batch_start, jobs_made))
        for _ in states:
            put(None)
        pool.wait()
        return batch_start + len(batch)


def _consume(trainer: _kernels.Trainer, state: Any, jobs: queue.Queue, pool: _WorkerPool) -> None:
    while True:
        job = jobs.get()
        if job is None:
            return
        if not pool.failed():
            seed, *arrays = job
            state.reseed(seed)
            trainer.train_batch(state, *arrays)


class _WorkerPool:
    """The worker threads of one epoch. Each signals its own end, so that `wait` and `stop` can
    tell for certain when none runs any more."""

    def __init__(self, trainer: _kernels.Trainer, report: Callable[[], None]) -> None:
        self.trainer = trainer
        self.report = report
        self.errors: list[BaseException] = []
        self.jobs: Optional[queue.Queue] = None
        self._running: list[threading.Event] = []
        self._threads: list[threading.Thread] = []

    def start(self, target: Callable[..., Any], *args: Any) -> None:
        ended = threading.Event()

        def work() -> None:
            try:
                target(*args)
            except BaseException as error:
                self.errors.append(error)
                self.trainer.request_stop()
            finally:
                ended.set()

        thread = threading.Thread(target=work, daemon=True, name="fastw2v-worker")
        thread.start()
        self._threads.append(thread)
        self._running.append(ended)

    def failed(self) -> bool:
        return bool(self.errors) or self.trainer.stop_requested

    def wait(self) -> None:
        """Wait for every worker, reporting progress; raise the first worker's error."""
        for ended in self._running:
            while not ended.wait(REPORT_INTERVAL):
                self.report()
                if self.failed():
                    self.stop()
        self._reap()
        self.report()
        if self.errors:
            raise self.errors[0]

    def stop(self) -> None:
        """Stop the workers within a sentence and wait until none runs, whatever happens
        meanwhile (a second Ctrl-C included)."""
        self.trainer.request_stop()
        interrupted = False
        while not all(ended.is_set() for ended in self._running):
            try:
                if self.jobs is not None:
                    # Workers skip the jobs left once a stop is requested; sentinels end them.
                    try:
                        self.jobs.put_nowait(None)
                    except queue.Full:
                        try:
                            self.jobs.get_nowait()
                        except queue.Empty:
                            pass
                for ended in self._running:
                    ended.wait(0.01)
            except KeyboardInterrupt:
                interrupted = True
        self._reap()
        if interrupted:
            logger.warning("waited for the workers to stop before raising")

    def _reap(self) -> None:
        # Every worker has signalled its end and is returning: let the threads finish, so that
        # none is left over either (a join interrupted again changes nothing: no update is due).
        try:
            for thread in self._threads:
                thread.join(timeout=1.0)
        except KeyboardInterrupt:
            pass


class _DeferredInterrupt:
    """While active in the main thread, the first Ctrl-C requests a stop instead of raising
    wherever the main thread happens to be; `check` raises it once it is safe."""

    def __init__(self, trainer: _kernels.Trainer) -> None:
        self.trainer = trainer
        self.pending = False
        self._previous: Any = None

    def _handle(self, signum: int, frame: Any) -> None:
        if self.pending:
            raise KeyboardInterrupt
        self.pending = True
        self.trainer.request_stop()

    def __enter__(self) -> _DeferredInterrupt:
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def check(self) -> None:
        if self.pending:
            raise KeyboardInterrupt


def run(trainer: _kernels.Trainer, states: list, corpus: Any, epochs: int, *,
        expected_words: int, expected_sentences: Optional[int] = None, first_epoch: int = 1,
        progress: Optional[bool] = None, on_epoch_begin: Callable[[], None] = lambda: None,
        on_epoch_end: Callable[[EpochResult], None] = lambda result: None,
        job_seed: Callable[[int, int], int] = lambda epoch, job: epoch << 32 | job,
        sync: Optional[Any] = None) -> RunResult:
    """Train `epochs` passes over `corpus` (a FileCorpus or IterableCorpus).

    Every job (a batch of sentences, or a worker's byte range of a file) draws its random
    numbers from `job_seed(epoch, job number)`, whichever thread takes it: a run whose jobs never
    overlap in time (one worker, or a corpus that fits in one job) gives the same vectors
    whatever the number of workers. Jobs that do overlap share rows without locks (Hogwild),
    so their interleaving, which the scheduler decides, changes the last bits.

    `expected_words` (and `expected_sentences`, when the caller knows them) are what one epoch
    should read; a different count is warned about, since the learning-rate schedule was sized
    from them.

    `sync` ties the run to the same run in other processes (`fastw2v._distributed.ModelSync`):
    ``sync.epoch_started(trainer)`` as each epoch's workers start, and
    ``sync.epoch_finished(trainer, effective_words, loss)`` once they are done, which returns
    the epoch's effective words and loss summed over all processes and brings
    ``trainer.words_done`` to their total, so that the epoch's results are everyone's.
    """
    result = RunResult()
    bar = _progress_bar(expected_words * epochs, progress)

    def report() -> None:
        if bar is None:
            return
        bar.update(trainer.words_done - bar.n)
        postfix = {"alpha": f"{trainer.alpha:.5f}"}
        predictions = sum(s.predictions for s in states)
        if predictions and any(s.loss for s in states):
            postfix["loss"] = f"{sum(s.loss for s in states) / predictions:.4f}"
        bar.set_postfix(postfix, refresh=False)
        bar.set_description(f"epoch {first_epoch + len(result.epochs)}", refresh=True)

    try:
        with _DeferredInterrupt(trainer) as interrupt:
            for epoch in range(epochs):
                interrupt.check()
                on_epoch_begin()
                for state in states:
                    state.reset_counters()
                started = time.perf_counter()
                raw_before = trainer.words_done
                if sync is not None:
                    sync.epoch_started(trainer)
                pool = _WorkerPool(trainer, report)
                try:
                    sentences = corpus.run_epoch(
                        trainer, states, pool, lambda job, e=epoch: job_seed(e, job))
                except BaseException:
                    pool.stop()
                    raise
                interrupt.check()
                effective = sum(s.words_trained for s in states)
                loss = float(sum(s.loss for s in states))
                if sync is not None:
                    effective, loss = sync.epoch_finished(trainer, effective, loss)
                raw = trainer.words_done - raw_before
                _check_epoch(corpus, epoch, raw, sentences, trainer.stop_requested)
                _warn_if_unexpected(epoch, raw, sentences, expected_words, expected_sentences,
                                    isinstance(corpus, IterableCorpus))
                epoch_result = EpochResult(
                    number=first_epoch + epoch, raw_words=raw, effective_words=effective,
                    sentences=sentences, loss=loss, seconds=time.perf_counter() - started)
                result.epochs.append(epoch_result)
                logger.info("EPOCH %i: trained %i effective words of %i raw in %.1fs, "
                            "%.0f effective words/s", epoch_result.number,
                            epoch_result.effective_words, raw, epoch_result.seconds,
                            epoch_result.effective_words / max(epoch_result.seconds, 1e-9))
                on_epoch_end(epoch_result)
    finally:
        if bar is not None:
            bar.close()
    return result


def _check_epoch(corpus: Any, epoch: int, raw: int, sentences: int, stopped: bool) -> None:
    if stopped:
        return
    if isinstance(corpus, FileCorpus) and raw == 0:
        raise ValueError(f"corpus file {corpus.path!r} has no words to train on "
                         "(was it emptied since the vocabulary was built?)")
    if isinstance(corpus, IterableCorpus) and sentences == 0:
        raise ValueError(
            f"corpus_iterable yielded no sentences in epoch {epoch + 1}: a one-shot iterator "
            "is exhausted after one pass; pass a restartable iterable such as a list or "
            "LineSentence")


def _warn_if_unexpected(epoch: int, raw: int, sentences: int, expected_words: int,
                        expected_sentences: Optional[int], counted_sentences: bool) -> None:
    if counted_sentences and expected_sentences is not None:
        if sentences != expected_sentences:
            warnings.warn(
                f"epoch {epoch + 1} read {sentences} sentences, but total_examples said "
                f"{expected_sentences}: the learning rate was scheduled for "
                f"{expected_sentences}", RuntimeWarning, stacklevel=4)
    elif raw != expected_words:
        warnings.warn(
            f"epoch {epoch + 1} read {raw} words, but total_words said {expected_words}: the "
            f"learning rate was scheduled for {expected_words}", RuntimeWarning, stacklevel=4)


def _progress_bar(total: int, show: Optional[bool]) -> Any:
    if show is None:
        show = sys.stderr.isatty()
    if not show:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="word", unit_scale=True, desc="training", leave=False,
                dynamic_ncols=True)
