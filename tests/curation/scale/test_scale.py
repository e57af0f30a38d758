"""Curation at scale: the Ray and local engines give exactly the single-machine (store) results."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curation import import_file
from curation.dedup.lsh import band_keys, bucket_pairs, candidate_pairs
from curation.dedup.run import DedupConfig, run_dedup
from curation.errors import ImportValidationError, InvalidValue
from curation.pii.dataset import scrub_dataset
from curation.pii.scrub import PiiConfig
from curation.scale.batch import assignment
from curation.scale.config import ScaleConfig, ScaleOutputExists, ScaleOutputIncomplete
from curation.scale.output import load_curated, read_curated, summary_of
from curation.scale.run import curate_at_scale
from review_app.cli import main

WORDS = ("refund order card payment login password account app crash delivery late broken charge twice "
         "screen invoice upgrade plan cancel subscription email reset code blocked").split()
PII = ["Please email me at jane.doe@example.com about my refund", "My phone is +1 212 555 0142, call after six",
       "I am John Smith and my card 4111 1111 1111 1111 was charged twice",
       "Ship it to 221 Baker Street, London, NW1 6XE please", "Order ORD-48213 never arrived, contact bob@mail.org"]


def _corpus(n: int = 150, seed: int = 3) -> pl.DataFrame:
    rng = random.Random(seed)
    rows: list[str] = []
    for i in range(n):
        text = " ".join(rng.choice(WORDS) for _ in range(10))
        rows.append(text)
        if i % 9 == 0:
            rows.append("  " + text.upper() + "!!")  # exact duplicate after normalisation
        if i % 7 == 0:
            rows.append(text + " " + rng.choice(WORDS))  # near duplicate
        if i % 12 == 0:
            rows.append(PII[i % len(PII)])  # repeats: the same PII text several times
    labels = [rng.choice(["billing", "access", "shipping"]) for _ in rows]
    return pl.DataFrame({"id": [f"t{i:04d}" for i in range(len(rows))], "text": rows, "label": labels})


def _noisy_corpus(n: int = 60, seed: int = 5) -> pl.DataFrame:
    """Typo / case / filler variants (duplicates) next to one-word paraphrases (not) and a chain."""
    rng = random.Random(seed)
    rows: list[str] = []
    for _ in range(n):
        words = [rng.choice(WORDS) for _ in range(9)]
        base = " ".join(words)
        typo = words.copy()
        typo[2] = typo[2][:-1] + typo[2][-1] * 2
        rows += [base, " ".join(typo), "Please " + base.upper() + "?", " ".join(words[:4] + ["zebra"] + words[5:])]
    chain = "tell me how i can get the minimum payment on my {}bill for this month"
    rows += [chain.format("gas "), chain.format(""), chain.format("electric ")]
    return pl.DataFrame({"id": [f"n{i:04d}" for i in range(len(rows))], "text": rows})


NOISY = _noisy_corpus()


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    """Random tickets with exact, near and PII repeats, then the noisy near-duplicate cases (one corpus, so
    one Ray run checks them all)."""
    d = tmp_path_factory.mktemp("corpus")
    df = pl.concat([_corpus(), NOISY.with_columns(label=pl.lit("general"))])
    (d / "in").mkdir()
    step = -(-df.height // 3)
    for k in range(3):  # three files with several row groups each
        df.slice(k * step, step).write_parquet(d / "in" / f"part-{k}.parquet", row_group_size=40)
    df.write_parquet(d / "all.parquet")
    return d


CONFIG = dict(dedup=DedupConfig(methods=("exact", "near")), pii=PiiConfig(), workers=2)


@pytest.fixture(scope="module")
def store_export(corpus_dir, tmp_path_factory) -> pl.DataFrame:
    """The single-machine path: import, dedup exact + near, scrub, export."""
    from curation import Store

    d = tmp_path_factory.mktemp("store")
    with Store(d / "s.duckdb") as store:
        import_file(store, corpus_dir / "all.parquet", "c")
        run_dedup(store, "c", DedupConfig(methods=("exact", "near")))
        scrub_dataset(store, "c", actor="t")
        store.export_jsonl("c", d / "c.jsonl")
    return _canon(pl.read_ndjson(d / "c.jsonl"))


def _canon(frame: pl.DataFrame) -> pl.DataFrame:
    """id, text, label, duplicate_of and the PII spans as comparable strings, sorted by id."""
    pii = frame["pii"].to_list()
    spans = [";".join(f"{p['field']}:{p['entity']}:{p['start']}-{p['end']}"
                      for p in sorted(ps, key=lambda p: (p["field"], p["start"]))) for ps in pii]
    return frame.select("id", "text", "label", pl.col("duplicate_of").cast(pl.String)).with_columns(
        pii=pl.Series(spans, dtype=pl.String)).sort("id")


def _out(tmp_path: Path, name: str = "out") -> str:
    return str(tmp_path / name)


# -- identical results -----------------------------------------------------------------------------
ALL_STEPS = ("exact", "near", "pii", "embed")


@pytest.fixture(scope="module")
def local_run(corpus_dir, tmp_path_factory):
    """The local engine over the split corpus, every step (the Ray test compares against it)."""
    out = str(tmp_path_factory.mktemp("local") / "out")
    res = curate_at_scale(str(corpus_dir / "in" / "*.parquet"), out,
                          ScaleConfig(steps=ALL_STEPS, engine="local", **CONFIG))
    return res, read_curated(out)


def test_local_engine_gives_the_store_path_groups_and_placeholders(local_run, store_export):
    res, out = local_run
    got = _canon(out)
    assert got.equals(store_export)
    assert res.duplicates == store_export["duplicate_of"].is_not_null().sum() > 20
    assert res.pii["findings"] == sum(len(s.split(";")) for s in store_export["pii"] if s) > 10
    assert got.filter(pl.col("text").str.contains("jane.doe")).height == 0
    assert np.stack(out["embedding"].to_numpy()).shape == (out.height, 384)


@pytest.fixture(scope="module")
def ray_local():
    from curation.scale.ray_engine import ray_session

    with ray_session(workers=2) as ray:
        yield ray


@pytest.mark.slow
def test_ray_engine_gives_the_store_path_groups_placeholders_and_the_local_embeddings(corpus_dir, store_export,
                                                                                      local_run, tmp_path, ray_local):
    """One Ray run with every step (each Ray run costs tens of seconds of start-up on two cores)."""
    res = curate_at_scale(str(corpus_dir / "in"), _out(tmp_path),
                          ScaleConfig(steps=ALL_STEPS, engine="ray", batch_rows=50, pii_batch_rows=64, **CONFIG))
    ray_out = read_curated(_out(tmp_path))
    assert _canon(ray_out).equals(store_export)
    assert res.pairs["near_candidates"] >= res.pairs["near"] - res.pairs["exact"]
    assert summary_of(_out(tmp_path))["engine"] == "ray"
    local_out = local_run[1]
    assert ray_out.drop("embedding").equals(local_out.drop("embedding"))
    vr, vl = np.stack(ray_out["embedding"].to_numpy()), np.stack(local_out["embedding"].to_numpy())
    assert vr.shape == (ray_out.height, 384)
    np.testing.assert_allclose(vr, vl, atol=1e-5)


def test_near_groups_keep_noisy_variants_and_split_one_word_paraphrases_and_chains(local_run, store_export):
    """The phenomena of #17 on the local engine's output (the Ray test above checks Ray gives the same rows)."""
    dup = dict(local_run[1].select("id", "duplicate_of").iter_rows())
    assert dup["n0001"] == "n0000" and dup["n0002"] == "n0000"  # typo and case + filler variants
    assert dup["n0003"] is None  # one content word replaced
    last = NOISY.height - 3
    ends = {dup[f"n{last:04d}"] or f"n{last:04d}", dup[f"n{last + 2:04d}"] or f"n{last + 2:04d}"}
    assert len(ends) == 2  # the chain's ends are in different groups
    assert dict(store_export.select("id", "duplicate_of").iter_rows()) == dup


