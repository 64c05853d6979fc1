"""``python -m tests.ml.failing_rank STEP ARGS...``: ``composer_gui`` ARGS, except that on
rank 1 of a torchrun the generator's loss runs out of CUDA memory (a simulated one) from
generator step STEP on: what a real out-of-memory on one GPU of several does."""

from __future__ import annotations

import os
import sys


def main() -> int:
    from composer_gui.cli import main as cli_main
    from composer_gui.ml.train import loop as train
    fail_at = int(sys.argv[1])
    if os.environ.get("RANK") == "1":
        calls = [0]
        real = train.reconstruction_loss

        def failing(*args, **kwargs):
            calls[0] += 1
            if calls[0] >= fail_at:
                raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB (simulated)")
            return real(*args, **kwargs)

        train.reconstruction_loss = failing
    return cli_main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
