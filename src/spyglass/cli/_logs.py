"""``spyglass logs``: LogQL, log patterns and user impact from a running server, in a terminal.

``spyglass logs '<LogQL>' --since 1h`` asks ``--url`` (a Spyglass server, or any Loki: only
Loki's API is used) through ``/loki/api/v1/query_range`` and prints log lines as timestamp,
level (coloured), labels (dimmed) and line; a metric query prints its series as a table.
``spyglass logs patterns`` and ``spyglass logs impact`` ask Spyglass's ``/api/logs/patterns``
and ``/api/logs/impact``. Times go to the server as given (``--from``/``--to`` take what Loki
takes: RFC 3339, Unix seconds or nanoseconds), so the server's clock and parser decide.

``spyglass logs tail`` follows a query by asking ``query_range`` for what is newer than the
last line it printed, every ``--poll`` seconds: Loki's tail websocket would need a websocket
client, which Spyglass does not depend on, and polling works against any Loki too.

A first argument that is not a subcommand is the query of ``spyglass logs query``, so the
short form works. Errors print the server's message and exit with 1; a spinner on stderr
shows a query is still running.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from spyglass.core.log_fields import line_fields

if TYPE_CHECKING:
    import httpx
    from rich.console import Console

DEFAULT_URL = "http://127.0.0.1:9090"
TIMEOUT_S = 300.0
LEVEL_STYLES = {
    "trace": "dim",
    "debug": "blue",
    "info": "green",
    "warn": "yellow",
    "error": "bold red",
    "critical": "bold white on red",
    "fatal": "bold white on red",
    "unknown": "dim",
}


class _QueryByDefault(TyperGroup):
    """``spyglass logs '<LogQL>'`` is ``spyglass logs query '<LogQL>'``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["query", *args]
        return super().parse_args(ctx, args)


logs_app = typer.Typer(
    cls=_QueryByDefault,
    help=(
        "Query logs with LogQL, list log patterns and the users that error lines name. "
        "`spyglass logs '<LogQL>'` is short for `spyglass logs query '<LogQL>'`."
    ),
    no_args_is_help=True,
)


class Output(StrEnum):
    """How log lines are printed."""

    default = "default"
    raw = "raw"
    jsonl = "jsonl"


class Direction(StrEnum):
    """Which lines a limit keeps: the newest (backward) or the oldest (forward)."""

    backward = "backward"
    forward = "forward"


_URL = typer.Option("--url", help="Base URL of Spyglass (or of a Loki for plain queries).")
_SINCE = typer.Option("--since", help="How far back from --to to look (a duration: 15m, 1h, 2d).")
_FROM = typer.Option(
    "--from", help="Start of the range (RFC 3339, Unix s or ns); wins over --since."
)
_TO = typer.Option("--to", help="End of the range (default: now).")
_LIMIT = typer.Option("--limit", help="Most lines (or templates) to print.")


@cache
def _out() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


@cache
def _err() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _fail(message: str) -> typer.Exit:
    from rich.markup import escape

    _err().print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(1)


def _message(response: httpx.Response) -> str:
    """The server's error: Spyglass's ``{"error": ...}``, or Loki's plain text."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or response.reason_phrase
    if isinstance(body, dict) and "error" in body:
        return str(body["error"])
    return response.text.strip()


def _get(url: str, path: str, params: dict[str, str], *, spinner: bool = True) -> Any:
    import httpx

    sent = {k: v for k, v in params.items() if v}
    try:
        with _err().status(f"querying {url} ...", spinner="dots") if spinner else nullcontext():
            response = httpx.get(url.rstrip("/") + path, params=sent, timeout=TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach {url}: {exc}") from None
    if response.status_code >= 400:
        raise _fail(f"{response.status_code}: {_message(response)}")
    try:
        return response.json()
    except ValueError:
        raise _fail(f"{url} answered with something other than JSON") from None


def _range(since: str, start: str | None, end: str | None) -> dict[str, str]:
    return {"since": since, "start": start or "", "end": end or ""}


def _time(ns: int) -> str:
    stamp = datetime.fromtimestamp(ns // 10**9, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{ns % 10**9 // 10**6:03d}Z"


def _rfc_short(text: str) -> str:
    """An RFC 3339 time from the server, to the millisecond."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _labels(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items())) + "}"


def _entries(
    result: list[dict[str, Any]], direction: str
) -> Iterator[tuple[int, dict[str, str], str]]:
    flat = [
        (int(ts), stream.get("stream", {}), line)
        for stream in result
        for ts, line, *_ in stream.get("values", [])
    ]
    flat.sort(key=lambda e: e[0], reverse=direction == "backward")
    return iter(flat)


def _print_entry(ts: int, labels: dict[str, str], line: str, output: Output) -> None:
    from rich.text import Text

    if output is Output.raw:
        _out().out(line, highlight=False)
    elif output is Output.jsonl:
        record = {"timestamp": str(ts), "time": _time(ts), "labels": labels, "line": line}
        _out().out(json.dumps(record), highlight=False)
    else:
        level = line_fields(labels, line).level
        text = Text()
        text.append(_time(ts), style="cyan")
        text.append(" ")
        text.append(f"{level.upper():<5}", style=LEVEL_STYLES.get(level, ""))
        text.append(" ")
        text.append(_labels(labels), style="dim")
        text.append(" ")
        text.append(line)
        _out().print(text)


