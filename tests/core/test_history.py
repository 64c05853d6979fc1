"""The Qt-free undo history: undo/redo order, redo branch, modified flag, limit."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from composer_gui.core.edits import AddNotes, MoveNotes, SetTempo, Transpose
from composer_gui.core.history import History
from composer_gui.core.song import Note, Song, SongError, Track
from tests.core.strategies import songs


def test_undo_redo_and_modified_flag():
    song = Song(tracks=[Track(notes=[Note(60, 0, 480)])])
    start = copy.deepcopy(song)
    h = History(song)
    assert not h.is_modified and not h.can_undo
    h.push(Transpose(0, 2))
    after_one = copy.deepcopy(song)
    h.push(SetTempo(0, bpm=90))
    assert h.undo_text.startswith("Set tempo") and h.is_modified
    h.mark_clean()
    assert h.undo().text.startswith("Set tempo")
    assert song == after_one and h.is_modified and h.redo_text.startswith("Set tempo")
    h.redo()
    assert not h.is_modified
    h.undo()
    h.undo()
    assert song == start and h.undo() is None
    h.push(AddNotes(0, [Note(70, 0, 10)]))  # discards the redo branch holding the save
    assert not h.can_redo and h.is_modified
    h.undo()
    assert h.is_modified  # the saved state is gone for good


def test_failed_push_records_nothing():
    song = Song(tracks=[Track(notes=[Note(60, 0, 480)])])
    h = History(song)
    with pytest.raises(SongError):
        h.push(MoveNotes(0, [Note(60, 0, 480)], -1))
    assert not h.can_undo and song.tracks[0].notes == [Note(60, 0, 480)]


def test_limit_drops_oldest_steps():
    song = Song(tracks=[Track(notes=[Note(60, 0, 480)])])
    h = History(song, limit=3)
    for _ in range(5):
        h.push(Transpose(0, 1))
    while h.undo():
        pass
    assert song.tracks[0].notes == [Note(62, 0, 480)]


@given(song=songs(), steps=st.lists(st.integers(-3, 3), min_size=1, max_size=8))
@settings(max_examples=30, deadline=None)
def test_undo_all_restores_every_state(song, steps):
    h = History(song)
    states = [copy.deepcopy(song)]
    for semis in steps:
        try:
            h.push(Transpose(0, semis))
        except SongError:
            continue
        states.append(copy.deepcopy(song))
    for state in reversed(states[:-1]):
        h.undo()
        assert song == state
    for state in states[1:]:
        h.redo()
        assert song == state
