"""Fine-tune runs the window started: where they live and which can be resumed (no Qt).

A run trains into a user model folder (``ml.model.registry.user_models_dir()/NAME``: the
training state while it runs, a usable model once stopped or done). The window keeps its
own notes beside it, in ``<user data>/composer-gui/finetune/NAME/``: ``mapping.json``
(the scan's per-file choices, ``train --mapping``), ``run.json`` (the settings, the last
step seen, and whether the run finished) and ``records.jsonl`` (what the plots showed). "Resume a run" lists the runs not finished
whose model folder still holds a training state.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

STATE_JSON = "training_state.json"  # written by ml.model.checkpoint beside the weights
RUN_JSON = "run.json"
MAPPING_JSON = "mapping.json"
#: The run's plotted records (start, step, validation), one JSON object a line, so a
#: resumed run's plots show its whole history.
LOG_JSONL = "records.jsonl"
LOGGED_KINDS = ("start", "step", "validation")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")


def runs_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("composer-gui")) / "finetune"


def models_dir() -> Path:
    from composer_gui.ml.model.registry import user_models_dir

    return user_models_dir()


def name_problem(name: str) -> str:
    """Why ``name`` cannot name a new model ('' when it can)."""
    if not name.strip():
        return "give the new model a name"
    if not _NAME.match(name) or name.strip() != name:
        return "use letters, digits, spaces, '-', '_' or '.' (up to 64)"
    if (models_dir() / name).exists():
        return f"a model called {name!r} exists already (pick another name, or Resume a run)"
    return ""


def default_name(base: str, sources: list[str]) -> str:
    """``<base>-<folder>`` (numbered if taken)."""
    stem = Path(sources[0]).stem if sources else "mine"
    if len(sources) > 1 and not Path(sources[0]).is_dir():
        stem = Path(sources[0]).parent.name or stem
    stem = re.sub(r"[^A-Za-z0-9_\-]+", "-", stem).strip("-") or "mine"
    name = f"{base}-{stem}"[:56]
    candidate, n = name, 2
    while (models_dir() / candidate).exists() or (runs_dir() / candidate).exists():
        candidate, n = f"{name}-{n}", n + 1
    return candidate


@dataclass
class RunInfo:
    """What the window remembers of one run."""

    name: str
    base: str = ""
    sources: list[str] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    step: int = 0
    steps: int | None = None
    finished: bool = False
    reason: str = ""

    @property
    def folder(self) -> Path:
        return runs_dir() / self.name

    @property
    def out_dir(self) -> Path:
        return models_dir() / self.name

    @property
    def mapping_path(self) -> Path:
        return self.folder / MAPPING_JSON

    @property
    def log_path(self) -> Path:
        return self.folder / LOG_JSONL

    def logged_records(self) -> list[dict]:
        """The plotted records of earlier sessions of this run (unreadable lines skipped:
        a kill may leave the last one half written)."""
        try:
            lines = self.log_path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        out = []
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                out.append(rec)
        return out

    def resumable(self) -> bool:
        return (self.out_dir / STATE_JSON).is_file()

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / (RUN_JSON + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1) + "\n", encoding="utf-8")
        tmp.replace(self.folder / RUN_JSON)

    @classmethod
    def load(cls, folder: Path) -> RunInfo | None:
        try:
            data = json.loads((Path(folder) / RUN_JSON).read_text(encoding="utf-8"))
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except (OSError, ValueError, TypeError):
            return None


def unfinished_runs() -> list[RunInfo]:
    """Runs that stopped before their end and can continue, newest first."""
    base = runs_dir()
    if not base.is_dir():
        return []
    runs = [RunInfo.load(p) for p in base.iterdir() if (p / RUN_JSON).is_file()]
    found = [r for r in runs if r is not None and not r.finished and r.resumable()]
    return sorted(found, key=lambda r: (r.folder / RUN_JSON).stat().st_mtime, reverse=True)
