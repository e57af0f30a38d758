"""Near duplicates and groups on Ray Data without gathering edges on the driver.

The same pure functions as the single-machine path, per block:

1. candidates: :func:`~curation.dedup.lsh.band_keys` per batch of representatives (one per
   exact key), shuffle by ``(band, bucket key)``, :func:`~curation.dedup.lsh.bucket_pairs` per
   block; a shuffle by ``(a, b)`` drops pairs found in several bands;
2. verification: both texts joined to each pair (two hash joins), then
   :func:`~curation.dedup.verify.verify` per block;
3. components of the verified edges by iterative min-label propagation: each round joins the
   labels to the edges, sends ``min(label a, label b)`` to both ends and keeps each node's minimum
   (a group-by); it stops when the sum of labels no longer falls (rounds ≈ the longest path);
4. stars: verified edges, rejected pairs inside one component and the members' texts are
   shuffled by component, and :func:`~curation.dedup.stars.star_edges` runs per block. Each
   component is whole in one block and ``star_edges`` treats components independently, so the
   groups equal the single-machine ones;
5. assignment: per star the smallest row is the group (every representative is the first row of
   its exact key); each row's group is its representative's, joined back to the rows.

The driver only sees counts (rows, edges, the label sum per round).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ..dedup.lsh import band_keys, band_params, bucket_pairs
from ..dedup.minhash import candidate_threshold, signatures, tokenize
from ..dedup.stars import star_edges
from ..dedup.verify import content_text, verify



def _pl(batch) -> pl.DataFrame:
    out = pl.from_arrow(batch)
    return out if isinstance(out, pl.DataFrame) else out.to_frame()


def content_batch(batch):
    frame = _pl(batch)
    return frame.select("row", content=content_text(pl.col("shingle_text"))).to_arrow()


def bands_batch(batch, dedup: dict):
    import pyarrow as pa

    frame = _pl(batch)
    bands, rows = band_params(candidate_threshold(dedup["near_threshold"]), dedup["num_perm"])
    hashes, offsets = tokenize(frame["content"], dedup["shingle"], dedup["shingle_size"], dedup["seed"])
    sig = signatures(hashes, offsets, dedup["num_perm"], dedup["seed"], dedup["backend"])
    keys = band_keys(sig, bands, rows, dedup["seed"])
    n = frame.height
    return pa.table({"band": np.tile(np.arange(bands, dtype=np.int16), n), "bkey": keys.ravel(),
                     "row": np.repeat(frame["row"].to_numpy(), bands)})


def buckets_batch(batch):
    import pyarrow as pa

    a, b = bucket_pairs(batch["band"].to_numpy(), batch["bkey"].to_numpy(), batch["row"].to_numpy())
    return pa.table({"a": a, "b": b})


# -- messages: one schema for every shuffle, ``kind`` tells what a row is --------------------------
T, R, Q, E, X, L, M = range(7)  # text, request, text of a pair end, edge, rejected pair, label, member
_MSG = {"k": pl.Int64, "kind": pl.Int8, "a": pl.Int64, "b": pl.Int64, "x": pl.Int64, "content": pl.Utf8}


def _msg(frame: pl.DataFrame, kind: int, **cols) -> pl.DataFrame:
    exprs = {c: cols.get(c, pl.lit(None, dtype)) for c, dtype in _MSG.items() if c != "kind"}
    return frame.select(kind=pl.lit(kind, pl.Int8), **exprs).select(list(_MSG)).cast(_MSG)


def _pair_key(a: str = "a", b: str = "b") -> pl.Expr:
    return pl.col(a) * (1 << 32) + pl.col(b)


def text_msgs_batch(batch):
    frame = _pl(batch)
    return _msg(frame, T, k=pl.col("row"), a=pl.col("row"), content=pl.col("content")).to_arrow()


def request_msgs_batch(batch):
    """Both ends of each candidate pair ask for their text (keyed by the end)."""
    frame = _pl(batch)
    return pl.concat([_msg(frame, R, k=pl.col("a"), a=pl.col("a"), b=pl.col("b"), x=pl.lit(0)),
                      _msg(frame, R, k=pl.col("b"), a=pl.col("a"), b=pl.col("b"), x=pl.lit(1))]).to_arrow()


def answer_batch(batch):
    """Per node block: each request gets its end's text, keyed by the pair."""
    frame = _pl(batch)
    texts = frame.filter(pl.col("kind") == T).select("k", "content")
    req = frame.filter(pl.col("kind") == R).drop("content").unique(["a", "b", "x"]).join(texts, on="k")
    return _msg(req, Q, k=_pair_key(), a=pl.col("a"), b=pl.col("b"), x=pl.col("x"), content=pl.col("content")).to_arrow()


