"""Invitation emails, from the operator's side: when a Subscription needs one, and sending each once.

The Subscription handler calls ``Postman.settle`` while a subscription awaits its subscriber's answer on
a site that invites by email (``subscriptions.invites_by_email``). Everything the operator knows about
the invitation lives in the Subscription's ``status.invitation``, so a restarted operator knows it too:

- ``nonce`` unset: no invitation is out. One is due.
- ``nonce`` and ``sentAt`` set: invitation ``nonce`` went to ``sentTo``. Another is due only when
  ``spec.subscriber.email`` differs from ``sentTo`` or the resend annotation holds a value other than
  ``resendRequest``; it gets a new nonce, so the old link stops working.
- ``nonce`` set, ``sentAt`` unset: an invitation was being sent when the operator stopped. It may have
  arrived. The operator chooses *at most once*: it does not send it again by itself, and says so in
  ``Ready`` (reason ``DeliveryUnknown``); a person sets the resend annotation to send a new one.

Sending goes: decide from the object as stored now (not kopf's copy), write the intent (new ``nonce``,
``sentTo``, ``expiresAt``, ``resendRequest``, no ``sentAt``) at the ``resourceVersion`` read, then hand
the email to the SMTP server, then write ``sentAt``. If the server refused it or could not be reached, it
was certainly not delivered: the intent is withdrawn (``nonce`` removed) and the handler retries with
backoff (reason ``InvitationFailed``, with the server's words). Within one operator process a lock per
Subscription keeps the change handler and the timer from sending at the same time.
"""

import asyncio
import dataclasses
import secrets
from collections.abc import Awaitable, Mapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Protocol

from kubernetes.client.exceptions import ApiException

from chargeops.api.v1alpha1 import (
    Charger,
    Invitation,
    InvitationSettings,
    Site,
    SmtpSettings,
    Subscription,
    Tariff,
    parse_duration,
)
from chargeops.api.v1alpha1 import conditions as c
from chargeops.api.v1alpha1.subscription import ACCEPTED_ANNOTATION, DECLINED_ANNOTATION, RESEND_ANNOTATION
from chargeops.invitations import email, offer, tokens
from chargeops.invitations.errors import TariffUnavailableError
from chargeops.operator import mail
from chargeops.operator.clock import Clock
from chargeops.operator.errors import MailRefusedError, MailUncertainError, SecretNotFoundError
from chargeops.operator.subscription_store import SubscriptionConflictError, SubscriptionStore

# Backoff after a refused or unreachable SMTP server: 5 s, 10 s, 20 s, … at most 10 minutes apart.
RETRY_FIRST_S = 5.0
RETRY_MAX_S = 600.0
# A missing Secret or Tariff is looked for again this often (the Charger handler waits as long).
RECHECK_S = 15.0
# Reads and intent writes when another writer changes the object in between, before giving up for now.
WRITE_ATTEMPTS = 3
# 128 random bits: a nonce names one invitation; guessing one proves nothing without the signing key.
NONCE_BYTES = 16


class SecretKeys(Protocol):
    """Reads one key of a Secret by name (``runtime.SecretReader``)."""

    async def require(self, namespace: str, name: str, key: str) -> str: ...


class Sender(Protocol):
    """Hands one email to an SMTP server (``mail.send``)."""

    def __call__(
        self,
        message: EmailMessage,
        *,
        to: str,
        smtp: SmtpSettings,
        login: mail.Login | None = ...,
        timeout_s: float = ...,
    ) -> Awaitable[None]: ...


@dataclasses.dataclass(frozen=True)
class Outcome:
    """Where the invitation stands, as Ready should say it while the subscription waits for its answer."""

    reason: str
    message: str
    retry_s: float | None = None
    """Try again after this many seconds (None: nothing to do until something changes)."""

    sent: str | None = None
    """Why this call sent an invitation (``due``'s words), or None when it sent none."""


def due(subscription: Subscription) -> str | None:
    """Why a new invitation must go out now, in words, or None when the last one stands."""
    invitation = _invitation(subscription)
    resend = _annotations(subscription).get(RESEND_ANNOTATION)
    if invitation.nonce is None:
        return "no invitation is out"
    if invitation.sent_to != subscription.spec.subscriber.email:
        return f"spec.subscriber.email changed from {invitation.sent_to}"
    if resend is not None and resend != invitation.resend_request:
        return f"the {RESEND_ANNOTATION} annotation asks for it"
    return None


