"""User text as plain text in the browser: HTML-escaped, never Markdown.

Markdown would turn URLs and e-mail addresses into live links and ``:material/home:`` into an
icon, however carefully it is escaped. Here user text becomes HTML-escaped text in a
``white-space: pre-wrap`` block (rendered with ``st.html``, which DOMPurify sanitises as
well): no links, no shortcodes, no markup. Bidirectional control characters (which can
reorder a file name such as ``invoice\u202Efdp.exe``) are shown as visible markers and
cannot reorder anything. PII placeholders such as ``<USERNAME_1>`` show as typed, and found
spans are highlighted. Long texts show their start with a "show all" fold.
"""

from __future__ import annotations

import html
import unicodedata

BIDI_CONTROLS = {
    "\u061c": "ALM", "\u200e": "LRM", "\u200f": "RLM", "\u202a": "LRE", "\u202b": "RLE", "\u202c": "PDF",
    "\u202d": "LRO", "\u202e": "RLO", "\u2066": "LRI", "\u2067": "RLI", "\u2068": "FSI", "\u2069": "PDI",
}
FOLD_AT = 1200  # characters shown before "show all"
_STYLE = ("white-space:pre-wrap;overflow-wrap:anywhere;font-family:inherit;margin:0;"
          "unicode-bidi:isolate;direction:ltr")


def _escape(text: str) -> str:
    out = []
    for ch in text:
        name = BIDI_CONTROLS.get(ch)
        if name:
            out.append(f'<span style="color:#888;font-size:0.8em">[{name}]</span>')
        elif unicodedata.category(ch) == "Cc" and ch not in "\n\t":
            out.append(f'<span style="color:#888;font-size:0.8em">[U+{ord(ch):04X}]</span>')
        else:
            out.append(html.escape(ch))
    return "".join(out)


def _marked(text: str, spans: list[dict], start: int, end: int) -> str:
    """Escaped ``text[start:end]`` with the PII spans inside it highlighted."""
    out, pos = [], start
    for sp in sorted(spans, key=lambda s: s["start"]):
        a, b = max(sp["start"], start), min(sp["end"], end)
        if a < pos or b <= a or sp["end"] > len(text):
            continue
        out.append(_escape(text[pos:a]))
        out.append(f'<mark title="{html.escape(sp["entity"])}" style="background:#ffe2b3">{_escape(text[a:b])}</mark>')
        pos = b
    out.append(_escape(text[pos:end]))
    return "".join(out)


def plain_html(text: str | None, spans: list[dict] | None = None, fold_at: int | None = FOLD_AT) -> str:
    """HTML showing ``text`` exactly as typed; past ``fold_at`` characters the rest folds under
    "show all (N characters)"."""
    text = text or ""
    spans = spans or []
    if fold_at is None or len(text) <= fold_at + 200:
        body = _marked(text, spans, 0, len(text))
    else:
        cut = text.rfind(" ", 0, fold_at)
        cut = cut if cut > fold_at // 2 else fold_at
        body = (_marked(text, spans, 0, cut) + f"<details><summary style=\"cursor:pointer;color:#1c83e1\">show all "
                f"({len(text):,} characters)</summary>{_marked(text, spans, cut, len(text))}</details>")
    return f'<div class="tl-text" style="{_STYLE}">{body}</div>'


def one_line(text: str | None, limit: int = 160) -> str:
    """A short plain-text preview on one line (for lists of neighbours, flags, history)."""
    t = " ".join((text or "").split())
    return t if len(t) <= limit else t[: limit - 1] + "…"


def diff_html(before: str | None, after: str | None) -> str:
    """A word-level diff of two texts as HTML: removed words struck through in red, added in green."""
    import difflib
    import re

    a, b = re.findall(r"\s+|[^\s]+", before or ""), re.findall(r"\s+|[^\s]+", after or "")
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(_escape("".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(f'<del style="background:#ffd7d5;color:#82071e">{_escape("".join(a[i1:i2]))}</del>')
        if j2 > j1:
            out.append(f'<ins style="background:#ccffd8;color:#055d20;text-decoration:none">'
                       f'{_escape("".join(b[j1:j2]))}</ins>')
    return f'<div class="tl-text" style="{_STYLE}">{"".join(out)}</div>'