def verify_msgs_batch(batch):
    """Per pair block: verify each pair once; verified pairs become ``E``, the others ``X``."""
    frame = _pl(batch).unique(["a", "b", "x"])
    wide = frame.filter(pl.col("x") == 0).select("a", "b", ca="content").join(
        frame.filter(pl.col("x") == 1).select("a", "b", cb="content"), on=["a", "b"])
    if not wide.height:
        return _msg(wide, E).to_arrow()
    texts = pl.concat([wide.select(t="a", c="ca"), wide.select(t="b", c="cb")]).unique("t")
    ok = verify(texts["c"], wide["a"].to_numpy(), wide["b"].to_numpy(), texts["t"].to_numpy())
    wide = wide.with_columns(ok=pl.Series(ok))
    return pl.concat([_msg(wide.filter(pl.col("ok")), E, k=pl.col("a"), a=pl.col("a"), b=pl.col("b")),
                      _msg(wide.filter(~pl.col("ok")), X, k=pl.col("a"), a=pl.col("a"), b=pl.col("b"))]).to_arrow()


def label_init_batch(batch):
    """Every end of a verified edge starts with the smaller end as its label; edges ask from both ends."""
    frame = _pl(batch)
    lab = pl.min_horizontal("a", "b")
    return pl.concat([_msg(frame, L, k=pl.col("a"), a=pl.col("a"), x=lab), _msg(frame, L, k=pl.col("b"), a=pl.col("b"), x=lab),
                      _msg(frame, R, k=pl.col("a"), a=pl.col("a"), b=pl.col("b")),
                      _msg(frame, R, k=pl.col("b"), a=pl.col("a"), b=pl.col("b"))]).to_arrow()


def label_node_batch(batch):
    """Per node block: a node's label is the smallest it was sent; each edge end reports it, keyed by the pair."""
    frame = _pl(batch)
    labels = frame.filter(pl.col("kind") == L).group_by("k").agg(x=pl.col("x").min())
    req = frame.filter(pl.col("kind") == R).drop("x").join(labels, on="k")
    return pl.concat([_msg(labels, L, k=pl.col("k"), a=pl.col("k"), x=pl.col("x")),
                      _msg(req, Q, k=_pair_key(), a=pl.col("a"), b=pl.col("b"), x=pl.col("x"))]).to_arrow()


def label_pair_batch(batch):
    """Per pair block: both ends of an edge are sent the smaller of their labels; edges ask again."""
    frame = _pl(batch)
    labels = frame.filter(pl.col("kind") == L)
    pairs = frame.filter(pl.col("kind") == Q).group_by("a", "b").agg(x=pl.col("x").min())
    return pl.concat([_msg(labels, L, k=pl.col("k"), a=pl.col("a"), x=pl.col("x")),
                      _msg(pairs, L, k=pl.col("a"), a=pl.col("a"), x=pl.col("x")),
                      _msg(pairs, L, k=pl.col("b"), a=pl.col("b"), x=pl.col("x")),
                      _msg(pairs, R, k=pl.col("a"), a=pl.col("a"), b=pl.col("b")),
                      _msg(pairs, R, k=pl.col("b"), a=pl.col("a"), b=pl.col("b"))]).to_arrow()


