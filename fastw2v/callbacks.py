"""Training callbacks with gensim's `CallbackAny2Vec` interface."""

from __future__ import annotations


class CallbackAny2Vec:
    """Base class for training callbacks; override the hooks you need.

    Every hook runs in the thread that called `train()`, between epochs, never inside a worker.

    Examples
    --------
    >>> class EpochLogger(CallbackAny2Vec):
    ...     def __init__(self):
    ...         self.epochs = 0
    ...     def on_epoch_end(self, model):
    ...         self.epochs += 1
    """

    def on_train_begin(self, model) -> None:
        pass

    def on_epoch_begin(self, model) -> None:
        pass

    def on_epoch_end(self, model) -> None:
        pass

    def on_train_end(self, model) -> None:
        pass
