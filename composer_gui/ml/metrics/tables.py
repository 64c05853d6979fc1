"""Tables of measures over many songs: per role, the mean of each measure, the data's
value next to the generated one, the targets a model must meet, and the markdown table of
a model card (numpy only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from composer_gui.ml.metrics.keys import estimate_key
from composer_gui.ml.metrics.rolls import BarSpec, TrackRoll
from composer_gui.ml.metrics.tracks import (
    EMPTY_BAR_RATE,
    IN_SCALE_RATE,
    MELODY_DOUBLING_RATE,
    METRIC_LABELS,
    QUALIFIED_NOTE_RATE,
    TONAL_DISTANCE,
    TONAL_DISTANCE_SHUFFLED,
    USED_PITCH_CLASSES,
    tonal_distance,
    track_metrics,
)

# Targets of the generator issue (item 7), shared by every shipped model.
EB_TOLERANCE = 0.10
UPC_TOLERANCE = 1.0
IN_SCALE_MAX_DROP = 0.05
DOUBLING_MAX_RISE = 0.10
QN_MINIMUM = 0.80

#: What each target asks, for the model card's table.
TARGET_TEXT: dict[str, str] = {
    EMPTY_BAR_RATE: f"within {EB_TOLERANCE:.2f} of data",
    USED_PITCH_CLASSES: f"within {UPC_TOLERANCE:.1f} of data",
    QUALIFIED_NOTE_RATE: f">= {QN_MINIMUM:.2f}",
    TONAL_DISTANCE: "<= midpoint of data and shuffled",
    IN_SCALE_RATE: f">= data - {IN_SCALE_MAX_DROP:.2f}",
    MELODY_DOUBLING_RATE: f"<= data + {DOUBLING_MAX_RISE:.2f}",
}


# --------------------------------------------------------------------------- many songs


@dataclass(frozen=True)
class SongRolls:
    """One song to measure: its melody and accompaniment tracks by role, all with the
    same number of steps, on one grid.

    ``key`` is a mido key name; None estimates it from the melody and all ``tracks``.
    To compare generated with real accompaniment on equal terms, give both the same key
    (for instance the one estimated on the real song). Roles in ``drum_roles`` get the
    drum metrics.
    """

    melody: TrackRoll
    tracks: Mapping[str, TrackRoll]
    steps_per_bar: BarSpec
    steps_per_beat: int
    key: str | None = None
    drum_roles: frozenset[str] = field(default_factory=frozenset)
    name: str = ""


def song_metrics(song: SongRolls) -> dict[str, dict[str, float]]:
    """:func:`track_metrics` for every track of a song, by role."""
    pitched = [track for role, track in song.tracks.items() if role not in song.drum_roles]
    key = song.key or estimate_key(song.melody, *pitched)
    return {
        role: track_metrics(
            track,
            steps_per_bar=song.steps_per_bar,
            steps_per_beat=song.steps_per_beat,
            melody=song.melody,
            key=key,
            is_drum=role in song.drum_roles,
        )
        for role, track in song.tracks.items()
    }


def _truncate(track: TrackRoll, steps: int) -> TrackRoll:
    if isinstance(track, tuple):
        return (np.asarray(track[0])[:steps], np.asarray(track[1])[:steps])
    return np.asarray(track)[:steps]


def _n_steps(track: TrackRoll) -> int:
    return int(np.shape(track[1] if isinstance(track, tuple) else track)[0])


def shuffled_tonal_distances(
    songs: Sequence[SongRolls], *, seed: int = 0
) -> list[dict[str, float]]:
    """For each song, by pitched role: TD between its melody and the same role's track
    of a different song (a baseline for unrelated accompaniment). The partner songs are
    a random cycle over the songs that have the role, fixed by ``seed``; the pair is cut
    to the shorter of the two and measured on the melody's bars. A role found in only
    one song gets no value."""
    rng = np.random.default_rng(seed)
    result: list[dict[str, float]] = [{} for _ in songs]
    roles = sorted({role for song in songs for role in song.tracks})
    for role in roles:
        having = [i for i, song in enumerate(songs) if role in song.tracks]
        having = [i for i in having if role not in songs[i].drum_roles]
        if len(having) < 2:
            continue
        cycle = [having[i] for i in rng.permutation(len(having))]
        for position, index in enumerate(cycle):
            song, other = songs[index], songs[cycle[(position + 1) % len(cycle)]]
            steps = min(_n_steps(song.melody), _n_steps(other.tracks[role]))
            result[index][role] = tonal_distance(
                _truncate(song.melody, steps),
                _truncate(other.tracks[role], steps),
                song.steps_per_bar,
            )
    return result


def aggregate_metrics(
    songs: Sequence[SongRolls], *, seed: int = 0, shuffled: bool = True
) -> dict[str, dict[str, float]]:
    """The table for a model card: per role, per metric, the mean over the songs where
    the metric is defined (``nan`` where it is defined for none). With ``shuffled``,
    also ``tonal_distance_shuffled``, the mean of :func:`shuffled_tonal_distances`."""
    collected: dict[str, dict[str, list[float]]] = {}
    for song in songs:
        for role, values in song_metrics(song).items():
            bucket = collected.setdefault(role, {})
            for name, value in values.items():
                bucket.setdefault(name, []).append(value)
    if shuffled:
        for per_song in shuffled_tonal_distances(songs, seed=seed):
            for role, value in per_song.items():
                collected[role].setdefault(TONAL_DISTANCE_SHUFFLED, []).append(value)
    table: dict[str, dict[str, float]] = {}
    for role, metrics in collected.items():
        table[role] = {}
        for name in METRIC_LABELS:
            if name in metrics:
                values = np.asarray(metrics[name], dtype=np.float64)
                values = values[~np.isnan(values)]
                table[role][name] = float(values.mean()) if values.size else float("nan")
    return table


# --------------------------------------------------------------------------- targets


def targets_met(
    data_table: Mapping[str, Mapping[str, float]],
    gen_table: Mapping[str, Mapping[str, float]],
) -> dict[str, dict[str, bool]]:
    """Per role of ``gen_table``, per metric with a target (:data:`TARGET_TEXT`): does
    the generated value meet the generator issue's target against the data's value?

    EB within 0.10 of the data; UPC within 1.0; in-scale at most 0.05 under the data;
    melody doubling at most 0.10 over the data; QN at least 0.80; TD to the melody at
    most the midpoint of the data's TD and the data's shuffled TD (the generated
    table's shuffled TD when the data table has none). A metric missing or ``nan`` on
    either side fails; metrics without a target (DP, polyphony) are left out.
    """
    return {role: _role_targets(data_table.get(role, {}), gen) for role, gen in gen_table.items()}


def _role_targets(data: Mapping[str, float], gen: Mapping[str, float]) -> dict[str, bool]:
    def value(table: Mapping[str, float], name: str) -> float:
        return float(table.get(name, float("nan")))

    shuffled = value(data, TONAL_DISTANCE_SHUFFLED)
    if np.isnan(shuffled):
        shuffled = value(gen, TONAL_DISTANCE_SHUFFLED)
    rules = {
        EMPTY_BAR_RATE: lambda g, d: abs(g - d) <= EB_TOLERANCE,
        USED_PITCH_CLASSES: lambda g, d: abs(g - d) <= UPC_TOLERANCE,
        QUALIFIED_NOTE_RATE: lambda g, d: g >= QN_MINIMUM,
        IN_SCALE_RATE: lambda g, d: g >= d - IN_SCALE_MAX_DROP,
        MELODY_DOUBLING_RATE: lambda g, d: g <= d + DOUBLING_MAX_RISE,
        TONAL_DISTANCE: lambda g, d: g <= (d + shuffled) / 2,
    }
    # Comparisons with nan are False, so a missing value fails its target.
    return {
        name: bool(rule(value(gen, name), value(data, name)))
        for name, rule in rules.items()
        if name in gen
    }


def _cell(value: float | None) -> str:
    if value is None:
        return ""
    return "n/a" if np.isnan(value) else f"{value:.3f}"


def format_table(
    data_table: Mapping[str, Mapping[str, float]],
    gen_table: Mapping[str, Mapping[str, float]] | None = None,
    *,
    roles: Sequence[str] | None = None,
) -> str:
    """A markdown table for a model card: ``track | metric | data | generated | target |
    met?``, one row per role and metric (roles in ``roles`` order, else the data
    table's). Without a generated table only the data column is printed."""
    roles = list(roles) if roles is not None else list(data_table)
    if gen_table is None:
        lines = ["| track | metric | data |", "|---|---|---:|"]
    else:
        lines = [
            "| track | metric | data | generated | target | met? |",
            "|---|---|---:|---:|---|---|",
        ]
        met = targets_met(data_table, gen_table)
    for role in roles:
        data = data_table.get(role, {})
        gen = gen_table.get(role, {}) if gen_table is not None else {}
        for name, label in METRIC_LABELS.items():
            if name not in data and name not in gen:
                continue
            if gen_table is None:
                lines.append(f"| {role} | {label} | {_cell(data.get(name))} |")
                continue
            verdict = met.get(role, {}).get(name)
            lines.append(
                f"| {role} | {label} | {_cell(data.get(name))} | {_cell(gen.get(name))} "
                f"| {TARGET_TEXT.get(name, '')} "
                f"| {'' if verdict is None else ('yes' if verdict else 'no')} |"
            )
    return "\n".join(lines) + "\n"
