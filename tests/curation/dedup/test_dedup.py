"""Deduplication: planted duplicates, reviewer decisions that survive re-runs, flags, export, CLI."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation import ColumnMap, InvalidValue, Store, import_file
from curation.dedup.contamination import check_contamination
from curation.dedup.groups import list_groups, merge_groups, set_canonical, split_group
from curation.dedup.run import DedupConfig, run_dedup
from curation.errors import ImportValidationError

EXACT = ("Ｉ am still waiting on my CARD!", "i am still   waiting on my card")
NEAR = (  # the same text with noise: two typos, case, punctuation and a filler
    "I ordered a new card three weeks ago and it still has not arrived at my home address, "
    "could you tell me what I should do now",
    "Hi, I ordered a new card three weeks ago and it still has not arived at my home adress "
    "could you tell me what I should do now?? thanks",
)
# two content words changed: a different text that shares most words (Jaccard 24/28 = 0.86)
TWO_WORDS = NEAR[0].replace("three", "four").replace("home", "flat")
PARAPHRASE = (
    "My card still has not arrived, how long does delivery take?",
    "How long will it take for my card to be delivered? It still hasn't come.",
)
FALSE_FRIEND = ("I lost my card yesterday, can you block it?", "I found my card yesterday, can you unblock it?")
OTHER = "Which currencies can I hold in my account?"


def _write_csv(path: Path, rows: list[tuple]) -> Path:
    pl.DataFrame(rows, schema=["id", "text", "label"], orient="row").write_csv(path)
    return path


def _planted(tmp_path: Path) -> list[tuple]:
    return [
        ("e1", EXACT[0], "card_arrival"), ("e2", EXACT[1], "card_arrival"),
        ("n1", NEAR[0], "card_arrival"), ("n2", NEAR[1], "card_delivery"),
        ("p1", PARAPHRASE[0], "card_arrival"), ("p2", PARAPHRASE[1], "card_arrival"),
        ("f1", FALSE_FRIEND[0], "lost_card"), ("f2", FALSE_FRIEND[1], "card_found"),
        ("o1", OTHER, "currencies"),
    ]


@pytest.fixture
def planted(store: Store, tmp_path: Path) -> Store:
    import_file(store, _write_csv(tmp_path / "p.csv", _planted(tmp_path)), "d", columns=ColumnMap(label="label"))
    return store


def _groups(store: Store) -> set[frozenset[str]]:
    rows = store.cursor().execute("SELECT external_id, dup_group FROM examples WHERE dup_group IS NOT NULL").fetchall()
    out: dict[int, set[str]] = {}
    for ext, g in rows:
        out.setdefault(g, set()).add(ext)
    return {frozenset(v) for v in out.values()}


def _ids(store: Store) -> dict[str, int]:
    return dict(store.cursor().execute("SELECT external_id, id FROM examples").fetchall())


def _bag_encoder(texts: list[str]) -> np.ndarray:
    """A cheap stand-in for MiniLM: normalised bag of hashed words (deterministic)."""
    out = np.zeros((len(texts), 64), dtype=np.float32)
    for i, t in enumerate(texts):
        for w in re.findall(r"\w+", t.lower()):
            out[i, hash(w) % 64] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1, norms)


# -- methods on planted data -------------------------------------------------------------
def test_exact_groups_twins_that_differ_in_unicode_width_case_spaces_and_end_punctuation(planted):
    res = run_dedup(planted, "d", DedupConfig(methods=("exact",)))
    assert _groups(planted) == {frozenset({"e1", "e2"})}
    assert (res.groups, res.duplicates, res.by_method) == (1, 1, {"exact": 1})


def test_near_groups_the_noisy_variant_but_not_the_false_friend(planted):
    run_dedup(planted, "d", DedupConfig(methods=("near",)))
    assert _groups(planted) == {frozenset({"e1", "e2"}), frozenset({"n1", "n2"})}


def test_near_does_not_group_texts_that_differ_in_content_words(store, tmp_path):
    rows = [("a", NEAR[0], "x"), ("b", TWO_WORDS, "x"), ("c", NEAR[1], "x")]
    import_file(store, _write_csv(tmp_path / "t.csv", rows), "d", columns=ColumnMap(label="label"))
    run_dedup(store, "d", DedupConfig(methods=("near",)))
    assert _groups(store) == {frozenset({"a", "c"})}


def test_near_backends_find_the_same_pairs_and_estimate_jaccard_alike():
    from curation.dedup.algos import normalize_for_shingles
    from curation.dedup.minhash import near_pairs

    typo = NEAR[0].replace("three", "thre")  # Jaccard 25/27 = 0.93
    texts = pl.Series([NEAR[0], OTHER, typo, FALSE_FRIEND[0], EXACT[0], EXACT[1]])
    norm = pl.select(normalize_for_shingles(pl.lit(texts))).to_series()
    found = {b: near_pairs(norm, 0.7, backend=b) for b in ("numpy", "rensa")}
    for pairs in found.values():
        assert list(zip(pairs["i"], pairs["j"])) == [(0, 2), (4, 5)]
        assert abs(pairs["score"][0] - 25 / 27) < 0.1
        assert pairs["score"][1] == 1.0


@pytest.mark.slow
def test_semantic_with_minilm_groups_the_paraphrase_but_not_the_false_friend(planted):
    res = run_dedup(planted, "d")  # all methods, default thresholds, the bundled MiniLM
    assert _groups(planted) == {frozenset({"e1", "e2"}), frozenset({"n1", "n2"}), frozenset({"p1", "p2"})}
    assert res.by_method == {"exact": 1, "near": 1, "semantic": 1}
    assert (res.groups, res.duplicates) == (3, 3)


# -- canonical, flags, export ------------------------------------------------------------
def test_canonical_prefers_approved_then_most_recently_reviewed_then_first_imported(planted):
    ids = _ids(planted)
    run_dedup(planted, "d", DedupConfig(methods=("exact",)))
    assert planted.get_example(ids["e2"])["duplicate_of"] == ids["e1"]  # first imported
    planted.update_example(ids["e2"], 1, {"status": "needs_review"}, actor="ann", action="triage")
    run_dedup(planted, "d", DedupConfig(methods=("exact",)))
    assert planted.get_example(ids["e1"])["duplicate_of"] == ids["e2"]  # most recently reviewed
    planted.update_example(ids["e1"], 1, {"status": "approved"}, actor="rev", action="approve")
    planted.update_example(ids["e2"], 2, {"label": "card_delivery"}, actor="ann", action="edit")
    run_dedup(planted, "d", DedupConfig(methods=("exact",)))
    assert planted.get_example(ids["e2"])["duplicate_of"] == ids["e1"]  # approved beats a later review
    assert planted.get_example(ids["e1"])["duplicate_of"] is None


def test_label_conflict_flag_is_raised_once_per_member_and_resolved_when_the_group_is_split(planted):
    ids = _ids(planted)
    cfg = DedupConfig(methods=("exact", "near"))
    run_dedup(planted, "d", cfg)
    run_dedup(planted, "d", cfg)  # a re-run must not duplicate open flags
    flags = planted.cursor().execute(
        "SELECT example_id, severity, detail FROM flags WHERE check_name = 'label_conflict' AND resolution IS NULL "
        "ORDER BY example_id").fetchall()
    group = planted.get_example(ids["n1"])["dup_group"]
    detail = f"duplicate group {group} has different labels: card_arrival ×1, card_delivery ×1"
    assert flags == [(ids["n1"], "warning", detail), (ids["n2"], "warning", detail)]  # near duplicates only
    split_group(planted, "d", group, actor="rev", reason="different cards")
    open_ = planted.cursor().execute(
        "SELECT count(*) FROM flags WHERE check_name = 'label_conflict' AND resolution IS NULL").fetchall()[0][0]
    assert open_ == 0


def test_exact_duplicates_with_different_labels_are_errors_near_ones_warnings(store, tmp_path):
    rows = [("x1", EXACT[0], "card_arrival"), ("x2", EXACT[1], "card_delivery"),  # same text, two labels: certain
            ("x3", "i am stil waiting on my card, please", "card_arrival")]     # near the pair, its label agrees with x1
    import_file(store, _write_csv(tmp_path / "x.csv", rows), "x", columns=ColumnMap(label="label"))
    run_dedup(store, "x", DedupConfig(methods=("exact", "near"), near_threshold=0.5))
    got = dict(store.cursor().execute(
        "SELECT e.external_id, f.severity FROM flags f JOIN examples e ON e.id = f.example_id "
        "WHERE f.check_name = 'label_conflict' AND f.resolution IS NULL").fetchall())
    assert got == {"x1": "error", "x2": "error", "x3": "warning"}


def test_export_gives_duplicate_of_as_the_canonicals_external_id(planted, tmp_path):
    run_dedup(planted, "d", DedupConfig(methods=("exact",)))
    planted.export_jsonl("d", tmp_path / "out.jsonl")
    recs = {r["id"]: r for r in map(json.loads, (tmp_path / "out.jsonl").read_text().splitlines())}
    assert recs["e2"]["duplicate_of"] == "e1"
    assert recs["e1"]["duplicate_of"] is None
    assert len(recs) == 9  # nothing deleted


# -- reviewer decisions survive later runs ----------------------------------------------
def test_split_is_remembered_and_recorded_as_revisions(planted):
    ids = _ids(planted)
    cfg = DedupConfig(methods=("exact",))
    run_dedup(planted, "d", cfg)
    group = planted.get_example(ids["e1"])["dup_group"]
    split_group(planted, "d", group, actor="rev", reason="not the same")
    run_dedup(planted, "d", cfg)
    assert _groups(planted) == set()
    revs = [r for r in planted.revisions(ids["e2"]) if r["action"] == "dedup_split"]
    assert [(r["actor"], r["before"], r["after"], r["reason"]) for r in revs] == [
        ("rev", {"dup_group": group, "duplicate_of": ids["e1"]}, {"dup_group": None, "duplicate_of": None}, "not the same")
    ]


def test_chosen_canonical_survives_a_rerun(planted):
    ids = _ids(planted)
    cfg = DedupConfig(methods=("exact",))
    run_dedup(planted, "d", cfg)
    set_canonical(planted, "d", ids["e2"], actor="rev")
    run_dedup(planted, "d", cfg)
    assert planted.get_example(ids["e1"])["duplicate_of"] == ids["e2"]
    assert planted.get_example(ids["e2"])["duplicate_of"] is None


def test_merge_joins_groups_and_survives_a_rerun(planted):
    ids = _ids(planted)
    cfg = DedupConfig(methods=("exact",))
    run_dedup(planted, "d", cfg)
    res = merge_groups(planted, "d", [ids["e1"], ids["o1"]], actor="rev")
    run_dedup(planted, "d", cfg)
    assert _groups(planted) == {frozenset({"e1", "e2", "o1"})}
    assert res.by_method == {"exact": 1, "manual": 1}


def test_list_groups_shows_largest_first_with_canonical_first(planted):
    ids = _ids(planted)
    run_dedup(planted, "d", DedupConfig(methods=("exact", "near")))
    merge_groups(planted, "d", [ids["n1"], ids["o1"]], actor="rev")
    page = list_groups(planted, "d", limit=10)
    assert page.total == 2
    assert [g.size for g in page.groups] == [3, 2]
    first = page.groups[0]
    assert [m["external_id"] for m in first.members] == ["n1", "n2", "o1"]
    assert [m["is_canonical"] for m in first.members] == [True, False, False]
    assert first.label_conflict is True
    assert first.methods == ["near"]
    assert list_groups(planted, "d", limit=1, offset=1).groups[0].members[0]["external_id"] == "e1"


def test_split_of_a_non_member_names_the_members(planted):
    ids = _ids(planted)
    run_dedup(planted, "d", DedupConfig(methods=("exact",)))
    group = planted.get_example(ids["e1"])["dup_group"]
    with pytest.raises(InvalidValue, match=rf"not a member of duplicate group {group} \(members: {ids['e1']}, {ids['e2']}\)"):
        split_group(planted, "d", group, actor="rev", example_ids=[ids["o1"]])
    with pytest.raises(InvalidValue, match="has no such group"):
        split_group(planted, "d", 9999, actor="rev")


# -- invariants --------------------------------------------------------------------------
_WORDS = ["card", "pin", "fee", "top", "up", "refund", "cash", "atm", "lost", "new"]


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=6), st.sampled_from(["a", "b"]),
                          st.sampled_from(["imported", "approved"])), min_size=1, max_size=12))
def test_dedup_never_adds_rows_is_idempotent_and_keeps_one_canonical_per_group(rows):
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "h.duckdb")
        try:
            frame = pl.DataFrame({"id": [f"x{i}" for i in range(len(rows))], "text": [" ".join(w) for w, _, _ in rows],
                                  "label": [lab for _, lab, _ in rows]})
            frame.write_csv(Path(tmp) / "h.csv")
            import_file(store, Path(tmp) / "h.csv", "h", columns=ColumnMap(label="label"))
            for i, (_, _, status) in enumerate(rows):
                if status == "approved":
                    store.update_example(i + 1, 1, {"status": "approved"}, actor="t", action="approve")
            cfg = DedupConfig(near_threshold=0.5, semantic_threshold=0.95)
            first = run_dedup(store, "h", cfg, encoder=_bag_encoder)
            snap = store.cursor().execute("SELECT id, dup_group, duplicate_of, version FROM examples ORDER BY id").fetchall()
            second = run_dedup(store, "h", cfg, encoder=_bag_encoder)
            assert store.count_examples() == len(rows)
            assert second.changed == 0
            assert store.cursor().execute(
                "SELECT id, dup_group, duplicate_of, version FROM examples ORDER BY id").fetchall() == snap
            assert (first.groups, first.duplicates) == (second.groups, second.duplicates)
            by_group: dict[int, list[tuple]] = {}
            for ex_id, g, dup, _ in snap:
                if g is not None:
                    by_group.setdefault(g, []).append((ex_id, dup))
            for g, members in by_group.items():
                canon = [i for i, dup in members if dup is None]
                assert len(canon) == 1 and len(members) >= 2
                assert all(dup == canon[0] for i, dup in members if dup is not None)
            assert sum(first.by_method.values()) == first.duplicates
        finally:
            store.close()


# -- contamination -----------------------------------------------------------------------
def test_contamination_reports_exact_and_near_matches_and_changes_nothing(planted, tmp_path):
    ids = _ids(planted)
    ev = tmp_path / "eval.csv"
    pl.DataFrame({"id": ["t1", "t2", "t3"], "text": [EXACT[1] + ".", NEAR[1], "Totally unrelated sentence about bonds"]}
                 ).write_csv(ev)
    before = planted.count_revisions()
    rep = check_contamination(planted, "d", ev, DedupConfig(methods=("exact", "near")))
    got = {(m["external_id"], m["against_row"], m["method"]) for m in rep.matches}
    assert got == {("e1", 2, "exact"), ("e2", 2, "exact"), ("n2", 3, "exact"), ("n1", 3, "near")}
    assert (rep.contaminated, rep.rows_checked, rep.by_method) == (4, 3, {"exact": 3, "near": 1})
    assert planted.count_revisions() == before
    assert planted.get_example(ids["e1"])["dup_group"] is None


def test_contamination_file_without_a_text_column_names_file_field_and_columns(planted, tmp_path):
    ev = tmp_path / "eval.csv"
    ev.write_text("id,question\n1,hello\n")
    with pytest.raises(ImportValidationError, match=r"eval\.csv:1:text: missing column \(columns: id, question\)"):
        check_contamination(planted, "d", ev)


# -- configuration -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"near_threshold": 1.0}, r"near threshold: 1\.0 is not valid; a Jaccard threshold must lie strictly between 0 and 1"),
        ({"semantic_threshold": 0.0}, r"semantic threshold: 0\.0 is not valid; a cosine threshold must lie in \(0, 1\]"),
        ({"methods": ("fuzzy",)}, r"--method: 'fuzzy' is not valid \(choose one of: exact, near, semantic, all\)"),
        ({"backend": "gpu"}, r"backend: 'gpu' is not valid \(choose one of: numpy, rensa\)"),
    ],
)
def test_config_rejects_bad_values_with_a_message_naming_them(kwargs, message):
    with pytest.raises(InvalidValue, match=message):
        DedupConfig(**kwargs)


def test_threshold_applies_to_the_one_method_named():
    assert DedupConfig.for_method("near", 0.8).near_threshold == 0.8
    assert DedupConfig.for_method("semantic", 0.8).semantic_threshold == 0.8
    with pytest.raises(InvalidValue, match="with --method all, set --near-threshold"):
        DedupConfig.for_method("all", 0.8)
    with pytest.raises(InvalidValue, match="exact dedup has no threshold"):
        DedupConfig.for_method("exact", 0.8)


# -- CLI ---------------------------------------------------------------------------------
def test_cli_dedup_prints_the_json_summary(planted, tmp_path, capsys):
    from review_app.cli import main

    db = planted.path
    planted.close()
    assert main(["--db", db, "--json", "dedup", "--dataset", "d", "--method", "exact"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["groups"], out["duplicates"], out["by_method"]) == (1, 1, {"exact": 1})


def test_cli_dedup_rejects_an_unknown_method_with_exit_code_2(planted, capsys):
    from review_app.cli import main

    db = planted.path
    planted.close()
    assert main(["--db", db, "dedup", "--dataset", "d", "--method", "fuzzy"]) == 2
    assert "--method: 'fuzzy' is not valid (choose one of: exact, near, semantic, all)" in capsys.readouterr().err


def test_editing_an_example_voids_its_stored_pairs_and_updates_its_content_hash(planted):
    # regression: Store.update_example computed content_hash from the old text
    from curation.embeddings import content_hash

    ids = _ids(planted)
    run_dedup(planted, "d", DedupConfig(methods=("exact",)))
    planted.update_example(ids["e2"], 1, {"text": "A different question about fees"}, actor="ann", action="edit")
    assert planted.get_example(ids["e2"])["content_hash"] == content_hash("A different question about fees")
    run_dedup(planted, "d", DedupConfig(methods=("near",)))  # exact pairs are not recomputed, yet voided
    assert _groups(planted) == {frozenset({"n1", "n2"})}
