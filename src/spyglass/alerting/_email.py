"""``email_configs``: one SMTP message per notification, as Alertmanager's email notifier sends it.

The conversation follows Alertmanager's: implicit TLS when ``force_implicit_tls`` says so (else on
port 465), ``EHLO`` with ``hello``, ``STARTTLS`` when ``require_tls`` (the default) and refusal
when the server does not offer it, then ``AUTH`` with the first mechanism in the server's list
that Alertmanager knows (``CRAM-MD5`` with ``auth_secret``, ``PLAIN`` and ``LOGIN`` with
``auth_password``) when ``auth_username`` is set. The message carries every configured header
rendered (``Subject``, ``To`` and ``From`` by default), ``Message-Id`` and ``Date``, and a
``multipart/alternative`` body: the ``text`` part, then the ``html`` part, both
quoted-printable.

Failures say whether to retry: a refused or dropped connection, a timeout and a 4xx reply are
temporary; a 5xx reply and anything the config decides (templates, addresses, credentials) are
not. Passwords never reach a message: only the server's reply is quoted.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import email.utils
import hashlib
import logging
import quopri
import secrets
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiosmtplib

from spyglass.alerting._client import ssl_context
from spyglass.alerting._delivery import Renderer
from spyglass.alerting._http import TLSConfig
from spyglass.alerting._notify import SENDER_BUILDERS, Notification, NotifyError, SenderEnv
from spyglass.alerting._receivers import DEFAULT_EMAIL_SUBJECT, EmailConfig
from spyglass.core.template import Data

log = logging.getLogger(__name__)

# Alertmanager bounds a delivery by the dispatcher's context only; a sender must not hang.
DEFAULT_TIMEOUT_S = 30.0
_LOCALHOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class EmailSender:
    """Sends a notification as an email, speaking SMTP as Alertmanager does."""

    config: EmailConfig
    env: SenderEnv
    timeout_s: float = DEFAULT_TIMEOUT_S
    # Wall clock for Date, Message-Id and daily threading; tests give a fixed one.
    clock: Callable[[], float] = time.time
    hostname: str = field(default_factory=socket.gethostname)

    @property
    def kind(self) -> str:
        """``email``."""
        return "email"

    @property
    def send_resolved(self) -> bool:
        """The config's ``send_resolved``."""
        return self.config.send_resolved

    @property
    def headers(self) -> dict[str, str]:
        """The header templates: the config's, plus Subject, To and From unless it sets them."""
        cfg = self.config
        out = {"Subject": DEFAULT_EMAIL_SUBJECT, "To": cfg.to, "From": cfg.from_}
        for name in list(out):
            if name in cfg.headers:
                del out[name]
        return {**out, **cfg.headers}

    def message(self, notification: Notification, data: Data | None = None) -> bytes:
        """The message (headers and body) for ``notification``, every template rendered."""
        cfg = self.config
        data = notification.template_data() if data is None else data
        render = Renderer(self.env.templates, data, "email")
        now = self.clock()
        lines = [f"{name}: {q_encode(render(template))}" for name, template in self.headers.items()]
        if "Message-Id" not in cfg.headers:
            ns = int(now * 1e9)
            lines.append(f"Message-Id: <{ns}.{secrets.randbits(64)}@{self.hostname}>")
        if cfg.threading.enabled:
            day = ""
            if cfg.threading.thread_by_date != "none":
                day = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%d")
            key = hashlib.sha256(notification.group_key.encode()).hexdigest()[:16]
            root = f"<alert-{key}-{day}@alertmanager>"
            lines += [f"References: {root}", f"In-Reply-To: {root}"]
        boundary = secrets.token_hex(30)
        date = email.utils.format_datetime(dt.datetime.fromtimestamp(now, dt.UTC))
        lines += [
            f"Date: {date}",
            # Two spaces, as Alertmanager writes it.
            f"Content-Type: multipart/alternative;  boundary={boundary}",
            "MIME-Version: 1.0",
            "",
            "",
        ]
        parts: list[tuple[str, str]] = []
        # Text first, HTML last: the preferred alternative goes last (RFC 2046, 5.1.4).
        if cfg.text:
            parts.append(("text/plain", render(cfg.text)))
        if cfg.html:
            # Alertmanager renders this field with html/template: values escaped by context.
            parts.append(("text/html", render.html(cfg.html)))
        body: list[str] = []
        for i, (kind, text) in enumerate(parts):
            body.append(("\r\n" if i else "") + f"--{boundary}\r\n")
            body.append("Content-Transfer-Encoding: quoted-printable\r\n")
            body.append(f"Content-Type: {kind}; charset=UTF-8\r\n\r\n")
            body.append(qp_encode(text))
        body.append(("\r\n" if parts else "") + f"--{boundary}--\r\n")
        return ("\r\n".join(lines) + "".join(body)).encode()

    async def send(self, notification: Notification) -> None:
        """Deliver the message over SMTP; ``NotifyError`` says whether a retry could help."""
        cfg = self.config
        data = notification.template_data()
        render = Renderer(self.env.templates, data, "email")
        sender = _addresses(render(cfg.from_), "from")
        if len(sender) != 1:
            raise NotifyError(
                f"email: must be exactly one 'from' address (got: {len(sender)})", retry=False
            )
        recipients = _addresses(render(cfg.to), "to")
        message = self.message(notification, data)
        host, port = split_host_port(cfg.smarthost)
        implicit = cfg.force_implicit_tls if cfg.force_implicit_tls is not None else port == 465
        tls = cfg.tls_config or TLSConfig()
        smtp = aiosmtplib.SMTP(
            hostname=host,
            port=port,
            local_hostname=cfg.hello or "localhost",
            timeout=self.timeout_s,
            use_tls=implicit,
            start_tls=False,
            tls_context=_tls(tls) if implicit else None,
        )
        where = f"{host}:{port}"
        step = "establish connection to server"
        try:
            await smtp.connect()
            step = "send EHLO command"
            await _hello(smtp, cfg.hello or "localhost")
            if cfg.require_tls is not False and not implicit:
                if not smtp.supports_extension("starttls"):
                    raise NotifyError(
                        f"email: 'require_tls' is true (default) but \"{where}\" does not "
                        "advertise the STARTTLS extension",
                        retry=True,
                    )
                step = "send STARTTLS command"
                await smtp.starttls(server_hostname=tls.server_name or host, tls_context=_tls(tls))
                await _hello(smtp, cfg.hello or "localhost")
            if smtp.supports_extension("auth"):
                step = "authenticate"
                await self._authenticate(smtp, host, secure=_is_tls(smtp))
            step = "send MAIL command"
            await smtp.mail(sender[0])
            step = "send RCPT command"
            for rcpt in recipients:
                await smtp.rcpt(rcpt)
            step = "send DATA command"
            await smtp.data(message)
        except asyncio.CancelledError:
            # The router gave up on this attempt: drop the line at once, without QUIT.
            smtp.close()
            raise
        except NotifyError:
            await _hang_up(smtp)
            raise
        except aiosmtplib.SMTPResponseException as exc:
            await _hang_up(smtp)
            raise NotifyError(
                f"email: {step}: {exc.code} {_clean(exc.message)}",
                retry=400 <= exc.code < 500,
            ) from None
        except UnicodeError:
            # An address aiosmtplib cannot write (non-ASCII without SMTPUTF8).
            await _hang_up(smtp)
            raise NotifyError(
                f"email: {step}: an address is not ASCII and the server takes no SMTPUTF8",
                retry=False,
            ) from None
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError, TimeoutError) as exc:
            await _hang_up(smtp)
            raise NotifyError(
                f"email: {step} {where}: {_describe(exc)}", retry=True, reason="other"
            ) from None
        # Delivered already: a server that drops the line on QUIT changes nothing.
        await _hang_up(smtp)

    async def _authenticate(self, smtp: aiosmtplib.SMTP, host: str, *, secure: bool) -> None:
        cfg = self.config
        if not cfg.auth_username:
            log.debug("email: auth_username is not set; sending without authenticating")
            return
        problems: list[str] = []
        for offered in smtp.esmtp_extensions.get("auth", "").split():
            mech = offered.upper()
            if mech == "CRAM-MD5":
                secret = _secret(cfg.auth_secret, cfg.auth_secret_file, strip=False)
                if not secret:
                    problems.append("missing secret for CRAM-MD5 auth mechanism")
                    continue
                await smtp.auth_crammd5(cfg.auth_username, secret)
                return
            if mech in ("PLAIN", "LOGIN"):
                password = _secret(cfg.auth_password, cfg.auth_password_file, strip=True)
                if not password:
                    problems.append(f"missing password for {mech} auth mechanism")
                    continue
                if mech == "PLAIN":
                    # Go's PlainAuth sends credentials only over TLS or to localhost.
                    if not secure and host not in _LOCALHOSTS:
                        raise NotifyError(
                            "email: *smtp.plainAuth auth: unencrypted connection", retry=False
                        )
                    await _auth_plain(smtp, cfg.auth_identity, cfg.auth_username, password)
                else:
                    await _auth_login(smtp, cfg.auth_username, password)
                return
            problems.append(f"unknown auth mechanism: {mech}")
        raise NotifyError(
            "email: find auth mechanism: " + "; ".join(problems or ["none offered"]), retry=False
        )