def label_only_batch(batch):
    frame = _pl(batch)
    return _msg(frame.filter(pl.col("kind") == L).group_by("k").agg(x=pl.col("x").min()), L,
                k=pl.col("k"), a=pl.col("k"), x=pl.col("x")).to_arrow()


def by_component_batch(batch):
    """Per node block (labels, texts, edges and rejected pairs keyed by their first end): key all by component."""
    frame = _pl(batch)
    labels = frame.filter(pl.col("kind") == L).select("k", c="x")
    members = frame.filter(pl.col("kind") == T).join(labels, on="k")
    pairs = frame.filter(pl.col("kind").is_in([E, X])).join(labels, on="k")
    return pl.concat([_msg(members, M, k=pl.col("c"), a=pl.col("a"), content=pl.col("content")),
                      _msg(pairs, E, k=pl.col("c"), a=pl.col("a"), b=pl.col("b"), x=pl.col("kind").cast(pl.Int64))]
                     ).to_arrow()


def stars_batch(batch):
    """Per component block: :func:`~curation.dedup.stars.star_edges`, then each star's smallest row is its group."""
    frame = _pl(batch)
    members = frame.filter(pl.col("kind") == M)
    good = frame.filter((pl.col("kind") == E) & (pl.col("x") == E))
    bad = frame.filter((pl.col("kind") == E) & (pl.col("x") == X))
    centre, member = star_edges(members["content"], good["a"].to_numpy(), good["b"].to_numpy(),
                                members["a"].to_numpy(), rejected=(bad["a"].to_numpy(), bad["b"].to_numpy()))
    stars = pl.DataFrame({"centre": centre.astype(np.int64), "member": member.astype(np.int64)})
    grp = stars.group_by("centre").agg(grp=pl.min_horizontal(pl.col("member").min(), pl.col("centre").first()))
    return pl.concat([stars.join(grp, on="centre").select(rep="member", grp="grp", member=pl.lit(True)),
                      grp.select(rep="centre", grp="grp", member=pl.lit(False))]).to_arrow()


def _shuffle(ds, partitions: int, fn):
    return ds.repartition(partitions, keys=["k"]).map_batches(fn, batch_size=None, batch_format="pyarrow")


def _components(msgs, partitions: int, max_rounds: int = 100):
    """Labels (``L`` messages: node ``a``, smallest node of its component ``x``) by min-label propagation.

    Each round: a shuffle by node (the node keeps its smallest label and reports it to its edges)
    and a shuffle by pair (both ends get the smaller label). Stops when no label falls.
    """
    state = msgs.materialize()
    total = None
    for _ in range(max_rounds):
        state = _shuffle(_shuffle(state, partitions, label_node_batch), partitions, label_pair_batch).materialize()
        labels = _shuffle(state, partitions, label_only_batch).materialize()
        new_total = labels.sum("x") if labels.count() else 0
        if new_total == total:
            return labels
        total = new_total
    return labels


def near_groups(ray_data, reps, dedup: dict, partitions: int, stats: dict):
    """Distributed near-duplicate groups of ``reps`` (``row``, ``shingle_text``): a ``(rep, grp)`` dataset or None.

    Fills ``stats["pairs"]`` with counts (candidates, verified pairs, star edges).
    """
    from ray.data.expressions import col

    texts = reps.map_batches(content_batch, batch_format="pyarrow").map_batches(
        text_msgs_batch, batch_format="pyarrow").materialize()
    cand = (texts.map_batches(lambda t: bands_batch(pl.from_arrow(t).select(row="a", content="content").to_arrow(), dedup),
                              batch_format="pyarrow")
            .repartition(partitions, keys=["band", "bkey"])
            .map_batches(buckets_batch, batch_size=None, batch_format="pyarrow")
            .map_batches(request_msgs_batch, batch_format="pyarrow"))
    answered = _shuffle(texts.union(cand), partitions, answer_batch)
    checked = _shuffle(answered, partitions, verify_msgs_batch).materialize()
    good = checked.filter(expr=col("kind") == E)
    stats["pairs"]["near_candidates"] = checked.count()
    stats["pairs"]["near_verified"] = good.count()
    if not stats["pairs"]["near_verified"]:
        return None
    labels = _components(good.map_batches(label_init_batch, batch_format="pyarrow"), partitions)
    stars = _shuffle(_shuffle(labels.union(texts, checked), partitions, by_component_batch), partitions,
                     stars_batch).materialize()
    stats["pairs"]["near"] = stars.filter(expr=col("member")).count()
    return stars.select_columns(["rep", "grp"])


