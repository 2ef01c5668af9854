"""Answers' Markdown as the web chat renders it: GitHub tables, highlighted code, and
nothing that injects markup or loads a third-party image."""

from __future__ import annotations

from bot.web.markdown import render_html


def test_tables_and_strikethrough_render_as_github_does() -> None:
    html = render_html("| Setting | Default |\n|---|---|\n| Volume | 7 |\n\n~~15 s~~ 10 s")
    assert "<table>" in html
    assert "<th>Setting</th>" in html
    assert "<td>7</td>" in html
    assert "<s>15 s</s> 10 s" in html


def test_fenced_code_is_highlighted_and_unknown_languages_stay_plain() -> None:
    html = render_html('```python\nprint("hi")\n```')
    assert '<code class="language-python">' in html
    assert '<span class="hl-nb">print</span>' in html
    plain = render_html("```nosuchlanguage\n<b>x</b>\n```")
    assert "&lt;b&gt;x&lt;/b&gt;" in plain
    assert "hl-" not in plain


def test_raw_html_and_script_links_stay_inert() -> None:
    html = render_html(
        "<img src=x onerror=alert(1)> [click](javascript:alert(1)) <script>x</script>"
    )
    assert "<img" not in html
    assert "<script>" not in html
    assert 'href="javascript' not in html


def test_images_become_links_so_the_page_never_loads_them() -> None:
    html = render_html("![the wiring](https://tracker.example/pixel.png)")
    assert "<img" not in html
    assert 'href="https://tracker.example/pixel.png"' in html
    assert "the wiring" in html
    assert render_html("![local](file:///etc/passwd)").count("<a") == 0


def test_links_open_apart_from_the_chat_without_a_referrer() -> None:
    html = render_html("[docs](https://docs.example.com/reset)")
    assert 'rel="noopener noreferrer nofollow"' in html
    assert 'target="_blank"' in html
