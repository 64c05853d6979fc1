"""The fine-tune backend the window drives: JSON-lines progress, stdin control, mappings,
previews, the finished user model, and bad input (no usable files, a full disk, OOM)."""

from __future__ import annotations

import errno
import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from composer_gui.cli import main
from composer_gui.core.timing import TimeMap
from composer_gui.midi.smf import read_midi
from composer_gui.ml.metrics.tracks import (
    EMPTY_BAR_RATE,
    IN_SCALE_RATE,
    QUALIFIED_NOTE_RATE,
    TONAL_DISTANCE,
    USED_PITCH_CLASSES,
)
from composer_gui.ml.model import checkpoint as ckpt

from .conftest import tiny_config

REPO = Path(__file__).resolve().parents[2]
KINDS = {"data", "start", "step", "validation", "preview", "paused", "resumed", "checkpoint",
         "error", "done", "warning", "conductor"}


class _Run:
    """``python -m composer_gui train ... --jsonl --control-stdin`` with its stdout lines
    read on a thread (so a hung run fails the test instead of hanging it)."""

    def __init__(self, args: list[str]):
        env = dict(os.environ, COMPOSER_GUI_THREADS="1", PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "composer_gui", "train", *args, "--jsonl", "--control-stdin"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=REPO, env=env)
        self.lines: queue.Queue = queue.Queue()
        self.records: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def until(self, test, timeout=90.0) -> dict:
        """Read records until one passes ``test``; every stdout line must be a record."""
        while True:
            line = self.lines.get(timeout=timeout)
            assert line is not None, f"ended early; stderr:\n{self.proc.stderr.read()}"
            record = json.loads(line)  # nothing but JSON on stdout
            assert record["kind"] in KINDS and "step" in record or record["kind"] == "data", record
            self.records.append(record)
            if test(record):
                return record

    def send(self, command: str) -> None:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def finish(self) -> int:
        self.proc.stdin.close()
        rc = self.proc.wait(timeout=60)
        while (line := self.lines.get(timeout=10)) is not None:
            self.records.append(json.loads(line))
        return rc


def _kinds(records):
    return [r["kind"] for r in records]


def test_stop_from_stdin_leaves_a_usable_model_and_resume_continues(
        tiny_model, chorale_dir, isolated_home, tmp_path, melody_mid, capsys):
    from composer_gui.ml.model.registry import user_models_dir

    out = user_models_dir() / "my-chorales"
    common = ["--validate-every", "10", "--preview-every", "10", "--batch-size", "4"]
    run = _Run([str(chorale_dir), "--from", str(tiny_model), "-o", str(out), "--steps", "1000",
                *common])
    start = run.until(lambda r: r["kind"] == "start")
    roles = ["Alto", "Tenor", "Bass"]
    assert start["steps"] == 1000 and start["validation_songs"] >= 1
    assert sorted(start["reference"]) == sorted([*roles, "All parts"])
    assert set(start["reference"]["All parts"]) == {"melody_clash", "inner_clash",
                                                    "note_in_chord", "parallels_per_100"}
    assert set(start["reference"]["Bass"]) >= {EMPTY_BAR_RATE, USED_PITCH_CLASSES,
                                               QUALIFIED_NOTE_RATE, TONAL_DISTANCE,
                                               IN_SCALE_RATE}
    step = run.until(lambda r: r["kind"] == "step")
    assert step["steps_per_s"] > 0 and step["eta_s"] > 0
    assert {"g_loss", "d_loss", "gp", "rec", "adv"} <= set(step)
    val = run.until(lambda r: r["kind"] == "validation")
    assert sorted(val["metrics"]) == sorted([*roles, "All parts"])
    assert val["metrics"]["Bass"]["notes_per_bar"] > 0
    assert isinstance(val["all_targets_met"], bool)
    preview = run.until(lambda r: r["kind"] == "preview")
    for path in (preview["path"], preview["base_path"]):  # the melody and every part, 8 bars
        song = read_midi(path)
        assert [t.name for t in song.tracks][1:] == roles and song.tracks[0].notes
        assert all(t.notes for t in song.tracks)
        assert song.end_tick <= TimeMap.of(song).bar_to_tick(8)
    # pause: no step records until resumed
    run.send("pause")
    paused = run.until(lambda r: r["kind"] == "paused")
    run.send("resume")
    resumed = run.until(lambda r: r["kind"] in ("resumed", "step"))
    assert resumed["kind"] == "resumed" and resumed["step"] == paused["step"]
    run.until(lambda r: r["kind"] == "step")
    run.send("stop")
    done = run.until(lambda r: r["kind"] == "done")
    assert run.finish() == 0
    assert done["reason"] == "stop" and done["model"] == str(out)
    stopped_at = done["step"]
    assert 10 < stopped_at < 1000
    ck = [r for r in run.records if r["kind"] == "checkpoint"]
    assert ck[-1]["reason"] == "stop" and ck[-1]["step"] == stopped_at

    # the folder is a user model: listed, carded, usable by generate at once
    capsys.readouterr()
    assert main(["models", "--json"]) == 0
    listed = {e["name"]: e for e in json.loads(capsys.readouterr().out)}
    assert listed["my-chorales"]["source"] == "user" and listed["my-chorales"]["error"] is None
    assert listed["my-chorales"]["trained_steps"] == stopped_at
    card = (out / "README.md").read_text()
    assert "Final metrics" in card and str(chorale_dir) in card and "ended by stop" in card
    assert main(["generate", str(melody_mid), "--model", "my-chorales",
                 "-o", str(tmp_path / "g.mid")]) == 0
    assert ckpt.trained_steps(out) == stopped_at

    # resume: only the folder; the step count goes on from where it stopped
    again = _Run(["--resume", "-o", str(out), "--steps", str(stopped_at + 5)])
    start2 = again.until(lambda r: r["kind"] == "start")
    assert start2["step"] == stopped_at and start2["train_songs"] == start["train_songs"]
    done2 = again.until(lambda r: r["kind"] == "done")
    assert again.finish() == 0
    assert done2["step"] == stopped_at + 5 and done2["reason"] == "steps"
    assert ckpt.trained_steps(out) == stopped_at + 5


