"""Fixtures of the CLI tests: the training and evaluation layers' tiny models, snapshots and trained run."""

from tests.evaluation.conftest import eval_store, trained  # noqa: F401 - fixtures re-used
from tests.training.conftest import cls_snapshot, sft_snapshot, tiny_bert, tiny_llama  # noqa: F401
