"""The ``composer-gui`` command line.

``composer-gui`` alone (or with a first argument that is not a subcommand, taken as
a file to open) starts the window. Subcommands live in the modules listed in
``_COMMAND_MODULES``; each has ``register(subparsers)`` which adds its parsers and sets
``func`` to a callable ``func(args) -> int``. Registration must stay cheap: import
torch / Qt only inside the command functions.

Exit codes (every subcommand): 0 success; 2 bad input, bad usage or a bad model, with
one line on stderr starting ``composer-gui: error:`` and no traceback; 130 after Ctrl+C.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from composer_gui import __version__
from composer_gui.core.errors import UserError

PROG = "composer-gui"

# Modules that contribute subcommands (each defines ``register``).
_COMMAND_MODULES = (
    "composer_gui.cli.files",
    "composer_gui.cli.ml",
    "composer_gui.cli.live",
    "composer_gui.cli.doctor",
    "composer_gui.cli.hidden",
)


class CliError(Exception):
    """A user-facing error: printed as one ``composer-gui: error:`` line, exit 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise CliError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Composer GUI: melody in, accompaniment out. "
        "Run without a subcommand to open the window.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a command group not built yet
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def _subcommand_names(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def _run_gui(argv: Sequence[str]) -> int:
    gui = argparse.ArgumentParser(prog=PROG, add_help=False)
    gui.add_argument("file", nargs="?")
    args, qt_args = gui.parse_known_args(list(argv))
    from composer_gui.ui.app import run_app  # Qt is imported only here

    return run_app(args.file, qt_args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``composer-gui``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        if not argv or (argv[0] not in _subcommand_names(parser) and not argv[0].startswith("-")):
            return _run_gui(argv)
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 0
        return int(args.func(args) or 0)
    except (CliError, UserError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
