"""What a training shows while it runs: the generator issue's metrics on a few fixed
validation windows (and the data's own values on the same windows, the reference), and
previews (the current generator accompanying a fixed validation melody, as MIDI).

The metric tables are keyed by the model's part names (``config.roles[i].name``, the
generated tracks' names), then by :mod:`composer_gui.ml.metrics`' own metric names
(``empty_bar_rate``, ``used_pitch_classes``, ``qualified_note_rate``, ``tonal_distance``,
``in_scale_rate`` ...; short labels in ``METRIC_LABELS``). A metric with nothing to
measure is None (JSON null), never NaN, so every record stays strict JSON.

Windows, not whole songs: the validation windows of ``ml.data.windows.fixed_windows`` (four per
validation song, or more so that there are at least 64; no context) are decoded anyway by ``train.validate``; measuring them
costs milliseconds, so the plots get points every few hundred steps for free.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from composer_gui.ml.data.windows import Batch
from composer_gui.ml.metrics.harmony import line_counts, pooled, pooled_lines, song_harmony
from composer_gui.ml.metrics.keys import estimate_key
from composer_gui.ml.metrics.rolls import to_full_range
from composer_gui.ml.metrics.tables import SongRolls, aggregate_metrics, targets_met
from composer_gui.ml.model.config import ModelConfig

#: Bars of a validation melody a preview accompanies.
PREVIEW_BARS = 8
#: The row of the metric tables that holds the harmony measures of all parts together.
ALL_PARTS = "All parts"


def _channels_pair(ch: np.ndarray, lowest: int):
    """(onsets, held) full-range rolls from frame/onset channels ``[2, T, P]``."""
    return (to_full_range(ch[1] > 0.5, lowest), to_full_range(ch[0] > 0.5, lowest))


def _codes_pair(codes: np.ndarray, lowest: int):
    """(onsets, held) full-range rolls from codes ``[T, P]`` (0 silent, 1 held, 2 onset)."""
    return (to_full_range(codes == 2, lowest), to_full_range(codes > 0, lowest))


def _window_songs(windows: Batch, config: ModelConfig, parts) -> list[SongRolls]:
    """One SongRolls per window; ``parts(i, r)`` gives track r of window i. The key is
    estimated on the real window (melody and real parts), as ``evaluate`` does, so the
    generated and real parts are measured in the same key."""
    names = [r.name for r in config.roles]  # the generator's parts (not a drum sub-model)
    drums = frozenset(spec.name for spec in config.roles if spec.is_drum)
    songs = []
    for i in range(len(windows.melody)):
        melody = _channels_pair(windows.melody[i], config.lowest)
        real = [_channels_pair(windows.real[i, r], config.lowest) for r in range(config.tracks)]
        pitched = [t for t, spec in zip(real, config.roles) if not spec.is_drum]
        key = estimate_key(melody, *pitched)
        bars = windows.bars[i] if windows.bars is not None else int(windows.bar_len[i])
        songs.append(SongRolls(
            melody=melody, tracks={n: parts(i, r, real) for r, n in enumerate(names)},
            steps_per_bar=bars, steps_per_beat=config.steps_per_beat, key=key,
            drum_roles=drums))
    return songs


def json_table(table: dict) -> dict:
    """A metric table with NaN as None (strict JSON), floats rounded for the records."""
    return {role: {name: (None if value is None or math.isnan(value) else round(float(value), 5))
                   for name, value in values.items()}
            for role, values in table.items()}


def _with_harmony(table: dict, songs: list[SongRolls], config: ModelConfig) -> dict:
    """``table`` plus, per pitched part, its octave leaps, repeated notes and notes per
    bar, and an :data:`ALL_PARTS` row with the harmony measures of the parts together
    (:mod:`composer_gui.ml.metrics.harmony`), pooled over the windows."""
    pitched = [spec.name for spec in config.roles if not spec.is_drum]
    counts = [song_harmony(song.melody, [song.tracks[n] for n in pitched],
                           config.steps_per_beat) for song in songs]
    for name in pitched:
        lines = [line_counts(song.tracks[name], song.steps_per_bar) for song in songs]
        table.setdefault(name, {}).update(pooled_lines(lines))
    table[ALL_PARTS] = pooled(counts)
    return table


def reference_table(windows: Batch, config: ModelConfig) -> dict:
    """The data's own metric values on the validation windows (with the shuffled TD,
    the baseline the TD target needs)."""
    songs = _window_songs(windows, config, lambda i, r, real: real[r])
    return _with_harmony(aggregate_metrics(songs, shuffled=True), songs, config)


def generated_table(windows: Batch, decoded: np.ndarray, config: ModelConfig) -> dict:
    """The metrics of decoded parts ``[N, R, T, P]`` generated for the same windows."""
    songs = _window_songs(windows, config,
                          lambda i, r, real: _codes_pair(decoded[i, r], config.lowest))
    return _with_harmony(aggregate_metrics(songs, shuffled=False), songs, config)


def targets(reference: dict, generated: dict) -> tuple[dict, bool]:
    """(per part, per metric: target met?; all met?) against the reference table."""
    met = targets_met(reference, generated)
    return met, bool(met) and all(all(v.values()) for v in met.values())


# ----- previews ---------------------------------------------------------------------------
def preview_melody(path: str | Path, config: ModelConfig, melody_override: int | None = None,
                   bars: int = PREVIEW_BARS):
    """``bars`` bars of a file's melody track from the bar where the melody starts (pop
    songs often open with a long intro without it), as a one-track Song starting at 0."""
    from composer_gui.core.song import Song, Track
    from composer_gui.core.timing import TimeMap
    from composer_gui.ml.data.roles import find_melody
    from composer_gui.ml.data.sources import read_song
    from composer_gui.ml.errors import DataError

    song = read_song(Path(path), pop909_meters=tuple(config.meters))
    index = find_melody(song, config, melody_override)
    source = song.tracks[index]
    if not source.notes:
        raise DataError(f"{Path(path).name}: the melody track has no notes")
    tmap = TimeMap.of(song)
    first_bar = tmap.bar_of(min(n.start for n in source.notes))
    begin, end = tmap.bar_to_tick(first_bar), tmap.bar_to_tick(first_bar + bars)
    notes = [n.replace(start=n.start - begin, duration=min(n.duration, end - n.start))
             for n in source.notes if begin <= n.start < end]
    melody = Track(name=source.name or "Melody", program=source.program, channel=source.channel,
                   role="melody", notes=notes)
    return Song(ticks_per_beat=song.ticks_per_beat,
                tempos=_from(song.tempos, begin, end),
                time_signatures=_from(song.time_signatures, begin, end),
                key_signatures=_from(song.key_signatures, begin, end), tracks=[melody],
                title=f"{Path(path).stem} (bars {first_bar + 1}-{first_bar + bars})")


def _from(changes: list, begin: int, end: int) -> list:
    """Timed changes (tempo, meter, key) seen from ``begin``: the one in force there moves
    to tick 0, later ones before ``end`` move back by ``begin``."""
    import dataclasses

    before = [c for c in changes if c.tick <= begin]
    out = [dataclasses.replace(before[-1], tick=0)] if before else []
    out += [dataclasses.replace(c, tick=c.tick - begin) for c in changes if begin < c.tick < end]
    return out


class Previewer:
    """Writes previews: the given networks (the training's own, as they are now)
    accompany ``melody_song`` as generation does (one candidate, a fixed seed, so
    previews of different steps compare).

    With a ``base_folder`` (a fine-tune), the generation machinery is the base model's
    own, loaded once: parts the fine-tune does not train (the pop model's drums) play in
    the previews too; only the main networks are swapped for the training's."""

    def __init__(self, config: ModelConfig, generator, critic, device, melody_song,
                 base_folder: Path | None = None, seed: int = 0):
        from composer_gui.ml.device import device_label
        from composer_gui.ml.generate.sample import Composer

        if base_folder is not None:
            composer = Composer(Path(base_folder), device.type)
        else:
            composer = Composer.__new__(Composer)  # no folder to load from
            composer.folder = None
            composer.drums = None  # no sub-models without a base
        composer.device, composer.device_name = device, device_label(device)
        composer.config, composer.generator, composer.critic = config, generator, critic
        self.composer, self.melody_song, self.seed = composer, melody_song, seed

    def write(self, out_path: Path) -> Path:
        """Generate with the networks as they are now; write MIDI atomically."""
        generator, critic = self.composer.generator, self.composer.critic
        was_training = generator.training
        generator.eval()
        critic.eval()
        try:
            result = self.composer.compose(self.melody_song, melody_track=0, seed=self.seed,
                                           candidates=1)
        finally:
            if was_training:
                generator.train()
                critic.train()
        return _write_song(result.song, Path(out_path))


def write_base_preview(base_folder: Path, device, melody_song, out_path: Path,
                       seed: int = 0) -> Path:
    """The base model's own take on the preview melody (loaded afresh, as the Generate
    panel would), for comparison with the previews."""
    from composer_gui.ml.generate.sample import Composer

    composer = Composer(Path(base_folder), device.type)
    result = composer.compose(melody_song, melody_track=0, seed=seed, candidates=1)
    return _write_song(result.song, Path(out_path))


def _write_song(song, out_path: Path) -> Path:
    from composer_gui.midi.smf import write_midi

    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp")
    write_midi(song, tmp)
    tmp.replace(out_path)  # the window never reads half a file
    return out_path
