"""Datasheets: what a snapshot holds and where it came from, as JSON and rendered Markdown.
"""

from __future__ import annotations

import polars as pl

from ..store import snapshots as store_snapshots
from ..store.core import Store
from .splits import SPLITS


def _split_counts(items: pl.DataFrame) -> tuple[list[str], list[int]]:
    counts = items.group_by("split").len()
    got = dict(zip(counts["split"].cast(pl.String).to_list(), counts["len"].to_list()))
    return list(SPLITS), [got.get(s, 0) for s in SPLITS]


# -- datasheet (pure) ------------------------------------------------------------------------
def build_datasheet(*, snapshot: dict, items: pl.DataFrame, excluded: dict[str, int], facts: dict,
                    settings: dict, schema_labels: list[str], rare_label_min: int = 10) -> dict:
    """Assemble the datasheet of a snapshot as a JSON-ready dict (see :func:`render_datasheet`)."""
    by = (items.with_columns(pl.col("label").fill_null("(none)"), pl.col("split").cast(pl.String))
          .group_by("label", "split").len().sort("label", "split"))
    labels: dict[str, dict[str, int]] = {}
    for label, split, n in by.iter_rows():
        labels.setdefault(label, dict.fromkeys(SPLITS, 0))[split] = n
    for row in labels.values():
        row["total"] = sum(row[s] for s in SPLITS)
    _, split_n = _split_counts(items)
    flags_resolved: dict[str, dict[str, int]] = {}
    flags_open: dict[str, int] = {}
    for f in facts["flags"]:
        if f["resolution"] == "open":
            flags_open[f["check"]] = f["n"]
        else:
            flags_resolved.setdefault(f["check"], {})[f["resolution"]] = f["n"]
    limitations = []
    rare = sorted(lbl for lbl, row in labels.items() if row["total"] < rare_label_min)
    if rare:
        limitations.append(f"{len(rare)} label(s) have fewer than {rare_label_min} examples: {', '.join(rare[:20])}"
                           + (" ..." if len(rare) > 20 else ""))
    absent = sorted(set(schema_labels) - set(labels))
    if absent:
        limitations.append(f"{len(absent)} label(s) of the schema have no example: {', '.join(absent[:20])}"
                           + (" ..." if len(absent) > 20 else ""))
    no_test = sorted(lbl for lbl, row in labels.items() if row["test"] == 0)
    if no_test and split_n[2] > 0:
        limitations.append(f"{len(no_test)} label(s) have no test example, so test metrics say nothing about them: "
                           f"{', '.join(no_test[:20])}" + (" ..." if len(no_test) > 20 else ""))
    flagged_out = {k: v for k, v in excluded.items() if k.startswith("open_flag:")}
    if flagged_out:
        limitations.append("examples with open review flags were left out (" + ", ".join(
            f"{k.split(':', 1)[1]}: {v}" for k, v in sorted(flagged_out.items()))
            + "): the difficult cases they stand for are under-represented")
    if flags_open:
        limitations.append("open flags let through into this snapshot: "
                           + ", ".join(f"{k}: {v}" for k, v in sorted(flags_open.items())))
    if settings.get("limitations"):
        limitations.append(str(settings["limitations"]))
    return {
        "snapshot": snapshot,
        "sources": [{k: (str(v) if k == "imported_at" else v) for k, v in s.items()} for s in facts["sources"]],
        "counts": {"items": items.height, "splits": dict(zip(SPLITS, split_n)), "labels": labels},
        "cleaning": {
            "dataset_statuses": facts["statuses"],
            "duplicates_in_dataset": facts["duplicates_in_dataset"],
            "excluded": excluded,
            "excluded_total_reasons": sum(excluded.values()),
            "pii_replaced": facts["pii_replaced"],
            "flags_resolved": flags_resolved,
            "flags_open_allowed": flags_open,
        },
        "review": [{"reviewer": r["actor"], "actions": r["actions"], "first": str(r["first"]), "last": str(r["last"])}
                   for r in facts["reviewers"]],
        "intended_use": settings.get("intended_use") or "not stated (an admin sets it in the dataset settings)",
        "out_of_scope_use": settings.get("out_of_scope_use") or "not stated (an admin sets it in the dataset settings)",
        "known_limitations": limitations,
    }


