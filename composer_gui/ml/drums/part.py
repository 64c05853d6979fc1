"""The drum part as generation plays it: :class:`DrumModel` writes drums for a song's bars.

A loaded drum model folder (see :mod:`composer_gui.ml.drums.network`) plans the song's
bars (full 4/4 bars, short bars cut by a meter change, a pickup), asks the generator for
hits, velocities and timing offsets for the bars requested plus the context its receptive
field reaches, and lays them out as notes in the song's ticks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from composer_gui.core.song import Note, Song, normalize_notes
from composer_gui.ml.drums.data import DRUM_METERS
from composer_gui.ml.drums.errors import DrumError

#: Logit shift at density 0 and 1 (0.5 leaves the model's probabilities as they are).
DENSITY_SHIFT = 2.5


@dataclass
class _Bar:
    index: int
    start: int  # tick
    length: int  # ticks
    kind: str  # "full", "short" (a 4/4 bar cut short), "pickup"
    meter: str
    bpm: float


def _bar_plan(song: Song, first: int, stop: int) -> list[_Bar]:
    from composer_gui.core.timing import TimeMap

    tm = TimeMap.of(song)
    full = 4 * song.ticks_per_beat
    plan = []
    for b in range(first, stop):
        start = tm.bar_to_tick(b)
        length = tm.bar_length(b)
        sig = tm.meter_at(start)
        meter = f"{sig.numerator}/{sig.denominator}"
        bpm = tm.tempo_at(start).bpm
        if b == 0 and length < full and tm.bar_length(1) == full:
            plan.append(_Bar(b, start, length, "pickup", meter, bpm))  # whatever its meter
        elif (sig.numerator, sig.denominator) in DRUM_METERS:
            plan.append(_Bar(b, start, length, "full" if length >= full else "short", meter,
                             bpm))
        else:
            plan += _grouped(b, start, length, meter, bpm, full, song.ticks_per_beat)
    return plan


def _grouped(index: int, start: int, length: int, meter: str, bpm: float, full: int,
             tpb: int) -> list[_Bar]:
    """A bar in a meter the drums never learned, as the drums play it: one 4/4 bar cut
    short per beat group (3/4 = 3 beats, 5/4 = 3+2, 6/8 = 3+3 eighths, 7/8 = 2+2+3;
    :func:`~composer_gui.ml.data.meters.beat_groups`), each starting the pattern again."""
    from composer_gui.ml.data.meters import beat_groups

    unit = 4 * tpb // int(meter.split("/")[1])
    out, pos, end = [], start, start + length
    for group in beat_groups(meter):
        size = min(group * unit, end - pos)
        while size > 0:
            take = min(size, full)
            out.append(_Bar(index, pos, take, "full" if take == full else "short", meter, bpm))
            pos += take
            size -= take
    if pos < end:
        out.append(_Bar(index, pos, end - pos, "short", meter, bpm))
    return out


class DrumModel:
    """A loaded drum model. :meth:`part` writes drums for a song's bars.

    Generation runs on ``device`` (CPU by default; the caller sets torch's thread count,
    e.g. :func:`composer_gui.ml.device.configure_threads`). One generator pass covers the
    requested bars plus the bars on each side that its receptive field reaches, so a
    partial regeneration joins its neighbours as a whole-song pass would.
    """

    def __init__(self, config, generator, critic, device, folder: Path | None = None):
        self.config = config
        self.generator = generator
        self.critic = critic
        self.device = device
        self.folder = folder

    @classmethod
    def load(cls, folder: str | Path, device: Any = "cpu") -> DrumModel:
        """Load a drum model folder (ModelError naming the problem when it is broken)."""
        from composer_gui.ml.device import resolve_device

        dev = resolve_device(device) if isinstance(device, str) else device
        from composer_gui.ml.drums.network import load_drum_networks

        config, generator, critic = load_drum_networks(Path(folder), dev)
        return cls(config, generator, critic, dev, Path(folder))

    def generate(self, fill, phrase_start, present, bpm, style: int, bar_ids: Sequence[int],
                 seed: int = 0, density: float = 0.5, candidates: int = 1,
                 phrase_ids: Sequence[int] | None = None, ride=None,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Drums for consecutive bars from per-bar labels (arrays of ``len(bar_ids)``;
        ``bpm`` may be one number): ``(hits bool, velocity 0..1, offset in steps)``, each
        ``[bars * 16, 9]``.

        Randomness is keyed by bar and phrase, not by position in the request, so a bar
        comes out the same whatever range holds it: bar ``k``'s noise and its velocity
        and timing draws come from ``(seed, k)``; the hit draws (one uniform number per
        step of the bar and drum) from ``(seed, phrase_ids[k])``, shared by the bars of a
        phrase: each bar reuses each of them with probability ``config.pattern_repeat``
        (else draws its own), as in training. A drummer repeats a pattern: where the
        model's probabilities repeat, the hits mostly do too, and they change where the
        probabilities do (fills, phrase starts). With ``candidates > 1`` the critic picks the likeliest
        of that many drafts."""
        import torch

        from composer_gui.ml.drums.network import condition_features, critic_input, sample_drums

        cfg = self.config
        n = len(bar_ids)
        k = max(1, int(candidates))
        noise = np.empty((k, n, cfg.noise_dim), np.float32)
        uniform = np.empty((k, n, cfg.bar_steps, cfg.n_classes), np.float32)
        eps = np.empty((k, n, 2, cfg.bar_steps, cfg.n_classes), np.float32)
        draws: dict[int, np.ndarray] = {}
        for i, bar in enumerate(bar_ids):
            r = np.random.default_rng([int(seed) & 0xFFFFFFFF, int(bar) & 0xFFFFFFFF])
            noise[:, i] = r.standard_normal((k, cfg.noise_dim))
            phrase = int(bar if phrase_ids is None else phrase_ids[i])
            if phrase not in draws:
                draws[phrase] = np.random.default_rng(
                    [int(seed) & 0xFFFFFFFF, phrase & 0xFFFFFFFF, 1]).random(
                    (k, cfg.bar_steps, cfg.n_classes))
            eps[:, i] = r.standard_normal((k, 2, cfg.bar_steps, cfg.n_classes))
            keep = r.random((k, cfg.bar_steps, cfg.n_classes)) < cfg.pattern_repeat
            uniform[:, i] = np.where(keep, draws[phrase],
                                     r.random((k, cfg.bar_steps, cfg.n_classes)))
        bpm = np.broadcast_to(np.asarray(bpm, np.float32), (n,))
        ride = np.zeros(n, bool) if ride is None else np.asarray(ride, bool)
        cond = condition_features(cfg, np.asarray(fill)[None], np.asarray(phrase_start)[None],
                                  np.asarray(present)[None], bpm[None], np.full((1,), style),
                                  ride[None])
        cond_t = torch.from_numpy(np.repeat(cond, k, axis=0)).to(self.device)
        noise_t = torch.from_numpy(np.repeat(noise, cfg.bar_steps, axis=1)).to(self.device)
        with torch.inference_mode():
            raw = self.generator(cond_t, noise_t)
            u_t = torch.from_numpy(uniform.reshape(k, n * cfg.bar_steps, cfg.n_classes))
            eps_t = torch.from_numpy(np.ascontiguousarray(eps.transpose(0, 2, 1, 3, 4)).reshape(
                k, 2, n * cfg.bar_steps, cfg.n_classes))
            hits, vel, off = sample_drums(raw, u_t.to(self.device), eps_t.to(self.device),
                                          shift=DENSITY_SHIFT * (2 * density - 1))
            best = 0
            if k > 1:
                best = int(torch.argmax(self.critic(cond_t, critic_input(hits, vel, off))))
        absent = ~np.repeat(np.asarray(present, bool), cfg.bar_steps)
        h = hits[best].cpu().numpy() > 0.5
        h[absent] = False
        return h, vel[best].cpu().numpy(), off[best].cpu().numpy()

    def part(self, song: Song, bars: range | None = None, seed: int = 0, style: str = "pop",
             phrase_bars: int = 8, density: float = 0.5, dynamics: float = 0.5,
             candidates: int = 1) -> list[Note]:
        """Drum notes (GM pitches, the song's ticks) for ``bars`` (0-based bar numbers of
        the song's meter map; default: every bar up to the song's end).

        The drums follow the song: each bar's tempo (``song.tempos`` at its start), bar
        lengths from the meter map, phrases of ``phrase_bars`` bars counted from the first
        full bar, with a fill in the last bar of each phrase and a phrase-start feel in
        the first. Each phrase keeps time on the hi-hat or, with the chance the training
        data gives the style (``config.ride_rates``), on the ride. Notes lie inside the
        requested bars only.

        Meters: 4/4 and 2/2 bars are played as learned. A pickup bar at the start (a
        shorter bar before the first full one) stays silent and a 4/4 bar cut short by a
        meter change is played as far as it goes. A bar in another meter (3/4, 6/8, 5/4,
        7/8 ...) is played group by group, each beat group the start of a 4/4 bar cut short
        (:func:`_grouped`): the drums were trained on 4/4 Groove only.

        ``density`` (0..1; 0.5 as trained) shifts every hit's probability (fewer to more
        notes), ``dynamics`` (0..1; 0.5 as trained) scales velocities from half to 1.5x,
        ``candidates`` drafts are ranked by the critic. ``style`` is a Groove style
        (``config.styles``).
        """
        cfg = self.config
        style_idx = cfg.style_index(style)
        if not (0.0 <= density <= 1.0 and 0.0 <= dynamics <= 1.0):
            raise DrumError(f"drums: density and dynamics must lie in 0..1 "
                            f"(got {density}, {dynamics})")
        if phrase_bars < 1:
            raise DrumError(f"drums: phrase length {phrase_bars} bars must be at least 1")
        if bars is None:
            from composer_gui.core.timing import TimeMap

            bars = range(TimeMap.of(song).bar_count(song.end_tick))
        if bars.step != 1 or bars.start < 0:
            raise DrumError(f"drums: bars {bars} must be a plain range of bars from 0")
        if len(bars) == 0:
            return []
        ctx = _ctx_bars(cfg)
        lo, hi = max(0, bars.start - ctx), bars.stop + ctx
        plan = _bar_plan(song, lo, hi)
        origin = 1 if _bar_plan(song, 0, 1)[0].kind == "pickup" else 0
        pos = np.array([(b.index - origin) % phrase_bars for b in plan])
        present = np.array([b.kind in ("full", "short") for b in plan])
        phrases = [(b.index - origin) // phrase_bars for b in plan]
        rate = cfg.ride_rate(style)
        ride = [np.random.default_rng([int(seed) & 0xFFFFFFFF, p & 0xFFFFFFFF, 3]).random() < rate
                for p in phrases]
        hits, vel, off = self.generate(pos == phrase_bars - 1, pos == 0, present,
                                       np.array([b.bpm for b in plan]), style_idx,
                                       [b.index for b in plan], seed, density, candidates,
                                       phrases, ride)
        tpb = song.ticks_per_beat
        wanted = [b for b in plan if b.index in bars]
        first_tick = wanted[0].start
        end_tick = wanted[-1].start + wanted[-1].length
        gain = 0.5 + dynamics
        duration = max(1, tpb // 8)
        notes: list[Note] = []
        steps, classes = np.nonzero(hits)
        for s, c in zip(steps.tolist(), classes.tolist()):
            bar = plan[s // cfg.bar_steps]
            if bar.index not in bars:
                continue
            step = s % cfg.bar_steps
            step_ticks = bar.length / cfg.bar_steps if bar.kind == "full" else tpb / 4
            if step * step_ticks >= bar.length:
                continue
            tick = int(round(bar.start + (step + float(off[s, c])) * step_ticks))
            tick = min(max(tick, first_tick), end_tick - 1)
            velocity = int(min(127, max(1, round((1 + 126 * float(vel[s, c])) * gain))))
            notes.append(Note(int(cfg.classes[c][1]), tick, min(duration, end_tick - tick),
                              velocity))
        return normalize_notes(notes)


def _ctx_bars(config) -> int:
    from composer_gui.ml.drums.network import context_bars

    return context_bars(config)
