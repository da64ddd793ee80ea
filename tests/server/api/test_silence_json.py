"""The silence JSON codec on its own: what ``GettableSilence`` writes, ``PostableSilence``
reads back unchanged (amtool's ``silence import`` posts what ``query -o json`` printed)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from spyglass.alerting import Matcher, Silence, SilenceDraft
from spyglass.core.matchers import MatchOp
from spyglass.server.api._silence_json import decode_postable_silence, gettable_silence, go_json

_MIN_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z
_MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_matchers = st.lists(
    # Built without compiling: the codec carries any regex text, validation is not its job.
    st.builds(Matcher, _text.filter(bool), st.sampled_from(list(MatchOp)), _text),
    min_size=1,
    max_size=4,
)


@given(
    matchers=_matchers,
    start=st.integers(_MIN_MS, _MAX_MS),
    end=st.integers(_MIN_MS, _MAX_MS),
    created_by=_text,
    comment=_text,
    silence_id=st.uuids().map(str),
)
def test_a_gettable_silence_posts_back_as_the_same_silence(
    matchers: list[Matcher],
    start: int,
    end: int,
    created_by: str,
    comment: str,
    silence_id: str,
) -> None:
    silence = Silence(tuple(matchers), start, end, created_by, comment, silence_id, start)
    written = go_json(gettable_silence(silence, "active"))
    assert written.endswith(b"\n")
    assert decode_postable_silence(written) == SilenceDraft(
        matchers=tuple((m.name, m.op.value, m.value) for m in matchers),
        starts_at_ms=start,
        ends_at_ms=end,
        created_by=created_by,
        comment=comment,
        id=silence_id,
    )


@given(st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
def test_decoding_never_raises(raw: bytes) -> None:
    """Any bytes decode to a draft or a refusal with go-swagger's shape, never an exception."""
    result = decode_postable_silence(raw)
    if not isinstance(result, SilenceDraft):
        assert result.status in (400, 422)
        assert set(result.body) == {"code", "message"}
        json.dumps(result.body)
