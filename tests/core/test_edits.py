"""Reversible edits: apply then revert restores the song exactly; apply does the right thing."""

from __future__ import annotations

import copy
import random
from contextlib import contextmanager
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from composer_gui.core import notediff
from composer_gui.core.edits import (
    AddNotes,
    AddTempoChange,
    AddTimeSignature,
    AddTrack,
    CompoundEdit,
    MoveNotes,
    MoveTrack,
    Quantize,
    RemoveNotes,
    RemoveTempoChange,
    RemoveTimeSignature,
    RemoveTrack,
    ReplaceRange,
    ResizeNotes,
    SetKey,
    SetTempo,
    SetTimeSignature,
    SetTrackProperties,
    SetVelocity,
    Transpose,
)
from composer_gui.core.song import Note, Song, SongError, Track, normalize_notes
from tests.core.strategies import is_valid_track, note_lists, songs

# Both planning paths (note by note with bisect, and one bulk pass) must give identical
# results; the hypothesis songs are small, so the bulk path is forced by a zero threshold.
ENGINES = ["bisect", "bulk"]


@contextmanager
def engine(name: str):
    if name == "bisect":
        yield
    elif name == "middle":  # plan note by note, apply by rebuilding from slices
        with (
            mock.patch.object(notediff, "SMALL_EDIT", 0),
            mock.patch.object(notediff, "BULK_FRACTION", 1),
        ):
            yield
    else:
        with (
            mock.patch.object(notediff, "SMALL_EDIT", 0),
            mock.patch.object(notediff, "BULK_FRACTION", 10**9),
        ):
            yield


def roundtrip(song: Song, edit) -> Song | None:
    """Apply, check validity, revert, redo, undo; return the applied state (None if refused)."""
    before = copy.deepcopy(song)
    try:
        edit.apply(song)
    except SongError:
        assert song == before, "a refused edit changed the song"
        return None
    after = copy.deepcopy(song)
    for track in song.tracks:
        assert is_valid_track(track)
    edit.revert(song)
    assert song == before
    edit.apply(song)  # redo gives the same result
    assert song == after
    edit.revert(song)
    assert song == before
    return after


def pick(data, notes: list[Note], max_size: int | None = None) -> list[Note]:
    if not notes:
        return []
    idx = data.draw(st.sets(st.integers(0, len(notes) - 1), max_size=max_size or len(notes)))
    return [notes[i] for i in sorted(idx)]


def others(notes: list[Note], chosen: list[Note]) -> list[Note]:
    gone = set(chosen)
    return [n for n in notes if n not in gone]


@pytest.mark.parametrize("mode", ENGINES)
@given(song=songs(), data=st.data())
@settings(max_examples=60, deadline=None)
def test_add_notes(mode, song, data):
    new = data.draw(note_lists(max_notes=8))
    old = list(song.tracks[0].notes)
    with engine(mode):
        edit = AddNotes(0, new)
        after = roundtrip(song, edit)
    assert after.tracks[0].notes == normalize_notes(old + new)
    # The results are what became of the added notes: all in the track.
    assert set(edit.result_notes) <= set(after.tracks[0].notes)
    assert len(edit.result_notes) == len(new)  # new notes are distinct keys: none dropped


@pytest.mark.parametrize("mode", ENGINES)
@given(song=songs(), data=st.data())
@settings(max_examples=40, deadline=None)
def test_remove_notes(mode, song, data):
    old = list(song.tracks[0].notes)
    chosen = pick(data, old)
    with engine(mode):
        after = roundtrip(song, RemoveNotes(0, chosen))
    assert after.tracks[0].notes == others(old, chosen)


def test_remove_missing_note_is_refused():
    song = Song(tracks=[Track(notes=[Note(60, 0, 10)])])
    with pytest.raises(SongError):
        RemoveNotes(0, [Note(61, 0, 10)]).apply(song)
    assert song.tracks[0].notes == [Note(60, 0, 10)]


