"""The pop style's drum part: a conditional GAN of its own, trained on Groove beats.

``errors``, ``network`` (networks, features, :class:`DrumConfig`), ``data`` (Groove
windows and batches), ``training`` (:func:`train_drums`), ``part`` (:class:`DrumModel`,
the drums as generation plays them) and ``evaluate`` (the table against Groove's
validation split).

May import ``ml.data``, ``ml.model``, ``ml.metrics``; never ``ml.generate``, ``ml.train``.
"""
