"""The kopf operator that reconciles Sites, Tariffs, Chargers and Subscriptions. An application: it
exports nothing. Built by the operator issue; the package exists now so its import contract holds from
the start.
"""
