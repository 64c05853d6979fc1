"""Errors of the drum part (user errors: the message says what to change)."""

from __future__ import annotations

from composer_gui.core.errors import UserError


class DrumError(UserError):
    """A request the drum model cannot fulfil (bad option value ...)."""


class DrumStyleError(DrumError):
    """A style name the drum model was not trained on."""
