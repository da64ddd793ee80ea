"""``spyglass why '<promql>' --at TIME``: what carries a metric's change, and what else changed.

Talks HTTP to ``--url`` (``/api/spyglass/v1/why``, docs/api.md) and prints the label values
ranked by their share of the change, then the findings of the other signals, the trace
operations that got slower as a table of their own.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

DEFAULT_URL = "http://127.0.0.1:9090"
_URL = typer.Option("--url", help="Spyglass's base URL.")


def why(
    query: str = typer.Argument(..., help="A PromQL expression, e.g. sum(rate(errors_total[5m]))."),
    *,
    at: Annotated[str, typer.Option("--at", help="RFC 3339 or Unix seconds (default now).")] = "",
    window: Annotated[str, typer.Option("--window", help="The window before --at.")] = "15m",
    baseline: Annotated[str, typer.Option("--baseline", help="The baseline before it.")] = "1h",
    limit: Annotated[int, typer.Option("--limit", help="How many contributors.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
    url: Annotated[str, _URL] = DEFAULT_URL,
) -> None:
    """Rank the label values that carry a metric's change, and show what else changed."""
    import httpx
    from rich.console import Console
    from rich.table import Table

    params: dict[str, Any] = {
        "query": query,
        "window": window,
        "baseline": baseline,
        "limit": limit,
    }
    if at:
        params["time"] = at
    try:
        r = httpx.get(url.rstrip("/") + "/api/spyglass/v1/why", params=params, timeout=120)
    except httpx.HTTPError as exc:
        typer.echo(f"error: cannot reach {url}: {exc}", err=True)
        raise typer.Exit(1) from None
    body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
    if r.status_code >= 400:
        typer.echo(f"error: {r.status_code}: {body.get('error', r.text)}", err=True)
        raise typer.Exit(1)
    data = body["data"]
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    console = Console()
    change = data["totalWindow"] - data["totalBaseline"]
    console.print(
        f"[bold]{data['explained']}[/]: {data['totalBaseline']:.6g} → {data['totalWindow']:.6g} "
        f"({change:+.6g}) over {data['series']} series",
        highlight=False,
    )
    table = Table("SHARE", "LABELS", "BASELINE", "WINDOW", "CHANGE")
    for c in data["contributors"]:
        labels = ", ".join(f'{k}="{v}"' for k, v in c["labels"].items())
        table.add_row(f"{c['share'] * 100:.0f}%", labels, f"{c['baseline']:.6g}",
                      f"{c['window']:.6g}", f"{c['delta']:+.6g}")  # fmt: skip
    console.print(table)
    slower = [f["detail"] for f in data["findings"] if f["kind"] == "trace_operation"]
    for f in data["findings"]:
        if f["kind"] != "trace_operation":
            console.print(f"[yellow]{f['kind']}[/]: {f['title']}", highlight=False)
    if slower:
        ops = Table("SERVICE", "OPERATION", "BASELINE P95", "P95", "GROWTH",
                    title="Slower trace operations")  # fmt: skip
        for d in slower:
            growth = f"{d['growth']:.1f}x" if d["growth"] is not None else "-"
            ops.add_row(d["service"], d["operation"], f"{d['baselineP95Ms']:.4g} ms",
                        f"{d['p95Ms']:.4g} ms", growth)  # fmt: skip
        console.print(ops)
