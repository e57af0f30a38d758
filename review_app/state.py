"""Per-process and per-session state of the app: the store, the logged-in user, the dataset."""

from __future__ import annotations

import functools
import re

import streamlit as st

from curation import Store, settings

from .auth import User
from .sessions import COOKIE, SessionRegistry


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


@functools.cache
def freeze_startup_objects() -> None:
    """Once per process: move the objects alive after start-up (Streamlit, DuckDB, Polars, the
    store) out of the garbage collector's view (``gc.freeze``), so a full collection that falls
    inside a key press scans only what the app made since. Streamlit's own collection after each
    run is off (``runner.postScriptGC``)."""
    import gc

    gc.collect()
    gc.freeze()


def get_owner():
    """The owner that runs this app's jobs: the process's (``tuneloop app``), else one kept for the
    app's store without an API (the app was started with ``streamlit run``, or in tests)."""
    return _process_owner() or _local_owner()


@st.cache_resource
def _local_owner():
    from .server.owner import Owner

    return Owner(settings().db_path, api=False, store=get_store(), register=False)


@st.cache_resource
def get_sessions() -> SessionRegistry:
    """The live login sessions of this app process."""
    return SessionRegistry()


def current_user() -> User | None:
    """The signed-in user: from this Streamlit session, else from the session cookie a reload
    or a new tab brings along (checked against the live sessions; the role is re-read)."""
    user = st.session_state.get("user")
    if user is None and not st.session_state.get("logged_out"):
        try:
            token = st.context.cookies.get(COOKIE)
        except Exception:  # noqa: BLE001 - no browser context (AppTest, bare mode)
            token = None
        from review_app import services as svc

        user = svc.user_named(get_store(), get_sessions().user_name(token))
        if user is not None:
            st.session_state["user"], st.session_state["token"] = user, token
    return user


def sign_in(user: User) -> None:
    """Remember ``user`` for this Streamlit session and for reloads (a new session token)."""
    st.session_state.pop("logged_out", None)
    st.session_state["user"] = user
    st.session_state["token"] = get_sessions().start(user.name)
    st.session_state["cookie_pending"] = True


def sign_out() -> None:
    """End the session everywhere: the token stops working, its cookie is cleared and the files
    this session generated for download are dropped from the media store."""
    get_sessions().end(st.session_state.get("token"))
    for key in list(st.session_state):
        del st.session_state[key]
    st.session_state["logged_out"] = True
    st.session_state["cookie_pending"] = True
    _drop_session_media()


def _drop_session_media() -> None:
    try:
        from streamlit.runtime import Runtime

        mgr = Runtime.instance().media_file_mgr
    except Exception:  # noqa: BLE001 - no runtime (AppTest)
        return
    mgr.clear_session_refs()
    mgr.remove_orphaned_files()  # downloadable files are deleted on the second sweep
    mgr.remove_orphaned_files()


def session_cookie_script() -> None:
    """Write (after a login) or clear (after a logout) the session cookie in the browser, once."""
    if not st.session_state.pop("cookie_pending", False):
        return
    token = st.session_state.get("token") or ""
    if token and not re.fullmatch(r"[A-Za-z0-9_\-.]+", token):
        return
    value = f"{COOKIE}={token}; path=/; SameSite=Strict" + ("" if token else "; max-age=0")
    st.html(f"<script>document.cookie = {value!r};</script>", unsafe_allow_javascript=True)


def download_guard(make):
    """Wrap a bytes factory for ``st.download_button(data=...)``: the bytes are generated on the
    click, and only while this session's login is live (no stable download URL is prepared)."""
    token = st.session_state.get("token")
    sessions = get_sessions()

    def _make():
        if token is not None and sessions.user_name(token) is None:
            raise PermissionError("your session ended; log in again to download")
        return make()

    return _make


def require_user() -> User:
    user = current_user()
    if user is None:
        st.stop()
    return user


def dataset_picker(store: Store) -> str | None:
    """The dataset chosen in the sidebar (remembered for the session)."""
    from review_app import services as svc

    names = svc.list_datasets(store)
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


def dataset_page(title: str):
    """Decorator for a dataset page: the common top (store, signed-in user, the sidebar's dataset
    and the title ``"<title> · <dataset>"``), then ``body(store, user, dataset)``; nothing more
    when there is no dataset yet (the picker has said so). The decorated page is a ``render()``."""

    def wrap(body):
        @functools.wraps(body)
        def render() -> None:
            store, user = get_store(), require_user()
            dataset = dataset_picker(store)
            if not dataset:
                return
            st.title(f"{title} · {dataset}")
            body(store, user, dataset)

        return render

    return wrap


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
    from review_app.services import TuneloopError

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
