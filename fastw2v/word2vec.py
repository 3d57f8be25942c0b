"""Word2Vec: parameters, vocabulary and training orchestration (the heavy work is compiled)."""

from __future__ import annotations

import logging
import os
import queue
import stat
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any, Optional

import numpy as np

from fastw2v import _corpus, _kernels, _sampling
from fastw2v import vocab as vocab_mod
from fastw2v.corpora import LineSentence
from fastw2v.keyedvectors import KeyedVectors

logger = logging.getLogger(__name__)

MODEL_KIND = "Word2Vec"

# Constructor parameters saved with a model and restored on load.
_PARAMS = (
    "vector_size", "alpha", "window", "min_count", "max_vocab_size", "sample", "seed",
    "workers", "min_alpha", "sg", "hs", "negative", "ns_exponent", "cbow_mean", "epochs",
    "null_word", "sorted_vocab", "batch_words", "compute_loss", "max_final_vocab",
    "shrink_windows", "softmax", "batched",
)
_FLAG_PARAMS = ("sg", "hs", "softmax", "cbow_mean", "sorted_vocab", "compute_loss",
                "shrink_windows", "batched")


def _is_one_shot(corpus: Any) -> bool:
    """True for iterators and generators, which a second pass would find empty."""
    try:
        return iter(corpus) is corpus
    except TypeError:
        return False


