"""The composition root's own pieces: the HTTP socket it binds before anything starts."""

from __future__ import annotations

import asyncio
import socket

import pytest

from spyglass.core.errors import Unavailable
from spyglass.server.runtime import bind_http


def test_connections_on_the_bound_socket_have_nagle_off() -> None:
    """With Nagle's algorithm on, every kept-alive request waited about 40 ms for the client's
    delayed ACK (the PromQL benchmark's instant queries went from 8 to 50 ms)."""
    sock = bind_http("127.0.0.1:0")
    port = sock.getsockname()[1]
    seen: list[int] = []

    async def go() -> None:
        def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            raw = writer.get_extra_info("socket")
            seen.append(raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connect, sock=sock)
        _, w = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.01)
        w.close()
        server.close()
        await server.wait_closed()

    asyncio.run(go())
    assert seen == [1]


def test_a_taken_address_names_itself_and_the_option() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(Unavailable, match=rf"127\.0\.0\.1:{port} \(--otlp-grpc-address\)"):
            bind_http(f"127.0.0.1:{port}", "--otlp-grpc-address")


def test_a_malformed_address_is_refused_clearly() -> None:
    with pytest.raises(Unavailable, match="cannot listen on nowhere"):
        bind_http("nowhere")


def test_flags_show_database_urls_without_their_passwords() -> None:
    """/api/v1/status/flags and the flags page show settings; a password in --storage-url or
    --state-url is masked there."""
    from spyglass.core.settings import Settings  # noqa: PLC0415
    from spyglass.server.runtime import _flag_text  # noqa: PLC0415

    settings = Settings(
        storage_url="http://spy:hunter2@ch:8123/spyglass",
        state_url="postgresql://app:s3cret@db:5432/spyglass",
    )
    assert _flag_text("storage_url", settings) == "http://spy:***@ch:8123/spyglass"
    assert _flag_text("state_url", settings) == "postgresql://app:***@db:5432/spyglass"
