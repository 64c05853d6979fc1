"""Generate in the app (issue 8, item 9): from clicking Generate to the new notes drawn.

    python benchmarks/bench_app_generate.py [--model DIR | --style pop] [--runs 7] [--cold-runs 3]
                                            [--guidance off|light|strong]
    python benchmarks/bench_app_generate.py --headless [--device cuda] [--model DIR | --style pop]

Window mode (offscreen Qt, 8-bar sample melody "Ode to Joy", 4 candidates):

The Conductor control is set to ``--guidance`` (default light, the app's default).

* warm: the model is loaded; click Generate (a real mouse click), wait for the result to
  land in the song, repaint the roll; median over ``--runs``;
* cold: a fresh process per run: window up, click, torch import + model load +
  generation + drawing; median over ``--cold-runs``.

Headless mode (a GPU machine has no Qt): the same path without the window: model call
(windows, decoding, critic ranking), density/dynamics shaping and the song update through
the core edits, median over ``--runs`` after warm-up.

Without ``--model`` the first shipped model is used (chorale ...), else a tiny
untrained one is built in a temporary folder (the figures then say so).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pick_model(arg: str | None) -> tuple[Path, str]:
    if arg:
        return Path(arg), Path(arg).name
    from composer_gui.ml.model.registry import list_models

    for entry in list_models():
        if entry.error is None:
            return entry.path, entry.name
    import torch

    from composer_gui.ml.model.checkpoint import save_model
    from composer_gui.ml.model.config import style_config
    from composer_gui.ml.model.networks import build_models

    folder = Path(tempfile.mkdtemp()) / "tiny"
    config = style_config("chorale")
    config.gen_width, config.gen_blocks, config.critic_width, config.critic_blocks = 32, 3, 32, 2
    torch.manual_seed(0)
    save_model(folder, config, *build_models(config), step=0)
    return folder, "tiny untrained (no shipped model found)"


def sample_path() -> Path:
    return ROOT / "composer_gui" / "assets" / "melodies" / "ode_to_joy.mid"


def window_once(model: Path, runs: int, guidance: str = "light") -> list[float]:
    """Times (ms) of ``runs`` clicks in one window; the first is cold."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QComboBox

    from composer_gui import settings

    home = tempfile.mkdtemp()
    os.environ["XDG_CONFIG_HOME"] = os.environ["XDG_DATA_HOME"] = home
    os.environ["XDG_CACHE_HOME"] = home
    os.environ["COMPOSER_GUI_MODELS"] = str(model.parent)
    settings.use_settings_file(None)
    app = QApplication.instance() or QApplication([])
    from composer_gui.ui.mainwindow import MainWindow

    win = MainWindow()
    win.resize(1600, 1000)
    win.show()
    app.processEvents()
    win.open_file(str(sample_path()), ask=False)
    panel = win.generate_panel
    panel.select_model(model.name)
    panel.mode_combo.setCurrentIndex(panel.mode_combo.findData("replace"))
    conductor = panel.findChild(QComboBox, "conductor_combo")
    conductor.setCurrentIndex(conductor.findData(guidance))
    times = []
    for i in range(runs):
        panel.seed_spin.setValue(i)
        loop = QEventLoop()
        panel.generation_applied.connect(loop.quit)
        panel.generation_failed.connect(lambda text, lp=loop: (print("failed:", text), lp.quit()))
        t0 = time.perf_counter()
        QTest.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
        QTimer.singleShot(60_000, loop.quit)
        loop.exec()
        win.roll.viewport().repaint()  # the new notes drawn
        times.append((time.perf_counter() - t0) * 1000)
        panel.generation_applied.disconnect(loop.quit)
    win.document.undo_stack.setClean()
    win.close()
    return times


def headless(model: Path, device: str, runs: int, guidance: str = "light") -> None:
    from composer_gui.core.edits import AddTrack, CompoundEdit
    from composer_gui.ml.generate.controls import shape_tracks
    from composer_gui.ml.generate.sample import Composer

    sys.path.insert(0, str(ROOT / "resources"))
    from make_melodies import TUNES, tune_song  # core only: no MIDI library needed

    song = tune_song("ode_to_joy", *TUNES["ode_to_joy"])
    composer = Composer(model, device)
    if composer.device.type == "cpu":
        import torch

        from composer_gui.ml.generate.controls import generation_threads

        torch.set_num_threads(generation_threads())  # as the app's worker does
        composer.device_name = f"CPU ({torch.get_num_threads()} threads)"
    sync = lambda: None  # noqa: E731
    if composer.device.type == "cuda":
        import torch

        sync = torch.cuda.synchronize

    def once(seed: int) -> None:
        comp = composer.compose(song, None, seed, 4, guidance=guidance)
        tracks = shape_tracks(comp.candidates[comp.chosen], song, 0.5, 0.5, seed)
        edit = CompoundEdit([AddTrack(t) for t in tracks], "Generate")
        edit.apply(song)
        sync()
        edit.revert(song)

    for s in range(3):
        once(s)
    times = []
    for s in range(runs):
        t0 = time.perf_counter()
        once(s)
        times.append((time.perf_counter() - t0) * 1000)
    print(f"headless generate (8 bars, 4 candidates, {guidance} guidance, shaping, song update) on "
          f"{composer.device_name}: median {statistics.median(times):.1f} ms "
          f"(min {min(times):.1f}, max {max(times):.1f}, {runs} runs)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--style", help="the shipped/user model of this style (e.g. pop)")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--cold-runs", type=int, default=3)
    ap.add_argument("--headless", action="store_true")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--guidance", default="light", choices=("off", "light", "strong"),
                    help="the Conductor control's level (default light, the app's default)")
    ap.add_argument("--one-cold", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.style and not args.model:
        from composer_gui.ml.model.registry import resolve_style

        args.model = str(resolve_style(args.style))
    model, label = pick_model(args.model)
    if args.headless:
        headless(model, args.device, args.runs, args.guidance)
        return
    if args.one_cold:
        print(window_once(model, 1, args.guidance)[0])
        return
    cold = []
    for _ in range(args.cold_runs):
        out = subprocess.run([sys.executable, __file__, "--one-cold", "--model", str(model),
                              "--guidance", args.guidance],
                             capture_output=True, text=True, check=True)
        cold.append(float(out.stdout.strip().splitlines()[-1]))
    warm = window_once(model, args.runs + 1, args.guidance)[1:]
    print(f"model: {label}")
    print(f"click Generate -> notes drawn, 8 bars, 4 candidates, {args.guidance} guidance, CPU, "
          "offscreen window:")
    print(f"  warm: median {statistics.median(warm):.0f} ms (min {min(warm):.0f}, "
          f"max {max(warm):.0f}, {len(warm)} runs)")
    print(f"  cold: median {statistics.median(cold):.0f} ms (torch import + model load "
          f"included; {len(cold)} fresh processes)")


if __name__ == "__main__":
    main()
