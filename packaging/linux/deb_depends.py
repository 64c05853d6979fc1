"""Print the Depends line of the .deb: the system libraries a frozen bundle needs.

Reads the dynamic section of every ELF file in the bundle (``objdump -p``: headers only,
fast even for torch's 400 MB library). A library one of them links (NEEDED) that the
bundle does not carry is looked up with ``ldconfig -p`` and ``dpkg -S``, giving the
Debian package that provides it on the build machine; glibc gets the minimum version
of the newest GLIBC_x.y symbol version any file requires. Libraries the app opens at run
time (dlopen) are linked by no file, so they are added by name.

    python3 packaging/linux/deb_depends.py build/deb/composer-gui/opt/composer-gui
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

#: Opened with dlopen, so no ELF file names them: (why, package).
DLOPENED = (
    ("miniaudio's ALSA output (and its configuration)", "libasound2"),
    ("miniaudio's PulseAudio/PipeWire output", "libpulse0"),
)
_GLIBC = re.compile(r"GLIBC_(\d+)\.(\d+)")


def elf_files(root: Path) -> list[Path]:
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as fh:
                if fh.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def needed(files: list[Path]) -> tuple[dict[str, list[Path]], tuple[int, int]]:
    """{soname: [files linking it]} and the newest GLIBC symbol version required."""
    links: dict[str, list[Path]] = defaultdict(list)
    glibc = (2, 17)
    for path in files:
        out = subprocess.run(["objdump", "-p", str(path)], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "NEEDED":
                links[parts[1]].append(path)
            for major, minor in _GLIBC.findall(line):
                glibc = max(glibc, (int(major), int(minor)))
    return links, glibc


def system_paths() -> dict[str, str]:
    """soname -> path of the native architecture's copy, from the linker cache."""
    paths: dict[str, str] = {}
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    native = "x86-64" if sys.maxsize > 2**32 else ""
    for line in out.splitlines()[1:]:
        m = re.match(r"\s*(\S+) \(([^)]*)\) => (\S+)", line)
        if m and m.group(1) not in paths and (not native or native in m.group(2)
                                               or "x86-64" not in out):
            paths[m.group(1)] = m.group(3)
    return paths


def package_of(path: str) -> str | None:
    resolved = str(Path(path).resolve())
    candidates = {path, resolved}
    for p in list(candidates):  # merged /usr: dpkg knows one of the two spellings
        candidates.add(p[4:] if p.startswith("/usr/") else "/usr" + p)
    for candidate in candidates:
        out = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if out.returncode == 0:
            return out.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def depends(root: Path) -> tuple[list[str], list[str]]:
    """(the Depends entries, warnings about libraries found nowhere)."""
    files = elf_files(root)
    bundled = {p.name for p in root.rglob("*")}
    links, glibc = needed(files)
    paths = system_paths()
    packages: set[str] = set()
    warnings = []
    for soname, users in sorted(links.items()):
        if soname in bundled:
            continue
        pkg = package_of(paths[soname]) if soname in paths else None
        if pkg is None:
            warnings.append(f"{soname} (needed by {users[0].relative_to(root)}) is in no "
                            "installed package: that part of the bundle will not load")
        else:
            packages.add(pkg)
    packages.update(pkg for _why, pkg in DLOPENED)
    packages.discard("libc6")
    return [f"libc6 (>= {glibc[0]}.{glibc[1]})", *sorted(packages)], warnings


def main(argv: list[str]) -> int:
    deps, warnings = depends(Path(argv[1]))
    for warning in warnings:
        print(f"deb_depends: warning: {warning}", file=sys.stderr)
    print(", ".join(deps))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
