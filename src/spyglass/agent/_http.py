"""The agent's own HTTP listener (Promtail's ``server`` block): ``/metrics`` and ``/ready``.

``/ready`` answers 200 ``Ready`` once the file globs were expanded at least once, 503 before,
as Promtail's does; ``/metrics`` is the Prometheus text exposition of ``AgentMetrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from spyglass.agent._agent import Agent

log = logging.getLogger("spyglass.agent")


class _Server(uvicorn.Server):
    """uvicorn without its signal handling: the agent's command owns SIGTERM and SIGINT, and
    stops this listener after the agent has saved its positions."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def agent_app(agent: Agent) -> Starlette:
    """The ASGI app of the agent's listener."""

    async def metrics(request: Request) -> Response:
        del request
        agent.metrics.refresh()
        return Response(generate_latest(agent.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def ready(request: Request) -> Response:
        del request
        if agent.ready:
            return PlainTextResponse("Ready")
        return PlainTextResponse("Not ready: file targets not synced yet", status_code=503)

    return Starlette(routes=[Route("/metrics", metrics), Route("/ready", ready)])


def bind(host: str, port: int) -> socket.socket:
    """The listener's socket, bound before anything starts so a taken port fails at once
    (``OSError`` naming the address) rather than after the agent began shipping."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


async def run_agent(agent: Agent) -> None:
    """Run the agent, with its listener unless ``server.disable`` is set; ``OSError`` when
    the listener's address cannot be bound."""
    server_config = agent.config.server
    if server_config.disable:
        await agent.run()
        return
    sock = bind(server_config.listen_address, server_config.port)
    host, port = sock.getsockname()[:2]
    log.info("serving /metrics and /ready on %s:%d", host, port)
    server = _Server(
        uvicorn.Config(
            agent_app(agent),
            host=server_config.listen_address,
            port=server_config.port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
    )
    listener = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await agent.run()
    finally:
        server.should_exit = True
        await listener
        sock.close()


__all__ = ["agent_app", "bind", "run_agent"]
