"""The embedding cache: computed once per content hash and model, reused across calls and stages."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from curation import ColumnMap, InvalidValue, import_file
from curation.embeddings import content_hash, embed
from curation.store.dedup import count_embeddings


class CountingEncoder:
    def __init__(self):
        self.seen: list[str] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.seen += texts
        out = np.array([[len(t), 1.0, t.count(" ")] for t in texts], dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture
def loaded(store, tmp_path):
    pl.DataFrame({"id": ["a", "b", "c"], "text": ["one text", "two texts here", "one text again"]}).write_csv(tmp_path / "e.csv")
    import_file(store, tmp_path / "e.csv", "e", columns=ColumnMap())
    return store


def test_embed_computes_each_content_once_and_returns_rows_in_the_order_asked(loaded):
    enc = CountingEncoder()
    first = embed(loaded, example_ids=[3, 1, 2, 1], encoder=enc, model="fake")
    assert enc.seen == ["one text again", "one text", "two texts here"]
    again = embed(loaded, texts=["one text", "brand new"], encoder=enc, model="fake")
    assert enc.seen[3:] == ["brand new"]  # "one text" came from the cache (same content hash as example 1)
    np.testing.assert_array_equal(again[0], first[1])
    np.testing.assert_array_equal(first[1], first[3])
    assert count_embeddings(loaded, "fake") == 4


def test_an_edited_example_is_embedded_again_under_its_new_hash(loaded):
    enc = CountingEncoder()
    embed(loaded, example_ids=[1], encoder=enc, model="fake")
    loaded.update_example(1, 1, {"text": "one edited text"}, actor="ann", action="edit")
    embed(loaded, example_ids=[1], encoder=enc, model="fake")
    assert enc.seen == ["one text", "one edited text"]
    assert loaded.get_example(1)["content_hash"] == content_hash("one edited text")


def test_embed_needs_exactly_one_of_ids_or_texts(loaded):
    with pytest.raises(InvalidValue, match="pass exactly one of example_ids= or texts="):
        embed(loaded, encoder=CountingEncoder())
    with pytest.raises(InvalidValue, match="example id: 99 is not valid; no such example in the store"):
        embed(loaded, example_ids=[99], encoder=CountingEncoder())
