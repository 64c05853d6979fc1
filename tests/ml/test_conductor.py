"""The conductor: trained after the generator, it ranks, guides and labels candidates;
guidance off is the plain network."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from composer_gui.ml.generate.guidance import GUIDANCE, guidance_samples, keep_best


def test_guidance_levels_and_bad_levels():
    assert [guidance_samples(x) for x in ("off", "light", "strong")] == [1, 4, 16]
    assert guidance_samples(None) == GUIDANCE["light"]
    with pytest.raises(ValueError, match="off, light, strong"):
        guidance_samples("loud")


def test_light_guidance_draws_a_sample_in_proportion_to_its_odds_of_being_real():
    """keep_best with a sharpness draws row i of a group with probability proportional to
    exp(sharpness * score_i): the best most often, the others sometimes (varied output)."""
    rng = np.random.default_rng(0)
    scores = np.log(np.array([0.1, 0.2, 0.3, 0.4]))  # odds 1 : 2 : 3 : 4
    picks = np.zeros(4)
    for _ in range(4000):
        state = np.arange(4)[:, None, None, None] * np.ones((4, 1, 1, 1), np.int8)
        picks[keep_best(state, scores.copy(), samples=4, rng=rng, sharpness=1.0)[0]] += 1
    assert np.allclose(picks / picks.sum(), [0.1, 0.2, 0.3, 0.4], atol=0.03)
    state = np.arange(4)[:, None, None, None] * np.ones((4, 1, 1, 1), np.int8)
    assert keep_best(state, scores, samples=4, rng=rng, sharpness=None)[0] == 3


def test_keep_best_continues_every_sample_from_its_candidates_best():
    state = np.arange(6)[:, None, None, None] * np.ones((6, 1, 2, 2), np.int8)
    best = keep_best(state, np.array([0.1, 0.9, 0.2, 0.5, 0.4, 0.3]), samples=3)
    assert best.tolist() == [1, 3]
    assert state[:3].max() == state[:3].min() == 1 and state[3:].max() == state[3:].min() == 3


@pytest.fixture(scope="module")
def conducted(tiny_model, chorale_files, tmp_path_factory):
    """A copy of the tiny model with a conductor trained for a few steps."""
    from composer_gui.ml.train.conductor import train_conductor

    data = tmp_path_factory.mktemp("chorales")
    for f in chorale_files:
        shutil.copy(f, data / f.name)
    folder = tmp_path_factory.mktemp("conducted") / "tiny"
    shutil.copytree(tiny_model, folder)
    info = train_conductor(folder, data, songs=3, minutes=0.02)
    return folder, info


def test_train_conductor_saves_a_judge_with_a_reference_of_unseen_real_windows(conducted):
    from composer_gui.ml.generate.sample import Composer

    folder, info = conducted
    assert (folder / "conductor.safetensors").is_file()
    assert info["train_songs"] == 3 and info["validation_songs"] >= 1
    assert 0.0 <= info["validation_auc"] <= 1.0
    assert info["reference"] == sorted(info["reference"]) and len(info["reference"]) >= 3
    composer = Composer(folder, "cpu")
    assert composer.conductor is not None
    assert composer.conductor_info["reference"] == info["reference"]


def _notes(song):
    return [(n.pitch, n.start, n.duration) for t in song.tracks[1:] for n in t.notes]


def test_guidance_off_is_the_plain_network_and_strong_steers_it(conducted, tiny_model):
    from composer_gui.ml.generate.sample import Composer
    from tests.ml.conftest import melody_song

    folder, _ = conducted
    song = melody_song(8)
    plain = Composer(tiny_model, "cpu")
    assert plain.conductor is None
    guided = Composer(folder, "cpu")
    off = guided.compose(song, seed=3, guidance="off")
    assert _notes(off.song) == _notes(plain.compose(song, seed=3).song)
    strong = guided.compose(song, seed=3, guidance="strong")
    assert _notes(strong.song) and _notes(strong.song) != _notes(off.song)
    # a model without a conductor says so when guidance is asked for, and stays plain
    warnings = []
    again = plain.compose(song, seed=3, guidance="strong", warn=warnings.append)
    assert _notes(again.song) == _notes(off.song)
    assert any("no conductor" in w for w in warnings)


def test_generate_candidates_prints_how_real_from_the_conductors_reference(conducted, tmp_path,
                                                                           capsys):
    from composer_gui.cli import main
    from composer_gui.midi.smf import write_midi
    from tests.ml.conftest import melody_song

    folder, _ = conducted
    src = tmp_path / "tune.mid"
    write_midi(melody_song(8), src)
    rc = main(["generate", str(src), "--model", str(folder), "--candidates", "3",
               "--guidance", "light", "-o", str(tmp_path / "out.mid")])
    assert rc == 0
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("candidate")]
    assert len(lines) == 3 and all("how real" in x and x.rstrip().endswith(("%", "*"))
                                   for x in lines)
    assert sum(x.endswith(" *") for x in lines) == 1


def test_a_conductor_of_other_weights_is_ignored_and_a_corrupt_one_refused(conducted,
                                                                         tmp_path):
    from composer_gui.ml.errors import ModelError
    from composer_gui.ml.generate.sample import Composer

    folder, _ = conducted
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    info = json.loads((copy / "conductor.json").read_text())
    info["weights_sha256"] = "0" * 64  # as after a fine-tune changed the generator
    (copy / "conductor.json").write_text(json.dumps(info))
    assert Composer(copy, "cpu").conductor is None
    (copy / "conductor.json").write_text("{not json")
    with pytest.raises(ModelError, match="conductor.json"):
        Composer(copy, "cpu")


def _train_jsonl(args, capsys) -> list[dict]:
    from composer_gui.cli import main

    assert main(["train", *args, "--jsonl"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_a_fine_tune_trains_its_own_conductor_from_the_bases(conducted, datasets_dir, tmp_path,
                                                              capsys):
    """Fine-tuning keeps the conductor: the fine-tuned model gets its own, started from the
    base's, judged on the run's validation songs (whose real windows are its "how real"
    reference), and it guides and ranks that model's generation."""
    from composer_gui.ml.data.dataset import load_dataset
    from composer_gui.ml.generate.controls import percentile, reference_scores
    from composer_gui.ml.generate.sample import Composer
    from composer_gui.ml.model.config import ModelConfig
    from composer_gui.ml.train.conductor import PER_SONG

    base, _ = conducted
    data = tmp_path / "mine"  # other chorales than the base's conductor learned from
    data.mkdir()
    mine = sorted((datasets_dir / "bach_chorales").glob("*.mid"))[20:30]
    for f in mine:
        shutil.copy(f, data / f.name)
    out = tmp_path / "fine"
    records = _train_jsonl([str(data), "--from", str(base), "-o", str(out), "--steps", "4",
                            "--validate-every", "4"], capsys)
    stage = [r for r in records if r["kind"] == "conductor"]
    assert [r["phase"] for r in stage][0] == "start" and stage[-1]["phase"] == "done"
    assert stage[0]["from"] == "base conductor" and any(r["phase"] == "progress" for r in stage)
    assert records[-1]["kind"] == "done"
    assert records.index(stage[-1]) < len(records) - 1  # the stage ends before "done"

    composer = Composer(out, "cpu")
    assert composer.conductor is not None  # tied to the fine-tuned weights, not the base's
    info = composer.conductor_info
    assert "start_validation_auc" in info and info["validation_auc"] == stage[-1]["validation_auc"]
    validation = load_dataset(data, ModelConfig.load(out)).validation
    assert info["validation_songs"] == len(validation)
    assert len(info["reference"]) <= PER_SONG * len(validation)
    base_reference = Composer(base, "cpu").conductor_info["reference"]
    assert info["reference"] != base_reference  # its own judge, its own reference
    assert "## Conductor" in (out / "README.md").read_text()

    from composer_gui.midi.smf import read_midi

    song = read_midi(mine[0])
    guided = composer.compose(song, None, seed=3, candidates=2, guidance="strong")
    plain = composer.compose(song, None, seed=3, candidates=2, guidance="off")
    assert _notes(guided.song) != _notes(plain.song)  # the conductor steers it
    reference = reference_scores(composer)  # what the app's "how real" label reads
    assert reference.tolist() == sorted(info["reference"])
    assert 0 <= percentile(guided.scores[guided.chosen], reference) <= 100


