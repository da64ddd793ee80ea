"""The email notifier against a real SMTP server (aiosmtpd) on loopback: plain, STARTTLS,
implicit TLS and AUTH, the message checked as its reader would see it."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.header
import email.policy
import logging
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.alerting.senders import env, integration, notification
from tests.support.servers import free_port

from spyglass.alerting import SENDER_BUILDERS, NotifyError
from spyglass.alerting._email import EmailSender, q_encode

PASSWORD = "s3cret-Passw0rd"


@dataclass
class Mailbox:
    """What the SMTP server received, and how it answers RCPT."""

    messages: list[tuple[Envelope, bool]] = field(default_factory=list)
    rcpt_reply: str = ""

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        tls = server.transport.get_extra_info("ssl_object") is not None
        self.messages.append((envelope, tls))
        return "250 Message accepted for delivery"

    def only(self) -> tuple[Envelope, EmailMessage, bool]:
        [(envelope, tls)] = self.messages
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return envelope, message, tls


def _authenticate(
    server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword)
        and data.login == b"alerts"
        and data.password == PASSWORD.encode()
    )
    # handled=False: the server answers the failure with 535 itself.
    return AuthResult(success=ok, handled=False)


@dataclass
class SMTPServer:
    mailbox: Mailbox
    port: int
    ca: trustme.CA


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    return ctx


@pytest.fixture
def smtp_server(request: pytest.FixtureRequest, ca: trustme.CA) -> Iterator[SMTPServer]:
    """An aiosmtpd server; ``request.param`` picks plain, starttls, auth, or implicit TLS."""
    kind = getattr(request, "param", "plain")
    mailbox = Mailbox()
    port = free_port()
    kwargs: dict[str, Any] = {}
    if kind in ("starttls", "auth", "auth-login"):
        kwargs["tls_context"] = _server_context(ca)
    if kind in ("auth", "auth-login"):
        kwargs.update(authenticator=_authenticate, auth_required=True)
    if kind == "auth-login":
        kwargs["auth_exclude_mechanism"] = ["PLAIN"]
    if kind == "implicit":
        kwargs["ssl_context"] = _server_context(ca)
        # The controller checks the server is up by connecting; it needs to trust it.
        kwargs["server_hostname"] = "127.0.0.1"
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    yield SMTPServer(mailbox, port, ca)
    controller.stop()


def _sender(server: SMTPServer, entry: str, glob: str = "") -> EmailSender:
    text = f"""
global:
  smtp_smarthost: '127.0.0.1:{server.port}'
  smtp_from: 'Spyglass <alerts@spyglass.example>'
{glob}
route: {{receiver: team}}
receivers:
- name: team
  email_configs:
  - {entry}
"""
    sender = SENDER_BUILDERS["email_configs"](integration(text, "email_configs"), env())
    assert isinstance(sender, EmailSender)
    return sender


def test_a_plain_server_receives_alertmanagers_default_email(smtp_server: SMTPServer) -> None:
    sender = _sender(
        smtp_server, "{to: 'oncall@example.com, Team Lead <lead@example.com>', require_tls: false}"
    )
    asyncio.run(sender.send(notification()))
    envelope, message, tls = smtp_server.mailbox.only()
    assert not tls
    assert envelope.mail_from == "alerts@spyglass.example"
    assert envelope.rcpt_tos == ["oncall@example.com", "lead@example.com"]
    assert message["Subject"] == "[FIRING:2] DiskFull (critical)"
    assert message["From"] == "Spyglass <alerts@spyglass.example>"
    assert message["To"] == "oncall@example.com, Team Lead <lead@example.com>"
    assert message["Message-Id"].startswith("<")
    assert message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    [html] = message.iter_parts()
    assert html.get_content_type() == "text/html"
    body = html.get_content()
    # The default template lists each alert's labels and annotations, and links back.
    for text in ("DiskFull", "instance", "db1", "db2", "summary", "disk almost full"):
        assert text in body
    assert "http://spyglass.example:9093" in body


def test_text_and_html_parts_and_templated_headers(smtp_server: SMTPServer) -> None:
    entry = """to: 'oncall@example.com'
    require_tls: false
    text: '{{ range .Alerts }}{{ .Labels.instance }} {{ end }}ünïcode'
    headers:
      Subject: 'Störung: {{ .GroupLabels.alertname }}'
      X-Receiver: '{{ .Receiver }}'"""
    asyncio.run(_sender(smtp_server, entry).send(notification()))
    _, message, _ = smtp_server.mailbox.only()
    assert message["Subject"] == "Störung: DiskFull"
    assert message["X-Receiver"] == "team"
    text, html = message.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert text.get_content() == "db1 db2 ünïcode"
    assert html.get_content_type() == "text/html"


def test_alert_text_is_escaped_in_the_default_html(smtp_server: SMTPServer) -> None:
    sender = _sender(smtp_server, "{to: 'oncall@example.com', require_tls: false}")
    asyncio.run(sender.send(notification(summary="<script>x()</script> & more")))
    [html] = smtp_server.mailbox.only()[1].iter_parts()
    body = html.get_content()
    assert "&lt;script&gt;x()&lt;/script&gt; &amp; more" in body
    assert "<script>" not in body


def test_a_users_own_html_template_is_escaped_as_html_template_escapes_it(
    smtp_server: SMTPServer,
) -> None:
    """Templates copied from Alertmanager's docs print values bare and rely on html/template."""
    entry = """to: 'oncall@example.com'
    require_tls: false
    html: '<p title="{{ .CommonAnnotations.summary }}">{{ .CommonAnnotations.summary }}</p>'"""
    sender = _sender(smtp_server, entry)
    asyncio.run(sender.send(notification(summary='<img src=x onerror="y()"> & more')))
    [html] = smtp_server.mailbox.only()[1].iter_parts()
    escaped = "&lt;img src=x onerror=&#34;y()&#34;&gt; &amp; more"
    assert html.get_content().strip() == f'<p title="{escaped}">{escaped}</p>'


