"""Who hands a charger over: a Subscription's fan-out leaves a new charger to its own Charger pass, and the
timer shows status instead of waiting while another pass is handing the charger over."""

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from chargeops.api import v1alpha1
from chargeops.api.gateway import DesiredState, ObservedState, StoredDesiredState
from chargeops.operator import reconcile
from chargeops.operator.handover import Handover
from chargeops.operator.inventory import Inventory
from chargeops.operator.observations import Observations
from chargeops.operator.runtime import Runtime

LOG = logging.getLogger("test")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class Gateway:
    """Stores what is PUT, answers the poll with ``states``; ``gate`` holds PUTs back until it is set."""

    def __init__(self) -> None:
        self.puts: list[DesiredState] = []
        self.states: list[ObservedState] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def all_observed(self) -> list[ObservedState]:
        return self.states

    async def put_desired(self, cp_id: str, desired: DesiredState) -> StoredDesiredState:
        await self.gate.wait()
        self.puts.append(desired)
        return StoredDesiredState(
            charge_point_id=cp_id, desired=desired, has_password=False, local_list_version=0, updated_at=NOW
        )

    async def get_desired(self, cp_id: str) -> StoredDesiredState | None:
        return None


def charger() -> v1alpha1.Charger:
    return v1alpha1.Charger.model_validate(
        {
            "metadata": {"name": "garage-1", "namespace": "parkside", "uid": "u-1"},
            "spec": {"chargePointId": "CP-1", "siteRef": {"name": "parkside"}, "chargingMode": {"payPerMonth": False}},
        }
    )


def inventory() -> Inventory:
    site = v1alpha1.Site.model_validate(
        {"metadata": {"name": "parkside", "namespace": "parkside"}, "spec": {"plan": "Business", "currency": "EUR"}}
    )
    return Inventory(
        sites={("parkside", "parkside"): [site]},
        tariffs={},
        chargers={},
        subscriptions={},
        charge_points={},
        statuses={},
    )


async def running() -> tuple[Gateway, Runtime]:
    gateway = Gateway()
    observations = Observations(gateway)
    await observations.poll(LOG)
    stand_in: Any = None
    shared = Runtime(
        settings=stand_in,
        gateway=gateway,  # type: ignore[arg-type]
        secrets=stand_in,
        invoices=stand_in,
        invitations=stand_in,
        observations=observations,
        handover=Handover(),
    )
    return gateway, shared


async def test_a_fan_out_leaves_a_charger_not_handed_over_yet_to_its_own_pass() -> None:
    gateway, shared = await running()

    await reconcile.push(shared, charger(), inventory(), now=NOW, logger=LOG, with_password=False, introduce=False)
    assert gateway.puts == []

    plan, _ = await reconcile.push(shared, charger(), inventory(), now=NOW, logger=LOG)
    assert [put.revision for put in gateway.puts] == [plan.desired.revision]


async def test_a_pass_that_may_not_wait_only_plans_while_another_hands_over() -> None:
    gateway, shared = await running()
    gateway.gate.clear()
    handing_over = asyncio.create_task(reconcile.push(shared, charger(), inventory(), now=NOW, logger=LOG))
    await asyncio.sleep(0.01)

    plan, observed = await reconcile.push(shared, charger(), inventory(), now=NOW, logger=LOG, wait=False)

    assert plan.apply
    assert observed == ObservedState(charge_point_id="CP-1")
    assert gateway.puts == []
    gateway.gate.set()
    await handing_over
    assert [put.revision for put in gateway.puts] == [plan.desired.revision]
