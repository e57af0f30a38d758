"""The store file (#21 class 4): a bad --db gives one line naming the file; reading never creates."""

from __future__ import annotations

import sqlite3
import zipfile

import pytest

from curation import Store
from curation.errors import NotAStore, StoreDamaged, StoreNotFound


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.duckdb"
    with Store(path) as s:
        s.cursor().execute("CREATE TABLE filler AS SELECT range AS i, repeat('x', 50) AS s FROM range(50000)")
    return path


def test_a_missing_store_is_not_created_when_create_is_false(tmp_path):
    path = tmp_path / "typo" / "store.duckdb"
    with pytest.raises(StoreNotFound, match=r"typo/store.duckdb: no store here; check --db \(or TUNELOOP_DB\), "
                                            r"or create one with: tuneloop --db .* init$"):
        Store(path, create=False)
    assert not (tmp_path / "typo").exists()
    with pytest.raises(StoreNotFound):
        Store(tmp_path / "missing.duckdb", read_only=True)
    assert not (tmp_path / "missing.duckdb").exists()


def _zip(p):
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("a.txt", "x")


@pytest.mark.parametrize(("make", "what"), [
    (lambda p: p.mkdir(), "is a folder"),
    (lambda p: p.write_bytes(b""), "is an empty file"),
    (lambda p: p.write_text("id,text\n1,hi\n"), r"is another kind of file \(no DuckDB header\)"),
    (lambda p: sqlite3.connect(p).execute("CREATE TABLE t (a)").connection.commit(), "is a SQLite database"),
    (_zip, "is a zip archive"),
])
def test_something_that_is_not_a_store_is_named_in_one_line(tmp_path, make, what):
    path = tmp_path / "x.duckdb"
    make(path)
    before = path.stat().st_mtime_ns
    with pytest.raises(NotAStore, match=rf"x.duckdb: {what}, not a Tuneloop store; give the path of a .duckdb store file"):
        Store(path)
    assert path.stat().st_mtime_ns == before


def test_a_truncated_store_is_reported_as_damaged(good):
    data = good.read_bytes()
    good.write_bytes(data[:5000])
    with pytest.raises(StoreDamaged, match=r"good.duckdb: the store file is damaged \(.*Could not read enough bytes.*\); "
                                           r"nothing was changed: restore it from a backup"):
        Store(good)


def test_a_corrupt_block_is_reported_as_damaged(good):
    data = bytearray(good.read_bytes())
    data[9000:12000] = b"\xff" * 3000
    good.write_bytes(bytes(data))
    with pytest.raises(StoreDamaged, match=r"the store file is damaged \(.*[Cc]orrupt.*\)|the store file is damaged"):
        Store(good)