def test_require_tls_refuses_a_server_without_starttls(smtp_server: SMTPServer) -> None:
    sender = _sender(smtp_server, "{to: 'oncall@example.com'}")
    with pytest.raises(NotifyError, match="does not advertise the STARTTLS extension") as info:
        asyncio.run(sender.send(notification()))
    assert info.value.retry
    assert smtp_server.mailbox.messages == []


@pytest.mark.parametrize("smtp_server", ["starttls"], indirect=True)
def test_starttls_with_the_servers_ca(smtp_server: SMTPServer, ca_file: Path) -> None:
    sender = _sender(
        smtp_server, f"{{to: 'oncall@example.com', tls_config: {{ca_file: {ca_file}}}}}"
    )
    asyncio.run(sender.send(notification()))
    _, message, tls = smtp_server.mailbox.only()
    assert tls
    assert message["Subject"] == "[FIRING:2] DiskFull (critical)"


@pytest.mark.parametrize("smtp_server", ["starttls"], indirect=True)
def test_starttls_with_insecure_skip_verify(smtp_server: SMTPServer) -> None:
    sender = _sender(
        smtp_server, "{to: 'oncall@example.com', tls_config: {insecure_skip_verify: true}}"
    )
    asyncio.run(sender.send(notification()))
    assert smtp_server.mailbox.only()[2]


@pytest.mark.parametrize("smtp_server", ["starttls"], indirect=True)
def test_an_untrusted_certificate_fails(smtp_server: SMTPServer) -> None:
    sender = _sender(smtp_server, "{to: 'oncall@example.com'}")
    with pytest.raises(NotifyError, match="STARTTLS"):
        asyncio.run(sender.send(notification()))
    assert smtp_server.mailbox.messages == []


@pytest.mark.parametrize("smtp_server", ["implicit"], indirect=True)
def test_implicit_tls(smtp_server: SMTPServer, ca_file: Path) -> None:
    entry = (
        "{to: 'oncall@example.com', force_implicit_tls: true, "
        f"tls_config: {{ca_file: {ca_file}}}}}"
    )
    asyncio.run(_sender(smtp_server, entry).send(notification()))
    assert smtp_server.mailbox.only()[2]


