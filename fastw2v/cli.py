"""The ``fastw2v`` command: train, query and evaluate word vectors from the shell.

Option names follow the original word2vec.c tool where it has one (``--size``, ``--iter``,
``--min-count``, ``--threads``...), so its users can keep their habits; word2vec.c's own command
line (``fastw2v -train text8 -output vec.bin -size 200 ...``: single-dash options, 0/1 switches,
its defaults) runs too, with only the program's name changed.

Examples
--------
.. code-block:: console

    $ fastw2v train corpus.txt -o vectors.bin --sg --binary --plot-loss loss.png
    $ fastw2v similar vectors.bin king queen
    $ fastw2v analogy vectors.bin man king woman
    $ fastw2v eval vectors.bin
    $ fastw2v plot vectors.bin king queen man woman --topn 5 -o map.png
    $ fastw2v export-projector vectors.bin projector/
    $ fastw2v demo
    $ fastw2v -train corpus.txt -output vectors.bin -cbow 0 -size 200 -binary 1 -iter 15
"""

from __future__ import annotations

import argparse
import contextlib
import lzma
import os
import shutil
import stat
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Optional

if TYPE_CHECKING:
    import numpy as np

    from fastw2v import KeyedVectors, Word2Vec

# The demo corpus ships compressed; a module attribute so that tests can point it elsewhere.
DEMO_CORPUS = resources.files("fastw2v") / "data" / "demo.txt.xz"

DEMO_WORDS = ("king", "water", "france", "good", "three", "london")
DEMO_ANALOGIES = (
    ("man", "king", "woman"),
    ("paris", "france", "london"),
    ("good", "better", "bad"),
    ("big", "bigger", "small"),
)

# Bounds the sniffing read on a binary file, whose first "line" ends at a random newline byte.
_SNIFF_LIMIT = 1 << 20

# Where `fastw2v demo` saves its word map unless told otherwise: the current directory.
DEMO_MAP = "fastw2v-demo-map.png"

# word2vec.c's options (its version 0.1c, the last), in the order of its usage text: the
# Word2Vec parameter each sets (None: the command handles it), word2vec.c's default, and what
# it does. Values of parameters are converted and checked as the parameters declare.
WORD2VEC_C_OPTIONS: dict[str, tuple[Optional[str], Any, str]] = {
    "-train": (None, None, "<file>: the text to train on"),
    "-output": (None, None, "<file>: where the vectors (or the word classes) go"),
    "-size": ("vector_size", 100, "<int>: dimension of the vectors"),
    "-window": ("window", 5, "<int>: largest distance to a context word"),
    "-sample": ("sample", 1e-3, "<float>: subsampling threshold (0: off)"),
    "-hs": ("hs", 0, "<int>: 1 adds hierarchical softmax"),
    "-negative": ("negative", 5, "<int>: noise words per prediction (0: none)"),
    "-threads": ("workers", 12, "<int>: training threads"),
    "-iter": ("epochs", 5, "<int>: passes over the text"),
    "-min-count": ("min_count", 5, "<int>: drop words seen fewer times"),
    "-alpha": ("alpha", None, "<float>: initial learning rate (0.05 for CBOW, 0.025 for "
               "skip-gram)"),
    "-classes": (None, 0, "<int>: write this many k-means word classes, not vectors"),
    "-debug": (None, 2, "<int>: 0 quiet, 1 a summary, 2 a progress bar too"),
    "-binary": (None, 0, "<int>: 1 writes the binary format"),
    "-save-vocab": (None, None, "<file>: also write the vocabulary, 'word count' per line"),
    "-read-vocab": (None, None, "<file>: take the vocabulary from <file> instead of counting"),
    "-cbow": ("sg", 1, "<int>: 1 CBOW, 0 skip-gram"),
}
# word2vec.c's name of the sentence-end token, the first entry of its vocabulary files.
_SENTENCE_END = "</s>"


