"""Training commands: train, runs, generate.

``train``'s model options are not declared here: they come from the :class:`training.TrainConfig`
fields that carry a ``cli`` help text, so a new training option needs one line in the config.
"""

import inspect
import typing
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Optional

import typer

from .output import Ctx, err, quiet_transformers


def _config_options() -> list[inspect.Parameter]:
    """One optional ``--field-name`` option per :class:`TrainConfig` field with ``cli`` help, in field order."""
    from training import TrainConfig

    hints = typing.get_type_hints(TrainConfig)
    params = []
    for f in fields(TrainConfig):
        if "cli" not in f.metadata:
            continue
        kind = next(t for t in (typing.get_args(hints[f.name]) or (hints[f.name],)) if t is not type(None))
        kind = str if typing.get_origin(kind) is tuple else kind  # tuples are given comma-separated
        option = typer.Option("--" + f.name.replace("_", "-"), help=f.metadata["cli"])
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=None,
                                        annotation=Annotated[Optional[kind], option]))
    return params


def train(ctx: typer.Context, snapshot: str, runs_dir: Optional[Path], **options) -> None:
    """Fine-tune a model with LoRA on a snapshot and register the run; prints the run id.

    Example: tuneloop train --snapshot 3f2a9c --epochs 4
    """
    from training import train_snapshot

    from .options import csv_list

    c: Ctx = ctx.obj
    quiet_transformers()
    if options.get("target_modules") is not None:
        options["target_modules"] = csv_list(options["target_modules"]) or None

    def on_epoch(rec: dict) -> None:
        if not c.json:
            err.print("epoch " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in rec.items()),
                      highlight=False, markup=False)

    from ..server.context import owner_store

    if owner_store() is not None:  # in the store's owner: train in a niced subprocess that does not hold the store
        from ..server.jobs import current_job
        from ..server.train_job import train_in_subprocess as train_snapshot  # noqa: F811

        job = current_job()
        options = {**options, "job": job, "on_log": job.log if job else None}
    with c.store() as store, c.progress("training (steps)") as tick:
        res = train_snapshot(store, snapshot, runs_dir=runs_dir, progress=tick, on_epoch=on_epoch,
                             **options)
    d = res.to_dict()
    score = ", ".join(f"{k} {v:.4f}" for k, v in d["test"].items() if isinstance(v, float) and k != "perplexity")
    c.emit(d, f"run {res.id}: best epoch {d['best_epoch']}, test {score or 'n/a'}; {d['minutes']:.1f} min; folder {res.path}")


def _kw(name: str, annotation) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation)


train.__signature__ = inspect.Signature([
    inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
    _kw("snapshot", Annotated[str, typer.Option("--snapshot", help="Snapshot id to train on (tuneloop snapshot create).")]),
    *_config_options(),
    inspect.Parameter("runs_dir", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        Optional[Path], typer.Option("--runs-dir", help="Folder of run folders (default: $TUNELOOP_RUNS or runs/ beside the store).")]),
])


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
    cols = ["id", "status", "task", "dataset", "snapshot_id", "base_model", "best_epoch", "val_score", "test_accuracy", "minutes"]
    c.listing("runs", frame.to_dicts(), cols,
              lambda r: ["" if r[k] is None else f"{r[k]:.4f}" if isinstance(r[k], float) else str(r[k]) for k in cols],
              empty="no runs yet: tuneloop train --snapshot ID")


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
    quiet_transformers()
    with c.store() as store:
        text = generate_from_run(store, run, prompt, max_new_tokens=max_new_tokens)
    c.emit({"run": run, "prompt": prompt, "response": text}, text)
