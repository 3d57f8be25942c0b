"""The ``fastw2v`` command: train, query and evaluate word vectors from the shell.

Option names follow the original word2vec.c tool where it has one (``--size``, ``--iter``,
``--min-count``, ``--threads``...), so its users can keep their habits.

Examples
--------
.. code-block:: console

    $ fastw2v train corpus.txt -o vectors.bin --sg --binary
    $ fastw2v similar vectors.bin king queen
    $ fastw2v analogy vectors.bin man king woman
    $ fastw2v eval vectors.bin
    $ fastw2v demo
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
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
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
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:
        # argparse exits after --help or a usage error; a status is friendlier to callers.
        return exit_request.code if isinstance(exit_request.code, int) else 0
    try:
        args.run(args)
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
        description="Train word2vec embeddings, query and evaluate them.",
    )
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    commands.required = True
    _add_train(commands)
    _add_similar(commands)
    _add_analogy(commands)
    _add_eval(commands)
    _add_demo(commands)
    return parser


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
    parser.set_defaults(run=_run_demo)


def _run_train(args: argparse.Namespace) -> None:
    import io

    from fastw2v import LineSentence, Word2Vec
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

    if args.negative is None:
        args.negative = 0 if args.hs or args.softmax else 5
    if args.alpha is None:
        args.alpha = 0.025 if args.sg else 0.05
    names = ("sg", "vector_size", "window", "negative", "sample", "min_count", "epochs",
             "workers", "alpha", "seed")
    model = Word2Vec(
        **{name: getattr(args, name) for name in names},
        hs=int(args.hs),
        softmax=int(args.softmax),
        progress=False if args.no_progress else None,
        **({} if comm is None else {"comm": comm}),
    )
    # Only the first process of an MPI job reports and writes.
    with contextlib.nullcontext() if first else contextlib.redirect_stdout(io.StringIO()):
        # The corpus_file reader splits a file by byte ranges, which a compressed stream lacks.
        if is_compressed(corpus):
            _fit(model, corpus_iterable=LineSentence(str(corpus)))
        else:
            _fit(model, corpus_file=str(corpus))
    if not first:
        return
    model.wv.save_word2vec_format(str(output), binary=args.binary)
    kind = "binary" if args.binary else "text"
    print(f"wrote {len(model.wv):,} vectors of dimension {model.vector_size} to {output} ({kind})")


def _fit(model: Word2Vec, **corpus: Any) -> None:
    """Build the vocabulary and train, reporting each step as it ends."""
    model.build_vocab(**corpus)
    print(f"vocabulary: {len(model.wv):,} words from {model.corpus_total_words:,} in the corpus")
    model.train(
        **corpus,
        total_examples=model.corpus_count,
        total_words=model.corpus_total_words,
        epochs=model.epochs,
    )
    print(
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


def _load_vectors(path: str, binary: bool | None) -> KeyedVectors:
    from fastw2v import KeyedVectors

    _require_file(Path(path))
    if binary is None:
        binary = _is_binary_word2vec(path)
    return KeyedVectors.load_word2vec_format(path, binary=binary)


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


def _print_ranking(ranking: Sequence[tuple[str, float]]) -> None:
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


def _run_demo(args: argparse.Namespace) -> None:
    from fastw2v import Word2Vec

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


if __name__ == "__main__":
    raise SystemExit(main())
