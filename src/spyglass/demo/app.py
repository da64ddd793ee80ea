"""The demo service: a FastAPI shop instrumented with one ``instrument()`` call.

Its routes behave like a real service's: most requests are quick, some are slow, some fail, and
one route has a path parameter so the metrics show route templates. Run it alone with
``python -m spyglass.demo.app --port 8000``.
"""

from __future__ import annotations

import argparse
import asyncio
import random

from fastapi import FastAPI, HTTPException

from spyglass.sdk import get_logger, instrument, timed

ITEMS = {i: f"item-{i}" for i in range(1, 101)}


def create_app(*, otlp_endpoint: str | None = None, seed: int | None = None) -> FastAPI:
    """The shop app, instrumented as service ``demo-shop``."""
    rng = random.Random(seed)
    app = FastAPI(title="Spyglass demo shop")
    log = get_logger("demo.shop")

    @app.get("/items/{item_id}")
    async def get_item(item_id: int) -> dict[str, object]:
        if item_id not in ITEMS:
            raise HTTPException(status_code=404, detail="no such item")
        await asyncio.sleep(rng.uniform(0.001, 0.02))
        return {"id": item_id, "name": ITEMS[item_id]}

    @app.get("/items")
    async def list_items() -> list[int]:
        return list(ITEMS)[:20]

    @app.post("/checkout")
    async def checkout() -> dict[str, str]:
        with timed("checkout_payment"):
            # One in ten payments is slow, one in twenty fails: something to see on the graphs.
            await asyncio.sleep(rng.uniform(0.3, 1.2) if rng.random() < 0.1 else 0.02)
            if rng.random() < 0.05:
                log.warning("payment declined", provider="demo-pay")
                raise HTTPException(status_code=502, detail="payment provider failed")
        log.info("order placed")
        return {"status": "ok"}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("the demo's unhandled error")

    options: dict[str, object] = {"access_log": False}
    if otlp_endpoint:
        options["otlp_endpoint"] = otlp_endpoint
    else:
        options["tracing"] = False
    instrument(app, service="demo-shop", **options)
    return app


def main() -> None:
    """Serve the demo app with uvicorn."""
    import uvicorn  # noqa: PLC0415 - only the standalone entry point needs the server

    parser = argparse.ArgumentParser(description="Spyglass demo shop")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--otlp-endpoint", default=None)
    args = parser.parse_args()
    uvicorn.run(
        create_app(otlp_endpoint=args.otlp_endpoint),
        host=args.host,
        port=args.port,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
