"""Password checks that cost scrypt only when they must, and refuse work nobody would wait for."""

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chargeops.api.gateway import DesiredState
from chargeops.ocpp_gateway import passwords
from chargeops.ocpp_gateway.store import Store, errors, scrypt_pool
from chargeops.ocpp_gateway.store.credentials import PasswordChecker

PASSWORD = "correct-horse-battery"


@pytest.fixture
def checker() -> Iterator[Callable[..., PasswordChecker]]:
    """Makes ``PasswordChecker``s, closed after the test."""
    made: list[PasswordChecker] = []

    def make(**options: Any) -> PasswordChecker:
        made.append(PasswordChecker(**options))
        return made[-1]

    yield make
    for each in made:
        each.close()


async def test_a_charger_whose_password_was_put_here_connects_without_scrypt(store: Store, scrypts: list[int]) -> None:
    await store.put_desired("CP-1", DesiredState(password=PASSWORD))
    assert len(scrypts) == 1  # the new hash

    assert await store.verify_password("CP-1", PASSWORD)
    assert len(scrypts) == 1


async def test_putting_the_remembered_password_again_costs_no_scrypt(store: Store, scrypts: list[int]) -> None:
    await store.put_desired("CP-1", DesiredState(password=PASSWORD, revision=1))
    await store.put_desired("CP-1", DesiredState(password=PASSWORD, revision=2))

    assert len(scrypts) == 1
    assert await store.verify_password("CP-1", PASSWORD)


async def test_a_wrong_password_is_never_answered_from_memory(store: Store, scrypts: list[int]) -> None:
    await store.put_desired("CP-1", DesiredState(password=PASSWORD))

    assert not await store.verify_password("CP-1", "wrong-password-here")
    assert not await store.verify_password("CP-1", "wrong-password-here")
    assert len(scrypts) == 3


async def test_a_charger_retrying_while_its_check_queues_costs_one_scrypt(
    checker: Callable[..., PasswordChecker], scrypts: list[int]
) -> None:
    # A restarted gateway: the hash is stored, nothing remembered yet.
    stored = passwords.hash_password(PASSWORD)
    fresh = checker()
    scrypts.clear()

    answers = await asyncio.gather(*(fresh.verify("CP-1", PASSWORD, stored=stored) for _ in range(5)))

    assert answers == [True] * 5
    assert len(scrypts) == 1
    assert await fresh.verify("CP-1", PASSWORD, stored=stored)
    assert len(scrypts) == 1


async def test_a_check_that_cannot_be_answered_in_time_is_refused_as_busy_unrun(
    checker: Callable[..., PasswordChecker], scrypts: list[int]
) -> None:
    stored = passwords.hash_password(PASSWORD)
    impatient = checker(wait_limit_s=0.0)
    scrypts.clear()

    for hashed in (stored, None):  # a charger with a password, and one without
        with pytest.raises(errors.PasswordCheckBusyError) as busy:
            await impatient.verify("CP-1", PASSWORD, stored=hashed)
        assert busy.value.retry_after_s >= 1
        assert busy.value.reason == "PasswordCheckBusy"
    assert scrypts == []


async def test_a_remembered_password_is_let_in_however_long_the_queue(
    checker: Callable[..., PasswordChecker], scrypts: list[int]
) -> None:
    impatient = checker(wait_limit_s=0.0)
    stored = await impatient.hash_for("CP-1", PASSWORD, stored=None)

    assert await impatient.verify("CP-1", PASSWORD, stored=stored)
    assert len(scrypts) == 1


async def test_a_new_stored_hash_is_checked_again(checker: Callable[..., PasswordChecker], scrypts: list[int]) -> None:
    # Another replica stored a new password: what this one remembers no longer matches.
    fresh = checker()
    await fresh.hash_for("CP-1", PASSWORD, stored=None)
    replaced = passwords.hash_password("another-long-password")
    scrypts.clear()

    assert not await fresh.verify("CP-1", PASSWORD, stored=replaced)
    assert await fresh.verify("CP-1", "another-long-password", stored=replaced)
    assert len(scrypts) == 2


async def test_a_job_still_queued_at_its_deadline_is_dropped_unrun() -> None:
    pool = scrypt_pool.ScryptPool(1)
    ran: list[str] = []
    try:
        with pytest.raises(scrypt_pool.ExpiredError):
            await pool.run_before(time.monotonic() - 1, ran.append, "late")
        await pool.run_before(time.monotonic() + 60, ran.append, "in time")
    finally:
        pool.close()

    assert ran == ["in time"]


async def test_the_queue_wait_counts_the_jobs_ahead_of_each_thread() -> None:
    pool = scrypt_pool.ScryptPool(2)
    release = threading.Event()
    try:
        jobs = [asyncio.ensure_future(pool.run(release.wait)) for _ in range(5)]
        await asyncio.sleep(0)

        assert pool.pending == 5
        assert pool.queue_wait_s() == 2 * scrypt_pool.FIRST_GUESS_S  # 5 // 2 rounds before a new job starts
        release.set()
        await asyncio.gather(*jobs)
        assert pool.pending == 0
        assert len(pool.durations()) == 5
    finally:
        release.set()
        pool.close()


async def test_a_login_reads_the_desired_state_and_checks_against_the_hash_read_with_it(
    store: Store, scrypts: list[int]
) -> None:
    stored = await store.put_desired("CP-1", DesiredState(password=PASSWORD, revision=4))
    await store.put_desired("CP-NOPW", DesiredState())

    login = await store.login("CP-1")
    assert login.desired == stored
    assert await login.verify(PASSWORD)
    assert not await login.verify("wrong-password-here")
    for unknown in ("CP-NOPW", "CP-UNKNOWN"):
        assert not await (await store.login(unknown)).verify(PASSWORD)
    assert (await store.login("CP-UNKNOWN")).desired is None
    assert len(scrypts) == 2  # the hash of the PUT and the wrong password


async def test_before_the_stored_hash_is_read_a_check_with_no_room_is_known_to_be_refused(
    checker: Callable[..., PasswordChecker],
) -> None:
    # Known before the store is read, so a charger sure to be refused costs the gateway no read.
    impatient = checker(wait_limit_s=0.0)
    stored = await impatient.hash_for("CP-1", PASSWORD, stored=None)

    busy = impatient.busy_for("CP-1", "another-password-1234")
    assert busy is not None
    assert (busy.reason, busy.charge_point_id) == ("PasswordCheckBusy", "CP-1")
    assert impatient.busy_for("CP-2", PASSWORD) is not None  # remembered for CP-1 only
    assert impatient.busy_for("CP-1", PASSWORD) is None  # remembered: it will need no queue
    assert await impatient.verify("CP-1", PASSWORD, stored=stored)
    assert checker().busy_for("CP-3", PASSWORD) is None  # a queue with room
