"""This replica's lease in a shared PostgreSQL store, renewed every ``lease_interval_s`` until stopped.

A replica's observed states name it as the holder of its chargers' connections; readers count those
chargers connected only while its lease runs (``store.replicas``). A renewal that fails (the database is
restarting) is logged and tried again at the next interval: the lease outlives ``LEASE_RENEWALS - 1``
missed renewals.
"""

import asyncio
import contextlib
import logging

from chargeops.ocpp_gateway.store import Store, errors
from chargeops.ocpp_gateway.store.replicas import Lease

log = logging.getLogger(__name__)


class LeaseKeeper:
    """Renews one replica's lease."""

    def __init__(
        self,
        store: Store,
        replica_id: str,
        *,
        ocpp_address: str,
        control_address: str,
        interval_s: float,
        ttl_s: float,
    ) -> None:
        self.store = store
        self.replica_id = replica_id
        self.ocpp_address = ocpp_address
        self.control_address = control_address
        self.interval_s = interval_s
        self.ttl_s = ttl_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> Lease:
        """Take the lease (raising if the store fails) and keep renewing it."""
        lease = await self._renew()
        log.info("Replica %s holds its lease until %s.", self.replica_id, lease.expires_at.isoformat())
        self._task = asyncio.create_task(self._keep(), name=f"lease:{self.replica_id}")
        return lease

    async def stop(self) -> None:
        """Stop renewing and end the lease, so this replica's chargers read disconnected at once."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        try:
            await self.store.release_lease(self.replica_id)
        except errors.StoreUnavailableError as error:
            log.warning("Replica %s could not end its lease (it expires by itself): %s", self.replica_id, error)

    async def _keep(self) -> None:
        failures = 0
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self._renew()
            except Exception as error:  # a lease keeper that died would take every held charger offline
                failures += 1
                log.warning("Replica %s could not renew its lease (%s in a row): %r", self.replica_id, failures, error)
                continue
            if failures:
                log.info("Replica %s renewed its lease again after %s failures.", self.replica_id, failures)
            failures = 0

    async def _renew(self) -> Lease:
        return await self.store.renew_lease(
            self.replica_id, ocpp_address=self.ocpp_address, control_address=self.control_address, ttl_s=self.ttl_s
        )
