"""Generation: output layout, seeds, candidates, windows, partial regeneration, fallback."""

from __future__ import annotations

import numpy as np
import pytest

from composer_gui.core.song import Note, TimeSignature
from composer_gui.ml.generate.sample import Composer, GenerateError

from .conftest import melody_song


@pytest.fixture(scope="module")
def composer(tiny_model):
    import torch

    torch.set_num_threads(1)
    return Composer(tiny_model, "cpu")


def test_output_layout_melody_first_then_roles(composer):
    song = melody_song(bars=6)
    song.key_signatures = []
    result = composer.compose(song, seed=3)
    out = result.song
    assert [t.name for t in out.tracks] == ["Tune", "Alto", "Tenor", "Bass"]
    assert out.tracks[0].notes == song.tracks[0].notes
    assert out.ticks_per_beat == song.ticks_per_beat
    assert out.time_signatures == song.time_signatures and out.tempos == song.tempos
    assert [t.role for t in out.tracks[1:]] == ["alto", "tenor", "bass"]
    # no role shares the melody's channel
    assert out.tracks[0].channel not in {t.channel for t in out.tracks[1:]}
    for track in out.tracks[1:]:
        assert track.notes, track.name
        assert max(n.end for n in track.notes) <= song.end_tick + song.ticks_per_beat * 4


def _notes(result):
    return [[(n.pitch, n.start, n.duration) for n in t.notes] for t in result.song.tracks[1:]]


def test_same_seed_same_notes_other_seed_other_notes(composer):
    song = melody_song(bars=4)
    a = composer.compose(song, seed=7)
    b = composer.compose(song, seed=7)
    c = composer.compose(song, seed=8)
    assert _notes(a) == _notes(b)
    assert _notes(a) != _notes(c)


def test_candidates_are_ranked_by_the_critic(composer):
    result = composer.compose(melody_song(bars=4), seed=1, candidates=5)
    assert len(result.scores) == 5 and len(result.candidates) == 5
    assert result.chosen == int(np.argmax(result.scores))
    assert [t.notes for t in result.song.tracks[1:]] == [t.notes for t in result.candidates[result.chosen]]
    assert len({round(s, 6) for s in result.scores}) > 1


