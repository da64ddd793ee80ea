"""Silences end to end: the real amtool against a real ``spyglass serve``, and the same requests
sent to the real Alertmanager (Debian's 0.25) and to Spyglass, answered alike.

- amtool adds, queries (table, ``-q``, by matcher, ``--expired``), updates, imports and expires
  silences on Spyglass, with the output and exit codes a user sees.
- Differential: amtool's output for the same commands, and the API's answers to the same valid
  and invalid silences, are the same on both once ids and times are masked; the one deliberate
  difference (DELETE of an unknown id) is pinned too.
- A silence survives a restart of Spyglass on the same data directory.
- amtool lists a one-off maintenance window and cannot expire it.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from tests.support.required import need_alertmanager, need_amtool
from tests.support.servers import Server, alertmanager, free_port, spyglass

from spyglass.alerting import Silences, load_alertmanager_config
from spyglass.server.api.silences import SilencesAPI
from spyglass.storage.state import open_state_store

AM_CONFIG = "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?( UTC|Z)?")


@pytest.fixture(scope="module")
def spyglass_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with spyglass(tmp_path_factory.mktemp("spyglass") / "data") as server:
        yield server


@pytest.fixture(scope="module")
def am_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    binary = need_alertmanager()
    with alertmanager(binary, tmp_path_factory.mktemp("alertmanager"), AM_CONFIG) as server:
        yield server


def amtool(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [need_amtool(), f"--alertmanager.url={server.url}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def ids(text: str) -> list[str]:
    return _UUID.findall(text)


def masked(text: str) -> str:
    """Output with ids and times replaced, so two servers' answers compare."""
    return _TIME.sub("<time>", _UUID.sub("<id>", text))


def test_amtool_manages_silences_on_spyglass(spyglass_server: Server, tmp_path: Path) -> None:
    add = amtool(spyglass_server, "silence", "add", "alertname=Foo", "--comment=db upgrade",
                 "--duration=1h", "--author=alice")  # fmt: skip
    assert add.returncode == 0, add.stderr
    [sid] = ids(add.stdout)
    other = amtool(spyglass_server, "silence", "add", 'job=~"api|web"', "severity!=info",
                   "--comment=noisy", "--duration=2h", "--author=bob")  # fmt: skip
    assert other.returncode == 0, other.stderr
    [oid] = ids(other.stdout)

    query = amtool(spyglass_server, "silence", "query")
    assert query.returncode == 0, query.stderr
    lines = query.stdout.splitlines()
    assert lines[0].split() == ["ID", "Matchers", "Ends", "At", "Created", "By", "Comment"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {sid, oid}
    assert 'alertname="Foo"' in rows[sid]
    assert "alice" in rows[sid]
    assert "db upgrade" in rows[sid]
    assert 'job=~"api|web" severity!="info"' in rows[oid]

    assert amtool(spyglass_server, "silence", "query", "-q").stdout.split() == [sid, oid]
    by_matcher = amtool(spyglass_server, "silence", "query", "-q", "alertname=Foo")
    assert by_matcher.stdout.split() == [sid]
    assert amtool(spyglass_server, "silence", "query", "-q", "alertname=Bar").stdout == ""

    update = amtool(spyglass_server, "silence", "update", sid, "--comment=db upgrade, longer",
                    "--duration=3h")  # fmt: skip
    assert update.returncode == 0, update.stderr
    assert ids(update.stdout) == [sid]  # an active silence with the same matchers keeps its id
    shown = httpx.get(f"{spyglass_server.url}/api/v2/silence/{sid}").json()
    assert shown["comment"] == "db upgrade, longer"

    exported = tmp_path / "silences.json"
    exported.write_text(amtool(spyglass_server, "silence", "query", "-o", "json").stdout)
    assert {s["id"] for s in json.loads(exported.read_text())} == {sid, oid}
    imported = amtool(spyglass_server, "silence", "import", str(exported))
    assert imported.returncode == 0, imported.stderr

    metrics = httpx.get(f"{spyglass_server.url}/metrics").text
    assert 'alertmanager_silences{state="active"} 2.0' in metrics

    expire = amtool(spyglass_server, "silence", "expire", sid)
    assert (expire.returncode, expire.stdout) == (0, "")
    assert amtool(spyglass_server, "silence", "query", "-q").stdout.split() == [oid]
    expired = amtool(spyglass_server, "silence", "query", "-q", "--expired")
    assert sid in expired.stdout.split()
    amtool(spyglass_server, "silence", "expire", oid)


def test_amtool_prints_the_same_on_spyglass_and_alertmanager(
    spyglass_server: Server, am_server: Server
) -> None:
    steps: list[tuple[str, ...]] = [
        ("silence", "add", "service=checkout", 'env=~"prod|staging"', "--comment=diff",
         "--duration=1h", "--author=carol"),
        ("silence", "add", 'service=~".*"', "--comment=too broad", "--duration=1h"),
        ("silence", "add", 'service=~"("', "--comment=bad regex", "--duration=1h"),
        ("silence", "add", "service=checkout", "--comment=ends first",
         "--end=2000-01-01T00:00:00Z"),
        ("silence", "query", "service=checkout"),
        ("silence", "query", "-q", "service=nothing"),
        ("silence", "query", "-o", "json", "service=checkout"),
    ]  # fmt: skip
    for step in steps:
        ours, theirs = amtool(spyglass_server, *step), amtool(am_server, *step)
        assert ours.returncode == theirs.returncode, (step, ours.stderr, theirs.stderr)
        assert masked(ours.stdout) == masked(theirs.stdout), step
        assert masked(ours.stderr) == masked(theirs.stderr), step
    for server in (spyglass_server, am_server):
        for sid in amtool(server, "silence", "query", "-q", "service=checkout").stdout.split():
            assert amtool(server, "silence", "expire", sid).returncode == 0


def _now(offset_s: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset_s))


