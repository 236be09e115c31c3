"""Sending invitations at most once, against the real API server and a real SMTP server (aiosmtpd).

``Postman.settle`` is what the Subscription handler calls; here it runs in the test's process against
objects the API server stores, so every state of ``status.invitation`` can be set up exactly. Two
postmen with separate locks and clients stand for two operator processes.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import conditions as c
from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from chargeops.invitations import tokens
from chargeops.operator.clock import SystemClock
from chargeops.operator.invitations import Postman
from chargeops.operator.runtime import SecretReader
from chargeops.operator.subscription_store import SubscriptionStore
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

pytestmark = pytest.mark.cluster


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    running = SmtpServer()
    running.start()
    yield running
    running.stop()


def postman(control_plane: ControlPlane, *, key: bytes | None = SIGNING_KEY) -> Postman:
    """A postman with its own API client, as one operator process has."""
    api_client = k8s_config.new_client_from_config(config_file=str(control_plane.kubeconfig))
    secrets = SecretReader(k8s.CoreV1Api(api_client))
    return Postman(SubscriptionStore(k8s.CustomObjectsApi(api_client)), secrets, key=key, clock=SystemClock())


class World:
    """The objects one test set up, read back from the API server."""

    def __init__(self, kubectl: NamespacedKubectl) -> None:
        self.kubectl = kubectl

    async def apply(self, *manifests: dict[str, Any]) -> None:
        document = {"apiVersion": "v1", "kind": "List", "items": list(manifests)}
        await asyncio.to_thread(self.kubectl, "apply", "-f", "-", input=json.dumps(document))

    async def get(self, kind: str, name: str) -> dict[str, Any]:
        result = await asyncio.to_thread(self.kubectl, "get", kind, name, "-o", "json")
        return dict(json.loads(result.stdout))

    async def settle(self, sender: Postman, name: str = "ada", *, attempt: int = 0) -> Any:
        sub = v1alpha1.Subscription.model_validate(await self.get("subscription", name))
        where = v1alpha1.Site.model_validate(await self.get("site", sub.spec.site_ref.name))
        chargers = [v1alpha1.Charger.model_validate(await self.get("charger", "north-1"))]
        tariffs = {"energy-standard": v1alpha1.Tariff.model_validate(await self.get("tariff", "energy-standard"))}
        return await sender.settle(sub, site=where, chargers=chargers, tariffs=tariffs, attempt=attempt)

    async def invitation(self, name: str = "ada") -> dict[str, Any]:
        return dict(((await self.get("subscription", name)).get("status") or {}).get("invitation") or {})

    async def annotate(self, name: str, **annotations: str) -> None:
        pairs = [f"{key}={value}" for key, value in annotations.items()]
        await asyncio.to_thread(self.kubectl, "annotate", "--overwrite", "subscription", name, *pairs)


@pytest.fixture
async def world(kubectl: NamespacedKubectl, server: SmtpServer) -> AsyncIterator[World]:
    objects = World(kubectl)
    await objects.apply(
        site("parkside", server),
        TARIFF,
        charger("north-1", "PARKSIDE-N1", "parkside"),
        subscription("ada", "parkside", "north-1", email="ada@example.com", person="Ada Lovelace"),
    )
    return objects


async def test_sent_once_with_its_facts_and_a_link_for_this_nonce_only(
    world: World, server: SmtpServer, control_plane: ControlPlane, namespace: str
) -> None:
    sender = postman(control_plane)
    outcome = await world.settle(sender)
    again = await world.settle(sender)
    third = await world.settle(postman(control_plane))  # another process, after a restart

    [received] = server.mailbox.messages()
    assert received.recipients == ["ada@example.com"]
    invitation = await world.invitation()
    assert invitation["sentTo"] == "ada@example.com"
    assert outcome.sent == "no invitation is out"
    assert outcome.reason == c.AWAITING_ACCEPTANCE
    assert outcome.message.startswith("Invitation sent to ada@example.com at ")
    assert (again.sent, third.sent) == (None, None)
    assert again.message == third.message == outcome.message
    for line in OFFER_LINES:
        assert line in received.text
    claims = tokens.verify(
        token_of(received), key=SIGNING_KEY, purpose=tokens.Purpose.INVITATION, now=datetime.now(UTC)
    )
    uid = (await world.get("subscription", "ada"))["metadata"]["uid"]
    assert (claims.namespace, claims.subscription, claims.uid) == (namespace, "ada", uid)
    assert claims.nonce == invitation["nonce"]
    assert claims.expires == datetime.fromisoformat(invitation["expiresAt"])
    assert received.message["Message-ID"] == f"<invitation.{uid}.{invitation['nonce']}@parkside.example>"


async def test_two_operators_at_once_send_one_email(
    world: World, server: SmtpServer, control_plane: ControlPlane
) -> None:
    outcomes = await asyncio.gather(*(world.settle(postman(control_plane)) for _ in range(4)))

    assert len(server.mailbox.messages()) == 1
    assert [outcome.sent is not None for outcome in outcomes].count(True) == 1


async def test_a_server_that_is_down_is_retried_and_the_withdrawn_attempt_leaves_no_valid_link(
    world: World, server: SmtpServer, control_plane: ControlPlane
) -> None:
    server.stop()
    sender = postman(control_plane)
    failed = await world.settle(sender, attempt=2)

    assert failed.reason == c.INVITATION_FAILED
    assert failed.message.startswith(f"Could not send the invitation to ada@example.com: 127.0.0.1:{server.port}: ")
    assert "Connection refused" in failed.message
    assert failed.retry_s == 20  # the third attempt waits 5 s × 2²
    invitation = await world.invitation()
    assert "nonce" not in invitation
    assert "sentAt" not in invitation

    server.start()
    sent = await world.settle(sender, attempt=3)
    assert sent.sent is not None
    assert len(server.mailbox.messages()) == 1


async def test_an_interrupted_send_is_not_repeated_until_a_person_asks(
    world: World, server: SmtpServer, control_plane: ControlPlane
) -> None:
    sender = postman(control_plane)
    await world.settle(sender)
    # As a crash between recording the intent and recording the delivery leaves it:
    await asyncio.to_thread(
        world.kubectl,
        "patch",
        "subscription",
        "ada",
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": {"invitation": {"sentAt": None}}}),
    )
    first_nonce = (await world.invitation())["nonce"]

    unknown = await world.settle(postman(control_plane))
    assert unknown.reason == c.DELIVERY_UNKNOWN
    assert "set the chargeops.io/resend-invitation annotation" in unknown.message
    assert len(server.mailbox.messages()) == 1

    await world.annotate("ada", **{"chargeops.io/resend-invitation": "2026-09-29T08:00:00Z"})
    resent = await world.settle(sender)
    invitation = await world.invitation()
    assert resent.sent == "the chargeops.io/resend-invitation annotation asks for it"
    assert len(server.mailbox.messages()) == 2
    assert invitation["nonce"] != first_nonce
    assert invitation["resendRequest"] == "2026-09-29T08:00:00Z"
    assert "sentAt" in invitation
    assert token_of(server.mailbox.messages()[1]) != token_of(server.mailbox.messages()[0])
    assert (await world.settle(sender)).sent is None  # the same request is served once


async def test_a_new_address_gets_its_own_invitation(
    world: World, server: SmtpServer, control_plane: ControlPlane
) -> None:
    sender = postman(control_plane)
    await world.settle(sender)
    first_nonce = (await world.invitation())["nonce"]
    patch = {"spec": {"subscriber": {"email": "ada@new.example"}}}
    await asyncio.to_thread(world.kubectl, "patch", "subscription", "ada", "--type=merge", "-p", json.dumps(patch))

    sent = await world.settle(sender)
    await world.settle(sender)

    assert sent.sent == "spec.subscriber.email changed from ada@example.com"
    assert [m.recipients for m in server.mailbox.messages()] == [["ada@example.com"], ["ada@new.example"]]
    invitation = await world.invitation()
    assert invitation["sentTo"] == "ada@new.example"
    assert invitation["nonce"] != first_nonce


async def test_an_answered_subscription_gets_nothing(
    world: World, server: SmtpServer, control_plane: ControlPlane
) -> None:
    await world.annotate("ada", **{"chargeops.io/declined": "2026-09-29T08:00:00Z"})

    assert await world.settle(postman(control_plane)) is None
    assert server.mailbox.messages() == []


async def test_without_a_signing_key_nothing_is_sent_and_ready_says_why(
    world: World, server: SmtpServer, control_plane: ControlPlane
) -> None:
    outcome = await world.settle(postman(control_plane, key=None))

    assert outcome.reason == c.SIGNING_KEY_MISSING
    assert "--signing-key-file" in outcome.message
    assert server.mailbox.messages() == []
    assert await world.invitation() == {}


async def test_a_missing_login_secret_waits_and_then_logs_in_over_starttls(
    kubectl: NamespacedKubectl, control_plane: ControlPlane, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tls = Tls.make(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_file))  # the operator trusts the test CA
    server = SmtpServer(tls=tls, login=SMTP_LOGIN)
    server.start()
    try:
        world = World(kubectl)
        await world.apply(
            site("parkside", server),
            TARIFF,
            charger("north-1", "PARKSIDE-N1", "parkside"),
            subscription("ada", "parkside", "north-1", email="ada@example.com", person="Ada Lovelace"),
        )
        sender = postman(control_plane)
        missing = await world.settle(sender)
        assert missing.reason == c.SECRET_NOT_FOUND
        assert missing.message.startswith(f"Secret {kubectl.namespace}/smtp-login (key username) does not exist.")
        assert missing.retry_s is not None

        await world.apply(smtp_secret())
        assert (await world.settle(sender)).sent is not None
        assert len(server.mailbox.messages()) == 1
    finally:
        server.stop()
