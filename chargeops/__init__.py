"""chargeops: a Kubernetes-native controller for pay-per-month EV charging.

The package is layered (see ``.importlinter``): ``cli`` on top of ``operator`` and ``ocpp_gateway``,
which stand on ``billing`` and ``crdgen``, which stand on ``api``. The gateway never imports Kubernetes
code, and ``api`` imports only pydantic.
"""

__version__ = "0.1.0.dev0"
