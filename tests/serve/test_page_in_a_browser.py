"""The capture page in a real headless browser (the system's Chromium driven by Playwright) on a phone-sized
screen: upload a photo, see the findings, heart rate and overlay. Skipped where Chromium or Playwright is absent;
`.ci/run` installs both where it can. The screenshot goes to runs/screenshots/serve-phone.png."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (apt install chromium)")
SHOTS = Path(__file__).resolve().parents[2] / "runs" / "screenshots"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_a_photo_uploaded_on_a_phone_sized_page_shows_the_findings(service, scan_png: bytes, tmp_path: Path) -> None:
    photo = tmp_path / "ecg.png"
    photo.write_bytes(scan_png)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 360, "height": 780}, device_scale_factor=2, is_mobile=True)
            page.goto(service.url + "/")
            page.wait_for_function("document.getElementById('model').textContent.includes('synth-edge')")
            page.set_input_files("#file", str(photo))
            page.wait_for_function("document.getElementById('overlay').naturalWidth > 0", timeout=90_000)
            status = page.inner_text("#status")
            rows = page.inner_text("#measurements")
            problems = page.inner_text("#problems")
            width = page.evaluate("document.documentElement.scrollWidth")
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "serve-phone.png"), full_page=True)
        finally:
            browser.close()
    assert "readable" in problems                                   # the on-phone check passed it
    assert status.startswith(("Findings", "No finding")) and "Heart rate" in rows and "bpm" in rows
    assert width <= 360                                              # nothing wider than the phone's screen
    assert (SHOTS / "serve-phone.png").stat().st_size > 20_000


def test_a_refused_photo_says_why_on_the_page(service, tmp_path: Path) -> None:
    import cv2
    import numpy as np

    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((900, 1200, 3), 250, np.uint8))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 360, "height": 780})
            page.goto(service.url + "/")
            page.set_input_files("#file", str(blank))
            page.click("#send")                                      # the check objects; send it anyway
            page.wait_for_selector("#status .error", timeout=60_000)
            text = page.inner_text("#status")
        finally:
            browser.close()
    assert text.startswith("Not read:") and "blank" in text
