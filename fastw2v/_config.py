"""Every training parameter, declared once: its type, bounds, default, meaning and saved form.

`Word2Vec` takes its keyword arguments through `TrainingConfig`, `load()` restores a saved model's
parameters through it, the command line converts its options with `Parameter.parse`, and the
compiled trainer reads the architecture from it. Values are checked here, once, at the boundary,
so nothing below has to check them again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Optional

# Kinds of value. A "flag" is gensim's 0/1 int parameter (sg, hs, ...); a "bool" is a Python
# bool (compute_loss, ...); both accept any truthy value and are saved as their kind.
INT, FLOAT, FLAG, BOOL, OPTIONAL_BOOL, STRING = "int", "float", "flag", "bool", "bool?", "str"


@dataclass(frozen=True)
class Parameter:
    """One parameter: how to check it, its default, and whether a saved model keeps it."""

    name: str
    kind: str
    default: Any
    doc: str
    low: Optional[float] = None
    high: Optional[float] = None
    #: The lower bound itself is excluded (alpha > 0).
    low_open: bool = False
    #: None is accepted (and means "no limit" or "decide automatically").
    optional: bool = False
    saved: bool = True

    def check(self, value: Any, name: Optional[str] = None) -> Any:
        """The value in its canonical type, or TypeError/ValueError naming the parameter."""
        name = name or self.name
        if value is None and self.optional:
            return None
        if self.kind == FLAG:
            return int(bool(value))
        if self.kind in (BOOL, OPTIONAL_BOOL):
            return bool(value)
        if self.kind == STRING:
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a str, got {type(value).__name__} {value!r}")
            return value
        if self.kind == INT:
            if isinstance(value, bool) or not isinstance(value, Integral):
                raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
            value = int(value)
            if (self.low is not None and value < self.low) or (
                    self.high is not None and value > self.high):
                raise ValueError(f"{name} must be {self._bounds()}, got {value}")
            return value
        if isinstance(value, bool) or not isinstance(value, Real):
            raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
        value = float(value)
        if (not math.isfinite(value) or (self.low is not None and value < self.low)
                or (self.high is not None and value > self.high)
                or (self.low_open and value == self.low)):
            raise ValueError(f"{name} must be {self._bounds()}, got {value}")
        return value

    def parse(self, text: str, name: Optional[str] = None) -> Any:
        """Convert and check a command-line string (for argparse's ``type=``); errors call the
        value `name` (an option's flag, say) when given."""
        try:
            value: Any = float(text) if self.kind == FLOAT else int(text, 10)
        except ValueError:
            raise ValueError(f"{text!r} is not a valid {self.kind}") from None
        return self.check(value, name=name)

    def _bounds(self) -> str:
        if self.kind == FLOAT:
            left = "(" if self.low_open else "["
            high = "inf)" if self.high is None else f"{self.high:g}]"
            return f"in {left}{self.low:g}, {high}"
        if self.high is None:
            return f">= {self.low:g}"
        return f"between {self.low:g} and {self.high:g}"


_P = Parameter
PARAMETERS: dict[str, Parameter] = {p.name: p for p in (
    _P("vector_size", INT, 100, "dimension of the word vectors", 1, 100_000),
    _P("alpha", FLOAT, 0.025, "initial learning rate", 0.0, 1.0, low_open=True),
    _P("window", INT, 5, "maximum distance between the centre word and a context word",
       1, 10_000),
    _P("min_count", INT, 5, "ignore words seen fewer times than this", 0),
    _P("max_vocab_size", INT, None, "prune the rarest words while counting when the table "
       "grows past this many entries (None: no limit)", 1, optional=True),
    _P("sample", FLOAT, 1e-3, "subsampling threshold for frequent words (0: keep all)",
       0.0, None),
    _P("seed", INT, 1, "seed of the initial vectors and of every random draw",
       -(2**63), 2**64 - 1),
    _P("workers", INT, 3, "training threads", 1, 1024),
    _P("min_alpha", FLOAT, 0.0001, "learning rate reached at the end of training", 0.0, 1.0),
    _P("sg", FLAG, 0, "1: skip-gram; 0: CBOW"),
    _P("hs", FLAG, 0, "1: hierarchical softmax"),
    _P("negative", INT, 5, "noise words per prediction (0: no negative sampling)", 0, 1000),
    _P("ns_exponent", FLOAT, 0.75, "exponent of the counts in the noise distribution",
       -10.0, 10.0),
    _P("cbow_mean", FLAG, 1, "CBOW input: 1 the mean of the context vectors, 0 their sum"),
    _P("epochs", INT, 5, "passes over the corpus", 1, 100_000),
    _P("null_word", FLAG, 0, "gensim's CBOW padding word: not supported, must be 0"),
    _P("sorted_vocab", FLAG, 1, "1: sort the vocabulary by descending count"),
    _P("batch_words", INT, 10_000, "words per job handed to a worker thread", 1),
    _P("compute_loss", BOOL, False, "record the loss of each epoch"),
    _P("max_final_vocab", INT, None, "keep at most this many words, raising min_count as "
       "needed (None: no limit)", 1, optional=True),
    _P("shrink_windows", BOOL, True, "draw each window's size uniformly in [1, window]"),
    _P("softmax", FLAG, 0, "1: the exact full softmax (with hs=0, negative=0)"),
    _P("batched", BOOL, True, "skip-gram: a window's context rows share one draw of negatives "
       "and are updated together"),
    _P("progress", OPTIONAL_BOOL, None, "progress bar while training (None: when stderr is a "
       "terminal)", optional=True, saved=False),
)}


class TrainingConfig:
    """A checked, complete set of training parameters.

    Attributes are the parameters of `PARAMETERS`. A config is immutable: `replace` returns a
    checked copy with some values changed.

    >>> config = TrainingConfig(sg=1, negative=10)
    >>> config.sg, config.negative, config.window
    (1, 10, 5)
    >>> TrainingConfig(window=0)
    Traceback (most recent call last):
    ...
    ValueError: window must be between 1 and 10000, got 0
    """

    __slots__ = tuple(PARAMETERS)

    if TYPE_CHECKING:
        # The attributes are the parameters, declared once, in PARAMETERS.
        def __getattr__(self, name: str) -> Any: ...

    def __init__(self, **values: Any) -> None:
        unknown = sorted(set(values) - set(PARAMETERS))
        if unknown:
            raise TypeError(f"unexpected parameters: {', '.join(unknown)}")
        for name, parameter in PARAMETERS.items():
            value = values[name] if name in values else parameter.default
            object.__setattr__(self, name, parameter.check(value))
        self._check_combination()

    def _check_combination(self) -> None:
        if self.null_word:
            raise ValueError("null_word=1 is not supported: fastw2v's CBOW never pads windows")
        if not (self.hs or self.negative or self.softmax):
            raise ValueError("no training objective: set negative > 0, hs=1, or softmax=1 "
                             "(the exact full softmax)")
        if self.softmax and (self.hs or self.negative):
            raise ValueError("softmax=1 is the exact objective on its own: use it with "
                             "hs=0 and negative=0")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a TrainingConfig is immutable: use replace()")

    def replace(self, **changes: Any) -> TrainingConfig:
        """A copy with `changes` applied and checked."""
        return TrainingConfig(**{**self.as_dict(), **changes})

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in PARAMETERS}

    def saved(self) -> dict[str, Any]:
        """The parameters a saved model keeps, as JSON values."""
        return {name: getattr(self, name) for name, p in PARAMETERS.items() if p.saved}

    @classmethod
    def from_saved(cls, saved: Mapping[str, Any]) -> TrainingConfig:
        """Check the parameters read from a saved model (ValueError for anything off)."""
        unknown = sorted(set(saved) - {n for n, p in PARAMETERS.items() if p.saved})
        if unknown:
            raise ValueError(f"unknown parameters {', '.join(map(repr, unknown))}")
        for name, value in saved.items():
            kind = PARAMETERS[name].kind
            if kind in (FLAG, BOOL) and not isinstance(value, (bool, int)):
                raise ValueError(f"parameter {name!r} must be a boolean or 0/1")
        try:
            return cls(**saved)
        except TypeError as error:
            raise ValueError(str(error)) from None

    def __reduce__(self) -> tuple:
        # Rebuilt (and checked again) from its values, so that models copy and pickle.
        return (_config_from_values, (self.as_dict(),))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrainingConfig) and self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.as_dict().items()))

    def __repr__(self) -> str:
        changed = {n: v for n, v in self.as_dict().items() if v != PARAMETERS[n].default}
        return f"TrainingConfig({', '.join(f'{n}={v!r}' for n, v in changed.items())})"


def _config_from_values(values: dict[str, Any]) -> TrainingConfig:
    return TrainingConfig(**values)


def check(name: str, value: Any, like: Optional[str] = None) -> Any:
    """Check a call argument (`train(epochs=...)`) against the parameter it stands for."""
    return PARAMETERS[like or name].check(value, name=name)


def parameters_doc() -> str:
    """The numpydoc lines of every parameter, for the docstrings of the classes that take them."""
    lines = []
    for p in PARAMETERS.values():
        kind = {INT: "int", FLOAT: "float", FLAG: "{0, 1}", BOOL: "bool",
                OPTIONAL_BOOL: "bool or None", STRING: "str"}[p.kind]
        if p.optional and p.kind != OPTIONAL_BOOL:
            kind += " or None"
        lines.append(f"{p.name} : {kind}, default {p.default!r}")
        lines.append(f"    {p.doc[0].upper()}{p.doc[1:]}.")
    return "\n".join(lines)
