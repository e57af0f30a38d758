"""The store's owner from the command line: app, serve, jobs list / cancel (see docs/server.md)."""

from typing import Optional

import typer

from .output import Ctx, say


def app_cmd(
    ctx: typer.Context,
    port: int = typer.Option(8501, "--port", help="Port of the app on 127.0.0.1."),
    api_port: int = typer.Option(0, "--api-port", help="Port of the store's local API on 127.0.0.1 (0 = a free port)."),
) -> None:
    """Start the review app on 127.0.0.1; its process owns the store and serves the CLI, the Python client and jobs.

    Example: tuneloop app --port 8501
    """
    from ..demo import DEMO_USERS
    from ..server.run import run_app
    from .core import main

    def demo_logins(store) -> None:
        users = [u for u in DEMO_USERS if store.get_user(u[0]) is not None]
        if users:
            say("demo logins: " + ", ".join(f"{n} / {p} ({r})" for n, r, p in users))

    c: Ctx = ctx.obj
    run_app(c.db, port=port, api_port=api_port, before_start=demo_logins, cli_main=main, say=say)


def serve_cmd(
    ctx: typer.Context,
    api_port: int = typer.Option(0, "--api-port", help="Port of the local API on 127.0.0.1 (0 = a free port)."),
) -> None:
    """Own the store and serve its local API without the review app (a notebook server, CI).

    tuneloop commands and review_app.client go through it while it runs. Example: tuneloop serve
    """
    from ..server.run import run_serve
    from .core import main

    c: Ctx = ctx.obj
    run_serve(c.db, api_port=api_port, cli_main=main, say=say)


def jobs_list(
    ctx: typer.Context,
    status: Optional[str] = typer.Option(None, "--status", help="queued | running | completed | failed | cancelled."),
) -> None:
    """List jobs (long work run by the store's owner), newest first.

    Example: tuneloop jobs list --status running
    """
    from curation.store import jobs as store_jobs

    c: Ctx = ctx.obj
    with c.store() as store:
        rows = store_jobs.list_jobs(store, status=status)
    c.listing("jobs", rows, ["id", "kind", "status", "progress", "by", "created", "what"],
              lambda r: [str(r["id"]), r["kind"], r["status"], "" if r["progress"] is None else f"{r['progress']:.0%}",
                         r["created_by"] or "", str(r["created_at"])[:19], r["title"]],
              empty="no jobs yet: long commands (train, evaluate, dedup, ...) run as jobs while the app or tuneloop serve runs")


def jobs_cancel(
    ctx: typer.Context,
    job_id: int = typer.Argument(..., metavar="ID", help="Job id (tuneloop jobs list)."),
) -> None:
    """Cancel a queued or running job.

    Example: tuneloop jobs cancel 12
    """
    from curation import BadInput
    from curation.store import jobs as store_jobs

    from ..server import current

    c: Ctx = ctx.obj
    with c.store() as store:
        owner = current()
        status = owner.jobs.cancel(job_id) if owner is not None and owner.store is store else store_jobs.request_cancel(store, job_id)
    if status is None:
        raise BadInput(f"job {job_id} does not exist (tuneloop jobs list)")
    c.emit({"job": job_id, "status": status}, f"job {job_id}: cancel requested ({status})")