async def _hang_up(smtp: aiosmtplib.SMTP) -> None:
    """QUIT politely when the line still works, else drop it; either way the socket is closed
    before the event loop moves on (a transport closed later leaks past ``asyncio.run``)."""
    transport = smtp.transport
    if smtp.is_connected:
        try:
            await smtp.quit(timeout=5)
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            smtp.close()
    else:
        smtp.close()
    if isinstance(transport, asyncio.Transport):
        transport.abort()
    # Let the transport's close callbacks run.
    await asyncio.sleep(0)


async def _hello(smtp: aiosmtplib.SMTP, name: str) -> None:
    # Go's Hello sends EHLO and falls back to HELO for servers that only speak SMTP.
    try:
        await smtp.ehlo(hostname=name)
    except aiosmtplib.SMTPHeloError:
        await smtp.helo(hostname=name)


def _is_tls(smtp: aiosmtplib.SMTP) -> bool:
    return smtp.get_transport_info("sslobject") is not None


async def _auth_plain(smtp: aiosmtplib.SMTP, identity: str, user: str, password: str) -> None:
    token = base64.b64encode(f"{identity}\0{user}\0{password}".encode()).decode()
    response = await smtp.execute_command(b"AUTH", b"PLAIN", token.encode())
    if response.code != 235:
        raise aiosmtplib.SMTPAuthenticationError(response.code, response.message)


