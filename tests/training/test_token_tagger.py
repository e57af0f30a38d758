"""The PII token tagger: trained here on a tiny BERT in seconds, then run as the scrubber's opt-in recognizer."""

from __future__ import annotations

import random

import pytest

from curation.errors import InvalidValue
from curation.pii import PiiConfig, detect, scrub_records
from curation.pii.tagger import bio_labels, decode
from training.errors import InvalidTrainingConfig
from training.token_tagger import TaggerConfig, encode, train_tagger

from ..tiny_models import build_tiny_bert

NAMES = ("anna", "zoltan", "mireille", "kaique", "tomomi", "rubija", "selma", "diego")
OTHER = ("the app", "my card", "the invoice", "support", "the refund", "login")


def _examples(n: int = 96):
    rng, out = random.Random(0), []
    for _ in range(n):
        name, thing = rng.choice(NAMES), rng.choice(OTHER)
        text = rng.choice(("{t} is broken again. thanks {n}", "hi this is {n}, {t} does not work",
                           "{t} still fails, {n} here", "please fix {t} asap"))
        start = text.find("{n}")
        text = text.replace("{t}", thing)
        start = text.find("{n}")
        spans = [] if start < 0 else [("PER", start, start + len(name))]
        out.append((text.replace("{n}", name), spans))
    return out


@pytest.fixture(scope="module")
def tiny_tagger(tmp_path_factory) -> str:
    examples = _examples()
    base = build_tiny_bert(tmp_path_factory.mktemp("tagger_base"), [t for t, _ in examples],
                           vocab_size=120, max_positions=64)
    out = tmp_path_factory.mktemp("tagger")
    config = TaggerConfig(base_model=base, types=("PER",), epochs=6, learning_rate=5e-3, batch_size=16,
                          lora_r=0, validation_share=0.1, threads=1)
    info = train_tagger(examples, config, out)
    assert info["history"][-1]["val_f1"] > 0.8, info["history"]
    return str(out)


def test_encode_tags_the_first_token_of_a_span_b_and_the_rest_i(tiny_tagger):
    from transformers import AutoTokenizer

    import json
    from pathlib import Path

    tok = AutoTokenizer.from_pretrained(json.loads((Path(tiny_tagger) / "tagger.json").read_text())["base_model"])
    labels = bio_labels(("PER",))
    enc = encode(tok, [("thanks anna zoltan", [("PER", 7, 18)])], labels, 16)
    tags = [labels[i] if i >= 0 else None for i in enc["labels"][0]]
    assert tags[0] is None and tags[-1] is None  # [CLS], [SEP]
    assert tags[1] == "O" and tags[2] == "B-PER" and set(tags[3:-1]) == {"I-PER"}


def test_decode_widens_a_span_to_whole_words_and_joins_i_tags():
    import numpy as np

    labels = bio_labels(("PER",))  # O, B-PER, I-PER
    text = "thanks nishiyama ok"
    offsets = [(0, 0), (0, 6), (7, 12), (12, 16), (17, 19), (0, 0)]
    probs = np.array([[1, 0, 0], [0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.6, 0.1, 0.3], [0.9, 0.05, 0.05], [1, 0, 0]])
    assert [(t, a, b) for t, a, b, _ in decode(text, offsets, probs, labels)] == [("PER", 7, 16)]


def test_the_model_recognizer_finds_a_lowercase_name_in_a_chat_line(tiny_tagger):
    config = PiiConfig(model_recognizer=tiny_tagger)
    text = "the refund is broken again. thanks mireille"
    spans = detect([text], config)[0]
    assert [(s.entity, text[s.start:s.end]) for s in spans] == [("PERSON", "mireille")]
    out = scrub_records([{"text": text}], config)[0]
    assert out.fields["text"] == "the refund is broken again. thanks <PERSON_1>"
    assert out.replacements[0].action in ("replaced", "review")


def test_the_model_recognizer_is_off_by_default(monkeypatch):
    import curation.pii.tagger as tagger

    def fail(*args, **kwargs):
        raise AssertionError("the tagger must not load unless configured")

    monkeypatch.setattr(tagger, "load_tagger", fail)
    assert PiiConfig().model_recognizer is None
    assert "model_recognizer" not in PiiConfig().to_dict() or PiiConfig().to_dict()["model_recognizer"] is None
    assert detect(["thanks mireille"], PiiConfig()) is not None


def test_a_config_without_the_tagger_hashes_as_before_and_with_it_rescans(tiny_tagger):
    base = PiiConfig()
    assert PiiConfig.from_dict({**base.to_dict(), "model_recognizer": "none"}).detection_hash() == base.detection_hash()
    assert PiiConfig(model_recognizer=tiny_tagger).detection_hash() != base.detection_hash()


def test_the_model_recognizer_never_opens_a_network_connection(no_network, tiny_tagger):
    from curation.pii.tagger import load_tagger

    load_tagger.cache_clear()  # load afresh with the network refused
    attempts = no_network
    spans = detect(["please fix the app asap. thanks selma"], PiiConfig(model_recognizer=tiny_tagger))[0]
    assert spans and attempts == []


def test_a_folder_that_holds_no_tagger_is_refused_with_what_to_do(tmp_path):
    with pytest.raises(InvalidValue, match="tagger.json"):
        detect(["thanks anna"], PiiConfig(model_recognizer=str(tmp_path)))


def test_tagger_config_names_the_bad_field():
    with pytest.raises(InvalidTrainingConfig, match="types"):
        TaggerConfig(types=("ORG",))
    with pytest.raises(InvalidTrainingConfig, match="epochs"):
        TaggerConfig(epochs=0)
