"""Coverage report of a dataset: label balance, lengths, duplicates, flags, difficult cases, sources.

:func:`coverage_report` returns a :class:`CoverageReport` whose frames feed the app's charts
(Altair) and whose :meth:`CoverageReport.to_markdown` is what ``tuneloop check --report`` prints.

Difficult cases (vague, emotional, incomplete, hostile, out of scope) are found by a small
logistic regression on MiniLM embeddings, trained on the hand-written seed set
``data/difficult_cases/seed.csv`` (which also holds ``normal`` examples). It is a coarse
detector meant to show whether such cases exist at all, not a precise label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from ..embeddings import DEFAULT_MODEL, Encoder, embed
from ..errors import BadInput
from ..store import checks as store_checks
from ..store.core import Store

SEED_FILE = Path(__file__).resolve().parents[2] / "data" / "difficult_cases" / "seed.csv"
DIFFICULT = ("vague", "emotional", "incomplete", "hostile", "out_of_scope")
LENGTH_BINS = (0, 10, 20, 40, 80, 160, 320, 640)


@dataclass(frozen=True)
class CoverageConfig:
    """Settings of the coverage report."""

    min_label_count: int = field(default=10, metadata={"help": "Labels with fewer examples are reported as rare."})
    difficult: bool = field(default=True, metadata={"help": "Detect difficult cases (embeds every example)."})
    difficult_threshold: float = field(default=0.5, metadata={"help": "Probability a difficult category needs, in (0, 1)."})
    seed_file: str = field(default=str(SEED_FILE), metadata={"help": "CSV of hand-written seed examples (text, category)."})
    model: str = field(default=DEFAULT_MODEL, metadata={"help": "Embedding model name (cache key)."})

    def __post_init__(self) -> None:
        if self.min_label_count < 1:
            raise BadInput(f"min_label_count must be at least 1, got {self.min_label_count}")
        if not 0.0 < self.difficult_threshold < 1.0:
            raise BadInput(f"difficult_threshold must lie in (0, 1), got {self.difficult_threshold}")


@dataclass
class CoverageReport:
    """Frames for charts, and headline numbers.

    ``label_balance``: label, n, share, rare. ``lengths``: bin (e.g. ``"20-39"``), lo, n.
    ``per_source``: source_id, file_name, examples, labels, duplicates, flagged.
    ``difficult``: category, n, share, examples (up to 3 texts). ``flags``: check, severity, n.
    """

    dataset: str
    examples: int
    labels: int
    rare_labels: list[str]
    duplicate_share: float
    flagged_share: float
    label_balance: pl.DataFrame
    lengths: pl.DataFrame
    per_source: pl.DataFrame
    difficult: pl.DataFrame
    flags: pl.DataFrame
    min_label_count: int = 10

    def to_dict(self) -> dict:
        out = {k: getattr(self, k) for k in ("dataset", "examples", "labels", "rare_labels", "duplicate_share",
                                             "flagged_share", "min_label_count")}
        for k in ("label_balance", "lengths", "per_source", "difficult", "flags"):
            out[k] = getattr(self, k).to_dicts()
        return out

    def to_markdown(self) -> str:
        """The report as Markdown (what the CLI prints)."""
        lines = [f"# Coverage of '{self.dataset}'", "",
                 f"{self.examples} examples, {self.labels} labels; {self.duplicate_share:.1%} duplicates, "
                 f"{self.flagged_share:.1%} with open flags.", ""]
        lines += ["## Label balance", "",
                  f"Rare labels (under {self.min_label_count} examples): "
                  + (", ".join(self.rare_labels) if self.rare_labels else "none"), ""]
        lines += _table(self.label_balance.with_columns(share=(pl.col("share") * 100).round(1)),
                        ["label", "n", "share"], ["label", "examples", "share %"], limit=30)
        lines += ["", "## Length (characters)", ""]
        lines += _table(self.lengths, ["bin", "n"], ["characters", "examples"])
        lines += ["", "## Difficult cases", ""]
        if self.difficult.height:
            lines += _table(self.difficult.with_columns(share=(pl.col("share") * 100).round(1),
                                                        examples=pl.col("examples").list.join(" | ")),
                            ["category", "n", "share", "examples"], ["category", "examples", "share %", "e.g."])
        else:
            lines.append("not computed")
        lines += ["", "## Open flags", ""]
        lines += _table(self.flags, ["check", "severity", "n"], ["check", "severity", "open"]) if self.flags.height \
            else ["none"]
        lines += ["", "## Per source", ""]
        lines += _table(self.per_source, ["source_id", "file_name", "examples", "labels", "duplicates", "flagged"],
                        ["source", "file", "examples", "labels", "duplicates", "flagged"])
        return "\n".join(lines) + "\n"


def _table(frame: pl.DataFrame, cols: list[str], heads: list[str], limit: int | None = None) -> list[str]:
    def cell(v: object) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    rows = frame.select(cols).rows()
    for r in rows[:limit] if limit else rows:
        out.append("| " + " | ".join(cell(v) for v in r) + " |")
    if limit and len(rows) > limit:
        out.append(f"| ... {len(rows) - limit} more | |" + " |" * (len(heads) - 2))
    return out


def length_histogram(lengths: pl.Series) -> pl.DataFrame:
    """Counts of lengths in the bins of ``LENGTH_BINS`` (the last bin is open-ended)."""
    edges = list(LENGTH_BINS)
    names = [f"{lo}-{hi - 1}" for lo, hi in zip(edges, edges[1:])] + [f"{edges[-1]}+"]
    idx = np.searchsorted(np.asarray(edges[1:]), lengths.fill_null(0).to_numpy(), side="right")
    counts = np.bincount(idx, minlength=len(names))
    return pl.DataFrame({"bin": names, "lo": edges, "n": counts.astype(np.int64)})


def load_seed(path: str | Path = SEED_FILE) -> pl.DataFrame:
    """The difficult-case seed set: ``text``, ``category`` (one of DIFFICULT or ``normal``)."""
    p = Path(path)
    if not p.is_file():
        raise BadInput(f"{p}:0:-: difficult-case seed file not found")
    seed = pl.read_csv(p, infer_schema=False)
    missing = {"text", "category"} - set(seed.columns)
    if missing:
        raise BadInput(f"{p}:1:-: missing column(s) {', '.join(sorted(missing))} (columns: {', '.join(seed.columns)})")
    bad = seed.with_row_index("row", offset=2).filter(~pl.col("category").is_in([*DIFFICULT, "normal"]))
    if bad.height:
        r = bad.row(0, named=True)
        raise BadInput(f"{p}:{r['row']}:category: {r['category']!r} is not valid "
                       f"(choose one of: {', '.join([*DIFFICULT, 'normal'])})")
    return seed


def classify_difficult(x: np.ndarray, seed_x: np.ndarray, seed_y: list[str], threshold: float = 0.5) -> list[str]:
    """Category of each row of ``x``: a difficult category when its probability reaches ``threshold``, else ``normal``."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=10.0, max_iter=500, class_weight="balanced").fit(seed_x, seed_y)
    probs = model.predict_proba(x)
    classes = list(model.classes_)
    best = probs.argmax(axis=1)
    return [classes[b] if classes[b] != "normal" and probs[i, b] >= threshold else "normal"
            for i, b in enumerate(best)]


