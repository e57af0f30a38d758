"""Store commands: init, demo, status, user add."""

import sys
from pathlib import Path

import typer

from .output import Ctx, err, say


def init(ctx: typer.Context) -> None:
    """Create the store, or migrate an older one to this version.

    Example: tuneloop --db data/tuneloop.duckdb init
    """
    c: Ctx = ctx.obj
    with c.store(create=True) as store:
        version = store.schema_version()
    c.emit({"db": str(c.db), "schema_version": version}, f"store {c.db} ready (schema version {version})")


def demo(ctx: typer.Context) -> None:
    """Load the bundled demo datasets (BANKING77, support replies, synthetic tickets) and demo users.

    Running it again adds nothing twice. Example: tuneloop demo
    """
    from ..demo import load_demo

    c: Ctx = ctx.obj
    with c.store(create=True) as store:
        with err.status("loading demo data") as status:
            res = load_demo(store, progress=lambda msg: status.update(msg))
        counts = store.status_counts()
    human = [f"demo data in {c.db}:"]
    for imp in res.imports:
        human.append(f"  {imp['dataset']}: {imp['inserted']} new of {imp['rows']} rows from {Path(imp['file']).name}")
    human.append(f"  banking77: {res.approved} examples newly approved (demo slice)")
    human.append("demo logins: " + ", ".join(f"{u['user']} / {u['password']} ({u['role']})" for u in res.logins))
    c.emit({"imports": res.imports, "approved": res.approved, "users_created": res.users_created,
            "logins": res.logins, "status": counts}, human)


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
    columns = ["dataset", *next(iter(counts.values())).keys(), "total"] if counts else []
    c.table(columns, ([name, *(str(v) for v in row.values()), str(sum(row.values()))] for name, row in counts.items()),
            empty="no datasets yet: tuneloop import FILE --dataset NAME, or tuneloop demo")


def user_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="User name (no spaces)."),
    role: str = typer.Option(..., "--role", help="annotator | reviewer | admin."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Add a review-app user; the password is prompted (or read with --password-stdin) and stored argon2-hashed.

    Example: echo 's3cret!' | tuneloop user add maria --role reviewer --password-stdin
    """
    from ..auth import add_user

    c: Ctx = ctx.obj
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with c.store() as store:
        user = add_user(store, name, role, password)
    c.emit({"user": user.name, "role": user.role}, f"user '{user.name}' added as {user.role}")
