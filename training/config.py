"""Training configuration: one frozen dataclass, validated when it is built.

Defaults differ by task (measured on BANKING77 and the support replies, see ``docs/training.md``):
:meth:`TrainConfig.for_task` fills them in; any field can be overridden.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace

from .errors import InvalidTrainingConfig

TASKS = ("classification", "sft")
DEVICES = ("auto", "cpu", "cuda")
POOLINGS = ("auto", "mean", "cls")
# Snapshot task -> training task
SNAPSHOT_TASK = {"classification": "classification", "generation": "sft"}

# Per-task defaults; everything not listed uses the dataclass default.
_TASK_DEFAULTS: dict[str, dict] = {
    "classification": dict(
        epochs=4, learning_rate=2e-3, batch_size=32, max_length=64, lora_r=16, lora_alpha=32, lora_dropout=0.05,
        target_modules=("query", "key", "value", "dense"), patience=2,
    ),
    "sft": dict(
        epochs=2, learning_rate=1e-3, batch_size=8, max_length=256, lora_r=16, lora_alpha=32, lora_dropout=0.05,
        target_modules=("q_proj", "k_proj", "v_proj", "o_proj"), patience=1,
    ),
}


def _h(text: str, cli: str | None = None) -> dict:
    # ``cli``: the field is a ``tuneloop train`` option with this (shorter) help text.
    return {"help": text} if cli is None else {"help": text, "cli": cli}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run (with the snapshot and base model, it reproduces it).

    Use :meth:`for_task` to get the tuned defaults of a task. Raises
    :class:`~training.errors.InvalidTrainingConfig` naming the field and the rule it breaks.
    """

    task: str = field(default="classification", metadata=_h(
        "classification | sft", cli="classification | sft (default: from the snapshot's task)."))
    base_model: str | None = field(default=None, metadata=_h(
        "Local model folder; None = bundled MiniLM (classification) or SmolLM2-135M-Instruct (sft).",
        cli="Local model folder (default: bundled MiniLM, or SmolLM2-135M-Instruct for sft)."))
    epochs: int = field(default=4, metadata=_h("Maximum passes over the training split.",
        cli="Maximum epochs (early stopping may end sooner)."))
    learning_rate: float = field(default=2e-3, metadata=_h("Peak AdamW learning rate (linear warm-up then decay).",
        cli="Peak learning rate."))
    batch_size: int = field(default=32, metadata=_h("Examples per optimiser step.",
        cli="Examples per step."))
    max_length: int = field(default=64, metadata=_h("Tokens per example; longer ones are truncated.",
        cli="Tokens per example."))
    lora_r: int = field(default=16, metadata=_h("LoRA rank; 0 = full fine-tuning of every weight.",
        cli="LoRA rank; 0 = full fine-tuning."))
    lora_alpha: int = field(default=32, metadata=_h("LoRA scaling numerator (scale = alpha / r).",
        cli="LoRA alpha."))
    lora_dropout: float = field(default=0.05, metadata=_h("Dropout on the LoRA input, in [0, 1)."))
    target_modules: tuple[str, ...] = field(default=("query", "key", "value", "dense"), metadata=_h(
        "Module names that get LoRA adapters; ('all-linear',) for every linear layer.",
        cli="Comma-separated module names, or all-linear."))
    pooling: str = field(default="auto", metadata=_h(
        "classification: how the text vector is read: auto (mean for sentence-transformers models with mean "
        "pooling, else cls) | mean | cls (the model's own sequence-classification head).",
        cli="classification: auto | mean | cls (auto = mean for sentence encoders)."))
    ensemble: bool = field(default=True, metadata=_h(
        "classification (LoRA, mean pooling): pool the head's probabilities with two regressions fitted on the "
        "train split, one on the base model's frozen embeddings, one on TF-IDF word and character n-grams "
        "(equal-weight geometric mean)."))
    seed: int = field(default=0, metadata=_h("Seed of initialisation, shuffling and dropout.",
        cli="Random seed (same seed, same metrics on CPU)."))
    patience: int = field(default=2, metadata=_h(
        "Stop after this many epochs without a better validation score; 0 = never stop early.",
        cli="Epochs without validation improvement before stopping; 0 = never."))
    weight_decay: float = field(default=0.0, metadata=_h("AdamW weight decay."))
    warmup_ratio: float = field(default=0.06, metadata=_h("Share of steps with a linearly rising learning rate."))
    max_train_examples: int | None = field(default=None, metadata=_h(
        "Use only the first N training examples (after a seeded shuffle); None = all.",
        cli="Train on at most N examples (quick SFT demos)."))
    max_eval_examples: int | None = field(default=None, metadata=_h(
        "Evaluate on at most N validation / test examples; None = all."))
    system_prompt: str | None = field(default=None, metadata=_h(
        "sft: system message put before every prompt (None = the chat template's default)."))
    sample_prompts: int = field(default=3, metadata=_h("sft: validation prompts answered before and after training in the model card."))
    max_new_tokens: int = field(default=64, metadata=_h("sft: tokens generated per sample prompt."))
    device: str = field(default="auto", metadata=_h("auto (CUDA when present, else CPU) | cpu | cuda.",
        cli="auto | cpu | cuda."))
    threads: int | None = field(default=None, metadata=_h(
        "CPU threads for torch; None = the idle cores (all on a quiet machine, 1 on a busy one).",
        cli="CPU threads (default: all cores)."))

    def __post_init__(self) -> None:
        if isinstance(self.target_modules, (list, str)):
            mods = (self.target_modules,) if isinstance(self.target_modules, str) else tuple(self.target_modules)
            object.__setattr__(self, "target_modules", mods)
        if self.task not in TASKS:
            raise InvalidTrainingConfig("task", self.task, f"must be one of {', '.join(TASKS)}")
        if self.pooling not in POOLINGS:
            raise InvalidTrainingConfig("pooling", self.pooling, f"must be one of {', '.join(POOLINGS)}")
        if self.device not in DEVICES:
            raise InvalidTrainingConfig("device", self.device, f"must be one of {', '.join(DEVICES)}")
        for name in ("epochs", "batch_size", "max_length"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise InvalidTrainingConfig(name, v, "must be a positive integer")
        if not (0 < self.learning_rate <= 1):
            raise InvalidTrainingConfig("learning_rate", self.learning_rate, "must be in (0, 1]; try 2e-3 for LoRA, 1e-4 for full fine-tuning")
        if self.lora_r < 0:
            raise InvalidTrainingConfig("lora_r", self.lora_r, "must be >= 0 (0 = full fine-tuning)")
        if self.lora_r > 0 and self.lora_alpha <= 0:
            raise InvalidTrainingConfig("lora_alpha", self.lora_alpha, "must be positive")
        if not (0 <= self.lora_dropout < 1):
            raise InvalidTrainingConfig("lora_dropout", self.lora_dropout, "must be in [0, 1)")
        if self.lora_r > 0 and not self.target_modules:
            raise InvalidTrainingConfig("target_modules", self.target_modules, "must name at least one module (or 'all-linear')")
        if self.patience < 0:
            raise InvalidTrainingConfig("patience", self.patience, "must be >= 0 (0 = no early stopping)")
        if self.weight_decay < 0:
            raise InvalidTrainingConfig("weight_decay", self.weight_decay, "must be >= 0")
        if not (0 <= self.warmup_ratio < 1):
            raise InvalidTrainingConfig("warmup_ratio", self.warmup_ratio, "must be in [0, 1)")
        for name in ("max_train_examples", "max_eval_examples", "threads"):
            v = getattr(self, name)
            if v is not None and v <= 0:
                raise InvalidTrainingConfig(name, v, "must be positive or None")
        if self.sample_prompts < 0 or self.max_new_tokens <= 0:
            raise InvalidTrainingConfig("sample_prompts" if self.sample_prompts < 0 else "max_new_tokens",
                                        self.sample_prompts if self.sample_prompts < 0 else self.max_new_tokens,
                                        "must be >= 0" if self.sample_prompts < 0 else "must be positive")

    @classmethod
    def for_task(cls, task: str, **overrides) -> "TrainConfig":
        """The tuned defaults of ``task`` ("classification" or "sft"), with ``overrides`` applied.

        ``None`` overrides are ignored, so CLI options that were not given keep the defaults.
        """
        if task not in TASKS:
            raise InvalidTrainingConfig("task", task, f"must be one of {', '.join(TASKS)}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise InvalidTrainingConfig(unknown[0], overrides[unknown[0]], f"is not a training option (options: {', '.join(sorted(known))})")
        values = {**_TASK_DEFAULTS[task], **{k: v for k, v in overrides.items() if v is not None}, "task": task}
        return cls(**values)

    def replace(self, **changes) -> "TrainConfig":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["target_modules"] = list(self.target_modules)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        return cls(**{k: (tuple(v) if k == "target_modules" else v) for k, v in d.items()})

