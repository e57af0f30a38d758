"""The owner: one per store, its API only with the token, the owner file's mode, orphan recovery."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys

import pytest

from curation import Store
from curation.store import jobs as store_jobs
from curation.store import runs as store_runs
from review_app.server.errors import BadToken, InsecureTokenFile, SecondOwner
from review_app.server.owner import Owner
from review_app.server.ownerfile import owner_path, read_owner
from review_app.server.remote import Server, call, find_server

from .conftest import env_for_children, start_serve, stop


def test_owner_file_is_created_with_mode_600_and_names_the_api(owner):
    path = owner_path(owner.db)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    info = read_owner(owner.db)
    assert (info.url, info.pid, info.token) == (owner.url, os.getpid(), owner.token)
    assert info.url.startswith("http://127.0.0.1:")


def test_api_answers_with_the_token_and_refuses_without_or_with_a_wrong_one(owner):
    server = find_server(owner.db)
    assert call(server, "GET", "/v1/health")["store"] == str(owner.db)
    for bad in ("", "wrong-token"):
        with pytest.raises(BadToken, match="refused the token from test .wrong or stale token"):
            call(Server(server.url, bad, "test"), "GET", "/v1/health")


def test_stale_token_from_an_earlier_start_is_refused(tmp_path):
    with Owner(tmp_path / "s.duckdb") as first:
        old = find_server(first.db)
    with Owner(tmp_path / "s.duckdb") as second:
        with pytest.raises(BadToken):
            call(Server(find_server(second.db).url, old.token, "an old copy"), "GET", "/v1/health")


def test_client_refuses_an_owner_file_other_users_can_read(owner):
    os.chmod(owner_path(owner.db), 0o644)
    with pytest.raises(InsecureTokenFile, match=r"readable by other users \(mode 644\); run `chmod 600"):
        find_server(owner.db)


def test_owner_file_is_removed_on_stop_and_a_stopped_owner_is_not_found(tmp_path):
    with Owner(tmp_path / "s.duckdb") as o:
        assert find_server(o.db) is not None
    assert not owner_path(tmp_path / "s.duckdb").exists()
    assert find_server(tmp_path / "s.duckdb") is None


def test_second_owner_in_the_same_process_is_refused(owner):
    with pytest.raises(SecondOwner, match="already has an owner .this process"):
        Owner(owner.db)


@pytest.mark.slow
def test_second_owner_in_another_process_is_refused(tmp_path):
    db = tmp_path / "s.duckdb"
    proc = start_serve(db)
    try:
        with pytest.raises(SecondOwner, match=rf"already has an owner \(pid {proc.pid}, API http://127.0.0.1:"):
            Owner(db)
        assert read_owner(db).pid == proc.pid  # the refused owner did not touch the file
    finally:
        stop(proc)


@pytest.mark.slow
def test_sigkilled_owner_leaves_its_job_and_run_failed_on_the_next_start(tmp_path):
    db = tmp_path / "s.duckdb"
    script = ("import os, sys, time; from review_app.server.owner import Owner; from curation.store import jobs as store_jobs, runs as store_runs\n"
              f"o = Owner({str(db)!r})\n"
              "j = store_jobs.create_job(o.store, 'train', 'train snapshot=x'); store_jobs.start_job(o.store, j)\n"
              "store_runs.insert_run(o.store, 'r1', snapshot_id='x', dataset='d', task='classification', base_model='b', config={})\n"
              "print('ready', flush=True); time.sleep(600)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], env=env_for_children(), stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert find_server(db) is None  # its owner file is stale: the pid is gone
    with Owner(db, api=False) as o:
        assert o.recovered == {"jobs": 1, "runs": 1}
        job = store_jobs.list_jobs(o.store)[0]
        run = store_runs.get_run(o.store, "r1")
    assert job["status"] == "failed" and f"(pid {proc.pid}) stopped before it finished" in job["error"]
    assert run["status"] == "failed" and run["error"].startswith(f"interrupted: the process that trained it (pid {proc.pid})")


def test_running_rows_of_this_process_are_not_touched_when_it_opens_the_file_again(tmp_path):
    with Store(tmp_path / "s.duckdb") as s:
        store_runs.insert_run(s, "r1", snapshot_id="x", dataset="d", task="classification", base_model="b", config={})
        with Store(tmp_path / "s.duckdb") as again:  # same process: DuckDB shares the instance
            assert again.recovered == {"jobs": 0, "runs": 0}
        assert store_runs.get_run(s, "r1")["status"] == "running"
