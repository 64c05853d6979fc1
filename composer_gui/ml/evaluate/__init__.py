"""The ``evaluate`` command: a model's metrics on a folder's validation songs, next to the
songs' own.

The top room of ``ml``: may import every other room.
"""
