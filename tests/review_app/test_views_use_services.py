"""Pages call only services: no page imports the curation layer, the store's SQL modules or auth."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from curation.pii import ENTITIES as PII_ENTITIES
from review_app import services as svc

VIEWS = sorted((Path(__file__).resolve().parents[2] / "review_app" / "views").glob("*.py"))


@pytest.mark.parametrize("path", VIEWS, ids=lambda p: p.name)
def test_page_imports_nothing_below_the_service_layer(path):
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
    below = {m for m in imported if m.split(".")[0] in ("curation", "training", "evaluation") or m == "review_app.auth"}
    assert below == set(), f"{path.name} imports {sorted(below)}; call a function of review_app.services instead"


def test_missed_personal_data_offers_every_entity_the_scrubber_knows():
    assert svc.PII_ENTITIES == tuple(PII_ENTITIES) and len(svc.PII_ENTITIES) == 17
