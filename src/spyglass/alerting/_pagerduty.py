"""``pagerduty_configs``: PagerDuty's Events API v2 (``routing_key``) and v1 (``service_key``).

One event per notification, as Alertmanager sends it: ``trigger`` while any alert of the group
fires, ``resolve`` once all are resolved, deduplicated by the SHA-256 of the group key so
PagerDuty folds every notification of a group into one incident. The summary (v2) or
description (v1) is cut to 1024 characters; ``details`` values are templates whose output is
read back as YAML, so ``{{ .Alerts.Firing | toJson }}`` arrives as a JSON list and ``{{ len
.Alerts }}`` as a number (Alertmanager's ``DeepCopyWithTemplate``); an event over 512 kB loses
its details. PagerDuty asks for a retry on 429 (v2), 403 (v1) and 5xx.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import yaml

from spyglass.alerting._client import request_headers
from spyglass.alerting._delivery import (
    Renderer,
    check_status,
    go_json,
    open_client,
    post_json,
    read_secret,
    truncate_runes,
)
from spyglass.alerting._notify import SENDER_BUILDERS, Notification, NotifyError, SenderEnv
from spyglass.alerting._receivers import PagerdutyConfig

log = logging.getLogger(__name__)

# Alertmanager sends v1 events here whatever ``url`` says (``url`` is the v2 endpoint).
V1_URL = "https://events.pagerduty.com/generic/2010-04-15/create_event.json"
MAX_EVENT_BYTES = 512_000
MAX_SUMMARY_RUNES = 1024
DEFAULT_TIMEOUT_S = 30.0
_TOO_LARGE = (
    "Custom details have been removed because the original event exceeds the maximum size of 512kB"
)


def dedup_key(group_key: str) -> str:
    """PagerDuty's ``dedup_key`` (v1: ``incident_key``): the group key's SHA-256, in hex."""
    return hashlib.sha256(group_key.encode()).hexdigest()


@dataclass(frozen=True)
class PagerdutySender:
    """Sends a notification to PagerDuty as Alertmanager does."""

    config: PagerdutyConfig
    env: SenderEnv
    transport: httpx.AsyncBaseTransport | None = None
    v1_url: str = V1_URL

    @property
    def kind(self) -> str:
        """``pagerduty``."""
        return "pagerduty"

    @property
    def send_resolved(self) -> bool:
        """The config's ``send_resolved``."""
        return self.config.send_resolved

    @property
    def v1(self) -> bool:
        """Whether this config speaks Events API v1 (a ``service_key``)."""
        return bool(self.config.service_key or self.config.service_key_file)

    def event(self, notification: Notification) -> dict[str, Any]:
        """The event for ``notification``, every field rendered (keys read from files now)."""
        cfg = self.config
        data = notification.template_data()
        render = Renderer(self.env.templates, data, "pagerduty")
        action = "resolve" if data.status == "resolved" else "trigger"
        details = render_details(cfg.details, render)
        key = dedup_key(notification.group_key)
        if self.v1:
            description, cut = truncate_runes(render(cfg.description), MAX_SUMMARY_RUNES)
            if cut:
                log.warning("pagerduty: truncated description to %d runes", MAX_SUMMARY_RUNES)
            service_key = cfg.service_key or read_secret(
                cfg.service_key_file, "service_key_file", "pagerduty"
            )
            message: dict[str, Any] = {
                "service_key": render(service_key),
                "incident_key": key,
                "event_type": action,
                "description": description,
                # Go's struct has these without omitempty: v1 events carry them empty.
                "event_action": "",
                "payload": None,
            }
            if action == "trigger":
                message["client"] = render(cfg.client)
                message["client_url"] = render(cfg.client_url)
            message["details"] = details
            if not message["service_key"]:
                raise NotifyError("pagerduty: service key cannot be empty", retry=False)
        else:
            summary, cut = truncate_runes(render(cfg.description), MAX_SUMMARY_RUNES)
            if cut:
                log.warning("pagerduty: truncated summary to %d runes", MAX_SUMMARY_RUNES)
            routing_key = cfg.routing_key or read_secret(
                cfg.routing_key_file, "routing_key_file", "pagerduty"
            )
            payload = {
                "summary": summary,
                "source": render(cfg.source),
                "severity": render(cfg.severity or "error"),
                "class": render(cfg.class_),
                "component": render(cfg.component),
                "group": render(cfg.group),
                "custom_details": details,
            }
            images = [
                {"src": render(i.src), "alt": render(i.alt), "href": render(i.href)}
                for i in cfg.images
            ]
            links = [{"href": render(li.href), "text": render(li.text)} for li in cfg.links]
            message = {
                "routing_key": render(routing_key),
                "dedup_key": key,
                "event_action": action,
                "payload": _omit_empty(payload, ("class", "component", "group", "custom_details")),
                "client": render(cfg.client),
                "client_url": render(cfg.client_url),
                "images": [i for i in images if i["src"]],
                "links": [li for li in links if li["href"]],
            }
            if not message["routing_key"]:
                raise NotifyError("pagerduty: routing key cannot be empty", retry=False)
        return _omit_empty(
            message,
            (
                "routing_key",
                "service_key",
                "client",
                "client_url",
                "details",
                "images",
                "links",
            ),
        )

    def fit(self, event: dict[str, Any]) -> dict[str, Any]:
        """``event``, its details replaced by a note when it exceeds PagerDuty's 512 kB."""
        try:
            size = len(go_json(event).encode()) + 1
        except ValueError as exc:
            raise NotifyError(
                f"pagerduty: failed to encode PagerDuty message: {exc}", retry=False
            ) from None
        if size <= MAX_EVENT_BYTES:
            return event
        log.warning(
            "pagerduty: truncated details because the event of %d bytes exceeds %d",
            size,
            MAX_EVENT_BYTES,
        )
        if self.v1:
            return {**event, "details": {"error": _TOO_LARGE}}
        return {**event, "payload": {**event["payload"], "custom_details": {"error": _TOO_LARGE}}}

    async def send(self, notification: Notification) -> None:
        """Post the event; ``NotifyError`` says whether PagerDuty asked for a retry."""
        cfg = self.config
        event = self.fit(self.event(notification))
        url = self.v1_url if self.v1 else cfg.url or ""
        timeout = cfg.timeout_ns / 1e9 if cfg.timeout_ns else DEFAULT_TIMEOUT_S
        headers = request_headers(cfg.http_config)
        client = open_client(
            cfg.http_config, timeout_s=timeout, transport=self.transport, integration="pagerduty"
        )
        async with client as c:
            response = await post_json(c, url, event, headers=headers, integration="pagerduty")
        check_status(
            "pagerduty",
            response,
            retry_codes=(403,) if self.v1 else (429,),
            details=error_details,
        )


