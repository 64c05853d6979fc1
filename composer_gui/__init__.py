"""Composer GUI: play a melody, get accompaniment from a GAN, edit it in a piano roll.

Importing this package is cheap: no Qt, no torch. Each layer imports its heavy
dependencies itself (see ``docs/DESIGN.md`` for the layering).
"""

__version__ = "0.1.0"
APP_NAME = "Composer GUI"
APP_ID = "io.github.composer_gui.ComposerGUI"
