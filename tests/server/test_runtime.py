"""The composition root's own pieces: the HTTP socket it binds before anything starts, and the
metrics head's window it picks for the storage in use."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from spyglass.core.errors import Unavailable
from spyglass.core.settings import Settings
from spyglass.server.runtime import (
    bind_http,
    describe_storage,
    head_window_ms,
    query_options,
    range_cache_on,
)


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


def test_flags_show_each_settings_effective_value() -> None:
    """As Prometheus' /flags: a setting left empty shows what it falls back to, and a head
    turned off shows 0s, so neither case is an empty cell."""
    from spyglass.server.runtime import _flag_text  # noqa: PLC0415

    embedded = Settings.load()
    assert _flag_text("head_window", embedded) == "2h"
    assert _flag_text("head_window", Settings.load({"head_window": "0"})) == "0s"
    assert _flag_text("head_window", Settings.load({"head_window": "90m"})) == "1h30m"
    assert _flag_text("head_window", Settings.load({"storage_url": "http://ch:8123/x"})) == "0s"
    assert _flag_text("metrics_retention", embedded) == "2w1d"  # 15d, as Prometheus writes it
    assert _flag_text("metrics_retention", Settings.load({"retention": "3d"})) == "3d"
    assert _flag_text("metrics_retention", Settings.load({"metrics_retention": "2d"})) == "2d"
    assert _flag_text("external_url", embedded) == f"http://{socket.gethostname()}:9090"
    given = Settings.load({"external_url": "https://spy.example/"})
    assert _flag_text("external_url", given) == "https://spy.example"
    assert _flag_text("lookback_delta", embedded) == "5m"
    # Settings that are truly unset (no scrape config, no cluster) stay empty, as in Prometheus.
    assert _flag_text("config_file", embedded) == ""
    assert _flag_text("storage_cluster", embedded) == ""


def test_the_head_is_on_with_embedded_storage_and_off_with_a_server_unless_set() -> None:
    """With a ClickHouse server other nodes may write too, and the head would miss their
    samples: there it takes an explicit --head-window."""
    embedded = Settings.load()
    server = Settings.load({"storage_url": "http://ch:8123/spyglass"})
    assert head_window_ms(embedded) == 2 * 3_600_000
    assert head_window_ms(server) == 0
    assert head_window_ms(server.replace(head_window=30 * 60_000)) == 30 * 60_000
    assert head_window_ms(Settings.load({"head_window": "0"})) == 0
    assert "last 2h also in memory" in describe_storage(embedded)
    assert "no in-memory head" in describe_storage(server)


def test_the_range_cache_is_on_with_embedded_storage_and_off_with_a_server_unless_set() -> None:
    """A node hears only of its own late writes: with a ClickHouse server other nodes may
    write to, the cache takes an explicit --range-cache; a zero budget turns it off."""
    embedded = Settings.load()
    server = Settings.load({"storage_url": "http://ch:8123/spyglass"})
    assert range_cache_on(embedded)
    assert not range_cache_on(server)
    assert range_cache_on(server.replace(range_cache=True))
    assert not range_cache_on(embedded.replace(range_cache=False))
    assert not range_cache_on(embedded.replace(range_cache=True, range_cache_max_bytes=0))


def test_an_unset_range_cache_flag_shows_empty_not_false() -> None:
    """/api/v1/status/flags must not claim the cache is off when the runtime turns it on."""
    from spyglass.server.runtime import _flag_text  # noqa: PLC0415

    assert _flag_text("range_cache", Settings.load()) == ""
    assert _flag_text("range_cache", Settings.load({"range_cache": "false"})) == "false"
    assert _flag_text("range_cache", Settings.load({"range_cache": "true"})) == "true"
    assert _flag_text("scrape_self", Settings.load()) == "false"


def test_the_start_up_line_says_how_long_each_signal_is_kept() -> None:
    """Every signal's retention falls back to --retention."""
    default = describe_storage(Settings.load())
    assert "metrics kept 2w1d, logs 2w1d, spans 2w1d, error events 2w1d;" in default  # 15d
    mixed = Settings.load(
        {
            "retention": "5d",
            "logs_retention": "3d",
            "traces_retention": "1d",
            "errors_retention": "30d",
        }
    )
    assert "metrics kept 5d, logs 3d, spans 1d, error events 4w2d;" in describe_storage(mixed)


def test_query_push_down_follows_its_setting() -> None:
    """Queries push range functions down to ClickHouse only with ``--query-push-down``; the
    other limits come from their settings either way."""
    assert query_options(Settings.load({})).push_down is False
    on = query_options(Settings.load({"query_push_down": "true", "query_max_samples": "7"}))
    assert on.push_down is True
    assert on.max_samples == 7


def test_span_metrics_run_right_after_storage_unless_turned_off(tmp_path: Path) -> None:
    """Trace ingest hands accepted batches to ``runtime.span_metrics``; it starts after storage
    and stops just before it, so its last collection is stored."""
    from spyglass.server.runtime import Runtime  # noqa: PLC0415
    from spyglass.traces import SpanMetrics  # noqa: PLC0415

    for on in (True, False):
        settings = Settings.load(
            {"data_dir": str(tmp_path / str(on)), "span_metrics": "true" if on else "false"}
        )
        runtime = Runtime.build(settings)
        try:
            names = [c.name for c in runtime.assembly.components]
            if on:
                assert isinstance(runtime.span_metrics, SpanMetrics)
                assert runtime.span_metrics.exemplars is runtime.exemplars
                assert names[:2] == ["storage", "span-metrics"]
            else:
                assert runtime.span_metrics is None
                assert "span-metrics" not in names
        finally:
            runtime.backend.close()
            runtime.state.close()
