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

from ..errors import TuneloopError
from ..progress import channel_progress, json_channel


def main(argv: list[str]) -> int:
    send = json_channel()
    try:
        from ..bundle import Bundle
        from .plan import CheckPlan, compute_checks

        plan = CheckPlan.from_bundle(Bundle.read(Path(argv[0])))
        compute_checks(plan, channel_progress(send)).to_bundle().write(Path(argv[1]))
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
