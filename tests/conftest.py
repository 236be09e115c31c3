"""Fixtures shared by all test layers: a real control plane for the tests that ask for one.

``control_plane`` is one etcd + kube-apiserver per test session (per worker under pytest-xdist), with the
generated CRDs from ``crds/`` applied. ``namespace`` is a fresh ``t-<random>`` namespace per test; there
is no controller-manager to delete namespaces, so nothing is cleaned up and nothing is shared.
``kubectl`` runs the real kubectl in that namespace as any of the static identities.

A test that uses ``control_plane`` (directly or through ``namespace``/``kubectl``) is marked ``cluster``
automatically, so ``-m "not cluster"`` runs without Go, etcd or kube-apiserver.

``postgres_server`` is one throwaway PostgreSQL per test session, started on first use;
``postgres_database`` is a new, empty database on it for one test. Tests using them are marked
``postgres``. Without PostgreSQL installed they fail with the command that installs it.

``stripe_mock`` is one stripe-mock per test session, built with the control plane's binaries; ``helm`` is
the path of the real helm binary, built the same way, for the chart's tests.
"""

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from chargeops.devcluster import binaries, checkout, controlplane, postgres, stripe_mock


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects, so the added mark counts
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "control_plane" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.cluster)
        if "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """Build the binaries before the first test, so pytest-timeout never cuts a first-run compile."""
    if session.config.option.collectonly:
        return
    needs_binaries = ("control_plane", "stripe_mock", "helm")
    if any(name in getattr(item, "fixturenames", ()) for item in session.items for name in needs_binaries):
        # Uncaptured, so a first-run compile shows its progress instead of minutes of silence.
        capture = session.config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            binaries.ensure_all()


@pytest.fixture(scope="session")
def control_plane() -> Iterator[controlplane.ControlPlane]:
    """A running control plane with the repository's CRDs established; stopped after the session."""
    with controlplane.ControlPlane.start() as plane:
        plane.apply_crds(checkout.crds_dir())
        yield plane


@pytest.fixture
def namespace(control_plane: controlplane.ControlPlane) -> str:
    """A new, empty namespace (with its ``default`` ServiceAccount) for this test alone."""
    return control_plane.create_namespace()


@pytest.fixture
def kubectl(control_plane: controlplane.ControlPlane, namespace: str) -> controlplane.NamespacedKubectl:
    """The real kubectl in this test's namespace, as admin unless ``as_identity`` says otherwise."""
    return controlplane.NamespacedKubectl(control_plane, namespace=namespace)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.PostgresServer]:
    """A PostgreSQL server on loopback (Debian's package), stopped and removed after the session."""
    with postgres.PostgresServer.start() as server:
        yield server


@pytest.fixture
def postgres_database(postgres_server: postgres.PostgresServer) -> Iterator[str]:
    """The ``postgresql+asyncpg://`` URL of a new, empty database for this test alone; dropped after it."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture(scope="session", name="stripe_mock")  # named apart from the module it uses
def stripe_mock_fixture() -> Iterator[stripe_mock.StripeMock]:
    """stripe-mock on a free loopback port (``.api_base``, ``.api_key``), stopped after the session."""
    with stripe_mock.StripeMock.start() as mock:
        yield mock


@pytest.fixture(scope="session")
def helm() -> Path:
    """The real helm (``tools/helm``), built once into the binary cache like the control plane's."""
    return binaries.ensure(binaries.HELM)