def test_sigterm_saves_the_run_before_it_ends(tiny_model, chorale_dir, tmp_path):
    """`kill` (or torchrun stopping a run one of whose processes failed) keeps the steps
    trained since the last checkpoint, as Ctrl+C does."""
    import signal

    out = tmp_path / "killed"
    run = _Run([str(chorale_dir), "--from", str(tiny_model), "-o", str(out), "--steps", "1000",
                "--batch-size", "4", "--save-every", "600", "--validate-every", "1000"])
    step = run.until(lambda r: r["kind"] == "step" and r["step"] >= 20)
    run.proc.send_signal(signal.SIGTERM)
    assert run.proc.wait(timeout=60) == 130
    state = json.loads((out / "training_state.json").read_text())
    assert state["step"] >= step["step"] and state["training"]["ended"] == "interrupted"
    assert ckpt.trained_steps(out) == state["step"]  # the model beside it is those weights


def _run_cli_jsonl(args, capsys) -> tuple[int, list[dict]]:
    rc = main(["train", *args, "--jsonl"])
    out = capsys.readouterr().out
    records = [json.loads(line) for line in out.splitlines()]
    return rc, records


def test_mapping_skips_files_and_overrides_melody_and_roles(chorale_dir, tmp_path):
    from composer_gui.midi.smf import read_midi
    from composer_gui.ml.data.dataset import load_folder, song_to_arrays
    from composer_gui.ml.data.mapping import parse_mapping

    config = tiny_config()
    cache = tmp_path / "cache"
    files = sorted(chorale_dir.glob("*.mid"))

    def load(mapping=None):
        gen = load_folder(chorale_dir, config, cache, None, mapping)
        try:
            while True:
                next(gen)
        except StopIteration as stop:
            return stop.value

    plain = load()  # fills the cache with the automatic choices
    by_name = {s.name: s for s in plain.train + plain.validation}
    target = files[1]
    song = read_midi(target)
    names = [t.name for t in song.tracks]
    alto, tenor, bass = (names.index(n) for n in ("Alto", "Tenor", "Bass"))
    mapping = parse_mapping({"version": 1, "files": {
        str(files[0]): {"skip": True},
        str(target): {"melody": bass, "roles": {"Alto": tenor, "tenor": alto, "Bass": None}},
        **{str(f): {} for f in files[2:]},
    }})
    chosen = load(mapping)
    got = {s.name: s for s in chosen.train + chosen.validation}
    assert files[0].name not in got and chosen.report.excluded == 1
    assert len(got) == len(files) - 1
    expected = song_to_arrays(song, config, target.name, melody_override=bass,
                              role_overrides={"Alto": tenor, "tenor": alto})
    # melody from the bass track, Alto and Tenor swapped: not the cached automatic arrays
    assert (got[target.name].codes == expected.codes).all()
    assert not (got[target.name].codes[0] == by_name[target.name].codes[0]).all()
    assert (got[target.name].codes[1] == by_name[target.name].codes[2]).all()
    # files the mapping leaves automatic still come from the cache
    assert chosen.report.from_cache == len(files) - 2


