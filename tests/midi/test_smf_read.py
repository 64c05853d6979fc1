"""Import rules of composer_gui.midi.smf on small hand-built files."""

from __future__ import annotations

import mido
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from composer_gui.core.song import Event, Note, normalize_notes
from composer_gui.midi import MidiFileError, read_midi, read_midi_bytes
from composer_gui.midi._smf_assemble import build_notes
from composer_gui.midi.smf import ImportReport
from tests.midi.smf_builders import key, meta, meter, name, off, on, smf, tempo, track


def notes_of(song, index=0):
    return [(n.pitch, n.start, n.duration, n.velocity) for n in song.tracks[index].notes]


def test_running_status_and_velocity_zero_note_off():
    # One status byte, then bare data bytes; note-on velocity 0 ends a note.
    body = track(
        (0, bytes((0x90, 60, 90))),
        (0, bytes((64, 80))),  # running status: note-on 64
        (240, bytes((60, 0))),  # note-on vel 0 = note-off of 60
        (240, bytes((64, 0))),
    )
    song = read_midi_bytes(smf(body, fmt=0), "run.mid")
    assert notes_of(song) == [(60, 0, 240, 90), (64, 0, 480, 80)]


def test_stacked_note_ons_close_first_in_first_out_then_trim():
    # on@0 (v10), on@100 (v20), off@150, off@300: the first off ends the first note
    # (FIFO, like symusic); the overlap is then trimmed at the later note's start.
    body = track((0, on(0, 60, 10)), (100, on(0, 60, 20)), (50, off(0, 60)), (150, off(0, 60)))
    song = read_midi_bytes(smf(body), "stack.mid")
    assert notes_of(song) == [(60, 0, 100, 10), (60, 100, 200, 20)]


def test_same_pitch_same_start_keeps_one_note():
    body = track((0, on(0, 60, 10)), (0, on(0, 60, 20)), (100, off(0, 60)), (50, off(0, 60)))
    report = ImportReport()
    song = read_midi_bytes(smf(body), "dup.mid", report)
    assert notes_of(song) == [(60, 0, 150, 20)]
    assert report.dropped_same_start == [(60, 0, 100, 10)]


def test_notes_held_at_track_end_are_closed_there():
    body = track((0, on(0, 60)), (0, on(0, 62)), (100, off(0, 62)), (380, meta(0x01, b"x")))
    report = ImportReport()
    song = read_midi_bytes(smf(body), "held.mid", report)
    assert notes_of(song) == [(60, 0, 480, 100), (62, 0, 100, 100)]
    assert report.closed_at_track_end == [(60, 0, 480, 100)]


def test_zero_length_note_gets_one_tick():
    body = track((10, on(0, 60)), (0, off(0, 60)), (0, on(0, 61)), (5, off(0, 61)))
    song = read_midi_bytes(smf(body), "zero.mid")
    assert notes_of(song) == [(60, 10, 1, 100), (61, 10, 5, 100)]


def test_orphan_note_off_is_ignored():
    body = track((0, off(0, 60)), (10, on(0, 60)), (10, off(0, 60)))
    assert notes_of(read_midi_bytes(smf(body), "orphan.mid")) == [(60, 10, 10, 100)]


def test_channel_ten_is_drums_and_channels_split_into_tracks():
    body = track(
        (0, name(b"Band")),
        (0, on(9, 36)),
        (0, on(2, 48)),
        (0, bytes((0xB2, 7, 90))),
        (0, meta(0x05, b"la")),  # lyrics: no channel, stays with the first track
        (120, off(9, 36)),
        (0, off(2, 48)),
    )
    song = read_midi_bytes(smf(body), "band.mid")
    assert [(t.name, t.channel, t.is_drum) for t in song.tracks] == [
        ("Band", 9, True),
        ("Band", 2, False),
    ]
    assert notes_of(song, 0) == [(36, 0, 120, 100)]
    assert notes_of(song, 1) == [(48, 0, 120, 100)]
    assert song.tracks[0].events == [Event.make(0, "lyrics", text="la")]
    assert song.tracks[1].events == [Event.make(0, "control_change", control=7, value=90)]


def test_program_before_first_note_sets_program_later_ones_are_events():
    body = track(
        (0, bytes((0xC0, 33))),
        (0, on(0, 40)),
        (100, bytes((0xC0, 35))),
        (0, off(0, 40)),
    )
    track_ = read_midi_bytes(smf(body), "prog.mid").tracks[0]
    assert track_.program == 33
    assert track_.events == [Event.make(100, "program_change", program=35)]


def test_maps_come_from_any_track_sorted_with_defaults():
    conductor = track((0, name(b"My Song")), (960, tempo(90)), (0, key(-3, minor=True)))
    part = track((0, meter(3, 4)), (0, on(0, 60)), (960, meter(6, 8)), (0, off(0, 60)))
    song = read_midi_bytes(smf(conductor, part), "maps.mid")
    assert song.title == "My Song"
    assert [(t.tick, t.us_per_beat) for t in song.tempos] == [(0, 500_000), (960, 666_667)]
    assert [(m.tick, m.numerator, m.denominator) for m in song.time_signatures] == [
        (0, 3, 4),
        (960, 6, 8),
    ]
    assert [(k.tick, k.key) for k in song.key_signatures] == [(960, "Cm")]


