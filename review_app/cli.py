"""The ``tuneloop`` command line: parses options, calls one library function, prints the result.

Global options ``--db`` and ``--json`` come before the command. Exit codes: 0 success,
2 bad input (one ``file:row:field: message`` line per problem on stderr, nothing written),
1 any other failure. Project errors never print a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from curation import ColumnMap, LabelSchema, Store, TuneloopError, import_file, settings

app = typer.Typer(
    help="Tuneloop: curate, review and snapshot fine-tuning data.\n\nExample: tuneloop --db data/tuneloop.duckdb status",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
user_app = typer.Typer(help="Manage review-app users.", no_args_is_help=True)
app.add_typer(user_app, name="user")
snapshot_app = typer.Typer(help="Freeze approved examples into snapshots with splits and a datasheet; diff; export.",
                           no_args_is_help=True)
app.add_typer(snapshot_app, name="snapshot")
err = Console(stderr=True)
out = Console()


@dataclass
class Ctx:
    db: Path
    json: bool

    def store(self) -> Store:
        return Store(self.db, lock_wait_s=settings().lock_wait_s, memory_limit=settings().memory_limit)

    def emit(self, data: dict, human: str | None = None) -> None:
        if self.json:
            sys.stdout.write(json.dumps(data, default=str) + "\n")
        elif human is not None:
            out.print(human, highlight=False, markup=False, soft_wrap=True)


@app.callback()
def _main(
    ctx: typer.Context,
    db: Optional[Path] = typer.Option(None, "--db", help="DuckDB file of the store (default: $TUNELOOP_DB or data/tuneloop.duckdb)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output on stdout."),
) -> None:
    ctx.obj = Ctx(db=db or settings().db_path, json=as_json)


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the store, or migrate an older one to this version.

    Example: tuneloop --db data/tuneloop.duckdb init
    """
    c: Ctx = ctx.obj
    with c.store() as store:
        version = store.schema_version()
    c.emit({"db": str(c.db), "schema_version": version}, f"store {c.db} ready (schema version {version})")


@app.command()
def demo(ctx: typer.Context) -> None:
    """Load the bundled demo datasets (BANKING77, support replies, synthetic tickets) and demo users.

    Running it again adds nothing twice. Example: tuneloop demo
    """
    c: Ctx = ctx.obj
    from .demo import load_demo

    with c.store() as store:
        with err.status("loading demo data") as status:
            res = load_demo(store, progress=lambda msg: status.update(msg))
        counts = store.status_counts()
    human = [f"demo data in {c.db}:"]
    for imp in res.imports:
        human.append(f"  {imp['dataset']}: {imp['inserted']} new of {imp['rows']} rows from {Path(imp['file']).name}")
    human.append(f"  banking77: {res.approved} examples newly approved (demo slice)")
    human.append("demo logins: " + ", ".join(f"{u['user']} / {u['password']} ({u['role']})" for u in res.logins))
    c.emit({"imports": res.imports, "approved": res.approved, "users_created": res.users_created,
            "logins": res.logins, "status": counts}, "\n".join(human))


@app.command("import")
def import_cmd(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV, JSONL or Parquet file (format from the extension)."),
    dataset: str = typer.Option(..., "--dataset", help="Dataset to import into (created if new)."),
    task: Optional[str] = typer.Option(None, "--task", help="classification | generation (default: the dataset's, or guessed from the columns)."),
    text_col: str = typer.Option("text", "--text-col", help="Column with the text (classification)."),
    label_col: Optional[str] = typer.Option(None, "--label-col", help="Label column; several comma-separated columns for a structured label."),
    prompt_col: str = typer.Option("prompt", "--prompt-col", help="Column with the prompt (generation)."),
    response_col: str = typer.Option("response", "--response-col", help="Column with the response (generation)."),
    id_col: Optional[str] = typer.Option(None, "--id-col", help="Column with your own example ids (default: 'id' if present)."),
    status: str = typer.Option("imported", "--status", help="imported | needs_review | approved."),
    schema: Optional[Path] = typer.Option(None, "--schema", help='Label schema JSON: {"labels": [...]} or {"fields": {"category": [...], ...}}.'),
    licence: Optional[str] = typer.Option(None, "--licence", help="Licence of the source, recorded with it."),
    note: Optional[str] = typer.Option(None, "--note", help="Free note recorded with the source."),
    user: Optional[str] = typer.Option(None, "--user", help="Who imports (default: the OS user)."),
) -> None:
    """Import a file into a dataset: all rows or none; importing the same rows again adds nothing.

    Example: tuneloop import tickets.csv --dataset tickets --label-col category,component,priority --schema schema.json
    """
    c: Ctx = ctx.obj
    cols = ColumnMap(text=text_col, label=label_col, prompt=prompt_col, response=response_col, id=id_col)
    label_schema = LabelSchema.load(schema) if schema else None
    with c.store() as store, _progress(c, f"importing {file.name}") as tick:
        res = import_file(store, file, dataset, task=task, columns=cols, status=status, label_schema=label_schema,
                          actor=user, licence=licence, note=note, progress=tick)
    if res.already_imported:
        human = f"{file}: already imported into '{dataset}' (source {res.source_id}); nothing added"
    else:
        human = (f"{file}: {res.inserted} new examples in '{dataset}' ({res.rows} rows read, "
                 f"{res.skipped_existing} already there, {res.skipped_in_file} repeated in the file)")
    c.emit(res.to_dict(), human)


