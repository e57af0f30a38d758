"""PII scrubbing: ``scrub`` is pure (texts in, placeholders out), ``recognizers`` builds the
Presidio analyzer, ``dataset`` runs it over a stored dataset (config, role check, store writes).
"""

from __future__ import annotations

from .dataset import ScrubReport, get_pii_config, scrub_dataset, set_pii_config
from .scrub import ENTITIES, PiiConfig, Replacement, ScrubResult, Span, detect, fields_of, scrub_frame, scrub_records

__all__ = [
    "ENTITIES", "PiiConfig", "Replacement", "ScrubReport", "ScrubResult", "Span", "detect", "fields_of",
    "get_pii_config", "scrub_dataset", "scrub_frame", "scrub_records", "set_pii_config",
]
