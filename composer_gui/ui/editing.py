"""Editing operations on the current track's selection, each one undo step.

These are what the menu actions, keyboard shortcuts and the roll's gestures call. They
work on the :class:`~composer_gui.ui.document.Document` only (no widgets), so tests and
future panels can use them directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from composer_gui.core.song import Note
from composer_gui.ui import edits_bridge as eb
from composer_gui.ui.document import Document, grid_ticks
from composer_gui.ui.rollrender import bar_at


@dataclass(frozen=True)
class Clip:
    """Copied notes, with starts relative to the earliest one."""

    notes: tuple[Note, ...]
    length: int  # from the first start to the last end


_clipboard: Clip | None = None


def clipboard() -> Clip | None:
    return _clipboard


def grid(doc: Document) -> int:
    """The snap grid in ticks."""
    return grid_ticks(doc.state.grid, doc.song.ticks_per_beat)


def note_length(doc: Document) -> int:
    name = doc.state.note_length
    if name == "grid":
        return grid(doc)
    return grid_ticks(name, doc.song.ticks_per_beat)


def snap(doc: Document, tick: float, mode: str = "round") -> int:
    """``tick`` on the grid when snapping is on ("round", "floor" or "ceil")."""
    if not doc.state.snap:
        return max(0, int(round(tick)))
    g = grid(doc)
    if mode == "floor":
        return max(0, int(tick // g) * g)
    if mode == "ceil":
        return max(0, int(-(-tick // g)) * g)
    return max(0, int(round(tick / g)) * g)


def selection(doc: Document) -> list[Note]:
    return sorted(doc.state.selection, key=lambda n: (n.start, n.pitch))


def _track_ok(doc: Document) -> bool:
    return bool(doc.song.tracks) and 0 <= doc.state.current_track < len(doc.song.tracks)


def delete_selection(doc: Document) -> None:
    sel = selection(doc)
    if sel and _track_ok(doc):
        doc.replace_notes(doc.state.current_track, sel, (), "Delete notes", select=False)


def select_all(doc: Document) -> None:
    if _track_ok(doc):
        doc.state.set_selection(doc.song.tracks[doc.state.current_track].notes)


def copy_selection(doc: Document) -> Clip | None:
    global _clipboard
    sel = selection(doc)
    if not sel:
        return None
    first = sel[0].start
    end = max(n.end for n in sel)
    _clipboard = Clip(tuple(n.replace(start=n.start - first) for n in sel), end - first)
    return _clipboard


def cut_selection(doc: Document) -> None:
    if copy_selection(doc) is not None:
        sel = selection(doc)
        doc.replace_notes(doc.state.current_track, sel, (), "Cut notes", select=False)


def paste(doc: Document, at: int | None = None, clip: Clip | None = None,
          text: str = "Paste notes") -> None:
    """Paste the clipboard at ``at`` (default: the playhead) into the current track."""
    clip = clip or _clipboard
    if clip is None or not _track_ok(doc):
        return
    at = doc.state.playhead if at is None else at
    new = [n.replace(start=n.start + at) for n in clip.notes]
    doc.replace_notes(doc.state.current_track, (), new, text)


def duplicate_selection(doc: Document) -> None:
    """Copy the selection right after its end (rounded up to the grid)."""
    sel = selection(doc)
    if not sel:
        return
    first = sel[0].start
    end = max(n.end for n in sel)
    length = end - first
    g = grid(doc)
    shift = -(-length // g) * g if doc.state.snap else length
    clip = Clip(tuple(n.replace(start=n.start - first) for n in sel), length)
    paste(doc, first + shift, clip, "Duplicate notes")


def move_notes(doc: Document, notes: Sequence[Note], dt: int, dp: int,
               text: str = "Move notes") -> None:
    """Move notes by ``dt`` ticks and ``dp`` semitones (clamped to the valid range)."""
    if not notes or (dt == 0 and dp == 0):
        return
    dt = max(dt, -min(n.start for n in notes))
    dp = max(min(dp, 127 - max(n.pitch for n in notes)), -min(n.pitch for n in notes))
    if dt == 0 and dp == 0:
        return
    moved = [n.replace(start=n.start + dt, pitch=n.pitch + dp) for n in notes]
    doc.replace_notes(doc.state.current_track, notes, moved, text)
    if dp:
        doc.note_auditioned.emit(moved[0].pitch, moved[0].velocity)


def nudge(doc: Document, steps_time: int = 0, steps_pitch: int = 0, big: bool = False) -> None:
    """Arrow keys: by grid step / semitone, or (``big``) by bar / octave."""
    sel = selection(doc)
    if not sel:
        return
    if big:
        _, _, beat, beats = bar_at(doc.song, sel[0].start)
        dt = steps_time * round(beat * beats)
        dp = steps_pitch * 12
    else:
        dt = steps_time * grid(doc)
        dp = steps_pitch
    move_notes(doc, sel, dt, dp)


def set_velocity(doc: Document, notes: Iterable[Note], velocity: int,
                 text: str = "Set velocity") -> None:
    notes = list(notes)
    velocity = max(1, min(127, int(velocity)))
    changed = [n for n in notes if n.velocity != velocity]
    if changed:
        doc.replace_notes(doc.state.current_track, changed,
                          [n.replace(velocity=velocity) for n in changed], text)


def quantize(doc: Document, grid_name: str | None = None, strength: int = 100,
             ends: bool = False) -> None:
    """Pull note starts (and optionally ends) towards the grid by ``strength`` percent.

    Works on the selection, or on the whole current track when nothing is selected.
    """
    if not _track_ok(doc):
        return
    sel = selection(doc)
    g = grid_ticks(grid_name or doc.state.grid, doc.song.ticks_per_beat)
    frac = max(0, min(100, strength)) / 100
    edit = eb.Quantize(doc.state.current_track, g, frac, sel or None, ends=ends)
    edit.select_on_redo = True
    edit.select_on_undo = tuple(sel)
    doc.push(edit)


def transpose(doc: Document, semitones: int) -> None:
    sel = selection(doc)
    if sel:
        move_notes(doc, sel, 0, semitones, "Transpose")
