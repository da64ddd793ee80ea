"""Contextual escaping for templates rendered as HTML, as Go's html/template does it.

Alertmanager renders an email's ``html`` field with html/template: a label value such as
``<b>x</b>`` prints as ``&lt;b&gt;x&lt;/b&gt;`` in text, a ``javascript:`` URL in ``href``
becomes ``#ZgotmplZ``, and HTML comments in the template are dropped. ``HtmlEscaper`` gives an
execution the same: it follows the HTML the template writes (text, tags, attribute values,
``<script>``, ``<style>``, ``<title>``, comments) and escapes each action's output for where it
lands.

Go decides the context statically, before running, and refuses templates whose branches end in
different contexts; this follows the output as it is written, so such a template renders (each
branch escaped for the context it really ran in) where Go would fail. Inside ``<script>`` and
``on*`` attributes every value is written as a JavaScript value (a JSON literal), without Go's
tracking of string and regexp literals.
"""

from __future__ import annotations

import enum
import json
import re

from spyglass.core.template._builtins import html_escape


class _S(enum.Enum):
    TEXT = 1
    LT = 2  # after "<"
    BANG = 3  # after "<!"
    BANG_DASH = 4  # after "<!-"
    DECL = 5  # <!DOCTYPE ...>
    COMMENT = 6
    TAG_NAME = 7
    END_TAG = 8
    TAG = 9  # inside a start tag, between attributes
    ATTR_NAME = 10
    AFTER_ATTR_NAME = 11
    BEFORE_VALUE = 12
    VALUE_DQ = 13
    VALUE_SQ = 14
    VALUE_UQ = 15
    RAW = 16  # <script>, <style>: raw text until the end tag
    RCDATA = 17  # <title>, <textarea>: text until the end tag, no tags inside


_RAW_ELEMENTS = frozenset({"script", "style"})
_RCDATA_ELEMENTS = frozenset({"title", "textarea"})
# Attributes whose value is a URL (html/template's attrTypeMap, the common ones).
_URL_ATTRS = frozenset(
    {
        "action",
        "archive",
        "background",
        "cite",
        "classid",
        "codebase",
        "data",
        "formaction",
        "href",
        "icon",
        "longdesc",
        "manifest",
        "poster",
        "profile",
        "src",
        "usemap",
        "xmlns",
    }
)
_SPACE = " \t\n\r\f"
_ATTR_NAME_OK = re.compile(r"[A-Za-z0-9_:.\-]+")
_CSS_OK = re.compile(r"[A-Za-z0-9 #%.,\-]*")
_UNSAFE = "ZgotmplZ"

_NOSPACE = {
    "\t": "&#9;",
    "\n": "&#10;",
    "\v": "&#11;",
    "\f": "&#12;",
    "\r": "&#13;",
    " ": "&#32;",
    "=": "&#61;",
    "`": "&#96;",
}


def escape_html(text: str) -> str:
    """html/template's escaper for text and quoted attribute values (``+`` too, unlike
    ``HTMLEscapeString``)."""
    return html_escape(text).replace("+", "&#43;")


def _escape_nospace(text: str) -> str:
    escaped = escape_html(text)
    return "".join(_NOSPACE.get(c, c) for c in escaped)


def _percent_encode(text: str, *, normalize: bool) -> str:
    out: list[str] = []
    for char in text:
        unreserved = char.isascii() and (char.isalnum() or char in "-._~")
        if unreserved or (normalize and char in "!#$&*+,/:;=?@[]%"):
            out.append(char)
        else:
            out.extend(f"%{byte:02x}" for byte in char.encode("utf-8"))
    return "".join(out)


def _url_filter(text: str) -> str:
    """``#ZgotmplZ`` for a URL whose scheme is not http, https or mailto."""
    colon = text.find(":")
    if colon >= 0 and "/" not in text[:colon]:
        scheme = text[:colon].lower()
        if scheme not in ("http", "https", "mailto"):
            return "#" + _UNSAFE
    return text


