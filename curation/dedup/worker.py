"""The dedup subprocess of the store's owner: ``python -m curation.dedup.worker INPUT_DIR OUTPUT_DIR``.

It never opens the store. ``INPUT_DIR`` holds the :class:`~curation.dedup.plan.DedupPlan` the
owner read (the keyed frame; for the semantic method, the representatives' contents and the
cached vectors); the worker embeds what the cache lacked, finds the pairs of each method and
writes a :class:`~curation.dedup.plan.DedupOutcome` into ``OUTPUT_DIR``. It reports on standard
output, one JSON object per line: ``{"progress": [stage, done, total]}``, then ``{"done": {}}``
or ``{"error": "...", "kind": "...", "exit_code": n}`` (a project error keeps its class name and
exit code). Anything else goes to standard error (the job's logs). The owner writes the result.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..progress import Progress, worker_main


def compute(input_dir: Path, output_dir: Path, progress: Progress) -> None:
    from ..bundle import Bundle
    from .plan import DedupPlan, compute_dedup

    compute_dedup(DedupPlan.from_bundle(Bundle.read(input_dir)), progress).to_bundle().write(output_dir)


def main(argv: list[str]) -> int:
    return worker_main(argv, compute)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
