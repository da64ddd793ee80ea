"""A deterministic corpus of JSON web-service logs with a known set of templates.

Eight services write what real ones do: one line per request (``GET /api/orders/8812
responded 200 in 35ms``, at info, warn for 4xx, error for 5xx), database errors, upstream
timeouts, Python tracebacks, login events, background jobs, cache events, a web server's access
log (nearly every token a value) and everyday events (start-up, retries, circuit breakers,
queues, slow queries with their SQL, ...). Every line is a JSON object with ``ts``, ``level``,
``message``, usually ``user_id`` and ``trace_id``; the stream labels are ``service_name`` and
``env``. Parameters vary line by line (ids, durations, IPs, UUIDs, hex transaction ids, quoted
values of any length) the way real ones do.

The corpus has two periods of equal length, a *baseline* and a *window*. Each template (a
service, a level and a message shape) writes the same number of lines in both, at random times,
so nothing in the steady traffic is new or growing; on top of that, one template appears only in
the window (``NEW_KEY``) and one writes six times as many lines in the window as in the baseline
(``GROWING_KEY``). Every line carries the key of the template it was made from, so tests count
lines per template without the miner.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

# 2026-01-01T00:00:00Z: a fixed origin keeps the corpus the same on every run.
ORIGIN_NS = 1_767_225_600 * 10**9
PERIOD_NS = 1800 * 10**9
USERS = 400

NEW_KEY = ("checkout", "error", "payment-declined")
GROWING_KEY = ("api", "warn", "pool-exhausted")
NEW_COUNT = 41
GROWING_BASELINE = 15
GROWING_WINDOW = 90


@dataclass(frozen=True, slots=True)
class CorpusLine:
    """One generated line and the template key it was made from."""

    timestamp_ns: int
    service: str
    level: str
    line: str
    key: tuple[str, str, str]  # (service, level, template name)
    user: str  # "" when the line names no user

    @property
    def labels(self) -> dict[str, str]:
        return {"service_name": self.service, "env": "prod"}


@dataclass(frozen=True, slots=True)
class _Template:
    service: str
    level: str
    name: str
    per_period: int
    make: Callable[[random.Random], str]
    has_user: bool = True


ROUTES: dict[str, list[tuple[str, str]]] = {
    "api": [
        ("GET", "/api/orders/{n}"),
        ("GET", "/api/orders"),
        ("POST", "/api/orders"),
        ("DELETE", "/api/orders/{n}"),
        ("GET", "/api/products/{n}"),
        ("GET", "/api/products"),
        ("PUT", "/api/products/{n}"),
        ("GET", "/api/customers/{n}/addresses"),
        ("POST", "/api/customers/{n}/addresses"),
        ("GET", "/api/inventory/{n}"),
        ("PATCH", "/api/inventory/{n}"),
        ("GET", "/api/health"),
    ],
    "checkout": [
        ("POST", "/checkout/carts"),
        ("GET", "/checkout/carts/{uuid}"),
        ("POST", "/checkout/carts/{uuid}/items"),
        ("DELETE", "/checkout/carts/{uuid}/items/{n}"),
        ("POST", "/checkout/carts/{uuid}/pay"),
        ("GET", "/checkout/shipping-options"),
        ("POST", "/checkout/coupons/validate"),
    ],
    "auth": [
        ("POST", "/auth/login"),
        ("POST", "/auth/logout"),
        ("POST", "/auth/token/refresh"),
        ("GET", "/auth/me"),
        ("POST", "/auth/password/reset"),
        ("GET", "/auth/sessions"),
    ],
    "search": [
        ("GET", "/search"),
        ("GET", "/search/suggest"),
        ("GET", "/search/facets"),
        ("POST", "/search/reindex/{n}"),
    ],
    "gateway": [
        ("GET", "/static/app.js"),
        ("GET", "/static/app.css"),
        ("GET", "/favicon.ico"),
        ("GET", "/"),
        ("GET", "/robots.txt"),
    ],
}
UPSTREAMS = ["payments", "inventory", "shipping", "recommendations", "tax", "email", "fraud"]
TABLES = ["orders", "order_items", "customers", "products", "carts", "sessions"]
JOBS = ["send_email", "rebuild_index", "expire_carts", "sync_inventory", "charge_subscriptions"]
EXCEPTIONS = [
    ("ZeroDivisionError", "division by zero", "total = amount / count"),
    ("KeyError", "'customer_id'", "customer = payload['customer_id']"),
    ("ValueError", "invalid literal for int() with base 10: 'abc'", "qty = int(raw)"),
    ("AttributeError", "'NoneType' object has no attribute 'id'", "owner = cart.owner.id"),
    ("TimeoutError", "timed out", "resp = client.get(url)"),
]


SERVICES = ["api", "checkout", "auth", "search", "gateway", "worker", "billing", "notifications"]
_HOSTS = ["db-1.internal", "redis-2.internal", "smtp.example.com", "api.partner.io"]
_QUEUES = ["emails", "invoices", "webhooks", "exports"]
# Everyday events every service writes, each with its own first words (Drain routes on them).
EVENTS: list[tuple[str, str, Callable[[random.Random], str]]] = [
    (
        "info",
        "startup",
        lambda r: (
            f"starting server on port {r.choice([8000, 8080, 9000])} with {r.randint(1, 16)} "
            "workers"
        ),
    ),
    (
        "info",
        "shutdown",
        lambda r: (
            f"shutting down after {r.randint(1, 90)}h of uptime, draining {r.randint(0, 50)} "
            "connections"
        ),
    ),
    (
        "info",
        "config",
        lambda r: f"config reloaded from /etc/app/{r.choice(['app', 'flags', 'limits'])}.yaml",
    ),
    (
        "debug",
        "flag",
        lambda r: (
            f"feature flag {r.choice(['new_checkout', 'dark_mode', 'fast_search'])} evaluated to "
            f"{r.choice(['true', 'false'])}"
        ),
    ),
    (
        "warn",
        "rate-limit",
        lambda r: (
            f"rate limit exceeded for client {_ip(r)}, {r.randint(100, 999)} requests in the last "
            "minute"
        ),
    ),
    (
        "warn",
        "retry",
        lambda r: (
            f"retrying call to {r.choice(UPSTREAMS)} in {r.randint(1, 30)}s after HTTP "
            f"{r.choice([502, 503, 504])}"
        ),
    ),
    (
        "error",
        "breaker-open",
        lambda r: (
            f"circuit breaker for {r.choice(UPSTREAMS)} opened after {r.randint(5, 50)} "
            "consecutive failures"
        ),
    ),
    ("info", "breaker-closed", lambda r: f"circuit breaker for {r.choice(UPSTREAMS)} closed"),
    (
        "warn",
        "queue-depth",
        lambda r: (
            f"queue {r.choice(_QUEUES)} depth is {r.randint(1000, 99999)}, above its threshold of "
            "1000"
        ),
    ),
    (
        "warn",
        "slow-query",
        lambda r: f"slow query took {r.randint(1, 20)}.{r.randint(0, 9)}s: '{r.choice(_SQL)}'",
    ),
    (
        "info",
        "ws-closed",
        lambda r: f"websocket from {_ip(r)} closed with code {r.choice([1000, 1001, 1006])}",
    ),
    (
        "error",
        "tls-expiry",
        lambda r: f"tls certificate for {r.choice(_HOSTS)} expires in {r.randint(1, 9)} days",
    ),
    ("debug", "gc", lambda r: f"gc pause of {r.randint(1, 400)}ms, heap {r.randint(50, 900)} MiB"),
    ("warn", "memory", lambda r: f"memory usage at {r.randint(80, 99)}% of the container limit"),
    (
        "warn",
        "body-size",
        lambda r: f"request body too large: {r.randint(10**6, 10**8)} bytes, limit is 1048576",
    ),
    (
        "warn",
        "bad-json",
        lambda r: (
            f"invalid JSON in request body at position {r.randint(0, 4000)}: unexpected character"
        ),
    ),
    (
        "info",
        "session-expired",
        lambda r: (
            f"session {r.getrandbits(64):016x} expired after {r.randint(15, 120)}m of inactivity"
        ),
    ),
    (
        "error",
        "bad-signature",
        lambda r: f"token signature invalid for key id {r.getrandbits(40):010x}",
    ),
    (
        "error",
        "webhook",
        lambda r: (
            f"webhook delivery to https://{r.choice(_HOSTS)}/hooks failed with status "
            f"{r.choice([400, 404, 500, 502])}"
        ),
    ),
    (
        "info",
        "cache-ratio",
        lambda r: (
            f"cache hit ratio {r.randint(50, 99)}.{r.randint(0, 9)}% over the last "
            f"{r.choice([1, 5, 15])}m"
        ),
    ),
    (
        "info",
        "notify",
        lambda r: f"sending notification {_uuid(r)} to {r.randint(1, 5000)} subscribers",
    ),
    (
        "error",
        "disk",
        lambda r: (
            f"disk {r.choice(['/var/lib/app', '/tmp', '/data'])} is {r.randint(90, 100)}% full"
        ),
    ),
    (
        "info",
        "migration",
        lambda r: (
            "applied migration "
            f"{r.randint(1, 300):04d}_{r.choice(['add_index', 'drop_column', 'backfill'])} in "
            f"{r.randint(1, 9000)}ms"
        ),
    ),
    (
        "warn",
        "dns",
        lambda r: (
            f"dns lookup for {r.choice(_HOSTS)} failed: no such host, using cached address {_ip(r)}"
        ),
    ),
    (
        "error",
        "panic",
        lambda r: (
            f"recovered from panic in goroutine {r.randint(1, 9999)}: runtime error: index out of "
            f"range [{r.randint(1, 9)}] with length {r.randint(0, 1)}"
        ),
    ),
]


_SQL = [
    "SELECT * FROM orders WHERE id = $1",
    "SELECT id, total FROM carts WHERE owner = $1 AND closed_at IS NULL",
    "UPDATE sessions SET seen_at = now()",
    "DELETE FROM cart_items WHERE cart_id = $1",
]
_AGENTS = [
    "curl/8.5.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148",
    "kube-probe/1.31",
    "python-httpx/0.28.1",
]
_STATIC = ["/static/app.js", "/static/app.css", "/favicon.ico", "/", "/robots.txt", "/img/logo.svg"]


def _access(rng: random.Random) -> str:
    """A combined-format access log line: nearly every token is a value."""
    day = f"{rng.randint(1, 28):02d}/Dec/2026:{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
    return (
        f'{_ip(rng)} - - [{day}:{rng.randint(0, 59):02d} +0000] "{rng.choice(["GET", "HEAD"])} '
        f'{rng.choice(_STATIC)} HTTP/1.1" {rng.choice([200, 304])} {rng.randint(0, 90000)} '
        f'"-" "{rng.choice(_AGENTS)}"'
    )


def _n(rng: random.Random) -> str:
    return str(rng.randint(1, 99_999))


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _ms(rng: random.Random, low: int, high: int) -> str:
    return f"{rng.randint(low, high)}ms"


def _ip(rng: random.Random) -> str:
    return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _path(rng: random.Random, route: str) -> str:
    return route.replace("{n}", _n(rng)).replace("{uuid}", _uuid(rng))


def _templates() -> list[_Template]:
    out: list[_Template] = []
    counts = random.Random(7)  # how many lines each template writes per period

    def add(
        service: str, level: str, name: str, make: Callable[[random.Random], str], **kw: bool
    ) -> None:
        out.append(_Template(service, level, name, counts.randint(4, 40), make, **kw))

    for service, routes in ROUTES.items():
        for method, route in routes:
            for level, statuses in (
                ("info", (200, 201, 204, 304)),
                ("warn", (400, 401, 404, 409, 422)),
                ("error", (500, 502, 503)),
            ):

                def request(
                    rng: random.Random,
                    m: str = method,
                    r: str = route,
                    s: tuple[int, ...] = statuses,
                ) -> str:
                    return f"{m} {_path(rng, r)} responded {rng.choice(s)} in {_ms(rng, 1, 900)}"

                add(service, level, f"{method} request", request, has_user=service != "gateway")
    for service in ("api", "checkout", "auth"):
        kinds: list[tuple[str, Callable[[random.Random], str]]] = [
            (
                "deadlock",
                lambda rng: (
                    f"database deadlock detected on table {rng.choice(TABLES)} "
                    f"(txn 0x{rng.getrandbits(32):08x}), transaction rolled back"
                ),
            ),
            (
                "serialize",
                lambda rng: (
                    f"could not serialize access to {rng.choice(TABLES)} due to concurrent update"
                ),
            ),
            (
                "unique",
                lambda rng: (
                    f'duplicate key value violates unique constraint "{rng.choice(TABLES)}_pkey"'
                ),
            ),
            (
                "conn-reset",
                lambda rng: (
                    f"lost connection to postgres at {_ip(rng)}:5432: connection reset by peer"
                ),
            ),
        ]
        for kind, make in kinds:
            add(service, "error", f"db-{kind}", make)
        for upstream in UPSTREAMS:

            def timeout(rng: random.Random, u: str = upstream) -> str:
                return (
                    f"upstream {u} timed out after {rng.choice(['5s', '10s', '30s'])} (attempt "
                    f"{rng.randint(1, 3)} of 3)"
                )

            add(service, "error", "upstream-timeout", timeout)
        for exc, text, code in EXCEPTIONS:

            def traceback(rng: random.Random, e: str = exc, t: str = text, c: str = code) -> str:
                module = rng.choice(["orders", "carts", "customers"])
                return (
                    f"unhandled {e} in {module}.handlers.{rng.choice(['create', 'update'])}\n"
                    "Traceback (most recent call last):\n"
                    f'  File "/app/{module}/handlers.py", line {rng.randint(10, 400)}, in handle\n'
                    f"    {c}\n"
                    f"{e}: {t}"
                )

            add(service, "error", f"traceback-{exc}", traceback)
    add(
        "auth",
        "warn",
        "login-failed",
        lambda rng: (
            f"login failed for {rng.randint(1, 999)} attempts from {_ip(rng)}: bad password"
        ),
    )
    add(
        "auth",
        "info",
        "login-ok",
        lambda rng: (
            f"login succeeded from {_ip(rng)} with method {rng.choice(['password', 'sso'])}"
        ),
    )
    add(
        "auth",
        "info",
        "token-issued",
        lambda rng: f"issued access token {rng.getrandbits(64):016x} valid for 15m",
    )
    for job in JOBS:

        def started(rng: random.Random, j: str = job) -> str:
            return f"job {j} {_uuid(rng)} started"

        def finished(rng: random.Random, j: str = job) -> str:
            return (
                f"job {j} {_uuid(rng)} finished in {rng.randint(1, 90)}.{rng.randint(0, 9)}s, "
                f"processed {rng.randint(0, 5000)} items"
            )

        def failed(rng: random.Random, j: str = job) -> str:
            return (
                f"job {j} {_uuid(rng)} failed permanently after {rng.randint(3, 5)} retries: "
                "'worker lost'"
            )

        add("worker", "info", "job-started", started, has_user=False)
        add("worker", "info", "job-finished", finished, has_user=False)
        add("worker", "error", "job-failed", failed, has_user=False)
    for service in ("api", "search"):
        add(
            service,
            "debug",
            "cache-miss",
            lambda rng: (
                f"cache miss for key {rng.choice(['product', 'cart', 'facet'])}:{_n(rng)}, loading "
                "from database"
            ),
        )
        add(
            service,
            "info",
            "cache-evict",
            lambda rng: (
                f"cache evicted {rng.randint(1, 500)} entries, size now {rng.randint(1, 64)}MB"
            ),
        )
    add("gateway", "info", "access-log", _access, has_user=False)
    for service in SERVICES:
        for level, name, make in EVENTS:
            add(service, level, name, make, has_user=False)
    add(
        "checkout",
        "error",
        NEW_KEY[2],
        lambda rng: f"payment provider acme declined card for order {_n(rng)}: insufficient funds",
    )
    add(
        "api",
        "warn",
        GROWING_KEY[2],
        lambda rng: (
            f"connection pool exhausted, waited {_ms(rng, 100, 5000)} for one of "
            f"{rng.choice([10, 20])} connections"
        ),
    )
    return out


TEMPLATES = _templates()


def _count(t: _Template, window: bool) -> int:
    key = (t.service, t.level, t.name)
    if key == NEW_KEY:
        return NEW_COUNT if window else 0
    if key == GROWING_KEY:
        return GROWING_WINDOW if window else GROWING_BASELINE
    return t.per_period


def _json_line(rng: random.Random, t: _Template, ts: int, user: str) -> str:
    doc: dict[str, object] = {
        "ts": datetime.fromtimestamp(ts / 1e9, UTC).isoformat(timespec="milliseconds"),
        "level": t.level,
        "message": t.make(rng),
        "trace_id": f"{rng.getrandbits(128):032x}",
    }
    if user:
        doc["user_id"] = user
    return json.dumps(doc)


def generate(seed: int = 1) -> list[CorpusLine]:
    """Both periods' lines, oldest first: the baseline is ``[ORIGIN_NS, ORIGIN_NS + PERIOD_NS)``
    and the window the period after it."""
    rng = random.Random(seed)
    lines: list[CorpusLine] = []
    for window in (False, True):
        start = ORIGIN_NS + (PERIOD_NS if window else 0)
        for t in TEMPLATES:
            for _ in range(_count(t, window)):
                ts = start + rng.randrange(PERIOD_NS)
                user = f"u{rng.randint(1, USERS)}" if t.has_user and rng.random() < 0.8 else ""
                line = _json_line(rng, t, ts, user)
                lines.append(
                    CorpusLine(ts, t.service, t.level, line, (t.service, t.level, t.name), user)
                )
    lines.sort(key=lambda c: c.timestamp_ns)
    return lines


def window(lines: list[CorpusLine]) -> list[CorpusLine]:
    """The lines of the window period."""
    return [c for c in lines if c.timestamp_ns >= ORIGIN_NS + PERIOD_NS]


def counts(lines: list[CorpusLine]) -> Counter[tuple[str, str, str]]:
    """Lines per template key."""
    return Counter(c.key for c in lines)


__all__ = [
    "GROWING_KEY",
    "NEW_KEY",
    "ORIGIN_NS",
    "PERIOD_NS",
    "TEMPLATES",
    "CorpusLine",
    "counts",
    "generate",
    "window",
]
