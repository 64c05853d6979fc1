"""The decoder's voice-leading rule: a new note that would clash a semitone with another
voice on the beat, or move in parallel fifths with it, gives way to the next likely
pitch; where nothing else is likely, the network's choice stands."""

from __future__ import annotations

import numpy as np

from composer_gui.ml.generate.decode import VoiceLeading, decode_mono

P = 24  # pitch indices 0..23


def _probs(steps: int, choices: dict[int, dict[int, float]]) -> tuple[np.ndarray, np.ndarray]:
    """frame and onset [1, T, P]: at each listed step, these pitches with these
    probabilities (held until the next listed step); a new note at each listed step."""
    frame = np.zeros((1, steps, P))
    onset = np.zeros((1, steps, P))
    listed = sorted(choices)
    for i, t in enumerate(listed):
        end = listed[i + 1] if i + 1 < len(listed) else steps
        for pitch, p in choices[t].items():
            frame[0, t:end, pitch] = p
            onset[0, t, pitch] = p
    return frame, onset


def _pitches(codes: np.ndarray) -> list[int]:
    return [int(np.argmax(row)) if row.any() else -1 for row in codes[0]]


def test_parallel_fifths_give_way_to_the_next_likely_pitch():
    # the other voice moves 7 -> 9 at step 2; this voice sits a fifth below at 0 and is
    # most likely to move to 2 (a fifth below 9) but could also go to 5 (a fourth below)
    other = np.array([[[7, 7, 9, 9]]])
    frame, onset = _probs(4, {0: {0: 0.9}, 2: {2: 0.9, 5: 0.6}})
    beats = np.array([True, False, True, False])
    free = decode_mono(frame, onset, None, leading=None)
    ruled = decode_mono(frame, onset, None, leading=VoiceLeading(other, beats, 0.0))
    assert _pitches(free) == [0, 0, 2, 2]
    assert _pitches(ruled) == [0, 0, 5, 5]
    # contrary motion from a fifth into a fifth is no parallel: 0 -> 11 against 7 -> 4
    falling = np.array([[[7, 7, 4, 4]]])
    frame, onset = _probs(4, {0: {0: 0.9}, 2: {11: 0.9, 5: 0.6}})
    assert _pitches(decode_mono(frame, onset, None,
                                leading=VoiceLeading(falling, beats, 0.0)))[2] == 11


def test_a_semitone_against_another_voice_on_the_beat_gives_way_but_not_off_the_beat():
    other = np.array([[[12, 12, 12, 12]]])
    frame, onset = _probs(4, {0: {11: 0.9, 7: 0.5}, 1: {13: 0.9, 16: 0.5}})
    beats = np.array([True, False, False, False])
    ruled = decode_mono(frame, onset, None, leading=VoiceLeading(other, beats, 0.0))
    assert _pitches(ruled)[0] == 7  # B against C on the beat: the G instead
    assert _pitches(ruled)[1] == 13  # a passing C# off the beat is left alone


def test_where_every_likely_pitch_breaks_the_rule_the_networks_choice_stands():
    other = np.array([[[12, 12]]])
    frame, onset = _probs(2, {0: {11: 0.9, 13: 0.8}})
    ruled = decode_mono(frame, onset, None,
                        leading=VoiceLeading(other, np.array([True, False]), 0.0))
    assert _pitches(ruled) == [11, 11]
