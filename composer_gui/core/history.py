"""A Qt-free undo/redo history of :mod:`composer_gui.core.edits` for one song.

The window may use Qt's QUndoStack instead (an ``EditCommand`` whose ``redo`` calls
``edit.apply(song)`` and ``undo`` calls ``edit.revert(song)``); this class gives the same
behaviour to the command line, the recorder and tests, where no Qt runs.
"""

from __future__ import annotations

from composer_gui.core.edits import Edit
from composer_gui.core.song import Song


class History:
    """Applies edits to ``song`` and keeps them for undo and redo.

    ``push`` applies an edit and drops whatever could have been redone. ``limit`` (if
    given) keeps only that many undo steps. ``is_modified`` compares the position with
    the one marked by :meth:`mark_clean` (after a save).
    """

    def __init__(self, song: Song, limit: int | None = None) -> None:
        self.song = song
        self.limit = limit
        self._done: list[Edit] = []
        self._undone: list[Edit] = []
        self._clean: int | None = 0  # len(_done) at the last save; None: unreachable

    def push(self, edit: Edit) -> Edit:
        """Apply ``edit`` (errors propagate and record nothing) and make it undoable."""
        edit.apply(self.song)
        self._done.append(edit)
        if self._clean is not None and self._clean > len(self._done) - 1:
            self._clean = None  # the saved state was in the discarded redo branch
        self._undone.clear()
        if self.limit is not None and len(self._done) > self.limit:
            drop = len(self._done) - self.limit
            del self._done[:drop]
            if self._clean is not None:
                self._clean = self._clean - drop if self._clean >= drop else None
        return edit

    def undo(self) -> Edit | None:
        """Revert the last edit; returns it (None when there is nothing to undo)."""
        if not self._done:
            return None
        edit = self._done.pop()
        edit.revert(self.song)
        self._undone.append(edit)
        return edit

    def redo(self) -> Edit | None:
        """Apply the last undone edit again; returns it (None when there is none)."""
        if not self._undone:
            return None
        edit = self._undone.pop()
        edit.apply(self.song)
        self._done.append(edit)
        return edit

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    @property
    def undo_text(self) -> str:
        """The name of the edit that undo would revert ("" if none)."""
        return self._done[-1].text if self._done else ""

    @property
    def redo_text(self) -> str:
        return self._undone[-1].text if self._undone else ""

    def mark_clean(self) -> None:
        """Remember the current state as saved."""
        self._clean = len(self._done)

    @property
    def is_modified(self) -> bool:
        return self._clean != len(self._done)

    def clear(self) -> None:
        """Forget all steps (after loading another song); the state counts as saved."""
        self._done.clear()
        self._undone.clear()
        self._clean = 0
