#!/usr/bin/env bash
# Install the desktop package as a user would, use it, remove it (as root, e.g. in CI).
#
#   packaging/linux/test_deb.sh [composer-gui_0.1.0_amd64.deb]
#
# Checks: apt installs it with its Depends; the launcher, the menu entry, the icon, the
# AppStream data and the MIDI association are in place; `composer-gui doctor` passes
# (where the build has it); `composer-gui generate` writes accompaniment under a sample
# melody shipped in the bundle; the window opens on a virtual X screen and is still up
# after a few seconds; `apt-get remove` takes every file away again.
set -euo pipefail
deb=$(realpath "${1:-$(ls -t composer-gui_*.deb | head -n 1)}")
app_id=io.github.composer_gui.ComposerGUI
work=$(mktemp -d)
export HOME="$work/home" XDG_RUNTIME_DIR="$work/run"
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
cd "$work"  # nothing from a checkout: the package alone
fail() { echo "test_deb: FAIL: $*" >&2; exit 1; }

echo "== install $(basename "$deb") ($(du -h "$deb" | cut -f1))"
apt-get install -y -qq "$deb" >/dev/null
command -v composer-gui >/dev/null || fail "no composer-gui on PATH"
for f in "/usr/share/applications/$app_id.desktop" \
         "/usr/share/icons/hicolor/scalable/apps/$app_id.svg" \
         "/usr/share/metainfo/$app_id.metainfo.xml"; do
    test -f "$f" || fail "$f missing"
done
grep -q '^MimeType=.*audio/midi' "/usr/share/applications/$app_id.desktop" \
    || fail "the menu entry does not open audio/midi"
desktop-file-validate "/usr/share/applications/$app_id.desktop"
composer-gui --version

echo "== doctor"
# (a word that is no subcommand is taken as a file to open in the window)
if composer-gui --help | grep -qw doctor; then
    composer-gui doctor
else
    echo "composer-gui doctor: not in this version yet (skipped)"
fi

echo "== generate on a shipped sample melody"
melody=$(find /opt/composer-gui -name ode_to_joy.mid | head -n 1)
test -n "$melody" || fail "no sample melody in the bundle"
time composer-gui generate "$melody" --style chorale -o out.mid
composer-gui info out.mid | tee info.txt
for part in Alto Tenor Bass; do
    grep -q "$part" info.txt || fail "generated file has no $part track"
done

echo "== window on a virtual X screen"
Xvfb :97 -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
sleep 1
env -u QT_QPA_PLATFORM DISPLAY=:97 composer-gui >window.log 2>&1 &
app=$!
main_window='("composer-gui" "Composer GUI")'
alive=0
for _ in $(seq 1 20); do
    sleep 0.5
    kill -0 "$app" 2>/dev/null || break
    # the main window: the app's window class, "<song> — Composer GUI"
    if xwininfo -display :97 -root -tree 2>/dev/null | grep -q "$main_window"; then
        alive=1
        break
    fi
done
sleep 3  # still up a few seconds after the window appeared
kill -0 "$app" 2>/dev/null || alive=0
if [ "$alive" = 1 ]; then
    xwininfo -display :97 -root -tree | grep "$main_window" | head -n 1
    echo "window up and alive"
fi
kill "$app" 2>/dev/null || true
wait "$app" 2>/dev/null || true
kill "$xvfb" 2>/dev/null || true
if [ "$alive" != 1 ]; then
    cat window.log >&2
    fail "the window did not open, or closed by itself"
fi

echo "== remove"
apt-get remove -y -qq composer-gui >/dev/null
test ! -e /usr/bin/composer-gui || fail "/usr/bin/composer-gui left behind"
test ! -e /opt/composer-gui || fail "/opt/composer-gui left behind"
cd / && rm -rf "$work"
echo "test_deb: all checks passed"
