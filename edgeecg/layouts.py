"""Printed ECG layouts as data, the observed mask each implies, and the random masks of masked training.

A layout is a grid of printed rows, each a run of cells (lead, start s, end s), plus full-length rhythm
strips under the grid. What a layout hides is what the model must learn to live without: in a 3x4 print
V1 is only seen from 5.0 to 7.5 s. A hospital's own printout is described in a small TOML file (see
`load_toml`) instead of code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeecg import tomlfile as tomllib
from edgeecg.record import LEADS, RecordError, lead_index

RANDOM = "random"
"""Pseudo-layout name: each record draws one of the printed layouts at random."""


class LayoutError(ValueError):
    """A layout name or description that cannot be used."""


@dataclass(frozen=True)
class Cell:
    """One printed trace: `lead` shown from `start` to `end` seconds (end excluded); `inverted`: printed upside
    down (Cabrera prints -aVR), so the paper shows minus the lead."""

    lead: str
    start: float
    end: float
    inverted: bool = False

    @property
    def label(self) -> str:
        """The lead as printed beside the trace."""
        return f"-{self.lead}" if self.inverted else self.lead

    @property
    def sign(self) -> float:
        return -1.0 if self.inverted else 1.0


def cell(printed: str, start: float, end: float) -> Cell:
    """A cell from the lead as printed: "-aVR" is aVR inverted."""
    name = printed.strip()
    return Cell(name[1:], start, end, True) if name.startswith("-") else Cell(name, start, end)


@dataclass(frozen=True)
class Layout:
    """A printed page: grid rows top to bottom (cells left to right) and rhythm strips below."""

    name: str
    grid: tuple[tuple[Cell, ...], ...]
    rhythm: tuple[str, ...] = ()
    duration: float = 10.0
    description: str = ""

    def __post_init__(self) -> None:
        if self.duration <= 0:
            raise LayoutError(f"layout {self.name!r}: duration must be > 0 s, got {self.duration}")
        for cell in self.cells:
            lead_index(cell.lead)
            if not 0.0 <= cell.start < cell.end <= self.duration + 1e-9:
                raise LayoutError(
                    f"layout {self.name!r}: cell {cell.lead} {cell.start}-{cell.end} s must satisfy "
                    f"0 <= start < end <= {self.duration}"
                )

    @property
    def rows(self) -> tuple[tuple[Cell, ...], ...]:
        """Every printed row, rhythm strips included, as cells."""
        strips = tuple((cell(lead, 0.0, self.duration),) for lead in self.rhythm)
        return self.grid + strips

    @property
    def cells(self) -> tuple[Cell, ...]:
        return tuple(cell for row in self.rows for cell in row)

    def observed_fraction(self) -> float:
        """Share of the 12 x duration lead-seconds the print shows (1.0 for 12x1)."""
        return float(observed_mask(self, 100.0, int(round(self.duration * 100))).mean())


def paper_starts(row: tuple[Cell, ...]) -> list[float]:
    """Where each cell of a printed row begins on paper, in seconds from the row's start.

    Cells are printed left to right, each as long as it lasts; that is their start time in every layout
    except those that print the same moment twice (6x2-sync shows 0-5 s in both columns).
    """
    out, pos = [], 0.0
    for cell in row:
        out.append(pos)
        pos += cell.end - cell.start
    return out


def _columns(name: str, columns: list[list[str]], starts: list[float], rhythm: tuple[str, ...] = (),
             description: str = "", duration: float = 10.0) -> Layout:
    """Builds a layout from printed columns (top to bottom) with the start time of each column."""
    ends = starts[1:] + [duration]
    n_rows = max(len(c) for c in columns)
    grid = tuple(
        tuple(cell(col[r], s, e) for col, s, e in zip(columns, starts, ends, strict=True) if r < len(col))
        for r in range(n_rows)
    )
    return Layout(name, grid, rhythm, duration, description)


_LIMB = ["I", "II", "III", "aVR", "aVL", "aVF"]
_CHEST = ["V1", "V2", "V3", "V4", "V5", "V6"]
_3X4 = [["I", "II", "III"], ["aVR", "aVL", "aVF"], ["V1", "V2", "V3"], ["V4", "V5", "V6"]]
_QUARTERS = [0.0, 2.5, 5.0, 7.5]


def _single_column(name: str, description: str, leads: tuple[str, ...] = LEADS) -> Layout:
    return Layout(name, tuple((cell(lead, 0.0, 10.0),) for lead in leads), (), 10.0, description)


_CABRERA = ["aVL", "I", "-aVR", "II", "aVF", "III"]


_BUILTIN = (
    _columns("3x4", _3X4, _QUARTERS, description="3 rows x 4 columns of 2.5 s, no rhythm strip"),
    _columns("3x4+II", _3X4, _QUARTERS, ("II",), "3x4 with a 10 s lead II rhythm strip"),
    _columns("3x4+II+V1", _3X4, _QUARTERS, ("II", "V1"), "3x4 with II and V1 rhythm strips"),
    _columns("3x4+3", _3X4, _QUARTERS, ("II", "V1", "V5"), "3x4 with II, V1 and V5 rhythm strips"),
    _columns("2x6", [_LIMB, _CHEST], [0.0, 5.0],
             description="limb leads 0-5 s, chest leads 5-10 s (PatchECG's simulated 2x6)"),
    _columns("2x6+II", [_LIMB, _CHEST], [0.0, 5.0], ("II",), "2x6 with a lead II rhythm strip"),
    _columns("6x2", [_LIMB, _CHEST], [0.0, 5.0],
             description="the same clinical print as 2x6, named rows x columns (6 rows, 2 columns)"),
    Layout("6x2-sync", tuple((Cell(a, 0.0, 5.0), Cell(b, 0.0, 5.0)) for a, b in zip(_LIMB, _CHEST, strict=True)), (),
           10.0, "6 rows x 2 columns, both columns showing 0-5 s (some machines and renderers)"),
    _single_column("12x1", "every lead for the full 10 s"),
)

_VENDOR = (
    _columns("3x4+V1", _3X4, _QUARTERS, ("V1",), "3x4 with a 10 s V1 rhythm strip"),
    _columns("3x4+V5", _3X4, _QUARTERS, ("V5",), "3x4 with a 10 s V5 rhythm strip"),
    _columns("6x2-cabrera", [_CABRERA, _CHEST], [0.0, 5.0],
             description="6x2 with the limb leads in Cabrera order (aVL, I, -aVR, II, aVF, III), as Nordic and some "
                         "European machines print"),
    _single_column("12x1-cabrera", "every lead for 10 s, limb leads in Cabrera order (aVL, I, -aVR, II, aVF, III)",
                   (*_CABRERA, *_CHEST)),
)

LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in _BUILTIN + _VENDOR}
PRINTED: tuple[str, ...] = tuple(layout.name for layout in _BUILTIN)
"""The layouts the model trains on (the random mix) and is benched and gated per: PatchECG's own set."""
VENDOR: tuple[str, ...] = tuple(layout.name for layout in _VENDOR)
"""Other machines' prints the digitizer also reads: other rhythm strips, Cabrera lead order. Their masks are
PRINTED's with another lead full or rows in another order, which masked training covers."""


