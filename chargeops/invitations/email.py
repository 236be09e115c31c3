"""The invitation email: an ``EmailMessage`` with a plain-text and an HTML part, built from an ``Offer``. Pure.

The operator (``chargeops.operator.invitations``) builds one per invitation and hands it to the site's
SMTP server. Both parts say the same: who invites, which chargers, the prices, the link and when it
expires. The HTML part comes from an autoescaped Jinja2 template, so a subscriber named ``<script>``
reads as that text. Header values lose control characters, so no value can add a header of its own.

The Message-ID is derived from the Subscription's uid and the invitation's nonce: a message sent again
for the same invitation carries the same id, and mail systems that see it twice may drop the copy.
"""

import hashlib
import re
from datetime import UTC, datetime, tzinfo
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2

from chargeops.invitations.offer import Offer, long_date

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("chargeops.invitations", "templates"),
    # Everything is escaped except the text part, which is not HTML; the templates mark nothing safe.
    autoescape=jinja2.select_autoescape(enabled_extensions=(), disabled_extensions=("txt.j2",), default=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
# C0 and C1 control characters, CR and LF among them: never in a header value.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
# What may stand in a Message-ID's left part as it is; anything else is hashed.
_ID_PART = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def compose(
    offer: Offer,
    *,
    from_address: str,
    to_address: str,
    link: str,
    expires_at: datetime,
    uid: str,
    nonce: str,
    now: datetime,
) -> EmailMessage:
    """The invitation to ``to_address`` from ``offer.inviter <from_address>``, with ``link`` to answer it."""
    expires = local_time(expires_at, offer.time_zone)
    values = {"offer": offer, "link": link, "expires": expires}
    message = EmailMessage()
    message["From"] = Address(display_name=_header_text(offer.inviter), addr_spec=from_address)
    message["To"] = Address(display_name=_header_text(offer.subscriber_name), addr_spec=to_address)
    message["Subject"] = _header_text(f"Invitation: charge by the month at {offer.site_name}")
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = message_id(uid, nonce, from_address=from_address)
    # RFC 3834: sent by a program, so vacation responders do not answer it.
    message["Auto-Submitted"] = "auto-generated"
    # Quoted-printable keeps every line 7-bit, so no server needs 8BITMIME for a name with an umlaut.
    message.set_content(_ENVIRONMENT.get_template("invitation.txt.j2").render(values), cte="quoted-printable")
    message.add_alternative(
        _ENVIRONMENT.get_template("invitation.html.j2").render(values), subtype="html", cte="quoted-printable"
    )
    return message


def message_id(uid: str, nonce: str, *, from_address: str) -> str:
    """``<invitation.<uid>.<nonce>@<sender's domain>>``; parts that are not plain ids are hashed."""
    domain = from_address.rpartition("@")[2]
    parts = [part if _ID_PART.match(part) else hashlib.sha256(part.encode()).hexdigest()[:32] for part in (uid, nonce)]
    return f"<invitation.{parts[0]}.{parts[1]}@{domain}>"


def local_time(moment: datetime, time_zone: str) -> str:
    """``moment`` in ``time_zone`` for people, e.g. ``5 October 2026, 18:04 (Europe/Amsterdam)``."""
    zone: tzinfo
    try:
        zone, name = ZoneInfo(time_zone), time_zone
    except (ZoneInfoNotFoundError, ValueError):
        zone, name = UTC, "UTC"
    local = moment.astimezone(zone)
    return f"{long_date(local.date())}, {local:%H:%M} ({name})"


def _header_text(text: str) -> str:
    return _CONTROL.sub(" ", text).strip()
