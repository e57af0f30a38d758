"""The checks subprocess of the store's owner: ``python -m curation.checks.worker INPUT_DIR OUTPUT_DIR``.

It never opens the store. ``INPUT_DIR`` holds the :class:`~curation.checks.plan.CheckPlan` the
owner read (the examples, the config, the store-free checks to run, the contents to embed and the
cached vectors); the worker embeds what the cache lacked, runs those checks (the label-error
cross-validation, outliers) and writes a :class:`~curation.checks.plan.CheckOutcome` into
``OUTPUT_DIR``. It reports on standard output, one JSON object per line, as
:mod:`curation.dedup.worker` does. The owner writes the flags.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..progress import Progress, worker_main


def compute(input_dir: Path, output_dir: Path, progress: Progress) -> None:
    from ..bundle import Bundle
    from .plan import CheckPlan, compute_checks

    compute_checks(CheckPlan.from_bundle(Bundle.read(input_dir)), progress).to_bundle().write(output_dir)


def main(argv: list[str]) -> int:
    return worker_main(argv, compute)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
