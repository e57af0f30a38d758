"""The DuckDB schema as an ordered list of migrations.

Migration N brings a store from schema version N-1 to N. Never edit a released migration:
append a new one. :class:`curation.store.Store` applies what is missing when it opens a file
and refuses a file whose version is newer than the last one here.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "initial schema",
        [
            """CREATE TABLE datasets (
                name VARCHAR PRIMARY KEY,
                task VARCHAR NOT NULL,            -- classification | generation
                label_schema VARCHAR,             -- JSON, see curation.labels.LabelSchema
                guidelines VARCHAR NOT NULL DEFAULT '',
                settings VARCHAR NOT NULL DEFAULT '{}',  -- JSON: required annotations, intended use, ...
                created_at TIMESTAMP NOT NULL
            )""",
            "CREATE SEQUENCE source_id_seq START 1",
            """CREATE TABLE sources (
                id INTEGER PRIMARY KEY,
                dataset VARCHAR NOT NULL,
                file_name VARCHAR NOT NULL,
                path VARCHAR NOT NULL,
                sha256 VARCHAR NOT NULL,
                rows INTEGER NOT NULL,
                inserted INTEGER NOT NULL,
                skipped INTEGER NOT NULL,
                imported_by VARCHAR NOT NULL,
                imported_at TIMESTAMP NOT NULL,
                licence VARCHAR,
                note VARCHAR
            )""",
            "CREATE SEQUENCE example_id_seq START 1",
            """CREATE TABLE examples (
                id BIGINT PRIMARY KEY,
                dataset VARCHAR NOT NULL,
                external_id VARCHAR,
                source_id INTEGER,
                source_row INTEGER,
                text VARCHAR,
                prompt VARCHAR,
                response VARCHAR,
                label VARCHAR,
                status VARCHAR NOT NULL,          -- imported | needs_review | approved | rejected
                priority DOUBLE NOT NULL DEFAULT 0,
                version INTEGER NOT NULL DEFAULT 1,
                import_hash VARCHAR NOT NULL,     -- of the row as imported: makes re-import idempotent
                content_hash VARCHAR NOT NULL,    -- of the current text / prompt + response
                dup_group BIGINT,
                duplicate_of BIGINT,
                assignee VARCHAR,
                lease_until TIMESTAMP,
                created_at TIMESTAMP NOT NULL,
                updated_at TIMESTAMP NOT NULL
            )""",
            "CREATE SEQUENCE revision_id_seq START 1",
            """CREATE TABLE revisions (
                id BIGINT NOT NULL,
                example_id BIGINT NOT NULL,
                version INTEGER NOT NULL,         -- the example's version after this change
                actor VARCHAR NOT NULL,
                action VARCHAR NOT NULL,
                before VARCHAR,                   -- JSON of the changed fields before
                after VARCHAR,                    -- JSON of the changed fields after
                reason VARCHAR,
                created_at TIMESTAMP NOT NULL
            )""",
            """CREATE TABLE annotations (
                example_id BIGINT NOT NULL,
                annotator VARCHAR NOT NULL,
                label VARCHAR,
                response VARCHAR,
                note VARCHAR,
                created_at TIMESTAMP NOT NULL,
                PRIMARY KEY (example_id, annotator)
            )""",
            "CREATE SEQUENCE flag_id_seq START 1",
            """CREATE TABLE flags (
                id BIGINT PRIMARY KEY,
                example_id BIGINT NOT NULL,
                dataset VARCHAR NOT NULL,
                check_name VARCHAR NOT NULL,
                severity VARCHAR NOT NULL,        -- info | warning | error
                score DOUBLE,
                detail VARCHAR,
                suggestion VARCHAR,
                created_at TIMESTAMP NOT NULL,
                resolution VARCHAR,
                resolved_by VARCHAR,
                resolved_at TIMESTAMP
            )""",
            """CREATE TABLE pii_findings (
                example_id BIGINT NOT NULL,
                field VARCHAR NOT NULL,
                entity VARCHAR NOT NULL,
                start_pos INTEGER NOT NULL,
                end_pos INTEGER NOT NULL,
                score DOUBLE,
                action VARCHAR NOT NULL,
                created_at TIMESTAMP NOT NULL
            )""",
            """CREATE TABLE users (
                name VARCHAR PRIMARY KEY,
                role VARCHAR NOT NULL,            -- annotator | reviewer | admin
                password_hash VARCHAR NOT NULL,
                created_at TIMESTAMP NOT NULL,
                failed_logins INTEGER NOT NULL DEFAULT 0,
                locked_until TIMESTAMP
            )""",
            """CREATE TABLE snapshots (
                id VARCHAR PRIMARY KEY,
                dataset VARCHAR NOT NULL,
                name VARCHAR,
                created_at TIMESTAMP NOT NULL,
                created_by VARCHAR,
                datasheet VARCHAR
            )""",
            """CREATE TABLE snapshot_items (
                snapshot_id VARCHAR NOT NULL,
                example_id BIGINT NOT NULL,
                version INTEGER NOT NULL,
                split VARCHAR NOT NULL
            )""",
            """CREATE TABLE runs (
                id VARCHAR PRIMARY KEY,
                snapshot_id VARCHAR,
                task VARCHAR NOT NULL,
                config VARCHAR,
                metrics VARCHAR,
                path VARCHAR,
                status VARCHAR NOT NULL,
                created_at TIMESTAMP NOT NULL
            )""",
            """CREATE TABLE predictions (
                run_id VARCHAR NOT NULL,
                example_id BIGINT,
                label VARCHAR,
                confidence DOUBLE,
                correct BOOLEAN,
                created_at TIMESTAMP NOT NULL
            )""",
            """CREATE TABLE rubric_reviews (
                run_id VARCHAR NOT NULL,
                example_id BIGINT,
                reviewer VARCHAR NOT NULL,
                scores VARCHAR,
                comment VARCHAR,
                created_at TIMESTAMP NOT NULL
            )""",
        ],
    ),
    (
        3,
        "pii scrubbing: finding ids and review columns, scrub state, originals vault",
        [
            "CREATE SEQUENCE pii_finding_id_seq START 1",
            "ALTER TABLE pii_findings ADD COLUMN id BIGINT",
            "ALTER TABLE pii_findings ADD COLUMN placeholder VARCHAR",
            "ALTER TABLE pii_findings ADD COLUMN reviewed_by VARCHAR",
            "ALTER TABLE pii_findings ADD COLUMN reviewed_at TIMESTAMP",
            # One row per scrubbed example: the content hash after scrubbing and the detection settings,
            # so a second run skips what is already scrubbed.
            """CREATE TABLE pii_scrubbed (
                example_id BIGINT PRIMARY KEY,
                content_hash VARCHAR NOT NULL,
                config_hash VARCHAR NOT NULL,
                scrubbed_at TIMESTAMP NOT NULL
            )""",
            # Raw values of replaced spans. No export, snapshot or revision reads this table. Rows with
            # reason 'review' (low-confidence findings) are deleted once a reviewer decides; rows with
            # reason 'keep_original' exist only when an admin scrubbed with --keep-original.
            """CREATE TABLE pii_originals (
                finding_id BIGINT PRIMARY KEY,
                example_id BIGINT NOT NULL,
                field VARCHAR NOT NULL,
                original VARCHAR NOT NULL,
                reason VARCHAR NOT NULL,
                created_at TIMESTAMP NOT NULL
            )""",
        ],
    ),
    (
        2,
        "deduplication: embedding cache, duplicate edges, reviewer decisions, runs",
        [
            """CREATE TABLE embeddings (
                content_hash VARCHAR NOT NULL,    -- md5 as in examples.content_hash
                model VARCHAR NOT NULL,
                dim INTEGER NOT NULL,
                vector FLOAT[] NOT NULL,          -- L2-normalised
                created_at TIMESTAMP NOT NULL,
                PRIMARY KEY (content_hash, model)
            )""",
            """CREATE TABLE dup_edges (
                dataset VARCHAR NOT NULL,
                a BIGINT NOT NULL,                -- example ids, a < b
                b BIGINT NOT NULL,
                method VARCHAR NOT NULL,          -- exact | near | semantic
                score DOUBLE NOT NULL,
                hash_a VARCHAR NOT NULL,          -- content hashes when found: an edit voids the edge
                hash_b VARCHAR NOT NULL,
                created_at TIMESTAMP NOT NULL
            )""",
            "CREATE SEQUENCE dedup_decision_id_seq START 1",
            """CREATE TABLE dedup_decisions (
                id BIGINT PRIMARY KEY,
                dataset VARCHAR NOT NULL,
                kind VARCHAR NOT NULL,            -- not_duplicate | duplicate | canonical
                a BIGINT NOT NULL,                -- example (a < b for pairs; the canonical alone)
                b BIGINT,
                actor VARCHAR NOT NULL,
                reason VARCHAR,
                created_at TIMESTAMP NOT NULL
            )""",
            "CREATE SEQUENCE dedup_run_id_seq START 1",
            """CREATE TABLE dedup_runs (
                id BIGINT PRIMARY KEY,
                dataset VARCHAR NOT NULL,
                methods VARCHAR NOT NULL,
                config VARCHAR NOT NULL,          -- JSON of the DedupConfig
                groups INTEGER NOT NULL,
                duplicates INTEGER NOT NULL,
                by_method VARCHAR NOT NULL,       -- JSON
                actor VARCHAR,
                seconds DOUBLE,
                created_at TIMESTAMP NOT NULL
            )""",
        ],
    ),
    (
        4,
        "snapshots: frozen item content, creation settings, exclusion report",
        [
            # Items carry the content at the frozen version, so later edits of an example
            # never change what a snapshot exports.
            "ALTER TABLE snapshot_items ADD COLUMN external_id VARCHAR",
            "ALTER TABLE snapshot_items ADD COLUMN text VARCHAR",
            "ALTER TABLE snapshot_items ADD COLUMN prompt VARCHAR",
            "ALTER TABLE snapshot_items ADD COLUMN response VARCHAR",
            "ALTER TABLE snapshot_items ADD COLUMN label VARCHAR",
            "ALTER TABLE snapshot_items ADD COLUMN source_id INTEGER",
            "ALTER TABLE snapshot_items ADD COLUMN dup_group BIGINT",
            "ALTER TABLE snapshots ADD COLUMN task VARCHAR",
            "ALTER TABLE snapshots ADD COLUMN content_sha256 VARCHAR",  # full hash; id is its prefix
            "ALTER TABLE snapshots ADD COLUMN items INTEGER",
            "ALTER TABLE snapshots ADD COLUMN config VARCHAR",     # JSON: split, seed, allow_flags, pin_test
            "ALTER TABLE snapshots ADD COLUMN excluded VARCHAR",   # JSON: counts per exclusion reason
        ],
    ),
    (
        6,
        "training runs: dataset, base model, start / finish times, error of a failed run",
        [
            "ALTER TABLE runs ADD COLUMN dataset VARCHAR",
            "ALTER TABLE runs ADD COLUMN base_model VARCHAR",
            "ALTER TABLE runs ADD COLUMN finished_at TIMESTAMP",
            "ALTER TABLE runs ADD COLUMN error VARCHAR",
        ],
    ),
    (
        7,
        "checks: flag fingerprints (no re-raising what a reviewer kept), check runs",
        [
            # md5 of the example's content hash and label when the flag was raised: a check does not
            # raise a flag again for an example whose same flag was resolved on unchanged content.
            "ALTER TABLE flags ADD COLUMN fingerprint VARCHAR",
            "CREATE SEQUENCE check_run_id_seq START 1",
            """CREATE TABLE check_runs (
                id BIGINT PRIMARY KEY,
                dataset VARCHAR NOT NULL,
                checks VARCHAR NOT NULL,          -- JSON list of check names
                config VARCHAR NOT NULL,          -- JSON of the CheckConfig
                summary VARCHAR NOT NULL,         -- JSON: per check, its summary
                actor VARCHAR,
                seconds DOUBLE,
                created_at TIMESTAMP NOT NULL
            )""",
        ],
    ),
    (
        9,
        "evaluation: predictions per split with expected label and abstention, run evaluations, generations",
        [
            "ALTER TABLE predictions ADD COLUMN split VARCHAR",      # test | validation | unreviewed
            "ALTER TABLE predictions ADD COLUMN expected VARCHAR",   # the label at evaluation time
            "ALTER TABLE predictions ADD COLUMN abstained BOOLEAN",  # confidence below the run's threshold
            """CREATE TABLE evaluations (
                run_id VARCHAR PRIMARY KEY,       -- the latest test-split evaluation of a run
                summary VARCHAR NOT NULL,         -- JSON: metrics, calibration, slices, comparison
                threshold DOUBLE,                 -- abstention threshold chosen on validation
                created_at TIMESTAMP NOT NULL
            )""",
            """CREATE TABLE generations (
                run_id VARCHAR NOT NULL,
                example_id BIGINT NOT NULL,
                prompt VARCHAR NOT NULL,
                reference VARCHAR,
                output VARCHAR NOT NULL,
                checks VARCHAR NOT NULL,          -- JSON: automatic check results
                created_at TIMESTAMP NOT NULL,
                PRIMARY KEY (run_id, example_id)
            )""",
        ],
    ),
    (
        20,
        "one owner of the store: jobs (long work with progress, logs, cancel); the pid of a run's owner",
        [
            "CREATE SEQUENCE job_id_seq START 1",
            """CREATE TABLE jobs (
                id BIGINT PRIMARY KEY,
                kind VARCHAR NOT NULL,            -- train | evaluate | dedup | scrub | check | snapshot-export | load-curated | cli
                title VARCHAR NOT NULL,           -- what the Jobs page shows, e.g. the command line
                params VARCHAR NOT NULL DEFAULT '{}',  -- JSON
                status VARCHAR NOT NULL,          -- queued | running | completed | failed | cancelled
                progress DOUBLE,                  -- 0..1; NULL while unknown
                progress_text VARCHAR,
                logs VARCHAR NOT NULL DEFAULT '',  -- the last 200,000 characters
                result VARCHAR,                   -- JSON
                error VARCHAR,
                cancel_requested BOOLEAN NOT NULL DEFAULT false,
                created_by VARCHAR,
                owner_pid INTEGER,                -- the process holding the store that runs it
                worker_pid INTEGER,               -- its compute subprocess, if any
                created_at TIMESTAMP NOT NULL,
                started_at TIMESTAMP,
                finished_at TIMESTAMP
            )""",
            # Only the process holding the store writes 'running' rows; whoever opens the file
            # read-write next knows any other pid's 'running' rows are orphans.
            "ALTER TABLE runs ADD COLUMN pid INTEGER",
        ],
    ),
]

MIGRATIONS.sort(key=lambda m: m[0])  # branches append in any order; versions must apply in order
LATEST = MIGRATIONS[-1][0]
