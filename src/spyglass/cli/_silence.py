"""``spyglass silence add|query|expire``: manage silences over Alertmanager's API v2, like amtool.

The commands talk HTTP to ``--url``: a Spyglass server or any Alertmanager (the API is the
same), so the one tool works on both. Matchers are written as amtool takes them
(``alertname=Foo``, ``job=~"api|web"``, ``severity!=info``; a first argument without an
operator is the alert name). Errors are the server's own messages; the exit code is 1 when a
request fails.
"""

from __future__ import annotations

import getpass
import re
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from spyglass.core.errors import BadInput
from spyglass.core.times import parse_duration_ms

if TYPE_CHECKING:
    import httpx

    from spyglass.alerting import Matcher

silence_app = typer.Typer(
    help="Add, list and expire silences on Spyglass or Alertmanager (API v2).",
    no_args_is_help=True,
)

DEFAULT_URL = "http://127.0.0.1:9090"
_URL = typer.Option("--url", help="Spyglass's (or an Alertmanager's) base URL.")
_OPERATOR = re.compile(r"=|!=|=~|!~")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _request(method: str, url: str, path: str, **kwargs: Any) -> httpx.Response:
    import httpx

    try:
        response = httpx.request(method, url.rstrip("/") + "/api/v2" + path, timeout=30, **kwargs)
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach {url}: {exc}") from None
    if response.status_code == 404 and not response.content:
        raise _fail("404: no such silence")
    if response.status_code >= 400:
        raise _fail(f"{response.status_code}: {_server_message(response)}")
    return response


def _server_message(response: httpx.Response) -> str:
    """What the server said: a JSON string, go-openapi's ``message``, or the text."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or response.reason_phrase
    if isinstance(body, dict) and "message" in body:
        return str(body["message"])
    return str(body)


def _matchers(args: list[str]) -> list[Matcher]:
    from spyglass.alerting import MatcherError, parse_matcher

    out = []
    for i, arg in enumerate(args):
        # amtool's shorthand: a first argument without an operator is the alert name.
        text = arg if i or _OPERATOR.search(arg) else f"alertname={arg}"
        try:
            out.append(parse_matcher(text))
        except MatcherError as exc:
            raise _fail(f"bad matcher {text!r}: {exc}") from None
    return out


def _time(text: str, option: str) -> int:
    from spyglass.alerting import parse_api_time

    try:
        return parse_api_time(text)
    except BadInput as exc:
        raise _fail(f"{option}: {exc}") from None


@silence_app.command("add")
def add(
    matchers: Annotated[list[str], typer.Argument(help='Matchers, e.g. alertname=Foo job=~"a|b"')],
    *,
    comment: Annotated[str, typer.Option("--comment", "-c", help="Why (required).")],
    author: Annotated[
        str, typer.Option("--author", "-a", help="Who (default: your user name).")
    ] = "",
    duration: Annotated[
        str, typer.Option("--duration", "-d", help="How long, from the start.")
    ] = "1h",
    start: Annotated[str, typer.Option("--start", help="RFC 3339 start (default: now).")] = "",
    end: Annotated[str, typer.Option("--end", help="RFC 3339 end (overrides --duration).")] = "",
    url: Annotated[str, _URL] = DEFAULT_URL,
) -> None:
    """Add a silence and print its id."""
    from spyglass.alerting import format_api_time

    parsed = _matchers(matchers)
    starts = _time(start, "--start") if start else time.time_ns() // 1_000_000
    if end:
        ends = _time(end, "--end")
    else:
        try:
            ends = starts + parse_duration_ms(duration)
        except BadInput as exc:
            raise _fail(f"--duration: {exc}") from None
    body = {
        "matchers": [
            {
                "name": m.name,
                "value": m.value,
                "isRegex": m.op.value in ("=~", "!~"),
                "isEqual": m.op.value in ("=", "=~"),
            }
            for m in parsed
        ],
        "startsAt": format_api_time(starts),
        "endsAt": format_api_time(ends),
        "createdBy": author or getpass.getuser(),
        "comment": comment,
    }
    typer.echo(_request("POST", url, "/silences", json=body).json()["silenceID"])


@silence_app.command("query")
def query(
    matchers: Annotated[
        list[str] | None, typer.Argument(help="Show only silences with these matchers.")
    ] = None,
    expired: Annotated[
        bool, typer.Option("--expired", help="Show expired silences instead of current ones.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the ids.")] = False,
    url: Annotated[str, _URL] = DEFAULT_URL,
) -> None:
    """List silences: active and pending ones (or expired ones), like amtool silence query."""
    filters = [("filter", str(m)) for m in _matchers(matchers or [])]
    silences = _request("GET", url, "/silences", params=filters).json()
    shown = [s for s in silences if (s["status"]["state"] == "expired") == expired]
    if quiet:
        for s in shown:
            typer.echo(s["id"])
        return
    rows = [["ID", "Matchers", "Ends At", "Created By", "Comment"]]
    for s in shown:
        rows.append(
            [
                s["id"],
                " ".join(_matcher_text(m) for m in s["matchers"]),
                _ends(s["endsAt"]),
                s["createdBy"],
                s["comment"],
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _matcher_text(m: dict[str, Any]) -> str:
    from spyglass.alerting import Matcher

    op = (
        ("=~" if m.get("isEqual", True) else "!~")
        if m["isRegex"]
        else ("=" if m.get("isEqual", True) else "!=")
    )
    return str(Matcher.of(m["name"], op, m["value"]))


def _ends(text: str) -> str:
    """``2026-01-02 15:04:05 UTC``, as amtool prints the end."""
    from spyglass.alerting import parse_api_time

    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(parse_api_time(text) // 1000))


@silence_app.command("expire")
def expire(
    ids: Annotated[list[str], typer.Argument(help="Ids of the silences to expire.")],
    url: Annotated[str, _URL] = DEFAULT_URL,
) -> None:
    """Expire silences now."""
    for silence_id in ids:
        try:
            _request("DELETE", url, f"/silence/{silence_id}")
        except typer.Exit:
            typer.echo(f"error: silence {silence_id} was not expired", err=True)
            raise


__all__ = ["silence_app"]
