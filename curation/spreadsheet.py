"""Cells safe to open in a spreadsheet: the one formula-escaping rule of every CSV Tuneloop writes.

The rule is OWASP's for CSV injection: a text cell that starts with ``=``, ``+``, ``-``, ``@``,
tab or carriage return is prefixed with a single quote, so a spreadsheet shows it as text instead
of running it as a formula. A text cell that already starts with a quote gets one more, so
:func:`unescape_formulas` restores every value exactly. Text that looks like a negative number
(``"-2"``) is escaped like any other cell starting with ``-`` (it opens as the text ``-2``);
numbers stored as numbers, ``None`` and text starting elsewhere are left alone.
"""

from __future__ import annotations

import polars as pl

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
_STARTS = r"[=+\-@\t\r']"  # FORMULA_STARTS as a regex class (a test checks that they agree)


def escape_formula(value: object) -> object:
    """One cell: ``value`` with a leading quote when it is text starting with :data:`FORMULA_STARTS`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def escape_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """:func:`escape_formula` on every text cell of ``frame`` (other columns unchanged)."""
    return _on_text(frame, lambda col: pl.when(col.str.contains("^" + _STARTS)).then(pl.lit("'") + col).otherwise(col))


def unescape_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Undo :func:`escape_formulas` (for reading an exported CSV back)."""
    return _on_text(frame, lambda col: pl.when(col.str.contains("^'" + _STARTS)).then(col.str.slice(1)).otherwise(col))


def _on_text(frame: pl.DataFrame, cell) -> pl.DataFrame:
    return frame.with_columns(cell(pl.col(c)).alias(c) for c, dtype in frame.schema.items() if dtype == pl.String)
