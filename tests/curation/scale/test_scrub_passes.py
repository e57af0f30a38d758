"""PII scrubbing in batches (the distributed engine's three passes) equals one pass over the run."""

from __future__ import annotations

import polars as pl
import pytest

from curation.pii import PiiConfig
from curation.scale.batch import scrub_batch
from curation.scale.scrub_passes import merge_candidates, scrub_in_batches

TEXTS = [
    "Hi, my name is Rubija Hasanović and my order is late.",
    "Rubija called again about the parcel.",
    "write to zoe.kim@example.org please",
    "password cancel screen login refund",
    "ZOE.KIM@EXAMPLE.ORG bounced twice",
    "Chrome crashes when I open the app",
    "I use Chrome on my laptop",
    "hasanović asked for a refund, Rubija said thanks",
    "Chrome again, and Chrome once more",
    "Thanks, Kaique",
    "Kaique wrote from the office",
]


def _frame() -> pl.DataFrame:
    return pl.DataFrame({"row": list(range(len(TEXTS))), "id": [f"x{i}" for i in range(len(TEXTS))], "text": TEXTS})


@pytest.mark.parametrize("rows", [1, 2, 4])
def test_batches_give_the_one_pass_result_even_when_a_value_is_found_in_another_batch(rows):
    whole = scrub_batch(_frame(), PiiConfig(), "classification")
    assert "Rubija" not in whole["text"][1] and "zoe.kim" not in whole["text"][4].lower()  # spread from row 0 / 2
    assert scrub_in_batches(_frame(), PiiConfig(), "classification", rows).equals(whole)


def test_without_consistency_batches_equal_one_pass_too():
    config = PiiConfig(consistent=False)
    whole = scrub_batch(_frame(), config, "classification")
    assert whole["text"][1].startswith("Rubija")
    assert scrub_in_batches(_frame(), config, "classification", 3).equals(whole)


def test_merged_candidates_keep_the_best_score_then_the_first_row():
    parts = pl.DataFrame({"key": ["kaique", "kaique", "kaique", "zoe"],
                          "entity": ["USERNAME", "PERSON", "PERSON", "EMAIL_ADDRESS"],
                          "score": [0.6, 0.85, 0.85, 1.0], "row": [0, 9, 3, 2]})
    assert merge_candidates(parts) == {"kaique": ("PERSON", 0.85), "zoe": ("EMAIL_ADDRESS", 1.0)}
    tie = pl.DataFrame({"key": ["a", "a"], "entity": ["USERNAME", "PERSON"], "score": [0.85, 0.85], "row": [7, 4]})
    assert merge_candidates(tie) == {"a": ("PERSON", 0.85)}


def test_prompt_response_batches_equal_one_pass():
    frame = pl.DataFrame({
        "row": [0, 1, 2], "id": ["g0", "g1", "g2"],
        "prompt": ["Hi, I am Rubija Hasanović, my card is blocked", "Rubija again: still blocked", None],
        "response": ["Sorry Rubija, we unblocked it", "Write to zoe.kim@example.org", "Thanks Rubija"],
    })
    whole = scrub_batch(frame, PiiConfig(), "generation")
    assert not any("Rubija" in (t or "") for t in whole["prompt"].to_list() + whole["response"].to_list())
    assert scrub_in_batches(frame, PiiConfig(), "generation", 1).equals(whole)