def test_last_of_several_tempos_on_one_tick_wins():
    song = read_midi_bytes(smf(track((0, tempo(100)), (0, tempo(140)))), "t.mid")
    assert [round(t.bpm) for t in song.tempos] == [140]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Fl\u00fbte".encode(), "Fl\u00fbte"),
        ("Fl\u00fbte".encode("latin-1"), "Fl\u00fbte"),
        ("\u30d4\u30a2\u30ce".encode("shift_jis"), None),  # not UTF-8: decoded as Latin-1
        (b"\xff\xfe\x00bad", None),
    ],
)
def test_track_names_in_any_encoding_import(raw, expected):
    body = track((0, name(raw)), (0, on(0, 60)), (10, off(0, 60)))
    got = read_midi_bytes(smf(body), "names.mid").tracks[0].name
    assert got == (expected if expected is not None else raw.decode("latin-1"))


def test_controllers_bend_touch_sysex_and_meta_are_kept():
    body = track(
        (0, on(0, 60)),
        (10, bytes((0xB0, 64, 127))),
        (0, bytes((0xE0, 0x00, 0x60))),  # pitch bend +4096
        (0, bytes((0xD0, 33))),
        (0, bytes((0xA0, 60, 20))),
        (0, b"\xf0\x03\x7e\x09\xf7"),
        (0, meta(0x05, "s\u00e9".encode())),
        (5, off(0, 60)),
    )
    song = read_midi_bytes(smf(track((0, meta(0x06, b"Verse"))), body), "ev.mid")
    assert song.tracks[0].events == [
        Event.make(10, "control_change", control=64, value=127),
        Event.make(10, "pitchwheel", pitch=4096),
        Event.make(10, "aftertouch", value=33),
        Event.make(10, "polytouch", note=60, value=20),
        Event.make(10, "sysex", data=(0x7E, 0x09)),
        Event.make(10, "lyrics", text="s\u00e9"),
    ]
    assert song.conductor_events == [Event.make(0, "marker", text="Verse")]


def test_markers_and_copyright_in_first_track_go_to_conductor_even_with_notes():
    body = track(
        (0, meta(0x02, b"(c) me")),
        (0, on(0, 60)),
        (10, meta(0x06, b"A")),
        (0, meta(0x05, b"word")),
        (0, off(0, 60)),
    )
    song = read_midi_bytes(smf(body, fmt=0), "f0.mid")
    assert [e.kind for e in song.conductor_events] == ["copyright", "marker"]
    assert song.tracks[0].events == [Event.make(10, "lyrics", text="word")]
    assert notes_of(song) == [(60, 0, 10, 100)]


def test_same_file_as_mido_writes_it(tmp_path):
    # An independent writer (mido) produces the file; the reader gets the same notes.
    mid = mido.MidiFile(type=1, ticks_per_beat=96)
    for ch, base in ((0, 60), (9, 36)):
        t = mido.MidiTrack()
        t.append(mido.MetaMessage("track_name", name=f"ch{ch}"))
        for i in range(8):
            t.append(mido.Message("note_on", channel=ch, note=base + i, velocity=50 + i, time=0))
            t.append(mido.Message("note_off", channel=ch, note=base + i, time=48))
        mid.tracks.append(t)
    path = tmp_path / "m.mid"
    mid.save(path)
    song = read_midi(path)
    assert song.ticks_per_beat == 96
    assert [(t.name, t.is_drum) for t in song.tracks] == [("ch0", False), ("ch9", True)]
    assert song.tracks[1].notes == [Note(36 + i, 48 * i, 48, 50 + i) for i in range(8)]


def test_riff_wrapped_midi_imports():
    inner = smf(track((0, on(0, 60)), (10, off(0, 60))))
    riff_body = b"RMID" + b"data" + len(inner).to_bytes(4, "little") + inner
    data = b"RIFF" + len(riff_body).to_bytes(4, "little") + riff_body
    assert notes_of(read_midi_bytes(data, "x.rmi")) == [(60, 0, 10, 100)]


def test_format_2_and_smpte_are_refused_by_name():
    with pytest.raises(MidiFileError, match=r"f2\.mid: format 2"):
        read_midi_bytes(smf(track(), fmt=2), "f2.mid")
    data = bytearray(smf(track()))
    data[12:14] = bytes((0xE7, 0x28))  # -25 fps, 40 ticks per frame
    with pytest.raises(MidiFileError, match=r"smpte\.mid: SMPTE"):
        read_midi_bytes(bytes(data), "smpte.mid")


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 300), st.integers(60, 63), st.integers(1, 200), st.integers(1, 127)
        ),
        max_size=30,
    )
)
def test_import_trims_overlaps_exactly_like_normalize_notes(items):
    # The reader's tuple-level trimming must be core.song.normalize_notes' rule.
    raw = [(s, p, d, v, 0) for s, p, d, v in items]
    expected = normalize_notes(Note(p, s, d, v) for s, p, d, v in items)
    assert build_notes(raw, None) == expected
