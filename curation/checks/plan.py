"""The heavy checks of a run in a process that does not hold the store (the store's owner's path).

:func:`run_checks <curation.checks.run_checks>` with ``compute=`` reads a :class:`CheckPlan`
(the examples frame, the config, the store-free checks selected, the contents to embed and the
vectors the cache has), hands it to ``compute`` (``python -m curation.checks.worker`` in the
owner), runs the other checks itself, and writes flags, new vectors and the run row in one
transaction. Checks registered with ``store_free=True`` (``label_issue``, ``outlier``: the
embedding and cross-validation) are the ones that move.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import polars as pl

from ..bundle import Bundle, vectors_dict, vectors_frame
from ..embeddings import Encoder, fill_missing, worker_inputs
from ..progress import Progress, no_progress
from ..store.core import Store
from .registry import CheckConfig, CheckContext, CheckOutput, get_check


@dataclass
class CheckPlan:
    """What the store-free checks of a run need (read by the owner)."""

    dataset: str
    config: CheckConfig
    names: list[str]
    frame: pl.DataFrame
    contents: pl.DataFrame
    cached: dict[str, np.ndarray] = field(default_factory=dict)

    def to_bundle(self) -> Bundle:
        return Bundle({"dataset": self.dataset, "config": asdict(self.config), "names": self.names},
                      {"frame": self.frame, "contents": self.contents, "cached": vectors_frame(self.cached)})

    @classmethod
    def from_bundle(cls, b: Bundle) -> CheckPlan:
        config = CheckConfig(**{**b.meta["config"], "checks": tuple(b.meta["config"]["checks"])})
        return cls(b.meta["dataset"], config, list(b.meta["names"]), b.frames["frame"], b.frames["contents"],
                   vectors_dict(b.frames["cached"]))


@dataclass
class CheckOutcome:
    """Each store-free check's output and time, and vectors new to the cache."""

    outputs: dict[str, CheckOutput]
    timings: dict[str, float]
    new_vectors: dict[str, np.ndarray] = field(default_factory=dict)

    def to_bundle(self) -> Bundle:
        frames = {f"{name}__{flag}": f for name, out in self.outputs.items() for flag, f in out.flags.items()}
        meta = {"checks": {name: {"summary": out.summary, "flags": list(out.flags)} for name, out in self.outputs.items()},
                "timings": self.timings}
        return Bundle(meta, {**frames, "new_vectors": vectors_frame(self.new_vectors)})

    @classmethod
    def from_bundle(cls, b: Bundle) -> CheckOutcome:
        outputs = {name: CheckOutput({flag: b.frames[f"{name}__{flag}"] for flag in c["flags"]}, c["summary"])
                   for name, c in b.meta["checks"].items()}
        return cls(outputs, dict(b.meta["timings"]), vectors_dict(b.frames["new_vectors"]))


def plan_checks(store: Store, dataset: str, config: CheckConfig, frame: pl.DataFrame, names: list[str]) -> CheckPlan:
    """The plan of ``names``' store-free checks on ``frame`` (the run's examples)."""
    moved = [n for n in names if get_check(n).store_free]
    contents, cached = worker_inputs(store, frame["id"].to_list() if moved else [], config.model)
    return CheckPlan(dataset, config, moved, frame, contents, cached)


def compute_checks(plan: CheckPlan, progress: Progress | None = None, *, encoder: Encoder | None = None) -> CheckOutcome:
    """Run the plan's checks without the store; the vectors the cache lacked are encoded here."""
    progress = progress or no_progress
    new: dict[str, np.ndarray] = {}

    def vectors() -> np.ndarray:
        return fill_missing(plan.contents["hash"].to_list(), plan.contents["content"].to_list(), dict(plan.cached),
                            encoder=encoder, progress=lambda d, t: progress("embedding", d, t),
                            on_batch=lambda keys, vecs: new.update(zip(keys, vecs)))

    ctx = CheckContext(None, None, plan.frame, plan.config, encoder, progress, vector_source=vectors)
    outputs, timings = {}, {}
    for name in plan.names:
        t = time.perf_counter()
        outputs[name] = get_check(name).fn(ctx)
        timings[name] = round(time.perf_counter() - t, 3)
    return CheckOutcome(outputs, timings, new)


ComputeChecks = Callable[[CheckPlan, Progress], CheckOutcome]
