"""evaluate_by_task: the run's task picks the evaluation; errors go to review only when asked."""

from __future__ import annotations

from contextlib import nullcontext

import training
from evaluation import ReviewRequest, evaluate_by_task
from evaluation import by_task


class _FakeStore:
    def atomic(self):
        return nullcontext()


def _fake_sft(monkeypatch, sent: list):
    monkeypatch.setattr(training, "get_run", lambda store, run_id: {"task": "sft"})
    monkeypatch.setattr(by_task, "read_generation", lambda store, run_id, **kw: by_task.GenerationPlan(
        run_id, None, kw["data"], [], [], [], [], None))
    monkeypatch.setattr(by_task, "compute_generation", lambda plan, progress: "outcome")
    monkeypatch.setattr(by_task, "write_generation", lambda store, plan, outcome: {"outputs": 2, "outcome": outcome})
    monkeypatch.setattr(by_task, "send_errors_to_review", lambda store, run_id, **kw: sent.append(kw) or "loop")


def test_sft_runs_get_generated_outputs_and_send_to_review_only_for_the_test_split(monkeypatch):
    sent: list = []
    _fake_sft(monkeypatch, sent)
    review = ReviewRequest(actor="maria", budget=5, label_checks=False)
    ev = evaluate_by_task(_FakeStore(), "r1", review=review)
    assert (ev.task, ev.generation, ev.result, ev.loop) == ("sft", {"outputs": 2, "outcome": "outcome"}, None, "loop")
    assert sent == [{"actor": "maria", "budget": 5, "label_checks": False}]
    ev = evaluate_by_task(_FakeStore(), "r1", data="file.csv", review=review)
    assert ev.loop is None and len(sent) == 1


def test_classification_runs_get_metrics_and_no_review_unless_asked(eval_store, trained):
    ev = evaluate_by_task(eval_store, trained.run_id)
    assert ev.task == "classification" and ev.generation is None and ev.loop is None
    assert 0.0 <= ev.result.summary.accuracy <= 1.0