def answered(subscription: Subscription) -> bool:
    """Whether the subscriber accepted or declined."""
    annotations = _annotations(subscription)
    return ACCEPTED_ANNOTATION in annotations or DECLINED_ANNOTATION in annotations


def backoff(attempt: int) -> float:
    """Seconds to wait before attempt ``attempt + 1`` after ``attempt`` failed ones."""
    return min(RETRY_MAX_S, RETRY_FIRST_S * (1 << min(max(attempt, 0), 16)))


def standing(invitation: Invitation, *, now: datetime) -> Outcome:
    """What Ready says about the invitation already out."""
    if invitation.sent_at is None:
        return Outcome(
            c.DELIVERY_UNKNOWN,
            f"Delivery unknown: the operator stopped while sending the invitation to {invitation.sent_to}, which "
            f"may or may not have arrived; set the {RESEND_ANNOTATION} annotation to send it again.",
        )
    sent = f"Invitation sent to {invitation.sent_to} at {_utc(invitation.sent_at)}"
    if invitation.expires_at is not None and now >= invitation.expires_at:
        return Outcome(
            c.AWAITING_ACCEPTANCE,
            f"{sent}; its link expired at {_utc(invitation.expires_at)}. Set the {RESEND_ANNOTATION} annotation "
            "to send a new one.",
        )
    return Outcome(c.AWAITING_ACCEPTANCE, f"{sent}; waiting for the answer.")


