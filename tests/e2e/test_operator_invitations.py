"""Invitation emails end to end: the operator as its own process (its ServiceAccount, the shipped ClusterRole)
against the real API server, the real gateway and a real SMTP server (aiosmtpd on loopback).

Each email is counted where it lands, in the SMTP server's mailbox: one per invitation, operator restarts
and a kill in the middle of sending included.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from chargeops.invitations import tokens
from tests.e2e.harness import Control, RunningGateway
from tests.e2e.operator_harness import OperatorProcess, get, operator_process, poll, wait_condition, wait_event
from tests.invitation_manifests import (
    OFFER_LINES,
    SIGNING_KEY,
    SMTP_LOGIN,
    TARIFF,
    charger,
    site,
    smtp_secret,
    subscription,
    token_of,
)
from tests.smtp_harness import SmtpServer, Tls

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(300),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),  # the store backend adds nothing here
]

# After the last expected email, how long to keep watching for one that should not come.
SETTLE_S = 4.0
RESEND = "chargeops.io/resend-invitation"


async def apply(kubectl: NamespacedKubectl, *manifests: dict[str, Any]) -> None:
    document = {"apiVersion": "v1", "kind": "List", "items": list(manifests)}
    await asyncio.to_thread(kubectl, "apply", "-f", "-", input=json.dumps(document))


async def annotate(kubectl: NamespacedKubectl, name: str, key: str, value: str) -> None:
    await asyncio.to_thread(kubectl, "annotate", "--overwrite", "subscription", name, f"{key}={value}")


async def invitation_of(kubectl: NamespacedKubectl, name: str) -> dict[str, Any]:
    return dict(((await get(kubectl, "subscription", name)).get("status") or {}).get("invitation") or {})


async def mail_count(server: SmtpServer, count: int) -> None:
    """Wait for the ``count``-th email, then watch a little longer that no other follows."""
    await poll(lambda: len(server.mailbox.messages()) >= count, showing=server.mailbox.messages)
    await asyncio.sleep(SETTLE_S)
    assert len(server.mailbox.messages()) == count, [m.recipients for m in server.mailbox.messages()]


async def tags_at(control: Control, cp_id: str) -> set[str]:
    status, stored = await control.request("GET", f"/v1/chargers/{cp_id}/desired")
    assert status == 200, stored
    return set(stored["desired"]["authorizedIdTags"])


async def resumed(operator: OperatorProcess, *, after: int) -> None:
    """Wait until the operator's log shows the (only) Subscription handled past offset ``after``."""
    mark = "Handler 'bind_subscription' succeeded"
    await poll(lambda: mark in operator.log.read_text(errors="replace")[after:], showing=operator.log_tail)


@pytest.fixture
async def operator_for(
    control_plane: ControlPlane, gateway: RunningGateway, namespace: str, tmp_path: Path
) -> AsyncIterator[Any]:
    """Start the operator serving this test's namespace with extra arguments and environment."""
    running: list[Any] = []

    async def start(*, args: Sequence[str] = (), env: Mapping[str, str] | None = None) -> OperatorProcess:
        context = operator_process(
            control_plane, gateway.control_url, gateway.token, namespace, tmp_path, extra_args=args, env=env
        )
        running.append(context)
        return await context.__aenter__()

    yield start
    for context in reversed(running):
        await context.__aexit__(None, None, None)


