"""One engine for the store, and the two ways the store runs a query function: ``read`` and ``write``.

``Store.open`` makes one ``Database``. The query modules (``desired``, ``transactions``, …) are plain
synchronous functions ``fn(db, conn, …)`` over a SQLAlchemy ``Connection``; ``read``/``write`` run one
of them inside one transaction and return its result to the event loop. What differs between the two
supported databases is settled here, so the query modules stay dialect-free:

- **SQLite** (``sqlite+aiosqlite:///path.db``, the gateway's default, or ``sqlite:///path.db``): runs on
  Python's ``sqlite3`` in one worker thread, one thread hand-off per store call. The URL may name the
  aiosqlite driver, as async SQLAlchemy URLs do, but aiosqlite itself is not used: it hands every
  cursor operation to its thread, about ten hand-offs per call, which made the store two to three times
  slower in ``bench/store_throughput.py``. One thread also serializes the writes, as SQLite allows only
  one writer. Writes that queue up while one transaction runs are committed together in the next one
  (group commit), each inside its own savepoint: a write that raises is rolled back alone, and no
  caller hears of its write before the commit. Opening and committing a transaction and the thread
  hand-off cost more than a typical write's statements (``bench/gateway_load.py --mode saturation``),
  so under load this roughly halves the store's CPU. WAL journal, so another process's readers never
  wait; ``synchronous=NORMAL``, so a commit survives the gateway being killed (a power cut may lose
  the last ones); foreign keys on. Writes take ``BEGIN IMMEDIATE``, so a second process waits for the
  write lock up front instead of failing half-way ("database is locked").
- **PostgreSQL** (``postgresql+asyncpg://…``, several gateway replicas): the async engine runs the same
  function through ``run_sync``; READ COMMITTED, and the query modules lock rows (``FOR UPDATE``) or
  rely on unique keys where two replicas may race. Writes are group-committed too, on up to eight
  pooled connections at once: one that finds all eight busy waits for the next batch. No savepoints
  (two round trips each); a write that raises aborts the batch's transaction, and the other writes
  are run again in a new one, so it still fails alone. Row locks are held until the batch commits,
  so two batches that lock the same two rows in opposite order may deadlock (one charger's call and the
  answer to our call to it, written at once). PostgreSQL aborts one; that batch is no write's fault and
  runs again whole, up to ``_DEADLOCK_RETRIES`` times, before the write it stopped at fails
  (``StoreUnavailableError``, like any outage). At 50,000 chargers about 430 writes in 50 minutes had
  failed so, half of them StatusNotifications answered InternalError.

Driver errors become ``StoreUnavailableError`` here, at the seam, with the cause chained.

``read_statement`` is ``read`` for a query function that runs one SELECT: on PostgreSQL it runs outside
an explicit transaction, as one round trip instead of three (BEGIN, the SELECT, COMMIT) — one statement
is its own consistent snapshot. At 50,000 chargers the gateways spent over a third of their time in
socket writes, and their reads (the convergences' desired and observed state, each login) were three
writes each.
"""

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import datetime
import decimal
import enum
import functools
import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, Select, create_engine, event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.schema import Table

from chargeops.ocpp_gateway.store import errors

SQLITE_DRIVERS = ("sqlite+aiosqlite", "sqlite", "sqlite+pysqlite")
POSTGRESQL_DRIVERS = ("postgresql+asyncpg",)
SUPPORTED_DRIVERS = ("sqlite+aiosqlite (or sqlite)", "postgresql+asyncpg")

# How long SQLite waits for another *process* holding the write lock (this process has one writer
# thread). Long enough to outlast a checkpoint, short enough to fail a stuck request.
_SQLITE_BUSY_TIMEOUT_MS = 10_000

# PostgreSQL writes commit in batches (``Database._group_commit``) on at most this many pooled connections
# at once, leaving the rest of the pool (``_POSTGRES_POOL``) to reads. Sending BEGIN and COMMIT
# was a third of a gateway's CPU at 50,000 chargers connecting (py-spy; loopback socket writes).
_POSTGRES_COMMITTERS = 8
# Writes in one PostgreSQL batch at most, so that a burst is shared out over the committers, and because
# a batch holds every row it wrote locked until its last write commits: each statement waits for the event
# loop to come round, so at 50,000 chargers a batch of 100 (was the limit) held its locks for minutes while
# other batches queued behind them. ``bench/store_throughput.py`` at 400 callers: no difference between 32
# and 100 within the noise (1.6: 576, 664, 471 against 677, 641, 446 transactions/s).
_POSTGRES_BATCH_LIMIT = 32
# PostgreSQL connections kept open, and no more opened. SQLAlchemy's default (5, and 10 more "overflow"
# connections closed as soon as they are returned while 5 are idle) opened and closed a connection every
# few seconds per gateway under steady load: at 50,000 chargers no PostgreSQL backend was older than 45 s,
# and each new one costs a backend start and the driver's setup queries on both sides. Three replicas hold
# 45, within PostgreSQL's default max_connections of 100. ``engine_options`` may size it otherwise.
_POSTGRES_POOL = {"pool_size": 15, "max_overflow": 0}