def error_details(status: int, body: bytes) -> str:
    """What PagerDuty says about a 400 (``message: error,error``); ``""`` for anything else.

    Never raises: a body that is not PagerDuty's error object says nothing.
    """
    if status != 400:
        return ""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    if not isinstance(data, dict):
        return ""
    message = data.get("message", "")
    errors = data.get("errors", [])
    if errors is None:
        errors = []
    if not isinstance(message, str) or not isinstance(errors, list):
        return ""
    if not all(isinstance(e, str) for e in errors):
        return ""
    return f"{message}: {','.join(errors)}"


def render_details(details: dict[str, Any], render: Callable[[str], str]) -> dict[str, Any]:
    """``details`` with every string (keys too) rendered, at any depth.

    A rendered string that reads as YAML of another kind than a string (a number, a list, a
    map) takes that value; Go-typed the way Alertmanager's yaml.v2 reads it.
    """
    out = _deep_render(details, render)
    assert isinstance(out, dict)
    return out


def _deep_render(value: Any, render: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        text = render(value)
        parsed = read_yaml_value(text)
        return text if isinstance(parsed, str) else parsed
    if isinstance(value, list | tuple):
        return [_deep_render(v, render) for v in value]
    if isinstance(value, dict):
        # Go ranges a map in random order and encodes it sorted; sorting here gives the same.
        rendered = {
            render(k): _deep_render(v, render) for k, v in value.items() if isinstance(k, str)
        }
        return dict(sorted(rendered.items()))
    return value


class _GoYAMLLoader(yaml.SafeLoader):
    """PyYAML reading plain scalars the way Go's yaml.v2 does for an ``interface{}``."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        # An alias can make a small text expand enormously once encoded; Spyglass keeps such a
        # text a string rather than build it.
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("aliases are not read in details")
        return super().compose_node(parent, index)


# Only the str constructor is left to decide: every plain scalar arrives there untyped.
_GoYAMLLoader.yaml_implicit_resolvers = {}


def _construct_str(loader: _GoYAMLLoader, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node))
    return _resolve_plain(text) if node.style is None else text


_GoYAMLLoader.add_constructor("tag:yaml.org,2002:str", _construct_str)

_TRUE = ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")
_FALSE = ("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")
_BOOLS = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}
_SPECIAL: dict[str, Any] = {
    **_BOOLS,
    **dict.fromkeys(("", "~", "null", "Null", "NULL")),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_GO_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_DATE = re.compile(r"[0-9]{4}-")


def _resolve_plain(text: str) -> Any:
    """A plain scalar as yaml.v2 types it: bool, null, int, float, else the string."""
    if text in _SPECIAL:
        return _SPECIAL[text]
    if not text or text[0] not in "+-0123456789.":
        return text
    if text[0] == ".":
        return _float(text) if _YAML_FLOAT.fullmatch(text) else text
    # yaml.v2 keeps a timestamp-looking scalar a string in an interface{}.
    if _DATE.match(text):
        return text
    plain = text.replace("_", "")
    if _GO_INT.fullmatch(plain):
        number = _go_int(plain)
        if -(2**63) <= number < 2**64:
            return number
    if _YAML_FLOAT.fullmatch(plain):
        return _float(plain)
    return text


def _go_int(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-").lower()
    if digits.startswith(("0x", "0o", "0b")):
        return sign * int(digits[2:], {"x": 16, "o": 8, "b": 2}[digits[1]])
    if len(digits) > 1 and digits.startswith("0"):
        return sign * int(digits, 8)
    return sign * int(digits)


def _float(text: str) -> float | int:
    value = float(text)
    # Go's encoding/json writes an integral float64 as an integer; so does Python for an int.
    if math.isfinite(value) and value == int(value) and abs(value) < 1e21:
        return int(value)
    return value


def read_yaml_value(text: str) -> Any:
    """``text`` read as one YAML value the way Alertmanager reads a rendered detail.

    Text that is not YAML, or is a YAML string, comes back as ``text`` itself; maps keep only
    their string keys, as Alertmanager's normalisation does.
    """
    try:
        value = yaml.load(text, Loader=_GoYAMLLoader)  # noqa: S506 - a SafeLoader subclass
    except (yaml.YAMLError, RecursionError, ValueError):
        return text
    if isinstance(value, str):
        return text
    try:
        return _normalize(value)
    except TypeError:
        # Explicit tags (!!binary, !!timestamp, !!set) give values JSON has no form for.
        return text


def _normalize(value: Any) -> Any:
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    if isinstance(value, dict):
        return dict(sorted((k, _normalize(v)) for k, v in value.items() if isinstance(k, str)))
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(type(value).__name__)


def _omit_empty(fields: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k not in keys or v}


def build_pagerduty(config: PagerdutyConfig, env: SenderEnv) -> PagerdutySender:
    """The sender of one ``pagerduty_configs`` entry (``global:`` already handed down)."""
    if config.http_config is not None and config.http_config.oauth2 is not None:
        raise NotifyError("http_config.oauth2 is not supported by Spyglass yet", retry=False)
    return PagerdutySender(config, env)


SENDER_BUILDERS["pagerduty_configs"] = build_pagerduty

__all__ = [
    "MAX_EVENT_BYTES",
    "MAX_SUMMARY_RUNES",
    "V1_URL",
    "PagerdutySender",
    "build_pagerduty",
    "dedup_key",
    "error_details",
    "read_yaml_value",
    "render_details",
]
