"""Desired state reaches live (simulated) chargers: configuration keys, local lists, offline returns.

Each test runs the real gateway and a simulated charger from ``chargeops.simulator`` over real
websockets, drives the gateway only through its control API, and looks at what the charger holds.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from chargeops.api.v1alpha1 import OcppVersion
from chargeops.ocpp_gateway import metrics
from chargeops.ocpp_gateway.store import Store
from chargeops.simulator.clock import SystemClock
from chargeops.simulator.state import Faults
from chargeops.simulator.station import Station
from chargeops.simulator.station_config import StationConfig
from tests.e2e.harness import PASSWORD, Control, RunningGateway, control_client, gateway_on
from tests.row_locks import observed_row_locked

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


async def eventually(check: Callable[[], Any], *, timeout_s: float = 15.0) -> Any:
    """Wait until ``check()`` (sync or async) returns something truthy; fail with the last value."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s; last value {value!r}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def station(gateway: RunningGateway, cp_id: str, **config: Any) -> AsyncIterator[Station]:
    charger = Station(
        StationConfig(cp_id, gateway.ocpp_url, password=PASSWORD, reconnect_initial_s=0.05, **config),
        clock=SystemClock(),
    )
    task = asyncio.create_task(charger.run())
    try:
        await charger.wait_online()
        yield charger
    finally:
        await charger.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def converged(control: Control, cp_id: str, revision: int) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        observed = await control.observed(cp_id)
        return observed if observed.get("appliedRevision") == revision and observed.get("connected") else None

    return dict(await eventually(check))


def held_tags(charger: Station) -> set[str]:
    return set(charger.state.local_list.entries)


async def test_pay_per_month_on_16_requires_authorization_and_sends_the_subscribers_tags(
    gateway: RunningGateway, control: Control
) -> None:
    await control.put_desired(
        "CP-PPM", password=PASSWORD, authorization="Required", authorizedIdTags=["TAG-A", "TAG-B"], revision=1
    )
    async with station(gateway, "CP-PPM") as charger:
        observed = await converged(control, "CP-PPM", 1)
        assert charger.state.settings.local_list_enabled
        assert not charger.state.settings.offline_unknown_allowed
        assert held_tags(charger) == {"TAG-A", "TAG-B"}
        assert observed["localList"] == ["TAG-A", "TAG-B"]
        assert observed["vendor"] == "chargeops"

        await control.put_desired("CP-PPM", authorization="Required", authorizedIdTags=["TAG-A", "TAG-C"], revision=2)
        await converged(control, "CP-PPM", 2)
        assert held_tags(charger) == {"TAG-A", "TAG-C"}


async def test_free_charger_accepts_unknown_tags_offline_and_keeps_no_list(
    gateway: RunningGateway, control: Control
) -> None:
    await control.put_desired("CP-FREE", password=PASSWORD, authorization="Free", revision=1)
    async with station(gateway, "CP-FREE") as charger:
        await converged(control, "CP-FREE", 1)
        assert not charger.state.settings.local_list_enabled
        assert charger.state.settings.offline_unknown_allowed
        assert held_tags(charger) == set()


async def test_pay_per_month_on_201_enables_authorization_and_the_local_list(
    gateway: RunningGateway, control: Control
) -> None:
    await control.put_desired(
        "CP-201",
        password=PASSWORD,
        ocppVersion="2.0.1",
        authorization="Required",
        authorizedIdTags=["04A2B3C4D5E6F7", "APP-ada"],
        revision=3,
    )
    async with station(gateway, "CP-201", ocpp_version=OcppVersion.V201) as charger:
        await converged(control, "CP-201", 3)
        assert charger.state.settings.authorization_enabled
        assert charger.state.settings.local_list_enabled
        assert held_tags(charger) == {"04A2B3C4D5E6F7", "APP-ada"}


async def test_a_long_list_arrives_whole_in_several_messages(gateway: RunningGateway, control: Control) -> None:
    tags = [f"TAG-{n:02}" for n in range(11)]
    await control.put_desired("CP-LONG", password=PASSWORD, authorization="Required", authorizedIdTags=tags, revision=1)
    async with station(gateway, "CP-LONG", send_local_list_max_length=4) as charger:
        observed = await converged(control, "CP-LONG", 1)
        assert held_tags(charger) == set(tags)
        assert observed["localListVersion"] == 3  # one Full and two Differential messages


async def test_an_offline_charger_gets_its_desired_state_when_it_returns(
    gateway: RunningGateway, control: Control
) -> None:
    await control.put_desired(
        "CP-AWAY", password=PASSWORD, authorization="Required", authorizedIdTags=["A"], revision=1
    )
    async with station(gateway, "CP-AWAY") as charger:
        await converged(control, "CP-AWAY", 1)
        await charger.go_offline()
        await eventually(lambda: control.observed("CP-AWAY"), timeout_s=5)
        await eventually(_disconnected(control, "CP-AWAY"))
        stored = await control.put_desired("CP-AWAY", authorization="Required", authorizedIdTags=["A", "B"], revision=2)
        assert stored["desired"]["revision"] == 2
        assert held_tags(charger) == {"A"}
        charger.go_online()
        await converged(control, "CP-AWAY", 2)
        assert held_tags(charger) == {"A", "B"}


