"""Keys: Krumhansl-Schmuckler key estimation, scales and the in-scale rate (numpy only)."""

from __future__ import annotations

import numpy as np

from composer_gui.ml.metrics.rolls import TrackRoll, notes_from_roll, pitch_class_counts, sounding

# --------------------------------------------------------------------------- keys

_NOTE_NAMES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
#: Natural minor plus the raised seventh (the leading tone of harmonic minor), which
#: minor-key music uses at every cadence; leaving it out would count most V chords as
#: out of key.
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10, 11)

# Krumhansl & Kessler (1982) probe-tone profiles, tonic first.
_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
_MAJOR_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MINOR_NAMES = ("Cm", "C#m", "Dm", "Ebm", "Em", "Fm", "F#m", "Gm", "G#m", "Am", "Bbm", "Bm")


def _zscores(profile: np.ndarray) -> np.ndarray:
    """``profile`` rotated to each of the 12 tonics (row t: tonic t), as z-scores."""
    rows = np.stack([np.roll(profile, tonic) for tonic in range(12)])
    return (rows - rows.mean(axis=1, keepdims=True)) / rows.std(axis=1, keepdims=True)


#: Rows 0-11: the major keys C..B; rows 12-23: the minor keys.
_KK_ZSCORES = np.concatenate([_zscores(_KK_MAJOR), _zscores(_KK_MINOR)])


def parse_key(name: str) -> tuple[int, bool]:
    """(tonic pitch class, is_minor) of a mido key name such as ``"F#m"``, ``"Bb"``."""
    text = name.strip()
    if not text or text[0].upper() not in _NOTE_NAMES:
        raise ValueError(f"not a key name: {name!r}")
    tonic = _NOTE_NAMES[text[0].upper()]
    rest = text[1:]
    if rest[:1] in ("#", "b"):
        tonic += 1 if rest[0] == "#" else -1
        rest = rest[1:]
    if rest not in ("", "m"):
        raise ValueError(f"not a key name: {name!r}")
    return tonic % 12, rest == "m"


def scale_pitch_classes(key: str) -> frozenset[int]:
    """The pitch classes of a key's scale: major, or minor as in :data:`MINOR_SCALE`."""
    tonic, minor = parse_key(key)
    return frozenset((tonic + step) % 12 for step in (MINOR_SCALE if minor else MAJOR_SCALE))


def estimate_key(*tracks: TrackRoll) -> str:
    """The Krumhansl-Schmuckler key of some tracks together (e.g. the melody and the
    accompaniment): the major or minor key whose Krumhansl-Kessler profile correlates
    best with the tracks' duration-weighted pitch-class histogram. Returns a mido key
    name (``"C"``, ``"F#m"`` ...); ``"C"`` for silence."""
    histogram = np.zeros(12)
    for track in tracks:
        histogram += pitch_class_counts(sounding(track)).sum(axis=0)
    return key_of_chroma(histogram)


def key_of_chroma(histogram: np.ndarray) -> str:
    """The Krumhansl-Schmuckler key of a 12-bin pitch-class histogram (index 0 = C), as
    :func:`estimate_key` finds it; ``"C"`` for an empty histogram."""
    histogram = np.asarray(histogram, dtype=np.float64)
    if not histogram.any():
        return "C"
    # Pearson's r with each of the 24 profiles at once: the mean product of z-scores
    centred = histogram - histogram.mean()
    spread = np.sqrt((centred ** 2).mean())
    if spread == 0:  # a flat histogram correlates with nothing
        return _MAJOR_NAMES[0]
    scores = _KK_ZSCORES @ (centred / spread) / 12
    best = int(np.argmax(scores))
    return _MAJOR_NAMES[best] if best < 12 else _MINOR_NAMES[best - 12]


def in_scale_rate(track: TrackRoll, key: str) -> float:
    """The share of the track's notes whose pitch class is in ``key``'s scale
    (see :func:`scale_pitch_classes`). ``nan`` for a track with no notes."""
    notes = notes_from_roll(track)
    if notes.shape[0] == 0:
        return float("nan")
    scale = np.zeros(12, dtype=bool)
    scale[list(scale_pitch_classes(key))] = True
    return float(np.mean(scale[notes[:, 0] % 12]))
