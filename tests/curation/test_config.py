"""Settings (#21 class 5): every TUNELOOP_* variable is validated, with a message naming it."""

from __future__ import annotations

import pytest

from curation import Store, import_file, settings
from curation.errors import InvalidValue


@pytest.mark.parametrize(("name", "value", "hint"), [
    ("TUNELOOP_LOCK_WAIT", "soon", "give a number of seconds at least 0"),
    ("TUNELOOP_LOCK_WAIT", "-1", "give a number of seconds at least 0"),
    ("TUNELOOP_LOCK_WAIT", "nan", "give a number of seconds at least 0"),
    ("TUNELOOP_LEASE_SECONDS", "5m", "give a number of seconds above 0"),
    ("TUNELOOP_LEASE_SECONDS", "0", "give a number of seconds above 0"),
    ("TUNELOOP_CHUNK_ROWS", "lots", "give a whole number of at least 1"),
    ("TUNELOOP_CHUNK_ROWS", "0", "give a whole number of at least 1"),
    ("TUNELOOP_CHUNK_ROWS", "2.5", "give a whole number of at least 1"),
    ("TUNELOOP_MEMORY_LIMIT", "1KB", "give at least 64MiB"),
    ("TUNELOOP_MEMORY_LIMIT", "-5GB", "give a size such as 2GB"),
    ("TUNELOOP_MEMORY_LIMIT", "lots", "give a size such as 2GB"),
    ("TUNELOOP_MEMORY_LIMIT", "5 parsecs", "give a size such as 2GB"),
])
def test_a_bad_setting_is_refused_naming_the_variable(monkeypatch, name, value, hint):
    monkeypatch.setenv(name, value)
    with pytest.raises(InvalidValue, match=rf"^environment variable {name}: '{value}' is not valid; {hint}"):
        settings()


def test_good_settings_are_read_and_blank_means_default(monkeypatch):
    monkeypatch.setenv("TUNELOOP_LOCK_WAIT", "0")
    monkeypatch.setenv("TUNELOOP_LEASE_SECONDS", "")
    monkeypatch.setenv("TUNELOOP_CHUNK_ROWS", "1000")
    monkeypatch.setenv("TUNELOOP_MEMORY_LIMIT", "512MiB")
    s = settings()
    assert (s.lock_wait_s, s.lease_s, s.chunk_rows, s.memory_limit) == (0.0, 300.0, 1000, "512MiB")


def test_chunk_rows_zero_is_blamed_on_the_setting_not_the_file(store, write, monkeypatch):
    f = write("a.csv", "text,label\nhello,x\n")
    monkeypatch.setenv("TUNELOOP_CHUNK_ROWS", "0")
    with pytest.raises(InvalidValue, match=r"^environment variable TUNELOOP_CHUNK_ROWS: '0' is not valid"):
        import_file(store, f, "d")
    with pytest.raises(InvalidValue, match=r"^chunk_rows: 0 is not valid; give a whole number of rows"):
        import_file(store, f, "d", chunk_rows=0)
    assert store.list_datasets() == []


def test_a_tiny_memory_limit_given_directly_is_refused_before_duckdb_runs_out(tmp_path):
    with pytest.raises(InvalidValue, match=r"^memory limit \(TUNELOOP_MEMORY_LIMIT\): '1KB' is not valid; give at least 64MiB"):
        Store(tmp_path / "m.duckdb", memory_limit="1KB")
    assert not (tmp_path / "m.duckdb").exists()