@pytest.mark.parametrize("mode", [*ENGINES, "middle"])
@given(
    song=songs(),
    data=st.data(),
    dt=st.integers(-700, 700),
    dpitch=st.integers(-3, 3),
)
@settings(max_examples=80, deadline=None)
def test_move_notes(mode, song, data, dt, dpitch):
    old = list(song.tracks[0].notes)
    chosen = pick(data, old)
    with engine(mode):
        edit = MoveNotes(0, chosen, dt, dpitch)
        after = roundtrip(song, edit)
    if after is None:
        assert any(n.start + dt < 0 for n in chosen)
        return
    moved = [n.replace(start=n.start + dt, pitch=n.pitch + dpitch) for n in chosen]
    assert after.tracks[0].notes == normalize_notes(others(old, chosen) + moved)
    # Moved notes keep their place unless a later moved note covered them.
    assert {(n.start, n.pitch) for n in edit.result_notes} == {(n.start, n.pitch) for n in moved}


def test_move_out_of_range_is_refused():
    song = Song(tracks=[Track(notes=[Note(127, 0, 10), Note(60, 5, 10)])])
    with pytest.raises(SongError):
        MoveNotes(0, [Note(127, 0, 10)], 0, 1).apply(song)
    with pytest.raises(SongError):
        MoveNotes(0, [Note(60, 5, 10)], -6, 0).apply(song)
    assert song.tracks[0].notes == [Note(127, 0, 10), Note(60, 5, 10)]


def test_move_onto_neighbour_trims_and_revert_restores():
    a, b, c = Note(60, 0, 480), Note(60, 480, 480), Note(60, 960, 480)
    song = Song(tracks=[Track(notes=[a, b, c])])
    edit = MoveNotes(0, [c], -720, 0)  # c now starts at 240: a is cut at 240, c at 480
    edit.apply(song)
    assert song.tracks[0].notes == [Note(60, 0, 240), Note(60, 240, 240), b]
    assert edit.result_notes == [Note(60, 240, 240)]
    edit.revert(song)
    assert song.tracks[0].notes == [a, b, c]


def test_move_onto_same_start_replaces_the_note_there():
    a, b = Note(60, 0, 100, 50), Note(60, 480, 100, 90)
    song = Song(tracks=[Track(notes=[a, b])])
    edit = MoveNotes(0, [b], -480, 0)
    edit.apply(song)
    assert song.tracks[0].notes == [Note(60, 0, 100, 90)]
    edit.revert(song)
    assert song.tracks[0].notes == [a, b]


@pytest.mark.parametrize("mode", ENGINES)
@given(song=songs(), data=st.data(), semis=st.integers(-12, 12), whole=st.booleans())
@settings(max_examples=40, deadline=None)
def test_transpose(mode, song, data, semis, whole):
    old = list(song.tracks[0].notes)
    chosen = list(old) if whole else pick(data, old)
    with engine(mode):
        after = roundtrip(song, Transpose(0, semis, None if whole else chosen))
    if after is not None:
        moved = [n.replace(pitch=n.pitch + semis) for n in chosen]
        assert after.tracks[0].notes == normalize_notes(others(old, chosen) + moved)


@pytest.mark.parametrize("mode", ENGINES)
@given(song=songs(), data=st.data())
@settings(max_examples=60, deadline=None)
def test_resize_notes(mode, song, data):
    old = list(song.tracks[0].notes)
    chosen = pick(data, old)
    starts = [data.draw(st.one_of(st.none(), st.integers(0, 4000))) for _ in chosen]
    ends = [data.draw(st.one_of(st.none(), st.integers(1, 4600))) for _ in chosen]
    with engine(mode):
        after = roundtrip(song, ResizeNotes(0, chosen, starts, ends))
    spans = [
        (n.start if s is None else s, n.end if e is None else e)
        for n, s, e in zip(chosen, starts, ends)
    ]
    if after is None:
        assert any(e - s < 1 for s, e in spans)
        return
    new = [Note(n.pitch, s, e - s, n.velocity) for n, (s, e) in zip(chosen, spans)]
    assert after.tracks[0].notes == normalize_notes(others(old, chosen) + new)


