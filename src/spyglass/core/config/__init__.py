"""Configuration files: YAML with positions, and the ``prometheus.yml`` model.

``load_config_file``/``load_config`` read a user's Prometheus configuration unchanged and apply
Prometheus' defaults; every error is a ``ConfigError`` naming file, line and field.
``load_web_config_file`` reads the exporter-toolkit ``web.config.yml`` (TLS, basic auth and
headers of the HTTP listener). ``fields``
holds the typed reads (``Section`` and friends) that other config loaders build on.

Names load on first use (``spyglass.core.lazy``): a rule file reader needs ``Node`` alone.
"""

from typing import TYPE_CHECKING

from spyglass.core.lazy import lazy_exports

if TYPE_CHECKING:
    from spyglass.core.config._prometheus import (
        DEFAULT_SCRAPE_PROTOCOLS,
        SCRAPE_PROTOCOLS,
        AlertmanagerConfig,
        Authorization,
        BasicAuth,
        Config,
        FileSDConfig,
        GlobalConfig,
        OAuth2,
        ScrapeConfig,
        TargetGroup,
        TLSConfig,
        load_config,
        load_config_file,
    )
    from spyglass.core.config._redact import redact_secrets
    from spyglass.core.config._webconfig import (
        TLS_CIPHER_SUITES,
        TLS_CURVES,
        TLSServerConfig,
        WebConfig,
        load_web_config,
        load_web_config_file,
    )
    from spyglass.core.config._yaml import Node, load_yaml

__getattr__, __dir__ = lazy_exports(__name__, __file__)

__all__ = [
    "DEFAULT_SCRAPE_PROTOCOLS",
    "SCRAPE_PROTOCOLS",
    "TLS_CIPHER_SUITES",
    "TLS_CURVES",
    "AlertmanagerConfig",
    "Authorization",
    "BasicAuth",
    "Config",
    "FileSDConfig",
    "GlobalConfig",
    "Node",
    "OAuth2",
    "ScrapeConfig",
    "TLSConfig",
    "TLSServerConfig",
    "TargetGroup",
    "WebConfig",
    "load_config",
    "load_config_file",
    "load_web_config",
    "load_web_config_file",
    "load_yaml",
    "redact_secrets",
]
