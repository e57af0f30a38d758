"""AppTest: the main path of every page, without a browser."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from curation import LabelSchema, Store, import_file
from review_app.auth import User, add_user

APP = str(Path(__file__).resolve().parents[2] / "review_app" / "app.py")


@pytest.fixture
def db(tmp_path, write, monkeypatch):
    path = tmp_path / "app.duckdb"
    with Store(path) as s:
        import_file(s, write("a.csv", "id,text,label\nt1,card charged twice,\nt2,cannot log in,\nt3,<script>alert(1)</script> **bold**,\n"),
                    "d", label_schema=LabelSchema(labels=("billing", "login", "shipping")))
        import_file(s, write("g.csv", "prompt,response\nhow do I reset?,Click reset.\n"), "gen")
        add_user(s, "ana", "annotator", "ana-pass")
        add_user(s, "rita", "reviewer", "rita-pass")
        add_user(s, "adam", "admin", "adam-pass")
    monkeypatch.setenv("TUNELOOP_DB", str(path))
    st.cache_resource.clear()
    yield path
    st.cache_resource.clear()  # closes nothing by itself; drop the cached store before the file goes


def k(at: AppTest, name: str) -> str:
    """The key of the queue widget ``name`` (stable across items), checked to be drawn once."""
    keys = [w.key for w in [*at.button, *at.text_input, *at.text_area, *at.selectbox] if w.key == name]
    assert len(keys) == 1, (name, keys)
    return keys[0]


def app_as(user: User | None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    if user is not None:
        at.session_state["user"] = user
        at.session_state["dataset"] = "d"
    return at.run()


def test_login_page_logs_in_and_shows_the_queue(db):
    at = app_as(None)
    at.text_input(key="login_name").input("ana")
    at.text_input(key="login_password").input("wrong")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["unknown user or wrong password"]
    at.text_input(key="login_password").input("ana-pass")
    at.button[0].click().run()
    assert at.session_state["user"] == User("ana", "annotator")
    assert at.title[0].value == "Queue · d"


def test_queue_label_with_a_button_then_next_item(db):
    at = app_as(User("ana", "annotator"))
    assert "Example 1" in at.caption[0].value
    assert at.text_input(key="queue_shown").value == "1.1"  # the token of the item on screen and its version
    at.button(key=k(at, "lab_1")).click().run()  # keys follow the schema order: 1 is billing
    assert "Example 2" in at.caption[0].value
    with _store(at) as s:
        ex = s.get_example(1)
    assert (ex["label"], ex["status"], ex["version"]) == ("billing", "needs_review", 2)


def _store(_at=None):
    """The app's cached store (same process): use it rather than opening the file a second time."""
    from contextlib import nullcontext

    from review_app.state import get_store

    return nullcontext(get_store())


def test_queue_search_box_label_and_undo_shows_what_it_undid(db):
    at = app_as(User("ana", "annotator"))
    at.text_input(key=k(at, "q")).input("shipp").run()
    assert at.button(key=k(at, "save_label")).label == "⏎ Save shipping"
    at.button(key=k(at, "save_label")).click().run()
    with _store(at) as s:
        assert s.get_example(1)["label"] == "shipping"
    at.button(key=k(at, "undo")).click().run()
    assert at.info[0].value == ("Undid your label of example 1: label 'shipping' → None, status 'needs\\_review' → "
                                "'imported'. It is shown below.")
    assert "Example 1" in at.caption[0].value  # the undone item is on screen again
    with _store(at) as s:
        assert (s.get_example(1)["label"], s.get_example(1)["status"]) == (None, "imported")


def test_a_key_for_an_item_no_longer_on_screen_is_dropped(db):
    at = app_as(User("ana", "annotator"))
    at.button(key=k(at, "lab_2")).click().run()  # labels example 1, shows example 2
    assert "Example 2" in at.caption[0].value
    # the browser reports what it showed: as if example 2 had not reached the screen when the key came
    at.text_input(key="queue_shown").set_value("1.1")
    at.button(key=k(at, "lab_3")).click().run()
    assert at.info[0].value == "A key pressed while the next item was loading was ignored."
    with _store(at) as s:
        assert [s.get_example(i)["label"] for i in (1, 2)] == ["login", None]
    at.button(key=k(at, "lab_3")).click().run()  # example 2 is on screen now: the key acts on it
    with _store(at) as s:
        assert s.get_example(2)["label"] == "shipping"


