"""The offer in plain words: the prices an invitation states, written out by hand for each case."""

from typing import Any

import pytest

from chargeops.api import v1alpha1
from chargeops.invitations import offer
from chargeops.invitations.errors import TariffUnavailableError
from tests.unit.invitations.offer_builders import TARIFFS, charger, site, subscription, tariff


def test_an_off_peak_tariff_reads_window_by_window_with_otherwise_last() -> None:
    described = offer.describe(site(), subscription(), [charger("garage-north-1", "energy-standard")], TARIFFS)

    assert described.lines == [
        "23:00–07:00: 0.25 EUR per kWh (plus 21% VAT), billed per 0.1 kWh begun",
        "Saturday and Sunday: 0.30 EUR per kWh (plus 21% VAT)",
        "Otherwise: 0.35 EUR per kWh (plus 21% VAT)",
        "0.50 EUR per session (plus 21% VAT)",
        "No monthly fee.",
        "Times and days are local time in Europe/Amsterdam.",
    ]
    assert described.currency == "EUR"
    assert described.chargers == ["garage-north-1"]


def test_who_invites_is_the_sender_name_else_the_site() -> None:
    smtp = {"host": "smtp.example.com", "fromAddress": "chargers@parkside.example", "fromName": "Parkside HOA"}
    invited = offer.describe(site(smtp=smtp, portalUrl="https://p.example"), subscription(), [], TARIFFS)
    plain = offer.describe(site(), subscription(), [], TARIFFS)

    assert (invited.inviter, invited.site_name) == ("Parkside HOA", "Parkside Garage")
    assert (plain.inviter, plain.site_name) == ("Parkside Garage", "Parkside Garage")
    assert plain.subscriber_name == "Ada Lovelace"
    assert plain.id_tags == ["04A2B3C4D5E6F7", "APP-ada-7f3c"]
    assert plain.period == "From 1 October 2026, with no end date."


def test_several_tariffs_are_headed_by_their_chargers_and_free_chargers_say_so() -> None:
    chargers = [
        charger("garage-north-2", "time-and-fee"),
        charger("visitor-1", None),
        charger("garage-north-1", "energy-standard"),
    ]
    described = offer.describe(site(), subscription(endDate="2027-06-30"), chargers, TARIFFS)

    assert described.chargers == ["garage-north-1", "garage-north-2", "visitor-1"]
    assert described.lines == [
        "At garage-north-1 (Standard energy price):",
        "23:00–07:00: 0.25 EUR per kWh (plus 21% VAT), billed per 0.1 kWh begun",
        "Saturday and Sunday: 0.30 EUR per kWh (plus 21% VAT)",
        "Otherwise: 0.35 EUR per kWh (plus 21% VAT)",
        "0.50 EUR per session (plus 21% VAT)",
        "At garage-north-2 (Hourly rate with monthly fee):",
        "2.40 EUR per hour of charging (plus 21% VAT), billed per 15 minutes begun",
        "After the first 4 hours of a session: 1.00 EUR per hour parked without charging (plus 21% VAT), "
        "billed per 15 minutes begun",
        "Charging at visitor-1 is free.",
        # Billing's rule: the first paying charger by name whose tariff has a fee.
        "Monthly fee: 9.90 EUR per month (plus 21% VAT).",
        "Times and days are local time in Europe/Amsterdam.",
    ]
    assert [t.name for t in described.tariffs] == [
        "Standard energy price",
        "Hourly rate with monthly fee",
        "Free charging",
    ]
    assert described.period == "From 1 October 2026 to 30 June 2027."


def test_the_subscriptions_own_tariff_replaces_every_paying_chargers() -> None:
    chargers = [charger("garage-north-1", "energy-standard"), charger("garage-north-2", "energy-standard")]
    described = offer.describe(site(), subscription(tariffRef={"name": "time-and-fee"}), chargers, TARIFFS)

    assert described.lines == [
        "2.40 EUR per hour of charging (plus 21% VAT), billed per 15 minutes begun",
        "After the first 4 hours of a session: 1.00 EUR per hour parked without charging (plus 21% VAT), "
        "billed per 15 minutes begun",
        "Monthly fee: 9.90 EUR per month (plus 21% VAT).",
    ]
    assert [t.chargers for t in described.tariffs] == [["garage-north-1", "garage-north-2"]]


def test_yen_have_no_decimals_and_a_price_without_vat_says_so() -> None:
    yen = tariff(
        "tokyo",
        "JPY",
        [
            {
                "restrictions": {"dayOfWeek": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]},
                "priceComponents": [{"type": "ENERGY", "price": "38", "vat": "10", "stepSize": 1000}],
            },
            {"priceComponents": [{"type": "ENERGY", "price": "30.5"}, {"type": "TIME", "price": "1200"}]},
        ],
        monthlyFee={"price": "2200", "vat": "10.0"},
    )
    described = offer.describe(site("JPY"), subscription(), [charger("tokyo-1", "tokyo")], {"tokyo": yen})

    assert described.lines == [
        "Monday to Friday: 38 JPY per kWh (plus 10% VAT), billed per 1 kWh begun",
        # A price finer than the yen is shown as written, never rounded away.
        "Otherwise: 30.5 JPY per kWh (no VAT)",
        "1,200 JPY per hour of charging (no VAT)",
        "Monthly fee: 2,200 JPY per month (plus 10% VAT).",
        "Times and days are local time in Europe/Amsterdam.",
    ]
    assert described.currency == "JPY"


@pytest.mark.parametrize(
    ("restrictions", "words"),
    [
        ({"startTime": "07:00"}, "07:00–24:00"),
        ({"endTime": "07:00"}, "00:00–07:00"),
        ({"startTime": "08:00", "endTime": "08:00"}, None),  # OCPI: equal times are the whole day
        ({"dayOfWeek": ["SATURDAY", "MONDAY", "SUNDAY"]}, "Monday, Saturday and Sunday"),
        ({"startDate": "2026-01-01", "endDate": "2026-04-01"}, "from 1 January 2026 to 31 March 2026"),
        ({"endDate": "2026-04-01"}, "until 31 March 2026"),
        ({"minKwh": "20", "maxKwh": "50.5"}, "from 20 kWh to 50.5 kWh of a session"),
        ({"maxKwh": "7.500"}, "for the first 7.5 kWh of a session"),
        ({"maxDurationS": 5400}, "for the first 1 hour 30 minutes of a session"),
        ({"minDurationS": 60, "maxDurationS": 7200}, "from 1 minute to 2 hours into a session"),
        ({"dayOfWeek": ["FRIDAY"], "startTime": "23:00", "endTime": "07:00"}, "Friday, 23:00–07:00"),
    ],
)
def test_restrictions_in_words(restrictions: dict[str, Any], words: str | None) -> None:
    assert offer.restriction_words(v1alpha1.TariffRestrictions.model_validate(restrictions)) == words


def test_a_missing_tariff_is_refused_rather_than_left_out() -> None:
    with pytest.raises(TariffUnavailableError, match="Tariff staff-rate does not exist"):
        offer.describe(
            site(), subscription(tariffRef={"name": "staff-rate"}), [charger("n1", "energy-standard")], TARIFFS
        )
    with pytest.raises(TariffUnavailableError) as raised:
        offer.describe(site(), subscription(), [charger("n1", "gone")], TARIFFS)
    assert raised.value.reason == "TariffNotFound"
