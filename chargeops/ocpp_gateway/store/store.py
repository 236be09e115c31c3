"""``Store``: the gateway's one seam to its database, used by the protocol code and the control API.

Open one per process with ``await Store.open(url)`` (it migrates the schema to the newest revision) and
close it at shutdown. Each method is one short transaction, committed before it returns: a StartTransaction
is durable before the charger hears its transactionId. The work is in the modules beside this one; this
class checks arguments, supplies ``now`` and picks read or write transactions.

Times are timezone-aware and stored as UTC; a naive datetime raises ``NaiveTimestampError``. Where the
store stamps a time (``updated_at``, ``received_at``) the caller may pass ``now``; otherwise it is the
current UTC time.
"""

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Connection, text

from chargeops.api import gateway
from chargeops.ocpp_gateway.store import (
    credentials,
    database,
    desired,
    errors,
    events,
    folding,
    migrations,
    observed,
    outcomes,
    replicas,
    sessions,
    transactions,
)

# Departures written per transaction by ``Store.depart``: short enough not to hold a replica's row locks for
# long, few enough that 16,667 take a handful of statements.
DEPARTURES_PER_WRITE = 2_000


class Store:
    """Desired and observed state per charger, and every charging session, in SQLite or PostgreSQL."""

    def __init__(self, db: database.Database, passwords: credentials.PasswordChecker) -> None:
        # Use ``Store.open``, which migrates the schema first.
        self._db = db
        self._passwords = passwords

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        engine_options: Mapping[str, Any] | None = None,
        password_wait_limit_s: float = credentials.DEFAULT_WAIT_LIMIT_S,
        password_key: bytes | None = None,
    ) -> Self:
        """Connect to ``url`` (``sqlite+aiosqlite:///path.db`` or ``postgresql+asyncpg://…``) and migrate.

        ``engine_options`` go to SQLAlchemy's ``create_engine`` (SQLite) or ``create_async_engine``
        (PostgreSQL): ``pool_size``, ``echo``, …. ``password_wait_limit_s`` is how long a password check
        may take, queue included, before ``verify_password`` refuses it as busy (``credentials``).
        ``password_key``, shared by every replica, lets verified passwords be remembered in the store
        (``credentials``): a restarted replica then spends no scrypt on chargers verified before.
        """
        db = database.Database.connect(url, engine_options=engine_options)
        try:
            await migrations.upgrade(db)
        except BaseException:
            await db.dispose()
            raise
        checker = credentials.PasswordChecker(
            wait_limit_s=password_wait_limit_s, key=password_key, record=_verifier_writer(db)
        )
        return cls(db, checker)

    async def close(self) -> None:
        """Close every database connection; the store is unusable afterwards."""
        self._passwords.close()
        await self._db.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._db.dialect

    async def ping(self) -> None:
        """Return if the database answers a query; raise ``StoreUnavailableError`` if not (readiness)."""
        await self._db.read(_select_one)

    # Desired state ---------------------------------------------------------------------------------

    async def put_desired(
        self, cp_id: str, desired_state: gateway.DesiredState, *, now: datetime | None = None
    ) -> gateway.StoredDesiredState:
        """Create or replace the desired state of ``cp_id``; see ``desired`` for versions and passwords.

        A given password is stored as a salted hash (the old hash is kept if the password is unchanged);
        without one the stored hash stays. Either way the given password is remembered as verified, so
        the charger's next connection costs no scrypt.
        """
        stamp = _now(now)
        new_hash = new_verifier = None
        if desired_state.password is not None:
            stored = await self._db.read_statement(desired.stored_password, cp_id)
            new_hash = await self._passwords.hash_for(
                cp_id, desired_state.password, stored=stored.hash, verifier=stored.verifier
            )
            new_verifier = self._passwords.verifier_for(new_hash, desired_state.password)
        return await self._db.write(
            desired.put, cp_id, desired_state, new_password_hash=new_hash, new_password_verifier=new_verifier, now=stamp
        )

    async def get_desired(self, cp_id: str) -> gateway.StoredDesiredState | None:
        """The desired state of ``cp_id``, or None if the operator never PUT one."""
        return await self._db.read_statement(desired.get, cp_id)

    async def list_desired(self) -> list[gateway.StoredDesiredState]:
        """Every stored desired state, ordered by charge point id."""
        return await self._db.read(desired.list_all)

    async def delete_charger(self, cp_id: str) -> bool:
        """Forget the desired and observed state of ``cp_id``; True if there was any. Sessions are history
        and stay."""
        self._passwords.forget(cp_id)
        return await self._db.write(desired.delete_charger, cp_id)

    async def login(self, cp_id: str) -> credentials.Login:
        """The desired state of ``cp_id`` and the check of its password, read in one statement: what
        the websocket handshake needs. ``Login.verify`` is ``verify_password`` without the second read."""
        row = await self._db.read_statement(desired.get_for_login, cp_id)
        return credentials.Login(row.desired, self._passwords, cp_id, row.password_hash, row.password_verifier)

    def password_check_busy(self, cp_id: str, password: str) -> errors.PasswordCheckBusyError | None:
        """What ``Login.verify`` of ``password`` would be refused with now for want of room in the password
        queue, known before anything is read; None if it may go ahead (``PasswordChecker.busy_for``)."""
        return self._passwords.busy_for(cp_id, password)

    async def verify_password(self, cp_id: str, password: str) -> bool:
        """Whether ``password`` is the Basic-auth password of ``cp_id``; False for an unknown id.

        An unknown id (or one without a password) waits as long as a scrypt check would take, without
        computing one, so the answer's timing does not tell it from a wrong password. Only a correct
        password is answered faster, from memory. Raises ``PasswordCheckBusyError`` when the checks
        queued ahead would keep this one past the wait limit (see ``credentials``).
        """
        return await (await self.login(cp_id)).verify(password)

    # Observed state --------------------------------------------------------------------------------

    async def get_observed(self, cp_id: str) -> gateway.ObservedState:
        """What the gateway last saw of ``cp_id``; an empty record for a charger never seen."""
        return await self._db.read_statement(observed.get, cp_id)

    async def update_observed(
        self,
        cp_id: str,
        changes: Mapping[str, object],
        *,
        replace: Collection[str] = (),
        now: datetime | None = None,
        if_held_by: str | None = None,
    ) -> gateway.ObservedState:
        """Merge ``changes`` (snake_case ObservedState fields) into the observed state of ``cp_id``.

        Dict fields merge key by key (a key set to None is removed) unless named in ``replace``; other
        fields are replaced. Raises ``InvalidObservedStateError`` (storing nothing) for an unknown field
        or a bad value. With ``if_held_by`` (a replica id), nothing is written unless the stored state
        names that replica as the one holding the charger's connection.
        """
        stamp = _now(now)
        return await self._db.write(
            observed.update_state, cp_id, changes, replace=replace, now=stamp, if_held_by=if_held_by
        )

    async def depart(
        self, last_seen: Mapping[str, datetime | None], *, held_by: str, now: datetime | None = None
    ) -> None:
        """Record that the chargers of ``last_seen`` (id -> last heard from) left replica ``held_by``, each
        only while its stored state names that replica; for a replica that stops (``observed.depart``)."""
        stamp = _now(now)
        departures = list(last_seen.items())
        for start in range(0, len(departures), DEPARTURES_PER_WRITE):
            chunk = dict(departures[start : start + DEPARTURES_PER_WRITE])
            await self._db.write(observed.depart, chunk, held_by=held_by, now=stamp)

    async def list_observed(self) -> list[gateway.ObservedState]:
        """The observed state of every charger seen, ordered by charge point id."""
        return await self._db.read(observed.list_all)

    # Replica leases -------------------------------------------------------------------------------

    async def renew_lease(
        self, replica_id: str, *, ocpp_address: str, control_address: str, ttl_s: float
    ) -> replicas.Lease:
        """Create or extend the lease of gateway replica ``replica_id`` to ``ttl_s`` seconds from now (the
        database's clock); see ``replicas``."""
        return await self._db.write(
            replicas.renew,
            replica_id,
            ocpp_address=ocpp_address,
            control_address=control_address,
            ttl=timedelta(seconds=ttl_s),
        )

    async def live_replicas(self) -> dict[str, replicas.Lease]:
        """The replicas whose lease runs now, by replica id."""
        return await self._db.read(replicas.live)

    async def release_lease(self, replica_id: str) -> bool:
        """End the lease of ``replica_id`` (it stops cleanly); True if it had one."""
        return await self._db.write(replicas.release, replica_id)

    async def notify(self, channel: str, payload: str) -> None:
        """NOTIFY ``channel`` with ``payload`` (PostgreSQL): heard by the replicas listening now."""
        await self._db.write(replicas.notify, channel, payload)

    # OCPP 1.6 transactions and meter values --------------------------------------------------------

    async def start_transaction(
        self,
        cp_id: str,
        *,
        connector_id: int,
        id_tag: str,
        meter_start_wh: int,
        timestamp: datetime,
        flags: Collection[gateway.SessionFlag] = (),
        now: datetime | None = None,
    ) -> outcomes.StartOutcome:
        """Store a 1.6 StartTransaction durably and give its transactionId.

        The same (charger, connector, id tag, timestamp, meterStart) again is a retry: it gets the same
        transactionId with ``duplicate=True``. Ids are unique across the database, so across replicas.
        """
        _aware(timestamp, "timestamp")
        stamp = _now(now)
        return await self._db.write(
            transactions.start,
            cp_id,
            connector_id=connector_id,
            id_tag=id_tag,
            meter_start_wh=meter_start_wh,
            timestamp=timestamp,
            flags=flags,
            now=stamp,
        )

    async def stop_transaction(
        self,
        cp_id: str,
        transaction_id: int,
        *,
        meter_stop_wh: int,
        timestamp: datetime,
        reason: str | None,
        id_tag: str | None,
        transaction_data: Sequence[Mapping[str, Any]] = (),
        readings: Sequence[tuple[datetime, int]] = (),
        now: datetime | None = None,
    ) -> outcomes.StopOutcome:
        """Close the session of a 1.6 StopTransaction once, keeping the raw stop and its ``readings``.

        A retried stop is ``duplicate`` and changes nothing. A transactionId this charger never got is
        ``unknown``; its stop is kept as an orphan record all the same. meterStop below meterStart is
        kept as reported and flagged ``NegativeEnergy``. ``readings`` are the (timestamp, Wh) energy
        register values the caller read out of ``transaction_data``.
        """
        _aware(timestamp, "timestamp")
        for reading_time, _ in readings:
            _aware(reading_time, "readings")
        if not transactions.INT64_MIN <= transaction_id <= transactions.INT64_MAX:
            raise errors.InvalidTransactionIdError(
                f"transactionId {transaction_id} is outside the 64-bit range of the ids this gateway issues.",
                transaction_id=transaction_id,
            )
        stamp = _now(now)
        return await self._db.write(
            transactions.stop,
            cp_id,
            transaction_id,
            meter_stop_wh=meter_stop_wh,
            timestamp=timestamp,
            reason=reason,
            id_tag=id_tag,
            transaction_data=transaction_data,
            stop_readings=readings,
            now=stamp,
        )

    async def add_meter_values(
        self,
        cp_id: str,
        *,
        connector_id: int,
        transaction_id: str | None,
        readings: Sequence[tuple[datetime, int]],
        raw: Sequence[Mapping[str, Any]] = (),
        now: datetime | None = None,
    ) -> int:
        """Add energy register readings (timestamp, Wh) to the session of ``transaction_id``; return how
        many were new (a timestamp the session has is skipped).

        ``transaction_id`` is the OCPP one: 1.6 ``str(int)`` or the 2.0.1 charger's string. Readings of
        no transaction, or of an unknown one, attach to nothing; ``raw`` (the meterValue list as
        received) is kept either way, when given.
        """
        for reading_time, _ in readings:
            _aware(reading_time, "readings")
        stamp = _now(now)
        return await self._db.write(
            transactions.add_meter_values,
            cp_id,
            connector_id=connector_id,
            transaction_id=transaction_id,
            new_readings=readings,
            raw=raw,
            now=stamp,
        )

    # OCPP 2.0.1 transactions -----------------------------------------------------------------------

    async def record_transaction_event(
        self,
        cp_id: str,
        *,
        event_type: outcomes.TransactionEventType,
        transaction_id: str,
        seq_no: int,
        timestamp: datetime,
        connector_id: int | None,
        id_tag: str | None,
        meter_wh: int | None,
        offline: bool,
        stopped_reason: str | None,
        raw: Mapping[str, Any],
        flags: Collection[gateway.SessionFlag] = (),
        now: datetime | None = None,
    ) -> outcomes.EventOutcome:
        """Store a 2.0.1 TransactionEvent once and fold it into its session (``folding`` has the rules).

        The same (charger, transactionId, seqNo) again is ``duplicate`` and changes nothing. Whichever
        event comes first creates the session; ``Ended`` closes it; ``offline`` flags ``DeliveredLate``.
        ``connector_id`` is the EVSE id, None when the event carries none.
        """
        _aware(timestamp, "timestamp")
        stamp = _now(now)
        event = folding.Event(
            event_type=event_type,
            timestamp=timestamp,
            connector_id=connector_id,
            id_tag=id_tag,
            meter_wh=meter_wh,
            offline=offline,
            stopped_reason=stopped_reason,
        )
        return await self._db.write(
            events.record,
            cp_id,
            transaction_id=transaction_id,
            seq_no=seq_no,
            event=event,
            raw=raw,
            flags=flags,
            now=stamp,
        )

    # Sessions --------------------------------------------------------------------------------------

    async def list_sessions(
        self,
        *,
        charge_point_id: str | None = None,
        id_tag: str | Collection[str] | None = None,
        started_from: datetime | None = None,
        started_to: datetime | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> gateway.SessionPage:
        """One page of sessions in the order (started_at, id), filtered by every argument given.

        ``id_tag`` is one tag or several (a session with any of them matches). ``started_from`` is
        inclusive and ``started_to`` exclusive. ``cursor`` is a previous page's ``next_cursor``; ``limit``
        is 1 to 1000.
        """
        _aware_range(started_from, started_to)
        return await self._db.read(
            sessions.page,
            charge_point_id=charge_point_id,
            id_tag=id_tag,
            started_from=started_from,
            started_to=started_to,
            cursor=cursor,
            limit=limit,
        )

    async def list_sessions_with_readings(
        self,
        *,
        charge_point_id: str | None = None,
        id_tag: str | Collection[str] | None = None,
        started_from: datetime | None = None,
        started_to: datetime | None = None,
        cursor: str | None = None,
        limit: int = 100,
        offsets: bool = False,
    ) -> str:
        """``list_sessions``, each session with its energy register readings (one more query per page), as
        the JSON text of a ``SessionWithReadingsPage``, ready to send.

        For a reader that needs every session's readings, such as the billing pass: a page of 500
        sessions costs two queries instead of 501, and the cursors are interchangeable with
        ``list_sessions``' ones. Text, not models, because the readings go from the rows to the text
        directly (``sessions.page_with_readings``). With ``offsets``, a ``SessionWithReadingOffsetsPage``.
        """
        _aware_range(started_from, started_to)
        return await self._db.read(
            sessions.page_with_readings,
            charge_point_id=charge_point_id,
            id_tag=id_tag,
            started_from=started_from,
            started_to=started_to,
            cursor=cursor,
            limit=limit,
            offsets=offsets,
        )

    async def get_session(self, session_id: str) -> gateway.Session | None:
        """The session with the gateway's id ``session_id``, or None."""
        return await self._db.read(sessions.get, session_id)

    async def meter_readings(self, session_id: str) -> list[gateway.MeterReading]:
        """The energy register readings of a session in time order (empty for an unknown id)."""
        return await self._db.read(sessions.readings, session_id)

    # -----------------------------------------------------------------------------------------------


def _select_one(_db: database.Database, conn: Connection) -> None:
    conn.execute(text("SELECT 1"))


def _aware(value: datetime, field: str) -> datetime:
    """``value`` if it carries a time zone; the store never guesses one."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise errors.NaiveTimestampError(
            f"{field} {value.isoformat()} has no time zone; pass an aware datetime (UTC or with an offset).",
            field=field,
        )
    return value


def _aware_range(started_from: datetime | None, started_to: datetime | None) -> None:
    for name, value in (("started_from", started_from), ("started_to", started_to)):
        if value is not None:
            _aware(value, name)


def _now(now: datetime | None) -> datetime:
    return datetime.now(UTC) if now is None else _aware(now, "now")


def _verifier_writer(db: database.Database) -> credentials.RecordVerifier:
    """How the password checker stores a verifier: one write, committed like any other."""

    async def record(cp_id: str, stored: str, verifier: str) -> None:
        await db.write(desired.put_verifier, cp_id, stored, verifier)

    return record
