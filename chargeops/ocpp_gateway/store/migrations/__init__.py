"""The store's Alembic migrations, shipped inside the package and run by ``Store.open``, not by a CLI.

``upgrade`` brings an empty or older database to the newest revision in ``versions/``. Several gateway
replicas may start at once against one PostgreSQL: a transaction-scoped advisory lock lets one of them
migrate while the others wait and then find nothing to do. Everything runs in one transaction, so a
failed migration leaves the schema as it was (PostgreSQL and SQLite both have transactional DDL).

A new revision: change ``tables``, then write ``versions/NNNN_<what>.py`` by hand or start from
``chargeops.ocpp_gateway.store.migrations.autogenerate_diff`` (the test that compares migrations with
``tables`` uses it too).
"""

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from chargeops.ocpp_gateway.store import database, tables

SCRIPT_LOCATION = Path(__file__).resolve().parent

# Any fixed 64-bit number, the same in every replica: the key of the PostgreSQL advisory lock that
# serializes migrations. (These are the ASCII bytes of "chargeop".)
_ADVISORY_LOCK_KEY = 0x6368_6172_6765_6F70


def config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the packaged scripts; ``env.py`` migrates over ``connection``."""
    alembic_config = Config()
    alembic_config.set_main_option("script_location", str(SCRIPT_LOCATION))
    alembic_config.attributes["connection"] = connection
    return alembic_config


def head() -> str:
    """The newest revision in ``versions/``."""
    revision = ScriptDirectory.from_config(config()).get_current_head()
    if revision is None:
        raise AssertionError(f"no migration scripts in {SCRIPT_LOCATION / 'versions'}")
    return revision


async def upgrade(db: database.Database) -> None:
    """Migrate the database to the newest revision (nothing to do if it is there already)."""
    await db.write(_upgrade)


async def current_revision(db: database.Database) -> str | None:
    """The revision the database is at, or None for a database never migrated."""
    return await db.read(_current_revision)


async def autogenerate_diff(db: database.Database) -> list[Any]:
    """What Alembic's autogenerate finds different between the database and ``tables``; empty when in sync."""
    return await db.read(_compare)


def _upgrade(db: database.Database, connection: Connection) -> None:
    if db.dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
    command.upgrade(config(connection), "head")


def _current_revision(_db: database.Database, connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _compare(_db: database.Database, connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
    return list(compare_metadata(context, tables.metadata))
