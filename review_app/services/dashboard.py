"""Dashboard page: counts by status and label, activity, annotator agreement."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from curation import Store
from curation.checks import agreement_report
from curation.store import review as store_review


@dataclass
class Dashboard:
    by_status: pl.DataFrame
    by_label: pl.DataFrame
    activity: pl.DataFrame
    agreement: dict


def dashboard(store: Store, dataset: str) -> Dashboard:
    return Dashboard(store_review.counts_by(store, dataset, "status"), store_review.counts_by(store, dataset, "label"),
                     store_review.activity(store, dataset), agreement(store_review.annotation_matrix(store, dataset)))


def agreement(long: pl.DataFrame) -> dict:
    """Headline agreement of items with 2+ annotations (observed agreement, Krippendorff's alpha,
    Fleiss' kappa, mean pairwise Cohen's kappa); computed by :func:`curation.checks.agreement_report`."""
    rep = agreement_report(long)
    if rep.items == 0:
        return {"items": 0}
    return {"items": rep.items, "annotators": rep.annotators, "observed_agreement": rep.observed_agreement,
            "krippendorff_alpha": rep.krippendorff_alpha, "fleiss_kappa": rep.fleiss_kappa,
            "cohen_kappa": rep.cohen_kappa}
