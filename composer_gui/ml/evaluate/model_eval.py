"""``evaluate``: the generator issue's metrics on a folder's validation songs.

For every validation song (the fixed split of :mod:`composer_gui.ml.data.dataset`) the model
writes all its parts under the real melody, and :mod:`composer_gui.ml.metrics` measures
generated and real parts alike (same bars, same key: the one estimated on the real
song). Besides the table:

* ``seed_overlap``: median note overlap between the outputs of two seeds (target < 0.70),
* ``critic_choice``: mean TD to the melody of the critic's pick among K candidates vs the
  mean over all K candidates (a random pick's expectation); lower is better.
* with ``by_meter``: ``by_meter[METER]`` holds the same tables for the songs whose bars
  are mostly in that meter (:func:`main_meter`), so a model for several meters can show
  every target met in each.
* ``harmony``: the harmony measures (:mod:`composer_gui.ml.metrics.harmony`) of the real
  and the generated accompaniment, pooled over the songs; ``lines``: per part, octave
  leaps, repeated notes and notes per bar; ``two_sample``: the classifier two-sample
  test's ROC AUC (:mod:`composer_gui.ml.evaluate.two_sample`), generated against real
  bars and, as the calibration point, another song's real accompaniment against real;
  ``critic_choice_judged``: on what share of the melodies the critic's pick among the K
  candidates looks less generated to that classifier (the fold that never saw the
  melody) than a random pick would on average.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from composer_gui.ml.data.dataset import (
    MARGIN,
    SongArrays,
    load_dataset,
)
from composer_gui.ml.errors import DataError
from composer_gui.ml.evaluate.two_sample import SongBars, judge, other_song_rows, two_sample_auc
from composer_gui.ml.metrics.harmony import (
    HARMONY_LABELS,
    LINE_LABELS,
    line_counts,
    pooled,
    pooled_lines,
    song_harmony,
)
from composer_gui.ml.metrics.keys import estimate_key
from composer_gui.ml.metrics.rolls import to_full_range
from composer_gui.ml.metrics.tables import SongRolls, aggregate_metrics, targets_met
from composer_gui.ml.metrics.tables import format_table as metrics_table
from composer_gui.ml.metrics.tracks import median_note_overlap, tonal_distance
from composer_gui.pianoroll.grid import ONSET


def _pair(codes: np.ndarray, lowest: int):
    """(onsets, held) full-range rolls from codes ``[S, P]`` starting at ``lowest``."""
    return (to_full_range(codes == ONSET, lowest), to_full_range(codes > 0, lowest))


def main_meter(song: SongArrays) -> str:
    """The meter of most of a song's steps (ties: the earlier meter)."""
    ends = np.append(song.bar_starts[1:], song.codes.shape[1])
    steps: dict[str, int] = {}
    for meter, a, b in zip(song.bar_meters, song.bar_starts, ends):
        steps[meter] = steps.get(meter, 0) + int(b - a)
    return max(steps, key=lambda m: (steps[m], -song.bar_meters.index(m)))


