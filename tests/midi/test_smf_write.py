"""Export and the exact round trip: read_midi_bytes(song_to_bytes(song)) == song."""

from __future__ import annotations

import os

import mido
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from composer_gui.core.song import (
    KNOWN_ROLES,
    Event,
    KeySignature,
    Note,
    Song,
    SongError,
    TempoChange,
    TimeSignature,
    Track,
    normalize_notes,
)
from composer_gui.midi import MidiFileError, read_midi, read_midi_bytes, song_to_bytes, write_midi
from composer_gui.midi._smf_common import KEY_TO_SF_MI

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
ticks = st.sampled_from((0, 240, 480)) | st.integers(0, 20_000)  # shared ticks: ordering
seven = st.integers(0, 127)


def _map(draw, entry, first):
    """A map with an entry at tick 0 and more at distinct later ticks."""
    later = draw(st.lists(st.integers(1, 20_000), max_size=4, unique=True))
    return [first(0)] + [entry(t) for t in sorted(later)]


@st.composite
def tempos(draw):
    us = st.integers(150_000, 2_000_000)
    return _map(draw, lambda t: TempoChange(t, draw(us)), lambda t: TempoChange(t, draw(us)))


@st.composite
def meters(draw):
    def make(t):
        return TimeSignature(t, draw(st.integers(1, 13)), draw(st.sampled_from((1, 2, 4, 8, 16))))

    return _map(draw, make, make)


@st.composite
def keys(draw):
    at = draw(st.lists(st.integers(0, 20_000), max_size=3, unique=True))
    return [KeySignature(t, draw(st.sampled_from(sorted(KEY_TO_SF_MI)))) for t in sorted(at)]


channel_event = st.one_of(
    st.builds(
        lambda t, c, v: Event.make(t, "control_change", control=c, value=v), ticks, seven, seven
    ),
    st.builds(lambda t, p: Event.make(t, "pitchwheel", pitch=p), ticks, st.integers(-8192, 8191)),
    st.builds(lambda t, v: Event.make(t, "aftertouch", value=v), ticks, seven),
    st.builds(lambda t, n, v: Event.make(t, "polytouch", note=n, value=v), ticks, seven, seven),
    st.builds(lambda t, p: Event.make(t, "program_change", program=p), ticks, seven),
    st.builds(
        lambda t, d: Event.make(t, "sysex", data=tuple(d)), ticks, st.lists(seven, max_size=6)
    ),
    st.builds(
        lambda t, k, s: Event.make(t, k, text=s),
        ticks,
        st.sampled_from(("lyrics", "text", "marker", "instrument_name")),
        texts,
    ),
)
conductor_event = st.builds(
    lambda t, k, s: Event.make(t, k, text=s),
    ticks,
    st.sampled_from(("marker", "text", "copyright", "cue_marker", "lyrics")),
    texts,
)


@st.composite
def tracks(draw):
    channel = draw(st.integers(0, 15))
    raw = draw(
        st.lists(
            st.builds(Note, seven, ticks, st.integers(1, 2000), st.integers(1, 127)), max_size=40
        )
    )
    events = sorted(draw(st.lists(channel_event, max_size=8)), key=lambda e: e.tick)
    return Track(
        name=draw(texts),
        program=draw(seven),
        channel=channel,
        is_drum=channel == 9,
        role=draw(st.none() | st.sampled_from(KNOWN_ROLES) | texts),
        notes=normalize_notes(raw),
        events=events,
        color=draw(st.none() | st.from_regex(r"#[0-9a-f]{6}", fullmatch=True)),
        muted=draw(st.booleans()),
        solo=draw(st.booleans()),
        locked=draw(st.booleans()),
    )


