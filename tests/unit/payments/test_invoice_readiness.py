"""Only a finalized, numbered Invoice whose amounts add up and whose objects match goes to Stripe."""

from typing import Any

import pytest

from chargeops import payments
from chargeops.api import v1alpha1
from chargeops.errors import ChargeOpsError
from chargeops.payments import errors, params

SITE = v1alpha1.Site.model_validate({"metadata": {"name": "parkside"}, "spec": {"plan": "Business", "currency": "EUR"}})
SUBSCRIPTION = v1alpha1.Subscription.model_validate(
    {
        "metadata": {"name": "ada", "uid": "sub-uid"},
        "spec": {
            "siteRef": {"name": "parkside"},
            "subscriber": {"name": "Ada Lovelace", "email": "ada@example.com"},
            "idTags": ["TAG1"],
            "chargerRefs": [{"name": "c1"}],
            "startDate": "2026-10-01",
        },
    }
)


def invoice(metadata: dict[str, Any] | None = None, **spec: Any) -> v1alpha1.Invoice:
    return v1alpha1.Invoice.model_validate(
        {
            "metadata": {"name": "ada-2026-10", "namespace": "garage", "uid": "inv-uid"}
            if metadata is None
            else metadata,
            "spec": {
                "siteRef": {"name": "parkside"},
                "subscriptionRef": {"name": "ada"},
                "period": {
                    "month": "2026-10",
                    "start": "2026-10-01T00:00:00+02:00",
                    "end": "2026-11-01T00:00:00+01:00",
                },
                "currency": "EUR",
                "lines": [{"kind": "MonthlyFee", "description": "Monthly fee", "amount": "10.00"}],
                "subtotal": "10.00",
                "vat": [{"rate": "21", "base": "10.00", "amount": "2.10"}],
                "total": "12.10",
                "finalized": True,
                "number": "INV-000001",
            }
            | spec,
        }
    )


def test_a_finalized_invoice_gives_its_ids() -> None:
    ids = params.invoice_ids(invoice(), subscription=SUBSCRIPTION, site=SITE)

    assert ids == params.InvoiceIds(
        namespace="garage",
        invoice="ada-2026-10",
        invoice_uid="inv-uid",
        number="INV-000001",
        month="2026-10",
        subscription="ada",
        subscription_uid="sub-uid",
        site="parkside",
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"finalized": False, "number": None}, "is not finalized"),
        ({"subscriptionRef": {"name": "grace"}}, "bills Subscription grace, not ada"),
        ({"siteRef": {"name": "elsewhere"}}, "issued by Site elsewhere, not parkside"),
        ({"total": "12.11"}, r"come to 12\.10 EUR but its total is 12\.11"),
    ],
)
def test_what_stripe_must_not_see_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(payments.InvoiceNotReadyError, match=message):
        params.invoice_ids(invoice(**changes), subscription=SUBSCRIPTION, site=SITE)


def test_an_invoice_without_a_uid_is_refused() -> None:
    with pytest.raises(payments.InvoiceNotReadyError, match=r"no metadata\.uid"):
        params.invoice_ids(invoice({"name": "x", "namespace": "garage"}), subscription=SUBSCRIPTION, site=SITE)


def test_an_amount_stripe_cannot_take_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(payments.AmountNotRepresentableError):
        params.invoice_ids(
            invoice(lines=[{"kind": "MonthlyFee", "description": "Fee", "amount": "10.005"}], total="12.105"),
            subscription=SUBSCRIPTION,
            site=SITE,
        )


def test_every_error_has_a_distinct_pascal_case_reason() -> None:
    classes = [
        value for value in vars(errors).values() if isinstance(value, type) and issubclass(value, ChargeOpsError)
    ]
    reasons = [cls.reason for cls in classes if cls is not ChargeOpsError]

    assert all(issubclass(cls, payments.PaymentsError) for cls in classes if cls is not ChargeOpsError)
    assert len(set(reasons)) == len(reasons) == 6
    assert all(reason[0].isupper() and reason.isalnum() for reason in reasons)
