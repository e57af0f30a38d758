"""Per-process and per-session state of the app: the store, the logged-in user, the dataset."""

from __future__ import annotations

import re

import streamlit as st

from curation import Store, settings

from .auth import User


def _process_owner():
    """The owner this process runs for the app's store (``tuneloop app``), if any."""
    from pathlib import Path

    from .server import current

    owner = current()
    return owner if owner is not None and owner.db == Path(settings().db_path).expanduser().resolve() else None


@st.cache_resource
def get_store() -> Store:
    """One Store per app process: DuckDB allows one read-write process per file; sessions share
    it through per-thread cursors and the store's write lock. Under ``tuneloop app`` it is the
    store of the process's owner, which also serves the CLI and the API."""
    owner = _process_owner()
    if owner is not None:
        return owner.store
    return Store(settings().db_path, lock_wait_s=settings().lock_wait_s, memory_limit=settings().memory_limit)


def get_owner():
    """The owner that runs this app's jobs: the process's (``tuneloop app``), else one kept for the
    app's store without an API (the app was started with ``streamlit run``, or in tests)."""
    return _process_owner() or _local_owner()


@st.cache_resource
def _local_owner():
    from .server.owner import Owner

    return Owner(settings().db_path, api=False, store=get_store(), register=False)


def current_user() -> User | None:
    return st.session_state.get("user")


def require_user() -> User:
    user = current_user()
    if user is None:
        st.stop()
    return user


def dataset_picker(store: Store) -> str | None:
    """The dataset chosen in the sidebar (remembered for the session)."""
    names = store.list_datasets()
    if not names:
        st.info("No datasets yet: an admin can import one on the Import / export page, "
                "or run `tuneloop demo` / `tuneloop import FILE --dataset NAME`.")
        return None
    current = st.session_state.get("dataset")
    index = names.index(current) if current in names else 0
    choice = st.sidebar.selectbox("Dataset", names, index=index, key="dataset_select")
    if choice != current:
        st.session_state["dataset"] = choice
        st.session_state.pop("item_id", None)
    return choice


def open_page(title: str):
    """The common top of a dataset page: store, signed-in user, the sidebar's dataset and the
    title ``"<title> · <dataset>"``. Returns ``(store, user, dataset)``, or ``None`` when there
    is no dataset yet (the picker has said so)."""
    store, user = get_store(), require_user()
    dataset = dataset_picker(store)
    if not dataset:
        return None
    st.title(f"{title} · {dataset}")
    return store, user, dataset


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$^=])")


def md_escape(text: str) -> str:
    """Escape Markdown so user text renders as text (st.markdown never renders raw HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", "  \n")


def highlight(text: str, spans: list[dict]) -> str:
    """User text as escaped Markdown with PII spans (``start``, ``end``, ``entity``) highlighted."""
    out, pos = [], 0
    for sp in sorted(spans, key=lambda s: s["start"]):
        if sp["start"] < pos or sp["end"] > len(text):
            continue
        out.append(md_escape(text[pos:sp["start"]]))
        out.append(f":orange-background[{md_escape(text[sp['start']:sp['end']])}]:gray[{sp['entity']}]")
        pos = sp["end"]
    out.append(md_escape(text[pos:]))
    return "".join(out)


def run_action(flash_key: str, ok_message: str, fn, *args) -> None:
    """Button callback: ``fn(store, user, *args)``; remember a success or error message to show."""
    from curation import TuneloopError

    try:
        fn(get_store(), st.session_state["user"], *args)
        st.session_state[flash_key] = ("success", ok_message)
    except TuneloopError as exc:
        st.session_state[flash_key] = ("error", str(exc))


def show_flash(flash_key: str) -> None:
    """Show (once) the message a callback left under ``flash_key``."""
    flash = st.session_state.pop(flash_key, None)
    if flash:
        getattr(st, flash[0])(flash[1])
