"""Density, dynamics, the critic's percentile, sample melodies and the first run."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from composer_gui import settings
from composer_gui.core.song import Note, Song, TimeSignature, Track
from composer_gui.midi.smf import read_midi
from composer_gui.ml.generate.controls import percentile, reference_scores, shape_tracks
from composer_gui.ui.sample_melodies import open_first_run_melody, sample_melodies


def part() -> tuple[Song, Track]:
    """Half notes with an off-beat eighth in every bar, velocity 80, 8 bars of 4/4."""
    notes = []
    for bar in range(8):
        t = bar * 1920
        notes += [Note(60, t, 960, 80), Note(64, t + 960, 600, 80), Note(62, t + 1680, 240, 80)]
    track = Track(name="Alto", role="alto", notes=notes)
    song = Song(time_signatures=[TimeSignature(0, 4, 4)], tracks=[track])
    return song, track


def test_density_makes_parts_sparser_or_busier():
    song, track = part()
    sparse = shape_tracks([track], song, density=0.0)[0].notes
    plain = shape_tracks([track], song, density=0.5)[0].notes
    busy = shape_tracks([track], song, density=1.0)[0].notes
    assert len(sparse) < len(plain) == len(track.notes) < len(busy)
    # sparser keeps the beats and holds them over the gaps (no new silence)
    sounding = lambda ns: sum(n.duration for n in ns)  # noqa: E731
    assert sounding(sparse) >= sounding(plain) * 0.95
    assert all(n.start % 480 == 0 for n in sparse)
    assert [n.pitch for n in plain] == [n.pitch for n in track.notes]


def test_dynamics_spread_velocities_with_accents():
    song, track = part()
    flat = [n.velocity for n in shape_tracks([track], song, dynamics=0.0)[0].notes]
    strong = shape_tracks([track], song, dynamics=1.0)[0].notes
    assert np.ptp(flat) == 0
    down = [n.velocity for n in strong if n.start % 1920 == 0]
    off = [n.velocity for n in strong if n.start % 480]
    assert np.mean(down) > np.mean(off) + 15
    assert np.ptp([n.velocity for n in strong]) > 20


def test_percentile_among_reference_scores():
    ref = np.sort(np.array([0.1, 0.2, 0.3, 0.4]))
    assert percentile(0.25, ref) == 50.0
    assert percentile(1.0, ref) == 100.0
    assert percentile(0.0, ref) == 0.0
    assert percentile(0.3, None) is None


def test_reference_scores_from_real_validation_windows(tiny_models, datasets_dir, tmp_path):
    from composer_gui.ml.generate.sample import Composer

    composer = Composer(tiny_models / "tiny", "cpu")
    data = datasets_dir / "bach_chorales"
    scores = reference_scores(composer, data_dir=data, cache_dir=tmp_path, max_windows=64)
    assert scores is not None and 8 <= len(scores) <= 64
    assert np.all(np.diff(scores) >= 0)
    cached = list(tmp_path.glob("*.json"))
    assert len(cached) == 1
    # the second call reads the cache (even with the data gone)
    again = reference_scores(composer, data_dir=tmp_path / "gone", cache_dir=tmp_path)
    assert np.allclose(again, scores)
    assert reference_scores(composer, data_dir=tmp_path / "gone",
                            cache_dir=tmp_path / "other") is None


def test_sample_melodies_are_short_real_tunes(tmp_path):
    tunes = sample_melodies()
    assert len(tunes) >= 3
    for path in tunes:
        song = read_midi(path)
        melody = song.tracks[song.track_index_by_role("melody")]
        assert 12 <= len(melody.notes) <= 80
        assert song.end_tick <= 12 * 4 * song.ticks_per_beat
    # the shipped files are what resources/make_melodies.py (which writes them into the
    # package) types in, note for note
    script = Path(__file__).resolve().parents[2] / "resources" / "make_melodies.py"
    spec = importlib.util.spec_from_file_location("make_melodies", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert sorted(module.TUNES) == [p.stem for p in tunes]
    for path in tunes:
        typed = module.tune_song(path.stem, *module.TUNES[path.stem])
        assert read_midi(path).tracks[0].notes == typed.tracks[0].notes


def test_first_run_without_sample_melodies_tries_again_next_start(gen_window, tmp_path,
                                                                   monkeypatch):
    """A first start that finds no sample melody (a package without its data) must not
    use up the first run: the next start that finds one opens it."""
    import composer_gui.ui.sample_melodies as samples

    win = gen_window
    assert not settings.get(samples.FIRST_RUN_DONE)
    with monkeypatch.context() as m:
        m.setattr(samples, "melodies_dir", lambda: tmp_path / "nothing here")
        assert not open_first_run_melody(win)
    assert not win.document.song.tracks or not win.document.song.tracks[0].notes
    assert not settings.get(samples.FIRST_RUN_DONE)
    # the next start finds the shipped ones
    assert open_first_run_melody(win)
    assert win.document.song.tracks[0].notes
    assert settings.get(samples.FIRST_RUN_DONE)


def test_first_run_opens_a_sample_melody_once(gen_window):
    win = gen_window
    assert open_first_run_melody(win)
    song = win.document.song
    assert song.tracks[0].notes and song.tracks[0].role == "melody"
    assert win.document.path == ""  # Save asks where: the sample is never overwritten
    win.document.replace_song(Song(tracks=[Track(name="Melody", role="melody")]))
    assert not open_first_run_melody(win)
    assert not win.document.song.tracks[0].notes


@pytest.mark.parametrize("module", ["composer_gui.ui.mainwindow", "composer_gui.ui.generate_panel",
                                    "composer_gui.workers.generation"])
def test_window_modules_do_not_import_torch(module):
    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_shipped_reference_gives_percentiles_without_the_training_data(tiny_models, tmp_path):
    """Users rarely have a model's training data: the model folder's reference scores give
    the "how real" percentile, but only for the exact weights they were computed for."""
    import hashlib
    import json
    import shutil
    from types import SimpleNamespace

    from composer_gui.ml.generate import controls as app_controls
    from composer_gui.ml.model.checkpoint import read_config

    folder = tmp_path / "tiny"
    shutil.copytree(tiny_models / "tiny", folder)
    model = SimpleNamespace(folder=folder, config=read_config(folder))
    cache = tmp_path / "cache"
    assert app_controls.reference_scores(model, cache_dir=cache) is None  # no data, no file
    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    (folder / app_controls.REFERENCE_NAME).write_text(json.dumps(
        {"weights_sha256": digest, "scores": [0.5, -1.0, 2.0, 0.0]}))
    scores = app_controls.reference_scores(model, cache_dir=cache)
    assert scores.tolist() == [-1.0, 0.0, 0.5, 2.0]
    assert app_controls.percentile(1.0, scores) == 75.0
    # other weights (a fine-tune copied the file along): not theirs, not used
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes() + b" ")
    assert app_controls.shipped_reference(folder) is None
