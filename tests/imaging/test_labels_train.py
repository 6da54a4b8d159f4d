"""Training the lead label reader: its pages carry the labels they claim, a training step lowers the loss, and
the ONNX export matches torch."""

from __future__ import annotations

import numpy as np
import pytest

from edgeecg.imaging import labels

torch = pytest.importorskip("torch", reason="training and export need torch (the train extra)")
pytest.importorskip("PIL", reason="labels are drawn in TrueType faces with Pillow (via matplotlib)")

import torch.nn.functional as F  # noqa: E402

from edgeecg.imaging.labels_net import LabelNet, LabelNetConfig  # noqa: E402
from edgeecg.imaging.labels_train import (  # noqa: E402
    HELD_OUT_FACES,
    TRAIN_FACES,
    LabelTrainConfig,
    draw_label,
    export,
    held_out_page,
    label_page,
    scores,
    torch_probabilities,
)

SMALL = LabelNetConfig(widths=(4, 8, 8, 8, 8))


@pytest.fixture(scope="module")
def pages():
    return [label_page(s) for s in (3, 4, 5)]


def test_training_and_held_out_faces_do_not_meet():
    assert not set(TRAIN_FACES) & set(HELD_OUT_FACES)


@pytest.mark.parametrize("face", ["DejaVuSans.ttf", "cmr10.ttf", "hershey:triplex", "STIXGeneral.ttf"])
def test_a_label_is_drawn_where_asked_at_the_height_asked(face):
    page = np.full((200, 300, 3), 255, np.uint8)
    draw_label(page, "aVL", 50, 120, 30, face, (0, 0, 0))
    ys, xs = np.nonzero(page.min(axis=2) < 128)
    assert 45 <= xs.min() <= 60 and ys.max() <= 124
    assert 22 <= 120 - ys.min() <= 40   # the capital V's height, within the faces' own proportions


def test_pages_hold_labelled_and_empty_windows(pages):
    for win, cls in pages:
        assert win.shape[1:] == labels.WINDOW_PX and len(win) == len(cls)
        assert (cls == labels.NONE).any()
    labelled = np.concatenate([c for _, c in pages])
    assert (labelled != labels.NONE).sum() >= 12


def test_a_training_step_lowers_the_loss(pages):
    torch.manual_seed(0)
    net = LabelNet(SMALL)
    x = torch.from_numpy(labels.net_input(np.concatenate([w for w, _ in pages])))
    y = torch.from_numpy(np.concatenate([c for _, c in pages]))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    with torch.no_grad():
        first = float(F.cross_entropy(net(x), y))
    for _ in range(30):
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        assert float(F.cross_entropy(net(x), y)) < 0.7 * first


def test_onnx_matches_torch(tmp_path, pages):
    torch.manual_seed(1)
    net = LabelNet(SMALL).eval()
    val = (np.concatenate([w for w, _ in pages]), np.concatenate([c for _, c in pages]))
    card = export(net, LabelTrainConfig(net=SMALL), tmp_path, val, (held_out_page(7)))
    assert card["max_abs_torch"] < 1e-5
    reader = labels.LabelReader(tmp_path / labels.MODEL_FILE)
    assert np.abs(reader.probabilities(val[0][:5]) - torch_probabilities(net, val[0][:5])).max() < 1e-5
    assert set(card["held_out_faces"]) == set(scores(np.eye(len(labels.CLASSES))[[0]], np.array([0])))
