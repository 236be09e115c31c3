"""``chargeops gateway --password-key-file``: the key reaches the store, which keeps a verifier beside each
password hash, and chargers come back after a restart; a key too short stops the gateway at the start."""

import asyncio
import os
import secrets
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import Connection, select

from chargeops.ocpp_gateway.store import database, tables
from chargeops.ocpp_gateway.store.credentials import PasswordChecker
from chargeops.simulator.clock import SystemClock
from chargeops.simulator.station import Station
from chargeops.simulator.station_config import StationConfig
from tests.e2e.harness import PASSWORD, Control
from tests.e2e.test_gateway_crash_recovery import GatewayProcess

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


async def stored_password(database_url: str, cp_id: str) -> tuple[str, str | None]:
    """The password hash and verifier the store keeps for ``cp_id``."""
    db = database.Database.connect(database_url)

    def row_of(_db: database.Database, conn: Connection) -> tuple[str, str | None]:
        columns = tables.desired_states.c
        query = select(columns.password_hash, columns.password_verifier).where(columns.charge_point_id == cp_id)
        password_hash, verifier = conn.execute(query).one()
        return password_hash, verifier

    try:
        return await db.read(row_of)
    finally:
        await db.dispose()


async def connect_once(gateway: GatewayProcess, cp_id: str) -> None:
    station = Station(StationConfig(cp_id, gateway.ocpp_url, password=PASSWORD), clock=SystemClock())
    task = asyncio.create_task(station.run())
    try:
        await station.wait_online()
    finally:
        await station.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_the_key_file_makes_the_store_keep_verifiers_and_chargers_come_back_after_a_restart(
    database_url: str, tmp_path: Path
) -> None:
    key = secrets.token_urlsafe(48)
    key_file = tmp_path / "password-key"
    key_file.write_text(key + "\n")  # as a Secret or an editor leaves it
    gateway = GatewayProcess(database_url, extra_args=["--password-key-file", str(key_file)])
    await gateway.start()
    try:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {gateway.token}"}) as http:
            await Control(http, gateway.control_url).put_desired("KEYED-1", password=PASSWORD)
        password_hash, verifier = await stored_password(database_url, "KEYED-1")
        checker = PasswordChecker(key=key.encode(), workers=1)
        try:
            assert verifier == checker.verifier_for(password_hash, PASSWORD)
        finally:
            checker.close()

        gateway.kill()
        await gateway.wait()
        await gateway.start()
        await connect_once(gateway, "KEYED-1")
    finally:
        await gateway.stop()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_key_too_short_stops_the_gateway_at_the_start_saying_so(database_url: str, tmp_path: Path) -> None:
    key_file = tmp_path / "password-key"
    key_file.write_text("too-short\n")
    command = [str(Path(sys.executable).parent / "chargeops"), "gateway", "--database-url", database_url]
    environment = {**os.environ, "CHARGEOPS_GATEWAY_TOKEN": secrets.token_urlsafe(24)}

    result = subprocess.run(
        [*command, "--password-key-file", str(key_file), "--listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2, result.stderr
    assert "the password key must be at least 32 bytes" in result.stderr
