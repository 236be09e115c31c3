"""The invitation email: headers, both parts saying the same facts, the link, and nothing unescaped."""

import email
import email.policy
from datetime import UTC, datetime

from chargeops.invitations import email as invitation_email
from chargeops.invitations import offer
from tests.unit.invitations.offer_builders import TARIFFS, charger, site, subscription

SMTP = {"host": "smtp.example.com", "fromAddress": "chargers@parkside.example", "fromName": "Parkside HOA"}
LINK = "https://charge.parkside.example/invitation/eyJwIjoiaW52aXRhdGlvbiJ9.c2ln"
UID = "0b5e8f0e-7d2a-4c1e-9d3b-2f6a1c0e9a77"
NONCE = "5f1d3a9c0e7b4d2a8c6e1f0b3d5a7c9e"
SENT = datetime(2026, 9, 28, 16, 4, tzinfo=UTC)
EXPIRES = datetime(2026, 10, 5, 16, 4, tzinfo=UTC)


def compose(name: str = "Ada Lovelace") -> email.message.EmailMessage:
    facts = offer.describe(
        site(smtp=SMTP, portalUrl="https://charge.parkside.example"),
        subscription(subscriber={"name": name, "email": "ada@example.com"}),
        [charger("garage-north-1", "energy-standard")],
        TARIFFS,
    )
    return invitation_email.compose(
        facts,
        from_address="chargers@parkside.example",
        to_address="ada@example.com",
        link=LINK,
        expires_at=EXPIRES,
        uid=UID,
        nonce=NONCE,
        now=SENT,
    )


def reread(message: email.message.EmailMessage) -> email.message.EmailMessage:
    """The message as a mail reader gets it: serialized for SMTP and parsed again."""
    parsed = email.message_from_bytes(message.as_bytes(policy=email.policy.SMTP), policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


def parts(message: email.message.EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None
    assert html is not None
    return str(text.get_content()), str(html.get_content())  # type: ignore[attr-defined]


def test_headers_name_sender_recipient_and_a_message_id_made_of_uid_and_nonce() -> None:
    message = reread(compose())

    assert message["From"] == "Parkside HOA <chargers@parkside.example>"
    assert message["To"] == "Ada Lovelace <ada@example.com>"
    assert message["Subject"] == "Invitation: charge by the month at Parkside Garage"
    assert message["Message-ID"] == f"<invitation.{UID}.{NONCE}@parkside.example>"
    assert message["Date"] == "Mon, 28 Sep 2026 16:04:00 +0000"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    # The same invitation always gets the same id: a copy sent again is recognisably the same message.
    assert compose()["Message-ID"] == compose()["Message-ID"]


def test_both_parts_state_the_facts_the_link_and_when_it_expires() -> None:
    text, html = parts(reread(compose()))

    for part in (text, html):
        assert "Parkside HOA" in part
        assert "Parkside Garage" in part
        assert "garage-north-1" in part
        assert "04A2B3C4D5E6F7, APP-ada-7f3c" in part
        assert "23:00–07:00: 0.25 EUR per kWh (plus 21% VAT), billed per 0.1 kWh begun" in part
        assert "Otherwise: 0.35 EUR per kWh (plus 21% VAT)" in part
        assert "No monthly fee." in part
        assert "From 1 October 2026, with no end date." in part
        # 16:04 UTC is 18:04 in Amsterdam (summer time).
        assert "until 5 October 2026, 18:04 (Europe/Amsterdam)" in part
        assert LINK in part
    assert f'href="{LINK}"' in html


def test_a_name_full_of_markup_stays_text_in_the_html_part() -> None:
    text, html = parts(reread(compose('<script>alert("x")</script> & <b>Bob</b>')))

    assert "<script>" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Bob&lt;/b&gt;" in html
    assert '<script>alert("x")</script> & <b>Bob</b>' in text  # plain text shows it as written


def test_a_line_break_in_a_name_cannot_add_a_header() -> None:
    message = reread(compose("Ada\r\nBcc: eve@example.com"))

    assert message["Bcc"] is None
    assert message["To"] == '"Ada Bcc: eve@example.com" <ada@example.com>'


def test_a_name_beyond_ascii_survives_and_every_line_stays_7_bit() -> None:
    raw = compose("Zoë Ångström").as_bytes(policy=email.policy.SMTP)

    assert max(raw) < 128  # no server needs 8BITMIME
    message = reread(compose("Zoë Ångström"))
    assert message["To"] == "Zoë Ångström <ada@example.com>"
    assert "Hello Zoë Ångström," in parts(message)[0]


def test_ids_that_are_not_plain_are_hashed_into_the_message_id() -> None:
    made = invitation_email.message_id("a b>c", NONCE, from_address="x@mail.example")

    assert made.startswith("<invitation.")
    assert made.endswith(f".{NONCE}@mail.example>")
    assert " " not in made
    assert made.count(">") == 1
