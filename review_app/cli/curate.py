"""Curation commands: scrub, dedup, curate-at-scale, check."""

from pathlib import Path
from typing import Optional

import typer

from curation.config import os_user

from .options import (
    DatasetOpt,
    PromptColOpt,
    ResponseColOpt,
    TextColOpt,
    UserOpt,
    csv_list,
)
from .output import Ctx, joined, say


def scrub(
    ctx: typer.Context,
    dataset: DatasetOpt("Dataset to scrub."),
    allow: Optional[str] = typer.Option(None, "--allow", help="Comma-separated terms that are never PII here (product, company names); saved with the dataset."),
    deny: Optional[str] = typer.Option(None, "--deny", help="Comma-separated terms that are always PII here; saved with the dataset."),
    review_below: Optional[float] = typer.Option(None, "--review-below", help="Flag findings scoring below this for review (default 0.4)."),
    workers: Optional[int] = typer.Option(None, "--workers", help="spaCy worker processes (default 1)."),
    model_recognizer: Optional[str] = typer.Option(None, "--model-recognizer", help="Folder of a trained PII token tagger (python -m training.token_tagger) to run as one more recognizer; saved with the dataset; 'none' turns it off. Opt-in: about halves throughput."),
    force: bool = typer.Option(False, "--force", help="Scan examples already scrubbed with the same settings too."),
    keep_original: bool = typer.Option(False, "--keep-original", help="Admin only: keep replaced values in a table no export reads."),
    user: UserOpt("Who scrubs (default: the OS user); --keep-original needs an admin.") = None,
) -> None:
    """Detect PII with Presidio and replace it in the stored text with typed placeholders (<PERSON_1>).

    Already scrubbed examples are skipped; raw values are purged from the revision history too.
    Example: tuneloop scrub --dataset tickets --allow "Tuneloop,Acme Cloud"
    """
    from curation.pii import scrub_dataset

    c: Ctx = ctx.obj
    if model_recognizer and model_recognizer.strip().lower() not in ("none", "off"):
        model_recognizer = str(Path(model_recognizer).expanduser().resolve())
    overrides = dict(allow_list=csv_list(allow), deny_list=csv_list(deny), review_below=review_below, workers=workers,
                     model_recognizer=model_recognizer)
    with c.store() as store, c.progress(f"scrubbing {dataset}") as tick:
        rep = scrub_dataset(store, dataset, actor=user or os_user(), overrides=overrides, force=force,
                            keep_original=keep_original, progress=tick)
    human = (f"'{dataset}': scanned {rep.scanned} of {rep.examples} examples, {rep.changed} changed, "
             f"{rep.findings} PII spans replaced ({joined(rep.entities) or 'none'}); {rep.flagged} flagged pii_review")
    if rep.notes or rep.embeddings_dropped:
        human += f"; {rep.notes} notes/reasons scrubbed, {rep.embeddings_dropped} stale embeddings dropped"
    if rep.file_rewritten:
        human += "; store file rewritten (no old row versions left)"
    if rep.stale:
        human += f"; {rep.stale} changed meanwhile and were skipped: run scrub again"
    c.emit(rep.to_dict(), human)


