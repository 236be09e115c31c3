"""Billing: tariffs, pricing and invoices. Pure: no I/O, no clock, no logging.

Built by the billing issue; the package exists now so its import contract (.importlinter) is enforced
from the first line of code written in it.
"""

__all__: list[str] = []
