"""Training a style model: the loop, its options, torchrun, pause/stop control, previews.

``options`` (what a run takes, and the defaults the command line and the fine-tune
window share: no torch), ``loop`` (the training loop as a generator of progress records),
``steps`` (losses and validation), ``distributed`` (torchrun / DDP), ``control`` (pause,
resume, stop from stdin) and ``monitor`` (validation metrics and preview MIDI files).

The top of ``ml`` but for ``ml.evaluate``: may import every room below it (``generate``,
``drums``, ``data``, ``model``, ``metrics``).
"""
