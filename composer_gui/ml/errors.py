"""Errors of the ml layer (no torch import here)."""

from composer_gui.core.errors import UserError


class ModelError(UserError):
    """A model folder that cannot be used: missing, corrupt, truncated or mismatched."""


class DataError(UserError):
    """Training data that cannot be used (empty folder, no usable file ...)."""


class OutOfMemory(UserError):
    """The accelerator ran out of memory (training stops after saving)."""

    def __init__(self, message: str, suggest_batch_size: int | None = None):
        super().__init__(message)
        #: A batch size to offer for the next try.
        self.suggest_batch_size = suggest_batch_size


class DiskFull(UserError):
    """The disk filled up while saving (the previous checkpoint stays intact)."""
