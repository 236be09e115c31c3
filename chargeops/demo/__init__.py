"""``chargeops demo``: every part of chargeops on one machine, driven through one scripted month."""
