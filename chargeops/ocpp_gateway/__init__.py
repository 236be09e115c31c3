"""The OCPP gateway: the only part that talks to chargers; it knows nothing of Kubernetes. An application:
it exports nothing. Built by the gateway issue; the package exists now so its import contract holds from
the start.
"""
