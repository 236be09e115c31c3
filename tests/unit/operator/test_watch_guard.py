"""The operator notices when kopf gives up a watch: kopf's own guard logs the end, the handler hears it."""

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from kopf._cogs.aiokits import aiotasks
from kopf._cogs.clients import errors as kopf_errors

from chargeops.operator import watch_guard


async def forbidden() -> None:
    raise kopf_errors.APIForbiddenError({"message": "tariffs.chargeops.io is forbidden"}, status=403, headers={})


@pytest.fixture
async def guard() -> AsyncIterator[watch_guard.WatchLostHandler]:
    """A ``WatchLostHandler`` on kopf's orchestration logger, as ``main.run`` installs it."""
    handler = watch_guard.WatchLostHandler(asyncio.Event(), asyncio.get_running_loop())
    logger = logging.getLogger(watch_guard.KOPF_ORCHESTRATION_LOGGER)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


async def test_a_watcher_that_kopf_ends_sets_the_flag_with_its_message(guard: watch_guard.WatchLostHandler) -> None:
    logger = logging.getLogger(watch_guard.KOPF_ORCHESTRATION_LOGGER)
    # What kopf's orchestrator runs each watcher under (kopf._core.reactor.orchestration).
    with pytest.raises(kopf_errors.APIForbiddenError):
        await aiotasks.guard(forbidden(), name="watcher for tariffs@t-1", logger=logger, cancellable=True)
    await asyncio.wait_for(guard.lost.wait(), 5)
    assert guard.message.startswith("Watcher for tariffs@t-1 has failed")


async def test_other_errors_of_kopf_do_not_set_it(guard: watch_guard.WatchLostHandler) -> None:
    logger = logging.getLogger(watch_guard.KOPF_ORCHESTRATION_LOGGER)
    with pytest.raises(kopf_errors.APIForbiddenError):
        await aiotasks.guard(forbidden(), name="peering keep-alive for x", logger=logger, cancellable=True)
    await asyncio.sleep(0)
    assert not guard.lost.is_set()
