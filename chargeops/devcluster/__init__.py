"""A real Kubernetes control plane on loopback: etcd and kube-apiserver as local processes.

This is the "envtest" approach (a control plane without kubelet or controller-manager) for the
integration tests and for ``chargeops dev cluster``. The test fixtures in ``tests/conftest.py`` and the
``dev`` command are its only callers. Modules, from the bottom up:

- ``checkout``: where ``tools/`` and ``crds/`` are in the source checkout.
- ``binaries``: builds etcd and kube-apiserver from the Go modules under ``tools/``, once, into a cache.
- ``pki``: the cluster's CA, serving certificate and service-account signing key.
- ``identities``: static-token users (admin, super-admin, editor, viewer) and their RBAC.
- ``aggregation``: filling ``edit``/``view`` from ``aggregate-to-*`` roles, as controller-manager would.
- ``kubeconfigs``: one kubeconfig with a context per identity.
- ``ports``, ``processes``, ``components``, ``readiness``: free ports, child processes that die with
  us, the etcd and kube-apiserver command lines, and waiting until they serve.
- ``clients``: running ``kubectl`` as one of the identities.
- ``postgres``: a throwaway PostgreSQL server (Debian's binaries, run as the ``postgres`` user) for the
  gateway's store tests and benchmarks.
- ``controlplane``: ``ControlPlane``, which puts the above together.
- ``stripe_mock``: stripe-mock (built by ``binaries`` like the control plane) on loopback, for the
  payments tests.

We import the modules and call through them (``controlplane.ControlPlane.start()``), so this package
re-exports nothing.
"""
