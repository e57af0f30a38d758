"""Every SQL statement of PII scrubbing and PII review (functions taking a :class:`Store`).

Where raw values may live: only in ``pii_originals`` (a vault no export, snapshot or revision
reads). Every write that changes an example's text bumps its version and appends a revision
in the same transaction, and the raw values it removed are purged from that example's whole
revision history in that transaction too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..errors import BadInput, ExampleNotFound, InvalidValue, StaleVersion
from ..pii.scrub import PLACEHOLDER_RX, Replacement, ScrubResult, placeholder_name
from .core import Store, _json, now
from .pii_residue import purge_copies

TEXT_FIELDS = ("text", "prompt", "response")
FINDING_COLUMNS = "id, example_id, field, entity, start_pos, end_pos, score, action, placeholder, reviewed_by, reviewed_at"


class FindingNotFound(BadInput):
    def __init__(self, finding_id: object):
        super().__init__(f"PII finding {finding_id} does not exist (it may have been rejected already); "
                         "reload the example's findings")


class OriginalPurged(BadInput):
    def __init__(self, finding_id: int, placeholder: str):
        super().__init__(
            f"PII finding {finding_id} ({placeholder}): the original value was purged after scrubbing, so it "
            "cannot be restored automatically; edit the text by hand, or scrub with --keep-original (admin)")


@dataclass(frozen=True)
class Finding:
    """One PII finding as the review page shows it (span in the stored, scrubbed text)."""

    id: int
    example_id: int
    field: str
    entity: str
    start: int
    end: int
    score: float | None
    action: str  # replaced | review | confirmed | missed
    placeholder: str | None
    reviewed_by: str | None
    has_original: bool


_FINDING_SELECT = """SELECT f.id, f.example_id, f.field, f.entity, f.start_pos, f.end_pos, f.score, f.action,
       f.placeholder, f.reviewed_by, o.finding_id IS NOT NULL
FROM pii_findings f LEFT JOIN pii_originals o ON o.finding_id = f.id"""


@dataclass
class ApplyCounts:
    changed: int = 0
    unchanged: int = 0
    stale: int = 0
    findings: int = 0
    flagged: int = 0
    copies: int = 0  # notes, reasons, generation prompts purged of the replaced values
    old_hashes: list = field(default_factory=list)  # content hashes before the scrub (embedding cache keys)


def examples_to_scrub(store: Store, dataset: str, config_hash: str, *, force: bool = False) -> list[dict]:
    """Examples whose current content was not yet scrubbed with these detection settings."""
    skip = "" if force else """AND NOT EXISTS (SELECT 1 FROM pii_scrubbed s WHERE s.example_id = e.id
                                 AND s.content_hash = e.content_hash AND s.config_hash = ?)"""
    return store._dicts(
        f"SELECT e.id, e.version, e.text, e.prompt, e.response, e.content_hash FROM examples e WHERE e.dataset = ? {skip} ORDER BY e.id",
        [dataset] if force else [dataset, config_hash])


def _purge(value, pairs: list[tuple[str, str]]):
    if isinstance(value, str):
        for original, placeholder in pairs:
            value = value.replace(original, placeholder)
        return value
    if isinstance(value, dict):
        return {k: _purge(v, pairs) for k, v in value.items()}
    if isinstance(value, list):
        return [_purge(v, pairs) for v in value]
    return value


def _purge_revisions(cur, example_id: int, pairs: list[tuple[str, str]]) -> None:
    """Replace raw values by their placeholders in every revision of the example (longest first)."""
    pairs = sorted({p for p in pairs if p[0]}, key=lambda p: -len(p[0]))
    if not pairs:
        return
    rows = cur.execute("SELECT id, before, after FROM revisions WHERE example_id = ?", [example_id]).fetchall()
    for rid, before, after in rows:
        new = [_json(_purge(json.loads(x), pairs)) if x else x for x in (before, after)]
        if new != [before, after]:
            cur.execute("UPDATE revisions SET before = ?, after = ? WHERE id = ?", [*new, rid])


def _mark_scrubbed(cur, example_id: int, config_hash: str) -> None:
    cur.execute("""INSERT OR REPLACE INTO pii_scrubbed
                   SELECT id, content_hash, ?, ? FROM examples WHERE id = ?""", [config_hash, now(), example_id])


def _keep_scrubbed_mark(cur, example_id: int) -> None:
    """After a reviewer's change, the stored text counts as scrubbed (under the settings it had)."""
    cur.execute("""UPDATE pii_scrubbed SET content_hash = (SELECT content_hash FROM examples WHERE id = ?),
                   scrubbed_at = ? WHERE example_id = ?""", [example_id, now(), example_id])