def test_text_typed_for_one_item_does_not_carry_over_to_the_next(db):
    at = app_as(User("ana", "annotator"))
    at.text_input(key=k(at, "note_text")).input("odd wording")
    at.text_input(key=k(at, "q")).input("shipp").run()
    assert at.button(key=k(at, "save_label")).label == "⏎ Save shipping"
    at.button(key=k(at, "save_label")).click().run()
    assert "Example 2" in at.caption[0].value
    assert at.text_input(key="note_text").value == "" and at.text_input(key="q").value == ""
    assert at.button(key=k(at, "save_label")).label == "⏎ Save (choose a label first)"


def test_user_text_is_rendered_as_text_not_html(db):
    at = app_as(User("ana", "annotator"))
    at.button(key=k(at, "skip")).click().run()
    at.button(key=k(at, "skip")).click().run()
    body = next(h.proto.body for h in at.get("html") if "tl-text" in h.proto.body)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; **bold**" in body and "<script>" not in body


def test_reviewer_approves_and_a_stale_save_shows_the_conflict(db):
    at = app_as(User("ana", "annotator"))
    at.button(key=k(at, "lab_1")).click().run()
    rev = app_as(User("rita", "reviewer"))
    assert "Example 1" in rev.caption[0].value
    # meanwhile the annotator undoes her label: the reviewer's approve is now stale
    at.button(key=k(at, "undo")).click().run()
    rev.button(key=k(rev, "approve")).click().run()
    assert "**ana** changed example 1 while you were on it" in rev.warning[0].value
    rev.button(key="conflict_keep").click().run()
    with _store(rev) as s:
        assert s.get_example(1)["status"] == "imported"


def test_annotator_sees_no_approve_button_and_no_admin_pages(db):
    at = app_as(User("ana", "annotator"))
    assert [b.key for b in at.button if b.key in ("approve", "reject")] == []
    legend = next(c.value for c in at.sidebar.caption if c.value.startswith("**Keys**"))
    assert "`S` skip" in legend and "`A` approve" not in legend  # keys they cannot use are not advertised
    with pytest.raises(ValueError):
        at.switch_page("views/users.py")  # not registered for annotators


def test_generation_item_response_can_be_corrected(db):
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["user"] = User("ana", "annotator")
    at.session_state["dataset"] = "gen"
    at.run()
    at.text_area(key=k(at, "resp")).input("Click 'Forgot password' on the sign-in page.").run()
    at.button(key=k(at, "save_resp")).click().run()
    with _store(at) as s:
        ex = s.get_example(4)
    assert (ex["response"], ex["status"]) == ("Click 'Forgot password' on the sign-in page.", "needs_review")


def page_as(user: User, page: str) -> AppTest:
    at = app_as(user)
    return at.switch_page(f"views/{page}.py").run()


def test_browse_page_filters_and_searches(db):
    at = page_as(User("rita", "reviewer"), "browse")
    assert at.title[0].value == "Browse · d"
    at.text_input(key="b_search").input("log in").run()
    assert at.caption[0].value.startswith("1 examples shown (at most 500; rows 1–1)")
    assert at.dataframe[0].value["external_id"].tolist() == ["t2"]


def test_dashboard_renders_counts_and_charts(db):
    at = page_as(User("rita", "reviewer"), "dashboard")
    assert not at.exception
    assert [m.value for m in at.metric][:2] == ["3", "3"]


def test_history_page_lists_revisions(db):
    at = page_as(User("rita", "reviewer"), "history")
    at.number_input(key="h_id").set_value(1).run()
    assert at.dataframe[0].value["action"].tolist() == ["import"]


def test_admin_imports_a_file_and_sees_row_errors(db, tmp_path):
    at = page_as(User("adam", "admin"), "import_export")
    assert at.title[0].value == "Import / export"
    assert not at.exception


def test_admin_users_and_settings_pages(db):
    at = page_as(User("adam", "admin"), "users")
    at.text_input(key="u_name").input("maria")
    at.text_input(key="u_password").input("maria-pass")
    at.button(key="FormSubmitter:add_user-Add user").click().run()
    assert at.success[0].value == "User 'maria' added as annotator."
    at = page_as(User("adam", "admin"), "settings")
    at.text_area(key="s_guidelines").input("## Be kind")
    at.number_input(key="s_required").set_value(2)
    at.button(key="FormSubmitter:settings-Save settings").click().run()
    assert at.success[0].value == "Settings saved."
    with _store(at) as s:
        ds = s.get_dataset("d")
    assert (ds.guidelines, ds.settings["required_annotations"]) == ("## Be kind", 2)


