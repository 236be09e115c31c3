"""A real SMTP server for the invitation tests: aiosmtpd on a loopback port, plain or with STARTTLS and login.

The server runs in its own thread and loop (aiosmtpd's ``Controller``) and keeps what it receives in a
``Mailbox``. It can be stopped and started again on the same port (the SMTP server goes down and comes
back), and it can hold a message in ``DATA`` until the test lets it go (the operator is killed while it
waits for the server's answer). STARTTLS uses a CA and serving certificate made by
``chargeops.devcluster.pki`` for 127.0.0.1; clients trust it through ``SSL_CERT_FILE``.
"""

import asyncio
import dataclasses
import email
import email.policy
import ssl
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from chargeops.devcluster import pki
from chargeops.devcluster.ports import free_port

HOST = "127.0.0.1"


@dataclasses.dataclass(frozen=True)
class Received:
    """One message as the server took it."""

    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        """The plain-text part."""
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]

    @property
    def html(self) -> str:
        """The HTML part."""
        part = self.message.get_body(("html",))
        assert part is not None
        return str(part.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]


class Mailbox:
    """aiosmtpd's handler: keeps every message; ``hold`` delays the answer to DATA until released."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.hold = False
        """Keep the next message's answer waiting until ``release`` is set."""
        self.drop_after_data = False
        """Take the message, then hang up instead of answering 250."""
        self.held = threading.Event()
        """Set when a held message reached DATA."""
        self.release = threading.Event()
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        # Kept before the answer, as a server that queued the message would: a client that is gone before
        # the answer arrives cannot tell whether it was delivered.
        with self._lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        if self.hold:
            self.held.set()
            # The server's loop keeps serving others meanwhile; the test releases from its own thread.
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
        if self.drop_after_data:
            server.transport.close()
        return "250 Message accepted for delivery"

    def messages(self) -> list[Received]:
        """What arrived so far."""
        with self._lock:
            return list(self.received)


@dataclasses.dataclass(frozen=True)
class Tls:
    """The server's certificate and the CA file clients trust it with."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    @classmethod
    def make(cls, folder: Path) -> "Tls":
        """A fresh CA and a serving certificate for 127.0.0.1 in ``folder``."""
        files = pki.write_cluster_pki(folder, hosts=(HOST, "localhost"))
        return cls(files.ca_cert, files.serving_cert, files.serving_key)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


class SmtpServer:
    """aiosmtpd on ``HOST``:``port``; with ``tls``, STARTTLS is required, and with ``login`` so is AUTH."""

    def __init__(self, *, tls: Tls | None = None, login: tuple[str, str] | None = None, port: int | None = None):
        self.port = port or free_port(host=HOST)
        self.mailbox = Mailbox()
        self.tls = tls
        self.login = login
        self._controller: Controller | None = None

    def start(self) -> None:
        """Listen (again); messages received before are kept."""
        assert self._controller is None, "already running"
        options: dict[str, Any] = {}
        if self.tls is not None:
            options.update(tls_context=self.tls.server_context(), require_starttls=True)
        if self.login is not None:
            options.update(authenticator=self._authenticate, auth_required=True, auth_require_tls=self.tls is not None)
        self._controller = Controller(self.mailbox, hostname=HOST, port=self.port, **options)
        self._controller.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until ``start``."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and self.login is not None
        ok = ok and (auth_data.login.decode(), auth_data.password.decode()) == self.login
        return AuthResult(success=ok, handled=False)
