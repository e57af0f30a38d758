"""Deduplication: exact, near (MinHash LSH) and semantic (MiniLM) duplicate groups.

``run`` finds and stores groups, ``groups`` lists and edits them (reviewer decisions),
``contamination`` reports leakage into an evaluation file; ``algos``, ``minhash`` (candidates) and
``verify`` (verification of candidates) and ``stars`` (grouping without chaining) are pure;
``plan`` splits a run into read / compute / write so the store's owner computes in ``worker``, a
process that does not hold the store.
"""

from __future__ import annotations

from .contamination import ContaminationReport, check_contamination
from .groups import DupGroup, GroupPage, list_groups, merge_groups, set_canonical, split_group
from .run import DedupConfig, DedupResult, regroup, run_dedup

__all__ = [
    "ContaminationReport", "DedupConfig", "DedupResult", "DupGroup", "GroupPage", "check_contamination",
    "list_groups", "merge_groups", "regroup", "run_dedup", "set_canonical", "split_group",
]
