"""Pure algorithms behind the checks (NumPy / Polars, no store): label-issue flags, outliers, format rules.

Every function returns one row per flagged example with ``id``, ``score`` in [0, 1] (higher is
worse), ``detail`` (a sentence for a reviewer) and ``suggestion`` (or null); the check layer
(:mod:`curation.checks`) adds the check name and severity.
"""

from __future__ import annotations

import json
import re

import numpy as np
import polars as pl

from ..labels import LabelSchema

FLAG_SCHEMA = {"id": pl.Int64, "score": pl.Float64, "detail": pl.String, "suggestion": pl.String}
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def empty_flags() -> pl.DataFrame:
    return pl.DataFrame(schema=FLAG_SCHEMA)


# -- label issues: see :mod:`curation.checks.label_errors` ------------------------------------
def label_issue_flags(ids: np.ndarray, y: np.ndarray, found, classes: list[str]) -> pl.DataFrame:
    """Flags of :func:`curation.checks.label_errors.find_label_errors`'s result ``found``: score
    in [0, 1] (``found.score``), suggestion = the likeliest other label."""
    idx = np.flatnonzero(found.mask)
    if len(idx) == 0:
        return empty_flags()
    rows = found.probs[idx]
    detail = [
        f"likely mislabelled: the model gives the label '{classes[y[i]]}' probability {p[y[i]]:.2f} "
        f"and '{classes[s]}' {p[s]:.2f} ({found.source})"
        for i, p, s in zip(idx, rows, found.suggestion[idx])
    ]
    return pl.DataFrame({"id": ids[idx].astype(np.int64), "score": np.clip(found.score[idx], 0, 1).astype(np.float64),
                         "detail": detail, "suggestion": [classes[s] for s in found.suggestion[idx]]}, schema=FLAG_SCHEMA)


# -- outliers ---------------------------------------------------------------------------------
def knn_similarity(x: np.ndarray, k: int = 5, block: int = 2048) -> np.ndarray:
    """Mean cosine similarity of each row of ``x`` (L2-normalised) to its ``k`` nearest other rows."""
    n = x.shape[0]
    k = max(1, min(k, n - 1))
    out = np.zeros(n, dtype=np.float64)
    for s in range(0, n, block):
        sims = x[s:s + block] @ x.T
        rows = np.arange(sims.shape[0])
        sims[rows, s + rows] = -np.inf  # not its own neighbour
        top = np.partition(sims, -k, axis=1)[:, -k:]
        out[s:s + block] = top.mean(axis=1)
    return out


def outlier_flags(ids: np.ndarray, x: np.ndarray, labels: list[str | None], *, k: int = 5, z: float = 3.5,
                  max_similarity: float = 0.45) -> pl.DataFrame:
    """Examples far from every other example and every class.

    An example is an outlier when the mean similarity to its ``k`` nearest neighbours is both a
    robust low outlier (more than ``z`` median absolute deviations under the median) and below
    ``max_similarity`` in absolute terms (so a tight dataset does not flag its loosest members).
    The detail names the nearest class centroid (leave-one-out for the example's own class).
    Score: ``1 - similarity`` clipped to [0, 1].
    """
    n = x.shape[0]
    if n < 3:
        return empty_flags()
    sim = knn_similarity(x, k)
    med = np.median(sim)
    mad = np.median(np.abs(sim - med)) * 1.4826 or 1e-9
    mask = ((med - sim) / mad > z) & (sim < max_similarity)
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return empty_flags()
    lab = np.asarray([lb if lb is not None else "" for lb in labels], dtype=object)
    classes = sorted({lb for lb in lab if lb})
    details, suggestions = [], []
    sums = {c: x[lab == c].sum(axis=0) for c in classes}
    sizes = {c: int((lab == c).sum()) for c in classes}
    for i in idx:
        best, best_sim = None, -1.0
        for c in classes:
            s, m = sums[c], sizes[c]
            if lab[i] == c:
                s, m = s - x[i], m - 1
            if m == 0:
                continue
            cen = s / (np.linalg.norm(s) or 1.0)
            cs = float(x[i] @ cen)
            if cs > best_sim:
                best, best_sim = c, cs
        near = f"; the closest class is '{best}' (similarity {best_sim:.2f})" if best is not None else ""
        details.append(f"far from every other example (mean similarity to its {k} nearest: {sim[i]:.2f}, "
                       f"dataset median {med:.2f}){near}; likely off-topic or out of scope")
        suggestions.append("reject it if it is out of scope, or keep it as a deliberate edge case")
    return pl.DataFrame({"id": ids[idx].astype(np.int64), "score": np.clip(1 - sim[idx], 0, 1),
                         "detail": details, "suggestion": suggestions}, schema=FLAG_SCHEMA)