def test_mapping_naming_an_unknown_role_skips_that_file_with_the_reason(chorale_dir, tmp_path):
    from composer_gui.ml.data.dataset import load_folder
    from composer_gui.ml.data.mapping import parse_mapping
    from composer_gui.ml.errors import DataError

    files = sorted(chorale_dir.glob("*.mid"))[:1]
    mapping = parse_mapping({"version": 1, "files": {str(files[0]): {"roles": {"Piano": 1}}}})
    with pytest.raises(DataError, match="names role 'Piano'.*Alto, Tenor, Bass"):
        gen = load_folder(chorale_dir, tiny_config(), None, None, mapping)
        while True:
            next(gen)


def test_folder_without_usable_files_is_a_clear_error_record(datasets_dir, tiny_model, tmp_path,
                                                             isolated_home, capsys):
    import shutil

    data = tmp_path / "drums"
    data.mkdir()
    for f in sorted((datasets_dir / "groove").rglob("*.mid"))[:3]:  # one drum track each
        shutil.copy(f, data / f.name)
    (data / "broken.mid").write_bytes(b"MThd not really")
    rc, records = _run_cli_jsonl([str(data), "--from", str(tiny_model), "-o", str(tmp_path / "m"),
                                  "--steps", "5"], capsys)
    assert rc == 2
    error = records[-1]
    assert error["kind"] == "error" and not error["oom"] and not error["disk_full"]
    assert "none of the 4 MIDI files is usable" in error["message"]
    assert "3 x no melody-like track" in error["message"] and "broken.mid" in error["message"]
    assert not (tmp_path / "m").exists()


def test_disk_full_during_a_checkpoint_keeps_the_previous_one(chorale_dir, tiny_model, tmp_path,
                                                              isolated_home, capsys, monkeypatch):
    out = tmp_path / "m"
    writes = {"n": 0}
    real_write = ckpt._write_file

    def filling(path, data):
        writes["n"] += 1
        if writes["n"] == 4 * 2 + 2:  # the third checkpoint's second file (4 files each)
            with open(path, "wb") as fh:
                fh.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(path, data)

    monkeypatch.setattr(ckpt, "_write_file", filling)
    rc, records = _run_cli_jsonl([str(chorale_dir), "--from", str(tiny_model), "-o", str(out),
                                  "--steps", "50", "--batch-size", "4", "--save-every", "0"],
                                 capsys)
    assert rc == 2
    error = records[-1]
    assert error["kind"] == "error" and error["disk_full"] and not error["oom"]
    assert "disk is full" in error["message"] and "intact" in error["message"]
    saved = [r["step"] for r in records if r["kind"] == "checkpoint"]
    assert saved == [1, 2]
    # the previous checkpoint is whole: loadable, resumable; no partial file left over
    assert not list(out.glob("*.tmp"))
    state = json.loads((out / ckpt.STATE_JSON).read_text())
    assert state["step"] == 2 and ckpt.trained_steps(out) == 2
    ckpt.load_model(out)
    monkeypatch.setattr(ckpt, "_write_file", real_write)
    rc, records = _run_cli_jsonl(["--resume", "-o", str(out), "--steps", "4"], capsys)
    assert rc == 0 and records[-1]["kind"] == "done" and records[-1]["step"] == 4
    assert [r["step"] for r in records if r["kind"] == "start"] == [2]


@pytest.mark.parametrize("error", ["OutOfMemoryError", "RuntimeError"])
def test_gpu_out_of_memory_stops_with_an_oom_record(error, chorale_dir, tiny_model, tmp_path,
                                                    isolated_home, capsys, monkeypatch):
    import torch

    from composer_gui.ml.model.networks import Generator

    calls = {"n": 0}
    real_forward = Generator.forward

    def forward(self, *args):
        calls["n"] += 1
        if calls["n"] == 9:  # two forwards per step: inside step 5
            if error == "RuntimeError":
                raise RuntimeError("CUDA out of memory. Tried to allocate 1.50 GiB")
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 1.50 GiB")
        return real_forward(self, *args)

    monkeypatch.setattr(Generator, "forward", forward)
    out = tmp_path / "m"
    rc, records = _run_cli_jsonl([str(chorale_dir), "--from", str(tiny_model), "-o", str(out),
                                  "--steps", "50", "--batch-size", "8"], capsys)
    assert rc == 2
    error_record = records[-1]
    assert error_record["kind"] == "error" and error_record["oom"] and not error_record["disk_full"]
    assert error_record["suggest_batch_size"] == 4
    assert "--batch-size" in error_record["message"] and "--device cpu" in error_record["message"]
    # it stopped at a checkpoint of the last finished step: resumable
    assert json.loads((out / ckpt.STATE_JSON).read_text())["step"] == 4
    assert ckpt.trained_steps(out) == 4


