"""Pure split assignment and snapshot hashing (no store)."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curation import BadInput
from curation.snapshots.splits import SPLITS, assign_splits, parse_split, snapshot_hash, snapshot_id


def frame(labels: list[str], groups: list[int | None] | None = None) -> pl.DataFrame:
    n = len(labels)
    return pl.DataFrame(
        {"id": list(range(1, n + 1)), "label": labels, "dup_group": groups or [None] * n, "version": [1] * n},
        schema={"id": pl.Int64, "label": pl.String, "dup_group": pl.Int64, "version": pl.Int64},
    )


def test_parse_split_reads_three_fractions():
    assert parse_split("0.7, 0.2,0.1") == (0.7, 0.2, 0.1)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("0.8,0.2", "has 2 part"),
        ("0.8,0.1,0.2", "sums to 1.1"),
        ("a,b,c", "not three comma-separated numbers"),
        ("1.1,-0.1,0", "negative fraction"),
        ("0,0.5,0.5", "train fraction must be positive"),
    ],
)
def test_parse_split_rejects_bad_specs_with_a_clear_message(spec, message):
    with pytest.raises(BadInput, match=message):
        parse_split(spec)


def test_singletons_split_in_exact_proportions_per_label():
    out = assign_splits(frame(["a"] * 10 + ["b"] * 20), (0.8, 0.1, 0.1), seed=1)
    counts = out.group_by("label", pl.col("split").cast(pl.String)).len().sort("label", "split").rows()
    assert counts == [("a", "test", 1), ("a", "train", 8), ("a", "validation", 1),
                      ("b", "test", 2), ("b", "train", 16), ("b", "validation", 2)]


def test_same_frame_and_seed_give_the_same_split_and_another_seed_another():
    f = frame(["a"] * 30 + ["b"] * 30)
    one, two = assign_splits(f, seed=5), assign_splits(f, seed=5)
    assert one["split"].to_list() == two["split"].to_list()
    assert assign_splits(f, seed=6)["split"].to_list() != one["split"].to_list()


def test_split_does_not_depend_on_row_order():
    f = frame(["a", "b"] * 25, [None, 3, 3, None, 9, 9, 9] + [None] * 43)
    assert assign_splits(f.reverse(), seed=2).equals(assign_splits(f, seed=2))


def test_pinned_examples_go_to_test_with_their_whole_group():
    f = frame(["a"] * 10, [None, 4, 4, 4] + [None] * 6)
    out = assign_splits(f, seed=0, pinned_test=[2, 999])
    assert out.filter(pl.col("split") == "test")["id"].to_list()[:3] == [2, 3, 4]
    assert out.filter(pl.col("id").is_in([2, 3, 4]))["split"].cast(pl.String).to_list() == ["test"] * 3


def test_a_pinned_test_set_is_frozen_and_the_rest_shares_train_and_validation():
    out = assign_splits(frame(["a"] * 10 + ["b"] * 10), (0.6, 0.2, 0.2), seed=0, pinned_test=[7])
    assert out.filter(pl.col("split") == "test")["id"].to_list() == [7]  # no new example joins it
    counts = dict(out.filter(pl.col("id") != 7).group_by("split").len().iter_rows())
    assert counts == {"train": 14, "validation": 5}  # 3:1 as 0.6:0.2 (per label, up to one unit at each cut)
    assert assign_splits(frame(["a"] * 10), (0.8, 0.1, 0.1), seed=0, pinned_test=[999]).equals(
        assign_splits(frame(["a"] * 10), (0.8, 0.1, 0.1), seed=0))  # a pin that matches nothing changes nothing


def test_empty_frame_gets_an_empty_split_column():
    out = assign_splits(frame([]))
    assert out.height == 0 and out.schema["split"] == pl.Enum(SPLITS)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.one_of(st.none(), st.integers(0, 12))),
                  min_size=1, max_size=120),
    seed=st.integers(0, 2**31),
    pinned=st.lists(st.integers(1, 130), max_size=10),
)
def test_no_duplicate_group_straddles_splits(rows, seed, pinned):
    f = frame([r[0] for r in rows], [r[1] for r in rows])
    out = assign_splits(f, (0.6, 0.2, 0.2), seed=seed, pinned_test=pinned)
    assert out.height == f.height
    assert out["id"].to_list() == sorted(f["id"].to_list())
    per_group = out.filter(pl.col("dup_group").is_not_null()).group_by("dup_group").agg(pl.col("split").n_unique())
    assert per_group["split"].max() in (None, 1)
    assert set(out.filter(pl.col("id").is_in(pinned))["split"].cast(pl.String).to_list()) <= {"test"}


@settings(max_examples=30, deadline=None)
@given(n=st.integers(20, 400), seed=st.integers(0, 1000))
def test_singleton_proportions_are_within_one_example_of_the_target(n, seed):
    out = assign_splits(frame(["x"] * n), (0.8, 0.1, 0.1), seed=seed)
    got = dict(out.group_by(pl.col("split").cast(pl.String)).len().rows())
    assert abs(got.get("train", 0) - 0.8 * n) <= 1
    assert abs(got.get("validation", 0) - 0.1 * n) <= 1


def test_snapshot_hash_covers_id_version_and_split_and_ignores_order():
    f = assign_splits(frame(["a"] * 5), seed=0)
    h = snapshot_hash(f)
    assert h == snapshot_hash(f.reverse())
    assert len(h) == 64 and snapshot_id(h) == h[:16]
    assert snapshot_hash(f.with_columns(version=pl.when(pl.col("id") == 3).then(2).otherwise(1))) != h
    assert snapshot_hash(f.with_columns(split=pl.lit("train").cast(pl.Enum(SPLITS)))) != h


def test_snapshot_hash_is_the_sha256_of_the_documented_lines():
    import hashlib

    f = pl.DataFrame({"id": [2, 1], "version": [3, 1], "split": ["test", "train"]})
    assert snapshot_hash(f) == hashlib.sha256(b"1\t1\ttrain\n2\t3\ttest\n").hexdigest()
