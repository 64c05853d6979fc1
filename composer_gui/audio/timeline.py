"""A song as a time-sorted list of MIDI messages in seconds (through its tempo map).

Both players and the WAV render read a :class:`Timeline`. Volume and pan controllers
(7 and 10) are left out: the mixer owns them. Plain Python + numpy, no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composer_gui.audio.mixer import PAN_CC, VOLUME_CC, ChannelPlan
from composer_gui.core.song import DRUM_CHANNEL, Song
from composer_gui.core.timing import TimeMap

__all__ = ["Timeline", "build_timeline"]

# At one instant: note-offs first (so a repeated note is not cut by its predecessor's
# off), then controllers and program changes, then note-ons.
_ORDER_OFF, _ORDER_CTRL, _ORDER_ON = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Timeline:
    """Messages sorted by time.

    ``times`` (seconds from the song's start, float64) and ``messages`` (tuples of
    MIDI bytes) run in parallel; ``tracks`` gives each message's track index (-1 for
    the setup). ``setup`` holds the program changes that must be sent before playing
    from anywhere; ``end`` is when the last note ends (seconds).
    """

    times: np.ndarray
    messages: tuple[tuple[int, ...], ...]
    tracks: np.ndarray
    setup: tuple[tuple[int, ...], ...]
    plan: ChannelPlan
    time_map: TimeMap
    end: float

    def index_at(self, seconds: float) -> int:
        """The index of the first message at or after ``seconds``."""
        return int(np.searchsorted(self.times, seconds, side="left"))

    def tick_at(self, seconds: float) -> int:
        return self.time_map.seconds_to_tick(seconds)

    def seconds_at(self, tick: int) -> float:
        return self.time_map.tick_to_seconds(tick)


def _event_message(kind: str, channel: int, event) -> tuple[int, ...] | None:
    if kind == "control_change":
        control = int(event.get("control", 0))
        if control in (VOLUME_CC, PAN_CC):
            return None
        return (0xB0 | channel, control, int(event.get("value", 0)))
    if kind == "pitchwheel":
        value = int(event.get("pitch", 0)) + 8192
        return (0xE0 | channel, value & 0x7F, (value >> 7) & 0x7F)
    if kind == "program_change":
        return (0xC0 | channel, int(event.get("program", 0)))
    if kind == "aftertouch":
        return (0xD0 | channel, int(event.get("value", 0)))
    if kind == "polytouch":
        return (0xA0 | channel, int(event.get("note", 0)), int(event.get("value", 0)))
    return None


def build_timeline(song: Song, plan: ChannelPlan) -> Timeline:
    """All of ``song``'s notes and channel events on the channels ``plan`` gives."""
    tm = TimeMap.of(song)
    ticks: list[int] = []
    order: list[int] = []
    messages: list[tuple[int, ...]] = []
    track_ids: list[int] = []
    setup: list[tuple[int, ...]] = []
    for index, track in enumerate(song.tracks):
        channel = plan.channels[index]
        if channel != DRUM_CHANNEL:
            setup.append((0xC0 | channel, track.program & 0x7F))
        for note in track.notes:
            ticks += (note.start, note.end)
            order += (_ORDER_ON, _ORDER_OFF)
            messages += (
                (0x90 | channel, note.pitch, note.velocity),
                (0x80 | channel, note.pitch, 0),
            )
            track_ids += (index, index)
        for event in track.events:
            msg = _event_message(event.kind, channel, event)
            if msg is not None:
                ticks.append(event.tick)
                order.append(_ORDER_CTRL)
                messages.append(msg)
                track_ids.append(index)
    tick_arr = np.asarray(ticks, dtype=np.int64)
    keys = np.lexsort((np.asarray(order, dtype=np.int64), tick_arr))
    times = tm.ticks_to_seconds_array(tick_arr[keys]) if len(keys) else np.zeros(0)
    end_tick = max((n.end for t in song.tracks for n in t.notes), default=0)
    return Timeline(
        times=np.asarray(times, dtype=np.float64),
        messages=tuple(messages[i] for i in keys),
        tracks=np.asarray(track_ids, dtype=np.int64)[keys] if len(keys) else np.zeros(0, np.int64),
        setup=tuple(setup),
        plan=plan,
        time_map=tm,
        end=tm.tick_to_seconds(end_tick),
    )
