"""User text as plain text: no Markdown, links, icons, markup or bidi reordering."""

from __future__ import annotations

from review_app.text import diff_html, plain_html


def test_user_text_is_escaped_html_without_links_or_shortcodes():
    html = plain_html("see https://x.io or a@b.co =HYPERLINK(\"http://x\") :material/home: <b>hi</b> **bold**")
    assert "<a" not in html and "<b>" not in html
    assert "&lt;b&gt;hi&lt;/b&gt;" in html and ":material/home:" in html and "**bold**" in html


def test_bidi_controls_are_shown_not_obeyed():
    html = plain_html("invoice\u202efdp.exe")
    assert "\u202e" not in html and "[RLO]" in html


def test_pii_placeholders_render_as_typed_and_spans_are_marked():
    html = plain_html("hi <USERNAME_1>, call Ann", [{"start": 22, "end": 25, "entity": "PERSON"}])
    assert "&lt;USERNAME_1&gt;" in html and "\\" not in html
    assert '<mark title="PERSON" style="background:#ffe2b3">Ann</mark>' in html


def test_long_text_folds_under_show_all():
    text = "word " * 4000
    html = plain_html(text, fold_at=1200)
    assert "<details>" in html and "show all (20,000 characters)" in html
    assert plain_html("short").count("<details>") == 0


def test_diff_marks_removed_and_added_words():
    html = diff_html("Click reset now.", "Click 'Forgot password' now.")
    assert "<del" in html and "reset" in html and "<ins" in html and "&#x27;Forgot" in html
