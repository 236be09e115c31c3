"""Handing an email to a real SMTP server (aiosmtpd on loopback): plain, STARTTLS with login, and every way
it fails — each failure says whether the message certainly was not delivered."""

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from chargeops.api.v1alpha1 import SmtpSettings
from chargeops.operator import mail
from chargeops.operator.errors import MailRefusedError, MailUncertainError
from tests.smtp_harness import HOST, SmtpServer, Tls

LOGIN = ("chargers", "s3cret-smtp-pass")


def message() -> EmailMessage:
    sent = EmailMessage()
    sent["From"] = "Parkside Garage <chargers@parkside.example>"
    sent["To"] = "Zoë <zoe@example.com>"
    sent["Subject"] = "Invitation"
    sent.set_content("Hello Zoë,\n.\nA line with a lone dot above.\n", cte="quoted-printable")
    return sent


def settings(server: SmtpServer, **overrides: Any) -> SmtpSettings:
    values = {"host": HOST, "port": server.port, "starttls": server.tls is not None}
    values |= {"from_address": "chargers@parkside.example", **overrides}
    return SmtpSettings.model_validate(values)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return Tls.make(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def plain() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def secured(tls: Tls, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """STARTTLS and login required; this process trusts the test CA as the operator would (SSL_CERT_FILE)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_file))
    server = SmtpServer(tls=tls, login=LOGIN)
    server.start()
    yield server
    server.stop()


async def test_a_plain_server_receives_the_message_once_as_written(plain: SmtpServer) -> None:
    await mail.send(message(), to="zoe@example.com", smtp=settings(plain))

    [received] = plain.mailbox.messages()
    assert (received.sender, received.recipients) == ("chargers@parkside.example", ["zoe@example.com"])
    assert received.message["To"] == "Zoë <zoe@example.com>"
    assert received.text == "Hello Zoë,\n.\nA line with a lone dot above.\n"


async def test_starttls_and_login_with_the_secrets_credentials(secured: SmtpServer) -> None:
    await mail.send(message(), to="zoe@example.com", smtp=settings(secured), login=mail.Login(*LOGIN))

    assert len(secured.mailbox.messages()) == 1


async def test_a_wrong_password_is_refused_with_the_servers_words(secured: SmtpServer) -> None:
    with pytest.raises(MailRefusedError, match=r"127\.0\.0\.1:\d+: 535 .*[Aa]uthentication"):
        await mail.send(message(), to="zoe@example.com", smtp=settings(secured), login=mail.Login("chargers", "no"))
    assert secured.mailbox.messages() == []


async def test_no_login_where_the_server_requires_one_is_refused(secured: SmtpServer) -> None:
    with pytest.raises(MailRefusedError, match="530"):
        await mail.send(message(), to="zoe@example.com", smtp=settings(secured))


async def test_a_certificate_nobody_trusts_is_refused(
    tls: Tls, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    other = Tls.make(tmp_path / "other-ca")
    monkeypatch.setenv("SSL_CERT_FILE", str(other.ca_file))  # trusts another CA only
    server = SmtpServer(tls=tls)
    server.start()
    try:
        with pytest.raises(MailRefusedError, match="CERTIFICATE_VERIFY_FAILED"):
            await mail.send(message(), to="zoe@example.com", smtp=settings(server))
    finally:
        server.stop()
    assert server.mailbox.messages() == []


async def test_starttls_asked_of_a_server_without_it_is_refused(plain: SmtpServer) -> None:
    with pytest.raises(MailRefusedError, match="STARTTLS extension not supported"):
        await mail.send(message(), to="zoe@example.com", smtp=settings(plain, starttls=True))
    assert plain.mailbox.messages() == []


async def test_a_server_that_is_down_is_refused_and_safe_to_retry() -> None:
    server = SmtpServer()  # a free port nobody listens on
    with pytest.raises(MailRefusedError, match="Connection refused"):
        await mail.send(message(), to="zoe@example.com", smtp=settings(server))


async def test_a_connection_lost_after_the_message_went_out_is_uncertain(plain: SmtpServer) -> None:
    plain.mailbox.drop_after_data = True  # the server takes the message and hangs up without answering

    with pytest.raises(MailUncertainError, match="may have been delivered"):
        await mail.send(message(), to="zoe@example.com", smtp=settings(plain))
    assert len(plain.mailbox.messages()) == 1  # it did arrive: resending would have doubled it