def _insert_finding(cur, example_id: int, r: Replacement, keep: str | None) -> int:
    fid = cur.execute("SELECT nextval('pii_finding_id_seq')").fetchall()[0][0]
    cur.execute(f"INSERT INTO pii_findings ({FINDING_COLUMNS}, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)",
                [fid, example_id, r.field, r.entity, r.start, r.end, r.score, r.action, r.placeholder, now()])
    if keep:
        cur.execute("INSERT INTO pii_originals VALUES (?, ?, ?, ?, ?, ?)",
                    [fid, example_id, r.field, r.original, keep, now()])
    return fid


def _raise_review_flag(cur, dataset: str, example_id: int, replacements: list[Replacement]) -> bool:
    review = [r for r in replacements if r.action == "review"]
    if not review:
        return False
    exists = cur.execute("SELECT count(*) FROM flags WHERE example_id = ? AND check_name = 'pii_review' "
                         "AND resolution IS NULL", [example_id]).fetchall()[0][0]
    if exists:
        return False
    kinds = ", ".join(sorted({f"{r.entity} in {r.field}" for r in review}))
    cur.execute(
        "INSERT INTO flags (id, example_id, dataset, check_name, severity, score, detail, suggestion, created_at) "
            "VALUES (nextval('flag_id_seq'), ?, ?, 'pii_review', 'warning', ?, ?, ?, ?)",
        [example_id, dataset, min(r.score for r in review),
         f"{len(review)} low-confidence PII finding(s): {kinds}",
         "check each highlighted placeholder: confirm it, or reject a false positive to restore the text", now()])
    return True


def apply_scrub(store: Store, dataset: str, items: list[tuple[dict, ScrubResult]], *, actor: str,
                config_hash: str, keep_original: bool = False) -> ApplyCounts:
    """Store scrubbed examples: text, findings, review flags, scrub marks; one transaction per example.

    The revision of the scrub records the changed fields with raw values already replaced by their
    placeholders, and the example's older revisions are purged the same way. Originals are kept in
    ``pii_originals`` for findings that need review (until reviewed), or for all with ``keep_original``.
    An example changed by someone else meanwhile is skipped and counted as ``stale``.
    """
    counts = ApplyCounts()
    for row, res in items:
        try:
            with store.transaction() as cur:
                if res.changed:
                    changes = {f: res.fields[f] for f in res.fields if res.fields[f] != row[f]}
                    pairs = [(r.original, r.placeholder) for r in res.replacements]
                    before = _purge({f: row[f] for f in changes}, sorted(pairs, key=lambda p: -len(p[0])))
                    summary = {"pii": [{"field": r.field, "entity": r.entity, "placeholder": r.placeholder}
                                       for r in res.replacements]}
                    store.apply_change(cur, row["id"], row["version"], changes, actor=actor, action="pii_scrub",
                           before=before, after=changes | summary,
                           reason=f"replaced {len(res.replacements)} PII span(s) with placeholders")
                    _purge_revisions(cur, row["id"], pairs)
                    counts.copies += purge_copies(cur, row["id"], pairs)
                    counts.old_hashes.append(row.get("content_hash"))
                    cur.execute("DELETE FROM pii_findings WHERE example_id = ? AND action IN ('replaced', 'review') "
                                "AND field IN (SELECT unnest(?::VARCHAR[]))", [row["id"], list(changes)])
                    for r in res.replacements:
                        keep = "keep_original" if keep_original else ("review" if r.action == "review" else None)
                        _insert_finding(cur, row["id"], r, keep)
                    counts.flagged += _raise_review_flag(cur, dataset, row["id"], res.replacements)
                    counts.findings += len(res.replacements)
                    counts.changed += 1
                else:
                    counts.unchanged += 1
                _mark_scrubbed(cur, row["id"], config_hash)
        except StaleVersion:
            counts.stale += 1
    return counts


# -- review -------------------------------------------------------------------------------
def example_findings(store: Store, example_id: int) -> list[Finding]:
    """The findings of one example, by field and position, for highlighting on the queue page."""
    rows = store.cursor().execute(
        f"""{_FINDING_SELECT} WHERE f.example_id = ? ORDER BY f.field, f.start_pos""", [example_id]).fetchall()
    return [Finding(*r) for r in rows]


def _finding(cur, finding_id: int) -> Finding:
    rows = cur.execute(f"{_FINDING_SELECT} WHERE f.id = ?", [finding_id]).fetchall()
    if not rows:
        raise FindingNotFound(finding_id)
    return Finding(*rows[0])


