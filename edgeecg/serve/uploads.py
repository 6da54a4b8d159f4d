"""An upload turned into one input file in the service's data folder, under a name the service chose.

Accepted: a body whose Content-Type is an image type, application/pdf or text/csv; or multipart/form-data with
one such file, or a WFDB record as two files (`.hea` and its `.dat`/`.mat`, the header rewritten to name the
saved signal file). The client's file name is kept only as text for the result; no client string is ever used
as a path.
"""

from __future__ import annotations

import email.parser
import email.policy
import re
from dataclasses import dataclass
from pathlib import Path

TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/bmp": ".bmp",
         "image/tiff": ".tif", "application/pdf": ".pdf", "text/csv": ".csv"}
SUFFIX_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
                ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff", ".pdf": "application/pdf",
                ".csv": "text/csv"}


class UploadError(ValueError):
    """An upload the service cannot take; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Saved:
    path: Path                 # inside the upload's own folder
    name: str                  # the client's file name, as text only


def client_name(name: str | None, fallback: str) -> str:
    """The last path component of what the client called the file, printable and short."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^\w.\- ()+]", "_", base).strip()[:120]
    return base or fallback


def _media_type(header: str) -> str:
    return header.split(";")[0].strip().lower()


def save(body: bytes, content_type: str, folder: Path, filename: str | None = None) -> Saved:
    """Writes the upload into `folder` (created) and returns the input to predict from."""
    media = _media_type(content_type)
    folder.mkdir(parents=True, exist_ok=True)
    if media in TYPES:
        if not body:
            raise UploadError(400, "the upload is empty")
        path = folder / f"input{TYPES[media]}"
        path.write_bytes(body)
        return Saved(path, client_name(filename, path.name))
    if media == "multipart/form-data":
        return _save_parts(body, content_type, folder)
    raise UploadError(415, f"content type {media or 'missing'} is not accepted; send a photo or scan (JPEG, PNG, "
                           "WEBP, BMP, TIFF), a PDF, a CSV of signals, or multipart/form-data with one of them or "
                           "a WFDB record's .hea and .dat/.mat")


def _save_parts(body: bytes, content_type: str, folder: Path) -> Saved:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body)
    files = [p for p in message.iter_parts() if p.get_filename() is not None] if message.is_multipart() else []
    if not files:
        raise UploadError(400, "the multipart upload holds no file; send the photo as a file field")
    if len(files) > 2:
        raise UploadError(400, f"{len(files)} files in one upload; send one photo, scan, PDF or CSV, or one WFDB "
                               "record (.hea + .dat/.mat)")
    named = {client_name(p.get_filename(), "file"): p for p in files}
    headers = [n for n in named if n.lower().endswith(".hea")]
    if headers:
        return _save_wfdb(named, headers[0], folder)
    if len(files) == 2:
        raise UploadError(400, "two files but no .hea among them; a WFDB record is a .hea and its signal file")
    (name, part), = named.items()
    media = _media_type(part.get_content_type())
    if media not in TYPES:
        media = SUFFIX_TYPES.get(Path(name).suffix.lower(), media)
    return save(part.get_payload(decode=True) or b"", media, folder, name)


def _save_wfdb(named: dict, header_name: str, folder: Path) -> Saved:
    signals = [n for n in named if n != header_name]
    if len(signals) != 1 or Path(signals[0]).suffix.lower() not in (".dat", ".mat"):
        raise UploadError(400, "a WFDB upload is the .hea and one .dat or .mat signal file")
    suffix = Path(signals[0]).suffix.lower()
    try:
        text = named[header_name].get_payload(decode=True).decode("latin-1")
    except (AttributeError, UnicodeDecodeError):
        raise UploadError(400, f"{header_name} is not a text header") from None
    lines = text.splitlines()
    # the header names its record and signal file; both become the service's own names
    out = []
    for k, line in enumerate(lines):
        parts = line.split()
        if k == 0 and parts:
            parts[0] = "record"
        elif parts and not line.startswith("#"):
            parts[0] = f"record{suffix}"
        out.append(" ".join(parts) if parts and not line.startswith("#") else line)
    (folder / f"record{suffix}").write_bytes(named[signals[0]].get_payload(decode=True) or b"")
    header = folder / "record.hea"
    header.write_text("\n".join(out) + "\n")
    return Saved(header, header_name)
