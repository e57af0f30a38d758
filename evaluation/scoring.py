"""Class probabilities from a trained run and from the TF-IDF + logistic-regression baseline.

Both return an ``(n, n_labels)`` probability matrix whose columns follow the label list, so
every metric downstream runs the same code path whichever model produced the scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curation.progress import Progress
from training.lexical import LexicalModel


@dataclass
class RunScores:
    """A classification run's view of some texts: class probabilities (the ensemble's when the
    run has one), the head's logits and the pooled vectors the head reads."""

    probs: np.ndarray
    logits: np.ndarray
    features: np.ndarray | None

    def ood(self, scoring) -> dict[str, np.ndarray]:
        """Every in-scope score available for these texts (see :func:`training.heads.ood_scores`)."""
        from training.heads import ood_scores

        return ood_scores(scoring, self.logits, self.features, self.probs)


def run_outputs(run, texts: list[str], *, batch_size: int = 64, progress: Progress | None = None,
                features: bool = True, frozen: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Logits ``(n, n_labels)`` of a loaded classification run and, with ``features``, the pooled
    vectors its head reads ``(n, hidden)`` (``None`` when the model has no ``classifier``
    module). ``frozen`` switches the LoRA adapters off (the base model's vectors).

    Texts are scored in length-sorted batches padded to their own longest text (short support
    texts would otherwise spend most of the CPU on padding).
    """
    import contextlib

    import torch

    from training.tasks import head_module

    logits_out = np.zeros((len(texts), len(run.labels)), dtype=np.float32)
    head = head_module(run.model) if features else None
    feats: np.ndarray | None = None
    if not texts:
        return logits_out, None
    enc = run.tokenizer(list(texts), truncation=True, max_length=run.config.max_length)["input_ids"]
    order = np.argsort([len(e) for e in enc], kind="stable")
    pad = run.tokenizer.pad_token_id or 0
    captured: list = []
    hook = head.register_forward_hook(lambda _m, inp, _o: captured.append(inp[0].detach())) if head is not None else None
    off = run.model.disable_adapter() if frozen else contextlib.nullcontext()
    run.model.eval()
    try:
        with torch.no_grad(), off:
            for start in range(0, len(order), batch_size):
                idx = order[start:start + batch_size]
                longest = max(len(enc[i]) for i in idx)
                ids = torch.full((len(idx), longest), pad, dtype=torch.long)
                mask = torch.zeros((len(idx), longest), dtype=torch.long)
                for row, i in enumerate(idx):
                    ids[row, :len(enc[i])] = torch.tensor(enc[i])
                    mask[row, :len(enc[i])] = 1
                captured.clear()
                logits_out[idx] = run.model(input_ids=ids.to(run.device), attention_mask=mask.to(run.device)).logits.float().cpu().numpy()
                if captured:
                    if feats is None:
                        feats = np.zeros((len(texts), captured[0].shape[1]), dtype=np.float32)
                    feats[idx] = captured[0].float().cpu().numpy()
                if progress:
                    progress("predicting", min(start + batch_size, len(order)), len(order))
    finally:
        if hook is not None:
            hook.remove()
    return logits_out, feats


def run_scores(run, texts: list[str], *, batch_size: int = 64, progress: Progress | None = None) -> RunScores:
    """:class:`RunScores` of a loaded run: one pass with the adapters, and one without them when
    the run ensembles the head with its frozen-embedding (and lexical) regressions (``scoring.npz``)."""
    from training.heads import softmax

    scoring = getattr(run, "scoring", None)
    logits, feats = run_outputs(run, texts, batch_size=batch_size, progress=progress)
    if scoring is None:
        return RunScores(softmax(logits), logits, feats)
    frozen = run_outputs(run, texts, batch_size=batch_size, frozen=True)[1] if scoring.has_ensemble else None
    return RunScores(scoring.probabilities(logits, frozen, texts), logits, feats)


def run_probabilities(run, texts: list[str], *, batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
    """Class probabilities of a loaded classification run (:func:`training.load_run`) on ``texts``
    (the head's softmax, pooled with the run's regressions when it has them)."""
    return run_scores(run, texts, batch_size=batch_size, progress=progress).probs


class Baseline(LexicalModel):
    """TF-IDF word (1-2) and character (2-5, word-bounded) n-grams with logistic regression
    (:class:`training.lexical.LexicalModel`).

    STACK_NOTES measured this family at 0.914 test accuracy on BANKING77 in about a minute, so
    every fine-tuned run is compared with it: a run that does not beat it is not worth serving.
    """


def out_of_fold_probabilities(texts: list[str], y: list[str], labels: list[str], *, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Baseline probabilities for each training example from a model that did not see it
    (k-fold), the usual signal for label errors in the training data (as in cleanlab)."""
    from sklearn.model_selection import StratifiedKFold

    y_arr = np.asarray(y, dtype=object)
    out = np.zeros((len(texts), len(labels)), dtype=np.float32)
    texts_arr = np.asarray(texts, dtype=object)
    counts = {lab: int((y_arr == lab).sum()) for lab in set(y)}
    k = max(2, min(folds, min(counts.values())))
    for train_idx, test_idx in StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(texts_arr, y_arr):
        m = Baseline(labels, seed=seed).fit(texts_arr[train_idx].tolist(), y_arr[train_idx].tolist())
        out[test_idx] = m.probabilities(texts_arr[test_idx].tolist())
    return out
