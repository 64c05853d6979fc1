"""``python -m composer_gui`` is the same as the ``composer-gui`` command."""

import sys

from composer_gui.cli import main

if __name__ == "__main__":
    sys.exit(main())
