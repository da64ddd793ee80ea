"""``spyglass agent``: ship log files to any Loki push endpoint, configured like Promtail.

``load_agent_config_file`` reads a Promtail config (``server``, ``positions``, ``clients``,
``scrape_configs`` with ``static_configs``, ``relabel_configs`` and ``pipeline_stages``);
``Agent`` tails the files the ``__path__`` globs find, runs each line through the pipeline
stages, pushes batches as Promtail does (snappy protobuf, retries with backoff) and records
positions only for acknowledged lines; ``run_agent`` runs it with its ``/metrics`` and
``/ready`` listener. Modules in order: ``_tail`` (one file) → ``_entry``/``_stage``/``_stages``/
``_timestamp``/``_multiline``/``_pipeline`` (the stages) → ``_client`` (push) →
``_positions`` → ``_agent`` (the loop) → ``_http`` (the listener); ``_config`` reads the file.
"""

from spyglass.agent._agent import Agent, Target, targets
from spyglass.agent._client import Outcome, PushClient, Result, encode_push
from spyglass.agent._config import (
    AgentConfig,
    ClientConfig,
    PositionsConfig,
    ScrapeConfig,
    ServerConfig,
    TargetGroup,
    load_agent_config,
    load_agent_config_file,
)
from spyglass.agent._entry import Entry, value_text
from spyglass.agent._globs import compile_glob, expand
from spyglass.agent._http import agent_app, bind, run_agent
from spyglass.agent._jmespath import PathError, parse_path
from spyglass.agent._logfmt import parse_logfmt
from spyglass.agent._pipeline import STAGES, Pipeline, build_pipeline
from spyglass.agent._positions import Positions, format_positions, parse_positions
from spyglass.agent._stage import Drops
from spyglass.agent._tail import FileTail, Line
from spyglass.agent._timestamp import time_parser

__all__ = [
    "STAGES",
    "Agent",
    "AgentConfig",
    "ClientConfig",
    "Drops",
    "Entry",
    "FileTail",
    "Line",
    "Outcome",
    "PathError",
    "Pipeline",
    "Positions",
    "PositionsConfig",
    "PushClient",
    "Result",
    "ScrapeConfig",
    "ServerConfig",
    "Target",
    "TargetGroup",
    "agent_app",
    "bind",
    "build_pipeline",
    "compile_glob",
    "encode_push",
    "expand",
    "format_positions",
    "load_agent_config",
    "load_agent_config_file",
    "parse_logfmt",
    "parse_path",
    "parse_positions",
    "run_agent",
    "targets",
    "time_parser",
    "value_text",
]