async def test_the_invitation_arrives_once_and_again_only_on_a_new_address_or_a_resend(
    operator_for: Any, kubectl: NamespacedKubectl, control: Control, namespace: str, tmp_path: Path
) -> None:
    tls = Tls.make(tmp_path / "smtp-tls")
    server = SmtpServer(tls=tls, login=SMTP_LOGIN)
    server.start()
    key_file = tmp_path / "signing.key"
    key_file.write_bytes(SIGNING_KEY + b"\n")  # as `openssl rand -base64 48 > key` writes it
    try:
        operator = await operator_for(
            args=["--signing-key-file", str(key_file)], env={"SSL_CERT_FILE": str(tls.ca_file)}
        )
        await apply(
            kubectl,
            site("parkside", server),
            TARIFF,
            charger("north-1", "PARKSIDE-N1", "parkside"),
            subscription("ada", "parkside", "north-1", email="ada@example.com", person="Ada Lovelace"),
        )

        # The login Secret is not there yet: Ready says so, and nothing is sent.
        missing = await wait_condition(kubectl, "subscription", "ada", "Ready", status="False", reason="SecretNotFound")
        assert f"Secret {namespace}/smtp-login" in missing["message"]
        assert server.mailbox.messages() == []

        await apply(kubectl, smtp_secret())
        await mail_count(server, 1)
        [first] = server.mailbox.messages()
        assert first.recipients == ["ada@example.com"]
        assert first.message["From"] == "Parkside HOA <chargers@parkside.example>"
        assert first.message["To"] == "Ada Lovelace <ada@example.com>"
        for line in OFFER_LINES:
            assert line in first.text
        ready = await wait_condition(
            kubectl, "subscription", "ada", "Ready", status="False", reason="AwaitingAcceptance"
        )
        sent = await invitation_of(kubectl, "ada")
        when = datetime.fromisoformat(sent["sentAt"]).strftime("%Y-%m-%d %H:%M:%S UTC")
        assert ready["message"] == f"Invitation sent to ada@example.com at {when}; waiting for the answer."
        assert (await get(kubectl, "subscription", "ada"))["status"]["phase"] == "Pending"
        claims = tokens.verify(
            token_of(first), key=SIGNING_KEY, purpose=tokens.Purpose.INVITATION, now=datetime.now(UTC)
        )
        assert claims.nonce == sent["nonce"]
        await wait_event(kubectl, "ada", reason="InvitationSent")

        # A restart resumes the Subscription and sends nothing.
        offset = len(operator.log.read_text(errors="replace"))
        await operator.stop()
        operator.start()
        await resumed(operator, after=offset)
        await mail_count(server, 1)

        # A new address: one invitation to it, with a new nonce.
        patch = {"spec": {"subscriber": {"email": "ada@new.example"}}}
        await asyncio.to_thread(kubectl, "patch", "subscription", "ada", "--type=merge", "-p", json.dumps(patch))
        await mail_count(server, 2)
        assert server.mailbox.messages()[1].recipients == ["ada@new.example"]
        moved = await invitation_of(kubectl, "ada")
        assert moved["sentTo"] == "ada@new.example"
        assert moved["nonce"] != sent["nonce"]

        # A resend request: one more, with a new nonce; the old link is no longer the valid one.
        await annotate(kubectl, "ada", RESEND, "2026-09-29T08:00:00Z")
        await mail_count(server, 3)
        resent = await invitation_of(kubectl, "ada")
        assert resent["resendRequest"] == "2026-09-29T08:00:00Z"
        assert resent["nonce"] not in (sent["nonce"], moved["nonce"])
        assert (
            tokens.verify(
                token_of(server.mailbox.messages()[2]),
                key=SIGNING_KEY,
                purpose=tokens.Purpose.INVITATION,
                now=datetime.now(UTC),
            ).nonce
            == resent["nonce"]
        )

        # Declined: the phase says so with the time, and the tags never reach the charger.
        await annotate(kubectl, "ada", "chargeops.io/declined", "2026-09-29T09:30:00Z")
        await wait_condition(kubectl, "subscription", "ada", "Ready", status="True", reason="Declined")
        body = await get(kubectl, "subscription", "ada")
        assert body["status"]["phase"] == "Declined"
        assert body["status"]["invitation"]["answeredAt"] == "2026-09-29T09:30:00Z"
        assert "TAG-ada" not in await tags_at(control, "PARKSIDE-N1")
        await mail_count(server, 3)
    finally:
        server.stop()


