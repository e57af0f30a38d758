"""PII scrubbing: ``scrub`` is pure (texts in, placeholders out), ``recognizers`` builds the
Presidio analyzer, ``dataset`` runs it over a stored dataset (config, role check, store writes).
"""

from __future__ import annotations

from .scrub import (
    ENTITIES,
    PLACEHOLDER_NAMES,
    PLACEHOLDER_RX,
    detect,
    fields_of,
    PiiConfig,
    placeholder_name,
    replace_spans,
    Replacement,
    scrub_frame,
    scrub_records,
    ScrubResult,
    Span,
)
from .recognizers import (
    ADDRESS_PATTERNS,
    BIRTH_DATE_PATTERN,
    CARD_PATTERN,
    EXCLUDED_PIPES,
    HANDLE_PATTERN,
    NAME_CUE_PATTERN,
    PHONE_PATTERNS,
    PHONE_REGIONS,
    REFERENCE_PATTERNS,
    SPACY_MODEL,
    STANDALONE_REFERENCES,
    STREET_SUFFIXES,
    USERNAME_PATTERN,
    build_analyzer,
    build_default_analyzer,
    offline_email_recognizer,
)
from .dataset import (
    get_pii_config,
    scrub_dataset,
    ScrubReport,
    set_pii_config,
)
