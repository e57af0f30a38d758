"""TF-IDF word (1-2) and character (2-5, word-bounded) n-grams with logistic regression.

Two uses:

- the **baseline** every fine-tuned run is compared with (:class:`evaluation.scoring.Baseline`):
  STACK_NOTES measured this family at 0.914 test accuracy on BANKING77 in about a minute, so a
  run that does not beat it is not worth serving;
- the **lexical expert** of a classification run's ensemble (:mod:`training.heads`): it sees
  spellings and word pairs that a 64-token sub-word encoder pools away, so its errors differ
  from the fine-tuned head's and the frozen-embedding regression's (bench/RESULTS.md, section
  ``train_banking77``).

A fitted model turns into plain arrays (vocabularies, idf weights, coefficients) and back, so a
run stores it in ``scoring.npz`` without pickles.
"""

from __future__ import annotations

import numpy as np

_PARTS = ("word", "char")


def _vectorizer(part: str, vocabulary: dict | None = None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    if part == "word":
        return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, vocabulary=vocabulary)
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, vocabulary=vocabulary)


def in_label_order(probs: np.ndarray, classes, labels: list[str]) -> np.ndarray:
    """A classifier's ``predict_proba`` columns (in ``classes`` order) rearranged to ``labels``;
    labels the classifier never saw get probability 0, classes outside ``labels`` are dropped."""
    out = np.zeros((probs.shape[0], len(labels)), dtype=np.float32)
    col = {lab: i for i, lab in enumerate(labels)}
    for j, lab in enumerate(classes):
        if lab in col:
            out[:, col[lab]] = probs[:, j]
    return out


class LexicalModel:
    """TF-IDF n-grams + logistic regression over ``labels`` (strings)."""

    def __init__(self, labels: list[str], *, c: float = 10.0, seed: int = 0):
        self.labels = list(labels)
        self.c, self.seed = c, seed
        self.vectorizers: dict = {}
        self.coef: np.ndarray | None = None
        self.intercept: np.ndarray | None = None
        self.classes: list[str] = []

    def _features(self, texts: list[str], fit: bool = False):
        from scipy.sparse import hstack

        if fit:
            self.vectorizers = {p: _vectorizer(p) for p in _PARTS}
            return hstack([self.vectorizers[p].fit_transform(texts) for p in _PARTS]).tocsr()
        return hstack([self.vectorizers[p].transform(texts) for p in _PARTS]).tocsr()

    def fit(self, texts: list[str], y: list[str]) -> LexicalModel:
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(C=self.c, max_iter=1000, random_state=self.seed).fit(self._features(texts, fit=True), y)
        # stored as float16 (half the file); rounded now so a loaded run scores exactly as the fitted one
        self.coef, self.intercept = clf.coef_.astype(np.float16).astype(np.float32), clf.intercept_.astype(np.float32)
        self.classes = [str(c) for c in clf.classes_]
        if len(self.classes) == 2:  # binary regression: one row of coefficients for the second class
            self.coef, self.intercept = np.vstack([-self.coef, self.coef]) / 2, np.array([-1, 1], np.float32) * self.intercept[0] / 2
        return self

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """Probabilities in the order of ``labels`` (0 for labels absent from the training data)."""
        from scipy.special import softmax

        z = np.asarray(self._features(list(texts)) @ self.coef.T) + self.intercept
        return in_label_order(softmax(z, axis=1), self.classes, self.labels)

    def to_arrays(self, prefix: str = "lex_") -> dict[str, np.ndarray]:
        out = {f"{prefix}coef": self.coef.astype(np.float16), f"{prefix}intercept": self.intercept,
               f"{prefix}classes": np.array(self.classes), f"{prefix}labels": np.array(self.labels)}
        for p in _PARTS:
            vec = self.vectorizers[p]
            terms = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
            out[f"{prefix}{p}_terms"] = np.array(terms)
            out[f"{prefix}{p}_idf"] = vec.idf_
        return out

    @classmethod
    def from_arrays(cls, arrays, prefix: str = "lex_") -> LexicalModel | None:
        """The model :meth:`to_arrays` wrote, or ``None`` when ``arrays`` holds none."""
        if f"{prefix}coef" not in arrays:
            return None
        m = cls([str(x) for x in arrays[f"{prefix}labels"]])
        m.coef = arrays[f"{prefix}coef"].astype(np.float32)
        m.intercept = arrays[f"{prefix}intercept"].astype(np.float32)
        m.classes = [str(x) for x in arrays[f"{prefix}classes"]]
        for p in _PARTS:
            terms = [str(t) for t in arrays[f"{prefix}{p}_terms"]]
            vec = _vectorizer(p, vocabulary={t: i for i, t in enumerate(terms)})
            vec.idf_ = arrays[f"{prefix}{p}_idf"].astype(np.float64)
            m.vectorizers[p] = vec
        return m