def _print_streams(result: list[dict[str, Any]], direction: str, output: Output) -> int:
    n = 0
    for ts, labels, line in _entries(result, direction):
        n += 1
        _print_entry(ts, labels, line, output)
    return n


def _print_series(data: dict[str, Any], output: Output) -> None:
    from rich.table import Table
    from rich.text import Text

    kind = data["resultType"]
    rows: list[tuple[dict[str, str], float, str]] = []
    if kind == "matrix":
        rows = [(s["metric"], t, v) for s in data["result"] for t, v in s["values"]]
    elif kind == "vector":
        rows = [(s["metric"], *s["value"]) for s in data["result"]]
    elif kind == "scalar":
        t, v = data["result"]
        rows = [({}, t, v)]
    if output is not Output.default:
        for metric, t, v in rows:
            _out().out(json.dumps({"metric": metric, "time": t, "value": v}), highlight=False)
        return
    table = Table(show_header=True, header_style="bold")
    table.add_column("series")
    table.add_column("time")
    table.add_column("value", justify="right")
    for metric, t, v in rows:
        # Loki's sample times are seconds to the millisecond: rounding to it keeps what the
        # server sent (``int(t * 1e9)`` printed a third of the milliseconds one too low).
        ms = round(float(t) * 1000)
        table.add_row(Text(_labels(metric), style="dim"), _time(ms * 10**6), str(v))
    _out().print(table)


@logs_app.command("query")
def query(
    logql: Annotated[str, typer.Argument(help="A LogQL log or metric query.", metavar="LOGQL")],
    *,
    since: Annotated[str, _SINCE] = "1h",
    start: Annotated[str | None, _FROM] = None,
    end: Annotated[str | None, _TO] = None,
    limit: Annotated[int, _LIMIT] = 100,
    direction: Annotated[
        Direction, typer.Option("--direction", help="backward: newest first.")
    ] = Direction.backward,
    output: Annotated[
        Output, typer.Option("--output", "-o", help="default, raw (lines only) or jsonl.")
    ] = Output.default,
    step: Annotated[
        str | None, typer.Option("--step", help="Step of a metric query (a duration).")
    ] = None,
    url: Annotated[str, _URL] = DEFAULT_URL,
) -> None:
    """Run a LogQL query: log lines, or a metric query's series as a table."""
    params = {
        "query": logql,
        "limit": str(limit),
        "direction": direction.value,
        "step": step or "",
        **_range(since, start, end),
    }
    body = _get(url, "/loki/api/v1/query_range", params)
    data = body.get("data", {})
    if data.get("resultType") == "streams":
        n = _print_streams(data.get("result", []), direction.value, output)
        if output is Output.default:
            _err().print(f"[dim]{n} lines[/dim]")
    else:
        _print_series(data, output)


@logs_app.command("tail")
def tail(
    logql: Annotated[
        str, typer.Argument(help="A LogQL log query (selector and pipeline).", metavar="LOGQL")
    ],
    *,
    since: Annotated[
        str, typer.Option("--since", help="Print the lines of this long ago first.")
    ] = "1m",
    limit: Annotated[int, _LIMIT] = 100,
    output: Annotated[
        Output, typer.Option("--output", "-o", help="default, raw (lines only) or jsonl.")
    ] = Output.default,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between two reads.")] = 1.0,
    url: Annotated[str, _URL] = DEFAULT_URL,
) -> None:
    """Follow a log query: print its lines as they arrive, until Ctrl-C."""
    params = {"query": logql, "since": since, "limit": str(limit), "direction": "backward"}
    body = _get(url, "/loki/api/v1/query_range", params)
    entries = list(_entries(body.get("data", {}).get("result", []), "forward"))
    for ts, labels, line in entries:
        _print_entry(ts, labels, line, output)
    # Reads start again at the newest timestamp printed (more lines of that nanosecond may still
    # arrive), so the lines printed at it are remembered and skipped.
    last = entries[-1][0] if entries else time.time_ns() - 10**9
    printed = {(json.dumps(lb, sort_keys=True), ln) for ts, lb, ln in entries if ts == last}
    try:
        while True:
            time.sleep(poll)
            params = {"query": logql, "start": str(last), "limit": "5000", "direction": "forward"}
            body = _get(url, "/loki/api/v1/query_range", params, spinner=False)
            for ts, labels, line in _entries(body.get("data", {}).get("result", []), "forward"):
                key = (json.dumps(labels, sort_keys=True), line)
                if ts == last and key in printed:
                    continue
                if ts > last:
                    last, printed = ts, set()
                printed.add(key)
                _print_entry(ts, labels, line, output)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