@pytest.mark.parametrize("smtp_server", ["auth", "auth-login"], indirect=True)
def test_auth_with_a_password_file(smtp_server: SMTPServer, ca_file: Path, tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    glob = f"  smtp_auth_username: alerts\n  smtp_auth_password_file: {secret}"
    sender = _sender(
        smtp_server, f"{{to: 'oncall@example.com', tls_config: {{ca_file: {ca_file}}}}}", glob
    )
    asyncio.run(sender.send(notification()))
    envelope, _, tls = smtp_server.mailbox.only()
    assert tls
    assert envelope.rcpt_tos == ["oncall@example.com"]


@pytest.mark.parametrize("smtp_server", ["auth"], indirect=True)
def test_a_wrong_password_fails_for_good_and_is_never_shown(
    smtp_server: SMTPServer, ca_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    entry = (
        "{to: 'oncall@example.com', auth_username: alerts, auth_password: 'WrongSecret!', "
        f"tls_config: {{ca_file: {ca_file}}}}}"
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(NotifyError, match="535") as info:
        asyncio.run(_sender(smtp_server, entry).send(notification()))
    assert not info.value.retry
    assert "WrongSecret" not in str(info.value)
    ours = [r for r in caplog.records if r.name.startswith(("spyglass", "aiosmtplib"))]
    assert all("WrongSecret" not in r.getMessage() for r in ours)


def test_a_5xx_reply_is_permanent_and_a_4xx_reply_temporary(smtp_server: SMTPServer) -> None:
    sender = _sender(smtp_server, "{to: 'oncall@example.com', require_tls: false}")
    smtp_server.mailbox.rcpt_reply = "550 5.1.1 no such user"
    with pytest.raises(NotifyError, match="550") as permanent:
        asyncio.run(sender.send(notification()))
    smtp_server.mailbox.rcpt_reply = "451 4.3.0 try again later"
    with pytest.raises(NotifyError, match="451") as temporary:
        asyncio.run(sender.send(notification()))
    assert not permanent.value.retry
    assert temporary.value.retry


def test_a_refused_connection_is_retried() -> None:
    server = SMTPServer(Mailbox(), free_port(), trustme.CA())
    sender = _sender(server, "{to: 'oncall@example.com', require_tls: false}")
    with pytest.raises(NotifyError, match="establish connection") as info:
        asyncio.run(sender.send(notification()))
    assert info.value.retry


def test_a_bad_to_address_fails_without_retry(smtp_server: SMTPServer) -> None:
    sender = _sender(smtp_server, "{to: '{{ .CommonLabels.nothing }}', require_tls: false}")
    with pytest.raises(NotifyError, match="'to'") as info:
        asyncio.run(sender.send(notification()))
    assert not info.value.retry


def test_a_non_ascii_address_fails_without_retry(smtp_server: SMTPServer) -> None:
    sender = _sender(smtp_server, "{to: 'jürgen@example.com', require_tls: false}")
    with pytest.raises(NotifyError, match="RCPT") as info:
        asyncio.run(sender.send(notification()))
    assert not info.value.retry
    assert smtp_server.mailbox.messages == []


def test_threading_headers_group_a_groups_mails(smtp_server: SMTPServer) -> None:
    entry = (
        "{to: 'a@example.com', require_tls: false, "
        "threading: {enabled: true, thread_by_date: none}}"
    )
    sender = _sender(smtp_server, entry)
    asyncio.run(sender.send(notification()))
    asyncio.run(sender.send(notification(resolved=True)))
    first, second = (
        email.message_from_bytes(e.original_content or b"", policy=email.policy.default)
        for e, _ in smtp_server.mailbox.messages
    )
    assert first["References"] == second["References"] == first["In-Reply-To"]
    assert first["References"].startswith("<alert-")


@given(st.text(max_size=300))
def test_any_header_value_is_encoded_on_one_line_and_decodes_back(value: str) -> None:
    encoded = q_encode(value)
    assert "\r" not in encoded
    assert "\n" not in encoded
    decoded = "".join(
        part.decode(charset or "ascii") if isinstance(part, bytes) else part
        for part, charset in email.header.decode_header(encoded)
    )
    if encoded == value:
        return
    assert decoded == value


_REPLY_LINES = st.one_of(
    st.binary(max_size=40),
    st.builds(
        lambda code, sep, text: f"{code}{sep}{text}".encode(),
        st.integers(0, 999),
        st.sampled_from([" ", "-", "", "x"]),
        st.text(max_size=20),
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(replies=st.lists(_REPLY_LINES, min_size=1, max_size=8))
def test_any_reply_from_an_smtp_server_gives_a_notify_error_or_delivers(
    replies: list[bytes],
) -> None:
    """A server answering garbage (or cut lines, or valid codes out of place) never makes the
    sender raise anything but NotifyError, and never hangs past its timeout."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for reply in replies:
                writer.write(reply + b"\r\n")
                await writer.drain()
                await asyncio.wait_for(reader.readline(), 1)
        except (OSError, TimeoutError):
            pass
        finally:
            writer.close()

    async def run() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        sender = _sender(
            SMTPServer(Mailbox(), port, trustme.CA()),
            "{to: 'oncall@example.com', require_tls: false}",
        )
        sender = replace(sender, timeout_s=0.5)
        try:
            with contextlib.suppress(NotifyError):
                await sender.send(notification())
        finally:
            server.close()
            await server.wait_closed()

    asyncio.run(run())