def test_resize_by_delta_extends_into_next_note_is_cut():
    a, b = Note(60, 0, 100), Note(60, 200, 100)
    song = Song(tracks=[Track(notes=[a, b])])
    edit = ResizeNotes.by_delta(0, [a], d_end=300)
    edit.apply(song)
    assert song.tracks[0].notes == [Note(60, 0, 200), b]  # the longer a is cut at b
    edit.revert(song)
    assert song.tracks[0].notes == [a, b]


@pytest.mark.parametrize("mode", ENGINES)
@given(song=songs(), data=st.data(), per_note=st.booleans())
@settings(max_examples=40, deadline=None)
def test_set_velocity(mode, song, data, per_note):
    old = list(song.tracks[0].notes)
    chosen = pick(data, old)
    if per_note:
        values = [data.draw(st.integers(1, 127)) for _ in chosen]
    else:
        values = [data.draw(st.integers(1, 127))] * len(chosen)
    with engine(mode):
        edit = SetVelocity(0, chosen, values if per_note else values[0] if values else 64)
        after = roundtrip(song, edit)
    expected = {n: v for n, v in zip(chosen, values)}
    assert after.tracks[0].notes == [n.replace(velocity=expected.get(n, n.velocity)) for n in old]


def test_scaled_velocity_clamps():
    notes = [Note(60, 0, 10, 100), Note(62, 0, 10, 10)]
    song = Song(tracks=[Track(notes=list(notes))])
    SetVelocity.scaled(0, notes, factor=1.5, offset=-10).apply(song)
    assert [n.velocity for n in song.tracks[0].notes] == [127, 5]
    with pytest.raises(SongError):
        SetVelocity(0, notes, 0)


@pytest.mark.parametrize("mode", ENGINES)
@given(
    song=songs(),
    data=st.data(),
    grid=st.sampled_from([120, 160, 240, 33.333333333333336]),
    strength=st.sampled_from([0.0, 0.25, 0.5, 1.0]),
    ends=st.booleans(),
)
@settings(max_examples=60, deadline=None)
def test_quantize_roundtrip(mode, song, data, grid, strength, ends):
    old = list(song.tracks[0].notes)
    chosen = pick(data, old)
    with engine(mode):
        after = roundtrip(song, Quantize(0, grid, strength, chosen, ends=ends))
    assert after is not None
    if strength == 1.0:
        on_grid = {int(k * grid + 0.5) for k in range(0, 200)}
        untouched = {(n.start, n.pitch) for n in others(old, chosen)}
        for n in after.tracks[0].notes:
            # Every note is either quantized or an untouched note (perhaps cut short).
            assert n.start in on_grid or ((n.start, n.pitch) in untouched and n not in chosen)


def test_quantize_strength_moves_part_way():
    notes = [Note(60, 100, 50), Note(64, 250, 50), Note(67, 470, 30)]
    song = Song(tracks=[Track(notes=list(notes))])
    edit = Quantize(0, 120, 0.5, notes)
    edit.apply(song)
    # grid points 120, 240, 480: halfway from 100 -> 110, 250 -> 245, 470 -> 475
    assert song.tracks[0].notes == [Note(60, 110, 50), Note(64, 245, 50), Note(67, 475, 30)]
    edit.revert(song)
    assert song.tracks[0].notes == notes


def test_quantize_ends_never_vanish_and_triplets():
    notes = [Note(60, 5, 20), Note(62, 150, 180)]
    song = Song(tracks=[Track(notes=list(notes))])
    Quantize(0, 160, 1.0, ends=True).apply(song)  # 1/8 triplets at 480 tpb
    assert song.tracks[0].notes == [Note(60, 0, 160), Note(62, 160, 160)]


