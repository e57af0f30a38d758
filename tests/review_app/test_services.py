"""Review services: every action, every role check, leases, conflicts, undo, bulk, agreement."""

from __future__ import annotations

import json
import threading
from collections import Counter

import polars as pl
import pytest

from curation import BadInput, LabelSchema, StaleVersion, import_file
from curation.store import review as sr
from review_app import services as svc
from review_app.auth import AccountLocked, LoginFailed, User, add_user, authenticate
from review_app.errors import PermissionDenied

ANA = User("ana", "annotator")
BEN = User("ben", "annotator")
RITA = User("rita", "reviewer")
ADAM = User("adam", "admin")
SCHEMA = LabelSchema(labels=("billing", "login", "shipping"))


@pytest.fixture
def ds(store, write):
    rows = "".join(f"t{i},text number {i},\n" for i in range(1, 7))
    import_file(store, write("a.csv", "id,text,label\n" + rows), "d", label_schema=SCHEMA)
    return store


def test_annotator_labels_then_reviewer_approves(ds):
    item = svc.next_item(ds, ANA, "d")
    assert (item.id, item.version, item.remaining) == (1, 1, 6)
    row = svc.label(ds, ANA, item.id, item.version, "billing")
    assert (row["label"], row["status"], row["version"]) == ("billing", "needs_review", 2)
    rev_item = svc.next_item(ds, RITA, "d")
    assert rev_item.id == 1
    row = svc.approve(ds, RITA, 1, 2)
    assert (row["status"], row["version"]) == ("approved", 3)
    assert [r["action"] for r in svc.history(ds, 1)] == ["import", "label", "approve"]
    assert [r["actor"] for r in svc.history(ds, 1)][1:] == ["ana", "rita"]


@pytest.mark.parametrize(("fn", "args"), [
    (svc.approve, (1, 1)), (svc.reject, (1, 1)), (svc.resolve_flag, (1, "fixed")),
    (svc.bulk, ({1: 1}, "approve")),
])
def test_annotator_may_not_review(ds, fn, args):
    with pytest.raises(PermissionDenied, match=r"user 'ana' \(annotator\) may not .*; it needs the reviewer role"):
        fn(ds, ANA, *args)


@pytest.mark.parametrize(("fn", "args"), [
    (svc.update_dataset_settings, ("d",)), (svc.create_user, ("x", "annotator", "pass1234")),
    (svc.import_upload, ("a.csv", b"text\nx\n", "d")), (svc.export_csv, ("d",)), (svc.export_jsonl, ("d",)),
])
def test_reviewer_may_not_administer(ds, fn, args):
    with pytest.raises(PermissionDenied, match="it needs the admin role"):
        fn(ds, RITA, *args)


def test_annotator_cannot_open_the_review_queue(ds):
    with pytest.raises(PermissionDenied, match="may not work on the 'review' queue"):
        svc.next_item(ds, ANA, "d", sr.QueueFilter(stage="review"))


def test_label_outside_the_schema_is_refused(ds):
    with pytest.raises(BadInput, match="label 'biling' is not in the label schema; did you mean 'billing'"):
        svc.label(ds, ANA, 1, 1, "biling")


def test_two_annotators_never_get_the_same_item(ds):
    a = svc.next_item(ds, ANA, "d")
    b = svc.next_item(ds, BEN, "d")
    assert a.id != b.id
    assert sr.lease_holder(ds, a.id) == "ana"
    # a reload serves the same item again
    assert svc.next_item(ds, ANA, "d").id == a.id


def test_skip_releases_the_lease_and_excludes_the_item_for_the_session(ds):
    a = svc.next_item(ds, ANA, "d")
    svc.skip(ds, ANA, a.id)
    assert sr.lease_holder(ds, a.id) is None
    nxt = svc.next_item(ds, ANA, "d", sr.QueueFilter(stage="annotate", exclude_ids=(a.id,)))
    assert nxt.id != a.id
    assert svc.next_item(ds, BEN, "d").id == a.id  # someone else can take it


def test_stale_save_shows_the_other_change(ds):
    svc.label(ds, ANA, 1, 1, "billing")
    with pytest.raises(StaleVersion) as exc:
        svc.label(ds, BEN, 1, 1, "login")
    assert exc.value.current_row["label"] == "billing"
    assert ds.get_example(1)["label"] == "billing"