def register(layout: Layout) -> None:
    """Adds a user layout (for example from `load_toml`) so it can be used by name."""
    if layout.name == RANDOM:
        raise LayoutError(f"{RANDOM!r} is reserved for the random mix; choose another name")
    LAYOUTS[layout.name] = layout


def get_layout(name_or_path: str | Path | Layout) -> Layout:
    """A registered layout by name, or one read from a TOML file path."""
    if isinstance(name_or_path, Layout):
        return name_or_path
    key = str(name_or_path)
    if key in LAYOUTS:
        return LAYOUTS[key]
    if key.endswith(".toml") or Path(key).is_file():
        return load_toml(key)
    if key == RANDOM:
        raise LayoutError(f"{RANDOM!r} is a mix, not one layout; draw masks with layout_masks(..., rng)")
    raise LayoutError(f"unknown layout {key!r}; known: {', '.join(LAYOUTS)}, {RANDOM}, or a .toml file")


def load_toml(path: str | Path) -> Layout:
    """Reads a hospital's own printed layout, so no code is needed to describe it.

    Either explicit rows::

        name = "ward-7"
        rhythm = ["II"]
        [[row]]   # a lead printed upside down (Cabrera's -aVR) is written "-aVR"
        cells = [{lead = "I", start = 0.0, end = 2.5}, {lead = "aVR", start = 2.5, end = 5.0}]

    or printed columns with their start times (default: equal widths)::

        name = "ward-7"
        columns = [["I", "II", "III"], ["aVR", "aVL", "aVF"], ["V1", "V2", "V3"], ["V4", "V5", "V6"]]
        starts = [0.0, 2.5, 5.0, 7.5]
        rhythm = ["II"]
    """
    path = Path(path)
    if not path.is_file():
        raise LayoutError(f"layout file {path} does not exist")
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise LayoutError(f"layout file {path} is not valid TOML: {err}") from None
    try:
        name = str(data.get("name", path.stem))
        duration = float(data.get("duration", 10.0))
        rhythm = tuple(str(x) for x in data.get("rhythm", ()))
        description = str(data.get("description", f"from {path.name}"))
        if "columns" in data:
            columns = [[str(x) for x in col] for col in data["columns"]]
            starts = [float(s) for s in data.get("starts", [duration * i / len(columns)
                                                             for i in range(len(columns))])]
            if len(starts) != len(columns):
                raise LayoutError(f"layout file {path}: {len(columns)} columns but {len(starts)} starts")
            return _columns(name, columns, starts, rhythm, description, duration)
        if "row" not in data:
            raise LayoutError(f"layout file {path} needs either `columns` or [[row]] tables")
        grid = tuple(
            tuple(cell(str(c["lead"]), float(c["start"]), float(c["end"])) for c in row["cells"])
            for row in data["row"]
        )
        return Layout(name, grid, rhythm, duration, description)
    except (KeyError, TypeError) as err:
        raise LayoutError(f"layout file {path}: missing or malformed field {err}") from None
    except RecordError as err:
        raise LayoutError(f"layout file {path}: {err}") from None


