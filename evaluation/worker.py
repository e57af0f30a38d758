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

from curation.errors import TuneloopError
from curation.progress import channel_progress, json_channel


def main(argv: list[str]) -> int:
    send = json_channel()
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        from curation.bundle import Bundle

        from .by_task import compute_evaluation
        from .plans import plan_from_bundle

        plan = plan_from_bundle(Bundle.read(Path(argv[0])))
        compute_evaluation(plan, channel_progress(send)).to_bundle().write(Path(argv[1]))
    except TuneloopError as exc:
        send({"error": str(exc), "kind": type(exc).__name__, "exit_code": exc.exit_code})
        return 1
    except Exception as exc:  # noqa: BLE001 - reported to the owner, which registers nothing
        import traceback

        traceback.print_exc()
        send({"error": f"{type(exc).__name__}: {exc}"})
        return 1
    send({"done": {}})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