def _resolve_flag_if_done(cur, example_id: int, actor: str) -> None:
    left = cur.execute("SELECT count(*) FROM pii_findings WHERE example_id = ? AND action = 'review'",
                       [example_id]).fetchall()[0][0]
    if left == 0:
        cur.execute("""UPDATE flags SET resolution = 'reviewed', resolved_by = ?, resolved_at = ?
                       WHERE example_id = ? AND check_name = 'pii_review' AND resolution IS NULL""",
                    [actor, now(), example_id])


def _version(cur, example_id: int, expected_version: int | None) -> int:
    rows = cur.execute("SELECT version FROM examples WHERE id = ?", [example_id]).fetchall()
    if not rows:
        raise ExampleNotFound(example_id)
    return rows[0][0] if expected_version is None else expected_version


def confirm_finding(store: Store, finding_id: int, *, actor: str, expected_version: int | None = None) -> Finding:
    """A reviewer confirms a finding is PII: it stays replaced and its original leaves the vault
    (unless an admin kept originals). Resolves the ``pii_review`` flag once nothing is left to review."""
    with store.transaction() as cur:
        f = _finding(cur, finding_id)
        version = _version(cur, f.example_id, expected_version)
        store.apply_change(cur, f.example_id, version, {}, actor=actor, action="pii_confirm",
                               before={"pii": {"id": f.id, "action": f.action}}, after={"pii": {"id": f.id, "action": "confirmed"}},
                               reason=f"{f.placeholder} in {f.field} confirmed as {f.entity}")
        cur.execute("UPDATE pii_findings SET action = 'confirmed', reviewed_by = ?, reviewed_at = ? WHERE id = ?",
                    [actor, now(), finding_id])
        cur.execute("DELETE FROM pii_originals WHERE finding_id = ? AND reason = 'review'", [finding_id])
        _resolve_flag_if_done(cur, f.example_id, actor)
        return _finding(cur, finding_id)


def reject_finding(store: Store, finding_id: int, *, actor: str, expected_version: int | None = None) -> dict:
    """A false positive: put the original text back in place of the placeholder.

    The finding is deleted, later spans of that field shift, and the change is a revision (the
    restored value is not PII, so it may appear there). Returns the example after the change.

    Raises
    ------
    OriginalPurged
        The original was not kept (a high-confidence finding scrubbed without ``--keep-original``).
    StaleVersion
        The example changed since ``expected_version``.
    """
    with store.transaction() as cur:
        f = _finding(cur, finding_id)
        orig = cur.execute("SELECT original FROM pii_originals WHERE finding_id = ?", [finding_id]).fetchall()
        if not orig:
            raise OriginalPurged(finding_id, f.placeholder or f.entity)
        original = orig[0][0]
        version = _version(cur, f.example_id, expected_version)
        text = cur.execute(f"SELECT {f.field} FROM examples WHERE id = ?", [f.example_id]).fetchall()[0][0]
        if text[f.start:f.end] != f.placeholder:
            raise InvalidValue(f"finding {finding_id} span", f"{f.start}-{f.end}",
                               hint="the stored text no longer has the placeholder there; reload the example")
        restored = text[: f.start] + original + text[f.end:]
        store.apply_change(cur, f.example_id, version, {f.field: restored}, actor=actor, action="pii_reject",
                               before={f.field: text}, after={f.field: restored},
                               reason=f"{f.placeholder} was not {f.entity}: original restored")
        cur.execute("DELETE FROM pii_findings WHERE id = ?", [finding_id])
        cur.execute("DELETE FROM pii_originals WHERE finding_id = ?", [finding_id])
        cur.execute("UPDATE pii_findings SET start_pos = start_pos + ?, end_pos = end_pos + ? "
                    "WHERE example_id = ? AND field = ? AND start_pos >= ?",
                    [len(original) - (f.end - f.start)] * 2 + [f.example_id, f.field, f.end])
        _resolve_flag_if_done(cur, f.example_id, actor)
        _keep_scrubbed_mark(cur, f.example_id)
    return store.get_example(f.example_id)


