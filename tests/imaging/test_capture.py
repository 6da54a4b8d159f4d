import numpy as np
import pytest

from edgeecg.imaging.capture import SEVERITIES, CaptureError, capture
from edgeecg.imaging.render import render


@pytest.mark.parametrize("severity", list(SEVERITIES))
def test_capture_keeps_truth_and_records_homography(ecgs, severity):
    page = render(ecgs[0], "3x4+II")
    shot = capture(page, severity, seed=3)
    assert shot.image.dtype == np.uint8 and shot.image.ndim == 3
    assert np.array_equal(np.isfinite(shot.truth.signal), np.isfinite(page.truth.signal), equal_nan=True)
    h = shot.truth.homography
    assert h.shape == (3, 3) and not np.allclose(h, np.eye(3))
    if severity != "scan":
        assert shot.image.shape[:2] == (1700, 2200)


def test_capture_is_reproducible_and_seeded(ecgs):
    page = render(ecgs[0], "3x4")
    a, b, c = (capture(page, "photo", seed=s).image for s in (1, 1, 2))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_homography_maps_page_corners_into_the_photo(ecgs):
    page = render(ecgs[0], "3x4")
    shot = capture(page, "poor-photo", seed=4)
    h, w = page.image.shape[:2]
    pts = shot.truth.homography @ np.array([[0, w, w, 0], [0, 0, h, h], [1, 1, 1, 1]], float)
    pts = pts[:2] / pts[2]
    assert (pts >= -1).all() and (pts[0] <= 2201).all() and (pts[1] <= 1701).all()


def test_unknown_severity():
    with pytest.raises(CaptureError, match="scan, photo, poor-photo"):
        capture(None, "blurry")  # type: ignore[arg-type]
