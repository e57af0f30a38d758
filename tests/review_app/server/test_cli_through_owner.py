"""`tuneloop` while an owner holds the store: commands run there, with the same output and exit codes."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curation import Store
from curation.store import jobs as store_jobs
from review_app.server.ownerfile import owner_path
from review_app.server.remote import call, find_server

from .conftest import env_for_children, start_serve, stop

pytestmark = pytest.mark.slow


def tl(db: Path, *args: str, cwd: Path, stdin: str | None = None, env: dict | None = None, timeout: float = 300):
    return subprocess.run([sys.executable, "-m", "review_app.cli", "--db", str(db), *args], cwd=str(cwd),
                          env=env or env_for_children(), input=stdin, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def served(tmp_path):
    db = tmp_path / "s.duckdb"
    (tmp_path / "a.csv").write_text("id,text,label\nt1,card charged twice,billing\nt2,cannot log in,login\n")
    proc = start_serve(db)
    yield db, proc
    stop(proc)


def test_commands_run_in_the_owner_with_the_same_output_json_and_exit_codes(served, tmp_path):
    db, proc = served
    work = tmp_path / "work"
    work.mkdir()
    (work / "b.csv").write_text("id,text,label\nb1,where is my card,card\nb2,rate please,rate\n")
    r = tl(db, "--json", "import", "b.csv", "--dataset", "d", cwd=work)  # a path relative to the client's cwd
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["inserted"] == 2
    r = tl(db, "status", cwd=work)
    assert r.returncode == 0 and "d" in r.stdout
    r = tl(db, "--json", "export", "--dataset", "d", "--out", "out.jsonl", cwd=work)
    assert r.returncode == 0 and json.loads(r.stdout)["rows"] == 2
    assert len((work / "out.jsonl").read_text().splitlines()) == 2  # written where the client asked
    r = tl(db, "import", "missing.csv", "--dataset", "d", cwd=work)
    assert r.returncode == 2 and "missing.csv" in r.stderr and r.stdout == ""
    r = tl(db, "export", "--dataset", "nope", "--out", "x.jsonl", cwd=work)
    assert r.returncode == 2 and r.stderr.startswith("dataset 'nope' does not exist")
    r = tl(db, "user", "add", "maria", "--role", "reviewer", "--password-stdin", cwd=work, stdin="s3cret!\n")
    assert r.returncode == 0 and r.stdout.strip() == "user 'maria' added as reviewer"
    info = find_server(db)
    jobs = call(info, "GET", "/v1/jobs")["jobs"]
    assert [j["kind"] for j in jobs] == ["import", "import"]  # long commands ran as jobs of the owner
    assert jobs[1]["status"] == "completed" and jobs[0]["status"] == "failed"


def test_the_same_commands_without_an_owner_give_the_same_output(tmp_path):
    db = tmp_path / "s.duckdb"
    (tmp_path / "b.csv").write_text("id,text,label\nb1,where is my card,card\nb2,rate please,rate\n")
    local = [tl(db, "--json", "import", "b.csv", "--dataset", "d", cwd=tmp_path), tl(db, "status", cwd=tmp_path)]
    db2 = tmp_path / "t.duckdb"
    proc = start_serve(db2)
    try:
        remote = [tl(db2, "--json", "import", "b.csv", "--dataset", "d", cwd=tmp_path), tl(db2, "status", cwd=tmp_path)]
    finally:
        stop(proc)
    strip = lambda r: {k: v for k, v in json.loads(r.stdout).items() if k not in ("source_id", "seconds")}  # noqa: E731
    assert strip(local[0]) == strip(remote[0])
    assert local[1].stdout == remote[1].stdout and local[1].returncode == remote[1].returncode == 0


def test_wrong_token_exits_1_with_what_to_do(served, tmp_path):
    db, _ = served
    r = tl(db, "status", cwd=tmp_path, env={**env_for_children(), "TUNELOOP_TOKEN": "stale"})
    assert r.returncode == 1
    assert "refused the token from TUNELOOP_TOKEN (wrong or stale token" in r.stderr
    assert "unset TUNELOOP_TOKEN" in r.stderr


def test_second_owner_is_refused_by_serve_and_app(served, tmp_path):
    db, proc = served
    for cmd in (["serve"], ["app", "--port", "0"]):
        r = tl(db, *cmd, cwd=tmp_path, timeout=60)
        assert r.returncode == 1
        assert f"the store already has an owner (pid {proc.pid}, API http://127.0.0.1:" in r.stderr


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_owner_stopped_mid_command_gives_a_clear_error_and_leaves_nothing_half_done(tmp_path, sig):
    db = tmp_path / "s.duckdb"
    rows = 400_000
    with (tmp_path / "big.csv").open("w") as fh:
        fh.write("id,text\n")
        fh.writelines(f"r{i},customer message number {i} about a card\n" for i in range(rows))
    proc = start_serve(db)
    try:
        cli = subprocess.Popen([sys.executable, "-m", "review_app.cli", "--db", str(db), "import", "big.csv", "--dataset", "big"],
                               cwd=str(tmp_path), env=env_for_children(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        server = find_server(db)
        deadline = time.monotonic() + 60
        while not [j for j in call(server, "GET", "/v1/jobs")["jobs"] if j["status"] == "running"]:
            assert time.monotonic() < deadline and cli.poll() is None, cli.communicate()
            time.sleep(0.05)
        os.kill(proc.pid, sig)
        proc.wait(60)
        out, err = cli.communicate(timeout=60)
    finally:
        stop(proc)
    assert cli.returncode == 1, (out, err)
    if sig == signal.SIGKILL:
        assert "stopped while running `tuneloop --db" in err and "import big.csv --dataset big` (job 1)" in err
        assert "was not committed" in err
        assert owner_path(db).exists() and find_server(db) is None  # the stale file of a dead owner is ignored
    else:  # a clean stop: the owner ended the job and told the client why
        assert "job 1 stopped: the server stopped; the step it was in was rolled back" in err
        assert not owner_path(db).exists()
    with Store(db) as s:  # the next process to open the store
        assert s.recovered["jobs"] == (1 if sig == signal.SIGKILL else 0)
        assert s.list_datasets() == [] or s.status_counts().get("big", {}).get("imported", 0) == 0
        job = store_jobs.list_jobs(s)[0]
    assert job["status"] == "failed" and re.search(r"stopped before (it|job 1) finished", job["error"])
    r = tl(db, "--json", "status", cwd=tmp_path)  # no owner now: the CLI opens the file itself
    assert r.returncode == 0 and json.loads(r.stdout) == {"datasets": {}}


def test_password_prompt_happens_on_the_client_and_the_owner_gets_it_on_stdin(served, tmp_path):
    db, _ = served
    r = tl(db, "user", "add", "bob", "--role", "annotator", cwd=tmp_path, stdin="bob-pass\nbob-pass\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("user 'bob' added as annotator")
    assert call(find_server(db), "POST", "/v1/ops/jobs", {})["jobs"] == []  # a quick command: no job


def test_owner_file_of_a_dead_owner_whose_pid_lives_on_is_ignored(tmp_path):
    from review_app.server.ownerfile import OwnerInfo, write_owner

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = tmp_path / "s.duckdb"
    Store(db).close()
    write_owner(db, OwnerInfo(f"http://127.0.0.1:{port}", "old", os.getpid(), str(db), "2026-01-01T00:00:00"))
    r = tl(db, "--json", "status", cwd=tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout) == {"datasets": {}}


def test_scrub_in_the_owner_rewrites_the_file_and_the_owner_keeps_serving(served, tmp_path):
    db, proc = served
    (tmp_path / "p.csv").write_text("id,text,label\np1,\"my name is Holly Jones-Clayton, holly@example.org\",x\n")
    assert tl(db, "import", "p.csv", "--dataset", "p", cwd=tmp_path).returncode == 0
    r = tl(db, "--json", "scrub", "--dataset", "p", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["file_rewritten"] is True
    r = tl(db, "status", cwd=tmp_path)  # the owner reopened the rewritten file and still answers
    assert r.returncode == 0 and "p" in r.stdout
    stop(proc)
    data = b"".join(f.read_bytes() for f in (db, db.with_name(db.name + ".wal")) if f.exists())
    assert b"Jones-Clayton" not in data and b"holly@example.org" not in data
