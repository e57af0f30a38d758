"""Review you can trust at full speed, in a real browser (Debian's Chromium, 1366x768).

Keys pressed 60 ms apart change only items that were on screen; a bulk approve after another
user's change is reported stale; a reload keeps the session; a download needs a live session;
structured labels work from the keyboard alone; the actions stay above the fold.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import pytest

from curation import LabelSchema, Store, import_file
from review_app.auth import add_user

from .browser import ARGS, CHROMIUM, login, serve, settle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
LABELS = ("card_arrival", "card_linking", "exchange_rate")
VIEW = {"width": 1366, "height": 768}

# Remember, for every key press, which example the page showed at that moment.
_WATCH_KEYS = """() => {
  window.__shown = [];
  document.addEventListener('keydown', (e) => {
    const cap = [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
      .map(c => c.innerText).find(t => /^Example \\d+/.test(t)) || '';
    const m = cap.match(/^Example (\\d+)/);
    window.__shown.push([e.key, m ? Number(m[1]) : null]);
  }, true);
}"""


@pytest.fixture
def store_path(tmp_path, write):
    db = tmp_path / "e2e.duckdb"
    with Store(db) as s:
        rows = "".join(f"t{i},customer message number {i} about a card,\n" for i in range(1, 31))
        import_file(s, write("a.csv", "id,text,label\n" + rows), "tickets", label_schema=LabelSchema(labels=LABELS))
        schema = LabelSchema(fields=(("category", ("billing", "account")), ("component", ("web", "ios", "android")),
                                     ("priority", ("low", "high"))))
        import_file(s, write("b.csv", "id,text\nb1,the app crashes when I pay\nb2,cannot log in\n"), "bugs",
                    label_schema=schema)
        long = "A very long complaint. " * 900  # ~20,000 characters
        import_file(s, write("c.csv", f"id,text,label\nc1,{long},card_arrival\n"), "long",
                    label_schema=LabelSchema(labels=LABELS), status="needs_review")
        add_user(s, "ana", "annotator", "ana-demo")
        add_user(s, "rita", "reviewer", "rita-demo")
        add_user(s, "adam", "admin", "adam-demo")
    return db


def _browser(pw):
    return pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)


def _pick_dataset(page, name: str) -> None:
    page.get_by_label("Dataset").first.click()
    page.get_by_role("option", name=name, exact=True).click()
    settle(page)
    page.keyboard.press("Escape")  # leave the dataset box (keys typed there would search datasets)


def test_keys_60_ms_apart_change_only_items_that_were_on_screen(store_path):
    from playwright.sync_api import sync_playwright

    with serve(store_path) as (url, proc), sync_playwright() as pw:
        browser = _browser(pw)
        page = browser.new_page(viewport=VIEW)
        login(page, url, "ana", "ana-demo")
        _pick_dataset(page, "tickets")
        page.evaluate(_WATCH_KEYS)
        for _ in range(6):
            page.get_by_role("button", name=re.compile(r"^2 · card_linking")).first.wait_for(timeout=60_000)
            settle(page)
            page.keyboard.press("2")
            page.wait_for_timeout(60)
            page.keyboard.press("3")
            settle(page)
        pressed = page.evaluate("window.__shown")
        browser.close()
        proc.terminate()
        proc.wait(timeout=20)
    key_label = {"2": "card_linking", "3": "exchange_rate"}
    allowed = {(shown, key_label[key]) for key, shown in pressed if key in key_label}
    with Store(store_path) as s:
        labelled = [(r["example_id"], r["after"]["label"]) for i in range(1, 31) for r in s.revisions(i)
                    if r["action"] == "label"]
    assert len(pressed) == 12 and len(labelled) >= 6
    # every label landed on an example that was on screen when its key was pressed
    assert set(labelled) <= allowed, (labelled, pressed)
    assert len({eid for eid, _ in labelled}) == len(labelled)  # no example labelled twice


def test_keys_pressed_while_a_slow_browser_draws_the_next_item_change_only_items_on_screen(store_path):
    """The queue's buttons keep their keys from item to item, so a key pressed after the server has
    drawn the next item but before the browser shows it must still not act on that item (the
    browser's CPU is slowed 6x so that this window is wide: without the shown-item token, about
    half of these presses labelled an item nobody saw)."""
    from playwright.sync_api import sync_playwright

    with serve(store_path) as (url, proc), sync_playwright() as pw:
        browser = _browser(pw)
        page = browser.new_page(viewport=VIEW)
        login(page, url, "ana", "ana-demo")
        _pick_dataset(page, "tickets")
        page.context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": 6})
        page.evaluate(_WATCH_KEYS)
        for _ in range(8):
            page.get_by_role("button", name=re.compile(r"^2 · card_linking")).first.wait_for(timeout=60_000)
            settle(page)
            for key in "231":
                page.keyboard.press(key)
                page.wait_for_timeout(30)
            settle(page)
        pressed = page.evaluate("window.__shown")
        browser.close()
        proc.terminate()
        proc.wait(timeout=20)
    key_label = {"1": "card_arrival", "2": "card_linking", "3": "exchange_rate"}
    allowed = {(shown, key_label[key]) for key, shown in pressed}
    with Store(store_path) as s:
        labelled = [(r["example_id"], r["after"]["label"]) for i in range(1, 31) for r in s.revisions(i)
                    if r["action"] == "label"]
    assert len(pressed) == 24 and len(labelled) >= 8
    assert set(labelled) <= allowed, (labelled, pressed)
    assert len({eid for eid, _ in labelled}) == len(labelled)


def test_bulk_approve_after_another_users_change_reports_it_stale(store_path):
    from playwright.sync_api import sync_playwright

    with serve(store_path) as (url, proc), sync_playwright() as pw:
        browser = _browser(pw)
        rita = browser.new_context(viewport=VIEW).new_page()
        login(rita, url, "rita", "rita-demo", wait_for="Signed in as")
        rita.goto(f"{url}/browse")  # a new Streamlit session: the login cookie carries over
        rita.get_by_text("examples shown").first.wait_for(timeout=60_000)
        _pick_dataset(rita, "tickets")
        rita.get_by_text("30 examples shown").first.wait_for(timeout=60_000)
        # meanwhile the annotator labels example 1 (the first row rita sees, unlabelled, version 1)
        ana = browser.new_context(viewport=VIEW).new_page()
        login(ana, url, "ana", "ana-demo")
        _pick_dataset(ana, "tickets")
        ana.get_by_role("button", name=re.compile(r"^1 · card_arrival")).first.wait_for(timeout=60_000)
        settle(ana)
        ana.keyboard.press("1")
        ana.get_by_text("Example 2").first.wait_for(timeout=60_000)
        # rita ticks the first row of the table (the row-marker column of the grid) and approves
        grid = rita.locator('[data-testid="stDataFrame"]').first
        box = grid.bounding_box()
        rita.mouse.click(box["x"] + 14, box["y"] + 35 + 17)
        rita.get_by_text("Bulk actions (1 selected)").wait_for(timeout=60_000)
        rita.get_by_role("button", name="Approve selected").click()
        dialog = rita.get_by_role("dialog")
        dialog.get_by_text("Approve these 1 examples, as shown?").wait_for(timeout=60_000)
        dialog.get_by_role("button", name="Yes, do it").click()
        rita.get_by_text(re.compile(r"changed by someone else .* \(stale\): 1\b")).wait_for(timeout=60_000)
        browser.close()
        proc.terminate()
        proc.wait(timeout=20)
    with Store(store_path) as s:
        ex = s.get_example(1)
        actions = [r["action"] for r in s.revisions(1)]
    assert (ex["label"], ex["status"]) == ("card_arrival", "needs_review") and "bulk_approve" not in actions


def test_reload_keeps_the_session_and_logout_ends_it(store_path):
    from playwright.sync_api import sync_playwright

    with serve(store_path) as (url, _), sync_playwright() as pw:
        browser = _browser(pw)
        ctx = browser.new_context(viewport=VIEW)
        page = ctx.new_page()
        login(page, url, "ana", "ana-demo")
        settle(page)
        page.reload()
        page.get_by_text(re.compile(r"^Example \d+")).first.wait_for(timeout=60_000)
        assert page.get_by_label("User name").count() == 0
        second = ctx.new_page()  # a new tab
        second.goto(url)
        second.get_by_text(re.compile(r"^Example \d+")).first.wait_for(timeout=60_000)
        page.get_by_role("button", name="Log out").click()
        page.get_by_label("User name").wait_for(timeout=60_000)
        second.reload()
        second.get_by_label("User name").wait_for(timeout=60_000)
        browser.close()


def test_a_download_needs_a_live_session(store_path):
    from playwright.sync_api import sync_playwright

    with serve(store_path) as (url, _), sync_playwright() as pw:
        browser = _browser(pw)
        page = browser.new_context(viewport=VIEW, accept_downloads=True).new_page()
        login(page, url, "adam", "adam-demo", wait_for="Signed in as")
        page.goto(f"{url}/import")
        button = page.get_by_role("button", name=re.compile("Download CSV"))
        button.wait_for(timeout=60_000)
        settle(page)
        assert not re.search(r"(?<!static)/media/[0-9a-f]{8}", page.content())  # nothing prepared before the click
        with page.expect_download(timeout=60_000) as dl:
            button.click()
        download = dl.value
        assert b"prompt,response" in open(download.path(), "rb").read().splitlines()[0]
        media_url = download.url
        assert "/media/" in media_url
        page.get_by_role("button", name="Log out").click()
        page.get_by_label("User name").wait_for(timeout=60_000)
        settle(page)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(media_url, timeout=10)
        assert refused.value.code in (403, 404)
        browser.close()


def test_structured_labels_by_keyboard_alone(store_path):
    from playwright.sync_api import sync_playwright

    with serve(store_path) as (url, proc), sync_playwright() as pw:
        browser = _browser(pw)
        page = browser.new_page(viewport=VIEW)
        login(page, url, "ana", "ana-demo")
        _pick_dataset(page, "bugs")
        page.get_by_text("Example 31").first.wait_for(timeout=60_000)
        settle(page)
        page.keyboard.press("/")
        page.keyboard.type("acc andr hi")
        page.keyboard.press("Enter")
        save = page.get_by_role("button", name="⏎ Save account, android, high")
        save.wait_for(timeout=60_000)
        settle(page)
        page.keyboard.press("Enter")
        page.get_by_text("Example 32").first.wait_for(timeout=60_000)
        browser.close()
        proc.terminate()
        proc.wait(timeout=20)
    with Store(store_path) as s:
        assert s.get_example(31)["label"] == "account, android, high"


def test_reviewer_actions_stay_above_the_fold_with_a_20000_character_text(store_path):
    from playwright.sync_api import sync_playwright

    with serve(store_path) as (url, _), sync_playwright() as pw:
        browser = _browser(pw)
        page = browser.new_page(viewport=VIEW)
        login(page, url, "rita", "rita-demo", wait_for="Signed in as")
        _pick_dataset(page, "long")
        approve = page.get_by_role("button", name="Approve (A)")
        approve.wait_for(timeout=60_000)
        settle(page)
        box = approve.bounding_box()
        assert box["y"] + box["height"] <= VIEW["height"], box
        assert page.get_by_text(re.compile(r"show all \(20,700 characters\)")).count() == 1
        browser.close()
