"""The data of ``billing_run.py``: sites, chargers, tariffs and subscriptions, and a month of sessions.

Everything is deterministic from the ``Shape`` (its seed included), so the billing workers rebuild the
same objects the loader wrote sessions for, and a data folder can be reused between runs.

The Kubernetes side (``world``) is built in memory only: the benchmark times the billing pass up to the
invoice specs, not the API server. The gateway side (``load_sqlite``, ``load_postgresql``) goes straight
into the store's tables in bulk, after ``Store.open`` has migrated the schema, because sending a million
sessions through OCPP would take hours and is measured elsewhere (``gateway_load.py``).

What the month looks like (October 2026 in Europe/Amsterdam, which has the DST change of the 25th):

- sites of ``subscriptions_per_site`` subscriptions and ``chargers_per_site`` chargers, each charger on a
  plain energy tariff with a monthly fee; every fifth subscription has a time-of-day tariff of its own
  (off-peak 23:00-07:00, charging time and parking priced by day);
- half the subscriptions cover their site's chargers by label, the other half four named chargers; one
  in ten has a second id tag; one in twenty-five starts mid-month;
- a session charges at 3.7, 7.4 or 11 kW until the car has what it needs, then parks until it stops;
  the charger reports the register every 15 minutes; 10% are overnight (8-13 hours), so those of the
  31st run into November and are split; one in a thousand is flagged ``EstimatedStop`` (for review).
"""

import array
import asyncio
import dataclasses
import math
import random
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from chargeops.api.v1alpha1 import Charger, ChargerSpec, Site, Subscription, Tariff, approval
from chargeops.operator.billing_pass import Catalogue
from chargeops.operator.subscriptions import ACCEPTED_ANNOTATION

MONTH = "2026-10"
FIRST_DAY = date(2026, 10, 1)
DAYS = 31
ZONE = ZoneInfo("Europe/Amsterdam")
# The pass runs two days into November: October is closed, its invoices are drafts (72 h grace).
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
NAMESPACE = "bench"
SITE_LABEL = "bench.chargeops.io/site"
READING_INTERVAL = timedelta(minutes=15)
POWERS_W = (3_700, 7_400, 11_000)
OVERNIGHT_SHARE = 0.10
FLAGGED_SHARE = 0.001

STANDARD_TARIFF = {
    "currency": "EUR",
    "elements": [{"priceComponents": [{"type": "ENERGY", "price": "0.32", "vat": "21"}]}],
    "monthlyFee": {"price": "15.00", "vat": "21"},
}
TIME_OF_DAY_TARIFF = {
    "currency": "EUR",
    "elements": [
        {
            "restrictions": {"startTime": "23:00", "endTime": "07:00"},
            "priceComponents": [{"type": "ENERGY", "price": "0.19", "vat": "21"}],
        },
        {
            "priceComponents": [
                {"type": "ENERGY", "price": "0.36", "vat": "21"},
                {"type": "TIME", "price": "0.60", "vat": "21", "stepSize": 60},
                {"type": "PARKING_TIME", "price": "1.50", "vat": "21", "stepSize": 900},
                {"type": "FLAT", "price": "0.35", "vat": "21"},
            ]
        },
    ],
    "monthlyFee": {"price": "10.00", "vat": "21"},
}


@dataclasses.dataclass(frozen=True)
class Shape:
    """How big the benchmark's world is."""

    subscriptions: int
    sessions: int
    subscriptions_per_site: int = 100
    chargers_per_site: int = 20
    seed: int = 7

    @property
    def sites(self) -> int:
        return math.ceil(self.subscriptions / self.subscriptions_per_site)

    def subscriptions_of(self, site: int) -> range:
        """Global indices of the site's subscriptions."""
        first = site * self.subscriptions_per_site
        return range(first, min(first + self.subscriptions_per_site, self.subscriptions))

    def sessions_of(self, subscription: int) -> int:
        """How many sessions the subscription has in the month: the total shared out evenly."""
        share, rest = divmod(self.sessions, self.subscriptions)
        return share + (subscription < rest)


