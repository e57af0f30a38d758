"""PII scrubbing: detection of each planted type, consistent placeholders, idempotence, review, purge, offline."""

from __future__ import annotations

import json

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation import PermissionDenied, Store, import_file
from curation.errors import InvalidValue
from curation.pii import PiiConfig, Span, get_pii_config, scrub_dataset, scrub_frame, scrub_records
from curation.pii.scrub import PLACEHOLDER_RX, replace_spans
from curation.store.pii import OriginalPurged, add_missed_span, confirm_finding, example_findings, reject_finding

# One value of every type, planted in the prompt and (partly again) in the response.
PLANTED = {
    "PERSON": "Jose Hartman",
    "EMAIL_ADDRESS": "nmendez@example.net",
    "PHONE_NUMBER": "+44 117 496 0514",
    "CREDIT_CARD": "4111 1111 1111 1111",
    "IBAN_CODE": "DE89370400440532013000",
    "US_SSN": "536-22-8841",
    "IP_ADDRESS": "192.168.10.20",
    "URL": "https://portal.example.com/u/8812",
    "DATE_TIME": "12/03/1985",
    "STREET_ADDRESS": "8685 Jaime Junction Suite 422, Gabriellefurt, WY 21793",
    "ORDER_NUMBER": "ORD-328463",
    "TRACKING_NUMBER": "1Z999AA10123456784",
    "USERNAME": "@ellie66",
    "LOCATION": "Chicago",
}
PROMPT = (
    "Hi, this is Jose Hartman. Email nmendez@example.net, phone +44 117 496 0514. I paid with card "
    "4111 1111 1111 1111 and my IBAN is DE89370400440532013000. SSN 536-22-8841, date of birth 12/03/1985. "
    "I logged in from 192.168.10.20 at https://portal.example.com/u/8812. I live at 8685 Jaime Junction "
    "Suite 422, Gabriellefurt, WY 21793 and moved here from Chicago. Order ORD-328463, tracking number "
    "1Z999AA10123456784, my handle is @ellie66."
)
RESPONSE = (
    "Thanks Jose Hartman. We will write to nmendez@example.net about order ORD-328463; card 4111 1111 1111 1111 "
    "was refunded to DE89370400440532013000. Maria Lopez from billing will call +44 117 496 0514."
)


