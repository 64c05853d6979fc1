"""Writing accompaniment for a melody: sampling, decoding, the user's controls, the engine.

``sample`` (:class:`Composer`: windows over a song, the networks, candidates),
``decode`` (network outputs -> notes), ``calibrate`` (bar gates fitted to real parts),
``controls`` (density, dynamics, cancel watch, the critic's reference scores) and
``engine`` (the separate process the app generates in).

May import ``ml.drums``, ``ml.data``, ``ml.model``, ``ml.metrics``; never ``ml.train`` or
``ml.evaluate``.
"""
