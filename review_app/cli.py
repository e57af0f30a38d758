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
err = Console(stderr=True)
out = Console()


@dataclass
class Ctx:
    db: Path
    json: bool

    def store(self) -> Store:
        return Store(self.db, lock_wait_s=settings().lock_wait_s)

    def emit(self, data: dict, human: str | None = None) -> None:
        if self.json:
            sys.stdout.write(json.dumps(data, default=str) + "\n")
        elif human is not None:
            out.print(human, highlight=False, markup=False)


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
    from curation.dedup import DedupConfig, check_contamination, run_dedup

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
        out.print("demo logins: " + ", ".join(f"{n} / {p} ({r})" for n, r, p in demo_users), highlight=False)
    out.print("stop it with Ctrl+C", highlight=False)
    sys.stdout.flush()
    env = dict(os.environ, TUNELOOP_DB=str(Path(c.db).resolve()))
    args = [sys.executable, "-m", "streamlit", "run", str(app_file), "--server.headless", "true",
            "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"]
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