def test_quantize_collision_keeps_one_and_revert_restores():
    notes = [Note(60, 110, 50, 40), Note(60, 125, 50, 90)]
    song = Song(tracks=[Track(notes=list(notes))])
    edit = Quantize(0, 120, 1.0)
    edit.apply(song)
    assert song.tracks[0].notes == [Note(60, 120, 50, 90)]
    edit.revert(song)
    assert song.tracks[0].notes == notes


@pytest.mark.parametrize("mode", ENGINES)
@given(
    song=songs(),
    data=st.data(),
    start=st.integers(0, 3000),
    length=st.integers(0, 2000),
    trim=st.booleans(),
)
@settings(max_examples=60, deadline=None)
def test_replace_range(mode, song, data, start, length, trim):
    end = start + length
    new = data.draw(note_lists(max_notes=8))
    old = list(song.tracks[0].notes)
    with engine(mode):
        edit = ReplaceRange(0, start, end, new, trim_crossing=trim)
        after = roundtrip(song, edit)
    kept = [n for n in old if not start <= n.start < end]
    if trim:
        kept = [n.replace(duration=start - n.start) if n.end > start > n.start else n for n in kept]
    assert after.tracks[0].notes == normalize_notes(kept + new)
    assert len(edit.result_notes) == len(new)


@given(song=songs(), data=st.data())
@settings(max_examples=60, deadline=None)
def test_conductor_edits(song, data):
    tick = data.draw(st.integers(0, 9000))
    existing = data.draw(st.sampled_from([t.tick for t in song.tempos]))
    existing_ts = data.draw(st.sampled_from([t.tick for t in song.time_signatures]))
    edits = [
        SetTempo(tick, bpm=data.draw(st.floats(20, 300))),
        AddTempoChange(tick, us_per_beat=data.draw(st.integers(100_000, 2_000_000))),
        RemoveTempoChange(existing),
        SetTimeSignature(tick, data.draw(st.integers(1, 12)), 8),
        AddTimeSignature(tick, 3, 4),
        RemoveTimeSignature(existing_ts),
        SetKey(data.draw(st.sampled_from(["C", "F#m", "Bb"])), tick),
    ]
    for edit in edits:
        after = roundtrip(song, edit)
        if after is None:
            assert edit.tick == 0  # only removing the first entry is refused
            continue
        for attr in ("tempos", "time_signatures", "key_signatures"):
            ticks = [x.tick for x in getattr(after, attr)]
            assert ticks == sorted(set(ticks))
        assert after.tempos[0].tick == 0 and after.time_signatures[0].tick == 0


def test_set_tempo_changes_the_one_in_effect():
    song = Song()
    AddTempoChange(960, bpm=90).apply(song)
    SetTempo(1500, bpm=150).apply(song)
    assert [(t.tick, round(t.bpm, 3)) for t in song.tempos] == [(0, 120.0), (960, 150.0)]
    with pytest.raises(SongError):
        SetKey("H")
    with pytest.raises(SongError):
        AddTimeSignature(0, 3, 6)


@given(song=songs(min_tracks=2, max_tracks=4), data=st.data())
@settings(max_examples=40, deadline=None)
def test_track_edits(song, data):
    n = len(song.tracks)
    src = data.draw(st.integers(0, n - 1))
    dst = data.draw(st.integers(0, n - 1))
    moved = song.tracks[src]
    after = roundtrip(song, MoveTrack(src, dst))
    assert after.tracks[dst] == moved and len(after.tracks) == n
    after = roundtrip(song, RemoveTrack(src))
    assert len(after.tracks) == n - 1
    new = Track(name="New", program=33, notes=[Note(40, 0, 480)])
    at = data.draw(st.integers(0, n))
    after = roundtrip(song, AddTrack(new, at))
    assert after.tracks[at] == new
    props = dict(name="Renamed", program=5, channel=3, is_drum=True, role="pad",
                 color="#123456", muted=True, solo=True, locked=True)
    after = roundtrip(song, SetTrackProperties(src, **props))
    assert all(getattr(after.tracks[src], k) == v for k, v in props.items())