def evaluate_model(model: str, data_dir: Path, candidates: int = 16, seed: int = 0,
                   max_songs: int | None = None, device: str = "auto",
                   use_cache: bool = True, temperature: float | None = None,
                   by_meter: bool = False, two_sample: bool = True,
                   overrides: dict | None = None, guidance: str | None = None) -> dict:
    """Metrics table (data vs generated), seed overlap and critic-choice check; with
    ``by_meter`` also the tables per main meter (see the module docstring)."""
    from composer_gui.ml.device import configure_threads
    from composer_gui.ml.generate.sample import Composer
    from composer_gui.ml.model.registry import resolve_model

    configure_threads(default=1)
    folder = resolve_model(model)
    composer = Composer(folder, device)
    if overrides:  # decoding settings tried without touching the model (with / without a rule)
        from composer_gui.ml.model.config import apply_overrides

        apply_overrides(composer.config, overrides)
    from composer_gui.ml.generate.guidance import guidance_samples

    # as generation: the conductor steers sampling (default light) where there is one
    samples = guidance_samples(guidance) if composer.conductor is not None else 1
    config = composer.config
    temp = config.temperature if temperature is None else temperature
    dataset = load_dataset(Path(data_dir), config, use_cache)
    songs = dataset.validation[:max_songs] if max_songs else dataset.validation
    if not songs:
        raise DataError(f"{data_dir}: no validation songs (the split holds ~10% of files by name)")
    lo_ext = config.lowest - MARGIN
    roles = [r.role for r in config.roles]
    drums = frozenset(r.role for r in config.roles if r.is_drum)
    real_songs, gen_songs, second, first = [], [], [], []
    real_bars, gen_bars, real_harmony, gen_harmony = [], [], [], []
    real_lines: dict[str, list] = {}
    gen_lines: dict[str, list] = {}
    chosen_td, all_td = [], []
    ranked: list[tuple[int, list[SongBars], int]] = []  # (song, candidates, critic's pick)
    for song in songs:
        melody = _pair(song.codes[0], lo_ext)
        real = {role: _pair(song.codes[1 + r], lo_ext) for r, role in enumerate(roles)}
        key = estimate_key(melody, *[t for ro, t in real.items() if ro not in drums])
        state, _ = composer.accompany_arrays(song, seed, 1, temp, samples)
        made = {role: _pair(state[0, r], config.lowest) for r, role in enumerate(roles)}
        state2, _ = composer.accompany_arrays(song, seed + 1, 1, temp, samples)
        first.append(np.stack([state[0, r] > 0 for r in range(config.tracks)]))
        second.append(np.stack([state2[0, r] > 0 for r in range(config.tracks)]))
        common = dict(steps_per_bar=song.bar_starts, steps_per_beat=config.steps_per_beat,
                      key=key, drum_roles=drums, name=song.name)
        real_songs.append(SongRolls(melody=melody, tracks=real, **common))
        gen_songs.append(SongRolls(melody=melody, tracks=made, **common))
        pitched = [ro for ro in roles if ro not in drums]
        for tracks, bars, harm, lines in ((real, real_bars, real_harmony, real_lines),
                                          (made, gen_bars, gen_harmony, gen_lines)):
            parts = [tracks[ro] for ro in pitched]
            bars.append(SongBars(song.name, melody, parts, song.bar_starts,
                                 config.steps_per_beat, key))
            harm.append(song_harmony(melody, parts, config.steps_per_beat))
            for ro in pitched:
                lines.setdefault(ro, []).append(line_counts(tracks[ro], song.bar_starts))
        if candidates > 1:
            many, scores = composer.accompany_arrays(song, seed + 2, candidates, temp, samples)
            tds = []
            for c in range(candidates):
                pitched = [_pair(many[c, r], config.lowest) for r, ro in enumerate(roles)
                           if ro not in drums]
                tds.append(np.nanmean([tonal_distance(melody, t, song.bar_starts)
                                       for t in pitched]))
            chosen_td.append(tds[int(np.argmax(scores))])
            all_td.append(float(np.nanmean(tds)))
            pitched_roles = [r for r, ro in enumerate(roles) if ro not in drums]
            ranked.append((len(real_bars) - 1, [
                SongBars(song.name, melody, [_pair(many[c, r], config.lowest)
                                             for r in pitched_roles],
                         song.bar_starts, config.steps_per_beat, key)
                for c in range(candidates)], int(np.argmax(scores))))
    data_table = aggregate_metrics(real_songs, seed=seed)
    gen_table = aggregate_metrics(gen_songs, seed=seed)
    overlap = median_note_overlap(
        [np.stack([to_full_range(a, config.lowest) for a in f]) for f in first],
        [np.stack([to_full_range(a, config.lowest) for a in s]) for s in second],
    )
    met = targets_met(data_table, gen_table)
    result = {
        "model": str(folder),
        **({"overrides": dict(overrides)} if overrides else {}),
        "guidance": guidance or "light" if samples > 1 else "off",
        "data": str(data_dir),
        "validation_songs": len(songs),
        "roles": roles,
        "data_table": data_table,
        "generated_table": gen_table,
        "targets_met": met,
        "seed_overlap": overlap,
        "temperature": temp,
    }
    if by_meter:
        groups: dict[str, list[int]] = {}
        for i, song in enumerate(songs):
            groups.setdefault(main_meter(song), []).append(i)
        result["by_meter"] = {}
        for meter, idx in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            d = aggregate_metrics([real_songs[i] for i in idx], seed=seed)
            g = aggregate_metrics([gen_songs[i] for i in idx], seed=seed)
            result["by_meter"][meter] = {"validation_songs": len(idx), "data_table": d,
                                         "generated_table": g,
                                         "targets_met": targets_met(d, g)}
    result["harmony"] = {"data": pooled(real_harmony), "generated": pooled(gen_harmony)}
    result["lines"] = {ro: {"data": pooled_lines(real_lines[ro]),
                            "generated": pooled_lines(gen_lines[ro])} for ro in real_lines}
    if two_sample:
        test = two_sample_auc(real_bars, gen_bars, seed=seed, keep_models=bool(ranked))
        calibration = two_sample_auc(real_bars, other_song_rows(real_bars), seed=seed)
        result["two_sample"] = {"auc": test["auc"], "other_song_auc": calibration["auc"],
                                "bars": test["bars"], "songs": test["songs"],
                                "mean_proba_generated": test.get("mean_proba_generated")}
        judges = test.get("judges", {})
        wins, pairs = 0, 0
        for index, cands, pick in ranked:
            if index not in judges:
                continue
            probs = [judge(judges[index], c) for c in cands]
            pairs += 1
            wins += probs[pick] < float(np.mean(probs))  # a random pick's expectation
        if pairs:
            result["critic_choice_judged"] = {"melodies": pairs, "pick_beats_random": wins / pairs}
    if chosen_td:
        result["critic_choice"] = {"candidates": candidates,
                                   "chosen_td": float(np.nanmean(chosen_td)),
                                   "mean_candidate_td": float(np.nanmean(all_td))}
    return result