# -- per-batch pieces ------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.integers(0, 2**16), st.integers(1, 5))
def test_bucket_pairs_over_shuffled_split_input_equal_candidate_pairs(n, seed, parts):
    rng = np.random.default_rng(seed)
    sig = rng.integers(0, 3, (n, 16)).astype(np.uint32)
    want_a, want_b = candidate_pairs(sig, 4, 4)
    keys = band_keys(sig, 4, 4)
    band = np.tile(np.arange(4), n)
    ids = np.repeat(np.arange(n), 4)
    k = keys.ravel()
    # a shuffle by bucket key: each bucket lands whole in one of `parts` partitions, rows in any order
    part = (k % np.uint64(parts)).astype(int)
    found = set()
    for p in range(parts):
        sel = rng.permutation(np.flatnonzero(part == p))
        a, b = bucket_pairs(band[sel], k[sel], ids[sel])
        found |= set(zip(a.tolist(), b.tolist()))
    assert found == set(zip(want_a.tolist(), want_b.tolist()))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=40))
def test_assignment_points_every_duplicate_at_the_smallest_row_of_its_group(pairs):
    edges = pl.DataFrame(pairs, schema={"a": pl.Int64, "b": pl.Int64}, orient="row").with_columns(
        method=pl.lit("exact"), score=pl.lit(1.0))
    out = assignment(edges)
    canon = out.filter(pl.col("duplicate_of").is_null())
    assert (canon["row"] == canon["group"]).all()
    dups = out.filter(pl.col("duplicate_of").is_not_null())
    assert (dups["duplicate_of"] == dups["group"]).all()
    assert (dups["row"] > dups["duplicate_of"]).all()
    assert set(out["row"].to_list()) <= {x for p in pairs for x in p}


