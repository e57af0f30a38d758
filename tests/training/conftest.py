"""Tiny models and snapshots for fast training tests (seconds on 2 cores, no downloads).

Models are randomly initialised from small configs; their tokenizers are trained with
``tokenizers`` on the test texts, so nothing comes from the network or the model cache.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from training import SnapshotData, TrainConfig
from training.data import split_frame

ROOT = Path(__file__).resolve().parents[2]
CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
LABELS = ["card_arrival", "exchange_rate", "lost_or_stolen_card", "top_up_failed"]


def _banking_frame(per_label: int = 25) -> pl.DataFrame:
    df = pl.read_csv(ROOT / "data/banking77/train.csv").rename({"category": "label"})
    df = df.filter(pl.col("label").is_in(LABELS)).group_by("label", maintain_order=True).head(per_label)
    return df.with_row_index("example_id").select(pl.col("example_id").cast(pl.Int64), "text", "label")


def _support_frame(n: int = 40) -> pl.DataFrame:
    rows = [json.loads(line) for line in (ROOT / "data/support/support_sft.jsonl").read_text().splitlines()[:n]]
    return pl.DataFrame({"example_id": [int(r["id"]) for r in rows], "prompt": [r["prompt"] for r in rows],
                         "response": [r["response"][:300] for r in rows]})


def cls_config(base: str, **kw) -> TrainConfig:
    """A fast classification config for the tiny test models."""
    opts = dict(base_model=base, epochs=3, batch_size=8, learning_rate=5e-3, threads=1)
    return TrainConfig.for_task("classification", **{**opts, **kw})


@pytest.fixture(scope="session")
def cls_snapshot() -> SnapshotData:
    return SnapshotData("snap-cls", "banking77", "classification", list(LABELS), split_frame(_banking_frame(), seed=1),
                        {"examples": 100, "licence": "CC BY 4.0"})


@pytest.fixture(scope="session")
def sft_snapshot() -> SnapshotData:
    return SnapshotData("snap-sft", "support", "generation", [], split_frame(_support_frame(), seed=1))


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> str:
    """A 2-layer, 32-wide BERT with a WordPiece vocabulary trained on the BANKING77 slice."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    texts = _banking_frame()["text"].to_list()
    tk = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tk.normalizer = normalizers.BertNormalizer(lowercase=True)
    tk.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tk.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=500, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    tk.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                  sep_token="[SEP]", mask_token="[MASK]")
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=tk.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128, pad_token_id=0)
    out = tmp_path_factory.mktemp("tiny_bert")
    BertModel(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return str(out)


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory) -> str:
    """A 2-layer, 32-wide Llama with a byte-level BPE trained on the support slice and a ChatML template."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    f = _support_frame()
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tk.train_from_iterator(f["prompt"].to_list() + f["response"].to_list(),
                           trainers.BpeTrainer(vocab_size=600, special_tokens=special,
                                               initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                  bos_token="<|im_start|>")
    tok.chat_template = CHATML
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=tk.get_vocab_size(), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512,
                      eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id)
    out = tmp_path_factory.mktemp("tiny_llama")
    LlamaForCausalLM(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return str(out)
