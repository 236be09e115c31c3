"""Whether a link may be used: token failures become pages with the right status, and an invitation link
works only for its Subscription, once, while its nonce is the latest."""

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chargeops.api.v1alpha1 import Subscription
from chargeops.invitations import tokens
from chargeops.portal import links
from chargeops.portal.errors import LinkRefusedError

KEY = b"k" * 32
NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CLAIMS = tokens.Claims(
    purpose=tokens.Purpose.INVITATION,
    namespace="garage",
    subscription="ada",
    uid="uid-1",
    nonce="n-1",
    expires=NOW + timedelta(days=7),
)


def stored(*, uid: str = "uid-1", nonce: str | None = "n-1", annotations: dict[str, str] | None = None) -> Subscription:
    body: dict[str, Any] = {
        "metadata": {"name": "ada", "namespace": "garage", "uid": uid, "annotations": annotations or {}},
        "spec": {
            "siteRef": {"name": "parkside"},
            "subscriber": {"name": "Ada", "email": "ada@example.com"},
            "idTags": ["TAG-1"],
            "chargerRefs": [{"name": "north-1"}],
            "startDate": "2026-11-01",
        },
        "status": {"invitation": {"nonce": nonce}} if nonce else {},
    }
    return Subscription.model_validate(body)


def refusal(error: pytest.ExceptionInfo[LinkRefusedError]) -> tuple[int, str]:
    return error.value.status, error.value.reason


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("garbage", (400, "MalformedToken")),
        (tokens.issue(CLAIMS, key=b"x" * 32), (403, "InvalidSignature")),
        (tokens.issue(CLAIMS, key=KEY)[:-2] + "AA", (403, "InvalidSignature")),
        (tokens.issue(dataclasses.replace(CLAIMS, purpose=tokens.Purpose.ACCOUNT), key=KEY), (400, "WrongPurpose")),
    ],
)
def test_token_failures_are_refusals_with_a_status(token: str, expected: tuple[int, str]) -> None:
    with pytest.raises(LinkRefusedError) as refused:
        links.claims_of(token, key=KEY, purpose=tokens.Purpose.INVITATION, now=NOW)
    assert refusal(refused) == expected


def test_a_good_token_gives_its_claims() -> None:
    token = tokens.issue(CLAIMS, key=KEY)
    assert links.claims_of(token, key=KEY, purpose=tokens.Purpose.INVITATION, now=NOW) == CLAIMS


def test_an_expired_token_is_gone() -> None:
    token = tokens.issue(CLAIMS, key=KEY)
    with pytest.raises(LinkRefusedError) as refused:
        links.claims_of(token, key=KEY, purpose=tokens.Purpose.INVITATION, now=NOW + timedelta(days=8))
    assert refusal(refused) == (410, "ExpiredToken")
    assert "Ask the site's manager for a new invitation." in str(refused.value)


def test_an_open_invitation_passes() -> None:
    subscription = stored()
    assert links.open_invitation(CLAIMS, subscription, tz=AMSTERDAM) is subscription


@pytest.mark.parametrize(
    ("subscription", "expected"),
    [
        (None, (410, "SubscriptionGone")),
        (stored(uid="uid-2"), (410, "SubscriptionGone")),
        (stored(nonce="n-2"), (410, "InvitationReplaced")),
        (stored(nonce=None), (410, "InvitationReplaced")),
        (stored(annotations={"chargeops.io/accepted": "2026-11-27T13:05:00Z"}), (409, "AlreadyAnswered")),
        # Answered, and then sent again: still answered, which is what the subscriber needs to hear.
        (stored(nonce="n-2", annotations={"chargeops.io/declined": "x"}), (409, "AlreadyAnswered")),
    ],
)
def test_a_used_replaced_or_foreign_invitation_is_refused(
    subscription: Subscription | None, expected: tuple[int, str]
) -> None:
    with pytest.raises(LinkRefusedError) as refused:
        links.open_invitation(CLAIMS, subscription, tz=AMSTERDAM)
    assert refusal(refused) == expected


def test_an_answer_is_told_in_the_sites_time() -> None:
    answered = stored(annotations={"chargeops.io/accepted": "2026-11-27T13:05:00Z"})
    with pytest.raises(LinkRefusedError) as refused:
        links.open_invitation(CLAIMS, answered, tz=AMSTERDAM)
    assert refused.value.title == "Already accepted"
    assert "You accepted this invitation on 2026-11-27 at 14:05." in str(refused.value)


def test_answers_are_stamped_in_utc_to_the_second() -> None:
    local = datetime(2026, 11, 27, 15, 4, 3, 999_999, tzinfo=AMSTERDAM)
    assert links.stamp(local) == "2026-11-27T14:04:03Z"
