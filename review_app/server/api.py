"""The owner's local HTTP API (Starlette, served by uvicorn on 127.0.0.1).

Every request carries ``Authorization: Bearer <token>`` (the token in the owner file, mode 0600);
there is no unauthenticated route. Routes:

- ``GET /v1/health``: store path, pid, schema version;
- ``POST /v1/cli`` ``{"argv": [...], "stdin": "..."}``: run a ``tuneloop`` command here; the answer
  streams JSON lines ``{"stdout": text}``, ``{"stderr": text}``, ``{"job": id}``, then ``{"exit": code}``;
- ``POST /v1/ops/NAME`` with keyword arguments: :data:`review_app.server.ops.OPS`;
- ``GET /v1/jobs``, ``GET /v1/jobs/ID``, ``POST /v1/jobs`` ``{"kind": "train", "params": {...}}``,
  ``POST /v1/jobs/ID/cancel``.

Project errors answer ``{"error": message, "exit_code": n, "type": name}`` with status 400
(bad input) or 409; the client re-raises them with the same message and exit code.
"""

from __future__ import annotations

import hmac
import json
import queue
import threading

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from curation import TuneloopError
from curation.store import jobs as store_jobs

from . import ops
from .cli_exec import job_kind, run_cli


def _error(exc: TuneloopError) -> JSONResponse:
    code = getattr(exc, "exit_code", 1)
    return JSONResponse({"error": str(exc), "exit_code": code, "type": type(exc).__name__}, status_code=400 if code == 2 else 409)


class _Auth(BaseHTTPMiddleware):
    def __init__(self, app, token: str):
        super().__init__(app)
        self._token = token.encode()

    async def dispatch(self, request: Request, call_next):
        got = request.headers.get("authorization", "")
        if not got.startswith("Bearer ") or not hmac.compare_digest(got[7:].encode(), self._token):
            return JSONResponse({"error": "missing or wrong token", "exit_code": 1, "type": "BadToken"}, status_code=401)
        return await call_next(request)


def _owner(request: Request):
    return request.app.state.owner


def _json(data) -> JSONResponse:
    return JSONResponse(json.loads(json.dumps(data, default=str)))


def _not_found(what: str) -> JSONResponse:
    return JSONResponse({"error": f"{what} does not exist", "exit_code": 2, "type": "BadInput"}, status_code=404)


async def health(request: Request) -> JSONResponse:
    owner = _owner(request)
    return JSONResponse({"ok": True, "store": str(owner.db), "pid": owner.pid,
                         "schema_version": await run_in_threadpool(owner.store.schema_version)})


async def op(request: Request) -> JSONResponse:
    name, store = request.path_params["name"], _owner(request).store
    fn = ops.OPS.get(name)
    if fn is None:
        return JSONResponse({"error": f"unknown operation '{name}' (known: {', '.join(sorted(ops.OPS))})",
                             "exit_code": 2, "type": "BadInput"}, status_code=404)
    kwargs = await request.json() if (await request.body()) else {}
    try:
        return _json(await run_in_threadpool(lambda: fn(store, **kwargs)))
    except TuneloopError as exc:
        return _error(exc)
    except TypeError as exc:
        return JSONResponse({"error": f"{name}: {exc}", "exit_code": 2, "type": "BadInput"}, status_code=400)


async def jobs_list(request: Request) -> JSONResponse:
    status, store = request.query_params.get("status"), _owner(request).store
    return _json({"jobs": await run_in_threadpool(lambda: store_jobs.list_jobs(store, status=status))})


async def job_get(request: Request) -> JSONResponse:
    row = await run_in_threadpool(store_jobs.get_job, _owner(request).store, int(request.path_params["id"]))
    return _not_found(f"job {request.path_params['id']}") if row is None else _json(row)


async def job_submit(request: Request) -> JSONResponse:
    body, owner = await request.json(), _owner(request)
    kind, params = body.get("kind"), dict(body.get("params") or {})
    try:
        job_id = await run_in_threadpool(lambda: owner.submit(kind, params, created_by=params.get("user")))
    except TuneloopError as exc:
        return _error(exc)
    return JSONResponse({"job": job_id})


async def job_cancel(request: Request) -> JSONResponse:
    job_id = int(request.path_params["id"])
    status = await run_in_threadpool(_owner(request).jobs.cancel, job_id)
    return _not_found(f"job {job_id}") if status is None else JSONResponse({"job": job_id, "status": status})


async def cli(request: Request) -> StreamingResponse:
    body = await request.json()
    argv, stdin = [str(a) for a in body.get("argv", [])], str(body.get("stdin") or "")
    return StreamingResponse(_cli_stream(_owner(request), argv, stdin, body.get("user")), media_type="application/x-ndjson")


def build_app(owner) -> Starlette:
    """The API of ``owner`` (:class:`review_app.server.owner.Owner`); every route needs its token."""
    routes = [
        Route("/v1/health", health), Route("/v1/ops/{name}", op, methods=["POST"]),
        Route("/v1/jobs", jobs_list), Route("/v1/jobs", job_submit, methods=["POST"]),
        Route("/v1/jobs/{id:int}", job_get), Route("/v1/jobs/{id:int}/cancel", job_cancel, methods=["POST"]),
        Route("/v1/cli", cli, methods=["POST"]),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(_Auth, token=owner.token)])
    app.state.owner = owner
    return app


def _cli_stream(owner, argv: list[str], stdin: str, user: str | None):
    """Start the command (as a job when it is long) and yield its output as JSON lines."""
    q: queue.Queue = queue.Queue()

    def emit(stream: str, text: str) -> None:
        q.put({stream: text})

    kind = job_kind(argv)
    job_id = None
    if owner.cli_main is None:
        yield json.dumps({"stderr": "this owner does not run tuneloop commands (started without the CLI)\n"}) + "\n"
        yield json.dumps({"exit": 1}) + "\n"
        return
    if kind is None:
        threading.Thread(target=lambda: q.put({"exit": run_cli(owner.cli_main, owner.store, argv, stdin, emit)}), daemon=True,
                         name="tuneloop-cli").start()
    else:
        def job_fn(ctx) -> dict:
            def emit_and_log(stream: str, text: str) -> None:
                emit(stream, text)
                ctx.log(text)

            code = run_cli(owner.cli_main, owner.store, argv, stdin, emit_and_log)
            q.put({"exit": code})
            if code != 0:
                from .jobs import JobFailed

                raise JobFailed(f"tuneloop {' '.join(argv)} exited with code {code}", {"exit_code": code})
            return {"exit_code": code}

        job_id = owner.jobs.submit(kind, "tuneloop " + " ".join(argv), job_fn, params={"argv": argv}, created_by=user)
        yield json.dumps({"job": job_id}) + "\n"
    while True:
        try:
            item = q.get(timeout=2.0)
        except queue.Empty:
            if job_id is not None:
                row = store_jobs.get_job(owner.store, job_id)
                if row and row["status"] in store_jobs.FINAL and q.empty():  # cancelled while queued, or the owner stopped
                    yield json.dumps({"stderr": f"job {job_id} {row['status']}: {row['error'] or ''}\n"}) + "\n"
                    yield json.dumps({"exit": 1}) + "\n"
                    return
            yield json.dumps({"hb": 1}) + "\n"
            continue
        yield json.dumps(item) + "\n"
        if "exit" in item:
            return
