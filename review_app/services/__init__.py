"""The review workflow as plain functions: what every page calls, tested without Streamlit.

One module per page family; this package re-exports what the pages use, so a page does
``from review_app import services as svc`` and calls ``svc.next_item(...)``. Pages never call
the store or its SQL modules directly.

- :mod:`.queue`: next item, label / approve / reject / skip / note / undo, filter options
- :mod:`.pii`: personal-data findings on the queue page
- :mod:`.browse`: browse table, bulk actions, history
- :mod:`.duplicates`, :mod:`.checks`: curation pages
- :mod:`.dashboard`: counts, activity, agreement
- :mod:`.snapshots`, :mod:`.runs`, :mod:`.rubric`: snapshots, runs and rubric review
- :mod:`.admin`, :mod:`.import_export`: dataset settings, users, import and export
- :mod:`.jobs`: long work run by the store's owner (Jobs page, Train on the Snapshots page)
"""

from __future__ import annotations

# the types pages pass in and catch
from curation import BadInput, ColumnMap, ImportValidationError, LabelSchema, StaleVersion, TuneloopError  # noqa: F401
from curation.snapshots import SnapshotConfig, parse_split  # noqa: F401

from ._common import ADMIN, ANNOTATOR, REVIEWER
from .admin import create_user, get_dataset, list_datasets, list_users, roles, set_label_order, update_dataset_settings
from .browse import BROWSE_LIMIT, BulkResult, browse, bulk, example, history
from .checks import check_flags, coverage, last_check_run, resolve_check_flag, run_checks
from .dashboard import Dashboard, agreement, dashboard
from .duplicates import dup_groups, dup_merge, dup_set_canonical, dup_split
from .import_export import download_name, export_csv, export_jsonl, import_upload
from .jobs import ACTIVE as JOB_ACTIVE
from .jobs import cancel_job, job_detail, list_jobs, start_training
from .pii import ENTITIES as PII_ENTITIES
from .pii import pii_confirm, pii_mark_missed, pii_reject
from .queue import (
    FilterOptions,
    Item,
    QueueFilter,
    Undone,
    approve,
    close_flag,
    correct_response,
    default_stage,
    filter_options,
    find_labels,
    label,
    label_choices,
    last_actor,
    load_item,
    next_item,
    note,
    open_item,
    pass_on,
    reject,
    skip,
    undo_last,
)
from .rubric import RubricItem, criteria, rubric_items, rubric_summary, submit_rubric
from .runs import (
    evaluate_run,
    generate_outputs,
    generation_summary,
    rounds,
    run_card,
    run_evaluation,
    runs_table,
    send_cell,
    send_run_errors,
)
from .session import log_in, user_named
from .snapshots import create_snapshot, datasheet, diff_snapshots, export_formats, list_snapshots, snapshot_download
