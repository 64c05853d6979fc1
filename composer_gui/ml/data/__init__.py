"""Songs become training arrays: the step grid, meters, role mapping, windows, scans.

``grid`` (notes <-> the model's step codes), ``meters`` (bar plans and position inputs),
``roles`` (which track is the melody and which plays each part), ``mapping`` (a user's
per-file choices), ``dataset`` (a folder of MIDI files -> cached arrays), ``windows``
(training and validation batches), ``scan`` (the fine-tune window's folder scan) and
``sources/`` (readers of POP909, Nottingham and Groove).

Numpy only, no torch. May import: ``ml.model`` (config), ``ml.metrics``, ``ml.errors``,
``core``, ``midi``.
"""
