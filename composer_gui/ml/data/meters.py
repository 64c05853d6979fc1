"""Meter-aware bar positions for models whose config sets ``meter_aware`` (numpy only).

The plain position features (:func:`composer_gui.ml.data.encoding.position_features`) count steps
from each bar line and mark quarter-note beats. That cannot tell a 3/4 bar from a 6/8 bar
(both 12 steps at 4 steps per quarter) nor mark a jig's dotted-quarter beats, and a pickup
written as a short first bar (a 1/4 bar before 4/4) would look like a downbeat. With
``meter_aware`` a model gets, after the plain features:

* a one-hot of the bar's meter over ``config.meters``,
* a "main beat" flag on the meter's own beats: dotted quarters in compound meters (6/8,
  9/8, 12/8), halves in x/2, quarters in x/4, eighths in other x/8 meters;

and bars are read leniently, as a musician reads them:

* a first bar shorter than the second is a *pickup*: its steps are positioned as the end
  of a whole bar of the second bar's meter (as training data padded with rests shows
  it), whatever meter the file wrote for it;
* any later bar of a meter the model does not know that is shorter than the bar before
  it is a partial bar of that bar's meter (e.g. a short last bar), counted from its start.

Models without ``meter_aware`` (the chorale model) keep exactly the plain features and
the strict meter check, so their output does not change.
"""

from __future__ import annotations

import numpy as np

from composer_gui.ml.data.encoding import position_features


def meter_steps(meter: str, steps_per_beat: int) -> int:
    """Steps in a whole bar of ``meter`` ("N/D") at ``steps_per_beat`` per quarter."""
    num, den = (int(x) for x in meter.split("/"))
    return num * 4 * steps_per_beat // den


