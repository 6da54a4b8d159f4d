"""TOML for layouts, calibration recipes and device profiles: tomllib (tomli before Python 3.11), and the
shipped files that a bare name such as `x86-cpu` stands for."""

import sys
from pathlib import Path

from edgeecg.record import RecordError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

TOMLDecodeError = tomllib.TOMLDecodeError
loads = tomllib.loads


def shipped(folder: Path) -> list[str]:
    """Names of the TOML files shipped in a package folder."""
    return sorted(p.stem for p in folder.glob("*.toml"))


def resolve(spec: str | Path, folder: Path, kind: str) -> Path:
    """A path that exists, or the shipped `<folder>/<spec>.toml` for a bare name, so that a profile or recipe
    name works outside a checkout (it ships in the wheel) and a path of one's own still works."""
    path = Path(spec)
    if path.is_file():
        return path
    if path.name == str(spec) and (folder / f"{path.stem}.toml").is_file():
        return folder / f"{path.stem}.toml"
    raise RecordError(f"{kind} {spec} not found; give a TOML file's path or a shipped name: "
                      f"{', '.join(shipped(folder)) or 'none shipped'}")
