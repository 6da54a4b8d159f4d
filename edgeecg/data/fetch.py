"""Resumable, checksum-verified download of a published data set tree (PTB-XL from PhysioNet).

The server publishes `SHA256SUMS.txt` (one "<sha256> <relative path>" per line); every listed file is
fetched next to it, resumed with an HTTP Range request where a `.part` file was left behind, and kept only
when its SHA-256 matches. Files already present with the right hash are not downloaded again.
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

DATASETS: dict[str, str] = {"ptbxl": "https://physionet.org/files/ptb-xl/1.0.3/"}
SUMS_FILE = "SHA256SUMS.txt"
_CHUNK = 1 << 16


class FetchError(RuntimeError):
    """A download that could not be completed or verified."""


@dataclass
class FetchReport:
    """What a fetch did, so a resumed run can say how much was already there."""

    downloaded: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    verified_existing: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_sums(text: str) -> list[tuple[str, str]]:
    """(sha256, relative path) pairs; refuses paths that would escape the destination folder."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        digest, _, rel = line.partition(" ")
        rel = rel.strip().lstrip("*")
        parts = PurePosixPath(rel).parts
        if len(digest) != 64 or not rel or rel.startswith("/") or ".." in parts:
            raise FetchError(f"{SUMS_FILE}: malformed or unsafe line {line!r}")
        out.append((digest.lower(), rel))
    if not out:
        raise FetchError(f"{SUMS_FILE} lists no files")
    return out


def _open(url: str, offset: int = 0, timeout: float = 60.0):
    request = urllib.request.Request(url, headers={"User-Agent": "edgeecg-fetch"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - http(s) URLs built from a base


def _download(base: str, rel: str, digest: str, dest: Path) -> str:
    """Fetches one file; returns 'existing', 'resumed' or 'downloaded'."""
    target = dest / rel
    if target.is_file() and sha256_file(target) == digest:
        return "existing"
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    for attempt in range(2):
        offset = part.stat().st_size if part.is_file() and attempt == 0 else 0
        with _open(base + rel, offset) as response:
            append = offset > 0 and response.status == 206
            with part.open("ab" if append else "wb") as fh:
                for block in iter(lambda: response.read(_CHUNK), b""):
                    fh.write(block)
        if sha256_file(part) == digest:
            part.replace(target)
            return "resumed" if append else "downloaded"
        part.unlink()  # a corrupt partial file: start over once from zero
    raise FetchError(f"{rel}: SHA-256 does not match {SUMS_FILE} after a fresh download")


def fetch(base_url: str, dest: str | Path, workers: int = 4,
          on_file: Callable[[str, str], None] | None = None) -> FetchReport:
    """Downloads every file `base_url/SHA256SUMS.txt` lists into `dest`; raises if any file fails."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with _open(base + SUMS_FILE) as response:
            sums_text = response.read().decode("utf-8")
    except (urllib.error.URLError, OSError) as err:
        raise FetchError(f"cannot read {base}{SUMS_FILE}: {err}; check the URL and your connection") from None
    entries = parse_sums(sums_text)
    report = FetchReport()

    def one(entry: tuple[str, str]) -> tuple[str, str]:
        digest, rel = entry
        try:
            return rel, _download(base, rel, digest, dest)
        except (urllib.error.URLError, OSError, FetchError) as err:
            return rel, f"failed: {err}"

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for rel, outcome in pool.map(one, entries):
            if outcome == "existing":
                report.verified_existing.append(rel)
            elif outcome == "resumed":
                report.resumed.append(rel)
            elif outcome == "downloaded":
                report.downloaded.append(rel)
            else:
                report.failed[rel] = outcome.removeprefix("failed: ")
            if on_file:
                on_file(rel, outcome)
    (dest / SUMS_FILE).write_text(sums_text)
    if report.failed:
        first = next(iter(report.failed.items()))
        raise FetchError(f"{len(report.failed)} of {len(entries)} files failed (first: {first[0]}: {first[1]}); "
                         "run the same command again to resume")
    return report