async def test_an_smtp_server_that_is_down_is_retried_and_a_send_cut_short_is_not_repeated(
    operator_for: Any, kubectl: NamespacedKubectl, namespace: str
) -> None:
    server = SmtpServer()  # not listening yet
    operator = await operator_for(env={"CHARGEOPS_SIGNING_KEY": SIGNING_KEY.decode()})
    try:
        await apply(
            kubectl,
            site("parkside", server),
            TARIFF,
            charger("north-1", "PARKSIDE-N1", "parkside"),
            subscription("ada", "parkside", "north-1", email="ada@example.com", person="Ada Lovelace"),
        )
        failed = await wait_condition(
            kubectl, "subscription", "ada", "Ready", status="False", reason="InvitationFailed"
        )
        assert failed["message"].startswith(
            f"Could not send the invitation to ada@example.com: 127.0.0.1:{server.port}"
        )
        assert "Connection refused" in failed["message"]
        await wait_condition(kubectl, "subscription", "ada", "Reconciling", status="True")

        server.start()
        await mail_count(server, 1)
        await wait_condition(kubectl, "subscription", "ada", "Ready", status="False", reason="AwaitingAcceptance")

        # Killed while the server holds the message in DATA: it arrives, and the operator cannot know.
        server.mailbox.hold = True
        await apply(kubectl, subscription("lin", "parkside", "north-1", email="lin@example.com", person="Lin Yao"))
        await poll(server.mailbox.held.is_set)
        await operator.kill()
        server.mailbox.hold = False
        server.mailbox.release.set()
        assert len(server.mailbox.messages()) == 2
        operator.start()
        unknown = await wait_condition(
            kubectl, "subscription", "lin", "Ready", status="False", reason="DeliveryUnknown"
        )
        assert f"set the {RESEND} annotation to send it again" in unknown["message"]
        await wait_condition(kubectl, "subscription", "lin", "Stalled", status="True", reason="DeliveryUnknown")
        await mail_count(server, 2)  # at most once: not sent again by itself

        await annotate(kubectl, "lin", RESEND, "please")
        await mail_count(server, 3)
        assert server.mailbox.messages()[2].recipients == ["lin@example.com"]
        await wait_condition(kubectl, "subscription", "lin", "Ready", status="False", reason="AwaitingAcceptance")
    finally:
        server.mailbox.release.set()
        server.stop()


async def test_no_email_where_acceptance_is_not_required_and_none_without_a_signing_key(
    operator_for: Any, kubectl: NamespacedKubectl, control: Control
) -> None:
    server = SmtpServer()
    server.start()
    await operator_for()  # no signing key
    try:
        await apply(
            kubectl,
            site("selfserve", None, acceptance_required=False),
            site("parkside", server),
            TARIFF,
            charger("self-1", "SELF-1", "selfserve"),
            charger("north-1", "PARKSIDE-N1", "parkside"),
            subscription("bo", "selfserve", "self-1", email="bo@example.com", person="Bo Diddley"),
            subscription("ada", "parkside", "north-1", email="ada@example.com", person="Ada Lovelace"),
        )
        await wait_condition(kubectl, "subscription", "bo", "Ready", status="True", reason="Succeeded")
        assert (await get(kubectl, "subscription", "bo"))["status"]["phase"] == "Active"
        await poll(lambda: _has(control, "SELF-1", "TAG-bo"))

        stalled = await wait_condition(
            kubectl, "subscription", "ada", "Ready", status="False", reason="SigningKeyMissing"
        )
        assert "--signing-key-file" in stalled["message"]
        await wait_condition(kubectl, "subscription", "ada", "Stalled", status="True", reason="SigningKeyMissing")
        assert "TAG-ada" not in await tags_at(control, "PARKSIDE-N1")

        await annotate(kubectl, "ada", "chargeops.io/declined", "2026-09-29T09:30:00+02:00")
        await wait_condition(kubectl, "subscription", "ada", "Ready", status="True", reason="Declined")
        body = await get(kubectl, "subscription", "ada")
        assert body["status"]["invitation"] == {"answeredAt": "2026-09-29T07:30:00Z"}
        assert "TAG-ada" not in await tags_at(control, "PARKSIDE-N1")
        await mail_count(server, 0)
    finally:
        server.stop()


async def _has(control: Control, cp_id: str, tag: str) -> bool:
    status, stored = await control.request("GET", f"/v1/chargers/{cp_id}/desired")
    return status == 200 and tag in stored["desired"]["authorizedIdTags"]
