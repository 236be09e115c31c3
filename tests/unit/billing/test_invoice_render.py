"""Invoices for people: the terminal table and the HTML document, from hand-written Invoice objects.

The realistic example (``parkside_october``) is also the committed docs/invoice-example.html; when the
renderer or its template changes, regenerate it with
``CHARGEOPS_WRITE_DOCS=1 .venv/bin/pytest tests/unit/billing/test_invoice_render.py -k docs_example``.
"""

import copy
import os
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chargeops.api import v1alpha1
from chargeops.billing import money, render

DOCS_EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "invoice-example.html"
HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_DESCRIPTION = "Fee & \"tax\" 'n' <b>bold</b>"


def site(*, time_zone: str = "Europe/Amsterdam", currency: str = "EUR") -> v1alpha1.Site:
    return v1alpha1.Site.model_validate(
        {
            "metadata": {"name": "parkside", "namespace": "parkside"},
            "spec": {"displayName": "Parkside Garage", "plan": "Business", "timeZone": time_zone, "currency": currency},
        }
    )


def subscription(*, name: str = "Ada Lovelace") -> v1alpha1.Subscription:
    return v1alpha1.Subscription.model_validate(
        {
            "metadata": {"name": "ada", "namespace": "parkside"},
            "spec": {
                "siteRef": {"name": "parkside"},
                "subscriber": {"name": name, "email": "ada@example.com"},
                "idTags": ["04A2B3C4D5E6F7"],
                "chargerSelector": {"matchLabels": {"chargeops.io/garage": "north"}},
                "startDate": "2026-10-01",
            },
        }
    )


def energy_and_fee(kwh: str, energy: str) -> list[dict[str, str]]:
    """The components of a session at 0.35 EUR/kWh plus a 0.50 EUR session fee, both at 21% VAT."""
    return [
        {"type": "ENERGY", "quantity": kwh, "unitPrice": "0.35", "amount": energy, "vat": "21"},
        {"type": "FLAT", "quantity": "1", "unitPrice": "0.50", "amount": "0.50", "vat": "21"},
    ]


def session(
    session_id: str, charger: str, start: str, end: str, *, wh: int, seconds: int, **rest: Any
) -> dict[str, Any]:
    return {
        "kind": "Session",
        "description": f"Charging at {charger}",
        "sessionId": session_id,
        "chargerRef": {"name": charger},
        "start": start,
        "end": end,
        "energyWh": wh,
        "durationS": seconds,
    } | rest


# Ada's October 2026 at Parkside, in Amsterdam: summer time ends on 25 October at 03:00 (+02:00 -> +01:00).
PARKSIDE_OCTOBER: dict[str, Any] = {
    "metadata": {"name": "ada-2026-10", "namespace": "parkside"},
    "spec": {
        "siteRef": {"name": "parkside"},
        "subscriptionRef": {"name": "ada"},
        "period": {"month": "2026-10", "start": "2026-10-01T00:00:00+02:00", "end": "2026-11-01T00:00:00+01:00"},
        "currency": "EUR",
        "lines": [
            {"kind": "MonthlyFee", "description": "Monthly fee, October 2026", "amount": "9.95",
             "components": [{"type": "FLAT", "quantity": "1", "unitPrice": "9.95", "amount": "9.95", "vat": "21"}]},
            session("s-1001", "garage-north-1", "2026-10-03T16:04:00Z", "2026-10-03T19:30:00Z", wh=12345,
                    seconds=12360, amount="4.82", components=energy_and_fee("12.345", "4.32")),
            session("s-1002", "garage-north-2", "2026-10-14T06:15:00Z", "2026-10-14T08:02:00Z", wh=18000,
                    seconds=6420, amount="6.80", components=energy_and_fee("18.000", "6.30")),
            # Overnight across the end of summer time: 22:30 +02:00 to 06:45 +01:00.
            session("s-1003", "garage-north-1", "2026-10-24T20:30:00Z", "2026-10-25T05:45:00Z", wh=31250,
                    seconds=33300, amount="11.44", components=energy_and_fee("31.250", "10.94")),
            # Inside the hour that happens twice: 02:40 +02:00 to 02:20 +01:00.
            session("s-1004", "garage-north-2", "2026-10-25T00:40:00Z", "2026-10-25T01:20:00Z", wh=4200,
                    seconds=2400, amount="1.97", components=energy_and_fee("4.200", "1.47")),
            session("s-0977", "garage-north-1", "2026-09-29T17:00:00Z", "2026-09-29T18:10:00Z", wh=7800,
                    seconds=4200, amount="3.23", components=energy_and_fee("7.800", "2.73"), kind="Adjustment",
                    description="Late session of September 2026 (after invoice PARK-000031)"),
        ],
        "subtotal": "38.21",
        "vat": [{"rate": "21", "base": "38.21", "amount": "8.02"}],
        "total": "46.23",
        "finalized": True,
        "number": "PARK-000042",
    },
    "status": {
        "phase": "Finalized",
        "finalizedAt": "2026-11-03T23:00:00Z",
        "stripe": {"customerId": "cus_Qk2f8XyZ", "invoiceId": "in_1QkPz2ParksideAda"},
        "review": [
            {"sessionId": "s-1010", "reason": "EstimatedStop",
             "message": "The charger was offline when the session ended; its stop was estimated from the last "
                        "meter value at 2026-10-19 23:10."},
        ],
    },
}  # fmt: skip


