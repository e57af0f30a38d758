"""End to end: the app runs; a Playwright annotator keeps labelling while the CLI imports,
snapshots, trains and evaluates (sending errors to review) on the same store through the app."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import polars as pl
import pytest

from curation import LabelSchema, Store, import_file
from curation.store import jobs as store_jobs
from curation.store.review import QueueFilter
from review_app.auth import User, add_user
from review_app.server.ownerfile import read_owner
from tests.conftest import _banking_frame
from tests.review_app.browser import ARGS, CHROMIUM, free_port, login, settle

from .conftest import env_for_children, stop

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _app(db: Path, cwd: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "review_app.cli", "--db", str(db), "app", "--port", str(port)],
                            cwd=str(cwd), env=env_for_children(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 90
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok" and read_owner(db):
                return proc, url
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(proc.stdout.read())
        time.sleep(0.3)


def _shown_id(page) -> int:
    caption = page.get_by_text(re.compile(r"^Example \d+")).first
    caption.wait_for(timeout=60_000)
    return int(re.match(r"Example (\d+)", caption.inner_text()).group(1))


def _label_one(page) -> int | None:
    """Press 1 on the item shown; return its id once the next item shows (None: the press was lost)."""
    page.get_by_role("button", name=re.compile(r"^1 · card_arrival")).first.wait_for(state="visible", timeout=60_000)
    settle(page)
    shown = _shown_id(page)
    page.keyboard.press("1")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page.wait_for_timeout(200)
        if _shown_id(page) != shown:
            return shown
    return None


def _cli(db: Path, cwd: Path, *args: str) -> dict:
    r = subprocess.run([sys.executable, "-m", "review_app.cli", "--db", str(db), "--json", *args], cwd=str(cwd),
                       env=env_for_children(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"tuneloop {' '.join(args)}: {r.stderr}"
    return json.loads(r.stdout)


def test_annotator_keeps_labelling_while_the_cli_imports_snapshots_trains_and_evaluates(tmp_path, tiny_bert):
    from playwright.sync_api import sync_playwright

    db = tmp_path / "e2e.duckdb"
    with Store(db) as s:
        rows = "".join(f"t{i},customer message number {i} about a card,\n" for i in range(1, 301))
        (tmp_path / "t.csv").write_text("id,text,label\n" + rows)
        import_file(s, tmp_path / "t.csv", "tickets", label_schema=LabelSchema(labels=("card_arrival", "card_linking")))
        add_user(s, "ana", "annotator", "ana-demo")
    _banking_frame().select(pl.format("w{}", "example_id").alias("id"), "text", "label").write_csv(tmp_path / "work.csv")
    (tmp_path / "new.csv").write_text("id,text\nn1,my card never came\nn2,what is the exchange rate today\n")

    proc, url = _app(db, tmp_path)
    results: dict = {}

    def engineer() -> None:
        try:
            results["import"] = _cli(db, tmp_path, "import", "work.csv", "--dataset", "work", "--status", "approved")
            results["import_new"] = _cli(db, tmp_path, "import", "new.csv", "--dataset", "work")
            results["snapshot"] = _cli(db, tmp_path, "snapshot", "create", "--dataset", "work", "--seed", "3")
            results["train"] = _cli(db, tmp_path, "train", "--snapshot", results["snapshot"]["id"], "--base-model", tiny_bert,
                                    "--epochs", "1", "--batch-size", "8", "--threads", "1")
            results["evaluate"] = _cli(db, tmp_path, "evaluate", "--run", results["train"]["run"], "--send-errors-to-review",
                                       "--no-baseline", "--bootstrap", "0")
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            results["error"] = exc

    saved: list[int] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                login(page, url, "ana", "ana-demo", wait_for="Example 1")
                worker = threading.Thread(target=engineer, daemon=True)
                worker.start()
                while (worker.is_alive() or len(saved) < 3) and len(saved) < 299:
                    if (done := _label_one(page)) is not None:
                        saved.append(done)
                worker.join(600)
            finally:
                browser.close()
    finally:
        stop(proc, timeout=60)
    assert "error" not in results, results.get("error")
    sent = results["evaluate"]["loop_back"]["example_ids"]
    with Store(db) as s:
        labelled = [r for i in range(1, 301) for r in s.revisions(i) if r["action"] == "label"]
        jobs = {j["kind"]: j["status"] for j in store_jobs.list_jobs(s)}
        from review_app import services as svc

        served, reviewer = set(), User("rita", "reviewer")
        while (item := svc.next_item(s, reviewer, "work", QueueFilter(stage="all", exclude_ids=tuple(served)))) is not None:
            served.add(item.id)
    print(f"annotator saves while the CLI worked: {len(saved)}; sent to review: {len(sent)}")  # shown with pytest -s
    assert len(saved) >= 3 and {r["actor"] for r in labelled} == {"ana"}
    assert sorted(r["example_id"] for r in labelled) == sorted(saved)  # every save landed, once
    assert jobs == {"import": "completed", "train": "completed", "evaluate": "completed"}  # ran through the owner
    assert sent and set(sent) <= served  # the sent items are in the review queue
