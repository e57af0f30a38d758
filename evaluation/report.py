"""Markdown for an evaluation: the full report and the model card's evaluation section (pure)."""

from __future__ import annotations


def _f(v) -> str:
    if v is None:
        return "n/a"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _table(rows: list[dict], cols: list[str] | None = None) -> list[str]:
    if not rows:
        return ["(none)", ""]
    cols = cols or list(rows[0])
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join(_f(r.get(c)).replace("|", "\\|").replace("\n", " ") for c in cols) + " |")
    return out + [""]


def _headline(s: dict) -> list[str]:
    ci = s.get("ci") or {}
    acc_ci = f" (95% CI {ci['accuracy'][0]:.3f}-{ci['accuracy'][1]:.3f})" if ci else ""
    f1_ci = f" (95% CI {ci['macro_f1'][0]:.3f}-{ci['macro_f1'][1]:.3f})" if ci else ""
    thr, at = s["threshold"], s["at_threshold"]
    lines = [f"- Data: {s['data']}, {s['n']} examples",
             f"- Accuracy {s['accuracy']:.3f}{acc_ci}; macro-F1 {s['macro_f1']:.3f}{f1_ci}; "
             f"weighted-F1 {s['weighted_f1']:.3f}; micro-F1 {s['micro_f1']:.3f}",
             f"- Calibration: expected calibration error {s['ece']:.3f} (15 bins)",
             f"- Escalation policy: {_policy_text(thr)} Here it keeps {at['coverage']:.1%} of in-scope predictions "
             f"at accuracy {_f(at['accuracy'])}"]
    for key, bullets in (("oos", _oos_bullets), ("ood", _ood_bullets), ("baseline", _baseline_bullets),
                         ("comparison", _comparison_bullets)):
        if s.get(key):
            lines += bullets(s[key])
    return lines + [""]


def _oos_bullets(o: dict) -> list[str]:
    return [(f"- Out of scope (`{o['oos_label']}`): the policy escalates {_f(o['oos_recall'])} of {o['oos_examples']} "
             f"out-of-scope examples; in-scope accuracy {_f(o['in_scope_accuracy'])} (an escalation counts as wrong)")]


def _ood_bullets(ood: dict) -> list[str]:
    lines = []
    for name, r in ood["by_score"].items():
        rec = r["oos_recall_at_coverage"]
        lines.append(f"- Score `{name}`{' (the policy' + chr(39) + 's)' if name == ood['policy_score'] else ''}: AUROC in-scope vs "
                     f"out-of-scope {_f(r['auroc'])}; out-of-scope recall at 95/97/99% in-scope coverage "
                     f"{_f(rec.get('0.95'))} / {_f(rec.get('0.97'))} / {_f(rec.get('0.99'))}")
    return lines


def _baseline_bullets(b: dict) -> list[str]:
    return [(f"- Baseline ({b['model']}): accuracy {b['accuracy']:.3f}, macro-F1 {b['macro_f1']:.3f}; "
             f"run minus baseline macro-F1 {b['run_minus_baseline_macro_f1']:+.3f}")]


def _comparison_bullets(c: dict) -> list[str]:
    regs = [r["label"] for r in c["per_class"] if r["regression"]]
    return [f"- Against previous run {c['previous_run']}"
            + ("" if c["same_test_split"] else " (different test split: compare with care)")
            + f": macro-F1 {c['macro_f1_delta']:+.3f}, accuracy {c['accuracy_delta']:+.3f}; "
            + (f"**regressions (F1 down > 0.05): {', '.join(regs)}**" if regs else "no per-class regression")]


def _policy_text(thr: dict) -> str:
    if thr.get("text"):
        return thr["text"]
    # evaluations stored before escalation policies
    return (f"escalates below confidence {thr['threshold']:.3f}, chosen on validation for precision >= "
            f"{thr.get('target_precision')}" + ("." if thr.get("target_met") else " (target not reachable: best precision kept)."))


def render_report(s: dict) -> str:
    """The full evaluation report in Markdown."""
    out = [f"# Evaluation of run {s['run']}", ""] + _headline(s)
    out += ["## Per class", ""] + _table(s["per_class"], ["label", "precision", "recall", "f1", "support"])
    out += ["## Top confused pairs", ""] + _table(s["top_confused"])
    for name, rows in s.get("slices", {}).items():
        out += [f"## Slices by {name.replace('_', ' ')}", ""] + _table(rows)
    out += ["## Reliability (confidence bins)", ""] + _table(s["reliability"])
    c = s.get("comparison")
    if c:
        out += ["## Per-class change against the previous run", ""] + _table(c["per_class"])
    out += ["## Most confident mistakes", ""] + _table(s.get("failure_cases", []))
    return "\n".join(out)


def card_section(s: dict) -> str:
    """The model card's evaluation section: metrics, calibration, slices, known failure cases."""
    out = ["Evaluation on held-out data (`tuneloop evaluate`):", ""] + _headline(s)
    for name, rows in s.get("slices", {}).items():
        out += [f"Slices by {name.replace('_', ' ')}:", ""] + _table(rows)
    out += ["Most confused pairs:", ""] + _table(s["top_confused"][:5])
    out += ["Known failure cases (most confident mistakes):", ""] + _table(s.get("failure_cases", [])[:5])
    return "\n".join(out)
