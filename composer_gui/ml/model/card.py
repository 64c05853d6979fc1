"""A model card (README.md) written after training, from the config's training record.

Shipped models get a hand-written card with their measured metrics; this one makes sure
every user model says at least what data, settings, machine and time produced it, and
how its output measured against the data at the end. A card this module wrote ends
with :data:`AUTO_MARK` and is rewritten when a resumed run finishes; a hand-written card
(without the mark) is never overwritten.
"""

from __future__ import annotations

import math
from pathlib import Path

from composer_gui.ml.model.config import CARD_NAME, ModelConfig

AUTO_MARK = "<!-- composer-gui: auto-written model card; rewritten after each training run -->"


def _duration(seconds) -> str:
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        return "?"
    if s < 120:
        return f"{s:.0f} s"
    return f"{s / 60:.1f} min" if s < 7200 else f"{s / 3600:.1f} h"


def _nan_free(table: dict | None) -> dict:
    return {role: {k: (math.nan if v is None else v) for k, v in values.items()}
            for role, values in (table or {}).items()}


def card_text(config: ModelConfig, history: list[dict] | None = None,
              reference: dict | None = None, final: dict | None = None,
              conductor: dict | None = None) -> str:
    """The card: what it writes, data summary, settings, duration, grid, final metrics
    (``reference``: the data's values, ``final``: the generated parts', both as in the
    training's validation records), the conductor (its conductor.json record, when the run
    trained one) and the validation history."""
    from composer_gui.core.gm import instrument_label

    t = config.training
    rep = t.get("data_report", {})
    lines = [
        f"# {config.style} model",
        "",
        "Writes " + ", ".join(f"{r.name} ({instrument_label(r.program, r.is_drum)})"
                              for r in config.output_roles()) + " under a melody.",
        "",
        "## Data",
        "",
        f"- folder: `{t.get('data', '?')}`" + (f", files chosen by `{t['mapping']}`"
                                                 if t.get("mapping") else ""),
        f"- {rep.get('files', '?')} MIDI files read: {rep.get('train_songs', '?')} training "
        f"songs, {rep.get('validation_songs', '?')} validation songs (never trained on), "
        f"{t.get('skipped_files', 0)} skipped as unusable"
        + (f", {rep['excluded']} left out by choice" if rep.get("excluded") else ""),
        "",
        "## Training",
        "",
        f"- command: `{t.get('command', '?')}`",
        f"- fine-tuned from: {t.get('base') or 'nothing (from scratch)'}"
        + (f" ({', '.join(t['kept_from_base'])} kept from it unchanged)"
           if t.get("kept_from_base") else ""),
        f"- steps: {t.get('steps', '?')}, seed {t.get('seed', '?')}, "
        f"batch {t.get('batch_size', '?')}"
        + (f" per process x {t['world_size']} processes" if t.get("world_size", 1) > 1 else "")
        + f", lr {t.get('lr', '?')}, critic steps {t.get('critic_steps', '?')}",
        f"- machine: {t.get('device', '?')}; training time {_duration(t.get('elapsed_s'))}"
        + (f"; ended by {t['ended']}" if t.get("ended") else ""),
    ]
    if t.get("bar_gates"):
        lines.append("- bar gates fitted to the training songs (parts rest in as many bars as "
                     "theirs do): " + ", ".join(f"{k} {v:g}" for k, v in t["bar_gates"].items()))
    lines += [
        "",
        "## Grid and window",
        "",
        f"{config.steps_per_beat} steps per beat, windows of {config.bars_per_window} bars of 4/4 "
        f"({config.window_steps} steps), pitches {config.lowest}-{config.highest}, "
        f"meters {', '.join(config.meters)}.",
    ]
    cov = rep.get("grid_coverage")
    if cov:
        lines += ["", "Onsets of the training data on each grid (steps per beat: share): "
                  + ", ".join(f"{k}: {v:.2%}" for k, v in cov.items()) + "."]
    if reference and final:
        from composer_gui.ml.metrics.tables import format_table
        lines += ["", "## Final metrics", "",
                  "On the validation songs' fixed windows (4 bars, no context), the generated "
                  "parts against the real ones (`composer-gui evaluate` measures whole songs):",
                  "", format_table(_nan_free(reference), _nan_free(final),
                                           roles=[r.name for r in config.roles]).rstrip()]
    lines += _conductor_lines(conductor)
    if history:
        lines += ["", "## Validation during training", "",
                  "| step | val BCE | val F1 | critic gap |",
                  "|---|---|---|---|"]
        for h in history[-10:]:
            lines.append(f"| {h['step']} | {h.get('val_bce', 0):.3f} | {h.get('val_f1', 0):.3f} | "
                         f"{h.get('critic_gap', 0):.3f} |")
    return "\n".join(lines + ["", AUTO_MARK]) + "\n"


def _conductor_lines(info: dict | None) -> list[str]:
    if not info:
        return []
    start = ("the base model's conductor" if "start_validation_auc" in info
             else "the GAN critic")
    before = info.get("start_validation_auc", info.get("critic_validation_auc"))
    return ["", "## Conductor", "",
            f"Trained after the generator, which stayed frozen, starting from {start}: "
            f"{info.get('train_songs', '?')} training songs' real accompaniment against what "
            f"this model writes under their melodies, {info.get('steps', '?')} steps in "
            f"{info.get('minutes', '?')} min. On the {info.get('validation_songs', '?')} "
            f"validation songs it tells real from generated windows with ROC AUC "
            f"{info.get('validation_auc', '?')} (before: {before})"
            + (f"; its ear (trees on what a listener hears in each bar) tells their bars "
               f"apart with AUC {info['ear'].get('validation_bar_auc', '?')}"
               if isinstance(info.get("ear"), dict) else "")
            + ". The real windows' scores are the reference of the \"how real\" label. It "
            "guides generation (Conductor: light by default) and ranks candidates."]


def write_card(folder: Path, config: ModelConfig, history: list[dict] | None = None,
               reference: dict | None = None, final: dict | None = None,
               conductor: dict | None = None) -> Path | None:
    """Write README.md unless a hand-written card is there; returns the path written."""
    folder = Path(folder)
    path = folder / CARD_NAME
    if path.exists():
        old = path.read_text(encoding="utf-8", errors="replace")
        if not old.rstrip().endswith(AUTO_MARK):
            return None
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(card_text(config, history, reference, final, conductor), encoding="utf-8")
    tmp.replace(path)
    return path


def write_card_if_missing(folder: Path) -> Path | None:
    """Write README.md from the training record unless a card is already there."""
    import json

    folder = Path(folder)
    path = folder / CARD_NAME
    if path.exists():
        return None
    config = ModelConfig.load(folder)
    history = None
    state = folder / "training_state.json"
    if state.is_file():
        try:
            history = json.loads(state.read_text(encoding="utf-8")).get("history")
        except ValueError:
            history = None
    path.write_text(card_text(config, history), encoding="utf-8")
    return path
