"""How a dedup run is configured (:class:`DedupConfig`) and what it reports (:class:`DedupResult`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..embeddings import DEFAULT_MODEL
from ..errors import InvalidValue
from .minhash import BACKENDS, SHINGLES

METHODS = ("exact", "near", "semantic")


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class DedupConfig:
    """How duplicates are found. Defaults were chosen by measurement (``docs/dedup.md``)."""

    methods: tuple[str, ...] = field(default=METHODS, metadata={"help": "Methods to run: exact, near, semantic."})
    near_threshold: float = field(default=0.7, metadata={"help": "Jaccard similarity of word sets the near-duplicate candidate search is built for (bands for this minus 0.2), in (0, 1); candidates are then verified (curation.dedup.verify)."})
    semantic_threshold: float = field(default=0.9, metadata={"help": "Cosine similarity of MiniLM embeddings for a semantic duplicate, in (0, 1]."})
    shingle: str = field(default="word", metadata={"help": "Shingles for MinHash: word or char n-grams."})
    shingle_size: int = field(default=1, metadata={"help": "n of the shingle n-grams."})
    num_perm: int = field(default=128, metadata={"help": "MinHash permutations (signature length)."})
    backend: str = field(default="numpy", metadata={"help": "MinHash backend: numpy or rensa (Rust)."})
    seed: int = field(default=1, metadata={"help": "Seed of shingle hashing and MinHash (results are deterministic)."})
    max_neighbors: int = field(default=20, metadata={"help": "Semantic pairs kept per example (bounds edges in big clusters)."})
    memory_mb: int = field(default=128, metadata={"help": "Memory bound of one block of the semantic similarity search."})
    model: str = field(default=DEFAULT_MODEL, metadata={"help": "Embedding model name (cache key)."})

    def __post_init__(self) -> None:
        methods = tuple(dict.fromkeys(self.methods))
        object.__setattr__(self, "methods", methods)
        if not methods:
            raise InvalidValue("methods", "none", list(METHODS), hint="choose at least one method")
        for m in methods:
            if m not in METHODS:
                raise InvalidValue("--method", m, [*METHODS, "all"])
        if not 0.0 < self.near_threshold < 1.0:
            raise InvalidValue("near threshold", self.near_threshold,
                               hint="a Jaccard threshold must lie strictly between 0 and 1, e.g. 0.7")
        if not 0.0 < self.semantic_threshold <= 1.0:
            raise InvalidValue("semantic threshold", self.semantic_threshold,
                               hint="a cosine threshold must lie in (0, 1], e.g. 0.9")
        if self.shingle not in SHINGLES:
            raise InvalidValue("shingle", self.shingle, list(SHINGLES))
        if self.shingle_size < 1:
            raise InvalidValue("shingle_size", self.shingle_size, hint="it must be at least 1")
        if self.num_perm < 8:
            raise InvalidValue("num_perm", self.num_perm, hint="use at least 8 permutations (128 is the default)")
        if self.backend not in BACKENDS:
            raise InvalidValue("backend", self.backend, list(BACKENDS))
        if self.max_neighbors < 1 or self.memory_mb < 1:
            raise InvalidValue("max_neighbors / memory_mb", (self.max_neighbors, self.memory_mb), hint="both must be positive")

    @classmethod
    def for_method(cls, method: str = "all", threshold: float | None = None, **kw) -> DedupConfig:
        """The CLI's ``--method`` and ``--threshold``: the threshold applies to the one method named.

        ``--threshold`` with ``all`` is refused: use ``near_threshold`` / ``semantic_threshold``.
        """
        if method not in (*METHODS, "all"):
            raise InvalidValue("--method", method, [*METHODS, "all"])
        methods = METHODS if method == "all" else (method,)
        if threshold is not None:
            if method == "all":
                raise InvalidValue("--threshold", threshold, hint="with --method all, set --near-threshold and "
                                   "--semantic-threshold instead (or name one --method)")
            if method == "exact":
                raise InvalidValue("--threshold", threshold, hint="exact dedup has no threshold")
            kw[f"{method}_threshold"] = threshold
        return cls(methods=methods, **kw)


@dataclass(frozen=True)
class DedupResult:
    """Summary of a dedup run or of a regrouping after a reviewer's decision."""

    dataset: str
    groups: int
    duplicates: int
    by_method: dict[str, int]
    label_conflicts: int
    changed: int
    pairs: dict[str, int] = field(default_factory=dict)
    run_id: int | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)
