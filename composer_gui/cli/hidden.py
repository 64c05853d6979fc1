"""Hidden sub-commands: how a frozen app starts its own children (:mod:`composer_gui.launch`).

A frozen bundle has no Python interpreter to run ``-c CODE``; it runs itself with one of
these instead. They are registered without ``help`` so ``--help`` does not list them;
they are not for people to type.
"""

from __future__ import annotations

import importlib

from composer_gui.launch import CHILDREN


def register(subparsers) -> None:
    for hidden, module, function in CHILDREN.values():
        if hidden:
            parser = subparsers.add_parser(hidden)  # no help=: kept out of --help
            parser.set_defaults(func=_runner(module, function))


def _runner(module: str, function: str):
    def run(_args) -> int:
        getattr(importlib.import_module(module), function)()
        return 0

    return run
