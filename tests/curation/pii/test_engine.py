"""The trimmed Presidio engine: same findings as the stock analyzer, less work; spaCy's dictionary-word spans vetoed."""

from __future__ import annotations

import pytest

from curation.pii import engine
from curation.pii.lexicon import load
from curation.pii.recognizers import _dictionary_span, build_analyzer
from curation.pii.scrub import ENTITIES


def _findings(results):
    return sorted((r.entity_type, r.start, r.end, round(r.score, 4)) for r in results)


@pytest.mark.parametrize("text", [
    "my ssn is 219-09-9999 and my card 4111 1111 1111 1111, mail me at ana@example.org",
    "server 10.20.30.40 logged a visit from https://example.com/u/ana",
    "Call me on 020 7946 0958, Zofia Wróbel, 14 Mill Lane, Leeds",
    "nothing personal here at all",
])
def test_the_trimmed_analyzer_finds_exactly_what_the_stock_analyzer_finds(text):
    from presidio_analyzer import AnalyzerEngine

    ours = build_analyzer(())
    stock = AnalyzerEngine(registry=ours.registry, nlp_engine=ours.nlp_engine, supported_languages=["en"])
    entities = [e for e in ENTITIES if e != "DENY_LIST"]
    [(_, artifacts)] = list(ours.nlp_engine.process_batch([text], "en"))
    [(_, fresh)] = list(ours.nlp_engine.process_batch([text], "en"))
    assert _findings(ours.analyze(text, "en", entities=entities, nlp_artifacts=artifacts)) == \
        _findings(stock.analyze(text, "en", entities=entities, nlp_artifacts=fresh))


def test_nlp_artifacts_compute_lemmas_only_when_read():
    nlp = engine.nlp_engine()
    [(_, artifacts)] = list(nlp.process_batch(["Mail Ana Lopes today"], "en"))
    assert "lemmas" not in artifacts.__dict__ and "keywords" not in artifacts.__dict__
    assert artifacts.lemmas == ["mail", "ana", "lopes", "today"] and artifacts.tokens_indices == [0, 5, 9, 15]


@pytest.mark.parametrize("span", ["Calendar", "Settings", "Accounting", "Windows 10", "Hidden Treasures"])
def test_spans_made_of_dictionary_words_only_are_vetoed(span):
    assert _dictionary_span(span, load())


@pytest.mark.parametrize("span", ["Hope", "Will Young", "Paris", "Tokyo", "NY", "Notepad Wojciechowski", "Ssundee"])
def test_names_places_abbreviations_and_unknown_words_are_not_vetoed(span):
    assert not _dictionary_span(span, load())


@pytest.mark.parametrize(("text", "word"), [
    ("Ever since the upgrade, Calendar shows the wrong week.", "Calendar"),
    ("Can Support check why Settings crashes?", "Settings"),
    ("The printer in Accounting keeps jamming.", "Accounting"),
])
def test_capitalised_dictionary_words_that_spacy_tags_survive_the_scrub(text, word):
    from curation.pii import scrub_records

    assert scrub_records([{"text": text}])[0].fields["text"] == text


@pytest.mark.parametrize("text", [
    "write to ana.lopes+news@example.co.uk, or (bo@example.org).",
    "my @handle is not mail, nor is a@b, nor x@y.notatld",
    "two in a row: one@example.com;two@example.net and o'brien@mail.example.ie!",
    "no at sign at all",
])
def test_the_email_recognizer_finds_what_presidios_finds(text):
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    from curation.pii.recognizers import offline_email_recognizer

    ours = offline_email_recognizer()

    class Stock(EmailRecognizer):  # Presidio's own analyze, with the same offline domain check
        validate_result = ours.validate_result

    got = [(r.start, r.end, r.score) for r in ours.analyze(text, ["EMAIL_ADDRESS"])]
    assert got == [(r.start, r.end, r.score) for r in Stock().analyze(text, ["EMAIL_ADDRESS"]) if r.score > 0]


_GATE_TEXTS = [
    "card 4111 1111 1111 1111 and 5500-0000-0000-0004", "ssn 219-09-9999, 219099999, 219 09 9999 or 21909-9999",
    "from 10.20.30.40 and fe80::1ff:fe23:4567:890a and ::ffff:10.0.0.1", "see https://example.com/a?b=1 or www.example.org",
    "short 123-45-678 and 1.2 and 4111 1111 111", "e.g. the end.Next sentence", "no digits, no dots", "",
    "Ütő 4111-1111-1111-1111. tel: +36 1 234 5678", "a:b c:d 1.2.3 10.0.0.256 http://x.y",
]


@pytest.mark.parametrize("cls_name", list(engine.GATES))
def test_gated_predefined_recognizers_find_exactly_what_presidios_find(cls_name):
    """The gates only skip texts where the stock recognizer finds nothing, on hand-made edge cases and on
    the benchmark generators' tickets and chat messages (digits, dots and colons in every form they write)."""
    import sys
    from pathlib import Path

    from presidio_analyzer import predefined_recognizers

    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
    from pii_bench import build
    from pii_chat_set import build as chat

    stock = getattr(predefined_recognizers, cls_name)()
    gated = next(r for r in engine.gated_predefined() if type(r).__name__ == cls_name)
    texts = _GATE_TEXTS + [t for t, _ in build(300)] + [t for t, _ in chat("dev")[:300]]
    skipped = 0
    for text in texts:
        want = _findings(stock.analyze(text, stock.supported_entities))
        assert _findings(gated.analyze(text, stock.supported_entities)) == want, text
        skipped += not engine.GATES[cls_name](text)
    assert skipped > 0  # the gate does skip work
