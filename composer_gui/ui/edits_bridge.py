"""The edits the editor pushes, and what the document learns from them after each one.

The edit classes come from :mod:`composer_gui.core.edits` (reversible ``apply``/``revert``
with ``text``; note edits expose ``track``, ``change`` and ``result_notes``).
:func:`replace_notes` builds the editor's most common edit: swap some notes of a track
for others (move, resize, draw, erase, paste ...), as one edit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from composer_gui.core.edits import (
    AddNotes,
    AddTempoChange,
    AddTimeSignature,
    AddTrack,
    CompoundEdit,
    MoveTrack,
    Quantize,
    RemoveNotes,
    RemoveTrack,
    SetKey,
    SetTempo,
    SetTimeSignature,
    SetTrackProperties,
)
from composer_gui.core.song import Note

TRACK_EDITS = (AddTrack, RemoveTrack, MoveTrack, SetTrackProperties)
CONDUCTOR_ATTRS = ("tempos", "time_signatures", "key_signatures")


def replace_notes(track: int, removed: Iterable[Note], added: Iterable[Note], text: str):
    """One edit replacing ``removed`` notes of a track by ``added`` ones.

    Notes in both lists are left alone. Returns ``None`` when nothing changes.
    """
    removed_t = list(removed)
    added_t = list(added)
    common = set(removed_t) & set(added_t)
    if common:
        removed_t = [n for n in removed_t if n not in common]
        added_t = [n for n in added_t if n not in common]
    children = []
    if removed_t:
        children.append(RemoveNotes(track, removed_t, text))
    if added_t:
        children.append(AddNotes(track, added_t, text))
    if not children:
        return None
    if len(children) == 1:
        return children[0]
    return CompoundEdit(children, text)


def leaves(edit) -> Iterator:
    """The edit itself, or the leaves of a compound edit, in apply order."""
    children = getattr(edit, "children", None)
    if children is None:
        yield edit
    else:
        for child in children:
            yield from leaves(child)


def note_changes(edit) -> dict[int, tuple[int, int]]:
    """Track index -> (first tick, last tick) touched by the note edits inside ``edit``.

    Call after ``apply`` (the exact change is known then) or before ``revert``.
    """
    out: dict[int, tuple[int, int]] = {}
    for leaf in leaves(edit):
        change = getattr(leaf, "change", None)
        if change is None or not hasattr(leaf, "track"):
            continue
        notes = list(change.removed) + list(change.added)
        if not notes:
            continue
        lo = min(n.start for n in notes)
        hi = max(n.end for n in notes)
        if leaf.track in out:
            a, b = out[leaf.track]
            lo, hi = min(a, lo), max(b, hi)
        out[leaf.track] = (lo, hi)
    return out


def touches_tracks(edit) -> bool:
    return any(isinstance(leaf, TRACK_EDITS) for leaf in leaves(edit))


def touches_conductor(edit) -> bool:
    return any(getattr(leaf, "attr", None) in CONDUCTOR_ATTRS for leaf in leaves(edit))


__all__ = [
    "AddNotes",
    "AddTempoChange",
    "AddTimeSignature",
    "AddTrack",
    "CompoundEdit",
    "MoveTrack",
    "Quantize",
    "RemoveNotes",
    "RemoveTrack",
    "SetKey",
    "SetTempo",
    "SetTimeSignature",
    "SetTrackProperties",
    "leaves",
    "note_changes",
    "replace_notes",
    "touches_conductor",
    "touches_tracks",
]