def test_long_melody_is_covered_window_by_window(composer):
    """36 bars (many windows): every part has notes in every stretch of four bars."""
    song = melody_song(bars=36)
    result = composer.compose(song, seed=0)
    bar = 4 * song.ticks_per_beat
    for track in result.song.tracks[1:]:
        starts = {n.start // (4 * bar) for n in track.notes}
        assert starts >= set(range(9)), track.name


def test_partial_regeneration_keeps_every_other_note(composer):
    song = melody_song(bars=8)
    first = composer.compose(song, seed=2).song
    # the user edits the Alto by hand: one note of their own in bar 2
    alto = first.tracks[1]
    alto.notes = [n for n in alto.notes if not 1920 <= n.start < 3840] + [Note(55, 1920, 960, 64)]
    alto.notes.sort(key=lambda n: (n.start, n.pitch))
    again = composer.compose(first, melody_track=0, seed=9, bars=(5, 6), tracks=["Tenor"]).song
    by_name = {t.name: t for t in again.tracks}
    assert again.tracks[0].notes == first.tracks[0].notes
    assert by_name["Alto"].notes == alto.notes
    assert by_name["Bass"].notes == first.tracks[3].notes
    lo, hi = 4 * 1920, 6 * 1920
    old_tenor = first.tracks[2].notes
    new_tenor = by_name["Tenor"].notes
    assert [n for n in new_tenor if not lo <= n.start < hi] == [n for n in old_tenor if not lo <= n.start < hi]
    assert [n for n in new_tenor if lo <= n.start < hi] != [n for n in old_tenor if lo <= n.start < hi]
    assert any(lo <= n.start < hi for n in new_tenor)


def test_empty_melody_is_a_user_error_and_an_unseen_meter_is_played(composer):
    song = melody_song(bars=2)
    song.tracks[0].notes = []
    with pytest.raises(GenerateError, match="no notes"):
        composer.compose(song)
    odd = melody_song(bars=4, numerator=5, denominator=4)  # the model knows 4/4 and 3/4
    out = composer.compose(odd, seed=0).song
    assert all(t.notes for t in out.tracks[1:])
    assert max(n.end for t in out.tracks[1:] for n in t.notes) <= odd.end_tick + 480
    with pytest.raises(GenerateError, match="roles: Alto, Tenor, Bass"):
        composer.compose(melody_song(bars=2), tracks=["Drums"])
    with pytest.raises(GenerateError, match="has 2 bars"):
        composer.compose(melody_song(bars=2), bars=(4, 5))


def test_three_four_follows_the_bars(composer):
    song = melody_song(bars=6, numerator=3)
    song.time_signatures = [TimeSignature(0, 3, 4)]
    out = composer.compose(song, seed=0).song
    assert all(t.notes for t in out.tracks[1:])


def test_gpu_out_of_memory_falls_back_to_cpu(tiny_model, monkeypatch):
    """A CUDA OOM during generation: a warning, then the same result from the CPU."""
    import torch

    from composer_gui.ml.generate import sample
    composer = Composer(tiny_model, "cpu")
    reference = composer.compose(melody_song(bars=4), seed=5)
    composer.device = torch.device("cuda")  # pretend the model lives on a GPU
    composer.device_name = "NVIDIA Test"
    real_run = sample.Composer._run

    def run(self, *args):
        if self.device.type == "cuda":
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 MiB")
        return real_run(self, *args)

    monkeypatch.setattr(sample.Composer, "_run", run)
    warnings = []
    result = composer.compose(melody_song(bars=4), seed=5, warn=warnings.append)
    assert warnings and "out of memory" in warnings[0] and "CPU" in warnings[0]
    assert composer.device.type == "cpu"
    assert _notes(result) == _notes(reference)


def test_device_choice_cuda_then_mps_then_cpu(monkeypatch):
    import torch

    from composer_gui.ml.device import resolve_device
    from composer_gui.ml.errors import ModelError

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto").type == "cpu"
    with pytest.raises(ModelError, match="no CUDA device"):
        resolve_device("cuda")
    with pytest.raises(ModelError, match="MPS is not available"):
        resolve_device("mps")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto").type == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto").type == "cuda"
    assert resolve_device("cpu").type == "cpu"


def test_a_melody_without_a_key_signature_gets_the_estimated_key_in_the_output(
        tiny_model, tmp_path):
    from composer_gui.core.song import KeySignature, Song, Track
    from composer_gui.midi.smf import read_midi, write_midi
    from composer_gui.ml.generate.sample import GenerateRequest, generate_file

    scale = [67, 69, 71, 72, 74, 76, 78, 79, 74, 71, 67, 62, 66, 67, 67, 67]  # G major
    tune = Song(tracks=[Track(name="Tune", role="melody",
                              notes=[Note(p, i * 480, 480, 90) for i, p in enumerate(scale)])])
    tune.key_signatures = []
    write_midi(tune, tmp_path / "tune.mid")
    generate_file(GenerateRequest(tmp_path / "tune.mid", tmp_path / "out.mid",
                                  model=str(tiny_model), device="cpu"))
    assert [k.key for k in read_midi(tmp_path / "out.mid").key_signatures] == ["G"]
    # a key the file names is kept as it is, even if the notes suggest another
    tune.key_signatures = [KeySignature(0, "Em")]
    write_midi(tune, tmp_path / "tune_em.mid")
    generate_file(GenerateRequest(tmp_path / "tune_em.mid", tmp_path / "out_em.mid",
                                  model=str(tiny_model), device="cpu"))
    assert [k.key for k in read_midi(tmp_path / "out_em.mid").key_signatures] == ["Em"]
