"""The core install, measured: a fresh venv with only `pip install .`, its size, and the device path run in it.

Runs, outside the checkout, what a user on a device runs: `edgeecg predict` on a real photo, `edgeecg bench
--device x86-cpu` on the shipped model and `edgeecg calibrate default`, then prints the venv's size and its
largest packages. Needs PyPI (or a mirror) for the dependencies; about a minute.

    python benchmarks/core_install.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "tests" / "fixtures" / "real-images" / "ecg00001.png"


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def run(cmd: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="build the venv here and keep it (default: a temporary folder)")
    args = ap.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="edgeecg-core-"))
    venv, work = base / "venv", base / "work"
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_ = venv / "bin"
    # a copy of the sources, so the build leaves nothing in the checkout
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "runs", "demo-out", "build", "*.egg-info",
                                                             "__pycache__", "calibration/sets"))
    t_install = run([str(bin_ / "pip"), "install", "-q", str(src)], work)
    packages = subprocess.run([str(bin_ / "pip"), "list", "--format=freeze"], capture_output=True, text=True
                              ).stdout.split()
    site = next((venv / "lib").glob("python*/site-packages"))
    shipped = subprocess.run([str(bin_ / "python"), "-c", "from edgeecg.models import DEFAULT; print(DEFAULT)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    times = {
        "predict (photo)": run([str(bin_ / "edgeecg"), "predict", str(PHOTO), "--out", "results"], work),
        "bench --device x86-cpu": run([str(bin_ / "edgeecg"), "bench", "--device", "x86-cpu", shipped, "--n-test",
                                       "200", "--out", "bench"], work),
        "calibrate default": run([str(bin_ / "edgeecg"), "calibrate", "default"], work),
    }
    torch_free = subprocess.run([str(bin_ / "python"), "-c", "import torch"], capture_output=True).returncode != 0
    print(f"core install: {size_mb(venv):.0f} MB venv ({size_mb(site):.0f} MB site-packages), {len(packages)} "
          f"packages, pip install {t_install:.0f} s; torch absent: {torch_free}")
    largest = sorted(((size_mb(p), p.name) for p in site.iterdir() if p.is_dir()), reverse=True)[:8]
    print("largest: " + ", ".join(f"{name} {mb:.0f} MB" for mb, name in largest))
    print("packages: " + " ".join(packages))
    for what, seconds in times.items():
        print(f"ok: edgeecg {what} in {seconds:.1f} s")
    if not args.keep:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