def test_undo_is_a_new_revision(ds):
    svc.label(ds, ANA, 1, 1, "billing")
    row = svc.undo_last(ds, ANA, "d")
    assert (row["label"], row["status"], row["version"]) == (None, "imported", 3)
    assert [r["action"] for r in svc.history(ds, 1)] == ["import", "label", "undo"]
    assert svc.undo_last(ds, ANA, "d") is None  # nothing left to undo


def test_undo_refuses_when_someone_changed_the_example_since(ds):
    svc.label(ds, ANA, 1, 1, "billing")
    svc.approve(ds, RITA, 1, 2)
    with pytest.raises(StaleVersion):
        svc.undo_last(ds, ANA, "d")
    assert ds.get_example(1)["status"] == "approved"


def test_note_and_correct_response(store, write):
    import_file(store, write("g.csv", "prompt,response\nhow to reset?,Click reset.\n"), "g")
    row = svc.note(store, ANA, 1, 1, "  tone is too curt ")
    assert row["version"] == 2 and svc.history(store, 1)[-1]["reason"] == "tone is too curt"
    row = svc.correct_response(store, ANA, 1, 2, "Click 'Forgot password' on the sign-in page.")
    assert (row["response"], row["status"]) == ("Click 'Forgot password' on the sign-in page.", "needs_review")
    with pytest.raises(BadInput, match="response: empty"):
        svc.correct_response(store, ANA, 1, 3, "   ")


def test_bulk_approve_reports_stale_rows_and_leaves_them(ds):
    svc.label(ds, ANA, 2, 1, "login")  # version 2 now, the reviewer saw 1
    res = svc.bulk(ds, RITA, {1: 1, 2: 1, 3: 1}, "approve")
    assert (res.done, res.stale) == ([1, 3], [2])
    assert [ds.get_example(i)["status"] for i in (1, 2, 3)] == ["approved", "needs_review", "approved"]
    assert svc.history(ds, 1)[-1]["action"] == "bulk_approve"


def test_bulk_relabel(ds):
    res = svc.bulk(ds, RITA, {4: 1, 5: 1}, "relabel", "shipping")
    assert res.done == [4, 5]
    assert [ds.get_example(i)["label"] for i in (4, 5)] == ["shipping", "shipping"]


def test_resolve_flag_is_recorded(ds):
    with ds.transaction() as cur:
        sr.add_flag(cur, 1, "d", "label_issue", "warning", 0.9, "looks like login", "login")
    item = svc.load_item(ds, 1)
    assert [f["check_name"] for f in item.flags] == ["label_issue"]
    svc.resolve_flag(ds, RITA, item.flags[0]["id"], "kept label")
    assert svc.load_item(ds, 1).flags == []
    assert svc.history(ds, 1)[-1]["reason"] == f"flag {item.flags[0]['id']}: kept label"


def test_approving_or_rejecting_decides_the_label_flags_but_not_pii_or_group_flags(ds):
    with ds.transaction() as cur:
        for check in ("label_issue", "model_error", "pii_review", "label_conflict"):
            sr.add_flag(cur, 1, "d", check, "warning", 0.9, f"{check} here", "login")
        sr.add_flag(cur, 2, "d", "label_issue", "warning", 0.9, "looks like login", "login")
    svc.approve(ds, RITA, 1, 1, new_label="login")
    left = {f["check_name"] for f in sr.open_flags(ds, 1)}
    assert left == {"pii_review", "label_conflict"}  # they need their own decision
    done = ds._dicts("SELECT check_name, resolution, resolved_by FROM flags WHERE example_id = 1 AND resolution IS NOT NULL "
                     "ORDER BY check_name", [])
    assert done == [{"check_name": c, "resolution": "reviewed: approved as 'login'", "resolved_by": "rita"}
                    for c in ("label_issue", "model_error")]
    svc.reject(ds, RITA, 2, 1)
    assert sr.open_flags(ds, 2) == []
    with pytest.raises(StaleVersion):  # a stale approval resolves nothing
        with ds.transaction() as cur:
            sr.add_flag(cur, 3, "d", "label_issue", "warning", 0.9, "x", "login")
        svc.approve(ds, RITA, 3, 99)
    assert [f["check_name"] for f in sr.open_flags(ds, 3)] == ["label_issue"]


