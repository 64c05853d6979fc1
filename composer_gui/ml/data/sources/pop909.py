"""POP909 songs as plain :class:`Song` objects with reliable bar lines and split parts.

POP909 (Music X Lab, ISMIR 2020, MIT licence) keeps each song in a folder ``NNN/`` with
``NNN.mid`` (tracks MELODY, BRIDGE, PIANO), ``beat_midi.txt`` and, one level up,
``index.csv``. The files' own time signatures are unreliable (most declare 1/4), so
:func:`load_pop909_song` rebuilds the time axis from the annotation:

Beats and ticks
    ``beat_midi.txt`` has one row per beat: the time in seconds, then a 1 where a bar
    starts if bars are 2 or 3 beats long, then a 1 where a bar starts if bars are 4 or 6
    beats long. The seconds are turned into ticks through the file's tempo map. In the
    dataset the tempo maps are written so that every beat is the same number of ticks
    (480, or 960 in four songs); a song whose beats are not evenly spaced in ticks (418
    and 519 of the 850) is refused with :class:`Pop909Error`.

    The song is then re-timed without moving any note against another:

    * ``ticks_per_beat`` becomes the annotated beat (one quarter note) for simple meters
      and two thirds of it (the annotated beat is then a dotted quarter) for compound
      ones; tempo values are scaled by the same factor, so seconds do not change.
    * Everything is shifted by a whole number of ticks so that the first annotated beat
      falls on a whole beat: on tick 0 when no note comes before it, otherwise on the
      first whole beat that leaves room for the earlier notes. Events that would fall
      before tick 0 (controllers before the first note) are moved to tick 0.

Bar lines (the rule)
    index.csv gives ``num_beats_per_measure`` (2 or 3) and ``num_quavers_per_beat``
    (2 simple, 3 compound). The nominal meter and the annotation column used:

    ============  =========  ==============  ===========================
    beats/measure  quavers   meter           downbeats from
    ============  =========  ==============  ===========================
    2              2          4/4             column 3 (4- or 6-beat bars)
    3              2          3/4             column 2 (2- or 3-beat bars)
    2              3          6/8             column 2
    3              3          9/8             column 2
    ============  =========  ==============  ===========================

    Every annotated downbeat is a bar line. The span before the first downbeat is filled
    with whole bars of the nominal meter counted back from it; what is left at the start
    is a short first bar (a pickup). A bar exactly two or more nominal bars long (an
    8-beat bar in 4/4: 12 bars in the dataset) is split into nominal bars: the
    annotation skipped a downbeat there. Each bar gets the meter of its own length in beats
    (a 2-beat bar in a 4/4 song is 2/4, a 6-beat one 6/4; in compound songs a bar of n
    beats is 3n/8), and a :class:`TimeSignature` is written wherever a bar's meter differs
    from the previous one's, so reading the meter map the usual way (bars of the meter in
    effect, a meter change starts a new bar) gives exactly the annotated bar lines. After
    the last annotated downbeat the nominal meter continues.

Parts
    MELODY -> "Melody" (role melody), BRIDGE -> "Strings" (role strings, GM 48 String
    Ensemble 1), PIANO -> "Bass" (role bass, GM 33 Electric Bass (finger)) and "Piano"
    (role piano, GM 0) by :func:`split_piano`.

Measured on all 850 songs (``benchmarks/pop_data_report.py``): 848 load (800 in 4/4,
25 in 3/4, 22 in 6/8, one in 9/8), 593 start with a pickup bar; about 13 ms CPU per song.
About 90% of onsets lie exactly on a grid of 4 steps per beat (12 steps: the same): some
songs are performances that were never quantized (611 songs have at least 90% on the
grid; pooled over those, 96.6%). No constant offset puts the others on the grid, so the
annotation's phase is right and the scatter is the files' own timing.
Irregular bars are common: only 132 songs keep the nominal meter in every bar after the
pickup, but 91.9% of bar-aligned 4-bar windows lie wholly in it, so a data pipeline
should drop windows with odd bars rather than whole songs.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from composer_gui.core.errors import UserError
from composer_gui.core.song import (
    Event,
    KeySignature,
    Note,
    Song,
    TempoChange,
    TimeSignature,
    Track,
)
from composer_gui.core.timing import TimeMap

__all__ = [
    "BASS_CEILING",
    "BeatAnnotation",
    "Pop909Error",
    "Pop909Meter",
    "find_pop909_songs",
    "is_pop909_file",
    "load_pop909_beats",
    "load_pop909_song",
    "pop909_meter",
    "pop909_meter_supported",
    "split_piano",
]

#: Highest pitch a bass note may have (B3): above it the left hand is not playing bass.
BASS_CEILING = 59
#: GM programs of the output parts (0-based).
PROGRAMS = {"Melody": 0, "Bass": 33, "Piano": 0, "Strings": 48}
_SUSTAIN = 64


class Pop909Error(UserError, ValueError):
    """A POP909 folder that cannot be read as the loader needs (names the file)."""


# ----- meter from index.csv ---------------------------------------------------------------
@dataclass(frozen=True)
class Pop909Meter:
    """A song's meter as index.csv gives it, and the annotation column that marks its bars."""

    song_id: str
    beats_per_measure: int  # index.csv: 2 or 3
    quavers_per_beat: int  # index.csv: 2 simple, 3 compound

    @property
    def compound(self) -> bool:
        return self.quavers_per_beat == 3

    @property
    def beats_per_bar(self) -> int:
        """Annotated beats in a nominal bar: 4 for duple simple songs (read as 4/4)."""
        if not self.compound and self.beats_per_measure == 2:
            return 4
        return self.beats_per_measure

    @property
    def column(self) -> int:
        """0-based column of beat_midi.txt whose 1s are the downbeats."""
        return 2 if self.beats_per_bar in (4, 6) else 1

    @property
    def label(self) -> str:
        """The nominal meter: "4/4", "3/4", "6/8" or "9/8"."""
        return _meter_label(self.beats_per_bar, self.compound)


