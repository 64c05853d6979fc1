"""Check the SMF reader against an independent parser (symusic), note by note.

Used by the dataset tests and ``benchmarks/sweep_datasets.py``. For every file the
notes' (pitch, onset tick) multiset must equal symusic's once the reader's documented
rules are accounted for (see :mod:`composer_gui.midi.smf`):

* notes still held at the end of a track: closed there by the reader, dropped by symusic;
* two notes of one pitch starting on one tick in a track: the reader keeps one
  (the no-overlap invariant), symusic keeps both.

Anything else is reported as a difference.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from composer_gui.midi.smf import ImportReport, read_midi_bytes


@dataclass
class CrossCheck:
    """The outcome for one file."""

    path: str
    notes: int = 0  # the reader's note count
    reference_notes: int = 0  # symusic's note count
    closed_at_track_end: int = 0
    dropped_same_start: int = 0
    zero_length: int = 0
    missing: list[tuple[int, int]] = field(default_factory=list)  # symusic has, we lack
    extra: list[tuple[int, int]] = field(default_factory=list)  # we have, symusic lacks
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.missing and not self.extra

    def describe(self) -> str:
        if self.error:
            return f"{self.path}: {self.error}"
        parts = [f"{self.path}: {self.notes} notes (symusic {self.reference_notes})"]
        if self.missing:
            parts.append(f"{len(self.missing)} missing, e.g. {self.missing[:5]}")
        if self.extra:
            parts.append(f"{len(self.extra)} extra, e.g. {self.extra[:5]}")
        return "; ".join(parts)


def cross_check(path: str | Path) -> CrossCheck:
    """Import ``path`` with the reader and with symusic and compare the notes."""
    import symusic

    path = Path(path)
    data = path.read_bytes()
    result = CrossCheck(str(path))
    report = ImportReport()
    song = read_midi_bytes(data, str(path), report)  # a MidiFileError propagates
    ours = Counter((n.pitch, n.start) for t in song.tracks for n in t.notes)
    result.notes = sum(ours.values())
    try:
        score = symusic.Score.from_midi(data)
    except Exception as exc:  # noqa: BLE001 - any failure of the reference is reported
        result.error = f"symusic cannot read it: {exc}"
        return result
    theirs = Counter((n.pitch, n.time) for t in score.tracks for n in t.notes)
    result.reference_notes = sum(theirs.values())
    result.closed_at_track_end = len(report.closed_at_track_end)
    result.dropped_same_start = len(report.dropped_same_start)
    result.zero_length = len(report.zero_length)
    expected = ours + Counter(report.dropped_same_start)
    expected.subtract(Counter(report.closed_at_track_end))
    diff = expected.copy()
    diff.subtract(theirs)
    result.extra = sorted(k for k, v in diff.items() if v > 0 for _ in range(v))
    result.missing = sorted(k for k, v in diff.items() if v < 0 for _ in range(-v))
    return result