# -- output folder ---------------------------------------------------------------------------------
def test_an_existing_complete_output_is_refused_without_overwrite(corpus_dir, tmp_path):
    cfg = ScaleConfig(steps=("exact",), engine="local")
    curate_at_scale(str(corpus_dir / "all.parquet"), _out(tmp_path), cfg)
    with pytest.raises(ScaleOutputExists, match=r"already holds a complete curate-at-scale result; choose a new "
                                                r"--out, or pass --overwrite"):
        curate_at_scale(str(corpus_dir / "all.parquet"), _out(tmp_path), cfg)
    res = curate_at_scale(str(corpus_dir / "all.parquet"), _out(tmp_path),
                          ScaleConfig(steps=("exact",), engine="local", overwrite=True))
    assert res.rows == read_curated(_out(tmp_path)).height
    assert not Path(_out(tmp_path) + ".partial").exists()


def test_a_folder_without_the_success_marker_is_refused_and_not_read(tmp_path, corpus_dir):
    out = tmp_path / "other"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ScaleOutputExists, match="files but no _SUCCESS marker"):
        curate_at_scale(str(corpus_dir / "all.parquet"), str(out), ScaleConfig(steps=("exact",), engine="local"))
    with pytest.raises(ScaleOutputIncomplete, match="no _SUCCESS marker, so it is not a complete"):
        read_curated(str(out))


def test_a_rerun_discards_the_partial_results_of_an_interrupted_run(corpus_dir, tmp_path):
    partial = Path(_out(tmp_path) + ".partial") / "data"
    partial.mkdir(parents=True)
    pl.DataFrame({"row": [999], "id": ["stale"]}).write_parquet(partial / "part-99999.parquet")
    curate_at_scale(str(corpus_dir / "all.parquet"), _out(tmp_path), ScaleConfig(steps=("exact",), engine="local"))
    got = read_curated(_out(tmp_path))
    assert "stale" not in got["id"].to_list()
    assert got["row"].to_list() == list(range(_corpus().height + NOISY.height))


# -- input and config errors -----------------------------------------------------------------------
def test_no_matching_input_names_the_glob(tmp_path):
    with pytest.raises(ImportValidationError, match=r"nope/\*\.parquet:0:-: no Parquet file matches"):
        curate_at_scale(str(tmp_path / "nope" / "*.parquet"), _out(tmp_path), ScaleConfig(engine="local"))


def test_files_with_different_columns_are_refused(tmp_path):
    (tmp_path / "in").mkdir()
    pl.DataFrame({"text": ["a"], "label": ["x"]}).write_parquet(tmp_path / "in" / "a.parquet")
    pl.DataFrame({"text": ["b"]}).write_parquet(tmp_path / "in" / "b.parquet")
    with pytest.raises(ImportValidationError, match=r"b.parquet:0:-: columns differ from .*a.parquet \(missing: label; "
                                                    r"extra: none\)"):
        curate_at_scale(str(tmp_path / "in" / "*.parquet"), _out(tmp_path), ScaleConfig(engine="local"))


def test_a_missing_text_column_is_named(tmp_path):
    pl.DataFrame({"body": ["a"]}).write_parquet(tmp_path / "a.parquet")
    with pytest.raises(ImportValidationError, match=r"a.parquet:0:text: missing column \(columns: body\)"):
        curate_at_scale(str(tmp_path / "a.parquet"), _out(tmp_path), ScaleConfig(engine="local"))


def test_an_unknown_step_lists_the_valid_ones():
    with pytest.raises(InvalidValue, match=r"--steps: 'minhash' is not valid \(choose one of: exact, near, pii, embed\)"):
        ScaleConfig(steps=("exact", "minhash"))


def test_steps_run_in_their_fixed_order_whatever_the_order_given():
    assert ScaleConfig(steps=("pii", "near", "exact", "near")).steps == ("exact", "near", "pii")


