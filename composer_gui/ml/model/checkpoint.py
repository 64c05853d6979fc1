"""Model folders and training checkpoints (safetensors + JSON; never pickle).

A model folder holds:

* ``config.json``       the :class:`~composer_gui.ml.model.config.ModelConfig`,
* ``model.safetensors`` both networks (``generator.*`` and ``critic.*`` tensors),
* ``README.md``         the model card,

and, while or after training there, the resumable state:

* ``training_state.safetensors`` networks, both optimizers' tensors, torch RNG state,
* ``training_state.json``        step, seed, elapsed time, optimizer scalars, numpy RNG.

Every file is written to a temporary name and renamed, so a kill leaves the previous
complete version in place. A save writes all its files first and renames them only when
every write succeeded: a disk that fills up during a checkpoint (``DiskFull``) leaves the
previous checkpoint whole and loadable, and the partial files are removed.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

from composer_gui.ml.errors import DiskFull, ModelError
from composer_gui.ml.model.config import CONFIG_NAME, WEIGHTS_NAME, ModelConfig

STATE_TENSORS = "training_state.safetensors"
STATE_JSON = "training_state.json"
_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _write_file(path: Path, data: bytes) -> None:
    """Write and flush to the disk (the one place a save touches file contents)."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _write_all(folder: Path, files: dict[str, bytes]) -> None:
    """Write every file to ``NAME.tmp``, then rename them all; if any write fails, remove
    the temporary files and leave the folder as it was."""
    staged = []
    try:
        for name, data in files.items():
            tmp = folder / (name + ".tmp")
            staged.append(tmp)
            _write_file(tmp, data)
    except OSError as exc:
        for tmp in staged:
            tmp.unlink(missing_ok=True)
        if exc.errno in _FULL:
            raise DiskFull(f"the disk is full: could not save to {folder} (the previous "
                           "checkpoint there is intact; free some space, then resume)") from exc
        raise ModelError(f"could not write to {folder}: {exc.strerror or exc} (the previous "
                         "checkpoint there is intact)") from exc
    for tmp in staged:
        tmp.replace(folder / tmp.name[:-4])


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    _write_all(path.parent, {path.name: data})


def _tensor_bytes(tensors: dict, metadata: dict[str, str]) -> bytes:
    from safetensors.torch import save

    clean = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    return save(clean, metadata=metadata)


def _save_tensors(path: Path, tensors: dict, metadata: dict[str, str]) -> None:
    _atomic_write_bytes(path, _tensor_bytes(tensors, metadata))


def _config_bytes(config: ModelConfig) -> bytes:
    return (json.dumps(config.to_dict(), indent=2) + "\n").encode("utf-8")


def _model_files(config: ModelConfig, generator, critic, step: int) -> dict[str, bytes]:
    return {
        WEIGHTS_NAME: _tensor_bytes(
            _net_tensors(generator, critic),
            {"format": "composer-gui", "version": str(config.version), "step": str(step)}),
        CONFIG_NAME: _config_bytes(config),
    }


