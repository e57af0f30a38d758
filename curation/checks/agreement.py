"""Inter-annotator agreement on nominal labels: Cohen's and Fleiss' kappa, Krippendorff's alpha.

Pure functions over a long frame of annotations (``example_id``, ``annotator``, ``label``), as
:func:`curation.store.review.annotation_matrix` returns it. Only items with two or more
annotations count; an item annotated once carries no information about agreement.

Definitions (nominal data):

- **Cohen's kappa** of two annotators on the items both labelled: ``(p_o - p_e) / (1 - p_e)``,
  ``p_e`` from each annotator's own label distribution.
- **Fleiss' kappa** over all items: ``(P̄ - P̄_e) / (1 - P̄_e)`` where ``P_i`` is the share of
  agreeing pairs of ratings of item i (items may have different numbers of ratings) and
  ``P̄_e = Σ_j p_j²`` from the pooled label shares. Per label, the category kappa
  ``κ_j = 1 - Σ_i x_ij (n_i - x_ij) / (p_j q_j Σ_i n_i (n_i - 1))``.
- **Krippendorff's alpha**: ``1 - D_o / D_e`` from the coincidence matrix; it handles missing
  ratings and any number of annotators (checked against the ``krippendorff`` package in tests).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import combinations

import numpy as np
import polars as pl


@dataclass(frozen=True)
class AgreementReport:
    """Agreement statistics of one dataset's annotations.

    ``per_label`` rows: label, ratings, category kappa. ``per_annotator`` rows: annotator,
    items, agreement with the majority of the others, mean Cohen's kappa with each other
    annotator. ``pairs`` rows: annotator_a, annotator_b, items, observed agreement, Cohen's kappa.
    ``disagreements`` rows: example_id, n, labels (``"a ×2, b ×1"``), majority (``None`` on a
    tie), score (share not carrying the majority label).
    """

    items: int
    annotators: int
    ratings: int
    observed_agreement: float | None
    cohen_kappa: float | None      # mean pairwise Cohen's kappa
    fleiss_kappa: float | None
    krippendorff_alpha: float | None
    per_label: list[dict] = field(default_factory=list)
    per_annotator: list[dict] = field(default_factory=list)
    pairs: list[dict] = field(default_factory=list)
    disagreements: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def cohen_kappa(a: list[str], b: list[str]) -> float | None:
    """Cohen's kappa of two equally long label lists (``None`` when empty; 1.0 when both constant and equal)."""
    if len(a) != len(b):
        raise ValueError(f"cohen_kappa: lists differ in length ({len(a)} and {len(b)})")
    n = len(a)
    if n == 0:
        return None
    po = sum(x == y for x, y in zip(a, b)) / n
    labels = set(a) | set(b)
    pe = sum((a.count(lab) / n) * (b.count(lab) / n) for lab in labels)
    if pe >= 1.0:
        return 1.0 if po == 1.0 else 0.0
    return (po - pe) / (1 - pe)


def _counts(long: pl.DataFrame) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Item-by-label count matrix of items with 2+ ratings; returns (counts, labels, item ids)."""
    labels = sorted(long["label"].unique().to_list())
    items = sorted(long["example_id"].unique().to_list())
    li = {lab: j for j, lab in enumerate(labels)}
    ii = {it: i for i, it in enumerate(items)}
    counts = np.zeros((len(items), len(labels)), dtype=np.float64)
    for ex, lab in long.select("example_id", "label").iter_rows():
        counts[ii[ex], li[lab]] += 1
    return counts, labels, np.asarray(items, dtype=np.int64)


def fleiss_kappa(counts: np.ndarray) -> tuple[float | None, np.ndarray]:
    """Fleiss' kappa of an item-by-label count matrix (items with 2+ ratings), and per-label kappas."""
    n_i = counts.sum(axis=1)
    keep = n_i >= 2
    counts, n_i = counts[keep], n_i[keep]
    if counts.shape[0] == 0:
        return None, np.full(counts.shape[1], np.nan)
    p_i = (counts * (counts - 1)).sum(axis=1) / (n_i * (n_i - 1))
    p_j = counts.sum(axis=0) / counts.sum()
    p_bar, pe = p_i.mean(), float((p_j ** 2).sum())
    overall = 1.0 if pe >= 1.0 else float((p_bar - pe) / (1 - pe))
    denom = p_j * (1 - p_j) * (n_i * (n_i - 1)).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        per = 1 - (counts * (n_i[:, None] - counts)).sum(axis=0) / denom
    return overall, np.where(denom > 0, per, np.nan)


