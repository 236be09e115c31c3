"""Errors of CRD generation::

ChargeOpsError
 └── CrdGenError
      ├── NotStructuralError   a model produced a schema the API server would reject
      └── StaleCrdsError       crds/ differs from what the API types generate
"""

from collections.abc import Sequence

from chargeops.errors import ChargeOpsError


class CrdGenError(ChargeOpsError):
    """CRDs could not be generated or checked."""

    reason = "CrdGenerationFailed"


class NotStructuralError(CrdGenError):
    """A model's JSON schema has a shape a structural CRD schema cannot express."""

    reason = "NotStructural"

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"schema at {path} is not structural: {problem}")
        self.path = path
        self.problem = problem


class StaleCrdsError(CrdGenError):
    """The CRD files on disk are not what the API types generate."""

    reason = "StaleCrds"

    def __init__(self, stale: Sequence[str]) -> None:
        super().__init__(
            f"{len(stale)} CRD file(s) out of date: {', '.join(stale)}; run `chargeops crds` and commit the result"
        )
        self.stale = list(stale)
