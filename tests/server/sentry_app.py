"""An app instrumented with the real ``sentry_sdk``, run as its own process by the errors e2e test.

``python sentry_app.py DSN RELEASE SCENARIO``: ``first`` raises from ``charge`` twice and from
``ship`` once, and captures a message; ``again`` raises from ``charge`` once. Each capture has
breadcrumbs, a user and a tag. The SDK's own transport sends the envelopes; the script flushes,
then prints the event ids it captured as a JSON object.
"""

from __future__ import annotations

import json
import sys

import sentry_sdk


def charge(order: int) -> float:
    return 100 / (order - order)  # ZeroDivisionError, raised here every time


def ship(order: int) -> None:
    raise KeyError(f"no address for order {order}")


def main(dsn: str, release: str, scenario: str) -> None:
    sentry_sdk.init(
        dsn=dsn,
        release=release,
        environment="staging",
        default_integrations=False,
        traces_sample_rate=0,
    )
    sentry_sdk.set_user({"id": "user-7", "email": "ada@example.com"})
    sentry_sdk.set_tag("route", "/orders/{id}")
    ids: dict[str, list[str]] = {"charge": [], "ship": [], "message": []}
    orders = [41, 42] if scenario == "first" else [43]
    for order in orders:
        sentry_sdk.add_breadcrumb(category="cart", message=f"checkout of order {order}")
        try:
            charge(order)
        except ZeroDivisionError:
            ids["charge"].append(sentry_sdk.capture_exception() or "")
    if scenario == "first":
        try:
            ship(7)
        except KeyError:
            ids["ship"].append(sentry_sdk.capture_exception() or "")
        ids["message"].append(sentry_sdk.capture_message("payment provider slow", "warning") or "")
    sentry_sdk.flush(timeout=30)
    print(json.dumps(ids), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
