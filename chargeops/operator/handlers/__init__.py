"""kopf handlers, one module per resource. ``chargeops.operator.main`` imports them, which registers them."""
