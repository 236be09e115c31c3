"""Errors of CRD generation::

ChargeOpsError
 └── CrdGenError
      ├── NotStructuralError      a model produced a schema the API server would reject
      ├── StaleCrdsError          crds/ differs from what the API types generate
      ├── StaleDocsError          docs/api/ differs from what the API types generate
      └── UnplacedConditionError  conditions.py declares a type or reason under no known heading
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


class StaleDocsError(CrdGenError):
    """The API reference pages on disk are not what the API types generate."""

    reason = "StaleDocs"

    def __init__(self, stale: Sequence[str]) -> None:
        super().__init__(
            f"{len(stale)} API doc file(s) out of date: {', '.join(stale)}; run `chargeops docs` and commit the result"
        )
        self.stale = list(stale)


class UnplacedConditionError(CrdGenError):
    """A constant of conditions.py cannot be given to a kind, so the docs would leave it out."""

    reason = "UnplacedCondition"

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"chargeops/api/v1alpha1/conditions.py: {name} {problem}")
        self.name = name
        self.problem = problem
