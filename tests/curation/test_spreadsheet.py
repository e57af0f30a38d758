"""The one spreadsheet formula-escaping rule (OWASP CSV injection): snapshot CSVs and the app's CSV download."""

from __future__ import annotations

import polars as pl
import pytest

from curation.spreadsheet import FORMULA_STARTS, escape_formula, escape_formulas, unescape_formulas


@pytest.mark.parametrize("value", ["=SUM(A1)", "+1 call me", "-x", "@x", "\tx", "\rx", "'quoted"])
def test_text_starting_with_a_formula_character_or_a_quote_gets_a_leading_quote(value):
    assert escape_formula(value) == "'" + value


def test_a_negative_number_written_as_text_is_escaped_and_a_number_stored_as_a_number_is_not():
    assert escape_formula("-2") == "'-2"
    assert escape_formula(-2) == -2 and escape_formula(-2.5) == -2.5


@pytest.mark.parametrize("value", ["ok", "a=b", " =x", "", None, 3, True])
def test_other_values_are_left_alone(value):
    assert escape_formula(value) == value


def test_the_frame_form_applies_the_same_rule_to_text_columns_only():
    values = [start + "x" for start in FORMULA_STARTS] + ["-2", "ok", "a=b", " =x", "", None]
    f = pl.DataFrame({"t": values, "n": list(range(-1, len(values) - 1))})
    esc = escape_formulas(f)
    assert esc["t"].to_list() == [escape_formula(v) for v in values]
    assert esc["n"].equals(f["n"])


def test_escape_formulas_is_undone_exactly():
    f = pl.DataFrame({"t": ["=a", "'b", "c", "-", "''x", None], "n": [1, 2, 3, 4, 5, 6]})
    esc = escape_formulas(f)
    assert esc["t"].to_list() == ["'=a", "''b", "c", "'-", "'''x", None]
    assert unescape_formulas(esc).equals(f)
