"""Grid arithmetic: grid sizes, snapping, quantize strength; array and scalar agree."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from composer_gui.core.quantize import (
    grid_ticks,
    quantize_span,
    quantize_spans_array,
    quantize_tick,
    snap,
)
from composer_gui.core.song import SongError


def test_grid_sizes():
    assert grid_ticks(480, 16) == 120
    assert grid_ticks(480, 8, triplet=True) == 160
    assert grid_ticks(480, 4, dotted=True) == 720
    assert grid_ticks(100, 8, triplet=True) == pytest.approx(33.3333333)
    assert grid_ticks(480, 1) == 1920
    with pytest.raises(SongError):
        grid_ticks(480, 0)


def test_snap_modes_and_strength():
    assert snap(59, 120) == 0 and snap(60, 120) == 120  # halves go up
    assert snap(119, 120, mode="floor") == 0 and snap(1, 120, mode="ceil") == 120
    assert snap(130, 120, origin=10) == 130
    assert quantize_tick(100, 120, 0.5) == 110
    assert quantize_tick(100, 120, 0.0) == 100
    with pytest.raises(SongError):
        quantize_tick(100, 120, 1.5)
    # fractional grid: 1/8 triplets at 100 ticks per beat fall on 0, 33, 67, 100
    assert [snap(t, 100 / 3) for t in (20, 40, 80, 99)] == [33, 33, 67, 100]


@given(
    spans=st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 2_000)), max_size=40),
    grid=st.sampled_from([1, 40, 120, 160, 100 / 3, 1920]),
    strength=st.floats(0, 1),
    ends=st.booleans(),
    origin=st.integers(0, 50),
)
@settings(max_examples=200, deadline=None)
def test_array_matches_scalar(spans, grid, strength, ends, origin):
    starts = np.array([s for s, _ in spans], dtype=np.int64)
    stops = np.array([s + d for s, d in spans], dtype=np.int64)
    got_s, got_e = quantize_spans_array(
        starts, stops, grid, strength, quantize_ends=ends, origin=origin
    )
    want = [quantize_span(s, e, grid, strength, ends=ends, origin=origin) for s, e in zip(starts, stops)]
    assert list(zip(got_s.tolist(), got_e.tolist())) == want
    assert all(e > s for s, e in want)
