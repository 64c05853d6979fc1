"""The sample melodies shipped in the package (``composer_gui/assets/melodies``), and the
first run's welcome: on the very first start the window opens one of them (Ode to Joy) so
that a new user can press Generate at once; the sample is never overwritten (Save asks
where).
"""

from __future__ import annotations

import logging
from pathlib import Path

from composer_gui import settings
from composer_gui.assets import melodies_dir

log = logging.getLogger(__name__)

#: The sample melody the very first run opens.
FIRST_RUN_TUNE = "ode_to_joy"
FIRST_RUN_DONE = settings.declare("generate/first_run_done", bool, False,
                                  "a sample melody was opened on the first run")


def sample_melodies() -> list[Path]:
    """The sample tunes shipped in the package."""
    folder = melodies_dir()
    return sorted(folder.glob("*.mid")) if folder.is_dir() else []


def open_first_run_melody(window) -> bool:
    """On the very first run, open a sample melody so Generate works at once.

    "First run" ends only once a sample was actually opened: a start that found none (a
    package installed without its data) or could not read it tries again next time.
    """
    if settings.get(FIRST_RUN_DONE):
        return False
    tunes = sample_melodies()
    if not tunes:
        log.warning("no sample melodies in %s: none opened on this first run", melodies_dir())
        return False
    # a 4/4 tune, the meter every shipped style was trained on
    first = next((t for t in tunes if t.stem == FIRST_RUN_TUNE), tunes[0])
    ok = window.open_file(str(first), ask=False)
    if ok:
        window.document.set_path("")  # a sample: Save asks where, never overwrites it
        settings.put(FIRST_RUN_DONE, True)
    return ok