def test_bad_track_properties_are_refused():
    for bad in ({"program": 128}, {"channel": 16}, {"color": "red"}, {"volume": 3}):
        with pytest.raises(SongError):
            SetTrackProperties(0, **bad)


@given(song=songs(), data=st.data())
@settings(max_examples=40, deadline=None)
def test_compound_edit(song, data):
    old = list(song.tracks[0].notes)
    chosen = pick(data, old)
    edit = CompoundEdit(
        [
            Transpose(0, 1, chosen),
            AddTempoChange(960, bpm=100),
            SetTrackProperties(0, name="x"),
            AddNotes(0, [Note(100, 0, 10)]),
        ],
        "Several",
    )
    after = roundtrip(song, edit)
    assert after.tracks[0].name == "x"
    assert edit.result_notes == [Note(100, 0, 10)]


def test_failed_compound_edit_leaves_the_song_unchanged():
    song = Song(tracks=[Track(notes=[Note(60, 0, 10)])])
    before = copy.deepcopy(song)
    edit = CompoundEdit([Transpose(0, 2), MoveNotes(0, [Note(62, 0, 10)], -5)], "Bad")
    with pytest.raises(SongError):
        edit.apply(song)
    assert song == before


def test_big_track_small_edit_matches_full_normalisation():
    # 50k notes; editing a few must give the same as renormalising everything.
    notes = normalize_notes(
        Note(36 + (i * 7) % 60, (i * 37) % 400_000, 30 + (i * 13) % 500, 1 + i % 127)
        for i in range(50_000)
    )
    song = Song(tracks=[Track(notes=list(notes))])
    chosen = notes[1000:1004] + [notes[-1]]
    edit = MoveNotes(0, chosen, 240, 1)
    edit.apply(song)
    moved = [n.replace(start=n.start + 240, pitch=n.pitch + 1) for n in chosen]
    assert song.tracks[0].notes == normalize_notes(others(notes, chosen) + moved)
    edit.revert(song)
    assert song.tracks[0].notes == notes


@pytest.mark.parametrize("mode", [*ENGINES, "middle"])
def test_note_diff_engine_on_denser_tracks(mode):
    """Seeded stress of the planner: hundreds of notes, few pitches, many collisions."""
    rng = random.Random(11)
    for _ in range(150):
        notes = normalize_notes(
            Note(rng.randint(60, 63), rng.randrange(0, 20_000), rng.randint(1, 900))
            for _ in range(rng.randint(0, 400))
        )
        remove = rng.sample(notes, rng.randint(0, min(len(notes), 30)))
        add = [
            Note(rng.randint(59, 64), rng.randrange(0, 20_000), rng.randint(1, 3000))
            for _ in range(rng.randint(0, 40))
        ]
        with engine(mode):
            change = notediff.plan_change(notes, remove, add)
            track = list(notes)
            notediff.apply_change(track, change)
            kept = [n for n in notes if n not in set(remove)]
            assert track == normalize_notes(kept + add)
            notediff.apply_change(track, change.inverse())
            assert track == notes


def test_last_change_names_exactly_what_to_redraw():
    a, b = Note(60, 0, 480), Note(60, 480, 480)
    song = Song(tracks=[Track(notes=[a, b])])
    edit = MoveNotes(0, [b], -240, 0)
    assert edit.last_change is None
    edit.apply(song)
    assert edit.last_change.removed == [a, b]
    assert edit.last_change.added == [Note(60, 0, 240), Note(60, 240, 480)]
    edit.revert(song)
    assert edit.last_change.removed == [Note(60, 0, 240), Note(60, 240, 480)]
    assert edit.last_change.added == [a, b]
    with pytest.raises(SongError):
        edit.revert(song)