def _gen_file(write, rows):
    return write("gen.jsonl", "".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture
def gen_store(store, write):
    path = _gen_file(write, [{"id": "g1", "prompt": PROMPT, "response": RESPONSE},
                             {"id": "g2", "prompt": "How do I reset my password?", "response": "Use the link."}])
    import_file(store, path, "sft", task="generation")
    return store


def _example(store, ext):
    return store._dicts("SELECT * FROM examples WHERE external_id = ?", [ext])[0]


def test_scrub_replaces_every_planted_type_in_both_fields_of_a_generation_example(gen_store):
    rep = scrub_dataset(gen_store, "sft", actor="tester")
    row = _example(gen_store, "g1")
    for entity, value in PLANTED.items():
        assert value not in row["prompt"], entity
        assert value not in row["response"], entity
    assert row["prompt"] == (
        "Hi, this is <PERSON_1>. Email <EMAIL_1>, phone <PHONE_1>. I paid with card <CREDIT_CARD_1> and my IBAN is "
        "<IBAN_1>. SSN <SSN_1>, date of birth <BIRTH_DATE_1>. I logged in from <IP_ADDRESS_1> at <URL_1>. I live at "
        "<ADDRESS_1> and moved here from <LOCATION_1>. Order <ORDER_NUMBER_1>, tracking number <TRACKING_NUMBER_1>, "
        "my handle is <USERNAME_1>."
    )
    assert row["response"] == (
        "Thanks <PERSON_1>. We will write to <EMAIL_1> about order <ORDER_NUMBER_1>; card <CREDIT_CARD_1> "
        "was refunded to <IBAN_1>. <PERSON_2> from billing will call <PHONE_1>."
    )
    assert rep.scanned == 2 and rep.changed == 1 and rep.stale == 0
    assert rep.findings == 21
    assert row["version"] == 2


def test_stored_findings_point_at_the_placeholders_of_the_scrubbed_text(gen_store):
    scrub_dataset(gen_store, "sft", actor="tester")
    row = _example(gen_store, "g1")
    found = example_findings(gen_store, row["id"])
    assert len(found) == 21
    for f in found:
        assert row[f.field][f.start:f.end] == f.placeholder
        assert PLACEHOLDER_RX.fullmatch(f.placeholder)
    assert {f.entity for f in found} == set(PLANTED)


def test_placeholders_are_consistent_within_an_example_and_numbered_per_value():
    res = scrub_records([{"prompt": "Mail anna.berg@example.org or call Peter Novak.",
                          "response": "We wrote to anna.berg@example.org; Peter Novak and Lucy Grant were told."}])[0]
    assert res.fields == {
        "prompt": "Mail <EMAIL_1> or call <PERSON_1>.",
        "response": "We wrote to <EMAIL_1>; <PERSON_1> and <PERSON_2> were told.",
    }


def test_numbers_continue_after_placeholders_already_in_the_text():
    res = scrub_records([{"text": "<PERSON_1> forwarded it to jane.doe@example.com, cc <EMAIL_1>."}])[0]
    assert res.fields["text"] == "<PERSON_1> forwarded it to <EMAIL_2>, cc <EMAIL_1>."


_NAMES = ["Jose Hartman", "Maria Lopez", "Karen Hall", "Dean Doherty", "Priya Natarajan"]
_EMAILS = ["a.b@example.com", "zed99@example.org", "mcfarland@example.net"]
_PHONES = ["+1-202-555-0147", "(0117) 496 0514", "+44 20 7946 0958"]
_TEMPLATES = [
    "Hi, this is {name}. Reach me at {email} or {phone}.",
    "Please change my email to {email}. Name on the account: {name}.",
    "Order ORD-{n} never arrived. Call {phone}. Thanks, {name}",
    "My handle @{handle} is public, please hide it. {email}",
]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=st.sampled_from(_TEMPLATES), name=st.sampled_from(_NAMES), email=st.sampled_from(_EMAILS),
       phone=st.sampled_from(_PHONES), n=st.integers(100000, 999999),
       handle=st.from_regex(r"[a-z][a-z0-9_]{2,10}", fullmatch=True))
def test_scrubbing_twice_changes_nothing(template, name, email, phone, n, handle):
    text = template.format(name=name, email=email, phone=phone, n=n, handle=handle)
    once = scrub_records([{"text": text}])[0]
    twice = scrub_records([once.fields])[0]
    assert twice.fields == once.fields
    assert twice.replacements == []


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_replacement_spans_always_hold_their_placeholder_and_equal_values_share_one(data):
    words = data.draw(st.lists(st.sampled_from(["ann", "bob", "cat", "dan", "x", "y"]), min_size=1, max_size=12))
    text = " ".join(words)
    starts, spans, pos = [], [], 0
    for w in words:
        starts.append(pos)
        pos += len(w) + 1
    chosen = data.draw(st.sets(st.integers(0, len(words) - 1)))
    for i in sorted(chosen):
        spans.append(Span("PERSON", starts[i], starts[i] + len(words[i]), 0.9))
    res = replace_spans({"text": text}, {"text": spans})
    out = res.fields["text"]
    by_value: dict[str, set[str]] = {}
    for r in res.replacements:
        assert out[r.start:r.end] == r.placeholder
        by_value.setdefault(r.original, set()).add(r.placeholder)
    assert all(len(p) == 1 for p in by_value.values())
    assert len({next(iter(p)) for p in by_value.values()}) == len(by_value)


