"""The mixer: per-track volume, pan, mute and solo, and a master volume.

One :class:`Mixer` drives playback through the built-in synthesizer, playback to a MIDI
port and the WAV render alike. It speaks MIDI: each track's level and pan become
controller 7 and 10 on the channel the track plays on, and a silent (muted, or not
soloed while another track is) track gets volume 0. Plain Python, no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from composer_gui.core.song import DRUM_CHANNEL, Song, Track

__all__ = ["TrackMix", "Mixer", "ChannelPlan", "plan_channels"]

VOLUME_CC = 7
PAN_CC = 10
DEFAULT_VOLUME = 100 / 127  # General MIDI's power-on volume
DEFAULT_MASTER = 1.0


@dataclass(frozen=True, slots=True)
class TrackMix:
    """One track's strip: ``volume`` 0..1, ``pan`` -1 (left) .. 1 (right)."""

    volume: float = DEFAULT_VOLUME
    pan: float = 0.0
    mute: bool = False
    solo: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "volume", min(1.0, max(0.0, float(self.volume))))
        object.__setattr__(self, "pan", min(1.0, max(-1.0, float(self.pan))))

    @property
    def volume_cc(self) -> int:
        return round(127 * self.volume)

    @property
    def pan_cc(self) -> int:
        # -1 -> 0, 0 -> 64, +1 -> 127 (64 is MIDI's centre)
        return min(127, max(0, round(64 + 63.5 * self.pan)))


def _first_cc(track: Track, number: int) -> int | None:
    first_note = track.notes[0].start if track.notes else None
    for event in track.events:
        if first_note is not None and event.tick > first_note:
            break
        if event.kind == "control_change" and event.get("control") == number:
            return int(event.get("value", 0))
    return None


@dataclass(slots=True)
class Mixer:
    """The strips of a song's tracks (by track index) and the master volume."""

    tracks: list[TrackMix] = field(default_factory=list)
    master: float = DEFAULT_MASTER

    @classmethod
    def from_song(cls, song: Song) -> Mixer:
        """Strips from the song: mute/solo flags, and the volume and pan a track sets
        before its first note (so a file's own mix is what plays by default)."""
        strips = []
        for track in song.tracks:
            vol = _first_cc(track, VOLUME_CC)
            pan = _first_cc(track, PAN_CC)
            strips.append(
                TrackMix(
                    volume=DEFAULT_VOLUME if vol is None else vol / 127,
                    pan=0.0 if pan is None else (pan - 64) / 63.5,
                    mute=track.muted,
                    solo=track.solo,
                )
            )
        return cls(strips)

    def strip(self, index: int) -> TrackMix:
        """Track ``index``'s strip (a default one beyond the list)."""
        return self.tracks[index] if 0 <= index < len(self.tracks) else TrackMix()

    def with_strip(self, index: int, **changes) -> Mixer:
        """A copy with one strip changed (the list grows as needed)."""
        strips = list(self.tracks)
        while len(strips) <= index:
            strips.append(TrackMix())
        strips[index] = replace(strips[index], **changes)
        return Mixer(strips, self.master)

    def audible(self, index: int) -> bool:
        """Whether a track is heard: not muted, and soloed if any track is."""
        strip = self.strip(index)
        if strip.mute:
            return False
        if any(s.solo for s in self.tracks):
            return strip.solo
        return True

    def gain(self, index: int) -> float:
        """A track's linear level with mute/solo applied (master not included)."""
        return self.strip(index).volume if self.audible(index) else 0.0


@dataclass(frozen=True, slots=True)
class ChannelPlan:
    """Which MIDI channel each track plays on, for one output."""

    channels: tuple[int, ...]  # by track index

    def channel_messages(self, mixer: Mixer, *, master_in_volume: bool = False):
        """The controller messages that put ``mixer`` into effect (one pair per channel).

        With several tracks on one channel the last one listed wins; the built-in
        synthesizer gives each track its own channel, so there this never happens.
        ``master_in_volume`` folds the master volume into each channel's volume (for
        MIDI ports, which have no master).
        """
        out = []
        for index, channel in enumerate(self.channels):
            strip = mixer.strip(index)
            level = mixer.gain(index) * (mixer.master if master_in_volume else 1.0)
            out.append((0xB0 | channel, VOLUME_CC, min(127, round(127 * level))))
            out.append((0xB0 | channel, PAN_CC, strip.pan_cc))
        return out


def plan_channels(song: Song, *, own_channels: bool) -> ChannelPlan:
    """Channels for the song's tracks.

    ``own_channels=False`` (a MIDI port): each track's own channel. ``own_channels=True``
    (the built-in synthesizer): drum tracks on channel 10, every other track on a channel
    of its own, so per-track volume and pan never collide; past 15 such tracks channels
    are shared in turn.
    """
    if not own_channels:
        return ChannelPlan(tuple(DRUM_CHANNEL if t.is_drum else t.channel for t in song.tracks))
    free = [c for c in range(16) if c != DRUM_CHANNEL]
    channels = []
    k = 0
    for track in song.tracks:
        if track.is_drum or track.channel == DRUM_CHANNEL:
            channels.append(DRUM_CHANNEL)
        else:
            channels.append(free[k % len(free)])
            k += 1
    return ChannelPlan(tuple(channels))