@app.command()
def export(
    ctx: typer.Context,
    dataset: str = typer.Option(..., "--dataset", help="Dataset to export."),
    out_path: Path = typer.Option(..., "--out", help="Output JSONL file (written atomically)."),
) -> None:
    """Export every example of a dataset as JSONL (the record of the CLI contract).

    Example: tuneloop export --dataset banking77 --out banking77.jsonl
    """
    c: Ctx = ctx.obj
    with c.store() as store:
        n = store.export_jsonl(dataset, out_path)
    c.emit({"dataset": dataset, "out": str(out_path), "rows": n}, f"{n} examples of '{dataset}' written to {out_path}")


@app.command()
def scrub(
    ctx: typer.Context,
    dataset: str = typer.Option(..., "--dataset", help="Dataset to scrub."),
    allow: Optional[str] = typer.Option(None, "--allow", help="Comma-separated terms that are never PII here (product, company names); saved with the dataset."),
    deny: Optional[str] = typer.Option(None, "--deny", help="Comma-separated terms that are always PII here; saved with the dataset."),
    review_below: Optional[float] = typer.Option(None, "--review-below", help="Flag findings scoring below this for review (default 0.4)."),
    workers: Optional[int] = typer.Option(None, "--workers", help="spaCy worker processes (default 1)."),
    force: bool = typer.Option(False, "--force", help="Scan examples already scrubbed with the same settings too."),
    keep_original: bool = typer.Option(False, "--keep-original", help="Admin only: keep replaced values in a table no export reads."),
    user: Optional[str] = typer.Option(None, "--user", help="Who scrubs (default: the OS user); --keep-original needs an admin."),
) -> None:
    """Detect PII with Presidio and replace it in the stored text with typed placeholders (<PERSON_1>).

    Already scrubbed examples are skipped; raw values are purged from the revision history too.
    Example: tuneloop scrub --dataset tickets --allow "Tuneloop,Acme Cloud"
    """
    from curation import get_pii_config, scrub_dataset
    from curation.pii.scrub import PiiConfig

    c: Ctx = ctx.obj
    actor = user or os.environ.get("USER") or "cli"
    with c.store() as store:
        cfg = get_pii_config(store, dataset).to_dict()
        for key, raw in (("allow_list", allow), ("deny_list", deny)):
            if raw is not None:
                cfg[key] = [t.strip() for t in raw.split(",") if t.strip()]
        if review_below is not None:
            cfg["review_below"] = review_below
        if workers is not None:
            cfg["workers"] = workers
        with _progress(c, f"scrubbing {dataset}") as tick:
            rep = scrub_dataset(store, dataset, actor=actor, config=PiiConfig.from_dict(cfg), force=force,
                                keep_original=keep_original, progress=tick)
    kinds = ", ".join(f"{k} {v}" for k, v in rep.entities.items()) or "none"
    human = (f"'{dataset}': scanned {rep.scanned} of {rep.examples} examples, {rep.changed} changed, "
             f"{rep.findings} PII spans replaced ({kinds}); {rep.flagged} flagged pii_review")
    if rep.stale:
        human += f"; {rep.stale} changed meanwhile and were skipped: run scrub again"
    c.emit(rep.to_dict(), human)