def _silence(**fields: Any) -> dict[str, Any]:
    silence: dict[str, Any] = {
        "matchers": [
            {"name": "service", "value": "checkout", "isRegex": False},
            {"name": "env", "value": "prod|staging", "isRegex": True},
            {"name": "severity", "value": "info", "isRegex": False, "isEqual": False},
            {"name": "team", "value": "pay.*", "isRegex": True, "isEqual": False},
        ],
        "startsAt": _now(-60),
        "endsAt": _now(3600),
        "createdBy": "differential",
        "comment": "same on both",
    }
    silence.update(fields)
    return {k: v for k, v in silence.items() if v is not ...}


def _answer(
    server: Server,
    method: str,
    path: str,
    body: object = ...,
    content_type: str = "application/json",
) -> tuple[int, str]:
    content = None if body is ... else json.dumps(body) if not isinstance(body, bytes) else body
    headers = {"Content-Type": content_type} if content is not None and content_type else {}
    r = httpx.request(
        method, f"{server.url}/api/v2{path}", content=content, headers=headers, timeout=30
    )
    return r.status_code, r.text


INVALID: list[tuple[str, object]] = [
    ("no comment", _silence(comment=...)),
    ("no createdBy", _silence(createdBy=...)),
    ("no matchers", _silence(matchers=...)),
    ("empty matchers", _silence(matchers=[])),
    ("matcher without isRegex", _silence(matchers=[{"name": "a", "value": "b"}])),
    ("no startsAt", _silence(startsAt=...)),
    ("empty object", {}),
    ("null", None),
    ("empty body", b""),
    ("all match empty", _silence(matchers=[{"name": "a", "value": "", "isRegex": False}])),
    ("regex matches empty", _silence(matchers=[{"name": "a", "value": "x*", "isRegex": True}])),
    ("bad regex", _silence(matchers=[{"name": "a", "value": "(", "isRegex": True}])),
    ("start after end", _silence(startsAt=_now(7200), endsAt=_now(3600))),
    ("start equals end", _silence(startsAt=_now(3600), endsAt=_now(3600))),
    ("end in the past", _silence(startsAt=_now(-7200), endsAt=_now(-3600))),
    ("unknown id", _silence(id=str(uuid.uuid4()))),
    ("id that is no uuid", _silence(id="nope")),
]
# Bodies Go and Python cannot fail to decode with the same words: the status and the shape
# match, the reason is each decoder's own.
MALFORMED: list[tuple[str, bytes]] = [
    ("not json", b"not json"),
    ("an array", b"[1]"),
    ("a number for createdBy", json.dumps(_silence(createdBy=5)).encode()),
    ("a string for isRegex", json.dumps(
        _silence(matchers=[{"name": "a", "value": "b", "isRegex": "no"}])).encode()),
    ("a time that is none", json.dumps(_silence(startsAt="yesterday")).encode()),
]  # fmt: skip


def _shape(text: str) -> object:
    """A GettableSilence with its id and times masked."""
    value = json.loads(text)
    for key in ("id", "updatedAt", "startsAt", "endsAt"):
        value[key] = "<masked>"
    return value


