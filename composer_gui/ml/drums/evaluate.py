"""The drum model against Groove's validation split (:func:`evaluate_drums`) and the
model card's table (:func:`format_drum_table`). No torch import at module level."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from composer_gui.core.song import Note
from composer_gui.ml.data.sources.groove import (
    aggregate_drum_stats,
    drum_bar_stats,
    drum_roll,
    load_groove_index,
    load_groove_song,
)
from composer_gui.ml.drums.data import (
    DRUM_METERS,
    groove_folder,
    load_drum_song,
    phrase_ride_flags,
)
from composer_gui.ml.errors import DataError

#: Statistic -> (kind, tolerance) for "close" in :func:`format_drum_table`: "abs" means
#: |generated - data| <= tolerance, "rel" means |generated - data| <= tolerance * data.
TOLERANCES: dict[str, tuple[str, float]] = {
    "empty_bar_rate": ("abs", 0.05),
    "notes_per_bar": ("rel", 0.15),
    "kick_share": ("abs", 0.05),
    "snare_share": ("abs", 0.05),
    "hihat_share": ("abs", 0.05),
    "drum_pattern_rate": ("abs", 0.10),
    "bar_repeat": ("abs", 0.10),
    "fill_density": ("rel", 0.20),
    "fill_tom_share": ("abs", 0.05),
    "beat_tom_share": ("abs", 0.05),
    "hat_ride_mix": ("abs", 0.05),
    "backbeat": ("abs", 0.10),
}
#: The drum pattern rate is measured on a grid of this many steps per beat: on the
#: model's own 16th grid it is 1 by construction, on 12 it tells straight 16ths (and
#: human timing near them) from triplets, swing and loose playing.
DP_STEPS_PER_BEAT = 12
_STAT_LABELS = {
    "empty_bar_rate": "empty-bar rate",
    "notes_per_bar": "notes per bar",
    "kick_share": "kick share",
    "snare_share": "snare share",
    "hihat_share": "hi-hat share",
    "drum_pattern_rate": f"drum pattern rate ({DP_STEPS_PER_BEAT} steps/beat)",
    "bar_repeat": "bar-to-bar repetition (beats)",
    "fill_density": "notes in fill bars / other bars",
    "fill_tom_share": "tom share in fill bars",
    "beat_tom_share": "tom share in other bars",
    "hat_ride_mix": "bars keeping time on hi-hat and ride at once",
    "backbeat": "beat bars with snare on beats 2 and 4",
}


def _roll_stats(notes: Sequence[Note], tpb: int, bars: int, steps_per_beat: int) -> dict:
    onsets, _ = drum_roll(notes, tpb, steps_per_beat, bars * 4 * steps_per_beat)
    return drum_bar_stats((onsets, onsets.copy()), 4 * steps_per_beat, steps_per_beat)


def _grid_notes(config, hits, vel, off, tpb: int) -> list[Note]:
    """Notes of generated arrays on a plain 4/4 grid from tick 0."""
    steps, classes = np.nonzero(hits)
    return [Note(int(config.classes[c][1]), max(0, int(round((s + off[s, c]) * tpb / 4))),
                 max(1, tpb // 8), int(round(1 + 126 * vel[s, c])))
            for s, c in zip(steps.tolist(), classes.tolist())]


#: Rows of the tom classes (low, mid, high tom) in DRUM_CLASSES.
_TOMS = [4, 5, 6]


def _structure(hits: np.ndarray, fill: np.ndarray, bar_steps: int = 16) -> np.ndarray:
    """(sum of bar-to-bar Jaccard similarities, pairs, notes in fill bars, fill bars,
    notes in other bars, other bars, tom notes in fill bars, tom notes in other bars,
    bars with 2+ hi-hat and 2+ ride hits, non-empty bars, beat bars with a snare on
    beats 2 and 4, non-empty beat bars) of a hit grid ``[bars * 16, C]``; the similarity is that of the hit sets (step, drum) of
    consecutive non-empty beat (not fill) bars."""
    grid = hits.reshape(len(fill), bar_steps, hits.shape[1]).astype(bool)
    bars = grid.reshape(len(fill), -1)
    counts = bars.sum(1)
    toms = grid[:, :, _TOMS].sum((1, 2))
    # a drummer keeps time on the hi-hat or on the ride, seldom both in one bar
    per_drum = grid.sum(1)
    mixed = ((per_drum[:, 2] + per_drum[:, 3] >= 2) & (per_drum[:, 8] >= 2)).sum()
    # the backbeat: a snare on both beat 2 and beat 4 (steps 4 and 12) of a beat bar
    backbeat = (grid[:, 4, 1] & grid[:, 12, 1] & ~fill & (counts > 0)).sum()
    pair = ~fill[:-1] & ~fill[1:] & (counts[:-1] > 0) & (counts[1:] > 0)
    inter = (bars[:-1] & bars[1:]).sum(1)[pair]
    union = (bars[:-1] | bars[1:]).sum(1)[pair]
    return np.array([float((inter / union).sum()), pair.sum(), counts[fill].sum(), fill.sum(),
                     counts[~fill].sum(), (~fill).sum(), toms[fill].sum(), toms[~fill].sum(),
                     mixed, (counts > 0).sum(), backbeat, ((counts > 0) & ~fill).sum()],
                    dtype=np.float64)


def _pool(per_song4: list[dict], per_song_dp: list[dict], structure: np.ndarray,
          ) -> dict[str, float]:
    out = aggregate_drum_stats(per_song4)
    out["drum_pattern_rate"] = aggregate_drum_stats(per_song_dp)["drum_pattern_rate"]
    (jac, pairs, fill_notes, fill_bars, other_notes, other_bars, fill_toms, other_toms,
     mixed, sounding, backbeat, beat_bars) = structure
    nan = float("nan")
    out["bar_repeat"] = float(jac / pairs) if pairs else nan
    out["fill_density"] = (float((fill_notes / fill_bars) / (other_notes / other_bars))
                           if fill_bars and other_notes else nan)
    out["fill_tom_share"] = float(fill_toms / fill_notes) if fill_notes else nan
    out["beat_tom_share"] = float(other_toms / other_notes) if other_notes else nan
    out["hat_ride_mix"] = float(mixed / sounding) if sounding else nan
    out["backbeat"] = float(backbeat / beat_bars) if beat_bars else nan
    return out


def is_close(key: str, data: float, generated: float) -> bool:
    """Whether a generated statistic lies within :data:`TOLERANCES` of the data's."""
    kind, tol = TOLERANCES[key]
    limit = tol * abs(data) if kind == "rel" else tol
    return bool(np.isfinite(generated) and abs(generated - data) <= limit + 1e-12)


