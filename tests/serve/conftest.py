"""A real `edgeecg serve` on loopback (uvicorn in a thread, its worker pool in processes), for the API tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")


class Running:
    def __init__(self, url: str, data_dir: Path, token: str | None) -> None:
        self.url, self.data_dir, self.token = url, data_dir, token

    def client(self, **kwargs) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120, **kwargs)


def start(tmp: Path, **overrides) -> Iterator[Running]:
    from edgeecg.models import NOTICE, default_model
    from edgeecg.serve.app import ServeConfig
    from edgeecg.serve.local import running

    cfg = ServeConfig(default_model("int8"), tmp / "data", notice=NOTICE, **overrides)
    with running(cfg) as url:
        yield Running(url, cfg.data_dir, cfg.token)


@pytest.fixture(scope="package")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    yield from start(tmp_path_factory.mktemp("serve"), workers=2)


@pytest.fixture(scope="package")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A service with a token, a 1 MB upload limit and a time limit no photo can meet."""
    yield from start(tmp_path_factory.mktemp("guarded"), workers=1, token="s3cret", max_upload_mb=1.0,
                     timeout_s=0.01)


@pytest.fixture(scope="package")
def scan_png(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    import cv2

    from edgeecg.data.synth import SynthConfig, simulate
    from edgeecg.imaging.capture import capture
    from edgeecg.imaging.render import render

    rec = simulate(1, SynthConfig(fs=100.0), seed=3).records()[0]
    image = capture(render(rec, "3x4+II"), "scan", seed=1).image
    return cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))[1].tobytes()
