"""``spyglass agent``: tail log files with a Promtail config and push them to Loki's API.

Flags are spelled as Promtail's (``--config.file``; ``--config-file`` too), so a Promtail
unit file or container command carries over with the binary name changed. SIGTERM and SIGINT
stop the agent cleanly: the batch in hand is pushed (without waiting out retries) and the
positions file is written, so a restart neither loses nor repeats acknowledged lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spyglass.core.errors import ConfigError

_LEVELS = ("debug", "info", "warn", "error")


def agent(
    config_file: Annotated[
        Path,
        typer.Option(
            "--config.file",
            "--config-file",
            help="The Promtail configuration file (YAML) to run.",
            show_default=False,
        ),
    ],
    check_syntax: Annotated[
        bool,
        typer.Option(
            "--check-syntax", help="Only check the configuration file, then exit (0: valid)."
        ),
    ] = False,
    log_level: Annotated[
        str, typer.Option("--log.level", "--log-level", help="debug, info, warn or error.")
    ] = "info",
) -> None:
    """Tail log files and push them to a Loki push endpoint (Spyglass or Loki), like Promtail."""
    import asyncio
    import logging
    import signal

    from spyglass.agent import Agent, load_agent_config_file, run_agent

    if log_level not in _LEVELS:
        typer.echo(f"spyglass agent: --log.level must be one of {', '.join(_LEVELS)}", err=True)
        raise typer.Exit(2)
    try:
        config = load_agent_config_file(config_file)
    except ConfigError as exc:
        typer.echo(f"spyglass agent: invalid config: {exc}", err=True)
        raise typer.Exit(1) from None
    if check_syntax:
        typer.echo(f"Valid config file: {config_file}")
        return
    logging.basicConfig(
        level=logging.WARNING if log_level == "warn" else getattr(logging, log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )

    async def main() -> None:
        runner = Agent(config)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, runner.stop)
        await run_agent(runner)

    try:
        asyncio.run(main())
    except (OSError, ConfigError) as exc:
        # A taken listen address, or a positions file that is not one.
        typer.echo(f"spyglass agent: {exc}", err=True)
        raise typer.Exit(1) from None


__all__ = ["agent"]