def test_snapshots_page_creates_shows_and_exports(db):
    with _store() as s:
        for i in (1, 2, 3):
            s.update_example(i, 1, {"label": "billing", "status": "approved"}, actor="t", action="approve")
    at = page_as(User("adam", "admin"), "snapshots")
    at.text_input(key="snap_name").input("round-1")
    at.button(key="FormSubmitter:snap_create-Create snapshot").click().run()
    assert at.success[0].value.endswith("created: 3 items.")
    assert "round-1" in at.selectbox(key="snap_pick").options[0]
    assert any("Datasheet" in m.value or "datasheet" in m.value.lower() for m in at.markdown)
    at.selectbox(key="snap_fmt").select("parquet").run()
    at.button(key="snap_prepare").click().run()
    assert at.session_state["snap_zip"][0].endswith(".zip")



def test_duplicates_page_lists_groups_and_splits_one(db):
    from curation.dedup.run import DedupConfig, run_dedup

    with _store() as s:
        s.update_example(1, 1, {"text": "cannot log in"}, actor="t", action="edit")  # exact twin of example 2
        run_dedup(s, "d", DedupConfig(methods=("exact",)))
    at = page_as(User("rita", "reviewer"), "duplicates")
    assert at.caption[0].value.startswith("1 groups")
    out = [b for b in at.button if b.key.startswith("out_")]
    assert len(out) == 1
    out[0].click().run()
    assert at.success[0].value.startswith("Saved")
    with _store() as s:
        assert [s.get_example(i)["duplicate_of"] for i in (1, 2)] == [None, None]


def test_checks_page_shows_coverage_and_resolves_a_flag(db):
    from curation.store import review as store_review

    with _store() as s, s.transaction() as cur:
        store_review.add_flag(cur, 1, "d", "label_issue", "warning", 0.9, "looks like billing", "billing")
    at = page_as(User("rita", "reviewer"), "checks")
    assert not at.exception
    assert at.metric[0].value == "3"
    at.button(key=next(b.key for b in at.button if b.key and b.key.startswith("chk_acc_"))).click().run()
    assert at.success[0].value.endswith("accept saved.")
    with _store() as s:
        assert s.get_example(1)["label"] == "billing"


def test_sft_editor_shows_a_diff_resets_and_passes_a_good_response_on(db):
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["user"] = User("ana", "annotator")
    at.session_state["dataset"] = "gen"
    at.run()
    at.text_area(key=k(at, "resp")).input("Click reset, then check your e-mail.").run()
    diff = next(h.proto.body for h in at.get("html") if "<ins" in h.proto.body)
    assert "then check your e-mail." in diff
    at.button(key=k(at, "reset_resp")).click().run()
    assert at.text_area(key=k(at, "resp")).value == "Click reset."
    at.button(key=k(at, "accept")).click().run()
    with _store(at) as s:
        ex = s.get_example(4)
    assert (ex["response"], ex["status"], s.revisions(4)[-1]["action"]) == ("Click reset.", "needs_review", "accept")


def test_deep_link_opens_the_item_and_previous_walks_back(db):
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["user"] = User("ana", "annotator")
    at.session_state["dataset"] = "d"
    at.query_params["item"] = "3"
    at.run()
    assert at.caption[0].value.startswith("Example 3 · t3") and "opened from your history or a link" in at.caption[0].value
    at.button(key=k(at, "lab_1")).click().run()  # acting on it goes back to the queue
    assert at.caption[0].value.startswith("Example 1") and "1 done this session" in at.caption[0].value
    at.button(key=k(at, "prev")).click().run()
    assert at.caption[0].value.startswith("Example 3")


def test_history_panel_is_drawn_only_while_open_and_stays_open_for_the_next_item(db):
    at = app_as(User("ana", "annotator"))
    at.button(key=k(at, "lab_1")).click().run()
    at.button(key=k(at, "prev")).click().run()  # example 1 again, which has a revision
    assert not [h for h in at.get("html") if "· ana · label" in h.proto.body]  # closed: not drawn
    at.session_state["history_open"] = True  # as the browser reports an opened expander
    at.run()
    assert [h for h in at.get("html") if "· ana · label" in h.proto.body]
    at.button(key=k(at, "back")).click().run()
    assert "Example 2" in at.caption[0].value and at.session_state["history_open"] is True
