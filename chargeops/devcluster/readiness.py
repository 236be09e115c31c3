"""Waiting until etcd and kube-apiserver answer, and reading what versions they are.

``controlplane`` calls these right after spawning each process. A poll fails fast when the process has
exited (its log tail goes into the error), and otherwise retries until a deadline, because both servers
refuse connections for a while after they start.
"""

import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chargeops.devcluster import errors, processes

# Short enough to notice readiness promptly; the servers take hundreds of milliseconds at the least.
_POLL_INTERVAL_S = 0.1

# One probe must not hang the whole wait on a half-open connection.
_REQUEST_TIMEOUT_S = 2.0

# What kube-apiserver must serve before a test may run: its own readiness (which includes the RBAC
# bootstrap roles), the default namespace (made by a post-start controller) and the CRD API.
APISERVER_READY_PATHS = (
    "/readyz",
    "/api/v1/namespaces/default",
    "/apis/apiextensions.k8s.io/v1",
)


def wait_for_etcd(process: processes.ManagedProcess, *, client_url: str, deadline: float) -> None:
    """Return once etcd's ``/health`` says healthy."""
    last_problem = "no answer yet"
    while True:
        _fail_if_exited(process)
        try:
            body = _get_json(f"{client_url}/health")
        except OSError as exc:
            last_problem = str(exc)
        else:
            if body.get("health") == "true":
                return
            last_problem = f"/health answered {body}"
        _fail_if_past(process, deadline=deadline, problem=last_problem)
        time.sleep(_POLL_INTERVAL_S)


def wait_for_apiserver(
    process: processes.ManagedProcess,
    *,
    server_url: str,
    ca_file: Path,
    token: str,
    deadline: float,
    paths: Sequence[str] = APISERVER_READY_PATHS,
) -> None:
    """Return once every one of ``paths`` answers 200 to ``token``, in order."""
    context = ssl.create_default_context(cafile=str(ca_file))
    for path in paths:
        last_problem = "no answer yet"
        while True:
            _fail_if_exited(process)
            try:
                _get(f"{server_url}{path}", token=token, context=context)
            except urllib.error.HTTPError as exc:
                last_problem = f"GET {path} answered {exc.code}"
            except OSError as exc:
                last_problem = f"GET {path} failed: {exc}"
            else:
                break
            _fail_if_past(process, deadline=deadline, problem=last_problem)
            time.sleep(_POLL_INTERVAL_S)


def etcd_version(client_url: str) -> str:
    """The etcd server version, as ``v3.7.3``."""
    return "v" + str(_get_json(f"{client_url}/version")["etcdserver"])


def apiserver_version(server_url: str, *, ca_file: Path, token: str) -> str:
    """The API server's ``gitVersion``, as ``v1.37.2``."""
    context = ssl.create_default_context(cafile=str(ca_file))
    return str(json.loads(_get(f"{server_url}/version", token=token, context=context))["gitVersion"])


def _get(url: str, *, token: str | None = None, context: ssl.SSLContext | None = None) -> bytes:
    request = urllib.request.Request(url)  # noqa: S310 -- always our own http(s) loopback URL
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=_REQUEST_TIMEOUT_S, context=context) as response:  # noqa: S310
        body: bytes = response.read()
        return body


def _get_json(url: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_get(url))
    return document


def _fail_if_exited(process: processes.ManagedProcess) -> None:
    code = process.popen.poll()
    if code is not None:
        raise errors.ControlPlaneStartError(
            f"{process.name} exited with code {code} while starting; last lines of {process.log_path}:\n"
            f"{process.log_tail()}",
            component=process.name,
            log_tail=process.log_tail(),
        )


def _fail_if_past(process: processes.ManagedProcess, *, deadline: float, problem: str) -> None:
    if time.monotonic() > deadline:
        raise errors.ControlPlaneStartError(
            f"{process.name} was not ready in time ({problem}); last lines of {process.log_path}:\n"
            f"{process.log_tail()}",
            component=process.name,
            log_tail=process.log_tail(),
        )
