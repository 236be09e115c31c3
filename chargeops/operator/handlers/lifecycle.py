"""Operator start-up and shutdown: kopf settings that matter for a GitOps-managed operator, the metrics
endpoint, and the poll of the gateway's observed states."""

from typing import Any

import kopf

from chargeops.operator import metrics, metrics_endpoint, runtime
from chargeops.operator.handlers import chargers

CONSISTENCY_TIMEOUT_S = 30.0
# Where the running metrics endpoint is kept in the operator-level memo between start-up and clean-up.
_ENDPOINT_KEY = "chargeops_metrics_endpoint"


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    """Keep kopf's progress in annotations only as long as needed, and post only our own Events."""
    # Status belongs to our schema; kopf keeps handler progress in an annotation instead of status.kopf.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="kopf.chargeops.io")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix="kopf.chargeops.io")
    settings.posting.level = 100  # log lines are not Events; Events are posted on purpose (kopf.event)
    settings.watching.server_timeout = 300
    # After its own patch, kopf waits this long for the watch to show it before running handlers on an older
    # body. Under load the watch runs more than kopf's default 5 s behind: a Charger whose creation had been
    # handled was then created again from the body without kopf's diff-base annotation (at 1,000 Chargers,
    # seven in ten with 5 s, one in six with 15 s), which cost a handler run and more writes each.
    settings.persistence.consistency_timeout = CONSISTENCY_TIMEOUT_S
    # A Charger's timer waits for its charger to change and leaves at once when stopped, but that takes more
    # than kopf's ten zero-time loop cycles on a busy loop; then kopf would patch the object and poll it.
    settings.background.instant_exit_timeout = 0.5


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """In a Pod, its service account; elsewhere the kubeconfig named by $KUBECONFIG (or ~/.kube/config).

    kopf's own readers look at the environment when called, unlike the kubernetes client library, which
    reads $KUBECONFIG once at import; so a test or ``chargeops operator --kubeconfig`` can point it anywhere.
    """
    return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)


@kopf.on.startup()
async def serve_metrics(memo: kopf.Memo, logger: Any, **kwargs: Any) -> None:
    """Count Chargers by Ready from kopf's index, and serve /metrics and /healthz unless the port is 0."""
    metrics.CHARGERS.watch(kwargs["charger_status_index"])
    settings = runtime.of(memo).settings
    if not settings.metrics_port:
        return
    where = f"{settings.metrics_host}:{settings.metrics_port}"
    try:
        memo[_ENDPOINT_KEY] = await metrics_endpoint.start(settings.metrics_host, settings.metrics_port)
    except OSError as error:
        # A port taken by something else is a deployment mistake; retrying would only hide it.
        raise kopf.PermanentError(f"Cannot serve /metrics on {where}: {error}") from error
    logger.info("Serving /metrics and /healthz on %s.", where)


@kopf.on.startup()
async def observe_gateway(memo: kopf.Memo, logger: Any, **_: Any) -> None:
    """Poll the gateway's observed states at the Charger timer's interval; the timers read them from memory."""
    runtime.of(memo).observations.start(interval_s=chargers.OBSERVE_INTERVAL_S, logger=logger)


@kopf.on.cleanup()
async def close_gateway_client(memo: kopf.Memo, **_: Any) -> None:
    """Stop polling the gateway and close the HTTP session to it."""
    shared = runtime.of(memo)
    await shared.observations.stop()
    await shared.gateway.close()


@kopf.on.cleanup()
async def stop_metrics(memo: kopf.Memo, **_: Any) -> None:
    """Stop serving /metrics and /healthz."""
    endpoint = memo.pop(_ENDPOINT_KEY, None)
    if endpoint is not None:
        await endpoint.cleanup()
