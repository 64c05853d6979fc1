"""What a training run takes: :class:`TrainOptions`, the defaults the command line and
the fine-tune window share (:data:`TRAIN_DEFAULTS`), and the settings a saved run resumes
with. No torch: the window reads these while it is being built.
"""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from composer_gui.ml.errors import ModelError

#: Defaults of the settings a resumed run otherwise takes from its saved state, declared
#: once for ``composer-gui train`` and the fine-tune window.
TRAIN_DEFAULTS = {"batch_size": 32, "lr": 3e-4, "critic_steps": 1, "validate_every": 200}
#: Minutes of a fine-tune's conductor stage unless ``--conductor-minutes`` says otherwise
#: (it usually ends sooner: when the validation AUC stops improving).
FINETUNE_CONDUCTOR_MINUTES = 2.0


@dataclass
class TrainOptions:
    data_dir: Path
    out_dir: Path
    style: str | None = "chorale"
    base: Path | None = None  # --from: fine-tune this model
    steps: int | None = None
    minutes: float | None = None
    batch_size: int = TRAIN_DEFAULTS["batch_size"]
    lr: float = TRAIN_DEFAULTS["lr"]
    critic_steps: int = TRAIN_DEFAULTS["critic_steps"]
    device: str = "auto"
    seed: int = 0
    resume: bool = False
    save_every_s: float = 60.0
    validate_every: int = TRAIN_DEFAULTS["validate_every"]
    log_every: int = 10
    adv_weight: float = 0.1
    #: The critic judges decoded (binary) parts, as generation ranks them; gradients pass
    #: straight through the decoding to the probabilities. False: raw probabilities.
    decoded_fakes: bool = True
    gp_weight: float = 10.0
    cache_dir: Path | None = None
    use_cache: bool = True
    melody_track: int | None = None
    #: ``--mapping MAP.json``: the files to read and their melody / role tracks.
    mapping: Path | None = None
    #: Minutes of the conductor stage at the end (``ml.train.conductor.conductor_stage``);
    #: 0: none.
    conductor_minutes: float = 0.0
    #: Write a preview MIDI every this many steps (None: no previews).
    preview_every: int | None = None
    #: A :class:`composer_gui.ml.train.control.TrainControl` (pause / resume / stop), or None.
    control: object = None
    command: str = field(default_factory=lambda: shlex.join(["composer-gui", *sys.argv[1:]]))
    config_overrides: dict = field(default_factory=dict)


def resume_settings(out_dir: Path) -> dict:
    """The settings a run saved with its state (data folder, mapping, target steps,
    batch size ...), so ``train --resume -o OUT`` needs nothing else."""
    from composer_gui.ml.model.checkpoint import STATE_JSON

    path = Path(out_dir) / STATE_JSON
    if not path.is_file():
        raise ModelError(f"{out_dir}: nothing to resume (no {STATE_JSON})")
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")).get("training", {}))
    except (OSError, ValueError, AttributeError) as exc:
        raise ModelError(f"{path}: corrupt training state ({exc})") from exc