async def _auth_login(smtp: aiosmtplib.SMTP, user: str, password: str) -> None:
    # Alertmanager's LOGIN answers the server's "Username:" and "Password:" challenges; Spyglass
    # also takes the "User Name" and "Password" some servers (aiosmtpd) send.
    response = await smtp.execute_command(b"AUTH", b"LOGIN")
    answers = {"username": user, "user name": user, "password": password}
    while response.code == 334:
        try:
            text = base64.b64decode(response.message, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            text = ""
        challenge = text.strip(" :\0").lower()
        if challenge not in answers:
            await smtp.execute_command(b"*")
            raise NotifyError("email: LOGIN auth: unexpected server challenge", retry=False)
        response = await smtp.execute_command(base64.b64encode(answers[challenge].encode()))
    if response.code != 235:
        raise aiosmtplib.SMTPAuthenticationError(response.code, response.message)


def _secret(value: str, path: str, *, strip: bool) -> str:
    if not path:
        return value
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise NotifyError(f"email: could not read {path}: {reason}", retry=False) from None
    return text.strip() if strip else text


def _tls(config: TLSConfig) -> ssl.SSLContext:
    try:
        return ssl_context(config)
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise NotifyError(
            f"email: parse TLS configuration: {_describe(exc)}", retry=False
        ) from None


def _addresses(text: str, what: str) -> list[str]:
    """The bare addresses of an address list (``Team <a@x>, b@y``); ``NotifyError`` if bad."""
    pairs = email.utils.getaddresses([text])
    out = [addr for _, addr in pairs]
    if not out or any("@" not in a or not a.strip() for a in out):
        raise NotifyError(f"email: parse '{what}' addresses: invalid address list", retry=False)
    return out


def split_host_port(smarthost: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` too) as a pair; Alertmanager's config checks the form."""
    host, _, port = smarthost.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    try:
        return host, int(port)
    except ValueError:
        raise NotifyError(f"email: invalid smarthost {smarthost!r}", retry=False) from None


def q_encode(value: str) -> str:
    """Go's ``mime.QEncoding.Encode("utf-8", value)``: as-is when printable ASCII.

    Otherwise RFC 2047 encoded words of at most 75 characters, never splitting a character, so
    a rendered header can never carry a line break into the message.
    """
    if all(c == "\t" or " " <= c <= "~" for c in value):
        return value
    words: list[str] = []
    current = ""
    limit = 75 - len("=?utf-8?q?") - len("?=")
    for char in value:
        encoded = "".join(_q_byte(b) for b in char.encode())
        if current and len(current) + len(encoded) > limit:
            words.append(current)
            current = ""
        current += encoded
    words.append(current)
    return " ".join(f"=?utf-8?q?{w}?=" for w in words)


def _q_byte(b: int) -> str:
    if b == 0x20:
        return "_"
    if 0x21 <= b <= 0x7E and b not in (0x3D, 0x3F, 0x5F):
        return chr(b)
    return f"={b:02X}"


def qp_encode(text: str) -> str:
    """A body part in quoted-printable, lines ending in CRLF as Go's writer ends them."""
    raw = text.replace("\r\n", "\n").encode()
    encoded = quopri.encodestring(raw, quotetabs=False).decode("ascii")
    return encoded.replace("\n", "\r\n")


def _clean(message: str) -> str:
    return " ".join(message.split())[:512]


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return _clean(text)


def build_email(config: EmailConfig, env: SenderEnv) -> EmailSender:
    """The sender of one ``email_configs`` entry (``global:`` already handed down)."""
    return EmailSender(config, env)


SENDER_BUILDERS["email_configs"] = build_email

__all__ = ["EmailSender", "build_email", "q_encode", "qp_encode", "split_host_port"]
