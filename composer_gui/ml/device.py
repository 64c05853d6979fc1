"""Device choice: CUDA, then Apple MPS, then CPU; ``--device`` overrides."""

from __future__ import annotations

from composer_gui.ml.errors import ModelError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str = "auto"):
    """A torch.device for a user's choice; a missing accelerator is a ModelError."""
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ModelError("--device cuda: no CUDA device is available (try --device cpu)")
    if name == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ModelError("--device mps: Apple MPS is not available (try --device cpu)")
    if name not in DEVICE_CHOICES:
        raise ModelError(f"unknown device {name!r} (choose from {', '.join(DEVICE_CHOICES)})")
    return torch.device(name)


def is_out_of_memory(exc: BaseException) -> bool:
    """True for CUDA / MPS out-of-memory errors (their types differ between builds)."""
    import torch

    oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def device_label(device) -> str:
    """A human name: the GPU's name or "CPU"."""
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple MPS"
    threads = torch.get_num_threads()
    return f"CPU ({threads} thread{'s' if threads != 1 else ''})"


def configure_threads(default: int | None = None) -> None:
    """Honour ``$COMPOSER_GUI_THREADS`` (torch's CPU thread count), else use ``default``
    (None: torch's own choice). On a busy shared machine one thread is several times
    faster than two fighting for the cores: an 8-bar generator forward at batch 1 took
    5 ms on one thread and 584 ms on two while the other core was loaded (2 cores), so
    generation passes ``default=1``."""
    import os

    value = os.environ.get("COMPOSER_GUI_THREADS") or (str(default) if default else "")
    if value:
        import torch

        try:
            torch.set_num_threads(max(1, int(value)))
        except ValueError:
            raise ModelError(f"COMPOSER_GUI_THREADS={value!r} is not a number") from None


def probe_device() -> tuple[str, str]:
    """The accelerator torch sees here: ("cuda", GPU name), ("mps", "Apple GPU") or
    ("cpu", "")."""
    import torch

    if torch.cuda.is_available():
        return "cuda", torch.cuda.get_device_name(0)
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps", "Apple GPU"
    return "cpu", ""


def print_probe() -> None:
    """The device probe child's whole job (:mod:`composer_gui.launch`): one line,
    ``KIND NAME``, read by the fine-tune window."""
    kind, name = probe_device()
    print(kind, name)