def krippendorff_alpha(counts: np.ndarray) -> float | None:
    """Krippendorff's alpha (nominal) of an item-by-label count matrix; ``None`` without pairable ratings."""
    n_u = counts.sum(axis=1)
    counts = counts[n_u >= 2]
    n_u = n_u[n_u >= 2]
    if counts.shape[0] == 0:
        return None
    # coincidence matrix o_ck = Σ_u (n_uc n_uk - [c=k] n_uc) / (n_u - 1)
    w = 1.0 / (n_u - 1)
    o = (counts * w[:, None]).T @ counts - np.diag((counts * w[:, None]).sum(axis=0))
    n_c = o.sum(axis=1)
    n = n_c.sum()
    d_o = o.sum() - np.trace(o)
    d_e = (n_c.sum() ** 2 - (n_c ** 2).sum()) / (n - 1)
    if d_e == 0:
        return 1.0
    return float(1 - d_o / d_e)


def _majority(row: np.ndarray) -> int | None:
    top = row.max()
    winners = np.flatnonzero(row == top)
    return int(winners[0]) if len(winners) == 1 else None


def agreement_report(long: pl.DataFrame) -> AgreementReport:
    """All agreement statistics of a long annotation frame (``example_id``, ``annotator``, ``label``).

    Items with fewer than two annotations are ignored. Returns zeros and ``None`` statistics
    when no item has two annotations.
    """
    long = long.filter(pl.col("label").is_not_null())
    multi = long.filter(pl.len().over("example_id") >= 2)
    if multi.height == 0:
        return AgreementReport(0, 0, 0, None, None, None, None)
    counts, labels, items = _counts(multi)
    n_i = counts.sum(axis=1)
    agreeing_pairs = (counts * (counts - 1) / 2).sum()
    all_pairs = (n_i * (n_i - 1) / 2).sum()
    fk, per_label_k = fleiss_kappa(counts)
    alpha = krippendorff_alpha(counts)

    by_item: dict[int, dict[str, str]] = {}
    for ex, ann, lab in multi.select("example_id", "annotator", "label").iter_rows():
        by_item.setdefault(ex, {})[ann] = lab
    annotators = sorted(multi["annotator"].unique().to_list())
    pairs = []
    for x, y in combinations(annotators, 2):
        common = [it for it, d in by_item.items() if x in d and y in d]
        if not common:
            continue
        a = [by_item[it][x] for it in common]
        b = [by_item[it][y] for it in common]
        pairs.append({"annotator_a": x, "annotator_b": y, "items": len(common),
                      "observed_agreement": sum(p == q for p, q in zip(a, b)) / len(common),
                      "cohen_kappa": cohen_kappa(a, b)})
    per_annotator = []
    for ann in annotators:
        agree = total = 0
        for d in by_item.values():
            if ann not in d:
                continue
            others = [lab for who, lab in d.items() if who != ann]
            votes = {lab: others.count(lab) for lab in set(others)}
            top = max(votes.values())
            winners = [lab for lab, v in votes.items() if v == top]
            if len(winners) == 1:  # a tie among the others has no majority to agree with
                total += 1
                agree += d[ann] == winners[0]
        kappas = [p["cohen_kappa"] for p in pairs if ann in (p["annotator_a"], p["annotator_b"])
                  and p["cohen_kappa"] is not None]
        per_annotator.append({"annotator": ann, "items": sum(ann in d for d in by_item.values()),
                              "agreement_with_majority": agree / total if total else None,
                              "mean_cohen_kappa": float(np.mean(kappas)) if kappas else None})
    per_label = [{"label": lab, "ratings": int(counts[:, j].sum()),
                  "kappa": None if np.isnan(per_label_k[j]) else float(per_label_k[j])}
                 for j, lab in enumerate(labels)]
    disagreements = []
    for i, ex in enumerate(items):
        row = counts[i]
        if (row > 0).sum() < 2:
            continue
        order = np.argsort(-row, kind="stable")
        maj = _majority(row)
        disagreements.append({
            "example_id": int(ex), "n": int(row.sum()),
            "labels": ", ".join(f"{labels[j]} ×{int(row[j])}" for j in order if row[j] > 0),
            "majority": labels[maj] if maj is not None else None,
            "score": float(1 - row.max() / row.sum()),
        })
    kappas = [p["cohen_kappa"] for p in pairs if p["cohen_kappa"] is not None]
    return AgreementReport(
        items=len(items), annotators=len(annotators), ratings=int(counts.sum()),
        observed_agreement=float(agreeing_pairs / all_pairs) if all_pairs else None,
        cohen_kappa=float(np.mean(kappas)) if kappas else None,
        fleiss_kappa=fk, krippendorff_alpha=alpha,
        per_label=per_label, per_annotator=per_annotator, pairs=pairs, disagreements=disagreements,
    )
