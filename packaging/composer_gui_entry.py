"""The bundled executable's entry point: the ``composer-gui`` command line.

PyInstaller freezes this script, so the bundle's executable is ``composer-gui`` itself:
no subcommand opens the window, every subcommand works as from a pip install, and the
app's child processes (generation engine, fine-tune) can be started through it.
"""

import multiprocessing
import sys

from composer_gui.cli import main

if __name__ == "__main__":
    # a no-op unless a multiprocessing child was started through this executable
    multiprocessing.freeze_support()
    sys.exit(main())
