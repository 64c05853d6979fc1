"""Several processes, one training: DistributedDataParallel under ``torchrun``.

``torchrun --nproc_per_node N -m composer_gui train ...`` starts N copies of the same
command with ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` (and the rendezvous address) in the
environment. Each copy trains on its own device (``cuda:LOCAL_RANK``, or the CPU), draws
its own batches (rank-seeded), and DistributedDataParallel averages the gradients, so the
weights stay identical on every rank. Rank 0 alone reads the control commands, writes
records, checkpoints, previews and the model card; the decisions that must agree (stop,
pause, an error on any rank) travel as one small all-reduce per step.

Outside torchrun (no ``WORLD_SIZE``/``MASTER_ADDR`` in the environment) everything here is
a no-op and training runs as one plain process. Under torchrun even one process joins the
process group and trains through DDP (so ``--nproc_per_node 1`` tests the same path).
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

from composer_gui.ml.errors import ModelError

#: Reasons that end a run, as codes agreed by all ranks (0: go on; the largest wins).
REASONS = (None, "steps", "minutes", "stop", "error")


@dataclass
class DistContext:
    """Where this process stands in a (possibly one-process) training."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: object = None  # torch.device
    backend: str | None = None
    #: True under torchrun: a process group exists, the networks are wrapped in DDP.
    enabled: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ModelError(f"${name}={value!r} is not a number") from None


def setup(device_choice: str) -> DistContext:
    """Join the process group when started by torchrun (nccl on CUDA, gloo on the CPU)
    and pick this rank's device; otherwise resolve the device as usual."""
    import torch

    from composer_gui.ml.device import resolve_device

    device = resolve_device(device_choice)
    world = _env_int("WORLD_SIZE", 1)
    if "WORLD_SIZE" not in os.environ or "MASTER_ADDR" not in os.environ or world < 1:
        return DistContext(device=device)
    import torch.distributed as dist

    rank, local = _env_int("RANK", 0), _env_int("LOCAL_RANK", 0)
    if device.type == "cuda":
        if local >= torch.cuda.device_count():
            raise ModelError(f"LOCAL_RANK {local} but only {torch.cuda.device_count()} CUDA "
                             "devices: use --nproc_per_node up to the number of GPUs")
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
        backend = "nccl"
    elif device.type == "cpu":
        backend = "gloo"
    else:
        raise ModelError(f"--device {device.type}: several processes need CUDA or the CPU")
    if not dist.is_initialized():
        minutes = float(os.environ.get("COMPOSER_GUI_DIST_TIMEOUT_MIN", "30"))
        dist.init_process_group(backend, timeout=datetime.timedelta(minutes=minutes))
    return DistContext(rank, world, local, device, backend, enabled=True)


def wrap(module, ctx: DistContext):
    """The module wrapped for gradient averaging (itself when running alone)."""
    if not ctx.enabled:
        return module
    from torch.nn.parallel import DistributedDataParallel

    ids = [ctx.local_rank] if ctx.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids)  # GroupNorm only: no buffers


def agree(ctx: DistContext, reason: str | None, paused: bool) -> tuple[str | None, bool]:
    """One (reason to finish, paused) for every rank: the largest of the ranks' (only rank
    0 decides stops and pauses, any rank can report "error", which outranks the rest)."""
    if not ctx.enabled:
        return reason, paused
    import torch
    import torch.distributed as dist

    flags = torch.tensor([REASONS.index(reason), int(paused)], dtype=torch.int64,
                         device=ctx.device)
    dist.all_reduce(flags, op=dist.ReduceOp.MAX)
    return REASONS[int(flags[0])], bool(flags[1])


def all_ok(ctx: DistContext, ok: bool) -> bool:
    """True when ``ok`` holds on every rank (a failed data read on one stops all)."""
    if not ctx.enabled:
        return ok
    import torch
    import torch.distributed as dist

    flag = torch.tensor([0 if ok else 1], dtype=torch.int64, device=ctx.device)
    dist.all_reduce(flag)
    return int(flag[0]) == 0


#: Words of the errors a collective raises when another rank has died (gloo, NCCL).
_PEER_FAILURE = ("closed by peer", "connection reset", "broken pipe", "nccl", "timed out",
                 "timeout", "process group", "remote worker")


def is_peer_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a collective failing because another process of the run died
    (gloo: "Connection closed by peer"; NCCL errors and watchdog timeouts)."""
    try:
        from torch.distributed import DistError  # DistBackendError's base
    except ImportError:  # an older torch
        DistError = None  # noqa: N806
    if DistError is not None and isinstance(exc, DistError):
        return True
    text = str(exc).lower()
    return any(words in text for words in _PEER_FAILURE)


def barrier(ctx: DistContext) -> None:
    if ctx.enabled:
        import torch.distributed as dist

        dist.barrier()


def shutdown(ctx: DistContext) -> None:
    if ctx.enabled:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()


def state_digest(*modules) -> str:
    """SHA-256 over the modules' tensors (for checking that ranks agree)."""
    import hashlib

    h = hashlib.sha256()
    for module in modules:
        for name, tensor in sorted(module.state_dict().items()):
            h.update(name.encode())
            h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()