@app.command()
def dedup(
    ctx: typer.Context,
    dataset: str = typer.Option(..., "--dataset", help="Dataset to deduplicate."),
    method: str = typer.Option("all", "--method", help="exact | near | semantic | all."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Threshold of the one --method named: Jaccard for near (default 0.7), cosine for semantic (default 0.9)."),
    near_threshold: Optional[float] = typer.Option(None, "--near-threshold", help="Jaccard threshold of near duplicates (default 0.7)."),
    semantic_threshold: Optional[float] = typer.Option(None, "--semantic-threshold", help="Cosine threshold of semantic duplicates (default 0.9)."),
    against: Optional[Path] = typer.Option(None, "--against", help="Evaluation file (CSV/JSONL/Parquet): report examples that duplicate its rows; changes nothing."),
    text_col: str = typer.Option("text", "--text-col", help="Text column of the --against file."),
    backend: str = typer.Option("numpy", "--backend", help="MinHash backend: numpy | rensa."),
    user: Optional[str] = typer.Option(None, "--user", help="Who runs it (default: the OS user)."),
) -> None:
    """Group exact, near and semantic duplicates; keep one canonical per group (nothing is deleted).

    Reviewers' splits, merges and canonical choices are kept. With --against FILE, report which
    examples duplicate rows of an evaluation file instead (a leakage check).

    Example: tuneloop dedup --dataset banking77 --method near --threshold 0.8
    """
    from curation.dedup.run import DedupConfig, run_dedup
    from curation.dedup.contamination import check_contamination

    c: Ctx = ctx.obj
    kw = {k: v for k, v in (("near_threshold", near_threshold), ("semantic_threshold", semantic_threshold)) if v is not None}
    config = DedupConfig.for_method(method, threshold, backend=backend, **kw)
    with c.store() as store, _stage_progress(c) as tick:
        if against is not None:
            rep = check_contamination(store, dataset, against, config, text_col=text_col, progress=tick)
        else:
            res = run_dedup(store, dataset, config, actor=user or _os_user(), progress=tick)
    if against is not None:
        by = ", ".join(f"{k} {v}" for k, v in rep.by_method.items())
        lines = [f"{rep.contaminated} of {rep.examples_checked} examples of '{dataset}' duplicate rows of {against} "
                 f"({rep.rows_checked} rows; by method: {by})"]
        for m in rep.matches[:20]:
            lines.append(f"  example {m['external_id'] or m['example_id']} ~ {against.name}:{m['against_row']} "
                         f"({m['method']}, {m['score']:.3f})")
        if len(rep.matches) > 20:
            lines.append(f"  ... and {len(rep.matches) - 20} more matches (use --json for all)")
        c.emit(rep.to_dict(), "\n".join(lines))
        return
    by = ", ".join(f"{k} {v}" for k, v in res.by_method.items())
    human = (f"'{dataset}': {res.groups} duplicate groups, {res.duplicates} duplicates marked (by method: {by}); "
             f"{res.label_conflicts} examples in groups with conflicting labels; {res.changed} examples changed")
    c.emit(res.to_dict(), human)


@app.command("curate-at-scale")
def curate_at_scale_cmd(
    ctx: typer.Context,
    input_glob: str = typer.Option(..., "--input", help="Parquet glob, folder or file; local or any fsspec URL (s3://bucket/corpus/*.parquet)."),
    out_dir: str = typer.Option(..., "--out", help="Output folder: data/*.parquet, summary.json, _SUCCESS."),
    steps: str = typer.Option("exact,near,pii", "--steps", help="Comma-separated: exact, near, pii, embed."),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster address (ray://HOST:10001 or auto); default: a local Ray instance."),
    engine: str = typer.Option("ray", "--engine", help="ray | local (this process only: the single-machine path)."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Local Ray CPUs and PII / embedding actors (default: all CPUs)."),
    near_threshold: float = typer.Option(0.7, "--near-threshold", help="Jaccard threshold of near duplicates."),
    text_col: str = typer.Option("text", "--text-col", help="Column with the text (classification)."),
    prompt_col: str = typer.Option("prompt", "--prompt-col", help="Column with the prompt (generation)."),
    response_col: str = typer.Option("response", "--response-col", help="Column with the response (generation)."),
    label_col: str = typer.Option("label", "--label-col", help="Label column (kept as is)."),
    id_col: str = typer.Option("id", "--id-col", help="Column with your ids (default: 'id' if present, else the row number)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a complete output already in --out."),
    load_into: Optional[str] = typer.Option(None, "--load-into", help="Also import the curated rows into this dataset of the store, for review."),
    sample: Optional[int] = typer.Option(None, "--sample", help="With --load-into: import a random sample of N rows only."),
    user: Optional[str] = typer.Option(None, "--user", help="Who loads (default: the OS user)."),
) -> None:
    """Curate partitioned Parquet with Ray Data: exact and near duplicates, PII scrubbing, embeddings.

    Writes Parquet with the export record's columns (duplicate_of, pii, scrubbed text) and summary.json;
    a rerun never mixes partial results. Example:
    tuneloop curate-at-scale --input 'corpus/*.parquet' --out curated/ --steps exact,near,pii --load-into tickets --sample 5000
    """
    from curation.dedup.run import DedupConfig
    from curation.scale.config import ScaleConfig
    from curation.scale.run import curate_at_scale
    from curation.scale.output import load_curated

    c: Ctx = ctx.obj
    if sample is not None and load_into is None:
        from curation import BadInput

        raise BadInput("--sample: only used with --load-into DATASET; add --load-into or drop --sample")
    config = ScaleConfig(steps=tuple(steps.split(",")), engine=engine, address=address, workers=workers,
                         text_col=text_col, prompt_col=prompt_col, response_col=response_col, label_col=label_col,
                         id_col=id_col, dedup=DedupConfig(methods=("exact", "near"), near_threshold=near_threshold),
                         overwrite=overwrite)
    with _stage_progress(c) as tick:
        res = curate_at_scale(input_glob, out_dir, config, progress=tick)
    data = res.to_dict()
    secs = ", ".join(f"{k} {v:.1f}s" for k, v in res.seconds.items())
    human = [f"{res.rows} rows from {res.files} files curated into {out_dir} ({res.engine}; steps {','.join(res.steps)}): "
             f"{res.groups} duplicate groups, {res.duplicates} duplicates marked; "
             f"{res.pii.get('findings', 0)} PII spans replaced in {res.pii.get('changed', 0)} rows; {secs}"]
    if load_into:
        with c.store() as store:
            loaded = load_curated(store, out_dir, load_into, sample=sample, actor=user or _os_user())
        data["loaded"] = loaded.to_dict()
        human.append(f"loaded {loaded.inserted} new of {loaded.rows} rows into '{load_into}'; "
                     f"{loaded.linked} examples marked as duplicates")
    c.emit(data, "\n".join(human))


@app.command()
def check(
    ctx: typer.Context,
    dataset: str = typer.Option(..., "--dataset", help="Dataset to check."),
    checks: Optional[str] = typer.Option(None, "--checks", help="Comma-separated checks (default: all): label_conflict, label_issue, schema, outlier, agreement."),
    report: bool = typer.Option(False, "--report", help="Print the coverage report (Markdown) instead of running the checks."),
    min_label_count: int = typer.Option(10, "--min-label-count", help="--report: labels with fewer examples are rare."),
    difficult: bool = typer.Option(True, "--difficult/--no-difficult", help="--report: detect difficult cases (embeds every example)."),
    label_method: str = typer.Option("ours", "--label-method", help="label_issue rule: ours | rank (the previous default) | cleanlab | naive."),
    user: Optional[str] = typer.Option(None, "--user", help="Who runs it (default: the OS user)."),
) -> None:
    """Consistency and label-quality checks; raises flags that feed the review queue (worst first).

    Re-running updates open flags instead of adding new ones, resolves those no longer raised, and
    does not raise again what a reviewer already kept. With --report, print the coverage report.

    Example: tuneloop check --dataset banking77 --checks label_issue,schema
    """
    from curation import CheckConfig, CoverageConfig, coverage_report, run_checks

    c: Ctx = ctx.obj
    if report:
        cfg = CoverageConfig(min_label_count=min_label_count, difficult=difficult)
        with c.store() as store, _stage_progress(c) as tick:
            rep = coverage_report(store, dataset, cfg, progress=tick)
        if c.json:
            c.emit(rep.to_dict())
        else:
            out.print(rep.to_markdown(), highlight=False, markup=False, soft_wrap=True)
        return
    names = tuple(n.strip() for n in checks.split(",") if n.strip()) if checks else ()
    config = CheckConfig(checks=names, label_method=label_method)
    with c.store() as store, _stage_progress(c) as tick:
        res = run_checks(store, dataset, config, actor=user or _os_user(), progress=tick)
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
    c.emit(res.to_dict(), "\n".join(lines))


@app.command()
def status(ctx: typer.Context) -> None:
    """Per dataset, the number of examples in each status.

    Example: tuneloop status --json
    """
    c: Ctx = ctx.obj
    with c.store() as store:
        counts = store.status_counts()
    if c.json:
        c.emit({"datasets": counts})
        return
    if not counts:
        out.print("no datasets yet: tuneloop import FILE --dataset NAME, or tuneloop demo")
        return
    table = Table("dataset", *next(iter(counts.values())).keys(), "total")
    for name, row in counts.items():
        table.add_row(name, *(str(v) for v in row.values()), str(sum(row.values())))
    out.print(table)


@app.command()
def train(
    ctx: typer.Context,
    snapshot: str = typer.Option(..., "--snapshot", help="Snapshot id to train on (tuneloop snapshot create)."),
    task: Optional[str] = typer.Option(None, "--task", help="classification | sft (default: from the snapshot's task)."),
    base_model: Optional[str] = typer.Option(None, "--base-model", help="Local model folder (default: bundled MiniLM, or SmolLM2-135M-Instruct for sft)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Maximum epochs (early stopping may end sooner)."),
    learning_rate: Optional[float] = typer.Option(None, "--learning-rate", help="Peak learning rate."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Examples per step."),
    max_length: Optional[int] = typer.Option(None, "--max-length", help="Tokens per example."),
    lora_r: Optional[int] = typer.Option(None, "--lora-r", help="LoRA rank; 0 = full fine-tuning."),
    lora_alpha: Optional[int] = typer.Option(None, "--lora-alpha", help="LoRA alpha."),
    target_modules: Optional[str] = typer.Option(None, "--target-modules", help="Comma-separated module names, or all-linear."),
    pooling: Optional[str] = typer.Option(None, "--pooling", help="classification: auto | mean | cls (auto = mean for sentence encoders)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed (same seed, same metrics on CPU)."),
    patience: Optional[int] = typer.Option(None, "--patience", help="Epochs without validation improvement before stopping; 0 = never."),
    max_train_examples: Optional[int] = typer.Option(None, "--max-train-examples", help="Train on at most N examples (quick SFT demos)."),
    device: Optional[str] = typer.Option(None, "--device", help="auto | cpu | cuda."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads (default: all cores)."),
    runs_dir: Optional[Path] = typer.Option(None, "--runs-dir", help="Folder of run folders (default: $TUNELOOP_RUNS or runs/ beside the store)."),
) -> None:
    """Fine-tune a model with LoRA on a snapshot and register the run; prints the run id.

    Example: tuneloop train --snapshot 3f2a9c --epochs 4
    """
    from training import train_snapshot

    c: Ctx = ctx.obj
    _quiet_transformers()
    mods = tuple(t.strip() for t in target_modules.split(",") if t.strip()) if target_modules else None

    def on_epoch(rec: dict) -> None:
        if not c.json:
            err.print("epoch " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in rec.items()),
                      highlight=False, markup=False)

    with c.store() as store, _progress(c, "training (steps)") as tick:
        res = train_snapshot(store, snapshot, task=task, runs_dir=runs_dir, progress=tick, on_epoch=on_epoch,
                             base_model=base_model, epochs=epochs, learning_rate=learning_rate, batch_size=batch_size,
                             max_length=max_length, lora_r=lora_r, lora_alpha=lora_alpha, target_modules=mods, pooling=pooling, seed=seed,
                             patience=patience, max_train_examples=max_train_examples, device=device, threads=threads)
    d = res.to_dict()
    score = ", ".join(f"{k} {v:.4f}" for k, v in d["test"].items() if isinstance(v, float) and k != "perplexity")
    c.emit(d, f"run {res.id}: best epoch {d['best_epoch']}, test {score or 'n/a'}; {d['minutes']:.1f} min; folder {res.path}")


@app.command()
def runs(
    ctx: typer.Context,
    snapshot: Optional[str] = typer.Option(None, "--snapshot", help="Only runs of this snapshot."),
    status_: Optional[str] = typer.Option(None, "--status", help="running | completed | failed."),
) -> None:
    """List training runs, newest first.

    Example: tuneloop runs --status completed
    """
    from training import list_runs

    c: Ctx = ctx.obj
    with c.store() as store:
        frame = list_runs(store, snapshot_id=snapshot, status=status_)
    if c.json:
        c.emit({"runs": frame.to_dicts()})
        return
    if frame.height == 0:
        out.print("no runs yet: tuneloop train --snapshot ID")
        return
    cols = ["id", "status", "task", "dataset", "snapshot_id", "base_model", "best_epoch", "val_score", "test_accuracy", "minutes"]
    table = Table(*cols)
    for row in frame.select(cols).iter_rows():
        table.add_row(*("" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v) for v in row))
    out.print(table)


@app.command()
def generate(
    ctx: typer.Context,
    run: str = typer.Option(..., "--run", help="Id of a completed sft run."),
    prompt: str = typer.Option(..., "--prompt", help="The user message to answer."),
    max_new_tokens: Optional[int] = typer.Option(None, "--max-new-tokens", help="Tokens to generate (default: the run's)."),
) -> None:
    """Answer a prompt with a fine-tuned generation (sft) run, greedily, for a quick look.

    Example: tuneloop generate --run 20250101-120000-ab12cd --prompt "How do I cancel my order?"
    """
    from training import generate_from_run

    c: Ctx = ctx.obj
    _quiet_transformers()
    with c.store() as store:
        text = generate_from_run(store, run, prompt, max_new_tokens=max_new_tokens)
    c.emit({"run": run, "prompt": prompt, "response": text}, text)


@app.command()
def evaluate(
    ctx: typer.Context,
    run: str = typer.Option(..., "--run", help="Id of a completed classification run."),
    data: Optional[Path] = typer.Option(None, "--data", help="Labelled CSV / JSONL / Parquet file (import format) instead of the snapshot's test split."),
    oos_label: Optional[str] = typer.Option(None, "--oos-label", help="Label of out-of-scope rows in the data (e.g. oos, escalate): report out-of-scope recall."),
    send_errors_to_review: bool = typer.Option(False, "--send-errors-to-review", help="Then send mistakes, low-confidence predictions and open label_issue flags (tuneloop check) to the review queue, likeliest label errors first."),
    target_precision: float = typer.Option(0.9, "--target-precision", help="Precision the kept validation predictions must reach; sets the abstention threshold."),
    text_col: str = typer.Option("text", "--text-col", help="Text column of --data."),
    label_col: str = typer.Option("label", "--label-col", help="Label column of --data."),
    review_budget: Optional[int] = typer.Option(None, "--review-budget", help="Send at most N new items to review, highest priority first (default: all); run again for the next N."),
    label_checks: bool = typer.Option(True, "--label-checks/--no-label-checks", help="Include the dataset's open label_issue flags in what --send-errors-to-review sends."),
    drop_unknown: bool = typer.Option(False, "--drop-unknown-labels", help="Skip --data rows whose label the run does not know (default: refuse the file)."),
    bootstrap: int = typer.Option(1000, "--bootstrap", help="Bootstrap resamples for 95% intervals; 0 = none."),
    baseline: bool = typer.Option(True, "--baseline/--no-baseline", help="Also train and score the TF-IDF + logistic-regression baseline."),
    user: Optional[str] = typer.Option(None, "--user", help="Who sends items to review (default: the OS user)."),
) -> None:
    """Held-out metrics, calibration, abstention threshold, slices and baseline for a run.

    Example: tuneloop evaluate --run 20250101-120000-ab12cd --send-errors-to-review
    """
    from evaluation import EvalConfig, evaluate_run
    from evaluation import send_errors_to_review as send

    c: Ctx = ctx.obj
    _quiet_transformers()
    config = EvalConfig(target_precision=target_precision, oos_label=oos_label, bootstrap=bootstrap, baseline=baseline,
                        text_col=text_col, label_col=label_col, drop_unknown=drop_unknown)
    with c.store() as store:
        from training import get_run

        if get_run(store, run)["task"] == "sft":
            from evaluation import evaluate_generation

            with _stage_progress(c) as tick:
                g = evaluate_generation(store, run, data=data, oos_label=oos_label, progress=tick)
            loop = (send(store, run, actor=user or _os_user(), budget=review_budget, label_checks=label_checks)
                    if send_errors_to_review and data is None else None)
            if loop is not None:
                g["loop_back"] = loop.to_dict()
            c.emit(g, f"run {run}: {g['outputs']} outputs generated, {g['passed']} passed the automatic checks "
                      f"(failed: {', '.join(f'{k} {v}' for k, v in g['failed'].items())}); score them on the app's Rubric review page")
            return
        with _stage_progress(c) as tick:
            res = evaluate_run(store, run, data=data, config=config, progress=tick)
        loop = (send(store, run, actor=user or _os_user(), budget=review_budget, label_checks=label_checks)
                if send_errors_to_review else None)
    d = res.to_dict()
    s = res.summary
    human = [f"run {run} on {s['data']}: accuracy {s['accuracy']:.4f}, macro-F1 {s['macro_f1']:.4f}, ECE {s['ece']:.4f}",
             f"abstain below confidence {s['threshold']['threshold']:.3f} (kept {s['at_threshold']['coverage']:.1%})"]
    if s.get("oos"):
        human.append(f"out-of-scope recall {s['oos']['oos_recall']}, in-scope accuracy {s['oos']['in_scope_accuracy']}")
    if s.get("baseline"):
        human.append(f"baseline macro-F1 {s['baseline']['macro_f1']:.4f}")
    if s.get("comparison"):
        regs = [r["label"] for r in s["comparison"]["per_class"] if r["regression"]]
        human.append(f"vs {s['comparison']['previous_run']}: macro-F1 {s['comparison']['macro_f1_delta']:+.4f}"
                     + (f"; regressions: {', '.join(regs)}" if regs else ""))
    if loop is not None:
        d["loop_back"] = loop.to_dict()
        human.append(f"sent {len(loop.sent)} examples to review ({', '.join(f'{k}: {v}' for k, v in loop.by_reason.items()) or 'nothing new'})")
    human.append(f"report: {d['report']}")
    c.emit(d, "\n".join(human))


@app.command()
def predict(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV / JSONL / Parquet file with a text column."),
    run: str = typer.Option(..., "--run", help="Id of a completed classification run."),
    out_file: Path = typer.Option(..., "--out", help="Output file (.csv, .jsonl or .parquet)."),
    text_col: str = typer.Option("text", "--text-col", help="Text column."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Abstain below this confidence (default: chosen on validation by tuneloop evaluate)."),
) -> None:
    """Predict a label with its confidence per row; below the threshold the decision is "escalate to a human".

    Example: tuneloop predict --run 20250101-120000-ab12cd tickets.csv --out predictions.csv
    """
    from evaluation import predict_file

    c: Ctx = ctx.obj
    _quiet_transformers()
    with c.store() as store, _progress(c, "predicting") as tick:
        res = predict_file(store, run, file, out_file, text_col=text_col, threshold=threshold, progress=tick)
    c.emit(res, f"{res['rows']} predictions in {res['out']}; {res['abstained']} escalated to a human "
                f"(confidence below {res['threshold']:.3f})")


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="User name (no spaces)."),
    role: str = typer.Option(..., "--role", help="annotator | reviewer | admin."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Add a review-app user; the password is prompted (or read with --password-stdin) and stored argon2-hashed.

    Example: echo 's3cret!' | tuneloop user add maria --role reviewer --password-stdin
    """
    from .auth import add_user

    c: Ctx = ctx.obj
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with c.store() as store:
        user = add_user(store, name, role, password)
    c.emit({"user": user.name, "role": user.role}, f"user '{user.name}' added as {user.role}")


@snapshot_app.command("create")
def snapshot_create(
    ctx: typer.Context,
    dataset: str = typer.Option(..., "--dataset", help="Dataset to freeze (its approved examples)."),
    name: Optional[str] = typer.Option(None, "--name", help="A name for people, e.g. round-3 (not part of the id)."),
    split: str = typer.Option("0.8,0.1,0.1", "--split", help="Train,validation,test fractions (sum to 1)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the split order; same store + seed gives the same snapshot."),
    allow_flags: Optional[list[str]] = typer.Option(None, "--allow-flags", help="Check name whose open flags do not block (repeat or comma-separate)."),
    pin_test: Optional[str] = typer.Option(None, "--pin-test", help="Snapshot (id or name) whose test set is kept, frozen, as the test set (new examples go to train/validation)."),
    user: Optional[str] = typer.Option(None, "--user", help="Who creates it (default: the OS user)."),
) -> None:
    """Freeze the approved examples of a dataset into train/validation/test with a datasheet.

    Non-canonical duplicates and open blocking flags (pii_review, label_conflict, severity error)
    are left out; splits are stratified by label with duplicate groups on one side; the id is a
    hash of (example id, version, split), so creating it again gives the same id.

    Example: tuneloop snapshot create --dataset banking77 --name round-1 --seed 7
    """
    from curation import SnapshotConfig, create_snapshot

    c: Ctx = ctx.obj
    allowed = tuple(a.strip() for raw in (allow_flags or []) for a in raw.split(",") if a.strip())
    config = SnapshotConfig(name=name, split=split, seed=seed, allow_flags=allowed, pin_test=pin_test)
    with c.store() as store, err.status(f"creating a snapshot of {dataset}") if not c.json else _nullctx():
        res = create_snapshot(store, dataset, config, actor=user)
    verb = "created" if res.created else "already exists (same examples, versions and splits)"
    human = [f"snapshot {res.id} of '{dataset}' {verb}: {res.items} examples "
             + ", ".join(f"{k} {v}" for k, v in res.splits.items())]
    if res.excluded:
        human.append("left out: " + ", ".join(f"{k} {v}" for k, v in res.excluded.items()))
    if res.pinned_test:
        human.append(f"{res.pinned_test} test examples pinned from {pin_test}")
    human.append(f"next: tuneloop snapshot export {res.id} --format parquet --out exports/{dataset}-{res.id}")
    c.emit(res.to_dict(), "\n".join(human))


@snapshot_app.command("export")
def snapshot_export(
    ctx: typer.Context,
    snapshot_id: str = typer.Argument(..., metavar="ID", help="Snapshot id, unique id prefix or unique name."),
    fmt: str = typer.Option(..., "--format", help="openai-jsonl | hf | parquet | csv | alpaca."),
    out_path: Path = typer.Option(..., "--out", help="Output folder (written atomically; must not exist or be empty)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing, non-empty --out folder."),
) -> None:
    """Export a snapshot's splits in a training format, with its datasheet beside them.

    Formats: openai-jsonl, hf (datasets.load_dataset(PATH)), parquet, csv (formula-safe), alpaca.

    Example: tuneloop snapshot export round-1 --format hf --out exports/banking77-round-1
    """
    from curation import export_snapshot

    c: Ctx = ctx.obj
    with c.store() as store, err.status(f"exporting {snapshot_id} as {fmt}") if not c.json else _nullctx():
        res = export_snapshot(store, snapshot_id, fmt, out_path, overwrite=overwrite)
    c.emit(res.to_dict(), f"snapshot {res.snapshot} written to {res.out} as {fmt}: "
           + ", ".join(f"{k} {v}" for k, v in res.rows.items()) + f" ({len(res.files)} files, datasheet included)")


@snapshot_app.command("diff")
def snapshot_diff(
    ctx: typer.Context,
    a: str = typer.Argument(..., help="The older snapshot (id, prefix or name)."),
    b: str = typer.Argument(..., help="The newer snapshot (id, prefix or name)."),
    limit: int = typer.Option(20, "--limit", help="Example ids listed per kind of change."),
) -> None:
    """Examples added, removed, relabelled, edited and moved between splits; label shift per split.

    Example: tuneloop snapshot diff round-1 round-2
    """
    from curation import diff_snapshots

    c: Ctx = ctx.obj
    with c.store() as store:
        d = diff_snapshots(store, a, b, limit=limit)
    human = [f"{d['a']} -> {d['b']}: " + ", ".join(f"{k} {v}" for k, v in d["counts"].items())]
    for kind, rows in d["examples"].items():
        if rows:
            human.append(f"  {kind}: " + ", ".join(str(r["external_id"] or r["example_id"]) for r in rows))
    for split, labels in d["label_shift"].items():
        moved = {k: v for k, v in labels.items() if v["delta"]}
        if moved:
            human.append(f"  {split} label shift: " + ", ".join(f"{k} {v['delta']:+d}" for k, v in moved.items()))
    c.emit(d, "\n".join(human))


@snapshot_app.command("list")
def snapshot_list(
    ctx: typer.Context,
    dataset: Optional[str] = typer.Option(None, "--dataset", help="Only this dataset's snapshots."),
) -> None:
    """List snapshots, newest first.

    Example: tuneloop snapshot list --dataset banking77
    """
    from curation import list_snapshots

    c: Ctx = ctx.obj
    with c.store() as store:
        rows = list_snapshots(store, dataset)
    if c.json:
        c.emit({"snapshots": rows})
        return
    if not rows:
        out.print("no snapshots yet: tuneloop snapshot create --dataset NAME", highlight=False)
        return
    table = Table("id", "name", "dataset", "items", "created", "by")
    for r in rows:
        table.add_row(r["id"], r["name"] or "", r["dataset"], str(r["items"]), str(r["created_at"])[:19], r["created_by"] or "")
    out.print(table)


@snapshot_app.command("show")
def snapshot_show(
    ctx: typer.Context,
    snapshot_id: str = typer.Argument(..., metavar="ID", help="Snapshot id, unique id prefix or unique name."),
) -> None:
    """Print a snapshot's datasheet (Markdown; the JSON datasheet with --json).

    Example: tuneloop snapshot show round-1
    """
    from curation import get_datasheet

    c: Ctx = ctx.obj
    with c.store() as store:
        sheet, md = get_datasheet(store, snapshot_id)
    if c.json:
        c.emit(sheet)
    else:
        sys.stdout.write(md)  # raw, not through rich: the Markdown must not be re-wrapped


@snapshot_app.command("usage")
def snapshot_usage(
    ctx: typer.Context,
    dataset: str = typer.Option(..., "--dataset", help="Dataset whose datasheet notes to set."),
    intended_use: Optional[str] = typer.Option(None, "--intended-use", help="What the data is for."),
    out_of_scope_use: Optional[str] = typer.Option(None, "--out-of-scope-use", help="What it must not be used for."),
    limitations: Optional[str] = typer.Option(None, "--limitations", help="Known limitations to state."),
) -> None:
    """Set the intended use, out-of-scope use and limitations that new datasheets quote (admin setting).

    Example: tuneloop snapshot usage --dataset banking77 --intended-use "Intent routing for the support bot"
    """
    from curation import set_usage_notes

    c: Ctx = ctx.obj
    with c.store() as store:
        notes = set_usage_notes(store, dataset, intended_use=intended_use, out_of_scope_use=out_of_scope_use,
                                limitations=limitations)
    c.emit({"dataset": dataset, **notes}, f"datasheet notes of '{dataset}' saved; new snapshots will quote them")


class _nullctx:
    def __enter__(self):
        return None

    def __exit__(self, *exc) -> None:
        return None


@app.command("app")
def app_cmd(
    ctx: typer.Context,
    port: int = typer.Option(8501, "--port", help="Port on 127.0.0.1."),
) -> None:
    """Start the review app on 127.0.0.1 (the app process holds the store while it runs).

    Example: tuneloop app --port 8501
    """
    from .demo import DEMO_USERS

    c: Ctx = ctx.obj
    with c.store() as store:  # migrate (and fail clearly if busy) before handing over to Streamlit
        demo_users = [u for u in DEMO_USERS if store.get_user(u[0]) is not None]
    app_file = Path(__file__).resolve().parent / "app.py"
    out.print(f"Tuneloop review app: http://127.0.0.1:{port}", highlight=False)
    if demo_users:
        out.print("demo logins: " + ", ".join(f"{n} / {p} ({r})" for n, r, p in demo_users), highlight=False, soft_wrap=True)
    out.print("stop it with Ctrl+C", highlight=False)
    sys.stdout.flush()
    env = dict(os.environ, TUNELOOP_DB=str(Path(c.db).resolve()))
    args = [sys.executable, "-m", "streamlit", "run", str(app_file), "--server.headless", "true",
            "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
            "--client.toolbarMode", "viewer"]
    os.execve(sys.executable, args, env)


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "unknown"


class _stage_progress:
    """A rich progress bar on stderr for work in stages; yields ``tick(stage, done, total)``."""

    def __init__(self, c: Ctx):
        self._bar = None if c.json or not err.is_terminal else Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=err, transient=True)

    def __enter__(self):
        if self._bar is None:
            return lambda stage, done, total: None
        self._bar.start()
        tasks: dict[str, object] = {}

        def tick(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = self._bar.add_task(stage, total=total or None)
            self._bar.update(tasks[stage], completed=done, total=max(total or 0, done) or None)

        return tick

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
def _quiet_transformers() -> None:
    """Our own progress bar and messages replace transformers' loading bars and load reports."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


class _progress:
    """A rich progress bar on stderr (silent with --json); yields a ``tick(done, total)`` callback."""

    def __init__(self, c: Ctx, label: str):
        self._bar = None if c.json or not err.is_terminal else Progress(
            TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True)
        self._task = None

    def __enter__(self):
        if self._bar is None:
            return lambda done, total: None
        self._bar.start()
        self._task = self._bar.add_task("rows", total=None)

        def tick(done: int, total: int | None) -> None:
            self._bar.update(self._task, completed=done, total=max(total or 0, done) or None)

        return tick

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tuneloop`` script; returns the exit code."""
    try:
        app(args=argv, standalone_mode=False)
    except TuneloopError as exc:
        for line in str(exc).splitlines():
            err.print(line, markup=False, highlight=False, soft_wrap=True)
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        return 1
    except SystemExit as exc:  # raised by typer for --help and usage errors
        return int(exc.code or 0)
    except Exception as exc:  # noqa: BLE001 - click's usage errors and others
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
