"""The gateway's session store: desired and observed state per charger, and every charging session.

The protocol code and the control API import this package and use ``Store`` only (through the
``ctx.store`` seam); nothing else in the gateway touches SQL. SQLite is the default, PostgreSQL the
choice for several replicas; the schema is migrated by Alembic scripts shipped in ``migrations/``.
Modules, from the bottom up:

- ``columns``, ``tables``: UTC timestamps, and the schema with the unique keys that make redelivery harmless.
- ``database``: the engine (SQLite in one thread, PostgreSQL async), read/write transactions, errors.
- ``migrations``: Alembic scripts and ``upgrade``, run by ``Store.open``.
- ``folding``: how OCPP 2.0.1 events shape a session, in any order (pure).
- ``replicas``: the leases of the gateway processes sharing the database.
- ``desired``, ``observed``, ``transactions``, ``readings``, ``events``, ``sessions``: the queries.
- ``credentials``: password hashes checked off the event loop, verified ones remembered, checks that
  would come too late refused; ``scrypt_pool``: the threads (one per core) scrypt runs on.
- ``store``: ``Store``, which puts them together; ``outcomes``: what its transaction methods answer.
- ``errors``: what it raises.
"""

from chargeops.ocpp_gateway.store.outcomes import EventOutcome, StartOutcome, StopOutcome, TransactionEventType
from chargeops.ocpp_gateway.store.store import Store

__all__ = ["EventOutcome", "StartOutcome", "StopOutcome", "Store", "TransactionEventType"]