@dataclasses.dataclass(frozen=True)
class SiteWorld:
    """One site's objects, as the operator would read them from the API server."""

    site: Site
    catalogue: Catalogue
    subscriptions: list[Subscription]


# The Kubernetes objects ------------------------------------------------------------------------------


def site_world(shape: Shape, index: int) -> SiteWorld:
    """The objects of site ``index``."""
    name = f"site-{index:04d}"
    site = Site.model_validate(
        {
            "kind": "Site",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"plan": "Business", "currency": "EUR", "timeZone": ZONE.key, "billing": {"gracePeriod": "72h"}},
        }
    )
    tariffs = {
        "standard": _tariff("standard", STANDARD_TARIFF),
        "time-of-day": _tariff("time-of-day", TIME_OF_DAY_TARIFF),
    }
    chargers = [_charger(shape, index, number, site=name) for number in range(shape.chargers_per_site)]
    subscriptions = [_subscription(shape, index, s, site=name) for s in shape.subscriptions_of(index)]
    return SiteWorld(site, Catalogue(chargers=chargers, tariffs=tariffs), subscriptions)


def charge_point_id(site: int, number: int) -> str:
    return f"BENCH-{site:04d}-{number:02d}"


def id_tags(subscription: int) -> list[str]:
    tags = [f"T{subscription:06d}A"]
    if subscription % 10 == 3:
        tags.append(f"T{subscription:06d}B")
    return tags


def start_day(subscription: int) -> int:
    """Day of October (0-based) on which the subscription starts."""
    return 14 if subscription % 25 == 7 else 0


