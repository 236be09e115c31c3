"""Tariff: a price list, modelled on OCPI 2.2.1 tariffs (elements of price components with restrictions).

Chargers point at a Tariff with ``spec.chargingMode.tariffRef`` and subscriptions may override it with
``spec.tariffRef``. The billing controller prices each session with the tariff in force at its start.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from chargeops.api.v1alpha1.meta import (
    AGE_COLUMN,
    ApiModel,
    Conditions,
    Price,
    PrinterColumn,
    Resource,
    ResourceNames,
    VatRate,
    condition_column,
    matches,
    rule,
    validations,
)
from chargeops.api.v1alpha1.site import CURRENCY_PATTERN

# OCPI 2.2.1 TariffRestrictions times are local "HH:MM" in the site's time zone.
TIME_OF_DAY_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
DATE_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
# kWh bounds in restrictions: OCPI uses decimals; three decimals are Wh precision.
KWH_PATTERN = r"^[0-9]{1,6}(\.[0-9]{1,3})?$"


class TariffDimensionType(StrEnum):
    """What a price component charges for (OCPI 2.2.1 TariffDimensionType)."""

    ENERGY = "ENERGY"  # per kWh delivered; stepSize in Wh
    FLAT = "FLAT"  # once per session; stepSize unused
    PARKING_TIME = "PARKING_TIME"  # per hour plugged in but not charging; stepSize in seconds
    TIME = "TIME"  # per hour of charging; stepSize in seconds


class DayOfWeek(StrEnum):
    """A weekday, in the site's time zone (OCPI 2.2.1 DayOfWeek)."""

    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


KwhBound = Annotated[
    str,
    Field(
        max_length=12,
        json_schema_extra=validations(matches(KWH_PATTERN, 'must be kWh as a decimal string, e.g. "7.5"')),
    ),
]
LocalTime = Annotated[
    str,
    Field(
        max_length=5,
        json_schema_extra=validations(matches(TIME_OF_DAY_PATTERN, "must be a local time HH:MM, e.g. 07:30")),
    ),
]
LocalDate = Annotated[
    str,
    Field(
        max_length=10,
        json_schema_extra=validations(matches(DATE_PATTERN, "must be a date YYYY-MM-DD, e.g. 2026-01-31")),
    ),
]


class PriceComponent(ApiModel):
    """One price for one dimension of a session (OCPI 2.2.1 PriceComponent)."""

    type: TariffDimensionType
    """What is charged: `ENERGY` (per kWh), `TIME` (per hour charging), `FLAT` (per session) or
    `PARKING_TIME` (per hour plugged in without charging)."""

    price: Price
    """Price per unit excluding VAT, as a decimal string in the tariff's currency, e.g. `"0.35"` per kWh,
    `"2.00"` per hour, `"1.00"` per session. Never a number: floats cannot hold cents exactly."""

    vat: VatRate | None = None
    """VAT rate in percent applied to this component, e.g. `"21"`. If unset, no VAT is charged on it."""

    step_size: int = Field(default=1, ge=1, le=86_400_000)
    """Billing granularity: a partial step is billed as a whole step, as OCPI defines. In Wh for `ENERGY`
    (e.g. `100` bills per 0.1 kWh begun), in seconds for `TIME` and `PARKING_TIME` (e.g. `900` bills per
    quarter hour begun); ignored for `FLAT`. If unset, defaults to 1. Minimum accepted value is 1."""


