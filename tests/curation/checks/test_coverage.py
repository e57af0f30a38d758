"""Coverage report: label balance, lengths, duplicates, flags, per source, difficult cases."""

from __future__ import annotations

import polars as pl
import pytest

from curation import BadInput, ColumnMap, LabelSchema, import_file
from curation.checks.coverage import CoverageConfig, classify_difficult, coverage_report, length_histogram, load_seed
from curation.checks.registry import CheckConfig
from curation.checks.run import run_checks


def _csv(write, name, rows):
    return write(name, pl.DataFrame(rows, schema=["id", "text", "label"], orient="row").write_csv())


@pytest.fixture
def cov(store, write):
    cards = ["my card has not arrived yet", "where is the card you sent me", "card delivery takes too long",
             "can I track the new card", "the courier lost my card", "is my card still in the post"]
    rows = [(f"c{i}", t, "card") for i, t in enumerate(cards)]
    rows += [("r1", "what is the exchange rate", "rate"), ("r2", "what is the exchange rate", "rate"), ("s", "ok", "card")]
    import_file(store, _csv(write, "a.csv", rows), "c", columns=ColumnMap(label="label"))
    import_file(store, _csv(write, "b.csv", [("p", "I forgot my PIN, how do I reset it?", "pin")]), "c",
                columns=ColumnMap(label="label"))
    store.update_dataset("c", label_schema=LabelSchema(labels=("card", "rate", "pin", "refund")))
    run_checks(store, "c", CheckConfig(checks=("label_conflict", "schema")))  # dedup groups r1/r2; flags "s"
    return store


def test_coverage_counts_labels_lengths_duplicates_flags_and_sources(cov):
    rep = coverage_report(cov, "c", CoverageConfig(min_label_count=2, difficult=False))
    assert (rep.examples, rep.labels) == (10, 3)
    assert rep.label_balance.select("label", "n", "rare").rows() == [
        ("card", 7, False), ("rate", 2, False), ("pin", 1, True), ("refund", 0, True)]
    assert rep.rare_labels == ["pin", "refund"]
    assert rep.duplicate_share == pytest.approx(0.1)
    assert rep.flagged_share == pytest.approx(0.1)
    assert rep.per_source.rows() == [(1, "a.csv", 9, 2, 1, 1), (2, "b.csv", 1, 1, 0, 0)]
    assert dict(rep.lengths.select("bin", "n").rows())["0-9"] == 1
    assert rep.flags.rows() == [("schema", "warning", 1)]
    md = rep.to_markdown()
    assert md.startswith("# Coverage of 'c'\n\n10 examples, 3 labels; 10.0% duplicates, 10.0% with open flags.")
    assert "Rare labels (under 2 examples): pin, refund" in md
    assert "| schema | warning | 1 |" in md
    assert rep.to_dict()["label_balance"][0] == {"label": "card", "n": 7, "share": pytest.approx(0.7), "rare": False}


def test_length_histogram_bins_are_closed_open_with_an_open_last_bin():
    got = length_histogram(pl.Series([0, 9, 10, 639, 640, 5000]))
    assert dict(got.select("bin", "n").rows()) == {"0-9": 2, "10-19": 1, "20-39": 0, "40-79": 0, "80-159": 0,
                                                   "160-319": 0, "320-639": 1, "640+": 2}


def test_seed_file_is_validated_with_row_and_field(write):
    with pytest.raises(BadInput, match=r"seed.csv:3:category: 'angry' is not valid \(choose one of: vague, emotional"):
        load_seed(write("seed.csv", "text,category\nhelp,vague\nyou idiots,angry\n"))
    with pytest.raises(BadInput, match=r"s2.csv:1:-: missing column\(s\) category"):
        load_seed(write("s2.csv", "text\nhelp\n"))
    seed = load_seed()
    assert sorted(seed["category"].unique().to_list()) == ["emotional", "hostile", "incomplete", "normal",
                                                           "out_of_scope", "vague"]
    assert seed.height >= 70


@pytest.mark.slow
def test_difficult_cases_are_found_with_minilm(store, write):
    from curation.embeddings import embed

    texts = ["you useless idiots, give me my money back now", "what is the best pizza recipe?",
             "how do I change the PIN of my card?", "my card has not arrived after a week, what should I do?"]
    seed = load_seed()
    seed_x = embed(store, texts=seed["text"].to_list())
    got = classify_difficult(embed(store, texts=texts), seed_x, seed["category"].to_list())
    assert got == ["hostile", "out_of_scope", "normal", "normal"]
