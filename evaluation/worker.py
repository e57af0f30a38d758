"""The evaluation subprocess of the store's owner: ``python -m evaluation.worker INPUT_DIR OUTPUT_DIR``.

It never opens the store. ``INPUT_DIR`` holds the plan the owner read from the store (a
:class:`~evaluation.bundle.Bundle`: the run's folder, the snapshot, the rows to score, see
:mod:`evaluation.plans`); the worker loads the model from the run folder, predicts or generates,
computes the metrics and writes the outcome into ``OUTPUT_DIR``. It reports on standard output,
one JSON object per line: ``{"progress": [stage, done, total]}``, then ``{"done": {}}`` or
``{"error": "...", "kind": "...", "exit_code": n}`` (a project error keeps its class name and
exit code, so the owner reports it as the embedded CLI would). Anything else the libraries print
goes to standard error (the job's logs). The owner writes the results to the store.
"""

from __future__ import annotations

import sys
from pathlib import Path

from curation.progress import Progress, worker_main


def compute(input_dir: Path, output_dir: Path, progress: Progress) -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    from curation.bundle import Bundle

    from .by_task import compute_evaluation
    from .plans import plan_from_bundle

    compute_evaluation(plan_from_bundle(Bundle.read(input_dir)), progress).to_bundle().write(output_dir)


def main(argv: list[str]) -> int:
    return worker_main(argv, compute)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
