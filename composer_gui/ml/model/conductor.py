"""The conductor's files in a model folder (safetensors + JSON; never pickle).

The conductor is a critic trained after the generator is frozen
(:mod:`composer_gui.ml.train.conductor`): it learns to tell the real accompaniment of a
training window from what the shipped generator and decoder write under the same melody,
and gives a logit per window (higher: more real). Generation uses it to rank candidates
and to guide sampling, and the "how real" label places a candidate's score among its
scores of real validation windows it never trained on.

* ``conductor.safetensors``: the network (the GAN critic's architecture, ``critic.*``) and
  its ear's trees (``ear.*``, :mod:`composer_gui.ml.model.ear`).
* ``conductor.json``: ``weights_sha256`` (of ``model.safetensors``: a conductor belongs
  to one generator), ``reference`` (its sorted logits of real validation windows), and
  what it was trained on and how well it tells the two apart on validation songs;
  ``ear`` (the trees' baseline and feature count, and how well the ear tells bars apart)
  and ``weights`` (``network`` and ``ear``: how the two make the conductor's score,
  :class:`composer_gui.ml.generate.guidance.Judge`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from composer_gui.ml.errors import ModelError
from composer_gui.ml.model.checkpoint import _load_net, _load_tensors, _tensor_bytes, _write_all
from composer_gui.ml.model.config import WEIGHTS_NAME, ModelConfig
from composer_gui.ml.model.ear import Ear

CONDUCTOR_WEIGHTS = "conductor.safetensors"
CONDUCTOR_INFO = "conductor.json"


def weights_digest(folder: Path) -> str:
    """SHA-256 of a model folder's generator weights file."""
    return hashlib.sha256((Path(folder) / WEIGHTS_NAME).read_bytes()).hexdigest()


def save_conductor(folder: Path, network, info: dict[str, Any], ear: Ear | None = None) -> None:
    """Write the conductor's weights (its network and, when given, its ``ear``) and
    ``info`` (``weights_sha256`` and the ear's record added) atomically."""
    import torch

    folder = Path(folder)
    info = dict(info, weights_sha256=weights_digest(folder))
    tensors = {f"critic.{k}": v for k, v in network.state_dict().items()}
    if ear is not None:
        tensors.update({f"ear.{k}": torch.from_numpy(v) for k, v in ear.arrays().items()})
        info["ear"] = dict(info.get("ear") or {}, baseline=ear.baseline,
                           n_features=ear.n_features)
    _write_all(folder, {
        CONDUCTOR_WEIGHTS: _tensor_bytes(tensors, {"format": "composer-gui-conductor"}),
        CONDUCTOR_INFO: (json.dumps(info, indent=1) + "\n").encode("utf-8"),
    })


def load_conductor(folder: Path, config: ModelConfig, device: Any = "cpu"):
    """(network in eval mode, info, ear or None) of a model folder's conductor; None when
    it has none or it belongs to other generator weights (a fine-tune's copy of its
    base's). Raises ModelError for a corrupt conductor file."""
    from composer_gui.ml.model.networks import Critic

    folder = Path(folder)
    weights, info_path = folder / CONDUCTOR_WEIGHTS, folder / CONDUCTOR_INFO
    if not weights.is_file() or not info_path.is_file():
        return None
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{info_path}: unreadable or corrupt JSON ({exc})") from exc
    if not isinstance(info, dict) or info.get("weights_sha256") != weights_digest(folder):
        return None
    tensors, _meta = _load_tensors(weights)
    network = Critic(config)
    _load_net(network, "critic", {k: v for k, v in tensors.items() if k.startswith("critic.")},
              weights)
    ear = None
    if isinstance(info.get("ear"), dict):
        record = info["ear"]
        arrays = {k[len("ear."):]: v.numpy() for k, v in tensors.items() if k.startswith("ear.")}
        try:
            ear = Ear.from_arrays(arrays, record["baseline"], record["n_features"])
        except (KeyError, ModelError) as exc:
            raise ModelError(f"{weights}: {exc}") from exc
    return network.to(device).eval(), info, ear
