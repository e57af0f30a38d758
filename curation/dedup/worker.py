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

from ..errors import TuneloopError
from ..progress import channel_progress, json_channel


def main(argv: list[str]) -> int:
    send = json_channel()
    try:
        from ..bundle import Bundle
        from .plan import DedupPlan, compute_dedup

        plan = DedupPlan.from_bundle(Bundle.read(Path(argv[0])))
        compute_dedup(plan, channel_progress(send)).to_bundle().write(Path(argv[1]))
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