def test_a_stopped_run_resumes_exactly_as_if_never_stopped(chorale_dir, tmp_path):
    import numpy as np
    from safetensors.numpy import load_file

    from composer_gui.ml.train.control import TrainControl
    from composer_gui.ml.train.loop import train

    from .test_train import options

    cache = tmp_path / "cache"
    list(train(options(chorale_dir, tmp_path / "straight", cache, steps=12, validate_every=4,
                       preview_every=4)))
    control = TrainControl()
    stopped = []
    for record in train(options(chorale_dir, tmp_path / "stopped", cache, steps=12,
                                validate_every=4, preview_every=4, control=control)):
        stopped.append(record)
        if record["kind"] == "step" and record["step"] == 5:
            control.stop()  # as the window's "stop" line does
    assert stopped[-1] == {**stopped[-1], "kind": "done", "step": 5, "reason": "stop"}
    resumed = list(train(options(chorale_dir, tmp_path / "stopped", cache, steps=12,
                                 validate_every=4, preview_every=4, resume=True)))
    assert resumed[-1]["kind"] == "done" and resumed[-1]["step"] == 12
    a = load_file(str(tmp_path / "straight" / "model.safetensors"))
    b = load_file(str(tmp_path / "stopped" / "model.safetensors"))
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_a_diverging_run_stops_with_a_clear_message(chorale_dir, tmp_path, monkeypatch):
    import torch

    from composer_gui.ml.errors import DataError
    from composer_gui.ml.train import loop as train_module

    from .test_train import options

    calls = {"n": 0}
    real = train_module.reconstruction_loss

    def exploding(*args):
        calls["n"] += 1
        loss = real(*args)
        return loss * torch.tensor(float("nan")) if calls["n"] == 3 else loss

    monkeypatch.setattr(train_module, "reconstruction_loss", exploding)
    records = []
    with pytest.raises(DataError, match="diverged at step 3.*smaller --lr"):
        for record in train_module.train(options(chorale_dir, tmp_path / "m", tmp_path / "c",
                                                 steps=20, log_every=1)):
            records.append(record)
    # no record carries the broken step's numbers
    assert [r["step"] for r in records if r["kind"] == "step"] == [1, 2]


def test_a_fine_tune_keeps_the_base_models_sub_models(chorale_dir, tiny_model, tmp_path):
    import shutil

    from composer_gui.ml.train.loop import train

    from .test_train import options

    base = tmp_path / "base"
    shutil.copytree(tiny_model, base)
    (base / "drums").mkdir()  # a sub-model, as the pop model's drum part
    (base / "drums" / "config.json").write_text('{"kind": "drums"}')
    (base / "drums" / "model.safetensors").write_bytes(b"weights")
    out = tmp_path / "tuned"
    records = list(train(options(chorale_dir, out, tmp_path / "c", steps=2, style=None,
                                 base=base, config_overrides={})))
    assert records[-1]["kind"] == "done"
    assert (out / "drums" / "model.safetensors").read_bytes() == b"weights"
    assert "drums kept from it unchanged" in (out / "README.md").read_text()


def test_the_preview_melody_starts_at_the_bar_where_the_melody_starts(tmp_path):
    from composer_gui.core.song import Note, Song, TempoChange, TimeSignature, Track
    from composer_gui.midi.smf import write_midi
    from composer_gui.ml.train.monitor import preview_melody

    bar = 4 * 480
    intro = Track(name="Piano", notes=[Note(48, i * bar, bar, 80) for i in range(12)])
    tune = Track(name="Melody", notes=[Note(72 + i % 5, 3 * bar + i * 480 + 120, 400, 90)
                                       for i in range(60)])  # from bar 4 (off the downbeat)
    song = Song(ticks_per_beat=480, tempos=[TempoChange(0, 500000), TempoChange(5 * bar, 400000)],
                time_signatures=[TimeSignature(0, 4, 4)], tracks=[intro, tune])
    write_midi(song, tmp_path / "intro.mid")
    got = preview_melody(tmp_path / "intro.mid", tiny_config(), melody_override=1)
    notes = got.tracks[0].notes
    assert len(got.tracks) == 1 and got.tracks[0].role == "melody"
    assert notes[0].start == 120  # bar 4 became bar 1
    assert max(n.end for n in notes) <= 8 * bar and len(notes) == 8 * 4
    assert [(t.tick, t.us_per_beat) for t in got.tempos] == [(0, 500000), (2 * bar, 400000)]