I = 7  # an example's id (as text), keyed by its row


def group_msgs_batch(batch):
    frame = _pl(batch)
    return _msg(frame, L, k=pl.col("rep"), a=pl.col("rep"), x=pl.col("grp")).to_arrow()


def duplicate_batch(batch):
    """Per representative block: a row's canonical is its star's group, else its representative."""
    frame = _pl(batch)
    grp = frame.filter(pl.col("kind") == L).select("k", g="x")
    rows = frame.filter(pl.col("kind") == R).join(grp, on="k", how="left").with_columns(
        dup=pl.coalesce("g", "k")).filter(pl.col("dup") != pl.col("a"))
    return pl.concat([_msg(rows, Q, k=pl.col("dup"), a=pl.col("a"), x=pl.col("dup")),
                      _msg(frame.filter(pl.col("kind") == I), I, k=pl.col("k"), content=pl.col("content"))]).to_arrow()


def canonical_id_batch(batch):
    """Per canonical block: each duplicate row gets its canonical's id."""
    frame = _pl(batch)
    ids = frame.filter(pl.col("kind") == I).select("k", "content")
    dups = frame.filter(pl.col("kind") == Q).drop("content").join(ids, on="k")
    return dups.select(row="a", dup_row="x", duplicate_of="content").to_arrow()


def dedup_ray(ray_data, base, keyed, dedup: dict, near: bool, partitions: int, stats: dict):
    """``base`` with ``duplicate_of`` (the canonical's ``id``) from the exact heads of ``keyed`` and near groups.

    ``keyed`` has ``row``, ``head`` (first row of the exact key) and ``shingle_text`` (heads only).
    Only counts reach the driver; the one join left is the final one, of ``base`` with its links.
    """
    from ray.data.expressions import col

    stats["pairs"]["exact"] = keyed.filter(expr=col("row") != col("head")).count()
    heads = keyed.select_columns(["row", "head"])
    ids = base.select_columns(["row", "id"]).map_batches(
        lambda t: _msg(_pl(t), I, k=pl.col("row"), a=pl.col("row"), content=pl.col("id").cast(pl.Utf8)).to_arrow(),
        batch_format="pyarrow")
    msgs = heads.map_batches(lambda t: _msg(_pl(t), R, k=pl.col("head"), a=pl.col("row")).to_arrow(),
                             batch_format="pyarrow").union(ids)
    if near:
        reps = keyed.filter(expr=col("row") == col("head")).select_columns(["row", "shingle_text"])
        groups = near_groups(ray_data, reps, dedup, partitions, stats)
        stats["pairs"]["near"] = stats["pairs"]["exact"] + stats["pairs"].get("near", 0)
        if groups is not None:
            msgs = msgs.union(groups.map_batches(group_msgs_batch, batch_format="pyarrow"))
    links = _shuffle(_shuffle(msgs, partitions, duplicate_batch), partitions, canonical_id_batch).materialize()
    stats["duplicates"] = links.count()
    stats["groups"] = links.groupby("dup_row").count().count() if stats["duplicates"] else 0
    out = base.join(links.select_columns(["row", "duplicate_of"]), "left_outer", partitions, on=("row",))
    return out.map_batches(_cast_duplicate_of, batch_format="pyarrow")


def _cast_duplicate_of(batch):
    """``duplicate_of`` travelled as text: back to the type of ``id``."""
    import pyarrow as pa

    typ = batch.schema.field("id").type
    i = batch.schema.get_field_index("duplicate_of")
    return batch.set_column(i, pa.field("duplicate_of", typ), batch.column(i).cast(typ))