def test_second_scrub_skips_examples_already_scrubbed_and_a_new_deny_list_rescans(gen_store):
    scrub_dataset(gen_store, "sft", actor="tester")
    again = scrub_dataset(gen_store, "sft", actor="tester")
    assert (again.scanned, again.changed) == (0, 0)
    cfg = PiiConfig(deny_list=("reset my password",))
    third = scrub_dataset(gen_store, "sft", actor="tester", config=cfg)
    assert (third.scanned, third.changed) == (2, 1)
    assert _example(gen_store, "g2")["prompt"] == "How do I <REDACTED_1>?"
    assert get_pii_config(gen_store, "sft").deny_list == ("reset my password",)


def test_allow_list_keeps_product_and_company_names():
    text = "Thanks, Acme Cloud team! Tuneloop Pro works. Regards, Nina Bauer"
    plain = scrub_records([{"text": text}])[0].fields["text"]
    allowed = scrub_records([{"text": text}], PiiConfig(allow_list=("Acme Cloud", "Tuneloop Pro")))[0].fields["text"]
    assert allowed == "Thanks, Acme Cloud team! Tuneloop Pro works. Regards, <PERSON_1>"
    assert plain != allowed


def test_raw_pii_is_purged_from_the_revision_history(gen_store):
    row = _example(gen_store, "g2")
    gen_store.update_example(row["id"], row["version"], {"response": "Mail nmendez@example.net, Jose Hartman"},
                             actor="ana", action="edit")
    scrub_dataset(gen_store, "sft", actor="tester")
    history = json.dumps([r for r in gen_store._dicts("SELECT before, after FROM revisions", [])])
    for value in PLANTED.values():
        assert value not in history
    revs = gen_store.revisions(row["id"])
    assert [r["action"] for r in revs] == ["import", "edit", "pii_scrub"]
    assert revs[1]["after"] == {"response": "Mail <EMAIL_1>, <PERSON_1>"}
    assert revs[2]["before"] == {"response": "Mail <EMAIL_1>, <PERSON_1>"}


def test_export_has_no_raw_pii_and_its_spans_refer_to_the_scrubbed_text(gen_store, tmp_path):
    scrub_dataset(gen_store, "sft", actor="tester")
    out = tmp_path / "e.jsonl"
    gen_store.export_jsonl("sft", out)
    raw = out.read_text()
    for value in PLANTED.values():
        assert value not in raw
    rec = json.loads(raw.splitlines()[0])
    assert len(rec["pii"]) == 21
    assert all(PLACEHOLDER_RX.fullmatch(rec[p["field"]][p["start"]:p["end"]]) for p in rec["pii"])


@pytest.fixture
def review_store(store, write):
    # a bare number without a phone word: an unvalidated format, so a low-confidence finding
    path = write("t.csv", "id,text,label\nt1,\"Hi, Dana Wells here. Quote 2998993204 when you reply to dana@example.com.\",x\n")
    import_file(store, path, "tk", task="classification")
    scrub_dataset(store, "tk", actor="tester")
    return store


def test_low_confidence_finding_raises_a_pii_review_flag(review_store):
    row = _example(review_store, "t1")
    assert row["text"] == "Hi, <PERSON_1> here. Quote <PHONE_1> when you reply to <EMAIL_1>."
    flags = review_store._dicts("SELECT check_name, severity, detail, resolution FROM flags", [])
    assert flags == [{"check_name": "pii_review", "severity": "warning",
                      "detail": "1 low-confidence PII finding(s): PHONE_NUMBER in text", "resolution": None}]
    actions = {f.entity: (f.action, f.has_original) for f in example_findings(review_store, row["id"])}
    assert actions == {"PERSON": ("replaced", False), "PHONE_NUMBER": ("review", True),
                       "EMAIL_ADDRESS": ("replaced", False)}


