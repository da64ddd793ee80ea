"""The web config in force (``--web-config-file``), and how changes to it take effect.

Prometheus' exporter-toolkit reads its web config again on every request and its certificate on
every TLS handshake, so an edited file applies at once. Spyglass gets the same effect more
cheaply: ``refresh`` (called per request, doing work at most once a second) compares the
modification time and size of the web config and of the certificate, key and client CA files it
names, and reloads when one changed; SIGHUP and ``POST /-/reload`` reload at once (``reload``).

What a reload changes: basic-auth users and response headers at once, and a new certificate and
key (rotation) for every connection opened afterwards. The rest of ``tls_server_config``
(turning TLS on or off, the client certificate policy, versions, ciphers) is fixed when the
listener starts: a change to it is logged and needs a restart. A file that no longer loads keeps
the config in force (the toolkit would answer 500 to every request instead), and the error is
logged once per change.
"""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from spyglass.core.config import WebConfig, load_web_config_file
from spyglass.core.errors import ConfigError
from spyglass.server.tls import load_certificate, server_context

log = logging.getLogger("spyglass.web")

CHECK_INTERVAL_S = 1.0
_Stamp = tuple[tuple[str, float, int], ...]


class WebConfigSource:
    """The loaded web config of ``path`` and the TLS context built from it.

    Construction loads the file (``ConfigError`` when it is wrong, so start-up fails naming
    file, line and field). ``clock`` is monotonic seconds (a fake one in tests).
    """

    def __init__(self, path: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.clock = clock
        self.config = load_web_config_file(path)
        self.ssl_context: ssl.SSLContext | None = None
        if self.config.tls.enabled:
            self.ssl_context = server_context(self.config.tls, path)
        self.reloads = 0
        self.last_error = ""
        self._stamp = self._stamps(self.config)
        self._next_check = clock() + CHECK_INTERVAL_S
        self._lock = threading.Lock()

    @property
    def tls(self) -> bool:
        """Whether the listener serves HTTPS."""
        return self.ssl_context is not None

    def refresh(self) -> WebConfig:
        """The config in force, reloaded first if a file changed (checked once a second)."""
        now = self.clock()
        if now < self._next_check:
            return self.config
        self._next_check = now + CHECK_INTERVAL_S
        if self._stamps(self.config) != self._stamp:
            with contextlib.suppress(ConfigError):  # logged by reload; the old config stays
                self.reload()
        return self.config

    def reload(self) -> None:
        """Read the files again now; ``ConfigError`` (old config kept) when they do not load."""
        with self._lock:
            stamp = self._stamps(self.config)
            try:
                config = load_web_config_file(self.path)
                if self.ssl_context is not None and config.tls.enabled:
                    # A scratch context first: a key that does not match would otherwise leave
                    # the live context with the new certificate and the old key.
                    load_certificate(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), config.tls, self.path)
                    load_certificate(self.ssl_context, config.tls, self.path)
            except ConfigError as exc:
                if str(exc) != self.last_error:
                    log.error("web config not reloaded, the previous one stays: %s", exc)
                self.last_error = str(exc)
                self._stamp = stamp  # do not retry until a file changes again
                raise
            if config.tls.enabled != self.config.tls.enabled or _fixed(config) != _fixed(
                self.config
            ):
                log.warning(
                    "web config: tls_server_config changed; a new certificate and key apply "
                    "to new connections, other TLS settings after a restart"
                )
            self.config = config
            self._stamp = self._stamps(config)
            self.last_error = ""
            self.reloads += 1

    def _stamps(self, config: WebConfig) -> _Stamp:
        out = []
        for path in (self.path, *config.tls.files):
            try:
                st = os.stat(path)
                out.append((path, st.st_mtime, st.st_size))
            except OSError:
                out.append((path, -1.0, -1))
        return tuple(out)


def _fixed(config: WebConfig) -> object:
    """The TLS settings a reload cannot change (all but the certificate and key)."""
    return replace(config.tls, cert="", key="", cert_file="", key_file="")


def check_web_config(path: str | Path) -> WebConfig:
    """Load ``path`` and its certificates as the server would (``spyglass check web-config``);
    ``ConfigError`` when something is wrong."""
    config = load_web_config_file(path)
    if config.tls.enabled:
        server_context(config.tls, str(path))
    return config


__all__ = ["CHECK_INTERVAL_S", "WebConfigSource", "check_web_config"]
