"""Bar gates fitted to the songs a model is fine-tuned on (numpy only).

A part that plays in some sections only (the pop strings, the pop bass) is decoded with a
bar gate (``RoleSpec.bar_gate``, :func:`composer_gui.ml.generate.decode.gate_bars`): a bar whose
mean expected number of sounding pitches is under the gate stays silent. The base
model's gate was set for the base model's network and data. A fine-tune moves the
network's activity (on 100 POP909 songs the bass left 33% of its bars empty after five
minutes, against 14% in the real songs) and a user's songs rest more or less often than
the base model's; a fixed gate then rests too often or never.

:func:`fit_bar_gates` picks, for every gated part, the gate at which the decoded part is
silent in as many bars as the real part is, on a fixed set of **training** windows (never
the validation songs): bars the network leaves empty without any gate count as empty at
every gate; the others are ranked by their mean activity and the gate falls half-way
between the last bar it must silence and the first it must keep. Parts without a gate
(chorale voices, pop piano) are left alone. Fitted this way on 64 of the first 100 usable
POP909 songs (four windows each), the shipped pop networks get gates of 0.62 (bass) and
0.53 (strings): the 0.6 and 0.54 set by hand when the model was made.
"""

from __future__ import annotations

import numpy as np

#: A fitted gate never goes under this (a part whose network already rests as often as
#: the data stays gated, so a later fit can raise its gate again).
MIN_GATE = 0.01


def _per_bar(values: np.ndarray, bars: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    """(per (window, bar) mean or any of ``values`` ``[N, T]``, which (window, bar) pairs
    have steps), both ``[N, B]``."""
    n, _t = values.shape
    rows = np.broadcast_to(np.arange(n)[:, None], values.shape)
    size = (n, int(bars.max()) + 1)
    sums, counts = np.zeros(size), np.zeros(size)
    np.add.at(sums, (rows, bars), values.astype(np.float64))
    np.add.at(counts, (rows, bars), 1.0)
    present = counts > 0
    if how == "mean":
        return sums / np.maximum(counts, 1.0), present
    return sums > 0, present


def fit_gate(activity: np.ndarray, sounds_ungated: np.ndarray, real_sounds: np.ndarray,
             bars: np.ndarray) -> float:
    """The gate for one part: ``activity`` ``[N, T]`` the summed frame probability per
    step, ``sounds_ungated`` / ``real_sounds`` ``[N, T]`` whether the part decoded without
    a gate / the real part sounds at each step, ``bars`` ``[N, T]`` the steps' bar numbers.
    """
    bars = np.broadcast_to(bars, activity.shape)
    mean_act, present = _per_bar(activity, bars, "mean")
    plays, _ = _per_bar(sounds_ungated, bars, "any")
    real, _ = _per_bar(real_sounds, bars, "any")
    total = int(present.sum())
    if total == 0:
        return MIN_GATE
    wanted_empty = int(round(float((~real & present).sum())))
    already_empty = int((~plays & present).sum())
    candidates = np.sort(mean_act[plays & present])
    need = wanted_empty - already_empty  # bars the gate must silence
    if need <= 0 or len(candidates) == 0:
        return MIN_GATE
    if need >= len(candidates):
        return float(candidates[-1]) + 1e-3
    return max(MIN_GATE, float(candidates[need - 1] + candidates[need]) / 2)


def fit_bar_gates(probs: np.ndarray, real: np.ndarray, bars: np.ndarray, config) -> dict:
    """``{part name: gate}`` for the gated parts of ``config``: ``probs`` ``[N, R, 2, T, P]``
    the generator's probabilities for training windows, ``real`` the windows' real parts
    (same layout: frame, onset), ``bars`` ``[N, T]`` (:func:`decode.window_bars`)."""
    from composer_gui.ml.generate.decode import decode_part

    gates = {}
    for r, spec in enumerate(config.roles):
        if spec.bar_gate <= 0:
            continue
        frame, onset = probs[:, r, 0], probs[:, r, 1]
        codes = decode_part(frame, onset, spec.voices, None, 0)
        gates[spec.name] = round(fit_gate(frame.sum(axis=2), (codes > 0).any(axis=2),
                                          (real[:, r, 0] > 0.5).any(axis=2), bars), 4)
    return gates


def with_gates(config, gates: dict):
    """A copy of ``config`` whose parts use ``gates`` (``{part name: gate}``)."""
    import copy

    out = copy.deepcopy(config)
    for spec in out.roles:
        if spec.name in gates:
            spec.bar_gate = float(gates[spec.name])
    return out
