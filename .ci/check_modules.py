"""CI rule: no import circle anywhere in the package and no module over 600 lines.

usage: python .ci/check_modules.py [PACKAGE_DIR] [--max-lines N]

Imports are read from the source (ast), so an import inside a function counts as much as
one at the top: a lazy import still ties two modules together. ``from pkg import name``
counts as an import of ``pkg.name`` when that is a module, else of ``pkg``. A package's
``__init__`` is the module ``pkg``. Exit 1 with every circle (Tarjan's strongly connected
components) and every oversized module listed; 0 when there is none.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path


def module_files(package_dir: Path) -> dict[str, Path]:
    root = package_dir.parent
    out = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imported_modules(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def add(target: str) -> None:
        # the module itself, else the closest enclosing module we know
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}" if base else alias.name
                add(full if full in known else base)
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("package_dir", nargs="?", default="composer_gui")
    ap.add_argument("--max-lines", type=int, default=600)
    args = ap.parse_args()
    known = module_files(Path(args.package_dir).resolve())
    graph = {name: imported_modules(name, path, known) for name, path in known.items()}
    problems = 0
    for component in circles(graph):
        problems += 1
        print(f"import circle of {len(component)}: {', '.join(component)}")
    for path in known.values():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > args.max_lines:
            problems += 1
            shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
            print(f"{shown}: {lines} lines (at most {args.max_lines}): split it by responsibility")
    print(f"{len(known)} modules: " + ("no import circle, none over "
                                       f"{args.max_lines} lines" if not problems
                                       else f"{problems} problems"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
