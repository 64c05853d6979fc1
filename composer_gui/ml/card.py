"""A model card (README.md) written after training, from the config's training record.

Shipped models get a hand-written card with their measured metrics; this one makes sure
every user model says at least what data, command, machine and time produced it.
"""

from __future__ import annotations

from pathlib import Path

from composer_gui.ml.config import CARD_NAME, ModelConfig


def card_text(config: ModelConfig, history: list[dict] | None = None) -> str:
    t = config.training
    lines = [
        f"# {config.style} model",
        "",
        f"Writes {', '.join(config.role_names())} under a melody.",
        "",
        "## Training",
        "",
        f"- data: `{t.get('data', '?')}`",
        f"- command: `{t.get('command', '?')}`",
        f"- steps: {t.get('steps', '?')}, seed {t.get('seed', '?')}, batch {t.get('batch_size', '?')}, "
        f"lr {t.get('lr', '?')}, critic steps {t.get('critic_steps', '?')}",
        f"- machine: {t.get('device', '?')}, {t.get('elapsed_s', '?')} s",
        f"- fine-tuned from: {t.get('base') or 'nothing (from scratch)'}",
        "",
        "## Grid and window",
        "",
        f"{config.steps_per_beat} steps per beat, windows of {config.bars_per_window} bars of 4/4 "
        f"({config.window_steps} steps), pitches {config.lowest}-{config.highest}, "
        f"meters {', '.join(config.meters)}.",
    ]
    cov = t.get("data_report", {}).get("grid_coverage")
    if cov:
        lines += ["", "Onsets of the training data on each grid (steps per beat: share): "
                  + ", ".join(f"{k}: {v:.2%}" for k, v in cov.items()) + "."]
    if history:
        lines += ["", "## Validation during training", "", "| step | val BCE | val F1 | critic gap |",
                  "|---|---|---|---|"]
        for h in history[-10:]:
            lines.append(f"| {h['step']} | {h.get('val_bce', 0):.3f} | {h.get('val_f1', 0):.3f} | "
                         f"{h.get('critic_gap', 0):.3f} |")
    return "\n".join(lines) + "\n"


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
