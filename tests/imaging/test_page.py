"""Finding the sheet in a photo: an object lying against it must not pull its corners out."""

import cv2
import numpy as np
import pytest

from edgeecg.imaging.page import find_page

SHEET = np.array([[300, 200], [1350, 260], [1300, 1000], [250, 950]], np.float32)


def _sheet_on_desk(pen_at: int | None = None) -> np.ndarray:
    """A dark desk with a plain white sheet (grid-less paper) and, maybe, a pale pen against one corner."""
    img = np.full((1200, 1600, 3), (70, 40, 60), np.uint8)
    cv2.fillConvexPoly(img, SHEET.astype(np.int32), (245, 240, 235))
    if pen_at is not None:
        corner = SHEET[pen_at]
        out = (corner - SHEET.mean(axis=0)) / np.linalg.norm(corner - SHEET.mean(axis=0))
        cv2.line(img, tuple(int(v) for v in corner - 5 * out), tuple(int(v) for v in corner + 140 * out),
                 (235, 235, 225), 16)
    return img


@pytest.mark.parametrize("corner", [0, 1, 2, 3])
def test_a_pen_touching_the_sheet_does_not_pull_its_corner(corner):
    alone = find_page(_sheet_on_desk())
    with_pen = find_page(_sheet_on_desk(corner))
    assert alone is not None and with_pen is not None
    assert np.abs(alone - SHEET).max() < 6.0
    assert np.abs(with_pen - alone).max() < 6.0   # px; the pen's tip lies 140 px out


def test_a_wedge_is_not_taken_for_a_sheet():
    """A deep shadow can cut the bright paper into a wedge (one side half as long as its opposite); no
    camera tilt of 30 degrees or less makes a sheet look like that, so nothing is flattened."""
    img = np.full((1200, 1600, 3), (70, 40, 60), np.uint8)
    cv2.fillConvexPoly(img, np.array([[300, 200], [1350, 650], [1300, 1000], [250, 950]], np.int32),
                       (245, 240, 235))
    assert find_page(img) is None
