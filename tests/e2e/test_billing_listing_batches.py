"""The billing pass lists the sessions of several subscriptions of a site in one listing and splits them up
itself: each subscription gets exactly what a listing of its own gives, through a real gateway and store.

The subscriptions of a batch share id tags, cover different chargers, start on different days and read
their readings from different months, so every rule of the split is met at least once.
"""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chargeops.api.gateway import Session
from chargeops.api.v1alpha1 import Charger
from chargeops.ocpp_gateway.store import Store
from chargeops.operator import billing_pass
from chargeops.operator.gateway_client import GatewayClient
from tests.e2e.harness import gateway_settings, running_gateway

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
CHARGERS = ("BATCH-1", "BATCH-2", "BATCH-3")
TAGS = ("TAG-A", "TAG-B", "TAG-C", "TAG-D")


async def store_sessions(url: str) -> int:
    """Sessions every four hours from mid-August to November, rotating over the chargers and tags, each
    with a reading in the middle; a few at a charger or with a tag no subscription has."""
    count = 0
    async with await Store.open(url) as store:
        at = datetime(2026, 8, 15, 6, 0, tzinfo=UTC)
        while at < NOW - timedelta(hours=6):
            cp_id = (*CHARGERS, "ELSEWHERE")[count % 4]
            tag = (*TAGS, "STRANGER")[count % 5]
            started = await store.start_transaction(
                cp_id, connector_id=1, id_tag=tag, meter_start_wh=1000, timestamp=at
            )
            await store.stop_transaction(
                cp_id,
                started.transaction_id,
                meter_stop_wh=1000 + 7000,
                timestamp=at + timedelta(hours=3),
                reason="Local",
                id_tag=tag,
                readings=[(at + timedelta(hours=1), 1000 + 2500)],
            )
            at += timedelta(hours=4, minutes=7)
            count += 1
    return count


def want(name: str, tags: set[str], chargers: set[str], *, first: date, last: date, month: str) -> billing_pass._Want:
    # The listing asks only whether a session's charger is covered: the Charger objects play no part.
    covered = dict.fromkeys(chargers, Charger.model_construct())
    lookback = billing_pass.periods.month_start(
        billing_pass._months_back(month, billing_pass.LOOKBACK_MONTHS), AMSTERDAM
    )
    return billing_pass._Want(
        name=name,
        tags=frozenset(tags),
        covered=covered,
        first=first,
        last=last,
        started_from=max(lookback, billing_pass.periods.day_start(first, AMSTERDAM)),
        readings_from=billing_pass.periods.month_start(month, AMSTERDAM),
    )


WANTS = [
    want("ada", {"TAG-A", "TAG-B"}, {"BATCH-1", "BATCH-2"}, first=date(2026, 1, 1), last=date.max, month="2026-10"),
    # Shares TAG-B with ada, at another charger.
    want("bob", {"TAG-B"}, {"BATCH-3"}, first=date(2026, 10, 12), last=date.max, month="2026-10"),
    # Its readings from September on: a final October elsewhere does not hold it back.
    want("cy", {"TAG-C", "TAG-A"}, set(CHARGERS), first=date(2026, 8, 20), last=date(2026, 10, 20), month="2026-09"),
    want("dee", {"TAG-D"}, {"BATCH-2"}, first=date(2026, 10, 1), last=date(2026, 10, 31), month="2026-10"),
    want("eve", set(), set(CHARGERS), first=date(2026, 1, 1), last=date.max, month="2026-10"),
]


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[GatewayClient]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    assert await store_sessions(url) > 400
    settings = gateway_settings(url)
    async with running_gateway(settings) as running, GatewayClient(running.control_url, token=running.token) as gateway:
        yield gateway


def ids(sessions: list[Session]) -> list[tuple[datetime, str]]:
    return [(session.started_at, session.id) for session in sessions]


async def test_a_batch_lists_for_each_subscription_what_its_own_listing_does(client: GatewayClient) -> None:
    alone = {w.name: (await billing_pass._sessions(client, [w], until=NOW, tz=AMSTERDAM))[w.name] for w in WANTS}

    together = await billing_pass._sessions(client, WANTS, until=NOW, tz=AMSTERDAM)

    assert set(together) == set(alone)
    for name, sessions in alone.items():
        assert ids(together[name]) == ids(sessions), name
        assert together[name] == sessions, name
    # The case is not empty: shared tags, earlier months without readings, and each month drafted with them.
    assert {name for name, sessions in alone.items() if sessions} == {"ada", "bob", "cy", "dee"}
    assert not alone["eve"]
    earlier = [s for s in together["ada"] if s.started_at < WANTS[0].readings_from]
    assert earlier
    assert not any(hasattr(s, "reading_offsets_us") for s in earlier)
    assert all(hasattr(s, "reading_offsets_us") for s in together["cy"] if s.started_at >= WANTS[2].readings_from)