def add_missed_span(store: Store, example_id: int, field: str, start: int, end: int, entity: str, *,
                    actor: str, expected_version: int | None = None, keep_original: bool = False) -> dict:
    """A reviewer marks PII the scrubber missed: the span, and every other verbatim occurrence of the
    same value in the example's fields, is replaced by one new placeholder (finding action ``missed``).

    The value is purged from the example's revision history too. Returns the example after the change.
    """
    from ..pii.scrub import ENTITIES

    if field not in TEXT_FIELDS:
        raise InvalidValue("field", field, list(TEXT_FIELDS))
    if entity not in ENTITIES:
        raise InvalidValue("entity", entity, list(ENTITIES))
    with store.transaction() as cur:
        row = store._dicts("SELECT * FROM examples WHERE id = ?", [example_id], cur)
        if not row:
            raise ExampleNotFound(example_id)
        row = row[0]
        text = row[field] or ""
        if not (0 <= start < end <= len(text)):
            raise InvalidValue(f"span of {field}", f"{start}-{end}", hint=f"must lie within 0-{len(text)}")
        value = text[start:end]
        placeholders = {m.group(0) for f in TEXT_FIELDS for m in PLACEHOLDER_RX.finditer(row[f] or "")}
        if not value.strip() or any(value in p or p in value for p in placeholders) or "<" in value or ">" in value:
            raise InvalidValue(f"span {start}-{end} of {field}", value,
                               hint="it overlaps a placeholder or is blank; select only the missed text")
        version = expected_version if expected_version is not None else row["version"]
        prefix = placeholder_name(entity)
        used = [int(m.group(2)) for f in TEXT_FIELDS for m in PLACEHOLDER_RX.finditer(row[f] or "")
                if m.group(1) == prefix]
        placeholder = f"<{prefix}_{max(used, default=0) + 1}>"
        changes, new_findings = {}, []
        for f in TEXT_FIELDS:
            old = row[f]
            if not old or value not in old:
                continue
            pieces, pos, out_len = old.split(value), 0, 0
            for piece in pieces[:-1]:
                pos = out_len + len(piece)
                new_findings.append(Replacement(f, entity, pos, pos + len(placeholder), 1.0, placeholder, value, "missed"))
                out_len = pos + len(placeholder)
            changes[f] = placeholder.join(pieces)
            # shift existing findings after each occurrence
            delta = len(placeholder) - len(value)
            idx = [i for i in range(len(old)) if old.startswith(value, i)]
            for f_id, s in cur.execute("SELECT id, start_pos FROM pii_findings WHERE example_id = ? AND field = ?",
                                       [example_id, f]).fetchall():
                k = sum(1 for i in idx if i < s)
                if k:
                    cur.execute("UPDATE pii_findings SET start_pos = start_pos + ?, end_pos = end_pos + ? WHERE id = ?",
                                [k * delta, k * delta, f_id])
        store.apply_change(cur, example_id, version, changes, actor=actor, action="pii_missed",
                               before={"pii_missed": {"field": field, "start": start, "end": end}},
               after=changes | {"pii": [{"field": r.field, "entity": entity, "placeholder": placeholder}
                                        for r in new_findings]},
                               reason=f"reviewer marked a missed {entity}: replaced by {placeholder}")
        _purge_revisions(cur, example_id, [(value, placeholder)])
        purge_copies(cur, example_id, [(value, placeholder)])
        for r in new_findings:
            _insert_finding(cur, example_id, r, "keep_original" if keep_original else None)
        cur.execute("UPDATE pii_findings SET reviewed_by = ?, reviewed_at = ? WHERE example_id = ? AND action = 'missed' "
                    "AND reviewed_by IS NULL", [actor, now(), example_id])
        _keep_scrubbed_mark(cur, example_id)
    return store.get_example(example_id)


def open_review_flags(store: Store, dataset: str) -> list[dict]:
    """Examples of the dataset with an open ``pii_review`` flag (for the queue page)."""
    return store._dicts("""SELECT id AS flag_id, example_id, score, detail, suggestion, created_at FROM flags
                           WHERE dataset = ? AND check_name = 'pii_review' AND resolution IS NULL
                           ORDER BY example_id""", [dataset])


def purge_originals(store: Store, dataset: str | None = None) -> int:
    """Delete kept originals (all, or one dataset's); returns how many were deleted."""
    cur = store.cursor()
    where = " WHERE example_id IN (SELECT id FROM examples WHERE dataset = ?)" if dataset else ""
    n = cur.execute("SELECT count(*) FROM pii_originals" + where, [dataset] if dataset else []).fetchall()[0][0]
    cur.execute("DELETE FROM pii_originals" + where, [dataset] if dataset else [])
    return n


def record_import_scrub(cur, dataset: str, source_id: int, results: dict[int, ScrubResult], config_hash: str) -> int:
    """After ``import --scrub``: findings, review flags and scrub marks of the examples a source
    inserted (``results`` by source row; their text was scrubbed before staging). Runs in the
    import's transaction. Returns the number of findings."""
    rows = cur.execute("SELECT id, source_row FROM examples WHERE source_id = ?", [source_id]).fetchall()
    findings = 0
    for example_id, source_row in rows:
        res = results.get(source_row)
        if res is not None:
            for r in res.replacements:
                _insert_finding(cur, example_id, r, "review" if r.action == "review" else None)
            _raise_review_flag(cur, dataset, example_id, res.replacements)
            findings += len(res.replacements)
        _mark_scrubbed(cur, example_id, config_hash)
    return findings