def render_datasheet(sheet: dict) -> str:
    """The datasheet as Markdown (what ``snapshot show`` prints and every export carries)."""
    s, c, cl = sheet["snapshot"], sheet["counts"], sheet["cleaning"]
    title = f"{s['dataset']} snapshot {s['id']}" + (f" ({s['name']})" if s.get("name") else "")
    lines = [f"# Datasheet: {title}", "",
             f"- Task: {s['task']}; created {s['created_at']} by {s['created_by']}",
             f"- Content hash (sha256 of sorted example id, version, split): `{s['content_sha256']}`",
             f"- Split train/validation/test: {', '.join(str(x) for x in s['split'])} with seed {s['seed']}; "
             "stratified by label, duplicate groups kept on one side",
             f"- Flags let through: {', '.join(s['allow_flags']) or 'none'}"]
    if s.get("pin_test"):
        lines.append(f"- Test set pinned to snapshot {s['pin_test']}: {s['pinned_test_kept']} kept, "
                     f"{s['pinned_test_missing']} no longer eligible")
    lines += ["", "## Intended use", "", sheet["intended_use"], "", "## Out-of-scope use", "",
              sheet["out_of_scope_use"], "", "## Sources", "",
              "| file | sha256 | rows | items | licence | note |", "|---|---|---|---|---|---|"]
    for src in sheet["sources"]:
        lines.append(f"| {_md(src['file_name'])} | `{src['sha256'][:16]}` | {src['rows']} | {src['items']} | "
                     f"{_md(src['licence'] or 'not recorded')} | {_md(src['note'] or '')} |")
    lines += ["", "## Counts", "", f"{c['items']} examples: " + ", ".join(f"{k} {v}" for k, v in c["splits"].items()),
              "", "| label | train | validation | test | total |", "|---|---|---|---|---|"]
    for label, row in c["labels"].items():
        lines.append(f"| {_md(label)} | {row['train']} | {row['validation']} | {row['test']} | {row['total']} |")
    lines += ["", "## Cleaning", "",
              "- Examples in the dataset by status: " + ", ".join(f"{k} {v}" for k, v in cl["dataset_statuses"].items()),
              f"- Duplicates marked in the dataset (non-canonical): {cl['duplicates_in_dataset']}",
              "- Approved examples left out, per reason: "
              + (", ".join(f"{k} {v}" for k, v in cl["excluded"].items()) or "none"),
              "- PII entities replaced by type placeholders: "
              + (", ".join(f"{k} {v}" for k, v in cl["pii_replaced"].items()) or "none recorded"),
              "- Flags resolved: " + ("; ".join(f"{chk}: " + ", ".join(f"{res} {n}" for res, n in r.items())
                                                for chk, r in cl["flags_resolved"].items()) or "none"),
              "- Open flags let through: " + (", ".join(f"{k} {v}" for k, v in cl["flags_open_allowed"].items())
                                              or "none"),
              "", "## Review", ""]
    if sheet["review"]:
        lines += ["| reviewer | actions | first | last |", "|---|---|---|---|"]
        lines += [f"| {_md(r['reviewer'])} | {r['actions']} | {r['first']} | {r['last']} |" for r in sheet["review"]]
    else:
        lines.append("No review actions recorded (examples were approved at import).")
    lines += ["", "## Known limitations", ""]
    lines += [f"- {_md(x)}" for x in sheet["known_limitations"]] or ["- none found"]
    return "\n".join(lines) + "\n"


def _md(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def get_datasheet(store: Store, ref: str) -> tuple[dict, str]:
    """The datasheet of snapshot ``ref`` (id, unique name or id prefix) as JSON dict and Markdown."""
    snap = store_snapshots.get_snapshot(store, ref)
    return snap["datasheet"], render_datasheet(snap["datasheet"])
