"""`edgeecg data fetch` against a local HTTP server on 127.0.0.1 serving a tiny tree (with Range support)."""

import hashlib
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from edgeecg.data.fetch import FetchError, fetch, parse_sums

FILES = {"ptbxl_database.csv": b"ecg_id,strat_fold\n1,3\n", "records100/00000/00001_lr.dat": bytes(range(256)) * 40,
         "records100/00000/00001_lr.hea": b"00001_lr 12 100 1000\n"}


class RangeHandler(SimpleHTTPRequestHandler):
    """Serves files like SimpleHTTPRequestHandler, plus single-range requests (206), and logs them."""

    ranges: list[str] = []
    requests: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        RangeHandler.requests.append(self.path)
        spec = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if not spec or not path.is_file():
            return super().do_GET()
        RangeHandler.ranges.append(f"{self.path} {spec}")
        data = path.read_bytes()
        start = int(spec.removeprefix("bytes=").split("-")[0])
        body = data[start:]
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    for rel, data in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    sums = "".join(f"{hashlib.sha256(d).hexdigest()} {rel}\n" for rel, d in FILES.items())
    (root / "SHA256SUMS.txt").write_text(sums)
    RangeHandler.ranges, RangeHandler.requests = [], []

    def handler(*args, **kwargs):
        return RangeHandler(*args, directory=str(root), **kwargs)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", root
    httpd.shutdown()
    httpd.server_close()


def test_fetch_downloads_and_verifies_every_file(server, tmp_path):
    url, _ = server
    dest = tmp_path / "ptbxl"
    report = fetch(url, dest, workers=2)
    assert sorted(report.downloaded) == sorted(FILES)
    for rel, data in FILES.items():
        assert (dest / rel).read_bytes() == data
    again = fetch(url, dest)
    assert sorted(again.verified_existing) == sorted(FILES) and not again.downloaded


def test_fetch_resumes_a_partial_file_with_a_range_request(server, tmp_path):
    url, _ = server
    dest = tmp_path / "ptbxl"
    rel = "records100/00000/00001_lr.dat"
    (dest / rel).parent.mkdir(parents=True)
    (dest / (rel + ".part")).write_bytes(FILES[rel][:1000])
    report = fetch(url, dest)
    assert report.resumed == [rel]
    assert RangeHandler.ranges == [f"/{rel} bytes=1000-"]
    assert (dest / rel).read_bytes() == FILES[rel]
    assert not (dest / (rel + ".part")).exists()


def test_corrupt_partial_file_is_redownloaded(server, tmp_path):
    url, _ = server
    dest = tmp_path / "ptbxl"
    rel = "records100/00000/00001_lr.dat"
    (dest / rel).parent.mkdir(parents=True)
    (dest / (rel + ".part")).write_bytes(b"garbage" * 10)
    report = fetch(url, dest)
    assert RangeHandler.ranges == [f"/{rel} bytes=70-"]   # tried to resume, hash failed, started over
    assert rel in report.downloaded and not report.resumed
    assert (dest / rel).read_bytes() == FILES[rel]


def test_checksum_mismatch_fails_with_the_file_named(server, tmp_path):
    url, root = server
    (root / "ptbxl_database.csv").write_bytes(b"tampered\n")
    with pytest.raises(FetchError, match="1 of 3 files failed .*ptbxl_database.csv: SHA-256 does not match"):
        fetch(url, tmp_path / "ptbxl")
    assert not (tmp_path / "ptbxl" / "ptbxl_database.csv").exists()


def test_unreachable_server_is_a_clear_error(tmp_path):
    with pytest.raises(FetchError, match="cannot read http://127.0.0.1:9/SHA256SUMS.txt"):
        fetch("http://127.0.0.1:9", tmp_path)


@pytest.mark.parametrize("line", ["abc file", f"{'0' * 64} ../../etc/passwd", f"{'0' * 64} /abs"])
def test_unsafe_or_malformed_sums_are_refused(line):
    with pytest.raises(FetchError):
        parse_sums(line)


def test_cli_fetch_reports_what_it_did(server, tmp_path):
    from typer.testing import CliRunner

    from edgeecg.cli import app

    url, _ = server
    result = CliRunner().invoke(app, ["data", "fetch", "ptbxl", str(tmp_path / "t"), "--url", url])
    assert result.exit_code == 0, result.output
    assert "3 downloaded, 0 resumed, 0 already present" in " ".join(result.output.split())