def test_rows_without_an_id_column_are_numbered_like_a_store_import(tmp_path):
    pl.DataFrame({"text": ["hello there", "Hello there!", "other"]}).write_parquet(tmp_path / "a.parquet")
    curate_at_scale(str(tmp_path / "a.parquet"), _out(tmp_path), ScaleConfig(steps=("exact",), engine="local"))
    got = read_curated(_out(tmp_path))
    assert got.select("id", "duplicate_of").rows() == [("1", None), ("2", "1"), ("3", None)]


def test_generation_rows_are_deduplicated_on_prompt_and_response(tmp_path):
    pl.DataFrame({"prompt": ["Hi", "hi", "Hi"], "response": ["Call 555", "call 555.", "Other"]}).write_parquet(
        tmp_path / "g.parquet")
    res = curate_at_scale(str(tmp_path / "g.parquet"), _out(tmp_path), ScaleConfig(steps=("exact",), engine="local"))
    got = read_curated(_out(tmp_path))
    assert res.task == "generation"
    assert got.columns == ["row", "id", "prompt", "response", "label", "duplicate_of", "pii"]
    assert got["duplicate_of"].to_list() == [None, "1", None]


# -- loading into the store ------------------------------------------------------------------------
def test_loading_a_curated_output_imports_scrubbed_rows_and_links_duplicates(corpus_dir, store, tmp_path):
    curate_at_scale(str(corpus_dir / "in"), _out(tmp_path), ScaleConfig(steps=("exact", "pii"), engine="local"))
    res = load_curated(store, _out(tmp_path), "big", actor="ann")
    curated = read_curated(_out(tmp_path))
    assert (res.rows, res.inserted) == (curated.height, curated.height)
    assert res.linked == curated["duplicate_of"].drop_nulls().len() + curated["duplicate_of"].drop_nulls().n_unique()
    rows = store.cursor().execute(
        "SELECT e.external_id, c.external_id FROM examples e JOIN examples c ON c.id = e.duplicate_of "
        "WHERE e.dataset = 'big' ORDER BY e.external_id").fetchall()
    want = curated.filter(pl.col("duplicate_of").is_not_null()).sort("id").select("id", "duplicate_of").rows()
    assert rows == want
    texts = [r[0] for r in store.cursor().execute("SELECT text FROM examples WHERE dataset = 'big'").fetchall()]
    assert not any("jane.doe@example.com" in t for t in texts)
    again = load_curated(store, _out(tmp_path), "big", actor="ann")
    assert (again.inserted, again.linked) == (0, 0)


def test_loading_a_sample_imports_that_many_rows(corpus_dir, store, tmp_path):
    curate_at_scale(str(corpus_dir / "all.parquet"), _out(tmp_path), ScaleConfig(steps=("exact",), engine="local"))
    res = load_curated(store, _out(tmp_path), "s", sample=50, seed=1)
    assert (res.rows, res.inserted, store.count_examples("s")) == (50, 50, 50)


# -- CLI -------------------------------------------------------------------------------------------
def test_cli_curates_and_loads_with_json_summary(corpus_dir, tmp_path, capsys):
    out = _out(tmp_path)
    code = main(["--db", str(tmp_path / "c.duckdb"), "--json", "curate-at-scale", "--input",
                 str(corpus_dir / "all.parquet"), "--out", out, "--engine", "local", "--steps", "exact,near",
                 "--load-into", "c", "--sample", "30"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    rows = _corpus().height + NOISY.height
    assert (data["rows"], data["steps"], data["loaded"]["inserted"]) == (rows, ["exact", "near"], 30)
    assert json.loads((Path(out) / "summary.json").read_text())["duplicates"] == data["duplicates"]


def test_cli_sample_without_load_into_is_bad_input(tmp_path, capsys):
    code = main(["curate-at-scale", "--input", "x.parquet", "--out", str(tmp_path / "o"), "--sample", "3"])
    assert code == 2
    assert "--sample: only used with --load-into DATASET" in capsys.readouterr().err


def test_peak_memory_of_a_process_started_from_a_large_parent_is_its_own():
    """ru_maxrss survives fork + exec on Linux; the reported driver peak must not be the parent's."""
    import subprocess
    import sys

    from curation.scale.batch import peak_rss_mb

    ballast = bytearray(400 << 20)  # the parent holds 400 MB at the fork
    ballast[::4096] = b"x" * len(ballast[::4096])
    code = "from curation.scale.batch import peak_rss_mb; print(peak_rss_mb())"
    child = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert peak_rss_mb() > 400
    assert child < 200
    del ballast
