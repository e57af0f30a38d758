"""Queue services: the next item, leases, every item action and its role check, conflicts, undo."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from curation import BadInput, LabelSchema, StaleVersion, import_file
from curation.store import review as store_review
from review_app import services as svc
from review_app.auth import User
from review_app.errors import PermissionDenied

from .people import ADAM, ANA, BEN, RITA, SCHEMA


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
    (svc.approve, (1, 1)), (svc.reject, (1, 1)), (svc.close_flag, (1, "fixed")),
    (svc.bulk, ({1: 1}, "approve")),
])
def test_annotator_may_not_review(ds, fn, args):
    with pytest.raises(PermissionDenied, match=r"user 'ana' \(annotator\) may not .*; it needs the reviewer role"):
        fn(ds, ANA, *args)


def test_annotator_cannot_open_the_review_queue(ds):
    with pytest.raises(PermissionDenied, match="may not work on the 'review' queue"):
        svc.next_item(ds, ANA, "d", store_review.QueueFilter(stage="review"))


def test_label_outside_the_schema_is_refused(ds):
    with pytest.raises(BadInput, match="label 'biling' is not in the label schema; did you mean 'billing'"):
        svc.label(ds, ANA, 1, 1, "biling")


def test_two_annotators_never_get_the_same_item(ds):
    a = svc.next_item(ds, ANA, "d")
    b = svc.next_item(ds, BEN, "d")
    assert a.id != b.id
    assert store_review.lease_holder(ds, a.id) == "ana"
    # a reload serves the same item again
    assert svc.next_item(ds, ANA, "d").id == a.id


def test_skip_releases_the_lease_and_excludes_the_item_for_the_session(ds):
    a = svc.next_item(ds, ANA, "d")
    svc.skip(ds, ANA, a.id)
    assert store_review.lease_holder(ds, a.id) is None
    nxt = svc.next_item(ds, ANA, "d", store_review.QueueFilter(stage="annotate", exclude_ids=(a.id,)))
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
    res = svc.undo_last(ds, ANA, "d")
    assert (res.example["label"], res.example["status"], res.example["version"]) == (None, "imported", 3)
    assert (res.id, res.action, res.replaced, res.restored) == (
        1, "label", {"label": "billing", "status": "needs_review"}, {"label": None, "status": "imported"})
    assert [r["action"] for r in svc.history(ds, 1)] == ["import", "label", "undo"]
    assert svc.undo_last(ds, ANA, "d") is None  # nothing left to undo


def test_undo_refuses_when_someone_changed_the_example_since(ds):
    svc.label(ds, ANA, 1, 1, "billing")
    svc.approve(ds, RITA, 1, 2)
    with pytest.raises(StaleVersion) as exc:
        svc.undo_last(ds, ANA, "d")
    assert ds.get_example(1)["status"] == "approved"
    assert (exc.value.current_row["id"], svc.last_actor(ds, 1)) == (1, "rita")  # the right example and user
    res = svc.undo_last(ds, ANA, "d", on_version=exc.value.current)  # "apply mine" on top of theirs
    assert (res.example["label"], res.example["status"]) == (None, "imported")


def test_note_and_correct_response(store, write):
    import_file(store, write("g.csv", "prompt,response\nhow to reset?,Click reset.\n"), "g")
    row = svc.note(store, ANA, 1, 1, "  tone is too curt ")
    assert row["version"] == 2 and svc.history(store, 1)[-1]["reason"] == "tone is too curt"
    row = svc.correct_response(store, ANA, 1, 2, "Click 'Forgot password' on the sign-in page.")
    assert (row["response"], row["status"]) == ("Click 'Forgot password' on the sign-in page.", "needs_review")
    with pytest.raises(BadInput, match="response: empty"):
        svc.correct_response(store, ANA, 1, 3, "   ")


def test_close_flag_is_recorded(ds):
    with ds.transaction() as cur:
        store_review.add_flag(cur, 1, "d", "label_issue", "warning", 0.9, "looks like login", "login")
    item = svc.load_item(ds, 1)
    assert [f["check_name"] for f in item.flags] == ["label_issue"]
    svc.close_flag(ds, RITA, item.flags[0]["id"], "kept label")
    assert svc.load_item(ds, 1).flags == []
    assert svc.history(ds, 1)[-1]["reason"] == f"flag {item.flags[0]['id']}: kept label"


def test_approving_or_rejecting_decides_the_label_flags_but_not_pii_or_group_flags(ds):
    with ds.transaction() as cur:
        for check in ("label_issue", "model_error", "pii_review", "label_conflict"):
            store_review.add_flag(cur, 1, "d", check, "warning", 0.9, f"{check} here", "login")
        store_review.add_flag(cur, 2, "d", "label_issue", "warning", 0.9, "looks like login", "login")
    svc.approve(ds, RITA, 1, 1, new_label="login")
    left = {f["check_name"] for f in store_review.open_flags(ds, 1)}
    assert left == {"pii_review", "label_conflict"}  # they need their own decision
    done = ds._dicts("SELECT check_name, resolution, resolved_by FROM flags WHERE example_id = 1 AND resolution IS NOT NULL "
                     "ORDER BY check_name", [])
    assert done == [{"check_name": c, "resolution": "reviewed: approved as 'login'", "resolved_by": "rita"}
                    for c in ("label_issue", "model_error")]
    svc.reject(ds, RITA, 2, 1)
    assert store_review.open_flags(ds, 2) == []
    with pytest.raises(StaleVersion):  # a stale approval resolves nothing
        with ds.transaction() as cur:
            store_review.add_flag(cur, 3, "d", "label_issue", "warning", 0.9, "x", "login")
        svc.approve(ds, RITA, 3, 99)
    assert [f["check_name"] for f in store_review.open_flags(ds, 3)] == ["label_issue"]


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


def test_label_keys_keep_the_schema_order_whatever_the_counts(ds):
    svc.label(ds, ANA, 1, 1, "shipping")
    svc.label(ds, ANA, 2, 1, "shipping")
    svc.label(ds, ANA, 3, 1, "login")
    assert svc.label_choices(ds, "d") == ["billing", "login", "shipping"]


def test_label_keys_follow_the_order_an_admin_set(ds):
    assert svc.set_label_order(ds, ADAM, "d", ["shipping", " "]) == ["shipping"]
    assert svc.label_choices(ds, "d") == ["shipping", "billing", "login"]
    with pytest.raises(BadInput, match=r"label order: 'shiping' not in the label schema"):
        svc.set_label_order(ds, ADAM, "d", ["shiping"])
    with pytest.raises(BadInput, match=r"label order: 'login' listed more than once"):
        svc.set_label_order(ds, ADAM, "d", ["login", "login"])
    with pytest.raises(PermissionDenied, match="it needs the admin role"):
        svc.set_label_order(ds, RITA, "d", [])


def test_label_search_finds_labels_by_word_prefixes_and_typos(ds):
    assert svc.find_labels(ds, "d", "ship")[0] == "shipping"
    assert svc.find_labels(ds, "d", "biling")[0] == "billing"
    assert svc.find_labels(ds, "d", "zzzz") == []


def test_structured_labels_can_be_found_by_one_search(store, write):
    schema = LabelSchema(fields=(("category", ("billing", "account")), ("component", ("web", "ios", "android")),
                                 ("priority", ("low", "high"))))
    import_file(store, write("s.csv", "id,text\ns1,the app crashes\n"), "s", label_schema=schema)
    assert svc.find_labels(store, "s", "acc andr hi", limit=1) == ["account, android, high"]
    assert svc.label(store, ANA, 1, 1, "account, android, high")["label"] == "account, android, high"


def test_a_dataset_can_require_a_reason_to_reject(ds):
    svc.update_dataset_settings(ds, ADAM, "d", extra={"reject_reason_required": True})
    with pytest.raises(BadInput, match="reason: this dataset asks for a reason when rejecting"):
        svc.reject(ds, RITA, 1, 1, "  ")
    assert svc.reject(ds, RITA, 1, 1, "not a support request")["status"] == "rejected"


def test_pass_on_sends_a_good_response_to_review_without_re_saving_it(store, write):
    import_file(store, write("g.csv", "prompt,response\nhow to reset?,Click reset.\n"), "g")
    row = svc.pass_on(store, ANA, 1, 1)
    assert (row["status"], row["response"], row["version"]) == ("needs_review", "Click reset.", 2)
    assert svc.history(store, 1)[-1]["action"] == "accept"


def test_pass_on_refuses_an_item_with_nothing_to_pass_on(ds):
    with pytest.raises(BadInput, match="pass on: the item has no label or response yet"):
        svc.pass_on(ds, ANA, 1, 1)


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
            item = svc.next_item(store, user, "d", store_review.QueueFilter(stage="all"))
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


def test_a_reviewers_relabel_is_not_a_second_annotation(ds):
    svc.label(ds, ANA, 1, 1, "billing")
    svc.label(ds, RITA, 1, 2, "login")  # a correction of a labelled item
    assert [(a["annotator"], a["label"]) for a in store_review.annotations(ds, 1)] == [("ana", "billing")]
    assert svc.dashboard(ds, "d").agreement == {"items": 0}


def test_a_large_queue_count_is_kept_a_few_seconds_less_the_items_claimed_since(ds, monkeypatch):
    monkeypatch.setattr(store_review, "_EXACT_COUNT_BELOW", 0)  # count this small queue as a large one
    first = svc.next_item(ds, ANA, "d")
    assert first.remaining == 6
    svc.label(ds, ANA, first.id, first.version, "billing")
    second = svc.next_item(ds, ANA, "d")
    assert second.remaining == 5  # from the kept count, less the item claimed since
    ds.write("UPDATE examples SET status = 'rejected' WHERE id = 6")  # a change outside the queue's claims
    assert svc.next_item(ds, ANA, "d").remaining == 5  # within the few seconds the count is kept
    monkeypatch.setattr(store_review, "_CANDIDATE_TTL_S", 0.0)
    assert svc.next_item(ds, ANA, "d").remaining == 4  # counted again


def test_a_small_queue_is_counted_exactly_every_time(ds):
    assert svc.next_item(ds, ANA, "d").remaining == 6
    ds.write("UPDATE examples SET status = 'rejected' WHERE id = 6")
    assert svc.next_item(ds, ANA, "d").remaining == 5


def test_a_save_on_the_row_the_caller_read_refuses_a_newer_version_and_records_what_it_replaced(ds):
    item = svc.next_item(ds, ANA, "d")
    seen = ds.get_example(item.id)
    svc.label(ds, BEN, item.id, item.version, "billing")  # another user saves first
    with pytest.raises(StaleVersion) as info:
        ds.update_example(item.id, item.version, {"label": "refund"}, actor="ana", action="label", seen=seen)
    assert (info.value.current, info.value.current_row["label"]) == (2, "billing")
    row = ds.update_example(item.id, 2, {"label": "refund"}, actor="ana", action="label",
                            seen=ds.get_example(item.id), release_lease_of="ana")
    assert (row["label"], row["version"], row["assignee"]) == ("refund", 3, None)
    assert row == ds.get_example(item.id)
    last = ds.revisions(item.id)[-1]
    assert (last["before"], last["after"]) == ({"label": "billing"}, {"label": "refund"})


def test_an_item_that_does_not_exist_is_named(ds):
    with pytest.raises(BadInput, match="999"):
        store_review.example_and_related(ds, 999)
