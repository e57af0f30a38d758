"""``tuneloop import``: a file into a dataset, all rows or none, idempotent on re-import."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from .config import os_user, settings
from .errors import BadInput, ImportValidationError, InvalidValue, Problem
from .io_types import check_value_types
from .io import ColumnMap, RowChecker, inspect_file, iter_chunks, resolve_columns
from .labels import LabelSchema
from .store.core import TASKS, Store
from .store.importing import ImportCounts, SourceInfo, import_session

IMPORT_STATUSES = ("imported", "needs_review", "approved")

# TODO(#15): move to curation.progress.Progress (stage, done, total) together with its one other caller,
# review_app/views/import_export.py (being split by another helper), which passes a (done, total) callback.
RowsProgress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class ImportResult:
    dataset: str
    file: str
    sha256: str
    rows: int
    inserted: int
    skipped_existing: int
    skipped_in_file: int
    source_id: int | None
    already_imported: bool
    created_dataset: bool
    pii_findings: int | None = None  # with scrub: values replaced before the rows were written

    def to_dict(self) -> dict:
        return asdict(self)


def import_file(
    store: Store,
    path: str | Path,
    dataset: str,
    *,
    task: str | None = None,
    columns: ColumnMap = ColumnMap(),
    status: str = "imported",
    label_schema: LabelSchema | None = None,
    actor: str | None = None,
    licence: str | None = None,
    note: str | None = None,
    progress: RowsProgress | None = None,
    chunk_rows: int | None = None,
    scrub=None,
    _fail_after_insert: bool = False,
) -> ImportResult:
    """Import a CSV, JSONL or Parquet file into ``dataset``.

    Parameters
    ----------
    store
        The open store.
    path
        Input file; the format follows the extension (.csv, .jsonl/.ndjson, .parquet/.pq).
    dataset
        Target dataset; created with ``task`` and ``label_schema`` when it does not exist.
    task
        ``"classification"`` (text, label) or ``"generation"`` (prompt, response). Default: the
        dataset's task, or ``generation`` when the file has a prompt column, else classification.
    columns
        Input column names (see :class:`~curation.io.ColumnMap`).
    status
        Status of the new examples: ``imported`` (default), ``needs_review`` or ``approved``.
    label_schema
        Allowed labels. Required to validate labels; without one the dataset's schema is open
        and records the labels seen.
    actor
        Who imports (recorded in ``sources`` and ``revisions``); default the OS user.
    progress
        Called as ``progress(rows_done, rows_total_or_None)`` after each chunk.
    scrub
        A :class:`~curation.pii.PiiConfig` (or ``True`` for the dataset's saved settings, defaults
        for a new dataset): PII is replaced by placeholders in each chunk before it is staged, so
        raw values never reach the store; findings, review flags and scrub marks are written
        with the rows, as ``tuneloop scrub`` would.

    Returns
    -------
    ImportResult
        Counts of rows read, inserted and skipped (already in the dataset, or repeated in the file).

    Raises
    ------
    ImportValidationError
        Any problem in the file; nothing is written.

    Notes
    -----
    Runs in one transaction: a crash at any point leaves the store as it was. Rows are
    identified by a hash of (id, text, prompt, response, label): importing the same rows again
    adds nothing, and an id reused with other content is refused rather than overwritten.
    """
    if status not in IMPORT_STATUSES:
        raise InvalidValue("--status", status, list(IMPORT_STATUSES))
    if task is not None and task not in TASKS:
        raise InvalidValue("--task", task, list(TASKS))
    if not dataset or not dataset.strip():
        raise BadInput("--dataset: give a dataset name")
    info = inspect_file(path)
    actor = actor or os_user()
    chunk_rows = settings().chunk_rows if chunk_rows is None else chunk_rows
    if chunk_rows < 1:
        raise InvalidValue("chunk_rows", chunk_rows, hint="give a whole number of rows of at least 1")
    file = str(path)

    with import_session(store) as session:
        existing = session.dataset(dataset)
        if existing is not None:
            if task is not None and task != existing.task:
                raise BadInput(
                    f"--task: dataset '{dataset}' is a {existing.task} dataset, not {task}; "
                    "import into another dataset or drop --task"
                )
            task = existing.task
            schema = existing.label_schema
            if label_schema is not None and label_schema != schema:
                if not schema.open:
                    raise BadInput(
                        f"--schema: dataset '{dataset}' already has a label schema; change it in the app's "
                        "dataset settings, or import into a new dataset"
                    )
                schema = label_schema
                session.update_schema(dataset, schema)
        else:
            task = task or ("generation" if columns.prompt in info.columns and columns.text not in info.columns else "classification")
            schema = label_schema or LabelSchema(open=True)
            session.create_dataset(dataset, task, schema)

        mapping = resolve_columns(info, columns, task, schema)
        check_value_types(info.path, info.fmt, file, mapping)
        checker = RowChecker(file, task, schema, mapping)
        pii_config = _pii_config(session, dataset, scrub)
        scrubbed: dict = {}  # source row -> ScrubResult
        done = 0
        for chunk in iter_chunks(info, chunk_rows):
            frame = checker.standardise(chunk)
            if not checker.total:  # once a problem is found, keep checking but stop staging
                if pii_config is not None:
                    frame = _scrub_chunk(frame, task, pii_config, scrubbed)
                session.stage(frame)
            done += chunk.height
            if progress:
                progress(done, info.approx_rows)
        if done == 0:
            raise ImportValidationError([Problem(file, 0, "-", "file has no data rows; add rows below the header")])
        checker.raise_if_any()
        conflicts = session.id_conflicts(dataset)
        if conflicts:
            raise ImportValidationError(
                [Problem(file, row, "id", f"id {eid!r}: {why}; give the row a new id or remove it")
                 for row, eid, why in conflicts[:1000]],
                len(conflicts),
            )
        if schema.open:
            seen = schema.with_seen(session.staged_labels())
            if seen != schema:
                session.update_schema(dataset, seen)
        source = SourceInfo(
            file_name=info.path.name, path=str(info.path.resolve()), sha256=info.sha256, rows=done,
            imported_by=actor, licence=licence, note=note,
        )
        counts: ImportCounts = session.commit(dataset, source, status, fail_after_insert=_fail_after_insert)
        findings = None
        if pii_config is not None:
            from .store.pii import record_import_scrub

            findings = record_import_scrub(session._cur, dataset, counts.source_id, scrubbed,
                                           pii_config.detection_hash()) if counts.inserted else 0

    return ImportResult(
        dataset=dataset, file=file, sha256=info.sha256, rows=counts.rows, inserted=counts.inserted,
        skipped_existing=counts.skipped_existing, skipped_in_file=counts.skipped_in_file,
        source_id=counts.source_id, already_imported=counts.already_imported, created_dataset=existing is None,
        pii_findings=findings,
    )


def _pii_config(session, dataset: str, scrub):
    """The settings ``import --scrub`` uses: given, or the dataset's saved ones, or the defaults."""
    if scrub is None or scrub is False:
        return None
    from .pii import PiiConfig

    if isinstance(scrub, PiiConfig):
        return scrub
    ds = session.dataset(dataset)
    return PiiConfig.from_dict(ds.settings.get("pii") if ds is not None else None)


def _scrub_chunk(frame, task: str, config, scrubbed: dict):
    """The chunk with its text fields scrubbed; results kept by source row for the findings."""
    import polars as pl

    from .pii import fields_of, scrub_records

    fields = fields_of(task)
    results = scrub_records(frame.select(list(fields)).to_dicts(), config)
    for row, res in zip(frame["source_row"].to_list(), results):
        if res.changed:
            scrubbed[row] = res
    return frame.with_columns(*(pl.Series(f, [r.fields[f] for r in results], dtype=pl.String) for f in fields))