def parkside_october(**changes: Any) -> v1alpha1.Invoice:
    """The realistic example, with top-level ``spec``/``status`` keys replaced by ``changes``."""
    document = copy.deepcopy(PARKSIDE_OCTOBER)
    for part, values in changes.items():
        document[part] = values if values is None else document[part] | values
    return v1alpha1.Invoice.model_validate(document)


def fee_only(amount: str, *, currency: str, description: str = "Monthly fee") -> v1alpha1.Invoice:
    """A one-line draft invoice: the monthly fee, no VAT."""
    return v1alpha1.Invoice.model_validate(
        {
            "metadata": {"name": "ada-2026-11", "namespace": "parkside"},
            "spec": {
                "siteRef": {"name": "parkside"},
                "subscriptionRef": {"name": "ada"},
                "period": {
                    "month": "2026-11",
                    "start": "2026-11-01T00:00:00+01:00",
                    "end": "2026-12-01T00:00:00+01:00",
                },
                "currency": currency,
                "lines": [{"kind": "MonthlyFee", "description": description, "amount": amount}],
                "subtotal": amount,
                "total": amount,
            },
        }
    )


def with_line(line: dict[str, Any], *, currency: str = "EUR") -> v1alpha1.Invoice:
    invoice = fee_only(line["amount"], currency=currency).model_dump(by_alias=True)
    invoice["spec"]["lines"] = [line]
    return v1alpha1.Invoice.model_validate(invoice)


def text(invoice: v1alpha1.Invoice, **objects: Any) -> str:
    return render.invoice_text(invoice, **({"site": site(), "subscription": subscription()} | objects))


def html(invoice: v1alpha1.Invoice, **objects: Any) -> str:
    return render.invoice_html(invoice, **({"site": site(), "subscription": subscription()} | objects))