@st.composite
def songs(draw):
    return Song(
        ticks_per_beat=draw(st.sampled_from((24, 96, 480, 960, 10080))),
        tempos=draw(tempos()),
        time_signatures=draw(meters()),
        key_signatures=draw(keys()),
        tracks=draw(st.lists(tracks(), max_size=4)),
        conductor_events=sorted(draw(st.lists(conductor_event, max_size=4)), key=lambda e: e.tick),
        title=draw(texts),
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(songs())
def test_round_trip_is_exact(song):
    assert read_midi_bytes(song_to_bytes(song), "rt.mid") == song


def _sample_song() -> Song:
    return Song(
        ticks_per_beat=480,
        tempos=[TempoChange(0, 600_000)],
        key_signatures=[KeySignature(0, "Eb")],
        tracks=[
            Track(
                name="Lead",
                program=73,
                channel=0,
                role="melody",
                color="#ff8800",
                notes=[Note(72, 0, 480, 90), Note(74, 480, 480, 80)],
                events=[
                    Event.make(0, "control_change", control=7, value=100),
                    Event.make(240, "pitchwheel", pitch=-200),
                    Event.make(480, "lyrics", text="la"),
                ],
            ),
            Track(name="Kit", channel=3, is_drum=True, role="drums", notes=[Note(36, 0, 60, 110)]),
        ],
        conductor_events=[Event.make(0, "marker", text="Intro")],
        title="Demo",
    )


def test_exported_file_reads_in_mido_with_everything_in_place(tmp_path):
    path = tmp_path / "demo.mid"
    write_midi(_sample_song(), path)
    mid = mido.MidiFile(path)
    assert mid.type == 1 and len(mid.tracks) == 3
    conductor = [m.type for m in mid.tracks[0]]
    assert {"set_tempo", "key_signature", "time_signature", "marker"} <= set(conductor)
    assert not any(isinstance(m, mido.Message) for m in mid.tracks[0])
    lead = mid.tracks[1]
    assert lead.name == "Lead"
    assert [m.program for m in lead if m.type == "program_change"] == [73]
    assert {m.channel for m in lead if isinstance(m, mido.Message)} == {0}
    assert [m.pitch for m in lead if m.type == "pitchwheel"] == [-200]
    app = [m.data for m in lead if m.type == "sequencer_specific"]
    assert len(app) == 1 and app[0][0] == 0x7D
    drums = mid.tracks[2]
    # A drum track always goes out on channel 10 (index 9).
    assert {m.channel for m in drums if isinstance(m, mido.Message)} == {9}


def test_app_data_is_read_back_and_drums_land_on_channel_ten(tmp_path):
    path = tmp_path / "demo.mid"
    write_midi(_sample_song(), path)
    song = read_midi(path)
    lead, kit = song.tracks
    assert (lead.role, lead.color, lead.program) == ("melody", "#ff8800", 73)
    assert (kit.role, kit.is_drum, kit.channel) == ("drums", True, 9)
    assert song.title == "Demo"
    assert song.conductor_events == [Event.make(0, "marker", text="Intro")]


def test_open_and_save_keeps_controllers_lyrics_and_markers(tmp_path):
    mid = mido.MidiFile(type=0, ticks_per_beat=120)
    t = mido.MidiTrack()
    t.append(mido.MetaMessage("marker", text="Chorus"))
    t.append(mido.Message("control_change", control=64, value=127))
    t.append(mido.Message("note_on", note=60, velocity=70))
    t.append(mido.MetaMessage("lyrics", text="oh", time=10))
    t.append(mido.Message("pitchwheel", pitch=1000, time=10))
    t.append(mido.Message("note_off", note=60, time=100))
    t.append(mido.Message("control_change", control=64, value=0))
    mid.tracks.append(t)
    src, dst = tmp_path / "in.mid", tmp_path / "out.mid"
    mid.save(src)
    write_midi(read_midi(src), dst)

    def kept(path):
        out = []
        for msg in mido.merge_tracks(mido.MidiFile(path).tracks):
            if msg.type in ("control_change", "pitchwheel", "lyrics", "marker", "note_on"):
                out.append(msg.copy(time=0))
        return out

    ticks_in = [m.time for m in mido.merge_tracks(mid.tracks)]
    assert kept(src) == kept(dst) and sum(ticks_in) == 120


def test_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "song.mid"
    path.write_bytes(b"old contents")
    bad = _sample_song()
    bad.tracks[0].events.append(Event.make(0, "control_change", control=300, value=1))
    with pytest.raises(SongError, match="control 300"):
        write_midi(bad, path)

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(MidiFileError, match="song.mid: cannot write: No space left"):
        write_midi(_sample_song(), path)
    assert path.read_bytes() == b"old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["song.mid"]


def test_write_replaces_an_existing_file(tmp_path):
    path = tmp_path / "song.mid"
    path.write_bytes(b"old")
    write_midi(_sample_song(), path)
    assert read_midi(path) == read_midi_bytes(song_to_bytes(_sample_song()))


def test_write_into_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(MidiFileError, match="cannot write"):
        write_midi(_sample_song(), tmp_path / "nope" / "x.mid")


@settings(max_examples=30, deadline=None)
@given(songs())
def test_symusic_reads_the_exported_notes(song):
    # An independent reader finds every exported note where the song has it.
    import symusic

    score = symusic.Score.from_midi(song_to_bytes(song))
    theirs = sorted(
        (n.pitch, n.time, n.duration, n.velocity) for t in score.tracks for n in t.notes
    )
    ours = sorted((n.pitch, n.start, n.duration, n.velocity) for t in song.tracks for n in t.notes)
    assert theirs == ours
    assert score.ticks_per_quarter == song.ticks_per_beat
    assert [t.qpm for t in score.tempos] == pytest.approx([t.bpm for t in song.tempos], rel=1e-6)


def test_a_tick_beyond_what_midi_can_store_is_refused():
    song = Song(tracks=[Track(notes=[Note(60, 1 << 28, 10)])])
    with pytest.raises(SongError, match="too far"):
        song_to_bytes(song)
