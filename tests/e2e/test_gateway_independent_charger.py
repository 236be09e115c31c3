"""An independent charger (npm ``ocpp-rpc`` in strict mode, schema-validated both ways) against the gateway.

It shares no code and no assumptions with the gateway: every frame either side sends is checked against
the OCPP JSON schemas by a library written by other people.
"""

from typing import Any

import pytest

from tests.e2e.harness import PASSWORD, Control, RunningGateway, run_node_charger
from tests.e2e.test_gateway_convergence import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_full_session_passes_strict_schema_validation_both_ways(
    gateway: RunningGateway, control: Control, version: str
) -> None:
    cp_id = f"NODE-{version}"
    await control.put_desired(
        cp_id, password=PASSWORD, ocppVersion=version, authorization="Required", authorizedIdTags=["T1"], revision=1
    )
    returncode, lines = await run_node_charger(
        gateway.ocpp_url, PASSWORD, "--id", cp_id, "--version", version, "--id-tag", "T1"
    )
    assert returncode == 0, lines[-3:]
    assert lines[-1]["summary"]

    async def stopped() -> list[dict[str, Any]]:
        _, page = await control.request("GET", f"/v1/sessions?chargePointId={cp_id}")
        return [s for s in page["items"] if s["stoppedAt"]]

    [session] = await eventually(stopped)
    assert session["idTag"] == "T1"
    assert session["energyWh"] > 0


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_tag_off_the_list_is_refused(gateway: RunningGateway, control: Control, version: str) -> None:
    cp_id = f"NODE-NO-{version}"
    await control.put_desired(
        cp_id,
        password=PASSWORD,
        ocppVersion=version,
        authorization="Required",
        authorizedIdTags=["SOMEONE-ELSE"],
        revision=1,
    )
    returncode, lines = await run_node_charger(
        gateway.ocpp_url, PASSWORD, "--id", cp_id, "--version", version, "--id-tag", "STRANGER", "--expect", "Invalid"
    )
    assert returncode == 0, lines[-3:]
