"""SQL for what a PII scrub must reach besides the examples' text.

People type notes, reject reasons and suggested responses next to an example before it is
scrubbed, and a generation run copies its prompt; all of these may hold the values the scrub
replaced. The embedding cache holds vectors of the pre-scrub text under the old content hash.
"""

from __future__ import annotations

# (table, key columns, text columns) that copy or comment on an example's text.
COPIES = (
    ("revisions", ("id",), ("reason",)),
    ("annotations", ("example_id", "annotator"), ("note", "response")),
    ("generations", ("run_id", "example_id"), ("prompt", "reference", "output")),
    ("rubric_reviews", ("run_id", "example_id", "reviewer", "created_at"), ("comment",)),
)
# Revision reasons written by Tuneloop itself from placeholders or file names, not typed by people.
_SYSTEM_ACTIONS = ("import", "pii_scrub", "pii_confirm", "pii_reject", "pii_missed")


def _replace(value, pairs):
    if not isinstance(value, str):
        return value
    for original, placeholder in pairs:
        value = value.replace(original, placeholder)
    return value


def purge_copies(cur, example_id: int, pairs: list[tuple[str, str]]) -> int:
    """Replace each raw value by its placeholder (longest first) wherever the example's text is
    copied or commented on; returns the number of rows changed."""
    pairs = sorted({p for p in pairs if p[0]}, key=lambda p: -len(p[0]))
    changed = 0
    for table, keys, cols in COPIES:
        rows = cur.execute(f"SELECT {', '.join(keys + cols)} FROM {table} WHERE example_id = ?", [example_id]).fetchall()
        for row in rows:
            key, old = row[:len(keys)], row[len(keys):]
            new = [_replace(v, pairs) for v in old]
            if list(new) != list(old):
                sets = ", ".join(f"{c} = ?" for c in cols)
                where = " AND ".join(f"{k} = ?" for k in keys)
                cur.execute(f"UPDATE {table} SET {sets} WHERE {where}", [*new, *key])
                changed += 1
    return changed


def free_texts(store, dataset: str) -> list[tuple[str, tuple, str, str]]:
    """Every text people typed about the dataset's examples: ``(table, key, column, text)``."""
    out = []
    for table, keys, cols in COPIES:
        extra = f" AND t.action NOT IN {_SYSTEM_ACTIONS}" if table == "revisions" else ""
        for col in cols:
            rows = store.cursor().execute(
                f"""SELECT {', '.join('t.' + k for k in keys)}, t.{col} FROM {table} t
                    JOIN examples e ON e.id = t.example_id
                    WHERE e.dataset = ? AND t.{col} IS NOT NULL AND t.{col} <> ''{extra}""", [dataset]).fetchall()
            out += [(table, tuple(r[:-1]), col, r[-1]) for r in rows]
    return out


def update_free_text(cur, table: str, key: tuple, column: str, old: str, new: str) -> None:
    keys = next(k for t, k, _ in COPIES if t == table)
    where = " AND ".join(f"{k} = ?" for k in keys)
    cur.execute(f"UPDATE {table} SET {column} = ? WHERE {where} AND {column} = ?", [new, *key, old])


def drop_stale_embeddings(store, old_hashes: list[str]) -> int:
    """Delete cached vectors of pre-scrub content no example has any more; returns how many."""
    if not old_hashes:
        return 0
    with store.transaction() as cur:
        return cur.execute(
            """DELETE FROM embeddings WHERE content_hash IN (SELECT unnest(?::VARCHAR[]))
               AND content_hash NOT IN (SELECT content_hash FROM examples WHERE content_hash IS NOT NULL)
               RETURNING content_hash""", [sorted(set(old_hashes))]).fetchall().__len__()