def evaluate_drums(model_folder: str | Path, groove_dir: str | Path, seed: int = 0,
                   limit: int | None = None) -> dict:
    """The drum statistics of Groove's validation split and of the model's drums for the
    same performances (each bar's labels as in training: the file's tempo and style,
    phrase starts and fill bars, and whether the phrase keeps time on the ride; one seed
    per performance from ``seed``).

    Returns ``{"data": stats, "generated": stats, "close": {key: bool}, "performances",
    "bars", "seed", "tolerances"}``; stats keys: empty_bar_rate, notes_per_bar,
    kick_share, snare_share, hihat_share (on the 16th grid, as
    ``sources.groove.song_drum_stats``) and drum_pattern_rate (on a grid of
    :data:`DP_STEPS_PER_BEAT` steps per beat), pooled over performances; and two of the
    drums' structure: bar_repeat (mean Jaccard similarity of the hits of consecutive
    beat bars: a groove repeats), fill_density (notes per fill bar over notes per
    other bar), the share of tom notes in fill bars and in other bars (fills move
    to the toms) and hat_ride_mix (the share of bars with 2+ hi-hat and 2+ ride hits:
    a drummer keeps time on one of them) and backbeat (the share of beat bars with a
    snare on beats 2 and 4).
    """
    from composer_gui.ml.drums.part import DrumModel

    model = DrumModel.load(model_folder)
    rows = [r for r in load_groove_index(groove_folder(Path(groove_dir)))
            if r.split == "validation" and r.meter in DRUM_METERS][:limit]
    if not rows:
        raise DataError(f"{groove_dir}: no validation performance in 4/4")
    data4, data_dp, gen4, gen_dp = [], [], [], []
    data_st, gen_st = np.zeros(12), np.zeros(12)
    total_bars = 0
    for i, row in enumerate(rows):
        song = load_groove_song(row)
        ds = load_drum_song(row, model.config, song)
        tpb = song.ticks_per_beat
        notes = [n for t in song.tracks for n in t.notes]
        data4.append(_roll_stats(notes, tpb, ds.bars, 4))
        data_dp.append(_roll_stats(notes, tpb, ds.bars, DP_STEPS_PER_BEAT))
        phrases = np.cumsum(ds.phrase_start)
        hits, vel, off = model.generate(ds.fill, ds.phrase_start, np.ones(ds.bars, bool),
                                        ds.bpm, ds.style, range(ds.bars), seed=seed * 1000 + i,
                                        phrase_ids=phrases,
                                        ride=phrase_ride_flags(ds.drums[0], phrases))
        made = _grid_notes(model.config, hits, vel, off, tpb)
        gen4.append(_roll_stats(made, tpb, ds.bars, 4))
        gen_dp.append(_roll_stats(made, tpb, ds.bars, DP_STEPS_PER_BEAT))
        data_st += _structure(ds.drums[0] > 0, ds.fill)
        gen_st += _structure(hits, ds.fill)
        total_bars += ds.bars
    data, generated = _pool(data4, data_dp, data_st), _pool(gen4, gen_dp, gen_st)
    return {
        "data": data, "generated": generated,
        "close": {k: is_close(k, data[k], generated[k]) for k in TOLERANCES},
        "performances": len(rows), "bars": total_bars, "seed": seed,
        "tolerances": dict(TOLERANCES),
    }


def format_drum_table(result: dict) -> str:
    """A markdown table of :func:`evaluate_drums`' result for the model card."""
    lines = [
        f"Groove validation split: {result['performances']} performances, "
        f"{result['bars']} bars; generated with the same bar labels (seed {result['seed']}).",
        "",
        "| statistic | Groove validation | generated | close? (tolerance) |",
        "|---|---:|---:|---|",
    ]
    for key, (kind, tol) in TOLERANCES.items():
        d, g = result["data"][key], result["generated"][key]
        fmt = "{:.2f}" if key in ("notes_per_bar", "fill_density") else "{:.3f}"
        tol_text = f"within {tol:.0%}" if kind == "rel" else f"within ±{tol:g}"
        verdict = "yes" if result["close"][key] else "**no**"
        lines.append(f"| {_STAT_LABELS[key]} | {fmt.format(d)} | {fmt.format(g)} | "
                     f"{verdict} ({tol_text}) |")
    return "\n".join(lines) + "\n"
