"""The model on disk and in memory: config, networks, checkpoints, model card, registry.

``config`` (:class:`ModelConfig`, the style templates), ``networks`` (generator and
critic), ``gan`` (one GAN run's set-up: optimizers, seeded streams, loss means),
``checkpoint`` (safetensors + JSON, never pickle), ``card`` (the README of a model folder)
and ``registry`` (shipped and user model folders).

May import: ``ml.metrics``, ``ml.errors``, ``ml.device``, ``core``; torch inside functions
or in ``networks``. Nothing else of ``ml``.
"""
