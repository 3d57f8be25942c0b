"""Training callbacks with gensim's `CallbackAny2Vec` interface."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastw2v.word2vec import Word2Vec


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

    def on_train_begin(self, model: Word2Vec) -> None:
        """Called once, before the first epoch."""

    def on_epoch_begin(self, model: Word2Vec) -> None:
        """Called before each epoch."""

    def on_epoch_end(self, model: Word2Vec) -> None:
        """Called after each epoch; with ``compute_loss=True`` its loss is the last entry of
        ``model.training_loss_history``."""

    def on_train_end(self, model: Word2Vec) -> None:
        """Called once, after the last epoch."""