def sample_bounds(start: float, end: float, fs: float) -> tuple[int, int]:
    """Sample indices [a, b) whose times k/fs lie in [start, end); robust to float rounding."""
    return math.ceil(start * fs - 1e-6), math.ceil(end * fs - 1e-6)


def observed_mask(layout: Layout | str, fs: float, n_samples: int) -> np.ndarray:
    """bool [12, n_samples]: True where the printed layout shows the sample (at its true time)."""
    layout = get_layout(layout)
    mask = np.zeros((len(LEADS), n_samples), dtype=bool)
    for cell in layout.cells:
        a, b = sample_bounds(cell.start, cell.end, fs)
        mask[lead_index(cell.lead), max(a, 0):min(b, n_samples)] = True
    return mask


def apply(signal: np.ndarray, layout: Layout | str, fs: float) -> np.ndarray:
    """A copy of `signal` [12, T] with NaN wherever `layout` does not show the sample."""
    signal = np.asarray(signal, dtype=np.float32)
    return np.where(observed_mask(layout, fs, signal.shape[-1]), signal, np.float32(np.nan))


def layout_masks(names: list[str], fs: float, n_samples: int,
                 rng: np.random.Generator | None = None) -> np.ndarray:
    """bool [B, 12, n]: one mask per name; `random` draws a printed layout per record (needs `rng`)."""
    cache: dict[str, np.ndarray] = {}
    out = np.empty((len(names), len(LEADS), n_samples), dtype=bool)
    for i, name in enumerate(names):
        if name == RANDOM:
            if rng is None:
                raise LayoutError(f"layout {RANDOM!r} needs a random generator")
            name = PRINTED[rng.integers(len(PRINTED))]
        if name not in cache:
            cache[name] = observed_mask(name, fs, n_samples)
        out[i] = cache[name]
    return out


def _random_spans(rng: np.random.Generator, length: np.ndarray, n_samples: int) -> np.ndarray:
    """bool [..., n]: one contiguous span of each given length, placed uniformly within the record."""
    start = np.floor(rng.uniform(0.0, 1.0, length.shape) * (n_samples - length + 1)).astype(np.int64)
    k = np.arange(n_samples)
    return (k >= start[..., None]) & (k < (start + length)[..., None])


