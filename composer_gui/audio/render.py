"""Offline rendering of a song to a WAV file (44.1 kHz, 16-bit, stereo).

Runs the same :class:`~composer_gui.audio.engine.Engine` as live playback, as fast as
the synthesizer goes (hundreds of times real time), so what you export is what you hear.
The file ends when the release tails have died away, at most 2 s after the last note-off.
"""

from __future__ import annotations

import os
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from composer_gui.audio.engine import Engine
from composer_gui.audio.mixer import Mixer, plan_channels
from composer_gui.audio.synth import SAMPLE_RATE, SoundFontSynth
from composer_gui.audio.timeline import build_timeline
from composer_gui.core.errors import UserError
from composer_gui.core.song import Song

__all__ = ["RenderInfo", "render_song", "render_wav", "write_wav"]

_BLOCK = 4096
_SILENCE = 10 ** (-80 / 20)  # -80 dBFS: below this the tail is cut
MAX_TAIL_S = 2.0


@dataclass(frozen=True, slots=True)
class RenderInfo:
    path: Path | None
    seconds: float
    render_seconds: float
    peak: float


def render_song(
    song: Song,
    mixer: Mixer | None = None,
    *,
    synth: SoundFontSynth | None = None,
    soundfont: str | os.PathLike[str] | None = None,
    progress=None,
) -> np.ndarray:
    """The whole song as float32 stereo frames (shape (n, 2)) at the synth's rate.

    ``progress(done_seconds, total_seconds)`` is called between blocks; it may raise to
    cancel. The result ends at most 2 s after the last note-off.
    """
    if song.note_count == 0:
        raise UserError("nothing to render: the song has no notes")
    synth = synth or SoundFontSynth(soundfont)
    synth.reset()
    timeline = build_timeline(song, plan_channels(song, own_channels=True))
    mixer = mixer or Mixer.from_song(song)
    engine = Engine(synth)
    engine.load(timeline)
    engine.set_mixer(mixer)
    engine.play(0.0)
    sr = synth.sample_rate
    last = int(np.ceil((timeline.end + MAX_TAIL_S) * sr))
    blocks = []
    done = 0
    while done < last:
        block = engine.render(min(_BLOCK, last - done))
        blocks.append(block)
        done += len(block)
        if progress is not None:
            progress(done / sr, last / sr)
        if not engine.state().playing and done >= timeline.end * sr:
            break
    audio = np.concatenate(blocks)
    # Cut the silent tail, but never before the last note-off.
    loud = np.flatnonzero(np.abs(audio).max(axis=1) > _SILENCE)
    keep = max(int(np.ceil(timeline.end * sr)), int(loud[-1]) + 1 if len(loud) else 0)
    return audio[: min(keep, last)]


def write_wav(path: str | os.PathLike[str], audio: np.ndarray, sample_rate: int = SAMPLE_RATE):
    """Write float stereo frames as a 16-bit PCM WAV file."""
    pcm = np.clip(np.round(audio * 32767.0), -32768, 32767).astype("<i2")
    try:
        with wave.open(str(path), "wb") as out:
            out.setnchannels(2)
            out.setsampwidth(2)
            out.setframerate(sample_rate)
            out.writeframes(pcm.tobytes())
    except OSError as exc:
        raise UserError(f"{path}: cannot write WAV file ({exc.strerror or exc})") from exc


def render_wav(
    song: Song,
    path: str | os.PathLike[str],
    mixer: Mixer | None = None,
    *,
    synth: SoundFontSynth | None = None,
    soundfont: str | os.PathLike[str] | None = None,
    progress=None,
) -> RenderInfo:
    """Render ``song`` to a WAV file at ``path``; returns length and timing."""
    synth = synth or SoundFontSynth(soundfont)
    t0 = time.perf_counter()
    audio = render_song(song, mixer, synth=synth, progress=progress)
    render_seconds = time.perf_counter() - t0
    write_wav(path, audio, synth.sample_rate)
    return RenderInfo(
        Path(path), len(audio) / synth.sample_rate, render_seconds, float(np.abs(audio).max())
    )
