"""Hypothesis strategies for random, valid songs (shared by the core tests)."""

from __future__ import annotations

from hypothesis import strategies as st

from composer_gui.core.song import (
    KeySignature,
    Note,
    Song,
    TempoChange,
    TimeSignature,
    Track,
    normalize_notes,
)

TPB_CHOICES = (96, 120, 384, 480)


@st.composite
def note_lists(draw, max_notes: int = 30, max_tick: int = 4000, pitches=(55, 67)):
    """Sorted, overlap-free note lists, dense in a narrow pitch band (to make collisions)."""
    raw = draw(
        st.lists(
            st.builds(
                Note,
                pitch=st.integers(*pitches),
                start=st.integers(0, max_tick),
                duration=st.integers(1, 600),
                velocity=st.integers(1, 127),
            ),
            max_size=max_notes,
        )
    )
    return normalize_notes(raw)


@st.composite
def tracks(draw, max_notes: int = 30):
    return Track(
        name=draw(st.sampled_from(["", "Melody", "Bass", "Piano"])),
        program=draw(st.integers(0, 127)),
        channel=draw(st.integers(0, 15)),
        is_drum=draw(st.booleans()),
        role=draw(st.sampled_from([None, "melody", "bass", "chords"])),
        notes=draw(note_lists(max_notes=max_notes)),
        color=draw(st.sampled_from([None, "#ff8800"])),
    )


@st.composite
def maps(draw, kind, first, max_extra: int = 3, max_tick: int = 8000):
    ticks = draw(st.lists(st.integers(1, max_tick), max_size=max_extra, unique=True))
    items = [first] + [kind(t) for t in sorted(ticks)]
    return items


@st.composite
def songs(draw, min_tracks: int = 1, max_tracks: int = 3, max_notes: int = 30):
    tpb = draw(st.sampled_from(TPB_CHOICES))
    tempo_ticks = draw(st.lists(st.integers(1, 8000), max_size=3, unique=True))
    tempos = [TempoChange(0, draw(st.integers(200_000, 1_500_000)))]
    tempos += [TempoChange(t, draw(st.integers(200_000, 1_500_000))) for t in sorted(tempo_ticks)]
    meter = st.tuples(st.integers(1, 13), st.sampled_from([2, 4, 8, 16]))
    ts_ticks = draw(st.lists(st.integers(1, 8000), max_size=3, unique=True))
    metres = [TimeSignature(0, *draw(meter))]
    metres += [TimeSignature(t, *draw(meter)) for t in sorted(ts_ticks)]
    keys = draw(st.sampled_from([[], [KeySignature(0, "C")], [KeySignature(0, "F#m")]]))
    return Song(
        ticks_per_beat=tpb,
        tempos=tempos,
        time_signatures=metres,
        key_signatures=keys,
        tracks=draw(st.lists(tracks(max_notes=max_notes), min_size=min_tracks, max_size=max_tracks)),
    )


def is_valid_track(track: Track) -> bool:
    """Sorted by (start, pitch) and free of same-pitch overlaps."""
    return track.notes == normalize_notes(track.notes)
