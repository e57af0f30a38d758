"""Shared fixtures: a temporary store, tiny hand-made files, offline model settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from curation import Store  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(tmp_path: Path):
    """A fresh store in a temporary DuckDB file."""
    s = Store(tmp_path / "t.duckdb")
    yield s
    s.close()


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
