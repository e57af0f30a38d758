"""Near-duplicate benchmark sets with known groups: synthetic walks and real short texts with planted noise.

- ``synthetic``: distinct BANKING77-like questions (walks of a word-bigram model of BANKING77,
  8-24 words), each with 0-6 variants made by word drops, swaps, typos and reorders at 5/10/20/30 %
  of its words (the benchmark the project started with).
- ``banking77`` / ``support``: real short texts (BANKING77's 13,083 questions; the Bitext support
  set's 4,514 prompts). Each base text gets 0-4 *noise variants* (1-3 of: a typo, a case change,
  punctuation added or removed, a filler such as "please" / "thanks" / "asap") = duplicates; and
  with probability 1/2 a *one-slot paraphrase* (one content word replaced by another word the
  corpus uses after the same previous word: "cancel my card" / "cancel my transfer") that is a
  different text, with its own noise variants. Other real texts of the same intent that share
  most words are in the set as they are. Rows are shuffled, so a base is not the first of its
  group. Texts made of the same words (normalised, any order) are one true group. Bitext prompts tagged ``Z``
  (they carry typos of another prompt) are left out, so no unlabelled duplicate hides in the set.
  ``copies`` > 1 repeats the construction with fresh noise and fresh paraphrases on the same
  real bases (true groups stay per copy only when their texts differ: equal texts are merged).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("TMPDIR", "/tmp")) / "tuneloop_dedup_bench"
RATES = (0.05, 0.10, 0.20, 0.30)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_FILL_PRE = ("please ", "hi, ", "hey ", "hello, ", "pls ", "hi there, ")
_FILL_POST = (" please", " thanks", " thank you", " asap", " pls", " thx", ", thanks!", " please?")
_STOP = set("the a an to of my i me is it in on for and or can how what why when where do does did you your "
            "be was are with this that have has am will would could should there their from at by as not no".split())


def _typo(word: str, rng: np.random.Generator) -> str:
    k = int(rng.integers(max(len(word), 1)))
    c = _LETTERS[int(rng.integers(26))]
    kind = int(rng.integers(4))
    if kind == 0:
        return word[:k] + c + word[k + 1:]
    if kind == 1:
        return word[:k] + word[k + 1:]
    if kind == 2:
        return word[:k] + c + word[k:]
    k = min(k, len(word) - 2)
    return word[:k] + word[k + 1] + word[k] + word[k + 2:] if len(word) >= 2 else word


def _edit(words: list[str], rate: float, rng: np.random.Generator) -> list[str]:
    w = list(words)
    for _ in range(max(1, round(rate * len(words)))):
        if len(w) < 3:
            break
        op = rng.integers(4)
        i = int(rng.integers(len(w)))
        if op == 0:  # drop
            del w[i]
        elif op == 1:  # swap with the next word
            j = min(i + 1, len(w) - 1)
            w[i], w[j] = w[j], w[i]
        elif op == 2:  # typo: substitute, delete or insert a letter
            word = w[i]
            k = int(rng.integers(max(len(word), 1)))
            kind = rng.integers(3)
            c = _LETTERS[int(rng.integers(26))]
            w[i] = (word[:k] + c + word[k + 1:]) if kind == 0 else (word[:k] + word[k + 1:]) if kind == 1 else (word[:k] + c + word[k:])
        else:  # reorder: move a word elsewhere
            word = w.pop(i)
            w.insert(int(rng.integers(len(w) + 1)), word)
    return w


def _banking_texts() -> list[str]:
    src = pl.concat([pl.read_csv(ROOT / f"data/banking77/{f}.csv").select("text") for f in ("train", "test")])
    return src["text"].to_list()


def _base_texts(count: int, rng: np.random.Generator) -> list[str]:
    """Distinct BANKING77-like questions: walks of a word-bigram model of BANKING77, 8-24 words."""
    nxt: dict[str, list[str]] = {}
    starts = []
    for text in _banking_texts():
        words = text.split()
        if not words:
            continue
        starts.append(words[0])
        for a, b in zip(words, words[1:] + ["</s>"]):
            nxt.setdefault(a, []).append(b)
    out = []
    for _ in range(count):
        length = int(rng.integers(8, 25))
        w = [starts[int(rng.integers(len(starts)))]]
        while len(w) < length:
            options = nxt.get(w[-1])
            if not options:
                w.append(starts[int(rng.integers(len(starts)))])
                continue
            nw = options[int(rng.integers(len(options)))]
            w.append(starts[int(rng.integers(len(starts)))] if nw == "</s>" else nw)
        out.append(" ".join(w))
    return out


def synthetic(n: int, seed: int = 0) -> pl.DataFrame:
    """``n`` texts with columns ``text``, ``group`` (true group), ``rate`` (0 for the base)."""
    path = CACHE / f"bench_v2_{n}_{seed}.parquet"
    if path.exists():
        return pl.read_parquet(path)
    rng = np.random.default_rng(seed)
    bases = _base_texts(n // 3, rng)
    texts, groups, rates = [], [], []
    g = 0
    while len(texts) < n:
        if g == len(bases):
            bases += _base_texts(n // 10, rng)
        base = bases[g]
        words = base.split()
        texts.append(base); groups.append(g); rates.append(0.0)
        for _ in range(int(rng.integers(7))):
            rate = RATES[int(rng.integers(len(RATES)))]
            texts.append(" ".join(_edit(words, rate, rng))); groups.append(g); rates.append(rate)
        g += 1
    frame = pl.DataFrame({"text": texts[:n], "group": groups[:n], "rate": rates[:n]})
    CACHE.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return frame


# -- real short texts with planted noise ---------------------------------------------------------
def _noise(text: str, rng: np.random.Generator) -> tuple[str, str]:
    """One noise variant of ``text`` and the kinds of noise applied (comma-separated)."""
    kinds = []
    for _ in range(int(rng.integers(1, 4))):
        kind = ("typo", "case", "punct", "filler")[int(rng.integers(4))]
        kinds.append(kind)
        words = text.split(" ")
        if kind == "typo":
            cand = [i for i, w in enumerate(words) if len(w) >= 3 and w.isalpha()]
            if cand:
                i = cand[int(rng.integers(len(cand)))]
                words[i] = _typo(words[i], rng)
            text = " ".join(words)
        elif kind == "case":
            text = (str.lower, str.upper, str.title, str.capitalize)[int(rng.integers(4))](text)
        elif kind == "punct":
            op = int(rng.integers(4))
            if op == 0:
                text = text.rstrip("?.!") + ("?", "!", ".", "??")[int(rng.integers(4))]
            elif op == 1:
                text = text.replace("'", "").rstrip("?.!")
            elif op == 2 and len(words) > 2:
                words[0] += ","
                text = " ".join(words)
            else:
                text = text.replace("?", "").replace(",", "")
        else:
            text = (_FILL_PRE[int(rng.integers(len(_FILL_PRE)))] + text) if rng.integers(2) else (
                text.rstrip("?.!") + _FILL_POST[int(rng.integers(len(_FILL_POST)))])
    return text, ",".join(kinds)


def _paraphrase(text: str, follow: dict[str, list[str]], rng: np.random.Generator) -> str | None:
    """Replace one content word by another word the corpus uses after the same previous word."""
    words = text.split(" ")
    slots = [i for i in range(1, len(words)) if words[i].isalpha() and len(words[i]) >= 3
             and words[i].lower() not in _STOP]
    rng.shuffle(slots)
    for i in slots:
        prev, cur = words[i - 1].lower(), words[i].lower()
        options = [w for w in follow.get(prev, ()) if w != cur and w not in _STOP and w.isalpha()]
        if options:
            words[i] = options[int(rng.integers(len(options)))]
            return " ".join(words)
    return None


def real_short(texts: list[str], name: str, copies: int = 1, seed: int = 0) -> pl.DataFrame:
    """Real texts with noise variants and one-slot paraphrases: ``text``, ``group``, ``kind``."""
    path = CACHE / f"real_{name}_{copies}_{seed}.parquet"
    if path.exists():
        return pl.read_parquet(path)
    rng = np.random.default_rng(seed)
    follow: dict[str, set[str]] = {}
    for t in texts:
        w = t.lower().split()
        for x, y in zip(w, w[1:]):
            follow.setdefault(x, set()).add(y)
    follow_l = {k: sorted(v) for k, v in follow.items()}
    rows: list[tuple[str, int, str]] = []
    g = 0
    for copy in range(copies):
        for base in texts:
            family = [base] if copy == 0 else []
            para = _paraphrase(base, follow_l, rng) if (copy > 0 or rng.integers(2)) else None
            if para:
                family.append(para)
            for member in family:
                rows.append((member, g, "base" if member is base else "paraphrase"))
                for _ in range(int(rng.integers(5))):
                    rows.append((_noise(member, rng)[0], g, "variant"))
                g += 1
    frame = pl.DataFrame(rows, schema={"text": pl.Utf8, "group": pl.Int64, "kind": pl.Utf8}, orient="row")
    frame = frame.sample(fraction=1.0, shuffle=True, seed=seed)
    # texts equal after normalisation (filler-free words) are one true group
    from curation.dedup.algos import components, normalize_for_shingles
    from curation.dedup.verify import content_text

    # the same words in another order are the same text (MinHash sees word sets; docs/dedup.md)
    key = content_text(frame.select(normalize_for_shingles(pl.col("text"))).to_series()).str.split(" ").list.sort()
    frame = frame.with_row_index("r").with_columns(key=key, r=pl.col("r").cast(pl.Int64))
    links = frame.select(a="r", b=pl.col("r").first().over("key")).vstack(
        frame.select(a="r", b=pl.col("r").first().over("group")))
    frame = frame.with_columns(group=pl.Series(components(frame["r"].to_numpy(), links["a"].to_numpy(),
                                                          links["b"].to_numpy()).astype(np.int64)))
    frame = frame.select("text", "group", "kind")
    CACHE.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return frame


def banking77(copies: int = 1) -> pl.DataFrame:
    return real_short(_banking_texts(), "banking77", copies)


def support(copies: int = 1) -> pl.DataFrame:
    src = pl.read_ndjson(ROOT / "data/support/support_sft.jsonl")
    texts = src.filter(~pl.col("tags").cast(pl.Utf8).fill_null("").str.contains("Z"))["prompt"].to_list()
    return real_short(texts, "support", copies)


SETS = {"synthetic": None, "banking77": banking77, "support": support}
