"""Model cards: Markdown written into each run folder and shown on the app's Runs page.

Sections follow Mitchell et al., "Model Cards for Model Reporting" (2019), trimmed to what a
fine-tuning run knows. The "Limitations and known failure cases" section sits between
markers so the evaluation layer can rewrite it with :func:`set_card_section`.
"""

from __future__ import annotations

import re
from pathlib import Path

EVALUATION_SECTION = "evaluation"


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    return "" if v is None else str(v).replace("|", "\\|").replace("\n", " ")


def _table(rows: list[dict]) -> str:
    if not rows:
        return "_none_\n"
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _quote(text: str, limit: int = 400) -> str:
    text = text.strip()
    text = text if len(text) <= limit else text[:limit] + " …"
    return "\n".join("> " + line for line in (text.splitlines() or [""]))


def model_card(*, run_id: str, task: str, base_model: str, snapshot: dict, config: dict, metrics: dict,
               environment: dict, labels: list[str] | None = None) -> str:
    """The Markdown model card of a finished run (pure: everything comes in as arguments)."""
    kind = "text classifier" if task == "classification" else "response generator (supervised fine-tuning)"
    lora = f"LoRA r={config['lora_r']}, alpha={config['lora_alpha']} on {_fmt(config['target_modules'])}" if config["lora_r"] else "full fine-tuning"
    out = [f"# Model card: run `{run_id}`", "",
           f"A {kind} fine-tuned from `{Path(base_model).name}` ({lora}) on snapshot `{snapshot['id']}` "
           f"of dataset `{snapshot['dataset']}`.", "",
           "## Model details", "",
           _table([{"field": k, "value": v} for k, v in [
               ("task", task), ("base model", base_model), ("adaptation", lora),
               ("trainable parameters", f"{metrics.get('trainable_params', 0):,} of {metrics.get('total_params', 0):,}"),
               ("device", metrics.get("device")), ("training time", f"{metrics.get('seconds', 0) / 60:.1f} min"),
               ("tuneloop commit", environment.get("git_commit")), ("torch / transformers / peft",
                f"{environment.get('torch')} / {environment.get('transformers')} / {environment.get('peft')}")]]),
           "## Training data", "",
           f"Snapshot `{snapshot['id']}` (dataset `{snapshot['dataset']}`): "
           + ", ".join(f"{n} {k}" for k, n in snapshot.get("sizes", {}).items()) + " examples."
           + (f" {len(labels)} labels." if labels else ""), ""]
    summary = snapshot.get("datasheet_summary") or {}
    if summary:
        out += ["Datasheet summary:", "", _table([{"field": k, "value": v} for k, v in summary.items()])]
    out += ["## Training configuration", "", _table([{"option": k, "value": f"{v:g}" if isinstance(v, float) else v} for k, v in sorted(config.items())]),
            "## Metrics", "",
            f"Best epoch {metrics.get('best_epoch')} of {metrics.get('epochs_run')} run"
            + (" (stopped early: validation stopped improving)." if metrics.get("stopped_early") else ".")
            + " The weights of the best epoch are kept.", ""]
    val, test = metrics.get("validation", {}), metrics.get("test", {})
    keys = [k for k in ("accuracy", "macro_f1", "loss", "perplexity") if k in val or k in test]
    splits = (("validation, before training", metrics.get("validation_before") or {}), ("validation", val), ("test", test))
    out += [_table([{"split": s, **{k: m.get(k) for k in keys}} for s, m in splits if m]),
            "Per epoch (train vs validation):", "", _table(metrics.get("history", []))]
    samples = metrics.get("samples") or []
    if samples:
        out += ["## Sample generations (validation prompts, before and after training)", ""]
        for i, s in enumerate(samples, 1):
            out += [f"**{i}. Prompt**", "", _quote(s["prompt"]), "", "Before:", "", _quote(s["before"]), "",
                    "After:", "", _quote(s["after"]), "", "Reference:", "", _quote(s["reference"]), ""]
    if task == "classification":
        intended = (f"Routing or tagging texts like those in dataset `{snapshot['dataset']}` into its "
                    f"{len(labels or [])} labels, with a human reviewing low-confidence predictions.")
        scope = ("Texts in other languages or domains than the training data; labels not in the label map "
                 "(the model always picks one of them); decisions about people without human review.")
    else:
        intended = (f"Drafting replies to prompts like those in dataset `{snapshot['dataset']}`, for a human "
                    "to check and edit before sending.")
        scope = ("Sending generated text without review; factual, legal, medical or financial advice; prompts "
                 "far from the training data. A small model invents details (order numbers, policies).")
    out += ["## Intended use", "", intended, "", "## Out-of-scope use", "", scope, "",
            "## Limitations and known failure cases", "",
            f"<!-- {EVALUATION_SECTION}:start -->",
            "Not evaluated beyond the metrics above yet: run `tuneloop evaluate --run " + run_id + "` to fill in "
            "per-slice metrics, calibration and the most confident errors.",
            f"<!-- {EVALUATION_SECTION}:end -->", ""]
    return "\n".join(out)


def set_card_section(card_path: str | Path, name: str, markdown: str) -> None:
    """Replace the marked section ``name`` of a model card (appending it when missing)."""
    path = Path(card_path)
    text = path.read_text(encoding="utf-8")
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{markdown.rstrip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