def test_conductor_minutes_zero_and_a_stopped_run_train_no_conductor(tiny_model, chorale_files,
                                                                      tmp_path, capsys):
    data = tmp_path / "mine"
    data.mkdir()
    for f in chorale_files[:4]:
        shutil.copy(f, data / f.name)
    out = tmp_path / "plain"
    records = _train_jsonl([str(data), "--from", str(tiny_model), "-o", str(out), "--steps", "2",
                            "--conductor-minutes", "0"], capsys)
    assert not [r for r in records if r["kind"] == "conductor"]
    assert not (out / "conductor.safetensors").exists()
    assert json.loads((out / "config.json").read_text())["training"]["conductor_minutes"] == 0


def test_the_ear_stored_as_arrays_judges_as_the_fitted_trees_do():
    """The ear's trees leave scikit-learn as plain arrays (no pickle) and give the same
    log-odds, missing features included; arrays that point outside the forest are
    refused."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from composer_gui.ml.errors import ModelError
    from composer_gui.ml.model.ear import Ear

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 6))
    x[rng.random(x.shape) < 0.1] = np.nan
    y = (np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 2]) ** 2 > 0.8).astype(int)
    fitted = HistGradientBoostingClassifier(max_iter=50, max_leaf_nodes=15,
                                            random_state=0).fit(x, y)
    ear = Ear.from_classifier(fitted)
    probe = rng.normal(size=(300, 6))
    probe[rng.random(probe.shape) < 0.2] = np.nan
    assert np.allclose(ear.raw(probe), fitted.decision_function(probe))
    stored = Ear.from_arrays(ear.arrays(), ear.baseline, ear.n_features)
    assert np.allclose(stored.raw(probe), fitted.decision_function(probe))
    broken = ear.arrays()
    broken["left"] = broken["left"] + len(broken["left"])
    with pytest.raises(ModelError, match="corrupt"):
        Ear.from_arrays(broken, ear.baseline, ear.n_features)
    with pytest.raises(ValueError, match="6 features"):
        ear.raw(probe[:, :5])


def test_the_conductor_scores_with_its_ear_and_its_reference_is_that_score(conducted):
    """A trained conductor carries its ear; its score (guidance, ranking, "how real") is
    the ear's by default, and the reference holds that same score of real windows."""
    from composer_gui.ml.generate.sample import Composer
    from composer_gui.ml.train.conductor import DEFAULT_WEIGHTS, song_windows

    folder, info = conducted
    composer = Composer(folder, "cpu")
    judge = composer.conductor
    assert judge.ear is not None and info["weights"] == DEFAULT_WEIGHTS
    assert info["ear"]["train_bars"] > 0 and 0 <= info["ear"]["validation_bar_auc"] <= 1
    import torch

    from composer_gui.ml.data.dataset import load_dataset

    data = Path(info["data"])
    windows = song_windows(load_dataset(data, composer.config).validation, composer.config)
    with torch.inference_mode():
        scores = judge(*(torch.from_numpy(a) for a in windows)).numpy()
    assert np.allclose(np.sort(scores), info["reference"], atol=1e-4)
    ear_only = judge.ear_logits(*windows)
    assert np.allclose(scores, ear_only, atol=1e-5)  # network weight 0: the ear alone


def test_a_broken_ear_is_refused_with_a_message(conducted, tmp_path):
    from safetensors.torch import load_file, save_file

    from composer_gui.ml.errors import ModelError
    from composer_gui.ml.generate.sample import Composer

    folder, _ = conducted
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    tensors = load_file(copy / "conductor.safetensors")
    del tensors["ear.roots"]
    save_file(tensors, copy / "conductor.safetensors")
    with pytest.raises(ModelError, match="ear"):
        Composer(copy, "cpu")
