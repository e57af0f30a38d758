"""Names used in paths are safe (#21 class 2): dataset names are checked at creation, and every
name that builds a path is sanitised (for stores made before the check)."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import pytest

from curation import import_file
from curation.errors import InvalidName
from curation.outputs import safe_name
from curation.snapshots import SnapshotConfig, create_snapshot, export_snapshot_zip

TAIL = "use at most 64 printable characters, without slashes or backslashes, e.g. support-tickets$"


@pytest.mark.parametrize(("name", "why"), [
    ("../../x", "holds a path separator"),
    ("/abs/path", "holds a path separator"),
    ("a\\b", "holds a path separator"),
    ("a\x00b", "holds a control or non-printable character"),
    ("line\nbreak", "holds a control or non-printable character"),
    ("x" * 65, "is 65 characters long"),
    ("..", "is '.' or '..' or starts or ends with a space"),
    (" padded", "is '.' or '..' or starts or ends with a space"),
])
def test_an_unsafe_dataset_name_is_refused_when_the_dataset_is_created(store, write, name, why):
    f = write("a.csv", "text,label\nhello,x\n")
    with pytest.raises(InvalidName, match=rf"^dataset name '.*': {why}; {TAIL}"):
        import_file(store, f, name)
    assert store.list_datasets() == []


def test_a_good_name_with_spaces_dots_and_unicode_is_accepted(store, write):
    f = write("a.csv", "text,label\nhello,x\n")
    import_file(store, f, "Support tickets v1.2 — é")
    assert store.list_datasets() == ["Support tickets v1.2 — é"]


@pytest.mark.parametrize(("raw", "safe"), [
    ("../../x", "x"), ("/abs/path", "abs_path"), ("..", "dataset"), ("a b/c", "a_b_c"), (".hidden", "hidden"),
])
def test_safe_name_keeps_one_path_component(raw, safe):
    assert safe_name(raw) == safe


def test_the_snapshot_download_of_a_legacy_badly_named_dataset_stays_in_its_temporary_folder(store, write):
    f = write("a.jsonl", "\n".join(json.dumps({"text": f"text {i}", "label": "ab"[i % 2]}) for i in range(12)) + "\n")
    import_file(store, f, "tmpname", status="approved")
    # a store made before names were checked: rename the dataset behind the check's back
    store.cursor().execute("UPDATE datasets SET name = '../../escape' WHERE name = 'tmpname'")
    store.cursor().execute("UPDATE examples SET dataset = '../../escape' WHERE dataset = 'tmpname'")
    snap = create_snapshot(store, "../../escape", SnapshotConfig(seed=1)).id
    tmp_root = Path(tempfile.gettempdir())
    before = set(tmp_root.parent.iterdir()) | set(tmp_root.iterdir())
    name, data = export_snapshot_zip(store, snap, "csv")
    assert name == f"escape-{snap}-csv.zip"
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert all(n.startswith(f"escape-{snap}-csv/") and ".." not in n for n in names)
    assert set(tmp_root.parent.iterdir()) | set(tmp_root.iterdir()) == before
