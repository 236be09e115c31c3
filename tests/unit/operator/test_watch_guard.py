"""The operator notices when kopf gives up a watch: kopf's own guard logs the end, the handler hears it."""

import asyncio
import logging

import pytest
from kopf._cogs.aiokits import aiotasks
from kopf._cogs.clients import errors as kopf_errors

from chargeops.operator import watch_guard


async def forbidden() -> None:
    raise kopf_errors.APIForbiddenError({"message": "tariffs.chargeops.io is forbidden"}, status=403, headers={})


async def test_a_watcher_that_kopf_ends_sets_the_flag_with_its_message() -> None:
    lost = asyncio.Event()
    handler = watch_guard.WatchLostHandler(lost, asyncio.get_running_loop())
    logger = logging.getLogger(watch_guard.KOPF_ORCHESTRATION_LOGGER)
    logger.addHandler(handler)
    try:
        # What kopf's orchestrator runs each watcher under (kopf._core.reactor.orchestration).
        with pytest.raises(kopf_errors.APIForbiddenError):
            await aiotasks.guard(forbidden(), name="watcher for tariffs@t-1", logger=logger, cancellable=True)
        await asyncio.wait_for(lost.wait(), 5)
    finally:
        logger.removeHandler(handler)
    assert handler.message.startswith("Watcher for tariffs@t-1 has failed")


async def test_other_errors_of_kopf_do_not_set_it() -> None:
    lost = asyncio.Event()
    handler = watch_guard.WatchLostHandler(lost, asyncio.get_running_loop())
    logger = logging.getLogger(watch_guard.KOPF_ORCHESTRATION_LOGGER)
    logger.addHandler(handler)
    try:
        with pytest.raises(kopf_errors.APIForbiddenError):
            await aiotasks.guard(forbidden(), name="peering keep-alive for x", logger=logger, cancellable=True)
        await asyncio.sleep(0)
    finally:
        logger.removeHandler(handler)
    assert not lost.is_set()