def main_beat_steps(meter: str, steps_per_beat: int) -> int:
    """Steps of the meter's counted beat (see the module docstring)."""
    num, den = (int(x) for x in meter.split("/"))
    quarter = steps_per_beat
    if den == 8 and num % 3 == 0 and num > 3:
        return max(1, quarter * 3 // 2)
    return max(1, quarter * 4 // den)


def extra_features(config) -> int:
    """How many features ``meter_aware`` adds to the plain ones."""
    return len(config.meters) + 1 if getattr(config, "meter_aware", False) else 0


def feature_bars(bar_starts: np.ndarray, bar_meters: list[str], n_steps: int, config
                 ) -> tuple[np.ndarray, list[str]]:
    """Bar starts and meters as the features see them (pickup and partial bars read as
    parts of a known meter; see the module docstring). Unchanged without
    ``meter_aware``."""
    starts = np.asarray(bar_starts, dtype=np.int64).copy()
    meters = list(bar_meters)
    if not getattr(config, "meter_aware", False) or len(starts) == 0:
        return starts, meters
    spb = config.steps_per_beat
    ends = np.append(starts[1:], max(n_steps, int(starts[-1]) + 1))
    lengths = ends - starts
    if len(starts) > 1 and meters[1] in config.meters:
        full = meter_steps(meters[1], spb)
        if lengths[0] < full:
            starts[0] = starts[1] - full
            meters[0] = meters[1]
    for i in range(1, len(starts)):
        if meters[i] not in config.meters and meters[i - 1] in config.meters \
                and lengths[i] < meter_steps(meters[i - 1], spb):
            meters[i] = meters[i - 1]
    return starts, meters


def unsupported_bars(bar_starts: np.ndarray, bar_meters: list[str], n_steps: int, config
                     ) -> list[tuple[int, str]]:
    """(0-based bar, meter) of every bar the model cannot place."""
    _, meters = feature_bars(bar_starts, bar_meters, n_steps, config)
    return [(i, bar_meters[i]) for i, m in enumerate(meters) if m not in config.meters]


def beat_groups(meter: str) -> list[int]:
    """How a bar of ``meter`` ("N/D") groups its N beats of 1/D, as a musician counts a
    meter a model has not seen: compound meters in threes (6/8 = 3+3, 12/8 = 3+3+3+3),
    quarters and halves in fours and threes (5/4 = 3+2, 7/4 = 4+3, 6/4 = 3+3), eighths
    and sixteenths in twos with a three at the end (7/8 = 2+2+3, 5/8 = 2+3)."""
    num, den = (int(x) for x in meter.split("/"))
    if num <= (4 if den <= 4 else 3):
        return [num]
    if num % 3 == 0:
        return [3] * (num // 3)
    if den <= 4:
        if num == 5:
            return [3, 2]
        groups, rest = [], num
        while rest > 4:
            take = 3 if rest - 4 == 1 else 4
            groups.append(take)
            rest -= take
        return groups + [rest]
    if num % 2 == 0:
        return [2] * (num // 2)
    return [2] * ((num - 3) // 2) + [3]


def known_beats(bar_starts: np.ndarray, bar_meters: list[str], n_steps: int, config
                ) -> tuple[np.ndarray, list[str]]:
    """The bars as a model can play them when it has not seen some of them (generation
    only; training keeps to the meters it knows).

    Bars read as :func:`feature_bars` reads them; then every bar the model still cannot
    place is split into its :func:`beat_groups`, each labelled with a meter the model
    knows: one exactly as long where there is one, else the shortest longer one, read as
    a bar cut short (a group longer than every known bar is cut into known bars). A first
    bar shorter than the one after it stays a pickup: the end of a bar of the next bar's
    meter. The result is final: give it to :func:`window_position_features` with
    ``lenient=False``."""
    starts, meters = feature_bars(bar_starts, bar_meters, n_steps, config)
    unplaced = [i for i, m in enumerate(meters) if m not in config.meters]
    if not unplaced:
        return starts, meters
    spb = config.steps_per_beat
    known = sorted((meter_steps(m, spb), m) for m in config.meters)
    ends = np.append(starts[1:], max(n_steps, int(starts[-1]) + 1))
    out_starts: list[int] = []
    out_meters: list[str] = []
    first_groups = 0
    for i, (start, end, meter) in enumerate(zip(starts.tolist(), ends.tolist(), meters)):
        if meter in config.meters:
            out_starts.append(start)
            out_meters.append(meter)
            continue
        den = int(meter.split("/")[1])
        unit = 4 * spb / den
        pos = start
        for group in beat_groups(meter):
            if pos >= end:
                break
            length = min(max(1, int(round(group * unit))), end - pos)
            while length > 0:
                exact = [m for steps, m in known if steps == length]
                longer = [m for steps, m in known if steps > length]
                label = exact[0] if exact else (longer[0] if longer else known[-1][1])
                take = min(length, meter_steps(label, spb))
                out_starts.append(pos)
                out_meters.append(label)
                pos += take
                length -= take
                first_groups += i == 0
        if pos < end:  # a bar longer than its meter says: the rest as one more cut bar
            out_starts.append(pos)
            out_meters.append(out_meters[-1])
    out = np.array(out_starts, dtype=np.int64)
    if (0 in unplaced and first_groups == 1 and len(starts) > 1
            and ends[0] - starts[0] < ends[1] - starts[1]):
        out[0] = out[1] - meter_steps(out_meters[1], spb)  # a pickup
        out_meters[0] = out_meters[1]
    return out, out_meters


def window_position_features(config, bar_starts: np.ndarray, bar_meters: list[str],
                             n_steps: int, song_steps: int | None = None, offset: int = 0,
                             lenient: bool = True) -> np.ndarray:
    """Position features ``[n_steps, config.position_features]`` of steps
    ``offset .. offset+n_steps`` of a song with these bars (read as :func:`feature_bars`
    reads them; ``lenient=False``: as they are, e.g. the output of :func:`known_beats`)."""
    total = song_steps if song_steps is not None else offset + n_steps
    if lenient:
        starts, meters = feature_bars(bar_starts, bar_meters, total, config)
    else:
        starts, meters = np.asarray(bar_starts, dtype=np.int64), list(bar_meters)
    plain = position_features(starts, n_steps, config.steps_per_beat, config.max_bar_steps,
                              song_steps=song_steps, offset=offset)
    if not getattr(config, "meter_aware", False):
        return plain
    extra = np.zeros((n_steps, extra_features(config)), dtype=np.float32)
    steps = np.arange(offset, offset + n_steps)
    idx = np.clip(np.searchsorted(starts, steps, side="right") - 1, 0, len(starts) - 1)
    in_bar = steps - starts[idx]
    index = {m: k for k, m in enumerate(config.meters)}
    rows = np.arange(n_steps)
    meter_col = np.array([index.get(meters[i], -1) for i in idx])
    known = meter_col >= 0
    extra[rows[known], meter_col[known]] = 1.0
    beat = np.array([main_beat_steps(m, config.steps_per_beat) if m in index else
                     config.steps_per_beat for m in meters])
    extra[:, -1] = (in_bar % beat[idx]) == 0
    return np.concatenate([plain, extra], axis=1)