# -- schema and format rules ----------------------------------------------------------------
def schema_flags(frame: pl.DataFrame, schema: LabelSchema, task: str, rules: dict) -> pl.DataFrame:
    """Label-schema and format-rule violations, one row per (example, problem).

    Parameters
    ----------
    frame
        ``id``, ``text``, ``prompt``, ``response``, ``label``.
    schema
        The dataset's label schema (an open schema accepts any label).
    task
        ``classification`` checks ``text``; ``generation`` checks ``prompt`` and ``response``.
    rules
        ``min_chars`` (int), ``max_chars`` (int, response or text), ``required_phrases`` and
        ``forbidden_phrases`` (lists, case-insensitive, in the response or text), ``json``
        (bool: the response must parse as JSON), ``placeholders`` (``"allow"`` | ``"forbid"``,
        or a list of allowed placeholder names), ``require_label`` (bool).

    Returns
    -------
    polars.DataFrame
        ``id``, ``score`` (1.0), ``detail``, ``suggestion``, ``severity`` (``error`` for label
        problems and invalid JSON, ``warning`` otherwise).
    """
    rows: list[tuple] = []
    min_chars = int(rules.get("min_chars", 3))
    max_chars = rules.get("max_chars")
    required = [p.lower() for p in rules.get("required_phrases", [])]
    forbidden = [p.lower() for p in rules.get("forbidden_phrases", [])]
    placeholders = rules.get("placeholders", "allow")
    gen = task == "generation"
    for ex_id, text, prompt, response, label in frame.select("id", "text", "prompt", "response", "label").iter_rows():
        def add(detail: str, suggestion: str | None, severity: str = "warning") -> None:
            rows.append((ex_id, 1.0, detail, suggestion, severity))

        if label is None:
            if rules.get("require_label", not gen):
                add("no label", "give it a label from the schema", "error")
        else:
            problem = schema.check(label)
            if problem:
                add(problem, _closest_label(label, schema), "error")
        fields = [("prompt", prompt), ("response", response)] if gen else [("text", text)]
        for name, value in fields:
            stripped = (value or "").strip()
            if not stripped:
                add(f"{name} is empty", f"write the {name} or reject the example")
            elif len(stripped) < min_chars:
                add(f"{name} is too short ({len(stripped)} characters, minimum {min_chars}): {stripped!r}",
                    f"complete the {name} or reject the example")
        body_name, body = ("response", response) if gen else ("text", text)
        body = body or ""
        if max_chars is not None and len(body) > int(max_chars):
            add(f"{body_name} is too long ({len(body)} characters, maximum {int(max_chars)})", f"shorten the {body_name}")
        low = body.lower()
        for p in required:
            if p not in low:
                add(f"{body_name} lacks the required phrase {p!r}", f"add {p!r} to the {body_name}")
        for p in forbidden:
            if p in low:
                add(f"{body_name} contains the forbidden phrase {p!r}", f"remove {p!r} from the {body_name}")
        if rules.get("json") and body.strip():
            try:
                json.loads(body)
            except json.JSONDecodeError as exc:
                add(f"{body_name} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
                    "fix the JSON", "error")
        if placeholders != "allow":
            allowed = set() if placeholders == "forbid" else {str(p) for p in placeholders}
            bad = sorted({m for m in PLACEHOLDER.findall(body) if m not in allowed})
            if bad:
                add(f"{body_name} has unresolved placeholders: " + ", ".join("{{" + b + "}}" for b in bad),
                    "replace each placeholder with real text" if not allowed
                    else "allowed placeholders: " + ", ".join(sorted(allowed)))
    return pl.DataFrame(rows, schema={**FLAG_SCHEMA, "severity": pl.String}, orient="row")


def _closest_label(label: str, schema: LabelSchema) -> str | None:
    import difflib

    if schema.structured:
        return None
    close = difflib.get_close_matches(label, list(schema.labels), n=1, cutoff=0.6)
    return close[0] if close else None


# -- contradicting responses ------------------------------------------------------------------
def _words(expr: pl.Expr) -> pl.Expr:
    return expr.fill_null("").str.to_lowercase().str.extract_all(r"[\w']+").list.unique()


def response_conflicts(frame: pl.DataFrame, key: str = "key", max_jaccard: float = 0.3) -> pl.DataFrame:
    """Examples sharing a normalised prompt whose responses differ (word Jaccard below ``max_jaccard``).

    ``frame`` has ``id``, ``key`` (normalised prompt) and ``response``. One row per example in
    a conflicting pair: score = 1 - the lowest Jaccard, detail names the other examples.
    """
    f = frame.filter(pl.col(key) != "").select("id", key, words=_words(pl.col("response")))
    pairs = f.join(f, on=key, suffix="_b").filter(pl.col("id") < pl.col("id_b"))
    if pairs.height == 0:
        return empty_flags()
    inter = pl.col("words").list.set_intersection(pl.col("words_b")).list.len()
    union = pl.col("words").list.set_union(pl.col("words_b")).list.len()
    pairs = pairs.with_columns(jac=pl.when(union > 0).then(inter / union).otherwise(1.0)).filter(pl.col("jac") < max_jaccard)
    both = pl.concat([pairs.select(id="id", other="id_b", jac="jac"), pairs.select(id="id_b", other="id", jac="jac")])
    agg = both.group_by("id").agg(jac=pl.col("jac").min(), others=pl.col("other").sort().cast(pl.String).str.join(", "))
    return agg.sort("id").select(
        "id", score=(1 - pl.col("jac")).cast(pl.Float64),
        detail=pl.concat_str([pl.lit("same prompt as example(s) "), pl.col("others"),
                              pl.lit(" but a contradicting response (word overlap "),
                              pl.col("jac").round(2).cast(pl.String), pl.lit(")")]),
        suggestion=pl.lit("keep one consistent response for this prompt, or edit the prompts apart"),
    )
