"""The ``tuneloop`` command line: parses options, calls one library function, prints the result.

Global options ``--db`` and ``--json`` come before the command. Exit codes: 0 success,
2 bad input (one ``file:row:field: message`` line per problem on stderr, nothing written),
1 any other failure. Project errors never print a traceback.

Layout: :mod:`.core` (apps, global options, entry point), :mod:`.options` (shared option types),
:mod:`.output` (JSON / human / tables / progress), one module per command group. The commands
are registered below, in the order ``tuneloop --help`` lists them.
"""

from . import curate, data, evaluate, owner, snapshot, store, train
from .core import app, jobs_app, main, snapshot_app, user_app

for _name, _fn in [
    ("init", store.init), ("demo", store.demo), ("import", data.import_cmd), ("export", data.export),
    ("scrub", curate.scrub), ("dedup", curate.dedup), ("curate-at-scale", curate.curate_at_scale_cmd),
    ("check", curate.check), ("status", store.status), ("train", train.train), ("runs", train.runs),
    ("generate", train.generate), ("evaluate", evaluate.evaluate), ("predict", evaluate.predict),
    ("app", owner.app_cmd), ("serve", owner.serve_cmd),
]:
    app.command(_name)(_fn)
user_app.command("add")(store.user_add)
for _name, _fn in [("create", snapshot.snapshot_create), ("export", snapshot.snapshot_export),
                   ("diff", snapshot.snapshot_diff), ("list", snapshot.snapshot_list), ("show", snapshot.snapshot_show),
                   ("usage", snapshot.snapshot_usage)]:
    snapshot_app.command(_name)(_fn)
app.add_typer(user_app, name="user")
app.add_typer(snapshot_app, name="snapshot")
jobs_app.command("list")(owner.jobs_list)
jobs_app.command("cancel")(owner.jobs_cancel)
app.add_typer(jobs_app, name="jobs")

__all__ = ["app", "main"]
