"""The open song, its undo stack and the editor state shared by every view.

``Document`` owns the :class:`~composer_gui.core.song.Song`. The song changes only
through :meth:`Document.push` (one ``QUndoCommand`` per user gesture; several edits
pushed together with :meth:`Document.push_many` are one undo step) or by loading a
whole new song (:meth:`Document.replace_song`, not undoable). After each change the
document emits what changed so that views redraw only that:

* ``notes_changed(track_index, first_tick, last_tick)``: notes of one track changed in
  that tick range (start of the earliest to end of the latest note touched);
* ``tracks_changed()``: tracks added, removed, moved, or their properties changed;
* ``conductor_changed()``: tempo, meter or key maps changed;
* ``song_replaced()``: a new song was loaded (New, Open, recovery);
* ``modified_changed(bool)``, ``path_changed(str)``.

``EditorState`` holds what the views share but the file does not: the current track,
the selection, the playhead, the loop range, the snap grid and the note length. The
transport (issue 4) and the generation panel (issue 8) use it too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from composer_gui.core.song import Note, Song
from composer_gui.ui import edits_bridge as eb
from composer_gui.ui.noteindex import TrackIndex

#: Snap grids offered, as fractions of a whole note ("T" marks triplets).
GRID_CHOICES = (
    "1/1", "1/2", "1/4", "1/8", "1/16", "1/32",
    "1/2T", "1/4T", "1/8T", "1/16T", "1/32T",
)  # fmt: skip
#: Note lengths offered for a clicked note ("grid" follows the snap grid).
LENGTH_CHOICES = ("1/1", "1/2", "1/4", "1/8", "1/16", "1/32", "1/4.", "1/8.", "1/8T", "grid")


def grid_ticks(name: str, ticks_per_beat: int) -> int:
    """Length in ticks of a grid or note-length name ("1/16", "1/8T", "1/4." ...)."""
    triplet = name.endswith("T")
    dotted = name.endswith(".")
    core = name.rstrip("T.")
    num, den = core.split("/")
    whole = Fraction(4 * ticks_per_beat)
    length = whole * int(num) / int(den)
    if triplet:
        length = length * 2 / 3
    if dotted:
        length = length * 3 / 2
    return max(1, round(length))


class EditorState(QObject):
    """View state shared by the roll, the lanes, the track list and later panels."""

    current_track_changed = Signal(int)
    selection_changed = Signal()
    playhead_moved = Signal(int)
    loop_changed = Signal(int, int)
    grid_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.current_track = 0
        self.selection: frozenset[Note] = frozenset()
        self.playhead = 0
        self.loop: tuple[int, int] = (0, 0)  # (start, end) ticks; empty when equal
        self.grid = "1/16"
        self.snap = True
        self.note_length = "1/8"

    def set_current_track(self, index: int) -> None:
        if index != self.current_track:
            self.current_track = index
            self.set_selection(())
            self.current_track_changed.emit(index)

    def set_selection(self, notes: Iterable[Note]) -> None:
        new = frozenset(notes)
        if new != self.selection:
            self.selection = new
            self.selection_changed.emit()

    def set_playhead(self, tick: int) -> None:
        tick = max(0, int(tick))
        if tick != self.playhead:
            self.playhead = tick
            self.playhead_moved.emit(tick)

    def set_loop(self, start: int, end: int) -> None:
        start, end = sorted((max(0, int(start)), max(0, int(end))))
        if (start, end) != self.loop:
            self.loop = (start, end)
            self.loop_changed.emit(start, end)

    def set_grid(self, grid: str | None = None, snap: bool | None = None,
                 note_length: str | None = None) -> None:
        if grid is not None:
            if grid not in GRID_CHOICES:
                raise ValueError(f"unknown grid {grid!r}")
            self.grid = grid
        if snap is not None:
            self.snap = bool(snap)
        if note_length is not None:
            if note_length not in LENGTH_CHOICES:
                raise ValueError(f"unknown note length {note_length!r}")
            self.note_length = note_length
        self.grid_changed.emit()


class EditCommand(QUndoCommand):
    """One undo step wrapping one edit (``apply``/``revert``/``text``)."""

    def __init__(self, document: Document, edit, parent: QUndoCommand | None = None,
                 applied: bool = False) -> None:
        super().__init__(getattr(edit, "text", "Edit"), parent)
        self.document = document
        self.edit = edit
        self._applied = applied  # the first redo (done by QUndoStack.push) has nothing to do

    def redo(self) -> None:
        if not self._applied:
            self.edit.apply(self.document.song)
        self._applied = False
        self.document._after_edit(self.edit, eb.note_changes(self.edit), forward=True)

    def undo(self) -> None:
        damage = eb.note_changes(self.edit)  # revert forgets the exact change
        self.edit.revert(self.document.song)
        self.document._after_edit(self.edit, damage, forward=False)


class Document(QObject):
    """The open song with its undo stack; see the module docstring for the signals."""

    notes_changed = Signal(int, int, int)
    tracks_changed = Signal()
    conductor_changed = Signal()
    song_replaced = Signal()
    modified_changed = Signal(bool)
    path_changed = Signal(str)
    #: A note should be heard now (drawn, moved to a new pitch, key clicked): (pitch,
    #: velocity). The synthesizer of issue 4 connects here.
    note_auditioned = Signal(int, int)

    def __init__(self, song: Song | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.state = EditorState(self)
        self.song = song if song is not None else Song()
        self.path: str = ""
        self._indices: dict[int, tuple[object, TrackIndex]] = {}
        self._end_tick: int | None = None
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)

    # -- queries -------------------------------------------------------------------------
    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    def index(self, track_index: int) -> TrackIndex:
        """The drawing/hit-test index of a track's notes (kept in sync with every edit)."""
        track = self.song.tracks[track_index]
        entry = self._indices.get(id(track))
        if entry is None or entry[0] is not track:
            entry = (track, TrackIndex(track.notes))
            self._indices[id(track)] = entry
        return entry[1]

    def end_tick(self) -> int:
        """The song's last tick, from the note indices (fast: numpy, cached per change)."""
        if self._end_tick is None:
            end = 0
            for i, track in enumerate(self.song.tracks):
                index = self.index(i)
                if len(index):
                    end = max(end, int((index.start + index.duration).max()))
                if track.events:
                    end = max(end, track.events[-1].tick)
            self._end_tick = end
        return self._end_tick

    def notes_at(self, track_index: int, positions: Sequence[int]) -> list[Note]:
        """The notes of a track at index positions (from :meth:`index` queries)."""
        notes = self.song.tracks[track_index].notes
        return [notes[i] for i in positions]

    # -- changes -------------------------------------------------------------------------
    def push(self, edit) -> None:
        """Apply an edit as one undo step.

        The edit is applied before it goes on the stack, so an edit that fails (a
        ``SongError``) raises here and leaves neither the song nor the stack changed.
        """
        edit.apply(self.song)
        self.undo_stack.push(EditCommand(self, edit, applied=True))

    def push_many(self, edits: Sequence, text: str) -> None:
        """Apply several edits as one undo step named ``text``."""
        edits = [e for e in edits if e is not None]
        if len(edits) == 1:
            edits[0].text = text
            self.push(edits[0])
        elif edits:
            self.push(eb.CompoundEdit(edits, text))

    def replace_notes(self, track_index: int, removed: Iterable[Note],
                      added: Iterable[Note], text: str, select: bool = True) -> None:
        """Swap some notes of a track for others as one undo step (the common gesture).

        Overlaps follow the song model's rule (see ``core.edits``). With ``select`` the
        resulting notes are selected afterwards, and the original ones again on undo.
        """
        removed = list(removed)
        edit = eb.replace_notes(track_index, removed, added, text)
        if edit is None:
            return
        edit.select_on_redo = select
        edit.select_on_undo = tuple(removed) if select else None
        self.push(edit)

    def replace_song(self, song: Song, path: str = "") -> None:
        """Load a whole new song (New/Open/recovery): clears the undo history."""
        self.undo_stack.clear()
        self.song = song
        self._indices.clear()
        self._end_tick = None
        self.state.current_track = 0
        self.state.selection = frozenset()
        self.state.playhead = 0
        self.state.loop = (0, 0)
        self.set_path(path)
        self.undo_stack.setClean()
        self.song_replaced.emit()
        self.state.current_track_changed.emit(0)
        self.state.selection_changed.emit()
        self.state.playhead_moved.emit(0)

    def set_path(self, path: str) -> None:
        if path != self.path:
            self.path = path
            self.path_changed.emit(path)

    def mark_saved(self, path: str) -> None:
        """The song was written to ``path``: it is the document's file and unmodified."""
        self.set_path(path)
        self.undo_stack.setClean()

    # -- internals -----------------------------------------------------------------------
    def _after_edit(self, edit, damage: dict[int, tuple[int, int]], forward: bool) -> None:
        self._end_tick = None
        structure = eb.touches_tracks(edit)
        if structure:
            self._drop_stale_indices()
        for track_i, (lo, hi) in damage.items():
            if track_i < len(self.song.tracks):
                track = self.song.tracks[track_i]
                entry = self._indices.get(id(track))
                if entry is not None and entry[0] is track:
                    entry[1].refresh(track.notes, lo, hi)
        self._update_selection(edit, damage, forward)
        for track_i, (lo, hi) in damage.items():
            self.notes_changed.emit(track_i, lo, hi)
        if eb.touches_conductor(edit):
            self.conductor_changed.emit()
        if structure:
            count = len(self.song.tracks)
            if self.state.current_track >= count:
                self.state.set_current_track(max(0, count - 1))
            self.state.set_selection(())
            self.tracks_changed.emit()

    def _update_selection(self, edit, damage, forward: bool) -> None:
        state = self.state
        if state.current_track not in damage:
            return
        if forward and getattr(edit, "select_on_redo", False):
            state.set_selection(getattr(edit, "result_notes", ()) or ())
            return
        if not forward and getattr(edit, "select_on_undo", None) is not None:
            state.set_selection(edit.select_on_undo)
            return
        notes = self.song.tracks[state.current_track].notes
        index = self.index(state.current_track)
        alive = []
        for note in state.selection:
            pos = index.position(note)
            if pos is not None and notes[pos] == note:
                alive.append(note)
        if len(alive) != len(state.selection):
            state.set_selection(alive)

    def _drop_stale_indices(self) -> None:
        alive = {id(t) for t in self.song.tracks}
        for key in list(self._indices):
            if key not in alive:
                del self._indices[key]

    def _on_clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean)
