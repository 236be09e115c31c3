"""Operator start-up and shutdown: kopf settings that matter for a GitOps-managed operator."""

from typing import Any

import kopf

from chargeops.operator import runtime


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    """Keep kopf's progress in annotations only as long as needed, and post only our own Events."""
    # Status belongs to our schema; kopf keeps handler progress in an annotation instead of status.kopf.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="kopf.chargeops.io")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix="kopf.chargeops.io")
    settings.posting.level = 100  # log lines are not Events; Events are posted on purpose (kopf.event)
    settings.watching.server_timeout = 300


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """In a Pod, its service account; elsewhere the kubeconfig named by $KUBECONFIG (or ~/.kube/config).

    kopf's own readers look at the environment when called, unlike the kubernetes client library, which
    reads $KUBECONFIG once at import; so a test or ``chargeops operator --kubeconfig`` can point it anywhere.
    """
    return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)


@kopf.on.cleanup()
async def close_gateway_client(memo: kopf.Memo, **_: Any) -> None:
    """Close the HTTP session to the gateway."""
    await runtime.of(memo).gateway.close()
