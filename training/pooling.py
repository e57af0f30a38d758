"""A mean-pooling classification head for sentence-transformers encoders.

``AutoModelForSequenceClassification`` classifies from the [CLS] token through BERT's pooler,
but a sentence-transformers model such as all-MiniLM-L6-v2 was trained to be read by the
mean of its token vectors: frozen mean-pooled MiniLM vectors with logistic regression reach
0.929 on BANKING77 (bench/RESULTS.md). :class:`MeanPoolClassifier` reads the encoder that way.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn
from transformers.modeling_outputs import SequenceClassifierOutput

HEAD_FILE = "mean_pool_head.pt"


def trained_pooling(path: str) -> str:
    """"mean" when ``path`` is a sentence-transformers folder with mean pooling, else "cls"."""
    cfg = Path(path) / "1_Pooling" / "config.json"
    try:
        return "mean" if json.loads(cfg.read_text()).get("pooling_mode_mean_tokens") else "cls"
    except (OSError, ValueError):
        return "cls"


class MeanPoolClassifier(nn.Module):
    """Encoder (``AutoModel``) + masked mean of its last hidden states + dropout + linear layer."""

    def __init__(self, encoder: nn.Module, num_labels: int, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.config = encoder.config
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(encoder.config.hidden_size, num_labels)

    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs) -> SequenceClassifierOutput:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        logits = self.classifier(self.dropout(pooled))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)

    def save_pretrained(self, folder: str | Path) -> None:
        """Full fine-tuning: the encoder as a transformers folder plus the head's weights."""
        folder = Path(folder)
        self.encoder.save_pretrained(folder)
        torch.save(self.classifier.state_dict(), folder / HEAD_FILE)

    @classmethod
    def from_folder(cls, folder: str | Path, num_labels: int) -> "MeanPoolClassifier":
        from transformers import AutoModel

        model = cls(AutoModel.from_pretrained(folder), num_labels)
        head = Path(folder) / HEAD_FILE
        if head.exists():
            model.classifier.load_state_dict(torch.load(head, weights_only=True))
        return model
