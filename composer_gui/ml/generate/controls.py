"""What the app's generation panel needs beyond :class:`~composer_gui.ml.generate.sample.Composer`.

* :class:`Watched` wraps a network so that every call first checks a cancel flag and
  reports progress: the worker can stop a generation between windows (within one
  forward pass) without changes to the sampler.
* :func:`shape_tracks`: the musical knobs applied to decoded candidates. *density*
  (0 sparser .. 0.5 as generated .. 1 busier) thins off-beat notes and fills the gaps
  legato, or splits long notes into repeated beats / half-beats; *dynamics* (0 flat ..
  1 strong) spreads velocities with bar and beat accents and a phrase arc.
* :func:`reference_scores`: the critic's scores of real validation windows of the
  model's training data, computed once per model and cached in the user cache folder,
  so a candidate's score can be shown as a percentile ("how real the conductor judged
  this") instead of a raw number.

Drum tracks pass :func:`shape_tracks` unchanged: the drum sub-model of a style with drums
(pop) is given density and dynamics itself, by :meth:`Composer.compose`.

Torch is imported lazily, as everywhere in ``composer_gui.ml``.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from composer_gui.core.song import Note, Song, Track, normalize_notes
from composer_gui.launch import package_root

REFERENCE_VERSION = 1


def generation_threads() -> int:
    """Torch CPU threads for generation in the app: one core is left to the GUI thread
    (on two cores, two torch threads plus the event loop made the window stutter, and one
    thread was also faster there: 72 ms against 250-520 ms for 8 bars)."""
    import os

    return max(1, (os.cpu_count() or 2) - 1)


class Cancelled(Exception):
    """The user cancelled the generation (raised from inside a network call)."""


class Watched:
    """A callable stand-in for a network: checks ``cancel`` before each call and calls
    ``on_call()`` after it. Attribute access (``.to``, ``.eval`` ...) goes to the net."""

    def __init__(self, net, cancel: threading.Event, on_call: Callable[[], None]):
        self.net = net
        self._cancel = cancel
        self._on_call = on_call

    def __call__(self, *args, **kwargs):
        if self._cancel.is_set():
            raise Cancelled()
        out = self.net(*args, **kwargs)
        self._on_call()
        if self._cancel.is_set():
            raise Cancelled()
        return out

    def __getattr__(self, name):
        return getattr(self.net, name)


def network_calls(composer, song: Song) -> int:
    """How many network calls :meth:`Composer.compose` makes on ``song`` (the generator
    once per window, the critic once per scoring window): the progress bar's length."""
    from composer_gui.pianoroll.grid import song_grid

    grid = song_grid(song, composer.config.steps_per_beat)
    t = composer.config.window_steps
    return len(composer._windows(grid)) + -(-grid.n_steps // t)


# ----- density and dynamics ---------------------------------------------------------------
def _bar_ticks(song: Song) -> np.ndarray:
    """Bar start ticks of ``song`` (from the meter map) up to its end and a bit."""
    sigs = sorted(song.time_signatures, key=lambda s: s.tick)
    tpb = song.ticks_per_beat
    if not sigs or sigs[0].tick > 0:
        from composer_gui.core.song import TimeSignature

        sigs = [TimeSignature(0, 4, 4), *sigs]
    end = song.end_tick + 8 * tpb
    starts: list[int] = []
    for i, sig in enumerate(sigs):
        seg_end = sigs[i + 1].tick if i + 1 < len(sigs) else end
        length = sig.numerator * tpb * 4 // sig.denominator
        tick = sig.tick
        while tick < seg_end:
            starts.append(tick)
            tick += max(1, length)
    return np.array(starts, dtype=np.int64)


def shape_tracks(tracks: Sequence[Track], song: Song, density: float = 0.5,
                 dynamics: float = 0.5, seed: int = 0) -> list[Track]:
    """Copies of ``tracks`` with density and dynamics applied (see the module docstring).
    ``song`` gives the meter and resolution. 0.5 / 0.5 changes only velocities' accents."""
    rng = np.random.default_rng(seed + 7919)
    bars = _bar_ticks(song)
    beat = song.ticks_per_beat
    out = []
    for track in tracks:
        if track.is_drum:
            # the drum sub-model plays density and dynamics itself (Composer.compose)
            out.append(track.copy())
            continue
        notes = list(track.notes)
        if notes:
            notes = _apply_density(notes, density, beat, rng)
        notes = _apply_dynamics(notes, dynamics, bars, beat)
        copy = track.copy()
        copy.notes = normalize_notes(notes)
        out.append(copy)
    return out


def _apply_density(notes: list[Note], density: float, beat: int,
                   rng: np.random.Generator) -> list[Note]:
    density = float(np.clip(density, 0.0, 1.0))
    if density > 0.5:
        # busier: long notes become repeated notes of a beat (above 0.75: half a beat)
        unit = beat if density <= 0.75 else beat // 2
        chance = (density - 0.5) * 2
        out = []
        for n in notes:
            if n.duration >= 2 * unit and rng.random() < chance:
                for k in range(n.duration // unit):
                    length = unit if (k + 1) * unit < n.duration else n.duration - k * unit
                    out.append(Note(n.pitch, n.start + k * unit, max(1, length), n.velocity))
            else:
                out.append(n)
        return out
    if density < 0.5:
        # sparser: drop off-beat notes, then hold the remaining ones legato over the gap
        chance = (0.5 - density) * 2
        kept = [n for n in notes
                if n.start % beat == 0 or rng.random() >= chance]
        if not kept:
            return notes
        onsets = sorted({n.start for n in kept})
        out = []
        for n in kept:
            i = int(np.searchsorted(onsets, n.end))
            nxt = onsets[i] if i < len(onsets) else n.end
            gap = nxt - n.end
            out.append(n.replace(duration=n.duration + gap) if 0 < gap <= 2 * beat else n)
        return out
    return notes


def _apply_dynamics(notes: list[Note], dynamics: float, bars: np.ndarray,
                    beat: int) -> list[Note]:
    """Velocities: base +- accents scaled by ``dynamics``: bar downbeats up, off-beats
    down, and a rise-and-fall over each four-bar phrase. Vectorised: one numpy pass per
    track (a per-note loop here was the longest GIL hold of a generation)."""
    if not notes:
        return notes
    amount = float(np.clip(dynamics, 0.0, 1.0))
    starts = np.fromiter((n.start for n in notes), np.int64, len(notes))
    vel = np.fromiter((n.velocity for n in notes), np.float64, len(notes))
    bar = np.maximum(0, np.searchsorted(bars, starts, side="right") - 1)
    offset = starts - bars[bar]
    accent = np.where(offset == 0, 18.0, np.where(offset % beat == 0, 6.0, -10.0))
    phrase = np.sin(np.pi * ((bar % 4) + offset / max(1, beat * 4)) / 4.0)  # 0..1..0
    change = amount * (accent + 14 * (phrase - 0.5))
    base = vel if amount >= 0.5 else vel + (0.5 - amount) * 2 * (80 - vel)
    new = np.clip(np.round(base + change), 1, 127).astype(int).tolist()
    return [Note(n.pitch, n.start, n.duration, v) for n, v in zip(notes, new)]


# ----- the critic's view of real music ------------------------------------------------------
def _weights_key(folder: Path) -> str:
    weights = folder / "model.safetensors"
    stat = weights.stat()
    text = f"{folder.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{REFERENCE_VERSION}"
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def reference_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("composer-gui")) / "critic_reference"


def training_data_dir(config) -> Path | None:
    """The model's training folder if it is on this machine (the config records it)."""
    data = config.training.get("data") if config.training else None
    if not data:
        return None
    path = Path(data).expanduser()
    candidates = [path]
    if not path.is_absolute():
        # relative paths in the shipped cards are from a checkout's root
        candidates += [Path(package_root()) / path, Path.cwd() / path]
    return next((p for p in candidates if p.is_dir()), None)


#: Critic scores of real validation windows shipped in a model's folder, so the "how real"
#: percentile works where the training data is not (most users' machines).
REFERENCE_NAME = "reference_scores.json"


def _weights_digest(folder: Path) -> str:
    return hashlib.sha256((Path(folder) / "model.safetensors").read_bytes()).hexdigest()


def shipped_reference(folder: Path) -> np.ndarray | None:
    """The scores in the model folder's :data:`REFERENCE_NAME` when they were computed for
    exactly these weights (SHA-256 of ``model.safetensors``); None otherwise."""
    path = Path(folder) / REFERENCE_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("weights_sha256") != _weights_digest(folder):
            return None
        scores = np.sort(np.asarray(data["scores"], dtype=np.float64))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return scores if scores.size else None


def write_shipped_reference(composer, data_dir: Path | None = None,
                            max_windows: int = 256) -> Path:
    """Score the real validation windows of the model's training data with its critic and
    store them in the model folder (for shipping). Raises ValueError without the data."""
    folder = data_dir if data_dir is not None else training_data_dir(composer.config)
    scores = reference_scores(composer, folder, cache_dir=Path(tempfile.mkdtemp()),
                              max_windows=max_windows, use_shipped=False)
    if scores is None:
        raise ValueError(f"{composer.folder}: its training data is not on this machine")
    path = Path(composer.folder) / REFERENCE_NAME
    path.write_text(json.dumps({
        "weights_sha256": _weights_digest(composer.folder), "data": str(folder),
        "windows": int(scores.size), "scores": [round(float(x), 5) for x in scores],
    }) + "\n", encoding="utf-8")
    return path


def reference_scores(composer, data_dir: Path | None = None, cache_dir: Path | None = None,
                     max_windows: int = 256, use_shipped: bool = True) -> np.ndarray | None:
    """The critic's scores of real validation windows (sorted), or None when the model's
    training data is not on this machine and its folder ships none for these weights
    (:func:`shipped_reference`). Cached per model (weights size and time)."""
    from composer_gui.ml.data import dataset as mldata
    from composer_gui.ml.data.windows import fixed_windows
    info = getattr(composer, "conductor_info", None)
    if info and info.get("reference"):  # the conductor's, of validation songs it never saw
        return np.sort(np.asarray(info["reference"], dtype=np.float64))
    cache_dir = reference_cache_dir() if cache_dir is None else cache_dir
    key = _weights_key(composer.folder)
    cached = cache_dir / f"{key}.json"
    if cached.is_file():
        try:
            return np.array(json.loads(cached.read_text(encoding="utf-8"))["scores"])
        except (ValueError, KeyError, OSError):
            pass
    shipped = shipped_reference(composer.folder) if use_shipped else None
    if shipped is not None:
        return shipped
    folder = data_dir if data_dir is not None else training_data_dir(composer.config)
    if folder is None or not folder.is_dir():
        return None
    config = composer.config
    songs = []
    for path in mldata.find_midi_files(folder):
        if not mldata.is_validation(path):
            continue
        try:
            arrays, _hit = mldata.load_file(path, config, None)
        except Exception:  # noqa: BLE001 - a bad file only narrows the reference
            continue
        songs.append(arrays)
    if not songs:
        return None
    try:
        batch = fixed_windows(songs, config)
    except mldata.DataError:
        return None
    scores = _critic_scores(composer, batch, max_windows)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_text(json.dumps({"model": str(composer.folder), "data": str(folder),
                               "scores": scores.tolist()}), encoding="utf-8")
    tmp.replace(cached)
    return scores


def _critic_scores(composer, batch, max_windows: int) -> np.ndarray:
    import torch

    n = min(len(batch.melody), max_windows)
    device = composer.device
    out = []
    with torch.inference_mode():
        for a in range(0, n, 32):
            b = min(n, a + 32)
            mel = torch.from_numpy(batch.melody[a:b]).float().to(device)
            real = torch.from_numpy(batch.real[a:b]).float().to(device)
            pos = torch.from_numpy(batch.position[a:b]).float().to(device)
            critic = getattr(composer.critic, "net", composer.critic)
            out.append(critic(mel, real, pos).cpu().numpy().reshape(-1))
    return np.sort(np.concatenate(out))


def percentile(score: float, reference: np.ndarray | None) -> float | None:
    """Share (0-100) of the real windows the critic scored at or below ``score``."""
    if reference is None or len(reference) == 0:
        return None
    return 100.0 * float(np.searchsorted(reference, score, side="right")) / len(reference)
