"""Consistency across a scrub run: a confident value found once is replaced wherever it appears again."""

from __future__ import annotations

import json

from curation import import_file
from curation.pii import PiiConfig, Span, scrub_dataset, scrub_records
from curation.pii.consistency import known_values, propagate


def _texts(records, config=None):
    return [r.fields["text"] for r in scrub_records([{"text": t} for t in records], config)]


def test_a_name_found_after_a_cue_goes_from_the_other_examples_of_the_run():
    out = _texts(["Hi, my name is Rubija and my order is late.", "Rubija called again about the parcel."])
    assert out == ["Hi, my name is <PERSON_1> and my order is late.", "<PERSON_1> called again about the parcel."]


def test_the_match_ignores_case_and_keeps_to_word_boundaries():
    out = _texts(["my name is Rubija Hasanović", "RUBIJA wrote twice", "ask hasanović"])
    assert out == ["my name is <PERSON_1>", "<PERSON_1> wrote twice", "ask <PERSON_1>"]
    known = {"rubija": ("PERSON", 0.8)}
    assert propagate(["Rubijanka and xrubija", "rubija_1", "(Rubija)"], [[], [], []], known) == [
        [], [], [("PERSON", 1, 7, 0.8)]]


def test_an_email_found_once_goes_from_a_text_where_it_is_upper_case():
    out = _texts(["write to zoe.kim@example.org", "ZOE.KIM@EXAMPLE.ORG bounced"])
    assert out == ["write to <EMAIL_1>", "<EMAIL_1> bounced"]


def test_consistency_can_be_switched_off():
    out = _texts(["Hi, my name is Rubija.", "Rubija called again."], PiiConfig(consistent=False))
    assert out == ["Hi, my name is <PERSON_1>.", "Rubija called again."]


def test_common_words_and_short_values_are_never_spread():
    texts = ["my name is Will", "call Li now", "Hope this helps"]
    spans = [[Span("PERSON", 11, 15, 0.9)], [Span("PERSON", 5, 7, 0.9)], []]
    assert known_values(texts, spans, 0.4) == {}


def test_values_awaiting_review_and_locations_are_not_spread():
    texts = ["ask Kowalczyk", "from Chicago", "Kowalczyk and Chicago again"]
    spans = [[Span("PERSON", 4, 13, 0.35)], [Span("LOCATION", 5, 12, 0.85)], []]
    assert known_values(texts, spans, 0.4) == {}


def test_the_parts_of_a_confident_name_are_spread_but_not_its_common_words():
    known = known_values(["Will Kowalczyk-Nowak"], [[Span("PERSON", 0, 20, 0.85)]], 0.4)
    assert sorted(known) == ["kowalczyk", "kowalczyk-nowak", "nowak", "will kowalczyk-nowak"]
    assert known["nowak"] == ("PERSON", 0.85)


def test_propagate_skips_placeholders_and_values_already_inside_a_span():
    from curation.pii.scrub import PLACEHOLDER_RX

    known = {"kowalczyk": ("PERSON", 0.8)}
    texts = ["<PERSON_1> Kowalczyk", "Anna Kowalczyk"]
    extra = propagate(texts, [[], [Span("PERSON", 0, 14, 0.85)]], known, PLACEHOLDER_RX)
    assert extra == [[("PERSON", 11, 20, 0.8)], []]


def test_the_allow_list_holds_against_spread_values():
    cfg = PiiConfig(allow_list=("Kowalczyk Tools",))
    out = _texts(["my name is Kowalczyk", "I bought Kowalczyk Tools"], cfg)
    assert out == ["my name is <PERSON_1>", "I bought Kowalczyk Tools"]


def test_scrub_dataset_spreads_values_across_chunks(store, write):
    rows = [{"id": "a", "text": "Kowalczyk again, no answer."}, {"id": "b", "text": "Hi, my name is Kowalczyk."}]
    path = write("t.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    import_file(store, path, "sup", task="classification")
    rep = scrub_dataset(store, "sup", actor="tester", chunk=1)
    texts = {r["external_id"]: r["text"] for r in store._dicts("SELECT external_id, text FROM examples", [])}
    assert texts == {"a": "<PERSON_1> again, no answer.", "b": "Hi, my name is <PERSON_1>."}
    assert rep.changed == 2


def test_a_value_detected_in_fewer_than_half_of_the_texts_where_it_occurs_is_not_spread():
    texts = ["we use Firefox", "Firefox crashed", "Firefox again", "ask Kowalczyk", "Kowalczyk again"]
    spans = [[Span("PERSON", 7, 14, 0.85)], [], [], [Span("PERSON", 4, 13, 0.75)], []]
    assert known_values(texts, spans, 0.4) == {"kowalczyk": ("PERSON", 0.75)}