def _disconnected(control: Control, cp_id: str) -> Callable[[], Any]:
    async def check() -> bool:
        return not (await control.observed(cp_id))["connected"]

    return check


async def test_rejected_and_unsupported_keys_are_recorded_not_retried_forever(
    gateway: RunningGateway, control: Control
) -> None:
    await control.put_desired(
        "CP-PICKY",
        password=PASSWORD,
        revision=1,
        configuration={"MeterValueSampleInterval": "30", "VendorSpecialKey": "1"},
    )
    faults = Faults(rejected=frozenset({"MeterValueSampleInterval"}))
    async with station(gateway, "CP-PICKY", faults=faults):
        observed = await converged(control, "CP-PICKY", 1)
        assert observed["configurationResults"] == {
            "MeterValueSampleInterval": "Rejected",
            "VendorSpecialKey": "NotSupported",
        }
        assert observed["lastError"] is None


async def test_a_session_from_the_simulator_is_stored_with_its_energy(
    gateway: RunningGateway, control: Control
) -> None:
    await control.put_desired(
        "CP-RUN", password=PASSWORD, authorization="Required", authorizedIdTags=["TAG-A"], revision=1
    )
    async with station(gateway, "CP-RUN") as charger:
        await converged(control, "CP-RUN", 1)
        await charger.start_session("TAG-A")
        await asyncio.sleep(0.3)
        await charger.stop_session(1)
        await charger.wait_drained()

        async def stopped() -> list[dict[str, Any]]:
            _, page = await control.request("GET", "/v1/sessions?chargePointId=CP-RUN")
            return [s for s in page["items"] if s["stoppedAt"]]

        [session] = await eventually(stopped)
        assert session["idTag"] == "TAG-A"
        assert session["energyWh"] >= 0
        assert session["flags"] == []


def convergences() -> float:
    return metrics.REGISTRY.get_sample_value("chargeops_gateway_convergences_total", {"result": "converged"}) or 0.0


async def test_a_charger_that_returns_converged_is_not_converged_again_until_its_state_changes(
    gateway: RunningGateway, control: Control
) -> None:
    await control.put_desired(
        "CP-BACK", password=PASSWORD, authorization="Required", authorizedIdTags=["A"], revision=1
    )
    # Booting on every connection: a convergence on return would begin at the boot, before the PUTs below.
    async with station(gateway, "CP-BACK", boot_on_reconnect=True) as charger:
        await converged(control, "CP-BACK", 1)
        before = convergences()

        await charger.go_offline()
        await eventually(_disconnected(control, "CP-BACK"))
        charger.go_online()
        await eventually(lambda: charger.stats.boots == 2)
        await control.put_desired("CP-BACK", authorization="Required", authorizedIdTags=["A"], revision=1)
        await control.put_desired("CP-BACK", authorization="Required", authorizedIdTags=["A", "B"], revision=2)
        await converged(control, "CP-BACK", 2)

        # One convergence: for revision 2. Neither the return nor the unchanged PUT asked for one.
        assert convergences() - before == 1
        assert held_tags(charger) == {"A", "B"}


def failed_convergences() -> float:
    return metrics.REGISTRY.get_sample_value("chargeops_gateway_convergences_total", {"result": "failed"}) or 0.0


async def test_a_convergence_the_store_could_not_record_is_retried(postgres_database: str) -> None:
    # The charger's observed-state row is locked and the store gives up on a lock after 0.5 s, so the
    # convergence's record of what it applied fails. Found at 50,000 chargers, where that failure ended
    # the charger's convergence loop for as long as it stayed connected (and crashed its handler).
    options = {"connect_args": {"server_settings": {"lock_timeout": "500"}}}
    store = await Store.open(postgres_database, engine_options=options)
    async with gateway_on(store, postgres_database) as running, control_client(running) as control:
        await control.put_desired(
            "CP-1", password=PASSWORD, authorization="Required", authorizedIdTags=["A"], revision=1
        )
        async with station(running, "CP-1") as charger:
            await converged(control, "CP-1", 1)
            failed_before = failed_convergences()
            async with observed_row_locked(postgres_database, "CP-1") as lock:
                await control.put_desired("CP-1", authorization="Required", authorizedIdTags=["A", "B"], revision=2)
                await eventually(lambda: failed_convergences() > failed_before)
                await lock.release()

            observed = await converged(control, "CP-1", 2)
            assert observed["localList"] == ["A", "B"]
            assert held_tags(charger) == {"A", "B"}
