"""Events group into issues as Sentry groups them: fingerprint, then stack trace, then exception,
then message; what changes between occurrences of one error never splits its issue."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.error_events import ErrorEvent, Exception_, Frame
from spyglass.errors import group, normalize_message


def event(**fields: object) -> ErrorEvent:
    base: dict[str, object] = {
        "project_id": 1,
        "event_id": "0" * 32,
        "timestamp_ns": 1,
        "received_ns": 1,
    }
    return ErrorEvent(**{**base, **fields})  # type: ignore[arg-type]


def frame(
    function: str, module: str = "app.orders", *, line: int = 10, in_app: bool | None = True
) -> Frame:
    return Frame(function=function, module=module, lineno=line, in_app=in_app)


def crash(*frames: Frame, type_: str = "KeyError", value: str = "'sku'") -> ErrorEvent:
    return event(exceptions=(Exception_(type=type_, value=value, frames=frames),))


def test_the_same_crash_at_other_lines_and_library_versions_is_one_issue() -> None:
    one = crash(
        frame("handler", line=10),
        frame("get", "requests.api", in_app=False),
        frame("load", line=40),
    )
    two = crash(
        frame("handler", line=12),
        frame("get2", "requests.api", in_app=False),
        frame("load", line=44),
    )
    assert group(one).key == group(two).key
    assert group(one).method == "stacktrace"


def test_another_exception_type_or_call_path_is_another_issue() -> None:
    base = crash(frame("handler"), frame("load"))
    assert group(base).key != group(crash(frame("handler"), frame("load"), type_="ValueError")).key
    assert group(base).key != group(crash(frame("handler"), frame("save"))).key


def test_the_message_of_a_crash_with_a_stack_does_not_split_it() -> None:
    assert (
        group(crash(frame("f"), value="order 1")).key
        == group(crash(frame("f"), value="order 2")).key
    )


def test_without_frames_the_type_and_the_normalised_value_count() -> None:
    a = event(exceptions=(Exception_(type="TimeoutError", value="after 30.5 s on 10.0.0.7"),))
    b = event(exceptions=(Exception_(type="TimeoutError", value="after 12 s on 10.0.0.9"),))
    c = event(exceptions=(Exception_(type="TimeoutError", value="connection reset"),))
    assert group(a).key == group(b).key != group(c).key
    assert group(a).method == "exception"


def test_messages_group_by_template_or_by_their_constant_words() -> None:
    a = event(message="user 42 not found", message_template="user %s not found")
    b = event(message="user 43 not found", message_template="user %s not found")
    c = event(message="user 44 not found")
    d = event(message="user 45 not found")
    assert group(a).key == group(b).key
    assert group(c).key == group(d).key
    assert group(c).method == "message"


def test_a_fingerprint_overrides_and_default_extends() -> None:
    a = crash(frame("f"))
    b = crash(frame("g"), type_="OSError")
    assert (
        group(event(fingerprint=("db",))).key
        == group(event(message="other", fingerprint=("db",))).key
    )
    with_default_a = crash(frame("f"))
    assert (
        group(a).key
        != group(event(exceptions=a.exceptions, fingerprint=("{{ default }}", "x"))).key
    )
    fa = group(event(exceptions=a.exceptions, fingerprint=("{{ default }}", "tenant-1"))).key
    fb = group(event(exceptions=b.exceptions, fingerprint=("{{ default }}", "tenant-1"))).key
    assert fa != fb
    assert group(with_default_a).method == "stacktrace"
    assert (
        group(event(fingerprint=("{{ transaction }}",), transaction="/a")).key
        != group(event(fingerprint=("{{ transaction }}",), transaction="/b")).key
    )


def test_title_and_culprit_read_as_sentrys() -> None:
    grouping = group(crash(frame("handler"), frame("load", "app.store"), value="'sku'\nmore"))
    assert grouping.title == "KeyError: 'sku'"
    assert grouping.culprit == "app.store in load"
    assert group(event(message="disk full", transaction="POST /orders")).culprit == "POST /orders"
    assert group(event()).title == "<unlabeled event>"


def test_normalise_message_replaces_volatile_parts() -> None:
    text = "req 9ec79c33-ec99-42ab-8353-589fcb2e04dc from bob@example.com at 0x7f3a failed 3 times"
    assert normalize_message(text) == "req <uuid> from <email> at <hex> failed <int> times"


@given(st.text(max_size=60), st.text(max_size=60))
def test_grouping_is_a_function_of_the_event(message: str, value: str) -> None:
    a = event(message=message, exceptions=(Exception_(type="E", value=value),))
    assert group(a) == group(a)
    assert len(group(a).key) == 32
