"""Go's text/template for Spyglass: Prometheus rule templates and Alertmanager notifications.

Users bring Prometheus rule files whose labels and annotations are Go templates
(``{{ $labels.instance }} is down``, ``{{ $value | humanizePercentage }}``) and
``alertmanager.yml`` files with ``templates:`` and receiver fields
(``{{ range .Alerts.Firing }}...{{ end }}``). This package renders both the way Prometheus and
Alertmanager do, byte for byte, errors included (in Go's wording and positions).

- ``expand_alert_template`` expands one label or annotation of an alerting rule.
- ``TemplateSet`` holds Alertmanager's default templates plus a user's template files and
  renders receiver fields; ``notification_data`` builds the data they see.
- ``Template`` is the engine itself: a set of named templates, Go's builtins plus the functions
  given to it.

Data is plain Python: ``None`` is Go's nil, ``bool``/``int``/``float``/``str`` its basic types,
lists are slices, mappings are maps (printed and ranged in key order), other objects are
structs whose fields and methods templates reach by their Go names (``__go_fields__`` maps a Go
name to an attribute; without it ``.GeneratorURL`` finds ``generator_url``). A function's
annotations give its Go parameter types (``str`` is ``string``, ``float`` is ``float64``,
``object`` is ``interface {}``), so argument errors read as Go's; a function raises to fail.

An email's ``html`` field renders as html/template renders it: every value escaped for where it
lands (``_htmlescape``), followed as the output is written rather than decided before the run.

Not supported from Go: custom delimiters, complex and
unsigned integer types beyond what literals need, channels and iterator functions in
``range``, and the difference between a nil stored in a map and a missing key.
"""

from spyglass.core.errors import TemplateError
from spyglass.core.template._alertmanager import (
    KV,
    Alert,
    AlertInput,
    Alerts,
    Data,
    NotifiedAlert,
    Pair,
    Pairs,
    Strings,
    alertmanager_functions,
    fingerprint,
    notification_data,
    to_json,
)
from spyglass.core.template._gotime import GoDuration, GoTime, TimeError, parse_time
from spyglass.core.template._printing import format_float
from spyglass.core.template._prometheus import (
    QueryFunc,
    QuerySample,
    console_functions,
    expand_alert_template,
    prometheus_functions,
)
from spyglass.core.template._template import Template
from spyglass.core.template._templateset import TemplateSet
from spyglass.core.template._values import StringMap

__all__ = [
    "KV",
    "Alert",
    "AlertInput",
    "Alerts",
    "Data",
    "GoDuration",
    "GoTime",
    "NotifiedAlert",
    "Pair",
    "Pairs",
    "QueryFunc",
    "QuerySample",
    "StringMap",
    "Strings",
    "Template",
    "TemplateError",
    "TemplateSet",
    "TimeError",
    "alertmanager_functions",
    "console_functions",
    "expand_alert_template",
    "fingerprint",
    "format_float",
    "notification_data",
    "parse_time",
    "prometheus_functions",
    "to_json",
]