def test_rejecting_a_false_positive_restores_the_original_and_shifts_later_spans(review_store):
    row = _example(review_store, "t1")
    phone = next(f for f in example_findings(review_store, row["id"]) if f.entity == "PHONE_NUMBER")
    after = reject_finding(review_store, phone.id, actor="rita", expected_version=row["version"])
    assert after["text"] == "Hi, <PERSON_1> here. Quote 2998993204 when you reply to <EMAIL_1>."
    assert after["version"] == row["version"] + 1
    left = example_findings(review_store, row["id"])
    assert [(f.entity, after["text"][f.start:f.end]) for f in left] == [("PERSON", "<PERSON_1>"),
                                                                         ("EMAIL_ADDRESS", "<EMAIL_1>")]
    assert review_store._dicts("SELECT resolution, resolved_by FROM flags", []) == [
        {"resolution": "reviewed", "resolved_by": "rita"}]
    assert review_store._dicts("SELECT count(*) AS n FROM pii_originals", []) == [{"n": 0}]
    assert review_store.revisions(row["id"])[-1]["action"] == "pii_reject"
    assert scrub_dataset(review_store, "tk", actor="tester").scanned == 0  # the restored text is not re-flagged


def test_confirming_the_last_finding_under_review_resolves_the_flag_and_empties_the_vault(review_store):
    row = _example(review_store, "t1")
    phone = next(f for f in example_findings(review_store, row["id"]) if f.action == "review")
    f = confirm_finding(review_store, phone.id, actor="rita")
    assert (f.action, f.reviewed_by, f.has_original) == ("confirmed", "rita", False)
    assert review_store._dicts("SELECT resolution FROM flags", []) == [{"resolution": "reviewed"}]


def test_rejecting_a_purged_high_confidence_finding_says_what_to_do(review_store):
    row = _example(review_store, "t1")
    email = next(f for f in example_findings(review_store, row["id"]) if f.entity == "EMAIL_ADDRESS")
    with pytest.raises(OriginalPurged, match=r"<EMAIL_1>\): the original value was purged .* --keep-original"):
        reject_finding(review_store, email.id, actor="rita")


def test_keep_original_keeps_values_in_the_vault_only(store, write, tmp_path):
    path = write("t.csv", "id,text,label\nt1,Write to dana@example.com please,x\n")
    import_file(store, path, "tk", task="classification")
    store.add_user("adam", "admin", "not-a-real-hash")  # --keep-original is admin-only, checked in the library
    scrub_dataset(store, "tk", actor="adam", keep_original=True)
    assert store._dicts("SELECT original, reason FROM pii_originals", []) == [
        {"original": "dana@example.com", "reason": "keep_original"}]
    store.export_jsonl("tk", tmp_path / "x.jsonl")
    assert "dana@example.com" not in (tmp_path / "x.jsonl").read_text()
    f = example_findings(store, _example(store, "t1")["id"])[0]
    assert reject_finding(store, f.id, actor="adam")["text"] == "Write to dana@example.com please"


def test_marking_a_missed_span_replaces_every_occurrence_and_purges_history(gen_store):
    row = _example(gen_store, "g2")
    start = row["prompt"].index("password")
    after = add_missed_span(gen_store, row["id"], "prompt", start, start + len("password"), "DENY_LIST",
                            actor="rita", expected_version=row["version"])
    assert after["prompt"] == "How do I reset my <REDACTED_1>?"
    found = example_findings(gen_store, row["id"])
    assert [(f.field, f.action, f.reviewed_by, after[f.field][f.start:f.end]) for f in found] == [
        ("prompt", "missed", "rita", "<REDACTED_1>")]
    assert "password" not in json.dumps(gen_store._dicts("SELECT before, after FROM revisions WHERE example_id = ?",
                                                         [row["id"]]))


def test_missed_span_must_not_touch_a_placeholder(gen_store):
    scrub_dataset(gen_store, "sft", actor="t")
    row = _example(gen_store, "g1")
    start = row["prompt"].index("<PERSON_1>")
    with pytest.raises(InvalidValue, match="overlaps a placeholder or is blank"):
        add_missed_span(gen_store, row["id"], "prompt", start, start + 5, "PERSON", actor="rita")


