"""The one base class for errors a user can fix (bad file, bad model, bad option).

Each layer defines its own subclasses (``MidiFileError``, ``ModelError`` ...). The
command line turns any ``UserError`` into one ``composer-gui: error:`` line and exit
code 2; the window shows its message in a dialog. Programming errors are never
``UserError``s: they keep their tracebacks (in the log file).
"""


class UserError(Exception):
    """An error caused by input the user can change; its message says what and where."""