@logs_app.command("patterns")
def patterns(
    logql: Annotated[
        str, typer.Argument(help="A LogQL log query (selector and pipeline).", metavar="LOGQL")
    ],
    *,
    since: Annotated[str, _SINCE] = "1h",
    start: Annotated[str | None, _FROM] = None,
    end: Annotated[str | None, _TO] = None,
    baseline_start: Annotated[
        str | None,
        typer.Option(
            "--baseline-from",
            help="Start of the baseline (default: as long as the window, just before it).",
        ),
    ] = None,
    baseline_end: Annotated[
        str | None,
        typer.Option("--baseline-to", help="End of the baseline (default: the window's start)."),
    ] = None,
    limit: Annotated[int, _LIMIT] = 50,
    output: Annotated[
        Output, typer.Option("--output", "-o", help="default or jsonl (one template a line).")
    ] = Output.default,
    url: Annotated[str, _URL] = DEFAULT_URL,
) -> None:
    """Templates of the matching lines, with new and growing ones first."""
    from rich.table import Table
    from rich.text import Text

    params = {
        "query": logql,
        "limit": str(limit),
        "baseline_start": baseline_start or "",
        "baseline_end": baseline_end or "",
        **_range(since, start, end),
    }
    body = _get(url, "/api/logs/patterns", params)
    if output is not Output.default:
        for p in body["patterns"]:
            _out().out(json.dumps(p), highlight=False)
        return
    table = Table(show_header=True, header_style="bold", show_lines=True)
    for name, justify in (
        ("", "left"),
        ("count", "right"),
        ("before", "right"),
        ("service / level", "left"),
        ("first / last seen", "left"),
        ("template and sample", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for p in body["patterns"]:
        marker = (
            Text("NEW", style="bold magenta")
            if p["new"]
            else (Text("GROWING", style="bold yellow") if p["growing"] else Text(""))
        )
        level = p["level"]
        where = Text(p["service"] + "\n")
        where.append(level, style=LEVEL_STYLES.get(level, ""))
        seen = f"{_rfc_short(p['firstSeen'])}\n{_rfc_short(p['lastSeen'])}"
        template = Text(p["template"], style="bold")
        template.append("\n" + p["sample"]["line"], style="dim")
        table.add_row(marker, str(p["count"]), str(p["baselineCount"]), where, seen, template)
    _out().print(table)
    lines = body["lines"]
    _err().print(
        f"[dim]{len(body['patterns'])} of {body['total']} templates from {lines['window']} lines "
        f"(baseline: {lines['baseline']} lines)[/dim]"
    )
    if body["truncated"]:
        _err().print(
            f"[yellow]only the newest {body['maxLines']} lines of a period were read[/yellow]"
        )
    for group in body["cappedGroups"]:
        _err().print(
            f"[yellow]{group['service']}/{group['level']} reached its template limit: "
            f"{group['unclustered']} lines joined no template[/yellow]"
        )


@logs_app.command("impact")
def impact(
    logql: Annotated[
        str, typer.Argument(help="A LogQL log query (selector and pipeline).", metavar="LOGQL")
    ],
    *,
    since: Annotated[str, _SINCE] = "1h",
    start: Annotated[str | None, _FROM] = None,
    end: Annotated[str | None, _TO] = None,
    user_field: Annotated[
        str | None,
        typer.Option(
            "--user-field", help="Field or label naming the user (default: the server's, user_id)."
        ),
    ] = None,
    limit: Annotated[int, _LIMIT] = 20,
    output: Annotated[
        Output,
        typer.Option("--output", "-o", help="default or jsonl (the whole report on one line)."),
    ] = Output.default,
    url: Annotated[str, _URL] = DEFAULT_URL,
) -> None:
    """Distinct users hit by error-level lines: overall, per service and per template."""
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    params = {
        "query": logql,
        "limit": str(limit),
        "user_field": user_field or "",
        **_range(since, start, end),
    }
    body = _get(url, "/api/logs/impact", params)
    if output is not Output.default:
        _out().out(json.dumps(body), highlight=False)
        return
    _out().print(
        f"[bold]{body['users']}[/bold] distinct users ({escape(body['userField'])}) hit "
        f"[bold red]{body['errorLines']}[/bold red] error lines; "
        f"{body['errorLinesWithoutUser']} error lines name no user."
    )
    top = ", ".join(f"{u['user']} ({u['errorLines']})" for u in body["topUsers"])
    if top:
        _out().print(f"top users: {escape(top)}")
    services = Table(title="per service", show_header=True, header_style="bold")
    for name in ("service", "users", "error lines", "top users"):
        services.add_column(name, justify="right" if name in ("users", "error lines") else "left")
    for s in body["services"]:
        services.add_row(
            s["service"],
            str(s["users"]),
            str(s["errorLines"]),
            ", ".join(u["user"] for u in s["topUsers"][:5]),
        )
    _out().print(services)
    templates = Table(title="per template", show_header=True, header_style="bold")
    for name in ("users", "error lines", "service", "template"):
        templates.add_column(name, justify="right" if name in ("users", "error lines") else "left")
    for p in body["patterns"]:
        templates.add_row(str(p["users"]), str(p["errorLines"]), p["service"], Text(p["template"]))
    _out().print(templates)
    if body["truncated"]:
        _err().print(f"[yellow]only the newest {body['maxLines']} lines were read[/yellow]")


__all__ = ["logs_app"]