def dedup(
    ctx: typer.Context,
    dataset: DatasetOpt("Dataset to deduplicate."),
    method: str = typer.Option("all", "--method", help="exact | near | semantic | all."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Threshold of the one --method named: Jaccard for near (default 0.7), cosine for semantic (default 0.9)."),
    near_threshold: Optional[float] = typer.Option(None, "--near-threshold", help="Jaccard threshold of near duplicates (default 0.7)."),
    semantic_threshold: Optional[float] = typer.Option(None, "--semantic-threshold", help="Cosine threshold of semantic duplicates (default 0.9)."),
    against: Optional[Path] = typer.Option(None, "--against", help="Evaluation file (CSV/JSONL/Parquet): report examples that duplicate its rows; changes nothing."),
    text_col: TextColOpt("Text column of the --against file.") = "text",
    backend: str = typer.Option("numpy", "--backend", help="MinHash backend: numpy | rensa."),
    user: UserOpt("Who runs it (default: the OS user).") = None,
) -> None:
    """Group exact, near and semantic duplicates; keep one canonical per group (nothing is deleted).

    Reviewers' splits, merges and canonical choices are kept. With --against FILE, report which
    examples duplicate rows of an evaluation file instead (a leakage check).

    Example: tuneloop dedup --dataset banking77 --method near --threshold 0.8
    """
    from curation.dedup import DedupConfig, check_contamination, run_dedup

    c: Ctx = ctx.obj
    kw = {k: v for k, v in (("near_threshold", near_threshold), ("semantic_threshold", semantic_threshold)) if v is not None}
    config = DedupConfig.for_method(method, threshold, backend=backend, **kw)
    with c.store() as store, c.progress() as tick:
        if against is not None:
            rep = check_contamination(store, dataset, against, config, text_col=text_col, progress=tick)
        else:
            res = run_dedup(store, dataset, config, actor=user or os_user(), progress=tick, compute=_owner_dedup(store))
    if against is not None:
        lines = [f"{rep.contaminated} of {rep.examples_checked} examples of '{dataset}' duplicate rows of {against} "
                 f"({rep.rows_checked} rows; by method: {joined(rep.by_method)})"]
        for m in rep.matches[:20]:
            lines.append(f"  example {m['external_id'] or m['example_id']} ~ {against.name}:{m['against_row']} "
                         f"({m['method']}, {m['score']:.3f})")
        if len(rep.matches) > 20:
            lines.append(f"  ... and {len(rep.matches) - 20} more matches (use --json for all)")
        c.emit(rep.to_dict(), lines)
        return
    c.emit(res.to_dict(), f"'{dataset}': {res.groups} duplicate groups, {res.duplicates} duplicates marked "
                          f"(by method: {joined(res.by_method)}); {res.label_conflicts} examples in groups with "
                          f"conflicting labels; {res.changed} examples changed")


def _owner_dedup(store, checks: bool = False):
    """In the store's owner: compute in a niced subprocess that does not hold the store (None elsewhere)."""
    from ..server.context import owner_store

    if owner_store() is None:
        return None
    from ..server.curation_job import owner_check_compute, owner_compute
    from ..server.jobs import current_job

    return (owner_check_compute if checks else owner_compute)(store, current_job())


def curate_at_scale_cmd(
    ctx: typer.Context,
    input_glob: str = typer.Option(..., "--input", help="Parquet glob, folder or file; local or any fsspec URL (s3://bucket/corpus/*.parquet)."),
    out_dir: str = typer.Option(..., "--out", help="Output folder: data/*.parquet, summary.json, _SUCCESS."),
    steps: str = typer.Option("exact,near,pii", "--steps", help="Comma-separated: exact, near, pii, embed."),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster address (ray://HOST:10001 or auto); default: a local Ray instance."),
    engine: str = typer.Option("ray", "--engine", help="ray | local (this process only: the single-machine path)."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Local Ray CPUs and PII / embedding actors (default: all CPUs)."),
    near_threshold: float = typer.Option(0.7, "--near-threshold", help="Jaccard threshold of near duplicates."),
    text_col: TextColOpt() = "text",
    prompt_col: PromptColOpt = "prompt",
    response_col: ResponseColOpt = "response",
    label_col: str = typer.Option("label", "--label-col", help="Label column (kept as is)."),
    id_col: str = typer.Option("id", "--id-col", help="Column with your ids (default: 'id' if present, else the row number)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a complete output already in --out."),
    load_into: Optional[str] = typer.Option(None, "--load-into", help="Also import the curated rows into this dataset of the store, for review."),
    sample: Optional[int] = typer.Option(None, "--sample", help="With --load-into: import a random sample of N rows only."),
    user: UserOpt("Who loads (default: the OS user).") = None,
) -> None:
    """Curate partitioned Parquet with Ray Data: exact and near duplicates, PII scrubbing, embeddings.

    Writes Parquet with the export record's columns (duplicate_of, pii, scrubbed text) and summary.json;
    a rerun never mixes partial results. Example:
    tuneloop curate-at-scale --input 'corpus/*.parquet' --out curated/ --steps exact,near,pii --load-into tickets --sample 5000
    """
    from curation.dedup import DedupConfig
    from curation.scale import ScaleConfig, curate_at_scale, load_curated

    c: Ctx = ctx.obj
    if sample is not None and load_into is None:
        from curation import BadInput

        raise BadInput("--sample: only used with --load-into DATASET; add --load-into or drop --sample")
    config = ScaleConfig(steps=tuple(steps.split(",")), engine=engine, address=address, workers=workers,
                         text_col=text_col, prompt_col=prompt_col, response_col=response_col, label_col=label_col,
                         id_col=id_col, dedup=DedupConfig(methods=("exact", "near"), near_threshold=near_threshold),
                         overwrite=overwrite)
    with c.progress() as tick:
        res = curate_at_scale(input_glob, out_dir, config, progress=tick)
    data = res.to_dict()
    secs = ", ".join(f"{k} {v:.1f}s" for k, v in res.seconds.items())
    human = [f"{res.rows} rows from {res.files} files curated into {out_dir} ({res.engine}; steps {','.join(res.steps)}): "
             f"{res.groups} duplicate groups, {res.duplicates} duplicates marked; "
             f"{res.pii.get('findings', 0)} PII spans replaced in {res.pii.get('changed', 0)} rows; {secs}"]
    if load_into:
        with c.store(create=True) as store:  # --load-into imports, like `tuneloop import`
            loaded = load_curated(store, out_dir, load_into, sample=sample, actor=user or os_user())
        data["loaded"] = loaded.to_dict()
        human.append(f"loaded {loaded.inserted} new of {loaded.rows} rows into '{load_into}'; "
                     f"{loaded.linked} examples marked as duplicates")
    c.emit(data, human)


def check(
    ctx: typer.Context,
    dataset: DatasetOpt("Dataset to check."),
    checks: Optional[str] = typer.Option(None, "--checks", help="Comma-separated checks (default: all): label_conflict, label_issue, schema, outlier, agreement."),
    report: bool = typer.Option(False, "--report", help="Print the coverage report (Markdown) instead of running the checks."),
    min_label_count: int = typer.Option(10, "--min-label-count", help="--report: labels with fewer examples are rare."),
    difficult: bool = typer.Option(True, "--difficult/--no-difficult", help="--report: detect difficult cases (embeds every example)."),
    label_method: str = typer.Option("ours", "--label-method", help="label_issue rule: ours | rank (the previous default) | cleanlab | naive."),
    user: UserOpt("Who runs it (default: the OS user).") = None,
) -> None:
    """Consistency and label-quality checks; raises flags that feed the review queue (worst first).

    Re-running updates open flags instead of adding new ones, resolves those no longer raised, and
    does not raise again what a reviewer already kept. With --report, print the coverage report.

    Example: tuneloop check --dataset banking77 --checks label_issue,schema
    """
    from curation.checks import CheckConfig, CoverageConfig, coverage_report, run_checks

    c: Ctx = ctx.obj
    if report:
        cfg = CoverageConfig(min_label_count=min_label_count, difficult=difficult)
        with c.store() as store, c.progress() as tick:
            rep = coverage_report(store, dataset, cfg, progress=tick)
        if c.json:
            c.emit(rep.to_dict())
        else:
            say(rep.to_markdown())
        return
    config = CheckConfig(checks=csv_list(checks) or (), label_method=label_method)
    with c.store() as store, c.progress() as tick:
        res = run_checks(store, dataset, config, actor=user or os_user(), progress=tick,
                         compute=_owner_dedup(store, checks=True), dedup_compute=_owner_dedup(store))
    lines = [f"'{dataset}': ran {', '.join(res.checks)} in {res.seconds:.1f} s"]
    for name, counts in res.flags.items():
        extra = f", {counts['suppressed']} already resolved by a reviewer" if counts.get("suppressed") else ""
        lines.append(f"  {name}: {counts['opened']} new, {counts['kept']} still open, {counts['resolved']} resolved{extra}")
    ag = res.summaries.get("agreement", {})
    if ag.get("items"):
        lines.append(f"  agreement over {ag['items']} items: Fleiss' kappa {ag['fleiss_kappa']:.3f}, "
                     f"Krippendorff's alpha {ag['krippendorff_alpha']:.3f}")
    total = sum(sum(v.values()) for v in res.open_flags.values())
    lines.append(f"{total} open flags; {res.prioritised} examples moved up the review queue")
    c.emit(res.to_dict(), lines)
