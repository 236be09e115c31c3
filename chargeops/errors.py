"""The root of every error chargeops raises on purpose.

Each package keeps its own ``errors.py`` with a tree under this class. An error carries ``reason``, the
one-word CamelCase cause that handlers copy into status conditions and Events without a lookup table::

    ChargeOpsError
     ├── chargeops.devcluster.errors.DevClusterError
     └── …
"""


class ChargeOpsError(Exception):
    """Something chargeops understood and can explain; never a bug."""

    reason: str = "Failed"