def _check_int(name: str, value: Any, low: int, high: Optional[int] = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return int(value)


def _check_float(name: str, value: Any, low: float, high: float, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < low or value > high or (low_open and value == low):
        left = "(" if low_open else "["
        raise ValueError(f"{name} must be in {left}{low}, {high}], got {value}")
    return value


# Which versions of which files the compiled reader splits as str.split() does.
_SPLIT_CHECKS: dict = {}


def _line_sentence_file(corpus: Any) -> Optional[str]:
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
            _SPLIT_CHECKS[key] = _corpus.splits_like_str_split(path)
    except OSError:
        return None  # iterating the LineSentence raises the error, with its own message
    if not _SPLIT_CHECKS[key]:
        return None
    logger.debug("reading LineSentence file %r with the compiled reader", path)
    return path


class Word2Vec:
    """Train word vectors with skip-gram or CBOW, with gensim 4's API.

    Parameters are gensim's, with the same names and defaults. Differences on purpose:

    - ``softmax=1`` (with ``hs=0, negative=0``) trains with the exact full softmax: O(vocabulary)
      per prediction, for small vocabularies and as a correctness reference.
    - ``compute_loss=True`` records the true objective of each epoch (a float64 sum over all
      predictions, independent of the number of workers) in ``training_loss_history``;
      ``get_latest_training_loss()`` returns the last epoch's value, not a running total.
    - Sentences are never truncated (gensim cuts them at 10,000 words).
    - ``workers`` threads share one learning-rate schedule that decays smoothly with the words
      processed, in both the iterable and the ``corpus_file`` modes.
    - ``save()`` writes a single archive of arrays and JSON (no pickle) atomically.
    - ``batched=True`` (skip-gram): the context rows of a window share one draw of negatives
      (or the centre word's Huffman path) and are updated together, once per window. Faster at
      equal quality; ``batched=False`` trains pair by pair as word2vec.c does.
    - ``progress``: a tqdm bar while training (None: only when stderr is a terminal).
    - A `LineSentence` over an uncompressed file is read by the compiled ``corpus_file`` reader
      (for counting and training) whenever that gives exactly its sentences: the file is valid
      UTF-8, holds no whitespace beyond ASCII's (such as a no-break space), and the default
      ``max_sentence_length`` applies. One pass over the file checks this; otherwise it is
      iterated in Python as usual.

    Examples
    --------
    >>> from fastw2v import Word2Vec
    >>> sentences = [["cat", "says", "meow"], ["dog", "says", "woof"]] * 100
    >>> model = Word2Vec(sentences, vector_size=16, min_count=1, workers=1, epochs=2)
    >>> model.wv.most_similar("cat", topn=1)[0][0] in model.wv
    True
    """

    def __init__(
        self,
        sentences: Optional[Iterable[Sequence[str]]] = None,
        corpus_file: Optional[str | os.PathLike] = None,
        vector_size: int = 100,
        alpha: float = 0.025,
        window: int = 5,
        min_count: int = 5,
        max_vocab_size: Optional[int] = None,
        sample: float = 1e-3,
        seed: int = 1,
        workers: int = 3,
        min_alpha: float = 0.0001,
        sg: int = 0,
        hs: int = 0,
        negative: int = 5,
        ns_exponent: float = 0.75,
        cbow_mean: int = 1,
        epochs: int = 5,
        null_word: int = 0,
        trim_rule: vocab_mod.TrimRule = None,
        sorted_vocab: int = 1,
        batch_words: int = 10000,
        compute_loss: bool = False,
        callbacks: Sequence = (),
        max_final_vocab: Optional[int] = None,
        shrink_windows: bool = True,
        softmax: int = 0,
        batched: bool = True,
        progress: Optional[bool] = None,
    ) -> None:
        self.vector_size = _check_int("vector_size", vector_size, 1, 100_000)
        self.alpha = _check_float("alpha", alpha, 0.0, 1.0, low_open=True)
        self.min_alpha = _check_float("min_alpha", min_alpha, 0.0, 1.0)
        self.window = _check_int("window", window, 1, 10_000)
        self.min_count = _check_int("min_count", min_count, 0)
        self.max_vocab_size = (None if max_vocab_size is None
                               else _check_int("max_vocab_size", max_vocab_size, 1))
        self.sample = _check_float("sample", sample, 0.0, float("inf"))
        self.seed = _check_int("seed", seed, -(2**63), 2**64 - 1)
        self.workers = _check_int("workers", workers, 1, 1024)
        self.sg = int(bool(sg))
        self.hs = int(bool(hs))
        self.negative = _check_int("negative", negative, 0, 1000)
        self.softmax = int(bool(softmax))
        self.batched = bool(batched)
        self.ns_exponent = _check_float("ns_exponent", ns_exponent, -10.0, 10.0)
        self.cbow_mean = int(bool(cbow_mean))
        self.epochs = _check_int("epochs", epochs, 1, 100_000)
        if null_word:
            raise ValueError("null_word=1 is not supported: fastw2v's CBOW never pads windows")
        self.null_word = 0
        self.sorted_vocab = int(bool(sorted_vocab))
        self.batch_words = _check_int("batch_words", batch_words, 1)
        self.compute_loss = bool(compute_loss)
        self.callbacks = tuple(callbacks)
        self.max_final_vocab = (None if max_final_vocab is None
                                else _check_int("max_final_vocab", max_final_vocab, 1))
        self.shrink_windows = bool(shrink_windows)
        self.progress = progress
        if not (self.hs or self.negative or self.softmax):
            raise ValueError("no training objective: set negative > 0, hs=1, or softmax=1 "
                             "(the exact full softmax)")
        if self.softmax and (self.hs or self.negative):
            raise ValueError("softmax=1 is the exact objective on its own: use it with "
                             "hs=0 and negative=0")

        self.wv = KeyedVectors(self.vector_size)
        self.syn1neg = np.zeros((0, self.vector_size), dtype=np.float32)
        self.syn1 = np.zeros((0, self.vector_size), dtype=np.float32)
        self.corpus_count = 0
        self.corpus_total_words = 0
        self.running_training_loss = 0.0
        self.training_loss_history: list[float] = []
        self.words_per_second = 0.0
        self.training_seconds = 0.0
        self.epochs_trained = 0
        self.train_count = 0
        self._keep_threshold = np.zeros(0, dtype=np.uint64)
        self._noise_table = None
        self._hs_tree = None
        self._min_reduce = 1

        if sentences is not None and corpus_file is not None:
            raise ValueError("give either sentences or corpus_file, not both")
        if sentences is not None or corpus_file is not None:
            if sentences is not None and _is_one_shot(sentences):
                raise TypeError(
                    "sentences is a one-shot iterator or generator, but training needs "
                    f"{self.epochs + 1} passes (one for the vocabulary, one per epoch): pass a "
                    "restartable iterable such as a list or fastw2v.LineSentence")
            self.build_vocab(corpus_iterable=sentences, corpus_file=corpus_file,
                             trim_rule=trim_rule)
            self.train(corpus_iterable=sentences, corpus_file=corpus_file,
                       total_examples=self.corpus_count, total_words=self.corpus_total_words,
                       epochs=self.epochs, start_alpha=self.alpha, end_alpha=self.min_alpha,
                       compute_loss=compute_loss, callbacks=callbacks)

    # ------------------------------------------------------------------------------ vocabulary

    def build_vocab(self, corpus_iterable: Optional[Iterable] = None,
                    corpus_file: Optional[str | os.PathLike] = None, update: bool = False,
                    progress_per: int = 10000, keep_raw_vocab: bool = False,
                    trim_rule: vocab_mod.TrimRule = None, **kwargs: Any) -> None:
        """Scan a corpus once, build the vocabulary and allocate the weights.

        With ``update=True`` the new words are appended to the existing vocabulary (in
        descending count order), the counts of known words grow by their counts in the new
        corpus, and every vector learned so far is kept; new words start from small random input
        vectors and zero output vectors. The subsampling thresholds and the noise distribution
        are recomputed from the combined counts. With ``hs=1`` the Huffman tree is rebuilt from
        the combined counts, as gensim does: its inner nodes keep their rows of ``syn1``, but a
        word's path may change, so train a few epochs on old and new text together afterwards.
        ``corpus_count`` and ``corpus_total_words`` then describe the new corpus.
        """
        if kwargs:
            raise TypeError(f"unexpected arguments: {', '.join(sorted(kwargs))}")
        corpus_file = self._check_corpus(corpus_iterable, corpus_file)
        if corpus_file is None and not self.max_vocab_size:
            # (With max_vocab_size, the compiled counter prunes at other moments of the scan.)
            corpus_file = _line_sentence_file(corpus_iterable)
        start = time.perf_counter()
        if corpus_file is not None:
            scan = vocab_mod.scan_corpus_file(corpus_file, self.max_vocab_size, trim_rule)
        else:
            scan = vocab_mod.scan_sentences(corpus_iterable, self.max_vocab_size, trim_rule)
        logger.info("collected %i word types from a corpus of %i raw words and %i sentences "
                    "in %.1fs", len(scan.counts), scan.total_words, scan.corpus_count,
                    time.perf_counter() - start)
        if scan.total_words == 0:
            raise ValueError("the corpus is empty: it has no words to learn from")
        self.corpus_count = scan.corpus_count
        self.corpus_total_words = scan.total_words
        self._min_reduce = scan.min_reduce
        self._prepare_vocab(scan.counts, update=update, trim_rule=trim_rule)
        self.raw_vocab = scan.counts if keep_raw_vocab else None

    def build_vocab_from_freq(self, word_freq: dict, keep_raw_vocab: bool = False,
                              corpus_count: Optional[int] = None,
                              trim_rule: vocab_mod.TrimRule = None, update: bool = False) -> None:
        """Build the vocabulary from a {word: count} mapping instead of a corpus."""
        bad = next((w for w in word_freq if not isinstance(w, str)), None)
        if bad is not None:
            raise TypeError(f"word_freq keys must be str, found {type(bad).__name__} {bad!r}")
        counts = {w: int(c) for w, c in word_freq.items()}
        if any(c < 0 for c in counts.values()):
            raise ValueError("word_freq counts must be non-negative")
        self.corpus_count = corpus_count or 0
        self.corpus_total_words = sum(counts.values())
        if self.corpus_total_words == 0:
            raise ValueError("word_freq is empty: it has no words to learn from")
        self._prepare_vocab(counts, update=update, trim_rule=trim_rule)
        self.raw_vocab = counts if keep_raw_vocab else None

    def _prepare_vocab(self, counts: dict, update: bool, trim_rule: vocab_mod.TrimRule) -> None:
        min_count = vocab_mod.effective_min_count(counts, self.min_count, self.max_final_vocab)
        if update:
            if not len(self.wv):
                raise RuntimeError("build_vocab(update=True) needs an existing vocabulary: "
                                   "call build_vocab() first")
            old_counts = self.wv.expandos["count"]
            known = self.wv.key_to_index
            merged = old_counts.copy()
            new_words = []
            for word, count in counts.items():
                index = known.get(word)
                if index is not None:
                    merged[index] += count
                elif vocab_mod.keep_vocab_item(word, count, min_count, trim_rule):
                    new_words.append(word)
            if self.sorted_vocab:
                new_words.sort(key=counts.__getitem__, reverse=True)
            words = list(self.wv.index_to_key) + new_words
            word_counts = np.concatenate(
                [merged, np.array([counts[w] for w in new_words], dtype=np.int64)])
            logger.info("vocabulary update: %i new words, %i in all", len(new_words), len(words))
        else:
            words = vocab_mod.select_words(counts, min_count, trim_rule, bool(self.sorted_vocab))
            word_counts = np.array([counts[w] for w in words], dtype=np.int64)
        if not words:
            raise ValueError(f"no word occurs at least min_count={min_count} times: lower "
                             "min_count or give a larger corpus")
        self._set_vocabulary(words, word_counts, update=update)

    def _set_vocabulary(self, words: list, word_counts: np.ndarray, update: bool) -> None:
        old_size = len(self.wv) if update else 0
        self.wv.index_to_key = words
        self.wv.key_to_index = {w: i for i, w in enumerate(words)}
        self.wv.expandos["count"] = word_counts
        self._prepare_tables()
        self._prepare_weights(old_size)

    def _prepare_tables(self) -> None:
        counts = self.wv.expandos["count"]
        self._keep_threshold = vocab_mod.keep_thresholds(counts, self.sample)
        if self.negative:
            self._noise_table = _sampling.build_alias_table(
                np.maximum(vocab_mod.noise_weights(counts, self.ns_exponent), 0.0)
                if np.any(counts > 0) else np.ones(len(counts)))
        if self.hs:
            # Rebuilt from the combined counts after a vocabulary update: inner nodes keep their
            # rows in syn1, so the tree's early nodes start from what was learned before.
            self._hs_tree = vocab_mod.huffman_paths(counts)

    def _prepare_weights(self, old_size: int) -> None:
        size, dim = len(self.wv.index_to_key), self.vector_size
        rng = np.random.default_rng([self.seed & (2**64 - 1), old_size])
        fresh = ((rng.random((size - old_size, dim), dtype=np.float32) - 0.5) / dim)
        old_vectors = self.wv.vectors[:old_size] if old_size else np.zeros((0, dim), np.float32)
        self.wv.vectors = np.ascontiguousarray(np.vstack([old_vectors, fresh]), dtype=np.float32)
        self.wv.norms = None

        def grow(matrix: np.ndarray, wanted: bool) -> np.ndarray:
            if not wanted:
                return np.zeros((0, dim), dtype=np.float32)
            grown = np.zeros((size, dim), dtype=np.float32)
            keep = min(old_size, len(matrix))
            grown[:keep] = matrix[:keep]
            return grown

        self.syn1neg = grow(self.syn1neg, bool(self.negative))
        self.syn1 = grow(self.syn1, bool(self.hs or self.softmax))

    # ------------------------------------------------------------------------------- training

    def _check_corpus(self, corpus_iterable: Any, corpus_file: Any) -> Optional[str]:
        if (corpus_iterable is None) == (corpus_file is None):
            raise TypeError("give exactly one of corpus_iterable (sentences) or corpus_file")
        if corpus_file is not None:
            if not isinstance(corpus_file, (str, os.PathLike)):
                raise TypeError(f"corpus_file must be a path, got {type(corpus_file).__name__}")
            path = os.fspath(corpus_file)
            if not os.path.exists(path):
                raise FileNotFoundError(f"corpus_file {path!r} does not exist")
            if os.path.isdir(path):
                raise IsADirectoryError(f"corpus_file {path!r} is a directory, not a file")
            if not stat.S_ISREG(os.stat(path).st_mode):
                # A pipe or a device would block or never end; the reader needs a sized file.
                raise ValueError(f"corpus_file {path!r} is not a regular file")
            if not os.access(path, os.R_OK):
                raise PermissionError(f"corpus_file {path!r} is not readable")
            return path
        if isinstance(corpus_iterable, (str, bytes)):
            raise TypeError("corpus_iterable is a string: give an iterable of token lists, or "
                            "corpus_file=path for a file")
        try:
            iter(corpus_iterable)
        except TypeError:
            raise TypeError("corpus_iterable must be an iterable of token lists, got "
                            f"{type(corpus_iterable).__name__}") from None
        return None

    def train(self, corpus_iterable: Optional[Iterable] = None,
              corpus_file: Optional[str | os.PathLike] = None,
              total_examples: Optional[int] = None, total_words: Optional[int] = None,
              epochs: Optional[int] = None, start_alpha: Optional[float] = None,
              end_alpha: Optional[float] = None, word_count: int = 0,
              queue_factor: int = 2, report_delay: float = 1.0, compute_loss: bool = False,
              callbacks: Sequence = (), **kwargs: Any) -> tuple[int, int]:
        """Train the vectors; returns (effective words trained, raw words processed).

        Like gensim, ``epochs`` and either ``total_examples`` or ``total_words`` must be given
        (pass ``model.corpus_count`` / ``model.corpus_total_words`` for the corpus the
        vocabulary was built from); the learning rate decays linearly from ``start_alpha`` to
        ``end_alpha`` over all epochs.
        """
        if kwargs:
            raise TypeError(f"unexpected arguments: {', '.join(sorted(kwargs))}")
        if not len(self.wv):
            raise RuntimeError("build the vocabulary before training: call build_vocab() first")
        corpus_file = self._check_corpus(corpus_iterable, corpus_file)
        if epochs is None:
            raise ValueError("train() needs epochs (e.g. epochs=model.epochs)")
        epochs = _check_int("epochs", epochs, 1, 100_000)
        if total_words is None and total_examples is None:
            if corpus_file is None:
                raise ValueError("train() needs total_examples or total_words, e.g. "
                                 "total_examples=model.corpus_count")
            total_words = self.corpus_total_words
        if total_words is None:
            total_examples = _check_int("total_examples", total_examples, 1)
            if total_examples == self.corpus_count or not self.corpus_count:
                total_words = self.corpus_total_words
            else:
                total_words = round(total_examples * self.corpus_total_words / self.corpus_count)
        total_words = _check_int("total_words", total_words, 1, 2**62 // epochs)
        if corpus_iterable is not None and epochs > 1 and _is_one_shot(corpus_iterable):
            raise TypeError(
                f"corpus_iterable is a one-shot iterator or generator, but {epochs} epochs need "
                f"{epochs} passes: pass a restartable iterable such as a list or LineSentence")
        start_alpha = self.alpha if start_alpha is None else _check_float(
            "start_alpha", start_alpha, 0.0, 1.0)
        end_alpha = self.min_alpha if end_alpha is None else _check_float(
            "end_alpha", end_alpha, 0.0, 1.0)
        compute_loss = bool(compute_loss or self.compute_loss)
        callbacks = tuple(callbacks) or self.callbacks

        trainer = self._make_trainer(compute_loss)
        trainer.set_schedule(start_alpha, end_alpha, total_words * epochs)
        seeds = np.random.SeedSequence([self.seed & (2**64 - 1), self.train_count])
        workers = [_kernels.WorkerState(trainer, int(s))
                   for s in seeds.generate_state(self.workers, dtype=np.uint64)]
        self.train_count += 1
        if corpus_file is None:
            corpus_file = _line_sentence_file(corpus_iterable)
        vocab_hash = _corpus.VocabHash(self.wv.index_to_key) if corpus_file else None
        ranges = _corpus.file_ranges(corpus_file, self.workers) if corpus_file else None

        self.training_loss_history = []
        effective_total = raw_total = 0
        bar = self._progress_bar(total_words * epochs)
        start = time.perf_counter()
        for callback in callbacks:
            callback.on_train_begin(self)
        try:
            for epoch in range(epochs):
                for callback in callbacks:
                    callback.on_epoch_begin(self)
                for worker in workers:
                    worker.reset_counters()
                epoch_start = time.perf_counter()
                raw_before = trainer.words_done
                if corpus_file is not None:
                    self._run_file_epoch(trainer, workers, vocab_hash, corpus_file, ranges, bar)
                else:
                    sentences = self._run_iterable_epoch(trainer, workers, corpus_iterable, bar,
                                                         epoch)
                    if sentences == 0:
                        raise ValueError(
                            f"corpus_iterable yielded no sentences in epoch {epoch + 1}: a "
                            "one-shot iterator is exhausted after one pass; pass a restartable "
                            "iterable such as a list or LineSentence")
                elapsed = time.perf_counter() - epoch_start
                raw = trainer.words_done - raw_before
                if corpus_file is not None and raw == 0 and not trainer.stop_requested:
                    raise ValueError(f"corpus file {corpus_file!r} has no words to train on "
                                     "(was it emptied since the vocabulary was built?)")
                effective = sum(w.words_trained for w in workers)
                effective_total += effective
                raw_total += raw
                self.running_training_loss = float(sum(w.loss for w in workers))
                if compute_loss:
                    self.training_loss_history.append(self.running_training_loss)
                self.epochs_trained += 1
                logger.info("EPOCH %i: trained %i effective words of %i raw in %.1fs, "
                            "%.0f effective words/s%s", epoch + 1, effective, raw, elapsed,
                            effective / max(elapsed, 1e-9),
                            f", loss {self.running_training_loss:.6g}" if compute_loss else "")
                for callback in callbacks:
                    callback.on_epoch_end(self)
        except KeyboardInterrupt:
            logger.warning("training interrupted after %i raw words; the model is usable",
                           trainer.words_done)
            raise
        finally:
            self.training_seconds = time.perf_counter() - start
            self.words_per_second = trainer.words_done / max(self.training_seconds, 1e-9)
            self.wv.norms = None
            if bar is not None:
                bar.close()
        for callback in callbacks:
            callback.on_train_end(self)
        logger.info("training on %i raw words took %.1fs, %.0f raw words/s", raw_total,
                    self.training_seconds, self.words_per_second)
        return effective_total, raw_total

    def _make_trainer(self, compute_loss: bool) -> _kernels.Trainer:
        points, codes, offsets = self._hs_tree if self.hs else (None, None, None)
        return _kernels.Trainer(
            self.wv.vectors, self.syn1neg, self.syn1, self._noise_table, self._keep_threshold,
            points, codes, offsets, sg=bool(self.sg), cbow_mean=bool(self.cbow_mean),
            batched=self.batched, hs=bool(self.hs), softmax=bool(self.softmax),
            negative=self.negative,
            window=self.window, shrink_windows=self.shrink_windows, compute_loss=compute_loss)

    def _progress_bar(self, total: int):
        show = self.progress if self.progress is not None else sys.stderr.isatty()
        if not show:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=total, unit="word", unit_scale=True, desc="training", leave=False,
                    dynamic_ncols=True)

    def _report(self, bar, trainer: _kernels.Trainer, workers: list) -> None:
        if bar is None:
            return
        bar.update(trainer.words_done - bar.n)
        postfix = {"alpha": f"{trainer.alpha:.5f}"}
        predictions = sum(w.predictions for w in workers)
        if predictions and any(w.loss for w in workers):
            postfix["loss"] = f"{sum(w.loss for w in workers) / predictions:.4f}"
        bar.set_postfix(postfix, refresh=False)
        bar.set_description(f"epoch {self.epochs_trained + 1}", refresh=True)

    def _join(self, threads: list, trainer: _kernels.Trainer, workers: list, bar,
              errors: list) -> None:
        """Wait for the workers, reporting progress (callers stop them on Ctrl-C)."""
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.2)
                self._report(bar, trainer, workers)
        if errors:
            raise errors[0]

    def _run_file_epoch(self, trainer, workers, vocab_hash, corpus_file, ranges, bar) -> None:
        errors: list = []

        def work(worker, byte_range):
            try:
                _corpus.train_file_range(trainer, worker, vocab_hash, corpus_file, *byte_range)
            except BaseException as error:
                errors.append(error)
                trainer.request_stop()

        threads = [threading.Thread(target=work, args=(w, r), daemon=True, name="fastw2v-worker")
                   for w, r in zip(workers, ranges)]
        try:
            for thread in threads:
                thread.start()
            self._join(threads, trainer, workers, bar, errors)
        except BaseException:
            trainer.request_stop()
            for thread in threads:
                if thread.ident is not None:
                    thread.join()
            raise

    def _run_iterable_epoch(self, trainer, workers, corpus_iterable, bar, epoch: int) -> int:
        """Feed batches of encoded sentences to the workers; returns the number of sentences."""
        jobs: queue.Queue = queue.Queue(maxsize=2 * len(workers))
        errors: list = []

        def work(worker):
            while True:
                job = jobs.get()
                if job is None:
                    return
                if errors or trainer.stop_requested:
                    continue
                try:
                    trainer.train_batch(worker, *job)
                except BaseException as error:
                    errors.append(error)
                    trainer.request_stop()

        threads = [threading.Thread(target=work, args=(w,), daemon=True, name="fastw2v-worker")
                   for w in workers]

        def put(job) -> None:
            while True:
                try:
                    jobs.put(job, timeout=0.2)
                    return
                except queue.Full:
                    self._report(bar, trainer, workers)

        key_to_index = self.wv.key_to_index
        batch: list = []
        batch_start = 0
        finished = False
        try:
            for thread in threads:
                thread.start()
            batch_words = 0
            for sentence in corpus_iterable:
                batch.append(sentence)
                batch_words += len(sentence) if hasattr(sentence, "__len__") else 1
                if batch_words >= self.batch_words:
                    put(_corpus.encode_sentences(batch, key_to_index, batch_start))
                    batch_start += len(batch)
                    batch, batch_words = [], 0
                if errors:
                    break
            if batch and not errors:
                put(_corpus.encode_sentences(batch, key_to_index, batch_start))
            for _ in threads:
                put(None)
            self._join(threads, trainer, workers, bar, errors)
            finished = True
        finally:
            if not finished:
                self._stop_workers(threads, jobs, trainer)
        return batch_start + len(batch)

    @staticmethod
    def _stop_workers(threads: list, jobs: queue.Queue, trainer: _kernels.Trainer) -> None:
        """After an error or Ctrl-C: stop the workers within a sentence and wait for them all."""
        trainer.request_stop()
        while any(thread.is_alive() for thread in threads if thread.ident is not None):
            # Workers skip the jobs left once a stop is requested; the sentinels end them.
            try:
                jobs.put_nowait(None)
            except queue.Full:
                try:
                    jobs.get_nowait()
                except queue.Empty:
                    pass
            for thread in threads:
                if thread.ident is not None:
                    thread.join(timeout=0.01)

    def get_latest_training_loss(self) -> float:
        """The summed loss of the last epoch trained with ``compute_loss=True``."""
        return self.running_training_loss

    # -------------------------------------------------------------------------- persistence

    def save(self, fname: str | os.PathLike) -> None:
        """Save the whole model (for more training) to one file, atomically and without pickle."""
        from fastw2v import _io as io

        metadata = {
            "kind": MODEL_KIND,
            "params": {name: getattr(self, name) for name in _PARAMS},
            "index_to_key": list(self.wv.index_to_key),
            "corpus_count": self.corpus_count,
            "corpus_total_words": self.corpus_total_words,
            "training_loss_history": self.training_loss_history,
            "running_training_loss": self.running_training_loss,
            "epochs_trained": self.epochs_trained,
            "train_count": self.train_count,
        }
        arrays = {"vectors": self.wv.vectors, "counts": self.wv.expandos["count"],
                  "syn1neg": self.syn1neg, "syn1": self.syn1}
        io.save_archive(fname, metadata, arrays)

    @classmethod
    def load(cls, fname: str | os.PathLike, mmap: Optional[str] = None) -> Word2Vec:
        """Load a model written by :meth:`save`; corrupt or foreign files raise ValueError."""
        from fastw2v import _io as io

        metadata, arrays = io.load_archive(fname, mmap=mmap)
        try:
            if metadata.get("kind") != MODEL_KIND:
                raise ValueError(f"holds a {metadata.get('kind')!r}, not a Word2Vec model")
            params = dict(metadata["params"])
            unknown = sorted(set(params) - set(_PARAMS))
            if unknown:
                raise ValueError(f"unknown parameters {', '.join(map(repr, unknown))}")
            for name in _FLAG_PARAMS:
                if not isinstance(params.get(name, 0), (bool, int)):
                    raise ValueError(f"parameter {name!r} must be a boolean or 0/1")
            words = metadata["index_to_key"]
            model = cls(**params)
            vectors = np.ascontiguousarray(arrays["vectors"], dtype=np.float32)
            counts = np.asarray(arrays["counts"], dtype=np.int64)
            size, dim = len(words), model.vector_size
            if (not all(isinstance(w, str) for w in words) or len(set(words)) != size
                    or vectors.shape != (size, dim) or counts.shape != (size,)):
                raise ValueError("vocabulary and arrays disagree")
            model.wv.index_to_key = list(words)
            model.wv.key_to_index = {w: i for i, w in enumerate(words)}
            model.wv.expandos["count"] = counts
            model.wv.vectors = vectors if mmap is None else arrays["vectors"]
            model.syn1neg = np.array(arrays["syn1neg"], dtype=np.float32)
            model.syn1 = np.array(arrays["syn1"], dtype=np.float32)
            expected_neg = (size, dim) if model.negative else (0, dim)
            expected_hs = (size, dim) if (model.hs or model.softmax) else (0, dim)
            if model.syn1neg.shape != expected_neg or model.syn1.shape != expected_hs:
                raise ValueError("output weights do not match the vocabulary")
            if size:
                model._prepare_tables()
            for name in ("corpus_count", "corpus_total_words", "epochs_trained", "train_count"):
                value = metadata[name]
                if isinstance(value, bool) or not isinstance(value, int) or not (
                        0 <= value < 2**62):
                    raise ValueError(f"{name} must be an integer in [0, 2**62), got {value!r}")
                setattr(model, name, value)
            model.training_loss_history = [float(x) for x in metadata["training_loss_history"]]
            model.running_training_loss = float(metadata["running_training_loss"])
        except ValueError as error:
            raise ValueError(
                f"{os.fspath(fname)!r} is not a valid fastw2v model: {error}") from None
        except (KeyError, TypeError, AttributeError, OverflowError) as error:
            raise ValueError(f"{os.fspath(fname)!r} is not a valid fastw2v model: "
                             f"missing or malformed field {error}") from None
        return model

    def __str__(self) -> str:
        return (f"Word2Vec<vocab={len(self.wv)}, vector_size={self.vector_size}, "
                f"alpha={self.alpha}>")
