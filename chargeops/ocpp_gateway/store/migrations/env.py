"""Alembic's environment script: migrate over the connection ``migrations.upgrade`` hands in.

Alembic runs this file for every command. There is no ``alembic.ini`` and no URL here: the store opens
the engine (with its SQLite pragmas) and passes a connection already inside a transaction, so Alembic
neither begins nor commits.
"""

from alembic import context
from sqlalchemy import Connection

from chargeops.ocpp_gateway.store import tables

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "The store's migrations run through chargeops.ocpp_gateway.store.migrations.upgrade "
        "(Store.open calls it), which passes a connection; the alembic command line is not set up."
    )
context.configure(
    connection=connection,
    target_metadata=tables.metadata,
    # SQLite cannot ALTER most of a table; batch mode copies it instead, so one script serves both.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
