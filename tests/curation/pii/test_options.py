"""Scrubbing options on top of the saved settings (``overrides``), and the role check before anything is read."""

from __future__ import annotations

import pytest

from curation import PermissionDenied, Store, import_file
from curation.pii import PiiConfig, get_pii_config, scrub_dataset


def test_with_overrides_replaces_given_fields_and_keeps_the_rest():
    base = PiiConfig(allow_list=("Acme",), review_below=0.5)
    cfg = base.with_overrides(deny_list=["Project X"], review_below=None, workers=2)
    assert (cfg.allow_list, cfg.deny_list, cfg.review_below, cfg.workers) == (("Acme",), ("Project X",), 0.5, 2)


def test_scrub_saves_overrides_on_top_of_the_saved_settings(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,text,label\nt1,Mail dana@example.com,x\n")
    with Store(tmp_path / "s.duckdb") as store:
        import_file(store, path, "tk")
        scrub_dataset(store, "tk", actor="t", overrides={"allow_list": ["Acme"]})
        scrub_dataset(store, "tk", actor="t", overrides={"review_below": 0.6, "deny_list": None})
        cfg = get_pii_config(store, "tk")
    assert (cfg.allow_list, cfg.review_below) == (("Acme",), 0.6)


def test_keep_original_is_refused_for_non_admins_before_anything_is_read(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        store.add_user("ana", "reviewer", "not-a-real-hash")
        for actor, role in (("ana", "reviewer"), ("nobody", "unknown user")):
            with pytest.raises(PermissionDenied, match=rf"user '{actor}' \({role}\) may not keep raw personal data"):
                scrub_dataset(store, "no-such-dataset", actor=actor, keep_original=True)