def covered_chargers(shape: Shape, subscription: int) -> list[int]:
    """Numbers of the site's chargers the subscription covers."""
    if subscription % 2 == 0:
        return list(range(shape.chargers_per_site))
    group = (subscription // 2) % max(1, shape.chargers_per_site // 4)
    return [n for n in range(group * 4, group * 4 + 4) if n < shape.chargers_per_site] or [0]


def _tariff(name: str, spec: dict[str, Any]) -> Tariff:
    return Tariff.model_validate({"kind": "Tariff", "metadata": {"name": name, "namespace": NAMESPACE}, "spec": spec})


def _charger(shape: Shape, site_index: int, number: int, *, site: str) -> Charger:
    spec = ChargerSpec.model_validate(
        {
            "chargePointId": charge_point_id(site_index, number),
            "siteRef": {"name": site},
            "chargingMode": {"payPerMonth": True, "tariffRef": {"name": "standard"}},
        }
    )
    metadata = {
        "name": f"s{site_index:04d}-c{number:02d}",
        "namespace": NAMESPACE,
        "labels": {SITE_LABEL: site},
        "annotations": {approval.ANNOTATION: approval.fingerprint(spec)},
    }
    return Charger.model_validate({"kind": "Charger", "metadata": metadata, "spec": spec.model_dump(by_alias=True)})


def _subscription(shape: Shape, site_index: int, subscription: int, *, site: str) -> Subscription:
    spec: dict[str, Any] = {
        "siteRef": {"name": site},
        "subscriber": {"name": f"Subscriber {subscription}", "email": f"s{subscription}@example.com"},
        "idTags": id_tags(subscription),
        "startDate": (FIRST_DAY + timedelta(days=start_day(subscription))).isoformat(),
    }
    if subscription % 2 == 0:
        spec["chargerSelector"] = {"matchLabels": {SITE_LABEL: site}}
    else:
        spec["chargerRefs"] = [{"name": f"s{site_index:04d}-c{n:02d}"} for n in covered_chargers(shape, subscription)]
    if subscription % 5 == 0:
        spec["tariffRef"] = {"name": "time-of-day"}
    metadata = {
        "name": f"sub-{subscription:06d}",
        "namespace": NAMESPACE,
        "annotations": {ACCEPTED_ANNOTATION: "2026-09-20T10:00:00Z"},
    }
    return Subscription.model_validate({"kind": "Subscription", "metadata": metadata, "spec": spec})


# The sessions ------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SessionRow:
    """One stored session and its register readings (timestamp, Wh)."""

    pk: int
    id: str
    charge_point_id: str
    id_tag: str
    started_at: datetime
    stopped_at: datetime
    meter_start_wh: int
    meter_stop_wh: int
    stop_reason: str
    estimated_stop: bool
    readings: list[tuple[datetime, int]]


def sessions(shape: Shape) -> Iterator[SessionRow]:
    """Every session of the month, day by day (as a gateway stores them: subscriptions interleaved)."""
    days_of = [_days(shape, s) for s in range(shape.subscriptions)]
    # One generator per subscription, drawn from in day order: the same sessions whatever the interleaving.
    rngs = [random.Random(f"{shape.seed}/{s}/sessions") for s in range(shape.subscriptions)]  # noqa: S311 - data, not secrets
    pk = 0
    for day in range(DAYS):
        for subscription in range(shape.subscriptions):
            for _ in range(days_of[subscription][day]):
                pk += 1
                yield _session(shape, rngs[subscription], pk, subscription, FIRST_DAY + timedelta(days=day))


def _days(shape: Shape, subscription: int) -> "array.array[int]":
    """Sessions per day of October for one subscription, on days it is subscribed."""
    rng = random.Random(f"{shape.seed}/{subscription}/days")  # noqa: S311 - data, not secrets
    counts = array.array("H", [0] * DAYS)
    for _ in range(shape.sessions_of(subscription)):
        counts[rng.randrange(start_day(subscription), DAYS)] += 1
    return counts


def _session(shape: Shape, rng: random.Random, pk: int, subscription: int, day: date) -> SessionRow:
    site = subscription // shape.subscriptions_per_site
    tags = id_tags(subscription)
    if rng.random() < OVERNIGHT_SHARE:
        local_start = time(17 + rng.randrange(6), rng.randrange(60), rng.randrange(60))
        duration = timedelta(seconds=rng.randrange(8 * 3600, 13 * 3600))
        need_wh = rng.randrange(15_000, 60_000)
    else:
        local_start = time(6 + rng.randrange(15), rng.randrange(60), rng.randrange(60))
        duration = timedelta(seconds=rng.randrange(20 * 60, 3 * 3600))
        need_wh = rng.randrange(3_000, 40_000)
    started = datetime.combine(day, local_start, tzinfo=ZONE).astimezone(UTC)
    stopped = started + duration
    power_w = rng.choice(POWERS_W)
    meter_start = rng.randrange(1_000_000, 900_000_000)

    def delivered(at: datetime) -> int:
        return min(need_wh, (at - started).seconds * power_w // 3600 + (at - started).days * 24 * power_w)

    readings = []
    at = started + READING_INTERVAL
    while at < stopped:
        readings.append((at, meter_start + delivered(at)))
        at += READING_INTERVAL
    return SessionRow(
        pk=pk,
        id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        charge_point_id=charge_point_id(site, rng.choice(covered_chargers(shape, subscription))),
        id_tag=rng.choice(tags),
        started_at=started,
        stopped_at=stopped,
        meter_start_wh=meter_start,
        meter_stop_wh=meter_start + delivered(stopped),
        stop_reason=rng.choice(("EVDisconnected", "Local", "Remote")),
        estimated_stop=rng.random() < FLAGGED_SHARE,
        readings=readings,
    )


# Loading into the store --------------------------------------------------------------------------------

_SESSION_COLUMNS = (
    "pk, id, charge_point_id, charger_transaction_id, connector_id, id_tag, started_at, stopped_at, "
    "meter_start_wh, meter_stop_wh, energy_wh, stop_reason, start_seen, flag_estimated_start, "
    "flag_estimated_stop, flag_negative_energy, flag_delivered_late, flag_unknown_id_tag, updated_at"
)
# Rows per transaction while loading: large enough to amortize the commit, small enough to stream.
_BATCH = 20_000


def _session_values(row: SessionRow, stamp: Any) -> tuple[Any, ...]:
    return (
        row.pk,
        row.id,
        row.charge_point_id,
        None,
        1,
        row.id_tag,
        stamp(row.started_at),
        stamp(row.stopped_at),
        row.meter_start_wh,
        row.meter_stop_wh,
        row.meter_stop_wh - row.meter_start_wh,
        row.stop_reason,
        True,
        False,
        row.estimated_stop,
        False,
        False,
        False,
        stamp(row.stopped_at),
    )


def sqlite_stamp(at: datetime) -> str:
    """A UTC instant as the store's ``UtcDateTime`` keeps it in SQLite (SQLAlchemy's DATETIME text)."""
    at = at.astimezone(UTC)
    return f"{at:%Y-%m-%d %H:%M:%S}.{at.microsecond:06d}"


def load_sqlite(path: Path, shape: Shape) -> tuple[int, int]:
    """Write the month's sessions into the migrated SQLite store at ``path``; (sessions, readings)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    session_sql = f"INSERT INTO sessions ({_SESSION_COLUMNS}) VALUES ({', '.join('?' * 19)})"  # noqa: S608 - constants
    reading_sql = "INSERT INTO meter_readings (session_pk, timestamp, energy_wh) VALUES (?, ?, ?)"
    counts = [0, 0]

    def flush(batch: list[SessionRow]) -> None:
        conn.execute("BEGIN")
        conn.executemany(session_sql, (_session_values(row, sqlite_stamp) for row in batch))
        conn.executemany(reading_sql, ((row.pk, sqlite_stamp(at), wh) for row in batch for at, wh in row.readings))
        conn.execute("COMMIT")
        counts[0] += len(batch)
        counts[1] += sum(len(row.readings) for row in batch)

    _batched(sessions(shape), flush)
    conn.execute("PRAGMA optimize")
    conn.close()
    return counts[0], counts[1]


async def load_postgresql(dsn: str, shape: Shape) -> tuple[int, int]:
    """Write the month's sessions into the migrated PostgreSQL store (``postgresql://`` DSN) with COPY."""
    import asyncpg  # noqa: PLC0415 - only this loader needs the driver directly

    conn = await asyncpg.connect(dsn)
    counts = [0, 0]
    columns = [c.strip() for c in _SESSION_COLUMNS.split(",")]
    batch: list[SessionRow] = []
    try:
        for row in sessions(shape):
            batch.append(row)
            if len(batch) >= _BATCH:
                await _copy(conn, batch, columns, counts)
                batch = []
        if batch:
            await _copy(conn, batch, columns, counts)
        await conn.execute("SELECT setval(pg_get_serial_sequence('sessions', 'pk'), $1)", max(counts[0], 1))
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return counts[0], counts[1]


async def _copy(conn: Any, batch: list[SessionRow], columns: list[str], counts: list[int]) -> None:
    async with conn.transaction():
        await conn.copy_records_to_table(
            "sessions", records=[_session_values(row, lambda at: at) for row in batch], columns=columns
        )
        await conn.copy_records_to_table(
            "meter_readings",
            records=[(row.pk, at, wh) for row in batch for at, wh in row.readings],
            columns=["session_pk", "timestamp", "energy_wh"],
        )
    counts[0] += len(batch)
    counts[1] += sum(len(row.readings) for row in batch)


def _batched(rows: Iterator[SessionRow], flush: Any) -> None:
    batch: list[SessionRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= _BATCH:
            flush(batch)
            batch = []
    if batch:
        flush(batch)


def run_postgresql_load(dsn: str, shape: Shape) -> tuple[int, int]:
    return asyncio.run(load_postgresql(dsn, shape))