def test_multi_annotator_dataset_collects_n_annotations_then_flags_disagreement(ds):
    svc.update_dataset_settings(ds, ADAM, "d", required_annotations=2)
    a = svc.next_item(ds, ANA, "d")
    svc.label(ds, ANA, a.id, a.version, "billing")
    assert ds.get_example(a.id)["status"] == "imported"  # still needs a second annotation
    assert svc.next_item(ds, ANA, "d").id != a.id  # never the same annotator twice
    svc.skip(ds, ANA, svc.next_item(ds, ANA, "d").id)
    b = svc.next_item(ds, BEN, "d")
    assert b.id == a.id
    row = svc.label(ds, BEN, b.id, b.version, "login")
    assert row["status"] == "needs_review"
    item = svc.load_item(ds, a.id)
    assert [f["check_name"] for f in item.flags] == ["disagreement"]
    assert sorted(x["label"] for x in item.annotations) == ["billing", "login"]


def test_agreement_statistics_match_hand_computed_values():
    long = pl.DataFrame({
        "example_id": [1, 1, 2, 2, 3, 3, 4],
        "annotator": ["a", "b", "a", "b", "a", "b", "a"],
        "label": ["x", "x", "y", "y", "x", "y", "x"],
    })
    got = svc.agreement(long)
    # 3 items with 2 annotations: 2 of 3 pairs agree. Krippendorff's alpha (nominal):
    # values x,x,y,y,x,y -> n=6, o_xx=2, o_yy=2, o_xy=o_yx=1; n_x=n_y=3;
    # D_o = 2/6, D_e = (3*3*2)/(6*5) = 0.6 -> alpha = 1 - (1/3)/0.6 = 4/9
    assert got["items"] == 3 and got["annotators"] == 2
    assert got["observed_agreement"] == pytest.approx(2 / 3)
    assert got["krippendorff_alpha"] == pytest.approx(4 / 9)


def test_csv_export_escapes_formula_injection(ds, write):
    import_file(ds, write("x.csv", "id,text,label\nevil,=HYPERLINK(\"http://x\"),\nplus,+1 call me,\n"), "d")
    text = svc.export_csv(ds, ADAM, "d").decode()
    assert "'=HYPERLINK" in text and "'+1 call me" in text
    assert svc.csv_safe("-2") == "'-2" and svc.csv_safe("@x") == "'@x" and svc.csv_safe("ok") == "ok"


def test_import_upload_reports_the_uploaded_name(ds):
    with pytest.raises(BadInput) as exc:
        svc.import_upload(ds, ADAM, "mine.csv", b"text,label\n,billing\n", "d")
    assert str(exc.value) == "mine.csv:2:text: empty text; fill it in or remove the row"
    res = svc.import_upload(ds, ADAM, "mine.csv", b"text,label\nnew one,billing\n", "d")
    assert res.inserted == 1


def test_label_choices_put_frequent_labels_first(ds):
    svc.label(ds, ANA, 1, 1, "shipping")
    svc.label(ds, ANA, 2, 1, "shipping")
    svc.label(ds, ANA, 3, 1, "login")
    assert svc.label_choices(ds, "d") == ["shipping", "login", "billing"]


def test_login_is_rate_limited_and_never_says_which_part_was_wrong(store):
    add_user(store, "maria", "reviewer", "correct-horse")
    assert authenticate(store, "maria", "correct-horse") == User("maria", "reviewer")
    with pytest.raises(LoginFailed, match="unknown user or wrong password"):
        authenticate(store, "nobody", "x")
    for _ in range(5):
        with pytest.raises(LoginFailed):
            authenticate(store, "maria", "wrong")
    with pytest.raises(AccountLocked, match="too many failed logins for 'maria'"):
        authenticate(store, "maria", "correct-horse")