class WellFormed(HTMLParser):
    """Fails on a closing tag that does not close the innermost open element, or one left open."""

    VOID = frozenset({"meta", "br", "hr", "img", "link", "input", "col", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.text.append(" ")  # cells and list items read as separate words, as a browser shows them
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open[-1:] == [tag], f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()
        self.text.append(" ")

    def handle_data(self, data: str) -> None:
        if self.open[-1:] != ["style"]:
            self.text.append(data)

    @classmethod
    def check(cls, document: str) -> str:
        """The document's text (style sheet left out), after checking every element is closed in order."""
        parser = cls()
        parser.feed(document)
        parser.close()
        assert parser.open == []
        return " ".join("".join(parser.text).split())


# --- the terminal table


def test_table_has_the_header_every_line_and_the_totals() -> None:
    out = text(parkside_october())
    assert "Site        Parkside Garage\n" in out
    assert "Subscriber  Ada Lovelace <ada@example.com>\n" in out
    assert "Period      October 2026 (2026-10-01 – 2026-10-31, times in Europe/Amsterdam)\n" in out
    assert "Number      PARK-000042\n" in out
    assert "Phase       Finalized on 2026-11-04 00:00\n" in out
    assert "Currency    EUR\n" in out
    for line in PARKSIDE_OCTOBER["spec"]["lines"]:
        assert line["description"] in out
        assert line.get("sessionId", "") == "" or line["chargerRef"]["name"] in out
    for row in ("12.345 3:26 4.82", "18.000 1:47 6.80", "31.250 9:15 11.44", "4.200 0:40 1.97", "7.800 1:10 3.23"):
        assert row in " ".join(out.split())
    assert re.search(r"Subtotal  +38\.21 EUR\n", out)
    assert re.search(r"VAT 21% on 38\.21  +8\.02 EUR\n", out)
    assert re.search(r"Total  +46\.23 EUR\n", out)


def test_amounts_and_totals_share_one_right_edge() -> None:
    lines = text(parkside_october()).splitlines()
    header = next(line for line in lines if line.startswith("#"))
    edge = header.index("Amount") + len("Amount")
    amounts = [line for line in lines if re.match(r"\s*\d+  ", line)]
    totals = [line for line in lines if line.rstrip().endswith(" EUR") and "Currency" not in line]
    assert len(amounts) == 6
    assert len(totals) == 3
    assert {line[:edge].rstrip()[-1].isdigit() and line[edge] == " " for line in amounts} == {True}
    assert {line[:edge][-1].isdigit() for line in totals} == {True}


def test_table_lists_the_sessions_under_review() -> None:
    out = text(parkside_october())
    assert "Sessions under review (not charged on this invoice):" in out
    assert re.search(r"s-1010 +EstimatedStop +The charger was offline", out)


def test_table_escapes_terminal_control_sequences() -> None:
    out = text(fee_only("9.95", currency="EUR", description="Fee \x1b[2J\x1b]0;pwned\x07"))
    assert "\x1b" not in out
    assert "\x07" not in out
    assert r"Fee \x1b[2J\x1b]0;pwned\x07" in out


def test_a_draft_shows_draft_for_its_number_and_phase() -> None:
    out = text(fee_only("9.95", currency="EUR"))
    assert "Number      Draft\n" in out
    assert "Phase       Draft\n" in out
    assert "Stripe" not in out
    assert "under review" not in out


# --- money


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("1234.5", "EUR", "1,234.50"),
        ("-3.1", "EUR", "-3.10"),
        ("0", "EUR", "0.00"),
        ("1200", "JPY", "1,200"),
        ("1200.00", "JPY", "1,200"),
        ("1.5", "KWD", "1.500"),
        ("0.000125", "EUR", "0.000125"),  # a unit price keeps its digits: nothing is rounded away
        ("1200.5", "JPY", "1,200.5"),
        ("12.4", "XYZ", "12.4"),  # a currency billing does not know: as stored
    ],
)
def test_amounts_have_the_currencys_minor_unit_digits(amount: str, currency: str, shown: str) -> None:
    assert render.format_amount(Decimal(amount), currency) == shown


@given(
    cents=st.integers(min_value=-(10**14), max_value=10**14),
    currency=st.sampled_from(["EUR", "JPY", "KWD", "CLF", "USD"]),
)
def test_a_formatted_amount_reads_back_as_the_same_number(cents: int, currency: str) -> None:
    digits = money.minor_digits(currency)
    amount = Decimal(cents).scaleb(-digits)
    shown = render.format_amount(amount, currency)
    assert Decimal(shown.replace(",", "")) == amount
    assert len(shown.rpartition(".")[2]) == digits if digits else "." not in shown


def test_yen_invoices_show_no_decimals() -> None:
    line = session("s-1", "garage-north-1", "2026-11-03T17:00:00Z", "2026-11-03T18:00:00Z", wh=10000, seconds=3600,
                   amount="1200", components=[{"type": "ENERGY", "quantity": "10.000", "unitPrice": "120",
                                               "amount": "1200", "vat": "10"}])  # fmt: skip
    invoice = with_line(line, currency="JPY")
    out = text(invoice, site=site(currency="JPY", time_zone="Asia/Tokyo"))
    assert re.search(r"Total  +1,200 JPY\n", out)
    assert "1,200.00" not in out
    page = WellFormed.check(html(invoice, site=site(currency="JPY", time_zone="Asia/Tokyo")))
    assert "10.000 kWh × 120 = 1,200 · VAT 10%" in page
    assert "Total 1,200 JPY" in page


# --- time


def test_times_are_shown_in_the_sites_zone() -> None:
    line = session("s-1", "garage-north-1", "2026-11-03T17:00:00Z", "2026-11-03T18:30:00Z", wh=1000, seconds=5400,
                   amount="0.35")  # fmt: skip
    assert "2026-11-03 18:00–19:30" in text(with_line(line))  # Amsterdam in winter: UTC+01:00
    assert "2026-11-03 17:00–18:30" in text(with_line(line), site=site(time_zone="UTC"))
    assert "2026-11-04 02:00–03:30" in text(with_line(line), site=site(time_zone="Asia/Tokyo"))


def test_a_session_over_midnight_shows_both_dates() -> None:
    assert "2026-10-24 22:30–2026-10-25 06:45" in text(parkside_october())


def test_the_repeated_hour_of_a_dst_change_carries_its_offset() -> None:
    assert "2026-10-25 02:40 +02:00–02:20 +01:00" in text(parkside_october())


