"""``spyglass silence add|query|expire`` against a real ``spyglass serve`` and the real
Alertmanager: the same commands work on both, print what a user checks, and fail with the
server's own message and exit code 1."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from tests.support.required import need_alertmanager
from tests.support.servers import Server, alertmanager, spyglass
from typer.testing import CliRunner

from spyglass.cli._app import app

AM_CONFIG = "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module", params=["spyglass", "alertmanager"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    if request.param == "spyglass":
        with spyglass(tmp_path_factory.mktemp("spyglass") / "data") as s:
            yield s
    else:
        binary = need_alertmanager()
        with alertmanager(binary, tmp_path_factory.mktemp("am"), AM_CONFIG) as s:
            yield s


def silence(server: Server, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["silence", *args, "--url", server.url])
    return result.exit_code, result.stdout, result.stderr


def test_add_query_and_expire(server: Server) -> None:
    code, out, err = silence(server, "add", "CLIFoo", 'job=~"api|web"', "--comment", "deploy",
                             "--author", "alice", "--duration", "2h")  # fmt: skip
    assert code == 0, err
    [sid] = _UUID.findall(out)
    code, out, _ = silence(server, "query", "alertname=CLIFoo")
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == ["ID", "Matchers", "Ends", "At", "Created", "By", "Comment"]
    assert row.startswith(sid)
    assert 'alertname="CLIFoo" job=~"api|web"' in row
    assert row.split()[-2:] == ["alice", "deploy"]
    assert silence(server, "query", "-q", "alertname=CLIFoo")[1].split() == [sid]
    assert silence(server, "query", "-q", "alertname=CLIBar")[1] == ""

    assert silence(server, "expire", sid)[0] == 0
    assert silence(server, "query", "-q", "alertname=CLIFoo")[1] == ""
    assert silence(server, "query", "-q", "--expired", "alertname=CLIFoo")[1].split() == [sid]


def test_refusals_are_the_servers_messages(server: Server) -> None:
    past = ["--start", "1999-12-31T00:00:00Z", "--end", "2000-01-01T00:00:00Z"]
    code, _, err = silence(server, "add", "CLIFoo", "--comment", "late", *past)
    assert code == 1
    assert "error: 400: Failed to create silence: end time can't be in the past" in err
    code, _, err = silence(server, "add", 'alertname=~".*"', "--comment", "all")
    assert code == 1
    assert "at least one matcher must not match the empty string" in err
    code, _, err = silence(server, "add", 'a=~"("', "--comment", "bad")
    assert code == 1
    assert "bad matcher" in err


def test_an_unreachable_server_fails() -> None:
    unreachable = Server(process=None, url="http://127.0.0.1:1", log=None)  # type: ignore[arg-type]
    code, _, err = silence(unreachable, "query")
    assert code == 1
    assert "cannot reach http://127.0.0.1:1" in err


def test_expiring_an_unknown_silence_fails(server: Server) -> None:
    code, _, err = silence(server, "expire", "5f1a9c0e-0000-4000-8000-000000000000")
    assert code == 1
    assert "silence 5f1a9c0e-0000-4000-8000-000000000000 was not expired" in err
