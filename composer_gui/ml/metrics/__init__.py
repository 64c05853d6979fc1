"""Measures of music on piano rolls (numpy only): the quality metrics every room shares.

Per-track measures (empty bars, pitch classes, qualified notes, tonal distance ...), key
estimation, and the tables of real-versus-generated values with their targets. Training's
validation, the model card, the key guard, the drum evaluation and the ``evaluate``
command all read these, so they sit at the bottom: this package imports nothing else of
``ml``.
"""
