"""Sub-pixel peaks: the row-wise form gives what the one-profile form gives."""

import numpy as np

from edgeecg.imaging.peaks import peak_position, row_peaks


def test_row_peaks_matches_peak_position_on_every_row_ends_and_flat_tops_included():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(200, 9))
    values[0, 0] = values[1, -1] = 10.0      # a peak at either end: the index itself
    values[2, 3:5] = 10.0                    # a flat top
    x = np.arange(9)
    values[3] = -(x - 4.3) ** 2              # a parabola's vertex between samples
    got = row_peaks(values)
    assert np.allclose(got, [peak_position(v) for v in values])
    assert abs(got[3] - 4.3) < 1e-9 and got[0] == 0 and got[1] == 8


def test_profiles_too_short_for_a_parabola_give_the_index_itself():
    assert row_peaks(np.array([[1.0, 3.0], [4.0, 2.0]])).tolist() == [1.0, 0.0]
    assert peak_position(np.array([5.0])) == 0.0 and peak_position(np.array([1.0, 3.0])) == 1.0
