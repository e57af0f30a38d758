"""End to end in a real browser: Debian's Chromium driven by Playwright against `streamlit run`.

An annotator labels three items with the keyboard only, a reviewer approves them with the
keyboard, then the store and the revisions are checked. Saves a screenshot for the README.
"""

from __future__ import annotations

import os
import re

import pytest

from curation import LabelSchema, Store, import_file
from review_app.auth import add_user

from .browser import ARGS, CHROMIUM, ROOT, login, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def server(tmp_path, write):
    db = tmp_path / "e2e.duckdb"
    with Store(db) as s:
        rows = "".join(f"t{i},customer message number {i} about a card,\n" for i in range(1, 6))
        import_file(s, write("a.csv", "id,text,label\n" + rows), "tickets",
                    label_schema=LabelSchema(labels=("card_arrival", "card_linking", "exchange_rate")))
        add_user(s, "ana", "annotator", "ana-demo")
        add_user(s, "rita", "reviewer", "rita-demo")
        s.update_dataset("tickets", guidelines="## What a good label looks like\n- Pick the **one intent** the "
                         "customer needs resolved now.\n- *card_arrival*: a card not yet received.")
    with serve(db) as (url, proc):
        yield url, db, proc


def _login(page, url: str, name: str, password: str) -> None:
    login(page, url, name, password, wait_for="Example 1")


def _settle(page) -> None:
    """Wait until Streamlit has finished the current run (its "running" widget is gone)."""
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000)
    page.wait_for_timeout(300)


def _press_and_wait(page, key: str, next_caption: str, button: str) -> None:
    """Press ``key`` once the button it triggers is on the page, then wait for the next item.

    Shortcut listeners exist only once their button has rendered, and the caption of the item
    renders before the buttons: waiting for the caption alone lost key presses on a busy machine.
    """
    page.get_by_role("button", name=button).first.wait_for(state="visible", timeout=60_000)
    _settle(page)
    page.keyboard.press(key)
    page.get_by_text(next_caption).first.wait_for(timeout=60_000)


def test_annotator_labels_and_reviewer_approves_with_the_keyboard(server):
    from playwright.sync_api import sync_playwright

    url, db, proc = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            _login(page, url, "ana", "ana-demo")
            _press_and_wait(page, "1", "Example 2", re.compile(r"^1 · card_arrival"))
            _press_and_wait(page, "2", "Example 3", re.compile(r"^2 · card_linking"))
            _press_and_wait(page, "1", "Example 4", re.compile(r"^1 · card_arrival"))
            # the README's screenshot; refreshed only on request so test runs leave the tree clean
            shot = ROOT / "docs" / "queue.png" if os.environ.get("TUNELOOP_SCREENSHOT") else db.with_suffix(".png")
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            page.context.close()

            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            _login(page, url, "rita", "rita-demo")
            _press_and_wait(page, "a", "Example 2", re.compile(r"^Approve"))
            _press_and_wait(page, "a", "Example 3", re.compile(r"^Approve"))
            page.get_by_role("button", name=re.compile(r"^Approve")).first.wait_for(state="visible", timeout=60_000)
            _settle(page)
            page.keyboard.press("a")
            page.get_by_text("Nothing left in this queue").wait_for(timeout=30_000)
        finally:
            browser.close()
    proc.terminate()
    proc.wait(timeout=20)
    with Store(db) as s:
        got = [(s.get_example(i)["label"], s.get_example(i)["status"], s.get_example(i)["version"]) for i in range(1, 5)]
        actions = [[(r["actor"], r["action"]) for r in s.revisions(i)][1:] for i in range(1, 4)]
    assert got == [("card_arrival", "approved", 3), ("card_linking", "approved", 3), ("card_arrival", "approved", 3),
                   (None, "imported", 1)]
    assert actions == [[("ana", "label"), ("rita", "approve")]] * 3
