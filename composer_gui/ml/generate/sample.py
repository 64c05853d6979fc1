"""Generation: melody (+ kept parts) -> accompaniment, window by window, ranked by the critic.

:class:`Composer` holds a loaded model (kept warm by the app's worker);
:meth:`Composer.compose` works on a :class:`~composer_gui.core.song.Song` and returns
every candidate with its critic score, best first available as ``result.song``.

How a song of any length is generated: windows of ``config.window_steps`` steps start on
bar lines; each window sees the melody, the bar positions and as *kept context* every step
already decided (the previous window's tail, and the notes the user keeps), and commits
only the steps up to the next window's start (about half a window later), so every
committed step was generated with the melody ahead of it in view and with the previous
music behind it. Partial regeneration (``bars``/``tracks``) is the same loop with the
kept notes in the context mask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from composer_gui.core.errors import UserError
from composer_gui.core.song import Note, Song, Track, normalize_notes
from composer_gui.ml.data.encoding import channels
from composer_gui.ml.data.line_stats import SILENT
from composer_gui.ml.data.meters import known_beats, unsupported_bars, window_position_features
from composer_gui.ml.generate.decode import (
    ONSET_FLOOR,
    LinePrior,
    VoiceLeading,
    decode_part,
    gate_bars,
    window_bars,
)
from composer_gui.ml.generate.guidance import SHARPNESS, guidance_samples, keep_best
from composer_gui.ml.generate.keys import key_guard_weights, with_key_signature
from composer_gui.ml.metrics.harmony import top_line
from composer_gui.ml.model.config import KEY_SPAN, ModelConfig
from composer_gui.pianoroll.grid import (
    Grid,
    codes_to_spans,
    notes_to_codes,
    song_grid,
    spans_to_notes,
)


class GenerateError(UserError):
    """A melody or request the model cannot work on (empty melody, unknown meter ...)."""


@dataclass
class Composition:
    """The result: ``candidates[i]`` are the role tracks of candidate ``i``;
    ``song`` is the output song with the chosen candidate."""

    song: Song
    candidates: list[list[Track]]
    scores: list[float]
    chosen: int
    device: str
    warnings: list[str] = field(default_factory=list)
    #: Per candidate, the "how real" percentile (:func:`controls.percentile`), when asked.
    how_real: list[float | None] = field(default_factory=list)


def _find_role_tracks(song: Song, config: ModelConfig, melody: int) -> list[int | None]:
    """Input tracks holding the model's output roles (:meth:`ModelConfig.output_roles`):
    exact name, then role."""
    out: list[int | None] = []
    used = {melody}
    for spec in config.output_roles():
        hit = next((i for i, t in enumerate(song.tracks)
                    if i not in used and t.name.strip().lower() == spec.name.lower()), None)
        if hit is None:
            hit = next((i for i, t in enumerate(song.tracks)
                        if i not in used and t.role == spec.role), None)
        if hit is not None:
            used.add(hit)
        out.append(hit)
    return out


def _pickup_grid(grid: Grid, config: ModelConfig) -> Grid | None:
    """A melody that starts with a short bar (a pickup) before bars of a supported meter:
    the grid the networks see, where the pickup is the end of a whole bar (its bar line
    lies before the song's start), as the beats of an upbeat are heard. None otherwise."""
    if len(grid.bar_starts) < 2 or grid.bar_meters[0] in config.meters:
        return None
    meter = grid.bar_meters[1]
    if meter not in config.meters:
        return None
    full = config.bar_steps(meter)
    pickup = int(grid.bar_starts[1] - grid.bar_starts[0])
    if pickup >= full:
        return None
    starts = grid.bar_starts.copy()
    starts[0] = grid.bar_starts[1] - full
    return Grid(grid.ticks_per_beat, grid.steps_per_beat, starts,
                [meter, *grid.bar_meters[1:]], grid.n_steps)


@dataclass
class NetGrid(Grid):
    """A grid whose bars are already as the networks read them (``lenient`` False: its
    position features take the bars as they are)."""

    lenient: bool = True


def _playable_grid(grid: Grid, config: ModelConfig) -> Grid:
    """``grid`` when the model can place every bar; else its bars as the model can play
    them: every bar of a meter it has not seen split into beat groups of meters it knows
    (:func:`~composer_gui.ml.data.meters.known_beats`: 5/4 = 3+2, 7/8 = 2+2+3)."""
    if not unsupported_bars(grid.bar_starts, grid.bar_meters, grid.n_steps, config):
        return grid
    starts, meters = known_beats(grid.bar_starts, grid.bar_meters, grid.n_steps, config)
    return NetGrid(grid.ticks_per_beat, grid.steps_per_beat, starts, meters, grid.n_steps,
                   lenient=False)


def pick_melody(song: Song, melody_track: int | None) -> int:
    """The melody track: the given index, else the track with role melody, else the first
    track with notes."""
    if melody_track is not None:
        if not 0 <= melody_track < len(song.tracks):
            raise GenerateError(f"--melody-track {melody_track}: the file has "
                                f"{len(song.tracks)} tracks (0-{len(song.tracks) - 1})")
        return melody_track
    idx = song.track_index_by_role("melody")
    if idx is not None:
        return idx
    if not song.tracks:
        raise GenerateError("the file has no notes (empty melody)")
    return next((i for i, t in enumerate(song.tracks) if t.notes), 0)


class Composer:
    """A model loaded for generation (its own copy of the networks)."""

    def __init__(self, folder: Path, device: str = "auto"):
        from composer_gui.ml.device import device_label, resolve_device
        from composer_gui.ml.model.checkpoint import load_model

        self.folder = Path(folder)
        self.device = resolve_device(device)
        self.config, self.generator, self.critic = load_model(self.folder, self.device)
        self.device_name = device_label(self.device)
        from composer_gui.ml.model.conductor import load_conductor

        loaded = load_conductor(self.folder, self.config, self.device)
        self.conductor, self.conductor_info = None, None
        if loaded:
            from composer_gui.ml.generate.guidance import judge_of

            network, self.conductor_info, ear = loaded
            self.conductor = judge_of(network, ear, self.config, self.conductor_info)
        self.drums = self._load_drums() if self.config.has_drums else None

    def _load_drums(self):
        """The drum sub-model named by the config (the pop model's ``drums/``)."""
        from composer_gui.ml.errors import ModelError

        folder = self.folder / self.config.drums
        if not folder.is_dir():
            raise ModelError(f"{self.folder}: missing the drum model folder {self.config.drums}/ "
                             "that config.json names")
        from composer_gui.ml.drums.part import DrumModel

        return DrumModel.load(folder, self.device)

    def to_cpu(self) -> None:
        import torch

        self.device = torch.device("cpu")
        self.generator.to(self.device)
        self.critic.to(self.device)
        if self.conductor is not None:
            self.conductor.to(self.device)
        if self.drums is not None:
            from composer_gui.ml.drums.part import DrumModel

            self.drums = DrumModel.load(self.folder / self.config.drums, self.device)
        self.device_name = "CPU"

    # ------------------------------------------------------------------------------------
    def compose(self, song: Song, melody_track: int | None = None, seed: int = 0,
                candidates: int = 1, bars: tuple[int, int] | None = None,
                tracks: list[str] | None = None, temperature: float | None = None,
                noise_scale: float = 1.0, warn: Callable[[str], None] | None = None,
                density: float = 0.5, dynamics: float = 0.5,
                guidance: str | int | None = None) -> Composition:
        """Generate accompaniment for ``song`` (see the module docstring).

        ``bars`` (1-based, inclusive) and ``tracks`` (role names) restrict what is
        regenerated; every other note of the input's tracks of the model's roles is kept.
        ``density`` and ``dynamics`` (0..1) steer the drum sub-model, when there is one
        (the pitched parts are shaped afterwards by ``controls.shape_tracks``).
        ``guidance`` (``off``, ``light``, ``strong``; None: light) is how hard the
        conductor steers sampling (:mod:`composer_gui.ml.generate.guidance`).
        """
        from composer_gui.ml.device import is_out_of_memory

        config = self.config
        if temperature is None:
            temperature = config.temperature
        melody = pick_melody(song, melody_track)
        mel_track = song.tracks[melody]
        if not mel_track.notes:
            raise GenerateError(f"melody track {melody} ({mel_track.name or 'unnamed'}) has no notes "
                                "(empty melody)")
        grid = song_grid(song, config.steps_per_beat)
        # a pickup bar: meter-aware models read it in their features; the others see it
        # as the end of a whole bar
        net_grid = grid if config.meter_aware else (_pickup_grid(grid, config) or grid)
        net_grid = _playable_grid(net_grid, config)
        existing = _find_role_tracks(song, config, melody)
        partial = bars is not None or tracks is not None
        sel_tracks = self._selected_tracks(tracks)
        want_drums = self.drums is not None and (
            tracks is None or config.drum_role.name in self._selected_names(tracks))
        n_bars = len(grid.bar_starts)
        if bars is not None and bars[0] > n_bars:
            raise GenerateError(f"--bars {bars[0]}-{bars[1]}: the song has {n_bars} bars")
        first_bar, last_bar = (bars[0] - 1, min(bars[1], n_bars) - 1) if bars else (0, n_bars - 1)
        s0, s1 = grid.bar_range_steps(first_bar, last_bar)
        s_total = grid.n_steps
        keep = np.ones((config.tracks, s_total), dtype=np.float32)
        for r in sel_tracks:
            keep[r, s0:s1] = 0.0
        context = np.zeros((config.tracks, s_total, config.pitches), dtype=np.int8)
        if partial:
            for r, idx in enumerate(existing[:config.tracks]):
                if idx is not None:
                    context[r] = notes_to_codes(song.tracks[idx].notes, grid, config.lowest,
                                                config.highest, n_steps=s_total)
        context *= keep[:, :, None].astype(np.int8)
        mel_codes = notes_to_codes(mel_track.notes, grid, config.lowest, config.highest,
                                   fold=True, n_steps=s_total)
        samples = guidance_samples(guidance)
        if self.conductor is None and samples > 1:
            if guidance is not None and warn:
                warn(f"{self.folder.name} has no conductor: guidance off "
                     "(composer-gui train-conductor trains one)")
            samples = 1

        def run():
            state, scores = self._run(net_grid, mel_codes, context, keep, seed, candidates,
                                      temperature, noise_scale, samples)
            drum_bars = range(first_bar, last_bar + 1) if bars is not None else None
            drums = ([self._drum_notes(song, drum_bars, seed, k, density, dynamics)
                      for k in range(candidates)] if want_drums else None)
            return state, scores, drums

        try:
            state, scores, drum_notes = run()
        except (RuntimeError, MemoryError) as exc:
            if self.device.type == "cpu" or not is_out_of_memory(exc):
                raise
            message = f"{self.device_name} ran out of memory; generating on the CPU instead"
            if warn:
                warn(message)
            self.to_cpu()
            state, scores, drum_notes = run()
        velocity = int(np.clip(np.median([n.velocity for n in mel_track.notes]), 40, 110))
        cand_tracks = [self._tracks_for(state[k], grid, keep, song, existing, melody,
                                        partial, velocity) for k in range(candidates)]
        if self.drums is not None:
            region = (grid.step_to_tick(s0), grid.step_to_tick(s1) if s1 < grid.n_steps
                      else max(song.end_tick, grid.step_to_tick(s1)) + 1)
            for k in range(candidates):
                cand_tracks[k].append(self._drum_track(
                    song, existing[-1], drum_notes[k] if drum_notes else None, region))
        chosen = int(np.argmax(scores))
        out = Song(ticks_per_beat=song.ticks_per_beat, tempos=list(song.tempos),
                   time_signatures=list(song.time_signatures),
                   key_signatures=list(song.key_signatures),
                   tracks=[mel_track.copy(), *[t.copy() for t in cand_tracks[chosen]]],
                   conductor_events=list(song.conductor_events), title=song.title)
        return Composition(out, cand_tracks, [float(s) for s in scores], chosen, self.device_name)

    def _selected_names(self, tracks: list[str]) -> list[str]:
        """Output track names meant by ``tracks`` (names or roles, any case)."""
        out = []
        for name in tracks:
            hits = [spec.name for spec in self.config.output_roles()
                    if name.lower() in (spec.name.lower(), spec.role.lower())]
            if not hits:
                raise GenerateError(f"--tracks: no role named {name!r} in this model "
                                    f"(roles: {', '.join(self.config.role_names())})")
            out.extend(h for h in hits if h not in out)
        return out

    def _selected_tracks(self, tracks: list[str] | None) -> list[int]:
        """Indices of the generator's roles to generate (the drum track aside)."""
        if tracks is None:
            return list(range(self.config.tracks))
        names = self._selected_names(tracks)
        return [r for r, spec in enumerate(self.config.roles) if spec.name in names]

    # ----- drums ------------------------------------------------------------------------
    def _drum_notes(self, song: Song, bars: range | None, seed: int, k: int, density: float,
                    dynamics: float) -> list[Note]:
        """Candidate ``k``'s drum notes for ``bars`` (0-based; None: all) from the drum
        sub-model (its own seed per candidate, derived from ``seed``, so a seed always
        gives the same drums)."""
        drum_seed = int(np.random.SeedSequence([seed, k]).generate_state(1)[0]) if k else seed
        return list(self.drums.part(song, bars=bars, seed=drum_seed, style=self.config.style,
                                    density=density, dynamics=dynamics))

    def _drum_track(self, song: Song, src: int | None, notes: list[Note] | None,
                    region: tuple[int, int]) -> Track:
        """The drum track: the input's drum notes outside ``region`` (ticks) kept, the
        generated ones inside (``notes`` None: drums not regenerated, all kept)."""
        spec = self.config.drum_role
        lo, hi = region
        kept = []
        if src is not None:
            kept = [n for n in song.tracks[src].notes
                    if notes is None or not lo <= n.start < hi]
        made = [n for n in notes or [] if lo <= n.start < hi]
        return Track(name=spec.name, program=spec.program, channel=9, is_drum=True,
                     role=spec.role, notes=normalize_notes(kept + made))

    # ------------------------------------------------------------------------------------
    def _windows(self, grid: Grid) -> list[tuple[int, int]]:
        """(start, commit_end) of each window: starts on bar lines about half a window
        apart; each commits the steps up to the next window's start."""
        t = self.config.window_steps
        starts = [0]
        while starts[-1] + t < grid.n_steps:
            target = starts[-1] + t // 2
            nxt = int(grid.bar_starts[np.searchsorted(grid.bar_starts, target)]) \
                if target <= grid.bar_starts[-1] else target
            if nxt <= starts[-1]:
                nxt = starts[-1] + t // 2
            starts.append(nxt)
        return [(s, starts[i + 1] if i + 1 < len(starts) else s + t) for i, s in enumerate(starts)]

    def _window_inputs(self, grid, mel_codes, state, decided, start):
        """Numpy inputs of one window for all candidates (padded past the song's end)."""
        config = self.config
        t, s_total = config.window_steps, grid.n_steps
        end = min(start + t, s_total)
        k = state.shape[0]
        mel = np.zeros((t, config.pitches), np.int8)
        mel[: end - start] = mel_codes[start:end]
        ctx = np.zeros((k, config.tracks, t, config.pitches), np.int8)
        ctx[:, :, : end - start] = state[:, :, start:end]
        mask = np.zeros((config.tracks, t), np.float32)
        mask[:, : end - start] = decided[:, start:end]
        pos = window_position_features(config, grid.bar_starts, grid.bar_meters, t,
                                       song_steps=s_total, offset=start,
                                       lenient=getattr(grid, "lenient", True))
        return mel, ctx, mask, pos

    def accompany_arrays(self, song, seed: int, candidates: int = 1,
                         temperature: float | None = None, guidance: int = 1):
        """(codes ``[K, R, S, P]``, scores) of ``candidates`` accompaniments written from
        scratch under the melody of a dataset song
        (:class:`composer_gui.ml.data.dataset.SongArrays`): evaluation, line fitting and
        the conductor's training all judge the model this way."""
        from composer_gui.ml.data.dataset import melody_in_range, song_grid_of

        config = self.config
        grid = song_grid_of(song, config.steps_per_beat)
        mel = melody_in_range(song.codes[0], config.pitches)
        empty = np.zeros((config.tracks, grid.n_steps, config.pitches), np.int8)
        keep = np.zeros((config.tracks, grid.n_steps), np.float32)
        temp = config.temperature if temperature is None else temperature
        return self._run(grid, mel, empty, keep, seed, candidates, temp, 1.0, guidance)

    def judge(self, melody, accompaniment, position):
        """The conductor's logits of windows (the GAN critic's where the model has no
        conductor): higher is more real."""
        judge = self.conductor if self.conductor is not None else self.critic
        return judge(melody, accompaniment, position)

    def _run(self, grid, mel_codes, context, keep, seed, k, temperature, noise_scale,
             guidance: int = 1):
        import torch

        from composer_gui.ml.model.networks import bar_noise

        config, device = self.config, self.device
        rng = np.random.default_rng(seed)
        noise_gen = torch.Generator().manual_seed(seed)
        k = k * guidance  # guidance: G samples per candidate and window
        state = np.repeat(context[None], k, axis=0)  # [K*G, R, S, P]
        decided = keep.copy()
        windows = self._windows(grid)
        with torch.inference_mode():
            for start, commit_end in windows:
                commit_end = min(commit_end, grid.n_steps)
                todo = decided[:, start:commit_end] == 0
                if not todo.any():
                    continue
                mel, ctx, mask, pos = self._window_inputs(grid, mel_codes, state, decided, start)
                mel_t = torch.from_numpy(channels(mel)).to(device)[None].expand(k, -1, -1, -1)
                ctx_t = torch.from_numpy(channels(ctx)).to(device)
                mask_t = torch.from_numpy(mask).to(device)[None].expand(k, -1, -1)
                pos_t = torch.from_numpy(pos).to(device)[None].expand(k, -1, -1)
                noise = bar_noise(pos_t.cpu(), config, noise_gen, noise_scale).to(device)
                probs = torch.sigmoid(self.generator(mel_t, ctx_t, mask_t, pos_t, noise)).cpu().numpy()
                bars = window_bars(pos, config)
                guard = (self._key_weights(mel_codes, start, probs)
                         if config.key_guard < 1.0 else None)
                lines = self._lines(mel, state, todo, start, pos,
                                    mel_codes[start - 1] if start > 0 else None)
                whole = ctx.copy()  # the window as decoded, to the end (the judge's view)
                for r, spec in enumerate(config.roles):
                    steps = np.nonzero(todo[r])[0]
                    if len(steps) == 0:
                        continue
                    local0 = int(steps[0])
                    prev = state[:, r, start + local0 - 1] if start + local0 > 0 else None
                    frame, onset = gate_bars(probs[:, r, 0], probs[:, r, 1], bars, spec.bar_gate)
                    leading = lines(r) if spec.voices == 1 and not spec.is_drum else None
                    codes = decode_part(frame, onset, spec.voices, rng, temperature,
                                        start=local0, previous=prev, weights=guard,
                                        leading=leading, line=self._line_prior(spec, pos, mel),
                                        no_semitones=config.chord_rule,
                                        allowed=self._onsets_allowed(spec, pos))
                    state[:, r, start + steps] = codes[:, steps]
                    whole[:, r, local0:] = codes[:, local0:]
                decided[:, start:commit_end] = 1.0
                if guidance > 1:
                    judged = self.judge(mel_t, torch.from_numpy(channels(whole)).to(device), pos_t)
                    keep_best(state, judged.cpu().numpy().reshape(-1), guidance, rng,
                              SHARPNESS.get(guidance))
            state = state[::guidance] if guidance > 1 else state
            scores = self._score(grid, mel_codes, state)
        return state, scores

    def _lines(self, mel: np.ndarray, state: np.ndarray, todo: np.ndarray, start: int,
               pos: np.ndarray, mel_before: np.ndarray | None = None):
        """``lines(r)``: the :class:`VoiceLeading` of part ``r`` in the window at
        ``start`` (the melody ``mel`` ``[T, P]``, the parts decoded before ``r`` and the
        parts kept as they are; ``mel_before`` ``[P]``: the melody's codes at the step
        before the window), or None when the model's config leaves voice leading to the
        network."""
        config = self.config
        if config.voice_leading >= 1.0:
            return lambda r: None
        k, t = state.shape[0], config.window_steps

        end = min(start + t, state.shape[2])
        melody = np.broadcast_to(top_line(mel)[None, None], (k, 1, t))
        mel_prev = -1 if mel_before is None else int(top_line(mel_before[None])[0])
        beat = pos[:, config.max_bar_steps + config.steps_per_beat + 1] > 0.5
        pitched = [q for q, spec in enumerate(config.roles) if not spec.is_drum]

        def lines(r: int) -> VoiceLeading:
            others = [q for q in pitched if q != r and (q < r or not todo[q].any())]
            window = np.full((k, len(others), t), -1)
            window[:, :, : end - start] = top_line(state[:, others, start:end])  # as decoded so far
            voices = np.concatenate([melody, window], axis=1)
            before = np.full((k, 1 + len(others)), -1)
            before[:, 0] = mel_prev
            if start > 0:
                before[:, 1:] = top_line(state[:, others, start - 1])
            return VoiceLeading(voices, beat, config.voice_leading, before)

        return lines

    def _onsets_allowed(self, spec, pos: np.ndarray) -> np.ndarray | None:
        """``[T]``: the steps of a window (position features ``pos``) where a note of the
        part may start: the positions in the beat where the data starts notes at all
        (``line_onsets`` at least :data:`ONSET_FLOOR` of the busiest); None where the
        part has no onset rates (or they are off with the line model)."""
        config = self.config
        if spec.line_onsets is None or (config.line_prior <= 0 and spec.line_steps is not None):
            return None
        in_beat = pos[:, config.max_bar_steps:config.max_bar_steps + config.steps_per_beat]
        return np.asarray(spec.line_onsets)[in_beat.argmax(axis=1)] >= ONSET_FLOOR

    def _line_prior(self, spec, pos: np.ndarray, mel: np.ndarray) -> LinePrior | None:
        """The model of a one-voice part's line (:class:`LinePrior`) in a window whose
        position features are ``pos`` and melody ``mel`` ``[T, P]``, or None (off, or
        not fitted for this part)."""
        config = self.config
        if config.line_prior <= 0 or spec.voices != 1 or spec.line_steps is None:
            return None
        allowed = self._onsets_allowed(spec, pos)
        if allowed is None:
            allowed = np.ones(len(pos), dtype=bool)
        top = top_line(mel)
        melody = np.where(top >= 0, top, SILENT)[None]
        return LinePrior(np.asarray(spec.line_steps),
                         np.asarray(spec.line_register or np.ones(config.pitches)),
                         np.asarray(spec.line_melody or np.ones(12)), melody, allowed,
                         config.line_prior)

    def _key_weights(self, mel_codes: np.ndarray, start: int, probs: np.ndarray) -> np.ndarray:
        """Key-guard weights for the window at ``start``: the melody from
        :data:`KEY_SPAN` windows before it to after it (see :func:`key_guard_weights`)."""
        t = self.config.window_steps
        lo, hi = max(0, start - KEY_SPAN[0] * t), start + KEY_SPAN[1] * t
        held = (mel_codes[lo:hi] > 0).sum(axis=0).astype(np.float64)
        return key_guard_weights(self.config, held, probs)

    def _score(self, grid, mel_codes, state) -> np.ndarray:
        """The critic's mean score over windows tiling the song, per candidate."""
        import torch

        config, device = self.config, self.device
        k = state.shape[0]
        t = config.window_steps
        total = np.zeros(k)
        n = 0
        ones = np.ones((config.tracks, grid.n_steps), np.float32)
        for start in range(0, grid.n_steps, t):
            mel, ctx, _, pos = self._window_inputs(grid, mel_codes, state, ones, start)
            if not mel.any():
                continue
            mel_t = torch.from_numpy(channels(mel)).to(device)[None].expand(k, -1, -1, -1)
            pos_t = torch.from_numpy(pos).to(device)[None].expand(k, -1, -1)
            acc = torch.from_numpy(channels(ctx)).to(device)
            total += self.judge(mel_t, acc, pos_t).cpu().numpy().reshape(-1)
            n += 1
        return total / max(1, n)

    def _tracks_for(self, state_k, grid, keep, song, existing, melody, partial, velocity):
        """Role tracks of one candidate: kept input notes + notes decoded in the region."""
        config = self.config
        used_channels = {song.tracks[melody].channel}
        tracks = []
        for r, spec in enumerate(config.roles):
            channel = spec.channel
            if channel in used_channels and not spec.is_drum:
                channel = next(c for c in range(16) if c != 9 and c not in used_channels)
            used_channels.add(channel)
            notes: list[Note] = []
            src = existing[r]
            region = keep[r] == 0
            if partial and src is not None:
                for note in song.tracks[src].notes:
                    st = grid.tick_to_step(note.start)
                    if st >= grid.n_steps or not region[st]:
                        notes.append(note)
            spans = [(p, a, b) for p, a, b in codes_to_spans(state_k[r], config.lowest)
                     if region[a]]
            notes.extend(spans_to_notes(spans, grid, velocity))
            tracks.append(Track(name=spec.name, program=spec.program, channel=channel,
                                is_drum=spec.is_drum, role=spec.role,
                                notes=normalize_notes(notes)))
        return tracks


# ----- file to file (the command line) -----------------------------------------------------
@dataclass
class GenerateRequest:
    input: Path
    output: Path
    style: str | None = None
    model: str | None = None
    melody_track: int | None = None
    seed: int = 0
    candidates: int = 1
    guidance: str | None = None
    bars: tuple[int, int] | None = None
    tracks: list[str] | None = None
    device: str = "auto"


def model_folder(style: str | None, model: str | None) -> Path:
    from composer_gui.ml.model.registry import resolve_model, resolve_style

    if model:
        return resolve_model(model)
    if style:
        return resolve_style(style)
    raise GenerateError("give --style NAME or --model NAME|DIR")


def generate_file(request: GenerateRequest, warn: Callable[[str], None] | None = None) -> Composition:
    """Read the input, generate, write the output (with the estimated key when the input
    names none); returns the composition."""
    from composer_gui.midi.smf import read_midi, write_midi
    from composer_gui.ml.device import configure_threads

    folder = model_folder(request.style, request.model)
    song = read_midi(request.input)
    configure_threads(default=1)
    composer = Composer(folder, request.device)
    result = composer.compose(song, request.melody_track, request.seed, request.candidates,
                              request.bars, request.tracks, warn=warn,
                              guidance=request.guidance)
    if request.candidates > 1:  # the app's label, computed the same way
        from composer_gui.ml.generate import controls

        reference = controls.reference_scores(composer)
        result.how_real = [controls.percentile(s, reference) for s in result.scores]
    write_midi(with_key_signature(result.song, song), request.output)
    return result
