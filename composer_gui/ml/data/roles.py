"""Which track of a song is the melody, and which track plays each of the model's parts.

Melody track, in this order: the override index; a track whose role is "melody"; a
track whose name contains one of the config's melody aliases; otherwise the heuristic:
among tracks that are mostly monophonic (at most 25% of note starts overlap another
note), the one with the highest mean pitch (any track when none is monophonic).

Accompaniment roles, each in the config's order: a track with that role; a track whose
name contains one of the role's aliases; for drum roles a drum track; then the
remaining pitched tracks by nearest mean pitch to the role's register. A single chordal
track stands for both the chords and the bass (:func:`bass_from_chords`).
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np

from composer_gui.core.song import Song, Track
from composer_gui.ml.errors import DataError
from composer_gui.ml.model.config import ModelConfig


def _mean_pitch(track: Track) -> float:
    return float(np.mean([n.pitch for n in track.notes])) if track.notes else 0.0


def _overlap_share(track: Track) -> float:
    """Share of note starts that fall inside another note of the track."""
    notes = sorted(track.notes, key=lambda n: n.start)
    if len(notes) < 2:
        return 0.0
    overlapping = 0
    latest_end = -1
    for n in notes:
        if n.start < latest_end:
            overlapping += 1
        latest_end = max(latest_end, n.end)
    return overlapping / len(notes)


def find_melody(song: Song, config: ModelConfig, override: int | None = None) -> int:
    """Index of the melody track (see the module docstring for the order)."""
    if override is not None:
        if not 0 <= override < len(song.tracks):
            raise DataError(f"melody track {override} does not exist ({len(song.tracks)} tracks)")
        return override
    candidates = [i for i, t in enumerate(song.tracks) if t.notes and not t.is_drum]
    if not candidates:
        raise DataError("no melody-like track (no pitched track with notes)")
    for i in candidates:
        if song.tracks[i].role == "melody":
            return i
    for alias in config.melody_aliases:
        for i in candidates:
            if alias in song.tracks[i].name.lower():
                return i
    mono = [i for i in candidates if _overlap_share(song.tracks[i]) <= 0.25] or candidates
    return max(mono, key=lambda i: _mean_pitch(song.tracks[i]))


def _fixed_roles(song: Song, config: ModelConfig, melody: int,
                 overrides: dict[str, int]) -> dict[int, int]:
    """Role index -> track index from a mapping's ``roles`` (keys: role name or role)."""
    fixed: dict[int, int] = {}
    for key, track in overrides.items():
        k = next((k for k, spec in enumerate(config.roles)
                  if key.lower() in (spec.name.lower(), spec.role.lower())), None)
        if k is None:
            raise DataError(f"the mapping names role {key!r}; this model's roles are "
                            f"{', '.join(r.name for r in config.roles)}")
        if not 0 <= track < len(song.tracks):
            raise DataError(f"role {key}: track {track} does not exist ({len(song.tracks)} tracks)")
        if track == melody:
            raise DataError(f"role {key}: track {track} is the melody track")
        if track in fixed.values():
            raise DataError(f"role {key}: track {track} is given to two roles")
        fixed[k] = track
    return fixed


def assign_roles(song: Song, config: ModelConfig, melody: int,
                 overrides: dict[str, int] | None = None) -> list[int | None]:
    """Track index for each of the config's roles (None when no track fits);
    ``overrides`` (role name or role -> track index) are taken first, as given."""
    fixed = _fixed_roles(song, config, melody, overrides or {})
    free = [i for i, t in enumerate(song.tracks)
            if i != melody and t.notes and i not in fixed.values()]
    out: list[int | None] = [fixed.get(k) for k in range(config.tracks)]

    def take(k: int, i: int) -> None:
        out[k] = i
        free.remove(i)

    for k, spec in enumerate(config.roles):
        hit = next((i for i in free if song.tracks[i].role == spec.role), None)
        if hit is not None and out[k] is None:
            take(k, hit)
    for k, spec in enumerate(config.roles):
        if out[k] is not None:
            continue
        for alias in spec.aliases:
            hit = next((i for i in free if alias in song.tracks[i].name.lower()), None)
            if hit is not None:
                take(k, hit)
                break
    for k, spec in enumerate(config.roles):
        if out[k] is None and spec.is_drum:
            hit = next((i for i in free if song.tracks[i].is_drum or song.tracks[i].channel == 9), None)
            if hit is not None:
                take(k, hit)
    # register: remaining pitched roles take the remaining pitched tracks, closest first
    pairs = [
        (abs(_mean_pitch(song.tracks[i]) - spec.register), k, i)
        for k, spec in enumerate(config.roles)
        if out[k] is None and not spec.is_drum
        for i in free
        if not song.tracks[i].is_drum
    ]
    for _, k, i in sorted(pairs):
        if out[k] is None and i in free:
            take(k, i)
    return out


def bass_from_chords(song: Song, config: ModelConfig,
                     roles: list[int | None]) -> tuple[Song, list[int | None]]:
    """Many users' tunes have one accompaniment track (chords with the bass in them) where
    the model writes a chord part and a bass part: when the bass role has no track of its
    own and a single chordal track was found for the chords (or piano) role or the bass
    role, that track plays the chords and its lowest voice becomes the bass, as the
    Nottingham reader does. Otherwise the song and roles come back unchanged."""
    bass = next((k for k, s in enumerate(config.roles) if s.role == "bass"), None)
    chords = next((k for k, s in enumerate(config.roles) if s.role in ("chords", "piano")), None)
    if bass is None or chords is None:
        return song, roles
    if roles[bass] is not None and roles[chords] is not None:
        return song, roles
    source = roles[chords] if roles[chords] is not None else roles[bass]
    if source is None:
        return song, roles
    notes = song.tracks[source].notes
    starts = Counter(n.start for n in notes)
    if sum(1 for v in starts.values() if v >= 2) < 0.3 * max(1, len(starts)):
        return song, roles  # a single line is no chord part
    from composer_gui.ml.data.sources.nottingham import lowest_voice

    spec = config.roles[bass]
    derived = Track(name=spec.name, program=spec.program, channel=spec.channel,
                    role=spec.role, notes=lowest_voice(notes))
    out = dataclasses.replace(song, tracks=[*song.tracks, derived])
    roles = list(roles)
    roles[chords], roles[bass] = source, len(song.tracks)
    return out, roles
