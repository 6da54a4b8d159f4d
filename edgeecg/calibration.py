"""INT8 calibration sets: records drawn across printed layouts and blackouts, tokenized like inference.

A recipe (`calibration/*.toml`) names the data, how many records and which conditions; `build` makes the set
reproducibly from its seed, through `tokens.tokenize_batch` (the device's own preprocessing), and stores it as
`tokens.npz` (plain arrays, loaded without pickle) plus `calibration.json` with the recipe and a content hash.
numpy only: the set can be built where torch is absent.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from edgeecg import tomlfile as tomllib
from edgeecg.layouts import CONDITIONS, condition_masks, masked
from edgeecg.record import RecordError
from edgeecg.tokens import PaddedTokens, TokenizerConfig, tokenize_batch

SETS = Path("calibration/sets")
RECIPES = Path(__file__).parent / "recipes"      # shipped recipes (package data)


@dataclass(frozen=True)
class Recipe:
    """What goes into a calibration set; the default is 512 simulated records over every condition."""

    name: str = "default"
    records: int = 512
    data: str = "synth"
    conditions: tuple[str, ...] = CONDITIONS
    seed: int = 0

    def __post_init__(self) -> None:
        if self.records < 1:
            raise RecordError(f"calibration recipe {self.name!r}: records must be >= 1, got {self.records}")
        unknown = [c for c in self.conditions if c not in CONDITIONS]
        if unknown:
            raise RecordError(f"calibration recipe {self.name!r}: unknown conditions {unknown}; "
                              f"use names from: {', '.join(CONDITIONS)}")

    @classmethod
    def load(cls, spec: str | Path) -> Recipe:
        """From a shipped recipe's name (`default`) or a TOML path."""
        path = tomllib.resolve(spec, RECIPES, "calibration recipe")
        try:
            raw = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as err:
            raise RecordError(f"{path}: not valid TOML ({err})") from None
        allowed = set(cls.__dataclass_fields__)
        if set(raw) - allowed:
            raise RecordError(f"{path}: unknown keys {sorted(set(raw) - allowed)}; allowed: {sorted(allowed)}")
        conditions = raw.get("conditions", "all")
        raw["conditions"] = CONDITIONS if conditions == "all" else tuple(conditions)
        return cls(**raw)


@dataclass
class CalibrationSet:
    tokens: PaddedTokens
    recipe: Recipe
    digest: str            # SHA-256 of the token arrays: the set's id in export manifests
    folder: Path | None = None

    def batches(self, size: int, bucket: int = 8) -> list[dict[str, np.ndarray]]:
        """Model-input batches, each padded to a multiple of `bucket` tokens (fixed shapes per bucket)."""
        t = self.tokens
        order = np.argsort(t.valid.sum(1), kind="stable")
        out = []
        for a in range(0, len(order), size):
            idx = order[a:a + size]
            width = int(-(-t.valid[idx].sum(1).max() // bucket) * bucket)
            out.append({"patches": t.patches[idx, :width], "lead": t.lead[idx, :width], "slot": t.slot[idx, :width],
                        "valid": t.valid[idx, :width]})
        return out


def _conditions_for(recipe: Recipe, n: int, fs: float, n_samples: int) -> np.ndarray:
    """bool [n, 12, T]: condition k % len(conditions) for record k, masks fixed by the recipe's seed."""
    masks = np.empty((n, 12, n_samples), dtype=bool)
    for k, cond in enumerate(recipe.conditions):
        idx = np.arange(k, n, len(recipe.conditions))
        if len(idx):
            masks[idx] = condition_masks(cond, len(idx), fs, n_samples, recipe.seed + k)
    return masks


def _source_signals(recipe: Recipe, tok: TokenizerConfig) -> np.ndarray:
    if recipe.data == "synth":
        from edgeecg.data.synth import SynthConfig, simulate

        # a seed stream of its own, so the set never repeats the simulator's training or test records
        return simulate(recipe.records, SynthConfig(fs=tok.fs, duration=tok.duration),
                        seed=np.random.SeedSequence([recipe.seed, 0xCA11B])).signals
    from edgeecg.data.sources import load_source

    train = load_source(recipe.data, tok, recipe.seed).train.signals
    if len(train) == 0:
        raise RecordError(f"calibration data {recipe.data!r} has no training records")
    rng = np.random.default_rng(recipe.seed)
    pick = rng.choice(len(train), size=recipe.records, replace=len(train) < recipe.records)
    return np.asarray(train[np.sort(pick)], dtype=np.float32)


def build(recipe: Recipe, tok: TokenizerConfig | None = None, out: Path | None = None) -> CalibrationSet:
    """Makes the set from the recipe (at the model's tokenizer settings); writes it to `out` when given."""
    tok = tok or TokenizerConfig()
    signals = _source_signals(recipe, tok)
    masks = _conditions_for(recipe, len(signals), tok.fs, signals.shape[-1])
    tokens = tokenize_batch(masked(signals, masks), tok.fs, tok, n_max=tok.max_tokens)
    cal = CalibrationSet(tokens, recipe, _digest(tokens))
    if out is not None:
        save(cal, out, tok)
    return cal


def _digest(tokens: PaddedTokens) -> str:
    h = hashlib.sha256()
    for a in (tokens.patches, tokens.lead, tokens.slot, tokens.valid):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def save(cal: CalibrationSet, folder: Path, tok: TokenizerConfig) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    t = cal.tokens
    np.savez_compressed(folder / "tokens.npz", patches=t.patches, lead=t.lead, slot=t.slot, observed=t.observed,
                        valid=t.valid)
    (folder / "calibration.json").write_text(json.dumps(
        {"format": "edgeecg-calibration/1", "sha256": cal.digest, "records": int(len(t.valid)),
         "tokens_per_record": {"min": int(t.valid.sum(1).min()), "max": int(t.valid.sum(1).max())},
         "recipe": asdict(cal.recipe), "tokenizer": tok.to_dict()}, indent=2))
    cal.folder = folder
    return folder


def load(folder: str | Path) -> CalibrationSet:
    """Reads a stored set and checks its hash, so a manifest's calibration id means what it says."""
    folder = Path(folder)
    meta_path = folder / "calibration.json"
    if not meta_path.is_file() or not (folder / "tokens.npz").is_file():
        raise RecordError(f"{folder}: not a calibration set (needs calibration.json and tokens.npz); "
                          "make one with `edgeecg calibrate`")
    meta = json.loads(meta_path.read_text())
    with np.load(folder / "tokens.npz", allow_pickle=False) as z:
        tokens = PaddedTokens(z["patches"], z["lead"], z["slot"], z["observed"], z["valid"])
    recipe = meta["recipe"]
    cal = CalibrationSet(tokens, Recipe(**{**recipe, "conditions": tuple(recipe["conditions"])}), _digest(tokens),
                         folder)
    if cal.digest != meta["sha256"]:
        raise RecordError(f"{folder}: content hash does not match calibration.json; rebuild the set")
    return cal
