"""SQL of the JSONL export of a dataset (the export record of the CLI contract); mixed into :class:`Store`."""

from __future__ import annotations

import os
from pathlib import Path

from ..outputs import check_file_target
from .common import _sql_path


def is_jsonl_export(path: Path) -> bool:
    """Whether ``path`` is empty or looks like a previous ``export_jsonl`` output (its first record's keys)."""
    import json

    try:
        with path.open("rb") as fh:
            first = fh.readline(1 << 20)
        if not first.strip():
            return path.stat().st_size == 0
        rec = json.loads(first)
    except (OSError, ValueError):
        return False
    return isinstance(rec, dict) and {"id", "dataset", "status", "version", "flags"} <= rec.keys()


class ExportSql:
    """``Store.export_jsonl``; needs the host's ``cursor()`` and ``get_dataset()``."""

    def export_jsonl(self, dataset: str, out: str | os.PathLike) -> int:
        """Write every example of ``dataset`` as one JSON object per line (the CLI contract's record).

        Writes to a temporary file beside ``out`` and renames it, so a crash never leaves a
        half-written export under the final name. An existing ``out`` is replaced only when it
        is a previous JSONL export (or empty); a folder, a read-only file, the store file or any
        other file raises :class:`~curation.errors.UnsafeOutput` (see :mod:`curation.outputs`).
        """
        self.get_dataset(dataset)
        out = check_file_target(out, is_ours=is_jsonl_export, protect=[self.path])
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        sql = """
            WITH f AS (
                SELECT example_id, list({'check': check_name, 'severity': severity, 'detail': detail,
                                         'suggestion': suggestion} ORDER BY id) AS flags
                FROM flags WHERE resolution IS NULL GROUP BY example_id
            ), p AS (
                SELECT example_id, list({'entity': entity, 'field': field, 'start': start_pos, 'end': end_pos}
                                        ORDER BY field, start_pos) AS pii
                FROM pii_findings GROUP BY example_id
            )
            SELECT coalesce(e.external_id, e.id::VARCHAR) AS id, e.dataset, e.text, e.label, e.prompt,
                   e.response, e.status, e.version,
                   coalesce(c.external_id, c.id::VARCHAR) AS duplicate_of,
                   coalesce(f.flags, []) AS flags, coalesce(p.pii, []) AS pii
            FROM examples e
            LEFT JOIN examples c ON c.id = e.duplicate_of
            LEFT JOIN f ON f.example_id = e.id
            LEFT JOIN p ON p.example_id = e.id
            WHERE e.dataset = getvariable('tuneloop_export_dataset')
            ORDER BY e.id
        """
        cur = self.cursor()
        try:
            cur.execute("SET VARIABLE tuneloop_export_dataset = ?", [dataset])
            cur.execute(f"COPY ({sql}) TO '{_sql_path(tmp)}' (FORMAT JSON)")
            n = self.count_examples(dataset)
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
        return n

    # -- users --------------------------------------------------------------------------