class CommandError(Exception):
    """A mistake of the user that the command reports in one line, without a traceback."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors fit on one line, like every other error here."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"fastw2v: error: {message} (see '{self.prog} --help')\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``fastw2v`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        The exit status: 0 on success, 1 when the command failed on the user's input (missing
        file, unknown word, malformed vectors, invalid parameter), 2 for a malformed command line.

    Examples
    --------
    >>> main(["analogy", "--help"])  # doctest: +ELLIPSIS
    usage: fastw2v analogy...
    0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in WORD2VEC_C_OPTIONS:
        try:
            options = _parse_word2vec_c(argv)
        except CommandError as error:
            print(f"fastw2v: error: {error} (see 'fastw2v --help')", file=sys.stderr)
            return 2
        return _run_reporting(_run_word2vec_c, options)
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:
        # argparse exits after --help or a usage error; a status is friendlier to callers.
        return exit_request.code if isinstance(exit_request.code, int) else 0
    return _run_reporting(args.run, args)


def _run_reporting(command: Callable[[Any], None], arguments: Any) -> int:
    """Run `command`, turning what the user can fix into a one-line error and a status."""
    try:
        command(arguments)
    except KeyboardInterrupt:
        print("fastw2v: interrupted", file=sys.stderr)
        return 130
    except (CommandError, OSError, ValueError, TypeError, KeyError) as error:
        print(f"fastw2v: error: {_describe(error)}", file=sys.stderr)
        return 1
    return 0


def _describe(error: BaseException) -> str:
    """Say what went wrong in one line."""
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        message = f"{error.filename}: {error.strerror}"
    elif isinstance(error, KeyError) and error.args:
        # str() of a KeyError is the repr of its argument: quotes around the whole message.
        message = str(error.args[0])
    else:
        message = str(error) or type(error).__name__
    return " ".join(message.split())


def _build_parser() -> _Parser:
    parser = _Parser(
        prog="fastw2v",
        description="Train word2vec embeddings, query, evaluate and draw them.",
        epilog=_word2vec_c_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    commands.required = True
    _add_train(commands)
    _add_similar(commands)
    _add_analogy(commands)
    _add_eval(commands)
    _add_plot(commands)
    _add_export_projector(commands)
    _add_demo(commands)
    return parser


def _word2vec_c_help() -> str:
    lines = [
        "word2vec.c's command line runs as it is, with only the program's name changed:",
        "  fastw2v -train FILE -output FILE [-size 100 -cbow 1 ...]",
        "Its options, with word2vec.c's defaults (every option takes a value; switches are",
        "0 or 1):",
    ]
    for flag, (_, default, doc) in WORD2VEC_C_OPTIONS.items():
        shown = "" if default is None else f"; default {default:g}"
        lines += textwrap.wrap(f"{doc}{shown}", 79, initial_indent=f"  {flag:<12} ",
                               subsequent_indent=" " * 15, break_on_hyphens=False)
    lines += textwrap.wrap(
        "Unlike word2vec.c, the vectors and the vocabulary have no '</s>' entry (it is only "
        "written as the first line of -save-vocab's file, as word2vec.c expects), the initial "
        "vectors come from seed 1, unknown options are refused, and words are not cut at 99 "
        "bytes.", 79)
    return "\n".join(lines)


def _add_train(commands: Any) -> None:
    parser = commands.add_parser(
        "train",
        help="train vectors on a corpus and write them in word2vec format",
        description=(
            "Train word2vec vectors on CORPUS, a text file with one sentence per line and words "
            "separated by whitespace. Plain files are read in parallel by byte range; .gz, .bz2, "
            ".xz and .lzma files are streamed through LineSentence."
        ),
        epilog=(
            "The options set the Word2Vec parameters of the same name, except --size "
            "(vector_size), --iter (epochs) and --threads (workers)."
        ),
    )
    parser.add_argument("corpus", metavar="CORPUS", help="training text")
    parser.add_argument(
        "-o", "--output", metavar="VECTORS", required=True, help="file to write the vectors to"
    )
    architecture = parser.add_mutually_exclusive_group()
    architecture.add_argument(
        "--cbow", dest="sg", action="store_const", const=0, help="continuous bag of words (default)"
    )
    architecture.add_argument("--sg", dest="sg", action="store_const", const=1, help="skip-gram")
    parser.set_defaults(sg=0)
    _parameter_option(parser, "--size", "vector_size")
    _parameter_option(parser, "--window", "window")
    _parameter_option(parser, "--negative", "negative", default=None,
                      help="noise words per target (default 5, or 0 with --hs or --softmax; "
                      "give both to combine)")
    parser.add_argument(
        "--hs", action="store_true", help="hierarchical softmax instead of negative sampling"
    )
    parser.add_argument(
        "--softmax", action="store_true", help="full softmax instead of negative sampling"
    )
    _parameter_option(parser, "--sample", "sample")
    _parameter_option(parser, "--min-count", "min_count")
    _parameter_option(parser, "--iter", "epochs")
    _parameter_option(parser, "--threads", "workers", default=os.cpu_count() or 1,
                      help="worker threads (default: the number of CPUs)")
    _parameter_option(parser, "--alpha", "alpha", default=None,
                      help="initial learning rate (default 0.05 for CBOW, 0.025 for skip-gram)")
    parser.add_argument(
        "--binary", action="store_true", help="write the binary word2vec format instead of text"
    )
    _parameter_option(parser, "--seed", "seed")
    parser.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    parser.add_argument(
        "--plot-loss", metavar="IMAGE",
        help="also draw the loss and the speed of each epoch to IMAGE (.png, .svg, .pdf...; "
        "needs the [plot] extra)",
    )
    parser.add_argument(
        "--distributed", action="store_true",
        help="train across the processes of an MPI job (mpiexec -n N fastw2v train ...; needs "
        "mpi4py: pip install 'fastw2v[mpi]'): each process trains --threads threads on its part "
        "of CORPUS, their models are combined as they train, and the first one writes VECTORS"
    )
    parser.set_defaults(run=_run_train)


def _parameter_option(parser: argparse.ArgumentParser, flag: str, name: str,
                      **overrides: Any) -> None:
    """An option for the training parameter `name`, converted, checked and described as
    `fastw2v._config` declares it."""
    from fastw2v._config import PARAMETERS

    parameter = PARAMETERS[name]

    def convert(text: str) -> Any:
        try:
            return parameter.parse(text, name=flag)
        except (TypeError, ValueError) as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = parameter.kind
    settings = {"dest": name, "type": convert, "default": parameter.default,
                "metavar": flag.lstrip("-").upper().replace("-", "_"),
                "help": f"{parameter.doc} (default {parameter.default:g})"}
    settings.update(overrides)
    parser.add_argument(flag, **settings)


def _add_vectors_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("vectors", metavar="VECTORS", help="vectors in word2vec format")
    parser.add_argument(
        "--binary",
        action="store_true",
        default=None,
        help="VECTORS is in the binary format (default: detected from its content)",
    )


def _add_similar(commands: Any) -> None:
    parser = commands.add_parser(
        "similar",
        help="print the nearest neighbours of words",
        description="Print the nearest neighbours of each WORD by cosine similarity.",
    )
    _add_vectors_argument(parser)
    parser.add_argument("words", metavar="WORD", nargs="+", help="word to look up")
    parser.add_argument(
        "--topn", type=_positive_int, default=10, help="neighbours per word (default 10)"
    )
    parser.set_defaults(run=_run_similar)


def _add_analogy(commands: Any) -> None:
    parser = commands.add_parser(
        "analogy",
        help="answer 'A is to B as C is to ?'",
        description="Print the words closest to B - A + C: A is to B as C is to what?",
    )
    _add_vectors_argument(parser)
    parser.add_argument("a", metavar="A")
    parser.add_argument("b", metavar="B")
    parser.add_argument("c", metavar="C")
    parser.add_argument(
        "--topn", type=_positive_int, default=5, help="answers to print (default 5)"
    )
    parser.set_defaults(run=_run_analogy)


def _add_eval(commands: Any) -> None:
    parser = commands.add_parser(
        "eval",
        help="measure analogy accuracy and word-similarity correlation",
        description=(
            "Evaluate VECTORS on word analogies (accuracy per section) and on word-pair "
            "similarities (correlation with human scores). By default the sets that ship with "
            "fastw2v: questions-words and WordSim-353."
        ),
    )
    _add_vectors_argument(parser)
    parser.add_argument(
        "--analogies", metavar="PATH", help="analogy questions in the questions-words format"
    )
    parser.add_argument(
        "--pairs", metavar="PATH", help="tab-separated word pairs with a similarity score"
    )
    parser.set_defaults(run=_run_eval)


def _add_demo(commands: Any) -> None:
    parser = commands.add_parser(
        "demo",
        help="train on the bundled corpus and show what the vectors learned",
        description=(
            "Train skip-gram vectors on the small corpus that ships with fastw2v, then print "
            "nearest neighbours, a few analogies and the analogy accuracy. About 20 seconds on "
            "2 cores."
        ),
    )
    _parameter_option(parser, "--workers", "workers", default=os.cpu_count() or 1,
                      help="worker threads (default: the number of CPUs)")
    _parameter_option(parser, "--seed", "seed")
    drawing = parser.add_mutually_exclusive_group()
    drawing.add_argument(
        "--plot", metavar="IMAGE",
        help=f"where to draw the map of the words shown (default: {DEMO_MAP} in the current "
        "directory, when the [plot] extra is installed)",
    )
    drawing.add_argument("--no-plot", action="store_true", help="do not draw the word map")
    parser.set_defaults(run=_run_demo)


def _add_plot(commands: Any) -> None:
    parser = commands.add_parser(
        "plot",
        help="draw a labelled 2-D map of words",
        description=(
            "Draw WORDs (and with --topn their nearest neighbours, coloured by WORD) on a 2-D "
            "map of their vectors, and save it to IMAGE. Needs the [plot] extra: "
            'pip install "fastw2v[plot]".'
        ),
    )
    _add_vectors_argument(parser)
    parser.add_argument(
        "words", metavar="WORD", nargs="*", help="word to place (default: the 50 most frequent)"
    )
    parser.add_argument(
        "-o", "--output", metavar="IMAGE", required=True,
        help="image file; its extension chooses the format (.png, .svg, .pdf...)",
    )
    parser.add_argument(
        "--topn", type=_non_negative_int, default=0,
        help="also place the N nearest neighbours of each WORD (default 0)",
    )
    parser.add_argument(
        "--method", choices=("pca", "tsne", "umap"), default="pca",
        help="projection: pca (default), tsne (needs scikit-learn) or umap (needs umap-learn)",
    )
    parser.set_defaults(run=_run_plot)


def _add_export_projector(commands: Any) -> None:
    parser = commands.add_parser(
        "export-projector",
        help="write vectors for the TensorFlow Embedding Projector",
        description=(
            "Write DIRECTORY/vectors.tsv and DIRECTORY/metadata.tsv, the two files that the "
            "TensorFlow Embedding Projector (projector.tensorflow.org, or TensorBoard) loads, "
            "most frequent words first. DIRECTORY is created if needed."
        ),
    )
    _add_vectors_argument(parser)
    parser.add_argument("directory", metavar="DIRECTORY", help="where the two files go")
    parser.add_argument(
        "--vocab", metavar="PATH",
        help="'word count' file (word2vec.c's -save-vocab): adds the counts as a column",
    )
    parser.add_argument(
        "--limit", type=_positive_int, default=None,
        help="write only the N most frequent words (the projector slows down past some "
        "tens of thousands)",
    )
    parser.set_defaults(run=_run_export_projector)


def _run_train(args: argparse.Namespace) -> None:
    import io

    from fastw2v import Word2Vec
    from fastw2v._io import check_writable, is_compressed

    corpus = Path(args.corpus)
    output = Path(args.output)
    comm = None
    if args.distributed:
        try:
            from mpi4py import MPI
        except ImportError:
            raise CommandError("--distributed needs mpi4py and an MPI library: pip install "
                               "'fastw2v[mpi]'") from None
        comm = MPI.COMM_WORLD
    first = comm is None or comm.Get_rank() == 0

    def check_files() -> None:
        _require_file(corpus, "training reads the corpus once per epoch and needs a regular file")
        if comm is not None and is_compressed(corpus):
            raise CommandError(f"{corpus}: --distributed reads byte ranges of the corpus, which "
                               "a compressed file does not have: decompress it first")
        if first:
            # Fail now rather than after hours of training.
            check_writable(output)
            if output.exists() and os.path.samefile(output, corpus):
                raise CommandError(
                    f"{output}: the output file is the corpus; the vectors would replace it")

    if comm is None:
        check_files()
    else:
        from fastw2v import _distributed

        # Every process fails together, or none waits for one that has gone.
        _distributed.collectively(comm, check_files)

    extra: dict[str, Any] = {}
    if args.plot_loss is not None:
        _require_plotting()
        check_writable(args.plot_loss)
        from fastw2v.plot import TrainingRecorder

        recorder = TrainingRecorder()
        extra = {"compute_loss": True, "callbacks": [recorder]}

    if args.negative is None:
        args.negative = 0 if args.hs or args.softmax else 5
    if args.alpha is None:
        args.alpha = 0.025 if args.sg else 0.05
    distributed: dict[str, Any] = {} if comm is None else {"comm": comm}
    names = ("sg", "vector_size", "window", "negative", "sample", "min_count", "epochs",
             "workers", "alpha", "seed")
    model = Word2Vec(
        **{name: getattr(args, name) for name in names},
        hs=int(args.hs),
        softmax=int(args.softmax),
        progress=False if args.no_progress else None,
        **extra,
        **distributed,
    )
    # Only the first process of an MPI job reports and writes.
    with contextlib.nullcontext() if first else contextlib.redirect_stdout(io.StringIO()):
        _fit(model, **_corpus_source(corpus))
    if not first:
        return
    model.wv.save_word2vec_format(str(output), binary=args.binary)
    kind = "binary" if args.binary else "text"
    print(f"wrote {len(model.wv):,} vectors of dimension {model.vector_size} to {output} ({kind})")
    if args.plot_loss is not None:
        from fastw2v import plot

        _save_figure(plot.training(model, recorder), args.plot_loss)
        print(f"wrote the loss and speed of each epoch to {args.plot_loss}")


def _corpus_source(corpus: Path) -> dict[str, Any]:
    """The training arguments that read `corpus`."""
    from fastw2v import LineSentence
    from fastw2v._io import is_compressed

    # The corpus_file reader splits a file by byte ranges, which a compressed stream does not have.
    if is_compressed(corpus):
        return {"corpus_iterable": LineSentence(str(corpus))}
    return {"corpus_file": str(corpus)}


def _fit(model: Word2Vec, say: Callable[[str], None] = print, **corpus: Any) -> None:
    """Build the vocabulary and train, reporting each step as it ends."""
    model.build_vocab(**corpus)
    say(f"vocabulary: {len(model.wv):,} words from {model.corpus_total_words:,} in the corpus")
    _train_epochs(model, model.corpus_total_words, say, **corpus)


def _train_epochs(model: Word2Vec, total_words: int, say: Callable[[str], None],
                  **corpus: Any) -> None:
    model.train(**corpus, total_words=total_words, epochs=model.epochs)
    say(
        f"trained {model.epochs} epochs in {model.training_seconds:.1f} s: "
        f"{model.words_per_second:,.0f} words/s"
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def _require_file(path: Path, why: str = "") -> None:
    """Refuse, naming it for what it is, anything that is not a readable regular file."""
    from fastw2v._io import file_kind

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    if stat.S_ISDIR(mode):
        raise CommandError(f"{path}: is a directory, not a file")
    if not stat.S_ISREG(mode):
        reason = f" ({why})" if why else ""
        raise CommandError(f"{path}: is {file_kind(mode)}, not a regular file{reason}")


@contextlib.contextmanager
def _naming_undecodable(path: str | None) -> Iterator[None]:
    """Make a decoding error of the file at `path` (None for a shipped file) say which file."""
    try:
        yield
    except UnicodeDecodeError as error:
        if path is None or path in str(error):
            raise
        raise CommandError(f"{path}: not UTF-8 text: {error}") from None


def _load_vectors(path: str, binary: bool | None, vocab: str | None = None) -> KeyedVectors:
    from fastw2v import KeyedVectors

    _require_file(Path(path))
    if vocab is not None:
        _require_file(Path(vocab))
    if binary is None:
        binary = _is_binary_word2vec(path)
    return KeyedVectors.load_word2vec_format(path, fvocab=vocab, binary=binary)


def _is_binary_word2vec(path: str) -> bool:
    """Tell the binary word2vec format from the text one.

    Both formats open with the same ``count dimension`` header line. In a text file, the next line
    is a word followed by ``dimension`` decimal numbers, which the raw float32 bytes of a binary
    file practically never spell out. Whatever cannot be decided (a malformed header, no vectors)
    is called text, and the text reader then says what is wrong with the file.
    """
    from fastw2v._io import open_for_reading

    with open_for_reading(path) as stream:
        header = stream.readline(_SNIFF_LIMIT).split()
        first_vector = stream.readline(_SNIFF_LIMIT).split()
    try:
        dimension = int(header[1])
    except (IndexError, ValueError):
        return False
    if not first_vector:
        return False
    if len(first_vector) != dimension + 1:
        return True
    try:
        for number in first_vector[1:]:
            float(number)
    except ValueError:
        return True
    return False


def _require_words(vectors: KeyedVectors, words: Sequence[str]) -> None:
    missing = [word for word in dict.fromkeys(words) if word not in vectors]
    if not missing:
        return
    hints = [
        f"{word!r} (did you mean {word.lower()!r}?)" if word.lower() in vectors else repr(word)
        for word in missing
    ]
    noun = "word" if len(missing) == 1 else "words"
    raise CommandError(f"{noun} not in the vocabulary: {', '.join(hints)}")


def _print_ranking(ranking: Sequence[tuple[str, float]] | Any) -> None:
    # (most_similar's declared return type also covers the array of all similarities.)
    width = max((len(word) for word, _ in ranking), default=0)
    for word, similarity in ranking:
        print(f"  {word:<{width}}  {similarity:.4f}")


def _run_similar(args: argparse.Namespace) -> None:
    vectors = _load_vectors(args.vectors, args.binary)
    _require_words(vectors, args.words)
    for word in args.words:
        print(f"{word}:")
        _print_ranking(vectors.most_similar(positive=[word], topn=args.topn))


def _run_analogy(args: argparse.Namespace) -> None:
    vectors = _load_vectors(args.vectors, args.binary)
    _require_words(vectors, [args.a, args.b, args.c])
    print(f"{args.a} : {args.b} :: {args.c} : ?")
    _print_ranking(
        vectors.most_similar(positive=[args.b, args.c], negative=[args.a], topn=args.topn)
    )


def _run_eval(args: argparse.Namespace) -> None:
    for path in (args.analogies, args.pairs):
        if path is not None:
            _require_file(Path(path))
    vectors = _load_vectors(args.vectors, args.binary)
    with _naming_undecodable(args.analogies):
        _print_analogy_accuracy(vectors, args.analogies, per_section=True)
    with _naming_undecodable(args.pairs):
        (pearson, _), (spearman, _), oov_percent = vectors.evaluate_word_pairs(args.pairs)
    print(f"word pairs ({args.pairs or 'WordSim-353'}):")
    print(f"  Spearman  {spearman:.4f}")
    print(f"  Pearson   {pearson:.4f}")
    print(f"  OOV       {oov_percent:.1f}% of the pairs")


def _print_analogy_accuracy(vectors: KeyedVectors, path: str | None, *, per_section: bool) -> None:
    _, sections = vectors.evaluate_word_analogies(path)
    print(f"analogies ({path or 'questions-words'}):")
    rows = [
        (section["section"], len(section["correct"]), len(section["incorrect"]))
        for section in sections
    ]
    # The last section is the total over all the others.
    if not per_section:
        rows = rows[-1:]
    width = max(len(name) for name, _, _ in rows)
    for name, correct, incorrect in rows:
        asked = correct + incorrect
        accuracy = f"{100.0 * correct / asked:5.1f}%" if asked else "    -"
        print(f"  {name:<{width}}  {accuracy}  ({correct:,}/{asked:,})")


def _require_plotting() -> None:
    """Fail now, in one line, when the [plot] extra is missing."""
    from fastw2v import plot

    try:
        plot.require_matplotlib()
    except ImportError as error:
        raise CommandError(str(error)) from None


def _save_figure(figure: Any, path: str) -> None:
    """Save a matplotlib figure atomically, in the format its extension names."""
    from fastw2v._io import atomic_write

    suffix = Path(path).suffix.lower().lstrip(".")
    formats = figure.canvas.get_supported_filetypes()
    if suffix not in formats:
        raise CommandError(
            f"{path}: cannot draw a {'.' + suffix if suffix else 'nameless'} image; give a file "
            f"ending in one of {', '.join('.' + name for name in sorted(formats))}"
        )
    with atomic_write(path, "wb") as out:
        figure.savefig(out, format=suffix)


def _run_plot(args: argparse.Namespace) -> None:
    from fastw2v import plot
    from fastw2v._io import check_writable

    _require_plotting()
    check_writable(args.output)
    vectors = _load_vectors(args.vectors, args.binary)
    _require_words(vectors, args.words)
    try:
        figure = plot.words(vectors, args.words or None, topn=args.topn, method=args.method)
    except ImportError as error:
        raise CommandError(str(error)) from None
    _save_figure(figure, args.output)
    placed = len(figure.axes[0].texts)
    print(f"wrote a map of {placed} words to {args.output}")


def _run_export_projector(args: argparse.Namespace) -> None:
    directory = Path(args.directory)
    if directory.exists() and not directory.is_dir():
        raise CommandError(f"{directory}: is not a directory")
    vectors = _load_vectors(args.vectors, args.binary, args.vocab)
    directory.mkdir(parents=True, exist_ok=True)
    vectors_path, metadata_path = vectors.save_projector(
        os.path.join(directory, ""), counts=args.vocab is not None, limit=args.limit)
    shown = len(vectors) if args.limit is None else min(args.limit, len(vectors))
    print(f"wrote {shown:,} vectors to {vectors_path} and their words to {metadata_path}")
    print("load both in the Embedding Projector: https://projector.tensorflow.org (Load)")


def _run_demo(args: argparse.Namespace) -> None:
    from fastw2v import Word2Vec
    from fastw2v._io import check_writable

    if args.plot is not None:
        _require_plotting()
        check_writable(args.plot)
    model = Word2Vec(
        sg=1,
        vector_size=100,
        window=5,
        negative=5,
        min_count=5,
        sample=1e-4,
        # The corpus has 2 M words: 10 epochs lift the analogy accuracy from about 6% to 9%
        # (5 epochs leave the vectors visibly undertrained) and still train in about 10 s on
        # 2 cores.
        epochs=10,
        workers=args.workers,
        seed=args.seed,
    )
    # Decompressed once so that training can read the file in parallel by byte range.
    with tempfile.TemporaryDirectory(prefix="fastw2v-demo-") as scratch:
        corpus = Path(scratch, "demo.txt")
        with DEMO_CORPUS.open("rb") as packed, lzma.open(packed) as text, open(corpus, "wb") as out:
            shutil.copyfileobj(text, out)
        _fit(model, corpus_file=str(corpus))
    vectors = model.wv

    print()
    known_words = [word for word in DEMO_WORDS if word in vectors]
    for word in known_words:
        print(f"nearest to {word!r}:")
        _print_ranking(vectors.most_similar(positive=[word], topn=5))
    for a, b, c in DEMO_ANALOGIES:
        if all(word in vectors for word in (a, b, c)):
            print(f"{a} : {b} :: {c} : ?")
            _print_ranking(vectors.most_similar(positive=[b, c], negative=[a], topn=3))
    print()
    _print_analogy_accuracy(vectors, None, per_section=False)
    if not args.no_plot:
        _draw_demo_map(vectors, known_words, args.plot)


def _draw_demo_map(vectors: KeyedVectors, words: Sequence[str], path: Optional[str]) -> None:
    """Save the demo's words and their neighbours as a map; without the [plot] extra, say how
    to get one (and fail only when a path was asked for)."""
    from fastw2v import plot

    try:
        plot.require_matplotlib()
    except ImportError:
        if path is not None:
            raise CommandError(f"--plot needs the [plot] extra: {plot.INSTALL_HINT}") from None
        print(f"\n(for a map of these words: {plot.INSTALL_HINT})")
        return
    figure = plot.words(vectors, words, topn=5, title="fastw2v demo: words and their neighbours")
    if path is not None:
        _save_figure(figure, path)
    else:
        path = DEMO_MAP
        try:
            _save_figure(figure, path)
        except OSError as error:
            # Unasked for: a directory that cannot take it is no reason to fail the demo.
            print(f"\n(no word map: {_describe(error)}; choose a place with --plot IMAGE)")
            return
    print(f"\nword map: {os.path.abspath(path)}")


# --------------------------------------------------------------------------------------------
# word2vec.c's command line


def _parse_word2vec_c(argv: Sequence[str]) -> dict[str, Any]:
    """word2vec.c's ``-option value`` pairs, each converted; its defaults for the others.

    Unlike word2vec.c, which ignores what it does not know, an unknown or repeated option is an
    error: a misspelt option would otherwise silently train with a default.
    """
    from fastw2v._config import PARAMETERS

    given: dict[str, str] = {}
    for position in range(0, len(argv), 2):
        flag = argv[position]
        if flag not in WORD2VEC_C_OPTIONS:
            known = ", ".join(WORD2VEC_C_OPTIONS)
            raise CommandError(f"unknown word2vec.c option {flag!r} (it knows {known})")
        if position + 1 == len(argv):
            raise CommandError(f"argument missing for {flag}")
        if flag in given:
            raise CommandError(f"{flag} given twice")
        given[flag] = argv[position + 1]

    options: dict[str, Any] = {}
    for flag, (name, default, _) in WORD2VEC_C_OPTIONS.items():
        if flag not in given:
            options[flag] = default
            continue
        text = given[flag]
        try:
            if name is not None:
                options[flag] = PARAMETERS[name].parse(text, name=flag)
            elif default is not None:
                # -classes, -debug, -binary: word2vec.c reads them as integers.
                options[flag] = _non_negative_int(text)
            else:
                options[flag] = text
        except (TypeError, ValueError, argparse.ArgumentTypeError) as error:
            raise CommandError(f"{flag}: {error}") from None
    return options


def _run_word2vec_c(options: dict[str, Any]) -> None:
    """Train as word2vec.c does with these options (see `WORD2VEC_C_OPTIONS`)."""
    from fastw2v import Word2Vec
    from fastw2v._io import check_writable

    if options["-train"] is None:
        raise CommandError("-train <file> is required: the text to train on")
    corpus = Path(options["-train"])
    output, vocab_out, vocab_in = (options[flag] for flag in ("-output", "-save-vocab",
                                                              "-read-vocab"))
    if output is None and vocab_out is None:
        raise CommandError("nothing to write: give -output <file> (or -save-vocab <file>)")
    _require_file(corpus, "training reads the corpus once per epoch and needs a regular file")
    if vocab_in is not None:
        _require_file(Path(vocab_in))
    for path in (output, vocab_out):
        if path is not None:
            check_writable(path)
            if os.path.exists(path) and os.path.samefile(path, corpus):
                raise CommandError(f"{path}: is the corpus given to -train; writing would "
                                   "replace it")
    debug = options["-debug"]

    def say(line: str) -> None:
        if debug >= 1:
            print(line)

    cbow = bool(options["-cbow"])
    alpha = options["-alpha"] if options["-alpha"] is not None else (0.05 if cbow else 0.025)
    model = Word2Vec(
        sg=0 if cbow else 1,
        **{name: options[flag] for flag, (name, _, _) in WORD2VEC_C_OPTIONS.items()
           if name not in (None, "sg", "alpha")},
        alpha=alpha,
        # word2vec.c lowers the rate linearly and never below alpha * 1e-4.
        min_alpha=alpha * 1e-4,
        progress=None if debug >= 2 else False,
    )
    source = _corpus_source(corpus)
    if vocab_in is None:
        model.build_vocab(**source)
        say(f"vocabulary: {len(model.wv):,} words from {model.corpus_total_words:,} in "
            f"{corpus}")
        total_words = model.corpus_total_words
    else:
        total_words = _read_word2vec_c_vocab(model, vocab_in, corpus)
        say(f"vocabulary: {len(model.wv):,} words read from {vocab_in}")
    if vocab_out is not None:
        _save_word2vec_c_vocab(model, vocab_out, corpus)
        say(f"wrote the vocabulary to {vocab_out}")
    if output is None:
        return
    _train_epochs(model, total_words, say, **source)
    if options["-classes"]:
        _save_word_classes(model.wv, options["-classes"], output)
        say(f"wrote {options['-classes']} word classes of {len(model.wv):,} words to {output}")
    else:
        binary = bool(options["-binary"])
        model.wv.save_word2vec_format(output, binary=binary)
        say(f"wrote {len(model.wv):,} vectors of dimension {model.vector_size} to {output} "
            f"({'binary' if binary else 'text'})")


def _read_word2vec_c_vocab(model: Word2Vec, path: str, corpus: Path) -> int:
    """Give `model` the vocabulary of a ``word count`` file; return the corpus' word count,
    which the learning-rate schedule needs and the file does not hold."""
    from fastw2v import LineSentence, _vocab
    from fastw2v._io.word2vec_format import _read_counts

    with _naming_undecodable(path):
        counts = _read_counts(path, "utf8", "strict")
    # fastw2v's vocabulary has no sentence-end token: sentences end with their lines.
    counts.pop(_SENTENCE_END, None)
    if not counts:
        raise CommandError(f"{path}: no 'word count' lines")
    # The file is in word2vec.c's order (by count): keep it, ties included. Set through the
    # config, as the `model.sorted_vocab` property does, which the type checker cannot see.
    sorted_vocab = model.config.sorted_vocab
    model.config = model.config.replace(sorted_vocab=0)
    try:
        model.build_vocab_from_freq(counts)
    finally:
        model.config = model.config.replace(sorted_vocab=sorted_vocab)
    source = _corpus_source(corpus)
    if "corpus_file" in source:
        return _vocab.scan_corpus_file(source["corpus_file"]).total_words
    return _vocab.scan_sentences(LineSentence(str(corpus))).total_words


def _save_word2vec_c_vocab(model: Word2Vec, path: str, corpus: Path) -> None:
    """Write the vocabulary as word2vec.c does: ``word count`` lines, most frequent first,
    after a ``</s>`` line counting the corpus' line breaks (word2vec.c reads the first entry
    of such a file as its sentence end, whatever it is)."""
    from fastw2v._io import atomic_write_compressed, open_for_reading

    line_breaks = 0
    with open_for_reading(corpus) as text:
        for block in iter(lambda: text.read(1 << 20), b""):
            line_breaks += block.count(b"\n")
    counts = model.wv.expandos["count"]
    with atomic_write_compressed(path) as out:
        out.write(f"{_SENTENCE_END} {line_breaks}\n".encode())
        for word, count in zip(model.wv.index_to_key, counts):
            out.write(f"{word} {int(count)}\n".encode())


def _word_classes(vectors: np.ndarray, classes: int, iterations: int = 10) -> np.ndarray:
    """word2vec.c's ``-classes``: k-means of the vectors, as its ``TrainModel`` clusters them.

    Word ``i`` starts in class ``i % classes``. Each iteration takes every class's mean (its
    sum over one more than its size, as word2vec.c counts), scales it to unit length, and moves
    every word to the class whose unit centre has the largest dot product with the word's
    vector (the first one on a tie). A class left empty has no centre and takes no word.

    Parameters
    ----------
    vectors : numpy.ndarray
        One row per word.
    classes : int
        The number of classes, >= 1.
    iterations : int
        word2vec.c runs 10.

    Returns
    -------
    numpy.ndarray
        The class of each word, in ``[0, classes)``.

    Examples
    --------
    >>> import numpy as np
    >>> vectors = np.array([[1, 0], [0, 1], [0.9, 0.1], [0.1, 0.9]], dtype=np.float32)
    >>> _word_classes(vectors, 2).tolist()
    [0, 1, 0, 1]
    """
    import numpy as np

    if classes < 1:
        raise ValueError(f"classes must be >= 1, got {classes}")
    vectors = np.asarray(vectors, dtype=np.float32)
    labels = np.arange(len(vectors)) % classes
    for _ in range(iterations):
        sums = np.zeros((classes, vectors.shape[1]), dtype=np.float64)
        np.add.at(sums, labels, vectors)
        centres = sums / (np.bincount(labels, minlength=classes) + 1)[:, None]
        norms = np.linalg.norm(centres, axis=1)
        empty = norms == 0
        centres[~empty] /= norms[~empty, None]
        # In blocks of rows, so that the scores of a large vocabulary fit in memory.
        for start in range(0, len(vectors), 8192):
            scores = vectors[start:start + 8192] @ centres.T.astype(np.float32)
            scores[:, empty] = -np.inf
            labels[start:start + 8192] = scores.argmax(axis=1)
    return labels


def _save_word_classes(vectors: KeyedVectors, classes: int, path: str) -> None:
    from fastw2v._io import atomic_write_compressed

    labels = _word_classes(vectors.vectors, classes)
    with atomic_write_compressed(path) as out:
        for word, label in zip(vectors.index_to_key, labels):
            out.write(f"{word} {int(label)}\n".encode())


if __name__ == "__main__":
    raise SystemExit(main())