class TariffRestrictions(ApiModel):
    """When a tariff element applies (OCPI 2.2.1 TariffRestrictions). All set fields must hold."""

    start_time: LocalTime | None = None
    """Local time of day from which the element applies, e.g. `"07:00"`. If `endTime` is earlier, the
    window wraps past midnight."""

    end_time: LocalTime | None = None
    """Local time of day until which (exclusive) the element applies, e.g. `"23:00"`."""

    start_date: LocalDate | None = None
    """First local date on which the element applies, e.g. `"2026-01-01"`."""

    end_date: LocalDate | None = None
    """Local date from which (exclusive) the element no longer applies, e.g. `"2026-04-01"`."""

    min_kwh: KwhBound | None = None
    """Applies once the session has delivered at least this much energy, in kWh, e.g. `"20"`."""

    max_kwh: KwhBound | None = None
    """Applies until the session has delivered this much energy (exclusive), in kWh, e.g. `"50"`."""

    min_duration_s: int | None = Field(default=None, ge=0)
    """Applies once the session has lasted at least this many seconds, e.g. `3600`."""

    max_duration_s: int | None = Field(default=None, ge=0)
    """Applies until the session has lasted this many seconds (exclusive), e.g. `14400`."""

    day_of_week: list[DayOfWeek] | None = Field(
        default=None, min_length=1, max_length=7, json_schema_extra={"x-kubernetes-list-type": "set"}
    )
    """Local weekdays on which the element applies, e.g. `[SATURDAY, SUNDAY]`."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            rule(
                "!has(self.startDate) || !has(self.endDate) || self.startDate < self.endDate",
                "restrictions.startDate must be before restrictions.endDate",
            ),
            rule(
                "!has(self.minKwh) || !has(self.maxKwh) || double(self.minKwh) < double(self.maxKwh)",
                "restrictions.minKwh must be less than restrictions.maxKwh",
            ),
            rule(
                "!has(self.minDurationS) || !has(self.maxDurationS) || self.minDurationS < self.maxDurationS",
                "restrictions.minDurationS must be less than restrictions.maxDurationS",
            ),
        )
    )


class TariffElement(ApiModel):
    """A group of price components that apply together under the same restrictions."""

    price_components: list[PriceComponent] = Field(
        min_length=1,
        max_length=4,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    """Prices of this element, at most one per type, e.g. `[{type: ENERGY, price: "0.35", vat: "21"}]`."""

    restrictions: TariffRestrictions | None = None
    """When this element applies. If unset, it always applies. For each dimension the first element in
    `spec.elements` that applies and prices that dimension wins."""


class MonthlyFee(ApiModel):
    """A fixed amount each subscriber pays per month."""

    price: Price
    """Fee per full month excluding VAT, e.g. `"9.90"`. A subscription that starts or ends mid-month pays
    the share of days it was active."""

    vat: VatRate | None = None
    """VAT rate in percent on the fee, e.g. `"21"`. If unset, no VAT is charged on it."""


class TariffSpec(ApiModel):
    """Desired state of a Tariff: its currency, priced elements and optional monthly fee."""

    display_name: str | None = Field(default=None, max_length=128)
    """Name shown to subscribers, e.g. `Standard energy price`. If unset, the object's name is used."""

    currency: str = Field(
        max_length=3,
        json_schema_extra=validations(
            matches(CURRENCY_PATTERN, "currency must be an ISO 4217 code of three capital letters, e.g. EUR")
        ),
    )
    """ISO 4217 currency of every price in this tariff, e.g. `EUR`. Must equal the currency of the Site
    of every Charger that uses it."""

    elements: list[TariffElement] = Field(min_length=1, max_length=32)
    """Priced elements in order of precedence, e.g. an off-peak element with restrictions, then a default
    element without. At least one."""

    monthly_fee: MonthlyFee | None = None
    """A fixed monthly amount per subscription, on top of what sessions cost. If unset, none."""


# Revisions kept per Tariff: two years of monthly price changes; older ones price no open invoice.
MAX_TARIFF_REVISIONS = 24


class TariffRevision(ApiModel):
    """The prices of a Tariff from one moment on, as the operator saw them: sessions that start from
    `effectiveFrom` until the next revision are priced with this spec, even when invoiced later."""

    generation: int = Field(ge=1)
    """The `metadata.generation` whose spec this is."""

    effective_from: datetime
    """When the operator saw this spec first. The oldest revision kept also prices earlier sessions."""

    spec: TariffSpec
    """The spec as it was."""


class TariffStatus(ApiModel):
    """Observed state of a Tariff. Set by the operator. Read-only."""

    observed_generation: int | None = Field(default=None, ge=0)
    """The `metadata.generation` this status was computed from."""

    conditions: Conditions | None = None
    """Current state: `Ready` is True when the tariff can price sessions."""

    revisions: list[TariffRevision] | None = Field(default=None, max_length=MAX_TARIFF_REVISIONS)
    """Snapshots of the spec, oldest first: the billing controller prices each session with the revision in
    force at its start. At most 24 are kept; the oldest goes first."""


class Tariff(Resource):
    """A price list for charging sessions and subscriptions, in the shape of an OCPI 2.2.1 tariff."""

    names = ResourceNames(
        kind="Tariff",
        plural="tariffs",
        singular="tariff",
        short_names=("trf",),
        printer_columns=(
            PrinterColumn("Currency", ".spec.currency", description="ISO 4217 currency."),
            PrinterColumn(
                "MonthlyFee", ".spec.monthlyFee.price", description="Monthly fee per subscription, excl. VAT."
            ),
            condition_column("Ready"),
            AGE_COLUMN,
        ),
    )

    kind: Literal["Tariff"] = "Tariff"
    spec: TariffSpec
    status: TariffStatus | None = None
