"""GPU checks of the fine-tune backend (issue 9) in one short run, for a CUDA machine:

    python3 benchmarks/gpu_finetune_checks.py DATA_DIR [--from pop] [--songs 100]
        [--max-minutes 5]

1. ``bench_finetune.py`` on the GPU: time until the item-7 targets are met, steps/s;
2. the torchrun path on CUDA (NCCL, DDP) with one process per GPU (``--nproc 1`` where the
   machine has one GPU): a short run must end with a ``done`` record and a usable model;
3. a real CUDA out-of-memory (the process's GPU memory capped with
   ``torch.cuda.set_per_process_memory_fraction``): the run must end with exit 2, an
   ``error`` record with ``oom: true`` and a resumable checkpoint.

DATA_DIR must be on that machine (``../shared`` does not travel: copy the songs into an
ignored folder of the checkout and carry it; 100 usable pop songs are the first 213 POP909
folders, about 8 MB). Headless: no Qt.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _oom_child(data: str, base: str, out: str, fraction: float, batch: int) -> int:
    import contextlib
    import io

    import torch

    torch.cuda.set_per_process_memory_fraction(fraction)
    from composer_gui.cli import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["train", data, "--from", base, "-o", out, "--steps", "20",
                   "--batch-size", str(batch), "--device", "cuda", "--jsonl"])
    last = json.loads(buf.getvalue().splitlines()[-1])
    state = json.loads((Path(out) / "training_state.json").read_text())
    print(f"exit {rc}; last record: {json.dumps(last)[:400]}; saved step {state['step']}")
    return 0 if rc == 2 and last["kind"] == "error" and last["oom"] else 1


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path)
    ap.add_argument("--from", dest="base", default="pop")
    ap.add_argument("--songs", type=int, default=100)
    ap.add_argument("--max-minutes", type=float, default=5.0)
    ap.add_argument("--nproc", type=int, default=1)
    ap.add_argument("--oom-fraction", type=float, default=0.0015,
                    help="share of the GPU's memory the OOM check may use")
    ap.add_argument("--oom-child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.oom_child:
        d, b, o, f, n = args.oom_child
        return _oom_child(d, b, o, float(f), int(n))
    env = dict(os.environ, PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    tmp = Path(tempfile.mkdtemp(prefix="gpu_finetune_"))
    results = {}

    print("=== 1. fine-tune benchmark", flush=True)
    rc = subprocess.call([sys.executable, str(REPO / "benchmarks" / "bench_finetune.py"),
                          "--from", args.base, "--data", str(args.data), "--songs",
                          str(args.songs), "--device", "cuda", "--validate-every", "50",
                          "--max-minutes", str(args.max_minutes)], env=env)
    results["targets met"] = rc == 0

    print(f"=== 2. torchrun, {args.nproc} process(es), NCCL", flush=True)
    out = tmp / "ddp"
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
         str(args.nproc), "-m", "composer_gui", "train", str(args.data), "--from", args.base,
         "-o", str(out), "--steps", "40", "--validate-every", "20", "--device", "cuda",
         "--jsonl"], env=env, capture_output=True, text=True, cwd=REPO)
    records = [json.loads(line) for line in done.stdout.splitlines()]
    last = records[-1] if records else {}
    print(f"exit {done.returncode}; {len(records)} records; last: {json.dumps(last)[:300]}")
    if done.returncode:
        print(done.stderr[-2000:])
    results["torchrun"] = done.returncode == 0 and last.get("kind") == "done" and \
        (out / "model.safetensors").is_file()

    print("=== 3. real CUDA out of memory", flush=True)
    rc = subprocess.call([sys.executable, __file__, str(args.data), "--oom-child",
                          str(args.data), args.base, str(tmp / "oom"), str(args.oom_fraction),
                          "512"], env=env)
    results["oom record"] = rc == 0

    print("=== summary: " + ", ".join(f"{k}: {'ok' if v else 'FAILED'}" for k, v in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
