"""Templates rendered as HTML escape each value for where it lands, as Go's html/template does
(the examples of its package documentation, and the cases an email template meets)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.template import Template
from spyglass.core.template._prometheus import SafeHTML


def html(text: str, data: object) -> str:
    return Template("t").parse(text).execute(data, html=True)


def test_text_is_escaped() -> None:
    assert html("<p>{{ . }}</p>", "<script>alert('x')</script>") == (
        "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>"
    )


def test_the_package_documentations_example() -> None:
    text = '<a href="/search?q={{ . }}">{{ . }}</a>'
    assert html(text, "O'Reilly: How are <i>you</i>?") == (
        '<a href="/search?q=O%27Reilly%3a%20How%20are%20%3ci%3eyou%3c%2fi%3e%3f">'
        "O&#39;Reilly: How are &lt;i&gt;you&lt;/i&gt;?</a>"
    )


def test_unsafe_url_schemes_are_replaced() -> None:
    assert html('<a href="{{ . }}">x</a>', "javascript:alert(1)") == '<a href="#ZgotmplZ">x</a>'
    assert html("<img src='{{ . }}'>", "data:text/html,x") == "<img src='#ZgotmplZ'>"


def test_safe_urls_are_normalised_not_filtered() -> None:
    assert html('<a href="{{ . }}">', "https://x.example/a b?c=1&d=<2>") == (
        '<a href="https://x.example/a%20b?c=1&amp;d=%3c2%3e">'
    )
    assert html('<a href="mailto:{{ . }}">', "ops@example.com") == (
        '<a href="mailto:ops@example.com">'
    )


def test_attribute_values_quoted_and_unquoted() -> None:
    assert html("<p title='{{ . }}'>", 'it\'s "x"') == "<p title='it&#39;s &#34;x&#34;'>"
    assert html("<p title={{ . }}>", "a b=c") == "<p title=a&#32;b&#61;c>"


def test_script_and_event_handlers_get_javascript_values() -> None:
    assert html("<script>var x = {{ . }};</script>", "</script><b>") == (
        '<script>var x = "\\u003c/script\\u003e\\u003cb\\u003e";</script>'
    )
    assert html("<script>var n = {{ . }};</script>", 3) == "<script>var n = 3;</script>"
    assert html('<button onclick="f({{ . }})">', 'a"b') == (
        '<button onclick="f(&#34;a\\&#34;b&#34;)">'
    )


def test_styles_accept_only_plain_values() -> None:
    assert html('<p style="color: {{ . }}">', "#d43f3a") == '<p style="color: #d43f3a">'
    assert html('<p style="color: {{ . }}">', "expression(alert(1))") == (
        '<p style="color: ZgotmplZ">'
    )


def test_title_is_text_inside() -> None:
    assert html("<title>{{ . }}</title><p>{{ . }}</p>", "<b>") == (
        "<title>&lt;b&gt;</title><p>&lt;b&gt;</p>"
    )


def test_comments_are_dropped_with_what_they_hold() -> None:
    assert html("a<!-- secret {{ . }} -->b{{ . }}", "<x>") == "ab&lt;x&gt;"


def test_a_pipeline_ending_in_html_is_not_escaped_twice() -> None:
    assert html("{{ html . }}", "<&>") == "&lt;&amp;&gt;"
    assert html("{{ . | html }}", "<&>") == "&lt;&amp;&gt;"


def test_trusted_html_is_kept_in_text() -> None:
    assert html("<div>{{ . }}</div>", SafeHTML("<b>bold</b>")) == "<div><b>bold</b></div>"


def test_nested_templates_are_escaped_where_they_are_called() -> None:
    text = '{{ define "v" }}{{ . }}{{ end }}<a href="{{ template "v" . }}">{{ template "v" . }}</a>'
    assert html(text, "javascript:x<") == '<a href="#ZgotmplZ">javascript:x&lt;</a>'


def test_without_html_nothing_is_escaped() -> None:
    assert Template("t").parse("<p>{{ . }}</p>").execute("<b>") == "<p><b></p>"


@given(st.text())
def test_no_value_can_open_a_tag_in_text_or_attributes(value: str) -> None:
    out = html('<p title="{{ . }}">{{ . }}</p><a href="{{ . }}">x</a>', value)
    assert out.startswith('<p title="')
    assert out.count("<") == 4
    assert out.count('"') == 4
