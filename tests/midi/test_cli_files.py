"""``composer-gui info`` / ``info --json`` / ``convert`` through the real dispatcher."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mido
import pytest

from composer_gui.cli import main
from composer_gui.core.song import (
    KeySignature,
    Note,
    Song,
    TempoChange,
    TimeSignature,
    Track,
)
from composer_gui.midi import read_midi, write_midi

REPO = Path(__file__).resolve().parents[2]


def _song() -> Song:
    # 2 bars of 4/4 then 3/4 from tick 3840; the last note ends at tick 3840 + 1440 + 10,
    # inside the third bar of 3/4: 2 + 2 = 4 bars. Tempo 100 bpm (0.6 s a beat), then
    # 60 bpm from tick 3840: 8 beats * 0.6 + (1450 / 480) beats * 1.0 = 7.8208 s.
    return Song(
        ticks_per_beat=480,
        tempos=[TempoChange(0, 600_000), TempoChange(3840, 1_000_000)],
        time_signatures=[TimeSignature(0, 4, 4), TimeSignature(3840, 3, 4)],
        key_signatures=[KeySignature(0, "F#m")],
        tracks=[
            Track(
                name="Flute line",
                program=73,
                channel=2,
                role="melody",
                # listed out of order on purpose: --json sorts by start then pitch
                notes=[Note(76, 480, 240, 90), Note(72, 0, 480, 80), Note(67, 480, 4810, 70)],
            ),
            Track(name="Kit", channel=9, is_drum=True, notes=[Note(36, 0, 60, 110)]),
        ],
        title="Test tune",
    )


@pytest.fixture
def song_file(tmp_path) -> Path:
    path = tmp_path / "tune.mid"
    write_midi(_song(), path)
    return path


def test_info_shows_tracks_maps_and_length(song_file, capsys):
    assert main(["info", str(song_file)]) == 0
    out = capsys.readouterr().out
    assert "Test tune" in out
    assert "100 bpm" in out and "60 bpm at tick 3840" in out
    assert "4/4" in out and "3/4 at tick 3840" in out
    assert "F#m" in out
    assert "4 bars" in out and "7.8 s" in out
    flute = next(line for line in out.splitlines() if "Flute line" in line)
    # name, role, instrument (GM's 1-128 and name, as the window shows it), channel shown
    # 1-based, drums, notes, range
    assert flute.split()[3:] == ["melody", "74", "Flute", "3", "no", "3", "G4-E5", "(67-76)"]
    kit = next(line for line in out.splitlines() if "Kit" in line)
    assert " 10 " in kit and "yes" in kit and "C2-C2 (36-36)" in kit


def test_info_json_is_exactly_the_documented_schema(song_file, capsys):
    assert main(["info", str(song_file), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == {
        "ticks_per_beat": 480,
        "tempos": [
            {"tick": 0, "bpm": 100.0, "us_per_beat": 600_000},
            {"tick": 3840, "bpm": 60.0, "us_per_beat": 1_000_000},
        ],
        "time_signatures": [
            {"tick": 0, "numerator": 4, "denominator": 4},
            {"tick": 3840, "numerator": 3, "denominator": 4},
        ],
        "key_signatures": [{"tick": 0, "key": "F#m"}],
        "tracks": [
            {
                "name": "Flute line",
                "role": "melody",
                "program": 73,
                "instrument": "74 Flute",
                "channel": 2,
                "is_drum": False,
                "notes": [[72, 0, 480, 80], [67, 480, 4810, 70], [76, 480, 240, 90]],
            },
            {
                "name": "Kit",
                "role": None,
                "program": 0,
                "instrument": "Drums",
                "channel": 9,
                "is_drum": True,
                "notes": [[36, 0, 60, 110]],
            },
        ],
    }


def test_info_json_of_a_foreign_file_lists_no_conductor_track(tmp_path, capsys):
    mid = mido.MidiFile(type=1)
    conductor = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=400_000)])
    part = mido.MidiTrack(
        [
            mido.Message("program_change", program=40, channel=1),
            mido.Message("note_on", note=64, velocity=99, channel=1),
            mido.Message("note_off", note=64, channel=1, time=96),
        ]
    )
    mid.tracks += [conductor, part]
    path = tmp_path / "foreign.mid"
    mid.save(path)
    assert main(["info", "--json", str(path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["tempos"] == [{"tick": 0, "bpm": 150.0, "us_per_beat": 400_000}]
    assert doc["key_signatures"] == []
    assert [(t["program"], t["channel"], t["notes"]) for t in doc["tracks"]] == [
        (40, 1, [[64, 0, 96, 99]])
    ]


def test_convert_writes_format_1_with_the_same_song(tmp_path, capsys):
    src = tmp_path / "fmt0.mid"
    mid = mido.MidiFile(type=0, ticks_per_beat=96)
    mid.tracks.append(
        mido.MidiTrack(
            [
                mido.Message("note_on", note=60, velocity=64),
                mido.Message("note_on", note=42, velocity=64, channel=9),
                mido.Message("note_off", note=60, time=48),
                mido.Message("note_off", note=42, channel=9),
            ]
        )
    )
    mid.save(src)
    dst = tmp_path / "out.mid"
    assert main(["convert", str(src), str(dst)]) == 0
    assert "out.mid" in capsys.readouterr().out
    assert mido.MidiFile(dst).type == 1
    assert read_midi(dst) == read_midi(src)
    assert [t.is_drum for t in read_midi(dst).tracks] == [False, True]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["info", "{tmp}/missing.mid"], "missing.mid: no such file"),
        (["info", "{tmp}/junk.mid"], "junk.mid: not a MIDI file"),
        (["info", "{tmp}"], "is a folder"),
        (["convert", "{tmp}/junk.mid", "{tmp}/o.mid"], "junk.mid: not a MIDI file"),
        (["convert", "{song}", "{tmp}/no/such/dir/o.mid"], "cannot write"),
        (["info"], "file"),  # bad usage
        (["info", "{song}", "--bogus"], "--bogus"),
    ],
)
def test_errors_are_one_line_and_exit_2(tmp_path, song_file, capsys, argv, words):
    (tmp_path / "junk.mid").write_text("not midi")
    argv = [a.format(tmp=tmp_path, song=song_file) for a in argv]
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("composer-gui: error: "), captured.err
    assert words in lines[0]
    assert "Traceback" not in captured.err + captured.out


def test_python_dash_m_runs_info_and_reports_errors(song_file, tmp_path):
    ok = subprocess.run(
        [sys.executable, "-m", "composer_gui", "info", str(song_file), "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["tracks"][0]["name"] == "Flute line"
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x00\x00")
    err = subprocess.run(
        [sys.executable, "-m", "composer_gui", "info", str(bad)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert err.returncode == 2
    assert err.stderr.strip() == f"composer-gui: error: {bad}: zero ticks per beat"


def test_ctrl_c_during_convert_exits_130_and_keeps_the_old_output(
    song_file, tmp_path, monkeypatch, capsys
):
    import os

    out = tmp_path / "out.mid"
    out.write_bytes(b"previous export")

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    assert main(["convert", str(song_file), str(out)]) == 130
    assert out.read_bytes() == b"previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mid", "tune.mid"]
    assert "Traceback" not in capsys.readouterr().err
