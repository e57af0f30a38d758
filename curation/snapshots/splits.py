"""Deterministic, stratified, leakage-free train / validation / test splits, and snapshot ids.

Pure functions over Polars frames (no store access), so they are tested on tiny frames and
scale to a million rows without a Python loop.

How a split is made
-------------------
1. Every example belongs to a *unit*: its duplicate group (``dup_group``, exact, near or
   semantic) or, without a group, itself. Units are never cut: a whole group lands on one side,
   so no test example has a twin in train.
2. A unit's *stratum* is its most common label (ties: the smallest label), so each label is
   split in the requested proportions.
3. Within a stratum the units are ordered by a 64-bit mix of (unit key, seed): stable across
   runs, machines and library versions, and adding examples does not reshuffle the others.
4. A unit goes to the split in which the midpoint of its span along that order falls, with the
   cut points at the cumulative fractions.
5. A pinned test set (a previous snapshot's test examples) is frozen: pinned units, whole, are
   the test split, and every other unit goes to train or validation in their relative
   proportions. Examples added or returned from review between rounds therefore never change
   the test set, so the runs of two rounds are scored on the same examples.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection

import numpy as np
import polars as pl

from ..errors import BadInput

SPLITS = ("train", "validation", "test")
DEFAULT_SPLIT = (0.8, 0.1, 0.1)


def parse_split(spec: str | tuple[float, ...] | list[float]) -> tuple[float, float, float]:
    """Parse ``"0.8,0.1,0.1"`` (train, validation, test) into three fractions summing to 1.

    Raises
    ------
    BadInput
        Not three numbers, a negative one, a zero train share, or a sum other than 1.
    """
    if isinstance(spec, str):
        parts = [p.strip() for p in spec.split(",")]
        try:
            values = tuple(float(p) for p in parts)
        except ValueError:
            raise BadInput(f"--split: {spec!r} is not three comma-separated numbers, e.g. 0.8,0.1,0.1") from None
    else:
        values = tuple(float(v) for v in spec)
    if len(values) != 3:
        raise BadInput(f"--split: {spec!r} has {len(values)} part(s); give train,validation,test, e.g. 0.8,0.1,0.1")
    if any(v < 0 for v in values):
        raise BadInput(f"--split: {spec!r} has a negative fraction; each must be between 0 and 1")
    if values[0] <= 0:
        raise BadInput(f"--split: {spec!r} gives train no examples; the train fraction must be positive")
    if abs(sum(values) - 1.0) > 1e-6:
        raise BadInput(f"--split: {spec!r} sums to {sum(values):g}; the three fractions must sum to 1")
    return values  # type: ignore[return-value]


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a fixed, well-spread 64-bit hash (unlike Polars' hash, stable across versions)."""
    with np.errstate(over="ignore"):
        x = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def assign_splits(
    frame: pl.DataFrame,
    fractions: tuple[float, float, float] = DEFAULT_SPLIT,
    seed: int = 0,
    pinned_test: Collection[int] = (),
) -> pl.DataFrame:
    """Add a ``split`` column (train / validation / test) to ``frame``.

    Parameters
    ----------
    frame
        Columns ``id`` (int, unique), ``label`` (str, may be null) and ``dup_group`` (int or
        null: examples without a group are their own unit). Other columns are kept.
    fractions
        Train, validation and test shares, summing to 1 (see :func:`parse_split`).
    seed
        Changes the order within each label; the same frame and seed always give the same split.
    pinned_test
        Example ids that make up the test split (e.g. the previous snapshot's test set); their
        whole duplicate group goes to test with them, and no other unit does. Ids not in
        ``frame`` are ignored; when none is in ``frame`` the split is made as without a pin.

    Returns
    -------
    pl.DataFrame
        ``frame`` sorted by ``id`` with a ``split`` column (``pl.Enum(SPLITS)``).

    Notes
    -----
    Proportions hold per label up to one unit at each cut; a label with very few units goes
    mostly to train (a label with two examples never reaches test).
    """
    fractions = parse_split(fractions)
    if frame.height == 0:
        return frame.with_columns(split=pl.lit(None, pl.Enum(SPLITS)))
    pinned = pl.Series("pinned", list(pinned_test), dtype=pl.Int64)
    # Unit keys: odd for groups, even for singletons, so the two never collide.
    base = frame.select(
        pl.col("id").cast(pl.Int64),
        pl.col("label").cast(pl.String).fill_null(""),
        unit=pl.when(pl.col("dup_group").is_not_null())
        .then(pl.col("dup_group").cast(pl.Int64) * 2 + 1)
        .otherwise(pl.col("id").cast(pl.Int64) * 2),
        pinned=pl.col("id").cast(pl.Int64).is_in(pinned.implode()),
    )
    stratum = (
        base.group_by("unit", "label")
        .len()
        .sort(["unit", "len", "label"], descending=[False, True, False])
        .group_by("unit", maintain_order=True)
        .agg(stratum=pl.col("label").first())
    )
    units = base.group_by("unit").agg(size=pl.len(), pinned=pl.col("pinned").any()).join(stratum, on="unit")
    seed_mix = _mix64(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0]
    keys = units["unit"].to_numpy().astype(np.int64).view(np.uint64)
    units = units.with_columns(order=pl.Series(_mix64(keys ^ seed_mix), dtype=pl.UInt64))
    f_train, f_val, _ = fractions
    frozen = bool(units["pinned"].any())
    if frozen:  # the test set is the pinned one: the others share train and validation
        f_train, f_val = f_train / (f_train + f_val), f_val / (f_train + f_val)
    free = pl.when(pl.col("pinned")).then(0).otherwise(pl.col("size"))
    units = (
        units.sort(["stratum", "pinned", "order", "unit"])
        .with_columns(
            before=(free.cum_sum() - free).over("stratum"),
            total=free.sum().over("stratum"),
        )
        .with_columns(mid=(pl.col("before") + pl.col("size") / 2) / pl.col("total"))
        .with_columns(
            split=pl.when(pl.col("pinned"))
            .then(pl.lit("test"))
            .when(pl.col("mid") < f_train)
            .then(pl.lit("train"))
            .when((pl.col("mid") < f_train + f_val) | pl.lit(frozen))
            .then(pl.lit("validation"))
            .otherwise(pl.lit("test"))
            .cast(pl.Enum(SPLITS))
        )
        .select("unit", "split")
    )
    keyed = base.select("id", "unit").join(units, on="unit").select("id", "split")
    return frame.join(keyed, on="id", how="left").sort("id")


def snapshot_hash(frame: pl.DataFrame) -> str:
    """SHA-256 over the sorted ``(id, version, split)`` triples of a snapshot's items.

    The snapshot id is its first 16 hex digits: the same items in the same splits always give
    the same id, and any change of an item, its version or its split gives another.
    """
    lines = (
        frame.select(
            pl.col("id").cast(pl.Int64), pl.col("version").cast(pl.Int64), pl.col("split").cast(pl.String)
        )
        .sort("id")
        .select(pl.concat_str([pl.col("id"), pl.col("version"), pl.col("split")], separator="\t"))
        .to_series()
    )
    h = hashlib.sha256()
    # In chunks: one joined string of a million rows would be fine, but ten million would not.
    for start in range(0, len(lines), 200_000):
        chunk = lines.slice(start, 200_000)
        h.update(("\n".join(chunk.to_list()) + "\n").encode())
    return h.hexdigest()


def snapshot_id(sha256: str) -> str:
    """The short id shown to users: the first 16 hex digits of the content hash."""
    return sha256[:16]
