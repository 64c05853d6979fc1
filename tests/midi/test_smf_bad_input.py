"""Bad input: one exception type (MidiFileError) naming the file and the problem, fast.

"Fast" is measured in CPU time (time.process_time): on a shared 2-core machine the wall
clock also counts the time other processes hold the cores.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from composer_gui.core.errors import UserError
from composer_gui.core.song import Event, Note, Song, Track, normalize_notes
from composer_gui.midi import MidiFileError, read_midi, read_midi_bytes, song_to_bytes
from tests.midi.smf_builders import off, on, smf, track

GOOD = smf(track((0, on(0, 60)), (10, off(0, 60))))


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name -> (path, expected words in the message)."""
    cases = {
        "not_midi.mid": (b"Hello, this is a text file.\n" * 5, "not a MIDI file"),
        "empty.mid": (b"", "empty"),
        "truncated.mid": (GOOD[:-5], "truncated"),
        "header_only.mid": (GOOD[:14], "truncated"),
        "long_chunk.mid": (GOOD[:18] + b"\x00\x01\x00\x00" + GOOD[22:], "truncated"),
        "short_chunk.mid": (GOOD[:18] + b"\x00\x00\x00\x03" + GOOD[22:], "track 1"),
        "zero_tpb.mid": (smf(track(), tpb=0), "zero ticks per beat"),
        "no_tracks.mid": (smf(ntrks=0), "no tracks"),
        "missing_track.mid": (smf(track(), ntrks=2), "announces 2 tracks"),
        "bad_header_len.mid": (b"MThd\x00\x00\x00\x02\x00\x01", "header"),
        "format2.mid": (smf(track(), fmt=2), "format 2"),
        "format7.mid": (smf(track(), fmt=7), "format 7"),
        "no_status.mid": (smf(track((0, b"\x3c\x40"))), "without a status byte"),
        "bad_status.mid": (smf(track((0, b"\xf4"))), "unexpected status"),
        "bad_data.mid": (smf(track((0, b"\x90\x3c\xc0"))), "bad note data"),
        "meta_too_long.mid": (smf(track((0, b"\xff\x01\x7f" + b"x" * 5))), "runs past"),
    }
    out = {}
    for name, (data, words) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        out[name] = (path, words)
    return out


def test_every_kind_of_bad_file_gives_one_clear_error_quickly(tmp_path):
    for name, (path, words) in _bad_files(tmp_path).items():
        start = time.process_time()
        with pytest.raises(MidiFileError) as info:
            read_midi(path)
        assert time.process_time() - start < 1.0, name
        message = str(info.value)
        assert message.startswith(str(path) + ": "), message
        assert words in message, (name, message)
        assert isinstance(info.value, UserError)


def test_a_folder_and_a_missing_path_are_clear_errors(tmp_path):
    with pytest.raises(MidiFileError, match="is a folder"):
        read_midi(tmp_path)
    with pytest.raises(MidiFileError, match=r"nope\.mid: no such file"):
        read_midi(tmp_path / "nope.mid")


def _corpus(datasets: Path | None) -> list[bytes]:
    """Small real files (when the datasets are there) and generated ones."""
    rng = random.Random(7)
    corpus = []
    for seed in range(4):
        r = random.Random(seed)
        notes = [Note(r.randint(30, 90), r.randint(0, 4000), r.randint(1, 400)) for _ in range(60)]
        events = [Event.make(r.randint(0, 4000), "control_change", control=64, value=127)]
        events.append(Event.make(10, "lyrics", text="x\u00e9"))
        events.sort(key=lambda e: e.tick)
        track_ = Track(name="p", notes=normalize_notes(notes), events=events)
        corpus.append(song_to_bytes(Song(tracks=[track_, Track(is_drum=True, channel=9)])))
    if datasets is not None:
        for folder in ("nottingham", "groove", "bach_chorales", "pop909"):
            files = sorted((datasets / folder).rglob("*.mid"))
            small = [f for f in files if f.stat().st_size < 12_000]
            corpus += [f.read_bytes() for f in rng.sample(small, min(4, len(small)))]
    return corpus


def _mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    kind = rng.randrange(7)
    if kind == 0:  # flip bits
        for _ in range(rng.randint(1, 8)):
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    elif kind == 1:  # random bytes
        for _ in range(rng.randint(1, 8)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
    elif kind == 2:  # truncate
        del buf[rng.randrange(len(buf)) :]
    elif kind == 3:  # insert junk
        at = rng.randrange(len(buf))
        buf[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    elif kind == 4:  # delete a range
        at = rng.randrange(len(buf))
        del buf[at : at + rng.randint(1, 32)]
    elif kind == 5:  # wrong chunk length
        at = data.find(b"MTrk", rng.randrange(len(buf)))
        at = data.find(b"MTrk") if at < 0 else at
        buf[at + 4 : at + 8] = rng.randrange(1 << 32).to_bytes(4, "big")
    else:  # header fields: format, track count, division
        at = rng.choice((8, 9, 10, 11, 12, 13))
        buf[at] = rng.randrange(256)
    return bytes(buf)


def test_seeded_fuzz_gives_a_song_or_midi_file_error(request):
    datasets = None
    try:
        datasets = request.getfixturevalue("datasets_dir")
    except pytest.skip.Exception:
        pass  # the generated files alone still make a corpus
    corpus = _corpus(datasets)
    rng = random.Random(20240611)
    outcomes = {"ok": 0, "error": 0}
    slowest = 0.0
    for case in range(2400):
        data = _mutate(rng.choice(corpus), rng)
        start = time.process_time()
        try:
            song = read_midi_bytes(data, f"fuzz{case}.mid")
        except MidiFileError as exc:
            assert str(exc).startswith(f"fuzz{case}.mid: ")
            outcomes["error"] += 1
        else:
            assert song.ticks_per_beat > 0
            outcomes["ok"] += 1
        slowest = max(slowest, time.process_time() - start)
    assert outcomes["ok"] > 100 and outcomes["error"] > 100, outcomes
    assert slowest < 1.0
