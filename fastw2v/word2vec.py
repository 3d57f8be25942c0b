"""Word2Vec: the gensim-facing model. It checks what callers give it and delegates: parameters
to `_config`, counting and pruning to `_vocab`, the output weights to `_objectives`, training to
`_training` and the compiled kernels, files to `_io`."""

from __future__ import annotations

import inspect
import logging
import os
import stat
import threading
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Optional, cast

import numpy as np

from fastw2v import _config, _corpus, _distributed, _kernels, _objectives, _sampling, _training
from fastw2v import _vocab as vocab_mod
from fastw2v._config import PARAMETERS, TrainingConfig
from fastw2v.errors import CompressedCorpusFileError, EmptyVocabularyError, NotAModelError
from fastw2v.keyedvectors import KeyedVectors

logger = logging.getLogger(__name__)

MODEL_KIND = "Word2Vec"

# Guards the "is this model training?" flag of every model (a lock per model could not be
# copied with copy.deepcopy).
_BUSY_LOCK = threading.Lock()


def _is_one_shot(corpus: Any) -> bool:
    """True for iterators and generators, which a second pass would find empty."""
    try:
        return iter(corpus) is corpus
    except TypeError:
        return False


if TYPE_CHECKING:
    _class_only = classmethod
else:
    class _class_only(classmethod):  # noqa: N801 - used as a decorator, like classmethod
        """A classmethod that, as in gensim, cannot be called on an instance: ``model.load(path)``
        would read as if it loaded into `model`, but returns a new model."""

        def __get__(self, instance: Any, owner: Optional[type] = None) -> Any:
            if instance is not None:
                raise AttributeError(f"{self.__func__.__name__}() is called on the class, not on "
                                     f"a model: model = {type(instance).__name__}."
                                     f"{self.__func__.__name__}(path)")
            return super().__get__(instance, owner)


