"""Generation (sft) runs: generate answers to the test prompts (or a file's) and check them,
in the three steps of every evaluation: read (store), compute (no store), write (store)."""

from __future__ import annotations

import json

import polars as pl

from curation import Store
from curation.progress import Progress
from curation.store import evaluation as store_evaluation

from .errors import InvalidEvaluationOption
from .evaluate import read_labelled_file
from .plans import GenerationOutcome, GenerationPlan
from .rubric import check_outputs, summarize_checks
from .summary import GenerationSummary


def evaluate_generation(store: Store, run_id: str, *, data=None, limit: int = 50, oos_label: str | None = None,
                        prompt_col: str = "prompt", label_col: str = "label", detect_pii: bool = True,
                        progress=None) -> GenerationSummary:
    """Generate responses for a generation (sft) run's test prompts (or a file's), run the
    automatic checks and store the outputs for rubric review.

    With ``data`` and ``oos_label``, rows whose ``label_col`` equals ``oos_label`` are prompts
    that expect escalation (out of scope, or too vague to answer): their output passes only if
    it refuses or escalates. A file without a ``prompt_col`` column is read from its ``text``
    column (the difficult-cases suite, ``data/difficult_cases/suite.csv``, with
    ``oos_label="escalate"``); a ``slice`` column gives the escalate rate per slice.

    Returns a :class:`~evaluation.summary.GenerationSummary`: counts of outputs, failed checks per
    kind, pass rate, and the ``escalate_rate`` on the prompts that expect escalation (overall and
    per slice).
    Cost: greedy generation, about 30 tokens/s for SmolLM2 on CPU.
    """
    plan = read_generation(store, run_id, data=data, limit=limit, oos_label=oos_label, prompt_col=prompt_col,
                           label_col=label_col, detect_pii=detect_pii)
    outcome = compute_generation(plan, progress)
    with store.atomic():
        return write_generation(store, plan, outcome)


def read_generation(store: Store, run_id: str, *, data=None, limit: int = 50, oos_label: str | None = None,
                    prompt_col: str = "prompt", label_col: str = "label", detect_pii: bool = True) -> GenerationPlan:
    """The read step: the run's folder and the prompts (test split, or every row of ``data``)."""
    import training

    row = training.get_run(store, run_id)
    if row["task"] != "sft":
        raise InvalidEvaluationOption(f"run {run_id} is a {row['task']} run; generation evaluation needs an sft run")
    folder = training.run_folder(store, run_id)
    if data is None:
        snap = training.load_snapshot(store, row["snapshot_id"])
        frame = snap.split("test").head(limit)
        return GenerationPlan(run_id, folder, None, frame["prompt"].to_list(), frame["response"].to_list(),
                              frame["example_id"].to_list(), [False] * frame.height, None, detect_pii)
    columns = read_labelled_file(data, "", "").columns
    if prompt_col not in columns and "text" in columns:
        prompt_col = "text"
    df = read_labelled_file(data, prompt_col, "")  # every row of a file: a suite is meant to be run whole
    prompts = [str(p) for p in df[prompt_col].to_list()]
    slices = df["slice"].cast(pl.String).to_list() if "slice" in df.columns else None
    oos = [(oos_label is not None and label_col in df.columns and v == oos_label) for v in
           (df[label_col].to_list() if label_col in df.columns else [None] * len(prompts))]
    return GenerationPlan(run_id, folder, str(data), prompts, [None] * len(prompts), list(range(1, len(prompts) + 1)),
                          oos, slices, detect_pii)


def compute_generation(plan: GenerationPlan, progress: Progress | None = None, loaded=None) -> GenerationOutcome:
    """The compute step (no store): load the model, generate greedily, run the automatic checks."""
    import training
    from training.runs import load_run_folder

    run = loaded or load_run_folder(plan.folder, run_id=plan.run_id)
    outputs = []
    for i, p in enumerate(plan.prompts):
        outputs.append(training.generate(run.model, run.tokenizer, p, system_prompt=run.config.system_prompt,
                                         max_new_tokens=run.config.max_new_tokens, device=run.device))
        if progress:
            progress("generating", i + 1, len(plan.prompts))
    checks = check_outputs(outputs, out_of_scope=plan.oos, detect_pii=plan.detect_pii)
    return GenerationOutcome(outputs, checks, summarize_checks(plan.run_id, checks, plan.oos, plan.slices))


def write_generation(store: Store, plan: GenerationPlan, outcome: GenerationOutcome) -> GenerationSummary:
    """The write step: store the test prompts' outputs for rubric review (a file's are not stored)."""
    if plan.data is None:
        store_evaluation.replace_generations(store, plan.run_id, pl.DataFrame({
            "example_id": plan.ids, "prompt": plan.prompts, "reference": plan.refs, "output": outcome.outputs,
            "checks": [json.dumps(c) for c in outcome.checks]}, schema={"example_id": pl.Int64, "prompt": pl.String,
                                                                        "reference": pl.String, "output": pl.String,
                                                                        "checks": pl.String}))
    return outcome.summary
