"""Shared fixtures: a temporary store, tiny hand-made files, offline model settings, and for the
training, evaluation and app tests tiny models (seconds on 2 cores, no downloads), snapshots and one
trained run.

Models are randomly initialised from small configs; their tokenizers are trained with
``tokenizers`` on the test texts, so nothing comes from the network or the model cache. The
trained run (an approved BANKING77 slice, a snapshot, a tiny run) is built once per session; each
test gets its own copy of the DuckDB file through ``eval_store`` (the run folder is shared and only
read, except for evaluation files rewritten identically).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from curation import Store, import_file  # noqa: E402
from curation.snapshots import SnapshotConfig, create_snapshot  # noqa: E402
from training import SnapshotData, TrainConfig, load_snapshot, train  # noqa: E402
from training.data import split_frame  # noqa: E402

from .tiny_models import build_tiny_bert  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(tmp_path: Path):
    """A fresh store in a temporary DuckDB file."""
    s = Store(tmp_path / "t.duckdb")
    yield s
    s.close()


@pytest.fixture
def no_network(monkeypatch) -> list:
    """Refuse every outgoing connection; the list collects the attempts (a test asserts it stays empty)."""
    import socket

    attempts: list = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


@pytest.fixture
def write(tmp_path: Path):
    """Write a text file under tmp_path and return its path: ``write("a.csv", "text,label\\n...")``."""

    def _write(name: str, content: str | bytes) -> Path:
        p = tmp_path / name
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
        return p

    return _write


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
    return build_tiny_bert(tmp_path_factory.mktemp("tiny_bert"), _banking_frame()["text"].to_list(),
                           vocab_size=500, max_positions=128)


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


@dataclass
class Trained:
    db: Path
    run_id: str
    snapshot_id: str
    unreviewed: list[str]


UNREVIEWED = ["my card has not come yet", "what rate do you use to exchange money", "someone stole my card",
              "top up did not go through", "hello?", "I need help with something"]


@pytest.fixture(scope="session")
def trained(tmp_path_factory, tiny_bert) -> Trained:
    root = tmp_path_factory.mktemp("evaluation")
    frame = _banking_frame().with_row_index("n").select(pl.format("e{}", "n").alias("id"), "text", "label")
    src = root / "b.parquet"
    frame.write_parquet(src)
    (root / "u.csv").write_text("id,text\n" + "".join(f"u{i},{t}\n" for i, t in enumerate(UNREVIEWED)))
    db = root / "base.duckdb"
    with Store(db) as store:
        import_file(store, src, "banking77", status="approved")
        import_file(store, root / "u.csv", "banking77")
        snap = create_snapshot(store, "banking77", SnapshotConfig(name="round-1", seed=3))
        cfg = TrainConfig.for_task("classification", base_model=tiny_bert, epochs=3, batch_size=8, learning_rate=5e-3, threads=1)
        res = train(store, load_snapshot(store, snap.id), cfg, runs_dir=root / "runs")
    return Trained(db, res.id, snap.id, UNREVIEWED)


@pytest.fixture
def eval_store(trained, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(trained.db, path)
    s = Store(path)
    yield s
    s.close()
