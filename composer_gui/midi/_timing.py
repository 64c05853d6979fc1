"""Minimal tick -> seconds and bar counting for ``composer-gui info``.

Private on purpose: ``composer_gui.core.timing`` (written in parallel) is the real
home of this math; ``info`` can switch to it once it lands.
"""

from __future__ import annotations

from composer_gui.core.song import Song


def seconds_at(song: Song, tick: int) -> float:
    """Seconds from the start of the song to ``tick``, through the tempo map."""
    seconds = 0.0
    tpb = song.ticks_per_beat
    tempos = song.tempos or []
    prev_tick, us = 0, 500_000
    for tempo in tempos:
        if tempo.tick >= tick:
            break
        seconds += (tempo.tick - prev_tick) * us / (tpb * 1_000_000)
        prev_tick, us = tempo.tick, tempo.us_per_beat
    return seconds + (tick - prev_tick) * us / (tpb * 1_000_000)


def bars_until(song: Song, tick: int) -> int:
    """How many bars have begun before ``tick`` (a meter change starts a new bar)."""
    if tick <= 0:
        return 0
    meters = song.time_signatures or []
    bars = 0
    seg_start, num, den = 0, 4, 4
    for ts in meters:
        if ts.tick >= tick:
            break
        if ts.tick > seg_start:
            bars += _bars_in(ts.tick - seg_start, song.ticks_per_beat, num, den)
        seg_start, num, den = ts.tick, ts.numerator, ts.denominator
    return bars + _bars_in(tick - seg_start, song.ticks_per_beat, num, den)


def _bars_in(length: int, tpb: int, num: int, den: int) -> int:
    bar = tpb * 4 * num // den or 1
    return -(-length // bar)