class Word2Vec:
    """Train word vectors with skip-gram or CBOW, with gensim 4's API.

    Parameters are gensim's, with the same names and defaults (listed under Parameters below,
    from `fastw2v._config`, where each is declared once). Differences on purpose:

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

    Training across the processes of an MPI job (started by ``mpiexec``): give every process
    ``comm=MPI.COMM_WORLD`` (an mpi4py communicator, or ``fastw2v.Averaging(comm, period=...)``
    to tune how the models are combined) and ``corpus_file``, one file that every process
    reads its part of, or the same list of files in every process, shared out among them. The
    vocabulary is counted by all processes together, each trains with ``workers`` threads and
    the models are combined while training runs; every process ends with the same
    model (save it from one: ``if comm.rank == 0: model.save(...)``), and callbacks and the
    progress bar run in the first process only. ``comm`` is not a saved parameter: it stays an
    attribute, read by `build_vocab` and `train` (whose own ``comm`` argument overrides it for
    one call). See `fastw2v._distributed` for the scheme and for what happens on failures.

    Examples
    --------
    >>> from fastw2v import Word2Vec
    >>> sentences = [["cat", "says", "meow"], ["dog", "says", "woof"]] * 100
    >>> model = Word2Vec(sentences, vector_size=16, min_count=1, workers=1, epochs=2)
    >>> model.wv.most_similar("cat", topn=1)[0][0] in model.wv
    True
    """

    if TYPE_CHECKING:
        # Every parameter of fastw2v._config.PARAMETERS reads as a checked attribute.
        def __getattr__(self, name: str) -> Any: ...

    def __init__(self, sentences: Optional[Iterable[Sequence[str]]] = None,
                 corpus_file: Optional[str | os.PathLike] = None, *,
                 trim_rule: vocab_mod.TrimRule = None, callbacks: Sequence = (),
                 comm: Any = None, **params: Any) -> None:
        self.config = TrainingConfig(**params)
        self.callbacks = tuple(callbacks)
        #: The MPI communicator (or `Averaging`) the model trains across, or None.
        self.comm = comm
        self.wv = KeyedVectors(self.config.vector_size)
        self._objectives: list[_objectives.Objective] = []
        self._keep_threshold = np.zeros(0, dtype=np.uint64)
        self.corpus_count = 0
        self.corpus_total_words = 0
        self.running_training_loss = 0.0
        self.training_loss_history: list[float] = []
        #: One record per epoch of the last train() call: raw and effective words, sentences,
        #: loss and seconds (fastw2v._training.EpochResult).
        self.training_history: list[_training.EpochResult] = []
        self.words_per_second = 0.0
        self.training_seconds = 0.0
        #: gensim's names: seconds of every train() call so far, and the last learning rate.
        self.total_train_time = 0.0
        self.min_alpha_yet_reached = self.alpha
        self.epochs_trained = 0
        self.train_count = 0
        self.raw_vocab: Optional[dict] = None
        self._min_reduce = 1
        self.effective_min_count = self.min_count
        self._busy = False

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
                       compute_loss=self.compute_loss, callbacks=self.callbacks)

    # ---------------------------------------------------------------------- output weights

    def _output(self, name: str) -> np.ndarray:
        for objective in self._objectives:
            if objective.output_name == name:
                return objective.output
        return np.zeros((0, self.vector_size), dtype=np.float32)

    def _set_output(self, name: str, weights: Any) -> None:
        weights = np.ascontiguousarray(weights, dtype=np.float32)
        for objective in self._objectives:
            if objective.output_name == name:
                if weights.shape != objective.output.shape:
                    raise ValueError(f"{name} must have shape {objective.output.shape}, got "
                                     f"{weights.shape}")
                objective.output = weights
                return
        if weights.size:
            raise ValueError(f"this model has no {name}: no objective of its parameters uses it")

    @property
    def syn1neg(self) -> np.ndarray:
        """Negative sampling's output weights (empty when ``negative=0``)."""
        return self._output("syn1neg")

    @syn1neg.setter
    def syn1neg(self, weights: Any) -> None:
        self._set_output("syn1neg", weights)

    @property
    def syn1(self) -> np.ndarray:
        """Hierarchical (or full) softmax's output weights (empty when neither is used)."""
        return self._output("syn1")

    @syn1.setter
    def syn1(self, weights: Any) -> None:
        self._set_output("syn1", weights)

    # ------------------------------------------------------------------------------ vocabulary

    def build_vocab(self, corpus_iterable: Optional[Iterable] = None,
                    corpus_file: Optional[str | os.PathLike] = None, update: bool = False,
                    progress_per: int = 10000, keep_raw_vocab: bool = False,
                    trim_rule: vocab_mod.TrimRule = None, comm: Any = None,
                    **kwargs: Any) -> None:
        """Scan a corpus once, build the vocabulary and allocate the weights.

        With `comm` (or ``model.comm``), the processes of an MPI job count the corpus together
        and build the same vocabulary (see the class's docstring).

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
        with self._exclusive("build_vocab"):
            scan = self._scan(corpus_iterable, corpus_file, self.comm if comm is None else comm)
            self._prepare_vocab(scan.counts, update=update, trim_rule=trim_rule)
            self.corpus_count = scan.corpus_count
            self.corpus_total_words = scan.total_words
            self._min_reduce = scan.min_reduce
            self.raw_vocab = scan.counts if keep_raw_vocab else None

    def _scan(self, corpus_iterable: Any, corpus_file: Any,
              comm: Any = None) -> vocab_mod.CorpusScan:
        if comm is not None:
            start = time.perf_counter()
            scan = _distributed.scan_corpus(comm, self, corpus_iterable, corpus_file)
        else:
            corpus_file = self._check_corpus(corpus_iterable, corpus_file)
            if corpus_file is None:
                corpus_file = _training.line_sentence_file(corpus_iterable)
            start = time.perf_counter()
            if corpus_file is not None:
                scan = vocab_mod.scan_corpus_file(corpus_file, self.max_vocab_size,
                                                   threads=self.workers)
            else:
                scan = vocab_mod.scan_sentences(corpus_iterable, self.max_vocab_size)
        logger.info("collected %i word types from a corpus of %i raw words and %i sentences "
                    "in %.1fs", len(scan.counts), scan.total_words, scan.corpus_count,
                    time.perf_counter() - start)
        if scan.total_words == 0:
            raise EmptyVocabularyError("the corpus is empty: it has no words to learn from")
        return scan

    def scan_vocab(self, corpus_iterable: Optional[Iterable] = None,
                   corpus_file: Optional[str | os.PathLike] = None, progress_per: int = 10000,
                   workers: Optional[int] = None,
                   trim_rule: vocab_mod.TrimRule = None) -> tuple[int, int]:
        """The first half of :meth:`build_vocab`, as in gensim: count the corpus's words into
        ``raw_vocab`` and set ``corpus_count`` and ``corpus_total_words``; returns
        (total words, sentences). `trim_rule` applies in :meth:`prepare_vocab`."""
        with self._exclusive("scan_vocab"):
            scan = self._scan(corpus_iterable, corpus_file, self.comm)
            self.raw_vocab = scan.counts
            self.corpus_count = scan.corpus_count
            self.corpus_total_words = scan.total_words
            self._min_reduce = scan.min_reduce
        return scan.total_words, scan.corpus_count

    def prepare_vocab(self, update: bool = False, keep_raw_vocab: bool = False,
                      trim_rule: vocab_mod.TrimRule = None, min_count: Optional[int] = None,
                      sample: Optional[float] = None, dry_run: bool = False) -> dict[str, int]:
        """The second half of :meth:`build_vocab`, as in gensim: choose the vocabulary from
        ``raw_vocab`` (`min_count`, ``max_final_vocab``, `trim_rule`; `min_count` and `sample`
        replace the model's when given) and allocate the weights.

        Returns gensim's report: ``drop_unique`` (words dropped), ``retain_total`` (their
        occurrences kept), ``downsample_unique`` (kept words that subsampling thins),
        ``downsample_total`` (expected occurrences left after subsampling) and
        ``num_retained_words``. With `dry_run`, only the report is computed.
        """
        if self.raw_vocab is None:
            raise RuntimeError("prepare_vocab() needs raw_vocab: call scan_vocab() first")
        counts = self.raw_vocab
        config = self.config.replace(
            **{k: v for k, v in (("min_count", min_count), ("sample", sample)) if v is not None})
        effective = vocab_mod.effective_min_count(counts, config.min_count,
                                                  config.max_final_vocab)
        retained = [w for w in counts
                    if vocab_mod.keep_vocab_item(w, counts[w], effective, trim_rule)]
        retained_counts = np.array([counts[w] for w in retained], dtype=np.int64)
        if update and len(self.wv):
            known = self.wv.key_to_index
            merged = np.array([counts[w] + (int(self.wv.expandos["count"][known[w]])
                                            if w in known else 0) for w in retained])
        else:
            merged = retained_counts
        keep = vocab_mod.keep_probability(vocab_mod.keep_thresholds(merged, config.sample))
        report = {"drop_unique": len(counts) - len(retained),
                  "retain_total": int(retained_counts.sum()),
                  "downsample_unique": int(np.sum(keep < 1.0)),
                  "downsample_total": int(np.sum(keep * merged)),
                  "num_retained_words": len(retained)}
        if dry_run:
            return report
        with self._exclusive("prepare_vocab"):
            self.config = config
            self.effective_min_count = effective
            self._prepare_vocab(counts, update=update, trim_rule=trim_rule)
            if not keep_raw_vocab:
                self.raw_vocab = None
        return report

    def build_vocab_from_freq(self, word_freq: dict, keep_raw_vocab: bool = False,
                              corpus_count: Optional[int] = None,
                              trim_rule: vocab_mod.TrimRule = None, update: bool = False) -> None:
        """Build the vocabulary from a {word: count} mapping instead of a corpus."""
        bad = next((w for w in word_freq if not isinstance(w, str)), None)
        if bad is not None or any(not isinstance(w, str) for w in word_freq):
            raise TypeError(f"word_freq keys must be str, found {type(bad).__name__} {bad!r}")
        counts = {w: int(c) for w, c in word_freq.items()}
        if any(c < 0 for c in counts.values()):
            raise ValueError("word_freq counts must be non-negative")
        total_words = sum(counts.values())
        if total_words == 0:
            raise EmptyVocabularyError("word_freq is empty: it has no words to learn from")
        with self._exclusive("build_vocab_from_freq"):
            self._prepare_vocab(counts, update=update, trim_rule=trim_rule)
            self.corpus_count = corpus_count or 0
            self.corpus_total_words = total_words
            self.raw_vocab = counts if keep_raw_vocab else None

    def _prepare_vocab(self, counts: dict, update: bool, trim_rule: vocab_mod.TrimRule) -> None:
        min_count = vocab_mod.effective_min_count(counts, self.min_count, self.max_final_vocab)
        self.effective_min_count = min_count
        if update:
            if not len(self.wv):
                raise RuntimeError("build_vocab(update=True) needs an existing vocabulary: "
                                   "call build_vocab() first")
            words, word_counts = vocab_mod.grown_vocabulary(
                self.wv.index_to_key, self.wv.expandos["count"], counts, min_count, trim_rule,
                bool(self.sorted_vocab))
            logger.info("vocabulary update: %i new words, %i in all",
                        len(words) - len(self.wv), len(words))
        else:
            words = vocab_mod.select_words(counts, min_count, trim_rule, bool(self.sorted_vocab))
            word_counts = np.array([counts[w] for w in words], dtype=np.int64)
        if not words:
            raise EmptyVocabularyError(
                f"no word occurs at least min_count={min_count} times: lower min_count or give "
                "a larger corpus")
        old_size = len(self.wv) if update else 0
        self.wv.index_to_key = words
        self.wv.key_to_index = {w: i for i, w in enumerate(words)}
        self.wv.expandos["count"] = word_counts
        self._keep_threshold = vocab_mod.keep_thresholds(word_counts, self.sample)
        if update:
            self._objectives = _objectives.follow_vocabulary(self._objectives, self.config,
                                                             word_counts)
        else:
            self._objectives = _objectives.objectives_for(self.config, word_counts)
        self._grow_vectors(old_size)

    def _grow_vectors(self, old_size: int) -> None:
        """Input vectors for the words from `old_size` on: uniform on [-1/dim, 1/dim) as in
        gensim 4 (word2vec.c draws half that range), from the seed and the vocabulary size they
        start at, so that an update draws new ones."""
        size, dim = len(self.wv.index_to_key), self.vector_size
        rng = np.random.default_rng([self.seed & (2**64 - 1), old_size])
        # Drawn and scaled in place, in the matrix itself: at a million words of 300 dimensions
        # each temporary would be another 1.2 GB to allocate, fault in and copy.
        vectors = np.empty((size, dim), dtype=np.float32)
        vectors[:old_size] = self.wv.vectors[:old_size]
        fresh = vectors[old_size:]
        rng.random(out=fresh, dtype=np.float32)
        fresh *= 2
        fresh -= 1
        fresh /= dim
        self.wv.vectors = vectors
        self.wv.norms = None

    # ------------------------------------------------------------------------------- training

    def _exclusive(self, action: str) -> Any:
        """Context manager: refuse to change a model while another thread trains it."""
        model = self

        class Exclusive:
            def __enter__(self) -> None:
                with _BUSY_LOCK:
                    if model._busy:
                        raise RuntimeError(
                            f"{action}() called while this model is training in another "
                            "thread: wait for train() to return first")
                    model._busy = True

            def __exit__(self, *exc: Any) -> None:
                model._busy = False

        return Exclusive()

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
            from fastw2v._io import is_compressed

            with open(path, "rb") as head:
                magic = head.read(6)
            if is_compressed(path) or magic.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ")):
                raise CompressedCorpusFileError(
                    f"corpus_file {path!r} is compressed: the parallel reader needs a plain text "
                    "file; decompress it, or give LineSentence(path) as the corpus")
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
              callbacks: Sequence = (), comm: Any = None, **kwargs: Any) -> tuple[int, int]:
        """Train the vectors; returns (effective words trained, raw words processed).

        Like gensim, ``epochs`` and either ``total_examples`` or ``total_words`` must be given
        (pass ``model.corpus_count`` / ``model.corpus_total_words`` for the corpus the
        vocabulary was built from); the learning rate decays linearly from ``start_alpha`` to
        ``end_alpha`` over all epochs. An epoch that reads another number of sentences (or
        words) than announced gives a RuntimeWarning with both counts.

        With `comm` (or ``model.comm``), the processes of an MPI job train together on their
        parts of `corpus_file` (see the class's docstring); `total_words` counts the words of
        all of them.
        """
        if kwargs:
            raise TypeError(f"unexpected arguments: {', '.join(sorted(kwargs))}")
        if not len(self.wv):
            raise RuntimeError("build the vocabulary before training: call build_vocab() first")
        comm = self.comm if comm is None else comm
        if comm is None:
            corpus_file = self._check_corpus(corpus_iterable, corpus_file)
        elif corpus_iterable is not None:
            raise TypeError("training across processes (comm=...) reads corpus files: give "
                            "corpus_file, not sentences")
        if epochs is None:
            raise ValueError("train() needs epochs (e.g. epochs=model.epochs)")
        epochs = _config.check("epochs", epochs)
        if total_words is None and total_examples is None:
            if corpus_file is None:
                raise ValueError("train() needs total_examples or total_words, e.g. "
                                 "total_examples=model.corpus_count")
            total_words = self.corpus_total_words
        if total_words is None:
            total_examples = _config.check("total_examples", total_examples, like="batch_words")
            if total_examples == self.corpus_count or not self.corpus_count:
                total_words = self.corpus_total_words
            else:
                total_words = round(total_examples * self.corpus_total_words / self.corpus_count)
        else:
            total_examples = None
        total_words = _config.check("total_words", total_words, like="batch_words")
        if total_words > 2**62 // epochs:
            raise ValueError(f"total_words * epochs must be below 2**62, got {total_words} * "
                             f"{epochs}")
        if corpus_iterable is not None and epochs > 1 and _is_one_shot(corpus_iterable):
            raise TypeError(
                f"corpus_iterable is a one-shot iterator or generator, but {epochs} epochs need "
                f"{epochs} passes: pass a restartable iterable such as a list or LineSentence")
        start_alpha = self.alpha if start_alpha is None else _config.check(
            "start_alpha", start_alpha, like="min_alpha")
        end_alpha = self.min_alpha if end_alpha is None else _config.check(
            "end_alpha", end_alpha, like="min_alpha")
        compute_loss = bool(compute_loss or self.compute_loss)
        callbacks = tuple(callbacks) or self.callbacks
        if corpus_file is None:
            corpus_file = _training.line_sentence_file(corpus_iterable)
        with self._exclusive("train"):
            if comm is not None:
                return _distributed.train(
                    self, comm, corpus_file, total_words=total_words,
                    total_examples=total_examples, epochs=epochs, start_alpha=start_alpha,
                    end_alpha=end_alpha, compute_loss=compute_loss, callbacks=callbacks)
            # Without comm, _check_corpus above made corpus_file a str or None.
            return self._train(corpus_iterable, cast(Optional[str], corpus_file), total_words,
                               total_examples, epochs, start_alpha, end_alpha, compute_loss,
                               callbacks)

    def _train(self, corpus_iterable: Any, corpus_file: Optional[str], total_words: int,
               total_examples: Optional[int], epochs: int, start_alpha: float,
               end_alpha: float, compute_loss: bool, callbacks: tuple,
               sync: Optional[_distributed.ModelSync] = None) -> tuple[int, int]:
        if [type(o) for o in self._objectives] != [
                cls for cls in _objectives.OBJECTIVES if cls.enabled(self.config)]:
            raise ValueError("the objectives (hs, negative, softmax) changed since the "
                             "vocabulary was built: call build_vocab() again")
        trainer = _kernels.Trainer(self.config, self.wv.vectors, self._keep_threshold,
                                   self._objectives, compute_loss=compute_loss,
                                   lockf=getattr(self.wv, "vectors_lockf", None))
        trainer.set_schedule(start_alpha, end_alpha, total_words * epochs)
        states = [_kernels.WorkerState(trainer, 0) for _ in range(self.workers)]
        run_entropy = [self.seed & (2**64 - 1), self.train_count]

        def job_seed(epoch: int, job: int) -> int:
            sequence = np.random.SeedSequence([*run_entropy, epoch, job])
            return int(sequence.generate_state(1, dtype=np.uint64)[0])

        self.train_count += 1
        if sync is not None:
            corpus: Any = sync.corpus(self.wv.index_to_key)
        elif corpus_file is not None:
            # One pass has no later epoch to keep the word ids for.
            corpus = _training.FileCorpus(corpus_file, self.wv.index_to_key, self.workers,
                                          cache_bytes=None if epochs > 1 else 0,
                                          words=self.corpus_total_words,
                                          sentences=self.corpus_count)
        else:
            corpus = _training.IterableCorpus(corpus_iterable, self.wv.key_to_index,
                                              self.batch_words)
        self.training_loss_history = []
        self.training_history = []

        def epoch_begins() -> None:
            for callback in callbacks:
                callback.on_epoch_begin(self)

        def epoch_ends(epoch: _training.EpochResult) -> None:
            self.training_history.append(epoch)
            self.running_training_loss = epoch.loss
            if compute_loss:
                self.training_loss_history.append(epoch.loss)
            self.epochs_trained += 1
            for callback in callbacks:
                callback.on_epoch_end(self)

        start = time.perf_counter()
        for callback in callbacks:
            callback.on_train_begin(self)
        try:
            result = _training.run(
                trainer, states, corpus, epochs, expected_words=total_words,
                expected_sentences=total_examples, first_epoch=self.epochs_trained + 1,
                progress=self.progress if sync is None or sync.is_root else False,
                on_epoch_begin=epoch_begins, on_epoch_end=epoch_ends, job_seed=job_seed,
                sync=sync)
        except KeyboardInterrupt:
            logger.warning("training interrupted after %i raw words; the model is usable",
                           trainer.words_done)
            raise
        finally:
            self.training_seconds = time.perf_counter() - start
            self.total_train_time += self.training_seconds
            self.min_alpha_yet_reached = trainer.alpha
            self.words_per_second = trainer.words_done / max(self.training_seconds, 1e-9)
            self.wv.norms = None
        for callback in callbacks:
            callback.on_train_end(self)
        logger.info("training on %i raw words took %.1fs, %.0f raw words/s", result.raw_words,
                    self.training_seconds, self.words_per_second)
        return result.effective_words, result.raw_words

    def score(self, sentences: Iterable, total_sentences: int = int(1e6), chunksize: int = 100,
              queue_factor: int = 2, report_delay: float = 1) -> np.ndarray:
        """Log-probability of each sentence under the model, as gensim's ``score`` (Taddy,
        "Document Classification by Inversion of Distributed Language Representations").

        Needs hierarchical softmax (``hs=1``). Skip-gram sums log p(word | context word) over
        every pair of each full window, CBOW log p(word | its window). Unknown words are left
        out; at most `total_sentences` sentences are scored. Computed without the GIL, in
        chunks of `chunksize` sentences on ``workers`` threads. Differs from gensim on purpose:
        the log-sigmoids are exact rather than read from a table, and the nodes gensim skips
        (scores beyond +-6) count.

        Returns
        -------
        numpy.ndarray of float32, one score per sentence scored.
        """
        from concurrent.futures import ThreadPoolExecutor

        if not self.hs:
            raise RuntimeError("score() needs hierarchical softmax: train the model with hs=1")
        if not len(self.wv):
            raise RuntimeError("score() needs a trained model: call build_vocab() and train()")
        chunksize = _config.check("chunksize", chunksize, like="batch_words")
        total_sentences = _config.check("total_sentences", total_sentences, like="batch_words")
        objectives = [o for o in self._objectives
                      if isinstance(o, _objectives.HierarchicalSoftmax)]
        trainer = _kernels.Trainer(self.config, self.wv.vectors, self._keep_threshold,
                                   objectives)
        chunks: list[list] = [[]]
        taken = 0
        for sentence in sentences:
            if taken == total_sentences:
                logger.warning("scored the first %i sentences (set total_sentences higher to "
                               "score more)", total_sentences)
                break
            if len(chunks[-1]) == chunksize:
                chunks.append([])
            chunks[-1].append(sentence)
            taken += 1
        scores = np.zeros(taken, dtype=np.float32)
        key_to_index = self.wv.key_to_index

        def score_chunk(number: int) -> None:
            first = number * chunksize
            ids, ends, _ = _corpus.encode_sentences(chunks[number], key_to_index, first)
            _kernels.score_sentences(trainer, ids, ends, scores[first:first + len(ends)])

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            list(pool.map(score_chunk, range(len(chunks) if taken else 0)))
        return scores

    def predict_output_word(self, context_words_list: Sequence[str],
                            topn: int = 10) -> Optional[list[tuple[str, float]]]:
        """The `topn` likeliest centre words for these context words, as gensim's: the softmax
        of the output weights of negative sampling against the context's mean (or sum, with
        ``cbow_mean=0``) vector. Unknown context words are left out; None when none is known.
        Needs negative sampling (``negative > 0``)."""
        if not self.negative:
            raise RuntimeError("predict_output_word() needs negative sampling: train the model "
                               "with negative > 0")
        topn = _config.check("topn", topn, like="batch_words")
        indices = [self.wv.get_index(w) for w in context_words_list if w in self.wv]
        if not indices:
            logger.warning("none of the context words is in the vocabulary")
            return None
        hidden = np.sum(self.wv.vectors[indices], axis=0)
        if self.cbow_mean:
            hidden /= len(indices)
        scores = self.syn1neg @ hidden
        # Shifted by the largest score: the same probabilities, without overflow.
        probabilities = np.exp(scores - scores.max())
        probabilities /= probabilities.sum()
        top = np.argsort(-probabilities, kind="stable")[:topn]
        return [(self.wv.index_to_key[i], probabilities[i]) for i in top]

    def reset_from(self, other_model: Word2Vec) -> None:
        """Take `other_model`'s vocabulary (words, counts, corpus size) and start from fresh
        weights, as gensim's ``reset_from``."""
        with self._exclusive("reset_from"):
            words = list(other_model.wv.index_to_key)
            counts = np.array(other_model.wv.expandos["count"], dtype=np.int64)
            self.wv = KeyedVectors(self.vector_size)
            self.wv.index_to_key = words
            self.wv.key_to_index = {w: i for i, w in enumerate(words)}
            self.wv.expandos["count"] = counts
            self._keep_threshold = vocab_mod.keep_thresholds(counts, self.sample)
            self._objectives = _objectives.objectives_for(self.config, counts)
            self._grow_vectors(0)
            self.corpus_count = other_model.corpus_count
            self.corpus_total_words = other_model.corpus_total_words

    def estimate_memory(self, vocab_size: Optional[int] = None,
                        report: Optional[dict] = None) -> dict[str, int]:
        """Bytes this model needs for `vocab_size` words (default: its vocabulary), by part,
        with gensim's keys: ``vocab``, ``vectors``, ``syn1neg``/``syn1``, ``total``. The figures
        are fastw2v's own structures: per word its key, index entry, count, subsampling
        threshold and, by objective, alias entry or Huffman path."""
        size = len(self.wv) if vocab_size is None else _config.check(
            "vocab_size", vocab_size, like="min_count")
        report = dict(report or {})
        row_bytes = size * self.vector_size * np.dtype(np.float32).itemsize
        # A key and its dict entry (about 100 bytes in CPython), a count and a threshold.
        per_word = 100 + 8 + 8
        if self.negative:
            per_word += _sampling.ALIAS_DTYPE.itemsize
        if self.hs:
            per_word += 8 + 5 * max(1, int(np.ceil(np.log2(max(size, 2)))))
        report["vocab"] = size * per_word
        report["vectors"] = row_bytes
        for objective in _objectives.OBJECTIVES:
            if objective.enabled(self.config):
                report[objective.output_name] = row_bytes
        report["total"] = sum(v for k, v in report.items() if k != "total")
        return report

    def init_sims(self, replace: bool = False) -> None:
        """Deprecated in gensim 4 as here: the vectors' norms are computed when a query needs
        them. Kept so that old code runs; see :meth:`KeyedVectors.init_sims`."""
        self.wv.init_sims(replace=replace)

    @property
    def layer1_size(self) -> int:
        """gensim's name for the size of the output weights' rows (= ``vector_size``)."""
        return self.vector_size

    def get_latest_training_loss(self) -> float:
        """The summed loss of the last epoch trained with ``compute_loss=True``."""
        return self.running_training_loss

    # -------------------------------------------------------------------------- persistence

    def save(self, fname: str | os.PathLike) -> None:
        """Save the whole model (for more training) to one file, atomically and without pickle."""
        from fastw2v import _io as io

        metadata = {
            "kind": MODEL_KIND,
            "params": self.config.saved(),
            "index_to_key": list(self.wv.index_to_key),
            "corpus_count": self.corpus_count,
            "corpus_total_words": self.corpus_total_words,
            "training_loss_history": self.training_loss_history,
            "running_training_loss": self.running_training_loss,
            "epochs_trained": self.epochs_trained,
            "train_count": self.train_count,
        }
        arrays = {"vectors": self.wv.vectors, "counts": self.wv.expandos["count"],
                  **_objectives.saved_arrays(self._objectives, self.vector_size)}
        io.save_archive(fname, metadata, arrays)

    @_class_only
    def load(cls, fname: str | os.PathLike, mmap: Optional[str] = None) -> Word2Vec:
        """Load a model written by :meth:`save`, or by gensim's ``save()`` (read safely, see
        :meth:`load_gensim`); corrupt or foreign files raise ValueError.

        With ``mmap='r'`` (or ``'c'``, copy-on-write) the input vectors are memory-mapped from
        the file instead of read. The map is made from the file that was checked, even if
        another process saves over `fname` meanwhile; truncating or rewriting a mapped file in
        place (rather than replacing it, as fastw2v's saves do) makes the operating system kill
        the process with ``SIGBUS`` when it next reads a vanished page.
        """
        from fastw2v import _gensim_model
        from fastw2v import _io as io

        if _gensim_model.is_gensim_pickle(fname):
            return cls.load_gensim(fname, mmap=mmap)
        metadata, arrays = io.load_archive(
            fname, mmap=mmap, kind=MODEL_KIND,
            arrays={"vectors", "counts", *_objectives.OUTPUT_NAMES})
        try:
            config = TrainingConfig.from_saved(dict(metadata["params"]))
            words = metadata["index_to_key"]
            model = cls(**config.as_dict())
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
            model._objectives = _objectives.restore(config, counts, arrays)
            model._keep_threshold = vocab_mod.keep_thresholds(counts, config.sample)
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

    @_class_only
    def load_gensim(cls, fname: str | os.PathLike, mmap: Optional[str] = None) -> Word2Vec:
        """Load a Word2Vec model saved by gensim 3 or 4 (``model.save(fname)``, with the arrays
        it stores beside the file), ready to train on.

        The file is a pickle, but none of its code runs: a restricted reader accepts only the
        classes such a file needs, as plain data, and refuses anything else with a ValueError.
        The vocabulary, counts, vectors, output weights (and, with ``hs=1``, gensim's Huffman
        tree), ``vectors_lockf`` and the training parameters carry over. Parameters fastw2v
        does not have (``hashfxn``, ``comment``) are dropped.
        """
        from fastw2v import _gensim_model

        data = _gensim_model.read_gensim_model(fname, mmap=mmap)
        source = os.fspath(fname)
        if data.kind != MODEL_KIND:
            raise NotAModelError(f"{source}: gensim saved {data.gensim_class} there, not a "
                                 "Word2Vec model: load it with KeyedVectors.load_gensim()")
        saved = {name: getattr(data, name) for name in PARAMETERS
                 if PARAMETERS[name].saved and getattr(data, name, None) is not None}
        try:
            config = TrainingConfig.from_saved(saved)
        except ValueError as error:
            raise ValueError(f"{source}: the gensim model's parameters do not fit fastw2v: "
                             f"{error}") from None
        model = cls(**config.as_dict())
        wv = _gensim_model.keyed_vectors_from(data)
        counts = (np.asarray(data.counts, dtype=np.int64) if data.counts is not None
                  else np.ones(len(wv), dtype=np.int64))
        model.wv.index_to_key = wv.index_to_key
        model.wv.key_to_index = wv.key_to_index
        model.wv.vectors = (np.ascontiguousarray(wv.vectors, dtype=np.float32) if mmap is None
                            else wv.vectors)
        model.wv.expandos["count"] = counts
        lockf = data.vectors_lockf
        if lockf is not None and np.any(np.asarray(lockf) != 1.0):
            model.wv.vectors_lockf = np.asarray(lockf, dtype=np.float32)
        arrays = {name: np.zeros((0, model.vector_size), np.float32)
                  for name in _objectives.OUTPUT_NAMES}
        arrays.update({name: value for name, value in
                       (("syn1neg", data.syn1neg), ("syn1", data.syn1)) if value is not None})
        try:
            model._objectives = _objectives.restore(config, counts, arrays)
        except (KeyError, ValueError):
            raise ValueError(f"{source}: the gensim model's output weights do not match its "
                             "vocabulary") from None
        paths = _huffman_paths_of(data.expandos, len(counts))
        for objective in model._objectives:
            if isinstance(objective, _objectives.HierarchicalSoftmax) and paths is not None:
                # The inner nodes' rows of syn1 belong to gensim's tree: keep training on it.
                objective.paths = paths
        model._keep_threshold = vocab_mod.keep_thresholds(counts, config.sample)
        model.corpus_count = int(data.corpus_count or 0)
        model.corpus_total_words = int(data.corpus_total_words or 0)
        model.train_count = int(data.train_count or 0)
        model.running_training_loss = float(data.running_training_loss or 0.0)
        return model

    def __str__(self) -> str:
        return (f"Word2Vec<vocab={len(self.wv)}, vector_size={self.vector_size}, "
                f"alpha={self.alpha}>")