def _js_value(value: object) -> str:
    if value is None:
        return " null "
    if isinstance(value, bool | int | float) and not isinstance(value, enum.Enum):
        literal = json.dumps(value)
    else:
        literal = json.dumps(value if isinstance(value, str) else str(value), ensure_ascii=False)
    return (
        literal.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


class HtmlEscaper:
    """Follows the HTML an execution writes and escapes action output for its context."""

    __slots__ = ("_attr", "_element", "_state", "_tail", "_value")

    def __init__(self) -> None:
        self._state = _S.TEXT
        self._element = ""  # the tag being read, or the raw/rcdata element we are in
        self._attr = ""  # the attribute being read
        self._value = ""  # the attribute value so far (for the URL part)
        self._tail = ""  # recent characters, to find "-->" and "</script"

    # --- literal text --------------------------------------------------------------------
    def text(self, text: str) -> str:
        """Follow the template's own ``text`` and return what to write (comments removed)."""
        out: list[str] = []
        for char in text:
            self._step(char, out)
        return "".join(out)

    def _step(self, char: str, out: list[str]) -> None:
        state = self._state
        if state is _S.COMMENT:
            self._tail = (self._tail + char)[-3:]
            if self._tail == "-->":
                self._state = _S.TEXT
                self._tail = ""
            return
        out.append(char)
        if state is _S.TEXT:
            if char == "<":
                self._state = _S.LT
        elif state is _S.LT:
            if char.isascii() and char.isalpha():
                self._state, self._element = _S.TAG_NAME, char.lower()
            elif char == "/":
                self._state = _S.END_TAG
            elif char == "!":
                self._state = _S.BANG
            else:
                self._state = _S.TEXT if char != "<" else _S.LT
        elif state is _S.BANG:
            self._state = _S.BANG_DASH if char == "-" else _S.DECL
        elif state is _S.BANG_DASH:
            if char == "-":
                # "<!--" opens a comment: html/template drops comments from its output.
                del out[-4:]
                self._state, self._tail = _S.COMMENT, ""
            else:
                self._state = _S.DECL
        elif state is _S.DECL or state is _S.END_TAG:
            if char == ">":
                self._state = _S.TEXT
        elif state is _S.TAG_NAME:
            if char == ">":
                self._end_start_tag()
            elif char in _SPACE or char == "/":
                self._state = _S.TAG
            else:
                self._element += char.lower()
        elif state is _S.TAG:
            if char == ">":
                self._end_start_tag()
            elif char not in _SPACE and char != "/":
                self._state, self._attr = _S.ATTR_NAME, char.lower()
        elif state is _S.ATTR_NAME or state is _S.AFTER_ATTR_NAME:
            if char == "=":
                self._state, self._value = _S.BEFORE_VALUE, ""
            elif char == ">":
                self._end_start_tag()
            elif char in _SPACE:
                self._state = _S.AFTER_ATTR_NAME
            elif state is _S.AFTER_ATTR_NAME:
                self._state, self._attr = _S.ATTR_NAME, char.lower()
            else:
                self._attr += char.lower()
        elif state is _S.BEFORE_VALUE:
            if char == '"':
                self._state = _S.VALUE_DQ
            elif char == "'":
                self._state = _S.VALUE_SQ
            elif char == ">":
                self._end_start_tag()
            elif char not in _SPACE:
                self._state, self._value = _S.VALUE_UQ, char
        elif state is _S.VALUE_DQ or state is _S.VALUE_SQ:
            if char == ('"' if state is _S.VALUE_DQ else "'"):
                self._state = _S.TAG
            else:
                self._value += char
        elif state is _S.VALUE_UQ:
            if char in _SPACE:
                self._state = _S.TAG
            elif char == ">":
                self._end_start_tag()
            else:
                self._value += char
        else:  # RAW or RCDATA: look for the end tag
            closer = "</" + self._element
            self._tail = (self._tail + char.lower())[-len(closer) :]
            if self._tail == closer:
                self._state, self._tail = _S.END_TAG, ""

    def _end_start_tag(self) -> None:
        if self._element in _RAW_ELEMENTS:
            self._state, self._tail = _S.RAW, ""
        elif self._element in _RCDATA_ELEMENTS:
            self._state, self._tail = _S.RCDATA, ""
        else:
            self._state = _S.TEXT

    # --- action output -------------------------------------------------------------------
    def action(self, value: object, printed: str, escaped_by: str = "") -> str:
        """What to write for an action that printed ``printed`` (the value ``value``).

        ``escaped_by`` names the pipeline's last function when it is one of the escapers a
        template may still call itself (``html``, ``urlquery``, ``js``): html/template then
        keeps that call in place of its own escaper for the same job.
        """
        state = self._state
        if state is _S.COMMENT:
            return ""
        if state is _S.TEXT:
            if escaped_by == "html" or _go_type(value) == "template.HTML":
                return printed
            return escape_html(printed)
        if state is _S.RCDATA:
            return printed if escaped_by == "html" else escape_html(printed)
        if state is _S.RAW:
            if self._element == "style":
                return printed if _CSS_OK.fullmatch(printed) else _UNSAFE
            return printed if escaped_by == "js" else _js_value(value)
        if state in (_S.VALUE_DQ, _S.VALUE_SQ, _S.VALUE_UQ):
            text = self._attribute_value(value, printed, escaped_by)
            self._value += text
            if escaped_by == "html":
                return text
            return _escape_nospace(text) if state is _S.VALUE_UQ else escape_html(text)
        if state is _S.BEFORE_VALUE:
            # An unquoted value starts with this action.
            self._state, self._value = _S.VALUE_UQ, ""
            return self.action(value, printed, escaped_by)
        # In a tag, where an attribute name goes (or an element name after "<").
        return printed if _ATTR_NAME_OK.fullmatch(printed) else _UNSAFE

    def _attribute_value(self, value: object, printed: str, escaped_by: str) -> str:
        attr = self._attr
        if attr.startswith("on"):
            return printed if escaped_by == "js" else _js_value(value)
        if attr == "style":
            return printed if _CSS_OK.fullmatch(printed) else _UNSAFE
        if attr in _URL_ATTRS or "url" in attr or "uri" in attr or "src" in attr:
            if escaped_by == "urlquery":
                return printed
            if self._value == "":
                trusted = _go_type(value) == "template.URL"
                return _percent_encode(printed if trusted else _url_filter(printed), normalize=True)
            if "?" in self._value or "#" in self._value:
                return _percent_encode(printed, normalize=False)
            return _percent_encode(printed, normalize=True)
        return printed


def _go_type(value: object) -> str:
    # safeHtml and safeUrl return str subclasses that name the html/template type they stand
    # for (template.HTML, template.URL): content their caller vouched for.
    return str(getattr(type(value), "__go_type__", ""))


__all__ = ["HtmlEscaper", "escape_html"]