def test_without_the_site_times_keep_their_stored_offsets_and_a_note_says_so() -> None:
    out = text(parkside_october(), site=None)
    assert "Site        parkside\n" in out
    assert "2026-10-03 16:04 +00:00–19:30 +00:00" in out
    assert "Note: Site parkside does not exist; times are shown at their stored UTC offsets." in out


def test_without_the_subscription_the_subscriber_is_named_by_it() -> None:
    out = text(parkside_october(), subscription=None)
    assert "Subscriber  ada\n" in out
    assert "Note: Subscription ada does not exist" in out


def test_an_unknown_time_zone_is_a_clear_error() -> None:
    with pytest.raises(render.UnknownTimeZoneError, match=r"Site parkside has time zone Mars/Olympus_Mons") as err:
        text(parkside_october(), site=site(time_zone="Mars/Olympus_Mons"))
    assert err.value.reason == "InvalidTimeZone"


# --- the HTML document


def test_page_is_well_formed_and_shows_every_part_of_the_invoice() -> None:
    page = WellFormed.check(html(parkside_october()))
    for expected in (
        "Invoice PARK-000042",
        "Parkside Garage",
        "Billed to Ada Lovelace ada@example.com",
        "Period October 2026 2026-10-01 – 2026-10-31",
        "Status Finalized on 2026-11-04 00:00",
        "Stripe invoice in_1QkPz2ParksideAda",
        "Session Charging at garage-north-1 Charger garage-north-1 · session s-1001",
        "Energy: 12.345 kWh × 0.35 = 4.32 · VAT 21%",
        "Session fee: 1 session × 0.50 = 0.50 · VAT 21%",
        "Monthly fee Monthly fee, October 2026",
        "Adjustment Late session of September 2026 (after invoice PARK-000031)",
        "2026-10-25 02:40 +02:00 – 02:20 +01:00",  # start and end each unbroken, a break allowed at the dash
        "Subtotal 38.21 EUR VAT 21% on 38.21 8.02 EUR Total 46.23 EUR",
        "s-1010 EstimatedStop The charger was offline",
        "Times in Europe/Amsterdam",
    ):
        assert expected in page
    for line in PARKSIDE_OCTOBER["spec"]["lines"]:
        assert f" {line['amount']} " in page


def test_page_escapes_what_people_typed() -> None:
    invoice = fee_only("9.95", currency="EUR", description=HOSTILE_DESCRIPTION)
    document = html(invoice, subscription=subscription(name=HOSTILE_NAME))
    assert "<script" not in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert "Fee &amp; &#34;tax&#34; &#39;n&#39; &lt;b&gt;bold&lt;/b&gt;" in document
    assert "<b>" not in document
    page = WellFormed.check(document)
    assert HOSTILE_NAME in page
    assert HOSTILE_DESCRIPTION in page


def test_page_is_self_contained_and_printable() -> None:
    document = html(parkside_october())
    assert document.startswith("<!DOCTYPE html>\n")
    assert "<script" not in document
    assert not re.search(r"""(src|href)\s*=|@import|url\(""", document)
    assert "default-src 'none'" in document
    assert "@media print" in document
    assert 'name="viewport"' in document


def test_a_draft_page_says_it_is_a_draft() -> None:
    page = WellFormed.check(html(fee_only("9.95", currency="EUR")))
    assert "Draft invoice" in page
    assert "Draft: sessions that chargers deliver late may still be added." in page
    assert "Stripe" not in page
    assert "under review" not in page


def test_vat_is_listed_per_rate() -> None:
    vat = [{"rate": "21", "base": "28.26", "amount": "5.93"}, {"rate": "9", "base": "9.95", "amount": "0.90"}]
    invoice = parkside_october(spec={"vat": vat, "total": "45.04"})
    page = WellFormed.check(html(invoice))
    assert "VAT 21% on 28.26 5.93 EUR VAT 9% on 9.95 0.90 EUR Total 45.04 EUR" in page
    out = text(invoice)
    assert re.search(r"VAT 21% on 28\.26 +5\.93 EUR\n +VAT 9% on 9\.95 +0\.90 EUR\n", out)


def test_docs_example_is_current() -> None:
    document = html(parkside_october())
    if os.environ.get("CHARGEOPS_WRITE_DOCS"):
        DOCS_EXAMPLE.write_text(document, encoding="utf-8")
    assert DOCS_EXAMPLE.read_text(encoding="utf-8") == document, (
        "docs/invoice-example.html is stale; regenerate it with "
        "CHARGEOPS_WRITE_DOCS=1 .venv/bin/pytest tests/unit/billing/test_invoice_render.py -k docs_example"
    )
