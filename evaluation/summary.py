"""The typed results of an evaluation: :class:`EvaluationSummary` (classification runs) and
:class:`GenerationSummary` (the automatic checks of a generation run's outputs).

``to_dict()`` gives the JSON the CLI prints with ``--json``, ``evaluation.json`` holds and the
``evaluations`` table stores (the Runs page and the loop back read that stored form).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class EvaluationSummary:
    """What one evaluation of a classification run found.

    ``scores`` holds accuracy and macro / micro / weighted precision, recall and F1 of the
    in-scope rows; ``threshold`` is the escalation policy's choice (with ``text``, the policy in
    words); ``ood`` holds per in-scope score the AUROC and OOS recall at 95/97/99% coverage. The optional parts are ``None`` when they do not apply (``oos`` without
    ``--oos-label``, ``baseline`` when switched off, ``comparison`` / ``test_split_hash`` /
    ``stored_predictions`` for a ``--data`` file).
    """

    run: str
    snapshot: str
    dataset: str
    data: str
    n: int
    scores: dict[str, float]
    per_class: list[dict]
    confusion: dict
    top_confused: list[dict]
    ci: dict | None
    ece: float
    reliability: list[dict]
    coverage_curve: list[dict]
    threshold: dict
    at_threshold: dict
    validation: dict
    slices: dict[str, list[dict]] = field(default_factory=dict)
    failure_cases: list[dict] = field(default_factory=list)
    oos: dict | None = None
    ood: dict | None = None
    baseline: dict | None = None
    test_split_hash: str | None = None
    comparison: dict | None = None
    stored_predictions: int | None = None

    @property
    def accuracy(self) -> float:
        return self.scores["accuracy"]

    @property
    def macro_f1(self) -> float:
        return self.scores["macro_f1"]

    def to_dict(self) -> dict:
        """The stored / printed form (keys in a fixed order; parts that do not apply are left out)."""
        d: dict = {"run": self.run, "snapshot": self.snapshot, "dataset": self.dataset, "data": self.data, "n": self.n,
                   **self.scores,
                   "per_class": self.per_class, "confusion": self.confusion, "top_confused": self.top_confused,
                   "ci": self.ci, "ece": self.ece, "reliability": self.reliability, "coverage_curve": self.coverage_curve,
                   "threshold": self.threshold, "at_threshold": self.at_threshold, "validation": self.validation}
        if self.oos is not None:
            d["oos"] = self.oos
        if self.ood is not None:
            d["ood"] = self.ood
        d["slices"] = self.slices
        d["failure_cases"] = self.failure_cases
        for name in ("baseline", "test_split_hash", "comparison", "stored_predictions"):
            if getattr(self, name) is not None:
                d[name] = getattr(self, name)
        return d


@dataclass(frozen=True)
class GenerationSummary:
    """The automatic checks of a generation (sft) run's outputs.

    ``failed`` counts outputs failing each check (placeholders, too short, too long, PII);
    ``oos_prompts`` are the prompts that expect escalation, ``escalate_rate`` (also
    ``oos_escalated``) the share of them whose answer escalates, ``escalated_unexpectedly`` the
    share of the other prompts whose answer does; rates are ``None`` when nothing was counted.
    ``escalate_rate_by_slice`` (slice -> prompts, escalate_rate) only for a file with slices.
    """

    run: str
    outputs: int
    passed: int
    pass_rate: float | None
    failed: dict[str, int]
    oos_prompts: int
    oos_escalated: float | None
    escalate_rate: float | None
    escalated_unexpectedly: float | None
    escalate_rate_by_slice: dict[str, dict] | None = None

    def to_dict(self) -> dict:
        """The printed form (``--json``); ``escalate_rate_by_slice`` only when there are slices."""
        d = asdict(self)
        if self.escalate_rate_by_slice is None:
            del d["escalate_rate_by_slice"]
        return d
