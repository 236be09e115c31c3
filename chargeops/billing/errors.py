"""Errors of billing::

ChargeOpsError
 └── BillingError                          billing cannot go on with these inputs
      ├── UnsupportedCurrencyError          a currency without a known ISO 4217 minor unit
      ├── CurrencyMismatchError             two amounts (or a tariff and its site) in different currencies
      ├── InvalidTimeZoneError              a time zone the tz database does not know
      ├── InvalidMonthError                 a month that is not YYYY-MM
      ├── InvoiceTooLargeError              more lines than an Invoice holds
      └── SessionNotBillableError           one session's data cannot be priced; it goes to review
           ├── SessionOpenError             the session has no stop yet
           ├── InvalidSessionTimesError     the session stops before it starts
           ├── InconsistentMeterReadingsError  the register goes backwards or jumps at one instant
           └── TooManyComponentsError       more distinct prices than an invoice line holds

A ``SessionNotBillableError`` concerns one session only: the invoice builder lists the session for review
(``reason`` becomes ``SessionForReview.reason``) and prices the others.
"""

from chargeops.errors import ChargeOpsError


class BillingError(ChargeOpsError):
    """Billing cannot go on with these inputs."""

    reason = "BillingFailed"


class UnsupportedCurrencyError(BillingError):
    """The currency has no minor unit in our ISO 4217 table, so amounts cannot be rounded."""

    reason = "UnsupportedCurrency"

    def __init__(self, currency: str) -> None:
        super().__init__(f"currency {currency!r} is not supported: its ISO 4217 minor unit is unknown")
        self.currency = currency


class CurrencyMismatchError(BillingError):
    """Two amounts that were to be combined are in different currencies."""

    reason = "CurrencyMismatch"

    def __init__(self, expected: str, actual: str, *, what: str = "amount") -> None:
        super().__init__(f"{what} is in {actual}, expected {expected}")
        self.expected = expected
        self.actual = actual


class InvalidTimeZoneError(BillingError):
    """The site's time zone is not in the tz database."""

    reason = "InvalidTimeZone"

    def __init__(self, name: str) -> None:
        super().__init__(f"time zone {name!r} is not in the tz database")
        self.name = name


class InvalidMonthError(BillingError):
    """A month is not written YYYY-MM."""

    reason = "InvalidMonth"

    def __init__(self, month: str) -> None:
        super().__init__(f"month {month!r} is not YYYY-MM")
        self.month = month


class InvoiceTooLargeError(BillingError):
    """An invoice would have more lines than the Invoice kind admits."""

    reason = "InvoiceTooLarge"

    def __init__(self, name: str, lines: int, limit: int) -> None:
        super().__init__(f"invoice {name} would have {lines} lines; an Invoice holds at most {limit}")
        self.name = name
        self.lines = lines
        self.limit = limit


class SessionNotBillableError(BillingError):
    """One session cannot be priced from its data; a person has to look at it."""

    reason = "SessionNotBillable"

    def __init__(self, session_id: str, problem: str) -> None:
        super().__init__(problem)
        self.session_id = session_id
        self.problem = problem


class SessionOpenError(SessionNotBillableError):
    """The session has not stopped, so its energy and duration are unknown."""

    reason = "SessionOpen"


class InvalidSessionTimesError(SessionNotBillableError):
    """The session stops before it starts."""

    reason = "InvalidSessionTimes"


class InconsistentMeterReadingsError(SessionNotBillableError):
    """The energy register goes backwards, or reads two values at one instant."""

    reason = "InconsistentMeterReadings"


class TooManyComponentsError(SessionNotBillableError):
    """The session crossed more distinct prices than one invoice line can list."""

    reason = "TooManyComponents"
