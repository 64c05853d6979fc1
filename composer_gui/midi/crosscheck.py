"""Check the SMF reader against an independent parser (symusic), note by note.

Used by the dataset tests and ``benchmarks/sweep_datasets.py``. For every file the
multiset of notes, compared as (pitch, onset tick) and also exactly as (pitch, onset,
duration, velocity), must equal symusic's once the reader's documented rules (see
:mod:`composer_gui.midi.smf`) are undone:

* a note still held at the end of a track: closed there by the reader, dropped by symusic;
* two notes of one pitch starting on one tick in a track: the reader keeps one (the
  no-overlap invariant), symusic keeps both;
* a same-pitch overlap: the reader trims the earlier note, symusic keeps its length;
* a zero-length note: the reader gives it 1 tick, symusic keeps duration 0.

Anything else is reported as a difference.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from composer_gui.midi.smf import ImportReport, read_midi_bytes

NoteTuple = tuple[int, int, int, int]  # pitch, start, duration, velocity


@dataclass
class CrossCheck:
    """The outcome for one file."""

    path: str
    notes: int = 0  # the reader's note count
    reference_notes: int = 0  # symusic's note count
    closed_at_track_end: int = 0
    dropped_same_start: int = 0
    trimmed: int = 0
    zero_length: int = 0
    missing: list[NoteTuple] = field(default_factory=list)  # symusic has, the reader lacks
    extra: list[NoteTuple] = field(default_factory=list)  # the reader has, symusic lacks
    onsets_match: bool = False  # (pitch, onset) multisets equal after the documented rules
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Pitch, onset, duration and velocity all match after the documented rules."""
        return self.error is None and not self.missing and not self.extra

    def describe(self) -> str:
        if self.error:
            return f"{self.path}: {self.error}"
        parts = [f"{self.path}: {self.notes} notes (symusic {self.reference_notes})"]
        if not self.onsets_match:
            parts.append("pitch/onset differ")
        if self.missing:
            parts.append(f"{len(self.missing)} missing, e.g. {self.missing[:4]}")
        if self.extra:
            parts.append(f"{len(self.extra)} extra, e.g. {self.extra[:4]}")
        return "; ".join(parts)


def _onsets(notes: Counter) -> Counter:
    out: Counter = Counter()
    for (pitch, start, _d, _v), count in notes.items():
        out[pitch, start] += count
    return out


def cross_check(path: str | Path) -> CrossCheck:
    """Import ``path`` with the reader and with symusic and compare the notes."""
    import symusic

    path = Path(path)
    data = path.read_bytes()
    result = CrossCheck(str(path))
    report = ImportReport()
    song = read_midi_bytes(data, str(path), report)  # a MidiFileError propagates
    ours = Counter((n.pitch, n.start, n.duration, n.velocity) for t in song.tracks for n in t.notes)
    result.notes = sum(ours.values())
    try:
        score = symusic.Score.from_midi(data)
    except Exception as exc:  # noqa: BLE001 - any failure of the reference is reported
        result.error = f"symusic cannot read it: {exc}"
        return result
    theirs = Counter(
        (n.pitch, n.time, n.duration, n.velocity) for t in score.tracks for n in t.notes
    )
    result.reference_notes = sum(theirs.values())
    result.closed_at_track_end = len(report.closed_at_track_end)
    result.dropped_same_start = len(report.dropped_same_start)
    result.trimmed = len(report.trimmed)
    result.zero_length = len(report.zero_length)
    # Undo the documented rules on the reader's notes: what symusic should hold.
    expected = ours.copy()
    for before, after in report.trimmed:
        expected[after] -= 1
        expected[before] += 1
    expected.update(report.dropped_same_start)
    expected.subtract(report.closed_at_track_end)
    for pitch, start, _one, velocity in report.zero_length:
        expected[pitch, start, 1, velocity] -= 1
        expected[pitch, start, 0, velocity] += 1
    diff = expected.copy()
    diff.subtract(theirs)
    result.extra = sorted(k for k, v in diff.items() if v > 0 for _ in range(v))
    result.missing = sorted(k for k, v in diff.items() if v < 0 for _ in range(-v))
    onset_diff = _onsets(expected)
    onset_diff.subtract(_onsets(theirs))
    result.onsets_match = not any(onset_diff.values())
    return result
