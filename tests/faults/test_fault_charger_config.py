"""A charger that answers ChangeConfiguration with Rejected, NotSupported, or not at all.

``tests/e2e/test_gateway_convergence.py`` shows Rejected and NotSupported recorded per key; here the three
come together with a key the charger never answers: the gateway's observed state must say what happened,
nothing may be re-sent in a tight loop (a convergence with an unanswered key waits out the runner's backoff
before asking it again), and everything else must be done: the keys the charger did accept, and the local
authorization list after them.
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from chargeops.api.v1alpha1 import OcppVersion
from chargeops.ocpp_gateway import metrics
from chargeops.ocpp_gateway.convergence.runner import RETRY_BACKOFF_S
from chargeops.simulator.state import Faults
from tests.e2e.harness import PASSWORD, RunningGateway, control_client, gateway_settings, running_gateway
from tests.e2e.operator_harness import poll, station

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

CP_ID = "CP-STUBBORN"
REJECTED = "MeterValueSampleInterval"
UNKNOWN = "VendorSpecialKey"
SILENT = "ClockAlignedDataInterval"
PLAIN = "ConnectionTimeOut"
CONFIGURATION = {REJECTED: "30", UNKNOWN: "1", SILENT: "900", PLAIN: "45"}
# Long enough for the runner's first two retries (5 s, then 15 s later): a loop would show dozens.
WATCH_S = RETRY_BACKOFF_S[0] * 2 + 2


@pytest.fixture
async def quick_gateway(tmp_path: Path) -> AsyncIterator[RunningGateway]:
    """A gateway on SQLite that gives up on an unanswered call after one second."""
    settings = gateway_settings(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}", response_timeout_s=1.0)
    async with running_gateway(settings) as running:
        yield running


def failed_convergences() -> float:
    return metrics.REGISTRY.get_sample_value("chargeops_gateway_convergences_total", {"result": "failed"}) or 0.0


async def test_rejected_unsupported_and_unanswered_keys_are_shown_not_looped_and_others_applied(
    quick_gateway: RunningGateway, figure: Callable[[str], None]
) -> None:
    faults = Faults(rejected=frozenset({REJECTED}), unanswered=frozenset({SILENT}))
    failures_before = failed_convergences()
    async with control_client(quick_gateway) as control:
        await control.put_desired(
            CP_ID,
            password=PASSWORD,
            authorization="Required",
            authorizedIdTags=["TAG-A"],
            configuration=CONFIGURATION,
            revision=1,
        )
        async with station(quick_gateway.ocpp_url, CP_ID, PASSWORD, faults=faults) as charger:
            await charger.wait_online()

            async def errored() -> dict[str, Any] | None:
                observed = await control.observed(CP_ID)
                return observed if observed.get("lastError") else None

            observed = await poll(errored, timeout_s=30)
            await asyncio.sleep(WATCH_S)
            observed = await control.observed(CP_ID)
            changes = list(charger.state.changes)
            plain_value = charger.state.settings.value(PLAIN)  # type: ignore[attr-defined]
            tags = set(charger.state.local_list.entries)

    failures = failed_convergences() - failures_before
    sent = Counter(change.subject for change in changes if change.action == "ChangeConfiguration")
    figure(
        f"ChangeConfiguration faults: {failures:.0f} failed convergences in {WATCH_S:.0f} s, "
        f"{REJECTED} (Rejected) sent {sent[REJECTED]}x, {PLAIN} (Accepted) sent {sent[PLAIN]}x and now "
        f"{plain_value!r}, local list {sorted(tags)}, lastError {observed.get('lastError')!r}"
    )
    assert f"ChangeConfiguration of {SILENT} got no answer" in (observed["lastError"] or "")
    assert observed["configurationResults"] == {REJECTED: "Rejected", UNKNOWN: "NotSupported", SILENT: "Timeout"}
    assert tags == {"TAG-A"}
    assert observed["localList"] == ["TAG-A"]
    # Each failed convergence re-sends what it sends; the backoff bounds how often.
    assert 1 <= failures <= 3, failures
    assert sent[REJECTED] == 1, changes  # a Rejected key stands for its revision: not asked again
    assert observed.get("drift") in (None, []), observed  # asking an unanswered key again is not drift
    assert sent[PLAIN] == 1, changes
    assert plain_value == "45"


async def test_a_201_charger_that_never_answers_set_variables_still_gets_its_local_list(
    quick_gateway: RunningGateway, figure: Callable[[str], None]
) -> None:
    cp_id = "CP-STUBBORN-201"
    silent = "SampledDataCtrlr/TxUpdatedInterval"
    faults = Faults(unanswered=frozenset({silent.replace("/", ".")}))
    async with control_client(quick_gateway) as control:
        await control.put_desired(
            cp_id,
            password=PASSWORD,
            ocppVersion="2.0.1",
            authorization="Required",
            authorizedIdTags=["APP-ada"],
            configuration={silent: "30"},
            revision=1,
        )
        async with station(
            quick_gateway.ocpp_url, cp_id, PASSWORD, faults=faults, ocpp_version=OcppVersion.V201
        ) as charger:
            await charger.wait_online()

            async def errored() -> dict[str, Any] | None:
                observed = await control.observed(cp_id)
                return observed if observed.get("lastError") else None

            observed = await poll(errored, timeout_s=30)
            tags = set(charger.state.local_list.entries)

    figure(f"SetVariables unanswered: local list {sorted(tags)}, lastError {observed.get('lastError')!r}")
    # One SetVariables carries every change: unanswered, none of them is known to be set.
    assert observed["configurationResults"][silent] == "Timeout"
    assert set(observed["configurationResults"].values()) == {"Timeout"}
    assert observed["lastError"].startswith("SetVariables of ")
    assert silent in observed["lastError"]
    assert tags == {"APP-ada"}
    assert observed["localList"] == ["APP-ada"]