def blackout_masks(rng: np.random.Generator, batch: int, n_samples: int,
                   max_fraction: float = 0.8) -> np.ndarray:
    """bool [B, 12, n]: each lead independently loses one contiguous block of 0-`max_fraction` of samples.

    This is PatchECG's masked training: the model learns that any stretch of any lead may be absent.
    """
    if not 0.0 <= max_fraction < 1.0:
        raise ValueError(f"max_fraction must be in [0, 1), got {max_fraction}")
    length = np.floor(rng.uniform(0.0, max_fraction, (batch, len(LEADS))) * n_samples).astype(np.int64)
    return ~_random_spans(rng, length, n_samples)


def window_masks(rng: np.random.Generator, batch: int, n_samples: int, min_fraction: float = 0.25) -> np.ndarray:
    """bool [B, 12, n]: every lead observed in one shared window of `min_fraction` to all of the record.

    A shorter recording, or a photo that cut the page's right side off: what a 6x2 print with simultaneous
    columns shows too (the first 5 s of every lead). Blackouts almost never hide the same stretch of all leads.
    """
    if not 0.0 < min_fraction <= 1.0:
        raise ValueError(f"min_fraction must be in (0, 1], got {min_fraction}")
    length = np.ceil(rng.uniform(min_fraction, 1.0, batch) * n_samples).astype(np.int64)
    return np.repeat(_random_spans(rng, length, n_samples)[:, None, :], len(LEADS), axis=1)


@dataclass(frozen=True)
class MaskMix:
    """How training draws masks per record; the remainder after the four shares is the full signal.

    Default: 40 % a printed layout, 25 % random per-lead blackouts, 15 % both combined, 10 % one window of
    time shared by all leads (`window_masks`), 10 % full 12x1.
    """

    p_layout: float = 0.4
    p_blackout: float = 0.25
    p_both: float = 0.15
    p_window: float = 0.1
    max_blackout: float = 0.8

    def __post_init__(self) -> None:
        shares = (self.p_layout, self.p_blackout, self.p_both, self.p_window)
        if min(shares) < 0 or sum(shares) > 1 + 1e-9:
            raise ValueError(f"mask shares must be >= 0 and sum to <= 1, got {shares}")

    def sample(self, rng: np.random.Generator, batch: int, fs: float, n_samples: int) -> np.ndarray:
        """bool [B, 12, n] observed masks; every record keeps at least one observed sample."""
        shares = [self.p_layout, self.p_blackout, self.p_both, self.p_window]
        kind = rng.choice(5, size=batch, p=[*shares, max(0.0, 1 - sum(shares))])
        printed = layout_masks([RANDOM] * batch, fs, n_samples, rng)
        blackout = blackout_masks(rng, batch, n_samples, self.max_blackout)
        window = window_masks(rng, batch, n_samples)
        masks = np.select([(kind == k)[:, None, None] for k in range(4)],
                          [printed, blackout, printed & blackout, window], default=True)
        empty = ~masks.any(axis=(1, 2))
        masks[empty] = printed[empty]
        return masks


def masked(signals: np.ndarray, masks: np.ndarray | None) -> np.ndarray:
    """float32 signals with NaN where a mask hides the sample (masks: bool [.., 12, T], True = observed)."""
    if masks is None:
        return signals
    return np.where(masks, signals, np.float32(np.nan)).astype(np.float32)


BLACKOUT = "blackout"
CONDITIONS: tuple[str, ...] = (*PRINTED, RANDOM, BLACKOUT)   # what evaluation and calibration cover


def condition_masks(condition: str, n: int, fs: float, n_samples: int, seed: int) -> np.ndarray:
    """bool [n, 12, T] for a printed layout, the random mix, or random blackouts (fixed by `seed`)."""
    if condition == BLACKOUT:
        return blackout_masks(np.random.default_rng([seed, 1]), n, n_samples)
    if condition == RANDOM:
        return layout_masks([RANDOM] * n, fs, n_samples, np.random.default_rng([seed, 2]))
    return np.broadcast_to(observed_mask(condition, fs, n_samples), (n, 12, n_samples))
