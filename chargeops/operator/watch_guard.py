"""Notice when kopf gives up a resource's watch for good, so the operator can exit and be restarted.

kopf ends a watch-stream on an error it takes as final (a 401 or 403) and runs on without it: the
process looks alive but never sees a change of that resource again (nolar/kopf#1145, #1077). A 403
comes transiently, e.g. from a kube-apiserver that was just restarted and serves requests before its
RBAC rules are loaded (``tests/faults/test_fault_apiserver_restart.py`` found it). kopf only logs the
end, as "Watcher for … has failed"; ``WatchLostHandler`` listens for that record.
"""

import asyncio
import logging

from chargeops.operator.errors import OperatorError

# Where kopf's orchestrator logs a watcher task that ended (kopf._core.reactor.orchestration).
KOPF_ORCHESTRATION_LOGGER = "kopf._core.reactor.orchestration"


class WatchLostError(OperatorError):
    """kopf stopped watching a resource; only a restart of the operator watches it again."""

    reason = "WatchLost"


class WatchLostHandler(logging.Handler):
    """Sets ``lost`` (on ``loop``) and keeps the message when kopf logs that a watcher failed."""

    def __init__(self, lost: asyncio.Event, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(level=logging.ERROR)
        self.lost = lost
        self.loop = loop
        self.message = ""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Watcher for ") and " has failed" in message:
            self.message = message
            self.loop.call_soon_threadsafe(self.lost.set)