def _num(value) -> str:
    return "n/a" if value is None or value != value else f"{value:.3f}"


def format_table(result: dict) -> str:
    """The model-card table plus the sampler and critic checks, as markdown."""
    lines = [f"{result['validation_songs']} validation songs of {result['data']}", ""]
    lines[-1:] = [f"the conductor's guidance: {result.get('guidance', 'off')}", ""]
    if result.get("overrides"):
        lines[-1:] = ["decoding settings changed for this evaluation: " + ", ".join(
            f"{k}={v:g}" for k, v in result["overrides"].items()), ""]
    lines.append(metrics_table(result["data_table"], result["generated_table"],
                                      roles=result["roles"]).rstrip())
    lines.append("")
    lines.append(f"median note overlap between two seeds: {result['seed_overlap']:.3f} "
                 f"(target < 0.70)")
    harmony = result.get("harmony")
    if harmony:
        lines += ["", "| harmony | data | generated |", "|---|---:|---:|"]
        for name, label in HARMONY_LABELS.items():
            lines.append(f"| {label} | {_num(harmony['data'].get(name))} | "
                         f"{_num(harmony['generated'].get(name))} |")
    if result.get("lines"):
        lines += ["", "| part | measure | data | generated |", "|---|---|---:|---:|"]
        for role, part in result["lines"].items():
            for name, label in LINE_LABELS.items():
                lines.append(f"| {role} | {label} | {_num(part['data'].get(name))} | "
                             f"{_num(part['generated'].get(name))} |")
    ts = result.get("two_sample")
    if ts:
        lines += ["", f"classifier two-sample test, ROC AUC (0.5: cannot tell them apart): "
                  f"generated vs real {_num(ts['auc'])}; another song's real accompaniment "
                  f"vs real {_num(ts['other_song_auc'])} ({ts['bars']} bars of {ts['songs']} "
                  "songs, cross-validated by song)"]
    cc = result.get("critic_choice")
    if cc:
        lines.append(f"TD to the melody, critic's choice of {cc['candidates']}: "
                     f"{cc['chosen_td']:.3f}; mean candidate: {cc['mean_candidate_td']:.3f} "
                     "(lower is better)")
    cj = result.get("critic_choice_judged")
    if cj:
        lines.append(f"the critic's pick looks less generated to the two-sample classifier "
                     f"than a random pick on {cj['pick_beats_random']:.0%} of "
                     f"{cj['melodies']} melodies")
    for meter, part in result.get("by_meter", {}).items():
        met = part["targets_met"]
        n_met = sum(v for role in met.values() for v in role.values())
        n_all = sum(len(role) for role in met.values())
        lines += ["", f"### {meter}: {part['validation_songs']} validation songs, "
                  f"{n_met} of {n_all} targets met", ""]
        lines.append(metrics_table(part["data_table"], part["generated_table"],
                                          roles=result["roles"]).rstrip())
    return "\n".join(lines) + "\n"