def _load_tensors(path: Path) -> tuple[dict, dict[str, str]]:
    from safetensors import SafetensorError
    from safetensors.torch import load

    if not path.is_file():
        raise ModelError(f"{path.parent}: missing {path.name}")
    try:
        data = path.read_bytes()
        tensors = load(data)
        header_len = int.from_bytes(data[:8], "little")
        metadata = json.loads(data[8:8 + header_len]).get("__metadata__", {}) or {}
    except (SafetensorError, ValueError, OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: corrupt or truncated weights file ({exc})") from exc
    return tensors, metadata


def _net_tensors(generator, critic) -> dict:
    out = {f"generator.{k}": v for k, v in generator.state_dict().items()}
    out.update({f"critic.{k}": v for k, v in critic.state_dict().items()})
    return out


def _load_net(module, prefix: str, tensors: dict, where: Path) -> None:
    expected = module.state_dict()
    got = {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
    missing = sorted(set(expected) - set(got))
    if missing:
        raise ModelError(f"{where}: {prefix} weights missing: {', '.join(missing[:4])}"
                         + (" ..." if len(missing) > 4 else ""))
    extra = sorted(set(got) - set(expected))
    if extra:
        raise ModelError(f"{where}: unexpected {prefix} weights: {', '.join(extra[:4])}")
    for k, v in expected.items():
        if tuple(got[k].shape) != tuple(v.shape):
            raise ModelError(
                f"{where}: {prefix}.{k} has shape {tuple(got[k].shape)}, config.json "
                f"needs {tuple(v.shape)} (weights and config do not match)"
            )
    module.load_state_dict(got)


# ----- model folders ---------------------------------------------------------------------
def save_model(folder: Path, config: ModelConfig, generator, critic, step: int = 0) -> None:
    """Write config.json and model.safetensors (both networks)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _write_all(folder, _model_files(config, generator, critic, step))


def read_config(folder: Path) -> ModelConfig:
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelError(f"{folder}: model folder not found")
    return ModelConfig.load(folder)


def load_model(folder: Path, device: Any = "cpu"):
    """(config, generator, critic) from a model folder, in eval mode on ``device``.

    Raises ModelError naming the problem: missing folder or file, corrupt JSON or
    weights, a version this program does not read, or weights that do not fit the config.
    """
    from composer_gui.ml.model.networks import build_models

    folder = Path(folder)
    config = read_config(folder)
    tensors, meta = _load_tensors(folder / WEIGHTS_NAME)
    if meta.get("version", str(config.version)) != str(config.version):
        raise ModelError(f"{folder / WEIGHTS_NAME}: weights version {meta.get('version')}, "
                         f"config.json says {config.version}")
    generator, critic = build_models(config)
    _load_net(generator, "generator", tensors, folder / WEIGHTS_NAME)
    _load_net(critic, "critic", tensors, folder / WEIGHTS_NAME)
    generator.to(device).eval()
    critic.to(device).eval()
    return config, generator, critic


def trained_steps(folder: Path) -> int | None:
    """The step count stored in model.safetensors' metadata (cheap: header only)."""
    path = Path(folder) / WEIGHTS_NAME
    try:
        with open(path, "rb") as fh:
            n = int.from_bytes(fh.read(8), "little")
            if n > 100_000_000:
                return None
            meta = json.loads(fh.read(n)).get("__metadata__", {}) or {}
        return int(meta.get("step", 0))
    except (OSError, ValueError):
        return None


# ----- training checkpoints --------------------------------------------------------------
def _flatten_optimizer(prefix: str, optimizer) -> tuple[dict, dict]:
    import torch

    sd = optimizer.state_dict()
    tensors, scalars = {}, {}
    for idx, state in sd["state"].items():
        for name, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.state.{idx}.{name}"] = value
            else:
                scalars[f"{idx}.{name}"] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _unflatten_optimizer(prefix: str, tensors: dict, info: dict) -> dict:
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if not key.startswith(prefix + ".state."):
            continue
        idx, name = key[len(prefix) + 7:].split(".", 1)
        state.setdefault(int(idx), {})[name] = value
    for key, value in info["scalars"].items():
        idx, name = key.split(".", 1)
        state.setdefault(int(idx), {})[name] = value
    return {"state": state, "param_groups": info["param_groups"]}


def save_training_state(folder: Path, config: ModelConfig, generator, critic, opt_g, opt_d,
                        info: dict, torch_rng, model_config: ModelConfig | None = None) -> None:
    """Save everything a resume needs, and the usable model beside it, all or nothing
    (see the module docstring); raises DiskFull when the disk fills up. The model's
    ``config.json`` is ``model_config`` when given (a fine-tune's fitted bar gates), the
    resume's copy always ``config``, the run's own."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = _net_tensors(generator, critic)
    t_g, s_g = _flatten_optimizer("opt_g", opt_g)
    t_d, s_d = _flatten_optimizer("opt_d", opt_d)
    tensors.update(t_g)
    tensors.update(t_d)
    tensors["rng.torch"] = torch_rng
    record = dict(info, opt_g=s_g, opt_d=s_d, config=config.to_dict())
    files = {
        STATE_TENSORS: _tensor_bytes(tensors, {"step": str(info["step"])}),
        STATE_JSON: json.dumps(record, indent=1).encode("utf-8"),
    }
    files.update(_model_files(model_config or config, generator, critic, int(info["step"])))
    _write_all(folder, files)


def load_training_state(folder: Path, generator, critic, opt_g, opt_d) -> tuple[dict, Any]:
    """Restore networks and optimizers in place; returns (info, torch RNG state)."""
    folder = Path(folder)
    path = folder / STATE_JSON
    if not path.is_file():
        raise ModelError(f"{folder}: nothing to resume (no {STATE_JSON})")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: corrupt training state ({exc})") from exc
    tensors, meta = _load_tensors(folder / STATE_TENSORS)
    if meta.get("step") != str(info.get("step")):
        raise ModelError(f"{folder}: {STATE_TENSORS} (step {meta.get('step')}) and {STATE_JSON} "
                         f"(step {info.get('step')}) are from different saves")
    _load_net(generator, "generator", tensors, folder / STATE_TENSORS)
    _load_net(critic, "critic", tensors, folder / STATE_TENSORS)
    try:
        opt_g.load_state_dict(_unflatten_optimizer("opt_g", tensors, info["opt_g"]))
        opt_d.load_state_dict(_unflatten_optimizer("opt_d", tensors, info["opt_d"]))
    except (KeyError, ValueError) as exc:
        raise ModelError(f"{folder}: optimizer state does not fit the model ({exc})") from exc
    return info, tensors.get("rng.torch")


def state_config(folder: Path) -> ModelConfig:
    """The config stored with a resumable training state."""
    path = Path(folder) / STATE_JSON
    if not path.is_file():
        raise ModelError(f"{folder}: nothing to resume (no {STATE_JSON})")
    try:
        return ModelConfig.from_dict(json.loads(path.read_text(encoding="utf-8"))["config"], str(path))
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"{path}: cannot read the saved config ({exc})") from exc


__all__ = [
    "CONFIG_NAME", "WEIGHTS_NAME", "save_model", "load_model", "read_config", "trained_steps",
    "save_training_state", "load_training_state", "state_config",
]
