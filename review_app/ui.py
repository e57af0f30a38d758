"""Small building blocks the pages share: plain user text, page CSS, the keyboard helper."""

from __future__ import annotations

import streamlit as st

from .text import diff_html, plain_html

SEARCH_LABEL = "Search labels"

# `/` focuses the label search, Esc leaves any field, Enter in the search commits and leaves it
# (so the next Enter saves the best match). Streamlit's own shortcuts handle every other key.
_KEYS_JS = """<script>
(function () {
  if (window.__tuneloopKeys) return;
  window.__tuneloopKeys = true;
  document.addEventListener('keydown', function (e) {
    var a = document.activeElement;
    var typing = a && (a.tagName === 'INPUT' || a.tagName === 'TEXTAREA' || a.isContentEditable);
    if (e.key === '/' && !typing) {
      var el = document.querySelector('input[aria-label="%s"]');
      if (el) { e.preventDefault(); e.stopPropagation(); el.focus(); el.select(); }
    } else if (e.key === 'Escape' && typing) {
      a.blur();
    } else if (e.key === 'Enter' && typing && a.getAttribute('aria-label') === '%s') {
      setTimeout(function () { a.blur(); }, 0);
    }
  }, true);
})();
</script>""" % (SEARCH_LABEL, SEARCH_LABEL)

# Less empty space at the top, so a queue item and its actions fit 1366x768. The queue's
# "shown item" token is a text box only the page reads (views/queue_actions.py): never shown.
_CSS = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 2.2rem; padding-bottom: 1rem; }
h1 { font-size: 1.6rem !important; padding-top: 0 !important; }
.st-key-queue_shown { display: none !important; }
</style>"""


def keyboard() -> None:
    """Install the keyboard helper and the compact page style (once per page load)."""
    st.html(_CSS + _KEYS_JS, unsafe_allow_javascript=True)


def plain(text: str | None, spans: list[dict] | None = None, fold_at: int | None = 1200) -> None:
    """Show user text exactly as typed (no Markdown, links, icons or bidi reordering)."""
    st.html(plain_html(text, spans, fold_at))


_BOX = "border:1px solid rgba(49,51,63,0.2);border-radius:0.5rem;padding:0.75rem 1rem"


def boxed(text: str | None, spans: list[dict] | None = None, fold_at: int | None = 1200) -> str:
    """HTML of user text as :func:`plain` shows it, in a bordered box (one element, where
    ``st.container(border=True)`` around :func:`plain` would be two)."""
    return f'<div style="{_BOX}">{plain_html(text, spans, fold_at)}</div>'


def diff(before: str | None, after: str | None) -> None:
    """Show a word-level diff of two user texts."""
    st.html(diff_html(before, after))