def _huffman_paths_of(expandos: dict, size: int
                      ) -> Optional[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """gensim's per-word Huffman codes and points, flattened as the kernels read them."""
    codes, points = expandos.get("code"), expandos.get("point")
    if codes is None or points is None or len(codes) != size or len(points) != size:
        return None
    lengths = np.array([len(c) for c in codes], dtype=np.int64)
    if any(len(p) != n for p, n in zip(points, lengths)) or not lengths.all():
        return None
    offsets = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat_points = np.concatenate([np.asarray(p, dtype=np.int64) for p in points])
    if flat_points.min() < 0 or flat_points.max() >= size:
        return None
    return (flat_points.astype(np.int32),
            np.concatenate([np.asarray(c, dtype=np.uint8) for c in codes]), offsets)


def _config_property(name: str) -> property:
    def get(model: Word2Vec) -> Any:
        return getattr(model.config, name)

    def set_(model: Word2Vec, value: Any) -> None:
        model.config = model.config.replace(**{name: value})

    return property(get, set_, doc=PARAMETERS[name].doc)


# Every parameter reads as an attribute (model.window) and is checked when set.
for _name in PARAMETERS:
    setattr(Word2Vec, _name, _config_property(_name))
Word2Vec.__init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
     inspect.Parameter("sentences", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None),
     inspect.Parameter("corpus_file", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None),
     inspect.Parameter("trim_rule", inspect.Parameter.KEYWORD_ONLY, default=None),
     inspect.Parameter("callbacks", inspect.Parameter.KEYWORD_ONLY, default=()),
     inspect.Parameter("comm", inspect.Parameter.KEYWORD_ONLY, default=None)]
    + [inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default)
       for p in PARAMETERS.values()])
if Word2Vec.__doc__:
    Word2Vec.__doc__ = Word2Vec.__doc__.replace("    Examples\n", "    Parameters\n    ----------\n"
        + "".join(f"    {line}\n" for line in _config.parameters_doc().splitlines())
        + "\n    Examples\n", 1)
