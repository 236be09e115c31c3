"""Hand one email to a Site's SMTP server, and say afterwards whether it certainly was not delivered.

``operator/invitations.py`` calls ``send`` once per invitation. The standard library's ``smtplib`` runs
in a thread: the operator sends a handful of messages, so an async SMTP client would add a dependency
for nothing. Trust for STARTTLS comes from the system trust store (``ssl.create_default_context``; a
test points ``SSL_CERT_FILE`` at its own CA) and the host name is checked against the certificate.

The steps run one by one (``MAIL``, ``RCPT``, ``DATA``) so a failure says where it happened:

- a failure before ``DATA``, or any refusal code the server answers, means the message was not
  accepted: ``MailRefusedError``, and sending again is safe;
- a broken connection or a timeout during ``DATA`` may have left the message accepted (the server may
  have queued it and lost only its answer): ``MailUncertainError``, and only a person should decide to
  send again.

A failed ``QUIT`` after an accepted message changes nothing: the message was delivered.
"""

import asyncio
import dataclasses
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

from chargeops.api.v1alpha1 import SmtpSettings
from chargeops.operator.errors import MailRefusedError, MailUncertainError

# Long enough for a slow submission server, short enough that a handler does not hang on a dead one.
TIMEOUT_S = 30.0
# RFC 5321 §4.2: 250 "OK"; 251 "user not local; will forward" also accepts a recipient.
_OK = 250
_FORWARDING = 251


@dataclasses.dataclass(frozen=True)
class Login:
    """Credentials for SMTP AUTH, from the Secret the Site names."""

    username: str
    password: str = dataclasses.field(repr=False)


async def send(
    message: EmailMessage,
    *,
    to: str,
    smtp: SmtpSettings,
    login: Login | None = None,
    timeout_s: float = TIMEOUT_S,
) -> None:
    """Deliver ``message`` to ``to`` through ``smtp``, from ``smtp.from_address``."""
    await asyncio.to_thread(_send, message, to, smtp, login, timeout_s)


def _send(message: EmailMessage, to: str, smtp: SmtpSettings, login: Login | None, timeout_s: float) -> None:
    server = f"{smtp.host}:{smtp.port}"
    payload = message.as_bytes(policy=SMTP_POLICY)
    try:
        # Connecting in the constructor also tells smtplib the host name STARTTLS checks the certificate for.
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout_s)
    except (smtplib.SMTPException, OSError) as error:  # smtplib's errors are OSErrors too
        raise MailRefusedError(f"{server}: {_describe(error)}", server=server) from error
    try:
        try:
            _open_session(client, smtp, login)
            _check(client.mail(smtp.from_address), "MAIL FROM", (_OK,))
            _check(client.rcpt(to), f"RCPT TO {to}", (_OK, _FORWARDING))
        except (smtplib.SMTPException, OSError) as error:
            raise MailRefusedError(f"{server}: {_describe(error)}", server=server) from error
        try:
            code, reply = client.data(payload)
        except smtplib.SMTPResponseException as error:  # DATA itself refused: nothing was handed over
            raise MailRefusedError(f"{server}: {_describe(error)}", server=server) from error
        except OSError as error:
            raise MailUncertainError(
                f"{server}: the connection broke after the message was sent, before the server confirmed it "
                f"({_describe(error)}); it may have been delivered",
                server=server,
            ) from error
        if code != _OK:
            raise MailRefusedError(f"{server}: {code} {reply.decode(errors='replace')}", server=server)
    finally:
        _close(client)


def _close(client: smtplib.SMTP) -> None:
    # QUIT after the message is accepted is a courtesy: its failure must not turn a delivery into an error.
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _open_session(client: smtplib.SMTP, smtp: SmtpSettings, login: Login | None) -> None:
    client.ehlo()
    if smtp.starttls:
        client.starttls(context=ssl.create_default_context())
        client.ehlo()  # RFC 3207 §4.2: forget what was learnt before TLS
    if login is not None:
        client.login(login.username, login.password)


def _check(answer: tuple[int, bytes], step: str, accepted: tuple[int, ...]) -> None:
    code, reply = answer
    if code not in accepted:
        raise smtplib.SMTPResponseException(code, f"{step} refused: {reply.decode(errors='replace')}".encode())


def _describe(error: BaseException) -> str:
    """The server's own words where it gave some (``550 5.1.1 no such user``), else the error's."""
    if isinstance(error, smtplib.SMTPResponseException):
        said = error.smtp_error
        return f"{error.smtp_code} {said.decode(errors='replace') if isinstance(said, bytes) else said}"
    return str(error) or type(error).__name__
