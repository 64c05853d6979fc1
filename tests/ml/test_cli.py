"""The model commands end to end: exit codes, error lines, files; bad model folders."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from composer_gui.cli import main
from composer_gui.ml.errors import ModelError
from composer_gui.ml.model.checkpoint import load_model


@pytest.fixture
def models_home(isolated_home, tiny_model, tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    shutil.copytree(tiny_model, shipped / "chorale")
    monkeypatch.setenv("COMPOSER_GUI_MODELS", str(shipped))
    return shipped


def test_generate_writes_melody_then_roles_and_is_repeatable(models_home, melody_mid, tmp_path, capsys):
    from composer_gui.midi.smf import read_midi

    out1, out2 = tmp_path / "a.mid", tmp_path / "b.mid"
    assert main(["generate", str(melody_mid), "--style", "chorale", "--seed", "4",
                 "--device", "cpu", "-o", str(out1)]) == 0
    assert main(["generate", str(melody_mid), "--model", str(models_home / "chorale"),
                 "--seed", "4", "-o", str(out2)]) == 0
    assert out1.read_bytes() == out2.read_bytes()
    song, source = read_midi(out1), read_midi(melody_mid)
    assert [t.name for t in song.tracks] == ["Tune", "Alto", "Tenor", "Bass"]
    assert song.tracks[0].notes == source.tracks[0].notes
    assert song.ticks_per_beat == source.ticks_per_beat


def test_candidates_print_one_line_each_and_star_the_choice(models_home, melody_mid, tmp_path, capsys):
    assert main(["generate", str(melody_mid), "--style", "chorale", "--candidates", "4",
                 "-o", str(tmp_path / "o.mid")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[:2] for line in lines] == [["candidate", str(i)] for i in range(4)]
    starred = [line for line in lines if line.endswith("*")]
    assert len(starred) == 1
    scores = [float(line.split()[3]) for line in lines]
    assert scores.index(max(scores)) == int(starred[0].split()[1])


def test_partial_generation_from_the_command_line(models_home, melody_mid, tmp_path):
    from composer_gui.midi.smf import read_midi

    full, part = tmp_path / "full.mid", tmp_path / "part.mid"
    assert main(["generate", str(melody_mid), "--style", "chorale", "-o", str(full)]) == 0
    assert main(["generate", str(full), "--style", "chorale", "--seed", "11", "--bars", "2-3",
                 "--tracks", "Alto,Bass", "-o", str(part)]) == 0
    a, b = read_midi(full), read_midi(part)
    assert b.tracks[2].notes == a.tracks[2].notes  # Tenor untouched
    bar = 4 * a.ticks_per_beat
    for k in (1, 3):
        outside = [n for n in a.tracks[k].notes if not bar <= n.start < 3 * bar]
        assert [n for n in b.tracks[k].notes if not bar <= n.start < 3 * bar] == outside


@pytest.mark.parametrize("args, message", [
    (["--style", "nosuchstyle"], "no model for style 'nosuchstyle'"),
    (["--model", "/nonexistent/model"], "not found"),
    (["--style", "chorale", "--bars", "3-1"], "bars"),
    (["--style", "chorale", "--melody-track", "5"], "--melody-track 5"),
    (["--style", "chorale", "--tracks", "Soprano"], "no role named 'Soprano'"),
])
def test_generate_usage_errors_exit_2(models_home, melody_mid, tmp_path, capsys, args, message):
    assert main(["generate", str(melody_mid), *args, "-o", str(tmp_path / "o.mid")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("composer-gui: error:") and message in err
    assert "Traceback" not in err


def test_an_unseen_meter_is_played_and_an_empty_melody_exits_2(models_home, tmp_path, capsys):
    from composer_gui.midi.smf import read_midi, write_midi

    from .conftest import melody_song

    odd = tmp_path / "odd.mid"
    write_midi(melody_song(bars=3, numerator=7, denominator=8), odd)
    assert main(["generate", str(odd), "--style", "chorale", "-o", str(tmp_path / "o.mid")]) == 0
    out = read_midi(tmp_path / "o.mid")
    assert [t.name for t in out.tracks[1:]] == ["Alto", "Tenor", "Bass"]
    assert all(t.notes for t in out.tracks[1:])
    assert [(m.numerator, m.denominator) for m in out.time_signatures] == [(7, 8)]
    empty = melody_song(bars=2)
    empty.tracks[0].notes = []
    write_midi(empty, tmp_path / "empty.mid")
    assert main(["generate", str(tmp_path / "empty.mid"), "--style", "chorale",
                 "-o", str(tmp_path / "o.mid")]) == 2
    assert "empty melody" in capsys.readouterr().err


def test_models_lists_shipped_user_and_broken(models_home, capsys, tmp_path):
    from composer_gui.ml.model.registry import user_models_dir

    user = user_models_dir() / "mine"
    shutil.copytree(models_home / "chorale", user)
    broken = models_home / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    assert main(["models", "--json"]) == 0
    entries = {e["name"]: e for e in json.loads(capsys.readouterr().out)}
    assert entries["chorale"]["source"] == "shipped" and entries["mine"]["source"] == "user"
    assert entries["chorale"]["roles"] == ["Alto", "Tenor", "Bass"]
    assert entries["chorale"]["trained_steps"] == 0
    assert "corrupt JSON" in entries["broken"]["error"]
    assert main(["models"]) == 0
    assert "UNUSABLE" in capsys.readouterr().out


def test_models_lists_the_shipped_models_one_line_each(isolated_home, monkeypatch, capsys):
    from composer_gui.assets import models_dir

    monkeypatch.delenv("COMPOSER_GUI_MODELS", raising=False)
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sorted(line.split("\t")[0] for line in lines) == ["chorale", "folk", "pop"]
    assert all(line.endswith(str(models_dir() / line.split("\t")[0])) for line in lines)


def test_models_without_the_shipped_models_fails_naming_the_folder(isolated_home, tmp_path,
                                                                   monkeypatch, capsys):
    """A package installed without its data must not look like "no models, all fine"."""
    empty = tmp_path / "site-packages" / "composer_gui" / "assets" / "models"
    empty.mkdir(parents=True)
    monkeypatch.setenv("COMPOSER_GUI_MODELS", str(empty))
    assert main(["models"]) == 2
    captured = capsys.readouterr()
    assert captured.out.strip() == "no models found"
    assert captured.err.startswith("composer-gui: error: no shipped models in ")
    assert str(empty) in captured.err
    assert main(["models", "--json"]) == 2
    assert json.loads(capsys.readouterr().out) == []


def _copy(tiny_model, tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(tiny_model, folder)
    return folder


def test_bad_model_folders_name_the_problem(tiny_model, tmp_path):
    folder = _copy(tiny_model, tmp_path)
    weights = folder / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="corrupt or truncated"):
        load_model(folder)
    weights.unlink()
    with pytest.raises(ModelError, match="missing model.safetensors"):
        load_model(folder)

    folder = _copy(tiny_model, tmp_path / "b")
    config = json.loads((folder / "config.json").read_text())
    config["gen_width"] = 48
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="shape .* config.json needs"):
        load_model(folder)
    config["gen_width"] = 32
    config["version"] = 99
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="version 99"):
        load_model(folder)
    (folder / "config.json").unlink()
    with pytest.raises(ModelError, match="missing config.json"):
        load_model(folder)
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "nowhere")


def test_bad_model_is_exit_2_on_the_command_line(tiny_model, melody_mid, tmp_path, capsys):
    folder = _copy(tiny_model, tmp_path)
    (folder / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}")
    assert main(["generate", str(melody_mid), "--model", str(folder), "-o", str(tmp_path / "o.mid")]) == 2
    assert "model.safetensors" in capsys.readouterr().err


def test_train_usage_errors_exit_2(tmp_path, capsys):
    assert main(["train", str(tmp_path), "--style", "chorale", "-o", str(tmp_path / "m")]) == 2
    assert "--steps" in capsys.readouterr().err
    assert main(["train", str(tmp_path), "--resume", "--steps", "3", "-o", str(tmp_path / "m")]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "none"), "--style", "pop-rock", "--steps", "3",
                 "-o", str(tmp_path / "m2")]) == 2
    assert "unknown style" in capsys.readouterr().err


def test_command_line_import_does_not_load_torch():
    code = "import sys, composer_gui.cli as c; c.build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_evaluate_prints_the_metric_table_for_data_and_model(tiny_model, chorale_dir, tmp_path,
                                                             isolated_home, capsys):
    assert main(["evaluate", str(tiny_model), str(chorale_dir), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["validation_songs"] == 3  # the fixed split of these eight files
    assert set(result["data_table"]) == set(result["generated_table"]) == {"alto", "tenor", "bass"}
    real = result["data_table"]["bass"]
    assert real["empty_bar_rate"] < 0.1 and real["qualified_note_rate"] > 0.9
    assert 0.0 <= result["seed_overlap"] <= 1.0
    assert "chosen_td" in result["critic_choice"]
    # harmony, real next to generated: Bach's parts hold the melody's pitch class often
    harmony = result["harmony"]
    assert set(harmony["data"]) == set(harmony["generated"]) == {
        "melody_clash", "inner_clash", "note_in_chord", "parallels_per_100"}
    assert harmony["data"]["melody_clash"] < 0.15 and harmony["data"]["note_in_chord"] > 0.3
    assert harmony["data"]["parallels_per_100"] < 1.0  # Bach avoids parallel fifths
    assert result["lines"]["bass"]["data"]["notes_per_bar"] > 2
    # the two-sample test judged every bar of the 3 songs, real and generated
    two = result["two_sample"]
    assert 0.0 <= two["auc"] <= 1.0 and 0.0 <= two["other_song_auc"] <= 1.0
    assert two["songs"] == 3 and len(two["mean_proba_generated"]) == 3
    # the critic's ranking judged by the classifier, melody by melody
    judged = result["critic_choice_judged"]
    assert judged["melodies"] == 3 and 0.0 <= judged["pick_beats_random"] <= 1.0
    assert main(["evaluate", str(tiny_model), str(chorale_dir)]) == 0
    text = capsys.readouterr().out
    assert "| bass | UPC |" in text and "median note overlap between two seeds" in text
    assert "| note-in-chord |" in text and "| bass | notes per bar |" in text
    assert "classifier two-sample test, ROC AUC" in text
    assert "the critic's pick looks less generated" in text
