"""Deduplication: exact, near (MinHash LSH) and semantic (MiniLM) duplicate groups.

``run`` finds and stores groups, ``groups`` lists and edits them (reviewer decisions),
``contamination`` reports leakage into an evaluation file; ``algos``, ``minhash`` (candidates) and
``verify`` (verification of candidates, grouping without chaining) are pure.
"""

from __future__ import annotations

from .algos import (
    METHOD_RANK,
    STATUS_RANK,
    choose_canonical,
    components,
    content_expr,
    dedup_keys,
    exact_pairs,
    group,
    label_conflicts,
    normalize,
    normalize_for_shingles,
    pair_metrics,
    semantic_pairs,
)
from .minhash import (
    BACKENDS,
    SHINGLES,
    band_keys,
    band_params,
    bucket_pairs,
    candidate_pairs,
    candidate_threshold,
    estimated_jaccard,
    lsh_params,
    near_pairs,
    signatures,
    tokenize,
)
from .verify import FILLERS, content_text, verify
from .stars import star_edges
from .run import (
    METHODS,
    DedupConfig,
    DedupResult,
    find_pairs,
    Progress,
    regroup,
    run_dedup,
)
from .groups import (
    DupGroup,
    GroupPage,
    list_groups,
    merge_groups,
    set_canonical,
    split_group,
)
from .contamination import (check_contamination, ContaminationReport, read_against,)