def test_the_api_answers_alike_on_spyglass_and_alertmanager(
    spyglass_server: Server, am_server: Server
) -> None:
    created = {}
    for name, server in (("spyglass", spyglass_server), ("alertmanager", am_server)):
        status, text = _answer(server, "POST", "/silences", _silence())
        assert status == 200, (name, text)
        created[name] = json.loads(text)["silenceID"]
    ours = _answer(spyglass_server, "GET", f"/silence/{created['spyglass']}")
    theirs = _answer(am_server, "GET", f"/silence/{created['alertmanager']}")
    assert ours[0] == theirs[0] == 200
    assert _shape(ours[1]) == _shape(theirs[1])
    assert list(json.loads(ours[1])) == list(json.loads(theirs[1]))  # the same field order

    for what, body in INVALID:
        assert _answer(spyglass_server, "POST", "/silences", body) == _answer(
            am_server, "POST", "/silences", body
        ), what
    for what, raw in MALFORMED:
        ours, theirs = (_answer(s, "POST", "/silences", raw) for s in (spyglass_server, am_server))
        assert ours[0] == theirs[0] == 400, what
        assert json.loads(ours[1])["code"] == json.loads(theirs[1])["code"] == 400, what

    for content_type in ("", "text/plain", "garbage;;", "application/json; charset=utf-8"):
        assert _answer(spyglass_server, "POST", "/silences", {}, content_type) == _answer(
            am_server, "POST", "/silences", {}, content_type
        ), content_type
    for path in (f"/silence/{uuid.uuid4()}", "/silence/nope"):
        assert _answer(spyglass_server, "GET", path) == _answer(am_server, "GET", path), path
    assert _answer(spyglass_server, "DELETE", "/silence/nope") == _answer(
        am_server, "DELETE", "/silence/nope"
    )
    filtered = "/silences?filter=service%3D%22checkout%22&filter=env%3D~%22prod%7Cstaging%22"
    ours, theirs = (_answer(s, "GET", filtered) for s in (spyglass_server, am_server))
    assert [_shape(json.dumps(s)) for s in json.loads(ours[1])] == [
        _shape(json.dumps(s)) for s in json.loads(theirs[1])
    ]
    assert _answer(spyglass_server, "GET", "/silences?filter=bad") == _answer(
        am_server, "GET", "/silences?filter=bad"
    )

    # Expiring twice is fine on both (Alertmanager's expire is idempotent).
    for name, server in (("spyglass", spyglass_server), ("alertmanager", am_server)):
        for _ in range(2):
            assert _answer(server, "DELETE", f"/silence/{created[name]}") == (200, ""), name
    # The one deliberate difference: an unknown id is a 404, as Alertmanager 0.27+ answers;
    # 0.25 answered 500.
    unknown = f"/silence/{uuid.uuid4()}"
    assert _answer(spyglass_server, "DELETE", unknown) == (404, "")
    assert _answer(am_server, "DELETE", unknown) == (500, '"silence not found"\n')


def test_silences_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with spyglass(data) as server:
        add = amtool(server, "silence", "add", "alertname=Restart", "--comment=keep me",
                     "--duration=1h")  # fmt: skip
        assert add.returncode == 0, add.stderr
        [sid] = ids(add.stdout)
        before = httpx.get(f"{server.url}/api/v2/silence/{sid}").json()
    with spyglass(data) as server:
        assert httpx.get(f"{server.url}/api/v2/silence/{sid}").json() == before
        assert amtool(server, "silence", "query", "-q").stdout.split() == [sid]


def test_amtool_lists_a_maintenance_window_and_cannot_expire_it(tmp_path: Path) -> None:
    """The silences API on a real uvicorn, with a one-off window configured as alertmanager.yml
    would configure it: amtool shows it among the silences and gets the API's refusal."""
    config = load_alertmanager_config(
        "route: {receiver: ops}\nreceivers: [{name: ops}]\nspyglass:\n  maintenance_windows:\n"
        "    - name: db-upgrade\n      matchers: ['service=\"db\"']\n"
        "      comment: PostgreSQL 17\n"
        f"      start: {_now(-60)}\n      end: {_now(3600)}\n"
    )
    port = free_port()
    with open_state_store("", tmp_path) as state:
        silences = Silences(state)
        silences.apply_config(config)
        server = uvicorn.Server(
            uvicorn.Config(
                Starlette(routes=SilencesAPI(silences).routes()),
                host="127.0.0.1",
                port=port,
                log_config=None,
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            while not server.started:
                assert thread.is_alive()
                time.sleep(0.02)
            url = Server(process=None, url=f"http://127.0.0.1:{port}", log=None)  # type: ignore[arg-type]
            query = amtool(url, "silence", "query")
            assert query.returncode == 0, query.stderr
            [row] = query.stdout.splitlines()[1:]
            assert row.split()[:2] == ["maintenance:db-upgrade", 'service="db"']
            assert "spyglass maintenance window" in row
            assert "PostgreSQL 17" in row
            expire = amtool(url, "silence", "expire", "maintenance:db-upgrade")
            assert expire.returncode == 1
            assert "change or remove it there" in expire.stderr
        finally:
            server.should_exit = True
            thread.join(timeout=30)