def coverage_report(store: Store, dataset: str, config: CoverageConfig | None = None, *,
                    encoder: Encoder | None = None, progress=None) -> CoverageReport:
    """Coverage of ``dataset`` as data and Markdown (see :class:`CoverageReport`).

    Counts every example (duplicates too: ``duplicate_share`` says how many are not the
    canonical of their group); flags are the open ones of any check.

    Warnings
    --------
    With ``config.difficult`` (default) every example is embedded (cached; ~400 texts/s on 2
    cores the first time).
    """
    config = config or CoverageConfig()
    ds = store.get_dataset(dataset)
    f = store_checks.load_examples(store, dataset)
    n = f.height
    content = pl.coalesce(pl.col("text"), pl.concat_str([pl.col("prompt").fill_null(""), pl.col("response").fill_null("")],
                                                         separator="\n"))
    f = f.with_columns(length=content.str.len_chars())
    flagged = store_checks.flagged_ids(store, dataset)
    f = f.join(flagged, on="id", how="left").with_columns(pl.col("flags").fill_null(0))
    balance = (f.filter(pl.col("label").is_not_null()).group_by("label").len("n")
               .with_columns(share=pl.col("n") / max(n, 1))
               .sort(["n", "label"], descending=[True, False]))
    if not ds.label_schema.structured and ds.label_schema.labels:  # allowed labels never used are the rarest
        unused = [lab for lab in ds.label_schema.labels if lab not in set(balance["label"].to_list())]
        if unused:
            balance = pl.concat([balance, pl.DataFrame({"label": unused, "n": [0] * len(unused),
                                                        "share": [0.0] * len(unused)}).cast(balance.schema)])
    balance = balance.with_columns(rare=pl.col("n") < config.min_label_count)
    per_source = (
        f.group_by("source_id").agg(examples=pl.len(), labels=pl.col("label").n_unique(),
                                    duplicates=pl.col("duplicate_of").is_not_null().sum(),
                                    flagged=(pl.col("flags") > 0).sum())
        .join(store_checks.sources(store, dataset), on="source_id", how="left").sort("source_id")
        .select("source_id", "file_name", "examples", "labels", "duplicates", "flagged")
    )
    difficult = pl.DataFrame(schema={"category": pl.String, "n": pl.Int64, "share": pl.Float64,
                                     "examples": pl.List(pl.String)})
    if config.difficult and n:
        seed = load_seed(config.seed_file)
        seed_x = embed(store, texts=seed["text"].to_list(), model=config.model, encoder=encoder)
        x = embed(store, example_ids=f["id"].to_list(), model=config.model, encoder=encoder,
                  progress=(lambda d, t: progress("embedding", d, t)) if progress else None)
        cats = classify_difficult(x, seed_x, seed["category"].to_list(), config.difficult_threshold)
        texts = f.select(content.alias("c"))["c"].to_list()
        rows = []
        for cat in DIFFICULT:
            hits = [t for t, c in zip(texts, cats) if c == cat]
            rows.append({"category": cat, "n": len(hits), "share": len(hits) / n, "examples": hits[:3]})
        difficult = pl.DataFrame(rows, schema=difficult.schema)
    flags = pl.DataFrame([{"check": c, "severity": s, "n": k} for c, d in store_checks.open_flag_counts(store, dataset).items()
                          for s, k in d.items()], schema={"check": pl.String, "severity": pl.String, "n": pl.Int64})
    return CoverageReport(
        dataset=dataset, examples=n, labels=int(balance.filter(pl.col("n") > 0).height),
        rare_labels=balance.filter(pl.col("rare"))["label"].to_list(),
        duplicate_share=float(f["duplicate_of"].is_not_null().sum() / n) if n else 0.0,
        flagged_share=float((f["flags"] > 0).sum() / n) if n else 0.0,
        label_balance=balance, lengths=length_histogram(f["length"]), per_source=per_source,
        difficult=difficult, flags=flags, min_label_count=config.min_label_count,
    )
