"""Dataset settings (admins): guidelines, annotations per item, intended use, label schema."""

from __future__ import annotations

import json

import streamlit as st

from review_app import services as svc
from review_app.services import LabelSchema, TuneloopError
from review_app.state import dataset_picker, get_store, require_user


def settings_page() -> None:
    store, user = get_store(), require_user()
    dataset = dataset_picker(store)
    if not dataset:
        return
    ds = svc.get_dataset(store, dataset)
    st.title(f"Settings · {dataset}")
    with st.form("settings"):
        guidelines = st.text_area("Guidelines (Markdown): what good looks like", value=ds.guidelines, height=220,
                                  key="s_guidelines")
        required = st.number_input("Annotations per item", min_value=1, max_value=9,
                                   value=int(ds.settings.get("required_annotations", 1)), key="s_required")
        intended = st.text_area("Intended use", value=ds.settings.get("intended_use", ""), key="s_intended")
        out_of_scope = st.text_area("Out-of-scope use", value=ds.settings.get("out_of_scope_use", ""), key="s_oos")
        schema_text = st.text_area("Label schema (JSON)", value=json.dumps(ds.label_schema.to_dict(), indent=1),
                                   height=200, key="s_schema")
        order_text = st.text_area("Label keys: labels in the order of the keys 1-9 and the label buttons, one per line "
                                  "(the rest follow in schema order; empty = schema order)",
                                  value="\n".join(ds.settings.get("label_order") or []), height=120, key="s_order",
                                  disabled=ds.label_schema.structured)
        reason = st.checkbox("Ask reviewers for a reason when they reject", key="s_reject_reason",
                             value=bool(ds.settings.get("reject_reason_required")))
        if st.form_submit_button("Save settings", type="primary"):
            try:
                schema = LabelSchema.from_dict(json.loads(schema_text))
            except (json.JSONDecodeError, TuneloopError) as exc:
                st.error(f"Label schema: {exc}")
                return
            try:
                svc.update_dataset_settings(store, user, dataset, guidelines=guidelines, label_schema=schema,
                                            required_annotations=int(required),
                                            extra={"intended_use": intended, "out_of_scope_use": out_of_scope,
                                                   "reject_reason_required": reason})
                if not schema.structured:
                    svc.set_label_order(store, user, dataset, order_text.splitlines())
            except TuneloopError as exc:
                st.error(str(exc))
                return
            st.success("Settings saved.")


settings_page()