@pytest.mark.slow
def test_four_annotators_500_actions_no_lost_updates_no_double_serving(store, write):
    """4 threads x 500 actions on 40 overlapping items: every save either lands (with exactly one
    revision) or is refused as stale; no item is ever held by two people at once."""
    rows = "".join(f"t{i},ticket {i}\n" for i in range(40))
    import_file(store, write("a.csv", "id,text\n" + rows), "d", label_schema=SCHEMA)
    base_revisions = store.count_revisions()
    holders: dict[int, str] = {}
    guard = threading.Lock()
    double_served: list[int] = []
    landed: Counter = Counter()
    stale: Counter = Counter()
    users = [User(f"a{i}", "reviewer") for i in range(4)]
    labels = ["billing", "login", "shipping"]

    def work(user: User, seed: int) -> None:
        import random

        rnd = random.Random(seed)
        for n in range(500):
            item = svc.next_item(store, user, "d", sr.QueueFilter(stage="all"))
            if item is None:
                # everything labelled: send items back by relabelling directly (overlap on purpose)
                example_id = rnd.randrange(1, 41)
                ex = store.get_example(example_id)
                try:
                    svc.bulk(store, user, {example_id: ex["version"]}, "relabel", rnd.choice(labels))
                    landed[user.name] += 1
                except StaleVersion:
                    stale[user.name] += 1
                continue
            with guard:
                if holders.get(item.id) not in (None, user.name):
                    double_served.append(item.id)
                holders[item.id] = user.name
            try:
                if n % 3 == 0:
                    # a save on a version read a moment ago: may go stale when others touch the item
                    ex = store.get_example(rnd.randrange(1, 41))
                    store.update_example(ex["id"], ex["version"], {"label": rnd.choice(labels)},
                                         actor=user.name, action="label")
                    landed[user.name] += 1
                    with guard:
                        holders.pop(item.id, None)
                    svc.skip(store, user, item.id)
                else:
                    with guard:
                        holders.pop(item.id, None)
                    svc.label(store, user, item.id, item.version, rnd.choice(labels))
                    landed[user.name] += 1
            except StaleVersion:
                stale[user.name] += 1
                with guard:
                    holders.pop(item.id, None)
                svc.skip(store, user, item.id)

    threads = [threading.Thread(target=work, args=(u, i)) for i, u in enumerate(users)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert double_served == []
    assert sum(landed.values()) + sum(stale.values()) == 2000
    assert store.count_revisions() - base_revisions == sum(landed.values())
    # every example's version equals 1 + its revisions after import: no update was lost or doubled
    for example_id in range(1, 41):
        ex = store.get_example(example_id)
        assert ex["version"] == len(store.revisions(example_id))


def test_pii_review_actions_need_a_reviewer_and_replace_missed_spans(store, write):
    import_file(store, write("p.csv", "id,text\np1,Call Zorblax Quint about the refund\n"), "p")
    with pytest.raises(PermissionDenied, match="may not mark missed personal data"):
        svc.pii_mark_missed(store, ANA, 1, 1, "text", "Zorblax Quint", "PERSON")
    with pytest.raises(BadInput, match="'Nobody' does not appear in the example"):
        svc.pii_mark_missed(store, RITA, 1, 1, "text", "Nobody", "PERSON")
    svc.pii_mark_missed(store, RITA, 1, 1, "text", "Zorblax Quint", "PERSON")
    ex = store.get_example(1)
    assert ex["text"] == "Call <PERSON_1> about the refund"
    item = svc.load_item(store, 1)
    assert [(f["entity"], f["field"], f["start"], f["end"]) for f in item.pii] == [("PERSON", "text", 5, 15)]
    assert "Zorblax" not in json.dumps([r["before"] for r in store.revisions(1)] + [r["after"] for r in store.revisions(1)])


def test_duplicate_decisions_need_a_reviewer(ds):
    with pytest.raises(PermissionDenied, match="may not split duplicate groups"):
        svc.dup_split(ds, ANA, "d", 1)
    with pytest.raises(PermissionDenied, match="may not choose canonical examples"):
        svc.dup_set_canonical(ds, ANA, "d", 1)
    with pytest.raises(PermissionDenied, match="may not merge duplicate groups"):
        svc.dup_merge(ds, ANA, "d", [1, 2])
    res = svc.dup_merge(ds, RITA, "d", [1, 2], reason="same request")
    assert res.duplicates == 1
    assert ds.get_example(2)["duplicate_of"] == 1