def test_scrubbing_never_opens_a_network_connection(no_network):
    from curation.pii.recognizers import offline_email_recognizer

    attempts = no_network
    rec = offline_email_recognizer()  # a fresh tldextract instance, first use
    assert [(r.start, r.end) for r in rec.analyze("mail zoe@example.co.uk now", ["EMAIL_ADDRESS"])] == [(5, 22)]
    assert scrub_records([{"text": "mail zoe@example.co.uk now"}])[0].fields["text"] == "mail <EMAIL_1> now"
    assert attempts == []


def test_scrub_frame_returns_scrubbed_columns_and_findings_without_originals():
    frame = pl.DataFrame({"id": [1, 2], "text": ["Call Jose Hartman on +1-202-555-0147", "nothing here"]})
    out = scrub_frame(frame, fields=("text",))
    assert out["text"].to_list() == ["Call <PERSON_1> on <PHONE_1>", "nothing here"]
    assert out["pii"].to_list()[1] == []
    assert [p["entity"] for p in out["pii"].to_list()[0]] == ["PERSON", "PHONE_NUMBER"]
    assert "original" not in out["pii"].to_list()[0][0]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"min_score": 1.5}, r"min_score: 1.5 is not valid; must be between 0 and 1"),
    ({"entities": ("PERSON", "SHOE_SIZE")}, r"entities: 'SHOE_SIZE' is not valid \(choose one of: PERSON"),
    ({"allow_list": "Acme"}, r"allow_list: 'Acme' is not valid; give a list of non-empty strings"),
    ({"workers": 0}, r"workers: 0 is not valid; must be at least 1"),
])
def test_pii_config_rejects_bad_values_with_a_clear_message(kwargs, message):
    with pytest.raises(InvalidValue, match=message):
        PiiConfig(**kwargs)


def test_store_has_the_pii_migration_and_tables(store):
    from curation.store.schema import LATEST

    assert store.schema_version() == LATEST >= 3
    tables = {r[0] for r in store.cursor().execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"pii_scrubbed", "pii_originals", "pii_findings"} <= tables


def test_cli_scrub_prints_counts_and_refuses_keep_original_for_non_admins(tmp_path, write, capsys):
    from review_app.cli import main

    db = str(tmp_path / "cli.duckdb")
    path = write("t.csv", "id,text,label\nt1,Mail dana@example.com,x\nt2,hello,y\n")
    assert main(["--db", db, "import", str(path), "--dataset", "tk"]) == 0
    capsys.readouterr()
    assert main(["--db", db, "--json", "scrub", "--dataset", "tk", "--allow", "Acme"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["scanned"], out["changed"], out["findings"], out["entities"]) == (2, 1, 1, {"EMAIL_ADDRESS": 1})
    assert out["config"]["allow_list"] == ["Acme"]
    assert main(["--db", db, "scrub", "--dataset", "tk", "--keep-original", "--user", "ana"]) == 2
    assert ("user 'ana' (unknown user) may not keep raw personal data (--keep-original); it needs the admin role"
            in capsys.readouterr().err)
    with Store(db) as s:
        assert s._dicts("SELECT text FROM examples ORDER BY id", []) == [{"text": "Mail <EMAIL_1>"}, {"text": "hello"}]


def test_scrub_of_unknown_dataset_lists_the_known_ones(store):
    with pytest.raises(Exception, match="dataset 'nope' does not exist"):
        scrub_dataset(store, "nope", actor="t")


def test_keep_original_is_refused_to_unknown_users_in_the_library_too(store):
    store.create_dataset("tk", task="classification")
    with pytest.raises(PermissionDenied, match=r"user 'bob' \(unknown user\) may not keep raw personal data"):
        scrub_dataset(store, "tk", actor="bob", keep_original=True)
