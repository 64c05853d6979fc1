"""The line model of one-voice parts: steps like the data's, notes where the data starts
them, no parallels into a window's first step, fitted to training songs."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from composer_gui.ml.data.line_stats import MAX_STEP, SILENT, line_counts, onset_rates, shares
from composer_gui.ml.generate.decode import ONSET_FLOOR, LinePrior, VoiceLeading, decode_mono
from composer_gui.pianoroll.grid import HOLD, ONSET

T, P = 8, 40


def _steps_like_a_singer() -> np.ndarray:
    """Step weights: seconds common, leaps rare."""
    w = np.full(2 * MAX_STEP + 1, 0.01)
    for step, share in ((0, 0.2), (1, 0.3), (2, 0.3), (3, 0.1), (4, 0.1)):
        w[MAX_STEP + step] = w[MAX_STEP - step] = share
    return w


def _prior(allowed=None, steps=None) -> LinePrior:
    return LinePrior(steps if steps is not None else np.ones(25), np.ones(P), np.ones(12),
                     np.full((1, T), SILENT), np.ones(T, bool) if allowed is None else allowed)


def _one_leap_or_step():
    """A held note at pitch 20, then at step 4 a new note: pitch 31 (a leap of 11) a
    little likelier than pitch 22 (a step of 2)."""
    frame = np.full((1, T, P), 1e-4)
    onset = np.zeros((1, T, P))
    frame[0, :4, 20] = 0.99
    onset[0, 0, 20] = 1.0
    frame[0, 4:, 31], frame[0, 4:, 22] = 0.55, 0.5
    onset[0, 4, 31], onset[0, 4, 22] = 0.5, 0.5
    return frame, onset


def _pitch_at(codes: np.ndarray, t: int) -> int:
    return int(np.nonzero(codes[0, t])[0][0])


def test_the_line_model_steps_where_the_network_alone_would_leap():
    frame, onset = _one_leap_or_step()
    alone = decode_mono(frame, onset, None, temperature=0)
    lined = decode_mono(frame, onset, None, temperature=0,
                        line=_prior(steps=_steps_like_a_singer()))
    assert _pitch_at(alone, 4) == 31
    assert _pitch_at(lined, 4) == 22 and lined[0, 4, 22] == ONSET


def test_no_note_starts_where_the_data_starts_none():
    frame, onset = _one_leap_or_step()
    onset[0, 4] = 0.0
    onset[0, 5, 22] = 1.0  # the network wants a new note on a sixteenth off-beat
    frame[0, 4, 20], frame[0, 4, 22], frame[0, 4, 31] = 0.99, 1e-4, 1e-4
    allowed = np.array([True, False, True, False] * 2)
    free = decode_mono(frame, onset, None, temperature=0)
    ruled = decode_mono(frame, onset, None, temperature=0, line=_prior(allowed))
    assert free[0, 5].max() == ONSET  # without the rule it starts there
    assert ruled[0, 5, 20] == HOLD and ruled[0, 5].max() == HOLD  # the held note goes on
    assert ruled[0, 6].max() == ONSET  # and the new note waits for the next eighth
    assert not (ruled[0, 1::2] == ONSET).any()


def test_voice_leading_sees_a_parallel_octave_into_the_windows_first_step():
    """The tenor moves 65 -> 63 across the window's start; the bass was at 53 and the
    network likes 51 (parallel octaves) over 55."""
    frame = np.full((1, T, P), 1e-4)
    onset = np.zeros((1, T, P))
    frame[0, :, 11], frame[0, :, 15] = 0.9, 0.5
    onset[0, 0, 11] = onset[0, 0, 15] = 1.0
    others = np.full((1, 1, T), 23)
    beat = np.zeros(T, bool)
    blind = VoiceLeading(others, beat, 0.0)
    seeing = VoiceLeading(others, beat, 0.0, before_start=np.array([[25]]))
    prev = np.array([13])
    assert _pitch_at(decode_mono(frame, onset, None, 0, prev_pitch=prev, leading=blind), 0) == 11
    assert _pitch_at(decode_mono(frame, onset, None, 0, prev_pitch=prev, leading=seeing), 0) == 15


def test_bach_moves_by_step_and_starts_no_notes_on_sixteenth_offbeats(chorale_dir):
    from composer_gui.ml.data.dataset import MARGIN, load_folder
    from composer_gui.ml.model.config import style_config

    config = style_config("chorale")
    loading = load_folder(chorale_dir, config, None)
    try:
        while True:
            next(loading)
    except StopIteration as stop:
        dataset = stop.value
    counts, keys = line_counts(dataset.train, [0, 2], config.steps_per_beat, MARGIN,
                               config.pitches, config.lowest)
    assert len(keys) == len(dataset.train)
    for role in (0, 2):
        steps = shares(counts[role]["steps"], 0)
        seconds = steps[MAX_STEP - 2:MAX_STEP + 3].sum() - steps[MAX_STEP]
        leaps = steps[:MAX_STEP - 7].sum() + steps[MAX_STEP + 8:].sum()
        assert seconds > 0.4 and leaps < seconds / 4
        rates = onset_rates(counts[role])
        assert rates[0] == 1.0 and rates[1] < ONSET_FLOOR and rates[3] < ONSET_FLOOR
        assert counts[role]["key"][0] > 5 * counts[role]["key"][1]  # mostly in the key


def test_fit_lines_command_fits_a_model_to_training_songs(tiny_model, chorale_dir, tmp_path,
                                                          isolated_home):
    from composer_gui.cli import main
    from composer_gui.ml.generate.sample import Composer
    from composer_gui.ml.model.config import ModelConfig
    from tests.ml.conftest import melody_song

    folder = tmp_path / "tiny"
    shutil.copytree(tiny_model, folder)
    rc = main(["fit-lines", str(folder), str(chorale_dir), "--songs", "3", "--rounds", "2"])
    assert rc == 0
    config = ModelConfig.load(folder)
    assert config.line_prior == 1.0
    for spec in config.roles:
        assert len(spec.line_steps) == 25 and max(spec.line_steps) == pytest.approx(1.0)
        assert len(spec.line_register) == config.pitches and len(spec.line_melody) == 12
        assert len(spec.line_onsets) == config.steps_per_beat
    fit = config.training["line_fit"]
    assert fit["songs"] == 3 and fit["rounds"] == 2
    before = sum(fit["report"][s.name]["before"]["steps"] for s in config.roles)
    after = sum(fit["report"][s.name]["after"]["steps"] for s in config.roles)
    assert after < before  # the decoded lines moved towards the data's
    # and generation decodes with it: no note of any voice starts on a sixteenth off-beat
    result = Composer(folder, "cpu").compose(melody_song(4), None, 0, 1, None, None)
    for track in result.song.tracks[1:]:
        assert track.notes
        assert all(n.start % 240 == 0 for n in track.notes)


def test_a_config_with_a_malformed_line_model_is_refused(tiny_model, tmp_path):
    from composer_gui.ml.errors import ModelError
    from composer_gui.ml.model.config import ModelConfig

    folder = tmp_path / "broken"
    shutil.copytree(tiny_model, folder)
    data = json.loads((folder / "config.json").read_text())
    data["roles"][0]["line_steps"] = [1.0] * 24
    (folder / "config.json").write_text(json.dumps(data))
    with pytest.raises(ModelError, match="line_steps must hold 25 values"):
        ModelConfig.load(folder)
