"""What analysis reads from a line: the message from JSON's message/msg/body or the whole line,
the service and level from labels or JSON fields (levels normalised as Loki's detected_level),
and the user from labels or a (dotted) JSON field."""

from __future__ import annotations

from spyglass.core.log_fields import line_fields, normalize_level


def test_message_comes_from_the_json_field_or_the_whole_line() -> None:
    assert line_fields({}, '{"msg":"hello","message":"first"}').message == "first"
    assert line_fields({}, '{"body":"from otel"}').message == "from otel"
    assert line_fields({}, '{"other":1}').message == '{"other":1}'
    assert line_fields({}, "plain text").message == "plain text"
    assert line_fields({}, "{not json").message == "{not json"


def test_service_comes_from_the_first_label_that_names_it() -> None:
    assert line_fields({"job": "j", "service": "s"}, "x").service == "s"
    assert line_fields({"service_name": "a", "job": "j"}, "x").service == "a"
    assert line_fields({"job": "varlogs"}, "x").service == "varlogs"
    assert line_fields({}, "x").service == "unknown_service"


def test_level_comes_from_a_label_then_the_json_line() -> None:
    assert line_fields({"level": "WARNING"}, '{"level":"error"}').level == "warn"
    assert line_fields({"detected_level": "err"}, "x").level == "error"
    assert line_fields({"severity_text": "FATAL"}, "x").level == "fatal"
    assert line_fields({}, '{"severity":"Critical"}').level == "critical"
    assert line_fields({}, "no level here").level == "unknown"
    assert normalize_level("bogus") == "unknown"


def test_user_comes_from_labels_first_then_the_json_line() -> None:
    line = '{"user_id":"u1","user":{"id":42},"actor":"a"}'
    assert line_fields({"user_id": "meta"}, line).user == "meta"
    assert line_fields({}, line).user == "u1"
    assert line_fields({}, line, "user.id").user == "42"
    assert line_fields({}, line, "missing").user == ""
    assert line_fields({}, "plain", "user_id").user == ""
