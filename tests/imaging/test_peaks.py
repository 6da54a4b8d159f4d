"""Sub-pixel peaks: a parabola's vertex through the largest sample and its neighbours, the index itself at an end."""

import numpy as np

from edgeecg.imaging.peaks import peak_position, row_peaks


def _vertex(v: np.ndarray) -> float:
    """The reference, by another road: np.polyfit's parabola through the peak and its neighbours, its vertex
    clipped to half a sample; the index itself at an end or where the three do not curve down."""
    i = int(np.argmax(v))
    if not 0 < i < len(v) - 1:
        return float(i)
    a, b, _ = np.polyfit([-1.0, 0.0, 1.0], v[i - 1: i + 2], 2)
    return float(i) if a >= 0 else i + float(np.clip(-b / (2 * a), -0.5, 0.5))


def test_row_peaks_is_the_parabolas_vertex_on_every_row_ends_and_flat_tops_included():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(200, 9))
    values[0, 0] = values[1, -1] = 10.0      # a peak at either end: the index itself
    values[2, 3:5] = 10.0                    # a flat top
    x = np.arange(9)
    values[3] = -(x - 4.3) ** 2              # a parabola's vertex between samples
    got = row_peaks(values)
    assert np.allclose(got, [_vertex(v) for v in values])
    assert abs(got[3] - 4.3) < 1e-9 and got[0] == 0 and got[1] == 8
    assert peak_position(values[3]) == got[3]


def test_profiles_too_short_for_a_parabola_give_the_index_itself():
    assert row_peaks(np.array([[1.0, 3.0], [4.0, 2.0]])).tolist() == [1.0, 0.0]
    assert peak_position(np.array([5.0])) == 0.0 and peak_position(np.array([1.0, 3.0])) == 1.0
