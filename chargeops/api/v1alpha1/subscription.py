"""Subscription: one subscriber's contract to charge by the month at some chargers of a site.

An active Subscription puts its id tags on the authorized list of every Charger it covers; the billing
controller writes one Invoice per Subscription and month.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from chargeops.api.v1alpha1.meta import (
    AGE_COLUMN,
    ApiModel,
    Conditions,
    LocalObjectReference,
    PrinterColumn,
    Resource,
    ResourceNames,
    condition_column,
    matches,
    rule,
    validations,
)
from chargeops.api.v1alpha1.tariff import DATE_PATTERN

# OCPP 1.6 IdToken is CiString20; 2.0.1 allows 36, but a tag must work on every charger a subscription
# may cover, so the smaller limit holds. Printable ASCII without spaces, as RFID UIDs and app ids are.
ID_TAG_PATTERN = r"^[!-~]{1,20}$"
# A pragmatic address check (local@domain.tld); the invitation mail is the real proof.
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"

IdTag = Annotated[
    str,
    Field(
        max_length=20,
        json_schema_extra=validations(
            matches(ID_TAG_PATTERN, "each id tag must be 1-20 printable characters without spaces (OCPP IdToken)")
        ),
    ),
]


class Subscriber(ApiModel):
    """The person who pays."""

    name: str = Field(min_length=1, max_length=128)
    """Full name, as printed on invoices, e.g. `Ada Lovelace`."""

    email: str = Field(
        max_length=254,
        json_schema_extra=validations(
            matches(EMAIL_PATTERN, "subscriber.email must be an email address such as ada@example.com")
        ),
    )
    """Email address for the invitation and invoices, e.g. `ada@example.com`."""


class LabelSelector(ApiModel):
    """A label query over Chargers, as metav1.LabelSelector with matchLabels only."""

    match_labels: dict[str, str] = Field(min_length=1, max_length=16)
    """Labels a Charger must all carry, e.g. `{chargeops.io/garage: north}`."""


class SubscriptionPhase(StrEnum):
    """Where a subscription is in its life."""

    PENDING = "Pending"  # invited, waiting for the subscriber to accept
    ACTIVE = "Active"  # accepted and within its dates: id tags are authorized
    DECLINED = "Declined"  # the subscriber declined the invitation
    SUSPENDED = "Suspended"  # spec.suspend is true: id tags are withdrawn
    ENDED = "Ended"  # past spec.endDate: id tags are withdrawn


class SubscriptionSpec(ApiModel):
    """Desired state of a Subscription: who subscribes, with which id tags, at which chargers, when."""

    site_ref: LocalObjectReference = Field(
        json_schema_extra=validations(
            rule("self == oldSelf", "siteRef is immutable; its invoices are numbered by that Site")
        )
    )
    """Site whose chargers the subscription covers and whose time zone cuts its months, e.g.
    `{name: parkside}`. Immutable."""

    subscriber: Subscriber
    """Who subscribes and pays."""

    id_tags: list[IdTag] = Field(min_length=1, max_length=16, json_schema_extra={"x-kubernetes-list-type": "set"})
    """RFID card UIDs or app ids that charge on this subscription, e.g. `["04A2B3C4D5E6F7"]`. At least one,
    each at most 20 characters, no duplicates."""

    charger_refs: list[LocalObjectReference] | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    )
    """Chargers covered, by name, e.g. `[{name: garage-north-1}]`. Cannot be set if `chargerSelector` is
    set."""

    charger_selector: LabelSelector | None = None
    """Chargers covered, by label, e.g. `{matchLabels: {chargeops.io/garage: north}}`. Cannot be set if
    `chargerRefs` is set."""

    tariff_ref: LocalObjectReference | None = None
    """Tariff for this subscriber instead of each charger's own, e.g. `{name: staff-rate}`. If unset, each
    session is priced with the tariff of the charger it took place at."""

    start_date: str = Field(
        max_length=10,
        json_schema_extra=validations(matches(DATE_PATTERN, "startDate must be a date YYYY-MM-DD, e.g. 2026-01-01")),
    )
    """First day of the subscription in the site's time zone, e.g. `"2026-01-01"`. The monthly fee of a
    partial month is prorated by day."""

    end_date: str | None = Field(
        default=None,
        max_length=10,
        json_schema_extra=validations(matches(DATE_PATTERN, "endDate must be a date YYYY-MM-DD, e.g. 2026-12-31")),
    )
    """Last day of the subscription (inclusive) in the site's time zone, e.g. `"2026-12-31"`. If unset, it
    runs until deleted or given an end date."""

    suspend: bool = False
    """Withdraw the id tags from the chargers without ending the subscription. If unset, defaults to false."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            rule(
                "has(self.chargerRefs) != has(self.chargerSelector)",
                "set exactly one of spec.chargerRefs or spec.chargerSelector",
            ),
            rule(
                "!has(self.endDate) || self.startDate <= self.endDate",
                "spec.endDate must not be before spec.startDate",
            ),
        )
    )


# The subscriber's answer, recorded by `chargeops portal` (or by a person, when the site has no
# invitations) as an annotation holding the RFC 3339 time of the answer: metadata survives a lost status,
# and GitOps tools leave annotations they do not manage alone.
ACCEPTED_ANNOTATION = "chargeops.io/accepted"
DECLINED_ANNOTATION = "chargeops.io/declined"
# Set (to any new value, e.g. the time) to have the invitation sent again; the old link stops working.
RESEND_ANNOTATION = "chargeops.io/resend-invitation"


class Invitation(ApiModel):
    """The invitation email and the subscriber's answer."""

    sent_at: datetime | None = None
    """When the invitation was last sent."""

    sent_to: str | None = Field(default=None, max_length=254)
    """Address it was sent to."""

    nonce: str | None = Field(default=None, max_length=64)
    """Identifies the invitation last sent; only its link is valid. A resend makes a new one."""

    expires_at: datetime | None = None
    """When the link of the last invitation stops working."""

    resend_request: str | None = Field(default=None, max_length=253)
    """The value of the resend annotation this invitation answered, so one request sends one email."""

    answered_at: datetime | None = None
    """When the subscriber accepted or declined."""


class SubscriptionStatus(ApiModel):
    """Observed state of a Subscription. Set by the operator. Read-only."""

    observed_generation: int | None = Field(default=None, ge=0)
    """The `metadata.generation` this status was computed from."""

    conditions: Conditions | None = None
    """Current state: `Ready` is True when the id tags are on every covered charger."""

    phase: SubscriptionPhase | None = None
    """`Pending`, `Active`, `Declined`, `Suspended` or `Ended`."""

    chargers: list[str] | None = Field(default=None, max_length=256)
    """Names of the Chargers the subscription covers now."""

    invitation: Invitation | None = None
    """The invitation and its answer."""


class Subscription(Resource):
    """A subscriber's monthly contract to charge with their id tags at some chargers of a site."""

    names = ResourceNames(
        kind="Subscription",
        plural="subscriptions",
        singular="subscription",
        short_names=("csub",),
        printer_columns=(
            PrinterColumn("Subscriber", ".spec.subscriber.email", description="Subscriber's email."),
            PrinterColumn("Site", ".spec.siteRef.name", description="Site of the subscription."),
            PrinterColumn("Phase", ".status.phase", description="Where the subscription is in its life."),
            condition_column("Ready"),
            AGE_COLUMN,
        ),
    )

    kind: Literal["Subscription"] = "Subscription"
    spec: SubscriptionSpec
    status: SubscriptionStatus | None = None
