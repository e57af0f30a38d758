"""Jobs: long work run by the store's owner (training, evaluation, curation steps, CLI commands):
status, progress, logs, cancel. Refreshes itself while something runs."""

from __future__ import annotations

import json

import streamlit as st

from review_app import services as svc
from review_app.services import TuneloopError
from review_app.state import get_owner, get_store, require_user, show_flash


def _cancel(job_id: int) -> None:
    try:
        status = svc.cancel_job(get_owner(), st.session_state["user"], job_id)
        st.session_state["jobs_flash"] = ("success", f"Job {job_id}: cancel requested ({status}).")
    except TuneloopError as exc:
        st.session_state["jobs_flash"] = ("error", str(exc))


@st.fragment(run_every=2.0)
def _live(job_id: int | None) -> None:
    store = get_store()
    rows = svc.list_jobs(store)
    st.dataframe([{"id": r["id"], "kind": r["kind"], "status": r["status"],
                   "progress": None if r["progress"] is None else round(100 * r["progress"]),
                   "what": r["title"], "by": r["created_by"], "created": r["created_at"], "finished": r["finished_at"]}
                  for r in rows], hide_index=True, width="stretch",
                 column_config={"progress": st.column_config.ProgressColumn("progress", min_value=0, max_value=100, format="%d%%")})
    if job_id is None:
        return
    job = svc.job_detail(store, job_id)
    st.subheader(f"Job {job['id']} · {job['kind']} · {job['status']}")
    st.caption(job["title"])
    if job["status"] in svc.JOB_ACTIVE:
        st.progress(job["progress"] or 0.0, text=job["progress_text"] or job["status"])
        st.button("Cancel this job", key=f"job_cancel_{job_id}", on_click=_cancel, args=(job_id,))
    if job["error"]:
        st.error(job["error"])
    if job["result"]:
        st.code(json.dumps(job["result"], indent=1, default=str)[:5000], language="json")
    st.caption("Logs (last lines)")
    st.code(job["logs"][-20000:] or "(none yet)", language=None)


def render() -> None:
    store = get_store()
    require_user()
    st.title("Jobs")
    show_flash("jobs_flash")
    rows = svc.list_jobs(store)
    if not rows:
        st.info("No jobs yet. Start training on the Snapshots page (Train tab), or run a long `tuneloop` command "
                "(train, evaluate, dedup, scrub, check, snapshot export) while the app runs: it runs here as a job.")
        return
    label = {r["id"]: f"{r['id']} · {r['kind']} · {r['status']} · {r['title'][:60]}" for r in rows}
    job_id = st.selectbox("Job", list(label), format_func=label.get, key="job_pick")
    _live(job_id)


render()