# Times a PostgreSQL batch aborted to break a deadlock is run again; the other transaction has gone on, so
# the first retry nearly always commits.
_DEADLOCK_RETRIES = 3
# SQLSTATE of "deadlock detected".
_DEADLOCK_DETECTED = "40P01"

# The execution option that marks the write engine, read by the SQLite "begin" hook.
_WRITE_OPTION = "chargeops_write"

P = ParamSpec("P")
T = TypeVar("T")
SelectT = TypeVar("SelectT", bound=Select[Any])
StatementT = TypeVar("StatementT")
QueryFunction = Callable[Concatenate["Database", Connection, P], T]


@dataclasses.dataclass(frozen=True)
class _SqliteThread:
    """SQLite's engine (and its write-marked view) and the one thread all its calls run in."""

    engine: Engine
    writer: Engine
    executor: concurrent.futures.ThreadPoolExecutor


class Database:
    """The engine, how to run query functions on it, and the dialect-specific pieces they need."""

    def __init__(self, *, dialect: str, sync_engine: Engine | None, async_engine: AsyncEngine | None) -> None:
        # Use ``Database.connect``; this only holds what it made.
        self.dialect = dialect
        self._async_engine = async_engine
        # The same pool, each connection checked out in autocommit: asyncpg then sends no BEGIN.
        self._autocommit_engine = (
            None if async_engine is None else async_engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._sqlite = (
            None
            if sync_engine is None
            else _SqliteThread(
                engine=sync_engine,
                writer=sync_engine.execution_options(**{_WRITE_OPTION: True}),
                executor=concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="chargeops-sqlite"),
            )
        )
        self._statements: dict[Callable[[Database], Any], Any] = {}
        # Writes waiting for a group commit, and the tasks that commit them (``_group_commit``).
        self._queued: list[tuple[Callable[[Connection], Any], asyncio.Future[Any]]] = []
        self._committers: set[asyncio.Task[None]] = set()
        self._most_committers = 1 if sync_engine is not None else _POSTGRES_COMMITTERS
        self._batch_limit = None if sync_engine is not None else _POSTGRES_BATCH_LIMIT

    @classmethod
    def connect(cls, url: str, *, engine_options: Mapping[str, Any] | None = None) -> "Database":
        """An engine for ``url`` (no connection is opened yet); see the module docstring for the URLs."""
        try:
            parsed = make_url(url)
        except exc.ArgumentError as error:
            raise errors.UnsupportedDatabaseUrlError(f"{url!r} is not a database URL.", url=url) from error
        options: dict[str, Any] = {"json_serializer": json_dumps, **(engine_options or {})}
        if parsed.drivername in SQLITE_DRIVERS:
            return cls(dialect="sqlite", sync_engine=_sqlite_engine(parsed, options), async_engine=None)
        if parsed.drivername in POSTGRESQL_DRIVERS:
            engine = create_async_engine(parsed, **{**_POSTGRES_POOL, **options})
            return cls(dialect="postgresql", sync_engine=None, async_engine=engine)
        raise errors.UnsupportedDatabaseUrlError(
            f"The store supports {' and '.join(SUPPORTED_DRIVERS)} URLs, not {parsed.drivername}.",
            url=parsed.render_as_string(hide_password=True),
        )

    async def read(self, fn: QueryFunction[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(db, conn, *args, **kwargs)`` in a transaction that only reads (a consistent snapshot)."""
        return await self._run(fn, args, kwargs, write=False)

    async def read_statement(self, fn: QueryFunction[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``read`` for an ``fn`` that runs exactly one SELECT: on PostgreSQL without BEGIN and COMMIT.

        Only for one statement: a second one would see another snapshot than the first.
        """
        return await self._run(fn, args, kwargs, write=False, one_statement=True)

    async def write(self, fn: QueryFunction[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(db, conn, *args, **kwargs)`` in a transaction that commits if it returns, else rolls back."""
        return await self._run(fn, args, kwargs, write=True)

    def insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """``INSERT`` with ``ON CONFLICT`` support, in this database's dialect."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def statement(self, build: "Callable[[Database], StatementT]") -> StatementT:
        """``build(self)``, built once per database and reused.

        The hot path (start, stop, meter values, events) executes prebuilt statements with parameters:
        building a statement and its cache key on every call costs more CPU than the round trip.
        """
        try:
            built: StatementT = self._statements[build]
        except KeyError:
            built = self._statements[build] = build(self)
        return built

    def lock_rows(self, statement: SelectT) -> SelectT:
        """``statement`` with ``FOR UPDATE`` on PostgreSQL; SQLite's write lock already covers the file."""
        return statement.with_for_update() if self.dialect == "postgresql" else statement

    async def dispose(self) -> None:
        """Let the queued writes commit, then close every pooled connection (and the SQLite thread)."""
        while self._committers:
            await asyncio.shield(next(iter(self._committers)))
        if self._async_engine is not None:
            await self._async_engine.dispose()
        if self._sqlite is not None:
            await asyncio.get_running_loop().run_in_executor(self._sqlite.executor, self._sqlite.engine.dispose)
            self._sqlite.executor.shutdown(wait=True)

    async def _run(
        self, fn: QueryFunction[P, T], args: Any, kwargs: Any, *, write: bool, one_statement: bool = False
    ) -> T:
        def body(sync: Connection) -> T:
            return fn(self, sync, *args, **kwargs)

        if write:
            return await self._group_commit(body)
        with translate_errors():
            if self._sqlite is None:
                # One of the two is always set; on PostgreSQL both engines are.
                assert self._async_engine is not None
                assert self._autocommit_engine is not None
                connection = self._autocommit_engine.connect() if one_statement else self._async_engine.begin()
                async with connection as conn:
                    return await conn.run_sync(body)
            call = functools.partial(_in_transaction, self._sqlite.engine, body)
            return await asyncio.get_running_loop().run_in_executor(self._sqlite.executor, call)

    async def _group_commit(self, body: Callable[[Connection], T]) -> T:
        """Queue a write for the next commit and wait until it is committed (or failed).

        A committer is started while fewer than the most run (one for SQLite's one writer): under light
        load every write is its own transaction, under heavy load the queue fills while the committers
        are busy and each takes a batch of it.
        """
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queued.append((body, future))
        if len(self._committers) < self._most_committers:
            self._committers.add(asyncio.create_task(self._commit_queued()))
        return await future

    async def _commit_queued(self) -> None:
        batch: list[tuple[Callable[[Connection], Any], asyncio.Future[Any]]] = []
        try:
            while self._queued:
                batch = self._queued[: self._batch_limit]
                del self._queued[: len(batch)]
                outcomes = await self._commit_batch([body for body, _ in batch])
                for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                    if future.done():
                        continue  # its caller was cancelled; the write itself stands or fell with the batch
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(translated(value))
        except BaseException:
            # Cancelled (the loop is closing): no waiting writer may hang on an answer that never comes.
            for _, future in [*batch, *self._queued]:
                if not future.done():
                    future.set_exception(errors.StoreUnavailableError("The store closed before the write was done."))
            self._queued = []
            raise
        finally:
            # Here, not in a done callback: a write queued between the two would find no committer.
            self._committers.discard(asyncio.current_task())

    async def _commit_batch(self, bodies: Sequence[Callable[[Connection], Any]]) -> list[tuple[bool, Any]]:
        """Run ``bodies`` in one write transaction: (True, result) or (False, error) for each."""
        if self._sqlite is None:
            return await self._postgres_batch(bodies)
        call = functools.partial(_write_batch, self._sqlite.writer, bodies)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._sqlite.executor, call)
        except Exception as error:  # nothing of the batch was committed
            return [(False, error)] * len(bodies)

    async def _postgres_batch(
        self, bodies: Sequence[Callable[[Connection], Any]], *, deadlock_retries: int = _DEADLOCK_RETRIES
    ) -> list[tuple[bool, Any]]:
        """PostgreSQL's batch, without a savepoint per write: each would cost two more round trips, as
        many as the transaction of its own that batching saves. An error aborts the whole transaction
        there, so a write that fails fails alone and the others are run again in a new one; a deadlock
        is no write's failure, and the whole batch runs again."""
        assert self._async_engine is not None
        try:
            async with self._async_engine.begin() as conn:
                results = await conn.run_sync(_run_each, bodies)
        except _WriteFailedError as failed:
            if deadlock_retries and _is_deadlock(failed.error):
                return await self._postgres_batch(bodies, deadlock_retries=deadlock_retries - 1)
            others = [body for index, body in enumerate(bodies) if index != failed.index]
            outcomes = await self._postgres_batch(others) if others else []
            outcomes.insert(failed.index, (False, failed.error))
            return outcomes
        except Exception as error:  # the transaction itself failed: nothing of the batch was committed
            return [(False, error)] * len(bodies)
        return [(True, result) for result in results]


class _WriteFailedError(Exception):
    """Write ``index`` of a PostgreSQL batch raised ``error``; the batch's transaction is rolled back."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


def _is_deadlock(error: Exception) -> bool:
    return isinstance(error, exc.DBAPIError) and getattr(error.orig, "pgcode", None) == _DEADLOCK_DETECTED


def _run_each(conn: Connection, bodies: Sequence[Callable[[Connection], Any]]) -> list[Any]:
    results = []
    for index, body in enumerate(bodies):
        try:
            results.append(body(conn))
        except Exception as error:
            raise _WriteFailedError(index, error) from error
    return results


def _in_transaction(engine: Engine, body: Callable[[Connection], T]) -> T:
    with engine.begin() as conn:
        return body(conn)


def _write_batch(engine: Engine, bodies: Sequence[Callable[[Connection], Any]]) -> list[tuple[bool, Any]]:
    """Run ``bodies`` in one write transaction, each in a savepoint; (True, result) or (False, error) each.

    Raises if the transaction itself fails, so that no write of the batch counts as committed.
    """
    if len(bodies) == 1:
        return [(True, _in_transaction(engine, bodies[0]))]
    outcomes: list[tuple[bool, Any]] = []
    with engine.begin() as conn:
        # Savepoints straight on the driver connection: SQLAlchemy's own cost more than a small write,
        # and each one is released or rolled back before the next write begins.
        driver = conn.connection.driver_connection
        assert driver is not None
        for body in bodies:
            driver.execute("SAVEPOINT chargeops_write")
            try:
                outcomes.append((True, body(conn)))
            except Exception as error:
                driver.execute("ROLLBACK TO chargeops_write")
                outcomes.append((False, error))
            driver.execute("RELEASE chargeops_write")
    return outcomes


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Turn the driver's errors (refused, dropped, timed out, locked) into ``StoreUnavailableError``.

    An ``IntegrityError`` that reaches here is a bug (the query modules expect conflicts with
    ``ON CONFLICT``), so it passes unchanged.
    """
    try:
        yield
    except Exception as error:
        translation = translated(error)
        if translation is error:
            raise
        raise translation from error


def translated(error: BaseException) -> BaseException:
    """``error`` as ``translate_errors`` raises it: ``StoreUnavailableError`` for a driver error."""
    if isinstance(error, exc.IntegrityError):
        return error
    if isinstance(error, exc.DBAPIError):
        translation = errors.StoreUnavailableError(f"The database failed: {error.orig!r}")
    elif isinstance(error, exc.TimeoutError):
        # No pooled connection came free within the pool's timeout: the database is too slow for the
        # load. Nothing ran, so it is an outage like a refused connection, not the caller's fault.
        translation = errors.StoreUnavailableError(f"No database connection came free in time: {error}")
    elif isinstance(error, sqlite3.Error):  # from the savepoints, run on the driver connection
        translation = errors.StoreUnavailableError(f"The database failed: {error!r}")
    elif isinstance(error, OSError | TimeoutError):
        translation = errors.StoreUnavailableError(f"The database could not be reached: {error!r}")
    else:
        return error
    translation.__cause__ = error
    return translation


def json_dumps(value: object) -> str:
    """JSON for the raw-message columns: OCPP payloads may carry datetimes or decimals once parsed."""
    return json.dumps(value, separators=(",", ":"), default=_json_default)


def _json_default(value: object) -> object:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, decimal.Decimal):
        return str(value)  # exact, as the charger wrote it; never a float
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _sqlite_engine(url: URL, options: dict[str, Any]) -> Engine:
    """A ``sqlite3`` engine with the pragmas, and transactions that SQLAlchemy begins itself."""
    engine = create_engine(
        url.set(drivername="sqlite+pysqlite"),
        # Every transaction ends in COMMIT or ROLLBACK before the connection goes back to the pool.
        pool_reset_on_return=None,
        # The connections are made in the store's thread and used only there.
        connect_args={"check_same_thread": False},
        **options,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Python's sqlite3 would otherwise BEGIN only before DML, and never before a SELECT or DDL,
        # which breaks snapshot reads and transactional migrations (SQLAlchemy's SQLite docs,
        # "Transactions with SQLite and the sqlite3 driver"). The "begin" hook below emits BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
            f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