def _meter_label(beats: int, compound: bool) -> str:
    return f"{3 * beats}/8" if compound else f"{beats}/4"


@lru_cache(maxsize=4)
def _read_index(index_path: Path, mtime_ns: int) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    try:
        with open(index_path, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                out[row["song_id"].strip()] = (
                    int(row["num_beats_per_measure"]),
                    int(row["num_quavers_per_beat"]),
                )
    except (KeyError, ValueError, TypeError) as exc:
        raise Pop909Error(f"{index_path}: not a POP909 index ({exc})") from exc
    return out


def pop909_meter(song_dir: str | Path) -> Pop909Meter:
    """The meter of a POP909 song folder, from ``index.csv`` in the folder above it."""
    song_dir = Path(song_dir)
    index_path = song_dir.parent / "index.csv"
    if not index_path.is_file():
        raise Pop909Error(f"{index_path}: missing (POP909's index.csv gives each song's meter)")
    table = _read_index(index_path.resolve(), index_path.stat().st_mtime_ns)
    song_id = song_dir.name
    if song_id not in table:
        raise Pop909Error(f"{index_path}: no row for song {song_id}")
    beats, quavers = table[song_id]
    if beats not in (2, 3) or quavers not in (2, 3):
        raise Pop909Error(
            f"{index_path}: song {song_id} has {beats} beats per measure and {quavers}"
            " quavers per beat (expected 2 or 3 each)"
        )
    return Pop909Meter(song_id, beats, quavers)


def find_pop909_songs(folder: str | Path) -> list[Path]:
    """The song folders of a POP909 copy (``NNN/`` holding ``NNN.mid``), sorted."""
    folder = Path(folder)
    if not (folder / "index.csv").is_file():
        raise Pop909Error(f"{folder}: not a POP909 folder (no index.csv)")
    return sorted(p for p in folder.iterdir() if (p / f"{p.name}.mid").is_file())


def is_pop909_file(path: str | Path) -> bool:
    """Whether ``path`` is a POP909 song file: ``NNN/NNN.mid`` beside ``beat_midi.txt``,
    with ``index.csv`` one folder up."""
    path = Path(path)
    return (
        path.stem == path.parent.name
        and (path.parent / "beat_midi.txt").is_file()
        and (path.parent.parent / "index.csv").is_file()
    )


def pop909_meter_supported(song_dir: str | Path, supported: tuple[str, ...] = ("4/4",)) -> bool:
    """Whether the song's nominal meter (``pop909_meter(song_dir).label``) is in ``supported``."""
    return pop909_meter(song_dir).label in supported


# ----- beats -> ticks ---------------------------------------------------------------------
@dataclass
class BeatAnnotation:
    """The annotation of one song on the loaded song's time axis (see the module notes).

    ``beat_ticks`` and ``downbeat_ticks`` are ticks of the loaded song; ``shift`` is what
    was added to every tick of the file; ``bar_starts`` are all bar lines (lead-in bars
    first); ``bar_beats`` each bar's length in annotated beats (the last one nominal).
    """

    meter: Pop909Meter
    ticks_per_beat: int
    beat_length: int  # ticks per annotated beat in the loaded song
    shift: int
    beat_ticks: np.ndarray
    downbeat_ticks: np.ndarray
    bar_starts: np.ndarray
    bar_beats: np.ndarray

    @property
    def pickup_beats(self) -> int:
        """Beats in a short first bar (0 when the song starts on a full bar)."""
        first = int(self.bar_beats[0]) if len(self.bar_beats) else 0
        return first if first < self.meter.beats_per_bar else 0

    def time_signatures(self) -> list[TimeSignature]:
        """The meter map that reproduces ``bar_starts`` (a change only where a bar's
        length differs from the bar before)."""
        compound = self.meter.compound
        out: list[TimeSignature] = []
        current = None
        for start, beats in zip(self.bar_starts.tolist(), self.bar_beats.tolist()):
            if beats != current:
                num = 3 * beats if compound else beats
                out.append(TimeSignature(int(start), int(num), 8 if compound else 4))
                current = beats
        return out


def _annotation_path(song_dir: Path) -> Path:
    path = song_dir / "beat_midi.txt"
    if not path.is_file():
        raise Pop909Error(f"{path}: missing (POP909 songs need their beat annotation)")
    return path


def _read_beat_table(path: Path) -> np.ndarray:
    try:
        table = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise Pop909Error(f"{path}: not a beat table ({exc})") from exc
    if table.shape[0] < 2 or table.shape[1] < 3:
        raise Pop909Error(f"{path}: expected rows of 3 columns, got shape {table.shape}")
    if np.any(np.diff(table[:, 0]) <= 0):
        raise Pop909Error(f"{path}: beat times do not increase")
    return table


def load_pop909_beats(song_dir: str | Path, song: Song | None = None) -> BeatAnnotation:
    """The beat annotation of a POP909 folder placed on the loaded song's time axis.

    ``song`` is the folder's MIDI file as read by ``read_midi`` (read here when omitted).
    """
    song_dir = Path(song_dir)
    meter = pop909_meter(song_dir)
    path = _annotation_path(song_dir)
    table = _read_beat_table(path)
    if song is None:
        song = _read_file(song_dir)

    raw = TimeMap.of(song).seconds_to_ticks_array(table[:, 0])  # rounded half up
    gaps = np.diff(raw)
    beat = int(np.median(gaps))
    if beat < 1 or np.any(np.abs(gaps - beat) > 1):
        raise Pop909Error(
            f"{path}: beats are not evenly spaced in the file's tempo map "
            f"({int(gaps.min())}-{int(gaps.max())} ticks apart); not supported"
        )
    if meter.compound and beat % 3:
        raise Pop909Error(f"{path}: a compound beat of {beat} ticks does not split in three")
    # Canonical beats: one tempo-map beat apart (a rounding wobble of one tick is absorbed).
    first_note = min((n.start for t in song.tracks for n in t.notes), default=int(raw[0]))
    lead = max(0, int(raw[0]) - first_note)
    first_beat = beat * math.ceil(lead / beat)
    shift = first_beat - int(raw[0])
    beat_ticks = first_beat + beat * np.arange(len(raw), dtype=np.int64)

    down_idx = np.nonzero(table[:, meter.column] == 1)[0]
    if len(down_idx) == 0:
        raise Pop909Error(f"{path}: column {meter.column + 1} marks no downbeat")
    downbeats = beat_ticks[down_idx]
    bar = beat * meter.beats_per_bar
    lead_bars = list(range(int(downbeats[0]) - bar, 0, -bar))[::-1]
    starts = ([0] if downbeats[0] > 0 else []) + [s for s in lead_bars if s > 0]
    lines = set(starts) | set(downbeats.tolist())
    # A bar of two or more whole nominal bars is the annotation skipping a downbeat:
    # split it into nominal bars.
    ordered = sorted(lines)
    for a, b in zip(ordered, ordered[1:]):
        if b - a >= 2 * bar and (b - a) % bar == 0:
            lines.update(range(a + bar, b, bar))
    bar_starts = np.array(sorted(lines), dtype=np.int64)
    bar_beats = np.append(np.diff(bar_starts) // beat, meter.beats_per_bar).astype(np.int64)

    tpb = beat * 2 // 3 if meter.compound else beat
    return BeatAnnotation(
        meter=meter,
        ticks_per_beat=tpb,
        beat_length=beat,
        shift=shift,
        beat_ticks=beat_ticks,
        downbeat_ticks=downbeats,
        bar_starts=bar_starts,
        bar_beats=bar_beats,
    )


# ----- the PIANO split --------------------------------------------------------------------
def _pedal_spans(events: list[Event]) -> list[tuple[int, int]]:
    """(down, up) tick spans where the sustain pedal (CC64 >= 64) is held."""
    spans: list[tuple[int, int]] = []
    down = None
    for e in sorted(events, key=lambda e: e.tick):
        if e.kind != "control_change" or e.get("control") != _SUSTAIN:
            continue
        if e.get("value", 0) >= 64:
            if down is None:
                down = e.tick
        elif down is not None:
            spans.append((down, e.tick))
            down = None
    if down is not None:
        spans.append((down, math.inf))  # held to the end
    return spans


def _sounding_ends(notes: list[Note], pedal: list[tuple[int, int]]) -> list[float]:
    """Where each note stops sounding: its release, or the pedal's release when the
    pedal is down at that moment."""
    downs = [d for d, _ in pedal]
    ends: list[float] = []
    for n in notes:
        end: float = n.end
        i = int(np.searchsorted(downs, n.end, side="right")) - 1
        if i >= 0 and pedal[i][0] <= n.end < pedal[i][1]:
            end = pedal[i][1]
        ends.append(end)
    return ends


def split_piano(
    notes: list[Note],
    events: list[Event] = (),
    ticks_per_beat: int = 480,
    ceiling: int = BASS_CEILING,
) -> tuple[list[Note], list[Note]]:
    """Split a piano part into (bass, piano): the left hand's bass line and the rest.

    The heuristic, per onset (notes starting on the same tick, in time order): the
    onset's lowest note is a bass note when

    * its pitch is at most ``ceiling`` (B3 by default: the bass register), and
    * no earlier note of the part is still sounding more than a sixteenth note
      (``ticks_per_beat // 4``) past the onset with a lower pitch. "Sounding" includes
      the sustain pedal: a released note held by the pedal sounds until the pedal
      lifts, which is what keeps a broken-chord left hand (root, fifth, tenth over
      the pedal) from turning every arpeggio note into bass (on 43 songs, ignoring the
    pedal gave 40% more bass notes and 3.5 times as many upward leaps of a fourth or
    more within a beat, the mark of arpeggio notes). The sixteenth of slack
      forgives legato pedalling, where the pedal lifts just after the new bass note.

    Every other note goes to the piano part. Notes are returned unchanged (no note is
    lost, moved or duplicated), each list sorted by (start, pitch).
    """
    ordered = sorted(notes, key=lambda n: (n.start, n.pitch))
    ends = _sounding_ends(ordered, _pedal_spans(list(events)))
    slack = max(1, ticks_per_beat // 4)
    bass: list[Note] = []
    piano: list[Note] = []
    active: list[int] = []  # indices of notes started before the current onset
    i = 0
    while i < len(ordered):
        onset = ordered[i].start
        j = i
        while j < len(ordered) and ordered[j].start == onset:
            j += 1
        active = [k for k in active if ends[k] > onset + slack]
        lowest = ordered[i]
        below = any(ordered[k].pitch < lowest.pitch for k in active)
        if lowest.pitch <= ceiling and not below:
            bass.append(lowest)
            piano.extend(ordered[i + 1 : j])
        else:
            piano.extend(ordered[i:j])
        active.extend(range(i, j))
        i = j
    return bass, piano


# ----- the song ---------------------------------------------------------------------------
def _read_file(song_dir: Path) -> Song:
    from composer_gui.midi.smf import read_midi

    path = song_dir / f"{song_dir.name}.mid"
    if not path.is_file():
        raise Pop909Error(f"{path}: missing (a POP909 folder NNN/ holds NNN.mid)")
    return read_midi(path)


def _moved_tick(tick: int, shift: int) -> int:
    """A file tick on the new axis: what sat at 0 (set-up) stays there; nothing goes
    before 0."""
    return 0 if tick == 0 else max(0, tick + shift)


def _shift_events(events: list[Event], shift: int) -> list[Event]:
    return [Event(_moved_tick(e.tick, shift), e.kind, e.params) for e in events]


def _shift_map(items: list, shift: int, make) -> list:
    """Shift a conductor map; entries pushed before tick 0 collapse onto it (last wins)."""
    by_tick: dict[int, object] = {}
    for item in sorted(items, key=lambda x: x.tick):
        tick = _moved_tick(item.tick, shift)
        by_tick[tick] = make(tick, item)
    return [by_tick[t] for t in sorted(by_tick)]


def _find_track(song: Song, name: str, song_dir: Path) -> Track:
    for t in song.tracks:
        if t.name.strip().upper() == name:
            return t
    raise Pop909Error(f"{song_dir}: no {name} track (found {[t.name for t in song.tracks]})")


def load_pop909_song(
    song_dir: str | Path, meters: tuple[str, ...] | None = None
) -> Song:
    """Read a POP909 song folder as a Song with annotated bar lines and four parts.

    Tracks, in order: "Melody" (role melody), "Bass" (role bass, GM 33), "Piano" (role
    piano, GM 0), "Strings" (role strings, GM 48), on channels 0-3. See the module notes
    for the time axis and bar-line rule and :func:`split_piano` for the split.
    ``meters``: the nominal meters accepted (e.g. ``("4/4",)``); another raises
    :class:`Pop909Error` naming the song's meter. ``None`` accepts all four.
    """
    song_dir = Path(song_dir)
    meter = pop909_meter(song_dir)
    if meters is not None and meter.label not in meters:
        raise Pop909Error(
            f"{song_dir}: song {meter.song_id} is in {meter.label}; "
            f"only {', '.join(meters)} supported"
        )
    raw = _read_file(song_dir)
    beats = load_pop909_beats(song_dir, raw)
    shift = beats.shift
    tpb = beats.ticks_per_beat
    scale = tpb / raw.ticks_per_beat

    def moved(notes: list[Note]) -> list[Note]:
        return [Note(n.pitch, n.start + shift, n.duration, n.velocity) for n in notes]

    melody = _find_track(raw, "MELODY", song_dir)
    bridge = _find_track(raw, "BRIDGE", song_dir)
    piano = _find_track(raw, "PIANO", song_dir)
    piano_events = _shift_events(piano.events, shift)
    bass_notes, chord_notes = split_piano(moved(piano.notes), piano_events, tpb)

    def part(name: str, role: str, channel: int, notes: list[Note], events: list[Event]):
        return Track(
            name=name,
            program=PROGRAMS[name],
            channel=channel,
            role=role,
            notes=sorted(notes, key=lambda n: (n.start, n.pitch)),
            events=sorted(events, key=lambda e: e.tick),
        )

    tracks = [
        part("Melody", "melody", 0, moved(melody.notes), _shift_events(melody.events, shift)),
        # The bass keeps only volume-like controllers; a bass guitar has no sustain pedal.
        part("Bass", "bass", 1, bass_notes,
             [e for e in piano_events if e.kind == "control_change" and e.get("control") == 7]),
        part("Piano", "piano", 2, chord_notes, piano_events),
        part("Strings", "strings", 3, moved(bridge.notes), _shift_events(bridge.events, shift)),
    ]
    return Song(
        ticks_per_beat=tpb,
        tempos=_shift_map(
            raw.tempos, shift, lambda t, x: TempoChange(t, max(1, round(x.us_per_beat * scale)))
        ) or [TempoChange(0, 500_000)],
        time_signatures=beats.time_signatures(),
        key_signatures=_shift_map(raw.key_signatures, shift, lambda t, x: KeySignature(t, x.key)),
        tracks=tracks,
        conductor_events=_shift_events(raw.conductor_events, shift),
        title=raw.title or song_dir.name,
    )