class Postman:
    """Sends a Subscription's invitation when one is due, at most once per nonce."""

    def __init__(
        self,
        store: SubscriptionStore,
        secret_keys: SecretKeys,
        *,
        key: bytes | None,
        clock: Clock,
        send: Sender = mail.send,
    ) -> None:
        self.store = store
        self.secret_keys = secret_keys
        self.key = key
        self.clock = clock
        self.send = send
        self._locks: dict[str, asyncio.Lock] = {}
        # Outcomes this process knows but could not write yet: (uid, nonce) -> sent at, or None for "not
        # delivered". They turn an unknown delivery back into a known one on the next call.
        self._known: dict[tuple[str, str], datetime | None] = {}

    async def settle(
        self,
        subscription: Subscription,
        *,
        site: Site,
        chargers: Sequence[Charger],
        tariffs: Mapping[str, Tariff],
        attempt: int = 0,
    ) -> Outcome | None:
        """Send the invitation of ``subscription`` if one is due; say where it stands. None when the
        subscription is gone or answered meanwhile (its phase changes on the next call)."""
        uid = str(subscription.metadata.get("uid"))
        lock = self._locks.setdefault(uid, asyncio.Lock())
        async with lock:
            for _ in range(WRITE_ATTEMPTS):
                fresh = await self.store.get(subscription.metadata["namespace"], subscription.metadata["name"])
                if fresh is None or fresh.metadata.get("uid") != uid or answered(fresh):
                    return None
                try:
                    return await self._settle(fresh, site=site, chargers=chargers, tariffs=tariffs, attempt=attempt)
                except SubscriptionConflictError:
                    continue  # changed between our read and our intent: read again
            return Outcome(c.PROGRESSING, "The subscription keeps changing; deciding on its invitation again.", 1.0)

    async def _settle(
        self,
        subscription: Subscription,
        *,
        site: Site,
        chargers: Sequence[Charger],
        tariffs: Mapping[str, Tariff],
        attempt: int,
    ) -> Outcome:
        subscription = await self._write_known(subscription)
        why = due(subscription)
        if why is None:
            return standing(_invitation(subscription), now=self.clock.now())
        settings = site.spec.invitations
        smtp = settings.smtp if settings is not None else None
        portal_url = settings.portal_url if settings is not None else None
        if settings is None or smtp is None or portal_url is None:
            # The API server's CEL rule requires both while acceptance is required.
            message = f"Site {site.metadata.get('name')} has no invitations.smtp or invitations.portalUrl."
            return Outcome(c.INVITATION_FAILED, message)
        key = self.key
        if key is None:
            return Outcome(
                c.SIGNING_KEY_MISSING,
                "The operator has no key to sign invitation links: start it with --signing-key-file or "
                "CHARGEOPS_SIGNING_KEY (the portal's key).",
            )
        try:
            facts = offer.describe(site, subscription, chargers, tariffs)
            login = await self._login(subscription, smtp)
        except TariffUnavailableError as error:
            return Outcome(c.TARIFF_NOT_FOUND, f"{error} The invitation waits for it.", RECHECK_S)
        except SecretNotFoundError as error:
            message = f"{error} invitations.smtp.credentialsSecretRef names it; looked up again."
            return Outcome(c.SECRET_NOT_FOUND, message, RECHECK_S)
        return await self._send(
            subscription,
            facts,
            login,
            why=why,
            settings=settings,
            smtp=smtp,
            portal_url=portal_url,
            key=key,
            attempt=attempt,
        )

    async def _send(
        self,
        subscription: Subscription,
        facts: offer.Offer,
        login: mail.Login | None,
        *,
        why: str,
        settings: InvitationSettings,
        smtp: SmtpSettings,
        portal_url: str,
        key: bytes,
        attempt: int,
    ) -> Outcome:
        metadata = subscription.metadata
        uid, address = str(metadata["uid"]), subscription.spec.subscriber.email
        now = self.clock.now()
        nonce = secrets.token_hex(NONCE_BYTES)
        expires = now + parse_duration(settings.link_validity)
        claims = tokens.Claims(tokens.Purpose.INVITATION, metadata["namespace"], metadata["name"], uid, nonce, expires)
        link = f"{portal_url.rstrip('/')}/invitation/{tokens.issue(claims, key=key)}"
        message = email.compose(
            facts,
            from_address=smtp.from_address,
            to_address=address,
            link=link,
            expires_at=expires,
            uid=uid,
            nonce=nonce,
            now=now,
        )
        intent = {
            "nonce": nonce,
            "sentTo": address,
            "sentAt": None,
            "expiresAt": _rfc3339(expires),
            "resendRequest": _annotations(subscription).get(RESEND_ANNOTATION),
        }
        try:
            recorded = await self.store.write_invitation(subscription, intent, unchanged=True)
        except ApiException as error:
            message_text = f"Could not record the invitation before sending it: {error.status} {error.reason}."
            return Outcome(c.INVITATION_FAILED, message_text, backoff(attempt))
        try:
            await self.send(message, to=address, smtp=smtp, login=login)
        except MailRefusedError as error:
            self._known[(uid, nonce)] = None
            await self._write_known(recorded)
            return Outcome(
                c.INVITATION_FAILED, f"Could not send the invitation to {address}: {error}.", backoff(attempt)
            )
        except MailUncertainError as error:
            return Outcome(
                c.DELIVERY_UNKNOWN,
                f"Delivery unknown: {error}. Set the {RESEND_ANNOTATION} annotation to send the invitation again.",
            )
        self._known[(uid, nonce)] = self.clock.now()
        recorded = await self._write_known(recorded)
        outcome = standing(_invitation(recorded), now=self.clock.now())
        if _invitation(recorded).sent_at is None:  # sent, but the API server did not take the record yet
            outcome = Outcome(c.AWAITING_ACCEPTANCE, f"Invitation sent to {address}; recording it.", backoff(attempt))
        return dataclasses.replace(outcome, sent=why)

    async def _write_known(self, subscription: Subscription) -> Subscription:
        """Write what this process knows of an invitation whose ``sentAt`` is missing; the object as it is
        afterwards (unchanged when the API server refused, and the knowledge kept for the next call)."""
        invitation = _invitation(subscription)
        key = (str(subscription.metadata.get("uid")), invitation.nonce or "")
        if invitation.nonce is None or invitation.sent_at is not None or key not in self._known:
            return subscription
        sent_at = self._known[key]
        # Not delivered: the intent is withdrawn, so the next call sends a new invitation.
        fields = {"nonce": None, "expiresAt": None} if sent_at is None else {"sentAt": _rfc3339(sent_at)}
        try:
            written = await self.store.write_invitation(subscription, fields)
        except ApiException:
            return subscription
        del self._known[key]
        return written

    async def _login(self, subscription: Subscription, smtp: SmtpSettings) -> mail.Login | None:
        ref = smtp.credentials_secret_ref
        if ref is None:
            return None
        namespace = str(subscription.metadata["namespace"])
        username = await self.secret_keys.require(namespace, ref.name, "username")
        password = await self.secret_keys.require(namespace, ref.name, "password")
        return mail.Login(username, password)


def _invitation(subscription: Subscription) -> Invitation:
    status = subscription.status
    return (status.invitation if status is not None else None) or Invitation()


def _annotations(subscription: Subscription) -> Mapping[str, str]:
    return subscription.metadata.get("annotations") or {}


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
