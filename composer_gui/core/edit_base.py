"""The base of all reversible edits, and the compound edit (see :mod:`composer_gui.core.edits`)."""

from __future__ import annotations

from collections.abc import Iterable

from composer_gui.core.song import Note, Song, SongError, Track

__all__ = ["Edit", "CompoundEdit", "track_at"]


class Edit:
    """A reversible change of a song. Subclasses implement ``apply`` and ``revert``."""

    text: str = "Edit"

    def apply(self, song: Song) -> None:
        raise NotImplementedError

    def revert(self, song: Song) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.text!r}>"


def track_at(song: Song, index: int) -> Track:
    """The track at ``index`` (SongError when there is none)."""
    if not 0 <= index < len(song.tracks):
        raise SongError(f"there is no track {index} (the song has {len(song.tracks)})")
    return song.tracks[index]


class CompoundEdit(Edit):
    """Several edits as one undo step: applied in order, reverted in reverse order.

    If a child fails while applying, the children already applied are reverted before
    the error propagates, so the song is left as it was.
    """

    def __init__(self, children: Iterable[Edit], text: str) -> None:
        self.children = list(children)
        self.text = text

    @property
    def result_notes(self) -> list[Note]:
        """The result notes of the last child that has some (an editor selects them)."""
        for child in reversed(self.children):
            notes = getattr(child, "result_notes", None)
            if notes:
                return notes
        return []

    def apply(self, song: Song) -> None:
        done: list[Edit] = []
        try:
            for child in self.children:
                child.apply(song)
                done.append(child)
        except BaseException:
            for child in reversed(done):
                child.revert(song)
            raise

    def revert(self, song: Song) -> None:
        for child in reversed(self.children):
            child.revert(song)
