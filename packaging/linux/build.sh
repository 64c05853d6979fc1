#!/usr/bin/env bash
# Build the Linux desktop package: a PyInstaller one-folder build of Composer GUI with a
# CPU torch, wrapped in composer-gui_<version>_<arch>.deb (left in the tree's root).
#
# Run from the root of a checkout or of a `git archive HEAD` copy, on Debian/Ubuntu with
# python3 (3.11), binutils, dpkg-dev and xz-utils. It installs the locked environment
# with uv (installing uv from the package index when it is missing), swaps the lock's
# CUDA torch for the CPU build of the same version (cpu_torch.sh: from a local wheel
# folder, else PyTorch's CPU index), freezes the app, lays out the package and
# compresses it with xz.
#
#   packaging/linux/build.sh            # -> ./composer-gui_0.1.0_amd64.deb
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
start=$SECONDS
step() { printf '== %s (%ds)\n' "$1" $((SECONDS - start)); }

if ! command -v uv >/dev/null 2>&1; then
    step "uv"
    python3 -m venv .cache/uv-tool
    .cache/uv-tool/bin/python -m pip install -q "uv>=0.9"
    export PATH="$ROOT/.cache/uv-tool/bin:$PATH"
fi

step "locked environment (app, synthesizer, PyInstaller; no test tools)"
uv sync --locked --no-default-groups --group sound --group bundle

# The lock's torch on Linux is the package index's CUDA build: swap in PyTorch's CPU
# build of the same version and remove the CUDA packages, then check that no CUDA is
# left (a local wheel folder first: COMPOSER_GUI_TORCH_WHEELS, PIP_FIND_LINKS).
step "CPU torch"
packaging/linux/cpu_torch.sh .venv

step "PyInstaller"
uv run --no-sync pyinstaller --noconfirm --log-level WARN \
    --workpath build/pyinstaller --distpath dist packaging/linux/composer-gui.spec
# torch's libraries carry ~100 MB of symbols the app never needs; strip only those (the
# wheels' patched libraries break when stripped, see the spec)
strip --strip-unneeded dist/composer-gui/_internal/torch/lib/libtorch_cpu.so \
    dist/composer-gui/_internal/torch/lib/libtorch_python.so
# no CUDA library may reach the package (cpu_torch.sh checked the venv; this, the bundle)
cuda_files=$(find dist/composer-gui \( -iname '*nvidia*' -o -iname 'libtorch_cuda*' \
    -o -iname 'libc10_cuda*' -o -iname 'libcudart*' -o -iname 'libcublas*' -o -iname 'libcudnn*' \
    -o -iname 'libnccl*' -o -iname 'triton' \) -print)
[ -z "$cuda_files" ] || { echo "CUDA files in the bundle:"; echo "$cuda_files"; exit 1; } >&2
# the frozen app must start, and generate with torch, before it is packaged
dist/composer-gui/composer-gui --version
melody=$(find dist/composer-gui -name ode_to_joy.mid | head -n 1)
dist/composer-gui/composer-gui generate "$melody" --style folk -o build/smoke.mid

step "package tree"
version=$(uv run --no-sync python -c 'import sys; sys.path.insert(0, "packaging"); import pyinstaller_common as c; print(c.version())')
arch=$(dpkg --print-architecture)
app_id=io.github.composer_gui.ComposerGUI
pkg=build/deb/composer-gui
rm -rf "$pkg"
mkdir -p "$pkg/DEBIAN" "$pkg/opt" "$pkg/usr/bin" "$pkg/usr/share/applications" \
    "$pkg/usr/share/icons/hicolor/scalable/apps" "$pkg/usr/share/metainfo" \
    "$pkg/usr/share/doc/composer-gui"
cp -a dist/composer-gui "$pkg/opt/composer-gui"
# The launcher: the bundle's own executable is the whole command line (window,
# subcommands and the app's child processes).
cat > "$pkg/usr/bin/composer-gui" <<'EOF'
#!/bin/sh
exec /opt/composer-gui/composer-gui "$@"
EOF
chmod 755 "$pkg/usr/bin/composer-gui"
install -m 644 "packaging/linux/$app_id.desktop" "$pkg/usr/share/applications/"
install -m 644 "packaging/linux/$app_id.svg" "$pkg/usr/share/icons/hicolor/scalable/apps/"
install -m 644 "packaging/linux/$app_id.metainfo.xml" "$pkg/usr/share/metainfo/"
cat > "$pkg/usr/share/doc/composer-gui/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: composer-gui
Source: https://github.com/composer-gui/composer-gui

Files: *
Copyright: Composer GUI developers
License: GPL-3.0-or-later
 On Debian systems the full text is in /usr/share/common-licenses/GPL-3.
 The bundle under /opt/composer-gui carries Python, PyTorch, Qt (PySide6, LGPL-3),
 NumPy, SciPy, scikit-learn and the other dependencies under their own licences, and
 the FluidR3Mono General MIDI SoundFont (MIT); each model card names its data.
EOF

step "dependencies"
depends=$(python3 packaging/linux/deb_depends.py "$pkg/opt/composer-gui")
echo "Depends: $depends"

installed_kb=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
cat > "$pkg/DEBIAN/control" <<EOF
Package: composer-gui
Version: $version
Architecture: $arch
Maintainer: Composer GUI developers <composer-gui@users.noreply.github.com>
Installed-Size: $installed_kb
Depends: $depends
Recommends: pulseaudio | pipewire-pulse
Section: sound
Priority: optional
Homepage: https://github.com/composer-gui/composer-gui
Description: offline composer: a melody in, accompaniment out
 Play a melody on a MIDI keyboard, the on-screen keyboard or the computer keyboard,
 edit it in a piano roll, and let a generator network trained against a critic write
 accompaniment tracks in a chosen style (chorale, folk, pop). Runs fully offline on
 the CPU. Also a command line: composer-gui generate, train, play, info ...
EOF

# xz: the smallest package (COMPOSER_GUI_DEB_COMPRESS=none for quick local tries)
compress=${COMPOSER_GUI_DEB_COMPRESS:-xz}
step "dpkg-deb ($compress)"
deb="composer-gui_${version}_${arch}.deb"
rm -f "$deb"
dpkg-deb --root-owner-group "-Z$compress" --build "$pkg" "$deb"
step "done"
ls -l "$deb"
echo "installed size: $((installed_kb / 1024)) MiB"
